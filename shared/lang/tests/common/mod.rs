//! Test support: a tiny deterministic fake of the relay's kernel (loopback TCP
//! and UDP only), the scheduler of `docs/language.md`, transcript rendering, and a compact
//! tree dump for parser snapshots.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;

use socklab_wire::errno;
use socklab_lang::interp::{CallResult, InterpEvent, Interpreter, LaneState, Yield};
use socklab_lang::{self as lang, Expr, ExprKind, Script, Stmt, StmtKind, Target};
use socklab_wire::protocol::{Addr, Call, OsError, Outcome, PeerKind, PollFd, Ret, SockId, SockInfo};

/// One fake socket.
#[derive(Debug, Default)]
struct Sock {
    info: Option<SockInfo>,
    port: Option<i64>,
    listening: bool,
    backlog: VecDeque<SockId>,
    peer: Option<SockId>,
    rx: Vec<u8>,
    /// UDP: datagrams with the sender's port.
    datagrams: VecDeque<(Vec<u8>, i64)>,
    peer_closed: bool,
    closed: bool,
}

/// A deterministic fake kernel.
#[derive(Debug, Default)]
pub struct FakeNet {
    socks: HashMap<SockId, Sock>,
    next_id: SockId,
    next_fd: i32,
    next_ephemeral: i64,
    /// The most bytes one `send` takes (short sends), if set.
    pub send_limit: Option<usize>,
    /// Every call made, for checking nothing is repeated.
    pub calls: Vec<Call>,
}

/// The fake's answer: a result now, or "this would block".
pub enum Answer {
    Done(Outcome),
    WouldBlock,
}

fn err(num: i32) -> Answer {
    Answer::Done(Outcome::Err {
        error: OsError {
            errno: errno::name(num),
            errno_num: num,
            message: errno::strerror(num),
        },
    })
}

fn ok(value: Ret) -> Answer {
    Answer::Done(Outcome::Ok { value })
}

fn inet(port: i64) -> Addr {
    Addr::Inet {
        host: "127.0.0.1".into(),
        port,
        flowinfo: None,
        scope_id: None,
    }
}

impl FakeNet {
    pub fn new() -> FakeNet {
        FakeNet {
            next_id: 1,
            next_fd: 3,
            next_ephemeral: 40000,
            ..FakeNet::default()
        }
    }

    fn new_sock(&mut self, family: i32, sock_type: i32, proto: i32) -> SockInfo {
        let info = SockInfo {
            sock: self.next_id,
            fd: self.next_fd,
            family,
            sock_type,
            proto,
        };
        self.next_id += 1;
        self.next_fd += 1;
        self.socks.insert(
            info.sock,
            Sock {
                info: Some(info),
                ..Sock::default()
            },
        );
        info
    }

    fn ephemeral(&mut self) -> i64 {
        self.next_ephemeral += 1;
        self.next_ephemeral
    }

    fn find_port(&self, port: i64, listening: bool) -> Option<SockId> {
        self.socks
            .iter()
            .filter(|(_, s)| !s.closed && s.port == Some(port) && (!listening || s.listening))
            .map(|(id, _)| *id)
            .min()
    }

    fn readable(&self, id: SockId) -> bool {
        self.socks.get(&id).is_some_and(|s| {
            !s.rx.is_empty() || !s.backlog.is_empty() || !s.datagrams.is_empty() || s.peer_closed
        })
    }

    /// Tries a call; a blocking call that cannot complete yet answers `WouldBlock`
    /// and has no effect, so the scheduler can try it again later.
    pub fn try_call(&mut self, call: &Call) -> Answer {
        let answer = self.answer(call);
        if !matches!(answer, Answer::WouldBlock) {
            self.calls.push(call.clone());
        }
        answer
    }

