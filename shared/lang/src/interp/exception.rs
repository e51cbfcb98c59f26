//! Exceptions a script can raise and catch: OSError (with its Python subclasses
//! chosen by errno) and the runtime errors (TypeError, ValueError, …).

use std::fmt;

use super::class::ScriptExc;
use super::repr::str_repr;
use socklab_wire::errno;
use crate::names::ExcClass;
use socklab_wire::protocol::OsError;

/// A raised exception.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    pub class: ExcClass,
    /// For OSError: the errno number and name.
    pub errno: Option<(i32, String)>,
    /// strerror for OSError; the message for the others.
    pub message: String,
    /// The line of the statement that raised it (0 until the interpreter sets it).
    pub line: u32,
    /// For an instance of a script exception class: that instance (`class` is
    /// then its builtin base, which `except` clauses of builtin classes match).
    pub instance: Option<ScriptExc>,
    /// `__cause__` (`raise … from cause`) and `__context__` (the exception
    /// being handled when it was raised); an instance keeps them as attributes.
    pub cause: Option<Box<Exception>>,
    pub context: Option<Box<Exception>>,
    /// `__suppress_context__`: set by `raise … from …`.
    pub suppress_context: bool,
    /// `__traceback__`: the frames it passed through, innermost first (one
    /// entry added per frame as it unwinds, as CPython's `tb_next` chain).
    pub traceback: Vec<TbEntry>,
}

/// One frame of a traceback: the function (`<module>` at a lane's top level)
/// and the line it was at. The file is the lane's program (`sys.argv[0]`).
#[derive(Debug, Clone, PartialEq)]
pub struct TbEntry {
    pub function: String,
    pub line: u32,
    /// The expression that failed on that line, for the `^^^` markers.
    pub span: Option<super::compile::Span>,
}

impl Exception {
    pub fn new(class: ExcClass, message: impl Into<String>) -> Exception {
        Exception {
            class,
            errno: None,
            message: message.into(),
            line: 0,
            instance: None,
            cause: None,
            context: None,
            suppress_context: false,
            traceback: Vec::new(),
        }
    }

    pub fn type_error(message: impl Into<String>) -> Exception {
        Exception::new(ExcClass::TypeError, message)
    }

    pub fn value_error(message: impl Into<String>) -> Exception {
        Exception::new(ExcClass::ValueError, message)
    }

    pub fn overflow(message: impl Into<String>) -> Exception {
        Exception::new(ExcClass::OverflowError, message)
    }

    pub fn index_error(message: impl Into<String>) -> Exception {
        Exception::new(ExcClass::IndexError, message)
    }

    pub fn memory() -> Exception {
        Exception::new(
            ExcClass::MemoryError,
            "result would be too large (socklab values are limited to 64 MiB)",
        )
    }

    /// The run's values would hold more than `limit` bytes.
    pub fn memory_limit(limit: usize) -> Exception {
        Exception::new(
            ExcClass::MemoryError,
            format!(
                "the program's values would take more than {} (socklab's memory limit)",
                super::Limits::show(limit)
            ),
        )
    }

    /// An OSError from the kernel, as the relay reported it.
    pub fn os(error: &OsError) -> Exception {
        let mut class = ExcClass::for_errno(error.errno_num);
        let mut errno = Some((error.errno_num, error.errno.clone()));
        // A settimeout() expiry: Python raises socket.timeout (TimeoutError)
        // with no errno, so it reads `timed out`.
        if error.errno_num == 11 && error.message.contains("timed out") {
            class = ExcClass::TimeoutError;
            errno = None;
        }
        Exception {
            class,
            errno,
            message: error.message.clone(),
            line: 0,
            instance: None,
            cause: None,
            context: None,
            suppress_context: false,
            traceback: Vec::new(),
        }
    }

    /// An OSError raised locally (e.g. EBADF on a closed socket).
    pub fn os_errno(num: i32) -> Exception {
        Exception::os(&OsError {
            errno: errno::name(num),
            errno_num: num,
            message: errno::strerror(num),
        })
    }

    /// Whether `other` is this exception raised again (the same instance, or
    /// the same builtin exception from the same line), whatever its traceback.
    pub fn same(&self, other: &Exception) -> bool {
        match (&self.instance, &other.instance) {
            (Some(a), Some(b)) => a == b,
            (None, None) => {
                self.class == other.class
                    && self.errno == other.errno
                    && self.message == other.message
                    && self.line == other.line
            }
            _ => false,
        }
    }

    pub fn is_os_error(&self) -> bool {
        self.class.is_subclass_of(ExcClass::OsError)
    }

    /// `repr(e)`, e.g. `ConnectionRefusedError(111, 'Connection refused')`.
    pub fn repr(&self) -> String {
        if let Some(i) = &self.instance {
            return i.0.default_repr();
        }
        match &self.errno {
            Some((num, _)) => format!("{}({num}, {})", self.class.name(), str_repr(&self.message)),
            None => format!("{}({})", self.class.name(), str_repr(&self.message)),
        }
    }

    /// "TypeError: …" as Python's traceback shows it.
    pub fn describe(&self) -> String {
        let text = self.to_string();
        let name = self.instance.as_ref().map_or(self.class.name(), |i| i.0.class.name);
        if text.is_empty() {
            name.to_string()
        } else {
            format!("{name}: {text}")
        }
    }
}

impl fmt::Display for Exception {
    /// `str(e)`: `[Errno 111] Connection refused` for an OSError, else the message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.errno {
            Some((num, _)) => write!(f, "[Errno {num}] {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Why a statement stopped early.
#[derive(Debug, Clone, PartialEq)]
pub enum Raise {
    /// A Python exception: `try` can catch it.
    Exception(Exception),
    /// The relay refused the call's arguments: the lane stops, nothing can catch it.
    Fatal(String),
}

impl From<Exception> for Raise {
    fn from(e: Exception) -> Raise {
        Raise::Exception(e)
    }
}
