//! Interpreter transcripts, driven by a deterministic fake kernel and the
//! scheduler of `docs/language.md` (see `common`).

mod common;

use common::{FakeNet, run};
use socklab_lang::interp::{CallResult, EndStatus, InterpEvent, Interpreter, LaneState, Yield};
use socklab_lang::parse;
use socklab_wire::protocol::{Call, OsError, Outcome, PeerKind, Ret, SockInfo};

fn transcript(src: &str) -> String {
    run(src, &mut FakeNet::new())
}

#[test]
fn tcp_echo_from_the_spec() {
    let src = include_str!("scripts/echo.py");
    let mut net = FakeNet::new();
    let out = run(src, &mut net);
    insta::assert_snapshot!(out);
    // Every call reached the kernel exactly once.
    let sends = net
        .calls
        .iter()
        .filter(|c| matches!(c, Call::Send { .. }))
        .count();
    assert_eq!(sends, 2);
}

#[test]
fn connection_refused_is_caught() {
    insta::assert_snapshot!(transcript(
        r#"s = socket(AF_INET, SOCK_STREAM)
try:
    s.connect(("127.0.0.1", 5501))
    print("connected?")
except OSError as e:
    print("caught", e.errno, e.strerror, e.errno == ECONNREFUSED)
    print(e)
    print(repr(e))
finally:
    s.close()
print("done")
s2 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
err = s2.connect_ex(("127.0.0.1", 5501))
print(err, errno.ECONNREFUSED, time.time() > 0)
try:
    with s2:
        s2.connect(("127.0.0.1", 5501))
except socket.error as e:
    print("with closed it:", s2)
s2.connect(("127.0.0.1", 5501))
"#
    ));
}

#[test]
fn uncaught_error_stops_only_its_lane() {
    insta::assert_snapshot!(transcript(
        r#"# lane: a
s = socket(AF_INET, SOCK_STREAM)
s.connect(("127.0.0.1", 1))
print("not reached")

# lane: b
print("b runs on")
"#
    ));
}

#[test]
fn assert_failure() {
    insta::assert_snapshot!(transcript(
        r#"x = 1
assert x == 1
assert x == 2, "x should be " + str(2)
print("not reached")

# lane: bare
assert b"" == b"x"
"#
    ));
}

