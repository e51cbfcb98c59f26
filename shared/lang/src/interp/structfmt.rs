//! The `struct` module: format strings (byte order, counts, codes) packed and
//! unpacked as CPython 3.11 does on x86-64 Linux, with its `struct.error` messages.

use super::exception::Exception;
use super::value::{Value, as_int, as_number};
use crate::names::ExcClass;

fn error(message: impl Into<String>) -> Exception {
    Exception::new(ExcClass::StructError, message)
}

/// One parsed code with its repeat count.
#[derive(Debug, Clone, Copy)]
struct Item {
    code: u8,
    count: usize,
}

/// A parsed format.
#[derive(Debug, Clone)]
pub struct Format {
    /// `@` (native: sizes and alignment of the machine) or one of `=<>!`.
    native: bool,
    little: bool,
    items: Vec<Item>,
    pub size: usize,
}

impl Format {
    pub fn parse(text: &str) -> Result<Format, Exception> {
        let bytes = text.as_bytes();
        let (native, little, mut i) = match bytes.first() {
            Some(b'@') => (true, true, 1),
            Some(b'=' | b'<') => (false, true, 1),
            Some(b'>' | b'!') => (false, false, 1),
            _ => (true, true, 0),
        };
        let mut items = Vec::new();
        let mut size = 0usize;
        while i < bytes.len() {
            let c = bytes[i];
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let mut count = None;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                let d = usize::from(bytes[i] - b'0');
                count = Some(
                    count
                        .unwrap_or(0usize)
                        .checked_mul(10)
                        .and_then(|n: usize| n.checked_add(d))
                        .ok_or_else(|| error("total struct size too long"))?,
                );
                i += 1;
            }
            let Some(&code) = bytes.get(i) else {
                return Err(error("repeat count given without format specifier"));
            };
            i += 1;
            let item_size = code_size(code, native).ok_or_else(|| error("bad char in struct format"))?;
            let count = count.unwrap_or(1);
            if native {
                let align = if matches!(code, b's' | b'p') { 1 } else { item_size };
                if align > 1 {
                    size = size.div_ceil(align) * align;
                }
            }
            let span = if matches!(code, b's' | b'p') {
                count
            } else {
                item_size.saturating_mul(count)
            };
            size = size
                .checked_add(span)
                .filter(|&s| s <= super::ops::MAX_SIZE)
                .ok_or_else(|| error("total struct size too long"))?;
            items.push(Item { code, count });
        }
        Ok(Format {
            native,
            little,
            items,
            size,
        })
    }

    /// How many values `pack` takes and `unpack` returns.
    fn arity(&self) -> usize {
        self.items
            .iter()
            .map(|it| match it.code {
                b'x' => 0,
                b's' | b'p' => 1,
                _ => it.count,
            })
            .sum()
    }

    fn align(&self, out_len: usize, code: u8) -> usize {
        if !self.native || matches!(code, b's' | b'p') {
            return out_len;
        }
        let a = code_size(code, true).unwrap_or(1);
        out_len.div_ceil(a) * a
    }

    pub fn pack(&self, values: &[Value]) -> Result<Vec<u8>, Exception> {
        let arity = self.arity();
        if values.len() != arity {
            return Err(error(format!(
                "pack expected {arity} items for packing (got {})",
                values.len()
            )));
        }
        let mut out = Vec::with_capacity(self.size);
        let mut next = values.iter();
        for it in &self.items {
            let padded = self.align(out.len(), it.code);
            out.resize(padded, 0);
            match it.code {
                b'x' => out.resize(out.len() + it.count, 0),
                b's' | b'p' => {
                    let v = next.next().unwrap_or(&Value::None);
                    let Value::Bytes(b) = v else {
                        return Err(error(format!(
                            "argument for '{}' must be a bytes object",
                            it.code as char
                        )));
                    };
                    if it.code == b's' {
                        let n = b.len().min(it.count);
                        out.extend_from_slice(&b[..n]);
                        out.resize(out.len() + it.count - n, 0);
                    } else if it.count > 0 {
                        let n = b.len().min(it.count - 1).min(255);
                        out.push(n as u8);
                        out.extend_from_slice(&b[..n]);
                        out.resize(out.len() + it.count - 1 - n, 0);
                    }
                }
                code => {
                    for _ in 0..it.count {
                        let v = next.next().unwrap_or(&Value::None);
                        self.pack_one(code, v, &mut out)?;
                    }
                }
            }
        }
        Ok(out)
    }

    fn pack_one(&self, code: u8, v: &Value, out: &mut Vec<u8>) -> Result<(), Exception> {
        let size = code_size(code, self.native).unwrap_or(1);
        match code {
            b'c' => match v {
                Value::Bytes(b) if b.len() == 1 => out.push(b[0]),
                _ => return Err(error("char format requires a bytes object of length 1")),
            },
            b'?' => out.push(u8::from(v.truthy())),
            b'e' | b'f' | b'd' => {
                // An int too large for a float is refused, as CPython's struct does.
                let f = as_number(v)
                    .filter(|f| f.is_finite() || matches!(v, Value::Float(_)))
                    .ok_or_else(|| error("required argument is not a float"))?;
                let raw: Vec<u8> = match code {
                    b'd' => f.to_bits().to_be_bytes().to_vec(),
                    b'f' => {
                        let g = f as f32;
                        if g.is_infinite() && f.is_finite() {
                            return Err(Exception::overflow("float too large to pack with f format"));
                        }
                        g.to_bits().to_be_bytes().to_vec()
                    }
                    _ => half_bits(f)
                        .ok_or_else(|| Exception::overflow("float too large to pack with e format"))?
                        .to_be_bytes()
                        .to_vec(),
                };
                self.push_ordered(&raw, out);
            }
            _ => {
                let big = matches!(v, Value::BigInt(_));
                let wide = match v {
                    Value::BigInt(b) => num_traits::ToPrimitive::to_i128(&**b).unwrap_or(i128::MAX),
                    v => i128::from(as_int(v).ok_or_else(|| error("required argument is not an integer"))?),
                };
                let signed = code.is_ascii_lowercase();
                let bits = size * 8;
                let (lo, hi): (i128, i128) = if signed {
                    (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
                } else {
                    (0, (1i128 << bits) - 1)
                };
                if wide < lo || wide > hi {
                    // CPython's messages: big-endian 8-byte codes convert
                    // first; any other int past 64 bits is out of range.
                    return Err(error(if size == 8 && !self.little && !self.native {
                        "int too large to convert".to_string()
                    } else if big {
                        "argument out of range".to_string()
                    } else {
                        range_message(code, self.native, lo, hi)
                    }));
                }
                let raw = (wide as u128).to_be_bytes();
                self.push_ordered(&raw[16 - size..], out);
            }
        }
        Ok(())
    }

    /// Appends big-endian `raw` in the format's byte order.
    fn push_ordered(&self, raw: &[u8], out: &mut Vec<u8>) {
        if self.little {
            out.extend(raw.iter().rev());
        } else {
            out.extend_from_slice(raw);
        }
    }

    pub fn unpack(&self, data: &[u8]) -> Result<Vec<Value>, Exception> {
        let mut values = Vec::new();
        let mut pos = 0;
        for it in &self.items {
            pos = self.align(pos, it.code);
            match it.code {
                b'x' => pos += it.count,
                b's' => {
                    values.push(Value::bytes(&data[pos..pos + it.count]));
                    pos += it.count;
                }
                b'p' => {
                    let field = &data[pos..pos + it.count];
                    let n = field
                        .first()
                        .map_or(0, |&n| usize::from(n).min(it.count.saturating_sub(1)));
                    values.push(Value::bytes(field.get(1..1 + n).unwrap_or(&[])));
                    pos += it.count;
                }
                code => {
                    let size = code_size(code, self.native).unwrap_or(1);
                    for _ in 0..it.count {
                        values.push(self.unpack_one(code, &data[pos..pos + size])?);
                        pos += size;
                    }
                }
            }
        }
        Ok(values)
    }

    fn unpack_one(&self, code: u8, raw: &[u8]) -> Result<Value, Exception> {
        let mut be = raw.to_vec();
        if self.little {
            be.reverse();
        }
        Ok(match code {
            b'c' => Value::bytes(raw),
            b'?' => Value::Bool(raw[0] != 0),
            b'd' => Value::Float(f64::from_bits(u64::from_be_bytes(
                be.try_into().unwrap_or_default(),
            ))),
            b'f' => Value::Float(f64::from(f32::from_bits(u32::from_be_bytes(
                be.try_into().unwrap_or_default(),
            )))),
            b'e' => Value::Float(half_value(u16::from_be_bytes(
                be.try_into().unwrap_or_default(),
            ))),
            _ => {
                let mut wide = [0u8; 16];
                wide[16 - be.len()..].copy_from_slice(&be);
                let mut n = u128::from_be_bytes(wide) as i128;
                let bits = be.len() * 8;
                if code.is_ascii_lowercase() && n >= 1i128 << (bits - 1) {
                    n -= 1i128 << bits;
                }
                super::bigint::norm(n.into())
            }
        })
    }
}

