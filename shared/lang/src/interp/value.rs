//! Script values and their Python behaviour: `repr`, `str`, truthiness, equality
//! and ordering, type names for error messages.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::class::{Class, Instance, Special, Wrapped};
pub use super::deep::{Items, Pairs};
use super::exception::Exception;
use super::icmp::IcmpPacket;
use super::repr::{bytes_repr, float_repr, str_repr};
use socklab_wire::consts;
use crate::names::{Builtin, Module};
use socklab_wire::protocol::{SockId, SockInfo};

/// A Python list: shared and mutable, like Python's (two names can hold the same list).
pub type List = Arc<Mutex<Items>>;

/// A Python dict: key/value pairs in insertion order, shared like a list.
pub type Dict = Arc<Mutex<Pairs>>;

/// A variable captured by a closure: the defining frame and the closure share it,
/// so each sees the other's rebinding. None while unbound.
pub type Cell = Arc<Mutex<Option<Value>>>;

/// A module's global variables: a lane's top level and every function it
/// defines share one, and so do the threads of a program.
pub type Namespace = Arc<Mutex<std::collections::HashMap<String, Value>>>;

/// One script value. Cheap to clone: big payloads sit behind `Arc`.
#[derive(Debug, Clone)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An int outside i64 (never one that fits: see `bigint::norm`).
    BigInt(Arc<num_bigint::BigInt>),
    Float(f64),
    Str(Arc<str>),
    Bytes(Arc<[u8]>),
    Tuple(Arc<Items>),
    List(List),
    Range {
        start: i64,
        stop: i64,
        step: i64,
    },
    /// A range past 64 bits (see `bigint::BigRange`).
    BigRange(Arc<super::bigint::BigRange>),
    Socket(Arc<SocketObj>),
    Exception(Arc<Exception>),
    Icmp(Arc<IcmpPacket>),
    Builtin(Builtin),
    Module(Module),
    /// A method bound to its receiver, e.g. `sock.send` before it is called.
    Method(Arc<(Value, &'static str)>),
    /// A `for` loop's iterator; lives only on the interpreter's stack.
    Iter(Box<IterState>),
    Dict(Dict),
    /// A set: its distinct items, in insertion order.
    Set(List),
    /// A frozenset: a set no method changes (hashable).
    FrozenSet(List),
    /// A script function (`def` or `lambda`) with its defaults and closure.
    Function(Arc<Function>),
    /// An exception class used as a value: `raise RuntimeError("...")`.
    ExcClass(crate::names::ExcClass),
    /// A class made by a `class` statement, and its instances.
    Class(Arc<Class>),
    Instance(Arc<Instance>),
    /// A script function bound to its receiver (an instance, or a class for a classmethod).
    BoundMethod(Arc<(Value, Value)>),
    /// `super`, `object`, `staticmethod`, `classmethod`, `property`.
    Special(Special),
    /// What `@staticmethod`, `@classmethod` and `@property` make of a function.
    Wrapped(Arc<Wrapped>),
    /// `super()`: the class whose method asked, and the receiver.
    Super(Arc<(Arc<Class>, Value)>),
    /// A library module's function: `struct.pack`, `random.randint`, …
    LibFn(crate::names::LibFn),
    /// A library object: a `struct.Struct`, `sys.stdout`, …
    Object(Arc<super::library::Object>),
    /// A bytearray: mutable bytes, shared like a list.
    ByteArray(Arc<Mutex<Vec<u8>>>),
    /// A class that is neither a builtin function nor an exception class, as
    /// `type()` returns it: `type(sock)`, `type(None)`. Holds its name.
    Type(&'static str),
    /// A member of `socket.AddressFamily` or `socket.SocketKind`: an int with a name.
    IntEnum(super::sockapi::IntEnum),
    /// A file object over a socket (`sock.makefile()`).
    File(Arc<super::sockfile::SockFile>),
    /// `memoryview(b)`: a window on a bytearray's (or bytes') bytes.
    MemoryView(Arc<super::memview::MemView>),
    /// A generator object (a call of a `def` with `yield`), or what `iter()` makes.
    Generator(Arc<super::generator::Generator>),
}

/// A function value: its code, the defaults evaluated by `def`, and the cells it closes over.
#[derive(Debug)]
pub struct Function {
    pub code: Arc<super::compile::FuncCode>,
    /// Defaults of the last positional parameters.
    pub defaults: Vec<Value>,
    /// One entry per keyword-only parameter.
    pub kwdefaults: Vec<Option<Value>>,
    pub closure: Vec<(String, Cell)>,
    /// The globals of the module that defined it.
    pub globals: Namespace,
    /// The library module that defined it (its frames are library code).
    pub library: Option<crate::names::Module>,
    /// The class whose body defined it (for `super()`), set when the class is built.
    pub owner: super::class::Owner,
}

impl Drop for Function {
    /// Functions made in a loop, each closing over the one before, free
    /// without recursing.
    fn drop(&mut self) {
        let mut held = std::mem::take(&mut self.defaults);
        held.extend(std::mem::take(&mut self.kwdefaults).into_iter().flatten());
        for (_, cell) in &mut self.closure {
            if let Some(cell) = Arc::get_mut(cell) {
                held.extend(cell.get_mut().unwrap_or_else(|e| e.into_inner()).take());
            }
        }
        super::deep::free(held);
    }
}

/// A socket object: what the relay said it is, and whether `close()` was called
/// on it (Python's `close()` of a closed socket does nothing).
#[derive(Debug)]
pub struct SocketObj {
    pub info: SockInfo,
    closed: AtomicBool,
    /// What `gettimeout()` answers: `None` blocking, `Some(0.0)` non-blocking.
    timeout: Mutex<Option<f64>>,
}

impl SocketObj {
    pub fn new(info: SockInfo) -> SocketObj {
        SocketObj {
            info,
            closed: AtomicBool::new(false),
            timeout: Mutex::new(None),
        }
    }

    pub fn timeout(&self) -> Option<f64> {
        *lock(&self.timeout)
    }

    /// Recorded once the relay has accepted a `settimeout`/`setblocking`.
    pub fn set_timeout(&self, seconds: Option<f64>) {
        *lock(&self.timeout) = seconds;
    }

    pub fn id(&self) -> SockId {
        self.info.sock
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(AtomicOrdering::Relaxed)
    }

    pub fn mark_closed(&self) {
        self.closed.store(true, AtomicOrdering::Relaxed);
    }
}

/// Where a `for` loop is in its sequence.
#[derive(Debug, Clone)]
pub enum IterState {
    Range { next: i64, stop: i64, step: i64 },
    BigRange { next: num_bigint::BigInt, stop: num_bigint::BigInt, step: num_bigint::BigInt },
    Items { items: Vec<Value>, next: usize },
    /// Lines of a socket file: the VM reads them, with `recv` calls as needed.
    File(Arc<super::sockfile::SockFile>),
    /// `enumerate(file)`: its lines numbered from `next`.
    FileEnum { file: Arc<super::sockfile::SockFile>, next: i64 },
    /// `enumerate(generator)`: the VM resumes the generator; `next` is the count.
    Gen { genr: Arc<super::generator::Generator>, next: i64 },
    /// An instance whose class defines `__getitem__` but not `__iter__`:
    /// the VM calls `obj[next]` until IndexError.
    Seq { obj: Value, next: i64 },
}

impl IterState {
    pub fn next_value(&mut self) -> Option<Value> {
        match self {
            IterState::Range { next, stop, step } => {
                let more = if *step > 0 {
                    *next < *stop
                } else {
                    *next > *stop
                };
                if !more {
                    return None;
                }
                let v = *next;
                *next = next.saturating_add(*step);
                Some(Value::Int(v))
            }
            IterState::BigRange { next, stop, step } => {
                let more = if step.sign() == num_bigint::Sign::Minus { *next > *stop } else { *next < *stop };
                if !more {
                    return None;
                }
                let v = super::bigint::norm(next.clone());
                *next += &*step;
                Some(v)
            }
            IterState::File(_) | IterState::FileEnum { .. } | IterState::Gen { .. } | IterState::Seq { .. } => None,
            IterState::Items { items, next } => {
                let v = items.get(*next).cloned();
                *next += 1;
                v
            }
        }
    }
}

/// Locks a list; a poisoned lock (impossible: nothing panics while holding one) is still usable.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Value {
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::Str(Arc::from(s.as_ref()))
    }

    pub fn bytes(b: impl AsRef<[u8]>) -> Value {
        Value::Bytes(Arc::from(b.as_ref()))
    }

    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Arc::new(Items(items)))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(Mutex::new(Items(items))))
    }

    /// Python's type name, as used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Range { .. } | Value::BigRange(_) => "range",
            Value::Socket(_) => "socket",
            Value::Exception(e) => e.class.name(),
            Value::Icmp(_) => "ICMP",
            Value::Builtin(_) => "builtin_function_or_method",
            Value::Module(_) => "module",
            Value::Method(_) => "builtin_function_or_method",
            Value::Iter(_) => "iterator",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Function(_) => "function",
            Value::Class(_) => "type",
            Value::Instance(i) => i.class.name,
            Value::BoundMethod(_) => "method",
            Value::Special(super::class::Special::NotImplemented) => "NotImplementedType",
            Value::Special(_) => "type",
            Value::Wrapped(w) => match &**w {
                Wrapped::Static(_) => "staticmethod",
                Wrapped::ClassMethod(_) => "classmethod",
                Wrapped::Property { .. } => "property",
            },
            Value::Super(_) => "super",
            Value::ExcClass(_) | Value::Type(_) => "type",
            Value::LibFn(_) => "builtin_function_or_method",
            Value::ByteArray(_) => "bytearray",
            Value::Object(o) => o.type_name(),
            Value::IntEnum(e) => e.class.name(),
            Value::File(f) => f.type_name(),
            Value::Generator(g) => g.type_name,
            Value::MemoryView(_) => "memoryview",
        }
    }

    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::BigInt(_) => true,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::List(l) => !lock(l).is_empty(),
            Value::Dict(d) => !lock(d).is_empty(),
            Value::Set(s) | Value::FrozenSet(s) => !lock(s).is_empty(),
            Value::ByteArray(b) => !lock(b).is_empty(),
            Value::Range { start, stop, step } => range_len(*start, *stop, *step) > 0,
            Value::BigRange(r) => r.start != r.stop && (r.start < r.stop) == (r.step.sign() == num_bigint::Sign::Plus),
            _ => true,
        }
    }

    /// Python `repr()`.
    pub fn repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out, 0, super::ops::MAX_SIZE);
        out
    }

    /// `repr()` cut after about `max` bytes, ending `...`: what a step's
    /// result shows (the transcript and the page need no more).
    pub fn repr_brief(&self, max: usize) -> String {
        let mut out = String::new();
        self.write_repr(&mut out, 0, max);
        if out.len() > max {
            let mut cut = max;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push_str("...");
        }
        out
    }

    /// Python `str()`.
    pub fn to_str(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            Value::Exception(e) => e.to_string(),
            Value::Instance(i) => i.to_str(),
            // Python 3.11's IntEnum prints as its int.
            Value::IntEnum(e) => e.value.to_string(),
            other => other.repr(),
        }
    }

    /// `depth` bounds recursion into nested containers (Python raises
    /// RecursionError; a transcript is better served by `...`).
    /// Past `cap` bytes of output the rest is `...` too (a list holding
    /// itself twice per level doubles at every level).
    fn write_repr(&self, out: &mut String, depth: usize, cap: usize) {
        if depth > MAX_REPR_DEPTH || out.len() > cap {
            out.push_str("...");
            return;
        }
        match self {
            Value::None => out.push_str("None"),
            Value::Bool(true) => out.push_str("True"),
            Value::Bool(false) => out.push_str("False"),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::BigInt(b) => out.push_str(&super::bigint::repr(b)),
            Value::Float(f) => out.push_str(&float_repr(*f)),
            Value::Str(s) => out.push_str(&str_repr(s)),
            Value::Bytes(b) => out.push_str(&bytes_repr(b)),
            Value::Tuple(items) => {
                out.push('(');
                write_items(items, out, depth, cap);
                if items.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            Value::List(list) => match list.try_lock() {
                // A list that contains itself prints as `[...]`, as in Python.
                Ok(items) => {
                    out.push('[');
                    write_items(&items, out, depth, cap);
                    out.push(']');
                }
                Err(_) => out.push_str("[...]"),
            },
            Value::Range { start, stop, step } => {
                let _ = if *step == 1 {
                    write!(out, "range({start}, {stop})")
                } else {
                    write!(out, "range({start}, {stop}, {step})")
                };
            }
            Value::BigRange(r) => out.push_str(&r.repr()),
            Value::Socket(s) => out.push_str(&socket_repr(s)),
            Value::IntEnum(e) => out.push_str(&e.repr()),
            Value::File(f) => out.push_str(&f.repr()),
            Value::Exception(e) => out.push_str(&e.repr()),
            Value::Icmp(p) => out.push_str(&p.repr()),
            Value::Builtin(b) if super::library::is_type(*b) => {
                let _ = write!(out, "<class '{}'>", b.name());
            }
            Value::Builtin(b) => {
                let _ = write!(out, "<built-in function {}>", b.name());
            }
            Value::Module(m) => {
                let _ = write!(out, "<module '{}'>", m.name());
            }
            Value::Method(m) => {
                let _ = write!(
                    out,
                    "<built-in method {} of {} object>",
                    m.1,
                    m.0.type_name()
                );
            }
            Value::Iter(_) => out.push_str("<iterator>"),
            Value::Dict(d) => match d.try_lock() {
                Ok(items) => {
                    out.push('{');
                    for (i, (k, v)) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        k.write_repr(out, depth + 1, cap);
                        out.push_str(": ");
                        v.write_repr(out, depth + 1, cap);
                    }
                    out.push('}');
                }
                Err(_) => out.push_str("{...}"),
            },
            Value::Set(s) => match s.try_lock() {
                Ok(items) if items.is_empty() => out.push_str("set()"),
                Ok(items) => {
                    out.push('{');
                    write_items(&items, out, depth, cap);
                    out.push('}');
                }
                Err(_) => out.push_str("set(...)"),
            },
            Value::FrozenSet(s) => {
                out.push_str("frozenset(");
                if !lock(s).is_empty() {
                    Value::Set(s.clone()).write_repr(out, depth, cap);
                }
                out.push(')');
            }
            // CPython adds " at 0x…": an address means nothing here.
            Value::Function(f) => {
                let _ = write!(out, "<function {}>", f.code.qualname);
            }
            Value::Generator(g) => out.push_str(&g.repr()),
            // CPython adds " at 0x…".
            Value::MemoryView(_) => out.push_str("<memory>"),
            Value::ExcClass(c) => {
                let _ = write!(out, "<class '{}'>", c.name());
            }
            Value::Class(c) => {
                let module = match lock(&c.attrs).get("__module__") {
                    Some(Value::Str(m)) => m.to_string(),
                    _ => "__main__".to_string(),
                };
                let _ = write!(out, "<class '{module}.{}'>", c.name);
            }
            Value::Instance(i) => out.push_str(&i.repr()),
            Value::BoundMethod(m) => {
                let name = match &m.1 {
                    Value::Function(f) => f.code.qualname.clone(),
                    other => other.repr(),
                };
                let _ = write!(out, "<bound method {name} of ");
                m.0.write_repr(out, depth + 1, cap);
                out.push('>');
            }
            Value::Special(super::class::Special::NotImplemented) => out.push_str("NotImplemented"),
            Value::Special(s) => {
                let _ = write!(out, "<class '{}'>", s.name());
            }
            Value::Wrapped(w) => {
                let _ = write!(out, "<{} object>", self.type_name());
                let _ = w;
            }
            Value::Super(s) => {
                let _ = write!(out, "<super: <class '{}'>, <{} object>>", s.0.name, s.1.type_name());
            }
            Value::LibFn(f) => {
                let _ = write!(out, "<built-in function {}>", f.short_name());
            }
            Value::Object(o) => out.push_str(&o.repr()),
            Value::ByteArray(b) => {
                let _ = write!(out, "bytearray({})", bytes_repr(&lock(b)));
            }
            Value::Type(name) => {
                let _ = write!(out, "<class '{name}'>");
            }
        }
    }

    /// The socket, if this is one.
    pub fn as_socket(&self) -> Option<&Arc<SocketObj>> {
        match self {
            Value::Socket(s) => Some(s),
            _ => None,
        }
    }
}

