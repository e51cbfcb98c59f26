//! `socklab run --json` on real kernel sockets: one script per behaviour.

mod common;

use common::run_script;
use serde_json::Value;

#[test]
fn tcp_echo_between_a_server_lane_and_a_client_lane() {
    let run = run_script(
        r#"
# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 15501))
srv.listen(5)
conn, addr = srv.accept()
msg = conn.recv(1024)
conn.send(msg)
conn.close()
srv.close()

# lane: client
cli = socket(AF_INET, SOCK_STREAM)
cli.connect(("127.0.0.1", 15501))
cli.send(b"hello socket world")
reply = cli.recv(1024)
assert reply == b"hello socket world"
cli.close()
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.result_of("conn.recv(1024)"), "b'hello socket world'");
    assert_eq!(run.result_of("cli.send("), "18");
    assert!(run.result_of("srv.accept()").contains("('127.0.0.1', "));
    // The server lane (first in the file) ran up to its blocking accept before the client lane started.
    let order: Vec<_> = run.lines.iter().filter(|l| l["kind"] == "step").map(|l| l["lane"].as_str().unwrap()).collect();
    assert_eq!(&order[..5], ["server", "server", "server", "server", "client"]);
}

#[test]
fn udp_keeps_datagram_boundaries_where_tcp_coalesces() {
    let run = run_script(
        r#"
# lane: server
s = socket(AF_INET, SOCK_DGRAM)
s.bind(("127.0.0.1", 15502))
first, addr = s.recvfrom(1024)
second, addr = s.recvfrom(1024)
s.sendto(first + second, addr)
t = socket(AF_INET, SOCK_STREAM)
t.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
t.bind(("127.0.0.1", 15502))
t.listen(1)
conn, peer = t.accept()
both = conn.recv(100)
print(both)

# lane: client
c = socket(AF_INET, SOCK_DGRAM)
c.sendto(b"one", ("127.0.0.1", 15502))
c.sendto(b"two", ("127.0.0.1", 15502))
echo, frm = c.recvfrom(1024)
assert echo == b"onetwo"
k = socket(AF_INET, SOCK_STREAM)
k.connect(("127.0.0.1", 15502))
k.send(b"one")
k.send(b"two")
k.close()
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.result_of("first, addr = s.recvfrom(1024)").split(", (").next().unwrap(), "(b'one'");
    assert!(run.result_of("second, addr = s.recvfrom(1024)").starts_with("(b'two'"));
    assert_eq!(run.prints("server"), ["b'onetwo'"]);
}

#[test]
fn unix_stream_datagram_and_abstract_echo() {
    let run = run_script(
        r#"
# lane: server
st = socket(AF_UNIX, SOCK_STREAM)
st.bind("/tmp/echo.sock")
st.listen(1)
conn, addr = st.accept()
conn.sendall(conn.recv(100))
conn.close()
dg = socket(AF_UNIX, SOCK_DGRAM)
dg.bind("/srv.sock")
data, peer = dg.recvfrom(100)
dg.sendto(data, peer)
ab = socket(AF_UNIX, SOCK_SEQPACKET)
ab.bind("\0socklab-test-abstract")
ab.listen(1)
c3, a3 = ab.accept()
c3.send(c3.recv(100))

# lane: client
a = socket(AF_UNIX, SOCK_STREAM)
a.connect("/tmp/echo.sock")
a.send(b"stream")
assert a.recv(100) == b"stream"
b = socket(AF_UNIX, SOCK_DGRAM)
b.bind("/cli.sock")
b.sendto(b"datagram", "/srv.sock")
reply, frm = b.recvfrom(100)
assert reply == b"datagram"
assert frm == "/srv.sock"
c = socket(AF_UNIX, SOCK_SEQPACKET)
c.connect("\0socklab-test-abstract")
c.send(b"abstract")
assert c.recv(100) == b"abstract"
print(c.getpeername() == "\0socklab-test-abstract")
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.prints("client"), ["True"]);
}

#[test]
fn a_short_send_and_the_sendall_loop() {
    let run = run_script(
        r#"
# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096)
srv.bind(("127.0.0.1", 15503))
srv.listen(1)
conn, addr = srv.accept()
total = 0
while total < 3000000:
    total += len(conn.recv(65536))
print(total)

# lane: client
c = socket(AF_INET, SOCK_STREAM)
c.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096)
c.connect(("127.0.0.1", 15503))
c.setblocking(False)
sent = c.send(b"x" * 1000000)
print(sent < 1000000)
data = b"y" * 1000000
done = 0
try:
    while done < len(data):
        done += c.send(data[done:])
except OSError as e:
    print(e.errno)
c.setblocking(True)
c.sendall(b"z" * (2000000 - sent))
c.sendall(data[done:])
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.prints("client"), ["True", "11"]);
    assert_eq!(run.prints("server"), ["3000000"]);
    let sent: i64 = run.result_of("sent = c.send(").parse().unwrap();
    assert!(sent > 0 && sent < 1_000_000, "short send of {sent}");
}

