//! Script → C program: a small runtime (`c_runtime.c`: tagged values that
//! behave like Python's, sockets with Python's timeout rules, the lab peers
//! and ICMP helpers) and one function per lane, each run in a pthread.
//!
//! Each statement becomes C that calls the runtime (`sock_recv(conn,
//! sl_int(1024))`), with the script line as a comment above it. Lane
//! variables are `volatile` because `try` is setjmp/longjmp. What the runtime
//! does not cover (a few builtins, keyword arguments, slices with a step, …)
//! is an [`ExportError`] naming the line, never C that does not compile.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::ExportError;
use socklab_lang::literal::{byte_units, quoted};
use super::walk::{self, ident};
use socklab_lang::visit;
use socklab_wire::op::Op;
use socklab_lang::names::{Builtin, ExcClass, Global, Module, global};
use socklab_lang::{BinOp, CmpOp, Expr, ExprKind, Script, Stmt, StmtKind, Target, UnaryOp};

const RUNTIME: &str = include_str!("c_runtime.c");

/// The C program for `script`, or the first construct it cannot express:
/// `line 12: class Handler: the C export does not translate classes`.
pub fn c(script: &Script) -> Result<String, ExportError> {
    crate::refuse_hosts(script, "C")?;
    program(script).map_err(|e| {
        let construct = construct_at(script, e.line);
        let message = if construct.is_empty() {
            format!("the C export does not translate {}", e.message)
        } else {
            format!("{construct}: the C export does not translate {}", e.message)
        };
        ExportError { message, ..e }
    })
}

/// The source text of the statement at `line` (for a compound statement, its
/// header; for a line inside a statement, the statement that starts last before it).
fn construct_at(script: &Script, line: u32) -> String {
    struct Find {
        line: u32,
        best: Option<(u32, String)>,
    }
    impl visit::Visitor for Find {
        fn stmt(&mut self, stmt: &Stmt) {
            if stmt.line <= self.line && self.best.as_ref().is_none_or(|(l, _)| stmt.line > *l) {
                let header = stmt.source.lines().next().unwrap_or("").trim();
                let header = if matches!(stmt.kind, StmtKind::Expr(_) | StmtKind::Assign { .. }) { header } else { header.trim_end_matches(':') };
                self.best = Some((stmt.line, header.to_string()));
            }
            visit::walk_stmt(self, stmt);
        }
    }
    let mut find = Find { line, best: None };
    for lane in &script.lanes {
        visit::walk_stmts(&mut find, &lane.body);
    }
    find.best.map(|(_, source)| source).unwrap_or_default()
}

/// The names a lane binds outside its functions, its functions' names and
/// the names its functions declare `global`: the lane's globals.
fn lane_globals(body: &[Stmt]) -> BTreeSet<String> {
    struct Globals(BTreeSet<String>);
    impl visit::Visitor for Globals {
        fn binds(&mut self, name: &str) {
            self.0.insert(name.to_string());
        }
        fn stmt(&mut self, stmt: &Stmt) {
            if let StmtKind::Global(names) = &stmt.kind {
                self.0.extend(names.iter().cloned());
            }
            visit::walk_stmt(self, stmt);
        }
        fn function(&mut self, def: &socklab_lang::FuncDef) {
            // Only the `global` declarations inside: the rest are the function's own.
            declared_global(&def.body, &mut self.0);
        }
    }
    let mut globals = Globals(BTreeSet::new());
    visit::walk_stmts(&mut globals, body);
    globals.0
}

/// The first module an `import` statement names that the C export has not
/// got (the C runtime has the socket, select, time and errno names).
fn import_beyond_c(source: &str) -> Option<String> {
    let rest = source.strip_prefix("import ").or_else(|| source.strip_prefix("from "))?;
    let modules: Vec<&str> = if source.starts_with("from ") {
        rest.split_whitespace().next().into_iter().collect()
    } else {
        rest.split(',').filter_map(|part| part.split_whitespace().next()).collect()
    };
    modules
        .into_iter()
        .find(|m| !matches!(*m, "socket" | "select" | "time" | "errno"))
        .map(str::to_string)
}

/// The names `global` declares in a function's body.
fn declared_global(body: &[Stmt], names: &mut BTreeSet<String>) {
    struct Declared<'a>(&'a mut BTreeSet<String>);
    impl visit::Visitor for Declared<'_> {
        fn stmt(&mut self, stmt: &Stmt) {
            if let StmtKind::Global(names) = &stmt.kind {
                self.0.extend(names.iter().cloned());
            }
            visit::walk_stmt(self, stmt);
        }
    }
    visit::walk_stmts(&mut Declared(names), body);
}

/// A script function as C: its name and parameters (with constant defaults as C).
#[derive(Clone)]
struct CFunction {
    cname: String,
    params: Vec<(String, Option<String>)>,
}

