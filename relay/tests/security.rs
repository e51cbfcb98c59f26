//! Attacks on the real relay binary, over loopback: cross-site and rebinding
//! upgrades, tokens, destinations and Unix paths outside the sandbox,
//! oversized frames, slow handshakes, every limit, and many sessions dropped
//! at once. Each test says what it proves; SECURITY.md says why it matters.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Client, Relay, b64, wait_until};
use futures::StreamExt;
use serde_json::{Value, json};
use socklab_wire::protocol::{ErrorCode, Outcome, ServerMsg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

const AF_INET: i32 = 2;
const AF_UNIX: i32 = 1;
const AF_INET6: i32 = 10;
const SOCK_STREAM: i32 = 1;
const SOCK_DGRAM: i32 = 2;
const SOCK_RAW: i32 = 3;

/// Send an upgrade request with exactly these headers; the status code (0: none).
async fn upgrade_status(port: u16, host: Option<&str>, origin: Option<&str>) -> u16 {
    let (status, _) = upgrade(port, host, origin).await;
    status
}

/// The raw WebSocket handshake; the status and, on 101, the open connection.
async fn upgrade(port: u16, host: Option<&str>, origin: Option<&str>) -> (u16, Option<TcpStream>) {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("connects");
    let mut request = String::from("GET /ws HTTP/1.1\r\n");
    if let Some(host) = host {
        request += &format!("Host: {host}\r\n");
    }
    if let Some(origin) = origin {
        request += &format!("Origin: {origin}\r\n");
    }
    request += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    request += "Sec-WebSocket-Version: 13\r\n\r\n";
    tcp.write_all(request.as_bytes()).await.unwrap();
    // Read the response head byte by byte so nothing after it is consumed.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut byte)).await {
            Ok(Ok(1)) => head.push(byte[0]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&head);
    let status = text.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    (status, (status == 101).then_some(tcp))
}

/// A protocol client over a connection upgraded by hand.
async fn client_over(tcp: TcpStream) -> Client {
    let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
        tokio_tungstenite::MaybeTlsStream::Plain(tcp),
        Role::Client,
        None,
    )
    .await;
    Client::from_ws(ws)
}

/// Tests that measure time, memory or fds of a relay take turns: two at once on
/// a small machine (a thousand namespaces being made and torn down) starve each other.
static MEASURING: std::sync::LazyLock<tokio::sync::Mutex<()>> = std::sync::LazyLock::new(Default::default);

/// Network namespaces the process holds: open `net:[…]` fds and its threads' namespaces.
fn net_namespaces(pid: u32) -> std::collections::BTreeSet<String> {
    let links = |dir: String| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok()).map(|l| l.display().to_string()).collect())
            .unwrap_or_default()
    };
    let mut found: std::collections::BTreeSet<String> =
        links(format!("/proc/{pid}/fd")).into_iter().filter(|l| l.starts_with("net:[")).collect();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten() {
        if let Ok(ns) = std::fs::read_link(task.path().join("ns/net")) {
            found.insert(ns.display().to_string());
        }
    }
    found
}

fn limit_error(msg: &ServerMsg, needle: &str) -> bool {
    matches!(msg, ServerMsg::Error { code: ErrorCode::LimitExceeded, message, .. } if message.contains(needle))
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}


/// Every Origin trick against every Host trick: only the relay's own origins
/// with the relay's own hosts get a WebSocket. Zero wrong accepts, zero wrong refusals.
#[tokio::test]
async fn origin_and_host_matrix_has_no_wrong_answers() {
    let relay = Relay::start();
    let p = relay.port;
    let q = p.wrapping_add(1);
    let own_origins = [format!("http://127.0.0.1:{p}"), format!("http://localhost:{p}"), format!("http://[::1]:{p}")];
    let bad_origins = [
        format!("http://127.0.0.1:{p}.evil.example"),
        format!("http://localhost:{p}.evil.example"),
        format!("http://evil.example/http://127.0.0.1:{p}"),
        format!("http://127.0.0.1:{p}@evil.example"),
        format!("http://evil.example#127.0.0.1:{p}"),
        format!("http://evil-127.0.0.1:{p}"),
        format!("http://x127.0.0.1:{p}"),
        format!("http://sub.localhost:{p}"),
        format!("http://localhost.:{p}"),
        format!("http://127.0.0.1.:{p}"),
        format!("http://127.0.0.2:{p}"),
        format!("http://0.0.0.0:{p}"),
        format!("http://[::ffff:127.0.0.1]:{p}"),
        format!("http://127.0.0.1:{q}"),
        format!("http://127.0.0.1:0{p}"),
        "http://127.0.0.1".to_string(),
        "http://localhost".to_string(),
        format!("https://127.0.0.1:{p}"),
        format!("ws://127.0.0.1:{p}"),
        format!("HTTP://127.0.0.1:{p}"),
        format!("http://LOCALHOST:{p}"),
        format!("http://127.0.0.1:{p}/"),
        "null".to_string(),
        "file://".to_string(),
        "chrome-extension://abcdefghijklmnop".to_string(),
        "http://evil.example".to_string(),
        String::new(),
    ];
    let own_hosts =
        [format!("127.0.0.1:{p}"), format!("localhost:{p}"), format!("[::1]:{p}"), format!("LOCALHOST:{p}")];
    let bad_hosts = [
        "evil.example".to_string(),
        format!("evil.example:{p}"),
        format!("127.0.0.1:{p}.evil.example"),
        format!("localhost.evil.example:{p}"),
        format!("127.0.0.1.evil.example:{p}"),
        format!("127.0.0.1.:{p}"),
        format!("localhost.:{p}"),
        format!("127.0.0.2:{p}"),
        format!("0.0.0.0:{p}"),
        format!("127.1:{p}"),
        format!("2130706433:{p}"),
        format!("[::ffff:127.0.0.1]:{p}"),
        format!("127.0.0.1:{q}"),
        "127.0.0.1".to_string(),
        "localhost".to_string(),
        String::new(),
    ];

    let origins: Vec<(Option<&str>, bool)> = own_origins
        .iter()
        .map(|o| (Some(o.as_str()), true))
        .chain(bad_origins.iter().map(|o| (Some(o.as_str()), false)))
        .chain([(None, false)])
        .collect();
    let hosts: Vec<(Option<&str>, bool)> = own_hosts
        .iter()
        .map(|h| (Some(h.as_str()), true))
        .chain(bad_hosts.iter().map(|h| (Some(h.as_str()), false)))
        .chain([(None, false)])
        .collect();
    let (mut wrong_accepts, mut wrong_refusals, mut cases) = (Vec::new(), Vec::new(), 0);
    for &(origin, origin_ok) in &origins {
        for &(host, host_ok) in &hosts {
            cases += 1;
            let status = upgrade_status(p, host, origin).await;
            let want = origin_ok && host_ok;
            if status == 101 && !want {
                wrong_accepts.push(format!("Origin {origin:?} Host {host:?}"));
            } else if status != 101 && want {
                wrong_refusals.push(format!("Origin {origin:?} Host {host:?}: {status}"));
            } else if status != 101 {
                assert!(matches!(status, 400 | 403), "Origin {origin:?} Host {host:?}: status {status}");
            }
        }
    }
    eprintln!(
        "{cases} Origin x Host cases: {} wrong accepts, {} wrong refusals",
        wrong_accepts.len(),
        wrong_refusals.len()
    );
    assert!(wrong_accepts.is_empty(), "accepted: {wrong_accepts:#?}");
    assert!(wrong_refusals.is_empty(), "refused: {wrong_refusals:#?}");
}

