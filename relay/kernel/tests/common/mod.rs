//! Helpers shared by the kernel tests: sockets made in a namespace, driven the
//! way the relay's executor drives them (blocking calls here, for brevity).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use socket2::{SockAddr, Socket};
use socklab_kernel::netns::Netns;
use socklab_kernel::observe::SessionObserver;
use socklab_wire::protocol::{Event, SockId};

pub const LOCALHOST: &str = "127.0.0.1";

pub fn addr(port: u16) -> SocketAddr {
    SocketAddr::new(LOCALHOST.parse().expect("ip"), port)
}

/// A TCP socket of a session, made blocking so tests read top to bottom.
pub struct Sock {
    pub id: SockId,
    pub sock: Socket,
}

pub fn tcp(netns: &Netns, obs: &SessionObserver, id: SockId) -> Sock {
    let sock = netns
        .socket(libc::AF_INET, libc::SOCK_STREAM, 0)
        .expect("socket");
    sock.set_nonblocking(false).expect("blocking");
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    obs.track(id, sock.as_raw_fd());
    Sock { id, sock }
}

pub fn listen(netns: &Netns, obs: &SessionObserver, id: SockId, port: u16) -> Sock {
    let s = tcp(netns, obs, id);
    s.sock.set_reuse_address(true).expect("reuseaddr");
    s.sock.bind(&SockAddr::from(addr(port))).expect("bind");
    obs.after_call(id, s.sock.as_raw_fd());
    s.sock.listen(16).expect("listen");
    obs.after_call(id, s.sock.as_raw_fd());
    s
}

pub fn connect(obs: &SessionObserver, s: &Sock, port: u16) -> std::io::Result<()> {
    obs.connecting(s.id, s.sock.as_raw_fd(), addr(port));
    let result = s.sock.connect(&SockAddr::from(addr(port)));
    obs.after_call(s.id, s.sock.as_raw_fd());
    result
}

pub fn accept(obs: &SessionObserver, listener: &Sock, id: SockId) -> Sock {
    let (sock, _) = listener.sock.accept().expect("accept");
    obs.after_call(listener.id, listener.sock.as_raw_fd());
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    obs.track(id, sock.as_raw_fd());
    Sock { id, sock }
}

pub fn close(obs: &SessionObserver, s: Sock) {
    obs.closing(s.id, s.sock.as_raw_fd());
    drop(s.sock);
}

pub fn recv(obs: &SessionObserver, s: &Sock) -> usize {
    let mut buf = [std::mem::MaybeUninit::new(0u8); 65536];
    let n = s.sock.recv(&mut buf).expect("recv");
    obs.after_call(s.id, s.sock.as_raw_fd());
    n
}

pub fn shutdown_write(obs: &SessionObserver, s: &Sock) {
    s.sock
        .shutdown(std::net::Shutdown::Write)
        .expect("shutdown");
    obs.after_call(s.id, s.sock.as_raw_fd());
}

/// `(from, to)` for one socket, in the order streamed.
pub fn transitions(events: &[Event], sock: SockId) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::State {
                sock: Some(s),
                from,
                to,
                ..
            } if *s == sock => Some((from.to_string(), to.to_string())),
            _ => None,
        })
        .collect()
}

pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Everything the observer streams until things are quiet (TIME_WAIT reached etc.).
pub async fn settle(obs: &SessionObserver) -> Vec<Event> {
    obs.settle(Duration::from_millis(300), Duration::from_secs(10))
        .await
}

/// Waits (bounded) for a state event satisfying `pred`; returns all events seen.
pub async fn until(obs: &SessionObserver, pred: impl Fn(&Event) -> bool) -> Vec<Event> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, obs.next_event()).await {
            Ok(event) => {
                let done = pred(&event);
                seen.push(event);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("timed out; events so far: {seen:#?}"),
        }
    }
}
