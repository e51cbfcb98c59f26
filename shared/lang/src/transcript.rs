//! A run's transcript: what the interpreter did and what the kernel did, as
//! `socklab run --json` prints it and as lessons' checkpoints read it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use socklab_wire::errno;
use socklab_wire::protocol::{Event, SockId};
use socklab_wire::tcp::TcpState;
use socklab_wire::tcpinfo::{ExpertMark, TcpInfo};

use crate::interp::{EndStatus, InterpEvent};

/// One line of a transcript.
///
/// The page never reads one (its enums are read tag-first there, see
/// `socklab_wire::tag_first`), so it is decoded natively only.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[serde(untagged)]
pub enum Line {
    Interp(InterpEvent),
    Kernel(KernelLine),
}

/// What the kernel did, in the CLI's vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KernelLine {
    /// A TCP state transition of `socket` (the script's variable name where known).
    State { socket: String, from: TcpState, to: TcpState, local: String, peer: String },
    /// A packet seen on the session's loopback.
    Segment {
        src: String,
        dst: String,
        proto: String,
        flags: String,
        seq: Option<u32>,
        ack: Option<u32>,
        len: u32,
        /// Wireshark's expert marks (retransmission, fast_retransmission, dup_ack, zero_window, reset).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        expert: Vec<ExpertMark>,
        /// The host that sent it, on a session with hosts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    /// A sample of `socket`'s `TCP_INFO` and queues (see [`Event::TcpInfo`]).
    TcpInfo { socket: String, info: TcpInfo, ts_us: u64 },
    /// A host name outside the lab resolved to a lab peer (see [`Event::Resolved`]).
    Resolved { name: String, peer: String, address: String },
}

/// How transcripts name a socket the script holds in no variable.
pub fn unnamed_socket(sock: SockId) -> String {
    format!("socket#{sock}")
}

impl Line {
    /// What the kernel did, as a transcript line; `socket_name` gives the
    /// script's name for a socket where it has one. Sockets made and closed
    /// give no line: the steps that made and closed them already say so.
    pub fn kernel(event: &Event, socket_name: impl FnOnce(SockId) -> Option<String>) -> Option<Line> {
        let line = match event {
            Event::SocketCreated { .. } | Event::SocketClosed { .. } => return None,
            Event::State { sock, from, to, local, peer, .. } => KernelLine::State {
                // Without a handle the relay could not tell which socket it was; its fd is gone.
                socket: match sock {
                    Some(sock) => socket_name(*sock).unwrap_or_else(|| unnamed_socket(*sock)),
                    None => "(closed)".to_owned(),
                },
                from: *from,
                to: *to,
                local: local.clone(),
                peer: peer.clone(),
            },
            Event::Segment { src, dst, proto, flags, seq, ack, len, expert, host, .. } => KernelLine::Segment {
                host: host.clone(),
                src: src.clone(),
                dst: dst.clone(),
                proto: proto.clone(),
                flags: flags.clone(),
                seq: *seq,
                ack: *ack,
                len: *len,
                expert: expert.clone(),
            },
            Event::TcpInfo { sock, info, ts_us } => KernelLine::TcpInfo {
                socket: socket_name(*sock).unwrap_or_else(|| unnamed_socket(*sock)),
                info: *info,
                ts_us: *ts_us,
            },
            Event::Resolved { name, peer, address } => {
                KernelLine::Resolved { name: name.clone(), peer: peer.clone(), address: address.clone() }
            }
        };
        Some(Line::Kernel(line))
    }

    /// The line for people, as `socklab run` prints it: `lane:line  call  → result`,
    /// `→ ERRNO (num): explanation`, `socket  FROM → TO`, segments indented.
    pub fn human(&self) -> String {
            match self {
            Line::Interp(InterpEvent::Step { lane, line, call, ok: true, result, module, .. }) => {
                format!("{}  {call}  → {}", step_place(lane, module, *line), result.as_deref().unwrap_or("None"))
            }
            Line::Interp(InterpEvent::Step { lane, line, call, errno: Some(name), errno_num, module, .. }) => {
                let num = errno_num.unwrap_or(0);
                format!("{}  {call}  → {name} ({num}): {}", step_place(lane, module, *line), errno::explain(num))
            }
            Line::Interp(InterpEvent::Step { lane, line, call, message, module, .. }) => {
                format!("{}  {call}  → {}", step_place(lane, module, *line), message.as_deref().unwrap_or("failed"))
            }
            Line::Interp(InterpEvent::Print { lane, text, .. }) => format!("{lane}| {text}"),
            Line::Interp(InterpEvent::LaneEnd { lane, status, line, message, traceback }) => {
                let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
                let why = message.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
                // The traceback first, as the lane's stderr (`lane! …`), then the end.
                let tb: String = traceback
                    .as_deref()
                    .unwrap_or("")
                    .lines()
                    .map(|l| format!("{lane}! {l}\n"))
                    .collect();
                tb + &match status {
                    EndStatus::Finished => format!("{lane}: finished"),
                    EndStatus::Error => format!("{lane}: stopped on an error{at}{why}"),
                    EndStatus::Assert => format!("{lane}: assertion failed{at}{why}"),
                    EndStatus::Blocked => format!("{lane}: blocked{at} (deadlock: nothing can wake it)"),
                }
            }
            Line::Kernel(KernelLine::State { socket, from, to, local, peer }) => {
                format!("{socket}  {from} → {to}  ({local} ↔ {peer})")
            }
            Line::Kernel(KernelLine::Segment { src, dst, proto, flags, seq, ack, len, expert, host }) => {
                let from = host.as_ref().map(|host| format!("[{host}] ")).unwrap_or_default();
                let mut text = format!("    {from}{src} > {dst}  {proto} {flags}");
                if let Some(seq) = seq {
                    text.push_str(&format!(" seq={seq}"));
                }
                if let Some(ack) = ack {
                    text.push_str(&format!(" ack={ack}"));
                }
                text.push_str(&format!(" len={len}"));
                if !expert.is_empty() {
                    let marks: Vec<&str> = expert.iter().map(|m| m.name()).collect();
                    text.push_str(&format!("  [{}]", marks.join(", ")));
                }
                text
            }
            Line::Kernel(KernelLine::TcpInfo { socket, info, .. }) => format!("{socket}  tcp_info {}", info.summary()),
            Line::Kernel(KernelLine::Resolved { name, peer, address }) => {
                format!("{name} → lab peer {peer} at {address} (the lab has no outside network)")
            }
        }
    }
}

