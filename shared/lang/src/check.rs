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
use socklab_wire::consts;

pub fn check_names(lane: &Lane, diagnostics: &mut Vec<Diagnostic>) {
    let mut assigned = BTreeSet::new();
    collect_assigned(&lane.body, &mut assigned);
    let mut checker = Checker {
        assigned: &assigned,
        diagnostics,
    };
    checker.stmts(&lane.body);
}

fn collect_assigned(stmts: &[Stmt], out: &mut BTreeSet<String>) {
    for stmt in stmts {
        match &stmt.kind {
            StmtKind::Assign { targets, .. } => targets.iter().for_each(|t| target_names(t, out)),
            StmtKind::AugAssign { target, .. } => target_names(target, out),
            StmtKind::For { target, body, .. } => {
                target_names(target, out);
                collect_assigned(body, out);
            }
            StmtKind::If { branches, orelse } => {
                branches.iter().for_each(|(_, b)| collect_assigned(b, out));
                collect_assigned(orelse.as_deref().unwrap_or(&[]), out);
            }
            StmtKind::While { body, .. } => collect_assigned(body, out),
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                collect_assigned(body, out);
                for h in handlers {
                    out.extend(h.name.clone());
                    collect_assigned(&h.body, out);
                }
                collect_assigned(orelse.as_deref().unwrap_or(&[]), out);
                collect_assigned(finally.as_deref().unwrap_or(&[]), out);
            }
            StmtKind::With { name, body, .. } => {
                out.extend(name.clone());
                collect_assigned(body, out);
            }
            StmtKind::Expr(_)
            | StmtKind::Assert { .. }
            | StmtKind::Break
            | StmtKind::Continue
            | StmtKind::Pass
            | StmtKind::Import => {}
        }
    }
}

fn target_names(target: &Target, out: &mut BTreeSet<String>) {
    match target {
        Target::Name(n) => {
            out.insert(n.clone());
        }
        Target::Unpack(items) => items.iter().for_each(|t| target_names(t, out)),
        Target::Index { .. } => {}
    }
}

struct Checker<'a> {
    assigned: &'a BTreeSet<String>,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Checker<'_> {
    fn stmts(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Expr(e) => self.expr(e),
            StmtKind::Assign { targets, value } => {
                self.expr(value);
                targets.iter().for_each(|t| self.target(t));
            }
            StmtKind::AugAssign { target, value, .. } => {
                self.target(target);
                self.expr(value);
            }
            StmtKind::Assert { test, message } => {
                self.expr(test);
                if let Some(m) = message {
                    self.expr(m);
                }
            }
            StmtKind::If { branches, orelse } => {
                for (test, body) in branches {
                    self.expr(test);
                    self.stmts(body);
                }
                self.stmts(orelse.as_deref().unwrap_or(&[]));
            }
            StmtKind::While { test, body } => {
                self.expr(test);
                self.stmts(body);
            }
            StmtKind::For { target, iter, body } => {
                self.target(target);
                self.expr(iter);
                self.stmts(body);
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                self.stmts(body);
                handlers.iter().for_each(|h| self.stmts(&h.body));
                self.stmts(orelse.as_deref().unwrap_or(&[]));
                self.stmts(finally.as_deref().unwrap_or(&[]));
            }
            StmtKind::With { value, body, .. } => {
                self.expr(value);
                self.stmts(body);
            }
            StmtKind::Break | StmtKind::Continue | StmtKind::Pass | StmtKind::Import => {}
        }
    }

    fn target(&mut self, target: &Target) {
        match target {
            Target::Name(_) => {}
            Target::Unpack(items) => items.iter().for_each(|t| self.target(t)),
            Target::Index { object, index } => {
                self.expr(object);
                self.expr(index);
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Name(n) => {
                if !self.assigned.contains(n) && names::global(n).is_none() {
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
            }
            ExprKind::None
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bytes(_) => {}
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                items.iter().for_each(|i| self.expr(i))
            }
            ExprKind::Unary(_, x) | ExprKind::Attr(x, _) => self.expr(x),
            ExprKind::Binary(_, a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Index(a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Compare(first, rest) => {
                self.expr(first);
                rest.iter().for_each(|(_, x)| self.expr(x));
            }
            ExprKind::IfElse { test, body, orelse } => {
                self.expr(body);
                self.expr(test);
                self.expr(orelse);
            }
            ExprKind::Call { func, args, kwargs } => {
                self.expr(func);
                args.iter().for_each(|a| self.expr(a));
                kwargs.iter().for_each(|(_, a)| self.expr(a));
            }
            ExprKind::Slice {
                object,
                lower,
                upper,
                step,
            } => {
                self.expr(object);
                for part in [lower, upper, step].into_iter().flatten() {
                    self.expr(part);
                }
            }
        }
    }

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