/// How deeply `repr` descends into nested containers.
const MAX_REPR_DEPTH: usize = 100;

fn write_items(items: &[Value], out: &mut String, depth: usize, cap: usize) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item.write_repr(out, depth + 1, cap);
    }
}

pub fn range_len(start: i64, stop: i64, step: i64) -> i64 {
    let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
    let n = if step > 0 && start < stop {
        (stop - start + step - 1) / step
    } else if step < 0 && start > stop {
        (start - stop - step - 1) / (-step)
    } else {
        0
    };
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn socket_repr(s: &SocketObj) -> String {
    let family = consts::family_name(i64::from(s.info.family))
        .map_or_else(|| s.info.family.to_string(), str::to_string);
    let ty = consts::type_name(i64::from(s.info.sock_type))
        .map_or_else(|| s.info.sock_type.to_string(), str::to_string);
    if s.is_closed() {
        format!(
            "<socket [closed] fd=-1, family={family}, type={ty}, proto={}>",
            s.info.proto
        )
    } else {
        format!(
            "<socket fd={}, family={family}, type={ty}, proto={}>",
            s.info.fd, s.info.proto
        )
    }
}

/// A number as f64 if the value is one (bool and int included).
pub fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Int(i) => Some(*i as f64),
        Value::IntEnum(e) => Some(e.value as f64),
        // Lossy (inf past f64); arithmetic and comparisons treat big ints first.
        Value::BigInt(b) => Some(num_traits::ToPrimitive::to_f64(&**b).unwrap_or(f64::NAN)),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// An int if the value is an int or bool.
pub fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Int(i) => Some(*i),
        Value::IntEnum(e) => Some(e.value),
        _ => None,
    }
}

