//! What native code needs from script methods: an instance's `__eq__` (dict
//! and set lookups, `in`, `list.index`, `==` of containers), `__hash__`
//! (`hash()`, dict keys), `__format__` (`str.format`) and `__repr__` (a
//! `KeyError`'s message).
//!
//! Native code cannot run a method (calls are VM frames), so it asks here:
//! an answer the VM already has is given; a missing one is recorded as the
//! op's need and a provisional answer given. The VM then drops the op's
//! outcome, calls the method, keeps its answer for the frame, and runs the op
//! again (see `LaneVm::ask`). Native code that changes a container checks
//! [`pending`] first, so a provisional answer never changes anything.
//!
//! `hash()` follows CPython for ints, floats, bools, tuples and frozensets; str and bytes
//! hash by their content (equal values, equal hashes; CPython's differ from
//! run to run).

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::exception::Exception;
use super::value::{Value, py_eq, py_is};

/// A method call native code waits for.
#[derive(Debug, Clone)]
pub enum Need {
    /// `a == b` (`a`'s `__eq__`, else `b`'s reflected one).
    Eq(Value, Value),
    /// An instance's `__hash__`.
    Hash(Value),
    /// An instance's `__format__` with this spec.
    Format(Value, String),
    /// An instance's `__repr__`, kept on the instance like `LaneVm::fill`'s
    /// (for the message of a `KeyError`).
    Repr(Value),
}

/// The answers a frame got for the op it is running. `__eq__` answers are
/// given in the order they were asked (the op asks again in the same order),
/// so an item met twice is compared twice, as in CPython.
#[derive(Debug, Default)]
pub struct Answers {
    eq: Vec<(Value, Value, bool)>,
    hash: Vec<(Value, i64)>,
    format: Vec<(Value, String, String)>,
}

impl Answers {
    pub fn is_empty(&self) -> bool {
        self.eq.is_empty() && self.hash.is_empty() && self.format.is_empty()
    }

    pub fn clear(&mut self) {
        *self = Answers::default();
    }

    pub fn eq(&mut self, a: Value, b: Value, answer: bool) {
        self.eq.push((a, b, answer));
    }

    pub fn hash(&mut self, v: Value, answer: i64) {
        self.hash.push((v, answer));
    }

    pub fn format(&mut self, v: Value, spec: String, answer: String) {
        self.format.push((v, spec, answer));
    }
}

#[derive(Default)]
struct Asked {
    /// Set while the VM runs an op that may ask.
    on: bool,
    answers: Answers,
    /// The `__eq__` answers given so far during this run of the op.
    eqs: usize,
    need: Option<Need>,
}

thread_local! {
    static ASKED: RefCell<Asked> = RefCell::new(Asked::default());
}

/// Set once a script class defines `__eq__`, `__hash__` or `__format__`:
/// before that no op can need a method, and the VM skips the bookkeeping.
static ARMED: AtomicBool = AtomicBool::new(false);

pub fn arm() {
    ARMED.store(true, Ordering::Relaxed);
}

pub fn armed() -> bool {
    ARMED.load(Ordering::Relaxed)
}

/// Gives native code the frame's answers for the op about to run.
pub fn install(answers: Answers) {
    ASKED.with(|a| {
        let mut a = a.borrow_mut();
        a.on = true;
        a.answers = answers;
        a.eqs = 0;
        a.need = None;
    });
}

/// The op ran: its answers back, and what it still needs.
pub fn uninstall() -> (Answers, Option<Need>) {
    ASKED.with(|a| {
        let mut a = a.borrow_mut();
        a.on = false;
        (std::mem::take(&mut a.answers), a.need.take())
    })
}

/// Whether the op under way waits for a method (its answers so far are provisional).
pub fn pending() -> bool {
    ASKED.with(|a| a.borrow().need.is_some())
}

/// The error native code returns instead of changing a container on a
/// provisional answer; the VM runs the op again, so no script sees it.
pub fn retry() -> Exception {
    Exception::type_error("a script method's answer is needed")
}

