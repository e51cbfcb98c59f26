//! Where each name in a function lives, decided at compile time as in Python:
//! a name the function binds is local (unless declared `global`/`nonlocal`);
//! a local that a nested function uses lives in a cell, shared with the closure;
//! a name found in an enclosing function is free (a cell from the closure);
//! anything else is a lane global or a builtin.

use std::collections::BTreeSet;

use crate::ast::*;
use crate::visit::{self, Visitor};

#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub locals: BTreeSet<String>,
    /// Locals captured by nested functions.
    pub cells: BTreeSet<String>,
    /// Names taken from enclosing functions' cells.
    pub frees: BTreeSet<String>,
    pub globals: BTreeSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Global,
    Local,
    Cell,
}

impl Scope {
    pub fn kind(&self, name: &str) -> NameKind {
        if self.globals.contains(name) {
            NameKind::Global
        } else if self.cells.contains(name) || self.frees.contains(name) {
            NameKind::Cell
        } else if self.locals.contains(name) {
            NameKind::Local
        } else {
            NameKind::Global
        }
    }
}

/// What a function's own body does with names (nested functions not entered).
#[derive(Default)]
struct Collect {
    bound: BTreeSet<String>,
    used: BTreeSet<String>,
    globals: BTreeSet<String>,
    nonlocals: BTreeSet<String>,
    nested: Vec<FuncDef>,
}

impl Visitor for Collect {
    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Global(names) => self.globals.extend(names.iter().cloned()),
            StmtKind::Nonlocal(names) => self.nonlocals.extend(names.iter().cloned()),
            _ => {}
        }
        visit::walk_stmt(self, stmt);
    }

    fn expr(&mut self, e: &Expr) {
        if let ExprKind::Name(n) = &e.kind {
            self.used.insert(n.clone());
        }
        visit::walk_expr(self, e);
    }

    fn binds(&mut self, name: &str) {
        self.bound.insert(name.to_string());
    }

    fn function(&mut self, def: &FuncDef) {
        self.nested.push(def.clone());
    }

    /// A class body binds its own names, not the function's; its methods may
    /// still close over the function's variables, so it counts as nested.
    fn class(&mut self, def: &ClassDef) {
        self.nested.push(class_as_function(def));
    }
}

/// A class body seen as a function's: what it binds are its own locals.
pub fn class_as_function(def: &ClassDef) -> FuncDef {
    FuncDef {
        name: def.name.clone(),
        line: def.line,
        params: Vec::new(),
        vararg: None,
        kwonly: Vec::new(),
        kwarg: None,
        body: def.body.clone(),
        is_lambda: false,
        decorators: Vec::new(),
    }
}

/// The scope of `def`, inside functions whose locals are `enclosing` (outermost first).
pub fn analyze(def: &FuncDef, enclosing: &[BTreeSet<String>]) -> Scope {
    let mut c = Collect::default();
    for p in def.param_names() {
        c.bound.insert(p);
    }
    visit::walk_stmts(&mut c, &def.body);
    let declared: BTreeSet<String> = c.globals.union(&c.nonlocals).cloned().collect();
    let locals: BTreeSet<String> = c.bound.difference(&declared).cloned().collect();
    let mut chain = enclosing.to_vec();
    chain.push(locals.clone());
    let mut inner_frees = BTreeSet::new();
    for nested in &c.nested {
        inner_frees.extend(analyze(nested, &chain).frees);
    }
    let cells = locals.intersection(&inner_frees).cloned().collect();
    let outer: BTreeSet<&String> = enclosing.iter().flatten().collect();
    let frees = c
        .used
        .iter()
        .chain(&c.nonlocals)
        .chain(&inner_frees)
        .filter(|n| !locals.contains(*n) && !c.globals.contains(*n) && outer.contains(n))
        .cloned()
        .collect();
    Scope {
        locals,
        cells,
        frees,
        globals: c.globals,
    }
}
