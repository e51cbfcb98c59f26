//! Runs a whole script against the relay: decides which lane steps next and
//! routes the relay's answers back to the lane that asked. No I/O: the caller
//! sends what `Drive::send` holds and feeds back every message it receives.
//!
//! The order is the Run order of `docs/language.md`: lanes run in file order; the running lane
//! goes on until it finishes, fails, or makes a call that cannot complete at once
//! (the relay answers `pending`); then the first lane in file order that can make
//! progress runs.
//!
//! Paused, the runner steps only when asked: `step_lane` runs one statement of
//! one lane (a call it makes goes out, and the statement finishes when the
//! answer comes back), which is what the page's Step buttons do.

use std::collections::BTreeMap;

use socklab_lang::interp::{CallResult, InterpEvent, Interpreter, LaneState, Yield};
use socklab_lang::{self as lang, Diagnostic};
use socklab_wire::protocol::{ClientMsg, ServerMsg, SockId};

use crate::transcript::Line;

/// Steps taken in one `drive` before handing control back, so that a script
/// that loops without making calls cannot freeze the page.
const STEP_BUDGET: usize = 5_000;

/// What the runner needs from the interpreter; a trait so scheduling can be
/// tested with scripted lanes.
pub trait Lanes {
    fn lane_count(&self) -> usize;
    fn lane_state(&self, lane: usize) -> LaneState;
    fn step(&mut self, lane: usize, now: f64) -> Yield;
    fn resume(&mut self, lane: usize, result: CallResult, now: f64) -> Yield;
    fn end_blocked(&mut self, lane: usize);
    fn take_events(&mut self) -> Vec<InterpEvent>;
    /// The script's variable name for a socket, for event lines.
    fn socket_name(&self, sock: SockId) -> Option<String>;
    fn lane_name(&self, lane: usize) -> String;
    /// The line the lane runs next or waits in.
    fn current_line(&self, lane: usize) -> Option<u32>;
}

impl Lanes for Interpreter {
    fn lane_count(&self) -> usize {
        Interpreter::lane_count(self)
    }
    fn lane_state(&self, lane: usize) -> LaneState {
        Interpreter::lane_state(self, lane)
    }
    fn step(&mut self, lane: usize, now: f64) -> Yield {
        Interpreter::step(self, lane, now)
    }
    fn resume(&mut self, lane: usize, result: CallResult, now: f64) -> Yield {
        Interpreter::resume(self, lane, result, now)
    }
    fn end_blocked(&mut self, lane: usize) {
        Interpreter::end_blocked(self, lane)
    }
    fn take_events(&mut self) -> Vec<InterpEvent> {
        Interpreter::take_events(self)
    }
    fn socket_name(&self, sock: SockId) -> Option<String> {
        Interpreter::socket_name(self, sock)
    }
    fn lane_name(&self, lane: usize) -> String {
        Interpreter::lane_name(self, lane).to_owned()
    }
    fn current_line(&self, lane: usize) -> Option<u32> {
        Interpreter::current_line(self, lane)
    }
}

/// Where a lane is, for the page's lane headers and gutter marks.
#[derive(Debug, Clone, PartialEq)]
pub enum LaneStatus {
    Ready,
    /// A call is out and its first answer has not come yet.
    Calling,
    /// The relay said the call must wait; `what` says for what, in plain words.
    Blocked { what: String },
    Ended(socklab_lang::interp::EndStatus),
}

/// One lane as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneView {
    pub name: String,
    pub status: LaneStatus,
    /// The line it runs next, or is blocked in.
    pub line: Option<u32>,
}

/// What a blocked call waits for, in plain words.
pub fn waits_for(call: &socklab_wire::protocol::Call) -> String {
    use socklab_wire::protocol::Call;
    let what = match call {
        Call::Accept { .. } => "a client to connect",
        Call::Connect { .. } | Call::ConnectEx { .. } => "the handshake to finish",
        Call::Recv { .. } | Call::Recvfrom { .. } => "data to arrive",
        Call::Send { .. } | Call::Sendall { .. } | Call::Sendto { .. } => "room in the send buffer",
        Call::Select { .. } => "a socket to become ready",
        Call::Sleep { .. } => "the time to pass",
        Call::Close { .. } | Call::Shutdown { .. } => "the kernel to finish",
        _ => "the relay",
    };
    format!("{}: waiting for {what}", call.op_name())
}

