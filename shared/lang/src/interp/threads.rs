//! Threads and processes as lanes: the `_thread` primitives the `threading`
//! module (`pylib/threading.py`) is written on, `os.fork`, `os.waitpid` and
//! `os._exit`, and a lane waiting for another (a lock, a thread's end, a
//! child's exit).
//!
//! A lane that must wait for another lane is **parked** on a [`Wait`]: it is
//! not Ready until the wait can complete, which only another lane's step can
//! bring about, so parking needs no relay call. A wait with a timeout polls
//! instead, with short `sleep` calls, so that the relay's clock decides when
//! it gives up.

use std::collections::HashMap;
use std::sync::Arc;

use super::args::{Args, to_int};
use super::compile::{Op, Program};
use super::exception::{Exception, Raise};
use super::library::Object;
use super::sockets::Pending;
use super::value::{Namespace, Value, as_number, lock};
use super::vm::{Frame, LaneVm, Next, Shared};
use crate::names::{ExcClass, LibFn, Module};
use socklab_wire::protocol::Call;

/// How often a wait with a timeout looks again, in seconds.
const POLL: f64 = 0.01;

/// Lanes (threads and processes) that may run at once in one script: a
/// loop that starts threads ends with CPython's error instead of exhausting
/// the relay.
pub const MAX_LANES: usize = 128;

fn live_lanes(shared: &Shared) -> usize {
    shared.threads.values().filter(|t| !t.done).count()
}

/// What a parked lane waits for.
#[derive(Debug, Clone)]
pub enum Wait {
    /// `lock.acquire()`: the lock to be released; the value is True.
    Lock(Arc<Object>),
    /// `_thread.join(ident)`: the thread's lane to end; the value is None.
    Thread(i64),
    /// `os.waitpid(pid, 0)` in process `parent`: a child (any child for -1)
    /// to exit; the value is `(pid, status)`.
    Child { parent: i64, pid: i64 },
    /// `input()` (the line without its newline; EOFError at the end) or
    /// `sys.stdin.readline()` (with it; '' at the end): a line of program
    /// `program`'s input.
    Input { program: String, readline: bool },
}

/// What a program's input has brought that no lane has read yet.
#[derive(Debug, Default, Clone)]
pub struct InputBuf {
    pub text: String,
    pub ended: bool,
}

/// The input a program reads: its own (the page's box) or the common one
/// (standard input, on the command line).
fn input_of<'a>(shared: &'a Shared, program: &str) -> Option<&'a InputBuf> {
    shared.inputs.get(program).or_else(|| shared.inputs.get(""))
}

/// A thread the interpreter started (or a lane's main thread).
#[derive(Debug, Clone)]
pub struct ThreadRec {
    pub lane: String,
    pub pid: i64,
    pub daemon: bool,
    pub done: bool,
}

/// A process: a script lane, or a lane `os.fork()` made.
#[derive(Debug, Clone)]
pub struct ProcRec {
    pub ppid: i64,
    /// The exit status once every non-daemon thread has ended.
    pub status: Option<i32>,
    /// `os._exit(n)` was called: every lane of the process ends now.
    pub killed: Option<i32>,
    /// `waitpid` has collected it.
    pub reaped: bool,
}

impl Wait {
    pub fn ready(&self, shared: &Shared) -> bool {
        match self {
            Wait::Lock(l) => matches!(&**l, Object::Lock(held) if !*lock(held)),
            Wait::Thread(ident) => shared.threads.get(ident).is_none_or(|t| t.done),
            Wait::Child { parent, pid } => exited_child(shared, *parent, *pid).is_some(),
            Wait::Input { program, .. } => input_of(shared, program).is_some_and(|b| b.ended || b.text.contains('\n')),
        }
    }

    /// Completes a ready wait: takes the lock, reaps the child, reads the line.
    pub fn complete(&self, shared: &mut Shared) -> Result<Value, Exception> {
        if let Wait::Input { program, readline } = self {
            let key = if shared.inputs.contains_key(program.as_str()) { program.as_str() } else { "" };
            let buf = shared.inputs.entry(key.to_string()).or_default();
            let line: String = match buf.text.find('\n') {
                Some(at) => buf.text.drain(..=at).collect(),
                None => std::mem::take(&mut buf.text),
            };
            if line.is_empty() && !readline {
                return Err(Exception::new(ExcClass::EofError, "EOF when reading a line"));
            }
            let line = if *readline { line } else { line.strip_suffix('\n').unwrap_or(&line).to_string() };
            return Ok(Value::str(line));
        }
        Ok(self.complete_other(shared))
    }

