//! Double-quoted string literals, for exported Python and C and for
//! `json.dumps`: all escape the same few characters by name and differ only in
//! how they spell the others.

/// `prefix"…"`: `"`, `\`, newline, CR and tab escaped by name; every other
/// unit (a char, or a byte as the char of that value) as `other` spells it, or
/// as it is where `other` gives `None`.
pub fn quoted(prefix: &str, units: impl IntoIterator<Item = char>, other: impl Fn(char) -> Option<String>) -> String {
    let mut out = format!("{prefix}\"");
    for c in units {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => match other(c) {
                Some(spelled) => out.push_str(&spelled),
                None => out.push(c),
            },
        }
    }
    out.push('"');
    out
}

/// Bytes as chars of the same value, for [`quoted`].
pub fn byte_units(bytes: &[u8]) -> impl Iterator<Item = char> + '_ {
    bytes.iter().map(|&b| char::from(b))
}
