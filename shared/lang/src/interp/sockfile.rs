//! `sock.makefile()`: a file object over a socket, buffered as CPython's is
//! where it shows on the wire. Writes collect in a buffer and go out as one
//! `sendall` at `flush()`/`close()`; reads `recv` 8192 bytes at a time and
//! serve lines from the buffer. Unbuffered (`buffering=0`, binary) files
//! `send` at each write, and `readline` reads one byte per `recv`, as
//! CPython's raw SocketIO does. Every `recv`/`send` is its own relay call.

use std::sync::{Arc, Mutex};

use super::args::{Args, to_bytes, to_int, to_text};
use super::codec;
use super::exception::Exception;
use super::sockets::{Flow, Pending};
use super::value::{SocketObj, Value, lock};
use crate::names::ExcClass;
use socklab_wire::protocol::{Bytes, Call};

/// CPython's io.DEFAULT_BUFFER_SIZE: the size of each buffered `recv`.
const CHUNK: u32 = 8192;

/// A file object made by `makefile`.
#[derive(Debug)]
pub struct SockFile {
    pub sock: Arc<SocketObj>,
    pub readable: bool,
    pub writable: bool,
    /// Text mode: str in and out, decoded with `encoding`.
    pub text: bool,
    /// `buffering=0`: every write is a `send`, every read a `recv`.
    pub raw: bool,
    pub encoding: String,
    /// The mode as given, for a text file's repr.
    pub mode: String,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    read: Vec<u8>,
    write: Vec<u8>,
    eof: bool,
    closed: bool,
}

impl SockFile {
    /// The file as a forked child has it: over the child's socket, with the
    /// same buffered data.
    pub fn fork_copy(&self, sock: Arc<SocketObj>) -> SockFile {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        SockFile {
            sock,
            readable: self.readable,
            writable: self.writable,
            text: self.text,
            raw: self.raw,
            encoding: self.encoding.clone(),
            mode: self.mode.clone(),
            state: Mutex::new(State {
                read: state.read.clone(),
                write: state.write.clone(),
                eof: state.eof,
                closed: state.closed,
            }),
        }
    }
}

/// What a read waits for.
#[derive(Debug, Clone, Copy)]
pub enum Want {
    Line,
    /// `n` bytes (binary) or characters (text).
    Count(usize),
    All,
}

/// `sock.makefile(mode='r', buffering=None, *, encoding=None, errors=None, newline=None)`.
pub fn makefile(sock: &Arc<SocketObj>, args: Args) -> Result<Value, Exception> {
    let [mode, buffering, encoding, _errors, _newline] =
        args.bind(["mode", "buffering", "encoding", "errors", "newline"], 0)?;
    let mode = match mode {
        Some(m) => to_text(&m)?,
        None => "r".to_string(),
    };
    if !mode.chars().all(|c| "rwb".contains(c)) || mode.is_empty() {
        return Err(Exception::value_error(format!(
            "invalid mode {} (only r, w, b allowed)",
            Value::str(&mode).repr()
        )));
    }
    let text = !mode.contains('b');
    let raw = buffering.is_some_and(|b| matches!(b, Value::Int(0)));
    if raw && text {
        return Err(Exception::value_error("unbuffered streams must be binary"));
    }
    let encoding = match encoding {
        // CPython takes the locale's, which is UTF-8 in the lab.
        Some(Value::None) | None => "UTF-8".to_string(),
        Some(e) => to_text(&e)?,
    };
    Ok(Value::File(Arc::new(SockFile {
        sock: sock.clone(),
        readable: mode.contains('r'),
        writable: mode.contains('w'),
        text,
        raw,
        encoding,
        mode,
        state: Mutex::new(State::default()),
    })))
}

pub const METHODS: &[&str] = &[
    "read", "readline", "write", "flush", "close", "readable", "writable", "fileno",
];