    fn answer(&mut self, call: &Call) -> Answer {
        if let Some(id) = call.sock() {
            match self.socks.get(&id) {
                Some(s) if !s.closed => {}
                _ => return err(9),
            }
        }
        match call {
            Call::Socket {
                family,
                sock_type,
                proto,
                ..
            } => ok(Ret::Socket {
                info: self.new_sock(*family, *sock_type, *proto),
            }),
            Call::Socketpair {
                family,
                sock_type,
                proto,
            } => {
                let a = self.new_sock(*family, *sock_type, *proto);
                let b = self.new_sock(*family, *sock_type, *proto);
                if let Some(s) = self.socks.get_mut(&a.sock) {
                    s.peer = Some(b.sock);
                }
                if let Some(s) = self.socks.get_mut(&b.sock) {
                    s.peer = Some(a.sock);
                }
                ok(Ret::Pair { a, b })
            }
            // The real relay duplicates descriptors; this model does not.
            Call::Fork { .. } => err(38),
            Call::Bind { sock, addr } => {
                let Addr::Inet { port, .. } = addr else {
                    return err(97);
                };
                if *port != 0 && self.find_port(*port, false).is_some() {
                    return err(98);
                }
                let port = if *port == 0 { self.ephemeral() } else { *port };
                if let Some(s) = self.socks.get_mut(sock) {
                    s.port = Some(port);
                }
                ok(Ret::None)
            }
            Call::Listen { sock, .. } => {
                if let Some(s) = self.socks.get_mut(sock) {
                    s.listening = true;
                }
                ok(Ret::None)
            }
            Call::Connect { sock, addr } | Call::ConnectEx { sock, addr } => {
                let Addr::Inet { port, .. } = addr else {
                    return err(97);
                };
                let Some(listener) = self.find_port(*port, true) else {
                    if matches!(call, Call::ConnectEx { .. }) {
                        return ok(Ret::Int { value: 111 });
                    }
                    return err(111);
                };
                let info = self
                    .socks
                    .get(sock)
                    .and_then(|s| s.info)
                    .unwrap_or(SockInfo {
                        sock: 0,
                        fd: 0,
                        family: 2,
                        sock_type: 1,
                        proto: 0,
                    });
                let server = self.new_sock(info.family, info.sock_type, info.proto);
                let port = self.ephemeral();
                if let Some(s) = self.socks.get_mut(sock) {
                    s.peer = Some(server.sock);
                    s.port.get_or_insert(port);
                }
                if let Some(s) = self.socks.get_mut(&server.sock) {
                    s.peer = Some(*sock);
                }
                if let Some(l) = self.socks.get_mut(&listener) {
                    l.backlog.push_back(server.sock);
                }
                if matches!(call, Call::ConnectEx { .. }) {
                    ok(Ret::Int { value: 0 })
                } else {
                    ok(Ret::None)
                }
            }
            Call::Accept { sock } => {
                let Some(new) = self.socks.get_mut(sock).and_then(|s| s.backlog.pop_front()) else {
                    return Answer::WouldBlock;
                };
                let peer = self.socks.get(&new).and_then(|s| s.peer);
                let peer_port = peer
                    .and_then(|p| self.socks.get(&p))
                    .and_then(|s| s.port)
                    .unwrap_or(0);
                let info = self.socks.get(&new).and_then(|s| s.info);
                match info {
                    Some(info) => ok(Ret::Accepted {
                        info,
                        addr: Some(inet(peer_port)),
                    }),
                    None => err(22),
                }
            }
            Call::Send { sock, data, .. } | Call::Sendall { sock, data, .. } => {
                let Some(peer) = self.socks.get(sock).and_then(|s| s.peer) else {
                    return err(107);
                };
                if self.socks.get(sock).is_some_and(|s| s.peer_closed) {
                    return err(32);
                }
                let all = matches!(call, Call::Sendall { .. });
                let n = if all {
                    data.as_slice().len()
                } else {
                    self.send_limit
                        .unwrap_or(usize::MAX)
                        .min(data.as_slice().len())
                };
                if let Some(p) = self.socks.get_mut(&peer) {
                    p.rx.extend_from_slice(&data.as_slice()[..n]);
                }
                if all {
                    ok(Ret::None)
                } else {
                    ok(Ret::Int { value: n as i64 })
                }
            }
            Call::Recv { sock, n, .. } => {
                let Some(s) = self.socks.get_mut(sock) else {
                    return err(9);
                };
                if s.rx.is_empty() {
                    if s.peer_closed {
                        return ok(Ret::Bytes {
                            data: Vec::new().into(),
                        });
                    }
                    return Answer::WouldBlock;
                }
                let take = (*n as usize).min(s.rx.len());
                let data: Vec<u8> = s.rx.drain(..take).collect();
                ok(Ret::Bytes { data: data.into() })
            }
            Call::Sendto {
                sock, data, addr, ..
            } => {
                let Addr::Inet { port, .. } = addr else {
                    return err(97);
                };
                let from = match self.socks.get(sock).and_then(|s| s.port) {
                    Some(p) => p,
                    None => {
                        let p = self.ephemeral();
                        if let Some(s) = self.socks.get_mut(sock) {
                            s.port = Some(p);
                        }
                        p
                    }
                };
                if let Some(t) = self
                    .find_port(*port, false)
                    .and_then(|target| self.socks.get_mut(&target))
                {
                    t.datagrams.push_back((data.as_slice().to_vec(), from));
                }
                ok(Ret::Int {
                    value: data.as_slice().len() as i64,
                })
            }
            Call::Recvfrom { sock, n, .. } => {
                let Some(s) = self.socks.get_mut(sock) else {
                    return err(9);
                };
                let Some((mut data, from)) = s.datagrams.pop_front() else {
                    return Answer::WouldBlock;
                };
                data.truncate(*n as usize);
                ok(Ret::Datagram {
                    data: data.into(),
                    addr: Some(inet(from)),
                })
            }
            Call::Shutdown { .. }
            | Call::Setblocking { .. }
            | Call::Settimeout { .. }
            | Call::Setsockopt { .. } => ok(Ret::None),
            Call::Close { sock } => {
                let peer = self.socks.get(sock).and_then(|s| s.peer);
                if let Some(s) = self.socks.get_mut(sock) {
                    s.closed = true;
                }
                if let Some(p) = peer.and_then(|p| self.socks.get_mut(&p)) {
                    p.peer_closed = true;
                }
                ok(Ret::None)
            }
            Call::Getsockopt { .. } => ok(Ret::Int { value: 1 }),
            Call::Getsockname { sock } => {
                let port = self.socks.get(sock).and_then(|s| s.port).unwrap_or(0);
                ok(Ret::Addr {
                    addr: Some(inet(port)),
                })
            }
            Call::Getpeername { sock } => {
                let peer = self.socks.get(sock).and_then(|s| s.peer);
                match peer.and_then(|p| self.socks.get(&p)).and_then(|s| s.port) {
                    Some(port) => ok(Ret::Addr {
                        addr: Some(inet(port)),
                    }),
                    None => err(107),
                }
            }
            Call::Fileno { sock } => ok(Ret::Int {
                value: self
                    .socks
                    .get(sock)
                    .and_then(|s| s.info)
                    .map_or(-1, |i| i64::from(i.fd)),
            }),
            Call::Select {
                rlist,
                wlist,
                xlist: _,
                timeout,
            } => {
                let r: Vec<SockId> = rlist
                    .iter()
                    .copied()
                    .filter(|id| self.readable(*id))
                    .collect();
                let w: Vec<SockId> = wlist.clone();
                if r.is_empty() && w.is_empty() && timeout.is_none() {
                    return Answer::WouldBlock;
                }
                ok(Ret::Select {
                    r,
                    w,
                    x: Vec::new(),
                })
            }
            Call::Poll { fds, timeout } => {
                let mut ready = Vec::new();
                for p in fds {
                    let found = self.socks.iter().find(|(_, s)| !s.closed && s.info.is_some_and(|i| i.fd == p.fd));
                    let revents = match found {
                        None => 0x20,
                        Some((id, _)) => {
                            let mut r = 0;
                            if self.readable(*id) {
                                r |= p.events & 0x1;
                            }
                            r | (p.events & 0x4)
                        }
                    };
                    if revents != 0 {
                        ready.push(PollFd { fd: p.fd, events: revents });
                    }
                }
                if ready.is_empty() && timeout.is_none() {
                    return Answer::WouldBlock;
                }
                ok(Ret::Polled { fds: ready })
            }
            // The model has no Unix paths.
            Call::Unlink { .. } => err(2),
            Call::Exists { .. } => ok(Ret::Int { value: 0 }),
            // The model has no hosts.
            Call::LabHosts { .. } | Call::LabLink { .. } => err(1),
            Call::Gethostbyname { name, .. } => {
                if name == "localhost" {
                    ok(Ret::Host {
                        address: "127.0.0.1".into(),
                    })
                } else {
                    Answer::Done(Outcome::Err {
                        error: OsError {
                            errno: "EHOSTUNREACH".into(),
                            errno_num: -2,
                            message: "Name or service not known".into(),
                        },
                    })
                }
            }
            Call::Sleep { .. } => ok(Ret::None),
            Call::LabPeer { kind, .. } => match kind {
                PeerKind::Echo => ok(Ret::Addr {
                    addr: Some(inet(7)),
                }),
                PeerKind::Discard | PeerKind::SlowReader | PeerKind::Reset | PeerKind::Http => err(22),
            },
        }
    }
}

