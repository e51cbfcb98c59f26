//! String formatting as CPython 3.11 does it: the format-spec mini-language
//! (`format()`, `str.format`, f-strings) and printf-style `%` for str and bytes,
//! with CPython's results and error messages.
//!
//! Floats round half-to-even on their exact binary value (Rust's `{:.N}` and
//! `{:.Ne}` do exactly that), so `format(2.675, '.2f')` is `'2.67'` as in CPython.

use std::fmt::Write as _;

use super::exception::Exception;
use super::methods;
use super::ops::{self, MAX_SIZE};
use super::repr::float_repr;
use super::value::Value;
use crate::names::ExcClass;

fn value_error(msg: impl Into<String>) -> Exception {
    Exception::value_error(msg)
}

/// A parsed format spec: `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`.
#[derive(Debug, Clone)]
struct Spec {
    fill: char,
    align: char,
    sign: Option<char>,
    z: bool,
    alt: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    /// The type code; the object's default when the spec has none ('\0' for float).
    ty: char,
}

/// Reads a run of decimal digits as a size; CPython's message when it overflows.
fn read_number(chars: &[char], i: &mut usize) -> Result<Option<usize>, Exception> {
    let start = *i;
    let mut n: usize = 0;
    let mut overflow = false;
    while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
        match n.checked_mul(10).and_then(|n| n.checked_add(d as usize)) {
            Some(v) if v <= isize::MAX as usize => n = v,
            _ => overflow = true,
        }
        *i += 1;
    }
    if overflow {
        return Err(value_error("Too many decimal digits in format string"));
    }
    Ok((*i > start).then_some(n))
}

fn parse_spec(
    spec: &str,
    type_name: &str,
    default_type: char,
    numeric: bool,
) -> Result<Spec, Exception> {
    let chars: Vec<char> = spec.chars().collect();
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    let mut i = 0;
    let mut fill = ' ';
    let mut fill_given = false;
    let mut align = None;
    if chars.len() >= 2 && is_align(chars[1]) {
        fill = chars[0];
        fill_given = true;
        align = Some(chars[1]);
        i = 2;
    } else if chars.first().is_some_and(|&c| is_align(c)) {
        align = Some(chars[0]);
        i = 1;
    }
    let mut sign = None;
    if let Some(&c @ ('+' | '-' | ' ')) = chars.get(i) {
        sign = Some(c);
        i += 1;
    }
    let z = chars.get(i) == Some(&'z');
    if z {
        i += 1;
    }
    let alt = chars.get(i) == Some(&'#');
    if alt {
        i += 1;
    }
    // A leading '0' means zero fill, and for numbers sign-aware padding, unless
    // a fill character was given.
    if !fill_given && chars.get(i) == Some(&'0') {
        fill = '0';
        if align.is_none() && numeric {
            align = Some('=');
        }
        i += 1;
    }
    let width = read_number(&chars, &mut i)?.unwrap_or(0);
    let mut grouping = None;
    if chars.get(i) == Some(&',') {
        grouping = Some(',');
        i += 1;
    }
    if chars.get(i) == Some(&'_') {
        if grouping.is_some() {
            return Err(value_error("Cannot specify both ',' and '_'."));
        }
        grouping = Some('_');
        i += 1;
    }
    if chars.get(i) == Some(&',') && grouping == Some('_') {
        return Err(value_error("Cannot specify both ',' and '_'."));
    }
    let mut precision = None;
    if chars.get(i) == Some(&'.') {
        i += 1;
        precision = read_number(&chars, &mut i)?;
        if precision.is_none() {
            return Err(value_error("Format specifier missing precision"));
        }
    }
    if chars.len() - i > 1 {
        return Err(value_error(format!(
            "Invalid format specifier '{spec}' for object of type '{type_name}'"
        )));
    }
    let ty = chars.get(i).copied().unwrap_or(default_type);
    if let Some(g) = grouping {
        let ok = match ty {
            '\0' | 'd' | 'e' | 'f' | 'g' | 'E' | 'F' | 'G' | '%' => true,
            'b' | 'o' | 'x' | 'X' => g == '_',
            _ => false,
        };
        if !ok {
            return Err(value_error(format!("Cannot specify '{g}' with '{ty}'.")));
        }
    }
    if width > MAX_SIZE || precision.is_some_and(|p| p > MAX_SIZE) {
        return Err(Exception::memory());
    }
    Ok(Spec {
        fill,
        align: align.unwrap_or(if numeric { '>' } else { '<' }),
        sign,
        z,
        alt,
        width,
        grouping,
        precision,
        ty,
    })
}

