//! Decimal numbers as the page reads them from its form fields and storage:
//! core's float parsing (dec2flt, with its 10 KB table) would add some 12 KB
//! brotli to the page for a few fields.

/// A decimal number as `str::parse::<f64>` reads it, but only in the forms
/// `[+-]digits[.digits][e[+-]digits]` (`.5` and `5.` too): no `inf` or `NaN`.
pub fn parse(text: &str) -> Option<f64> {
    read(text)?.or_else(|| slow(text))
}

/// None: not a number; Some(None): one the fast path cannot read exactly.
fn read(text: &str) -> Option<Option<f64>> {
    let bytes = text.as_bytes();
    let (negative, mut i) = match bytes.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    // Up to 19 significant digits in m; `exact` is false when a nonzero one did not fit.
    let (mut m, mut exp, mut exact, mut seen, mut point) = (0u64, 0i64, true, false, false);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => {
                seen = true;
                if m < 1_000_000_000_000_000_000 {
                    m = m * 10 + u64::from(b - b'0');
                    exp -= i64::from(point);
                } else {
                    exact &= b == b'0';
                    exp += i64::from(!point);
                }
            }
            b'.' if !point => point = true,
            _ => break,
        }
        i += 1;
    }
    if !seen {
        return None;
    }
    if let Some(b'e' | b'E') = bytes.get(i) {
        i += 1;
        let minus = bytes.get(i) == Some(&b'-');
        i += usize::from(matches!(bytes.get(i), Some(b'-' | b'+')));
        let (mut power, start) = (0i64, i);
        while let Some(&b @ b'0'..=b'9') = bytes.get(i) {
            power = (power * 10 + i64::from(b - b'0')).min(1 << 40);
            i += 1;
        }
        if i == start {
            return None;
        }
        exp += if minus { -power } else { power };
    }
    if i != bytes.len() {
        return None;
    }
    while m != 0 && m % 10 == 0 {
        m /= 10;
        exp += 1;
    }
    // Both m and 10^|exp| are exact doubles: one correctly rounded operation.
    let value = if m == 0 && exact {
        0.0
    } else if exact && m < 1 << 53 && exp.abs() <= 22 {
        let power = POWERS[exp.unsigned_abs() as usize];
        if exp < 0 { m as f64 / power } else { m as f64 * power }
    } else {
        return Some(None);
    };
    Some(Some(if negative { -value } else { value }))
}

const POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// Long or huge numbers (text known well formed): the browser's `parseFloat`
/// reads them as Rust does, correctly rounded.
#[cfg(target_arch = "wasm32")]
fn slow(text: &str) -> Option<f64> {
    Some(js_sys::parse_float(text))
}

#[cfg(not(target_arch = "wasm32"))]
fn slow(text: &str) -> Option<f64> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_as_rust_does() {
        let mut texts: Vec<String> = [
            "0", "-0", "+0", "40", "1.5", ".5", "5.", "-.5", "+5.", "0.04", "1e3", "1E-3", "1.e5", "2.5e+2", "007", "0.000",
            "12345678901234567890", "1234567890123456789.0", "0.1234567890123456789012", "9007199254740993", "1e22", "1e23",
            "1e-22", "1e-23", "123456789e-30", "1e400", "1e-400", "0e99999999999999999999", "2.2250738585072014e-308",
            "4.9e-324", "1.7976931348623157e308", "1.7976931348623159e308", "0.30000000000000004", "100000000000000000000000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let (whole, fraction, power) = (seed % 1000, (seed >> 10) % 100_000, (seed >> 30) % 61);
            texts.push(format!("{whole}.{fraction:05}"));
            texts.push(format!("{whole}.{fraction}e{}", power as i64 - 30));
            let random = f64::from_bits(seed >> 1);
            if random.is_finite() {
                texts.push(random.to_string());
                texts.push(format!("{random:e}"));
                texts.push(format!("{:.3e}", -random));
            }
        }
        let fast = texts.iter().filter(|text| read(text).is_some_and(|v| v.is_some())).count();
        assert!(fast > 30_000, "{fast} read by the fast path");
        for text in &texts {
            let want: f64 = text.parse().unwrap();
            let got = parse(text).unwrap_or_else(|| panic!("{text:?} refused"));
            assert_eq!(got.to_bits(), want.to_bits(), "{text:?}");
        }
        for bad in ["", ".", "-", "+", "e5", ".e5", "1e", "1e+", "1..2", "1.2.3", "--1", "1 ", " 1", "1x", "0x10", "1_000", "inf", "NaN", "1,5"] {
            assert_eq!(parse(bad), None, "{bad:?}");
            assert!(bad.parse::<f64>().is_err() || bad.eq_ignore_ascii_case("inf") || bad.eq_ignore_ascii_case("nan"), "{bad:?}");
        }
    }
}