/// Runs a script to the end with the scheduler of `docs/language.md`: lanes in file order; the
/// running lane goes on until it ends or makes a call that cannot complete at
/// once; then the first lane (in file order) that can make progress runs.
/// Returns the transcript.
pub fn run(src: &str, net: &mut FakeNet) -> String {
    let parsed = lang::parse(src);
    assert!(
        parsed.diagnostics.is_empty(),
        "script does not parse: {:?}",
        parsed.diagnostics
    );
    let mut interp = Interpreter::new(&parsed.script);
    let mut out = String::new();
    run_interp(&mut interp, net, &mut out, 10_000);
    out
}

/// Drives `interp` for at most `budget` steps/resumes, appending rendered events to `out`.
pub fn run_interp(interp: &mut Interpreter, net: &mut FakeNet, out: &mut String, budget: usize) {
    let mut pending: Vec<Option<Call>> = Vec::new();
    let mut budget = budget;
    let now = 1_700_000_000.5;
    'schedule: loop {
        #[allow(clippy::needless_range_loop)] // `lane` also indexes the interpreter
        // Threads add lanes as they start.
        for lane in 0..interp.lane_count() {
            pending.resize(interp.lane_count(), None);
            // Run this lane while it makes progress.
            let mut progressed = false;
            loop {
                if budget == 0 {
                    let _ = writeln!(out, "(step budget exhausted)");
                    return;
                }
                let y = match interp.lane_state(lane) {
                    LaneState::Ended(_) | LaneState::Parked => break,
                    LaneState::Ready => interp.step(lane, now),
                    LaneState::Waiting => {
                        let Some(call) = pending[lane].clone() else {
                            break;
                        };
                        match net.try_call(&call) {
                            Answer::WouldBlock => break,
                            Answer::Done(outcome) => {
                                interp.resume(lane, CallResult::Outcome(outcome), now)
                            }
                        }
                    }
                };
                budget -= 1;
                progressed = true;
                render(&interp.take_events(), out);
                pending[lane] = match y {
                    Yield::Call(call) => Some(call),
                    Yield::Stepped => None,
                };
            }
            if progressed {
                continue 'schedule;
            }
        }
        // Nothing can progress: every unfinished lane is blocked.
        for lane in 0..interp.lane_count() {
            if !matches!(interp.lane_state(lane), LaneState::Ended(_)) {
                interp.end_blocked(lane);
            }
        }
        render(&interp.take_events(), out);
        return;
    }
}