fn program(script: &Script) -> Result<String, ExportError> {
    let mut out = String::new();
    out.push_str(
        "/* Exported from a socklab script: the same socket calls, as a C program.\n\
         *\n\
         * Build and run:  gcc -Wall -O2 -pthread -o prog prog.c && ./prog\n\
         *\n\
         * Each lane of the script is a function below, run in its own pthread;\n\
         * every line a lane prints starts with \"[lane] \". Lanes start in file\n\
         * order: lane N+1 starts once lane N has finished or reached its first\n\
         * call that may wait (sl_may_start_next() marks that point), so a server\n\
         * lane is listening before its client lane connects, as in the playground.\n\
         * The script's functions are C functions of tagged values (V), named\n\
         * after their lane; a lane that has functions keeps its variables at\n\
         * file scope, where its functions see them.\n\
         */\n",
    );
    out.push_str(RUNTIME);
    out.push_str("\nstatic const char *sl_exc_parent(const char *cls) {\n    static const char *parents[][2] = {\n");
    for class in ExcClass::ALL {
        if let Some(parent) = class.parent() {
            let _ = writeln!(
                out,
                "        {{\"{}\", \"{}\"}},",
                class.name(),
                parent.name()
            );
        }
    }
    out.push_str(
        "    };\n    for (size_t k = 0; k < sizeof parents / sizeof *parents; k++)\n        \
         if (strcmp(cls, parents[k][0]) == 0) return parents[k][1];\n    return NULL;\n}\n",
    );
    // File-scope names given so far (lane globals, functions): each C name once.
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for lane in &script.lanes {
        let defs: Vec<&socklab_lang::FuncDef> = lane
            .body
            .iter()
            .filter_map(|s| match &s.kind {
                StmtKind::Def(def) => Some(&**def),
                _ => None,
            })
            .collect();
        let mut lane_gen = Gen::new(visit::bound_names(&lane.body));
        if !defs.is_empty() {
            let globals = lane_globals(&lane.body);
            let mut decls = String::new();
            for def in &defs {
                let cname = file_scope_name(&mut taken, &lane.name, &def.name);
                let params = function_params(def)?;
                let _ = writeln!(
                    decls,
                    "static V {cname}({}) __attribute__((unused));",
                    params_decl(&params)
                );
                lane_gen.functions.insert(def.name.clone(), CFunction { cname, params });
            }
            let def_names: BTreeSet<&String> = defs.iter().map(|d| &d.name).collect();
            for name in globals.iter().filter(|n| !def_names.contains(n)) {
                let cname = file_scope_name(&mut taken, &lane.name, name);
                let _ = writeln!(decls, "static V volatile {cname} = SL_NONE;");
                lane_gen.cnames.insert(name.clone(), cname);
            }
            lane_gen.vars = globals;
            let _ = writeln!(out, "\n/* lane \"{}\": its variables and functions */", lane.name.escape_default());
            out.push_str(&decls);
            for def in &defs {
                out.push_str(&lane_gen.function(def, &taken)?);
            }
        }
        let _ = writeln!(
            lane_gen.out,
            "\n/* lane \"{}\", from line {} of the script */",
            lane.name.escape_default(),
            lane.line
        );
        let _ = writeln!(
            lane_gen.out,
            "static void lane_{}(void) {{",
            ident(&lane.name)
        );
        let locals: Vec<String> = if defs.is_empty() { lane_gen.vars.iter().map(|v| c_var(v)).collect() } else { Vec::new() };
        if !locals.is_empty() {
            let decls: Vec<String> = locals.iter().map(|v| format!("{v} = SL_NONE")).collect();
            let _ = writeln!(lane_gen.out, "    V volatile {};", decls.join(", "));
        }
        let first_wait = walk::first_waiting(lane);
        for (n, stmt) in lane.body.iter().enumerate() {
            if Some(n) == first_wait {
                lane_gen.out.push_str("    sl_may_start_next(); /* this lane may wait from here on: the next lane starts */\n");
            }
            lane_gen.stmt(stmt, 1)?;
        }
        // Variables the script only assigns would be "set but not used".
        for v in &locals {
            let _ = writeln!(lane_gen.out, "    (void)({v});");
        }
        lane_gen.out.push_str("}\n");
        out.push_str(&lane_gen.out);
    }
    out.push_str("\nint main(void) {\n    static sl_lane_ctx lanes[] = {\n");
    for lane in &script.lanes {
        let _ = writeln!(
            out,
            "        {{.name = \"{}\", .body = lane_{}}},",
            lane.name.escape_default(),
            ident(&lane.name)
        );
    }
    out.push_str("    };\n    return sl_run_lanes(lanes, sizeof lanes / sizeof *lanes);\n}\n");
    Ok(out)
}

/// A file-scope C name for a lane's variable or function: `server_handle`,
/// with a number added if another lane's name came out the same.
fn file_scope_name(taken: &mut BTreeSet<String>, lane: &str, name: &str) -> String {
    let base = format!("{}_{}", ident(lane), name);
    let base = if base.starts_with("sl_") || base.starts_with("sock_") || base.starts_with("lane_") || RESERVED.contains(&base.as_str()) {
        format!("v_{base}")
    } else {
        base
    };
    let mut cname = base.clone();
    let mut n = 1;
    while taken.contains(&cname) {
        n += 1;
        cname = format!("{base}_{n}");
    }
    taken.insert(cname.clone());
    cname
}

/// A function's parameters, each with its default as C; what C cannot
/// express (`*args`, keyword-only, `**kwargs`, a default that is not a
/// constant, decorators) is refused.
fn function_params(def: &socklab_lang::FuncDef) -> Result<Vec<(String, Option<String>)>, ExportError> {
    if !def.decorators.is_empty() {
        return Err(err(def.line, "decorators"));
    }
    if def.vararg.is_some() || !def.kwonly.is_empty() || def.kwarg.is_some() {
        return Err(err(def.line, "*args, keyword-only and **kwargs parameters"));
    }
    let mut params = Vec::new();
    for p in &def.params {
        let default = match &p.default {
            None => None,
            Some(d) => Some(constant(d).ok_or_else(|| err(def.line, "defaults that are not constants"))?),
        };
        params.push((p.name.clone(), default));
    }
    Ok(params)
}

/// A constant's C value, for a default (evaluated once, so only constants keep Python's meaning).
fn constant(e: &Expr) -> Option<String> {
    Some(match &e.kind {
        ExprKind::Unary(UnaryOp::Neg, x) => match x.kind {
            ExprKind::Int(i) => format!("sl_int({})", i.checked_neg()?),
            ExprKind::Float(f) => format!("sl_float({})", super::python::py_float(-f)),
            _ => return None,
        },
        _ => return literal(e),
    })
}

/// A literal's C value.
fn literal(e: &Expr) -> Option<String> {
    Some(match &e.kind {
        ExprKind::None => "SL_NONE".into(),
        ExprKind::Bool(b) => format!("sl_bool({})", i32::from(*b)),
        ExprKind::Int(i) => format!("sl_int({i})"),
        ExprKind::Float(f) => format!("sl_float({})", super::python::py_float(*f)),
        ExprKind::Str(s) => format!("sl_str({}, {})", c_string(s.as_bytes()), s.len()),
        ExprKind::Bytes(b) => format!("sl_bytes({}, {})", c_string(b), b.len()),
        _ => return None,
    })
}

fn params_decl(params: &[(String, Option<String>)]) -> String {
    if params.is_empty() {
        return "void".into();
    }
    params.iter().map(|(name, _)| format!("V volatile {}", c_var(name))).collect::<Vec<_>>().join(", ")
}

