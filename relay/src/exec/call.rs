//! A call that may have to wait: its progress, its deadline, and how to drive it.
//!
//! [`PendingCall::attempt`] makes one round of non-blocking syscalls and
//! updates the call's progress (bytes sent so far, bytes gathered for
//! MSG_WAITALL) only when a syscall succeeded, so a waiting call can be
//! dropped at any point without losing or repeating work.

use std::pin::Pin;
use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use socket2::{SockAddr, Socket};
use socklab_wire::op::Op;
use socklab_wire::protocol::{Bytes, PollFd, Ret, SockId};
use tokio::io::Interest;

use super::addr::{self, AddrPolicy};
use crate::metrics::{self, CallResult};
use super::{Deadline, DeadlineError, ExecError, IoMode, SockEntry};
use socklab_kernel::observe::mono_ns;

/// Largest single read; a bigger `n` is served by several syscalls (MSG_WAITALL) or returns less, as the kernel may.
const READ_CHUNK: usize = 256 * 1024;

/// A call's result before the executor has registered what it made.
pub enum Raw {
    Ret(Ret),
    /// The session's hosts, made (`lab_hosts`).
    Network(Arc<socklab_kernel::hosts::Network>),
    Accepted { socket: Socket, peer: SockAddr, listener: Arc<SockEntry> },
}

/// When a send is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendUntil {
    /// After one successful syscall, which may take less than asked: a non-blocking
    /// socket, a socket with a timeout (as Python does it), a datagram.
    Once,
    /// Every byte is queued, as a blocking send(2) on a stream socket does; the value is the count
    /// (less than asked only when a timeout or an error cut it short).
    All,
    /// sendall(): every byte, and the value is None.
    AllNone,
}

/// A call that could not complete at once.
pub struct PendingCall {
    kind: Kind,
    deadline: Option<Deadline>,
    /// connect_ex: the errno is the value, not an error.
    connect_ex: bool,
    /// The op to count in the metrics when it ends, or as cancelled if it is dropped first.
    counted_as: Option<Op>,
    /// The bytes a MSG_WAITALL receive may gather, counted in its session while it lives.
    held: Option<Held>,
    /// `CLOCK_MONOTONIC` ns when the call was started, and when its last
    /// round of syscalls (or its deadline) came: see [`PendingCall::called_ns`].
    started_ns: u64,
    attempted_ns: u64,
}

/// Bytes a waiting call may hold in the relay, counted against its session's
/// ceiling until the call ends (or is dropped).
pub(crate) struct Held {
    total: Arc<AtomicUsize>,
    bytes: usize,
}

