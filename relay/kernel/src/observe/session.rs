//! One session's observation: its sockets, their states, and the events it streams.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use socklab_wire::protocol::{Event, SockId};
use socklab_wire::tcp::TcpState;
use socklab_wire::tcpinfo::TcpInfo;
use tokio::sync::{Notify, mpsc};

use super::attribute::{ConnKey, HOLD, KeyMatch, MarkKind, SessionKey};
use super::capture::{Capture, Segment};
use super::links::{FrameLog, LinkCapture};
use crate::hosts::Network;
use super::diag::{Diag, DiagEntry, same_ip};
use super::sample::sample;
use super::tcp_state::{is_transient, may_become_timewait};
use super::tcpinfo;
use super::trace::Transition;
use super::{Observer, mono_ns};
use crate::netns::Netns;

/// How often open sockets (sampled mode), sockets with data in flight (`TCP_INFO`)
/// and closed connections (sock_diag) are looked at.
const POLL_EVERY: Duration = Duration::from_millis(20);
/// How often a connection is looked at once only its TIME_WAIT is left: the kernel's
/// next word on it is its end, a minute later, and each look is a sock_diag dump.
const TIMEWAIT_POLL_EVERY: Duration = Duration::from_secs(1);

/// Observation for one session. Dropping it releases everything it holds.
pub struct SessionObserver {
    observer: Arc<Observer>,
    /// This session's key in the router.
    key: SessionKey,
    /// Whether transitions come from the tracepoint (else sampled).
    traced: bool,
    /// The event sources `next_event` reads; behind an async lock so that the
    /// hooks and `next_event` can share one `Arc<SessionObserver>`.
    sources: tokio::sync::Mutex<Sources>,
    /// What `track`/`after_call`/`closing` (which take `&self`) share with `next_event`.
    inner: Mutex<Inner>,
    /// Wakes a waiting `next_event` when `track`/`after_call` queued an event.
    wake: Notify,
    /// Kept so the namespace outlives the diag and capture sockets made in it.
    _netns: Option<Arc<Netns>>,
}

impl std::fmt::Debug for SessionObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionObserver")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

struct Sources {
    /// Transitions the router attributed to this session; `None` in sampled mode.
    transitions: Option<mpsc::UnboundedReceiver<Transition>>,
    /// The wire view; `None` without capture.
    capture: Option<Capture>,
    /// The wire view of the session's hosts, once it has some.
    links: Option<LinkCapture>,
}

struct Inner {
    traced: bool,
    /// `CLOCK_MONOTONIC` at creation: `ts_us` counts from here.
    start_ns: u64,
    socks: HashMap<SockId, Tracked>,
    /// Kernel socket address → handle, learnt from attributed transitions.
    skaddrs: HashMap<u64, SockId>,
    /// This session's transitions whose socket is not known yet (e.g. a child
    /// before `accept()` returns it), oldest first.
    held: VecDeque<(Instant, Transition)>,
    out: VecDeque<Event>,
    /// sock_diag in the session's namespace; `None` if it could not be opened.
    diag: Option<Diag>,
    /// sock_diag in each host's namespace, by the namespace's inode: a host's
    /// closed connections are listed there only.
    host_diags: Vec<(u64, Diag)>,
    next_poll: Instant,
    router: Arc<super::attribute::Router>,
    key: SessionKey,
    /// Whether `TCP_INFO` samples are streamed.
    tcp_info: bool,
    /// The hosts' capture, made by `watch_network`, until `next_event` takes it.
    new_links: Option<LinkCapture>,
    /// Where the hosts' frames are kept for an export, when asked.
    frames: Option<FrameLog>,
}

