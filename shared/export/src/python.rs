//! Script → Python 3 program. The language is a subset of Python, so this is
//! mostly a careful re-printing of the tree: globals become the standard
//! modules' names (`socket.socket`, `select.select`, `time.sleep`,
//! `errno.EAGAIN`), each lane becomes a function run in its own thread, and
//! the playground helpers (`lab_peer`, the ICMP helpers) are emitted as code.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::ExportError;
use socklab_lang::literal::{byte_units, quoted};
use super::walk::{self, ident};
use socklab_wire::errno;
use socklab_lang::visit;
use socklab_lang::names::{Builtin, Global, Module, global};
use socklab_lang::{BinOp, CmpOp, CompKind, Expr, ExprKind, FPart, FuncDef, Param, Script, Stmt, StmtKind, Target, UnaryOp};

/// The Python 3 program for `script`.
pub fn python(script: &Script) -> Result<String, ExportError> {
    let vars: Vec<BTreeSet<String>> = script.lanes.iter().map(|lane| visit::bound_names(&lane.body)).collect();
    let used = walk::builtins_called(&script.lanes, &|lane, name| vars[lane].contains(name));
    let mut out = String::new();
    out.push_str(HEADER);
    for module in modules_used(script, &vars) {
        let _ = writeln!(out, "import {module}");
    }
    if used.contains("lab_peer") {
        out.push_str(LAB_PEER);
    }
    if used
        .iter()
        .any(|n| matches!(n.as_str(), "checksum" | "icmp_echo_request" | "icmp_parse"))
    {
        out.push_str(ICMP);
    }
    out.push_str(RUNTIME);
    for (i, lane) in script.lanes.iter().enumerate() {
        let printer = Printer { vars: &vars[i] };
        let _ = writeln!(
            out,
            "\ndef lane_{}(print, may_start_next):",
            ident(&lane.name)
        );
        let _ = writeln!(
            out,
            "    # lane {:?}, from line {} of the script",
            lane.name, lane.line
        );
        let first_wait = walk::first_waiting(lane);
        for (n, stmt) in lane.body.iter().enumerate() {
            if Some(n) == first_wait {
                out.push_str("    may_start_next.set()  # this lane may wait from here on: the next lane starts\n");
            }
            printer.stmt(stmt, 1, &mut out)?;
        }
        if lane.body.is_empty() {
            out.push_str("    pass\n");
        }
    }
    out.push_str("\n\nLANES = [\n");
    for lane in &script.lanes {
        let _ = writeln!(
            out,
            "    ({}, lane_{}),",
            py_str(&lane.name),
            ident(&lane.name)
        );
    }
    out.push_str("]\n");
    out.push_str(MAIN);
    Ok(out)
}

/// Prints statements and expressions of one lane.
struct Printer<'a> {
    vars: &'a BTreeSet<String>,
}

/// Names the generated program itself uses: a variable with one of them gets a trailing `_`.
const TAKEN: &[&str] = &[
    "socket",
    "select",
    "time",
    "struct",
    "errno",
    "os",
    "sys",
    "threading",
    "tempfile",
    "print",
    "may_start_next",
    "lab_peer",
    "checksum",
    "icmp_echo_request",
    "icmp_parse",
    "LANES",
    "main",
];

