//! Session hosts on the real kernel: namespaces linked by veths or a bridge,
//! addresses with no route out, link conditions as real qdiscs (or the relay's
//! forwarder, on a kernel without netem), MTU-sized
//! segments on the wire, and nothing left once a session is gone.

use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::{SockAddr, Socket};
use socklab_kernel::hosts::Network;
use socklab_kernel::netns::Netns;
use socklab_wire::network::LinkConditions;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn network(names: &[&str]) -> Network {
    let session = Arc::new(Netns::create().expect("session namespace"));
    runtime().block_on(Network::create(session, names.iter().map(|n| n.to_string()).collect())).expect("hosts")
}

fn stream(ns: &Netns) -> Socket {
    let s = ns.socket(libc::AF_INET, libc::SOCK_STREAM, 0).expect("socket");
    s.set_nonblocking(false).expect("blocking");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    s
}

fn at(ip: Ipv4Addr, port: u16) -> SockAddr {
    SockAddr::from(SocketAddr::from((ip, port)))
}

/// A listener on `server` and a connection to it from `client`: (client end, accepted end, connect time).
fn connect(net: &Network, client: &str, server: &str, port: u16) -> (Socket, Socket, Duration) {
    let server = net.host(server).expect("server host");
    let listener = stream(&server.netns);
    listener.bind(&at(server.address, port)).expect("bind on the host's address");
    listener.listen(4).expect("listen");
    let c = stream(&net.host(client).expect("client host").netns);
    let started = Instant::now();
    c.connect_timeout(&at(server.address, port), Duration::from_secs(5)).expect("connect across the link");
    let took = started.elapsed();
    c.set_nonblocking(false).expect("blocking");
    let (s, _) = listener.accept().expect("accept");
    s.set_nonblocking(false).expect("blocking");
    (c, s, took)
}

fn qdiscs(ns: &Netns) -> String {
    ns.run(|| std::process::Command::new("tc").args(["qdisc", "show", "dev", "eth0"]).output())
        .expect("in the namespace")
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default()
}

#[test]
fn two_and_three_hosts_talk_only_to_each_other() {
    let net = network(&["laptop", "server"]);
    assert!(!net.switched());
    let (mut c, mut s, _) = connect(&net, "laptop", "server", 7);
    c.write_all(b"hello").expect("send");
    let mut got = [0; 5];
    s.read_exact(&mut got).expect("recv");
    assert_eq!(&got, b"hello");
    assert_eq!(c.local_addr().expect("addr").as_socket().expect("inet").ip().to_string(), "10.0.0.1");

    // No route out: an address beyond the subnet is unreachable at once.
    let out = stream(&net.host("laptop").expect("laptop").netns);
    let err = out.connect(&at(Ipv4Addr::new(1, 1, 1, 1), 80)).expect_err("no route out");
    assert_eq!(err.raw_os_error(), Some(libc::ENETUNREACH), "{err}");

    let three = network(&["a", "b", "c"]);
    assert!(three.switched());
    for (client, server) in [("c", "a"), ("a", "b"), ("b", "c")] {
        let (mut c, mut s, _) = connect(&three, client, server, 9000);
        c.write_all(client.as_bytes()).expect("send");
        let mut got = [0; 1];
        s.read_exact(&mut got).expect("recv through the bridge");
        assert_eq!(&got, client.as_bytes());
    }
    // One host's cable made slow: only connections through it wait (by netem, or the relay's forwarder).
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    rt.block_on(three.condition("a", None, LinkConditions { delay: 0.010, ..Default::default() })).expect("a's cable");
    let (mut c, mut s, slow) = connect(&three, "c", "a", 9001);
    let (_, _, fast) = connect(&three, "b", "c", 9002);
    assert!(slow >= Duration::from_millis(20) && fast < slow, "through a: {slow:?}, not: {fast:?}");
    c.write_all(b"late").expect("send");
    let mut got = [0; 4];
    s.read_exact(&mut got).expect("recv through a's slow cable");
    assert_eq!(&got, b"late");
    assert!(three.ends("a", Some("b")).unwrap_err().contains("name one host"));
    assert!(net.ends("laptop", Some("nobody")).unwrap_err().contains("no host \"nobody\""));
}

