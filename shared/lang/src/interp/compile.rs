//! Compiles a lane's statements into a flat list of stack-machine [`Op`]s.
//!
//! Why a stack machine: a statement can make several socket calls
//! (`conn.send(conn.recv(10))`), and each call suspends the lane until the relay
//! answers. With the evaluation state held in a program counter and a value
//! stack, suspending is just returning, and resuming pushes the call's result
//! and carries on: nothing is evaluated twice, so no call repeats and no
//! `print` prints twice.
//!
//! Step boundaries are explicit: every executed statement starts with
//! [`Op::Stmt`] and finishes with [`Op::EndStmt`] (which reports its Step). Ops
//! between an `EndStmt` and the next `Stmt` are bookkeeping (jumps, exception
//! blocks) that run at the end of the previous step.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::ast::*;
use crate::names::ExcClass;

use super::scope::{self, NameKind, Scope};
use super::value::Value;

/// One stack-machine instruction.
#[derive(Debug, Clone)]
pub enum Op {
    /// Begins statement `n` of the lane's statement table.
    Stmt(usize),
    /// Ends the current statement successfully: emits its Step event.
    EndStmt,
    Const(Value),
    Load(String),
    Store(String),
    /// Pops index, object, value: `object[index] = value`.
    StoreIndex,
    /// Pops step, upper, lower (None where absent), object, value:
    /// `object[lower:upper:step] = value`.
    StoreSlice,
    /// Pops a sequence, pushes its n items so that the first is on top.
    Unpack(usize),
    /// `a, *b, c = seq`: pops an iterable, pushes `after` items, a list of the
    /// middle, then `before` items, so that the first is on top.
    UnpackEx { before: usize, after: usize },
    Pop,
    Dup,
    /// Duplicates the top two values.
    Dup2,
    /// Swaps the top two values.
    Rot2,
    /// Moves the top value down two places: [a, b, c] -> [c, a, b].
    Rot3,
    /// Records the top value (without popping) as the statement's result.
    SetResult,
    Unary(UnaryOp),
    Binary(BinOp),
    /// `a OP= b`: as `Binary`, but an instance on the left is asked for its
    /// in-place method (`__iadd__`) first.
    InPlace(BinOp),
    Compare(CmpOp),
    Jump(usize),
    JumpIfFalse(usize),
    JumpIfTrue(usize),
    JumpIfFalseOrPop(usize),
    JumpIfTrueOrPop(usize),
    BuildTuple(usize),
    BuildList(usize),
    Index,
    /// Pops the given parts, then the object.
    Slice {
        lower: bool,
        upper: bool,
        step: bool,
    },
    Attr(String),
    /// Pops keyword values, positional values, then the callee.
    Call {
        argc: usize,
        kwnames: Vec<String>,
    },
    GetIter,
    /// Pushes the iterator's next value, or pops the iterator and jumps when done.
    ForIter(usize),
    /// Exception handler at the target while this block is active.
    SetupExcept(usize),
    /// Like `SetupExcept`, for a `finally` (or `with`) cleanup path.
    SetupFinally(usize),
    PopBlock,
    /// With the exception on top: stays on the next op if it is one of the
    /// classes (all classes when empty), else jumps to `next`.
    ExcMatch {
        classes: Vec<ExcClass>,
        next: usize,
    },
    /// Pops the exception on top and raises it again.
    Reraise,
    /// An `except` clause's body ended: no exception is being handled (an
    /// outer clause's is not restored: see docs/language.md).
    EndExcept,
    /// Raises AssertionError, with the message on top if `has_message`.
    AssertFail {
        has_message: bool,
    },
    /// Enters a `with` block: keeps the context manager (a socket or an object
    /// with `__enter__`/`__exit__`) and pushes what `as` binds.
    EnterWith,
    /// Leaves a `with` block: pops the manager; a socket is closed if open (a
    /// relay call); an object's `__exit__` is called, with the exception below
    /// the manager when `exc`. Pushes the result (true suppresses the exception).
    ExitWith {
        exc: bool,
    },
    /// An f-string field: pops the spec (if any) and the value, pushes
    /// `format(conversion(value), spec)`.
    FormatValue {
        conversion: Option<char>,
        has_spec: bool,
    },
    /// Pops n strings, pushes their concatenation.
    BuildString(usize),
    /// A function's local variable (see [`super::scope`]).
    LoadLocal(String),
    /// A name a class body binds (or closes over), read in that body: its own
    /// binding if it has one yet, else the global (CPython's LOAD_NAME).
    LoadClassName(String),
    StoreLocal(String),
    /// A variable in a cell (captured by a closure, or from one).
    LoadCell(String),
    StoreCell(String),
    /// `del NAME` for a global, local and cell variable.
    Delete(String),
    DeleteLocal(String),
    DeleteCell(String),
    /// Pops index, object: `del object[index]`.
    DeleteIndex,
    /// Pops the keyword-only defaults (one per flag set), then the positional
    /// defaults, and pushes the function (closing over the frame's cells).
    MakeFunction {
        code: Arc<FuncCode>,
        defaults: usize,
        kwdefaults: Vec<bool>,
    },
    /// Pops the return value and leaves the function's frame.
    Return,
    /// Pops a value and suspends the generator's frame, handing the value to
    /// whoever resumed it; on resumption the sent value is on top.
    Yield,
    /// `yield from`'s end: pops the object delegated to, pushes its return value.
    YieldFromResult,
    /// `yield from`'s step: pops what was sent; a generator on top is resumed
    /// with it (its next value then goes on at `yield_at`, its end at `done`);
    /// any other iterator goes on to the `ForIter` that follows.
    SendIter { yield_at: usize, done: usize },
    /// Raises the exception (a class is instantiated; with `has_cause`, the
    /// cause is on top of it, as `raise E from cause`), or without one
    /// re-raises the exception being handled.
    Raise {
        has_exc: bool,
        has_cause: bool,
    },
    /// Pops `2n` values (key, value, …) and pushes a dict.
    BuildDict(usize),
    BuildSet(usize),
    /// Pops a value and appends it to the list below it (building `*args` calls).
    ListAppend,
    /// Pops an iterable and extends the list below it.
    ListExtend,
    /// Pops value, key and sets them in the dict below (building `**kwargs` calls).
    DictInsert,
    /// Pops a mapping and merges it into the dict below.
    DictMerge,
    /// Pops a dict of keywords, a list of positionals and the callee.
    CallEx,
    /// Pops the class body's function and the bases tuple; runs the body, whose
    /// names become the class's attributes, and pushes the class.
    MakeClass(String),
    /// Pops object, value: `object.name = value`.
    StoreAttr(String),
    /// Pops object: `del object.name`.
    DeleteAttr(String),
    /// Like `ExcMatch`, with `count` script classes popped from above the exception.
    ExcMatchScript {
        classes: Vec<ExcClass>,
        count: usize,
        next: usize,
    },
    /// Ends a builtin's script-function calls: pops the list of results and
    /// pushes the builtin's answer (see `LaneVm::call_with_callbacks`).
    Finish(Arc<super::more::Finish>),
    /// A comprehension's element: pops a value (or, with `pair`, a value and its
    /// key) and adds it to the list, set or dict `depth` places below the top.
    CompAdd {
        depth: usize,
        pair: bool,
    },
}

