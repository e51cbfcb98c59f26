//! The one walk over a lane's tree. A walker implements [`Visitor`], overrides
//! the hooks it cares about, and calls the matching `walk_*` function where it
//! wants to go on into the children. The matches here are exhaustive, so a new
//! kind of node makes this walk, and so every walker, decide about it.

use std::collections::BTreeSet;

use super::ast::*;

/// Hooks called for each node; by default each one walks on into the node's children.
pub trait Visitor {
    fn stmt(&mut self, stmt: &Stmt) {
        walk_stmt(self, stmt);
    }

    fn expr(&mut self, expr: &Expr) {
        walk_expr(self, expr);
    }

    fn target(&mut self, target: &Target) {
        walk_target(self, target);
    }

    /// A name a statement binds: an assignment or `for` target, `except … as`,
    /// `with … as`, a `def`'s name, a parameter.
    fn binds(&mut self, _name: &str) {}

    /// A function's parameters and body (of a `def` or a `lambda`), after its
    /// defaults; by default walked like the enclosing code.
    fn function(&mut self, def: &FuncDef) {
        walk_function(self, def);
    }

    /// A class's body, after its decorators and bases; by default walked like
    /// the enclosing code.
    fn class(&mut self, def: &ClassDef) {
        walk_stmts(self, &def.body);
    }
}

pub fn walk_stmts<V: Visitor + ?Sized>(v: &mut V, stmts: &[Stmt]) {
    for stmt in stmts {
        v.stmt(stmt);
    }
}

/// The statement's expressions, targets and bound names, then its blocks, in source order.
pub fn walk_stmt<V: Visitor + ?Sized>(v: &mut V, stmt: &Stmt) {
    match &stmt.kind {
        StmtKind::Expr(e) => v.expr(e),
        StmtKind::Assign { targets, value } => {
            v.expr(value);
            targets.iter().for_each(|t| v.target(t));
        }
        StmtKind::AugAssign { target, value, .. } => {
            v.target(target);
            v.expr(value);
        }
        StmtKind::Assert { test, message } => {
            v.expr(test);
            message.iter().for_each(|m| v.expr(m));
        }
        StmtKind::If { branches, orelse } => {
            for (test, body) in branches {
                v.expr(test);
                walk_stmts(v, body);
            }
            walk_stmts(v, orelse.as_deref().unwrap_or_default());
        }
        StmtKind::While { test, body, orelse } => {
            v.expr(test);
            walk_stmts(v, body);
            walk_stmts(v, orelse.as_deref().unwrap_or_default());
        }
        StmtKind::For { target, iter, body, orelse } => {
            v.expr(iter);
            v.target(target);
            walk_stmts(v, body);
            walk_stmts(v, orelse.as_deref().unwrap_or_default());
        }
        StmtKind::Try { body, handlers, orelse, finally } => {
            walk_stmts(v, body);
            for handler in handlers {
                handler.name.iter().for_each(|n| v.binds(n));
                walk_stmts(v, &handler.body);
            }
            walk_stmts(v, orelse.as_deref().unwrap_or_default());
            walk_stmts(v, finally.as_deref().unwrap_or_default());
        }
        StmtKind::With { value, name, body, exit_source: _ } => {
            v.expr(value);
            name.iter().for_each(|n| v.binds(n));
            walk_stmts(v, body);
        }
        StmtKind::Break | StmtKind::Continue | StmtKind::Pass | StmtKind::Import => {}
        StmtKind::Def(def) => {
            def.decorators.iter().for_each(|d| v.expr(d));
            walk_defaults(v, def);
            v.binds(&def.name);
            v.function(def);
        }
        StmtKind::Return(value) => value.iter().for_each(|e| v.expr(e)),
        StmtKind::Raise { exc, cause } => [exc, cause].into_iter().flatten().for_each(|e| v.expr(e)),
        StmtKind::Global(_) | StmtKind::Nonlocal(_) => {}
        StmtKind::Del(targets) => targets.iter().for_each(|t| v.target(t)),
        StmtKind::Class(def) => {
            def.decorators.iter().for_each(|d| v.expr(d));
            def.bases.iter().for_each(|b| v.expr(b));
            v.binds(&def.name);
            v.class(def);
        }
    }
}

/// A function's default values: evaluated where the function is defined.
pub fn walk_defaults<V: Visitor + ?Sized>(v: &mut V, def: &FuncDef) {
    for p in def.params.iter().chain(&def.kwonly) {
        p.default.iter().for_each(|d| v.expr(d));
    }
}

