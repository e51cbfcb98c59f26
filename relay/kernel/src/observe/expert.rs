//! Wireshark's expert marks on TCP segments, worked out per connection
//! direction from sequence and ack numbers and the capture time. Pure: no I/O.
//!
//! The rules are Wireshark's:
//! - **retransmission**: the segment carries data (or SYN/FIN) starting before
//!   the highest sequence number this direction already sent, and is not a
//!   keep-alive (at most one byte, one before that highest number);
//! - **fast retransmission** (marked besides retransmission): the other
//!   direction sent at least two duplicate ACKs for this very sequence number,
//!   the last within 20 ms;
//! - **duplicate ACK**: no data, no SYN/FIN/RST, the same non-zero window and
//!   the same ack number as this direction's previous segment, and a sequence
//!   number at the direction's next one;
//! - **zero window**: a window of 0 outside SYN/FIN/RST;
//! - **reset**: RST.

use std::collections::HashMap;
use std::net::SocketAddr;

use socklab_wire::tcpinfo::ExpertMark;

/// The TCP header fields the marks depend on (absolute numbers, raw window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TcpFields {
    pub seq: u32,
    /// `None` without the ACK flag.
    pub ack: Option<u32>,
    pub window: u16,
    pub len: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
}

/// What one direction of a connection has sent so far.
#[derive(Debug, Clone, Copy)]
struct Direction {
    /// One past the highest sequence number sent.
    next_seq: u32,
    last_ack: Option<u32>,
    window: u16,
    /// Duplicate ACKs sent in a row for `last_ack`, and when the last one was captured.
    dup_acks: u32,
    last_dup_ack_ns: u64,
}

/// How soon after the last duplicate ACK a retransmission counts as fast.
const FAST_WITHIN_NS: u64 = 20_000_000;

/// The marks of each direction's segments, in capture order.
#[derive(Debug, Default)]
pub(crate) struct Expert {
    directions: HashMap<(SocketAddr, SocketAddr), Direction>,
}