fn udp(ns: &Netns) -> Socket {
    let s = ns.socket(libc::AF_INET, libc::SOCK_DGRAM, 0).expect("socket");
    s.set_nonblocking(false).expect("blocking");
    s.set_read_timeout(Some(Duration::from_millis(400))).expect("timeout");
    s
}

/// `count` numbered datagrams from laptop to server, 1 ms apart: the numbers received, in order.
fn datagrams(net: &Network, port: u16, count: u32) -> Vec<u32> {
    let server = net.host("server").expect("server");
    let rx = udp(&server.netns);
    rx.bind(&at(server.address, port)).expect("bind");
    let tx = udp(&net.host("laptop").expect("laptop").netns);
    for n in 0..count {
        tx.send_to(&n.to_be_bytes(), &at(server.address, port)).expect("send");
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut got = Vec::new();
    let mut buf = [MaybeUninit::<u8>::uninit(); 64];
    while let Ok(n) = rx.recv(&mut buf) {
        // SAFETY: recv initialised the first n bytes.
        let bytes: Vec<u8> = buf[..n].iter().map(|b| unsafe { b.assume_init() }).collect();
        got.push(u32::from_be_bytes(bytes.try_into().expect("4 bytes")));
    }
    got
}

#[test]
fn delay_loss_and_mtu_are_real() {
    let net = network(&["laptop", "server"]);
    let (_, _, fast) = connect(&net, "laptop", "server", 80);
    let ends = net.ends("laptop", Some("server")).expect("link");
    // The runtime a session thread would be: an emulated link's forwarder runs on it.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let set = |conditions: LinkConditions| rt.block_on(net.condition("laptop", Some("server"), conditions));
    set(LinkConditions { delay: 0.030, ..Default::default() }).expect("delay");
    let (_, _, slow) = connect(&net, "laptop", "server", 81);
    println!("connect took {fast:?} on a perfect link, {slow:?} with 30 ms each way");
    assert!(slow >= Duration::from_millis(60), "a handshake's round trip crosses the delay twice: {slow:?}");
    // netem where the kernel has it, else the relay's forwarder.
    let netem = qdiscs(&net.host("server").expect("server").netns).contains("netem");
    println!("netem: {netem}, bridged: {}", net.bridged());
    assert!(netem || net.bridged());

    // Loss: a 1 MB transfer arrives intact, the sender retransmitting.
    set(LinkConditions { loss: 15.0, ..Default::default() }).expect("loss");
    let (mut c, mut s, _) = connect(&net, "laptop", "server", 83);
    let sent: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let writer = std::thread::spawn({
        let sent = sent.clone();
        move || {
            c.write_all(&sent).expect("send 1 MB");
            c
        }
    });
    let mut got = vec![0; sent.len()];
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    s.read_exact(&mut got).expect("recv 1 MB through loss");
    let c = writer.join().expect("writer");
    assert!(got == sent, "the data arrives intact");
    // SAFETY: `tcp_info` is plain old data; all-zero is valid.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `info`, which outlives the call.
    let rc = unsafe { libc::getsockopt(std::os::fd::AsRawFd::as_raw_fd(&c), libc::IPPROTO_TCP, libc::TCP_INFO, (&raw mut info).cast(), &mut len) };
    assert_eq!(rc, 0, "TCP_INFO");
    println!("{} segments retransmitted", info.tcpi_total_retrans);
    assert!(info.tcpi_total_retrans > 0);

    // Duplication: about half the datagrams arrive twice.
    set(LinkConditions { duplicate: 50.0, ..Default::default() }).expect("duplicate");
    let got = datagrams(&net, 90, 100);
    assert!((110..200).contains(&got.len()), "{} of 100: {got:?}", got.len());
    // Corruption: the receiver's checksum drops the damaged ones.
    set(LinkConditions { corrupt: 50.0, ..Default::default() }).expect("corrupt");
    let got = datagrams(&net, 91, 100);
    assert!((10..90).contains(&got.len()), "{} of 100: {got:?}", got.len());
    // Reordering: a share sent ahead of the delayed ones arrives first.
    set(LinkConditions { delay: 0.020, reorder: 30.0, ..Default::default() }).expect("reorder");
    let got = datagrams(&net, 92, 100);
    assert_eq!(got.len(), 100, "{got:?}");
    assert!(got.windows(2).any(|w| w[0] > w[1]), "out of order: {got:?}");

    let shaped = LinkConditions { rate: Some(1_000_000), mtu: Some(1400), ..Default::default() };
    rt.block_on(Network::set_link(ends.clone(), shaped)).expect("rate and mtu");
    for host in ["laptop", "server"] {
        let shown = qdiscs(&net.host(host).expect("host").netns);
        assert!(shown.contains("tbf") && shown.contains("rate 1Mbit"), "{shown}");
        let mtu = net.host(host).expect("host").netns.run(|| std::fs::read_to_string("/sys/class/net/eth0/mtu")).expect("ns");
        assert_eq!(mtu.map(|m| m.trim().to_owned()).ok().as_deref(), Some("1400"));
    }
    let bad = LinkConditions { loss: 200.0, ..Default::default() };
    assert!(rt.block_on(Network::set_link(ends, bad)).unwrap_err().to_string().contains("percentage"));

    // Back to a perfect link with MTU 1500: a 10 KB send leaves in segments of at most 1448 bytes.
    let perfect = LinkConditions { mtu: Some(1500), ..Default::default() };
    set(perfect).expect("reset");
    assert!(!qdiscs(&net.host("laptop").expect("laptop").netns).contains("tbf"));
    let laptop = &net.host("laptop").expect("laptop").netns;
    let tap = laptop.socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from((libc::ETH_P_ALL as u16).to_be())).expect("packet socket");
    tap.set_nonblocking(false).expect("blocking");
    tap.set_read_timeout(Some(Duration::from_millis(300))).expect("timeout");
    let (mut c, mut s, _) = connect(&net, "laptop", "server", 82);
    c.write_all(&[7; 10_000]).expect("send 10 KB");
    let mut got = vec![0; 10_000];
    s.read_exact(&mut got).expect("recv 10 KB");
    let mut payloads = Vec::new();
    let mut buf = [MaybeUninit::<u8>::uninit(); 70_000];
    while let Ok(n) = tap.recv(&mut buf) {
        // SAFETY: recv initialised the first n bytes.
        let frame: Vec<u8> = buf[..n].iter().map(|b| unsafe { b.assume_init() }).collect();
        if let Ok(packet) = etherparse::SlicedPacket::from_ethernet(&frame)
            && let Some(etherparse::TransportSlice::Tcp(tcp)) = packet.transport
            && tcp.destination_port() == 82
            && !tcp.payload().is_empty()
        {
            payloads.push(tcp.payload().len());
        }
    }
    assert_eq!(payloads.iter().sum::<usize>(), 10_000, "{payloads:?}");
    assert!(payloads.iter().all(|&n| n <= 1448), "{payloads:?}");
}


