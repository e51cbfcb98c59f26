//! The relay's counters, `/metrics` in the Prometheus text format 0.0.4, and
//! each session's totals for its end log line.
//!
//! Counters are plain `AtomicU64`s at fixed places in one memory region, one
//! slot per worker process. The region is a memfd mapped `MAP_SHARED`, made
//! before the workers start and inherited by them (`--workers`): each process
//! adds to its own slot and `/metrics` on any of them sums every slot. A
//! restarted worker keeps its slot's counters and zeroes its gauges, since
//! what they counted died with the old process. The session gate (`limits`)
//! counts open sessions here too, so its limits hold across workers.
//!
//! The hooks (`call_ended`, `bytes_sent`, …) are free functions on the
//! process's installed [`Metrics`]; without one (`socklab run`, unit tests)
//! they do nothing. A session's own totals live in a task-local
//! [`SessionTally`] that `server` sets around each WebSocket.

use std::fmt::Write as _;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use socklab_wire::op::Op;
use socklab_wire::protocol::{ErrorCode, SandboxMode};

/// How a call ended, the `result` label of `socklab_calls_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    /// The call returned a value.
    Ok,
    /// The kernel (or the relay's address policy, as EACCES) answered with an errno.
    Errno,
    /// The relay refused the request itself: bad arguments, unknown socket, a limit.
    Refused,
    /// A pending call cancelled by the client, or still pending when its session ended.
    Cancelled,
}

impl CallResult {
    const ALL: [CallResult; 4] = [CallResult::Ok, CallResult::Errno, CallResult::Refused, CallResult::Cancelled];

    fn name(self) -> &'static str {
        match self {
            CallResult::Ok => "ok",
            CallResult::Errno => "errno",
            CallResult::Refused => "refused",
            CallResult::Cancelled => "cancelled",
        }
    }
}

/// A configurable limit, the `limit` label of `socklab_limits_hit_total`: the option's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    MaxSessions,
    MaxSessionsPerToken,
    MaxConnections,
    MaxSockets,
    MaxPending,
    MaxBytes,
    MaxConnectsPerSecond,
    MaxMessage,
    MaxFrame,
    HandshakeTimeout,
    IdleTimeout,
    SessionLifetime,
}

impl Limit {
    const ALL: [Limit; 12] = [
        Limit::MaxSessions,
        Limit::MaxSessionsPerToken,
        Limit::MaxConnections,
        Limit::MaxSockets,
        Limit::MaxPending,
        Limit::MaxBytes,
        Limit::MaxConnectsPerSecond,
        Limit::MaxMessage,
        Limit::MaxFrame,
        Limit::HandshakeTimeout,
        Limit::IdleTimeout,
        Limit::SessionLifetime,
    ];

    /// The option that sets it, without `--`.
    pub fn option(self) -> &'static str {
        match self {
            Limit::MaxSessions => "max-sessions",
            Limit::MaxSessionsPerToken => "max-sessions-per-token",
            Limit::MaxConnections => "max-connections",
            Limit::MaxSockets => "max-sockets",
            Limit::MaxPending => "max-pending",
            Limit::MaxBytes => "max-bytes",
            Limit::MaxConnectsPerSecond => "max-connects-per-second",
            Limit::MaxMessage => "max-message",
            Limit::MaxFrame => "max-frame",
            Limit::HandshakeTimeout => "handshake-timeout",
            Limit::IdleTimeout => "idle-timeout",
            Limit::SessionLifetime => "session-lifetime",
        }
    }

    /// Reaching it ends the session.
    fn ends_session(self) -> bool {
        match self {
            Limit::MaxFrame | Limit::HandshakeTimeout | Limit::IdleTimeout | Limit::SessionLifetime => true,
            Limit::MaxSessions
            | Limit::MaxSessionsPerToken
            | Limit::MaxConnections
            | Limit::MaxSockets
            | Limit::MaxPending
            | Limit::MaxBytes
            | Limit::MaxConnectsPerSecond
            | Limit::MaxMessage => false,
        }
    }
}

const ERROR_CODES: [ErrorCode; 13] = [
    ErrorCode::InvalidJson,
    ErrorCode::UnknownType,
    ErrorCode::UnknownOp,
    ErrorCode::BadArguments,
    ErrorCode::UnknownSocket,
    ErrorCode::DuplicateId,
    ErrorCode::UnknownCall,
    ErrorCode::TooLarge,
    ErrorCode::VersionMismatch,
    ErrorCode::NotHelloFirst,
    ErrorCode::Unauthorized,
    ErrorCode::LimitExceeded,
    ErrorCode::Internal,
];

