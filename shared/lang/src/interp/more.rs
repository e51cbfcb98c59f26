//! The builtins over sequences, numbers and types: `sorted`, `enumerate`, `zip`,
//! `reversed`, `any`, `all`, `map`, `filter`, `round`, `divmod`, `pow`, `oct`,
//! `bin`, `isinstance`, `type`, `getattr`, `hasattr`.
//!
//! Where CPython returns a lazy iterator (`enumerate`, `zip`, `map`, …) these
//! return a list: scripts iterate it the same way (see docs/language.md).

use std::cmp::Ordering;

use super::args::{Args, iterate, to_int};
use super::builtins::Ctx;
use super::exception::Exception;
use super::methods;
use super::ops;
use super::sockets::Flow;
use super::value::{Value, as_int, lock, py_cmp};
use crate::ast::BinOp;
use crate::names::{Builtin, ExcClass};

fn value(v: Value) -> Result<Flow, Exception> {
    Ok(Flow::Value(v))
}

/// Calls a callable that answers at once (a builtin, a method, a library
/// function). Script functions are called by the VM (see `vm.rs`).
pub fn call_simple(f: &Value, args: Vec<Value>, ctx: &mut Ctx<'_>) -> Result<Value, Exception> {
    match methods::call_value(f, Args::new(String::new(), args, Vec::new()), ctx)? {
        Flow::Value(v) => Ok(v),
        _ => Err(Exception::type_error(
            "a socket call cannot run inside sorted(), map() or filter()",
        )),
    }
}

fn not_supported(a: &Value, b: &Value) -> Exception {
    Exception::type_error(format!(
        "'<' not supported between instances of '{}' and '{}'",
        a.type_name(),
        b.type_name()
    ))
}