fn unknown_code(ty: char, type_name: &str) -> Exception {
    value_error(format!(
        "Unknown format code '{ty}' for object of type '{type_name}'"
    ))
}

/// `format(value, spec)`: what `str.format` and f-strings call for each field.
pub fn format_value(v: &Value, spec: &str) -> Result<String, Exception> {
    if spec.is_empty() {
        return super::bigint::checked_str(v);
    }
    match v {
        Value::Str(s) => format_str(s, spec),
        Value::Int(i) => format_int(Int::Small(*i), spec, "int"),
        Value::BigInt(b) => format_int(Int::Big(b.clone()), spec, "int"),
        Value::Bool(b) => format_int(Int::Small(i64::from(*b)), spec, "bool"),
        Value::IntEnum(e) => format_int(Int::Small(e.value), spec, "int"),
        Value::Float(f) => format_float(*f, spec),
        other => Err(Exception::type_error(format!(
            "unsupported format string passed to {}.__format__",
            other.type_name()
        ))),
    }
}

fn format_str(s: &str, spec: &str) -> Result<String, Exception> {
    let spec = parse_spec(spec, "str", 's', false)?;
    if spec.ty != 's' {
        return Err(unknown_code(spec.ty, "str"));
    }
    if spec.sign.is_some() {
        return Err(value_error("Sign not allowed in string format specifier"));
    }
    if spec.z {
        return Err(value_error(
            "Negative zero coercion (z) not allowed in string format specifier",
        ));
    }
    if spec.alt {
        return Err(value_error(
            "Alternate form (#) not allowed in string format specifier",
        ));
    }
    if spec.align == '=' {
        return Err(value_error(
            "'=' alignment not allowed in string format specifier",
        ));
    }
    let text: String = match spec.precision {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    };
    Ok(pad(&text, spec.width, spec.align, spec.fill))
}

/// Pads `text` to `width` characters.
fn pad(text: &str, width: usize, align: char, fill: char) -> String {
    let len = text.chars().count();
    if len >= width {
        return text.to_string();
    }
    let n = width - len;
    let (left, right) = match align {
        '<' => (0, n),
        '^' => (n / 2, n - n / 2),
        _ => (n, 0),
    };
    let mut out = String::with_capacity(text.len() + n);
    out.extend(std::iter::repeat_n(fill, left));
    out.push_str(text);
    out.extend(std::iter::repeat_n(fill, right));
    out
}

/// The parts of a formatted number, laid out by [`layout`].
struct Number<'a> {
    /// "-", "+", " " or "".
    sign: &'a str,
    /// "0x" and friends.
    prefix: &'a str,
    /// The integer digits, before grouping.
    digits: &'a str,
    /// Everything after the integer digits: fraction, exponent, '%'.
    rest: &'a str,
}

/// Groups, pads and aligns a number as CPython does; zero fill with `=` pads
/// the digits themselves, separators included.
fn layout(n: &Number<'_>, spec: &Spec, interval: usize) -> String {
    let fixed = n.sign.len() + n.prefix.len() + n.rest.chars().count();
    let mut digits = n.digits.to_string();
    if let Some(sep) = spec.grouping {
        let mut count = digits.len();
        if spec.fill == '0' && spec.align == '=' {
            let min = spec.width.saturating_sub(fixed);
            while count + (count.max(1) - 1) / interval < min {
                count += 1;
            }
        }
        let padded = format!("{}{}", "0".repeat(count - digits.len()), digits);
        let mut grouped = String::with_capacity(count + count / interval);
        for (i, c) in padded.chars().enumerate() {
            if i > 0 && (count - i).is_multiple_of(interval) {
                grouped.push(sep);
            }
            grouped.push(c);
        }
        digits = grouped;
    }
    let body_len = fixed + digits.chars().count();
    if spec.align == '=' && body_len < spec.width {
        let fill: String = std::iter::repeat_n(spec.fill, spec.width - body_len).collect();
        return format!("{}{}{fill}{digits}{}", n.sign, n.prefix, n.rest);
    }
    let body = format!("{}{}{digits}{}", n.sign, n.prefix, n.rest);
    pad(&body, spec.width, spec.align, spec.fill)
}

fn sign_str(negative: bool, sign: Option<char>) -> &'static str {
    match (negative, sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    }
}

/// An int to format: the i64 fast path, or a big one.
enum Int {
    Small(i64),
    Big(std::sync::Arc<num_bigint::BigInt>),
}

impl Int {
    fn negative(&self) -> bool {
        match self {
            Int::Small(i) => *i < 0,
            Int::Big(b) => num_traits::Signed::is_negative(&**b),
        }
    }

