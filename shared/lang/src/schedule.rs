//! Which lane runs next: the one scheduling rule of `socklab run` and the
//! page, sans-IO (no sockets, no clock: `now` is an argument).
//!
//! The rule (the Run order of `docs/language.md`): lanes run in file order; the running lane
//! goes on until it finishes, fails, or makes a call that cannot complete at
//! once; then the first lane in file order that can make progress runs.
//!
//! The scheduler speaks in call ids: [`Scheduler::run`] hands out one call at a
//! time as `(id, lane, call)`, and nothing runs until the caller [`answers`]
//! it, either [`Answer::Pending`] (it must wait: the lane is blocked and
//! another may run) or [`Answer::Done`]. A pending call's result is answered
//! the same way when it comes. What else a caller brings is a [`Host`]: the
//! relay's engine can try a waiting call once without waiting (while no result
//! is in hand, a waiting lane then counts as able to make progress, in file
//! order, when its attempt completes) and has a statement budget; the page
//! has neither, and uses [`Scheduler::run`].
//!
//! Paused (the page's Step buttons), only statements whose calls came back
//! finish, plus one statement of a lane asked for with
//! [`Scheduler::request_step`] (step into), or the statements of one lane
//! until it is back at its call depth or shallower, asked for with
//! [`Scheduler::request_step_over`] (step over: a call runs to its return
//! unless the lane blocks or ends first).
//!
//! [`answers`]: Scheduler::answer

use std::collections::BTreeMap;

use socklab_wire::protocol::{Call, SockId};

use crate::interp::{CallResult, EndStatus, InterpEvent, Interpreter, LaneState, StackEntry, Yield};

/// What the scheduler needs from the interpreter; a trait so scheduling can be
/// tested with scripted lanes.
pub trait Lanes {
    fn lane_count(&self) -> usize;
    fn lane_state(&self, lane: usize) -> LaneState;
    fn step(&mut self, lane: usize, now: f64) -> Yield;
    fn resume(&mut self, lane: usize, result: CallResult, now: f64) -> Yield;
    fn end_blocked(&mut self, lane: usize);
    fn end_with_error(&mut self, lane: usize, message: String);
    fn take_events(&mut self) -> Vec<InterpEvent>;
    /// The script's variable name for a socket, for event lines.
    fn socket_name(&self, sock: SockId) -> Option<String>;
    fn lane_name(&self, lane: usize) -> String;
    /// The line the lane runs next or waits in.
    fn current_line(&self, lane: usize) -> Option<u32>;
    /// How many frames deep the lane is (1 at its top level).
    fn depth(&self, _lane: usize) -> usize {
        1
    }
    /// The lane's call stack, outermost first: each frame's function, line and library module.
    fn frames(&self, _lane: usize) -> Vec<StackEntry> {
        Vec::new()
    }
    /// Whether the lane's statements in library code are steps (step into) or not.
    fn set_into_library(&mut self, _lane: usize, _into: bool) {}
    /// Whether the lane rests in library code it steps into.
    fn in_library(&self, _lane: usize) -> bool {
        false
    }
    /// What a lane that waits for another lane waits for.
    fn waits_for(&self, _lane: usize) -> Option<String> {
        None
    }
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
    fn end_with_error(&mut self, lane: usize, message: String) {
        Interpreter::end_with_error(self, lane, message)
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
    fn depth(&self, lane: usize) -> usize {
        Interpreter::depth(self, lane)
    }
    fn frames(&self, lane: usize) -> Vec<StackEntry> {
        Interpreter::frames(self, lane)
    }
    fn set_into_library(&mut self, lane: usize, into: bool) {
        Interpreter::set_into_library(self, lane, into)
    }
    fn in_library(&self, lane: usize) -> bool {
        Interpreter::in_library(self, lane)
    }
    fn waits_for(&self, lane: usize) -> Option<String> {
        Interpreter::waits_for(self, lane)
    }
}

/// Where a lane is, for the page's lane headers and gutter marks.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneStatus {
    Ready,
    /// A call is out and its first answer has not come yet.
    Calling,
    /// The call must wait; `what` says for what, in plain words.
    Blocked { what: String },
    Ended(EndStatus),
}

/// One lane as the page shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LaneView {
    pub name: String,
    pub status: LaneStatus,
    /// The line it runs next, or is blocked in.
    pub line: Option<u32>,
    /// Its call stack, outermost first (`<module>` for the top level), each
    /// function with its line and, in library code, its module; empty once
    /// the lane has ended.
    pub stack: Vec<StackEntry>,
}

