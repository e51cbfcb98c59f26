//! The WebSocket path, driven by a tokio-tungstenite client against the real relay binary.

mod common;

use common::{Relay, b64, unb64};
use serde_json::json;
use socklab_wire::protocol::{ErrorCode, Outcome, ServerMsg};

const AF_INET: i32 = 2;
const SOCK_STREAM: i32 = 1;
const SOCK_DGRAM: i32 = 2;

fn addr(port: u16) -> serde_json::Value {
    json!({"host": "127.0.0.1", "port": port})
}

#[tokio::test]
async fn tcp_echo_with_a_pending_accept_answered_later() {
    let relay = Relay::start();
    let mut c = relay.connect().await;
    let srv = c.socket(AF_INET, SOCK_STREAM).await;
    c.ok(json!({"op": "bind", "sock": srv, "addr": addr(15601)})).await;
    c.ok(json!({"op": "listen", "sock": srv, "backlog": 5})).await;
    let accept = c.start(json!({"op": "accept", "sock": srv})).await;
    assert_eq!(c.next_reply().await, ServerMsg::Pending { id: accept });

    let cli = c.socket(AF_INET, SOCK_STREAM).await;
    c.ok(json!({"op": "connect", "sock": cli, "addr": addr(15601)})).await;
    let accepted = c.answer(accept).await;
    let ServerMsg::Result { outcome: Outcome::Ok { value }, .. } = accepted else { panic!("{accepted:?}") };
    let value = serde_json::to_value(value).unwrap();
    let conn = value["info"]["sock"].as_u64().unwrap();
    assert_eq!(value["addr"]["host"], "127.0.0.1");

    let sent = c.ok(json!({"op": "send", "sock": cli, "data": b64(b"hello")})).await;
    assert_eq!(sent["value"], 5);
    let got = c.ok(json!({"op": "recv", "sock": conn, "n": 1024})).await;
    assert_eq!(unb64(&got["data"]), b"hello");
    c.ok(json!({"op": "close", "sock": cli})).await;
    let eof = c.ok(json!({"op": "recv", "sock": conn, "n": 1024})).await;
    assert_eq!(unb64(&eof["data"]), b"");
    c.close().await;
}

#[tokio::test]
async fn many_calls_pend_at_once_and_answer_out_of_order() {
    let relay = Relay::start();
    let mut c = relay.connect().await;
    let mut socks = Vec::new();
    for i in 0..5u16 {
        let s = c.socket(AF_INET, SOCK_DGRAM).await;
        c.ok(json!({"op": "bind", "sock": s, "addr": addr(15610 + i)})).await;
        let id = c.start(json!({"op": "recv", "sock": s, "n": 100})).await;
        assert_eq!(c.next_reply().await, ServerMsg::Pending { id });
        socks.push((s, id));
    }
    let sender = c.socket(AF_INET, SOCK_DGRAM).await;
    // Wake them last to first.
    for (i, (_, id)) in socks.iter().enumerate().rev() {
        let payload = format!("to {i}");
        c.ok(json!({"op": "sendto", "sock": sender, "data": b64(payload.as_bytes()), "addr": addr(15610 + i as u16)}))
            .await;
        let answer = c.answer(*id).await;
        let ServerMsg::Result { outcome: Outcome::Ok { value }, .. } = answer else { panic!("{answer:?}") };
        assert_eq!(unb64(&serde_json::to_value(value).unwrap()["data"]), payload.as_bytes());
    }
}

#[tokio::test]
async fn a_pending_call_can_be_cancelled_and_the_session_goes_on() {
    let relay = Relay::start();
    let mut c = relay.connect().await;
    let s = c.socket(AF_INET, SOCK_DGRAM).await;
    c.ok(json!({"op": "bind", "sock": s, "addr": addr(15620)})).await;
    let id = c.start(json!({"op": "recv", "sock": s, "n": 10})).await;
    assert_eq!(c.next_reply().await, ServerMsg::Pending { id });
    c.send_json(json!({"type": "cancel", "id": id})).await;
    assert_eq!(c.answer(id).await, ServerMsg::Result { id, outcome: Outcome::Cancelled, ts_us: None });
    c.send_json(json!({"type": "cancel", "id": id})).await;
    assert!(matches!(c.next_reply().await, ServerMsg::Error { code: ErrorCode::UnknownCall, .. }));
    let name = c.ok(json!({"op": "getsockname", "sock": s})).await;
    assert_eq!(name["addr"]["port"], 15620);
}

