//! One WebSocket session: protocol messages in, call results and events out.
//!
//! The loop is generic over a stream of incoming frames and a sink of outgoing
//! text so tests can drive it through channels; `server` plugs in the socket.
//! Calls may be pending at once; each waits in `pending` and answers when it
//! ends, so answers can come out of order. Ending the session drops the
//! executor, which closes every socket the session made.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{AbortHandle, Abortable, BoxFuture};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, Sink, SinkExt, Stream, StreamExt};
use socklab_wire::binary;
use socklab_run::host::{Out, RunHost};
use socklab_wire::protocol::{
    Call, ClientMsg, ErrorCode, Event, OP_NAMES, Outcome, PROTOCOL_VERSION, RUN_IDS, ServerMsg,
};
use tokio_util::sync::CancellationToken;

use crate::exec::{ExecError, Refused, Started};
use crate::limits::{Budget, BudgetLimits, Refusal, SessionGate, SessionTimers};
use crate::metrics::Limit;
use crate::sandbox::{Sandbox, SessionEnv};

/// A frame from the client, reduced to what the protocol cares about.
#[derive(Debug)]
pub enum Incoming {
    Text(String),
    Binary(Vec<u8>),
    /// A frame larger than the relay accepts; its size.
    TooLarge(usize),
    /// A ping or a pong: the client is there, nothing to act on.
    KeepAlive,
}

/// A frame for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
    /// A WebSocket ping: is the client still there?
    Ping,
}

/// How a session's messages are encoded: JSON text, plus binary frames for
/// the data path when the client negotiated [`binary::SUBPROTOCOL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Json,
    WithBinary,
}

/// Per-session limits.
#[derive(Debug, Clone)]
pub struct SessionLimits {
    /// Largest text message acted on; larger ones get an error and the session goes on.
    pub max_message: usize,
    /// Calls waiting at once.
    pub max_pending: usize,
    /// How long to poll for the next activity instead of sleeping (see [`BusyPoll`]).
    pub busy_poll: Duration,
    /// Bytes and connect rate.
    pub budget: BudgetLimits,
    /// Hello, ping, idle and lifetime timers.
    pub timers: SessionTimers,
}

impl Default for SessionLimits {
    fn default() -> SessionLimits {
        SessionLimits {
            max_message: 1 << 20,
            max_pending: 64,
            busy_poll: Duration::ZERO,
            budget: BudgetLimits { max_bytes: 0, connects_per_second: 0 },
            timers: SessionTimers::default(),
        }
    }
}

/// Who may open a session.
#[derive(Clone)]
pub struct Access {
    /// Tokens a hello may carry; none means no token is asked for. Compared in constant time.
    pub tokens: Vec<String>,
    /// Sessions open, in total and per token.
    pub sessions: Arc<SessionGate>,
}

impl Access {
    /// One token (or none), no session limit.
    pub fn token(token: Option<String>) -> Access {
        Access { tokens: token.into_iter().collect(), sessions: SessionGate::unlimited() }
    }

    /// The index of the token `given` matches. Every token is compared in full,
    /// so the time taken says nothing about which bytes matched.
    fn allows(&self, given: Option<&str>) -> Option<usize> {
        if self.tokens.is_empty() {
            return Some(0);
        }
        token_index(&self.tokens, given?)
    }
}

/// The index of the token in `tokens` that `given` is. Every token is
/// compared in full, so the time taken says nothing about which bytes matched.
pub(crate) fn token_index(tokens: &[String], given: &str) -> Option<usize> {
    use subtle::ConstantTimeEq;
    let mut found = None;
    for (index, want) in tokens.iter().enumerate() {
        if bool::from(given.as_bytes().ct_eq(want.as_bytes())) {
            found = Some(index);
        }
    }
    found
}

/// A waiting call's id, result, and when its system call was made (`PendingCall::called_ns`).
type PendingResult = (u64, Result<crate::exec::Raw, ExecError>, u64);

