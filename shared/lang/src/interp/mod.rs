//! The sans-IO interpreter: a state machine per lane that runs one statement per
//! step, yields each socket call as a [`Call`] and is fed its result.
//!
//! The runner (the relay's engine, the page, tests) owns scheduling and I/O:
//! it calls [`Interpreter::step`] on a Ready lane; a `Yield::Call` makes the lane
//! Waiting until [`Interpreter::resume`] brings the call's result. Events
//! (`step`, `print`, `lane_end`, shaped like `socklab run --json` lines) queue
//! up for [`Interpreter::take_events`].
//!
//! Code map: `compile` turns statements into stack-machine ops (that is what
//! makes suspension cheap: see its docs), `vm` executes them, `value`/`ops`
//! give values their Python behaviour (`repr` and `codec` the reprs of
//! literals and the text codecs, `format` the format specs, `str.format`,
//! f-string fields and `%`), `builtins`, `methods` and `sockets`
//! implement what scripts call (socket ops as the op table in
//! `socklab_wire::op` describes them), `icmp` holds the ping helpers.

mod args;
mod bigint;
mod builtins;
mod class;
mod classes;
mod clock;
mod codec;
mod compile;
mod deep;
mod dict;
mod dunder;
mod encodings;
mod errnos;
mod exception;
mod fork;
mod format;
mod generator;
mod hashlib;
mod icmp;
mod json;
mod lablink;
mod library;
mod memview;
mod methods;
mod more;
mod mt;
mod ops;
mod poll;
mod process;
mod repr;
mod scope;
mod set;
mod sockapi;
mod sockets;
mod structfmt;
mod threads;
mod traceback;
mod sockfile;
mod sockname;
mod value;
mod vm;

pub use exception::Exception;
pub use icmp::{checksum, echo_request};
pub use value::Value;

use serde::{Deserialize, Serialize};

use crate::Script;
use socklab_wire::protocol::{Call, Outcome, SockId};

/// Where a lane is.
#[derive(Debug, Clone, PartialEq)]
pub enum LaneState {
    /// Can step.
    Ready,
    /// Has an outstanding call; needs `resume`.
    Waiting,
    /// Waits for another lane (a lock, a thread's end, a child's exit): it
    /// reads as Ready once that lane has made it possible, and `step` goes on.
    Parked,
    Ended(EndStatus),
}

/// What a step or resume produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Yield {
    /// One statement finished (normally or by raising); the lane may be Ready or Ended now.
    Stepped,
    /// The statement needs this call executed; the lane is Waiting until `resume`.
    Call(Call),
}

/// The result of a lane's outstanding call.
#[derive(Debug, Clone, PartialEq)]
pub enum CallResult {
    /// Ok(value) gives the value; Err raises OSError in the script; Cancelled
    /// raises OSError EINTR "cancelled".
    Outcome(Outcome),
    /// The relay refused the call's arguments: a runtime error that stops the lane.
    Rejected { message: String },
}

/// How a lane ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndStatus {
    Finished,
    Error,
    Assert,
    Blocked,
}

/// What the interpreter reports, shaped like `socklab run --json` lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(not(target_arch = "wasm32"), serde(tag = "kind"))]
pub enum InterpEvent {
    Step {
        lane: String,
        line: u32,
        call: String,
        ok: bool,
        result: Option<String>,
        errno: Option<String>,
        errno_num: Option<i32>,
        /// The errno explanation, or the error text; absent on success.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// Inside a function call: the function's qualified name (absent at
        /// the lane's top level, so top-level steps serialize as before).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        function: Option<String>,
        /// Inside a function call: how many frames deep (the top level is 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        depth: Option<u32>,
        /// A statement of a library module written in Python (`socketserver`),
        /// stepped into: `line` is that module's (`socketserver.py`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        module: Option<String>,
    },
    Print {
        lane: String,
        line: u32,
        text: String,
    },
    LaneEnd {
        lane: String,
        status: EndStatus,
        line: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// An uncaught exception's traceback, as CPython prints it on stderr
        /// (`Traceback (most recent call last):` … `ExcType: message`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        traceback: Option<String>,
    },
}