/// One line per event, like the CLI's human output.
pub fn render(events: &[InterpEvent], out: &mut String) {
    for e in events {
        let _ = match e {
            InterpEvent::Step {
                lane,
                line,
                call,
                ok: true,
                result,
                ..
            } => {
                writeln!(
                    out,
                    "{lane}:{line}  {call}  → {}",
                    result.as_deref().unwrap_or("?")
                )
            }
            InterpEvent::Step {
                lane,
                line,
                call,
                errno: Some(name),
                errno_num,
                message,
                ..
            } => writeln!(
                out,
                "{lane}:{line}  {call}  → {name} ({}): {}",
                errno_num.unwrap_or(0),
                message.as_deref().unwrap_or("")
            ),
            InterpEvent::Step {
                lane,
                line,
                call,
                message,
                ..
            } => {
                writeln!(
                    out,
                    "{lane}:{line}  {call}  → raised {}",
                    message.as_deref().unwrap_or("")
                )
            }
            InterpEvent::Print { lane, line, text } => writeln!(out, "{lane}:{line}  | {text}"),
            InterpEvent::LaneEnd {
                lane,
                status,
                line,
                message,
                ..
            } => {
                let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
                let msg = message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                writeln!(out, "== {lane} {status:?}{at}{msg}")
            }
        };
    }
}

