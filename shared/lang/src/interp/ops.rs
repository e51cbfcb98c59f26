//! Operators with Python semantics: arithmetic (64-bit ints, checked, and
//! redone in big integers on overflow), sequence concatenation and
//! repetition, comparisons, `in`, indexing and slicing.

use std::sync::{Arc, Mutex, MutexGuard};

use super::bigint;
use super::exception::Exception;
use super::format;
use super::value::{Value, as_int, as_number, lock, py_cmp, py_eq, py_is, range_len};
use crate::ast::{BinOp, CmpOp, UnaryOp};
use crate::names::ExcClass;

/// The largest str/bytes (in bytes) or list/tuple (in items) an operation may build.
pub const MAX_SIZE: usize = 64 << 20;
/// The largest number of items materialized from a range.
pub const MAX_ITEMS: usize = 10_000_000;

/// Room for `items` more values under the run's memory limit, checked before
/// a list or tuple is built at once (`[0] * n`, `list(range(n))`).
pub fn reserve_items(items: usize) -> Result<(), Exception> {
    match crate::memory::would_exceed(items.saturating_mul(size_of::<Value>())) {
        Some(limit) => Err(Exception::memory_limit(limit)),
        None => Ok(()),
    }
}

fn unsupported(op: &str, a: &Value, b: &Value) -> Exception {
    let op = if op == "**" { "** or pow()" } else { op };
    Exception::type_error(format!(
        "unsupported operand type(s) for {op}: '{}' and '{}'",
        a.type_name(),
        b.type_name()
    ))
}

pub fn unary(op: UnaryOp, v: &Value) -> Result<Value, Exception> {
    if op == UnaryOp::Not {
        return Ok(Value::Bool(!v.truthy()));
    }
    let bad = || {
        let sym = match op {
            UnaryOp::Neg => "-",
            UnaryOp::Pos => "+",
            UnaryOp::Invert => "~",
            UnaryOp::Not => "not",
        };
        Exception::type_error(format!(
            "bad operand type for unary {sym}: '{}'",
            v.type_name()
        ))
    };
    match (op, v) {
        (UnaryOp::Neg, Value::BigInt(b)) => Ok(bigint::neg(b)),
        (UnaryOp::Pos, Value::BigInt(_)) => Ok(v.clone()),
        (UnaryOp::Invert, Value::BigInt(b)) => Ok(bigint::invert(b)),
        (UnaryOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
        (UnaryOp::Pos, Value::Float(f)) => Ok(Value::Float(*f)),
        (_, v) => {
            let i = as_int(v).ok_or_else(bad)?;
            match op {
                UnaryOp::Neg => Ok(i.checked_neg().map_or_else(|| bigint::neg(&i.into()), Value::Int)),
                UnaryOp::Invert => Ok(Value::Int(!i)),
                _ => Ok(Value::Int(i)),
            }
        }
    }
}

/// A bytearray's contents as bytes, for the operations that only read it.
fn frozen(v: &Value) -> Option<Value> {
    match v {
        Value::ByteArray(b) => Some(Value::bytes(lock(b).as_slice())),
        Value::MemoryView(m) => m.tobytes().ok().map(Value::bytes),
        _ => None,
    }
}

fn thawed(v: Value) -> Value {
    match v {
        Value::Bytes(b) => Value::ByteArray(Arc::new(std::sync::Mutex::new(b.to_vec()))),
        other => other,
    }
}

pub fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, Exception> {
    // The common case first: two machine ints.
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return int_binary(op, *x, *y);
    }
    // bytearray + bytes is a bytearray; bytes + bytearray is bytes, as in Python.
    if let Some(fa) = frozen(a) {
        return binary(op, &fa, &frozen(b).unwrap_or_else(|| b.clone())).map(thawed);
    }
    if let (Value::Bytes(_), Some(fb)) = (a, frozen(b)) {
        return binary(op, a, &fb);
    }
    if let (Some(x), Some(y)) = (as_int(a), as_int(b)) {
        return int_binary(op, x, y);
    }
    if (matches!(a, Value::BigInt(_)) || matches!(b, Value::BigInt(_)))
        && let Some(r) = big_binary(op, a, b)
    {
        return r;
    }
    if let (Some(x), Some(y)) = (as_number(a), as_number(b)) {
        return float_binary(op, x, y, a, b);
    }
    if let (Value::Set(x) | Value::FrozenSet(x), Value::Set(y) | Value::FrozenSet(y)) = (a, b)
        && matches!(op, BinOp::BitOr | BinOp::BitAnd | BinOp::Sub | BinOp::BitXor)
    {
        // The result is of the left operand's kind.
        let made = super::set::operator(op.symbol(), x, y)?;
        return Ok(if matches!(a, Value::FrozenSet(_)) { super::set::freeze(made) } else { made });
    }
    // printf-style formatting.
    match (op, a) {
        (BinOp::Mod, Value::Str(s)) => return Ok(Value::str(format::percent_str(s, b)?)),
        (BinOp::Mod, Value::Bytes(s)) => return Ok(Value::bytes(format::percent_bytes(s, b)?)),
        _ => {}
    }
    match op {
        BinOp::Add => concat(a, b),
        BinOp::Mul => match (a, b) {
            (seq, n) | (n, seq) if as_int(n).is_some() && is_sequence(seq) => {
                repeat(seq, as_int(n).unwrap_or(0))
            }
            _ => Err(unsupported("*", a, b)),
        },
        _ => Err(unsupported(op.symbol(), a, b)),
    }
}