/// Which lines a text transcript shows: every line but `TCP_INFO` samples, of
/// which only those whose retransmission count rose, so that a transfer's
/// samples do not flood it (`--json` and the page's plot carry them all).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextFilter {
    retrans: HashMap<String, u32>,
}

impl TextFilter {
    pub fn shows(&mut self, line: &Line) -> bool {
        let Line::Kernel(KernelLine::TcpInfo { socket, info, .. }) = line else {
            return true;
        };
        let before = self.retrans.insert(socket.clone(), info.total_retrans).unwrap_or(0);
        info.total_retrans > before
    }
}


/// Where a step ran: `lane:line`, or `lane:module.py:line` for a library
/// module's statement stepped into.
fn step_place(lane: &str, module: &Option<String>, line: u32) -> String {
    match module {
        Some(module) => format!("{lane}:{module}.py:{line}"),
        None => format!("{lane}:{line}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_back_from_json() {
        let state = Line::Kernel(KernelLine::State {
            socket: "cli".into(),
            from: TcpState::FinWait2,
            to: TcpState::TimeWait,
            local: "127.0.0.1:41000".into(),
            peer: "127.0.0.1:5500".into(),
        });
        let text = serde_json::to_string(&state).unwrap();
        assert!(text.starts_with(r#"{"kind":"state","socket":"cli""#), "{text}");
        assert_eq!(serde_json::from_str::<Line>(&text).unwrap(), state);
        let print = r#"{"kind":"print","lane":"main","line":2,"text":"hi"}"#;
        assert!(matches!(serde_json::from_str::<Line>(print).unwrap(), Line::Interp(InterpEvent::Print { .. })));
    }

    #[test]
    fn kernel_lines_name_a_socket_without_a_variable_by_its_handle() {
        let (local, peer) = ("127.0.0.1:41000".to_owned(), "127.0.0.1:5500".to_owned());
        let event = |sock| Event::State { sock, from: TcpState::SynSent, to: TcpState::Established, local: local.clone(), peer: peer.clone(), ts_us: 1 };
        let socket = |sock| match Line::kernel(&event(sock), |_| None) {
            Some(Line::Kernel(KernelLine::State { socket, .. })) => socket,
            other => panic!("{other:?}"),
        };
        assert_eq!(socket(Some(7)), "socket#7");
        assert_eq!(socket(None), "(closed)");
        let closed = Event::SocketClosed { sock: 7 };
        assert_eq!(Line::kernel(&closed, |_| Some("cli".into())), None);
    }

    #[test]
    fn samples_show_in_text_only_when_a_retransmission_happened() {
        let sample = |total_retrans| Event::TcpInfo { sock: 3, info: TcpInfo { cwnd: 10, total_retrans, ..TcpInfo::default() }, ts_us: 9 };
        let line = |event| Line::kernel(&event, |_| Some("cli".into())).expect("a line");
        let mut filter = TextFilter::default();
        let shown: Vec<bool> = [0, 0, 1, 1, 3].into_iter().map(|n| filter.shows(&line(sample(n)))).collect();
        assert_eq!(shown, [false, false, true, false, true]);
        assert_eq!(line(sample(1)).human(), "cli  tcp_info cwnd=10 ssthresh=0 in_flight=0 rtt=0.0ms retrans=1");
        let json = serde_json::to_string(&line(sample(1))).unwrap();
        assert!(json.starts_with(r#"{"kind":"tcp_info","socket":"cli","info":{"rtt_us":0"#), "{json}");
        assert_eq!(serde_json::from_str::<Line>(&json).unwrap(), line(sample(1)));
        let segment = Event::Segment {
            src: "a".into(), dst: "b".into(), proto: "TCP".into(), flags: "ACK".into(),
            seq: Some(1), ack: Some(1), len: 0, ts_us: 1, expert: vec![ExpertMark::DupAck], host: None,
        };
        assert!(filter.shows(&line(segment.clone())));
        assert_eq!(line(segment).human(), "    a > b  TCP ACK seq=1 ack=1 len=0  [dup_ack]");
    }

    #[test]
    fn a_name_resolved_to_a_lab_peer_says_so() {
        let event = Event::Resolved { name: "baidu.com".into(), peer: "http".into(), address: "127.0.0.1:80".into() };
        let line = Line::kernel(&event, |_| None).expect("a line");
        assert_eq!(line.human(), "baidu.com → lab peer http at 127.0.0.1:80 (the lab has no outside network)");
        let json = serde_json::to_string(&line).unwrap();
        assert_eq!(json, r#"{"kind":"resolved","name":"baidu.com","peer":"http","address":"127.0.0.1:80"}"#);
        assert_eq!(serde_json::from_str::<Line>(&json).unwrap(), line);
    }
}
