//! TCP's inner state as the kernel reports it (`TCP_INFO` and the socket's
//! queues), and the marks the wire view puts on segments.

use crate::decimal;
use serde::{Deserialize, Serialize};

/// `ssthresh` before the first loss: the kernel's "infinite" threshold.
pub const INFINITE_SSTHRESH: u32 = 0x7fff_ffff;

/// One look at a TCP socket's `TCP_INFO` and queues. Times in microseconds,
/// windows and queues in bytes, `cwnd`/`ssthresh`/`unacked`/`lost` in segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TcpInfo {
    /// Smoothed round-trip time.
    pub rtt_us: u32,
    pub rttvar_us: u32,
    /// Retransmission timeout.
    pub rto_us: u32,
    /// Congestion window.
    pub cwnd: u32,
    /// Slow-start threshold; [`INFINITE_SSTHRESH`] until the first loss.
    pub ssthresh: u32,
    /// Sender's maximum segment size.
    pub mss: u32,
    /// Segments sent and not yet acknowledged (in flight).
    pub unacked: u32,
    /// Segments the sender believes lost.
    pub lost: u32,
    /// Timeouts in a row without progress (the backoff count).
    pub retransmits: u32,
    /// Segments retransmitted over the connection's life.
    pub total_retrans: u32,
    /// The peer's advertised window; absent where the kernel does not report it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snd_wnd: Option<u32>,
    /// The window this end advertises; absent where the kernel does not report it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcv_wnd: Option<u32>,
    /// The receive buffer space the kernel auto-tunes toward.
    pub rcv_space: u32,
    /// Recent delivery rate, bytes per second.
    pub delivery_rate: u64,
    /// Bytes received and not yet read (`SIOCINQ`).
    pub inq: u32,
    /// Bytes in the send queue, sent or not, not yet acknowledged (`SIOCOUTQ`).
    pub outq: u32,
}

impl TcpInfo {
    /// Whether the socket has data on its way (the sampler looks again soon).
    pub fn in_flight(&self) -> bool {
        self.unacked > 0 || self.outq > 0
    }

    /// `cwnd=10 ssthresh=∞ in_flight=3 rtt=40.1ms retrans=2`: the transcript's compact form.
    pub fn summary(&self) -> String {
        let ssthresh = if self.ssthresh >= INFINITE_SSTHRESH {
            "∞".to_string()
        } else {
            self.ssthresh.to_string()
        };
        format!(
            "cwnd={} ssthresh={ssthresh} in_flight={} rtt={}ms retrans={}",
            self.cwnd,
            self.unacked,
            decimal::fixed(f64::from(self.rtt_us) / 1000.0, 1),
            self.total_retrans
        )
    }
}

/// What the wire view marks on a segment, as Wireshark's expert info marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpertMark {
    /// Data (or SYN/FIN) whose sequence number this direction already sent past.
    Retransmission,
    /// A retransmission the receiver asked for with duplicate ACKs (besides `Retransmission`).
    FastRetransmission,
    /// A pure ACK repeating the previous one's ack number and window.
    DupAck,
    /// The sender advertises a window of 0: the peer must stop sending.
    ZeroWindow,
    /// The connection is reset.
    Reset,
}

impl ExpertMark {
    /// The name on the wire, e.g. `dup_ack`.
    pub fn name(self) -> &'static str {
        match self {
            ExpertMark::Retransmission => "retransmission",
            ExpertMark::FastRetransmission => "fast_retransmission",
            ExpertMark::DupAck => "dup_ack",
            ExpertMark::ZeroWindow => "zero_window",
            ExpertMark::Reset => "reset",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_info_on_the_wire() {
        for mark in [ExpertMark::Retransmission, ExpertMark::FastRetransmission, ExpertMark::DupAck, ExpertMark::ZeroWindow, ExpertMark::Reset] {
            assert_eq!(serde_json::to_string(&mark).unwrap(), format!("\"{}\"", mark.name()));
        }
        let info = TcpInfo { rtt_us: 40_100, cwnd: 10, ssthresh: INFINITE_SSTHRESH, unacked: 3, total_retrans: 2, ..TcpInfo::default() };
        assert_eq!(info.summary(), "cwnd=10 ssthresh=∞ in_flight=3 rtt=40.1ms retrans=2");
        let json = serde_json::to_string(&info).unwrap();
        assert!(!json.contains("snd_wnd"), "{json}");
        assert_eq!(serde_json::from_str::<TcpInfo>(&json).unwrap(), info);
    }
}
