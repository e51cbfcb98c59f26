//! The `socket` module's library functions that CPython writes in Python over
//! the primitive calls (`create_connection`, `create_server`,
//! `has_dualstack_ipv6`), `getaddrinfo`, `socketpair`, and the
//! `AddressFamily`/`SocketKind` members.
//!
//! A library function that makes several system calls is a [`Task`]: a small
//! state machine that yields one [`Call`] at a time and is fed each result, so
//! every call is its own call on the relay (and in the transcript), and the
//! statement suspends and resumes between them like any other.

use std::sync::Arc;

use super::args::{Args, to_i32, to_int, to_seconds, to_text};
use super::exception::Exception;
use super::sockets::{Flow, Pending, addr_value};
use super::value::{SocketObj, Value};
use crate::names::ExcClass;
use socklab_wire::consts;
use socklab_wire::protocol::{Addr, Call, OptValue, SockId};

const AF_UNSPEC: i64 = 0;
const AF_UNIX: i64 = 1;
const AF_INET: i64 = 2;
const AF_INET6: i64 = 10;
const SOCK_STREAM: i64 = 1;
const SOCK_DGRAM: i64 = 2;
const SOCK_RAW: i64 = 3;
const SOL_SOCKET: i32 = 1;
const SO_REUSEADDR: i32 = 2;
const SO_REUSEPORT: i32 = 15;
const IPPROTO_IPV6: i32 = 41;
const IPV6_V6ONLY: i32 = 26;

/// Which enum class a member belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnumClass {
    AddressFamily,
    SocketKind,
}

impl EnumClass {
    pub fn name(self) -> &'static str {
        match self {
            EnumClass::AddressFamily => "AddressFamily",
            EnumClass::SocketKind => "SocketKind",
        }
    }

    fn member_name(self, value: i64) -> Option<&'static str> {
        match self {
            EnumClass::AddressFamily => consts::family_name(value),
            EnumClass::SocketKind => consts::type_name(value),
        }
    }
}

/// `socket.AF_INET` as `sock.family` gives it: equal to its int, printed as
/// its int (Python 3.11's IntEnum), `repr` `<AddressFamily.AF_INET: 2>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntEnum {
    pub class: EnumClass,
    pub value: i64,
}

impl IntEnum {
    pub fn repr(self) -> String {
        match self.class.member_name(self.value) {
            Some(name) => format!("<{}.{name}: {}>", self.class.name(), self.value),
            None => self.value.to_string(),
        }
    }

    pub fn attr(self, name: &str) -> Option<Value> {
        match name {
            "name" => self.class.member_name(self.value).map(Value::str),
            "value" => Some(Value::Int(self.value)),
            _ => None,
        }
    }
}

/// A member, or the plain int where the class has no member of that value (as CPython's socket module does).
pub fn member(class: EnumClass, value: i64) -> Value {
    if class.member_name(value).is_some() {
        Value::IntEnum(IntEnum { class, value })
    } else {
        Value::Int(value)
    }
}

/// `AddressFamily(2)`, `SocketKind(1)`.
pub fn construct(class: EnumClass, args: Args) -> Result<Value, Exception> {
    let [v] = args.bind(["value"], 1)?;
    let v = v.unwrap_or(Value::None);
    let n = super::value::as_int(&v);
    match n.filter(|n| class.member_name(*n).is_some()) {
        Some(n) => Ok(member(class, n)),
        None => Err(Exception::value_error(format!(
            "{} is not a valid {}",
            v.repr(),
            class.name()
        ))),
    }
}

/// `socketpair(family=AF_UNIX, type=SOCK_STREAM, proto=0)`.
pub fn socketpair(args: Args) -> Result<Flow, Exception> {
    let [family, ty, proto] = args.bind(["family", "type", "proto"], 0)?;
    let int_or = |v: Option<Value>, d: i64| {
        v.filter(|v| !matches!(v, Value::None))
            .map_or(Ok(d), |v| to_int(&v))
            .and_then(|n| {
                i32::try_from(n)
                    .map_err(|_| Exception::overflow("signed integer is greater than maximum"))
            })
    };
    let call = Call::Socketpair {
        family: int_or(family, AF_UNIX)?,
        sock_type: int_or(ty, SOCK_STREAM)?,
        proto: int_or(proto, 0)?,
    };
    Ok(Flow::Call(call, Pending::Plain))
}

