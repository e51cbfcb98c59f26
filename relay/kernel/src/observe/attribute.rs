//! Which session a traced transition belongs to.
//!
//! The tracepoint fires for every socket of every namespace and carries no
//! namespace. Each session tells the router the connections it knows (its
//! sockets' local and peer addresses, learnt after each call) and marks the
//! threads that made its calls. A transition goes to a session by, in order:
//!
//! 1. the socket's kernel address (`skaddr`), once an earlier transition of the
//!    same socket was attributed without doubt (not for a transition that starts
//!    a new socket, whose address may be a freed socket's reused);
//! 2. its addresses and ports matching exactly one session's connections;
//! 3. the thread that was running: each session marks the thread of each of its
//!    calls (`after_call`, right after the syscall returns) and of each close
//!    (`closing`, right before). A transition in process context is the doing of
//!    the syscall on its thread, so it goes only to the session whose call that
//!    was (a socket of no session with the same ports, e.g. the relay's own, is
//!    never taken for a session's). A transition in softirq context on loopback
//!    usually runs in the thread that sent the packet; it is used to choose when
//!    several sessions hold the same addresses at the same moment (same ports in
//!    different namespaces).
//!
//! When none of these decides, the transition is held (its address may be learnt
//! a moment later) and dropped after [`HOLD`]: attribution never guesses.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use socklab_wire::tcp::TcpState;
use tokio::sync::mpsc;

use super::diag::same_ip;
use super::trace::Transition;

/// How long an unattributed transition waits for its session to learn its addresses.
pub(crate) const HOLD: Duration = Duration::from_secs(2);
/// The most transitions held at once; beyond it the oldest are dropped.
const MAX_HELD: usize = 4096;
/// Marks kept per thread.
const MARKS_PER_THREAD: usize = 64;

pub(crate) type SessionKey = u64;

/// A connection a session knows: its socket's addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnKey {
    pub local: SocketAddr,
    /// `None` while unconnected (a listener, or a socket not yet connected).
    pub peer: Option<SocketAddr>,
}

/// How a transition relates to a known connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyMatch {
    /// Same addresses and ports.
    Exact,
    /// A connection accepted by this listener, before `accept()` returned it.
    ChildOf,
    /// `connect()` before the kernel picked the local port (the tracepoint shows port 0).
    Connecting,
}

impl ConnKey {
    pub fn matches(&self, t: &Transition) -> Option<KeyMatch> {
        let family = if self.local.is_ipv4() && !is_v4_mapped(self.local.ip()) {
            libc::AF_INET
        } else {
            libc::AF_INET6
        };
        if i32::from(t.family) != family
            && !(t.family == libc::AF_INET as u16 && is_v4_mapped(self.local.ip()))
        {
            return None;
        }
        let ip_ok = |traced: Option<IpAddr>, known: IpAddr| {
            known.is_unspecified() || traced.is_none_or(|traced| same_ip(traced, known))
        };
        let peer_ok = |peer: SocketAddr| t.dport == peer.port() && ip_ok(t.daddr, peer.ip());
        if t.sport == self.local.port() && ip_ok(t.saddr, self.local.ip()) {
            return match self.peer {
                Some(peer) if peer_ok(peer) => Some(KeyMatch::Exact),
                Some(_) => None,
                None if t.dport == 0 => Some(KeyMatch::Exact),
                None => Some(KeyMatch::ChildOf),
            };
        }
        // Before the kernel picks the local port (the tracepoint then shows 0),
        // or before the session could learn it (a refused connect gives it back).
        match self.peer {
            Some(peer) if (t.sport == 0 || self.local.port() == 0) && peer_ok(peer) => {
                Some(KeyMatch::Connecting)
            }
            _ => None,
        }
    }
}

fn is_v4_mapped(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some())
}

/// Where routed transitions go, and what each session knows.
#[derive(Debug, Default)]
pub(crate) struct Router {
    state: Mutex<RouterState>,
}

