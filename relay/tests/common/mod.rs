//! Test helpers: the real relay binary, a WebSocket client, and `socklab run`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use socklab_wire::protocol::{ClientMsg, ServerMsg};
use tokio_tungstenite::tungstenite::Message;

pub const BIN: &str = env!("CARGO_BIN_EXE_socklab");

/// A relay process on a free loopback port, killed when dropped.
pub struct Relay {
    child: Child,
    pub port: u16,
    pub token: String,
}

impl Relay {
    pub fn start() -> Relay {
        Relay::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Relay {
        let mut command = Command::new(BIN);
        command.args(["serve", "--listen", "127.0.0.1:0"]).args(extra).stdout(Stdio::piped()).stderr(Stdio::null());
        Relay::from_command(command)
    }

    /// A relay started by `command` (stdout piped), once it has printed its URL.
    pub fn from_command(mut command: Command) -> Relay {
        let mut child = command.spawn().expect("relay starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).expect("relay prints its URL");
        let url = first.trim();
        let rest = url.strip_prefix("http://127.0.0.1:").unwrap_or_else(|| panic!("unexpected URL line {url:?}"));
        let (port, token) = rest.split_once("/#token=").expect("URL carries the token");
        Relay { child, port: port.parse().unwrap(), token: token.to_string() }
    }

    /// The relay's own page's origin.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send the relay a signal (SIGTERM, SIGINT…).
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill has no memory preconditions; the child is ours and not yet reaped.
        assert_eq!(unsafe { libc::kill(self.pid() as i32, signal) }, 0, "signal {signal}");
    }

    /// Wait for the relay to exit, `within` at most: its status, or `None` if it still runs.
    pub fn wait_for_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        // A pidfd becomes readable when the process exits: no polling loop.
        // SAFETY: pidfd_open takes a pid and flags and returns an fd or -1.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.pid() as libc::pid_t, 0) } as i32;
        assert!(pidfd >= 0, "pidfd_open: {}", std::io::Error::last_os_error());
        let mut poll = libc::pollfd { fd: pidfd, events: libc::POLLIN, revents: 0 };
        let millis = i32::try_from(within.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: one valid pollfd; the fd is ours and closed right after.
        unsafe {
            libc::poll(&mut poll, 1, millis);
            libc::close(pidfd);
        }
        self.child.try_wait().expect("try_wait")
    }

    /// Open fds of the relay process.
    pub fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map(|d| d.count()).unwrap_or(0)
    }

    /// Wait until every session has been torn down (its sockets closed and its
    /// directory, removed last, gone); fails after 10 s.
    pub async fn sessions_ended(&self) {
        let base = std::path::PathBuf::from(format!("/tmp/socklab-{}", self.pid()));
        wait_until("every session to be torn down", Duration::from_secs(10), || {
            std::fs::read_dir(&base).map(|d| d.count()).unwrap_or(0) == 0
        })
        .await;
    }

    pub async fn connect(&self) -> Client {
        let mut client = self.connect_raw().await;
        client.send_json(json!({"type": "hello", "version": 1, "token": self.token})).await;
        let hello = client.next().await;
        assert!(matches!(hello, ServerMsg::Hello { version: 1, .. }), "{hello:?}");
        client
    }

    /// A WebSocket that has not said hello yet.
    pub async fn connect_raw(&self) -> Client {
        self.connect_offering(None).await.0
    }