/// A compiled function: what `def` or `lambda` turns into a function value.
#[derive(Debug)]
pub struct FuncCode {
    pub name: String,
    /// `outer.<locals>.inner` for nested functions, as Python's `__qualname__`.
    pub qualname: String,
    pub line: u32,
    pub params: Vec<String>,
    pub vararg: Option<String>,
    pub kwonly: Vec<String>,
    pub kwarg: Option<String>,
    /// Locals that live in cells (captured by nested functions).
    pub cells: Vec<String>,
    /// Cells the function takes from where it is defined.
    pub frees: Vec<String>,
    /// A `def` with `yield`: calling it makes a generator of its frame.
    pub is_generator: bool,
    pub program: Arc<Program>,
}

/// A statement's identity for Step events.
#[derive(Debug, Clone)]
pub struct StmtInfo {
    pub line: u32,
    pub source: String,
}

/// A lane compiled: its code and statement table.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub code: Vec<Op>,
    pub stmts: Vec<StmtInfo>,
    /// The expressions a traceback can mark (calls, attributes, subscripts,
    /// operators), and for each op the one it belongs to (index + 1; 0: none).
    pub spans: Vec<Span>,
    pub op_spans: Vec<u32>,
}

/// Where an expression is in the script, as a traceback marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub line: u32,
    pub col: u32,
    pub end_line: u32,
    pub end_col: u32,
    /// A binary operator's left operand's end and right operand's start, or a
    /// subscript's value's end and index's end: CPython's `~~^^` anchors.
    pub anchors: Option<(u32, u32, bool)>,
}

impl Program {
    /// The span of the expression whose op at `pc` is running.
    pub fn span_at(&self, pc: usize) -> Option<Span> {
        let at = *self.op_spans.get(pc)? as usize;
        self.spans.get(at.checked_sub(1)?).copied()
    }
}

/// What encloses the code being compiled, for `break`/`continue` cleanup.
#[derive(Clone)]
enum Region {
    Loop {
        is_for: bool,
        continue_to: usize,
        breaks: Vec<usize>,
    },
    /// Inside a `try` body that has `except` clauses.
    Except,
    /// Inside an `except` clause's body: leaving it ends the handling.
    Handler,
    /// Inside a `try` body or handler that has a `finally`.
    Finally(Vec<Stmt>),
    /// Inside the exception path of a `finally`: the exception is on the stack.
    FinallyPending,
    /// Inside a `with` block: the socket is on the stack.
    With { line: u32, exit_source: String },
}

pub fn compile(body: &[Stmt]) -> Program {
    let mut c = Compiler {
        program: Program::default(),
        regions: Vec::new(),
        scope: None,
        enclosing: Vec::new(),
        qualname: String::new(),
        is_class: false,
        renames: Vec::new(),
        span_stack: Vec::new(),
    };
    c.block(body);
    c.program
}

struct Compiler {
    program: Program,
    regions: Vec<Region>,
    /// The function being compiled; None at the lane's top level (all names global).
    scope: Option<Scope>,
    /// Locals of the functions around this one, outermost first.
    enclosing: Vec<BTreeSet<String>>,
    /// Qualified-name prefix for functions defined here ("" at top level).
    qualname: String,
    /// Compiling a class body: its names are not visible to the methods.
    is_class: bool,
    /// Comprehension variables being compiled, innermost last: (name, hidden
    /// name). A comprehension's variables are its own, as in Python 3: they
    /// live under hidden names that no statement can spell, so nothing leaks.
    renames: Vec<(String, String)>,
    /// The spans of the expressions being compiled, innermost last (see `Program::spans`).
    span_stack: Vec<u32>,
}

impl Compiler {
    fn emit(&mut self, op: Op) -> usize {
        self.program.code.push(op);
        self.program.op_spans.push(self.span_stack.last().copied().unwrap_or(0));
        self.program.code.len() - 1
    }

    /// Emits an op that fails as a whole statement (`raise`) or expression
    /// (an `assert`'s test) fails, as a traceback marks it.
    fn emit_spanned(&mut self, span: Option<[u32; 4]>, op: Op) -> usize {
        let Some([line, col, end_line, end_col]) = span else { return self.emit(op) };
        self.program.spans.push(Span { line, col, end_line, end_col, anchors: None });
        self.span_stack.push(u32::try_from(self.program.spans.len()).unwrap_or(0));
        let at = self.emit(op);
        self.span_stack.pop();
        at
    }

    fn here(&self) -> usize {
        self.program.code.len()
    }