    fn complete_other(&self, shared: &mut Shared) -> Value {
        match self {
            Wait::Lock(l) => {
                if let Object::Lock(held) = &**l {
                    *lock(held) = true;
                }
                Value::Bool(true)
            }
            Wait::Thread(_) => Value::None,
            Wait::Child { parent, pid } => match exited_child(shared, *parent, *pid) {
                Some((child, status)) => {
                    if let Some(p) = shared.procs.get_mut(&child) {
                        p.reaped = true;
                    }
                    Value::tuple(vec![Value::Int(child), Value::Int(i64::from(status) << 8)])
                }
                None => Value::tuple(vec![Value::Int(0), Value::Int(0)]),
            },
            Wait::Input { .. } => Value::None,
        }
    }

    /// What the lane waits for, in plain words (the page's blocked lanes).
    pub fn describe(&self, shared: &Shared) -> String {
        match self {
            Wait::Lock(_) => "acquire: waiting for another thread to release the lock".into(),
            Wait::Thread(ident) => {
                let lane = shared.threads.get(ident).map_or("the thread", |t| t.lane.as_str());
                format!("join: waiting for {lane} to end")
            }
            Wait::Child { .. } => "waitpid: waiting for a child process to exit".into(),
            Wait::Input { .. } => "input: waiting for a line of input".into(),
        }
    }
}

/// A child of `parent` (`pid`, or any for -1) that exited and was not reaped.
fn exited_child(shared: &Shared, parent: i64, pid: i64) -> Option<(i64, i32)> {
    let mut found: Vec<(i64, i32)> = shared
        .procs
        .iter()
        .filter(|(p, rec)| rec.ppid == parent && !rec.reaped && (pid == -1 || pid == **p))
        .filter_map(|(p, rec)| rec.status.map(|s| (*p, s)))
        .collect();
    found.sort_unstable();
    found.first().copied()
}

/// The names of a lock's methods as `Value::Method` holds them.
pub fn lock_method(name: &str) -> &'static str {
    match name {
        "acquire" | "acquire_lock" => "acquire",
        "release" | "release_lock" => "release",
        "locked" => "locked",
        "__enter__" => "__enter__",
        _ => "__exit__",
    }
}

/// Whether the callee is one of the calls this file handles.
pub fn handles(callee: &Value) -> bool {
    match callee {
        Value::LibFn(f) => {
            f.name().starts_with("_thread.")
                || matches!(f, LibFn::OsFork | LibFn::OsExit | LibFn::OsWaitpid | LibFn::OsGetppid)
        }
        Value::Method(m) => matches!(&m.0, Value::Object(o) if matches!(**o, Object::Lock(_) | Object::Stdin)),
        Value::Builtin(crate::names::Builtin::Input) => true,
        _ => false,
    }
}

fn timeout_arg(v: Option<Value>, what: &str) -> Result<Option<f64>, Exception> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(v) => {
            let t = as_number(&v)
                .ok_or_else(|| Exception::type_error(format!("{what} must be a number, not {}", v.type_name())))?;
            super::args::checked_seconds(t).map(Some)
        }
    }
}

impl LaneVm {
    /// Calls a `_thread` function, a lock's method, or `os.fork`/`_exit`/`waitpid`.
    pub(super) fn call_threads(
        &mut self,
        callee: Value,
        positional: Vec<Value>,
        keywords: Vec<(String, Value)>,
        shared: &mut Shared,
    ) -> Result<Next, Raise> {
        match callee {
            Value::Method(m) => {
                let (Value::Object(obj), name) = (&m.0, m.1) else { return Ok(Next::Continue) };
                let args = Args::new(name.to_string(), positional, keywords);
                if matches!(**obj, Object::Stdin) {
                    let [size] = args.bind(["size"], 0)?;
                    if size.is_some_and(|s| !matches!(s, Value::Int(-1) | Value::None)) {
                        return Err(Exception::new(ExcClass::NotImplementedError, "readline(size) is not supported in socklab scripts").into());
                    }
                    return self.read_input(true, shared);
                }
                self.lock_call(obj, name, args, shared)
            }
            Value::Builtin(_) => {
                let args = Args::new("input".to_string(), positional, keywords);
                let [prompt] = args.bind(["prompt"], 0)?;
                if let Some(p) = prompt {
                    self.output.push_str(&p.to_str());
                }
                self.read_input(false, shared)
            }
            Value::LibFn(f) => {
                let args = Args::new(f.short_name().to_string(), positional, keywords);
                self.thread_fn(f, args, shared)
            }
            _ => Ok(Next::Continue),
        }
    }

