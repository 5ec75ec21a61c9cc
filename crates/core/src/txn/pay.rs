//! Payments with idempotency keys: the client, the payment service, its database and the
//! card processor.

use super::facts::*;
use super::{DbOp, DbResult, Design, MAX_ATTEMPTS, Msg, PayAnswer, TxId, TxnParams, Variant, fact};
use crate::NodeId;
use crate::protocol::Ctx;

pub const DATABASE: NodeId = 3;
pub const PROCESSOR: NodeId = 4;

/// Where a payment intent stands for the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayOutcome {
    Pending,
    Paid,
    /// No success after [`MAX_ATTEMPTS`] attempts.
    GaveUp,
}

/// A payment the client wants made once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intent {
    pub intent: TxId,
    pub attempts: u8,
    pub next_try_us: u64,
    pub outcome: PayOutcome,
}

/// The paying client: it retries an unanswered payment every `retry-after`, alternating
/// between the service's two instances, with the same key.
#[derive(Clone, Debug, Default)]
pub struct PayClient {
    pub intents: Vec<Intent>,
}

impl PayClient {
    pub(super) fn begin(&mut self, params: &TxnParams, now: u64, ctx: &mut Ctx<Msg>) {
        let intent = self.intents.len() as TxId + 1;
        self.intents.push(Intent {
            intent,
            attempts: 0,
            next_try_us: now,
            outcome: PayOutcome::Pending,
        });
        self.on_due(params, now, ctx);
    }

    pub(super) fn next_due(&self) -> Option<u64> {
        self.intents
            .iter()
            .filter(|i| i.outcome == PayOutcome::Pending)
            .map(|i| i.next_try_us)
            .min()
    }

    pub(super) fn on_due(&mut self, params: &TxnParams, now: u64, ctx: &mut Ctx<Msg>) {
        for i in self.intents.iter_mut() {
            if i.outcome != PayOutcome::Pending || i.next_try_us > now {
                continue;
            }
            if i.attempts == MAX_ATTEMPTS {
                i.outcome = PayOutcome::GaveUp;
                continue;
            }
            i.attempts += 1;
            i.next_try_us = now + params.retry_us;
            let to = if i.attempts % 2 == 1 { 1 } else { 2 };
            ctx.send(
                to,
                Msg::Pay {
                    intent: i.intent,
                    key: params.design != Design::None,
                    attempt: i.attempts,
                },
            );
        }
    }

    pub(super) fn on_message(&mut self, msg: Msg, ctx: &mut Ctx<Msg>) {
        if let Msg::PayReply {
            intent,
            answer: PayAnswer::Paid,
        } = msg
            && let Some(i) = self.intents.iter_mut().find(|i| i.intent == intent)
            && i.outcome != PayOutcome::Paid
        {
            i.outcome = PayOutcome::Paid;
            fact(ctx, SEES_SUCCESS, intent);
        }
    }

    pub(super) fn describe(&self) -> String {
        let intents: Vec<String> = self
            .intents
            .iter()
            .map(|i| format!("p{}:{:?}@{}", i.intent, i.outcome, i.attempts))
            .collect();
        format!("payments=[{}]", intents.join(" "))
    }
}

/// Where a request stands in the payment service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// SELECT the key.
    Selecting,
    /// INSERT the key as pending (or take over a stale pending row).
    Claiming,
    /// Waiting for the card processor.
    Charging,
    /// INSERT the key after the charge (select-then-insert).
    Recording,
    /// UPDATE the row to done (pending-first).
    Finishing,
}

/// A request the service is handling (volatile: a crash loses it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handler {
    pub h: u64,
    pub intent: TxId,
    pub client: NodeId,
    pub stage: Stage,
}

/// A payment service instance: stateless but for the requests in hand.
#[derive(Clone, Debug, Default)]
pub struct PayService {
    pub handlers: Vec<Handler>,
    next_h: u64,
}