/// A page on evil.example that rebinds its name to 127.0.0.1 reaches the relay
/// with its own name in Host (and Origin): refused, even with the page's own Origin.
#[tokio::test]
async fn dns_rebinding_hosts_are_refused() {
    let relay = Relay::start();
    let p = relay.port;
    for name in
        ["rebind.evil.example", "127.0.0.1.nip.io", "localtest.me", "7f000001.rbndr.us", "localhost.localdomain"]
    {
        let host = format!("{name}:{p}");
        let origin = format!("http://{name}:{p}");
        assert_eq!(upgrade_status(p, Some(&host), Some(&origin)).await, 403, "{host}");
        assert_eq!(upgrade_status(p, Some(&host), Some(&relay.origin())).await, 403, "{host} with our Origin");
    }
    // The same request with the relay's own names is accepted.
    assert_eq!(upgrade_status(p, Some(&format!("localhost:{p}")), Some(&relay.origin())).await, 101);
}

/// Allowlisted hosts and origins are matched exactly, too.
#[tokio::test]
async fn configured_hosts_and_origins_match_exactly() {
    let relay =
        Relay::start_with(&["--allow-host", "lab.example.org", "--allow-origin", "https://teacher.example.org"]);
    let p = relay.port;
    let cases = [
        ("lab.example.org", "https://lab.example.org", 101),
        ("LAB.example.org", "https://lab.example.org", 101),
        ("lab.example.org", "https://teacher.example.org", 101),
        ("lab.example.org.evil.example", "https://lab.example.org", 403),
        ("evil-lab.example.org", "https://lab.example.org", 403),
        ("lab.example.org", "https://lab.example.org.evil.example", 403),
        ("lab.example.org", "https://teacher.example.org.evil.example", 403),
        ("lab.example.org", "https://Teacher.example.org", 403),
        ("lab.example.org", "https://evilteacher.example.org", 403),
    ];
    for (host, origin, want) in cases {
        assert_eq!(upgrade_status(p, Some(host), Some(origin)).await, want, "Host {host} Origin {origin}");
    }
}

/// Without --allow-missing-origin an upgrade with no Origin is refused; with it, accepted (the token still applies).
#[tokio::test]
async fn a_missing_origin_is_refused_unless_allowed() {
    let relay = Relay::start();
    let host = format!("127.0.0.1:{}", relay.port);
    assert_eq!(upgrade_status(relay.port, Some(&host), None).await, 403);
    let relay = Relay::start_with(&["--allow-missing-origin"]);
    let host = format!("127.0.0.1:{}", relay.port);
    let (status, tcp) = upgrade(relay.port, Some(&host), None).await;
    assert_eq!(status, 101);
    let mut c = client_over(tcp.unwrap()).await;
    c.send_json(json!({"type": "hello", "version": 1})).await;
    assert!(matches!(c.next().await, ServerMsg::Error { code: ErrorCode::Unauthorized, .. }));
}

/// Missing, wrong, truncated, extended and right tokens; the token never shows in the relay's logs.
#[tokio::test]
async fn tokens_missing_wrong_or_right() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let (port, token) = line.trim().strip_prefix("http://127.0.0.1:").unwrap().split_once("/#token=").unwrap();
    assert_eq!(token.len(), 64, "32 random bytes, hex");
    let relay_port: u16 = port.parse().unwrap();
    let origin = format!("http://127.0.0.1:{relay_port}");
    let host = format!("127.0.0.1:{relay_port}");

    let mut flipped = token.to_string().into_bytes();
    flipped[63] = if flipped[63] == b'0' { b'1' } else { b'0' };
    let wrong = [
        None,
        Some(String::new()),
        Some("0".repeat(64)),
        Some(String::from_utf8(flipped).unwrap()),
        Some(token[..63].to_string()),
        Some(format!("{token}0")),
        Some(token.to_uppercase()),
    ];
    for given in wrong {
        let (_, tcp) = upgrade(relay_port, Some(&host), Some(&origin)).await;
        let mut c = client_over(tcp.unwrap()).await;
        let mut hello = json!({"type": "hello", "version": 1});
        if let Some(given) = &given {
            hello["token"] = json!(given);
        }
        c.send_json(hello).await;
        assert!(matches!(c.next().await, ServerMsg::Error { code: ErrorCode::Unauthorized, .. }), "{given:?}");
        // And the relay closes the connection.
        let end = tokio::time::timeout(Duration::from_secs(5), c.ws.next()).await.expect("closed in time");
        assert!(matches!(end, None | Some(Err(_)) | Some(Ok(Message::Close(_)))), "{end:?}");
    }
    let (_, tcp) = upgrade(relay_port, Some(&host), Some(&origin)).await;
    let mut c = client_over(tcp.unwrap()).await;
    c.send_json(json!({"type": "hello", "version": 1, "token": token})).await;
    assert!(matches!(c.next().await, ServerMsg::Hello { .. }));
    c.ok(json!({"op": "socket", "family": AF_INET, "type": SOCK_STREAM})).await;
    c.close().await;
    let _ = child.kill();
    let _ = child.wait();
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(!logged.is_empty(), "trace logs were written");
    assert!(!logged.contains(token), "the token appears in the relay's logs");
}

/// Destinations in host mode: loopback only, every encoding unwrapped, never the relay's own port;
/// binds unprivileged, no raw sockets; an operator's allowlist opens exactly its ranges.
#[tokio::test]
async fn host_mode_destinations_are_fenced() {
    let relay = Relay::start_with(&["--sandbox", "host"]);
    let mut c = relay.connect().await;
    let peer = c.ok(json!({"op": "lab_peer", "kind": "echo"})).await;
    let echo_port = peer["addr"]["port"].as_u64().unwrap();
    let refused: Vec<(i32, String, u64)> = vec![
        (AF_INET, "10.0.0.1".into(), 80),
        (AF_INET, "169.254.169.254".into(), 80),
        (AF_INET, "0.0.0.0".into(), echo_port),
        (AF_INET, "0.1.2.3".into(), echo_port),
        (AF_INET, "255.255.255.255".into(), echo_port),
        (AF_INET, "127.0.0.1".into(), u64::from(relay.port)),
        (AF_INET, "localhost".into(), u64::from(relay.port)),
        (AF_INET6, "::ffff:127.0.0.1".into(), u64::from(relay.port)),
        (AF_INET6, "::ffff:10.0.0.1".into(), 80),
        (AF_INET6, "::127.0.0.1".into(), echo_port),
        (AF_INET6, "64:ff9b::7f00:1".into(), echo_port),
        (AF_INET6, "2002:7f00:1::1".into(), echo_port),
        (AF_INET6, "2001:0:4136:e378:8000:63bf:80ff:fffe".into(), echo_port),
        (AF_INET6, "::".into(), echo_port),
        (AF_INET6, "fe80::1".into(), echo_port),
    ];
    for (family, host, port) in refused {
        let s = c.socket(family, SOCK_STREAM).await;
        match c.call(json!({"op": "connect", "sock": s, "addr": {"host": host, "port": port}})).await {
            ServerMsg::Result { outcome: Outcome::Err { error }, .. } => {
                assert_eq!(error.errno, "EACCES", "{host}:{port}: {error:?}");
            }
            other => panic!("{host}:{port} was not refused: {other:?}"),
        }
        let u = c.socket(family, SOCK_DGRAM).await;
        let sent =
            c.call(json!({"op": "sendto", "sock": u, "data": b64(b"x"), "addr": {"host": host, "port": port}})).await;
        assert!(
            matches!(&sent, ServerMsg::Result { outcome: Outcome::Err { error }, .. } if error.errno == "EACCES"),
            "{host}: {sent:?}"
        );
        c.ok(json!({"op": "close", "sock": s})).await;
        c.ok(json!({"op": "close", "sock": u})).await;
    }
    // Loopback in every spelling that is loopback works.
    for (family, host) in [(AF_INET, "127.0.0.1"), (AF_INET, "localhost"), (AF_INET6, "::ffff:127.0.0.1")] {
        let s = c.socket(family, SOCK_STREAM).await;
        c.ok(json!({"op": "connect", "sock": s, "addr": {"host": host, "port": echo_port}})).await;
        c.ok(json!({"op": "close", "sock": s})).await;
    }
    // Binds: unprivileged ports, loopback or any; no raw sockets.
    let s = c.socket(AF_INET, SOCK_STREAM).await;
    let low = c.call(json!({"op": "bind", "sock": s, "addr": {"host": "127.0.0.1", "port": 80}})).await;
    assert!(
        matches!(&low, ServerMsg::Result { outcome: Outcome::Err { error }, .. } if error.message.contains("1024-65535")),
        "{low:?}"
    );
    let own = c.call(json!({"op": "bind", "sock": s, "addr": {"host": "0.0.0.0", "port": relay.port}})).await;
    assert!(
        matches!(&own, ServerMsg::Result { outcome: Outcome::Err { error }, .. } if error.errno == "EACCES"),
        "{own:?}"
    );
    let raw = c.call(json!({"op": "socket", "family": AF_INET, "type": SOCK_RAW, "proto": 1})).await;
    assert!(
        matches!(&raw, ServerMsg::Result { outcome: Outcome::Err { error }, .. } if error.errno == "EACCES"),
        "{raw:?}"
    );
    c.close().await;

    // --allow-destination opens that range and nothing else; the relay's port stays closed.
    let relay = Relay::start_with(&["--sandbox", "host", "--allow-destination", "10.0.0.0/8"]);
    let mut c = relay.connect().await;
    for (host, port, refused) in
        [("10.1.2.3", 9, false), ("11.1.2.3", 9, true), ("::ffff:10.1.2.3", 9, false), ("2002:a01:203::", 9, true)]
    {
        let family = if host.contains(':') { AF_INET6 } else { AF_INET };
        let s = c.socket(family, SOCK_STREAM).await;
        c.ok(json!({"op": "setblocking", "sock": s, "flag": false})).await;
        let value = c.ok(json!({"op": "connect_ex", "sock": s, "addr": {"host": host, "port": port}})).await;
        let errno = value["value"].as_i64().unwrap();
        assert_eq!(errno == 13, refused, "{host}: errno {errno}");
    }
    c.close().await;
}

