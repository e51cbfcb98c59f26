//! Limits that span calls or sessions: how many sessions may be open (in
//! total and per token), and each session's byte and connect-rate budgets.
//!
//! No I/O and no clock: time is an argument. Open sessions are counted in the
//! metrics region (plain atomics) so the session limits hold across workers. Every refusal is a
//! [`Refusal`]: a sentence that names the limit, its value and the option that raises it; the
//! session sends it as a `limit_exceeded` error (`too_large` for a message).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use socklab_wire::protocol::{Call, ErrorCode, Ret};

use crate::metrics::{Limit, Metrics};

/// Something a limit refused, or a session a limit ended.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("the relay already has {0} sessions open, the most it allows (--max-sessions)")]
    Sessions(usize),
    #[error(
        "this relay process already has {0} sessions open, as many as its open-files limit leaves \
         room for (--max-sessions; more --workers serve more)"
    )]
    SessionsHere(usize),
    #[error("this token already has {0} sessions open, the most allowed per token (--max-sessions-per-token)")]
    SessionsPerToken(usize),
    #[error("this session has moved {moved} bytes; {more} more would pass its budget of {budget} bytes (--max-bytes)")]
    Bytes { moved: u64, more: u64, budget: u64 },
    #[error(
        "more than {0} connects per second (connect, connect_ex, or sendto to a new address) \
         (--max-connects-per-second); wait a moment and try again"
    )]
    ConnectRate(u32),
    #[error("{0} calls are already pending, the most allowed (--max-pending)")]
    Pending(usize),
    #[error("this session already has {0} sockets open, the most allowed (the relay's --max-sockets)")]
    Sockets(usize),
    /// A recv larger than the relay's buffer; no option sets it.
    #[error("recv size {asked} is larger than this relay allows ({max} bytes)")]
    RecvSize { asked: usize, max: usize },
    /// MSG_WAITALL receives waiting at once would hold more than the relay keeps for them.
    #[error(
        "pending MSG_WAITALL receives of this session already hold up to {held} bytes; {asked} more would pass \
         the {max} bytes the relay keeps for them"
    )]
    PendingRecv { held: usize, asked: usize, max: usize },
    #[error("message of {size} bytes is larger than the {max} bytes this relay accepts (--max-message)")]
    Message { size: usize, max: usize },
    #[error("no hello within {} s of connecting (--handshake-timeout)", .0.as_secs_f64())]
    Hello(Duration),
    #[error("nothing heard from the client for {} s, not even an answer to a ping (--idle-timeout)", .0.as_secs_f64())]
    Idle(Duration),
    #[error("this session reached its lifetime of {} s (--session-lifetime); reconnect to go on", .0.as_secs_f64())]
    Lifetime(Duration),
}

impl Refusal {
    /// The configured limit it is, for the metrics.
    pub fn limit(&self) -> Option<Limit> {
        Some(match self {
            Refusal::Sessions(_) | Refusal::SessionsHere(_) => Limit::MaxSessions,
            Refusal::SessionsPerToken(_) => Limit::MaxSessionsPerToken,
            Refusal::Bytes { .. } => Limit::MaxBytes,
            Refusal::ConnectRate(_) => Limit::MaxConnectsPerSecond,
            Refusal::Pending(_) => Limit::MaxPending,
            Refusal::Sockets(_) => Limit::MaxSockets,
            Refusal::RecvSize { .. } | Refusal::PendingRecv { .. } => return None,
            Refusal::Message { .. } => Limit::MaxMessage,
            Refusal::Hello(_) => Limit::HandshakeTimeout,
            Refusal::Idle(_) => Limit::IdleTimeout,
            Refusal::Lifetime(_) => Limit::SessionLifetime,
        })
    }

