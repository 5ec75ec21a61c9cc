//! The chapter's parameters, as the `set KEY VALUE` lines of a script name them.
//!
//! | key | value | default |
//! |---|---|---|
//! | `mode` | `cp` (strict quorums, refuse without one), `ap` (always answer), `split-brain` | `cp` |
//! | `r`, `w` | read and write quorums, 1 to 9 (at most the cluster size counts) | `3`, `3` |
//! | `read-repair` | `on`/`off`: in CP the read's write-back phase, in AP a repair after the answer | `on` |
//! | `hinted-handoff` | `on`/`off`: a coordinator keeps retrying a replica that missed a write | `on` |
//! | `op-timeout` | how long a coordinator waits for its quorum | `300ms` |
//! | `fencing` | `on`/`off`: the storage rejects a token lower than the highest it has seen | `off` |
//! | `lease` | `off` (Raft's leader writes) or a lease's TTL from the lock service | `off` |
//! | `work` | how long a writer works between its check (leader? lease?) and its write | `50ms` |
//! | `election-timeout`, `heartbeat` | the Raft members' timers (split brain) | Raft's |
//! | `variant` | `correct` or `token-per-writer` (the storage fences per writer: broken) | `correct` |

use crate::protocol::{Params, parse_switch};
use crate::raft::RaftParams;
use crate::time::{MAX_SETTING_US, MIN_TIMER_US, parse_duration_within, parse_range_within};

/// What the cluster is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// A quorum store that refuses when it cannot reach its quorum.
    #[default]
    Cp,
    /// A quorum store that always answers, with what it can reach.
    Ap,
    /// Raft members (or lease holders) writing to a storage service, the last node.
    SplitBrain,
}

/// The chapter's deliberately broken variant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Variant {
    #[default]
    Correct,
    /// The storage remembers the highest token per writer instead of overall, so an old
    /// leader's lower token still passes.
    TokenPerWriter,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapParams {
    pub mode: Mode,
    pub r: u8,
    pub w: u8,
    pub read_repair: bool,
    pub hinted_handoff: bool,
    pub op_timeout_us: u64,
    pub fencing: bool,
    pub lease_us: Option<u64>,
    pub work_us: u64,
    pub variant: Variant,
    pub raft: RaftParams,
}

impl Default for CapParams {
    fn default() -> Self {
        CapParams {
            mode: Mode::Cp,
            r: 3,
            w: 3,
            read_repair: true,
            hinted_handoff: true,
            op_timeout_us: 300_000,
            fencing: false,
            lease_us: None,
            work_us: 50_000,
            variant: Variant::Correct,
            raft: RaftParams::default(),
        }
    }
}

fn quorum(value: &str) -> Result<u8, String> {
    match value.parse::<u8>() {
        Ok(q @ 1..=9) => Ok(q),
        _ => Err(format!("expected a quorum from 1 to 9, got {value:?}")),
    }
}

fn timer(value: &str) -> Result<u64, String> {
    parse_duration_within(value, MIN_TIMER_US, MAX_SETTING_US)
}

impl Params for CapParams {
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "mode" => {
                self.mode = match value {
                    "cp" => Mode::Cp,
                    "ap" => Mode::Ap,
                    "split-brain" => Mode::SplitBrain,
                    _ => return Err(format!("expected cp, ap or split-brain, got {value:?}")),
                }
            }
            "r" => self.r = quorum(value)?,
            "w" => self.w = quorum(value)?,
            "read-repair" => self.read_repair = parse_switch(value)?,
            "hinted-handoff" => self.hinted_handoff = parse_switch(value)?,
            "op-timeout" => self.op_timeout_us = timer(value)?,
            "fencing" => self.fencing = parse_switch(value)?,
            "lease" => self.lease_us = if value == "off" { None } else { Some(timer(value)?) },
            "work" => self.work_us = timer(value)?,
            // Raft's own two timers, read here rather than by `RaftParams::set`, whose other
            // keys (and their parsing, on every page that runs this chapter) are not offered.
            "election-timeout" => {
                let (lo, hi) = parse_range_within(value, MIN_TIMER_US, MAX_SETTING_US)?;
                (self.raft.election_timeout_us_min, self.raft.election_timeout_us_max) = (lo, hi);
            }
            "heartbeat" => self.raft.heartbeat_us = timer(value)?,
            "variant" => {
                self.variant = match value {
                    "correct" => Variant::Correct,
                    "token-per-writer" => Variant::TokenPerWriter,
                    _ => return Err(format!("expected correct or token-per-writer, got {value:?}")),
                }
            }
            _ => return Err(format!("unknown cap setting {key:?}")),
        }
        Ok(())
    }
    fn keys() -> &'static [&'static str] {
        &[
            "mode",
            "r",
            "w",
            "read-repair",
            "hinted-handoff",
            "op-timeout",
            "fencing",
            "lease",
            "work",
            "election-timeout",
            "heartbeat",
            "variant",
        ]
    }
}