#[derive(Debug, Default)]
struct RouterState {
    sessions: HashMap<SessionKey, SessionRoute>,
    by_skaddr: HashMap<u64, SessionKey>,
    /// Sessions by the ports of their known connections, and how many connections
    /// each: a decision looks only at the sessions that could match a transition's
    /// ports (see [`ConnKey::matches`]), not at every session.
    by_ports: HashMap<PortKey, HashMap<SessionKey, u32>>,
    held: VecDeque<(Instant, Transition)>,
    marks: HashMap<i32, VecDeque<Mark>>,
    next_key: SessionKey,
    /// Ports the relay itself listens on: its WebSocket connections are no session's.
    own_ports: Vec<u16>,
}

#[derive(Debug)]
struct SessionRoute {
    /// `None` once the session is gone: its late transitions still compete for
    /// attribution (so they are not taken for another session's) and are dropped.
    tx: Option<mpsc::UnboundedSender<Transition>>,
    /// Known connections, by the session's own socket handle.
    conns: HashMap<u32, ConnKey>,
    /// `CLOCK_MONOTONIC` when the session started: nothing earlier is its doing.
    start_ns: u64,
    /// For a gone session, when to forget it.
    gone_at: Option<Instant>,
}

/// The ports under which a connection can be matched by a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PortKey {
    /// Both ends known: a transition with these (source, destination) ports.
    Exact(u16, u16),
    /// A listener on this port: its own transitions and its children's.
    Listening(u16),
    /// Connecting to this peer port before the local port is known.
    Connecting(u16),
    /// Any connection to this peer port: for a transition whose own port is not picked yet.
    Peer(u16),
}

/// A session's call on a thread, at a `CLOCK_MONOTONIC` time.
#[derive(Debug, Clone, Copy)]
struct Mark {
    ts_ns: u64,
    session: SessionKey,
    kind: MarkKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarkKind {
    /// A call just returned: transitions on this thread since the previous mark were its doing.
    CallReturned,
    /// A close is about to start: transitions on this thread until the next mark may be its doing.
    Closing,
}

enum Verdict {
    To(SessionKey),
    /// Not now: may be decided once a session learns more.
    Undecided,
    /// Another process's: dropped.
    Foreign,
}

fn is_own_thread(tid: i32) -> bool {
    std::path::Path::new("/proc/self/task")
        .join(tid.to_string())
        .exists()
}

impl Router {
    pub fn register(&self, start_ns: u64) -> (SessionKey, mpsc::UnboundedReceiver<Transition>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut state = self.lock();
        state.next_key += 1;
        let key = state.next_key;
        let route = SessionRoute {
            tx: Some(tx),
            conns: HashMap::new(),
            start_ns,
            gone_at: None,
        };
        state.sessions.insert(key, route);
        (key, rx)
    }

    /// The session is gone; what it knew is kept for [`HOLD`] so that its late
    /// transitions are recognised as its own and dropped.
    pub fn unregister(&self, session: SessionKey) {
        let mut state = self.lock();
        if let Some(route) = state.sessions.get_mut(&session) {
            route.tx = None;
            route.gone_at = Some(Instant::now() + HOLD);
        }
        state.forget_gone();
    }

    /// Records (or, with `None`, forgets) what a session knows of one of its sockets.
    pub fn set_conn(&self, session: SessionKey, sock: u32, conn: Option<ConnKey>) {
        let mut state = self.lock();
        let Some(route) = state.sessions.get_mut(&session) else {
            return;
        };
        let old = match conn {
            Some(conn) => route.conns.insert(sock, conn),
            None => route.conns.remove(&sock),
        };
        if old != conn {
            if let Some(old) = old {
                state.index(session, old, false);
            }
            if let Some(conn) = conn {
                state.index(session, conn, true);
            }
            // Only a transition under one of the changed connections' ports can be decided anew.
            let changed: Vec<PortKey> = [old, conn].into_iter().flatten().flat_map(conn_keys).flatten().collect();
            // (Or its far end's, which it may now show to be another program's.)
            state.retry_held_where(|t| {
                changed.contains(&PortKey::Exact(t.dport, t.sport))
                    || transition_keys(t).into_iter().flatten().any(|key| changed.contains(&key))
            });
        }
    }