/// What the session knows of one TCP socket.
#[derive(Debug)]
struct Tracked {
    /// The open fd; `None` once `closing` was called.
    fd: Option<RawFd>,
    conn: Option<ConnKey>,
    /// The last state reported.
    state: TcpState,
    /// The connection is followed with sock_diag (fd closed, or a timewait bucket).
    followed: bool,
    /// When to forget the socket (it is done; late transitions may still come until then).
    forget_at: Option<Instant>,
    /// Kernel addresses attributed to this socket, to forget with it.
    skaddrs: Vec<u64>,
    /// Consecutive sock_diag looks that did not find the followed connection:
    /// it is reported gone only on the second (a dump was seen to miss one, rarely).
    misses: u8,
    /// The last `TCP_INFO` sample streamed.
    info: Option<TcpInfo>,
    /// The inode of the network namespace the socket lives in (0 if unknown).
    ns: u64,
}

impl SessionObserver {
    pub(super) fn new(observer: Arc<Observer>, netns: Option<Arc<Netns>>) -> SessionObserver {
        let start_ns = mono_ns();
        let (key, rx) = observer.router.register(start_ns);
        let traced = observer.traced();
        let diag = match Diag::open(netns.as_deref()) {
            Ok(diag) => Some(diag),
            Err(error) => {
                tracing::warn!(%error, "no sock_diag for this session: closed connections are not followed");
                None
            }
        };
        let capture = match (&netns, observer.capture.is_ok()) {
            (Some(netns), true) => match Capture::open(netns) {
                Ok(capture) => Some(capture),
                Err(error) => {
                    tracing::warn!(%error, "no capture for this session");
                    None
                }
            },
            _ => None,
        };
        let inner = Inner {
            traced,
            start_ns,
            socks: HashMap::new(),
            skaddrs: HashMap::new(),
            held: VecDeque::new(),
            out: VecDeque::new(),
            diag,
            host_diags: Vec::new(),
            next_poll: Instant::now(),
            router: observer.router.clone(),
            key,
            tcp_info: true,
            new_links: None,
            frames: None,
        };
        SessionObserver {
            traced,
            sources: tokio::sync::Mutex::new(Sources { transitions: traced.then_some(rx), capture, links: None }),
            observer,
            key,
            inner: Mutex::new(inner),
            wake: Notify::new(),
            _netns: netns,
        }
    }

    /// A TCP socket of this session was created or accepted (call right after
    /// `socket()`/`accept()`).
    pub fn track(&self, sock: SockId, fd: RawFd) {
        self.mark(MarkKind::CallReturned);
        let mut inner = self.lock();
        let now = sample(fd);
        let conn = now.local.map(|local| ConnKey {
            local,
            peer: now.peer,
        });
        let state = now.state.unwrap_or(TcpState::Close);
        // Only hosts' sockets live outside the session's namespace; a session
        // without hosts skips the three system calls.
        let ns = if inner.host_diags.is_empty() { 0 } else { socket_netns(fd).unwrap_or(0) };
        inner.socks.insert(
            sock,
            Tracked {
                fd: Some(fd),
                conn,
                state: TcpState::Close,
                followed: false,
                forget_at: None,
                skaddrs: Vec::new(),
                misses: 0,
                info: None,
                ns,
            },
        );
        inner.sample_info(sock, fd);
        inner.router.set_conn(inner.key, sock, conn);
        if inner.traced {
            inner.retry_held();
        } else if state != TcpState::Close {
            // Sampling never sees an accepted socket's SYN_RECV, but every one passed through it.
            let from = if now.peer.is_some() {
                TcpState::SynRecv
            } else {
                TcpState::Close
            };
            inner.sampled_change(sock, from, state);
        }
        drop(inner);
        self.wake.notify_one();
    }

    /// A call on a tracked socket just returned.
    pub fn after_call(&self, sock: SockId, fd: RawFd) {
        self.mark(MarkKind::CallReturned);
        let mut inner = self.lock();
        let Some(tracked) = inner.socks.get(&sock) else {
            return;
        };
        if tracked.fd.is_none() {
            return;
        }
        // Traced, a connection whose two ends are known has nothing left to learn from
        // its fd but its TCP_INFO: its states come from the tracepoint.
        let known = tracked.conn.is_some_and(|c| c.peer.is_some() && c.local.port() != 0);
        let sampled = inner.sample_info(sock, fd);
        if inner.traced && known {
            drop(inner);
            if sampled {
                self.wake.notify_one();
            }
            return;
        }
        inner.refresh(sock, fd);
        drop(inner);
        self.wake.notify_one();
    }