/// The recorded answer, or None after recording `need` (the first need only).
fn answer<T>(find: impl FnOnce(&Answers) -> Option<T>, need: impl FnOnce() -> Need) -> Option<T> {
    ASKED.with(|a| {
        let mut a = a.borrow_mut();
        if !a.on {
            return None;
        }
        if let Some(found) = find(&a.answers) {
            return Some(found);
        }
        if a.need.is_none() {
            a.need = Some(need());
        }
        None
    })
}

fn defines(v: &Value, name: &str) -> bool {
    matches!(v, Value::Instance(i) if i.class.method(name).is_some())
}

/// `a == b` where one is an instance, as a container compares (identity
/// first): the answer of its class's `__eq__`, asked for if needed.
pub fn eq(a: &Value, b: &Value) -> bool {
    if py_is(a, b) || !(defines(a, "__eq__") || defines(b, "__eq__")) {
        return py_is(a, b);
    }
    let replayed = ASKED.with(|asked| {
        let mut asked = asked.borrow_mut();
        if !asked.on || asked.need.is_some() {
            // Provisional from here on: the op runs again.
            return Ok(false);
        }
        let n = asked.eqs;
        asked.eqs += 1;
        match asked.answers.eq.get(n) {
            Some((x, y, answer)) if py_is(x, a) && py_is(y, b) => Ok(*answer),
            slot => Err(slot.is_some()),
        }
    });
    let out_of_order = match replayed {
        Ok(answer) => return answer,
        Err(out_of_order) => out_of_order,
    };
    // Out of order (not expected): any answer for the pair.
    let find = |ans: &Answers| {
        let found = ans.eq.iter().find(|(x, y, _)| py_is(x, a) && py_is(y, b)).map(|e| e.2);
        found.filter(|_| out_of_order)
    };
    answer(find, || Need::Eq(a.clone(), b.clone())).unwrap_or(false)
}

/// Where `key` is among a dict's keys or a set's items: identity, then
/// equal hashes and `==`, as CPython probes (hashes only where an instance
/// is involved: other values agree on `==` alone). The key's `__hash__` is
/// asked once; an instance entry goes by the hash it was stored with.
pub fn key_position<'a>(entries: impl IntoIterator<Item = &'a Value>, key: &Value) -> Option<usize> {
    let mut key_hash = None;
    entries.into_iter().position(|entry| {
        if !matches!(entry, Value::Instance(_)) && !matches!(key, Value::Instance(_)) {
            return py_eq(entry, key);
        }
        if py_is(entry, key) {
            return true;
        }
        let held = match entry {
            Value::Instance(i) => super::value::lock(&i.hash).map_or_else(|| hash(entry).ok(), Some),
            _ => hash(entry).ok(),
        };
        match (*key_hash.get_or_insert_with(|| hash(key).ok()), held) {
            (Some(x), Some(y)) if x != y => false,
            _ => py_eq(entry, key),
        }
    })
}

/// `format(v, spec)` of an instance whose class defines `__format__`; None
/// for other values, and while the answer is asked for.
pub fn format(v: &Value, spec: &str) -> Option<String> {
    if !defines(v, "__format__") {
        return None;
    }
    let find = |ans: &Answers| ans.format.iter().find(|(x, s, _)| py_is(x, v) && s == spec).map(|e| e.2.clone());
    answer(find, || Need::Format(v.clone(), spec.to_string()))
}

/// `repr(v)` for an error message: an instance's `__repr__` is asked for first.
pub fn repr(v: &Value) -> String {
    if let Value::Instance(i) = v
        && i.class.method("__repr__").is_some()
        && super::value::lock(&i.repr_cache).is_none()
    {
        answer(|_| None::<()>, || Need::Repr(v.clone()));
    }
    v.repr()
}

/// Hashes are reduced modulo this prime, as in CPython.
const MODULUS: u64 = (1 << 61) - 1;