/// Generates one lane.
struct Gen {
    /// Names that are variables or functions here (they hide builtins).
    vars: BTreeSet<String>,
    /// The C spelling of a variable, where it is not `c_var(name)`.
    cnames: BTreeMap<String, String>,
    /// The lane's functions, by script name.
    functions: BTreeMap<String, CFunction>,
    /// Inside a function: `return` is allowed.
    in_function: bool,
    out: String,
    /// Counter for temporaries (`_t1`, `_h2`, …).
    temp: usize,
    /// Handler variables of the `try` blocks we are inside, innermost last.
    tries: Vec<String>,
    /// For each enclosing loop, how many `try` blocks were open at its start.
    loops: Vec<usize>,
}

/// What an assignment target has that C cannot assign: a `*name`, a slice.
fn unexportable(t: &Target) -> Option<&'static str> {
    match t {
        Target::Starred(_) => Some("starred assignment targets (a, *rest = ...)"),
        Target::Slice { .. } => Some("slice assignment"),
        Target::Unpack(items) => items.iter().find_map(unexportable),
        _ => None,
    }
}

fn err(line: u32, message: impl Into<String>) -> ExportError {
    ExportError {
        line,
        target: "C",
        message: message.into(),
    }
}

/// Names a C program cannot use for a variable.
const RESERVED: &[&str] = &[
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "bool", "true", "false", "errno", "stdin",
    "stdout", "stderr", "main", "V", "NULL", "lanes",
];

fn c_var(name: &str) -> String {
    let taken = RESERVED.contains(&name)
        || name.starts_with("sl_")
        || name.starts_with("sock_")
        || name.starts_with("SL_")
        || name.starts_with('_')
        || name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if taken {
        format!("v_{name}")
    } else {
        name.to_string()
    }
}

/// A C string literal holding exactly these bytes.
fn c_string(bytes: &[u8]) -> String {
    quoted("", byte_units(bytes), |c| match c {
        // `??x` would be a trigraph.
        '?' => Some("\\?".into()),
        ' '..='~' => None,
        // Three-digit octal: unlike \x, it cannot swallow the characters after it.
        _ => Some(format!("\\{:03o}", u32::from(c))),
    })
}

/// The str, bytes and list methods the runtime has: C function, least and most
/// arguments. (Socket methods are spelled in the op table.)
const VALUE_METHODS: &[(&str, &str, usize, usize)] = &[
    ("upper", "sl_m_upper", 0, 0),
    ("lower", "sl_m_lower", 0, 0),
    ("find", "sl_m_find", 1, 1),
    ("partition", "sl_m_partition", 1, 1),
    ("split", "sl_m_split", 0, 1),
    ("strip", "sl_m_strip", 0, 0),
    ("startswith", "sl_m_startswith", 1, 1),
    ("endswith", "sl_m_endswith", 1, 1),
    ("replace", "sl_m_replace", 2, 2),
    ("append", "sl_m_append", 1, 1),
    ("remove", "sl_m_remove", 1, 1),
    ("pop", "sl_m_pop", 0, 0),
];

