//! Attribute access and method calls: str/bytes/list methods, socket methods
//! (delegated to [`super::sockets`]), exception and ICMP fields, and the
//! `socket.` / `select.` / `time.` / `errno.` module attributes.

use std::sync::Arc;

use super::args::{Args, iterate, to_int};
use super::builtins::{self, Ctx};
use super::codec::{decode, encode};
use super::exception::Exception;
use super::format;
use super::icmp::IcmpPacket;
use super::ops::{MAX_SIZE, find_bytes};
use super::sockets::{self, Flow};
use super::value::{Value, lock, py_eq};
use socklab_wire::consts;
use socklab_wire::op::Op;
use crate::names::{Builtin, ExcClass, Module};

/// The methods str and bytes share (see [`Text`]); str adds `encode`, bytes `decode` and `hex`.
const TEXT_METHODS: &[&str] = &[
    "find",
    "rfind",
    "index",
    "rindex",
    "count",
    "split",
    "splitlines",
    "strip",
    "lstrip",
    "rstrip",
    "startswith",
    "endswith",
    "lower",
    "upper",
    "replace",
    "join",
    "partition",
    "rpartition",
    "isdigit",
];
const LIST_METHODS: &[&str] = &[
    "append", "extend", "pop", "remove", "insert", "index", "count", "clear", "reverse", "copy",
];

fn no_attr(v: &Value, name: &str) -> Exception {
    let msg = match v {
        Value::Module(m) => format!("module '{}' has no attribute '{name}'", m.name()),
        other => format!("'{}' object has no attribute '{name}'", other.type_name()),
    };
    Exception::new(ExcClass::AttributeError, msg)
}