#[test]
fn a_blocking_send_waits_until_every_byte_is_queued() {
    let run = run_script(
        r#"
# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096)
srv.bind(("127.0.0.1", 15514))
srv.listen(1)
conn, addr = srv.accept()
total = 0
while total < 1000000:
    total += len(conn.recv(65536))
print(total)

# lane: client
c = socket(AF_INET, SOCK_STREAM)
c.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096)
c.connect(("127.0.0.1", 15514))
print(c.send(b"x" * 1000000))
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.prints("client"), ["1000000"]);
    assert_eq!(run.prints("server"), ["1000000"]);
}

#[test]
fn recv_returns_empty_bytes_after_the_peer_closes() {
    let run = run_script(
        r#"
# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 15504))
srv.listen(1)
conn, addr = srv.accept()
first = conn.recv(100)
rest = conn.recv(100)
assert rest == b""

# lane: client
c = socket(AF_INET, SOCK_STREAM)
c.connect(("127.0.0.1", 15504))
c.send(b"bye")
c.close()
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.result_of("rest = conn.recv(100)"), "b''");
}

#[test]
fn connection_refused_and_address_in_use_are_the_kernels_errnos() {
    let run = run_script(
        r#"
c = socket(AF_INET, SOCK_STREAM)
try:
    c.connect(("127.0.0.1", 15505))
except OSError as e:
    print(e.errno, e.strerror)
print(c.connect_ex(("127.0.0.1", 15505)))
a = socket(AF_INET, SOCK_STREAM)
a.bind(("127.0.0.1", 15506))
a.listen(1)
b = socket(AF_INET, SOCK_STREAM)
b.bind(("127.0.0.1", 15506))
"#,
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let prints = run.prints("main");
    assert_eq!(prints, ["111 Connection refused", "111"]);
    let refused = run.step("c.connect((");
    assert_eq!(refused["ok"], false);
    assert_eq!(refused["errno"], "ECONNREFUSED");
    assert_eq!(refused["errno_num"], 111);
    let in_use = run.step("b.bind((");
    assert_eq!(in_use["errno"], "EADDRINUSE");
    assert_eq!(in_use["errno_num"], 98);
    assert_eq!(run.lane_end("main")["status"], "error");
    assert_eq!(run.lane_end("main")["line"], 12);
}

#[test]
fn timeouts_and_non_blocking_sockets_give_eagain() {
    let run = run_script(
        r#"
s = socket(AF_INET, SOCK_DGRAM)
s.bind(("127.0.0.1", 15507))
s.settimeout(0.2)
try:
    s.recv(10)
except OSError as e:
    print("settimeout", e.errno, e.strerror)
s.settimeout(None)
s.setsockopt(SOL_SOCKET, SO_RCVTIMEO, 1)
try:
    s.recvfrom(10)
except OSError as e:
    print("SO_RCVTIMEO", e.errno)
s.setblocking(False)
try:
    s.recv(10)
except OSError as e:
    print("setblocking", e.errno)
s.setblocking(True)
try:
    s.recv(10, MSG_DONTWAIT)
except OSError as e:
    print("MSG_DONTWAIT", e.errno)
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(
        run.prints("main"),
        ["settimeout None None", "SO_RCVTIMEO 11", "setblocking 11", "MSG_DONTWAIT 11"]
    );
}

#[test]
fn select_reports_readiness_and_peek_and_waitall_work() {
    let run = run_script(
        r#"
# lane: a
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 15509))
srv.listen(1)
s = socket(AF_INET, SOCK_DGRAM)
s.bind(("127.0.0.1", 15508))
r, w, x = select([s], [s], [], 0)
print(len(r), len(w))
s.sendto(b"ping", ("127.0.0.1", 15508))
r, w, x = select([s], [], [], 1.0)
print(r[0] == s)
print(s.recv(10, MSG_PEEK))
print(s.recv(10))
r, w, x = select([s], [], [], 0.1)
print(r)
conn, addr = srv.accept()
print(conn.recv(6, MSG_WAITALL))

# lane: b
c = socket(AF_INET, SOCK_STREAM)
c.connect(("127.0.0.1", 15509))
c.send(b"abc")
sleep(0.1)
c.send(b"def")
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.prints("a"), ["0 1", "True", "b'ping'", "b'ping'", "[]", "b'abcdef'"]);
}

