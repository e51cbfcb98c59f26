//! Generators: a `def` with `yield` returns a generator object holding the
//! function's own suspended [`Frame`]. Resuming it (`next()`, a `for` loop,
//! `send()`) makes that frame the lane's innermost again, exactly like a call;
//! `yield` hands the frame back to the generator object and the value to the
//! frame below. So a socket call inside a generator body suspends the lane
//! like one anywhere else, and nothing runs twice.
//!
//! Native code that needs a generator's items (`list(gen)`, `sum(gen)`,
//! `", ".join(gen)`, `a, b = gen`) has them drained first by a small frame that
//! runs a `for` loop over the generator; the op then runs again with a list in
//! the generator's place (see [`LaneVm::drain_generator`]).

use std::sync::{Arc, Mutex};

use super::compile::{Op, Program};
use super::exception::{Exception, Raise};
use super::value::{IterState, Value, lock};
use super::vm::{Frame, LaneVm, Next, OnReturn};
use crate::names::{Builtin, ExcClass};

/// A generator object (or an iterator `iter()` made of a sequence).
#[derive(Debug)]
pub struct Generator {
    /// The function's qualified name, for `repr` and `__name__`.
    pub qualname: String,
    /// `generator`, or the iterator type `iter()` made (`list_iterator`, …).
    pub type_name: &'static str,
    state: Mutex<GenState>,
}

#[derive(Debug, Default)]
struct GenState {
    /// The suspended frame: None before a native iterator, while running and once finished.
    frame: Option<Box<Frame>>,
    /// `iter(sequence)`: the items, shared by every name that holds the iterator.
    native: Option<IterState>,
    started: bool,
    running: bool,
    finished: bool,
    /// What the generator's `return` returned, for `yield from`.
    returned: Option<Value>,
}

/// Why a generator is being resumed: what its next `yield` or its end means to the caller.
#[derive(Debug, Clone)]
pub(super) enum GenMode {
    /// A `for` loop's `ForIter`; with `Some(n)`, `enumerate` pairs the value with n.
    ForIter { count: Option<i64> },
    /// `next(gen[, default])`.
    Next { default: Option<Value> },
    /// `gen.send(value)`.
    Send,
    /// `gen.close()`: GeneratorExit was raised at the `yield`.
    Close,
    /// `yield from`: the next value is yielded in turn; at its end the
    /// delegating frame pops it and goes on at `done`.
    YieldFrom { done: usize },
}

impl Generator {
    /// A generator for a function's frame, not started.
    pub(super) fn new(frame: Frame, qualname: String) -> Arc<Generator> {
        Generator::framed(frame, qualname, "generator")
    }

    /// An iterator of type `type_name` that runs `frame` for its items.
    fn framed(frame: Frame, qualname: String, type_name: &'static str) -> Arc<Generator> {
        Arc::new(Generator {
            qualname,
            type_name,
            state: Mutex::new(GenState {
                frame: Some(Box::new(frame)),
                ..GenState::default()
            }),
        })
    }

    /// `iter(x)` of a sequence: an iterator shared by whoever holds it.
    pub(super) fn native(items: IterState, type_name: &'static str) -> Arc<Generator> {
        Arc::new(Generator {
            qualname: String::new(),
            type_name,
            state: Mutex::new(GenState {
                native: Some(items),
                started: true,
                ..GenState::default()
            }),
        })
    }

    pub fn repr(&self) -> String {
        if self.type_name == "generator" {
            format!("<generator object {}>", self.qualname)
        } else {
            format!("<{} object>", self.type_name)
        }
    }

    /// The items an `iter()` iterator has left (a generator's are drained by the VM first).
    pub(super) fn rest(&self) -> Result<Vec<Value>, Exception> {
        let mut st = lock(&self.state);
        let finished = st.finished;
        match st.native.as_mut() {
            Some(native) => Ok(std::iter::from_fn(|| native.next_value()).collect()),
            None if finished => Ok(Vec::new()),
            None => Err(Exception::type_error("a generator cannot be used here in socklab scripts")),
        }
    }