    fn to_f64(&self) -> Result<f64, Exception> {
        match self {
            Int::Small(i) => Ok(*i as f64),
            Int::Big(b) => super::bigint::to_f64(b),
        }
    }

    /// The magnitude's digits for a format type (`d` and the rest in decimal).
    fn digits(&self, ty: char) -> Result<String, Exception> {
        let Int::Big(b) = self else {
            let Int::Small(i) = self else { unreachable!() };
            let mag = i.unsigned_abs();
            return Ok(match ty {
                'b' => format!("{mag:b}"),
                'o' => format!("{mag:o}"),
                'x' => format!("{mag:x}"),
                'X' => format!("{mag:X}"),
                _ => mag.to_string(),
            });
        };
        Ok(match ty {
            'b' => super::bigint::radix_digits(b, 2),
            'o' => super::bigint::radix_digits(b, 8),
            'x' => super::bigint::radix_digits(b, 16),
            'X' => super::bigint::radix_digits(b, 16).to_ascii_uppercase(),
            _ => super::bigint::to_decimal(b)?.trim_start_matches('-').to_string(),
        })
    }
}

fn format_int(i: Int, spec_text: &str, type_name: &str) -> Result<String, Exception> {
    let spec = parse_spec(spec_text, type_name, 'd', true)?;
    match spec.ty {
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%' => return float_spec(i.to_f64()?, &spec),
        'b' | 'c' | 'd' | 'o' | 'x' | 'X' | 'n' => {}
        other => return Err(unknown_code(other, type_name)),
    }
    if spec.precision.is_some() {
        return Err(value_error(
            "Precision not allowed in integer format specifier",
        ));
    }
    if spec.z {
        return Err(value_error(
            "Negative zero coercion (z) not allowed in integer format specifier",
        ));
    }
    if spec.ty == 'c' {
        if spec.sign.is_some() {
            return Err(value_error(
                "Sign not allowed with integer format specifier 'c'",
            ));
        }
        if spec.alt {
            return Err(value_error(
                "Alternate form (#) not allowed with integer format specifier 'c'",
            ));
        }
        let c = char_of(match i {
            Int::Small(i) => i,
            Int::Big(_) => -1,
        })?;
        let text = c.to_string();
        let n = Number {
            sign: "",
            prefix: "",
            digits: &text,
            rest: "",
        };
        return Ok(layout(&n, &spec, 3));
    }
    let digits = i.digits(spec.ty)?;
    let (prefix, interval) = match spec.ty {
        'b' => ("0b", 4),
        'o' => ("0o", 4),
        'x' => ("0x", 4),
        'X' => ("0X", 4),
        _ => ("", 3),
    };
    let n = Number {
        sign: sign_str(i.negative(), spec.sign),
        prefix: if spec.alt { prefix } else { "" },
        digits: &digits,
        rest: "",
    };
    Ok(layout(&n, &spec, interval))
}

/// `chr(i)` for `c` formats.
fn char_of(i: i64) -> Result<char, Exception> {
    if !(0..0x110000).contains(&i) {
        return Err(Exception::overflow("%c arg not in range(0x110000)"));
    }
    // Lone surrogates have no Rust `char`: they print as U+FFFD.
    Ok(char::from_u32(i as u32).unwrap_or('\u{fffd}'))
}

fn format_float(f: f64, spec_text: &str) -> Result<String, Exception> {
    let spec = parse_spec(spec_text, "float", '\0', true)?;
    match spec.ty {
        '\0' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n' | '%' => float_spec(f, &spec),
        other => Err(unknown_code(other, "float")),
    }
}

// ---- float digits ----

/// The most digits Rust formats exactly; more are all zeros for any f64.
const MAX_FIXED: usize = 1100;
const MAX_SCI: usize = 800;

/// `abs` with `prec` digits after the point.
fn fixed(abs: f64, prec: usize) -> String {
    let mut s = format!("{:.*}", prec.min(MAX_FIXED), abs);
    if prec > MAX_FIXED {
        s.extend(std::iter::repeat_n('0', prec - MAX_FIXED));
    }
    s
}

/// `abs` as `d.ddd` with `prec` digits after the point, and its decimal exponent.
fn sci_parts(abs: f64, prec: usize) -> (String, i32) {
    let s = format!("{:.*e}", prec.min(MAX_SCI), abs);
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mut mantissa = mantissa.to_string();
    if prec > MAX_SCI {
        mantissa.extend(std::iter::repeat_n('0', prec - MAX_SCI));
    }
    (mantissa, exp.parse().unwrap_or(0))
}

