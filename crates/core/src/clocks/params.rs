//! The clocks chapter's parameters, as the `set KEY VALUE` lines of a script name them.
//!
//! | key | value | default |
//! |---|---|---|
//! | `store` | `off` (events only), `lww` (a register, last writer wins by wall clock) or `siblings` (a register that keeps concurrent versions by vector clock) | `off` |
//! | `sync` | `on` or `off`: nodes 2.. set their clocks from node 1, the time server | `on` |
//! | `sync-period` | a duration, `2s`, between a node's time requests | `2s` |
//! | `offset` | a duration, `20ms`: each node's quartz starts off by up to this much either way | `20ms` |
//! | `drift` | parts per million, `100`: each node's quartz runs fast or slow by up to this much | `100` |
//! | `workload` | `on` or `off`: the random local events and sends (with a store: writes) | `on` |
//! | `event-period` | a duration, `300ms`: a node's mean time between random events | `300ms` |
//! | `gossip-period` | a duration, `1s`: with a store, a node's time between anti-entropy rounds | `1s` |
//! | `variant` | `correct`, `lamport-no-max`, `vc-no-increment`, `vc-receiver-only` | `correct` |
//!
//! Durations are in the node's own (software) clock. Node 1's quartz is exact: it is the time
//! server's reference clock.

use crate::protocol::parse_switch;
use crate::time::{MAX_SETTING_US, MIN_TIMER_US, parse_duration_within};

/// The keys [`ClocksParams`] accepts.
pub const KEYS: &[&str] = &[
    "store",
    "sync",
    "sync-period",
    "offset",
    "drift",
    "workload",
    "event-period",
    "gossip-period",
    "variant",
];

/// The replicated register, if any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Store {
    /// No register: nodes do local events and send each other messages.
    #[default]
    Off,
    /// Last writer wins: a replica keeps the version with the highest (wall clock, node).
    Lww,
    /// Dynamo's version vectors: a replica keeps every version no other version descends from.
    Siblings,
}

impl Store {
    pub fn as_str(self) -> &'static str {
        match self {
            Store::Off => "off",
            Store::Lww => "lww",
            Store::Siblings => "siblings",
        }
    }
}

/// A deliberately broken logical clock, for proving the checkers can fail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Variant {
    #[default]
    Correct,
    /// Lamport's receive rule without the max: the receiver just ticks.
    LamportNoMax,
    /// The vector merge forgets to increment the receiver's own entry.
    VcNoIncrement,
    /// The vector "merge" keeps the receiver's copy only (and ticks it).
    VcReceiverOnly,
}

impl Variant {
    pub const ALL: &'static [Variant] = &[
        Variant::Correct,
        Variant::LamportNoMax,
        Variant::VcNoIncrement,
        Variant::VcReceiverOnly,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Correct => "correct",
            Variant::LamportNoMax => "lamport-no-max",
            Variant::VcNoIncrement => "vc-no-increment",
            Variant::VcReceiverOnly => "vc-receiver-only",
        }
    }
}

/// The chapter's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClocksParams {
    pub store: Store,
    pub sync: bool,
    pub sync_period_us: u64,
    pub max_offset_us: u64,
    pub max_drift_ppm: u64,
    pub workload: bool,
    pub event_period_us: u64,
    pub gossip_period_us: u64,
    pub variant: Variant,
}

impl Default for ClocksParams {
    fn default() -> Self {
        ClocksParams {
            store: Store::Off,
            sync: true,
            sync_period_us: 2_000_000,
            max_offset_us: 20_000,
            max_drift_ppm: 100,
            workload: true,
            event_period_us: 300_000,
            gossip_period_us: 1_000_000,
            variant: Variant::Correct,
        }
    }
}

impl crate::protocol::Params for ClocksParams {
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let timer = |v: &str| parse_duration_within(v, MIN_TIMER_US, MAX_SETTING_US).map_err(|e| format!("{key}: {e}"));
        match key {
            "store" => {
                self.store = match value {
                    "off" => Store::Off,
                    "lww" => Store::Lww,
                    "siblings" => Store::Siblings,
                    _ => return Err(format!("store: expected off, lww or siblings, got {value:?}")),
                }
            }
            "sync" => self.sync = parse_switch(value).map_err(|e| format!("sync: {e}"))?,
            "sync-period" => self.sync_period_us = timer(value)?,
            "offset" => {
                self.max_offset_us = parse_duration_within(value, 0, 10_000_000).map_err(|e| format!("offset: {e}"))?
            }
            "drift" => {
                self.max_drift_ppm = value
                    .parse()
                    .ok()
                    .filter(|&d| d <= 100_000)
                    .ok_or_else(|| format!("drift: expected parts per million from 0 to 100000, got {value:?}"))?
            }
            "workload" => self.workload = parse_switch(value).map_err(|e| format!("workload: {e}"))?,
            "event-period" => self.event_period_us = timer(value)?,
            "gossip-period" => self.gossip_period_us = timer(value)?,
            "variant" => {
                self.variant = *Variant::ALL.iter().find(|v| v.as_str() == value).ok_or_else(|| {
                    format!(
                        "variant: expected correct, lamport-no-max, vc-no-increment or vc-receiver-only, got {value:?}"
                    )
                })?
            }
            _ => {
                return Err(format!(
                    "unknown clocks setting {key:?} (the settings are {})",
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
