//! The socket module's surface beyond the primitive calls: enum members,
//! gettimeout/getblocking, getaddrinfo, socketpair, create_connection and
//! create_server (each a sequence of visible calls), checked against CPython
//! 3.11's output for the same script.

mod common;

use common::{FakeNet, printed, run};
use socklab_wire::protocol::Call;

#[test]
fn socket_module_prints_what_cpython_prints() {
    let out = run(
        include_str!("scripts/socket_module.py"),
        &mut FakeNet::new(),
    );
    assert_eq!(
        printed(&out),
        include_str!("scripts/socket_module.expected")
    );
}

/// create_connection is socket, settimeout, connect: three calls on the relay.
#[test]
fn create_connection_makes_each_call_visible() {
    let src = "srv = create_server(('127.0.0.1', 5700), backlog=3)\nc = create_connection(('127.0.0.1', 5700), 2)\n";
    let mut net = FakeNet::new();
    run(src, &mut net);
    let ops: Vec<&str> = net.calls.iter().map(Call::op_name).collect();
    assert_eq!(
        ops,
        [
            "socket",
            "setsockopt",
            "bind",
            "listen",
            "socket",
            "settimeout",
            "connect"
        ]
    );
    assert!(matches!(net.calls[3], Call::Listen { backlog: 3, .. }));
}

/// makefile: buffered writes go out at flush/close, reads serve lines from
/// 8192-byte recvs, text mode decodes, `for` iterates lines, `with` closes.
#[test]
fn makefile_prints_what_cpython_prints() {
    let mut net = FakeNet::new();
    let out = run(include_str!("scripts/makefile.py"), &mut net);
    assert_eq!(
        printed(&out),
        include_str!("scripts/makefile.expected"),
        "{out}"
    );
    // Two writes, one flush: one sendall with both.
    let first_send = net.calls.iter().find_map(|c| match c {
        Call::Sendall { data, .. } | Call::Send { data, .. } => Some(data.as_slice().to_vec()),
        _ => None,
    });
    assert_eq!(first_send.as_deref(), Some(&b"one\ntwo\nthree"[..]));
    assert!(
        net.calls
            .iter()
            .all(|c| !matches!(c, Call::Recv { n, .. } if *n != 8192))
    );
}