impl Held {
    /// Count `bytes` more in `total`, unless that passes `max`.
    pub(crate) fn take(total: &Arc<AtomicUsize>, bytes: usize, max: usize) -> Result<Held, crate::limits::Refusal> {
        let mut now = total.load(Ordering::Relaxed);
        loop {
            let after = now.checked_add(bytes).filter(|after| *after <= max);
            let Some(after) = after else {
                return Err(crate::limits::Refusal::PendingRecv { held: now, asked: bytes, max });
            };
            match total.compare_exchange_weak(now, after, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Ok(Held { total: total.clone(), bytes }),
                Err(actual) => now = actual,
            }
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.total.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

enum Kind {
    Accept(Arc<SockEntry>),
    /// Each attempt calls connect() again with the same address, as the kernel's own
    /// blocking connect does: 0 once connected, EALREADY while in progress, and on
    /// failure the error, which also makes the socket connectable again.
    Connect { entry: Arc<SockEntry>, addr: SockAddr },
    Send {
        entry: Arc<SockEntry>,
        data: Vec<u8>,
        flags: i32,
        sent: usize,
        until: SendUntil,
        to: Option<SockAddr>,
    },
    Recv {
        entry: Arc<SockEntry>,
        n: usize,
        flags: i32,
        /// Bytes gathered so far for MSG_WAITALL.
        got: Vec<u8>,
        from: bool,
        policy: AddrPolicy,
    },
    Select {
        r: Vec<Arc<SockEntry>>,
        w: Vec<Arc<SockEntry>>,
        x: Vec<Arc<SockEntry>>,
        timeout: Option<Duration>,
    },
    Sleep(Duration),
    /// poll(2): each descriptor with its session socket (`None`: not one of
    /// the session's, reported as POLLNVAL) and the events asked for.
    Poll { fds: Vec<(i32, Option<Arc<SockEntry>>, i16)>, timeout: Option<Duration> },
    /// Work done off the session thread (hosts, links): polled, never blocking.
    Task(Pin<Box<dyn Future<Output = Result<Raw, ExecError>> + Send>>),
}

impl Drop for PendingCall {
    fn drop(&mut self) {
        if let Some(op) = self.counted_as.take() {
            metrics::call_ended(op, CallResult::Cancelled);
        }
    }
}

impl PendingCall {
    fn new(kind: Kind) -> PendingCall {
        let now = mono_ns();
        PendingCall { kind, deadline: None, connect_ex: false, counted_as: None, held: None, started_ns: now, attempted_ns: now }
    }

    pub(super) fn hold(&mut self, held: Held) {
        self.held = Some(held);
    }

    pub(super) fn accept(entry: Arc<SockEntry>) -> PendingCall {
        PendingCall::new(Kind::Accept(entry))
    }

    pub(super) fn connect(entry: Arc<SockEntry>, addr: SockAddr) -> PendingCall {
        PendingCall::new(Kind::Connect { entry, addr })
    }

    pub(super) fn send(entry: Arc<SockEntry>, data: Vec<u8>, flags: i32, until: SendUntil) -> PendingCall {
        PendingCall::new(Kind::Send { entry, data, flags, sent: 0, until, to: None })
    }

    pub(super) fn sendto(entry: Arc<SockEntry>, data: Vec<u8>, to: SockAddr, flags: i32) -> PendingCall {
        PendingCall::new(Kind::Send { entry, data, flags, sent: 0, until: SendUntil::Once, to: Some(to) })
    }

    pub(super) fn recv(entry: Arc<SockEntry>, n: usize, flags: i32, from: bool, policy: AddrPolicy) -> PendingCall {
        PendingCall::new(Kind::Recv { entry, n, flags, got: Vec::new(), from, policy })
    }

    pub(super) fn select(
        r: Vec<Arc<SockEntry>>,
        w: Vec<Arc<SockEntry>>,
        x: Vec<Arc<SockEntry>>,
        timeout: Option<Duration>,
    ) -> PendingCall {
        PendingCall::new(Kind::Select { r, w, x, timeout })
    }

    pub(super) fn poll(fds: Vec<(i32, Option<Arc<SockEntry>>, i16)>, timeout: Option<Duration>) -> PendingCall {
        PendingCall::new(Kind::Poll { fds, timeout })
    }

    pub(super) fn sleep(length: Duration) -> PendingCall {
        PendingCall::new(Kind::Sleep(length))
    }

    /// When the system call this call stands for was made (`CLOCK_MONOTONIC`
    /// ns): a connect's first `connect(2)`, which starts the handshake; for
    /// the others the round that completed them (or their deadline).
    pub fn called_ns(&self) -> u64 {
        match self.kind {
            Kind::Connect { .. } => self.started_ns,
            _ => self.attempted_ns,
        }
    }

    /// The call was started at `ns`, before the executor made it pending.
    pub(super) fn started_at(&mut self, ns: u64) {
        self.started_ns = ns;
    }

    /// Work done elsewhere (on the namespace helper threads), awaited.
    pub fn task(work: impl Future<Output = Result<Raw, ExecError>> + Send + 'static) -> PendingCall {
        PendingCall::new(Kind::Task(Box::pin(work)))
    }

    pub(super) fn count_as(&mut self, op: Op) {
        self.counted_as = Some(op);
    }

    pub(super) fn set_connect_ex(&mut self) {
        self.connect_ex = true;
    }

    /// Bytes moved so far (sent, or gathered for MSG_WAITALL): a call whose progress
    /// grows is not deadlocked even if it has not ended.
    pub fn progress(&self) -> usize {
        match &self.kind {
            Kind::Send { sent, .. } => *sent,
            Kind::Recv { got, .. } => got.len(),
            _ => 0,
        }
    }

    /// Whether this is a connect (its line's time is fixed when it starts).
    pub fn is_connect(&self) -> bool {
        matches!(self.kind, Kind::Connect { .. })
    }

    /// Whether the wait ends by itself (a timeout, a sleep, a select timeout).
    pub fn has_deadline(&self) -> bool {
        self.deadline.is_some()
    }

    /// The socket the call waits on, if one.
    pub fn sock(&self) -> Option<SockId> {
        self.entry().map(|e| e.info.sock)
    }

    /// What the call waits for, in words, for "blocked" displays.
    pub fn waiting_for(&self) -> &'static str {
        match &self.kind {
            Kind::Accept(_) => "a connection to accept",
            Kind::Connect { .. } => "the connection to be established",
            Kind::Send { .. } => "room in the send buffer",
            Kind::Recv { .. } => "data to arrive",
            Kind::Select { .. } | Kind::Poll { .. } => "a socket to become ready",
            Kind::Sleep(_) => "the sleep to end",
            Kind::Task(_) => "the network to be set up",
        }
    }

    fn entry(&self) -> Option<&Arc<SockEntry>> {
        match &self.kind {
            Kind::Accept(entry)
            | Kind::Connect { entry, .. }
            | Kind::Send { entry, .. }
            | Kind::Recv { entry, .. } => Some(entry),
            Kind::Select { .. } | Kind::Sleep(_) | Kind::Poll { .. } | Kind::Task(_) => None,
        }
    }

    /// Whether the script lets this call wait at all.
    pub(super) fn may_wait(&self) -> bool {
        self.entry().is_none_or(|e| e.mode() != IoMode::NonBlocking)
    }

    pub(super) fn would_block_error(&self) -> ExecError {
        match self.kind {
            Kind::Connect { .. } if self.entry().is_some_and(|e| e.info.family != libc::AF_UNIX) => {
                ExecError::os(libc::EINPROGRESS)
            }
            _ => ExecError::os(libc::EAGAIN),
        }
    }

    /// Fix when the wait ends: settimeout, the kernel's SO_RCVTIMEO/SO_SNDTIMEO, or the call's own timeout.
    pub(super) fn arm_deadline(&mut self) {
        let now = Instant::now();
        // A wait too long for the clock to name its end has none: it waits as if blocking.
        let at = |length: Duration| now.checked_add(length);
        self.deadline = match &self.kind {
            Kind::Task(_) => None,
            Kind::Sleep(length) => at(*length).map(|at| Deadline { at, error: None }),
            Kind::Select { timeout, .. } | Kind::Poll { timeout, .. } => {
                timeout.and_then(at).map(|at| Deadline { at, error: None })
            }
            Kind::Accept(entry) | Kind::Connect { entry, .. } | Kind::Send { entry, .. } | Kind::Recv { entry, .. } => {
                match entry.mode() {
                    IoMode::Timeout(t) => at(t).map(|at| Deadline { at, error: Some(DeadlineError::Timeout) }),
                    IoMode::NonBlocking => None,
                    IoMode::Blocking => {
                        let timeouts = entry.kernel_timeouts();
                        let (timeout, errno) = match self.kind {
                            Kind::Accept(_) | Kind::Recv { .. } => (timeouts.recv, libc::EAGAIN),
                            // Linux reports a connect that outlives SO_SNDTIMEO as still in progress.
                            Kind::Connect { .. } => (timeouts.send, libc::EINPROGRESS),
                            _ => (timeouts.send, libc::EAGAIN),
                        };
                        timeout.and_then(at).map(|at| Deadline { at, error: Some(DeadlineError::Errno(errno)) })
                    }
                }
            }
        };
    }

    /// One round of non-blocking syscalls. `None`: the call must wait.
    /// `may_wait` false means the caller will not wait, so partial progress is the answer.
    pub fn attempt(&mut self, may_wait: bool) -> Option<Result<Raw, ExecError>> {
        if let Kind::Task(task) = &mut self.kind {
            return futures::FutureExt::now_or_never(task);
        }
        if let Some(entry) = self.entry()
            && entry.closed.is_cancelled()
        {
            return Some(Err(ExecError::os(libc::EBADF)));
        }
        self.attempted_ns = mono_ns();
        let result = self.syscalls(may_wait);
        if let Some(entry) = self.entry() {
            entry.syscall_returned();
        }
        match result {
            Ok(raw) => Some(Ok(raw)),
            Err(e) if is_would_block(&e) => None,
            Err(e) => Some(Err(ExecError::Os(e))),
        }
    }

    fn syscalls(&mut self, may_wait: bool) -> io::Result<Raw> {
        match &mut self.kind {
            Kind::Accept(listener) => listener
                .socket()
                .accept()
                .map(|(socket, peer)| Raw::Accepted { socket, peer, listener: listener.clone() }),
            Kind::Connect { entry, addr } => {
                let mut outcome = entry.socket().connect(addr);
                if may_wait && outcome.as_ref().is_err_and(|e| e.raw_os_error() == Some(libc::EINPROGRESS)) {
                    // A blocking connect() checks the state before it sleeps; over loopback the
                    // handshake is done by then. Ask again at once, as it would, rather than
                    // after a wait in which the peer may already have reset the connection.
                    outcome = entry.socket().connect(addr);
                }
                match outcome {
                    Err(e) if e.raw_os_error() == Some(libc::EISCONN) => Ok(Raw::Ret(Ret::None)),
                    other => other.map(|()| Raw::Ret(Ret::None)),
                }
            }
            Kind::Send { entry, data, flags, sent, until, to } => {
                send_progress(entry.socket(), data, *flags, sent, *until, to.as_ref())
            }
            Kind::Recv { entry, n, flags, got, from, policy } => {
                recv_progress(entry, *n, *flags, got, *from, policy, may_wait)
            }
            Kind::Select { r, w, x, timeout } => match select_now(r, w, x)? {
                Some(ret) => Ok(Raw::Ret(ret)),
                None if !may_wait || *timeout == Some(Duration::ZERO) => {
                    Ok(Raw::Ret(Ret::Select { r: vec![], w: vec![], x: vec![] }))
                }
                None => Err(io::Error::from_raw_os_error(libc::EAGAIN)),
            },
            Kind::Poll { fds, timeout } => {
                let ready = poll_fds(fds)?;
                if ready.is_empty() && may_wait && *timeout != Some(Duration::ZERO) {
                    return Err(io::Error::from_raw_os_error(libc::EAGAIN));
                }
                Ok(Raw::Ret(Ret::Polled { fds: ready }))
            }
            Kind::Sleep(length) if length.is_zero() => Ok(Raw::Ret(Ret::None)),
            Kind::Sleep(_) | Kind::Task(_) => Err(io::Error::from_raw_os_error(libc::EAGAIN)),
        }
    }

    /// Wait until the call completes, fails, or its deadline passes. Cancel-safe.
    pub async fn drive(&mut self) -> Result<Raw, ExecError> {
        let result = self.drive_inner().await;
        if let Some(op) = self.counted_as.take() {
            metrics::call_ended(op, super::call_result(&result));
        }
        result
    }

    async fn drive_inner(&mut self) -> Result<Raw, ExecError> {
        let result = match self.deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline.at.into(), self.wait_loop()).await {
                Ok(result) => result,
                Err(_elapsed) => self.expired(deadline),
            },
            None => self.wait_loop().await,
        };
        if self.connect_ex {
            return match result {
                Ok(raw) => Ok(raw_int(raw, 0)),
                Err(e) => e.into_errno().map(|value| Raw::Ret(Ret::Int { value })),
            };
        }
        result
    }

