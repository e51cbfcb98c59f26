//! Operations, against the real relay binary: readiness, graceful shutdown,
//! metrics, logs, and several worker processes.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Relay, wait_until};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use socklab_wire::protocol::{ErrorCode, ServerMsg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const AF_INET: i32 = 2;
const SOCK_STREAM: i32 = 1;

/// An HTTP response: status, head (lowercase), body.
#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: String,
}

/// One request on an open connection, kept alive; reads the response to its Content-Length.
async fn request(tcp: &mut TcpStream, port: u16, path: &str, extra: &str) -> Response {
    let text = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n");
    tcp.write_all(text.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut byte)).await.expect("an answer").unwrap();
        assert_eq!(n, 1, "connection closed mid-response: {}", String::from_utf8_lossy(&head));
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |n| n.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    tcp.read_exact(&mut body).await.unwrap();
    Response { status, head, body: String::from_utf8(body).unwrap() }
}

/// GET `path` on a new connection.
async fn get(port: u16, path: &str) -> Response {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("connects");
    request(&mut tcp, port, path, "").await
}

async fn readyz(relay: &Relay) -> (u16, String) {
    let response = get(relay.port, "/readyz").await;
    (response.status, response.body)
}

/// A session with sockets open: a listener, a connection both ways, and an accept pending.
async fn busy_session(relay: &Relay) -> Client {
    let mut c = relay.connect().await;
    let listener = c.socket(AF_INET, SOCK_STREAM).await;
    c.ok(json!({"op": "bind", "sock": listener, "addr": {"host": "127.0.0.1", "port": 0}})).await;
    c.ok(json!({"op": "listen", "sock": listener, "backlog": 4})).await;
    let name = c.ok(json!({"op": "getsockname", "sock": listener})).await;
    let client = c.socket(AF_INET, SOCK_STREAM).await;
    c.ok(json!({"op": "connect", "sock": client, "addr": name["addr"]})).await;
    c.ok(json!({"op": "accept", "sock": listener})).await;
    let waiting = c.start(json!({"op": "accept", "sock": listener})).await;
    assert_eq!(c.next_reply().await, ServerMsg::Pending { id: waiting });
    c
}

/// Read up to the relay's goodbye: the "shutting down" error, then a close frame with 1001.
async fn expect_goodbye(c: &mut Client) {
    loop {
        match c.next().await {
            ServerMsg::Error { id: None, code: ErrorCode::Internal, message } => {
                assert!(message.contains("shutting down"), "{message}");
                break;
            }
            ServerMsg::Event { .. } => {}
            other => panic!("expected the shutdown message, got {other:?}"),
        }
    }
    let frame = tokio::time::timeout(Duration::from_secs(10), c.ws.next()).await.expect("a close frame in time");
    match frame {
        Some(Ok(Message::Close(Some(close)))) => assert_eq!(u16::from(close.code), 1001, "{close:?}"),
        other => panic!("expected a close frame with 1001 Going Away, got {other:?}"),
    }
}

/// A session whose client never reads: it floods the relay with bad messages
/// until its own send blocks, so the relay's session is stuck writing answers.
async fn stuck_session(relay: &Relay) -> Client {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.set_send_buffer_size(4096).unwrap();
    let tcp = socket.connect(([127, 0, 0, 1], relay.port).into()).await.unwrap();
    let mut request = format!("ws://127.0.0.1:{}/ws", relay.port).into_client_request().unwrap();
    request.headers_mut().insert("Origin", relay.origin().parse().unwrap());
    let (ws, _) = tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(tcp)).await.unwrap();
    let mut c = Client::from_ws(ws);
    c.send_json(json!({"type": "hello", "version": 1, "token": relay.token})).await;
    assert!(matches!(c.next().await, ServerMsg::Hello { .. }));
    let junk = Message::Text("x".repeat(1000).into());
    // Each bad message earns an error answer that is never read; a send
    // that cannot finish for a second means every buffer on the way is full.
    for _ in 0..1_000_000 {
        match tokio::time::timeout(Duration::from_secs(1), c.ws.send(junk.clone())).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("the relay dropped the flooding client: {e}"),
            Err(_) => return c,
        }
    }
    panic!("the relay kept reading a client that never reads its answers")
}