    /// The generator as a forked child has it: its own suspended frame, copied.
    /// `made` is the new object, already known to the copier (a frame may hold
    /// its own generator).
    pub(super) fn fork_fill(&self, made: &Generator, c: &mut super::fork::Copier) {
        let st = lock(&self.state);
        let state = GenState {
            frame: st.frame.as_ref().map(|f| Box::new(f.fork_copy(c))),
            native: st.native.as_ref().map(|n| c.iter_state(n)),
            started: st.started,
            running: st.running,
            finished: st.finished,
            returned: st.returned.as_ref().map(|v| c.value(v)),
        };
        drop(st);
        *lock(&made.state) = state;
    }

    /// An empty generator of the same name and type, for [`Generator::fork_fill`].
    pub(super) fn fork_shell(&self) -> Arc<Generator> {
        Arc::new(Generator {
            qualname: self.qualname.clone(),
            type_name: self.type_name,
            state: Mutex::new(GenState::default()),
        })
    }

    /// The value a finished generator's `return` gave (None otherwise).
    fn returned(&self) -> Value {
        lock(&self.state).returned.clone().unwrap_or(Value::None)
    }
}

/// `StopIteration`, carrying the generator's return value as its text.
fn stop_iteration(value: &Value) -> Exception {
    let text = if matches!(value, Value::None) { String::new() } else { value.to_str() };
    Exception::new(ExcClass::StopIteration, text)
}

/// Builtins that take a generator as it is, rather than its items.
fn takes_generator(b: Builtin) -> bool {
    matches!(
        b,
        Builtin::Next
            | Builtin::Iter
            | Builtin::Enumerate
            | Builtin::Type
            | Builtin::Print
            | Builtin::Repr
            | Builtin::Str
            | Builtin::Isinstance
            | Builtin::Len
            | Builtin::Bool
            | Builtin::Getattr
            | Builtin::Hasattr
            | Builtin::Format
    )
}

/// Builtins that take an iterable's items (an instance's come from its `__iter__`).
fn consumes_iterable(b: Builtin) -> bool {
    matches!(
        b,
        Builtin::List
            | Builtin::Tuple
            | Builtin::Set
            | Builtin::Frozenset
            | Builtin::Dict
            | Builtin::Sorted
            | Builtin::Sum
            | Builtin::Min
            | Builtin::Max
            | Builtin::Any
            | Builtin::All
            | Builtin::Zip
            | Builtin::Map
            | Builtin::Filter
            | Builtin::Enumerate
    )
}

/// An instance whose class defines `__iter__` (or `__getitem__`).
pub(super) fn iterable_instance(v: &Value) -> bool {
    matches!(v, Value::Instance(i) if i.class.method("__iter__").is_some() || i.class.method("__getitem__").is_some())
}

/// Whether `v` is an iterator whose items only running code can give.
pub(super) fn is_lazy(v: &Value) -> bool {
    match v {
        Value::Generator(g) => lock(&g.state).native.is_none(),
        Value::Iter(it) => matches!(**it, IterState::Gen { .. }),
        _ => false,
    }
}

impl LaneVm {
    /// Calls to a generator function: the frame is made, not entered.
    pub(super) fn make_generator(&mut self, frame: Frame) {
        let qualname = frame.function.clone();
        self.frame.stack.push(Value::Generator(Generator::new(frame, qualname)));
    }

