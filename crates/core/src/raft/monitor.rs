//! The Raft safety monitor: Figure 3's properties, checked after every step of a run.
//!
//! The paper proves that Raft guarantees, at all times:
//!
//! - **Election Safety**: at most one leader can be elected in a given term.
//! - **Log Matching**: if two logs contain an entry with the same index and term, then the
//!   logs are identical in all entries up through that index.
//! - **Leader Completeness**: if an entry is committed in a given term, it is present in the
//!   logs of the leaders of all higher terms.
//! - **State Machine Safety**: if a node has applied an entry at a given index, no other node
//!   ever applies a different entry at that index.
//!
//! The monitor watches the notes each step emits and reads the stepping node's state, so it
//! costs O(1) amortized per note and never rescans a log:
//!
//! - every Role note naming a leader is checked against a map term → first leader;
//! - for each node it keeps a chain hash per log index, `chain[i] = H(chain[i-1], entry i)`,
//!   extended on Append notes and cut on Truncate notes. Two logs agree up to `i` exactly when
//!   their chains agree at `i` (up to hash collisions), so Log Matching is one lookup in a
//!   global table `(index, term) → chain`, filled the first time any node holds that entry;
//! - the committed prefix is kept as its chain (grown on Commit notes), with the term in which
//!   each index became committed; a node that becomes leader of term `t` must hold the same
//!   chain at the last index committed before `t`. Only *earlier* terms count: a candidate
//!   whose votes were delayed (a GC pause) can still become leader of an old term after a
//!   newer leader has committed entries it lacks, which is harmless (it can commit nothing,
//!   every follower has moved past its term) and is not what the property forbids;
//! - every Apply note is checked against a table index → the first entry applied there.
//!
//! Each broken situation is reported once (per term, per entry, per index), naming the
//! property, the nodes, and what happened.

use super::Raft;
use super::log::{Entry, Log, mix};
use crate::NodeId;
use crate::protocol::{Monitor, Note, Role, Violation};
use std::collections::{BTreeMap, BTreeSet};

pub const ELECTION_SAFETY: &str = "Election Safety";
pub const LOG_MATCHING: &str = "Log Matching";
pub const LEADER_COMPLETENESS: &str = "Leader Completeness";
pub const STATE_MACHINE_SAFETY: &str = "State Machine Safety";

const PROPERTIES: &[&str] = &[ELECTION_SAFETY, LOG_MATCHING, LEADER_COMPLETENESS, STATE_MACHINE_SAFETY];

/// The first node seen holding an entry, and the chain hash of its log up to there.
#[derive(Clone, Copy, Debug)]
struct Holder {
    term: u64,
    chain: u64,
    node: NodeId,
}

#[derive(Clone, Debug, Default)]
pub struct RaftMonitor {
    /// The first leader of each term.
    leaders: BTreeMap<u64, NodeId>,
    /// Per node (`id - 1`): `chains[i]` is the chain hash of the node's log up to index `i + 1`.
    chains: Vec<Vec<u64>>,
    /// Per index (`index - 1`): every distinct term seen there with its first holder.
    holders: Vec<Vec<Holder>>,
    /// The committed prefix, per index: the entry's term, the chain hash up to it, and the
    /// term in which it became committed. That last is the term of the node whose Commit note
    /// first covered the index; the leader that commits notes it before anyone else can know,
    /// and a later note could only name a later term, so it is never earlier than the truth.
    /// It never decreases along the log.
    committed_terms: Vec<u64>,
    committed_chain: Vec<u64>,
    committed_in: Vec<u64>,
    /// Per index (`index - 1`): the first entry applied there and by whom.
    applied: Vec<Option<(Entry, NodeId)>>,
    /// What was already reported: (property number, a, b).
    reported: BTreeSet<(u8, u64, u64)>,
}

fn idx(index: u64) -> usize {
    usize::try_from(index.saturating_sub(1)).unwrap_or(usize::MAX)
}