/// One `getaddrinfo` answer: family, type, proto, address.
#[derive(Debug, Clone)]
pub struct AddrInfo {
    family: i64,
    sock_type: i64,
    proto: i64,
    addr: Addr,
}

fn gaierror(errno: i32, message: &str) -> Exception {
    let mut e = Exception::new(ExcClass::OsError, message);
    e.errno = Some((errno, String::new()));
    e
}

/// The addresses a host name stands for, resolved here: the lab's network has
/// no resolver, so numeric addresses, `''`/`None` and the loopback names only.
fn hosts(host: &Value, family: i64, passive: bool) -> Result<Vec<(i64, String)>, Exception> {
    let name = match host {
        Value::None => None,
        other => Some(to_text(other)?),
    };
    let all = match name.as_deref() {
        None | Some("") if passive => vec![
            (AF_INET, "0.0.0.0".to_string()),
            (AF_INET6, "::".to_string()),
        ],
        None => vec![
            (AF_INET6, "::1".to_string()),
            (AF_INET, "127.0.0.1".to_string()),
        ],
        Some("") => return Err(gaierror(-2, "Name or service not known")),
        Some("localhost") | Some(super::sockname::LAB_HOSTNAME) => vec![(AF_INET, "127.0.0.1".to_string())],
        Some("ip6-localhost") => vec![(AF_INET6, "::1".to_string())],
        Some(text) => {
            if text.parse::<std::net::Ipv4Addr>().is_ok() {
                vec![(AF_INET, text.to_string())]
            } else if let Ok(ip) = text.parse::<std::net::Ipv6Addr>() {
                vec![(AF_INET6, ip.to_string())]
            } else {
                return Err(gaierror(-2, "Name or service not known"));
            }
        }
    };
    let picked: Vec<_> = all
        .into_iter()
        .filter(|(f, _)| family == AF_UNSPEC || *f == family)
        .collect();
    if picked.is_empty() {
        return Err(gaierror(-9, "Address family for hostname not supported"));
    }
    Ok(picked)
}

fn port_of(port: &Value) -> Result<i64, Exception> {
    match port {
        Value::None => Ok(0),
        Value::Str(s) => match s.as_ref() {
            "http" => Ok(80),
            "https" => Ok(443),
            "echo" => Ok(7),
            text => text
                .parse::<u16>()
                .map(i64::from)
                .map_err(|_| gaierror(-8, "Servname not supported for ai_socktype")),
        },
        other => to_int(other),
    }
}

/// The answers in CPython's order: each address, then each type (stream, datagram, raw).
fn resolve(
    host: &Value,
    port: &Value,
    family: i64,
    sock_type: i64,
    proto: i64,
    flags: i64,
) -> Result<Vec<AddrInfo>, Exception> {
    if !matches!(family, AF_UNSPEC | AF_INET | AF_INET6) {
        return Err(gaierror(-6, "ai_family not supported"));
    }
    let port = port_of(port)?;
    let passive = flags & 1 != 0;
    let mut out = Vec::new();
    for (fam, ip) in hosts(host, family, passive)? {
        for (ty, pr) in [(SOCK_STREAM, 6), (SOCK_DGRAM, 17), (SOCK_RAW, 0)] {
            if (sock_type != 0 && sock_type != ty) || (proto != 0 && proto != pr && ty != SOCK_RAW)
            {
                continue;
            }
            let (flowinfo, scope_id) = if fam == AF_INET6 {
                (Some(0), Some(0))
            } else {
                (None, None)
            };
            let addr = Addr::Inet {
                host: ip.clone(),
                port,
                flowinfo,
                scope_id,
            };
            let proto = if ty == SOCK_RAW { proto } else { pr };
            out.push(AddrInfo {
                family: fam,
                sock_type: ty,
                proto,
                addr,
            });
        }
    }
    Ok(out)
}