#[tokio::test]
async fn readyz_is_full_at_max_sessions_and_ready_again_after() {
    let relay = Relay::start_with(&["--max-sessions", "1"]);
    assert_eq!(readyz(&relay).await, (200, "ready\n".into()));
    let c = relay.connect().await;
    assert_eq!(readyz(&relay).await, (503, "full\n".into()));
    c.close().await;
    assert_eq!(readyz(&relay).await, (200, "ready\n".into()));
}

#[tokio::test]
async fn sigterm_tells_every_session_closes_their_sockets_and_exits_zero() {
    let mut relay = Relay::start();
    let idle_fds = relay.fd_count();
    let mut sessions = vec![busy_session(&relay).await, busy_session(&relay).await];
    assert!(relay.fd_count() >= idle_fds + 2 * 5, "two WebSockets and their sockets are open");
    let signalled = Instant::now();
    relay.signal(libc::SIGTERM);
    for c in &mut sessions {
        expect_goodbye(c).await;
    }
    let status = relay.wait_for_exit(Duration::from_secs(10)).expect("the relay exits within --shutdown-timeout");
    let took = signalled.elapsed();
    assert!(status.success(), "{status:?}");
    eprintln!("shutdown with two busy sessions took {took:?}");
    assert!(took < Duration::from_secs(5), "sessions that end at once should not wait for the timeout: {took:?}");
}

#[tokio::test]
async fn a_hung_session_holds_the_exit_no_longer_than_shutdown_timeout() {
    let mut relay = Relay::start_with(&["--shutdown-timeout", "2s"]);
    // Two kept-alive connections opened before the shutdown.
    let mut kept = TcpStream::connect(("127.0.0.1", relay.port)).await.unwrap();
    assert_eq!(request(&mut kept, relay.port, "/readyz", "").await.status, 200);
    let mut kept_for_upgrade = TcpStream::connect(("127.0.0.1", relay.port)).await.unwrap();
    assert_eq!(request(&mut kept_for_upgrade, relay.port, "/healthz", "").await.status, 200);
    let _stuck = stuck_session(&relay).await;
    let mut busy = busy_session(&relay).await;
    let fds_with_busy = relay.fd_count();

    let signalled = Instant::now();
    relay.signal(libc::SIGINT);
    expect_goodbye(&mut busy).await;
    // The session's sockets close while the relay is still draining.
    wait_until("the busy session's sockets to close", Duration::from_secs(1), || relay.fd_count() + 5 <= fds_with_busy).await;

    let drain = request(&mut kept, relay.port, "/readyz", "").await;
    assert_eq!((drain.status, drain.body.as_str()), (503, "draining\n"));
    assert!(drain.head.contains("connection: close"), "{}", drain.head);
    let upgrade = "Origin: http://127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    assert_eq!(request(&mut kept_for_upgrade, relay.port, "/ws", upgrade).await.status, 503);
    // The listener closes as the drain begins; nothing tells the outside the
    // exact moment, so look a few times.
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", relay.port)).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "new connections are refused during the drain");

    let status = relay.wait_for_exit(Duration::from_secs(5)).expect("the relay exits soon after --shutdown-timeout");
    let took = signalled.elapsed();
    assert!(status.success(), "{status:?}");
    eprintln!("shutdown with a hung session took {took:?}");
    assert!(took >= Duration::from_millis(1900), "the hung session was waited for: {took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
}

/// A parsed exposition: every sample by `name{labels}` as written, after
/// checking the text is well-formed Prometheus text format 0.0.4.
fn parse_exposition(text: &str) -> std::collections::BTreeMap<String, f64> {
    use std::collections::{BTreeMap, HashMap};
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helps = std::collections::HashSet::new();
    let mut samples = BTreeMap::new();
    let valid_name = |name: &str| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    };
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has a text");
            assert!(valid_name(name) && !help.is_empty(), "{line}");
            assert!(helps.insert(name.to_string()), "HELP twice for {name}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
            assert!(valid_name(name), "{line}");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(types.insert(name.to_string(), kind.to_string()).is_none(), "TYPE twice for {name}");
            assert!(!samples.keys().any(|k: &String| k.starts_with(name)), "TYPE after samples of {name}");
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "unexpected line {line:?}");
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, Some(labels.strip_suffix('}').expect("labels close"))),
            None => (series, None),
        };
        assert!(valid_name(name), "{line}");
        for pair in labels.into_iter().flat_map(|l| l.split(',')) {
            let (key, quoted) = pair.split_once('=').expect("label=value");
            assert!(valid_name(key), "{line}");
            assert!(quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"'), "{line}");
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix).filter(|base| types.get(*base).is_some_and(|k| k == "histogram")))
            .unwrap_or(name);
        let kind = types.get(family).unwrap_or_else(|| panic!("no TYPE before {line}"));
        assert!(helps.contains(family), "no HELP for {family}");
        if kind == "counter" {
            assert!(family.ends_with("_total"), "a counter is named *_total: {family}");
        }
        assert!(value >= 0.0, "{line}");
        assert!(samples.insert(series.to_string(), value).is_none(), "{series} twice");
    }
    // Histograms: cumulative buckets ending in +Inf, which equals the count.
    for (family, _) in types.iter().filter(|(_, kind)| *kind == "histogram") {
        let buckets: Vec<f64> =
            samples.iter().filter(|(k, _)| k.starts_with(&format!("{family}_bucket{{"))).map(|(_, v)| *v).collect();
        let infinite = samples[&format!("{family}_bucket{{le=\"+Inf\"}}")];
        assert!(buckets.iter().all(|b| *b <= infinite), "{family}: a bucket above +Inf");
        assert_eq!(infinite, samples[&format!("{family}_count")], "{family}: +Inf is the count");
    }
    samples
}