fn is_sequence(v: &Value) -> bool {
    matches!(
        v,
        Value::Str(_) | Value::Bytes(_) | Value::Tuple(_) | Value::List(_)
    )
}

/// An operation with a big int on one side: None when the other side is
/// neither an int nor a float (the caller goes on to sequences and the rest).
fn big_binary(op: BinOp, a: &Value, b: &Value) -> Option<Result<Value, Exception>> {
    if let (Some(x), Some(y)) = (bigint::to_big(a), bigint::to_big(b)) {
        return Some(bigint::binary(op, &x, &y));
    }
    let float = |v: &Value| match v {
        Value::BigInt(x) => bigint::to_f64(x).map(Some),
        Value::Float(f) => Ok(Some(*f)),
        other => Ok(as_number(other)),
    };
    match (float(a), float(b)) {
        (Ok(Some(x)), Ok(Some(y))) => Some(float_binary(op, x, y, a, b)),
        (Err(e), Ok(Some(_))) | (Ok(Some(_)), Err(e)) => Some(Err(e)),
        _ if op == BinOp::Mul && (is_sequence(a) || is_sequence(b)) => Some(Err(
            Exception::overflow("cannot fit 'int' into an index-sized integer"),
        )),
        _ => None,
    }
}

fn int_binary(op: BinOp, x: i64, y: i64) -> Result<Value, Exception> {
    let zero = |msg: &str| Exception::new(ExcClass::ZeroDivisionError, msg);
    let big = || bigint::int_binary(op, x, y);
    let v = match op {
        BinOp::Add => match x.checked_add(y) {
            Some(v) => v,
            None => return big(),
        },
        BinOp::Sub => match x.checked_sub(y) {
            Some(v) => v,
            None => return big(),
        },
        BinOp::Mul => match x.checked_mul(y) {
            Some(v) => v,
            None => return big(),
        },
        BinOp::Div => {
            if y == 0 {
                return Err(zero("division by zero"));
            }
            return Ok(Value::Float(x as f64 / y as f64));
        }
        BinOp::FloorDiv => {
            if y == 0 {
                return Err(zero("integer division or modulo by zero"));
            }
            let Some(q) = x.checked_div(y) else { return big() };
            if (x % y != 0) && ((x < 0) != (y < 0)) {
                q - 1
            } else {
                q
            }
        }
        BinOp::Mod => {
            if y == 0 {
                return Err(zero("integer modulo by zero"));
            }
            let r = x.checked_rem(y).unwrap_or(0);
            if r != 0 && ((r < 0) != (y < 0)) {
                r + y
            } else {
                r
            }
        }
        BinOp::Pow => {
            if y < 0 {
                if x == 0 {
                    return Err(zero("0.0 cannot be raised to a negative power"));
                }
                return Ok(Value::Float((x as f64).powf(y as f64)));
            }
            match u32::try_from(y).ok().and_then(|e| x.checked_pow(e)) {
                Some(v) => v,
                None => return big(),
            }
        }
        BinOp::BitAnd => x & y,
        BinOp::BitOr => x | y,
        BinOp::BitXor => x ^ y,
        BinOp::Shl | BinOp::Shr => {
            if y < 0 {
                return Err(Exception::value_error("negative shift count"));
            }
            if op == BinOp::Shr {
                x >> y.min(63)
            } else if x == 0 {
                0
            } else {
                if y >= 64 {
                    return big();
                }
                let wide = i128::from(x) << y;
                match i64::try_from(wide) {
                    Ok(v) => v,
                    Err(_) => return big(),
                }
            }
        }
    };
    Ok(Value::Int(v))
}

