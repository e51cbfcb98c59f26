//! Runs a whole script in one session: the `socklab run` engine.
//!
//! The interpreter decides what each lane does and the shared scheduler
//! (`socklab_lang::schedule`) which lane runs; the executor is the same one
//! WebSocket sessions use. A call either completes inside `Executor::start`
//! or waits as a `PendingCall`; a waiting lane's call is retried with one
//! non-blocking attempt in file order before anything waits, so ordinary
//! scripts give the same transcript every run.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use socklab_lang::interp::{CallResult, EndStatus, Interpreter, LaneState, Limits};
use socklab_lang::schedule::{Answer, Host, Scheduler, Turn};
use socklab_lang::Script;
use socklab_wire::protocol::{Event, Ret};
pub use socklab_lang::transcript::{KernelLine, Line};

use crate::exec::{ExecError, Executor, PendingCall, Raw, Started};
use futures::FutureExt;

use crate::sandbox::{Observation, SessionEnv};

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

impl RunSummary {
    /// The CLI's exit status: 0 when every lane finished, else 1.
    pub fn exit_code(&self) -> i32 {
        if self.all_finished { 0 } else { 1 }
    }
}

/// Run `script` to the end in the session `env`, handing each transcript line to `emit` as it happens.
pub async fn run(script: &Script, env: SessionEnv, options: &RunOptions, emit: &mut dyn FnMut(Line)) -> RunSummary {
    let SessionEnv { mut exec, observer, dir: _dir } = env;
    let mut interp = Interpreter::new(script);
    interp.set_limits(options.limits);
    let input = if options.stdin { Some(read_stdin()) } else { None };
    if input.is_none() {
        interp.end_input(None);
    }
    let mut waiting = Vec::new();
    waiting.resize_with(interp.lane_count(), || None);
    let mut run = Run { scheduler: Scheduler::new(interp, 1), waiting, input };
    let mut io = Io { exec: &mut exec, observer: &observer, emit };
    let mut calls = Vec::new();
    loop {
        // One statement at a time, so the kernel's lines fall between the statements they follow.
        let turn = {
            let Run { scheduler, waiting, .. } = &mut run;
            let mut host = Attempts { waiting, exec: &mut *io.exec, max_steps: options.max_steps };
            scheduler.run_with(now(), 1, &mut host)
        };
        run.flush(&mut io);
        if let (true, Turn::Call { lane, .. }) = (options.mark_calls, &turn) {
            let interp = run.scheduler.lanes();
            let unix_ns = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
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
                match run.wait(io.observer, options.deadlock_timeout).await {
                    // The first call to complete resumes its lane, before anything is flushed.
                    Woke::Call(lane, raw) => {
                        if let Some((id, _)) = run.waiting.get_mut(lane).and_then(Option::take) {
                            let result = io.exec.finish(raw);
                            run.scheduler.answer(id, Answer::Done(call_result(result)));
                        }
                    }
                    Woke::Kernel(event) => {
                        run.emit_kernel(&event, io.emit);
                        run.flush(&mut io);
                    }
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
        run.emit_kernel(&event, io.emit);
    }
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
}

impl Host for Attempts<'_> {
    const ATTEMPTS: bool = true;

    fn attempt(&mut self, id: u64) -> Option<CallResult> {
        let slot = self.waiting.iter_mut().find(|slot| slot.as_ref().is_some_and(|(waiting, _)| *waiting == id))?;
        let raw = slot.as_mut()?.1.attempt(true)?;
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
    emit: &'a mut dyn FnMut(Line),
}

enum Woke {
    Call(usize, Result<Raw, ExecError>),
    Kernel(Event),
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
}

impl Run {
    /// Bytes moved so far by the calls lanes wait in.
    fn progress(&self) -> usize {
        self.waiting.iter().flatten().map(|(_, call)| call.progress()).sum()
    }

    /// Wait for a waiting lane's call to end, a kernel event, or a deadlock.
    async fn wait(&mut self, observer: &Observation, deadlock: Duration) -> Woke {
        let mut calls: Vec<_> = self
            .waiting
            .iter_mut()
            .enumerate()
            .filter_map(|(lane, call)| call.as_mut().map(|(_, call)| (lane, call)))
            .collect();
        // A call with its own deadline (a timeout, a sleep) will end by itself, and
        // a lane reading input waits for a person: no deadlock.
        let reading = self.input.is_some() && self.scheduler.lanes().wants_input();
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
            () = tokio::time::sleep(deadlock), if all_open_ended => Woke::Deadlock,
        }
    }

    /// Emit what the interpreter reported, then the kernel events that have already come in,
    /// so the transcript interleaves them roughly as they happened.
    fn flush(&mut self, io: &mut Io<'_>) {
        // Socket created/closed events are for live views (a transcript shows the calls
        // themselves and `Line::kernel` leaves them out); a name resolved to a lab peer is said.
        for event in io.exec.take_events() {
            self.emit_kernel(&event, io.emit);
        }
        for event in self.scheduler.lanes_mut().take_events() {
            (io.emit)(Line::Interp(event));
        }
        while let Some(event) = io.observer.next_event().now_or_never() {
            self.emit_kernel(&event, io.emit);
        }
    }

    fn emit_kernel(&self, event: &Event, emit: &mut dyn FnMut(Line)) {
        if let Some(line) = Line::kernel(event, |sock| self.scheduler.lanes().socket_name(sock)) {
            emit(line);
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