    /// `connect()` to `peer` is about to be called on a tracked socket. Optional,
    /// but without it a connect that fails at once (refused) cannot be told apart:
    /// the socket has neither a local port nor a peer afterwards.
    pub fn connecting(&self, sock: SockId, fd: RawFd, peer: SocketAddr) {
        let mut inner = self.lock();
        let local = sample(fd).local.unwrap_or_else(|| unspecified_like(peer));
        let key = inner.key;
        let router = inner.router.clone();
        let Some(tracked) = inner.socks.get_mut(&sock) else {
            return;
        };
        let conn = ConnKey {
            local,
            peer: Some(peer),
        };
        tracked.conn = Some(conn);
        router.set_conn(key, sock, Some(conn));
    }

    /// The fd is about to be closed: its connection is followed until the kernel drops it.
    pub fn closing(&self, sock: SockId, fd: RawFd) {
        self.mark(MarkKind::Closing);
        let mut inner = self.lock();
        if inner.socks.get(&sock).is_none_or(|t| t.fd.is_none()) {
            return;
        }
        inner.sample_info(sock, fd);
        let state_now = inner.refresh(sock, fd);
        let traced = inner.traced;
        let Some(tracked) = inner.socks.get_mut(&sock) else {
            return;
        };
        tracked.fd = None;
        if state_now == Some(TcpState::Close) || tracked.conn.is_none() {
            // Nothing left in the kernel; only transitions already on their way may still come.
            tracked.forget_at = Some(Instant::now() + HOLD);
        } else if !traced {
            tracked.followed = true;
        }
        drop(inner);
        self.wake.notify_one();
    }

    /// Keeps the frames the session's hosts send from now on, up to
    /// `max_bytes` of them (for a pcapng export).
    pub fn keep_frames(&self, max_bytes: usize) -> FrameLog {
        let log = || Arc::new(Mutex::new(super::links::KeptFrames { max_bytes, ..Default::default() }));
        self.lock().frames.get_or_insert_with(log).clone()
    }

    /// Follows closed connections and captures on every host of `network`
    /// (once its hosts are made).
    pub fn watch_network(&self, network: &Network) {
        let diags: Vec<(u64, Diag)> = network
            .hosts()
            .iter()
            .filter_map(|host| match Diag::open(Some(&host.netns)) {
                Ok(diag) => Some((host.netns.id(), diag)),
                Err(error) => {
                    tracing::warn!(%error, host = %host.name, "no sock_diag on this host: its closed connections are not followed");
                    None
                }
            })
            .collect();
        self.lock().host_diags.extend(diags);
        if self.observer.capture.is_err() {
            return;
        }
        let log = self.lock().frames.clone();
        match LinkCapture::open(network, log) {
            Ok(links) => {
                self.lock().new_links = Some(links);
                self.wake.notify_one();
            }
            Err(error) => tracing::warn!(%error, "no capture on this session's links"),
        }
    }

