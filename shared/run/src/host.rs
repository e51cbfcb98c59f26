//! The relay's side of a client's run: turns `run` requests and the
//! session's answers into the run's calls and updates for the client. No
//! I/O: the session makes the calls [`Out::Session`] holds as if the client
//! had sent them, sends the updates, and feeds back every message it sends.

use socklab_lang::interp::{InterpEvent, Interpreter, Limits};
use socklab_lang::schedule::LaneView;
use socklab_wire::protocol::{ClientMsg, MAX_PCAP_MARKS, MAX_RUN_SOURCE, PcapMark, RUN_IDS, RunCmd, ServerMsg, SockId};

use socklab_lessons::Lang;

use crate::judge::Judge;
use crate::library::library_view;
use crate::line::{Line, LineKind};
use crate::page::{PageMsg, RunUpdate};
use crate::runner::{Drive, Runner, choose_step};

/// Statements one run may begin, as `socklab run`'s default: `while True: pass` ends.
pub const MAX_STEPS: u64 = 1_000_000;

/// Statements a session's runs may begin, refilled at this rate per second
/// up to [`MAX_STEPS`]: a client that starts run after run of an endless
/// loop gets a tenth of its first run's work each second after.
pub const STEPS_PER_SECOND: f64 = 100_000.0;

/// Below this many statements left, a new run is refused until the budget refills.
const MIN_STEPS: f64 = 10_000.0;

/// What one run's values and output may take (`socklab run` allows 256 MiB
/// locally; a relay runs many sessions' scripts at once).
pub const LIMITS: Limits = Limits { memory: 64 << 20, output: 16 << 20 };

/// Transcript lines one update carries at most (the page keeps as many): a
/// run's earlier lines beyond them are counted, not sent.
pub const MAX_UPDATE_LINES: usize = 5_000;

/// While a run goes on without waiting, its updates are gathered for this
/// long (seconds) and sent as one.
const GATHER: f64 = 0.05;

/// What the session must do, in order.
#[derive(Debug, PartialEq)]
pub enum Out {
    /// Send to the client.
    Page(PageMsg),
    /// Act on as if the client had sent it (the run's calls and cancels).
    Session(ClientMsg),
}

/// A session's run, if any, and what the client has been told of it.
pub struct RunHost {
    runner: Option<Runner<Interpreter>>,
    /// Call ids must not repeat within a session, so runs continue the count.
    next_id: u64,
    /// Each lane's host, for the run in progress.
    lane_hosts: Vec<(String, String)>,
    /// The lanes and socket names last sent.
    told: (Vec<LaneView>, Vec<(SockId, String)>),
    /// The step budget ran out: drive again once the session has looked around.
    again: bool,
    /// Statements the session may still begin, as of `budget_at` (seconds),
    /// and those the run in progress has begun and were already counted.
    budget: f64,
    budget_at: f64,
    counted: u64,
    /// An update gathered while the run goes on, and since when.
    held: Option<(RunUpdate, f64)>,
    /// The open lesson's checkpoints on the session's runs.
    judge: Judge,
}

impl Default for RunHost {
    fn default() -> RunHost {
        RunHost {
            runner: None,
            next_id: RUN_IDS,
            lane_hosts: Vec::new(),
            told: Default::default(),
            again: false,
            budget: MAX_STEPS as f64,
            budget_at: f64::NEG_INFINITY,
            counted: 0,
            held: None,
            judge: Judge::default(),
        }
    }
}

impl RunHost {
    /// A run is in progress.
    pub fn is_running(&self) -> bool {
        self.runner.is_some()
    }

    /// What the session sends should come to [`RunHost::on_message`]: a run
    /// is in progress, or a lesson is open (the kernel's events after a run
    /// still count for its checkpoints).
    pub fn is_watching(&self) -> bool {
        self.is_running() || self.judge.is_open()
    }

