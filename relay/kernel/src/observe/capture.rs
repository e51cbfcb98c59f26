//! The wire view: the session's loopback traffic from an AF_PACKET socket on its `lo`.
//!
//! On `lo` every frame is both sent and received; `PACKET_IGNORE_OUTGOING` keeps
//! only the received copy, so each segment is reported once. Sequence numbers are
//! made relative to each direction's ISN, learnt from its SYN, as Wireshark does.
//!
//! Each frame carries the kernel's receive time (`SO_TIMESTAMPNS`, taken when
//! `lo` handed the frame on, not when this reader got to it). That stamp is on
//! `CLOCK_REALTIME`; it is moved onto `CLOCK_MONOTONIC`, the clock of the
//! tracepoint and of calls, by the two clocks' difference read at that moment.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use socket2::Socket;
use tokio::io::unix::AsyncFd;

use socklab_wire::tcpinfo::ExpertMark;

use super::expert::{Expert, TcpFields};
use crate::netns::Netns;

/// One parsed segment (or datagram), before it is stamped and put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub src: String,
    pub dst: String,
    pub proto: &'static str,
    pub flags: String,
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    pub len: u32,
    /// Wireshark's expert marks, for TCP.
    pub expert: Vec<ExpertMark>,
}

/// Initial sequence numbers by direction (`src`, `dst`).
#[derive(Debug, Default)]
pub(crate) struct IsnTable {
    isn: HashMap<(SocketAddr, SocketAddr), u32>,
    expert: Expert,
}

impl IsnTable {
    /// Parses one Ethernet frame as captured on `lo` at `ts_ns` (for the expert
    /// marks' timing); `None` for what is not
    /// IP carrying TCP, UDP or ICMP.
    pub fn parse(&mut self, frame: &[u8], ts_ns: u64) -> Option<Segment> {
        let packet = SlicedPacket::from_ethernet(frame).ok()?;
        let (src_ip, dst_ip): (IpAddr, IpAddr) = match packet.net.as_ref()? {
            NetSlice::Ipv4(ip) => (
                ip.header().source_addr().into(),
                ip.header().destination_addr().into(),
            ),
            NetSlice::Ipv6(ip) => (
                ip.header().source_addr().into(),
                ip.header().destination_addr().into(),
            ),
            NetSlice::Arp(_) => return None,
        };
        let len = |payload: &[u8]| u32::try_from(payload.len()).unwrap_or(u32::MAX);
        Some(match packet.transport.as_ref()? {
            TransportSlice::Tcp(tcp) => {
                let src = SocketAddr::new(src_ip, tcp.source_port());
                let dst = SocketAddr::new(dst_ip, tcp.destination_port());
                if tcp.syn() {
                    self.isn.insert((src, dst), tcp.sequence_number());
                }
                let relative = |from, to, n: u32| {
                    self.isn
                        .get(&(from, to))
                        .map_or(n, |isn| n.wrapping_sub(*isn))
                };
                let expert = self.expert.mark(
                    src,
                    dst,
                    TcpFields {
                        seq: tcp.sequence_number(),
                        ack: tcp.ack().then(|| tcp.acknowledgment_number()),
                        window: tcp.window_size(),
                        len: len(tcp.payload()),
                        syn: tcp.syn(),
                        fin: tcp.fin(),
                        rst: tcp.rst(),
                    },
                    ts_ns,
                );
                let mut flags = Vec::with_capacity(3);
                for (set, name) in [
                    (tcp.syn(), "SYN"),
                    (tcp.fin(), "FIN"),
                    (tcp.rst(), "RST"),
                    (tcp.psh(), "PSH"),
                    (tcp.urg(), "URG"),
                    (tcp.ack(), "ACK"),
                ] {
                    if set {
                        flags.push(name);
                    }
                }
                Segment {
                    src: src.to_string(),
                    dst: dst.to_string(),
                    proto: "TCP",
                    flags: flags.join(","),
                    seq: Some(relative(src, dst, tcp.sequence_number())),
                    ack: tcp
                        .ack()
                        .then(|| relative(dst, src, tcp.acknowledgment_number())),
                    len: len(tcp.payload()),
                    expert,
                }
            }
            TransportSlice::Udp(udp) => Segment {
                src: SocketAddr::new(src_ip, udp.source_port()).to_string(),
                dst: SocketAddr::new(dst_ip, udp.destination_port()).to_string(),
                proto: "UDP",
                flags: String::new(),
                seq: None,
                ack: None,
                len: len(udp.payload()),
                expert: Vec::new(),
            },
            TransportSlice::Icmpv4(icmp) => Segment {
                src: src_ip.to_string(),
                dst: dst_ip.to_string(),
                proto: "ICMP",
                flags: icmpv4_name(icmp.type_u8()).to_string(),
                seq: None,
                ack: None,
                len: len(icmp.payload()),
                expert: Vec::new(),
            },
            TransportSlice::Icmpv6(icmp) => Segment {
                src: src_ip.to_string(),
                dst: dst_ip.to_string(),
                proto: "ICMP",
                flags: icmpv6_name(icmp.type_u8()).to_string(),
                seq: None,
                ack: None,
                len: len(&icmp.slice()[icmp.header_len().min(icmp.slice().len())..]),
                expert: Vec::new(),
            },
            TransportSlice::Igmp(_) => return None,
        })
    }
}

