//! `TCP_INFO` and the queues of an open TCP socket, decoded by offset with the
//! kernel's `struct tcp_info` layout (include/uapi/linux/tcp.h). The kernel
//! writes as much of the struct as it has, and says how much: a field past
//! that length is absent (e.g. `tcpi_rcv_wnd` before Linux 6.7).

use std::io;
use std::os::fd::RawFd;

use socklab_wire::tcpinfo::TcpInfo;

/// Room for the struct as this or a later kernel writes it.
const BUF: usize = 320;

// Offsets of the fields read, in bytes.
const STATE: usize = 0;
const RETRANSMITS: usize = 2;
const RTO: usize = 8;
const SND_MSS: usize = 16;
const UNACKED: usize = 24;
const LOST: usize = 32;
const RTT: usize = 68;
const RTTVAR: usize = 72;
const SND_SSTHRESH: usize = 76;
const SND_CWND: usize = 80;
const RCV_SPACE: usize = 96;
const TOTAL_RETRANS: usize = 100;
const DELIVERY_RATE: usize = 160;
const SND_WND: usize = 228;
const RCV_WND: usize = 232;

/// The kernel's state numbers of sockets with nothing to sample.
const TCP_CLOSE: u8 = 7;
const TCP_LISTEN: u8 = 10;

/// `struct tcp_info` as the kernel wrote it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawTcpInfo {
    buf: [u8; BUF],
    len: usize,
}

impl RawTcpInfo {
    /// `getsockopt(fd, IPPROTO_TCP, TCP_INFO)`. The caller guarantees `fd` is open.
    pub fn read(fd: RawFd) -> io::Result<RawTcpInfo> {
        let mut buf = [0u8; BUF];
        let mut len = BUF as libc::socklen_t;
        // SAFETY: the kernel writes at most `len` bytes into `buf`, which outlives the call.
        let rc = unsafe {
            libc::getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_INFO, buf.as_mut_ptr().cast(), &mut len)
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(RawTcpInfo { buf, len: (len as usize).min(BUF) })
    }

    /// From bytes as the kernel lays them out (for tests).
    #[cfg(test)]
    fn from_bytes(bytes: &[u8]) -> RawTcpInfo {
        let mut buf = [0u8; BUF];
        let len = bytes.len().min(BUF);
        buf[..len].copy_from_slice(&bytes[..len]);
        RawTcpInfo { buf, len }
    }

    /// How many bytes the kernel wrote: the size of its `struct tcp_info`.
    pub fn len(&self) -> usize {
        self.len
    }

    fn u8_at(&self, at: usize) -> Option<u8> {
        (at < self.len).then(|| self.buf[at])
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let bytes = self.buf.get(at..at + 4).filter(|_| at + 4 <= self.len)?;
        Some(u32::from_ne_bytes(bytes.try_into().ok()?))
    }

    fn u64_at(&self, at: usize) -> Option<u64> {
        let bytes = self.buf.get(at..at + 8).filter(|_| at + 8 <= self.len)?;
        Some(u64::from_ne_bytes(bytes.try_into().ok()?))
    }

    /// `tcpi_state`, the kernel's number.
    pub fn state(&self) -> Option<u8> {
        self.u8_at(STATE)
    }

    /// Whether the socket has a connection to describe (not listening, not closed).
    pub fn connected(&self) -> bool {
        self.state().is_some_and(|s| s != TCP_LISTEN && s != TCP_CLOSE)
    }

    /// The fields the wire carries; the queues are the caller's.
    pub fn decode(&self, inq: u32, outq: u32) -> TcpInfo {
        let u32_at = |at| self.u32_at(at).unwrap_or(0);
        TcpInfo {
            rtt_us: u32_at(RTT),
            rttvar_us: u32_at(RTTVAR),
            rto_us: u32_at(RTO),
            cwnd: u32_at(SND_CWND),
            ssthresh: u32_at(SND_SSTHRESH),
            mss: u32_at(SND_MSS),
            unacked: u32_at(UNACKED),
            lost: u32_at(LOST),
            retransmits: self.u8_at(RETRANSMITS).map_or(0, u32::from),
            total_retrans: u32_at(TOTAL_RETRANS),
            snd_wnd: self.u32_at(SND_WND),
            rcv_wnd: self.u32_at(RCV_WND),
            rcv_space: u32_at(RCV_SPACE),
            delivery_rate: self.u64_at(DELIVERY_RATE).unwrap_or(0),
            inq,
            outq,
        }
    }
}

/// Bytes in the receive queue (`SIOCINQ`, alias FIONREAD) or the send queue
/// (`SIOCOUTQ`, alias TIOCOUTQ); 0 if the kernel refuses.
fn queue(fd: RawFd, receive: bool) -> u32 {
    let mut n: libc::c_int = 0;
    // SAFETY: both requests write one int into `n`, which outlives the call.
    let rc = unsafe {
        if receive {
            libc::ioctl(fd, libc::FIONREAD, &mut n)
        } else {
            libc::ioctl(fd, libc::TIOCOUTQ, &mut n)
        }
    };
    if rc == 0 { u32::try_from(n).unwrap_or(0) } else { 0 }
}

/// How many bytes of `struct tcp_info` the running kernel writes for `fd`.
pub fn size(fd: RawFd) -> io::Result<usize> {
    RawTcpInfo::read(fd).map(|raw| raw.len())
}

/// One look at a connected TCP socket; `None` for a listener, a closed socket
/// or one the kernel will not describe. The caller guarantees `fd` is open.
pub(crate) fn look(fd: RawFd) -> Option<TcpInfo> {
    let raw = RawTcpInfo::read(fd).ok()?;
    if !raw.connected() {
        return None;
    }
    Some(raw.decode(queue(fd, true), queue(fd, false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_their_offsets_and_short_structs_lack_the_late_ones() {
        let mut bytes = vec![0u8; 240];
        bytes[STATE] = 1;
        bytes[RETRANSMITS] = 2;
        let mut put = |at: usize, v: u32| bytes[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        put(RTT, 40_000);
        put(SND_CWND, 10);
        put(TOTAL_RETRANS, 7);
        put(SND_WND, 65_535);
        put(RCV_WND, 1_000);
        bytes[DELIVERY_RATE..DELIVERY_RATE + 8].copy_from_slice(&123_456u64.to_ne_bytes());
        let info = RawTcpInfo::from_bytes(&bytes).decode(5, 6);
        assert_eq!(
            (info.rtt_us, info.cwnd, info.total_retrans, info.retransmits, info.delivery_rate),
            (40_000, 10, 7, 2, 123_456)
        );
        assert_eq!((info.snd_wnd, info.rcv_wnd, info.inq, info.outq), (Some(65_535), Some(1_000), 5, 6));
        // A kernel before tcpi_rcv_wnd (232 bytes), and one before tcpi_snd_wnd.
        let older = RawTcpInfo::from_bytes(&bytes[..232]).decode(0, 0);
        assert_eq!((older.snd_wnd, older.rcv_wnd), (Some(65_535), None));
        let oldest = RawTcpInfo::from_bytes(&bytes[..104]).decode(0, 0);
        assert_eq!((oldest.snd_wnd, oldest.delivery_rate, oldest.total_retrans), (None, 0, 7));
        assert!(RawTcpInfo::from_bytes(&bytes).connected());
        bytes[STATE] = TCP_LISTEN;
        assert!(!RawTcpInfo::from_bytes(&bytes).connected());
        assert!(!RawTcpInfo::from_bytes(&[]).connected());
    }
}
