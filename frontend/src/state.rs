//! The page's state as plain data, changed only by `Action`s through yew's
//! `use_reducer`, so every transition is testable natively.

use litemap::LiteMap;
use std::rc::Rc;

use socklab_lang::Diagnostic;
use socklab_lang::interp::InterpEvent;
use socklab_lang::order::{Key, insert_at};
use socklab_lessons::{self as lessons, Lang, Opened, Verdict};
use socklab_run::page::CallSeen;
use socklab_wire::protocol::{Event, Outcome, Ret, SandboxMode, SockId};
use socklab_wire::tcp::TcpState;
use socklab_wire::tcpinfo::ExpertMark;
use socklab_lang::transcript as run_transcript;
use yew::Reducible;

use crate::links::LinkState;
use crate::plot::Sample;
use socklab_lang::schedule::{LaneStatus, LaneView};
use socklab_run::library::LibraryView;
use socklab_run::line::{Line, LineKind};

/// The TCP echo example of `docs/language.md`, so a first Run works.
pub const ECHO_EXAMPLE: &str = r#"# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5500))
srv.listen(5)
conn, addr = srv.accept()
msg = conn.recv(1024)
conn.send(msg)
conn.close()
srv.close()

# lane: client
cli = socket(AF_INET, SOCK_STREAM)
cli.connect(("127.0.0.1", 5500))
cli.send(b"hello socket world")
reply = cli.recv(1024)
assert reply == b"hello socket world"
cli.close()
"#;

/// Transcript lines kept; older ones are dropped so a script that prints in a
/// loop cannot grow the page without bound.
pub const MAX_LINES: usize = 5_000;

/// The WebSocket connection to the relay.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connecting,
    /// The relay said hello.
    Open { server: String, mode: SandboxMode },
    Closed { reason: String },
}

/// What an executed line's gutter shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// Done, with the call's return value.
    Done(String),
    /// Failed with an errno (name and number) or a runtime error message.
    Failed { errno: Option<String>, errno_num: Option<i32>, message: String },
}

/// The marks on `lines` (a lane's lines), in line order.
pub fn marks_in(marks: &LiteMap<u32, Mark>, lines: std::ops::Range<u32>) -> LiteMap<u32, Mark> {
    let at = |line: u32| marks.find_index(&line).unwrap_or_else(|index| index);
    let start = at(lines.start);
    let end = at(lines.end).max(start);
    LiteMap::from_sorted_store_unchecked(marks.as_slice()[start..end].to_vec())
}

/// One row of the socket table, like a line of `ss`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SocketRow {
    pub sock: SockId,
    /// The script's variable, once known.
    pub name: Option<String>,
    pub fd: i32,
    pub family: i32,
    pub sock_type: i32,
    pub local: Option<String>,
    pub peer: Option<String>,
    /// The kernel's TCP state name, for TCP sockets.
    pub tcp_state: Option<TcpState>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// The fd is closed (the kernel may still hold the connection, e.g. TIME_WAIT).
    pub closed: bool,
}

/// One captured segment for the wire view.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub src: String,
    pub dst: String,
    pub proto: String,
    pub flags: String,
    pub seq: Option<u64>,
    pub ack: Option<u64>,
    pub len: u64,
    /// Wireshark's expert marks (retransmission, fast_retransmission, dup_ack, zero_window, reset).
    pub expert: Vec<ExpertMark>,
    /// The session host that sent it (sessions with hosts).
    pub host: Option<String>,
    /// The last statement stepped before it was sent, by a lane on the host
    /// that sent it (any lane without hosts): lane and line. When it was sent
    /// is what the kernel says; which call made it, it does not.
    pub after: Option<(String, u32)>,
}

/// The latest TCP transition, to animate in the diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub sock: Option<SockId>,
    pub from: TcpState,
    pub to: TcpState,
    /// Counts transitions so the view can restart the animation.
    pub serial: u64,
}

/// What the socket table, the diagram and the wire view show, and where the
/// lanes were: now, or at the moment the timeline is at.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scene {
    pub sockets: Vec<SocketRow>,
    pub transition: Option<Transition>,
    pub segments: Vec<Segment>,
    /// Each lane's last stepped line, by lane name (filled when looking back).
    pub lines: LiteMap<String, u32>,
    /// The steps' gutter marks so far (filled when looking back).
    pub marks: LiteMap<u32, Mark>,
    /// Each lane's status as last recorded, by lane name, with the line a
    /// blocked lane waits on (until it steps again) (filled when looking back).
    pub statuses: LiteMap<String, (LaneStatus, Option<u32>)>,
    /// Each script lane's host (`# lane: NAME @ HOST`), set when a run starts.
    pub lane_hosts: LiteMap<String, String>,
    /// Each lane's last stepped line, the latest last (for segments' `after`).
    recent: Vec<(String, u32)>,
}

impl Scene {
    /// The row for a socket handle, made if new.
    fn row(&mut self, sock: SockId) -> &mut SocketRow {
        if let Some(index) = self.sockets.iter().position(|row| row.sock == sock) {
            return &mut self.sockets[index];
        }
        self.sockets.push(SocketRow { sock, ..SocketRow::default() });
        self.sockets.last_mut().expect("just pushed")
    }

    fn apply(&mut self, what: &Happening) {
        match what {
            Happening::Step { lane, line, mark, .. } => {
                if let Some((_, waits_on)) = self.statuses.get_mut(lane) {
                    *waits_on = None;
                }
                self.lines.insert(lane.clone(), *line);
                self.marks.insert(*line, mark.clone());
                self.recent.retain(|(other, _)| other != lane);
                self.recent.push((lane.clone(), *line));
            }
            Happening::Kernel { event, name } => self.observe(event.clone(), name.clone()),
            Happening::Answer { call, outcome } => self.answered(call.clone(), outcome),
            Happening::Lanes(statuses) => {
                for (lane, status, line) in statuses {
                    let waits_on = if matches!(status, LaneStatus::Blocked { .. }) { *line } else { None };
                    self.statuses.insert(lane.clone(), (status.clone(), waits_on));
                }
            }
        }
    }

