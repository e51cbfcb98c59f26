//! Binding call arguments to parameters, with Python's error messages, and the
//! argument conversions builtins share (`to_int`, `to_bytes`, …).

use std::sync::Arc;

use super::exception::Exception;
use super::value::{Value, as_int, lock};
use socklab_wire::op::Op;

/// Keyword arguments, in call order.
pub type Keywords = Vec<(String, Value)>;

/// The arguments of one call, before binding.
pub struct Args {
    /// The function's name for messages, e.g. `recv` or `len`.
    pub name: String,
    pub positional: Vec<Value>,
    pub keywords: Keywords,
}

impl Args {
    pub fn new(name: impl Into<String>, positional: Vec<Value>, keywords: Keywords) -> Args {
        Args {
            name: name.into(),
            positional,
            keywords,
        }
    }

    /// Binds to `params`; the first `required` must be given.
    pub fn bind<const N: usize>(
        self,
        params: [&str; N],
        required: usize,
    ) -> Result<[Option<Value>; N], Exception> {
        let name = self.name;
        if self.positional.len() > N {
            let msg = if N == 0 {
                format!(
                    "{name}() takes no arguments ({} given)",
                    self.positional.len()
                )
            } else if required == N {
                format!(
                    "{name}() takes exactly {N} argument{} ({} given)",
                    plural(N),
                    self.positional.len()
                )
            } else {
                format!(
                    "{name}() takes at most {N} argument{} ({} given)",
                    plural(N),
                    self.positional.len()
                )
            };
            return Err(Exception::type_error(msg));
        }
        let mut out: [Option<Value>; N] = std::array::from_fn(|_| None);
        for (slot, v) in out.iter_mut().zip(self.positional) {
            *slot = Some(v);
        }
        for (key, v) in self.keywords {
            let Some(i) = params.iter().position(|p| *p == key) else {
                return Err(Exception::type_error(format!(
                    "{name}() got an unexpected keyword argument '{key}'"
                )));
            };
            if out[i].is_some() {
                return Err(Exception::type_error(format!(
                    "{name}() got multiple values for argument '{key}'"
                )));
            }
            out[i] = Some(v);
        }
        if let Some(i) = out.iter().take(required).position(Option::is_none) {
            return Err(Exception::type_error(format!(
                "{name}() missing required argument '{}' (pos {})",
                params[i],
                i + 1
            )));
        }
        Ok(out)
    }

    /// Binds to a socket op's parameters, as the op table lists them.
    pub fn bind_op<const N: usize>(self, op: Op) -> Result<[Option<Value>; N], Exception> {
        let info = op.info();
        match <[&str; N]>::try_from(info.params) {
            Ok(params) => self.bind(params, info.required),
            // Only a caller that disagrees with the table gets here; the tests call every op.
            Err(_) => Err(Exception::type_error(format!(
                "{}() is bound with {N} parameters, not the table's {}",
                info.name,
                info.params.len()
            ))),
        }
    }

    /// All positional arguments (for `print(*args)`, `min`, `max`), plus the keywords.
    pub fn varargs(self, keywords: &[&str]) -> Result<(Vec<Value>, Keywords), Exception> {
        if let Some((k, _)) = self
            .keywords
            .iter()
            .find(|(k, _)| !keywords.contains(&k.as_str()))
        {
            return Err(Exception::type_error(format!(
                "{}() got an unexpected keyword argument '{k}'",
                self.name
            )));
        }
        Ok((self.positional, self.keywords))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// An int argument (bools count, as in Python).
pub fn to_int(v: &Value) -> Result<i64, Exception> {
    if let Value::BigInt(_) = v {
        return Err(super::bigint::ssize_error());
    }
    as_int(v).ok_or_else(|| {
        Exception::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            v.type_name()
        ))
    })
}

/// An int argument that must fit a C int.
pub fn to_i32(v: &Value) -> Result<i32, Exception> {
    if let Value::BigInt(_) = v {
        return Err(Exception::overflow("Python int too large to convert to C int"));
    }
    let i = to_int(v)?;
    i32::try_from(i).map_err(|_| Exception::overflow("signed integer is greater than maximum"))
}