/// Run one session until the client leaves or `shutdown` fires.
pub async fn run<I, O, E>(
    mut incoming: I,
    mut outgoing: O,
    encoding: Encoding,
    sandbox: &Sandbox,
    access: Access,
    limits: SessionLimits,
    shutdown: CancellationToken,
) where
    I: Stream<Item = Incoming> + Unpin,
    O: Sink<Outgoing, Error = E> + Unpin,
{
    let mut out = Outbox { sink: &mut outgoing, ok: true, encoding, queued_at: None, tapping: false, tapped: Vec::new() };

    // Hello first: version and token.
    let hello_by = tokio::time::sleep(limits.timers.hello);
    tokio::pin!(hello_by);
    let token_index = loop {
        let frame = tokio::select! {
            frame = incoming.next() => frame,
            () = shutdown.cancelled() => return,
            () = &mut hello_by => {
                out.refuse(None, Refusal::Hello(limits.timers.hello).into()).await;
                out.flush().await;
                return;
            }
        };
        let Some(frame) = frame else { return };
        if matches!(frame, Incoming::KeepAlive) {
            continue;
        }
        match decode(frame, &limits, encoding) {
            Ok(ClientMsg::Hello { version, token }) => {
                if version != PROTOCOL_VERSION {
                    out.error(
                        None,
                        ErrorCode::VersionMismatch,
                        format!("this relay speaks protocol version {PROTOCOL_VERSION}; the client asked for version {version}"),
                    )
                    .await;
                    out.flush().await;
                    return;
                }
                let Some(index) = access.allows(token.as_deref()) else {
                    out.error(None, ErrorCode::Unauthorized, "missing or wrong token: open the URL the relay printed".into())
                        .await;
                    out.flush().await;
                    return;
                };
                break index;
            }
            Ok(_) => {
                out.error(None, ErrorCode::NotHelloFirst, "send a hello with the protocol version first".into()).await
            }
            Err(rejection) => out.reject(rejection).await,
        }
        out.flush().await;
        if !out.ok {
            return;
        }
    };
    let _slot = match access.sessions.enter(token_index) {
        Ok(slot) => slot,
        Err(refusal) => {
            out.refuse(None, refusal.into()).await;
            out.flush().await;
            return;
        }
    };

    let env = match sandbox.new_session_async().await {
        Ok(env) => env,
        Err(e) => {
            out.error(None, ErrorCode::Internal, format!("could not set up a session: {e}")).await;
            out.flush().await;
            return;
        }
    };
    let SessionEnv { mut exec, observer, dir } = env;
    let frames = observer.keep_frames(PAGE_CAPTURE_BYTES);
    out.send(&ServerMsg::Hello {
        version: PROTOCOL_VERSION,
        mode: sandbox.mode(),
        capabilities: sandbox.capabilities(),
        server: crate::workers::server_name(),
    })
    .await;

    let mut flight = Flight {
        pending: FuturesUnordered::new(),
        aborts: HashMap::new(),
        unannounced: Unannounced::default(),
        budget: Budget::new(limits.budget),
        run: RunHost::default(),
    };
    let timers = limits.timers;
    let started = tokio::time::Instant::now();
    // A quiet session is pinged every `ping_interval`; one not heard from for
    // `idle` ends. The timer is re-armed when it fires, not on every frame.
    let mut heard = started;
    let never = started + Duration::from_secs(100 * 365 * 24 * 3600);
    let after = |from: tokio::time::Instant, length: Option<Duration>| length.map_or(never, |length| from + length);
    let ping = tokio::time::sleep_until(after(started, timers.ping_interval));
    let idle_check = tokio::time::sleep_until(after(started, timers.idle));
    let end_of_life = tokio::time::sleep_until(after(started, timers.lifetime));
    let announce = tokio::time::sleep_until(never);
    tokio::pin!(ping, idle_check, end_of_life, announce);
    // Made once and re-made only when it has produced an event: it is polled on every pass.
    let mut next_event = Box::pin(observer.next_event());

    let mut incoming = incoming.peekable();
    let mut busy = BusyPoll::new(limits.busy_poll, std::time::Instant::now());
    while out.ok {
        // Frames are queued as they are made and sent together: not while more of the
        // client's frames are already here, nor while a call that just began waiting may
        // still finish within its grace (pipelined calls then answer in one write), but
        // never later than a grace after the first frame was queued.
        let more_here = matches!(std::pin::Pin::new(&mut incoming).peek().now_or_never(), Some(Some(_)));
        if !more_here && (flight.unannounced.is_empty() || out.queued_for() >= PENDING_GRACE) && !out.flush().await {
            break;
        }
        let poll_on = busy.polling(std::time::Instant::now());
        tokio::select! {
            // Lets the thread's other tasks run and its reactor be polled without sleeping.
            () = tokio::task::yield_now(), if poll_on => {}
            // A run whose statement slice ran out goes on once the session has looked around.
            () = tokio::task::yield_now(), if flight.run.wants_again() => {
                let outs = flight.run.again(run_clock());
                flight.perform(outs, &limits, &mut exec, &mut out, announce.as_mut()).await;
            }
            frame = incoming.next() => {
                let Some(frame) = frame else { break };
                busy.activity(std::time::Instant::now());
                heard = tokio::time::Instant::now();
                if matches!(frame, Incoming::KeepAlive) {
                    continue;
                }
                match decode(frame, &limits, encoding) {
                    Ok(ClientMsg::Call { id, .. }) if id >= RUN_IDS => {
                        let message = format!("call ids from {RUN_IDS} up are the relay's own, for the scripts it runs; use a smaller id");
                        out.error(Some(id), ErrorCode::BadArguments, message).await;
                    }
                    Ok(ClientMsg::Call { id, call }) => flight.call(id, call, &limits, &mut exec, &mut out, announce.as_mut()).await,
                    Ok(ClientMsg::Cancel { id }) => flight.cancel(id, &mut out).await,
                    Ok(ClientMsg::Run { cmd }) => match flight.run.command(cmd, run_clock()) {
                        Ok(outs) => flight.perform(outs, &limits, &mut exec, &mut out, announce.as_mut()).await,
                        Err(why) => out.error(None, ErrorCode::BadArguments, why).await,
                    },
                    Ok(ClientMsg::Hello { .. }) => {
                        out.error(None, ErrorCode::UnknownType, "this session has already said hello".into()).await;
                    }
                    Ok(ClientMsg::Pcap { id, marks }) => match pcap(id, sandbox.mode(), &exec, &observer, &frames, marks) {
                        Ok(msg) => out.send(&msg).await,
                        Err(why) => out.error(Some(id), ErrorCode::BadArguments, why).await,
                    },
                    Err(rejection) => out.reject(rejection).await,
                }
            }
            Some(done) = flight.pending.next(), if !flight.pending.is_empty() => {
                busy.activity(std::time::Instant::now());
                // An aborted call was already answered as cancelled.
                if let Ok((id, raw, called_ns)) = done {
                    flight.aborts.remove(&id);
                    flight.unannounced.done(id);
                    let result = exec.finish(raw);
                    let ts_us = exec.at_us(called_ns);
                    answer(id, result, ts_us, &mut exec, &mut out, &mut flight.budget).await;
                }
            }
            () = &mut announce, if !flight.unannounced.is_empty() => {
                for id in flight.unannounced.due(announce.as_mut()) {
                    out.send(&ServerMsg::Pending { id }).await;
                }
            }
            () = &mut ping => {
                out.send_raw(Outgoing::Ping).await;
                ping.as_mut().reset(after(tokio::time::Instant::now(), timers.ping_interval));
            }
            () = &mut idle_check => {
                if after(heard, timers.idle) <= tokio::time::Instant::now() {
                    out.refuse(None, Refusal::Idle(timers.idle.unwrap_or_default()).into()).await;
                    break;
                }
                idle_check.as_mut().reset(after(heard, timers.idle));
            }
            () = &mut end_of_life => {
                out.refuse(None, Refusal::Lifetime(timers.lifetime.unwrap_or_default()).into()).await;
                break;
            }
            event = &mut next_event => {
                next_event.set(observer.next_event());
                out.send(&ServerMsg::Event { event }).await;
            }
            () = shutdown.cancelled() => {
                out.error(None, ErrorCode::Internal, "the relay is shutting down".into()).await;
                break;
            }
        }
        // What the session sent while a run is in progress (or a lesson is open) goes to the run.
        if !out.tapped.is_empty() {
            flight.perform(Vec::new(), &limits, &mut exec, &mut out, announce.as_mut()).await;
        }
    }
    out.flush().await;
    // Dropping `pending` lets go of every socket a waiting call holds; dropping `exec` closes them all.
    drop(flight);
    drop(next_event);
    // The directory goes last: its removal marks the session's end.
    crate::reaper::reap((exec, observer, dir));
}