    /// The run's step budget ran out and it should be driven on ([`RunHost::again`]).
    pub fn wants_again(&self) -> bool {
        self.again && self.runner.is_some()
    }

    /// Acts on a request; an error names what is wrong with it (nothing changed).
    pub fn command(&mut self, cmd: RunCmd, now: f64) -> Result<Vec<Out>, String> {
        let source_len = match &cmd {
            RunCmd::Go { source } | RunCmd::Step { source, .. } | RunCmd::Check { source } => source.len(),
            _ => 0,
        };
        if source_len > MAX_RUN_SOURCE {
            return Err(format!("the script is {source_len} bytes; a run takes at most {MAX_RUN_SOURCE}"));
        }
        Ok(match cmd {
            RunCmd::Check { source } => {
                vec![Out::Page(PageMsg::Checked { diagnostics: socklab_lang::parse(&source).diagnostics })]
            }
            RunCmd::Lesson { number, lang } => {
                let lang = match lang.as_deref().map(|name| (name, Lang::parse(name))) {
                    None => Lang::En,
                    Some((_, Some(lang))) => lang,
                    Some((name, None)) => return Err(format!("no lessons in language {name:?}: there are en and zh")),
                };
                if let Some(number) = number.filter(|&n| socklab_lessons::get(n).is_none()) {
                    return Err(format!("there is no lesson {number}: lessons are 1 to {}", socklab_lessons::all().len()));
                }
                self.judge.open(number, lang);
                let reports = self.judge.verdicts();
                vec![Out::Page(PageMsg::Run(RunUpdate { reports, ..RunUpdate::default() }))]
            }
            RunCmd::Go { source } => match self.runner.as_mut() {
                Some(runner) => {
                    runner.set_paused(false);
                    let drive = runner.drive(now);
                    self.apply(RunUpdate { paused: Some(false), ..RunUpdate::default() }, drive, now)
                }
                None => self.start(&source, false, now)?,
            },
            RunCmd::Step { source, lane, over, follow } => {
                let mut out = Vec::new();
                if self.runner.is_none() {
                    out = self.start(&source, true, now)?;
                }
                let Some(runner) = self.runner.as_mut() else { return Ok(out) };
                runner.set_paused(true);
                // A blocked lane does not dead-end Step: the lane Run would pick moves, and the page says so.
                let choice = choose_step(&runner.lane_views(), &lane, follow);
                let drive = match choice.lane {
                    Some(index) if over => runner.step_over_lane(index, now),
                    Some(index) => runner.step_lane(index, now),
                    None => Drive::default(),
                };
                let update = RunUpdate { paused: Some(true), stepped: true, note: choice.note, ..RunUpdate::default() };
                out.extend(self.apply(update, drive, now));
                out
            }
            RunCmd::Pause => match self.runner.as_mut() {
                Some(runner) => {
                    runner.set_paused(true);
                    self.apply(RunUpdate { paused: Some(true), ..RunUpdate::default() }, Drive::default(), now)
                }
                None => Vec::new(),
            },
            RunCmd::Stop => match self.runner.as_mut() {
                Some(runner) => {
                    let mut drive = runner.stop();
                    drive.lines.push(Line::new(LineKind::Note, "stopped"));
                    self.apply(RunUpdate::default(), drive, now)
                }
                None => Vec::new(),
            },
            RunCmd::Cancel { lane } => {
                let drive = self.runner.as_mut().and_then(|runner| {
                    let index = runner.lane_views().iter().position(|view| view.name == lane)?;
                    Some(runner.cancel_lane(index))
                });
                match drive {
                    Some(drive) => self.apply(RunUpdate::default(), drive, now),
                    None => Vec::new(),
                }
            }
            RunCmd::Input { lane, line } => match self.runner.as_mut() {
                Some(runner) => {
                    let drive = runner.feed_input(&lane, line.as_deref(), now);
                    self.apply(RunUpdate::default(), drive, now)
                }
                None => Vec::new(),
            },
        })
    }