/// Whether `a` comes before `b` in sequence space (RFC 1982 arithmetic).
fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl Expert {
    /// The marks of a segment from `src` to `dst` captured at `ts_ns` (any
    /// clock that does not go back), learning from it.
    pub fn mark(&mut self, src: SocketAddr, dst: SocketAddr, seg: TcpFields, ts_ns: u64) -> Vec<ExpertMark> {
        let mut marks = Vec::new();
        let control = seg.syn || seg.fin || seg.rst;
        let end = seg
            .seq
            .wrapping_add(seg.len)
            .wrapping_add(u32::from(seg.syn) + u32::from(seg.fin));
        if seg.syn && !seg.rst {
            // A new connection on these ports starts afresh; a SYN repeated is a retransmission.
            if self.directions.get(&(src, dst)).is_some_and(|d| d.next_seq != end) {
                self.directions.remove(&(src, dst));
            }
        }
        let previous = self.directions.get(&(src, dst)).copied();
        if let Some(dir) = previous {
            let carries = seg.len > 0 || seg.syn || seg.fin;
            let keep_alive = seg.len <= 1 && !control && seg.seq.wrapping_add(1) == dir.next_seq;
            if carries && !keep_alive && before(seg.seq, dir.next_seq) {
                marks.push(ExpertMark::Retransmission);
                if self.directions.get(&(dst, src)).is_some_and(|back| {
                    back.dup_acks >= 2
                        && back.last_ack == Some(seg.seq)
                        && ts_ns.saturating_sub(back.last_dup_ack_ns) < FAST_WITHIN_NS
                }) {
                    marks.push(ExpertMark::FastRetransmission);
                }
            }
            if seg.len == 0
                && !control
                && seg.window != 0
                && seg.window == dir.window
                && seg.seq == dir.next_seq
                && seg.ack.is_some()
                && seg.ack == dir.last_ack
            {
                marks.push(ExpertMark::DupAck);
            }
        }
        if seg.window == 0 && !control {
            marks.push(ExpertMark::ZeroWindow);
        }
        if seg.rst {
            marks.push(ExpertMark::Reset);
        }
        let next_seq = match previous {
            Some(dir) if !before(dir.next_seq, end) => dir.next_seq,
            _ => end,
        };
        let last_ack = seg.ack.or(previous.and_then(|d| d.last_ack));
        let (dup_acks, last_dup_ack_ns) = match previous {
            _ if marks.contains(&ExpertMark::DupAck) => (previous.map_or(0, |d| d.dup_acks) + 1, ts_ns),
            Some(dir) if dir.last_ack == last_ack => (dir.dup_acks, dir.last_dup_ack_ns),
            _ => (0, 0),
        };
        self.directions.insert(
            (src, dst),
            Direction {
                next_seq,
                last_ack,
                window: seg.window,
                dup_acks,
                last_dup_ack_ns,
            },
        );
        if seg.rst {
            self.directions.remove(&(src, dst));
            self.directions.remove(&(dst, src));
        }
        marks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIN: u16 = 512;

    impl Expert {
        /// Marks for tests where capture times do not matter.
        fn untimed(&mut self, src: SocketAddr, dst: SocketAddr, seg: TcpFields) -> Vec<ExpertMark> {
            self.mark(src, dst, seg, 0)
        }
    }

    fn ends() -> (SocketAddr, SocketAddr) {
        ("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:5500".parse().unwrap())
    }

    fn seg(seq: u32, ack: Option<u32>, len: u32) -> TcpFields {
        TcpFields { seq, ack, window: WIN, len, ..TcpFields::default() }
    }

    /// A handshake, then the client sends 100 and 100 bytes, each acked.
    fn ordinary(expert: &mut Expert) -> Vec<Vec<ExpertMark>> {
        let (c, s) = ends();
        vec![
            expert.untimed(c, s, TcpFields { syn: true, ..seg(1000, None, 0) }),
            expert.untimed(s, c, TcpFields { syn: true, ..seg(5000, Some(1001), 0) }),
            expert.untimed(c, s, seg(1001, Some(5001), 0)),
            expert.untimed(c, s, seg(1001, Some(5001), 100)),
            expert.untimed(s, c, seg(5001, Some(1101), 0)),
            expert.untimed(c, s, seg(1101, Some(5001), 100)),
            expert.untimed(s, c, seg(5001, Some(1201), 0)),
            expert.untimed(c, s, TcpFields { fin: true, ..seg(1201, Some(5001), 0) }),
            expert.untimed(s, c, TcpFields { fin: true, ..seg(5001, Some(1202), 0) }),
            expert.untimed(c, s, seg(1202, Some(5002), 0)),
        ]
    }

    #[test]
    fn ordinary_traffic_is_marked_nothing() {
        let mut expert = Expert::default();
        assert!(ordinary(&mut expert).iter().all(Vec::is_empty));
        // The same ports again, a new connection (new ISNs): still nothing.
        assert!(ordinary(&mut expert).iter().all(Vec::is_empty));
    }

    #[test]
    fn data_sent_again_is_a_retransmission() {
        let (c, s) = ends();
        let mut expert = Expert::default();
        expert.untimed(c, s, TcpFields { syn: true, ..seg(1000, None, 0) });
        assert_eq!(expert.untimed(c, s, TcpFields { syn: true, ..seg(1000, None, 0) }), [ExpertMark::Retransmission]);
        expert.untimed(s, c, TcpFields { syn: true, ..seg(5000, Some(1001), 0) });
        assert!(expert.untimed(c, s, seg(1001, Some(5001), 100)).is_empty());
        assert!(expert.untimed(c, s, seg(1101, Some(5001), 100)).is_empty());
        // The first segment again (its ACK was lost), and one overlapping the end.
        assert_eq!(expert.untimed(c, s, seg(1001, Some(5001), 100)), [ExpertMark::Retransmission]);
        assert_eq!(expert.untimed(c, s, seg(1150, Some(5001), 100)), [ExpertMark::Retransmission]);
        // A keep-alive (one byte before the next) is not a retransmission.
        assert!(expert.untimed(c, s, seg(1249, Some(5001), 0)).is_empty());
        // Across the sequence space's wrap.
        let mut expert = Expert::default();
        expert.untimed(c, s, seg(u32::MAX - 49, Some(1), 100));
        assert_eq!(expert.untimed(c, s, seg(u32::MAX - 49, Some(1), 100)), [ExpertMark::Retransmission]);
        assert!(expert.untimed(c, s, seg(50, Some(1), 100)).is_empty());
    }

    #[test]
    fn the_same_ack_again_is_a_duplicate() {
        let mut expert = Expert::default();
        let (c, s) = ends();
        expert.untimed(s, c, seg(5001, Some(1101), 0));
        assert_eq!(expert.untimed(s, c, seg(5001, Some(1101), 0)), [ExpertMark::DupAck]);
        assert_eq!(expert.untimed(s, c, seg(5001, Some(1101), 0)), [ExpertMark::DupAck]);
        // A window update is not a duplicate, nor is an ACK that moves on.
        assert!(expert.untimed(s, c, TcpFields { window: WIN * 2, ..seg(5001, Some(1101), 0) }).is_empty());
        assert!(expert.untimed(s, c, TcpFields { window: WIN * 2, ..seg(5001, Some(1201), 0) }).is_empty());
        // Data with the same ack is not a duplicate ACK.
        assert!(expert.untimed(s, c, TcpFields { window: WIN * 2, ..seg(5001, Some(1201), 10) }).is_empty());
    }

    #[test]
    fn zero_windows_and_resets() {
        let mut expert = Expert::default();
        let (c, s) = ends();
        expert.untimed(s, c, seg(5001, Some(1101), 0));
        let zero = TcpFields { window: 0, ..seg(5001, Some(1101), 0) };
        assert_eq!(expert.untimed(s, c, zero), [ExpertMark::ZeroWindow]);
        // A second zero-window ACK is still no duplicate ACK (Wireshark requires a window).
        assert_eq!(expert.untimed(s, c, zero), [ExpertMark::ZeroWindow]);
        let rst = TcpFields { rst: true, window: 0, ..seg(5001, Some(1101), 0) };
        assert_eq!(expert.untimed(s, c, rst), [ExpertMark::Reset]);
        // After a reset the ports start afresh.
        assert!(expert.untimed(c, s, TcpFields { syn: true, ..seg(1000, None, 0) }).is_empty());
    }

    #[test]
    fn a_retransmission_after_two_duplicate_acks_is_fast() {
        let (c, s) = ends();
        let ms = 1_000_000;
        let mut expert = Expert::default();
        expert.mark(c, s, TcpFields { syn: true, ..seg(1000, None, 0) }, 0);
        expert.mark(s, c, TcpFields { syn: true, ..seg(5000, Some(1001), 0) }, ms);
        // Segments 1001, 1101, 1201, 1301 leave; 1001 is lost, so each later one brings a duplicate ACK.
        for (i, seq) in [1001, 1101, 1201, 1301].into_iter().enumerate() {
            expert.mark(c, s, seg(seq, Some(5001), 100), 2 * ms + i as u64);
        }
        expert.mark(s, c, seg(5001, Some(1001), 0), 10 * ms);
        assert_eq!(expert.mark(s, c, seg(5001, Some(1001), 0), 11 * ms), [ExpertMark::DupAck]);
        assert_eq!(expert.mark(s, c, seg(5001, Some(1001), 0), 12 * ms), [ExpertMark::DupAck]);
        assert_eq!(
            expert.mark(c, s, seg(1001, Some(5001), 100), 13 * ms),
            [ExpertMark::Retransmission, ExpertMark::FastRetransmission]
        );
        // Another sequence number, or too long after the last duplicate: a plain retransmission.
        assert_eq!(expert.mark(c, s, seg(1101, Some(5001), 100), 14 * ms), [ExpertMark::Retransmission]);
        let mut late = Expert::default();
        late.mark(c, s, seg(1001, Some(5001), 200), 0);
        late.mark(s, c, seg(5001, Some(1001), 0), ms);
        late.mark(s, c, seg(5001, Some(1001), 0), 2 * ms);
        late.mark(s, c, seg(5001, Some(1001), 0), 3 * ms);
        assert_eq!(late.mark(c, s, seg(1001, Some(5001), 100), 300 * ms), [ExpertMark::Retransmission]);
        // One duplicate is not enough.
        let mut once = Expert::default();
        once.mark(c, s, seg(1001, Some(5001), 200), 0);
        once.mark(s, c, seg(5001, Some(1001), 0), ms);
        once.mark(s, c, seg(5001, Some(1001), 0), 2 * ms);
        assert_eq!(once.mark(c, s, seg(1001, Some(5001), 100), 3 * ms), [ExpertMark::Retransmission]);
        // The count starts again when the ACK moves on.
        once.mark(s, c, seg(5001, Some(1101), 0), 4 * ms);
        once.mark(s, c, seg(5001, Some(1101), 0), 5 * ms);
        assert_eq!(once.mark(c, s, seg(1101, Some(5001), 100), 6 * ms), [ExpertMark::Retransmission]);
    }
}