    fn observe(&mut self, event: Event, name: Option<String>) {
        match event {
            Event::SocketCreated { info } => {
                let row = self.row(info.sock);
                (row.fd, row.family, row.sock_type) = (info.fd, info.family, info.sock_type);
                row.name = name.or(row.name.take());
            }
            Event::SocketClosed { sock } => self.row(sock).closed = true,
            Event::State { sock, from, to, local, peer, .. } => {
                if let Some(sock) = sock {
                    let row = self.row(sock);
                    row.tcp_state = Some(to);
                    row.local = Some(local);
                    row.peer = Some(peer);
                    if row.name.is_none() {
                        row.name = name;
                    }
                }
                let serial = self.transition.as_ref().map_or(1, |t| t.serial + 1);
                self.transition = Some(Transition { sock, from, to, serial });
            }
            Event::Segment { src, dst, proto, flags, seq, ack, len, expert, host, .. } => {
                // A thread's or a child's lane ("server/t1") runs on its script lane's host.
                let on_sender = |lane: &str| match &host {
                    Some(host) => self.lane_hosts.get(lane.split('/').next().unwrap_or(lane)) == Some(host),
                    None => true,
                };
                let after = self.recent.iter().rev().find(|(lane, _)| on_sender(lane)).cloned();
                self.segments.push(Segment {
                    src,
                    dst,
                    proto,
                    flags,
                    seq: seq.map(u64::from),
                    ack: ack.map(u64::from),
                    len: len as u64,
                    expert,
                    host,
                    after,
                });
                let excess = self.segments.len().saturating_sub(MAX_SEGMENTS);
                self.segments.drain(..excess);
            }
            // Samples are kept by `State` for the plots, not replayed.
            Event::Resolved { .. } | Event::TcpInfo { .. } => {}
        }
    }

    fn answered(&mut self, call: CallSeen, outcome: &Outcome) {
        let Outcome::Ok { value } = outcome else { return };
        if let ("accept", Ret::Accepted { info, addr: Some(addr) }) = (call.op.as_str(), value) {
            let row = self.row(info.sock);
            row.peer.get_or_insert(addr.to_string());
            return;
        }
        let Some(sock) = call.sock else { return };
        match (call.op.as_str(), value) {
            ("bind", _) => self.row(sock).local = call.addr.map(|addr| addr.to_string()),
            ("connect", _) => {
                if let Some(addr) = call.addr {
                    self.row(sock).peer.get_or_insert(addr.to_string());
                }
            }
            ("send" | "sendto", Ret::Int { value }) => self.row(sock).bytes_out += *value as u64,
            ("sendall", _) => self.row(sock).bytes_out += call.data.map_or(0, |data| data.b64.len() as u64),
            ("recv" | "recvfrom", Ret::Bytes { data } | Ret::Datagram { data, .. }) => {
                self.row(sock).bytes_in += data.b64.len() as u64
            }
            _ => {}
        }
    }

    /// Rows get the names the script gave their sockets since (kept in `names`).
    fn name_from(&mut self, names: &[SocketRow]) {
        for row in &mut self.sockets {
            if row.name.is_none() {
                row.name = names.iter().find(|named| named.sock == row.sock).and_then(|named| named.name.clone());
            }
        }
    }
}

/// One thing the session recorded, for the timeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Happening {
    /// A statement ran: its lane, line, gutter mark and log line.
    Step { lane: String, line: u32, mark: Mark, text: String },
    /// The kernel did something; `name` is the script's name for its socket.
    Kernel { event: Event, name: Option<String> },
    /// A call's answer (the table's bytes and addresses).
    Answer { call: CallSeen, outcome: Outcome },
    /// Lanes whose status changed, to what, and the line each was on.
    Lanes(Vec<(String, LaneStatus, Option<u32>)>),
}

impl Happening {
    /// Whether the timeline stops here: a step, a TCP transition, a segment.
    /// The rest (answers, sockets made) goes with the stop after it.
    pub fn is_stop(&self) -> bool {
        matches!(self, Happening::Step { .. } | Happening::Kernel { event: Event::State { .. } | Event::Segment { .. }, .. })
    }
}

/// A happening and its place in the kernel's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub key: Key,
    pub what: Happening,
}

/// Happenings kept for the timeline; older ones fold into the start of it.
pub const MAX_HISTORY: usize = 5_000;

/// Colour scheme: follow the system, or the learner's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

/// Overlays and panels that can be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Help,
    Settings,
    /// The TCP state diagram at a size its labels can be read at.
    Diagram,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The script in the editor.
    pub source: String,
    pub connection: Connection,
    /// A run (or a stepping session) is in progress.
    pub running: bool,
    /// Stepping: lanes run only when stepped.
    pub paused: bool,
    /// The last run's transcript (the event log), or the parse diagnostics that stopped it.
    pub lines: Vec<Line>,
    /// How many lines were dropped from the front (see `MAX_LINES`).
    pub dropped: usize,
    /// The lane editor with focus (index into `lanes::split`), stepped by Step.
    pub focused: usize,
    /// The run's lanes, while a run is in progress or after it.
    pub lanes: Vec<LaneView>,
    /// The library code lanes inside a library function are in, by lane.
    pub libraries: Vec<(String, LibraryView)>,
    /// The script's diagnostics, from the relay's parser (empty until it answered).
    pub diagnostics: Vec<Diagnostic>,
    /// Gutter marks by script line.
    pub marks: LiteMap<u32, Mark>,
    /// Print output by script part (a spawned lane's under its part, prefixed with its name).
    pub prints: LiteMap<String, Vec<String>>,
    /// The socket table, the diagram's last transition and the wire view, now.
    pub scene: Scene,
    /// What the session did, in the kernel's order (calls, transitions, segments).
    pub history: Vec<Recorded>,
    /// The scene before the first of `history` (what was folded out of it).
    pub history_base: Scene,
    /// The timeline's position: how many of `history`'s stops the views
    /// show; `None` follows the session live.
    pub cursor: Option<usize>,
    /// `TCP_INFO` samples of every socket, oldest first, for the plots.
    pub tcp_samples: Vec<Sample>,
    /// Calls sent and not answered, to count bytes and learn addresses.
    pub calls_out: LiteMap<u64, CallSeen>,
    /// The errno whose explanation is open.
    pub explained: Option<i32>,
    pub panel: Option<Panel>,
    pub theme: Theme,
    /// A run started since the lesson opened (its steps can then fail).
    pub ran: bool,
    /// The open lesson, by number.
    pub lesson: Option<u32>,
    /// The open lesson's spec and scripts, once fetched from the relay.
    pub opened: Option<Rc<Opened>>,
    /// Whether the open lesson's starter replaces the script when it comes
    /// (not when a share link opened the lesson beside its own script).
    pub starter_wanted: bool,
    /// The language lessons are shown in.
    pub lang: Lang,
    /// The open lesson's verdicts, one per step, as the relay judged them.
    pub reports: Vec<Verdict>,
    /// What the last Step did instead of stepping the lane asked for, or why nothing stepped.
    pub step_note: Option<String>,
    /// Each link's conditions as the relay last confirmed them, by link label (`links`).
    pub links: LiteMap<String, LinkState>,
    /// `lab_link` calls the page's link controls sent, by id.
    pub link_calls: LiteMap<u64, CallSeen>,
    /// The capture download: asked and not answered, or what its answer said.
    pub pcap: Option<String>,
}