/// Unix paths live in the session's own directory: `..`, absolute paths and
/// symlinks cannot leave it; abstract names are the session's own in host mode.
#[tokio::test]
async fn unix_path_traversal_stays_in_the_session_directory() {
    // Host mode: there the abstract namespace is the machine's, the harder case.
    let relay = Relay::start_with(&["--sandbox", "host"]);
    let mut c = relay.connect().await;
    let s = c.socket(AF_UNIX, SOCK_STREAM).await;
    for path in [
        "../x.sock",
        "/../../etc/x.sock",
        "a/../../b.sock",
        "/tmp/../../../../root/x.sock",
        "./../x.sock",
        "x/../../../y",
    ] {
        for op in ["bind", "connect"] {
            let answer = c.call(json!({"op": op, "sock": s, "addr": {"path": path}})).await;
            match answer {
                ServerMsg::Result { outcome: Outcome::Err { error }, .. } => {
                    assert_eq!(error.errno, "EACCES", "{op} {path}: {error:?}");
                    assert!(error.message.contains(".."), "{op} {path}: {error:?}");
                }
                other => panic!("{op} {path} was not refused: {other:?}"),
            }
        }
    }
    // An absolute path lands inside the session directory, and is shown as the script wrote it.
    c.ok(json!({"op": "bind", "sock": s, "addr": {"path": "/etc/passwd.sock"}})).await;
    let name = c.ok(json!({"op": "getsockname", "sock": s})).await;
    assert_eq!(name["addr"]["path"], "/etc/passwd.sock");
    assert!(!std::path::Path::new("/etc/passwd.sock").exists());
    let base = std::path::PathBuf::from(format!("/tmp/socklab-{}", relay.pid()));
    let session_dir = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|dir| dir.join("etc/passwd.sock").exists())
        .expect("the socket file is in a session directory");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&base).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the session base is private: {mode:o}");
    }

    // A symlink planted in the session directory (by someone else on the machine) is not followed.
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), session_dir.join("link")).unwrap();
    let t = c.socket(AF_UNIX, SOCK_STREAM).await;
    for (op, path) in [("bind", "/link/x.sock"), ("connect", "/link/x.sock"), ("bind", "/link/sub/dir/x.sock")] {
        let answer = c.call(json!({"op": op, "sock": t, "addr": {"path": path}})).await;
        assert!(
            matches!(&answer, ServerMsg::Result { outcome: Outcome::Err { error }, .. } if error.message.contains("symlink")),
            "{op}: {answer:?}"
        );
    }
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0, "nothing was made outside");

    // Abstract names: a listener the test makes in the machine's abstract namespace is out of reach...
    let name = format!("socklab-security-test-{}", std::process::id());
    let host_listener = std::os::unix::net::UnixListener::bind_addr(
        &<std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(name.as_bytes())
            .unwrap(),
    )
    .unwrap();
    let u = c.socket(AF_UNIX, SOCK_STREAM).await;
    let answer = c.call(json!({"op": "connect", "sock": u, "addr": {"path": format!("\0{name}")}})).await;
    assert!(
        matches!(&answer, ServerMsg::Result { outcome: Outcome::Err { error }, .. } if error.errno == "ECONNREFUSED"),
        "{answer:?}"
    );
    host_listener.set_nonblocking(true).unwrap();
    assert!(host_listener.accept().is_err(), "the relay reached the machine's abstract socket");
    // ...while the session's own abstract names work and read back unchanged.
    let l = c.socket(AF_UNIX, SOCK_STREAM).await;
    c.ok(json!({"op": "bind", "sock": l, "addr": {"path": format!("\0{name}")}})).await;
    c.ok(json!({"op": "listen", "sock": l})).await;
    c.ok(json!({"op": "connect", "sock": u, "addr": {"path": format!("\0{name}")}})).await;
    let peer = c.ok(json!({"op": "getpeername", "sock": u})).await;
    assert_eq!(peer["addr"]["path"], format!("\0{name}"));
    c.close().await;
}

/// A masked client frame header announcing `len` bytes (the payload is not sent).
fn frame_header(opcode: u8, fin: bool, len: u64) -> Vec<u8> {
    let mut head = vec![if fin { 0x80 } else { 0 } | opcode];
    if len < 126 {
        head.push(0x80 | len as u8);
    } else if len <= 0xffff {
        head.push(0x80 | 126);
        head.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        head.push(0x80 | 127);
        head.extend_from_slice(&len.to_be_bytes());
    }
    head.extend_from_slice(&[1, 2, 3, 4]);
    head
}

async fn expect_close_1009(c: &mut Client) {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), c.ws.next()).await.expect("closed in time");
        match frame {
            Some(Ok(Message::Close(Some(close)))) => {
                assert_eq!(u16::from(close.code), 1009, "{close:?}");
                assert!(close.reason.contains("--max-frame"), "{close:?}");
                return;
            }
            Some(Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a close frame with code 1009, got {other:?}"),
        }
    }
}

