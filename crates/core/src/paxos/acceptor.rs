//! The acceptor: the part of Paxos that remembers, and the only part whose memory safety
//! depends on.
//!
//! An acceptor keeps two things ("Paxos Made Simple", section 2.5): the highest-numbered
//! prepare request it has answered (its *promise*), and, per slot, the highest-numbered
//! proposal it has accepted. Both live on stable storage, because an acceptor that forgot
//! either after a restart could break a promise another proposer relied on.
//!
//! Its two rules are the whole of the safety argument:
//!
//! - **Phase 1b.** It answers a prepare request numbered `n` greater than any it has answered
//!   with a promise never to accept a proposal numbered below `n`, and with what it has
//!   accepted, so that the proposer can keep any value that might already be chosen (P2c).
//!   A repeat of the prepare request it promised last gets the same answer again: it changes
//!   nothing, and a duplicated message must not look like a rival.
//! - **Phase 2b.** It accepts a proposal numbered `n` unless it has answered a prepare request
//!   numbered above `n` (P1a). Accepting also raises the promise to `n`, as if it had answered
//!   the prepare request of that proposal.
//!
//! A refusal returns the promise that caused it, so the proposer learns which ballot beat it.

use super::{Ballot, Slot};
use crate::chunked::SlotMap;
use crate::kv::Command;

/// One acceptor's state: all of it persistent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acceptor {
    /// The highest ballot it has promised (answered a Prepare of, or accepted in).
    pub promised: Ballot,
    /// Per slot, the highest-numbered proposal it has accepted (copies share its chunks).
    pub accepted: SlotMap<(Ballot, Command)>,
}

impl Acceptor {
    /// Phase 1b: a Prepare of `ballot` for every slot from `from_slot` on. `Ok` carries what
    /// it has accepted in those slots, `Err` the promise that refuses it.
    pub fn prepare(&mut self, ballot: Ballot, from_slot: Slot) -> Result<Vec<(Slot, Ballot, Command)>, Ballot> {
        if ballot < self.promised {
            return Err(self.promised);
        }
        self.promised = ballot;
        Ok(self
            .accepted
            .iter_from(from_slot)
            .map(|(slot, &(b, v))| (slot, b, v))
            .collect())
    }

    /// Phase 2b: an Accept of `value` in `slot` under `ballot`. `Err` carries the promise that
    /// refuses it. With `lower_ok` (the broken `accept-lower-ballot` variant) it accepts a
    /// ballot below its promise all the same, and keeps the promise.
    pub fn accept(&mut self, ballot: Ballot, slot: Slot, value: Command, lower_ok: bool) -> Result<(), Ballot> {
        if ballot < self.promised && !lower_ok {
            return Err(self.promised);
        }
        self.promised = self.promised.max(ballot);
        self.accepted.insert(slot, (ballot, value));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(round: u64, node: u8) -> Ballot {
        Ballot { round, node }
    }

    #[test]
    fn a_promise_refuses_lower_prepares_and_accepts() {
        // Phase 1b and P1a.
        let mut a = Acceptor::default();
        assert_eq!(a.prepare(b(2, 1), 1), Ok(vec![]));
        assert_eq!(a.prepare(b(1, 3), 1), Err(b(2, 1)), "a lower prepare is refused");
        assert_eq!(a.accept(b(1, 3), 1, Command::Noop, false), Err(b(2, 1)));
        assert_eq!(a.accept(b(2, 1), 1, Command::Noop, false), Ok(()));
        assert_eq!(a.accepted.get(1), Some(&(b(2, 1), Command::Noop)));
        // The same ballot's prepare again (a duplicate) gets the same promise and what is
        // now accepted.
        assert_eq!(a.prepare(b(2, 1), 1), Ok(vec![(1, b(2, 1), Command::Noop)]));
    }

    #[test]
    fn accepting_a_higher_ballot_raises_the_promise() {
        let mut a = Acceptor::default();
        a.prepare(b(1, 1), 1).unwrap();
        a.accept(b(3, 2), 1, Command::Noop, false).unwrap();
        assert_eq!(a.promised, b(3, 2));
        assert_eq!(a.prepare(b(2, 3), 1), Err(b(3, 2)));
    }

    #[test]
    fn a_promise_reports_only_the_slots_asked_about() {
        // Multi-Paxos phase 1 covers every slot from the candidate's first unlearned one on.
        let mut a = Acceptor::default();
        for slot in 1..=4 {
            a.accept(b(1, 1), slot, Command::Noop, false).unwrap();
        }
        let got = a.prepare(b(2, 2), 3).unwrap();
        assert_eq!(got.iter().map(|e| e.0).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn the_broken_accept_lower_ballot_accepts_below_its_promise() {
        let mut a = Acceptor::default();
        a.prepare(b(5, 2), 1).unwrap();
        assert_eq!(a.accept(b(1, 1), 1, Command::Noop, true), Ok(()));
        assert_eq!(a.promised, b(5, 2), "the promise stays");
        assert_eq!(a.accepted.get(1), Some(&(b(1, 1), Command::Noop)));
    }
}