fn method(v: &Value, list: &[&'static str], name: &str) -> Option<Value> {
    list.iter()
        .find(|m| **m == name)
        .map(|m| Value::Method(Arc::new((v.clone(), *m))))
}

/// `value.name`.
pub fn get_attr(v: &Value, name: &str) -> Result<Value, Exception> {
    let found = match v {
        Value::Exception(e) => match name {
            "errno" => Some(
                e.errno
                    .as_ref()
                    .map_or(Value::None, |(n, _)| Value::Int(i64::from(*n))),
            ),
            "strerror" => Some(if e.errno.is_some() {
                Value::str(&e.message)
            } else {
                Value::None
            }),
            "__cause__" | "__context__" => {
                let linked = if name == "__cause__" { &e.cause } else { &e.context };
                Some(linked.clone().map_or(Value::None, |c| super::classes::exception_value(*c)))
            }
            "__suppress_context__" => Some(Value::Bool(e.suppress_context)),
            "__traceback__" => Some(super::traceback::traceback_value(e)),
            "code" if e.class == ExcClass::SystemExit => Some(super::library::exit_code(e)),
            "args" if e.class == ExcClass::SystemExit => Some(match super::library::exit_code(e) {
                Value::None => Value::tuple(vec![]),
                code => Value::tuple(vec![code]),
            }),
            "args" => Some(match &e.errno {
                Some((n, _)) => {
                    Value::tuple(vec![Value::Int(i64::from(*n)), Value::str(&e.message)])
                }
                None => Value::tuple(vec![Value::str(&e.message)]),
            }),
            _ => None,
        },
        Value::Icmp(p) => icmp_attr(p, name),
        Value::IntEnum(e) => e.attr(name),
        Value::File(f) if name == "closed" => Some(Value::Bool(f.is_closed())),
        Value::File(_) => method(v, super::sockfile::METHODS, name),
        Value::MemoryView(_) => method(v, super::memview::METHODS, name),
        Value::Socket(s) => sockets::attr(s, name).or_else(|| {
            if let Some(m) = sockets::LOCAL_METHODS.iter().chain(sockets::INTO_METHODS).find(|m| **m == name) {
                return Some(Value::Method(Arc::new((v.clone(), *m))));
            }
            let op = Op::from_name(name).filter(|op| op.is_method())?;
            Some(Value::Method(Arc::new((v.clone(), op.name()))))
        }),
        Value::Str(_) => {
            method(v, &["encode", "format"], name).or_else(|| method(v, TEXT_METHODS, name))
        }
        Value::Bytes(_) => {
            method(v, &["decode", "hex"], name).or_else(|| method(v, TEXT_METHODS, name))
        }
        Value::List(_) => method(v, LIST_METHODS, name),
        Value::ByteArray(_) => method(v, &["append", "extend", "clear", "pop", "decode", "hex"], name)
            .or_else(|| method(v, TEXT_METHODS, name)),
        Value::Dict(_) => method(v, super::dict::METHODS, name),
        Value::Generator(g) if name == "__name__" || name == "__qualname__" => {
            let q = g.qualname.as_str();
            Some(Value::str(if name == "__name__" { q.rsplit('.').next().unwrap_or(q) } else { q }))
        }
        Value::Generator(_) => method(v, &["send", "close", "throw", "__next__"], name),
        Value::Set(_) => method(v, super::set::METHODS, name),
        Value::FrozenSet(_) => method(v, super::set::FROZEN_METHODS, name),
        Value::Module(m) => module_attr(*m, name).or_else(|| super::library::module_attr(*m, name)),
        Value::Object(o) => o.attr(name),
        Value::ExcClass(c) if name == "__name__" => Some(Value::str(c.name().rsplit('.').next().unwrap_or(""))),
        Value::Builtin(b) if name == "__name__" => Some(Value::str(b.name())),
        Value::Type(t) if name == "__name__" => Some(Value::str(t)),
        Value::LibFn(f) if name == "__name__" => Some(Value::str(f.short_name())),
        Value::Function(f) if name == "__name__" => Some(Value::str(f.code.qualname.rsplit('.').next().unwrap_or(""))),
        Value::Builtin(b) if class_method(*b, name) => method(v, &["fromhex", "from_bytes"], name),
        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => method(v, super::bigint::INT_METHODS, name),
        Value::Builtin(b) if type_method(*b, name).is_some() => {
            type_method(*b, name).map(|m| Value::Method(Arc::new((v.clone(), m))))
        }
        Value::Builtin(b) => Module::from_name(b.name()).and_then(|m| {
            module_attr(m, name).or_else(|| super::library::module_attr(m, name))
        }),
        _ => None,
    };
    found.ok_or_else(|| no_attr(v, name))
}

/// The fields of a parsed ICMP message.
fn icmp_attr(p: &IcmpPacket, name: &str) -> Option<Value> {
    let ip_addr = |a: [u8; 4]| Value::str(format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]));
    Some(match name {
        "type" => Value::Int(i64::from(p.icmp_type)),
        "code" => Value::Int(i64::from(p.code)),
        "checksum" => Value::Int(i64::from(p.checksum)),
        "ident" | "id" => Value::Int(i64::from(p.ident)),
        "seq" => Value::Int(i64::from(p.seq)),
        "payload" => Value::bytes(&p.payload),
        "ttl" => p.ip.as_ref().map_or(Value::None, |ip| Value::Int(i64::from(ip.ttl))),
        "src" => p.ip.as_ref().map_or(Value::None, |ip| ip_addr(ip.src)),
        "dst" => p.ip.as_ref().map_or(Value::None, |ip| ip_addr(ip.dst)),
        _ => return None,
    })
}

/// The attributes of the modules a pasted Python script may use.
fn module_attr(module: Module, name: &str) -> Option<Value> {
    match module {
        Module::Socket => match Builtin::from_name(name) {
            Some(
                b @ (Builtin::Socket
                | Builtin::Gethostbyname
                | Builtin::Socketpair
                | Builtin::CreateConnection
                | Builtin::CreateServer
                | Builtin::HasDualstackIpv6
                | Builtin::Getaddrinfo
                | Builtin::AddressFamily
                | Builtin::SocketKind),
            ) => Some(Value::Builtin(b)),
            Some(_) => None,
            None => consts::value(name)
                .filter(|_| !is_errno_name(name))
                .map(Value::Int),
        },
        Module::Select => (name == "select").then_some(Value::Builtin(Builtin::Select)),
        Module::Time => match name {
            "time" => Some(Value::Builtin(Builtin::Time)),
            "sleep" => Some(Value::Builtin(Builtin::Sleep)),
            _ => None,
        },
        Module::Errno => consts::value(name)
            .filter(|_| is_errno_name(name))
            .map(Value::Int),
        Module::Struct
        | Module::Sys
        | Module::Os
        | Module::Binascii
        | Module::Random
        | Module::Math
        | Module::Json
        | Module::Thread
        | Module::Threading
        | Module::Queue
        | Module::Traceback
        | Module::Hashlib
        | Module::OsPath
        | Module::Selectors
        | Module::Socketserver
        | Module::Argparse
        | Module::Base64
        | Module::Codecs
        | Module::Types
        | Module::Datetime => None,
    }
}