#[test]
fn ipv6_echo_on_loopback() {
    let run = run_script(
        r#"
# lane: server
srv = socket(AF_INET6, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind(("::1", 15510))
srv.listen(1)
conn, addr = srv.accept()
conn.send(conn.recv(100))

# lane: client
c = socket(AF_INET6, SOCK_STREAM)
c.connect(("::1", 15510))
c.send(b"six")
assert c.recv(100) == b"six"
print(c.getpeername())
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.prints("client"), ["('::1', 15510, 0, 0)"]);
}

#[test]
fn a_deadlocked_script_is_reported_as_blocked() {
    let run = run_script(
        r#"
# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 15511))
srv.listen(1)
conn, addr = srv.accept()
conn.recv(10)

# lane: client
c = socket(AF_INET, SOCK_STREAM)
c.connect(("127.0.0.1", 15511))
c.recv(10)
"#,
        &["--deadlock-timeout", "0.3"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.lane_end("server")["status"], "blocked");
    assert_eq!(run.lane_end("server")["line"], 8);
    assert_eq!(run.lane_end("client")["status"], "blocked");
    assert_eq!(run.lane_end("client")["line"], 13);
}

#[test]
fn a_script_that_does_not_parse_runs_nothing() {
    let run = run_script("s = socket(AF_INET, SOCK_STREAM)\ns.bind((\"127.0.0.1\", 15512)\n", &[]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let first = run.stderr.lines().next().unwrap();
    let mut parts = first.splitn(4, ':');
    assert!(parts.next().unwrap().ends_with(".sock.py"), "{first}");
    let line: u32 = parts.next().unwrap().parse().unwrap();
    let _col: u32 = parts.next().unwrap().parse().unwrap();
    assert!(line >= 2, "{first}");
    assert!(!parts.next().unwrap().trim().is_empty());
}

#[test]
fn human_output_names_calls_errnos_and_lane_ends() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, b"c = socket(AF_INET, SOCK_STREAM)\nc.connect((\"127.0.0.1\", 15513))\n").unwrap();
    let out = std::process::Command::new(common::BIN).arg("run").arg(file.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("main:2  c.connect((\"127.0.0.1\", 15513))  → ECONNREFUSED (111): "), "{text}");
    assert!(text.contains("main: stopped on an error at line 2"), "{text}");
    // CPython's traceback comes first, as the lane's error output.
    assert!(
        text.contains(
            "main! Traceback (most recent call last):\nmain!   File \"main.py\", line 2, in <module>\n\
             main!     c.connect((\"127.0.0.1\", 15513))\nmain! ConnectionRefusedError: [Errno 111] Connection refused\n\
             main: stopped on an error at line 2"
        ),
        "{text}"
    );
}

#[test]
fn connect_to_an_outside_name_reaches_the_http_lab_peer_as_gethostbyname_does() {
    // The socket HOWTO's first lines: no gethostbyname, the name in the address.
    let run = run_script(
        "s = socket(AF_INET, SOCK_STREAM)\ns.connect((\"www.python.org\", 80))\n\
         s.sendall(b\"GET / HTTP/1.0\\r\\n\\r\\n\")\nprint(s.recv(12))\ns.close()\n",
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.prints("main"), ["b'HTTP/1.1 200'"], "{}", run.stdout);
    let resolved = run.lines.iter().find(|l| l["kind"] == "resolved").unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!((resolved["name"].as_str(), resolved["peer"].as_str()), (Some("www.python.org"), Some("http")));
    // A name the lab cannot take for an outside host is still errno -2.
    let run = run_script("s = socket(AF_INET, SOCK_STREAM)\ns.connect((\"nosuchhost\", 80))\n", &[]);
    assert!(run.lines.iter().any(|l| l["errno"] == "EAI_NONAME" && l["errno_num"] == -2), "{}", run.stdout);
}

#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    use std::io::{BufRead, BufReader};
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, b"for i in range(100000):\n    print(i)\n").unwrap();
    let mut child = std::process::Command::new(common::BIN)
        .arg("run")
        .arg(file.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("main:1"), "{first}");
    // The reader is gone (as `| head` goes): the next write fails with EPIPE.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn getaddrinfo_and_create_connection_take_an_outside_name_to_the_http_lab_peer() {
    let run = run_script(
        r#"import socket
infos = socket.getaddrinfo("example.com", 80, type=socket.SOCK_STREAM)
print(infos[0][4])
s = socket.create_connection(("www.example.org", 80))
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
print(s.recv(15))
s.close()
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.prints("main"), ["('127.0.0.1', 80)", "b'HTTP/1.1 200 OK'"], "{}", run.stdout);
    let resolved: Vec<_> = run.lines.iter().filter(|l| l["kind"] == "resolved").map(|l| l["name"].clone()).collect();
    assert_eq!(resolved, ["example.com", "www.example.org"]);
}

