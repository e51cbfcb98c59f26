//! Facts about a lane both exporters need: which statement is the first that
//! may wait, which names are variables, which helpers are used.

use std::collections::BTreeSet;

use socklab_lang::{Expr, ExprKind, Lane, Stmt, StmtKind, Target};

/// Socket methods and builtins whose call may wait for the kernel (or a clock).
const WAITING_METHODS: &[&str] = &[
    "accept",
    "recv",
    "recvfrom",
    "connect",
    "connect_ex",
    "send",
    "sendall",
    "sendto",
];
const WAITING_BUILTINS: &[&str] = &["select", "sleep"];

/// Calls every expression in `stmt` (not in nested blocks) and in nested blocks.
pub fn visit_stmt(stmt: &Stmt, f: &mut dyn FnMut(&Expr)) {
    match &stmt.kind {
        StmtKind::Expr(e) => visit_expr(e, f),
        StmtKind::Assign { targets, value } => {
            for t in targets {
                visit_target(t, f);
            }
            visit_expr(value, f);
        }
        StmtKind::AugAssign { target, value, .. } => {
            visit_target(target, f);
            visit_expr(value, f);
        }
        StmtKind::Assert { test, message } => {
            visit_expr(test, f);
            if let Some(m) = message {
                visit_expr(m, f);
            }
        }
        StmtKind::If { branches, orelse } => {
            for (test, body) in branches {
                visit_expr(test, f);
                body.iter().for_each(|s| visit_stmt(s, f));
            }
            orelse.iter().flatten().for_each(|s| visit_stmt(s, f));
        }
        StmtKind::While { test, body } => {
            visit_expr(test, f);
            body.iter().for_each(|s| visit_stmt(s, f));
        }
        StmtKind::For { target, iter, body } => {
            visit_target(target, f);
            visit_expr(iter, f);
            body.iter().for_each(|s| visit_stmt(s, f));
        }
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finally,
        } => {
            body.iter().for_each(|s| visit_stmt(s, f));
            for h in handlers {
                h.body.iter().for_each(|s| visit_stmt(s, f));
            }
            orelse.iter().flatten().for_each(|s| visit_stmt(s, f));
            finally.iter().flatten().for_each(|s| visit_stmt(s, f));
        }
        StmtKind::With { value, body, .. } => {
            visit_expr(value, f);
            body.iter().for_each(|s| visit_stmt(s, f));
        }
        StmtKind::Break | StmtKind::Continue | StmtKind::Pass | StmtKind::Import => {}
    }
}

fn visit_target(target: &Target, f: &mut dyn FnMut(&Expr)) {
    match target {
        Target::Name(_) => {}
        Target::Unpack(ts) => ts.iter().for_each(|t| visit_target(t, f)),
        Target::Index { object, index } => {
            f(object);
            f(index);
        }
    }
}

/// Calls `f` on `e` and every sub-expression.
pub fn visit_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Tuple(items) | ExprKind::List(items) => {
            items.iter().for_each(|i| visit_expr(i, f))
        }
        ExprKind::Unary(_, x) | ExprKind::Attr(x, _) => visit_expr(x, f),
        ExprKind::Binary(_, a, b)
        | ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Index(a, b) => {
            visit_expr(a, f);
            visit_expr(b, f);
        }
        ExprKind::Compare(first, rest) => {
            visit_expr(first, f);
            rest.iter().for_each(|(_, x)| visit_expr(x, f));
        }
        ExprKind::IfElse { test, body, orelse } => {
            visit_expr(test, f);
            visit_expr(body, f);
            visit_expr(orelse, f);
        }
        ExprKind::Call { func, args, kwargs } => {
            visit_expr(func, f);
            args.iter().for_each(|a| visit_expr(a, f));
            kwargs.iter().for_each(|(_, a)| visit_expr(a, f));
        }
        ExprKind::Slice {
            object,
            lower,
            upper,
            step,
        } => {
            visit_expr(object, f);
            for x in [lower, upper, step].into_iter().flatten() {
                visit_expr(x, f);
            }
        }
        ExprKind::None
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Bytes(_)
        | ExprKind::Name(_) => {}
    }
}