    fn expired(&mut self, deadline: Deadline) -> Result<Raw, ExecError> {
        self.attempted_ns = mono_ns();
        // A timeout after part of the work returns that part, as the kernel does.
        match &mut self.kind {
            Kind::Recv { got, .. } if !got.is_empty() => {
                return Ok(Raw::Ret(Ret::Bytes { data: Bytes::new(std::mem::take(got)) }));
            }
            Kind::Send { sent, until: SendUntil::All, .. } if *sent > 0 => {
                return Ok(Raw::Ret(Ret::Int { value: *sent as i64 }));
            }
            _ => {}
        }
        match deadline.error {
            None => Ok(Raw::Ret(match self.kind {
                Kind::Select { .. } => Ret::Select { r: vec![], w: vec![], x: vec![] },
                Kind::Poll { .. } => Ret::Polled { fds: vec![] },
                _ => Ret::None,
            })),
            Some(DeadlineError::Timeout) => Err(ExecError::Timeout),
            Some(DeadlineError::Errno(errno)) => Err(ExecError::os(errno)),
        }
    }

    async fn wait_loop(&mut self) -> Result<Raw, ExecError> {
        if let Kind::Task(task) = &mut self.kind {
            return task.await;
        }
        match &self.kind {
            Kind::Sleep(_) | Kind::Task(_) => std::future::pending().await,
            Kind::Select { .. } | Kind::Poll { .. } => {
                let targets = match &self.kind {
                    Kind::Select { r, w, x, .. } => select_targets(r, w, x),
                    Kind::Poll { fds, .. } => poll_targets(fds),
                    _ => Vec::new(),
                };
                loop {
                    wait_any(&targets).await;
                    if let Some(result) = self.attempt(true) {
                        return result;
                    }
                }
            }
            _ => {
                let (entry, interest) = match &self.kind {
                    Kind::Accept(e) | Kind::Recv { entry: e, .. } => (e.clone(), Interest::READABLE),
                    Kind::Connect { entry: e, .. } | Kind::Send { entry: e, .. } => (e.clone(), Interest::WRITABLE),
                    Kind::Select { .. } | Kind::Sleep(_) | Kind::Poll { .. } | Kind::Task(_) => unreachable!("matched above"),
                };
                let mut registration = entry.registration(None).map_err(ExecError::Os)?;
                // A pending socket error (a UDP socket's ICMP port unreachable) is
                // EPOLLERR alone, no EPOLLIN: it must wake a waiting recv too.
                let interest = interest.add(Interest::ERROR);
                loop {
                    let mut guard = tokio::select! {
                        biased;
                        () = entry.closed.cancelled() => return Err(ExecError::os(libc::EBADF)),
                        guard = registration.ready(interest) => guard.map_err(ExecError::Os)?,
                    };
                    if let Some(result) = self.attempt(true) {
                        return result;
                    }
                    if guard.ready().is_read_closed() || guard.ready().is_write_closed() {
                        drop(guard);
                        registration = entry.registration(Some(&registration)).map_err(ExecError::Os)?;
                    } else {
                        // Taken before the attempt, so readiness that arrived since is kept.
                        guard.clear_ready();
                    }
                }
            }
        }
    }
}