    /// Starts or resumes `genr` for `mode`: its frame becomes the innermost.
    pub(super) fn resume_generator(
        &mut self,
        genr: &Arc<Generator>,
        sent: Value,
        mode: GenMode,
    ) -> Result<Next, Raise> {
        let mut st = lock(&genr.state);
        if st.running {
            return Err(Exception::value_error("generator already executing").into());
        }
        if let Some(native) = st.native.as_mut() {
            let next = native.next_value();
            drop(st);
            return match (next, mode) {
                (Some(v), _) => {
                    self.frame.stack.push(v);
                    Ok(Next::Continue)
                }
                (None, GenMode::YieldFrom { done }) => {
                    self.pop();
                    self.frame.pc = done;
                    Ok(Next::Continue)
                }
                (None, GenMode::Next { default: Some(d) }) => {
                    self.frame.stack.push(d);
                    Ok(Next::Continue)
                }
                (None, _) => Err(stop_iteration(&Value::None).into()),
            };
        }
        let Some(mut frame) = st.frame.take().filter(|_| !st.finished) else {
            st.finished = true;
            drop(st);
            return match mode {
                GenMode::Next { default: Some(d) } => {
                    self.frame.stack.push(d);
                    Ok(Next::Continue)
                }
                GenMode::Close => {
                    self.frame.stack.push(Value::None);
                    Ok(Next::Continue)
                }
                GenMode::YieldFrom { done } => {
                    self.pop();
                    self.frame.pc = done;
                    Ok(Next::Continue)
                }
                _ => Err(stop_iteration(&Value::None).into()),
            };
        };
        if matches!(mode, GenMode::Close) && !st.started {
            st.finished = true;
            drop(st);
            self.frame.stack.push(Value::None);
            return Ok(Next::Continue);
        }
        if st.started {
            frame.stack.push(sent);
        } else if !matches!(sent, Value::None) {
            st.frame = Some(frame);
            return Err(Exception::type_error("can't send non-None value to a just-started generator").into());
        }
        if self.callers.len() + 2 > super::vm::RECURSION_LIMIT {
            st.frame = Some(frame);
            return Err(Exception::new(ExcClass::RecursionError, "maximum recursion depth exceeded").into());
        }
        st.started = true;
        st.running = true;
        drop(st);
        let close = matches!(mode, GenMode::Close);
        frame.on_return = OnReturn::Generator { genr: genr.clone(), mode };
        let caller = std::mem::replace(&mut self.frame, *frame);
        self.callers.push(caller);
        if close {
            return Err(Exception::new(ExcClass::GeneratorExit, "").into());
        }
        Ok(Next::Continue)
    }

    /// `yield`: the generator's frame goes back into its object, the value to the caller.
    pub(super) fn yield_value(&mut self) -> Result<Next, Raise> {
        let v = self.pop();
        let OnReturn::Generator { .. } = &self.frame.on_return else {
            return Err(Exception::new(ExcClass::RuntimeError, "'yield' outside a generator").into());
        };
        let Some(caller) = self.callers.pop() else {
            return Err(Exception::new(ExcClass::RuntimeError, "'yield' outside a generator").into());
        };
        let mut frame = std::mem::replace(&mut self.frame, caller);
        let OnReturn::Generator { genr, mode } = std::mem::take(&mut frame.on_return) else {
            return Ok(Next::Continue);
        };
        {
            let mut st = lock(&genr.state);
            st.running = false;
            st.frame = Some(Box::new(frame));
        }
        match mode {
            GenMode::Close => Err(Exception::new(ExcClass::RuntimeError, "generator ignored GeneratorExit").into()),
            GenMode::ForIter { count: Some(n) } => {
                self.frame.stack.push(Value::tuple(vec![Value::Int(n), v]));
                Ok(Next::Continue)
            }
            _ => {
                self.frame.stack.push(v);
                Ok(Next::Continue)
            }
        }
    }

    /// The generator's frame returned `v`: it is finished.
    pub(super) fn generator_returned(&mut self, genr: &Generator, mode: GenMode, v: Value) -> Result<(), Exception> {
        {
            let mut st = lock(&genr.state);
            st.running = false;
            st.finished = true;
            st.returned = Some(v.clone());
        }
        match mode {
            // The `for` asks again and finds the generator exhausted.
            GenMode::ForIter { .. } => self.frame.pc = self.frame.pc.saturating_sub(1),
            GenMode::Next { default: Some(d) } => self.frame.stack.push(d),
            GenMode::Close => self.frame.stack.push(Value::None),
            GenMode::YieldFrom { done } => {
                self.pop();
                self.frame.pc = done;
            }
            GenMode::Next { default: None } | GenMode::Send => return Err(stop_iteration(&v)),
        }
        Ok(())
    }

