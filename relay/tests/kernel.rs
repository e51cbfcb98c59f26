//! Kernel truth through the real relay: TCP states, the wire view, ping, and the per-session namespace.
//! (This machine runs the tests as root, so sessions get private namespaces and the tracepoint.)

mod common;

use common::{Relay, Run, run_script};
use serde_json::json;
use socklab_wire::protocol::{Event, Outcome, ServerMsg};

/// The (from, to) transitions of `socket` in a run, in order.
fn states<'a>(run: &'a Run, socket: &str) -> Vec<(&'a str, &'a str)> {
    run.lines
        .iter()
        .filter(|l| l["kind"] == "state" && l["socket"] == socket)
        .map(|l| (l["from"].as_str().unwrap(), l["to"].as_str().unwrap()))
        .collect()
}

fn path(steps: &[(&str, &str)]) -> String {
    let mut names: Vec<&str> = steps.iter().map(|(from, _)| *from).collect();
    names.extend(steps.last().map(|(_, to)| *to));
    names.join(" → ")
}

const ECHO: &str = r#"
# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.bind(("127.0.0.1", 5500))
srv.listen(5)
conn, addr = srv.accept()
conn.send(conn.recv(1024))
conn.close()
srv.close()

# lane: client
cli = socket(AF_INET, SOCK_STREAM)
cli.connect(("127.0.0.1", 5500))
cli.send(b"hello")
assert cli.recv(1024) == b"hello"
cli.close()
"#;

#[test]
fn active_and_passive_close_show_every_state_after_the_fd_is_gone() {
    let run = run_script(ECHO, &[]);
    run.assert_all_finished();
    // The server closes first: it is the active closer.
    assert_eq!(
        path(&states(&run, "conn")),
        "LISTEN → SYN_RECV → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT",
        "{}",
        run.stdout
    );
    assert_eq!(
        path(&states(&run, "cli")),
        "CLOSE → SYN_SENT → ESTABLISHED → CLOSE_WAIT → LAST_ACK → CLOSE",
        "{}",
        run.stdout
    );
    assert_eq!(path(&states(&run, "srv")), "CLOSE → LISTEN → CLOSE", "{}", run.stdout);
}

#[test]
fn the_wire_view_shows_the_handshake_and_the_teardown() {
    let run = run_script(ECHO, &[]);
    let flags: Vec<&str> = run
        .lines
        .iter()
        .filter(|l| l["kind"] == "segment" && l["proto"] == "TCP")
        .map(|l| l["flags"].as_str().unwrap())
        .collect();
    assert_eq!(&flags[..3], ["SYN", "SYN,ACK", "ACK"], "{}", run.stdout);
    assert_eq!(flags.iter().filter(|f| **f == "FIN,ACK").count(), 2, "{}", run.stdout);
    assert_eq!(flags.last(), Some(&"ACK"), "{}", run.stdout);
    let syn = run.lines.iter().find(|l| l["kind"] == "segment" && l["flags"] == "SYN").unwrap();
    assert_eq!(syn["seq"], 0, "sequence numbers are relative to the ISN");
    assert_eq!(syn["dst"], "127.0.0.1:5500");
}

const BULK: &str = r#"
# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.bind(("127.0.0.1", 5501))
srv.listen(5)
conn, addr = srv.accept()
total = 0
while True:
    data = conn.recv(65536)
    if not data:
        break
    total += len(data)
print(total)
conn.close()
srv.close()

# lane: client
cli = socket(AF_INET, SOCK_STREAM)
cli.connect(("127.0.0.1", 5501))
cli.sendall(b"x" * 300000)
cli.close()
"#;