impl SockFile {
    pub fn type_name(&self) -> &'static str {
        match (self.text, self.raw, self.readable, self.writable) {
            (true, ..) => "TextIOWrapper",
            (false, true, ..) => "SocketIO",
            (false, false, true, true) => "BufferedRWPair",
            (false, false, true, false) => "BufferedReader",
            _ => "BufferedWriter",
        }
    }

    pub fn repr(&self) -> String {
        let fd = self.sock.info.fd;
        // A file made on a closed socket has no name.
        let name = if self.sock.is_closed() {
            String::new()
        } else {
            format!(" name={fd}")
        };
        match self.type_name() {
            "TextIOWrapper" => format!(
                "<_io.TextIOWrapper{name} mode='{}' encoding='{}'>",
                self.mode, self.encoding
            ),
            "BufferedRWPair" => "<_io.BufferedRWPair object>".to_string(),
            "SocketIO" => format!("<socket.SocketIO name={fd}>"),
            other => format!("<_io.{other}{name}>"),
        }
    }

    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// A recv's data arrived (empty: end of file).
    pub fn fill(&self, data: &[u8]) {
        let mut st = lock(&self.state);
        if data.is_empty() {
            st.eof = true;
        }
        st.read.extend_from_slice(data);
    }

    /// The write buffer went out.
    pub fn flushed(&self) {
        lock(&self.state).write.clear();
    }

    fn recv_size(&self, want: Want) -> u32 {
        match (self.raw, want) {
            (true, Want::Line) => 1,
            (true, Want::Count(n)) => u32::try_from(n).unwrap_or(CHUNK).max(1),
            _ => CHUNK,
        }
    }

    /// The value `want` asks for, if the buffer (or the end of the stream) can give it now.
    fn take(&self, want: Want) -> Result<Option<Value>, Exception> {
        let mut st = lock(&self.state);
        let cut = match want {
            Want::Line => st.read.iter().position(|&b| b == b'\n').map(|i| i + 1),
            Want::Count(n) if self.text => char_boundary(&st.read, n),
            Want::Count(n) => (st.read.len() >= n).then_some(n),
            Want::All => None,
        };
        // Unbuffered reads return what one recv gave.
        let cut = match (cut, self.raw, want) {
            (None, true, Want::Count(_)) if !st.read.is_empty() => Some(st.read.len()),
            _ => cut,
        };
        let cut = match cut {
            Some(c) => c,
            None if st.eof => st.read.len(),
            None => return Ok(None),
        };
        let bytes: Vec<u8> = st.read.drain(..cut).collect();
        drop(st);
        self.value_of(&bytes).map(Some)
    }

    fn value_of(&self, bytes: &[u8]) -> Result<Value, Exception> {
        if !self.text {
            return Ok(Value::bytes(bytes));
        }
        let v = codec::decode(bytes, Some(Value::str(&self.encoding)), None)?;
        // Universal newlines: "\r\n" reads as "\n".
        Ok(match &v {
            Value::Str(s) if s.contains('\r') => Value::str(s.replace("\r\n", "\n")),
            _ => v,
        })
    }

    fn check_open(&self) -> Result<(), Exception> {
        if self.is_closed() {
            return Err(Exception::value_error(if self.text {
                "I/O operation on closed file."
            } else {
                "readline of closed file"
            }));
        }
        Ok(())
    }

    /// A read: served from the buffer, or a `recv` and a task to come back to it.
    pub fn read(self: &Arc<Self>, want: Want) -> Result<Flow, Exception> {
        self.check_open()?;
        if !self.readable {
            return Err(unsupported("read"));
        }
        match self.take(want)? {
            Some(v) => Ok(Flow::Value(v)),
            None => Ok(self.recv_call(
                want,
                Pending::Task(Box::new(super::sockapi::Task::Read(self.clone(), want))),
            )),
        }
    }

    /// A `for` loop's next line: `Ok(None)` at the end, `Err(flow)` when a `recv` must come first.
    pub fn next_line(self: &Arc<Self>) -> Result<Result<Option<Value>, Flow>, Exception> {
        self.check_open()?;
        match self.take(Want::Line)? {
            Some(v) if v.truthy() => Ok(Ok(Some(v))),
            Some(_) => Ok(Ok(None)),
            None => Ok(Err(self.recv_call(Want::Line, Pending::Fill(self.clone())))),
        }
    }

    fn recv_call(&self, want: Want, pending: Pending) -> Flow {
        Flow::Call(
            Call::Recv {
                sock: self.sock.id(),
                n: self.recv_size(want),
                flags: 0,
            },
            pending,
        )
    }

    /// A task's `recv` answered: done, or another `recv`.
    pub fn advance(
        self: &Arc<Self>,
        want: Want,
        result: Result<Value, Exception>,
    ) -> Result<Flow, Exception> {
        if let Value::Bytes(b) = result? {
            self.fill(&b);
        }
        self.read(want)
    }

    pub fn write(&self, data: &Value) -> Result<Flow, Exception> {
        self.check_open()?;
        if !self.writable {
            return Err(unsupported("write"));
        }
        let (bytes, count) = if self.text {
            let s = match data {
                Value::Str(s) => s.to_string(),
                other => {
                    return Err(Exception::type_error(format!(
                        "write() argument must be str, not {}",
                        other.type_name()
                    )));
                }
            };
            let encoded = codec::encode(&s, Some(Value::str(&self.encoding)), None)?;
            (to_bytes(&encoded)?.to_vec(), s.chars().count())
        } else {
            let b = to_bytes(data)?.to_vec();
            let n = b.len();
            (b, n)
        };
        if self.raw {
            // SocketIO.write is one send; it returns what the kernel took.
            return Ok(Flow::Call(
                Call::Send {
                    sock: self.sock.id(),
                    data: Bytes::new(bytes),
                    flags: 0,
                },
                Pending::Plain,
            ));
        }
        lock(&self.state).write.extend_from_slice(&bytes);
        Ok(Flow::Value(Value::Int(count as i64)))
    }

    /// `flush()`: the buffer as one `sendall`, or nothing when it is empty.
    pub fn flush(self: &Arc<Self>) -> Result<Flow, Exception> {
        if self.is_closed() {
            return Err(Exception::value_error("flush of closed file"));
        }
        Ok(self.flush_call().unwrap_or(Flow::Value(Value::None)))
    }

    fn flush_call(self: &Arc<Self>) -> Option<Flow> {
        let data = lock(&self.state).write.clone();
        (!data.is_empty()).then(|| {
            Flow::Call(
                Call::Sendall {
                    sock: self.sock.id(),
                    data: Bytes::new(data),
                    flags: 0,
                },
                Pending::Flushed(self.clone()),
            )
        })
    }

    /// `close()`: flushes, then the file is closed (the socket stays open).
    pub fn close(self: &Arc<Self>) -> Flow {
        if self.is_closed() {
            return Flow::Value(Value::None);
        }
        let flow = self.flush_call();
        lock(&self.state).closed = true;
        flow.unwrap_or(Flow::Value(Value::None))
    }
}

