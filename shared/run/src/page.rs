//! What the relay tells a client about the run it makes for it (`run`
//! requests, `socklab_wire::protocol::RunCmd`): `run` updates, and the
//! diagnostics a `check` asked for. They travel as text frames among the
//! session's own messages; [`decode`] tells the two apart.

use serde::{Deserialize, Serialize};
use socklab_lang::Diagnostic;
use socklab_lang::interp::InterpEvent;
use socklab_lang::order::Key;
use socklab_lang::schedule::LaneView;
use socklab_lessons::Verdict;
use serde::de::DeserializeOwned;
use socklab_wire::network::LinkConditions;
use socklab_wire::protocol::{Addr, Bytes, Call, PcapMark, ServerMsg, SockId};
use socklab_wire::tag_first;

use crate::library::LibraryView;
use crate::line::Line;

/// A message about the client's run. The relay sends the calls a run makes
/// as [`Call`]s; a client may read them as less (the page: [`CallSeen`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", bound(deserialize = "C: Deserialize<'de>"))]
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "type"))]
// Each message is decoded and consumed at once; boxing would add an allocation per frame.
#[allow(clippy::large_enum_variant)]
pub enum PageMsg<C = Call> {
    Run(RunUpdate<C>),
    /// The answer to `check`: the script's diagnostics, none if it parses.
    Checked { diagnostics: Vec<Diagnostic> },
}

/// What changed in the run since the last update, in the order the page
/// applies it. Sent before the calls it lists are made, so a call's answer
/// always follows the update that announced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "C: Deserialize<'de>"))]
pub struct RunUpdate<C = Call> {
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
    pub sent: Vec<(u64, C)>,
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
    /// With `lanes`: statements the run has begun.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<u64>,
    /// With `lanes`: the library code each lane inside a library function is in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub libraries: Vec<(String, LibraryView)>,
    /// Calls lanes on hosts made, for a capture's packet comments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<PcapMark>,
    /// The open lesson's verdicts, one per step, when they changed
    /// (`RunCmd::Lesson`; empty: no lesson is open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports: Option<Vec<Verdict>>,
    /// The run is over.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ended: bool,
}

impl<C> Default for RunUpdate<C> {
    fn default() -> RunUpdate<C> {
        RunUpdate {
            started: None,
            rejected: Vec::new(),
            paused: None,
            stepped: false,
            note: None,
            sent: Vec::new(),
            lines: Vec::new(),
            seen: Vec::new(),
            lanes: None,
            names: None,
            steps: None,
            libraries: Vec::new(),
            marks: Vec::new(),
            reports: None,
            ended: false,
        }
    }
}

impl<C: PartialEq> RunUpdate<C> {
    /// Nothing to tell.
    pub fn is_empty(&self) -> bool {
        *self == RunUpdate::default()
    }
}

/// A call the run made as a client that shows it reads it: the wire's `call`
/// object, its `op` and the arguments a socket table and link forms need
/// (the rest are not read, so the page carries no decoder for every call).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CallSeen {
    pub op: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sock: Option<SockId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Bytes>,
    /// `lab_link`'s ends and conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<LinkConditions>,
}

impl From<&Call> for CallSeen {
    fn from(call: &Call) -> CallSeen {
        let value = serde_json::to_value(call).expect("calls serialize");
        serde_json::from_value(value).expect("a call reads as a call seen")
    }
}

/// A text frame from the relay.
#[derive(Debug, Clone, PartialEq)]
pub enum FromRelay<C = Call> {
    Session(ServerMsg),
    Page(PageMsg<C>),
}

/// Reads a text frame from the relay by its `type` (written first), the run's
/// calls as `C`.
pub fn decode<C: DeserializeOwned>(text: &str) -> Result<FromRelay<C>, tag_first::Error> {
    let json = tag_first::Json::parse(text)?;
    match json.tag() {
        Some("run" | "checked") => json.decode().map(FromRelay::Page),
        _ => json.decode().map(FromRelay::Session),
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
        assert_eq!(decode::<Call>(&text).unwrap(), FromRelay::Page(PageMsg::Run(update)));
        let pending = ServerMsg::Pending { id: 4 };
        assert_eq!(decode::<Call>(&serde_json::to_string(&pending).unwrap()).unwrap(), FromRelay::Session(pending));
        let checked = PageMsg::Checked { diagnostics: vec![Diagnostic { line: 1, col: 2, message: "x".into() }] };
        assert_eq!(decode::<Call>(&encode(&checked)).unwrap(), FromRelay::Page(checked));
        assert!(decode::<Call>("{\"type\":\"nonsense\"}").is_err());
        // The page reads the run's calls for what it shows only.
        let bind = Call::Bind { sock: 3, addr: Addr::inet("127.0.0.1", 5500) };
        let sent = RunUpdate { sent: vec![(9, bind.clone())], ..RunUpdate::default() };
        let FromRelay::Page(PageMsg::Run(seen)) = decode::<CallSeen>(&encode(&PageMsg::Run(sent))).unwrap() else { panic!() };
        assert_eq!(seen.sent, [(9, CallSeen { op: "bind".into(), sock: Some(3), addr: Some(Addr::inet("127.0.0.1", 5500)), ..CallSeen::default() })]);
        assert_eq!(CallSeen::from(&bind), seen.sent[0].1);
        // A module that is not ours is not trusted as one.
        let frame: StackEntry = serde_json::from_str(r#"{"function":"f","line":1,"module":"evil"}"#).unwrap();
        assert_eq!(frame.module, None);
    }
}
