//! The syntax tree of a script: lanes of statements. Plain data; `Debug` is the
//! tree dump the parser snapshots use.

use super::names::ExcClass;

/// A whole script: its lanes in file order.
#[derive(Clone, PartialEq, Default)]
pub struct Script {
    pub lanes: Vec<Lane>,
    /// The file's lines, for tracebacks' source lines.
    pub lines: Vec<String>,
}

impl Script {
    /// The hosts the lanes run on, in order of first appearance (empty: a
    /// script without hosts, which runs in the session's own network).
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = Vec::new();
        for host in self.lanes.iter().filter_map(|lane| lane.host.as_ref()) {
            if !hosts.contains(host) {
                hosts.push(host.clone());
            }
        }
        hosts
    }
}

impl std::fmt::Debug for Script {
    /// The tree only (the parser's snapshots): the lines are the input.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script").field("lanes", &self.lanes).finish()
    }
}

/// An independent thread of execution, with its own variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub name: String,
    /// Line of the `# lane:` header, or 1 for the implicit `main` lane.
    pub line: u32,
    /// The host it runs on (`# lane: client @ laptop`); None: the session's own network.
    pub host: Option<String>,
    pub body: Vec<Stmt>,
}

/// One statement. Compound statements hold their blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    /// 1-based line in the whole file where the statement starts.
    pub line: u32,
    /// The statement's source text, trimmed and without comments; for compound
    /// statements the header line including its colon. Used as `call` in transcripts.
    pub source: String,
    /// Where a simple statement is, `[line, col, end line, end col]`, for a
    /// traceback's markers under a `raise` or an `assert`.
    pub span: Option<[u32; 4]>,
    pub kind: StmtKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    Expr(Expr),
    /// `a = b = value`: every target gets the value.
    Assign {
        targets: Vec<Target>,
        value: Expr,
    },
    AugAssign {
        target: Target,
        op: BinOp,
        value: Expr,
    },
    Assert {
        test: Expr,
        message: Option<Expr>,
    },
    /// `if`/`elif` branches in order, then the optional `else` block.
    If {
        branches: Vec<(Expr, Vec<Stmt>)>,
        orelse: Option<Vec<Stmt>>,
    },
    While {
        test: Expr,
        body: Vec<Stmt>,
        /// Runs when the loop ends without `break`.
        orelse: Option<Vec<Stmt>>,
    },
    For {
        target: Target,
        iter: Expr,
        body: Vec<Stmt>,
        /// Runs when the loop ends without `break`.
        orelse: Option<Vec<Stmt>>,
    },
    Try {
        body: Vec<Stmt>,
        handlers: Vec<Handler>,
        orelse: Option<Vec<Stmt>>,
        finally: Option<Vec<Stmt>>,
    },
    /// `with EXPR [as NAME]:` — the value must be a socket; it is closed when the block is left.
    With {
        value: Expr,
        name: Option<String>,
        body: Vec<Stmt>,
        exit_source: String,
    },
    Break,
    Continue,
    Pass,
    /// `import socket` and friends: accepted for pasted Python code, does nothing.
    Import,
    /// `def NAME(PARAMS): BODY`.
    Def(Box<FuncDef>),
    Return(Option<Expr>),
    /// `raise`, `raise EXC`, `raise EXC from CAUSE`.
    Raise {
        exc: Option<Expr>,
        cause: Option<Expr>,
    },
    Global(Vec<String>),
    Nonlocal(Vec<String>),
    /// `del a, xs[i], d[k]`.
    Del(Vec<Target>),
    /// `class NAME(BASES): BODY`.
    Class(Box<ClassDef>),
}

/// A class statement: its bases, its body (run once, its names become the
/// class's attributes) and its decorators.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassDef {
    pub name: String,
    pub line: u32,
    pub bases: Vec<Expr>,
    pub body: Vec<Stmt>,
    /// `@expr` lines above the class, outermost first.
    pub decorators: Vec<Expr>,
}

/// A function: a `def` statement or a `lambda` (whose body is one `return`).
#[derive(Debug, Clone, PartialEq)]
pub struct FuncDef {
    pub name: String,
    pub line: u32,
    /// Positional-or-keyword parameters, in order.
    pub params: Vec<Param>,
    /// `*args`.
    pub vararg: Option<String>,
    /// Parameters after `*` or `*args`: keyword-only.
    pub kwonly: Vec<Param>,
    /// `**kwargs`.
    pub kwarg: Option<String>,
    pub body: Vec<Stmt>,
    pub is_lambda: bool,
    /// `@expr` lines above the `def`, outermost first.
    pub decorators: Vec<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub default: Option<Expr>,
}

impl FuncDef {
    /// Every parameter name, in frame order: positional, `*args`, keyword-only, `**kwargs`.
    pub fn param_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.params.iter().map(|p| p.name.clone()).collect();
        names.extend(self.vararg.clone());
        names.extend(self.kwonly.iter().map(|p| p.name.clone()));
        names.extend(self.kwarg.clone());
        names
    }
}

