//! `base64` and `codecs`: the encodings socket programs put bytes through.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

use super::args::{Args, to_bytes};
use super::exception::Exception;
use super::value::Value;
use crate::names::{ExcClass, LibFn};

pub fn handles(f: LibFn) -> bool {
    f.name().starts_with("base64.") || f.name().starts_with("codecs.")
}

/// bytes, bytearray, or an ASCII str (as base64's decoders take).
fn data(v: Option<Value>) -> Result<Vec<u8>, Exception> {
    match v.unwrap_or(Value::None) {
        Value::Str(s) if s.is_ascii() => Ok(s.as_bytes().to_vec()),
        Value::Str(_) => Err(Exception::value_error("string argument should contain only ASCII characters")),
        other => to_bytes(&other).map(|b| b.to_vec()).map_err(|_| {
            Exception::type_error(format!("argument should be a bytes-like object or ASCII string, not '{}'", other.type_name()))
        }),
    }
}

fn binascii_error(message: impl Into<String>) -> Exception {
    Exception::new(ExcClass::BinasciiError, message)
}

/// `b64decode(s, altchars=None, validate=False)`: characters outside the
/// alphabet are dropped first unless `validate`.
fn b64decode(bytes: &[u8], url: bool, validate: bool) -> Result<Vec<u8>, Exception> {
    let (c62, c63) = if url { (b'-', b'_') } else { (b'+', b'/') };
    let in_alphabet = |b: u8| b.is_ascii_alphanumeric() || b == c62 || b == c63;
    if validate && bytes.iter().any(|&b| !in_alphabet(b) && b != b'=') {
        return Err(binascii_error("Only base64 data is allowed"));
    }
    let kept: Vec<u8> = bytes.iter().copied().filter(|&b| in_alphabet(b) || b == b'=').collect();
    let data_chars = kept.iter().take_while(|&&b| b != b'=').count();
    if data_chars % 4 == 1 {
        return Err(binascii_error(format!(
            "Invalid base64-encoded string: number of data characters ({data_chars}) cannot be 1 more than a multiple of 4"
        )));
    }
    let body = &kept[..data_chars];
    let padding = kept[data_chars..].iter().filter(|&&b| b == b'=').count();
    if (data_chars + padding) % 4 != 0 && (data_chars % 4 + padding) < 4 && data_chars % 4 != 0 {
        return Err(binascii_error("Incorrect padding"));
    }
    let mut padded = body.to_vec();
    while !padded.len().is_multiple_of(4) {
        padded.push(b'=');
    }
    let engine = if url { &URL_SAFE } else { &STANDARD };
    engine.decode(&padded).map_err(|_| binascii_error("Incorrect padding"))
}