impl PayService {
    fn charge(h: &mut Handler, with_key: bool, ctx: &mut Ctx<Msg>) {
        h.stage = Stage::Charging;
        let key = with_key.then_some(h.intent);
        ctx.send(
            PROCESSOR,
            Msg::Charge {
                h: h.h,
                intent: h.intent,
                key,
            },
        );
    }

    pub(super) fn on_message(&mut self, from: NodeId, msg: Msg, params: &TxnParams, ctx: &mut Ctx<Msg>) {
        let with_key = params.design == Design::PendingFirst && params.variant != Variant::NoProcessorKey;
        let db = |h: &Handler, op, ctx: &mut Ctx<Msg>| {
            ctx.send(
                DATABASE,
                Msg::Db {
                    h: h.h,
                    key: h.intent,
                    op,
                },
            )
        };
        let (h, answer) = match msg {
            Msg::Pay { intent, .. } => {
                self.next_h += 1;
                let mut h = Handler {
                    h: self.next_h,
                    intent,
                    client: from,
                    stage: Stage::Selecting,
                };
                match params.design {
                    Design::None => Self::charge(&mut h, false, ctx),
                    Design::SelectThenInsert => db(&h, DbOp::Select, ctx),
                    Design::PendingFirst => {
                        h.stage = Stage::Claiming;
                        db(&h, DbOp::InsertPending, ctx);
                    }
                }
                self.handlers.push(h);
                return;
            }
            Msg::DbReply { h, result } => {
                let Some(i) = self.handlers.iter().position(|x| x.h == h) else {
                    return;
                };
                let handler = &mut self.handlers[i];
                let answer = match (handler.stage, result) {
                    (Stage::Selecting, DbResult::NotFound) => {
                        Self::charge(handler, false, ctx);
                        None
                    }
                    (Stage::Claiming, DbResult::Inserted | DbResult::TakenOver) => {
                        Self::charge(handler, with_key, ctx);
                        None
                    }
                    (Stage::Claiming, DbResult::Duplicate { done: false }) => Some(PayAnswer::InProgress),
                    (Stage::Recording, DbResult::Duplicate { .. }) => Some(PayAnswer::Error),
                    (Stage::Selecting, DbResult::Found { .. })
                    | (Stage::Claiming, DbResult::Duplicate { done: true })
                    | (Stage::Recording, DbResult::Inserted)
                    | (Stage::Finishing, DbResult::Updated) => Some(PayAnswer::Paid),
                    // A duplicated reply to a query this request is past.
                    _ => return,
                };
                (i, answer)
            }
            Msg::Charged { h, .. } => {
                let Some(i) = self.handlers.iter().position(|x| x.h == h) else {
                    return;
                };
                let handler = &mut self.handlers[i];
                if handler.stage != Stage::Charging {
                    return;
                }
                let answer = match params.design {
                    Design::None => Some(PayAnswer::Paid),
                    Design::SelectThenInsert => {
                        handler.stage = Stage::Recording;
                        db(handler, DbOp::Insert, ctx);
                        None
                    }
                    Design::PendingFirst => {
                        handler.stage = Stage::Finishing;
                        db(handler, DbOp::MarkDone, ctx);
                        None
                    }
                };
                (i, answer)
            }
            _ => return,
        };
        if let Some(answer) = answer {
            let done = self.handlers.remove(h);
            ctx.send(
                done.client,
                Msg::PayReply {
                    intent: done.intent,
                    answer,
                },
            );
        }
    }
}

/// A row of the payments table, keyed (uniquely) by the idempotency key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbRow {
    pub key: TxId,
    pub done: bool,
    /// When it was inserted or last taken over (the database's clock).
    pub since_us: u64,
}

/// The payment service's database: a table with a unique constraint on the key.
#[derive(Clone, Debug, Default)]
pub struct Database {
    pub rows: Vec<DbRow>,
}

