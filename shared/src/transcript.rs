//! A run's transcript: what the interpreter did and what the kernel did, as
//! `socklab run --json` prints it and as lessons' checkpoints read it.

use serde::{Deserialize, Serialize};

use crate::interp::InterpEvent;

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    State { socket: String, from: String, to: String, local: String, peer: String },
    /// A packet seen on the session's loopback.
    Segment {
        src: String,
        dst: String,
        proto: String,
        flags: String,
        seq: Option<u32>,
        ack: Option<u32>,
        len: u32,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_back_from_json() {
        let state = Line::Kernel(KernelLine::State {
            socket: "cli".into(),
            from: "FIN_WAIT2".into(),
            to: "TIME_WAIT".into(),
            local: "127.0.0.1:41000".into(),
            peer: "127.0.0.1:5500".into(),
        });
        let text = serde_json::to_string(&state).unwrap();
        assert!(text.starts_with(r#"{"kind":"state","socket":"cli""#), "{text}");
        assert_eq!(serde_json::from_str::<Line>(&text).unwrap(), state);
        let print = r#"{"kind":"print","lane":"main","line":2,"text":"hi"}"#;
        assert!(matches!(serde_json::from_str::<Line>(print).unwrap(), Line::Interp(InterpEvent::Print { .. })));
    }
}
