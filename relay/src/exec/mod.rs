//! Execution: one session's sockets and the socket calls made on them.
//!
//! Every call is a real system call on a socket made with socket2. File
//! descriptors are always `O_NONBLOCK` underneath; the script-level blocking
//! mode is emulated on top so that a blocking call is a non-blocking attempt
//! plus a readiness wait ([`PendingCall::drive`]) and never blocks the relay.
//! A call that can complete at once completes inside [`Executor::start`].

mod addr;
pub mod allow;
mod call;
pub mod classify;
mod error;
mod hosts;
mod sockopt;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use socklab_wire::protocol::{Addr, Call, Event, PeerKind, Ret, SockId, SockInfo};

use socklab_kernel::observe::{SessionObserver, mono_ns};

use crate::metrics::{self, CallResult};
use crate::peers::{self, Peer};
use tokio::io::unix::AsyncFd;
use tokio_util::sync::CancellationToken;

pub use addr::{AddrPolicy, Use};
pub use allow::BufferMax;
pub use classify::Cidr;
pub use call::{PendingCall, Raw, SendUntil};
pub use error::{ExecError, Refused, outcome};

/// How the script wants a socket to behave when a call must wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IoMode {
    /// Wait as long as the kernel would (SO_RCVTIMEO / SO_SNDTIMEO apply).
    Blocking,
    /// `setblocking(False)` / `settimeout(0)`: EAGAIN instead of waiting.
    NonBlocking,
    /// `settimeout(t)`: wait at most `t`, then EAGAIN "timed out".
    Timeout(Duration),
}

/// One socket of a session.
pub struct SockEntry {
    pub info: SockInfo,
    socket: Socket,
    /// The socket's registration with the tokio reactor while a call waits on it. Held
    /// only by the waiters: a registered socket wakes the reactor on every arrival,
    /// and a call that completes at once (most do) needs no wake-up.
    registration: Mutex<Weak<AsyncFd<OwnedFd>>>,
    /// Script-level blocking mode; shared by concurrent calls on the socket.
    mode: Mutex<IoMode>,
    /// Cancelled by `close()`: calls still waiting on the socket end with EBADF.
    closed: CancellationToken,
    /// The session's kernel observer, for TCP sockets over IP (the ones with kernel TCP states).
    watch: Option<Arc<SessionObserver>>,
    /// SO_RCVTIMEO and SO_SNDTIMEO as the kernel holds them (None: no timeout). Every change
    /// goes through our setsockopt and accepted sockets inherit their listener's, so the
    /// values are known without a getsockopt per waiting call.
    kernel_timeouts: Mutex<KernelTimeouts>,
    /// The session host it was made on (`Call::Socket`'s `host`); its Unix paths are that host's.
    host: Option<Arc<str>>,
}

/// A socket's kernel send and receive timeouts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct KernelTimeouts {
    pub recv: Option<Duration>,
    pub send: Option<Duration>,
}

impl SockEntry {
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    pub fn raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    /// The reactor registration to wait on. Tokio keeps hang-up readiness
    /// forever once seen, but a socket can hang up and live on (a TCP socket
    /// is "hung up" before it connects, and again after a refused connect), so a
    /// waiter that finds `stale` hung up while the socket would still block asks
    /// for a fresh registration (of a dup of the fd, so concurrent waiters on
    /// the old one are undisturbed).
    fn registration(&self, stale: Option<&Arc<AsyncFd<OwnedFd>>>) -> io::Result<Arc<AsyncFd<OwnedFd>>> {
        let mut slot = self.registration.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(current) = slot.upgrade()
            && stale.is_none_or(|old| !Arc::ptr_eq(old, &current))
        {
            return Ok(current);
        }
        let dup: OwnedFd = self.socket.try_clone()?.into();
        // SAFETY: the OwnedFd is owned by the AsyncFd and stays open until it is dropped.
        let registered = Arc::new(unsafe { AsyncFd::register(dup) }.map_err(io::Error::from)?);
        *slot = Arc::downgrade(&registered);
        Ok(registered)
    }