    /// Points the jump at `at` to `target`.
    fn patch(&mut self, at: usize, target: usize) {
        if let Some(op) = self.program.code.get_mut(at) {
            match op {
                Op::Jump(t)
                | Op::JumpIfFalse(t)
                | Op::JumpIfTrue(t)
                | Op::JumpIfFalseOrPop(t)
                | Op::JumpIfTrueOrPop(t)
                | Op::ForIter(t)
                | Op::SetupExcept(t)
                | Op::SetupFinally(t) => *t = target,
                Op::ExcMatch { next, .. } | Op::ExcMatchScript { next, .. } => *next = target,
                _ => {}
            }
        }
    }

    fn stmt_start(&mut self, line: u32, source: &str) {
        self.program.stmts.push(StmtInfo {
            line,
            source: source.to_string(),
        });
        let n = self.program.stmts.len() - 1;
        self.emit(Op::Stmt(n));
    }

    fn block(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Import | StmtKind::Global(_) | StmtKind::Nonlocal(_) => {}
            StmtKind::Def(def) => {
                self.stmt_start(s.line, &s.source);
                def.decorators.iter().for_each(|d| self.expr(d));
                self.function(def);
                self.decorate(def.decorators.len());
                self.store_name(&def.name);
                self.emit(Op::EndStmt);
            }
            StmtKind::Class(def) => {
                self.stmt_start(s.line, &s.source);
                def.decorators.iter().for_each(|d| self.expr(d));
                def.bases.iter().for_each(|b| self.expr(b));
                self.emit(Op::BuildTuple(def.bases.len()));
                self.class_body(def);
                self.emit(Op::MakeClass(def.name.clone()));
                self.decorate(def.decorators.len());
                self.store_name(&def.name);
                self.emit(Op::EndStmt);
            }
            StmtKind::Return(value) => {
                self.stmt_start(s.line, &s.source);
                match value {
                    Some(e) => self.expr(e),
                    None => {
                        self.emit(Op::Const(Value::None));
                    }
                }
                self.emit(Op::SetResult);
                self.emit(Op::EndStmt);
                self.return_out();
            }
            StmtKind::Raise { exc, cause } => {
                self.stmt_start(s.line, &s.source);
                if let Some(e) = exc {
                    self.expr(e);
                }
                if let Some(c) = cause {
                    self.expr(c);
                }
                self.emit_spanned(s.span, Op::Raise {
                    has_exc: exc.is_some(),
                    has_cause: exc.is_some() && cause.is_some(),
                });
                self.emit(Op::EndStmt);
            }
            StmtKind::Del(targets) => {
                self.stmt_start(s.line, &s.source);
                for t in targets {
                    match t {
                        Target::Name(n) => self.delete_name(n),
                        Target::Index { object, index } => {
                            self.expr(object);
                            self.expr(index);
                            self.emit(Op::DeleteIndex);
                        }
                        Target::Attr { object, name } => {
                            self.expr(object);
                            self.emit(Op::DeleteAttr(name.clone()));
                        }
                        Target::Unpack(items) => {
                            for item in items {
                                if let Target::Name(n) = item {
                                    self.delete_name(n);
                                }
                            }
                        }
                        Target::Starred(_) => {}
                        Target::Slice { object, lower, upper, step } => {
                            // `del xs[a:b]` is `del xs[slice(a, b, None)]`.
                            self.expr(object);
                            self.emit(Op::Const(Value::Builtin(crate::names::Builtin::Slice)));
                            for part in [lower, upper, step] {
                                match part {
                                    Some(e) => self.expr(e),
                                    None => {
                                        self.emit(Op::Const(Value::None));
                                    }
                                }
                            }
                            self.emit(Op::Call { argc: 3, kwnames: Vec::new() });
                            self.emit(Op::DeleteIndex);
                        }
                    }
                }
                self.emit(Op::EndStmt);
            }
            StmtKind::Pass => {
                self.stmt_start(s.line, &s.source);
                self.emit(Op::EndStmt);
            }
            StmtKind::Expr(e) => {
                self.stmt_start(s.line, &s.source);
                self.expr(e);
                self.emit(Op::SetResult);
                self.emit(Op::Pop);
                self.emit(Op::EndStmt);
            }
            StmtKind::Assign { targets, value } => {
                self.stmt_start(s.line, &s.source);
                self.expr(value);
                self.emit(Op::SetResult);
                for (i, t) in targets.iter().enumerate() {
                    if i + 1 < targets.len() {
                        self.emit(Op::Dup);
                    }
                    self.store(t);
                }
                self.emit(Op::EndStmt);
            }
            StmtKind::AugAssign { target, op, value } => {
                self.stmt_start(s.line, &s.source);
                match target {
                    Target::Index { object, index } => {
                        self.expr(object);
                        self.expr(index);
                        self.emit(Op::Dup2);
                        self.emit(Op::Index);
                        self.expr(value);
                        self.emit(Op::InPlace(*op));
                        self.emit(Op::SetResult);
                        self.emit(Op::Rot3);
                        self.emit(Op::StoreIndex);
                    }
                    Target::Attr { object, name } => {
                        self.expr(object);
                        self.emit(Op::Dup);
                        self.emit(Op::Attr(name.clone()));
                        self.expr(value);
                        self.emit(Op::InPlace(*op));
                        self.emit(Op::SetResult);
                        self.emit(Op::Rot2);
                        self.emit(Op::StoreAttr(name.clone()));
                    }
                    other => {
                        let name = match other {
                            Target::Name(n) => n.clone(),
                            _ => String::new(),
                        };
                        self.load_name(&name);
                        self.expr(value);
                        self.emit(Op::InPlace(*op));
                        self.emit(Op::SetResult);
                        self.store_name(&name);
                    }
                }
                self.emit(Op::EndStmt);
            }
            StmtKind::Assert { test, message } => {
                self.stmt_start(s.line, &s.source);
                self.expr(test);
                let ok = self.emit(Op::JumpIfTrue(0));
                if let Some(m) = message {
                    self.expr(m);
                }
                // CPython marks the test, not the statement.
                let test_span = ((test.end_line, test.end_col) > (test.line, test.col))
                    .then_some([test.line, test.col, test.end_line, test.end_col]);
                self.emit_spanned(test_span, Op::AssertFail {
                    has_message: message.is_some(),
                });
                let end = self.here();
                self.patch(ok, end);
                self.emit(Op::EndStmt);
            }
            StmtKind::If { branches, orelse } => {
                self.stmt_start(s.line, &s.source);
                let mut to_end = Vec::new();
                for (test, body) in branches {
                    self.expr(test);
                    self.emit(Op::SetResult);
                    let skip = self.emit(Op::JumpIfFalse(0));
                    self.emit(Op::EndStmt);
                    self.block(body);
                    to_end.push(self.emit(Op::Jump(0)));
                    let next = self.here();
                    self.patch(skip, next);
                }
                self.emit(Op::EndStmt);
                if let Some(body) = orelse {
                    self.block(body);
                }
                let end = self.here();
                for j in to_end {
                    self.patch(j, end);
                }
            }
            StmtKind::While { test, body, orelse } => {
                let top = self.here();
                self.stmt_start(s.line, &s.source);
                self.expr(test);
                self.emit(Op::SetResult);
                self.emit(Op::EndStmt);
                let exit = self.emit(Op::JumpIfFalse(0));
                self.loop_body(false, top, body);
                self.emit(Op::Jump(top));
                let done = self.here();
                self.patch(exit, done);
                self.finish_loop(orelse.as_deref());
            }
            StmtKind::For { target, iter, body, orelse } => {
                self.stmt_start(s.line, &s.source);
                self.expr(iter);
                self.emit(Op::GetIter);
                let first = self.emit(Op::Jump(0));
                let top = self.here();
                self.stmt_start(s.line, &s.source);
                let next = self.here();
                self.patch(first, next);
                let exhausted = self.emit(Op::ForIter(0));
                self.emit(Op::SetResult);
                self.store(target);
                self.emit(Op::EndStmt);
                self.loop_body(true, top, body);
                self.emit(Op::Jump(top));
                let done = self.here();
                self.patch(exhausted, done);
                self.emit(Op::EndStmt);
                self.finish_loop(orelse.as_deref());
            }
            StmtKind::Break | StmtKind::Continue => {
                self.stmt_start(s.line, &s.source);
                self.emit(Op::EndStmt);
                self.jump_out(matches!(s.kind, StmtKind::Break));
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => self.try_stmt(body, handlers, orelse, finally),
            StmtKind::With {
                value,
                name,
                body,
                exit_source,
            } => {
                self.stmt_start(s.line, &s.source);
                self.expr(value);
                self.emit(Op::EnterWith);
                self.emit(Op::SetResult);
                match name {
                    Some(n) => self.store_name(n),
                    None => {
                        self.emit(Op::Pop);
                    }
                }
                self.emit(Op::EndStmt);
                let setup = self.emit(Op::SetupFinally(0));
                self.regions.push(Region::With {
                    line: s.line,
                    exit_source: exit_source.clone(),
                });
                self.block(body);
                self.regions.pop();
                self.emit(Op::PopBlock);
                self.with_exit(s.line, exit_source);
                let skip = self.emit(Op::Jump(0));
                let on_error = self.here();
                self.patch(setup, on_error);
                // Stack: [manager, exception]; exit, then re-raise unless
                // `__exit__` returned true.
                self.stmt_start(s.line, exit_source);
                self.emit(Op::Rot2);
                self.emit(Op::ExitWith { exc: true });
                self.emit(Op::SetResult);
                let suppress = self.emit(Op::JumpIfTrue(0));
                self.emit(Op::EndStmt);
                self.emit(Op::Reraise);
                let at = self.here();
                self.patch(suppress, at);
                self.emit(Op::EndStmt);
                self.emit(Op::Pop);
                let end = self.here();
                self.patch(skip, end);
            }
        }
    }

