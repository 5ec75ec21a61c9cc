//! Raft's parameters, as the `set KEY VALUE` lines of a script name them.
//!
//! | key | value | default |
//! |---|---|---|
//! | `election-timeout` | a range of durations, `150ms..300ms` | `150ms..300ms` |
//! | `heartbeat` | a duration, `50ms` | `50ms` |
//! | `prevote` | `on` or `off` | `off` |
//! | `checkquorum` | `on` or `off` | `off` |
//! | `variant` | `correct`, `commit-old-terms`, `vote-without-log-check`, `forget-term-on-restart`, `byzantine-voter` | `correct` |
//!
//! Durations are in the node's local clock. The paper asks for `broadcastTime <<
//! electionTimeout << MTBF` (section 5.6); nothing here enforces it, so that a reader can set
//! a heartbeat longer than the election timeout and watch leadership churn.

use crate::protocol::parse_switch;
use crate::time::{MAX_SETTING_US, MIN_TIMER_US, parse_duration_within, parse_range_within};
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
    /// Node 1 is Byzantine: it grants its vote to every candidate that asks in a term, not
    /// to the first only. Raft tolerates crashes, not lies (it is crash-fault tolerant, not
    /// Byzantine-fault tolerant), so two candidates can each count it in their majority.
    ByzantineVoter,
}

impl Variant {
    pub const ALL: [Variant; 5] = [
        Variant::Correct,
        Variant::CommitOldTerms,
        Variant::VoteWithoutLogCheck,
        Variant::ForgetTermOnRestart,
        Variant::ByzantineVoter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Correct => "correct",
            Variant::CommitOldTerms => "commit-old-terms",
            Variant::VoteWithoutLogCheck => "vote-without-log-check",
            Variant::ForgetTermOnRestart => "forget-term-on-restart",
            Variant::ByzantineVoter => "byzantine-voter",
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
                let (lo, hi) = parse_range_within(value, MIN_TIMER_US, MAX_SETTING_US)
                    .map_err(|e| format!("election-timeout: {e}"))?;
                self.election_timeout_us_min = lo;
                self.election_timeout_us_max = hi;
            }
            "heartbeat" => {
                self.heartbeat_us = parse_duration_within(value, MIN_TIMER_US, MAX_SETTING_US)
                    .map_err(|e| format!("heartbeat: {e}"))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Params;

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
        // Timers have limits, so that a link cannot ask for a run that never ends.
        let limits = [
            ("heartbeat", "7200s", "heartbeat: 7200s is above the maximum 3600s"),
            ("heartbeat", "1us", "heartbeat: 1us is below the minimum 1ms"),
            (
                "election-timeout",
                "1s..7200s",
                "election-timeout: 7200s is above the maximum 3600s",
            ),
            (
                "election-timeout",
                "500us..1s",
                "election-timeout: 500us is below the minimum 1ms",
            ),
        ];
        for (key, value, message) in limits {
            assert_eq!(p.set(key, value), Err(message.to_string()), "{key} {value}");
        }
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
