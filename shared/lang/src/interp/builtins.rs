//! Builtin functions: the socket ones (`socket`, `select`, `sleep`,
//! `gethostbyname`, `time`), the ping helpers, and the Python basics (`len`,
//! `int`, `str`, `print`, …).

use super::args::{Args, iterate, to_bytes, to_i32, to_int, to_seconds, to_text};
use super::codec;
use super::exception::Exception;
use super::format;
use super::icmp;
use super::ops::{self, MAX_SIZE};
use super::sockapi;
use super::sockets::{self, Flow, Pending};
use super::value::{Value, as_int, as_number, lock, range_len};
use crate::ast::BinOp;
use crate::names::Builtin;
use socklab_wire::op::Op;
use socklab_wire::protocol::{Call, PeerKind};

/// What a builtin may touch besides its arguments.
pub struct Ctx<'a> {
    /// Wall-clock seconds, for `time()`.
    pub now: f64,
    /// The lane's printed text not yet turned into `print` events.
    pub output: &'a mut String,
    /// The lane's random generator and fake pid.
    pub lib: &'a mut super::library::LibState,
}

pub fn call(builtin: Builtin, args: Args, ctx: &mut Ctx<'_>) -> Result<Flow, Exception> {
    let value = |v: Value| Ok(Flow::Value(v));
    match builtin {
        Builtin::Socket => {
            let [family, ty, proto, _fileno] = args.bind_op(Op::Socket)?;
            let int_or = |v: Option<Value>, d: i32| {
                v.filter(|v| !matches!(v, Value::None))
                    .map_or(Ok(d), |v| to_i32(&v))
            };
            let call = Call::Socket {
                family: int_or(family, 2)?,
                sock_type: int_or(ty, 1)?,
                proto: int_or(proto, 0)?,
                host: None,
            };
            Ok(Flow::Call(call, Pending::Plain))
        }
        // Waits for a line: the VM calls it (`threads.rs`).
        Builtin::Input => value(Value::None),
        Builtin::Print => {
            let (items, keywords) = args.varargs(&["sep", "end", "flush", "file"])?;
            let mut sep = " ".to_string();
            let mut end = "\n".to_string();
            let mut file = None;
            let mut flush = false;
            for (k, v) in keywords {
                match (k.as_str(), &v) {
                    ("file", Value::File(f)) => file = Some(f.clone()),
                    ("flush", v) => flush = v.truthy(),
                    _ => {}
                }
                let text = match &v {
                    Value::None => continue,
                    Value::Str(s) => s.to_string(),
                    other if k == "sep" || k == "end" => {
                        return Err(Exception::type_error(format!(
                            "{k} must be None or a string, not {}",
                            other.type_name()
                        )));
                    }
                    _ => continue,
                };
                match k.as_str() {
                    "sep" => sep = text,
                    "end" => end = text,
                    _ => {}
                }
            }
            let line = items
                .iter()
                .map(super::bigint::checked_str)
                .collect::<Result<Vec<_>, _>>()?
                .join(&sep);
            if let Some(f) = file {
                // print(..., file=sock_file): the text goes to the file's buffer.
                f.write(&Value::str(line + &end))?;
                return if flush { f.flush() } else { value(Value::None) };
            }
            ctx.output.push_str(&line);
            ctx.output.push_str(&end);
            value(Value::None)
        }
        Builtin::Sleep => {
            let [secs] = args.bind_op(Op::Sleep)?;
            let secs =
                to_seconds(&secs.unwrap_or(Value::None), "sleep length")?.ok_or_else(|| {
                    Exception::type_error("sleep length must be a number, not NoneType")
                })?;
            if secs < 0.0 || secs.is_nan() {
                return Err(Exception::value_error("sleep length must be non-negative"));
            }
            Ok(Flow::Call(Call::Sleep { seconds: secs }, Pending::Plain))
        }
        Builtin::Gethostbyname => {
            let [name] = args.bind_op(Op::Gethostbyname)?;
            let name = str_arg(name, "gethostbyname() argument 1")?;
            Ok(Flow::Call(Call::Gethostbyname { name, host: None }, Pending::Plain))
        }
        Builtin::Time => {
            args.bind([], 0)?;
            value(Value::Float(ctx.now))
        }
        Builtin::Select => sockets::select(args),
        Builtin::Socketpair => sockapi::socketpair(args),
        Builtin::CreateConnection => sockapi::create_connection(args, ctx.lib.default_timeout, &ctx.lib.hosts),
        Builtin::CreateServer => sockapi::create_server(args),
        Builtin::HasDualstackIpv6 => sockapi::has_dualstack_ipv6(args),
        Builtin::Getaddrinfo => sockapi::getaddrinfo(args, &ctx.lib.hosts),
        Builtin::AddressFamily => value(sockapi::construct(sockapi::EnumClass::AddressFamily, args)?),
        Builtin::SocketKind => value(sockapi::construct(sockapi::EnumClass::SocketKind, args)?),
        Builtin::LabPeer => {
            let [kind] = args.bind_op(Op::LabPeer)?;
            let kind = str_arg(kind, "lab_peer() argument")?;
            Ok(match kind.parse::<PeerKind>() {
                Ok(kind) => Flow::Call(Call::LabPeer { kind, host: None }, Pending::Plain),
                Err(unknown) => Flow::Refused(unknown.to_string()),
            })
        }
        Builtin::LabLink => super::lablink::lab_link(args),
        Builtin::IcmpEchoRequest => {
            let [ident, seq, payload] = args.bind(["ident", "seq", "payload"], 2)?;
            let field = |v: Option<Value>, what: &str| -> Result<u16, Exception> {
                let i = to_int(&v.unwrap_or(Value::None))?;
                u16::try_from(i)
                    .map_err(|_| Exception::value_error(format!("{what} must be 0-65535, got {i}")))
            };
            let (ident, seq) = (field(ident, "ident")?, field(seq, "seq")?);
            let payload = match payload {
                Some(p) => to_bytes(&p)?.to_vec(),
                None => Vec::new(),
            };
            value(Value::bytes(icmp::echo_request(ident, seq, &payload)))
        }
        Builtin::IcmpParse => {
            let [data] = args.bind(["data"], 1)?;
            let data = to_bytes(&data.unwrap_or(Value::None))?;
            value(Value::Icmp(std::sync::Arc::new(icmp::parse(&data)?)))
        }
        Builtin::Checksum => {
            let [data] = args.bind(["data"], 1)?;
            let data = to_bytes(&data.unwrap_or(Value::None))?;
            value(Value::Int(i64::from(icmp::checksum(&data))))
        }
        Builtin::Len => {
            let [x] = args.bind(["obj"], 1)?;
            value(Value::Int(len(&x.unwrap_or(Value::None))?))
        }
        Builtin::Range => {
            let [a, b, c] = args.bind(["start", "stop", "step"], 1)?;
            // Ints of any size: `range(2**100, 2**100 + 3)` is a range too.
            let int = |v: Option<Value>| {
                v.map(|v| match v {
                    Value::BigInt(_) => Ok(super::bigint::to_big(&v).unwrap_or_default()),
                    v => to_int(&v).map(num_bigint::BigInt::from),
                })
                .transpose()
            };
            let (a, b, c) = (int(a)?, int(b)?, int(c)?);
            let (start, stop) = match (a, b) {
                (Some(stop), None) => (num_bigint::BigInt::from(0), stop),
                (Some(start), Some(stop)) => (start, stop),
                _ => Default::default(),
            };
            let step = c.unwrap_or_else(|| 1.into());
            if step == num_bigint::BigInt::from(0) {
                return Err(Exception::value_error("range() arg 3 must not be zero"));
            }
            value(super::bigint::BigRange::value(start, stop, step))
        }
        Builtin::Str => {
            let [x, encoding, errors] = args.bind(["object", "encoding", "errors"], 0)?;
            match (x, encoding) {
                (None, _) => value(Value::str("")),
                (Some(Value::Bytes(b)), Some(enc)) => {
                    value(codec::decode(&b, Some(enc), errors)?)
                }
                (Some(x), _) => value(Value::str(super::bigint::checked_str(&x)?)),
            }
        }
        Builtin::Int => {
            let [x, base] = args.bind(["x", "base"], 0)?;
            value(int(x.unwrap_or(Value::Int(0)), base)?)
        }
        Builtin::Float => {
            let [x] = args.bind(["x"], 0)?;
            value(Value::Float(float(&x.unwrap_or(Value::Float(0.0)))?))
        }
        Builtin::Bool => {
            let [x] = args.bind(["x"], 0)?;
            value(Value::Bool(x.is_some_and(|v| v.truthy())))
        }
        Builtin::Bytes => {
            let [x, encoding, errors] = args.bind(["source", "encoding", "errors"], 0)?;
            value(bytes(x, encoding, errors)?)
        }
        Builtin::List => {
            let [x] = args.bind(["iterable"], 0)?;
            value(Value::list(
                x.map(|v| iterate(&v)).transpose()?.unwrap_or_default(),
            ))
        }
        Builtin::Dict => value(super::dict::construct(args)?),
        Builtin::Set => value(super::set::construct(args)?),
        Builtin::Tuple => {
            let [x] = args.bind(["iterable"], 0)?;
            value(Value::tuple(
                x.map(|v| iterate(&v)).transpose()?.unwrap_or_default(),
            ))
        }
        Builtin::Hex => {
            let [x] = args.bind(["number"], 1)?;
            if let Some(Value::BigInt(b)) = &x {
                return value(Value::str(super::bigint::with_prefix(b, 16, "0x")));
            }
            let i = to_int(&x.unwrap_or(Value::None))?;
            let text = if i < 0 {
                format!("-0x{:x}", i.unsigned_abs())
            } else {
                format!("0x{i:x}")
            };
            value(Value::str(text))
        }
        Builtin::Abs => {
            let [x] = args.bind(["x"], 1)?;
            match x.unwrap_or(Value::None) {
                Value::Float(f) => value(Value::Float(f.abs())),
                Value::BigInt(b) => value(super::bigint::abs(&b)),
                v => match as_int(&v) {
                    Some(i) => value(
                        i.checked_abs()
                            .map_or_else(|| super::bigint::abs(&i.into()), Value::Int),
                    ),
                    None => Err(Exception::type_error(format!(
                        "bad operand type for abs(): '{}'",
                        v.type_name()
                    ))),
                },
            }
        }
        Builtin::Min | Builtin::Max => {
            let name = builtin.name();
            let (items, keywords) = args.varargs(&["default", "key"])?;
            let mut default = None;
            let mut key = None;
            for (k, v) in keywords {
                if k == "default" {
                    default = Some(v);
                } else if !matches!(v, Value::None) {
                    key = Some(v);
                }
            }
            let items = match items.len() {
                0 => {
                    return Err(Exception::type_error(format!(
                        "{name} expected at least 1 argument, got 0"
                    )));
                }
                1 => iterate(&items[0])?,
                _ => items,
            };
            let keys = match &key {
                Some(f) => items
                    .iter()
                    .map(|x| super::more::call_simple(f, vec![x.clone()], ctx))
                    .collect::<Result<Vec<_>, _>>()?,
                None => items.clone(),
            };
            value(super::more::best_by_key(&items, &keys, builtin == Builtin::Max, default)?)
        }
        Builtin::Sum => {
            let [items, start] = args.bind(["iterable", "start"], 1)?;
            let mut total = start.unwrap_or(Value::Int(0));
            if matches!(total, Value::Str(_)) {
                return Err(Exception::type_error(
                    "sum() can't sum strings [use ''.join(seq) instead]",
                ));
            }
            for item in iterate(&items.unwrap_or(Value::None))? {
                total = ops::binary(BinOp::Add, &total, &item)?;
            }
            value(total)
        }
        Builtin::Repr => {
            let [x] = args.bind(["obj"], 1)?;
            value(Value::str(super::bigint::checked_repr(&x.unwrap_or(Value::None))?))
        }
        Builtin::Ord => {
            let [x] = args.bind(["c"], 1)?;
            match x.unwrap_or(Value::None) {
                Value::Str(s) if s.chars().count() == 1 => {
                    value(Value::Int(s.chars().next().map_or(0, |c| c as i64)))
                }
                Value::Bytes(b) if b.len() == 1 => value(Value::Int(i64::from(b[0]))),
                Value::Str(s) => Err(Exception::type_error(format!(
                    "ord() expected a character, but string of length {} found",
                    s.chars().count()
                ))),
                Value::Bytes(b) => Err(Exception::type_error(format!(
                    "ord() expected a character, but string of length {} found",
                    b.len()
                ))),
                other => Err(Exception::type_error(format!(
                    "ord() expected string of length 1, but {} found",
                    other.type_name()
                ))),
            }
        }
        Builtin::Chr => {
            let [x] = args.bind(["i"], 1)?;
            if let Some(Value::BigInt(_)) = x {
                return Err(Exception::overflow("Python int too large to convert to C int"));
            }
            let i = to_int(&x.unwrap_or(Value::None))?;
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| Exception::value_error("chr() arg not in range(0x110000)"))?;
            value(Value::str(c.to_string()))
        }
        Builtin::Format => {
            if !args.keywords.is_empty() {
                return Err(Exception::type_error("format() takes no keyword arguments"));
            }
            let [v, spec] = args.bind(["value", "format_spec"], 1)?;
            let spec = match spec {
                None => String::new(),
                Some(Value::Str(s)) => s.to_string(),
                Some(other) => {
                    return Err(Exception::type_error(format!(
                        "format() argument 2 must be str, not {}",
                        other.type_name()
                    )));
                }
            };
            let v = v.unwrap_or(Value::None);
            value(Value::str(format::format_value(&v, &spec)?))
        }
        Builtin::Sorted
        | Builtin::Next
        | Builtin::Iter
        | Builtin::Enumerate
        | Builtin::Zip
        | Builtin::Reversed
        | Builtin::Any
        | Builtin::All
        | Builtin::Map
        | Builtin::Filter
        | Builtin::Round
        | Builtin::Divmod
        | Builtin::Pow
        | Builtin::Oct
        | Builtin::Bin
        | Builtin::Isinstance
        | Builtin::Type
        | Builtin::Getattr
        | Builtin::Hasattr
        | Builtin::Setattr
        | Builtin::Delattr
        | Builtin::Vars => super::more::call(builtin, args, ctx),
        Builtin::Hash => {
            let [x] = args.bind(["obj"], 1)?;
            value(Value::Int(super::dunder::hash(&x.unwrap_or(Value::None))?))
        }
        Builtin::Id => {
            let [x] = args.bind(["obj"], 1)?;
            value(Value::Int(super::dunder::id(&x.unwrap_or(Value::None))))
        }
        Builtin::Callable => {
            let [x] = args.bind(["obj"], 1)?;
            value(Value::Bool(callable(&x.unwrap_or(Value::None))))
        }
        Builtin::Frozenset => {
            let [x] = args.bind(["iterable"], 0)?;
            value(super::set::freeze(super::set::from_items(x.map(|v| iterate(&v)).transpose()?.unwrap_or_default())?))
        }
        Builtin::Slice => {
            let (parts, _) = args.varargs(&[])?;
            value(super::library::slice(parts)?)
        }
        Builtin::Memoryview => {
            let [obj] = args.bind(["object"], 1)?;
            value(super::memview::new(&obj.unwrap_or(Value::None))?)
        }
        Builtin::Bytearray => {
            let [x, encoding, errors] = args.bind(["source", "encoding", "errors"], 0)?;
            let made = bytes(x, encoding, errors)?;
            value(Value::ByteArray(std::sync::Arc::new(std::sync::Mutex::new(
                super::args::to_bytes(&made)?.to_vec(),
            ))))
        }
    }
}

