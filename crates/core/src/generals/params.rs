//! The generals chapter's parameters, as the `set KEY VALUE` lines of a script name them.
//!
//! | key | value | default |
//! |---|---|---|
//! | `mode` | `two-generals`, `om` (Oral Messages) or `sm` (Signed Messages) | `om` |
//! | `k` | Two Generals: acknowledgements before a general attacks, 0 to 5 | `1` |
//! | `messengers` | Two Generals: messengers sent for each step of the chain, 1 to 9 | `1` |
//! | `m` | OM(m) and SM(m): the traitors the algorithm is built to survive, 0 to 3 | `1` |
//! | `traitors` | the nodes that are traitors from the start: `none`, `3`, `2,3` | `none` |
//! | `strategy` | what a traitor says: `random`, `split` (half the lieutenants hear attack, half retreat) or `retreat` | `split` |
//! | `order` | the loyal commander's order each campaign: `random`, `attack`, `retreat` | `random` |
//! | `round` | a duration: the length of one round of messages (the synchrony bound) | `50ms` |
//! | `period` | a duration: from one campaign to the next | `1s` |
//! | `variant` | `correct`, `no-recursion` (OM decides on the commander's word alone), `sm-no-relay` (SM lieutenants relay nothing) | `correct` |
//!
//! A campaign takes `m + 1` rounds (OM, SM) or `k + 1` rounds (Two Generals); a period shorter
//! than that and one more round is stretched to it.

use crate::NodeId;
use crate::time::{MAX_SETTING_US, MIN_TIMER_US, parse_duration_within};

/// The keys [`GeneralsParams`] accepts.
pub const KEYS: &[&str] = &[
    "mode",
    "k",
    "messengers",
    "m",
    "traitors",
    "strategy",
    "order",
    "round",
    "period",
    "variant",
];

/// The most acknowledgements of Two Generals, and the largest `m`.
pub const MAX_K: u8 = 5;
pub const MAX_MESSENGERS: u8 = 9;
pub const MAX_M: u8 = 3;

/// Which problem the chapter runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Two generals, one valley that loses messengers.
    TwoGenerals,
    /// Lamport, Shostak and Pease's Oral Messages algorithm OM(m).
    #[default]
    Om,
    /// Their Signed Messages algorithm SM(m).
    Sm,
}

/// How a traitor picks what it says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// A coin toss per message, from the traitor's random stream.
    Random,
    /// Attack to every other lieutenant in id order, retreat to the rest: the loyal ones hear
    /// different things.
    #[default]
    Split,
    /// Always retreat, whatever it was told.
    Retreat,
}

/// The loyal commander's order in each campaign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Order {
    #[default]
    Random,
    Attack,
    Retreat,
}

/// The correct algorithms, or a deliberately broken one that a checker must catch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Variant {
    #[default]
    Correct,
    /// OM(m) without its recursion: a lieutenant obeys the order the commander sent it, as in
    /// OM(0), whatever the others relay. A traitorous commander splits the loyal lieutenants.
    NoRecursion,
    /// SM(m) whose lieutenants never relay the signed orders they receive, so a traitorous
    /// commander's two orders never meet.
    SmNoRelay,
}

/// The index of `value` among `names`, or the error naming them.
fn pick(key: &str, value: &str, names: &[&str]) -> Result<usize, String> {
    names
        .iter()
        .position(|name| *name == value)
        .ok_or_else(|| format!("{key}: expected one of {}, got {value:?}", names.join(", ")))
}

/// The settings' words, in the order of their enums' variants.
pub const MODES: [&str; 3] = ["two-generals", "om", "sm"];
pub const STRATEGIES: [&str; 3] = ["random", "split", "retreat"];
const ORDERS: [&str; 3] = ["random", "attack", "retreat"];
pub const VARIANTS: [&str; 3] = ["correct", "no-recursion", "sm-no-relay"];

/// The generals chapter's parameters. Durations are microseconds of the node's local clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneralsParams {
    pub mode: Mode,
    pub k: u8,
    pub messengers: u8,
    pub m: u8,
    /// Traitors from the start, in id order.
    pub traitors: Vec<NodeId>,
    pub strategy: Strategy,
    pub order: Order,
    pub round_us: u64,
    pub period_us: u64,
    pub variant: Variant,
}

impl Default for GeneralsParams {
    fn default() -> Self {
        GeneralsParams {
            mode: Mode::Om,
            k: 1,
            messengers: 1,
            m: 1,
            traitors: Vec::new(),
            strategy: Strategy::Split,
            order: Order::Random,
            round_us: 50_000,
            period_us: 1_000_000,
            variant: Variant::Correct,
        }
    }
}