impl Default for State {
    fn default() -> Self {
        State {
            source: ECHO_EXAMPLE.to_owned(),
            connection: Connection::Connecting,
            running: false,
            paused: false,
            lines: Vec::new(),
            dropped: 0,
            focused: 1,
            lanes: Vec::new(),
            libraries: Vec::new(),
            diagnostics: Vec::new(),
            marks: LiteMap::new(),
            prints: LiteMap::new(),
            scene: Scene::default(),
            history: Vec::new(),
            history_base: Scene::default(),
            cursor: None,
            tcp_samples: Vec::new(),
            calls_out: LiteMap::new(),
            explained: None,
            panel: None,
            theme: Theme::System,
            ran: false,
            lesson: None,
            opened: None,
            starter_wanted: false,
            lang: Lang::En,
            reports: Vec::new(),
            step_note: None,
            links: LiteMap::new(),
            link_calls: LiteMap::new(),
            pcap: None,
        }
    }
}

impl State {
    /// Whether Run (or Step) may be pressed.
    pub fn can_run(&self) -> bool {
        matches!(self.connection, Connection::Open { .. }) && (!self.running || self.paused)
    }

    /// How many stops the timeline has.
    pub fn stops(&self) -> usize {
        self.history.iter().filter(|r| r.what.is_stop()).count()
    }

    /// The stop the timeline is at (1-based; 0: before the first), and how many there are.
    pub fn position(&self) -> (usize, usize) {
        let stops = self.stops();
        (self.cursor.unwrap_or(stops).min(stops), stops)
    }

    /// The recorded stop the timeline is at, if it is not live.
    pub fn at_stop(&self) -> Option<&Recorded> {
        let shown = self.cursor?;
        self.history.iter().filter(|r| r.what.is_stop()).nth(shown.checked_sub(1)?)
    }

    /// What the views show at the first `shown` stops of the timeline, derived
    /// from the recorded happenings alone (nothing runs again).
    pub fn scene_at(&self, shown: usize) -> Scene {
        let mut scene = self.history_base.clone();
        let mut stops = 0;
        for recorded in &self.history {
            if stops == shown {
                break;
            }
            scene.apply(&recorded.what);
            stops += usize::from(recorded.what.is_stop());
        }
        scene.name_from(&self.scene.sockets);
        scene
    }

    /// What the views show: the scene at the timeline's position, or now.
    pub fn view(&self) -> std::borrow::Cow<'_, Scene> {
        match self.cursor {
            Some(shown) => std::borrow::Cow::Owned(self.scene_at(shown)),
            None => std::borrow::Cow::Borrowed(&self.scene),
        }
    }

    /// The latest key recorded: where something without a time of its own goes.
    fn last_key(&self) -> Key {
        self.history.last().map(|r| r.key).unwrap_or_default()
    }

    /// Records a happening where its key puts it, and brings the live scene up to date.
    fn record(&mut self, key: Key, what: Happening) {
        let at = insert_at(self.history.iter().map(|r| r.key), key);
        let last = at == self.history.len();
        if last {
            self.scene.apply(&what);
        }
        self.history.insert(at, Recorded { key, what });
        if !last {
            // Came late: the scene is the replay, so a late SYN_SENT does not undo ESTABLISHED.
            self.scene = self.scene_at(usize::MAX);
        }
        let excess = self.history.len().saturating_sub(MAX_HISTORY);
        if excess > 0 {
            let folded: Vec<Recorded> = self.history.drain(..excess).collect();
            let stops = folded.iter().filter(|r| r.what.is_stop()).count();
            for recorded in &folded {
                self.history_base.apply(&recorded.what);
            }
            self.history_base.lines.clear();
            self.history_base.marks.clear();
            self.history_base.statuses.clear();
            self.cursor = self.cursor.map(|c| c.saturating_sub(stops));
        }
    }

    /// Moves the timeline to `shown` stops (None or the end: live).
    fn seek(&mut self, shown: Option<usize>) {
        let stops = self.stops();
        self.cursor = shown.filter(|shown| *shown < stops);
    }

    /// The open lesson's starter becomes the script, its checkpoints judged afresh.
    fn take_starter(&mut self, lesson: &Opened) {
        self.starter_wanted = false;
        if !self.running {
            self.clear_run();
        }
        self.source = lesson.starter.clone();
        self.focused = 1;
    }

    /// A new timeline, starting from the scene now.
    fn clear_history(&mut self) {
        self.history.clear();
        self.history_base = Scene { lines: LiteMap::new(), marks: LiteMap::new(), statuses: LiteMap::new(), ..self.scene.clone() };
        self.cursor = None;
    }

    fn clear_run(&mut self) {
        self.marks.clear();
        self.step_note = None;
        self.prints.clear();
        self.lanes.clear();
        self.calls_out.clear();
    }

    fn observe(&mut self, event: Event, name: Option<String>) {
        let key = Key::event(&event).unwrap_or_else(|| self.last_key());
        if let Event::TcpInfo { sock, info, ts_us } = event {
            self.tcp_samples.push(Sample {
                sock,
                ts_us,
                cwnd: info.cwnd,
                in_flight: info.unacked,
                rtt_us: info.rtt_us,
                total_retrans: info.total_retrans,
            });
            let excess = self.tcp_samples.len().saturating_sub(MAX_SAMPLES);
            self.tcp_samples.drain(..excess);
            return;
        }
        self.record(key, Happening::Kernel { event, name });
    }

    fn answered(&mut self, id: u64, outcome: Outcome, ts_us: Option<u64>) {
        if let Some(call) = self.link_calls.remove(&id) {
            return self.link_answered(&call, Some(&outcome), None);
        }
        let Some(call) = self.calls_out.remove(&id) else { return };
        self.link_answered(&call, Some(&outcome), None);
        let key = ts_us.map_or_else(|| self.last_key(), Key::call);
        self.record(key, Happening::Answer { call, outcome });
    }

    /// A `lab_link` call (the script's or the link controls') answered: with
    /// `ok`, the link has its conditions; else it says why not.
    fn link_answered(&mut self, call: &CallSeen, outcome: Option<&Outcome>, refused: Option<String>) {
        let (Some(a), Some(conditions)) = (call.a.as_deref().filter(|_| call.op == "lab_link"), call.conditions) else { return };
        let hosts = crate::lanes::hosts(&self.source);
        let Some(label) = crate::links::label_of(&hosts, a, call.b.as_deref()) else { return };
        let link = self.links.entry(label).or_default();
        link.waiting = false;
        link.error = match (outcome, refused) {
            (Some(Outcome::Ok { .. }), _) => {
                link.conditions = conditions;
                None
            }
            (Some(Outcome::Err { error }), _) => Some(format!("{} ({})", error.message, error.errno)),
            (Some(Outcome::Cancelled), _) => Some("cancelled".into()),
            (None, why) => why,
        };
    }

    fn interp(&mut self, key: Key, event: InterpEvent) {
        let text = run_transcript::Line::Interp(event.clone()).human();
        match event {
            // A library module's statement, stepped into: its line is not the
            // script's (the lane shows the module's code).
            InterpEvent::Step { module: Some(_), .. } => {}
            InterpEvent::Step { lane, line, ok, result, errno, errno_num, message, .. } => {
                let mark = if ok {
                    Mark::Done(result.unwrap_or_else(|| "None".into()))
                } else {
                    Mark::Failed { errno, errno_num, message: message.unwrap_or_else(|| "failed".into()) }
                };
                self.marks.insert(line, mark.clone());
                self.record(key, Happening::Step { lane, line, mark, text });
            }
            InterpEvent::Print { lane, text, .. } => {
                // A thread's or a forked child's lines go to its part's box,
                // mixed in order as a terminal shows them, under its name.
                let (part, text) = match lane.split_once('/') {
                    Some((part, spawned)) => (part.to_owned(), format!("[{spawned}] {text}")),
                    None => (lane, text),
                };
                let prints = self.prints.entry(part).or_default();
                prints.push(text);
                let excess = prints.len().saturating_sub(MAX_LINES);
                prints.drain(..excess);
            }
            InterpEvent::LaneEnd { .. } => {}
        }
    }
}

