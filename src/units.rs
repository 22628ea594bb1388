//! Sizes and durations as poolstack's own manifest keys write them.
//!
//! Sizes use PostgreSQL's memory units (`B`, `kB`, `MB`, `GB`, `TB`, multiplier 1024, case-sensitive,
//! as `guc.c` spells them); durations use PostgreSQL's time units (`us`, `ms`, `s`, `min`, `h`, `d`),
//! and a bare number means seconds. Values are kept exactly: bytes and microseconds.

use std::fmt;

/// A size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub u64);

/// A duration in microseconds (PostgreSQL's and PgBouncer's finest resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub u64);

pub const MEMORY_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("kB", 1 << 10),
    ("MB", 1 << 20),
    ("GB", 1 << 30),
    ("TB", 1 << 40),
];

pub const TIME_UNITS: &[(&str, u64)] = &[
    ("us", 1),
    ("ms", 1_000),
    ("s", 1_000_000),
    ("min", 60_000_000),
    ("h", 3_600_000_000),
    ("d", 86_400_000_000),
];

/// Why a unit string was refused; the message names the valid spellings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitError(pub String);

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Split `"7GB"`, `"1.5 GB"`, `"30min"` into the number and the unit text.
fn split_number(s: &str) -> Option<(&str, &str)> {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((&s[..end], s[end..].trim_start()))
}

/// Multiply a decimal text by an integer factor exactly; `None` when the result is not whole.
fn exact_scaled(number: &str, factor: u64) -> Option<u64> {
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let digits = format!("{int_part}{frac_part}");
    let mantissa: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let scale = 10u128.checked_pow(u32::try_from(frac_part.len()).ok()?)?;
    let product = mantissa.checked_mul(u128::from(factor))?;
    if product % scale != 0 {
        return None;
    }
    u64::try_from(product / scale).ok()
}

impl Bytes {
    /// Parse a size such as `"7GB"` or `"512MB"`. The unit is required and case-sensitive.
    pub fn parse(text: &str) -> Result<Bytes, UnitError> {
        let valid = "valid units are \"B\", \"kB\", \"MB\", \"GB\" and \"TB\" (case-sensitive, 1GB = 1024MB)";
        let (number, unit) = split_number(text).ok_or_else(|| {
            UnitError(format!(
                "`{text}` is not a size: write a number and a unit, e.g. \"512MB\""
            ))
        })?;
        if unit.is_empty() {
            return Err(UnitError(format!(
                "`{text}` has no unit: write e.g. \"{number}MB\" ({valid})"
            )));
        }
        let factor = MEMORY_UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let hint = MEMORY_UNITS
                    .iter()
                    .find(|(u, _)| u.eq_ignore_ascii_case(unit))
                    .map(|(u, _)| format!(" (did you mean \"{number}{u}\"?)"))
                    .unwrap_or_default();
                UnitError(format!(
                    "unknown size unit `{unit}` in `{text}`{hint}; {valid}"
                ))
            })?;
        exact_scaled(number, factor)
            .map(Bytes)
            .ok_or_else(|| UnitError(format!("`{text}` is not a whole number of bytes")))
    }

    pub fn as_kb(self) -> f64 {
        self.0 as f64 / 1024.0
    }
}