/// CPython's `-1` is an error marker: a hash of -1 becomes -2.
fn not_minus_one(h: i64) -> i64 {
    if h == -1 { -2 } else { h }
}

pub fn hash_int(i: i64) -> i64 {
    let m = (i.unsigned_abs() % MODULUS) as i64;
    not_minus_one(if i < 0 { -m } else { m })
}

fn hash_big(b: &num_bigint::BigInt) -> i64 {
    let m = num_traits::ToPrimitive::to_i64(&(b.magnitude() % MODULUS)).unwrap_or(0);
    not_minus_one(if b.sign() == num_bigint::Sign::Minus { -m } else { m })
}

/// `f` as `m * 2**e` with `0.5 <= |m| < 1` (C's frexp), for finite `f`.
fn frexp(f: f64) -> (f64, i32) {
    if f == 0.0 || !f.is_finite() {
        return (f, 0);
    }
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale into the normal range first.
        let (m, e) = frexp(f * 2f64.powi(54));
        return (m, e - 54);
    }
    (f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52)), exp - 1022)
}

/// CPython's hash of a float: the hash of the rational it is, so that
/// `hash(2.0) == hash(2)`.
pub fn hash_float(f: f64) -> i64 {
    if f.is_infinite() {
        return if f > 0.0 { 314_159 } else { -314_159 };
    }
    if f.is_nan() {
        return 0;
    }
    let (mut m, mut e) = frexp(f);
    let sign = if m < 0.0 {
        m = -m;
        -1
    } else {
        1
    };
    let mut x: u64 = 0;
    while m != 0.0 {
        x = ((x << 28) & MODULUS) | x >> (61 - 28);
        m *= 268_435_456.0;
        e -= 28;
        let y = m as u64;
        m -= y as f64;
        x += y;
        if x >= MODULUS {
            x -= MODULUS;
        }
    }
    let e = if e >= 0 { e % 61 } else { 61 - 1 - ((-1 - e) % 61) } as u32;
    x = ((x << e) & MODULUS) | x >> (61 - e);
    not_minus_one(x as i64 * sign)
}

/// FNV-1a of the bytes: equal text, equal hash.
fn hash_bytes(b: &[u8]) -> i64 {
    let h = b.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &x| (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3));
    not_minus_one(h as i64)
}

/// CPython's tuple hash (xxHash's mixing of the items' hashes).
fn hash_tuple(items: &[Value]) -> Result<i64, Exception> {
    const PRIME_1: u64 = 11_400_714_785_074_694_791;
    const PRIME_2: u64 = 14_029_467_366_897_019_727;
    const PRIME_5: u64 = 2_870_177_450_012_600_261;
    let Some(_level) = super::deep::Guard::enter("while hashing") else {
        return Ok(0);
    };
    let mut acc = PRIME_5;
    for item in items {
        let lane = hash(item)? as u64;
        acc = acc.wrapping_add(lane.wrapping_mul(PRIME_2));
        acc = acc.rotate_left(31);
        acc = acc.wrapping_mul(PRIME_1);
    }
    acc = acc.wrapping_add(items.len() as u64 ^ (PRIME_5 ^ 3_527_539));
    Ok(if acc == u64::MAX { 1_546_275_796 } else { acc as i64 })
}

/// CPython's frozenset hash: its items' hashes mixed, in any order.
fn hash_frozenset(items: &[Value]) -> Result<i64, Exception> {
    let shuffle = |h: u64| ((h ^ 89_869_747) ^ (h << 16)).wrapping_mul(3_644_798_167);
    let Some(_level) = super::deep::Guard::enter("while hashing") else {
        return Ok(0);
    };
    let mut h = 0u64;
    for item in items {
        h ^= shuffle(hash(item)? as u64);
    }
    h ^= (items.len() as u64 + 1).wrapping_mul(1_927_868_237);
    h ^= (h >> 11) ^ (h >> 25);
    h = h.wrapping_mul(69_069).wrapping_add(907_133_923);
    Ok(if h == u64::MAX { 590_923_713 } else { h as i64 })
}

