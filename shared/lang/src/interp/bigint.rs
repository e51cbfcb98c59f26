//! Integers past 64 bits. `Value::Int(i64)` stays the fast path; an i64
//! operation that overflows is redone here, and `Value::BigInt` only ever
//! holds a value outside i64 (`norm` turns any result that fits back into
//! `Value::Int`).

use std::cmp::Ordering;
use std::sync::Arc;

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};

use super::exception::Exception;
use super::value::Value;
use crate::ast::BinOp;
use crate::names::ExcClass;

/// The most bits a result may have (8 MiB of digits); past it `MemoryError`
/// is raised before anything is allocated.
pub const MAX_BITS: u64 = 64 << 20;
/// CPython 3.11's default `sys.int_info.str_digits_check_threshold` limit:
/// str() of a longer int, or int() of a longer str, raises ValueError.
pub const MAX_STR_DIGITS: usize = 4300;

/// A result as a Value: `Int` when it fits 64 bits.
pub fn norm(b: BigInt) -> Value {
    match b.to_i64() {
        Some(i) => Value::Int(i),
        None => Value::BigInt(Arc::new(b)),
    }
}

/// The value as a big integer if it is an int (or bool).
pub fn to_big(v: &Value) -> Option<BigInt> {
    match v {
        Value::BigInt(b) => Some((**b).clone()),
        other => super::value::as_int(other).map(BigInt::from),
    }
}

/// An int of any size, bool included.
pub fn is_integral(v: &Value) -> bool {
    matches!(v, Value::BigInt(_)) || super::value::as_int(v).is_some()
}

fn too_large() -> Exception {
    Exception::memory()
}

/// Room for a result of about `bits` bits: under `MAX_BITS` and under the
/// run's memory limit, checked before the result is computed.
fn room_for(bits: u64) -> Result<(), Exception> {
    if bits > MAX_BITS {
        return Err(too_large());
    }
    match crate::memory::would_exceed((bits / 8) as usize) {
        Some(limit) => Err(Exception::memory_limit(limit)),
        None => Ok(()),
    }
}

/// CPython's message for an int that does not fit a float.
pub fn to_float_error() -> Exception {
    Exception::overflow("int too large to convert to float")
}

/// The big int as a float, or OverflowError as CPython's `float(n)`.
pub fn to_f64(b: &BigInt) -> Result<f64, Exception> {
    match b.to_f64() {
        Some(f) if f.is_finite() => Ok(f),
        _ => Err(to_float_error()),
    }
}

/// An i64 operation that overflowed, redone in big integers.
pub fn int_binary(op: BinOp, x: i64, y: i64) -> Result<Value, Exception> {
    binary(op, &BigInt::from(x), &BigInt::from(y))
}

/// `x op y` for two ints of any size.
pub fn binary(op: BinOp, x: &BigInt, y: &BigInt) -> Result<Value, Exception> {
    let zero = |msg: &str| Exception::new(ExcClass::ZeroDivisionError, msg);
    Ok(norm(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => {
            room_for(x.bits() + y.bits())?;
            x * y
        }
        BinOp::Div => {
            if y.is_zero() {
                return Err(zero("division by zero"));
            }
            return true_div(x, y).map(Value::Float);
        }
        BinOp::FloorDiv => {
            if y.is_zero() {
                return Err(zero("integer division or modulo by zero"));
            }
            x.div_floor(y)
        }
        BinOp::Mod => {
            if y.is_zero() {
                return Err(zero("integer modulo by zero"));
            }
            x.mod_floor(y)
        }
        BinOp::Pow => return pow(x, y),
        BinOp::BitAnd => x & y,
        BinOp::BitOr => x | y,
        BinOp::BitXor => x ^ y,
        BinOp::Shl => {
            if y.is_negative() {
                return Err(Exception::value_error("negative shift count"));
            }
            if x.is_zero() {
                return Ok(Value::Int(0));
            }
            let Some(n) = y.to_u64() else { return Err(too_large()) };
            room_for(x.bits().saturating_add(n))?;
            x << n
        }
        BinOp::Shr => {
            if y.is_negative() {
                return Err(Exception::value_error("negative shift count"));
            }
            match y.to_u64().filter(|n| *n < x.bits()) {
                Some(n) => x >> n,
                None if x.is_negative() => return Ok(Value::Int(-1)),
                None => return Ok(Value::Int(0)),
            }
        }
    }))
}