/// Segments kept for the wire view.
pub const MAX_SEGMENTS: usize = 500;
/// `TCP_INFO` samples kept for the plots.
pub const MAX_SAMPLES: usize = 2000;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Edited(String),
    Connection(Connection),
    /// The script did not parse: show why, run nothing.
    Rejected(Vec<Line>),
    /// A run started (`paused`: by a Step): the transcript and marks start afresh.
    Started { paused: bool },
    Output(Vec<Line>),
    /// The run ended (every lane done, stopped, or the connection lost).
    Ended,
    /// Interpreter events, each with its place in the kernel's order: gutter marks and prints.
    Interp(Vec<(Key, InterpEvent)>),
    /// The runner's lanes now, and the names of the sockets made so far.
    Lanes { lanes: Vec<LaneView>, names: Vec<(SockId, String)>, libraries: Vec<(String, LibraryView)> },
    /// The script's diagnostics, as the relay's parser gave them.
    Checked(Vec<Diagnostic>),
    /// Calls sent to the relay, by id.
    Sent(Vec<(u64, CallSeen)>),
    /// A call's answer; `ts_us` is when its system call was made.
    Answered { id: u64, outcome: Outcome, ts_us: Option<u64> },
    /// Something the kernel did; `name` is the script's name for its socket.
    Observed { event: Event, name: Option<String> },
    Paused(bool),
    Focus(usize),
    /// Reset: the session's sockets are gone; everything observed is cleared.
    Reset,
    /// Open (or close, with None) an errno's explanation.
    Explain(Option<i32>),
    Panel(Option<Panel>),
    Theme(Theme),
    /// Open a lesson (its starter script replaces the script once the lesson
    /// is fetched), or close the lesson panel.
    Lesson(Option<u32>),
    /// The open lesson, fetched.
    LessonLoaded(Rc<Opened>),
    /// The relay's verdicts on the open lesson's steps.
    Reports(Vec<Verdict>),
    /// Load the open lesson's solution.
    ShowSolution,
    Lang(Lang),
    /// The last Step's note (`socklab_run::runner::choose_step`), or None.
    StepNote(Option<String>),
    /// Move the timeline to show the first N stops (None: live).
    Seek(Option<usize>),
    /// The timeline one stop back (from live: to the one before the last).
    StepBack,
    /// The timeline one stop forward (at the last: live again).
    StepForward,
    /// The link controls sent a `lab_link` call.
    LinkSent { id: u64, call: CallSeen },
    /// A link's form holds something that is not a condition.
    LinkProblem { label: String, why: String },
    /// The relay refused a call (an `error` message) with this id.
    Refused { id: u64, message: String },
    /// The capture download: asked (None), or what its answer said.
    Pcap(Option<String>),
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut state = Rc::unwrap_or_clone(self);
        match action {
            Action::Edited(source) => {
                // Marks and prints describe the text they ran; once it changes
                // (and nothing is running) they would point at the wrong lines.
                if !state.running {
                    state.clear_run();
                }
                state.source = source;
            }
            Action::Connection(connection) => {
                if connection == Connection::Connecting {
                    // A new session: its links are perfect again and nothing was captured.
                    state.links.clear();
                    state.link_calls.clear();
                    state.pcap = None;
                }
                state.connection = connection;
            }
            Action::Rejected(lines) => {
                state.lines = lines;
                state.dropped = 0;
            }
            Action::Started { paused } => {
                state.running = true;
                state.paused = paused;
                state.clear_run();
                state.ran = state.lesson.is_some();
                state.scene.lane_hosts.clear();
                for (lane, host) in crate::lanes::lane_hosts(&state.source) {
                    state.scene.lane_hosts.insert(lane, host);
                }
                state.scene.recent.clear();
                state.clear_history();
                // A record in the log, not a status: it stays when the run has ended.
                let note = if paused { "stepping started" } else { "run started" };
                state.lines = vec![Line::new(LineKind::Note, note)];
                state.dropped = 0;
            }
            Action::Output(lines) => {
                for line in lines {
                    let last = state.lines.last().and_then(|l| l.key).unwrap_or_default();
                    let key = line.key.unwrap_or(last);
                    let at = insert_at(state.lines.iter().map(|l| l.key.unwrap_or_default()), key);
                    state.lines.insert(at, line.at(key));
                }
                let excess = state.lines.len().saturating_sub(MAX_LINES);
                state.lines.drain(..excess);
                state.dropped += excess;
            }
            Action::Ended => {
                state.step_note = None;
                state.running = false;
                state.paused = false;
            }
            Action::Interp(events) => {
                events.into_iter().for_each(|(key, event)| state.interp(key, event));
            }
            Action::Checked(diagnostics) => state.diagnostics = diagnostics,
            Action::Lanes { lanes, names, libraries } => {
                state.libraries = libraries;
                // The timeline records each change of a lane's status, to show it when looking back.
                let changed: Vec<(String, LaneStatus, Option<u32>)> = lanes
                    .iter()
                    .filter(|view| !state.lanes.iter().any(|old| old.name == view.name && old.status == view.status))
                    .map(|view| (view.name.clone(), view.status.clone(), view.line))
                    .collect();
                if state.running && !changed.is_empty() {
                    let key = state.last_key();
                    state.record(key, Happening::Lanes(changed));
                }
                state.lanes = lanes;
                for (sock, name) in names {
                    state.scene.row(sock).name.get_or_insert(name);
                }
            }
            Action::Sent(calls) => {
                for (id, call) in calls {
                    state.calls_out.insert(id, call);
                }
            }
            Action::LinkSent { id, call } => {
                if let Some(a) = call.a.as_deref().filter(|_| call.op == "lab_link")
                    && let Some(label) = crate::links::label_of(&crate::lanes::hosts(&state.source), a, call.b.as_deref())
                {
                    let link = state.links.entry(label).or_default();
                    (link.waiting, link.error) = (true, None);
                }
                state.link_calls.insert(id, call);
            }
            Action::LinkProblem { label, why } => {
                let link = state.links.entry(label).or_default();
                (link.waiting, link.error) = (false, Some(why));
            }
            Action::Refused { id, message } => {
                if let Some(call) = state.link_calls.remove(&id).or_else(|| state.calls_out.remove(&id)) {
                    state.link_answered(&call, None, Some(message));
                }
            }
            Action::Pcap(said) => state.pcap = Some(said.unwrap_or_else(|| "asking the relay for the capture…".into())),
            Action::Answered { id, outcome, ts_us } => state.answered(id, outcome, ts_us),
            Action::Observed { event, name } => state.observe(event, name),
            Action::Reports(reports) => state.reports = reports,
            Action::Paused(paused) => state.paused = paused,
            Action::StepNote(note) => state.step_note = note,
            Action::Seek(shown) => state.seek(shown),
            Action::StepBack => {
                let (at, _) = state.position();
                state.seek(Some(at.saturating_sub(1)));
            }
            Action::StepForward => {
                let (at, _) = state.position();
                state.seek(state.cursor.map(|_| at + 1));
            }
            Action::Focus(lane) => state.focused = lane,
            Action::Reset => {
                state.clear_run();
                state.scene = Scene::default();
                state.tcp_samples.clear();
                state.clear_history();
                state.running = false;
                state.paused = false;
                state.lines = vec![Line::new(LineKind::Note, "reset: every socket of the session is closed")];
                state.dropped = 0;
                state.ran = false;
                state.reports.clear();
            }
            Action::Explain(errno) => state.explained = errno,
            Action::Panel(panel) => state.panel = panel,
            Action::Theme(theme) => state.theme = theme,
            Action::Lesson(number) => {
                state.lesson = number.filter(|&n| lessons::menu().iter().any(|title| title.number == n));
                if state.opened.as_ref().map(|o| o.number) != state.lesson {
                    state.opened = None;
                }
                state.starter_wanted = state.lesson.is_some();
                // The relay judges the lesson afresh (`RunCmd::Lesson`).
                state.ran = false;
                state.reports.clear();
                if let Some(opened) = state.opened.clone() {
                    // Opened again: its starter is here already.
                    state.take_starter(&opened);
                }
            }
            Action::LessonLoaded(opened) => {
                if state.lesson == Some(opened.number) && state.opened.as_ref() != Some(&opened) {
                    state.opened = Some(opened.clone());
                    if state.starter_wanted {
                        state.take_starter(&opened);
                    }
                }
            }
            Action::ShowSolution => {
                if let Some(lesson) = state.opened.clone() {
                    if !state.running {
                        state.clear_run();
                    }
                    state.source = lesson.solution.clone();
                    state.focused = 1;
                }
            }
            Action::Lang(lang) => state.lang = lang,
        }
        Rc::new(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_wire::protocol::Call;

    fn apply(state: State, actions: impl IntoIterator<Item = Action>) -> State {
        let state = actions.into_iter().fold(Rc::new(state), Reducible::reduce);
        Rc::unwrap_or_clone(state)
    }

    /// Events in the order given, all of one moment.
    fn keyed(events: Vec<InterpEvent>) -> Vec<(Key, InterpEvent)> {
        events.into_iter().map(|event| (Key::default(), event)).collect()
    }

    fn open() -> Connection {
        Connection::Open { server: "socklab 0.1.0".into(), mode: SandboxMode::Namespace }
    }

    #[test]
    fn run_needs_an_open_connection_and_no_run_in_progress() {
        let state = State::default();
        assert!(!state.can_run());
        let state = apply(state, [Action::Connection(open())]);
        assert!(state.can_run());
        let state = apply(state, [Action::Started { paused: false }]);
        assert!(!state.can_run());
        let state = apply(state, [Action::Paused(true)]);
        assert!(state.can_run(), "a paused run can step or run on");
        let state = apply(state, [Action::Ended]);
        assert!(state.can_run());
        let state = apply(state, [Action::Connection(Connection::Closed { reason: "gone".into() })]);
        assert!(!state.can_run());
    }

    #[test]
    fn a_run_replaces_the_transcript_and_appends_to_it() {
        let line = |text: &str| Line::new(LineKind::Step, text);
        let state = apply(
            State::default(),
            [Action::Output(vec![line("old")]), Action::Started { paused: false }, Action::Output(vec![line("a"), line("b")])],
        );
        let texts: Vec<&str> = state.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["run started", "a", "b"]);
        let state = apply(state, [Action::Rejected(vec![Line::new(LineKind::Problem, "1:1: bad")])]);
        assert_eq!(state.lines.len(), 1);
    }

    #[test]
    fn the_transcript_is_bounded() {
        let lines = (0..MAX_LINES + 7).map(|i| Line::new(LineKind::Print, i.to_string())).collect();
        let state = apply(State::default(), [Action::Output(lines)]);
        assert_eq!(state.lines.len(), MAX_LINES);
        assert_eq!(state.dropped, 7);
        assert_eq!(state.lines[0].text, "7");
    }

    #[test]
    fn the_editor_starts_with_the_echo_example() {
        let state = apply(State::default(), [Action::Edited("x = 1\n".into())]);
        assert_eq!(state.source, "x = 1\n");
        assert!(ECHO_EXAMPLE.contains("# lane: client"));
    }

    fn step(line: u32, ok: bool) -> InterpEvent {
        InterpEvent::Step {
            lane: "client".into(),
            line,
            call: "cli.connect(addr)".into(),
            ok,
            result: ok.then(|| "None".into()),
            errno: (!ok).then(|| "ECONNREFUSED".into()),
            errno_num: (!ok).then_some(111),
            message: (!ok).then(|| "Connection refused".into()),
            function: None,
            depth: None,
            module: None,
        }
    }

    #[test]
    fn steps_leave_gutter_marks_and_prints_go_to_their_lane() {
        let print = InterpEvent::Print { lane: "server".into(), line: 4, text: "hi".into() };
        let state = apply(State::default(), [Action::Interp(keyed(vec![step(3, true), step(14, false), print]))]);
        assert_eq!(state.marks[&3], Mark::Done("None".into()));
        assert!(matches!(&state.marks[&14], Mark::Failed { errno: Some(name), errno_num: Some(111), .. } if name == "ECONNREFUSED"));
        assert_eq!(state.prints.get("server").unwrap()[..], ["hi"]);
        let thread = InterpEvent::Print { lane: "server/thread-1".into(), line: 9, text: "served".into() };
        let state = apply(state, [Action::Interp(keyed(vec![thread]))]);
        assert_eq!(state.prints.get("server").unwrap()[..], ["hi", "[thread-1] served"], "a thread prints into its part's box, named");
        let state = apply(state, [Action::Started { paused: true }]);
        assert!(state.marks.is_empty() && state.prints.is_empty() && state.paused);
        let state = apply(state, [Action::Interp(keyed(vec![step(3, true)])), Action::Ended, Action::Edited("x = 1\n".into())]);
        assert!(state.marks.is_empty(), "an edit after a run clears its marks");
    }

    #[test]
    fn a_library_step_is_logged_but_marks_no_line_of_the_script() {
        let mut library = step(68, true);
        if let InterpEvent::Step { module, .. } = &mut library {
            *module = Some("socketserver".into());
        }
        let state = apply(State::default(), [Action::Interp(keyed(vec![library]))]);
        assert!(state.marks.is_empty());
    }

    #[test]
    fn the_socket_table_follows_events_and_answers() {
        use socklab_wire::protocol::{Addr, Bytes, SockInfo};
        let info = SockInfo { sock: 1, fd: 7, family: 2, sock_type: 1, proto: 0 };
        let state_event = |from: &str, to: &str| Event::State {
            sock: Some(1),
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
            local: "127.0.0.1:41000".into(),
            peer: "127.0.0.1:5500".into(),
            ts_us: 1,
        };
        let addr = Addr::Inet { host: "127.0.0.1".into(), port: 5500, flowinfo: None, scope_id: None };
        let state = apply(
            State::default(),
            [
                Action::Observed { event: Event::SocketCreated { info }, name: None },
                Action::Lanes { lanes: Vec::new(), names: vec![(1, "cli".into())], libraries: Vec::new() },
                Action::Sent(vec![
                    (4, (&Call::Connect { sock: 1, addr }).into()),
                    (5, (&Call::Send { sock: 1, data: Bytes::new(*b"hey"), flags: 0 }).into()),
                ]),
                Action::Observed { event: state_event("SYN_SENT", "ESTABLISHED"), name: None },
                Action::Answered { id: 4, outcome: Outcome::Ok { value: Ret::None }, ts_us: None },
                Action::Answered { id: 5, outcome: Outcome::Ok { value: Ret::Int { value: 3 } }, ts_us: None },
                Action::Observed { event: Event::SocketClosed { sock: 1 }, name: None },
                Action::Observed { event: state_event("FIN_WAIT2", "TIME_WAIT"), name: None },
            ],
        );
        let row = &state.scene.sockets[0];
        assert_eq!(row.name.as_deref(), Some("cli"));
        assert_eq!((row.fd, row.bytes_out, row.closed), (7, 3, true));
        assert_eq!(row.tcp_state, Some(TcpState::TimeWait));
        assert_eq!(row.peer.as_deref(), Some("127.0.0.1:5500"));
        assert_eq!(state.scene.transition.as_ref().map(|t| (t.to, t.serial)), Some((TcpState::TimeWait, 2)));
        let state = apply(state, [Action::Reset]);
        assert!(state.scene.sockets.is_empty() && state.scene.transition.is_none());
    }

    fn ran(lane: &str, line: u32, call: &str, result: &str) -> InterpEvent {
        InterpEvent::Step {
            lane: lane.into(),
            line,
            call: call.into(),
            ok: true,
            result: Some(result.into()),
            errno: None,
            errno_num: None,
            message: None,
            function: None,
            depth: None,
            module: None,
        }
    }

    /// Lesson `number` as the relay serves it.
    fn loaded(number: u32) -> Action {
        Action::LessonLoaded(Rc::new(lessons::get(number).unwrap().opened()))
    }

    #[test]
    fn a_lesson_loads_its_starter_and_its_solution() {
        let lesson = lessons::get(2).unwrap();
        let state = apply(State::default(), [Action::Lesson(Some(2))]);
        assert_eq!((state.lesson, state.source.as_str(), state.reports.len()), (Some(2), ECHO_EXAMPLE, 0), "until it is fetched");
        // Another lesson's arrival changes nothing.
        let state = apply(state, [loaded(3)]);
        assert_eq!((state.opened.as_ref(), state.source.as_str()), (None, ECHO_EXAMPLE));
        let state = apply(state, [loaded(2)]);
        assert_eq!(state.lesson, Some(2));
        assert_eq!(state.source, lesson.starter);
        assert_eq!(state.opened.as_ref().map(|o| o.steps.len()), Some(lesson.steps().len()));
        // The relay's verdicts; a run makes a step that did not pass a failed one.
        let verdicts = vec![Verdict { passed: false, reason: "not yet".into(), evidence: None }; lesson.steps().len()];
        let state = apply(state, [Action::Reports(verdicts.clone())]);
        assert_eq!((&state.reports, state.ran), (&verdicts, false));
        let state = apply(state, [Action::Connection(open()), Action::Started { paused: false }, Action::Ended]);
        assert!(state.ran);
        let state = apply(state, [Action::ShowSolution]);
        assert_eq!(state.source, lesson.solution);
        let state = apply(state, [Action::Lesson(None)]);
        assert_eq!(state.lesson, None);
        assert!(state.reports.is_empty());
        assert_eq!(state.source, lesson.solution, "closing the panel keeps the script");
        // Opened again, its starter comes again, judged afresh.
        let state = apply(state, [Action::Lesson(Some(2)), loaded(2)]);
        assert_eq!((state.source.as_str(), state.reports.len(), state.ran), (lesson.starter, 0, false));
        let state = apply(state, [Action::Lesson(Some(99))]);
        assert_eq!((state.lesson, state.opened.as_ref()), (None, None));
    }

    fn tcp(sock: SockId, from: &str, to: &str, ts_us: u64) -> Event {
        Event::State {
            sock: Some(sock),
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
            local: "127.0.0.1:40000".into(),
            peer: "127.0.0.1:5500".into(),
            ts_us,
        }
    }

    fn wire(flags: &str, ts_us: u64) -> Event {
        Event::Segment {
            src: "127.0.0.1:40000".into(),
            dst: "127.0.0.1:5500".into(),
            proto: "TCP".into(),
            flags: flags.into(),
            seq: Some(0),
            ack: None,
            len: 0,
            ts_us,
            expert: Vec::new(),
            host: None,
        }
    }

    fn observed(event: Event) -> Action {
        Action::Observed { event, name: Some("cli".into()) }
    }

    /// The client's connect as the page hears it: the step and the segments
    /// first, the transitions late (the tracepoint is read by another thread).
    fn handshake_out_of_order() -> State {
        use socklab_wire::protocol::{Addr, SockInfo};
        let info = SockInfo { sock: 1, fd: 7, family: 2, sock_type: 1, proto: 0 };
        let connect = Call::Connect { sock: 1, addr: Addr::inet("127.0.0.1", 5500) };
        apply(
            State::default(),
            [
                Action::Connection(open()),
                Action::Started { paused: true },
                Action::Observed { event: Event::SocketCreated { info }, name: None },
                Action::Interp(vec![(Key::call(10), ran("client", 13, "cli = socket(AF_INET, SOCK_STREAM)", "<socket>"))]),
                Action::Sent(vec![(2, (&connect).into())]),
                Action::Answered { id: 2, outcome: Outcome::Ok { value: Ret::None }, ts_us: Some(100) },
                Action::Interp(vec![(Key::call(100), ran("client", 14, "cli.connect(addr)", "None"))]),
                observed(wire("SYN", 102)),
                observed(wire("SYN,ACK", 105)),
                observed(wire("ACK", 108)),
                Action::Interp(vec![(Key::call(200), ran("client", 15, "cli.send(b'hi')", "2"))]),
                // Late: the transitions, the second before the first.
                observed(tcp(1, "SYN_SENT", "ESTABLISHED", 106)),
                observed(tcp(1, "CLOSE", "SYN_SENT", 101)),
            ],
        )
    }

    #[test]
    fn a_segment_names_the_last_line_stepped_before_it_on_its_sender() {
        let state = handshake_out_of_order();
        let after: Vec<_> = state.scene.segments.iter().map(|s| s.after.clone()).collect();
        assert_eq!(after, vec![Some(("client".to_owned(), 14)); 3]);
        // With hosts, the last line of a lane on the sending host, not the last line of all.
        let source = "# lane: server @ srv\nx = 1\n# lane: client @ cli\ny = 2\n";
        let sent_by = |host: &str, ts_us| match wire("SYN", ts_us) {
            Event::Segment { src, dst, proto, flags, seq, ack, len, expert, .. } => {
                Event::Segment { src, dst, proto, flags, seq, ack, len, ts_us, expert, host: Some(host.into()) }
            }
            _ => unreachable!(),
        };
        let state = apply(
            State::default(),
            [
                Action::Edited(source.into()),
                Action::Connection(open()),
                Action::Started { paused: true },
                Action::Interp(vec![(Key::call(10), ran("client", 4, "y = 2", "2"))]),
                Action::Interp(vec![(Key::call(20), ran("server", 2, "x = 1", "1"))]),
                observed(sent_by("cli", 30)),
                observed(sent_by("srv", 31)),
            ],
        );
        let after: Vec<_> = state.scene.segments.iter().map(|s| s.after.clone()).collect();
        assert_eq!(after, [Some(("client".to_owned(), 4)), Some(("server".to_owned(), 2))]);
    }

    #[test]
    fn late_kernel_events_go_where_their_time_puts_them() {
        let state = handshake_out_of_order();
        // The page's log, as the runner words it, is in the kernel's order
        // (the relay's judge keeps its transcript so too: `socklab_run::judge`).
        let line = |text: &str, key: Option<Key>| Line { key, ..Line::new(LineKind::Event, text) };
        let state = apply(
            state,
            [Action::Output(vec![
                line("send", Some(Key::call(200))),
                line("SYN_SENT", Key::event(&tcp(1, "CLOSE", "SYN_SENT", 101))),
                line("connect", Some(Key::call(100))),
                line("a note", None),
            ])],
        );
        let texts: Vec<&str> = state.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["stepping started", "connect", "SYN_SENT", "send", "a note"]);
        // The table shows the latest state by the kernel's clock, not the last to arrive.
        assert_eq!(state.scene.sockets[0].tcp_state, Some(TcpState::Established));
        assert_eq!(state.scene.transition.as_ref().map(|t| t.to), Some(TcpState::Established));
        let flags: Vec<&str> = state.scene.segments.iter().map(|s| s.flags.as_str()).collect();
        assert_eq!(flags, ["SYN", "SYN,ACK", "ACK"]);
    }

    #[test]
    fn a_lane_gets_the_marks_on_its_lines() {
        let marks: LiteMap<u32, Mark> = [1, 3, 4, 7].into_iter().map(|line| (line, Mark::Done(line.to_string()))).collect();
        let lines = |range: std::ops::Range<u32>| marks_in(&marks, range).keys().copied().collect::<Vec<_>>();
        assert_eq!(lines(3..7), [3, 4]);
        assert_eq!(lines(2..8), [3, 4, 7]);
        assert_eq!(lines(0..1), [] as [u32; 0]);
        assert_eq!(lines(5..5), [] as [u32; 0]);
        assert_eq!(marks_in(&marks, 1..4).get(&3), Some(&Mark::Done("3".into())));
    }

    #[test]
    fn the_timeline_shows_the_past_from_what_was_recorded() {
        let state = handshake_out_of_order();
        // Stops: socket step, connect step, SYN_SENT, SYN, SYN-ACK, ESTABLISHED, ACK, send step.
        assert_eq!(state.position(), (8, 8));
        assert!(state.cursor.is_none());
        let live = state.view().into_owned();

        // Back to just after the handshake's ACK: the send has not happened.
        let state = apply(state, [Action::StepBack]);
        assert_eq!(state.position(), (7, 8));
        let then = state.view();
        assert_eq!(then.sockets[0].tcp_state, Some(TcpState::Established));
        assert_eq!(then.segments.len(), 3);
        assert_eq!(then.lines.get("client"), Some(&14), "the lane was at its connect");
        assert_eq!(state.at_stop().map(|r| r.key.ts_us), Some(108));

        // Back before the SYN-ACK: SYN_SENT, one segment.
        let state = apply(state, [Action::Seek(Some(4))]);
        let then = state.view();
        assert_eq!(then.sockets[0].tcp_state, Some(TcpState::SynSent));
        assert_eq!(then.segments.len(), 1);
        assert_eq!(then.transition.as_ref().map(|t| (t.from, t.to)), Some((TcpState::Close, TcpState::SynSent)));
        assert_eq!(then.sockets[0].name.as_deref(), Some("cli"));
        assert_eq!(then.marks.get(&14), Some(&Mark::Done("None".into())));
        assert!(!then.marks.contains_key(&15));

        // The start: nothing yet; back stays there.
        let state = apply(state, [Action::Seek(Some(0)), Action::StepBack]);
        assert_eq!(state.position(), (0, 8));
        assert!(state.view().sockets.is_empty());
        // Forward one by one, to live again past the last.
        let state = (0..8).fold(state, |state, _| apply(state, [Action::StepForward]));
        assert!(state.cursor.is_none(), "{:?}", state.cursor);
        assert_eq!(*state.view(), live);
        let state = apply(state, [Action::StepForward, Action::Seek(Some(99))]);
        assert!(state.cursor.is_none());

        // What comes while looking back is recorded; the view stays put. A run starts afresh.
        let state = apply(state, [Action::Seek(Some(2)), observed(wire("FIN,ACK", 300))]);
        assert_eq!(state.position(), (2, 9));
        assert!(state.view().segments.is_empty());
        let state = apply(state, [Action::Ended, Action::Started { paused: false }]);
        assert_eq!(state.position(), (0, 0));
        assert_eq!(state.history_base.sockets.len(), 1, "the sockets already made stay");
    }

    #[test]
    fn looking_back_a_lane_has_the_status_recorded_then() {
        let view = |name: &str, status: LaneStatus| {
            let line = if matches!(status, LaneStatus::Blocked { .. }) { Some(6) } else { Some(1) };
            LaneView { name: name.into(), status, line, stack: Vec::new() }
        };
        let blocked = LaneStatus::Blocked { what: "accept: waiting for a client to connect".into() };
        let lanes = |server: LaneStatus| Action::Lanes { lanes: vec![view("server", server), view("client", LaneStatus::Ready)], names: Vec::new(), libraries: Vec::new() };
        let state = apply(
            State::default(),
            [
                Action::Started { paused: false },
                lanes(LaneStatus::Ready),
                Action::Interp(vec![(Key::call(10), ran("server", 5, "srv.listen(5)", "None"))]),
                // The accept waits: the server is blocked while the client goes on.
                lanes(blocked.clone()),
                Action::Interp(vec![(Key::call(20), ran("client", 13, "cli = socket(AF_INET, SOCK_STREAM)", "<socket>"))]),
                Action::Interp(vec![(Key::call(30), ran("client", 14, "cli.connect(addr)", "None"))]),
                lanes(LaneStatus::Ended(socklab_lang::interp::EndStatus::Finished)),
            ],
        );
        let status_at = |stop: usize| {
            let then = apply(state.clone(), [Action::Seek(Some(stop))]);
            crate::timeline::lane_views(&then.view()).into_iter().find(|v| v.name == "server").map(|v| (v.status, v.line))
        };
        assert_eq!(status_at(1), Some((LaneStatus::Ready, Some(5))), "at its listen, the server was ready");
        assert_eq!(status_at(2), Some((blocked, Some(6))), "at the client's socket, the server was blocked in accept, on its line");
    }

    #[test]
    fn the_timeline_is_bounded_and_folds_its_oldest() {
        let mut actions = vec![Action::Started { paused: false }];
        actions.extend((0..MAX_HISTORY as u64 + 10).map(|ts| observed(wire("ACK", ts))));
        let state = apply(State::default(), actions);
        assert_eq!(state.history.len(), MAX_HISTORY);
        let state = apply(state, [Action::Seek(Some(0))]);
        assert_eq!(state.view().segments.len(), 10, "the folded segments are where the timeline starts");
    }
}