fn raw_int(raw: Raw, value: i64) -> Raw {
    match raw {
        Raw::Ret(_) => Raw::Ret(Ret::Int { value }),
        accepted => accepted,
    }
}

fn is_would_block(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EINPROGRESS) | Some(libc::EALREADY))
}

fn send_progress(
    sock: &Socket,
    data: &[u8],
    flags: i32,
    sent: &mut usize,
    until: SendUntil,
    to: Option<&SockAddr>,
) -> io::Result<Raw> {
    // MSG_NOSIGNAL: a write to a closed peer is EPIPE for the script, never SIGPIPE for the relay.
    let flags = flags | libc::MSG_NOSIGNAL;
    loop {
        let rest = &data[*sent..];
        let n = match to {
            Some(addr) => sock.send_to_with_flags(rest, addr, flags),
            None => sock.send_with_flags(rest, flags),
        };
        let n = match n {
            Ok(n) => n,
            // A blocking send that fails after queuing some bytes reports the bytes, as send(2) does.
            Err(e) if until == SendUntil::All && *sent > 0 && !is_would_block(&e) => {
                return Ok(Raw::Ret(Ret::Int { value: *sent as i64 }));
            }
            Err(e) => return Err(e),
        };
        *sent += n;
        metrics::bytes_sent(n);
        match until {
            SendUntil::Once => return Ok(Raw::Ret(Ret::Int { value: n as i64 })),
            _ if *sent < data.len() => {}
            SendUntil::All => return Ok(Raw::Ret(Ret::Int { value: *sent as i64 })),
            SendUntil::AllNone => return Ok(Raw::Ret(Ret::None)),
        }
    }
}