/// What the caller must do after feeding the runner.
#[derive(Debug, Default, PartialEq)]
pub struct Drive {
    /// Messages to send to the relay, in order.
    pub send: Vec<ClientMsg>,
    /// New transcript lines.
    pub lines: Vec<Line>,
    /// The step budget ran out with lanes still runnable: call `drive` again
    /// soon (after yielding to the browser).
    pub again: bool,
}

/// One run of one script.
pub struct Runner<L> {
    lanes: L,
    /// Call ids are unique within the session, so they continue across runs.
    next_id: u64,
    /// The lane that runs until it blocks or ends (the "running lane" of `docs/language.md`).
    current: Option<usize>,
    /// The call the current lane made whose first answer has not come yet; the
    /// run waits for it because `result` (go on) and `pending` (blocked) lead
    /// to different lanes running next.
    awaiting: Option<(u64, usize)>,
    /// Calls the relay answered `pending`, by id, with the lane blocked on each.
    pending: BTreeMap<u64, usize>,
    /// Results of pending calls that came back, waiting for their lane's turn.
    arrived: BTreeMap<usize, CallResult>,
    /// Set by `stop`: nothing runs any more and late answers are ignored.
    stopped: bool,
    /// Step mode: only finish statements in progress and run requested steps.
    paused: bool,
    /// A lane the user asked to step once (paused mode).
    requested: Option<usize>,
    /// Calls sent and not yet answered, to say what a blocked lane waits for.
    out: BTreeMap<u64, socklab_wire::protocol::Call>,
    /// Interpreter events not yet handed to the page (marks and prints).
    seen: Vec<InterpEvent>,
    /// Socket handles the relay reported made, to name them for the table.
    socks: Vec<SockId>,
    /// Statements begun (a statement whose call comes back later counts once).
    steps: u64,
}

impl Runner<Interpreter> {
    /// Parses `source`; a script with any diagnostic does not run.
    pub fn from_source(source: &str, first_id: u64) -> Result<Self, Vec<Diagnostic>> {
        let parsed = lang::parse(source);
        if !parsed.diagnostics.is_empty() {
            return Err(parsed.diagnostics);
        }
        Ok(Runner::new(Interpreter::new(&parsed.script), first_id))
    }
}

impl<L: Lanes> Runner<L> {
    pub fn new(lanes: L, first_id: u64) -> Self {
        Runner {
            lanes,
            next_id: first_id,
            current: None,
            awaiting: None,
            pending: BTreeMap::new(),
            arrived: BTreeMap::new(),
            stopped: false,
            paused: false,
            requested: None,
            out: BTreeMap::new(),
            seen: Vec::new(),
            socks: Vec::new(),
            steps: 0,
        }
    }

    /// Pauses (steps only on request) or runs on.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        if !paused {
            self.requested = None;
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Runs one statement of `lane` (paused mode), if it is Ready.
    pub fn step_lane(&mut self, lane: usize, now: f64) -> Drive {
        if matches!(self.lanes.lane_state(lane), LaneState::Ready) && !self.arrived.contains_key(&lane) {
            self.requested = Some(lane);
        }
        self.drive(now)
    }

    /// Cancels the call `lane` is blocked in; its answer (`cancelled`) raises
    /// OSError in the lane.
    pub fn cancel_lane(&mut self, lane: usize) -> Drive {
        let send = self
            .pending
            .iter()
            .filter(|&(_, &owner)| owner == lane)
            .map(|(&id, _)| ClientMsg::Cancel { id })
            .collect();
        Drive { send, lines: Vec::new(), again: false }
    }

    /// Every lane's name, status and line.
    pub fn lane_views(&self) -> Vec<LaneView> {
        (0..self.lanes.lane_count())
            .map(|lane| {
                let status = match self.lanes.lane_state(lane) {
                    LaneState::Ended(end) => LaneStatus::Ended(end),
                    _ if self.arrived.contains_key(&lane) => LaneStatus::Calling,
                    LaneState::Ready => LaneStatus::Ready,
                    LaneState::Waiting => match self.pending.iter().find(|&(_, &owner)| owner == lane) {
                        Some((id, _)) => LaneStatus::Blocked {
                            what: self.out.get(id).map(waits_for).unwrap_or_else(|| "waiting".into()),
                        },
                        None => LaneStatus::Calling,
                    },
                };
                LaneView { name: self.lanes.lane_name(lane), status, line: self.lanes.current_line(lane) }
            })
            .collect()
    }