/// A name the lab cannot resolve itself but the relay answers with a lab
/// peer (`example.com`): resolving it is a `gethostbyname` call first.
/// The session's own host names (`# lane: NAME @ HOST`) are the relay's to resolve too.
fn outside_name(host: &Value, hosts: &[String]) -> Option<String> {
    match host {
        Value::Str(s) if socklab_wire::protocol::is_outside_name(s) || hosts.iter().any(|h| **h == **s) => Some(s.to_string()),
        _ => None,
    }
}

/// `getaddrinfo`'s arguments but the host, for after the relay resolved it.
#[derive(Debug, Clone)]
pub struct Lookup {
    port: Value,
    family: i64,
    sock_type: i64,
    proto: i64,
    flags: i64,
}

impl Lookup {
    fn answer(&self, host: &Value) -> Result<Value, Exception> {
        let infos = resolve(host, &self.port, self.family, self.sock_type, self.proto, self.flags)?;
        Ok(Value::list(infos.into_iter().map(info_value).collect()))
    }
}

/// `getaddrinfo(host, port, family=0, type=0, proto=0, flags=0)`.
pub fn getaddrinfo(args: Args, hosts: &[String]) -> Result<Flow, Exception> {
    let [host, port, family, ty, proto, flags] =
        args.bind(["host", "port", "family", "type", "proto", "flags"], 2)?;
    let int = |v: Option<Value>| v.map_or(Ok(0), |v| to_int(&v));
    let lookup = Lookup {
        port: port.unwrap_or(Value::None),
        family: int(family)?,
        sock_type: int(ty)?,
        proto: int(proto)?,
        flags: int(flags)?,
    };
    let host = host.unwrap_or(Value::None);
    if let Some(name) = outside_name(&host, hosts) {
        return task(Call::Gethostbyname { name, host: None }, Task::Lookup(lookup));
    }
    Ok(Flow::Value(lookup.answer(&host)?))
}

fn info_value(i: AddrInfo) -> Value {
    Value::tuple(vec![
        member(EnumClass::AddressFamily, i.family),
        member(EnumClass::SocketKind, i.sock_type),
        Value::Int(i.proto),
        Value::str(""),
        addr_value(i.addr),
    ])
}

/// A library function in progress: what it has done, what it does next.
#[derive(Debug, Clone)]
pub enum Task {
    Connect(Connect),
    Server(Server),
    Dualstack(Dual),
    /// `getaddrinfo` of a name the relay resolved.
    Lookup(Lookup),
    /// A read on a socket file, waiting for enough data.
    Read(Arc<super::sockfile::SockFile>, super::sockfile::Want),
    /// `socket()` or `accept()` under `socket.setdefaulttimeout(seconds)`: the
    /// new socket's `settimeout`, then the call's value.
    DefaultTimeout { seconds: f64, made: Option<(Value, Arc<SocketObj>)> },
}

/// Where a multi-call function is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `create_connection` to a name the relay resolves first.
    Resolve,
    Socket,
    /// The n-th call of its plan.
    Plan(usize),
    /// Closing after a failure.
    Closing,
}

/// The calls after `socket()`, each with the timeout it sets, if it sets one.
type Plan = Vec<(Call, Option<Option<f64>>)>;

/// `create_connection`: for each address, socket, settimeout, bind, connect.
#[derive(Debug, Clone)]
pub struct Connect {
    port: Value,
    candidates: Vec<AddrInfo>,
    next: usize,
    /// `Some` when a timeout was given (`Some(None)` for `timeout=None`).
    timeout: Option<Option<f64>>,
    source: Option<Value>,
    sock: Option<Arc<SocketObj>>,
    stage: Stage,
    error: Option<Exception>,
}

/// `create_server`: socket, setsockopts, bind, listen.
#[derive(Debug, Clone)]
pub struct Server {
    family: i64,
    address: Value,
    opts: Vec<(i32, i32, i64)>,
    backlog: Option<i32>,
    sock: Option<Arc<SocketObj>>,
    stage: Stage,
    error: Option<Exception>,
}

