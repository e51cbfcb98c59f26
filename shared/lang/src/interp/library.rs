//! The library modules besides the socket ones: `struct`, `sys`, `os`, `errno`,
//! `binascii`, `random`, `math`, `json`, and `time.monotonic`: their attributes,
//! functions, and the objects they return (`struct.Struct`, `sys.stdout`).

use std::sync::Arc;

use super::args::{Args, iterate, to_bytes, to_int};
use super::builtins::Ctx;
use super::exception::Exception;
use super::json;
use super::mt::Mt;
use super::sockets::Flow;
use super::structfmt::{self, Format};
use super::value::{Value, as_int, as_number, lock};
use super::{dict, errnos};
use crate::names::{Builtin, ExcClass, LibFn, Module};

/// A lane's library state: its random generator and its fake process id.
#[derive(Debug, Clone)]
pub struct LibState {
    pub rng: Mt,
    pub pid: i64,
    /// `sys.argv[0]`.
    pub argv0: String,
    /// `socket.setdefaulttimeout`: the timeout new sockets get.
    pub default_timeout: Option<f64>,
    /// The session's hosts (`# lane: NAME @ HOST`): names the relay resolves.
    pub hosts: std::sync::Arc<[String]>,
}

impl LibState {
    /// Both the pid and the unseeded generator derive from the lane's name, so a
    /// run repeats exactly.
    pub fn new(lane: &str) -> LibState {
        let hash = lane
            .bytes()
            .fold(17u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        let pid = 1000 + i64::from(hash % 30000);
        LibState {
            rng: Mt::new(pid),
            pid,
            argv0: format!("{lane}.py"),
            default_timeout: None,
            hosts: std::sync::Arc::new([]),
        }
    }
}

/// A library object.
#[derive(Debug)]
pub enum Object {
    /// `struct.Struct(format)`.
    Struct(Format, Value),
    /// `sys.stdout` (false) or `sys.stderr` (true).
    Stream(bool),
    /// `sys.stdin`.
    Stdin,
    /// `_thread.allocate_lock()`: whether it is held.
    Lock(std::sync::Mutex<bool>),
    /// `e.__traceback__`: the frames, innermost first (opaque to scripts).
    Traceback(Vec<super::exception::TbEntry>),
    /// `hashlib.sha256()` and the others.
    Hash(super::hashlib::Hash),
    /// `select.poll()`, `select.epoll()`.
    Poller(super::poll::Poller),
    /// `slice(start, stop, step)`, and what `x[a:b]` passes an instance's `__getitem__`.
    Slice([Value; 3]),
}

impl Object {
    pub fn type_name(&self) -> &'static str {
        match self {
            Object::Struct(..) => "Struct",
            Object::Stream(_) => "TextIOWrapper",
            Object::Lock(_) => "lock",
            Object::Traceback(_) => "traceback",
            Object::Hash(_) => "HASH",
            Object::Poller(p) => p.type_name(),
            Object::Stdin => "TextIOWrapper",
            Object::Slice(_) => "slice",
        }
    }

    pub fn repr(&self) -> String {
        match self {
            // CPython adds " at 0x…": an address means nothing here.
            Object::Struct(..) => "<_struct.Struct object>".into(),
            Object::Stream(false) => "<_io.TextIOWrapper name='<stdout>' mode='w' encoding='utf-8'>".into(),
            Object::Stream(true) => "<_io.TextIOWrapper name='<stderr>' mode='w' encoding='utf-8'>".into(),
            Object::Stdin => "<_io.TextIOWrapper name='<stdin>' mode='r' encoding='utf-8'>".into(),
            Object::Lock(held) => {
                let state = if *lock(held) { "locked" } else { "unlocked" };
                format!("<{state} _thread.lock object>")
            }
            Object::Traceback(_) => "<traceback object>".into(),
            Object::Hash(h) => h.repr(),
            Object::Poller(p) => format!("<{} object>", p.type_name()),
            Object::Slice([a, b, c]) => format!("slice({}, {}, {})", a.repr(), b.repr(), c.repr()),
        }
    }

