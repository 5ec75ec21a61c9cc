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
    } else if us % 1_000_000 == 0 {
        format!("{}s", us / 1_000_000)
    } else if us % 1_000 == 0 && us >= 1_000_000 {
        let s = us / 1_000_000;
        let frac = format!("{:06}", us % 1_000_000);
        format!("{}.{}s", s, frac.trim_end_matches('0'))
    } else if us % 1_000 == 0 {
        format!("{}ms", us / 1_000)
    } else {
        format!("{us}us")
    }
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
}