/// A function's parameters (as bound names) and body.
pub fn walk_function<V: Visitor + ?Sized>(v: &mut V, def: &FuncDef) {
    for name in def.param_names() {
        v.binds(&name);
    }
    walk_stmts(v, &def.body);
}

/// The names a target binds, and the expressions of its indexing.
pub fn walk_target<V: Visitor + ?Sized>(v: &mut V, target: &Target) {
    match target {
        Target::Name(n) => v.binds(n),
        Target::Unpack(items) => items.iter().for_each(|t| v.target(t)),
        Target::Starred(t) => v.target(t),
        Target::Slice { object, lower, upper, step } => {
            v.expr(object);
            [lower, upper, step].into_iter().flatten().for_each(|e| v.expr(e));
        }
        Target::Index { object, index } => {
            v.expr(object);
            v.expr(index);
        }
        Target::Attr { object, .. } => v.expr(object),
    }
}

/// The expression's direct sub-expressions, left to right.
pub fn walk_expr<V: Visitor + ?Sized>(v: &mut V, e: &Expr) {
    match &e.kind {
        ExprKind::None
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::BigInt(..)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Bytes(_)
        | ExprKind::Name(_)
        | ExprKind::Module(_) => {}
        ExprKind::Tuple(items) | ExprKind::List(items) | ExprKind::Set(items) => {
            items.iter().for_each(|i| v.expr(i))
        }
        ExprKind::Unary(_, x) | ExprKind::Attr(x, _) => v.expr(x),
        ExprKind::Binary(_, a, b) | ExprKind::And(a, b) | ExprKind::Or(a, b) | ExprKind::Index(a, b) => {
            v.expr(a);
            v.expr(b);
        }
        ExprKind::Compare(first, rest) => {
            v.expr(first);
            rest.iter().for_each(|(_, x)| v.expr(x));
        }
        ExprKind::Named(name, value) => {
            v.expr(value);
            v.binds(name);
        }
        ExprKind::IfElse { test, body, orelse } => {
            v.expr(body);
            v.expr(test);
            v.expr(orelse);
        }
        ExprKind::Call { func, args, kwargs } => {
            v.expr(func);
            args.iter().for_each(|a| v.expr(a));
            kwargs.iter().for_each(|(_, a)| v.expr(a));
        }
        ExprKind::Slice { object, lower, upper, step } => {
            v.expr(object);
            [lower, upper, step].into_iter().flatten().for_each(|part| v.expr(part));
        }
        ExprKind::Lambda(def) => {
            walk_defaults(v, def);
            v.function(def);
        }
        ExprKind::Dict(items) => items.iter().for_each(|(k, x)| {
            v.expr(k);
            v.expr(x);
        }),
        ExprKind::Star(x) | ExprKind::DoubleStar(x) | ExprKind::YieldFrom(x) => v.expr(x),
        ExprKind::Yield(x) => x.iter().for_each(|x| v.expr(x)),
        ExprKind::FString(parts) => walk_fparts(v, parts),
        ExprKind::Comp { elt, value, generators, .. } => {
            for g in generators {
                v.expr(&g.iter);
                v.target(&g.target);
                g.conds.iter().for_each(|c| v.expr(c));
            }
            v.expr(elt);
            value.iter().for_each(|x| v.expr(x));
        }
    }
}

/// The fields of an f-string, spec fields after their value, as they run.
fn walk_fparts<V: Visitor + ?Sized>(v: &mut V, parts: &[FPart]) {
    for part in parts {
        if let FPart::Field { value, spec, .. } = part {
            v.expr(value);
            if let Some(spec) = spec {
                walk_fparts(v, spec);
            }
        }
    }
}

/// Every name the statements bind, nested blocks included: a lane's variables.
pub fn bound_names(stmts: &[Stmt]) -> BTreeSet<String> {
    struct Names(BTreeSet<String>);
    impl Visitor for Names {
        fn binds(&mut self, name: &str) {
            self.0.insert(name.to_string());
        }
    }
    let mut names = Names(BTreeSet::new());
    walk_stmts(&mut names, stmts);
    names.0
}

/// Calls `f` on every expression in the statements (nested blocks, targets'
/// indexing and sub-expressions included), each before its sub-expressions.
pub fn each_expr(stmts: &[Stmt], f: impl FnMut(&Expr)) {
    struct Each<F>(F);
    impl<F: FnMut(&Expr)> Visitor for Each<F> {
        fn expr(&mut self, e: &Expr) {
            (self.0)(e);
            walk_expr(self, e);
        }
    }
    walk_stmts(&mut Each(f), stmts);
}
