//! Numbers written in decimal for people, without core's float formatting
//! (which would be the page's largest piece of formatting code).
//!
//! `fixed` is `format!("{x:.N}")` except on exact ties, which it rounds away
//! from zero; `short` is `format!("{x}")` for numbers with at most six
//! decimals, and rounds others to six.

/// `x` with `digits` decimals (at most 6).
pub fn fixed(x: f64, digits: u32) -> String {
    let digits = digits.min(6);
    let sign = if x.is_sign_negative() && !x.is_nan() { "-" } else { "" };
    let x = x.abs();
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return format!("{sign}inf");
    }
    let scale = 10u64.pow(digits);
    let scaled = (x * scale as f64).round();
    if scaled >= u64::MAX as f64 {
        return format!("{sign}{}", exponent(x));
    }
    let scaled = scaled as u64;
    let (whole, fraction) = (scaled / scale, scaled % scale);
    match digits {
        0 => format!("{sign}{whole}"),
        _ => format!("{sign}{whole}.{fraction:0width$}", width = digits as usize),
    }
}

/// `x` as short as it reads: `40`, `1.5`, `0.001`.
pub fn short(x: f64) -> String {
    let text = fixed(x, 6);
    match text.contains('.') && !text.contains('e') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_owned(),
        false => text,
    }
}

/// A huge positive number as `1.5e20`.
fn exponent(x: f64) -> String {
    let mut power = x.log10().floor() as i32;
    let mut mantissa = x / 10f64.powi(power);
    if mantissa >= 10.0 {
        (mantissa, power) = (mantissa / 10.0, power + 1);
    }
    format!("{}e{power}", short(mantissa))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `x` scaled by 10^digits lies too near a half for the two
    /// roundings to be compared.
    fn near_tie(x: f64, digits: u32) -> bool {
        let scaled = x.abs() * 10f64.powi(digits as i32);
        (scaled - scaled.floor() - 0.5).abs() < 1e-6
    }

    #[test]
    fn fixed_writes_what_core_writes() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut checked = 0;
        for i in 0..200_000i32 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let magnitude = 10f64.powi(i % 16 - 4);
            let x = (seed >> 11) as f64 / (1u64 << 53) as f64 * magnitude * if i % 3 == 0 { -1.0 } else { 1.0 };
            for digits in 0..=3 {
                if !near_tie(x, digits) {
                    assert_eq!(fixed(x, digits), format!("{x:.prec$}", prec = digits as usize), "{x} to {digits}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 790_000, "{checked}");
        for x in [0.0, -0.0, 1.0, 0.05, 99.95, 1e15, f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            for digits in 0..=3 {
                if !near_tie(x, digits) {
                    assert_eq!(fixed(x, digits), format!("{x:.prec$}", prec = digits as usize), "{x} to {digits}");
                }
            }
        }
    }

    #[test]
    fn short_writes_what_core_writes_for_numbers_people_type() {
        for thousandths in (-100_000i64..2_000_000).step_by(7) {
            let x = thousandths as f64 / 1e3;
            assert_eq!(short(x), format!("{x}"));
        }
        for x in [0.0, 40.0, 1.5, 0.001, 0.000001, 12345678.25, 100e9] {
            assert_eq!(short(x), format!("{x}"));
        }
        assert_eq!(short(1e20), "1e20");
        assert_eq!(short(2.5e300), "2.5e300");
        assert_eq!(short(0.1 + 0.2), "0.3");
    }
}
