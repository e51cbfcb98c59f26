//! Facts about a lane both exporters need: which statement is the first that
//! may wait, which helpers are used, and identifiers for generated code.

use std::collections::BTreeSet;

use socklab_lang::visit::each_expr;
use socklab_lang::{Expr, ExprKind, Lane, Stmt};
use socklab_wire::op::Op;

/// Whether the statement (or anything inside it) makes a call that may wait.
/// Calls on sockets in `nonblocking` do not wait (they fail with EAGAIN instead).
pub fn may_wait(stmt: &Stmt, nonblocking: &BTreeSet<String>) -> bool {
    let mut found = false;
    each_expr(std::slice::from_ref(stmt), |e| {
        if let ExprKind::Call { func, .. } = &e.kind {
            found |= call_waits(func, nonblocking);
        }
    });
    found
}

/// Whether calling `func` may wait: a waiting socket method on a socket that
/// may block, or a waiting function, by its name or through its module.
fn call_waits(func: &Expr, nonblocking: &BTreeSet<String>) -> bool {
    let waiting = |name: &str| Op::from_name(name).filter(|op| op.may_wait());
    if let ExprKind::Attr(object, name) = &func.kind {
        let on_nonblocking = matches!(&object.kind, ExprKind::Name(n) if nonblocking.contains(n));
        waiting(name).is_some_and(|op| !op.is_method() || !on_nonblocking)
    } else if let ExprKind::Name(name) = &func.kind {
        waiting(name).is_some_and(|op| !op.is_method())
    } else {
        false
    }
}

/// Index of the lane's first top-level statement that may wait, if any: the
/// point from which the next lane may start. A static approximation of the
/// playground's "runs until it blocks": sockets the lane ever makes
/// non-blocking (`x.setblocking(False)`) are taken never to wait.
pub fn first_waiting(lane: &Lane) -> Option<usize> {
    let mut nonblocking = BTreeSet::new();
    each_expr(&lane.body, |e| {
        if let ExprKind::Call { func, args, .. } = &e.kind
            && let (ExprKind::Attr(object, name), [flag]) = (&func.kind, args.as_slice())
            && let (
                ExprKind::Name(var),
                "setblocking",
                ExprKind::Bool(false) | ExprKind::Int(0),
            ) = (&object.kind, name.as_str(), &flag.kind)
        {
            nonblocking.insert(var.clone());
        }
    });
    lane.body.iter().position(|s| may_wait(s, &nonblocking))
}

/// Names of the builtins the script calls (to emit only the helpers it needs).
pub fn builtins_called(lanes: &[Lane], vars: &dyn Fn(usize, &str) -> bool) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (i, lane) in lanes.iter().enumerate() {
        each_expr(&lane.body, |e| {
            if let ExprKind::Call { func, .. } = &e.kind
                && let ExprKind::Name(n) = &func.kind
                && !vars(i, n)
            {
                used.insert(n.clone());
            }
        });
    }
    used
}

/// A name usable as an identifier in generated code (lane names may contain `-`).
pub fn ident(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