    fn mode(&self) -> IoMode {
        *self.mode.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    pub(crate) fn kernel_timeouts(&self) -> KernelTimeouts {
        *self.kernel_timeouts.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    fn refresh_kernel_timeouts(&self) {
        let fresh = KernelTimeouts {
            recv: kernel_timeout(&self.socket, libc::SO_RCVTIMEO),
            send: kernel_timeout(&self.socket, libc::SO_SNDTIMEO),
        };
        *self.kernel_timeouts.lock().unwrap_or_else(|poison| poison.into_inner()) = fresh;
    }

    fn set_mode(&self, mode: IoMode) {
        *self.mode.lock().unwrap_or_else(|poison| poison.into_inner()) = mode;
    }

    fn is_stream(&self) -> bool {
        self.info.sock_type == libc::SOCK_STREAM
    }

    /// Tell the observer a syscall on this socket just returned. It must run on
    /// the thread that made the syscall, before any await: attribution of the
    /// kernel's state events relies on it.
    pub(crate) fn syscall_returned(&self) {
        if let Some(watch) = &self.watch {
            watch.after_call(self.info.sock, self.raw_fd());
        }
    }
}

/// Makes the session's sockets: in the relay's network (host mode) or in the
/// session's own namespace.
pub type SocketMaker = Arc<dyn Fn(i32, i32, i32) -> io::Result<Socket> + Send + Sync>;

/// A socket in the relay's own network namespace.
pub fn host_socket_maker() -> SocketMaker {
    Arc::new(|family, ty, proto| {
        let ty = Type::from(ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
        Socket::new_raw(Domain::from(family), ty, Some(Protocol::from(proto)))
    })
}

/// What one session may do.
#[derive(Clone)]
pub struct ExecConfig {
    pub policy: AddrPolicy,
    pub make_socket: SocketMaker,
    /// SOCK_RAW is allowed (inside a namespace, or when the operator says so).
    pub allow_raw: bool,
    /// Open sockets per session.
    pub max_sockets: usize,
    /// Largest `n` accepted by recv/recvfrom.
    pub max_recv: usize,
    /// Longest `sleep()`.
    pub max_sleep: Duration,
    /// The kernel's send and receive buffer ceilings (SO_SNDBUF / SO_RCVBUF are clamped to them).
    pub buffer_max: BufferMax,
    /// Lab peers take their well-known ports (in a private namespace) rather than any free port.
    pub peers_on_well_known_ports: bool,
    /// The session's kernel observer.
    pub watch: Option<Arc<SessionObserver>>,
    /// The session's own namespace, where its hosts' link lives (None: host mode).
    pub session_netns: Option<Arc<socklab_kernel::netns::Netns>>,
}

/// The result of starting a call.
pub enum Started {
    Done(Result<Ret, ExecError>),
    /// The call must wait; drive it (or retry it) and hand its result to [`Executor::finish`].
    Pending(PendingCall),
}

/// One session's sockets. Dropping it closes every socket it made.
pub struct Executor {
    config: ExecConfig,
    socks: HashMap<SockId, Arc<SockEntry>>,
    next_id: SockId,
    events: Vec<Event>,
    /// Lab peers started by this session; they stop when it ends.
    /// Lab peers by host (`None`: the session's network) and kind.
    peers: Vec<(Option<String>, PeerKind, Peer)>,
    /// Where the HTTP peer an outside host name resolved to really listens,
    /// when that is not port 80 (host mode): a connect to its address and
    /// port 80 goes there.
    web_alias: Option<SocketAddr>,
    /// Bytes MSG_WAITALL receives may gather while they wait, summed over the pending ones.
    held: Arc<std::sync::atomic::AtomicUsize>,
    /// `CLOCK_MONOTONIC` ns when the last call was started.
    called_ns: u64,
    /// The session's hosts, once `lab_hosts` made them.
    network: Option<Arc<socklab_kernel::hosts::Network>>,
}

impl Executor {
    pub fn new(config: ExecConfig) -> Executor {
        Executor {
            config,
            socks: HashMap::new(),
            next_id: 1,
            events: Vec::new(),
            peers: Vec::new(),
            web_alias: None,
            held: Arc::default(),
            called_ns: 0,
            network: None,
        }
    }

    pub fn policy(&self) -> &AddrPolicy {
        &self.config.policy
    }

    /// Events (socket created/closed) since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn socket_count(&self) -> usize {
        self.socks.len()
    }

    /// Start a call: it completes now, or returns a [`PendingCall`] to wait on.
    pub fn start(&mut self, call: Call) -> Started {
        let sock = call.sock();
        let op = call.op();
        let called = mono_ns();
        self.called_ns = called;
        let mut started = self.start_inner(call);
        if let Some(entry) = sock.and_then(|sock| self.socks.get(&sock)) {
            entry.syscall_returned();
        }
        match &mut started {
            Started::Done(result) => metrics::call_ended(op, call_result(result)),
            Started::Pending(pending) => {
                pending.started_at(called);
                pending.count_as(op);
            }
        }
        started
    }

    /// When the last call [`Executor::start`] completed at once was made, in
    /// microseconds on the session's event clock (`ts_us`); `None` without
    /// an observer.
    pub fn called_us(&self) -> Option<u64> {
        self.at_us(self.called_ns)
    }

    /// A `CLOCK_MONOTONIC` time (e.g. [`PendingCall::called_ns`]) on the
    /// session's event clock; `None` without an observer.
    pub fn at_us(&self, mono_ns: u64) -> Option<u64> {
        self.config.watch.as_ref().map(|watch| watch.at_us(mono_ns))
    }

    fn start_inner(&mut self, call: Call) -> Started {
        let call = self.resolve_hosts(call);
        let done = |r| Started::Done(r);
        match call {
            Call::Socket { family, sock_type, proto, host } => done(self.create(family, sock_type, proto, host.as_deref())),
            Call::LabHosts { hosts } => self.lab_hosts(hosts),
            Call::LabLink { a, b, conditions } => self.lab_link(&a, b.as_deref(), conditions),
            Call::Close { sock } => done(self.close(sock)),
            Call::Gethostbyname { name, host } => done(self.gethostbyname(&name, host.as_deref())),
            Call::LabPeer { kind, host } => done(self.lab_peer(kind, host.as_deref())),
            Call::Socketpair { family, sock_type, proto } => done(self.socketpair(family, sock_type, proto)),
            Call::Fork { socks } => done(self.fork(&socks)),
            Call::Sleep { seconds } => {
                let length = match seconds_arg(seconds, "sleep length") {
                    Ok(length) if length <= self.config.max_sleep => length,
                    Ok(_) => {
                        return done(Err(ExecError::BadArgument(format!(
                            "sleep length must be between 0 and {} seconds",
                            self.config.max_sleep.as_secs()
                        ))));
                    }
                    Err(e) => return done(Err(e)),
                };
                self.wait_or_finish(PendingCall::sleep(length), true)
            }
            Call::Poll { fds, timeout } => {
                if fds.len() > MAX_WAIT_ENTRIES {
                    return done(Err(too_many_entries("poll", fds.len())));
                }
                let timeout = match timeout.map(|t| seconds_arg(t, "poll timeout")).transpose() {
                    Ok(timeout) => timeout,
                    Err(e) => return done(Err(e)),
                };
                let fds = fds
                    .into_iter()
                    .map(|p| (p.fd, self.socks.values().find(|e| e.raw_fd() == p.fd).cloned(), p.events))
                    .collect();
                self.wait_or_finish(PendingCall::poll(fds, timeout), timeout != Some(Duration::ZERO))
            }
            Call::Unlink { path, host } => done(
                addr::unix_file(&path, &self.policy_for(host.as_deref()))
                    .and_then(|p| std::fs::remove_file(p).map_err(ExecError::Os))
                    .map(|()| Ret::None),
            ),
            Call::Exists { path, host } => done(addr::unix_file(&path, &self.policy_for(host.as_deref())).map(|p| Ret::Int {
                value: i64::from(std::fs::symlink_metadata(p).is_ok()),
            })),
            Call::Select { rlist, wlist, xlist, timeout } => {
                let entries = rlist.len().saturating_add(wlist.len()).saturating_add(xlist.len());
                if entries > MAX_WAIT_ENTRIES {
                    return done(Err(too_many_entries("select", entries)));
                }
                let lookup = |ids: Vec<SockId>| ids.into_iter().map(|id| self.entry(id)).collect::<Result<Vec<_>, _>>();
                let lists = (lookup(rlist), lookup(wlist), lookup(xlist));
                let (r, w, x) = match lists {
                    (Ok(r), Ok(w), Ok(x)) => (r, w, x),
                    (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return done(Err(e)),
                };
                let timeout = match timeout.map(|t| seconds_arg(t, "timeout")).transpose() {
                    Ok(timeout) => timeout,
                    Err(e) => return done(Err(e)),
                };
                let pending = PendingCall::select(r, w, x, timeout);
                self.wait_or_finish(pending, timeout != Some(Duration::ZERO))
            }
            call => match self.entry(call.sock().unwrap_or(0)) {
                Ok(entry) => self.start_on(entry, call),
                Err(e) => done(Err(e)),
            },
        }
    }

    fn start_on(&mut self, entry: Arc<SockEntry>, call: Call) -> Started {
        let family = entry.info.family;
        let policy = self.policy_for(entry.host.as_deref());
        let sock = entry.socket();
        let done = |r| Started::Done(r);
        match call {
            Call::Bind { addr, .. } => done(
                addr::to_sockaddr(&addr, family, &policy, Use::Bind)
                    .and_then(|sa| sock.bind(&sa).map_err(ExecError::Os))
                    .map(|()| Ret::None),
            ),
            Call::Listen { backlog, .. } => done(sock.listen(backlog).map(|()| Ret::None).map_err(ExecError::Os)),
            Call::Accept { .. } => self.wait_or_finish(PendingCall::accept(entry.clone()), true),
            Call::Connect { ref addr, .. } | Call::ConnectEx { ref addr, .. } => {
                let ex = matches!(call, Call::ConnectEx { .. });
                let result = self.outside_to_peer(addr, entry.host.as_deref()).and_then(|addr| {
                    let addr = self.web_alias.and_then(|real| aliased(&addr, real)).unwrap_or(addr);
                    addr::to_sockaddr(&addr, family, &policy, Use::Destination).and_then(|sa| self.connect(&entry, &sa))
                });
                match result {
                    Ok(Some(pending)) => match self.wait_or_finish(pending, true) {
                        Started::Done(r) if ex => Started::Done(connect_ex_value(r)),
                        other => other.with_connect_ex(ex),
                    },
                    Ok(None) => done(Ok(if ex { Ret::Int { value: 0 } } else { Ret::None })),
                    Err(e) if ex => done(connect_ex_value(Err(e))),
                    Err(e) => done(Err(e)),
                }
            }
            Call::Send { data, flags, .. } => {
                let dontwait = flags & libc::MSG_DONTWAIT != 0;
                let until = if entry.mode() == IoMode::Blocking && !dontwait && entry.is_stream() {
                    SendUntil::All
                } else {
                    SendUntil::Once
                };
                self.wait_or_finish(PendingCall::send(entry.clone(), data.b64, flags, until), !dontwait)
            }
            Call::Sendall { data, flags, .. } => {
                self.wait_or_finish(PendingCall::send(entry.clone(), data.b64, flags, SendUntil::AllNone), true)
            }
            Call::Recv { n, flags, .. } | Call::Recvfrom { n, flags, .. } => {
                let n = n as usize;
                if n > self.config.max_recv {
                    return done(Err(ExecError::Limit(crate::limits::Refusal::RecvSize { asked: n, max: self.config.max_recv })));
                }
                let from = matches!(call, Call::Recvfrom { .. });
                let dontwait = flags & libc::MSG_DONTWAIT != 0;
                let mut pending = PendingCall::recv(entry.clone(), n, flags, from, policy);
                // A waiting MSG_WAITALL receive gathers up to `n` bytes in the relay: all of them
                // together may hold at most `max_recv`.
                let gathers = flags & libc::MSG_WAITALL != 0 && flags & libc::MSG_PEEK == 0 && entry.is_stream() && !from;
                if gathers && n > 0 {
                    match call::Held::take(&self.held, n, self.config.max_recv) {
                        Ok(held) => pending.hold(held),
                        Err(refusal) => return done(Err(ExecError::Limit(refusal))),
                    }
                }
                self.wait_or_finish(pending, !dontwait)
            }
            Call::Sendto { data, addr, flags, .. } => {
                match addr::to_sockaddr(&addr, family, &policy, Use::Destination) {
                    Ok(sa) => {
                        let dontwait = flags & libc::MSG_DONTWAIT != 0;
                        self.wait_or_finish(PendingCall::sendto(entry.clone(), data.b64, sa, flags), !dontwait)
                    }
                    Err(e) => done(Err(e)),
                }
            }
            Call::Shutdown { how, .. } => {
                let how = match how {
                    libc::SHUT_RD => std::net::Shutdown::Read,
                    libc::SHUT_WR => std::net::Shutdown::Write,
                    libc::SHUT_RDWR => std::net::Shutdown::Both,
                    _ => return done(Err(ExecError::os(libc::EINVAL))),
                };
                done(sock.shutdown(how).map(|()| Ret::None).map_err(ExecError::Os))
            }
            Call::Setblocking { flag, .. } => {
                entry.set_mode(if flag { IoMode::Blocking } else { IoMode::NonBlocking });
                done(Ok(Ret::None))
            }
            Call::Settimeout { seconds, .. } => done(match seconds {
                None => Ok(IoMode::Blocking),
                Some(s) if s < 0.0 => Err(ExecError::BadArgument("ValueError: Timeout value out of range".into())),
                Some(s) => match seconds_arg(s, "timeout") {
                    Ok(Duration::ZERO) => Ok(IoMode::NonBlocking),
                    Ok(t) => Ok(IoMode::Timeout(t)),
                    Err(e) => Err(e),
                },
            }
            .map(|mode| {
                entry.set_mode(mode);
                Ret::None
            })),
            Call::Setsockopt { level, opt, value, .. } => {
                let result = allow::check_sockopt(level, opt, &value, self.scope(), self.config.buffer_max)
                    .and_then(|value| sockopt::set(sock, level, opt, &value));
                if level == libc::SOL_SOCKET && matches!(opt, libc::SO_RCVTIMEO | libc::SO_SNDTIMEO) {
                    entry.refresh_kernel_timeouts();
                }
                done(result)
            }
            Call::Getsockopt { level, opt, buflen, .. } => done(sockopt::get(sock, level, opt, buflen)),
            Call::Getsockname { .. } => {
                done(sock.local_addr().map(|a| Ret::Addr { addr: addr::from_sockaddr(&a, &policy) }).map_err(ExecError::Os))
            }
            Call::Getpeername { .. } => {
                done(sock.peer_addr().map(|a| Ret::Addr { addr: addr::from_sockaddr(&a, &policy) }).map_err(ExecError::Os))
            }
            Call::Fileno { .. } => done(Ok(Ret::Int { value: entry.raw_fd().into() })),
            Call::Socket { .. }
            | Call::Close { .. }
            | Call::Select { .. }
            | Call::Gethostbyname { .. }
            | Call::Sleep { .. }
            | Call::LabPeer { .. }
            | Call::Socketpair { .. }
            | Call::Fork { .. }
            | Call::Poll { .. }
            | Call::Unlink { .. }
            | Call::Exists { .. }
            | Call::LabHosts { .. }
            | Call::LabLink { .. } => unreachable!("handled by start_inner"),
        }
    }

    /// Try a call once; finish it, refuse it (non-blocking), or hand it back to wait.
    fn wait_or_finish(&mut self, mut pending: PendingCall, may_wait: bool) -> Started {
        let may_wait = may_wait && pending.may_wait();
        match pending.attempt(may_wait) {
            Some(raw) => Started::Done(self.finish(raw)),
            None if !may_wait => Started::Done(Err(pending.would_block_error())),
            None => {
                pending.arm_deadline();
                Started::Pending(pending)
            }
        }
    }

    /// First `connect()` syscall. `Ok(None)`: connected at once.
    fn connect(&self, entry: &Arc<SockEntry>, addr: &SockAddr) -> Result<Option<PendingCall>, ExecError> {
        if let (Some(watch), Some(peer)) = (&entry.watch, addr.as_socket()) {
            watch.connecting(entry.info.sock, entry.raw_fd(), peer);
        }
        match entry.socket().connect(addr) {
            Ok(()) => Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
                if entry.mode() == IoMode::NonBlocking {
                    return Err(ExecError::Os(e));
                }
                Ok(Some(PendingCall::connect(entry.clone(), addr.clone())))
            }
            // A Unix stream listener with a full backlog: a blocking connect waits for room.
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) && entry.info.family == libc::AF_UNIX => {
                if entry.mode() == IoMode::NonBlocking {
                    return Err(ExecError::Os(e));
                }
                Ok(Some(PendingCall::connect(entry.clone(), addr.clone())))
            }
            Err(e) => Err(ExecError::Os(e)),
        }
    }

    /// Turn a completed call's raw outcome into its value, registering accepted sockets.
    pub fn finish(&mut self, raw: Result<call::Raw, ExecError>) -> Result<Ret, ExecError> {
        match raw? {
            call::Raw::Ret(ret) => Ok(ret),
            call::Raw::Network(network) => {
                for host in network.hosts() {
                    std::fs::create_dir_all(&self.policy_for(Some(&host.name)).unix_root).map_err(ExecError::Os)?;
                }
                if let Some(watch) = &self.config.watch {
                    watch.watch_network(&network);
                }
                self.network = Some(network);
                Ok(Ret::None)
            }
            call::Raw::Accepted { socket, peer, listener } => {
                if self.socks.len() >= self.config.max_sockets {
                    return Err(self.too_many_sockets());
                }
                let info = SockInfo { sock: 0, fd: socket.as_raw_fd(), ..listener.info };
                let addr = addr::from_sockaddr(&peer, &self.policy_for(listener.host.as_deref()));
                // An accepted socket inherits its listener's timeouts and host.
                let entry = self.register(socket, info, listener.kernel_timeouts(), listener.host.clone())?;
                Ok(Ret::Accepted { info: entry.info, addr })
            }
        }
    }

    fn create(&mut self, family: i32, sock_type: i32, proto: i32, host: Option<&str>) -> Result<Ret, ExecError> {
        if self.socks.len() >= self.config.max_sockets {
            return Err(self.too_many_sockets());
        }
        // Flags ORed into the type (SOCK_NONBLOCK) are the script's business; the fd is non-blocking anyway.
        let base_type = allow::check_socket(family, sock_type, proto, self.scope())?;
        let socket = match host {
            Some(host) => self.host_socket(host, family, base_type, proto)?,
            None => (self.config.make_socket)(family, base_type, proto).map_err(ExecError::Os)?,
        };
        let info = SockInfo { sock: 0, fd: socket.as_raw_fd(), family, sock_type: base_type, proto };
        let entry = self.register(socket, info, KernelTimeouts::default(), host.map(Arc::from))?;
        if sock_type & libc::SOCK_NONBLOCK != 0 {
            entry.set_mode(IoMode::NonBlocking);
        }
        Ok(Ret::Socket { info: entry.info })
    }

    /// `socketpair(2)`: both ends are registered like an accepted socket.
    /// The pair is made here, not by `make_socket`: a pair has no address,
    /// so the network namespace does not matter.
    fn socketpair(&mut self, family: i32, sock_type: i32, proto: i32) -> Result<Ret, ExecError> {
        if self.socks.len() + 2 > self.config.max_sockets {
            return Err(self.too_many_sockets());
        }
        if family != libc::AF_UNIX {
            // Linux makes pairs of Unix sockets only.
            return Err(ExecError::os(if family == libc::AF_INET || family == libc::AF_INET6 {
                libc::EOPNOTSUPP
            } else {
                libc::EAFNOSUPPORT
            }));
        }
        let base_type = allow::check_socket(family, sock_type, proto, self.scope())?;
        let protocol = (proto != 0).then_some(socket2::Protocol::from(proto));
        let (a, b) = Socket::pair(socket2::Domain::from(family), socket2::Type::from(base_type), protocol)
            .map_err(ExecError::Os)?;
        let info = |s: &Socket| SockInfo { sock: 0, fd: s.as_raw_fd(), family, sock_type: base_type, proto };
        let (ia, ib) = (info(&a), info(&b));
        let a = self.register(a, ia, KernelTimeouts::default(), None)?;
        let b = self.register(b, ib, KernelTimeouts::default(), None)?;
        if sock_type & libc::SOCK_NONBLOCK != 0 {
            a.set_mode(IoMode::NonBlocking);
            b.set_mode(IoMode::NonBlocking);
        }
        Ok(Ret::Pair { a: a.info, b: b.info })
    }

    /// `os.fork()`: the child's descriptors are `dup(2)`s of the parent's,
    /// sharing the open socket (and its blocking mode and timeouts); closing one
    /// leaves the other open, as after a real fork.
    fn fork(&mut self, socks: &[SockId]) -> Result<Ret, ExecError> {
        if self.socks.len() + socks.len() > self.config.max_sockets {
            return Err(self.too_many_sockets());
        }
        let mut copies = Vec::with_capacity(socks.len());
        for &id in socks {
            let entry = self.entry(id)?;
            let dup = entry.socket.try_clone().map_err(ExecError::Os)?;
            let info = SockInfo { sock: 0, fd: dup.as_raw_fd(), ..entry.info };
            let copy = self.register(dup, info, entry.kernel_timeouts(), entry.host.clone())?;
            copy.set_mode(entry.mode());
            copies.push(copy.info);
        }
        Ok(Ret::Forked { socks: copies })
    }

    fn register(
        &mut self,
        socket: Socket,
        mut info: SockInfo,
        kernel_timeouts: KernelTimeouts,
        host: Option<Arc<str>>,
    ) -> Result<Arc<SockEntry>, ExecError> {
        socket.set_nonblocking(true).map_err(ExecError::Os)?;
        info.sock = self.next_id;
        self.next_id += 1;
        let entry = Arc::new(SockEntry {
            info,
            socket,
            registration: Mutex::new(Weak::new()),
            mode: Mutex::new(IoMode::Blocking),
            closed: CancellationToken::new(),
            kernel_timeouts: Mutex::new(kernel_timeouts),
            host,
            watch: self.config.watch.clone().filter(|_| {
                info.sock_type == libc::SOCK_STREAM && matches!(info.family, libc::AF_INET | libc::AF_INET6)
            }),
        });
        self.socks.insert(info.sock, entry.clone());
        metrics::socket_opened();
        self.events.push(Event::SocketCreated { info });
        if let Some(watch) = &entry.watch {
            watch.track(info.sock, entry.raw_fd());
        }
        Ok(entry)
    }

    fn close(&mut self, sock: SockId) -> Result<Ret, ExecError> {
        let entry = self.socks.remove(&sock).ok_or(ExecError::UnknownSocket(sock))?;
        metrics::sockets_closed(1);
        if let Some(watch) = &entry.watch {
            watch.closing(sock, entry.raw_fd());
        }
        entry.closed.cancel();
        self.events.push(Event::SocketClosed { sock });
        // The fd closes when the last pending call on it lets go of the entry,
        // which the cancellation above makes immediate.
        Ok(Ret::None)
    }

    fn lab_peer(&mut self, kind: PeerKind, host: Option<&str>) -> Result<Ret, ExecError> {
        let addr = self.peer(kind, host)?;
        Ok(Ret::Addr { addr: Some(Addr::inet(addr.ip().to_string(), addr.port())) })
    }

    /// Where the peer of `kind` listens, started at the first ask: in the
    /// session's network, or on `host`'s own loopback (a host reaches nothing else).
    fn peer(&mut self, kind: PeerKind, host: Option<&str>) -> Result<SocketAddr, ExecError> {
        if let Some((_, _, peer)) = self.peers.iter().find(|(h, k, _)| *k == kind && h.as_deref() == host) {
            return Ok(peer.addr);
        }
        let port = if self.config.peers_on_well_known_ports { peers::well_known_port(kind) } else { 0 };
        let peer = match host {
            Some(host) => {
                let netns = self.host_netns(host)?;
                peers::start(kind, port, &|family, ty, proto| netns.socket(family, ty, proto))
            }
            None => peers::start(kind, port, &*self.config.make_socket),
        }
        .map_err(ExecError::Os)?;
        let addr = peer.addr;
        self.peers.push((host.map(str::to_owned), kind, peer));
        Ok(addr)
    }

    /// `gethostbyname`: what the sandbox resolves, and a name spelled like an
    /// outside host (`baidu.com`) as the session's HTTP lab peer, said in a
    /// `resolved` event: the lab has no outside network.
    fn gethostbyname(&mut self, name: &str, host: Option<&str>) -> Result<Ret, ExecError> {
        if let Some(address) = self.host_address(name) {
            return Ok(Ret::Host { address });
        }
        let unknown = match addr::resolve_host(name, libc::AF_INET) {
            Ok(ip) => return Ok(Ret::Host { address: ip.to_string() }),
            Err(e) => e,
        };
        if !addr::is_outside_name(name) {
            return Err(unknown);
        }
        let addr = self.peer(PeerKind::Http, host)?;
        if addr.port() != 80 {
            self.web_alias = Some(addr);
        }
        self.events.push(Event::Resolved { name: name.to_owned(), peer: PeerKind::Http.name().to_owned(), address: addr.to_string() });
        Ok(Ret::Host { address: addr.ip().to_string() })
    }

    /// A connect to a name spelled like an outside host (`www.python.org`)
    /// goes where `gethostbyname` of it points: the HTTP lab peer of the
    /// socket's host, said in a `resolved` event. Other addresses are kept.
    fn outside_to_peer(&mut self, addr: &Addr, host: Option<&str>) -> Result<Addr, ExecError> {
        match addr {
            Addr::Inet { host: name, .. }
                if addr::is_outside_name(name) && addr::resolve_host(name, libc::AF_INET).is_err() =>
            {
                let mut resolved = addr.clone();
                if let (Ret::Host { address }, Addr::Inet { host: name, .. }) = (self.gethostbyname(name, host)?, &mut resolved) {
                    *name = address;
                }
                Ok(resolved)
            }
            _ => Ok(addr.clone()),
        }
    }

    fn entry(&self, sock: SockId) -> Result<Arc<SockEntry>, ExecError> {
        self.socks.get(&sock).cloned().ok_or(ExecError::UnknownSocket(sock))
    }

    fn too_many_sockets(&self) -> ExecError {
        ExecError::Limit(crate::limits::Refusal::Sockets(self.config.max_sockets))
    }

    /// What the allow-lists need to know about this session.
    fn scope(&self) -> allow::Scope {
        allow::Scope { host: self.config.policy.loopback_only, raw: self.config.allow_raw }
    }
}

/// The most entries one `select` (all three lists) or `poll` may name. A
/// session has at most `--max-sockets` sockets, so more are repeats; each
/// costs memory while the call waits, so they are capped.
pub const MAX_WAIT_ENTRIES: usize = 1024;

fn too_many_entries(call: &str, entries: usize) -> ExecError {
    ExecError::BadArgument(format!(
        "ValueError: {call}() was given {entries} entries; socklab allows at most {MAX_WAIT_ENTRIES} per call"
    ))
}

/// The longest timeout CPython takes: its clock counts nanoseconds in 64 bits.
const MAX_SECONDS: f64 = i64::MAX as f64 / 1e9;

/// A script's seconds (a timeout, a sleep) as a duration, with CPython's
/// errors: a `ValueError` for NaN or a negative value, an `OverflowError` past
/// what a C timestamp holds (about 292 years) or infinity.
pub(crate) fn seconds_arg(seconds: f64, what: &str) -> Result<Duration, ExecError> {
    if seconds.is_nan() {
        return Err(ExecError::BadArgument("ValueError: Invalid value NaN (not a number)".into()));
    }
    if seconds < 0.0 {
        return Err(ExecError::BadArgument(format!("ValueError: {what} must be non-negative")));
    }
    if seconds >= MAX_SECONDS {
        return Err(ExecError::BadArgument("OverflowError: timestamp out of range for platform time_t".into()));
    }
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| ExecError::BadArgument("OverflowError: timestamp out of range for platform time_t".into()))
}

