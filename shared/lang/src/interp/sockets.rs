//! Socket methods and `select()`: argument checks as Python's socket module does
//! them, then the [`Call`] for the relay; and the relay's [`Ret`] back to a value.

use std::sync::Arc;

use super::args::{Args, to_bytes, to_i32, to_int, to_text, to_seconds};
use super::exception::Exception;
use super::sockapi::{self, EnumClass};
use super::value::{SocketObj, Value, lock};
use socklab_wire::op::Op;
use socklab_wire::protocol::{Addr, Bytes, Call, OptValue, Ret, SockId};

const AF_UNIX: i32 = 1;
const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;

/// What calling something produced.
#[derive(Debug)]
pub enum Flow {
    Value(Value),
    /// The relay must run `Call`; `Pending` says how to turn its result into a value.
    Call(Call, Pending),
    /// Arguments no call can carry: the lane stops as when the relay refuses a call.
    Refused(String),
}

/// What to remember about an outstanding call to interpret its result.
#[derive(Debug, Clone)]
pub enum Pending {
    Plain,
    /// `select()` answers with handles; the script gets back the socket values it passed.
    Select {
        r: Vec<Value>,
        w: Vec<Value>,
        x: Vec<Value>,
    },
    /// The socket is closed once `close()` returns, whatever the outcome (as in Python).
    Close(Arc<SocketObj>),
    /// `settimeout`/`setblocking`: what `gettimeout()` answers once the relay accepted it.
    Timeout(Arc<SocketObj>, Option<f64>),
    /// A `for` loop over a socket file needed data: the `recv`'s bytes go to the
    /// file's buffer (not the stack) and the loop asks again.
    Fill(Arc<super::sockfile::SockFile>),
    /// A file's buffer went out with `sendall`.
    Flushed(Arc<super::sockfile::SockFile>),
    /// A library function's next call: the task goes on with its result.
    Task(Box<super::sockapi::Task>),
    /// `recv_into`/`recvfrom_into`: the bytes go into the buffer from `at`;
    /// the script gets their count (and the address).
    Into { base: Arc<std::sync::Mutex<Vec<u8>>>, at: usize },
    /// A wait with a timeout slept once: look again.
    Poll(Box<super::threads::Poll>),
    /// `os.fork()`: the relay duplicated these sockets for the child.
    Fork(Vec<Arc<SocketObj>>),
    /// `poll()` of a poll or epoll object: `(fd, revents)` pairs, at most
    /// `maxevents` (-1: all).
    Polled { maxevents: i64 },
    /// An int answer the script sees as a bool (`os.path.exists`).
    Truth,
}

/// The attributes of a socket that are plain values.
pub fn attr(sock: &SocketObj, name: &str) -> Option<Value> {
    Some(match name {
        "family" => sockapi::member(EnumClass::AddressFamily, i64::from(sock.info.family)),
        "type" => sockapi::member(EnumClass::SocketKind, i64::from(sock.info.sock_type)),
        "proto" => Value::Int(i64::from(sock.info.proto)),
        _ => return None,
    })
}

/// Socket methods the interpreter answers itself, without a call.
pub const LOCAL_METHODS: &[&str] = &["gettimeout", "getblocking", "makefile"];

/// `recv_into` and `recvfrom_into`: the wire has no op of their own, so each
/// is a `recv` (`recvfrom`) of the size asked, whose bytes the interpreter
/// copies into the buffer.
pub const INTO_METHODS: &[&str] = &["recv_into", "recvfrom_into"];