/// CPython's `TypeError: unhashable type: 'list'`.
pub fn unhashable(name: &str) -> Exception {
    Exception::type_error(format!("unhashable type: '{name}'"))
}

/// `hash(v)`. An instance's `__hash__` answer is asked for (0 until it comes).
pub fn hash(v: &Value) -> Result<i64, Exception> {
    Ok(match v {
        // CPython 3.11 hashes None by its address: any constant will do.
        Value::None => 0x0fca_8642,
        Value::Bool(b) => i64::from(*b),
        Value::Int(i) => hash_int(*i),
        Value::IntEnum(e) => hash_int(e.value),
        Value::BigInt(b) => hash_big(b),
        Value::Float(f) => hash_float(*f),
        Value::Str(s) => hash_bytes(s.as_bytes()),
        Value::Bytes(b) => hash_bytes(b),
        Value::Tuple(items) => hash_tuple(items)?,
        Value::FrozenSet(items) => hash_frozenset(&super::value::lock(items))?,
        Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::ByteArray(_) | Value::MemoryView(_) => {
            return Err(unhashable(v.type_name()));
        }
        Value::Object(_) if super::library::slice_parts(v).is_some() => return Err(unhashable("slice")),
        Value::Instance(i) if i.class.unhashable() => return Err(unhashable(i.class.name)),
        Value::Instance(_) if defines(v, "__hash__") => {
            let find = |ans: &Answers| ans.hash.iter().find(|(x, _)| py_is(x, v)).map(|e| e.1);
            answer(find, || Need::Hash(v.clone())).unwrap_or(0)
        }
        // CPython hashes these by identity (ranges and slices by value: rare as keys).
        other => id(other) >> 4,
    })
}

/// What `__hash__` returned, as CPython takes it: an int (one past 64 bits
/// is hashed), -1 made -2.
pub fn hash_result(v: &Value) -> Result<i64, Exception> {
    match v {
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Int(i) => Ok(not_minus_one(*i)),
        Value::BigInt(b) => Ok(hash_big(b)),
        _ => Err(Exception::type_error("__hash__ method should return an integer")),
    }
}

/// `id(v)`: the address of what a boxed value points to; for the others
/// (ints, None, builtins) a number made from the value, so that equal
/// values (which `is` finds identical) have one id.
pub fn id(v: &Value) -> i64 {
    fn at<T: ?Sized>(p: &Arc<T>) -> i64 {
        Arc::as_ptr(p).cast::<()>() as usize as i64
    }
    match v {
        Value::List(x) | Value::Set(x) | Value::FrozenSet(x) => at(x),
        Value::Dict(x) => at(x),
        // Every empty tuple is the same object (`() is ()`).
        Value::Tuple(x) if !x.is_empty() => at(x),
        Value::Instance(x) => at(x),
        Value::Class(x) => at(x),
        Value::Function(x) => at(x),
        Value::Generator(x) => at(x),
        Value::Exception(x) => at(x),
        Value::Object(x) => at(x),
        Value::File(x) => at(x),
        Value::ByteArray(x) => at(x),
        Value::MemoryView(x) => at(x),
        Value::BigInt(x) => at(x),
        Value::BoundMethod(x) => at(x),
        Value::Method(x) => at(x),
        Value::Wrapped(x) => at(x),
        Value::Icmp(x) => at(x),
        Value::Socket(s) => 0x7f00_0000_0000 + i64::from(s.info.fd) * 64,
        other => {
            let tag = hash_bytes(other.type_name().as_bytes());
            let own = match other {
                Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::IntEnum(_) => hash(other).unwrap_or(0),
                Value::Str(s) => hash_bytes(s.as_bytes()),
                Value::Bytes(b) => hash_bytes(b),
                _ => hash_bytes(other.repr().as_bytes()),
            };
            // Positive and 16-aligned, like an address.
            ((tag ^ own) & 0x3fff_ffff_ffff) << 4
        }
    }
}
