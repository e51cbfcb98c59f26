//! The shape of a lesson's `lesson.toml`: plain serde data, no logic.
//!
//! `shared/build.rs` includes this file too (`#[path]`), so a lesson that does
//! not match it fails the build instead of failing in a learner's browser.

use serde::{Deserialize, Serialize};
use socklab_wire::tcp::TcpState;

/// Text in every language a lesson is written in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub en: String,
    pub zh: String,
}

/// What `lesson.toml` holds. The scripts live beside it as files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LessonSpec {
    /// The lesson's place in the course, from 1.
    pub number: u32,
    /// Short name used in the directory name, e.g. `tcp-echo`.
    pub slug: String,
    pub title: Text,
    /// What the learner reads before starting (Markdown).
    pub explanation: Text,
    /// The script needs a raw socket (a private network namespace, or a relay allowing raw sockets).
    #[serde(default)]
    pub needs_raw: bool,
    pub steps: Vec<StepSpec>,
}

/// One step of a lesson: something to do, and the checkpoint that tells it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepSpec {
    /// Stable name, used by tests and by `wrong-*.sock` files' `# fails:` lines.
    pub id: String,
    /// What to do.
    pub text: Text,
    pub hint: Text,
    /// Shown once the checkpoint passes: the events the learner just saw, explained.
    pub what_happened: Text,
    pub check: Checkpoint,
}

/// A fact about a run's transcript, decided on real events (see `checkpoint.rs` for how each is read).
///
/// `call_contains` matches the statement's source text as the transcript shows
/// it (`conn, addr = srv.accept()`); `lane` limits a check to one lane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Checkpoint {
    /// A statement ran without raising; optionally its result (Python repr) is exactly, or contains, some text.
    StepOk {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lane: Option<String>,
        call_contains: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result_equals: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result_contains: Option<String>,
    },
    /// A statement raised OSError with this errno (caught or not).
    Errno {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lane: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call_contains: Option<String>,
    },
    /// A send returned fewer bytes than the `asked` bytes the lesson's script hands it.
    ShortSend {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lane: Option<String>,
        #[serde(default = "default_send")]
        call_contains: String,
        asked: u64,
    },
    /// A recv returned `b''`: the peer had closed (or shut down) its sending side.
    RecvEmpty {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lane: Option<String>,
        #[serde(default = "default_recv")]
        call_contains: String,
    },
    /// The kernel moved a TCP socket to state `to` (optionally from `from`, optionally the socket named `socket`).
    State {
        to: TcpState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<TcpState>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        socket: Option<String>,
    },
    /// A lane printed a line equal to, or containing, some text.
    Print {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lane: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        equals: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contains: Option<String>,
    },
    /// A lane ended this way: `finished`, `error`, `assert` or `blocked`.
    LaneEnd { lane: String, status: String },
    /// A segment with exactly these flags (e.g. `"RST"`, `"FIN,ACK"`, `"dest-unreachable"` for ICMP), and/or
    /// carrying this expert mark (`retransmission`, `dup_ack`, `zero_window`, `reset`), was captured.
    Segment {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flags: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expert: Option<socklab_wire::tcpinfo::ExpertMark>,
    },
    /// A `TCP_INFO` sample (optionally of the socket named `socket`) had `field` at least `at_least`,
    /// or (`fell`) lower than the same socket's sample before it once the socket
    /// has retransmitted (`total_retrans` ≥ 1: a loss's doing, not a handshake's).
    TcpInfo {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        socket: Option<String>,
        field: TcpInfoField,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_least: Option<u32>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        fell: bool,
    },
    /// Every lane finished normally.
    AllFinished,
}

/// The `TCP_INFO` fields a checkpoint may judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TcpInfoField {
    /// The congestion window, in segments.
    Cwnd,
    /// Segments retransmitted over the connection's life.
    TotalRetrans,
    /// Timeouts in a row without progress (the backoff count).
    Retransmits,
    /// Segments the sender believes lost.
    Lost,
}

impl TcpInfoField {
    pub const ALL: [TcpInfoField; 4] = [TcpInfoField::Cwnd, TcpInfoField::TotalRetrans, TcpInfoField::Retransmits, TcpInfoField::Lost];

    /// The name in `lesson.toml` and in verdicts.
    pub fn name(self) -> &'static str {
        match self {
            TcpInfoField::Cwnd => "cwnd",
            TcpInfoField::TotalRetrans => "total_retrans",
            TcpInfoField::Retransmits => "retransmits",
            TcpInfoField::Lost => "lost",
        }
    }

    /// Its value in a sample.
    pub fn of(self, info: &socklab_wire::tcpinfo::TcpInfo) -> u32 {
        match self {
            TcpInfoField::Cwnd => info.cwnd,
            TcpInfoField::TotalRetrans => info.total_retrans,
            TcpInfoField::Retransmits => info.retransmits,
            TcpInfoField::Lost => info.lost,
        }
    }
}

fn default_send() -> String {
    "send(".into()
}

fn default_recv() -> String {
    "recv".into()
}
