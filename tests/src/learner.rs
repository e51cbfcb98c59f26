//! A simulated learner: a native WebSocket client that takes a lesson the way
//! the page does. It opens a session and has the relay run the lesson's
//! solution (`run` requests, as the page's buttons send them), pressing Run,
//! or Step with human think time between statements; it reads the run's
//! updates and the calls' answers, and judges the run with the lesson's own
//! checkpoints.
//!
//! Everything that is not the script's own doing is a failure: a protocol
//! `error` message (`limit_exceeded` and `internal` included), an answer that
//! does not come, an answer to a call never made, a lane that does not finish,
//! a failed checkpoint. Errno results are the script's own: the lessons
//! expect some of them. A failed checkpoint on what the kernel was seen doing
//! (`state`, `segment`) in an otherwise good run is kept apart, as an
//! observation miss, so a test can tell the relay's observation from the rest.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use socklab_lang::interp::{EndStatus, InterpEvent};
use socklab_lang::schedule::{LaneStatus, LaneView};
use socklab_lang::transcript::Line;
use socklab_lessons::{self as lessons, Checkpoint, Lang, Lesson, Verdict};
use socklab_run::page::{FromRelay, PageMsg, RunUpdate};
use socklab_wire::protocol::{ClientMsg, Event, PROTOCOL_VERSION, RunCmd, ServerMsg, SockId};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Longest wait for any answer while calls are out. A lesson's call waits for
/// another lane (which the learner steps meanwhile) or at most 5 s
/// (`select(…, 5)`), so this only trips on a relay that has stopped answering.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// After the lanes end, how long the kernel may stay quiet before the run's
/// last state events are taken to be in (the engine's `settle_quiet`).
const SETTLE_QUIET: Duration = Duration::from_millis(300);

/// The most a run waits for trailing kernel events.
const SETTLE_MAX: Duration = Duration::from_secs(3);

/// Where the relay is.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub port: u16,
    pub token: String,
}

impl Endpoint {
    /// Reads the relay's first stdout line, `http://127.0.0.1:PORT/#token=TOKEN`.
    pub fn from_url(url: &str) -> Option<Endpoint> {
        let rest = url.trim().strip_prefix("http://127.0.0.1:")?;
        let (port, token) = rest.split_once("/#token=")?;
        Some(Endpoint { port: port.parse().ok()?, token: token.to_string() })
    }

    /// The relay's own page's origin, which a browser would send.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// How fast a learner goes.
#[derive(Debug, Clone)]
pub struct Pace {
    /// Time between two statements the learner steps (reading the last answer, clicking Step).
    pub think: (Duration, Duration),
    /// Time spent reading the lesson after the page loads, before the first step.
    pub read: (Duration, Duration),
}

/// How the learner runs the script, as with the page's buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Drive {
    /// One statement per click, at the pace's think time.
    #[default]
    Step,
    /// Run: statements follow one another at once.
    Run,
}

/// A small seeded generator (SplitMix64), so a class is the same class every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// Uniform in `[low, high]`.
    pub fn between(&mut self, (low, high): (Duration, Duration)) -> Duration {
        let span = high.saturating_sub(low).as_micros() as u64;
        low + Duration::from_micros(self.next_u64() % (span + 1))
    }
}

/// What one lesson session gave.
#[derive(Debug, Clone, Default)]
pub struct LessonReport {
    pub lesson: u32,
    pub drive: Drive,
    /// Calls the run made.
    pub calls: u64,
    /// Calls that got their final answer (a result, or an error naming them).
    pub answered: u64,
    /// Statements stepped.
    pub steps: u64,
    /// Per click (Step or Run), from sending it to the relay's update that
    /// answers it; per call, from the update announcing it to its first answer
    /// (`pending` or `result`).
    pub latencies: Vec<Duration>,
    /// What went wrong that was not the script's own doing.
    pub failures: Vec<String>,
    /// Checkpoints on what the kernel was seen doing (`state`, `segment`,
    /// `tcp_info`) that failed in a run where everything else passed: a
    /// transition or segment the relay did not report to this session, or a
    /// congestion window that a loaded machine's timing kept from growing.
    pub observation_misses: Vec<String>,
    /// The relay accepted the hello: a session was opened.
    pub opened: bool,
    /// The run ended and was judged; false when the learner left first.
    pub judged: bool,
}

