//! Runs one lane's compiled code, one statement per step, suspending at each
//! relay call. See [`super::compile`] for why the code is a stack machine.

use std::collections::HashMap;
use std::sync::Arc;

use super::args::Args;
use super::builtins::Ctx;
use super::compile::{Op, Program};
use super::exception::{Exception, Raise};
use super::format;
use super::methods;
use super::ops::{self, MAX_SIZE};
use super::sockapi;
use super::sockets::{self, Flow, Pending};
use super::compile::FuncCode;
use super::dict;
use super::value::{Cell, Function, IterState, Namespace, Value, lock};
use super::class::{Instance, Special};
use super::classes::{Truth, class_call, exc_matches, exception_of, exception_value, raise_script};
use crate::ast::BinOp;
use super::{CallResult, EndStatus, InterpEvent, LaneState, Yield};
use socklab_wire::errno;
use crate::names::{self, Builtin, ExcClass, Global, Module};
use socklab_wire::protocol::{Call, OsError, Outcome, SockId};

/// State every lane shares: the event queue and the names of sockets.
#[derive(Debug, Default)]
pub struct Shared {
    pub events: Vec<InterpEvent>,
    /// The first variable each socket was stored in, for transcripts.
    pub socket_names: HashMap<SockId, String>,
    /// Wall-clock seconds passed to the latest step/resume, for `time()`.
    pub now: f64,
    /// Every lane's thread, by ident.
    pub threads: HashMap<i64, super::threads::ThreadRec>,
    /// Every process, by pid.
    pub procs: HashMap<i64, super::threads::ProcRec>,
    /// Lanes started by the step under way (threads, forked children).
    pub spawned: Vec<LaneVm>,
    /// The script's lines, for the source lines of tracebacks.
    pub lines: Vec<String>,
    /// A lane started or ended since the interpreter last looked at its programs.
    pub lanes_changed: bool,
    /// Every lane steps into library code (`socklab run --into-library`).
    pub library_steps: bool,
    /// Each program's input not read yet, by lane name; "" is the common input.
    pub inputs: HashMap<String, super::threads::InputBuf>,
    pub limits: super::Limits,
    /// What the run's values hold, in bytes (see `crate::memory`).
    pub meter: crate::memory::Meter,
    /// After a `MemoryError`, what the run may hold before the next one: room
    /// for its handler (`except MemoryError: print(...)`) to run.
    pub memory_grace: usize,
    /// What the run held after the last op, to tell which op grew it.
    memory_seen: usize,
    last_ident: i64,
}

impl Shared {
    /// A thread ident, as `threading.get_ident()` gives it.
    pub fn new_ident(&mut self) -> i64 {
        self.last_ident += 1;
        139_872_000_000_000 + self.last_ident * 4096
    }
}

/// An active `try`/`finally`/`with` block.
#[derive(Debug, Clone)]
struct Block {
    handler: usize,
    /// Stack height to restore before jumping to the handler.
    depth: usize,
    /// How many exceptions were being handled in the frame when the block was
    /// set up: what is left once its handler is entered.
    handling: usize,
}

/// What a finished call's return value becomes in its caller.
#[derive(Debug, Default)]
pub(super) enum OnReturn {
    /// Pushed: an ordinary call.
    #[default]
    Value,
    /// `__init__`: the new instance is pushed instead (the return must be None).
    Replace(Value),
    /// A class body: its names become the class, which is pushed.
    Class { name: String, bases: Vec<Value> },
    /// `__str__`/`__repr__` for native code: cached on the instance, nothing pushed;
    /// the caller's op runs again and finds it.
    Fill { inst: Arc<Instance>, repr: bool },
    /// `!=` answered by `__eq__`: the negation is pushed.
    Not,
    /// A property setter: nothing pushed.
    Discard,
    /// A generator's frame, resumed for this.
    Generator {
        genr: Arc<super::generator::Generator>,
        mode: super::generator::GenMode,
    },
    /// A generator drained for native code: the list replaces the value at
    /// `at` in the caller's stack, whose op runs again.
    Drained { at: usize },
    /// A library module's top level: its globals become the module.
    Module(crate::names::Module),
    /// A property getter or `__getattr__` run for `hasattr`/`getattr(x, n, default)`:
    /// an AttributeError leaving it becomes False or the default. A
    /// `__getattribute__` call: such an error first goes to the class's
    /// `__getattr__` with the object and name in `fallback`.
    Getattr { hasattr: bool, default: Option<Value>, fallback: Option<(Value, String)> },
    /// `__iter__`: its result must be an iterator, which is pushed.
    Iter,
    /// `__next__` for a `for` (`next` set: `next(x, default)`): pushed;
    /// StopIteration leaving it pops the iterator and jumps to `done`
    /// (pushes the default).
    ForNext { done: usize },
    NextDefault(Value),
    /// `__getitem__` for a `for` over an instance without `__iter__`: as
    /// `ForNext`, IndexError ending the loop too.
    SeqNext { done: usize },
    /// An operator method (`stage` as in `LaneVm::operator_from`): its
    /// answer is pushed, or NotImplemented hands over to the next stage.
    Operator { op: BinOp, a: Value, b: Value, stage: u8, in_place: bool },
    /// A comparison method (`stage` as in `LaneVm::compare_from`; `negate`:
    /// `__eq__` for `!=`): its answer is pushed, or NotImplemented hands over.
    Compare { op: crate::ast::CmpOp, a: Value, b: Value, stage: u8, negate: bool },
    /// `__bool__` (or `__len__`, `len` set) for a truth test: `then` uses the answer.
    Truth { then: super::classes::Truth, len: bool },
    /// `len()` of an instance: `__len__`'s answer checked.
    Len,
    /// `__format__`: its answer, which must be a str, is pushed.
    Format,
    /// `__contains__`: its answer's truth is pushed.
    Truthy,
    /// A method native code asked for (`dunder::Need`): its answer is kept
    /// for the caller's op, which runs again. `stage` as in `LaneVm::ask`.
    Answer { need: super::dunder::Need, stage: u8 },
}

/// The statement being executed.
#[derive(Debug, Clone)]
struct Current {
    stmt: usize,
    /// What its Step reports as `result`.
    result: Value,
    /// What its Step shows instead of the statement's source.
    label: Option<String>,
}

/// CPython's default recursion limit: frames in a lane, its top level included.
pub(super) const RECURSION_LIMIT: usize = 1000;

/// One running piece of code: the lane's top level or a function call. Calls
/// are frames on [`LaneVm::callers`], never Rust recursion, so depth costs no
/// native stack and suspension inside any depth resumes exactly.
#[derive(Debug)]
pub(super) struct Frame {
    program: Arc<Program>,
    /// The next op to execute. Between steps it is at an `Op::Stmt` or the end.
    pub(super) pc: usize,
    pub(super) stack: Vec<Value>,
    blocks: Vec<Block>,
    current: Option<Current>,
    /// A function's local variables (the top level uses the lane's globals).
    pub(super) locals: HashMap<String, Value>,
    pub(super) cells: HashMap<String, Cell>,
    /// The function's qualified name, or `<module>`.
    pub(super) function: String,
    /// Where the function was defined: the line a lambda's frame reports.
    def_line: u32,
    /// The exceptions the `except` clauses of this frame running now caught,
    /// innermost last: what a bare `raise` raises and a new exception's context.
    pub(super) handling: Vec<Arc<Exception>>,
    /// The function running in this frame (None at the top level), for `super()`.
    pub(super) func: Option<Arc<Function>>,
    /// The globals its code sees: the lane's, or a library module's.
    pub(super) globals: Namespace,
    /// Library code: its statements run within the caller's step, and it is
    /// not shown as where the lane is, unless the lane steps into library code.
    pub(super) silent: bool,
    /// The library module whose code this is (functions made here are its).
    pub(super) library: Option<Module>,
    /// Never stepped, even into library code: a module's top level, a
    /// thread's start (`threading`'s code up to the thread's function), and
    /// the library code they call.
    pub(super) opaque: bool,
    pub(super) on_return: OnReturn,
    /// Instances whose `__str__`/`__repr__` were cached for the op being retried.
    pub(super) filled: Vec<Arc<Instance>>,
    /// What script methods answered native code for the op being retried.
    pub(super) answers: super::dunder::Answers,
    /// Tells frames apart (a frame that returned and a new call's can share
    /// a program and a depth).
    serial: u64,
}

/// Ops whose native code may need a script method (`dunder`): comparisons,
/// subscripts, calls, and building dicts and sets.
fn may_ask(op: &Op) -> bool {
    matches!(
        op,
        Op::Compare(_)
            | Op::Binary(_)
            | Op::InPlace(_)
            | Op::Index
            | Op::StoreIndex
            | Op::DeleteIndex
            | Op::Call { .. }
            | Op::CallEx
            | Op::BuildDict(_)
            | Op::BuildSet(_)
            | Op::DictInsert
            | Op::DictMerge
            | Op::CompAdd { .. }
    )
}