#[tokio::test]
async fn bad_input_gets_a_named_error_and_the_session_goes_on() {
    let relay = Relay::start_with(&["--max-message", "4096"]);
    let mut c = relay.connect().await;
    let s = c.socket(AF_INET, SOCK_DGRAM).await;

    let cases: Vec<(String, ErrorCode, &str)> = vec![
        ("{not json".into(), ErrorCode::InvalidJson, "invalid JSON"),
        (json!({"type": "call", "id": 90, "call": {"op": "teleport"}}).to_string(), ErrorCode::UnknownOp, "unknown op \"teleport\""),
        (
            json!({"type": "call", "id": 91, "call": {"op": "recv", "sock": s, "n": "lots"}}).to_string(),
            ErrorCode::BadArguments,
            "bad arguments for op \"recv\"",
        ),
        (
            json!({"type": "call", "id": 92, "call": {"op": "recv", "sock": 4242, "n": 1}}).to_string(),
            ErrorCode::UnknownSocket,
            "no socket with handle 4242",
        ),
        (
            json!({"type": "call", "id": 93, "call": {"op": "bind", "sock": s, "addr": {"path": "/x"}}}).to_string(),
            ErrorCode::BadArguments,
            "AF_INET address must be a tuple",
        ),
        (format!("{{\"type\":\"call\",\"id\":94,\"pad\":\"{}\"}}", "x".repeat(5000)), ErrorCode::TooLarge, "larger than"),
        (json!({"type": "wave"}).to_string(), ErrorCode::UnknownType, "unknown message type \"wave\""),
    ];
    for (input, code, needle) in cases {
        c.send_text(&input).await;
        match c.next_reply().await {
            ServerMsg::Error { code: got, message, .. } => {
                assert_eq!(got, code, "{input}: {message}");
                assert!(message.contains(needle), "{input}: {message}");
            }
            other => panic!("{input}: expected an error, got {other:?}"),
        }
    }
    // Nothing done before is lost: the socket is still there and works.
    c.ok(json!({"op": "bind", "sock": s, "addr": addr(15630)})).await;
    let name = c.ok(json!({"op": "getsockname", "sock": s})).await;
    assert_eq!(name["addr"]["port"], 15630);
}