/// Extends `chain` to cover `log` up to `upto` (or its end).
fn sync(chain: &mut Vec<u64>, log: &Log, upto: u64) {
    let upto = upto.min(log.last_index());
    while (chain.len() as u64) < upto {
        let index = chain.len() as u64 + 1;
        let prev = chain.last().copied().unwrap_or(0);
        let digest = log.get(index).map_or(0, Entry::digest);
        chain.push(mix(prev, digest));
    }
}

/// The first index at which two chains differ, given that they differ at `at` (1-based)
/// and both reach it. Chains that differ at `i` differ at every later index, so this is a
/// binary search.
fn first_divergence(a: &[u64], b: &[u64], at: u64) -> u64 {
    let (mut lo, mut hi) = (1u64, at);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if a[idx(mid)] == b[idx(mid)] {
            lo = mid + 1
        } else {
            hi = mid
        }
    }
    lo
}

fn entry_at(log: &Log, index: u64) -> String {
    match log.get(index) {
        Some(e) => format!("{index}@{} ({})", e.term, e.command),
        None => format!("nothing at {index}"),
    }
}

impl RaftMonitor {
    fn first_report(&mut self, property: u8, a: u64, b: u64) -> bool {
        self.reported.insert((property, a, b))
    }

    fn chain_mut(&mut self, node: NodeId) -> &mut Vec<u64> {
        let i = usize::from(node).saturating_sub(1);
        if self.chains.len() <= i {
            self.chains.resize_with(i + 1, Vec::new);
        }
        &mut self.chains[i]
    }

    fn chain(&self, node: NodeId) -> &[u64] {
        self.chains
            .get(usize::from(node).saturating_sub(1))
            .map_or(&[], Vec::as_slice)
    }

    fn on_leader(&mut self, node: NodeId, term: u64, raft: Option<&Raft>, out: &mut Vec<Violation>) {
        // Election Safety.
        match self.leaders.get(&term).copied() {
            None => {
                self.leaders.insert(term, node);
            }
            Some(first) if first != node => {
                if self.first_report(0, term, 0) {
                    let (a, b) = (first.min(node), first.max(node));
                    out.push(Violation {
                        property: ELECTION_SAFETY,
                        nodes: vec![a, b],
                        detail: format!("n{a} and n{b} are both leaders of term {term}"),
                    });
                }
            }
            Some(_) => {}
        }

        // Leader Completeness: the entries committed in terms before `term`.
        let Some(raft) = raft else { return };
        let c_index = self.committed_in.partition_point(|&t| t < term) as u64;
        if c_index == 0 {
            return;
        }
        let c_chain = self.committed_chain[idx(c_index)];
        sync(self.chain_mut(node), raft.log(), c_index);
        let chain = self.chain(node);
        if chain.len() as u64 >= c_index && chain[idx(c_index)] == c_chain {
            return;
        }
        if !self.first_report(2, u64::from(node), term) {
            return;
        }
        // Name the first committed entry the new leader lacks.
        let chain = self.chain(node);
        let reach = (chain.len() as u64).min(c_index);
        let missing = if reach > 0 && chain[idx(reach)] != self.committed_chain[idx(reach)] {
            first_divergence(chain, &self.committed_chain, reach)
        } else {
            reach + 1
        };
        let m_term = self.committed_terms[idx(missing)];
        let m_in = self.committed_in[idx(missing)];
        let has = entry_at(raft.log(), missing);
        out.push(Violation {
            property: LEADER_COMPLETENESS,
            nodes: vec![node],
            detail: format!(
                "n{node} became leader of term {term} without entry {missing}@{m_term}, \
                 committed in term {m_in} (it has {has})"
            ),
        });
    }