    /// A WebSocket offering `subprotocol`, before its hello; also the subprotocol the relay chose.
    pub async fn connect_offering(&self, subprotocol: Option<&str>) -> (Client, Option<String>) {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://127.0.0.1:{}/ws", self.port).into_client_request().unwrap();
        // The relay refuses upgrades without an Origin; this is its own page's.
        request.headers_mut().insert("Origin", self.origin().parse().unwrap());
        if let Some(subprotocol) = subprotocol {
            request.headers_mut().insert("Sec-WebSocket-Protocol", subprotocol.parse().unwrap());
        }
        let (ws, response) = tokio_tungstenite::connect_async(request).await.expect("websocket connects");
        let chosen = response.headers().get("Sec-WebSocket-Protocol").map(|v| v.to_str().unwrap().to_string());
        (Client { ws, next_id: 1, backlog: Vec::new(), events: Vec::new() }, chosen)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A protocol client over a real WebSocket.
pub struct Client {
    pub ws: Ws,
    next_id: u64,
    /// Messages read while looking for another one.
    backlog: Vec<ServerMsg>,
    /// Events passed over while waiting for answers, in order.
    pub events: Vec<socklab_wire::protocol::Event>,
}

impl Client {
    pub fn from_ws(ws: Ws) -> Client {
        Client { ws, next_id: 1, backlog: Vec::new(), events: Vec::new() }
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::Text(text.into())).await.expect("send");
    }

    pub async fn send_binary(&mut self, data: Vec<u8>) {
        self.ws.send(Message::Binary(data.into())).await.expect("send");
    }

    /// The next frame as it came, text or binary (pings skipped).
    pub async fn next_frame(&mut self) -> Message {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("the relay answers within 10 s")
                .expect("connection open")
                .expect("frame");
            if matches!(frame, Message::Text(_) | Message::Binary(_)) {
                return frame;
            }
        }
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    /// The next message from the relay (10 s at most).
    pub async fn next(&mut self) -> ServerMsg {
        if !self.backlog.is_empty() {
            return self.backlog.remove(0);
        }
        self.read().await
    }

    async fn read(&mut self) -> ServerMsg {
        match self.next_frame().await {
            Message::Binary(data) => socklab_wire::binary::decode_server(&data)
                .unwrap_or_else(|e| panic!("bad binary frame {data:?}: {e:?}")),
            Message::Text(text) => serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad message {text}: {e}")),
            other => unreachable!("next_frame returns text or binary, not {other:?}"),
        }
    }

    /// The next message that is not an event.
    pub async fn next_reply(&mut self) -> ServerMsg {
        loop {
            let msg = self.next().await;
            if !matches!(msg, ServerMsg::Event { .. }) {
                return msg;
            }
        }
    }

    /// Send a call (as JSON for the `call` field); returns its id.
    pub async fn start(&mut self, call: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send_json(json!({"type": "call", "id": id, "call": call})).await;
        id
    }

    /// The final answer (result or error) to call `id`, skipping events and `pending`.
    pub async fn answer(&mut self, id: u64) -> ServerMsg {
        if let Some(pos) = self.backlog.iter().position(|m| is_answer(m, id)) {
            return self.backlog.remove(pos);
        }
        loop {
            let msg = self.read().await;
            if std::env::var_os("SOCKLAB_TEST_TRACE").is_some() {
                eprintln!("waiting for {id}: got {msg:?}");
            }
            if is_answer(&msg, id) {
                return msg;
            }
            match msg {
                ServerMsg::Event { event } => self.events.push(event),
                ServerMsg::Pending { .. } => {}
                other => self.backlog.push(other),
            }
        }
    }

    /// Call and wait for the answer.
    pub async fn call(&mut self, call: Value) -> ServerMsg {
        let id = self.start(call).await;
        self.answer(id).await
    }

    /// Call and return the successful value as JSON, panicking otherwise.
    pub async fn ok(&mut self, call: Value) -> Value {
        let answer = self.call(call.clone()).await;
        match answer {
            ServerMsg::Result { outcome: socklab_wire::protocol::Outcome::Ok { value }, .. } => {
                serde_json::to_value(value).unwrap()
            }
            other => panic!("{call} failed: {other:?}"),
        }
    }

    /// Make a socket; returns its handle.
    pub async fn socket(&mut self, family: i32, ty: i32) -> u64 {
        let value = self.ok(json!({"op": "socket", "family": family, "type": ty})).await;
        value["info"]["sock"].as_u64().unwrap()
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        // Read until the relay closes its side too.
        while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_secs(5), self.ws.next()).await {}
    }
}

fn is_answer(msg: &ServerMsg, id: u64) -> bool {
    match msg {
        ServerMsg::Result { id: got, .. } => *got == id,
        ServerMsg::Error { id: Some(got), .. } => *got == id,
        _ => false,
    }
}

pub fn b64(data: &[u8]) -> Value {
    use base64::Engine;
    json!({"b64": base64::engine::general_purpose::STANDARD.encode(data)})
}

pub fn unb64(value: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(value["b64"].as_str().unwrap()).unwrap()
}

/// `socklab run --json` on a script: exit code, parsed lines, stderr.
pub struct Run {
    pub code: i32,
    pub lines: Vec<Value>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `step` lines of a lane.
    pub fn steps(&self, lane: &str) -> Vec<&Value> {
        self.lines.iter().filter(|l| l["kind"] == "step" && l["lane"] == lane).collect()
    }

    /// The step whose source text contains `needle`.
    pub fn step(&self, needle: &str) -> &Value {
        self.lines
            .iter()
            .find(|l| l["kind"] == "step" && l["call"].as_str().is_some_and(|c| c.contains(needle)))
            .unwrap_or_else(|| panic!("no step containing {needle:?} in\n{}", self.stdout))
    }

    pub fn result_of(&self, needle: &str) -> String {
        let step = self.step(needle);
        assert_eq!(step["ok"], true, "{step}\n{}", self.stdout);
        step["result"].as_str().unwrap().to_string()
    }

    pub fn prints(&self, lane: &str) -> Vec<String> {
        self.lines
            .iter()
            .filter(|l| l["kind"] == "print" && l["lane"] == lane)
            .map(|l| l["text"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn lane_end(&self, lane: &str) -> &Value {
        self.lines
            .iter()
            .find(|l| l["kind"] == "lane_end" && l["lane"] == lane)
            .unwrap_or_else(|| panic!("lane {lane} has no end in\n{}", self.stdout))
    }

    pub fn assert_all_finished(&self) {
        assert_eq!(self.code, 0, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        for end in self.lines.iter().filter(|l| l["kind"] == "lane_end") {
            assert_eq!(end["status"], "finished", "{end}\n{}", self.stdout);
        }
    }
}

pub fn run_script(source: &str, extra: &[&str]) -> Run {
    let mut file = tempfile::Builder::new().suffix(".sock.py").tempfile().unwrap();
    file.write_all(source.as_bytes()).unwrap();
    let output =
        Command::new(BIN).arg("run").arg("--json").args(extra).arg(file.path()).output().expect("socklab run starts");
    to_run(output)
}

pub fn to_run(output: Output) -> Run {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let lines =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}"))).collect();
    Run {
        code: output.status.code().unwrap_or(-1),
        lines,
        stdout,
        stderr: String::from_utf8_lossy(&output.stderr).to_string(),
    }
}

/// Silence unused warnings for items only some test files use.
pub fn _unused(_: ClientMsg) {}

/// Poll `done` every 20 ms until it holds; fail naming `what` after `limit`.
pub async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