impl Printer<'_> {
    fn var(&self, name: &str) -> String {
        if TAKEN.contains(&name) {
            format!("{name}_")
        } else {
            name.to_string()
        }
    }

    fn stmt(&self, stmt: &Stmt, depth: usize, out: &mut String) -> Result<(), ExportError> {
        let pad = "    ".repeat(depth);
        let block = |body: &[Stmt], out: &mut String| -> Result<(), ExportError> {
            if body.is_empty() {
                let _ = writeln!(out, "{pad}    pass");
            }
            for s in body {
                self.stmt(s, depth + 1, out)?;
            }
            Ok(())
        };
        match &stmt.kind {
            StmtKind::Expr(e) => {
                let _ = writeln!(out, "{pad}{}", self.expr(e, 0)?);
            }
            StmtKind::Assign { targets, value } => {
                let mut text = String::new();
                for t in targets {
                    text.push_str(&self.target(t)?);
                    text.push_str(" = ");
                }
                let _ = writeln!(out, "{pad}{text}{}", self.expr(value, 0)?);
            }
            StmtKind::AugAssign { target, op, value } => {
                let _ = writeln!(
                    out,
                    "{pad}{} {}= {}",
                    self.target(target)?,
                    op.symbol(),
                    self.expr(value, 0)?
                );
            }
            StmtKind::Assert { test, message } => {
                let msg = match message {
                    Some(m) => format!(", {}", self.expr(m, 0)?),
                    None => String::new(),
                };
                let _ = writeln!(out, "{pad}assert {}{msg}", self.expr(test, 0)?);
            }
            StmtKind::If { branches, orelse } => {
                for (i, (test, body)) in branches.iter().enumerate() {
                    let kw = if i == 0 { "if" } else { "elif" };
                    let _ = writeln!(out, "{pad}{kw} {}:", self.expr(test, 0)?);
                    block(body, out)?;
                }
                if let Some(body) = orelse {
                    let _ = writeln!(out, "{pad}else:");
                    block(body, out)?;
                }
            }
            StmtKind::While { test, body } => {
                let _ = writeln!(out, "{pad}while {}:", self.expr(test, 0)?);
                block(body, out)?;
            }
            StmtKind::For { target, iter, body } => {
                let _ = writeln!(
                    out,
                    "{pad}for {} in {}:",
                    self.target(target)?,
                    self.expr(iter, 0)?
                );
                block(body, out)?;
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                let _ = writeln!(out, "{pad}try:");
                block(body, out)?;
                for h in handlers {
                    let mut classes: Vec<String> = h.classes.iter().map(|c| c.name().to_string()).collect();
                    for e in &h.script_classes {
                        classes.push(self.expr(e, 0)?);
                    }
                    let what = match classes.len() {
                        0 => String::new(),
                        1 => format!(" {}", classes[0]),
                        _ => format!(" ({})", classes.join(", ")),
                    };
                    let name = h
                        .name
                        .as_deref()
                        .map(|n| format!(" as {}", self.var(n)))
                        .unwrap_or_default();
                    let _ = writeln!(out, "{pad}except{what}{name}:");
                    block(&h.body, out)?;
                }
                if let Some(body) = orelse {
                    let _ = writeln!(out, "{pad}else:");
                    block(body, out)?;
                }
                if let Some(body) = finally {
                    let _ = writeln!(out, "{pad}finally:");
                    block(body, out)?;
                }
            }
            StmtKind::With {
                value, name, body, ..
            } => {
                let name = name
                    .as_deref()
                    .map(|n| format!(" as {}", self.var(n)))
                    .unwrap_or_default();
                let _ = writeln!(out, "{pad}with {}{name}:", self.expr(value, 0)?);
                block(body, out)?;
            }
            StmtKind::Break => {
                let _ = writeln!(out, "{pad}break");
            }
            StmtKind::Continue => {
                let _ = writeln!(out, "{pad}continue");
            }
            StmtKind::Pass => {
                let _ = writeln!(out, "{pad}pass");
            }
            StmtKind::Import => {
                let _ = writeln!(
                    out,
                    "{pad}pass  # {} (the modules are imported at the top)",
                    stmt.source
                );
            }
            StmtKind::Def(def) => {
                self.decorators(&def.decorators, &pad, out)?;
                let _ = writeln!(out, "{pad}def {}({}):", self.var(&def.name), self.params(def)?);
                block(&def.body, out)?;
            }
            StmtKind::Class(def) => {
                self.decorators(&def.decorators, &pad, out)?;
                let bases = def
                    .bases
                    .iter()
                    .map(|b| self.expr(b, 0))
                    .collect::<Result<Vec<_>, _>>()?;
                let bases = if bases.is_empty() { String::new() } else { format!("({})", bases.join(", ")) };
                let _ = writeln!(out, "{pad}class {}{bases}:", self.var(&def.name));
                if def.body.is_empty() {
                    let _ = writeln!(out, "{pad}    pass");
                }
                for s in &def.body {
                    match &s.kind {
                        // Methods keep their names: they are reached as attributes.
                        StmtKind::Def(m) => {
                            self.decorators(&m.decorators, &format!("{pad}    "), out)?;
                            let _ = writeln!(out, "{pad}    def {}({}):", m.name, self.params(m)?);
                            if m.body.is_empty() {
                                let _ = writeln!(out, "{pad}        pass");
                            }
                            for b in &m.body {
                                self.stmt(b, depth + 2, out)?;
                            }
                        }
                        _ => self.stmt(s, depth + 1, out)?,
                    }
                }
            }
            StmtKind::Return(value) => match value {
                Some(v) => {
                    let _ = writeln!(out, "{pad}return {}", self.expr(v, 0)?);
                }
                None => {
                    let _ = writeln!(out, "{pad}return");
                }
            },
            StmtKind::Raise { exc, cause } => {
                let mut text = String::from("raise");
                if let Some(e) = exc {
                    let _ = write!(text, " {}", self.expr(e, 0)?);
                }
                if let Some(c) = cause {
                    let _ = write!(text, " from {}", self.expr(c, 0)?);
                }
                let _ = writeln!(out, "{pad}{text}");
            }
            // A lane is a function in the exported program, so its globals are
            // that function's locals: `global` becomes `nonlocal`.
            StmtKind::Global(names) | StmtKind::Nonlocal(names) => {
                let names: Vec<String> = names.iter().map(|n| self.var(n)).collect();
                let _ = writeln!(out, "{pad}nonlocal {}", names.join(", "));
            }
            StmtKind::Del(targets) => {
                let parts = targets
                    .iter()
                    .map(|t| self.target(t))
                    .collect::<Result<Vec<_>, _>>()?;
                let _ = writeln!(out, "{pad}del {}", parts.join(", "));
            }
        }
        Ok(())
    }

    fn decorators(&self, decorators: &[Expr], pad: &str, out: &mut String) -> Result<(), ExportError> {
        for d in decorators {
            let _ = writeln!(out, "{pad}@{}", self.expr(d, 0)?);
        }
        Ok(())
    }

    fn target(&self, t: &Target) -> Result<String, ExportError> {
        Ok(match t {
            Target::Name(n) => self.var(n),
            Target::Unpack(ts) => ts
                .iter()
                .map(|t| self.target(t))
                .collect::<Result<Vec<_>, _>>()?
                .join(", "),
            Target::Starred(t) => format!("*{}", self.target(t)?),
            Target::Slice { object, lower, upper, step } => {
                let part = |e: &Option<Expr>| e.as_ref().map_or(Ok(String::new()), |e| self.expr(e, 0));
                let mut text = format!("{}[{}:{}", self.expr(object, PRIMARY)?, part(lower)?, part(upper)?);
                if step.is_some() {
                    text = format!("{text}:{}", part(step)?);
                }
                format!("{text}]")
            }
            Target::Index { object, index } => {
                format!("{}[{}]", self.expr(object, PRIMARY)?, self.expr(index, 0)?)
            }
            Target::Attr { object, name } => format!("{}.{name}", self.expr(object, PRIMARY)?),
        })
    }

    fn name(&self, n: &str) -> String {
        if self.vars.contains(n) {
            return self.var(n);
        }
        match global(n) {
            Some(Global::Builtin(b)) => match b {
                Builtin::Socket => "socket.socket".into(),
                Builtin::Select => "select.select".into(),
                Builtin::Sleep => "time.sleep".into(),
                Builtin::Time => "time.time".into(),
                Builtin::Gethostbyname => "socket.gethostbyname".into(),
                // The socket module's own functions and enum classes, used bare in a script.
                Builtin::Socketpair
                | Builtin::CreateConnection
                | Builtin::CreateServer
                | Builtin::HasDualstackIpv6
                | Builtin::Getaddrinfo
                | Builtin::AddressFamily
                | Builtin::SocketKind => format!("socket.{n}"),
                _ => n.into(),
            },
            Some(Global::Const(_)) if n == "EWOULDBLOCK" || errno::number(n).is_some() => {
                format!("errno.{n}")
            }
            Some(Global::Const(_)) if n == "AF_LOCAL" => "socket.AF_UNIX".into(),
            Some(Global::Const(_)) => format!("socket.{n}"),
            Some(Global::Module(_)) | None => n.into(),
        }
    }

    /// The expression, parenthesized if its precedence is below `min`.
    fn expr(&self, e: &Expr, min: u8) -> Result<String, ExportError> {
        let (text, prec) = self.expr_prec(e)?;
        Ok(if prec < min {
            format!("({text})")
        } else {
            text
        })
    }

    fn expr_prec(&self, e: &Expr) -> Result<(String, u8), ExportError> {
        Ok(match &e.kind {
            ExprKind::None => ("None".into(), ATOM),
            ExprKind::Bool(b) => ((if *b { "True" } else { "False" }).into(), ATOM),
            ExprKind::Int(i) => (i.to_string(), if *i < 0 { UNARY } else { ATOM }),
            ExprKind::Float(f) => (py_float(*f), ATOM),
            ExprKind::Str(s) => (py_str(s), ATOM),
            ExprKind::Bytes(b) => (py_bytes(b), ATOM),
            ExprKind::Name(n) => (self.name(n), ATOM),
            ExprKind::Tuple(items) => {
                let parts = self.list(items)?;
                let text = if items.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                };
                (text, ATOM)
            }
            ExprKind::List(items) => (format!("[{}]", self.list(items)?.join(", ")), ATOM),
            ExprKind::Unary(op, x) => match op {
                UnaryOp::Not => (format!("not {}", self.expr(x, NOT)?), NOT),
                UnaryOp::Neg => (format!("-{}", self.expr(x, UNARY)?), UNARY),
                UnaryOp::Pos => (format!("+{}", self.expr(x, UNARY)?), UNARY),
                UnaryOp::Invert => (format!("~{}", self.expr(x, UNARY)?), UNARY),
            },
            ExprKind::Binary(op, a, b) => {
                let p = bin_prec(*op);
                // `**` is right-associative; the others are left-associative.
                let (left, right) = if *op == BinOp::Pow {
                    (p + 1, p)
                } else {
                    (p, p + 1)
                };
                (
                    format!(
                        "{} {} {}",
                        self.expr(a, left)?,
                        op.symbol(),
                        self.expr(b, right)?
                    ),
                    p,
                )
            }
            ExprKind::Compare(first, rest) => {
                let mut text = self.expr(first, COMPARE + 1)?;
                for (op, x) in rest {
                    let _ = write!(text, " {} {}", cmp_symbol(*op), self.expr(x, COMPARE + 1)?);
                }
                (text, COMPARE)
            }
            ExprKind::And(a, b) => (
                format!("{} and {}", self.expr(a, AND)?, self.expr(b, AND + 1)?),
                AND,
            ),
            ExprKind::Or(a, b) => (
                format!("{} or {}", self.expr(a, OR)?, self.expr(b, OR + 1)?),
                OR,
            ),
            ExprKind::IfElse { test, body, orelse } => (
                format!(
                    "{} if {} else {}",
                    self.expr(body, OR)?,
                    self.expr(test, OR)?,
                    self.expr(orelse, IF_ELSE)?
                ),
                IF_ELSE,
            ),
            ExprKind::Attr(x, name) => (format!("{}.{name}", self.attr_object(x)?), PRIMARY),
            ExprKind::Call { func, args, kwargs } => {
                let mut parts = self.list(args)?;
                for (k, v) in kwargs {
                    if k.is_empty() {
                        parts.push(self.expr(v, 0)?);
                    } else {
                        parts.push(format!("{k}={}", self.expr(v, 0)?));
                    }
                }
                (
                    format!("{}({})", self.expr(func, PRIMARY)?, parts.join(", ")),
                    PRIMARY,
                )
            }
            ExprKind::Index(x, i) => (
                format!("{}[{}]", self.expr(x, PRIMARY)?, self.expr(i, 0)?),
                PRIMARY,
            ),
            ExprKind::FString(parts) => match self.fstring(parts)? {
                Some(text) => (text, ATOM),
                None => (self.fstring_concat(parts)?, ATOM),
            },
            ExprKind::Slice {
                object,
                lower,
                upper,
                step,
            } => {
                let part = |x: &Option<Box<Expr>>| -> Result<String, ExportError> {
                    x.as_ref().map_or(Ok(String::new()), |x| self.expr(x, 0))
                };
                let step = match step {
                    Some(s) => format!(":{}", self.expr(s, 0)?),
                    None => String::new(),
                };
                (
                    format!(
                        "{}[{}:{}{step}]",
                        self.expr(object, PRIMARY)?,
                        part(lower)?,
                        part(upper)?
                    ),
                    PRIMARY,
                )
            }
            ExprKind::Lambda(def) => {
                let body = match def.body.first().map(|s| &s.kind) {
                    Some(StmtKind::Return(Some(e))) => self.expr(e, IF_ELSE)?,
                    _ => "None".into(),
                };
                let params = self.params(def)?;
                let sep = if params.is_empty() { "" } else { " " };
                (format!("lambda{sep}{params}: {body}"), 0)
            }
            ExprKind::Set(items) => (format!("{{{}}}", self.list(items)?.join(", ")), ATOM),
            ExprKind::Dict(items) => {
                let parts = items
                    .iter()
                    .map(|(k, v)| Ok(format!("{}: {}", self.expr(k, IF_ELSE)?, self.expr(v, IF_ELSE)?)))
                    .collect::<Result<Vec<_>, ExportError>>()?;
                (format!("{{{}}}", parts.join(", ")), ATOM)
            }
            ExprKind::Comp {
                kind,
                elt,
                value,
                generators,
            } => {
                let mut text = self.expr(elt, IF_ELSE)?;
                if let Some(v) = value {
                    text = format!("{text}: {}", self.expr(v, IF_ELSE)?);
                }
                for g in generators {
                    let _ = write!(text, " for {} in {}", self.target(&g.target)?, self.expr(&g.iter, OR)?);
                    for c in &g.conds {
                        let _ = write!(text, " if {}", self.expr(c, OR)?);
                    }
                }
                let text = match kind {
                    CompKind::List => format!("[{text}]"),
                    CompKind::Set | CompKind::Dict => format!("{{{text}}}"),
                    CompKind::Gen => format!("({text})"),
                };
                (text, ATOM)
            }
            // Only call arguments hold these: never parenthesized.
            ExprKind::Star(x) => (format!("*{}", self.expr(x, UNARY)?), ATOM),
            ExprKind::DoubleStar(x) => (format!("**{}", self.expr(x, UNARY)?), ATOM),
            // Parenthesized, which is valid wherever a yield is.
            ExprKind::Yield(None) => ("(yield)".to_string(), ATOM),
            ExprKind::Yield(Some(x)) => (format!("(yield {})", self.expr(x, 0)?), ATOM),
            ExprKind::YieldFrom(x) => (format!("(yield from {})", self.expr(x, 0)?), ATOM),
        })
    }

    /// A parameter list as written: `a, b=1, *args, k, **kw`.
    fn params(&self, def: &FuncDef) -> Result<String, ExportError> {
        let param = |p: &Param| -> Result<String, ExportError> {
            Ok(match &p.default {
                Some(d) => format!("{}={}", self.var(&p.name), self.expr(d, IF_ELSE)?),
                None => self.var(&p.name),
            })
        };
        let mut parts = def.params.iter().map(param).collect::<Result<Vec<_>, _>>()?;
        match &def.vararg {
            Some(v) => parts.push(format!("*{}", self.var(v))),
            None if !def.kwonly.is_empty() => parts.push("*".into()),
            None => {}
        }
        for p in &def.kwonly {
            parts.push(param(p)?);
        }
        if let Some(k) = &def.kwarg {
            parts.push(format!("**{}", self.var(k)));
        }
        Ok(parts.join(", "))
    }

    /// The object of `x.attr`: a module name stays a module (`socket.AF_INET`).
    fn attr_object(&self, x: &Expr) -> Result<String, ExportError> {
        // `socket` is also a builtin (the constructor), so ask for the module by name.
        if let ExprKind::Name(n) = &x.kind
            && !self.vars.contains(n)
            && let Some(m) = Module::from_name(n)
        {
            return Ok(m.name().to_string());
        }
        let text = self.expr(x, PRIMARY)?;
        // `5 .bit_length()`: an int literal needs a space before the dot.
        Ok(if matches!(x.kind, ExprKind::Int(_)) {
            format!("({text})")
        } else {
            text
        })
    }

    fn list(&self, items: &[Expr]) -> Result<Vec<String>, ExportError> {
        items.iter().map(|i| self.expr(i, IF_ELSE)).collect()
    }
}