    pub fn attr(self: &Arc<Self>, name: &str) -> Option<Value> {
        let method = |m: &'static str| Some(Value::Method(Arc::new((Value::Object(self.clone()), m))));
        match (&**self, name) {
            (Object::Struct(f, _), "size") => Some(Value::Int(f.size as i64)),
            (Object::Struct(_, text), "format") => Some(text.clone()),
            (Object::Struct(..), "pack") => method("pack"),
            (Object::Struct(..), "unpack") => method("unpack"),
            (Object::Struct(..), "unpack_from") => method("unpack_from"),
            (Object::Stream(_), "write") => method("write"),
            (Object::Stream(_), "flush") => method("flush"),
            (Object::Hash(h), _) => super::hashlib::attr(self, h, name),
            (Object::Poller(p), "closed") if p.epoll => Some(Value::Bool(p.is_closed())),
            (Object::Poller(p), _) => p.methods().iter().find(|m| **m == name).and_then(|m| method(m)),
            (Object::Stdin, "readline") => method("readline"),
            (Object::Slice(parts), "start" | "stop" | "step") => {
                let i = ["start", "stop", "step"].iter().position(|n| *n == name).unwrap_or(0);
                Some(parts[i].clone())
            }
            (Object::Slice(_), "indices") => method("indices"),
            (Object::Lock(_), "acquire" | "release" | "locked" | "__enter__" | "__exit__" | "acquire_lock" | "release_lock") => {
                Some(Value::Method(Arc::new((Value::Object(self.clone()), super::threads::lock_method(name)))))
            }
            _ => None,
        }
    }
}

/// `slice(stop)`, `slice(start, stop[, step])`.
pub fn slice(parts: Vec<Value>) -> Result<Value, Exception> {
    let parts = match <[Value; 3]>::try_from(parts) {
        Ok(three) => three,
        Err(parts) => match parts.len() {
            0 => return Err(Exception::type_error("slice expected at least 1 argument, got 0")),
            1 => [Value::None, parts[0].clone(), Value::None],
            2 => [parts[0].clone(), parts[1].clone(), Value::None],
            n => return Err(Exception::type_error(format!("slice expected at most 3 arguments, got {n}"))),
        },
    };
    Ok(Value::Object(Arc::new(Object::Slice(parts))))
}

/// The parts of a slice object, if `v` is one.
pub fn slice_parts(v: &Value) -> Option<&[Value; 3]> {
    match v {
        Value::Object(o) => match &**o {
            Object::Slice(parts) => Some(parts),
            _ => None,
        },
        _ => None,
    }
}

/// `slice.indices(len)`: the start, stop and step a sequence of `len` items takes.
fn slice_indices(parts: &[Value; 3], len: &Value) -> Result<Value, Exception> {
    let len = match len {
        Value::BigInt(_) => return Err(Exception::new(ExcClass::OverflowError, "Python int too large to convert to C ssize_t")),
        other => as_int(other).ok_or_else(|| {
            Exception::type_error(format!("'{}' object cannot be interpreted as an integer", other.type_name()))
        })?,
    };
    if len < 0 {
        return Err(Exception::value_error("length should not be negative"));
    }
    let bound = |v: &Value| super::ops::slice_bound(Some(v));
    let (start, stop, step) = super::ops::slice_range(len, bound(&parts[0])?, bound(&parts[1])?, bound(&parts[2])?)?;
    // A step past 64 bits stays as given (the bounds it clamps to are exact).
    let step = if matches!(parts[2], Value::BigInt(_)) { parts[2].clone() } else { Value::Int(step) };
    Ok(Value::tuple(vec![Value::Int(start), Value::Int(stop), step]))
}

/// Builtins that are classes in Python: they print as `<class 'int'>`.
pub fn is_type(b: Builtin) -> bool {
    use Builtin::*;
    matches!(
        b,
        Str | Int | Float | Bool | Bytes | Bytearray | List | Tuple | Dict | Set | Range | Type | Enumerate | Zip
            | Reversed | Map | Filter | Slice | Frozenset
    )
}