impl fmt::Display for Bytes {
    /// The largest unit that divides the value exactly: 7516192768 → `7GB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, factor) in MEMORY_UNITS.iter().rev() {
            if self.0 != 0 && self.0.is_multiple_of(*factor) {
                return write!(f, "{}{}", self.0 / factor, unit);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl Duration {
    pub const ZERO: Duration = Duration(0);

    /// Saturates at the largest duration instead of overflowing.
    pub fn from_secs(s: u64) -> Duration {
        Duration(s.saturating_mul(1_000_000))
    }

    /// Parse a duration such as `"10s"`, `"30min"`, `"600ms"`; a bare number is seconds.
    pub fn parse(text: &str) -> Result<Duration, UnitError> {
        let valid = "valid units are \"us\", \"ms\", \"s\", \"min\", \"h\" and \"d\" (a bare number means seconds)";
        let (number, unit) = split_number(text).ok_or_else(|| {
            UnitError(format!(
                "`{text}` is not a duration: write e.g. \"10s\" or \"30min\""
            ))
        })?;
        let factor = if unit.is_empty() {
            1_000_000
        } else {
            TIME_UNITS
                .iter()
                .find(|(u, _)| *u == unit)
                .map(|(_, f)| *f)
                .ok_or_else(|| {
                    let hint = match unit {
                        "sec" | "secs" | "second" | "seconds" | "S" => " (did you mean \"s\"?)",
                        "m" | "mins" | "minute" | "minutes" => " (did you mean \"min\"?)",
                        "hour" | "hours" | "H" => " (did you mean \"h\"?)",
                        "MS" | "Ms" => " (did you mean \"ms\"?)",
                        _ => "",
                    };
                    UnitError(format!(
                        "unknown time unit `{unit}` in `{text}`{hint}; {valid}"
                    ))
                })?
        };
        exact_scaled(number, factor).map(Duration).ok_or_else(|| {
            // Either more digits than a 64-bit count of microseconds holds, or a fraction of one.
            let whole = number.split('.').next().unwrap_or("");
            let huge = whole.trim_start_matches('0').len() > 13
                || exact_scaled(whole, factor).is_none() && !whole.is_empty();
            if huge {
                UnitError(format!(
                    "`{text}` is out of range: at most {} seconds",
                    u64::MAX / 1_000_000
                ))
            } else {
                UnitError(format!("`{text}` is finer than a microsecond"))
            }
        })
    }

    pub fn micros(self) -> u64 {
        self.0
    }

    /// Whole seconds, when the duration is a whole number of seconds.
    pub fn whole_secs(self) -> Option<u64> {
        self.0
            .is_multiple_of(1_000_000)
            .then_some(self.0 / 1_000_000)
    }

    /// Whole milliseconds, when exact.
    pub fn whole_millis(self) -> Option<u64> {
        self.0.is_multiple_of(1_000).then_some(self.0 / 1_000)
    }

    /// Seconds as a decimal text without a unit (`600`, `0.25`): PgBouncer's float-seconds syntax.
    pub fn secs_text(self) -> String {
        let whole = self.0 / 1_000_000;
        let frac = self.0 % 1_000_000;
        if frac == 0 {
            whole.to_string()
        } else {
            let f = format!("{frac:06}");
            format!("{whole}.{}", f.trim_end_matches('0'))
        }
    }
}

impl fmt::Display for Duration {
    /// The largest unit that divides the value exactly: 1800 s → `30min`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, factor) in TIME_UNITS.iter().rev() {
            if self.0 != 0 && self.0.is_multiple_of(*factor) {
                return write!(f, "{}{}", self.0 / factor, unit);
            }
        }
        write!(f, "{}s", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_exactly() {
        assert_eq!(Bytes::parse("7GB"), Ok(Bytes(7 << 30)));
        assert_eq!(Bytes::parse("512MB"), Ok(Bytes(512 << 20)));
        assert_eq!(Bytes::parse("64kB"), Ok(Bytes(64 << 10)));
        assert_eq!(Bytes::parse("1.5GB"), Ok(Bytes(1536 << 20)));
        assert_eq!(Bytes::parse("7 GB"), Ok(Bytes(7 << 30)));
    }

    #[test]
    fn sizes_refuse_bad_units() {
        let e = Bytes::parse("7gb").unwrap_err();
        assert!(e.0.contains("did you mean \"7GB\""), "{e}");
        assert!(Bytes::parse("7").unwrap_err().0.contains("no unit"));
        assert!(Bytes::parse("GB").is_err());
        assert!(Bytes::parse("7KB").unwrap_err().0.contains("\"7kB\""));
        assert!(Bytes::parse("0.3B").is_err());
    }

    #[test]
    fn sizes_display_in_largest_exact_unit() {
        assert_eq!(Bytes(7 << 30).to_string(), "7GB");
        assert_eq!(Bytes(1536 << 20).to_string(), "1536MB");
        assert_eq!(Bytes(100).to_string(), "100B");
    }

    #[test]
    fn durations_parse() {
        assert_eq!(Duration::parse("10s"), Ok(Duration(10_000_000)));
        assert_eq!(Duration::parse("30min"), Ok(Duration::from_secs(1800)));
        assert_eq!(Duration::parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(Duration::parse("600ms"), Ok(Duration(600_000)));
        assert_eq!(Duration::parse("15"), Ok(Duration::from_secs(15)));
        assert_eq!(Duration::parse("0.25"), Ok(Duration(250_000)));
        assert!(Duration::parse("30sec").unwrap_err().0.contains("\"s\""));
        assert!(Duration::parse("10m").unwrap_err().0.contains("\"min\""));
        assert!(Duration::parse("0.5us").is_err());
    }

    #[test]
    fn durations_format() {
        assert_eq!(Duration::from_secs(1800).to_string(), "30min");
        assert_eq!(Duration(600_000).to_string(), "600ms");
        assert_eq!(Duration(600_000).secs_text(), "0.6");
        assert_eq!(Duration::from_secs(600).secs_text(), "600");
        assert_eq!(Duration(600_000).whole_secs(), None);
        assert_eq!(Duration::from_secs(3).whole_millis(), Some(3000));
    }
}
