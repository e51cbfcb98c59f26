//! TCP state events on the real kernel, traced and sampled, one namespace per test.

mod common;

use std::sync::{Arc, OnceLock};

use common::*;
use socklab_kernel::netns::Netns;
use socklab_kernel::observe::{Observer, ObserverConfig, SessionObserver};
use socklab_wire::protocol::Event;
use socklab_wire::tcp::{StateObservation, TcpState};

fn traced() -> &'static Arc<Observer> {
    static OBSERVER: OnceLock<Arc<Observer>> = OnceLock::new();
    OBSERVER.get_or_init(|| {
        let observer = Observer::start_with(ObserverConfig {
            tracing: true,
            capture: true,
        });
        assert_eq!(
            observer.capabilities().tcp_states,
            StateObservation::Traced,
            "{:?}",
            observer.capabilities()
        );
        assert!(observer.capabilities().capture);
        observer
    })
}

fn sampled() -> &'static Arc<Observer> {
    static OBSERVER: OnceLock<Arc<Observer>> = OnceLock::new();
    OBSERVER.get_or_init(|| {
        let observer = Observer::start_with(ObserverConfig {
            tracing: false,
            capture: false,
        });
        let capabilities = observer.capabilities();
        assert_eq!(capabilities.tcp_states, StateObservation::Sampled);
        assert!(!capabilities.capture);
        assert!(capabilities.notes.iter().any(|n| n.contains("sampled")));
        observer
    })
}

fn session(observer: &Arc<Observer>) -> (Arc<Netns>, SessionObserver) {
    let netns = Arc::new(Netns::create().expect("namespace"));
    let obs = observer.session(Some(netns.clone()));
    (netns, obs)
}

/// Listener 1, client 2, accepted 3; the client closes first, then the server side.
fn active_close_by_client(netns: &Netns, obs: &SessionObserver) {
    let listener = listen(netns, obs, 1, 5500);
    let client = tcp(netns, obs, 2);
    connect(obs, &client, 5500).expect("connect");
    let server = accept(obs, &listener, 3);
    close(obs, client);
    assert_eq!(
        recv(obs, &server),
        0,
        "the client's FIN reads as end of file"
    );
    close(obs, server);
    close(obs, listener);
}

#[tokio::test]
async fn traced_active_and_passive_close_sequences() {
    let (netns, obs) = session(traced());
    active_close_by_client(&netns, &obs);
    let events = settle(&obs).await;
    assert_eq!(
        transitions(&events, 1),
        pairs(&[("CLOSE", "LISTEN"), ("LISTEN", "CLOSE")]),
        "{events:#?}"
    );
    assert_eq!(
        transitions(&events, 2),
        pairs(&[
            ("CLOSE", "SYN_SENT"),
            ("SYN_SENT", "ESTABLISHED"),
            ("ESTABLISHED", "FIN_WAIT1"),
            ("FIN_WAIT1", "FIN_WAIT2"),
            ("FIN_WAIT2", "TIME_WAIT"),
        ]),
        "{events:#?}"
    );
    assert_eq!(
        transitions(&events, 3),
        pairs(&[
            // The kernel clones the child from the listener, so it leaves LISTEN.
            ("LISTEN", "SYN_RECV"),
            ("SYN_RECV", "ESTABLISHED"),
            ("ESTABLISHED", "CLOSE_WAIT"),
            ("CLOSE_WAIT", "LAST_ACK"),
            ("LAST_ACK", "CLOSE"),
        ]),
        "{events:#?}"
    );
    let time_wait = events
        .iter()
        .find(|e| matches!(e, Event::State { to, .. } if *to == TcpState::TimeWait))
        .expect("TIME_WAIT");
    let Event::State { local, peer, .. } = time_wait else {
        unreachable!()
    };
    assert!(local.starts_with("127.0.0.1:"), "{local}");
    assert_eq!(peer, "127.0.0.1:5500");
    // Timestamps are in kernel order for each socket.
    for sock in 1..=3 {
        let ts: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                Event::State {
                    sock: Some(s),
                    ts_us,
                    ..
                } if *s == sock => Some(*ts_us),
                _ => None,
            })
            .collect();
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "sock {sock}: {ts:?}");
    }
}

#[tokio::test]
async fn traced_refused_connect_shows_syn_sent() {
    let (netns, obs) = session(traced());
    let client = tcp(&netns, &obs, 1);
    let error = connect(&obs, &client, 5501).expect_err("nobody listens");
    assert_eq!(error.raw_os_error(), Some(libc::ECONNREFUSED));
    let events = until(
        &obs,
        |e| matches!(e, Event::State { from, to, .. } if *from == TcpState::SynSent && *to == TcpState::Close),
    )
    .await;
    assert_eq!(
        transitions(&events, 1),
        pairs(&[("CLOSE", "SYN_SENT"), ("SYN_SENT", "CLOSE")])
    );
}