/// `/metrics` from loopback, checked and parsed.
async fn scrape(port: u16) -> std::collections::BTreeMap<String, f64> {
    let response = get(port, "/metrics").await;
    assert_eq!(response.status, 200, "{response:?}");
    assert!(response.head.contains("content-type: text/plain; version=0.0.4"), "{}", response.head);
    parse_exposition(&response.body)
}

#[tokio::test]
async fn metrics_count_a_sessions_calls_bytes_and_errors_exactly() {
    let relay = Relay::start_with(&["--max-sockets", "3"]);
    let before = scrape(relay.port).await;
    assert_eq!(before["socklab_sessions_open"], 0.0);
    assert_eq!(before["socklab_draining"], 0.0);

    let mut c = relay.connect_raw().await;
    c.send_json(json!({"type": "hello", "version": 1, "token": relay.token})).await;
    let ServerMsg::Hello { mode, .. } = c.next().await else { panic!("no hello") };
    let listener = c.socket(AF_INET, SOCK_STREAM).await;
    c.ok(json!({"op": "bind", "sock": listener, "addr": {"host": "127.0.0.1", "port": 0}})).await;
    c.ok(json!({"op": "listen", "sock": listener, "backlog": 4})).await;
    let name = c.ok(json!({"op": "getsockname", "sock": listener})).await;
    let client = c.socket(AF_INET, SOCK_STREAM).await;
    c.ok(json!({"op": "connect", "sock": client, "addr": name["addr"]})).await;
    let accepted = c.ok(json!({"op": "accept", "sock": listener})).await;
    let conn = accepted["info"]["sock"].as_u64().unwrap();
    c.ok(json!({"op": "send", "sock": client, "data": common::b64(b"hello")})).await;
    let got = c.ok(json!({"op": "recv", "sock": conn, "n": 100})).await;
    assert_eq!(common::unb64(&got["data"]), b"hello");
    let waiting = c.start(json!({"op": "recv", "sock": conn, "n": 100})).await;
    assert_eq!(c.next_reply().await, ServerMsg::Pending { id: waiting });
    c.send_json(json!({"type": "cancel", "id": waiting})).await;
    c.answer(waiting).await;
    // An errno, a refusal by the executor, a limit, and a malformed message.
    let no_peer = c.call(json!({"op": "getpeername", "sock": listener})).await;
    assert!(matches!(no_peer, ServerMsg::Result { outcome: socklab_wire::protocol::Outcome::Err { .. }, .. }), "{no_peer:?}");
    let unknown = c.call(json!({"op": "connect", "sock": 99, "addr": name["addr"]})).await;
    assert!(matches!(unknown, ServerMsg::Error { code: ErrorCode::UnknownSocket, .. }), "{unknown:?}");
    let fourth = c.call(json!({"op": "socket", "family": AF_INET, "type": SOCK_STREAM})).await;
    assert!(matches!(fourth, ServerMsg::Error { code: ErrorCode::LimitExceeded, .. }), "{fourth:?}");
    c.send_text("{").await;
    assert!(matches!(c.next_reply().await, ServerMsg::Error { code: ErrorCode::InvalidJson, .. }));
    c.ok(json!({"op": "close", "sock": client})).await;

    let m = scrape(relay.port).await;
    let namespaces = if mode == socklab_wire::protocol::SandboxMode::Namespace { 1.0 } else { 0.0 };
    let expected = [
        ("socklab_sessions_open", 1.0),
        ("socklab_sessions_total", 1.0),
        ("socklab_websocket_connections_open", 1.0),
        ("socklab_sockets_open", 2.0),
        ("socklab_namespaces_in_use", namespaces),
        ("socklab_draining", 0.0),
        ("socklab_calls_total{op=\"socket\",result=\"ok\"}", 2.0),
        ("socklab_calls_total{op=\"socket\",result=\"refused\"}", 1.0),
        ("socklab_calls_total{op=\"bind\",result=\"ok\"}", 1.0),
        ("socklab_calls_total{op=\"listen\",result=\"ok\"}", 1.0),
        ("socklab_calls_total{op=\"getsockname\",result=\"ok\"}", 1.0),
        ("socklab_calls_total{op=\"connect\",result=\"ok\"}", 1.0),
        ("socklab_calls_total{op=\"connect\",result=\"refused\"}", 1.0),
        ("socklab_calls_total{op=\"accept\",result=\"ok\"}", 1.0),
        ("socklab_calls_total{op=\"send\",result=\"ok\"}", 1.0),
        ("socklab_calls_total{op=\"recv\",result=\"ok\"}", 1.0),
        ("socklab_calls_total{op=\"recv\",result=\"cancelled\"}", 1.0),
        ("socklab_calls_total{op=\"getpeername\",result=\"errno\"}", 1.0),
        ("socklab_calls_total{op=\"close\",result=\"ok\"}", 1.0),
        ("socklab_calls_total{op=\"sendall\",result=\"ok\"}", 0.0),
        ("socklab_protocol_errors_total{code=\"unknown_socket\"}", 1.0),
        ("socklab_protocol_errors_total{code=\"limit_exceeded\"}", 1.0),
        ("socklab_protocol_errors_total{code=\"invalid_json\"}", 1.0),
        ("socklab_protocol_errors_total{code=\"unauthorized\"}", 0.0),
        ("socklab_limits_hit_total{limit=\"max-sockets\"}", 1.0),
        ("socklab_limits_hit_total{limit=\"max-sessions\"}", 0.0),
        ("socklab_bytes_total{direction=\"sent\"}", 5.0),
        ("socklab_bytes_total{direction=\"received\"}", 5.0),
        ("socklab_session_setup_seconds_count", 1.0),
    ];
    for (series, value) in expected {
        assert_eq!(m.get(series), Some(&value), "{series}");
    }
    let calls: f64 = m.iter().filter(|(k, _)| k.starts_with("socklab_calls_total")).map(|(_, v)| v).sum();
    assert_eq!(calls, 14.0, "every call counted once");
    assert!(m["socklab_session_setup_seconds_sum"] > 0.0);

    c.close().await;
    // A session's sockets close on the relay's reaper thread, just after the session ends.
    let mut after = scrape(relay.port).await;
    for _ in 0..100 {
        if after["socklab_sockets_open"] == 0.0 && after["socklab_namespaces_in_use"] == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        after = scrape(relay.port).await;
    }
    assert_eq!(after["socklab_sessions_open"], 0.0);
    assert_eq!(after["socklab_sockets_open"], 0.0);
    assert_eq!(after["socklab_namespaces_in_use"], 0.0);
    assert_eq!(after["socklab_sessions_total"], 1.0);
}