/// Sorts `items` by `keys` (stable; `reverse` keeps equal items in order, as CPython does).
pub fn sort_by_keys(items: Vec<Value>, keys: Vec<Value>, reverse: bool) -> Result<Vec<Value>, Exception> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    let mut failed = None;
    order.sort_by(|&a, &b| {
        let (ka, kb) = (&keys[a], &keys[b]);
        let ord = py_cmp(ka, kb).unwrap_or_else(|| {
            failed.get_or_insert_with(|| not_supported(ka, kb));
            Ordering::Equal
        });
        if reverse { ord.reverse() } else { ord }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let mut slots: Vec<Option<Value>> = items.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

/// The class a value belongs to, as `type()` returns it.
pub fn type_of(v: &Value) -> Value {
    let builtin = match v {
        Value::Bool(_) => Builtin::Bool,
        Value::Int(_) | Value::BigInt(_) => Builtin::Int,
        Value::Float(_) => Builtin::Float,
        Value::Str(_) => Builtin::Str,
        Value::Bytes(_) => Builtin::Bytes,
        Value::ByteArray(_) => Builtin::Bytearray,
        Value::Tuple(_) => Builtin::Tuple,
        Value::List(_) => Builtin::List,
        Value::Dict(_) => Builtin::Dict,
        Value::Set(_) => Builtin::Set,
        Value::FrozenSet(_) => Builtin::Frozenset,
        Value::Range { .. } | Value::BigRange(_) => Builtin::Range,
        Value::Object(_) if super::library::slice_parts(v).is_some() => Builtin::Slice,
        Value::Exception(e) => return Value::ExcClass(e.class),
        // Instances of the script's classes (an `except … as e` of one included).
        Value::Instance(i) => return Value::Class(i.class.clone()),
        Value::Special(super::class::Special::NotImplemented) => return Value::Type("NotImplementedType"),
        Value::ExcClass(_) | Value::Type(_) | Value::Class(_) | Value::Special(_) => Builtin::Type,
        Value::Builtin(b) if super::library::is_type(*b) => Builtin::Type,
        other => return Value::Type(other.type_name()),
    };
    Value::Builtin(builtin)
}

/// The name argument of `getattr` and its kin.
pub(super) fn attr_name(name: Option<Value>) -> Result<std::sync::Arc<str>, Exception> {
    match name {
        Some(Value::Str(name)) => Ok(name),
        other => Err(Exception::type_error(format!(
            "attribute name must be string, not '{}'",
            other.unwrap_or(Value::None).type_name()
        ))),
    }
}

/// `isinstance(v, class)` for one class.
fn is_instance(v: &Value, class: &Value) -> Result<bool, Exception> {
    Ok(match class {
        Value::Builtin(Builtin::Int) => matches!(v, Value::Int(_) | Value::BigInt(_) | Value::Bool(_)),
        Value::Builtin(b) if super::library::is_type(*b) => {
            matches!(type_of(v), Value::Builtin(t) if t == *b)
        }
        // The script's classes, and builtin exception classes for instances of
        // the script's exception classes too.
        Value::ExcClass(_) | Value::Class(_) | Value::Special(_) => super::classes::isinstance(v, class),
        Value::Type(name) => v.type_name() == *name && !matches!(v, Value::Exception(_)),
        Value::Tuple(classes) => {
            for c in classes.iter() {
                if is_instance(v, c)? {
                    return Ok(true);
                }
            }
            false
        }
        _ => {
            return Err(Exception::type_error(
                "isinstance() arg 2 must be a type, a tuple of types, or a union",
            ));
        }
    })
}

/// CPython's `round(x, n)` of a float: the exact binary value rounded half to even.
fn round_float(x: f64, ndigits: i64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if ndigits >= 0 {
        let n = ndigits.min(400) as usize;
        format!("{x:.n$}").parse().unwrap_or(x)
    } else {
        let p = 10f64.powi((-ndigits).min(400) as i32);
        (x / p).round_ties_even() * p
    }
}

fn int_pow_mod(base: i64, exp: i64, m: i64) -> Result<i64, Exception> {
    if m == 0 {
        return Err(Exception::value_error("pow() 3rd argument cannot be 0"));
    }
    if exp < 0 {
        return Err(Exception::value_error(
            "socklab's pow() takes a non-negative exponent with a modulus",
        ));
    }
    let m128 = i128::from(m);
    let mut result: i128 = 1;
    let mut b = i128::from(base).rem_euclid(m128.abs());
    let mut e = exp;
    while e > 0 {
        if e & 1 == 1 {
            result = result * b % m128.abs();
        }
        b = b * b % m128.abs();
        e >>= 1;
    }
    // Python's result has the modulus' sign.
    let mut r = result.rem_euclid(m128.abs());
    if m < 0 && r != 0 {
        r += m128;
    }
    Ok(r as i64)
}

fn radix(i: i64, prefix: &str, digits: impl Fn(u64) -> String) -> Value {
    let sign = if i < 0 { "-" } else { "" };
    Value::str(format!("{sign}{prefix}{}", digits(i.unsigned_abs())))
}

pub fn call(builtin: Builtin, args: Args, ctx: &mut Ctx<'_>) -> Result<Flow, Exception> {
    match builtin {
        Builtin::Sorted => {
            let (items, keywords) = args.varargs(&["key", "reverse"])?;
            let [iterable] = <[Value; 1]>::try_from(items).map_err(|items| {
                Exception::type_error(format!(
                    "sorted expected 1 argument, got {}",
                    items.len()
                ))
            })?;
            let mut key = None;
            let mut reverse = false;
            for (k, v) in keywords {
                if k == "key" {
                    key = Some(v).filter(|v| !matches!(v, Value::None));
                } else {
                    reverse = v.truthy();
                }
            }
            let items = iterate(&iterable)?;
            let keys = match &key {
                Some(f) => items
                    .iter()
                    .map(|x| call_simple(f, vec![x.clone()], ctx))
                    .collect::<Result<Vec<_>, _>>()?,
                None => items.clone(),
            };
            value(Value::list(sort_by_keys(items, keys, reverse)?))
        }
        Builtin::Enumerate => {
            let [iterable, start] = args.bind(["iterable", "start"], 1)?;
            let start = start.map_or(Ok(0), |s| to_int(&s))?;
            if let Some(Value::Generator(genr)) = iterable.as_ref().filter(|g| super::generator::is_lazy(g)) {
                // Lazy, as in Python: each `for` step resumes the generator.
                return value(Value::Iter(Box::new(super::value::IterState::Gen { genr: genr.clone(), next: start })));
            }
            if let Some(Value::File(file)) = &iterable {
                // A file's lines need `recv` calls: the VM reads them as the `for` asks.
                return value(Value::Iter(Box::new(super::value::IterState::FileEnum { file: file.clone(), next: start })));
            }
            let items = iterate(&iterable.unwrap_or(Value::None))?;
            value(Value::list(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| Value::tuple(vec![Value::Int(start.saturating_add(i as i64)), v]))
                    .collect(),
            ))
        }
        // `next()` and `iter()` of generators are the VM's (see `generator.rs`).
        Builtin::Iter => {
            let [it] = args.bind(["iterable"], 1)?;
            value(super::generator::iter_of(&it.unwrap_or(Value::None))?)
        }
        Builtin::Next => {
            let [it, _] = args.bind(["iterator", "default"], 1)?;
            Err(Exception::type_error(format!(
                "'{}' object is not an iterator",
                it.unwrap_or(Value::None).type_name()
            )))
        }
        Builtin::Zip => {
            let (items, _) = args.varargs(&["strict"])?;
            let columns = items.iter().map(iterate).collect::<Result<Vec<_>, _>>()?;
            let n = columns.iter().map(Vec::len).min().unwrap_or(0);
            value(Value::list(
                (0..n)
                    .map(|i| Value::tuple(columns.iter().map(|c| c[i].clone()).collect()))
                    .collect(),
            ))
        }
        Builtin::Reversed => {
            let [seq] = args.bind(["sequence"], 1)?;
            let seq = seq.unwrap_or(Value::None);
            if matches!(seq, Value::Set(_) | Value::FrozenSet(_)) {
                return Err(Exception::type_error(format!("'{}' object is not reversible", seq.type_name())));
            }
            let mut items = iterate(&seq)?;
            items.reverse();
            value(Value::list(items))
        }
        Builtin::Any | Builtin::All => {
            let [it] = args.bind(["iterable"], 1)?;
            let items = iterate(&it.unwrap_or(Value::None))?;
            let result = if builtin == Builtin::Any {
                items.iter().any(Value::truthy)
            } else {
                items.iter().all(Value::truthy)
            };
            value(Value::Bool(result))
        }
        Builtin::Map => {
            let (items, _) = args.varargs(&[])?;
            let Some((f, iterables)) = items.split_first() else {
                return Err(Exception::type_error("map() must have at least two arguments."));
            };
            if iterables.is_empty() {
                return Err(Exception::type_error("map() must have at least two arguments."));
            }
            let columns = iterables.iter().map(iterate).collect::<Result<Vec<_>, _>>()?;
            let n = columns.iter().map(Vec::len).min().unwrap_or(0);
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                out.push(call_simple(f, columns.iter().map(|c| c[i].clone()).collect(), ctx)?);
            }
            value(Value::list(out))
        }
        Builtin::Filter => {
            let [f, it] = args.bind(["function", "iterable"], 2)?;
            let f = f.unwrap_or(Value::None);
            let mut out = Vec::new();
            for item in iterate(&it.unwrap_or(Value::None))? {
                let keep = match &f {
                    Value::None => item.truthy(),
                    f => call_simple(f, vec![item.clone()], ctx)?.truthy(),
                };
                if keep {
                    out.push(item);
                }
            }
            value(Value::list(out))
        }
        Builtin::Round => {
            let [x, nd] = args.bind(["number", "ndigits"], 1)?;
            let x = x.unwrap_or(Value::None);
            let nd = nd.filter(|v| !matches!(v, Value::None)).map(|v| to_int(&v)).transpose()?;
            match (&x, nd) {
                (Value::Float(f), None) => {
                    let r = f.round_ties_even();
                    if f.is_nan() {
                        return Err(Exception::value_error("cannot convert float NaN to integer"));
                    }
                    if r.is_infinite() {
                        return Err(Exception::overflow("cannot convert float infinity to integer"));
                    }
                    if r.abs() >= 9.223_372_036_854_776e18 {
                        return value(super::bigint::from_float(r).unwrap_or(Value::Int(0)));
                    }
                    value(Value::Int(r as i64))
                }
                (Value::Float(f), Some(n)) => value(Value::Float(round_float(*f, n))),
                (Value::BigInt(b), Some(n)) if n < 0 => value(super::bigint::round(b, n.unsigned_abs())?),
                (Value::BigInt(_), _) => value(x.clone()),
                _ => match as_int(&x) {
                    Some(i) => match nd {
                        Some(n) if n < 0 => {
                            if n < -18 || i.unsigned_abs() > 1 << 62 {
                                return value(super::bigint::round(&i.into(), n.unsigned_abs())?);
                            }
                            let p = 10i128.checked_pow((-n).min(38) as u32).unwrap_or(i128::MAX);
                            let v = i128::from(i);
                            let (q, r) = (v.div_euclid(p), v.rem_euclid(p));
                            let q = match (2 * r).cmp(&p) {
                                Ordering::Greater => q + 1,
                                Ordering::Equal if q % 2 != 0 => q + 1,
                                _ => q,
                            };
                            value(Value::Int(i64::try_from(q * p).unwrap_or(0)))
                        }
                        _ => value(Value::Int(i)),
                    },
                    None => Err(Exception::type_error(format!(
                        "type {} doesn't define __round__ method",
                        x.type_name()
                    ))),
                },
            }
        }
        Builtin::Divmod => {
            let [a, b] = args.bind(["x", "y"], 2)?;
            let (a, b) = (a.unwrap_or(Value::None), b.unwrap_or(Value::None));
            let q = ops::binary(BinOp::FloorDiv, &a, &b).map_err(|e| {
                if e.class == ExcClass::ZeroDivisionError && matches!(a, Value::Float(_)) || matches!(b, Value::Float(_)) {
                    Exception::new(e.class, if e.class == ExcClass::ZeroDivisionError { "float divmod()".to_string() } else { e.message.replace("//", "divmod()") })
                } else {
                    Exception::new(e.class, e.message.replace("//", "divmod()"))
                }
            })?;
            let r = ops::binary(BinOp::Mod, &a, &b)?;
            value(Value::tuple(vec![q, r]))
        }
        Builtin::Pow => {
            let [base, exp, m] = args.bind(["base", "exp", "mod"], 2)?;
            let (base, exp) = (base.unwrap_or(Value::None), exp.unwrap_or(Value::None));
            match m.filter(|v| !matches!(v, Value::None)) {
                None => value(ops::binary(BinOp::Pow, &base, &exp)?),
                Some(m) => match (as_int(&base), as_int(&exp), as_int(&m)) {
                    (Some(b), Some(e), Some(m)) if e >= 0 => value(Value::Int(int_pow_mod(b, e, m)?)),
                    _ if [&base, &exp, &m].iter().all(|v| super::bigint::is_integral(v)) => {
                        let big = |v: &Value| super::bigint::to_big(v).unwrap_or_default();
                        value(super::bigint::pow_mod(&big(&base), &big(&exp), &big(&m))?)
                    }
                    _ => Err(Exception::type_error(
                        "pow() 3rd argument not allowed unless all arguments are integers",
                    )),
                },
            }
        }
        Builtin::Oct => {
            let [x] = args.bind(["number"], 1)?;
            if let Some(Value::BigInt(b)) = &x {
                return value(Value::str(super::bigint::with_prefix(b, 8, "0o")));
            }
            let i = to_int(&x.unwrap_or(Value::None))?;
            value(radix(i, "0o", |u| format!("{u:o}")))
        }
        Builtin::Bin => {
            let [x] = args.bind(["number"], 1)?;
            if let Some(Value::BigInt(b)) = &x {
                return value(Value::str(super::bigint::with_prefix(b, 2, "0b")));
            }
            let i = to_int(&x.unwrap_or(Value::None))?;
            value(radix(i, "0b", |u| format!("{u:b}")))
        }
        Builtin::Isinstance => {
            let [v, class] = args.bind(["obj", "class_or_tuple"], 2)?;
            let v = v.unwrap_or(Value::None);
            value(Value::Bool(is_instance(&v, &class.unwrap_or(Value::None))?))
        }
        Builtin::Type => {
            let (items, _) = args.varargs(&[])?;
            match items.as_slice() {
                [one] => value(type_of(one)),
                _ => Err(Exception::type_error("type() takes 1 argument")),
            }
        }
        Builtin::Getattr | Builtin::Hasattr => {
            let [obj, name, default] = args.bind(["object", "name", "default"], 2)?;
            let obj = obj.unwrap_or(Value::None);
            let name = attr_name(name)?;
            let found = methods::get_attr(&obj, &name);
            match (builtin, found, default) {
                (Builtin::Hasattr, found, _) => match found {
                    Ok(_) => value(Value::Bool(true)),
                    Err(e) if e.class == ExcClass::AttributeError => value(Value::Bool(false)),
                    Err(e) => Err(e),
                },
                (_, Ok(v), _) => value(v),
                (_, Err(e), Some(d)) if e.class == ExcClass::AttributeError => value(d),
                (_, Err(e), _) => Err(e),
            }
        }
        Builtin::Setattr => {
            let [obj, name, v] = args.bind(["obj", "name", "value"], 3)?;
            let name = attr_name(name)?;
            match obj.unwrap_or(Value::None) {
                Value::Instance(inst) => {
                    lock(&inst.attrs).insert(name.to_string(), v.unwrap_or(Value::None));
                    value(Value::None)
                }
                other => Err(Exception::new(
                    ExcClass::AttributeError,
                    format!("'{}' object has no attribute '{name}'", other.type_name()),
                )),
            }
        }
        Builtin::Delattr => {
            let [obj, name] = args.bind(["obj", "name"], 2)?;
            let name = attr_name(name)?;
            let obj = obj.unwrap_or(Value::None);
            Err(Exception::new(
                ExcClass::AttributeError,
                format!("'{}' object has no attribute '{name}'", obj.type_name()),
            ))
        }
        Builtin::Vars => {
            let [obj] = args.bind(["object"], 1)?;
            match obj.unwrap_or(Value::None) {
                Value::Instance(inst) => {
                    // A snapshot, in the order the attributes were first set.
                    let items: Vec<(String, Value)> =
                        lock(&inst.attrs).iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    value(super::dict::new(items.into_iter().map(|(k, v)| (Value::str(k), v)).collect()))
                }
                _ => Err(Exception::type_error("vars() argument must have __dict__ attribute")),
            }
        }
        other => Err(Exception::type_error(format!("{}() is not a library builtin", other.name()))),
    }
}