fn float_binary(op: BinOp, x: f64, y: f64, a: &Value, b: &Value) -> Result<Value, Exception> {
    let zero = |msg: &str| Exception::new(ExcClass::ZeroDivisionError, msg);
    let v = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => {
            if y == 0.0 {
                return Err(zero("float division by zero"));
            }
            x / y
        }
        BinOp::FloorDiv => {
            if y == 0.0 {
                return Err(zero("float floor division by zero"));
            }
            (x / y).floor()
        }
        BinOp::Mod => {
            if y == 0.0 {
                return Err(zero("float modulo"));
            }
            let r = x % y;
            if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
                r + y
            } else {
                r
            }
        }
        BinOp::Pow => x.powf(y),
        _ => return Err(unsupported(op.symbol(), a, b)),
    };
    Ok(Value::Float(v))
}

fn concat(a: &Value, b: &Value) -> Result<Value, Exception> {
    let check = |n: usize| {
        if n > MAX_SIZE {
            Err(Exception::memory())
        } else {
            Ok(())
        }
    };
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => {
            check(x.len() + y.len())?;
            Ok(Value::str(format!("{x}{y}")))
        }
        (Value::Bytes(x), Value::Bytes(y)) => {
            check(x.len() + y.len())?;
            Ok(Value::bytes([&x[..], &y[..]].concat()))
        }
        (Value::Tuple(x), Value::Tuple(y)) => {
            check(x.len() + y.len())?;
            Ok(Value::tuple([&x[..], &y[..]].concat()))
        }
        (Value::List(x), Value::List(y)) => {
            reserve_items(lock(x).len() + lock(y).len())?;
            let mut items = lock(x).to_vec();
            items.extend(lock(y).iter().cloned());
            check(items.len())?;
            Ok(Value::list(items))
        }
        (Value::Str(_), other) => Err(Exception::type_error(format!(
            "can only concatenate str (not \"{}\") to str",
            other.type_name()
        ))),
        (Value::Bytes(_), other) => Err(Exception::type_error(format!(
            "can't concat {} to bytes",
            other.type_name()
        ))),
        (Value::List(_), other) => Err(Exception::type_error(format!(
            "can only concatenate list (not \"{}\") to list",
            other.type_name()
        ))),
        (Value::Tuple(_), other) => Err(Exception::type_error(format!(
            "can only concatenate tuple (not \"{}\") to tuple",
            other.type_name()
        ))),
        _ => Err(unsupported("+", a, b)),
    }
}

fn repeat(seq: &Value, n: i64) -> Result<Value, Exception> {
    let n = usize::try_from(n.max(0)).unwrap_or(0);
    let unit = match seq {
        Value::Str(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::Tuple(t) => t.len(),
        Value::List(l) => lock(l).len(),
        _ => 0,
    };
    if unit.saturating_mul(n) > MAX_SIZE {
        return Err(Exception::memory());
    }
    if matches!(seq, Value::Tuple(_) | Value::List(_)) {
        reserve_items(unit.saturating_mul(n))?;
    }
    Ok(match seq {
        Value::Str(s) => Value::str(s.repeat(n)),
        Value::Bytes(b) => Value::bytes(b.repeat(n)),
        Value::Tuple(t) => Value::tuple(repeat_items(t, n)),
        Value::List(l) => Value::list(repeat_items(&lock(l), n)),
        _ => Value::None,
    })
}

fn repeat_items(items: &[Value], n: usize) -> Vec<Value> {
    let mut out = Vec::with_capacity(items.len() * n);
    for _ in 0..n {
        out.extend(items.iter().cloned());
    }
    out
}

pub fn compare(op: CmpOp, a: &Value, b: &Value) -> Result<Value, Exception> {
    // The common case first: two machine ints.
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        let r = match op {
            CmpOp::Eq | CmpOp::Is => Some(x == y),
            CmpOp::Ne | CmpOp::IsNot => Some(x != y),
            CmpOp::Lt => Some(x < y),
            CmpOp::Le => Some(x <= y),
            CmpOp::Gt => Some(x > y),
            CmpOp::Ge => Some(x >= y),
            CmpOp::In | CmpOp::NotIn => None,
        };
        if let Some(r) = r {
            return Ok(Value::Bool(r));
        }
    }
    let result = match op {
        CmpOp::Eq => py_eq(a, b),
        CmpOp::Ne => !py_eq(a, b),
        CmpOp::Is => py_is(a, b),
        CmpOp::IsNot => !py_is(a, b),
        CmpOp::In => contains(b, a)?,
        CmpOp::NotIn => !contains(b, a)?,
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let ord = py_cmp(a, b);
            let both_numbers = as_number(a).is_some() && as_number(b).is_some();
            let Some(ord) = ord else {
                if both_numbers {
                    return Ok(Value::Bool(false));
                }
                return Err(Exception::type_error(format!(
                    "'{}' not supported between instances of '{}' and '{}'",
                    op.symbol(),
                    a.type_name(),
                    b.type_name()
                )));
            };
            match op {
                CmpOp::Lt => ord.is_lt(),
                CmpOp::Le => ord.is_le(),
                CmpOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            }
        }
    };
    Ok(Value::Bool(result))
}