fn recv_progress(
    entry: &SockEntry,
    n: usize,
    flags: i32,
    got: &mut Vec<u8>,
    from: bool,
    policy: &AddrPolicy,
    may_wait: bool,
) -> io::Result<Raw> {
    let sock = entry.socket();
    let waitall = flags & libc::MSG_WAITALL != 0 && entry.is_stream() && !from;
    let kflags = flags & !libc::MSG_WAITALL;
    if n == 0 {
        return Ok(bytes(Vec::new()));
    }
    if !waitall {
        let (data, addr) = recv_once(sock, n.min(READ_CHUNK), kflags, from)?;
        return Ok(if from {
            Raw::Ret(Ret::Datagram {
                data: Bytes::new(data),
                addr: addr.as_ref().and_then(|a| addr::from_sockaddr(a, policy)),
            })
        } else {
            bytes(data)
        });
    }
    if flags & libc::MSG_PEEK != 0 {
        // Peeking consumes nothing, so each round looks at the whole queue again.
        let (data, _) = recv_once(sock, n.min(READ_CHUNK), kflags, false)?;
        if data.len() == n || data.is_empty() || !may_wait {
            return Ok(bytes(data));
        }
        return Err(io::Error::from_raw_os_error(libc::EAGAIN));
    }
    loop {
        let want = (n - got.len()).min(READ_CHUNK);
        match recv_once(sock, want, kflags, false) {
            Ok((data, _)) if data.is_empty() => return Ok(bytes(std::mem::take(got))),
            Ok((data, _)) => {
                got.extend_from_slice(&data);
                if got.len() >= n {
                    return Ok(bytes(std::mem::take(got)));
                }
            }
            Err(e) if is_would_block(&e) && !may_wait && !got.is_empty() => {
                return Ok(bytes(std::mem::take(got)));
            }
            // An error after some data: the data is the answer, as the kernel gives it.
            Err(e) if !is_would_block(&e) && !got.is_empty() => return Ok(bytes(std::mem::take(got))),
            Err(e) => return Err(e),
        }
    }
}