/// The attributes of the library modules, None for other modules and unknown names.
pub fn module_attr(module: Module, name: &str) -> Option<Value> {
    if let Some(f) = LibFn::lookup(module, name) {
        return Some(Value::LibFn(f));
    }
    let float = |f: f64| Some(Value::Float(f));
    match (module, name) {
        (Module::Struct, "error") => Some(Value::ExcClass(ExcClass::StructError)),
        (Module::Binascii, "Error") => Some(Value::ExcClass(ExcClass::BinasciiError)),
        (Module::Json, "JSONDecodeError") => Some(Value::ExcClass(ExcClass::JsonDecodeError)),
        (Module::Sys, "stdout") => Some(Value::Object(Arc::new(Object::Stream(false)))),
        (Module::Sys, "stdin") => Some(Value::Object(Arc::new(Object::Stdin))),
        (Module::Sys, "stderr") => Some(Value::Object(Arc::new(Object::Stream(true)))),
        (Module::Sys, "byteorder") => Some(Value::str("little")),
        (Module::Sys, "platform") => Some(Value::str("linux")),
        (Module::Os, "WNOHANG") => Some(Value::Int(1)),
        (Module::Os, "path") => Some(Value::Module(Module::OsPath)),
        (Module::OsPath, "sep") => Some(Value::str("/")),
        (Module::Os, "sep") => Some(Value::str("/")),
        (Module::Select, "error") => Some(Value::ExcClass(ExcClass::OsError)),
        (Module::Select, _) => super::poll::POLL_CONSTS.iter().find(|(n, _)| *n == name).map(|(_, v)| Value::Int(*v)),
        (Module::Sys, "maxsize") => Some(Value::Int(i64::MAX)),
        (Module::Sys, "version_info") => Some(Value::tuple(vec![
            Value::Int(3),
            Value::Int(11),
            Value::Int(0),
            Value::str("final"),
            Value::Int(0),
        ])),
        (Module::Os, "linesep") => Some(Value::str("\n")),
        (Module::Os, "name") => Some(Value::str("posix")),
        (Module::Math, "pi") => float(std::f64::consts::PI),
        (Module::Math, "e") => float(std::f64::consts::E),
        (Module::Math, "tau") => float(std::f64::consts::TAU),
        (Module::Math, "inf") => float(f64::INFINITY),
        (Module::Math, "nan") => float(f64::NAN),
        (Module::Errno, "errorcode") => Some(dict::new(
            errnos::CODES
                .iter()
                .map(|(n, name, _)| (Value::Int(i64::from(*n)), Value::str(name)))
                .collect(),
        )),
        (Module::Errno, _) => errnos::number(name).map(|n| Value::Int(i64::from(n))),
        _ => None,
    }
}

fn value(v: Value) -> Result<Flow, Exception> {
    Ok(Flow::Value(v))
}

fn number(v: &Value) -> Result<f64, Exception> {
    if let Value::BigInt(b) = v {
        return super::bigint::to_f64(b);
    }
    as_number(v).ok_or_else(|| {
        Exception::type_error(format!("must be real number, not {}", v.type_name()))
    })
}

fn math_domain() -> Exception {
    Exception::value_error("math domain error")
}