/// The size of one code, or None for a bad one.
fn code_size(code: u8, native: bool) -> Option<usize> {
    Some(match code {
        b'x' | b'c' | b'b' | b'B' | b'?' | b's' | b'p' => 1,
        b'h' | b'H' | b'e' => 2,
        b'i' | b'I' | b'f' => 4,
        b'l' | b'L' => {
            if native {
                8
            } else {
                4
            }
        }
        b'q' | b'Q' | b'd' => 8,
        b'n' | b'N' | b'P' if native => 8,
        _ => return None,
    })
}

/// CPython's message for an integer out of a code's range.
fn range_message(code: u8, native: bool, lo: i128, hi: i128) -> String {
    match code {
        b'b' => "byte format requires -128 <= number <= 127".into(),
        b'B' => "ubyte format requires 0 <= number <= 255".into(),
        b'h' if native => "short format requires -32768 <= number <= 32767".into(),
        b'H' if native => "ushort format requires 0 <= number <= 65535".into(),
        c if c.is_ascii_lowercase() => {
            format!("'{}' format requires {lo} <= number <= {hi}", c as char)
        }
        _ => "argument out of range".into(),
    }
}

/// IEEE 754 half precision, rounding to nearest even; None when too large.
fn half_bits(f: f64) -> Option<u16> {
    let sign: u16 = if f.is_sign_negative() { 0x8000 } else { 0 };
    if f.is_nan() {
        return Some(sign | 0x7e00);
    }
    let a = f.abs();
    if a.is_infinite() {
        return Some(sign | 0x7c00);
    }
    // Units of the smallest subnormal (2^-24), rounded half to even.
    let scaled = a * 16_777_216.0;
    if scaled < 1024.0 {
        let m = round_half_even(scaled) as u16;
        return Some(sign | m);
    }
    let exp = a.log2().floor() as i32;
    let mut e = exp;
    let mut mant = round_half_even(a / 2f64.powi(e) * 1024.0);
    if mant >= 2048.0 {
        mant /= 2.0;
        e += 1;
    }
    if e > 15 {
        return None;
    }
    Some(sign | (((e + 15) as u16) << 10) | ((mant as u16) & 0x3ff))
}

fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 {
        2.0 * (x / 2.0).round()
    } else {
        r
    }
}

fn half_value(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let e = i32::from((bits >> 10) & 0x1f);
    let m = f64::from(bits & 0x3ff);
    sign * match e {
        0 => m * 2f64.powi(-24),
        31 if m == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + m / 1024.0) * 2f64.powi(e - 15),
    }
}

/// A format argument: str or bytes.
pub fn format_arg(v: &Value) -> Result<Format, Exception> {
    match v {
        Value::Str(s) => Format::parse(s),
        Value::Bytes(b) => Format::parse(&String::from_utf8_lossy(b)),
        other => Err(Exception::type_error(format!(
            "Struct() argument 1 must be a str or bytes object, not {}",
            other.type_name()
        ))),
    }
}

/// `unpack(fmt, buffer)`.
pub fn unpack(f: &Format, data: &[u8]) -> Result<Value, Exception> {
    if data.len() != f.size {
        return Err(error(format!(
            "unpack requires a buffer of {} bytes",
            f.size
        )));
    }
    Ok(Value::tuple(f.unpack(data)?))
}

/// `unpack_from(fmt, buffer, offset)`.
pub fn unpack_from(f: &Format, data: &[u8], offset: i64) -> Result<Value, Exception> {
    let len = data.len() as i64;
    let start = if offset < 0 {
        if offset + len < 0 {
            return Err(error(format!(
                "offset {offset} out of range for {len}-byte buffer"
            )));
        }
        if len + offset < f.size as i64 {
            return Err(error(format!(
                "not enough data to unpack {} bytes at offset {offset}",
                f.size
            )));
        }
        (len + offset) as usize
    } else {
        offset as usize
    };
    if (start as u128) + (f.size as u128) > data.len() as u128 {
        return Err(error(format!(
            "unpack_from requires a buffer of at least {} bytes for unpacking {} bytes at offset {offset} (actual buffer size is {len})",
            (start as u128) + (f.size as u128),
            f.size
        )));
    }
    Ok(Value::tuple(f.unpack(&data[start..start + f.size])?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(fmt: &str, values: Vec<Value>) -> Result<Vec<u8>, String> {
        Format::parse(fmt)
            .and_then(|f| f.pack(&values))
            .map_err(|e| e.message)
    }

    // Expected values printed by CPython 3.11 on x86-64 Linux.
    #[test]
    fn sizes_like_cpython() {
        for (fmt, size) in [("bi", 8), ("bq", 16), ("!bi", 5), ("ib", 5), ("hd3sP", 32), ("!BBHI", 8), ("BBHI", 8)] {
            assert_eq!(Format::parse(fmt).map(|f| f.size).ok(), Some(size), "{fmt}");
        }
    }

    #[test]
    fn packs_like_cpython() {
        let i = Value::Int;
        assert_eq!(pack("@bi", vec![i(1), i(2)]).unwrap(), b"\x01\x00\x00\x00\x02\x00\x00\x00");
        assert_eq!(pack("<hd", vec![i(-2), Value::Float(1.5)]).unwrap(), b"\xfe\xff\x00\x00\x00\x00\x00\x00\xf8?");
        assert_eq!(pack(">e", vec![Value::Float(1.5)]).unwrap(), b">\x00");
        assert_eq!(pack("!f", vec![Value::Float(0.1)]).unwrap(), b"=\xcc\xcc\xcd");
        assert_eq!(pack("3p", vec![Value::bytes(b"abcdef")]).unwrap(), b"\x02ab");
        assert_eq!(pack("!4s", vec![Value::bytes(b"ab")]).unwrap(), b"ab\x00\x00");
        assert_eq!(pack("!B", vec![i(256)]).unwrap_err(), "ubyte format requires 0 <= number <= 255");
        assert_eq!(pack("!h", vec![i(1 << 20)]).unwrap_err(), "'h' format requires -32768 <= number <= 32767");
        assert_eq!(pack("!H", vec![i(-1)]).unwrap_err(), "argument out of range");
        assert_eq!(pack("H", vec![i(-1)]).unwrap_err(), "ushort format requires 0 <= number <= 65535");
        assert_eq!(pack("!l", vec![i(1 << 40)]).unwrap_err(), "'l' format requires -2147483648 <= number <= 2147483647");
        assert_eq!(pack("!II", vec![i(1), i(2), i(3)]).unwrap_err(), "pack expected 2 items for packing (got 3)");
        assert_eq!(pack("!y", vec![i(1)]).unwrap_err(), "bad char in struct format");
        assert_eq!(pack("!3", vec![i(1)]).unwrap_err(), "repeat count given without format specifier");
        assert_eq!(pack("!I", vec![Value::Float(1.5)]).unwrap_err(), "required argument is not an integer");
    }

    #[test]
    fn unpacks_like_cpython() {
        let f = Format::parse("<e").unwrap();
        assert_eq!(unpack(&f, b"\x00\x3c").unwrap().repr(), "(1.0,)");
        let f = Format::parse("!f").unwrap();
        assert_eq!(unpack(&f, b"=\xcc\xcc\xcd").unwrap().repr(), "(0.10000000149011612,)");
        let f = Format::parse("!5p").unwrap();
        assert_eq!(unpack(&f, b"\x09abcd").unwrap().repr(), "(b'abcd',)");
        let f = Format::parse("!2x2c").unwrap();
        assert_eq!(unpack(&f, b"..ab").unwrap().repr(), "(b'a', b'b')");
        let f = Format::parse("!i").unwrap();
        assert_eq!(unpack(&f, b"\xff\xff\xff\xfe").unwrap().repr(), "(-2,)");
        let f = Format::parse("!I").unwrap();
        assert_eq!(unpack(&f, b"abc").unwrap_err().message, "unpack requires a buffer of 4 bytes");
        assert_eq!(
            unpack_from(&f, b"abcd", 1).unwrap_err().message,
            "unpack_from requires a buffer of at least 5 bytes for unpacking 4 bytes at offset 1 (actual buffer size is 4)"
        );
        assert_eq!(unpack_from(&f, b"abcd", -1).unwrap_err().message, "not enough data to unpack 4 bytes at offset -1");
        assert_eq!(unpack_from(&f, b"abcd", -5).unwrap_err().message, "offset -5 out of range for 4-byte buffer");
    }
}
