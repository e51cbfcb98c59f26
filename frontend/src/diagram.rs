//! The TCP state diagram's layout: RFC 793's eleven states and the
//! transitions between them, keyed by the states `state` events carry.
//! Pure data; `components::StateDiagram` draws it.

use socklab_wire::tcp::TcpState;

/// (state, RFC 793 name, x, y) of each state's box centre.
pub const STATES: &[(TcpState, &str, i32, i32)] = &[
    (TcpState::Close, "CLOSED", 300, 30),
    (TcpState::Listen, "LISTEN", 300, 110),
    (TcpState::SynRecv, "SYN-RECEIVED", 110, 190),
    (TcpState::SynSent, "SYN-SENT", 490, 190),
    (TcpState::Established, "ESTABLISHED", 300, 270),
    (TcpState::FinWait1, "FIN-WAIT-1", 110, 350),
    (TcpState::CloseWait, "CLOSE-WAIT", 490, 350),
    (TcpState::FinWait2, "FIN-WAIT-2", 110, 430),
    (TcpState::Closing, "CLOSING", 300, 430),
    (TcpState::LastAck, "LAST-ACK", 490, 430),
    (TcpState::TimeWait, "TIME-WAIT", 300, 510),
];

/// (from, to, what makes it happen), per RFC 793 figure 6.
pub const TRANSITIONS: &[(TcpState, TcpState, &str)] = &[
    (TcpState::Close, TcpState::Listen, "passive open"),
    (TcpState::Close, TcpState::SynSent, "active open / SYN"),
    (TcpState::Listen, TcpState::SynRecv, "rcv SYN / SYN,ACK"),
    (TcpState::Listen, TcpState::SynSent, "send / SYN"),
    (TcpState::Listen, TcpState::Close, "close"),
    (TcpState::SynSent, TcpState::SynRecv, "rcv SYN / ACK"),
    (TcpState::SynSent, TcpState::Established, "rcv SYN,ACK / ACK"),
    (TcpState::SynSent, TcpState::Close, "close"),
    (TcpState::SynRecv, TcpState::Established, "rcv ACK"),
    (TcpState::SynRecv, TcpState::FinWait1, "close / FIN"),
    (TcpState::SynRecv, TcpState::Listen, "rcv RST"),
    (TcpState::Established, TcpState::FinWait1, "close / FIN"),
    (TcpState::Established, TcpState::CloseWait, "rcv FIN / ACK"),
    (TcpState::FinWait1, TcpState::FinWait2, "rcv ACK"),
    (TcpState::FinWait1, TcpState::Closing, "rcv FIN / ACK"),
    (TcpState::FinWait1, TcpState::TimeWait, "rcv FIN,ACK / ACK"),
    (TcpState::FinWait2, TcpState::TimeWait, "rcv FIN / ACK"),
    (TcpState::Closing, TcpState::TimeWait, "rcv ACK"),
    (TcpState::CloseWait, TcpState::LastAck, "close / FIN"),
    (TcpState::LastAck, TcpState::Close, "rcv ACK"),
    (TcpState::TimeWait, TcpState::Close, "2 MSL timeout"),
];

/// The diagram's node for a state: `NEW_SYN_RECV`, the kernel's request sock,
/// is drawn as SYN-RECEIVED; every other state has its own.
pub fn node(state: TcpState) -> TcpState {
    if state == TcpState::NewSynRecv { TcpState::SynRecv } else { state }
}

/// The box centre of a node.
pub fn position(node: TcpState) -> Option<(i32, i32)> {
    STATES.iter().find(|(state, ..)| *state == node).map(|&(_, _, x, y)| (x, y))
}

/// Half a state box's width and height.
pub const HALF: (i32, i32) = (70, 16);

/// The gap between an arrow's head and the box it points at.
const GAP: f64 = 3.0;

/// Where the arrow from `from` to `to` starts and ends: on the first box's
/// border and just short of the second's, so that the boxes, drawn over the
/// arrows, leave every head in sight.
pub fn edge(from: TcpState, to: TcpState) -> Option<((i32, i32), (i32, i32))> {
    let (a, b) = (position(from)?, position(to)?);
    let (dx, dy) = (f64::from(b.0 - a.0), f64::from(b.1 - a.1));
    // The share of the line within `gap` of a box centred on one of its ends.
    let inside = |gap: f64| {
        let across = if dx == 0.0 { f64::INFINITY } else { (f64::from(HALF.0) + gap) / dx.abs() };
        let down = if dy == 0.0 { f64::INFINITY } else { (f64::from(HALF.1) + gap) / dy.abs() };
        across.min(down)
    };
    let at = |t: f64| ((f64::from(a.0) + dx * t).round() as i32, (f64::from(a.1) + dy * t).round() as i32);
    Some((at(inside(0.0)), at(1.0 - inside(GAP))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleven_states_and_every_transition_joins_two_of_them() {
        assert_eq!(STATES.len(), 11);
        for (from, to, _) in TRANSITIONS {
            assert!(position(*from).is_some() && position(*to).is_some(), "{from} -> {to}");
        }
        assert_eq!(node(TcpState::NewSynRecv), TcpState::SynRecv);
        for state in TcpState::ALL {
            assert!(position(node(state)).is_some(), "{state}");
        }
    }

    /// How far a point is outside a node's box (0 on its border or inside).
    fn outside((x, y): (i32, i32), node: TcpState) -> i32 {
        let (cx, cy) = position(node).unwrap();
        ((x - cx).abs() - HALF.0).max((y - cy).abs() - HALF.1).max(0)
    }

    #[test]
    fn every_arrow_runs_from_its_box_border_to_just_short_of_the_next() {
        for &(from, to, _) in TRANSITIONS {
            let (start, end) = edge(from, to).unwrap();
            assert!(outside(start, from) <= 1, "{from} -> {to} starts at {start:?}");
            let short = outside(end, to);
            assert!((2..=4).contains(&short), "{from} -> {to} ends {short} short, at {end:?}");
        }
    }
}
