//! The page's state as plain data, changed only by `Action`s through yew's
//! `use_reducer`, so every transition is testable natively.

use std::rc::Rc;

use socklab_shared::protocol::SandboxMode;
use yew::Reducible;

use crate::transcript::{Line, LineKind};

/// The TCP echo example from the script language spec, so a first Run works.
pub const ECHO_EXAMPLE: &str = r#"# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5500))
srv.listen(5)
conn, addr = srv.accept()
msg = conn.recv(1024)
conn.send(msg)
conn.close()
srv.close()

# lane: client
cli = socket(AF_INET, SOCK_STREAM)
cli.connect(("127.0.0.1", 5500))
cli.send(b"hello socket world")
reply = cli.recv(1024)
assert reply == b"hello socket world"
cli.close()
"#;

/// Transcript lines kept; older ones are dropped so a script that prints in a
/// loop cannot grow the page without bound.
pub const MAX_LINES: usize = 5_000;

/// The WebSocket connection to the relay.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connecting,
    /// The relay said hello.
    Open { server: String, mode: SandboxMode },
    Closed { reason: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The script in the editor.
    pub source: String,
    pub connection: Connection,
    /// A run is in progress (Run is disabled, Stop enabled).
    pub running: bool,
    /// The last run's transcript, or the parse diagnostics that stopped it.
    pub lines: Vec<Line>,
    /// How many lines were dropped from the front (see `MAX_LINES`).
    pub dropped: usize,
}

impl Default for State {
    fn default() -> Self {
        State {
            source: ECHO_EXAMPLE.to_owned(),
            connection: Connection::Connecting,
            running: false,
            lines: Vec::new(),
            dropped: 0,
        }
    }
}

impl State {
    /// Whether Run may be pressed.
    pub fn can_run(&self) -> bool {
        !self.running && matches!(self.connection, Connection::Open { .. })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Edited(String),
    Connection(Connection),
    /// The script did not parse: show why, run nothing.
    Rejected(Vec<Line>),
    /// A run started: the transcript starts afresh.
    Started,
    Output(Vec<Line>),
    /// The run ended (every lane done, stopped, or the connection lost).
    Ended,
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut state = Rc::unwrap_or_clone(self);
        match action {
            Action::Edited(source) => state.source = source,
            Action::Connection(connection) => state.connection = connection,
            Action::Rejected(lines) => {
                state.lines = lines;
                state.dropped = 0;
            }
            Action::Started => {
                state.running = true;
                state.lines = vec![Line::new(LineKind::Note, "running…")];
                state.dropped = 0;
            }
            Action::Output(lines) => {
                state.lines.extend(lines);
                let excess = state.lines.len().saturating_sub(MAX_LINES);
                state.lines.drain(..excess);
                state.dropped += excess;
            }
            Action::Ended => state.running = false,
        }
        Rc::new(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(state: State, actions: impl IntoIterator<Item = Action>) -> State {
        let state = actions.into_iter().fold(Rc::new(state), Reducible::reduce);
        Rc::unwrap_or_clone(state)
    }

    fn open() -> Connection {
        Connection::Open { server: "socklab 0.1.0".into(), mode: SandboxMode::Namespace }
    }

    #[test]
    fn run_needs_an_open_connection_and_no_run_in_progress() {
        let state = State::default();
        assert!(!state.can_run());
        let state = apply(state, [Action::Connection(open())]);
        assert!(state.can_run());
        let state = apply(state, [Action::Started]);
        assert!(!state.can_run());
        let state = apply(state, [Action::Ended]);
        assert!(state.can_run());
        let state = apply(state, [Action::Connection(Connection::Closed { reason: "gone".into() })]);
        assert!(!state.can_run());
    }

    #[test]
    fn a_run_replaces_the_transcript_and_appends_to_it() {
        let line = |text: &str| Line::new(LineKind::Step, text);
        let state = apply(
            State::default(),
            [Action::Output(vec![line("old")]), Action::Started, Action::Output(vec![line("a"), line("b")])],
        );
        let texts: Vec<&str> = state.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["running…", "a", "b"]);
        let state = apply(state, [Action::Rejected(vec![Line::new(LineKind::Problem, "1:1: bad")])]);
        assert_eq!(state.lines.len(), 1);
    }

    #[test]
    fn the_transcript_is_bounded() {
        let lines = (0..MAX_LINES + 7).map(|i| Line::new(LineKind::Print, i.to_string())).collect();
        let state = apply(State::default(), [Action::Output(lines)]);
        assert_eq!(state.lines.len(), MAX_LINES);
        assert_eq!(state.dropped, 7);
        assert_eq!(state.lines[0].text, "7");
    }

    #[test]
    fn the_editor_starts_with_the_echo_example() {
        let state = apply(State::default(), [Action::Edited("x = 1\n".into())]);
        assert_eq!(state.source, "x = 1\n");
        assert!(ECHO_EXAMPLE.contains("# lane: client"));
    }
}
