//! Facts about a lane both exporters need: which statement is the first that
//! may wait, which helpers are used, and identifiers for generated code.

use std::collections::BTreeSet;

use socklab_lang::visit::{self, Visitor, each_expr};
use socklab_lang::{Expr, ExprKind, FuncDef, Lane, Stmt, StmtKind};
use socklab_wire::op::Op;

/// Whether running `stmts` may wait: a waiting call, or a call of one of the
/// script functions in `waiting` (by name). Calls on sockets in `nonblocking`
/// do not wait (they fail with EAGAIN instead). Defining a function runs nothing,
/// so function bodies are not entered.
fn waits_in(stmts: &[Stmt], nonblocking: &BTreeSet<String>, waiting: &BTreeSet<String>) -> bool {
    struct Waits<'a> {
        nonblocking: &'a BTreeSet<String>,
        waiting: &'a BTreeSet<String>,
        found: bool,
    }
    impl Visitor for Waits<'_> {
        fn expr(&mut self, e: &Expr) {
            if let ExprKind::Call { func, .. } = &e.kind {
                self.found |= call_waits(func, self.nonblocking)
                    || matches!(&func.kind, ExprKind::Name(n) if self.waiting.contains(n));
            }
            visit::walk_expr(self, e);
        }
        fn function(&mut self, _def: &FuncDef) {}
    }
    let mut w = Waits {
        nonblocking,
        waiting,
        found: false,
    };
    visit::walk_stmts(&mut w, stmts);
    w.found
}

/// Names of the lane's functions whose calls may wait (directly or through
/// other such functions).
fn waiting_functions(lane: &Lane, nonblocking: &BTreeSet<String>) -> BTreeSet<String> {
    struct Defs(Vec<FuncDef>);
    impl Visitor for Defs {
        fn function(&mut self, def: &FuncDef) {
            self.0.push(def.clone());
            visit::walk_function(self, def);
        }
    }
    let mut defs = Defs(Vec::new());
    visit::walk_stmts(&mut defs, &lane.body);
    let mut waiting = BTreeSet::new();
    loop {
        let before = waiting.len();
        for def in &defs.0 {
            if !waiting.contains(&def.name) && waits_in(&def.body, nonblocking, &waiting) {
                waiting.insert(def.name.clone());
            }
        }
        if waiting.len() == before {
            return waiting;
        }
    }
}

/// Whether calling `func` may wait: a waiting socket method on a socket that
/// may block, or a waiting function, by its name or through its module.
fn call_waits(func: &Expr, nonblocking: &BTreeSet<String>) -> bool {
    let waiting = |name: &str| Op::from_name(name).filter(|op| op.may_wait());
    // create_connection() connects: it waits as connect() does.
    let library = |name: &str| name == "create_connection";
    if let ExprKind::Attr(object, name) = &func.kind {
        if library(name) {
            return true;
        }
        let on_nonblocking = matches!(&object.kind, ExprKind::Name(n) if nonblocking.contains(n));
        waiting(name).is_some_and(|op| !op.is_method() || !on_nonblocking)
    } else if let ExprKind::Name(name) = &func.kind {
        library(name) || waiting(name).is_some_and(|op| !op.is_method())
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
    let waiting = waiting_functions(lane, &nonblocking);
    lane.body.iter().position(|s| {
        !matches!(s.kind, StmtKind::Def(_))
            && waits_in(std::slice::from_ref(s), &nonblocking, &waiting)
    })
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
