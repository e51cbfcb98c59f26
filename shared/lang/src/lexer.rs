//! Turns source text into tokens, Python style: NEWLINE at the end of each logical
//! line, INDENT/DEDENT for blocks, newlines ignored inside brackets, and a
//! `LaneHeader` token for each `# lane: NAME` line (which also resets indentation).
//!
//! It never fails: problems become diagnostics and lexing goes on.

use super::Diagnostic;
use super::token::{FTok, Pos, Token, TokenKind};

// Kept reachable here too: the page's highlighter names it by this path.
pub use super::token::is_keyword;

/// Multi-character operators first, so the longest one matches.
const OPERATORS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "**", "//", "==", "!=", "<=", ">=", "<<", ">>", "+=", "-=", "*=",
    "/=", "%=", "&=", "|=", "^=", "->", ":=", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";",
    "+", "-", "*", "/", "%", "<", ">", "=", "&", "|", "^", "~", "@",
];

/// Whether `name` is a valid lane name: `[A-Za-z_][A-Za-z0-9_-]*`.
pub fn is_lane_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A lane header's text split into the lane's name and the host it runs on:
/// `client @ laptop` is lane `client` on host `laptop`; `client` has no host.
pub fn split_lane_header(text: &str) -> (&str, Option<&str>) {
    match text.split_once('@') {
        Some((name, host)) => (name.trim(), Some(host.trim())),
        None => (text.trim(), None),
    }
}

/// Each lane's host (`# lane: NAME @ HOST`), for the lanes placed on one.
pub fn lane_hosts(source: &str) -> Vec<(String, String)> {
    source
        .lines()
        .filter_map(|line| {
            let header = line.trim_end().strip_prefix('#')?.trim_start().strip_prefix("lane:")?;
            let (name, host) = split_lane_header(header);
            let host = host?;
            (is_lane_name(name) && is_lane_name(host)).then(|| (name.to_owned(), host.to_owned()))
        })
        .collect()
}