impl Database {
    pub(super) fn on_message(&mut self, from: NodeId, msg: Msg, params: &TxnParams, now: u64, ctx: &mut Ctx<Msg>) {
        let Msg::Db { h, key, op } = msg else {
            return;
        };
        let row = self.rows.iter_mut().find(|r| r.key == key);
        let result = match (op, row) {
            (DbOp::Select, Some(r)) => DbResult::Found { done: r.done },
            (DbOp::Select, None) => DbResult::NotFound,
            (DbOp::InsertPending, Some(r)) if !r.done && now.saturating_sub(r.since_us) >= params.lease_us => {
                r.since_us = now;
                DbResult::TakenOver
            }
            (DbOp::Insert | DbOp::InsertPending, Some(r)) => {
                fact(ctx, DUPLICATE_KEY, key);
                DbResult::Duplicate { done: r.done }
            }
            (DbOp::Insert | DbOp::InsertPending, None) => {
                self.rows.push(DbRow {
                    key,
                    done: op == DbOp::Insert,
                    since_us: now,
                });
                DbResult::Inserted
            }
            (DbOp::MarkDone, Some(r)) => {
                r.done = true;
                DbResult::Updated
            }
            (DbOp::MarkDone, None) => {
                self.rows.push(DbRow {
                    key,
                    done: true,
                    since_us: now,
                });
                DbResult::Updated
            }
        };
        ctx.send(from, Msg::DbReply { h, result });
    }

    pub(super) fn describe(&self) -> String {
        let rows: Vec<String> = self
            .rows
            .iter()
            .map(|r| format!("k{}:{}", r.key, if r.done { "done" } else { "pending" }))
            .collect();
        format!("rows=[{}]", rows.join(" "))
    }
}

/// A charge request the processor is working on (volatile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub from: NodeId,
    pub h: u64,
    pub intent: TxId,
    pub key: Option<TxId>,
    pub due_us: u64,
}

/// The external card processor: it charges after `processor-delay`, and a charge with a key
/// it has seen returns the earlier charge instead of charging again.
#[derive(Clone, Debug, Default)]
pub struct Processor {
    /// `(intent, key)` of every charge made; a charge's id is its position plus one.
    pub charges: Vec<(TxId, Option<TxId>)>,
    pub queue: Vec<Pending>,
    /// The reader asked the next charge to be slow.
    pub slow_next: bool,
}

impl Processor {
    pub(super) fn persisted(&self) -> Processor {
        Processor {
            charges: self.charges.clone(),
            queue: Vec::new(),
            slow_next: false,
        }
    }

    pub(super) fn on_message(&mut self, from: NodeId, msg: Msg, params: &TxnParams, now: u64) {
        if let Msg::Charge { h, intent, key } = msg {
            self.queue.push(Pending {
                from,
                h,
                intent,
                key,
                due_us: now
                    + if std::mem::take(&mut self.slow_next) {
                        super::SLOW_CHARGE_US
                    } else {
                        params.processor_delay_us
                    },
            });
        }
    }

    pub(super) fn on_due(&mut self, now: u64, ctx: &mut Ctx<Msg>) {
        let (due, rest): (Vec<Pending>, Vec<Pending>) = self.queue.drain(..).partition(|p| p.due_us <= now);
        self.queue = rest;
        for p in due {
            let earlier = p.key.and_then(|k| self.charges.iter().rposition(|c| c.1 == Some(k)));
            let (charge, new) = match earlier {
                Some(i) => (i as u64 + 1, false),
                None => {
                    self.charges.push((p.intent, p.key));
                    fact(ctx, CARD_CHARGED, p.intent);
                    (self.charges.len() as u64, true)
                }
            };
            ctx.send(p.from, Msg::Charged { h: p.h, charge, new });
        }
    }

    pub(super) fn describe(&self) -> String {
        let charges: Vec<String> = self.charges.iter().map(|c| format!("p{}", c.0)).collect();
        format!("charges=[{}]", charges.join(" "))
    }
}