impl GeneralsParams {
    /// Rounds of messages in one campaign: the chain of Two Generals, or OM's and SM's `m + 1`.
    pub fn rounds(&self) -> u8 {
        match self.mode {
            Mode::TwoGenerals => self.k + 1,
            Mode::Om | Mode::Sm => self.m + 1,
        }
    }
    /// From one campaign's start to the next: the `period`, stretched to the rounds and one
    /// round of rest if it is shorter.
    pub fn campaign_us(&self) -> u64 {
        self.period_us.max((u64::from(self.rounds()) + 1) * self.round_us)
    }
    /// When campaign `c` (from 1) starts, in local time: one round after 0, then a period apart.
    pub fn campaign_start_us(&self, c: u32) -> u64 {
        self.round_us + u64::from(c.saturating_sub(1)) * self.campaign_us()
    }
    pub fn mode_name(&self) -> &'static str {
        MODES[self.mode as usize]
    }
    pub fn strategy_name(&self) -> &'static str {
        STRATEGIES[self.strategy as usize]
    }
    pub fn variant_name(&self) -> &'static str {
        VARIANTS[self.variant as usize]
    }
}

fn small(key: &str, value: &str, lo: u8, hi: u8) -> Result<u8, String> {
    value
        .parse::<u8>()
        .ok()
        .filter(|v| (lo..=hi).contains(v))
        .ok_or_else(|| format!("{key}: expected a whole number from {lo} to {hi}, got {value:?}"))
}

/// Parses a list of node ids, `none` or `2,3` (commas or spaces).
pub fn parse_nodes(value: &str) -> Result<Vec<NodeId>, String> {
    if value == "none" {
        return Ok(Vec::new());
    }
    let mut ids = Vec::new();
    for part in value.split([',', ' ']).filter(|p| !p.is_empty()) {
        let id = part
            .parse::<NodeId>()
            .ok()
            .filter(|id| (1..=9).contains(id))
            .ok_or_else(|| format!("traitors: expected none or node ids 1 to 9 like 2,3, got {part:?}"))?;
        if let Err(i) = ids.binary_search(&id) {
            ids.insert(i, id);
        }
    }
    if ids.is_empty() {
        return Err("traitors: expected none or node ids like 2,3".into());
    }
    Ok(ids)
}

impl crate::protocol::Params for GeneralsParams {
    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let duration =
            |what: &str| parse_duration_within(value, MIN_TIMER_US, MAX_SETTING_US).map_err(|e| format!("{what}: {e}"));
        match key {
            "mode" => self.mode = [Mode::TwoGenerals, Mode::Om, Mode::Sm][pick(key, value, &MODES)?],
            "k" => self.k = small(key, value, 0, MAX_K)?,
            "messengers" => self.messengers = small(key, value, 1, MAX_MESSENGERS)?,
            "m" => self.m = small(key, value, 0, MAX_M)?,
            "traitors" => self.traitors = parse_nodes(value)?,
            "strategy" => {
                self.strategy = [Strategy::Random, Strategy::Split, Strategy::Retreat][pick(key, value, &STRATEGIES)?]
            }
            "order" => self.order = [Order::Random, Order::Attack, Order::Retreat][pick(key, value, &ORDERS)?],
            "round" => self.round_us = duration("round")?,
            "period" => self.period_us = duration("period")?,
            "variant" => {
                self.variant =
                    [Variant::Correct, Variant::NoRecursion, Variant::SmNoRelay][pick(key, value, &VARIANTS)?]
            }
            _ => return Err(format!("unknown generals setting {key:?}")),
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
    use crate::protocol::Params as _;

    #[test]
    fn settings_parse_and_refuse_with_a_sentence() {
        let mut p = GeneralsParams::default();
        p.set("mode", "om").unwrap();
        p.set("m", "2").unwrap();
        p.set("traitors", "3,2, 3").unwrap();
        p.set("strategy", "retreat").unwrap();
        assert_eq!(
            (p.mode, p.m, p.traitors.clone(), p.strategy),
            (Mode::Om, 2, vec![2, 3], Strategy::Retreat)
        );
        assert_eq!(p.rounds(), 3);
        assert_eq!(
            p.set("m", "4").unwrap_err(),
            "m: expected a whole number from 0 to 3, got \"4\""
        );
        assert_eq!(
            p.set("strategy", "lie").unwrap_err(),
            "strategy: expected one of random, split, retreat, got \"lie\""
        );
        assert!(
            p.set("traitors", "0")
                .unwrap_err()
                .starts_with("traitors: expected none")
        );
        p.set("traitors", "none").unwrap();
        assert!(p.traitors.is_empty());
    }

    #[test]
    fn a_short_period_is_stretched_to_the_rounds() {
        let mut p = GeneralsParams::default();
        p.set("mode", "two-generals").unwrap();
        p.set("period", "10ms").unwrap();
        p.set("k", "3").unwrap();
        assert_eq!(p.campaign_us(), 5 * 50_000);
        assert_eq!(p.campaign_start_us(1), 50_000);
        assert_eq!(p.campaign_start_us(3), 50_000 + 2 * 250_000);
    }
}