#[test]
fn the_run_limits_are_flags_and_a_lane_past_one_ends_while_the_others_go_on() {
    let run = run_script(
        r#"
# lane: hog
big = []
try:
    while True:
        big.append(b"x" * 65536)
except MemoryError as e:
    print("MemoryError:", e)
big = None
while True:
    print("y" * 1000)

# lane: echo
a, b = socketpair()
a.sendall(b"still here")
print(b.recv(100))
"#,
        &["--max-memory", "16MiB", "--max-output", "64KiB"],
    );
    let prints: Vec<&str> = run.lines.iter().filter(|l| l["kind"] == "print").map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(prints[0], "MemoryError: the program's values would take more than 16 MiB (socklab's memory limit)");
    assert!(prints.contains(&"b'still here'"), "{prints:?}");
    let hog_bytes: usize = run.lines.iter().filter(|l| l["kind"] == "print" && l["lane"] == "hog").map(|l| l["text"].as_str().unwrap().len() + 1).sum();
    assert!(hog_bytes <= 64 * 1024 + 1, "{hog_bytes} bytes printed");
    let end = run.lines.iter().find(|l| l["kind"] == "lane_end" && l["lane"] == "hog").expect("the hog lane ended");
    assert_eq!(end["status"], "error");
    assert_eq!(end["line"], 11);
    assert!(end["message"].as_str().unwrap().contains("output limit: this lane printed more than 64 KiB"), "{end}");

    let steps = run_script("n = 0\nwhile True:\n    n += 1\n", &["--max-steps", "500"]);
    let end = steps.lines.iter().find(|l| l["kind"] == "lane_end").expect("the lane ended");
    assert!(end["message"].as_str().unwrap().contains("stopped after 500 statements"), "{end}");
}

#[test]
fn setdefaulttimeout_reaches_new_accepted_and_connected_sockets_as_in_cpython() {
    // CPython 3.11 prints the same lines for this program.
    let run = run_script(
        r#"
import socket
print(socket.getdefaulttimeout())
socket.setdefaulttimeout(0.5)
print(socket.getdefaulttimeout())
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print(srv.gettimeout())
srv.bind(("127.0.0.1", 0))
srv.listen(1)
try:
    srv.accept()
except socket.timeout as e:
    print("accept timed out:", e)
port = srv.getsockname()[1]
c = socket.create_connection(("127.0.0.1", port))
print(c.gettimeout())
conn, addr = srv.accept()
print(conn.gettimeout())
try:
    conn.recv(10)
except socket.timeout as e:
    print("recv timed out:", e)
socket.setdefaulttimeout(None)
print(socket.socket().gettimeout(), socket.getdefaulttimeout())
try:
    socket.setdefaulttimeout(-1)
except ValueError as e:
    print("ValueError:", e)
"#,
        &[],
    );
    let prints: Vec<&str> = run.lines.iter().filter(|l| l["kind"] == "print").map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(prints.join("\n") + "\n", "None\n0.5\n0.5\naccept timed out: timed out\n0.5\n0.5\nrecv timed out: timed out\nNone None\nValueError: Timeout value out of range\n");
    run.assert_all_finished();
}

#[test]
fn a_barrier_whose_parties_never_come_breaks_at_its_timeout() {
    let run = run_script(
        "import threading\nb = threading.Barrier(2, timeout=0.05)\ntry:\n    b.wait()\nexcept threading.BrokenBarrierError:\n    print('broken:', b.broken)\n",
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.prints("main"), ["broken: True"]);
}

/// The page's echo example, as the page ships it.
fn echo_example() -> &'static str {
    let page = include_str!("../../frontend/src/state.rs");
    let start = page.find("pub const ECHO_EXAMPLE: &str = r#\"").expect("the page's echo example") + 34;
    &page[start..start + page[start..].find("\"#;").expect("its end")]
}

