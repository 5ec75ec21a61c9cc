//! The Paxos safety monitor: the properties of "Paxos Made Simple" (section 2.1), checked
//! after every step of a run.
//!
//! The paper states the safety requirements for consensus as: only a value that has been
//! proposed may be chosen; only a single value is chosen; and a process never learns that a
//! value has been chosen unless it actually has been. Per slot of the log, the monitor checks:
//!
//! - **Agreement**: at most one value is ever chosen in a slot. A value is *chosen* the moment
//!   a majority of acceptors have accepted it in one ballot. The monitor keeps every vote ever
//!   cast (an acceptor that later accepts a higher ballot does not take back its vote: "chosen"
//!   is a fact about the past), so it sees a value chosen even when no learner hears of it.
//!   A value a learner learns counts as chosen too, so two learners that learn different
//!   values, or a learner that learns a value no majority accepted before another one was
//!   chosen, break it as well.
//! - **Validity**: an acceptor only ever accepts a no-op or a client request some proposer
//!   took from a client (each node lists what it took: [`Paxos::taken`]). Everything chosen
//!   was accepted first, so nothing invented is ever chosen.
//! - **Learner Consistency**: a learner never changes a value it learned (across restarts
//!   too), applies the slots in order without skipping one, and every learner applies the
//!   same value in the same slot.
//!
//! Clients' histories are checked for linearizability separately (`lin::check`), as for Raft.
//! Each broken situation is reported once (per slot, per node), naming the property, the
//! nodes, and the values.
//!
//! Everything that grows with the run is kept per slot (or per client and request number) in
//! [`SlotMap`]s, whose copies share chunks: a checkpoint copies the monitor in O(chunks).

use super::{Ballot, Paxos, Slot, bit, quorum};
use crate::chunked::SlotMap;
use crate::kv::Command;
use crate::protocol::{Monitor, Note, Op, Violation};
use crate::{ClientId, NodeId};
use std::collections::{BTreeMap, BTreeSet};

pub const AGREEMENT: &str = "Agreement";
pub const VALIDITY: &str = "Validity";
pub const LEARNER_CONSISTENCY: &str = "Learner Consistency";

const PROPERTIES: &[&str] = &[AGREEMENT, VALIDITY, LEARNER_CONSISTENCY];

/// How a slot's value became known as chosen.
#[derive(Clone, Copy, Debug)]
enum How {
    /// A majority of acceptors accepted it in `ballot`; `acceptors` is the bit set of them.
    Quorum { ballot: Ballot, acceptors: u16 },
    /// A learner learned it.
    Learned { node: NodeId },
}

#[derive(Clone, Copy, Debug)]
struct Decided {
    value: Command,
    how: How,
}

/// Votes in one slot: a value accepted in a ballot, and who accepted it.
#[derive(Clone, Copy, Debug)]
struct Vote {
    ballot: Ballot,
    /// The value's [`digest`].
    digest: u64,
    value: Command,
    acceptors: u16,
}

#[derive(Clone, Debug, Default)]
pub struct PaxosMonitor {
    /// Per slot, the first value known to be chosen.
    decided: SlotMap<Decided>,
    /// Every vote ever cast, per slot, in the order first cast.
    votes: SlotMap<Vec<Vote>>,
    /// Per node (`id - 1`): the digest of what it learned, per slot.
    learned: Vec<SlotMap<u64>>,
    /// Per slot: the first value applied there, and by whom.
    applied: SlotMap<(Command, NodeId)>,
    /// Per node: the last slot it applied.
    applied_upto: Vec<Slot>,
    /// The client requests proposers took: per client, per request number, the operation.
    proposed: BTreeMap<ClientId, SlotMap<Op>>,
    /// Per node: how many of its [`Paxos::taken`] requests were read.
    taken_seen: Vec<usize>,
    /// What was already reported: (property number, a, b).
    reported: BTreeSet<(u8, u64, u64)>,
}

