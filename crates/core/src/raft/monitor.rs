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
//! - that check at election is not enough, because an entry can be committed in term `t`
//!   *after* a leader of a later term was elected: a leader of `t` that has not heard of the
//!   new term yet gets its last acknowledgements. So each leader of a term later than every
//!   commit so far stays *watched*: every Commit note that extends the committed prefix in an
//!   earlier term is checked against the watched leader's log as it was while it led (its log
//!   only grows while it leads, and only with entries of its own term, so "as it was" is its
//!   log when it stepped down). While it leads, or after it stepped down while its log keeps
//!   that prefix, that is the node's own chain; when its log is cut below, the monitor keeps
//!   the part of the chain not yet checked. A commit in term `t` ends the watch of every
//!   leader of a term up to `t` (commit terms never decrease along the log, so nothing can be
//!   committed before `t` any more), so only the leaders elected since the last commit are
//!   watched, usually one;
//! - every Apply note is checked against a table index → the first entry applied there.
//!
//! Everything that grows with the run (chains, holders, the committed prefix, what was
//! applied, the leaders of terms) lives in [`Chunked`] sequences and [`SlotMap`]s, whose
//! copies share chunks: a checkpoint copies the monitor in O(chunks).
//!
//! Each broken situation is reported once (per term, per entry, per index), naming the
//! property, the nodes, and what happened.

use super::Raft;
use super::log::{Entry, Log, mix};
use crate::NodeId;
use crate::chunked::{Chunked, SlotMap};
use crate::protocol::{Monitor, Note, Role, Violation};
use std::collections::{BTreeMap, BTreeSet};

pub const ELECTION_SAFETY: &str = "Election Safety";
pub const LOG_MATCHING: &str = "Log Matching";
pub const LEADER_COMPLETENESS: &str = "Leader Completeness";
pub const STATE_MACHINE_SAFETY: &str = "State Machine Safety";

const PROPERTIES: &[&str] = &[ELECTION_SAFETY, LOG_MATCHING, LEADER_COMPLETENESS, STATE_MACHINE_SAFETY];

/// A watched leader's log as it was while it led (see the module essay).
#[derive(Clone, Debug)]
enum LogAsLeader {
    /// Still leading: the node's own chain, which only grows while it leads.
    Leading,
    /// It stepped down with `len` entries, which are still the prefix of the node's chain.
    SteppedDown { len: u64 },
    /// Its log was cut since: the chain hashes of indexes `from..from + chain.len()` as they
    /// were (the prefix before `from` is already checked).
    Kept { from: u64, chain: Vec<u64> },
}

/// A leader of a term later than every commit seen so far.
#[derive(Clone, Debug)]
struct Watched {
    /// The committed prefix up to here is known to be in its log.
    checked: u64,
    log: LogAsLeader,
}

/// The first node seen holding an entry, and the chain hash of its log up to there.
#[derive(Clone, Copy, Debug)]
struct Holder {
    term: u64,
    chain: u64,
    node: NodeId,
}

#[derive(Clone, Debug, Default)]
pub struct RaftMonitor {
    /// The first leader of each term, by term.
    leaders: SlotMap<NodeId>,
    /// The leaders, by (term, node), of the terms later than the last commit's (see
    /// [`LogAsLeader`]).
    watched: BTreeMap<(u64, NodeId), Watched>,
    /// Per node (`id - 1`): `chains[i]` is the chain hash of the node's log up to index `i + 1`.
    chains: Vec<Chunked<u64>>,
    /// Per index: every distinct term seen there with its first holder.
    holders: SlotMap<Vec<Holder>>,
    /// The committed prefix, per index: the entry's term, the chain hash up to it, and the
    /// term in which it became committed. That last is the term of the node whose Commit note
    /// first covered the index; the leader that commits notes it before anyone else can know,
    /// and a later note could only name a later term, so it is never earlier than the truth.
    /// It never decreases along the log.
    committed_terms: Chunked<u64>,
    committed_chain: Chunked<u64>,
    committed_in: Chunked<u64>,
    /// Per index: the first entry applied there and by whom.
    applied: SlotMap<(Entry, NodeId)>,
    /// What was already reported: (property number, a, b).
    reported: BTreeSet<(u8, u64, u64)>,
}