/// Python `item in container`.
pub fn contains(container: &Value, item: &Value) -> Result<bool, Exception> {
    if let Some(c) = frozen(container) {
        return contains(&c, &frozen(item).unwrap_or_else(|| item.clone()));
    }
    match (container, item) {
        (Value::Str(s), Value::Str(sub)) => Ok(s.contains(&**sub)),
        (Value::Str(_), other) => Err(Exception::type_error(format!(
            "'in <string>' requires string as left operand, not {}",
            other.type_name()
        ))),
        (Value::Bytes(b), Value::Bytes(sub)) => Ok(find_bytes(b, sub, 0).is_some()),
        (Value::Bytes(b), other) => match as_int(other) {
            Some(i) if (0..256).contains(&i) => Ok(b.contains(&(i as u8))),
            Some(_) => Err(Exception::value_error("byte must be in range(0, 256)")),
            None => Err(Exception::type_error(format!(
                "a bytes-like object is required, not '{}'",
                other.type_name()
            ))),
        },
        (Value::Tuple(t), x) => Ok(t.iter().any(|v| py_eq(v, x))),
        (Value::Dict(d), x) => Ok(super::dict::get(d, x)?.is_some()),
        (Value::Set(s) | Value::FrozenSet(s), x) => super::set::contains(s, x),
        (Value::List(l), x) => Ok(lock(l).iter().any(|v| py_eq(v, x))),
        (Value::BigRange(r), x) => Ok(super::bigint::to_big(x).is_some_and(|i| r.contains(&i))),
        (Value::Range { start, stop, step }, x) => {
            let Some(i) = as_int(x) else { return Ok(false) };
            let in_bounds = if *step > 0 {
                *start <= i && i < *stop
            } else {
                *stop < i && i <= *start
            };
            Ok(in_bounds && (i128::from(i) - i128::from(*start)) % i128::from(*step) == 0)
        }
        (other, _) => Err(Exception::type_error(format!(
            "argument of type '{}' is not iterable",
            other.type_name()
        ))),
    }
}