fn icmpv4_name(ty: u8) -> &'static str {
    match ty {
        0 => "echo-reply",
        3 => "dest-unreachable",
        5 => "redirect",
        8 => "echo-request",
        11 => "time-exceeded",
        12 => "parameter-problem",
        13 => "timestamp",
        14 => "timestamp-reply",
        _ => "other",
    }
}

fn icmpv6_name(ty: u8) -> &'static str {
    match ty {
        1 => "dest-unreachable",
        2 => "packet-too-big",
        3 => "time-exceeded",
        4 => "parameter-problem",
        128 => "echo-request",
        129 => "echo-reply",
        133 => "router-solicitation",
        134 => "router-advertisement",
        135 => "neighbor-solicitation",
        136 => "neighbor-advertisement",
        _ => "other",
    }
}

/// An AF_PACKET socket on one namespace's `lo`.
#[derive(Debug)]
pub(crate) struct Capture {
    fd: AsyncFd<Socket>,
    isn: IsnTable,
    buf: Vec<u8>,
}

impl Capture {
    /// Opens the capture on `netns`'s `lo`. Needs CAP_NET_RAW and a tokio runtime.
    pub fn open(netns: &Netns) -> io::Result<Capture> {
        // Protocol 0 at creation, ETH_P_ALL at bind: a socket created with a
        // protocol is hooked at once, and re-binding it to `lo` then waits for an
        // RCU grace period (synchronize_net, ~10 ms).
        let sock = netns.socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?;
        let lo = netns.run(|| {
            // SAFETY: a NUL-terminated constant name.
            unsafe { libc::if_nametoindex(c"lo".as_ptr()) }
        })?;
        if lo == 0 {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no lo in the namespace",
            ));
        }
        let one: libc::c_int = 1;
        // SAFETY: `sockaddr_ll` is plain old data; all-zero is valid.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        addr.sll_ifindex = i32::try_from(lo).map_err(io::Error::other)?;
        // Only the received copy of each frame; and the kernel's receive time
        // of each, read back with recvmsg.
        let options = [(libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING), (libc::SOL_SOCKET, libc::SO_TIMESTAMPNS)];
        // SAFETY: the calls read only the values we pass, with their true sizes.
        unsafe {
            for (level, option) in options {
                let size = std::mem::size_of_val(&one) as libc::socklen_t;
                if libc::setsockopt(sock.as_raw_fd(), level, option, (&raw const one).cast(), size) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            if libc::bind(
                sock.as_raw_fd(),
                (&raw const addr).cast(),
                std::mem::size_of_val(&addr) as libc::socklen_t,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(io::Error::other("capture needs a tokio runtime"));
        }
        // SAFETY: the `Socket` owns its fd and is owned by the `AsyncFd` for its
        // whole life, so the fd stays open and the same.
        let fd = unsafe { AsyncFd::register(sock) }.map_err(io::Error::from)?;
        Ok(Capture {
            fd,
            isn: IsnTable::default(),
            buf: vec![0; 65_600],
        })
    }

    /// The next segment on the wire, with the `CLOCK_MONOTONIC` nanoseconds
    /// the kernel received it at. Cancel-safe: a frame is read and parsed in
    /// the same poll that completes.
    pub async fn next(&mut self) -> io::Result<(Segment, u64)> {
        loop {
            let mut guard = self.fd.readable().await?;
            let buf = &mut self.buf;
            let result = guard.try_io(|fd| recv_stamped(fd.get_ref().as_raw_fd(), buf));
            match result {
                Ok(Ok((n, received_ns))) => {
                    if let Some(segment) = self.isn.parse(&self.buf[..n], received_ns) {
                        return Ok((segment, received_ns));
                    }
                }
                Ok(Err(error)) => return Err(error),
                Err(_would_block) => {}
            }
        }
    }
}

