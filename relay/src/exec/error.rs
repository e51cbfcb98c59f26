//! Why a call failed, and the one place that says what each failure is on the
//! wire: an `OSError` the script sees, or a refusal of the request itself.

use std::io;

use socklab_wire::errno;
use socklab_wire::protocol::{ErrorCode, OsError, Outcome, Ret, SockId};

use crate::limits::Refusal;
use crate::metrics::{CallResult, Limit};

/// Why a call failed. Only [`ExecError::Os`], [`ExecError::Timeout`],
/// [`ExecError::Policy`], [`ExecError::NotAllowed`] and [`ExecError::NameNotKnown`] reach the script as
/// an `OSError`; the others are refusals of the request itself.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{}", errno::strerror(.0.raw_os_error().unwrap_or(0)))]
    Os(io::Error),
    /// A `settimeout` deadline passed (EAGAIN, "timed out").
    #[error("timed out")]
    Timeout,
    /// The relay's address policy refused the address (reported as EACCES).
    #[error("{0}")]
    Policy(String),
    /// Outside the relay's allow-lists: an OSError with this errno and a sentence naming what.
    #[error("{why}")]
    NotAllowed { errno: i32, why: String },
    #[error("{0}: Name or service not known")]
    NameNotKnown(String),
    #[error("{0}")]
    BadArgument(String),
    #[error("no socket with handle {0} in this session")]
    UnknownSocket(SockId),
    #[error("{0}")]
    Limit(Refusal),
}

/// A request the relay would not run, as a protocol error message carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub code: ErrorCode,
    pub message: String,
    /// The configured limit that refused it, counted in the metrics.
    pub limit: Option<Limit>,
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Refused {
        Refused { code: refusal.code(), limit: refusal.limit(), message: refusal.to_string() }
    }
}

/// A finished call on the wire: the outcome the script sees, or the relay's refusal.
pub fn outcome(result: Result<Ret, ExecError>) -> Result<Outcome, Refused> {
    match result {
        Ok(value) => Ok(Outcome::Ok { value }),
        Err(e) => e.into_wire().map(|error| Outcome::Err { error }),
    }
}

impl ExecError {
    pub fn os(errno: i32) -> ExecError {
        ExecError::Os(io::Error::from_raw_os_error(errno))
    }

    pub fn name_not_known(host: &str) -> ExecError {
        ExecError::NameNotKnown(host.to_string())
    }

    /// The `OSError` the script sees, or the refusal the client is sent.
    pub fn into_wire(self) -> Result<OsError, Refused> {
        self.on_wire().map_err(|(code, limit)| Refused { code, message: self.to_string(), limit })
    }

    /// connect_ex's answer: an OS error is its errno, as a value; a refusal stays an error.
    pub(super) fn into_errno(self) -> Result<i64, ExecError> {
        match self.on_wire() {
            Ok(os) => Ok(os.errno_num.into()),
            Err(_) => Err(self),
        }
    }

    /// How it counts in the metrics.
    pub(super) fn call_result(&self) -> CallResult {
        match self.on_wire() {
            Ok(_) => CallResult::Errno,
            Err(_) => CallResult::Refused,
        }
    }

    /// The OSError a script sees, or the code (and the limit) of the refusal.
    fn on_wire(&self) -> Result<OsError, (ErrorCode, Option<Limit>)> {
        let (num, name, message) = match self {
            ExecError::Os(err) => {
                let num = err.raw_os_error().unwrap_or(libc::EIO);
                (num, errno::name(num), errno::strerror(num))
            }
            ExecError::Timeout => (libc::EAGAIN, errno::name(libc::EAGAIN), "timed out".to_string()),
            ExecError::Policy(why) => (libc::EACCES, errno::name(libc::EACCES), why.clone()),
            ExecError::NotAllowed { errno, why } => (*errno, errno::name(*errno), why.clone()),
            // glibc's EAI_NONAME, as Python's socket.gaierror reports it.
            ExecError::NameNotKnown(_) => (-2, "EAI_NONAME".to_string(), "Name or service not known".to_string()),
            ExecError::BadArgument(_) => return Err((ErrorCode::BadArguments, None)),
            ExecError::UnknownSocket(_) => return Err((ErrorCode::UnknownSocket, None)),
            ExecError::Limit(refusal) => return Err((refusal.code(), refusal.limit())),
        };
        Ok(OsError { errno: name, errno_num: num, message })
    }
}
