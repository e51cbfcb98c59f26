//! `memoryview`: a window on a bytearray's bytes (writable: `recv_into`
//! writes through it, slices share them) or on bytes (read-only).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::args::Args;
use super::exception::Exception;
use super::value::{Value, lock};

/// A writable view's buffer, start and length.
pub type Target = (Arc<Mutex<Vec<u8>>>, usize, usize);

#[derive(Debug)]
pub struct MemView {
    /// The bytes seen: a bytearray's own buffer, or a copy of bytes.
    base: Arc<Mutex<Vec<u8>>>,
    start: usize,
    len: usize,
    readonly: bool,
    released: AtomicBool,
    /// A view of a bytearray exports its buffer until it is released or
    /// dropped: the bytearray cannot change size meanwhile ([`check_resize`]).
    export: Mutex<Option<Weak<Mutex<Vec<u8>>>>>,
}

/// Before a bytearray changes size: `BufferError` while a memoryview looks at it.
pub fn check_resize(b: &Arc<Mutex<Vec<u8>>>) -> Result<(), Exception> {
    if Arc::weak_count(b) > 0 {
        return Err(Exception::new(
            crate::names::ExcClass::BufferError,
            "Existing exports of data: object cannot be re-sized",
        ));
    }
    Ok(())
}

/// `memoryview(obj)`.
pub fn new(obj: &Value) -> Result<Value, Exception> {
    let (base, start, len, readonly) = match obj {
        Value::ByteArray(b) => (b.clone(), 0, lock(b).len(), false),
        Value::Bytes(b) => (Arc::new(Mutex::new(b.to_vec())), 0, b.len(), true),
        Value::MemoryView(m) => {
            m.check()?;
            (m.base.clone(), m.start, m.len, m.readonly)
        }
        other => {
            return Err(Exception::type_error(format!(
                "memoryview: a bytes-like object is required, not '{}'",
                other.type_name()
            )));
        }
    };
    Ok(view(base, start, len, readonly))
}

fn view(base: Arc<Mutex<Vec<u8>>>, start: usize, len: usize, readonly: bool) -> Value {
    let export = (!readonly).then(|| Arc::downgrade(&base));
    Value::MemoryView(Arc::new(MemView {
        base,
        start,
        len,
        readonly,
        released: AtomicBool::new(false),
        export: Mutex::new(export),
    }))
}

fn released() -> Exception {
    Exception::value_error("operation forbidden on released memoryview object")
}

impl MemView {
    /// The bytes it looks at (a bytearray's own buffer for a writable view).
    pub(super) fn base(&self) -> &Arc<Mutex<Vec<u8>>> {
        &self.base
    }

    /// The same window on `base`, a forked child's copy of the bytes.
    pub(super) fn fork_copy(&self, base: Arc<Mutex<Vec<u8>>>) -> MemView {
        let export = lock(&self.export).is_some().then(|| Arc::downgrade(&base));
        MemView {
            base,
            start: self.start,
            len: self.len,
            readonly: self.readonly,
            released: AtomicBool::new(self.released.load(Ordering::Relaxed)),
            export: Mutex::new(export),
        }
    }

    fn check(&self) -> Result<(), Exception> {
        if self.released.load(Ordering::Relaxed) {
            return Err(released());
        }
        Ok(())
    }

    pub fn len(&self) -> Result<usize, Exception> {
        self.check()?;
        Ok(self.len)
    }

    /// The bytes seen now (a bytearray may have shrunk since: what is left of them).
    pub fn tobytes(&self) -> Result<Vec<u8>, Exception> {
        self.check()?;
        let base = lock(&self.base);
        let end = (self.start + self.len).min(base.len());
        Ok(base.get(self.start.min(end)..end).unwrap_or_default().to_vec())
    }

    /// `view[lower:upper]`: a view of part of the same bytes.
    pub fn slice(&self, lower: Option<i64>, upper: Option<i64>, step: Option<i64>) -> Result<Value, Exception> {
        self.check()?;
        if step.is_some_and(|s| s != 1) {
            return Err(Exception::new(
                crate::names::ExcClass::NotImplementedError,
                "memoryview slices with a step are not supported in socklab scripts",
            ));
        }
        let (a, b) = bounds(self.len, lower, upper);
        Ok(view(self.base.clone(), self.start + a, b - a, self.readonly))
    }

    /// Where `recv_into` writes: the buffer, the view's start and length.
    pub fn target(&self) -> Result<Target, Exception> {
        self.check()?;
        if self.readonly {
            return Err(Exception::type_error("cannot modify read-only memory"));
        }
        Ok((self.base.clone(), self.start, self.len))
    }

    /// `view[lower:upper] = data`: the same number of bytes, as Python requires.
    pub fn store_slice(&self, lower: Option<i64>, upper: Option<i64>, data: &[u8]) -> Result<(), Exception> {
        let (base, start, len) = self.target()?;
        let (a, b) = bounds(len, lower, upper);
        if b - a != data.len() {
            return Err(Exception::value_error(
                "memoryview assignment: lvalue and rvalue have different structures",
            ));
        }
        write(&base, start + a, data);
        Ok(())
    }
}

/// Python's clamping of slice bounds to `0..=len` (step 1).
pub fn bounds(len: usize, lower: Option<i64>, upper: Option<i64>) -> (usize, usize) {
    let n = i64::try_from(len).unwrap_or(i64::MAX);
    let clamp = |v: i64| usize::try_from(if v < 0 { (v + n).max(0) } else { v.min(n) }).unwrap_or(0);
    let a = lower.map_or(0, clamp);
    let b = upper.map_or(len, clamp);
    (a, b.max(a))
}

/// Copies `data` into the buffer at `at` (never past its end).
pub fn write(base: &Mutex<Vec<u8>>, at: usize, data: &[u8]) {
    let mut buf = lock(base);
    let end = (at + data.len()).min(buf.len());
    if at < end {
        buf[at..end].copy_from_slice(&data[..end - at]);
    }
}

/// A memoryview's methods.
pub fn method(m: &MemView, name: &str, args: Args) -> Result<Value, Exception> {
    args.bind([], 0)?;
    match name {
        "tobytes" => Ok(Value::bytes(m.tobytes()?)),
        "tolist" => Ok(Value::list(m.tobytes()?.into_iter().map(|b| Value::Int(i64::from(b))).collect())),
        "hex" => Ok(Value::str(m.tobytes()?.iter().map(|b| format!("{b:02x}")).collect::<String>())),
        "release" => {
            release(m);
            Ok(Value::None)
        }
        _ => Err(Exception::new(
            crate::names::ExcClass::AttributeError,
            format!("'memoryview' object has no attribute '{name}'"),
        )),
    }
}

/// The methods `method` answers.
pub const METHODS: &[&str] = &["tobytes", "tolist", "hex", "release"];

/// Releases a view (leaving `with memoryview(b) as m:`).
pub fn release(m: &MemView) {
    m.released.store(true, Ordering::Relaxed);
    lock(&m.export).take();
}