// Python's precedence levels, lowest first.
const IF_ELSE: u8 = 1;
const OR: u8 = 2;
const AND: u8 = 3;
const NOT: u8 = 4;
const COMPARE: u8 = 5;
const UNARY: u8 = 12;
const PRIMARY: u8 = 14;
const ATOM: u8 = 15;

fn bin_prec(op: BinOp) -> u8 {
    match op {
        BinOp::BitOr => 6,
        BinOp::BitXor => 7,
        BinOp::BitAnd => 8,
        BinOp::Shl | BinOp::Shr => 9,
        BinOp::Add | BinOp::Sub => 10,
        BinOp::Mul | BinOp::Div | BinOp::FloorDiv | BinOp::Mod => 11,
        BinOp::Pow => 13,
    }
}

fn cmp_symbol(op: CmpOp) -> &'static str {
    op.symbol()
}

/// A Python float literal that reads back as the same value.
pub(super) fn py_float(f: f64) -> String {
    if f.is_finite() {
        let text = format!("{f:?}");
        if text.contains(['.', 'e', 'E']) {
            text
        } else {
            format!("{text}.0")
        }
    } else if f.is_nan() {
        "float('nan')".into()
    } else if f > 0.0 {
        "float('inf')".into()
    } else {
        "float('-inf')".into()
    }
}

