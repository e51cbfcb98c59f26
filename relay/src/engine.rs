//! Runs a whole script in one session: the `socklab run` engine.
//!
//! The interpreter decides what each lane does and the shared scheduler
//! (`socklab_lang::schedule`) which lane runs; the executor is the same one
//! WebSocket sessions use. A call either completes inside `Executor::start`
//! or waits as a `PendingCall`; a waiting lane's call is retried with one
//! non-blocking attempt in file order before anything waits, so ordinary
//! scripts give the same transcript every run.
//!
//! Lines come out in the kernel's order (`socklab_lang::order`): each has the
//! time its system call or kernel event happened, and a line is printed only
//! once nothing earlier can still come: kernel events arrive up to [`HOLD`]
//! late, and a waiting connect's line sits where its `connect(2)` was made.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use socklab_lang::interp::{CallResult, EndStatus, Interpreter, LaneState, Limits};
use socklab_lang::order::{Key, Merge, Stamps};
use socklab_lang::schedule::{Answer, Host, Scheduler, Turn};
use socklab_lang::Script;
use socklab_wire::protocol::{Event, Ret};
pub use socklab_lang::transcript::{KernelLine, Line};

use crate::exec::{ExecError, Executor, PendingCall, Raw, Started};
use futures::FutureExt;

use crate::sandbox::{Observation, SessionEnv};

/// How long a line is held for kernel events of the same moment still on their way.
const HOLD: Duration = Duration::from_millis(50);

/// Knobs of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// With every unfinished lane waiting and nothing due, how long before the run counts as deadlocked.
    pub deadlock_timeout: Duration,
    /// After the lanes end, how long the kernel may stay quiet before the run's last events are in.
    pub settle_quiet: Duration,
    /// Statements one run may execute, so `while True: pass` ends.
    pub max_steps: u64,
    /// Whether the lanes read the process's standard input (`input()`); if
    /// not, their input is empty.
    pub stdin: bool,
    /// What the script's values and output may take.
    pub limits: Limits,
    /// Library modules written in Python are stepped into: their statements
    /// are steps of their own, reported with their module.
    pub into_library: bool,
    /// Note when and where each call is made ([`RunSummary::calls`]), for a pcapng's comments.
    pub mark_calls: bool,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            deadlock_timeout: Duration::from_secs(5),
            settle_quiet: Duration::from_millis(300),
            max_steps: 1_000_000,
            stdin: false,
            limits: Limits::default(),
            into_library: false,
            mark_calls: false,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Every lane finished normally.
    pub all_finished: bool,
    pub steps: u64,
    /// With [`RunOptions::mark_calls`]: each call as it was made.
    pub calls: Vec<CallMark>,
}

/// A call as the run made it: when, by which lane on which host, at which line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallMark {
    /// Wall-clock nanoseconds since the Unix epoch.
    pub unix_ns: u64,
    pub lane: String,
    pub host: Option<String>,
    pub line: Option<u32>,
}

/// The wall clock, nanoseconds since the Unix epoch (a frame's `unix_ns`).
pub fn unix_now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

impl RunSummary {
    /// The CLI's exit status: 0 when every lane finished, else 1.
    pub fn exit_code(&self) -> i32 {
        if self.all_finished { 0 } else { 1 }
    }
}