fn error_index(code: ErrorCode) -> usize {
    match code {
        ErrorCode::InvalidJson => 0,
        ErrorCode::UnknownType => 1,
        ErrorCode::UnknownOp => 2,
        ErrorCode::BadArguments => 3,
        ErrorCode::UnknownSocket => 4,
        ErrorCode::DuplicateId => 5,
        ErrorCode::UnknownCall => 6,
        ErrorCode::TooLarge => 7,
        ErrorCode::VersionMismatch => 8,
        ErrorCode::NotHelloFirst => 9,
        ErrorCode::Unauthorized => 10,
        ErrorCode::LimitExceeded => 11,
        ErrorCode::Internal => 12,
    }
}

/// The code as the protocol spells it (`limit_exceeded`).
fn error_name(code: ErrorCode) -> String {
    serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Upper bounds of the session set-up histogram, in seconds.
const SETUP_BUCKETS: [f64; 14] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// The single numbers of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    SessionsOpen,
    SessionsTotal,
    WebsocketsOpen,
    SocketsOpen,
    BytesSent,
    BytesReceived,
    NamespacesInUse,
    Draining,
    SetupMicros,
}

impl Scalar {
    const ALL: [Scalar; 9] = [
        Scalar::SessionsOpen,
        Scalar::SessionsTotal,
        Scalar::WebsocketsOpen,
        Scalar::SocketsOpen,
        Scalar::BytesSent,
        Scalar::BytesReceived,
        Scalar::NamespacesInUse,
        Scalar::Draining,
        Scalar::SetupMicros,
    ];

    /// A level rather than a running total: it dies with its process.
    fn is_gauge(self) -> bool {
        match self {
            Scalar::SessionsOpen
            | Scalar::WebsocketsOpen
            | Scalar::SocketsOpen
            | Scalar::NamespacesInUse
            | Scalar::Draining => true,
            Scalar::SessionsTotal | Scalar::BytesSent | Scalar::BytesReceived | Scalar::SetupMicros => false,
        }
    }
}

// A slot's layout, in words.
const CALLS_AT: usize = Scalar::ALL.len();
const ERRORS_AT: usize = CALLS_AT + Op::ALL.len() * CallResult::ALL.len();
const LIMITS_AT: usize = ERRORS_AT + ERROR_CODES.len();
const BUCKETS_AT: usize = LIMITS_AT + Limit::ALL.len();
/// One more bucket than bounds: the last counts set-ups over the largest bound.
const TOKENS_AT: usize = BUCKETS_AT + SETUP_BUCKETS.len() + 1;

/// Words before the first slot: magic, slots, tokens, spare.
const HEADER: usize = 4;
const MAGIC: u64 = 0x736f_636b_6c61_6201;

/// The mapped words.
struct Region {
    words: NonNull<AtomicU64>,
    len: usize,
    slots: usize,
    tokens: usize,
    /// The memfd behind a region that other processes may map.
    fd: Option<OwnedFd>,
}

// SAFETY: the region is only ever accessed through atomics.
unsafe impl Send for Region {}
// SAFETY: as above.
unsafe impl Sync for Region {}

impl Region {
    fn slot_len(tokens: usize) -> usize {
        TOKENS_AT + tokens
    }

    /// A zeroed region; `shareable` backs it with a memfd other processes can map.
    fn create(slots: usize, tokens: usize, shareable: bool) -> io::Result<Region> {
        let len = HEADER + slots * Region::slot_len(tokens);
        let bytes = len * 8;
        let fd = if shareable {
            // SAFETY: a NUL-terminated name and valid flags.
            let raw = unsafe { libc::memfd_create(c"socklab-metrics".as_ptr(), libc::MFD_CLOEXEC) };
            if raw < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: memfd_create returned a new fd that nothing else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            // SAFETY: a valid fd and length.
            if unsafe { libc::ftruncate(fd.as_raw_fd(), bytes as libc::off_t) } != 0 {
                return Err(io::Error::last_os_error());
            }
            Some(fd)
        } else {
            None
        };
        let region = Region::map(fd, len, slots, tokens)?;
        region.word(0).store(MAGIC, Relaxed);
        region.word(1).store(slots as u64, Relaxed);
        region.word(2).store(tokens as u64, Relaxed);
        Ok(region)
    }

