//! Runs a whole script through a session's messages, with the shared
//! scheduler (`socklab_lang::schedule`, which decides which lane steps next).
//! No I/O: the caller sends what `Drive::send` holds and feeds back every
//! message the session answers; the answers become the scheduler's answers,
//! its calls become `call` messages, and both become lines for the page.

use socklab_lang::interp::{CallResult, InterpEvent, Interpreter, Limits};
use socklab_lang::order::{Key, Stamps};
use socklab_lang::schedule::{Answer, Scheduler, Turn};
use socklab_lang::{self as lang, Diagnostic};
use socklab_wire::protocol::{Call, ClientMsg, ErrorCode, Outcome, ServerMsg, SockId};

use crate::line::Line;

pub use socklab_lang::schedule::{LaneStatus, LaneView, Lanes, waits_for};

/// Statements run in one `drive` before handing control back, so that a
/// script that loops without making calls cannot hold up the session.
const STEP_BUDGET: usize = 5_000;

/// What the caller must do after feeding the runner.
#[derive(Debug, Default, PartialEq)]
pub struct Drive {
    /// Messages to send to the relay, in order.
    pub send: Vec<ClientMsg>,
    /// New transcript lines.
    pub lines: Vec<Line>,
    /// The step budget ran out: call `drive` again soon (after yielding to
    /// the browser).
    pub again: bool,
}

impl Drive {
    fn cancel(ids: &[u64], lines: Vec<Line>) -> Drive {
        let mut send = Vec::new();
        for &id in ids {
            send.push(ClientMsg::Cancel { id });
        }
        Drive { send, lines, again: false }
    }
}

/// One run of one script.
pub struct Runner<L> {
    scheduler: Scheduler<L>,
    /// Interpreter events not yet handed to the page (marks and prints), with their place in time.
    seen: Vec<(Key, InterpEvent)>,
    /// Gives interpreter events the time of their calls.
    stamps: Stamps,
    /// Socket handles the relay reported made, to name them for the table.
    socks: Vec<SockId>,
    /// A script with hosts: the `lab_hosts` call made before any statement runs.
    hosts: Option<HostsCall>,
    /// Calls out, by id: the lane that made each and its line.
    made: std::collections::HashMap<u64, (String, u32)>,
    /// Calls answered: when their system call was made (`ts_us`), by which lane, on which line.
    marks: std::collections::VecDeque<(u64, String, u32)>,
    /// Statements the run may begin before its running lane is ended.
    max_steps: Option<u64>,
}

/// The session's hosts being made: the call's id and whether it was sent.
struct HostsCall {
    id: u64,
    hosts: Vec<String>,
    sent: bool,
}

impl Runner<Interpreter> {
    /// Parses `source`; a script with any diagnostic does not run.
    pub fn from_source(source: &str, first_id: u64) -> Result<Self, Vec<Diagnostic>> {
        Runner::with_limits(source, first_id, Limits::default())
    }

    /// [`Runner::from_source`], the run's values and output held to `limits`.
    pub fn with_limits(source: &str, first_id: u64, limits: Limits) -> Result<Self, Vec<Diagnostic>> {
        let parsed = lang::parse(source);
        if !parsed.diagnostics.is_empty() {
            return Err(parsed.diagnostics);
        }
        let mut interpreter = Interpreter::new(&parsed.script);
        interpreter.set_limits(limits);
        let hosts = parsed.script.hosts();
        if hosts.is_empty() {
            return Ok(Runner::new(interpreter, first_id));
        }
        // The hosts come first: their call takes `first_id`, the lanes' calls the ids after it.
        let mut runner = Runner::new(interpreter, first_id + 1);
        runner.hosts = Some(HostsCall { id: first_id, hosts, sent: false });
        Ok(runner)
    }

    /// Brings a line to the named lane's program input (`input()`), or with
    /// None ends it; a lane waiting for it goes on.
    pub fn feed_input(&mut self, lane: &str, line: Option<&str>, now: f64) -> Drive {
        match line {
            Some(text) => self.scheduler.lanes_mut().feed_input(Some(lane), &format!("{text}\n")),
            None => self.scheduler.lanes_mut().end_input(Some(lane)),
        }
        self.drive(now)
    }
}