    /// Feeds a message the session sent the client. The run's own answers
    /// and the kernel's events drive it; the client's own calls and errors
    /// outside any call are not the run's (the client shows those itself).
    pub fn on_message(&mut self, msg: &ServerMsg, now: f64) -> Vec<Out> {
        let ours = match msg {
            ServerMsg::Pending { id } | ServerMsg::Result { id, .. } => *id >= RUN_IDS,
            ServerMsg::Error { id, .. } => id.is_some_and(|id| id >= RUN_IDS),
            ServerMsg::Event { .. } => true,
            ServerMsg::Hello { .. } | ServerMsg::Pcap { .. } => false,
        };
        if let ServerMsg::Event { event } = msg {
            self.judge.kernel(event);
        }
        match self.runner.as_mut().filter(|_| ours) {
            Some(runner) => {
                let drive = runner.on_message(msg.clone(), now);
                self.apply(RunUpdate::default(), drive, now)
            }
            // No run: the verdicts alone, if the event changed them.
            None => match self.judge.verdicts() {
                Some(reports) => vec![Out::Page(PageMsg::Run(RunUpdate { reports: Some(reports), ..RunUpdate::default() }))],
                None => Vec::new(),
            },
        }
    }

    /// Drives a run whose step budget ran out on.
    pub fn again(&mut self, now: f64) -> Vec<Out> {
        self.again = false;
        match self.runner.as_mut() {
            Some(runner) => {
                let drive = runner.drive(now);
                self.apply(RunUpdate::default(), drive, now)
            }
            None => Vec::new(),
        }
    }

    /// Starts a run (paused: for stepping), or says why the script cannot
    /// run: diagnostics in an update, a spent budget as an error.
    fn start(&mut self, source: &str, paused: bool, now: f64) -> Result<Vec<Out>, String> {
        let refill = (now - self.budget_at).max(0.0) * STEPS_PER_SECOND;
        self.budget = (self.budget + refill).min(MAX_STEPS as f64);
        self.budget_at = now;
        if self.budget < MIN_STEPS {
            let wait = (MIN_STEPS - self.budget) / STEPS_PER_SECOND;
            return Err(format!(
                "this session's runs began {MAX_STEPS} statements lately; a run may start again in {wait:.1} s"
            ));
        }
        Ok(match Runner::with_limits(source, self.next_id, LIMITS) {
            Err(diagnostics) => {
                vec![Out::Page(PageMsg::Run(RunUpdate { rejected: diagnostics, ..RunUpdate::default() }))]
            }
            Ok(mut runner) => {
                self.lane_hosts = socklab_lang::lexer::lane_hosts(source);
                self.told = Default::default();
                self.counted = 0;
                runner.set_paused(paused);
                runner.set_max_steps(self.budget as u64);
                let drive = runner.drive(now);
                self.runner = Some(runner);
                self.judge.clear();
                self.apply(RunUpdate { started: Some(paused), ..RunUpdate::default() }, drive, now)
            }
        })
    }