/// `sock.recv_into(buffer, nbytes=0, flags=0)`, `sock.recvfrom_into(…)`.
pub fn recv_into(sock: &Arc<SocketObj>, name: &str, args: Args) -> Result<Flow, Exception> {
    let [buffer, nbytes, flags] = args.bind(["buffer", "nbytes", "flags"], 1)?;
    let (base, at, len) = match buffer.unwrap_or(Value::None) {
        Value::ByteArray(b) => {
            let len = lock(&b).len();
            (b, 0, len)
        }
        Value::MemoryView(m) => m.target()?,
        Value::Bytes(_) => return Err(Exception::type_error(format!("{name}() argument 1 must be read-write bytes-like object, not bytes"))),
        other => {
            return Err(Exception::type_error(format!(
                "{name}() argument 1 must be read-write bytes-like object, not {}",
                other.type_name()
            )));
        }
    };
    let n = nbytes.map_or(Ok(0), |n| to_int(&n))?;
    if n < 0 {
        return Err(Exception::value_error(format!("negative buffersize in {name}")));
    }
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n > len {
        return Err(Exception::value_error("buffer too small for requested bytes"));
    }
    let n = if n == 0 { len } else { n };
    if sock.is_closed() {
        return Err(Exception::os_errno(9));
    }
    let flags = flags.map(|f| to_i32(&f)).transpose()?.unwrap_or(0);
    let n32 = u32::try_from(n).map_err(|_| Exception::overflow("buffer size is too large"))?;
    let id = sock.id();
    let call = if name == "recv_into" {
        Call::Recv { sock: id, n: n32, flags }
    } else {
        Call::Recvfrom { sock: id, n: n32, flags }
    };
    Ok(Flow::Call(call, Pending::Into { base, at }))
}

/// `sock.gettimeout()`, `sock.getblocking()`.
pub fn local_method(sock: &Arc<SocketObj>, name: &str, args: Args) -> Result<Value, Exception> {
    if name == "makefile" {
        return super::sockfile::makefile(sock, args);
    }
    args.bind([], 0)?;
    if sock.is_closed() && name == "getblocking" {
        return Err(Exception::os_errno(9));
    }
    Ok(match (name, sock.timeout()) {
        ("gettimeout", t) => t.map_or(Value::None, Value::Float),
        (_, t) => Value::Bool(t != Some(0.0)),
    })
}

