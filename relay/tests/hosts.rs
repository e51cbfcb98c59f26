//! Lanes on hosts through `socklab run`: each host its own namespace on a
//! shared link, names that resolve, `lab_link` on real qdiscs (or the relay's
//! forwarder, without netem), and host mode
//! refusing all of it in words.

mod common;

use common::run_script;

const TWO_HOSTS: &str = r#"
# lane: server @ server
srv = socket(AF_INET, SOCK_STREAM)
srv.bind(("0.0.0.0", 5000))
srv.listen(1)
conn, addr = srv.accept()
print(addr[0])
data = b""
while len(data) < 10000:
    data += conn.recv(65536)
print(len(data))
conn.close()
srv.close()

# lane: client @ laptop
lab_link("laptop", "server", rate="10mbit", mtu=1500)
print(gethostbyname("server"))
print(getaddrinfo("laptop", 80, AF_INET, SOCK_STREAM)[0][4][0])
cli = socket(AF_INET, SOCK_STREAM)
cli.connect(("server", 5000))
print(cli.getsockname()[0])
cli.sendall(b"x" * 10000)
cli.close()
"#;

const THREE_HOSTS: &str = r#"
# lane: a @ alpha
u = socket(AF_INET, SOCK_DGRAM)
u.bind(("alpha", 7000))
data, addr = u.recvfrom(100)
print(data, addr[0])
data, addr = u.recvfrom(100)
print(data, addr[0])
u.close()

# lane: b @ beta
s = socket(AF_INET, SOCK_DGRAM)
lab_link("beta", mtu=1400)
s.sendto(b"from beta", ("alpha", 7000))
s.close()

# lane: c @ gamma
s = socket(AF_INET, SOCK_DGRAM)
sleep(0.05)
s.sendto(b"from gamma", ("alpha", 7000))
try:
    s.connect(("1.1.1.1", 53))
    s.send(b"out")
except OSError as e:
    print("no way out:", e.errno)
s.close()
"#;