/// `addr` redirected to `real` when it names `real`'s address and port 80:
/// the web server an outside host name stands for in host mode.
fn aliased(addr: &Addr, real: SocketAddr) -> Option<Addr> {
    match addr {
        Addr::Inet { host, port: 80, flowinfo: None, scope_id: None } if host.parse::<std::net::IpAddr>().ok() == Some(real.ip()) => {
            Some(Addr::inet(real.ip().to_string(), real.port()))
        }
        _ => None,
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        metrics::sockets_closed(self.socks.len());
        for entry in self.socks.values() {
            entry.closed.cancel();
        }
    }
}

impl Started {
    /// A connect_ex that has to wait reports its errno as a value when it ends.
    fn with_connect_ex(self, ex: bool) -> Started {
        match self {
            Started::Pending(mut pending) if ex => {
                pending.set_connect_ex();
                Started::Pending(pending)
            }
            other => other,
        }
    }
}

/// How a call's result counts in the metrics.
pub(crate) fn call_result<T>(result: &Result<T, ExecError>) -> CallResult {
    match result {
        Ok(_) => CallResult::Ok,
        Err(e) => e.call_result(),
    }
}

/// connect_ex: 0 or the errno, as an int.
fn connect_ex_value(result: Result<Ret, ExecError>) -> Result<Ret, ExecError> {
    match result {
        Ok(_) => Ok(Ret::Int { value: 0 }),
        Err(e) => e.into_errno().map(|value| Ret::Int { value }),
    }
}