/// Bytes of frames a WebSocket session keeps for its `pcap` download, at most;
/// later frames are counted as dropped.
pub const PAGE_CAPTURE_BYTES: usize = 4 << 20;

/// Longest lane name a `pcap` mark may carry.
const MAX_MARK_LANE: usize = 200;

/// The session's link capture as pcapng (`ServerMsg::Pcap`), each
/// packet's comment naming its sender and the line of the last call a lane on
/// that host made before it (from the client's `marks`); or why not.
fn pcap(
    id: u64,
    mode: socklab_wire::protocol::SandboxMode,
    exec: &crate::exec::Executor,
    observer: &crate::sandbox::Observation,
    frames: &socklab_kernel::observe::links::FrameLog,
    marks: Vec<socklab_wire::protocol::PcapMark>,
) -> Result<ServerMsg, String> {
    use socklab_wire::protocol::{Bytes, MAX_PCAP_MARKS};
    if marks.len() > MAX_PCAP_MARKS {
        return Err(format!("pcap: {} marks is more than the {MAX_PCAP_MARKS} a request may carry", marks.len()));
    }
    if let Some(bad) = marks.iter().find(|m| !socklab_wire::network::is_host_name(&m.host) || m.lane.len() > MAX_MARK_LANE) {
        return Err(format!("pcap: a mark names host {:?} and lane {:?}: host names as in lab_hosts, lanes of at most {MAX_MARK_LANE} bytes", bad.host, bad.lane));
    }
    let links = exec.link_names();
    if mode == socklab_wire::protocol::SandboxMode::Host {
        return Err("pcap: this relay runs in host mode, where sessions have no hosts and no link is captured".into());
    }
    if links.is_empty() {
        return Err("pcap: this session has no hosts, so no link was captured; place lanes on hosts with '# lane: NAME @ HOST'".into());
    }
    // A mark's time is on the session's clock (`ts_us`); the frames carry the wall clock.
    let (now_us, now_ns) = (observer.now_us(), crate::engine::unix_now_ns());
    let mut calls: Vec<crate::engine::CallMark> = marks
        .into_iter()
        .map(|m| crate::engine::CallMark {
            unix_ns: now_ns.saturating_sub(now_us.saturating_sub(m.ts_us).saturating_mul(1_000)),
            lane: m.lane,
            host: Some(m.host),
            line: Some(m.line),
        })
        .collect();
    calls.sort_by_key(|call| call.unix_ns);
    let kept = frames.lock().unwrap_or_else(|poison| poison.into_inner());
    let data = crate::pcapng::to_vec(&links, &kept.frames, &calls).map_err(|e| format!("pcap: {e}"))?;
    Ok(ServerMsg::Pcap { id, data: Bytes::new(data), packets: kept.frames.len() as u64, dropped: kept.dropped as u64 })
}