/// Only the printed lines of a run, for comparing with real Python.
pub fn printed(transcript: &str) -> String {
    transcript
        .lines()
        .filter_map(|l| l.split_once("  | ").map(|(_, t)| t))
        .map(|t| format!("{t}\n"))
        .collect()
}

// ---- compact tree dump ----

pub fn dump(script: &Script) -> String {
    let mut out = String::new();
    for lane in &script.lanes {
        let _ = writeln!(out, "lane {} (line {})", lane.name, lane.line);
        dump_block(&lane.body, 1, &mut out);
    }
    out
}

fn dump_block(stmts: &[Stmt], depth: usize, out: &mut String) {
    for s in stmts {
        dump_stmt(s, depth, out);
    }
}

fn dump_stmt(s: &Stmt, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let head = format!("{pad}{:>3}: ", s.line);
    let _ = match &s.kind {
        StmtKind::Expr(e) => writeln!(out, "{head}expr {}", ex(e)),
        StmtKind::Assign { targets, value } => writeln!(
            out,
            "{head}assign {} = {}",
            targets.iter().map(tg).collect::<Vec<_>>().join(" = "),
            ex(value)
        ),
        StmtKind::AugAssign { target, op, value } => writeln!(
            out,
            "{head}augassign {} {}= {}",
            tg(target),
            op.symbol(),
            ex(value)
        ),
        StmtKind::Assert { test, message } => writeln!(
            out,
            "{head}assert {}{}",
            ex(test),
            message
                .as_ref()
                .map(|m| format!(", {}", ex(m)))
                .unwrap_or_default()
        ),
        StmtKind::If { branches, orelse } => {
            for (i, (test, body)) in branches.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{head}{} {}",
                    if i == 0 { "if" } else { "elif" },
                    ex(test)
                );
                dump_block(body, depth + 1, out);
            }
            if let Some(b) = orelse {
                let _ = writeln!(out, "{pad}     else");
                dump_block(b, depth + 1, out);
            }
            Ok(())
        }
        StmtKind::While { test, body, orelse } => {
            let _ = writeln!(out, "{head}while {}", ex(test));
            dump_block(body, depth + 1, out);
            if let Some(b) = orelse {
                let _ = writeln!(out, "{pad}     else");
                dump_block(b, depth + 1, out);
            }
            Ok(())
        }
        StmtKind::For { target, iter, body, orelse } => {
            let _ = writeln!(out, "{head}for {} in {}", tg(target), ex(iter));
            dump_block(body, depth + 1, out);
            if let Some(b) = orelse {
                let _ = writeln!(out, "{pad}     else");
                dump_block(b, depth + 1, out);
            }
            Ok(())
        }
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finally,
        } => {
            let _ = writeln!(out, "{head}try");
            dump_block(body, depth + 1, out);
            for h in handlers {
                let classes: Vec<&str> = h.classes.iter().map(|c| c.name()).collect();
                let _ = writeln!(
                    out,
                    "{pad}{:>3}: except [{}]{}",
                    h.line,
                    classes.join(", "),
                    h.name
                        .as_ref()
                        .map(|n| format!(" as {n}"))
                        .unwrap_or_default()
                );
                dump_block(&h.body, depth + 1, out);
            }
            if let Some(b) = orelse {
                let _ = writeln!(out, "{pad}     else");
                dump_block(b, depth + 1, out);
            }
            if let Some(b) = finally {
                let _ = writeln!(out, "{pad}     finally");
                dump_block(b, depth + 1, out);
            }
            Ok(())
        }
        StmtKind::With {
            value,
            name,
            body,
            exit_source,
        } => {
            let _ = writeln!(
                out,
                "{head}with {}{} (exit: {exit_source})",
                ex(value),
                name.as_ref()
                    .map(|n| format!(" as {n}"))
                    .unwrap_or_default()
            );
            dump_block(body, depth + 1, out);
            Ok(())
        }
        StmtKind::Break => writeln!(out, "{head}break"),
        StmtKind::Continue => writeln!(out, "{head}continue"),
        StmtKind::Pass => writeln!(out, "{head}pass"),
        StmtKind::Import => writeln!(out, "{head}import"),
        StmtKind::Def(def) => {
            for d in &def.decorators {
                let _ = writeln!(out, "{head}@{}", ex(d));
            }
            let _ = writeln!(out, "{head}def {}({})", def.name, params(def));
            dump_block(&def.body, depth + 1, out);
            Ok(())
        }
        StmtKind::Class(def) => {
            for d in &def.decorators {
                let _ = writeln!(out, "{head}@{}", ex(d));
            }
            let bases: Vec<String> = def.bases.iter().map(ex).collect();
            let _ = writeln!(out, "{head}class {}({})", def.name, bases.join(", "));
            dump_block(&def.body, depth + 1, out);
            Ok(())
        }
        StmtKind::Return(v) => writeln!(
            out,
            "{head}return {}",
            v.as_ref().map(ex).unwrap_or_default()
        ),
        StmtKind::Raise { exc, cause } => writeln!(
            out,
            "{head}raise {} from {}",
            exc.as_ref().map(ex).unwrap_or_default(),
            cause.as_ref().map(ex).unwrap_or_default()
        ),
        StmtKind::Global(n) => writeln!(out, "{head}global {}", n.join(" ")),
        StmtKind::Nonlocal(n) => writeln!(out, "{head}nonlocal {}", n.join(" ")),
        StmtKind::Del(t) => writeln!(
            out,
            "{head}del {}",
            t.iter().map(tg).collect::<Vec<_>>().join(" ")
        ),
    };
    let _ = writeln!(out, "{pad}     `{}`", s.source);
}

