//! Runs a whole script in one session: the `socklab run` engine.
//!
//! The interpreter (shared, sans-IO) decides what each lane does; the
//! executor is the same one WebSocket sessions use. Scheduling follows the
//! Run order of `docs/language.md`: the first lane in file order that can make progress runs
//! until it ends or makes a call that cannot complete at once. A waiting
//! lane's call is retried (one non-blocking attempt) in file order before
//! anything waits, so ordinary scripts give the same transcript every run.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use socklab_lang::interp::{CallResult, EndStatus, Interpreter, LaneState, Yield};
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
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            deadlock_timeout: Duration::from_secs(5),
            settle_quiet: Duration::from_millis(300),
            max_steps: 1_000_000,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Every lane finished normally.
    pub all_finished: bool,
    pub steps: u64,
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
    let mut run = Run {
        interp: Interpreter::new(script),
        waiting: Vec::new(),
        steps: 0,
        options: options.clone(),
    };
    let lanes = run.interp.lane_count();
    run.waiting.resize_with(lanes, || None);

    let mut io = Io { exec: &mut exec, observer: &observer, emit };
    loop {
        let progressed = run.advance_one(&mut io);
        run.flush(&mut io);
        if progressed {
            continue;
        }
        if (0..lanes).all(|lane| matches!(run.interp.lane_state(lane), LaneState::Ended(_))) {
            break;
        }
        let progress = run.progress();
        match run.wait(io.observer).await {
            Woke::Call(lane, raw) => {
                run.waiting[lane] = None;
                let result = io.exec.finish(raw);
                let next = run.interp.resume(lane, call_result(result), now());
                run.continue_lane(lane, next, &mut io);
            }
            Woke::Kernel(event) => run.emit_kernel(event, io.emit),
            // A call still moving bytes (a sendall to a slow reader) is not stuck: wait again.
            Woke::Deadlock if run.progress() != progress => {}
            Woke::Deadlock => {
                for lane in 0..lanes {
                    if !matches!(run.interp.lane_state(lane), LaneState::Ended(_)) {
                        run.waiting[lane] = None;
                        run.interp.end_blocked(lane);
                    }
                }
            }
        }
        run.flush(&mut io);
    }

    // Connections closed near the end are still changing state (FIN_WAIT2, TIME_WAIT): let them show.
    for event in observer.settle(options.settle_quiet).await {
        run.emit_kernel(event, io.emit);
    }
    let all_finished =
        (0..lanes).all(|lane| run.interp.lane_state(lane) == LaneState::Ended(EndStatus::Finished));
    RunSummary { all_finished, steps: run.steps }
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
    Deadlock,
}

struct Run {
    interp: Interpreter,
    /// The call each waiting lane is blocked in.
    waiting: Vec<Option<PendingCall>>,
    steps: u64,
    options: RunOptions,
}

impl Run {
    /// Let the first lane (in file order) that can make progress run. False when none can.
    fn advance_one(&mut self, io: &mut Io<'_>) -> bool {
        for lane in 0..self.interp.lane_count() {
            match self.interp.lane_state(lane) {
                LaneState::Ended(_) => {}
                LaneState::Ready => {
                    let next = self.step(lane);
                    self.continue_lane(lane, next, io);
                    return true;
                }
                LaneState::Waiting => {
                    let Some(call) = self.waiting[lane].as_mut() else { continue };
                    if let Some(raw) = call.attempt(true) {
                        self.waiting[lane] = None;
                        let result = io.exec.finish(raw);
                        let next = self.interp.resume(lane, call_result(result), now());
                        self.continue_lane(lane, next, io);
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Bytes moved so far by the calls lanes wait in.
    fn progress(&self) -> usize {
        self.waiting.iter().flatten().map(PendingCall::progress).sum()
    }

    fn step(&mut self, lane: usize) -> Yield {
        self.steps += 1;
        self.interp.step(lane, now())
    }

    /// Keep running `lane` until it ends or waits.
    fn continue_lane(&mut self, lane: usize, mut next: Yield, io: &mut Io<'_>) {
        loop {
            self.flush(io);
            match next {
                Yield::Stepped => match self.interp.lane_state(lane) {
                    LaneState::Ready if self.steps < self.options.max_steps => next = self.step(lane),
                    LaneState::Ready => {
                        self.interp.end_with_error(
                            lane,
                            format!("stopped after {} statements: is there an endless loop?", self.options.max_steps),
                        );
                        return;
                    }
                    LaneState::Waiting | LaneState::Ended(_) => return,
                },
                Yield::Call(call) => match io.exec.start(call) {
                    Started::Done(result) => next = self.interp.resume(lane, call_result(result), now()),
                    Started::Pending(pending) => {
                        self.waiting[lane] = Some(pending);
                        return;
                    }
                },
            }
        }
    }

    /// Wait for a waiting lane's call to end, a kernel event, or a deadlock.
    async fn wait(&mut self, observer: &Observation) -> Woke {
        let deadlock = self.options.deadlock_timeout;
        let mut calls: Vec<_> = self
            .waiting
            .iter_mut()
            .enumerate()
            .filter_map(|(lane, call)| call.as_mut().map(|call| (lane, call)))
            .collect();
        // A call with its own deadline (a timeout, a sleep) will end by itself: no deadlock.
        let all_open_ended = calls.iter().all(|(_, call)| !call.has_deadline());
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
        tokio::select! {
            (lane, raw) = any => Woke::Call(lane, raw),
            event = observer.next_event() => Woke::Kernel(event),
            () = tokio::time::sleep(deadlock), if all_open_ended => Woke::Deadlock,
        }
    }

    /// Emit what the interpreter reported, then the kernel events that have already come in,
    /// so the transcript interleaves them roughly as they happened.
    fn flush(&mut self, io: &mut Io<'_>) {
        // Socket created/closed events are for live views; a transcript shows the calls themselves.
        io.exec.take_events();
        for event in self.interp.take_events() {
            (io.emit)(Line::Interp(event));
        }
        while let Some(event) = io.observer.next_event().now_or_never() {
            self.emit_kernel(event, io.emit);
        }
    }

    fn emit_kernel(&self, event: Event, emit: &mut dyn FnMut(Line)) {
        let name = |sock: Option<u32>| {
            sock.and_then(|s| self.interp.socket_name(s)).unwrap_or_else(|| {
                sock.map_or_else(|| "(closed)".to_string(), |s| format!("socket#{s}"))
            })
        };
        match event {
            Event::State { sock, from, to, local, peer, .. } => {
                emit(Line::Kernel(KernelLine::State { socket: name(sock), from: from.to_string(), to: to.to_string(), local, peer }));
            }
            Event::Segment { src, dst, proto, flags, seq, ack, len, .. } => {
                emit(Line::Kernel(KernelLine::Segment { src, dst, proto, flags, seq, ack, len }));
            }
            Event::SocketCreated { .. } | Event::SocketClosed { .. } => {}
        }
    }
}

/// What the interpreter is fed for a finished call.
pub fn call_result(result: Result<Ret, ExecError>) -> CallResult {
    crate::exec::outcome(result).map_or_else(|refused| CallResult::Rejected { message: refused.message }, CallResult::Outcome)
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