#[test]
fn runtime_type_errors_name_the_line() {
    insta::assert_snapshot!(transcript(
        r#"# lane: len
x = 5
print(len(x))

# lane: send_str
s = socket(AF_INET, SOCK_STREAM)
s.send("text")

# lane: concat
y = b"a" + "b"

# lane: port
s = socket(AF_INET, SOCK_STREAM)
s.bind(("127.0.0.1", 70000))

# lane: addr_type
s = socket(AF_INET, SOCK_STREAM)
s.connect("127.0.0.1")

# lane: zero
n = 0
print(10 // n)

# lane: name
print(undefined_later)
undefined_later = 1

# lane: caught
try:
    int("abc")
except ValueError as e:
    print("caught:", e)
except Exception:
    print("wrong handler")
"#
    ));
}

#[test]
fn send_loop_with_short_sends() {
    let src = r#"# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.bind(("127.0.0.1", 5500))
srv.listen()
conn, addr = srv.accept()
got = b""
while len(got) < 10:
    chunk = conn.recv(3)
    if not chunk:
        break
    got += chunk
print(got)

# lane: client
s = socket(AF_INET, SOCK_STREAM)
s.connect(("127.0.0.1", 5500))
data = b"0123456789"
total = 0
while total < len(data):
    total += s.send(data[total:])
print("sent", total)
"#;
    let mut net = FakeNet::new();
    net.send_limit = Some(4);
    let out = run(src, &mut net);
    insta::assert_snapshot!(out);
    let sizes: Vec<usize> = net
        .calls
        .iter()
        .filter_map(|c| match c {
            Call::Send { data, .. } => Some(data.as_slice().len()),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, vec![10, 6, 2]);
}

#[test]
fn several_calls_in_one_statement() {
    let src = r#"# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.bind(("127.0.0.1", 5500))
srv.listen(1)
conn = srv.accept()[0]
print("echoed", conn.send(conn.recv(10)), "bytes")

# lane: client
c = socket(AF_INET, SOCK_STREAM)
c.connect(("127.0.0.1", 5500))
c.sendall(b"ping")
print(c.recv(10), c.getsockname()[0], c.fileno())
"#;
    let mut net = FakeNet::new();
    let out = run(src, &mut net);
    insta::assert_snapshot!(out);
    assert_eq!(
        net.calls
            .iter()
            .filter(|c| matches!(c, Call::Recv { .. }))
            .count(),
        2
    );
}

#[test]
fn udp_and_select() {
    insta::assert_snapshot!(transcript(
        r#"# lane: server
srv = socket(AF_INET, SOCK_DGRAM)
srv.bind(("127.0.0.1", 5600))
r, w, x = select([srv], [], [])
print(r[0] is srv, r == [srv], w, x)
data, peer = srv.recvfrom(100)
srv.sendto(data.upper(), peer)
srv.close()

# lane: client
c = socket(AF_INET, SOCK_DGRAM)
r, w, x = select([c], [], [], 0)
print("nothing yet:", r)
c.sendto(b"hello", ("127.0.0.1", 5600))
reply, addr = c.recvfrom(100)
print(reply, addr)
c.close()
"#
    ));
}

#[test]
fn loops_break_continue_finally_and_with() {
    insta::assert_snapshot!(transcript(
        r#"for i in range(5):
    if i == 1:
        continue
    try:
        if i == 3:
            break
        print("body", i)
    finally:
        print("finally", i)
print("after for")
n = 0
while True:
    n += 1
    if n > 2:
        break
with socket(AF_INET, SOCK_STREAM) as s:
    print(s)
print(s)
s.close()
for a, b in [(1, 2), (3, 4)]:
    print(a + b)
"#
    ));
}

#[test]
fn icmp_helpers() {
    insta::assert_snapshot!(transcript(
        r#"req = icmp_echo_request(0x1234, 1, b"hi")
print(req, len(req), req.hex())
print(checksum(req), hex(checksum(b"\x00\x01\xf2\x03\xf4\xf5\xf6\xf7")))
p = icmp_parse(req)
print(p.type, p.code, hex(p.ident), p.seq, p.payload, p.ttl)
ip = bytes([0x45, 0, 0, 30, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1])
reply = icmp_parse(ip + bytes([0, 0]) + req[2:])
print(reply.type, reply.ttl, reply.src, reply.seq, reply.payload)
print(reply)
icmp_parse(b"\x08\x00")
"#
    ));
}

#[test]
fn python_values_and_methods() {
    let src = include_str!("scripts/python_values.py");
    let out = transcript(src);
    // Print lines must equal what CPython prints for the same script.
    insta::assert_snapshot!(common::printed(&out));
    assert!(out.contains("== main Finished"), "{out}");
}

#[test]
fn deadlock_ends_lanes_blocked() {
    insta::assert_snapshot!(transcript(
        r#"# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.bind(("127.0.0.1", 5500))
srv.listen(1)
conn, addr = srv.accept()

# lane: idle
print("nothing to do")
"#
    ));
}

#[test]
fn json_events_match_the_cli_shape() {
    let parsed = parse("s = socket(AF_INET, SOCK_STREAM)\ns.connect((\"127.0.0.1\", 5500))\n");
    let mut interp = Interpreter::new(&parsed.script);
    let info = SockInfo {
        sock: 1,
        fd: 5,
        family: 2,
        sock_type: 1,
        proto: 0,
    };
    assert!(matches!(
        interp.step(0, 0.0),
        Yield::Call(Call::Socket {
            family: 2,
            sock_type: 1,
            proto: 0,
            host: None
        })
    ));
    assert_eq!(interp.lane_state(0), LaneState::Waiting);
    assert_eq!(interp.current_line(0), Some(1));
    let y = interp.resume(
        0,
        CallResult::Outcome(Outcome::Ok {
            value: Ret::Socket { info },
        }),
        0.0,
    );
    assert_eq!(y, Yield::Stepped);
    assert_eq!(interp.socket_name(1), Some("s".to_string()));
    assert_eq!(interp.current_line(0), Some(2));
    assert!(matches!(
        interp.step(0, 0.0),
        Yield::Call(Call::Connect { sock: 1, .. })
    ));
    let refused = OsError {
        errno: "ECONNREFUSED".into(),
        errno_num: 111,
        message: "Connection refused".into(),
    };
    interp.resume(0, CallResult::Outcome(Outcome::Err { error: refused }), 0.0);
    assert_eq!(interp.lane_state(0), LaneState::Ended(EndStatus::Error));
    assert_eq!(interp.current_line(0), None);
    let lines: Vec<String> = interp
        .take_events()
        .iter()
        .map(|e| serde_json::to_string(e).unwrap_or_default())
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn rejected_and_cancelled_calls() {
    let parsed = parse(
        "# lane: a\ntry:\n    sleep(5)\nexcept OSError as e:\n    print(e.errno, e)\nsleep(1)\n# lane: b\nsleep(-0.0)\n",
    );
    let mut interp = Interpreter::new(&parsed.script);
    assert!(matches!(
        interp.step(0, 0.0),
        Yield::Call(Call::Sleep { .. })
    ));
    interp.resume(0, CallResult::Outcome(Outcome::Cancelled), 0.0);
    assert_eq!(interp.lane_state(0), LaneState::Ready);
    interp.step(0, 0.0);
    assert!(matches!(
        interp.step(0, 0.0),
        Yield::Call(Call::Sleep { .. })
    ));
    interp.resume(
        0,
        CallResult::Rejected {
            message: "seconds: too long".into(),
        },
        0.0,
    );
    assert_eq!(interp.lane_state(0), LaneState::Ended(EndStatus::Error));
    assert!(matches!(
        interp.step(1, 0.0),
        Yield::Call(Call::Sleep { .. })
    ));
    interp.end_blocked(1);
    assert_eq!(interp.lane_state(1), LaneState::Ended(EndStatus::Blocked));
    let mut out = String::new();
    common::render(&interp.take_events(), &mut out);
    insta::assert_snapshot!(out);
}

#[test]
fn print_never_repeats_across_suspensions() {
    let parsed = parse("print(\"before\", sleep(1), \"after\")\n");
    let mut interp = Interpreter::new(&parsed.script);
    assert!(matches!(
        interp.step(0, 0.0),
        Yield::Call(Call::Sleep { .. })
    ));
    assert!(interp.take_events().is_empty());
    interp.resume(
        0,
        CallResult::Outcome(Outcome::Ok { value: Ret::None }),
        0.0,
    );
    let prints: Vec<InterpEvent> = interp
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, InterpEvent::Print { .. }))
        .collect();
    assert_eq!(prints.len(), 1);
}

#[test]
fn every_truncation_of_the_examples_runs_without_panic() {
    let examples = [
        include_str!("scripts/echo.py"),
        include_str!("scripts/python_values.py"),
    ];
    for example in examples {
        let lines: Vec<&str> = example.lines().collect();
        for cut in 0..=lines.len() {
            let src = lines[..cut].join("\n");
            let parsed = parse(&src);
            if !parsed.diagnostics.is_empty() {
                continue;
            }
            let mut interp = Interpreter::new(&parsed.script);
            let mut out = String::new();
            common::run_interp(&mut interp, &mut FakeNet::new(), &mut out, 5000);
            assert!(interp.all_ended(), "cut {cut}: {out}");
        }
    }
}

#[test]
fn an_unknown_lab_peer_ends_the_lane_as_a_refused_call_does() {
    let parsed = parse("addr = lab_peer(\"slow\")\naddr = lab_peer(\"ftp\")\nprint(\"not reached\")\n");
    let mut interp = Interpreter::new(&parsed.script);
    assert_eq!(
        interp.step(0, 0.0),
        Yield::Call(Call::LabPeer { kind: PeerKind::SlowReader, host: None })
    );
    interp.resume(0, CallResult::Outcome(Outcome::Ok { value: Ret::None }), 0.0);
    interp.take_events();
    assert_eq!(interp.step(0, 0.0), Yield::Stepped);
    assert_eq!(interp.lane_state(0), LaneState::Ended(EndStatus::Error));
    let refused = "no lab peer called \"ftp\"; there are: echo, discard, slow_reader, reset, http";
    assert_eq!(
        interp.take_events(),
        [
            InterpEvent::Step {
                lane: "main".into(),
                line: 2,
                call: "addr = lab_peer(\"ftp\")".into(),
                ok: false,
                result: None,
                errno: None,
                errno_num: None,
                message: Some(refused.into()),
                function: None,
                depth: None,
                module: None,
            },
            InterpEvent::LaneEnd {
                lane: "main".into(),
                status: EndStatus::Error,
                line: Some(2),
                message: Some(format!("line 2: {refused}")),
                traceback: None,
            },
        ]
    );
}

#[test]
fn the_three_formatting_forms_in_a_udp_echo() {
    let out = transcript(
        r#"# lane: server
srv = socket(AF_INET, SOCK_DGRAM)
srv.bind(("127.0.0.1", 5600))
data, addr = srv.recvfrom(1024)
print("server: %d bytes %r from port %s" % (len(data), data, "set" if addr[1] else "?"))
srv.sendto(data.upper(), addr)
srv.close()

# lane: client
cli = socket(AF_INET, SOCK_DGRAM)
server = ("127.0.0.1", 5600)
cli.sendto(b"hello", server)
print(f"sent {len(b'hello')} bytes to {server[0]}:{server[1]:>6} ({server=})")
# The socket call inside the f-string suspends the statement; it resumes once.
print(f"{cli.recvfrom(1024)[0]!r:*^14}|{'{:.2f}'.format(2.675)}|{format(1234567, ',')}")
data = b"HELLO"
print('receive data:[%s] from %s:%s' % ((data,) + server))
print("{0}:{1} {0!r} {n:>4}|{pct:.1%}".format(server[0], server[1], n=7, pct=0.25))
cli.close()
"#,
    );
    let printed = common::printed(&out);
    // What python3 prints for the same lines.
    assert_eq!(
        printed,
        "sent 5 bytes to 127.0.0.1:  5600 (server=('127.0.0.1', 5600))\n\
         server: 5 bytes b'hello' from port set\n\
         ***b'HELLO'***|2.67|1,234,567\n\
         receive data:[b'HELLO'] from 127.0.0.1:5600\n\
         127.0.0.1:5600 '127.0.0.1'    7|25.0%\n"
    );
}

#[test]
fn formatting_errors_are_python_exceptions_with_the_line() {
    let out = transcript(
        r#"try:
    print("%s %s" % ("one",))
except TypeError as e:
    print("caught:", e)
print("%d items" % "three")
"#,
    );
    let printed = common::printed(&out);
    assert_eq!(printed, "caught: not enough arguments for format string\n");
    assert!(
        out.contains("line 5: TypeError: %d format: a real number is required, not str"),
        "{out}"
    );
}