    /// Map a region another process made, from its memfd.
    fn open(fd: OwnedFd) -> io::Result<Region> {
        let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, format!("not a socklab metrics region: {why}"));
        // SAFETY: fstat fills a stat struct for a valid fd.
        let size = unsafe {
            let mut stat: libc::stat = std::mem::zeroed();
            if libc::fstat(fd.as_raw_fd(), &mut stat) != 0 {
                return Err(io::Error::last_os_error());
            }
            stat.st_size as usize
        };
        if size < HEADER * 8 {
            return Err(bad("too small"));
        }
        let header = Region::map(Some(fd), size / 8, 0, 0)?;
        if header.word(0).load(Relaxed) != MAGIC {
            return Err(bad("wrong magic number"));
        }
        let slots = header.word(1).load(Relaxed) as usize;
        let tokens = header.word(2).load(Relaxed) as usize;
        if HEADER + slots * Region::slot_len(tokens) > header.len {
            return Err(bad("shorter than its header says"));
        }
        let mut region = header;
        region.slots = slots;
        region.tokens = tokens;
        Ok(region)
    }

    fn map(fd: Option<OwnedFd>, len: usize, slots: usize, tokens: usize) -> io::Result<Region> {
        let (flags, raw) = match &fd {
            Some(fd) => (libc::MAP_SHARED, fd.as_raw_fd()),
            None => (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1),
        };
        // SAFETY: a fresh mapping of `len` words; the kernel zero-fills it.
        let base =
            unsafe { libc::mmap(std::ptr::null_mut(), len * 8, libc::PROT_READ | libc::PROT_WRITE, flags, raw, 0) };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let words = NonNull::new(base.cast::<AtomicU64>()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(Region { words, len, slots, tokens, fd })
    }

    fn word(&self, index: usize) -> &AtomicU64 {
        assert!(index < self.len, "metrics word {index} outside the region");
        // SAFETY: in bounds, page-aligned base, mapped for the region's lifetime.
        unsafe { &*self.words.as_ptr().add(index) }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, no longer referenced.
        unsafe { libc::munmap(self.words.as_ptr().cast(), self.len * 8) };
    }
}

/// A process's view of the counters: every slot, and the one it writes to.
#[derive(Clone)]
pub struct Metrics {
    region: Arc<Region>,
    slot: usize,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("slot", &self.slot).field("slots", &self.region.slots).finish()
    }
}

impl Metrics {
    /// Counters for one process and `tokens` access tokens, not shared.
    pub fn private(tokens: usize) -> Metrics {
        let region = Region::create(1, tokens, false).expect("an anonymous mapping of a few KiB");
        Metrics { region: Arc::new(region), slot: 0 }
    }

    /// Counters that `slots` worker processes will share, in a memfd they inherit (see [`Metrics::fd`]).
    /// The returned view writes to slot 0.
    pub fn shared(slots: usize, tokens: usize) -> io::Result<Metrics> {
        Ok(Metrics { region: Arc::new(Region::create(slots.max(1), tokens, true)?), slot: 0 })
    }