    fn lock_call(&mut self, obj: &Arc<Object>, name: &str, args: Args, shared: &mut Shared) -> Result<Next, Raise> {
        let Object::Lock(held) = &**obj else { return Ok(Next::Continue) };
        match name {
            "acquire" | "__enter__" => {
                let (blocking, timeout) = if name == "acquire" {
                    let [blocking, timeout] = args.bind(["blocking", "timeout"], 0)?;
                    (blocking.is_none_or(|b| b.truthy()), timeout_arg(timeout, "timeout")?)
                } else {
                    args.bind::<0>([], 0)?;
                    (true, None)
                };
                let timeout = timeout.filter(|&t| t != -1.0);
                if let Some(t) = timeout {
                    if !blocking {
                        return Err(Exception::value_error("can't specify a timeout for a non-blocking call").into());
                    }
                    if t < 0.0 {
                        return Err(Exception::value_error("timeout value must be a non-negative number").into());
                    }
                }
                let mut state = lock(held);
                if !*state {
                    *state = true;
                    drop(state);
                    self.frame.stack.push(Value::Bool(true));
                    return Ok(Next::Continue);
                }
                drop(state);
                if !blocking {
                    self.frame.stack.push(Value::Bool(false));
                    return Ok(Next::Continue);
                }
                self.wait(Wait::Lock(obj.clone()), timeout, Value::Bool(false), shared)
            }
            "release" | "__exit__" => {
                let mut state = lock(held);
                if !*state {
                    return Err(Exception::new(ExcClass::RuntimeError, "release unlocked lock").into());
                }
                *state = false;
                drop(state);
                self.frame.stack.push(if name == "release" { Value::None } else { Value::Bool(false) });
                Ok(Next::Continue)
            }
            _ => {
                args.bind::<0>([], 0)?;
                let v = *lock(held);
                self.frame.stack.push(Value::Bool(v));
                Ok(Next::Continue)
            }
        }
    }

    /// Reads a line of the program's input, waiting for one.
    fn read_input(&mut self, readline: bool, shared: &mut Shared) -> Result<Next, Raise> {
        let program = self.name.split('/').next().unwrap_or("").to_string();
        self.wait(Wait::Input { program, readline }, None, Value::None, shared)
    }

    /// Parks on `wait`, or with a timeout polls it until `deadline`;
    /// `on_timeout` is the call's value if the time runs out.
    fn wait(&mut self, wait: Wait, timeout: Option<f64>, on_timeout: Value, shared: &mut Shared) -> Result<Next, Raise> {
        if wait.ready(shared) {
            let v = wait.complete(shared)?;
            self.frame.stack.push(v);
            return Ok(Next::Continue);
        }
        match timeout {
            None => Ok(Next::Park(wait)),
            Some(t) if t <= 0.0 => {
                self.frame.stack.push(on_timeout);
                Ok(Next::Continue)
            }
            Some(t) => {
                let deadline = shared.now + t;
                Ok(Next::Suspend(
                    Call::Sleep { seconds: POLL.min(t) },
                    Pending::Poll(Box::new(Poll { wait, deadline, on_timeout })),
                ))
            }
        }
    }

    /// A poll's sleep is over: the wait's value, the timeout's, or another sleep.
    pub(super) fn poll_again(&mut self, poll: Poll, shared: &mut Shared) -> Result<Option<(Call, Pending)>, Exception> {
        if poll.wait.ready(shared) {
            let v = poll.wait.complete(shared)?;
            self.frame.stack.push(v);
            return Ok(None);
        }
        let left = poll.deadline - shared.now;
        if left <= 0.0 {
            self.frame.stack.push(poll.on_timeout);
            return Ok(None);
        }
        Ok(Some((Call::Sleep { seconds: POLL.min(left) }, Pending::Poll(Box::new(poll)))))
    }