/// A 64-bit digest of a value (not cryptographic: it only tells honest values apart).
fn digest(value: &Command) -> u64 {
    fn mix(h: u64, x: u64) -> u64 {
        let mut z = h.rotate_left(23) ^ x;
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    match value {
        Command::Noop => mix(0x5061_786f, 0),
        Command::Client(req) => {
            let h = mix(mix(mix(0x5061_786f, 1), u64::from(req.client)), req.seq);
            match req.op {
                Op::Read { key } => mix(mix(h, 10), u64::from(key)),
                Op::Write { key, value } => mix(mix(mix(h, 11), u64::from(key)), value),
                Op::Cas { key, from, to } => mix(mix(mix(mix(h, 12), u64::from(key)), from), to),
            }
        }
    }
}

fn names(bits: u16) -> String {
    (1..16u8)
        .filter(|&id| bits & bit(id) != 0)
        .map(|id| format!("n{id}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn ids(bits: u16) -> Vec<NodeId> {
    (1..16u8).filter(|&id| bits & bit(id) != 0).collect()
}

impl How {
    fn text(&self) -> String {
        match *self {
            How::Quorum { ballot, acceptors } => format!("chosen in ballot {ballot} by {}", names(acceptors)),
            How::Learned { node } => format!("learned by n{node}"),
        }
    }
    fn nodes(&self) -> Vec<NodeId> {
        match *self {
            How::Quorum { acceptors, .. } => ids(acceptors),
            How::Learned { node } => vec![node],
        }
    }
}

fn at<T: Default + Clone>(list: &mut Vec<T>, node: NodeId) -> &mut T {
    let i = usize::from(node).saturating_sub(1);
    if list.len() <= i {
        list.resize(i + 1, T::default());
    }
    &mut list[i]
}

impl PaxosMonitor {
    fn first_report(&mut self, property: u8, a: u64, b: u64) -> bool {
        self.reported.insert((property, a, b))
    }

    /// Reads the client requests `node` took since the last look.
    fn read_taken(&mut self, node: NodeId, paxos: &Paxos) {
        let taken = paxos.taken();
        let seen = at(&mut self.taken_seen, node);
        if taken.len() < *seen {
            // The node restarted: its list starts over.
            *seen = 0;
        }
        for req in taken.iter_from(*seen) {
            self.proposed.entry(req.client).or_default().insert(req.seq, req.op);
        }
        *at(&mut self.taken_seen, node) = taken.len();
    }

    /// `value` is known to be chosen in `slot`, as `how` says: it must be the only one.
    fn decide(&mut self, slot: Slot, value: Command, how: How, out: &mut Vec<Violation>) {
        let Some(first) = self.decided.get(slot).copied() else {
            self.decided.insert(slot, Decided { value, how });
            return;
        };
        if first.value == value || !self.first_report(0, slot, 0) {
            return;
        }
        let mut nodes = first.how.nodes();
        nodes.extend(how.nodes());
        crate::sort::sort_by_key(&mut nodes, |&n| u128::from(n));
        nodes.dedup();
        out.push(Violation {
            property: AGREEMENT,
            nodes,
            detail: format!(
                "slot {slot}: {} was {}, but {} was {}",
                first.value,
                first.how.text(),
                value,
                how.text()
            ),
        });
    }

    fn on_accept(&mut self, node: NodeId, slot: Slot, round: u64, paxos: &Paxos, n: u8, out: &mut Vec<Violation>) {
        let Some((ballot, value)) = paxos.accepted(slot) else {
            return;
        };
        if ballot.round != round {
            return;
        }
        if let Command::Client(req) = value
            && self.proposed.get(&req.client).and_then(|seqs| seqs.get(req.seq)) != Some(&req.op)
            && self.first_report(1, slot, digest(&value))
        {
            out.push(Violation {
                property: VALIDITY,
                nodes: vec![node],
                detail: format!("n{node} accepted {value} in slot {slot}, which no proposer took from a client"),
            });
        }
        let d = digest(&value);
        let votes = self.votes.get_or_insert_with(slot, Vec::new);
        let i = match votes.iter().position(|v| (v.ballot, v.digest) == (ballot, d)) {
            Some(i) => i,
            None => {
                votes.push(Vote {
                    ballot,
                    digest: d,
                    value,
                    acceptors: 0,
                });
                votes.len() - 1
            }
        };
        let vote = &mut votes[i];
        if vote.acceptors & bit(node) != 0 {
            return;
        }
        vote.acceptors |= bit(node);
        if vote.acceptors.count_ones() == quorum(n) {
            let (value, acceptors) = (vote.value, vote.acceptors);
            self.decide(slot, value, How::Quorum { ballot, acceptors }, out);
        }
    }

    fn on_learn(&mut self, node: NodeId, slot: Slot, paxos: &Paxos, out: &mut Vec<Violation>) {
        let Some((_, value)) = paxos.learned(slot) else {
            return;
        };
        let d = digest(&value);
        let mine = at(&mut self.learned, node);
        match mine.get(slot).copied() {
            None => {
                mine.insert(slot, d);
            }
            Some(before) if before != d => {
                if self.first_report(2, slot, u64::from(node)) {
                    out.push(Violation {
                        property: LEARNER_CONSISTENCY,
                        nodes: vec![node],
                        detail: format!("n{node} learned {value} in slot {slot}, after learning another value there"),
                    });
                }
            }
            Some(_) => {}
        }
        self.decide(slot, value, How::Learned { node }, out);
    }

    fn on_apply(&mut self, node: NodeId, slot: Slot, paxos: &Paxos, out: &mut Vec<Violation>) {
        let upto = at(&mut self.applied_upto, node);
        let before = *upto;
        *upto = slot;
        // Slot 1 after a restart: the state machine is rebuilt from the start.
        if slot != before.saturating_add(1) && slot != 1 && self.first_report(3, slot, u64::from(node)) {
            out.push(Violation {
                property: LEARNER_CONSISTENCY,
                nodes: vec![node],
                detail: format!("n{node} applied slot {slot} right after slot {before}"),
            });
        }
        let Some((_, value)) = paxos.learned(slot) else {
            return;
        };
        match self.applied.get(slot).copied() {
            None => {
                self.applied.insert(slot, (value, node));
            }
            Some((first, by)) if first != value => {
                if self.first_report(4, slot, 0) {
                    let (a, b) = (by.min(node), by.max(node));
                    out.push(Violation {
                        property: LEARNER_CONSISTENCY,
                        nodes: if a == b { vec![a] } else { vec![a, b] },
                        detail: format!("n{by} applied {first} in slot {slot} but n{node} applied {value}"),
                    });
                }
            }
            Some(_) => {}
        }
    }
}

impl Monitor<Paxos> for PaxosMonitor {
    fn observe(&mut self, node: NodeId, notes: &[Note], nodes: &[Option<Paxos>], out: &mut Vec<Violation>) {
        let Some(paxos) = nodes.get(usize::from(node).saturating_sub(1)).and_then(Option::as_ref) else {
            return;
        };
        let n = nodes.len() as u8;
        self.read_taken(node, paxos);
        for note in notes {
            match *note {
                Note::Append { index, term } => self.on_accept(node, index, term, paxos, n, out),
                Note::Commit { index } => self.on_learn(node, index, paxos, out),
                Note::Apply { index, .. } => self.on_apply(node, index, paxos, out),
                Note::Role { .. } | Note::Truncate { .. } | Note::Fact(_) => {}
            }
        }
    }

    fn properties() -> &'static [&'static str] {
        PROPERTIES
    }
}