    /// The next state or segment event, in order of occurrence. Cancel-safe.
    pub async fn next_event(&self) -> Event {
        let mut sources = self.sources.lock().await;
        let sources = &mut *sources;
        loop {
            let next_poll = {
                let mut inner = self.lock();
                if let Some(links) = inner.new_links.take() {
                    sources.links = Some(links);
                }
                if let Some(event) = inner.out.pop_front() {
                    return event;
                }
                inner.needs_polling().then_some(inner.next_poll)
            };
            let wake = tokio::select! {
                Some(t) = recv_or_pending(sources.transitions.as_mut()) => Wake::Transition(t),
                segment = next_segment(sources.capture.as_mut()) => Wake::Segment(segment),
                sent = next_on_links(sources.links.as_mut()) => Wake::Sent(sent),
                () = sleep_until_or_pending(next_poll) => Wake::Poll,
                () = self.wake.notified() => Wake::Nothing,
            };
            let mut inner = self.lock();
            match wake {
                Wake::Transition(t) => {
                    inner.on_transition(t);
                    if let Some(rx) = sources.transitions.as_mut() {
                        while let Ok(t) = rx.try_recv() {
                            inner.on_transition(t);
                        }
                    }
                }
                Wake::Segment(Ok((segment, received_ns))) => inner.on_segment(segment, received_ns),
                Wake::Segment(Err(error)) => {
                    tracing::warn!(%error, "capture failed; no more segments in this session");
                    sources.capture = None;
                }
                Wake::Sent(Ok((segment, host, received_ns))) => inner.on_sent(segment, host, received_ns),
                Wake::Sent(Err(error)) => {
                    tracing::warn!(%error, "capture on the links failed; no more segments from the hosts");
                    sources.links = None;
                }
                Wake::Poll => inner.poll(),
                Wake::Nothing => {}
            }
        }
    }