fn params(def: &lang::FuncDef) -> String {
    let p = |p: &lang::Param| match &p.default {
        Some(d) => format!("{}={}", p.name, ex(d)),
        None => p.name.clone(),
    };
    let mut parts: Vec<String> = def.params.iter().map(p).collect();
    parts.extend(def.vararg.as_ref().map(|v| format!("*{v}")));
    parts.extend(def.kwonly.iter().map(|k| format!("kw:{}", p(k))));
    parts.extend(def.kwarg.as_ref().map(|v| format!("**{v}")));
    parts.join(" ")
}

fn tg(t: &Target) -> String {
    match t {
        Target::Name(n) => n.clone(),
        Target::Unpack(items) => {
            format!("({})", items.iter().map(tg).collect::<Vec<_>>().join(", "))
        }
        Target::Starred(t) => format!("*{}", tg(t)),
        Target::Slice { object, lower, upper, step } => {
            let part = |e: &Option<Expr>| e.as_ref().map(ex).unwrap_or_default();
            format!("{}[{}:{}:{}]", ex(object), part(lower), part(upper), part(step))
        }
        Target::Index { object, index } => format!("{}[{}]", ex(object), ex(index)),
        Target::Attr { object, name } => format!("{}.{name}", ex(object)),
    }
}

fn ex(e: &Expr) -> String {
    let list = |items: &[Expr]| items.iter().map(ex).collect::<Vec<_>>().join(" ");
    match &e.kind {
        ExprKind::None => "None".into(),
        ExprKind::Bool(b) => format!("{b}"),
        ExprKind::Int(i) => format!("{i}"),
        ExprKind::BigInt(digits, radix) => format!("(int {digits} base {radix})"),
        ExprKind::Float(f) => format!("{f:?}"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Bytes(b) => format!("b{:?}", String::from_utf8_lossy(b)),
        ExprKind::Name(n) => n.clone(),
        ExprKind::Module(m) => format!("(module {})", m.name()),
        ExprKind::Tuple(items) => format!("(tuple {})", list(items)),
        ExprKind::List(items) => format!("(list {})", list(items)),
        ExprKind::Unary(op, x) => format!("({op:?} {})", ex(x)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), ex(a), ex(b)),
        ExprKind::Compare(first, rest) => {
            let mut s = format!("(cmp {}", ex(first));
            for (op, x) in rest {
                let _ = write!(s, " {} {}", op.symbol(), ex(x));
            }
            s + ")"
        }
        ExprKind::And(a, b) => format!("(and {} {})", ex(a), ex(b)),
        ExprKind::Or(a, b) => format!("(or {} {})", ex(a), ex(b)),
        ExprKind::IfElse { test, body, orelse } => {
            format!("(if {} {} {})", ex(test), ex(body), ex(orelse))
        }
        ExprKind::Named(name, value) => format!("(:= {name} {})", ex(value)),
        ExprKind::Attr(x, n) => format!("{}.{n}", ex(x)),
        ExprKind::Call { func, args, kwargs } => {
            let mut parts: Vec<String> = args.iter().map(ex).collect();
            parts.extend(kwargs.iter().map(|(k, v)| format!("{k}={}", ex(v))));
            format!("(call {} {})", ex(func), parts.join(" "))
        }
        ExprKind::Index(x, i) => format!("(index {} {})", ex(x), ex(i)),
        ExprKind::Slice {
            object,
            lower,
            upper,
            step,
        } => {
            let part = |p: &Option<Box<Expr>>| p.as_ref().map_or("_".to_string(), |e| ex(e));
            format!(
                "(slice {} {} {} {})",
                ex(object),
                part(lower),
                part(upper),
                part(step)
            )
        }
        ExprKind::FString(parts) => format!("(f {})", fparts(parts)),
        ExprKind::Lambda(def) => {
            let body = match def.body.first().map(|s| &s.kind) {
                Some(StmtKind::Return(Some(e))) => ex(e),
                _ => String::new(),
            };
            format!("(lambda {} {})", params(def), body)
        }
        ExprKind::Dict(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|(k, v)| format!("{}:{}", ex(k), ex(v)))
                .collect();
            format!("(dict {})", parts.join(" "))
        }
        ExprKind::Set(items) => format!("(set {})", list(items)),
        ExprKind::Star(x) => format!("*{}", ex(x)),
        ExprKind::Yield(x) => format!("(yield {})", x.as_deref().map(ex).unwrap_or_default()),
        ExprKind::YieldFrom(x) => format!("(yield from {})", ex(x)),
        ExprKind::DoubleStar(x) => format!("**{}", ex(x)),
        ExprKind::Comp {
            kind,
            elt,
            value,
            generators,
        } => {
            let mut s = format!("({kind:?}comp {}", ex(elt));
            if let Some(v) = value {
                let _ = write!(s, ":{}", ex(v));
            }
            for g in generators {
                let _ = write!(s, " for {} in {}", tg(&g.target), ex(&g.iter));
                for c in &g.conds {
                    let _ = write!(s, " if {}", ex(c));
                }
            }
            s + ")"
        }
    }
}

fn fparts(parts: &[lang::FPart]) -> String {
    parts
        .iter()
        .map(|p| match p {
            lang::FPart::Lit(s) => format!("{s:?}"),
            lang::FPart::Field {
                value,
                conversion,
                spec,
            } => {
                let conv = conversion.map_or(String::new(), |c| format!("!{c}"));
                let spec = spec
                    .as_ref()
                    .map_or(String::new(), |s| format!(":({})", fparts(s)));
                format!("{{{}{conv}{spec}}}", ex(value))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