    /// Statements begun so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The id the next run in this session should start from.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Every lane has ended (or the run was stopped).
    pub fn is_finished(&self) -> bool {
        self.stopped || (0..self.lanes.lane_count()).all(|lane| matches!(self.lanes.lane_state(lane), LaneState::Ended(_)))
    }

    /// Steps lanes until the run must wait for the relay (or the budget runs out).
    pub fn drive(&mut self, now: f64) -> Drive {
        let mut drive = Drive::default();
        let mut budget = STEP_BUDGET;
        while !self.stopped && self.awaiting.is_none() {
            let next = if self.paused {
                // Finish statements whose calls came back, then the requested step.
                (0..self.lanes.lane_count())
                    .find(|lane| self.arrived.contains_key(lane))
                    .or_else(|| self.requested.take().filter(|&lane| self.can_progress(lane)))
            } else {
                self.current.filter(|&lane| self.can_progress(lane)).or_else(|| self.first_runnable())
            };
            let Some(lane) = next else {
                self.current = None;
                break;
            };
            if budget == 0 {
                drive.again = true;
                break;
            }
            budget -= 1;
            self.current = Some(lane);
            let outcome = match self.arrived.remove(&lane) {
                Some(result) => self.lanes.resume(lane, result, now),
                None => {
                    self.steps += 1;
                    self.lanes.step(lane, now)
                }
            };
            if let Yield::Call(call) = outcome {
                let id = self.next_id;
                self.next_id += 1;
                self.awaiting = Some((id, lane));
                self.out.insert(id, call.clone());
                drive.send.push(ClientMsg::Call { id, call });
            }
        }
        drive.lines = self.take_lines();
        drive
    }

    /// Feeds one message from the relay (other than `hello`) and drives on.
    pub fn on_message(&mut self, msg: ServerMsg, now: f64) -> Drive {
        let mut lines = Vec::new();
        match msg {
            ServerMsg::Pending { id } => {
                if self.awaiting.is_some_and(|(awaited, _)| awaited == id) {
                    let (_, lane) = self.awaiting.take().expect("checked above");
                    self.pending.insert(id, lane);
                    self.current = None;
                }
            }
            ServerMsg::Result { id, outcome } => self.answer(id, CallResult::Outcome(outcome)),
            ServerMsg::Error { id: Some(id), message, .. } if self.owns(id) => {
                self.answer(id, CallResult::Rejected { message })
            }
            ServerMsg::Error { code, message, .. } => lines.push(Line::relay_error(code, &message)),
            ServerMsg::Event { event } => {
                if let socklab_wire::protocol::Event::SocketCreated { info } = &event {
                    self.socks.push(info.sock);
                }
                lines.extend(Line::event(&event, |sock| self.lanes.socket_name(sock)))
            }
            ServerMsg::Hello { .. } => {}
        }
        let mut drive = self.drive(now);
        lines.append(&mut drive.lines);
        drive.lines = lines;
        drive
    }

    /// Ends the run: cancels the calls still out and ends every unfinished
    /// lane as blocked.
    pub fn stop(&mut self) -> Drive {
        let mut send = Vec::new();
        let out = self.awaiting.take().into_iter().chain(std::mem::take(&mut self.pending));
        for (id, _) in out {
            send.push(ClientMsg::Cancel { id });
        }
        let lines = self.abandon();
        Drive { send, lines, again: false }
    }

    /// Ends the run after the connection is lost: there is nobody to cancel with.
    pub fn abandon(&mut self) -> Vec<Line> {
        self.stopped = true;
        self.awaiting = None;
        self.pending.clear();
        self.arrived.clear();
        for lane in 0..self.lanes.lane_count() {
            if !matches!(self.lanes.lane_state(lane), LaneState::Ended(_)) {
                self.lanes.end_blocked(lane);
            }
        }
        self.take_lines()
    }

    fn answer(&mut self, id: u64, result: CallResult) {
        self.out.remove(&id);
        if let Some((awaited, lane)) = self.awaiting.filter(|&(awaited, _)| awaited == id) {
            debug_assert_eq!(awaited, id);
            self.awaiting = None;
            self.arrived.insert(lane, result);
        } else if let Some(lane) = self.pending.remove(&id) {
            self.arrived.insert(lane, result);
        }
    }

    fn owns(&self, id: u64) -> bool {
        self.awaiting.is_some_and(|(awaited, _)| awaited == id) || self.pending.contains_key(&id)
    }

    fn can_progress(&self, lane: usize) -> bool {
        self.arrived.contains_key(&lane) || matches!(self.lanes.lane_state(lane), LaneState::Ready)
    }