fn task(call: Call, task: Task) -> Result<Flow, Exception> {
    Ok(Flow::Call(call, Pending::Task(Box::new(task))))
}

fn socket_call(family: i64, sock_type: i64, proto: i64) -> Call {
    let c = |v: i64| i32::try_from(v).unwrap_or(0);
    Call::Socket {
        family: c(family),
        sock_type: c(sock_type),
        proto: c(proto),
        host: None,
    }
}

/// `create_connection(address, timeout=…, source_address=None)`.
pub fn create_connection(args: Args, default_timeout: Option<f64>, hosts: &[String]) -> Result<Flow, Exception> {
    let [address, timeout, source] = args.bind(["address", "timeout", "source_address"], 1)?;
    let address = address.unwrap_or(Value::None);
    let Value::Tuple(pair) = &address else {
        return Err(Exception::type_error("cannot unpack non-iterable address"));
    };
    let [host, port] = &pair[..] else {
        return Err(Exception::value_error(
            "too many values to unpack (expected 2)",
        ));
    };
    let outside = outside_name(host, hosts);
    let candidates = match outside {
        Some(_) => Vec::new(),
        None => resolve(host, port, AF_UNSPEC, SOCK_STREAM, 0, 0)?,
    };
    // Without a timeout argument the socket gets the default one, as a new socket does.
    let timeout = match timeout {
        Some(t) => Some(to_seconds(&t, "timeout")?),
        None => default_timeout.map(Some),
    };
    let connect = Connect {
        port: port.clone(),
        candidates,
        next: 0,
        timeout,
        source: source.filter(|s| !matches!(s, Value::None)),
        sock: None,
        stage: Stage::Socket,
        error: None,
    };
    match outside {
        Some(name) => task(Call::Gethostbyname { name, host: None }, Task::Connect(Connect { stage: Stage::Resolve, ..connect })),
        None => connect.try_next(),
    }
}

impl Connect {
    fn try_next(mut self) -> Result<Flow, Exception> {
        let Some(info) = self.candidates.get(self.next).cloned() else {
            return Err(self.error.unwrap_or_else(|| {
                Exception::new(ExcClass::OsError, "getaddrinfo returns an empty list")
            }));
        };
        self.next += 1;
        self.stage = Stage::Socket;
        self.sock = None;
        task(
            socket_call(info.family, info.sock_type, info.proto),
            Task::Connect(self),
        )
    }

    /// The calls after `socket()`: settimeout, bind, connect.
    fn plan(&self, sock: &Arc<SocketObj>) -> Result<Plan, Exception> {
        let id = sock.id();
        let mut calls = Vec::new();
        if let Some(t) = self.timeout {
            calls.push((
                Call::Settimeout {
                    sock: id,
                    seconds: t,
                },
                Some(t),
            ));
        }
        if let Some(src) = &self.source {
            calls.push((
                Call::Bind {
                    sock: id,
                    addr: super::sockets::to_addr(sock.info.family, src, "bind")?,
                },
                None,
            ));
        }
        let addr = self.candidates[self.next - 1].addr.clone();
        calls.push((Call::Connect { sock: id, addr }, None));
        Ok(calls)
    }

    fn advance(mut self, result: Result<Value, Exception>) -> Result<Flow, Exception> {
        match (self.stage, result) {
            (Stage::Resolve, Ok(host)) => {
                self.candidates = resolve(&host, &self.port, AF_UNSPEC, SOCK_STREAM, 0, 0)?;
                self.try_next()
            }
            (Stage::Resolve, Err(e)) => Err(e),
            (Stage::Socket, Ok(v)) => {
                self.sock = v.as_socket().cloned();
                self.run_plan(0)
            }
            (Stage::Socket, Err(e)) => {
                self.error = Some(e);
                self.try_next()
            }
            (Stage::Plan(n), Ok(_)) => {
                if let (Some(sock), Ok(plan)) = (&self.sock, self.plan_of())
                    && let Some((_, Some(t))) = plan.get(n)
                {
                    sock.set_timeout(*t);
                }
                self.run_plan(n + 1)
            }
            (Stage::Plan(_), Err(e)) => self.close_after(e),
            (Stage::Closing, _) => {
                if let Some(s) = &self.sock {
                    s.mark_closed();
                }
                self.try_next()
            }
        }
    }