/// A Python str literal.
pub(super) fn py_str(s: &str) -> String {
    quoted("", s.chars(), |c| {
        (c < ' ' || c == '\x7f').then(|| format!("\\x{:02x}", u32::from(c)))
    })
}

impl Printer<'_> {
    /// An f-string as an f-string, or None where Python 3.11 could not read it
    /// back in either quote (a field with both quotes or a backslash, braces
    /// in a spec's text).
    fn fstring(&self, parts: &[FPart]) -> Result<Option<String>, ExportError> {
        for quote in ['"', '\''] {
            if let Some(body) = self.fstring_body(parts, quote, false)? {
                return Ok(Some(format!("f{quote}{body}{quote}")));
            }
        }
        Ok(None)
    }

    fn fstring_body(
        &self,
        parts: &[FPart],
        quote: char,
        in_spec: bool,
    ) -> Result<Option<String>, ExportError> {
        let mut out = String::new();
        for part in parts {
            match part {
                FPart::Lit(s) => {
                    let text = py_str(s);
                    let mut text = text[1..text.len() - 1].to_string();
                    if quote == '\'' {
                        text = text.replace("\\\"", "\"").replace('\'', "\\'");
                    }
                    if in_spec && text.contains(['{', '}', '\\', quote]) {
                        return Ok(None);
                    }
                    out.push_str(&text.replace('{', "{{").replace('}', "}}"));
                }
                FPart::Field {
                    value,
                    conversion,
                    spec,
                } => {
                    let expr = self.expr(value, 0)?;
                    if expr.contains([quote, '\\', '#']) || expr.starts_with('{') {
                        return Ok(None);
                    }
                    out.push('{');
                    out.push_str(&expr);
                    if let Some(c) = conversion {
                        out.push('!');
                        out.push(*c);
                    }
                    if let Some(spec) = spec {
                        let Some(spec) = self.fstring_body(spec, quote, true)? else {
                            return Ok(None);
                        };
                        out.push(':');
                        out.push_str(&spec);
                    }
                    out.push('}');
                }
            }
        }
        Ok(Some(out))
    }

    /// The f-string as `"text" + format(value, spec) + ...`, which any Python reads.
    fn fstring_concat(&self, parts: &[FPart]) -> Result<String, ExportError> {
        let mut pieces = vec![py_str("")];
        for part in parts {
            match part {
                FPart::Lit(s) => pieces.push(py_str(s)),
                FPart::Field {
                    value,
                    conversion,
                    spec,
                } => {
                    let mut v = self.expr(value, 0)?;
                    if let Some(c) = conversion {
                        let f = match c {
                            'r' => "repr",
                            'a' => "ascii",
                            _ => "str",
                        };
                        v = format!("{f}({v})");
                    }
                    let spec = match spec {
                        Some(spec) => format!(", {}", self.fstring_concat(spec)?),
                        None => String::new(),
                    };
                    pieces.push(format!("format({v}{spec})"));
                }
            }
        }
        Ok(format!("({})", pieces.join(" + ")))
    }
}