/// Calls a library function.
pub fn call(f: LibFn, args: Args, ctx: &mut Ctx<'_>) -> Result<Flow, Exception> {
    let args = Args {
        name: f.short_name().to_string(),
        ..args
    };
    if super::sockname::handles(f) {
        return value(super::sockname::call(f, args, ctx.lib)?);
    }
    if super::encodings::handles(f) {
        return value(super::encodings::call(f, args)?);
    }
    match f {
        LibFn::HashlibMd5
        | LibFn::HashlibSha1
        | LibFn::HashlibSha224
        | LibFn::HashlibSha256
        | LibFn::HashlibSha384
        | LibFn::HashlibSha512
        | LibFn::HashlibNew => super::hashlib::construct(f, args),
        LibFn::StructPack => {
            let (items, _) = args.varargs(&[])?;
            let Some((fmt, rest)) = items.split_first() else {
                return Err(Exception::type_error("pack expected at least 1 argument, got 0"));
            };
            value(Value::bytes(structfmt::format_arg(fmt)?.pack(rest)?))
        }
        LibFn::StructUnpack => {
            let [fmt, buffer] = args.bind(["format", "buffer"], 2)?;
            let fmt = structfmt::format_arg(&fmt.unwrap_or(Value::None))?;
            value(structfmt::unpack(&fmt, &to_bytes(&buffer.unwrap_or(Value::None))?)?)
        }
        LibFn::StructUnpackFrom => {
            let [fmt, buffer, offset] = args.bind(["format", "buffer", "offset"], 2)?;
            let fmt = structfmt::format_arg(&fmt.unwrap_or(Value::None))?;
            let offset = offset.map_or(Ok(0), |o| to_int(&o))?;
            value(structfmt::unpack_from(&fmt, &to_bytes(&buffer.unwrap_or(Value::None))?, offset)?)
        }
        LibFn::StructCalcsize => {
            let [fmt] = args.bind(["format"], 1)?;
            value(Value::Int(structfmt::format_arg(&fmt.unwrap_or(Value::None))?.size as i64))
        }
        LibFn::StructStruct => {
            let [fmt] = args.bind(["format"], 1)?;
            let text = fmt.unwrap_or(Value::None);
            let parsed = structfmt::format_arg(&text)?;
            value(Value::Object(Arc::new(Object::Struct(parsed, text))))
        }
        LibFn::SelectPoll | LibFn::SelectEpoll => {
            if f == LibFn::SelectPoll {
                args.bind::<0>([], 0)?;
            } else {
                let [sizehint, _flags] = args.bind(["sizehint", "flags"], 0)?;
                let hint = sizehint.map_or(Ok(-1), |v| to_int(&v))?;
                if hint == 0 || hint < -1 {
                    return Err(Exception::value_error("negative sizehint"));
                }
            }
            value(Value::Object(Arc::new(Object::Poller(super::poll::Poller::new(f == LibFn::SelectEpoll)))))
        }
        LibFn::OsUnlink | LibFn::OsRemove => super::poll::unlink(args),
        LibFn::OsPathExists => super::poll::exists(args),
        LibFn::OsPathJoin | LibFn::OsPathBasename | LibFn::OsPathDirname => super::poll::path_text(f.short_name(), args),
        LibFn::SysExit => {
            let [code] = args.bind(["status"], 0)?;
            Err(system_exit(code.unwrap_or(Value::None)))
        }
        LibFn::OsStrerror => {
            let [code] = args.bind(["code"], 1)?;
            let n = to_int(&code.unwrap_or(Value::None))?;
            value(Value::str(errnos::strerror(i32::try_from(n).unwrap_or(-1))))
        }
        LibFn::OsWifexited | LibFn::OsWexitstatus | LibFn::OsWifsignaled | LibFn::OsWtermsig => {
            let [status] = args.bind(["status"], 1)?;
            let status = to_int(&status.unwrap_or(Value::None))?;
            value(match f {
                LibFn::OsWifexited => Value::Bool(status & 0x7f == 0),
                LibFn::OsWexitstatus => Value::Int((status >> 8) & 0xff),
                LibFn::OsWifsignaled => Value::Bool(status & 0x7f != 0 && status & 0x7f != 0x7f),
                _ => Value::Int(status & 0x7f),
            })
        }
        LibFn::OsGetpid => {
            args.bind([], 0)?;
            value(Value::Int(ctx.lib.pid))
        }
        LibFn::BinasciiHexlify => {
            let [data, sep] = args.bind(["data", "sep"], 1)?;
            let data = to_bytes(&data.unwrap_or(Value::None))?;
            let sep = match sep {
                None => String::new(),
                Some(Value::Str(s)) => s.to_string(),
                Some(Value::Bytes(b)) => String::from_utf8_lossy(&b).into_owned(),
                Some(other) => {
                    return Err(Exception::type_error(format!(
                        "sep must be str or bytes, not {}",
                        other.type_name()
                    )));
                }
            };
            if sep.chars().count() > 1 {
                return Err(Exception::value_error("sep must be length 1."));
            }
            let hex: Vec<String> = data.iter().map(|b| format!("{b:02x}")).collect();
            value(Value::bytes(hex.join(&sep)))
        }
        LibFn::BinasciiUnhexlify => {
            let [data] = args.bind(["hexstr"], 1)?;
            let text = match data.unwrap_or(Value::None) {
                Value::Str(s) if s.is_ascii() => s.as_bytes().to_vec(),
                Value::Str(_) => {
                    return Err(Exception::value_error(
                        "string argument should contain only ASCII characters",
                    ));
                }
                Value::Bytes(b) => b.to_vec(),
                other => {
                    return Err(Exception::type_error(format!(
                        "argument should be bytes, buffer or ASCII string, not '{}'",
                        other.type_name()
                    )));
                }
            };
            if text.len() % 2 == 1 {
                return Err(Exception::new(ExcClass::BinasciiError, "Odd-length string"));
            }
            let mut out = Vec::with_capacity(text.len() / 2);
            for pair in text.chunks(2) {
                let digit = |c: u8| (c as char).to_digit(16);
                match (digit(pair[0]), digit(pair[1])) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => return Err(Exception::new(ExcClass::BinasciiError, "Non-hexadecimal digit found")),
                }
            }
            value(Value::bytes(out))
        }
        LibFn::BinasciiCrc32 => {
            let [data, start] = args.bind(["data", "crc"], 1)?;
            let data = to_bytes(&data.unwrap_or(Value::None))?;
            let start = start.map_or(Ok(0), |s| to_int(&s))? as u32;
            value(Value::Int(i64::from(crc32(&data, start))))
        }
        LibFn::RandomSeed => {
            let [a, _version] = args.bind(["a", "version"], 0)?;
            let seed = match a.unwrap_or(Value::None) {
                Value::None => ctx.lib.pid,
                Value::BigInt(b) => {
                    ctx.lib.rng.seed_words(&b.magnitude().to_u32_digits());
                    return value(Value::None);
                }
                v => as_int(&v).ok_or_else(|| {
                    Exception::type_error(format!(
                        "socklab's random.seed() takes an int or None, not {}",
                        v.type_name()
                    ))
                })?,
            };
            ctx.lib.rng.seed(seed);
            value(Value::None)
        }
        LibFn::RandomRandom => {
            args.bind([], 0)?;
            value(Value::Float(ctx.lib.rng.random()))
        }
        LibFn::RandomUniform => {
            let [a, b] = args.bind(["a", "b"], 2)?;
            let a = number(&a.unwrap_or(Value::None))?;
            let b = number(&b.unwrap_or(Value::None))?;
            value(Value::Float(a + (b - a) * ctx.lib.rng.random()))
        }
        LibFn::RandomGetrandbits => {
            let [k] = args.bind(["k"], 1)?;
            let k = to_int(&k.unwrap_or(Value::None))?;
            if k < 0 {
                return Err(Exception::value_error("number of bits must be non-negative"));
            }
            if k > 63 {
                // CPython's order: 32-bit words, least significant first.
                return value(super::bigint::norm(super::bigint::getrandbits(&mut ctx.lib.rng, k as u64)?));
            }
            let r = if k == 0 { 0 } else { ctx.lib.rng.getrandbits(k as u32) };
            value(Value::Int(r as i64))
        }
        LibFn::RandomRandint => {
            let [a, b] = args.bind(["a", "b"], 2)?;
            let (a, b) = (a.unwrap_or(Value::None), b.unwrap_or(Value::None));
            if [&a, &b].iter().any(|v| matches!(v, Value::BigInt(_))) {
                let (Some(a), Some(b)) = (super::bigint::to_big(&a), super::bigint::to_big(&b)) else {
                    return Err(Exception::type_error("randint() takes ints"));
                };
                return value(super::bigint::randrange(&mut ctx.lib.rng, &a, Some(&(b + 1)), &1.into())?);
            }
            let a = to_int(&a)?;
            let b = to_int(&b)?;
            value(Value::Int(randrange(&mut ctx.lib.rng, a, Some(b.saturating_add(1)), 1)?))
        }
        LibFn::RandomRandrange => {
            let [start, stop, step] = args.bind(["start", "stop", "step"], 1)?;
            let stop = stop.filter(|v| !matches!(v, Value::None));
            if [&start, &stop, &step].iter().any(|v| matches!(v, Some(Value::BigInt(_)))) {
                let big = |v: &Option<Value>| v.as_ref().map(|v| super::bigint::to_big(v).ok_or_else(|| to_int(v).err().unwrap_or_else(|| Exception::type_error("randrange() takes ints")))).transpose();
                let (start, stop, step) = (big(&start)?.unwrap_or_default(), big(&stop)?, big(&step)?.unwrap_or_else(|| num_bigint::BigInt::from(1)));
                return value(super::bigint::randrange(&mut ctx.lib.rng, &start, stop.as_ref(), &step)?);
            }
            let start = to_int(&start.unwrap_or(Value::None))?;
            let stop = stop.map(|v| to_int(&v)).transpose()?;
            let step = step.map_or(Ok(1), |v| to_int(&v))?;
            value(Value::Int(randrange(&mut ctx.lib.rng, start, stop, step)?))
        }
        LibFn::RandomChoice => {
            let [seq] = args.bind(["seq"], 1)?;
            let items = iterate(&seq.unwrap_or(Value::None))?;
            if items.is_empty() {
                return Err(Exception::index_error("Cannot choose from an empty sequence"));
            }
            let i = ctx.lib.rng.below(items.len() as u64) as usize;
            value(items[i].clone())
        }
        LibFn::RandomShuffle => {
            let [x] = args.bind(["x"], 1)?;
            let Some(Value::List(list)) = x else {
                return Err(Exception::type_error("socklab's random.shuffle() takes a list"));
            };
            let mut items = lock(&list).clone();
            for i in (1..items.len()).rev() {
                let j = ctx.lib.rng.below(i as u64 + 1) as usize;
                items.swap(i, j);
            }
            *lock(&list) = items;
            value(Value::None)
        }
        LibFn::TimeMonotonic | LibFn::TimePerfCounter => {
            args.bind([], 0)?;
            value(Value::Float(ctx.now))
        }
        LibFn::TimeGmtime | LibFn::TimeLocaltime | LibFn::TimeMktime | LibFn::TimeCtime | LibFn::TimeAsctime | LibFn::TimeStrftime => {
            let name = f.name().trim_start_matches("time.");
            value(super::clock::call(name, args, ctx.now)?)
        }
        LibFn::JsonDumps => {
            let (items, keywords) = args.varargs(&[
                "indent",
                "sort_keys",
                "separators",
                "ensure_ascii",
                "skipkeys",
                "allow_nan",
                "default",
                "cls",
                "check_circular",
            ])?;
            let [obj] = <[Value; 1]>::try_from(items).map_err(|items| {
                Exception::type_error(format!(
                    "dumps() takes 1 positional argument but {} were given",
                    items.len()
                ))
            })?;
            let mut opts = json::DumpOptions {
                indent: None,
                item_sep: ", ".into(),
                key_sep: ": ".into(),
                sort_keys: false,
                ensure_ascii: true,
            };
            let mut separators = None;
            for (k, v) in keywords {
                match k.as_str() {
                    "indent" => {
                        opts.indent = match v {
                            Value::None => None,
                            Value::Str(s) => Some(s.to_string()),
                            other => Some(" ".repeat(to_int(&other)?.clamp(0, 1000) as usize)),
                        }
                    }
                    "sort_keys" => opts.sort_keys = v.truthy(),
                    "ensure_ascii" => opts.ensure_ascii = v.truthy(),
                    "separators" if !matches!(v, Value::None) => {
                        let parts = iterate(&v)?;
                        match parts.as_slice() {
                            [Value::Str(a), Value::Str(b)] => separators = Some((a.to_string(), b.to_string())),
                            _ => return Err(Exception::value_error("separators must be a (item, key) pair of str")),
                        }
                    }
                    _ => {}
                }
            }
            if opts.indent.is_some() {
                opts.item_sep = ",".into();
            }
            if let Some((item, key)) = separators {
                opts.item_sep = item;
                opts.key_sep = key;
            }
            value(Value::str(json::dumps(&obj, &opts)?))
        }
        LibFn::JsonLoads => {
            let [s] = args.bind(["s"], 1)?;
            let text = match s.unwrap_or(Value::None) {
                Value::Str(s) => s.to_string(),
                Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
                other => {
                    return Err(Exception::type_error(format!(
                        "the JSON object must be str, bytes or bytearray, not {}",
                        other.type_name()
                    )));
                }
            };
            value(json::loads(&text)?)
        }
        _ => math(f, args),
    }
}