/// Run `script` to the end in the session `env`, handing each transcript line to `emit`
/// in the kernel's order, with its time (`ts_us`: microseconds since the session started).
pub async fn run(script: &Script, env: SessionEnv, options: &RunOptions, emit: &mut dyn FnMut(Line, u64)) -> RunSummary {
    let SessionEnv { mut exec, observer, dir: _dir } = env;
    let mut interp = Interpreter::new(script);
    interp.set_limits(options.limits);
    interp.set_library_steps(options.into_library);
    let input = if options.stdin { Some(read_stdin()) } else { None };
    if input.is_none() {
        interp.end_input(None);
    }
    let mut waiting = Vec::new();
    waiting.resize_with(interp.lane_count(), || None);
    let mut run = Run {
        scheduler: Scheduler::new(interp, 1),
        waiting,
        input,
        stamps: Stamps::default(),
        answered: Vec::new(),
        merge: Merge::default(),
    };
    let mut io = Io { exec: &mut exec, observer: &observer, emit };
    let mut calls = Vec::new();
    loop {
        // One statement at a time, so the kernel's lines fall between the statements they follow.
        let turn = {
            let Run { scheduler, waiting, answered, .. } = &mut run;
            let mut host = Attempts { waiting, exec: &mut *io.exec, max_steps: options.max_steps, answered };
            scheduler.run_with(now(), 1, &mut host)
        };
        run.flush(&mut io);
        if let (true, Turn::Call { lane, .. }) = (options.mark_calls, &turn) {
            let interp = run.scheduler.lanes();
            let unix_ns = unix_now_ns();
            let lane = *lane;
            calls.push(CallMark {
                unix_ns,
                lane: interp.lane_name(lane).to_owned(),
                host: interp.lane_host(lane).map(str::to_owned),
                line: interp.current_line(lane),
            });
        }
        match turn {
            Turn::Call { id, lane, call } => match io.exec.start(call) {
                Started::Done(result) => {
                    run.answered(lane, io.exec.called_us());
                    run.scheduler.answer(id, Answer::Done(call_result(result)));
                }
                Started::Pending(pending) => {
                    // Threads and forked children add lanes as the run goes.
                    if run.waiting.len() <= lane {
                        run.waiting.resize_with(lane + 1, || None);
                    }
                    run.waiting[lane] = Some((id, pending));
                    run.scheduler.answer(id, Answer::Pending);
                    run.flush(&mut io);
                }
            },
            Turn::Again => {}
            Turn::Idle if run.scheduler.is_finished() => break,
            Turn::Idle => {
                let progress = run.progress();
                let connecting = run.connecting(io.exec);
                match run.wait(io.observer, options.deadlock_timeout, connecting).await {
                    // The first call to complete resumes its lane, before anything is flushed.
                    Woke::Call(lane, raw) => {
                        if let Some((id, call)) = run.waiting.get_mut(lane).and_then(Option::take) {
                            run.answered(lane, io.exec.at_us(call.called_ns()));
                            let result = io.exec.finish(raw);
                            run.scheduler.answer(id, Answer::Done(call_result(result)));
                        }
                    }
                    Woke::Kernel(event) => {
                        run.hold_kernel(event);
                        run.flush(&mut io);
                    }
                    Woke::Due => run.flush(&mut io),
                    Woke::Input(Some(line)) => run.scheduler.lanes_mut().feed_input(None, &line),
                    Woke::Input(None) => {
                        run.input = None;
                        run.scheduler.lanes_mut().end_input(None);
                    }
                    // A call still moving bytes (a sendall to a slow reader) is not stuck: wait again.
                    Woke::Deadlock if run.progress() != progress => run.flush(&mut io),
                    Woke::Deadlock => {
                        run.waiting.iter_mut().for_each(|call| *call = None);
                        run.scheduler.abandon();
                        run.flush(&mut io);
                    }
                }
            }
        }
    }

    // Connections closed near the end are still changing state (FIN_WAIT2, TIME_WAIT): let them show.
    for event in observer.settle(options.settle_quiet).await {
        run.hold_kernel(event);
    }
    run.merge.release_all().into_iter().for_each(|(line, ts_us)| (io.emit)(line, ts_us));
    let interp = run.scheduler.lanes();
    let all_finished = (0..interp.lane_count()).all(|lane| interp.lane_state(lane) == LaneState::Ended(EndStatus::Finished));
    RunSummary { all_finished, steps: run.scheduler.steps(), calls }
}

/// What the engine adds to the scheduling rule: a waiting call is tried once
/// without waiting, and a run has a statement budget.
struct Attempts<'a> {
    waiting: &'a mut [Option<(u64, PendingCall)>],
    exec: &'a mut Executor,
    max_steps: u64,
    /// Calls answered here: their lane and when their system call was made.
    answered: &'a mut Vec<(usize, Option<u64>)>,
}

impl Host for Attempts<'_> {
    const ATTEMPTS: bool = true;

    fn attempt(&mut self, id: u64) -> Option<CallResult> {
        let lane = self.waiting.iter().position(|slot| slot.as_ref().is_some_and(|(waiting, _)| *waiting == id))?;
        let slot = &mut self.waiting[lane];
        let call = &mut slot.as_mut()?.1;
        let raw = call.attempt(true)?;
        self.answered.push((lane, self.exec.at_us(call.called_ns())));
        *slot = None;
        Some(call_result(self.exec.finish(raw)))
    }

    fn max_steps(&self) -> Option<u64> {
        Some(self.max_steps)
    }
}

/// What the run talks to.
struct Io<'a> {
    exec: &'a mut Executor,
    observer: &'a Observation,
    emit: &'a mut dyn FnMut(Line, u64),
}

enum Woke {
    Call(usize, Result<Raw, ExecError>),
    Kernel(Event),
    /// Held lines are due.
    Due,
    /// A line of standard input (None: its end).
    Input(Option<String>),
    Deadlock,
}

/// Standard input's lines, read on a thread of their own (reading blocks);
/// None after the last.
fn read_stdin() -> tokio::sync::mpsc::UnboundedReceiver<Option<String>> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        loop {
            let mut line = String::new();
            match std::io::BufRead::read_line(&mut stdin, &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(Some(line)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(None);
    });
    rx
}

struct Run {
    scheduler: Scheduler<Interpreter>,
    /// The call each waiting lane is blocked in, with its id.
    waiting: Vec<Option<(u64, PendingCall)>>,
    /// Standard input's lines until its end, when the lanes read it.
    input: Option<tokio::sync::mpsc::UnboundedReceiver<Option<String>>>,
    stamps: Stamps,
    /// Calls answered inside the scheduler's turn, for `stamps`.
    answered: Vec<(usize, Option<u64>)>,
    /// Lines not printed yet, in the kernel's order, with their times.
    merge: Merge<(Line, u64)>,
}