fn idx(index: u64) -> usize {
    usize::try_from(index.saturating_sub(1)).unwrap_or(usize::MAX)
}

/// The chain of `node` in `chains` (empty if it has none yet).
fn chain_of(chains: &[Chunked<u64>], node: NodeId) -> &Chunked<u64> {
    static NONE: Chunked<u64> = Chunked::new();
    chains.get(usize::from(node).saturating_sub(1)).unwrap_or(&NONE)
}

/// Extends `chain` to cover `log` up to `upto` (or its end).
fn sync(chain: &mut Chunked<u64>, log: &Log, upto: u64) {
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
fn first_divergence(a: &Chunked<u64>, b: &Chunked<u64>, at: u64) -> u64 {
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

    fn chain_mut(&mut self, node: NodeId) -> &mut Chunked<u64> {
        let i = usize::from(node).saturating_sub(1);
        if self.chains.len() <= i {
            self.chains.resize_with(i + 1, Chunked::new);
        }
        &mut self.chains[i]
    }

    fn chain(&self, node: NodeId) -> &Chunked<u64> {
        chain_of(&self.chains, node)
    }

    fn on_leader(&mut self, node: NodeId, term: u64, raft: Option<&Raft>, out: &mut Vec<Violation>) {
        // Election Safety.
        match self.leaders.get(term).copied() {
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
        // Its whole log: it is watched if its term is later than every commit (see above).
        sync(self.chain_mut(node), raft.log(), u64::MAX);
        let chain = self.chain(node);
        if c_index == 0 || (chain.len() as u64 >= c_index && chain[idx(c_index)] == self.committed_chain[idx(c_index)])
        {
            if term > self.committed_in.last().copied().unwrap_or(0) {
                self.watched.entry((term, node)).or_insert(Watched {
                    checked: c_index,
                    log: LogAsLeader::Leading,
                });
            }
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

    /// A Role note of `node`: the leaderships it no longer holds end, their log is its log now.
    fn on_role(&mut self, node: NodeId, role: Role, term: u64) {
        let len = self.chain(node).len() as u64;
        for (&(t, n), w) in self.watched.iter_mut() {
            if n == node && matches!(w.log, LogAsLeader::Leading) && (role, term) != (Role::LEADER, t) {
                w.log = LogAsLeader::SteppedDown { len };
            }
        }
    }

    /// `node`'s chain is about to lose the indexes from `from` on: keep what its watched
    /// leaderships still need of them.
    fn cut(&mut self, node: NodeId, from: u64) {
        let chain = chain_of(&self.chains, node);
        if (chain.len() as u64) < from {
            return;
        }
        for (&(_, n), w) in self.watched.iter_mut() {
            let len = match w.log {
                _ if n != node => continue,
                LogAsLeader::Kept { .. } => continue,
                // A leader never cuts its own log; should one (a broken run), keep what it had.
                LogAsLeader::Leading => chain.len() as u64,
                LogAsLeader::SteppedDown { len } => len,
            };
            if from <= len {
                let start = usize::try_from(w.checked).unwrap_or(usize::MAX).min(chain.len());
                let end = usize::try_from(len).unwrap_or(usize::MAX).min(chain.len()).max(start);
                w.log = LogAsLeader::Kept {
                    from: w.checked + 1,
                    chain: chain.iter_from(start).take(end - start).copied().collect(),
                };
            }
        }
    }

    /// The chain hash at `index` of the watched leadership `w` of `node`, if its log reached it.
    fn watched_chain_at(&self, node: NodeId, w: &Watched, index: u64) -> Option<u64> {
        match &w.log {
            LogAsLeader::Leading => self.chain(node).get(idx(index)).copied(),
            LogAsLeader::SteppedDown { len } if index <= *len => self.chain(node).get(idx(index)).copied(),
            LogAsLeader::SteppedDown { .. } => None,
            LogAsLeader::Kept { from, chain } => {
                let i = usize::try_from(index.checked_sub(*from)?).ok()?;
                chain.get(i).copied()
            }
        }
    }

    /// The committed prefix grew to `end` in term `in_term`, by `committer`'s Commit note.
    /// Every watched leader of a later term must hold it; the watch of the others ends.
    fn check_watched(
        &mut self,
        committer: NodeId,
        end: u64,
        in_term: u64,
        nodes: &[Option<Raft>],
        out: &mut Vec<Violation>,
    ) {
        self.watched = match in_term.checked_add(1) {
            Some(next) => self.watched.split_off(&(next, 0)),
            None => BTreeMap::new(),
        };
        let keys: Vec<(u64, NodeId)> = self.watched.keys().copied().collect();
        for (term, node) in keys {
            let w = &self.watched[&(term, node)];
            if self.watched_chain_at(node, w, end) == Some(self.committed_chain[idx(end)]) {
                if let Some(w) = self.watched.get_mut(&(term, node)) {
                    w.checked = end;
                }
                continue;
            }
            // The first committed entry its log lacks: chains that differ at an index differ
            // at every later one, and a log that ends before an index ends before every later
            // one, so this is a binary search over what is not checked yet.
            let (mut lo, mut hi) = (w.checked + 1, end);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if self.watched_chain_at(node, w, mid) == Some(self.committed_chain[idx(mid)]) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            let missing = lo;
            let has = match &w.log {
                _ if self.watched_chain_at(node, w, missing).is_none() => {
                    format!("its log as leader ended before {missing}")
                }
                LogAsLeader::Leading => match nodes.get(usize::from(node).saturating_sub(1)) {
                    Some(Some(raft)) => format!("it has {}", entry_at(raft.log(), missing)),
                    _ => format!("its log as leader had another entry at {missing}"),
                },
                _ => format!("its log as leader had another entry at {missing}"),
            };
            self.watched.remove(&(term, node));
            if !self.first_report(2, u64::from(node), term) {
                continue;
            }
            let m_term = self.committed_terms[idx(missing)];
            let m_in = self.committed_in[idx(missing)];
            let (a, b) = (committer.min(node), committer.max(node));
            out.push(Violation {
                property: LEADER_COMPLETENESS,
                nodes: if a == b { vec![a] } else { vec![a, b] },
                detail: format!(
                    "n{committer} committed entry {missing}@{m_term} in term {m_in}, but n{node}, \
                     leader of the later term {term}, lacks it ({has})"
                ),
            });
        }
    }

    fn on_append(&mut self, node: NodeId, index: u64, term: u64, raft: &Raft, out: &mut Vec<Violation>) {
        let log = raft.log();
        if index == 0 || log.term_at(index) != Some(term) {
            // Overwritten later in the same step; the later note covers it.
            return;
        }
        self.cut(node, index);
        let chain = self.chain_mut(node);
        chain.truncate(idx(index));
        sync(chain, log, index);
        let Some(&mine) = chain.get(idx(index)) else {
            return;
        };

        let holders = self.holders.get_or_insert_with(index, Vec::new);
        let Some(first) = holders.iter().find(|h| h.term == term).copied() else {
            holders.push(Holder {
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
        let where_ = if first.node != node && other.get(idx(index)) == Some(&first.chain) {
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

    fn on_commit(&mut self, node: NodeId, index: u64, nodes: &[Option<Raft>], out: &mut Vec<Violation>) {
        let Some(raft) = nodes.get(usize::from(node).saturating_sub(1)).and_then(Option::as_ref) else {
            return;
        };
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
        self.check_watched(node, index, in_term, nodes, out);
    }

    fn on_apply(&mut self, node: NodeId, index: u64, term: u64, raft: &Raft, out: &mut Vec<Violation>) {
        let Some(&entry) = raft.log().get(index).filter(|e| e.term == term) else {
            return;
        };
        match self.applied.get(index).copied() {
            None => {
                self.applied.insert(index, (entry, node));
            }
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
        // Log shape first, in order, so that the other checks see the step's final logs. A
        // step that ends a leadership notes the role first, before any change to the log.
        for note in notes {
            match *note {
                Note::Role { role, term } => self.on_role(node, role, term),
                Note::Truncate { from } => {
                    self.cut(node, from);
                    self.chain_mut(node).truncate(idx(from));
                }
                Note::Append { index, term } => {
                    if let Some(raft) = raft {
                        self.on_append(node, index, term, raft, out);
                    }
                }
                _ => {}
            }
        }
        for note in notes {
            match *note {
                Note::Role {
                    role: Role::LEADER,
                    term,
                } => self.on_leader(node, term, raft, out),
                Note::Commit { index } => self.on_commit(node, index, nodes, out),
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