#[test]
fn tcp_info_samples_are_in_the_json_transcript_and_quiet_in_the_text() {
    let file = tempfile::Builder::new().suffix(".sock.py").tempfile().unwrap();
    std::fs::write(file.path(), BULK).unwrap();
    let text = std::thread::spawn({
        let path = file.path().to_owned();
        move || std::process::Command::new(common::BIN).arg("run").arg(path).output().unwrap()
    });
    let run = run_script(BULK, &[]);
    run.assert_all_finished();
    assert_eq!(run.prints("server"), ["300000"]);
    let samples: Vec<&serde_json::Value> =
        run.lines.iter().filter(|l| l["kind"] == "tcp_info" && l["socket"] == "cli").collect();
    assert!(!samples.is_empty(), "{}", run.stdout);
    for sample in &samples {
        let info = &sample["info"];
        let (cwnd, rtt, mss) = (info["cwnd"].as_u64().unwrap(), info["rtt_us"].as_u64().unwrap(), info["mss"].as_u64().unwrap());
        assert!((1..=100_000).contains(&cwnd), "cwnd {cwnd}: {sample}");
        assert!(rtt < 1_000_000, "rtt {rtt} µs on loopback: {sample}");
        assert!(mss > 500, "{sample}");
        assert!(sample["ts_us"].as_u64().is_some(), "{sample}");
    }
    assert!(samples.iter().any(|s| s["info"]["rtt_us"].as_u64() > Some(0)), "{}", run.stdout);
    assert!(run.lines.iter().any(|l| l["kind"] == "tcp_info" && l["socket"] == "conn"), "{}", run.stdout);
    // No loss here: no reset marked, and no retransmission unless the reader's window
    // closed (a zero window may come: the reader is slower; on a loaded machine the
    // sender's probes and timers may then send a byte again).
    let marks: Vec<&serde_json::Value> = run.lines.iter().filter_map(|l| l.get("expert")).flat_map(|m| m.as_array().unwrap()).collect();
    let zero_window = marks.iter().any(|m| *m == "zero_window");
    assert!(
        marks.iter().all(|m| *m == "zero_window" || *m == "dup_ack" || (zero_window && *m == "retransmission")),
        "{marks:?}"
    );
    let text = text.join().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("server| 300000"), "{text}");
    assert!(!text.contains("tcp_info"), "no retransmission, no sample in the text transcript: {text}");
}

#[test]
fn a_simultaneous_close_passes_through_closing() {
    // The client's FIN waits behind data the server's small window has not taken,
    // so the server's FIN reaches a client whose own FIN is still unacknowledged.
    let run = run_script(
        r#"
# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096)
srv.bind(("127.0.0.1", 5500))
srv.listen(1)
conn, addr = srv.accept()
conn.shutdown(SHUT_WR)
while len(conn.recv(65536)) > 0:
    pass
conn.close()

# lane: client
c = socket(AF_INET, SOCK_STREAM)
c.connect(("127.0.0.1", 5500))
c.setblocking(False)
try:
    while True:
        c.send(b"x" * 65536)
except OSError as e:
    print(e.errno)
c.shutdown(SHUT_WR)
c.setblocking(True)
while len(c.recv(100)) > 0:
    pass
c.close()
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(
        path(&states(&run, "c")),
        "CLOSE → SYN_SENT → ESTABLISHED → FIN_WAIT1 → CLOSING → TIME_WAIT",
        "{}",
        run.stdout
    );
}

#[test]
fn a_refused_connect_shows_syn_sent() {
    let run = run_script("c = socket(AF_INET, SOCK_STREAM)\nprint(c.connect_ex((\"127.0.0.1\", 5501)))\n", &[]);
    run.assert_all_finished();
    assert_eq!(run.prints("main"), ["111"]);
    assert_eq!(path(&states(&run, "c")), "CLOSE → SYN_SENT → CLOSE", "{}", run.stdout);
}

#[test]
fn ping_over_a_raw_socket_and_a_ping_socket() {
    let run = run_script(
        r#"
s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)
s.sendto(icmp_echo_request(0x1234, 1, b"raw"), ("127.0.0.1", 0))
reply = icmp_parse(s.recvfrom(1024)[0])
while reply.type != 0:
    reply = icmp_parse(s.recvfrom(1024)[0])
print(reply.type, reply.ident, reply.seq, reply.payload, reply.ttl)
p = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)
p.bind(("127.0.0.1", 4321))
p.sendto(icmp_echo_request(4321, 7, b"dgram"), ("127.0.0.1", 0))
data, addr = p.recvfrom(1024)
r = icmp_parse(data)
print(r.type, r.ident, r.seq, r.payload, r.ttl)
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.prints("main"), ["0 4660 1 b'raw' 64", "0 4321 7 b'dgram' None"]);
    let icmp: Vec<&str> = run
        .lines
        .iter()
        .filter(|l| l["kind"] == "segment" && l["proto"] == "ICMP")
        .map(|l| l["flags"].as_str().unwrap())
        .collect();
    assert!(icmp.contains(&"echo-request") && icmp.contains(&"echo-reply"), "{icmp:?}");
}

