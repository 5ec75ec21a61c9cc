//! A chapter's client side: what its clients ask for, how they read a node's answer, what a
//! random load asks for, and the sequential specification their history is checked against.
//!
//! The engine's client machinery ([`crate::client`]) is the same for every chapter: queues,
//! attempts, timeouts, redirects, history processes. A [`Workload`] supplies the rest. Raft
//! and Paxos replicate a key-value store and share [`Registers`]: reads, writes and
//! compare-and-sets, checked for linearizability by [`crate::lin`].
//!
//! The operation and reply types are the trait's, but for now [`crate::Protocol`] pins them to
//! the register ones ([`Op`], [`ClientReply`]): the script's `request` action, the trace's
//! client lines and the history's events still carry those. A chapter with other operations
//! (transactions, payments) lifts that pin by making those three generic in turn.

use crate::history::{EventKind as Outcome, History};
use crate::lin::{self, Verdict};
use crate::protocol::{ClientReply, Op};
use crate::rng::SimRng;
use crate::{Key, NodeId, Value};
use std::collections::BTreeMap;
use std::fmt;

/// What a client makes of a node's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The operation is over: `Ok` (with the value read, for a read) or `Fail` (it definitely
    /// did not take effect). The node that answered is the one to ask next time.
    Done { outcome: Outcome, read: Option<Value> },
    /// The node cannot serve it: try `leader` if known, else another node after a back-off.
    Redirect { leader: Option<NodeId> },
}

/// A chapter's client side. The value is the random load's own state (what it has written so
/// far, for instance); it lives in the engine's checkpointed state.
pub trait Workload: Clone + fmt::Debug + Default + 'static {
    /// An operation, as clients invoke it and the history records it.
    type Op: Copy + fmt::Debug + fmt::Display + PartialEq;
    /// A node's answer to an operation.
    type Reply: Copy + fmt::Debug;

    /// What a client makes of `reply` to `op`.
    fn answer(op: &Self::Op, reply: &Self::Reply) -> Answer;
    /// The random load's next operation, on one of `keys` keys (at least one). The draws from
    /// `rng` are the same whether or not the operation is `issued` (a tick when every client
    /// is busy is skipped), so that the stream does not shift; an operation not issued leaves
    /// the load's state as it was.
    fn generate(&mut self, rng: &mut SimRng, keys: u32, issued: bool) -> Option<Self::Op>;
    /// `op` completed with `outcome`.
    fn completed(&mut self, op: &Self::Op, outcome: Outcome);
    /// Checks a history against the workload's sequential specification, within `budget`
    /// steps of search. A malformed history is an error, never a verdict.
    fn check(history: &History, budget: u64) -> Result<Verdict, String>;
}

/// Registers of a key-value store: read, write and compare-and-set, linearizable.
#[derive(Clone, Debug)]
pub struct Registers {
    /// The next value the load writes: every write writes a new one, so reads tell writes apart.
    next_value: Value,
    /// The last value the load saw written to each key, for its compare-and-sets to expect.
    last_written: BTreeMap<Key, Value>,
}

impl Default for Registers {
    fn default() -> Self {
        // Values start at 1: 0 is what a compare-and-set expects of a key never written.
        Registers {
            next_value: 1,
            last_written: BTreeMap::new(),
        }
    }
}

impl Workload for Registers {
    type Op = Op;
    type Reply = ClientReply;

    fn answer(op: &Op, reply: &ClientReply) -> Answer {
        match *reply {
            ClientReply::Ok { value } => Answer::Done {
                outcome: Outcome::Ok,
                read: matches!(op, Op::Read { .. }).then_some(value).flatten(),
            },
            ClientReply::CasFailed { .. } => Answer::Done {
                outcome: Outcome::Fail,
                read: None,
            },
            ClientReply::NotLeader { leader } => Answer::Redirect { leader },
            // A refused read did nothing; a refused write may have reached some replicas.
            ClientReply::Unavailable => Answer::Done {
                outcome: if matches!(op, Op::Read { .. }) {
                    Outcome::Fail
                } else {
                    Outcome::Info
                },
                read: None,
            },
        }
    }

    fn generate(&mut self, rng: &mut SimRng, keys: u32, issued: bool) -> Option<Op> {
        let kind = rng.range_inclusive(0, 99);
        let key = rng.range_inclusive(0, u64::from(keys - 1)) as Key;
        if !issued {
            return None;
        }
        let value = self.next_value;
        let op = match kind {
            0..40 => Op::Read { key },
            40..80 => Op::Write { key, value },
            _ => Op::Cas {
                key,
                from: self.last_written.get(&key).copied().unwrap_or(0),
                to: value,
            },
        };
        if !matches!(op, Op::Read { .. }) {
            self.next_value += 1;
        }
        Some(op)
    }

    fn completed(&mut self, op: &Op, outcome: Outcome) {
        if let (Outcome::Ok, Op::Write { key, value } | Op::Cas { key, to: value, .. }) = (outcome, *op) {
            self.last_written.insert(key, value);
        }
    }

    fn check(history: &History, budget: u64) -> Result<Verdict, String> {
        lin::check(history, budget)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_replies_finish_or_redirect() {
        let read = Op::Read { key: 1 };
        let write = Op::Write { key: 1, value: 2 };
        let ok = |value| ClientReply::Ok { value };
        let done = |outcome, read| Answer::Done { outcome, read };
        assert_eq!(Registers::answer(&read, &ok(Some(7))), done(Outcome::Ok, Some(7)));
        assert_eq!(Registers::answer(&write, &ok(Some(7))), done(Outcome::Ok, None));
        let failed = ClientReply::CasFailed { current: Some(3) };
        assert_eq!(Registers::answer(&write, &failed), done(Outcome::Fail, None));
        let redirect = ClientReply::NotLeader { leader: Some(2) };
        assert_eq!(
            Registers::answer(&read, &redirect),
            Answer::Redirect { leader: Some(2) }
        );
        let refused = ClientReply::Unavailable;
        assert_eq!(Registers::answer(&read, &refused), done(Outcome::Fail, None));
        assert_eq!(Registers::answer(&write, &refused), done(Outcome::Info, None));
    }

    #[test]
    fn the_load_writes_fresh_values_and_expects_what_it_saw_written() {
        let mut load = Registers::default();
        let mut rng = SimRng::for_clients(1);
        let mut expected_value = 1;
        let mut last = 0;
        for _ in 0..200 {
            let op = load.generate(&mut rng, 1, true).expect("an issued operation");
            match op {
                Op::Read { .. } => {}
                Op::Write { value, .. } | Op::Cas { to: value, .. } => {
                    assert_eq!(value, expected_value, "{op}");
                    expected_value += 1;
                }
            }
            if let Op::Cas { from, .. } = op {
                assert_eq!(from, last, "{op}");
            }
            load.completed(&op, Outcome::Ok);
            if let Op::Write { value, .. } | Op::Cas { to: value, .. } = op {
                last = value;
            }
        }
        assert!(expected_value > 20, "the load writes");
        // A skipped tick draws the same and changes nothing.
        let before = load.next_value;
        assert_eq!(load.generate(&mut rng, 1, false), None);
        assert_eq!(load.next_value, before);
        let (mut issued, mut skipped) = (SimRng::for_clients(2), SimRng::for_clients(2));
        assert!(load.clone().generate(&mut issued, 5, true).is_some());
        assert_eq!(load.generate(&mut skipped, 5, false), None);
        let next = |rng: &mut SimRng| rng.range_inclusive(0, 1 << 40);
        assert_eq!(next(&mut issued), next(&mut skipped), "the stream is where it would be");
    }
}