    fn plan_of(&self) -> Result<Plan, Exception> {
        match &self.sock {
            Some(s) => self.plan(s),
            None => Ok(Vec::new()),
        }
    }

    fn run_plan(mut self, n: usize) -> Result<Flow, Exception> {
        let Some(sock) = self.sock.clone() else {
            return self.try_next();
        };
        let plan = match self.plan(&sock) {
            Ok(p) => p,
            Err(e) => return self.close_after(e),
        };
        match plan.into_iter().nth(n) {
            Some((call, _)) => {
                self.stage = Stage::Plan(n);
                task(call, Task::Connect(self))
            }
            None => Ok(Flow::Value(Value::Socket(sock))),
        }
    }

    fn close_after(mut self, e: Exception) -> Result<Flow, Exception> {
        self.error = Some(e);
        self.stage = Stage::Closing;
        match &self.sock {
            Some(s) => task(Call::Close { sock: s.id() }, Task::Connect(self)),
            None => self.try_next(),
        }
    }
}

/// `create_server(address, *, family=AF_INET, backlog=None, reuse_port=False, dualstack_ipv6=False)`.
pub fn create_server(args: Args) -> Result<Flow, Exception> {
    let [address, family, backlog, reuse_port, dualstack] = args.bind(
        [
            "address",
            "family",
            "backlog",
            "reuse_port",
            "dualstack_ipv6",
        ],
        1,
    )?;
    let family = family.map_or(Ok(AF_INET), |f| to_int(&f))?;
    let reuse_port = reuse_port.is_some_and(|v| v.truthy());
    let dualstack = dualstack.is_some_and(|v| v.truthy());
    if dualstack && family != AF_INET6 {
        return Err(Exception::value_error(
            "dualstack_ipv6 requires AF_INET6 family",
        ));
    }
    let mut opts = vec![(SOL_SOCKET, SO_REUSEADDR, 1)];
    if reuse_port {
        opts.push((SOL_SOCKET, SO_REUSEPORT, 1));
    }
    if family == AF_INET6 {
        opts.push((IPPROTO_IPV6, IPV6_V6ONLY, if dualstack { 0 } else { 1 }));
    }
    let backlog = backlog
        .filter(|b| !matches!(b, Value::None))
        .map(|b| to_i32(&b))
        .transpose()?;
    let server = Server {
        family,
        address: address.unwrap_or(Value::None),
        opts,
        backlog,
        sock: None,
        stage: Stage::Socket,
        error: None,
    };
    task(socket_call(family, SOCK_STREAM, 0), Task::Server(server))
}

impl Server {
    fn call(&self, sock: &SocketObj, n: usize) -> Result<Option<Call>, Exception> {
        let id = sock.id();
        if let Some(&(level, opt, v)) = self.opts.get(n) {
            return Ok(Some(Call::Setsockopt {
                sock: id,
                level,
                opt,
                value: OptValue::Int(v),
            }));
        }
        Ok(match n - self.opts.len() {
            0 => {
                let fam = i32::try_from(self.family).unwrap_or(0);
                Some(Call::Bind {
                    sock: id,
                    addr: super::sockets::to_addr(fam, &self.address, "bind")?,
                })
            }
            1 => Some(Call::Listen {
                sock: id,
                backlog: self.backlog.unwrap_or(128).max(0),
            }),
            _ => None,
        })
    }

    fn run(mut self, n: usize) -> Result<Flow, Exception> {
        let Some(sock) = self.sock.clone() else {
            return Err(self.error.unwrap_or_else(|| Exception::os_errno(9)));
        };
        match self.call(&sock, n) {
            Ok(Some(call)) => {
                self.stage = Stage::Plan(n);
                task(call, Task::Server(self))
            }
            Ok(None) => Ok(Flow::Value(Value::Socket(sock))),
            Err(e) => self.close_after(e),
        }
    }

