//! Session namespaces on the real kernel: loopback only, private ports, ping works.

mod common;

use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use common::addr;
use etherparse::{IcmpEchoHeader, Icmpv4Header, Icmpv4Type};
use socket2::SockAddr;
use socklab_kernel::netns::{self, Netns};

fn stream(ns: &Netns) -> socket2::Socket {
    let s = ns
        .socket(libc::AF_INET, libc::SOCK_STREAM, 0)
        .expect("socket");
    s.set_nonblocking(false).expect("blocking");
    s
}

#[test]
fn probe_says_namespaces_work_here() {
    assert_eq!(netns::probe(), Ok(()));
}

#[test]
fn namespace_has_loopback_up_and_is_its_own() {
    let ns = Netns::create().expect("namespace");
    assert_ne!(ns.id(), netns::current_id().expect("own namespace"));
    let listener = stream(&ns);
    listener.bind(&SockAddr::from(addr(0))).expect("bind");
    listener.listen(1).expect("listen");
    let port = listener
        .local_addr()
        .expect("addr")
        .as_socket()
        .expect("inet")
        .port();
    let client = stream(&ns);
    client
        .connect(&SockAddr::from(addr(port)))
        .expect("connect over the namespace's lo");
}

#[test]
fn two_namespaces_bind_the_same_port_at_once() {
    let a = Netns::create().expect("a");
    let b = Netns::create().expect("b");
    let (sa, sb) = (stream(&a), stream(&b));
    sa.bind(&SockAddr::from(addr(5500))).expect("bind in a");
    sb.bind(&SockAddr::from(addr(5500)))
        .expect("bind in b: ports are per namespace");
    sa.listen(1).expect("listen a");
    sb.listen(1).expect("listen b");
}

#[test]
fn host_listener_is_not_reachable_from_a_session() {
    let host = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("host listener on 127.0.0.1");
    let port = host.local_addr().expect("addr").port();
    let ns = Netns::create().expect("namespace");
    let client = stream(&ns);
    let error = client
        .connect(&SockAddr::from(addr(port)))
        .expect_err("must not reach the host");
    assert_eq!(error.raw_os_error(), Some(libc::ECONNREFUSED));
}

fn echo_request(ident: u16, seq: u16) -> Vec<u8> {
    let payload = b"socklab ping";
    let header = Icmpv4Header::with_checksum(
        Icmpv4Type::EchoRequest(IcmpEchoHeader { id: ident, seq }),
        payload,
    );
    let mut packet = header.to_bytes().to_vec();
    packet.extend_from_slice(payload);
    packet
}

fn recv(sock: &socket2::Socket) -> Vec<u8> {
    let mut buf = [MaybeUninit::new(0u8); 2048];
    let n = sock.recv(&mut buf).expect("reply");
    // SAFETY: recv initialized the first n bytes.
    buf[..n]
        .iter()
        .map(|b| unsafe { b.assume_init() })
        .collect()
}

fn loopback() -> SockAddr {
    SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
}

#[test]
fn ping_socket_echo_gets_its_reply() {
    let ns = Netns::create().expect("namespace");
    let sock = ns
        .socket(libc::AF_INET, libc::SOCK_DGRAM, libc::IPPROTO_ICMP)
        .expect("ping socket allowed");
    sock.set_nonblocking(false).expect("blocking");
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    sock.send_to(&echo_request(0, 7), &loopback())
        .expect("send");
    // The kernel sets the ident of a ping socket to its "port".
    let ident = sock
        .local_addr()
        .expect("addr")
        .as_socket()
        .expect("inet")
        .port();
    let reply = recv(&sock);
    let (header, _) = Icmpv4Header::from_slice(&reply).expect("icmp");
    assert_eq!(
        header.icmp_type,
        Icmpv4Type::EchoReply(IcmpEchoHeader { id: ident, seq: 7 })
    );
}

#[test]
fn raw_socket_echo_gets_its_reply() {
    let ns = Netns::create().expect("namespace");
    let sock = ns
        .socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP)
        .expect("raw socket as root");
    sock.set_nonblocking(false).expect("blocking");
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    sock.send_to(&echo_request(0x1234, 9), &loopback())
        .expect("send");
    loop {
        let packet = recv(&sock);
        let (ip, rest) = etherparse::Ipv4Header::from_slice(&packet).expect("ip header");
        assert_eq!(ip.source, [127, 0, 0, 1]);
        let (header, _) = Icmpv4Header::from_slice(rest).expect("icmp");
        match header.icmp_type {
            // A raw socket sees its own request on loopback too.
            Icmpv4Type::EchoRequest(_) => continue,
            other => {
                assert_eq!(
                    other,
                    Icmpv4Type::EchoReply(IcmpEchoHeader { id: 0x1234, seq: 9 })
                );
                break;
            }
        }
    }
}

/// The namespace a socket lives in, asked of the kernel (`SIOCGSKNS`).
fn namespace_of(sock: &socket2::Socket) -> u64 {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::fs::MetadataExt;
    const SIOCGSKNS: libc::c_ulong = 0x894C;
    // SAFETY: SIOCGSKNS takes no argument and returns a new fd, owned below.
    let fd = unsafe { libc::ioctl(sock.as_raw_fd(), SIOCGSKNS) };
    assert!(fd >= 0, "SIOCGSKNS: {}", std::io::Error::last_os_error());
    // SAFETY: a fresh fd that nothing else owns.
    let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    file.metadata().expect("stat").ino()
}

#[test]
fn sockets_land_in_their_namespace_under_concurrency() {
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                for _ in 0..100 {
                    let ns = Netns::create().expect("namespace");
                    for _ in 0..3 {
                        let s = ns
                            .socket(libc::AF_INET, libc::SOCK_STREAM, 0)
                            .expect("socket");
                        assert_eq!(namespace_of(&s), ns.id());
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no thread failed");
    }
}