    /// Forgets a socket's kernel address (the session saw it end).
    pub fn forget_skaddr(&self, session: SessionKey, skaddr: u64) {
        let mut state = self.lock();
        if state.by_skaddr.get(&skaddr) == Some(&session) {
            state.by_skaddr.remove(&skaddr);
        }
    }

    /// The relay listens on `port`: a transition there that no session claims is
    /// one of the relay's own connections (a learner's WebSocket), not held.
    pub fn relay_listens_on(&self, port: u16) {
        self.lock().own_ports.push(port);
    }

    /// Marks the calling thread as working for `session` now.
    pub fn mark(&self, session: SessionKey, kind: MarkKind, ts_ns: u64) {
        let tid = thread_id();
        let mut state = self.lock();
        let marks = state.marks.entry(tid).or_default();
        marks.push_back(Mark {
            ts_ns,
            session,
            kind,
        });
        if marks.len() > MARKS_PER_THREAD {
            marks.pop_front();
        }
        // Only a transition made on this thread can be decided by this mark.
        state.retry_held_where(|t| t.pid == tid);
    }

    /// Re-examines held transitions (dropping expired ones); the tracer calls it when idle.
    pub fn tick(&self) {
        let mut state = self.lock();
        state.forget_gone();
        state.retry_held_where(|_| true);
    }