/// One frame into `buf`: its length and when the kernel received it, on
/// `CLOCK_MONOTONIC` (now, if the frame came without a stamp).
fn recv_stamped(fd: i32, buf: &mut [u8]) -> io::Result<(usize, u64)> {
    // Room for one `cmsghdr` with a `timespec`, aligned as cmsghdr wants.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: `msghdr` is plain old data; all-zero is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: every pointer in `msg` points into live buffers of the sizes given.
    let n = unsafe { libc::recvmsg(fd, &raw mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let (real, mono) = (super::clock_ns(libc::CLOCK_REALTIME), super::mono_ns());
    let mut received = None;
    // SAFETY: the CMSG macros walk the control buffer the kernel filled, within `msg_controllen`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SO_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::timespec>());
                received = Some(u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0));
            }
            cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
        }
    }
    let n = usize::try_from(n).unwrap_or(0);
    Ok((n, received.map_or(mono, |at| realtime_to_mono(at, real, mono))))
}

/// A `CLOCK_REALTIME` time on `CLOCK_MONOTONIC`, given both clocks read at one moment.
pub(super) fn realtime_to_mono(at: u64, real_now: u64, mono_now: u64) -> u64 {
    mono_now.saturating_sub(real_now.saturating_sub(at))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_realtime_stamp_lands_as_long_ago_on_the_monotonic_clock() {
        assert_eq!(super::realtime_to_mono(1_000_000_700, 1_000_001_000, 5_000), 4_700);
        // A stamp from the future (the wall clock stepped back) is now, not an overflow.
        assert_eq!(super::realtime_to_mono(9_000, 1_000, 5_000), 5_000);
        assert_eq!(super::realtime_to_mono(0, u64::MAX, 5), 0);
    }
}

#[cfg(test)]
mod frames {
    use super::*;
    use etherparse::PacketBuilder;

    fn tcp_frame(
        src: u16,
        dst: u16,
        seq: u32,
        ack: Option<u32>,
        syn: bool,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut builder = PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64)
            .tcp(src, dst, seq, 65535);
        if syn {
            builder = builder.syn();
        }
        if let Some(ack) = ack {
            builder = builder.ack(ack);
        }
        let mut frame = Vec::new();
        builder.write(&mut frame, payload).expect("frame");
        frame
    }

    #[test]
    fn handshake_is_relative_to_each_isn() {
        let mut table = IsnTable::default();
        let syn = table
            .parse(&tcp_frame(40000, 5500, 1000, None, true, b""), 0)
            .expect("syn");
        assert_eq!(
            (syn.flags.as_str(), syn.seq, syn.ack),
            ("SYN", Some(0), None)
        );
        let syn_ack = table
            .parse(&tcp_frame(5500, 40000, 7000, Some(1001), true, b""), 0)
            .expect("syn-ack");
        assert_eq!(
            (syn_ack.flags.as_str(), syn_ack.seq, syn_ack.ack),
            ("SYN,ACK", Some(0), Some(1))
        );
        let data = table
            .parse(&tcp_frame(40000, 5500, 1001, Some(7001), false, b"hello"), 0)
            .expect("data");
        assert_eq!(
            (data.flags.as_str(), data.seq, data.ack, data.len),
            ("ACK", Some(1), Some(1), 5)
        );
        assert_eq!(data.src, "127.0.0.1:40000");
    }
}
