//! `time.gmtime`, `localtime`, `mktime`, `ctime`, `asctime` and `strftime`:
//! the calendar as C's library keeps it. A lane's local time is UTC.

use super::args::{Args, checked_seconds, to_int, to_text};
use super::exception::Exception;
use super::value::{Value, as_number, lock};

const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December",
];

/// A broken-down time, as `struct_time` holds it (month 1–12, weekday 0 = Monday, yday 1–366).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tm {
    pub year: i64,
    pub mon: i64,
    pub mday: i64,
    pub hour: i64,
    pub min: i64,
    pub sec: i64,
    pub wday: i64,
    pub yday: i64,
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl Tm {
    pub fn from_seconds(secs: i64) -> Tm {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, mon, mday) = civil_from_days(days);
        Tm {
            year,
            mon,
            mday,
            hour: rem / 3600,
            min: rem % 3600 / 60,
            sec: rem % 60,
            // 1970-01-01 was a Thursday.
            wday: (days + 3).rem_euclid(7),
            yday: days - days_from_civil(year, 1, 1) + 1,
        }
    }

    pub fn to_seconds(self) -> i64 {
        days_from_civil(self.year, self.mon, self.mday) * 86_400 + self.hour * 3600 + self.min * 60 + self.sec
    }

    /// The 9-tuple `struct_time` is a tuple of (`tm_isdst` is 0: UTC).
    pub fn to_value(self) -> Value {
        let t = self;
        Value::tuple(
            [t.year, t.mon, t.mday, t.hour, t.min, t.sec, t.wday, t.yday, 0].into_iter().map(Value::Int).collect(),
        )
    }

    fn from_value(v: &Value, what: &str) -> Result<Tm, Exception> {
        let items = match v {
            Value::Tuple(t) => t.to_vec(),
            Value::List(l) => lock(l).to_vec(),
            other => {
                return Err(Exception::type_error(format!("{what}: Tuple or struct_time argument required, not {}", other.type_name())));
            }
        };
        if items.len() != 9 {
            return Err(Exception::type_error(format!("{what}(): illegal time tuple argument")));
        }
        let n = |i: usize| to_int(&items[i]);
        let tm = Tm { year: n(0)?, mon: n(1)?, mday: n(2)?, hour: n(3)?, min: n(4)?, sec: n(5)?, wday: n(6)?, yday: n(7)? };
        if !(1..=12).contains(&tm.mon) || !(1..=31).contains(&tm.mday) || !(0..=23).contains(&tm.hour)
            || !(0..=59).contains(&tm.min) || !(0..=61).contains(&tm.sec) || !(0..=6).contains(&tm.wday.rem_euclid(7))
        {
            return Err(Exception::value_error(format!("{what}(): time tuple out of range")));
        }
        Ok(tm)
    }

    /// C's `strftime` for the directives glibc's C locale gives; others are kept as written.
    pub fn format(&self, fmt: &str) -> String {
        let mut out = String::new();
        let mut chars = fmt.chars();
        let day = DAYS[self.wday.rem_euclid(7) as usize];
        let month = MONTHS[(self.mon - 1).clamp(0, 11) as usize];
        let hour12 = if self.hour % 12 == 0 { 12 } else { self.hour % 12 };
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let Some(d) = chars.next() else {
                out.push('%');
                break;
            };
            let piece = match d {
                'a' => day[..3].to_string(),
                'A' => day.to_string(),
                'b' | 'h' => month[..3].to_string(),
                'B' => month.to_string(),
                'c' => self.format("%a %b %e %H:%M:%S %Y"),
                'd' => format!("{:02}", self.mday),
                'e' => format!("{:2}", self.mday),
                'D' | 'x' => self.format("%m/%d/%y"),
                'F' => self.format("%Y-%m-%d"),
                'H' => format!("{:02}", self.hour),
                'I' => format!("{hour12:02}"),
                'j' => format!("{:03}", self.yday),
                'm' => format!("{:02}", self.mon),
                'M' => format!("{:02}", self.min),
                'n' => "\n".into(),
                'p' => (if self.hour < 12 { "AM" } else { "PM" }).into(),
                'r' => self.format("%I:%M:%S %p"),
                'R' => self.format("%H:%M"),
                'S' => format!("{:02}", self.sec),
                's' => self.to_seconds().to_string(),
                't' => "\t".into(),
                'T' | 'X' => self.format("%H:%M:%S"),
                'u' => (self.wday.rem_euclid(7) + 1).to_string(),
                'w' => ((self.wday + 1).rem_euclid(7)).to_string(),
                'y' => format!("{:02}", self.year.rem_euclid(100)),
                'Y' => self.year.to_string(),
                'z' => "+0000".into(),
                'Z' => "UTC".into(),
                '%' => "%".into(),
                other => format!("%{other}"),
            };
            out.push_str(&piece);
        }
        out
    }
}

/// Seconds from an optional argument, or now.
fn seconds_or_now(v: Option<Value>, now: f64) -> Result<i64, Exception> {
    let secs = match v {
        None | Some(Value::None) => now,
        Some(v) => {
            let t = as_number(&v).ok_or_else(|| Exception::type_error(format!("'{}' object cannot be interpreted as an integer", v.type_name())))?;
            checked_seconds(t)?
        }
    };
    Ok(secs.floor() as i64)
}

fn tm_or_now(v: Option<Value>, now: f64, what: &str) -> Result<Tm, Exception> {
    match v {
        None => Ok(Tm::from_seconds(now.floor() as i64)),
        Some(v) => Tm::from_value(&v, what),
    }
}

/// `time.gmtime`/`localtime`/`mktime`/`ctime`/`asctime`/`strftime`.
pub fn call(name: &str, args: Args, now: f64) -> Result<Value, Exception> {
    Ok(match name {
        "gmtime" | "localtime" => {
            let [secs] = args.bind(["secs"], 0)?;
            Tm::from_seconds(seconds_or_now(secs, now)?).to_value()
        }
        "mktime" => {
            let [t] = args.bind(["t"], 1)?;
            Value::Float(Tm::from_value(&t.unwrap_or(Value::None), "mktime")?.to_seconds() as f64)
        }
        "ctime" => {
            let [secs] = args.bind(["secs"], 0)?;
            Value::str(Tm::from_seconds(seconds_or_now(secs, now)?).format("%c"))
        }
        "asctime" => {
            let [t] = args.bind(["t"], 0)?;
            Value::str(tm_or_now(t, now, "asctime")?.format("%c"))
        }
        _ => {
            let [fmt, t] = args.bind(["format", "t"], 1)?;
            let fmt = to_text(&fmt.unwrap_or(Value::None))?;
            Value::str(tm_or_now(t, now, "strftime")?.format(&fmt))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_round_trip_across_leap_years_and_the_epoch() {
        for days in [-800_000, -1, 0, 1, 59, 60, 11_016, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        let t = Tm::from_seconds(1_700_000_000);
        assert_eq!(t.format("%c|%j|%A|%I%p|%y"), "Tue Nov 14 22:13:20 2023|318|Tuesday|10PM|23");
    }
}
