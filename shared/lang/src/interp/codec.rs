//! Text codecs for `str.encode`, `bytes.decode`, `str(b, enc)` and `bytes(s, enc)`:
//! UTF-8, ASCII and Latin-1, with Python's `errors` modes and messages.

use super::exception::Exception;
use super::value::Value;
use crate::names::ExcClass;

fn encoding_name(encoding: Option<Value>) -> Result<String, Exception> {
    match encoding {
        None => Ok("utf-8".into()),
        Some(Value::Str(s)) => Ok(s.to_ascii_lowercase().replace('_', "-")),
        Some(other) => Err(Exception::type_error(format!(
            "encoding must be str, not {}",
            other.type_name()
        ))),
    }
}

fn errors_mode(errors: Option<Value>) -> Result<String, Exception> {
    match errors {
        None => Ok("strict".into()),
        Some(Value::Str(s)) => Ok(s.to_string()),
        Some(other) => Err(Exception::type_error(format!(
            "errors must be str, not {}",
            other.type_name()
        ))),
    }
}

/// `str.encode(encoding="utf-8", errors="strict")`: UTF-8, ASCII or Latin-1.
pub fn encode(s: &str, encoding: Option<Value>, errors: Option<Value>) -> Result<Value, Exception> {
    let enc = encoding_name(encoding)?;
    let errors = errors_mode(errors)?;
    let limit = match enc.as_str() {
        "utf-8" | "utf8" => return Ok(Value::bytes(s.as_bytes())),
        "ascii" | "us-ascii" => 0x7f,
        "latin-1" | "latin1" | "iso-8859-1" => 0xff,
        other => {
            return Err(Exception::new(
                ExcClass::ValueError,
                format!("unknown encoding: {other}"),
            ));
        }
    };
    let mut out = Vec::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        match u8::try_from(c as u32) {
            Ok(b) if u32::from(b) <= limit => out.push(b),
            _ if errors == "ignore" => {}
            _ if errors == "replace" => out.push(b'?'),
            _ => {
                return Err(Exception::value_error(format!(
                    "'{enc}' codec can't encode character {:?} in position {i}: ordinal not in range({})",
                    c,
                    limit + 1
                )));
            }
        }
    }
    Ok(Value::bytes(out))
}

/// `bytes.decode(encoding="utf-8", errors="strict")`.
pub fn decode(
    b: &[u8],
    encoding: Option<Value>,
    errors: Option<Value>,
) -> Result<Value, Exception> {
    let enc = encoding_name(encoding)?;
    let errors = errors_mode(errors)?;
    match enc.as_str() {
        "utf-8" | "utf8" => match std::str::from_utf8(b) {
            Ok(s) => Ok(Value::str(s)),
            Err(_) if errors == "replace" => Ok(Value::str(String::from_utf8_lossy(b))),
            Err(_) if errors == "ignore" => Ok(Value::str(
                String::from_utf8_lossy(b).replace(char::REPLACEMENT_CHARACTER, ""),
            )),
            Err(e) => {
                let at = e.valid_up_to();
                Err(Exception::new(
                    ExcClass::UnicodeDecodeError,
                    format!(
                        "'utf-8' codec can't decode byte 0x{:02x} in position {at}: invalid {}",
                        b.get(at).copied().unwrap_or(0),
                        if e.error_len().is_none() {
                            "continuation byte"
                        } else {
                            "start byte"
                        }
                    ),
                ))
            }
        },
        "latin-1" | "latin1" | "iso-8859-1" => Ok(Value::str(
            b.iter().map(|&c| char::from(c)).collect::<String>(),
        )),
        "ascii" | "us-ascii" => {
            if let Some(at) = b
                .iter()
                .position(|&c| c > 0x7f)
                .filter(|_| errors == "strict")
            {
                return Err(Exception::new(
                    ExcClass::UnicodeDecodeError,
                    format!(
                        "'ascii' codec can't decode byte 0x{:02x} in position {at}: ordinal not in range(128)",
                        b[at]
                    ),
                ));
            }
            let replacement = if errors == "ignore" {
                None
            } else {
                Some(char::REPLACEMENT_CHARACTER)
            };
            Ok(Value::str(
                b.iter()
                    .filter_map(|&c| {
                        if c <= 0x7f {
                            Some(char::from(c))
                        } else {
                            replacement
                        }
                    })
                    .collect::<String>(),
            ))
        }
        other => Err(Exception::value_error(format!("unknown encoding: {other}"))),
    }
}