#[tokio::test]
async fn metrics_are_for_loopback_or_the_metrics_token_only() {
    let relay = Relay::start();
    let mut tcp = TcpStream::connect(("127.0.0.1", relay.port)).await.unwrap();
    let proxied = request(&mut tcp, relay.port, "/metrics", "X-Forwarded-For: 203.0.113.9\r\n").await;
    assert_eq!(proxied.status, 403, "a request through a proxy is not a loopback client");
    drop(relay);

    let secret = "metrics-secret-0123456789";
    let relay = Relay::start_with(&["--metrics-token", secret]);
    let mut tcp = TcpStream::connect(("127.0.0.1", relay.port)).await.unwrap();
    assert_eq!(request(&mut tcp, relay.port, "/metrics", "").await.status, 401);
    let wrong = format!("Authorization: Bearer {}\r\n", relay.token);
    assert_eq!(request(&mut tcp, relay.port, "/metrics", &wrong).await.status, 401, "the session token is not the metrics token");
    let right = format!("Authorization: Bearer {secret}\r\nX-Forwarded-For: 203.0.113.9\r\n");
    let response = request(&mut tcp, relay.port, "/metrics", &right).await;
    assert_eq!(response.status, 200);
    parse_exposition(&response.body);
    assert!(!response.body.contains(&relay.token) && !response.body.contains(secret));
}