fn exponent(exp: i32, upper: bool) -> String {
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{e}{sign}{:02}", exp.unsigned_abs())
}

fn sci(abs: f64, prec: usize, upper: bool, alt: bool) -> String {
    let (mut mantissa, exp) = sci_parts(abs, prec);
    if alt && !mantissa.contains('.') {
        mantissa.push('.');
    }
    mantissa + &exponent(exp, upper)
}

/// `g` and the spec with no type but a precision (`add_dot_0`): fixed or
/// exponent notation by the rounded exponent, trailing zeros removed unless `alt`.
fn general(abs: f64, prec: usize, upper: bool, alt: bool, add_dot_0: bool) -> String {
    let p = prec.max(1);
    let exp = if abs == 0.0 {
        0
    } else {
        sci_parts(abs, p - 1).1
    };
    let limit = if add_dot_0 { p as i64 - 1 } else { p as i64 };
    let use_sci = exp < -4 || i64::from(exp) >= limit;
    let (mut mantissa, tail) = if use_sci {
        let (m, e) = sci_parts(abs, p - 1);
        (m, exponent(e, upper))
    } else {
        let decimals = (p as i64 - 1 - i64::from(exp)).max(0) as usize;
        (fixed(abs, decimals), String::new())
    };
    if alt {
        if !mantissa.contains('.') {
            mantissa.push('.');
        }
    } else if mantissa.contains('.') {
        let trimmed = mantissa.trim_end_matches('0').trim_end_matches('.');
        mantissa.truncate(trimmed.len());
    }
    if add_dot_0 && !use_sci && !mantissa.contains('.') {
        mantissa.push_str(".0");
    }
    mantissa + &tail
}

/// The float's magnitude in the presentation `ty` ('r' is repr), without sign.
fn float_body(abs: f64, ty: char, precision: Option<usize>, alt: bool) -> String {
    if abs.is_nan() || abs.is_infinite() {
        let word = if abs.is_nan() { "nan" } else { "inf" };
        return if matches!(ty, 'E' | 'F' | 'G') {
            word.to_uppercase()
        } else {
            word.to_string()
        };
    }
    let prec = precision.unwrap_or(6);
    match ty {
        'e' | 'E' => sci(abs, prec, ty == 'E', alt),
        'f' | 'F' => {
            let mut s = fixed(abs, prec);
            if alt && !s.contains('.') {
                s.push('.');
            }
            s
        }
        'g' | 'G' | 'n' => general(abs, prec, ty == 'G', alt, false),
        '\0' => match precision {
            Some(p) => general(abs, p, false, alt, true),
            None => {
                let mut s = float_repr(abs);
                if alt
                    && !s.contains('.')
                    && let Some(at) = s.find('e')
                {
                    s.insert(at, '.');
                }
                s
            }
        },
        _ => float_repr(abs),
    }
}

/// Whether a formatted magnitude's digits are all zero (for `z`).
fn is_zero_text(body: &str) -> bool {
    body.split(['e', 'E'])
        .next()
        .unwrap_or("")
        .chars()
        .all(|c| c == '0' || c == '.')
}

fn float_spec(f: f64, spec: &Spec) -> Result<String, Exception> {
    let (value, ty, suffix) = if spec.ty == '%' {
        (f * 100.0, 'f', "%")
    } else {
        (f, spec.ty, "")
    };
    let body = float_body(value.abs(), ty, spec.precision, spec.alt);
    let mut negative = value.is_sign_negative() && !value.is_nan();
    if negative && spec.z && is_zero_text(&body) {
        negative = false;
    }
    let int_len = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    let (digits, rest) = body.split_at(int_len);
    let rest = format!("{rest}{suffix}");
    let n = Number {
        sign: sign_str(negative, spec.sign),
        prefix: "",
        digits,
        rest: &rest,
    };
    Ok(layout(&n, spec, 3))
}

// ---- conversions ----

/// `ascii(v)`: the repr with non-ASCII characters escaped.
pub fn ascii(v: &Value) -> String {
    let mut out = String::new();
    for c in v.repr().chars() {
        let code = c as u32;
        let _ = match code {
            0..=0x7f => {
                out.push(c);
                Ok(())
            }
            0x80..=0xff => write!(out, "\\x{code:02x}"),
            0x100..=0xffff => write!(out, "\\u{code:04x}"),
            _ => write!(out, "\\U{code:08x}"),
        };
    }
    out
}

/// `!r`, `!s`, `!a`.
pub fn convert(v: &Value, conversion: char) -> Result<Value, Exception> {
    match conversion {
        'r' => Ok(Value::str(v.repr())),
        's' => Ok(Value::str(v.to_str())),
        'a' => Ok(Value::str(ascii(v))),
        other => Err(value_error(format!("Unknown conversion specifier {other}"))),
    }
}

