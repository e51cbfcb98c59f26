//! The `json` module: `dumps` with CPython's exact layout (indent, separators,
//! sort_keys, ensure_ascii) and `loads` with its `JSONDecodeError` messages.

use super::dict;
use super::exception::Exception;
use super::repr::float_repr;
use super::value::{Value, lock, py_cmp};
use crate::literal::quoted;
use crate::names::ExcClass;

pub struct DumpOptions {
    /// The indent string, or None for one line.
    pub indent: Option<String>,
    pub item_sep: String,
    pub key_sep: String,
    pub sort_keys: bool,
    pub ensure_ascii: bool,
}

/// Nesting deeper than this is refused (CPython raises RecursionError).
const MAX_DEPTH: usize = 200;

pub fn dumps(v: &Value, opts: &DumpOptions) -> Result<String, Exception> {
    let mut out = String::new();
    dump(v, opts, 0, &mut out)?;
    Ok(out)
}

fn newline(opts: &DumpOptions, level: usize, out: &mut String) {
    if let Some(ind) = &opts.indent {
        out.push('\n');
        for _ in 0..level {
            out.push_str(ind);
        }
    }
}

fn dump(v: &Value, opts: &DumpOptions, level: usize, out: &mut String) -> Result<(), Exception> {
    if level > MAX_DEPTH {
        return Err(Exception::new(
            ExcClass::RecursionError,
            "maximum recursion depth exceeded while encoding a JSON object",
        ));
    }
    match v {
        Value::None => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::BigInt(b) => out.push_str(&super::bigint::to_decimal(b)?),
        Value::Float(f) => out.push_str(&float_text(*f)),
        Value::Str(s) => quote(s, opts.ensure_ascii, out),
        Value::List(_) | Value::Tuple(_) => {
            let items = match v {
                Value::List(l) => lock(l).to_vec(),
                Value::Tuple(t) => t.to_vec(),
                _ => Vec::new(),
            };
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&opts.item_sep);
                }
                newline(opts, level + 1, out);
                dump(item, opts, level + 1, out)?;
            }
            newline(opts, level, out);
            out.push(']');
        }
        Value::Dict(d) => {
            let mut items = lock(d).clone();
            if items.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            if opts.sort_keys {
                let mut failed = None;
                items.sort_by(|(a, _), (b, _)| {
                    py_cmp(a, b).unwrap_or_else(|| {
                        failed.get_or_insert((a.type_name(), b.type_name()));
                        std::cmp::Ordering::Equal
                    })
                });
                if let Some((a, b)) = failed {
                    return Err(Exception::type_error(format!(
                        "'<' not supported between instances of '{a}' and '{b}'"
                    )));
                }
            }
            out.push('{');
            for (i, (k, val)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&opts.item_sep);
                }
                newline(opts, level + 1, out);
                let key = match k {
                    Value::Str(s) => s.to_string(),
                    Value::None | Value::Bool(_) | Value::Int(_) | Value::BigInt(_) | Value::Float(_) => {
                        let mut t = String::new();
                        dump(k, opts, level, &mut t)?;
                        t
                    }
                    other => {
                        return Err(Exception::type_error(format!(
                            "keys must be str, int, float, bool or None, not {}",
                            other.type_name()
                        )));
                    }
                };
                quote(&key, opts.ensure_ascii, out);
                out.push_str(&opts.key_sep);
                dump(val, opts, level + 1, out)?;
            }
            newline(opts, level, out);
            out.push('}');
        }
        other => {
            return Err(Exception::type_error(format!(
                "Object of type {} is not JSON serializable",
                other.type_name()
            )));
        }
    }
    Ok(())
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        float_repr(f)
    }
}

fn quote(s: &str, ascii: bool, out: &mut String) {
    out.push_str(&quoted("", s.chars(), |c| match c {
        '\u{8}' => Some("\\b".into()),
        '\u{c}' => Some("\\f".into()),
        c if (c as u32) < 0x20 || (ascii && !c.is_ascii()) => {
            let mut buf = [0u16; 2];
            Some(c.encode_utf16(&mut buf).iter().map(|unit| format!("\\u{unit:04x}")).collect())
        }
        _ => None,
    }));
}

// ---- loads ----

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    doc: &'a str,
}