    /// Routes one transition from the tracer.
    pub fn dispatch(&self, t: Transition) {
        let mut state = self.lock();
        if t.starts_new_socket() {
            // The address now belongs to a new socket, maybe another program's: what
            // is known or held under it is of a socket that is gone.
            state.held.retain(|(_, held)| held.skaddr != t.skaddr);
            state.by_skaddr.remove(&t.skaddr);
        }
        // Keep one socket's transitions in order: behind any held one of its own.
        if state.held.iter().any(|(_, held)| held.skaddr == t.skaddr) {
            state.hold(t);
            return;
        }
        match state.decide(&t) {
            Verdict::To(session) => state.send(session, t),
            Verdict::Undecided => state.hold(t),
            Verdict::Foreign => {}
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RouterState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl RouterState {
    fn decide(&mut self, t: &Transition) -> Verdict {
        // A change made in process context by another program's syscall is not ours,
        // whatever its addresses (the host may use the same ports as a session).
        if !t.softirq && !is_own_thread(t.pid) {
            return Verdict::Foreign;
        }
        // The address is trusted only while the addresses agree: a freed socket's
        // memory may be reused by a socket whose first transition was not seen.
        if !t.starts_new_socket()
            && let Some(&session) = self.by_skaddr.get(&t.skaddr)
            && self
                .sessions
                .get(&session)
                .is_some_and(|route| route.conns.values().any(|c| c.matches(t).is_some()))
        {
            return Verdict::To(session);
        }
        let chosen = if t.softirq {
            let [exact, listening, connecting, any_to_peer] = transition_keys(t);
            let mut candidates = self.candidates(t, [exact, listening, connecting]);
            // Every session connected to the peer port (a crowd, all to one server) is
            // looked at only when no connection still getting its port matches: for a
            // transition held until after its connection learnt its port.
            if candidates.is_empty() && any_to_peer.is_some() {
                candidates = self.candidates(t, [any_to_peer, None, None]);
            }
            match candidates.as_slice() {
                [] => None,
                [only] => Some(*only),
                several => self.by_thread(t, |session| several.contains(&session)),
            }
        } else {
            // In process context the thread is the caller's: only the session whose
            // call it was may have it (not a socket of no session with the same ports).
            // Asked first, the thread's marks name at most two sessions to check,
            // where the ports alone (a connect before its port is picked) could name
            // every session connected to the same server.
            self.by_thread(t, |session| self.claims(session, t))
        };
        match chosen {
            Some(session) => {
                self.by_skaddr.insert(t.skaddr, session);
                Verdict::To(session)
            }
            None if self.unclaimed_and_foreign(t) => Verdict::Foreign,
            None => Verdict::Undecided,
        }
    }

    /// Session `session` has a connection `t` may be a transition of.
    fn claims(&self, session: SessionKey, t: &Transition) -> bool {
        // Trace timestamps have µs precision: allow for the truncation.
        self.sessions.get(&session).is_some_and(|route| {
            t.ts_ns + 1_000 >= route.start_ns && route.conns.values().any(|conn| conn.matches(t).is_some())
        })
    }

    /// The sessions with a connection `t` matches, among those indexed under `keys`.
    fn candidates(&self, t: &Transition, keys: [Option<PortKey>; 3]) -> Vec<SessionKey> {
        let mut candidates: Vec<SessionKey> = keys
            .iter()
            .flatten()
            .filter_map(|key| self.by_ports.get(key))
            .flat_map(|sessions| sessions.keys().copied())
            .filter(|&session| self.claims(session, t))
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }

    /// No session has a connection `t` matches, and `t` is the far end of a
    /// session's connection (the server a session connected to) or one of the
    /// relay's own WebSocket connections: another program's socket. Held, it would
    /// wait out HOLD for nothing, and a crowd connecting would hold thousands.
    fn unclaimed_and_foreign(&self, t: &Transition) -> bool {
        let far_end = self.by_ports.contains_key(&PortKey::Exact(t.dport, t.sport))
            || self.own_ports.iter().any(|&own| own == t.sport || own == t.dport);
        far_end
            && transition_keys(t)
                .iter()
                .flatten()
                .filter_map(|key| self.by_ports.get(key))
                .all(|sessions| sessions.keys().all(|&session| !self.claims(session, t)))
    }

    /// The session whose call was running on the transition's thread, if it is
    /// one of the `candidate`s and the only one.
    fn by_thread(&self, t: &Transition, candidate: impl Fn(SessionKey) -> bool) -> Option<SessionKey> {
        let marks = self.marks.get(&t.pid)?;
        let before = marks.iter().rev().find(|m| m.ts_ns <= t.ts_ns);
        let after = marks
            .iter()
            .find(|m| m.ts_ns > t.ts_ns && m.kind == MarkKind::CallReturned);
        let mut possible = Vec::with_capacity(2);
        if let Some(m) = before.filter(|m| m.kind == MarkKind::Closing) {
            possible.push(m.session);
        }
        if let Some(m) = after {
            possible.push(m.session);
        }
        possible.retain(|&s| candidate(s));
        possible.dedup();
        match possible.as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    }

    fn send(&mut self, session: SessionKey, t: Transition) {
        if let Some(tx) = self
            .sessions
            .get(&session)
            .and_then(|route| route.tx.as_ref())
        {
            let _ = tx.send(t);
        }
    }

    /// Forgets sessions gone for longer than [`HOLD`], with their marks and addresses.
    fn forget_gone(&mut self) {
        let now = Instant::now();
        let gone: Vec<SessionKey> = self
            .sessions
            .iter()
            .filter(|(_, route)| route.gone_at.is_some_and(|at| at <= now))
            .map(|(key, _)| *key)
            .collect();
        if gone.is_empty() {
            return;
        }
        self.sessions.retain(|key, _| !gone.contains(key));
        for sessions in self.by_ports.values_mut() {
            sessions.retain(|key, _| !gone.contains(key));
        }
        self.by_ports.retain(|_, sessions| !sessions.is_empty());
        self.by_skaddr.retain(|_, s| !gone.contains(s));
        for marks in self.marks.values_mut() {
            marks.retain(|m| !gone.contains(&m.session));
        }
        self.marks.retain(|_, marks| !marks.is_empty());
    }

    fn hold(&mut self, t: Transition) {
        if self.held.len() >= MAX_HELD {
            self.held.pop_front();
        }
        self.held.push_back((Instant::now(), t));
    }

    /// Counts (`add`) or uncounts a connection of `session` under its ports.
    fn index(&mut self, session: SessionKey, conn: ConnKey, add: bool) {
        for key in conn_keys(conn).into_iter().flatten() {
            let sessions = self.by_ports.entry(key).or_default();
            let count = sessions.entry(session).or_default();
            if add {
                *count += 1;
            } else {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    sessions.remove(&session);
                }
            }
            if sessions.is_empty() {
                self.by_ports.remove(&key);
            }
        }
    }

    /// Decides again the held transitions `relevant` picks (dropping those held too
    /// long); the others stay as they are. A socket's transitions stay in order: one
    /// behind a held one of the same socket waits. A change can only decide the
    /// transitions under its ports or on its thread: with thousands held (a crowd
    /// connecting to one server), deciding them all on every change was quadratic.
    fn retry_held_where(&mut self, relevant: impl Fn(&Transition) -> bool) {
        if !self.held.iter().any(|(_, t)| relevant(t)) {
            return;
        }
        let held = std::mem::take(&mut self.held);
        let now = Instant::now();
        for (since, t) in held {
            if !relevant(&t) || self.held.iter().any(|(_, earlier)| earlier.skaddr == t.skaddr) {
                self.held.push_back((since, t));
                continue;
            }
            match self.decide(&t) {
                Verdict::To(session) => self.send(session, t),
                Verdict::Undecided if now.duration_since(since) < HOLD => {
                    self.held.push_back((since, t));
                }
                Verdict::Foreign => {}
                Verdict::Undecided => {
                    tracing::debug!(skaddr = t.skaddr, from = %t.old, to = %t.new, "transition not attributed to any session");
                }
            }
        }
    }
}

/// The index keys a transition may be found under: its exact ports, a listener
/// on its source port, a connection still getting its port towards its
/// destination, and (no source port yet) any connection to its destination.
fn transition_keys(t: &Transition) -> [Option<PortKey>; 4] {
    // Port 0 is "listening" only for a listen() on an unbound socket (the port is
    // picked after the state changes); every fresh socket is indexed there.
    let listening = t.sport != 0 || t.new == TcpState::Listen || t.old == TcpState::Listen;
    [
        Some(PortKey::Exact(t.sport, t.dport)),
        listening.then_some(PortKey::Listening(t.sport)),
        Some(PortKey::Connecting(t.dport)),
        (t.sport == 0).then_some(PortKey::Peer(t.dport)),
    ]
}

/// The index keys a session's connection is counted under.
fn conn_keys(conn: ConnKey) -> [Option<PortKey>; 2] {
    let local = conn.local.port();
    match conn.peer.map(|peer| peer.port()) {
        None => [Some(PortKey::Listening(local)), None],
        Some(peer) => [
            Some(PortKey::Peer(peer)),
            Some(if local == 0 { PortKey::Connecting(peer) } else { PortKey::Exact(local, peer) }),
        ],
    }
}

/// The calling thread's id, asked of the kernel once per thread: marks are made on every call.
fn thread_id() -> libc::pid_t {
    thread_local! {
        // SAFETY: gettid(2) takes no arguments and cannot fail.
        static TID: libc::pid_t = unsafe { libc::gettid() };
    }
    TID.with(|tid| *tid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_wire::tcp::TcpState;
    use std::net::Ipv4Addr;

    fn transition(sport: u16, dport: u16, old: TcpState, new: TcpState) -> Transition {
        Transition {
            ts_ns: 1,
            pid: 1,
            softirq: false,
            skaddr: 0x10,
            old,
            new,
            family: libc::AF_INET as u16,
            sport,
            dport,
            saddr: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            daddr: Some(IpAddr::V4(if dport == 0 {
                Ipv4Addr::UNSPECIFIED
            } else {
                Ipv4Addr::LOCALHOST
            })),
        }
    }

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
    }

    #[test]
    fn keys_match_listeners_children_and_connects() {
        let listener = ConnKey {
            local: addr(5500),
            peer: None,
        };
        let client = ConnKey {
            local: addr(40000),
            peer: Some(addr(5500)),
        };
        assert_eq!(
            listener.matches(&transition(5500, 0, TcpState::Close, TcpState::Listen)),
            Some(KeyMatch::Exact)
        );
        assert_eq!(
            listener.matches(&transition(
                5500,
                40000,
                TcpState::Listen,
                TcpState::SynRecv
            )),
            Some(KeyMatch::ChildOf)
        );
        assert_eq!(
            client.matches(&transition(0, 5500, TcpState::Close, TcpState::SynSent)),
            Some(KeyMatch::Connecting)
        );
        assert_eq!(
            client.matches(&transition(
                40000,
                5500,
                TcpState::SynSent,
                TcpState::Established
            )),
            Some(KeyMatch::Exact)
        );
        assert_eq!(
            client.matches(&transition(
                40001,
                5500,
                TcpState::SynSent,
                TcpState::Established
            )),
            None
        );
    }

    #[test]
    fn the_far_end_of_a_sessions_connection_is_not_held() {
        let router = Router::default();
        let (a, mut rx) = router.register(0);
        // The session connected from 40000 to another program's server on 5500.
        let client = ConnKey { local: addr(40000), peer: Some(addr(5500)) };
        router.set_conn(a, 1, Some(client));
        for (old, new) in [(TcpState::Listen, TcpState::SynRecv), (TcpState::SynRecv, TcpState::Established)] {
            let mut t = transition(5500, 40000, old, new);
            t.softirq = true;
            t.skaddr = 0x20;
            router.dispatch(t);
        }
        assert!(rx.try_recv().is_err(), "the server's socket is not the session's");
        assert_eq!(router.lock().held.len(), 0, "nor is it held for later");
        // Held before the session knew its port, it goes once the port is known.
        let (b, _rx_b) = router.register(0);
        router.set_conn(b, 1, Some(ConnKey { local: addr(0), peer: Some(addr(5600)) }));
        let mut t = transition(5600, 40001, TcpState::Listen, TcpState::SynRecv);
        t.softirq = true;
        router.dispatch(t);
        assert_eq!(router.lock().held.len(), 1);
        router.set_conn(b, 1, Some(ConnKey { local: addr(40001), peer: Some(addr(5600)) }));
        assert_eq!(router.lock().held.len(), 0);
        // The relay's own WebSocket connections, either end, unless a session claims the port.
        router.relay_listens_on(8080);
        for (sport, dport) in [(8080, 50000), (50000, 8080)] {
            let mut t = transition(sport, dport, TcpState::SynSent, TcpState::Established);
            t.softirq = true;
            router.dispatch(t);
        }
        assert_eq!(router.lock().held.len(), 0);
        router.set_conn(a, 2, Some(ConnKey { local: addr(8080), peer: None }));
        let mut t = transition(8080, 50001, TcpState::Listen, TcpState::SynRecv);
        t.softirq = true;
        router.dispatch(t);
        assert!(rx.try_recv().is_ok(), "a session listening on the same port (in its namespace) gets its own");
    }

    #[test]
    fn same_addresses_in_two_sessions_are_not_guessed() {
        let router = Router::default();
        let (a, mut rx_a) = router.register(0);
        let (b, mut rx_b) = router.register(0);
        let listener = ConnKey {
            local: addr(5500),
            peer: None,
        };
        router.set_conn(a, 1, Some(listener));
        router.set_conn(b, 1, Some(listener));
        let mut t = transition(5500, 0, TcpState::Close, TcpState::Listen);
        t.softirq = true; // the interrupted thread says nothing
        t.pid = -5;
        router.dispatch(t);
        assert!(rx_a.try_recv().is_err());
        assert!(rx_b.try_recv().is_err());
        // A session that is gone still claims what matches it, for a while.
        router.unregister(b);
        router.tick();
        assert!(rx_a.try_recv().is_err());
        router.set_conn(b, 1, None);
        assert!(
            rx_a.try_recv().is_ok(),
            "once unambiguous, the held transition goes out"
        );
    }
}