    /// Waits until no event has come for `quiet` and no connection is in a
    /// transient state, or `max` has passed; returns the events that came.
    pub async fn settle(&self, quiet: Duration, max: Duration) -> Vec<Event> {
        let deadline = tokio::time::Instant::now() + max;
        let mut events = Vec::new();
        loop {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return events;
            }
            let wait = quiet.min(deadline - now);
            match tokio::time::timeout(wait, self.next_event()).await {
                Ok(event) => events.push(event),
                Err(_) => {
                    if !self.lock().has_transient() {
                        return events;
                    }
                }
            }
        }
    }

    /// Whether `TCP_INFO` samples are taken and streamed (on by default).
    pub fn sample_tcp_info(&self, on: bool) {
        self.lock().tcp_info = on;
    }

    /// Microseconds since this observer was made, on the clock of `ts_us`
    /// (to put other things, e.g. call results, on the same timeline).
    pub fn now_us(&self) -> u64 {
        self.at_us(mono_ns())
    }

    /// A `CLOCK_MONOTONIC` time ([`super::mono_ns`]) on the clock of `ts_us`.
    pub fn at_us(&self, mono_ns: u64) -> u64 {
        mono_ns.saturating_sub(self.lock().start_ns) / 1_000
    }

    fn mark(&self, kind: MarkKind) {
        if self.traced {
            self.observer.router.mark(self.key, kind, mono_ns());
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for SessionObserver {
    fn drop(&mut self) {
        self.observer.router.unregister(self.key);
    }
}

enum Wake {
    Transition(Transition),
    Segment(std::io::Result<(Segment, u64)>),
    /// A packet a host sent, with the host and the kernel's capture time.
    Sent(std::io::Result<(Segment, String, u64)>),
    Poll,
    Nothing,
}

async fn recv_or_pending(
    rx: Option<&mut mpsc::UnboundedReceiver<Transition>>,
) -> Option<Transition> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn next_on_links(links: Option<&mut LinkCapture>) -> std::io::Result<(Segment, String, u64)> {
    match links {
        Some(links) => links.next().await,
        None => std::future::pending().await,
    }
}

async fn next_segment(capture: Option<&mut Capture>) -> std::io::Result<(Segment, u64)> {
    match capture {
        Some(capture) => capture.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_or_pending(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

impl Inner {
    fn ts_us(&self, ts_ns: u64) -> u64 {
        ts_ns.saturating_sub(self.start_ns) / 1_000
    }

    fn emit_state(
        &mut self,
        sock: Option<SockId>,
        from: TcpState,
        to: TcpState,
        local: SocketAddr,
        peer: SocketAddr,
        ts_ns: u64,
    ) {
        tracing::debug!(sock, %from, %to, %local, %peer, "tcp state");
        let ts_us = self.ts_us(ts_ns);
        self.out.push_back(Event::State {
            sock,
            from,
            to,
            local: local.to_string(),
            peer: peer.to_string(),
            ts_us,
        });
    }

    /// Looks at an open socket's `TCP_INFO` and queues and streams them if they
    /// changed; keeps looking every [`POLL_EVERY`] while data is in flight.
    /// Returns whether a sample was queued.
    fn sample_info(&mut self, sock: SockId, fd: RawFd) -> bool {
        if !self.tcp_info {
            return false;
        }
        let Some(info) = tcpinfo::look(fd) else {
            return false;
        };
        if info.in_flight() {
            self.poll_soon();
        }
        let Some(tracked) = self.socks.get_mut(&sock) else {
            return false;
        };
        if tracked.info == Some(info) {
            return false;
        }
        tracked.info = Some(info);
        let ts_us = self.ts_us(mono_ns());
        self.out.push_back(Event::TcpInfo { sock, info, ts_us });
        true
    }

    /// Sockets whose last sample had data in flight: the sampler looks again.
    fn in_flight(&self) -> impl Iterator<Item = (SockId, RawFd)> + '_ {
        self.socks.iter().filter_map(|(sock, t)| {
            let fd = t.fd?;
            (self.tcp_info && t.info.is_some_and(|i| i.in_flight())).then_some((*sock, fd))
        })
    }

    /// Re-reads an open socket's addresses (and, sampled, its state). Returns the state seen.
    fn refresh(&mut self, sock: SockId, fd: RawFd) -> Option<TcpState> {
        let now = sample(fd);
        let tracked = self.socks.get_mut(&sock)?;
        // A failed connect leaves no peer to read back; keep the one `connecting` gave.
        let previous_peer = tracked.conn.and_then(|c| c.peer);
        let conn = now.local.map(|local| ConnKey {
            local,
            peer: now.peer.or(previous_peer),
        });
        if conn.is_some() && conn != tracked.conn {
            tracked.conn = conn;
            self.router.set_conn(self.key, sock, conn);
            if self.traced {
                self.retry_held();
            }
        }
        if !self.traced
            && let Some(state) = now.state
        {
            let from = self.socks.get(&sock).map(|t| t.state)?;
            if state != from {
                self.sampled_change(sock, from, state);
            }
        }
        now.state
    }

    /// Reports a change that sampling found (now).
    fn sampled_change(&mut self, sock: SockId, from: TcpState, to: TcpState) {
        let Some(tracked) = self.socks.get_mut(&sock) else {
            return;
        };
        tracked.state = to;
        let (local, peer) = endpoints(tracked.conn);
        self.emit_state(Some(sock), from, to, local, peer, mono_ns());
    }

    fn on_transition(&mut self, t: Transition) {
        if t.starts_new_socket() && self.held.iter().any(|(_, held)| held.skaddr == t.skaddr) {
            // A socket that is gone (e.g. a connection never accepted): report what
            // it did without a handle rather than hold the new socket behind it.
            let (gone, kept): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut self.held)
                .into_iter()
                .partition(|(_, held)| held.skaddr == t.skaddr);
            self.held = kept;
            for (_, old) in gone {
                self.apply(None, old);
            }
        }
        if self.held.iter().any(|(_, held)| held.skaddr == t.skaddr) {
            self.held.push_back((Instant::now(), t));
            self.poll_soon();
            return;
        }
        match self.resolve(&t) {
            Resolution::Sock(sock) => self.apply(Some(sock), t),
            Resolution::Later => {
                self.held.push_back((Instant::now(), t));
                self.poll_soon();
            }
        }
    }

    fn resolve(&mut self, t: &Transition) -> Resolution {
        if !t.starts_new_socket()
            && let Some(&sock) = self.skaddrs.get(&t.skaddr)
            && self
                .socks
                .get(&sock)
                .and_then(|s| s.conn)
                .is_some_and(|c| c.matches(t).is_some())
        {
            return Resolution::Sock(sock);
        }
        let mut exact = Vec::new();
        let mut connecting = Vec::new();
        for (sock, tracked) in &self.socks {
            match tracked.conn.and_then(|conn| conn.matches(t)) {
                Some(KeyMatch::Exact) => exact.push(*sock),
                Some(KeyMatch::Connecting) => connecting.push(*sock),
                Some(KeyMatch::ChildOf) | None => {}
            }
        }
        // A listener and an accepted socket can share a local address; the
        // accepted one is the exact match when the peer is known too.
        if exact.len() > 1 && t.dport != 0 {
            exact.retain(|sock| {
                self.socks
                    .get(sock)
                    .is_some_and(|s| s.conn.is_some_and(|c| c.peer.is_some()))
            });
        }
        let sock = match (exact.as_slice(), connecting.as_slice()) {
            ([only], _) | ([], [only]) => *only,
            _ => return Resolution::Later,
        };
        if let Some(previous) = self.skaddrs.insert(t.skaddr, sock)
            && previous != sock
            && let Some(old) = self.socks.get_mut(&previous)
        {
            old.skaddrs.retain(|s| *s != t.skaddr);
        }
        if let Some(tracked) = self.socks.get_mut(&sock) {
            tracked.skaddrs.push(t.skaddr);
        }
        Resolution::Sock(sock)
    }

    fn retry_held(&mut self) {
        let held = std::mem::take(&mut self.held);
        let now = Instant::now();
        let mut blocked = Vec::new();
        for (since, t) in held {
            if blocked.contains(&t.skaddr) {
                self.held.push_back((since, t));
                continue;
            }
            match self.resolve(&t) {
                Resolution::Sock(sock) => self.apply(Some(sock), t),
                Resolution::Later if now.duration_since(since) < HOLD => {
                    blocked.push(t.skaddr);
                    self.held.push_back((since, t));
                }
                // The session's, but no socket of it (e.g. a connection never accepted).
                Resolution::Later => self.apply(None, t),
            }
        }
    }

    /// Reports a traced transition, turning a hand-off to a timewait bucket into
    /// the state the bucket is in.
    fn apply(&mut self, sock: Option<SockId>, t: Transition) {
        let known = sock.and_then(|s| self.socks.get(&s)).and_then(|s| s.conn);
        let ns = sock.and_then(|s| self.socks.get(&s)).map_or(0, |s| s.ns);
        let (local, peer) = traced_endpoints(&t, known);
        let mut to = t.new;
        if t.new == TcpState::Close
            && may_become_timewait(t.old)
            && let Some(bucket) = self.find_bucket(ns, local, peer)
        {
            to = bucket.state;
            if let Some(tracked) = sock.and_then(|s| self.socks.get_mut(&s)) {
                tracked.followed = true;
            }
            self.poll_soon();
        }
        if let Some(tracked) = sock.and_then(|s| self.socks.get_mut(&s)) {
            tracked.state = to;
            if to == TcpState::Close && tracked.fd.is_none() {
                tracked.forget_at = Some(Instant::now() + HOLD);
            }
        }
        if to != t.old {
            self.emit_state(sock, t.old, to, local, peer, t.ts_ns);
        }
    }

    /// sock_diag in the namespace with inode `ns` (the session's, if no host has it).
    fn diag_in(&mut self, ns: u64) -> Option<&mut Diag> {
        match self.host_diags.iter().position(|(id, _)| *id == ns) {
            Some(index) => Some(&mut self.host_diags[index].1),
            None => self.diag.as_mut(),
        }
    }

    fn find_bucket(&mut self, ns: u64, local: SocketAddr, peer: SocketAddr) -> Option<DiagEntry> {
        let diag = self.diag_in(ns)?;
        // A second look when the first misses (see `Tracked::misses`).
        match diag.find(local, peer).and_then(|found| match found {
            Some(entry) => Ok(Some(entry)),
            None => diag.find(local, peer),
        }) {
            Ok(entry) => {
                entry.filter(|e| matches!(e.state, TcpState::FinWait2 | TcpState::TimeWait))
            }
            Err(error) => {
                tracing::warn!(%error, "sock_diag lookup failed");
                None
            }
        }
    }

    /// A packet `host` sent on its link.
    fn on_sent(&mut self, segment: Segment, host: String, received_ns: u64) {
        self.on_segment(segment, received_ns);
        if let Some(Event::Segment { host: from, .. }) = self.out.back_mut() {
            *from = Some(host);
        }
    }

    fn on_segment(&mut self, segment: Segment, received_ns: u64) {
        let ts_us = self.ts_us(received_ns);
        self.out.push_back(Event::Segment {
            host: None,
            src: segment.src,
            dst: segment.dst,
            proto: segment.proto.to_string(),
            flags: segment.flags,
            seq: segment.seq,
            ack: segment.ack,
            len: segment.len,
            ts_us,
            expert: segment.expert,
        });
    }

    fn needs_polling(&self) -> bool {
        !self.held.is_empty()
            || self.in_flight().next().is_some()
            || self
                .socks
                .values()
                .any(|t| t.followed || t.forget_at.is_some() || (!self.traced && t.fd.is_some()))
    }

    fn has_transient(&self) -> bool {
        !self.held.is_empty()
            || self
                .socks
                .values()
                .any(|t| (t.fd.is_some() || t.followed) && is_transient(t.state))
    }

    /// The next periodic look comes within [`POLL_EVERY`].
    fn poll_soon(&mut self) {
        self.next_poll = self.next_poll.min(Instant::now() + POLL_EVERY);
    }

    /// Whether the only thing left to poll for is connections in TIME_WAIT.
    fn only_timewait_left(&self) -> bool {
        self.traced
            && self.held.is_empty()
            && self.in_flight().next().is_none()
            && self
                .socks
                .values()
                .all(|t| t.forget_at.is_none() && (!t.followed || t.state == TcpState::TimeWait))
    }

    /// The periodic look: sampled open sockets, followed connections, expiries.
    fn poll(&mut self) {
        let now = Instant::now();
        self.next_poll = now + POLL_EVERY;
        if !self.traced {
            let open: Vec<(SockId, RawFd)> = self
                .socks
                .iter()
                .filter_map(|(sock, t)| t.fd.map(|fd| (*sock, fd)))
                .collect();
            for (sock, fd) in open {
                self.refresh(sock, fd);
            }
        }
        let in_flight: Vec<(SockId, RawFd)> = self.in_flight().collect();
        for (sock, fd) in in_flight {
            self.sample_info(sock, fd);
        }
        self.follow_closed();
        if !self.held.is_empty() {
            self.router.tick();
            self.retry_held();
        }
        let done: Vec<SockId> = self
            .socks
            .iter()
            .filter(|(_, t)| t.forget_at.is_some_and(|at| at <= now))
            .map(|(s, _)| *s)
            .collect();
        for sock in done {
            if let Some(tracked) = self.socks.remove(&sock) {
                self.router.set_conn(self.key, sock, None);
                for skaddr in tracked.skaddrs {
                    self.skaddrs.remove(&skaddr);
                    self.router.forget_skaddr(self.key, skaddr);
                }
            }
        }
        if self.only_timewait_left() {
            self.next_poll = now + TIMEWAIT_POLL_EVERY;
        }
    }

    /// Follows closed connections through sock_diag until the kernel drops them.
    fn follow_closed(&mut self) {
        let followed: Vec<(SockId, ConnKey, TcpState, u64)> = self
            .socks
            .iter()
            .filter(|(_, t)| t.followed)
            .filter_map(|(sock, t)| t.conn.map(|conn| (*sock, conn, t.state, t.ns)))
            .collect();
        if followed.is_empty() {
            return;
        }
        let mut tables: HashMap<(u64, u8), Vec<DiagEntry>> = HashMap::new();
        let mut changes = Vec::new();
        for (sock, conn, state, ns) in followed {
            let family = if conn.local.is_ipv4() {
                libc::AF_INET
            } else {
                libc::AF_INET6
            } as u8;
            let Some(diag) = self.diag_in(ns) else {
                continue;
            };
            let entries = match tables.entry((ns, family)) {
                std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => match diag.dump(family) {
                    Ok(entries) => slot.insert(entries),
                    Err(error) => {
                        tracing::warn!(%error, "sock_diag dump failed");
                        return;
                    }
                },
            };
            let entry = entries.iter().find(|e| {
                e.local.port() == conn.local.port()
                    && same_ip(e.local.ip(), conn.local.ip())
                    && match conn.peer {
                        Some(peer) => {
                            e.peer.port() == peer.port() && same_ip(e.peer.ip(), peer.ip())
                        }
                        None => e.peer.port() == 0,
                    }
            });
            let misses = self.socks.get_mut(&sock).map(|t| {
                t.misses = if entry.is_some() {
                    0
                } else {
                    t.misses.saturating_add(1)
                };
                t.misses
            });
            if entry.is_none() && misses < Some(2) {
                continue;
            }
            let now_state = entry.map_or(TcpState::Close, |e| e.state);
            if now_state != state {
                changes.push((sock, state, now_state));
            }
        }
        let now = Instant::now();
        for (sock, from, to) in changes {
            if let Some(tracked) = self.socks.get_mut(&sock) {
                tracked.state = to;
                if to == TcpState::Close {
                    tracked.followed = false;
                    tracked.forget_at = Some(now + HOLD);
                }
                let (local, peer) = endpoints(tracked.conn);
                self.emit_state(Some(sock), from, to, local, peer, mono_ns());
            }
        }
    }
}

enum Resolution {
    Sock(SockId),
    /// Not known yet: held until `track`/`after_call` learns more, or [`HOLD`] passes.
    Later,
}

fn unspecified_like(addr: SocketAddr) -> SocketAddr {
    let ip = if addr.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    };
    SocketAddr::new(ip, 0)
}

fn endpoints(conn: Option<ConnKey>) -> (SocketAddr, SocketAddr) {
    let unspecified = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
    match conn {
        Some(conn) => (
            conn.local,
            conn.peer.unwrap_or_else(|| unspecified_like(conn.local)),
        ),
        None => (unspecified, unspecified),
    }
}

/// The addresses of a traced transition: as traced for IPv4; for IPv6 (whose
/// addresses the trace does not print) the socket's own, with the traced ports.
fn traced_endpoints(t: &Transition, known: Option<ConnKey>) -> (SocketAddr, SocketAddr) {
    let v6_unspecified = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
    let local_ip = t
        .saddr
        .or(known.map(|k| k.local.ip()))
        .unwrap_or(v6_unspecified);
    let peer_ip = t
        .daddr
        .or(known.and_then(|k| k.peer).map(|p| p.ip()))
        .unwrap_or(if local_ip.is_ipv4() {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            v6_unspecified
        });
    let sport = if t.sport == 0 {
        known.map_or(0, |k| k.local.port())
    } else {
        t.sport
    };
    (
        SocketAddr::new(local_ip, sport),
        SocketAddr::new(peer_ip, t.dport),
    )
}

/// The inode of the network namespace socket `fd` lives in (`SIOCGSKNS`).
fn socket_netns(fd: RawFd) -> Option<u64> {
    const SIOCGSKNS: libc::c_ulong = 0x894C;
    // SAFETY: SIOCGSKNS takes no argument and returns a new fd or -1.
    let ns = unsafe { libc::ioctl(fd, SIOCGSKNS as _) };
    if ns < 0 {
        return None;
    }
    // SAFETY: `ns` was just returned by the kernel and nothing else owns it.
    let ns = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(ns) };
    std::fs::File::from(ns).metadata().ok().map(|m| std::os::unix::fs::MetadataExt::ino(&m))
}
