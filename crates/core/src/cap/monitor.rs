//! The chapter's checker: the storage's writes in token order, and the store's counts.
//!
//! **Token Order**: the storage accepts writes in non-decreasing token order. **No Lost
//! Update**: no write of an older leader (a lower token) overwrites the acknowledged write of
//! a newer one. The storage keeps one register and acknowledges each write it accepts, so a
//! write breaks both at once; the two name what went wrong from the storage's side and from
//! the newer leader's.
//!
//! For the quorum store it counts requests answered and refused (availability) and lost
//! writes: acknowledged writes that a replica discarded for a write that never saw them.

use super::{ACCEPTED, ANSWERED, Cap, DISCARDED, Node, REFUSED, WRITE_ACKED};
use crate::NodeId;
use crate::protocol::{Fact, Monitor, Note, Violation};

pub const TOKEN_ORDER: &str = "Token Order";
pub const NO_LOST_UPDATE: &str = "No Lost Update";

#[derive(Clone, Debug, Default)]
pub struct CapMonitor {
    pub answered: u64,
    pub refused: u64,
    /// Acknowledged writes (packed stamps), sorted.
    acked: Vec<i64>,
    /// Discarded writes (packed stamps), sorted.
    discarded: Vec<i64>,
    /// Acknowledged writes that were discarded.
    pub lost: u64,
    /// The highest token the storage has accepted.
    pub max_accepted: u64,
}

/// Inserts `x` into the sorted `set`; whether it was new.
fn insert(set: &mut Vec<i64>, x: i64) -> bool {
    match set.binary_search(&x) {
        Ok(_) => false,
        Err(i) => {
            set.insert(i, x);
            true
        }
    }
}

impl CapMonitor {
    /// Whether the write with this (packed) stamp was acknowledged to its client.
    pub fn acknowledged(&self, packed: i64) -> bool {
        self.acked.binary_search(&packed).is_ok()
    }

    /// The share of answered requests in per mille, `None` before any was answered or refused.
    pub fn availability_permille(&self) -> Option<u64> {
        let all = self.answered + self.refused;
        (all > 0).then(|| self.answered * 1000 / all)
    }
}

impl Monitor<Cap> for CapMonitor {
    fn observe(&mut self, node: NodeId, notes: &[Note], nodes: &[Option<Cap>], out: &mut Vec<Violation>) {
        for note in notes {
            let Note::Fact(Fact { what, value }) = *note else {
                continue;
            };
            match what {
                ANSWERED => self.answered += 1,
                REFUSED => self.refused += 1,
                WRITE_ACKED | DISCARDED => {
                    // A write is lost once it is both acknowledged and discarded.
                    let (mine, other) = if what == WRITE_ACKED {
                        (&mut self.acked, &self.discarded)
                    } else {
                        (&mut self.discarded, &self.acked)
                    };
                    let new = insert(mine, value);
                    self.lost += u64::from(new && other.binary_search(&value).is_ok());
                }
                ACCEPTED => {
                    let token = value as u64;
                    if token < self.max_accepted {
                        let storage =
                            nodes
                                .get(usize::from(node) - 1)
                                .and_then(|n| match n.as_ref().map(|c| &c.node) {
                                    Some(Node::Storage(s)) => Some(s),
                                    _ => None,
                                });
                        let writer = storage.and_then(|s| s.value).map_or(0, |v| v.writer);
                        let over = storage.and_then(|s| s.overwrote);
                        out.push(Violation {
                            property: TOKEN_ORDER,
                            nodes: vec![node, writer],
                            detail: format!(
                                "the storage accepted n{writer}'s token {token} after token {}",
                                self.max_accepted
                            ),
                        });
                        if let Some(over) = over.filter(|o| o.token > token) {
                            out.push(Violation {
                                property: NO_LOST_UPDATE,
                                nodes: vec![writer, over.writer],
                                detail: format!(
                                    "n{writer}'s write with token {token} overwrote n{}'s acknowledged write {} of token {}",
                                    over.writer, over.value, over.token
                                ),
                            });
                        }
                    }
                    self.max_accepted = self.max_accepted.max(token);
                }
                _ => {}
            }
        }
    }
    fn properties() -> &'static [&'static str] {
        &[TOKEN_ORDER, NO_LOST_UPDATE]
    }
}
