//! Simulated time. Nothing in the core reads a real clock.

use std::fmt;

/// Simulated time in microseconds since the start of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    pub const fn from_us(us: u64) -> Self {
        SimTime(us)
    }
    pub const fn from_ms(ms: u64) -> Self {
        SimTime(ms * 1_000)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimTime(s * 1_000_000)
    }
    pub const fn as_us(self) -> u64 {
        self.0
    }
    pub const fn saturating_add_us(self, us: u64) -> Self {
        SimTime(self.0.saturating_add(us))
    }
}

/// Formats a duration in microseconds the way scripts write it: `1.5s`, `150ms`, `20us`.
pub fn format_duration_us(us: u64) -> String {
    if us == 0 {
        "0s".to_string()
    } else if us.is_multiple_of(1_000_000) {
        format!("{}s", us / 1_000_000)
    } else if us.is_multiple_of(1_000) && us >= 1_000_000 {
        let s = us / 1_000_000;
        let frac = format!("{:06}", us % 1_000_000);
        format!("{}.{}s", s, frac.trim_end_matches('0'))
    } else if us.is_multiple_of(1_000) {
        format!("{}ms", us / 1_000)
    } else {
        format!("{us}us")
    }
}

/// Parses a duration as scripts write it (`1.5s`, `150ms`, `20us`) into microseconds. Shared by
/// the script parser and by protocol parameters, so every duration in a script reads alike.
pub fn parse_duration_us(text: &str) -> Result<u64, String> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1_000)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000_000)
    } else {
        return Err(format!(
            "\"{text}\" is not a duration; write it like 150ms, 1.5s or 20us"
        ));
    };
    let bad = || format!("\"{text}\" is not a duration; write it like 150ms, 1.5s or 20us");
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if number.contains('.') && frac.is_empty() {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let mut us = whole
        .checked_mul(scale)
        .ok_or_else(|| format!("\"{text}\" is too long"))?;
    // Each fractional digit is worth a tenth of the one before; digits below a microsecond
    // must be zero.
    let mut unit = scale;
    for digit in frac.bytes().map(|b| u64::from(b - b'0')) {
        if unit < 10 {
            if digit != 0 {
                return Err(format!("\"{text}\" is finer than a microsecond"));
            }
            continue;
        }
        unit /= 10;
        us = us
            .checked_add(digit * unit)
            .ok_or_else(|| format!("\"{text}\" is too long"))?;
    }
    Ok(us)
}

/// Parses a range of durations `10ms..15ms` into microseconds, checking `min <= max`.
pub fn parse_range_us(text: &str) -> Result<(u64, u64), String> {
    let (lo, hi) = text
        .split_once("..")
        .ok_or_else(|| format!("\"{text}\" is not a range; write it like 10ms..15ms"))?;
    let (lo, hi) = (parse_duration_us(lo)?, parse_duration_us(hi)?);
    if lo > hi {
        return Err(format!("\"{text}\": the lower bound is above the upper bound"));
    }
    Ok((lo, hi))
}

/// Longest duration a `set` line may give (a protocol timer, a client timeout, a run's
/// length): one hour.
pub const MAX_SETTING_US: u64 = 3_600_000_000;
/// Shortest timer a `set` line may give: 1ms, so that no timer fires more than a thousand
/// times a simulated second.
pub const MIN_TIMER_US: u64 = 1_000;

/// `us` if it is within `min..=max`, else an error that names the value and the limit.
fn within(us: u64, min: u64, max: u64) -> Result<u64, String> {
    let value = format_duration_us(us);
    if us > max {
        Err(format!("{value} is above the maximum {}", format_duration_us(max)))
    } else if us < min {
        Err(format!("{value} is below the minimum {}", format_duration_us(min)))
    } else {
        Ok(us)
    }
}

/// [`parse_duration_us`], within `min..=max`.
pub fn parse_duration_within(text: &str, min: u64, max: u64) -> Result<u64, String> {
    parse_duration_us(text).and_then(|us| within(us, min, max))
}

/// [`parse_range_us`], both bounds within `min..=max`.
pub fn parse_range_within(text: &str, min: u64, max: u64) -> Result<(u64, u64), String> {
    let (lo, hi) = parse_range_us(text)?;
    Ok((within(lo, min, max)?, within(hi, min, max)?))
}

impl fmt::Display for SimTime {
    /// Milliseconds with three decimals, fixed width friendly: `1234.567ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}ms", self.0 / 1_000, self.0 % 1_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_format_as_scripts_write_them() {
        assert_eq!(format_duration_us(0), "0s");
        assert_eq!(format_duration_us(2_000_000), "2s");
        assert_eq!(format_duration_us(1_500_000), "1.5s");
        assert_eq!(format_duration_us(150_000), "150ms");
        assert_eq!(format_duration_us(20), "20us");
        assert_eq!(SimTime(1_234_567).to_string(), "1234.567ms");
    }

    #[test]
    fn durations_parse_back() {
        for us in [0, 20, 150_000, 1_500_000, 2_000_000, 1_250] {
            assert_eq!(parse_duration_us(&format_duration_us(us)), Ok(us));
        }
        assert_eq!(parse_duration_us("1.25ms"), Ok(1_250));
        assert!(parse_duration_us("1.5us").is_err());
        assert!(parse_duration_us("1.s").is_err());
        assert!(parse_duration_us("ms").is_err());
        assert!(parse_duration_us("99999999999999999999s").is_err());
        assert_eq!(parse_duration_us("0.25ms"), Ok(250));
        assert_eq!(parse_duration_us("2.000s"), Ok(2_000_000));
        assert!(parse_duration_us("5").is_err());
        assert!(parse_duration_us("1.2.3s").is_err());
        assert!(parse_duration_us("18446744073709551615s").is_err());
        assert!(parse_duration_us("-5ms").is_err());
        assert_eq!(parse_range_us("10ms..15ms"), Ok((10_000, 15_000)));
        assert!(parse_range_us("15ms..10ms").is_err());
    }
}