/// `callable(x)`: functions, methods, classes, and instances whose class defines `__call__`.
fn callable(x: &Value) -> bool {
    match x {
        Value::Function(_)
        | Value::BoundMethod(_)
        | Value::Builtin(_)
        | Value::Method(_)
        | Value::LibFn(_)
        | Value::Class(_)
        | Value::ExcClass(_)
        | Value::Type(_) => true,
        Value::Special(s) => *s != super::class::Special::NotImplemented,
        Value::Instance(i) => i.class.method("__call__").is_some(),
        _ => false,
    }
}

/// `len(x)`.
pub fn len(x: &Value) -> Result<i64, Exception> {
    let n = match x {
        Value::Str(s) => s.chars().count(),
        Value::Bytes(b) => b.len(),
        Value::Tuple(t) => t.len(),
        Value::List(l) => lock(l).len(),
        Value::Dict(d) => lock(d).len(),
        Value::Set(s) | Value::FrozenSet(s) => lock(s).len(),
        Value::ByteArray(b) => lock(b).len(),
        Value::MemoryView(m) => m.len()?,
        Value::Range { start, stop, step } => return Ok(range_len(*start, *stop, *step)),
        Value::BigRange(r) => return r.checked_len(),
        other => {
            return Err(Exception::type_error(format!(
                "object of type '{}' has no len()",
                other.type_name()
            )));
        }
    };
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `int(x, base)`.
fn int(x: Value, base: Option<Value>) -> Result<Value, Exception> {
    let base = base.map(|b| to_int(&b)).transpose()?;
    if base.is_some_and(|b| b != 0 && !(2..=36).contains(&b)) {
        return Err(Exception::value_error(
            "int() base must be >= 2 and <= 36, or 0",
        ));
    }
    let text = match &x {
        Value::Str(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        _ if base.is_some() => {
            return Err(Exception::type_error(
                "int() can't convert non-string with explicit base",
            ));
        }
        Value::Float(f) => {
            if f.is_nan() {
                return Err(Exception::value_error(
                    "cannot convert float NaN to integer",
                ));
            }
            if f.is_infinite() {
                return Err(Exception::overflow(
                    "cannot convert float infinity to integer",
                ));
            }
            if f.abs() >= 9.223_372_036_854_776e18 {
                return super::bigint::from_float(*f).ok_or_else(|| Exception::overflow("cannot convert float infinity to integer"));
            }
            return Ok(Value::Int(f.trunc() as i64));
        }
        Value::BigInt(_) => return Ok(x.clone()),
        other => {
            return as_int(other).map(Value::Int).ok_or_else(|| {
                Exception::type_error(format!(
                    "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                    other.type_name()
                ))
            });
        }
    };
    let base = base.unwrap_or(10) as u32;
    let invalid = || {
        Exception::value_error(format!(
            "invalid literal for int() with base {base}: {}",
            x.repr()
        ))
    };
    match parse_int(&text, base) {
        Ok(i) => Ok(Value::Int(i)),
        Err(None) => Err(invalid()),
        Err(Some((digits, radix, negative))) => {
            super::bigint::parse(&digits, radix, negative)?.ok_or_else(invalid)
        }
    }
}

/// Python's int() parsing; on an i64 overflow `Err(Some)` with the clean
/// digits, radix and sign for a big int; `Err(None)` on bad syntax.
#[allow(clippy::type_complexity)]
fn parse_int(text: &str, base: u32) -> Result<i64, Option<(String, u32, bool)>> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = t.to_ascii_lowercase();
    let prefixed = |p: &str| lower.starts_with(p) && lower.len() > 2;
    let (base, digits) = match base {
        0 | 16 if prefixed("0x") => (16, &t[2..]),
        0 | 8 if prefixed("0o") => (8, &t[2..]),
        0 | 2 if prefixed("0b") => (2, &t[2..]),
        0 => {
            if t.len() > 1 && t.starts_with('0') && t.chars().any(|c| c != '0' && c != '_') {
                return Err(None);
            }
            (10, t)
        }
        b => (b, t),
    };
    let digits = digits
        .strip_prefix('_')
        .filter(|_| base != 10)
        .unwrap_or(digits);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return Err(None);
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if !clean.chars().all(|c| c.is_digit(base)) {
        return Err(None);
    }
    let signed = if negative { format!("-{clean}") } else { clean.clone() };
    i64::from_str_radix(&signed, base).map_err(|_| Some((clean, base, negative)))
}

fn float(x: &Value) -> Result<f64, Exception> {
    if let Value::BigInt(b) = x {
        return super::bigint::to_f64(b);
    }
    if let Some(f) = as_number(x) {
        return Ok(f);
    }
    let text = to_text(x).map_err(|_| {
        Exception::type_error(format!(
            "float() argument must be a string or a real number, not '{}'",
            x.type_name()
        ))
    })?;
    let t = text.trim().replace('_', "");
    let lower = t.to_ascii_lowercase();
    let ok_word = matches!(
        lower.trim_start_matches(['+', '-']),
        "inf" | "infinity" | "nan"
    );
    if !ok_word && lower.chars().any(|c| c.is_ascii_alphabetic() && c != 'e') {
        return Err(Exception::value_error(format!(
            "could not convert string to float: {}",
            x.repr()
        )));
    }
    t.parse::<f64>().map_err(|_| {
        Exception::value_error(format!("could not convert string to float: {}", x.repr()))
    })
}

/// `bytes(x)`, `bytes(n)`, `bytes([1, 2])`, `bytes(s, "utf-8")`.
fn bytes(
    x: Option<Value>,
    encoding: Option<Value>,
    errors: Option<Value>,
) -> Result<Value, Exception> {
    let Some(x) = x else {
        return Ok(Value::bytes(b""));
    };
    match (&x, encoding) {
        (Value::Str(s), Some(enc)) => codec::encode(s, Some(enc), errors),
        (Value::Str(_), None) => Err(Exception::type_error("string argument without an encoding")),
        (_, Some(_)) => Err(Exception::type_error("encoding without a string argument")),
        (Value::Bytes(_), None) => Ok(x.clone()),
        (Value::ByteArray(b), None) => Ok(Value::bytes(lock(b).as_slice())),
        (Value::MemoryView(m), None) => Ok(Value::bytes(m.tobytes()?)),
        (Value::BigInt(_), None) => Err(Exception::overflow("cannot fit 'int' into an index-sized integer")),
        (Value::Int(_) | Value::Bool(_), None) => {
            let n = to_int(&x)?;
            if n < 0 {
                return Err(Exception::value_error("negative count"));
            }
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if n > MAX_SIZE {
                return Err(Exception::memory());
            }
            Ok(Value::bytes(vec![0u8; n]))
        }
        (other, None) => {
            let items = iterate(other).map_err(|_| {
                Exception::type_error(format!(
                    "cannot convert '{}' object to bytes",
                    other.type_name()
                ))
            })?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let i = to_int(&item)?;
                out.push(
                    u8::try_from(i)
                        .map_err(|_| Exception::value_error("bytes must be in range(0, 256)"))?,
                );
            }
            Ok(Value::bytes(out))
        }
    }
}

