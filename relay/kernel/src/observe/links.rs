//! The wire view of a session's hosts: one AF_PACKET socket that sees every
//! packet on the session's link once, in the kernel's order, after the
//! sender's qdiscs (a packet the link loses is never on the wire), ARP and
//! ICMP included, each named by the host that sent it. Frames can be kept for
//! a pcapng export.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};

use etherparse::{ArpOperation, NetSlice, SlicedPacket};
use socket2::Socket;
use tokio::io::unix::AsyncFd;

use super::capture::{IsnTable, Segment};
use crate::forward::Copies;
use crate::hosts::{HOST_IFINDEX, Network, PORT_IFINDEX};
use std::collections::HashMap;

/// Bytes of frames `socklab run --pcap` keeps, at most (later frames are not kept).
pub const MAX_FRAME_BYTES: usize = 64 << 20;

/// One frame as it left a host.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Index into [`Network::links`].
    pub link: usize,
    /// The host that sent it.
    pub host: String,
    /// Wall-clock time it was captured, nanoseconds since the Unix epoch.
    pub unix_ns: u64,
    pub data: Vec<u8>,
}

/// Frames kept for an export, up to `max_bytes` of them; later ones are counted in `dropped`.
#[derive(Debug, Default)]
pub struct KeptFrames {
    pub frames: Vec<Frame>,
    pub bytes: usize,
    pub max_bytes: usize,
    pub dropped: usize,
}

/// The kept frames, shared with whoever writes the file.
pub type FrameLog = Arc<Mutex<KeptFrames>>;

/// Where a session's link traffic is seen in one place, in the order the
/// kernel saw it: with two hosts on a veth pair, the first host's `eth0` (what
/// it sends is outgoing there, what the other sends is incoming); with a
/// bridge, every port of it in the session's namespace (a frame counts where it
/// enters the bridge, from its sender's cable, so before an emulated link's
/// forwarder can lose it).
pub(crate) struct LinkCapture {
    fd: AsyncFd<Socket>,
    /// Host names by index; with a bridge, port `PORT_IFINDEX + i` is host `i`'s cable.
    hosts: Vec<String>,
    switched: bool,
    isn: IsnTable,
    buf: Vec<u8>,
    log: Option<FrameLog>,
    /// Duplicates an emulated link made, shown as sent again by their sender.
    copies: Arc<Copies>,
    /// Each host's MAC address (learnt from what it sends), to name a duplicate's sender.
    macs: HashMap<[u8; 6], usize>,
}