/// Seconds from a kernel `struct timeval` option (SO_RCVTIMEO / SO_SNDTIMEO); zero means none.
fn kernel_timeout(sock: &Socket, opt: i32) -> Option<Duration> {
    let timeout = sockopt::get_timeval(sock, opt).ok()?;
    (!timeout.is_zero()).then_some(timeout)
}

/// When a waiting call gives up.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Instant,
    /// The error at expiry; `None` means the expiry is the call's normal end (select, sleep).
    error: Option<DeadlineError>,
}

#[derive(Debug, Clone, Copy)]
enum DeadlineError {
    /// settimeout: EAGAIN "timed out".
    Timeout,
    /// A kernel timeout (SO_RCVTIMEO / SO_SNDTIMEO) with this errno.
    Errno(i32),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_have_cpythons_errors_and_never_panic() {
        assert_eq!(seconds_arg(1.5, "timeout").unwrap(), Duration::from_millis(1500));
        assert_eq!(seconds_arg(9.2e9, "timeout").unwrap(), Duration::from_secs(9_200_000_000));
        for huge in [1e10, 1e19, 1e30, 1e308, f64::INFINITY, f64::MAX] {
            let err = seconds_arg(huge, "timeout").unwrap_err().to_string();
            assert!(err.starts_with("OverflowError"), "{huge}: {err}");
        }
        assert!(seconds_arg(f64::NAN, "timeout").unwrap_err().to_string().starts_with("ValueError"));
        assert!(seconds_arg(-1.0, "timeout").unwrap_err().to_string().contains("non-negative"));
        assert!(seconds_arg(f64::NEG_INFINITY, "timeout").is_err());
    }