/// The byte length of the first `n` characters, if the buffer holds that many.
fn char_boundary(bytes: &[u8], n: usize) -> Option<usize> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
    };
    if n == 0 {
        return Some(0);
    }
    text.char_indices()
        .nth(n)
        .map(|(i, _)| i)
        .or_else(|| (text.chars().count() == n).then_some(text.len()))
}

fn unsupported(what: &str) -> Exception {
    Exception::new(ExcClass::OsError, what.to_string())
}

/// `file.method(args)`.
pub fn call(file: &Arc<SockFile>, name: &str, args: Args) -> Result<Flow, Exception> {
    match name {
        "read" => {
            let [n] = args.bind(["size"], 0)?;
            let n = match n {
                None | Some(Value::None) => -1,
                Some(v) => to_int(&v)?,
            };
            file.read(if n < 0 {
                Want::All
            } else {
                Want::Count(n as usize)
            })
        }
        "readline" => {
            let [limit] = args.bind(["size"], 0)?;
            if let Some(v) = limit.filter(|v| !matches!(v, Value::None))
                && to_int(&v)? >= 0
            {
                return Err(Exception::type_error(
                    "readline(size) is not supported in socklab scripts",
                ));
            }
            file.read(Want::Line)
        }
        "write" => {
            let [data] = args.bind(["data"], 1)?;
            file.write(&data.unwrap_or(Value::None))
        }
        "flush" => {
            args.bind([], 0)?;
            file.flush()
        }
        "close" => {
            args.bind([], 0)?;
            Ok(file.close())
        }
        "readable" | "writable" => {
            args.bind([], 0)?;
            Ok(Flow::Value(Value::Bool(if name == "readable" {
                file.readable
            } else {
                file.writable
            })))
        }
        _ => {
            args.bind([], 0)?;
            Ok(Flow::Value(Value::Int(i64::from(file.sock.info.fd))))
        }
    }
}