/// How the C runtime spells an op: function, least and most arguments, their names.
fn c_spelling(op: Op) -> Option<(&'static str, usize, usize, &'static [&'static str])> {
    let info = op.info();
    let (function, most) = info.c?;
    Some((function, info.required, most, info.params.get(..most).unwrap_or(info.params)))
}

impl Gen {
    fn new(vars: BTreeSet<String>) -> Gen {
        Gen {
            vars,
            cnames: BTreeMap::new(),
            functions: BTreeMap::new(),
            in_function: false,
            out: String::new(),
            temp: 0,
            tries: Vec::new(),
            loops: Vec::new(),
        }
    }

    /// A variable's C spelling.
    fn var(&self, name: &str) -> String {
        self.cnames.get(name).cloned().unwrap_or_else(|| c_var(name))
    }

    /// A script function as a C function: its locals are C locals, the
    /// lane's globals are the file-scope variables, `return` returns a V.
    fn function(&self, def: &socklab_lang::FuncDef, taken: &BTreeSet<String>) -> Result<String, ExportError> {
        let f = &self.functions[&def.name];
        let mut globals = BTreeSet::new();
        declared_global(&def.body, &mut globals);
        let mut locals: BTreeSet<String> = visit::bound_names(&def.body);
        locals.extend(def.params.iter().map(|p| p.name.clone()));
        locals.retain(|n| !globals.contains(n));
        let mut g = Gen::new(self.vars.iter().chain(&locals).cloned().collect());
        g.in_function = true;
        g.temp = self.temp;
        for (name, cname) in &self.cnames {
            if !locals.contains(name) {
                g.cnames.insert(name.clone(), cname.clone());
            }
        }
        for (name, function) in &self.functions {
            if !locals.contains(name) {
                g.functions.insert(name.clone(), function.clone());
            }
        }
        // A local whose C name is a file-scope name would hide it.
        for name in &locals {
            let cname = c_var(name);
            if taken.contains(&cname) {
                g.cnames.insert(name.clone(), format!("{cname}_"));
            }
        }
        let _ = writeln!(g.out, "\n/* line {}: def {}(...) */", def.line, def.name);
        let params: Vec<String> = f.params.iter().map(|(name, _)| format!("V volatile {}", g.var(name))).collect();
        let params = if params.is_empty() { "void".to_string() } else { params.join(", ") };
        let _ = writeln!(g.out, "static V {}({params}) {{", f.cname);
        let params: BTreeSet<&String> = f.params.iter().map(|(n, _)| n).collect();
        let own: Vec<String> = locals.iter().filter(|n| !params.contains(n)).map(|n| g.var(n)).collect();
        if !own.is_empty() {
            let decls: Vec<String> = own.iter().map(|v| format!("{v} = SL_NONE")).collect();
            let _ = writeln!(g.out, "    V volatile {};", decls.join(", "));
        }
        for v in &own {
            let _ = writeln!(g.out, "    (void)({v});");
        }
        g.block(&def.body, 1)?;
        g.out.push_str("    return SL_NONE;\n}\n");
        Ok(g.out)
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.temp += 1;
        format!("_{prefix}{}", self.temp)
    }

    fn line(&mut self, depth: usize, text: &str) {
        let _ = writeln!(self.out, "{}{text}", "    ".repeat(depth));
    }

    fn block(&mut self, body: &[Stmt], depth: usize) -> Result<(), ExportError> {
        for s in body {
            self.stmt(s, depth)?;
        }
        Ok(())
    }

    fn stmt(&mut self, stmt: &Stmt, depth: usize) -> Result<(), ExportError> {
        let line = stmt.line;
        let source = stmt.source.replace("*/", "* /").replace("/*", "/ *");
        self.line(depth, &format!("/* line {line}: {source} */"));
        if let Some(module) = import_beyond_c(&stmt.source) {
            return Err(err(line, format!("the {module} module (it has socket, select, time and errno)")));
        }
        match &stmt.kind {
            StmtKind::Expr(e) => {
                let text = match &e.kind {
                    ExprKind::Call { func, args, kwargs }
                        if self.is_builtin(func, Builtin::Print) =>
                    {
                        self.print_call(args, kwargs, line)?
                    }
                    ExprKind::Call { .. } => self.expr(e)?,
                    _ => format!("(void)({})", self.expr(e)?),
                };
                self.line(depth, &format!("{text};"));
            }
            StmtKind::Assign { targets, value } => {
                if targets.iter().any(|t| matches!(t, Target::Attr { .. })) {
                    return Err(err(line, "attributes of objects (classes)"));
                }
                if let Some(what) = targets.iter().find_map(unexportable) {
                    return Err(err(line, what));
                }
                let value = self.expr(value)?;
                if let [target] = targets.as_slice() {
                    self.assign(target, &value, depth)?;
                } else {
                    let t = self.fresh("t");
                    self.line(depth, &format!("{{ V {t} = {value};"));
                    for target in targets {
                        self.assign(target, &t, depth + 1)?;
                    }
                    self.line(depth, "}");
                }
            }
            StmtKind::AugAssign { target, op, value } => {
                let current = match target {
                    Target::Name(n) => self.var(n),
                    Target::Index { object, index } => {
                        format!("sl_getitem({}, {})", self.expr(object)?, self.expr(index)?)
                    }
                    Target::Unpack(_) | Target::Starred(_) => {
                        return Err(err(line, "augmented assignment to a tuple"));
                    }
                    Target::Slice { .. } => return Err(err(line, "slice assignment")),
                    Target::Attr { .. } => return Err(err(line, "attributes of objects (classes)")),
                };
                let value = format!(
                    "sl_binary({current}, {}, {})",
                    bin_op(*op),
                    self.expr(value)?
                );
                self.assign(target, &value, depth)?;
            }
            StmtKind::Assert { test, message } => {
                let message = match message {
                    Some(m) => self.expr(m)?,
                    None => "NULL".into(),
                };
                let test = self.expr(test)?;
                self.line(
                    depth,
                    &format!(
                        "sl_assert({test}, {message}, {});",
                        c_string(stmt.source.as_bytes())
                    ),
                );
            }
            StmtKind::If { branches, orelse } => {
                for (i, (test, body)) in branches.iter().enumerate() {
                    let test = self.expr(test)?;
                    let head = if i == 0 {
                        format!("if (sl_truthy({test})) {{")
                    } else {
                        format!("}} else if (sl_truthy({test})) {{")
                    };
                    self.line(depth, &head);
                    self.block(body, depth + 1)?;
                }
                if let Some(body) = orelse {
                    self.line(depth, "} else {");
                    self.block(body, depth + 1)?;
                }
                self.line(depth, "}");
            }
            StmtKind::While { orelse: Some(_), .. } | StmtKind::For { orelse: Some(_), .. } => {
                return Err(err(line, "'else' after a loop"));
            }
            StmtKind::While { test, body, .. } => {
                let test = self.expr(test)?;
                self.line(depth, &format!("while (sl_truthy({test})) {{"));
                self.loop_body(body, depth + 1)?;
                self.line(depth, "}");
            }
            StmtKind::For { target, iter, body, .. } => {
                if let Some(what) = unexportable(target) {
                    return Err(err(line, what));
                }
                self.for_loop(target, iter, body, depth, line)?
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally: None,
            } => self.try_block(body, handlers, orelse.as_deref(), depth)?,
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally: Some(finally),
            } => {
                let f = self.fresh("f");
                self.line(
                    depth,
                    &format!(
                        "{{ /* try ... finally */\n{}    sl_handler {f};",
                        "    ".repeat(depth)
                    ),
                );
                self.line(depth + 1, &format!("{f}.outer = sl_top;"));
                self.line(depth + 1, &format!("sl_top = &{f};"));
                self.line(depth + 1, &format!("if (setjmp({f}.jump) == 0) {{"));
                self.tries.push(f.clone());
                self.try_block(body, handlers, orelse.as_deref(), depth + 2)?;
                self.tries.pop();
                self.line(depth + 2, &format!("sl_top = {f}.outer;"));
                self.block(finally, depth + 2)?;
                self.line(depth + 1, "} else {");
                self.block(finally, depth + 2)?;
                self.line(depth + 2, &format!("sl_raise({f}.exc);"));
                self.line(depth + 1, "}");
                self.line(depth, "}");
            }
            StmtKind::With {
                value, name, body, ..
            } => {
                let value = self.expr(value)?;
                let var = match name {
                    Some(n) => self.var(n),
                    None => {
                        let t = self.fresh("w");
                        self.line(depth, &format!("V {t};"));
                        t
                    }
                };
                self.line(depth, &format!("{var} = {value};"));
                self.block(body, depth)?;
                self.line(
                    depth,
                    &format!("sock_close({var}); /* end of the with block */"),
                );
            }
            StmtKind::Break | StmtKind::Continue => {
                // Leaving `try` blocks opened inside the loop: unhook their handlers first.
                if let Some(&open) = self.loops.last()
                    && self.tries.len() > open
                {
                    let h = self.tries[open].clone();
                    self.line(depth, &format!("sl_top = {h}.outer;"));
                }
                self.line(
                    depth,
                    if matches!(stmt.kind, StmtKind::Break) {
                        "break;"
                    } else {
                        "continue;"
                    },
                );
            }
            StmtKind::Pass => self.line(depth, "; /* pass */"),
            StmtKind::Import => self.line(depth, "; /* nothing to import in C */"),
            StmtKind::Def(_) if depth == 1 && !self.in_function => {
                self.line(depth, "; /* a function: defined above the lane */");
            }
            StmtKind::Def(_) => return Err(err(line, "functions defined inside a function or a block")),
            StmtKind::Return(_) if !self.in_function => return Err(err(line, "return outside a function")),
            StmtKind::Return(value) => {
                if self.tries.iter().any(|t| t.starts_with("_f")) {
                    return Err(err(line, "return inside try ... finally"));
                }
                let value = match value {
                    Some(v) => self.expr(v)?,
                    None => "SL_NONE".into(),
                };
                // Leaving the function's `try` blocks: unhook their handlers first.
                match self.tries.first().cloned() {
                    Some(h) => {
                        let r = self.fresh("r");
                        self.line(depth, &format!("{{ V {r} = {value}; sl_top = {h}.outer; return {r}; }}"));
                    }
                    None => self.line(depth, &format!("return {value};")),
                }
            }
            StmtKind::Global(_) => self.line(depth, "; /* global: a file-scope variable */"),
            StmtKind::Nonlocal(_) => return Err(err(line, "nonlocal")),
            StmtKind::Raise { .. } => return Err(err(line, "raise")),
            StmtKind::Del(_) => return Err(err(line, "del")),
            StmtKind::Class(_) => return Err(err(line, "classes")),
        }
        Ok(())
    }

    fn loop_body(&mut self, body: &[Stmt], depth: usize) -> Result<(), ExportError> {
        self.loops.push(self.tries.len());
        let result = self.block(body, depth);
        self.loops.pop();
        result
    }

    fn try_block(
        &mut self,
        body: &[Stmt],
        handlers: &[socklab_lang::Handler],
        orelse: Option<&[Stmt]>,
        depth: usize,
    ) -> Result<(), ExportError> {
        let h = self.fresh("h");
        self.line(
            depth,
            &format!("{{ /* try */\n{}    sl_handler {h};", "    ".repeat(depth)),
        );
        self.line(depth + 1, &format!("{h}.outer = sl_top;"));
        self.line(depth + 1, &format!("sl_top = &{h};"));
        self.line(depth + 1, &format!("if (setjmp({h}.jump) == 0) {{"));
        self.tries.push(h.clone());
        self.block(body, depth + 2)?;
        self.tries.pop();
        self.line(depth + 2, &format!("sl_top = {h}.outer;"));
        if let Some(orelse) = orelse {
            self.block(orelse, depth + 2)?;
        }
        let mut caught_all = false;
        for handler in handlers {
            let test = if handler.classes.is_empty() {
                caught_all = true;
                "1".to_string()
            } else {
                handler
                    .classes
                    .iter()
                    .map(|c| format!("sl_exc_matches({h}.exc, \"{}\")", c.name()))
                    .collect::<Vec<_>>()
                    .join(" || ")
            };
            self.line(
                depth + 1,
                &format!("}} else if ({test}) {{ /* line {}: except */", handler.line),
            );
            if let Some(name) = &handler.name {
                self.line(depth + 2, &format!("{} = {h}.exc;", self.var(name)));
            }
            self.block(&handler.body, depth + 2)?;
        }
        if !caught_all {
            self.line(depth + 1, "} else {");
            self.line(
                depth + 2,
                &format!("sl_raise({h}.exc); /* not ours: pass it on */"),
            );
        }
        self.line(depth + 1, "}");
        self.line(depth, "}");
        Ok(())
    }

    fn for_loop(
        &mut self,
        target: &Target,
        iter: &Expr,
        body: &[Stmt],
        depth: usize,
        line: u32,
    ) -> Result<(), ExportError> {
        if let ExprKind::Call { func, args, kwargs } = &iter.kind
            && self.is_builtin(func, Builtin::Range)
            && kwargs.is_empty()
        {
            let i = self.fresh("i");
            let (start, stop, step) = match args.as_slice() {
                [stop] => ("0".to_string(), self.int_expr(stop)?, 1),
                [start, stop] => (self.int_expr(start)?, self.int_expr(stop)?, 1),
                [start, stop, step] => match step.kind {
                    ExprKind::Int(s) if s != 0 => (self.int_expr(start)?, self.int_expr(stop)?, s),
                    ExprKind::Unary(UnaryOp::Neg, ref x) if matches!(x.kind, ExprKind::Int(s) if s != 0) =>
                    {
                        let ExprKind::Int(s) = x.kind else {
                            unreachable!()
                        };
                        (self.int_expr(start)?, self.int_expr(stop)?, -s)
                    }
                    _ => return Err(err(line, "range() with a step that is not a constant")),
                },
                _ => return Err(err(line, "range() takes 1 to 3 arguments")),
            };
            let cmp = if step > 0 { "<" } else { ">" };
            let stop_var = self.fresh("n");
            self.line(depth, &format!("{{ long long {stop_var} = {stop};"));
            self.line(
                depth,
                &format!(
                    "for (volatile long long {i} = {start}; {i} {cmp} {stop_var}; {i} += {step}) {{"
                ),
            );
            self.assign(target, &format!("sl_int({i})"), depth + 1)?;
            self.loop_body(body, depth + 1)?;
            self.line(depth, "}}");
            return Ok(());
        }
        let seq = self.fresh("s");
        let k = self.fresh("k");
        let value = self.expr(iter)?;
        self.line(depth, &format!("{{ V volatile {seq} = sl_iter({value});"));
        self.line(
            depth,
            &format!("for (volatile size_t {k} = 0; {k} < {seq}->n; {k}++) {{"),
        );
        self.assign(target, &format!("{seq}->items[{k}]"), depth + 1)?;
        self.loop_body(body, depth + 1)?;
        self.line(depth, "}}");
        Ok(())
    }

    fn int_expr(&mut self, e: &Expr) -> Result<String, ExportError> {
        Ok(match e.kind {
            ExprKind::Int(i) => i.to_string(),
            _ => format!("sl_as_int({}, \"range() argument\")", self.expr(e)?),
        })
    }

    fn assign(&mut self, target: &Target, value: &str, depth: usize) -> Result<(), ExportError> {
        match target {
            // Refused by `stmt` with its line before any assignment is printed.
            Target::Attr { .. } => return Err(err(0, "attributes of objects (classes)")),
            // Refused by `stmt` and `for` with their line.
            Target::Starred(_) | Target::Slice { .. } => {
                return Err(err(0, unexportable(target).unwrap_or_default()));
            }
            Target::Name(n) => self.line(depth, &format!("{} = {value};", self.var(n))),
            Target::Index { object, index } => {
                let (o, i) = (self.expr(object)?, self.expr(index)?);
                self.line(depth, &format!("sl_setitem({o}, {i}, {value});"));
            }
            Target::Unpack(targets) => {
                let t = self.fresh("t");
                self.line(
                    depth,
                    &format!("{{ V {t} = sl_unpack({value}, {});", targets.len()),
                );
                for (k, target) in targets.iter().enumerate() {
                    self.assign(target, &format!("{t}->items[{k}]"), depth + 1)?;
                }
                self.line(depth, "}");
            }
        }
        Ok(())
    }

    /// Whether `func` names this builtin (directly or through its module).
    fn is_builtin(&self, func: &Expr, builtin: Builtin) -> bool {
        self.builtin_of(func) == Some(builtin)
    }

    /// The module an expression names: an import's, or a module's name not shadowed.
    fn module_of(&self, e: &Expr) -> Option<Module> {
        match &e.kind {
            ExprKind::Module(m) => Some(*m),
            ExprKind::Name(n) if !self.vars.contains(n) => Module::from_name(n),
            _ => None,
        }
    }

    fn builtin_of(&self, func: &Expr) -> Option<Builtin> {
        match &func.kind {
            ExprKind::Name(n) if !self.vars.contains(n) => match global(n) {
                Some(Global::Builtin(b)) => Some(b),
                _ => None,
            },
            // `socket` is a builtin and a module: `socket.socket(…)` is the call.
            ExprKind::Attr(object, name) => self.module_of(object).and_then(|_| Builtin::from_name(name)),
            _ => None,
        }
    }

    fn print_call(
        &mut self,
        args: &[Expr],
        kwargs: &[(String, Expr)],
        line: u32,
    ) -> Result<String, ExportError> {
        if !kwargs.is_empty() {
            return Err(err(line, "print() with keyword arguments (sep=, end=)"));
        }
        if args.is_empty() {
            return Ok("SL_PRINT(sl_str(\"\", 0))".into());
        }
        let args = args
            .iter()
            .map(|a| self.expr(a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(format!("SL_PRINT({})", args.join(", ")))
    }

    fn expr(&mut self, e: &Expr) -> Result<String, ExportError> {
        let line = e.line;
        Ok(match &e.kind {
            ExprKind::None
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bytes(_) => literal(e).unwrap_or_default(),
            ExprKind::Name(n) => self.name(n, line)?,
            ExprKind::Module(m) => return Err(err(line, format!("the module {} used as a value", m.name()))),
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                let kind = if matches!(e.kind, ExprKind::Tuple(_)) {
                    "TUPLE"
                } else {
                    "LIST"
                };
                if items.is_empty() {
                    if kind == "TUPLE" {
                        "sl_seq(T_TUPLE, 0, NULL)".into()
                    } else {
                        "SL_EMPTY_LIST()".into()
                    }
                } else {
                    let items = items
                        .iter()
                        .map(|i| self.expr(i))
                        .collect::<Result<Vec<_>, _>>()?;
                    format!("SL_{kind}({})", items.join(", "))
                }
            }
            ExprKind::Unary(op, x) => {
                let x = self.expr(x)?;
                match op {
                    UnaryOp::Not => format!("sl_not({x})"),
                    UnaryOp::Neg => format!("sl_neg({x})"),
                    UnaryOp::Pos => x,
                    UnaryOp::Invert => format!("sl_binary(sl_int(-1), SL_XOR, {x})"),
                }
            }
            ExprKind::FString(_) => {
                return Err(err(line, "f-strings are not supported by the C export"));
            }
            ExprKind::Binary(BinOp::Mod, a, _)
                if matches!(
                    a.kind,
                    ExprKind::Str(_) | ExprKind::Bytes(_) | ExprKind::FString(_)
                ) =>
            {
                return Err(err(
                    line,
                    "'%' string formatting is not supported by the C export",
                ));
            }
            ExprKind::Binary(op, a, b) => format!(
                "sl_binary({}, {}, {})",
                self.expr(a)?,
                bin_op(*op),
                self.expr(b)?
            ),
            ExprKind::Compare(first, rest) => {
                let mut left = self.expr(first)?;
                let mut parts = Vec::new();
                for (i, (op, right)) in rest.iter().enumerate() {
                    let right = self.expr(right)?;
                    if i + 1 == rest.len() {
                        parts.push(format!("sl_compare({left}, {}, {right})", cmp_op(*op)));
                    } else {
                        // `a < b < c`: b is evaluated once.
                        let t = self.fresh("t");
                        parts.push(format!(
                            "({{ V {t} = {right}; sl_compare({left}, {}, {t}); }})",
                            cmp_op(*op)
                        ));
                        left = t;
                    }
                }
                if parts.len() == 1 {
                    parts.remove(0)
                } else {
                    let tests: Vec<String> =
                        parts.iter().map(|p| format!("sl_truthy({p})")).collect();
                    format!("sl_bool({})", tests.join(" && "))
                }
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let t = self.fresh("t");
                let (a, b) = (self.expr(a)?, self.expr(b)?);
                if matches!(e.kind, ExprKind::And(..)) {
                    format!("({{ V {t} = {a}; sl_truthy({t}) ? {b} : {t}; }})")
                } else {
                    format!("({{ V {t} = {a}; sl_truthy({t}) ? {t} : {b}; }})")
                }
            }
            ExprKind::Named(..) => return Err(err(line, "assignment expressions (:=)")),
            ExprKind::IfElse { test, body, orelse } => {
                format!(
                    "(sl_truthy({}) ? {} : {})",
                    self.expr(test)?,
                    self.expr(body)?,
                    self.expr(orelse)?
                )
            }
            ExprKind::Attr(object, name) => {
                if let Some(module) = self.module_of(object) {
                    return self.module_attr(module, name, line);
                }
                format!("sl_getattr({}, \"{name}\")", self.expr(object)?)
            }
            ExprKind::Call { func, args, kwargs } => self.call(func, args, kwargs, line)?,
            ExprKind::Index(x, i) => format!("sl_getitem({}, {})", self.expr(x)?, self.expr(i)?),
            ExprKind::Slice { step: Some(_), .. } => {
                return Err(err(line, "slices with a step (x[a:b:c])"));
            }
            ExprKind::Slice {
                object,
                lower,
                upper,
                step: None,
            } => {
                let mut bound = |x: &Option<Box<Expr>>| -> Result<String, ExportError> {
                    x.as_ref().map_or(Ok("NULL".to_string()), |x| self.expr(x))
                };
                let (lo, hi) = (bound(lower)?, bound(upper)?);
                format!("sl_slice({}, {lo}, {hi})", self.expr(object)?)
            }
            ExprKind::Lambda(_) => return Err(err(line, "lambda")),
            ExprKind::Dict(_) => return Err(err(line, "dicts")),
            ExprKind::Set(_) => return Err(err(line, "sets")),
            ExprKind::Comp { .. } => return Err(err(line, "comprehensions")),
            ExprKind::Star(_) | ExprKind::DoubleStar(_) => {
                return Err(err(line, "'*' and '**' arguments"));
            }
            ExprKind::Yield(_) | ExprKind::YieldFrom(_) => return Err(err(line, "generators (yield)")),
            ExprKind::BigInt(..) => return Err(err(line, "integers past 64 bits")),
        })
    }

    fn name(&self, n: &str, line: u32) -> Result<String, ExportError> {
        if self.functions.contains_key(n) {
            return Err(err(line, format!("the function {n} used as a value (only called)")));
        }
        if self.vars.contains(n) {
            return Ok(self.var(n));
        }
        match global(n) {
            Some(Global::Const(_)) => Ok(format!("sl_int({n})")),
            Some(Global::Builtin(b)) => Err(err(line, format!("{}() used as a value", b.name()))),
            Some(Global::Module(m)) => Err(err(
                line,
                format!("the module {} used as a value", m.name()),
            )),
            Some(Global::LibFn(f)) => Err(err(line, format!("socket.{}()", f.short_name()))),
            None => Err(err(line, format!("unknown name {n}"))),
        }
    }

    fn module_attr(&self, module: Module, name: &str, line: u32) -> Result<String, ExportError> {
        match global(name) {
            Some(Global::Const(_)) => Ok(format!("sl_int({name})")),
            _ => Err(err(
                line,
                format!("{}.{name} used as a value", module.name()),
            )),
        }
    }

    fn call(
        &mut self,
        func: &Expr,
        args: &[Expr],
        kwargs: &[(String, Expr)],
        line: u32,
    ) -> Result<String, ExportError> {
        if let Some(builtin) = self.builtin_of(func) {
            return self.builtin_call(builtin, args, kwargs, line);
        }
        if let ExprKind::Name(n) = &func.kind
            && let Some(f) = self.functions.get(n)
        {
            let (cname, params) = (f.cname.clone(), f.params.clone());
            return self.function_call(n, &cname, &params, args, kwargs, line);
        }
        let ExprKind::Attr(object, method) = &func.kind else {
            return Err(err(
                line,
                "calling something that is not a builtin or a method",
            ));
        };
        if let Some(module) = self.module_of(object) {
            // struct, json, random, …: no C counterpart in the runtime.
            return Err(err(
                line,
                format!("{}.{method}() is not supported by the C export", module.name()),
            ));
        }
        if !kwargs.is_empty() {
            return Err(err(line, format!("{method}() with keyword arguments")));
        }
        let object = self.expr(object)?;
        let mut values = args
            .iter()
            .map(|a| self.expr(a))
            .collect::<Result<Vec<_>, _>>()?;
        // encode()/decode(): UTF-8 is the only encoding; both ways the bytes stay as they are.
        if method == "encode" || method == "decode" {
            let utf8 = args.iter().all(|a| matches!(&a.kind, ExprKind::Str(s) if matches!(s.to_ascii_lowercase().as_str(), "utf-8" | "utf8" | "ascii")));
            if !utf8 {
                return Err(err(
                    line,
                    format!("{method}() with an encoding other than UTF-8"),
                ));
            }
            return Ok(format!("sl_m_{method}({object})"));
        }
        let spelled = match Op::from_name(method).filter(|op| op.is_method()) {
            Some(op) => c_spelling(op).map(|(function, least, most, _)| (function, least, most)),
            None => VALUE_METHODS
                .iter()
                .find(|(name, ..)| name == method)
                .map(|&(_, function, least, most)| (function, least, most)),
        };
        let Some((function, least, most)) = spelled else {
            return Err(err(
                line,
                format!(".{method}() is not supported by the C export"),
            ));
        };
        if values.len() < least || values.len() > most {
            return Err(err(
                line,
                format!(".{method}() with {} arguments", values.len()),
            ));
        }
        while values.len() < most {
            values.push("NULL".into());
        }
        values.insert(0, object);
        Ok(format!("{function}({})", values.join(", ")))
    }

    /// A call of a script function: arguments by position, then by name, then the defaults.
    fn function_call(
        &mut self,
        name: &str,
        cname: &str,
        params: &[(String, Option<String>)],
        args: &[Expr],
        kwargs: &[(String, Expr)],
        line: u32,
    ) -> Result<String, ExportError> {
        if args.len() > params.len() {
            return Err(err(line, format!("{name}() with {} arguments (it takes {})", args.len(), params.len())));
        }
        let mut values: Vec<Option<String>> = Vec::new();
        for a in args {
            values.push(Some(self.expr(a)?));
        }
        values.resize(params.len(), None);
        for (key, value) in kwargs {
            let Some(pos) = params.iter().position(|(p, _)| p == key) else {
                return Err(err(line, format!("{name}() with the argument {key}=")));
            };
            if values[pos].is_some() {
                return Err(err(line, format!("{name}() with {key} given twice")));
            }
            values[pos] = Some(self.expr(value)?);
        }
        let mut c_args = Vec::new();
        for (value, (param, default)) in values.into_iter().zip(params) {
            match value.or_else(|| default.clone()) {
                Some(v) => c_args.push(v),
                None => return Err(err(line, format!("{name}() without its argument {param}"))),
            }
        }
        Ok(format!("{cname}({})", c_args.join(", ")))
    }

    fn builtin_call(
        &mut self,
        builtin: Builtin,
        args: &[Expr],
        kwargs: &[(String, Expr)],
        line: u32,
    ) -> Result<String, ExportError> {
        if builtin == Builtin::Print {
            let call = self.print_call(args, kwargs, line)?;
            return Ok(format!("({call}, SL_NONE)"));
        }
        let not_supported = || {
            Err(err(
                line,
                format!("{}() is not supported by the C export", builtin.name()),
            ))
        };
        let (name, least, most, params): (&str, usize, usize, &[&str]) = match builtin {
            Builtin::Socket
            | Builtin::Select
            | Builtin::Sleep
            | Builtin::LabPeer
            | Builtin::LabLink
            | Builtin::Gethostbyname => match builtin.op().and_then(c_spelling) {
                Some(spelled) => spelled,
                None => return not_supported(),
            },
            Builtin::Time => ("sl_time", 0, 0, &[]),
            Builtin::IcmpEchoRequest => {
                ("sl_icmp_echo_request", 2, 3, &["ident", "seq", "payload"])
            }
            Builtin::IcmpParse => ("sl_icmp_parse", 1, 1, &["data"]),
            Builtin::Checksum => ("sl_checksum", 1, 1, &["data"]),
            Builtin::Len => ("sl_len", 1, 1, &[]),
            Builtin::Str => ("sl_str_of", 1, 1, &[]),
            Builtin::Repr => ("sl_repr", 1, 1, &[]),
            Builtin::Int => ("sl_int_of", 1, 2, &["x", "base"]),
            Builtin::Hex => ("sl_hex", 1, 1, &[]),
            Builtin::Bool => {
                let [x] = args else {
                    return Err(err(line, "bool() takes one argument"));
                };
                return Ok(format!("sl_bool(sl_truthy({}))", self.expr(x)?));
            }
            Builtin::Range => return Err(err(line, "range() outside a for loop")),
            Builtin::Print
            | Builtin::Input
            | Builtin::Socketpair
            | Builtin::CreateConnection
            | Builtin::CreateServer
            | Builtin::HasDualstackIpv6
            | Builtin::Getaddrinfo
            | Builtin::AddressFamily
            | Builtin::SocketKind
            | Builtin::Float
            | Builtin::Bytes
            | Builtin::List
            | Builtin::Tuple
            | Builtin::Abs
            | Builtin::Min
            | Builtin::Max
            | Builtin::Sum
            | Builtin::Ord
            | Builtin::Chr
            | Builtin::Format
            | Builtin::Dict
            | Builtin::Set
            | Builtin::Sorted
            | Builtin::Enumerate
            | Builtin::Next
            | Builtin::Iter
            | Builtin::Memoryview
            | Builtin::Zip
            | Builtin::Reversed
            | Builtin::Any
            | Builtin::All
            | Builtin::Map
            | Builtin::Filter
            | Builtin::Round
            | Builtin::Divmod
            | Builtin::Pow
            | Builtin::Oct
            | Builtin::Bin
            | Builtin::Isinstance
            | Builtin::Type
            | Builtin::Getattr
            | Builtin::Hasattr
            | Builtin::Setattr
            | Builtin::Delattr
            | Builtin::Hash
            | Builtin::Id
            | Builtin::Callable
            | Builtin::Slice
            | Builtin::Frozenset
            | Builtin::Vars
            | Builtin::Bytearray => return not_supported(),
        };
        let mut values: Vec<Option<String>> = Vec::new();
        for a in args {
            values.push(Some(self.expr(a)?));
        }
        for (key, value) in kwargs {
            let Some(pos) = params.iter().position(|p| p == key) else {
                return Err(err(
                    line,
                    format!("{}() has no argument {key}=", builtin.name()),
                ));
            };
            if values.len() <= pos {
                values.resize(pos + 1, None);
            }
            values[pos] = Some(self.expr(value)?);
        }
        if values.len() < least
            || values.len() > most
            || values[..least].iter().any(Option::is_none)
        {
            return Err(err(
                line,
                format!("{}() with {} arguments", builtin.name(), values.len()),
            ));
        }
        values.resize(most, None);
        let values: Vec<String> = values
            .into_iter()
            .map(|v| v.unwrap_or_else(|| "NULL".into()))
            .collect();
        Ok(format!("{name}({})", values.join(", ")))
    }
}

fn bin_op(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "SL_ADD",
        BinOp::Sub => "SL_SUB",
        BinOp::Mul => "SL_MUL",
        BinOp::Div => "SL_DIV",
        BinOp::FloorDiv => "SL_FLOORDIV",
        BinOp::Mod => "SL_MOD",
        BinOp::Pow => "SL_POW",
        BinOp::BitAnd => "SL_AND",
        BinOp::BitOr => "SL_OR",
        BinOp::BitXor => "SL_XOR",
        BinOp::Shl => "SL_SHL",
        BinOp::Shr => "SL_SHR",
    }
}