    /// The step that closes a `with` socket (on top of the stack).
    fn with_exit(&mut self, line: u32, exit_source: &str) {
        self.stmt_start(line, exit_source);
        self.emit(Op::ExitWith { exc: false });
        self.emit(Op::SetResult);
        self.emit(Op::Pop);
        self.emit(Op::EndStmt);
    }

    fn loop_body(&mut self, is_for: bool, continue_to: usize, body: &[Stmt]) {
        self.regions.push(Region::Loop {
            is_for,
            continue_to,
            breaks: Vec::new(),
        });
        self.block(body);
    }

    /// Closes the loop: its `else` block (outside the loop, so a `break` in
    /// it is an outer loop's), then where its `break`s go.
    fn finish_loop(&mut self, orelse: Option<&[Stmt]>) {
        let breaks = match self.regions.pop() {
            Some(Region::Loop { breaks, .. }) => breaks,
            _ => Vec::new(),
        };
        if let Some(orelse) = orelse {
            self.block(orelse);
        }
        let end = self.here();
        for b in breaks {
            self.patch(b, end);
        }
    }

    /// `break`/`continue`: leave every enclosing block up to the loop, running
    /// `finally` bodies and `with` exits on the way, as Python does.
    fn jump_out(&mut self, is_break: bool) {
        let mut i = self.regions.len();
        while i > 0 {
            i -= 1;
            match self.regions[i].clone() {
                Region::Loop {
                    is_for,
                    continue_to,
                    ..
                } => {
                    if !is_break {
                        self.emit(Op::Jump(continue_to));
                        return;
                    }
                    if is_for {
                        self.emit(Op::Pop);
                    }
                    let j = self.emit(Op::Jump(0));
                    if let Some(Region::Loop { breaks, .. }) = self.regions.get_mut(i) {
                        breaks.push(j);
                    }
                    return;
                }
                block => self.leave_block(i, block, false),
            }
        }
    }

