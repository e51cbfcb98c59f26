//! What Linux's numbers and timewait handling mean for a [`TcpState`].

use socklab_wire::tcp::TcpState;

/// The state `include/net/tcp_states.h` numbers `n`, if any.
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

/// Whether a connection in `state` is on its way somewhere by itself, with no
/// call from the program needed (what `settle` waits out).
pub fn is_transient(state: TcpState) -> bool {
    match state {
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

/// Whether `tcp_time_wait()` may hand a connection in `state` to a timewait
/// bucket (the tracepoint then shows `→ CLOSE`).
pub fn may_become_timewait(state: TcpState) -> bool {
    matches!(
        state,
        TcpState::FinWait1 | TcpState::FinWait2 | TcpState::Closing
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_numbers_name_every_state_once() {
        let numbered: Vec<TcpState> = (0..=13).filter_map(from_kernel).collect();
        assert_eq!(numbered, TcpState::ALL);
    }
}
