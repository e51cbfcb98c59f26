//! `select.poll()` and `select.epoll()` objects, and the file functions of
//! `os` (`unlink`, `remove`, `path.exists`): each poll and each file
//! function is one relay call (`poll`, `unlink`, `exists`), run on the
//! session's descriptors and in the session's Unix path directory.

use std::sync::Mutex;

use super::args::{Args, to_int, to_text};
use super::exception::Exception;
use super::sockets::{Flow, Pending};
use super::value::{Value, as_number, lock};
use crate::names::ExcClass;
use socklab_wire::protocol::{Call, PollFd};

/// Linux's poll and epoll event bits (x86-64).
pub const POLL_CONSTS: &[(&str, i64)] = &[
    ("POLLIN", 0x001),
    ("POLLPRI", 0x002),
    ("POLLOUT", 0x004),
    ("POLLERR", 0x008),
    ("POLLHUP", 0x010),
    ("POLLNVAL", 0x020),
    ("POLLRDNORM", 0x040),
    ("POLLRDBAND", 0x080),
    ("POLLWRNORM", 0x100),
    ("POLLWRBAND", 0x200),
    ("POLLMSG", 0x400),
    ("POLLRDHUP", 0x2000),
    ("EPOLLIN", 0x001),
    ("EPOLLPRI", 0x002),
    ("EPOLLOUT", 0x004),
    ("EPOLLERR", 0x008),
    ("EPOLLHUP", 0x010),
    ("EPOLLRDNORM", 0x040),
    ("EPOLLRDBAND", 0x080),
    ("EPOLLWRNORM", 0x100),
    ("EPOLLWRBAND", 0x200),
    ("EPOLLMSG", 0x400),
    ("EPOLLRDHUP", 0x2000),
    ("EPOLLEXCLUSIVE", 1 << 28),
    ("EPOLLONESHOT", 1 << 30),
    ("EPOLLET", 1 << 31),
    ("EPOLL_CLOEXEC", 0o2000000),
];

/// A `select.poll()` or `select.epoll()` object: its registrations in
/// registration order.
#[derive(Debug)]
pub struct Poller {
    pub epoll: bool,
    fds: Mutex<Vec<(i32, i64)>>,
    closed: Mutex<bool>,
}

impl Poller {
    pub fn new(epoll: bool) -> Poller {
        Poller { epoll, fds: Mutex::new(Vec::new()), closed: Mutex::new(false) }
    }

    pub fn type_name(&self) -> &'static str {
        if self.epoll { "select.epoll" } else { "select.poll" }
    }

    pub fn is_closed(&self) -> bool {
        *lock(&self.closed)
    }

    pub fn methods(&self) -> &'static [&'static str] {
        if self.epoll {
            &["register", "modify", "unregister", "poll", "close", "fileno", "__enter__", "__exit__"]
        } else {
            &["register", "modify", "unregister", "poll"]
        }
    }

    /// A method call.
    pub fn call(&self, this: &Value, name: &str, args: Args) -> Result<Flow, Exception> {
        let value = |v: Value| Ok(Flow::Value(v));
        if self.epoll && self.is_closed() && !matches!(name, "close" | "__exit__") {
            return Err(Exception::value_error("I/O operation on closed epoll object"));
        }
        match name {
            "register" | "modify" => {
                let [fd, mask] = args.bind(["fd", "eventmask"], if name == "modify" { 2 } else { 1 })?;
                let fd = fd_of(&fd.unwrap_or(Value::None))?;
                let mask = match mask {
                    Some(m) => to_int(&m)?,
                    None if self.epoll => 0x001 | 0x002 | 0x004,
                    None => 0x001 | 0x002 | 0x004,
                };
                if !self.epoll && !(0..=0xffff).contains(&mask) {
                    return Err(Exception::overflow("Python int too large to convert to C unsigned short"));
                }
                let mut fds = lock(&self.fds);
                let at = fds.iter().position(|(f, _)| *f == fd);
                match (name, at) {
                    ("register", Some(i)) if !self.epoll => fds[i].1 = mask,
                    ("register", Some(_)) => return Err(Exception::os_errno(17)),
                    ("register", None) => fds.push((fd, mask)),
                    (_, Some(i)) => fds[i].1 = mask,
                    (_, None) => return Err(Exception::os_errno(2)),
                }
                value(Value::None)
            }
            "unregister" => {
                let [fd] = args.bind(["fd"], 1)?;
                let fd = fd_of(&fd.unwrap_or(Value::None))?;
                let mut fds = lock(&self.fds);
                match fds.iter().position(|(f, _)| *f == fd) {
                    Some(i) => {
                        fds.remove(i);
                        value(Value::None)
                    }
                    None if self.epoll => Err(Exception::os_errno(2)),
                    None => Err(Exception::new(ExcClass::KeyError, fd.to_string())),
                }
            }
            "poll" => {
                let (timeout, maxevents) = if self.epoll {
                    let [timeout, maxevents] = args.bind(["timeout", "maxevents"], 0)?;
                    let timeout = match timeout {
                        None | Some(Value::None) => None,
                        Some(t) => {
                            let t = seconds(&t)?;
                            (t >= 0.0).then_some(t)
                        }
                    };
                    let maxevents = maxevents.map_or(Ok(-1), |m| to_int(&m))?;
                    if maxevents == 0 || maxevents < -1 {
                        return Err(Exception::value_error(format!(
                            "maxevents must be greater than 0, got {maxevents}"
                        )));
                    }
                    (timeout, maxevents)
                } else {
                    let [timeout] = args.bind(["timeout"], 0)?;
                    let timeout = match timeout {
                        None | Some(Value::None) => None,
                        Some(t) => {
                            let ms = seconds(&t)?;
                            if ms > f64::from(i32::MAX) {
                                return Err(Exception::overflow("timeout is too large"));
                            }
                            (ms >= 0.0).then_some(ms / 1000.0)
                        }
                    };
                    (timeout, -1)
                };
                let fds = lock(&self.fds)
                    .iter()
                    .map(|&(fd, mask)| PollFd { fd, events: (mask & 0xffff) as u16 as i16 })
                    .collect();
                let _ = this;
                Ok(Flow::Call(Call::Poll { fds, timeout }, Pending::Polled { maxevents }))
            }
            "close" | "__exit__" => {
                *lock(&self.closed) = true;
                value(if name == "close" { Value::None } else { Value::Bool(false) })
            }
            "__enter__" => {
                args.bind::<0>([], 0)?;
                value(this.clone())
            }
            _ => {
                args.bind::<0>([], 0)?;
                // An epoll object's descriptor lives in no process here: no
                // relay call made one.
                value(Value::Int(-1))
            }
        }
    }
}