/// The session's calls in flight, what admits them, and the run the relay
/// makes for the client (whose calls go through the same door as the client's).
struct Flight {
    pending: FuturesUnordered<BoxFuture<'static, Result<PendingResult, futures::future::Aborted>>>,
    aborts: HashMap<u64, AbortHandle>,
    unannounced: Unannounced,
    budget: Budget,
    run: RunHost,
}

impl Flight {
    /// Admits and starts a call, or refuses it.
    async fn call<O: Sink<Outgoing> + Unpin>(
        &mut self,
        id: u64,
        call: Call,
        limits: &SessionLimits,
        exec: &mut crate::exec::Executor,
        out: &mut Outbox<'_, O>,
        announce: std::pin::Pin<&mut tokio::time::Sleep>,
    ) {
        if self.aborts.contains_key(&id) {
            return out.error(Some(id), ErrorCode::DuplicateId, format!("call {id} is still pending; use a new id")).await;
        }
        if self.aborts.len() >= limits.max_pending {
            return out.refuse(Some(id), Refusal::Pending(limits.max_pending).into()).await;
        }
        if let Err(refusal) = self.budget.admit(&call, std::time::Instant::now()) {
            return out.refuse(Some(id), refusal.into()).await;
        }
        match exec.start(call) {
            Started::Done(result) => {
                let ts_us = exec.called_us();
                answer(id, result, ts_us, exec, out, &mut self.budget).await
            }
            Started::Pending(mut call) => {
                send_events(exec.take_events(), out).await;
                let (handle, registration) = AbortHandle::new_pair();
                self.aborts.insert(id, handle);
                let wait = async move {
                    let raw = call.drive().await;
                    (id, raw, call.called_ns())
                };
                self.pending.push(Abortable::new(wait, registration).boxed());
                self.unannounced.wait(id, announce);
            }
        }
    }