pub struct Lexed {
    pub tokens: Vec<Token>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn lex(src: &str) -> Lexed {
    let mut lexer = Lexer {
        src,
        i: 0,
        line: 1,
        col: 1,
        tokens: Vec::new(),
        diagnostics: Vec::new(),
        indents: vec![String::new()],
        brackets: Vec::new(),
    };
    lexer.run();
    Lexed {
        tokens: lexer.tokens,
        diagnostics: lexer.diagnostics,
    }
}

struct Lexer<'a> {
    src: &'a str,
    /// Byte offset of the next character.
    i: usize,
    line: u32,
    col: u32,
    tokens: Vec<Token>,
    diagnostics: Vec<Diagnostic>,
    /// The indentation strings of the open blocks; the first is always "".
    indents: Vec<String>,
    /// Open brackets, for ignoring newlines inside them.
    brackets: Vec<Pos>,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.i..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.i..].chars().nth(n)
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += c.len_utf8();
        if c == '\n' || (c == '\r' && self.peek() != Some('\n')) {
            self.line += 1;
            self.col = 1;
        } else if c != '\r' {
            self.col += 1;
        }
        Some(c)
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            line: pos.line,
            col: pos.col,
            message: message.into(),
        });
    }

    fn push(&mut self, kind: TokenKind, pos: Pos, start: usize) {
        self.tokens.push(Token {
            kind,
            pos,
            start,
            end: self.i,
        });
    }

    fn at_newline(&self) -> bool {
        matches!(self.peek(), Some('\n' | '\r'))
    }

    fn last_is_newline_or_start(&self) -> bool {
        matches!(
            self.tokens.last().map(|t| &t.kind),
            None | Some(TokenKind::Newline | TokenKind::LaneHeader(_) | TokenKind::Dedent)
        )
    }

    fn newline_token(&mut self) {
        if !self.last_is_newline_or_start() {
            let pos = self.pos();
            self.push(TokenKind::Newline, pos, self.i);
        }
    }

    fn dedent_to_base(&mut self) {
        while self.indents.len() > 1 {
            self.indents.pop();
            let pos = self.pos();
            self.push(TokenKind::Dedent, pos, self.i);
        }
    }

    fn run(&mut self) {
        let mut line_start = true;
        loop {
            if line_start {
                line_start = false;
                if !self.line_start() {
                    line_start = true;
                    continue;
                }
            }
            while matches!(self.peek(), Some(' ' | '\t' | '\x0c')) {
                self.bump();
            }
            let pos = self.pos();
            let start = self.i;
            let Some(c) = self.peek() else { break };
            match c {
                '\n' | '\r' => {
                    self.bump();
                    if c == '\r' && self.peek() == Some('\n') {
                        self.bump();
                    }
                    if self.brackets.is_empty() {
                        self.newline_token();
                        line_start = true;
                    }
                }
                '#' => {
                    // A lane header inside unclosed brackets still starts a lane: it is
                    // far more likely that a bracket was left open than that the
                    // comment is part of an expression.
                    let first_on_line = self.src[..self.i]
                        .rsplit(['\n', '\r'])
                        .next()
                        .is_some_and(|s| s.trim().is_empty());
                    if first_on_line
                        && !self.brackets.is_empty()
                        && self.lane_header_name().is_some()
                    {
                        self.brackets.clear();
                        self.newline_token();
                        line_start = true;
                        continue;
                    }
                    while !self.at_newline() && self.peek().is_some() {
                        self.bump();
                    }
                }
                '\\' if matches!(self.peek_at(1), Some('\n' | '\r')) => {
                    self.bump();
                    self.bump();
                    if self.peek() == Some('\n') {
                        self.bump();
                    }
                }
                _ => self.token(pos, start, c),
            }
        }
        let pos = self.pos();
        if !self.tokens.is_empty() {
            self.newline_token();
        }
        self.dedent_to_base();
        self.push(TokenKind::Eof, pos, self.i);
    }

    /// Handles indentation, blank lines, comments and lane headers at the start of
    /// a line. Returns false when the line was consumed entirely.
    fn line_start(&mut self) -> bool {
        let indent_start = self.i;
        while matches!(self.peek(), Some(' ' | '\t' | '\x0c')) {
            self.bump();
        }
        let indent = self.src[indent_start..self.i].to_string();
        match self.peek() {
            None => return true,
            Some('\n' | '\r') => {
                self.bump();
                if self.peek() == Some('\n') && self.src[..self.i].ends_with('\r') {
                    self.bump();
                }
                return false;
            }
            Some('#') => {
                let pos = self.pos();
                let start = self.i;
                let header = self.lane_header_name();
                while !self.at_newline() && self.peek().is_some() {
                    self.bump();
                }
                if let Some(header) = header {
                    let (name, host) = split_lane_header(&header);
                    if !is_lane_name(name) {
                        self.error(
                            pos,
                            format!(
                                "invalid lane name '{name}': use letters, digits, '_' and '-', starting with a letter or '_'"
                            ),
                        );
                    } else if let Some(host) = host.filter(|host| !is_lane_name(host)) {
                        self.error(
                            pos,
                            format!(
                                "invalid host name '{host}' in '# lane: {name} @ HOST': use letters, digits, '_' and '-', starting with a letter or '_'"
                            ),
                        );
                    } else {
                        // The token keeps the header as written (`name` or `name @ host`); the parser splits it.
                        let header = match host {
                            Some(host) => format!("{name} @ {host}"),
                            None => name.to_owned(),
                        };
                        self.dedent_to_base();
                        self.push(TokenKind::LaneHeader(header), pos, start);
                    }
                }
                return true;
            }
            Some(_) => {}
        }
        let pos = self.pos();
        let top = self.indents.last().cloned().unwrap_or_default();
        if indent == top {
            return true;
        }
        if indent.starts_with(&top) {
            self.indents.push(indent);
            self.push(TokenKind::Indent, pos, self.i);
            return true;
        }
        while self.indents.len() > 1 && self.indents.last().is_some_and(|t| t.len() > indent.len())
        {
            self.indents.pop();
            self.push(TokenKind::Dedent, pos, self.i);
        }
        let top = self.indents.last().cloned().unwrap_or_default();
        if top != indent {
            if top.starts_with(&indent) || indent.starts_with(&top) {
                self.error(pos, "unindent does not match any outer indentation level");
            } else {
                self.error(pos, "inconsistent use of tabs and spaces in indentation");
            }
            if self.indents.len() > 1 {
                if let Some(last) = self.indents.last_mut() {
                    *last = indent;
                }
            } else {
                self.indents.push(indent);
                self.push(TokenKind::Indent, pos, self.i);
            }
        }
        true
    }

    /// If the text at the cursor (a `#`) is a lane header, the name it gives.
    fn lane_header_name(&self) -> Option<String> {
        let rest = &self.src[self.i..];
        let line = rest.split(['\n', '\r']).next().unwrap_or("");
        let name = line
            .strip_prefix('#')?
            .trim_start()
            .strip_prefix("lane:")?
            .trim();
        Some(name.to_string())
    }

    fn operator(&mut self, pos: Pos, start: usize, c: char) {
        let rest = &self.src[self.i..];
        let Some(op) = OPERATORS.iter().copied().find(|op| rest.starts_with(op)) else {
            self.bump();
            let what = if c == '$' || c == '?' || c == '!' || c == '`' {
                format!("unexpected character '{c}'")
            } else {
                format!("unexpected character {c:?}")
            };
            self.error(pos, what);
            return;
        };
        for _ in 0..op.chars().count() {
            self.bump();
        }
        match op {
            "(" | "[" | "{" => self.brackets.push(pos),
            ")" | "]" | "}" => {
                self.brackets.pop();
            }
            _ => {}
        }
        self.push(TokenKind::Op(op), pos, start);
    }

    fn name_or_string(&mut self, pos: Pos, start: usize) {
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.bump();
        }
        let word = &self.src[start..self.i];
        if matches!(self.peek(), Some('"' | '\'')) && word.len() <= 2 {
            let lower = word.to_ascii_lowercase();
            let prefix = StrPrefix {
                bytes: lower.contains('b'),
                raw: lower.contains('r'),
                format: lower.contains('f'),
            };
            let valid = matches!(
                lower.as_str(),
                "b" | "r" | "br" | "rb" | "f" | "fr" | "rf" | "u"
            );
            if valid {
                if prefix.format {
                    self.fstring(pos, start, prefix.raw);
                } else {
                    self.string(pos, start, prefix);
                }
                return;
            }
        }
        let word = word.to_string();
        self.push(TokenKind::Name(word), pos, start);
    }

    fn number(&mut self, pos: Pos, start: usize) {
        let radix = match (self.peek(), self.peek_at(1)) {
            (Some('0'), Some('x' | 'X')) => 16,
            (Some('0'), Some('o' | 'O')) => 8,
            (Some('0'), Some('b' | 'B')) => 2,
            _ => 10,
        };
        if radix != 10 {
            self.bump();
            self.bump();
            let digits_start = self.i;
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                self.bump();
            }
            let digits: String = self.src[digits_start..self.i]
                .chars()
                .filter(|&c| c != '_')
                .collect();
            match i64::from_str_radix(&digits, radix) {
                Ok(v) => self.push(TokenKind::Int(v), pos, start),
                Err(e) if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) => {
                    self.push(TokenKind::BigInt(digits, radix), pos, start);
                }
                Err(_) => {
                    let msg = format!("invalid number literal '{}'", &self.src[start..self.i]);
                    self.error(pos, msg);
                    self.push(TokenKind::Int(0), pos, start);
                }
            }
            return;
        }
        let mut is_float = false;
        self.digits();
        if self.peek() == Some('.')
            && !self
                .peek_at(1)
                .is_some_and(|c| c.is_alphabetic() || c == '_')
        {
            is_float = true;
            self.bump();
            self.digits();
        }
        if matches!(self.peek(), Some('e' | 'E'))
            && (self.peek_at(1).is_some_and(|c| c.is_ascii_digit())
                || (matches!(self.peek_at(1), Some('+' | '-'))
                    && self.peek_at(2).is_some_and(|c| c.is_ascii_digit())))
        {
            is_float = true;
            self.bump();
            self.bump();
            self.digits();
        }
        let text: String = self.src[start..self.i]
            .chars()
            .filter(|&c| c != '_')
            .collect();
        if self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                self.bump();
            }
            self.error(
                pos,
                format!("invalid number literal '{}'", &self.src[start..self.i]),
            );
            self.push(TokenKind::Int(0), pos, start);
            return;
        }
        if is_float {
            let value = text.parse::<f64>().unwrap_or(0.0);
            self.push(TokenKind::Float(value), pos, start);
        } else {
            let trimmed = text.trim_start_matches('0');
            if text.len() > 1 && text.starts_with('0') && !trimmed.is_empty() {
                self.error(
                    pos,
                    "leading zeros are not allowed in numbers (use 0o for octal)",
                );
            }
            match text.parse::<i64>() {
                Ok(v) => self.push(TokenKind::Int(v), pos, start),
                // Only digits are left, so the one failure is a value past i64.
                Err(_) => self.push(TokenKind::BigInt(text, 10), pos, start),
            }
        }
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '_') {
            self.bump();
        }
    }

    fn string(&mut self, pos: Pos, start: usize, prefix: StrPrefix) {
        let Some(quote) = self.bump() else { return };
        let triple = self.peek() == Some(quote) && self.peek_at(1) == Some(quote);
        if triple {
            self.bump();
            self.bump();
        }
        // Built as raw bytes (UTF-8 for str) so \x escapes in bytes stay bytes.
        let mut out: Vec<u8> = Vec::new();
        let mut terminated = false;
        while let Some(c) = self.peek() {
            if self.at_close(quote, triple) {
                self.eat_close(triple);
                terminated = true;
                break;
            }
            if (c == '\n' || c == '\r') && !triple {
                break;
            }
            let char_pos = self.pos();
            self.bump();
            if c == '\\' && !prefix.raw {
                self.escape(char_pos, prefix.bytes, &mut out);
                continue;
            }
            if c == '\\' && prefix.raw {
                // In raw strings a backslash still keeps a following quote in the string.
                out.push(b'\\');
                if let Some(next) = self.peek().filter(|&n| n == quote || n == '\\') {
                    self.bump();
                    push_char(&mut out, next);
                }
                continue;
            }
            if prefix.bytes && !c.is_ascii() {
                self.error(char_pos, "bytes can only contain ASCII literal characters");
                continue;
            }
            if c == '\r' && self.peek() == Some('\n') {
                continue;
            }
            push_char(&mut out, if c == '\r' { '\n' } else { c });
        }
        if !terminated {
            let what = if triple {
                "unterminated triple-quoted string literal"
            } else {
                "unterminated string literal"
            };
            self.error(pos, what);
        }
        let kind = if prefix.bytes {
            TokenKind::Bytes(out)
        } else {
            TokenKind::Str(String::from_utf8_lossy(&out).into_owned())
        };
        self.push(kind, pos, start);
    }

    /// One escape sequence after a backslash (already consumed).
    fn escape(&mut self, pos: Pos, bytes: bool, out: &mut Vec<u8>) {
        let Some(c) = self.peek() else { return };
        let simple = match c {
            '\n' | '\r' => {
                // Backslash-newline continues the string on the next line.
                self.bump();
                if c == '\r' && self.peek() == Some('\n') {
                    self.bump();
                }
                return;
            }
            '\\' => Some(b'\\'),
            '\'' => Some(b'\''),
            '"' => Some(b'"'),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'a' => Some(0x07),
            'b' => Some(0x08),
            'f' => Some(0x0c),
            'v' => Some(0x0b),
            _ => None,
        };
        if let Some(b) = simple {
            self.bump();
            out.push(b);
            return;
        }
        match c {
            '0'..='7' => {
                let mut value = 0u32;
                let mut n = 0;
                while n < 3 && self.peek().is_some_and(|d| ('0'..='7').contains(&d)) {
                    value = value * 8 + self.peek().and_then(|d| d.to_digit(8)).unwrap_or(0);
                    self.bump();
                    n += 1;
                }
                self.push_code(pos, value, bytes, out);
            }
            'x' => {
                self.bump();
                self.hex_escape(pos, 2, "\\xhh", bytes, out);
            }
            'u' | 'U' if !bytes => {
                self.bump();
                let n = if c == 'u' { 4 } else { 8 };
                self.hex_escape(
                    pos,
                    n,
                    if c == 'u' { "\\uXXXX" } else { "\\UXXXXXXXX" },
                    bytes,
                    out,
                );
            }
            other => {
                self.bump();
                self.error(pos, format!("invalid escape sequence '\\{other}'"));
                out.push(b'\\');
                push_char(out, other);
            }
        }
    }

    fn hex_escape(&mut self, pos: Pos, digits: usize, form: &str, bytes: bool, out: &mut Vec<u8>) {
        let mut value = 0u32;
        for _ in 0..digits {
            match self.peek().and_then(|d| d.to_digit(16)) {
                Some(d) => {
                    value = value * 16 + d;
                    self.bump();
                }
                None => {
                    self.error(pos, format!("truncated escape sequence: expected {form}"));
                    return;
                }
            }
        }
        self.push_code(pos, value, bytes, out);
    }

    fn push_code(&mut self, pos: Pos, value: u32, bytes: bool, out: &mut Vec<u8>) {
        if bytes {
            match u8::try_from(value) {
                Ok(b) => out.push(b),
                Err(_) => self.error(pos, "escape sequence value is larger than a byte"),
            }
        } else {
            match char::from_u32(value) {
                Some(ch) => push_char(out, ch),
                None => self.error(pos, "escape sequence is not a valid Unicode character"),
            }
        }
    }
}

