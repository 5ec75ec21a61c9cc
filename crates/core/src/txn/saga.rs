//! The order saga: orders, inventory, payment and shipping services over an at-least-once
//! bus, choreographed by events or orchestrated by the orders service.

use super::facts::*;
use super::{Msg, Part, Step, Style, TxId, TxnParams, Variant, fact, fails};
use crate::NodeId;
use crate::protocol::Ctx;

pub const ORDERS: NodeId = 1;
pub const INVENTORY: NodeId = 2;
pub const PAYMENT: NodeId = 3;
pub const SHIPPING: NodeId = 4;

/// What one service knows of one order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SagaRow {
    pub order: TxId,
    /// When this service first heard of the order (its local clock).
    pub since_us: u64,
    /// The orchestrator's command awaiting its reply.
    pub awaiting: Option<Step>,
    /// The orders service and the client: completed (`true`) or cancelled.
    pub done: Option<bool>,
    /// This service's forward step failed.
    pub failed: bool,
    pub reserved: bool,
    pub released: bool,
    pub charged: bool,
    pub refunds: u32,
    pub shipped: bool,
}

/// A message in the outbox, redelivered at `due_us` until acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub id: u64,
    pub to: NodeId,
    pub order: TxId,
    pub step: Step,
    pub due_us: u64,
}

/// A saga service (or the client). Everything is persisted, the outbox with the rows (the
/// transactional outbox), so a crash only delays the saga.
#[derive(Clone, Debug)]
pub struct SagaNode {
    pub service: Part,
    pub rows: Vec<SagaRow>,
    pub outbox: Vec<Outgoing>,
    next_id: u64,
}

/// The commands an orchestrator's reply answers.
fn answers(command: Step, reply: Step) -> bool {
    matches!(
        (command, reply),
        (Step::Reserve, Step::StockReserved | Step::OutOfStock)
            | (Step::Charge, Step::PaymentCharged | Step::PaymentFailed)
            | (Step::Ship, Step::Shipped | Step::ShippingFailed)
            | (Step::Refund, Step::Refunded)
            | (Step::Release, Step::StockReleased)
    )
}

impl SagaNode {
    pub(super) fn new(service: Part) -> SagaNode {
        SagaNode {
            service,
            rows: Vec::new(),
            outbox: Vec::new(),
            next_id: 0,
        }
    }

    pub fn row(&self, order: TxId) -> Option<&SagaRow> {
        self.rows.iter().rfind(|r| r.order == order)
    }

    /// The row of `order`, and whether it was new.
    fn row_mut(&mut self, order: TxId, now: u64) -> (&mut SagaRow, bool) {
        match self.rows.iter().rposition(|r| r.order == order) {
            Some(i) => (&mut self.rows[i], false),
            None => {
                self.rows.push(SagaRow {
                    order,
                    since_us: now,
                    ..SagaRow::default()
                });
                (self.rows.last_mut().expect("just pushed"), true)
            }
        }
    }

    fn publish(&mut self, to: NodeId, order: TxId, step: Step, params: &TxnParams, now: u64, ctx: &mut Ctx<Msg>) {
        self.next_id += 1;
        let id = self.next_id;
        self.outbox.push(Outgoing {
            id,
            to,
            order,
            step,
            due_us: now + params.redeliver_us,
        });
        ctx.send(to, Msg::Saga { id, order, step });
    }

    /// A service's result: to the orchestrator, or to whoever reacts to the event.
    fn reply(&mut self, order: TxId, step: Step, params: &TxnParams, now: u64, ctx: &mut Ctx<Msg>) {
        let to = match (params.style, step) {
            (Style::Orchestration, _) => ORDERS,
            (_, Step::StockReserved) => PAYMENT,
            (_, Step::PaymentCharged) => SHIPPING,
            (_, Step::PaymentFailed) => INVENTORY,
            (_, Step::ShippingFailed) => PAYMENT,
            (_, Step::Refunded) if params.variant != Variant::ForgetCompensation => INVENTORY,
            _ => ORDERS,
        };
        self.publish(to, order, step, params, now, ctx);
    }

    pub(super) fn begin(&mut self, params: &TxnParams, now: u64, ctx: &mut Ctx<Msg>) {
        let order = self.rows.len() as TxId + 1;
        self.row_mut(order, now);
        self.publish(ORDERS, order, Step::PlaceOrder, params, now, ctx);
    }

    pub(super) fn on_message(
        &mut self,
        from: NodeId,
        msg: Msg,
        fail_next: &mut bool,
        params: &TxnParams,
        now: u64,
        ctx: &mut Ctx<Msg>,
    ) {
        match msg {
            Msg::SagaAck { id } => self.outbox.retain(|o| o.id != id),
            Msg::Saga { id, order, step } => {
                ctx.send(from, Msg::SagaAck { id });
                self.handle(order, step, fail_next, params, now, ctx);
            }
            _ => {}
        }
    }