/// Take `lesson` in a new session: run its solution at `pace`, judge it, close
/// the session. The learner leaves (closes the page, calls in flight or not) at
/// `leave_at` if the lesson is not done by then.
pub async fn take_lesson(
    endpoint: &Endpoint,
    lesson: &Lesson,
    drive: Drive,
    pace: &Pace,
    rng: &mut Rng,
    leave_at: Instant,
) -> LessonReport {
    let mut report = LessonReport { lesson: lesson.number(), drive, ..LessonReport::default() };
    let ws = match open(endpoint).await {
        Ok(ws) => ws,
        Err(failure) => {
            report.failures.push(format!("lesson {}: {failure}", lesson.number()));
            return report;
        }
    };
    report.opened = true;
    let mut session = Session::new(ws, lesson.solution, report);
    // As the page does when a lesson is open: the relay judges it too.
    let judged = RunCmd::Lesson { number: Some(lesson.number()), lang: Some("en".into()) };
    let ended = match send(&mut session.ws, &ClientMsg::Run { cmd: judged }).await {
        Ok(()) => session.run(drive, pace, rng, leave_at).await,
        Err(failure) => Err(failure),
    };
    if let Err(failure) = &ended {
        session.fail(failure.clone());
    }
    if matches!(ended, Ok(Ran::ToTheEnd)) {
        session.settle().await;
        session.judge(lesson);
    }
    session.close().await;
    session.report
}