#[tokio::test]
async fn states_stream_over_the_websocket_in_order() {
    let relay = Relay::start();
    let mut c = relay.connect().await;
    let srv = c.socket(2, 1).await;
    c.ok(json!({"op": "bind", "sock": srv, "addr": {"host": "127.0.0.1", "port": 5500}})).await;
    c.ok(json!({"op": "listen", "sock": srv})).await;
    let cli = c.socket(2, 1).await;
    c.ok(json!({"op": "connect", "sock": cli, "addr": {"host": "127.0.0.1", "port": 5500}})).await;
    let accepted = c.ok(json!({"op": "accept", "sock": srv})).await;
    let conn = accepted["info"]["sock"].as_u64().unwrap();
    c.ok(json!({"op": "close", "sock": cli})).await;
    c.ok(json!({"op": "recv", "sock": conn, "n": 10})).await;
    c.ok(json!({"op": "close", "sock": conn})).await;

    let mine = |event: &Event| match event {
        Event::State { sock: Some(s), to, .. } if u64::from(*s) == cli => Some(to.to_string()),
        _ => None,
    };
    let mut cli_states: Vec<String> = c.events.iter().filter_map(mine).collect();
    while cli_states.last().map(String::as_str) != Some("TIME_WAIT") {
        if let ServerMsg::Event { event } = c.next().await {
            cli_states.extend(mine(&event));
        }
    }
    assert_eq!(cli_states, ["SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT"]);
}

#[tokio::test]
async fn sessions_are_private_networks() {
    let relay = Relay::start();
    let mut hello = relay.connect_raw().await;
    hello.send_json(json!({"type": "hello", "version": 1, "token": relay.token})).await;
    match hello.next().await {
        ServerMsg::Hello { mode, capabilities, .. } => {
            assert_eq!(mode, socklab_wire::protocol::SandboxMode::Namespace);
            assert_eq!(capabilities.tcp_states, socklab_wire::tcp::StateObservation::Traced);
            assert!(capabilities.capture);
        }
        other => panic!("{other:?}"),
    }

    // Two sessions bind the same address at once.
    let mut a = relay.connect().await;
    let mut b = relay.connect().await;
    for c in [&mut a, &mut b] {
        let s = c.socket(2, 1).await;
        c.ok(json!({"op": "bind", "sock": s, "addr": {"host": "127.0.0.1", "port": 5500}})).await;
        c.ok(json!({"op": "listen", "sock": s})).await;
    }

    // A listener on the host's loopback is not reachable from a session.
    let host = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = host.local_addr().unwrap().port();
    let s = a.socket(2, 1).await;
    match a.call(json!({"op": "connect", "sock": s, "addr": {"host": "127.0.0.1", "port": port}})).await {
        ServerMsg::Result { outcome: Outcome::Err { error }, .. } => assert_eq!(error.errno, "ECONNREFUSED"),
        other => panic!("the host listener answered: {other:?}"),
    }
}

/// Open fds and distinct network namespaces the relay process holds.
fn holdings(relay: &Relay) -> (usize, usize) {
    let mut namespaces = std::collections::BTreeSet::new();
    let pid = relay.pid();
    let links = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .chain(std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten())
        .flatten();
    for entry in links {
        let path = entry.path();
        for candidate in [path.clone(), path.join("ns/net")] {
            if let Ok(target) = std::fs::read_link(&candidate)
                && target.to_string_lossy().starts_with("net:")
            {
                namespaces.insert(target);
            }
        }
    }
    (relay.fd_count(), namespaces.len())
}

#[tokio::test]
async fn two_hundred_sessions_leave_nothing_behind() {
    let relay = Relay::start();
    relay.connect().await.close().await;
    // The warm-up session's namespace goes away in the background: wait until nothing changes.
    let mut before = holdings(&relay);
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let now = holdings(&relay);
        if now == before {
            break;
        }
        before = now;
    }
    for _ in 0..200 {
        let mut c = relay.connect().await;
        let s = c.socket(2, 1).await;
        c.ok(json!({"op": "bind", "sock": s, "addr": {"host": "127.0.0.1", "port": 5500}})).await;
        c.ok(json!({"op": "listen", "sock": s})).await;
        drop(c);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let now = holdings(&relay);
        if now == before {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "before {before:?}, after {now:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