    /// An exception left the frame `done` (now popped). A generator's frame is
    /// finished by it; `close()` answers None to its GeneratorExit. Returns the
    /// exception to go on raising in the caller, or None when it was absorbed.
    pub(super) fn left_by_exception(&mut self, done: &Frame, exc: Exception) -> Option<Exception> {
        // `__next__` ending a `for` or `next(x, default)`.
        match &done.on_return {
            OnReturn::ForNext { done: at } | OnReturn::SeqNext { done: at }
                if exc.class.is_subclass_of(ExcClass::StopIteration)
                    || matches!(done.on_return, OnReturn::SeqNext { .. }) && exc.class.is_subclass_of(ExcClass::IndexError) =>
            {
                self.pop();
                self.frame.pc = *at;
                return None;
            }
            OnReturn::NextDefault(d) if exc.class.is_subclass_of(ExcClass::StopIteration) => {
                self.frame.stack.push(d.clone());
                return None;
            }
            _ => {}
        }
        if let OnReturn::Getattr { hasattr, default, fallback } = &done.on_return
            && exc.class.is_subclass_of(ExcClass::AttributeError)
        {
            // `__getattribute__` raised it: the class's `__getattr__` is asked next.
            if let Some((obj @ Value::Instance(i), name)) = fallback
                && let Some(f) = i.class.method("__getattr__")
            {
                let on_return = OnReturn::Getattr { hasattr: *hasattr, default: default.clone(), fallback: None };
                return self.call_function(&f, vec![obj.clone(), Value::str(name)], Vec::new(), on_return).err();
            }
            match (hasattr, default) {
                (true, _) => self.frame.stack.push(Value::Bool(false)),
                (false, Some(d)) => self.frame.stack.push(d.clone()),
                (false, None) => return Some(exc),
            }
            return None;
        }
        let OnReturn::Generator { genr, mode } = &done.on_return else {
            return Some(exc);
        };
        {
            let mut st = lock(&genr.state);
            st.running = false;
            st.finished = true;
        }
        if matches!(mode, GenMode::Close) && exc.class == ExcClass::GeneratorExit {
            self.frame.stack.push(Value::None);
            return None;
        }
        if exc.class == ExcClass::StopIteration {
            let mut e = Exception::new(ExcClass::RuntimeError, "generator raised StopIteration");
            e.line = exc.line;
            return Some(e);
        }
        Some(exc)
    }

    /// `ForIter` with a generator (or `enumerate` of one) on top: resumes it,
    /// or pops it and jumps to `done` once it is finished.
    pub(super) fn for_iter_generator(&mut self, done: usize) -> Option<Result<Next, Raise>> {
        let (genr, count) = match self.frame.stack.last_mut() {
            Some(Value::Generator(g)) => (g.clone(), None),
            Some(Value::Iter(it)) => match it.as_mut() {
                IterState::Gen { genr, next } => {
                    let n = *next;
                    *next = next.saturating_add(1);
                    (genr.clone(), Some(n))
                }
                _ => return None,
            },
            _ => return None,
        };
        let finished = {
            let st = lock(&genr.state);
            st.finished || (st.frame.is_none() && st.native.is_none() && !st.running)
        };
        if finished {
            self.pop();
            self.frame.pc = done;
            return Some(Ok(Next::Continue));
        }
        match self.resume_generator(&genr, Value::None, GenMode::ForIter { count }) {
            Err(Raise::Exception(e)) if e.class == ExcClass::StopIteration => {
                self.pop();
                self.frame.pc = done;
                Some(Ok(Next::Continue))
            }
            other => Some(other),
        }
    }

