//! End to end: the real relay binary serves the real page to a real headless
//! Chromium, driven over WebDriver. The WebDriver client is a few plain HTTP
//! requests (below) rather than a crate, to keep the build small.
//! Screenshots of each stage land in tests/artifacts/.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use socklab_tests::relay::{relay_binary, workspace};

/// Kills the child process when dropped.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One WebDriver session.
struct Driver {
    port: u16,
    session: String,
    _chromedriver: Guard,
}

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("chromedriver answers");
    // A WebDriver command that never answers fails the test instead of hanging it.
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // chromedriver keeps the connection open despite `Connection: close`, so
    // the body is read by its Content-Length.
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("bad WebDriver answer {e}: {}", String::from_utf8_lossy(&body)))
}

impl Driver {
    fn start() -> Driver {
        let port = free_port();
        let child = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts (scripts/setup.sh installs it)");
        let guard = Guard(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let args = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--window-size=1400,1800",
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}});
        let answer = http(port, "POST", "/session", Some(&caps));
        let session = answer["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {answer}")).to_owned();
        Driver { port, session, _chromedriver: guard }
    }

    fn cmd(&self, method: &str, what: &str, body: Option<Value>) -> Value {
        let answer = http(self.port, method, &format!("/session/{}/{what}", self.session), body.as_ref());
        answer["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "url", Some(json!({"url": url})));
    }

    /// Runs JavaScript in the page and returns its value.
    fn js(&self, script: &str) -> Value {
        self.cmd("POST", "execute/sync", Some(json!({"script": script, "args": []})))
    }

    /// Runs asynchronous JavaScript: `done` (the script's last argument) gives the value.
    fn js_async(&self, script: &str) -> Value {
        let script = format!("const done = arguments[arguments.length - 1]; {script}");
        self.cmd("POST", "execute/async", Some(json!({"script": script, "args": []})))
    }

    /// Presses one key (a WebDriver key code, e.g. `\u{E004}` for Tab) in the focused element.
    fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]});
        self.cmd("POST", "actions", Some(actions));
    }

    /// Makes the page's viewport `width` × `height` CSS pixels. The size is set
    /// through DevTools' device metrics rather than the window's rect: a
    /// headless window's resize lands late or not at all on a busy machine.
    fn viewport(&self, width: i64, height: i64) {
        let params = json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false});
        self.cmd("POST", "goog/cdp/execute", Some(json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": params})));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let inner = self.js("return [innerWidth, innerHeight]");
            if inner == json!([width, height]) {
                return;
            }
            assert!(Instant::now() < deadline, "the viewport did not become {width}x{height}: {inner}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `script` returns true.
    fn wait_for(&self, what: &str, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.js(script) != json!(true) {
            if Instant::now() > deadline {
                self.screenshot(&format!("failed-{}", what.replace(' ', "-")));
                panic!("timed out waiting for {what}; log: {}", self.js("return document.querySelector('.transcript').innerText"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&self, name: &str) {
        let png = self.cmd("GET", "screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap_or_default()).unwrap_or_default();
        let dir = workspace().join("tests/artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = http(self.port, "DELETE", &format!("/session/{}", self.session), None);
    }
}

/// Loads an example by its label through the Examples menu.
fn load_example(driver: &Driver, label: &str) {
    driver.js(&format!(
        "const s = document.querySelector('.examples select');
         const o = [...s.options].find(o => o.text === {label:?});
         s.value = o.value; s.dispatchEvent(new Event('change', {{bubbles: true}}));"
    ));
}

fn text(driver: &Driver, selector: &str) -> String {
    driver.js(&format!("const e = document.querySelector({selector:?}); return e ? e.textContent : ''")).as_str().unwrap_or_default().to_owned()
}

/// The relay binary serving the page (with `extra` options); its URL, token included.
fn serve(extra: &[&str]) -> (Guard, String) {
    let mut relay = Command::new(relay_binary())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("relay starts");
    let mut url = String::new();
    BufReader::new(relay.stdout.take().unwrap()).read_line(&mut url).unwrap();
    (Guard(relay), url.trim().to_owned())
}

#[test]
fn the_page_steps_the_echo_example_and_shows_the_kernel() {
    let (_relay, url) = serve(&[]);
    let base = url.split('#').next().unwrap().to_owned();

    let driver = Driver::start();
    driver.goto(&url);
    driver.wait_for("the relay's hello", "return !!document.querySelector('.status.open')");
    driver.screenshot("01-loaded");

    // TCP echo, stepped lane by lane to the end.
    load_example(&driver, "TCP echo");
    driver.wait_for("two lanes", "return document.querySelectorAll('section.lane').length === 2");
    let mut saw_established = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = driver.js(
            "return [...document.querySelectorAll('section.lane .lane-status')].filter(s => s.textContent === 'finished').length",
        );
        if done == json!(2) {
            break;
        }
        assert!(Instant::now() < deadline, "the lanes did not finish: {}", text(&driver, ".transcript"));
        // Like Run, but one click per statement: the first lane in file order
        // that can step goes next, so the server listens before the client connects.
        let stepped = driver.js(
            "for (const lane of document.querySelectorAll('section.lane')) {
                 const status = lane.querySelector('.lane-status');
                 if (!status || status.textContent === 'ready') { lane.querySelector('.step-lane').click(); return lane.dataset.lane; }
             }
             return null;",
        );
        std::thread::sleep(Duration::from_millis(if stepped.is_null() { 200 } else { 80 }));
        if !saw_established && text(&driver, "table.sockets").contains("ESTABLISHED") {
            saw_established = true;
            driver.screenshot("02-established");
        }
    }
    assert!(saw_established, "the socket table never showed ESTABLISHED");
    driver.wait_for(
        "TIME_WAIT highlighted for conn",
        "const g = document.querySelector('g.state.current[data-state=TIME_WAIT]'); return !!g && g.textContent.includes('conn')",
    );
    let capture = !text(&driver, ".status").contains("host mode");
    if capture {
        driver.wait_for(
            "the handshake on the wire",
            "const f = [...document.querySelectorAll('.wire g.segment')].map(g => g.dataset.flags);
             const i = f.indexOf('SYN'); return i >= 0 && f[i + 1] === 'SYN,ACK' && f[i + 2] === 'ACK'",
        );
    }
    // TCP_INFO, plotted per socket: cwnd has a line, the title says what it is now.
    driver.wait_for(
        "the TCP_INFO plots",
        "const p = [...document.querySelectorAll('.tcp-plot')];
         return p.length >= 2 && p.every(d => d.querySelector('polyline.cwnd').getAttribute('points').length > 0
             && /cwnd \\d+ · in flight \\d+ · rtt [0-9.]+ (µs|ms)/.test(d.textContent))",
    );
    driver.screenshot("03-echo-finished");

    // A connect to a closed port fails with ECONNREFUSED, which explains itself.
    load_example(&driver, "Connection refused");
    driver.wait_for("Run enabled", "return !document.querySelector('button.run').disabled");
    driver.js("document.querySelector('button.run').click()");
    driver.wait_for("the errno mark", "const b = document.querySelector('button.note.errno'); return !!b && b.textContent.includes('ECONNREFUSED')");
    driver.js("document.querySelector('button.note.errno').click()");
    driver.wait_for("the explanation", "const d = document.querySelector('.overlay .explain'); return !!d && d.textContent.includes('111')");
    driver.screenshot("04-econnrefused");
    driver.js("document.querySelector('.overlay button.close').click()");

    // A parse error is underlined as it is typed, and nothing runs.
    let before = text(&driver, ".transcript");
    driver.js(
        "const t = document.querySelector('textarea.code'); t.value = 'x = (1,\\nprint(x)\\n';
         t.dispatchEvent(new InputEvent('input', {bubbles: true}));",
    );
    driver.wait_for("the underline", "return !!document.querySelector('.highlight .err')");
    assert_eq!(text(&driver, ".transcript"), before, "typing ran nothing");
    assert!(!text(&driver, ".diagnostics").is_empty());
    driver.screenshot("05-parse-error");

    // Share: the link carries the script, whatever local storage holds.
    driver.js("document.querySelector('button.share').click()");
    driver.wait_for("the share link", "return !!document.querySelector('.share-link input')");
    let link = driver.js("return document.querySelector('.share-link input').value").as_str().unwrap().to_owned();
    assert!(link.starts_with(&format!("{base}#s=")) && !link.contains("token"), "{link}");
    driver.js("localStorage.setItem('socklab.script', 'print(\"something else\")\\n')");
    driver.goto("about:blank");
    driver.goto(&link);
    driver.wait_for("the shared script", "const t = document.querySelector('textarea.code'); return !!t && t.value === 'x = (1,\\nprint(x)\\n'");
    driver.wait_for("the kept token to connect", "return !!document.querySelector('.status.open')");
    driver.screenshot("06-shared");

    // Lesson 2 (TCP echo): its solution, run to the end, passes every checkpoint live.
    driver.js(
        "const s = document.querySelector('.lessons select');
         s.value = '2'; s.dispatchEvent(new Event('change', {bubbles: true}));",
    );
    driver.wait_for("the lesson panel", "const p = document.querySelector('.lesson-panel'); return !!p && p.dataset.lesson === '2'");
    let steps = driver.js("return document.querySelectorAll('.lesson-panel li.step').length");
    assert!(steps.as_u64().unwrap_or(0) >= 2, "lesson 2 shows its steps: {steps}");
    run_solution(&driver, "server got");
    driver.wait_for(
        "both lanes finished",
        "return [...document.querySelectorAll('section.lane .lane-status')].filter(s => s.textContent === 'finished').length === 2",
    );
    assert!(text(&driver, ".lesson-panel").contains("✓"));
    driver.wait_for("a passed step's explanation", "const w = document.querySelector('.lesson-panel .what-happened'); return !!w && w.innerText.length > 40");
    driver.screenshot("07-lesson");
    // The language switch rewrites the lesson in Chinese, and is kept.
    driver.js("document.querySelector('button.lang').click()");
    driver.wait_for("the Chinese lesson", "return document.querySelector('.lesson-panel h2').textContent.includes('TCP 回显')");
    driver.wait_for("the language kept", "return localStorage.getItem('socklab.lang') === 'zh'");
    driver.js("document.querySelector('button.lang').click()");
    driver.wait_for("English again", "return localStorage.getItem('socklab.lang') === 'en'");

    // Export: the current script as Python, exported by the relay (POST export/python), in a read-only textarea.
    driver.js("document.querySelector('button.export-python').click()");
    driver.wait_for("the exported program", "const t = document.querySelector('.overlay textarea.export-code'); return !!t && t.readOnly && /\\bimport socket\\b|from socket import/.test(t.value)");
    driver.js("document.querySelector('.overlay button.close').click()");
    // And as C (POST export/c).
    driver.js("document.querySelector('button.export-c').click()");
    driver.wait_for(
        "the exported C program",
        "const t = document.querySelector('.overlay textarea.export-code'); return !!t && t.value.includes('#include <sys/socket.h>') && t.value.includes('int main(')",
    );
    assert_eq!(driver.js("return !!document.querySelector('.overlay .export-error')"), json!(false), "lesson 2's solution exports to C");
    driver.js("document.querySelector('.overlay button.close').click()");
}

/// Shows the open lesson's solution (which holds `marker`), runs it and waits until every checkpoint passed.
fn run_solution(driver: &Driver, marker: &str) {
    driver.js("document.querySelector('.lesson-panel button.show-solution').click()");
    driver.wait_for(
        "the solution in the editor",
        &format!("return [...document.querySelectorAll('textarea.code')].some(t => t.value.includes({marker:?}))"),
    );
    driver.wait_for("Run enabled", "return !document.querySelector('button.run').disabled");
    driver.js("document.querySelector('button.run').click()");
    driver.wait_for(
        "every checkpoint passed",
        "const c = [...document.querySelectorAll('.lesson-panel .checkpoint')]; return c.length > 0 && c.every(e => e.classList.contains('passed'))",
    );
}

/// The ping example's `main` lane: its next line (the gutter's mark) and its
/// call stack as the lane shows it.
fn main_lane(driver: &Driver) -> (u64, Vec<String>) {
    let view = driver.js(
        "const lane = document.querySelector('section.lane[data-lane=main]');
         const next = lane.querySelector('.gutter.next');
         const stack = [...lane.querySelectorAll('ol.stack li')].map(li => li.textContent);
         return [next ? Number(next.dataset.line) : 0, stack];",
    );
    let stack = view[1].as_array().map(|items| items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect()).unwrap_or_default();
    (view[0].as_u64().unwrap_or(0), stack)
}

/// Waits until the main lane is ready again at `line`.
fn wait_at(driver: &Driver, line: usize) {
    driver.wait_for(
        &format!("main ready at line {line}"),
        &format!(
            "const lane = document.querySelector('section.lane[data-lane=main]');
             const next = lane.querySelector('.gutter.next'), status = lane.querySelector('.lane-status');
             return !!next && next.dataset.line === '{line}' && !!status && status.textContent === 'ready'"
        ),
    );
}

/// Step into a function of the tutorial's ping, see the call stack, step over
/// a call inside it (from the keyboard), and land on the next line of the function.
#[test]
fn the_page_steps_into_and_over_a_function_and_shows_the_call_stack() {
    // A raw ICMP socket: a private namespace allows it, host mode with --allow-raw.
    let (_relay, url) = serve(&["--allow-raw"]);
    let driver = Driver::start();
    driver.goto(&url);
    driver.wait_for("the relay's hello", "return !!document.querySelector('.status.open')");
    load_example(&driver, "Tutorial: ping (raw ICMP)");
    let source = socklab_frontend::examples::EXAMPLES.iter().find(|(label, _)| label.starts_with("Tutorial: ping")).unwrap().1;
    let line_of = |text: &str| source.lines().position(|line| line.trim_start().starts_with(text)).expect(text) + 1;
    let (call, body, send, receive) = (
        line_of("delay = do_one(dest, 2, seq)"),
        line_of("sock = socket.socket(socket.AF_INET, socket.SOCK_RAW"),
        line_of("send_one_ping(sock, dest_addr, packet_id, seq)"),
        line_of("delay = receive_one_ping(sock, packet_id, timeout)"),
    );
    driver.wait_for("the main lane", "return !!document.querySelector('section.lane[data-lane=main] button.step-over-lane')");
    let click = |button: &str| driver.js(&format!("document.querySelector('section.lane[data-lane=main] button.{button}').click()"));

    // Step over the top level up to the call: defs and assignments are one step each.
    for _ in 0..20 {
        if main_lane(&driver).0 == call as u64 {
            break;
        }
        click("step-over-lane");
        std::thread::sleep(Duration::from_millis(150));
    }
    wait_at(&driver, call);
    assert_eq!(main_lane(&driver).1, [format!("<module> line {call}")]);

    // Step into do_one: the stack shows it inside <module>, whose line is marked as a caller.
    click("step-lane");
    wait_at(&driver, body);
    assert_eq!(main_lane(&driver).1, [format!("<module> line {call}"), format!("do_one line {body}")]);
    assert_eq!(driver.js(&format!("return document.querySelector('.gutter[data-line=\"{call}\"]').classList.contains('caller')")), json!(true));
    let current = driver.js("return document.querySelector('section.lane[data-lane=main] ol.stack li[aria-current]').textContent");
    assert_eq!(current, json!(format!("do_one line {body}")));
    driver.screenshot("08-stepped-into-do_one");
    click("step-lane");
    wait_at(&driver, body + 1);
    click("step-lane");
    wait_at(&driver, send);

    // Step over send_one_ping (Alt+O, the focused lane): it runs to its return,
    // its own calls included, and the lane stops at do_one's next line.
    driver.js(
        "document.querySelector('.app').dispatchEvent(new KeyboardEvent('keydown', {key: 'o', code: 'KeyO', altKey: true, bubbles: true}))",
    );
    wait_at(&driver, receive);
    assert_eq!(main_lane(&driver).1, [format!("<module> line {call}"), format!("do_one line {receive}")]);
    assert!(text(&driver, ".transcript").contains("sock.sendto(header + data, (dest_addr, 1))"), "send_one_ping ran its sendto");
    driver.screenshot("09-stepped-over-send_one_ping");
}

/// A threaded server: a thread per client, joined at the end (its clients: `clients(5600)`).
const THREADED: &str = r#"# lane: server
import threading
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5600))
srv.listen(5)
def serve(conn, n):
    data = conn.recv(1024)
    conn.sendall(data.upper())
    conn.close()
    print("served", n, data)
threads = []
for n in range(2):
    conn, addr = srv.accept()
    t = threading.Thread(target=serve, args=(conn, n))
    t.start()
    threads.append(t)
for t in threads:
    t.join()
srv.close()
print("server done")
"#;

/// A forking server: a child per client, which closes the listening socket,
/// serves and exits; the parent closes the connection and reaps the children
/// (its clients: `clients(5601)`).
const FORKING: &str = r#"# lane: server
import os
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5601))
srv.listen(5)
children = []
for n in range(2):
    conn, addr = srv.accept()
    pid = os.fork()
    if pid == 0:
        srv.close()
        data = conn.recv(1024)
        conn.sendall(data.upper())
        conn.close()
        print("child served", n, data)
        os._exit(0)
    conn.close()
    children.append(pid)
for pid in children:
    done, status = os.waitpid(pid, 0)
    print("reaped", done == pid, os.WEXITSTATUS(status))
srv.close()
print("server done")
"#;

/// Two client lanes, `alice` and `bob`, each sending its name to `port` and printing the answer.
fn clients(port: u16) -> String {
    ["alice", "bob"]
        .map(|name| {
            format!(
                "\n# lane: {name}\ncli = socket(AF_INET, SOCK_STREAM)\ncli.connect((\"127.0.0.1\", {port}))\ncli.sendall(b\"{name}\")\nprint(cli.recv(1024))\ncli.close()\n"
            )
        })
        .concat()
}

/// Every lane as the page shows it, spawned lanes included: name → status,
/// next line (a part's own lane) and call stack.
fn lane_snapshot(driver: &Driver) -> serde_json::Map<String, Value> {
    let snapshot = driver.js(
        "const out = {};
         const stack = (el) => [...el.querySelectorAll(':scope > ol.stack li')].map(li => li.textContent).join(' › ');
         for (const s of document.querySelectorAll('section.lane')) {
             const status = s.querySelector(':scope > header .lane-status'), next = s.querySelector('.gutter.next');
             out[s.dataset.lane] = [status ? status.textContent : '', next ? next.dataset.line : '', stack(s)].join(' | ');
         }
         for (const l of document.querySelectorAll('li.spawned-lane')) {
             out[l.dataset.lane] = [l.querySelector('.lane-status').textContent, stack(l)].join(' | ');
         }
         return out;",
    );
    snapshot.as_object().cloned().unwrap_or_default()
}

/// The first lane, in the page's order (a part, then its threads and
/// children, then the next part), whose status is ready (or not shown yet).
const FIRST_READY: &str = "for (const head of document.querySelectorAll('section.lane > header.lane-head, li.spawned-lane > .lane-head')) {
         const status = head.querySelector('.lane-status');
         if (!status || status.textContent === 'ready') return head.closest('[data-lane]').dataset.lane;
     }
     return null;";

/// Opens `source` (by a share link, the token kept), steps it to the end with
/// the lanes' own Step buttons, lane by lane in the page's order, and checks
/// on the first spawned lane that its Step moves it alone. Spawned lanes are
/// `server/{kind}-1` and `-2`.
fn step_spawning_server(driver: &Driver, url: &str, source: &str, kind: &str, shot: &str) {
    let (base, token) = url.split_once('#').unwrap();
    driver.goto("about:blank");
    driver.goto(&format!("{base}#{token}&{}", socklab_frontend::share::encode(source)));
    driver.wait_for("the relay's hello", "return !!document.querySelector('.status.open')");
    driver.wait_for("three parts", "return document.querySelectorAll('section.lane').length === 3");
    let first = format!("server/{kind}-1");
    let mut checked = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let snapshot = lane_snapshot(driver);
        let spawned = snapshot.keys().filter(|name| name.contains('/')).count();
        if spawned == 2 && snapshot.values().all(|view| view.as_str().unwrap_or_default().starts_with("finished")) {
            break;
        }
        assert!(Instant::now() < deadline, "the lanes did not finish: {snapshot:?}\n{}", text(driver, ".transcript"));
        let next = driver.js(FIRST_READY);
        let Some(lane) = next.as_str().map(str::to_owned) else {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        let button = format!("[data-lane=\"{lane}\"] > .lane-head .step-lane");
        if lane == first && !checked {
            // The spawned lane has its own, labelled Step.
            let label = driver.js(&format!("return document.querySelector('{button}').getAttribute('aria-label')"));
            assert_eq!(label, json!(format!("step into, lane {first}")));
            driver.screenshot(&format!("{shot}-spawned"));
            // Its Step moves it alone.
            let before = lane_snapshot(driver);
            driver.js(&format!("document.querySelector('{button}').click()"));
            let moved = Instant::now() + Duration::from_secs(20);
            while lane_snapshot(driver).get(&first) == before.get(&first) {
                assert!(Instant::now() < moved, "{first} did not move: {before:?}");
                std::thread::sleep(Duration::from_millis(100));
            }
            std::thread::sleep(Duration::from_millis(300));
            let after = lane_snapshot(driver);
            for (name, view) in &before {
                if name != &first {
                    assert_eq!(after.get(name), Some(view), "stepping {first} moved {name}");
                }
            }
            // Its line is marked in its part's code, apart from the part's own lane.
            let tag = driver.js("return [...document.querySelectorAll('section.lane[data-lane=server] .lane-tag')].map(t => t.textContent)");
            assert_eq!(tag, json!([format!("{kind}-1")]), "the spawned lane's line is tagged");
            assert_eq!(driver.js("return document.querySelectorAll('section.lane[data-lane=server] .gutter.spawned').length"), json!(1));
            driver.screenshot(&format!("{shot}-stepped"));
            checked = true;
            continue;
        }
        driver.js(&format!("document.querySelector('{button}').click()"));
        std::thread::sleep(Duration::from_millis(80));
    }
    assert!(checked, "{first} was never ready to step");
    driver.screenshot(&format!("{shot}-finished"));
}

fn prints(driver: &Driver, lane: &str) -> Vec<String> {
    let lines = driver.js(&format!("return [...document.querySelectorAll('output.prints[aria-label=\"{lane} output\"] div')].map(d => d.textContent)"));
    lines.as_array().map(|l| l.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// A server that starts a thread per client, and one that forks a child per
/// client: their threads and children show up under the server's code with
/// their own Step, stepping one moves it alone, and their prints land in the
/// server's box under their names.
#[test]
fn the_page_steps_threads_and_forked_children_as_lanes() {
    let (_relay, url) = serve(&[]);
    let driver = Driver::start();

    step_spawning_server(&driver, &url, &format!("{THREADED}{}", clients(5600)), "thread", "10-threads");
    let server = prints(&driver, "server");
    for line in ["[thread-1] served 0 b'alice'", "[thread-2] served 1 b'bob'"] {
        assert!(server.iter().any(|l| l == line), "{line} in {server:?}");
    }
    assert_eq!((server.len(), server.last().map(String::as_str)), (3, Some("server done")), "{server:?}");
    assert_eq!(prints(&driver, "alice"), ["b'ALICE'"]);
    assert_eq!(prints(&driver, "bob"), ["b'BOB'"]);

    step_spawning_server(&driver, &url, &format!("{FORKING}{}", clients(5601)), "fork", "11-fork");
    // The children print as they serve, the parent as it reaps them.
    let server = prints(&driver, "server");
    for line in ["[fork-1] child served 0 b'alice'", "[fork-2] child served 1 b'bob'"] {
        assert!(server.iter().any(|l| l == line), "{line} in {server:?}");
    }
    assert_eq!(server.iter().filter(|l| *l == "reaped True 0").count(), 2, "{server:?}");
    assert_eq!((server.len(), server.last().map(String::as_str)), (5, Some("server done")), "{server:?}");
    assert_eq!(prints(&driver, "alice"), ["b'ALICE'"]);
    assert_eq!(prints(&driver, "bob"), ["b'BOB'"]);
}

/// `input()` on the page: the lane waits, an input box appears under its
/// code, a typed line reaches the program, and "End input" is end-of-file.
#[test]
fn the_page_gives_a_lane_waiting_for_input_a_box_to_type_in() {
    let (_relay, url) = serve(&[]);
    let driver = Driver::start();
    let source = "# lane: main\nname = input(\"name? \")\nprint(\"hello\", name)\ntry:\n    input()\nexcept EOFError:\n    print(\"no more input\")\n";
    let (base, token) = url.split_once('#').unwrap();
    driver.goto(&format!("{base}#{token}&{}", socklab_frontend::share::encode(source)));
    driver.wait_for("the relay's hello", "return !!document.querySelector('.status.open')");
    driver.js("document.querySelector('button.run').click()");
    driver.wait_for("the input box", "return !!document.querySelector('form.lane-input input')");
    let label = driver.js("return document.querySelector('form.lane-input input').getAttribute('aria-label')");
    assert_eq!(label, json!("a line of input for lane main"));
    assert!(text(&driver, "section.lane[data-lane=main] .lane-status").contains("input: waiting for a line of input"));
    driver.screenshot("12-input-waiting");
    driver.js(
        "const f = document.querySelector('form.lane-input'); f.querySelector('input').value = 'ada';
         f.requestSubmit();",
    );
    driver.wait_for("the greeting", "return [...document.querySelectorAll('output.prints div')].some(d => d.textContent === 'name? hello ada')");
    driver.wait_for("the second input()", "return !!document.querySelector('form.lane-input')");
    driver.js("document.querySelector('form.lane-input button[type=button]').click()");
    driver.wait_for("end of input", "return [...document.querySelectorAll('output.prints div')].some(d => d.textContent === 'no more input')");
    assert_eq!(prints(&driver, "main"), ["name? hello ada", "no more input"]);
    driver.screenshot("12-input-done");
}

/// The lesson select's value and the text of its chosen option.
fn lesson_menu(driver: &Driver) -> (String, String) {
    let menu = driver.js("const s = document.querySelector('.lessons select'); return [s.value, s.options[s.selectedIndex].text]");
    (menu[0].as_str().unwrap_or_default().to_owned(), menu[1].as_str().unwrap_or_default().to_owned())
}

/// A lane's status as its header shows it.
fn lane_status(driver: &Driver, lane: &str) -> String {
    text(driver, &format!("section.lane[data-lane={lane}] .lane-status"))
}

/// The line a lane runs next (its gutter's mark), 0 if none.
fn next_line(driver: &Driver, lane: &str) -> u64 {
    driver
        .js(&format!("const g = document.querySelector('section.lane[data-lane={lane}] .gutter.next'); return g ? Number(g.dataset.line) : 0"))
        .as_u64()
        .unwrap_or(0)
}

/// Presses Step (the focused lane's) and waits until no lane waits for the relay's first answer.
fn press_step(driver: &Driver) {
    driver.wait_for("Step enabled", "return !document.querySelector('button.step').disabled");
    driver.js("document.querySelector('button.step').click()");
    std::thread::sleep(Duration::from_millis(150));
    driver.wait_for(
        "no lane calling",
        "return ![...document.querySelectorAll('section.lane .lane-status')].some(s => s.textContent === 'calling…')",
    );
}

#[test]
fn a_lesson_link_opens_the_lesson_and_step_goes_on_past_a_blocked_lane() {
    let (_relay, url) = serve(&[]);
    let base = url.split('#').next().unwrap().to_owned();
    let driver = Driver::start();

    // A teacher's link: the token fragment still connects, and lesson 6 is open.
    driver.goto(&format!("{url}&lesson=6"));
    driver.wait_for("the relay's hello", "return !!document.querySelector('.status.open')");
    driver.wait_for("lesson 6's panel", "const p = document.querySelector('.lesson-panel'); return !!p && p.dataset.lesson === '6'");
    let (value, label) = lesson_menu(&driver);
    assert_eq!(value, "6");
    assert!(label.starts_with("6. "), "the menu names the open lesson: {label}");
    driver.wait_for("lesson 6's starter", "return [...document.querySelectorAll('textarea.code')].some(t => t.value.includes('srv.accept()'))");

    // The explanation (fetched as the relay built it: lessons/6.json) is Markdown rendered:
    // emphasis, and the code block as a highlighted block.
    driver.wait_for("lesson 6's text", "return !!document.querySelector('.lesson-panel .explanation pre.lesson-code')");
    assert!(!text(&driver, ".lesson-panel").contains("Loading"), "the note goes once the text is in");
    assert!(!text(&driver, ".lesson-panel .explanation").contains('*'), "no asterisks left");
    assert_eq!(driver.js("return document.querySelectorAll('.lesson-panel .explanation em').length > 0"), json!(true));
    let block = driver.js(
        "const pre = document.querySelector('.lesson-panel .explanation pre.lesson-code');
         if (!pre) return null;
         const style = getComputedStyle(pre);
         return [style.display, style.whiteSpace, pre.innerText.split('\\n').length, pre.querySelectorAll('span.kw').length, pre.getBoundingClientRect().height];",
    );
    assert_eq!(block[0], json!("block"), "the code block is a block: {block}");
    assert_eq!(block[1], json!("pre"), "{block}");
    assert!(block[2].as_u64().unwrap_or(0) >= 6, "its lines are kept: {block}");
    assert!(block[3].as_u64().unwrap_or(0) >= 2, "highlighted like the editor: {block}");
    assert!(block[4].as_f64().unwrap_or(0.0) > 60.0, "it takes lines of height: {block}");
    driver.js("document.querySelector('.lesson-panel pre.lesson-code').scrollIntoView()");
    driver.screenshot("30-lesson-6-code-block");

    // Step (the focused lane is `reader`) until reader blocks in accept().
    for _ in 0..20 {
        if lane_status(&driver, "reader").starts_with("blocked") {
            break;
        }
        press_step(&driver);
    }
    let status = lane_status(&driver, "reader");
    assert!(status.contains("accept"), "reader waits in accept: {status}");
    // The reader's own Step button says why it cannot step, and moves nothing.
    let before = next_line(&driver, "sender");
    driver.js("document.querySelector('section.lane[data-lane=reader] .step-lane').click()");
    driver.wait_for("the reason", "const n = document.querySelector('.step-note'); return !!n && n.textContent.startsWith('reader is blocked in accept')");
    assert!(!text(&driver, ".step-note").contains("stepped"), "{}", text(&driver, ".step-note"));
    assert_eq!(next_line(&driver, "sender"), before);
    // Step (the focused lane's) again: the sender (the lane Run would pick) moves, and the page says so.
    press_step(&driver);
    driver.wait_for("the step note", "const n = document.querySelector('.step-note'); return !!n && n.textContent.includes('stepped sender instead')");
    let note = text(&driver, ".step-note");
    assert!(note.starts_with("reader is blocked in accept(), waiting for a client to connect"), "{note}");
    assert_ne!(next_line(&driver, "sender"), before, "the sender moved");
    driver.js("window.scrollTo(0, 0)");
    driver.screenshot("31-step-past-a-blocked-lane");
    // Step on: the sender connects, and reader's accept returns.
    for _ in 0..10 {
        if !lane_status(&driver, "reader").contains("accept") {
            break;
        }
        press_step(&driver);
    }
    assert!(!lane_status(&driver, "reader").contains("accept"), "reader got past accept: {}", lane_status(&driver, "reader"));

    // Opening a lesson from the menu names it in the URL, the token kept.
    driver.js(
        "const s = document.querySelector('.lessons select');
         s.value = '2'; s.dispatchEvent(new Event('change', {bubbles: true}));",
    );
    driver.wait_for("lesson 2's panel", "const p = document.querySelector('.lesson-panel'); return !!p && p.dataset.lesson === '2'");
    driver.wait_for("the URL names lesson 2", "return location.hash.includes('lesson=2') && location.hash.includes('token=') && !location.hash.includes('lesson=6')");
    assert!(lesson_menu(&driver).1.starts_with("2. "));
    // Closing it takes it out of the URL and the menu.
    driver.js("document.querySelector('.lesson-panel button.close-lesson').click()");
    driver.wait_for("no lesson in the URL", "return !location.hash.includes('lesson=') && location.hash.includes('token=')");
    assert_eq!(lesson_menu(&driver).0, "");
    // A lesson link pasted into the open tab opens that lesson.
    driver.js("location.hash = location.hash + '&lesson=7'");
    driver.wait_for("lesson 7's panel", "const p = document.querySelector('.lesson-panel'); return !!p && p.dataset.lesson === '7'");
    assert_eq!(lesson_menu(&driver).0, "7");
    // A link without the token opens the lesson in this tab (the token is kept for it).
    driver.goto("about:blank");
    driver.goto(&format!("{base}#lesson=6"));
    driver.wait_for("lesson 6 again", "const p = document.querySelector('.lesson-panel'); return !!p && p.dataset.lesson === '6'");
    driver.wait_for("connected with the kept token", "return !!document.querySelector('.status.open')");
    assert_eq!(lesson_menu(&driver).0, "6");
}

/// Real key presses (WebDriver actions): each of `keys` held down in turn, then all let go.
fn press_keys(driver: &Driver, keys: &[&str]) {
    let mut actions: Vec<Value> = keys.iter().map(|k| json!({"type": "keyDown", "value": k})).collect();
    actions.extend(keys.iter().rev().map(|k| json!({"type": "keyUp", "value": k})));
    driver.cmd("POST", "actions", Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})));
    std::thread::sleep(Duration::from_millis(150));
}