impl<L: Lanes> Runner<L> {
    pub fn new(lanes: L, first_id: u64) -> Self {
        Runner {
            scheduler: Scheduler::new(lanes, first_id),
            seen: Vec::new(),
            stamps: Stamps::default(),
            socks: Vec::new(),
            hosts: None,
            made: Default::default(),
            marks: Default::default(),
            max_steps: None,
        }
    }

    /// Ends the running lane once the run has begun `max_steps` statements, so `while True: pass` ends.
    pub fn set_max_steps(&mut self, max_steps: u64) {
        self.max_steps = Some(max_steps);
    }

    /// Pauses (steps only on request) or runs on.
    pub fn set_paused(&mut self, paused: bool) {
        self.scheduler.set_paused(paused);
    }

    pub fn is_paused(&self) -> bool {
        self.scheduler.is_paused()
    }

    /// Runs one statement of `lane` (paused mode), if it is Ready.
    pub fn step_lane(&mut self, lane: usize, now: f64) -> Drive {
        self.scheduler.request_step(lane);
        self.drive(now)
    }

    /// Steps `lane` over (paused mode): a function it calls runs to its
    /// return, unless the lane blocks or ends first.
    pub fn step_over_lane(&mut self, lane: usize, now: f64) -> Drive {
        self.scheduler.request_step_over(lane);
        self.drive(now)
    }

    /// Cancels the call `lane` is blocked in; its answer (`cancelled`) raises
    /// OSError in the lane.
    pub fn cancel_lane(&mut self, lane: usize) -> Drive {
        Drive::cancel(&self.scheduler.cancel_lane(lane), Vec::new())
    }

    /// Every lane's name, status and line.
    pub fn lane_views(&self) -> Vec<LaneView> {
        self.scheduler.lane_views()
    }

    /// Statements begun so far.
    pub fn steps(&self) -> u64 {
        self.scheduler.steps()
    }

    /// The id the next run in this session should start from.
    pub fn next_id(&self) -> u64 {
        self.scheduler.next_id()
    }

    /// Every lane has ended (or the run was stopped).
    pub fn is_finished(&self) -> bool {
        self.scheduler.is_finished()
    }

    /// Steps lanes until the run must wait for the relay (or the budget runs out).
    pub fn drive(&mut self, now: f64) -> Drive {
        let mut drive = Drive::default();
        if let Some(hosts) = &mut self.hosts {
            // Nothing runs until the relay made the hosts.
            if !hosts.sent {
                hosts.sent = true;
                let call = Call::LabHosts { hosts: hosts.hosts.clone() };
                drive.send.push(ClientMsg::Call { id: hosts.id, call });
            }
            return drive;
        }
        let turn = match self.max_steps {
            Some(max) => self.scheduler.run_budgeted(now, STEP_BUDGET, max),
            None => self.scheduler.run(now, STEP_BUDGET),
        };
        match turn {
            Turn::Call { id, lane, call } => {
                let lanes = self.scheduler.lanes();
                if let Some(line) = lanes.current_line(lane) {
                    self.made.insert(id, (lanes.lane_name(lane), line));
                }
                drive.send.push(ClientMsg::Call { id, call })
            }
            Turn::Again => drive.again = true,
            Turn::Idle => {}
        }
        drive.lines = self.take_lines();
        drive
    }

