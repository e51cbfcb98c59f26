//! Python dicts: insertion-ordered pairs looked up by `==` on hashable keys.
//!
//! A linear scan instead of a hash table: script dicts are small, and equality
//! then follows `py_eq` exactly (`1`, `1.0` and `True` are one key, as in Python);
//! an instance key is compared as CPython probes (`dunder::key_position`).

use std::sync::{Arc, Mutex};

use super::args::{Args, iterate};
use super::exception::Exception;
use super::dunder;
use super::value::{Dict, Pairs, Value, lock};
use crate::names::ExcClass;

pub fn new(items: Vec<(Value, Value)>) -> Value {
    Value::Dict(Arc::new(Mutex::new(items.into())))
}

/// Python's `TypeError: unhashable type` for keys that cannot be hashed.
/// An instance's `__hash__` is asked for, as CPython calls it for every key.
pub fn check_hashable(key: &Value) -> Result<(), Exception> {
    match key {
        Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::ByteArray(_) => Err(dunder::unhashable(key.type_name())),
        Value::Tuple(items) => {
            let Some(_level) = super::deep::Guard::enter("while hashing") else { return Ok(()) };
            items.iter().try_for_each(check_hashable)
        }
        Value::Instance(_) => dunder::hash(key).map(|_| ()),
        Value::Object(_) if super::library::slice_parts(key).is_some() => Err(dunder::unhashable("slice")),
        _ => Ok(()),
    }
}

fn position(items: &[(Value, Value)], key: &Value) -> Option<usize> {
    dunder::key_position(items.iter().map(|(k, _)| k), key)
}

/// `position` for a change: none until the methods it needs have answered.
fn position_to_change(items: &[(Value, Value)], key: &Value) -> Result<Option<usize>, Exception> {
    let found = position(items, key);
    if dunder::pending() {
        return Err(dunder::retry());
    }
    Ok(found)
}

/// `KeyError` with the key's repr, as CPython prints it.
pub fn key_error(key: &Value) -> Exception {
    Exception::new(ExcClass::KeyError, dunder::repr(key))
}

pub fn get(d: &Dict, key: &Value) -> Result<Option<Value>, Exception> {
    check_hashable(key)?;
    let items = lock(d);
    Ok(position(&items, key).map(|i| items[i].1.clone()))
}

pub fn set(d: &Dict, key: Value, value: Value) -> Result<(), Exception> {
    check_hashable(&key)?;
    let mut items = lock(d);
    match position_to_change(&items, &key)? {
        // Python keeps the first key object and its place.
        Some(i) => items[i].1 = value,
        None => items.push((key, value)),
    }
    Ok(())
}

pub fn remove(d: &Dict, key: &Value) -> Result<Option<Value>, Exception> {
    check_hashable(key)?;
    let mut items = lock(d);
    Ok(position_to_change(&items, key)?.map(|i| items.remove(i).1))
}

pub fn keys(d: &Dict) -> Vec<Value> {
    lock(d).iter().map(|(k, _)| k.clone()).collect()
}

/// Pairs from `dict(...)`/`update(...)`'s argument: a dict or an iterable of pairs.
pub fn pairs_of(v: &Value) -> Result<Vec<(Value, Value)>, Exception> {
    if let Value::Dict(d) = v {
        return Ok(lock(d).to_vec());
    }
    let mut out = Vec::new();
    for (i, item) in iterate(v)?.into_iter().enumerate() {
        let kv = iterate(&item).map_err(|_| {
            Exception::type_error(format!(
                "cannot convert dictionary update sequence element #{i} to a sequence"
            ))
        })?;
        if kv.len() != 2 {
            return Err(Exception::value_error(format!(
                "dictionary update sequence element #{i} has length {}; 2 is required",
                kv.len()
            )));
        }
        let mut kv = kv.into_iter();
        if let (Some(k), Some(v)) = (kv.next(), kv.next()) {
            out.push((k, v));
        }
    }
    Ok(out)
}

/// `dict()`, `dict(pairs)`, `dict(a=1)`.
pub fn construct(args: Args) -> Result<Value, Exception> {
    let (positional, keywords) = (args.positional, args.keywords);
    if positional.len() > 1 {
        return Err(Exception::type_error(format!(
            "dict expected at most 1 argument, got {}",
            positional.len()
        )));
    }
    let d: Dict = Arc::new(Mutex::new(Pairs::default()));
    if let Some(src) = positional.first() {
        for (k, v) in pairs_of(src)? {
            set(&d, k, v)?;
        }
    }
    for (k, v) in keywords {
        set(&d, Value::str(k), v)?;
    }
    Ok(Value::Dict(d))
}

pub const METHODS: &[&str] = &[
    "get",
    "items",
    "keys",
    "values",
    "pop",
    "setdefault",
    "update",
    "clear",
    "copy",
];

pub fn method(d: &Dict, name: &str, args: Args) -> Result<Value, Exception> {
    match name {
        "get" => {
            let [key, default] = args.bind(["key", "default"], 1)?;
            let key = key.unwrap_or(Value::None);
            Ok(get(d, &key)?.unwrap_or(default.unwrap_or(Value::None)))
        }
        "items" | "keys" | "values" => {
            args.bind::<0>([], 0)?;
            // Views are snapshots here: lists of the current entries.
            let items = lock(d).clone();
            Ok(Value::list(match name {
                "items" => items
                    .into_iter()
                    .map(|(k, v)| Value::tuple(vec![k, v]))
                    .collect(),
                "keys" => items.into_iter().map(|(k, _)| k).collect(),
                _ => items.into_iter().map(|(_, v)| v).collect(),
            }))
        }
        "pop" => {
            let [key, default] = args.bind(["key", "default"], 1)?;
            let key = key.unwrap_or(Value::None);
            match (remove(d, &key)?, default) {
                (Some(v), _) | (None, Some(v)) => Ok(v),
                (None, None) => Err(key_error(&key)),
            }
        }
        "setdefault" => {
            let [key, default] = args.bind(["key", "default"], 1)?;
            let key = key.unwrap_or(Value::None);
            if let Some(v) = get(d, &key)? {
                return Ok(v);
            }
            let v = default.unwrap_or(Value::None);
            set(d, key, v.clone())?;
            Ok(v)
        }
        "update" => {
            let (positional, keywords) = (args.positional, args.keywords);
            if positional.len() > 1 {
                return Err(Exception::type_error(format!(
                    "update expected at most 1 argument, got {}",
                    positional.len()
                )));
            }
            if let Some(src) = positional.first() {
                for (k, v) in pairs_of(src)? {
                    set(d, k, v)?;
                }
            }
            for (k, v) in keywords {
                set(d, Value::str(k), v)?;
            }
            Ok(Value::None)
        }
        "clear" => {
            args.bind::<0>([], 0)?;
            lock(d).clear();
            Ok(Value::None)
        }
        "copy" => {
            args.bind::<0>([], 0)?;
            Ok(new(lock(d).to_vec()))
        }
        _ => Err(Exception::new(
            ExcClass::AttributeError,
            format!("'dict' object has no attribute '{name}'"),
        )),
    }
}