/// A str argument; `what` names it in the TypeError.
fn str_arg(v: Option<Value>, what: &str) -> Result<String, Exception> {
    match v.unwrap_or(Value::None) {
        Value::Str(s) => Ok(s.to_string()),
        other => Err(Exception::type_error(format!(
            "{what} must be str, not {}",
            other.type_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_socket_function_binds_the_tables_parameters() {
        // `os.fork()`, poll objects' `poll()`, `os.unlink()` and
        // `os.path.exists()` are the library's, not builtins; `lab_hosts` is the runners'.
        let library = [Op::Fork, Op::Poll, Op::Unlink, Op::Exists, Op::LabHosts];
        for op in Op::ALL.into_iter().filter(|op| !op.is_method() && !library.contains(op)) {
            let Some(builtin) = Builtin::from_name(op.name()) else {
                panic!("{op:?} is not a builtin");
            };
            let mut output = String::new();
            let mut lib = super::super::library::LibState::new("main");
            let mut ctx = Ctx {
                now: 0.0,
                output: &mut output,
                lib: &mut lib,
            };
            if let Err(e) = call(builtin, Args::new(op.name(), Vec::new(), Vec::new()), &mut ctx) {
                assert!(!e.message.contains("is bound with"), "{op:?}: {}", e.message);
            }
        }
    }

    #[test]
    fn int_parsing_like_python() {
        assert_eq!(parse_int(" 42\r\n", 10), Ok(42));
        assert_eq!(parse_int("-0x1f", 16), Ok(-31));
        assert_eq!(parse_int("ff", 16), Ok(255));
        assert_eq!(parse_int("0o17", 0), Ok(15));
        assert_eq!(parse_int("1_000", 10), Ok(1000));
        assert_eq!(parse_int("abc", 10), Err(None));
        assert_eq!(parse_int("", 10), Err(None));
        assert_eq!(parse_int("-99_999_999_999_999_999_999", 10), Err(Some(("99999999999999999999".into(), 10, true))));
    }
}