fn bytes(data: Vec<u8>) -> Raw {
    Raw::Ret(Ret::Bytes { data: Bytes::new(data) })
}

fn recv_once(sock: &Socket, n: usize, flags: i32, from: bool) -> io::Result<(Vec<u8>, Option<SockAddr>)> {
    let mut buf: Vec<u8> = Vec::with_capacity(n);
    let spare: &mut [MaybeUninit<u8>] = &mut buf.spare_capacity_mut()[..n];
    let (len, addr) = if from {
        let (len, addr) = sock.recv_from_with_flags(spare, flags)?;
        (len, Some(addr))
    } else {
        (sock.recv_with_flags(spare, flags)?, None)
    };
    // SAFETY: the kernel initialised the first `len` bytes (at most `n`: MSG_TRUNC is not passed on).
    unsafe { buf.set_len(len.min(n)) };
    if flags & libc::MSG_PEEK == 0 {
        metrics::bytes_received(buf.len());
    }
    Ok((buf, addr))
}

/// Poll masks per select list: read also wakes on hang-up and error, as select(2) does.
const READ_MASK: i16 = libc::POLLIN | libc::POLLHUP | libc::POLLERR;
const WRITE_MASK: i16 = libc::POLLOUT | libc::POLLERR;
const EXCEPT_MASK: i16 = libc::POLLPRI;

fn select_targets(
    r: &[Arc<SockEntry>],
    w: &[Arc<SockEntry>],
    x: &[Arc<SockEntry>],
) -> Vec<(Arc<SockEntry>, Interest, i16)> {
    let list = |entries: &[Arc<SockEntry>], interest, mask| {
        entries.iter().map(move |e| (e.clone(), interest, mask)).collect::<Vec<_>>()
    };
    let mut all = list(r, Interest::READABLE, READ_MASK);
    all.extend(list(w, Interest::WRITABLE, WRITE_MASK));
    all.extend(list(x, Interest::READABLE, EXCEPT_MASK));
    distinct(all)
}

/// Each socket and mask once: a list may name a socket many times, and each
/// target is a future (a few hundred bytes) for as long as the call waits.
fn distinct(targets: Vec<(Arc<SockEntry>, Interest, i16)>) -> Vec<(Arc<SockEntry>, Interest, i16)> {
    let mut seen = std::collections::HashSet::new();
    targets.into_iter().filter(|(entry, _, mask)| seen.insert((entry.info.sock, *mask))).collect()
}

/// What a poll waits on: each session socket, woken by the events asked for
/// and, as poll(2) always reports them, by errors and hang-ups.
fn poll_targets(fds: &[(i32, Option<Arc<SockEntry>>, i16)]) -> Vec<(Arc<SockEntry>, Interest, i16)> {
    let targets = fds
        .iter()
        .filter_map(|(_, entry, events)| {
            let entry = entry.as_ref()?;
            let mut interest = Interest::READABLE;
            if events & libc::POLLOUT != 0 {
                interest = if events & (libc::POLLIN | libc::POLLPRI) != 0 { interest.add(Interest::WRITABLE) } else { Interest::WRITABLE };
            }
            Some((entry.clone(), interest, events | libc::POLLERR | libc::POLLHUP))
        })
        .collect();
    distinct(targets)
}