/// Position of `needle` in `hay` at or after `from`.
pub fn find_bytes(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    if needle.is_empty() {
        return Some(from);
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Normalizes a Python index against `len`.
fn norm_index(i: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let j = if i < 0 { i + len } else { i };
    if (0..len).contains(&j) {
        usize::try_from(j).ok()
    } else {
        None
    }
}

pub fn index(object: &Value, idx: &Value) -> Result<Value, Exception> {
    if let Some([a, b, c]) = super::library::slice_parts(idx)
        && !matches!(object, Value::Dict(_))
    {
        return slice(object, Some(a), Some(b), Some(c));
    }
    if let Some(b) = frozen(object) {
        return index(&b, idx);
    }
    if let Value::Dict(d) = object {
        return super::dict::get(d, idx)?.ok_or_else(|| super::dict::key_error(idx));
    }
    let kind = match object {
        Value::Str(_) => "string",
        Value::Bytes(_) => "index",
        Value::Tuple(_) => "tuple",
        Value::List(_) => "list",
        Value::Range { .. } | Value::BigRange(_) => "range object",
        other => {
            return Err(Exception::type_error(format!(
                "'{}' object is not subscriptable",
                other.type_name()
            )));
        }
    };
    if let Value::BigInt(_) = idx {
        return Err(index_size_error());
    }
    let Some(i) = as_int(idx) else {
        let msg = match object {
            Value::Str(_) => format!("string indices must be integers, not '{}'", idx.type_name()),
            _ => format!(
                "{} indices must be integers or slices, not {}",
                object.type_name(),
                idx.type_name()
            ),
        };
        return Err(Exception::type_error(msg));
    };
    let out_of_range = || Exception::index_error(format!("{kind} index out of range"));
    match object {
        Value::Str(s) => {
            let n = s.chars().count();
            let j = norm_index(i, n).ok_or_else(out_of_range)?;
            Ok(Value::str(
                s.chars().nth(j).map(String::from).unwrap_or_default(),
            ))
        }
        Value::Bytes(b) => {
            let j = norm_index(i, b.len()).ok_or_else(out_of_range)?;
            Ok(Value::Int(i64::from(b[j])))
        }
        Value::Tuple(t) => {
            let j = norm_index(i, t.len()).ok_or_else(out_of_range)?;
            Ok(t[j].clone())
        }
        Value::List(l) => {
            let items = lock(l);
            let j = norm_index(i, items.len()).ok_or_else(out_of_range)?;
            Ok(items[j].clone())
        }
        Value::Range { start, stop, step } => {
            let n = usize::try_from(range_len(*start, *stop, *step)).unwrap_or(0);
            let j = norm_index(i, n).ok_or_else(out_of_range)?;
            Ok(Value::Int(start + (j as i64) * step))
        }
        Value::BigRange(r) => r.get(i).ok_or_else(out_of_range),
        _ => Err(out_of_range()),
    }
}

/// Python's `slice.indices(len)`: the start, stop and step taken.
pub fn slice_range(len: i64, lower: Option<i64>, upper: Option<i64>, step: Option<i64>) -> Result<(i64, i64, i64), Exception> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(Exception::value_error("slice step cannot be zero"));
    }
    let (lo, hi) = if step > 0 { (0, len) } else { (-1, len - 1) };
    let adjust = |v: Option<i64>, default: i64| match v {
        None => default,
        Some(x) if x < 0 => x.saturating_add(len).max(lo),
        Some(x) => x.min(hi),
    };
    Ok((adjust(lower, if step > 0 { lo } else { hi }), adjust(upper, if step > 0 { hi } else { lo }), step))
}

/// The indices a slice selects, Python's `slice.indices` then iteration.
pub fn slice_indices(
    len: usize,
    lower: Option<i64>,
    upper: Option<i64>,
    step: Option<i64>,
) -> Result<Vec<usize>, Exception> {
    let (start, stop, step) = slice_range(len as i64, lower, upper, step)?;
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(usize::try_from(i).unwrap_or(0));
        // A step past the ends (`xs[1::2**63-1]`) ends the walk.
        let Some(next) = i.checked_add(step) else { break };
        i = next;
    }
    Ok(out)
}

pub(super) fn slice_bound(v: Option<&Value>) -> Result<Option<i64>, Exception> {
    match v {
        None | Some(Value::None) => Ok(None),
        // A slice bound past i64 is clamped, as CPython clamps to the length.
        Some(Value::BigInt(b)) => Ok(Some(if num_traits::Signed::is_negative(&**b) { i64::MIN } else { i64::MAX })),
        Some(v) => as_int(v).map(Some).ok_or_else(|| {
            Exception::type_error(
                "slice indices must be integers or None or have an __index__ method",
            )
        }),
    }
}

