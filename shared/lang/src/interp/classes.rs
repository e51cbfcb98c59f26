//! The VM's side of classes: calling classes, methods and dunder methods,
//! attribute access on instances, and `with` on objects. Every script method
//! runs as a frame (`call_function`), never as a Rust call, so native code that
//! needs `__str__` (such as `print`) gets it by running the method first and
//! then running its op again (see [`LaneVm::fill`]).

use std::collections::HashMap;
use std::sync::Arc;

use super::class::{Class, Instance, Special, Wrapped};
use super::exception::{Exception, Raise};
use super::methods;
use super::value::{Function, Value, lock};
use super::vm::{LaneVm, Next, OnReturn};
use crate::ast::{BinOp, CmpOp, UnaryOp};
use crate::names::{Builtin, ExcClass};

type Flow = Result<Next, Raise>;

/// Whether calling `callee` is class machinery's business (else the builtins').
pub(super) fn class_call(callee: &Value, positional: &[Value]) -> bool {
    match callee {
        Value::Function(_)
        | Value::BoundMethod(_)
        | Value::Class(_)
        | Value::Instance(_)
        | Value::Special(_) => true,
        Value::Method(m) => matches!(m.0, Value::Instance(_) | Value::Wrapped(_) | Value::Special(Special::Object)),
        Value::Builtin(Builtin::Len) => matches!(positional, [Value::Instance(_)]),
        Value::Builtin(Builtin::Getattr | Builtin::Hasattr | Builtin::Setattr | Builtin::Delattr) => {
            matches!(positional, [Value::Instance(_) | Value::Class(_), Value::Str(_), ..])
        }
        _ => false,
    }
}

/// The exception a caught value stands for (a builtin exception, or an
/// instance of a script exception class).
pub(super) fn exception_of(v: &Value) -> Option<Exception> {
    match v {
        Value::Exception(e) => Some((**e).clone()),
        Value::Instance(i) => i.to_exception(),
        _ => None,
    }
}

/// What an `except … as e` clause binds.
pub(super) fn exception_value(e: Exception) -> Value {
    match &e.instance {
        Some(i) => {
            if !e.traceback.is_empty() {
                lock(&i.0.attrs).insert("__traceback__".into(), super::traceback::traceback_value(&e));
            }
            Value::Instance(i.0.clone())
        }
        None => Value::Exception(Arc::new(e)),
    }
}

/// `raise exc [from cause]` while `handling` is being handled: sets
/// `__cause__`, `__suppress_context__` and `__context__` as Python does (on
/// the instance, for a script exception class).
pub(super) fn chain(
    mut exc: Exception,
    cause: Option<Value>,
    handling: Option<&Exception>,
) -> Result<Exception, Exception> {
    let cause = match cause {
        None => None,
        Some(Value::None) => Some(None),
        Some(v) => match v {
            Value::ExcClass(c) => Some(Some(Exception::new(c, ""))),
            other => match exception_of(&other).or_else(|| raise_script(&other)) {
                Some(e) => Some(Some(e)),
                None => return Err(Exception::type_error("exception causes must derive from BaseException")),
            },
        },
    };
    // An exception is not its own context (a bare re-raise keeps its chain).
    let context = handling.filter(|h| !h.same(&exc)).cloned();
    if let Some(i) = &exc.instance {
        let mut attrs = lock(&i.0.attrs);
        if let Some(c) = &cause {
            attrs.insert("__cause__".into(), c.clone().map_or(Value::None, exception_value));
            attrs.insert("__suppress_context__".into(), Value::Bool(true));
        }
        if let Some(ctx) = &context {
            attrs.insert("__context__".into(), exception_value(ctx.clone()));
        }
    }
    if let Some(c) = cause {
        exc.cause = c.map(Box::new);
        exc.suppress_context = true;
    }
    if context.is_some() {
        exc.context = context.map(Box::new);
    }
    Ok(exc)
}

/// An exception raised while `handled` is being handled: `handled` becomes
/// its `__context__` (unless it is `handled` raised again).
pub(super) fn set_context(exc: &mut Exception, handled: &Exception) {
    if handled.same(exc) {
        return;
    }
    match &exc.instance {
        Some(i) => {
            // As CPython: a chain that leads back to `exc` is cut there, so no cycle forms.
            let mut link = handled.instance.as_ref().map(|h| h.0.clone());
            for _ in 0..100 {
                let Some(at) = link.take() else { break };
                let next = lock(&at.attrs).get("__context__").cloned();
                match next {
                    Some(Value::Instance(n)) if Arc::ptr_eq(&n, &i.0) => {
                        lock(&at.attrs).insert("__context__".into(), Value::None);
                        break;
                    }
                    Some(Value::Instance(n)) => link = Some(n),
                    _ => break,
                }
            }
            let context = exception_value(handled.clone());
            lock(&i.0.attrs).insert("__context__".into(), context);
        }
        None => exc.context = Some(Box::new(handled.clone())),
    }
}

/// `raise X(...)` / `raise X` for a script exception class.
pub(super) fn raise_script(v: &Value) -> Option<Exception> {
    match v {
        Value::Instance(i) => i.to_exception(),
        Value::Class(c) if c.exc_base.is_some() => {
            let i = Instance::new(c.clone());
            lock(&i.attrs).insert("args".into(), Value::tuple(Vec::new()));
            i.to_exception()
        }
        _ => None,
    }
}

/// Whether the exception `top` (as `e`) is caught by the class value `class`.
pub(super) fn exc_matches(top: &Value, e: &Exception, class: &Value) -> bool {
    match class {
        Value::ExcClass(c) => e.class.is_subclass_of(*c),
        Value::Class(k) => matches!(top, Value::Instance(i) if i.class.is_subclass_of(k)),
        Value::Tuple(items) => items.iter().any(|c| exc_matches(top, e, c)),
        _ => false,
    }
}

/// `issubclass(a, cls)` for a script class `a`.
fn class_matches(a: &Arc<Class>, cls: &Value) -> bool {
    match cls {
        Value::Class(k) => a.is_subclass_of(k),
        Value::ExcClass(c) => a.exc_base.is_some_and(|b| b.is_subclass_of(*c)),
        Value::Special(Special::Object) => true,
        Value::Tuple(items) => items.iter().any(|c| class_matches(a, c)),
        _ => false,
    }
}