pub fn call(f: LibFn, args: Args) -> Result<Value, Exception> {
    Ok(match f {
        LibFn::Base64B64encode | LibFn::Base64StandardB64encode | LibFn::Base64UrlsafeB64encode => {
            let [s, altchars] = args.bind(["s", "altchars"], 1)?;
            let bytes = match s.unwrap_or(Value::None) {
                Value::Str(_) => return Err(Exception::type_error("a bytes-like object is required, not 'str'")),
                other => to_bytes(&other)?,
            };
            let mut text = if f == LibFn::Base64UrlsafeB64encode { URL_SAFE.encode(&*bytes) } else { STANDARD.encode(&*bytes) };
            if let Some(alt) = altchars.filter(|a| !matches!(a, Value::None)) {
                let alt = to_bytes(&alt)?;
                if alt.len() != 2 {
                    return Err(Exception::new(ExcClass::AssertionError, Value::Bytes(alt.clone()).repr().to_string()));
                }
                text = text.replace('+', &char::from(alt[0]).to_string()).replace('/', &char::from(alt[1]).to_string());
            }
            Value::bytes(text.as_bytes())
        }
        LibFn::Base64B64decode | LibFn::Base64StandardB64decode | LibFn::Base64UrlsafeB64decode => {
            let [s, altchars, validate] = args.bind(["s", "altchars", "validate"], 1)?;
            let mut bytes = data(s)?;
            if let Some(alt) = altchars.filter(|a| !matches!(a, Value::None)) {
                let alt = to_bytes(&alt)?;
                if alt.len() == 2 {
                    for b in &mut bytes {
                        if *b == alt[0] {
                            *b = b'+';
                        } else if *b == alt[1] {
                            *b = b'/';
                        }
                    }
                }
            }
            let url = f == LibFn::Base64UrlsafeB64decode;
            Value::bytes(&b64decode(&bytes, url, validate.is_some_and(|v| v.truthy()))?)
        }
        LibFn::Base64B16encode => {
            let [s] = args.bind(["s"], 1)?;
            let bytes = to_bytes(&s.unwrap_or(Value::None))?;
            let text: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
            Value::bytes(text.as_bytes())
        }
        LibFn::Base64B16decode => {
            let [s, casefold] = args.bind(["s", "casefold"], 1)?;
            let mut text = String::from_utf8_lossy(&data(s)?).into_owned();
            if casefold.is_some_and(|c| c.truthy()) {
                text = text.to_uppercase();
            }
            if text.bytes().any(|b| !(b.is_ascii_digit() || (b'A'..=b'F').contains(&b))) {
                return Err(binascii_error("Non-base16 digit found"));
            }
            Value::bytes(&hex(&text)?)
        }
        LibFn::CodecsEncode | LibFn::CodecsDecode => {
            let [obj, encoding, errors] = args.bind(["obj", "encoding", "errors"], 1)?;
            let obj = obj.unwrap_or(Value::None);
            let encoding = match encoding {
                None => "utf-8".to_string(),
                Some(Value::Str(e)) => e.to_lowercase().replace('_', "-"),
                Some(other) => return Err(Exception::type_error(format!("argument 2 must be str, not {}", other.type_name()))),
            };
            let encode = f == LibFn::CodecsEncode;
            match (encoding.as_str(), encode) {
                ("hex" | "hex-codec", true) => {
                    let b = to_bytes(&obj)?;
                    Value::bytes(b.iter().map(|b| format!("{b:02x}")).collect::<String>().as_bytes())
                }
                ("hex" | "hex-codec", false) => {
                    let text = String::from_utf8_lossy(&data(Some(obj))?).into_owned();
                    Value::bytes(&hex(&text)?)
                }
                ("base64" | "base64-codec" | "base-64", true) => {
                    let b = to_bytes(&obj)?;
                    let mut out = String::new();
                    for chunk in b.chunks(57) {
                        out.push_str(&STANDARD.encode(chunk));
                        out.push('\n');
                    }
                    Value::bytes(out.as_bytes())
                }
                ("base64" | "base64-codec" | "base-64", false) => Value::bytes(&b64decode(&data(Some(obj))?, false, false)?),
                ("utf-8" | "utf8" | "ascii" | "latin-1" | "latin1" | "iso-8859-1", true) => match &obj {
                    Value::Str(text) => super::codec::encode(text, Some(Value::str(&encoding)), errors)?,
                    other => return Err(Exception::type_error(format!("utf_8_encode() argument 1 must be str, not {}", other.type_name()))),
                },
                ("utf-8" | "utf8" | "ascii" | "latin-1" | "latin1" | "iso-8859-1", false) => {
                    let bytes = to_bytes(&obj)?;
                    super::codec::decode(&bytes, Some(Value::str(&encoding)), errors)?
                }
                (other, _) => return Err(Exception::new(ExcClass::LookupError, format!("unknown encoding: {other}"))),
            }
        }
        _ => Value::None,
    })
}

/// Hex digits (an even number) to bytes.
fn hex(text: &str) -> Result<Vec<u8>, Exception> {
    if !text.len().is_multiple_of(2) {
        return Err(binascii_error("Odd-length string"));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| binascii_error("Non-hexadecimal digit found"))
        })
        .collect()
}