/// A str argument, or bytes read as UTF-8 (where Python takes either: a path, a host, a number's text).
pub fn to_text(v: &Value) -> Result<String, Exception> {
    match v {
        Value::Str(s) => Ok(s.to_string()),
        Value::Bytes(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        Value::ByteArray(b) => Ok(String::from_utf8_lossy(&lock(b)).into_owned()),
        other => Err(Exception::type_error(format!(
            "str, bytes or bytearray expected, not {}",
            other.type_name()
        ))),
    }
}

/// A bytes-like argument.
pub fn to_bytes(v: &Value) -> Result<Arc<[u8]>, Exception> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        Value::ByteArray(b) => Ok(Arc::from(lock(b).as_slice())),
        Value::MemoryView(m) => Ok(Arc::from(m.tobytes()?)),
        other => Err(Exception::type_error(format!(
            "a bytes-like object is required, not '{}'",
            other.type_name()
        ))),
    }
}

/// A number of seconds (int or float), or None.
pub fn to_seconds(v: &Value, what: &str) -> Result<Option<f64>, Exception> {
    match v {
        Value::None => Ok(None),
        Value::Int(_) | Value::Bool(_) | Value::Float(_) => super::value::as_number(v).map(checked_seconds).transpose(),
        Value::BigInt(_) => Err(Exception::overflow("timestamp too large to convert to C _PyTime_t")),
        other => Err(Exception::type_error(format!(
            "{what} must be a number or None, not {}",
            other.type_name()
        ))),
    }
}

/// A time in seconds as CPython takes one (it keeps 64-bit nanoseconds): NaN
/// is a `ValueError`, anything beyond about ±292 years an `OverflowError`.
pub fn checked_seconds(t: f64) -> Result<f64, Exception> {
    if t.is_nan() {
        return Err(Exception::value_error("Invalid value NaN (not a number)"));
    }
    if (t * 1e9).abs() >= i64::MAX as f64 {
        return Err(Exception::overflow("timestamp out of range for platform time_t"));
    }
    Ok(t)
}

/// The items of anything a `for` loop can walk, materialized.
pub fn iterate(v: &Value) -> Result<Vec<Value>, Exception> {
    Ok(match v {
        Value::Tuple(t) => t.to_vec(),
        Value::List(l) => lock(l).to_vec(),
        Value::Dict(d) => super::dict::keys(d),
        Value::Set(s) | Value::FrozenSet(s) => lock(s).to_vec(),
        Value::Str(s) => s.chars().map(|c| Value::str(c.to_string())).collect(),
        Value::Bytes(b) => b.iter().map(|&x| Value::Int(i64::from(x))).collect(),
        Value::ByteArray(b) => lock(b).iter().map(|&x| Value::Int(i64::from(x))).collect(),
        Value::Range { start, stop, step } => {
            let n = super::value::range_len(*start, *stop, *step);
            if n > super::ops::MAX_ITEMS as i64 {
                return Err(Exception::memory());
            }
            super::ops::reserve_items(usize::try_from(n).unwrap_or(0))?;
            (0..n).map(|i| Value::Int(start + i * step)).collect()
        }
        Value::BigRange(r) => {
            let n = r.checked_len().map_err(|_| Exception::memory())?;
            if n > super::ops::MAX_ITEMS as i64 {
                return Err(Exception::memory());
            }
            super::ops::reserve_items(usize::try_from(n).unwrap_or(0))?;
            (0..n).filter_map(|i| r.get(i)).collect()
        }
        Value::Generator(g) => g.rest()?,
        Value::MemoryView(m) => m.tobytes()?.into_iter().map(|x| Value::Int(i64::from(x))).collect(),
        other => {
            return Err(Exception::type_error(format!(
                "'{}' object is not iterable",
                other.type_name()
            )));
        }
    })
}