/// One more level of a walk into `v` if it holds other values; None past
/// the nesting limit (the VM then raises `RecursionError`).
fn nest(v: &Value, during: &'static str) -> Option<Option<super::deep::Guard>> {
    match v {
        Value::Tuple(_) | Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::FrozenSet(_) | Value::BoundMethod(_) => {
            super::deep::Guard::enter(during).map(Some)
        }
        _ => Some(None),
    }
}

/// Python `==`.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    let Some(_level) = nest(a, "in comparison") else { return false };
    if let Some((x, y)) = byte_pair(a, b) {
        return x == y;
    }
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::Tuple(x), Value::Tuple(y)) => seq_eq(x, y),
        (Value::List(x), Value::List(y)) => {
            if Arc::ptr_eq(x, y) {
                return true;
            }
            let (xs, ys) = (lock(x).clone(), lock(y).clone());
            seq_eq(&xs, &ys)
        }
        (Value::Range { .. }, Value::Range { .. }) => {
            let (
                Value::Range {
                    start: a0,
                    stop: a1,
                    step: a2,
                },
                Value::Range {
                    start: b0,
                    stop: b1,
                    step: b2,
                },
            ) = (a, b)
            else {
                return false;
            };
            let (la, lb) = (range_len(*a0, *a1, *a2), range_len(*b0, *b1, *b2));
            la == lb && (la == 0 || (a0 == b0 && (la == 1 || a2 == b2)))
        }
        (Value::BigRange(x), Value::BigRange(y)) => x.same(y),
        (Value::BigRange(x), Value::Range { start, stop, step }) | (Value::Range { start, stop, step }, Value::BigRange(x)) => {
            x.same(&super::bigint::BigRange::of(*start, *stop, *step))
        }
        (Value::Socket(x), Value::Socket(y)) => x.id() == y.id(),
        (Value::Exception(x), Value::Exception(y)) => Arc::ptr_eq(x, y),
        (Value::Icmp(x), Value::Icmp(y)) => x == y,
        (Value::Builtin(x), Value::Builtin(y)) => x == y,
        (Value::Module(x), Value::Module(y)) => x == y,
        (Value::Function(x), Value::Function(y)) => Arc::ptr_eq(x, y),
        (Value::Generator(x), Value::Generator(y)) => Arc::ptr_eq(x, y),
        (Value::File(x), Value::File(y)) => Arc::ptr_eq(x, y),
        (Value::ExcClass(x), Value::ExcClass(y)) => x == y,
        (Value::Class(x), Value::Class(y)) => Arc::ptr_eq(x, y),
        // An instance's `__eq__`, as containers compare (identity first).
        (Value::Instance(_), _) | (_, Value::Instance(_)) => super::dunder::eq(a, b),
        (Value::Special(x), Value::Special(y)) => x == y,
        (Value::BoundMethod(x), Value::BoundMethod(y)) => py_is(&x.0, &y.0) && py_eq(&x.1, &y.1),
        (Value::LibFn(x), Value::LibFn(y)) => x == y,
        (Value::Type(x), Value::Type(y)) => x == y,
        (Value::Object(x), Value::Object(y)) => match (super::library::slice_parts(a), super::library::slice_parts(b)) {
            (Some(s), Some(t)) => seq_eq(s, t),
            _ => Arc::ptr_eq(x, y),
        },
        (Value::Set(x) | Value::FrozenSet(x), Value::Set(y) | Value::FrozenSet(y)) => {
            if Arc::ptr_eq(x, y) {
                return true;
            }
            let (xs, ys) = (lock(x).clone(), lock(y).clone());
            xs.len() == ys.len() && xs.iter().all(|a| super::dunder::key_position(ys.iter(), a).is_some())
        }
        (Value::Dict(x), Value::Dict(y)) => {
            if Arc::ptr_eq(x, y) {
                return true;
            }
            let (xs, ys) = (lock(x).clone(), lock(y).clone());
            xs.len() == ys.len()
                && xs.iter().all(|(k, v)| {
                    super::dunder::key_position(ys.iter().map(|(k2, _)| k2), k).is_some_and(|i| py_eq(v, &ys[i].1))
                })
        }
        (Value::BigInt(_), _) | (_, Value::BigInt(_)) => super::bigint::cmp(a, b).is_some_and(|o| o.is_eq()),
        (Value::Int(i), Value::Float(f)) | (Value::Float(f), Value::Int(i)) if i.unsigned_abs() > 1 << 53 => {
            super::bigint::cmp_float(&(*i).into(), *f).is_some_and(|o| o.is_eq())
        }
        _ => match (as_int(a), as_int(b)) {
            (Some(x), Some(y)) => x == y,
            _ => match (as_number(a), as_number(b)) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        },
    }
}