/// `math.*`.
fn math(f: LibFn, args: Args) -> Result<Flow, Exception> {
    let float = |x: f64| value(Value::Float(x));
    if matches!(f, LibFn::MathGcd) {
        let (items, _) = args.varargs(&[])?;
        if items.iter().any(|v| matches!(v, Value::BigInt(_)) || as_int(v) == Some(i64::MIN)) {
            let mut g = num_bigint::BigInt::default();
            for v in &items {
                let Some(b) = super::bigint::to_big(v) else { return Err(super::args::to_int(v).err().unwrap_or_else(|| Exception::type_error("an integer is required"))) };
                g = super::bigint::gcd(&g, &b);
            }
            return value(super::bigint::norm(g));
        }
        let mut g: i64 = 0;
        for v in items {
            let mut b = to_int(&v)?.unsigned_abs() as i64;
            let mut a = g;
            while b != 0 {
                (a, b) = (b, a % b);
            }
            g = a;
        }
        return value(Value::Int(g));
    }
    if matches!(f, LibFn::MathAtan2 | LibFn::MathHypot | LibFn::MathIsclose | LibFn::MathLog) {
        let [a, b] = args.bind(["x", "y"], if f == LibFn::MathLog { 1 } else { 2 })?;
        let a = a.unwrap_or(Value::None);
        if let (LibFn::MathLog, Value::BigInt(big)) = (f, &a) {
            let ln = super::bigint::ln(big).ok_or_else(math_domain)?;
            let base = b.map(|b| number(&b)).transpose()?;
            if base.is_some_and(|b| b <= 0.0) {
                return Err(math_domain());
            }
            return float(base.map_or(ln, |b| ln / b.ln()));
        }
        let a = number(&a)?;
        return match f {
            LibFn::MathLog => {
                let base = b.map(|b| number(&b)).transpose()?;
                if a <= 0.0 || base.is_some_and(|b| b <= 0.0) {
                    return Err(math_domain());
                }
                match base {
                    Some(b) => float(a.ln() / b.ln()),
                    None => float(a.ln()),
                }
            }
            _ => {
                let b = number(&b.unwrap_or(Value::None))?;
                match f {
                    LibFn::MathAtan2 => float(a.atan2(b)),
                    LibFn::MathHypot => float(a.hypot(b)),
                    _ => {
                        let close = a == b
                            || ((a - b).abs() <= 1e-09 * a.abs().max(b.abs()));
                        value(Value::Bool(close))
                    }
                }
            }
        };
    }
    let [x] = args.bind(["x"], 1)?;
    let x = x.unwrap_or(Value::None);
    if let (LibFn::MathFloor | LibFn::MathCeil | LibFn::MathTrunc, Some(i)) = (f, as_int(&x)) {
        return value(Value::Int(i));
    }
    if let (LibFn::MathFloor | LibFn::MathCeil | LibFn::MathTrunc, Value::BigInt(_)) = (f, &x) {
        return value(x);
    }
    if let (LibFn::MathLog2 | LibFn::MathLog10, Value::BigInt(big)) = (f, &x) {
        let v = match super::bigint::to_f64(big) {
            Ok(v) if v > 0.0 => v,
            // Too large for a float: through the natural log.
            _ => {
                let ln = super::bigint::ln(big).ok_or_else(math_domain)?;
                let base = if f == LibFn::MathLog2 { std::f64::consts::LN_2 } else { std::f64::consts::LN_10 };
                return float(ln / base);
            }
        };
        return float(if f == LibFn::MathLog2 { v.log2() } else { v.log10() });
    }
    let v = number(&x)?;
    let to_int = |r: f64| -> Result<Flow, Exception> {
        if r.is_nan() {
            return Err(Exception::value_error("cannot convert float NaN to integer"));
        }
        if r.is_infinite() {
            return Err(Exception::overflow("cannot convert float infinity to integer"));
        }
        if r.abs() >= 9.223_372_036_854_776e18 {
            return value(super::bigint::from_float(r).unwrap_or(Value::Int(0)));
        }
        value(Value::Int(r as i64))
    };
    match f {
        LibFn::MathFloor => to_int(v.floor()),
        LibFn::MathCeil => to_int(v.ceil()),
        LibFn::MathTrunc => to_int(v.trunc()),
        LibFn::MathSqrt if v < 0.0 => Err(math_domain()),
        LibFn::MathSqrt => float(v.sqrt()),
        LibFn::MathLog2 | LibFn::MathLog10 if v <= 0.0 => Err(math_domain()),
        LibFn::MathLog2 => float(v.log2()),
        LibFn::MathLog10 => float(v.log10()),
        LibFn::MathExp => {
            let r = v.exp();
            if r.is_infinite() && v.is_finite() {
                return Err(Exception::overflow("math range error"));
            }
            float(r)
        }
        LibFn::MathSin => float(v.sin()),
        LibFn::MathCos => float(v.cos()),
        LibFn::MathTan => float(v.tan()),
        LibFn::MathFabs => float(v.abs()),
        LibFn::MathIsnan => value(Value::Bool(v.is_nan())),
        LibFn::MathIsinf => value(Value::Bool(v.is_infinite())),
        _ => Err(Exception::type_error(format!("{} is not a math function", f.name()))),
    }
}

