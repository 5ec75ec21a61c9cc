//! Raft's parameters, as the `set KEY VALUE` lines of a script name them.
//!
//! | key | value | default |
//! |---|---|---|
//! | `election-timeout` | a range of durations, `150ms..300ms` | `150ms..300ms` |
//! | `heartbeat` | a duration, `50ms` | `50ms` |
//! | `prevote` | `on` or `off` | `off` |
//! | `checkquorum` | `on` or `off` | `off` |
//! | `variant` | `correct`, `commit-old-terms`, `vote-without-log-check`, `forget-term-on-restart` | `correct` |
//!
//! Durations are in the node's local clock. The paper asks for `broadcastTime <<
//! electionTimeout << MTBF` (section 5.6); nothing here enforces it, so that a reader can set
//! a heartbeat longer than the election timeout and watch leadership churn.

use std::fmt;

/// The keys [`RaftParams`] accepts.
pub const KEYS: &[&str] = &["election-timeout", "heartbeat", "prevote", "checkquorum", "variant"];

/// Which Raft runs: the correct one or a deliberately broken one that a monitor must catch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Figure 2 as written.
    #[default]
    Correct,
    /// A leader commits entries of earlier terms by counting replicas, the rule that Figure 8
    /// shows to be unsafe (section 5.4.2). It also skips the no-op a new leader appends,
    /// because that no-op (section 8) nearly always carries the old entries to a majority in
    /// the same AppendEntries as an entry of the current term, which would hide the bug.
    CommitOldTerms,
    /// Voters grant their vote without the up-to-date check of section 5.4.1, so a candidate
    /// that lacks committed entries can win and overwrite them.
    VoteWithoutLogCheck,
    /// A restarted node forgets `currentTerm` and `votedFor` (it keeps its log), so it can vote
    /// twice in one term and two leaders can win the same term.
    ForgetTermOnRestart,
}

impl Variant {
    pub const ALL: [Variant; 4] = [
        Variant::Correct,
        Variant::CommitOldTerms,
        Variant::VoteWithoutLogCheck,
        Variant::ForgetTermOnRestart,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Correct => "correct",
            Variant::CommitOldTerms => "commit-old-terms",
            Variant::VoteWithoutLogCheck => "vote-without-log-check",
            Variant::ForgetTermOnRestart => "forget-term-on-restart",
        }
    }

    pub fn parse(s: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Raft's parameters. Durations are microseconds of the node's local clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftParams {
    /// Election timeouts are drawn uniformly from `election_timeout_us_min..=..._max` each
    /// time the timer is reset (section 5.2).
    pub election_timeout_us_min: u64,
    pub election_timeout_us_max: u64,
    /// How often a leader sends AppendEntries to every follower, empty or not.
    pub heartbeat_us: u64,
    /// A candidate first asks whether it could win before it raises its term (thesis 9.6).
    pub prevote: bool,
    /// A leader steps down when it has not heard from a majority within an election timeout
    /// (thesis 6.2).
    pub checkquorum: bool,
    pub variant: Variant,
}

impl Default for RaftParams {
    fn default() -> Self {
        RaftParams {
            election_timeout_us_min: 150_000,
            election_timeout_us_max: 300_000,
            heartbeat_us: 50_000,
            prevote: false,
            checkquorum: false,
            variant: Variant::Correct,
        }
    }
}

impl crate::protocol::Params for RaftParams {
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        match key {
            "election-timeout" => {
                let Some((lo, hi)) = value.split_once("..") else {
                    return Err(format!(
                        "election-timeout: expected a range like 150ms..300ms, got {value:?}"
                    ));
                };
                let lo = parse_duration_us(lo.trim()).map_err(|e| format!("election-timeout: lower bound: {e}"))?;
                let hi = parse_duration_us(hi.trim()).map_err(|e| format!("election-timeout: upper bound: {e}"))?;
                if lo == 0 {
                    return Err("election-timeout: the lower bound must be above 0".into());
                }
                if lo > hi {
                    return Err(format!(
                        "election-timeout: the lower bound must not exceed the upper, got {value}"
                    ));
                }
                self.election_timeout_us_min = lo;
                self.election_timeout_us_max = hi;
            }
            "heartbeat" => {
                let us = parse_duration_us(value).map_err(|e| format!("heartbeat: {e}"))?;
                if us == 0 {
                    return Err("heartbeat: must be above 0".into());
                }
                self.heartbeat_us = us;
            }
            "prevote" => self.prevote = parse_switch(value).map_err(|e| format!("prevote: {e}"))?,
            "checkquorum" => {
                self.checkquorum = parse_switch(value).map_err(|e| format!("checkquorum: {e}"))?;
            }
            "variant" => {
                self.variant = Variant::parse(value).ok_or_else(|| {
                    let names: Vec<&str> = Variant::ALL.iter().map(|v| v.as_str()).collect();
                    format!("variant: expected one of {}, got {value:?}", names.join(", "))
                })?;
            }
            _ => {
                return Err(format!(
                    "unknown raft parameter {key:?}; expected one of {}",
                    KEYS.join(", ")
                ));
            }
        }
        Ok(())
    }

    fn keys() -> &'static [&'static str] {
        KEYS
    }
}

