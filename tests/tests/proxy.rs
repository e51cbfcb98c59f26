//! Two relays behind nginx, with the configuration shipped in
//! packaging/nginx/socklab.conf (its ports and certificate paths filled in):
//! nginx ends TLS, serves the real page, passes WebSocket sessions on with the
//! browser's Host and Origin, spreads them over both relays, and, while one
//! relay drains on SIGTERM, keeps every new session working through the other
//! as the draining relay's own sessions are told and closed.
//!
//! Needs nginx (scripts/setup.sh installs Debian's) and the openssl command.
//! nginx runs as a private instance: its prefix, pid file and logs are in a
//! scratch directory, which is kept and named when the test fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use socklab_tests::relay::{Process, relay_binary, workspace};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Sessions opened at once through nginx.
const SESSIONS: usize = 20;
/// The longest any one step (a connection, an answer) may take.
const STEP: Duration = Duration::from_secs(10);
const AF_INET: i32 = 2;
const SOCK_STREAM: i32 = 1;

fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().map(PathBuf::from).find(|path| path.exists()).unwrap_or_else(|| {
        panic!(
            "nginx is not installed, and this test runs Debian's nginx in front of two relays: \
             run scripts/setup.sh (it installs nginx-light without starting it)"
        )
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The scratch directory: removed after a pass, kept for its logs after a failure.
struct Scratch(Option<tempfile::TempDir>);

impl Scratch {
    fn path(&self) -> &Path {
        self.0.as_ref().unwrap().path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(dir) = self.0.take()
        {
            eprintln!("relay and nginx logs kept in {}", dir.keep().display());
        }
    }
}

/// A relay on a free loopback port.
struct Relay {
    process: Process,
    port: u16,
}

impl Relay {
    /// `socklab serve` on loopback, accepting `public_host` (nginx's) in Host and Origin.
    fn start(binary: &Path, dir: &Path, name: &str, token_file: &Path, public_host: &str) -> Relay {
        let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--token-file"])
            .arg(token_file)
            .args(["--allow-host", public_host])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("the relay starts");
        let mut url = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut url).unwrap();
        let port = url.trim().strip_prefix("http://127.0.0.1:").and_then(|rest| rest.split('/').next()).and_then(|p| p.parse().ok());
        let port = port.unwrap_or_else(|| panic!("{name} printed {url:?} instead of its URL; see {}", dir.display()));
        Relay { process: Process::new(child), port }
    }

    /// A counter or gauge without labels from the relay's own /metrics (direct, from loopback).
    fn metric(&self, name: &str) -> u64 {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("the relay accepts");
        stream.set_read_timeout(Some(STEP)).unwrap();
        write!(stream, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", self.port).unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        assert!(text.starts_with("HTTP/1.1 200"), "/metrics: {text}");
        text.lines()
            .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .and_then(|value| value.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}")) as u64
    }
}

/// A CA and a certificate for 127.0.0.1 signed by it, made with the openssl command.
fn make_certificate(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .expect("the openssl command runs (Debian package openssl)");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(&[&["req", "-x509"][..], &ec, &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=socklab test CA"]].concat());
    openssl(&[&["req"][..], &ec, &["-keyout", "key.pem", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1"]].concat());
    std::fs::write(dir.join("leaf.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    openssl(&[
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "leaf.ext",
        "-out", "cert.pem",
    ]);
}

/// packaging/nginx/socklab.conf with this test's ports and certificate, and
/// its IPv6 listeners left out.
fn render_site(dir: &Path, https: u16, http: u16, relays: [u16; 2]) -> String {
    let shipped = std::fs::read_to_string(workspace().join("packaging/nginx/socklab.conf")).unwrap();
    let mut site: String = shipped.lines().filter(|line| !line.trim_start().starts_with("listen [::]:")).map(|line| format!("{line}\n")).collect();
    let replacements = [
        ("listen 443 ssl;", format!("listen 127.0.0.1:{https} ssl;")),
        ("listen 80;", format!("listen 127.0.0.1:{http};")),
        ("/etc/letsencrypt/live/lab.example.org/fullchain.pem", dir.join("cert.pem").display().to_string()),
        ("/etc/letsencrypt/live/lab.example.org/privkey.pem", dir.join("key.pem").display().to_string()),
        ("127.0.0.1:7878", format!("127.0.0.1:{}", relays[0])),
        ("127.0.0.1:7879", format!("127.0.0.1:{}", relays[1])),
    ];
    for (from, to) in replacements {
        assert!(site.contains(from), "packaging/nginx/socklab.conf no longer says {from:?}: update this test with it");
        site = site.replace(from, &to);
    }
    site
}

/// nginx with the site, as a private instance, once it accepts connections.
async fn start_nginx(nginx: &Path, dir: &Path, site: &str, https: u16) -> Process {
    std::fs::write(dir.join("socklab.conf"), site).unwrap();
    let d = dir.display();
    let main = format!(
        "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\nevents {{ worker_connections 1024; }}\n\
         http {{\n    access_log {d}/access.log;\n    client_body_temp_path {d}/client_body;\n    proxy_temp_path {d}/proxy;\n    \
         fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n    include {d}/socklab.conf;\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let stderr = std::fs::File::create(dir.join("nginx.stderr")).unwrap();
    let child = Command::new(nginx)
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("nginx starts");
    let mut nginx = Process::new(child);
    let deadline = Instant::now() + STEP;
    while tokio::net::TcpStream::connect(("127.0.0.1", https)).await.is_err() {
        if let Some(status) = nginx.exited() {
            let stderr = std::fs::read_to_string(dir.join("nginx.stderr")).unwrap_or_default();
            panic!("nginx exited ({status}): {stderr}");
        }
        assert!(Instant::now() < deadline, "nginx did not listen on {https}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    nginx
}

/// The public side: nginx's TLS port, as a browser reaches it.
#[derive(Clone)]
struct Proxy {
    port: u16,
    tls: Arc<rustls::ClientConfig>,
    token: String,
}

/// An HTTP response: status, header block, body.
struct Response {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Proxy {
    fn new(port: u16, ca: &Path, token: &str) -> Proxy {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Proxy { port, tls: Arc::new(tls), token: token.to_string() }
    }

    /// What a page served from nginx sends as its Origin.
    fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// GET over TLS on a new connection.
    async fn get(&self, path: &str) -> Response {
        let fetch = async {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.expect("nginx accepts");
            let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
            let mut tls = tokio_rustls::TlsConnector::from(self.tls.clone()).connect(name, tcp).await.expect("TLS with nginx");
            let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", self.port);
            tls.write_all(request.as_bytes()).await.unwrap();
            let mut raw = Vec::new();
            // Whatever came before an error (a connection closed without close_notify) is kept.
            let _ = tls.read_to_end(&mut raw).await;
            raw
        };
        let raw = tokio::time::timeout(STEP, fetch).await.unwrap_or_else(|_| panic!("GET {path} through nginx timed out"));
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| panic!("GET {path}: no response"));
        let headers = String::from_utf8_lossy(&raw[..split]).into_owned();
        let status = headers.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
        let mut body = raw[split + 4..].to_vec();
        if headers.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            body = dechunk(&body);
        }
        Response { status, headers, body }
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        body.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
    body
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How a session ended or failed.
#[derive(Debug)]
enum Ended {
    /// The relay closed with 1001 (going away) because it is shutting down;
    /// the `error` message it sent first, if the session had begun.
    Told(Option<String>),
    /// Anything else: an upgrade refused, no hello, a call that failed, a close for another reason.
    Failed(String),
}

/// One session through nginx, as the page holds it.
struct Session {
    ws: Ws,
    next_id: u64,
    hello: Value,
    /// An `error` message the relay sent, if any.
    told: Option<String>,
}

impl Session {
    /// The upgrade with the page's Origin, then the hello.
    async fn open(proxy: &Proxy) -> Result<Session, Ended> {
        let mut request = format!("wss://127.0.0.1:{}/ws", proxy.port).into_client_request().unwrap();
        request.headers_mut().insert("Origin", proxy.origin().parse().unwrap());
        let connector = tokio_tungstenite::Connector::Rustls(proxy.tls.clone());
        let upgrade = tokio_tungstenite::connect_async_tls_with_config(request, None, false, Some(connector));
        let (ws, _) = match tokio::time::timeout(STEP, upgrade).await {
            Ok(Ok(connected)) => connected,
            Ok(Err(e)) => return Err(Ended::Failed(format!("upgrade failed: {e}"))),
            Err(_) => return Err(Ended::Failed("upgrade timed out".into())),
        };
        let mut session = Session { ws, next_id: 1, hello: Value::Null, told: None };
        session.send(json!({"type": "hello", "version": 1, "token": proxy.token})).await?;
        let hello = session.next_message().await?;
        if hello["type"] != "hello" {
            return Err(Ended::Failed(format!("no hello: {hello}")));
        }
        session.hello = hello;
        Ok(session)
    }

    async fn send(&mut self, message: Value) -> Result<(), Ended> {
        self.ws.send(Message::Text(message.to_string().into())).await.map_err(|e| Ended::Failed(format!("send: {e}")))
    }

    /// The next protocol message; a close frame ends the session.
    async fn next_message(&mut self) -> Result<Value, Ended> {
        loop {
            let frame = match tokio::time::timeout(STEP, self.ws.next()).await {
                Err(_) => return Err(Ended::Failed("no answer in time".into())),
                Ok(None) => return Err(Ended::Failed(format!("connection closed without a close frame (told: {:?})", self.told))),
                Ok(Some(Err(e))) => return Err(Ended::Failed(format!("read: {e} (told: {:?})", self.told))),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Message::Text(text) => {
                    let message: Value = serde_json::from_str(&text).expect("JSON from the relay");
                    if message["type"] == "error" && message.get("id").is_none() {
                        self.told = Some(message["message"].as_str().unwrap_or_default().to_string());
                        continue;
                    }
                    return Ok(message);
                }
                Message::Close(close) => {
                    let going_away = close.as_ref().is_some_and(|c| u16::from(c.code) == 1001 && c.reason.as_str().contains("shutting down"));
                    return Err(if going_away {
                        Ended::Told(self.told.take())
                    } else {
                        Ended::Failed(format!("closed with {close:?} (told: {:?})", self.told))
                    });
                }
                _ => {}
            }
        }
    }

    /// Runs a call to its final answer (past `pending` and events); its value.
    async fn call(&mut self, call: Value) -> Result<Value, Ended> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"type": "call", "id": id, "call": call})).await?;
        loop {
            let message = self.next_message().await?;
            match message["type"].as_str() {
                Some("event" | "pending") => {}
                Some("result") if message["id"] == id && message["outcome"] == "ok" => return Ok(message["value"].clone()),
                _ => return Err(Ended::Failed(format!("{call} answered {message}"))),
            }
        }
    }

    /// A TCP echo on the session's loopback: socket, bind, listen, connect,
    /// accept, send, recv, close, each a real system call on the relay.
    async fn echo(&mut self, text: &str) -> Result<(), Ended> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let socket = json!({"op": "socket", "family": AF_INET, "type": SOCK_STREAM});
        let server = self.call(socket.clone()).await?["info"]["sock"].clone();
        self.call(json!({"op": "bind", "sock": server, "addr": {"host": "127.0.0.1", "port": 0}})).await?;
        self.call(json!({"op": "listen", "sock": server, "backlog": 4})).await?;
        let addr = self.call(json!({"op": "getsockname", "sock": server})).await?["addr"].clone();
        let client = self.call(socket).await?["info"]["sock"].clone();
        self.call(json!({"op": "connect", "sock": client, "addr": addr})).await?;
        let conn = self.call(json!({"op": "accept", "sock": server})).await?["info"]["sock"].clone();
        let sent = self.call(json!({"op": "send", "sock": client, "data": {"b64": b64.encode(text)}})).await?;
        if sent["value"] != text.len() {
            return Err(Ended::Failed(format!("send sent {sent}")));
        }
        let got = self.call(json!({"op": "recv", "sock": conn, "n": 1024})).await?;
        let got = b64.decode(got["data"]["b64"].as_str().unwrap_or_default()).unwrap_or_default();
        if got != text.as_bytes() {
            return Err(Ended::Failed(format!("recv got {:?}", String::from_utf8_lossy(&got))));
        }
        for sock in [client, conn, server] {
            self.call(json!({"op": "close", "sock": sock})).await?;
        }
        Ok(())
    }

    /// Whether the relay has ended this session (told it, closed it) by now:
    /// `None` if nothing but kernel events arrives within `wait`.
    async fn ended_within(&mut self, wait: Duration) -> Option<Ended> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.next_message()).await {
                Err(_) => return None,
                Ok(Ok(message)) if message["type"] == "event" => {}
                Ok(Ok(message)) => return Some(Ended::Failed(format!("unexpected {message}"))),
                Ok(Err(ended)) => return Some(ended),
            }
        }
    }

    async fn close(mut self) {
        let _ = self.ws.close(None).await;
        while let Ok(Some(Ok(_))) = tokio::time::timeout(STEP, self.ws.next()).await {}
    }
}

/// Opens sessions one after another until `stop`, each doing an echo, and
/// counts those that worked in `worked_so_far`: (sessions that worked,
/// sessions told by a draining relay, failures).
async fn churn(proxy: Proxy, stop: Arc<AtomicBool>, worked_so_far: Arc<AtomicUsize>) -> (usize, usize, Vec<String>) {
    let (mut worked, mut told, mut failures) = (0, 0, Vec::new());
    while !stop.load(Ordering::Relaxed) {
        let outcome = match Session::open(&proxy).await {
            Ok(mut session) => match session.echo("churn").await {
                Ok(()) => {
                    session.close().await;
                    Ok(())
                }
                Err(ended) => Err(ended),
            },
            Err(ended) => Err(ended),
        };
        match outcome {
            Ok(()) => {
                worked += 1;
                worked_so_far.fetch_add(1, Ordering::Relaxed);
            }
            Err(Ended::Told(_)) => told += 1,
            Err(Ended::Failed(why)) => failures.push(why),
        }
    }
    (worked, told, failures)
}

/// Waits until `count` churned sessions have worked.
async fn churned(so_far: &AtomicUsize, count: usize) {
    let deadline = Instant::now() + STEP;
    while so_far.load(Ordering::Relaxed) < count {
        assert!(Instant::now() < deadline, "sessions through nginx stopped working");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_relays_behind_nginx_share_sessions_and_one_drains_without_a_failed_upgrade() {
    let nginx_bin = nginx_binary();
    let binary = relay_binary();
    let started = Instant::now();
    let scratch = Scratch(Some(tempfile::Builder::new().prefix("socklab-proxy-").tempdir().unwrap()));
    let dir = scratch.path();
    // nginx's workers (not root) create their temporary files in here.
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    // Both relays take the same token, and nginx's public host:port.
    let (https, http) = (free_port(), free_port());
    let public_host = format!("127.0.0.1:{https}");
    let token: String = (0..32).map(|i| format!("{:02x}", (i * 37 + 11) as u8)).collect();
    let token_file = dir.join("tokens");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&token_file).unwrap();
        writeln!(file, "{token}").unwrap();
    }
    let mut relay_1 = Relay::start(&binary, dir, "relay-1", &token_file, &public_host);
    let relay_2 = Relay::start(&binary, dir, "relay-2", &token_file, &public_host);
    make_certificate(dir);
    let site = render_site(dir, https, http, [relay_1.port, relay_2.port]);
    let _nginx = start_nginx(&nginx_bin, dir, &site, https).await;
    let proxy = Proxy::new(https, &dir.join("ca.pem"), &token);

    // The real page through nginx, and the wasm it names.
    let page = proxy.get("/").await;
    assert_eq!(page.status, 200, "{}", page.headers);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(!html.contains("SOCKLAB_SKIP_FRONTEND"), "the relay serves the placeholder page: {html}");
    let wasm_at = html.find(".wasm").unwrap_or_else(|| panic!("the page names no .wasm: {html}"));
    let wasm = &html[html[..wasm_at].rfind("./").expect("a relative URL") + 1..wasm_at + 5];
    let module = proxy.get(wasm).await;
    assert_eq!(module.status, 200, "GET {wasm}: {}", module.headers);
    assert!(module.headers.to_ascii_lowercase().contains("content-type: application/wasm"), "{}", module.headers);
    assert!(module.body.starts_with(b"\0asm"), "{wasm} is not WebAssembly");

    // Sessions at once, each running real calls; both relays get some.
    let opened = futures::future::join_all((0..SESSIONS).map(|_| Session::open(&proxy))).await;
    let mut sessions: Vec<Session> = opened.into_iter().map(|s| s.unwrap_or_else(|e| panic!("{e:?}"))).collect();
    let echoes = futures::future::join_all(sessions.iter_mut().enumerate().map(|(i, s)| async move { s.echo(&format!("hello {i}")).await })).await;
    for (i, echo) in echoes.into_iter().enumerate() {
        echo.unwrap_or_else(|e| panic!("session {i}: {e:?}"));
    }
    let mode = sessions[0].hello["mode"].as_str().unwrap_or_default().to_string();
    let on_1 = relay_1.metric("socklab_sessions_open") as usize;
    let on_2 = relay_2.metric("socklab_sessions_open") as usize;
    assert_eq!(on_1 + on_2, SESSIONS, "sessions open on the relays");
    assert!(on_1 > 0 && on_2 > 0, "nginx sent every session to one relay: {on_1} and {on_2}");

    // Readiness through nginx: each relay's, and the pool's.
    for path in ["/relays/1/readyz", "/relays/2/readyz", "/readyz"] {
        let ready = proxy.get(path).await;
        assert_eq!((ready.status, ready.body.as_slice()), (200, &b"ready\n"[..]), "{path}: {}", ready.headers);
    }

    // Drain relay 1 while new sessions keep coming through nginx.
    let (stop, churned_so_far) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let churners: Vec<_> =
        (0..2).map(|_| tokio::spawn(churn(proxy.clone(), stop.clone(), churned_so_far.clone()))).collect();
    churned(&churned_so_far, 4).await;
    let signalled = Instant::now();
    relay_1.process.signal(libc::SIGTERM);
    // Until it exits, relay 1 is ready no more once it has said so; the pool is ready throughout.
    let mut seen_1 = Vec::new();
    let status = loop {
        if let Some(status) = relay_1.process.exited() {
            break status;
        }
        assert!(signalled.elapsed() < Duration::from_secs(15), "relay 1 did not exit within 15 s of SIGTERM");
        let readyz_1 = proxy.get("/relays/1/readyz").await.status;
        if seen_1.last() != Some(&readyz_1) {
            seen_1.push(readyz_1);
        }
        assert_eq!(proxy.get("/readyz").await.status, 200, "the pool was not ready while relay 2 was");
    };
    let drain_time = signalled.elapsed();
    assert!(status.success(), "relay 1 exited with {status} after SIGTERM");
    // 503 from the draining relay on a connection still open, or 502 from nginx
    // once the relay has closed its listeners (it does so at once on SIGTERM).
    let not_ready = seen_1.iter().position(|&s| s != 200).unwrap_or(seen_1.len());
    assert!(seen_1[not_ready..].iter().all(|&s| s == 503 || s == 502), "relay 1's readiness while draining: {seen_1:?}");
    let after = proxy.get("/relays/1/readyz").await.status;
    assert_eq!(after, 502, "relay 1 is gone: nginx cannot reach it");

    // Relay 1's sessions were told and closed; relay 2's carry on.
    let waits = futures::future::join_all(sessions.iter_mut().map(|s| s.ended_within(Duration::from_millis(500)))).await;
    let (mut told, mut still_open) = (0, Vec::new());
    for (session, ended) in sessions.into_iter().zip(waits) {
        match ended {
            Some(Ended::Told(Some(message))) if message.contains("shutting down") => told += 1,
            Some(Ended::Told(message)) => panic!("a session was closed for the shutdown, told {message:?} first"),
            Some(Ended::Failed(why)) => panic!("a session ended without being told: {why}"),
            None => still_open.push(session),
        }
    }
    assert_eq!(told, on_1, "relay 1's sessions told and closed with 1001");
    for (i, session) in still_open.iter_mut().enumerate() {
        session.echo(&format!("still here {i}")).await.unwrap_or_else(|e| panic!("a session on relay 2 after the drain: {e:?}"));
    }

    // More new sessions once relay 1 is gone: all on relay 2, all working.
    churned(&churned_so_far, churned_so_far.load(Ordering::Relaxed) + 4).await;
    stop.store(true, Ordering::Relaxed);
    let (mut churned, mut churn_told, mut failures) = (0, 0, Vec::new());
    for churner in churners {
        let (worked, told, failed) = churner.await.unwrap();
        churned += worked;
        churn_told += told;
        failures.extend(failed);
    }
    assert!(failures.is_empty(), "sessions failed through nginx during the drain: {failures:?}");
    assert!(churned > 0, "no session was opened during the drain");
    let total_2 = relay_2.metric("socklab_sessions_total");
    let late: Vec<Session> = futures::future::try_join_all((0..5).map(|_| Session::open(&proxy))).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(relay_2.metric("socklab_sessions_total"), total_2 + 5, "new sessions go to relay 2");
    for session in late.into_iter().chain(still_open) {
        session.close().await;
    }
    assert_eq!(proxy.get("/").await.status, 200, "the page, from relay 2 alone");

    eprintln!(
        "proxy: {SESSIONS} sessions ({mode} mode) split {on_1}/{on_2}; relay 1 drained and exited {drain_time:?} after SIGTERM, \
         its /readyz through nginx went {seen_1:?} then {after}; {churned} new sessions worked during the drain \
         ({churn_told} told by relay 1 as it drained, 0 failed); whole test {:?}",
        started.elapsed()
    );
}