fn cmp_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "SL_EQ",
        CmpOp::Ne => "SL_NE",
        CmpOp::Lt => "SL_LT",
        CmpOp::Le => "SL_LE",
        CmpOp::Gt => "SL_GT",
        CmpOp::Ge => "SL_GE",
        CmpOp::In => "SL_IN",
        CmpOp::NotIn => "SL_NOT_IN",
        CmpOp::Is => "SL_IS",
        CmpOp::IsNot => "SL_IS_NOT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_strings_escape_everything_unsafe() {
        assert_eq!(c_string(b"\0socklab"), "\"\\000socklab\"");
        assert_eq!(c_string(b"a\"b\\?\r\n"), "\"a\\\"b\\\\\\?\\r\\n\"");
    }

    #[test]
    fn unsupported_constructs_are_errors_with_a_line() {
        let parsed = socklab_lang::parse("x = [1, 2]\ny = x[::2]\n");
        let e = c(&parsed.script).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("step"), "{e}");
        let parsed = socklab_lang::parse("print(1, end=\"\")\n");
        assert!(c(&parsed.script).is_err());
        for (src, what) in [
            ("x = 1\ny = f\"{x}\"\n", "f-strings"),
            ("x = 1\ny = \"%d\" % x\n", "'%' string formatting"),
            ("x = 1\ny = \"{}\".format(x)\n", ".format()"),
            ("x = 1\ny = format(x, \"x\")\n", "format()"),
            ("x = 1\ny = [i for i in x]\n", "comprehensions"),
            ("x = 1\ny = struct.pack(\"!I\", x)\n", "struct.pack"),
            ("x = 1\ny = sorted(x)\n", "sorted()"),
        ] {
            let e = c(&socklab_lang::parse(src).script).unwrap_err();
            assert_eq!(e.line, 2, "{src}");
            assert!(e.to_string().contains(what), "{src}: {e}");
        }
    }
}