    /// Every call with the extremes of each of its numbers: answers, never a panic.
    #[tokio::test]
    async fn extreme_numbers_in_every_call_never_panic() {
        use socklab_wire::protocol::{Bytes, OptValue, PollFd};
        let root = std::env::temp_dir().join(format!("socklab-extremes-{}", std::process::id()));
        let mut exec = Executor::new(ExecConfig {
            policy: AddrPolicy::host(root.clone(), vec![]),
            make_socket: host_socket_maker(),
            allow_raw: false,
            max_sockets: 64,
            max_recv: 16 << 20,
            max_sleep: Duration::from_secs(60),
            buffer_max: BufferMax::read(),
            peers_on_well_known_ports: false,
            watch: None,
            session_netns: None,
        });
        let ints = [i32::MIN, -1, 0, 1, 2, 3, 5, 6, 10, 16, 17, 41, 255, 768, 0o4000 | 1, 0o2000000 | 10, i32::MAX];
        let seconds = [f64::MIN, -1.0, -0.0, 0.0, 5e-324, 1e-9, 1.0, 9.2e9, 9.3e9, 1e19, 1e308, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
        let run = |exec: &mut Executor, call: Call| {
            let _ = exec.start(call);
        };
        for &family in &ints {
            for &sock_type in &ints {
                for &proto in &ints {
                    let made = exec.start(Call::Socket { family, sock_type, proto, host: None });
                    if let Started::Done(Ok(Ret::Socket { info })) = made {
                        run(&mut exec, Call::Close { sock: info.sock });
                    }
                    run(&mut exec, Call::Socketpair { family, sock_type, proto });
                    let open: Vec<SockId> = exec.socks.keys().copied().collect();
                    for sock in open {
                        run(&mut exec, Call::Close { sock });
                    }
                }
            }
        }
        let Started::Done(Ok(Ret::Pair { a, b })) = exec.start(Call::Socketpair { family: libc::AF_UNIX, sock_type: 1, proto: 0 }) else {
            panic!("a socket pair")
        };
        let Started::Done(Ok(Ret::Socket { info: tcp })) = exec.start(Call::Socket { family: libc::AF_INET6, sock_type: 1, proto: 0, host: None }) else {
            panic!("a TCP socket")
        };
        let values = [
            OptValue::Int(i64::MIN),
            OptValue::Int(-1),
            OptValue::Int(0),
            OptValue::Int(1),
            OptValue::Int(i64::from(i32::MAX) + 1),
            OptValue::Int(i64::MAX),
            OptValue::Bytes(Bytes::new(vec![])),
            OptValue::Bytes(Bytes::new(vec![0xff])),
            OptValue::Bytes(Bytes::new(vec![0xff; 4])),
            OptValue::Bytes(Bytes::new(vec![0xff; 8])),
            OptValue::Bytes(Bytes::new(vec![0x7f; 16])),
            OptValue::Bytes(Bytes::new(vec![0; 2000])),
        ];
        for sock in [a.sock, tcp.sock] {
            for level in [i32::MIN, -1, 0, 1, 6, 17, 41, i32::MAX] {
                for opt in (-1..80).chain([i32::MIN, i32::MAX]) {
                    for value in &values {
                        run(&mut exec, Call::Setsockopt { sock, level, opt, value: value.clone() });
                    }
                    for buflen in [None, Some(0), Some(1), Some(4), Some(1024), Some(1025), Some(u32::MAX)] {
                        run(&mut exec, Call::Getsockopt { sock, level, opt, buflen });
                    }
                }
            }
        }
        for &t in &seconds {
            run(&mut exec, Call::Settimeout { sock: a.sock, seconds: Some(t) });
            run(&mut exec, Call::Recv { sock: a.sock, n: 10, flags: libc::MSG_WAITALL });
            run(&mut exec, Call::Select { rlist: vec![a.sock], wlist: vec![b.sock], xlist: vec![], timeout: Some(t) });
            run(&mut exec, Call::Sleep { seconds: t });
            let fds = vec![PollFd { fd: i32::MIN, events: i16::MIN }, PollFd { fd: -1, events: -1 }, PollFd { fd: a.fd, events: i16::MAX }];
            run(&mut exec, Call::Poll { fds, timeout: Some(t) });
        }
        run(&mut exec, Call::Settimeout { sock: a.sock, seconds: None });
        for &flags in &ints {
            for n in [0, 1, 16 << 20, (16 << 20) + 1, u32::MAX] {
                run(&mut exec, Call::Recv { sock: a.sock, n, flags });
                run(&mut exec, Call::Recvfrom { sock: b.sock, n, flags });
            }
            run(&mut exec, Call::Send { sock: b.sock, data: Bytes::new(vec![1; 10]), flags });
            run(&mut exec, Call::Listen { sock: tcp.sock, backlog: flags });
            run(&mut exec, Call::Shutdown { sock: b.sock, how: flags });
        }
        for port in [i64::MIN, -1, 0, 65_535, 65_536, i64::MAX] {
            let addr = Addr::Inet { host: "::1".into(), port, flowinfo: Some(u32::MAX), scope_id: Some(u32::MAX) };
            run(&mut exec, Call::Bind { sock: tcp.sock, addr: addr.clone() });
            run(&mut exec, Call::ConnectEx { sock: tcp.sock, addr });
        }
        for path in [String::new(), "\0".into(), "/".into(), "..".into(), "a/".repeat(60), "\0".repeat(200), "x".repeat(5000)] {
            run(&mut exec, Call::Unlink { path: path.clone(), host: None });
            run(&mut exec, Call::Exists { path: path.clone(), host: None });
            run(&mut exec, Call::Bind { sock: a.sock, addr: Addr::Unix { path: path.clone() } });
        }
        run(&mut exec, Call::Fork { socks: vec![u32::MAX; 1000] });
        run(&mut exec, Call::Fork { socks: vec![a.sock; 100] });
        run(&mut exec, Call::Close { sock: u32::MAX });
        run(&mut exec, Call::Gethostbyname { name: "a.".repeat(100_000), host: None });
        drop(exec);
        let _ = std::fs::remove_dir_all(root);
    }
}