    /// The update for what the runner did, then its calls. While the run
    /// goes on without a call, updates are gathered for [`GATHER`].
    fn apply(&mut self, mut update: RunUpdate, drive: Drive, now: f64) -> Vec<Out> {
        let Drive { send, mut lines, again } = drive;
        self.again = again;
        update.sent = send
            .iter()
            .filter_map(|msg| match msg {
                ClientMsg::Call { id, call } => Some((*id, call.clone())),
                _ => None,
            })
            .collect();
        update.lines.append(&mut lines);
        if let Some(runner) = self.runner.as_mut() {
            let steps = runner.steps();
            self.budget -= steps.saturating_sub(self.counted) as f64;
            self.counted = steps;
            for (ts_us, lane, line) in runner.take_marks() {
                let part = lane.split('/').next().unwrap_or_default();
                if let Some((_, host)) = self.lane_hosts.iter().find(|(name, _)| name == part) {
                    update.marks.push(PcapMark { ts_us, host: host.clone(), lane, line });
                }
            }
            let excess = update.marks.len().saturating_sub(MAX_PCAP_MARKS);
            update.marks.drain(..excess);
            update.seen = runner.take_seen();
            let lanes = runner.lane_views();
            let names = runner.socket_names();
            if names != self.told.1 {
                self.judge.named(&names);
            }
            for (key, event) in &update.seen {
                self.judge.interp(*key, event);
            }
            if lanes != self.told.0 || names != self.told.1 {
                update.libraries = lanes.iter().filter_map(|view| Some((view.name.clone(), library_view(&view.stack)?))).collect();
                update.lanes = Some(lanes.clone());
                update.names = Some(names.clone());
                update.steps = Some(runner.steps());
                self.told = (lanes, names);
            }
            if runner.is_finished() {
                self.next_id = runner.next_id();
                self.runner = None;
                self.again = false;
                update.ended = true;
            }
        }
        update.reports = self.judge.verdicts();
        if let Some((held, since)) = self.held.take() {
            update = merge(held, update);
            if self.again && send.is_empty() && now - since < GATHER {
                self.held = Some((update, since));
                return Vec::new();
            }
        } else if self.again && send.is_empty() {
            self.held = Some((update, now));
            return Vec::new();
        }
        bound(&mut update);
        let mut out = Vec::with_capacity(1 + send.len());
        if !update.is_empty() {
            out.push(Out::Page(PageMsg::Run(update)));
        }
        out.extend(send.into_iter().map(Out::Session));
        out
    }
}

/// `later` after `earlier`, as one update.
fn merge(mut earlier: RunUpdate, later: RunUpdate) -> RunUpdate {
    let RunUpdate { started, rejected, paused, stepped, note, sent, lines, seen, lanes, names, steps, libraries, marks, reports, ended } = later;
    earlier.started = started.or(earlier.started);
    earlier.rejected.extend(rejected);
    earlier.paused = paused.or(earlier.paused);
    if stepped {
        (earlier.stepped, earlier.note) = (true, note);
    }
    earlier.sent.extend(sent);
    earlier.lines.extend(lines);
    earlier.seen.extend(seen);
    if lanes.is_some() {
        (earlier.lanes, earlier.names, earlier.steps, earlier.libraries) = (lanes, names, steps, libraries);
    }
    earlier.marks.extend(marks);
    earlier.reports = reports.or(earlier.reports);
    earlier.ended |= ended;
    earlier
}