#[test]
fn the_first_datagram_waits_for_arp_across_a_slow_link() {
    let net = network(&["laptop", "server"]);
    let (laptop, server) = (net.host("laptop").expect("laptop"), net.host("server").expect("server"));
    let probes = |ns: &Netns| ns.run(|| std::fs::read_to_string("/proc/sys/net/ipv4/neigh/eth0/mcast_solicit")).expect("in the namespace");
    assert_eq!(probes(&laptop.netns).expect("the interface's ARP settings").trim(), socklab_kernel::hosts::ARP_PROBES.to_string());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    // 2 s each way: the answer to the first ARP probe comes after 4 s, past
    // the kernel's default 3 probes a second apart.
    rt.block_on(net.condition("laptop", Some("server"), LinkConditions { delay: 2.0, ..Default::default() })).expect("delay");
    let rx = udp(&server.netns);
    rx.set_read_timeout(Some(Duration::from_secs(15))).expect("timeout");
    rx.bind(&at(server.address, 92)).expect("bind");
    let tx = udp(&laptop.netns);
    let started = Instant::now();
    tx.send_to(b"first", &at(server.address, 92)).expect("send");
    let mut buf = [MaybeUninit::<u8>::uninit(); 16];
    let n = rx.recv(&mut buf).expect("the first datagram arrives");
    assert_eq!(n, 5);
    let took = started.elapsed();
    println!("the first datagram took {took:?} across 2 s each way");
    assert!(took >= Duration::from_secs(4), "ARP's round trip, then the datagram: {took:?}");
}