    /// Map the region behind `fd` (made by [`Metrics::shared`]) and write to `slot`.
    pub fn attach(fd: OwnedFd, slot: usize) -> io::Result<Metrics> {
        let region = Region::open(fd)?;
        if slot >= region.slots {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("slot {slot} of {}", region.slots)));
        }
        Ok(Metrics { region: Arc::new(region), slot })
    }

    /// The memfd to hand to worker processes, when shared.
    pub fn fd(&self) -> Option<RawFd> {
        self.region.fd.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// This view, writing to another slot.
    pub fn for_slot(&self, slot: usize) -> Metrics {
        assert!(slot < self.region.slots);
        Metrics { region: self.region.clone(), slot }
    }

    /// Zero this slot's gauges: a (re)started worker begins with nothing open.
    pub fn reset_gauges(&self) {
        for scalar in Scalar::ALL.into_iter().filter(|s| s.is_gauge()) {
            self.word(scalar as usize).store(0, Relaxed);
        }
        for token in 0..self.region.tokens {
            self.word(TOKENS_AT + token).store(0, Relaxed);
        }
    }

    fn word(&self, offset: usize) -> &AtomicU64 {
        self.region.word(HEADER + self.slot * Region::slot_len(self.region.tokens) + offset)
    }

    fn add(&self, offset: usize, n: u64) {
        self.word(offset).fetch_add(n, Relaxed);
    }

    fn sub(&self, offset: usize, n: u64) {
        self.word(offset).fetch_sub(n, Relaxed);
    }

    /// The word at `offset` in every slot.
    fn every_slot(&self, offset: usize) -> impl Iterator<Item = u64> + '_ {
        let slot_len = Region::slot_len(self.region.tokens);
        (0..self.region.slots).map(move |slot| self.region.word(HEADER + slot * slot_len + offset).load(Relaxed))
    }

    /// The sum over every slot.
    fn sum(&self, offset: usize) -> u64 {
        self.every_slot(offset).fold(0, u64::wrapping_add)
    }

    fn max(&self, offset: usize) -> u64 {
        self.every_slot(offset).max().unwrap_or(0)
    }

    /// Sessions open in every process, and those of token number `token`.
    pub(crate) fn sessions_open(&self, token: usize) -> (u64, u64) {
        (self.sum(Scalar::SessionsOpen as usize), self.sum(self.token_offset(token)))
    }

    /// Sessions open in this process.
    pub(crate) fn sessions_open_here(&self) -> u64 {
        self.word(Scalar::SessionsOpen as usize).load(Relaxed)
    }

    /// Count a session of token number `token` in.
    pub(crate) fn session_entered(&self, token: usize) {
        self.add(Scalar::SessionsOpen as usize, 1);
        self.add(self.token_offset(token), 1);
    }

    /// Count it out.
    pub(crate) fn session_left(&self, token: usize) {
        self.sub(Scalar::SessionsOpen as usize, 1);
        self.sub(self.token_offset(token), 1);
    }

    pub(crate) fn session_admitted(&self) {
        self.add(Scalar::SessionsTotal as usize, 1);
    }

    fn token_offset(&self, token: usize) -> usize {
        // Past the region's count, tokens share its last counter (not in practice: it is sized to the list).
        TOKENS_AT + token.min(self.region.tokens.saturating_sub(1))
    }

    /// The exposition, every series present (zero or not).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(16 << 10);
        let scalar = |s: Scalar| self.sum(s as usize);
        let singles = [
            ("sessions_open", "gauge", "Sessions open (hello accepted).", scalar(Scalar::SessionsOpen)),
            ("sessions_total", "counter", "Sessions admitted since start.", scalar(Scalar::SessionsTotal)),
            (
                "websocket_connections_open",
                "gauge",
                "WebSocket connections open, before and after their hello.",
                scalar(Scalar::WebsocketsOpen),
            ),
            ("sockets_open", "gauge", "Sockets open in sessions.", scalar(Scalar::SocketsOpen)),
            ("namespaces_in_use", "gauge", "Network namespaces held by sessions.", scalar(Scalar::NamespacesInUse)),
            ("draining", "gauge", "1 once a shutdown began.", self.max(Scalar::Draining as usize)),
        ];
        for (name, kind, help, value) in singles {
            let _ = write!(out, "# HELP socklab_{name} {help}\n# TYPE socklab_{name} {kind}\nsocklab_{name} {value}\n");
        }

        // Calls refused before they start (--max-pending, --max-bytes, the connect rate) are in limits_hit.
        out.push_str("# HELP socklab_calls_total Socket calls the relay started, by op and how they ended.\n");
        out.push_str("# TYPE socklab_calls_total counter\n");
        for op in Op::ALL {
            for (result_index, result) in CallResult::ALL.iter().enumerate() {
                let value = self.sum(CALLS_AT + op.index() * CallResult::ALL.len() + result_index);
                let _ = writeln!(out, "socklab_calls_total{{op=\"{}\",result=\"{}\"}} {value}", op.name(), result.name());
            }
        }
        out.push_str("# HELP socklab_protocol_errors_total Error messages sent to clients, by code.\n");
        out.push_str("# TYPE socklab_protocol_errors_total counter\n");
        for (index, code) in ERROR_CODES.iter().enumerate() {
            let value = self.sum(ERRORS_AT + index);
            let _ = writeln!(out, "socklab_protocol_errors_total{{code=\"{}\"}} {value}", error_name(*code));
        }
        out.push_str("# HELP socklab_bytes_total Payload bytes through sessions' sockets.\n");
        out.push_str("# TYPE socklab_bytes_total counter\n");
        let _ = writeln!(out, "socklab_bytes_total{{direction=\"sent\"}} {}", scalar(Scalar::BytesSent));
        let _ = writeln!(out, "socklab_bytes_total{{direction=\"received\"}} {}", scalar(Scalar::BytesReceived));
        out.push_str("# HELP socklab_limits_hit_total Times a limit refused something or ended a session.\n");
        out.push_str("# TYPE socklab_limits_hit_total counter\n");
        for (index, limit) in Limit::ALL.iter().enumerate() {
            let value = self.sum(LIMITS_AT + index);
            let _ = writeln!(out, "socklab_limits_hit_total{{limit=\"{}\"}} {value}", limit.option());
        }
        out.push_str("# HELP socklab_session_setup_seconds Time to make a session's sandbox.\n");
        out.push_str("# TYPE socklab_session_setup_seconds histogram\n");
        let mut cumulative = 0u64;
        for (index, bound) in SETUP_BUCKETS.iter().enumerate() {
            cumulative += self.sum(BUCKETS_AT + index);
            let _ = writeln!(out, "socklab_session_setup_seconds_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        cumulative += self.sum(BUCKETS_AT + SETUP_BUCKETS.len());
        let _ = writeln!(out, "socklab_session_setup_seconds_bucket{{le=\"+Inf\"}} {cumulative}");
        let _ = writeln!(out, "socklab_session_setup_seconds_sum {}", scalar(Scalar::SetupMicros) as f64 / 1e6);
        let _ = writeln!(out, "socklab_session_setup_seconds_count {cumulative}");
        out
    }
}

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

