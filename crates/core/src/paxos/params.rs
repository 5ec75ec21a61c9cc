//! Paxos's parameters, as the `set KEY VALUE` lines of a script name them.
//!
//! | key | value | default |
//! |---|---|---|
//! | `mode` | `single` (one decree) or `multi` (a replicated log) | `single` |
//! | `proposers` | `all`, or the nodes that may propose, `1,2` | `all` |
//! | `leader` | `on` or `off`: a distinguished proposer (always on in `multi`) | `off` |
//! | `backoff` | `random` or `fixed`: how a preempted proposer waits before it retries | `random` |
//! | `retry` | a duration, `5ms`: the back-off (fixed), or its first cap (random) | `5ms` |
//! | `phase-timeout` | a duration, `100ms`: a phase that hears no majority is retried | `100ms` |
//! | `election-timeout` | a range of durations, `150ms..300ms` | `150ms..300ms` |
//! | `heartbeat` | a duration, `50ms` | `50ms` |
//! | `variant` | `correct`, `ignore-promised-values`, `forget-promise-on-restart`, `accept-lower-ballot` | `correct` |
//!
//! Without a leader (single-decree only), every proposer that holds a client's value runs
//! ballots of its own, and `backoff`, `retry` and `phase-timeout` shape how it retries. With a
//! leader, proposers take turns by election instead: `election-timeout` and `heartbeat` apply,
//! as in Raft. Durations are in the node's local clock.

use crate::NodeId;
use crate::protocol::parse_switch;
use crate::time::{MAX_SETTING_US, MIN_TIMER_US, parse_duration_within, parse_range_within};
use std::fmt;

/// The keys [`PaxosParams`] accepts.
pub const KEYS: &[&str] = &[
    "mode",
    "proposers",
    "leader",
    "backoff",
    "retry",
    "phase-timeout",
    "election-timeout",
    "heartbeat",
    "variant",
];

/// One decree, or a log of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Single-decree Paxos ("Paxos Made Simple", section 2): the cluster chooses one value,
    /// once, in slot 1.
    #[default]
    Single,
    /// Multi-Paxos (section 3): a distinguished proposer chooses one value per slot of an
    /// unbounded log.
    Multi,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::Multi => "multi",
        }
    }
}

/// How a proposer without a leader waits after it was preempted (section 2.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backoff {
    /// A delay drawn at random, up to a cap that doubles with every preemption in a row: two
    /// proposers soon stop retrying in step, and one of them gets through.
    #[default]
    Random,
    /// The same delay every time: two proposers that collide once can collide forever.
    Fixed,
}

impl Backoff {
    pub fn as_str(self) -> &'static str {
        match self {
            Backoff::Random => "random",
            Backoff::Fixed => "fixed",
        }
    }
}

/// Which Paxos runs: the correct one or a deliberately broken one that a monitor must catch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Variant {
    /// "Paxos Made Simple" as written.
    #[default]
    Correct,
    /// The proposer ignores the values reported in promises and proposes its own (or a
    /// no-op), breaking P2c: a value already chosen can be overwritten by a later ballot.
    IgnorePromisedValues,
    /// An acceptor keeps what it accepted on stable storage but not its promise (section 2.5
    /// asks for both), so after a restart it accepts proposals it had promised to refuse.
    ForgetPromiseOnRestart,
    /// An acceptor accepts a proposal numbered below the promise it made (breaking P1a), so a
    /// proposer that finished phase 1 no longer knows every value that can be chosen.
    AcceptLowerBallot,
}

impl Variant {
    pub const ALL: [Variant; 4] = [
        Variant::Correct,
        Variant::IgnorePromisedValues,
        Variant::ForgetPromiseOnRestart,
        Variant::AcceptLowerBallot,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Correct => "correct",
            Variant::IgnorePromisedValues => "ignore-promised-values",
            Variant::ForgetPromiseOnRestart => "forget-promise-on-restart",
            Variant::AcceptLowerBallot => "accept-lower-ballot",
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

/// Every node id a cluster can have (1..=9), as a proposer set.
const ALL_PROPOSERS: u16 = 0b11_1111_1110;

/// Paxos's parameters. Durations are microseconds of the node's local clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaxosParams {
    pub mode: Mode,
    /// The nodes that may propose, as a bit set (bit `id`). Every node is an acceptor and a
    /// learner whatever this says.
    pub proposers: u16,
    /// A distinguished proposer (section 2.4) in single-decree mode. Multi-Paxos always has one.
    pub leader: bool,
    pub backoff: Backoff,
    /// The fixed back-off, and the first cap of the random one.
    pub retry_us: u64,
    /// How long a proposer without a leader waits for a majority before it tries a new ballot.
    pub phase_timeout_us: u64,
    /// Election timeouts are drawn uniformly from `election_timeout_us_min..=..._max`.
    pub election_timeout_us_min: u64,
    pub election_timeout_us_max: u64,
    /// How often a leader tells the others that it is alive and what it has learned.
    pub heartbeat_us: u64,
    pub variant: Variant,
}

impl Default for PaxosParams {
    fn default() -> Self {
        PaxosParams {
            mode: Mode::Single,
            proposers: ALL_PROPOSERS,
            leader: false,
            backoff: Backoff::Random,
            retry_us: 5_000,
            phase_timeout_us: 100_000,
            election_timeout_us_min: 150_000,
            election_timeout_us_max: 300_000,
            heartbeat_us: 50_000,
            variant: Variant::Correct,
        }
    }
}

impl PaxosParams {
    /// Whether node `id` may propose.
    pub fn is_proposer(&self, id: NodeId) -> bool {
        id < 16 && self.proposers & (1 << id) != 0
    }