impl Run {
    /// Bytes moved so far by the calls lanes wait in.
    fn progress(&self) -> usize {
        self.waiting.iter().flatten().map(|(_, call)| call.progress()).sum()
    }

    /// Wait for a waiting lane's call to end, a kernel event, or a deadlock.
    async fn wait(&mut self, observer: &Observation, deadlock: Duration, connecting: u64) -> Woke {
        let mut calls: Vec<_> = self
            .waiting
            .iter_mut()
            .enumerate()
            .filter_map(|(lane, call)| call.as_mut().map(|(_, call)| (lane, call)))
            .collect();
        // A call with its own deadline (a timeout, a sleep) will end by itself, and
        // a lane reading input waits for a person: no deadlock.
        let reading = self.input.is_some() && self.scheduler.lanes().wants_input();
        // Held lines that only time will let go of: wake when it has.
        let due = self.merge.oldest().filter(|oldest| *oldest < connecting).map(|oldest| {
            let until = Duration::from_micros(oldest) + HOLD;
            until.saturating_sub(Duration::from_micros(observer.now_us())).max(Duration::from_millis(1))
        });
        let all_open_ended = calls.iter().all(|(_, call)| !call.has_deadline()) && !reading;
        let waits = calls.iter_mut().map(|(lane, call)| {
            let lane = *lane;
            Box::pin(async move { (lane, call.drive().await) })
        });
        let any = async {
            if waits.len() == 0 {
                std::future::pending().await
            } else {
                futures::future::select_all(waits).await.0
            }
        };
        let line = async {
            match self.input.as_mut() {
                Some(rx) => rx.recv().await.flatten(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            (lane, raw) = any => Woke::Call(lane, raw),
            line = line => Woke::Input(line),
            event = observer.next_event() => Woke::Kernel(event),
            () = tokio::time::sleep(due.unwrap_or_default()), if due.is_some() => Woke::Due,
            () = tokio::time::sleep(deadlock), if all_open_ended => Woke::Deadlock,
        }
    }

    /// A call of `lane` was answered; its system call was made at `ts_us`.
    fn answered(&mut self, lane: usize, ts_us: Option<u64>) {
        if let Some(ts_us) = ts_us {
            let name = self.scheduler.lanes().lane_name(lane);
            self.stamps.answered(name, ts_us);
        }
    }

    /// The earliest time a waiting connect's line will have (its `connect(2)`):
    /// nothing from then on may be printed before it.
    fn connecting(&self, exec: &Executor) -> u64 {
        let connects = self.waiting.iter().flatten().filter(|(_, call)| call.is_connect());
        connects.filter_map(|(_, call)| exec.at_us(call.called_ns())).min().unwrap_or(u64::MAX)
    }

    /// Take in what the interpreter reported and the kernel events that have
    /// already come in, and print what is due.
    fn flush(&mut self, io: &mut Io<'_>) {
        for (lane, ts_us) in std::mem::take(&mut self.answered) {
            self.answered(lane, ts_us);
        }
        // Socket created/closed events are for live views (a transcript shows the calls
        // themselves and `Line::kernel` leaves them out); a name resolved to a lab peer is said.
        for event in io.exec.take_events() {
            self.hold_kernel(event);
        }
        for event in self.scheduler.lanes_mut().take_events() {
            let key = self.stamps.key(&event);
            self.merge.push(key, (Line::Interp(event), key.ts_us));
        }
        while let Some(event) = io.observer.next_event().now_or_never() {
            self.hold_kernel(event);
        }
        let settled = io.observer.now_us().saturating_sub(HOLD.as_micros() as u64);
        let due = settled.min(self.connecting(io.exec));
        self.merge.release_before(due).into_iter().for_each(|(line, ts_us)| (io.emit)(line, ts_us));
    }

    fn hold_kernel(&mut self, event: Event) {
        let key = Key::event(&event).unwrap_or_else(|| self.stamps.now());
        if let Some(line) = Line::kernel(&event, |sock| self.scheduler.lanes().socket_name(sock)) {
            self.merge.push(key, (line, key.ts_us));
        }
    }
}

/// `lab_hosts` for the script's hosts (before its first statement), awaited;
/// a refusal in words. A script without hosts needs none.
pub async fn make_hosts(exec: &mut Executor, script: &Script) -> Result<(), String> {
    let hosts = script.hosts();
    if hosts.is_empty() {
        return Ok(());
    }
    let result = match exec.start(socklab_wire::protocol::Call::LabHosts { hosts }) {
        Started::Done(result) => result,
        Started::Pending(mut pending) => {
            let raw = pending.drive().await;
            exec.finish(raw)
        }
    };
    result.map(drop).map_err(|e| e.to_string())
}

/// What the interpreter is fed for a finished call.
pub fn call_result(result: Result<Ret, ExecError>) -> CallResult {
    crate::exec::outcome(result).map_or_else(|refused| CallResult::Rejected { message: refused.message }, CallResult::Outcome)
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