/// A new frame's `serial`.
fn next_serial() -> u64 {
    static SERIALS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    SERIALS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Frame {
    pub(super) fn new(program: Arc<Program>, function: String, def_line: u32, globals: Namespace) -> Frame {
        Frame {
            globals,
            silent: false,
            library: None,
            opaque: false,
            program,
            pc: 0,
            stack: Vec::new(),
            blocks: Vec::new(),
            current: None,
            locals: HashMap::new(),
            cells: HashMap::new(),
            function,
            def_line,
            handling: Vec::new(),
            func: None,
            on_return: OnReturn::Value,
            filled: Vec::new(),
            answers: super::dunder::Answers::default(),
            serial: next_serial(),
        }
    }

    /// The frame as a forked child has it.
    pub(super) fn fork_copy(&self, c: &mut super::fork::Copier) -> Frame {
        Frame {
            program: self.program.clone(),
            pc: self.pc,
            stack: self.stack.iter().map(|v| c.value(v)).collect(),
            blocks: self.blocks.clone(),
            current: self.current.as_ref().map(|cur| Current {
                stmt: cur.stmt,
                result: c.value(&cur.result),
                label: cur.label.clone(),
            }),
            locals: self.locals.iter().map(|(k, v)| (k.clone(), c.value(v))).collect(),
            cells: self.cells.iter().map(|(k, cell)| (k.clone(), c.cell(cell))).collect(),
            function: self.function.clone(),
            def_line: self.def_line,
            handling: self.handling.clone(),
            func: self.func.as_ref().and_then(|f| match c.value(&Value::Function(f.clone())) {
                Value::Function(f) => Some(f),
                _ => None,
            }),
            globals: c.namespace(&self.globals),
            silent: self.silent,
            library: self.library,
            opaque: self.opaque,
            on_return: match &self.on_return {
                OnReturn::Value => OnReturn::Value,
                OnReturn::Replace(v) => OnReturn::Replace(c.value(v)),
                OnReturn::Class { name, bases } => OnReturn::Class {
                    name: name.clone(),
                    bases: bases.iter().map(|b| c.value(b)).collect(),
                },
                OnReturn::Fill { inst, repr } => match c.value(&Value::Instance(inst.clone())) {
                    Value::Instance(inst) => OnReturn::Fill { inst, repr: *repr },
                    _ => OnReturn::Discard,
                },
                OnReturn::Not => OnReturn::Not,
                OnReturn::Discard => OnReturn::Discard,
                OnReturn::Module(m) => OnReturn::Module(*m),
                // A generator running across the fork: the child's copy runs in the child's frame.
                OnReturn::Generator { genr, mode } => OnReturn::Generator { genr: c.generator(genr), mode: mode.clone() },
                OnReturn::Drained { at } => OnReturn::Drained { at: *at },
                OnReturn::Iter => OnReturn::Iter,
                OnReturn::Truth { then, len } => OnReturn::Truth { then: *then, len: *len },
                OnReturn::Len => OnReturn::Len,
                OnReturn::Compare { op, a, b, stage, negate } => {
                    OnReturn::Compare { op: *op, a: c.value(a), b: c.value(b), stage: *stage, negate: *negate }
                }
                OnReturn::Format => OnReturn::Format,
                OnReturn::Operator { op, a, b, stage, in_place } => {
                    OnReturn::Operator { op: *op, a: c.value(a), b: c.value(b), stage: *stage, in_place: *in_place }
                }
                OnReturn::Truthy => OnReturn::Truthy,
                OnReturn::ForNext { done } => OnReturn::ForNext { done: *done },
                OnReturn::SeqNext { done } => OnReturn::SeqNext { done: *done },
                OnReturn::NextDefault(v) => OnReturn::NextDefault(c.value(v)),
                OnReturn::Getattr { hasattr, default, fallback } => OnReturn::Getattr {
                    hasattr: *hasattr,
                    default: default.as_ref().map(|d| c.value(d)),
                    fallback: fallback.as_ref().map(|(o, n)| (c.value(o), n.clone())),
                },
                OnReturn::Answer { need, stage } => OnReturn::Answer { need: c.need(need), stage: *stage },
            },
            filled: Vec::new(),
            answers: super::dunder::Answers::default(),
            serial: next_serial(),
        }
    }

    /// Whether the frame's statements are steps: the lane's own code, or
    /// library code while the lane steps into it (`into`).
    fn visible(&self, into: bool) -> bool {
        !self.silent || (into && !self.opaque)
    }

    /// The line of the statement the frame is in or will run next.
    fn line(&self, into: bool) -> Option<u32> {
        if !self.visible(into) {
            return None;
        }
        let stmt = match (&self.current, self.program.code.get(self.pc)) {
            (Some(c), _) => c.stmt,
            (None, Some(Op::Stmt(n))) => *n,
            _ => return None,
        };
        self.program.stmts.get(stmt).map(|s| s.line)
    }
}

/// Bytes a `MemoryError`'s handler may allocate before the next one.
const MEMORY_GRACE: usize = 1 << 20;

/// Bytes of a value a step's result shows (the transcript, the page's value column).
const MAX_RESULT: usize = 4096;

#[derive(Debug)]
pub struct LaneVm {
    pub name: String,
    /// The innermost frame: the code running now.
    pub(super) frame: Frame,
    /// The frames that called it, outermost (the lane's top level) first.
    pub(super) callers: Vec<Frame>,
    /// Set by an op that started a `__str__`/`__repr__` call and will run again.
    pub(super) filling: bool,
    /// `exec_asking`'s copy of the stack, kept to reuse its room.
    saved_stack: Vec<Option<Value>>,
    pub state: LaneState,
    /// The outstanding relay call while Waiting.
    pending: Option<(Call, Pending)>,
    /// Printed text not yet ended by a newline.
    pub(super) output: String,
    /// Bytes of output given out so far, for the output limit.
    printed: usize,
    /// The program (process) the lane is a thread of.
    pub(super) process: super::process::ProcessRef,
    /// Its thread's ident (`threading.get_ident()`).
    pub(super) ident: i64,
    /// The program's main thread (a script lane or a forked child), not a thread it started.
    pub(super) is_main: bool,
    /// What the lane waits for while Parked.
    parked: Option<super::threads::Wait>,
    /// `sys.exit(n)`/`os._exit(n)`: the exit status.
    pub(super) exit_code: Option<i32>,
    /// A forked child: its first step finishes the `fork()` statement.
    resume_next: bool,
    /// The exception being raised is raised again (a bare `raise`, the end of
    /// a `finally`): the frame it comes from is in its traceback already.
    reraise: bool,
    /// The traceback text of the exception that ends the lane, for its LaneEnd.
    end_traceback: Option<String>,
    /// Steps into library code written in Python (see [`Frame::visible`]).
    pub(super) into_library: bool,
}

/// Why [`LaneVm::run`] is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// At construction: only bookkeeping before the first statement.
    Setup,
    /// A step: begin the statement at `pc`.
    Step,
    /// A call's result arrived: the current statement goes on.
    Resume,
}

/// How executing one op went.
pub(super) enum Next {
    Continue,
    Suspend(Call, Pending),
    /// Wait for another lane.
    Park(super::threads::Wait),
    /// `os._exit()`: the lane (and its program) ends now.
    Exit,
}

impl LaneVm {
    pub fn new(name: String, program: Program, ident: i64) -> LaneVm {
        let process = super::process::Process::new(&name);
        let frame = Frame::new(Arc::new(program), "<module>".into(), 0, Namespace::default());
        let mut vm = LaneVm::with_frame(name, frame, process, ident);
        vm.is_main = true;
        // Leading bookkeeping (a `try:` setup) runs now, so the lane rests on a statement.
        vm.run(&mut Shared::default(), Mode::Setup);
        vm
    }

    /// A lane that starts with `frame` in program `process`.
    pub(super) fn with_frame(name: String, frame: Frame, process: super::process::ProcessRef, ident: i64) -> LaneVm {
        LaneVm {
            process,
            name,
            frame,
            callers: Vec::new(),
            state: LaneState::Ready,
            pending: None,
            output: String::new(),
            printed: 0,
            filling: false,
            saved_stack: Vec::new(),
            ident,
            is_main: false,
            parked: None,
            exit_code: None,
            resume_next: false,
            reraise: false,
            end_traceback: None,
            into_library: false,
        }
    }

    /// Visits the lane's state (what `fork` copies).
    pub(super) fn copy_state(&self, c: &mut super::fork::Copier) {
        for f in self.callers.iter().chain(std::iter::once(&self.frame)) {
            f.fork_copy(c);
        }
    }

    /// The lane as a forked child has it: same frames, copied.
    pub(super) fn copy_lane(
        &self,
        c: &mut super::fork::Copier,
        name: String,
        process: super::process::ProcessRef,
        ident: i64,
    ) -> LaneVm {
        let callers = self.callers.iter().map(|f| f.fork_copy(c)).collect();
        let frame = self.frame.fork_copy(c);
        let mut lane = LaneVm::with_frame(name, frame, process, ident);
        lane.callers = callers;
        lane.is_main = true;
        lane.resume_next = true;
        lane.output = self.output.clone();
        lane
    }

    /// Raises in the current statement and goes on (a call's error).
    pub(super) fn fail(&mut self, shared: &mut Shared, raised: Raise) -> Yield {
        self.state = LaneState::Ready;
        if self.raise(shared, raised) {
            return Yield::Stepped;
        }
        self.run(shared, Mode::Resume)
    }

    /// Goes on with the statement under way.
    pub(super) fn resume_with(&mut self, shared: &mut Shared) -> Yield {
        self.run(shared, Mode::Resume)
    }

    pub fn ended(&self) -> bool {
        matches!(self.state, LaneState::Ended(_))
    }

    /// The exit status of a program whose main thread this lane is.
    pub(super) fn exit_status(&self) -> i32 {
        match (self.exit_code, &self.state) {
            (Some(code), _) => code,
            (None, LaneState::Ended(EndStatus::Finished)) => 0,
            _ => 1,
        }
    }

    /// Whether a parked lane can go on.
    pub fn parked_ready(&self, shared: &Shared) -> bool {
        self.parked.as_ref().is_some_and(|w| w.ready(shared))
    }

    /// Whether the lane is parked in `input()` or `sys.stdin.readline()`.
    pub fn reads_input(&self) -> bool {
        matches!(self.parked, Some(super::threads::Wait::Input { .. }))
    }

    /// What a parked lane waits for.
    pub fn parked_on(&self, shared: &Shared) -> Option<String> {
        self.parked.as_ref().map(|w| w.describe(shared))
    }

    /// Ends a lane because its program exited (a daemon thread, `os._exit`).
    pub(super) fn end_stopped(&mut self, shared: &mut Shared) {
        if self.ended() {
            return;
        }
        let line = self.current_line();
        self.pending = None;
        self.parked = None;
        let message = format!("stopped: its program (pid {}) exited", self.pid());
        self.end(shared, EndStatus::Finished, line, Some(message));
    }

    /// Line of the statement the lane will run next, or is in.
    pub fn current_line(&self) -> Option<u32> {
        if matches!(self.state, LaneState::Ended(_)) {
            return None;
        }
        // A lambda's frame has no statements: its caller's line stands.
        // Library code is never the lane's own line.
        std::iter::once(&self.frame)
            .chain(self.callers.iter().rev())
            .find_map(|f| f.line(false))
    }

    /// The call stack, outermost first: each frame's function (`<module>` for
    /// the top level), line and library module (None for the lane's own
    /// code; library frames only while the lane steps into them). Empty once
    /// the lane has ended.
    pub fn frames(&self) -> Vec<super::StackEntry> {
        if matches!(self.state, LaneState::Ended(_)) {
            return Vec::new();
        }
        let into = self.into_library;
        self.callers
            .iter()
            .chain(std::iter::once(&self.frame))
            .filter(|f| f.visible(into))
            .map(|f| super::StackEntry {
                function: f.function.clone(),
                line: f.line(into).unwrap_or(f.def_line),
                module: f.library.filter(|_| f.silent).map(Module::name),
            })
            .collect()
    }

    /// How many frames deep the lane is, counting the frames [`Self::frames`] shows.
    pub(super) fn visible_depth(&self) -> usize {
        let into = self.into_library;
        self.callers.iter().chain(std::iter::once(&self.frame)).filter(|f| f.visible(into)).count()
    }

    /// Whether the lane's innermost frame is library code it steps into.
    pub(super) fn in_library(&self) -> bool {
        self.frame.silent && self.frame.visible(self.into_library)
    }