/// One frame of a lane's call stack, as [`Interpreter::frames`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackEntry {
    /// The function's qualified name, `<module>` for a top level.
    pub function: String,
    pub line: u32,
    /// The library module written in Python whose code it is (`socketserver`),
    /// None for the lane's own code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<&'static str>,
}

/// A [`StackEntry`] as sent: its module is ours only if it names one.
#[derive(Deserialize)]
struct SentFrame {
    function: String,
    line: u32,
    #[serde(default)]
    module: Option<String>,
}

impl<'de> Deserialize<'de> for StackEntry {
    fn deserialize<D: serde::Deserializer<'de>>(from: D) -> Result<StackEntry, D::Error> {
        let SentFrame { function, line, module } = SentFrame::deserialize(from)?;
        let module = module.and_then(|name| crate::names::Module::from_name(&name)).map(crate::names::Module::name);
        Ok(StackEntry { function, line, module })
    }
}

impl StackEntry {
    /// The lane's own code at `line` in `function`.
    pub fn own(function: &str, line: u32) -> StackEntry {
        StackEntry { function: function.to_string(), line, module: None }
    }
}

/// What one run of a script may use; going past a limit is an error at the
/// line that did it, and the run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes all the run's values may hold at once (`MemoryError`). Counted
    /// only where [`crate::memory::Counting`] is the global allocator.
    pub memory: usize,
    /// Bytes each lane may print; past it the lane ends.
    pub output: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { memory: 256 << 20, output: 16 << 20 }
    }
}

