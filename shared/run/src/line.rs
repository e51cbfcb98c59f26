//! The run's transcript as text lines, in the same words as `socklab run`
//! (`lane:line  call  → result`), each tagged with what it reports so the page
//! can style it.

use serde::{Deserialize, Serialize};
use socklab_lang::order::Key;
use socklab_lang::transcript;
use socklab_lang::interp::{EndStatus, InterpEvent};
use socklab_lang::Diagnostic;
use socklab_wire::protocol::{ErrorCode, Event, SockId};

/// What a line reports; the view picks its CSS class from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub kind: LineKind,
    pub text: String,
    /// Where it goes in the log (`socklab_lang::order`); `None`: after what is there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Key>,
}

impl Line {
    pub fn new(kind: LineKind, text: impl Into<String>) -> Line {
        Line { kind, text: text.into(), key: None }
    }

    /// The line, placed at `key` in the log.
    pub fn at(self, key: Key) -> Line {
        Line { key: Some(key), ..self }
    }

    /// An interpreter event, worded as `socklab run` words it (one wording, in `shared`).
    pub fn interp(event: &InterpEvent) -> Line {
        let kind = match event {
            InterpEvent::Step { ok: true, .. } => LineKind::Step,
            InterpEvent::Step { .. } => LineKind::Failed,
            InterpEvent::Print { .. } => LineKind::Print,
            InterpEvent::LaneEnd { .. } => LineKind::LaneEnd,
        };
        let text = match event {
            // Only the page's Stop (or a lost connection) ends a lane this way, not a deadlock.
            InterpEvent::LaneEnd { lane, status: EndStatus::Blocked, line, .. } => {
                let at = line.map(|line| format!(" at line {line}")).unwrap_or_default();
                format!("{lane}: stopped while blocked{at}")
            }
            _ => transcript::Line::Interp(event.clone()).human(),
        };
        Line::new(kind, text)
    }

    /// Something the kernel did, as `socklab run` prints it (one wording, in
    /// `shared`); `socket_name` gives the script's name for a socket handle
    /// where it has one. Sockets made and closed are left out.
    /// `TCP_INFO` samples are left out too: the plots show them.
    pub fn event(event: &Event, socket_name: impl FnOnce(SockId) -> Option<String>) -> Option<Line> {
        if matches!(event, Event::TcpInfo { .. }) {
            return None;
        }
        let line = transcript::Line::kernel(event, socket_name).map(|line| Line::new(LineKind::Event, line.human()))?;
        Some(match Key::event(event) {
            Some(key) => line.at(key),
            None => line,
        })
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
            function: None,
            depth: None,
            module: None,
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
            message: Some("Connection refused".into()),
            function: None,
            depth: None,
            module: None,
        };
        let line = Line::interp(&failed);
        assert_eq!(line.kind, LineKind::Failed);
        assert_eq!(
            line.text,
            format!("client:13  cli.connect((\"127.0.0.1\", 5500))  → ECONNREFUSED (111): {}", socklab_wire::errno::explain(111))
        );
    }

    #[test]
    fn prints_and_lane_ends_name_their_lane() {
        let print = InterpEvent::Print { lane: "client".into(), line: 3, text: "hi".into() };
        assert_eq!(Line::interp(&print).text, "client| hi");
        let end = InterpEvent::LaneEnd { lane: "server".into(), status: EndStatus::Finished, line: None, message: None, traceback: None };
        assert_eq!(Line::interp(&end).text, "server: finished");
        let failed = InterpEvent::LaneEnd {
            lane: "client".into(),
            status: EndStatus::Assert,
            line: Some(5),
            message: Some("AssertionError".into()),
            traceback: None,
        };
        assert_eq!(Line::interp(&failed).text, "client: assertion failed at line 5: AssertionError");
    }

    #[test]
    fn a_lane_end_shows_its_traceback_first() {
        let end = InterpEvent::LaneEnd {
            lane: "client".into(),
            status: EndStatus::Error,
            line: Some(4),
            message: Some("line 4: ValueError: bad".into()),
            traceback: Some("Traceback (most recent call last):\n  File \"client.py\", line 4, in <module>\n    raise ValueError(\"bad\")\nValueError: bad\n".into()),
        };
        let line = Line::interp(&end);
        assert_eq!(line.kind, LineKind::LaneEnd);
        assert_eq!(
            line.text,
            "client! Traceback (most recent call last):\nclient!   File \"client.py\", line 4, in <module>\n\
             client!     raise ValueError(\"bad\")\nclient! ValueError: bad\n\
             client: stopped on an error at line 4: line 4: ValueError: bad"
        );
    }

    #[test]
    fn kernel_events_use_the_scripts_socket_names() {
        let state = |sock| Event::State {
            sock,
            from: "FIN_WAIT2".parse().unwrap(),
            to: "TIME_WAIT".parse().unwrap(),
            local: "127.0.0.1:41000".into(),
            peer: "127.0.0.1:5500".into(),
            ts_us: 1,
        };
        let text = |event: &Event| Line::event(event, |sock| (sock == 2).then(|| "cli".to_owned())).unwrap().text;
        assert_eq!(text(&state(Some(2))), "cli  FIN_WAIT2 → TIME_WAIT  (127.0.0.1:41000 ↔ 127.0.0.1:5500)");
        assert!(text(&state(Some(7))).starts_with("socket#7  "));
        assert!(text(&state(None)).starts_with("(closed)  "));
        assert_eq!(Line::event(&Event::SocketClosed { sock: 2 }, |_| None), None);
    }
}