fn is_errno_name(name: &str) -> bool {
    socklab_wire::errno::number(name).is_some()
}

/// The class methods of builtin types: `bytes.fromhex`, `int.from_bytes`.
fn class_method(b: Builtin, name: &str) -> bool {
    matches!((b, name), (Builtin::Bytes, "fromhex") | (Builtin::Int, "from_bytes"))
}

/// `str.lower` and the like: the method's name, when the type has it.
fn type_method(b: Builtin, name: &str) -> Option<&'static str> {
    let sample = match b {
        Builtin::Str => Value::str(""),
        Builtin::Int => Value::Int(0),
        Builtin::Bytes => Value::bytes(b""),
        Builtin::List => Value::list(Vec::new()),
        Builtin::Dict => super::dict::new(Vec::new()),
        _ => return None,
    };
    match get_attr(&sample, name) {
        Ok(Value::Method(m)) => Some(m.1),
        _ => None,
    }
}

/// Calls a callable value.
pub fn call_value(callee: &Value, args: Args, ctx: &mut Ctx<'_>) -> Result<Flow, Exception> {
    match callee {
        Value::Builtin(b) => builtins::call(*b, args, ctx),
        Value::LibFn(f) => super::library::call(*f, args, ctx),
        Value::Method(m) if matches!(m.0, Value::Object(_)) => match &m.0 {
            Value::Object(o) => super::library::call_method(o, m.1, args, ctx),
            _ => Err(no_attr(&m.0, m.1)),
        },
        // `str.lower(s)`: the first argument is the receiver.
        Value::Method(m) if matches!(&m.0, Value::Builtin(b) if !class_method(*b, m.1)) => {
            let Value::Builtin(b) = &m.0 else {
                return Err(no_attr(&m.0, m.1));
            };
            let mut args = args;
            if args.positional.is_empty() {
                return Err(Exception::type_error(format!(
                    "unbound method {}.{}() needs an argument",
                    b.name(),
                    m.1
                )));
            }
            let recv = args.positional.remove(0);
            if !matches!(super::more::type_of(&recv), Value::Builtin(t) if t == *b) {
                return Err(Exception::type_error(format!(
                    "descriptor '{}' for '{}' objects doesn't apply to a '{}' object",
                    m.1,
                    b.name(),
                    recv.type_name()
                )));
            }
            match &recv {
                Value::Object(_) => Err(no_attr(&recv, m.1)),
                _ => call_method(&recv, m.1, args),
            }
        }
        Value::Method(m) => call_method(&m.0, m.1, args),
        Value::ExcClass(c) => {
            // `OSError(errno, strerror)`: the errno's class, `[Errno n] text`, as in Python.
            if let [Value::Int(n), Value::Str(text)] = args.positional.as_slice()
                && c.is_subclass_of(ExcClass::OsError)
                && let Ok(num) = i32::try_from(*n)
            {
                let mut e = super::exception::Exception::new(*c, text.to_string());
                e.errno = Some((num, socklab_wire::errno::name(num)));
                if *c == ExcClass::OsError {
                    e.class = ExcClass::for_errno(num);
                }
                return Ok(Flow::Value(Value::Exception(std::sync::Arc::new(e))));
            }
            // `RuntimeError("text")`: str() of one argument is the message, as in Python.
            let message = match args.positional.as_slice() {
                [] => String::new(),
                [one] => one.to_str(),
                many => Value::tuple(many.to_vec()).repr(),
            };
            Ok(Flow::Value(Value::Exception(std::sync::Arc::new(
                super::exception::Exception::new(*c, message),
            ))))
        }
        other => Err(Exception::type_error(format!(
            "'{}' object is not callable",
            other.type_name()
        ))),
    }
}