/// What a blocked call waits for, in plain words.
pub fn waits_for(call: &Call) -> String {
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

/// The first answer to a call the scheduler handed out.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The call must wait; its result is answered later under the same id.
    Pending,
    Done(CallResult),
}

/// Where [`Scheduler::run`] stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// Start this call and answer it; nothing runs until its first answer.
    Call { id: u64, lane: usize, call: Call },
    /// The slice ran out: run again (after yielding, on the page).
    Again,
    /// Nothing can run until an answer comes, or the run is over.
    Idle,
}

/// What the code running the lanes adds to the rule, beyond answering calls.
pub trait Host {
    /// Whether `attempt` can ever complete a call; false leaves attempts out.
    const ATTEMPTS: bool;
    /// One attempt at waiting call `id` that does not wait: its result if it completed.
    fn attempt(&mut self, id: u64) -> Option<CallResult>;
    /// Statements a run may begin before its running lane is ended, so
    /// `while True: pass` ends.
    fn max_steps(&self) -> Option<u64>;
}

/// A run driven by messages (`socklab_run`): answers only come from the
/// session, and the slice hands control back between batches of statements.
struct Messages {
    max_steps: Option<u64>,
}

impl Host for Messages {
    const ATTEMPTS: bool = false;
    fn attempt(&mut self, _: u64) -> Option<CallResult> {
        None
    }
    fn max_steps(&self) -> Option<u64> {
        self.max_steps
    }
}

/// One run of one script's lanes.
pub struct Scheduler<L> {
    lanes: L,
    /// Call ids are unique within a session, so a caller can continue them across runs.
    next_id: u64,
    /// The lane that runs until it blocks or ends (the "running lane" of `docs/language.md`).
    current: Option<usize>,
    /// The call handed out whose first answer has not come yet; the run waits
    /// for it because `Done` (go on) and `Pending` (blocked) lead to different
    /// lanes running next.
    awaiting: Option<(u64, usize)>,
    /// Calls answered `Pending`, by id, with the lane blocked on each.
    pending: BTreeMap<u64, usize>,
    /// Results of pending calls that came back, waiting for their lane's turn.
    arrived: BTreeMap<usize, CallResult>,
    /// Set when the run is ended from outside: nothing runs any more and late
    /// answers are ignored.
    stopped: bool,
    /// Step mode: only finish statements in progress and run requested steps.
    paused: bool,
    /// A lane asked to step once (paused mode).
    requested: Option<usize>,
    /// A lane stepping over (paused mode), and the depth it runs back to.
    over: Option<(usize, usize)>,
    /// Calls handed out and not finished, to say what a blocked lane waits for.
    out: BTreeMap<u64, Call>,
    /// Statements begun (a statement whose call comes back later counts once).
    steps: u64,
}

impl<L: Lanes> Scheduler<L> {
    pub fn new(lanes: L, first_id: u64) -> Self {
        Scheduler {
            lanes,
            next_id: first_id,
            current: None,
            awaiting: None,
            pending: BTreeMap::new(),
            arrived: BTreeMap::new(),
            stopped: false,
            paused: false,
            requested: None,
            over: None,
            out: BTreeMap::new(),
            steps: 0,
        }
    }

    pub fn lanes(&self) -> &L {
        &self.lanes
    }

    pub fn lanes_mut(&mut self) -> &mut L {
        &mut self.lanes
    }