/// `sock.op(args)`, for an op that is a socket method.
pub fn call_method(sock: &Arc<SocketObj>, op: Op, args: Args) -> Result<Flow, Exception> {
    let id = sock.id();
    if sock.is_closed() {
        // Python answers these locally once the socket object is closed.
        return match op {
            Op::Close => Ok(Flow::Value(Value::None)),
            Op::Fileno => Ok(Flow::Value(Value::Int(-1))),
            _ => Err(Exception::os_errno(9)),
        };
    }
    let call = |c: Call| Ok(Flow::Call(c, Pending::Plain));
    let family = sock.info.family;
    let method = op.name();
    match op {
        Op::Setsockopt => {
            let [level, opt, value] = args.bind_op(op)?;
            let (level, opt, value) = (req(level)?, req(opt)?, req(value)?);
            let value = match &value {
                Value::Int(_) | Value::Bool(_) => OptValue::Int(to_int(&value)?),
                Value::Bytes(b) => OptValue::Bytes(Bytes::new(b.to_vec())),
                other => {
                    return Err(Exception::type_error(format!(
                        "a bytes-like object is required, not '{}'",
                        other.type_name()
                    )));
                }
            };
            call(Call::Setsockopt {
                sock: id,
                level: to_i32(&level)?,
                opt: to_i32(&opt)?,
                value,
            })
        }
        Op::Getsockopt => {
            let [level, opt, buflen] = args.bind_op(op)?;
            let buflen = match buflen {
                None => None,
                Some(v) => {
                    let n = to_int(&v)?;
                    if !(1..=1024).contains(&n) {
                        return Err(Exception::os_errno(22));
                    }
                    u32::try_from(n).ok()
                }
            };
            call(Call::Getsockopt {
                sock: id,
                level: to_i32(&req(level)?)?,
                opt: to_i32(&req(opt)?)?,
                buflen,
            })
        }
        Op::Bind | Op::Connect | Op::ConnectEx => {
            let [address] = args.bind_op(op)?;
            let addr = to_addr(family, &req(address)?, method)?;
            call(if op == Op::Bind {
                Call::Bind { sock: id, addr }
            } else if op == Op::Connect {
                Call::Connect { sock: id, addr }
            } else {
                Call::ConnectEx { sock: id, addr }
            })
        }
        Op::Listen => {
            let [backlog] = args.bind_op(op)?;
            let backlog = backlog
                .map(|b| to_i32(&b))
                .transpose()?
                .unwrap_or(128)
                .max(0);
            call(Call::Listen { sock: id, backlog })
        }
        Op::Send | Op::Sendall => {
            let [data, flags] = args.bind_op(op)?;
            let data = Bytes::new(to_bytes(&req(data)?)?.to_vec());
            let flags = flags.map(|f| to_i32(&f)).transpose()?.unwrap_or(0);
            call(if op == Op::Send {
                Call::Send {
                    sock: id,
                    data,
                    flags,
                }
            } else {
                Call::Sendall {
                    sock: id,
                    data,
                    flags,
                }
            })
        }
        Op::Recv | Op::Recvfrom => {
            let [n, flags] = args.bind_op(op)?;
            let n = to_int(&req(n)?)?;
            if n < 0 {
                return Err(Exception::value_error(format!(
                    "negative buffersize in {method}"
                )));
            }
            let n =
                u32::try_from(n).map_err(|_| Exception::overflow("buffer size is too large"))?;
            let flags = flags.map(|f| to_i32(&f)).transpose()?.unwrap_or(0);
            call(if op == Op::Recv {
                Call::Recv { sock: id, n, flags }
            } else {
                Call::Recvfrom { sock: id, n, flags }
            })
        }
        Op::Sendto => {
            // sendto(data, address) or sendto(data, flags, address), as in Python.
            let [data, a, b] = args.bind_op(op)?;
            let (flags, address) = match (a, b) {
                (Some(addr), None) => (0, addr),
                (Some(flags), Some(addr)) => (to_i32(&flags)?, addr),
                (None, Some(addr)) => (0, addr),
                (None, None) => {
                    return Err(Exception::type_error(
                        "sendto() takes 2 or 3 arguments (1 given)",
                    ));
                }
            };
            let data = Bytes::new(to_bytes(&req(data)?)?.to_vec());
            call(Call::Sendto {
                sock: id,
                data,
                addr: to_addr(family, &address, method)?,
                flags,
            })
        }
        Op::Shutdown => {
            let [how] = args.bind_op(op)?;
            call(Call::Shutdown {
                sock: id,
                how: to_i32(&req(how)?)?,
            })
        }
        Op::Close => {
            let [] = args.bind_op(op)?;
            Ok(Flow::Call(
                Call::Close { sock: id },
                Pending::Close(sock.clone()),
            ))
        }
        Op::Setblocking => {
            let [flag] = args.bind_op(op)?;
            let flag = req(flag)?.truthy();
            Ok(Flow::Call(
                Call::Setblocking { sock: id, flag },
                Pending::Timeout(sock.clone(), if flag { None } else { Some(0.0) }),
            ))
        }
        Op::Settimeout => {
            let [value] = args.bind_op(op)?;
            let seconds = to_seconds(&req(value)?, "timeout")?;
            if seconds.is_some_and(|s| s < 0.0 || s.is_nan()) {
                return Err(Exception::value_error("Timeout value out of range"));
            }
            Ok(Flow::Call(
                Call::Settimeout { sock: id, seconds },
                Pending::Timeout(sock.clone(), seconds),
            ))
        }
        Op::Accept => no_arguments(args, Call::Accept { sock: id }),
        Op::Getsockname => no_arguments(args, Call::Getsockname { sock: id }),
        Op::Getpeername => no_arguments(args, Call::Getpeername { sock: id }),
        Op::Fileno => no_arguments(args, Call::Fileno { sock: id }),
        Op::Socket | Op::Select | Op::Gethostbyname | Op::Sleep | Op::LabPeer | Op::Socketpair | Op::Fork | Op::Poll | Op::Unlink | Op::Exists | Op::LabHosts | Op::LabLink => Err(Exception::new(
            crate::names::ExcClass::AttributeError,
            format!("'socket' object has no attribute '{method}'"),
        )),
    }
}

/// A call that takes no arguments but its socket.
fn no_arguments(args: Args, call: Call) -> Result<Flow, Exception> {
    let [] = args.bind_op(call.op())?;
    Ok(Flow::Call(call, Pending::Plain))
}

/// A bound required parameter (bind() already checked it is there).
fn req(v: Option<Value>) -> Result<Value, Exception> {
    v.ok_or_else(|| Exception::type_error("missing argument"))
}