    fn first_runnable(&self) -> Option<usize> {
        (0..self.lanes.lane_count()).find(|&lane| self.can_progress(lane))
    }

    fn take_lines(&mut self) -> Vec<Line> {
        let events = self.lanes.take_events();
        let lines = events.iter().map(Line::interp).collect();
        self.seen.extend(events);
        lines
    }

    /// Interpreter events since the last call, for gutter marks and prints.
    pub fn take_seen(&mut self) -> Vec<InterpEvent> {
        std::mem::take(&mut self.seen)
    }

    /// The script's names for the sockets made so far.
    pub fn socket_names(&self) -> Vec<(SockId, String)> {
        self.socks.iter().filter_map(|&sock| Some((sock, self.lanes.socket_name(sock)?))).collect()
    }

    /// The script's name for one socket.
    pub fn socket_name(&self, sock: SockId) -> Option<String> {
        self.lanes.socket_name(sock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_lang::interp::EndStatus;
    use socklab_wire::protocol::{Call, Outcome, Ret};

    /// A lane that makes the listed calls (one per step) and then ends.
    struct Scripted {
        names: Vec<&'static str>,
        /// Per lane: the calls still to make.
        calls: Vec<Vec<Call>>,
        /// Per lane: waiting for a result.
        waiting: Vec<bool>,
        /// What happened, as `name:step` / `name:resume`, to check the order.
        log: Vec<String>,
    }

    fn sleep(seconds: f64) -> Call {
        Call::Sleep { seconds }
    }

    impl Scripted {
        fn new(lanes: &[(&'static str, usize)]) -> Self {
            Scripted {
                names: lanes.iter().map(|(name, _)| *name).collect(),
                calls: lanes.iter().map(|(_, n)| (0..*n).map(|i| sleep(i as f64)).collect()).collect(),
                waiting: vec![false; lanes.len()],
                log: Vec::new(),
            }
        }
        fn next(&mut self, lane: usize) -> Yield {
            if self.calls[lane].is_empty() {
                return Yield::Stepped;
            }
            self.waiting[lane] = true;
            Yield::Call(self.calls[lane].remove(0))
        }
    }

    impl Lanes for Scripted {
        fn lane_count(&self) -> usize {
            self.names.len()
        }
        fn lane_state(&self, lane: usize) -> LaneState {
            if self.waiting[lane] {
                LaneState::Waiting
            } else if self.calls[lane].is_empty() {
                LaneState::Ended(EndStatus::Finished)
            } else {
                LaneState::Ready
            }
        }
        fn step(&mut self, lane: usize, _now: f64) -> Yield {
            assert!(!self.waiting[lane], "stepped a waiting lane");
            self.log.push(format!("{}:step", self.names[lane]));
            self.next(lane)
        }
        fn resume(&mut self, lane: usize, _result: CallResult, _now: f64) -> Yield {
            assert!(self.waiting[lane], "resumed a lane that was not waiting");
            self.log.push(format!("{}:resume", self.names[lane]));
            self.waiting[lane] = false;
            Yield::Stepped
        }
        fn end_blocked(&mut self, lane: usize) {
            self.log.push(format!("{}:blocked", self.names[lane]));
            self.waiting[lane] = false;
            self.calls[lane].clear();
        }
        fn take_events(&mut self) -> Vec<InterpEvent> {
            Vec::new()
        }
        fn socket_name(&self, _: SockId) -> Option<String> {
            None
        }
        fn lane_name(&self, lane: usize) -> String {
            self.names[lane].to_owned()
        }
        fn current_line(&self, _: usize) -> Option<u32> {
            None
        }
    }

    fn ok() -> Outcome {
        Outcome::Ok { value: Ret::None }
    }

    fn sent_ids(drive: &Drive) -> Vec<u64> {
        drive
            .send
            .iter()
            .map(|msg| match msg {
                ClientMsg::Call { id, .. } | ClientMsg::Cancel { id } => *id,
                ClientMsg::Hello { .. } => panic!("the runner never says hello"),
            })
            .collect()
    }

    #[test]
    fn one_call_at_a_time_and_a_lane_runs_on_while_calls_complete_at_once() {
        let mut runner = Runner::new(Scripted::new(&[("server", 2), ("client", 1)]), 1);
        assert_eq!(sent_ids(&runner.drive(0.0)), [1]);
        // Answered at once: the server goes on with its second call.
        let drive = runner.on_message(ServerMsg::Result { id: 1, outcome: ok() }, 0.0);
        assert_eq!(sent_ids(&drive), [2]);
        let drive = runner.on_message(ServerMsg::Result { id: 2, outcome: ok() }, 0.0);
        assert_eq!(sent_ids(&drive), [3]);
        runner.on_message(ServerMsg::Result { id: 3, outcome: ok() }, 0.0);
        assert!(runner.is_finished());
        assert_eq!(runner.steps(), 3, "three statements, each counted once");
        assert_eq!(
            runner.lanes.log,
            ["server:step", "server:resume", "server:step", "server:resume", "client:step", "client:resume"]
        );
    }

    #[test]
    fn a_pending_call_hands_over_to_the_next_lane_in_file_order() {
        let mut runner = Runner::new(Scripted::new(&[("server", 1), ("client", 2)]), 10);
        assert_eq!(sent_ids(&runner.drive(0.0)), [10]);
        // The server's accept blocks: the client runs.
        assert_eq!(sent_ids(&runner.on_message(ServerMsg::Pending { id: 10 }, 0.0)), [11]);
        // The accept completes while the client's call is in flight: nothing
        // runs until the client's answer says whether it goes on.
        assert!(runner.on_message(ServerMsg::Result { id: 10, outcome: ok() }, 0.0).send.is_empty());
        // The client's call completed at once, so the client goes on first.
        assert_eq!(sent_ids(&runner.on_message(ServerMsg::Result { id: 11, outcome: ok() }, 0.0)), [12]);
        assert_eq!(sent_ids(&runner.on_message(ServerMsg::Pending { id: 12 }, 0.0)), Vec::<u64>::new());
        // The client's second call blocked, so the server resumed and ended.
        assert_eq!(runner.lanes.log.last().map(String::as_str), Some("server:resume"));
        assert!(!runner.is_finished());
        runner.on_message(ServerMsg::Result { id: 12, outcome: ok() }, 0.0);
        assert!(runner.is_finished());
    }

    #[test]
    fn the_first_lane_in_file_order_goes_first_when_several_can_run() {
        let mut runner = Runner::new(Scripted::new(&[("a", 1), ("b", 1), ("c", 1)]), 1);
        runner.drive(0.0);
        runner.on_message(ServerMsg::Pending { id: 1 }, 0.0); // a blocks, b calls
        runner.on_message(ServerMsg::Pending { id: 2 }, 0.0); // b blocks, c calls
        runner.on_message(ServerMsg::Result { id: 2, outcome: ok() }, 0.0); // b's result waits
        runner.on_message(ServerMsg::Result { id: 1, outcome: ok() }, 0.0); // a's too
        runner.on_message(ServerMsg::Pending { id: 3 }, 0.0); // c blocks: a, then b
        let log = &runner.lanes.log;
        assert_eq!(&log[log.len() - 2..], ["a:resume", "b:resume"]);
    }

    #[test]
    fn a_rejected_call_is_fed_back_to_its_lane() {
        let mut runner = Runner::new(Scripted::new(&[("main", 1)]), 5);
        runner.drive(0.0);
        let rejected = ServerMsg::Error {
            id: Some(5),
            code: socklab_wire::protocol::ErrorCode::UnknownSocket,
            message: "no socket 9".into(),
        };
        let drive = runner.on_message(rejected, 0.0);
        assert!(drive.lines.is_empty(), "the lane reports it, not the relay");
        assert!(runner.is_finished());
        assert_eq!(runner.lanes.log, ["main:step", "main:resume"]);
    }

    #[test]
    fn stop_cancels_calls_in_flight_and_ends_lanes_blocked() {
        let mut runner = Runner::new(Scripted::new(&[("server", 1), ("client", 1)]), 1);
        runner.drive(0.0);
        runner.on_message(ServerMsg::Pending { id: 1 }, 0.0);
        let drive = runner.stop();
        assert_eq!(drive.send, [ClientMsg::Cancel { id: 2 }, ClientMsg::Cancel { id: 1 }]);
        assert!(runner.is_finished());
        // Late answers change nothing.
        assert!(runner.on_message(ServerMsg::Result { id: 1, outcome: ok() }, 0.0).send.is_empty());
        assert_eq!(&runner.lanes.log[2..], ["server:blocked", "client:blocked"]);
        assert_eq!(runner.next_id(), 3);
    }

    #[test]
    fn a_real_script_runs_through_the_interpreter() {
        let source = "print(\"before\")\nsleep(0.5)\nprint(\"after\")\n";
        let mut runner = Runner::from_source(source, 1).expect("parses");
        let drive = runner.drive(0.0);
        assert_eq!(drive.send, [ClientMsg::Call { id: 1, call: Call::Sleep { seconds: 0.5 } }]);
        let drive = runner.on_message(ServerMsg::Pending { id: 1 }, 0.0);
        assert!(drive.send.is_empty() && !runner.is_finished());
        let drive = runner.on_message(ServerMsg::Result { id: 1, outcome: ok() }, 0.5);
        assert!(runner.is_finished());
        let texts: Vec<&str> = drive.lines.iter().map(|line| line.text.as_str()).collect();
        assert!(texts.contains(&"main| after"), "{texts:?}");
        assert_eq!(texts.last(), Some(&"main: finished"));
    }

    #[test]
    fn stopping_a_real_script_reports_its_blocked_lane() {
        let mut runner = Runner::from_source("sleep(60)\n", 1).expect("parses");
        runner.drive(0.0);
        runner.on_message(ServerMsg::Pending { id: 1 }, 0.0);
        let drive = runner.stop();
        assert_eq!(drive.send, [ClientMsg::Cancel { id: 1 }]);
        let texts: Vec<&str> = drive.lines.iter().map(|line| line.text.as_str()).collect();
        assert_eq!(texts, ["main: stopped while blocked at line 1"]);
    }

    #[test]
    fn a_script_with_diagnostics_does_not_run() {
        let diagnostics = Runner::from_source("x = (\n", 1).err().expect("does not parse");
        assert!(!diagnostics.is_empty());
        assert!(Runner::from_source(crate::state::ECHO_EXAMPLE, 1).is_ok(), "the prefilled example parses");
    }

    #[test]
    fn a_script_that_never_calls_yields_to_the_page_between_budgets() {
        /// One lane that steps forever without a call.
        struct Spin;
        impl Lanes for Spin {
            fn lane_count(&self) -> usize {
                1
            }
            fn lane_state(&self, _: usize) -> LaneState {
                LaneState::Ready
            }
            fn step(&mut self, _: usize, _: f64) -> Yield {
                Yield::Stepped
            }
            fn resume(&mut self, _: usize, _: CallResult, _: f64) -> Yield {
                unreachable!()
            }
            fn end_blocked(&mut self, _: usize) {}
            fn take_events(&mut self) -> Vec<InterpEvent> {
                Vec::new()
            }
            fn socket_name(&self, _: SockId) -> Option<String> {
                None
            }
            fn lane_name(&self, _: usize) -> String {
                "main".into()
            }
            fn current_line(&self, _: usize) -> Option<u32> {
                None
            }
        }
        let mut runner = Runner::new(Spin, 1);
        assert!(runner.drive(0.0).again);
        assert!(runner.stop().send.is_empty());
        assert!(!runner.drive(0.0).again);
    }

    #[test]
    fn paused_the_runner_steps_one_statement_of_the_chosen_lane() {
        let mut runner = Runner::new(Scripted::new(&[("server", 2), ("client", 1)]), 1);
        runner.set_paused(true);
        assert!(runner.drive(0.0).send.is_empty(), "nothing runs unasked");
        assert_eq!(sent_ids(&runner.step_lane(1, 0.0)), [1]);
        assert_eq!(runner.lane_views()[1].status, LaneStatus::Calling);
        // The answer finishes the client's statement; nothing else runs.
        assert!(runner.on_message(ServerMsg::Result { id: 1, outcome: ok() }, 0.0).send.is_empty());
        assert_eq!(runner.lanes.log, ["client:step", "client:resume"]);
        assert_eq!(runner.lane_views()[1].status, LaneStatus::Ended(EndStatus::Finished));
        // A step that blocks shows what it waits for; Cancel sends a cancel.
        assert_eq!(sent_ids(&runner.step_lane(0, 0.0)), [2]);
        runner.on_message(ServerMsg::Pending { id: 2 }, 0.0);
        assert_eq!(runner.lane_views()[0].status, LaneStatus::Blocked { what: "sleep: waiting for the time to pass".into() });
        assert_eq!(runner.cancel_lane(0).send, [ClientMsg::Cancel { id: 2 }]);
        // Run on: the rest runs without asking.
        runner.set_paused(false);
        assert_eq!(sent_ids(&runner.on_message(ServerMsg::Result { id: 2, outcome: Outcome::Cancelled }, 0.0)), [3]);
    }
}