/// f-strings, as Python 3.11 reads them: the expressions are found by
/// scanning (brackets and nested strings skipped; the outer quote ends the
/// string, a backslash or `#` is an error) and then lexed in place, so their
/// tokens carry their positions in the file.
impl Lexer<'_> {
    fn fstring(&mut self, pos: Pos, start: usize, raw: bool) {
        let Some(quote) = self.bump() else { return };
        let triple = self.peek() == Some(quote) && self.peek_at(1) == Some(quote);
        if triple {
            self.bump();
            self.bump();
        }
        let (parts, terminated) = self.fstring_parts(quote, triple, raw, 0);
        if !terminated {
            let what = if triple {
                "unterminated triple-quoted string literal"
            } else {
                "unterminated string literal"
            };
            self.error(pos, what);
        }
        self.push(TokenKind::FString(parts), pos, start);
    }

    /// Whether the cursor is at the string's closing quote(s).
    fn at_close(&self, quote: char, triple: bool) -> bool {
        self.peek() == Some(quote)
            && (!triple || (self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote)))
    }

    /// Consumes the closing quote (three for a triple-quoted string).
    fn eat_close(&mut self, triple: bool) {
        for _ in 0..if triple { 3 } else { 1 } {
            self.bump();
        }
    }

    /// Literal text and fields up to the closing quote (consumed; returns true)
    /// or, inside a format spec (`nest > 0`), up to the field's `}` (not consumed).
    fn fstring_parts(
        &mut self,
        quote: char,
        triple: bool,
        raw: bool,
        nest: u32,
    ) -> (Vec<FTok>, bool) {
        let mut parts = Vec::new();
        let mut text: Vec<u8> = Vec::new();
        let mut terminated = false;
        let flush = |text: &mut Vec<u8>, parts: &mut Vec<FTok>| {
            if !text.is_empty() {
                parts.push(FTok::Lit(String::from_utf8_lossy(text).into_owned()));
                text.clear();
            }
        };
        while let Some(c) = self.peek() {
            if self.at_close(quote, triple) {
                if nest == 0 {
                    self.eat_close(triple);
                    terminated = true;
                }
                break;
            }
            if (c == '\n' || c == '\r') && !triple {
                break;
            }
            let char_pos = self.pos();
            if c == '}' && nest > 0 {
                break;
            }
            self.bump();
            match c {
                '{' if nest == 0 && self.peek() == Some('{') => {
                    self.bump();
                    text.push(b'{');
                }
                '{' => {
                    flush(&mut text, &mut parts);
                    if nest >= 2 {
                        self.error(char_pos, "f-string: expressions nested too deeply");
                    }
                    match self.fstring_field(quote, triple, raw, nest) {
                        Some(field) => parts.push(field),
                        None => {
                            // Skip to the string's end: the rest would only add noise.
                            while self.peek().is_some()
                                && !self.at_close(quote, triple)
                                && (triple || !self.at_newline())
                            {
                                self.bump();
                            }
                        }
                    }
                }
                '}' if self.peek() == Some('}') => {
                    self.bump();
                    text.push(b'}');
                }
                '}' => self.error(char_pos, "f-string: single '}' is not allowed"),
                '\\' if !raw => self.escape(char_pos, false, &mut text),
                '\\' => {
                    text.push(b'\\');
                    if let Some(next) = self.peek().filter(|&n| n == quote || n == '\\') {
                        self.bump();
                        push_char(&mut text, next);
                    }
                }
                '\r' if self.peek() == Some('\n') => {}
                '\r' => text.push(b'\n'),
                c => push_char(&mut text, c),
            }
        }
        flush(&mut text, &mut parts);
        (parts, terminated)
    }

    /// One `{expr[=][!c][:spec]}` after its `{`; None after an error.
    fn fstring_field(&mut self, quote: char, triple: bool, raw: bool, nest: u32) -> Option<FTok> {
        let expr_start = self.i;
        let expr_pos = self.pos();
        let mut depth = 0u32;
        let mut debug = false;
        loop {
            let Some(c) = self.peek() else {
                self.error(expr_pos, "f-string: expecting '}'");
                return None;
            };
            if self.at_close(quote, triple) || ((c == '\n' || c == '\r') && !triple) {
                self.error(self.pos(), "f-string: expecting '}'");
                return None;
            }
            let next = self.peek_at(1);
            match c {
                '\\' => {
                    self.error(
                        self.pos(),
                        "f-string expression part cannot include a backslash",
                    );
                    return None;
                }
                '#' => {
                    self.error(self.pos(), "f-string expression part cannot include '#'");
                    return None;
                }
                '\'' | '"' => {
                    // A string inside the expression: skipped here, lexed below.
                    let inner_triple = next == Some(c) && self.peek_at(2) == Some(c);
                    let n = if inner_triple { 3 } else { 1 };
                    for _ in 0..n {
                        self.bump();
                    }
                    while self.peek().is_some() && !self.at_close(c, inner_triple) {
                        if self.at_close(quote, triple) || (!triple && self.at_newline()) {
                            self.error(expr_pos, "f-string: unterminated string");
                            return None;
                        }
                        if self.peek() == Some('\\') {
                            self.error(
                                self.pos(),
                                "f-string expression part cannot include a backslash",
                            );
                            return None;
                        }
                        self.bump();
                    }
                    for _ in 0..n {
                        self.bump();
                    }
                    continue;
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth > 0 => depth -= 1,
                '}' => break,
                '!' if depth == 0 && next != Some('=') => break,
                ':' if depth == 0 => break,
                '=' if depth == 0
                    && next != Some('=')
                    && !self.src[..self.i].ends_with(['=', '!', '<', '>']) =>
                {
                    debug = true;
                    break;
                }
                _ => {}
            }
            self.bump();
        }
        let expr_end = self.i;
        if self.src[expr_start..expr_end].trim().is_empty() {
            self.error(expr_pos, "f-string: empty expression not allowed");
            return None;
        }
        let tokens = self.lex_fragment(expr_start, expr_end, expr_pos);
        let debug = if debug {
            self.bump();
            while matches!(self.peek(), Some(' ' | '\t')) {
                self.bump();
            }
            Some(self.src[expr_start..self.i].to_string())
        } else {
            None
        };
        let mut conversion = None;
        if self.peek() == Some('!') {
            self.bump();
            match self.peek() {
                Some(c @ ('r' | 's' | 'a')) => {
                    self.bump();
                    conversion = Some(c);
                }
                _ => {
                    self.error(
                        self.pos(),
                        "f-string: invalid conversion character: expected 's', 'r', or 'a'",
                    );
                    return None;
                }
            }
        }
        let mut spec = None;
        if self.peek() == Some(':') {
            self.bump();
            let (parts, _) = self.fstring_parts(quote, triple, raw, nest + 1);
            spec = Some(parts);
        }
        if self.peek() != Some('}') {
            self.error(self.pos(), "f-string: expecting '}'");
            return None;
        }
        self.bump();
        Some(FTok::Field {
            tokens,
            debug,
            conversion,
            spec,
        })
    }

    /// Lexes `src[start..end]` (an f-string's expression) as an expression
    /// inside brackets: newlines are just space. The tokens end with `Eof`.
    fn lex_fragment(&mut self, start: usize, end: usize, pos: Pos) -> Vec<Token> {
        let mut sub = Lexer {
            src: &self.src[..end],
            i: start,
            line: pos.line,
            col: pos.col,
            tokens: Vec::new(),
            diagnostics: Vec::new(),
            indents: vec![String::new()],
            brackets: vec![pos],
        };
        loop {
            while matches!(sub.peek(), Some(' ' | '\t' | '\x0c' | '\n' | '\r')) {
                sub.bump();
            }
            let pos = sub.pos();
            let start = sub.i;
            let Some(c) = sub.peek() else { break };
            sub.token(pos, start, c);
        }
        let end_pos = sub.pos();
        sub.push(TokenKind::Eof, end_pos, sub.i);
        self.diagnostics.append(&mut sub.diagnostics);
        sub.tokens
    }

    /// Lexes a number, name, string or operator starting with `c`.
    fn token(&mut self, pos: Pos, start: usize, c: char) {
        match c {
            c if c.is_ascii_digit()
                || (c == '.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.number(pos, start);
            }
            c if c.is_alphabetic() || c == '_' => self.name_or_string(pos, start),
            '"' | '\'' => self.string(pos, start, StrPrefix::default()),
            _ => self.operator(pos, start, c),
        }
    }
}

