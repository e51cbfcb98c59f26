//! The relay's side of a client's run: turns `run` requests and the
//! session's answers into the run's calls and updates for the client. No
//! I/O: the session makes the calls [`Out::Session`] holds as if the client
//! had sent them, sends the updates, and feeds back every message it sends.

use socklab_lang::interp::Interpreter;
use socklab_lang::schedule::LaneView;
use socklab_wire::protocol::{ClientMsg, MAX_PCAP_MARKS, MAX_RUN_SOURCE, PcapMark, RUN_IDS, RunCmd, ServerMsg, SockId};

use crate::library::{LibraryView, library_view};
use crate::line::{Line, LineKind};
use crate::page::{PageMsg, RunUpdate};
use crate::runner::{Drive, Runner, choose_step};

/// Statements one run may begin, as `socklab run`'s default: `while True: pass` ends.
pub const MAX_STEPS: u64 = 1_000_000;

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
    /// The lanes, socket names and library views last sent.
    told: (Vec<LaneView>, Vec<(SockId, String)>, Vec<(String, LibraryView)>),
    /// The step budget ran out: drive again once the session has looked around.
    again: bool,
}

impl Default for RunHost {
    fn default() -> RunHost {
        RunHost { runner: None, next_id: RUN_IDS, lane_hosts: Vec::new(), told: Default::default(), again: false }
    }
}

impl RunHost {
    /// A run is in progress.
    pub fn is_running(&self) -> bool {
        self.runner.is_some()
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
            RunCmd::Go { source } => match self.runner.as_mut() {
                Some(runner) => {
                    runner.set_paused(false);
                    let drive = runner.drive(now);
                    self.apply(RunUpdate { paused: Some(false), ..RunUpdate::default() }, drive)
                }
                None => self.start(&source, false, now),
            },
            RunCmd::Step { source, lane, over, follow } => {
                let mut out = Vec::new();
                if self.runner.is_none() {
                    out = self.start(&source, true, now);
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
                out.extend(self.apply(update, drive));
                out
            }
            RunCmd::Pause => match self.runner.as_mut() {
                Some(runner) => {
                    runner.set_paused(true);
                    self.apply(RunUpdate { paused: Some(true), ..RunUpdate::default() }, Drive::default())
                }
                None => Vec::new(),
            },
            RunCmd::Stop => match self.runner.as_mut() {
                Some(runner) => {
                    let mut drive = runner.stop();
                    drive.lines.push(Line::new(LineKind::Note, "stopped"));
                    self.apply(RunUpdate::default(), drive)
                }
                None => Vec::new(),
            },
            RunCmd::Cancel { lane } => {
                let drive = self.runner.as_mut().and_then(|runner| {
                    let index = runner.lane_views().iter().position(|view| view.name == lane)?;
                    Some(runner.cancel_lane(index))
                });
                match drive {
                    Some(drive) => self.apply(RunUpdate::default(), drive),
                    None => Vec::new(),
                }
            }
            RunCmd::Input { lane, line } => match self.runner.as_mut() {
                Some(runner) => {
                    let drive = runner.feed_input(&lane, line.as_deref(), now);
                    self.apply(RunUpdate::default(), drive)
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
        let Some(runner) = self.runner.as_mut().filter(|_| ours) else { return Vec::new() };
        let drive = runner.on_message(msg.clone(), now);
        self.apply(RunUpdate::default(), drive)
    }

    /// Drives a run whose step budget ran out on.
    pub fn again(&mut self, now: f64) -> Vec<Out> {
        self.again = false;
        match self.runner.as_mut() {
            Some(runner) => {
                let drive = runner.drive(now);
                self.apply(RunUpdate::default(), drive)
            }
            None => Vec::new(),
        }
    }

    /// Starts a run (paused: for stepping), or says why the script cannot run.
    fn start(&mut self, source: &str, paused: bool, now: f64) -> Vec<Out> {
        match Runner::from_source(source, self.next_id) {
            Err(diagnostics) => {
                vec![Out::Page(PageMsg::Run(RunUpdate { rejected: diagnostics, ..RunUpdate::default() }))]
            }
            Ok(mut runner) => {
                self.lane_hosts = socklab_lang::lexer::lane_hosts(source);
                self.told = Default::default();
                runner.set_paused(paused);
                runner.set_max_steps(MAX_STEPS);
                let drive = runner.drive(now);
                self.runner = Some(runner);
                self.apply(RunUpdate { started: Some(paused), ..RunUpdate::default() }, drive)
            }
        }
    }

    /// The update for what the runner did, then its calls.
    fn apply(&mut self, mut update: RunUpdate, drive: Drive) -> Vec<Out> {
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
            if lanes != self.told.0 || names != self.told.1 {
                let libraries: Vec<(String, LibraryView)> =
                    lanes.iter().filter_map(|view| Some((view.name.clone(), library_view(&view.stack)?))).collect();
                update.lanes = Some(lanes.clone());
                update.names = Some(names.clone());
                update.libraries = libraries.clone();
                self.told = (lanes, names, libraries);
            }
            if runner.is_finished() {
                self.next_id = runner.next_id();
                self.runner = None;
                self.again = false;
                update.ended = true;
            }
        }
        let mut out = Vec::with_capacity(1 + send.len());
        if !update.is_empty() {
            out.push(Out::Page(PageMsg::Run(update)));
        }
        out.extend(send.into_iter().map(Out::Session));
        out
    }
}