/// poll(2) now over the session's sockets: the descriptors with events. A
/// closed or foreign descriptor reports POLLNVAL without reaching the kernel.
fn poll_fds(fds: &[(i32, Option<Arc<SockEntry>>, i16)]) -> io::Result<Vec<PollFd>> {
    let live: Vec<(i32, i16)> = fds
        .iter()
        .filter_map(|(_, entry, events)| match entry {
            Some(e) if !e.closed.is_cancelled() => Some((e.raw_fd(), *events)),
            _ => None,
        })
        .collect();
    let mut revents = poll_now(&live)?.into_iter();
    let mut ready = Vec::new();
    for (fd, entry, _) in fds {
        let rev = match entry {
            Some(e) if !e.closed.is_cancelled() => revents.next().unwrap_or(0),
            _ => libc::POLLNVAL,
        };
        if rev != 0 {
            ready.push(PollFd { fd: *fd, events: rev });
        }
    }
    Ok(ready)
}

/// Wait until one target is really ready (checked with poll under the readiness guard).
async fn wait_any(targets: &[(Arc<SockEntry>, Interest, i16)]) {
    if targets.is_empty() {
        return std::future::pending().await;
    }
    let waits = targets.iter().map(|(entry, interest, mask)| {
        Box::pin(async move {
            let Ok(mut registration) = entry.registration(None) else { return };
            loop {
                let mut guard = tokio::select! {
                    () = entry.closed.cancelled() => return,
                    guard = registration.ready(interest.add(Interest::ERROR)) => match guard {
                        Ok(guard) => guard,
                        Err(_) => return,
                    },
                };
                if poll_now(&[(entry.raw_fd(), *mask)]).map(|r| r[0] != 0).unwrap_or(true) {
                    return;
                }
                if guard.ready().is_read_closed() || guard.ready().is_write_closed() {
                    drop(guard);
                    match entry.registration(Some(&registration)) {
                        Ok(fresh) => registration = fresh,
                        Err(_) => return,
                    }
                } else {
                    guard.clear_ready();
                }
            }
        })
    });
    futures::future::select_all(waits).await;
}

/// select(): which of the lists' sockets are ready now.
fn select_now(r: &[Arc<SockEntry>], w: &[Arc<SockEntry>], x: &[Arc<SockEntry>]) -> io::Result<Option<Ret>> {
    let lists = [(r, READ_MASK), (w, WRITE_MASK), (x, EXCEPT_MASK)];
    let mut fds = Vec::new();
    for (entries, mask) in lists {
        for entry in entries {
            if entry.closed.is_cancelled() {
                return Err(io::Error::from_raw_os_error(libc::EBADF));
            }
            fds.push((entry.raw_fd(), mask));
        }
    }
    let revents = poll_now(&fds)?;
    let mut ready = revents.into_iter();
    let mut pick = |entries: &[Arc<SockEntry>], mask: i16| {
        entries
            .iter()
            .zip(ready.by_ref())
            .filter(|(_, rev)| rev & mask != 0)
            .map(|(e, _)| e.info.sock)
            .collect::<Vec<_>>()
    };
    let (rr, wr, xr) = (pick(r, READ_MASK), pick(w, WRITE_MASK), pick(x, EXCEPT_MASK));
    if rr.is_empty() && wr.is_empty() && xr.is_empty() {
        return Ok(None);
    }
    Ok(Some(Ret::Select { r: rr, w: wr, x: xr }))
}

/// poll(2) with a zero timeout: the revents of each (fd, events).
fn poll_now(fds: &[(i32, i16)]) -> io::Result<Vec<i16>> {
    let mut pollfds: Vec<libc::pollfd> =
        fds.iter().map(|&(fd, events)| libc::pollfd { fd, events, revents: 0 }).collect();
    // SAFETY: `pollfds` is a valid array of `pollfds.len()` pollfd structs for the call's duration.
    let rc = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, 0) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pollfds.iter().map(|p| p.revents).collect())
}