    /// Pauses (steps only on request) or runs on.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        self.over = None;
        if !paused {
            self.requested = None;
            // Running, library code runs within its caller's step.
            for lane in 0..self.lanes.lane_count() {
                self.lanes.set_into_library(lane, false);
            }
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Asks for one statement of `lane` at the next `run` (paused mode), if
    /// it is Ready; a call of a library function written in Python is
    /// stepped into, as a script function's is.
    pub fn request_step(&mut self, lane: usize) {
        if matches!(self.lanes.lane_state(lane), LaneState::Ready) && !self.arrived.contains_key(&lane) {
            self.requested = Some(lane);
            self.lanes.set_into_library(lane, true);
        }
    }

    /// Asks `lane` (paused mode, if it is Ready) to step over: statements run
    /// until its call depth is back at today's or shallower, it blocks (its
    /// call is answered pending) or it ends. On a statement that calls no
    /// function, that is one step.
    /// Library code is stepped over as one step from the lane's own code,
    /// and line by line where the lane rests inside it.
    pub fn request_step_over(&mut self, lane: usize) {
        let inside = self.lanes.in_library(lane);
        self.request_step(lane);
        if self.requested == Some(lane) {
            self.lanes.set_into_library(lane, inside);
            self.over = Some((lane, self.lanes.depth(lane)));
        }
    }

    /// The lane stepping over, while it is still deeper than it started and
    /// can step; otherwise the step over is done.
    fn stepping_over(&mut self) -> Option<usize> {
        let (lane, depth) = self.over?;
        let more = matches!(self.lanes.lane_state(lane), LaneState::Ready) && self.lanes.depth(lane) > depth;
        if !more {
            self.over = None;
        }
        more.then_some(lane)
    }

    /// Runs lanes for at most `slice` statements (steps, resumes, lanes ended
    /// by the statement budget) or until one makes a call.
    pub fn run(&mut self, now: f64, slice: usize) -> Turn {
        self.run_with(now, slice, &mut Messages { max_steps: None })
    }

    /// [`run`](Self::run), ending the running lane once the run has begun `max_steps` statements.
    pub fn run_budgeted(&mut self, now: f64, slice: usize, max_steps: u64) -> Turn {
        self.run_with(now, slice, &mut Messages { max_steps: Some(max_steps) })
    }

    /// [`run`](Self::run) with what `host` adds to the rule.
    pub fn run_with<H: Host>(&mut self, now: f64, slice: usize, host: &mut H) -> Turn {
        for _ in 0..slice {
            if self.stopped || self.awaiting.is_some() {
                return Turn::Idle;
            }
            if let Some(max) = host.max_steps()
                && let Some(lane) = self.over_budget(max)
            {
                self.lanes.end_with_error(lane, format!("stopped after {max} statements: is there an endless loop?"));
                self.current = None;
                continue;
            }
            let next = if self.paused {
                // Finish statements whose calls came back, then the requested step.
                (0..self.lanes.lane_count())
                    .find(|lane| self.arrived.contains_key(lane))
                    .or_else(|| self.requested.take().filter(|&lane| self.can_progress(lane)))
                    .or_else(|| self.stepping_over())
            } else {
                match self.current.filter(|&lane| self.can_progress(lane)) {
                    Some(lane) => Some(lane),
                    None => self.first_runnable(host),
                }
            };
            let Some(lane) = next else {
                self.current = None;
                return Turn::Idle;
            };
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
                return Turn::Call { id, lane, call };
            }
        }
        if self.stopped { Turn::Idle } else { Turn::Again }
    }

    /// Feeds the answer to call `id`; an answer to a call that is not this
    /// run's (or no longer is: the run was stopped) changes nothing.
    pub fn answer(&mut self, id: u64, answer: Answer) {
        let awaited = self.awaiting.filter(|&(awaited, _)| awaited == id);
        match answer {
            Answer::Pending => {
                if let Some((_, lane)) = awaited {
                    self.awaiting = None;
                    self.pending.insert(id, lane);
                    self.current = None;
                }
            }
            Answer::Done(result) => {
                self.out.remove(&id);
                if awaited.is_some() {
                    self.awaiting = None;
                }
                if let Some(lane) = awaited.map(|(_, lane)| lane).or_else(|| self.pending.remove(&id)) {
                    self.arrived.insert(lane, result);
                }
            }
        }
    }

    /// The lane that made call `id`, while it has not had its result.
    pub fn lane_of(&self, id: u64) -> Option<usize> {
        self.awaiting.filter(|&(awaited, _)| awaited == id).map(|(_, lane)| lane).or_else(|| self.pending.get(&id).copied())
    }

    /// Call `id` is this run's and has not had its result.
    pub fn owns(&self, id: u64) -> bool {
        self.awaiting.is_some_and(|(awaited, _)| awaited == id) || self.pending.contains_key(&id)
    }

    /// Ends the run: the ids of the calls still out (to cancel), the one
    /// awaiting its first answer first; every unfinished lane ends as blocked.
    pub fn stop(&mut self) -> Vec<u64> {
        let mut ids = Vec::new();
        if let Some((id, _)) = self.awaiting {
            ids.push(id);
        }
        for &id in self.pending.keys() {
            ids.push(id);
        }
        self.abandon();
        ids
    }