    /// Leaves block `i` (not a loop) on the way out of it: pops its handler and
    /// runs its `finally` body or `with` exit. With `under_top`, a value (the
    /// one `return` returns) stays on top of the stack throughout.
    fn leave_block(&mut self, i: usize, block: Region, under_top: bool) {
        match block {
            Region::Loop { .. } => {}
            Region::Except => {
                self.emit(Op::PopBlock);
            }
            Region::Handler => {
                self.emit(Op::EndExcept);
            }
            Region::Finally(body) => {
                self.emit(Op::PopBlock);
                // The finally body runs in the regions outside this one.
                let saved = self.regions.split_off(i);
                self.block(&body);
                self.regions.extend(saved);
            }
            Region::FinallyPending => {
                if under_top {
                    self.emit(Op::Rot2);
                }
                self.emit(Op::Pop);
            }
            Region::With { line, exit_source } => {
                self.emit(Op::PopBlock);
                if under_top {
                    self.emit(Op::Rot2);
                }
                self.with_exit(line, &exit_source);
            }
        }
    }

    fn try_stmt(
        &mut self,
        body: &[Stmt],
        handlers: &[Handler],
        orelse: &Option<Vec<Stmt>>,
        finally: &Option<Vec<Stmt>>,
    ) {
        let setup_finally = finally.as_ref().map(|f| {
            let at = self.emit(Op::SetupFinally(0));
            self.regions.push(Region::Finally(f.clone()));
            at
        });
        let mut after_handlers = Vec::new();
        if handlers.is_empty() {
            self.block(body);
        } else {
            let setup = self.emit(Op::SetupExcept(0));
            self.regions.push(Region::Except);
            self.block(body);
            self.regions.pop();
            self.emit(Op::PopBlock);
            if let Some(e) = orelse {
                self.block(e);
            }
            after_handlers.push(self.emit(Op::Jump(0)));
            let handler_start = self.here();
            self.patch(setup, handler_start);
            for h in handlers {
                h.script_classes.iter().for_each(|e| self.expr(e));
                let m = if h.script_classes.is_empty() {
                    self.emit(Op::ExcMatch {
                        classes: h.classes.clone(),
                        next: 0,
                    })
                } else {
                    self.emit(Op::ExcMatchScript {
                        classes: h.classes.clone(),
                        count: h.script_classes.len(),
                        next: 0,
                    })
                };
                match &h.name {
                    Some(n) => self.store_name(n),
                    None => {
                        self.emit(Op::Pop);
                    }
                };
                self.regions.push(Region::Handler);
                self.block(&h.body);
                self.regions.pop();
                self.emit(Op::EndExcept);
                after_handlers.push(self.emit(Op::Jump(0)));
                let next = self.here();
                self.patch(m, next);
            }
            self.emit(Op::Reraise);
        }
        let end_handlers = self.here();
        for j in after_handlers {
            self.patch(j, end_handlers);
        }
        if let (Some(setup), Some(f)) = (setup_finally, finally) {
            self.regions.pop();
            self.emit(Op::PopBlock);
            self.block(f);
            let skip = self.emit(Op::Jump(0));
            let on_error = self.here();
            self.patch(setup, on_error);
            self.regions.push(Region::FinallyPending);
            self.block(f);
            self.regions.pop();
            self.emit(Op::Reraise);
            let end = self.here();
            self.patch(skip, end);
        }
    }

    fn name_kind(&self, name: &str) -> NameKind {
        self.scope.as_ref().map_or(NameKind::Global, |s| s.kind(name))
    }

    /// The hidden name of a comprehension variable, and whether it is a
    /// function's local (else a lane global).
    fn renamed(&self, name: &str) -> Option<Op> {
        let (_, hidden) = self.renames.iter().rev().find(|(n, _)| n == name)?;
        Some(Op::Load(hidden.clone()))
    }

    fn load_name(&mut self, name: &str) {
        if self.is_class && self.renamed(name).is_none() && self.name_kind(name) != NameKind::Global {
            self.emit(Op::LoadClassName(name.to_string()));
            return;
        }
        self.name_op(name, true, [Op::Load, Op::LoadLocal, Op::LoadCell]);
    }

    fn store_name(&mut self, name: &str) {
        self.name_op(name, true, [Op::Store, Op::StoreLocal, Op::StoreCell]);
    }

    fn delete_name(&mut self, name: &str) {
        self.name_op(name, false, [Op::Delete, Op::DeleteLocal, Op::DeleteCell]);
    }

    /// Emits the global, local or cell form of a name op. With `renamable`,
    /// a comprehension variable uses the local (in a function) or global
    /// form on its hidden name.
    fn name_op(
        &mut self,
        name: &str,
        renamable: bool,
        [global, local, cell]: [fn(String) -> Op; 3],
    ) {
        if renamable && let Some(Op::Load(hidden)) = self.renamed(name) {
            self.emit(if self.scope.is_some() { local(hidden) } else { global(hidden) });
            return;
        }
        let n = name.to_string();
        self.emit(match self.name_kind(name) {
            NameKind::Global => global(n),
            NameKind::Local => local(n),
            NameKind::Cell => cell(n),
        });
    }