    fn on_append(&mut self, node: NodeId, index: u64, term: u64, raft: &Raft, out: &mut Vec<Violation>) {
        let log = raft.log();
        if index == 0 || log.term_at(index) != Some(term) {
            // Overwritten later in the same step; the later note covers it.
            return;
        }
        let chain = self.chain_mut(node);
        chain.truncate(idx(index));
        sync(chain, log, index);
        let Some(&mine) = chain.get(idx(index)) else {
            return;
        };

        let i = idx(index);
        if self.holders.len() <= i {
            self.holders.resize_with(i + 1, Vec::new);
        }
        let Some(first) = self.holders[i].iter().find(|h| h.term == term).copied() else {
            self.holders[i].push(Holder {
                term,
                chain: mine,
                node,
            });
            return;
        };
        if first.chain == mine || !self.first_report(1, index, term) {
            return;
        }
        // Find where the logs part, if the first holder still holds what it held.
        let other = self.chain(first.node);
        let where_ = if first.node != node && other.get(i) == Some(&first.chain) {
            let at = first_divergence(self.chain(node), other, index);
            format!("their logs differ at index {at}")
        } else {
            "their logs differ at or before that index".to_string()
        };
        let (a, b) = (first.node.min(node), first.node.max(node));
        let detail = if a == b {
            format!("n{a} held entry {index}@{term} twice, after two different prefixes")
        } else {
            format!("n{a} and n{b} both hold entry {index}@{term}, but {where_}")
        };
        out.push(Violation {
            property: LOG_MATCHING,
            nodes: if a == b { vec![a] } else { vec![a, b] },
            detail,
        });
    }

    fn on_commit(&mut self, node: NodeId, index: u64, raft: &Raft) {
        let len = self.committed_chain.len() as u64;
        if index <= len {
            return;
        }
        let log = raft.log();
        sync(self.chain_mut(node), log, index);
        let chain = &self.chains[usize::from(node).saturating_sub(1)];
        if (chain.len() as u64) < index {
            return;
        }
        // Grow the committed prefix only from a node that agrees with it; a node that
        // disagrees will apply a different entry, which State Machine Safety reports.
        if len > 0 && chain[idx(len)] != self.committed_chain[idx(len)] {
            return;
        }
        // Keep the commit terms monotone even if a broken run reports commits out of order.
        let in_term = raft.current_term().max(self.committed_in.last().copied().unwrap_or(0));
        for i in len + 1..=index {
            self.committed_terms.push(log.term_at(i).unwrap_or(0));
            self.committed_chain.push(chain[idx(i)]);
            self.committed_in.push(in_term);
        }
    }

    fn on_apply(&mut self, node: NodeId, index: u64, term: u64, raft: &Raft, out: &mut Vec<Violation>) {
        let Some(&entry) = raft.log().get(index).filter(|e| e.term == term) else {
            return;
        };
        let i = idx(index);
        if self.applied.len() <= i {
            self.applied.resize(i + 1, None);
        }
        match self.applied[i] {
            None => self.applied[i] = Some((entry, node)),
            Some((first, by)) if first != entry => {
                if self.first_report(3, index, 0) {
                    let (a, b) = (by.min(node), by.max(node));
                    out.push(Violation {
                        property: STATE_MACHINE_SAFETY,
                        nodes: if a == b { vec![a] } else { vec![a, b] },
                        detail: format!(
                            "n{by} applied {index}@{} ({}) but n{node} applied {index}@{} ({})",
                            first.term, first.command, entry.term, entry.command
                        ),
                    });
                }
            }
            Some(_) => {}
        }
    }
}

impl Monitor<Raft> for RaftMonitor {
    fn observe(&mut self, node: NodeId, notes: &[Note], nodes: &[Option<Raft>], out: &mut Vec<Violation>) {
        let raft = nodes.get(usize::from(node).saturating_sub(1)).and_then(Option::as_ref);
        // Log shape first, in order, so that the other checks see the step's final logs.
        if let Some(raft) = raft {
            for note in notes {
                match *note {
                    Note::Truncate { from } => self.chain_mut(node).truncate(idx(from)),
                    Note::Append { index, term } => self.on_append(node, index, term, raft, out),
                    _ => {}
                }
            }
        }
        for note in notes {
            match *note {
                Note::Role {
                    role: Role::Leader,
                    term,
                } => self.on_leader(node, term, raft, out),
                Note::Commit { index } => {
                    if let Some(raft) = raft {
                        self.on_commit(node, index, raft);
                    }
                }
                Note::Apply { index, term } => {
                    if let Some(raft) = raft {
                        self.on_apply(node, index, term, raft, out);
                    }
                }
                _ => {}
            }
        }
    }

    fn properties() -> &'static [&'static str] {
        PROPERTIES
    }
}