    fn handle(
        &mut self,
        order: TxId,
        step: Step,
        fail_next: &mut bool,
        params: &TxnParams,
        now: u64,
        ctx: &mut Ctx<Msg>,
    ) {
        use Step::*;
        let orchestrated = params.style == Style::Orchestration;
        let service = self.service;
        let (row, new) = self.row_mut(order, now);
        let forward = |row: &mut SagaRow, ctx: &mut Ctx<Msg>, fail_next: &mut bool, fact_name, ok: Step, no: Step| {
            if fails(fail_next, params, ctx) {
                row.failed = true;
                no
            } else {
                fact(ctx, fact_name, order);
                ok
            }
        };
        match (service, step) {
            (Part::Client, OrderCompleted | OrderCancelled) => row.done = Some(step == OrderCompleted),
            (Part::Orders, PlaceOrder) if new => {
                let first = if orchestrated { Reserve } else { OrderPlaced };
                row.awaiting = Some(Reserve);
                self.publish(INVENTORY, order, first, params, now, ctx);
            }
            (Part::Orders, reply) if orchestrated => {
                if row.awaiting.is_none_or(|c| !answers(c, reply)) {
                    return; // a duplicate, or a reply to an earlier command
                }
                let (to, next) = match reply {
                    StockReserved => (PAYMENT, Charge),
                    PaymentCharged => (SHIPPING, Ship),
                    PaymentFailed => (INVENTORY, Release),
                    ShippingFailed => (PAYMENT, Refund),
                    Refunded if params.variant != Variant::ForgetCompensation => (INVENTORY, Release),
                    _ => return self.finish(order, reply == Shipped, params, now, ctx),
                };
                if let Some(row) = self.rows.iter_mut().rfind(|r| r.order == order) {
                    row.awaiting = Some(next);
                }
                self.publish(to, order, next, params, now, ctx);
            }
            (Part::Orders, Shipped | OutOfStock | StockReleased | Refunded) => {
                self.finish(order, step == Shipped, params, now, ctx)
            }
            (Part::Inventory, OrderPlaced | Reserve) if new => {
                let result = forward(row, ctx, fail_next, RESERVES, StockReserved, OutOfStock);
                row.reserved = result == StockReserved;
                self.reply(order, result, params, now, ctx);
            }
            (Part::Inventory, PaymentFailed | Refunded | Release) if !row.released => {
                row.released = true;
                if row.reserved {
                    fact(ctx, RELEASES, order);
                }
                self.reply(order, StockReleased, params, now, ctx);
            }
            (Part::Payment, StockReserved | Charge) if new => {
                let result = forward(row, ctx, fail_next, CHARGES, PaymentCharged, PaymentFailed);
                row.charged = result == PaymentCharged;
                self.reply(order, result, params, now, ctx);
            }
            (Part::Payment, ShippingFailed | Refund)
                if row.refunds == 0 || params.variant == Variant::RefundNotIdempotent =>
            {
                if row.charged {
                    row.refunds += 1;
                    fact(ctx, REFUNDS, order);
                }
                self.reply(order, Refunded, params, now, ctx);
            }
            (Part::Shipping, PaymentCharged | Ship) if new => {
                let result = forward(row, ctx, fail_next, SHIPS, Shipped, ShippingFailed);
                row.shipped = result == Shipped;
                self.reply(order, result, params, now, ctx);
            }
            _ => {}
        }
    }

    fn finish(&mut self, order: TxId, completed: bool, params: &TxnParams, now: u64, ctx: &mut Ctx<Msg>) {
        let (row, _) = self.row_mut(order, now);
        if row.done.is_some() {
            return;
        }
        row.done = Some(completed);
        row.awaiting = None;
        fact(ctx, if completed { COMPLETES } else { CANCELS }, order);
        let step = if completed {
            Step::OrderCompleted
        } else {
            Step::OrderCancelled
        };
        self.publish(ctx.cluster_size(), order, step, params, now, ctx);
    }

    pub(super) fn on_due(&mut self, params: &TxnParams, now: u64, ctx: &mut Ctx<Msg>) {
        for o in self.outbox.iter_mut().filter(|o| o.due_us <= now) {
            o.due_us = now + params.redeliver_us;
            ctx.send(
                o.to,
                Msg::Saga {
                    id: o.id,
                    order: o.order,
                    step: o.step,
                },
            );
        }
    }

    pub(super) fn describe(&self) -> String {
        let rows: Vec<String> = self
            .rows
            .iter()
            .map(|r| {
                let mut s = format!("o{}", r.order);
                for (on, what) in [
                    (r.done == Some(true), ":completed"),
                    (r.done == Some(false), ":cancelled"),
                    (r.failed, ":failed"),
                    (r.reserved, ":reserved"),
                    (r.released, ":released"),
                    (r.charged, ":charged"),
                    (r.refunds > 0, ":refunded"),
                    (r.refunds > 1, ":again"),
                    (r.shipped, ":shipped"),
                ] {
                    if on {
                        s.push_str(what);
                    }
                }
                s
            })
            .collect();
        format!("orders=[{}] outbox={}", rows.join(" "), self.outbox.len())
    }
}