    fn thread_fn(&mut self, f: LibFn, args: Args, shared: &mut Shared) -> Result<Next, Raise> {
        let value = match f {
            LibFn::ThreadStartNewThread => {
                let [function, fargs, kwargs, daemon] = args.bind(["function", "args", "kwargs", "daemon"], 2)?;
                let function = function.unwrap_or(Value::None);
                let fargs = fargs.unwrap_or(Value::None);
                if !matches!(fargs, Value::Tuple(_) | Value::List(_)) {
                    return Err(Exception::type_error("2nd arg must be a tuple").into());
                }
                let kwargs = match kwargs {
                    None | Some(Value::None) => super::dict::new(Vec::new()),
                    Some(d @ Value::Dict(_)) => d,
                    Some(_) => return Err(Exception::type_error("optional 3rd arg must be a dictionary").into()),
                };
                let daemon = daemon.is_some_and(|d| d.truthy());
                if live_lanes(shared) >= MAX_LANES {
                    return Err(Exception::new(ExcClass::RuntimeError, "can't start new thread").into());
                }
                Value::Int(self.start_thread(function, fargs, kwargs, daemon, shared))
            }
            LibFn::ThreadAllocateLock => {
                args.bind::<0>([], 0)?;
                Value::Object(Arc::new(Object::Lock(std::sync::Mutex::new(false))))
            }
            LibFn::ThreadGetIdent => {
                args.bind::<0>([], 0)?;
                Value::Int(self.ident)
            }
            LibFn::ThreadLaneName => {
                args.bind::<0>([], 0)?;
                Value::str(&self.name)
            }
            LibFn::ThreadIsAlive => {
                let [ident] = args.bind(["ident"], 1)?;
                let ident = to_int(&ident.unwrap_or(Value::None))?;
                Value::Bool(shared.threads.get(&ident).is_some_and(|t| !t.done))
            }
            LibFn::ThreadJoin => {
                let [ident, timeout] = args.bind(["ident", "timeout"], 1)?;
                let ident = to_int(&ident.unwrap_or(Value::None))?;
                if ident == self.ident {
                    return Err(Exception::new(ExcClass::RuntimeError, "cannot join current thread").into());
                }
                let timeout = timeout_arg(timeout, "timeout")?;
                return self.wait(Wait::Thread(ident), timeout, Value::None, shared);
            }
            LibFn::OsGetppid => {
                args.bind::<0>([], 0)?;
                let pid = self.pid();
                Value::Int(shared.procs.get(&pid).map_or(1, |p| p.ppid.max(1)))
            }
            LibFn::OsExit => {
                let [status] = args.bind(["status"], 1)?;
                let status = to_int(&status.unwrap_or(Value::None))?;
                let code = i32::try_from(status & 0xff).unwrap_or(1);
                let pid = self.pid();
                if let Some(p) = shared.procs.get_mut(&pid) {
                    p.killed = Some(code);
                }
                shared.lanes_changed = true;
                self.exit_code = Some(code);
                return Ok(Next::Exit);
            }
            LibFn::OsWaitpid => {
                let [pid, options] = args.bind(["pid", "options"], 2)?;
                let pid = to_int(&pid.unwrap_or(Value::None))?;
                let options = to_int(&options.unwrap_or(Value::None))?;
                let parent = self.pid();
                let has_child = shared
                    .procs
                    .iter()
                    .any(|(p, rec)| rec.ppid == parent && !rec.reaped && (pid == -1 || pid == *p));
                if !has_child {
                    return Err(Exception::os_errno(10).into());
                }
                let wait = Wait::Child { parent, pid };
                // WNOHANG: (0, 0) when no child has exited yet.
                let timeout = (options & 1 != 0).then_some(0.0);
                let none_yet = Value::tuple(vec![Value::Int(0), Value::Int(0)]);
                return self.wait(wait, timeout, none_yet, shared);
            }
            LibFn::OsFork => {
                args.bind::<0>([], 0)?;
                if live_lanes(shared) >= MAX_LANES {
                    // What fork(2) says when a user has too many processes.
                    return Err(Exception::os_errno(11).into());
                }
                let socks = super::fork::open_sockets(self);
                let ids = socks.iter().map(|s| s.id()).collect();
                return Ok(Next::Suspend(Call::Fork { socks: ids }, Pending::Fork(socks)));
            }
            _ => Value::None,
        };
        self.frame.stack.push(value);
        Ok(Next::Continue)
    }

    pub(super) fn pid(&self) -> i64 {
        lock(&self.process).lib.pid
    }

    /// Starts a thread of this lane's program: a lane that calls `function`.
    fn start_thread(&mut self, function: Value, fargs: Value, kwargs: Value, daemon: bool, shared: &mut Shared) -> i64 {
        let (name, pid) = {
            let mut process = lock(&self.process);
            process.threads_started += 1;
            (format!("{}/thread-{}", process.name, process.threads_started), process.lib.pid)
        };
        let fargs = match fargs {
            Value::Tuple(t) => Value::list(t.to_vec()),
            other => other,
        };
        let code = vec![Op::Const(function), Op::Const(fargs), Op::Const(kwargs), Op::CallEx, Op::Pop];
        let program = Arc::new(Program { code, ..Program::default() });
        let mut frame = Frame::new(program, "<thread>".into(), 0, self.frame.globals.clone());
        frame.silent = true;
        frame.opaque = true;
        let ident = shared.new_ident();
        shared.threads.insert(ident, ThreadRec { lane: name.clone(), pid, daemon, done: false });
        let lane = LaneVm::with_frame(name, frame, self.process.clone(), ident);
        shared.spawned.push(lane);
        shared.lanes_changed = true;
        ident
    }
}