    /// `next()`, `iter()`, and a generator's own methods; None for any other call.
    pub(super) fn call_generator(
        &mut self,
        callee: &Value,
        positional: &[Value],
        keywords: &[(String, Value)],
    ) -> Option<Result<Next, Raise>> {
        if !keywords.is_empty() {
            return None;
        }
        match (callee, positional) {
            (Value::Builtin(Builtin::Next), [Value::Generator(g), rest @ ..]) if rest.len() <= 1 => {
                let default = rest.first().cloned();
                Some(self.resume_generator(g, Value::None, GenMode::Next { default }))
            }
            (Value::Builtin(Builtin::Iter), [x @ Value::Instance(i)]) if let Some(m) = i.class.method("__iter__") => {
                Some(self.call_function(&m, vec![x.clone()], Vec::new(), OnReturn::Iter).map(|()| Next::Continue).map_err(Raise::from))
            }
            (Value::Builtin(Builtin::Next), [x @ Value::Instance(i), rest @ ..])
                if rest.len() <= 1 && let Some(m) = i.class.method("__next__") =>
            {
                let on_return = rest.first().map_or(OnReturn::Value, |d| OnReturn::NextDefault(d.clone()));
                Some(self.call_function(&m, vec![x.clone()], Vec::new(), on_return).map(|()| Next::Continue).map_err(Raise::from))
            }
            // CPython's old sequence protocol: `obj[0]`, `obj[1]`, … until IndexError.
            (Value::Builtin(Builtin::Iter), [x @ Value::Instance(i)]) if i.class.method("__getitem__").is_some() => {
                let code = vec![
                    Op::Const(x.clone()),
                    Op::GetIter,
                    Op::ForIter(6),
                    Op::Yield,
                    Op::Pop,
                    Op::Jump(2),
                    Op::Const(Value::None),
                    Op::Return,
                ];
                let program = Program { code, ..Program::default() };
                let line = self.current_line().unwrap_or(0);
                let frame = Frame::new(Arc::new(program), "iter".into(), line, self.frame.globals.clone());
                self.frame.stack.push(Value::Generator(Generator::framed(frame, "iter".into(), "iterator")));
                Some(Ok(Next::Continue))
            }
            (Value::Builtin(Builtin::Iter), [g @ Value::Generator(_)]) => {
                self.frame.stack.push(g.clone());
                Some(Ok(Next::Continue))
            }
            (Value::Method(m), args) => {
                let Value::Generator(g) = &m.0 else {
                    return None;
                };
                Some(match (m.1, args) {
                    ("send", [v]) => self.resume_generator(g, v.clone(), GenMode::Send),
                    ("__next__", []) => self.resume_generator(g, Value::None, GenMode::Next { default: None }),
                    ("close", []) => self.resume_generator(g, Value::None, GenMode::Close),
                    ("throw", [typ, rest @ ..]) if rest.len() <= 2 => self.throw_generator(g, typ, rest.first()),
                    ("throw", _) => Err(Exception::type_error(format!(
                        "throw expected at least 1 argument, got {}",
                        args.len()
                    ))
                    .into()),
                    (name, args) => Err(Exception::type_error(format!(
                        "{name}() takes {} argument{} ({} given)",
                        usize::from(name == "send"),
                        if name == "send" { "" } else { "s" },
                        args.len()
                    ))
                    .into()),
                })
            }
            _ => None,
        }
    }