#[tokio::test]
async fn binary_frames_carry_the_data_path_when_the_subprotocol_is_chosen() {
    use socklab_wire::binary::{SUBPROTOCOL, encode_call};
    use socklab_wire::protocol::{Bytes, Call, Ret};
    use tokio_tungstenite::tungstenite::Message;

    let relay = Relay::start();
    let (mut c, chosen) = relay.connect_offering(Some(SUBPROTOCOL)).await;
    assert_eq!(chosen.as_deref(), Some(SUBPROTOCOL));
    c.send_json(json!({"type": "hello", "version": 1, "token": relay.token})).await;
    assert!(matches!(c.next().await, ServerMsg::Hello { .. }));
    // A connected pair, made with JSON calls.
    let srv = c.socket(AF_INET, SOCK_STREAM).await;
    c.ok(json!({"op": "bind", "sock": srv, "addr": addr(15640)})).await;
    c.ok(json!({"op": "listen", "sock": srv, "backlog": 1})).await;
    let cli = c.socket(AF_INET, SOCK_STREAM).await;
    c.ok(json!({"op": "connect", "sock": cli, "addr": addr(15640)})).await;
    let accepted = c.ok(json!({"op": "accept", "sock": srv})).await;
    let conn = accepted["info"]["sock"].as_u64().unwrap() as u32;

    // Every byte value crosses as it is, and the results come back as binary frames.
    let payload: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let sendall = Call::Sendall { sock: cli as u32, data: Bytes::new(payload.clone()), flags: 0 };
    c.send_binary(encode_call(100, &sendall).unwrap()).await;
    let frame = loop {
        match c.next_frame().await {
            Message::Binary(frame) => break frame,
            Message::Text(text) if text.contains(r#""type":"event""#) => continue,
            other => panic!("sendall's result is not binary: {other:?}"),
        }
    };
    assert_eq!(&frame[..9], &[0x81, 100, 0, 0, 0, 0, 0, 0, 0], "result of call 100, value none");
    let mut got: Vec<u8> = Vec::new();
    let mut id = 101;
    while got.len() < payload.len() {
        let recv = Call::Recv { sock: conn, n: 65536, flags: 0 };
        c.send_binary(encode_call(id, &recv).unwrap()).await;
        match c.answer(id).await {
            ServerMsg::Result { outcome: Outcome::Ok { value: Ret::Bytes { data } }, .. } => got.extend(data.as_slice()),
            other => panic!("recv: {other:?}"),
        }
        id += 1;
    }
    assert_eq!(got, payload);
    // send's int result, and a JSON call's result in the same session.
    let send = Call::Send { sock: conn, data: Bytes::new(&b"hi"[..]), flags: 0 };
    c.send_binary(encode_call(200, &send).unwrap()).await;
    assert_eq!(c.answer(200).await, ServerMsg::Result { id: 200, outcome: Outcome::Ok { value: Ret::Int { value: 2 } }, ts_us: None });
    let got = c.ok(json!({"op": "recv", "sock": cli, "n": 10})).await;
    assert_eq!(unb64(&got["data"]), b"hi");

    // A bad binary frame is named, and the session goes on.
    let cases: [(&[u8], &str); 3] = [
        (b"\x07", "unknown binary frame type 0x07"),
        (b"\x01\x2c\x01\0\0\0\0\0\0", "send frame of 9 bytes"),
        (b"", "empty binary frame"),
    ];
    for (frame, needle) in cases {
        c.send_binary(frame.to_vec()).await;
        match c.next_reply().await {
            ServerMsg::Error { code: ErrorCode::BadArguments, message, .. } => assert!(message.contains(needle), "{message}"),
            other => panic!("{frame:?}: {other:?}"),
        }
    }
    c.ok(json!({"op": "getsockname", "sock": srv})).await;
}

#[tokio::test]
async fn binary_frames_without_the_subprotocol_are_refused_by_name() {
    let relay = Relay::start();
    let (mut c, chosen) = relay.connect_offering(None).await;
    assert_eq!(chosen, None);
    c.send_json(json!({"type": "hello", "version": 1, "token": relay.token})).await;
    assert!(matches!(c.next().await, ServerMsg::Hello { .. }));
    c.send_binary(vec![3; 21]).await;
    match c.next_reply().await {
        ServerMsg::Error { code: ErrorCode::InvalidJson, message, .. } => {
            assert!(message.contains(socklab_wire::binary::SUBPROTOCOL), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_client_with_another_version_or_no_token_is_told_why() {
    let relay = Relay::start();
    let mut c = relay.connect_raw().await;
    c.send_json(json!({"type": "hello", "version": 2, "token": relay.token})).await;
    match c.next().await {
        ServerMsg::Error { code: ErrorCode::VersionMismatch, message, .. } => {
            assert!(message.contains("version 1") && message.contains("version 2"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let mut c = relay.connect_raw().await;
    c.send_json(json!({"type": "hello", "version": 1, "token": "wrong"})).await;
    assert!(matches!(c.next().await, ServerMsg::Error { code: ErrorCode::Unauthorized, .. }));
    let mut c = relay.connect_raw().await;
    c.send_json(json!({"type": "call", "id": 1, "call": {"op": "socket", "family": 2, "type": 1}})).await;
    assert!(matches!(c.next().await, ServerMsg::Error { code: ErrorCode::NotHelloFirst, .. }));
}

#[tokio::test]
async fn ending_a_session_closes_every_socket_it_made() {
    let relay = Relay::start();
    // Warm up the relay's own fds (runtime, listener) with one session.
    relay.connect().await.close().await;
    relay.sessions_ended().await;
    let baseline = relay.fd_count();
    let mut c = relay.connect().await;
    let srv = c.socket(AF_INET, SOCK_STREAM).await;
    c.ok(json!({"op": "setsockopt", "sock": srv, "level": 1, "opt": 2, "value": 1})).await;
    c.ok(json!({"op": "bind", "sock": srv, "addr": addr(15640)})).await;
    c.ok(json!({"op": "listen", "sock": srv})).await;
    for _ in 0..10 {
        let s = c.socket(AF_INET, SOCK_STREAM).await;
        c.ok(json!({"op": "connect", "sock": s, "addr": addr(15640)})).await;
    }
    let blocked = c.start(json!({"op": "accept", "sock": srv})).await;
    let _ = blocked;
    assert!(relay.fd_count() >= baseline + 11);
    // Drop the connection abruptly, with a call still pending.
    drop(c);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while relay.fd_count() > baseline {
        assert!(std::time::Instant::now() < deadline, "fds: {} > baseline {baseline}", relay.fd_count());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The port is free again (for a socket with SO_REUSEADDR: the accepted half of a connection may be in TIME_WAIT).
    let mut c = relay.connect().await;
    let again = c.socket(AF_INET, SOCK_STREAM).await;
    c.ok(json!({"op": "setsockopt", "sock": again, "level": 1, "opt": 2, "value": 1})).await;
    c.ok(json!({"op": "bind", "sock": again, "addr": addr(15640)})).await;
}

#[tokio::test]
async fn cross_site_and_rebinding_upgrades_are_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let relay = Relay::start();
    let url = format!("ws://127.0.0.1:{}/ws", relay.port);
    for (origin, host) in [
        (Some("http://evil.example"), None),
        (Some(&*format!("http://127.0.0.1:{}.evil.example", relay.port)), None),
        (None, Some("rebind.evil.example")),
    ] {
        let mut request = url.clone().into_client_request().unwrap();
        if let Some(origin) = origin {
            request.headers_mut().insert("Origin", origin.parse().unwrap());
        }
        if let Some(host) = host {
            request.headers_mut().insert("Host", host.parse().unwrap());
        }
        let err = tokio_tungstenite::connect_async(request).await.expect_err("refused");
        assert!(err.to_string().contains("403"), "{origin:?} {host:?}: {err}");
    }
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("Origin", format!("http://127.0.0.1:{}", relay.port).parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());
}

async fn recv_all(c: &mut common::Client, sock: u64) -> Vec<u8> {
    let mut all = Vec::new();
    loop {
        let got = unb64(&c.ok(json!({"op": "recv", "sock": sock, "n": 65536})).await["data"]);
        if got.is_empty() {
            return all;
        }
        all.extend_from_slice(&got);
    }
}

#[tokio::test]
async fn lab_peers_serve_http_echo_and_reset_for_real() {
    let relay = Relay::start();
    let mut c = relay.connect().await;
    let http = c.ok(json!({"op": "lab_peer", "kind": "http"})).await;
    let again = c.ok(json!({"op": "lab_peer", "kind": "http"})).await;
    assert_eq!(http, again, "one peer per kind and session");
    let port = http["addr"]["port"].as_u64().unwrap() as u16;

    for (path, needle) in [("/", "Content-Length: "), ("/chunked", "Transfer-Encoding: chunked")] {
        let s = c.socket(AF_INET, SOCK_STREAM).await;
        c.ok(json!({"op": "connect", "sock": s, "addr": addr(port)})).await;
        let request = format!("GET {path} HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n");
        c.ok(json!({"op": "sendall", "sock": s, "data": b64(request.as_bytes())})).await;
        let response = String::from_utf8(recv_all(&mut c, s).await).unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.contains(needle), "{response}");
        if path == "/chunked" {
            assert!(response.ends_with("0\r\n\r\n"), "{response}");
        }
    }

    let echo = c.ok(json!({"op": "lab_peer", "kind": "echo"})).await;
    let s = c.socket(AF_INET, SOCK_STREAM).await;
    c.ok(json!({"op": "connect", "sock": s, "addr": echo["addr"]})).await;
    c.ok(json!({"op": "sendall", "sock": s, "data": b64(b"echo me")})).await;
    let back = c.ok(json!({"op": "recv", "sock": s, "n": 7, "flags": 0x100})).await;
    assert_eq!(unb64(&back["data"]), b"echo me");

    let reset = c.ok(json!({"op": "lab_peer", "kind": "reset"})).await;
    let s = c.socket(AF_INET, SOCK_STREAM).await;
    c.ok(json!({"op": "connect", "sock": s, "addr": reset["addr"]})).await;
    match c.call(json!({"op": "recv", "sock": s, "n": 10})).await {
        ServerMsg::Result { outcome: Outcome::Err { error }, .. } => assert_eq!(error.errno, "ECONNRESET"),
        other => panic!("expected ECONNRESET, got {other:?}"),
    }

    match c.call(json!({"op": "lab_peer", "kind": "ftp"})).await {
        ServerMsg::Error { code: ErrorCode::BadArguments, message, .. } => assert!(message.contains("http"), "{message}"),
        other => panic!("{other:?}"),
    }
}
