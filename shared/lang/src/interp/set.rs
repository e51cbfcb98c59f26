//! Python sets: distinct hashable items, kept in insertion order (see
//! docs/language.md: CPython's order follows hashes), found by `==` like dict keys.

use std::sync::{Arc, Mutex};

use super::args::{Args, iterate};
use super::dict::{check_hashable, key_error};
use super::exception::Exception;
use super::dunder::{self, key_position};
use super::value::{List, Value, lock};
use crate::names::ExcClass;

/// A set from items, dropping repeats; a list or dict item raises `unhashable type`.
pub fn from_items(items: Vec<Value>) -> Result<Value, Exception> {
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        check_hashable(&item)?;
        if key_position(&out, &item).is_none() {
            out.push(item);
        }
    }
    Ok(Value::Set(Arc::new(Mutex::new(out.into()))))
}

pub fn contains(s: &List, item: &Value) -> Result<bool, Exception> {
    check_hashable(item)?;
    Ok(key_position(lock(s).iter(), item).is_some())
}

/// `s.add(x)`, and a set comprehension's item.
pub fn add(s: &List, x: Value) -> Result<(), Exception> {
    if !contains(s, &x)? {
        if dunder::pending() {
            return Err(dunder::retry());
        }
        lock(s).push(x);
    }
    Ok(())
}

/// `set()`, `set(iterable)`.
pub fn construct(args: Args) -> Result<Value, Exception> {
    let [x] = args.bind(["iterable"], 0)?;
    from_items(x.map(|v| iterate(&v)).transpose()?.unwrap_or_default())
}

/// `a | b`, `a & b`, `a - b`, `a ^ b` on two sets.
pub fn operator(symbol: &str, a: &List, b: &List) -> Result<Value, Exception> {
    let (xs, ys) = (lock(a).clone(), lock(b).clone());
    let in_ys = |x: &Value| key_position(ys.iter(), x).is_some();
    let in_xs = |y: &Value| key_position(xs.iter(), y).is_some();
    let items: Vec<Value> = match symbol {
        "|" => xs.iter().chain(ys.iter()).cloned().collect(),
        "&" => xs.iter().filter(|x| in_ys(x)).cloned().collect(),
        "-" => xs.iter().filter(|x| !in_ys(x)).cloned().collect(),
        _ => xs
            .iter()
            .filter(|x| !in_ys(x))
            .chain(ys.iter().filter(|y| !in_xs(y)))
            .cloned()
            .collect(),
    };
    from_items(items)
}

/// A set made by a method or an operator of a frozenset: a frozenset.
pub fn freeze(v: Value) -> Value {
    match v {
        Value::Set(s) => Value::FrozenSet(s),
        other => other,
    }
}

/// What a frozenset has of the set methods: those that change nothing.
pub const FROZEN_METHODS: &[&str] = &["copy", "union", "intersection", "difference"];

pub const METHODS: &[&str] = &[
    "add",
    "remove",
    "discard",
    "pop",
    "clear",
    "copy",
    "update",
    "union",
    "intersection",
    "difference",
];

pub fn method(s: &List, name: &str, args: Args) -> Result<Value, Exception> {
    match name {
        "add" => {
            let [x] = args.bind(["elem"], 1)?;
            add(s, x.unwrap_or(Value::None))?;
            Ok(Value::None)
        }
        "remove" | "discard" => {
            let [x] = args.bind(["elem"], 1)?;
            let x = x.unwrap_or(Value::None);
            check_hashable(&x)?;
            let mut items = lock(s);
            let found = key_position(items.iter(), &x);
            if dunder::pending() {
                return Err(dunder::retry());
            }
            match found {
                Some(i) => {
                    items.remove(i);
                }
                None if name == "remove" => return Err(key_error(&x)),
                None => {}
            }
            Ok(Value::None)
        }
        "pop" => {
            args.bind::<0>([], 0)?;
            let mut items = lock(s);
            if items.is_empty() {
                return Err(Exception::new(
                    ExcClass::KeyError,
                    "'pop from an empty set'",
                ));
            }
            Ok(items.remove(0))
        }
        "clear" => {
            args.bind::<0>([], 0)?;
            lock(s).clear();
            Ok(Value::None)
        }
        "copy" => {
            args.bind::<0>([], 0)?;
            let items = lock(s).clone();
            Ok(Value::Set(Arc::new(Mutex::new(items))))
        }
        "update" | "union" | "intersection" | "difference" => {
            let mut result = lock(s).to_vec();
            for other in &args.positional {
                let others = iterate(other)?;
                for o in &others {
                    check_hashable(o)?;
                }
                let has = |x: &Value| key_position(&others, x).is_some();
                result = match name {
                    "intersection" => result.into_iter().filter(|x| has(x)).collect(),
                    "difference" => result.into_iter().filter(|x| !has(x)).collect(),
                    _ => result.into_iter().chain(others.iter().cloned()).collect(),
                };
            }
            let set = from_items(result)?;
            if dunder::pending() {
                return Err(dunder::retry());
            }
            if name == "update" {
                if let Value::Set(new) = set {
                    *lock(s) = lock(&new).clone();
                }
                return Ok(Value::None);
            }
            Ok(set)
        }
        _ => Err(Exception::new(
            ExcClass::AttributeError,
            format!("'set' object has no attribute '{name}'"),
        )),
    }
}