fn exc_class_matches(a: ExcClass, cls: &Value) -> bool {
    match cls {
        Value::ExcClass(c) => a.is_subclass_of(*c),
        Value::Special(Special::Object) => true,
        Value::Tuple(items) => items.iter().any(|c| exc_class_matches(a, c)),
        _ => false,
    }
}

/// `type(v)`: the class of an instance; the builtin type for the builtin values that have one.
fn type_of(v: &Value) -> Result<Value, Exception> {
    Ok(match v {
        Value::Instance(i) => Value::Class(i.class.clone()),
        Value::Exception(e) => Value::ExcClass(e.class),
        Value::Special(Special::NotImplemented) => Value::Type("NotImplementedType"),
        Value::Class(_) | Value::ExcClass(_) | Value::Special(_) => Value::Special(Special::Type),
        other => {
            let b = match other {
                Value::Bool(_) => Builtin::Bool,
                Value::Int(_) | Value::BigInt(_) => Builtin::Int,
                Value::Float(_) => Builtin::Float,
                Value::Str(_) => Builtin::Str,
                Value::Bytes(_) => Builtin::Bytes,
                Value::List(_) => Builtin::List,
                Value::Tuple(_) => Builtin::Tuple,
                Value::Dict(_) => Builtin::Dict,
                Value::Set(_) => Builtin::Set,
                Value::FrozenSet(_) => Builtin::Frozenset,
                Value::Range { .. } | Value::BigRange(_) => Builtin::Range,
                _ => {
                    return Err(Exception::type_error(format!(
                        "type() of a {} value is not supported yet",
                        other.type_name()
                    )));
                }
            };
            Value::Builtin(b)
        }
    })
}

/// `isinstance(v, cls)` for script classes, exception classes and tuples of them.
pub fn isinstance(v: &Value, cls: &Value) -> bool {
    match cls {
        Value::Class(k) => matches!(v, Value::Instance(i) if i.class.is_subclass_of(k)),
        Value::ExcClass(c) => exception_of(v).is_some_and(|e| e.class.is_subclass_of(*c)),
        Value::Special(Special::Object) => true,
        Value::Tuple(items) => items.iter().any(|c| isinstance(v, c)),
        Value::Builtin(b) => {
            let t = v.type_name();
            t == b.name() || (*b == Builtin::Int && t == "bool")
        }
        _ => false,
    }
}

fn no_attr(v: &Value, name: &str) -> Exception {
    let message = match v {
        Value::Class(c) => format!("type object '{}' has no attribute '{name}'", c.name),
        other => format!("'{}' object has no attribute '{name}'", other.type_name()),
    };
    Exception::new(ExcClass::AttributeError, message)
}

/// The dunder method for a comparison, and the one for the reflected comparison.
fn cmp_dunders(op: CmpOp) -> Option<(&'static str, &'static str)> {
    Some(match op {
        CmpOp::Eq => ("__eq__", "__eq__"),
        CmpOp::Ne => ("__ne__", "__ne__"),
        CmpOp::Lt => ("__lt__", "__gt__"),
        CmpOp::Le => ("__le__", "__ge__"),
        CmpOp::Gt => ("__gt__", "__lt__"),
        CmpOp::Ge => ("__ge__", "__le__"),
        _ => return None,
    })
}

/// The method an operator calls on its left operand, and the reflected one on its right.
/// The in-place method `a OP= b` asks `a` for first.
fn in_place_dunder(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "__iadd__",
        BinOp::Sub => "__isub__",
        BinOp::Mul => "__imul__",
        BinOp::Div => "__itruediv__",
        BinOp::FloorDiv => "__ifloordiv__",
        BinOp::Mod => "__imod__",
        BinOp::Pow => "__ipow__",
        BinOp::BitAnd => "__iand__",
        BinOp::BitOr => "__ior__",
        BinOp::BitXor => "__ixor__",
        BinOp::Shl => "__ilshift__",
        BinOp::Shr => "__irshift__",
    }
}

/// `a OP= b` neither operand supports: CPython names the operator `+=`.
pub(super) fn in_place_error(mut e: Exception) -> Exception {
    if let Some(rest) = e.message.strip_prefix("unsupported operand type(s) for ")
        && let Some((op, tail)) = rest.split_once(':')
    {
        e.message = format!("unsupported operand type(s) for {op}=:{tail}");
    }
    e
}

fn binary_dunders(op: BinOp) -> (&'static str, &'static str) {
    match op {
        BinOp::Add => ("__add__", "__radd__"),
        BinOp::Sub => ("__sub__", "__rsub__"),
        BinOp::Mul => ("__mul__", "__rmul__"),
        BinOp::Div => ("__truediv__", "__rtruediv__"),
        BinOp::FloorDiv => ("__floordiv__", "__rfloordiv__"),
        BinOp::Mod => ("__mod__", "__rmod__"),
        BinOp::Pow => ("__pow__", "__rpow__"),
        BinOp::BitAnd => ("__and__", "__rand__"),
        BinOp::BitOr => ("__or__", "__ror__"),
        BinOp::BitXor => ("__xor__", "__rxor__"),
        BinOp::Shl => ("__lshift__", "__rlshift__"),
        BinOp::Shr => ("__rshift__", "__rrshift__"),
    }
}

impl LaneVm {
    /// `a OP b` where an operand is an instance whose class defines the
    /// operator's method (`__add__`, or `__radd__` on the right): calls it.
    pub(super) fn binary_dunder(&mut self, op: BinOp) -> Result<bool, Raise> {
        let n = self.frame.stack.len();
        if n < 2 || !matches!((&self.frame.stack[n - 2], &self.frame.stack[n - 1]), (Value::Instance(_), _) | (_, Value::Instance(_))) {
            return Ok(false);
        }
        let (a, b) = (self.frame.stack[n - 2].clone(), self.frame.stack[n - 1].clone());
        Ok(self.operator_from(op, &a, &b, 1, 2, false)?)
    }

