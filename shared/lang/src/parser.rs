//! Recursive-descent parser from tokens to the [`Script`] tree.
//!
//! It never fails and never panics: each error becomes a [`Diagnostic`] and the
//! parser skips to the end of the logical line (and past any block hanging off
//! it), so one run reports as many independent errors as it can.

use super::Diagnostic;
use super::ast::*;
use super::lexer;
use super::names::{ExcClass, Module};
use super::token::{FTok, Pos, Token, TokenKind, is_keyword};

/// Keywords that start a statement this language does not have.
const UNSUPPORTED: &[&str] = &["async", "await"];

/// The parser gave up on the current statement; the diagnostic is already recorded.
struct Fail;

type PResult<T> = Result<T, Fail>;

/// How deeply expressions and blocks may nest. Deeper input is surely not a
/// socket lesson, and the limit keeps recursion far from the stack's end
/// (wasm's stack is small).
const MAX_DEPTH: u32 = 50;

/// Operators in one chain (`1 + 1 + …`, `a.b.c…`, `f()()…`): each makes the
/// tree one level deeper, and every walk over it recurses. CPython stops
/// such an expression too ("maximum recursion depth exceeded during
/// compilation").
const MAX_CHAIN: usize = 1000;

/// Keyword arguments of a call, in order.
type Keywords = Vec<(String, Expr)>;

/// One item of a `with` header: the manager, the `as` name, the exit's source text.
type WithItem = (Expr, Option<String>, String);

pub fn parse_tokens(src: &str, tokens: Vec<Token>) -> (Script, Vec<Diagnostic>) {
    let mut parser = Parser {
        src,
        tokens,
        i: 0,
        diagnostics: Vec::new(),
        loop_depth: 0,
        depth: 0,
        func_depth: 0,
        from_imported: std::collections::HashSet::new(),
    };
    let script = parser.script();
    (script, parser.diagnostics)
}

struct Parser<'a> {
    src: &'a str,
    /// Module names that `from M import M` bound to something else.
    from_imported: std::collections::HashSet<String>,
    /// Always ends with an `Eof` token.
    tokens: Vec<Token>,
    i: usize,
    diagnostics: Vec<Diagnostic>,
    /// How many loops enclose the statement being parsed, for `break`/`continue`.
    loop_depth: u32,
    /// Current nesting of expressions and blocks, against [`MAX_DEPTH`].
    depth: u32,
    /// How many `def`s enclose the statement being parsed, for `return`/`nonlocal`.
    func_depth: u32,
}

