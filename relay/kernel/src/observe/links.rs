//! The wire view of a session's hosts: an AF_PACKET socket on each host's
//! `eth0`, keeping the frames the host sends (`PACKET_OUTGOING`), so every
//! packet on a link is seen once, after the link's qdiscs (a packet the link
//! loses is never on the wire), ARP and ICMP included. Frames can be kept for
//! a pcapng export.

use std::future::poll_fn;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{SystemTime, UNIX_EPOCH};

use etherparse::{ArpOperation, NetSlice, SlicedPacket};
use socket2::Socket;
use tokio::io::unix::AsyncFd;

use super::capture::{IsnTable, Segment};
use crate::hosts::Network;

/// Frames kept for an export, at most this many (later ones are counted, not kept).
pub const MAX_FRAMES: usize = 200_000;

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

/// Frames kept for an export (shared with whoever writes the file).
pub type FrameLog = Arc<Mutex<Vec<Frame>>>;

struct Tap {
    fd: AsyncFd<Socket>,
    host: String,
    link: usize,
}

/// The taps on every host of a session.
pub(crate) struct LinkCapture {
    taps: Vec<Tap>,
    isn: IsnTable,
    buf: Vec<u8>,
    log: Option<FrameLog>,
}

impl LinkCapture {
    /// Opens a tap on each host's interface. Needs CAP_NET_RAW and a tokio runtime.
    pub fn open(network: &Network, log: Option<FrameLog>) -> io::Result<LinkCapture> {
        let mut taps = Vec::new();
        for (link, (_, ends)) in network.links().iter().enumerate() {
            for end in ends.iter().filter(|end| end.host.is_some()) {
                let sock = end.netns.socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?;
                // SAFETY: `sockaddr_ll` is plain old data; all-zero is valid.
                let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
                addr.sll_family = libc::AF_PACKET as u16;
                addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
                addr.sll_ifindex = end.ifindex as i32;
                // SAFETY: bind reads only the address we pass, with its true size.
                if unsafe { libc::bind(sock.as_raw_fd(), (&raw const addr).cast(), std::mem::size_of_val(&addr) as libc::socklen_t) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                // SAFETY: the `Socket` owns its fd and is owned by the `AsyncFd` for its whole life.
                let fd = unsafe { AsyncFd::register(sock) }.map_err(io::Error::from)?;
                taps.push(Tap { fd, host: end.host.clone().unwrap_or_default(), link });
            }
        }
        Ok(LinkCapture { taps, isn: IsnTable::default(), buf: vec![0; 65_600], log })
    }

    /// The next packet a host sent, with the host's name. Cancel-safe.
    pub async fn next(&mut self) -> io::Result<(Segment, String)> {
        loop {
            let (tap, n) = {
                let LinkCapture { taps, buf, .. } = self;
                poll_fn(|cx| {
                    for (i, tap) in taps.iter().enumerate() {
                        loop {
                            match tap.fd.poll_read_ready(cx) {
                                Poll::Ready(Ok(mut guard)) => match guard.try_io(|fd| recv_outgoing(fd.get_ref(), buf)) {
                                    Ok(Ok(Some(n))) => return Poll::Ready(Ok((i, n))),
                                    Ok(Ok(None)) => {}
                                    Ok(Err(e)) => return Poll::Ready(Err(e)),
                                    Err(_would_block) => {}
                                },
                                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                                Poll::Pending => break,
                            }
                        }
                    }
                    Poll::Pending
                })
                .await?
            };
            let frame = &self.buf[..n];
            let tap = &self.taps[tap];
            if let Some(log) = &self.log
                && let Ok(mut log) = log.lock()
                && log.len() < MAX_FRAMES
            {
                let unix_ns = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
                log.push(Frame { link: tap.link, host: tap.host.clone(), unix_ns, data: frame.to_vec() });
            }
            if let Some(segment) = arp(frame).or_else(|| self.isn.parse(frame)) {
                return Ok((segment, tap.host.clone()));
            }
        }
    }
}

/// One frame this host sent (`None`: a frame it received, skipped).
fn recv_outgoing(sock: &Socket, buf: &mut [u8]) -> io::Result<Option<usize>> {
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
    Ok((from.sll_pkttype == libc::PACKET_OUTGOING as u8).then_some(n as usize))
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
    })
}