// ---- str.format ----

/// How `str.format` numbers `{}` fields: CPython refuses to mix the two ways.
#[derive(PartialEq)]
enum Numbering {
    Unset,
    Auto(usize),
    Manual,
}

struct Formatter<'a> {
    args: &'a [Value],
    kwargs: &'a [(String, Value)],
    numbering: Numbering,
}

/// `template.format(*args, **kwargs)`.
pub fn str_format(
    template: &str,
    args: &[Value],
    kwargs: &[(String, Value)],
) -> Result<String, Exception> {
    let mut f = Formatter {
        args,
        kwargs,
        numbering: Numbering::Unset,
    };
    f.render(template, 2)
}

impl Formatter<'_> {
    fn render(&mut self, template: &str, depth: u32) -> Result<String, Exception> {
        if depth == 0 {
            return Err(value_error("Max string recursion exceeded"));
        }
        let chars: Vec<char> = template.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '}' {
                if chars.get(i + 1) == Some(&'}') {
                    out.push('}');
                    i += 2;
                    continue;
                }
                return Err(value_error("Single '}' encountered in format string"));
            }
            if c != '{' {
                out.push(c);
                i += 1;
                continue;
            }
            if chars.get(i + 1) == Some(&'{') {
                out.push('{');
                i += 2;
                continue;
            }
            if i + 1 == chars.len() {
                return Err(value_error("Single '{' encountered in format string"));
            }
            // Find the field's closing brace: brackets in the field name hide
            // braces; in the spec, nested fields nest.
            let start = i + 1;
            let mut j = start;
            let mut depth_braces = 1;
            let mut in_name = true;
            let mut in_bracket = false;
            while j < chars.len() {
                let c = chars[j];
                if in_name && in_bracket {
                    if c == ']' {
                        in_bracket = false;
                    }
                } else if in_name && c == '[' {
                    in_bracket = true;
                } else if in_name && (c == ':' || c == '!') {
                    in_name = false;
                } else if c == '{' {
                    depth_braces += 1;
                } else if c == '}' {
                    depth_braces -= 1;
                    if depth_braces == 0 {
                        break;
                    }
                }
                j += 1;
            }
            if j >= chars.len() {
                return Err(value_error("expected '}' before end of string"));
            }
            let field: String = chars[start..j].iter().collect();
            out.push_str(&self.field(&field, depth)?);
            i = j + 1;
        }
        Ok(out)
    }

    /// One `{name!conv:spec}` field (without its braces).
    fn field(&mut self, field: &str, depth: u32) -> Result<String, Exception> {
        let chars: Vec<char> = field.chars().collect();
        let mut k = 0;
        let mut in_bracket = false;
        while k < chars.len() {
            match chars[k] {
                '[' => in_bracket = true,
                ']' => in_bracket = false,
                ':' | '!' if !in_bracket => break,
                _ => {}
            }
            k += 1;
        }
        let name: String = chars[..k].iter().collect();
        let mut conversion = None;
        let mut spec = String::new();
        if chars.get(k) == Some(&'!') {
            let Some(&conv) = chars.get(k + 1) else {
                return Err(value_error("unmatched '{' in format spec"));
            };
            conversion = Some(conv);
            k += 2;
            if k < chars.len() && chars[k] != ':' {
                return Err(value_error("expected ':' after conversion specifier"));
            }
        }
        if chars.get(k) == Some(&':') {
            spec = chars[k + 1..].iter().collect();
        }
        let value = self.lookup(&name)?;
        let value = match conversion {
            Some(c) => convert(&value, c)?,
            None => value,
        };
        let spec = if spec.contains(['{', '}']) {
            self.render(&spec, depth - 1)?
        } else {
            spec
        };
        // An instance's `__format__`, once the VM has called it.
        if conversion.is_none() && matches!(value, Value::Instance(_)) {
            match super::dunder::format(&value, &spec) {
                Some(text) => return Ok(text),
                None if super::dunder::pending() => return Err(super::dunder::retry()),
                None => {}
            }
        }
        format_value(&value, &spec)
    }

    /// The value a field name names: `0`, `name`, `` (the next), then `.attr` and `[key]`.
    fn lookup(&mut self, name: &str) -> Result<Value, Exception> {
        let first_end = name.find(['.', '[']).unwrap_or(name.len());
        let (first, mut rest) = name.split_at(first_end);
        let mut value = if first.is_empty() {
            let n = match self.numbering {
                Numbering::Manual => {
                    return Err(value_error(
                        "cannot switch from manual field specification to automatic field numbering",
                    ));
                }
                Numbering::Unset => 0,
                Numbering::Auto(n) => n,
            };
            self.numbering = Numbering::Auto(n + 1);
            self.positional(n)?
        } else if first.chars().all(|c| c.is_ascii_digit()) {
            if matches!(self.numbering, Numbering::Auto(_)) {
                return Err(value_error(
                    "cannot switch from automatic field numbering to manual field specification",
                ));
            }
            self.numbering = Numbering::Manual;
            let n: usize = first
                .parse()
                .map_err(|_| value_error("Too many decimal digits in format string"))?;
            self.positional(n)?
        } else {
            match self.kwargs.iter().find(|(k, _)| k == first) {
                Some((_, v)) => v.clone(),
                None => {
                    return Err(Exception::new(
                        ExcClass::KeyError,
                        super::repr::str_repr(first),
                    ));
                }
            }
        };
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let attr = &after[..end];
                if attr.is_empty() {
                    return Err(value_error("Empty attribute in format string"));
                }
                // An instance's attribute, or its class's (a property needs the VM: unknown here).
                value = match &value {
                    Value::Instance(i) if let Some(v) = i.get(attr) => v,
                    Value::Instance(i) => match i.class.lookup(attr) {
                        Some(f @ Value::Function(_)) => Value::BoundMethod(std::sync::Arc::new((value.clone(), f))),
                        Some(v) if !matches!(v, Value::Wrapped(_)) => v,
                        _ => methods::get_attr(&value, attr)?,
                    },
                    Value::Class(c) if let Some(v) = c.lookup(attr).filter(|v| !matches!(v, Value::Wrapped(_))) => v,
                    _ => methods::get_attr(&value, attr)?,
                };
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let Some(end) = after.find(']') else {
                    return Err(value_error("Missing ']' in format string"));
                };
                let key = &after[..end];
                let key = match key.parse::<i64>() {
                    Ok(n) if key.chars().all(|c| c.is_ascii_digit()) => Value::Int(n),
                    _ => Value::str(key),
                };
                value = ops::index(&value, &key)?;
                rest = &after[end + 1..];
                if !rest.is_empty() && !rest.starts_with(['.', '[']) {
                    return Err(value_error(
                        "Only '.' or '[' may follow ']' in format field specifier",
                    ));
                }
            } else {
                break;
            }
        }
        Ok(value)
    }

    fn positional(&self, n: usize) -> Result<Value, Exception> {
        self.args.get(n).cloned().ok_or_else(|| {
            Exception::index_error(format!(
                "Replacement index {n} out of range for positional args tuple"
            ))
        })
    }
}