/// One `except` clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Handler {
    pub line: u32,
    /// Empty for a bare `except:` (which catches everything).
    pub classes: Vec<ExcClass>,
    /// Classes named in the clause that are not builtin exceptions: script
    /// classes, looked up when the clause is tried (each a `Name`).
    pub script_classes: Vec<Expr>,
    pub name: Option<String>,
    pub body: Vec<Stmt>,
}

/// Where an assignment stores.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Name(String),
    /// `a, b = ...` or `[a, b] = ...`.
    Unpack(Vec<Target>),
    /// `*rest` inside an `Unpack` (at most one): takes a list of what is left.
    Starred(Box<Target>),
    /// `xs[i] = ...` on a list.
    Index {
        object: Expr,
        index: Expr,
    },
    /// `xs[lower:upper:step] = ...` on a list, bytearray or memoryview.
    Slice {
        object: Expr,
        lower: Option<Expr>,
        upper: Option<Expr>,
        step: Option<Expr>,
    },
    /// `obj.name = ...`.
    Attr {
        object: Expr,
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub line: u32,
    pub col: u32,
    /// Where it ends: the line and column just past its last character (the
    /// start again where it is not known), for a traceback's `^^^` markers.
    pub end_line: u32,
    pub end_col: u32,
    pub kind: ExprKind,
}

impl Expr {
    /// An expression at `line:col` whose end is not known.
    pub fn at(line: u32, col: u32, kind: ExprKind) -> Expr {
        Expr { line, col, end_line: line, end_col: col, kind }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    None,
    Bool(bool),
    Int(i64),
    /// An int literal past 64 bits: its digits in the radix given.
    BigInt(String, u32),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Name(String),
    /// A module itself, as `import M as N` and `from M import x` read it
    /// (whatever the name `M` is bound to).
    Module(crate::names::Module),
    Tuple(Vec<Expr>),
    List(Vec<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a < b <= c`: the first operand, then each operator with its right operand.
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `name := value`: binds the name and is the value.
    Named(String, Box<Expr>),
    /// `body if test else orelse`.
    IfElse {
        test: Box<Expr>,
        body: Box<Expr>,
        orelse: Box<Expr>,
    },
    Attr(Box<Expr>, String),
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        kwargs: Vec<(String, Expr)>,
    },
    Index(Box<Expr>, Box<Expr>),
    Slice {
        object: Box<Expr>,
        lower: Option<Box<Expr>>,
        upper: Option<Box<Expr>>,
        step: Option<Box<Expr>>,
    },
    /// `lambda PARAMS: EXPR`.
    Lambda(Box<FuncDef>),
    /// `{k: v, ...}`.
    Dict(Vec<(Expr, Expr)>),
    /// `{a, b, ...}` (never empty: `{}` is a dict).
    Set(Vec<Expr>),
    /// `yield` / `yield VALUE`: its value is what `send()` sends (None for `next()`).
    Yield(Option<Box<Expr>>),
    /// `yield from ITERABLE`: its value is the generator's return value.
    YieldFrom(Box<Expr>),
    /// `f(*xs)` / `f(**d)` at a call site, `*x` in a tuple or list display or target.
    Star(Box<Expr>),
    DoubleStar(Box<Expr>),
    /// An f-string (adjacent plain strings included): its text and fields in order.
    FString(Vec<FPart>),
    /// `[elt for ...]`, `{elt for ...}`, `{key: value for ...}`, `(elt for ...)`:
    /// `value` is set for a dict comprehension (`elt` is then the key).
    Comp {
        kind: CompKind,
        elt: Box<Expr>,
        value: Option<Box<Expr>>,
        generators: Vec<CompFor>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompKind {
    List,
    Set,
    Dict,
    /// A generator expression (evaluated eagerly into a list; see docs/language.md).
    Gen,
}

/// One `for TARGET in ITER [if COND]...` clause of a comprehension.
#[derive(Debug, Clone, PartialEq)]
pub struct CompFor {
    pub target: Target,
    pub iter: Expr,
    pub conds: Vec<Expr>,
}

/// A piece of an f-string. `f"{x=}"` is parsed as the text `x=` and the field `x!r`.
#[derive(Debug, Clone, PartialEq)]
pub enum FPart {
    Lit(String),
    /// `{value!conversion:spec}`; the spec is itself f-string parts (`{x:{width}}`).
    Field {
        value: Box<Expr>,
        conversion: Option<char>,
        spec: Option<Vec<FPart>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Pos,
    Not,
    Invert,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
}

impl BinOp {
    /// The operator as written, for error messages.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Is,
    IsNot,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
            CmpOp::Is => "is",
            CmpOp::IsNot => "is not",
        }
    }
}