/// `tshark -r FILE -T fields -e FIELD…`: one line per packet.
fn tshark(file: &std::path::Path, fields: &[&str]) -> Vec<String> {
    let mut command = std::process::Command::new("tshark");
    command.arg("-r").arg(file).args(["-T", "fields"]);
    for field in fields {
        command.args(["-e", field]);
    }
    let out = command.output().expect("tshark runs (scripts/setup.sh installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn lanes_on_two_and_three_hosts() {
    let dir = tempfile::tempdir().expect("dir");
    let pcap = dir.path().join("run.pcapng");
    let run = run_script(TWO_HOSTS, &["--pcap", pcap.to_str().expect("utf-8")]);
    run.assert_all_finished();
    // The wire: every packet once, named by its sender; MTU 1500 makes 10 KB at most 1448 bytes a segment.
    let sent: Vec<_> = run.lines.iter().filter(|l| l["kind"] == "segment" && l["host"].is_string()).collect();
    let data: Vec<u64> = sent
        .iter()
        .filter(|l| l["host"] == "laptop" && l["proto"] == "TCP")
        .map(|l| l["len"].as_u64().expect("len"))
        .filter(|&len| len > 0)
        .collect();
    assert_eq!(data.iter().sum::<u64>(), 10_000, "{}", run.stdout);
    assert!(data.iter().all(|&len| len <= 1448), "{data:?}");
    assert!(sent.iter().any(|l| l["proto"] == "ARP" && l["flags"] == "who-has"), "{}", run.stdout);
    // tshark reads the pcapng and counts the same packets, each on the one link, with the
    // line of the last call its sender made.
    let packets = tshark(&pcap, &["frame.interface_name", "frame.comment"]);
    assert_eq!(packets.len(), sent.len(), "{packets:?}");
    assert!(packets.iter().all(|p| p.starts_with("server—laptop\t")), "{packets:?}");
    // (The line is the last call's before the kernel stamped the frame: timing decides which.)
    let lines = |host: &str, lane: &str, range: std::ops::RangeInclusive<u32>| {
        packets.iter().any(|p| range.clone().any(|n| p.contains(&format!("sent by {host} after line {n} ({lane})"))))
    };
    assert!(lines("laptop", "client", 20..=23) && lines("server", "server", 6..=13), "{packets:?}");
    // Hosts are numbered in order of first appearance: server 10.0.0.1, laptop 10.0.0.2.
    assert_eq!(run.prints("client"), ["10.0.0.1", "10.0.0.2", "10.0.0.2"], "{}", run.stdout);
    assert_eq!(run.prints("server"), ["10.0.0.2", "10000"], "{}", run.stdout);

    let run = run_script(THREE_HOSTS, &[]);
    run.assert_all_finished();
    let mut got = run.prints("a");
    got.sort();
    assert_eq!(got, ["b'from beta' 10.0.0.2", "b'from gamma' 10.0.0.3"], "{}", run.stdout);
    // ENETUNREACH: the hosts have only their subnet's route.
    assert_eq!(run.prints("c"), ["no way out: 101"], "{}", run.stdout);
}

const LOSSY: &str = r#"
# lane: server @ server
srv = socket(AF_INET, SOCK_STREAM)
srv.bind(("server", 5000))
srv.listen(1)
conn, addr = srv.accept()
data = b""
while len(data) < 300000:
    data += conn.recv(65536)
print(len(data), data == bytes(range(250)) * 1200)
conn.close()

# lane: client @ laptop
lab_link("laptop", "server", delay=0.002, loss=15)
cli = socket(AF_INET, SOCK_STREAM)
cli.connect(("server", 5000))
cli.sendall(bytes(range(250)) * 1200)
cli.close()
"#;

const DOUBLED: &str = r#"
# lane: server @ server
u = socket(AF_INET, SOCK_DGRAM)
u.bind(("server", 6000))
u.settimeout(0.5)
n = 0
try:
    while True:
        u.recv(100)
        n += 1
except OSError:
    print(n)

# lane: client @ laptop
lab_link("laptop", "server", duplicate=50)
v = socket(AF_INET, SOCK_DGRAM)
for i in range(40):
    v.sendto(b"twice?", ("server", 6000))
"#;

/// A lossy link on real sockets: the data arrives intact, the sender's
/// `tcp_info` samples count retransmissions and the wire view marks them, and
/// each lost segment shows as sent, by its sender, again.
#[test]
fn a_lossy_link_retransmits_and_the_views_show_it() {
    let doubled = std::thread::spawn(|| run_script(DOUBLED, &[]));
    let run = run_script(LOSSY, &[]);
    run.assert_all_finished();
    assert_eq!(run.prints("server"), ["300000 True"], "{}", run.stdout);
    let retrans = run
        .lines
        .iter()
        .filter(|l| l["kind"] == "tcp_info" && l["socket"] == "cli")
        .filter_map(|l| l["info"]["total_retrans"].as_u64())
        .max();
    assert!(retrans > Some(0), "{}", run.stdout);
    let marked = run
        .lines
        .iter()
        .filter(|l| l["kind"] == "segment" && l["host"] == "laptop")
        .filter(|l| l["expert"].as_array().is_some_and(|m| m.iter().any(|m| m == "retransmission")))
        .count();
    assert!(marked > 0, "{}", run.stdout);
    // The receiver's duplicate ACKs bring some of them on fast (4 to 15 of about 40 a run),
    // and a fast one is a retransmission too.
    let marks = |l: &&serde_json::Value| l["expert"].as_array().cloned().unwrap_or_default();
    let fast: Vec<_> = run
        .lines
        .iter()
        .filter(|l| l["kind"] == "segment" && l["host"] == "laptop")
        .filter(|l| marks(l).iter().any(|m| m == "fast_retransmission"))
        .collect();
    assert!(!fast.is_empty(), "{}", run.stdout);
    assert!(fast.iter().all(|l| marks(l).iter().any(|m| m == "retransmission")), "{fast:?}");

    // A link that duplicates: the receiver gets more datagrams than were sent, and
    // the wire view shows each copy, as sent by laptop.
    let run = doubled.join().expect("run");
    run.assert_all_finished();
    let got: usize = run.prints("server").first().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{}", run.stdout));
    assert!((45..80).contains(&got), "{got} of 40: {}", run.stdout);
    let shown = run.lines.iter().filter(|l| l["kind"] == "segment" && l["host"] == "laptop" && l["proto"] == "UDP").count();
    assert_eq!(shown, got, "{}", run.stdout);
}

#[test]
fn bad_links_and_host_mode_are_refused_in_words() {
    let run = run_script("# lane: a @ one\nlab_link(\"one\", \"two\", loss=5)\n# lane: b @ two\nx = 1\n", &[]);
    // With netem or without (then the relay emulates the link), loss is accepted.
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = run_script("# lane: a @ one\nlab_link(\"one\", \"three\")\n# lane: b @ two\nx = 1\n", &[]);
    assert!(run.stdout.contains("no host \\\"three\\\"") || run.stdout.contains("no host \"three\""), "{}", run.stdout);
    let run = run_script("# lane: a @ one\nlab_link(\"one\", loss=250)\n", &[]);
    assert!(run.stdout.contains("percentage between 0 and 100"), "{}", run.stdout);

    let run = run_script(TWO_HOSTS, &["--sandbox", "host"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("host mode"), "{}", run.stderr);
}

/// The page's path: over a WebSocket, `lab_hosts` first, then sockets made on a
/// host by name, a link's conditions, and segments naming their sender.
#[tokio::test]
async fn a_websocket_session_makes_hosts_and_uses_them() {
    use common::{Relay, b64};
    use serde_json::json;
    use socklab_wire::protocol::{ServerMsg, Outcome};
    let relay = Relay::start();
    let mut c = relay.connect().await;
    c.ok(json!({"op": "lab_hosts", "hosts": ["server", "laptop"]})).await;
    c.ok(json!({"op": "lab_hosts", "hosts": ["server", "laptop"]})).await;
    c.ok(json!({"op": "lab_link", "a": "laptop", "b": "server", "rate": 2_000_000, "mtu": 1500})).await;
    let srv = c.ok(json!({"op": "socket", "family": 2, "type": 1, "host": "server"})).await["info"]["sock"].as_u64().unwrap();
    c.ok(json!({"op": "bind", "sock": srv, "addr": {"host": "server", "port": 80}})).await;
    c.ok(json!({"op": "listen", "sock": srv})).await;
    let cli = c.ok(json!({"op": "socket", "family": 2, "type": 1, "host": "laptop"})).await["info"]["sock"].as_u64().unwrap();
    c.ok(json!({"op": "connect", "sock": cli, "addr": {"host": "server", "port": 80}})).await;
    c.ok(json!({"op": "sendall", "sock": cli, "data": b64(b"hi")})).await;
    let name = c.ok(json!({"op": "getsockname", "sock": cli})).await;
    assert_eq!(name["addr"]["host"], "10.0.0.2");
    match c.call(json!({"op": "lab_hosts", "hosts": ["other"]})).await {
        ServerMsg::Result { outcome: Outcome::Err { error }, .. } => assert!(error.message.contains("made already"), "{error:?}"),
        ServerMsg::Error { message, .. } => assert!(message.contains("made already"), "{message}"),
        other => panic!("{other:?}"),
    }
    // Data laptop sends shows on the wire, named by its sender.
    c.start(json!({"op": "sendall", "sock": cli, "data": b64(&[7; 3000])})).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let next = tokio::time::timeout_at(deadline, c.next()).await.expect("a segment from laptop");
        if let ServerMsg::Event { event: socklab_wire::protocol::Event::Segment { host: Some(host), len, .. } } = next
            && host == "laptop"
            && len > 0
        {
            assert!(len <= 1448, "{len}");
            break;
        }
    }
}

const UNIX_PER_HOST: &str = r#"
# lane: a @ one
u = socket(AF_UNIX, SOCK_STREAM)
u.bind("/tmp/lab.sock")
u.listen(1)
print(os.path.exists("/tmp/lab.sock"))

# lane: b @ two
v = socket(AF_UNIX, SOCK_STREAM)
print(os.path.exists("/tmp/lab.sock"))
v.bind("/tmp/lab.sock")
w = socket(AF_UNIX, SOCK_STREAM)
try:
    w.connect("/tmp/only-on-one.sock")
except OSError as e:
    print(e.errno)
os.unlink("/tmp/lab.sock")
print(os.path.exists("/tmp/lab.sock"))
"#;

#[test]
fn a_host_s_closed_connections_are_followed_into_time_wait() {
    let run = run_script(
        r#"
# lane: server @ server
s = socket(AF_INET, SOCK_STREAM)
s.bind(("server", 7000))
s.listen(1)
c, a = s.accept()
c.recv(10)
c.close()
s.close()

# lane: client @ laptop
k = socket(AF_INET, SOCK_STREAM)
k.connect(("server", 7000))
k.send(b"hi")
sleep(0.3)
k.close()
"#,
        &[],
    );
    run.assert_all_finished();
    let moves = |socket: &str| -> Vec<String> {
        run.lines
            .iter()
            .filter(|l| l["kind"] == "state" && l["socket"] == socket)
            .map(|l| format!("{} → {}", l["from"].as_str().unwrap_or("?"), l["to"].as_str().unwrap_or("?")))
            .collect()
    };
    // The kernel hands the first closer's connection to a timewait bucket, seen
    // only through sock_diag in the host's own namespace.
    let closer = moves("c");
    assert!(closer.ends_with(&["FIN_WAIT1 → FIN_WAIT2".into(), "FIN_WAIT2 → TIME_WAIT".into()]), "{closer:?}\n{}", run.stdout);
    let other = moves("k");
    assert!(other.ends_with(&["CLOSE_WAIT → LAST_ACK".into(), "LAST_ACK → CLOSE".into()]), "{other:?}\n{}", run.stdout);
}

#[test]
fn lab_peers_and_outside_names_are_each_host_s_own() {
    let run = run_script(
        r#"
# lane: client @ laptop
host, port = lab_peer("echo")
s = socket(AF_INET, SOCK_STREAM)
s.connect((host, port))
s.sendall(b"ping")
print(s.recv(10))
s.close()
w = socket(AF_INET, SOCK_STREAM)
w.connect(("www.python.org", 80))
w.sendall(b"GET / HTTP/1.0\r\nHost: www.python.org\r\n\r\n")
print(w.recv(12))
w.close()

# lane: other @ server
host, port = lab_peer("echo")
print(host, port)
"#,
        &[],
    );
    run.assert_all_finished();
    // Each host's peer listens on its own loopback: the one laptop asked for answers there.
    assert_eq!(run.prints("client"), ["b'ping'", "b'HTTP/1.1 200'"], "{}", run.stdout);
    assert_eq!(run.prints("other"), ["127.0.0.1 7"], "{}", run.stdout);
    let resolved: Vec<_> = run.lines.iter().filter(|l| l["kind"] == "resolved").collect();
    assert!(resolved.iter().any(|l| l["name"] == "www.python.org" && l["peer"] == "http"), "{}", run.stdout);
}

#[test]
fn an_icmp_error_that_comes_while_a_call_waits_wakes_it() {
    // The port unreachable comes back 0.4 s after each send, while recv and
    // select already wait: a pending error is EPOLLERR alone, and must end both.
    let run = run_script(
        r#"
# lane: server @ server
x = 1

# lane: client @ laptop
lab_link("laptop", "server", delay=0.2)
s = socket(AF_INET, SOCK_DGRAM)
s.connect(("server", 6800))
s.send(b"anyone there?")
try:
    s.recv(100)
except OSError as e:
    print("recv:", e.errno)
sleep(1.1)
s.send(b"again")
r, w, e = select([s], [], [], 5)
print("select:", r == [s])
"#,
        &["--deadlock-timeout", "3"],
    );
    run.assert_all_finished();
    assert_eq!(run.prints("client"), ["recv: 111", "select: True"], "{}", run.stdout);
}

#[test]
fn unix_paths_are_per_host() {
    let run = run_script(&format!("import os\n{UNIX_PER_HOST}"), &[]);
    run.assert_all_finished();
    assert_eq!(run.prints("a"), ["True"], "{}", run.stdout);
    // Host two sees none of host one's paths: its own bind succeeds, a connect finds nothing (ENOENT).
    assert_eq!(run.prints("b"), ["False", "2", "False"], "{}", run.stdout);
}

/// The page's download: a `pcap` request gets the session's link capture as
/// pcapng (tshark reads it: one interface per link, each packet's comment
/// naming its sender and the line the request's marks put before it); bad
/// requests are refused in words and the session goes on.
#[tokio::test]
async fn a_websocket_session_downloads_its_capture_as_pcapng() {
    use common::{Relay, b64};
    use serde_json::json;
    use socklab_wire::protocol::{ErrorCode, Event, Outcome, ServerMsg};
    let relay = Relay::start();
    let mut c = relay.connect().await;
    // No hosts, no link, nothing captured: refused, naming why.
    c.send_json(json!({"type": "pcap", "id": 90})).await;
    match c.answer(90).await {
        ServerMsg::Error { code: ErrorCode::BadArguments, message, .. } => assert!(message.contains("no hosts"), "{message}"),
        other => panic!("{other:?}"),
    }
    c.ok(json!({"op": "lab_hosts", "hosts": ["server", "laptop"]})).await;
    let srv = c.ok(json!({"op": "socket", "family": 2, "type": 1, "host": "server"})).await["info"]["sock"].as_u64().unwrap();
    c.ok(json!({"op": "bind", "sock": srv, "addr": {"host": "server", "port": 80}})).await;
    c.ok(json!({"op": "listen", "sock": srv})).await;
    let cli = c.ok(json!({"op": "socket", "family": 2, "type": 1, "host": "laptop"})).await["info"]["sock"].as_u64().unwrap();
    let connect = c.start(json!({"op": "connect", "sock": cli, "addr": {"host": "server", "port": 80}})).await;
    let ServerMsg::Result { outcome: Outcome::Ok { .. }, ts_us: Some(connected_at), .. } = c.answer(connect).await else {
        panic!("connect failed")
    };
    c.ok(json!({"op": "sendall", "sock": cli, "data": b64(&[7; 3000])})).await;
    // Every frame the wire view shows, once the sender's 3000 bytes are all out.
    let mut shown = 0;
    let mut data = 0;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while data < 3000 {
        for event in c.events.drain(..) {
            if let Event::Segment { host: Some(host), len, .. } = event {
                shown += 1;
                data += if host == "laptop" { len } else { 0 };
            }
        }
        if data >= 3000 {
            break;
        }
        match tokio::time::timeout_at(deadline, c.next()).await.expect("the data on the wire") {
            ServerMsg::Event { event } => c.events.push(event),
            other => panic!("{other:?}"),
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    while let Ok(msg) = tokio::time::timeout(std::time::Duration::from_millis(200), c.next()).await {
        if let ServerMsg::Event { event: Event::Segment { host: Some(_), .. } } = msg {
            shown += 1;
        }
    }
    let marks = json!([{"ts_us": connected_at, "host": "laptop", "lane": "client", "line": 4}]);
    c.send_json(json!({"type": "pcap", "id": 91, "marks": marks})).await;
    let (file, packets, dropped) = loop {
        match c.next().await {
            ServerMsg::Pcap { id: 91, data, packets, dropped } => break (data.b64, packets, dropped),
            ServerMsg::Event { .. } => {}
            other => panic!("{other:?}"),
        }
    };
    assert_eq!((packets as usize, dropped), (shown, 0), "every frame the wire view showed");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("page.pcapng");
    std::fs::write(&path, &file).expect("write");
    let read = tshark(&path, &["frame.interface_name", "frame.comment"]);
    assert_eq!(read.len(), shown, "{read:?}");
    assert!(read.iter().all(|p| p.starts_with("server—laptop\t")), "{read:?}");
    assert!(read.iter().any(|p| p.ends_with("sent by laptop after line 4 (client)")), "{read:?}");
    assert!(read.iter().any(|p| p.ends_with("sent by server")), "the server made no call the marks name: {read:?}");

    // Bad requests: named, and the session goes on.
    let too_many: Vec<_> = (0..10_001).map(|i| json!({"ts_us": i, "host": "laptop", "lane": "c", "line": 1})).collect();
    for (id, marks, needle) in [
        (92, json!(too_many), "more than the 10000"),
        (93, json!([{"ts_us": 1, "host": "../etc", "lane": "c", "line": 1}]), "names host"),
        (94, json!([{"ts_us": 1, "host": "laptop", "lane": "c".repeat(300), "line": 1}]), "at most 200 bytes"),
        (95, json!([{"ts_us": -1, "host": "laptop", "lane": "c", "line": 1}]), "bad arguments for pcap"),
    ] {
        c.send_json(json!({"type": "pcap", "id": id, "marks": marks})).await;
        match c.answer(id).await {
            ServerMsg::Error { code: ErrorCode::BadArguments | ErrorCode::TooLarge, message, .. } => {
                assert!(message.contains(needle), "{id}: {message}")
            }
            other => panic!("{id}: {other:?}"),
        }
    }
    let name = c.ok(json!({"op": "getsockname", "sock": cli})).await;
    assert_eq!(name["addr"]["host"], "10.0.0.2");

    // Host mode: no hosts, no capture, said so.
    let host = Relay::start_with(&["--sandbox", "host"]);
    let mut c = host.connect().await;
    c.send_json(json!({"type": "pcap", "id": 1})).await;
    match c.answer(1).await {
        ServerMsg::Error { code: ErrorCode::BadArguments, message, .. } => assert!(message.contains("host mode"), "{message}"),
        other => panic!("{other:?}"),
    }
}