pub fn slice(
    object: &Value,
    lower: Option<&Value>,
    upper: Option<&Value>,
    step: Option<&Value>,
) -> Result<Value, Exception> {
    if let Value::MemoryView(m) = object {
        return m.slice(slice_bound(lower)?, slice_bound(upper)?, slice_bound(step)?);
    }
    if let Some(b) = frozen(object) {
        return slice(&b, lower, upper, step).map(thawed);
    }
    let (lower, upper, step) = (slice_bound(lower)?, slice_bound(upper)?, slice_bound(step)?);
    let contiguous = step.is_none_or(|s| s == 1);
    match object {
        Value::Str(s) => {
            if s.is_ascii() && contiguous {
                let idx = slice_indices(s.len(), lower, upper, step)?;
                return Ok(match (idx.first(), idx.last()) {
                    (Some(&a), Some(&b)) => Value::str(&s[a..=b]),
                    _ => Value::str(""),
                });
            }
            let chars: Vec<char> = s.chars().collect();
            let idx = slice_indices(chars.len(), lower, upper, step)?;
            Ok(Value::str(
                idx.iter().map(|&i| chars[i]).collect::<String>(),
            ))
        }
        Value::Bytes(b) => {
            let idx = slice_indices(b.len(), lower, upper, step)?;
            if contiguous {
                return Ok(match (idx.first(), idx.last()) {
                    (Some(&a), Some(&z)) => Value::Bytes(Arc::from(&b[a..=z])),
                    _ => Value::bytes(b""),
                });
            }
            Ok(Value::bytes(idx.iter().map(|&i| b[i]).collect::<Vec<u8>>()))
        }
        Value::Tuple(t) => {
            let idx = slice_indices(t.len(), lower, upper, step)?;
            Ok(Value::tuple(idx.iter().map(|&i| t[i].clone()).collect()))
        }
        Value::List(l) => {
            let items = lock(l);
            let idx = slice_indices(items.len(), lower, upper, step)?;
            let out = idx.iter().map(|&i| items[i].clone()).collect();
            drop(items);
            Ok(Value::list(out))
        }
        // A dict looks the slice up as a key.
        Value::Dict(_) => Err(super::dunder::unhashable("slice")),
        other => Err(Exception::type_error(format!(
            "'{}' object is not subscriptable",
            other.type_name()
        ))),
    }
}

/// `object[lower:upper] = value` (and `del object[lower:upper]` with an
/// empty list) on a list, a bytearray or a memoryview; step 1 only.
pub fn store_slice(
    object: &Value,
    lower: &Value,
    upper: &Value,
    step: &Value,
    value: &Value,
) -> Result<(), Exception> {
    let bound = |v: &Value| slice_bound(Some(v));
    let (lower, upper) = (bound(lower)?, bound(upper)?);
    if bound(step)?.is_some_and(|s| s != 1) {
        return Err(Exception::new(
            crate::names::ExcClass::NotImplementedError,
            "slice assignment with a step is not supported in socklab scripts",
        ));
    }
    match object {
        Value::MemoryView(m) => m.store_slice(lower, upper, &super::args::to_bytes(value)?),
        Value::ByteArray(b) => {
            let data: Vec<u8> = match value {
                Value::Bytes(_) | Value::ByteArray(_) | Value::MemoryView(_) => super::args::to_bytes(value)?.to_vec(),
                Value::Str(_) | Value::Int(_) => {
                    return Err(Exception::type_error("can assign only bytes, buffers, or iterables of ints in range(0, 256)"));
                }
                other => super::args::iterate(other)?
                    .iter()
                    .map(|v| as_int(v).and_then(|i| u8::try_from(i).ok()))
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| Exception::value_error("byte must be in range(0, 256)"))?,
            };
            let mut buf = lock(b);
            let (a, z) = super::memview::bounds(buf.len(), lower, upper);
            if z - a != data.len() {
                super::memview::check_resize(b)?;
            }
            buf.splice(a..z, data);
            Ok(())
        }
        Value::List(l) => {
            let items = super::args::iterate(value)
                .map_err(|_| Exception::type_error("must assign iterable to extended slice"))?;
            let mut list = lock(l);
            let (a, z) = super::memview::bounds(list.len(), lower, upper);
            list.splice(a..z, items);
            Ok(())
        }
        other => Err(Exception::type_error(format!(
            "'{}' object does not support item assignment",
            other.type_name()
        ))),
    }
}