/// A relay whose log (stderr) goes to a file, with `RUST_LOG` and extra flags.
fn relay_logging_to(log: &std::path::Path, rust_log: &str, extra: &[&str]) -> Relay {
    let mut command = std::process::Command::new(common::BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", rust_log)
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap());
    Relay::from_command(command)
}

/// A short session: a socket pair, a few bytes each way, then goodbye.
async fn short_session(relay: &Relay) {
    let mut c = busy_session(relay).await;
    let udp = c.socket(AF_INET, 2).await;
    c.ok(json!({"op": "bind", "sock": udp, "addr": {"host": "127.0.0.1", "port": 0}})).await;
    let name = c.ok(json!({"op": "getsockname", "sock": udp})).await;
    c.ok(json!({"op": "sendto", "sock": udp, "data": common::b64(b"ping"), "addr": name["addr"]})).await;
    c.ok(json!({"op": "recvfrom", "sock": udp, "n": 10})).await;
    c.close().await;
}

#[tokio::test]
async fn the_token_appears_in_no_log_line_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("relay.log");
    // Asking for tungstenite's own traces too: they dump whole frames, hello included.
    let mut relay = relay_logging_to(&log, "trace,tungstenite=trace,tokio_tungstenite=trace", &[]);
    short_session(&relay).await;
    // A wrong token and a hello over the limit are logged as refusals, without the token either.
    let mut wrong = relay.connect_raw().await;
    wrong.send_json(json!({"type": "hello", "version": 1, "token": format!("{}0", relay.token)})).await;
    assert!(matches!(wrong.next().await, ServerMsg::Error { code: ErrorCode::Unauthorized, .. }));
    relay.signal(libc::SIGTERM);
    assert!(relay.wait_for_exit(Duration::from_secs(10)).expect("exits").success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("session started") && text.contains("session ended"), "the trace has the session lines:\n{text}");
    assert!(text.contains(" DEBUG "), "the verbose levels are on:\n{text}");
    assert!(!text.contains(&relay.token), "the token is in the log");
    // Nor any long piece of it (a hex dump or a split frame would not match whole).
    for piece in relay.token.as_bytes().chunks(16) {
        assert!(!text.contains(std::str::from_utf8(piece).unwrap()), "part of the token is in the log");
    }
}