// ---- printf-style % ----

/// `fmt % args` for str.
pub fn percent_str(fmt: &str, args: &Value) -> Result<String, Exception> {
    let chars: Vec<char> = fmt.chars().collect();
    Printf::new(args, false).run(&chars)
}

/// `fmt % args` for bytes: the same engine over Latin-1 characters, one per byte.
pub fn percent_bytes(fmt: &[u8], args: &Value) -> Result<Vec<u8>, Exception> {
    let chars: Vec<char> = fmt.iter().map(|&b| char::from(b)).collect();
    let out = Printf::new(args, true).run(&chars)?;
    Ok(out.chars().map(|c| c as u32 as u8).collect())
}

/// Values that make `%` look values up by key (CPython: anything with
/// `__getitem__` but a tuple or str); they also silence "not all arguments converted".
fn is_mapping_like(v: &Value) -> bool {
    matches!(v, Value::Dict(_) | Value::List(_) | Value::Bytes(_) | Value::Range { .. } | Value::BigRange(_))
}

struct Printf<'a> {
    args: &'a Value,
    items: Vec<Value>,
    next: usize,
    bytes: bool,
}

impl<'a> Printf<'a> {
    fn new(args: &'a Value, bytes: bool) -> Printf<'a> {
        let items = match args {
            Value::Tuple(items) => items.to_vec(),
            other => vec![other.clone()],
        };
        Printf {
            args,
            items,
            next: 0,
            bytes,
        }
    }

    fn next_arg(&mut self) -> Result<Value, Exception> {
        let v = self
            .items
            .get(self.next)
            .cloned()
            .ok_or_else(|| Exception::type_error("not enough arguments for format string"))?;
        self.next += 1;
        Ok(v)
    }

    fn star(&mut self) -> Result<i64, Exception> {
        match self.next_arg()? {
            Value::Int(i) => Ok(i),
            Value::Bool(b) => Ok(i64::from(b)),
            _ => Err(Exception::type_error("* wants int")),
        }
    }

    fn run(mut self, chars: &[char]) -> Result<String, Exception> {
        let mut out = String::new();
        let mut i = 0;
        let mut used_key = false;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            if c != '%' {
                out.push(c);
                continue;
            }
            if i >= chars.len() {
                return Err(value_error("incomplete format"));
            }
            if chars[i] == '%' {
                out.push('%');
                i += 1;
                continue;
            }
            let mut keyed: Option<Value> = None;
            if chars[i] == '(' {
                if !is_mapping_like(self.args) {
                    return Err(Exception::type_error("format requires a mapping"));
                }
                let mut depth = 1;
                let start = i + 1;
                let mut j = start;
                while j < chars.len() {
                    match chars[j] {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(value_error("incomplete format key"));
                }
                let key: String = chars[start..j].iter().collect();
                let key = if self.bytes {
                    Value::bytes(key.chars().map(|c| c as u32 as u8).collect::<Vec<u8>>())
                } else {
                    Value::str(key)
                };
                keyed = Some(ops::index(self.args, &key)?);
                used_key = true;
                i = j + 1;
            }
            let mut left = false;
            let mut sign = None;
            let mut zero = false;
            let mut alt = false;
            while let Some(&f) = chars.get(i) {
                match f {
                    '-' => left = true,
                    '+' => sign = Some('+'),
                    ' ' => {
                        if sign.is_none() {
                            sign = Some(' ');
                        }
                    }
                    '0' => zero = true,
                    '#' => alt = true,
                    _ => break,
                }
                i += 1;
            }
            let mut width = 0usize;
            if chars.get(i) == Some(&'*') {
                i += 1;
                let w = self.star()?;
                if w < 0 {
                    left = true;
                }
                width = w.unsigned_abs() as usize;
            } else {
                width = read_number(chars, &mut i)?.unwrap_or(width);
            }
            let mut precision = None;
            if chars.get(i) == Some(&'.') {
                i += 1;
                if chars.get(i) == Some(&'*') {
                    i += 1;
                    precision = Some(self.star()?.max(0) as usize);
                } else {
                    precision = Some(read_number(chars, &mut i)?.unwrap_or(0));
                }
            }
            if width > MAX_SIZE || precision.is_some_and(|p| p > MAX_SIZE) {
                return Err(Exception::memory());
            }
            while matches!(chars.get(i), Some('h' | 'l' | 'L')) {
                i += 1;
            }
            let Some(&conv) = chars.get(i) else {
                return Err(value_error("incomplete format"));
            };
            i += 1;
            let arg = match keyed.take() {
                Some(v) => v,
                None => self.next_arg()?,
            };
            let flags = Flags {
                left,
                sign,
                zero,
                alt,
                width,
                precision,
            };
            let piece = match conv {
                's' | 'r' | 'a' | 'b' => {
                    let text = self.text(conv, &arg, i - 1)?;
                    let text: String = match precision {
                        Some(p) => text.chars().take(p).collect(),
                        None => text,
                    };
                    pad(&text, width, if left { '<' } else { '>' }, ' ')
                }
                'c' => {
                    let text = self.char_arg(&arg)?.to_string();
                    pad(&text, width, if left { '<' } else { '>' }, ' ')
                }
                'd' | 'i' | 'u' | 'o' | 'x' | 'X' => printf_int(conv, &arg, &flags)?,
                'e' | 'E' | 'f' | 'F' | 'g' | 'G' => printf_float(conv, &arg, &flags)?,
                other => {
                    return Err(value_error(format!(
                        "unsupported format character '{}' (0x{:x}) at index {}",
                        other,
                        other as u32,
                        i - 1
                    )));
                }
            };
            if out.len().saturating_add(piece.len()) > MAX_SIZE {
                return Err(Exception::memory());
            }
            out.push_str(&piece);
        }
        if self.next < self.items.len() && !used_key && !is_mapping_like(self.args) {
            let kind = if self.bytes { "bytes" } else { "string" };
            return Err(Exception::type_error(format!(
                "not all arguments converted during {kind} formatting"
            )));
        }
        Ok(out)
    }

    /// `%s`, `%r`, `%a` (and `%b` for bytes) as text; for bytes, Latin-1 of the bytes.
    fn text(&self, conv: char, arg: &Value, at: usize) -> Result<String, Exception> {
        if self.bytes {
            return match (conv, arg) {
                ('s' | 'b', Value::Bytes(b)) => Ok(b.iter().map(|&b| char::from(b)).collect()),
                ('s' | 'b', other) => Err(Exception::type_error(format!(
                    "%b requires a bytes-like object, or an object that implements __bytes__, not '{}'",
                    other.type_name()
                ))),
                _ => Ok(ascii(arg)),
            };
        }
        match conv {
            's' => super::bigint::checked_str(arg),
            'r' => super::bigint::checked_repr(arg),
            'a' => Ok(ascii(arg)),
            other => Err(value_error(format!(
                "unsupported format character '{}' (0x{:x}) at index {at}",
                other, other as u32
            ))),
        }
    }

    fn char_arg(&self, arg: &Value) -> Result<char, Exception> {
        if self.bytes {
            return match arg {
                Value::Int(i) if !(0..256).contains(i) => {
                    Err(Exception::overflow("%c arg not in range(256)"))
                }
                Value::Int(i) => Ok(char::from(*i as u8)),
                Value::BigInt(_) => Err(Exception::overflow("%c arg not in range(256)")),
                Value::Bool(b) => Ok(char::from(u8::from(*b))),
                Value::Bytes(b) if b.len() == 1 => Ok(char::from(b[0])),
                _ => Err(Exception::type_error(
                    "%c requires an integer in range(256) or a single byte",
                )),
            };
        }
        match arg {
            Value::Int(i) => char_of(*i),
            Value::BigInt(_) => Err(Exception::overflow("%c arg not in range(0x110000)")),
            Value::Bool(b) => char_of(i64::from(*b)),
            Value::Str(s) if s.chars().count() == 1 => Ok(s.chars().next().unwrap_or(' ')),
            _ => Err(Exception::type_error("%c requires int or char")),
        }
    }
}

struct Flags {
    left: bool,
    sign: Option<char>,
    zero: bool,
    alt: bool,
    width: usize,
    precision: Option<usize>,
}

/// Pads a printf number: zero fill goes between the sign/prefix and the digits.
fn printf_pad(head: &str, digits: &str, f: &Flags) -> String {
    let len = head.chars().count() + digits.chars().count();
    if len >= f.width {
        return format!("{head}{digits}");
    }
    let n = f.width - len;
    if f.left {
        format!("{head}{digits}{}", " ".repeat(n))
    } else if f.zero {
        format!("{head}{}{digits}", "0".repeat(n))
    } else {
        format!("{}{head}{digits}", " ".repeat(n))
    }
}

fn printf_int(conv: char, arg: &Value, f: &Flags) -> Result<String, Exception> {
    let i = match arg {
        Value::Int(i) => Int::Small(*i),
        Value::BigInt(b) => Int::Big(b.clone()),
        Value::IntEnum(e) => Int::Small(e.value),
        Value::Bool(b) => Int::Small(i64::from(*b)),
        Value::Float(x) if matches!(conv, 'd' | 'i' | 'u') => {
            if x.is_nan() {
                return Err(value_error("cannot convert float NaN to integer"));
            }
            if x.is_infinite() {
                return Err(Exception::overflow(
                    "cannot convert float infinity to integer",
                ));
            }
            match super::bigint::from_float(*x) {
                Some(Value::BigInt(b)) => Int::Big(b),
                _ => Int::Small(x.trunc() as i64),
            }
        }
        other => {
            let want = if matches!(conv, 'd' | 'i' | 'u') {
                "a real number"
            } else {
                "an integer"
            };
            return Err(Exception::type_error(format!(
                "%{conv} format: {want} is required, not {}",
                other.type_name()
            )));
        }
    };
    let mut digits = i.digits(conv)?;
    let prefix = match conv {
        'o' => "0o",
        'x' => "0x",
        'X' => "0X",
        _ => "",
    };
    if let Some(p) = f.precision
        && digits.len() < p
    {
        digits = format!("{}{digits}", "0".repeat(p - digits.len()));
    }
    let head = format!(
        "{}{}",
        sign_str(i.negative(), f.sign),
        if f.alt { prefix } else { "" }
    );
    Ok(printf_pad(&head, &digits, f))
}

fn printf_float(conv: char, arg: &Value, f: &Flags) -> Result<String, Exception> {
    let x = match arg {
        Value::Float(x) => *x,
        Value::Int(i) => *i as f64,
        Value::BigInt(b) => super::bigint::to_f64(b)?,
        Value::Bool(b) => f64::from(u8::from(*b)),
        other => {
            return Err(Exception::type_error(format!(
                "must be real number, not {}",
                other.type_name()
            )));
        }
    };
    let body = float_body(x.abs(), conv, Some(f.precision.unwrap_or(6)), f.alt);
    let head = sign_str(x.is_sign_negative() && !x.is_nan(), f.sign);
    Ok(printf_pad(head, &body, f))
}