/// A script address, checked against the socket's family as Python checks it.
pub fn to_addr(family: i32, v: &Value, method: &str) -> Result<Addr, Exception> {
    match family {
        AF_UNIX => unix_addr(v),
        AF_INET => match v {
            Value::Tuple(t) if t.len() == 2 => inet_addr(t, method),
            Value::Tuple(_) => Err(Exception::type_error(
                "AF_INET address must be a pair (host, port)",
            )),
            other => Err(Exception::type_error(format!(
                "{method}(): AF_INET address must be tuple, not {}",
                other.type_name()
            ))),
        },
        AF_INET6 => match v {
            Value::Tuple(t) if (2..=4).contains(&t.len()) => inet_addr(t, method),
            other => Err(Exception::type_error(format!(
                "{method}(): AF_INET6 address must be a tuple (host, port[, flowinfo[, scopeid]]), not {}",
                other.type_name()
            ))),
        },
        _ => match v {
            Value::Tuple(t) if (2..=4).contains(&t.len()) => inet_addr(t, method),
            Value::Str(_) | Value::Bytes(_) => unix_addr(v),
            other => Err(Exception::type_error(format!(
                "{method}(): bad address: {}",
                other.repr()
            ))),
        },
    }
}

fn unix_addr(v: &Value) -> Result<Addr, Exception> {
    Ok(Addr::Unix { path: to_text(v)? })
}

fn inet_addr(t: &[Value], method: &str) -> Result<Addr, Exception> {
    let host = to_text(&t[0])?;
    // A port past 64 bits is out of range like any other.
    let port = if let Value::BigInt(_) = &t[1] { -1 } else { to_int(&t[1])? };
    if !(0..=65535).contains(&port) {
        return Err(Exception::overflow(format!(
            "{method}(): port must be 0-65535."
        )));
    }
    let flowinfo = match t.get(2) {
        Some(v) => {
            let f = to_int(v)?;
            if !(0..(1 << 20)).contains(&f) {
                return Err(Exception::overflow(format!(
                    "{method}(): flowinfo must be 0-1048575."
                )));
            }
            u32::try_from(f).ok()
        }
        None => None,
    };
    let scope_id = match t.get(3) {
        Some(v) => Some(
            u32::try_from(to_int(v)?).map_err(|_| Exception::overflow("scope_id out of range"))?,
        ),
        None => None,
    };
    Ok(Addr::Inet {
        host,
        port,
        flowinfo,
        scope_id,
    })
}

/// `select(rlist, wlist, xlist, timeout=None)`.
pub fn select(args: Args) -> Result<Flow, Exception> {
    let [r, w, x, timeout] = args.bind_op(Op::Select)?;
    let lists = [req(r)?, req(w)?, req(x)?].map(|v| sockets_of(&v));
    let [r, w, x] = lists;
    let (r, w, x) = (r?, w?, x?);
    let timeout = match timeout {
        None => None,
        Some(v) => to_seconds(&v, "timeout")?,
    };
    if timeout.is_some_and(|t| t < 0.0) {
        return Err(Exception::value_error("timeout must be non-negative"));
    }
    let ids = |vs: &[Value]| {
        vs.iter()
            .filter_map(|v| v.as_socket().map(|s| s.id()))
            .collect::<Vec<SockId>>()
    };
    let call = Call::Select {
        rlist: ids(&r),
        wlist: ids(&w),
        xlist: ids(&x),
        timeout,
    };
    Ok(Flow::Call(call, Pending::Select { r, w, x }))
}

fn sockets_of(v: &Value) -> Result<Vec<Value>, Exception> {
    let items = match v {
        Value::List(l) => lock(l).to_vec(),
        Value::Tuple(t) => t.to_vec(),
        _ => return Err(Exception::type_error("arguments 1-3 must be sequences")),
    };
    for item in &items {
        match item.as_socket() {
            Some(s) if s.is_closed() => {
                return Err(Exception::value_error(
                    "file descriptor cannot be a negative integer (-1)",
                ));
            }
            Some(_) => {}
            None => {
                return Err(Exception::type_error(
                    "argument must be a socket (select() takes lists of sockets)",
                ));
            }
        }
    }
    Ok(items)
}