#[tokio::test]
async fn json_logs_have_one_line_per_session_start_and_end_with_totals() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("relay.log");
    let mut relay = relay_logging_to(&log, "info", &["--log-json"]);
    short_session(&relay).await;
    relay.signal(libc::SIGTERM);
    assert!(relay.wait_for_exit(Duration::from_secs(10)).expect("exits").success());
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}"))).collect();
    let with = |message: &str| -> Vec<&serde_json::Value> {
        lines.iter().filter(|l| l["fields"]["message"] == message).collect()
    };
    let (started, ended) = (with("session started"), with("session ended"));
    assert_eq!((started.len(), ended.len()), (1, 1), "{text}");
    let (started, ended) = (started[0], ended[0]);
    assert_eq!(started["level"], "INFO");
    assert!(started["span"]["peer"].as_str().is_some_and(|p| p.starts_with("127.0.0.1:")), "{started}");
    assert!(started["fields"]["mode"].is_string() && started["fields"]["setup_ms"].as_f64().is_some(), "{started}");
    assert_eq!(ended["span"]["peer"], started["span"]["peer"]);
    let fields = &ended["fields"];
    // busy_session: 2 sockets, bind, listen, getsockname, connect, accept, accept (pending: cancelled at the end);
    // then socket, bind, getsockname, sendto, recvfrom.
    assert_eq!(fields["calls"], 13, "{ended}");
    assert_eq!(fields["sockets"], 4, "{ended}");
    assert_eq!((fields["bytes_sent"].as_u64(), fields["bytes_received"].as_u64()), (Some(4), Some(4)), "{ended}");
    assert_eq!((fields["errno"].as_u64(), fields["errors"].as_u64()), (Some(0), Some(0)), "{ended}");
    assert_eq!(fields["ended"], "client closed");
    assert!(fields["duration_s"].as_f64().is_some_and(|d| d > 0.0), "{ended}");
    assert!(!text.contains(&relay.token));
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else { continue };
        // The parent's pid is the second field after the command, which is in parentheses.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        if after.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            found.push(child);
        }
    }
    found.sort();
    found
}

/// A session and the worker that serves it (`socklab 0.1.0 (worker 1/2)` in the hello).
async fn session_on_a_worker(relay: &Relay) -> Result<(Client, String), ServerMsg> {
    let mut c = relay.connect_raw().await;
    c.send_json(json!({"type": "hello", "version": 1, "token": relay.token})).await;
    match c.next().await {
        ServerMsg::Hello { server, .. } => {
            let worker = server.split("(worker ").nth(1).and_then(|w| w.strip_suffix(')')).expect("a worker's name");
            Ok((c, worker.to_string()))
        }
        other => Err(other),
    }
}

/// Read a session to its end: `true` for the relay's goodbye (the shutdown
/// message, then a close frame with 1001), `false` for a connection that just ended.
async fn said_goodbye(c: &mut Client) -> bool {
    let mut told = false;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), c.ws.next()).await.expect("the session ends within 10 s") {
            Some(Ok(Message::Text(text))) => told |= text.contains("the relay is shutting down"),
            Some(Ok(Message::Close(Some(close)))) => return told && u16::from(close.code) == 1001,
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return false,
        }
    }
}