fn call_method(recv: &Value, name: &'static str, args: Args) -> Result<Flow, Exception> {
    let args = Args {
        name: name.to_string(),
        ..args
    };
    match recv {
        Value::File(f) => super::sockfile::call(f, name, args),
        Value::Socket(s) if sockets::LOCAL_METHODS.contains(&name) => {
            sockets::local_method(s, name, args).map(Flow::Value)
        }
        Value::Socket(s) if sockets::INTO_METHODS.contains(&name) => sockets::recv_into(s, name, args),
        Value::MemoryView(m) => super::memview::method(m, name, args).map(Flow::Value),
        Value::Socket(s) => match Op::from_name(name) {
            Some(op) => sockets::call_method(s, op, args),
            None => Err(no_attr(recv, name)),
        },
        Value::Str(s) if name == "format" => Ok(Flow::Value(Value::str(format::str_format(
            s,
            &args.positional,
            &args.keywords,
        )?))),
        Value::Str(s) => text_method(Text::Str(s), name, args).map(Flow::Value),
        Value::Bytes(b) => text_method(Text::Bytes(b), name, args).map(Flow::Value),
        Value::List(_) => list_method(recv, name, args).map(Flow::Value),
        Value::ByteArray(b) => bytearray_method(b, name, args).map(Flow::Value),
        Value::Dict(d) => super::dict::method(d, name, args).map(Flow::Value),
        Value::Set(s) => super::set::method(s, name, args).map(Flow::Value),
        // The methods that make a new set make a frozenset.
        Value::FrozenSet(s) => super::set::method(s, name, args).map(|v| Flow::Value(super::set::freeze(v))),
        Value::Builtin(Builtin::Bytes) => {
            let [text] = args.bind(["string"], 1)?;
            fromhex(&text.unwrap_or(Value::None)).map(Flow::Value)
        }
        Value::Builtin(Builtin::Int) => super::bigint::from_bytes(args).map(Flow::Value),
        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => match super::bigint::to_big(recv) {
            Some(n) => super::bigint::int_method(&n, name, args).map(Flow::Value),
            None => Err(no_attr(recv, name)),
        },
        other => Err(no_attr(other, name)),
    }
}

/// bytearray's own methods; the rest work on a copy as bytes methods do and
/// give a bytearray where those give bytes.
fn bytearray_method(b: &Arc<std::sync::Mutex<Vec<u8>>>, name: &str, args: Args) -> Result<Value, Exception> {
    use super::memview::check_resize;
    let byte = |v: &Value| -> Result<u8, Exception> {
        let i = to_int(v)?;
        u8::try_from(i).map_err(|_| Exception::value_error("byte must be in range(0, 256)"))
    };
    match name {
        "append" => {
            let [x] = args.bind(["item"], 1)?;
            let x = byte(&x.unwrap_or(Value::None))?;
            check_resize(b)?;
            lock(b).push(x);
            Ok(Value::None)
        }
        "extend" => {
            let [x] = args.bind(["iterable_of_ints"], 1)?;
            let x = x.unwrap_or(Value::None);
            let more: Vec<u8> = match &x {
                Value::Bytes(_) | Value::ByteArray(_) => super::args::to_bytes(&x)?.to_vec(),
                Value::Str(_) => {
                    return Err(Exception::type_error("expected iterable of integers; got: 'str'"));
                }
                other => iterate(other)?.iter().map(byte).collect::<Result<_, _>>()?,
            };
            if lock(b).len() + more.len() > MAX_SIZE {
                return Err(Exception::memory());
            }
            if !more.is_empty() {
                check_resize(b)?;
            }
            lock(b).extend(more);
            Ok(Value::None)
        }
        "clear" => {
            args.bind([], 0)?;
            if !lock(b).is_empty() {
                check_resize(b)?;
            }
            lock(b).clear();
            Ok(Value::None)
        }
        "pop" => {
            let [i] = args.bind(["index"], 0)?;
            let mut bytes = lock(b);
            if bytes.is_empty() {
                return Err(Exception::index_error("pop from empty bytearray"));
            }
            let i = i.map_or(Ok(-1), |i| to_int(&i))?;
            let len = bytes.len() as i64;
            let j = if i < 0 { i + len } else { i };
            if !(0..len).contains(&j) {
                return Err(Exception::index_error("pop index out of range"));
            }
            check_resize(b)?;
            Ok(Value::Int(i64::from(bytes.remove(j as usize))))
        }
        _ => {
            let copy: Vec<u8> = lock(b).clone();
            let v = text_method(Text::Bytes(&copy), name, args)?;
            Ok(match v {
                Value::Bytes(x) => Value::ByteArray(Arc::new(std::sync::Mutex::new(x.to_vec()))),
                other => other,
            })
        }
    }
}

fn fromhex(v: &Value) -> Result<Value, Exception> {
    let Value::Str(s) = v else {
        return Err(Exception::type_error(format!(
            "fromhex() argument must be str, not {}",
            v.type_name()
        )));
    };
    let digits: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    for (i, pair) in digits.chunks(2).enumerate() {
        let hex: String = pair.iter().collect();
        match (pair.len(), u8::from_str_radix(&hex, 16)) {
            (2, Ok(b)) => out.push(b),
            _ => {
                return Err(Exception::value_error(format!(
                    "non-hexadecimal number found in fromhex() arg at position {}",
                    i * 2
                )));
            }
        }
    }
    Ok(Value::bytes(out))
}