/// The timeline's position, as its scrubber says it (`event N of M: …`).
fn timeline_at(driver: &Driver) -> (u64, u64, String) {
    let v = driver.js(
        "const s = document.querySelector('.timeline input.scrubber');
         return [Number(s.value), Number(s.max), s.getAttribute('aria-valuetext') || ''];",
    );
    (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0), v[2].as_str().unwrap_or_default().to_owned())
}

/// Time travel: run the echo example, scrub back to the moment after the
/// handshake (the views show that moment, from what was recorded), then step
/// through the events from the keyboard and the toolbar, and back to live.
#[test]
fn the_timeline_shows_the_moment_after_the_handshake_and_steps_by_keyboard() {
    let (_relay, url) = serve(&[]);
    let driver = Driver::start();
    driver.viewport(1440, 900);
    driver.goto(&url);
    driver.wait_for("the relay's hello", "return !!document.querySelector('.status.open')");
    load_example(&driver, "TCP echo");
    run_to_end(&driver);
    driver.wait_for("TIME_WAIT in the table", "return document.querySelector('table.sockets').textContent.includes('TIME_WAIT')");
    let capture = !text(&driver, ".status").contains("host mode");
    // The event log is in the kernel's order: the connect, its SYN_SENT, the handshake, then the send.
    let log = text(&driver, ".transcript");
    let mut order = vec!["cli.connect(", "cli  CLOSE → SYN_SENT", "cli  SYN_SENT → ESTABLISHED", "cli.send("];
    if capture {
        order.splice(2..2, ["TCP SYN seq=0", "TCP SYN,ACK"]);
    }
    let places: Vec<usize> = order.iter().map(|needle| log.find(needle).unwrap_or_else(|| panic!("no {needle:?} in {log}"))).collect();
    assert!(places.windows(2).all(|w| w[0] < w[1]), "{order:?} at {places:?} in\n{log}");
    let (at, stops, _) = timeline_at(&driver);
    assert!(stops >= 10 && at == stops, "live at the end: {at} of {stops}");
    // The keys are written on the page.
    let keys = driver.js("return document.querySelector('.timeline input.scrubber').title + ' ' + document.querySelector('button.step-back').title");
    assert!(keys.as_str().unwrap_or_default().contains("Alt+,") && keys.as_str().unwrap_or_default().contains("Alt+."), "{keys}");
    driver.js("document.querySelector('.timeline').scrollIntoView()");
    driver.screenshot("40-timeline-live");

    // Scrub back to the server's side of the handshake: conn SYN_RECV → ESTABLISHED.
    let mut found = None;
    for n in 0..=stops {
        driver.js(&format!(
            "const s = document.querySelector('.timeline input.scrubber');
             s.value = '{n}'; s.dispatchEvent(new Event('input', {{bubbles: true}}));"
        ));
        let (_, _, said) = timeline_at(&driver);
        if said.contains("conn  SYN_RECV → ESTABLISHED") {
            found = Some(n);
            break;
        }
    }
    let n = found.unwrap_or_else(|| panic!("no handshake in the timeline: {}", text(&driver, ".timeline")));
    assert!(driver.js("return document.querySelector('.timeline').classList.contains('past')") == json!(true));
    // The table, the diagram and the wire view as they were: both ends ESTABLISHED, nothing closed yet.
    let table = text(&driver, "table.sockets");
    assert!(table.contains("ESTABLISHED") && !table.contains("TIME_WAIT") && !table.contains("FIN_WAIT"), "{table}");
    assert_eq!(driver.js("return !!document.querySelector('g.state.current[data-state=ESTABLISHED]')"), json!(true));
    assert_eq!(driver.js("return !!document.querySelector('g.state.current[data-state=TIME_WAIT]')"), json!(false));
    if capture {
        let flags = driver.js("return [...document.querySelectorAll('.wire g.segment')].map(g => g.dataset.flags)");
        assert_eq!(flags, json!(["SYN", "SYN,ACK", "ACK"]), "the wire view holds the handshake only");
    }
    // The client lane was at its connect (the echo example's line 14).
    let client_line = || next_line(&driver, "client");
    assert_eq!(client_line(), 14, "{}", text(&driver, ".timeline"));
    driver.js("window.scrollTo(0, 0)");
    driver.screenshot("41-timeline-after-handshake-lanes");
    driver.js("document.querySelector('.timeline').scrollIntoView()");
    driver.screenshot("41-timeline-after-handshake-views");

    // The diagram enlarged in a dialog: the same moment, at a size its labels can be read at.
    let small = rect(&driver, ".kernel-pane .diagram svg").expect("the diagram in the pane");
    driver.js("document.querySelector('.kernel-pane .diagram button.enlarge').click()");
    driver.wait_for("the enlarged diagram", "return !!document.querySelector('.overlay g.state.current[data-state=ESTABLISHED]')");
    let big = rect(&driver, ".overlay .diagram svg").expect("the diagram in the dialog");
    let (small_height, big_height) = (small[3] - small[1], big[3] - big[1]);
    println!("the diagram's height: {small_height:.0} px in the pane, {big_height:.0} px enlarged");
    assert!(big_height >= 400.0 && big_height >= 2.0 * small_height, "enlarged: {big:?}, in the pane: {small:?}");
    let who = text(&driver, ".overlay g.state.current[data-state=ESTABLISHED] text.who");
    assert!(who.contains("cli") && who.contains("conn"), "the sockets named at ESTABLISHED: {who:?}");
    driver.screenshot("43-diagram-enlarged");
    let violations = axe(&driver);
    assert!(violations.is_empty(), "axe, the diagram's dialog open: {violations:?}");
    press_keys(&driver, &["\u{E00C}"]);
    driver.wait_for("the dialog closed by Escape", "return !document.querySelector('.overlay')");

    // From the keyboard: arrows on the scrubber, then Alt+. and Alt+, anywhere.
    driver.js("document.querySelector('.timeline input.scrubber').focus()");
    press_keys(&driver, &["\u{E014}"]);
    assert_eq!(timeline_at(&driver).0, n + 1, "ArrowRight: one event forward");
    press_keys(&driver, &["\u{E00A}", "."]);
    assert_eq!(timeline_at(&driver).0, n + 2, "Alt+.: one event forward");
    press_keys(&driver, &["\u{E00A}", ","]);
    assert_eq!(timeline_at(&driver).0, n + 1, "Alt+,: one event back");
    // The toolbar's Step back, beside Step.
    driver.js("document.querySelector('button.step-back').click()");
    driver.wait_for("one event back", &format!("return document.querySelector('.timeline input.scrubber').value === '{n}'"));
    // Forward until the client's next statement (its send, line 15) shows.
    for _ in 0..stops {
        if client_line() == 15 {
            break;
        }
        press_keys(&driver, &["\u{E00A}", "."]);
    }
    assert_eq!(client_line(), 15, "the client lane moved on to its send");
    driver.js("document.querySelector('.timeline').scrollIntoView()");
    driver.screenshot("42-timeline-stepped-forward");

    // Live again: the end of the run.
    driver.js("document.querySelector('.timeline button.live').click()");
    driver.wait_for("live", "return !document.querySelector('.timeline').classList.contains('past')");
    assert!(text(&driver, "table.sockets").contains("TIME_WAIT"));
    let (at, stops_now, _) = timeline_at(&driver);
    assert_eq!(at, stops_now);
}