    /// Before a native call or an unpacking: a generator among the values at
    /// `args` (the callee at `callee_at`, if any) is run to its end first, and
    /// the op runs again with the list of its items in its place.
    pub(super) fn drain_generator(&mut self, callee_at: Option<usize>, args: std::ops::Range<usize>) -> Result<bool, Raise> {
        // Generators go to any native callee; instances of classes with
        // `__iter__` only to those that take an iterable.
        let (mut lazy, mut instances) = (true, true);
        if let Some(at) = callee_at {
            (lazy, instances) = match self.frame.stack.get(at) {
                Some(Value::Builtin(b)) => (!takes_generator(*b), consumes_iterable(*b)),
                Some(Value::Method(m)) => {
                    let native = !matches!(m.0, Value::Generator(_) | Value::Instance(_));
                    (
                        native && !matches!(m.1, "append" | "insert" | "put" | "index" | "count" | "remove"),
                        native && matches!(m.1, "join" | "extend" | "update" | "union" | "difference" | "intersection" | "fromkeys"),
                    )
                }
                Some(Value::LibFn(_)) => (true, false),
                _ => (false, false),
            };
            if !lazy && !instances {
                return Ok(false);
            }
        }
        let drains = |v: &Value| (lazy && is_lazy(v)) || (instances && iterable_instance(v));
        let Some(at) = args.clone().find(|&i| self.frame.stack.get(i).is_some_and(drains)) else {
            return Ok(false);
        };
        let genr = self.frame.stack.get(at).cloned().unwrap_or(Value::None);
        let code = vec![
            Op::BuildList(0),
            Op::Const(genr),
            Op::GetIter,
            Op::ForIter(6),
            Op::CompAdd { depth: 1, pair: false },
            Op::Jump(3),
            Op::Return,
        ];
        self.frame.pc -= 1;
        if let Err(e) = self.run_program(code, "<genexpr>", OnReturn::Drained { at }) {
            self.frame.pc += 1;
            return Err(e.into());
        }
        Ok(true)
    }

    /// Calls a small program of ops as a frame named `name` (a loop native
    /// code cannot run: it calls script methods).
    pub(super) fn run_program(&mut self, code: Vec<Op>, name: &str, on_return: OnReturn) -> Result<(), Exception> {
        if self.callers.len() + 2 > super::vm::RECURSION_LIMIT {
            return Err(Exception::new(ExcClass::RecursionError, "maximum recursion depth exceeded"));
        }
        let program = Program { code, ..Program::default() };
        let line = self.current_line().unwrap_or(0);
        let mut frame = Frame::new(Arc::new(program), name.into(), line, self.frame.globals.clone());
        frame.on_return = on_return;
        let caller = std::mem::replace(&mut self.frame, frame);
        self.callers.push(caller);
        Ok(())
    }

    /// `x in obj` of an instance without `__contains__`, or of a generator:
    /// its items are looked through one at a time, identity then `==`, up
    /// to the first match (pushes the answer; negated for `not in`).
    pub(super) fn search_items(&mut self, x: Value, container: Value, negate: bool) -> Result<(), Exception> {
        let code = vec![
            Op::Const(container),
            Op::GetIter,
            Op::ForIter(11),
            Op::Dup,
            Op::Const(x.clone()),
            Op::Compare(crate::ast::CmpOp::Is),
            Op::JumpIfTrue(13),
            Op::Const(x),
            Op::Compare(crate::ast::CmpOp::Eq),
            Op::JumpIfTrue(13),
            Op::Jump(2),
            Op::Const(Value::Bool(false)),
            Op::Return,
            Op::Const(Value::Bool(true)),
            Op::Return,
        ];
        self.run_program(code, "<contains>", if negate { OnReturn::Not } else { OnReturn::Value })
    }

    /// `any(items)` (`all` when `all`) of a list or tuple holding an instance
    /// whose class defines `__bool__` or `__len__`: a loop of truth tests
    /// runs as a frame, each instance's method a call of its own. False,
    /// nothing done, for other items (the builtin answers).
    pub(super) fn any_all(&mut self, all: bool, items: &Value) -> Result<bool, Raise> {
        let asks = |v: &Value| matches!(v, Value::Instance(i) if i.class.method("__bool__").is_some() || i.class.method("__len__").is_some());
        let found = match items {
            Value::List(l) => lock(l).iter().any(asks),
            Value::Tuple(t) => t.iter().any(asks),
            _ => false,
        };
        if !found {
            return Ok(false);
        }
        let code = vec![
            Op::Const(items.clone()),
            Op::GetIter,
            Op::ForIter(7),
            if all { Op::JumpIfTrue(2) } else { Op::JumpIfFalse(2) },
            Op::Pop,
            Op::Const(Value::Bool(!all)),
            Op::Return,
            Op::Const(Value::Bool(all)),
            Op::Return,
        ];
        self.run_program(code, if all { "all" } else { "any" }, OnReturn::Value)?;
        Ok(true)
    }