    /// The protocol error it is sent as.
    pub fn code(&self) -> ErrorCode {
        match self {
            Refusal::Message { .. } => ErrorCode::TooLarge,
            Refusal::Sessions(_)
            | Refusal::SessionsHere(_)
            | Refusal::SessionsPerToken(_)
            | Refusal::Bytes { .. }
            | Refusal::ConnectRate(_)
            | Refusal::Pending(_)
            | Refusal::Sockets(_)
            | Refusal::RecvSize { .. }
            | Refusal::PendingRecv { .. }
            | Refusal::Hello(_)
            | Refusal::Idle(_)
            | Refusal::Lifetime(_) => ErrorCode::LimitExceeded,
        }
    }
}

/// Open sessions, in total and per token. Shared by every session of a relay,
/// and through the metrics region by every worker process.
#[derive(Debug)]
pub struct SessionGate {
    max_total: usize,
    max_per_token: usize,
    /// Sessions this process can hold within its open-files limit.
    max_here: usize,
    /// Where the open sessions are counted: this process's slot, summed over all.
    counts: Metrics,
}

/// A place in the gate; dropping it frees the place.
#[derive(Debug)]
pub struct SessionSlot {
    gate: Arc<SessionGate>,
    token: usize,
}

impl SessionGate {
    /// A gate counting in a region of its own, for tokens numbered below 64.
    pub fn new(max_total: usize, max_per_token: usize) -> Arc<SessionGate> {
        SessionGate::counting_in(max_total, max_per_token, max_total, Metrics::private(64))
    }

    /// A gate counting in `counts`, whose region is sized for the relay's tokens;
    /// `max_here` bounds the sessions of this process (its open files).
    pub fn counting_in(max_total: usize, max_per_token: usize, max_here: usize, counts: Metrics) -> Arc<SessionGate> {
        Arc::new(SessionGate { max_total, max_per_token, max_here, counts })
    }

    /// No limit: for tests and `socklab run`.
    pub fn unlimited() -> Arc<SessionGate> {
        SessionGate::new(usize::MAX, usize::MAX)
    }

    /// Take a place for a session authenticated with token number `token`.
    ///
    /// Optimistic, so it needs no lock across processes: count the session in,
    /// then look at the sums and count it out again if they are over. Two
    /// sessions racing for the last place may both be refused; none is ever
    /// let in past a limit.
    pub fn enter(self: &Arc<SessionGate>, token: usize) -> Result<SessionSlot, Refusal> {
        self.counts.session_entered(token);
        let slot = SessionSlot { gate: self.clone(), token };
        let (total, mine) = self.counts.sessions_open(token);
        if total > self.max_total as u64 {
            return Err(Refusal::Sessions(self.max_total));
        }
        if self.counts.sessions_open_here() > self.max_here as u64 {
            return Err(Refusal::SessionsHere(self.max_here));
        }
        if mine > self.max_per_token as u64 {
            return Err(Refusal::SessionsPerToken(self.max_per_token));
        }
        self.counts.session_admitted();
        Ok(slot)
    }

    /// No session may enter now: they are at the total limit.
    pub fn is_full(&self) -> bool {
        self.open() >= self.max_total || self.counts.sessions_open_here() >= self.max_here as u64
    }

    /// Sessions open now.
    pub fn open(&self) -> usize {
        usize::try_from(self.counts.sessions_open(0).0).unwrap_or(usize::MAX)
    }

    /// The most sessions open at once.
    pub fn max_total(&self) -> usize {
        self.max_total
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        self.gate.counts.session_left(self.token);
    }
}

/// What one session may still do. Zero switches a limit off.
#[derive(Debug, Clone, Copy)]
pub struct BudgetLimits {
    /// Bytes through send/sendall/sendto (asked to send) and recv/recvfrom (received).
    pub max_bytes: u64,
    /// connect/connect_ex calls, and sendto calls to a destination this session has
    /// not sent to before, per second (a bucket of this many, refilled continuously).
    pub connects_per_second: u32,
}