/// Where an element is: [left, top, right, bottom] in viewport pixels (None when absent).
fn rect(driver: &Driver, selector: &str) -> Option<[f64; 4]> {
    let r = driver.js(&format!(
        "const e = document.querySelector({selector:?}); if (!e) return null;
         const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom];"
    ));
    let r = r.as_array()?;
    Some([0, 1, 2, 3].map(|i| r[i].as_f64().unwrap_or(f64::NAN)))
}

/// The lanes' rectangles, in file order.
fn lane_rects(driver: &Driver) -> Vec<[f64; 4]> {
    let all = driver.js(
        "return [...document.querySelectorAll('section.lane')].map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })",
    );
    all.as_array()
        .map(|lanes| lanes.iter().map(|r| [0, 1, 2, 3].map(|i| r[i].as_f64().unwrap_or(f64::NAN))).collect())
        .unwrap_or_default()
}

/// Code and kernel views side by side, the lanes side by side, every view the
/// lesson needs inside the viewport and the page itself not scrolling.
fn assert_side_by_side(driver: &Driver, size: &str, lesson: bool) {
    let code = rect(driver, ".code-pane").expect("the code pane");
    let kernel = rect(driver, ".kernel-pane").expect("the kernel pane");
    assert!(kernel[0] >= code[2] && (kernel[1] - code[1]).abs() < 2.0, "{size}: code {code:?} and kernel views {kernel:?} side by side");
    let lanes = lane_rects(driver);
    assert!(lanes.len() >= 2, "{size}: two lanes");
    for pair in lanes.windows(2) {
        assert!(pair[1][0] >= pair[0][2] && (pair[1][1] - pair[0][1]).abs() < 2.0, "{size}: lanes side by side: {lanes:?}");
    }
    let (width, height) = {
        let v = driver.js("return [innerWidth, innerHeight, document.documentElement.scrollHeight, document.documentElement.scrollWidth]");
        let n = |i: usize| v[i].as_f64().unwrap_or(0.0);
        assert!(n(2) <= n(1) + 1.0 && n(3) <= n(0) + 1.0, "{size}: the page itself does not scroll: {v}");
        (n(0), n(1))
    };
    let mut needed = vec!["section.lane[data-lane=reader]", "section.lane[data-lane=sender]", ".sockets-box", ".diagram", ".wire", ".log"];
    if lesson {
        needed.extend([".lesson-panel", ".lesson-panel .steps"]);
    }
    for selector in needed {
        let r = rect(driver, selector).unwrap_or_else(|| panic!("{size}: {selector} is on the page"));
        assert!(r[0] >= 0.0 && r[2] <= width + 0.5 && r[1] >= 0.0 && r[1] + 40.0 <= height, "{size}: {selector} is in sight: {r:?} in {width}x{height}");
    }
}