    /// Evaluates the defaults here, compiles the body as its own program, and
    /// pushes the function.
    fn function(&mut self, def: &FuncDef) {
        let mut defaults = 0;
        for p in &def.params {
            if let Some(d) = &p.default {
                self.expr(d);
                defaults += 1;
            }
        }
        let mut kwdefaults = Vec::new();
        for p in &def.kwonly {
            if let Some(d) = &p.default {
                self.expr(d);
            }
            kwdefaults.push(p.default.is_some());
        }
        let enclosing = self.enclosing_for_nested();
        let scope = scope::analyze(def, &enclosing);
        let qualname = format!("{}{}", self.qualname, def.name);
        let mut inner = Compiler::nested(&scope, enclosing, format!("{qualname}.<locals>."), false);
        match (def.is_lambda, def.body.first().map(|s| &s.kind)) {
            // A lambda is part of its caller's statement: no step of its own.
            (true, Some(StmtKind::Return(Some(e)))) => {
                inner.expr(e);
                inner.emit(Op::Return);
            }
            _ => {
                inner.block(&def.body);
                inner.emit(Op::Const(Value::None));
                inner.emit(Op::Return);
            }
        }
        let code = FuncCode {
            name: def.name.clone(),
            qualname,
            line: def.line,
            params: def.params.iter().map(|p| p.name.clone()).collect(),
            vararg: def.vararg.clone(),
            kwonly: def.kwonly.iter().map(|p| p.name.clone()).collect(),
            kwarg: def.kwarg.clone(),
            cells: scope.cells.iter().cloned().collect(),
            frees: scope.frees.iter().cloned().collect(),
            is_generator: has_yield(&def.body),
            program: Arc::new(inner.program),
        };
        self.emit(Op::MakeFunction {
            code: Arc::new(code),
            defaults,
            kwdefaults,
        });
    }

    /// Calls the decorators below the function on top, innermost first.
    fn decorate(&mut self, count: usize) {
        for _ in 0..count {
            self.emit(Op::Call {
                argc: 1,
                kwnames: Vec::new(),
            });
        }
    }

    /// The scopes a function or class defined here sees, innermost last.
    fn enclosing_for_nested(&self) -> Vec<BTreeSet<String>> {
        let mut enclosing = self.enclosing.clone();
        if let Some(s) = &self.scope {
            // Cells and frees count too: a nested function may reach through.
            // A class body's own names are not visible to its methods.
            let mut visible = if self.is_class { Default::default() } else { s.locals.clone() };
            visible.extend(s.frees.iter().cloned());
            enclosing.push(visible);
        }
        enclosing
    }

    /// A compiler for the body of a function or class defined here.
    fn nested(scope: &scope::Scope, enclosing: Vec<BTreeSet<String>>, qualname: String, is_class: bool) -> Compiler {
        Compiler {
            program: Program::default(),
            regions: Vec::new(),
            scope: Some(scope.clone()),
            enclosing,
            qualname,
            is_class,
            renames: Vec::new(),
            span_stack: Vec::new(),
        }
    }

    /// Compiles a class body as a function whose locals become the class's
    /// attributes, and pushes that function.
    fn class_body(&mut self, def: &ClassDef) {
        let enclosing = self.enclosing_for_nested();
        let body = scope::class_as_function(def);
        let scope = scope::analyze(&body, &enclosing);
        let qualname = format!("{}{}", self.qualname, def.name);
        let mut inner = Compiler::nested(&scope, enclosing, format!("{qualname}."), true);
        inner.block(&def.body);
        inner.emit(Op::Const(Value::None));
        inner.emit(Op::Return);
        let code = FuncCode {
            name: def.name.clone(),
            qualname,
            line: def.line,
            params: Vec::new(),
            vararg: None,
            kwonly: Vec::new(),
            kwarg: None,
            cells: scope.cells.iter().cloned().collect(),
            frees: scope.frees.iter().cloned().collect(),
            is_generator: false,
            program: Arc::new(inner.program),
        };
        self.emit(Op::MakeFunction {
            code: Arc::new(code),
            defaults: 0,
            kwdefaults: Vec::new(),
        });
    }

    /// `return`, with the value on top: leave every enclosing block, running
    /// `finally` bodies and `with` exits as Python does, then return.
    fn return_out(&mut self) {
        let mut i = self.regions.len();
        while i > 0 {
            i -= 1;
            match self.regions[i].clone() {
                Region::Loop { is_for, .. } => {
                    if is_for {
                        self.emit(Op::Rot2);
                        self.emit(Op::Pop);
                    }
                }
                block => self.leave_block(i, block, true),
            }
        }
        self.emit(Op::Return);
    }

    /// A call with `*args` or `**kwargs` at the call site: builds the list and dict, then `CallEx`.
    fn call_ex(&mut self, func: &Expr, args: &[Expr], kwargs: &[(String, Expr)]) {
        self.expr(func);
        self.star_list(args);
        self.emit(Op::BuildDict(0));
        for (k, v) in kwargs {
            if let ExprKind::DoubleStar(x) = &v.kind {
                self.expr(x);
                self.emit(Op::DictMerge);
            } else {
                self.emit(Op::Const(Value::str(k)));
                self.expr(v);
                self.emit(Op::DictInsert);
            }
        }
        self.emit(Op::CallEx);
    }

    /// A list of the items, each `*x` extending it with x's items.
    fn star_list(&mut self, items: &[Expr]) {
        self.emit(Op::BuildList(0));
        for a in items {
            if let ExprKind::Star(x) = &a.kind {
                self.expr(x);
                self.emit(Op::ListExtend);
            } else {
                self.expr(a);
                self.emit(Op::ListAppend);
            }
        }
    }

    fn store(&mut self, t: &Target) {
        match t {
            Target::Name(n) => {
                self.store_name(n);
            }
            Target::Unpack(items) => {
                match items.iter().position(|t| matches!(t, Target::Starred(_))) {
                    Some(before) => self.emit(Op::UnpackEx {
                        before,
                        after: items.len() - before - 1,
                    }),
                    None => self.emit(Op::Unpack(items.len())),
                };
                for item in items {
                    self.store(item);
                }
            }
            Target::Starred(t) => self.store(t),
            Target::Slice { object, lower, upper, step } => {
                self.expr(object);
                for part in [lower, upper, step] {
                    match part {
                        Some(e) => self.expr(e),
                        None => {
                            self.emit(Op::Const(Value::None));
                        }
                    }
                }
                self.emit(Op::StoreSlice);
            }
            Target::Index { object, index } => {
                self.expr(object);
                self.expr(index);
                self.emit(Op::StoreIndex);
            }
            Target::Attr { object, name } => {
                self.expr(object);
                self.emit(Op::StoreAttr(name.clone()));
            }
        }
    }