    async fn cancel<O: Sink<Outgoing> + Unpin>(&mut self, id: u64, out: &mut Outbox<'_, O>) {
        match self.aborts.remove(&id) {
            Some(handle) => {
                handle.abort();
                self.unannounced.done(id);
                out.send(&ServerMsg::Result { id, outcome: Outcome::Cancelled, ts_us: None }).await;
            }
            None => out.error(Some(id), ErrorCode::UnknownCall, format!("no pending call with id {id}")).await,
        }
    }

    /// Does what the run asked, then feeds it what the session sent meanwhile
    /// (answers, events), until it asks for nothing more.
    async fn perform<O: Sink<Outgoing> + Unpin>(
        &mut self,
        outs: Vec<Out>,
        limits: &SessionLimits,
        exec: &mut crate::exec::Executor,
        out: &mut Outbox<'_, O>,
        mut announce: std::pin::Pin<&mut tokio::time::Sleep>,
    ) {
        let mut queue: std::collections::VecDeque<Out> = outs.into();
        loop {
            out.tapping = self.run.is_watching();
            while let Some(next) = queue.pop_front() {
                match next {
                    Out::Page(msg) => out.send_raw(Outgoing::Text(socklab_run::page::encode(&msg))).await,
                    Out::Session(ClientMsg::Call { id, call }) => {
                        self.call(id, call, limits, exec, out, announce.as_mut()).await
                    }
                    Out::Session(ClientMsg::Cancel { id }) => self.cancel(id, out).await,
                    Out::Session(other) => tracing::error!(?other, "a run asked for something other than a call"),
                }
                out.tapping = self.run.is_watching();
            }
            let tapped = std::mem::take(&mut out.tapped);
            if tapped.is_empty() {
                return;
            }
            let now = run_clock();
            for msg in &tapped {
                queue.extend(self.run.on_message(msg, now));
            }
        }
    }
}

/// The clock a run's scheduler reads: seconds since the Unix epoch.
fn run_clock() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// Busy-polling: after a frame arrives or a call ends, the session keeps
/// polling for its next activity for up to `window` instead of sleeping, when
/// the gap before this activity was itself no longer than `window`. The client's
/// next frame, or the echo a waiting `recv` wants, then finds the session's
/// thread awake: no sleep, no wake-up (costly on a VM: an inter-processor
/// interrupt and an exit to the hypervisor). A session stepped at human pace
/// has gaps of seconds and never polls; a script that runs answers in
/// microseconds polls through its gaps. Polling yields between looks, so the
/// thread's other sessions run meanwhile.
#[derive(Debug, Clone, Copy)]
struct BusyPoll {
    window: Duration,
    last: std::time::Instant,
    short_gaps: bool,
}