/// Injects axe-core (installed by scripts/setup.sh) and runs it on the page:
/// the violations as (impact, rule, help, the elements' selectors).
fn axe(driver: &Driver) -> Vec<(String, String, String, String)> {
    let path = "/opt/socklab-npm/node_modules/axe-core/axe.min.js";
    let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e} (scripts/setup.sh installs axe-core)"));
    if driver.js("return typeof axe") != json!("object") {
        driver.js(&format!("{source}\n;window.axe = axe;"));
    }
    let found = driver.js_async(
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v =>
             [v.impact || 'none', v.id, v.help, v.nodes.map(n => n.target.join(' ')).slice(0, 6).join(' | ')])),
           e => done([['error', 'axe', String(e), '']]))",
    );
    found
        .as_array()
        .unwrap_or_else(|| panic!("axe gave {found}"))
        .iter()
        .map(|v| {
            let s = |i: usize| v[i].as_str().unwrap_or_default().to_owned();
            (s(0), s(1), s(2), s(3))
        })
        .collect()
}

#[test]
fn the_layout_fits_the_work_is_accessible_and_reachable_by_keyboard() {
    let (_relay, url) = serve(&[]);
    let driver = Driver::start();
    driver.viewport(1440, 900);
    driver.goto(&url);
    driver.wait_for("the relay's hello", "return !!document.querySelector('.status.open')");

    // The first example: its code fits its lane, run, with the values after the lines.
    load_example(&driver, "TCP echo");
    driver.wait_for("two lanes", "return document.querySelectorAll('section.lane').length === 2");
    driver.wait_for("Run enabled", "return !document.querySelector('button.run').disabled");
    driver.js("document.querySelector('button.run').click()");
    driver.wait_for(
        "both lanes finished",
        "return [...document.querySelectorAll('section.lane .lane-status')].filter(s => s.textContent === 'finished').length === 2",
    );
    let scrolls = driver.js(
        "return [...document.querySelectorAll('section.lane .code-stack')].map(c => [c.scrollWidth, c.clientWidth])",
    );
    for lane in scrolls.as_array().unwrap() {
        assert!(lane[0].as_f64() <= lane[1].as_f64(), "the first example's code scrolls sideways at 1440x900: {scrolls}");
    }
    let notes = driver.js(
        "return [...document.querySelectorAll('section.lane')].flatMap(l => { const r = l.querySelector('.code-stack').getBoundingClientRect();
           return [...l.querySelectorAll('.note.done')].map(n => { const b = n.getBoundingClientRect(); return b.width > 0 && b.right <= r.right + 0.5; }); })",
    );
    let notes = notes.as_array().unwrap();
    assert!(!notes.is_empty() && notes.iter().all(|n| n == &json!(true)), "values shown after the lines, inside the lane: {notes:?}");
    driver.screenshot("50-echo-1440x900");

    // Lesson 6 from a link, its solution run: every view it needs in sight at 1440x900 and 1280x720.
    driver.goto(&format!("{url}&lesson=6"));
    driver.wait_for("lesson 6's panel", "const p = document.querySelector('.lesson-panel'); return !!p && p.dataset.lesson === '6'");
    driver.wait_for("the relay's hello", "return !!document.querySelector('.status.open')");
    run_solution(&driver, "sendall done");
    driver.screenshot("51-lesson-6-1440x900");
    assert_side_by_side(&driver, "1440x900", true);
    driver.viewport(1280, 720);
    driver.screenshot("52-lesson-6-1280x720");
    assert_side_by_side(&driver, "1280x720", true);

    // At 800px wide the columns stack: lanes, then the lesson, then the kernel views.
    driver.viewport(800, 900);
    driver.screenshot("53-lesson-6-800px");
    let lanes = lane_rects(&driver);
    assert!(lanes[1][1] >= lanes[0][3], "800px: lanes stacked: {lanes:?}");
    let (code, lesson, kernel) = (rect(&driver, ".code-pane").unwrap(), rect(&driver, ".lesson-panel").unwrap(), rect(&driver, ".kernel-pane").unwrap());
    assert!(lesson[1] >= code[3] && kernel[1] >= lesson[3], "800px: code {code:?}, lesson {lesson:?}, kernel {kernel:?} stacked");
    let wide = driver.js("return document.documentElement.scrollWidth <= innerWidth");
    assert_eq!(wide, json!(true), "800px: nothing wider than the window");
    driver.viewport(1440, 900);

    // axe-core: no serious or critical violation, with the lesson open, with a dialog open, in the dark theme.
    let mut violations = axe(&driver);
    driver.js("document.querySelector('button.help').click()");
    driver.wait_for("the shortcuts dialog", "return !!document.querySelector('.overlay .shortcuts')");
    violations.extend(axe(&driver).into_iter().map(|(impact, id, help, nodes)| (impact, id, format!("{help} (dialog open)"), nodes)));
    driver.js("document.querySelector('.overlay button.close').click()");
    driver.js("document.querySelector('button.theme').click()");
    driver.wait_for("the dark theme", "return document.querySelector('.app').dataset.theme === 'dark'");
    violations.extend(axe(&driver).into_iter().map(|(impact, id, help, nodes)| (impact, id, format!("{help} (dark theme)"), nodes)));
    driver.js("document.querySelector('button.theme').click()");
    let mut counts = std::collections::BTreeMap::new();
    for (impact, ..) in &violations {
        *counts.entry(impact.clone()).or_insert(0) += 1;
    }
    println!("axe violations by impact: {counts:?}");
    for v in &violations {
        println!("  {v:?}");
    }
    // None of any impact: the layout, the shortcuts dialog and the dark theme.
    assert!(violations.is_empty(), "axe found violations:\n{violations:#?}");

    // Every control is reached with Tab alone.
    let controls = driver.js(
        "const all = [...document.querySelectorAll('button, select, input, textarea, a[href], [tabindex]')]
           .filter(e => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length > 0);
         all.forEach((e, i) => e.dataset.kb = i);
         document.activeElement && document.activeElement.blur();
         return all.length",
    );
    let count = controls.as_u64().unwrap_or(0) as usize;
    assert!(count > 20, "the page's controls: {count}");
    let mut reached = std::collections::BTreeSet::new();
    for _ in 0..count + 10 {
        driver.press("\u{E004}");
        if let Some(i) = driver.js("const e = document.activeElement; return e && e.dataset.kb ? Number(e.dataset.kb) : null").as_u64() {
            reached.insert(i as usize);
        }
    }
    let missed = driver.js(&format!(
        "return [...document.querySelectorAll('[data-kb]')].filter(e => !{reached:?}.includes(Number(e.dataset.kb))).map(e => e.outerHTML.slice(0, 120))"
    ));
    assert_eq!(reached.len(), count, "controls Tab never reaches: {missed}");

    // The splits move with the keyboard and are kept by the browser.
    let before = driver.js("return document.querySelector('.splitter').getAttribute('aria-valuenow')");
    driver.js("document.querySelector('.splitter').focus()");
    driver.press("\u{E014}");
    driver.press("\u{E014}");
    let after = driver.js("return document.querySelector('.splitter').getAttribute('aria-valuenow')");
    assert_ne!(before, after, "ArrowRight moves the separator");
    let code_width = rect(&driver, ".code-pane").unwrap();
    driver.goto("about:blank");
    driver.goto(&format!("{url}&lesson=6"));
    driver.wait_for("lesson 6 again", "const p = document.querySelector('.lesson-panel'); return !!p && p.dataset.lesson === '6'");
    assert_eq!(driver.js("return document.querySelector('.splitter').getAttribute('aria-valuenow')"), after, "the split is kept");
    let again = rect(&driver, ".code-pane").unwrap();
    assert!((again[2] - code_width[2]).abs() < 2.0, "the code pane keeps its width: {code_width:?} then {again:?}");
}

