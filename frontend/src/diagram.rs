//! The TCP state diagram's layout: RFC 793's eleven states and the
//! transitions between them, keyed by the kernel's state names (what `state`
//! events carry). Pure data; `components::StateDiagram` draws it.

/// (kernel name, RFC 793 name, x, y) of each state's box centre.
pub const STATES: &[(&str, &str, i32, i32)] = &[
    ("CLOSE", "CLOSED", 300, 30),
    ("LISTEN", "LISTEN", 300, 110),
    ("SYN_RECV", "SYN-RECEIVED", 110, 190),
    ("SYN_SENT", "SYN-SENT", 490, 190),
    ("ESTABLISHED", "ESTABLISHED", 300, 270),
    ("FIN_WAIT1", "FIN-WAIT-1", 110, 350),
    ("CLOSE_WAIT", "CLOSE-WAIT", 490, 350),
    ("FIN_WAIT2", "FIN-WAIT-2", 110, 430),
    ("CLOSING", "CLOSING", 300, 430),
    ("LAST_ACK", "LAST-ACK", 490, 430),
    ("TIME_WAIT", "TIME-WAIT", 300, 510),
];

/// (from, to, what makes it happen), per RFC 793 figure 6.
pub const TRANSITIONS: &[(&str, &str, &str)] = &[
    ("CLOSE", "LISTEN", "passive open"),
    ("CLOSE", "SYN_SENT", "active open / SYN"),
    ("LISTEN", "SYN_RECV", "rcv SYN / SYN,ACK"),
    ("LISTEN", "SYN_SENT", "send / SYN"),
    ("LISTEN", "CLOSE", "close"),
    ("SYN_SENT", "SYN_RECV", "rcv SYN / ACK"),
    ("SYN_SENT", "ESTABLISHED", "rcv SYN,ACK / ACK"),
    ("SYN_SENT", "CLOSE", "close"),
    ("SYN_RECV", "ESTABLISHED", "rcv ACK"),
    ("SYN_RECV", "FIN_WAIT1", "close / FIN"),
    ("SYN_RECV", "LISTEN", "rcv RST"),
    ("ESTABLISHED", "FIN_WAIT1", "close / FIN"),
    ("ESTABLISHED", "CLOSE_WAIT", "rcv FIN / ACK"),
    ("FIN_WAIT1", "FIN_WAIT2", "rcv ACK"),
    ("FIN_WAIT1", "CLOSING", "rcv FIN / ACK"),
    ("FIN_WAIT1", "TIME_WAIT", "rcv FIN,ACK / ACK"),
    ("FIN_WAIT2", "TIME_WAIT", "rcv FIN / ACK"),
    ("CLOSING", "TIME_WAIT", "rcv ACK"),
    ("CLOSE_WAIT", "LAST_ACK", "close / FIN"),
    ("LAST_ACK", "CLOSE", "rcv ACK"),
    ("TIME_WAIT", "CLOSE", "2 MSL timeout"),
];

/// The diagram's node for a kernel state name (`NEW_SYN_RECV` is the kernel's
/// request sock, drawn as SYN-RECEIVED).
pub fn node(kernel: &str) -> Option<&'static str> {
    let kernel = if kernel == "NEW_SYN_RECV" { "SYN_RECV" } else { kernel };
    STATES.iter().find(|(name, ..)| *name == kernel).map(|(name, ..)| *name)
}

/// The box centre of a node.
pub fn position(kernel: &str) -> Option<(i32, i32)> {
    STATES.iter().find(|(name, ..)| *name == kernel).map(|&(_, _, x, y)| (x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleven_states_and_every_transition_joins_two_of_them() {
        assert_eq!(STATES.len(), 11);
        for (from, to, _) in TRANSITIONS {
            assert!(position(from).is_some() && position(to).is_some(), "{from} -> {to}");
        }
        assert_eq!(node("NEW_SYN_RECV"), Some("SYN_RECV"));
        assert_eq!(node("BOGUS"), None);
    }
}