impl BusyPoll {
    fn new(window: Duration, now: std::time::Instant) -> BusyPoll {
        BusyPoll { window, last: now, short_gaps: false }
    }

    /// Something happened: a frame came in or a call ended.
    fn activity(&mut self, now: std::time::Instant) {
        self.short_gaps = now.saturating_duration_since(self.last) <= self.window;
        self.last = now;
    }

    /// Poll rather than sleep now?
    fn polling(&self, now: std::time::Instant) -> bool {
        self.short_gaps && now < self.last + self.window
    }
}

/// How long a waiting call goes before the client is told it is `pending`. Most
/// waits end sooner (an echo on its way back): their `pending` would only cost a
/// frame, and the client a wake-up. A person cannot see a millisecond.
const PENDING_GRACE: Duration = Duration::from_millis(1);

/// Waiting calls not yet announced as `pending`, in the order their grace ends.
#[derive(Default)]
struct Unannounced {
    calls: std::collections::VecDeque<(tokio::time::Instant, u64)>,
}

impl Unannounced {
    /// Call `id` is waiting; `timer` fires when the oldest grace ends.
    fn wait(&mut self, id: u64, timer: std::pin::Pin<&mut tokio::time::Sleep>) {
        let due = tokio::time::Instant::now() + PENDING_GRACE;
        if self.calls.is_empty() {
            timer.reset(due);
        }
        self.calls.push_back((due, id));
    }

    /// Call `id` finished or was cancelled: it needs no announcement.
    fn done(&mut self, id: u64) {
        self.calls.retain(|&(_, waiting)| waiting != id);
    }

    fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The calls whose grace has ended; re-arms `timer` for the next one.
    fn due(&mut self, timer: std::pin::Pin<&mut tokio::time::Sleep>) -> Vec<u64> {
        let now = tokio::time::Instant::now();
        let ended = self.calls.iter().take_while(|&&(due, _)| due <= now).count();
        let ids = self.calls.drain(..ended).map(|(_, id)| id).collect();
        if let Some(&(next, _)) = self.calls.front() {
            timer.reset(next);
        }
        ids
    }
}

/// Send the events the call caused, then its result.
async fn answer<O: Sink<Outgoing> + Unpin>(
    id: u64,
    result: Result<socklab_wire::protocol::Ret, ExecError>,
    ts_us: Option<u64>,
    exec: &mut crate::exec::Executor,
    out: &mut Outbox<'_, O>,
    budget: &mut Budget,
) {
    send_events(exec.take_events(), out).await;
    match crate::exec::outcome(result) {
        Ok(outcome) => {
            if let Outcome::Ok { value } = &outcome {
                budget.record(value);
            }
            out.send(&ServerMsg::Result { id, outcome, ts_us }).await
        }
        Err(refused) => out.refuse(Some(id), refused).await,
    }
}

async fn send_events<O: Sink<Outgoing> + Unpin>(events: Vec<Event>, out: &mut Outbox<'_, O>) {
    for event in events {
        out.send(&ServerMsg::Event { event }).await;
    }
}

/// A message the relay could not act on: (call id if known, code, message).
type Rejection = (Option<u64>, ErrorCode, String);

