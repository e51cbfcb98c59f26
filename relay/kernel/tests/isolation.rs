//! Two sessions doing exactly the same thing at the same moment, with the same
//! addresses and ports in their own namespaces, never get each other's events.

mod common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::*;
use socket2::SockAddr;
use socklab_kernel::netns::Netns;
use socklab_kernel::observe::{Observer, ObserverConfig};
use socklab_wire::protocol::{Event, SockId};
use socklab_wire::tcp::StateObservation;

const CLIENT_PORT: u16 = 40000;

/// One session on its own thread: listener `base+1`, client `base+2` bound to
/// a fixed port, accepted `base+3`; the client closes first.
fn run_session(observer: Arc<Observer>, base: SockId, start: Arc<Barrier>) -> Vec<Event> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let netns = Arc::new(Netns::create().expect("namespace"));
        let obs = observer.session(Some(netns.clone()));
        start.wait();
        let listener = listen(&netns, &obs, base + 1, 5500);
        let client = tcp(&netns, &obs, base + 2);
        client
            .sock
            .bind(&SockAddr::from(addr(CLIENT_PORT)))
            .expect("bind client");
        obs.after_call(client.id, std::os::fd::AsRawFd::as_raw_fd(&client.sock));
        connect(&obs, &client, 5500).expect("connect");
        let server = accept(&obs, &listener, base + 3);
        close(&obs, client);
        assert_eq!(recv(&obs, &server), 0);
        close(&obs, server);
        close(&obs, listener);
        obs.settle(Duration::from_millis(500), Duration::from_secs(10))
            .await
    })
}

#[test]
fn identical_four_tuples_in_two_sessions_are_not_mixed() {
    let observer = Observer::start_with(ObserverConfig {
        tracing: true,
        capture: false,
    });
    assert_eq!(observer.capabilities().tcp_states, StateObservation::Traced);
    let start = Arc::new(Barrier::new(2));
    let a = std::thread::spawn({
        let (observer, start) = (observer.clone(), start.clone());
        move || run_session(observer, 0, start)
    });
    let b = std::thread::spawn(move || run_session(observer, 10, start));
    let (a, b) = (a.join().expect("session a"), b.join().expect("session b"));

    for (events, base, other) in [(&a, 0, 10), (&b, 10, 0)] {
        for event in events {
            if let Event::State { sock, .. } = event {
                let sock =
                    sock.unwrap_or_else(|| panic!("every transition has its socket: {events:#?}"));
                assert!(
                    sock > base && sock <= base + 3,
                    "session {base} got session {other}'s socket {sock}"
                );
            }
        }
        // Nothing doubled: each socket's exact sequence, as a session alone would see it.
        assert_eq!(
            transitions(events, base + 2),
            pairs(&[
                ("CLOSE", "SYN_SENT"),
                ("SYN_SENT", "ESTABLISHED"),
                ("ESTABLISHED", "FIN_WAIT1"),
                ("FIN_WAIT1", "FIN_WAIT2"),
                ("FIN_WAIT2", "TIME_WAIT"),
            ]),
            "session {base}: {events:#?}"
        );
        assert_eq!(
            transitions(events, base + 3),
            pairs(&[
                ("LISTEN", "SYN_RECV"),
                ("SYN_RECV", "ESTABLISHED"),
                ("ESTABLISHED", "CLOSE_WAIT"),
                ("CLOSE_WAIT", "LAST_ACK"),
                ("LAST_ACK", "CLOSE"),
            ]),
            "session {base}: {events:#?}"
        );
        assert_eq!(
            transitions(events, base + 1),
            pairs(&[("CLOSE", "LISTEN"), ("LISTEN", "CLOSE")])
        );
        let tuple_seen = events.iter().any(|e| {
            matches!(e, Event::State { local, peer, .. } if *local == format!("127.0.0.1:{CLIENT_PORT}") && peer == "127.0.0.1:5500")
        });
        assert!(tuple_seen, "both sessions really used the same 4-tuple");
    }
}
