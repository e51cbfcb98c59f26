//! Checks after parsing: names that are neither assigned anywhere in their lane
//! nor builtins/constants are reported, with a "did you mean" when one is close.
//!
//! Order is not checked (a name used before its assignment is a NameError at
//! run time, as in Python); this catches the typos that would otherwise only
//! show up when the lane reaches them.

use std::collections::BTreeSet;

use super::Diagnostic;
use super::ast::*;
use super::names::{self, Builtin, Module};
use super::visit::{self, Visitor};
use socklab_wire::consts;

pub fn check_names(lane: &Lane, diagnostics: &mut Vec<Diagnostic>) {
    let assigned = visit::bound_names(&lane.body);
    let mut checker = Checker {
        assigned: &assigned,
        diagnostics,
    };
    visit::walk_stmts(&mut checker, &lane.body);
}

struct Checker<'a> {
    assigned: &'a BTreeSet<String>,
    diagnostics: &'a mut Vec<Diagnostic>,
}

/// Names of class machinery the interpreter provides beside the builtins.
pub const CLASS_NAMES: &[&str] = &[
    "super",
    "object",
    "staticmethod",
    "classmethod",
    "property",
    "type",
    "isinstance",
    "issubclass",
    "NotImplemented",
];

impl Visitor for Checker<'_> {
    fn stmt(&mut self, stmt: &Stmt) {
        // Script exception classes in `except` clauses: reported as unknown
        // exception classes when the lane defines no such name.
        if let StmtKind::Try { handlers, .. } = &stmt.kind {
            for e in handlers.iter().flat_map(|h| &h.script_classes) {
                if let ExprKind::Name(n) = &e.kind
                    && !self.assigned.contains(n)
                {
                    self.diagnostics.push(Diagnostic {
                        line: e.line,
                        col: e.col,
                        message: format!("unknown exception class '{n}'"),
                    });
                }
            }
        }
        visit::walk_stmt(self, stmt);
    }

    fn expr(&mut self, e: &Expr) {
        if let ExprKind::Name(n) = &e.kind
            && !self.assigned.contains(n)
            && names::global(n).is_none()
            && names::ExcClass::from_name(n).is_none()
            && n != "__name__"
            && !CLASS_NAMES.contains(&n.as_str())
        {
            let mut message = format!("unknown name '{n}'");
            if let Some(s) = self.suggest(n) {
                message.push_str(&format!(" (did you mean '{s}'?)"));
            }
            self.diagnostics.push(Diagnostic {
                line: e.line,
                col: e.col,
                message,
            });
        }
        visit::walk_expr(self, e);
    }
}

impl Checker<'_> {
    /// The closest known name, if it is a plausible typo.
    fn suggest(&self, name: &str) -> Option<String> {
        let candidates = self
            .assigned
            .iter()
            .map(String::as_str)
            .chain(Builtin::ALL.iter().map(|b| b.name()))
            .chain(Module::ALL.iter().map(|m| m.name()))
            .chain(consts::all().iter().map(|(n, _)| *n));
        // Short names are too close to everything for a suggestion to help.
        let limit = match name.chars().count() {
            0..=2 => return None,
            3..=4 => 1,
            _ => 2,
        };
        candidates
            .map(|c| (edit_distance(name, c), c))
            .filter(|&(d, _)| d <= limit)
            .min_by_key(|&(d, _)| d)
            .map(|(_, c)| c.to_string())
    }
}

/// Levenshtein distance, case-insensitive (`af_inet` suggests `AF_INET`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