impl Parser<'_> {
    // ---- token helpers ----

    fn peek(&self) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.i.min(last)]
    }

    fn peek_kind(&self) -> &TokenKind {
        &self.peek().kind
    }

    fn peek_at(&self, n: usize) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[(self.i + n).min(last)]
    }

    fn advance(&mut self) -> Token {
        let tok = self.peek().clone();
        if !matches!(tok.kind, TokenKind::Eof) {
            self.i += 1;
        }
        tok
    }

    fn prev(&self) -> Option<&Token> {
        self.i.checked_sub(1).and_then(|i| self.tokens.get(i))
    }

    fn at_op(&self, op: &str) -> bool {
        self.peek().is_op(op)
    }

    fn at_keyword(&self, kw: &str) -> bool {
        self.peek().is_name(kw)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if self.at_op(op) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        if self.at_keyword(kw) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn error_at(&mut self, pos: Pos, message: impl Into<String>) -> Fail {
        self.diagnostics.push(Diagnostic {
            line: pos.line,
            col: pos.col,
            message: message.into(),
        });
        Fail
    }

    /// "expected X, found Y" at the current token.
    fn expected(&mut self, what: &str) -> Fail {
        let tok = self.peek().clone();
        let pos = self.report_pos();
        if pos == tok.pos {
            self.error_at(pos, format!("expected {what}, found {}", tok.describe()))
        } else {
            self.error_at(pos, format!("expected {what}"))
        }
    }

    /// Where to report something missing: at the current token if it is on the
    /// same line as the previous one, else just after the previous token (the
    /// missing thing belongs at the end of that line).
    fn report_pos(&self) -> Pos {
        let tok = self.peek();
        match self.prev() {
            Some(prev)
                if prev.pos.line < tok.pos.line
                    || matches!(tok.kind, TokenKind::Eof | TokenKind::Newline) =>
            {
                if matches!(
                    prev.kind,
                    TokenKind::Newline | TokenKind::Indent | TokenKind::Dedent
                ) {
                    return tok.pos;
                }
                let text = self.src.get(prev.start..prev.end).unwrap_or("");
                let last_line = text.rsplit('\n').next().unwrap_or("");
                let col = if text.contains('\n') { 1 } else { prev.pos.col };
                let line = prev.pos.line + text.matches('\n').count() as u32;
                Pos {
                    line,
                    col: col + last_line.chars().count() as u32,
                }
            }
            _ => tok.pos,
        }
    }

    fn expect_op(&mut self, op: &str, what: &str) -> PResult<Token> {
        if self.at_op(op) {
            Ok(self.advance())
        } else {
            Err(self.expected(what))
        }
    }

    fn expect_close(&mut self, close: &str, open: &Token) -> PResult<()> {
        if self.eat_op(close) {
            return Ok(());
        }
        let open_text = match &open.kind {
            TokenKind::Op(o) => *o,
            _ => "(",
        };
        let what = format!("'{close}' to close '{open_text}' opened at {}", open.pos);
        Err(self.expected(&what))
    }

    fn expect_name(&mut self, what: &str) -> PResult<String> {
        match self.peek_kind().clone() {
            TokenKind::Name(n) if !is_keyword(&n) => {
                self.advance();
                Ok(n)
            }
            _ => Err(self.expected(what)),
        }
    }

    /// Source text from byte `start` to the end of the last consumed token,
    /// trimmed, with line breaks inside brackets folded to single spaces.
    fn source_from(&self, start: usize) -> String {
        let end = self.prev().map_or(start, |t| t.end).max(start);
        let text = self.src.get(start..end).unwrap_or("").trim();
        if !text.contains(['\n', '\r']) {
            return text.to_string();
        }
        text.split(['\n', '\r'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Skips to the end of the logical line, and past a block that hangs off it.
    fn synchronize(&mut self) {
        loop {
            match self.peek_kind() {
                TokenKind::Eof | TokenKind::LaneHeader(_) => return,
                TokenKind::Newline => {
                    self.advance();
                    break;
                }
                TokenKind::Dedent if self.prev().is_some_and(|p| p.kind == TokenKind::Newline) => {
                    return;
                }
                _ => {
                    self.advance();
                }
            }
        }
        if matches!(self.peek_kind(), TokenKind::Indent) {
            self.skip_block();
        }
    }

    /// Skips an indented block (current token is its Indent), nested blocks included.
    fn skip_block(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek_kind() {
                TokenKind::Eof | TokenKind::LaneHeader(_) => return,
                TokenKind::Indent => depth += 1,
                TokenKind::Dedent => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.advance();
                        return;
                    }
                }
                _ => {}
            }
            self.advance();
        }
    }

    /// Runs `f` one nesting level deeper, or reports that input nests too deeply.
    /// One more operator in a chain, against [`MAX_CHAIN`].
    fn chained(&mut self, links: usize) -> PResult<usize> {
        if links >= MAX_CHAIN {
            let pos = self.peek().pos;
            return Err(self.error_at(pos, format!("expression too long: more than {MAX_CHAIN} operators in a row")));
        }
        Ok(links + 1)
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            let pos = self.peek().pos;
            return Err(self.error_at(pos, "nested too deeply"));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    // ---- script and lanes ----

    fn script(&mut self) -> Script {
        let mut lanes: Vec<Lane> = Vec::new();
        let mut current = Lane {
            name: "main".into(),
            line: 1,
            host: None,
            body: Vec::new(),
        };
        let mut seen_header = false;
        loop {
            match self.peek_kind().clone() {
                TokenKind::Eof => break,
                TokenKind::LaneHeader(header) => {
                    let tok = self.advance();
                    let (name, host) = crate::lexer::split_lane_header(&header);
                    let (name, host) = (name.to_owned(), host.map(str::to_owned));
                    if seen_header || !current.body.is_empty() {
                        lanes.push(std::mem::replace(
                            &mut current,
                            Lane {
                                name: String::new(),
                                line: 0,
                                host: None,
                                body: Vec::new(),
                            },
                        ));
                    }
                    seen_header = true;
                    if let Some(first) = lanes.iter().find(|l| l.name == name) {
                        let msg = format!(
                            "lane '{name}' is defined twice (first at line {})",
                            first.line
                        );
                        self.error_at(tok.pos, msg);
                    }
                    current = Lane {
                        name,
                        line: tok.pos.line,
                        host,
                        body: Vec::new(),
                    };
                }
                TokenKind::Newline | TokenKind::Dedent => {
                    self.advance();
                }
                TokenKind::Indent => {
                    let pos = self.peek().pos;
                    self.error_at(pos, "unexpected indent");
                    self.skip_block();
                }
                _ => {
                    let mut stmts = self.statement();
                    current.body.append(&mut stmts);
                }
            }
        }
        lanes.push(current);
        for lane in &lanes {
            super::check::check_names(lane, &mut self.diagnostics);
        }
        Script { lanes, lines: self.src.lines().map(str::to_string).collect() }
    }

    /// One statement (or several `;`-separated simple ones). Empty on error.
    fn statement(&mut self) -> Vec<Stmt> {
        match self.statement_inner() {
            Ok(stmts) => stmts,
            Err(Fail) => {
                self.synchronize();
                Vec::new()
            }
        }
    }

    fn statement_inner(&mut self) -> PResult<Vec<Stmt>> {
        let tok = self.peek().clone();
        if self.at_op("@") {
            return self.decorated().map(|s| vec![s]);
        }
        if let TokenKind::Name(word) = &tok.kind {
            match word.as_str() {
                "if" => return self.if_stmt().map(|s| vec![s]),
                "while" => return self.while_stmt().map(|s| vec![s]),
                "for" => return self.for_stmt().map(|s| vec![s]),
                "try" => return self.try_stmt().map(|s| vec![s]),
                "with" => return self.with_stmt().map(|s| vec![s]),
                "def" => return self.def_stmt().map(|s| vec![s]),
                "class" => return self.class_stmt().map(|s| vec![s]),
                "elif" | "else" | "except" | "finally" => {
                    let opener = if matches!(word.as_str(), "elif" | "else") {
                        "if"
                    } else {
                        "try"
                    };
                    let msg = format!(
                        "'{word}' without a matching '{opener}' above it at the same indentation"
                    );
                    return Err(self.error_at(tok.pos, msg));
                }
                w if UNSUPPORTED.contains(&w) => {
                    return Err(self.error_at(
                        tok.pos,
                        format!("'{w}' is not supported in socklab scripts"),
                    ));
                }
                _ => {}
            }
        }
        let stmts = self.simple_statements()?;
        Ok(stmts)
    }

    /// `a; b; c` then end of line.
    fn simple_statements(&mut self) -> PResult<Vec<Stmt>> {
        let mut stmts = vec![self.simple_statement()?];
        while self.eat_op(";") {
            if matches!(self.peek_kind(), TokenKind::Newline | TokenKind::Eof) {
                break;
            }
            stmts.push(self.simple_statement()?);
        }
        match self.peek_kind() {
            TokenKind::Newline => {
                self.advance();
                Ok(stmts)
            }
            TokenKind::Eof | TokenKind::Dedent | TokenKind::LaneHeader(_) => Ok(stmts),
            _ => Err(self.expected("end of statement")),
        }
    }

    fn simple_statement(&mut self) -> PResult<Stmt> {
        let tok = self.peek().clone();
        let start = tok.start;
        let line = tok.pos.line;
        let kind = match &tok.kind {
            TokenKind::Name(w) if w == "pass" => {
                self.advance();
                StmtKind::Pass
            }
            TokenKind::Name(w) if w == "break" || w == "continue" => {
                self.advance();
                if self.loop_depth == 0 {
                    return Err(self.error_at(tok.pos, format!("'{w}' outside loop")));
                }
                if w == "break" {
                    StmtKind::Break
                } else {
                    StmtKind::Continue
                }
            }
            TokenKind::Name(w) if w == "assert" => {
                self.advance();
                let test = self.test()?;
                let message = if self.eat_op(",") {
                    Some(self.test()?)
                } else {
                    None
                };
                StmtKind::Assert { test, message }
            }
            TokenKind::Name(w) if w == "import" || w == "from" => self.import()?,
            TokenKind::Name(w) if w == "return" => {
                self.advance();
                if self.func_depth == 0 {
                    return Err(self.error_at(tok.pos, "'return' outside function"));
                }
                let value = if self.starts_expression() {
                    Some(self.expr_list()?)
                } else {
                    None
                };
                StmtKind::Return(value)
            }
            TokenKind::Name(w) if w == "raise" => {
                self.advance();
                let mut exc = None;
                let mut cause = None;
                if self.starts_expression() {
                    exc = Some(self.test()?);
                    if self.eat_keyword("from") {
                        cause = Some(self.test()?);
                    }
                }
                StmtKind::Raise { exc, cause }
            }
            TokenKind::Name(w) if w == "global" || w == "nonlocal" => {
                self.advance();
                if w == "nonlocal" && self.func_depth == 0 {
                    return Err(self.error_at(
                        tok.pos,
                        "nonlocal declaration not allowed at module level",
                    ));
                }
                let mut names = vec![self.expect_name("a name")?];
                while self.eat_op(",") {
                    names.push(self.expect_name("a name")?);
                }
                if w == "global" {
                    StmtKind::Global(names)
                } else {
                    StmtKind::Nonlocal(names)
                }
            }
            TokenKind::Name(w) if w == "del" => {
                self.advance();
                let mut targets = Vec::new();
                loop {
                    let e = self.bitor()?;
                    if matches!(e.kind, ExprKind::Tuple(_) | ExprKind::List(_)) {
                        let pos = Pos { line: e.line, col: e.col };
                        return Err(self.error_at(pos, "'del' takes names and x[i] items one by one in socklab scripts"));
                    }
                    targets.push(self.target(e)?);
                    if !self.eat_op(",") || !self.starts_expression() {
                        break;
                    }
                }
                StmtKind::Del(targets)
            }
            TokenKind::Name(w) if UNSUPPORTED.contains(&w.as_str()) => {
                return Err(self.error_at(
                    tok.pos,
                    format!("'{w}' is not supported in socklab scripts"),
                ));
            }
            _ => self.expr_statement()?,
        };
        let (end_line, end_col) = self.last_end(tok.pos);
        Ok(Stmt {
            line,
            source: self.source_from(start),
            span: Some([tok.pos.line, tok.pos.col, end_line, end_col]),
            kind,
        })
    }

    fn import(&mut self) -> PResult<StmtKind> {
        let from = self.advance().is_name("from");
        // Names the statement binds, as (name, value): `import struct as s`,
        // `from struct import pack`. The statement becomes an assignment of them.
        let mut bindings: Vec<(String, Expr)> = Vec::new();
        let mut from_module: Option<(Module, Pos)>;
        loop {
            let pos = self.peek().pos;
            let mut module = self.expect_name("a module name")?;
            // `import os.path`: a dotted name is one module.
            while self.eat_op(".") {
                module.push('.');
                module.push_str(&self.expect_name("a module name after '.'")?);
            }
            let Some(m) = Module::from_name(&module) else {
                let top = module.split('.').next().unwrap_or(&module);
                let msg = match instead_of(&module).or_else(|| instead_of(top)) {
                    Some(hint) => format!("module '{module}' is not available in socklab scripts: {hint}"),
                    None => format!(
                        "module '{module}' is not available: socklab scripts have {} built in",
                        module_list()
                    ),
                };
                return Err(self.error_at(pos, msg));
            };
            if !from && self.eat_keyword("as") {
                let alias = self.expect_name("a name after 'as'")?;
                bindings.push((alias, self.mk(pos, ExprKind::Module(m))));
            } else if !from && !module.contains('.') && self.from_imported.contains(&module) {
                // `from M import M` bound the name: `import M` binds the module again.
                bindings.push((module.clone(), self.mk(pos, ExprKind::Module(m))));
            }
            from_module = Some((m, pos));
            if from || !self.eat_op(",") {
                break;
            }
        }
        if from {
            if !self.eat_keyword("import") {
                return Err(self.expected("'import'"));
            }
            if !self.eat_op("*") {
                let paren = self.eat_op("(");
                loop {
                    let pos = self.peek().pos;
                    let name = self.expect_name("a name to import")?;
                    let alias = if self.eat_keyword("as") {
                        Some(self.expect_name("a name after 'as'")?)
                    } else {
                        None
                    };
                    if let Some((m, mpos)) = from_module {
                        // The socket modules' names are builtins already: binding
                        // them again would change nothing.
                        let builtin = matches!(
                            m,
                            Module::Socket | Module::Select | Module::Time | Module::Errno
                        ) && crate::names::global(&name).is_some();
                        if alias.as_ref().is_some_and(|a| a != &name) || !builtin {
                            let object = self.mk(mpos, ExprKind::Module(m));
                            let value = self.mk(pos, ExprKind::Attr(Box::new(object), name.clone()));
                            let bound = alias.unwrap_or(name);
                            if Module::from_name(&bound).is_some() {
                                self.from_imported.insert(bound.clone());
                            }
                            bindings.push((bound, value));
                        }
                    }
                    if !self.eat_op(",") {
                        break;
                    }
                    if paren && self.at_op(")") {
                        break;
                    }
                }
                if paren {
                    self.expect_op(")", "')'")?;
                }
            }
        }
        Ok(match bindings.len() {
            0 => StmtKind::Import,
            1 => {
                let (name, value) = bindings.remove(0);
                StmtKind::Assign {
                    targets: vec![Target::Name(name)],
                    value,
                }
            }
            _ => {
                let (line, col) = (bindings[0].1.line, bindings[0].1.col);
                let (names, values): (Vec<_>, Vec<_>) = bindings.into_iter().unzip();
                StmtKind::Assign {
                    targets: vec![Target::Unpack(names.into_iter().map(Target::Name).collect())],
                    value: Expr {
                        line,
                        col,
                        end_line: line,
                        end_col: col,
                        kind: ExprKind::Tuple(values),
                    },
                }
            }
        })
    }

    fn expr_statement(&mut self) -> PResult<StmtKind> {
        let first = self.yield_or_list()?;
        if let Some(op) = self.aug_op() {
            let tok = self.advance();
            let target = self.aug_target(first, tok.pos)?;
            let value = self.expr_list()?;
            return Ok(StmtKind::AugAssign { target, op, value });
        }
        if !self.at_op("=") {
            return Ok(StmtKind::Expr(first));
        }
        let mut exprs = vec![first];
        while self.eat_op("=") {
            exprs.push(self.yield_or_list()?);
        }
        let value = exprs.pop().ok_or(Fail)?;
        let mut targets = Vec::new();
        for e in exprs {
            targets.push(self.target(e)?);
        }
        Ok(StmtKind::Assign { targets, value })
    }

    fn aug_op(&self) -> Option<BinOp> {
        let TokenKind::Op(op) = self.peek_kind() else {
            return None;
        };
        Some(match *op {
            "+=" => BinOp::Add,
            "-=" => BinOp::Sub,
            "*=" => BinOp::Mul,
            "/=" => BinOp::Div,
            "//=" => BinOp::FloorDiv,
            "%=" => BinOp::Mod,
            "**=" => BinOp::Pow,
            "&=" => BinOp::BitAnd,
            "|=" => BinOp::BitOr,
            "^=" => BinOp::BitXor,
            "<<=" => BinOp::Shl,
            ">>=" => BinOp::Shr,
            _ => return None,
        })
    }

    fn target(&mut self, e: Expr) -> PResult<Target> {
        let pos = Pos {
            line: e.line,
            col: e.col,
        };
        match e.kind {
            ExprKind::Name(n) => Ok(Target::Name(n)),
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                let mut targets = Vec::new();
                let mut starred = false;
                for item in items {
                    match item.kind {
                        ExprKind::Star(inner) => {
                            if std::mem::replace(&mut starred, true) {
                                return Err(self.error_at(pos, "multiple starred expressions in assignment"));
                            }
                            targets.push(Target::Starred(Box::new(self.target(*inner)?)));
                        }
                        _ => targets.push(self.target(item)?),
                    }
                }
                Ok(Target::Unpack(targets))
            }
            ExprKind::Star(_) => Err(self.error_at(pos, "starred assignment target must be in a list or tuple")),
            ExprKind::Slice { object, lower, upper, step } => Ok(Target::Slice {
                object: *object,
                lower: lower.map(|e| *e),
                upper: upper.map(|e| *e),
                step: step.map(|e| *e),
            }),
            ExprKind::Index(object, index) => Ok(Target::Index {
                object: *object,
                index: *index,
            }),
            ExprKind::Attr(object, name) => Ok(Target::Attr {
                object: *object,
                name,
            }),
            other => {
                let what = match other {
                    ExprKind::Call { .. } => "a function call",
                    ExprKind::Attr(..) => "an attribute",
                    ExprKind::Slice { .. } => "a slice",
                    ExprKind::Int(_)
                    | ExprKind::BigInt(..)
                    | ExprKind::Float(_)
                    | ExprKind::Str(_)
                    | ExprKind::Bytes(_)
                    | ExprKind::None
                    | ExprKind::Bool(_) => "a literal",
                    _ => "an expression",
                };
                Err(self.error_at(pos, format!("cannot assign to {what}")))
            }
        }
    }

    fn aug_target(&mut self, e: Expr, op_pos: Pos) -> PResult<Target> {
        match e.kind {
            ExprKind::Name(_) | ExprKind::Index(..) | ExprKind::Attr(..) => self.target(e),
            _ => Err(self.error_at(
                op_pos,
                "augmented assignment needs a single name or x[i] on its left",
            )),
        }
    }

    // ---- compound statements ----

    /// `:` then an indented block, or simple statements on the same line.
    fn block(&mut self, header: &str, header_line: u32) -> PResult<Vec<Stmt>> {
        self.nested(|p| p.block_inner(header, header_line))
    }

    fn block_inner(&mut self, header: &str, header_line: u32) -> PResult<Vec<Stmt>> {
        self.expect_op(":", "':'")?;
        if !matches!(self.peek_kind(), TokenKind::Newline) {
            return self.simple_statements();
        }
        self.advance();
        if !matches!(self.peek_kind(), TokenKind::Indent) {
            let pos = self.peek().pos;
            let msg = format!(
                "expected an indented block after '{header}' statement on line {header_line}"
            );
            self.diagnostics.push(Diagnostic {
                line: pos.line,
                col: pos.col,
                message: msg,
            });
            return Ok(Vec::new());
        }
        self.advance();
        let mut body = Vec::new();
        loop {
            match self.peek_kind() {
                TokenKind::Dedent => {
                    self.advance();
                    break;
                }
                TokenKind::Eof | TokenKind::LaneHeader(_) => break,
                TokenKind::Newline => {
                    self.advance();
                }
                TokenKind::Indent => {
                    let pos = self.peek().pos;
                    self.error_at(pos, "unexpected indent");
                    self.skip_block();
                }
                _ => body.append(&mut self.statement()),
            }
        }
        Ok(body)
    }

    /// A loop body: `break` and `continue` are allowed in it.
    fn loop_block(&mut self, header: &str, line: u32) -> PResult<Vec<Stmt>> {
        self.loop_depth += 1;
        let body = self.block(header, line);
        self.loop_depth -= 1;
        body
    }

    fn if_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.advance();
        let test = self.test()?;
        let source = self.header_colon(kw.start, "':' after the 'if' condition")?;
        let body = self.block("if", kw.pos.line)?;
        let mut branches = vec![(test, body)];
        let mut orelse = None;
        loop {
            if self.at_keyword("elif") {
                let kw = self.advance();
                let test = self.test()?;
                let body = self.block("elif", kw.pos.line)?;
                branches.push((test, body));
            } else if self.at_keyword("else") {
                let kw = self.advance();
                orelse = Some(self.block("else", kw.pos.line)?);
                break;
            } else {
                break;
            }
        }
        Ok(Stmt {
            line: kw.pos.line,
            source,
            span: None,
            kind: StmtKind::If { branches, orelse },
        })
    }

    /// The header's source text, ending with the `:` the parser is looking at.
    fn source_after_colon(&mut self, start: usize) -> String {
        self.advance();
        let text = self.source_from(start);
        self.i -= 1;
        text
    }

    fn header_colon(&mut self, start: usize, what: &str) -> PResult<String> {
        if !self.at_op(":") {
            return Err(self.expected(what));
        }
        Ok(self.source_after_colon(start))
    }

    fn while_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.advance();
        let test = self.test()?;
        let source = self.header_colon(kw.start, "':' after the 'while' condition")?;
        let body = self.loop_block("while", kw.pos.line)?;
        let orelse = self.loop_else()?;
        Ok(Stmt {
            line: kw.pos.line,
            source,
            span: None,
            kind: StmtKind::While { test, body, orelse },
        })
    }

    /// A loop's `else:` block; a `break` in it belongs to an outer loop.
    fn loop_else(&mut self) -> PResult<Option<Vec<Stmt>>> {
        if !self.at_keyword("else") {
            return Ok(None);
        }
        let kw = self.advance();
        self.block("else", kw.pos.line).map(Some)
    }

    fn for_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.advance();
        let mut items = vec![self.star_or(Self::bitor)?];
        let mut tuple = false;
        while self.eat_op(",") {
            tuple = true;
            if self.at_keyword("in") {
                break;
            }
            items.push(self.star_or(Self::bitor)?);
        }
        let first = items
            .first()
            .map(|e| (e.line, e.col))
            .unwrap_or((kw.pos.line, kw.pos.col));
        let target_expr = if tuple {
            Expr {
                line: first.0,
                col: first.1,
                end_line: first.0,
                end_col: first.1,
                kind: ExprKind::Tuple(items),
            }
        } else {
            items.pop().ok_or(Fail)?
        };
        let target = self.target(target_expr)?;
        if !self.eat_keyword("in") {
            return Err(self.expected("'in'"));
        }
        let iter = self.expr_list()?;
        let source = self.header_colon(kw.start, "':' after the 'for' header")?;
        let body = self.loop_block("for", kw.pos.line)?;
        let orelse = self.loop_else()?;
        Ok(Stmt {
            line: kw.pos.line,
            source,
            span: None,
            kind: StmtKind::For { target, iter, body, orelse },
        })
    }

    fn try_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.advance();
        let source = self.header_colon(kw.start, "':' after 'try'")?;
        let body = self.block("try", kw.pos.line)?;
        let mut handlers: Vec<Handler> = Vec::new();
        while self.at_keyword("except") {
            let ex = self.advance();
            if handlers
                .last()
                .is_some_and(|h| h.classes.is_empty() && h.script_classes.is_empty())
            {
                return Err(
                    self.error_at(ex.pos, "a bare 'except:' must be the last except clause")
                );
            }
            let mut classes = Vec::new();
            let mut script_classes = Vec::new();
            let mut name = None;
            if !self.at_op(":") {
                if let Some(open) = self.at_op("(").then(|| self.advance()) {
                    loop {
                        match self.exc_class()? {
                            Ok(c) => classes.push(c),
                            Err(e) => script_classes.push(e),
                        }
                        if !self.eat_op(",") || self.at_op(")") {
                            break;
                        }
                    }
                    self.expect_close(")", &open)?;
                } else {
                    match self.exc_class()? {
                        Ok(c) => classes.push(c),
                        Err(e) => script_classes.push(e),
                    }
                }
                if self.eat_keyword("as") {
                    name = Some(self.expect_name("a name after 'as'")?);
                }
            }
            let body = self.block("except", ex.pos.line)?;
            handlers.push(Handler {
                line: ex.pos.line,
                classes,
                script_classes,
                name,
                body,
            });
        }
        let mut orelse = None;
        if self.at_keyword("else") {
            let kw = self.advance();
            if handlers.is_empty() {
                return Err(self.error_at(
                    kw.pos,
                    "'else' after 'try' needs at least one 'except' clause",
                ));
            }
            orelse = Some(self.block("else", kw.pos.line)?);
        }
        let mut finally = None;
        if self.at_keyword("finally") {
            let kw = self.advance();
            finally = Some(self.block("finally", kw.pos.line)?);
        }
        if handlers.is_empty() && finally.is_none() {
            return Err(self.expected("'except' or 'finally' after the 'try' block"));
        }
        Ok(Stmt {
            line: kw.pos.line,
            source,
            span: None,
            kind: StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            },
        })
    }

    /// A builtin exception class, or a plain name that may be a script class
    /// (the checker reports it when the lane defines no such name).
    fn exc_class(&mut self) -> PResult<Result<ExcClass, Expr>> {
        let pos = self.peek().pos;
        let mut name = self.expect_name("an exception class such as OSError")?;
        let dotted = self.at_op(".");
        while self.eat_op(".") {
            name.push('.');
            name.push_str(&self.expect_name("a name after '.'")?);
        }
        // `queue.Empty`, `self.Error`: evaluated when the clause is tried.
        let native = |name: &str| {
            let first = name.split('.').next().unwrap_or("");
            Module::from_name(first).is_some_and(|m| m.source().is_none())
        };
        match ExcClass::resolve(&name) {
            Some(c) => Ok(Ok(c)),
            None if !dotted => Ok(Err(Expr {
                line: pos.line,
                col: pos.col,
                end_line: pos.line,
                end_col: pos.col,
                kind: ExprKind::Name(name),
            })),
            None if !native(&name) => {
                let mut parts = name.split('.');
                let mut e = Expr::at(pos.line, pos.col, ExprKind::Name(parts.next().unwrap_or("").to_string()));
                for part in parts {
                    e = Expr::at(pos.line, pos.col, ExprKind::Attr(Box::new(e), part.to_string()));
                }
                Ok(Err(e))
            }
            None => Err(self.error_at(pos, format!("unknown exception class '{name}'"))),
        }
    }

    /// `@expr` lines, then the `def` or `class` they decorate.
    fn decorated(&mut self) -> PResult<Stmt> {
        let mut decorators = Vec::new();
        while self.eat_op("@") {
            decorators.push(self.test()?);
            if !matches!(self.peek_kind(), TokenKind::Newline) {
                return Err(self.expected("end of line after the decorator"));
            }
            self.advance();
        }
        let mut stmt = match self.peek_kind() {
            TokenKind::Name(w) if w == "def" => self.def_stmt()?,
            TokenKind::Name(w) if w == "class" => self.class_stmt()?,
            _ => return Err(self.expected("'def' or 'class' after a decorator")),
        };
        match &mut stmt.kind {
            StmtKind::Def(def) => def.decorators = decorators,
            StmtKind::Class(def) => def.decorators = decorators,
            _ => {}
        }
        Ok(stmt)
    }

    fn class_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.advance();
        let name = self.expect_name("a class name after 'class'")?;
        let mut bases = Vec::new();
        if let Some(open) = self.at_op("(").then(|| self.advance()) {
            let (args, kwargs) = self.call_args(&open)?;
            if let Some((k, v)) = kwargs.first() {
                let what = if k.is_empty() { "**" } else { "keyword arguments" };
                return Err(self.error_at(
                    Pos { line: v.line, col: v.col },
                    format!("{what} in a class's bases are not supported"),
                ));
            }
            if let Some(a) = args.iter().find(|a| matches!(a.kind, ExprKind::Star(_))) {
                return Err(self.error_at(
                    Pos { line: a.line, col: a.col },
                    "* in a class's bases is not supported",
                ));
            }
            bases = args;
        }
        let source = self.header_colon(kw.start, "':' after the class name")?;
        // Neither a loop nor a function outside the class makes `break`/`return` legal in its body.
        let loops = std::mem::replace(&mut self.loop_depth, 0);
        let funcs = std::mem::replace(&mut self.func_depth, 0);
        let body = self.block("class", kw.pos.line);
        self.loop_depth = loops;
        self.func_depth = funcs;
        Ok(Stmt {
            line: kw.pos.line,
            source,
            span: None,
            kind: StmtKind::Class(Box::new(ClassDef {
                name,
                line: kw.pos.line,
                bases,
                body: body?,
                decorators: Vec::new(),
            })),
        })
    }

    fn def_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.advance();
        let name = self.expect_name("a function name after 'def'")?;
        let open = self.expect_op("(", "'(' after the function name")?;
        let mut def = self.params(")", kw.pos.line)?;
        self.expect_close(")", &open)?;
        if self.eat_op("->") {
            self.test()?;
        }
        let source = self.header_colon(kw.start, "':' after the parameters")?;
        // A loop outside the function does not make `break` legal inside it.
        let loops = std::mem::replace(&mut self.loop_depth, 0);
        self.func_depth += 1;
        let body = self.block("def", kw.pos.line);
        self.func_depth -= 1;
        self.loop_depth = loops;
        def.name = name;
        def.body = body?;
        Ok(Stmt {
            line: kw.pos.line,
            source,
            span: None,
            kind: StmtKind::Def(Box::new(def)),
        })
    }

    /// A parameter list up to (not including) `close`: `)` for `def` (where
    /// annotations are allowed), `:` for `lambda`.
    fn params(&mut self, close: &str, line: u32) -> PResult<FuncDef> {
        let mut def = FuncDef {
            name: String::new(),
            line,
            params: Vec::new(),
            vararg: None,
            kwonly: Vec::new(),
            kwarg: None,
            body: Vec::new(),
            is_lambda: close == ":",
            decorators: Vec::new(),
        };
        let mut star = false;
        let mut seen: Vec<String> = Vec::new();
        while !self.at_op(close) {
            let pos = self.peek().pos;
            if def.kwarg.is_some() {
                return Err(self.error_at(pos, "arguments cannot follow var-keyword argument"));
            }
            let kind = if self.eat_op("**") {
                2
            } else if self.eat_op("*") {
                1
            } else {
                0
            };
            if kind == 1 && star {
                return Err(self.error_at(pos, "* argument may appear only once"));
            }
            if kind == 1 && (self.at_op(",") || self.at_op(close)) {
                star = true;
                if !self.eat_op(",") || self.at_op(close) {
                    return Err(self.error_at(pos, "named arguments must follow bare *"));
                }
                continue;
            }
            let name_pos = self.peek().pos;
            let name = self.expect_name("a parameter name")?;
            if seen.contains(&name) {
                return Err(self.error_at(
                    name_pos,
                    format!("duplicate argument '{name}' in function definition"),
                ));
            }
            seen.push(name.clone());
            if close != ":" && self.eat_op(":") {
                self.test()?;
            }
            let default = if kind == 0 && self.eat_op("=") {
                Some(self.test()?)
            } else {
                None
            };
            match kind {
                1 => {
                    star = true;
                    def.vararg = Some(name);
                }
                2 => def.kwarg = Some(name),
                _ if star => def.kwonly.push(Param { name, default }),
                _ => {
                    if default.is_none() && def.params.iter().any(|p| p.default.is_some()) {
                        return Err(self.error_at(
                            name_pos,
                            "non-default argument follows default argument",
                        ));
                    }
                    def.params.push(Param { name, default });
                }
            }
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(def)
    }

    /// `lambda PARAMS: EXPR`: a function whose body returns the expression.
    fn lambda(&mut self) -> PResult<Expr> {
        let kw = self.advance();
        let mut def = self.params(":", kw.pos.line)?;
        self.expect_op(":", "':' after the lambda's parameters")?;
        let start = self.peek().start;
        let body = self.test()?;
        def.name = "<lambda>".into();
        def.body = vec![Stmt {
            line: body.line,
            source: self.source_from(start),
            span: None,
            kind: StmtKind::Return(Some(body)),
        }];
        Ok(self.mk(kw.pos, ExprKind::Lambda(Box::new(def))))
    }

    fn with_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.advance();
        let items = match self.parenthesised_with_items() {
            Some(items) => items,
            None => self.with_items(None)?,
        };
        let source = self.header_colon(kw.start, "':' after the 'with' header")?;
        let mut body = self.block("with", kw.pos.line)?;
        // `with a, b:` is `with a:` holding `with b:`, as Python defines it.
        let mut items = items;
        while let Some((value, name, exit_source)) = items.pop() {
            let stmt = Stmt {
                line: kw.pos.line,
                source: source.clone(),
                span: None,
                kind: StmtKind::With {
                    value,
                    name,
                    body,
                    exit_source,
                },
            };
            if items.is_empty() {
                return Ok(stmt);
            }
            body = vec![stmt];
        }
        Err(Fail)
    }

    /// `with (a as x, b as y):`: the items, or None (and nothing consumed)
    /// when the parenthesis is part of the first item's expression.
    fn parenthesised_with_items(&mut self) -> Option<Vec<WithItem>> {
        let open = self.peek().clone();
        if !open.is_op("(") {
            return None;
        }
        let (at, reported) = (self.i, self.diagnostics.len());
        self.advance();
        match self.with_items(Some(")")) {
            Ok(items) if self.eat_op(")") && self.at_op(":") => Some(items),
            _ => {
                self.i = at;
                self.diagnostics.truncate(reported);
                None
            }
        }
    }

    /// `EXPR [as NAME], ...`; inside parentheses (`close`) a trailing comma is allowed.
    fn with_items(&mut self, close: Option<&str>) -> PResult<Vec<WithItem>> {
        let mut items = Vec::new();
        loop {
            let value_start = self.peek().start;
            let value = self.test()?;
            let value_source = self.source_from(value_start);
            let name = if self.eat_keyword("as") {
                Some(self.expect_name("a name after 'as'")?)
            } else {
                None
            };
            let exit_source = match &name {
                Some(n) => format!("{n}.close()"),
                None => format!("{value_source}.close()"),
            };
            items.push((value, name, exit_source));
            if !self.eat_op(",") || close.is_some_and(|c| self.at_op(c)) {
                return Ok(items);
            }
        }
    }

    // ---- expressions ----

    /// An expression from `pos` to the end of the last token read.
    fn mk(&self, pos: Pos, kind: ExprKind) -> Expr {
        let (end_line, end_col) = self.last_end(pos);
        // Only an end after the start is one (a token of another text, an f-string's, is not).
        if (end_line, end_col) > (pos.line, pos.col) {
            Expr { line: pos.line, col: pos.col, end_line, end_col, kind }
        } else {
            Expr::at(pos.line, pos.col, kind)
        }
    }

    /// Where the last token read ends (line, column just past it); `pos` if none was read.
    fn last_end(&self, pos: Pos) -> (u32, u32) {
        self.i.checked_sub(1).and_then(|i| self.tokens.get(i)).map_or((pos.line, pos.col), |t| {
            let text = self.src.get(t.start..t.end).unwrap_or("");
            match text.rsplit_once('\n') {
                Some((before, last)) => (t.pos.line.saturating_add(before.matches('\n').count() as u32 + 1), last.chars().count() as u32 + 1),
                None => (t.pos.line, t.pos.col.saturating_add(text.chars().count() as u32)),
            }
        })
    }

    /// A `yield` expression, or an expression list.
    fn yield_or_list(&mut self) -> PResult<Expr> {
        if self.at_keyword("yield") {
            return self.yield_expr();
        }
        self.expr_list()
    }

    /// `yield`, `yield VALUE[, ...]`, `yield from ITERABLE`, inside a `def`.
    fn yield_expr(&mut self) -> PResult<Expr> {
        let kw = self.advance();
        if self.func_depth == 0 {
            return Err(self.error_at(kw.pos, "'yield' outside function"));
        }
        if self.eat_keyword("from") {
            let value = self.test()?;
            return Ok(self.mk(kw.pos, ExprKind::YieldFrom(Box::new(value))));
        }
        let value = if self.starts_expression() || self.at_op("*") {
            Some(Box::new(self.expr_list()?))
        } else {
            None
        };
        Ok(self.mk(kw.pos, ExprKind::Yield(value)))
    }

    /// `a, b, c` (a tuple when there is a comma) or a single expression.
    fn expr_list(&mut self) -> PResult<Expr> {
        let pos = self.peek().pos;
        let first = self.star_or(Self::test)?;
        if !self.at_op(",") {
            // `*a = ...`: the assignment reports it as a target.
            if self.at_op("=") {
                return Ok(first);
            }
            return self.not_starred(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if !self.starts_expression() && !self.at_op("*") {
                break;
            }
            items.push(self.star_or(Self::test)?);
        }
        Ok(self.mk(pos, ExprKind::Tuple(items)))
    }

    /// `*x` (an item of a tuple or list display, or of an assignment target),
    /// or an expression parsed by `item`.
    fn star_or(&mut self, item: fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        if !self.at_op("*") {
            return item(self);
        }
        let star = self.advance();
        let value = self.bitor()?;
        Ok(self.mk(star.pos, ExprKind::Star(Box::new(value))))
    }

    /// A starred expression standing alone is an error, as in Python.
    fn not_starred(&mut self, e: Expr) -> PResult<Expr> {
        if matches!(e.kind, ExprKind::Star(_)) {
            return Err(self.error_at(Pos { line: e.line, col: e.col }, "can't use starred expression here"));
        }
        Ok(e)
    }

    fn starts_expression(&self) -> bool {
        match self.peek_kind() {
            TokenKind::Name(n) => {
                !is_keyword(n) || matches!(n.as_str(), "None" | "True" | "False" | "not" | "lambda")
            }
            TokenKind::Int(_)
            | TokenKind::BigInt(..)
            | TokenKind::Float(_)
            | TokenKind::Str(_)
            | TokenKind::Bytes(_)
            | TokenKind::FString(_) => true,
            TokenKind::Op(o) => matches!(*o, "(" | "[" | "{" | "-" | "+" | "~"),
            _ => false,
        }
    }

    /// A full expression: `x if c else y`, or an or-test.
    fn test(&mut self) -> PResult<Expr> {
        self.nested(Self::test_inner)
    }

    fn test_inner(&mut self) -> PResult<Expr> {
        if self.at_keyword("lambda") {
            return self.lambda();
        }
        if let TokenKind::Name(name) = self.peek_kind().clone()
            && self.peek_at(1).is_op(":=")
        {
            let pos = self.advance().pos;
            self.advance();
            let value = self.test()?;
            return Ok(self.mk(pos, ExprKind::Named(name, Box::new(value))));
        }
        let pos = self.peek().pos;
        let body = self.or_test()?;
        if !self.at_keyword("if") {
            return Ok(body);
        }
        self.advance();
        let test = self.or_test()?;
        if !self.eat_keyword("else") {
            return Err(self.expected("'else' in the conditional expression"));
        }
        let orelse = self.test()?;
        Ok(self.mk(
            pos,
            ExprKind::IfElse {
                test: Box::new(test),
                body: Box::new(body),
                orelse: Box::new(orelse),
            },
        ))
    }

    fn or_test(&mut self) -> PResult<Expr> {
        self.bool_chain("or", Self::and_test, ExprKind::Or)
    }

    fn and_test(&mut self) -> PResult<Expr> {
        self.bool_chain("and", Self::not_test, ExprKind::And)
    }

    /// `a KEYWORD b KEYWORD c`, grouped to the left.
    fn bool_chain(
        &mut self,
        keyword: &str,
        operand: fn(&mut Self) -> PResult<Expr>,
        make: fn(Box<Expr>, Box<Expr>) -> ExprKind,
    ) -> PResult<Expr> {
        let pos = self.peek().pos;
        let mut left = operand(self)?;
        let mut links = 0;
        while self.eat_keyword(keyword) {
            links = self.chained(links)?;
            let right = operand(self)?;
            left = self.mk(pos, make(Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn not_test(&mut self) -> PResult<Expr> {
        let pos = self.peek().pos;
        if self.eat_keyword("not") {
            let operand = self.nested(Self::not_test)?;
            return Ok(self.mk(pos, ExprKind::Unary(UnaryOp::Not, Box::new(operand))));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let pos = self.peek().pos;
        let first = self.bitor()?;
        let mut rest = Vec::new();
        while let Some(op) = self.cmp_op() {
            rest.push((op, self.bitor()?));
        }
        if rest.is_empty() {
            Ok(first)
        } else {
            Ok(self.mk(pos, ExprKind::Compare(Box::new(first), rest)))
        }
    }

    fn cmp_op(&mut self) -> Option<CmpOp> {
        let op = match self.peek_kind() {
            TokenKind::Op("==") => CmpOp::Eq,
            TokenKind::Op("!=") => CmpOp::Ne,
            TokenKind::Op("<") => CmpOp::Lt,
            TokenKind::Op("<=") => CmpOp::Le,
            TokenKind::Op(">") => CmpOp::Gt,
            TokenKind::Op(">=") => CmpOp::Ge,
            TokenKind::Name(n) if n == "in" => CmpOp::In,
            TokenKind::Name(n) if n == "not" && self.peek_at(1).is_name("in") => {
                self.advance();
                CmpOp::NotIn
            }
            TokenKind::Name(n) if n == "is" => {
                if self.peek_at(1).is_name("not") {
                    self.advance();
                    CmpOp::IsNot
                } else {
                    CmpOp::Is
                }
            }
            _ => return None,
        };
        self.advance();
        Some(op)
    }

    fn binary_level(
        &mut self,
        ops: &[(&str, BinOp)],
        next: fn(&mut Self) -> PResult<Expr>,
    ) -> PResult<Expr> {
        let pos = self.peek().pos;
        let mut left = next(self)?;
        let mut links = 0;
        'outer: loop {
            for &(sym, op) in ops {
                if self.eat_op(sym) {
                    links = self.chained(links)?;
                    let right = next(self)?;
                    left = self.mk(pos, ExprKind::Binary(op, Box::new(left), Box::new(right)));
                    continue 'outer;
                }
            }
            return Ok(left);
        }
    }

    fn bitor(&mut self) -> PResult<Expr> {
        self.binary_level(&[("|", BinOp::BitOr)], Self::bitxor)
    }

    fn bitxor(&mut self) -> PResult<Expr> {
        self.binary_level(&[("^", BinOp::BitXor)], Self::bitand)
    }

    fn bitand(&mut self) -> PResult<Expr> {
        self.binary_level(&[("&", BinOp::BitAnd)], Self::shift)
    }

    fn shift(&mut self) -> PResult<Expr> {
        self.binary_level(&[("<<", BinOp::Shl), (">>", BinOp::Shr)], Self::arith)
    }

    fn arith(&mut self) -> PResult<Expr> {
        self.binary_level(&[("+", BinOp::Add), ("-", BinOp::Sub)], Self::term)
    }

    fn term(&mut self) -> PResult<Expr> {
        self.binary_level(
            &[
                ("*", BinOp::Mul),
                ("//", BinOp::FloorDiv),
                ("/", BinOp::Div),
                ("%", BinOp::Mod),
            ],
            Self::factor,
        )
    }

    fn factor(&mut self) -> PResult<Expr> {
        let pos = self.peek().pos;
        let op = match self.peek_kind() {
            TokenKind::Op("-") => UnaryOp::Neg,
            TokenKind::Op("+") => UnaryOp::Pos,
            TokenKind::Op("~") => UnaryOp::Invert,
            _ => return self.power(),
        };
        self.advance();
        let operand = self.nested(Self::factor)?;
        // Fold `-5` into a literal so `-9223372036854775807 - 1` style constants and
        // tree dumps stay simple.
        if let (UnaryOp::Neg, ExprKind::Int(v)) = (op, &operand.kind)
            && let Some(n) = v.checked_neg()
        {
            return Ok(self.mk(pos, ExprKind::Int(n)));
        }
        Ok(self.mk(pos, ExprKind::Unary(op, Box::new(operand))))
    }

    fn power(&mut self) -> PResult<Expr> {
        let pos = self.peek().pos;
        let base = self.primary()?;
        if self.eat_op("**") {
            let exp = self.nested(Self::factor)?;
            return Ok(self.mk(
                pos,
                ExprKind::Binary(BinOp::Pow, Box::new(base), Box::new(exp)),
            ));
        }
        Ok(base)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let mut e = self.atom()?;
        let mut links = 0;
        loop {
            let pos = Pos {
                line: e.line,
                col: e.col,
            };
            if self.at_op("(") || self.at_op("[") || self.at_op(".") {
                links = self.chained(links)?;
            }
            if self.at_op("(") {
                let open = self.advance();
                let (args, kwargs) = self.call_args(&open)?;
                e = self.mk(
                    pos,
                    ExprKind::Call {
                        func: Box::new(e),
                        args,
                        kwargs,
                    },
                );
            } else if self.at_op("[") {
                let open = self.advance();
                e = self.subscript(e, &open)?;
            } else if self.eat_op(".") {
                let name = self.expect_name("an attribute name after '.'")?;
                e = self.mk(pos, ExprKind::Attr(Box::new(e), name));
            } else {
                return Ok(e);
            }
        }
    }

    fn call_args(&mut self, open: &Token) -> PResult<(Vec<Expr>, Keywords)> {
        let mut args = Vec::new();
        let mut kwargs: Vec<(String, Expr)> = Vec::new();
        while !self.at_op(")") {
            if self.at_op("*") || self.at_op("**") {
                let star = self.advance();
                let pos = self.peek().pos;
                let value = Box::new(self.test()?);
                if star.is_op("*") {
                    if kwargs.iter().any(|(k, _)| k.is_empty()) {
                        return Err(self.error_at(
                            star.pos,
                            "iterable argument unpacking follows keyword argument unpacking",
                        ));
                    }
                    args.push(self.mk(star.pos, ExprKind::Star(value)));
                } else {
                    // `**d` sits among the keywords with an empty name.
                    kwargs.push((String::new(), self.mk(star.pos, ExprKind::DoubleStar(value))));
                }
                let _ = pos;
                if !self.eat_op(",") {
                    break;
                }
                continue;
            }
            let is_kw = matches!(self.peek_kind(), TokenKind::Name(n) if !is_keyword(n))
                && self.peek_at(1).is_op("=");
            if is_kw {
                let name_tok = self.advance();
                self.advance();
                let TokenKind::Name(name) = name_tok.kind else {
                    return Err(Fail);
                };
                if kwargs.iter().any(|(k, _)| *k == name && !k.is_empty()) {
                    return Err(
                        self.error_at(name_tok.pos, format!("keyword argument '{name}' repeated"))
                    );
                }
                kwargs.push((name, self.test()?));
            } else {
                let pos = self.peek().pos;
                let mut arg = self.test()?;
                if self.at_keyword("for") {
                    // `f(x for x in xs)`: a generator expression needs no parentheses
                    // of its own when it is the only argument.
                    let (start, line) = (open.pos, arg.line);
                    arg = self.comprehension_clauses(CompKind::Gen, arg, None)?;
                    if !args.is_empty() || !kwargs.is_empty() || !self.at_op(")") {
                        let _ = line;
                        return Err(self.error_at(
                            start,
                            "Generator expression must be parenthesized",
                        ));
                    }
                }
                if !kwargs.is_empty() {
                    let message = if kwargs.iter().any(|(k, _)| k.is_empty()) {
                        "positional argument follows keyword argument unpacking"
                    } else {
                        "positional argument follows keyword argument"
                    };
                    return Err(self.error_at(pos, message));
                }
                args.push(arg);
            }
            if !self.eat_op(",") {
                break;
            }
        }
        if !self.at_op(")")
            && self.starts_expression()
            && self.peek().pos.line == self.prev().map_or(0, |p| p.pos.line)
        {
            let what = format!("',' or ')' to close '(' opened at {}", open.pos);
            return Err(self.expected(&what));
        }
        self.expect_close(")", open)?;
        Ok((args, kwargs))
    }

    fn subscript(&mut self, object: Expr, open: &Token) -> PResult<Expr> {
        let pos = Pos {
            line: object.line,
            col: object.col,
        };
        let lower = if self.at_op(":") {
            None
        } else {
            Some(Box::new(self.test()?))
        };
        if !self.at_op(":") {
            let Some(index) = lower else {
                return Err(self.expected("an index"));
            };
            self.expect_close("]", open)?;
            return Ok(self.mk(pos, ExprKind::Index(Box::new(object), index)));
        }
        self.advance();
        let upper = if self.at_op(":") || self.at_op("]") {
            None
        } else {
            Some(Box::new(self.test()?))
        };
        let step = if self.eat_op(":") && !self.at_op("]") {
            Some(Box::new(self.test()?))
        } else {
            None
        };
        self.expect_close("]", open)?;
        Ok(self.mk(
            pos,
            ExprKind::Slice {
                object: Box::new(object),
                lower,
                upper,
                step,
            },
        ))
    }

    fn atom(&mut self) -> PResult<Expr> {
        let tok = self.peek().clone();
        let pos = tok.pos;
        match tok.kind {
            TokenKind::Int(v) => {
                self.advance();
                Ok(self.mk(pos, ExprKind::Int(v)))
            }
            TokenKind::BigInt(digits, radix) => {
                self.advance();
                Ok(self.mk(pos, ExprKind::BigInt(digits, radix)))
            }
            TokenKind::Float(v) => {
                self.advance();
                Ok(self.mk(pos, ExprKind::Float(v)))
            }
            TokenKind::Str(_) | TokenKind::Bytes(_) | TokenKind::FString(_) => self.strings(),
            TokenKind::Name(n) => match n.as_str() {
                "None" => {
                    self.advance();
                    Ok(self.mk(pos, ExprKind::None))
                }
                "True" | "False" => {
                    self.advance();
                    Ok(self.mk(pos, ExprKind::Bool(n == "True")))
                }
                kw if is_keyword(kw) => Err(self.expected("an expression")),
                _ => {
                    self.advance();
                    Ok(self.mk(pos, ExprKind::Name(n)))
                }
            },
            TokenKind::Op("(") => {
                self.advance();
                if self.eat_op(")") {
                    return Ok(self.mk(pos, ExprKind::Tuple(Vec::new())));
                }
                if self.at_keyword("yield") {
                    let e = self.yield_expr()?;
                    self.expect_close(")", &tok)?;
                    return Ok(e);
                }
                let first = self.star_or(Self::test)?;
                if self.at_keyword("for") {
                    return self.comprehension(CompKind::Gen, first, None, ")", &tok);
                }
                if !self.at_op(",") {
                    self.expect_close(")", &tok)?;
                    return self.not_starred(first);
                }
                let mut items = vec![first];
                while self.eat_op(",") {
                    if self.at_op(")") {
                        break;
                    }
                    items.push(self.star_or(Self::test)?);
                }
                self.expect_close(")", &tok)?;
                Ok(self.mk(pos, ExprKind::Tuple(items)))
            }
            TokenKind::Op("[") => {
                self.advance();
                let mut items = Vec::new();
                while !self.at_op("]") {
                    items.push(self.star_or(Self::test)?);
                    if items.len() == 1 && self.at_keyword("for") {
                        let elt = items.remove(0);
                        return self.comprehension(CompKind::List, elt, None, "]", &tok);
                    }
                    if !self.eat_op(",") {
                        break;
                    }
                }
                self.expect_close("]", &tok)?;
                Ok(self.mk(pos, ExprKind::List(items)))
            }
            TokenKind::Op("{") => {
                self.advance();
                let mut items = Vec::new();
                while !self.at_op("}") {
                    let key = self.test()?;
                    if items.is_empty() && self.at_keyword("for") {
                        return self.comprehension(CompKind::Set, key, None, "}", &tok);
                    }
                    if !self.at_op(":") && items.is_empty() {
                        return self.set_display(key, &tok);
                    }
                    if !self.at_op(":") {
                        return Err(self.expected("':' after the dict key"));
                    }
                    self.advance();
                    let value = self.test()?;
                    if items.is_empty() && self.at_keyword("for") {
                        return self.comprehension(CompKind::Dict, key, Some(value), "}", &tok);
                    }
                    items.push((key, value));
                    if !self.eat_op(",") {
                        break;
                    }
                }
                self.expect_close("}", &tok)?;
                Ok(self.mk(pos, ExprKind::Dict(items)))
            }
            _ => Err(self.expected("an expression")),
        }
    }

    /// The rest of a comprehension after its first expression, through its closing bracket.
    fn comprehension(
        &mut self,
        kind: CompKind,
        elt: Expr,
        value: Option<Expr>,
        close: &str,
        open: &Token,
    ) -> PResult<Expr> {
        if matches!(elt.kind, ExprKind::Star(_)) {
            return Err(self.error_at(open.pos, "iterable unpacking cannot be used in comprehension"));
        }
        let mut e = self.comprehension_clauses(kind, elt, value)?;
        self.expect_close(close, open)?;
        e.line = open.pos.line;
        e.col = open.pos.col;
        Ok(e)
    }

    /// The `for ... in ... [if ...]` clauses of a comprehension.
    fn comprehension_clauses(
        &mut self,
        kind: CompKind,
        elt: Expr,
        value: Option<Expr>,
    ) -> PResult<Expr> {
        let pos = Pos {
            line: elt.line,
            col: elt.col,
        };
        let mut generators = Vec::new();
        while self.eat_keyword("for") {
            let first = self.bitor()?;
            let target_expr = if self.at_op(",") {
                let mut items = vec![first];
                while self.eat_op(",") {
                    if self.at_keyword("in") {
                        break;
                    }
                    items.push(self.bitor()?);
                }
                let (line, col) = (items[0].line, items[0].col);
                Expr::at(line, col, ExprKind::Tuple(items))
            } else {
                first
            };
            let target = self.target(target_expr)?;
            if !self.eat_keyword("in") {
                return Err(self.expected("'in'"));
            }
            let iter = self.or_test()?;
            let mut conds = Vec::new();
            while self.eat_keyword("if") {
                conds.push(self.or_test()?);
            }
            generators.push(CompFor {
                target,
                iter,
                conds,
            });
        }
        Ok(self.mk(
            pos,
            ExprKind::Comp {
                kind,
                elt: Box::new(elt),
                value: value.map(Box::new),
                generators,
            },
        ))
    }

    /// The rest of `{a, b, ...}` after its first item.
    fn set_display(&mut self, first: Expr, open: &Token) -> PResult<Expr> {
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.at_op("}") {
                break;
            }
            items.push(self.test()?);
        }
        self.expect_close("}", open)?;
        Ok(self.mk(open.pos, ExprKind::Set(items)))
    }

    /// Adjacent string literals concatenate, as in Python; with an f-string
    /// among them the whole is one f-string.
    fn strings(&mut self) -> PResult<Expr> {
        let pos = self.peek().pos;
        let mut text: Option<String> = None;
        let mut bytes: Option<Vec<u8>> = None;
        let mut fparts: Option<Vec<FPart>> = None;
        loop {
            let tok = self.peek().clone();
            match tok.kind {
                TokenKind::Str(s) if fparts.is_some() => {
                    push_lit(fparts.get_or_insert_with(Vec::new), &s);
                }
                TokenKind::FString(toks) => {
                    if bytes.is_some() {
                        return Err(self.error_at(tok.pos, "cannot mix bytes and str literals"));
                    }
                    let parts = fparts.get_or_insert_with(Vec::new);
                    if let Some(t) = text.take() {
                        push_lit(parts, &t);
                    }
                    let mut parts = std::mem::take(parts);
                    self.fparts(toks, &mut parts)?;
                    fparts = Some(parts);
                }
                TokenKind::Str(s) => {
                    if bytes.is_some() {
                        return Err(self.error_at(tok.pos, "cannot mix bytes and str literals"));
                    }
                    text.get_or_insert_with(String::new).push_str(&s);
                }
                TokenKind::Bytes(b) => {
                    if text.is_some() || fparts.is_some() {
                        return Err(self.error_at(tok.pos, "cannot mix bytes and str literals"));
                    }
                    bytes.get_or_insert_with(Vec::new).extend_from_slice(&b);
                }
                _ => break,
            }
            self.advance();
        }
        if let Some(parts) = fparts {
            return Ok(self.mk(pos, ExprKind::FString(parts)));
        }
        let kind = match (text, bytes) {
            (_, Some(b)) => ExprKind::Bytes(b),
            (t, None) => ExprKind::Str(t.unwrap_or_default()),
        };
        Ok(self.mk(pos, kind))
    }

    /// An f-string token's pieces as parts: each field's tokens parsed as an
    /// expression (a tuple if it has commas) by a parser of their own.
    fn fparts(&mut self, toks: Vec<FTok>, parts: &mut Vec<FPart>) -> PResult<()> {
        for tok in toks {
            match tok {
                FTok::Lit(s) => push_lit(parts, &s),
                FTok::Field {
                    tokens,
                    debug,
                    conversion,
                    spec,
                } => {
                    let mut sub = Parser {
                        src: self.src,
                        tokens,
                        i: 0,
                        diagnostics: Vec::new(),
                        loop_depth: 0,
                        depth: self.depth,
                        func_depth: self.func_depth,
                        from_imported: std::collections::HashSet::new(),
                    };
                    let value = sub.nested(Self::expr_list);
                    if value.is_ok() && !matches!(sub.peek_kind(), TokenKind::Eof) {
                        let at = sub.peek().pos;
                        sub.error_at(at, "f-string: expecting '}'");
                    }
                    let failed = value.is_err() || !sub.diagnostics.is_empty();
                    self.diagnostics.append(&mut sub.diagnostics);
                    if failed {
                        return Err(Fail);
                    }
                    let Ok(value) = value else { return Err(Fail) };
                    let spec = match spec {
                        Some(spec) => {
                            let mut spec_parts = Vec::new();
                            self.fparts(spec, &mut spec_parts)?;
                            Some(spec_parts)
                        }
                        None => None,
                    };
                    // `{x=}` prints the text, then the repr unless a conversion or spec is given.
                    let conversion = match (&debug, conversion, &spec) {
                        (Some(_), None, None) => Some('r'),
                        _ => conversion,
                    };
                    if let Some(text) = debug {
                        push_lit(parts, &text);
                    }
                    parts.push(FPart::Field {
                        value: Box::new(value),
                        conversion,
                        spec,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Appends text to f-string parts, joining it to a text part before it.
fn push_lit(parts: &mut Vec<FPart>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(FPart::Lit(last)) = parts.last_mut() {
        last.push_str(text);
    } else {
        parts.push(FPart::Lit(text.to_string()));
    }
}

/// Lexes and parses; used by [`super::parse`].
pub fn parse_source(source: &str) -> (Script, Vec<Diagnostic>) {
    let lexed = lexer::lex(source);
    let (script, mut diagnostics) = parse_tokens(source, lexed.tokens);
    // A lexical error usually causes a confusing parse error on the same line:
    // keep only the lexer's word for those lines.
    diagnostics.retain(|d| !lexed.diagnostics.iter().any(|l| l.line == d.line));
    diagnostics.extend(lexed.diagnostics);
    diagnostics.sort_by_key(|d| (d.line, d.col));
    diagnostics.dedup();
    (script, diagnostics)
}

/// What to use instead of a module socket programs reach for that socklab
/// does not have.
fn instead_of(module: &str) -> Option<&'static str> {
    Some(match module {
        "asyncio" => "write the event loop with selectors (or a thread per client with threading)",
        "multiprocessing" => "use os.fork() or threading, which run as lanes",
        "ssl" => "TLS is not in the lab; send plain bytes over the socket",
        "http" | "urllib" | "requests" | "http.client" => "speak HTTP over a socket: send b\"GET / HTTP/1.0\\r\\n\\r\\n\" and read the reply",
        "subprocess" => "the lab runs socket programs only; start another lane with '# lane: NAME'",
        "signal" => "signals do not reach lanes; use a timeout (settimeout) or select",
        "logging" => "use print(), which the transcript shows line by line",
        _ => return None,
    })
}

/// The importable modules, for the error naming them.
fn module_list() -> String {
    // `_thread` is what `threading` is written on, not for scripts.
    let names: Vec<&str> = Module::ALL.iter().map(|m| m.name()).filter(|n| !n.starts_with('_') && !n.contains('.')).collect();
    match names.split_last() {
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}