/// Look at something another process does on its own time (a restart), until `done` or 10 s.
async fn eventually<T>(what: &str, mut done: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = done().await {
            return found;
        }
        assert!(Instant::now() < deadline, "{what} did not happen within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_workers_share_sessions_metrics_and_limits_and_stop_together() {
    let mut relay = Relay::start_with(&["--workers", "2", "--max-sessions", "4", "--shutdown-timeout", "3s"]);
    let supervisor = relay.pid();
    let first_workers = eventually("two workers", async || Some(children(supervisor)).filter(|c| c.len() == 2)).await;

    // The kernel spreads connections over the workers' SO_REUSEPORT listeners:
    // keep one session on each (closing the others) and count every session opened.
    let mut held: std::collections::BTreeMap<String, Client> = Default::default();
    let mut opened = 0;
    while held.len() < 2 {
        assert!(opened < 200, "200 sessions all landed on one worker");
        let (c, worker) = session_on_a_worker(&relay).await.unwrap();
        opened += 1;
        match held.entry(worker) {
            std::collections::btree_map::Entry::Occupied(_) => c.close().await,
            std::collections::btree_map::Entry::Vacant(place) => {
                place.insert(c);
            }
        }
    }
    assert_eq!(held.keys().collect::<Vec<_>>(), ["1/2", "2/2"]);
    for c in held.values_mut() {
        c.socket(AF_INET, SOCK_STREAM).await;
    }

    // Any worker's /metrics adds up both.
    let mut answered = std::collections::BTreeSet::new();
    for scrapes in 0.. {
        if answered.len() == 2 {
            break;
        }
        assert!(scrapes < 200, "200 scrapes all answered by one worker");
        let response = get(relay.port, "/metrics").await;
        let worker = response.head.lines().find_map(|l| l.strip_prefix("x-socklab-worker: ")).unwrap().to_string();
        let m = parse_exposition(&response.body);
        assert_eq!(m["socklab_sessions_open"], 2.0, "from worker {worker}");
        assert_eq!(m["socklab_sessions_total"], f64::from(opened), "from worker {worker}");
        assert_eq!(m["socklab_sockets_open"], 2.0, "from worker {worker}");
        assert_eq!(m["socklab_calls_total{op=\"socket\",result=\"ok\"}"], 2.0, "from worker {worker}");
        answered.insert(worker);
    }

    // --max-sessions holds across the workers: two more, then no more, whichever worker answers.
    let mut more = [session_on_a_worker(&relay).await.unwrap().0, session_on_a_worker(&relay).await.unwrap().0];
    for _ in 0..4 {
        match session_on_a_worker(&relay).await {
            Err(ServerMsg::Error { code: ErrorCode::LimitExceeded, message, .. }) => assert!(message.contains("--max-sessions"), "{message}"),
            other => panic!("a fifth session was not refused: {:?}", other.map(|(_, worker)| worker)),
        }
    }

    // A worker that dies is replaced; its sessions leave the gauges, the counters stay.
    let killed = first_workers[0];
    // SAFETY: kill on a pid of the relay's.
    unsafe { libc::kill(killed as i32, libc::SIGKILL) };
    let now = eventually("a new worker", async || {
        let now = children(supervisor);
        (now.len() == 2 && !now.contains(&killed)).then_some(now)
    })
    .await;
    let m = eventually("the dead worker's sessions to leave the gauge", async || {
        let m = scrape(relay.port).await;
        (m["socklab_sessions_open"] < 4.0).then_some(m)
    })
    .await;
    assert!(m["socklab_sessions_open"] >= 1.0, "the other worker's sessions are still open");
    assert_eq!(m["socklab_sessions_total"], f64::from(opened + 2), "counters survive the restart");

    // SIGTERM: every session still open is told, the supervisor and every worker exit in time.
    let signalled = Instant::now();
    relay.signal(libc::SIGTERM);
    let mut told = 0;
    for c in held.values_mut().chain(more.iter_mut()) {
        told += usize::from(said_goodbye(c).await);
    }
    // One held session was on each worker: the killed one's are gone, the other's were told.
    assert!((1..4).contains(&told), "{told} of 4 sessions told");
    let status = relay.wait_for_exit(Duration::from_secs(8)).expect("the supervisor exits");
    assert!(status.success(), "{status:?}");
    eprintln!("two workers stopped in {:?}", signalled.elapsed());
    for pid in first_workers.iter().chain(&now) {
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "worker {pid} left behind");
    }
}