/// Parse one frame, naming exactly what is wrong with it.
pub fn decode(frame: Incoming, limits: &SessionLimits, encoding: Encoding) -> Result<ClientMsg, Rejection> {
    let text = match frame {
        Incoming::Text(text) if text.len() <= limits.max_message => text,
        Incoming::Text(text) => return Err(too_large(text.len(), limits)),
        Incoming::TooLarge(size) => return Err(too_large(size, limits)),
        Incoming::KeepAlive => return Err((None, ErrorCode::InvalidJson, "a ping or pong is not a message".into())),
        Incoming::Binary(frame) if frame.len() > limits.max_message => return Err(too_large(frame.len(), limits)),
        Incoming::Binary(frame) if encoding == Encoding::WithBinary => {
            return binary::decode_call(&frame).map_err(|(id, message)| (id, ErrorCode::BadArguments, message));
        }
        Incoming::Binary(_) => {
            let message = format!("binary frames need the WebSocket subprotocol {}; without it, send JSON text", binary::SUBPROTOCOL);
            return Err((None, ErrorCode::InvalidJson, message));
        }
    };
    // The common case first: a well-formed message parses straight into its type.
    // Only a message that fails is taken apart to say exactly what is wrong with it.
    if let Ok(msg) = serde_json::from_str::<ClientMsg>(&text) {
        return Ok(msg);
    }
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| (None, ErrorCode::InvalidJson, format!("invalid JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err((None, ErrorCode::InvalidJson, "a message must be a JSON object".into()));
    };
    let id = object.get("id").and_then(serde_json::Value::as_u64);
    let kind = object.get("type").and_then(serde_json::Value::as_str).ok_or((
        id,
        ErrorCode::UnknownType,
        "the message has no \"type\" field (hello, call or cancel)".to_string(),
    ))?;
    if kind == "call" {
        let op = object.get("call").and_then(|c| c.get("op")).and_then(serde_json::Value::as_str);
        match op {
            None => return Err((id, ErrorCode::BadArguments, "a call needs \"call\": {\"op\": ...}".into())),
            Some(op) if !OP_NAMES.contains(&op) => {
                return Err((id, ErrorCode::UnknownOp, format!("unknown op \"{op}\"; known ops: {}", OP_NAMES.join(", "))));
            }
            Some(_) => {}
        }
    } else if !matches!(kind, "hello" | "cancel" | "pcap") {
        return Err((id, ErrorCode::UnknownType, format!("unknown message type \"{kind}\"; expected hello, call, cancel or pcap")));
    }
    let what = match object.get("call").and_then(|c| c.get("op")).and_then(serde_json::Value::as_str) {
        Some(op) => format!("op \"{op}\""),
        None => kind.to_string(),
    };
    serde_json::from_value::<ClientMsg>(value)
        .map_err(|e| (id, ErrorCode::BadArguments, format!("bad arguments for {what}: {e}")))
}

fn too_large(size: usize, limits: &SessionLimits) -> Rejection {
    let refusal = Refusal::Message { size, max: limits.max_message };
    (None, refusal.code(), refusal.to_string())
}

/// The outgoing half; remembers when the client has gone so the loop stops.
struct Outbox<'a, O> {
    sink: &'a mut O,
    ok: bool,
    encoding: Encoding,
    /// When the oldest frame not yet flushed was queued.
    queued_at: Option<std::time::Instant>,
    /// While a run is in progress, what is sent is kept for it too.
    tapping: bool,
    tapped: Vec<ServerMsg>,
}