    fn close_after(mut self, e: Exception) -> Result<Flow, Exception> {
        self.error = Some(e);
        self.stage = Stage::Closing;
        match &self.sock {
            Some(s) => task(Call::Close { sock: s.id() }, Task::Server(self)),
            None => Err(self.error.unwrap_or_else(|| Exception::os_errno(9))),
        }
    }

    fn advance(mut self, result: Result<Value, Exception>) -> Result<Flow, Exception> {
        match (self.stage, result) {
            (Stage::Socket, Ok(v)) => {
                self.sock = v.as_socket().cloned();
                self.run(0)
            }
            (Stage::Socket | Stage::Resolve, Err(e)) => Err(e),
            // A server never resolves through the relay.
            (Stage::Resolve, Ok(_)) => self.run(0),
            (Stage::Plan(n), Ok(_)) => self.run(n + 1),
            (Stage::Plan(n), Err(mut e)) => {
                if n == self.opts.len() {
                    // CPython names the address in a failed bind's message.
                    e.message = format!(
                        "{} (while attempting to bind on address {})",
                        e.message,
                        self.address.repr()
                    );
                }
                self.close_after(e)
            }
            (Stage::Closing, _) => {
                if let Some(s) = &self.sock {
                    s.mark_closed();
                }
                Err(self.error.unwrap_or_else(|| Exception::os_errno(9)))
            }
        }
    }
}

/// `has_dualstack_ipv6()`: an IPv6 socket that accepts IPV6_V6ONLY=0, as CPython checks.
pub fn has_dualstack_ipv6(args: Args) -> Result<Flow, Exception> {
    args.bind([], 0)?;
    task(
        socket_call(AF_INET6, SOCK_STREAM, 0),
        Task::Dualstack(Dual::Socket),
    )
}

/// Where `has_dualstack_ipv6()` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dual {
    Socket,
    /// The setsockopt on this socket.
    Opt(SockId),
    /// Closing; the answer is known.
    Close(bool),
}

fn dualstack(stage: Dual, result: Result<Value, Exception>) -> Result<Flow, Exception> {
    match (stage, result) {
        (Dual::Socket, Ok(v)) => match v.as_socket() {
            Some(s) => task(
                Call::Setsockopt {
                    sock: s.id(),
                    level: IPPROTO_IPV6,
                    opt: IPV6_V6ONLY,
                    value: OptValue::Int(0),
                },
                Task::Dualstack(Dual::Opt(s.id())),
            ),
            None => Ok(Flow::Value(Value::Bool(false))),
        },
        (Dual::Socket, Err(_)) => Ok(Flow::Value(Value::Bool(false))),
        // The setsockopt's outcome decides; the socket is closed either way.
        (Dual::Opt(sock), outcome) => task(
            Call::Close { sock },
            Task::Dualstack(Dual::Close(outcome.is_ok())),
        ),
        (Dual::Close(answer), _) => Ok(Flow::Value(Value::Bool(answer))),
    }
}

impl Task {
    /// Feeds the last call's outcome in; the task's next call, or its value.
    pub fn advance(self, result: Result<Value, Exception>) -> Result<Flow, Exception> {
        match self {
            Task::Connect(c) => c.advance(result),
            Task::Server(s) => s.advance(result),
            Task::Dualstack(stage) => dualstack(stage, result),
            Task::Lookup(lookup) => Ok(Flow::Value(lookup.answer(&result?)?)),
            Task::Read(file, want) => file.advance(want, result),
            Task::DefaultTimeout { seconds, made: None } => {
                let v = result?;
                let sock = match &v {
                    Value::Socket(s) => s.clone(),
                    Value::Tuple(t) if let Some(Value::Socket(s)) = t.first() => s.clone(),
                    _ => return Ok(Flow::Value(v)),
                };
                let call = Call::Settimeout { sock: sock.id(), seconds: Some(seconds) };
                Ok(Flow::Call(call, Pending::Task(Box::new(Task::DefaultTimeout { seconds, made: Some((v, sock)) }))))
            }
            Task::DefaultTimeout { seconds, made: Some((v, sock)) } => {
                result?;
                sock.set_timeout(Some(seconds));
                Ok(Flow::Value(v))
            }
        }
    }
}