#[tokio::test]
async fn traced_simultaneous_close_passes_through_closing() {
    let (netns, obs) = session(traced());
    let listener = listen(&netns, &obs, 1, 5500);
    // A small receive buffer on the server side, so the client's data and FIN
    // can be held back by a zero window.
    listener.sock.set_recv_buffer_size(4096).expect("rcvbuf");
    let client = tcp(&netns, &obs, 2);
    connect(&obs, &client, 5500).expect("connect");
    let server = accept(&obs, &listener, 3);

    // Fill the server's window and the client's send queue.
    client.sock.set_nonblocking(true).expect("nonblocking");
    let chunk = [0u8; 65536];
    loop {
        match client.sock.send(&chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("send: {e}"),
        }
    }
    obs.after_call(2, std::os::fd::AsRawFd::as_raw_fd(&client.sock));
    // The client's FIN is queued behind unsent data: FIN_WAIT1 with the FIN not yet on the wire.
    shutdown_write(&obs, &client);
    // The server's FIN reaches a client in FIN_WAIT1 whose own FIN is unacknowledged: CLOSING.
    shutdown_write(&obs, &server);
    while recv(&obs, &server) > 0 {}
    let events = until(
        &obs,
        |e| matches!(e, Event::State { sock: Some(2), from, .. } if *from == TcpState::Closing),
    )
    .await;
    let client_states = transitions(&events, 2);
    assert_eq!(
        client_states,
        pairs(&[
            ("CLOSE", "SYN_SENT"),
            ("SYN_SENT", "ESTABLISHED"),
            ("ESTABLISHED", "FIN_WAIT1"),
            ("FIN_WAIT1", "CLOSING"),
            ("CLOSING", "TIME_WAIT"),
        ]),
        "{events:#?}"
    );
    close(&obs, client);
    close(&obs, server);
    close(&obs, listener);
}

#[tokio::test]
async fn traced_handshake_and_teardown_segments() {
    let (netns, obs) = session(traced());
    let listener = listen(&netns, &obs, 1, 5500);
    let client = tcp(&netns, &obs, 2);
    connect(&obs, &client, 5500).expect("connect");
    let server = accept(&obs, &listener, 3);
    close(&obs, client);
    // Stepping through: the server closes only once the client's FIN was acknowledged
    // (a server closing at once may piggyback that ACK on its own FIN).
    let mut events = until(
        &obs,
        |e| matches!(e, Event::State { sock: Some(2), to, .. } if *to == TcpState::FinWait2),
    )
    .await;
    assert_eq!(recv(&obs, &server), 0);
    close(&obs, server);
    close(&obs, listener);
    events.extend(settle(&obs).await);
    type Seen = (String, String, String, Option<u32>, Option<u32>, u32);
    let segments: Vec<Seen> = events
        .iter()
        .filter_map(|e| match e {
            Event::Segment {
                src,
                dst,
                proto,
                flags,
                seq,
                ack,
                len,
                ..
            } if proto == "TCP" => {
                Some((src.clone(), dst.clone(), flags.clone(), *seq, *ack, *len))
            }
            _ => None,
        })
        .collect();
    let server = "127.0.0.1:5500".to_string();
    let client = segments.first().expect("segments").0.clone();
    let expect = |from: &String, to: &String, flags: &str, seq: u32, ack: Option<u32>| {
        (
            from.clone(),
            to.clone(),
            flags.to_string(),
            Some(seq),
            ack,
            0,
        )
    };
    assert_eq!(
        segments,
        vec![
            expect(&client, &server, "SYN", 0, None),
            expect(&server, &client, "SYN,ACK", 0, Some(1)),
            expect(&client, &server, "ACK", 1, Some(1)),
            expect(&client, &server, "FIN,ACK", 1, Some(1)),
            expect(&server, &client, "ACK", 1, Some(2)),
            expect(&server, &client, "FIN,ACK", 1, Some(2)),
            expect(&client, &server, "ACK", 2, Some(2)),
        ],
        "{events:#?}"
    );
}

#[tokio::test]
async fn sampled_sequences_show_what_sampling_can_see() {
    let (netns, obs) = session(sampled());
    active_close_by_client(&netns, &obs);
    let events = settle(&obs).await;
    assert!(
        !events.iter().any(|e| matches!(e, Event::Segment { .. })),
        "no segments without capture"
    );
    assert_eq!(
        transitions(&events, 1),
        pairs(&[("CLOSE", "LISTEN"), ("LISTEN", "CLOSE")]),
        "{events:#?}"
    );
    let client = transitions(&events, 2);
    assert_eq!(
        client.first(),
        Some(&("CLOSE".into(), "ESTABLISHED".into())),
        "{events:#?}"
    );
    assert_eq!(
        client.last().map(|t| t.1.as_str()),
        Some("TIME_WAIT"),
        "{events:#?}"
    );
    let server = transitions(&events, 3);
    assert_eq!(
        server.first(),
        Some(&("SYN_RECV".into(), "ESTABLISHED".into())),
        "{events:#?}"
    );
    assert!(
        server.contains(&("ESTABLISHED".into(), "CLOSE_WAIT".into())),
        "{events:#?}"
    );
    assert_eq!(
        server.last().map(|t| t.1.as_str()),
        Some("CLOSE"),
        "{events:#?}"
    );
}

#[tokio::test]
async fn sampled_timewait_is_seen_after_the_fd_is_gone() {
    let (netns, obs) = session(sampled());
    let listener = listen(&netns, &obs, 1, 5500);
    let client = tcp(&netns, &obs, 2);
    connect(&obs, &client, 5500).expect("connect");
    let server = accept(&obs, &listener, 3);
    close(&obs, client);
    // The server does not close yet: the client's connection waits in FIN_WAIT2.
    let events = until(
        &obs,
        |e| matches!(e, Event::State { sock: Some(2), to, .. } if *to == TcpState::FinWait2),
    )
    .await;
    assert!(transitions(&events, 2).iter().any(|t| t.1 == "FIN_WAIT2"));
    close(&obs, server);
    until(&obs, |e| matches!(e, Event::State { sock: Some(2), from, to, .. } if *from == TcpState::FinWait2 && *to == TcpState::TimeWait)).await;
    close(&obs, listener);
}