#[tokio::test]
async fn the_default_session_limit_fits_the_open_files_limit() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("relay.log");
    let mut command = std::process::Command::new(common::BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--log-json", "--max-sessions-per-token", "1000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap());
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 200, rlim_max: 200 };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let relay = Relay::from_command(command);
    let text = std::fs::read_to_string(&log).unwrap();
    let capacity: serde_json::Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["fields"]["message"] == "session capacity")
        .unwrap_or_else(|| panic!("no capacity line in\n{text}"));
    let fields = &capacity["fields"];
    assert_eq!(fields["nofile"], 200);
    let max = fields["max_sessions"].as_u64().unwrap();
    assert_eq!(fields["sessions_per_process"].as_u64(), Some(max));
    assert!((5..50).contains(&max), "{capacity}");

    // Every session the relay admits can open its sockets; the next one is refused at the hello.
    let mut sessions = Vec::new();
    for _ in 0..max {
        let mut c = relay.connect().await;
        for _ in 0..4 {
            c.socket(AF_INET, SOCK_STREAM).await;
        }
        sessions.push(c);
    }
    assert_eq!(readyz(&relay).await, (503, "full\n".into()));
    let mut refused = relay.connect_raw().await;
    refused.send_json(json!({"type": "hello", "version": 1, "token": relay.token})).await;
    match refused.next().await {
        ServerMsg::Error { code: ErrorCode::LimitExceeded, message, .. } => assert!(message.contains("--max-sessions"), "{message}"),
        other => panic!("session {} past the open-files limit was not refused: {other:?}", max + 1),
    }
    sessions.pop().unwrap().close().await;
    assert_eq!(readyz(&relay).await, (200, "ready\n".into()));
}

/// `--threads N` serves every connection on N session threads, each to its end.
#[tokio::test]
async fn sessions_are_served_on_the_threads_asked_for() {
    let relay = Relay::start_with(&["--threads", "3", "--busy-poll", "0"]);
    let pid = relay.pid();
    let core_threads = move || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .map(|name| name.trim().to_string())
            .filter(|name| name.starts_with("socklab-core"))
            .collect();
        names.sort();
        names
    };
    // A thread names itself once it runs, which may be a moment after it was started.
    wait_until("three named session threads", Duration::from_secs(5), || core_threads().len() == 3).await;
    assert_eq!(core_threads(), ["socklab-core-0", "socklab-core-1", "socklab-core-2"]);
    // Six sessions at once, on the three threads: each does real work.
    let mut sessions = Vec::new();
    for _ in 0..6 {
        sessions.push(busy_session(&relay).await);
    }
    for c in sessions {
        c.close().await;
    }
}

/// `socketpair` is the real socketpair(2): two registered sockets that talk to
/// each other, each closed on its own.
#[tokio::test]
async fn socketpair_makes_two_connected_sockets() {
    let relay = Relay::start();
    let mut c = relay.connect().await;
    let pair = c.ok(json!({"op": "socketpair"})).await;
    assert_eq!(pair["kind"], "pair");
    let (a, b) = (pair["a"]["sock"].as_u64().unwrap(), pair["b"]["sock"].as_u64().unwrap());
    assert_ne!(a, b);
    assert_eq!(pair["a"]["family"], 1);
    assert_eq!(pair["b"]["type"], SOCK_STREAM);
    c.ok(json!({"op": "sendall", "sock": a, "data": common::b64(b"ping")})).await;
    let got = c.ok(json!({"op": "recv", "sock": b, "n": 100})).await;
    assert_eq!(common::unb64(&got["data"]), b"ping");
    c.ok(json!({"op": "close", "sock": a})).await;
    let eof = c.ok(json!({"op": "recv", "sock": b, "n": 100})).await;
    assert_eq!(common::unb64(&eof["data"]), b"");
    let dgram = c.ok(json!({"op": "socketpair", "family": 1, "type": 2})).await;
    assert_eq!(dgram["a"]["type"], 2);
    c.ok(json!({"op": "close", "sock": b})).await;
    c.close().await;
}