/// The script value for a successful call's result.
pub fn value_from_ret(ret: Ret, pending: &Pending) -> Value {
    match pending {
        Pending::Timeout(sock, seconds) => sock.set_timeout(*seconds),
        Pending::Flushed(file) => file.flushed(),
        Pending::Fill(file) => {
            if let Ret::Bytes { data } = &ret {
                file.fill(data.as_slice());
            }
            return Value::None;
        }
        Pending::Into { base, at } => {
            let count = |data: &[u8]| {
                super::memview::write(base, *at, data);
                Value::Int(i64::try_from(data.len()).unwrap_or(i64::MAX))
            };
            return match ret {
                Ret::Bytes { data } => count(data.as_slice()),
                Ret::Datagram { data, addr } => {
                    Value::tuple(vec![count(data.as_slice()), addr.map_or(Value::None, addr_value)])
                }
                _ => Value::Int(0),
            };
        }
        _ => {}
    }
    match ret {
        Ret::Pair { a, b } => Value::tuple(vec![
            Value::Socket(Arc::new(SocketObj::new(a))),
            Value::Socket(Arc::new(SocketObj::new(b))),
        ]),
        Ret::None => Value::None,
        Ret::Int { value } if matches!(pending, Pending::Truth) => Value::Bool(value != 0),
        Ret::Int { value } => Value::Int(value),
        Ret::Polled { fds } => {
            let maxevents = match pending {
                Pending::Polled { maxevents } => *maxevents,
                _ => -1,
            };
            super::poll::polled(&fds, maxevents)
        }
        Ret::Bytes { data } => Value::bytes(data.as_slice()),
        Ret::Socket { info } => Value::Socket(Arc::new(SocketObj::new(info))),
        Ret::Accepted { info, addr } => Value::tuple(vec![
            Value::Socket(Arc::new(SocketObj::new(info))),
            addr.map_or_else(|| Value::str(""), addr_value),
        ]),
        Ret::Addr { addr } => addr.map_or_else(|| Value::str(""), addr_value),
        Ret::Datagram { data, addr } => Value::tuple(vec![
            Value::bytes(data.as_slice()),
            addr.map_or(Value::None, addr_value),
        ]),
        Ret::Select { r, w, x } => {
            let (pr, pw, px) = match pending {
                Pending::Select { r, w, x } => (r.as_slice(), w.as_slice(), x.as_slice()),
                _ => (&[][..], &[][..], &[][..]),
            };
            Value::tuple(vec![pick(pr, &r), pick(pw, &w), pick(px, &x)])
        }
        Ret::Host { address } => Value::str(address),
        // `fork` is answered in `LaneVm::forked`.
        Ret::Forked { .. } => Value::None,
    }
}

/// The socket values (from what the script passed) whose handles the relay returned.
fn pick(passed: &[Value], ids: &[SockId]) -> Value {
    let mut out: Vec<Value> = Vec::new();
    for v in passed {
        let Some(s) = v.as_socket() else { continue };
        if ids.contains(&s.id())
            && !out
                .iter()
                .any(|o| o.as_socket().is_some_and(|p| p.id() == s.id()))
        {
            out.push(v.clone());
        }
    }
    Value::list(out)
}

/// `('127.0.0.1', 5500)`, `('::1', 5500, 0, 0)` or a path.
pub fn addr_value(addr: Addr) -> Value {
    match addr {
        Addr::Inet {
            host,
            port,
            flowinfo: None,
            scope_id: None,
        } => Value::tuple(vec![Value::str(host), Value::Int(port)]),
        Addr::Inet {
            host,
            port,
            flowinfo,
            scope_id,
        } => Value::tuple(vec![
            Value::str(host),
            Value::Int(port),
            Value::Int(i64::from(flowinfo.unwrap_or(0))),
            Value::Int(i64::from(scope_id.unwrap_or(0))),
        ]),
        Addr::Unix { path } => Value::str(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_wire::protocol::SockInfo;

    #[test]
    fn every_method_binds_the_tables_parameters() {
        let info = SockInfo {
            sock: 1,
            fd: 3,
            family: AF_INET,
            sock_type: 1,
            proto: 0,
        };
        let sock = Arc::new(SocketObj::new(info));
        for op in Op::ALL.into_iter().filter(|op| op.is_method()) {
            let args = Args::new(op.name(), Vec::new(), Vec::new());
            if let Err(e) = call_method(&sock, op, args) {
                assert!(!e.message.contains("is bound with"), "{op:?}: {}", e.message);
            }
        }
    }
}