/// Frames or messages over --max-frame close the connection with 1009 before
/// the relay buffers them; messages between --max-message and --max-frame get
/// an error and the session goes on. The relay's memory stays flat.
#[tokio::test]
async fn oversized_frames_close_with_1009_and_memory_stays_flat() {
    let _turn = MEASURING.lock().await;
    let relay = Relay::start_with(&["--max-message", "64KiB", "--max-frame", "1MiB", "--max-sessions", "1000"]);
    let attack = |how: u8| {
        let relay = &relay;
        async move {
            let mut c = relay.connect().await;
            match how {
                // One frame announcing 1 GiB, and a bit of it.
                0 => {
                    let mut bytes = frame_header(0x1, true, 1 << 30);
                    bytes.extend(std::iter::repeat_n(b'x', 4096));
                    let tcp = c.ws.get_mut();
                    tcp.write_all(&bytes).await.unwrap();
                }
                // A message in fragments of 256 KiB, 1.25 MiB in all, each fragment under the frame limit.
                _ => {
                    for i in 0..5u8 {
                        let opcode = if i == 0 { 0x1 } else { 0x0 };
                        let mut bytes = frame_header(opcode, false, 256 << 10);
                        // Masked with [1,2,3,4]: the payload only has to be valid UTF-8 after unmasking.
                        bytes.extend((0..(256usize << 10)).map(|j| b'a' ^ [1u8, 2, 3, 4][j % 4]));
                        let tcp = c.ws.get_mut();
                        if tcp.write_all(&bytes).await.is_err() {
                            break;
                        }
                    }
                }
            }
            expect_close_1009(&mut c).await;
        }
    };
    // Warm up, then measure.
    attack(0).await;
    attack(1).await;
    let before = rss_kib(relay.pid());
    for round in 0..40u8 {
        attack(round % 2).await;
    }
    let after = rss_kib(relay.pid());
    eprintln!("relay RSS before {before} KiB, after 40 oversized frames/messages {after} KiB");
    // Had the relay buffered what was announced, 40 rounds would be 40 MiB or more.
    assert!(after <= before + 8192, "RSS grew from {before} to {after} KiB");

    // Between --max-message and --max-frame: an error, and the session goes on.
    let mut c = relay.connect().await;
    c.send_text(&format!("{{\"type\":\"call\",\"id\":1,\"pad\":\"{}\"}}", "x".repeat(100 << 10))).await;
    assert!(
        matches!(c.next().await, ServerMsg::Error { code: ErrorCode::TooLarge, message, .. } if message.contains("--max-message"))
    );
    c.socket(AF_INET, SOCK_STREAM).await;
}

/// 500 connections that never finish their HTTP handshake (half send part of
/// the headers, half nothing) are held at once and all closed by
/// --handshake-timeout, none early; the relay's fds go back to where they were.
#[tokio::test]
async fn five_hundred_slow_handshakes_are_all_reaped() {
    let _turn = MEASURING.lock().await;
    const TIMEOUT: Duration = Duration::from_secs(4);
    // Host mode: this is about the HTTP layer, and no session is made.
    let relay = Relay::start_with(&["--sandbox", "host", "--handshake-timeout", "4s", "--max-connections", "2000"]);
    relay.connect().await.close().await;
    relay.sessions_ended().await;
    let baseline = relay.fd_count();
    let port = relay.port;
    let pid = relay.pid();
    let watching = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watch = {
        let watching = watching.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while watching.load(std::sync::atomic::Ordering::Relaxed) {
                let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0);
                peak = peak.max(fds);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            peak
        })
    };
    let lifetimes = futures::future::join_all((0..500).map(|i| async move {
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let connected = Instant::now();
        if i % 2 == 0 {
            let partial = format!("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n");
            tcp.write_all(partial.as_bytes()).await.unwrap();
        }
        let mut buf = [0u8; 512];
        loop {
            match tokio::time::timeout(TIMEOUT * 3, tcp.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => return Some(connected.elapsed()),
                Ok(Ok(_)) => continue,
                Err(_) => return None,
            }
        }
    }))
    .await;
    watching.store(false, std::sync::atomic::Ordering::Relaxed);
    let peak = watch.await.unwrap();
    let still_open = lifetimes.iter().filter(|l| l.is_none()).count();
    let closed: Vec<Duration> = lifetimes.into_iter().flatten().collect();
    let (shortest, longest) = (closed.iter().min().copied(), closed.iter().max().copied());
    eprintln!(
        "500 slow handshakes: peak {peak} relay fds (baseline {baseline}); {still_open} still open; \
         closed after {shortest:?} to {longest:?}"
    );
    assert_eq!(still_open, 0);
    assert!(peak >= baseline + 400, "the slow connections were held at once: peak {peak}, baseline {baseline}");
    assert!(shortest.unwrap() >= TIMEOUT - Duration::from_millis(300), "closed before the timeout: {shortest:?}");
    wait_until("the relay's fds to return to baseline", Duration::from_secs(5), || relay.fd_count() == baseline).await;
    // And the relay still serves.
    relay.connect().await.close().await;
}

async fn hello_with(relay: &Relay, token: &str) -> (Client, ServerMsg) {
    let mut c = relay.connect_raw().await;
    c.send_json(json!({"type": "hello", "version": 1, "token": token})).await;
    let answer = c.next().await;
    (c, answer)
}