/// A Python bytes literal.
pub(super) fn py_bytes(b: &[u8]) -> String {
    quoted("b", byte_units(b), |c| {
        (!matches!(c, ' '..='~')).then(|| format!("\\x{:02x}", u32::from(c)))
    })
}

const HEADER: &str = r#"#!/usr/bin/env python3
"""Exported from a socklab script: the same socket calls, as a Python 3 program.

Each lane of the script is a function below, run in its own thread. Every
line a lane prints starts with "[lane] ".

How the lanes start: the playground runs lanes in file order, each until it
has to wait for the kernel. Here lane N+1's thread starts once lane N has
finished or reached its first call that may wait (the line
`may_start_next.set()` marks that point), so a server lane is listening
before its client lane connects.
"""

import errno
import os
import select
import socket
import struct
import sys
import tempfile
import threading
import time
"#;

const LAB_PEER: &str = r#"

# ---- lab_peer(): the playground's lab servers, as threads of this program ----

LAB_HTTP_PAGE = b"<html><body><h1>Hello from socklab</h1><p>This page was sent with Content-Length.</p></body></html>\n"
LAB_HTTP_CHUNKS = [b"<html><body>\n", b"<p>This page came in chunks,</p>\n", b"<p>each with its size in hex.</p>\n", b"</body></html>\n"]