static INSTALLED: OnceLock<Metrics> = OnceLock::new();

/// Make `metrics` the process's counters, for the hooks below. Once per process.
pub fn install(metrics: Metrics) {
    if INSTALLED.set(metrics).is_err() {
        tracing::warn!("metrics installed twice; keeping the first");
    }
}

fn installed() -> Option<&'static Metrics> {
    INSTALLED.get()
}

/// A call ended.
pub fn call_ended(op: Op, result: CallResult) {
    with_tally(|t| {
        t.calls.fetch_add(1, Relaxed);
        if result == CallResult::Errno {
            t.errno.fetch_add(1, Relaxed);
        }
    });
    let Some(metrics) = installed() else { return };
    let result_index = CallResult::ALL.iter().position(|r| *r == result).unwrap_or(0);
    metrics.add(CALLS_AT + op.index() * CallResult::ALL.len() + result_index, 1);
}

/// Payload bytes a session's socket sent.
pub fn bytes_sent(n: usize) {
    with_tally(|t| {
        t.bytes_sent.fetch_add(n as u64, Relaxed);
    });
    if let Some(metrics) = installed() {
        metrics.add(Scalar::BytesSent as usize, n as u64);
    }
}

/// Payload bytes a session's socket received.
pub fn bytes_received(n: usize) {
    with_tally(|t| {
        t.bytes_received.fetch_add(n as u64, Relaxed);
    });
    if let Some(metrics) = installed() {
        metrics.add(Scalar::BytesReceived as usize, n as u64);
    }
}

pub fn socket_opened() {
    with_tally(|t| {
        t.sockets.fetch_add(1, Relaxed);
    });
    if let Some(metrics) = installed() {
        metrics.add(Scalar::SocketsOpen as usize, 1);
    }
}

pub fn sockets_closed(n: usize) {
    if let Some(metrics) = installed() {
        metrics.sub(Scalar::SocketsOpen as usize, n as u64);
    }
}

/// An error message went to a client; `limit` is the limit that refused, if one did.
pub fn error_sent(code: ErrorCode, limit: Option<Limit>) {
    with_tally(|t| {
        t.errors.fetch_add(1, Relaxed);
        *lock(&t.last_error) = Some(code);
    });
    if let Some(metrics) = installed() {
        metrics.add(ERRORS_AT + error_index(code), 1);
    }
    if let Some(limit) = limit {
        limit_hit(limit);
    }
}

/// A limit refused something or ended a session.
pub fn limit_hit(limit: Limit) {
    if limit.ends_session() {
        with_tally(|t| *lock(&t.ended_by) = Some(limit));
    }
    if let Some(metrics) = installed() {
        let index = Limit::ALL.iter().position(|l| *l == limit).unwrap_or(0);
        metrics.add(LIMITS_AT + index, 1);
    }
}