    /// Feeds one message from the relay (other than `hello`) and drives on.
    pub fn on_message(&mut self, msg: ServerMsg, now: f64) -> Drive {
        let mut lines = Vec::new();
        if let Some(hosts) = &self.hosts {
            let refused = match &msg {
                ServerMsg::Pending { id } if *id == hosts.id => return Drive::default(),
                ServerMsg::Result { id, outcome: Outcome::Ok { .. }, .. } if *id == hosts.id => None,
                ServerMsg::Result { id, outcome: Outcome::Err { error }, .. } if *id == hosts.id => Some(error.message.clone()),
                ServerMsg::Error { id: Some(id), message, .. } if *id == hosts.id => Some(message.clone()),
                _ => return Drive::default(),
            };
            self.hosts = None;
            if let Some(why) = refused {
                self.scheduler.abandon();
                let mut lines = vec![Line::relay_error(ErrorCode::BadArguments, &format!("cannot place lanes on hosts: {why}"))];
                lines.extend(self.take_lines());
                return Drive { lines, ..Drive::default() };
            }
            return self.drive(now);
        }
        match msg {
            ServerMsg::Pending { id } => self.scheduler.answer(id, Answer::Pending),
            ServerMsg::Result { id, outcome, ts_us } => {
                let made = self.made.remove(&id);
                if let (Some(ts_us), Some((lane, line))) = (ts_us, made) {
                    // Kept until taken (the page takes them after every message), the latest at most.
                    if self.marks.len() >= socklab_wire::protocol::MAX_PCAP_MARKS {
                        self.marks.pop_front();
                    }
                    self.marks.push_back((ts_us, lane, line));
                }
                if let (Some(ts_us), Some(lane)) = (ts_us, self.scheduler.lane_of(id)) {
                    self.stamps.answered(&self.scheduler.lanes().lane_name(lane), ts_us);
                }
                self.scheduler.answer(id, Answer::Done(CallResult::Outcome(outcome)))
            }
            // A refused call of this run stops its lane, which reports it.
            ServerMsg::Error { id: Some(id), message, .. } if self.scheduler.owns(id) => {
                self.scheduler.answer(id, Answer::Done(CallResult::Rejected { message }))
            }
            ServerMsg::Error { code, message, .. } => lines.push(Line::relay_error(code, &message)),
            ServerMsg::Event { event } => {
                if let socklab_wire::protocol::Event::SocketCreated { info } = &event {
                    self.socks.push(info.sock);
                }
                lines.extend(Line::event(&event, |sock| self.scheduler.lanes().socket_name(sock)))
            }
            ServerMsg::Hello { .. } | ServerMsg::Pcap { .. } => {}
        }
        let mut drive = self.drive(now);
        lines.append(&mut drive.lines);
        drive.lines = lines;
        drive
    }

    /// Ends the run: cancels the calls still out and ends every unfinished
    /// lane as blocked.
    pub fn stop(&mut self) -> Drive {
        let ids = self.scheduler.stop();
        Drive::cancel(&ids, self.take_lines())
    }

    /// Ends the run after the connection is lost: there is nobody to cancel with.
    pub fn abandon(&mut self) -> Vec<Line> {
        self.scheduler.abandon();
        self.take_lines()
    }

    fn take_lines(&mut self) -> Vec<Line> {
        let events = self.scheduler.lanes_mut().take_events();
        let mut lines = Vec::with_capacity(events.len());
        for event in events {
            let key = self.stamps.key(&event);
            lines.push(Line::interp(&event).at(key));
            self.seen.push((key, event));
        }
        lines
    }

    /// The calls answered since the last look: when each was made (`ts_us`),
    /// by which lane, on which line (a pcapng's packet comments).
    pub fn take_marks(&mut self) -> Vec<(u64, String, u32)> {
        std::mem::take(&mut self.marks).into()
    }

    /// Interpreter events since the last call, for gutter marks and prints,
    /// each with its place in the kernel's order.
    pub fn take_seen(&mut self) -> Vec<(Key, InterpEvent)> {
        std::mem::take(&mut self.seen)
    }

    /// The script's names for the sockets made so far.
    pub fn socket_names(&self) -> Vec<(SockId, String)> {
        self.socks.iter().filter_map(|&sock| Some((sock, self.socket_name(sock)?))).collect()
    }

    /// The script's name for one socket.
    pub fn socket_name(&self, sock: SockId) -> Option<String> {
        self.scheduler.lanes().socket_name(sock)
    }
}