/// Keeps an update's lines to the last [`MAX_UPDATE_LINES`], saying how many
/// went, and its interpreter events to as many steps (prints and lane ends all stay).
fn bound(update: &mut RunUpdate) {
    let excess = update.lines.len().saturating_sub(MAX_UPDATE_LINES);
    if excess > 0 {
        update.lines.drain(..excess);
        let key = update.lines.first().and_then(|line| line.key);
        let mut said = Line::new(LineKind::Note, format!("… {excess} lines of this run not sent (an update carries the last {MAX_UPDATE_LINES})"));
        said.key = key;
        update.lines.insert(0, said);
    }
    let steps = update.seen.iter().filter(|(_, event)| matches!(event, InterpEvent::Step { .. })).count();
    let mut drop = steps.saturating_sub(MAX_UPDATE_LINES);
    if drop > 0 {
        update.seen.retain(|(_, event)| {
            let step = matches!(event, InterpEvent::Step { .. });
            let gone = step && drop > 0;
            drop -= usize::from(gone);
            !gone
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_wire::protocol::{Call, Outcome, Ret};

    fn update(outs: &[Out]) -> &RunUpdate {
        outs.iter()
            .find_map(|out| match out {
                Out::Page(PageMsg::Run(update)) => Some(update),
                _ => None,
            })
            .expect("an update")
    }

    #[test]
    fn a_run_announces_its_call_then_makes_it_and_ends_on_the_answer() {
        let mut host = RunHost::default();
        let outs = host.command(RunCmd::Go { source: "sleep(0.5)\nprint('done')\n".into() }, 100.0).unwrap();
        let id = RUN_IDS;
        assert_eq!(update(&outs).started, Some(false));
        assert_eq!(update(&outs).sent, [(id, Call::Sleep { seconds: 0.5 })]);
        assert_eq!(outs.last(), Some(&Out::Session(ClientMsg::Call { id, call: Call::Sleep { seconds: 0.5 } })));
        assert!(host.is_running());
        // Not the run's: a client's own call's answer.
        assert!(host.on_message(&ServerMsg::Pending { id: 7 }, 100.0).is_empty());
        let answered = ServerMsg::Result { id, outcome: Outcome::Ok { value: Ret::None }, ts_us: Some(5) };
        let outs = host.on_message(&answered, 100.5);
        let done = update(&outs);
        assert!(done.ended && !host.is_running());
        assert!(done.lines.iter().any(|line| line.text == "main| done"), "{:?}", done.lines);
        assert_eq!(done.steps, Some(2));
        // The next run goes on from the session's ids.
        let outs = host.command(RunCmd::Step { source: "sleep(1)\n".into(), lane: "main".into(), over: false, follow: false }, 101.0).unwrap();
        assert_eq!(outs.last(), Some(&Out::Session(ClientMsg::Call { id: id + 1, call: Call::Sleep { seconds: 1.0 } })));
        let outs = host.command(RunCmd::Stop, 101.0).unwrap();
        assert_eq!(outs.last(), Some(&Out::Session(ClientMsg::Cancel { id: id + 1 })));
    }

    #[test]
    fn the_open_lesson_is_judged_on_runs_and_on_the_events_after_them() {
        let mut host = RunHost::default();
        assert!(!host.is_watching());
        assert!(host.command(RunCmd::Lesson { number: Some(8), lang: Some("klingon".into()) }, 0.0).unwrap_err().contains("\"klingon\""));
        assert!(host.command(RunCmd::Lesson { number: Some(99), lang: None }, 0.0).unwrap_err().contains("no lesson 99"));
        assert!(!host.is_watching(), "a refused request changes nothing");
        let outs = host.command(RunCmd::Lesson { number: Some(8), lang: Some("zh".into()) }, 0.0).unwrap();
        let told = update(&outs).reports.clone().unwrap();
        assert_eq!(told.len(), 6);
        assert!(told.iter().all(|v| !v.passed));
        assert!(host.is_watching() && !host.is_running());
        // A run that names its socket `cli`, then ends.
        let outs = host.command(RunCmd::Go { source: "cli = socket(AF_INET, SOCK_STREAM)\nsleep(1)\n".into() }, 1.0).unwrap();
        let id = RUN_IDS;
        assert!(update(&outs).reports.is_none(), "nothing changed yet");
        let info = socklab_wire::protocol::SockInfo { sock: 4, fd: 9, family: 2, sock_type: 1, proto: 0 };
        host.on_message(&ServerMsg::Event { event: socklab_wire::protocol::Event::SocketCreated { info } }, 1.1);
        let made = ServerMsg::Result { id, outcome: Outcome::Ok { value: Ret::Socket { info } }, ts_us: Some(5) };
        let outs = host.on_message(&made, 1.1);
        assert_eq!(update(&outs).names, Some(vec![(4, "cli".to_owned())]));
        let slept = ServerMsg::Result { id: id + 1, outcome: Outcome::Ok { value: Ret::None }, ts_us: Some(6) };
        assert!(update(&host.on_message(&slept, 2.1)).ended);
        // The kernel goes on after the run: its transitions still count.
        let state = |from: &str, to: &str, ts_us| ServerMsg::Event {
            event: socklab_wire::protocol::Event::State {
                sock: Some(4),
                from: from.parse().unwrap(),
                to: to.parse().unwrap(),
                local: "127.0.0.1:40000".into(),
                peer: "127.0.0.1:5500".into(),
                ts_us,
            },
        };
        let outs = host.on_message(&state("ESTABLISHED", "FIN_WAIT1", 10), 2.0);
        let verdicts = update(&outs).reports.clone().unwrap();
        assert!(verdicts[0].passed && !verdicts[1].passed, "{verdicts:?}");
        let closed = ServerMsg::Event { event: socklab_wire::protocol::Event::SocketClosed { sock: 4 } };
        assert!(host.on_message(&closed, 2.0).is_empty(), "the same verdicts are not told again");
        // Closed, the lesson is no longer judged and the page is told so.
        let outs = host.command(RunCmd::Lesson { number: None, lang: None }, 3.0).unwrap();
        assert_eq!(update(&outs).reports, Some(Vec::new()));
        assert!(!host.is_watching());
    }

    #[test]
    fn checks_parse_errors_and_oversized_scripts_change_nothing() {
        let mut host = RunHost::default();
        let outs = host.command(RunCmd::Check { source: "x = (\n".into() }, 0.0).unwrap();
        assert!(matches!(&outs[..], [Out::Page(PageMsg::Checked { diagnostics })] if diagnostics.len() == 1));
        let outs = host.command(RunCmd::Go { source: "x = (\n".into() }, 0.0).unwrap();
        assert_eq!((update(&outs).rejected.len(), host.is_running()), (1, false));
        let big = "#".repeat(MAX_RUN_SOURCE + 1);
        let refused = host.command(RunCmd::Go { source: big }, 0.0).unwrap_err();
        assert_eq!(refused, format!("the script is {} bytes; a run takes at most {MAX_RUN_SOURCE}", MAX_RUN_SOURCE + 1));
        assert!(!host.is_running());
        assert!(host.command(RunCmd::Pause, 0.0).unwrap().is_empty(), "no run: nothing to pause");
    }

    #[test]
    fn endless_runs_end_and_the_sessions_statements_refill_with_time() {
        let mut host = RunHost { budget: 20_000.0, budget_at: 10.0, ..RunHost::default() };
        let mut outs = host.command(RunCmd::Go { source: "while True:\n    pass\n".into() }, 10.0).unwrap();
        let (mut lines, mut updates) = (Vec::new(), 0);
        let mut now = 10.0;
        loop {
            for out in &outs {
                if let Out::Page(PageMsg::Run(update)) = out {
                    assert!(update.lines.len() <= MAX_UPDATE_LINES + 1 && update.seen.len() <= MAX_UPDATE_LINES + 1);
                    lines.extend(update.lines.iter().map(|line| line.text.clone()));
                    updates += 1;
                }
            }
            if !host.wants_again() {
                break;
            }
            // Four slices of statements go by in each gathering.
            now += GATHER / 4.0;
            outs = host.again(now);
        }
        assert!(!host.is_running());
        // 20,000 statements come in four slices of 5,000, gathered into one update.
        assert_eq!(updates, 1, "{lines:?}");
        assert!(lines.iter().any(|line| line.starts_with("… ") && line.ends_with(" lines of this run not sent (an update carries the last 5000)")));
        assert!(lines.iter().any(|line| line.contains("stopped after 20000 statements: is there an endless loop?")), "{lines:?}");
        let refused = host.command(RunCmd::Go { source: "pass\n".into() }, now).unwrap_err();
        assert!(refused.starts_with("this session's runs began 1000000 statements lately; a run may start again in 0."), "{refused}");
        assert!(host.command(RunCmd::Go { source: "pass\n".into() }, now + 1.0).is_ok(), "a second later, 100,000 more");
    }
}