    /// `gen.throw(exc)`: the exception is raised where the generator is
    /// suspended (at once in the caller when it has finished).
    fn throw_generator(&mut self, g: &Arc<Generator>, typ: &Value, value: Option<&Value>) -> Result<Next, Raise> {
        let value = value.filter(|v| !matches!(v, Value::None));
        let exc = match (typ, value) {
            (_, Some(v)) | (v, None) if super::classes::exception_of(v).is_some() => super::classes::exception_of(v),
            (Value::ExcClass(c), None) => Some(Exception::new(*c, "")),
            (Value::ExcClass(c), Some(v)) => Some(Exception::new(*c, v.to_str())),
            (other, _) => super::classes::raise_script(other),
        };
        let Some(exc) = exc else {
            return Err(Exception::type_error("exceptions must be classes or instances deriving from BaseException, not ".to_string() + typ.type_name()).into());
        };
        let done = {
            let st = lock(&g.state);
            st.native.is_some() || st.finished || (st.frame.is_none() && !st.running)
        };
        if done {
            return Err(exc.into());
        }
        self.resume_generator(g, Value::None, GenMode::Send)?;
        Err(exc.into())
    }

    /// `yield from`'s step (see `Op::SendIter`).
    pub(super) fn send_iter(&mut self, yield_at: usize, done: usize) -> Result<Next, Raise> {
        let sent = self.pop();
        match self.frame.stack.last() {
            Some(Value::Generator(g)) if lock(&g.state).native.is_none() => {
                let g = g.clone();
                let back = self.frame.pc;
                self.frame.pc = yield_at;
                let next = self.resume_generator(&g, sent, GenMode::YieldFrom { done });
                if next.is_err() && self.frame.pc == yield_at {
                    self.frame.pc = back;
                }
                next
            }
            Some(other) if !matches!(sent, Value::None) => {
                // Named after what `yield from` was given (below its iterator).
                let at = self.frame.stack.len().saturating_sub(2);
                let name = match (other, self.frame.stack.get(at)) {
                    (Value::Iter(_), Some(given)) => iterator_type(given),
                    _ => other.type_name(),
                };
                Err(Exception::new(ExcClass::AttributeError, format!("'{name}' object has no attribute 'send'")).into())
            }
            _ => Ok(Next::Continue),
        }
    }

    /// `yield from`'s value: pops the delegated-to object, pushes its return value.
    pub(super) fn yield_from_result(&mut self) {
        let v = match self.pop() {
            Value::Generator(g) => g.returned(),
            _ => Value::None,
        };
        self.frame.stack.push(v);
    }
}

/// `iter(x)`: a generator is its own iterator; a sequence gets a shared one.
pub(super) fn iter_of(v: &Value) -> Result<Value, Exception> {
    if let Value::Generator(_) = v {
        return Ok(v.clone());
    }
    let items = super::args::iterate(v)?;
    Ok(Value::Generator(Generator::native(IterState::Items { items, next: 0 }, iterator_type(v))))
}

/// The type of the iterator `iter(v)` gives.
fn iterator_type(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "list_iterator",
        Value::Tuple(_) => "tuple_iterator",
        Value::Str(_) => "str_ascii_iterator",
        Value::Bytes(_) | Value::ByteArray(_) => "bytes_iterator",
        Value::Range { .. } => "range_iterator",
        Value::BigRange(_) => "longrange_iterator",
        Value::Dict(_) => "dict_keyiterator",
        Value::Set(_) | Value::FrozenSet(_) => "set_iterator",
        _ => "iterator",
    }
}
