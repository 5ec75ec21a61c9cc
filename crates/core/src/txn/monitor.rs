//! The chapter's checkers, from the facts the nodes note.
//!
//! - **Atomicity** (2PC): no transaction is committed by one participant and aborted by
//!   another.
//! - **Prepared Locks Held** (2PC): a participant that voted yes holds the transaction's lock
//!   until it learns the decision, across crashes.
//! - **Saga Outcome**: an order the orders service completes was reserved, charged once and
//!   shipped, with nothing compensated; one it cancels holds no stock and no money and was not
//!   shipped. (That every order ends one way or the other once faults stop is checked by the
//!   sweeps at the end of a run.)
//! - **Compensation Once**: no order is refunded or its stock released twice, or refunded
//!   more than it was charged.
//! - **Exactly-Once Charge**: no payment intent is charged twice, and one whose client saw
//!   success was charged exactly once.

use super::facts::*;
use super::{TxId, Txn};
use crate::NodeId;
use crate::protocol::{Fact, Monitor, Note, Violation};

pub const ATOMICITY: &str = "Atomicity";
pub const LOCKS_HELD: &str = "Prepared Locks Held";
pub const SAGA_OUTCOME: &str = "Saga Outcome";
pub const COMPENSATION_ONCE: &str = "Compensation Once";
pub const EXACTLY_ONCE: &str = "Exactly-Once Charge";

/// What the monitor has counted of one saga order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderCount {
    pub order: TxId,
    pub reserves: u32,
    pub releases: u32,
    pub charges: u32,
    pub refunds: u32,
    pub ships: u32,
}

#[derive(Clone, Debug, Default)]
pub struct TxnMonitor {
    /// Per transaction, the participants that committed and that aborted it (bit sets), and
    /// whether it was reported.
    outcomes: Vec<(TxId, u16, u16, bool)>,
    /// `(participant, tx)` prepared and not yet decided there.
    prepared: Vec<(NodeId, TxId)>,
    orders: Vec<OrderCount>,
    /// Per payment intent, the charges made.
    charges: Vec<(TxId, u32)>,
}

impl TxnMonitor {
    /// The cards charged for `intent`.
    pub fn charges(&self, intent: TxId) -> u32 {
        self.charges.iter().rfind(|c| c.0 == intent).map_or(0, |c| c.1)
    }

    fn order(&mut self, order: TxId) -> &mut OrderCount {
        match self.orders.iter().rposition(|o| o.order == order) {
            Some(i) => &mut self.orders[i],
            None => {
                self.orders.push(OrderCount {
                    order,
                    ..OrderCount::default()
                });
                self.orders.last_mut().expect("just pushed")
            }
        }
    }
}

impl Monitor<Txn> for TxnMonitor {
    fn observe(&mut self, node: NodeId, notes: &[Note], nodes: &[Option<Txn>], out: &mut Vec<Violation>) {
        let mut violation = |property, nodes: Vec<NodeId>, detail: String| {
            out.push(Violation {
                property,
                nodes,
                detail,
            })
        };
        for note in notes {
            let Note::Fact(Fact { what, value }) = *note else {
                continue;
            };
            let id = value as TxId;
            match what {
                PREPARES => self.prepared.push((node, id)),
                COMMITS | ABORTS => {
                    self.prepared.retain(|&p| p != (node, id));
                    let i = match self.outcomes.iter().rposition(|o| o.0 == id) {
                        Some(i) => i,
                        None => {
                            self.outcomes.push((id, 0, 0, false));
                            self.outcomes.len() - 1
                        }
                    };
                    let o = &mut self.outcomes[i];
                    if what == COMMITS {
                        o.1 |= 1 << node;
                    } else {
                        o.2 |= 1 << node;
                    }
                    if o.1 != 0 && o.2 != 0 && !o.3 {
                        o.3 = true;
                        let bits = o.1 | o.2;
                        let (c, a) = (o.1, o.2);
                        let list = |b: u16| (1..=9).filter(|&n| b & (1 << n) != 0).collect::<Vec<NodeId>>();
                        violation(
                            ATOMICITY,
                            list(bits),
                            format!(
                                "transaction {id} committed at {:?} but aborted at {:?}",
                                list(c),
                                list(a)
                            ),
                        );
                    }
                }
                RESERVES | RELEASES | CHARGES | REFUNDS | SHIPS => {
                    let o = self.order(id);
                    let count = match what {
                        RESERVES => &mut o.reserves,
                        RELEASES => &mut o.releases,
                        CHARGES => &mut o.charges,
                        REFUNDS => &mut o.refunds,
                        _ => &mut o.ships,
                    };
                    *count += 1;
                    let o = *o;
                    if o.releases > 1 || o.refunds > 1 || o.refunds > o.charges {
                        violation(
                            COMPENSATION_ONCE,
                            vec![node],
                            format!(
                                "order {id}: released {} times, refunded {} times for {} charges",
                                o.releases, o.refunds, o.charges
                            ),
                        );
                    }
                }
                COMPLETES | CANCELS => {
                    let o = *self.order(id);
                    let held = o.reserves > o.releases;
                    let money = o.charges.saturating_sub(o.refunds);
                    let whole = if what == COMPLETES {
                        held && money == 1 && o.ships == 1 && o.refunds == 0
                    } else {
                        !held && money == 0 && o.ships == 0
                    };
                    if !whole {
                        violation(
                            SAGA_OUTCOME,
                            vec![node],
                            format!(
                                "order {id} {} with stock {}, {money} charge(s) kept and {} shipment(s)",
                                if what == COMPLETES { "completed" } else { "cancelled" },
                                if held { "reserved" } else { "not reserved" },
                                o.ships
                            ),
                        );
                    }
                }
                CARD_CHARGED => {
                    let n = match self.charges.iter_mut().rfind(|c| c.0 == id) {
                        Some(c) => {
                            c.1 += 1;
                            c.1
                        }
                        None => {
                            self.charges.push((id, 1));
                            1
                        }
                    };
                    if n > 1 {
                        violation(EXACTLY_ONCE, vec![node], format!("payment {id} charged {n} times"));
                    }
                }
                SEES_SUCCESS => {
                    let n = self.charges(id);
                    if n != 1 {
                        violation(
                            EXACTLY_ONCE,
                            vec![node],
                            format!("the client saw payment {id} succeed, but it was charged {n} times"),
                        );
                    }
                }
                _ => {}
            }
        }
        // A prepared participant that is up holds its lock until it learns the decision.
        if let Some(Some(me)) = nodes.get(usize::from(node) - 1) {
            let mut lost = Vec::new();
            for &(p, tx) in self.prepared.iter().filter(|&&(p, _)| p == node) {
                if !me.holds_lock(tx) {
                    lost.push((p, tx));
                }
            }
            for (p, tx) in lost {
                self.prepared.retain(|&x| x != (p, tx));
                violation(
                    LOCKS_HELD,
                    vec![p],
                    format!("n{p} voted yes for transaction {tx} but no longer holds its lock, without a decision"),
                );
            }
        }
    }

    fn properties() -> &'static [&'static str] {
        &[ATOMICITY, LOCKS_HELD, SAGA_OUTCOME, COMPENSATION_ONCE, EXACTLY_ONCE]
    }
}
