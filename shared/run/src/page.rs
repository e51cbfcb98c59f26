//! What the relay tells a client about the run it makes for it (`run`
//! requests, `socklab_wire::protocol::RunCmd`): `run` updates, and the
//! diagnostics a `check` asked for. They travel as text frames among the
//! session's own messages; [`decode`] tells the two apart.

use serde::{Deserialize, Serialize};
use socklab_lang::Diagnostic;
use socklab_lang::interp::InterpEvent;
use socklab_lang::order::Key;
use socklab_lang::schedule::LaneView;
use socklab_wire::protocol::{Call, PcapMark, ServerMsg, SockId};

use crate::library::LibraryView;
use crate::line::Line;

/// A message about the client's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PageMsg {
    Run(RunUpdate),
    /// The answer to `check`: the script's diagnostics, none if it parses.
    Checked { diagnostics: Vec<Diagnostic> },
}

/// What changed in the run since the last update, in the order the page
/// applies it. Sent before the calls it lists are made, so a call's answer
/// always follows the update that announced it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunUpdate {
    /// A run began: paused (stepped) or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<bool>,
    /// The script does not parse, so nothing ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<Diagnostic>,
    /// The run now steps only when asked (true) or runs on (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// A Step was asked: `note` says why it moved another lane or nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stepped: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Calls the run makes now, by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sent: Vec<(u64, Call)>,
    /// New transcript lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Line>,
    /// Interpreter events (gutter marks and prints), each with its place in the kernel's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<(Key, InterpEvent)>,
    /// Every lane, when any changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lanes: Option<Vec<LaneView>>,
    /// The script's names for the sockets made so far, when they changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<(SockId, String)>>,
    /// With `lanes`: the library code each lane inside a library function is in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub libraries: Vec<(String, LibraryView)>,
    /// Calls lanes on hosts made, for a capture's packet comments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<PcapMark>,
    /// The run is over.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ended: bool,
}

impl RunUpdate {
    /// Nothing to tell.
    pub fn is_empty(&self) -> bool {
        *self == RunUpdate::default()
    }
}

/// A text frame from the relay.
#[derive(Debug, Clone, PartialEq)]
pub enum FromRelay {
    Session(ServerMsg),
    Page(PageMsg),
}

/// Reads a text frame from the relay by its `type`.
pub fn decode(text: &str) -> Result<FromRelay, serde_json::Error> {
    #[derive(Deserialize)]
    struct Tag<'a> {
        #[serde(rename = "type", borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    let tag: Tag = serde_json::from_str(text)?;
    match tag.kind.as_ref() {
        "run" | "checked" => serde_json::from_str(text).map(FromRelay::Page),
        _ => serde_json::from_str(text).map(FromRelay::Session),
    }
}

/// The frame for a page message.
pub fn encode(msg: &PageMsg) -> String {
    serde_json::to_string(msg).expect("page messages serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::LineKind;
    use socklab_lang::interp::StackEntry;
    use socklab_lang::schedule::LaneStatus;

    #[test]
    fn updates_and_session_messages_are_told_apart() {
        let update = RunUpdate {
            started: Some(true),
            lines: vec![Line::new(LineKind::Note, "hi").at(Key { ts_us: 5, rank: 1 })],
            lanes: Some(vec![LaneView {
                name: "server".into(),
                status: LaneStatus::Blocked { what: "accept: waiting".into() },
                line: Some(3),
                stack: vec![StackEntry::own("<module>", 3), StackEntry { function: "f".into(), line: 9, module: Some("socketserver") }],
            }]),
            ..RunUpdate::default()
        };
        let text = encode(&PageMsg::Run(update.clone()));
        assert!(text.starts_with(r#"{"type":"run""#), "{text}");
        assert_eq!(decode(&text).unwrap(), FromRelay::Page(PageMsg::Run(update)));
        let pending = ServerMsg::Pending { id: 4 };
        assert_eq!(decode(&serde_json::to_string(&pending).unwrap()).unwrap(), FromRelay::Session(pending));
        let checked = PageMsg::Checked { diagnostics: vec![Diagnostic { line: 1, col: 2, message: "x".into() }] };
        assert_eq!(decode(&encode(&checked)).unwrap(), FromRelay::Page(checked));
        assert!(decode("{\"type\":\"nonsense\"}").is_err());
        // A module that is not ours is not trusted as one.
        let frame: StackEntry = serde_json::from_str(r#"{"function":"f","line":1,"module":"evil"}"#).unwrap();
        assert_eq!(frame.module, None);
    }
}