    /// `[elt for t in it if c ...]` and friends, inline: the container, then one
    /// loop per `for` clause with its iterator on the stack, adding each element.
    fn comprehension(&mut self, kind: CompKind, elt: &Expr, value: Option<&Expr>, generators: &[CompFor]) {
        match kind {
            CompKind::List | CompKind::Gen => self.emit(Op::BuildList(0)),
            CompKind::Set => self.emit(Op::BuildSet(0)),
            CompKind::Dict => self.emit(Op::BuildDict(0)),
        };
        let saved = self.renames.len();
        let mut loops = Vec::new();
        for (i, g) in generators.iter().enumerate() {
            // The first iterable is evaluated outside the comprehension's scope.
            self.expr(&g.iter);
            if i == 0 {
                let depth = self.renames.len();
                let mut names = Vec::new();
                target_names(&g.target, &mut names);
                for g in generators {
                    target_names(&g.target, &mut names);
                }
                for n in names {
                    let hidden = format!("<comp{depth}>{n}");
                    self.renames.push((n, hidden));
                }
            }
            self.emit(Op::GetIter);
            let top = self.here();
            let exhausted = self.emit(Op::ForIter(0));
            self.store(&g.target);
            for c in &g.conds {
                self.expr(c);
                self.emit(Op::JumpIfFalse(top));
            }
            loops.push((top, exhausted));
        }
        self.expr(elt);
        if let Some(v) = value {
            self.expr(v);
        }
        self.emit(Op::CompAdd {
            depth: generators.len(),
            pair: value.is_some(),
        });
        for (top, exhausted) in loops.into_iter().rev() {
            self.emit(Op::Jump(top));
            let done = self.here();
            self.patch(exhausted, done);
        }
        self.renames.truncate(saved);
    }

    /// Compiles an expression; its ops know its span where a traceback marks it.
    fn expr(&mut self, e: &Expr) {
        let anchors = match &e.kind {
            ExprKind::Binary(_, a, b) => Some((a.end_col, b.col, true)),
            ExprKind::Index(x, i) => Some((x.end_col, i.end_col, false)),
            ExprKind::Call { .. } | ExprKind::Attr(..) | ExprKind::Slice { .. } | ExprKind::Compare(..) | ExprKind::Unary(..) => None,
            _ => return self.expr_ops(e),
        };
        if (e.end_line, e.end_col) <= (e.line, e.col) {
            return self.expr_ops(e);
        }
        let span = Span { line: e.line, col: e.col, end_line: e.end_line, end_col: e.end_col, anchors };
        self.program.spans.push(span);
        self.span_stack.push(u32::try_from(self.program.spans.len()).unwrap_or(0));
        self.expr_ops(e);
        self.span_stack.pop();
    }