/// What a builtin does with the results of its script-function calls.
#[derive(Debug)]
pub enum Finish {
    Sorted { items: Vec<Value>, reverse: bool },
    Map,
    Filter { items: Vec<Value> },
    MinMax { items: Vec<Value>, max: bool, default: Option<Value> },
}

/// The call-function plan of a builtin, when the function it is given is a
/// script function (which only the VM can call: it needs frames): the
/// function, one argument list per call, and what to do with the results.
pub type Plan = (Value, Vec<Value>, Finish);

/// The plan for `sorted(xs, key=f)`, `map(f, …)`, `filter(f, xs)`,
/// `min/max(…, key=f)` with a script function `f`; None otherwise.
pub fn callback_plan(
    builtin: Builtin,
    positional: &[Value],
    keywords: &[(String, Value)],
) -> Result<Option<Plan>, Exception> {
    let kw = |name: &str| keywords.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let one = |items: Vec<Value>| items.into_iter().map(|x| Value::list(vec![x])).collect::<Vec<_>>();
    Ok(match builtin {
        Builtin::Sorted => match (kw("key"), positional) {
            (Some(f @ Value::Function(_)), [iterable]) => {
                let items = iterate(iterable)?;
                let reverse = kw("reverse").is_some_and(|v| v.truthy());
                Some((f, one(items.clone()), Finish::Sorted { items, reverse }))
            }
            _ => None,
        },
        Builtin::Min | Builtin::Max => match kw("key") {
            Some(f @ Value::Function(_)) => {
                let items = match positional {
                    [one] => iterate(one)?,
                    [] => return Ok(None),
                    many => many.to_vec(),
                };
                let finish = Finish::MinMax {
                    items: items.clone(),
                    max: builtin == Builtin::Max,
                    default: kw("default"),
                };
                Some((f, one(items), finish))
            }
            _ => None,
        },
        Builtin::Map => match positional {
            [f @ Value::Function(_), iterables @ ..] if !iterables.is_empty() => {
                let columns = iterables.iter().map(iterate).collect::<Result<Vec<_>, _>>()?;
                let n = columns.iter().map(Vec::len).min().unwrap_or(0);
                let calls = (0..n)
                    .map(|i| Value::list(columns.iter().map(|c| c[i].clone()).collect()))
                    .collect();
                Some((f.clone(), calls, Finish::Map))
            }
            _ => None,
        },
        Builtin::Filter => match positional {
            [f @ Value::Function(_), iterable] => {
                let items = iterate(iterable)?;
                Some((f.clone(), one(items.clone()), Finish::Filter { items }))
            }
            _ => None,
        },
        _ => None,
    })
}