/// Both operands' bytes when one is a bytearray and the other bytes-like
/// (bytes and bytearray compare by content, as in Python).
fn byte_pair(a: &Value, b: &Value) -> Option<(Vec<u8>, Vec<u8>)> {
    let mutable = |v: &Value| matches!(v, Value::ByteArray(_) | Value::MemoryView(_));
    if !mutable(a) && !mutable(b) {
        return None;
    }
    let raw = |v: &Value| match v {
        Value::Bytes(x) => Some(x.to_vec()),
        Value::ByteArray(x) => Some(lock(x).clone()),
        Value::MemoryView(m) => m.tobytes().ok(),
        _ => None,
    };
    Some((raw(a)?, raw(b)?))
}

fn seq_eq(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| py_eq(x, y))
}

/// Python `is`, approximated for values this interpreter does not box.
pub fn py_is(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) => Arc::ptr_eq(x, y),
        (Value::Tuple(x), Value::Tuple(y)) => Arc::ptr_eq(x, y) || (x.is_empty() && y.is_empty()),
        (Value::Exception(x), Value::Exception(y)) => Arc::ptr_eq(x, y),
        (Value::Icmp(x), Value::Icmp(y)) => Arc::ptr_eq(x, y),
        (Value::Class(x), Value::Class(y)) => Arc::ptr_eq(x, y),
        (Value::Instance(x), Value::Instance(y)) => Arc::ptr_eq(x, y),
        (Value::Function(x), Value::Function(y)) => Arc::ptr_eq(x, y),
        (Value::Generator(x), Value::Generator(y)) => Arc::ptr_eq(x, y),
        (Value::Special(x), Value::Special(y)) => x == y,
        (Value::ExcClass(x), Value::ExcClass(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::None, Value::None) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::BigInt(x), Value::BigInt(y)) => Arc::ptr_eq(x, y),
        (Value::Str(_), Value::Str(_))
        | (Value::Bytes(_), Value::Bytes(_))
        | (Value::Socket(_), Value::Socket(_))
        | (Value::Builtin(_), Value::Builtin(_))
        | (Value::Module(_), Value::Module(_))
        | (Value::LibFn(_), Value::LibFn(_))
        | (Value::Type(_), Value::Type(_))
        | (Value::Object(_), Value::Object(_)) => py_eq(a, b),
        _ => false,
    }
}