    fn expr_ops(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Comp {
                kind,
                elt,
                value,
                generators,
            } => self.comprehension(*kind, elt, value.as_deref(), generators),
            ExprKind::None => {
                self.emit(Op::Const(Value::None));
            }
            ExprKind::Module(m) => {
                self.emit(Op::Const(Value::Module(*m)));
            }
            ExprKind::Bool(b) => {
                self.emit(Op::Const(Value::Bool(*b)));
            }
            ExprKind::BigInt(digits, radix) => {
                // The lexer passed only valid digits; the 4300-digit limit is
                // for int(str), not for literals.
                let n = num_bigint::BigInt::parse_bytes(digits.as_bytes(), *radix).unwrap_or_default();
                self.emit(Op::Const(super::bigint::norm(n)));
            }
            ExprKind::Int(i) => {
                self.emit(Op::Const(Value::Int(*i)));
            }
            ExprKind::Float(f) => {
                self.emit(Op::Const(Value::Float(*f)));
            }
            ExprKind::Str(s) => {
                self.emit(Op::Const(Value::str(s)));
            }
            ExprKind::Bytes(b) => {
                self.emit(Op::Const(Value::bytes(b)));
            }
            ExprKind::Name(n) => {
                self.load_name(n);
            }
            ExprKind::Tuple(items) | ExprKind::List(items)
                if items.iter().any(|i| matches!(i.kind, ExprKind::Star(_))) =>
            {
                // `(a, *b)`: a list built item by item, made a tuple by `tuple()`.
                let tuple = matches!(e.kind, ExprKind::Tuple(_));
                if tuple {
                    self.emit(Op::Const(Value::Builtin(crate::names::Builtin::Tuple)));
                }
                self.star_list(items);
                if tuple {
                    self.emit(Op::Call {
                        argc: 1,
                        kwnames: Vec::new(),
                    });
                }
            }
            ExprKind::Tuple(items) => {
                items.iter().for_each(|i| self.expr(i));
                self.emit(Op::BuildTuple(items.len()));
            }
            ExprKind::List(items) => {
                items.iter().for_each(|i| self.expr(i));
                self.emit(Op::BuildList(items.len()));
            }
            ExprKind::Unary(op, x) => {
                self.expr(x);
                self.emit(Op::Unary(*op));
            }
            ExprKind::Binary(op, a, b) => {
                self.expr(a);
                self.expr(b);
                self.emit(Op::Binary(*op));
            }
            ExprKind::Compare(first, rest) => {
                self.expr(first);
                let mut cleanups = Vec::new();
                for (i, (op, operand)) in rest.iter().enumerate() {
                    self.expr(operand);
                    if i + 1 < rest.len() {
                        self.emit(Op::Dup);
                        self.emit(Op::Rot3);
                        self.emit(Op::Compare(*op));
                        cleanups.push(self.emit(Op::JumpIfFalseOrPop(0)));
                    } else {
                        self.emit(Op::Compare(*op));
                    }
                }
                if !cleanups.is_empty() {
                    let skip = self.emit(Op::Jump(0));
                    let cleanup = self.here();
                    for c in cleanups {
                        self.patch(c, cleanup);
                    }
                    self.emit(Op::Rot2);
                    self.emit(Op::Pop);
                    let end = self.here();
                    self.patch(skip, end);
                }
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                self.expr(a);
                let j = if matches!(e.kind, ExprKind::And(..)) {
                    self.emit(Op::JumpIfFalseOrPop(0))
                } else {
                    self.emit(Op::JumpIfTrueOrPop(0))
                };
                self.expr(b);
                let end = self.here();
                self.patch(j, end);
            }
            ExprKind::Named(name, value) => {
                self.expr(value);
                self.emit(Op::Dup);
                self.store_name(name);
            }
            ExprKind::IfElse { test, body, orelse } => {
                self.expr(test);
                let to_else = self.emit(Op::JumpIfFalse(0));
                self.expr(body);
                let to_end = self.emit(Op::Jump(0));
                let else_at = self.here();
                self.patch(to_else, else_at);
                self.expr(orelse);
                let end = self.here();
                self.patch(to_end, end);
            }
            ExprKind::Attr(x, name) => {
                self.expr(x);
                self.emit(Op::Attr(name.clone()));
            }
            ExprKind::Call { func, args, kwargs }
                if args.iter().any(|a| matches!(a.kind, ExprKind::Star(_)))
                    || kwargs.iter().any(|(k, _)| k.is_empty()) =>
            {
                self.call_ex(func, args, kwargs);
            }
            ExprKind::Call { func, args, kwargs } => {
                self.expr(func);
                args.iter().for_each(|a| self.expr(a));
                kwargs.iter().for_each(|(_, v)| self.expr(v));
                self.emit(Op::Call {
                    argc: args.len(),
                    kwnames: kwargs.iter().map(|(k, _)| k.clone()).collect(),
                });
            }
            ExprKind::Index(x, i) => {
                self.expr(x);
                self.expr(i);
                self.emit(Op::Index);
            }
            ExprKind::Slice {
                object,
                lower,
                upper,
                step,
            } => self.slice(object, [lower, upper, step]),
            ExprKind::FString(parts) => self.fstring(parts),
            ExprKind::Lambda(def) => self.function(def),
            ExprKind::Set(items) => {
                items.iter().for_each(|i| self.expr(i));
                self.emit(Op::BuildSet(items.len()));
            }
            ExprKind::Dict(items) => {
                for (k, v) in items {
                    self.expr(k);
                    self.expr(v);
                }
                self.emit(Op::BuildDict(items.len()));
            }
            // The parser puts these only in call arguments and displays, which
            // `call_ex` and `star_list` handle.
            ExprKind::Star(x) | ExprKind::DoubleStar(x) => self.expr(x),
            ExprKind::Yield(value) => {
                match value {
                    Some(v) => self.expr(v),
                    None => {
                        self.emit(Op::Const(Value::None));
                    }
                }
                self.emit(Op::Yield);
            }
            ExprKind::YieldFrom(x) => {
                // The object, then a loop that sends each value sent to this
                // generator on to it (a generator) or takes its next item (any
                // other iterator) and yields what comes back.
                self.expr(x);
                self.emit(Op::Dup);
                self.emit(Op::GetIter);
                self.emit(Op::Const(Value::None));
                let top = self.here();
                let send = self.emit(Op::SendIter { yield_at: 0, done: 0 });
                let exhausted = self.emit(Op::ForIter(0));
                let yield_at = self.emit(Op::Yield);
                self.emit(Op::Jump(top));
                let end = self.here();
                self.patch(exhausted, end);
                if let Some(Op::SendIter { yield_at: y, done }) = self.program.code.get_mut(send) {
                    *y = yield_at;
                    *done = end;
                }
                self.emit(Op::YieldFromResult);
            }
        }
    }

    /// Each part's text in turn, then one concatenation.
    fn fstring(&mut self, parts: &[FPart]) {
        for part in parts {
            match part {
                FPart::Lit(s) => {
                    self.emit(Op::Const(Value::str(s)));
                }
                FPart::Field {
                    value,
                    conversion,
                    spec,
                } => {
                    self.expr(value);
                    if let Some(spec) = spec {
                        self.fstring(spec);
                    }
                    self.emit(Op::FormatValue {
                        conversion: *conversion,
                        has_spec: spec.is_some(),
                    });
                }
            }
        }
        self.emit(Op::BuildString(parts.len()));
    }

    /// `object[lower:upper:step]`: the object, then the parts given.
    fn slice(&mut self, object: &Expr, parts: [&Option<Box<Expr>>; 3]) {
        self.expr(object);
        for part in parts.into_iter().flatten() {
            self.expr(part);
        }
        let [lower, upper, step] = parts.map(Option::is_some);
        self.emit(Op::Slice { lower, upper, step });
    }
}

/// Whether a function body yields (not counting the functions and classes it defines).
fn has_yield(body: &[Stmt]) -> bool {
    struct Finder(bool);
    impl crate::visit::Visitor for Finder {
        fn expr(&mut self, e: &Expr) {
            if matches!(e.kind, ExprKind::Yield(_) | ExprKind::YieldFrom(_)) {
                self.0 = true;
            }
            crate::visit::walk_expr(self, e);
        }
        fn function(&mut self, _: &FuncDef) {}
        fn class(&mut self, _: &ClassDef) {}
    }
    let mut finder = Finder(false);
    crate::visit::walk_stmts(&mut finder, body);
    finder.0
}

/// The names a target binds, in order.
fn target_names(t: &Target, out: &mut Vec<String>) {
    match t {
        Target::Name(n) => out.push(n.clone()),
        Target::Unpack(items) => items.iter().for_each(|i| target_names(i, out)),
        Target::Starred(t) => target_names(t, out),
        Target::Index { .. } | Target::Attr { .. } | Target::Slice { .. } => {}
    }
}