/// Every limit, hit once, answers with `limit_exceeded` naming the option that raises it.
#[tokio::test]
async fn every_limit_is_hit_once() {
    let _turn = MEASURING.lock().await;
    // Sockets, pending calls, bytes, connects per second.
    let relay = Relay::start_with(&[
        "--max-sockets",
        "3",
        "--max-pending",
        "2",
        "--max-bytes",
        "4KiB",
        "--max-connects-per-second",
        "3",
    ]);
    let mut c = relay.connect().await;
    let peer = c.ok(json!({"op": "lab_peer", "kind": "echo"})).await;
    let echo = json!({"host": "127.0.0.1", "port": peer["addr"]["port"]});
    let a = c.socket(AF_INET, SOCK_STREAM).await;
    let b = c.socket(AF_INET, SOCK_DGRAM).await;
    let d = c.socket(AF_INET, SOCK_DGRAM).await;
    let answer = c.call(json!({"op": "socket", "family": AF_INET, "type": SOCK_STREAM})).await;
    assert!(limit_error(&answer, "--max-sockets"), "{answer:?}");
    c.ok(json!({"op": "bind", "sock": b, "addr": {"host": "127.0.0.1", "port": 0}})).await;
    let first = c.start(json!({"op": "recv", "sock": b, "n": 10})).await;
    let second = c.start(json!({"op": "recvfrom", "sock": b, "n": 10})).await;
    let answer = c.call(json!({"op": "recv", "sock": b, "n": 10})).await;
    assert!(limit_error(&answer, "--max-pending"), "{answer:?}");
    c.send_json(json!({"type": "cancel", "id": first})).await;
    c.send_json(json!({"type": "cancel", "id": second})).await;
    c.answer(first).await;
    c.answer(second).await;
    // Connects: 3 at once, the 4th in the same second is refused.
    c.ok(json!({"op": "connect", "sock": a, "addr": echo})).await;
    for port in [1u16, 2] {
        c.ok(json!({"op": "sendto", "sock": d, "data": b64(b"x"), "addr": {"host": "127.0.0.1", "port": port}})).await;
    }
    c.ok(json!({"op": "sendto", "sock": d, "data": b64(b"x"), "addr": {"host": "127.0.0.1", "port": 1}})).await;
    let answer =
        c.call(json!({"op": "sendto", "sock": d, "data": b64(b"x"), "addr": {"host": "127.0.0.1", "port": 3}})).await;
    assert!(limit_error(&answer, "--max-connects-per-second"), "{answer:?}");
    // Bytes: 4 KiB through send and recv, then refused.
    c.ok(json!({"op": "sendall", "sock": a, "data": b64(&[7u8; 1500])})).await;
    c.ok(json!({"op": "recv", "sock": a, "n": 1500, "flags": 256})).await;
    let answer = c.call(json!({"op": "sendall", "sock": a, "data": b64(&[7u8; 1500])})).await;
    assert!(limit_error(&answer, "--max-bytes"), "{answer:?}");
    c.close().await;

    // Sessions per token and in total: two tokens, two sessions each at most, three in all.
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    let (t1, t2) = ("a".repeat(64), "b".repeat(64));
    std::fs::write(&tokens, format!("{t1}\n# a comment\n{t2}\n")).unwrap();
    std::fs::set_permissions(&tokens, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let relay = Relay::start_with(&[
        "--token-file",
        tokens.to_str().unwrap(),
        "--max-sessions",
        "3",
        "--max-sessions-per-token",
        "2",
    ]);
    assert_eq!(relay.token, t1);
    let (_s1, ok1) = hello_with(&relay, &t1).await;
    let (_s2, ok2) = hello_with(&relay, &t1).await;
    assert!(matches!((&ok1, &ok2), (ServerMsg::Hello { .. }, ServerMsg::Hello { .. })));
    let (_, answer) = hello_with(&relay, &t1).await;
    assert!(limit_error(&answer, "--max-sessions-per-token"), "{answer:?}");
    let (s3, ok3) = hello_with(&relay, &t2).await;
    assert!(matches!(ok3, ServerMsg::Hello { .. }));
    let (_, answer) = hello_with(&relay, &t2).await;
    assert!(limit_error(&answer, "--max-sessions"), "{answer:?}");
    // A place frees when a session ends.
    s3.close().await;
    let mut freed = false;
    for _ in 0..50 {
        let (c, answer) = hello_with(&relay, &t2).await;
        if matches!(answer, ServerMsg::Hello { .. }) {
            freed = true;
            c.close().await;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(freed);

    // No hello within the handshake timeout.
    let relay = Relay::start_with(&["--handshake-timeout", "500ms"]);
    let mut c = relay.connect_raw().await;
    assert!(limit_error(&c.next().await, "--handshake-timeout"));

    // Idle: a client that answers no ping is closed; one that answers stays.
    let relay = Relay::start_with(&["--ping-interval", "200ms", "--idle-timeout", "1s"]);
    let mut deaf = relay.connect().await;
    let mut listening = relay.connect().await;
    let started = Instant::now();
    // Reading lets tungstenite answer the pings; `deaf` is not read until after the timeout.
    let kept = tokio::spawn(async move {
        let mut pings = 0;
        while started.elapsed() < Duration::from_millis(2500) {
            match tokio::time::timeout(Duration::from_millis(100), listening.ws.next()).await {
                Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
                Ok(Some(Ok(Message::Text(text)))) => panic!("unexpected {text}"),
                Ok(other) => panic!("unexpected {other:?}"),
                Err(_) => {}
            }
        }
        listening.ok(json!({"op": "socket", "family": AF_INET, "type": SOCK_STREAM})).await;
        pings
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Read the raw bytes: tungstenite would first try to answer the queued pings, on a closed connection.
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), deaf.ws.get_mut().read_to_end(&mut raw)).await;
    let raw = String::from_utf8_lossy(&raw);
    assert!(raw.contains("limit_exceeded") && raw.contains("--idle-timeout"), "{raw}");
    assert!(kept.await.unwrap() >= 5, "pinged every 200 ms");

    // Lifetime.
    let relay = Relay::start_with(&["--session-lifetime", "1s"]);
    let mut c = relay.connect().await;
    let started = Instant::now();
    let answer = c.next().await;
    assert!(limit_error(&answer, "--session-lifetime"), "{answer:?}");
    assert!(started.elapsed() >= Duration::from_millis(800));

    // Connections: past --max-connections a new one is closed at once.
    let relay = Relay::start_with(&["--max-connections", "2"]);
    let _held = [
        TcpStream::connect(("127.0.0.1", relay.port)).await.unwrap(),
        TcpStream::connect(("127.0.0.1", relay.port)).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(("127.0.0.1", relay.port)).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(2), third.read(&mut buf)).await.expect("closed at once");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

/// 1,000 sessions, each with sockets; half leave politely, half vanish (RST).
/// Afterwards the relay's fds are exactly back to baseline, its session
/// directories are gone, and its RSS is back within a margin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_sessions_half_dropped_abruptly_leave_nothing_behind() {
    let _turn = MEASURING.lock().await;
    let relay =
        Relay::start_with(&["--max-sessions", "2000", "--max-sessions-per-token", "2000", "--max-connections", "4000"]);
    let base_dir = std::path::PathBuf::from(format!("/tmp/socklab-{}", relay.pid()));
    // Warm up: allocator arenas, runtime threads, the lab peer machinery.
    for _ in 0..2 {
        let mut warm = Vec::new();
        for _ in 0..50 {
            let mut c = relay.connect().await;
            let s = c.socket(AF_INET, SOCK_STREAM).await;
            c.ok(json!({"op": "bind", "sock": s, "addr": {"host": "127.0.0.1", "port": 0}})).await;
            warm.push(c);
        }
        for c in warm {
            c.close().await;
        }
    }
    relay.sessions_ended().await;
    let fds = relay.fd_count();
    let rss = rss_kib(relay.pid());
    let namespaces = net_namespaces(relay.pid());

    let mut sessions = Vec::new();
    // In batches: where each session gets a network namespace, making one takes a while.
    for chunk in 0..40 {
        let batch = futures::future::join_all((0..25).map(|_| async {
            let mut c = relay.connect().await;
            let s = c.socket(AF_INET, SOCK_STREAM).await;
            c.ok(json!({"op": "bind", "sock": s, "addr": {"host": "127.0.0.1", "port": 0}})).await;
            c.ok(json!({"op": "listen", "sock": s})).await;
            let u = c.socket(AF_INET, SOCK_DGRAM).await;
            c.start(json!({"op": "recv", "sock": u, "n": 1})).await;
            c
        }))
        .await;
        sessions.extend(batch);
        let _ = chunk;
    }
    let at_peak = (relay.fd_count(), rss_kib(relay.pid()));
    assert!(at_peak.0 >= fds + 3000, "1,000 sessions hold a WebSocket and two sockets each: {at_peak:?}");
    eprintln!("network namespaces held: {} before, {} at the peak", namespaces.len(), net_namespaces(relay.pid()).len());
    for (i, mut c) in sessions.into_iter().enumerate() {
        if i % 2 == 0 {
            c.close().await;
        } else {
            // Vanish: RST, no close frame.
            if let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = c.ws.get_mut() {
                socket2::SockRef::from(&*tcp).set_linger(Some(Duration::ZERO)).unwrap();
            }
            drop(c);
        }
    }
    wait_until("the relay's fds to return to baseline", Duration::from_secs(20), || relay.fd_count() <= fds).await;
    // The relay gives freed memory back at most once a second.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let after = (relay.fd_count(), rss_kib(relay.pid()));
    let dirs = std::fs::read_dir(&base_dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(net_namespaces(relay.pid()), namespaces, "network namespaces back to the baseline");
    eprintln!(
        "1,000 sessions: baseline fds {fds} RSS {rss} KiB; peak {at_peak:?}; after {after:?}; session dirs left {dirs}"
    );
    assert_eq!(after.0, fds, "fds back to exactly the baseline");
    assert_eq!(dirs, 0, "every session directory removed");
    // The allocator cannot give back every page (fragmentation), so "back to
    // baseline" has a margin: a third of the growth at the peak, or 8 MiB if that is more.
    let margin = ((at_peak.1.saturating_sub(rss)) / 3).max(8 << 10);
    assert!(after.1 <= rss + margin, "RSS {} KiB after, baseline {rss} KiB, margin {margin} KiB", after.1);
    // And the relay still serves.
    relay.connect().await.close().await;
}

/// TLS with --tls-cert/--tls-key (rustls): https on the listener, plain HTTP refused.
#[tokio::test]
async fn tls_is_served_with_a_certificate_and_key() {
    use tokio_rustls::rustls;
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(made.success());
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let rest = line.trim().strip_prefix("https://127.0.0.1:").unwrap_or_else(|| panic!("{line}"));
    let port: u16 = rest.split_once('/').unwrap().0.parse().unwrap();

    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::CertificateDer::pem_file_iter(&cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
    tls.write_all(format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    tls.read_to_string(&mut response).await.ok();
    assert!(response.starts_with("HTTP/1.1 200") && response.ends_with("ok\n"), "{response}");

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    plain.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));
    let _ = child.kill();
    let _ = child.wait();
}

/// Listening beyond loopback needs TLS or --behind-tls-proxy; the token file must be private.
#[test]
fn unsafe_starts_are_refused() {
    let out = Command::new(BIN).args(["serve", "--listen", "0.0.0.0:0"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--tls-cert") && err.contains("--behind-tls-proxy"), "{err}");
    assert!(out.stdout.is_empty(), "no URL printed");

    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "c".repeat(64)).unwrap();
    std::fs::set_permissions(&token, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out =
        Command::new(BIN).args(["serve", "--listen", "127.0.0.1:0", "--token-file"]).arg(&token).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
}

/// Flags beat the environment, which beats the file, which beats the defaults.
#[tokio::test]
async fn configuration_comes_from_flags_environment_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("socklab.toml");
    std::fs::write(&file, "max-sockets = 1\nmax-pending = 1\n").unwrap();
    let start = |env: &[(&str, &str)], args: &[&str]| {
        let mut command = Command::new(BIN);
        command.args(["serve", "--listen", "127.0.0.1:0", "--config"]).arg(&file).args(args);
        command.envs(env.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::null());
        Relay::from_command(command)
    };
    let count_sockets = |relay: Relay| async move {
        let mut c = relay.connect().await;
        let mut made = 0;
        while made < 10 {
            match c.call(json!({"op": "socket", "family": AF_INET, "type": SOCK_DGRAM})).await {
                ServerMsg::Result { outcome: Outcome::Ok { .. }, .. } => made += 1,
                other => {
                    assert!(limit_error(&other, "--max-sockets"), "{other:?}");
                    break;
                }
            }
        }
        made
    };
    assert_eq!(count_sockets(start(&[], &[])).await, 1, "from the file");
    assert_eq!(count_sockets(start(&[("SOCKLAB_MAX_SOCKETS", "2")], &[])).await, 2, "the environment beats the file");
    assert_eq!(
        count_sockets(start(&[("SOCKLAB_MAX_SOCKETS", "2")], &["--max-sockets", "3"])).await,
        3,
        "the flag beats both"
    );

    std::fs::write(&file, "max-sockts = 1\n").unwrap();
    let out = Command::new(BIN).args(["serve", "--config"]).arg(&file).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("max-sockts"));
}

/// `socklab serve --help` documents every option and its default.
#[test]
fn serve_help_documents_every_option_and_default() {
    let out = Command::new(BIN).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let with_defaults = [
        "--listen",
        "--max-message",
        "--max-frame",
        "--max-sockets",
        "--max-pending",
        "--max-sessions",
        "--max-sessions-per-token",
        "--max-connections",
        "--max-bytes",
        "--max-connects-per-second",
        "--handshake-timeout",
        "--ping-interval",
        "--idle-timeout",
        "--session-lifetime",
    ];
    let switches = [
        "--config",
        "--tls-cert",
        "--tls-key",
        "--behind-tls-proxy",
        "--token-file",
        "--allow-host",
        "--allow-origin",
        "--allow-missing-origin",
        "--allow-destination",
        "--allow-privileged-ports",
        "--allow-raw",
        "--log-json",
    ];
    // Each option's entry: its line, then the indented lines up to the next option.
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("--") || (trimmed.starts_with('-') && trimmed.get(2..4) == Some(", ")) {
            let name = trimmed.split_whitespace().find(|w| w.starts_with("--")).unwrap_or("").to_string();
            entries.push((name, format!("{line}\n")));
        } else if let Some((_, text)) = entries.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    for flag in with_defaults.iter().chain(&switches) {
        let entry = entries
            .iter()
            .find(|(name, _)| name == flag)
            .map(|(_, text)| text)
            .unwrap_or_else(|| panic!("{flag} is not documented:\n{help}"));
        assert!(entry.contains("[env: SOCKLAB_"), "{flag} names its environment variable: {entry}");
        if with_defaults.contains(flag) {
            assert!(entry.contains("[default: "), "{flag} shows its default: {entry}");
        }
    }
    assert!(help.contains("[default: 127.0.0.1:7878 [::1]:7878]"), "{help}");
}

/// Both loopback addresses are served by default, on one port.
#[tokio::test]
async fn both_loopback_addresses_are_served_by_default() {
    // A fixed port is needed for two listeners; pick one that is free now.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = Command::new(BIN);
    command.args(["serve"]).env("SOCKLAB_LISTEN", format!("127.0.0.1:{port},[::1]:{port}"));
    command.stdout(Stdio::piped()).stderr(Stdio::null());
    let relay = Relay::from_command(command);
    assert_eq!(relay.port, port);
    let mut v4 = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    v4.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    v4.read_to_string(&mut answer).await.unwrap();
    assert!(answer.ends_with("ok\n"), "{answer}");
    if let Ok(mut v6) = TcpStream::connect(("::1", port)).await {
        v6.write_all(b"GET /healthz HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut answer = String::new();
        v6.read_to_string(&mut answer).await.unwrap();
        assert!(answer.ends_with("ok\n"), "{answer}");
    }
}

// ---- Issue 17: allow-lists, numeric arguments, bounded work, /metrics. ----

const SOL_SOCKET: i32 = 1;
const IPPROTO_IP: i32 = 0;
const IPPROTO_TCP: i32 = 6;
const IPPROTO_IPV6: i32 = 41;

/// The errno of a call's OSError, or a panic naming the answer.
fn errno_of(answer: &ServerMsg) -> (String, String) {
    match answer {
        ServerMsg::Result { outcome: Outcome::Err { error }, .. } => (error.errno.clone(), error.message.clone()),
        other => panic!("expected an OSError, got {other:?}"),
    }
}

/// A relay in `mode` (`host` or `namespace`); `None` when this machine cannot make namespaces.
fn relay_in(mode: &str, extra: &[&str]) -> Option<Relay> {
    if mode == "namespace" {
        // An empty script run in a namespace: it fails at once where none can be made.
        let script = tempfile::NamedTempFile::new().unwrap();
        let probe = Command::new(BIN).args(["run", "--sandbox", "namespace"]).arg(script.path()).output().ok()?;
        if !probe.status.success() {
            eprintln!("no namespaces here: the namespace half is skipped");
            return None;
        }
    }
    let mut args = vec!["--sandbox", mode];
    args.extend_from_slice(extra);
    Some(Relay::start_with(&args))
}

fn proc_sys(name: &str) -> i64 {
    std::fs::read_to_string(format!("/proc/sys/net/core/{name}")).unwrap().trim().parse().unwrap()
}

/// Socket types, families and options outside the allow-lists are refused by
/// name, in both modes; host mode also refuses interface binding; buffers are
/// held to the kernel's unprivileged ceiling although the relay is root.
#[tokio::test]
async fn sockets_and_options_outside_the_allow_lists_are_refused() {
    for mode in ["host", "namespace"] {
        let Some(relay) = relay_in(mode, &[]) else { continue };
        let mut c = relay.connect().await;
        // SOCK_PACKET (10) for AF_INET is a packet socket reading every frame on the machine.
        for ty in [10, 10 | 0o4000, 10 | 0o2000000] {
            let answer = c.call(json!({"op": "socket", "family": AF_INET, "type": ty, "proto": 768})).await;
            let (errno, message) = errno_of(&answer);
            assert_eq!(errno, "EPERM", "{mode} type {ty}: {message}");
            assert!(message.contains("SOCK_PACKET"), "{message}");
        }
        let answer = c.call(json!({"op": "socket", "family": 17, "type": SOCK_RAW, "proto": 768})).await;
        assert_eq!(errno_of(&answer).0, "EAFNOSUPPORT", "{mode}: AF_PACKET");
        let answer = c.call(json!({"op": "socket", "family": AF_INET, "type": 4, "proto": 0})).await;
        assert_eq!(errno_of(&answer).0, "ESOCKTNOSUPPORT", "{mode}: SOCK_RDM");
        let answer = c.call(json!({"op": "socketpair", "family": 17, "type": SOCK_RAW, "proto": 768})).await;
        assert_eq!(errno_of(&answer).0, "EAFNOSUPPORT", "{mode}: a packet socket pair");
        // A documented socket with its flags still works.
        c.ok(json!({"op": "socket", "family": AF_INET, "type": SOCK_STREAM | 0o4000 | 0o2000000})).await;

        let tcp = c.socket(AF_INET, SOCK_STREAM).await;
        let tcp6 = c.socket(AF_INET6, SOCK_STREAM).await;
        let mut refused = vec![
            (tcp, IPPROTO_TCP, 19, json!(1), "TCP_REPAIR"),
            (tcp, SOL_SOCKET, 32, json!(1 << 30), "SO_SNDBUFFORCE"),
            (tcp, SOL_SOCKET, 33, json!(1 << 30), "SO_RCVBUFFORCE"),
            (tcp, SOL_SOCKET, 36, json!(7), "SO_MARK"),
            (tcp, IPPROTO_IP, 4, b64(&[0x83, 7, 4, 127, 0, 0, 1, 0]), "IP_OPTIONS"),
            (tcp6, IPPROTO_IPV6, 57, b64(&[0, 0, 0, 0, 0, 0, 0, 0]), "IPV6_RTHDR"),
            (tcp, SOL_SOCKET, 62, json!(1), "SO_BINDTOIFINDEX"),
        ];
        if mode == "host" {
            refused.push((tcp, SOL_SOCKET, 25, b64(b"lo"), "SO_BINDTODEVICE"));
        }
        for (sock, level, opt, value, name) in refused {
            let answer = c.call(json!({"op": "setsockopt", "sock": sock, "level": level, "opt": opt, "value": value})).await;
            let (errno, message) = errno_of(&answer);
            assert_eq!(errno, "EPERM", "{mode} {name}: {message}");
            assert!(message.contains(name), "{mode} {name}: {message}");
        }
        if mode == "namespace" {
            c.ok(json!({"op": "setsockopt", "sock": tcp, "level": SOL_SOCKET, "opt": 25, "value": b64(b"lo")})).await;
        }
        // Buffers: above net.core.rmem_max is clamped to it (the kernel doubles what it keeps).
        c.ok(json!({"op": "setsockopt", "sock": tcp, "level": SOL_SOCKET, "opt": 8, "value": 1 << 30})).await;
        let got = c.ok(json!({"op": "getsockopt", "sock": tcp, "level": SOL_SOCKET, "opt": 8})).await;
        let kept = got["value"].as_i64().unwrap();
        assert!(kept <= 2 * proc_sys("rmem_max"), "{mode}: SO_RCVBUF kept {kept}");
        let answer = c.call(json!({"op": "setsockopt", "sock": tcp, "level": SOL_SOCKET, "opt": 7, "value": -1})).await;
        assert_eq!(errno_of(&answer).0, "EINVAL", "{mode}: a negative SO_SNDBUF");
        // What the language documents still works.
        c.ok(json!({"op": "setsockopt", "sock": tcp, "level": SOL_SOCKET, "opt": 2, "value": 1})).await;
        c.ok(json!({"op": "setsockopt", "sock": tcp, "level": IPPROTO_TCP, "opt": 1, "value": 1})).await;
        c.ok(json!({"op": "setsockopt", "sock": tcp6, "level": IPPROTO_IPV6, "opt": 26, "value": 0})).await;
        c.close().await;
    }
}

/// Timeouts no clock can hold are errors with CPython's words, never a
/// panic; the session goes on, and the relay logs no panic.
#[tokio::test]
async fn huge_timeouts_are_errors_and_the_session_goes_on() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--sandbox", "host"])
        .stdout(Stdio::piped())
        .stderr(log.reopen().unwrap());
    let relay = Relay::from_command(command);
    let mut c = relay.connect().await;
    let s = c.socket(AF_UNIX, SOCK_STREAM).await;
    let bad_arguments = |answer: &ServerMsg, needle: &str| {
        matches!(answer, ServerMsg::Error { code: ErrorCode::BadArguments, message, .. } if message.contains(needle))
    };
    for seconds in [1e308, 1e19, 1e10] {
        let answer = c.call(json!({"op": "settimeout", "sock": s, "seconds": seconds})).await;
        assert!(bad_arguments(&answer, "OverflowError"), "settimeout({seconds}): {answer:?}");
    }
    let answer = c.call(json!({"op": "settimeout", "sock": s, "seconds": -1.0})).await;
    assert!(bad_arguments(&answer, "ValueError"), "{answer:?}");
    let answer = c.call(json!({"op": "select", "rlist": [s], "wlist": [], "xlist": [], "timeout": 1e30})).await;
    assert!(bad_arguments(&answer, "OverflowError"), "select: {answer:?}");
    let answer = c.call(json!({"op": "poll", "fds": [], "timeout": 1e30})).await;
    assert!(bad_arguments(&answer, "OverflowError"), "poll: {answer:?}");
    let answer = c.call(json!({"op": "sleep", "seconds": 1e30})).await;
    assert!(bad_arguments(&answer, "OverflowError"), "sleep: {answer:?}");
    // Long but representable: the wait starts and can be cancelled.
    let pair = c.ok(json!({"op": "socketpair"})).await;
    let a = pair["a"]["sock"].as_u64().unwrap();
    c.ok(json!({"op": "settimeout", "sock": a, "seconds": 9.0e9})).await;
    let waiting = c.start(json!({"op": "recv", "sock": a, "n": 10})).await;
    let b = pair["b"]["sock"].as_u64().unwrap();
    c.ok(json!({"op": "setsockopt", "sock": b, "level": SOL_SOCKET, "opt": 20, "value": i64::MAX})).await;
    let kernel_wait = c.start(json!({"op": "recv", "sock": b, "n": 10})).await;
    let select_wait = c.start(json!({"op": "select", "rlist": [a], "wlist": [], "xlist": [], "timeout": 9.0e9})).await;
    for id in [waiting, kernel_wait, select_wait] {
        c.send_json(json!({"type": "cancel", "id": id})).await;
        assert!(matches!(c.answer(id).await, ServerMsg::Result { outcome: Outcome::Cancelled, .. }));
    }
    // The session goes on.
    c.ok(json!({"op": "socket", "family": AF_INET, "type": SOCK_STREAM})).await;
    c.close().await;
    drop(relay);
    let logged = std::fs::read_to_string(log.path()).unwrap();
    assert!(!logged.contains("panic"), "the relay panicked: {logged}");
}

/// Every directory in `dir`, recursively, `dir` excluded.
fn directories_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| 1 + directories_under(&e.path()))
        .sum()
}

/// An 800 KB Unix path, and paths that fit the script but not the kernel once
/// inside the session's directory, are refused before the file system is
/// touched: no directory is made.
#[tokio::test]
async fn long_unix_paths_are_refused_and_create_nothing() {
    let relay = Relay::start_with(&["--sandbox", "host", "--max-connects-per-second", "1000"]);
    let base = std::path::PathBuf::from(format!("/tmp/socklab-{}", relay.pid()));
    let mut c = relay.connect().await;
    let s = c.socket(AF_UNIX, SOCK_STREAM).await;
    let before = directories_under(&base);
    let huge = "d/".repeat(400_000);
    let started = Instant::now();
    let answer = c.call(json!({"op": "bind", "sock": s, "addr": {"path": huge}})).await;
    let took = started.elapsed();
    let (errno, message) = errno_of(&answer);
    assert_eq!(errno, "ENAMETOOLONG", "{message}");
    assert!(message.contains("AF_UNIX path too long"), "{message}");
    eprintln!("an 800 KB Unix path was refused in {took:?}");
    for i in 0..100 {
        let path = format!("/{}{i}.sock", "abcd/".repeat(20));
        for op in ["bind", "connect"] {
            let answer = c.call(json!({"op": op, "sock": s, "addr": {"path": path}})).await;
            assert_eq!(errno_of(&answer).0, "ENAMETOOLONG", "{op} {path}");
        }
    }
    for op in ["unlink", "exists"] {
        let answer = c.call(json!({"op": op, "path": "x/".repeat(10_000)})).await;
        assert_eq!(errno_of(&answer).0, "ENAMETOOLONG", "{op}");
    }
    assert_eq!(directories_under(&base), before, "directories were created");
    // A path that fits works, in a directory of its own.
    c.ok(json!({"op": "bind", "sock": s, "addr": {"path": "/a/b/x.sock"}})).await;
    c.close().await;
}

/// A Unix socket bound a few directories deep in the session's directory.
async fn bind_one(c: &mut Client) {
    let s = c.socket(AF_UNIX, SOCK_STREAM).await;
    c.ok(json!({"op": "bind", "sock": s, "addr": {"path": "/deep/er/x.sock"}})).await;
}

/// A session's directory goes when the session ends, and every session
/// directory and the relay's own base directory go at SIGTERM, including a
/// session that closed just before it.
#[tokio::test]
async fn session_directories_are_removed_at_session_end_and_at_shutdown() {
    let mut relay = Relay::start_with(&["--sandbox", "host", "--shutdown-timeout", "3s"]);
    let base = std::path::PathBuf::from(format!("/tmp/socklab-{}", relay.pid()));
    let mut c = relay.connect().await;
    bind_one(&mut c).await;
    assert_eq!(std::fs::read_dir(&base).unwrap().count(), 1, "one session directory");
    c.close().await;
    relay.sessions_ended().await;

    let mut open = relay.connect().await;
    bind_one(&mut open).await;
    let mut closing = relay.connect().await;
    bind_one(&mut closing).await;
    closing.close().await;
    relay.signal(libc::SIGTERM);
    assert!(relay.wait_for_exit(Duration::from_secs(10)).is_some(), "the relay exits");
    assert!(!base.exists(), "{} survived the shutdown", base.display());
    drop(open);
}

/// `select` and `poll` sets and waiting MSG_WAITALL receives are capped: 64
/// waiting selects of 1,024 entries each cost the relay little, 20,000 entries
/// are refused, and MSG_WAITALL receives cannot hold more than one receive's worth.
#[tokio::test]
async fn waiting_calls_hold_bounded_memory() {
    let _turn = MEASURING.lock().await;
    let relay = Relay::start_with(&["--sandbox", "host"]);
    relay.connect().await.close().await;
    relay.sessions_ended().await;
    let baseline_fds = relay.fd_count();
    let mut c = relay.connect().await;
    let pair = c.ok(json!({"op": "socketpair"})).await;
    let a = pair["a"]["sock"].as_u64().unwrap();
    let b = pair["b"]["sock"].as_u64().unwrap();
    let many: Vec<u64> = vec![a; 20_000];
    let answer = c.call(json!({"op": "select", "rlist": many, "wlist": [], "xlist": [], "timeout": null})).await;
    assert!(
        matches!(&answer, ServerMsg::Error { code: ErrorCode::BadArguments, message, .. } if message.contains("1024")),
        "{answer:?}"
    );
    let fds: Vec<Value> = (0..20_000).map(|_| json!({"fd": 3, "events": 1})).collect();
    let answer = c.call(json!({"op": "poll", "fds": fds, "timeout": null})).await;
    assert!(matches!(&answer, ServerMsg::Error { code: ErrorCode::BadArguments, .. }), "{answer:?}");

    // MSG_WAITALL: one 16 MiB receive may wait; a second is refused while it does.
    let big = c.start(json!({"op": "recv", "sock": a, "n": 16 << 20, "flags": 0x100})).await;
    let answer = c.call(json!({"op": "recv", "sock": a, "n": 1 << 20, "flags": 0x100})).await;
    assert!(limit_error(&answer, "MSG_WAITALL"), "{answer:?}");
    c.send_json(json!({"type": "cancel", "id": big})).await;
    c.answer(big).await;
    let small = c.start(json!({"op": "recv", "sock": a, "n": 4, "flags": 0x100})).await;
    c.ok(json!({"op": "send", "sock": b, "data": b64(b"abcd")})).await;
    assert!(matches!(c.answer(small).await, ServerMsg::Result { outcome: Outcome::Ok { .. }, .. }));

    let before = rss_kib(relay.pid());
    let entries: Vec<u64> = vec![a; 1024];
    let mut waiting = Vec::new();
    for _ in 0..63 {
        waiting.push(c.start(json!({"op": "select", "rlist": entries, "wlist": [], "xlist": [], "timeout": null})).await);
    }
    c.ok(json!({"op": "fileno", "sock": a})).await;
    let after = rss_kib(relay.pid());
    eprintln!("63 waiting selects of 1,024 entries: relay RSS {before} KiB -> {after} KiB");
    assert!(after < before + 32 * 1024, "RSS grew from {before} to {after} KiB");
    c.ok(json!({"op": "send", "sock": b, "data": b64(b"x")})).await;
    for id in waiting {
        assert!(matches!(c.answer(id).await, ServerMsg::Result { outcome: Outcome::Ok { .. }, .. }));
    }
    let during = relay.fd_count();
    c.close().await;
    relay.sessions_ended().await;
    eprintln!("relay fds: {baseline_fds} before the session, {during} during, {} after", relay.fd_count());
    wait_until("the relay's fds to return to baseline", Duration::from_secs(5), || relay.fd_count() == baseline_fds).await;
}

/// One request on a new connection; the status.
async fn get_status(port: u16, path: &str, extra: &str) -> u16 {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let text = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n{extra}\r\n");
    tcp.write_all(text.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0)
}

/// Without --metrics-token, /metrics answers plain loopback requests only: any
/// header a proxy may add (whichever its name) is refused.
#[tokio::test]
async fn metrics_refuses_every_proxy_header() {
    let relay = Relay::start_with(&["--sandbox", "host"]);
    let p = relay.port;
    for header in [
        "Via: 1.1 proxy",
        "X-Client-IP: 203.0.113.9",
        "True-Client-IP: 203.0.113.9",
        "CF-Connecting-IP: 203.0.113.9",
        "Forwarded: for=203.0.113.9",
        "X-Forwarded-For: 203.0.113.9",
        "X-Forwarded-Host: evil.example",
        "X-Real-IP: 203.0.113.9",
        "X-Originating-IP: 203.0.113.9",
        "Fastly-Client-IP: 203.0.113.9",
    ] {
        assert_eq!(get_status(p, "/metrics", &format!("{header}\r\n")).await, 403, "{header}");
    }
    assert_eq!(get_status(p, "/metrics", "").await, 200);
    let prometheus = "Accept: text/plain;version=0.0.4\r\nAccept-Encoding: gzip\r\nUser-Agent: Prometheus/2.0\r\n\
                      X-Prometheus-Scrape-Timeout-Seconds: 10\r\n";
    assert_eq!(get_status(p, "/metrics", prometheus).await, 200);
}