/// Presses Run once it is enabled and waits until both lanes finished.
fn run_to_end(driver: &Driver) {
    driver.wait_for("Run enabled", "return !document.querySelector('button.run').disabled");
    driver.js("document.querySelector('button.run').click()");
    driver.wait_for(
        "both lanes finished",
        "return [...document.querySelectorAll('section.lane .lane-status')].filter(s => s.textContent === 'finished').length === 2",
    );
}

/// Two hosts: the server accepts, the client times its connect.
const HOSTS_SCRIPT: &str = r#"# lane: server @ server
srv = socket(AF_INET, SOCK_STREAM)
srv.bind(("0.0.0.0", 5000))
srv.listen(1)
conn, addr = srv.accept()
data = conn.recv(100)
conn.close()
srv.close()

# lane: client @ laptop
import time
cli = socket(AF_INET, SOCK_STREAM)
started = time.time()
cli.connect(("server", 5000))
print("connect ms", round((time.time() - started) * 1000))
cli.sendall(b"hello across the link")
cli.close()
"#;

/// Sets one field of a link's form on the page.
fn link_field(driver: &Driver, name: &str, value: &str) {
    driver.js(&format!("document.querySelector('form.link input[name={name}]').value = {value:?}"));
}

/// Lanes on hosts, from the page: a link's delay set between steps (the relay
/// confirms it and the connect takes the round trip it adds; a bad value is
/// the relay's refusal), the wire view's columns are the hosts with each
/// segment from its sender to its receiver, and the capture downloads as a
/// pcapng that tshark reads with every packet the wire view showed.
#[test]
fn the_page_sets_a_link_draws_hosts_as_columns_and_downloads_the_capture() {
    let (_relay, url) = serve(&[]);
    let driver = Driver::start();
    let downloads = tempfile::tempdir().expect("a download directory");
    let allowed = driver.cmd("POST", "goog/cdp/execute", Some(json!({"cmd": "Browser.setDownloadBehavior",
        "params": {"behavior": "allow", "downloadPath": downloads.path().to_str().unwrap()}})));
    assert!(allowed.get("error").is_none(), "{allowed}");
    let (base, token) = url.split_once('#').unwrap();
    driver.goto(&format!("{base}#{token}&{}", socklab_frontend::share::encode(HOSTS_SCRIPT)));
    driver.wait_for("the relay's hello", "return !!document.querySelector('.status.open')");
    if text(&driver, ".status").contains("host mode") {
        return println!("host mode: no hosts here");
    }
    driver.wait_for("the link's controls", "return !!document.querySelector('form.link[data-link=\"server—laptop\"]')");
    assert!(text(&driver, "form.link .link-now").contains("perfect"), "{}", text(&driver, ".links"));

    // A step makes the hosts; then a delay from the keyboard: the form's field, Enter.
    driver.js("document.querySelector('section.lane[data-lane=server] .step-lane').click()");
    driver.wait_for("the server's first step", "return !!document.querySelector('section.lane[data-lane=server] .gutter.done[data-line=\"2\"]')");
    link_field(&driver, "loss", "250");
    driver.js("document.querySelector('form.link input[name=delay]').focus()");
    driver.press("\u{E007}");
    driver.wait_for("the relay's refusal", "const e = document.querySelector('form.link .link-error'); return !!e && e.textContent.includes('percentage between 0 and 100')");
    driver.screenshot("60-link-refused");
    link_field(&driver, "loss", "");
    link_field(&driver, "delay", "200");
    driver.js("document.querySelector('form.link input[name=delay]').focus()");
    driver.press("\u{E007}");
    driver.wait_for("the delay confirmed", "return document.querySelector('form.link .link-now').textContent === 'delay 200 ms'");
    assert_eq!(driver.js("return !!document.querySelector('form.link .link-error')"), json!(false));
    driver.screenshot("61-link-delay");

    // The connect crosses the link twice: at least 2 × 200 ms.
    run_to_end(&driver);
    let printed = prints(&driver, "client");
    let ms: u64 = printed.iter().find_map(|p| p.strip_prefix("connect ms ")?.parse().ok()).unwrap_or_else(|| panic!("{printed:?}"));
    assert!(ms >= 380, "the connect took {ms} ms over a link with 200 ms of delay");

    // The wire view: a column per host, each segment from its sender to its receiver.
    let heads = driver.js("return [...document.querySelectorAll('.wire g.endpoint')].map(g => g.dataset.host || null)");
    assert_eq!(heads, json!(["server", "laptop"]));
    let arrows = driver.js("return [...document.querySelectorAll('.wire g.segment')].map(g => [g.dataset.flags, g.dataset.from, g.dataset.to])");
    let arrows = arrows.as_array().expect("segments").clone();
    let arrow = |flags: &str| arrows.iter().find(|a| a[0] == flags).unwrap_or_else(|| panic!("no {flags} in {arrows:?}")).clone();
    assert_eq!(arrow("SYN"), json!(["SYN", "laptop", "server"]));
    assert_eq!(arrow("SYN,ACK"), json!(["SYN,ACK", "server", "laptop"]));
    assert!(arrows.iter().all(|a| a[1] != a[2] && ["server", "laptop"].contains(&a[1].as_str().unwrap_or_default())), "{arrows:?}");
    // Each segment names the last line a lane on its sender had stepped: the SYN
    // left during the client's connect (line 15), the SYN,ACK while the server
    // waited in accept (line 5; line 4 had it not called accept yet).
    let after = driver.js("return [...document.querySelectorAll('.wire g.segment')].map(g => [g.dataset.flags, g.dataset.afterLane, g.dataset.afterLine])");
    let after = after.as_array().expect("segments").clone();
    let after_of = |flags: &str| after.iter().find(|a| a[0] == flags).unwrap_or_else(|| panic!("no {flags} in {after:?}")).clone();
    assert_eq!(after_of("SYN"), json!(["SYN", "client", "15"]));
    let syn_ack = after_of("SYN,ACK");
    assert!(syn_ack[1] == "server" && ["4", "5"].contains(&syn_ack[2].as_str().unwrap_or_default()), "{after:?}");
    driver.js("document.querySelector('.wire').scrollIntoView()");
    driver.screenshot("62-wire-hosts");

    // The download, once the wire is quiet: the packets the wire view showed.
    let mut shown = 0;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(300));
        let now = driver.js("return document.querySelectorAll('.wire g.segment').length").as_u64().unwrap_or(0);
        if now == shown {
            break;
        }
        shown = now;
    }
    driver.js("document.querySelector('button.download-pcap').click()");
    driver.wait_for("the capture saved", "const n = document.querySelector('.pcap-note'); return !!n && n.textContent.startsWith('saved')");
    let file = downloads.path().join("socklab.pcapng");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() {
        assert!(Instant::now() < deadline, "no {} in {:?}", file.display(), std::fs::read_dir(downloads.path()).map(|d| d.count()));
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args(["-T", "fields", "-e", "frame.interface_name", "-e", "frame.comment"])
        .output()
        .expect("tshark runs (scripts/setup.sh installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let packets: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(packets.len() as u64, shown, "{packets:#?}");
    assert!(text(&driver, ".pcap-note").contains(&format!("{shown} packets")), "{}", text(&driver, ".pcap-note"));
    assert!(packets.iter().all(|p| p.starts_with("server—laptop\t")), "{packets:#?}");
    assert!(packets.iter().any(|p| p.contains("sent by laptop after line 14 (client)")), "the connect's line: {packets:#?}");
    assert!(packets.iter().any(|p| p.contains("sent by server after line")), "{packets:#?}");

    // The link controls keep the page accessible.
    let bad: Vec<_> = axe(&driver).into_iter().filter(|(impact, ..)| impact == "serious" || impact == "critical" || impact == "error").collect();
    assert!(bad.is_empty(), "axe found serious or critical violations:\n{bad:#?}");

    // A relay in host mode refuses links and has no capture: the page says so, in its words.
    let (_host_relay, host_url) = serve(&["--sandbox", "host"]);
    let (base, token) = host_url.split_once('#').unwrap();
    driver.goto(&format!("{base}#{token}&{}", socklab_frontend::share::encode(HOSTS_SCRIPT)));
    driver.wait_for("the host-mode relay's hello", "return !!document.querySelector('.status.open')");
    link_field(&driver, "delay", "10");
    driver.js("document.querySelector('form.link button.apply-link').click()");
    driver.wait_for("the refusal", "const e = document.querySelector('form.link .link-error'); return !!e && e.textContent.includes('host mode')");
    assert!(text(&driver, "form.link .link-now").contains("perfect"), "the link did not change");
    driver.js("document.querySelector('button.download-pcap').click()");
    driver.wait_for("no capture", "const n = document.querySelector('.pcap-note'); return !!n && n.textContent.startsWith('no capture') && n.textContent.includes('host mode')");
    driver.screenshot("65-host-mode-link-refused");
}

/// Share keeps the open lesson (and the script beside it); looking back, a
/// lane's status is the one recorded at that moment.
#[test]
fn share_keeps_the_lesson_and_looking_back_shows_each_lanes_status_then() {
    let (_relay, url) = serve(&[]);
    let driver = Driver::start();
    driver.goto(&format!("{url}&lesson=2"));
    driver.wait_for("the relay's hello", "return !!document.querySelector('.status.open')");
    driver.wait_for("lesson 2's panel", "const p = document.querySelector('.lesson-panel'); return !!p && p.dataset.lesson === '2'");
    driver.js(
        "const t = document.querySelector('textarea.code'); t.value = t.value + '\\nprint(\"mine\")\\n';
         t.dispatchEvent(new InputEvent('input', {bubbles: true}));",
    );
    driver.js("document.querySelector('button.share').click()");
    driver.wait_for("the share link", "return !!document.querySelector('.share-link input')");
    let link = driver.js("return document.querySelector('.share-link input').value").as_str().unwrap().to_owned();
    assert!(link.contains("#s=") && link.contains("&lesson=2") && !link.contains("token"), "{link}");
    driver.goto("about:blank");
    driver.goto(&link);
    driver.wait_for("lesson 2 from the shared link", "const p = document.querySelector('.lesson-panel'); return !!p && p.dataset.lesson === '2'");
    driver.wait_for("the shared script beside it", "return [...document.querySelectorAll('textarea.code')].some(t => t.value.includes('print(\"mine\")'))");
    driver.screenshot("63-shared-lesson");

    // The echo example, run: the server waits in accept while the client makes its socket.
    load_example(&driver, "TCP echo");
    run_to_end(&driver);
    let (_, stops, _) = timeline_at(&driver);
    let mut found = false;
    for n in 0..=stops {
        driver.js(&format!(
            "const s = document.querySelector('.timeline input.scrubber');
             s.value = '{n}'; s.dispatchEvent(new Event('input', {{bubbles: true}}));"
        ));
        if timeline_at(&driver).2.contains("cli = socket(") {
            found = true;
            break;
        }
    }
    assert!(found, "no client socket in the timeline: {}", text(&driver, ".timeline"));
    let server = lane_status(&driver, "server");
    assert!(server.starts_with("blocked (accept"), "the server was blocked in accept then, the page says {server:?}");
    assert_eq!(next_line(&driver, "server"), 6, "on its accept (line 6)");
    driver.screenshot("64-timeline-recorded-status");
    driver.js("document.querySelector('.timeline button.live').click()");
    driver.wait_for("live", "return !document.querySelector('.timeline').classList.contains('past')");
    assert_eq!(lane_status(&driver, "server"), "finished");
}