    pub fn step(&mut self, shared: &mut Shared) -> Yield {
        if self.state == LaneState::Parked {
            // Another lane released what this one waits for: its call completes.
            let Some(wait) = self.parked.take_if(|w| w.ready(shared)) else {
                return Yield::Stepped;
            };
            self.state = LaneState::Ready;
            match wait.complete(shared) {
                Ok(v) => self.frame.stack.push(v),
                Err(e) => return self.fail(shared, Raise::Exception(e)),
            }
            return self.run(shared, Mode::Resume);
        }
        if self.state != LaneState::Ready {
            return Yield::Stepped;
        }
        if std::mem::take(&mut self.resume_next) {
            return self.run(shared, Mode::Resume);
        }
        self.run(shared, Mode::Step)
    }

    pub fn resume(&mut self, shared: &mut Shared, result: CallResult) -> Yield {
        if self.state != LaneState::Waiting {
            return Yield::Stepped;
        }
        self.state = LaneState::Ready;
        let Some((_call, pending)) = self.pending.take() else {
            return self.run(shared, Mode::Resume);
        };
        if let Pending::Close(sock) = &pending {
            sock.mark_closed();
        }
        if let Pending::Task(task) = pending {
            return self.advance_task(shared, *task, result);
        }
        if let Pending::Poll(poll) = pending {
            match self.poll_again(*poll, shared) {
                Ok(Some((call, pending))) => {
                    self.pending = Some((call.clone(), pending));
                    self.state = LaneState::Waiting;
                    return Yield::Call(call);
                }
                Ok(None) => return self.run(shared, Mode::Resume),
                Err(e) => return self.fail(shared, Raise::Exception(e)),
            }
        }
        if let Pending::Fork(socks) = pending {
            return self.forked(shared, socks, result);
        }
        let raised = match result {
            CallResult::Rejected { message } => Raise::Fatal(message),
            CallResult::Outcome(Outcome::Cancelled) => Raise::Exception(Exception::os(&OsError {
                errno: "EINTR".into(),
                errno_num: 4,
                message: "cancelled".into(),
            })),
            CallResult::Outcome(Outcome::Err { error }) => Raise::Exception(Exception::os(&error)),
            CallResult::Outcome(Outcome::Ok { value }) => {
                let v = sockets::value_from_ret(value, &pending);
                // A file's fill feeds its buffer; the `for` that asked runs again.
                if !matches!(pending, Pending::Fill(_)) {
                    self.frame.stack.push(v);
                }
                return self.run(shared, Mode::Resume);
            }
        };
        if self.raise(shared, raised) {
            return Yield::Stepped;
        }
        self.run(shared, Mode::Resume)
    }

    /// A library function's call has answered: its next call, or its value.
    fn advance_task(&mut self, shared: &mut Shared, task: sockapi::Task, result: CallResult) -> Yield {
        let outcome = match result {
            CallResult::Rejected { message } => Err(Raise::Fatal(message)),
            CallResult::Outcome(outcome) => {
                let fed = match outcome {
                    Outcome::Cancelled => Err(Exception::os(&OsError {
                        errno: "EINTR".into(),
                        errno_num: 4,
                        message: "cancelled".into(),
                    })),
                    Outcome::Err { error } => Err(Exception::os(&error)),
                    Outcome::Ok { value } => Ok(sockets::value_from_ret(value, &Pending::Plain)),
                };
                task.advance(fed).map_err(Raise::Exception)
            }
        };
        match outcome {
            Ok(Flow::Value(v)) => self.frame.stack.push(v),
            Ok(Flow::Call(call, pending)) => {
                self.pending = Some((call.clone(), pending));
                self.state = LaneState::Waiting;
                return Yield::Call(call);
            }
            Ok(Flow::Refused(message)) => {
                if self.raise(shared, Raise::Fatal(message)) {
                    return Yield::Stepped;
                }
            }
            Err(raised) => {
                if self.raise(shared, raised) {
                    return Yield::Stepped;
                }
            }
        }
        self.run(shared, Mode::Resume)
    }

    pub fn end_with_error(&mut self, shared: &mut Shared, message: String) {
        if matches!(self.state, LaneState::Ended(_)) {
            return;
        }
        let line = self.current_line();
        self.pending = None;
        self.end(shared, EndStatus::Error, line, Some(message));
    }

    pub fn end_blocked(&mut self, shared: &mut Shared) {
        if matches!(self.state, LaneState::Ended(_)) {
            return;
        }
        let line = self.current_line();
        let message = match (&self.pending, &self.parked) {
            (Some((call, _)), _) => Some(format!("blocked in {}()", call.op_name())),
            (None, Some(wait)) => Some(format!("blocked in {}", wait.describe(shared))),
            (None, None) => None,
        };
        self.parked = None;
        self.pending = None;
        self.end(shared, EndStatus::Blocked, line, message);
    }

    /// Executes ops until the statement begun (or resumed) here is done and the
    /// lane rests at the next statement, or a call is needed, or the lane ends.
    fn run(&mut self, shared: &mut Shared, mode: Mode) -> Yield {
        // Whether this run has a statement in progress (so the next `Stmt` op ends the step):
        // a lane resting in library code it no longer steps into finishes its caller's.
        let mut begun = mode == Mode::Resume
            || (mode == Mode::Step && self.frame.silent && !self.frame.opaque && !self.into_library);
        loop {
            let Some(op) = self.frame.program.code.get(self.frame.pc).cloned() else {
                if mode != Mode::Setup {
                    if let Some(cur) = self.frame.current.take() {
                        self.emit_step_ok(shared, &cur);
                    }
                    self.end(shared, EndStatus::Finished, None, None);
                }
                return Yield::Stepped;
            };
            if let Op::Stmt(_) = op
                && self.frame.silent
                && (!self.into_library || self.frame.opaque)
            {
                self.frame.pc += 1;
                continue;
            }
            if let Op::Stmt(n) = op {
                if begun || mode == Mode::Setup {
                    return Yield::Stepped;
                }
                begun = true;
                self.frame.current = Some(Current {
                    stmt: n,
                    label: None,
                    result: Value::None,
                });
                self.frame.pc += 1;
                continue;
            }
            self.frame.pc += 1;
            let outcome = if super::dunder::armed() && may_ask(&op) {
                self.exec_asking(op, shared)
            } else {
                self.exec(op, shared)
            };
            let outcome = self.within_limits(outcome, shared);
            if !std::mem::take(&mut self.filling) {
                self.clear_fills();
            }
            self.flush_output(shared);
            match outcome {
                Ok(Next::Continue) => {}
                Ok(Next::Suspend(call, pending)) => {
                    self.pending = Some((call.clone(), pending));
                    self.state = LaneState::Waiting;
                    return Yield::Call(call);
                }
                Ok(Next::Park(wait)) => {
                    self.parked = Some(wait);
                    self.state = LaneState::Parked;
                    return Yield::Stepped;
                }
                Ok(Next::Exit) => {
                    let code = self.exit_code.unwrap_or(0);
                    let line = self.current_line();
                    let (status, message) = match code {
                        0 => (EndStatus::Finished, None),
                        n => (EndStatus::Error, Some(format!("os._exit({n})"))),
                    };
                    self.end(shared, status, line, message);
                    return Yield::Stepped;
                }
                Err(raised) => {
                    if self.raise(shared, raised) {
                        return Yield::Stepped;
                    }
                    begun = true;
                }
            }
        }
    }

    /// `exec` for native code that may need script methods (`dunder`): the
    /// frame's answers are lent to it, and a need restores the op's stack,
    /// calls the method and has the op run again.
    fn exec_asking(&mut self, op: Op, shared: &mut Shared) -> Result<Next, Raise> {
        // A `for` loop's iterator is kept, not copied (it holds all its items):
        // these ops do not take it off the stack.
        let mut stack = std::mem::take(&mut self.saved_stack);
        stack.extend(self.frame.stack.iter().map(|v| (!matches!(v, Value::Iter(_))).then(|| v.clone())));
        let (pc, serial) = (self.frame.pc - 1, self.frame.serial);
        super::dunder::install(std::mem::take(&mut self.frame.answers));
        let outcome = self.exec(op, shared);
        let (answers, need) = super::dunder::uninstall();
        if self.frame.serial != serial {
            // A call started or ended: the op's frame is not the current one.
            if let Some(f) = self.callers.iter_mut().rev().find(|f| f.serial == serial) {
                f.answers = answers;
            }
            stack.clear();
            self.saved_stack = stack;
            return outcome;
        }
        self.frame.answers = answers;
        let retry = matches!(outcome, Ok(Next::Continue) | Err(Raise::Exception(_)));
        let restored = match need.filter(|_| retry) {
            Some(need) if self.restore_stack(&mut stack) => Some(need),
            _ => None,
        };
        stack.clear();
        self.saved_stack = stack;
        let Some(need) = restored else { return outcome };
        self.frame.pc = pc;
        self.ask(need, 0)?;
        Ok(Next::Continue)
    }

    /// The stack `exec_asking` saved, its iterators (None there) still in
    /// place; false, nothing changed, if one is gone.
    fn restore_stack(&mut self, saved: &mut Vec<Option<Value>>) -> bool {
        let kept = |i: usize| matches!(self.frame.stack.get(i), Some(Value::Iter(_)));
        if !saved.iter().enumerate().all(|(i, v)| v.is_some() || kept(i)) {
            return false;
        }
        let mut now = std::mem::take(&mut self.frame.stack);
        self.frame.stack = saved
            .drain(..)
            .enumerate()
            .map(|(i, v)| v.unwrap_or_else(|| now.get_mut(i).map_or(Value::None, |it| std::mem::replace(it, Value::None))))
            .collect();
        true
    }

    /// Calls the method `need` names (for `__eq__`, from `stage`: 0 the
    /// left operand's, 1 the right's reflected one); its answer is kept by
    /// `returned`. One that has no method left is answered here.
    pub(super) fn ask(&mut self, need: super::dunder::Need, stage: u8) -> Result<(), Exception> {
        use super::dunder::Need;
        self.filling = true;
        let (recv, args, stage) = match &need {
            Need::Eq(a, b) => {
                let found = (stage..2).find_map(|s| {
                    let (recv, other) = if s == 0 { (a, b) } else { (b, a) };
                    match recv {
                        Value::Instance(i) => i.class.method("__eq__").map(|m| (m, recv, other, s)),
                        _ => None,
                    }
                });
                let Some((m, recv, other, s)) = found else {
                    // Neither method answered: identity decides.
                    let same = super::value::py_is(a, b);
                    self.frame.answers.eq(a.clone(), b.clone(), same);
                    return Ok(());
                };
                (m, vec![recv.clone(), other.clone()], s)
            }
            Need::Repr(v) => {
                if let Value::Instance(inst) = v
                    && let Some(m) = inst.class.method("__repr__")
                {
                    let on_return = OnReturn::Fill { inst: inst.clone(), repr: true };
                    return self.call_function(&m, vec![v.clone()], Vec::new(), on_return);
                }
                return Ok(());
            }
            Need::Hash(v) | Need::Format(v, _) => {
                let name = if matches!(need, Need::Hash(_)) { "__hash__" } else { "__format__" };
                let Some(m) = (match v {
                    Value::Instance(i) => i.class.method(name),
                    _ => None,
                }) else {
                    return Err(Exception::type_error(format!("'{}' object has no {name}", v.type_name())));
                };
                let mut args = vec![v.clone()];
                if let Need::Format(_, spec) = &need {
                    args.push(Value::str(spec));
                }
                (m, args, 0)
            }
        };
        self.call_function(&recv, args, Vec::new(), OnReturn::Answer { need, stage })
    }