    /// Ends every unfinished lane as blocked (a deadlock, a stop, a lost
    /// connection); nothing runs afterwards and late answers are ignored.
    pub fn abandon(&mut self) {
        self.stopped = true;
        self.awaiting = None;
        self.pending.clear();
        self.arrived.clear();
        for lane in 0..self.lanes.lane_count() {
            if !matches!(self.lanes.lane_state(lane), LaneState::Ended(_)) {
                self.lanes.end_blocked(lane);
            }
        }
    }

    /// The ids of the calls `lane` is blocked in, to cancel; the answer
    /// (`cancelled`) raises OSError in the lane.
    pub fn cancel_lane(&self, lane: usize) -> Vec<u64> {
        let mut ids = Vec::new();
        for (&id, &owner) in &self.pending {
            if owner == lane {
                ids.push(id);
            }
        }
        ids
    }

    /// Every lane's name, status and line.
    pub fn lane_views(&self) -> Vec<LaneView> {
        (0..self.lanes.lane_count())
            .map(|lane| {
                let status = match self.lanes.lane_state(lane) {
                    LaneState::Ended(end) => LaneStatus::Ended(end),
                    _ if self.arrived.contains_key(&lane) => LaneStatus::Calling,
                    LaneState::Ready => LaneStatus::Ready,
                    LaneState::Parked => LaneStatus::Blocked {
                        what: self.lanes.waits_for(lane).unwrap_or_else(|| "waiting for another lane".into()),
                    },
                    LaneState::Waiting => match self.pending.iter().find(|&(_, &owner)| owner == lane) {
                        Some((id, _)) => LaneStatus::Blocked {
                            what: self.out.get(id).map(waits_for).unwrap_or_else(|| "waiting".into()),
                        },
                        None => LaneStatus::Calling,
                    },
                };
                LaneView {
                    name: self.lanes.lane_name(lane),
                    status,
                    line: self.lanes.current_line(lane),
                    stack: self.lanes.frames(lane),
                }
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

    /// The running lane, when it would begin a statement past the statement budget.
    fn over_budget(&self, max_steps: u64) -> Option<usize> {
        let lane = self.current.filter(|lane| self.steps >= max_steps && !self.paused && !self.arrived.contains_key(lane))?;
        matches!(self.lanes.lane_state(lane), LaneState::Ready).then_some(lane)
    }

    fn can_progress(&self, lane: usize) -> bool {
        self.arrived.contains_key(&lane) || matches!(self.lanes.lane_state(lane), LaneState::Ready)
    }

    /// Waiting calls would be attempted: a result in hand goes first, since
    /// the first call to complete resumes its lane.
    fn may_attempt(&self) -> bool {
        !self.paused && self.arrived.is_empty() && !self.pending.is_empty()
    }

    /// The first lane in file order that can make progress.
    fn first_runnable<H: Host>(&mut self, host: &mut H) -> Option<usize> {
        if !(H::ATTEMPTS && self.may_attempt()) {
            return (0..self.lanes.lane_count()).find(|&lane| self.can_progress(lane));
        }
        for lane in 0..self.lanes.lane_count() {
            if self.can_progress(lane) {
                return Some(lane);
            }
            let Some(id) = self.pending.iter().find(|&(_, &owner)| owner == lane).map(|(&id, _)| id) else { continue };
            if let Some(result) = host.attempt(id) {
                self.answer(id, Answer::Done(result));
                return Some(lane);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_wire::protocol::{Outcome, Ret};

    /// The page's slice; tests that are not about slices never reach it.
    const SLICE: usize = 5_000;

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
        fn end_with_error(&mut self, lane: usize, message: String) {
            self.log.push(format!("{}:error {message}", self.names[lane]));
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

    fn done() -> Answer {
        Answer::Done(CallResult::Outcome(ok()))
    }

    /// The call ids a turn hands out.
    fn sent_ids(turn: &Turn) -> Vec<u64> {
        match turn {
            Turn::Call { id, .. } => vec![*id],
            Turn::Again | Turn::Idle => Vec::new(),
        }
    }

    /// Feeds one answer and runs on, as a runner does with each message.
    fn feed<L: Lanes>(scheduler: &mut Scheduler<L>, id: u64, answer: Answer) -> Turn {
        scheduler.answer(id, answer);
        scheduler.run(0.0, SLICE)
    }

    #[test]
    fn one_call_at_a_time_and_a_lane_runs_on_while_calls_complete_at_once() {
        let mut scheduler = Scheduler::new(Scripted::new(&[("server", 2), ("client", 1)]), 1);
        assert_eq!(sent_ids(&scheduler.run(0.0, SLICE)), [1]);
        // Answered at once: the server goes on with its second call.
        let turn = feed(&mut scheduler, 1, done());
        assert_eq!(sent_ids(&turn), [2]);
        let turn = feed(&mut scheduler, 2, done());
        assert_eq!(sent_ids(&turn), [3]);
        feed(&mut scheduler, 3, done());
        assert!(scheduler.is_finished());
        assert_eq!(scheduler.steps(), 3, "three statements, each counted once");
        assert_eq!(
            scheduler.lanes.log,
            ["server:step", "server:resume", "server:step", "server:resume", "client:step", "client:resume"]
        );
    }

    #[test]
    fn a_pending_call_hands_over_to_the_next_lane_in_file_order() {
        let mut scheduler = Scheduler::new(Scripted::new(&[("server", 1), ("client", 2)]), 10);
        assert_eq!(sent_ids(&scheduler.run(0.0, SLICE)), [10]);
        // The server's accept blocks: the client runs.
        assert_eq!(sent_ids(&feed(&mut scheduler, 10, Answer::Pending)), [11]);
        // The accept completes while the client's call is in flight: nothing
        // runs until the client's answer says whether it goes on.
        assert!(sent_ids(&feed(&mut scheduler, 10, done())).is_empty());
        // The client's call completed at once, so the client goes on first.
        assert_eq!(sent_ids(&feed(&mut scheduler, 11, done())), [12]);
        assert_eq!(sent_ids(&feed(&mut scheduler, 12, Answer::Pending)), Vec::<u64>::new());
        // The client's second call blocked, so the server resumed and ended.
        assert_eq!(scheduler.lanes.log.last().map(String::as_str), Some("server:resume"));
        assert!(!scheduler.is_finished());
        feed(&mut scheduler, 12, done());
        assert!(scheduler.is_finished());
    }

    #[test]
    fn the_first_lane_in_file_order_goes_first_when_several_can_run() {
        let mut scheduler = Scheduler::new(Scripted::new(&[("a", 1), ("b", 1), ("c", 1)]), 1);
        scheduler.run(0.0, SLICE);
        feed(&mut scheduler, 1, Answer::Pending); // a blocks, b calls
        feed(&mut scheduler, 2, Answer::Pending); // b blocks, c calls
        feed(&mut scheduler, 2, done()); // b's result waits
        feed(&mut scheduler, 1, done()); // a's too
        feed(&mut scheduler, 3, Answer::Pending); // c blocks: a, then b
        let log = &scheduler.lanes.log;
        assert_eq!(&log[log.len() - 2..], ["a:resume", "b:resume"]);
    }

    #[test]
    fn a_rejected_call_is_fed_back_to_its_lane() {
        let mut scheduler = Scheduler::new(Scripted::new(&[("main", 1)]), 5);
        scheduler.run(0.0, SLICE);
        let rejected = Answer::Done(CallResult::Rejected { message: "no socket 9".into() });
        assert!(scheduler.owns(5), "the lane reports it, not the relay");
        feed(&mut scheduler, 5, rejected);
        assert!(scheduler.is_finished());
        assert_eq!(scheduler.lanes.log, ["main:step", "main:resume"]);
    }

    #[test]
    fn stop_cancels_calls_in_flight_and_ends_lanes_blocked() {
        let mut scheduler = Scheduler::new(Scripted::new(&[("server", 1), ("client", 1)]), 1);
        scheduler.run(0.0, SLICE);
        feed(&mut scheduler, 1, Answer::Pending);
        assert_eq!(scheduler.stop(), [2, 1]);
        assert!(scheduler.is_finished());
        // Late answers change nothing.
        assert!(sent_ids(&feed(&mut scheduler, 1, done())).is_empty());
        assert_eq!(&scheduler.lanes.log[2..], ["server:blocked", "client:blocked"]);
        assert_eq!(scheduler.next_id(), 3);
    }

    #[test]
    fn a_real_script_runs_through_the_interpreter() {
        let parsed = crate::parse("print(\"before\")\nsleep(0.5)\nprint(\"after\")\n");
        let mut scheduler = Scheduler::new(Interpreter::new(&parsed.script), 1);
        assert_eq!(scheduler.run(0.0, SLICE), Turn::Call { id: 1, lane: 0, call: Call::Sleep { seconds: 0.5 } });
        assert_eq!(feed(&mut scheduler, 1, Answer::Pending), Turn::Idle);
        assert!(!scheduler.is_finished());
        feed(&mut scheduler, 1, done());
        assert!(scheduler.is_finished());
        let events = scheduler.lanes_mut().take_events();
        let texts: Vec<String> = events.into_iter().map(|event| crate::transcript::Line::Interp(event).human()).collect();
        assert!(texts.iter().any(|text| text == "main| after"), "{texts:?}");
        assert_eq!(texts.last().map(String::as_str), Some("main: finished"));
    }

    /// A paused scheduler over a real script with a function that makes a call.
    fn paused_over(source: &str) -> Scheduler<Interpreter> {
        let parsed = crate::parse(source);
        assert!(parsed.is_ok(), "{:?}", parsed.diagnostics);
        let mut scheduler = Scheduler::new(Interpreter::new(&parsed.script), 1);
        scheduler.set_paused(true);
        scheduler
    }

    const CALLS_F: &str = "def f():\n    a = 1\n    sleep(0)\n    return a\nx = f()\ny = 2\n";

    fn line_and_stack<L: Lanes>(scheduler: &Scheduler<L>) -> (Option<u32>, Vec<StackEntry>) {
        let view = scheduler.lane_views().remove(0);
        (view.line, view.stack)
    }

    fn frames(stack: &[(&str, u32)]) -> Vec<StackEntry> {
        stack.iter().map(|&(name, line)| StackEntry::own(name, line)).collect()
    }

    #[test]
    fn step_over_runs_a_call_to_its_return_and_step_into_goes_in() {
        let mut scheduler = paused_over(CALLS_F);
        assert_eq!(line_and_stack(&scheduler), (Some(1), frames(&[("<module>", 1)])));
        // A statement that calls nothing: step over is one step.
        scheduler.request_step_over(0);
        assert_eq!(scheduler.run(0.0, SLICE), Turn::Idle);
        assert_eq!(scheduler.steps(), 1);
        assert_eq!(line_and_stack(&scheduler).0, Some(5));
        // Over `x = f()`: the body runs, its call answered at once, back at line 6.
        scheduler.request_step_over(0);
        assert_eq!(sent_ids(&scheduler.run(0.0, SLICE)), [1]);
        assert_eq!(feed(&mut scheduler, 1, done()), Turn::Idle);
        assert_eq!(line_and_stack(&scheduler), (Some(6), frames(&[("<module>", 6)])));
        assert_eq!(scheduler.steps(), 5, "def, then x = f() and f's three statements");

        // Step into the same call: one step, and the stack shows f inside <module>.
        let mut scheduler = paused_over(CALLS_F);
        scheduler.request_step(0);
        scheduler.run(0.0, SLICE);
        scheduler.request_step(0);
        assert_eq!(scheduler.run(0.0, SLICE), Turn::Idle);
        assert_eq!(line_and_stack(&scheduler), (Some(2), frames(&[("<module>", 5), ("f", 2)])));
        // Stepping over inside f stays in f: one statement.
        scheduler.request_step_over(0);
        assert_eq!(scheduler.run(0.0, SLICE), Turn::Idle);
        assert_eq!(line_and_stack(&scheduler), (Some(3), frames(&[("<module>", 5), ("f", 3)])));
        // Over f's last statements, from inside: the lane comes back out to its caller.
        scheduler.request_step_over(0);
        assert_eq!(sent_ids(&scheduler.run(0.0, SLICE)), [1]);
        feed(&mut scheduler, 1, done());
        assert_eq!(line_and_stack(&scheduler), (Some(4), frames(&[("<module>", 5), ("f", 4)])));
        scheduler.request_step_over(0);
        scheduler.run(0.0, SLICE);
        assert_eq!(line_and_stack(&scheduler), (Some(6), frames(&[("<module>", 6)])));
    }

    #[test]
    fn step_over_stops_where_the_lane_blocks_and_pausing_ends_it() {
        let mut scheduler = paused_over(CALLS_F);
        scheduler.request_step(0);
        scheduler.run(0.0, SLICE);
        scheduler.request_step_over(0);
        assert_eq!(sent_ids(&scheduler.run(0.0, SLICE)), [1]);
        // The sleep must wait: the step over ends there, blocked inside f.
        assert_eq!(feed(&mut scheduler, 1, Answer::Pending), Turn::Idle);
        let view = scheduler.lane_views().remove(0);
        assert!(matches!(view.status, LaneStatus::Blocked { .. }), "{view:?}");
        assert_eq!(view.stack, frames(&[("<module>", 5), ("f", 3)]));
        // Its result finishes the statement, and nothing more runs.
        assert_eq!(feed(&mut scheduler, 1, done()), Turn::Idle);
        assert_eq!(line_and_stack(&scheduler), (Some(4), frames(&[("<module>", 5), ("f", 4)])));

        // Pause while a step over waits for its call's answer: it ends with that statement.
        let mut scheduler = paused_over(CALLS_F);
        scheduler.request_step(0);
        scheduler.run(0.0, SLICE);
        scheduler.request_step_over(0);
        assert_eq!(sent_ids(&scheduler.run(0.0, SLICE)), [1]);
        scheduler.set_paused(true);
        assert_eq!(feed(&mut scheduler, 1, done()), Turn::Idle);
        assert_eq!(line_and_stack(&scheduler).0, Some(4));
        // A lane that is not there cannot be asked.
        scheduler.request_step_over(7);
        assert_eq!(scheduler.run(0.0, SLICE), Turn::Idle);
        assert_eq!(line_and_stack(&scheduler).0, Some(4));
    }

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
        fn end_with_error(&mut self, _: usize, _: String) {}
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

    #[test]
    fn a_script_that_never_calls_yields_to_the_page_between_budgets() {
        let mut scheduler = Scheduler::new(Spin, 1);
        assert_eq!(scheduler.run(0.0, SLICE), Turn::Again);
        assert!(scheduler.stop().is_empty());
        assert_ne!(scheduler.run(0.0, SLICE), Turn::Again);
    }

    #[test]
    fn paused_the_scheduler_steps_one_statement_of_the_chosen_lane() {
        let mut scheduler = Scheduler::new(Scripted::new(&[("server", 2), ("client", 1)]), 1);
        scheduler.set_paused(true);
        assert!(sent_ids(&scheduler.run(0.0, SLICE)).is_empty(), "nothing runs unasked");
        scheduler.request_step(1);
        assert_eq!(sent_ids(&scheduler.run(0.0, SLICE)), [1]);
        assert_eq!(scheduler.lane_views()[1].status, LaneStatus::Calling);
        // The answer finishes the client's statement; nothing else runs.
        assert!(sent_ids(&feed(&mut scheduler, 1, done())).is_empty());
        assert_eq!(scheduler.lanes.log, ["client:step", "client:resume"]);
        assert_eq!(scheduler.lane_views()[1].status, LaneStatus::Ended(EndStatus::Finished));
        // A step that blocks shows what it waits for; Cancel names its call.
        scheduler.request_step(0);
        assert_eq!(sent_ids(&scheduler.run(0.0, SLICE)), [2]);
        feed(&mut scheduler, 2, Answer::Pending);
        assert_eq!(scheduler.lane_views()[0].status, LaneStatus::Blocked { what: "sleep: waiting for the time to pass".into() });
        assert_eq!(scheduler.cancel_lane(0), [2]);
        // Run on: the rest runs without asking.
        scheduler.set_paused(false);
        assert_eq!(sent_ids(&feed(&mut scheduler, 2, Answer::Done(CallResult::Outcome(Outcome::Cancelled)))), [3]);
    }

    /// Lanes that loop forever without a call until ended, logging what they did.
    struct Looping {
        ended: Vec<bool>,
        log: Vec<String>,
    }

    impl Lanes for Looping {
        fn lane_count(&self) -> usize {
            self.ended.len()
        }
        fn lane_state(&self, lane: usize) -> LaneState {
            if self.ended[lane] { LaneState::Ended(EndStatus::Error) } else { LaneState::Ready }
        }
        fn step(&mut self, lane: usize, _: f64) -> Yield {
            self.log.push(format!("{lane}:step"));
            Yield::Stepped
        }
        fn resume(&mut self, _: usize, _: CallResult, _: f64) -> Yield {
            unreachable!()
        }
        fn end_blocked(&mut self, _: usize) {}
        fn end_with_error(&mut self, lane: usize, message: String) {
            self.log.push(format!("{lane}:error {message}"));
            self.ended[lane] = true;
        }
        fn take_events(&mut self) -> Vec<InterpEvent> {
            Vec::new()
        }
        fn socket_name(&self, _: SockId) -> Option<String> {
            None
        }
        fn lane_name(&self, lane: usize) -> String {
            lane.to_string()
        }
        fn current_line(&self, _: usize) -> Option<u32> {
            None
        }
    }

    /// A host like the relay's engine: it tries waiting calls (`ready` says
    /// which complete), logs the ids it tried, and may have a statement budget.
    struct Engine {
        ready: Vec<u64>,
        tried: Vec<u64>,
        max_steps: Option<u64>,
    }

    impl Engine {
        fn new(max_steps: Option<u64>) -> Engine {
            Engine { ready: Vec::new(), tried: Vec::new(), max_steps }
        }
    }

    impl Host for Engine {
        const ATTEMPTS: bool = true;
        fn attempt(&mut self, id: u64) -> Option<CallResult> {
            self.tried.push(id);
            self.ready.contains(&id).then(|| CallResult::Outcome(ok()))
        }
        fn max_steps(&self) -> Option<u64> {
            self.max_steps
        }
    }

    #[test]
    fn the_statement_budget_ends_the_running_lane_and_the_next_begins_one_statement() {
        let lanes = Looping { ended: vec![false; 2], log: Vec::new() };
        let mut scheduler = Scheduler::new(lanes, 1);
        assert_eq!(scheduler.run_with(0.0, SLICE, &mut Engine::new(Some(2))), Turn::Idle);
        let ended = "stopped after 2 statements: is there an endless loop?";
        let log = ["0:step".to_owned(), "0:step".into(), format!("0:error {ended}"), "1:step".into(), format!("1:error {ended}")];
        assert_eq!(scheduler.lanes.log, log);
        assert_eq!(scheduler.steps(), 3);
    }

    #[test]
    fn a_slice_of_one_hands_back_after_every_statement() {
        let lanes = Looping { ended: vec![false], log: Vec::new() };
        let mut scheduler = Scheduler::new(lanes, 1);
        let mut engine = Engine::new(Some(2));
        assert_eq!(scheduler.run_with(0.0, 1, &mut engine), Turn::Again);
        assert_eq!(scheduler.run_with(0.0, 1, &mut engine), Turn::Again);
        // Ending the lane counts as a turn too, so what it reports can be shown first.
        assert_eq!(scheduler.run_with(0.0, 1, &mut engine), Turn::Again);
        assert_eq!(scheduler.lanes.log.len(), 3);
        assert_eq!(scheduler.run_with(0.0, 1, &mut engine), Turn::Idle);
        assert!(scheduler.is_finished());
    }

    #[test]
    fn waiting_calls_are_tried_in_file_order_before_later_ready_lanes() {
        let mut scheduler = Scheduler::new(Scripted::new(&[("server", 1), ("client", 2), ("other", 1)]), 1);
        let mut engine = Engine::new(None);
        assert_eq!(sent_ids(&scheduler.run_with(0.0, SLICE, &mut engine)), [1]);
        scheduler.answer(1, Answer::Pending);
        // The server's call cannot complete yet: the client runs and blocks.
        assert_eq!(sent_ids(&scheduler.run_with(0.0, SLICE, &mut engine)), [2]);
        scheduler.answer(2, Answer::Pending);
        assert_eq!(engine.tried, [1]);
        // Now the server's call completes when tried: it resumes before `other` begins.
        engine.ready.push(1);
        assert_eq!(scheduler.run_with(0.0, 1, &mut engine), Turn::Again);
        assert_eq!(engine.tried, [1, 1]);
        assert_eq!(scheduler.lanes.log.last().map(String::as_str), Some("server:resume"));
    }

    #[test]
    fn a_result_in_hand_resumes_its_lane_without_trying_the_others() {
        let mut scheduler = Scheduler::new(Scripted::new(&[("a", 1), ("b", 1)]), 1);
        let mut engine = Engine::new(None);
        scheduler.run_with(0.0, SLICE, &mut engine);
        scheduler.answer(1, Answer::Pending);
        scheduler.run_with(0.0, SLICE, &mut engine);
        scheduler.answer(2, Answer::Pending);
        assert_eq!(scheduler.run_with(0.0, SLICE, &mut engine), Turn::Idle);
        // b's call completed while everything waited: b resumes, a is not tried.
        scheduler.answer(2, done());
        engine.tried.clear();
        scheduler.run_with(0.0, 1, &mut engine);
        assert!(engine.tried.is_empty());
        assert_eq!(scheduler.lanes.log.last().map(String::as_str), Some("b:resume"));
    }
}
