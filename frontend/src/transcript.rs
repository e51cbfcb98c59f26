//! The run's transcript as text lines, in the CLI's human format
//! (`lane:line  call  → result`), each tagged with what it reports so the page
//! can style it.

use socklab_shared::interp::{EndStatus, InterpEvent};
use socklab_shared::lang::Diagnostic;
use socklab_shared::protocol::{ErrorCode, Event, SockId};

/// What a line reports; the view picks its CSS class from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Step,
    /// A step whose call failed.
    Failed,
    Print,
    LaneEnd,
    /// Something the relay observed: a socket made or closed, a TCP state change.
    Event,
    /// A parse diagnostic or a relay/connection problem.
    Problem,
    /// The page's own remarks (run started, run stopped).
    Note,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: LineKind,
    pub text: String,
}

impl Line {
    pub fn new(kind: LineKind, text: impl Into<String>) -> Line {
        Line { kind, text: text.into() }
    }

    /// An interpreter event.
    pub fn interp(event: &InterpEvent) -> Line {
        match event {
            InterpEvent::Step { lane, line, call, ok: true, result, .. } => {
                let result = result.as_deref().unwrap_or("None");
                Line::new(LineKind::Step, format!("{lane}:{line}  {call}  → {result}"))
            }
            InterpEvent::Step { lane, line, call, errno, errno_num, message, .. } => {
                let message = message.as_deref().unwrap_or("failed");
                let failure = match (errno, errno_num) {
                    (Some(errno), Some(num)) => format!("{errno} ({num}): {message}"),
                    _ => message.to_owned(),
                };
                Line::new(LineKind::Failed, format!("{lane}:{line}  {call}  → {failure}"))
            }
            InterpEvent::Print { lane, text, .. } => Line::new(LineKind::Print, format!("{lane}| {text}")),
            InterpEvent::LaneEnd { lane, status, line, message } => {
                let status = match status {
                    EndStatus::Finished => "finished",
                    EndStatus::Error => "error",
                    EndStatus::Assert => "assert",
                    EndStatus::Blocked => "blocked",
                };
                let mut text = format!("{lane} ended: {status}");
                if let Some(line) = line {
                    text.push_str(&format!(" at line {line}"));
                }
                if let Some(message) = message.as_deref().filter(|m| !m.is_empty()) {
                    text.push_str(&format!(": {message}"));
                }
                Line::new(LineKind::LaneEnd, text)
            }
        }
    }

    /// Something the relay observed in the session; `socket_name` gives the
    /// script's name for a socket handle where it has one.
    pub fn event(event: &Event, socket_name: impl Fn(SockId) -> Option<String>) -> Line {
        let name = |sock: SockId| socket_name(sock).unwrap_or_else(|| format!("socket {sock}"));
        let text = match event {
            Event::SocketCreated { info } => format!("{} made (fd {})", name(info.sock), info.fd),
            Event::SocketClosed { sock } => format!("{} closed", name(*sock)),
            Event::State { sock: Some(sock), from, to, .. } => format!("{}  {from} → {to}", name(*sock)),
            Event::State { sock: None, from, to, local, peer, .. } => format!("{local} ↔ {peer}  {from} → {to}"),
            Event::Segment { src, dst, proto, flags, len, .. } => format!("{proto} {src} → {dst}  [{flags}] len {len}"),
        };
        Line::new(LineKind::Event, text)
    }

    /// A protocol error the relay reported outside any call of this run.
    pub fn relay_error(code: ErrorCode, message: &str) -> Line {
        Line::new(LineKind::Problem, format!("relay error ({code:?}): {message}"))
    }

    /// A parse diagnostic, as `LINE:COL: message`.
    pub fn diagnostic(diagnostic: &Diagnostic) -> Line {
        Line::new(LineKind::Problem, diagnostic.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_like_the_cli() {
        let ok = InterpEvent::Step {
            lane: "server".into(),
            line: 5,
            call: "srv.listen(5)".into(),
            ok: true,
            result: Some("None".into()),
            errno: None,
            errno_num: None,
            message: None,
        };
        assert_eq!(Line::interp(&ok).text, "server:5  srv.listen(5)  → None");
        let failed = InterpEvent::Step {
            lane: "client".into(),
            line: 13,
            call: "cli.connect((\"127.0.0.1\", 5500))".into(),
            ok: false,
            result: None,
            errno: Some("ECONNREFUSED".into()),
            errno_num: Some(111),
            message: Some("nothing listens on that port".into()),
        };
        let line = Line::interp(&failed);
        assert_eq!(line.kind, LineKind::Failed);
        assert_eq!(
            line.text,
            "client:13  cli.connect((\"127.0.0.1\", 5500))  → ECONNREFUSED (111): nothing listens on that port"
        );
    }

    #[test]
    fn prints_and_lane_ends_name_their_lane() {
        let print = InterpEvent::Print { lane: "client".into(), line: 3, text: "hi".into() };
        assert_eq!(Line::interp(&print).text, "client| hi");
        let end = InterpEvent::LaneEnd { lane: "server".into(), status: EndStatus::Finished, line: None, message: None };
        assert_eq!(Line::interp(&end).text, "server ended: finished");
        let failed = InterpEvent::LaneEnd {
            lane: "client".into(),
            status: EndStatus::Assert,
            line: Some(5),
            message: Some("AssertionError".into()),
        };
        assert_eq!(Line::interp(&failed).text, "client ended: assert at line 5: AssertionError");
    }

    #[test]
    fn events_use_the_scripts_socket_names() {
        let closed = Event::SocketClosed { sock: 3 };
        assert_eq!(Line::event(&closed, |_| Some("srv".into())).text, "srv closed");
        assert_eq!(Line::event(&closed, |_| None).text, "socket 3 closed");
    }
}
