//! The network and its faults, as data.
//!
//! Every link has the same latency range, loss rate and duplication rate. Partitions are a
//! grouping of nodes into islands (a message between islands is dropped); one-way cuts drop
//! messages on a single directed link. Both are checked when a message is sent and again when
//! it would be delivered, so a partition also kills the messages already in flight across it.

use crate::NodeId;
use crate::rng::SimRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Why a message never arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DropReason {
    /// Sender and receiver are in different islands.
    Partition,
    /// The directed link is cut.
    Cut,
    /// Random loss.
    Loss,
    /// The receiver is crashed.
    Crashed,
    /// The reader captured it in flight (a `drop` action).
    Captured,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Partition => "partition",
            DropReason::Cut => "cut",
            DropReason::Loss => "loss",
            DropReason::Crashed => "crashed",
            DropReason::Captured => "captured",
        }
    }
}

/// Link behaviour and faults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub latency_min_us: u64,
    pub latency_max_us: u64,
    pub loss_ppm: u32,
    pub dup_ppm: u32,
    /// Island number of node `i + 1`; all equal when the network is whole.
    island: Vec<u8>,
    /// Directed links that drop everything: `(from, to)`.
    cuts: BTreeSet<(NodeId, NodeId)>,
    /// Extra one-way latency of every link between node `i + 1` and another node (`set far`):
    /// a replica in a far data centre, whose own clients are near it. Empty while no node is far.
    #[serde(default)]
    far_us: Vec<u64>,
}

/// Raft's paper assumes messages take far less than an election timeout; 10-15 ms against
/// 150-300 ms keeps that true, and is slow enough to watch.
pub const DEFAULT_LATENCY_US: (u64, u64) = (10_000, 15_000);

impl Network {
    /// A message's delay on a link, drawn from the latency range with `rng`.
    pub fn latency(&self, rng: &mut SimRng) -> u64 {
        rng.range_inclusive(self.latency_min_us, self.latency_max_us)
    }

    pub fn new(nodes: u8) -> Self {
        Network {
            latency_min_us: DEFAULT_LATENCY_US.0,
            latency_max_us: DEFAULT_LATENCY_US.1,
            loss_ppm: 0,
            dup_ppm: 0,
            island: vec![0; usize::from(nodes)],
            cuts: BTreeSet::new(),
            far_us: Vec::new(),
        }
    }

    /// Makes every link between `node` and another node slower by `extra_us`, one way.
    pub fn set_far(&mut self, node: NodeId, extra_us: u64) {
        let i = usize::from(node).wrapping_sub(1);
        if i < self.island.len() {
            self.far_us.resize(self.island.len(), 0);
            self.far_us[i] = extra_us;
        }
    }

    /// The extra latency of the link between nodes `a` and `b`.
    pub fn far_us(&self, a: NodeId, b: NodeId) -> u64 {
        let of = |n: NodeId| self.far_us.get(usize::from(n).wrapping_sub(1)).copied().unwrap_or(0);
        of(a) + of(b)
    }

    /// Whether a message from `from` to `to` is blocked, and why.
    pub fn blocked(&self, from: NodeId, to: NodeId) -> Option<DropReason> {
        if self.island_of(from) != self.island_of(to) {
            Some(DropReason::Partition)
        } else if self.cuts.contains(&(from, to)) {
            Some(DropReason::Cut)
        } else {
            None
        }
    }

    pub fn island_of(&self, node: NodeId) -> u8 {
        self.island.get(usize::from(node).wrapping_sub(1)).copied().unwrap_or(0)
    }

    /// Islands as lists of nodes, in order of their smallest member.
    pub fn islands(&self) -> Vec<Vec<NodeId>> {
        let mut groups: Vec<(u8, Vec<NodeId>)> = Vec::new();
        for (i, &isle) in self.island.iter().enumerate() {
            let node = i as NodeId + 1;
            match groups.iter_mut().find(|(g, _)| *g == isle) {
                Some((_, members)) => members.push(node),
                None => groups.push((isle, vec![node])),
            }
        }
        groups.into_iter().map(|(_, members)| members).collect()
    }

    pub fn is_partitioned(&self) -> bool {
        self.island.iter().any(|&i| i != self.island[0])
    }

    /// The directed cut links, in order.
    pub fn cuts(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        self.cuts.iter().copied()
    }