fn seconds(v: &Value) -> Result<f64, Exception> {
    match v {
        Value::Int(_) | Value::Bool(_) | Value::Float(_) => {
            super::args::checked_seconds(as_number(v).unwrap_or(0.0))
        }
        other => Err(Exception::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            other.type_name()
        ))),
    }
}

/// A descriptor as poll takes it: an int or a socket (its relay descriptor).
pub fn fd_of(v: &Value) -> Result<i32, Exception> {
    let fd = match v {
        Value::Int(n) => *n,
        Value::Bool(b) => i64::from(*b),
        Value::Socket(s) if s.is_closed() => -1,
        Value::Socket(s) => i64::from(s.info.fd),
        _ => return Err(Exception::type_error("argument must be an int, or have a fileno() method.")),
    };
    if fd < 0 {
        return Err(Exception::value_error(format!(
            "file descriptor cannot be a negative integer ({fd})"
        )));
    }
    i32::try_from(fd).map_err(|_| Exception::overflow("Python int too large to convert to C int"))
}

/// The list `poll()` returns: `(fd, revents)` pairs, at most `maxevents`.
pub fn polled(fds: &[PollFd], maxevents: i64) -> Value {
    let take = if maxevents < 0 { fds.len() } else { (maxevents as usize).min(fds.len()) };
    Value::list(
        fds[..take]
            .iter()
            .map(|p| Value::tuple(vec![Value::Int(i64::from(p.fd)), Value::Int(i64::from(p.events as u16))]))
            .collect(),
    )
}

/// A path argument of the `os` file functions.
pub fn path_arg(v: Option<Value>, name: &str) -> Result<String, Exception> {
    match v.unwrap_or(Value::None) {
        v @ (Value::Str(_) | Value::Bytes(_)) => to_text(&v),
        other => Err(Exception::type_error(format!(
            "{name}: path should be string, bytes or os.PathLike, not {}",
            other.type_name()
        ))),
    }
}

/// `os.unlink(path)`, `os.remove(path)`: the relay removes the file.
pub fn unlink(args: Args) -> Result<Flow, Exception> {
    let name = args.name.clone();
    let [path] = args.bind(["path"], 1)?;
    let path = path_arg(path, &name)?;
    Ok(Flow::Call(Call::Unlink { path, host: None }, Pending::Plain))
}

/// `os.path.exists(path)`: the relay looks; a value that is no path is False.
pub fn exists(args: Args) -> Result<Flow, Exception> {
    let [path] = args.bind(["path"], 1)?;
    match path.unwrap_or(Value::None) {
        v @ (Value::Str(_) | Value::Bytes(_)) => {
            let path = to_text(&v)?;
            if path.is_empty() || path.contains('\0') {
                return Ok(Flow::Value(Value::Bool(false)));
            }
            Ok(Flow::Call(Call::Exists { path, host: None }, Pending::Truth))
        }
        Value::Int(_) | Value::Bool(_) => Ok(Flow::Value(Value::Bool(false))),
        other => Err(Exception::type_error(format!(
            "stat: path should be string, bytes, os.PathLike or integer, not {}",
            other.type_name()
        ))),
    }
}

/// `os.path.join(a, *p)`, `os.path.basename(p)`, `os.path.dirname(p)`: POSIX
/// path text, as `posixpath` does it (str only).
pub fn path_text(f: &str, args: Args) -> Result<Flow, Exception> {
    let text = |v: &Value, func: &str| match v {
        Value::Str(s) => Ok(s.to_string()),
        other => Err(Exception::type_error(format!(
            "{func}() argument must be str, bytes, or os.PathLike object, not '{}'",
            other.type_name()
        ))),
    };
    let out = match f {
        "join" => {
            let (items, _) = args.varargs(&[])?;
            let Some((first, rest)) = items.split_first() else {
                return Err(Exception::type_error("join() missing 1 required positional argument: 'a'"));
            };
            let mut path = text(first, "join")?;
            for part in rest {
                let part = text(part, "join")?;
                if part.starts_with('/') {
                    path = part;
                } else if path.is_empty() || path.ends_with('/') {
                    path.push_str(&part);
                } else {
                    path.push('/');
                    path.push_str(&part);
                }
            }
            path
        }
        _ => {
            let [p] = args.bind(["p"], 1)?;
            let p = text(&p.unwrap_or(Value::None), "fspath")?;
            let cut = p.rfind('/').map_or(0, |i| i + 1);
            if f == "basename" {
                p[cut..].to_string()
            } else {
                let head = &p[..cut];
                let trimmed = head.trim_end_matches('/');
                if trimmed.is_empty() { head.to_string() } else { trimmed.to_string() }
            }
        }
    };
    Ok(Flow::Value(Value::str(out)))
}