    pub(super) fn pop(&mut self) -> Value {
        self.frame.stack.pop().unwrap_or(Value::None)
    }

    fn exec(&mut self, op: Op, shared: &mut Shared) -> Result<Next, Raise> {
        match op {
            Op::Stmt(_) => {}
            Op::EndStmt => {
                if let Some(cur) = self.frame.current.take() {
                    self.emit_step_ok(shared, &cur);
                }
            }
            Op::Const(v) => self.frame.stack.push(v),
            Op::Load(name) => {
                let v = self.load(&name)?;
                self.frame.stack.push(v);
            }
            Op::Store(name) => {
                let v = self.pop();
                note_socket(shared, &name, &v);
                lock(&self.frame.globals).insert(name, v);
            }
            Op::StoreSlice => {
                let step = self.pop();
                let upper = self.pop();
                let lower = self.pop();
                let object = self.pop();
                let value = self.pop();
                if let Value::Instance(inst) = &object {
                    let args = vec![object.clone(), super::library::slice(vec![lower, upper, step])?, value];
                    return self.item_dunder(inst.clone(), "__setitem__", args, "does not support item assignment");
                }
                ops::store_slice(&object, &lower, &upper, &step, &value)?;
            }
            Op::StoreIndex => {
                let index = self.pop();
                let object = self.pop();
                let value = self.pop();
                if let Value::Instance(inst) = &object {
                    let args = vec![object.clone(), index, value];
                    return self.item_dunder(inst.clone(), "__setitem__", args, "does not support item assignment");
                }
                ops::store_index(&object, &index, value)?;
            }
            Op::Unpack(_) | Op::UnpackEx { .. }
                if self.drain_generator(None, self.frame.stack.len().saturating_sub(1)..self.frame.stack.len())? =>
            {
                return Ok(Next::Continue);
            }
            Op::Yield => return self.yield_value(),
            Op::YieldFromResult => self.yield_from_result(),
            Op::SendIter { yield_at, done } => return self.send_iter(yield_at, done),
            Op::Unpack(n) => {
                let items = unpack_items(&self.pop())?;
                if items.len() < n {
                    return Err(Exception::value_error(format!(
                        "not enough values to unpack (expected {n}, got {})",
                        items.len()
                    ))
                    .into());
                }
                if items.len() > n {
                    return Err(Exception::value_error(format!(
                        "too many values to unpack (expected {n})"
                    ))
                    .into());
                }
                self.frame.stack.extend(items.into_iter().rev());
            }
            Op::UnpackEx { before, after } => {
                let mut items = unpack_items(&self.pop())?;
                if items.len() < before + after {
                    return Err(Exception::value_error(format!(
                        "not enough values to unpack (expected at least {}, got {})",
                        before + after,
                        items.len()
                    ))
                    .into());
                }
                let tail = items.split_off(items.len() - after);
                let middle = items.split_off(before);
                self.frame.stack.extend(tail.into_iter().rev());
                self.frame.stack.push(Value::list(middle));
                self.frame.stack.extend(items.into_iter().rev());
            }
            Op::Pop => {
                self.pop();
            }
            Op::Dup => {
                let v = self.frame.stack.last().cloned().unwrap_or(Value::None);
                self.frame.stack.push(v);
            }
            Op::Dup2 => {
                let n = self.frame.stack.len();
                if n >= 2 {
                    let (a, b) = (self.frame.stack[n - 2].clone(), self.frame.stack[n - 1].clone());
                    self.frame.stack.push(a);
                    self.frame.stack.push(b);
                }
            }
            Op::Rot2 => {
                let n = self.frame.stack.len();
                if n >= 2 {
                    self.frame.stack.swap(n - 1, n - 2);
                }
            }
            Op::Rot3 => {
                let n = self.frame.stack.len();
                if n >= 3 {
                    let top = self.frame.stack.remove(n - 1);
                    self.frame.stack.insert(n - 3, top);
                }
            }
            Op::SetResult => {
                if let (Some(cur), Some(top)) = (self.frame.current.as_mut(), self.frame.stack.last()) {
                    cur.result = top.clone();
                }
            }
            Op::Unary(op) => {
                if self.unary_dunder(op)? {
                    return Ok(Next::Continue);
                }
                let v = self.pop();
                self.frame.stack.push(ops::unary(op, &v)?);
            }
            Op::InPlace(op) if matches!(self.frame.stack.iter().rev().nth(1), Some(Value::Instance(_))) => {
                let n = self.frame.stack.len();
                let (a, b) = (self.frame.stack[n - 2].clone(), self.frame.stack[n - 1].clone());
                if self.operator_from(op, &a, &b, 0, 2, true)? {
                    return Ok(Next::Continue);
                }
                self.frame.stack.truncate(n - 2);
                self.frame.stack.push(ops::binary(op, &a, &b).map_err(super::classes::in_place_error)?);
            }
            Op::Binary(op) | Op::InPlace(op) => {
                if op == BinOp::Mod
                    && matches!(self.frame.stack.iter().rev().nth(1), Some(Value::Str(_)))
                    && let Some(v) = self.frame.stack.last().cloned()
                    && self.fill_percent(&v)?
                {
                    return Ok(Next::Continue);
                }
                if self.binary_dunder(op)? {
                    return Ok(Next::Continue);
                }
                let b = self.pop();
                let a = self.pop();
                self.frame.stack.push(ops::binary(op, &a, &b)?);
            }
            Op::Compare(op) => {
                if self.compare_dunder(op)? {
                    return Ok(Next::Continue);
                }
                let b = self.pop();
                let a = self.pop();
                self.frame.stack.push(ops::compare(op, &a, &b)?);
            }
            Op::Jump(t) => self.frame.pc = t,
            // Every instance is truthy: only for one is `__bool__`/`__len__` looked for.
            Op::JumpIfFalse(t) => {
                let v = self.pop();
                if !v.truthy() {
                    self.frame.pc = t;
                } else if let Value::Instance(_) = v
                    && self.truth_dunder(&v, Truth::Jump { to: t, when: false })?
                {
                    return Ok(Next::Continue);
                }
            }
            Op::JumpIfTrue(t) => {
                let v = self.pop();
                if let Value::Instance(_) = v
                    && self.truth_dunder(&v, Truth::Jump { to: t, when: true })?
                {
                    return Ok(Next::Continue);
                }
                if v.truthy() {
                    self.frame.pc = t;
                }
            }
            Op::JumpIfFalseOrPop(t) => {
                if self.frame.stack.last().is_some_and(|v| !v.truthy()) {
                    self.frame.pc = t;
                } else if let Some(v @ Value::Instance(_)) = self.frame.stack.last().cloned()
                    && self.truth_dunder(&v, Truth::JumpOrPop { to: t, when: false })?
                {
                    return Ok(Next::Continue);
                } else {
                    self.pop();
                }
            }
            Op::JumpIfTrueOrPop(t) => {
                if let Some(v @ Value::Instance(_)) = self.frame.stack.last().cloned()
                    && self.truth_dunder(&v, Truth::JumpOrPop { to: t, when: true })?
                {
                    return Ok(Next::Continue);
                }
                if self.frame.stack.last().is_some_and(Value::truthy) {
                    self.frame.pc = t;
                } else {
                    self.pop();
                }
            }
            Op::BuildTuple(n) => {
                let items = self.frame.stack.split_off(self.frame.stack.len().saturating_sub(n));
                self.frame.stack.push(Value::tuple(items));
            }
            Op::FormatValue {
                conversion,
                has_spec,
            } => {
                let at = self.frame.stack.len().saturating_sub(1 + usize::from(has_spec));
                // `f"{when:%H:%M}"` (or `f"{when}"`, spec '') of an instance whose class defines `__format__`.
                if conversion.is_none()
                    && let Some(Value::Instance(i)) = self.frame.stack.get(at)
                    && let Some(m) = i.class.method("__format__")
                {
                    let spec = if has_spec { self.pop() } else { Value::str("") };
                    let recv = self.pop();
                    self.call_function(&m, vec![recv, spec], Vec::new(), OnReturn::Format)?;
                    return Ok(Next::Continue);
                }
                if let Some(v) = self.frame.stack.get(at).cloned() {
                    let repr = matches!(conversion, Some('r' | 'a'));
                    if self.fill(&v, !repr, repr)? {
                        return Ok(Next::Continue);
                    }
                }
                let spec = if has_spec {
                    self.pop().to_str()
                } else {
                    String::new()
                };
                let mut v = self.pop();
                if let Some(c) = conversion {
                    v = format::convert(&v, c)?;
                }
                self.frame.stack
                    .push(Value::str(format::format_value(&v, &spec)?));
            }
            Op::BuildString(n) => {
                let parts = self.frame.stack.split_off(self.frame.stack.len().saturating_sub(n));
                let mut text = String::new();
                for part in &parts {
                    text.push_str(&part.to_str());
                    if text.len() > MAX_SIZE {
                        return Err(Exception::memory().into());
                    }
                }
                self.frame.stack.push(Value::str(text));
            }
            Op::BuildList(n) => {
                let items = self.frame.stack.split_off(self.frame.stack.len().saturating_sub(n));
                self.frame.stack.push(Value::list(items));
            }
            Op::Index => {
                let i = self.pop();
                let x = self.pop();
                if let Value::Instance(inst) = &x {
                    return self.item_dunder(inst.clone(), "__getitem__", vec![x, i], "is not subscriptable");
                }
                self.frame.stack.push(ops::index(&x, &i)?);
            }
            Op::Slice { lower, upper, step } => {
                let step = if step { Some(self.pop()) } else { None };
                let upper = if upper { Some(self.pop()) } else { None };
                let lower = if lower { Some(self.pop()) } else { None };
                let x = self.pop();
                if let Value::Instance(inst) = &x {
                    let parts = [lower, upper, step].map(|p| p.unwrap_or(Value::None));
                    let key = super::library::slice(parts.to_vec())?;
                    return self.item_dunder(inst.clone(), "__getitem__", vec![x.clone(), key], "is not subscriptable");
                }
                self.frame.stack.push(ops::slice(
                    &x,
                    lower.as_ref(),
                    upper.as_ref(),
                    step.as_ref(),
                )?);
            }
            Op::Attr(name) => {
                if let Some(Value::Module(m)) = self.frame.stack.last()
                    && m.source().is_some()
                {
                    let m = *m;
                    return self.source_module_attr(m, &name);
                }
                let x = self.pop();
                if matches!(x, Value::Module(Module::Sys)) && name == "argv" {
                    // Each lane runs as a program of its own.
                    let argv0 = lock(&self.process).lib.argv0.clone();
                    self.frame.stack.push(Value::list(vec![Value::str(argv0)]));
                    return Ok(Next::Continue);
                }
                return self.get_attr(x, &name);
            }
            Op::Call { argc, kwnames } => {
                let base = self.frame.stack.len().saturating_sub(argc + kwnames.len());
                if self.fill_args(base, argc + kwnames.len())?
                    || self.drain_generator(base.checked_sub(1), base..self.frame.stack.len())?
                {
                    return Ok(Next::Continue);
                }
                let kwvalues = self
                    .frame
                    .stack
                    .split_off(self.frame.stack.len().saturating_sub(kwnames.len()));
                let positional = self.frame.stack.split_off(self.frame.stack.len().saturating_sub(argc));
                let callee = self.pop();
                if kwnames.is_empty()
                    && let Some(next) = self.call_generator(&callee, &positional, &[])
                {
                    return next;
                }
                // `abs(x)` of an instance whose class defines `__abs__`.
                if let (Value::Builtin(Builtin::Abs), [Value::Instance(i)]) = (&callee, positional.as_slice())
                    && kwnames.is_empty()
                    && let Some(m) = i.class.method("__abs__")
                {
                    self.call_function(&m, positional, Vec::new(), OnReturn::Value)?;
                    return Ok(Next::Continue);
                }
                // `format(x, spec)` of an instance whose class defines `__format__`.
                if let (Value::Builtin(Builtin::Format), [x @ Value::Instance(i), rest @ ..]) = (&callee, positional.as_slice())
                    && kwnames.is_empty()
                    && rest.len() <= 1
                    && let Some(m) = i.class.method("__format__")
                {
                    let spec = rest.first().cloned().unwrap_or_else(|| Value::str(""));
                    self.call_function(&m, vec![x.clone(), spec], Vec::new(), OnReturn::Format)?;
                    return Ok(Next::Continue);
                }
                // `any`/`all` of instances whose class defines `__bool__` or `__len__`.
                if let (Value::Builtin(b @ (Builtin::Any | Builtin::All)), [items]) = (&callee, positional.as_slice())
                    && kwnames.is_empty()
                    && self.any_all(*b == Builtin::All, items)?
                {
                    return Ok(Next::Continue);
                }
                // `bool(x)` of an instance whose class defines `__bool__` or `__len__`.
                if let (Value::Builtin(Builtin::Bool), [x @ Value::Instance(_)]) = (&callee, positional.as_slice())
                    && kwnames.is_empty()
                    && self.truth_dunder(x, Truth::Push { negate: false })?
                {
                    return Ok(Next::Continue);
                }
                if class_call(&callee, &positional) {
                    let keywords = kwnames.into_iter().zip(kwvalues).collect();
                    return self.call_class_value(callee, positional, keywords);
                }
                let kwnames: Vec<String> = kwnames;
                if let Value::Builtin(b) = &callee {
                    let keywords: Vec<(String, Value)> =
                        kwnames.iter().cloned().zip(kwvalues.iter().cloned()).collect();
                    if let Some(plan) = super::more::callback_plan(*b, &positional, &keywords)? {
                        self.call_with_callbacks(b.name(), plan)?;
                        return Ok(Next::Continue);
                    }
                }
                let keywords = kwnames.into_iter().zip(kwvalues).collect();
                return self.call_plain(callee, positional, keywords, shared);
            }
            Op::GetIter => {
                let v = self.pop();
                let state = match v {
                    Value::Generator(_) | Value::Iter(_) => {
                        self.frame.stack.push(v);
                        return Ok(Next::Continue);
                    }
                    Value::File(f) => IterState::File(f),
                    Value::Range { start, stop, step } => IterState::Range {
                        next: start,
                        stop,
                        step,
                    },
                    Value::BigRange(r) => IterState::BigRange { next: r.start.clone(), stop: r.stop.clone(), step: r.step.clone() },
                    Value::Instance(ref i) if let Some(m) = i.class.method("__iter__") => {
                        self.call_function(&m, vec![v.clone()], Vec::new(), OnReturn::Iter)?;
                        return Ok(Next::Continue);
                    }
                    Value::Instance(ref i) if i.class.method("__getitem__").is_some() => IterState::Seq { obj: v, next: 0 },
                    other => IterState::Items {
                        items: super::args::iterate(&other)?,
                        next: 0,
                    },
                };
                self.frame.stack.push(Value::Iter(Box::new(state)));
            }
            Op::ForIter(done) => {
                if let Some(next) = self.for_iter_generator(done) {
                    return next;
                }
                if let Some(Value::Iter(it)) = self.frame.stack.last()
                    && let IterState::File(f) | IterState::FileEnum { file: f, .. } = it.as_ref()
                {
                    match f.clone().next_line()? {
                        Ok(Some(line)) => {
                            // `enumerate(file)`: the line comes with its number.
                            let item = match self.frame.stack.last_mut() {
                                Some(Value::Iter(it)) => match it.as_mut() {
                                    IterState::FileEnum { next, .. } => {
                                        let n = *next;
                                        *next = n.saturating_add(1);
                                        Value::tuple(vec![Value::Int(n), line])
                                    }
                                    _ => line,
                                },
                                _ => line,
                            };
                            self.frame.stack.push(item);
                        }
                        Ok(None) => {
                            self.pop();
                            self.frame.pc = done;
                        }
                        Err(Flow::Call(call, pending)) => {
                            // After the recv this same op asks again: nothing is evaluated twice.
                            self.frame.pc -= 1;
                            return Ok(Next::Suspend(call, pending));
                        }
                        Err(Flow::Refused(message)) => return Err(Raise::Fatal(message)),
                        Err(Flow::Value(v)) => self.frame.stack.push(v),
                    }
                    return Ok(Next::Continue);
                }
                let next = match self.frame.stack.last_mut() {
                    Some(Value::Iter(state)) => state.next_value(),
                    // An instance `__iter__` gave: its `__next__` runs as a call.
                    Some(Value::Instance(i)) if let Some(m) = i.class.method("__next__") => {
                        let recv = Value::Instance(i.clone());
                        self.call_function(&m, vec![recv], Vec::new(), OnReturn::ForNext { done })?;
                        return Ok(Next::Continue);
                    }
                    _ => None,
                };
                match next {
                    Some(v) => self.frame.stack.push(v),
                    None => {
                        // Over an instance without `__iter__` (`next_value` gives None):
                        // `obj[next]` runs as a call.
                        if let Some(Value::Iter(it)) = self.frame.stack.last_mut()
                            && let IterState::Seq { obj, next } = it.as_mut()
                            && let Value::Instance(i) = obj
                            && let Some(m) = i.class.method("__getitem__")
                        {
                            let args = vec![obj.clone(), Value::Int(*next)];
                            *next = next.saturating_add(1);
                            self.call_function(&m, args, Vec::new(), OnReturn::SeqNext { done })?;
                            return Ok(Next::Continue);
                        }
                        self.pop();
                        self.frame.pc = done;
                    }
                }
            }
            Op::SetupExcept(handler) | Op::SetupFinally(handler) => {
                self.frame.blocks.push(Block {
                    handler,
                    depth: self.frame.stack.len(),
                    handling: self.frame.handling.len(),
                });
            }
            Op::PopBlock => {
                self.frame.blocks.pop();
            }
            Op::ExcMatch { classes, next } => {
                let matched = match self.frame.stack.last().and_then(exception_of) {
                    Some(e) => {
                        let hit = classes.is_empty()
                            || classes.iter().any(|c| e.class.is_subclass_of(*c));
                        if hit {
                            self.frame.handling.push(Arc::new(e));
                        }
                        hit
                    }
                    _ => false,
                };
                if !matched {
                    self.frame.pc = next;
                }
            }
            Op::ExcMatchScript {
                classes,
                count,
                next,
            } => {
                let at = self.frame.stack.len().saturating_sub(count);
                let script = self.frame.stack.split_off(at);
                let top = self.frame.stack.last().cloned().unwrap_or(Value::None);
                let matched = match exception_of(&top) {
                    Some(e) => {
                        let hit = classes.iter().any(|c| e.class.is_subclass_of(*c))
                            || script.iter().any(|c| exc_matches(&top, &e, c));
                        if hit {
                            self.frame.handling.push(Arc::new(e));
                        }
                        hit
                    }
                    None => false,
                };
                if !matched {
                    self.frame.pc = next;
                }
            }
            Op::EndExcept => {
                self.frame.handling.pop();
            }
            Op::Reraise => {
                if let Some(e) = exception_of(&self.pop()) {
                    self.reraise = true;
                    return Err(Raise::Exception(e));
                }
            }
            Op::AssertFail { has_message } => {
                let message = if has_message {
                    self.pop().to_str()
                } else {
                    String::new()
                };
                return Err(Exception::new(ExcClass::AssertionError, message).into());
            }
            Op::EnterWith => {
                let v = self.frame.stack.last().cloned().unwrap_or(Value::None);
                if v.as_socket().is_some() || matches!(v, Value::File(_) | Value::MemoryView(_)) {
                    self.frame.stack.push(v);
                } else if let Value::Object(o) = &v
                    && matches!(**o, super::library::Object::Lock(_))
                {
                    let enter = Value::Method(Arc::new((v.clone(), "__enter__")));
                    return self.call_threads(enter, Vec::new(), Vec::new(), shared);
                } else {
                    return self.enter_with(v);
                }
            }
            Op::LoadClassName(name) => {
                let own = self.frame.locals.get(&name).cloned();
                let own = own.or_else(|| self.frame.cells.get(&name).and_then(|c| lock(c).clone()));
                let v = match own {
                    Some(v) => v,
                    None => self.load(&name)?,
                };
                self.frame.stack.push(v);
            }
            Op::LoadLocal(name) => {
                let v = self.frame.locals.get(&name).cloned();
                self.frame.stack.push(v.ok_or_else(|| unbound_local(&name))?);
            }
            Op::StoreLocal(name) => {
                let v = self.pop();
                note_socket(shared, &name, &v);
                self.frame.locals.insert(name, v);
            }
            Op::LoadCell(name) => {
                let v = self.frame.cells.get(&name).and_then(|c| lock(c).clone());
                self.frame.stack.push(v.ok_or_else(|| unbound_local(&name))?);
            }
            Op::StoreCell(name) => {
                let v = self.pop();
                note_socket(shared, &name, &v);
                let cell = self.frame.cells.entry(name).or_default();
                *lock(cell) = Some(v);
            }
            Op::Delete(name) => {
                if lock(&self.frame.globals).remove(&name).is_none() {
                    return Err(Exception::new(
                        ExcClass::NameError,
                        format!("name '{name}' is not defined"),
                    )
                    .into());
                }
            }
            Op::DeleteLocal(name) => {
                if self.frame.locals.remove(&name).is_none() {
                    return Err(unbound_local(&name).into());
                }
            }
            Op::DeleteCell(name) => {
                let old = self.frame.cells.get(&name).and_then(|c| lock(c).take());
                if old.is_none() {
                    return Err(unbound_local(&name).into());
                }
            }
            Op::DeleteIndex => {
                let index = self.pop();
                let object = self.pop();
                if let Value::Instance(inst) = &object {
                    // CPython words it differently for a slice.
                    let lacks = if super::library::slice_parts(&index).is_some() { "does not" } else { "doesn't" };
                    let lacks = format!("{lacks} support item deletion");
                    return self.item_dunder(inst.clone(), "__delitem__", vec![object.clone(), index], &lacks);
                }
                ops::delete_index(&object, &index)?;
            }
            Op::MakeFunction {
                code,
                defaults,
                kwdefaults,
            } => {
                let mut kw = Vec::new();
                for &has in kwdefaults.iter().rev() {
                    kw.push(if has { Some(self.pop()) } else { None });
                }
                kw.reverse();
                let at = self.frame.stack.len().saturating_sub(defaults);
                let defaults = self.frame.stack.split_off(at);
                let closure = code
                    .frees
                    .iter()
                    .map(|n| {
                        let cell = self.frame.cells.entry(n.clone()).or_default().clone();
                        (n.clone(), cell)
                    })
                    .collect();
                self.frame.stack.push(Value::Function(Arc::new(Function {
                    code,
                    defaults,
                    kwdefaults: kw,
                    closure,
                    globals: self.frame.globals.clone(),
                    library: self.frame.library,
                    owner: Default::default(),
                })));
            }
            Op::Return => {
                let v = self.pop();
                if let Some(caller) = self.callers.pop() {
                    let done = std::mem::replace(&mut self.frame, caller);
                    self.returned(done, v)?;
                }
            }
            Op::Raise { has_exc, has_cause } => {
                if !has_exc {
                    return Err(match self.handled() {
                        Some(e) => {
                            self.reraise = true;
                            Raise::Exception((*e).clone())
                        }
                        None => {
                            Exception::new(ExcClass::RuntimeError, "No active exception to reraise")
                                .into()
                        }
                    });
                }
                let cause = if has_cause { Some(self.pop()) } else { None };
                let exc = match self.pop() {
                    Value::Exception(e) => (*e).clone(),
                    Value::ExcClass(c) => Exception::new(c, ""),
                    other => match raise_script(&other) {
                        Some(e) => e,
                        None => return Err(Exception::type_error("exceptions must derive from BaseException").into()),
                    },
                };
                return Err(super::classes::chain(exc, cause, self.handled().as_deref())?.into());
            }
            Op::BuildDict(n) => {
                let items = self
                    .frame
                    .stack
                    .split_off(self.frame.stack.len().saturating_sub(2 * n));
                let d = dict::new(Vec::new());
                if let Value::Dict(d) = &d {
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        dict::set(d, k, v)?;
                    }
                }
                self.frame.stack.push(d);
            }
            Op::BuildSet(n) => {
                let items = self
                    .frame
                    .stack
                    .split_off(self.frame.stack.len().saturating_sub(n));
                self.frame.stack.push(super::set::from_items(items)?);
            }
            Op::Finish(finish) => {
                let results = match self.pop() {
                    Value::List(l) => lock(&l).to_vec(),
                    _ => Vec::new(),
                };
                let v = super::more::finish(&finish, results)?;
                self.frame.stack.push(v);
            }
            Op::CompAdd { depth, pair } => {
                let v = self.pop();
                let key = if pair { Some(self.pop()) } else { None };
                let at = self.frame.stack.len().checked_sub(depth + 1);
                match (at.and_then(|i| self.frame.stack.get(i)), key) {
                    (Some(Value::List(l)), _) => lock(l).push(v),
                    (Some(Value::Dict(d)), Some(k)) => dict::set(d, k, v)?,
                    (Some(Value::Set(s)), _) => super::set::add(s, v)?,
                    _ => {}
                }
            }
            Op::ListAppend => {
                let v = self.pop();
                if let Some(Value::List(l)) = self.frame.stack.last() {
                    lock(l).push(v);
                }
            }
            Op::ListExtend => {
                let top = self.frame.stack.len().saturating_sub(1);
                if self.drain_generator(None, top..top + 1)? {
                    return Ok(Next::Continue);
                }
                let v = self.pop();
                let items = match &v {
                    Value::Dict(d) => dict::keys(d),
                    other => super::args::iterate(other).map_err(|_| {
                        Exception::type_error(format!(
                            "Value after * must be an iterable, not {}",
                            other.type_name()
                        ))
                    })?,
                };
                if let Some(Value::List(l)) = self.frame.stack.last() {
                    lock(l).extend(items);
                }
            }
            Op::DictInsert => {
                let v = self.pop();
                let k = self.pop();
                if let Some(Value::Dict(d)) = self.frame.stack.last() {
                    dict::set(d, k, v)?;
                }
            }
            Op::DictMerge => {
                let v = self.pop();
                let Value::Dict(src) = &v else {
                    return Err(Exception::type_error(format!(
                        "argument after ** must be a mapping, not {}",
                        v.type_name()
                    ))
                    .into());
                };
                let pairs = lock(src).to_vec();
                if let Some(Value::Dict(d)) = self.frame.stack.last() {
                    for (k, v) in pairs {
                        dict::set(d, k, v)?;
                    }
                }
            }
            Op::CallEx => {
                let n = self.frame.stack.len();
                let mut args: Vec<Value> = match self.frame.stack.get(n.saturating_sub(2)) {
                    Some(Value::List(l)) => lock(l).to_vec(),
                    _ => Vec::new(),
                };
                if let Some(Value::Dict(d)) = self.frame.stack.last() {
                    args.extend(lock(d).iter().map(|(_, v)| v.clone()));
                }
                if self.fill_values(n.saturating_sub(3), &args)? {
                    return Ok(Next::Continue);
                }
                let kw = self.pop();
                let pos = self.pop();
                let callee = self.pop();
                let positional = match &pos {
                    Value::List(l) => lock(l).to_vec(),
                    _ => Vec::new(),
                };
                let mut keywords = Vec::new();
                if let Value::Dict(d) = &kw {
                    for (k, v) in lock(d).iter() {
                        match k {
                            Value::Str(s) => keywords.push((s.to_string(), v.clone())),
                            _ => {
                                return Err(Exception::type_error("keywords must be strings").into());
                            }
                        }
                    }
                }
                if let Some(next) = self.call_generator(&callee, &positional, &keywords) {
                    return next;
                }
                if class_call(&callee, &positional) {
                    return self.call_class_value(callee, positional, keywords);
                }
                return self.call_plain(callee, positional, keywords, shared);
            }
            Op::ExitWith { exc } => {
                let v = self.pop();
                if let Value::MemoryView(m) = &v {
                    super::memview::release(m);
                    self.frame.stack.push(Value::None);
                    return Ok(Next::Continue);
                }
                if v.as_socket().is_none()
                    && !matches!(v, Value::File(_))
                    && let Some(cur) = self.frame.current.as_mut()
                    && let Some(s) = self.frame.program.stmts.get(cur.stmt)
                {
                    // The `with` exit is shown as `x.close()`: right for sockets and files only.
                    let base = s.source.strip_suffix(".close()").unwrap_or(&s.source);
                    cur.label = Some(format!("{base}.__exit__(None, None, None)"));
                }
                if let Value::Object(o) = &v
                    && matches!(**o, super::library::Object::Lock(_))
                {
                    let exit = Value::Method(Arc::new((v.clone(), "__exit__")));
                    return self.call_threads(exit, Vec::new(), Vec::new(), shared);
                }
                if let Value::File(f) = &v {
                    match f.close() {
                        Flow::Call(call, pending) => return Ok(Next::Suspend(call, pending)),
                        _ => self.frame.stack.push(Value::None),
                    }
                    return Ok(Next::Continue);
                }
                match v.as_socket() {
                    Some(s) if !s.is_closed() => {
                        return Ok(Next::Suspend(
                            Call::Close { sock: s.id() },
                            Pending::Close(s.clone()),
                        ));
                    }
                    Some(_) => self.frame.stack.push(Value::None),
                    None => return self.exit_with(v, exc),
                }
            }
            Op::MakeClass(name) => {
                let body = self.pop();
                let bases = match self.pop() {
                    Value::Tuple(t) => t.to_vec(),
                    _ => Vec::new(),
                };
                if let Value::Function(f) = &body {
                    self.call_function(f, Vec::new(), Vec::new(), OnReturn::Class { name, bases })?;
                }
            }
            Op::StoreAttr(name) => {
                let object = self.pop();
                let value = self.pop();
                return self.set_attr(object, &name, value);
            }
            Op::DeleteAttr(name) => {
                let object = self.pop();
                self.del_attr(&object, &name)?;
            }
        }
        Ok(Next::Continue)
    }

    /// Enters `frame`: it becomes the innermost.
    pub(super) fn push_frame(&mut self, frame: Frame) -> Result<(), Exception> {
        if self.callers.len() + 2 > RECURSION_LIMIT {
            return Err(Exception::new(ExcClass::RecursionError, "maximum recursion depth exceeded"));
        }
        let caller = std::mem::replace(&mut self.frame, frame);
        self.callers.push(caller);
        Ok(())
    }

    /// Binds the arguments and enters the function: its frame becomes the
    /// innermost, and `run` goes on with its first op.
    /// `x[i]`, `x[i] = v`, `del x[i]` of an instance: its class's method
    /// `name` runs as a call (`__getitem__`'s answer pushed), or the
    /// TypeError says the object `lacks` it.
    fn item_dunder(&mut self, inst: Arc<Instance>, name: &str, args: Vec<Value>, lacks: &str) -> Result<Next, Raise> {
        let Some(m) = inst.class.method(name) else {
            return Err(Exception::type_error(format!("'{}' object {lacks}", inst.class.name)).into());
        };
        let on_return = if name == "__getitem__" { OnReturn::Value } else { OnReturn::Discard };
        self.call_function(&m, args, Vec::new(), on_return)?;
        Ok(Next::Continue)
    }

    pub(super) fn call_function(
        &mut self,
        f: &Arc<Function>,
        positional: Vec<Value>,
        keywords: Vec<(String, Value)>,
        on_return: OnReturn,
    ) -> Result<(), Exception> {
        if self.callers.len() + 2 > RECURSION_LIMIT {
            return Err(Exception::new(
                ExcClass::RecursionError,
                "maximum recursion depth exceeded",
            ));
        }
        let mut locals = bind_args(f, positional, keywords)?;
        let code = &f.code;
        let mut cells: HashMap<String, Cell> = f.closure.iter().cloned().collect();
        for name in &code.cells {
            let value = locals.remove(name);
            cells.insert(name.clone(), Arc::new(std::sync::Mutex::new(value)));
        }
        let mut frame = Frame::new(code.program.clone(), code.qualname.clone(), code.line, f.globals.clone());
        frame.locals = locals;
        frame.cells = cells;
        frame.func = Some(f.clone());
        frame.silent = f.library.is_some();
        frame.library = f.library;
        // Library code a module's top level or a thread's start calls is part of them.
        frame.opaque = frame.silent && self.frame.opaque;
        frame.on_return = on_return;
        if code.is_generator {
            self.make_generator(frame);
            return Ok(());
        }
        let caller = std::mem::replace(&mut self.frame, frame);
        self.callers.push(caller);
        Ok(())
    }

    /// `sorted(xs, key=f)` and the like with a script function `f`: a frame
    /// named after the builtin runs a small program that calls `f` once per
    /// argument list (each call a frame of its own, so a deep or suspending `f`
    /// works as anywhere else), then finishes the builtin with the results.
    fn call_with_callbacks(&mut self, name: &str, plan: super::more::Plan) -> Result<(), Exception> {
        if self.callers.len() + 2 > RECURSION_LIMIT {
            return Err(Exception::new(
                ExcClass::RecursionError,
                "maximum recursion depth exceeded",
            ));
        }
        let (f, calls, finish) = plan;
        let code = vec![
            Op::BuildList(0),
            Op::Const(Value::list(calls)),
            Op::GetIter,
            Op::ForIter(10),
            Op::Const(f),
            Op::Rot2,
            Op::BuildDict(0),
            Op::CallEx,
            Op::CompAdd { depth: 1, pair: false },
            Op::Jump(3),
            Op::Finish(Arc::new(finish)),
            Op::Return,
        ];
        let line = self.current_line().unwrap_or(0);
        let program = Program { code, ..Program::default() };
        let frame = Frame::new(Arc::new(program), name.to_string(), line, self.frame.globals.clone());
        let caller = std::mem::replace(&mut self.frame, frame);
        self.callers.push(caller);
        Ok(())
    }

    fn load(&self, name: &str) -> Result<Value, Exception> {
        if let Some(v) = lock(&self.frame.globals).get(name) {
            return Ok(v.clone());
        }
        if name == "__name__" {
            // Every lane runs as the main program.
            return Ok(Value::str("__main__"));
        }
        match names::global(name) {
            Some(Global::Builtin(b)) => Ok(Value::Builtin(b)),
            Some(Global::Module(m)) => Ok(Value::Module(m)),
            Some(Global::Const(c)) => Ok(Value::Int(c)),
            Some(Global::LibFn(f)) => Ok(Value::LibFn(f)),
            None if ExcClass::from_name(name).is_some() => {
                Ok(ExcClass::from_name(name).map_or(Value::None, Value::ExcClass))
            }
            None if Special::from_name(name).is_some() => {
                Ok(Special::from_name(name).map_or(Value::None, Value::Special))
            }
            None => Err(Exception::new(
                ExcClass::NameError,
                format!("name '{name}' is not defined"),
            )),
        }
    }

    /// Calls a builtin, method or other non-class value and pushes its result.
    fn call_plain(
        &mut self,
        callee: Value,
        positional: Vec<Value>,
        keywords: Vec<(String, Value)>,
        shared: &mut Shared,
    ) -> Result<Next, Raise> {
        if super::threads::handles(&callee) {
            return self.call_threads(callee, positional, keywords, shared);
        }
        if super::traceback::handles(&callee) {
            return self.call_traceback(&callee, positional, keywords, shared);
        }
        let now = shared.now;
        let name = match &callee {
            Value::Builtin(b) => b.name().to_string(),
            Value::Method(m) => m.1.to_string(),
            _ => String::new(),
        };
        let args = Args::new(name, positional, keywords);
        let mut process = lock(&self.process);
        let mut ctx = Ctx {
            now,
            output: &mut self.output,
            lib: &mut process.lib,
        };
        let flow = methods::call_value(&callee, args, &mut ctx)?;
        let default_timeout = ctx.lib.default_timeout;
        match flow {
            Flow::Value(v) => self.frame.stack.push(v),
            // A new socket gets `socket.setdefaulttimeout`'s timeout with a call of its own.
            Flow::Call(call @ (Call::Socket { .. } | Call::Accept { .. }), Pending::Plain)
                if let Some(seconds) = default_timeout =>
            {
                let task = sockapi::Task::DefaultTimeout { seconds, made: None };
                return Ok(Next::Suspend(call, Pending::Task(Box::new(task))));
            }
            Flow::Call(call, pending) => return Ok(Next::Suspend(call, pending)),
            Flow::Refused(message) => return Err(Raise::Fatal(message)),
        }
        Ok(Next::Continue)
    }

    /// Replaces an op's outcome with the error of a limit it went past:
    /// nesting too deep for a walk, memory grown past the limit by this op,
    /// or more output than a lane may print (which nothing can catch).
    fn within_limits(&mut self, outcome: Result<Next, Raise>, shared: &mut Shared) -> Result<Next, Raise> {
        let too_deep = super::deep::take_too_deep();
        let room = shared.limits.output.saturating_sub(self.printed);
        if self.output.len() > room {
            let mut cut = room;
            while !self.output.is_char_boundary(cut) {
                cut -= 1;
            }
            self.output.truncate(cut);
            return Err(Raise::Fatal(format!(
                "output limit: this lane printed more than {} (socklab's limit for one lane's output)",
                super::Limits::show(shared.limits.output)
            )));
        }
        let next = outcome?;
        if let Some(during) = too_deep {
            return Err(Exception::new(ExcClass::RecursionError, format!("maximum recursion depth exceeded {during}")).into());
        }
        // What the run held after the op before is what this one started with.
        let (now, limit) = (shared.meter.bytes(), shared.limits.memory);
        let held = std::mem::replace(&mut shared.memory_seen, now);
        if now <= limit {
            if now.saturating_add(MEMORY_GRACE) <= limit {
                shared.memory_grace = 0;
            }
        } else if now > held && now > shared.memory_grace && (self.frame.current.is_some() || self.frame.silent) {
            shared.memory_grace = now.saturating_add(MEMORY_GRACE);
            return Err(Exception::memory_limit(limit).into());
        }
        Ok(next)
    }

    fn flush_output(&mut self, shared: &mut Shared) {
        if !self.output.contains('\n') {
            return;
        }
        let line = self.current_line().unwrap_or(0);
        let text = std::mem::take(&mut self.output);
        let mut parts: Vec<&str> = text.split('\n').collect();
        let rest = parts.pop().unwrap_or("").to_string();
        self.printed += text.len() - rest.len();
        for part in parts {
            shared.events.push(InterpEvent::Print {
                lane: self.name.clone(),
                line,
                text: part.to_string(),
            });
        }
        self.output = rest;
    }

    /// The running function's name for Step events; None at the top level.
    fn function_name(&self) -> Option<String> {
        (!self.callers.is_empty()).then(|| self.frame.function.clone())
    }

    /// The call depth for Step events; None at the top level. Stepping into
    /// library code, the frames shown are counted (as [`Self::frames`] lists them).
    fn depth(&self) -> Option<u32> {
        let depth = if self.into_library { self.visible_depth() } else { self.callers.len() + 1 };
        (!self.callers.is_empty()).then(|| u32::try_from(depth).unwrap_or(u32::MAX))
    }

    /// The library module of a Step event's statement; None for the lane's own code.
    fn step_module(&self) -> Option<String> {
        self.frame.library.filter(|_| self.frame.silent).map(|m| m.name().to_string())
    }

    fn stmt_info(&self, stmt: usize) -> (u32, String) {
        self.frame.program
            .stmts
            .get(stmt)
            .map_or((0, String::new()), |s| (s.line, s.source.clone()))
    }

    fn emit_step_ok(&self, shared: &mut Shared, cur: &Current) {
        let (line, mut call) = self.stmt_info(cur.stmt);
        if let Some(label) = &cur.label {
            call = label.clone();
        }
        shared.events.push(InterpEvent::Step {
            lane: self.name.clone(),
            line,
            call,
            ok: true,
            result: Some(cur.result.repr_brief(MAX_RESULT)),
            errno: None,
            errno_num: None,
            message: None,
            function: self.function_name(),
            depth: self.depth(),
            module: self.step_module(),
        });
    }

    /// Raises in the current statement: reports its failed Step, then unwinds
    /// to the innermost handler. Returns true when the lane ended.
    fn raise(&mut self, shared: &mut Shared, raised: Raise) -> bool {
        let mut raised = raised;
        let mut again = std::mem::take(&mut self.reraise);
        // Raised while an exception was being handled: that is its context
        // (a bare `raise` keeps the one it had).
        if let Raise::Exception(exc) = &mut raised
            && !again
            && let Some(h) = self.handled()
        {
            super::classes::set_context(exc, &h);
        }
        loop {
            if let Raise::Exception(exc) = &mut raised
                && !std::mem::take(&mut again)
            {
                self.traceback_here(exc);
            }
            match self.raise_in_frame(shared, raised) {
                Ok(ended) => return ended,
                // Not handled in this frame: the caller's statement raises it in turn.
                Err(exc) => {
                    let Some(caller) = self.callers.pop() else {
                        return self.unhandled(shared, exc);
                    };
                    let done = std::mem::replace(&mut self.frame, caller);
                    match self.left_by_exception(&done, exc) {
                        Some(exc) => raised = Raise::Exception(exc),
                        None => return false,
                    }
                }
            }
        }
    }

    /// Reports the frame's failed statement and jumps to its innermost handler.
    /// Ok(ended) when done; Err(exception) when the frame has no handler.
    fn raise_in_frame(&mut self, shared: &mut Shared, raised: Raise) -> Result<bool, Exception> {
        // A library statement's line is not the lane's: the caller's stands.
        let cur_line = match self.frame.silent {
            true => self.frame.current.as_ref().and(self.current_line()),
            false => self.frame.current.as_ref().map(|c| self.stmt_info(c.stmt).0),
        };
        if let Some(cur) = self.frame.current.take() {
            let (line, call) = self.stmt_info(cur.stmt);
            let (errno, errno_num, message) = match &raised {
                Raise::Exception(e) => match &e.errno {
                    Some((num, name)) => (
                        Some(name.clone()),
                        Some(*num),
                        Some(errno::explain(*num).to_string()),
                    ),
                    None if e.class == ExcClass::AssertionError => {
                        (None, None, Some(assert_message(e)))
                    }
                    None => (None, None, Some(e.describe())),
                },
                Raise::Fatal(message) => (None, None, Some(message.clone())),
            };
            shared.events.push(InterpEvent::Step {
                lane: self.name.clone(),
                line,
                call,
                ok: false,
                result: None,
                errno,
                errno_num,
                message,
                function: self.function_name(),
                depth: self.depth(),
                module: self.step_module(),
            });
        }
        let mut exc = match raised {
            Raise::Fatal(message) => {
                let line = cur_line.unwrap_or(0);
                self.end(
                    shared,
                    EndStatus::Error,
                    Some(line),
                    Some(format!("line {line}: {message}")),
                );
                return Ok(true);
            }
            Raise::Exception(e) => e,
        };
        if exc.line == 0 {
            exc.line = cur_line.unwrap_or(0);
        }
        self.clear_fills();
        if let Some(block) = self.frame.blocks.pop() {
            // The handler runs where the `try` was: clauses left by this exception end.
            self.frame.handling.truncate(block.handling);
            self.frame.stack.truncate(block.depth);
            self.frame.stack.push(exception_value(exc));
            self.frame.pc = block.handler;
            return Ok(false);
        }
        Err(exc)
    }

    /// Adds the innermost frame to the traceback of the exception unwinding
    /// through it (library frames are left out: see docs/language.md).
    fn traceback_here(&self, exc: &mut Exception) {
        let f = &self.frame;
        // An exception raised again and again in a loop keeps its first frames.
        if f.silent
            || (f.program.stmts.is_empty() && !f.function.ends_with("<lambda>"))
            || exc.traceback.len() >= 2 * RECURSION_LIMIT
        {
            return;
        }
        let line = f
            .current
            .as_ref()
            .and_then(|c| f.program.stmts.get(c.stmt))
            .map_or(f.def_line, |s| s.line);
        // CPython names the code, not its qualified name.
        let function = f.function.rsplit('.').next().unwrap_or(&f.function).to_string();
        // The op that raised (or made the call the exception came from) was the last begun.
        let span = f.pc.checked_sub(1).and_then(|pc| f.program.span_at(pc)).filter(|s| s.line == line);
        exc.traceback.push(super::exception::TbEntry { function, line, span });
    }

    /// The first line of a thread's traceback: `Exception in thread NAME:`
    /// with the name of the `Thread` whose bound method the lane's bottom
    /// frame calls, or, for `_thread.start_new_thread(f, …)`, CPython's
    /// `Unhandled exception in thread started by <function f>`.
    fn thread_header(&self) -> String {
        let bottom = self.callers.first().unwrap_or(&self.frame);
        match bottom.program.code.first() {
            Some(Op::Const(Value::BoundMethod(m))) => match &m.0 {
                Value::Instance(i) if i.get("_name").is_some() => {
                    let name = i.get("_name").map(|n| n.to_str()).unwrap_or_default();
                    format!("Exception in thread {name}:")
                }
                _ => format!("Unhandled exception in thread started by {}", Value::BoundMethod(m.clone()).repr()),
            },
            Some(Op::Const(f)) => format!("Unhandled exception in thread started by {}", f.repr()),
            _ => format!("Exception in thread {}:", self.name),
        }
    }

    /// An exception no frame handles ends the lane. Returns true.
    fn unhandled(&mut self, shared: &mut Shared, exc: Exception) -> bool {
        if exc.class != ExcClass::SystemExit {
            let mut text = self.traceback_text(&exc, shared);
            if !self.is_main {
                text = format!("{}\n{text}", self.thread_header());
            }
            self.end_traceback = Some(text);
        }
        let line = exc.line;
        if exc.class == ExcClass::SystemExit {
            // sys.exit(): status 0 (or None) finishes the lane; any other ends it
            // as an error, a text code printed first as CPython prints it to stderr.
            let code = super::library::exit_code(&exc);
            match code {
                Value::None | Value::Int(0) => self.end(shared, EndStatus::Finished, None, None),
                Value::Str(s) => {
                    self.output.push_str(&format!("{s}\n"));
                    self.end(shared, EndStatus::Error, Some(line), Some(format!("line {line}: SystemExit: {s}")));
                }
                other => self.end(
                    shared,
                    EndStatus::Error,
                    Some(line),
                    Some(format!("line {line}: SystemExit: {}", other.to_str())),
                ),
            }
            return true;
        }
        if exc.class == ExcClass::AssertionError {
            self.end(
                shared,
                EndStatus::Assert,
                Some(line),
                Some(assert_message(&exc)),
            );
        } else {
            self.end(
                shared,
                EndStatus::Error,
                Some(line),
                Some(format!("line {line}: {}", exc.describe())),
            );
        }
        true
    }

    fn end(
        &mut self,
        shared: &mut Shared,
        status: EndStatus,
        line: Option<u32>,
        message: Option<String>,
    ) {
        if !self.output.is_empty() {
            let text = std::mem::take(&mut self.output);
            let at = line.or_else(|| self.current_line()).unwrap_or(0);
            shared.events.push(InterpEvent::Print {
                lane: self.name.clone(),
                line: at,
                text,
            });
        }
        self.state = LaneState::Ended(status);
        shared.lanes_changed = true;
        if let Some(t) = shared.threads.get_mut(&self.ident) {
            t.done = true;
        }
        // Back to the top level, dropping the frames of unfinished calls.
        if !self.callers.is_empty() {
            self.frame = self.callers.swap_remove(0);
            self.callers.clear();
        }
        self.frame.current = None;
        self.frame.stack.clear();
        self.frame.blocks.clear();
        shared.events.push(InterpEvent::LaneEnd {
            lane: self.name.clone(),
            status,
            line,
            message,
            traceback: self.end_traceback.take(),
        });
    }
}