    /// Whether proposers take turns through a distinguished proposer (a leader).
    pub fn has_leader(&self) -> bool {
        self.mode == Mode::Multi || self.leader
    }
}

impl crate::protocol::Params for PaxosParams {
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let value = value.trim();
        match key {
            "mode" => {
                self.mode = match value {
                    "single" => Mode::Single,
                    "multi" => Mode::Multi,
                    _ => return Err(format!("mode: expected single or multi, got {value:?}")),
                }
            }
            "proposers" => self.proposers = parse_proposers(value).map_err(|e| format!("proposers: {e}"))?,
            "leader" => self.leader = parse_switch(value).map_err(|e| format!("leader: {e}"))?,
            "backoff" => {
                self.backoff = match value {
                    "random" => Backoff::Random,
                    "fixed" => Backoff::Fixed,
                    _ => return Err(format!("backoff: expected random or fixed, got {value:?}")),
                }
            }
            "retry" => {
                self.retry_us = parse_duration_within(value, 0, MAX_SETTING_US).map_err(|e| format!("retry: {e}"))?;
            }
            "phase-timeout" => {
                self.phase_timeout_us = parse_duration_within(value, MIN_TIMER_US, MAX_SETTING_US)
                    .map_err(|e| format!("phase-timeout: {e}"))?;
            }
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
            "variant" => {
                self.variant = Variant::parse(value).ok_or_else(|| {
                    let names: Vec<&str> = Variant::ALL.iter().map(|v| v.as_str()).collect();
                    format!("variant: expected one of {}, got {value:?}", names.join(", "))
                })?;
            }
            _ => {
                return Err(format!(
                    "unknown paxos parameter {key:?}; expected one of {}",
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

/// `all`, or node ids 1 to 9 separated by commas (`1,2`).
fn parse_proposers(value: &str) -> Result<u16, String> {
    if value == "all" {
        return Ok(ALL_PROPOSERS);
    }
    let mut set = 0u16;
    for part in value.split(',') {
        let part = part.trim();
        match part.parse::<u8>() {
            Ok(id @ 1..=9) => set |= 1 << id,
            _ => return Err(format!("expected all or node ids 1 to 9 like 1,2, got {value:?}")),
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Params;

    #[test]
    fn set_accepts_every_key_and_names_what_it_expected() {
        let mut p = PaxosParams::default();
        p.set("mode", "multi").unwrap();
        p.set("proposers", "1, 3").unwrap();
        p.set("leader", "on").unwrap();
        p.set("backoff", "fixed").unwrap();
        p.set("retry", "5ms").unwrap();
        p.set("phase-timeout", "80ms").unwrap();
        p.set("election-timeout", "100ms..200ms").unwrap();
        p.set("heartbeat", "20ms").unwrap();
        p.set("variant", "accept-lower-ballot").unwrap();
        assert_eq!(
            p,
            PaxosParams {
                mode: Mode::Multi,
                proposers: 0b1010,
                leader: true,
                backoff: Backoff::Fixed,
                retry_us: 5_000,
                phase_timeout_us: 80_000,
                election_timeout_us_min: 100_000,
                election_timeout_us_max: 200_000,
                heartbeat_us: 20_000,
                variant: Variant::AcceptLowerBallot,
            }
        );
        assert!(p.is_proposer(1) && !p.is_proposer(2) && p.is_proposer(3));
        for key in PaxosParams::keys() {
            assert!(p.set(key, "nonsense").is_err(), "{key} accepted nonsense");
        }
        let e = p.set("variant", "buggy").unwrap_err();
        assert!(e.contains("forget-promise-on-restart"), "{e}");
        let e = p.set("proposers", "0,1").unwrap_err();
        assert!(e.contains("1 to 9"), "{e}");
        let e = p.set("latency", "1ms").unwrap_err();
        assert!(e.contains("phase-timeout"), "{e}");
        assert!(p.set("heartbeat", "0ms").is_err());
        assert!(p.set("election-timeout", "0ms..10ms").is_err());
        assert!(p.set("election-timeout", "300ms..150ms").is_err());
        // Timers have limits, so that a link cannot ask for a run that never ends.
        let limits = [
            ("retry", "7200s", "retry: 7200s is above the maximum 3600s"),
            ("phase-timeout", "1us", "phase-timeout: 1us is below the minimum 1ms"),
            ("heartbeat", "1us", "heartbeat: 1us is below the minimum 1ms"),
            (
                "election-timeout",
                "1s..7200s",
                "election-timeout: 7200s is above the maximum 3600s",
            ),
        ];
        for (key, value, message) in limits {
            assert_eq!(p.set(key, value), Err(message.to_string()), "{key} {value}");
        }
        // A failed set leaves the value alone.
        assert_eq!(p.heartbeat_us, 20_000);
        p.set("proposers", "all").unwrap();
        assert!((1..=9).all(|id| p.is_proposer(id)));
    }

    #[test]
    fn multi_paxos_always_has_a_leader() {
        let mut p = PaxosParams::default();
        assert!(!p.has_leader());
        p.set("leader", "on").unwrap();
        assert!(p.has_leader());
        p.set("leader", "off").unwrap();
        p.set("mode", "multi").unwrap();
        assert!(p.has_leader());
    }

    #[test]
    fn variants_round_trip_by_name() {
        for v in Variant::ALL {
            assert_eq!(Variant::parse(v.as_str()), Some(v));
        }
    }
}