/// A wait with a timeout, between its polls.
#[derive(Debug, Clone)]
pub struct Poll {
    pub wait: Wait,
    pub deadline: f64,
    pub on_timeout: Value,
}

/// The `threading`-level bookkeeping of the interpreter: what `step` does
/// after a lane moved.
pub(super) fn settle(lanes: &mut Vec<LaneVm>, shared: &mut Shared) {
    // Only a lane's end or start changes anything here.
    if !std::mem::take(&mut shared.lanes_changed) {
        return;
    }
    for lane in &mut shared.spawned {
        lane.into_library = shared.library_steps;
    }
    lanes.append(&mut shared.spawned);
    // A process whose main thread has ended exits once its non-daemon threads
    // have; then its daemon threads stop. `os._exit` stops them all at once.
    let mut exiting: HashMap<i64, i32> = HashMap::new();
    for (&pid, rec) in &shared.procs {
        if rec.status.is_some() {
            continue;
        }
        if let Some(code) = rec.killed {
            exiting.insert(pid, code);
            continue;
        }
        let Some(main) = lanes.iter().find(|l| l.is_main && l.pid() == pid) else { continue };
        if !main.ended() {
            continue;
        }
        let busy = lanes
            .iter()
            .any(|l| !l.is_main && !l.ended() && l.pid() == pid && shared.threads.get(&l.ident).is_some_and(|t| !t.daemon));
        if !busy {
            exiting.insert(pid, main.exit_status());
        }
    }
    for (pid, code) in exiting {
        for lane in lanes.iter_mut().filter(|l| !l.ended() && l.pid() == pid) {
            lane.end_stopped(shared);
        }
        if let Some(rec) = shared.procs.get_mut(&pid) {
            rec.status = Some(code);
        }
    }
}

/// A new process's bookkeeping entry.
pub(super) fn new_process(shared: &mut Shared, pid: i64, ppid: i64) {
    shared.procs.insert(pid, ProcRec { ppid, status: None, killed: None, reaped: false });
}

/// The module a library module's functions see as globals.
pub(super) fn module_namespace(name: Module) -> Namespace {
    let ns = Namespace::default();
    lock(&ns).insert("__name__".into(), Value::str(name.name()));
    ns
}

impl LaneVm {
    /// `module.name` for a library module written in Python: loads the module
    /// on first use (its top level runs as library code, within this step),
    /// then the attribute op runs again.
    pub(super) fn source_module_attr(&mut self, m: Module, name: &str) -> Result<Next, Raise> {
        let loaded = lock(&self.process).modules.get(&m).cloned();
        if let Some(ns) = loaded {
            self.pop();
            let v = lock(&ns).get(name).cloned();
            let v = v.ok_or_else(|| {
                Exception::new(ExcClass::AttributeError, format!("module '{}' has no attribute '{name}'", m.name()))
            })?;
            self.frame.stack.push(v);
            return Ok(Next::Continue);
        }
        let parsed = crate::parse(m.source().unwrap_or(""));
        let body = match parsed.script.lanes.first() {
            Some(lane) if parsed.is_ok() => &lane.body,
            _ => {
                let why = parsed.diagnostics.first().map(|d| d.message.clone()).unwrap_or_default();
                return Err(Exception::new(ExcClass::RuntimeError, format!("socklab's {} does not load: {why}", m.name())).into());
            }
        };
        let mut program = super::compile::compile(body);
        program.code.push(Op::Const(Value::None));
        program.code.push(Op::Return);
        let mut frame = Frame::new(Arc::new(program), "<module>".into(), 0, module_namespace(m));
        frame.silent = true;
        frame.library = Some(m);
        frame.opaque = true;
        frame.on_return = super::vm::OnReturn::Module(m);
        // The attribute op runs again once the module has loaded.
        self.frame.pc -= 1;
        if let Err(e) = self.push_frame(frame) {
            self.frame.pc += 1;
            return Err(e.into());
        }
        Ok(Next::Continue)
    }
}