/// Records the first variable a socket is stored in, for transcripts.
fn note_socket(shared: &mut Shared, name: &str, v: &Value) {
    // A comprehension's hidden variable names nothing a learner wrote.
    if name.starts_with("<comp") {
        return;
    }
    if let Value::Socket(s) = v {
        shared
            .socket_names
            .entry(s.id())
            .or_insert_with(|| name.to_string());
    }
}

/// The items an unpacking assignment takes apart, with CPython's message for a non-iterable.
fn unpack_items(v: &Value) -> Result<Vec<Value>, Exception> {
    super::args::iterate(v).map_err(|_| {
        Exception::type_error(format!("cannot unpack non-iterable {} object", v.type_name()))
    })
}

fn unbound_local(name: &str) -> Exception {
    Exception::new(
        ExcClass::UnboundLocalError,
        format!("cannot access local variable '{name}' where it is not associated with a value"),
    )
}

/// Python's argument binding for a script function, with CPython's messages.
fn bind_args(
    f: &Function,
    positional: Vec<Value>,
    keywords: Vec<(String, Value)>,
) -> Result<HashMap<String, Value>, Exception> {
    let code: &FuncCode = &f.code;
    let q = &code.qualname;
    let n = code.params.len();
    let given = positional.len();
    let mut slots: Vec<Option<Value>> = vec![None; n];
    let mut extra = Vec::new();
    for (i, v) in positional.into_iter().enumerate() {
        match slots.get_mut(i) {
            Some(slot) => *slot = Some(v),
            None => extra.push(v),
        }
    }
    if !extra.is_empty() && code.vararg.is_none() {
        let lo = n - f.defaults.len().min(n);
        let takes = if lo == n {
            format!("{n} positional argument{}", plural(n))
        } else {
            format!("from {lo} to {n} positional arguments")
        };
        let was = if given == 1 { "was" } else { "were" };
        return Err(Exception::type_error(format!(
            "{q}() takes {takes} but {given} {was} given"
        )));
    }
    let mut kwonly: Vec<Option<Value>> = vec![None; code.kwonly.len()];
    let mut kwextra = Vec::new();
    for (k, v) in keywords {
        if let Some(i) = code.params.iter().position(|p| *p == k) {
            if slots[i].is_some() {
                return Err(Exception::type_error(format!(
                    "{q}() got multiple values for argument '{k}'"
                )));
            }
            slots[i] = Some(v);
        } else if let Some(i) = code.kwonly.iter().position(|p| *p == k) {
            kwonly[i] = Some(v);
        } else if code.kwarg.is_some() {
            kwextra.push((Value::str(&k), v));
        } else {
            return Err(Exception::type_error(format!(
                "{q}() got an unexpected keyword argument '{k}'"
            )));
        }
    }
    let first_default = n - f.defaults.len().min(n);
    for (i, slot) in slots.iter_mut().enumerate() {
        if slot.is_none() && i >= first_default {
            *slot = f.defaults.get(i - first_default).cloned();
        }
    }
    let missing: Vec<&String> = code
        .params
        .iter()
        .zip(&slots)
        .filter(|(_, s)| s.is_none())
        .map(|(p, _)| p)
        .collect();
    if !missing.is_empty() {
        return Err(missing_error(q, "positional", &missing));
    }
    for (i, slot) in kwonly.iter_mut().enumerate() {
        if slot.is_none() {
            *slot = f.kwdefaults.get(i).cloned().flatten();
        }
    }
    let missing: Vec<&String> = code
        .kwonly
        .iter()
        .zip(&kwonly)
        .filter(|(_, s)| s.is_none())
        .map(|(p, _)| p)
        .collect();
    if !missing.is_empty() {
        return Err(missing_error(q, "keyword-only", &missing));
    }
    let mut locals = HashMap::new();
    for (p, v) in code.params.iter().zip(slots) {
        locals.insert(p.clone(), v.unwrap_or(Value::None));
    }
    if let Some(name) = &code.vararg {
        locals.insert(name.clone(), Value::tuple(extra));
    }
    for (p, v) in code.kwonly.iter().zip(kwonly) {
        locals.insert(p.clone(), v.unwrap_or(Value::None));
    }
    if let Some(name) = &code.kwarg {
        locals.insert(name.clone(), dict::new(kwextra));
    }
    Ok(locals)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// "f() missing 2 required positional arguments: 'a' and 'b'".
fn missing_error(q: &str, kind: &str, names: &[&String]) -> Exception {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    let list = match quoted.as_slice() {
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
        [] => String::new(),
    };
    Exception::type_error(format!(
        "{q}() missing {} required {kind} argument{}: {list}",
        names.len(),
        plural(names.len())
    ))
}

/// An assert's message: its text, or "AssertionError" without one.
fn assert_message(e: &Exception) -> String {
    if e.message.is_empty() {
        "AssertionError".to_string()
    } else {
        e.message.clone()
    }
}