/// Which lane a Step asked for `asked` steps, and what the page says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepChoice {
    /// The lane to step (index into the lane views), if any can.
    pub lane: Option<usize>,
    /// Why it is not the lane asked for (which lane moved and what the asked
    /// one waits for), or why nothing can step.
    pub note: Option<String>,
}

/// What a lane that cannot step is doing, in plain words.
fn why_not(view: &LaneView) -> String {
    match &view.status {
        LaneStatus::Blocked { what } => match what.split_once(": ") {
            Some((op, rest)) => format!("{} is blocked in {op}(), {rest}", view.name),
            None => format!("{} is blocked ({what})", view.name),
        },
        LaneStatus::Calling => format!("{} waits for the relay to answer its call", view.name),
        LaneStatus::Ended(_) => format!("{} has ended", view.name),
        LaneStatus::Ready => format!("{} is ready", view.name),
    }
}

/// Step always makes progress or says why: the lane `asked` for if it is
/// ready, else (with `follow`) the lane Run would run next (the first ready
/// lane in file order, `docs/language.md`'s rule once the running lane
/// blocked); without `follow`, only why `asked` cannot step.
pub fn choose_step(views: &[LaneView], asked: &str, follow: bool) -> StepChoice {
    let Some(index) = views.iter().position(|view| view.name == asked) else {
        return StepChoice { lane: None, note: None };
    };
    if views[index].status == LaneStatus::Ready {
        return StepChoice { lane: Some(index), note: None };
    }
    let why = why_not(&views[index]);
    if !follow {
        return StepChoice { lane: None, note: Some(format!("{why}.")) };
    }
    match views.iter().position(|view| view.status == LaneStatus::Ready) {
        Some(other) => StepChoice {
            lane: Some(other),
            note: Some(format!("{why}; Step stepped {} instead, the lane Run would run next.", views[other].name)),
        },
        None => {
            let others: Vec<String> = views.iter().filter(|view| view.name != asked).map(why_not).collect();
            let others = if others.is_empty() { String::new() } else { format!("; {}", others.join("; ")) };
            StepChoice { lane: None, note: Some(format!("Nothing can step: {why}{others}.")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

/// Runs a script that makes no socket call to its end with the runner (the
/// scheduler's slices, the interpreter, the transcript lines), without a
/// session: the statements it stepped and what it printed.
fn run_alone(source: &str) -> Result<(u64, String), String> {
    let mut runner = Runner::from_source(source, 1).map_err(|diagnostics| {
        diagnostics.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
    })?;
    let mut printed = String::new();
    loop {
        let drive = runner.drive(0.0);
        for (_, event) in runner.take_seen() {
            if let InterpEvent::Print { text, .. } = event {
                printed.push_str(&text);
                printed.push('\n');
            }
        }
        if !drive.send.is_empty() {
            return Err("the script made a socket call".into());
        }
        if !drive.again {
            break;
        }
    }
    if !runner.is_finished() {
        return Err("the script did not finish".into());
    }
    Ok((runner.steps(), printed))
}
    use socklab_wire::protocol::{Call, ErrorCode, Outcome, Ret};

    fn view(name: &str, status: LaneStatus) -> LaneView {
        LaneView { name: name.into(), status, line: Some(1), stack: Vec::new() }
    }

    #[test]
    fn step_on_a_blocked_lane_steps_the_lane_run_would_pick_and_says_why() {
        let blocked = LaneStatus::Blocked { what: "accept: waiting for a client to connect".into() };
        let views = [view("reader", blocked.clone()), view("sender", LaneStatus::Ready), view("third", LaneStatus::Ready)];
        assert_eq!(choose_step(&views, "sender", true), StepChoice { lane: Some(1), note: None });
        let choice = choose_step(&views, "reader", true);
        assert_eq!(choice.lane, Some(1), "the first ready lane in file order");
        assert_eq!(
            choice.note.as_deref(),
            Some("reader is blocked in accept(), waiting for a client to connect; Step stepped sender instead, the lane Run would run next.")
        );
        let stuck = [view("reader", blocked), view("sender", LaneStatus::Ended(socklab_lang::interp::EndStatus::Finished))];
        let choice = choose_step(&stuck, "reader", true);
        assert_eq!(choice.lane, None);
        assert_eq!(
            choice.note.as_deref(),
            Some("Nothing can step: reader is blocked in accept(), waiting for a client to connect; sender has ended.")
        );
        assert_eq!(choose_step(&stuck, "nobody", true), StepChoice { lane: None, note: None });
        // A lane's own Step button steps that lane or says why it cannot.
        let own = choose_step(&views, "reader", false);
        assert_eq!(own.lane, None);
        assert_eq!(own.note.as_deref(), Some("reader is blocked in accept(), waiting for a client to connect."));
    }

    fn ok() -> Outcome {
        Outcome::Ok { value: Ret::None }
    }

    fn texts(drive: &Drive) -> Vec<&str> {
        drive.lines.iter().map(|line| line.text.as_str()).collect()
    }

    #[test]
    fn a_real_script_runs_through_the_interpreter() {
        let source = "print(\"before\")\nsleep(0.5)\nprint(\"after\")\n";
        let mut runner = Runner::from_source(source, 1).expect("parses");
        let drive = runner.drive(0.0);
        assert_eq!(drive.send, [ClientMsg::Call { id: 1, call: Call::Sleep { seconds: 0.5 } }]);
        let drive = runner.on_message(ServerMsg::Pending { id: 1 }, 0.0);
        assert!(drive.send.is_empty() && !runner.is_finished());
        let drive = runner.on_message(ServerMsg::Result { id: 1, outcome: ok(), ts_us: Some(500_000) }, 0.5);
        assert!(runner.is_finished());
        // The sleep's line has its call's time, and what follows comes after it.
        let keys: Vec<_> = drive.lines.iter().map(|line| line.key.map(|k| k.ts_us)).collect();
        assert!(keys.iter().all(|key| *key == Some(500_000)), "{keys:?}");
        let texts = texts(&drive);
        assert!(texts.contains(&"main| after"), "{texts:?}");
        assert_eq!(texts.last(), Some(&"main: finished"));
    }

    #[test]
    fn a_rejected_call_is_reported_by_its_lane_and_other_errors_by_the_relay() {
        let mut runner = Runner::from_source("sleep(1)\n", 5).expect("parses");
        runner.drive(0.0);
        let rejected = ServerMsg::Error { id: Some(5), code: ErrorCode::UnknownSocket, message: "no socket 9".into() };
        let drive = runner.on_message(rejected, 0.0);
        assert!(runner.is_finished());
        assert!(!texts(&drive).iter().any(|text| text.starts_with("relay error")), "the lane reports it, not the relay");
        let late = ServerMsg::Error { id: Some(5), code: ErrorCode::UnknownSocket, message: "again".into() };
        assert_eq!(texts(&runner.on_message(late, 0.0)), ["relay error (UnknownSocket): again"]);
    }

    #[test]
    fn stop_cancels_the_calls_out() {
        let mut runner = Runner::from_source("sleep(60)\n# lane: b\nsleep(1)\n", 1).expect("parses");
        runner.drive(0.0);
        runner.on_message(ServerMsg::Pending { id: 1 }, 0.0);
        assert_eq!(runner.stop().send, [ClientMsg::Cancel { id: 2 }, ClientMsg::Cancel { id: 1 }]);
        assert!(runner.is_finished());
        assert!(runner.on_message(ServerMsg::Result { id: 1, outcome: ok(), ts_us: None }, 0.0).send.is_empty());
        assert_eq!(runner.next_id(), 3);
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
    fn a_thread_is_a_lane_of_its_own_that_steps_alone() {
        let source = "import threading\ndef work(n):\n    x = n * 2\n    print('worked', x)\nt = threading.Thread(target=work, args=(1,))\nt.start()\nt.join()\nprint('done')\n";
        let mut runner = Runner::from_source(source, 1).expect("parses");
        runner.set_paused(true);
        while runner.lane_views().len() == 1 {
            runner.step_lane(0, 0.0);
        }
        let views = runner.lane_views();
        assert_eq!(views[1].name, "main/thread-1");
        // Not begun: it has no line of the script yet (it is in `threading`'s own code).
        assert_eq!((views[1].status.clone(), views[1].line), (LaneStatus::Ready, None), "{views:?}");
        let mut lines = Vec::new();
        while !matches!(runner.lane_views()[1].status, LaneStatus::Ended(_)) {
            runner.step_lane(1, 0.0);
            let after = runner.lane_views();
            assert_eq!(after[0], views[0], "the thread's step leaves main where it was");
            lines.push(after[1].line);
        }
        // Its first step enters `work` and runs line 3.
        assert_eq!(lines, [Some(4), None], "{:?}", runner.lane_views());
    }

    /// A run is held to its memory and output limits.
    const HOG: &str = "big = []\ntry:\n    while True:\n        big.append('x' * 100000)\n\
                           except MemoryError as e:\n    print('MemoryError', len(big) > 2000)\n\
                           big = None\nwhile True:\n    print('y' * 1000000)\n";

    #[test]
    fn a_run_is_held_to_its_memory_and_output_limits() {
        let (_, printed) = run_alone(HOG).expect("runs to its end");
        assert!(printed.starts_with("MemoryError True\n"), "{}", &printed[..40.min(printed.len())]);
        assert!(printed.len() <= (16 << 20) + 20, "{} bytes printed", printed.len());
    }

    #[test]
    fn a_script_with_hosts_makes_them_before_its_first_statement() {
        let source = "# lane: client @ laptop\ns = socket()\n";
        let mut runner = Runner::from_source(source, 1).expect("parses");
        let drive = runner.drive(0.0);
        let hosts = Call::LabHosts { hosts: vec!["laptop".into()] };
        assert_eq!(drive.send, [ClientMsg::Call { id: 1, call: hosts }]);
        assert!(runner.on_message(ServerMsg::Pending { id: 1 }, 0.0).send.is_empty());
        let drive = runner.on_message(ServerMsg::Result { id: 1, outcome: ok(), ts_us: None }, 0.0);
        let made = Call::Socket { family: 2, sock_type: 1, proto: 0, host: Some("laptop".into()) };
        assert_eq!(drive.send, [ClientMsg::Call { id: 2, call: made }]);
        // Each answered call marks its lane and line, for the capture's comments.
        let info = socklab_wire::protocol::SockInfo { sock: 1, fd: 5, family: 2, sock_type: 1, proto: 0 };
        runner.on_message(ServerMsg::Result { id: 2, outcome: Outcome::Ok { value: Ret::Socket { info } }, ts_us: Some(50) }, 0.0);
        assert_eq!(runner.take_marks(), [(50, "client".to_owned(), 2)]);
        assert!(runner.take_marks().is_empty());

        // Refused (host mode): the run ends, saying why.
        let mut runner = Runner::from_source(source, 1).expect("parses");
        runner.drive(0.0);
        let refused = ServerMsg::Error { id: Some(1), code: ErrorCode::BadArguments, message: "host mode".into() };
        let drive = runner.on_message(refused, 0.0);
        assert!(drive.lines.iter().any(|l| l.text.contains("cannot place lanes on hosts: host mode")), "{:?}", drive.lines);
        assert!(runner.is_finished());
    }

    #[test]
    fn a_script_without_calls_runs_alone() {
        let (steps, printed) = run_alone("n = 0\nfor i in range(3):\n    n += i\nprint(n)\n").expect("runs");
        assert_eq!((steps, printed.as_str()), (9, "3\n"));
        assert!(run_alone("sleep(1)\n").is_err());
        assert!(run_alone("x = (\n").is_err());
    }

    #[test]
    fn a_script_with_diagnostics_does_not_run() {
        let diagnostics = Runner::from_source("x = (\n", 1).err().expect("does not parse");
        assert!(!diagnostics.is_empty());
        assert!(Runner::from_source("s = socket()\ns.close()\n", 1).is_ok());
    }
}