#[test]
fn calls_transitions_and_segments_come_in_the_kernels_order() {
    let run = run_script(echo_example(), &[]);
    run.assert_all_finished();
    let at = |what: &str, found: &dyn Fn(&Value) -> bool| {
        run.lines.iter().position(found).unwrap_or_else(|| panic!("no {what} in\n{}", run.stdout))
    };
    let connect = at("connect", &|l| l["kind"] == "step" && l["call"].as_str().unwrap().starts_with("cli.connect("));
    let send = at("send", &|l| l["kind"] == "step" && l["call"].as_str().unwrap().starts_with("cli.send("));
    let state = |socket: &'static str, to: &'static str| {
        move |l: &Value| l["kind"] == "state" && l["socket"] == socket && l["to"] == to
    };
    let syn_sent = at("SYN_SENT", &state("cli", "SYN_SENT"));
    let cli_established = at("cli ESTABLISHED", &state("cli", "ESTABLISHED"));
    let conn_established = at("conn ESTABLISHED", &state("conn", "ESTABLISHED"));
    let segment = |flags: &'static str, len: u64| move |l: &Value| l["kind"] == "segment" && l["flags"] == flags && l["len"] == len;
    let syn = at("SYN", &segment("SYN", 0));
    let syn_ack = at("SYN,ACK", &segment("SYN,ACK", 0));
    let ack = syn_ack + run.lines[syn_ack..].iter().position(segment("ACK", 0)).expect("the handshake's ACK");
    let data = at("the data", &segment("PSH,ACK", 18));
    let order = [connect, syn_sent, syn, syn_ack, ack, conn_established, send, data];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?} in\n{}", run.stdout);
    // Every line has its time, and the times never go back.
    let times: Vec<u64> = run.lines.iter().map(|l| l["ts_us"].as_u64().unwrap_or_else(|| panic!("no ts_us: {l}"))).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // The client is ESTABLISHED on the SYN-ACK, before it sends the ACK.
    assert!(syn_ack < cli_established && cli_established < ack, "{}", run.stdout);

    // The text transcript is the same order.
    let mut file = tempfile::Builder::new().suffix(".sock.py").tempfile().unwrap();
    std::io::Write::write_all(&mut file, echo_example().as_bytes()).unwrap();
    let text = std::process::Command::new(common::BIN).arg("run").arg(file.path()).output().expect("socklab run");
    let text = String::from_utf8_lossy(&text.stdout);
    let line = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("no {needle:?} in\n{text}"));
    assert!(line("cli.connect(") < line("cli  CLOSE → SYN_SENT"), "{text}");
    assert!(line("cli  CLOSE → SYN_SENT") < line("TCP SYN seq=0"), "{text}");
    assert!(line("TCP SYN,ACK") < line("cli  SYN_SENT → ESTABLISHED"), "{text}");
    assert!(line("cli  SYN_SENT → ESTABLISHED") < line("cli.send("), "{text}");
}

/// `--into-library`: socketserver's statements are steps of their own, each
/// with its module, function and depth; the server's bind is one of them,
/// and the script's own steps have no module. Without it, none has.
#[test]
fn into_library_reports_each_library_statement_with_its_module() {
    let script = r#"
# lane: server
import socketserver
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(self.request.recv(64))
srv = socketserver.TCPServer(("127.0.0.1", 15561), Echo)
srv.handle_request()
srv.server_close()

# lane: client
import socket
c = socket.create_connection(("127.0.0.1", 15561))
c.sendall(b"hi")
assert c.recv(64) == b"hi"
c.close()
"#;
    let run = run_script(script, &["--into-library"]);
    run.assert_all_finished();
    let steps: Vec<&Value> = run.lines.iter().filter(|l| l["kind"] == "step").collect();
    let library: Vec<&&Value> = steps.iter().filter(|l| l.get("module").is_some()).collect();
    assert!(library.iter().all(|l| l["function"].is_string() && l["depth"].as_u64().unwrap_or(0) >= 2), "{library:?}");
    let bind = library
        .iter()
        .find(|l| l["module"] == "socketserver" && l["call"].as_str().unwrap_or("").contains(".bind("))
        .expect("socketserver's bind is a step");
    assert_eq!(bind["function"], "TCPServer.server_bind");
    assert!(library.iter().any(|l| l["module"] == "selectors"), "handle_request waits in selectors");
    let handle = steps.iter().find(|l| l["function"] == "Echo.handle").expect("the script's handle");
    assert!(handle.get("module").is_none() && handle["depth"].as_u64().unwrap_or(0) > 3, "{handle}");
    assert!(steps.iter().any(|l| l["line"] == 7 && l["lane"] == "server" && l.get("module").is_none()));

    let plain = run_script(script, &[]);
    plain.assert_all_finished();
    assert!(plain.lines.iter().all(|l| l.get("module").is_none()));
}