fn pow(x: &BigInt, y: &BigInt) -> Result<Value, Exception> {
    if y.is_negative() {
        if x.is_zero() {
            return Err(Exception::new(
                ExcClass::ZeroDivisionError,
                "0.0 cannot be raised to a negative power",
            ));
        }
        let base = to_f64(x)?;
        let exp = y.to_f64().unwrap_or(f64::NEG_INFINITY);
        return Ok(Value::Float(base.powf(exp)));
    }
    // 0, 1 and -1 stay small whatever the exponent.
    if x.is_zero() || x.magnitude().bits() == 1 && x.magnitude().to_u64() == Some(1) {
        let odd = y.is_odd();
        return Ok(Value::Int(match x.to_i64().unwrap_or(0) {
            0 if y.is_zero() => 1,
            0 => 0,
            -1 if odd => -1,
            _ => 1,
        }));
    }
    let Some(e) = y.to_u64().and_then(|e| u32::try_from(e).ok()) else { return Err(too_large()) };
    room_for((x.bits() - 1).saturating_mul(u64::from(e)))?;
    Ok(norm(num_traits::Pow::pow(x, e)))
}

/// Three-argument `pow(x, y, m)`.
pub fn pow_mod(x: &BigInt, y: &BigInt, m: &BigInt) -> Result<Value, Exception> {
    if m.is_zero() {
        return Err(Exception::value_error("pow() 3rd argument cannot be 0"));
    }
    let mut base = x.clone();
    let mut e = y.clone();
    if e.is_negative() {
        base = inverse(x, m)?;
        e = -e;
    }
    let modulus = m.abs();
    let r = base.mod_floor(&modulus).modpow(&e, &modulus);
    // CPython's result takes the modulus's sign.
    Ok(norm(if m.is_negative() && !r.is_zero() { r + m } else { r }))
}

fn inverse(x: &BigInt, m: &BigInt) -> Result<BigInt, Exception> {
    let m = m.abs();
    let g = x.mod_floor(&m).extended_gcd(&m);
    if g.gcd != BigInt::from(1) {
        return Err(Exception::value_error("base is not invertible for the given modulus"));
    }
    Ok(g.x.mod_floor(&m))
}

/// `x / y` correctly rounded, as CPython's int true division.
fn true_div(x: &BigInt, y: &BigInt) -> Result<f64, Exception> {
    let negative = x.is_negative() != y.is_negative();
    let (a, b) = (x.magnitude(), y.magnitude());
    if a.is_zero() {
        return Ok(if negative { -0.0 } else { 0.0 });
    }
    // Scale so the quotient has 55 bits: 53 kept, one to round by, and a
    // sticky bit for a non-zero remainder.
    let shift = a.bits() as i64 - b.bits() as i64 - 55;
    let (q, r) = if shift > 0 {
        a.div_rem(&(b << shift as u64))
    } else {
        (a << (-shift) as u64).div_rem(b)
    };
    let mut q = q.to_u64().unwrap_or(u64::MAX);
    if !r.is_zero() {
        q |= 1;
    }
    let mut f = q as f64;
    // Apply 2**shift in steps that stay within the exponent range.
    let mut s = shift;
    while s != 0 {
        let step = s.clamp(-1000, 1000);
        f *= 2f64.powi(step as i32);
        s -= step;
    }
    if f.is_infinite() {
        return Err(Exception::overflow("integer division result too large for a float"));
    }
    Ok(if negative { -f } else { f })
}

/// `-x`, `+x`, `~x` of a big value.
pub fn neg(x: &BigInt) -> Value {
    norm(-x)
}

pub fn invert(x: &BigInt) -> Value {
    norm(-x - 1)
}

/// Exact comparison of an int with a float (CPython compares int and float
/// by value, not by rounding the int). None for NaN.
pub fn cmp_float(x: &BigInt, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 { Ordering::Less } else { Ordering::Greater });
    }
    let whole = f.floor();
    let fb = big_of_float(whole)?;
    Some(match x.cmp(&fb) {
        Ordering::Equal if f != whole => Ordering::Less,
        other => other,
    })
}

fn big_of_float(f: f64) -> Option<BigInt> {
    num_traits::FromPrimitive::from_f64(f)
}