// ---- str and bytes ----

/// A str or bytes receiver: methods work on the raw bytes (UTF-8 for str, where
/// a match of valid UTF-8 always falls on character boundaries) and convert
/// offsets to character indices for str.
#[derive(Clone, Copy)]
enum Text<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
}

impl<'a> Text<'a> {
    fn raw(self) -> &'a [u8] {
        match self {
            Text::Str(s) => s.as_bytes(),
            Text::Bytes(b) => b,
        }
    }

    fn make(self, b: &[u8]) -> Value {
        match self {
            Text::Str(_) => Value::str(String::from_utf8_lossy(b)),
            Text::Bytes(_) => Value::bytes(b),
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Text::Str(_) => "str",
            Text::Bytes(_) => "bytes",
        }
    }

    /// An argument of the same kind (a str for str methods, bytes for bytes).
    fn arg(self, v: &Value) -> Result<Vec<u8>, Exception> {
        match (self, v) {
            (Text::Str(_), Value::Str(s)) => Ok(s.as_bytes().to_vec()),
            (Text::Bytes(_), Value::Bytes(b)) => Ok(b.to_vec()),
            (Text::Str(_), other) => Err(Exception::type_error(format!(
                "must be str, not {}",
                other.type_name()
            ))),
            (Text::Bytes(_), other) => Err(Exception::type_error(format!(
                "a bytes-like object is required, not '{}'",
                other.type_name()
            ))),
        }
    }

    /// (byte offset, byte length, code) of each character (str) or byte (bytes).
    fn units(self) -> Vec<(usize, usize, u32)> {
        match self {
            Text::Str(s) => s
                .char_indices()
                .map(|(i, c)| (i, c.len_utf8(), c as u32))
                .collect(),
            Text::Bytes(b) => b
                .iter()
                .enumerate()
                .map(|(i, &c)| (i, 1, u32::from(c)))
                .collect(),
        }
    }

    fn is_space(self, code: u32) -> bool {
        match self {
            Text::Str(_) => char::from_u32(code).is_some_and(char::is_whitespace),
            Text::Bytes(_) => matches!(code, 0x20 | 0x09..=0x0d),
        }
    }

    /// A unit index (character for str) to a byte offset.
    fn byte_offset(self, units: &[(usize, usize, u32)], unit: usize) -> usize {
        units.get(unit).map_or(self.raw().len(), |u| u.0)
    }

    /// A byte offset to a unit index.
    fn unit_index(self, byte: usize) -> i64 {
        match self {
            Text::Str(s) => s.get(..byte).map_or(0, |p| p.chars().count()) as i64,
            Text::Bytes(_) => byte as i64,
        }
    }
}