/// `object[index] = value`.
pub fn store_index(object: &Value, idx: &Value, value: Value) -> Result<(), Exception> {
    if let Some([a, b, c]) = super::library::slice_parts(idx)
        && !matches!(object, Value::Dict(_))
    {
        return store_slice(object, a, b, c, &value);
    }
    if let Value::Dict(d) = object {
        return super::dict::set(d, idx.clone(), value);
    }
    if let Value::BigInt(_) = idx {
        return Err(index_size_error());
    }
    if let Value::ByteArray(b) = object {
        let Some(i) = as_int(idx) else {
            return Err(Exception::type_error(format!(
                "bytearray indices must be integers or slices, not {}",
                idx.type_name()
            )));
        };
        let byte = as_int(&value)
            .ok_or_else(|| {
                Exception::type_error(format!(
                    "'{}' object cannot be interpreted as an integer",
                    value.type_name()
                ))
            })
            .and_then(|v| {
                u8::try_from(v).map_err(|_| Exception::value_error("byte must be in range(0, 256)"))
            })?;
        let mut bytes = lock(b);
        let j = norm_index(i, bytes.len())
            .ok_or_else(|| Exception::index_error("bytearray index out of range"))?;
        bytes[j] = byte;
        return Ok(());
    }
    let Value::List(l) = object else {
        return Err(Exception::type_error(format!(
            "'{}' object does not support item assignment",
            object.type_name()
        )));
    };
    let (mut items, j) = list_slot(l, idx)?;
    items[j] = value;
    Ok(())
}

/// CPython's error for an index past 64 bits.
fn index_size_error() -> Exception {
    Exception::index_error("cannot fit 'int' into an index-sized integer")
}

/// Locks a list and finds the item `idx` names, for assignment or deletion.
fn list_slot<'a>(
    l: &'a Mutex<super::value::Items>,
    idx: &Value,
) -> Result<(MutexGuard<'a, super::value::Items>, usize), Exception> {
    if let Value::BigInt(_) = idx {
        return Err(index_size_error());
    }
    let Some(i) = as_int(idx) else {
        return Err(Exception::type_error(format!(
            "list indices must be integers or slices, not {}",
            idx.type_name()
        )));
    };
    let items = lock(l);
    let j = norm_index(i, items.len())
        .ok_or_else(|| Exception::index_error("list assignment index out of range"))?;
    Ok((items, j))
}

/// `del object[index]` on a dict or list.
pub fn delete_index(object: &Value, idx: &Value) -> Result<(), Exception> {
    if let Some([a, b, c]) = super::library::slice_parts(idx)
        && !matches!(object, Value::Dict(_))
    {
        // `del xs[::2]`: the selected items go, last first.
        if let (Value::List(l), Some(step)) = (object, slice_bound(Some(c))?.filter(|s| *s != 1)) {
            let mut items = lock(l);
            let mut idx = slice_indices(items.len(), slice_bound(Some(a))?, slice_bound(Some(b))?, Some(step))?;
            idx.sort_unstable();
            for i in idx.into_iter().rev() {
                items.remove(i);
            }
            return Ok(());
        }
        return store_slice(object, a, b, c, &Value::list(Vec::new()));
    }
    match object {
        Value::Dict(d) => match super::dict::remove(d, idx)? {
            Some(_) => Ok(()),
            None => Err(super::dict::key_error(idx)),
        },
        Value::List(l) => {
            let (mut items, j) = list_slot(l, idx)?;
            items.remove(j);
            Ok(())
        }
        other => Err(Exception::type_error(format!(
            "'{}' object doesn't support item deletion",
            other.type_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_division_and_modulo() {
        assert_eq!(
            int_binary(BinOp::FloorDiv, -7, 2).map(|v| v.repr()),
            Ok("-4".into())
        );
        assert_eq!(
            int_binary(BinOp::Mod, -7, 2).map(|v| v.repr()),
            Ok("1".into())
        );
        assert_eq!(
            int_binary(BinOp::Mod, 7, -2).map(|v| v.repr()),
            Ok("-1".into())
        );
        // Past 64 bits the result grows into a big int.
        assert_eq!(
            int_binary(BinOp::Mul, i64::MAX, 2).map(|v| v.repr()),
            Ok("18446744073709551614".into())
        );
        assert_eq!(
            int_binary(BinOp::FloorDiv, i64::MIN, -1).map(|v| v.repr()),
            Ok("9223372036854775808".into())
        );
    }

    #[test]
    fn slices_match_python() {
        assert_eq!(slice_indices(5, Some(-2), None, None), Ok(vec![3, 4]));
        assert_eq!(
            slice_indices(5, None, None, Some(-1)),
            Ok(vec![4, 3, 2, 1, 0])
        );
        assert_eq!(slice_indices(5, Some(10), None, None), Ok(vec![]));
        assert_eq!(
            slice_indices(3, None, Some(-10), Some(-1)),
            Ok(vec![2, 1, 0])
        );
    }
}