/// Connect, say hello, read the relay's hello.
async fn open(endpoint: &Endpoint) -> Result<Ws, String> {
    let mut request = format!("ws://127.0.0.1:{}/ws", endpoint.port)
        .into_client_request()
        .map_err(|e| format!("bad request: {e}"))?;
    let origin = endpoint.origin().parse().map_err(|e| format!("bad origin: {e}"))?;
    request.headers_mut().insert("Origin", origin);
    // Like a browser: no Nagle delay; and a small read buffer, since tungstenite
    // zeroes its whole read buffer (128 KiB by default) for every read.
    let config = WebSocketConfig::default().read_buffer_size(8 << 10);
    let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let (mut ws, _) = tokio::time::timeout(ANSWER_TIMEOUT, connect)
        .await
        .map_err(|_| "the WebSocket upgrade did not finish within 30 s".to_string())?
        .map_err(|e| format!("the WebSocket upgrade failed: {e}"))?;
    let hello = ClientMsg::Hello { version: PROTOCOL_VERSION, token: Some(endpoint.token.clone()) };
    send(&mut ws, &hello).await?;
    loop {
        let frame = tokio::time::timeout(ANSWER_TIMEOUT, ws.next())
            .await
            .map_err(|_| "no hello from the relay within 30 s".to_string())?;
        match frame {
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMsg>(&text) {
                Ok(ServerMsg::Hello { .. }) => return Ok(ws),
                Ok(other) => return Err(format!("the relay answered the hello with {other:?}")),
                Err(e) => return Err(format!("unreadable message {text}: {e}")),
            },
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(other)) => return Err(format!("unexpected frame before the hello: {other:?}")),
            Some(Err(e)) => return Err(format!("the connection failed before the hello: {e}")),
            None => return Err("the relay closed the connection before its hello".into()),
        }
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn send(ws: &mut Ws, msg: &ClientMsg) -> Result<(), String> {
    let text = serde_json::to_string(msg).map_err(|e| format!("cannot encode {msg:?}: {e}"))?;
    ws.send(Message::Text(text.into())).await.map_err(|e| format!("sending failed: {e}"))
}

/// How a run stopped.
enum Ran {
    ToTheEnd,
    /// The learner left before the lanes ended.
    Left,
}

/// Something in the transcript, kept raw so that kernel lines are named after
/// the run (a socket's name is known once its lane has taken the accept's
/// result, which may be after the kernel reported its first states), as the
/// page renames them.
enum Entry {
    Interp(InterpEvent),
    Kernel(Event),
}

/// One session in which the relay runs one script for the learner.
struct Session {
    ws: Ws,
    source: String,
    /// The run's lanes and socket names, as its last update gave them.
    lanes: Vec<LaneView>,
    names: Vec<(SockId, String)>,
    /// The run's `ended` update came.
    ended: bool,
    /// A click not answered yet, and when it was sent.
    clicked: Option<Instant>,
    /// When each call without a first answer yet was announced.
    sent_at: HashMap<u64, Instant>,
    /// Calls without their final answer.
    out: BTreeSet<u64>,
    /// Step mode: the lane the learner is stepping, clicked again while it can step.
    stepping: Option<String>,
    entries: Vec<Entry>,
    /// Frames received (pings are not).
    messages: u64,
    /// The relay's latest verdicts on the lesson's steps.
    verdicts: Option<Vec<Verdict>>,
    report: LessonReport,
}

impl Session {
    fn new(ws: Ws, source: &str, report: LessonReport) -> Session {
        Session {
            ws,
            source: source.to_owned(),
            lanes: Vec::new(),
            names: Vec::new(),
            ended: false,
            clicked: None,
            sent_at: HashMap::new(),
            out: BTreeSet::new(),
            stepping: None,
            entries: Vec::new(),
            messages: 0,
            verdicts: None,
            report,
        }
    }

    fn fail(&mut self, what: String) {
        self.report.failures.push(format!("lesson {}: {what}", self.report.lesson));
    }

    async fn run(&mut self, drive: Drive, pace: &Pace, rng: &mut Rng, leave_at: Instant) -> Result<Ran, String> {
        if !self.think(rng.between(pace.read), leave_at).await? {
            return Ok(Ran::Left);
        }
        if drive == Drive::Run {
            self.click(RunCmd::Go { source: self.source.clone() }).await?;
        }
        loop {
            if self.ended {
                return Ok(Ran::ToTheEnd);
            }
            // One click at a time, and only once the last one was answered, its calls have
            // their first answer, and the run's update after that answer has come.
            let settled = self.clicked.is_none()
                && self.sent_at.is_empty()
                && !self.lanes.iter().any(|view| view.status == LaneStatus::Calling);
            let click = match drive {
                Drive::Step if settled => self.lane_to_step(),
                _ => None,
            };
            let went_on = match click {
                Some(lane) => {
                    let clicked = self.think(rng.between(pace.think), leave_at).await?;
                    if clicked {
                        let source = self.source.clone();
                        // The first click starts the run: the lane asked may not be the one that can step.
                        let follow = self.lanes.is_empty();
                        self.click(RunCmd::Step { source, lane, over: false, follow }).await?;
                    }
                    clicked
                }
                None => self.wait_for_answer(leave_at).await?,
            };
            if !went_on {
                return Ok(Ran::Left);
            }
        }
    }

    /// The lane a learner stepping one lane until it blocks clicks next: the
    /// same one while it can step, else the first in file order that can
    /// (before the run starts, the script's first lane).
    fn lane_to_step(&mut self) -> Option<String> {
        if self.lanes.is_empty() {
            let parts = socklab_frontend::lanes::split(&self.source);
            let count = parts.len();
            return parts.into_iter().find(|part| part.is_shown(count)).map(|part| part.name);
        }
        let ready: Vec<&str> =
            self.lanes.iter().filter(|view| view.status == LaneStatus::Ready).map(|view| view.name.as_str()).collect();
        self.stepping = self.stepping.take().filter(|lane| ready.contains(&lane.as_str())).or_else(|| ready.first().map(|l| l.to_string()));
        self.stepping.clone()
    }

    async fn click(&mut self, cmd: RunCmd) -> Result<(), String> {
        self.clicked = Some(Instant::now());
        send(&mut self.ws, &ClientMsg::Run { cmd }).await
    }

    /// Pause for `length` (or until `leave_at`) while reading what the relay
    /// sends, so answers are timed when they come. False when it is time to leave.
    async fn think(&mut self, length: Duration, leave_at: Instant) -> Result<bool, String> {
        let until = (Instant::now() + length).min(leave_at);
        loop {
            let frame = tokio::select! {
                frame = self.ws.next() => frame,
                () = tokio::time::sleep_until(until.into()) => return Ok(Instant::now() < leave_at),
            };
            self.on_frame(frame)?;
        }
    }

    /// Wait for the next frame. A run not ended with no frame for
    /// `ANSWER_TIMEOUT` (pings do not count) is a failure. False when it is time to leave.
    async fn wait_for_answer(&mut self, leave_at: Instant) -> Result<bool, String> {
        let give_up = Instant::now() + ANSWER_TIMEOUT;
        let messages = self.messages;
        while self.messages == messages {
            let frame = tokio::select! {
                frame = self.ws.next() => frame,
                () = tokio::time::sleep_until(give_up.min(leave_at).into()) => {
                    if Instant::now() >= leave_at {
                        return Ok(false);
                    }
                    return Err(format!(
                        "no answer within {} s; calls out: {:?}\n  the transcript so far:\n{}",
                        ANSWER_TIMEOUT.as_secs(),
                        self.out,
                        self.transcript_text()
                    ));
                }
            };
            self.on_frame(frame)?;
        }
        Ok(true)
    }

    fn on_frame(&mut self, frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>) -> Result<(), String> {
        let at = Instant::now();
        match frame {
            Some(Ok(Message::Text(text))) => {
                let msg = socklab_run::page::decode(&text).map_err(|e| format!("unreadable message {text}: {e}"))?;
                self.messages += 1;
                match msg {
                    FromRelay::Session(msg) => self.on_message(msg, at),
                    FromRelay::Page(PageMsg::Run(update)) => self.on_update(update, at),
                    FromRelay::Page(other) => self.fail(format!("an answer to a request never made: {other:?}")),
                }
                Ok(())
            }
            // tungstenite answers pings itself.
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
            Some(Ok(Message::Close(close))) => Err(format!("the relay closed the session: {close:?}")),
            Some(Ok(other)) => Err(format!("unexpected frame {other:?}")),
            Some(Err(e)) => Err(format!("the connection failed: {e}")),
            None => Err("the relay closed the connection".into()),
        }
    }

    /// What the run did: the calls it announces, its lanes, its interpreter events.
    fn on_update(&mut self, update: RunUpdate, at: Instant) {
        if !update.rejected.is_empty() {
            self.fail(format!("the solution does not parse: {:?}", update.rejected));
            self.ended = true;
        }
        if (update.stepped || update.started.is_some() || update.paused.is_some())
            && let Some(clicked) = self.clicked.take()
        {
            self.report.latencies.push(at.duration_since(clicked));
        }
        for (id, _) in &update.sent {
            self.sent_at.insert(*id, at);
            self.out.insert(*id);
            self.report.calls += 1;
        }
        self.entries.extend(update.seen.into_iter().map(|(_, event)| Entry::Interp(event)));
        if let Some(steps) = update.steps {
            self.report.steps = steps;
        }
        if let Some(lanes) = update.lanes {
            self.lanes = lanes;
        }
        if let Some(names) = update.names {
            self.names = names;
        }
        if let Some(verdicts) = update.reports {
            self.verdicts = Some(verdicts);
        }
        if update.ended {
            self.ended = true;
        }
    }

    /// Check one message against the calls out.
    fn on_message(&mut self, msg: ServerMsg, at: Instant) {
        match &msg {
            ServerMsg::Pending { id } => {
                if !self.first_answer(*id, at) {
                    self.fail(format!("`pending` for call {id}, which is not waiting for its first answer"));
                }
            }
            ServerMsg::Result { id, .. } => {
                self.first_answer(*id, at);
                if !self.answered(*id) {
                    self.fail(format!("a result for call {id}, which is not out"));
                }
            }
            ServerMsg::Error { id, code, message } => {
                self.fail(format!("protocol error {code:?} (call {id:?}): {message}"));
                if let Some(id) = id {
                    self.first_answer(*id, at);
                    self.answered(*id);
                }
            }
            ServerMsg::Event { event } => self.entries.push(Entry::Kernel(event.clone())),
            ServerMsg::Hello { .. } | ServerMsg::Pcap { .. } => {
                self.fail("a second hello, or a capture nobody asked for, from the relay".into())
            }
        }
    }

    /// Times call `id`'s first answer; false when it was not waiting for one.
    fn first_answer(&mut self, id: u64, at: Instant) -> bool {
        let Some(sent) = self.sent_at.remove(&id) else { return false };
        self.report.latencies.push(at.duration_since(sent));
        true
    }

    /// Call `id` has its final answer; false when no such call is out.
    fn answered(&mut self, id: u64) -> bool {
        let out = self.out.remove(&id);
        self.report.answered += u64::from(out);
        out
    }

    /// Take the kernel events that follow the last calls (FIN_WAIT2, TIME_WAIT, …).
    async fn settle(&mut self) {
        let stop = Instant::now() + SETTLE_MAX;
        while Instant::now() < stop {
            let quiet = SETTLE_QUIET.min(stop.saturating_duration_since(Instant::now()));
            let Ok(frame) = tokio::time::timeout(quiet, self.ws.next()).await else { return };
            if let Err(failure) = self.on_frame(frame) {
                self.fail(failure);
                return;
            }
        }
    }

    /// Every lane finished and every checkpoint passed.
    fn judge(&mut self, lesson: &Lesson) {
        self.report.judged = true;
        let lines = self.transcript();
        let mut problems = Vec::new();
        let mut unobserved = Vec::new();
        for lane in &self.lanes {
            if lane.status != LaneStatus::Ended(EndStatus::Finished) {
                problems.push(format!("lane {} ended {:?}", lane.name, lane.status));
            }
        }
        let relay = self.verdicts.clone().unwrap_or_default();
        if relay.len() != lesson.steps().len() {
            problems.push(format!("the relay judged {} steps of {}", relay.len(), lesson.steps().len()));
        }
        let judged = lesson.steps().iter().zip(lessons::check_steps(lesson.steps(), &lines, Lang::En));
        for (index, (spec, step)) in judged.enumerate() {
            // The relay judges, for the page, on the same events: the verdicts agree.
            let failure = match (step.verdict.passed, relay.get(index)) {
                (true, Some(relay)) if relay.passed => continue,
                (true, relay) => format!("checkpoint {}: the relay says {:?}, the transcript passes it", step.id, relay.map(|v| &v.reason)),
                (false, _) => format!("checkpoint {} failed: {}", step.id, step.verdict.reason),
            };
            match spec.check {
                Checkpoint::State { .. } | Checkpoint::Segment { .. } | Checkpoint::TcpInfo { .. } => {
                    unobserved.push(failure)
                }
                _ => problems.push(failure),
            }
        }
        if !problems.is_empty() {
            problems.append(&mut unobserved);
            let failure = format!("{}\n  the transcript:\n{}", problems.join("; "), self.transcript_text());
            self.fail(failure);
        } else if !unobserved.is_empty() {
            let (lesson, transcript) = (self.report.lesson, self.transcript_text());
            let miss = format!("lesson {lesson}: {}\n  the transcript:\n{transcript}", unobserved.join("; "));
            self.report.observation_misses.push(miss);
        }
    }

    /// The transcript, each line cut short, for a failure message.
    fn transcript_text(&self) -> String {
        let lines: Vec<String> = self
            .transcript()
            .iter()
            .map(|line| {
                let text = line.human();
                match text.char_indices().nth(160) {
                    Some((cut, _)) => format!("    {}…", &text[..cut]),
                    None => format!("    {text}"),
                }
            })
            .collect();
        lines.join("\n")
    }

    /// The run as `socklab run --json` would have it, sockets named by the script's variables.
    fn transcript(&self) -> Vec<Line> {
        self.entries
            .iter()
            .filter_map(|entry| match entry {
                Entry::Interp(event) => Some(Line::Interp(event.clone())),
                Entry::Kernel(event) => Line::kernel(event, |sock| {
                    self.names.iter().find(|(named, _)| *named == sock).map(|(_, name)| name.clone())
                }),
            })
            .collect()
    }

    /// Close the page: a close frame, then whatever the relay still sends until it closes too.
    async fn close(&mut self) {
        if self.ws.close(None).await.is_err() {
            return;
        }
        let drained = tokio::time::timeout(ANSWER_TIMEOUT, async {
            while let Some(Ok(_)) = self.ws.next().await {}
        });
        if drained.await.is_err() {
            self.fail("the relay did not finish the close handshake within 30 s".into());
        }
    }
}