fn text_method(t: Text<'_>, name: &str, args: Args) -> Result<Value, Exception> {
    let raw = t.raw();
    match name {
        "encode" => {
            let [encoding, errors] = args.bind(["encoding", "errors"], 0)?;
            let Text::Str(s) = t else {
                return Err(Exception::type_error("encode"));
            };
            encode(s, encoding, errors)
        }
        "decode" => {
            let [encoding, errors] = args.bind(["encoding", "errors"], 0)?;
            decode(raw, encoding, errors)
        }
        "hex" => {
            let [sep] = args.bind(["sep"], 0)?;
            let sep = match sep {
                Some(Value::Str(s)) => s.to_string(),
                Some(Value::Bytes(b)) => String::from_utf8_lossy(&b).into_owned(),
                _ => String::new(),
            };
            Ok(Value::str(
                raw.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(&sep),
            ))
        }
        "find" | "rfind" | "index" | "rindex" | "count" => {
            let [sub, start, end] = args.bind(["sub", "start", "end"], 1)?;
            let sub = match (t, sub.unwrap_or(Value::None)) {
                (Text::Bytes(_), Value::Int(i)) => {
                    vec![
                        u8::try_from(i)
                            .map_err(|_| Exception::value_error("byte must be in range(0, 256)"))?,
                    ]
                }
                (_, v) => t.arg(&v)?,
            };
            let units = t.units();
            let (lo, hi) = window(units.len(), start, end)?;
            let (blo, bhi) = (t.byte_offset(&units, lo), t.byte_offset(&units, hi));
            let hay = &raw[..bhi.max(blo)];
            if name == "count" {
                if lo > hi {
                    return Ok(Value::Int(0));
                }
                if sub.is_empty() {
                    return Ok(Value::Int((hi - lo + 1) as i64));
                }
                let mut n = 0;
                let mut at = blo;
                while let Some(p) = find_bytes(hay, &sub, at) {
                    n += 1;
                    at = p + sub.len();
                }
                return Ok(Value::Int(n));
            }
            let found = if lo > hi {
                None
            } else if name.starts_with('r') {
                (blo..=hay.len().saturating_sub(sub.len()))
                    .rev()
                    .find(|&p| hay[p..].starts_with(&sub))
                    .filter(|_| hay.len() >= sub.len())
            } else {
                find_bytes(hay, &sub, blo)
            };
            match found {
                Some(p) => Ok(Value::Int(t.unit_index(p))),
                None if name.ends_with("index") => {
                    Err(Exception::value_error("substring not found"))
                }
                None => Ok(Value::Int(-1)),
            }
        }
        "split" => {
            let [sep, maxsplit] = args.bind(["sep", "maxsplit"], 0)?;
            let max = maxsplit.map(|m| to_int(&m)).transpose()?.unwrap_or(-1);
            let max = usize::try_from(max).ok();
            let parts: Vec<Value> = match sep {
                None | Some(Value::None) => split_whitespace(t, max)
                    .into_iter()
                    .map(|p| t.make(p))
                    .collect(),
                Some(sep) => {
                    let sep = t.arg(&sep)?;
                    if sep.is_empty() {
                        return Err(Exception::value_error("empty separator"));
                    }
                    split_on(raw, &sep, max)
                        .into_iter()
                        .map(|p| t.make(p))
                        .collect()
                }
            };
            Ok(Value::list(parts))
        }
        "splitlines" => {
            let [keepends] = args.bind(["keepends"], 0)?;
            let keep = keepends.is_some_and(|k| k.truthy());
            let mut out = Vec::new();
            let mut start = 0;
            let mut i = 0;
            while i < raw.len() {
                let nl = match raw[i] {
                    b'\r' if raw.get(i + 1) == Some(&b'\n') => 2,
                    b'\r' | b'\n' => 1,
                    _ => 0,
                };
                if nl > 0 {
                    out.push(t.make(&raw[start..if keep { i + nl } else { i }]));
                    i += nl;
                    start = i;
                } else {
                    i += 1;
                }
            }
            if start < raw.len() {
                out.push(t.make(&raw[start..]));
            }
            Ok(Value::list(out))
        }
        "strip" | "lstrip" | "rstrip" => {
            let [chars] = args.bind(["chars"], 0)?;
            let set: Option<Vec<u32>> = match chars {
                None | Some(Value::None) => None,
                Some(v) => {
                    let b = t.arg(&v)?;
                    Some(match t {
                        Text::Str(_) => String::from_utf8_lossy(&b)
                            .chars()
                            .map(|c| c as u32)
                            .collect(),
                        Text::Bytes(_) => b.iter().map(|&x| u32::from(x)).collect(),
                    })
                }
            };
            let strip = |code: u32| {
                set.as_ref()
                    .map_or_else(|| t.is_space(code), |s| s.contains(&code))
            };
            let units = t.units();
            let mut lo = 0;
            let mut hi = units.len();
            if name != "rstrip" {
                while lo < hi && strip(units[lo].2) {
                    lo += 1;
                }
            }
            if name != "lstrip" {
                while hi > lo && strip(units[hi - 1].2) {
                    hi -= 1;
                }
            }
            Ok(t.make(&raw[t.byte_offset(&units, lo)..t.byte_offset(&units, hi)]))
        }
        "startswith" | "endswith" => {
            let [prefix] = args.bind(["prefix"], 1)?;
            let candidates = match prefix.unwrap_or(Value::None) {
                Value::Tuple(items) => items
                    .iter()
                    .map(|v| t.arg(v))
                    .collect::<Result<Vec<_>, _>>()?,
                v => vec![t.arg(&v).map_err(|_| {
                    Exception::type_error(format!(
                        "{name} first arg must be {} or a tuple of {}, not {}",
                        t.type_name(),
                        t.type_name(),
                        v.type_name()
                    ))
                })?],
            };
            let hit = candidates.iter().any(|c| {
                if name == "startswith" {
                    raw.starts_with(c)
                } else {
                    raw.ends_with(c)
                }
            });
            Ok(Value::Bool(hit))
        }
        "lower" | "upper" => {
            args.bind([], 0)?;
            Ok(match (t, name) {
                (Text::Str(s), "lower") => Value::str(s.to_lowercase()),
                (Text::Str(s), _) => Value::str(s.to_uppercase()),
                (Text::Bytes(b), "lower") => Value::bytes(b.to_ascii_lowercase()),
                (Text::Bytes(b), _) => Value::bytes(b.to_ascii_uppercase()),
            })
        }
        "isdigit" => {
            args.bind([], 0)?;
            let digits = match t {
                Text::Str(s) => {
                    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c.is_numeric())
                }
                Text::Bytes(b) => !b.is_empty() && b.iter().all(u8::is_ascii_digit),
            };
            Ok(Value::Bool(digits))
        }
        "replace" => {
            let [old, new, count] = args.bind(["old", "new", "count"], 2)?;
            let old = t.arg(&old.unwrap_or(Value::None))?;
            let new = t.arg(&new.unwrap_or(Value::None))?;
            let count = count.map(|c| to_int(&c)).transpose()?.unwrap_or(-1);
            let mut out = Vec::new();
            let mut at = 0;
            let mut done = 0i64;
            while count < 0 || done < count {
                if old.is_empty() {
                    // Python inserts `new` between every character (and at both ends).
                    out.extend_from_slice(&new);
                    done += 1;
                    if at >= raw.len() {
                        break;
                    }
                    let step = t.units().iter().find(|u| u.0 == at).map_or(1, |u| u.1);
                    out.extend_from_slice(&raw[at..at + step]);
                    at += step;
                    continue;
                }
                let Some(p) = find_bytes(raw, &old, at) else {
                    break;
                };
                out.extend_from_slice(&raw[at..p]);
                out.extend_from_slice(&new);
                at = p + old.len();
                done += 1;
                if out.len() > MAX_SIZE {
                    return Err(Exception::memory());
                }
            }
            out.extend_from_slice(raw.get(at..).unwrap_or(&[]));
            Ok(t.make(&out))
        }
        "join" => {
            let [items] = args.bind(["iterable"], 1)?;
            let mut out = Vec::new();
            for (i, item) in iterate(&items.unwrap_or(Value::None))?.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(raw);
                }
                let part = t.arg(item).map_err(|_| {
                    let want = if matches!(t, Text::Str(_)) {
                        "str instance"
                    } else {
                        "a bytes-like object"
                    };
                    Exception::type_error(format!(
                        "sequence item {i}: expected {want}, {} found",
                        item.type_name()
                    ))
                })?;
                out.extend_from_slice(&part);
                if out.len() > MAX_SIZE {
                    return Err(Exception::memory());
                }
            }
            Ok(t.make(&out))
        }
        "partition" | "rpartition" => {
            let [sep] = args.bind(["sep"], 1)?;
            let sep = t.arg(&sep.unwrap_or(Value::None))?;
            if sep.is_empty() {
                return Err(Exception::value_error("empty separator"));
            }
            let found = if name == "partition" {
                find_bytes(raw, &sep, 0)
            } else {
                (0..=raw.len().saturating_sub(sep.len()))
                    .rev()
                    .find(|&p| raw[p..].starts_with(&sep))
            };
            let empty = t.make(b"");
            Ok(Value::tuple(match found {
                Some(p) => vec![
                    t.make(&raw[..p]),
                    t.make(&sep),
                    t.make(&raw[p + sep.len()..]),
                ],
                None if name == "partition" => vec![t.make(raw), empty.clone(), empty],
                None => vec![empty.clone(), empty, t.make(raw)],
            }))
        }
        _ => Err(Exception::new(
            ExcClass::AttributeError,
            format!("'{}' object has no attribute '{name}'", t.type_name()),
        )),
    }
}