impl LinkCapture {
    /// Opens the capture. Needs CAP_NET_RAW and a tokio runtime.
    pub fn open(network: &Network, log: Option<FrameLog>) -> io::Result<LinkCapture> {
        let switched = network.bridged();
        let (netns, ifindex) = if switched {
            (network.session().clone(), 0)
        } else {
            (network.hosts()[0].netns.clone(), HOST_IFINDEX)
        };
        let sock = crate::forward::packet_socket(&netns, ifindex)?;
        // Each frame stamped by the kernel as it is captured (read back with SIOCGSTAMPNS):
        // the observer may read it much later.
        let one: libc::c_int = 1;
        // SAFETY: setsockopt reads only the int we pass, with its true size.
        if unsafe { libc::setsockopt(sock.as_raw_fd(), libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, (&raw const one).cast(), std::mem::size_of_val(&one) as libc::socklen_t) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the `Socket` owns its fd and is owned by the `AsyncFd` for its whole life.
        let fd = unsafe { AsyncFd::register(sock) }.map_err(io::Error::from)?;
        let hosts = network.hosts().iter().map(|host| host.name.clone()).collect();
        let copies = network.copies().clone();
        Ok(LinkCapture { fd, hosts, switched, isn: IsnTable::default(), buf: vec![0; 65_600], log, copies, macs: HashMap::new() })
    }

    /// Which link a captured frame crossed and which host sent it (None: seen twice, skipped).
    fn sender(&self, ifindex: i32, pkttype: u8) -> Option<(usize, usize)> {
        let outgoing = pkttype == libc::PACKET_OUTGOING;
        if self.switched {
            let port = usize::try_from(ifindex).ok()?.checked_sub(PORT_IFINDEX as usize)?;
            // Two hosts on a bridge (an emulated link) are still one link.
            let link = if self.hosts.len() == 2 { 0 } else { port };
            (!outgoing && port < self.hosts.len()).then_some((link, port))
        } else {
            Some((0, if outgoing { 0 } else { 1 }))
        }
    }

    /// The next packet a host sent, with the host's name and the
    /// `CLOCK_MONOTONIC` nanoseconds the kernel captured it at. Cancel-safe.
    pub async fn next(&mut self) -> io::Result<(Segment, String, u64)> {
        loop {
            if let Some((sender, frame)) = self.copies.pop() {
                let Some(host) = sender.or_else(|| frame.get(6..12).and_then(|mac| self.macs.get(mac)).copied()) else {
                    continue;
                };
                let link = if self.hosts.len() == 2 { 0 } else { host };
                let (real_now, mono_now) = (super::clock_ns(libc::CLOCK_REALTIME), super::mono_ns());
                if let Some(found) = self.keep(link, host, &frame, real_now, real_now, mono_now) {
                    return Ok(found);
                }
                continue;
            }
            let mut guard = tokio::select! {
                guard = self.fd.readable() => guard?,
                () = self.copies.ready.notified() => continue,
            };
            let buf = &mut self.buf;
            let (n, ifindex, pkttype) = match guard.try_io(|fd| recv_frame(fd.get_ref(), buf)) {
                Ok(result) => result?,
                Err(_would_block) => continue,
            };
            drop(guard);
            let Some((link, host)) = self.sender(ifindex, pkttype) else {
                continue;
            };
            let frame = std::mem::take(&mut self.buf);
            if let Some(mac) = frame.get(6..12).and_then(|mac| <[u8; 6]>::try_from(mac).ok())
                && self.macs.len() < 4 * self.hosts.len()
            {
                self.macs.insert(mac, host);
            }
            let (real_now, mono_now) = (super::clock_ns(libc::CLOCK_REALTIME), super::mono_ns());
            let unix_ns = captured_at(self.fd.get_ref()).unwrap_or(real_now);
            let found = self.keep(link, host, &frame[..n], unix_ns, real_now, mono_now);
            self.buf = frame;
            if let Some(found) = found {
                return Ok(found);
            }
        }
    }

    /// A frame host `host` sent on `link`, kept for an export and parsed.
    fn keep(&mut self, link: usize, host: usize, frame: &[u8], unix_ns: u64, real_now: u64, mono_now: u64) -> Option<(Segment, String, u64)> {
        let host = self.hosts[host].clone();
        if let Some(log) = &self.log
            && let Ok(mut log) = log.lock()
        {
            if log.bytes + frame.len() <= log.max_bytes {
                log.bytes += frame.len();
                log.frames.push(Frame { link, host: host.clone(), unix_ns, data: frame.to_vec() });
            } else {
                log.dropped += 1;
            }
        }
        let segment = arp(frame).or_else(|| self.isn.parse(frame, unix_ns))?;
        Some((segment, host, super::capture::realtime_to_mono(unix_ns, real_now, mono_now)))
    }
}

/// When the kernel captured the frame last read (wall clock, ns since the epoch).
fn captured_at(sock: &Socket) -> Option<u64> {
    const SIOCGSTAMPNS: libc::c_ulong = 0x8907;
    // SAFETY: `timespec` is plain old data; all-zero is valid.
    let mut at: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: SIOCGSTAMPNS writes one `timespec`, which lives across the call.
    if unsafe { libc::ioctl(sock.as_raw_fd(), SIOCGSTAMPNS, &mut at) } != 0 {
        return None;
    }
    Some(u64::try_from(at.tv_sec).ok()? * 1_000_000_000 + u64::try_from(at.tv_nsec).ok()?)
}

/// One frame: its length, the interface it was seen on and its packet type.
pub(crate) fn recv_frame(sock: &Socket, buf: &mut [u8]) -> io::Result<(usize, i32, u8)> {
    // SAFETY: `sockaddr_ll` is plain old data; all-zero is valid.
    let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of_val(&from) as libc::socklen_t;
    // SAFETY: recvfrom writes at most `buf.len()` bytes into `buf` and at most `len` into `from`.
    let n = unsafe {
        libc::recvfrom(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0, (&raw mut from).cast(), &mut len)
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((n as usize, from.sll_ifindex, from.sll_pkttype))
}

/// An ARP request or reply, as a segment: who asks for (or tells) which address.
fn arp(frame: &[u8]) -> Option<Segment> {
    let packet = SlicedPacket::from_ethernet(frame).ok()?;
    let NetSlice::Arp(arp) = packet.net? else {
        return None;
    };
    let ip = |bytes: &[u8]| <[u8; 4]>::try_from(bytes).map(|b| std::net::Ipv4Addr::from(b).to_string()).unwrap_or_default();
    let flags = match arp.operation() {
        ArpOperation::REQUEST => "who-has",
        ArpOperation::REPLY => "is-at",
        _ => "other",
    };
    Some(Segment {
        src: ip(arp.sender_protocol_addr()),
        dst: ip(arp.target_protocol_addr()),
        proto: "ARP",
        flags: flags.into(),
        seq: None,
        ack: None,
        len: 0,
        expert: Vec::new(),
    })
}