#[derive(Default, Clone, Copy)]
struct StrPrefix {
    bytes: bool,
    raw: bool,
    format: bool,
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        lex(src).tokens.into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn indentation_and_brackets() {
        use TokenKind::*;
        let k = kinds("if x:\n    f(1,\n 2)\ny\n");
        assert_eq!(
            k,
            vec![
                Name("if".into()),
                Name("x".into()),
                Op(":"),
                Newline,
                Indent,
                Name("f".into()),
                Op("("),
                Int(1),
                Op(","),
                Int(2),
                Op(")"),
                Newline,
                Dedent,
                Name("y".into()),
                Newline,
                Eof
            ]
        );
    }

    #[test]
    fn lanes_on_hosts() {
        let parsed = crate::parse("# lane: client @ laptop\nx = 1\n# lane: server@server\ny = 2\n# lane: other\nz = 3\n");
        assert!(parsed.diagnostics.is_empty());
        let hosts: Vec<_> = parsed.script.lanes.iter().map(|l| (l.name.as_str(), l.host.as_deref())).collect();
        assert_eq!(hosts, [("client", Some("laptop")), ("server", Some("server")), ("other", None)]);
        assert_eq!(parsed.script.hosts(), ["laptop", "server"]);
        let bad = lex("# lane: client @ 9lives\nx = 1\n");
        assert!(bad.diagnostics[0].message.contains("invalid host name '9lives'"), "{:?}", bad.diagnostics);
        assert_eq!(split_lane_header(" a @ b "), ("a", Some("b")));
    }

    #[test]
    fn escapes() {
        let k = kinds(r#"b"\x00\r\n\\" '\u00e9\101'"#);
        assert_eq!(k[0], TokenKind::Bytes(vec![0, b'\r', b'\n', b'\\']));
        assert_eq!(k[1], TokenKind::Str("éA".into()));
    }

    #[test]
    fn crlf_and_lane_headers() {
        let lexed = lex("x = 1\r\n# lane: b-2\r\n  \r\ny = 2\r\n");
        assert!(lexed.diagnostics.is_empty(), "{:?}", lexed.diagnostics);
        assert!(
            lexed
                .tokens
                .iter()
                .any(|t| t.kind == TokenKind::LaneHeader("b-2".into()))
        );
        assert_eq!(
            lexed.tokens.iter().find(|t| t.is_name("y")).map(|t| t.pos),
            Some(Pos { line: 4, col: 1 })
        );
    }
}