/// Python ordering (`<`): `None` when the types cannot be ordered.
pub fn py_cmp(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    let Some(_level) = nest(a, "in comparison") else { return Some(std::cmp::Ordering::Equal) };
    if let Some((x, y)) = byte_pair(a, b) {
        return Some(x.cmp(&y));
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bytes(x), Value::Bytes(y)) => Some(x.cmp(y)),
        (Value::Tuple(x), Value::Tuple(y)) => seq_cmp(x, y),
        (Value::List(x), Value::List(y)) => {
            let (xs, ys) = (lock(x).clone(), lock(y).clone());
            seq_cmp(&xs, &ys)
        }
        (Value::BigInt(_), _) | (_, Value::BigInt(_)) => super::bigint::cmp(a, b),
        // An int past 2**53 does not round-trip through a float: compare exactly.
        (Value::Int(i), Value::Float(f)) if i.unsigned_abs() > 1 << 53 => super::bigint::cmp_float(&(*i).into(), *f),
        (Value::Float(f), Value::Int(i)) if i.unsigned_abs() > 1 << 53 => {
            super::bigint::cmp_float(&(*i).into(), *f).map(std::cmp::Ordering::reverse)
        }
        _ => match (as_int(a), as_int(b)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => match (as_number(a), as_number(b)) {
                // NaN compares false every way; callers treat two numbers with no order that way.
                (Some(x), Some(y)) => x.partial_cmp(&y),
                _ => None,
            },
        },
    }
}