/// Python's start/end arguments of find/count, normalized to a unit range.
fn window(
    len: usize,
    start: Option<Value>,
    end: Option<Value>,
) -> Result<(usize, usize), Exception> {
    let norm = |v: Option<Value>, default: usize| -> Result<usize, Exception> {
        match v {
            None | Some(Value::None) => Ok(default),
            Some(v) => {
                let i = to_int(&v)?;
                let len = len as i64;
                let j = if i < 0 { (i + len).max(0) } else { i.min(len) };
                Ok(usize::try_from(j).unwrap_or(0))
            }
        }
    };
    Ok((norm(start, 0)?, norm(end, len)?))
}

fn split_whitespace(t: Text<'_>, max: Option<usize>) -> Vec<&[u8]> {
    let raw = t.raw();
    let units = t.units();
    let mut parts = Vec::new();
    let mut i = 0;
    loop {
        while i < units.len() && t.is_space(units[i].2) {
            i += 1;
        }
        if i >= units.len() {
            break;
        }
        if max.is_some_and(|m| parts.len() >= m) {
            // The rest, right-stripped, is the last part.
            let mut end = units.len();
            while end > i && t.is_space(units[end - 1].2) {
                end -= 1;
            }
            parts.push(&raw[units[i].0..t.byte_offset(&units, end)]);
            break;
        }
        let start = i;
        while i < units.len() && !t.is_space(units[i].2) {
            i += 1;
        }
        parts.push(&raw[units[start].0..t.byte_offset(&units, i)]);
    }
    parts
}

