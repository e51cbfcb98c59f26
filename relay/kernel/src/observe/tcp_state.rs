//! The kernel's TCP states, with the names the wire protocol and the CLI print.

use std::fmt;

/// A TCP state as `include/net/tcp_states.h` numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    /// A request socket (the listener's half-open entry); never a full socket's state.
    NewSynRecv,
}

impl TcpState {
    /// The state the kernel numbers `n`, if any.
    pub fn from_kernel(n: u32) -> Option<TcpState> {
        Some(match n {
            1 => TcpState::Established,
            2 => TcpState::SynSent,
            3 => TcpState::SynRecv,
            4 => TcpState::FinWait1,
            5 => TcpState::FinWait2,
            6 => TcpState::TimeWait,
            7 => TcpState::Close,
            8 => TcpState::CloseWait,
            9 => TcpState::LastAck,
            10 => TcpState::Listen,
            11 => TcpState::Closing,
            12 => TcpState::NewSynRecv,
            _ => return None,
        })
    }

    /// The kernel's name without the `TCP_` prefix, e.g. `FIN_WAIT1`.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait1 => "FIN_WAIT1",
            TcpState::FinWait2 => "FIN_WAIT2",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
            TcpState::NewSynRecv => "NEW_SYN_RECV",
        }
    }

    /// Whether a connection in this state is on its way somewhere by itself,
    /// with no call from the program needed (what `settle` waits out).
    pub fn is_transient(self) -> bool {
        match self {
            TcpState::SynSent
            | TcpState::SynRecv
            | TcpState::NewSynRecv
            | TcpState::FinWait1
            | TcpState::FinWait2
            | TcpState::Closing
            | TcpState::LastAck => true,
            TcpState::Established
            | TcpState::TimeWait
            | TcpState::Close
            | TcpState::CloseWait
            | TcpState::Listen => false,
        }
    }

    /// A state from which `tcp_time_wait()` may hand the connection to a
    /// timewait bucket (the tracepoint then shows `→ CLOSE`).
    pub fn may_become_timewait(self) -> bool {
        matches!(
            self,
            TcpState::FinWait1 | TcpState::FinWait2 | TcpState::Closing
        )
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