fn seq_cmp(a: &[Value], b: &[Value]) -> Option<std::cmp::Ordering> {
    for (x, y) in a.iter().zip(b) {
        if !py_eq(x, y) {
            return py_cmp(x, y);
        }
    }
    Some(a.len().cmp(&b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_reprs_match_python() {
        let cases = [
            (0.5, "0.5"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345.6, "123456789012345.6"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (1.0 / 3.0, "0.3333333333333333"),
        ];
        for (f, s) in cases {
            assert_eq!(float_repr(f), s);
        }
    }

    #[test]
    fn str_and_bytes_reprs_match_python() {
        assert_eq!(str_repr("it's"), "\"it's\"");
        assert_eq!(str_repr("a\nb\x00"), "'a\\nb\\x00'");
        assert_eq!(str_repr("é"), "'é'");
        assert_eq!(bytes_repr(b"hello\r\n"), "b'hello\\r\\n'");
        assert_eq!(bytes_repr(b"\x00\xff'"), "b\"\\x00\\xff'\"");
        assert_eq!(Value::tuple(vec![Value::Int(1)]).repr(), "(1,)");
        assert_eq!(Value::tuple(vec![]).repr(), "()");
    }

    #[test]
    fn self_containing_list_prints_like_python() {
        let l = Value::list(vec![Value::Int(1)]);
        if let Value::List(inner) = &l {
            lock(inner).push(l.clone());
        }
        assert_eq!(l.repr(), "[1, [...]]");
    }
}