/// `json.loads(text)`.
pub fn loads(doc: &str) -> Result<Value, Exception> {
    let mut p = Parser {
        chars: doc.chars().collect(),
        pos: 0,
        doc,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.pos < p.chars.len() {
        return Err(p.error("Extra data", p.pos));
    }
    Ok(v)
}

impl Parser<'_> {
    fn error(&self, msg: &str, pos: usize) -> Exception {
        let before: String = self.chars[..pos.min(self.chars.len())].iter().collect();
        let line = before.matches('\n').count() + 1;
        let col = match before.rfind('\n') {
            Some(nl) => before[nl + 1..].chars().count() + 1,
            None => pos + 1,
        };
        let _ = self.doc;
        Exception::new(
            ExcClass::JsonDecodeError,
            format!("{msg}: line {line} column {col} (char {pos})"),
        )
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn starts(&self, word: &str) -> bool {
        word.chars()
            .enumerate()
            .all(|(i, c)| self.chars.get(self.pos + i) == Some(&c))
    }

    fn value(&mut self, depth: usize) -> Result<Value, Exception> {
        if depth > MAX_DEPTH {
            return Err(Exception::new(
                ExcClass::RecursionError,
                "maximum recursion depth exceeded while decoding a JSON document",
            ));
        }
        let start = self.pos;
        for (word, v) in [
            ("null", Value::None),
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("NaN", Value::Float(f64::NAN)),
            ("Infinity", Value::Float(f64::INFINITY)),
            ("-Infinity", Value::Float(f64::NEG_INFINITY)),
        ] {
            if self.starts(word) {
                self.pos += word.chars().count();
                return Ok(v);
            }
        }
        match self.peek() {
            Some('"') => self.string().map(Value::str),
            Some('[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(']') {
                    self.pos += 1;
                    return Ok(Value::list(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek() {
                        Some(']') => {
                            self.pos += 1;
                            return Ok(Value::list(items));
                        }
                        Some(',') => self.pos += 1,
                        _ => return Err(self.error("Expecting ',' delimiter", self.pos)),
                    }
                }
            }
            Some('{') => {
                self.pos += 1;
                let d = dict::new(Vec::new());
                let Value::Dict(pairs) = &d else {
                    return Ok(d);
                };
                self.ws();
                if self.peek() == Some('}') {
                    self.pos += 1;
                    return Ok(d);
                }
                loop {
                    self.ws();
                    if self.peek() != Some('"') {
                        return Err(self.error(
                            "Expecting property name enclosed in double quotes",
                            self.pos,
                        ));
                    }
                    let key = self.string()?;
                    self.ws();
                    if self.peek() != Some(':') {
                        return Err(self.error("Expecting ':' delimiter", self.pos));
                    }
                    self.pos += 1;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    dict::set(pairs, Value::str(key), v)?;
                    self.ws();
                    match self.peek() {
                        Some('}') => {
                            self.pos += 1;
                            return Ok(d);
                        }
                        Some(',') => self.pos += 1,
                        _ => return Err(self.error("Expecting ',' delimiter", self.pos)),
                    }
                }
            }
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(start),
            _ => Err(self.error("Expecting value", start)),
        }
    }

    fn number(&mut self, start: usize) -> Result<Value, Exception> {
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos - s
        };
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        if self.peek() == Some('0') {
            self.pos += 1;
        } else if digits(self) == 0 {
            return Err(self.error("Expecting value", start));
        }
        let mut is_float = false;
        if self.peek() == Some('.') && self.chars.get(self.pos + 1).is_some_and(char::is_ascii_digit) {
            self.pos += 1;
            digits(self);
            is_float = true;
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                self.pos = save;
            } else {
                is_float = true;
            }
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        if is_float {
            Ok(Value::Float(text.parse().unwrap_or(f64::NAN)))
        } else {
            match text.parse() {
                Ok(i) => Ok(Value::Int(i)),
                Err(_) => {
                    let (negative, digits) = match text.strip_prefix('-') {
                        Some(rest) => (true, rest),
                        None => (false, text.as_str()),
                    };
                    let parsed = super::bigint::parse(digits, 10, negative)?;
                    Ok(parsed.unwrap_or(Value::Int(0)))
                }
            }
        }
    }

    fn string(&mut self) -> Result<String, Exception> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("Unterminated string starting at", start));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                '\\' => {
                    let esc = self.chars.get(self.pos + 1).copied();
                    let simple = match esc {
                        Some('"') => Some('"'),
                        Some('\\') => Some('\\'),
                        Some('/') => Some('/'),
                        Some('b') => Some('\u{8}'),
                        Some('f') => Some('\u{c}'),
                        Some('n') => Some('\n'),
                        Some('r') => Some('\r'),
                        Some('t') => Some('\t'),
                        _ => None,
                    };
                    if let Some(s) = simple {
                        out.push(s);
                        self.pos += 2;
                        continue;
                    }
                    if esc != Some('u') {
                        if esc.is_none() {
                            return Err(self.error("Unterminated string starting at", start));
                        }
                        return Err(self.error("Invalid \\escape", self.pos));
                    }
                    let unit = self.hex4(self.pos + 2)?;
                    self.pos += 6;
                    let mut code = unit;
                    if (0xd800..0xdc00).contains(&unit)
                        && self.starts("\\u")
                        && let Ok(low) = self.hex4(self.pos + 2)
                        && (0xdc00..0xe000).contains(&low)
                    {
                        code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                        self.pos += 6;
                    }
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.error("Invalid control character at", self.pos));
                }
                c => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn hex4(&self, at: usize) -> Result<u32, Exception> {
        let text: String = self.chars.get(at..at + 4).map(|s| s.iter().collect()).unwrap_or_default();
        if text.len() == 4 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            u32::from_str_radix(&text, 16).map_err(|_| self.error("Invalid \\uXXXX escape", at - 1))
        } else {
            Err(self.error("Invalid \\uXXXX escape", at - 1))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_escape_like_python() {
        let mut out = String::new();
        super::quote("a\"\\\n\r\t\u{8}\u{c}\u{1}é😀", true, &mut out);
        assert_eq!(out, r#""a\"\\\n\r\t\b\f\u0001\u00e9\ud83d\ude00""#);
        out.clear();
        super::quote("\u{1}é", false, &mut out);
        assert_eq!(out, "\"\\u0001é\"");
    }
}
