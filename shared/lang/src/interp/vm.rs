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
use super::sockets::{self, Flow, Pending};
use super::value::{IterState, Value};
use super::{CallResult, EndStatus, InterpEvent, LaneState, Yield};
use socklab_wire::errno;
use crate::names::{self, ExcClass, Global};
use socklab_wire::protocol::{Call, OsError, Outcome, SockId};

/// State every lane shares: the event queue and the names of sockets.
#[derive(Debug, Default)]
pub struct Shared {
    pub events: Vec<InterpEvent>,
    /// The first variable each socket was stored in, for transcripts.
    pub socket_names: HashMap<SockId, String>,
    /// Wall-clock seconds passed to the latest step/resume, for `time()`.
    pub now: f64,
}

/// An active `try`/`finally`/`with` block.
#[derive(Debug, Clone)]
struct Block {
    handler: usize,
    /// Stack height to restore before jumping to the handler.
    depth: usize,
}

/// The statement being executed.
#[derive(Debug)]
struct Current {
    stmt: usize,
    /// What its Step reports as `result`.
    result: Value,
}

#[derive(Debug)]
pub struct LaneVm {
    pub name: String,
    program: Arc<Program>,
    /// The next op to execute. Between steps it is at an `Op::Stmt` or the end.
    pc: usize,
    stack: Vec<Value>,
    blocks: Vec<Block>,
    vars: HashMap<String, Value>,
    pub state: LaneState,
    current: Option<Current>,
    /// The outstanding relay call while Waiting.
    pending: Option<(Call, Pending)>,
    /// Printed text not yet ended by a newline.
    output: String,
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
enum Next {
    Continue,
    Suspend(Call, Pending),
}

impl LaneVm {
    pub fn new(name: String, program: Program) -> LaneVm {
        let mut vm = LaneVm {
            name,
            program: Arc::new(program),
            pc: 0,
            stack: Vec::new(),
            blocks: Vec::new(),
            vars: HashMap::new(),
            state: LaneState::Ready,
            current: None,
            pending: None,
            output: String::new(),
        };
        // Leading bookkeeping (a `try:` setup) runs now, so the lane rests on a statement.
        vm.run(&mut Shared::default(), Mode::Setup);
        vm
    }

    /// Line of the statement the lane will run next, or is in.
    pub fn current_line(&self) -> Option<u32> {
        if matches!(self.state, LaneState::Ended(_)) {
            return None;
        }
        let stmt = match (&self.current, self.program.code.get(self.pc)) {
            (Some(c), _) => c.stmt,
            (None, Some(Op::Stmt(n))) => *n,
            _ => return None,
        };
        self.program.stmts.get(stmt).map(|s| s.line)
    }

    pub fn step(&mut self, shared: &mut Shared) -> Yield {
        if self.state != LaneState::Ready {
            return Yield::Stepped;
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
                self.stack.push(v);
                return self.run(shared, Mode::Resume);
            }
        };
        if self.raise(shared, raised) {
            return Yield::Stepped;
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
        let message = self
            .pending
            .as_ref()
            .map(|(call, _)| format!("blocked in {}()", call.op_name()));
        self.pending = None;
        self.end(shared, EndStatus::Blocked, line, message);
    }