def _peer_echo(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            break
        conn.sendall(data)
    conn.shutdown(socket.SHUT_WR)


def _peer_discard(conn):
    while conn.recv(65536):
        pass


def _peer_slow_reader(conn):
    while True:
        time.sleep(0.2)
        if not conn.recv(512):
            break


def _peer_reset(conn):
    # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _http_respond(conn, status, kind, body, close):
    head = "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: %s\r\nServer: socklab-lab-peer\r\n\r\n" % (
        status, kind, len(body), "close" if close else "keep-alive")
    conn.sendall(head.encode() + body)


def _peer_http(conn):
    pending = b""
    while True:
        while b"\r\n\r\n" not in pending:
            data = conn.recv(4096)
            if not data:
                return
            pending += data
        head, _, pending = pending.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = (lines[0].split(" ") + ["", "", ""])[:3]
        method, path, version = parts
        close = any(l.lower().replace(" ", "") == "connection:close" for l in lines[1:]) or version == "HTTP/1.0"
        if not version.startswith("HTTP/1."):
            _http_respond(conn, "400 Bad Request", "text/plain", b"expected HTTP/1.1 request line: GET /path HTTP/1.1\n", True)
            return
        if method == "GET" and path in ("/", "/index.html"):
            _http_respond(conn, "200 OK", "text/html", LAB_HTTP_PAGE, close)
        elif method == "GET" and path == "/chunked":
            conn.sendall(("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: %s\r\n"
                          "Server: socklab-lab-peer\r\n\r\n" % ("close" if close else "keep-alive")).encode())
            for chunk in LAB_HTTP_CHUNKS:
                conn.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            conn.sendall(b"0\r\n\r\n")
        elif method == "GET":
            _http_respond(conn, "404 Not Found", "text/plain", b"not found: try / or /chunked\n", close)
        else:
            _http_respond(conn, "405 Method Not Allowed", "text/plain", b"only GET is served here\n", close)
        if close:
            conn.shutdown(socket.SHUT_WR)
            return


_PEERS = {"echo": _peer_echo, "discard": _peer_discard, "slow_reader": _peer_slow_reader, "slow": _peer_slow_reader,
          "reset": _peer_reset, "rst": _peer_reset, "http": _peer_http}


def lab_peer(kind):
    """Start a lab server on a free loopback port, in a thread; return its address."""
    serve = _PEERS[kind]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if serve is _peer_slow_reader:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def handle(conn):
        try:
            serve(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def accept_loop():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    return listener.getsockname()
"#;

const ICMP: &str = r#"

# ---- the ping helpers ----

def checksum(data):
    """The Internet checksum (RFC 1071): the complement of the one's-complement sum of 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def icmp_echo_request(ident, seq, payload=b""):
    """An ICMP echo request: type 8, code 0, checksum, identifier, sequence, payload."""
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return struct.pack("!BBHHH", 8, 0, checksum(header + payload), ident, seq) + payload


class IcmpMessage:
    def __init__(self, type, code, checksum, ident, seq, payload, ttl, src, dst):
        self.type, self.code, self.checksum, self.ident, self.seq = type, code, checksum, ident, seq
        self.id = ident
        self.payload, self.ttl, self.src, self.dst = payload, ttl, src, dst

    def __repr__(self):
        return "ICMP(type=%d, code=%d, ident=%d, seq=%d, ttl=%s, payload=%r)" % (
            self.type, self.code, self.ident, self.seq, self.ttl, self.payload)


def icmp_parse(data):
    """Parse a raw IPv4 packet (as a raw socket returns it) or a bare ICMP message."""
    ttl = src = dst = None
    if data and data[0] >> 4 == 4:
        ihl = (data[0] & 0x0F) * 4
        ttl = data[8]
        src, dst = socket.inet_ntoa(data[12:16]), socket.inet_ntoa(data[16:20])
        data = data[ihl:]
    type, code, csum, ident, seq = struct.unpack("!BBHHH", data[:8])
    return IcmpMessage(type, code, csum, ident, seq, data[8:], ttl, src, dst)
"#;

const RUNTIME: &str = r#"

# ---- lanes: one thread each, prints prefixed with the lane's name ----

_output_lock = threading.Lock()
_failed_lanes = []


def _lane_printer(lane):
    """A print() for one lane: whole lines, each prefixed with "[lane] "."""
    pending = []

    def lane_print(*args, sep=" ", end="\n", **_ignored):
        pending.append(sep.join(str(a) for a in args) + end)
        text = "".join(pending)
        lines = text.split("\n")
        pending[:] = [lines.pop()]
        with _output_lock:
            for line in lines:
                sys.stdout.write("[%s] %s\n" % (lane, line))
            sys.stdout.flush()

    return lane_print


def _run_lane(name, body, may_start_next):
    try:
        body(_lane_printer(name), may_start_next)
    except BaseException as e:
        _failed_lanes.append(name)
        with _output_lock:
            sys.stderr.write("[%s] stopped: %s: %s\n" % (name, type(e).__name__, e))
    finally:
        may_start_next.set()
"#;

const MAIN: &str = r#"

def main():
    # Unix socket paths land in a fresh directory, as in the playground's session directory.
    os.chdir(tempfile.mkdtemp(prefix="socklab-"))
    threads = []
    for name, body in LANES:
        may_start_next = threading.Event()
        thread = threading.Thread(target=_run_lane, args=(name, body, may_start_next), name=name, daemon=True)
        thread.start()
        may_start_next.wait()
        threads.append(thread)
    for thread in threads:
        thread.join()
    sys.exit(1 if _failed_lanes else 0)


if __name__ == "__main__":
    main()
"#;

/// The library modules a script names that the header does not import.
fn modules_used(script: &Script, vars: &[BTreeSet<String>]) -> BTreeSet<&'static str> {
    let mut found = BTreeSet::new();
    for (lane, vars) in script.lanes.iter().zip(vars) {
        visit::each_expr(&lane.body, |e| {
            if let ExprKind::Name(n) = &e.kind
                && !vars.contains(n)
                && let Some(m @ (Module::Binascii | Module::Random | Module::Math | Module::Json)) =
                    Module::from_name(n)
            {
                found.insert(m.name());
            }
        });
    }
    found
}