impl Limits {
    /// A size as people write it: `256 MiB`, `1.5 KiB`, `100 bytes`.
    pub fn show(bytes: usize) -> String {
        const UNITS: [(usize, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
        for (size, unit) in UNITS {
            if bytes >= size {
                let n = bytes as f64 / size as f64;
                return if bytes.is_multiple_of(size) { format!("{} {unit}", bytes / size) } else { format!("{n:.1} {unit}") };
            }
        }
        format!("{bytes} bytes")
    }
}

/// Runs a parsed script's lanes. `Send`: it holds no `Rc` or `RefCell`.
#[derive(Debug)]
pub struct Interpreter {
    lanes: Vec<vm::LaneVm>,
    shared: vm::Shared,
    /// Charged with what steps allocate (the same meter as `shared.meter`).
    meter: crate::memory::Meter,
    /// The host each script lane runs on (`# lane: NAME @ HOST`); its threads and
    /// forked children (`NAME/…`) run there too.
    hosts: std::collections::HashMap<String, String>,
}

impl Interpreter {
    /// Compiles every lane; they all start Ready. The script should have parsed
    /// without diagnostics.
    pub fn new(script: &Script) -> Interpreter {
        let mut shared = vm::Shared::default();
        shared.lines = script.lines.clone();
        let mut lanes = Vec::new();
        let host_names: std::sync::Arc<[String]> = script.hosts().into();
        for lane in &script.lanes {
            let ident = shared.new_ident();
            let vm = vm::LaneVm::new(lane.name.clone(), compile::compile(&lane.body), ident);
            if let Ok(mut process) = vm.process.lock() {
                process.lib.hosts = host_names.clone();
            }
            let pid = vm.pid();
            threads::new_process(&mut shared, pid, 0);
            let rec = threads::ThreadRec { lane: lane.name.clone(), pid, daemon: false, done: false };
            shared.threads.insert(ident, rec);
            lanes.push(vm);
        }
        let meter = shared.meter.clone();
        let hosts = script.lanes.iter().filter_map(|lane| Some((lane.name.clone(), lane.host.clone()?))).collect();
        let mut interp = Interpreter { lanes, shared, meter, hosts };
        interp.set_limits(Limits::default());
        interp
    }

    /// Sets the run's limits (before its first step).
    pub fn set_limits(&mut self, limits: Limits) {
        self.shared.meter.set_limit(limits.memory);
        self.shared.limits = limits;
    }

    /// Bytes the run's values hold now (0 without the counting allocator).
    pub fn memory_used(&self) -> usize {
        self.shared.meter.bytes()
    }

    pub fn lane_count(&self) -> usize {
        self.lanes.len()
    }

    /// The lane's name; "" for an out-of-range index.
    pub fn lane_name(&self, lane: usize) -> &str {
        self.lanes.get(lane).map_or("", |l| l.name.as_str())
    }

    /// The lane's state; an out-of-range index reads as a finished lane.
    pub fn lane_state(&self, lane: usize) -> LaneState {
        match self.lanes.get(lane) {
            None => LaneState::Ended(EndStatus::Finished),
            Some(l) if l.state == LaneState::Parked && l.parked_ready(&self.shared) => LaneState::Ready,
            Some(l) => l.state.clone(),
        }
    }

    /// Brings text to a program's input (`input()`, `sys.stdin`): `lane`'s
    /// program, its threads included, or with None the common input that
    /// every program without input of its own reads (standard input).
    pub fn feed_input(&mut self, lane: Option<&str>, text: &str) {
        let key = lane.map_or("", |l| l.split('/').next().unwrap_or(l));
        self.shared.inputs.entry(key.to_string()).or_default().text.push_str(text);
    }

    /// Ends a program's input (or the common input): reads after what is
    /// left get end-of-file (`EOFError` from `input()`).
    pub fn end_input(&mut self, lane: Option<&str>) {
        let key = lane.map_or("", |l| l.split('/').next().unwrap_or(l));
        self.shared.inputs.entry(key.to_string()).or_default().ended = true;
    }

    /// Whether some lane waits for a line of input.
    pub fn wants_input(&self) -> bool {
        self.lanes.iter().any(vm::LaneVm::reads_input)
    }

    /// What a parked lane waits for, in plain words.
    pub fn waits_for(&self, lane: usize) -> Option<String> {
        self.lanes.get(lane).and_then(|l| l.parked_on(&self.shared))
    }

    /// Line of the statement the lane will run next, or is waiting in; None when ended.
    pub fn current_line(&self, lane: usize) -> Option<u32> {
        self.lanes.get(lane).and_then(vm::LaneVm::current_line)
    }

    /// The lane's call stack, outermost first: each frame's function
    /// (`<module>` for the top level), its current line and, for library
    /// code the lane steps into, its module. Its length is the call depth;
    /// empty when the lane has ended or the index is out of range.
    pub fn frames(&self, lane: usize) -> Vec<StackEntry> {
        self.lanes.get(lane).map(vm::LaneVm::frames).unwrap_or_default()
    }

    /// How many frames deep the lane is: 1 at its top level, 0 once it has
    /// ended (or for an out-of-range index); `frames(lane).len()` without the
    /// names (library frames count only while the lane steps into them).
    pub fn depth(&self, lane: usize) -> usize {
        self.lanes.get(lane).filter(|l| !matches!(l.state, LaneState::Ended(_))).map_or(0, vm::LaneVm::visible_depth)
    }

    /// Whether the lane's statements in library modules written in Python
    /// (`socketserver`, `selectors`, …) are steps of their own (step into),
    /// or run within the step of the statement that calls them (step over,
    /// run). A lane that rests in library code and stops stepping into it
    /// finishes its own statement at its next step.
    pub fn set_into_library(&mut self, lane: usize, into: bool) {
        if let Some(l) = self.lanes.get_mut(lane) {
            l.into_library = into || self.shared.library_steps;
        }
    }

    /// Every lane, and every lane started later, steps into library code:
    /// each of its statements there is a step, reported with its module.
    pub fn set_library_steps(&mut self, on: bool) {
        self.shared.library_steps = on;
        for l in &mut self.lanes {
            l.into_library = on;
        }
    }

    /// Whether the lane rests in (or waits in) library code it steps into.
    pub fn in_library(&self, lane: usize) -> bool {
        self.lanes.get(lane).is_some_and(vm::LaneVm::in_library)
    }

    /// Executes the next statement of `lane` (which must be Ready; otherwise
    /// nothing happens). `now` is wall-clock seconds for `time()`.
    pub fn step(&mut self, lane: usize, now: f64) -> Yield {
        let _charged = self.meter.enter();
        self.shared.now = now;
        let y = match self.lanes.get_mut(lane) {
            Some(l) => l.step(&mut self.shared),
            None => Yield::Stepped,
        };
        threads::settle(&mut self.lanes, &mut self.shared);
        self.placed(lane, y)
    }

    /// The host the lane runs on (its script lane's: threads and children run where it does).
    pub fn lane_host(&self, lane: usize) -> Option<&str> {
        let name = self.lane_name(lane);
        self.hosts.get(name.split('/').next().unwrap_or(name)).map(String::as_str)
    }

    /// A socket is made on the host of the lane that makes it, a Unix path is
    /// that host's, and so are the lab peers it asks for.
    fn placed(&self, lane: usize, mut y: Yield) -> Yield {
        if let Yield::Call(
            Call::Socket { host, .. }
            | Call::Unlink { host, .. }
            | Call::Exists { host, .. }
            | Call::LabPeer { host, .. }
            | Call::Gethostbyname { host, .. },
        ) = &mut y
        {
            *host = self.lane_host(lane).map(str::to_owned);
        }
        y
    }

    /// Feeds the result of the lane's outstanding call (the lane must be
    /// Waiting; otherwise nothing happens); the same statement continues.
    pub fn resume(&mut self, lane: usize, result: CallResult, now: f64) -> Yield {
        let _charged = self.meter.enter();
        self.shared.now = now;
        let y = match self.lanes.get_mut(lane) {
            Some(l) => l.resume(&mut self.shared, result),
            None => Yield::Stepped,
        };
        threads::settle(&mut self.lanes, &mut self.shared);
        self.placed(lane, y)
    }

    /// Ends a Waiting/Ready lane as "blocked" (the runner found a deadlock); emits its LaneEnd event.
    pub fn end_blocked(&mut self, lane: usize) {
        let _charged = self.meter.enter();
        if let Some(l) = self.lanes.get_mut(lane) {
            l.end_blocked(&mut self.shared);
        }
        threads::settle(&mut self.lanes, &mut self.shared);
    }

    /// Ends a lane with a runtime error the runner found (e.g. a step budget); emits its LaneEnd event.
    pub fn end_with_error(&mut self, lane: usize, message: String) {
        let _charged = self.meter.enter();
        if let Some(l) = self.lanes.get_mut(lane) {
            l.end_with_error(&mut self.shared, message);
        }
        threads::settle(&mut self.lanes, &mut self.shared);
    }

    /// Events produced since the last call, in order.
    pub fn take_events(&mut self) -> Vec<InterpEvent> {
        std::mem::take(&mut self.shared.events)
    }

    /// The variable name a socket handle is held in (first lane/variable that bound it), for transcripts.
    pub fn socket_name(&self, sock: SockId) -> Option<String> {
        self.shared.socket_names.get(&sock).cloned()
    }

    /// Whether every lane has ended.
    pub fn all_ended(&self) -> bool {
        self.lanes
            .iter()
            .all(|l| matches!(l.state, LaneState::Ended(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreter_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<Interpreter>();
    }

    #[test]
    fn events_serialize_like_cli_json() {
        let step = InterpEvent::Step {
            lane: "client".into(),
            line: 3,
            call: "cli.connect((\"127.0.0.1\", 5500))".into(),
            ok: true,
            result: Some("None".into()),
            errno: None,
            errno_num: None,
            message: None,
            function: None,
            depth: None,
            module: None,
        };
        assert_eq!(
            serde_json::to_string(&step).unwrap_or_default(),
            r#"{"kind":"step","lane":"client","line":3,"call":"cli.connect((\"127.0.0.1\", 5500))","ok":true,"result":"None","errno":null,"errno_num":null}"#
        );
        let end = InterpEvent::LaneEnd {
            lane: "main".into(),
            status: EndStatus::Finished,
            line: None,
            message: None,
            traceback: None,
        };
        assert_eq!(
            serde_json::to_string(&end).unwrap_or_default(),
            r#"{"kind":"lane_end","lane":"main","status":"finished","line":null}"#
        );
    }
}