    /// Splits the nodes into `groups`; nodes in no group become islands of their own.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) {
        let n = self.island.len();
        let mut next: u8 = 0;
        let mut island = vec![u8::MAX; n];
        for group in groups {
            for &node in group {
                if let Some(slot) = island.get_mut(usize::from(node).wrapping_sub(1)) {
                    *slot = next;
                }
            }
            next = next.saturating_add(1);
        }
        for slot in island.iter_mut().filter(|s| **s == u8::MAX) {
            *slot = next;
            next = next.saturating_add(1);
        }
        self.island = island;
    }

    /// Removes every partition and every cut.
    pub fn heal(&mut self) {
        self.island.iter_mut().for_each(|i| *i = 0);
        self.cuts.clear();
    }

    pub fn cut(&mut self, from: NodeId, to: NodeId, both: bool) {
        self.cuts.insert((from, to));
        if both {
            self.cuts.insert((to, from));
        }
    }

    pub fn restore(&mut self, from: NodeId, to: NodeId, both: bool) {
        self.cuts.remove(&(from, to));
        if both {
            self.cuts.remove(&(to, from));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_group_and_leftovers_stand_alone() {
        let mut net = Network::new(5);
        assert!(!net.is_partitioned());
        net.partition(&[vec![1, 2], vec![4]]);
        assert_eq!(net.islands(), vec![vec![1, 2], vec![3], vec![4], vec![5]]);
        assert_eq!(net.blocked(1, 2), None);
        assert_eq!(net.blocked(1, 3), Some(DropReason::Partition));
        assert_eq!(net.blocked(3, 5), Some(DropReason::Partition));
        net.heal();
        assert_eq!(net.islands(), vec![vec![1, 2, 3, 4, 5]]);
    }

    #[test]
    fn a_far_node_slows_its_links_only() {
        let mut net = Network::new(3);
        assert_eq!(net.far_us(1, 3), 0);
        net.set_far(3, 40_000);
        assert_eq!(
            (net.far_us(1, 3), net.far_us(3, 0), net.far_us(1, 2)),
            (40_000, 40_000, 0)
        );
        net.set_far(9, 1);
        assert_eq!(net.far_us(1, 2), 0, "no node 9");
    }

    #[test]
    fn cuts_are_one_way_unless_both() {
        let mut net = Network::new(3);
        net.cut(1, 2, false);
        assert_eq!(net.blocked(1, 2), Some(DropReason::Cut));
        assert_eq!(net.blocked(2, 1), None);
        net.cut(2, 3, true);
        assert_eq!(net.blocked(3, 2), Some(DropReason::Cut));
        net.restore(2, 3, true);
        assert_eq!(net.blocked(3, 2), None);
        net.heal();
        assert_eq!(net.blocked(1, 2), None);
    }
}

/// Parses a rate as scripts write it (`5%`, `0.25%`) into parts per million.
pub fn parse_rate_ppm(text: &str) -> Result<u32, String> {
    let bad = || format!("\"{text}\" is not a rate; write it like 5% or 0.25%");
    let number = text.strip_suffix('%').ok_or_else(bad)?;
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty()
        || whole.len() > 3
        || frac.len() > 4
        || (number.contains('.') && frac.is_empty())
        || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let mut ppm: u32 = whole.parse::<u32>().map_err(|_| bad())? * 10_000;
    let mut unit = 1_000;
    for digit in frac.bytes().map(|b| u32::from(b - b'0')) {
        ppm += digit * unit;
        unit /= 10;
    }
    if ppm > 1_000_000 {
        return Err(format!("\"{text}\" is above 100%"));
    }
    Ok(ppm)
}

/// Formats parts per million as a percentage that [`parse_rate_ppm`] reads back.
pub fn format_rate_ppm(ppm: u32) -> String {
    let (whole, frac) = (ppm / 10_000, ppm % 10_000);
    if frac == 0 {
        format!("{whole}%")
    } else {
        format!("{whole}.{}%", format!("{frac:04}").trim_end_matches('0'))
    }
}

#[cfg(test)]
mod rate_tests {
    use super::*;

    #[test]
    fn rates_round_trip() {
        for ppm in [0, 1, 100, 50_000, 2_500, 1_000_000, 123_456] {
            assert_eq!(parse_rate_ppm(&format_rate_ppm(ppm)), Ok(ppm), "{ppm}");
        }
        assert_eq!(parse_rate_ppm("5%"), Ok(50_000));
        assert!(parse_rate_ppm("101%").is_err());
        assert!(parse_rate_ppm("5").is_err());
        assert!(parse_rate_ppm("0.00001%").is_err());
    }
}
