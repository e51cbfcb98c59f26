//! Tokens: what the lexer hands the parser.

use std::fmt;

/// Python keywords that cannot be used as names.
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

pub fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// A 1-based position in the whole file (column counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    Name(String),
    Int(i64),
    /// An int literal past 64 bits: its digits in `radix` (no prefix or underscores).
    BigInt(String, u32),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// An f-string literal, its expressions already lexed.
    FString(Vec<FTok>),
    /// Operators and punctuation, e.g. `(`, `+=`, `//`, `->`.
    Op(&'static str),
    /// End of a logical line.
    Newline,
    Indent,
    Dedent,
    /// A `# lane: NAME` line.
    LaneHeader(String),
    Eof,
}

/// A piece of an f-string token.
#[derive(Debug, Clone, PartialEq)]
pub enum FTok {
    Lit(String),
    Field {
        /// The expression's tokens (positions in the whole file), ending with `Eof`.
        tokens: Vec<Token>,
        /// For `{x=}`: the text to print before the value (`x=`).
        debug: Option<String>,
        conversion: Option<char>,
        spec: Option<Vec<FTok>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub pos: Pos,
    /// Byte range in the source, for statement source text.
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn is_op(&self, op: &str) -> bool {
        matches!(&self.kind, TokenKind::Op(o) if *o == op)
    }

    pub fn is_name(&self, name: &str) -> bool {
        matches!(&self.kind, TokenKind::Name(n) if n == name)
    }

    /// How the token is named in "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            TokenKind::Name(n) if is_keyword(n) => format!("keyword '{n}'"),
            TokenKind::Name(n) => format!("name '{n}'"),
            TokenKind::Int(_) | TokenKind::BigInt(..) | TokenKind::Float(_) => "a number".into(),
            TokenKind::Str(_) | TokenKind::FString(_) => "a string".into(),
            TokenKind::Bytes(_) => "a bytes literal".into(),
            TokenKind::Op(o) => format!("'{o}'"),
            TokenKind::Newline => "end of line".into(),
            TokenKind::Indent => "an indented block".into(),
            TokenKind::Dedent => "the end of a block".into(),
            TokenKind::LaneHeader(_) => "a lane header".into(),
            TokenKind::Eof => "end of file".into(),
        }
    }
}