/// The running totals of one session.
#[derive(Debug)]
pub struct Budget {
    limits: BudgetLimits,
    bytes: u64,
    tokens: f64,
    refilled: Option<Instant>,
    /// sendto destinations already paid for; bounded, then every sendto pays.
    destinations: HashSet<String>,
}

/// How many distinct sendto destinations a session remembers.
const MAX_REMEMBERED_DESTINATIONS: usize = 1024;

impl Budget {
    pub fn new(limits: BudgetLimits) -> Budget {
        Budget {
            limits,
            bytes: 0,
            tokens: f64::from(limits.connects_per_second),
            refilled: None,
            destinations: HashSet::new(),
        }
    }

    /// Bytes counted so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// May `call` start now? Charges its outgoing bytes and its connect.
    pub fn admit(&mut self, call: &Call, now: Instant) -> Result<(), Refusal> {
        let outgoing = match call {
            Call::Send { data, .. } | Call::Sendall { data, .. } | Call::Sendto { data, .. } => data.b64.len() as u64,
            _ => 0,
        };
        let receives = matches!(call, Call::Recv { .. } | Call::Recvfrom { .. });
        if self.limits.max_bytes > 0 && (outgoing > 0 || receives) {
            let after = self.bytes.saturating_add(outgoing);
            if after > self.limits.max_bytes || (receives && self.bytes >= self.limits.max_bytes) {
                return Err(Refusal::Bytes { moved: self.bytes, more: outgoing, budget: self.limits.max_bytes });
            }
        }
        let dials = match call {
            Call::Connect { .. } | Call::ConnectEx { .. } => true,
            Call::Sendto { addr, .. } => {
                let key = format!("{addr:?}");
                if self.destinations.contains(&key) {
                    false
                } else {
                    if self.destinations.len() < MAX_REMEMBERED_DESTINATIONS {
                        self.destinations.insert(key);
                    }
                    true
                }
            }
            _ => false,
        };
        if dials && self.limits.connects_per_second > 0 {
            self.refill(now);
            if self.tokens < 1.0 {
                return Err(Refusal::ConnectRate(self.limits.connects_per_second));
            }
            self.tokens -= 1.0;
        }
        self.bytes = self.bytes.saturating_add(outgoing);
        Ok(())
    }

    /// Count what a finished call received.
    pub fn record(&mut self, ret: &Ret) {
        if let Ret::Bytes { data } | Ret::Datagram { data, .. } = ret {
            self.bytes = self.bytes.saturating_add(data.b64.len() as u64);
        }
    }

    fn refill(&mut self, now: Instant) {
        let rate = f64::from(self.limits.connects_per_second);
        if let Some(then) = self.refilled {
            let elapsed = now.saturating_duration_since(then).as_secs_f64();
            self.tokens = (self.tokens + elapsed * rate).min(rate);
        }
        self.refilled = Some(now);
    }
}

/// The timers of a session. `None` switches one off.
#[derive(Debug, Clone, Copy)]
pub struct SessionTimers {
    /// From the WebSocket upgrade to the hello.
    pub hello: Duration,
    /// How often the relay pings a quiet client.
    pub ping_interval: Option<Duration>,
    /// Nothing heard from the client (no message, no pong) for this long ends the session.
    pub idle: Option<Duration>,
    /// The longest a session may last.
    pub lifetime: Option<Duration>,
}