/// A method of a library object.
pub fn call_method(obj: &Arc<Object>, name: &str, args: Args, ctx: &mut Ctx<'_>) -> Result<Flow, Exception> {
    match (&**obj, name) {
        (Object::Poller(p), _) => p.call(&Value::Object(obj.clone()), name, args),
        (Object::Slice(parts), "indices") => {
            let [len] = args.bind(["len"], 1)?;
            value(slice_indices(parts, &len.unwrap_or(Value::None))?)
        }
        (Object::Hash(h), _) => super::hashlib::method(h, name, args),
        (Object::Struct(f, _), "pack") => {
            let (items, _) = args.varargs(&[])?;
            value(Value::bytes(f.pack(&items)?))
        }
        (Object::Struct(f, _), "unpack") => {
            let [buffer] = args.bind(["buffer"], 1)?;
            value(structfmt::unpack(f, &to_bytes(&buffer.unwrap_or(Value::None))?)?)
        }
        (Object::Struct(f, _), "unpack_from") => {
            let [buffer, offset] = args.bind(["buffer", "offset"], 1)?;
            let offset = offset.map_or(Ok(0), |o| to_int(&o))?;
            value(structfmt::unpack_from(f, &to_bytes(&buffer.unwrap_or(Value::None))?, offset)?)
        }
        (Object::Stream(_), "write") => {
            let [text] = args.bind(["s"], 1)?;
            match text.unwrap_or(Value::None) {
                Value::Str(s) => {
                    ctx.output.push_str(&s);
                    value(Value::Int(s.chars().count() as i64))
                }
                other => Err(Exception::type_error(format!(
                    "write() argument must be str, not {}",
                    other.type_name()
                ))),
            }
        }
        (Object::Stream(_), "flush") => {
            args.bind([], 0)?;
            value(Value::None)
        }
        _ => Err(Exception::new(
            ExcClass::AttributeError,
            format!("'{}' object has no attribute '{name}'", obj.type_name()),
        )),
    }
}