impl<O: Sink<Outgoing> + Unpin> Outbox<'_, O> {
    /// Queue a message; [`Outbox::flush`] sends what is queued.
    async fn send(&mut self, msg: &ServerMsg) {
        if !self.ok {
            return;
        }
        if self.tapping && !matches!(msg, ServerMsg::Hello { .. } | ServerMsg::Pcap { .. }) {
            self.tapped.push(msg.clone());
        }
        if self.encoding == Encoding::WithBinary
            && let Some(frame) = binary::encode_server(msg)
        {
            return self.send_raw(Outgoing::Binary(frame)).await;
        }
        let text = match serde_json::to_string(msg) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(error = %e, "could not encode a message");
                return;
            }
        };
        self.send_raw(Outgoing::Text(text)).await;
    }

    async fn send_raw(&mut self, frame: Outgoing) {
        self.queued_at.get_or_insert_with(std::time::Instant::now);
        if self.ok && self.sink.feed(frame).await.is_err() {
            self.ok = false;
        }
    }

    /// How long the oldest frame not yet flushed has waited.
    fn queued_for(&self) -> Duration {
        self.queued_at.map(|at| at.elapsed()).unwrap_or_default()
    }

    /// Send everything queued; false once the client has gone.
    async fn flush(&mut self) -> bool {
        if self.queued_at.take().is_some() && self.ok && self.sink.flush().await.is_err() {
            self.ok = false;
        }
        self.ok
    }

    async fn error(&mut self, id: Option<u64>, code: ErrorCode, message: String) {
        self.refuse(id, Refused { code, message, limit: None }).await;
    }

    async fn refuse(&mut self, id: Option<u64>, Refused { code, message, limit }: Refused) {
        crate::metrics::error_sent(code, limit);
        self.send(&ServerMsg::Error { id, code, message }).await;
    }

    async fn reject(&mut self, (id, code, message): Rejection) {
        // The one limit a frame can break on its way in is its size (`too_large`).
        let limit = (code == ErrorCode::TooLarge).then_some(Limit::MaxMessage);
        self.refuse(id, Refused { code, message, limit }).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Incoming {
        Incoming::Text(s.to_string())
    }

    #[test]
    fn decode_names_the_problem() {
        let limits = SessionLimits::default();
        let cases = [
            ("{", ErrorCode::InvalidJson, "invalid JSON"),
            ("[1]", ErrorCode::InvalidJson, "JSON object"),
            (r#"{"id":1}"#, ErrorCode::UnknownType, "no \"type\""),
            (r#"{"type":"dance"}"#, ErrorCode::UnknownType, "unknown message type \"dance\""),
            (r#"{"type":"call","id":4,"call":{"op":"frobnicate"}}"#, ErrorCode::UnknownOp, "unknown op \"frobnicate\""),
            (r#"{"type":"call","id":5,"call":{"op":"recv","sock":"x","n":1}}"#, ErrorCode::BadArguments, "bad arguments for op \"recv\""),
        ];
        for (input, code, needle) in cases {
            let (_, got_code, message) = decode(text(input), &limits, Encoding::Json).unwrap_err();
            assert_eq!(got_code, code, "{input}");
            assert!(message.contains(needle), "{input}: {message}");
        }
        let (id, _, _) = decode(text(r#"{"type":"call","id":5,"call":{"op":"recv"}}"#), &limits, Encoding::Json).unwrap_err();
        assert_eq!(id, Some(5));
        let big = "x".repeat(limits.max_message + 1);
        assert_eq!(decode(Incoming::Text(big), &limits, Encoding::Json).unwrap_err().1, ErrorCode::TooLarge);
    }

    #[test]
    fn busy_polling_follows_the_gaps() {
        let us = Duration::from_micros;
        let t0 = std::time::Instant::now();
        let mut busy = BusyPoll::new(us(100), t0);
        assert!(!busy.polling(t0), "nothing has happened yet");
        // A frame after 2 s of quiet: a person stepping; no polling.
        busy.activity(t0 + Duration::from_secs(2));
        assert!(!busy.polling(t0 + Duration::from_secs(2) + us(10)));
        // Answers 30 µs apart: polls through the next 100 µs, then sleeps.
        let t1 = t0 + Duration::from_secs(2) + us(30);
        busy.activity(t1);
        assert!(busy.polling(t1 + us(99)));
        assert!(!busy.polling(t1 + us(101)));
        // A gap longer than the window turns it off again.
        busy.activity(t1 + us(500));
        assert!(!busy.polling(t1 + us(510)));
        // A zero window never polls.
        let mut off = BusyPoll::new(Duration::ZERO, t0);
        off.activity(t0);
        assert!(!off.polling(t0));
    }

    #[test]
    fn token_is_required_when_set() {
        let access = Access::token(Some("secret".into()));
        assert_eq!(access.allows(Some("secret")), Some(0));
        assert_eq!(access.allows(Some("secreT")), None);
        assert_eq!(access.allows(Some("secret2")), None);
        assert_eq!(access.allows(Some("")), None);
        assert_eq!(access.allows(None), None);
        let two = Access { tokens: vec!["a".repeat(64), "b".repeat(64)], ..Access::token(None) };
        assert_eq!(two.allows(Some(&"b".repeat(64))), Some(1));
        assert_eq!(Access::token(None).allows(None), Some(0));
    }
}