impl Default for SessionTimers {
    fn default() -> SessionTimers {
        SessionTimers {
            hello: Duration::from_secs(10),
            ping_interval: Some(Duration::from_secs(20)),
            idle: Some(Duration::from_secs(60)),
            lifetime: Some(Duration::from_secs(4 * 3600)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_wire::protocol::{Addr, Bytes};

    fn send(n: usize) -> Call {
        Call::Send { sock: 1, data: Bytes { b64: vec![0; n] }, flags: 0 }
    }

    fn connect(port: u16) -> Call {
        Call::Connect { sock: 1, addr: Addr::inet("127.0.0.1", port) }
    }

    fn sendto(port: u16) -> Call {
        Call::Sendto { sock: 1, data: Bytes { b64: vec![1] }, addr: Addr::inet("127.0.0.1", port), flags: 0 }
    }

    #[test]
    fn the_gate_counts_total_and_per_token_and_frees_on_drop() {
        let gate = SessionGate::new(3, 2);
        let a1 = gate.enter(0).unwrap();
        let _a2 = gate.enter(0).unwrap();
        assert!(gate.enter(0).unwrap_err().to_string().contains("--max-sessions-per-token"));
        let _b1 = gate.enter(1).unwrap();
        assert!(gate.enter(1).unwrap_err().to_string().contains("--max-sessions"));
        assert_eq!(gate.open(), 3);
        drop(a1);
        assert_eq!(gate.open(), 2);
        assert!(gate.enter(0).is_ok());
    }

    #[test]
    fn each_refusal_names_the_option_of_its_limit() {
        let second = Duration::from_secs(1);
        let refusals = [
            Refusal::Sessions(1),
            Refusal::SessionsHere(1),
            Refusal::SessionsPerToken(1),
            Refusal::Bytes { moved: 1, more: 1, budget: 1 },
            Refusal::ConnectRate(1),
            Refusal::Pending(1),
            Refusal::Sockets(1),
            Refusal::Message { size: 2, max: 1 },
            Refusal::Hello(second),
            Refusal::Idle(second),
            Refusal::Lifetime(second),
        ];
        for refusal in refusals {
            let limit = refusal.limit().unwrap_or_else(|| panic!("{refusal:?} is a configured limit"));
            let (message, flag) = (refusal.to_string(), format!("--{}", limit.option()));
            let mut words = message.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'));
            assert!(words.any(|word| word == flag), "{message} names {flag}");
        }
        assert_eq!(Refusal::RecvSize { asked: 2, max: 1 }.limit(), None);
        assert_eq!(Refusal::Message { size: 2, max: 1 }.code(), ErrorCode::TooLarge);
    }

    #[test]
    fn bytes_are_counted_both_ways_and_refused_past_the_budget() {
        let now = Instant::now();
        let mut budget = Budget::new(BudgetLimits { max_bytes: 100, connects_per_second: 0 });
        budget.admit(&send(60), now).unwrap();
        budget.record(&Ret::Bytes { data: Bytes { b64: vec![0; 30] } });
        assert_eq!(budget.bytes(), 90);
        let err = budget.admit(&send(11), now).unwrap_err().to_string();
        assert!(err.contains("100 bytes") && err.contains("--max-bytes"), "{err}");
        budget.admit(&send(10), now).unwrap();
        let recv = Call::Recv { sock: 1, n: 10, flags: 0 };
        assert!(budget.admit(&recv, now).is_err(), "the budget is spent");
        assert!(budget.admit(&Call::Close { sock: 1 }, now).is_ok(), "other calls go on");
    }

    #[test]
    fn connects_are_rate_limited_and_refill() {
        let start = Instant::now();
        let mut budget = Budget::new(BudgetLimits { max_bytes: 0, connects_per_second: 3 });
        for port in 0..3 {
            budget.admit(&connect(5000 + port), start).unwrap();
        }
        let err = budget.admit(&connect(5003), start).unwrap_err().to_string();
        assert!(err.contains("3 connects per second"), "{err}");
        budget.admit(&connect(5003), start + Duration::from_millis(400)).unwrap();
        // sendto pays once per new destination.
        let later = start + Duration::from_secs(10);
        budget.admit(&sendto(9000), later).unwrap();
        for _ in 0..10 {
            budget.admit(&sendto(9000), later).unwrap();
        }
        budget.admit(&sendto(9001), later).unwrap();
        budget.admit(&sendto(9002), later).unwrap();
        assert!(budget.admit(&sendto(9003), later).is_err());
    }
}