/// A session's sandbox is ready: the histogram, and the session's start log line.
pub fn session_set_up(mode: SandboxMode, took: Duration) {
    if let Some(metrics) = installed() {
        let bucket = SETUP_BUCKETS.iter().position(|bound| took.as_secs_f64() <= *bound).unwrap_or(SETUP_BUCKETS.len());
        metrics.add(BUCKETS_AT + bucket, 1);
        metrics.add(Scalar::SetupMicros as usize, took.as_micros() as u64);
    }
    with_tally(|t| {
        *lock(&t.began) = Some(Instant::now());
        tracing::info!(target: "socklab::session", mode = ?mode, setup_ms = took.as_secs_f64() * 1e3, "session started");
    });
}

/// The relay began to shut down.
pub fn set_draining() {
    if let Some(metrics) = installed() {
        metrics.word(Scalar::Draining as usize).store(1, Relaxed);
    }
}

/// Counts one WebSocket connection open while held.
pub fn websocket_open() -> InUse {
    InUse::new(Scalar::WebsocketsOpen)
}

/// Counts one network namespace in use while held.
pub fn namespace_in_use() -> InUse {
    InUse::new(Scalar::NamespacesInUse)
}

/// One unit of a gauge, given back when dropped.
pub struct InUse {
    gauge: Scalar,
    /// Where it was counted, if anywhere.
    counted: Option<&'static Metrics>,
}

impl InUse {
    fn new(gauge: Scalar) -> InUse {
        let counted = installed();
        if let Some(metrics) = counted {
            metrics.add(gauge as usize, 1);
        }
        InUse { gauge, counted }
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        if let Some(metrics) = self.counted {
            metrics.sub(self.gauge as usize, 1);
        }
    }
}

/// One WebSocket session's totals, for its end log line.
#[derive(Debug, Default)]
pub struct SessionTally {
    /// Set when its sandbox was made: the session began.
    began: Mutex<Option<Instant>>,
    calls: AtomicU64,
    errno: AtomicU64,
    /// Error messages sent (refusals and protocol errors).
    errors: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
    /// Sockets made (created or accepted).
    sockets: AtomicU64,
    last_error: Mutex<Option<ErrorCode>>,
    /// The limit that ended it, if one did.
    ended_by: Mutex<Option<Limit>>,
}

tokio::task_local! {
    static TALLY: Arc<SessionTally>;
}

fn with_tally(f: impl FnOnce(&SessionTally)) {
    let _ = TALLY.try_with(|tally| f(tally));
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

impl SessionTally {
    /// Run `session` with this tally collecting its totals.
    pub async fn collect<F: Future>(self: Arc<SessionTally>, session: F) -> F::Output {
        TALLY.scope(self, session).await
    }

    /// The session's end log line, or a line saying why none began.
    pub fn log_end(&self, shutting_down: bool) {
        let ended = match *lock(&self.ended_by) {
            Some(limit) => limit.option(),
            None if shutting_down => "shutdown",
            None => "client closed",
        };
        let Some(began) = *lock(&self.began) else {
            let refused = lock(&self.last_error).map(error_name);
            let refused = refused.as_deref().unwrap_or("none");
            tracing::info!(target: "socklab::session", refused, ended, "WebSocket closed before a session began");
            return;
        };
        tracing::info!(
            target: "socklab::session",
            duration_s = began.elapsed().as_secs_f64(),
            calls = self.calls.load(Relaxed),
            errno = self.errno.load(Relaxed),
            errors = self.errors.load(Relaxed),
            bytes_sent = self.bytes_sent.load(Relaxed),
            bytes_received = self.bytes_received.load(Relaxed),
            sockets = self.sockets.load(Relaxed),
            ended,
            "session ended"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_add_up_and_a_restarted_slot_keeps_its_counters() {
        let shared = Metrics::shared(2, 1).unwrap();
        let (zero, one) = (shared.for_slot(0), shared.for_slot(1));
        zero.add(Scalar::BytesSent as usize, 5);
        one.add(Scalar::BytesSent as usize, 7);
        one.session_entered(0);
        zero.session_entered(0);
        assert_eq!(zero.sessions_open(0), (2, 2));
        one.reset_gauges();
        assert_eq!(zero.sessions_open(0), (1, 1), "the restarted worker's sessions are gone");
        assert_eq!(one.sum(Scalar::BytesSent as usize), 12, "counters survive a restart");
        // Another process maps the same memory through the fd.
        // SAFETY: dup of a valid fd.
        let dup = unsafe { OwnedFd::from_raw_fd(libc::dup(shared.fd().unwrap())) };
        let other = Metrics::attach(dup, 1).unwrap();
        other.add(Scalar::BytesSent as usize, 1);
        assert_eq!(zero.sum(Scalar::BytesSent as usize), 13);
    }
}