/// `SystemExit(code)`: the code is kept as its text (None as empty) and read
/// back by `e.code` (see [`exit_code`]).
pub fn system_exit(code: Value) -> Exception {
    let text = match &code {
        Value::None => String::new(),
        Value::Str(s) => format!("'{s}"),
        other => other.to_str(),
    };
    Exception::new(ExcClass::SystemExit, text)
}

/// `e.code` of a SystemExit.
pub fn exit_code(e: &Exception) -> Value {
    let m = e.message.as_str();
    if m.is_empty() {
        Value::None
    } else if let Some(s) = m.strip_prefix('\'') {
        Value::str(s)
    } else {
        m.parse().map_or_else(|_| Value::str(m), Value::Int)
    }
}

/// CPython's `randrange` over `_randbelow`, with its messages.
fn randrange(rng: &mut Mt, start: i64, stop: Option<i64>, step: i64) -> Result<i64, Exception> {
    let Some(stop) = stop else {
        if start > 0 {
            return Ok(rng.below(start as u64) as i64);
        }
        return Err(Exception::value_error("empty range for randrange()"));
    };
    let width = i128::from(stop) - i128::from(start);
    if step == 1 {
        if width > 0 {
            return Ok((i128::from(start) + i128::from(rng.below(width as u64))) as i64);
        }
        return Err(Exception::value_error(format!(
            "empty range for randrange() ({start}, {stop}, {width})"
        )));
    }
    let step = i128::from(step);
    let n = if step > 0 {
        (width + step - 1).div_euclid(step)
    } else if step < 0 {
        (width + step + 1).div_euclid(step)
    } else {
        return Err(Exception::value_error("zero step for randrange()"));
    };
    if n <= 0 {
        return Err(Exception::value_error("empty range for randrange()"));
    }
    Ok((i128::from(start) + step * i128::from(rng.below(n as u64))) as i64)
}

/// CRC-32 (IEEE 802.3, reflected), continuing from `start` as `binascii.crc32` does.
fn crc32(data: &[u8], start: u32) -> u32 {
    let mut crc = !start;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_like_cpython() {
        // binascii.crc32(b"hello") == 907060870; crc32(b" world", that) == 222957957
        assert_eq!(crc32(b"hello", 0), 907_060_870);
        assert_eq!(crc32(b" world", 907_060_870), 222_957_957);
    }
}
