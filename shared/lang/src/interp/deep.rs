//! Nesting without the native stack.
//!
//! A script can nest containers as deep as its memory allows (`x = [x]` in a
//! loop). Freeing such a value the ordinary way recurses once per level and
//! overflows the stack, so the containers' item storage ([`Items`], [`Pairs`],
//! an instance's attributes) hands its items to [`free`], which drops nested
//! containers one at a time from a queue. Walks that do recurse (comparison,
//! copying for `fork`) count their depth with [`Guard`] and stop at
//! [`MAX_NESTING`] with CPython's `RecursionError`.

use std::cell::{Cell, RefCell};
use std::ops::{Deref, DerefMut};

use super::value::Value;

/// How deep comparison and copying descend before raising `RecursionError`:
/// well inside the smallest native stack the interpreter runs on (the page's
/// 1 MiB), and deeper than data a socket program nests.
pub const MAX_NESTING: usize = 200;

thread_local! {
    /// Values whose drop was deferred by an outer [`free`] on this thread.
    static QUEUE: RefCell<Option<Vec<Value>>> = const { RefCell::new(None) };
    /// Depth of the recursive walk under way on this thread.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// Set when a walk went past `MAX_NESTING`; the VM turns it into `RecursionError`.
    static TOO_DEEP: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Whether dropping `v` may drop other values (so it must not recurse).
fn holds_values(v: &Value) -> bool {
    !matches!(
        v,
        Value::None
            | Value::Bool(_)
            | Value::Int(_)
            | Value::BigInt(_)
            | Value::Float(_)
            | Value::Str(_)
            | Value::Bytes(_)
            | Value::Range { .. }
            | Value::BigRange(_)
            | Value::Builtin(_)
            | Value::Module(_)
            | Value::LibFn(_)
            | Value::Type(_)
            | Value::IntEnum(_)
            | Value::ExcClass(_)
            | Value::Special(_)
            | Value::Socket(_)
            | Value::ByteArray(_)
            | Value::Icmp(_)
    )
}

/// Drops `items` without recursing: nested containers that become free are
/// queued and dropped by the outermost call on this thread.
pub fn free(items: Vec<Value>) {
    if !items.iter().any(holds_values) {
        return;
    }
    let outer = QUEUE.try_with(|q| {
        let mut q = q.borrow_mut();
        match q.as_mut() {
            Some(queue) => {
                queue.extend(items);
                None
            }
            None => {
                *q = Some(Vec::new());
                Some(items)
            }
        }
    });
    // During thread teardown the queue is gone: drop as usual.
    let Ok(Some(mut work)) = outer else { return };
    loop {
        // Each drop may queue more; none of them recurses more than one level.
        while let Some(v) = work.pop() {
            drop(v);
        }
        let more = QUEUE.with(|q| q.borrow_mut().as_mut().map(std::mem::take).unwrap_or_default());
        if more.is_empty() {
            break;
        }
        work = more;
    }
    QUEUE.with(|q| *q.borrow_mut() = None);
}

/// A list's or a set's (or a tuple's) items: a `Vec` that frees nested
/// containers iteratively.
#[derive(Debug, Clone, Default)]
pub struct Items(pub Vec<Value>);

impl Drop for Items {
    fn drop(&mut self) {
        free(std::mem::take(&mut self.0));
    }
}

impl Items {
    pub fn into_vec(mut self) -> Vec<Value> {
        std::mem::take(&mut self.0)
    }
}

impl IntoIterator for Items {
    type Item = Value;
    type IntoIter = std::vec::IntoIter<Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl Deref for Items {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl DerefMut for Items {
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        &mut self.0
    }
}

impl From<Vec<Value>> for Items {
    fn from(v: Vec<Value>) -> Items {
        Items(v)
    }
}

impl FromIterator<Value> for Items {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Items {
        Items(iter.into_iter().collect())
    }
}

/// A dict's pairs, freed like [`Items`].
#[derive(Debug, Clone, Default)]
pub struct Pairs(pub Vec<(Value, Value)>);

impl Drop for Pairs {
    fn drop(&mut self) {
        free_pairs(std::mem::take(&mut self.0));
    }
}

/// Drops key/value pairs (a dict's, an instance's attributes) like [`free`].
pub fn free_pairs<K>(pairs: Vec<(K, Value)>) {
    if pairs.iter().any(|(_, v)| holds_values(v)) {
        free(pairs.into_iter().map(|(_, v)| v).collect());
    }
}

impl Pairs {
    pub fn into_vec(mut self) -> Vec<(Value, Value)> {
        std::mem::take(&mut self.0)
    }
}

impl IntoIterator for Pairs {
    type Item = (Value, Value);
    type IntoIter = std::vec::IntoIter<(Value, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl Deref for Pairs {
    type Target = Vec<(Value, Value)>;
    fn deref(&self) -> &Vec<(Value, Value)> {
        &self.0
    }
}

impl DerefMut for Pairs {
    fn deref_mut(&mut self) -> &mut Vec<(Value, Value)> {
        &mut self.0
    }
}

impl From<Vec<(Value, Value)>> for Pairs {
    fn from(v: Vec<(Value, Value)>) -> Pairs {
        Pairs(v)
    }
}

impl FromIterator<(Value, Value)> for Pairs {
    fn from_iter<I: IntoIterator<Item = (Value, Value)>>(iter: I) -> Pairs {
        Pairs(iter.into_iter().collect())
    }
}

/// One level of a recursive walk. `enter` fails past [`MAX_NESTING`] and
/// records why, for [`take_too_deep`]; dropping the guard leaves the level.
pub struct Guard(());

impl Guard {
    pub fn enter(during: &'static str) -> Option<Guard> {
        let depth = DEPTH.with(Cell::get);
        if depth >= MAX_NESTING {
            TOO_DEEP.with(|t| t.set(Some(during)));
            return None;
        }
        DEPTH.with(|d| d.set(depth + 1));
        Some(Guard(()))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// What a walk that went too deep was doing ("in comparison"), once.
pub fn take_too_deep() -> Option<&'static str> {
    TOO_DEEP.with(Cell::take)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_list_nested_a_million_deep_frees_without_recursing() {
        // A 256 KiB stack: recursion per level would overflow it within a few thousand.
        let t = std::thread::Builder::new().stack_size(256 << 10).spawn(|| {
            let mut x = Value::list(Vec::new());
            for _ in 0..1_000_000 {
                x = Value::list(vec![x]);
            }
            let mut d = Value::Dict(Arc::new(Mutex::new(Pairs::default())));
            for i in 0..100_000 {
                d = Value::Dict(Arc::new(Mutex::new(vec![(Value::Int(i), d), (Value::Int(-1), Value::tuple(vec![x.clone()]))].into())));
            }
            drop(x);
            drop(d);
        });
        assert!(t.map(|h| h.join().is_ok()).unwrap_or(false));
    }

    #[test]
    fn guards_stop_at_the_limit_and_say_why() {
        let mut held = Vec::new();
        for _ in 0..MAX_NESTING {
            held.push(Guard::enter("in comparison").expect("below the limit"));
        }
        assert!(Guard::enter("in comparison").is_none());
        assert_eq!(take_too_deep(), Some("in comparison"));
        assert_eq!(take_too_deep(), None);
        held.pop();
        assert!(Guard::enter("in comparison").is_some());
    }
}