/// `int(f)` of a finite float, truncated toward zero.
pub fn from_float(f: f64) -> Option<Value> {
    big_of_float(f.trunc()).map(norm)
}

/// Ordering of two ints of any size (one of them big).
pub fn cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::BigInt(x), Value::Float(f)) => cmp_float(x, *f),
        (Value::Float(f), Value::BigInt(y)) => cmp_float(y, *f).map(Ordering::reverse),
        _ => Some(to_big(a)?.cmp(&to_big(b)?)),
    }
}

fn digits_error() -> Exception {
    Exception::value_error(format!(
        "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit"
    ))
}

/// Decimal digits of a big value, or CPython's ValueError past 4300 digits.
pub fn to_decimal(x: &BigInt) -> Result<String, Exception> {
    // 4300 digits hold at most 14284 bits; anything much longer is refused
    // before the (quadratic) conversion.
    if x.bits() > 14_300 {
        return Err(digits_error());
    }
    let s = x.to_string();
    if s.trim_start_matches('-').len() > MAX_STR_DIGITS {
        return Err(digits_error());
    }
    Ok(s)
}

thread_local! {
    /// Set when a repr met an int past the digit limit (see `guarded`).
    static TOO_LONG: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Decimal digits of a big value for repr, which cannot fail: past the
/// digit limit a placeholder, and `guarded` turns it into CPython's error.
pub fn repr(x: &BigInt) -> String {
    to_decimal(x).unwrap_or_else(|_| {
        TOO_LONG.set(true);
        format!("<int of {} bits>", x.bits())
    })
}

/// Text made by `make`, or CPython's ValueError when an int inside it (in
/// a list, say) was past the digit limit.
fn guarded(make: impl FnOnce() -> String) -> Result<String, Exception> {
    TOO_LONG.set(false);
    let text = make();
    if TOO_LONG.replace(false) {
        return Err(digits_error());
    }
    Ok(text)
}

/// The digits of `|x|` in a power-of-two base, lower case.
pub fn radix_digits(x: &BigInt, radix: u32) -> String {
    x.magnitude().to_str_radix(radix)
}

/// Parse already-validated digits (no sign, no underscores, no prefix) in
/// `radix`; decimal strings past 4300 digits raise as in CPython.
pub fn parse(digits: &str, radix: u32, negative: bool) -> Result<Option<Value>, Exception> {
    if radix == 10 && digits.len() > MAX_STR_DIGITS {
        return Err(Exception::value_error(format!(
            "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion: value has {} digits; use sys.set_int_max_str_digits() to increase the limit",
            digits.len()
        )));
    }
    let Some(b) = BigInt::parse_bytes(digits.as_bytes(), radix) else { return Ok(None) };
    Ok(Some(norm(if negative { -b } else { b })))
}

/// `math.gcd` of two ints of any size.
pub fn gcd(x: &BigInt, y: &BigInt) -> BigInt {
    x.gcd(y)
}

/// The natural log of a positive big int, as CPython's math.log takes it:
/// through a float when it fits one, else from its top 60 bits scaled back.
pub fn ln(x: &BigInt) -> Option<f64> {
    if !x.is_positive() {
        return None;
    }
    if let Some(f) = x.to_f64().filter(|f| f.is_finite()) {
        return Some(f.ln());
    }
    let shift = x.bits().saturating_sub(60);
    let top = (x >> shift).to_f64()?;
    Some(top.ln() + shift as f64 * std::f64::consts::LN_2)
}

/// `abs(x)`.
pub fn abs(x: &BigInt) -> Value {
    norm(x.abs())
}

/// The little-endian 32-bit words of `random.getrandbits(k)` put together,
/// as CPython does: the last word keeps only its top bits.
pub fn from_words(words: &[u32], k: u64) -> Value {
    let mut digits = words.to_vec();
    let extra = (words.len() as u64 * 32).saturating_sub(k);
    if let Some(last) = digits.last_mut() {
        *last >>= extra;
    }
    norm(BigInt::from(num_bigint::BigUint::new(digits)))
}

/// `round(x, -digits)`: to a multiple of 10**digits, halves to even.
pub fn round(x: &BigInt, digits: u64) -> Result<Value, Exception> {
    // 10**digits past x's size rounds to 0 (a half can't be reached).
    if digits > x.bits() / 3 + 2 {
        return Ok(Value::Int(0));
    }
    let p = num_traits::Pow::pow(BigInt::from(10), digits as u32);
    let (q, r) = x.div_mod_floor(&p);
    let twice: BigInt = r * 2;
    let q = match twice.cmp(&p) {
        Ordering::Greater => q + 1,
        Ordering::Equal if q.is_odd() => q + 1,
        _ => q,
    };
    Ok(norm(q * p))
}

/// `str(v)` with CPython's digit limit for a big int at the top.
pub fn checked_str(v: &Value) -> Result<String, Exception> {
    match v {
        Value::BigInt(b) => to_decimal(b),
        Value::Int(_) | Value::Str(_) => Ok(v.to_str()),
        other => guarded(|| other.to_str()),
    }
}

/// `repr(v)`, the same way.
pub fn checked_repr(v: &Value) -> Result<String, Exception> {
    match v {
        Value::BigInt(b) => to_decimal(b),
        other => guarded(|| other.repr()),
    }
}

/// `hex(n)`, `oct(n)`, `bin(n)`: sign, prefix, digits in `radix`.
pub fn with_prefix(x: &BigInt, radix: u32, prefix: &str) -> String {
    let sign = if x.is_negative() { "-" } else { "" };
    format!("{sign}{prefix}{}", radix_digits(x, radix))
}

/// CPython's error where a big int meets a C ssize_t.
pub fn ssize_error() -> Exception {
    Exception::overflow("Python int too large to convert to C ssize_t")
}

/// `random.getrandbits(k)` of any size, in CPython's word order.
pub fn getrandbits(rng: &mut super::mt::Mt, k: u64) -> Result<BigInt, Exception> {
    room_for(k)?;
    if k <= 64 {
        return Ok(BigInt::from(if k == 0 { 0 } else { rng.getrandbits(k as u32) }));
    }
    let words: Vec<u32> = (0..k.div_ceil(32)).map(|_| rng.next_u32()).collect();
    Ok(to_big(&from_words(&words, k)).unwrap_or_default())
}

/// `random.randrange` with bounds past 64 bits: CPython's arithmetic and
/// its `_randbelow` (getrandbits of n's bit length until below n).
pub fn randrange(rng: &mut super::mt::Mt, start: &BigInt, stop: Option<&BigInt>, step: &BigInt) -> Result<Value, Exception> {
    let (start, width) = match stop {
        None => (BigInt::default(), start.clone()),
        Some(stop) => (start.clone(), stop - start),
    };
    let empty = || match stop {
        Some(stop) if step.to_i64() == Some(1) => {
            Exception::value_error(format!("empty range for randrange() ({start}, {stop}, {width})"))
        }
        _ => Exception::value_error("empty range for randrange()"),
    };
    if step.is_zero() {
        return Err(Exception::value_error("zero step for randrange()"));
    }
    let one = BigInt::from(1);
    let n: BigInt = if step.is_positive() {
        (&width + step - &one).div_floor(step)
    } else {
        (&width + step + &one).div_floor(step)
    };
    if !n.is_positive() {
        return Err(empty());
    }
    let k = n.bits();
    let r = loop {
        let r = getrandbits(rng, k)?;
        if r < n {
            break r;
        }
    };
    Ok(norm(start + step * r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(v: i64) -> BigInt {
        BigInt::from(v)
    }

    #[test]
    fn huge_results_are_refused_before_allocating() {
        let class = |r: Result<Value, Exception>| r.err().map(|e| e.class);
        let billion = big(1_000_000_000);
        assert_eq!(class(binary(BinOp::Pow, &big(10), &billion)), Some(ExcClass::MemoryError));
        assert_eq!(class(binary(BinOp::Shl, &big(1), &big(1_000_000_000_000))), Some(ExcClass::MemoryError));
        let wide = BigInt::from(1) << (MAX_BITS / 2 + 8);
        assert_eq!(class(binary(BinOp::Mul, &wide, &wide)), Some(ExcClass::MemoryError));
        // 0, 1 and -1 to any power stay small.
        assert_eq!(binary(BinOp::Pow, &big(-1), &(billion.clone() + 1)).map(|v| v.repr()), Ok("-1".into()));
        assert_eq!(binary(BinOp::Shr, &big(-5), &(billion << 40)).map(|v| v.repr()), Ok("-1".into()));
    }

    #[test]
    fn results_that_fit_are_small_ints() {
        let two64 = BigInt::from(1) << 64;
        assert!(matches!(binary(BinOp::Sub, &two64, &two64), Ok(Value::Int(0))));
        assert!(matches!(binary(BinOp::FloorDiv, &two64, &two64), Ok(Value::Int(1))));
        assert!(matches!(norm(two64), Value::BigInt(_)));
    }

    #[test]
    fn true_division_rounds_correctly() {
        let div = |a: &BigInt, b: &BigInt| true_div(a, b).unwrap_or(f64::NAN);
        let p = |n: u32| num_traits::Pow::pow(BigInt::from(10), n);
        assert_eq!(div(&p(30), &p(10)), 1e20);
        assert_eq!(div(&((BigInt::from(1) << 200) + 1), &(BigInt::from(1) << 100)), 2f64.powi(100));
        assert_eq!(div(&big(-1), &p(30)), -1e-30);
        assert!(true_div(&p(400), &big(1)).is_err());
    }

    #[test]
    fn decimal_text_is_limited_as_in_cpython() {
        let p = |n: u32| num_traits::Pow::pow(BigInt::from(10), n);
        assert_eq!(to_decimal(&(p(4300) - 1)).map(|s| s.len()), Ok(4300));
        assert!(to_decimal(&p(4300)).is_err());
        assert!(to_decimal(&(BigInt::from(1) << 1_000_000)).is_err());
        assert!(parse(&"9".repeat(4301), 10, false).is_err());
        assert!(parse(&"f".repeat(5000), 16, false).is_ok());
    }
}

/// The methods ints have; `from_bytes` is the class's own (`int.from_bytes`).
pub const INT_METHODS: &[&str] = &["bit_length", "bit_count", "to_bytes"];

/// `n.bit_length()`, `n.bit_count()`, `n.to_bytes(length, byteorder, *, signed)`.
pub fn int_method(n: &BigInt, name: &str, args: super::args::Args) -> Result<Value, Exception> {
    match name {
        "bit_length" => {
            args.bind::<0>([], 0)?;
            Ok(Value::Int(n.bits() as i64))
        }
        "bit_count" => {
            args.bind::<0>([], 0)?;
            let ones: u64 = n.magnitude().iter_u64_digits().map(|d| u64::from(d.count_ones())).sum();
            Ok(Value::Int(ones as i64))
        }
        "to_bytes" => {
            let [length, order, signed] = args.bind(["length", "byteorder", "signed"], 0)?;
            let length = match length {
                Some(v) => super::args::to_int(&v)?,
                None => 1,
            };
            let length = usize::try_from(length)
                .map_err(|_| Exception::value_error("length argument must be non-negative"))?;
            let big_endian = byte_order(order)?;
            let signed = signed.is_some_and(|v| v.truthy());
            let mut bytes = if signed {
                if n.is_zero() { Vec::new() } else { n.to_signed_bytes_le() }
            } else if n.sign() == num_bigint::Sign::Minus {
                return Err(Exception::new(
                    ExcClass::OverflowError,
                    "can't convert negative int to unsigned",
                ));
            } else if n.is_zero() {
                Vec::new()
            } else {
                n.to_bytes_le().1
            };
            if bytes.len() > length {
                return Err(Exception::new(ExcClass::OverflowError, "int too big to convert"));
            }
            room_for((length as u64).saturating_mul(8))?;
            let fill = if n.sign() == num_bigint::Sign::Minus { 0xff } else { 0 };
            bytes.resize(length, fill);
            if big_endian {
                bytes.reverse();
            }
            Ok(Value::bytes(&bytes))
        }
        _ => Err(Exception::new(
            ExcClass::AttributeError,
            format!("'int' object has no attribute '{name}'"),
        )),
    }
}

/// `int.from_bytes(bytes, byteorder='big', *, signed=False)`.
pub fn from_bytes(args: super::args::Args) -> Result<Value, Exception> {
    let [data, order, signed] = args.bind(["bytes", "byteorder", "signed"], 1)?;
    let data = data.unwrap_or(Value::None);
    let mut bytes: Vec<u8> = match super::args::to_bytes(&data) {
        Ok(b) => b.to_vec(),
        Err(_) if !matches!(data, Value::Str(_)) => super::args::iterate(&data)
            .map_err(|_| {
                Exception::type_error(format!(
                    "cannot convert '{}' object to bytes",
                    data.type_name()
                ))
            })?
            .iter()
            .map(|v| {
                let i = super::args::to_int(v)?;
                u8::try_from(i).map_err(|_| Exception::value_error("bytes must be in range(0, 256)"))
            })
            .collect::<Result<_, _>>()?,
        Err(_) => return Err(Exception::type_error("cannot convert 'str' object to bytes")),
    };
    let big_endian = byte_order(order)?;
    if big_endian {
        bytes.reverse();
    }
    let n = if signed.is_some_and(|v| v.truthy()) {
        BigInt::from_signed_bytes_le(&bytes)
    } else {
        BigInt::from_bytes_le(num_bigint::Sign::Plus, &bytes)
    };
    Ok(norm(n))
}

fn byte_order(order: Option<Value>) -> Result<bool, Exception> {
    match order {
        None => Ok(true),
        Some(Value::Str(s)) if &*s == "big" => Ok(true),
        Some(Value::Str(s)) if &*s == "little" => Ok(false),
        Some(Value::Str(_)) => Err(Exception::value_error("byteorder must be either 'little' or 'big'")),
        Some(other) => Err(Exception::type_error(format!(
            "to_bytes() argument 'byteorder' must be str, not {}",
            other.type_name()
        ))),
    }
}

/// A `range` whose bounds or length do not fit 64 bits (`range(2**100, 2**100 + 3)`).
#[derive(Debug)]
pub struct BigRange {
    pub start: BigInt,
    pub stop: BigInt,
    pub step: BigInt,
}

impl BigRange {
    /// `range(start, stop, step)` of ints of any size (step not zero): a
    /// `Value::Range` where everything fits 64 bits, else a `Value::BigRange`.
    pub fn value(start: BigInt, stop: BigInt, step: BigInt) -> Value {
        let range = BigRange { start, stop, step };
        let small = (range.start.to_i64(), range.stop.to_i64(), range.step.to_i64(), range.len().to_i64());
        match small {
            (Some(start), Some(stop), Some(step), Some(_)) => Value::Range { start, stop, step },
            _ => Value::BigRange(Arc::new(range)),
        }
    }

    pub fn len(&self) -> BigInt {
        if self.step.is_positive() && self.start < self.stop {
            (&self.stop - &self.start + &self.step - 1) / &self.step
        } else if self.step.is_negative() && self.start > self.stop {
            (&self.start - &self.stop - &self.step - 1) / -&self.step
        } else {
            BigInt::zero()
        }
    }

    /// `len(r)`: past `sys.maxsize`, OverflowError as in CPython.
    pub fn checked_len(&self) -> Result<i64, Exception> {
        self.len().to_i64().ok_or_else(ssize_error)
    }

    /// `r[i]`, None out of range.
    pub fn get(&self, i: i64) -> Option<Value> {
        let n = self.len();
        let i = BigInt::from(i);
        let j = if i.is_negative() { &n + i } else { i };
        (!j.is_negative() && j < n).then(|| norm(&self.start + j * &self.step))
    }

    pub fn contains(&self, x: &BigInt) -> bool {
        let in_bounds = if self.step.is_positive() {
            &self.start <= x && x < &self.stop
        } else {
            &self.stop < x && x <= &self.start
        };
        in_bounds && (x - &self.start).mod_floor(&self.step).is_zero()
    }

    pub fn repr(&self) -> String {
        if self.step == BigInt::from(1) {
            format!("range({}, {})", self.start, self.stop)
        } else {
            format!("range({}, {}, {})", self.start, self.stop, self.step)
        }
    }

    /// Ranges are equal when they hold the same numbers.
    pub fn same(&self, other: &BigRange) -> bool {
        let (la, lb) = (self.len(), other.len());
        la == lb && (la.is_zero() || (self.start == other.start && (la == BigInt::from(1) || self.step == other.step)))
    }

    /// A range of 64-bit bounds as a `BigRange`, to compare with one.
    pub fn of(start: i64, stop: i64, step: i64) -> BigRange {
        BigRange { start: start.into(), stop: stop.into(), step: step.into() }
    }
}