    /// `a OP b` from `stage` on: 0 `a`'s in-place method (`__iadd__`), 1
    /// its method (`__add__`), 2 `b`'s reflected one (`__radd__`, when `b`'s
    /// class is not `a`'s). The first defined runs as a call (after `pop`
    /// values are popped); NotImplemented from it goes on to the next stage.
    /// False, nothing done, when no stage is left (`in_place`: for `OP=`).
    pub(super) fn operator_from(&mut self, op: BinOp, a: &Value, b: &Value, stage: u8, pop: usize, in_place: bool) -> Result<bool, Exception> {
        let (name, reflected) = binary_dunders(op);
        for stage in stage..3 {
            let found = match (stage, a, b) {
                (0, Value::Instance(i), _) => i.class.method(in_place_dunder(op)).map(|m| (m, a, b)),
                (1, Value::Instance(i), _) => i.class.method(name).map(|m| (m, a, b)),
                (2, _, Value::Instance(j)) if !matches!(a, Value::Instance(i) if Arc::ptr_eq(&i.class, &j.class)) => {
                    j.class.method(reflected).map(|m| (m, b, a))
                }
                _ => None,
            };
            if let Some((m, recv, other)) = found {
                let on_return = OnReturn::Operator { op, a: a.clone(), b: b.clone(), stage, in_place };
                self.call_after_pop(&m, pop, vec![recv.clone(), other.clone()], on_return)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A truth test of the instance `v` by its class's `__bool__` (or else
    /// `__len__`): the call is made, `then` uses its answer. False (nothing
    /// done) when the class defines neither: the instance is true.
    pub(super) fn truth_dunder(&mut self, v: &Value, then: Truth) -> Result<bool, Raise> {
        let Some((m, len)) = truth_method(v) else { return Ok(false) };
        self.call_function(&m, vec![v.clone()], Vec::new(), OnReturn::Truth { then, len })?;
        Ok(true)
    }

    /// `-x`, `+x`, `~x` of an instance whose class defines `__neg__`, `__pos__`, `__invert__`.
    pub(super) fn unary_dunder(&mut self, op: UnaryOp) -> Result<bool, Raise> {
        let name = match op {
            UnaryOp::Neg => "__neg__",
            UnaryOp::Pos => "__pos__",
            UnaryOp::Invert => "__invert__",
            UnaryOp::Not => {
                let Some(v @ Value::Instance(_)) = self.frame.stack.last().cloned() else { return Ok(false) };
                if truth_method(&v).is_none() {
                    return Ok(false);
                }
                self.pop();
                return self.truth_dunder(&v, Truth::Push { negate: true });
            }
        };
        let Some(Value::Instance(i)) = self.frame.stack.last() else { return Ok(false) };
        let Some(m) = i.class.method(name) else { return Ok(false) };
        let recv = self.pop();
        self.call_function(&m, vec![recv], Vec::new(), OnReturn::Value)?;
        Ok(true)
    }

    /// Forgets the `__str__`/`__repr__` results cached for the op that just ran.
    pub(super) fn clear_fills(&mut self) {
        for i in self.frame.filled.drain(..) {
            *lock(&i.str_cache) = None;
            *lock(&i.repr_cache) = None;
        }
        if !self.frame.answers.is_empty() {
            self.frame.answers.clear();
        }
    }

    /// If `v` (or something inside it) is an instance whose script `__str__`
    /// (`want_str`) or `__repr__` is not cached yet, starts that method and
    /// makes the current op run again when it returns. True when started.
    pub(super) fn fill(&mut self, v: &Value, want_str: bool, want_repr: bool) -> Result<bool, Raise> {
        let Some((inst, repr, method)) = find_fill(v, want_str, want_repr, 0) else {
            return Ok(false);
        };
        self.frame.pc -= 1;
        self.filling = true;
        let receiver = Value::Instance(inst.clone());
        self.call_function(&method, vec![receiver], Vec::new(), OnReturn::Fill { inst, repr })?;
        Ok(true)
    }

    /// `fill` for the operand of `str % operand`: its items are formatted by
    /// `%s` or `%r`, so both are made ready.
    pub(super) fn fill_percent(&mut self, v: &Value) -> Result<bool, Raise> {
        let items = match v {
            Value::Tuple(t) => t.to_vec(),
            Value::Dict(d) => lock(d).iter().map(|(_, x)| x.clone()).collect(),
            other => vec![other.clone()],
        };
        for item in &items {
            if self.fill(item, true, true)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `fill` for the arguments of a call whose callee is at `base - 1`.
    pub(super) fn fill_args(&mut self, base: usize, count: usize) -> Result<bool, Raise> {
        let args: Vec<Value> = self.frame.stack.iter().skip(base).take(count).cloned().collect();
        self.fill_values(base.saturating_sub(1), &args)
    }

    pub(super) fn fill_values(&mut self, callee_at: usize, args: &[Value]) -> Result<bool, Raise> {
        let (want_str, want_repr) = match self.frame.stack.get(callee_at) {
            Some(Value::Builtin(Builtin::Print | Builtin::Str | Builtin::Format)) => (true, false),
            Some(Value::Builtin(Builtin::Repr)) => (false, true),
            Some(Value::Method(m)) if matches!(m.0, Value::Str(_)) && m.1 == "format" => (true, true),
            _ => return Ok(false),
        };
        for a in args {
            if self.fill(a, want_str, want_repr)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A comparison with an instance that defines the dunder method: calls it.
    pub(super) fn compare_dunder(&mut self, op: CmpOp) -> Result<bool, Raise> {
        let n = self.frame.stack.len();
        if n < 2 {
            return Ok(false);
        }
        let (a, b) = (self.frame.stack[n - 2].clone(), self.frame.stack[n - 1].clone());
        if op == CmpOp::In || op == CmpOp::NotIn {
            if let Value::Instance(i) = &b
                && let Some(m) = i.class.method("__contains__")
            {
                self.frame.stack.truncate(n - 2);
                let on_return = if op == CmpOp::In { OnReturn::Truthy } else { OnReturn::Not };
                self.call_function(&m, vec![b.clone(), a], Vec::new(), on_return)?;
                return Ok(true);
            }
            // Otherwise its items are looked through (`__iter__`, or `__getitem__`).
            if super::generator::iterable_instance(&b) || super::generator::is_lazy(&b) {
                self.frame.stack.truncate(n - 2);
                self.search_items(a, b, op == CmpOp::NotIn)?;
                return Ok(true);
            }
            return Ok(false);
        }
        Ok(self.compare_from(op, &a, &b, 0, 2)?)
    }

    /// `a OP b` from `stage` on: 0 `a`'s method (`__lt__`; for `!=`,
    /// `__ne__` or else `__eq__` negated), 1 `b`'s reflected one (`__gt__`).
    /// The first defined runs as a call (after `pop` values are popped);
    /// NotImplemented from it goes on to the next stage. False, nothing
    /// done, when no stage is left.
    pub(super) fn compare_from(&mut self, op: CmpOp, a: &Value, b: &Value, stage: u8, pop: usize) -> Result<bool, Exception> {
        let Some((name, reflected)) = cmp_dunders(op) else {
            return Ok(false);
        };
        for stage in stage..2 {
            let (recv, other, name) = if stage == 0 { (a, b, name) } else { (b, a, reflected) };
            let Value::Instance(i) = recv else { continue };
            let found = match i.class.method(name) {
                Some(m) => Some((m, false)),
                None if op == CmpOp::Ne => i.class.method("__eq__").map(|m| (m, true)),
                None => None,
            };
            if let Some((m, negate)) = found {
                let on_return = OnReturn::Compare { op, a: a.clone(), b: b.clone(), stage, negate };
                self.call_after_pop(&m, pop, vec![recv.clone(), other.clone()], on_return)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Pops `pop` values (an operator's operands), then calls `m`.
    fn call_after_pop(&mut self, m: &Arc<Function>, pop: usize, args: Vec<Value>, on_return: OnReturn) -> Result<(), Exception> {
        let at = self.frame.stack.len().saturating_sub(pop);
        self.frame.stack.truncate(at);
        self.call_function(m, args, Vec::new(), on_return)
    }

    /// Calls a function, method, class, callable instance or class builtin.
    pub(super) fn call_class_value(
        &mut self,
        callee: Value,
        mut positional: Vec<Value>,
        keywords: Vec<(String, Value)>,
    ) -> Flow {
        match callee {
            Value::Function(f) => self.call_function(&f, positional, keywords, OnReturn::Value)?,
            Value::BoundMethod(m) => {
                positional.insert(0, m.0.clone());
                return self.call_class_value(m.1.clone(), positional, keywords);
            }
            Value::Class(c) => return self.instantiate(c, positional, keywords),
            Value::Instance(i) => match i.class.method("__call__") {
                Some(m) => {
                    positional.insert(0, Value::Instance(i.clone()));
                    self.call_function(&m, positional, keywords, OnReturn::Value)?;
                }
                None => {
                    return Err(Exception::type_error(format!(
                        "'{}' object is not callable",
                        i.class.name
                    ))
                    .into());
                }
            },
            Value::Special(s) => {
                let v = self.call_special(s, positional)?;
                self.frame.stack.push(v);
            }
            // `object.__getattribute__(self, name)`, `super().__getattribute__(name)`: the plain lookup.
            Value::Method(m) if m.1 == "__getattribute__" => {
                let mut args = positional.into_iter();
                let obj = match &m.0 {
                    Value::Special(Special::Object) => args.next().unwrap_or(Value::None),
                    obj => obj.clone(),
                };
                let (Some(Value::Str(name)), None) = (args.next(), args.next()) else {
                    return Err(Exception::type_error("__getattribute__() takes an object and an attribute name").into());
                };
                return self.plain_get_attr(obj, &name);
            }
            Value::Method(m) => {
                let v = builtin_method(&m.0, m.1, positional)?;
                self.frame.stack.push(v);
            }
            Value::Builtin(b @ (Builtin::Getattr | Builtin::Hasattr | Builtin::Setattr | Builtin::Delattr)) => {
                return self.attr_builtin(b, positional, keywords);
            }
            Value::Builtin(Builtin::Len) => {
                let Some(Value::Instance(i)) = positional.first().cloned() else {
                    return Ok(Next::Continue);
                };
                match i.class.method("__len__") {
                    Some(m) => self.call_function(&m, positional, Vec::new(), OnReturn::Len)?,
                    None => {
                        return Err(Exception::type_error(format!(
                            "object of type '{}' has no len()",
                            i.class.name
                        ))
                        .into());
                    }
                }
            }
            other => {
                return Err(Exception::type_error(format!(
                    "'{}' object is not callable",
                    other.type_name()
                ))
                .into());
            }
        }
        Ok(Next::Continue)
    }

    fn instantiate(&mut self, c: Arc<Class>, mut positional: Vec<Value>, keywords: Vec<(String, Value)>) -> Flow {
        let inst = Instance::new(c.clone());
        let v = Value::Instance(inst.clone());
        if c.exc_base.is_some() {
            // As in Python, an exception's args are its constructor's arguments
            // whatever `__init__` does (`super().__init__(...)` may replace them).
            lock(&inst.attrs).insert("args".into(), Value::tuple(positional.clone()));
        }
        match c.lookup("__init__") {
            Some(Value::Function(init)) => {
                positional.insert(0, v.clone());
                self.call_function(&init, positional, keywords, OnReturn::Replace(v))?;
            }
            _ => {
                if c.exc_base.is_none() && (!positional.is_empty() || !keywords.is_empty()) {
                    return Err(Exception::type_error(format!("{}() takes no arguments", c.name)).into());
                }
                if c.exc_base.is_some() && !keywords.is_empty() {
                    return Err(Exception::type_error(format!(
                        "{}() takes no keyword arguments",
                        c.name
                    ))
                    .into());
                }
                self.frame.stack.push(v);
            }
        }
        Ok(Next::Continue)
    }

    fn call_special(&mut self, s: Special, args: Vec<Value>) -> Result<Value, Exception> {
        let one = |args: &[Value]| match args {
            [f] => Ok(f.clone()),
            _ => Err(Exception::type_error(format!(
                "{}() takes exactly one argument ({} given)",
                s.name(),
                args.len()
            ))),
        };
        Ok(match s {
            Special::NotImplemented => return Err(Exception::type_error("'NotImplementedType' object is not callable")),
            Special::StaticMethod => Value::Wrapped(Arc::new(Wrapped::Static(one(&args)?))),
            Special::ClassMethod => Value::Wrapped(Arc::new(Wrapped::ClassMethod(one(&args)?))),
            Special::Property => match args.as_slice() {
                [get] => Value::Wrapped(Arc::new(Wrapped::Property { get: get.clone(), set: None })),
                [get, set] => Value::Wrapped(Arc::new(Wrapped::Property {
                    get: get.clone(),
                    set: Some(set.clone()),
                })),
                _ => return Err(Exception::type_error("property() takes a getter and an optional setter")),
            },
            Special::Super => self.make_super(args)?,
            Special::Object => {
                return Err(Exception::type_error("object() instances are not supported; define a class"));
            }
            Special::Type => match args.as_slice() {
                [v] => type_of(v)?,
                _ => return Err(Exception::type_error("type() takes 1 argument")),
            },
            Special::IsInstance => match args.as_slice() {
                [v, cls] => Value::Bool(isinstance(v, cls)),
                _ => return Err(Exception::type_error(format!("isinstance expected 2 arguments, got {}", args.len()))),
            },
            Special::IsSubclass => match args.as_slice() {
                [Value::Class(a), b] => Value::Bool(class_matches(a, b)),
                [Value::ExcClass(a), b] => Value::Bool(exc_class_matches(*a, b)),
                [_, _] => return Err(Exception::type_error("issubclass() arg 1 must be a class")),
                _ => return Err(Exception::type_error(format!("issubclass expected 2 arguments, got {}", args.len()))),
            },
        })
    }

    /// `super()` inside a method: its class and its first argument;
    /// `super(Class, obj)` explicitly.
    fn make_super(&self, args: Vec<Value>) -> Result<Value, Exception> {
        let (class, obj) = match args.as_slice() {
            [Value::Class(c), obj] => (c.clone(), obj.clone()),
            [] => {
                let runtime = |m: &str| Exception::new(ExcClass::RuntimeError, format!("super(): {m}"));
                let f = self.frame.func.as_ref().ok_or_else(|| runtime("no arguments"))?;
                let class = f
                    .owner
                    .get()
                    .and_then(std::sync::Weak::upgrade)
                    .ok_or_else(|| runtime("__class__ cell not found"))?;
                let first = f.code.params.first().ok_or_else(|| runtime("no arguments"))?;
                let obj = self
                    .frame
                    .locals
                    .get(first)
                    .cloned()
                    .or_else(|| self.frame.cells.get(first).and_then(|c| lock(c).clone()))
                    .ok_or_else(|| runtime("arg[0] deleted"))?;
                (class, obj)
            }
            _ => return Err(Exception::type_error("super() takes no arguments or a class and an object")),
        };
        Ok(Value::Super(Arc::new((class, obj))))
    }

    /// `x.name`, calling a property's getter as a method, or the class's
    /// `__getattribute__` for every name.
    pub(super) fn get_attr(&mut self, x: Value, name: &str) -> Flow {
        if let Value::Instance(i) = &x
            && i.class.getattribute
            && let Some(f) = i.class.method("__getattribute__")
        {
            let on_return = match i.class.method("__getattr__") {
                Some(_) => OnReturn::Getattr { hasattr: false, default: None, fallback: Some((x.clone(), name.to_string())) },
                None => OnReturn::Value,
            };
            self.call_function(&f, vec![x.clone(), Value::str(name)], Vec::new(), on_return)?;
            return Ok(Next::Continue);
        }
        self.plain_get_attr(x, name)
    }

    /// `x.name` without `__getattribute__`: what `object.__getattribute__` does.
    fn plain_get_attr(&mut self, x: Value, name: &str) -> Flow {
        let found = match &x {
            Value::Instance(i) => match i.get(name) {
                Some(v) => Some(v),
                None if name == "__class__" => Some(Value::Class(i.class.clone())),
                None => match i.class.lookup(name) {
                    Some(v) => return self.bind(v, x.clone(), Value::Class(i.class.clone())),
                    None if i.class.exc_base.is_some() && name == "args" => Some(Value::tuple(Vec::new())),
                    None if i.class.exc_base.is_some() && matches!(name, "__cause__" | "__context__" | "__traceback__") => {
                        Some(Value::None)
                    }
                    None if i.class.exc_base.is_some() && name == "__suppress_context__" => Some(Value::Bool(false)),
                    // `__getattr__` is asked only for what is found nowhere else.
                    None => match i.class.method("__getattr__") {
                        Some(f) if !name.starts_with("__") || !name.ends_with("__") => {
                            self.call_function(&f, vec![x.clone(), Value::str(name)], Vec::new(), OnReturn::Value)?;
                            return Ok(Next::Continue);
                        }
                        _ => None,
                    },
                },
            },
            Value::Class(c) => match name {
                "__name__" | "__qualname__" => Some(Value::str(c.name)),
                _ => match c.lookup(name) {
                    Some(Value::Wrapped(w)) => Some(match &*w {
                        Wrapped::Static(f) => f.clone(),
                        Wrapped::ClassMethod(f) => Value::BoundMethod(Arc::new((x.clone(), f.clone()))),
                        Wrapped::Property { .. } => Value::Wrapped(w.clone()),
                    }),
                    other => other,
                },
            },
            Value::Super(s) => {
                let (class, obj) = (&s.0, &s.1);
                let of = match obj {
                    Value::Instance(i) => Some(i.class.clone()),
                    Value::Class(c) => Some(c.clone()),
                    _ => None,
                };
                match of.as_ref().and_then(|o| o.lookup_after(class, name)) {
                    Some(v) => {
                        let cls = of.map_or(Value::None, Value::Class);
                        return self.bind(v, obj.clone(), cls);
                    }
                    None => match name {
                        "__init__" => Some(Value::Method(Arc::new((obj.clone(), "__init__")))),
                        "__str__" => Some(Value::Method(Arc::new((obj.clone(), "__str__")))),
                        "__repr__" => Some(Value::Method(Arc::new((obj.clone(), "__repr__")))),
                        "__setattr__" => Some(Value::Method(Arc::new((obj.clone(), "__setattr__")))),
                        "__getattribute__" => Some(Value::Method(Arc::new((obj.clone(), "__getattribute__")))),
                        _ => None,
                    },
                }
            }
            Value::Wrapped(w) if name == "setter" && matches!(**w, Wrapped::Property { .. }) => {
                Some(Value::Method(Arc::new((x.clone(), "setter"))))
            }
            // Functions, builtins and exception classes: `methods::get_attr` names them.
            Value::Special(s) if name == "__name__" => Some(Value::str(s.name())),
            // `object.__setattr__(self, name, value)`: the plain assignment a `__setattr__` falls back on.
            Value::Special(Special::Object) if name == "__setattr__" || name == "__getattribute__" => {
                Some(Value::Method(Arc::new((x.clone(), if name == "__setattr__" { "__setattr__" } else { "__getattribute__" }))))
            }
            Value::Function(f) if name == "__qualname__" => Some(Value::str(&f.code.qualname)),
            _ => {
                self.frame.stack.push(methods::get_attr(&x, name)?);
                return Ok(Next::Continue);
            }
        };
        match found {
            Some(v) => {
                self.frame.stack.push(v);
                Ok(Next::Continue)
            }
            None => Err(no_attr(&x, name).into()),
        }
    }

    /// A class attribute read through an instance (or `super()`): methods bind.
    fn bind(&mut self, v: Value, obj: Value, class: Value) -> Flow {
        let bound = match &v {
            Value::Function(_) => Value::BoundMethod(Arc::new((obj, v.clone()))),
            Value::Wrapped(w) => match &**w {
                Wrapped::Static(f) => f.clone(),
                Wrapped::ClassMethod(f) => Value::BoundMethod(Arc::new((class, f.clone()))),
                Wrapped::Property { get, .. } => {
                    return self.call_class_value(get.clone(), vec![obj], Vec::new());
                }
            },
            _ => v,
        };
        self.frame.stack.push(bound);
        Ok(Next::Continue)
    }

    /// `getattr`, `hasattr`, `setattr`, `delattr` on an instance or a class: as
    /// `x.name`, `x.name = v` and `del x.name` do it (properties included).
    fn attr_builtin(&mut self, b: Builtin, positional: Vec<Value>, keywords: Vec<(String, Value)>) -> Flow {
        let name = b.name();
        if !keywords.is_empty() {
            return Err(Exception::type_error(format!("{name}() takes no keyword arguments")).into());
        }
        let (most, least) = if b == Builtin::Getattr { (3, 2) } else if b == Builtin::Setattr { (3, 3) } else { (2, 2) };
        if !(least..=most).contains(&positional.len()) {
            let expected = if least == most { format!("{least}") } else { format!("at least {least}") };
            return Err(Exception::type_error(format!(
                "{name} expected {expected} arguments, got {}",
                positional.len()
            ))
            .into());
        }
        let mut args = positional.into_iter();
        let obj = args.next().unwrap_or(Value::None);
        let attr = super::more::attr_name(args.next())?;
        let third = args.next();
        if b == Builtin::Delattr {
            self.del_attr(&obj, &attr)?;
            self.frame.stack.push(Value::None);
            return Ok(Next::Continue);
        }
        if b == Builtin::Setattr {
            self.frame.stack.push(Value::None);
            return self.set_attr(obj, &attr, third.unwrap_or(Value::None));
        }
        let depth = self.callers.len();
        match self.get_attr(obj, &attr) {
            Err(Raise::Exception(e)) if e.class == ExcClass::AttributeError && self.callers.len() == depth => {
                match (b, third) {
                    (Builtin::Hasattr, _) => self.frame.stack.push(Value::Bool(false)),
                    (_, Some(default)) => self.frame.stack.push(default),
                    _ => return Err(e.into()),
                }
                Ok(Next::Continue)
            }
            Ok(next) if b == Builtin::Hasattr && self.callers.len() == depth => {
                self.pop();
                self.frame.stack.push(Value::Bool(true));
                Ok(next)
            }
            // A getter or `__getattr__` runs as a frame: its end decides.
            Ok(next) if self.callers.len() > depth => {
                let hasattr = b == Builtin::Hasattr;
                match &mut self.frame.on_return {
                    on_return @ OnReturn::Value => *on_return = OnReturn::Getattr { hasattr, default: third, fallback: None },
                    OnReturn::Getattr { hasattr: h, default: d, fallback: Some(_) } => (*h, *d) = (hasattr, third),
                    _ => {}
                }
                Ok(next)
            }
            other => other,
        }
    }

    /// `object.name = value`, through a property's setter if it has one.
    pub(super) fn set_attr(&mut self, object: Value, name: &str, value: Value) -> Flow {
        match &object {
            Value::Instance(i) => {
                if let Some(f) = i.class.method("__setattr__") {
                    self.call_function(&f, vec![object.clone(), Value::str(name), value], Vec::new(), OnReturn::Discard)?;
                    return Ok(Next::Continue);
                }
                if let Some(Value::Wrapped(w)) = i.class.lookup(name)
                    && let Wrapped::Property { set, .. } = &*w
                {
                    let Some(Value::Function(f)) = set else {
                        return Err(Exception::new(
                            ExcClass::AttributeError,
                            format!("property '{name}' of '{}' object has no setter", i.class.name),
                        )
                        .into());
                    };
                    self.call_function(f, vec![object.clone(), value], Vec::new(), OnReturn::Discard)?;
                    return Ok(Next::Continue);
                }
                lock(&i.attrs).insert(name.to_string(), value);
            }
            Value::Class(c) => {
                lock(&c.attrs).insert(name.to_string(), value);
            }
            other => return Err(no_attr(other, name).into()),
        }
        Ok(Next::Continue)
    }

    pub(super) fn del_attr(&mut self, object: &Value, name: &str) -> Result<(), Exception> {
        let removed = match object {
            Value::Instance(i) => lock(&i.attrs).remove(name),
            Value::Class(c) => lock(&c.attrs).remove(name),
            _ => None,
        };
        removed.map(|_| ()).ok_or_else(|| no_attr(object, name))
    }

    /// `with obj:` for an object: keeps it and pushes what `__enter__` returns.
    pub(super) fn enter_with(&mut self, v: Value) -> Flow {
        if let Value::Instance(i) = &v
            && let Some(m) = i.class.method("__enter__")
        {
            if i.class.method("__exit__").is_none() {
                return Err(Exception::type_error(format!(
                    "'{}' object does not support the context manager protocol (missed __exit__ method)",
                    i.class.name
                ))
                .into());
            }
            self.call_function(&m, vec![v.clone()], Vec::new(), OnReturn::Value)?;
            return Ok(Next::Continue);
        }
        let what = if matches!(v, Value::Instance(_)) { "" } else { " (only sockets and objects with __enter__ do)" };
        Err(Exception::type_error(format!(
            "'{}' object does not support the context manager protocol{what}",
            v.type_name()
        ))
        .into())
    }

    /// Leaving `with obj:`: `__exit__(None, None, None)`, or with the exception
    /// (on the stack below) when one is propagating.
    pub(super) fn exit_with(&mut self, v: Value, exc: bool) -> Flow {
        let Value::Instance(i) = &v else {
            self.frame.stack.push(Value::None);
            return Ok(Next::Continue);
        };
        let Some(m) = i.class.method("__exit__") else {
            self.frame.stack.push(Value::None);
            return Ok(Next::Continue);
        };
        let mut args = vec![v.clone(), Value::None, Value::None, Value::None];
        if exc && let Some(e) = self.frame.stack.last().cloned() {
            args[1] = match &e {
                Value::Instance(x) => Value::Class(x.class.clone()),
                Value::Exception(x) => Value::ExcClass(x.class),
                _ => Value::None,
            };
            args[2] = e;
        }
        self.call_function(&m, args, Vec::new(), OnReturn::Value)?;
        Ok(Next::Continue)
    }

    /// A call finished: `done` was its frame, `v` its return value; the
    /// caller is the current frame again.
    pub(super) fn returned(&mut self, done: super::vm::Frame, v: Value) -> Result<(), Exception> {
        match done.on_return {
            OnReturn::Value => self.frame.stack.push(v),
            OnReturn::Replace(x) => {
                if !matches!(v, Value::None) {
                    return Err(Exception::type_error(format!(
                        "__init__() should return None, not '{}'",
                        v.type_name()
                    )));
                }
                self.frame.stack.push(x);
            }
            OnReturn::Class { name, bases } => {
                let mut attrs: HashMap<String, Value> = done.locals;
                if let Some(f) = &done.func {
                    for n in &f.code.cells {
                        if let Some(v) = done.cells.get(n).and_then(|c| lock(c).clone()) {
                            attrs.insert(n.clone(), v);
                        }
                    }
                }
                if !attrs.contains_key("__module__") {
                    let module = lock(&done.globals).get("__name__").cloned();
                    attrs.insert("__module__".into(), module.unwrap_or_else(|| Value::str("__main__")));
                }
                let class = Class::new(&name, &bases, attrs)?;
                self.frame.stack.push(Value::Class(class));
            }
            OnReturn::Fill { inst, repr } => {
                let Value::Str(s) = v else {
                    let which = if repr { "__repr__" } else { "__str__" };
                    return Err(Exception::type_error(format!(
                        "{which} returned non-string (type {})",
                        v.type_name()
                    )));
                };
                let cache = if repr { &inst.repr_cache } else { &inst.str_cache };
                *lock(cache) = Some(s.to_string());
                self.frame.filled.push(inst);
                self.filling = true;
            }
            OnReturn::Not => self.frame.stack.push(Value::Bool(!v.truthy())),
            OnReturn::Getattr { hasattr: true, .. } => self.frame.stack.push(Value::Bool(true)),
            OnReturn::Getattr { hasattr: false, .. } => self.frame.stack.push(v),
            OnReturn::Discard => {}
            OnReturn::Generator { genr, mode } => self.generator_returned(&genr, mode, v)?,
            OnReturn::Drained { at } => {
                if let Some(slot) = self.frame.stack.get_mut(at) {
                    *slot = v;
                }
            }
            OnReturn::Module(m) => {
                lock(&self.process).modules.insert(m, done.globals);
            }
            OnReturn::Iter => {
                if !is_iterator(&v) {
                    return Err(Exception::type_error(format!(
                        "iter() returned non-iterator of type '{}'",
                        v.type_name()
                    )));
                }
                self.frame.stack.push(v);
            }
            OnReturn::ForNext { .. } | OnReturn::SeqNext { .. } | OnReturn::NextDefault(_) => self.frame.stack.push(v),
            OnReturn::Operator { op, a, b, stage, in_place } => {
                if !matches!(v, Value::Special(Special::NotImplemented)) {
                    self.frame.stack.push(v);
                } else if !self.operator_from(op, &a, &b, stage + 1, 0, in_place)? {
                    let r = super::ops::binary(op, &a, &b);
                    self.frame.stack.push(if in_place { r.map_err(in_place_error)? } else { r? });
                }
            }
            OnReturn::Format => {
                if !matches!(v, Value::Str(_)) {
                    return Err(Exception::type_error(format!("__format__ must return a str, not {}", v.type_name())));
                }
                self.frame.stack.push(v);
            }
            OnReturn::Compare { op, a, b, stage, negate } => {
                if !matches!(v, Value::Special(Special::NotImplemented)) {
                    self.frame.stack.push(if negate { Value::Bool(!v.truthy()) } else { v });
                } else if !self.compare_from(op, &a, &b, stage + 1, 0)? {
                    self.frame.stack.push(super::ops::compare(op, &a, &b)?);
                }
            }
            OnReturn::Truthy => self.frame.stack.push(Value::Bool(v.truthy())),
            OnReturn::Answer { need, stage } => {
                use super::dunder::Need;
                self.filling = true;
                match need {
                    Need::Eq(a, b) if matches!(v, Value::Special(Special::NotImplemented)) => {
                        self.ask(Need::Eq(a, b), stage + 1)?;
                    }
                    Need::Eq(a, b) => self.frame.answers.eq(a, b, v.truthy()),
                    Need::Hash(x) => {
                        let h = super::dunder::hash_result(&v)?;
                        if let Value::Instance(i) = &x {
                            *lock(&i.hash) = Some(h);
                        }
                        self.frame.answers.hash(x, h);
                    }
                    Need::Format(x, spec) => {
                        let Value::Str(text) = v else {
                            return Err(Exception::type_error(format!("__format__ must return a str, not {}", v.type_name())));
                        };
                        self.frame.answers.format(x, spec, text.to_string());
                    }
                    // Asked with `OnReturn::Fill`.
                    Need::Repr(_) => {}
                }
            }
            OnReturn::Len => self.frame.stack.push(Value::Int(len_result(&v)?)),
            OnReturn::Truth { then, len } => {
                let b = match (len, &v) {
                    (true, _) => len_result(&v)? > 0,
                    (false, Value::Bool(b)) => *b,
                    (false, _) => {
                        return Err(Exception::type_error(format!(
                            "__bool__ should return bool, returned {}",
                            v.type_name()
                        )));
                    }
                };
                match then {
                    Truth::Jump { to, when } if b == when => self.frame.pc = to,
                    Truth::Jump { .. } => {}
                    Truth::JumpOrPop { to, when } if b == when => self.frame.pc = to,
                    Truth::JumpOrPop { .. } => {
                        self.pop();
                    }
                    Truth::Push { negate } => self.frame.stack.push(Value::Bool(b != negate)),
                }
            }
        }
        Ok(())
    }
}

/// What a truth test of an instance does with the answer of its class's
/// `__bool__`/`__len__`: jump (`when` it is that), jump or else pop the
/// instance (`and`/`or`), or push it as a bool.
#[derive(Debug, Clone, Copy)]
pub(super) enum Truth {
    Jump { to: usize, when: bool },
    JumpOrPop { to: usize, when: bool },
    Push { negate: bool },
}

/// The method deciding an instance's truth: `__bool__`, else `__len__` (true).
fn truth_method(v: &Value) -> Option<(Arc<Function>, bool)> {
    let Value::Instance(i) = v else { return None };
    match i.class.method("__bool__") {
        Some(m) => Some((m, false)),
        None => i.class.method("__len__").map(|m| (m, true)),
    }
}

/// What `__len__` returned, as CPython checks it.
fn len_result(v: &Value) -> Result<i64, Exception> {
    match v {
        Value::Int(n) if *n < 0 => Err(Exception::value_error("__len__() should return >= 0")),
        Value::Int(n) => Ok(*n),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::BigInt(b) if b.sign() == num_bigint::Sign::Minus => Err(Exception::value_error("__len__() should return >= 0")),
        Value::BigInt(_) => Err(Exception::new(ExcClass::OverflowError, "cannot fit 'int' into an index-sized integer")),
        other => Err(Exception::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            other.type_name()
        ))),
    }
}

/// Whether `iter()` may return `v`: a generator, a builtin iterator, or an
/// instance whose class defines `__next__`.
pub(super) fn is_iterator(v: &Value) -> bool {
    match v {
        Value::Generator(_) | Value::Iter(_) | Value::File(_) => true,
        Value::Instance(i) => i.class.method("__next__").is_some(),
        _ => false,
    }
}

/// Builtin methods on class machinery: `object.__init__` (an exception's sets
/// its args), the default `__str__`/`__repr__`, `property.setter`.
fn builtin_method(recv: &Value, name: &str, args: Vec<Value>) -> Result<Value, Exception> {
    match (recv, name) {
        (Value::Instance(i), "__init__") => {
            if i.class.exc_base.is_some() {
                lock(&i.attrs).insert("args".into(), Value::tuple(args));
            }
            Ok(Value::None)
        }
        (Value::Instance(i), "__setattr__") => plain_setattr(i, args),
        (Value::Special(Special::Object), "__setattr__") => match args.split_first() {
            Some((Value::Instance(i), rest)) => plain_setattr(i, rest.to_vec()),
            _ => Err(Exception::type_error("object.__setattr__() needs an instance, a name and a value")),
        },
        (Value::Instance(i), "__str__") => Ok(Value::str(i.default_str())),
        (Value::Instance(i), "__repr__") => Ok(Value::str(i.default_repr())),
        (Value::Wrapped(w), "setter") => match (&**w, args.as_slice()) {
            (Wrapped::Property { get, .. }, [set]) => Ok(Value::Wrapped(Arc::new(Wrapped::Property {
                get: get.clone(),
                set: Some(set.clone()),
            }))),
            _ => Err(Exception::type_error("setter() takes exactly one argument")),
        },
        (other, _) => Err(no_attr(other, name)),
    }
}

/// `object.__setattr__`: the assignment without the class's own `__setattr__`.
fn plain_setattr(i: &Arc<Instance>, args: Vec<Value>) -> Result<Value, Exception> {
    match <[Value; 2]>::try_from(args) {
        Ok([Value::Str(name), value]) => {
            lock(&i.attrs).insert(name.to_string(), value);
            Ok(Value::None)
        }
        Ok([other, _]) => Err(Exception::type_error(format!(
            "attribute name must be string, not '{}'",
            other.type_name()
        ))),
        Err(args) => Err(Exception::type_error(format!(
            "expected 2 arguments, got {}",
            args.len()
        ))),
    }
}

/// The first instance in `v` whose script `__str__`/`__repr__` is still to run.
fn find_fill(v: &Value, want_str: bool, want_repr: bool, depth: usize) -> Option<(Arc<Instance>, bool, Arc<Function>)> {
    if depth > 4 {
        return None;
    }
    match v {
        Value::Instance(i) => {
            let str_m = i.class.method("__str__");
            if want_str && lock(&i.str_cache).is_none() && let Some(m) = &str_m {
                return Some((i.clone(), false, m.clone()));
            }
            let repr_needed = want_repr || (want_str && str_m.is_none());
            if repr_needed
                && lock(&i.repr_cache).is_none()
                && let Some(m) = i.class.method("__repr__")
            {
                return Some((i.clone(), true, m));
            }
            None
        }
        Value::Tuple(items) => items.iter().find_map(|x| find_fill(x, false, true, depth + 1)),
        Value::List(l) | Value::Set(l) | Value::FrozenSet(l) => {
            let items = lock(l).clone();
            items.iter().find_map(|x| find_fill(x, false, true, depth + 1))
        }
        Value::Dict(d) => {
            let items = lock(d).clone();
            items.iter().find_map(|(k, x)| {
                find_fill(k, false, true, depth + 1).or_else(|| find_fill(x, false, true, depth + 1))
            })
        }
        _ => None,
    }
}
