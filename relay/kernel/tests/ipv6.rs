//! IPv6 connections are traced too (the trace does not print IPv6 addresses:
//! they come from the session's own sockets).

mod common;

use std::net::{Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::Arc;

use common::{pairs, settle, transitions};
use socket2::SockAddr;
use socklab_kernel::netns::Netns;
use socklab_kernel::observe::{Observer, ObserverConfig};
use socklab_wire::protocol::Event;
use socklab_wire::tcp::TcpState;

#[tokio::test]
async fn traced_ipv6_close_sequence() {
    let observer = Observer::start_with(ObserverConfig {
        tracing: true,
        capture: false,
    });
    let netns = Arc::new(Netns::create().expect("namespace"));
    let obs = observer.session(Some(netns.clone()));
    let server_addr = SockAddr::from(SocketAddr::from((Ipv6Addr::LOCALHOST, 5500)));
    let stream = || {
        let s = netns
            .socket(libc::AF_INET6, libc::SOCK_STREAM, 0)
            .expect("socket");
        s.set_nonblocking(false).expect("blocking");
        s
    };
    let listener = stream();
    obs.track(1, listener.as_raw_fd());
    listener.bind(&server_addr).expect("bind [::1]:5500");
    obs.after_call(1, listener.as_raw_fd());
    listener.listen(4).expect("listen");
    obs.after_call(1, listener.as_raw_fd());
    let client = stream();
    obs.track(2, client.as_raw_fd());
    obs.connecting(
        2,
        client.as_raw_fd(),
        SocketAddr::from((Ipv6Addr::LOCALHOST, 5500)),
    );
    client.connect(&server_addr).expect("connect");
    obs.after_call(2, client.as_raw_fd());
    let (server, _) = listener.accept().expect("accept");
    obs.track(3, server.as_raw_fd());
    obs.closing(2, client.as_raw_fd());
    drop(client);
    obs.closing(3, server.as_raw_fd());
    drop(server);
    obs.closing(1, listener.as_raw_fd());
    drop(listener);

    let events = settle(&obs).await;
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
        transitions(&events, 1),
        pairs(&[("CLOSE", "LISTEN"), ("LISTEN", "CLOSE")])
    );
    let Some(Event::State { local, peer, .. }) = events
        .iter()
        .find(|e| matches!(e, Event::State { to, .. } if *to == TcpState::TimeWait))
    else {
        panic!("no TIME_WAIT: {events:#?}")
    };
    assert!(local.starts_with("[::1]:"), "{local}");
    assert_eq!(peer, "[::1]:5500");
}