/// Whether the statement (or anything inside it) makes a call that may wait.
/// Calls on sockets in `nonblocking` do not wait (they fail with EAGAIN instead).
pub fn may_wait(stmt: &Stmt, nonblocking: &BTreeSet<String>) -> bool {
    let mut found = false;
    visit_stmt(stmt, &mut |e| {
        if let ExprKind::Call { func, .. } = &e.kind {
            match &func.kind {
                ExprKind::Attr(object, name) if WAITING_METHODS.contains(&name.as_str()) => {
                    let on_nonblocking =
                        matches!(&object.kind, ExprKind::Name(n) if nonblocking.contains(n));
                    found |= !on_nonblocking;
                }
                ExprKind::Attr(_, name) if WAITING_BUILTINS.contains(&name.as_str()) => {
                    found = true
                }
                ExprKind::Name(name) if WAITING_BUILTINS.contains(&name.as_str()) => found = true,
                _ => {}
            }
        }
    });
    found
}

/// Index of the lane's first top-level statement that may wait, if any: the
/// point from which the next lane may start. A static approximation of the
/// playground's "runs until it blocks": sockets the lane ever makes
/// non-blocking (`x.setblocking(False)`) are taken never to wait.
pub fn first_waiting(lane: &Lane) -> Option<usize> {
    let mut nonblocking = BTreeSet::new();
    for stmt in &lane.body {
        visit_stmt(stmt, &mut |e| {
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
    }
    lane.body.iter().position(|s| may_wait(s, &nonblocking))
}

/// Every name the lane assigns (its variables).
pub fn variables(lane: &Lane) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    fn target(t: &Target, names: &mut BTreeSet<String>) {
        match t {
            Target::Name(n) => {
                names.insert(n.clone());
            }
            Target::Unpack(ts) => ts.iter().for_each(|t| target(t, names)),
            Target::Index { .. } => {}
        }
    }
    fn walk(stmts: &[Stmt], names: &mut BTreeSet<String>) {
        for s in stmts {
            match &s.kind {
                StmtKind::Assign { targets, .. } => targets.iter().for_each(|t| target(t, names)),
                StmtKind::AugAssign { target: t, .. } => target(t, names),
                StmtKind::For {
                    target: t, body, ..
                } => {
                    target(t, names);
                    walk(body, names);
                }
                StmtKind::If { branches, orelse } => {
                    branches.iter().for_each(|(_, b)| walk(b, names));
                    walk(orelse.as_deref().unwrap_or_default(), names);
                }
                StmtKind::While { body, .. } => walk(body, names),
                StmtKind::Try {
                    body,
                    handlers,
                    orelse,
                    finally,
                } => {
                    walk(body, names);
                    for h in handlers {
                        if let Some(n) = &h.name {
                            names.insert(n.clone());
                        }
                        walk(&h.body, names);
                    }
                    walk(orelse.as_deref().unwrap_or_default(), names);
                    walk(finally.as_deref().unwrap_or_default(), names);
                }
                StmtKind::With { name, body, .. } => {
                    if let Some(n) = name {
                        names.insert(n.clone());
                    }
                    walk(body, names);
                }
                _ => {}
            }
        }
    }
    walk(&lane.body, &mut names);
    names
}

/// Names of the builtins the script calls (to emit only the helpers it needs).
pub fn builtins_called(lanes: &[Lane], vars: &dyn Fn(usize, &str) -> bool) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (i, lane) in lanes.iter().enumerate() {
        for stmt in &lane.body {
            visit_stmt(stmt, &mut |e| {
                if let ExprKind::Call { func, .. } = &e.kind
                    && let ExprKind::Name(n) = &func.kind
                    && !vars(i, n)
                {
                    used.insert(n.clone());
                }
            });
        }
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
