//! TCP states as the relay reports them: the kernel's names, and how a relay
//! observes them (the hello's `capabilities.tcp_states`).

use std::fmt;
use std::str::FromStr;

pub use crate::named::UnknownName;

/// A TCP state, named as Linux names it without the `TCP_` prefix (`FIN_WAIT1`).
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
    /// Every state.
    pub const ALL: [TcpState; 12] = [
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
        TcpState::NewSynRecv,
    ];

    /// The name on the wire, e.g. `FIN_WAIT1`.
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
}

crate::named::by_name!(TcpState);

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TcpState {
    type Err = UnknownName;

    fn from_str(name: &str) -> Result<TcpState, UnknownName> {
        crate::named::find(&TcpState::ALL, TcpState::name, "TCP state", name)
    }
}

/// How a relay observes TCP states, so a client knows what `state` events to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateObservation {
    /// Every transition, from the kernel's tracepoint.
    Traced,
    /// TCP_INFO while the fd is open and sock_diag after: states that last
    /// microseconds may be missed.
    Sampled,
    /// No `state` events.
    None,
}

impl StateObservation {
    pub const ALL: [StateObservation; 3] = [
        StateObservation::Traced,
        StateObservation::Sampled,
        StateObservation::None,
    ];

    /// The name on the wire, e.g. `traced`.
    pub fn name(self) -> &'static str {
        match self {
            StateObservation::Traced => "traced",
            StateObservation::Sampled => "sampled",
            StateObservation::None => "none",
        }
    }
}

crate::named::by_name!(StateObservation);

impl FromStr for StateObservation {
    type Err = UnknownName;

    fn from_str(name: &str) -> Result<StateObservation, UnknownName> {
        crate::named::find(
            &StateObservation::ALL,
            StateObservation::name,
            "way of observing TCP states",
            name,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_on_the_wire() {
        let names = [
            "ESTABLISHED",
            "SYN_SENT",
            "SYN_RECV",
            "FIN_WAIT1",
            "FIN_WAIT2",
            "TIME_WAIT",
            "CLOSE",
            "CLOSE_WAIT",
            "LAST_ACK",
            "LISTEN",
            "CLOSING",
            "NEW_SYN_RECV",
        ];
        for (state, name) in TcpState::ALL.into_iter().zip(names) {
            let json = format!("\"{name}\"");
            assert_eq!(serde_json::to_string(&state).unwrap(), json);
            assert_eq!(serde_json::from_str::<TcpState>(&json).unwrap(), state);
            assert_eq!(
                (state.to_string(), name.parse()),
                (name.to_string(), Ok(state))
            );
        }
        assert_eq!(
            "BOGUS".parse::<TcpState>().unwrap_err().to_string(),
            r#"no TCP state is called "BOGUS""#
        );
        assert!(serde_json::from_str::<TcpState>("\"established\"").is_err());
    }

    #[test]
    fn observation_names_on_the_wire() {
        for (observation, name) in StateObservation::ALL
            .into_iter()
            .zip(["traced", "sampled", "none"])
        {
            let json = format!("\"{name}\"");
            assert_eq!(serde_json::to_string(&observation).unwrap(), json);
            assert_eq!(
                serde_json::from_str::<StateObservation>(&json).unwrap(),
                observation
            );
            assert_eq!((observation.name(), name.parse()), (name, Ok(observation)));
        }
    }
}