fn split_on<'a>(raw: &'a [u8], sep: &[u8], max: Option<usize>) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut at = 0;
    while max.is_none_or(|m| parts.len() < m) {
        let Some(p) = find_bytes(raw, sep, at) else {
            break;
        };
        parts.push(&raw[at..p]);
        at = p + sep.len();
    }
    parts.push(&raw[at..]);
    parts
}

// ---- list ----

fn list_method(recv: &Value, name: &str, args: Args) -> Result<Value, Exception> {
    let Value::List(list) = recv else {
        return Err(no_attr(recv, name));
    };
    match name {
        "append" => {
            let [x] = args.bind(["object"], 1)?;
            lock(list).push(x.unwrap_or(Value::None));
            Ok(Value::None)
        }
        "extend" => {
            let [x] = args.bind(["iterable"], 1)?;
            // Iterated before locking: `xs.extend(xs)` must not deadlock.
            let items = iterate(&x.unwrap_or(Value::None))?;
            let mut l = lock(list);
            if l.len() + items.len() > MAX_SIZE {
                return Err(Exception::memory());
            }
            l.extend(items);
            Ok(Value::None)
        }
        "pop" => {
            let [i] = args.bind(["index"], 0)?;
            let mut l = lock(list);
            if l.is_empty() {
                return Err(Exception::index_error("pop from empty list"));
            }
            let len = l.len() as i64;
            let i = i.map(|v| to_int(&v)).transpose()?.unwrap_or(-1);
            let j = if i < 0 { i + len } else { i };
            if !(0..len).contains(&j) {
                return Err(Exception::index_error("pop index out of range"));
            }
            Ok(l.remove(j as usize))
        }
        "remove" | "index" | "count" => {
            let [x] = args.bind(["value"], 1)?;
            let x = x.unwrap_or(Value::None);
            let snapshot = lock(list).clone();
            if name == "count" {
                return Ok(Value::Int(snapshot.iter().filter(|v| py_eq(v, &x)).count() as i64));
            }
            let pos = snapshot.iter().position(|v| py_eq(v, &x));
            match name {
                "index" => pos
                    .map(|p| Value::Int(p as i64))
                    .ok_or_else(|| Exception::value_error(format!("{} is not in list", super::dunder::repr(&x)))),
                _ => {
                    let p =
                        pos.ok_or_else(|| Exception::value_error("list.remove(x): x not in list"))?;
                    if super::dunder::pending() {
                        return Err(super::dunder::retry());
                    }
                    lock(list).remove(p);
                    Ok(Value::None)
                }
            }
        }
        "insert" => {
            let [i, x] = args.bind(["index", "object"], 2)?;
            let i = to_int(&i.unwrap_or(Value::None))?;
            let mut l = lock(list);
            let len = l.len() as i64;
            let j = if i < 0 { (i + len).max(0) } else { i.min(len) };
            l.insert(j as usize, x.unwrap_or(Value::None));
            Ok(Value::None)
        }
        "clear" => {
            args.bind([], 0)?;
            lock(list).clear();
            Ok(Value::None)
        }
        "reverse" => {
            args.bind([], 0)?;
            lock(list).reverse();
            Ok(Value::None)
        }
        "copy" => {
            args.bind([], 0)?;
            Ok(Value::list(lock(list).to_vec()))
        }
        _ => Err(no_attr(recv, name)),
    }
}