/// The builtin's answer from its items and the function's results.
pub fn finish(f: &Finish, results: Vec<Value>) -> Result<Value, Exception> {
    Ok(match f {
        Finish::Map => Value::list(results),
        Finish::Sorted { items, reverse } => Value::list(sort_by_keys(items.clone(), results, *reverse)?),
        Finish::Filter { items } => Value::list(
            items
                .iter()
                .zip(&results)
                .filter(|(_, r)| r.truthy())
                .map(|(x, _)| x.clone())
                .collect(),
        ),
        Finish::MinMax { items, max, default } => best_by_key(items, &results, *max, default.clone())?,
    })
}

/// min/max by precomputed keys: the first of the best, as CPython picks it.
pub fn best_by_key(items: &[Value], keys: &[Value], max: bool, default: Option<Value>) -> Result<Value, Exception> {
    let name = if max { "max" } else { "min" };
    let mut best: Option<usize> = None;
    for i in 0..items.len() {
        best = Some(match best {
            None => i,
            Some(b) => {
                let ord = py_cmp(&keys[i], &keys[b]).ok_or_else(|| not_supported(&keys[i], &keys[b]))?;
                let better = if max { ord.is_gt() } else { ord.is_lt() };
                if better { i } else { b }
            }
        });
    }
    match (best, default) {
        (Some(i), _) => Ok(items[i].clone()),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(Exception::value_error(format!("{name}() arg is an empty sequence"))),
    }
}