    /// Executes ops until the statement begun (or resumed) here is done and the
    /// lane rests at the next statement, or a call is needed, or the lane ends.
    fn run(&mut self, shared: &mut Shared, mode: Mode) -> Yield {
        // Whether this run has a statement in progress (so the next `Stmt` op ends the step).
        let mut begun = mode == Mode::Resume;
        loop {
            let Some(op) = self.program.code.get(self.pc).cloned() else {
                if mode != Mode::Setup {
                    if let Some(cur) = self.current.take() {
                        self.emit_step_ok(shared, &cur);
                    }
                    self.end(shared, EndStatus::Finished, None, None);
                }
                return Yield::Stepped;
            };
            if let Op::Stmt(n) = op {
                if begun || mode == Mode::Setup {
                    return Yield::Stepped;
                }
                begun = true;
                self.current = Some(Current {
                    stmt: n,
                    result: Value::None,
                });
                self.pc += 1;
                continue;
            }
            self.pc += 1;
            let outcome = self.exec(op, shared);
            self.flush_output(shared);
            match outcome {
                Ok(Next::Continue) => {}
                Ok(Next::Suspend(call, pending)) => {
                    self.pending = Some((call.clone(), pending));
                    self.state = LaneState::Waiting;
                    return Yield::Call(call);
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

    fn pop(&mut self) -> Value {
        self.stack.pop().unwrap_or(Value::None)
    }

    fn exec(&mut self, op: Op, shared: &mut Shared) -> Result<Next, Raise> {
        match op {
            Op::Stmt(_) => {}
            Op::EndStmt => {
                if let Some(cur) = self.current.take() {
                    self.emit_step_ok(shared, &cur);
                }
            }
            Op::Const(v) => self.stack.push(v),
            Op::Load(name) => {
                let v = self.load(&name)?;
                self.stack.push(v);
            }
            Op::Store(name) => {
                let v = self.pop();
                if let Value::Socket(s) = &v {
                    shared
                        .socket_names
                        .entry(s.id())
                        .or_insert_with(|| name.clone());
                }
                self.vars.insert(name, v);
            }
            Op::StoreIndex => {
                let index = self.pop();
                let object = self.pop();
                let value = self.pop();
                ops::store_index(&object, &index, value)?;
            }
            Op::Unpack(n) => {
                let v = self.pop();
                let items = match &v {
                    Value::Tuple(_)
                    | Value::List(_)
                    | Value::Str(_)
                    | Value::Bytes(_)
                    | Value::Range { .. } => super::args::iterate(&v)?,
                    other => {
                        return Err(Exception::type_error(format!(
                            "cannot unpack non-iterable {} object",
                            other.type_name()
                        ))
                        .into());
                    }
                };
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
                self.stack.extend(items.into_iter().rev());
            }
            Op::Pop => {
                self.pop();
            }
            Op::Dup => {
                let v = self.stack.last().cloned().unwrap_or(Value::None);
                self.stack.push(v);
            }
            Op::Dup2 => {
                let n = self.stack.len();
                if n >= 2 {
                    let (a, b) = (self.stack[n - 2].clone(), self.stack[n - 1].clone());
                    self.stack.push(a);
                    self.stack.push(b);
                }
            }
            Op::Rot2 => {
                let n = self.stack.len();
                if n >= 2 {
                    self.stack.swap(n - 1, n - 2);
                }
            }
            Op::Rot3 => {
                let n = self.stack.len();
                if n >= 3 {
                    let top = self.stack.remove(n - 1);
                    self.stack.insert(n - 3, top);
                }
            }
            Op::SetResult => {
                if let (Some(cur), Some(top)) = (self.current.as_mut(), self.stack.last()) {
                    cur.result = top.clone();
                }
            }
            Op::Unary(op) => {
                let v = self.pop();
                self.stack.push(ops::unary(op, &v)?);
            }
            Op::Binary(op) => {
                let b = self.pop();
                let a = self.pop();
                self.stack.push(ops::binary(op, &a, &b)?);
            }
            Op::Compare(op) => {
                let b = self.pop();
                let a = self.pop();
                self.stack.push(ops::compare(op, &a, &b)?);
            }
            Op::Jump(t) => self.pc = t,
            Op::JumpIfFalse(t) => {
                if !self.pop().truthy() {
                    self.pc = t;
                }
            }
            Op::JumpIfTrue(t) => {
                if self.pop().truthy() {
                    self.pc = t;
                }
            }
            Op::JumpIfFalseOrPop(t) => {
                if self.stack.last().is_some_and(|v| !v.truthy()) {
                    self.pc = t;
                } else {
                    self.pop();
                }
            }
            Op::JumpIfTrueOrPop(t) => {
                if self.stack.last().is_some_and(Value::truthy) {
                    self.pc = t;
                } else {
                    self.pop();
                }
            }
            Op::BuildTuple(n) => {
                let items = self.stack.split_off(self.stack.len().saturating_sub(n));
                self.stack.push(Value::tuple(items));
            }
            Op::FormatValue {
                conversion,
                has_spec,
            } => {
                let spec = if has_spec {
                    self.pop().to_str()
                } else {
                    String::new()
                };
                let mut v = self.pop();
                if let Some(c) = conversion {
                    v = format::convert(&v, c)?;
                }
                self.stack
                    .push(Value::str(format::format_value(&v, &spec)?));
            }
            Op::BuildString(n) => {
                let parts = self.stack.split_off(self.stack.len().saturating_sub(n));
                let mut text = String::new();
                for part in &parts {
                    text.push_str(&part.to_str());
                    if text.len() > MAX_SIZE {
                        return Err(Exception::memory().into());
                    }
                }
                self.stack.push(Value::str(text));
            }
            Op::BuildList(n) => {
                let items = self.stack.split_off(self.stack.len().saturating_sub(n));
                self.stack.push(Value::list(items));
            }
            Op::Index => {
                let i = self.pop();
                let x = self.pop();
                self.stack.push(ops::index(&x, &i)?);
            }
            Op::Slice { lower, upper, step } => {
                let step = if step { Some(self.pop()) } else { None };
                let upper = if upper { Some(self.pop()) } else { None };
                let lower = if lower { Some(self.pop()) } else { None };
                let x = self.pop();
                self.stack.push(ops::slice(
                    &x,
                    lower.as_ref(),
                    upper.as_ref(),
                    step.as_ref(),
                )?);
            }
            Op::Attr(name) => {
                let x = self.pop();
                self.stack.push(methods::get_attr(&x, &name)?);
            }
            Op::Call { argc, kwnames } => {
                let kwvalues = self
                    .stack
                    .split_off(self.stack.len().saturating_sub(kwnames.len()));
                let positional = self.stack.split_off(self.stack.len().saturating_sub(argc));
                let callee = self.pop();
                let name = match &callee {
                    Value::Builtin(b) => b.name().to_string(),
                    Value::Method(m) => m.1.to_string(),
                    _ => String::new(),
                };
                let args = Args::new(
                    name,
                    positional,
                    kwnames.into_iter().zip(kwvalues).collect(),
                );
                let mut ctx = Ctx {
                    now: shared.now,
                    output: &mut self.output,
                };
                match methods::call_value(&callee, args, &mut ctx)? {
                    Flow::Value(v) => self.stack.push(v),
                    Flow::Call(call, pending) => return Ok(Next::Suspend(call, pending)),
                    Flow::Refused(message) => return Err(Raise::Fatal(message)),
                }
            }
            Op::GetIter => {
                let v = self.pop();
                let state = match v {
                    Value::Range { start, stop, step } => IterState::Range {
                        next: start,
                        stop,
                        step,
                    },
                    other => IterState::Items {
                        items: super::args::iterate(&other)?,
                        next: 0,
                    },
                };
                self.stack.push(Value::Iter(Box::new(state)));
            }
            Op::ForIter(done) => {
                let next = match self.stack.last_mut() {
                    Some(Value::Iter(state)) => state.next_value(),
                    _ => None,
                };
                match next {
                    Some(v) => self.stack.push(v),
                    None => {
                        self.pop();
                        self.pc = done;
                    }
                }
            }
            Op::SetupExcept(handler) | Op::SetupFinally(handler) => {
                self.blocks.push(Block {
                    handler,
                    depth: self.stack.len(),
                });
            }
            Op::PopBlock => {
                self.blocks.pop();
            }
            Op::ExcMatch { classes, next } => {
                let matched = match self.stack.last() {
                    Some(Value::Exception(e)) => {
                        classes.is_empty() || classes.iter().any(|c| e.class.is_subclass_of(*c))
                    }
                    _ => false,
                };
                if !matched {
                    self.pc = next;
                }
            }
            Op::Reraise => {
                if let Value::Exception(e) = self.pop() {
                    return Err(Raise::Exception((*e).clone()));
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
                if let Some(v) = self.stack.last().filter(|v| v.as_socket().is_none()) {
                    return Err(Exception::type_error(format!(
                        "'{}' object does not support the context manager protocol (only sockets do)",
                        v.type_name()
                    ))
                    .into());
                }
            }
            Op::ExitWith => {
                let v = self.pop();
                match v.as_socket() {
                    Some(s) if !s.is_closed() => {
                        return Ok(Next::Suspend(
                            Call::Close { sock: s.id() },
                            Pending::Close(s.clone()),
                        ));
                    }
                    _ => self.stack.push(Value::None),
                }
            }
        }
        Ok(Next::Continue)
    }

    fn load(&self, name: &str) -> Result<Value, Exception> {
        if let Some(v) = self.vars.get(name) {
            return Ok(v.clone());
        }
        match names::global(name) {
            Some(Global::Builtin(b)) => Ok(Value::Builtin(b)),
            Some(Global::Module(m)) => Ok(Value::Module(m)),
            Some(Global::Const(c)) => Ok(Value::Int(c)),
            None => Err(Exception::new(
                ExcClass::NameError,
                format!("name '{name}' is not defined"),
            )),
        }
    }

    /// Turns completed lines of printed text into `print` events.
    fn flush_output(&mut self, shared: &mut Shared) {
        if !self.output.contains('\n') {
            return;
        }
        let line = self.current_line().unwrap_or(0);
        let text = std::mem::take(&mut self.output);
        let mut parts: Vec<&str> = text.split('\n').collect();
        let rest = parts.pop().unwrap_or("").to_string();
        for part in parts {
            shared.events.push(InterpEvent::Print {
                lane: self.name.clone(),
                line,
                text: part.to_string(),
            });
        }
        self.output = rest;
    }

    fn stmt_info(&self, stmt: usize) -> (u32, String) {
        self.program
            .stmts
            .get(stmt)
            .map_or((0, String::new()), |s| (s.line, s.source.clone()))
    }

    fn emit_step_ok(&self, shared: &mut Shared, cur: &Current) {
        let (line, call) = self.stmt_info(cur.stmt);
        shared.events.push(InterpEvent::Step {
            lane: self.name.clone(),
            line,
            call,
            ok: true,
            result: Some(cur.result.repr()),
            errno: None,
            errno_num: None,
            message: None,
        });
    }

    /// Raises in the current statement: reports its failed Step, then unwinds
    /// to the innermost handler. Returns true when the lane ended.
    fn raise(&mut self, shared: &mut Shared, raised: Raise) -> bool {
        let cur_line = self.current.as_ref().map(|c| self.stmt_info(c.stmt).0);
        if let Some(cur) = self.current.take() {
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
                return true;
            }
            Raise::Exception(e) => e,
        };
        if exc.line == 0 {
            exc.line = cur_line.unwrap_or(0);
        }
        if let Some(block) = self.blocks.pop() {
            self.stack.truncate(block.depth);
            self.stack.push(Value::Exception(Arc::new(exc)));
            self.pc = block.handler;
            return false;
        }
        let line = exc.line;
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
        self.current = None;
        self.stack.clear();
        self.blocks.clear();
        shared.events.push(InterpEvent::LaneEnd {
            lane: self.name.clone(),
            status,
            line,
            message,
        });
    }
}

/// An assert's message: its text, or "AssertionError" without one.
fn assert_message(e: &Exception) -> String {
    if e.message.is_empty() {
        "AssertionError".to_string()
    } else {
        e.message.clone()
    }
}