fn parse_switch(value: &str) -> Result<bool, String> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected on or off, got {value:?}")),
    }
}

/// Parses `150ms`, `1.5s` or `20us` into microseconds, exactly (no floating point).
fn parse_duration_us(text: &str) -> Result<u64, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale: u64 = match unit {
        "us" => 1,
        "ms" => 1_000,
        "s" => 1_000_000,
        _ => {
            return Err(format!("expected a duration like 150ms, 1.5s or 20us, got {text:?}"));
        }
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.contains('.') {
        return Err(format!("expected a duration like 150ms, 1.5s or 20us, got {text:?}"));
    }
    let too_long = || format!("duration {text:?} is too long");
    let whole: u64 = whole.parse().map_err(|_| too_long())?;
    let mut us = whole.checked_mul(scale).ok_or_else(too_long)?;
    // Each fractional digit is worth a tenth of the one before; the total must land on a
    // whole microsecond.
    let mut place = scale;
    for digit in frac.bytes() {
        let d = u64::from(digit - b'0');
        if !place.is_multiple_of(10) {
            if d != 0 {
                return Err(format!("duration {text:?} is finer than a microsecond"));
            }
            continue;
        }
        place /= 10;
        us = us.checked_add(d * place).ok_or_else(too_long)?;
    }
    Ok(us)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Params;

    #[test]
    fn durations_parse_exactly() {
        assert_eq!(parse_duration_us("150ms"), Ok(150_000));
        assert_eq!(parse_duration_us("1.5s"), Ok(1_500_000));
        assert_eq!(parse_duration_us("20us"), Ok(20));
        assert_eq!(parse_duration_us("0.25ms"), Ok(250));
        assert_eq!(parse_duration_us("2.000s"), Ok(2_000_000));
        assert!(parse_duration_us("0.5us").is_err());
        assert!(parse_duration_us("ms").is_err());
        assert!(parse_duration_us("5").is_err());
        assert!(parse_duration_us("1.2.3s").is_err());
        assert!(parse_duration_us("99999999999999999999s").is_err());
        assert!(parse_duration_us("18446744073709551615s").is_err());
        assert!(parse_duration_us("-5ms").is_err());
    }

    #[test]
    fn set_accepts_every_key_and_names_what_it_expected() {
        let mut p = RaftParams::default();
        p.set("election-timeout", "100ms..200ms").unwrap();
        p.set("heartbeat", "20ms").unwrap();
        p.set("prevote", "on").unwrap();
        p.set("checkquorum", "on").unwrap();
        p.set("variant", "commit-old-terms").unwrap();
        assert_eq!(
            p,
            RaftParams {
                election_timeout_us_min: 100_000,
                election_timeout_us_max: 200_000,
                heartbeat_us: 20_000,
                prevote: true,
                checkquorum: true,
                variant: Variant::CommitOldTerms,
            }
        );
        for key in RaftParams::keys() {
            assert!(p.set(key, "nonsense").is_err(), "{key} accepted nonsense");
        }
        let e = p.set("election-timeout", "300ms..150ms").unwrap_err();
        assert!(e.contains("lower bound"), "{e}");
        let e = p.set("variant", "buggy").unwrap_err();
        assert!(e.contains("vote-without-log-check"), "{e}");
        let e = p.set("prevote", "yes").unwrap_err();
        assert!(e.contains("on or off"), "{e}");
        let e = p.set("latency", "1ms").unwrap_err();
        assert!(e.contains("checkquorum"), "{e}");
        assert!(p.set("heartbeat", "0ms").is_err());
        assert!(p.set("election-timeout", "0ms..10ms").is_err());
        // A failed set leaves the value alone.
        assert_eq!(p.heartbeat_us, 20_000);
    }

    #[test]
    fn variants_round_trip_by_name() {
        for v in Variant::ALL {
            assert_eq!(Variant::parse(v.as_str()), Some(v));
        }
    }
}
