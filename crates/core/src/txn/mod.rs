//! Doing it once across services: two-phase commit, sagas and idempotency keys.
//!
//! One protocol with three systems, chosen by `set scenario`:
//!
//! - `2pc`: Gray's two-phase commit ("Notes on Data Base Operating Systems", 1978). Node 1 is
//!   the coordinator, the last node the client, the nodes between are participants (orders,
//!   payments, inventory), each holding row locks. The coordinator sends Prepare, collects
//!   votes, logs its decision (presumed abort) and only then sends it. A participant that votes
//!   yes persists its prepared state and holds its lock until it learns the decision, asking the
//!   coordinator (and, with `set termination on`, the other participants: the cooperative
//!   termination protocol) every `ask`. Requests for a locked row wait in the row's queue.
//! - `saga`: Garcia-Molina and Salem's sagas (1987) as the order saga of microservices:
//!   OrderPlaced, reserve stock, charge payment, ship; a failing step publishes a failure and
//!   the earlier steps compensate (refund, release stock). Node 1 is the orders service (the
//!   orchestrator with `set style orchestration`), 2 inventory, 3 payment, 4 shipping, the
//!   last node the client. The bus delivers at least once: every node keeps an outbox,
//!   persisted with its state, and redelivers until acknowledged, so steps are idempotent.
//! - `idempotency`: a client pays through a payment service (two instances, nodes 1 and 2,
//!   which the client's retries alternate between) that uses a database (3) and a card
//!   processor (4). `set design` picks none, the racy select-then-insert, or pending-first
//!   (insert the key as pending under the unique constraint, charge with the key, mark done; a
//!   stale pending row is taken over after `lease` and charged again with the same key, which
//!   the processor deduplicates).
//!
//! The reader's own actions are chapter commands: `begin` on the client (a transaction, an
//! order or a payment, by scenario) and `fail` on a participant or service (its next step
//! fails: a no vote, out of stock, a declined card, a failed shipment).

mod monitor;
mod params;
mod pay;
mod saga;
mod twopc;

pub use monitor::TxnMonitor;
pub use params::{Design, KEYS, Kind, Style, TxnParams, Variant};
pub use pay::{DbRow, Handler, Intent, PayOutcome, Pending, Stage};
pub use saga::{Outgoing, SagaRow};
pub use twopc::{Prepared, RowState, Running, Waiter};

use crate::NodeId;
use crate::protocol::{
    ClientReply, ClientRequest, Command, CommandArg, Ctx, Fact, MsgFamily, MsgShape, MsgStyle, Note, Protocol, Role,
    Scenario, TimerInfo, TimerKind,
};
use std::fmt;

/// A transaction, order or payment intent number (the client numbers them from 1).
pub type TxId = u64;

/// The timer of whatever is due next on a node (a vote deadline, a decision to ask for, a
/// redelivery, a retry, a charge finishing).
pub const DUE_TIMER: TimerKind = 0;
/// The client's timer that begins a new transaction every `auto`.
pub const AUTO_TIMER: TimerKind = 1;
/// Rows per 2PC participant.
pub const ROWS: u8 = 3;
/// How long the card processor takes over a charge after the reader's `slow`.
pub const SLOW_CHARGE_US: u64 = 1_500_000;
/// Attempts a paying client makes before it gives up.
pub const MAX_ATTEMPTS: u8 = 5;

/// The facts the chapter notes (`n2 prepares 3`), which its monitor reads.
pub mod facts {
    pub const PREPARES: &str = "prepares";
    pub const COMMITS: &str = "commits";
    pub const ABORTS: &str = "aborts";
    pub const DECIDES_COMMIT: &str = "decides commit";
    pub const DECIDES_ABORT: &str = "decides abort";
    pub const RELEASES_LOCK: &str = "releases lock of";
    /// A participant restarted with this many prepared transactions.
    pub const RECOVERS: &str = "recovers prepared transactions:";
    pub const RESERVES: &str = "reserves stock for";
    pub const RELEASES: &str = "releases stock for";
    pub const CHARGES: &str = "charges order";
    pub const REFUNDS: &str = "refunds order";
    pub const SHIPS: &str = "ships order";
    pub const COMPLETES: &str = "completes order";
    pub const CANCELS: &str = "cancels order";
    pub const CARD_CHARGED: &str = "charges card for";
    pub const SEES_SUCCESS: &str = "sees success of";
    pub const DUPLICATE_KEY: &str = "rejects duplicate key";
}

/// A saga's messages: events (choreography), commands and their replies (orchestration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    PlaceOrder,
    OrderPlaced,
    Reserve,
    StockReserved,
    OutOfStock,
    Charge,
    PaymentCharged,
    PaymentFailed,
    Ship,
    Shipped,
    ShippingFailed,
    Refund,
    Refunded,
    Release,
    StockReleased,
    OrderCompleted,
    OrderCancelled,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::PlaceOrder => "PlaceOrder",
            Step::OrderPlaced => "OrderPlaced",
            Step::Reserve => "Reserve",
            Step::StockReserved => "StockReserved",
            Step::OutOfStock => "OutOfStock",
            Step::Charge => "Charge",
            Step::PaymentCharged => "PaymentCharged",
            Step::PaymentFailed => "PaymentFailed",
            Step::Ship => "Ship",
            Step::Shipped => "Shipped",
            Step::ShippingFailed => "ShippingFailed",
            Step::Refund => "Refund",
            Step::Refunded => "Refunded",
            Step::Release => "Release",
            Step::StockReleased => "StockReleased",
            Step::OrderCompleted => "OrderCompleted",
            Step::OrderCancelled => "OrderCancelled",
        }
    }
    /// A failure or a compensation: the saga going backwards.
    pub fn backwards(self) -> bool {
        matches!(
            self,
            Step::OutOfStock
                | Step::PaymentFailed
                | Step::ShippingFailed
                | Step::Refund
                | Step::Refunded
                | Step::Release
                | Step::StockReleased
                | Step::OrderCancelled
        )
    }
}

/// A payment database operation, by key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbOp {
    /// `SELECT ... WHERE key = ?`
    Select,
    /// `INSERT` the key as done, under the unique constraint.
    Insert,
    /// `INSERT` the key as pending, under the unique constraint; a pending row older than the
    /// lease is taken over instead.
    InsertPending,
    /// `UPDATE` the key's row to done.
    MarkDone,
}

/// The database's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbResult {
    NotFound,
    /// The row exists: done, or still pending.
    Found {
        done: bool,
    },
    Inserted,
    /// A stale pending row, now this request's.
    TakenOver,
    /// The unique constraint refused the insert.
    Duplicate {
        done: bool,
    },
    Updated,
}

/// The payment service's answer to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayAnswer {
    Paid,
    /// Another request with this key is being handled: retry later (HTTP 409).
    InProgress,
    /// The unique constraint failed the request (HTTP 500).
    Error,
}

/// The chapter's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    // ----- 2PC
    /// Client to coordinator: run transaction `tx`, which writes `row` at every participant.
    Begin {
        tx: TxId,
        row: u8,
    },
    Prepare {
        tx: TxId,
        row: u8,
    },
    Vote {
        tx: TxId,
        yes: bool,
    },
    Decision {
        tx: TxId,
        commit: bool,
    },
    /// A prepared participant asks for the decision.
    DecisionReq {
        tx: TxId,
    },
    /// A peer answers that it voted yes too and does not know the decision.
    Uncertain {
        tx: TxId,
    },
    /// Coordinator to client.
    Outcome {
        tx: TxId,
        commit: bool,
    },
    // ----- Sagas
    /// A message on the at-least-once bus, numbered `id` by its sender.
    Saga {
        id: u64,
        order: TxId,
        step: Step,
    },
    SagaAck {
        id: u64,
    },
    // ----- Idempotency
    Pay {
        intent: TxId,
        key: bool,
        attempt: u8,
    },
    PayReply {
        intent: TxId,
        answer: PayAnswer,
    },
    Db {
        h: u64,
        key: TxId,
        op: DbOp,
    },
    DbReply {
        h: u64,
        result: DbResult,
    },
    /// Service to processor; `key` is the idempotency key, if the service passes it.
    Charge {
        h: u64,
        intent: TxId,
        key: Option<TxId>,
    },
    /// The processor's answer: its charge id, and whether this request made a new charge.
    Charged {
        h: u64,
        charge: u64,
        new: bool,
    },
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yn = |b: bool, y: &'static str, n: &'static str| if b { y } else { n };
        match *self {
            Msg::Begin { tx, row } => write!(f, "Begin t{tx} row={row}"),
            Msg::Prepare { tx, row } => write!(f, "Prepare t{tx} row={row}"),
            Msg::Vote { tx, yes } => write!(f, "Vote t{tx} {}", yn(yes, "yes", "no")),
            Msg::Decision { tx, commit } => write!(f, "Decision t{tx} {}", yn(commit, "commit", "abort")),
            Msg::DecisionReq { tx } => write!(f, "DecisionReq t{tx}"),
            Msg::Uncertain { tx } => write!(f, "Uncertain t{tx}"),
            Msg::Outcome { tx, commit } => write!(f, "Outcome t{tx} {}", yn(commit, "committed", "aborted")),
            Msg::Saga { id, order, step } => write!(f, "{} o{order} #{id}", step.as_str()),
            Msg::SagaAck { id } => write!(f, "Ack #{id}"),
            Msg::Pay { intent, key, attempt } => {
                write!(f, "Pay p{intent} attempt={attempt}{}", yn(key, " key", ""))
            }
            Msg::PayReply { intent, answer } => write!(f, "PayReply p{intent} {answer:?}"),
            Msg::Db { h, key, op } => write!(f, "Db {op:?} key={key} h={h}"),
            Msg::DbReply { h, result } => write!(f, "DbReply {result:?} h={h}"),
            Msg::Charge { h, intent, key } => match key {
                Some(k) => write!(f, "Charge p{intent} key={k} h={h}"),
                None => write!(f, "Charge p{intent} h={h}"),
            },
            Msg::Charged { h, charge, new } => write!(f, "Charged ch{charge} h={h}{}", yn(new, "", " (again)")),
        }
    }
}

/// What a node is in its scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Coordinator,
    Participant,
    Client,
    Orders,
    Inventory,
    Payment,
    Shipping,
    PayService,
    Database,
    Processor,
    /// A node the scenario has no use for.
    Spare,
}

/// Node `id`'s part in a cluster of `n` running `kind`.
pub fn part(kind: Kind, id: NodeId, n: u8) -> Part {
    if id == n {
        return Part::Client;
    }
    match (kind, id) {
        (Kind::TwoPc, 1) => Part::Coordinator,
        (Kind::TwoPc, _) => Part::Participant,
        (Kind::Saga, 1) => Part::Orders,
        (Kind::Saga, 2) => Part::Inventory,
        (Kind::Saga, 3) => Part::Payment,
        (Kind::Saga, 4) => Part::Shipping,
        (Kind::Idempotency, 1 | 2) => Part::PayService,
        (Kind::Idempotency, 3) => Part::Database,
        (Kind::Idempotency, 4) => Part::Processor,
        _ => Part::Spare,
    }
}

/// The role a node of `part` plays: the DOM contract's coordinator, participant, service or
/// client (an orchestrating orders service coordinates).
pub fn role(part: Part, style: Style) -> Role {
    match part {
        Part::Coordinator => Role::new("coordinator", true),
        Part::Orders if style == Style::Orchestration => Role::new("coordinator", true),
        Part::Participant => Role::new("participant", false),
        Part::Client => Role::new("client", false),
        _ => Role::new("service", false),
    }
}

/// What the stage labels node `id` with.
pub fn node_name(kind: Kind, id: NodeId, n: u8) -> &'static str {
    match part(kind, id, n) {
        Part::Coordinator => "coordinator",
        Part::Participant => [
            "orders",
            "payments",
            "inventory",
            "ledger",
            "shipping",
            "billing",
            "audit",
        ]
        .get(usize::from(id) - 2)
        .copied()
        .unwrap_or("participant"),
        Part::Client => "client",
        Part::Orders => "orders",
        Part::Inventory => "inventory",
        Part::Payment => "payment",
        Part::Shipping => "shipping",
        Part::PayService => ["payments-a", "payments-b"][usize::from(id) - 1],
        Part::Database => "database",
        Part::Processor => "card processor",
        Part::Spare => "spare",
    }
}

/// A node's state, by its part.
#[derive(Clone, Debug)]
pub enum State {
    Coordinator(twopc::Coordinator),
    Participant(twopc::Participant),
    TxClient(twopc::TxClient),
    Saga(saga::SagaNode),
    PayService(pay::PayService),
    Database(pay::Database),
    Processor(pay::Processor),
    PayClient(pay::PayClient),
    Spare,
}

/// One node of the chapter.
#[derive(Clone, Debug)]
pub struct Txn {
    id: NodeId,
    n: u8,
    params: TxnParams,
    /// The reader asked this node's next step to fail.
    fail_next: bool,
    pub state: State,
}

impl Txn {
    pub fn params(&self) -> &TxnParams {
        &self.params
    }
    pub fn part(&self) -> Part {
        part(self.params.kind, self.id, self.n)
    }
    /// Does this node hold a lock for `tx` (2PC participants)?
    pub fn holds_lock(&self, tx: TxId) -> bool {
        match &self.state {
            State::Participant(p) => p.rows.iter().any(|r| r.holder == Some(tx)),
            _ => false,
        }
    }

    fn begin(&mut self, arg: Option<u64>, ctx: &mut Ctx<Msg>) {
        let now = ctx.local_now_us();
        let params = self.params.clone();
        match &mut self.state {
            State::TxClient(c) => {
                let row = match arg {
                    Some(r) => r.clamp(1, u64::from(ROWS)) as u8,
                    None => ctx.rng().range_inclusive(1, u64::from(ROWS)) as u8,
                };
                c.begin(row, ctx);
            }
            State::Saga(s) if s.service == Part::Client => s.begin(&params, now, ctx),
            State::PayClient(c) => c.begin(&params, now, ctx),
            _ => {}
        }
        self.arm(ctx);
    }

    /// Sets the due timer for the earliest thing this node waits for, or cancels it.
    fn arm(&self, ctx: &mut Ctx<Msg>) {
        let due = match &self.state {
            State::Coordinator(c) => c.running.iter().map(|r| r.deadline_us).min(),
            State::Participant(p) => p.prepared.iter().map(|p| p.next_ask_us).min(),
            State::Saga(s) => s.outbox.iter().map(|o| o.due_us).min(),
            State::PayClient(c) => c.next_due(),
            State::Processor(p) => p.queue.iter().map(|q| q.due_us).min(),
            State::TxClient(_) | State::PayService(_) | State::Database(_) | State::Spare => None,
        };
        match due {
            Some(due) => ctx.set_timer(DUE_TIMER, due.saturating_sub(ctx.local_now_us()).max(1)),
            None => ctx.cancel_timer(DUE_TIMER),
        }
    }
}

impl Txn {
    /// Starts a node with `state`: new, or what it persisted.
    fn boot(id: NodeId, params: &TxnParams, state: State, restarted: bool, ctx: &mut Ctx<Msg>) -> Txn {
        let mut node = Txn {
            id,
            n: ctx.cluster_size(),
            params: params.clone(),
            fail_next: false,
            state,
        };
        if let (State::Participant(p), true) = (&mut node.state, restarted) {
            p.recover(ctx.local_now_us());
            // Noted even when nothing was prepared, so that the checker looks at its locks.
            fact(ctx, facts::RECOVERS, p.prepared.len() as TxId);
        }
        if let (Part::Client, Some(every)) = (node.part(), params.auto_us) {
            ctx.set_timer(AUTO_TIMER, every);
        }
        node.arm(ctx);
        node
    }
}

/// Whether a step fails: the reader's `fail` (used up by it), or the `fail-rate`.
fn fails(fail_next: &mut bool, params: &TxnParams, ctx: &mut Ctx<Msg>) -> bool {
    let chance = ctx.rng().range_inclusive(0, 99) < params.fail_pct;
    std::mem::take(fail_next) || chance
}

/// Notes a chapter fact about `value`.
fn fact(ctx: &mut Ctx<Msg>, what: &'static str, value: TxId) {
    ctx.note(Note::Fact(Fact {
        what,
        value: value as i64,
    }));
}

impl Protocol for Txn {
    type Msg = Msg;
    type Stable = State;
    type Params = TxnParams;
    type Monitor = TxnMonitor;
    type Workload = crate::workload::Registers;
    const NAME: &'static str = "txn";
    const SCENARIOS: &'static [Scenario] = &[
        Scenario {
            value: "2pc",
            label: "Two-phase commit",
            settings: &[("scenario", "2pc")],
        },
        Scenario {
            value: "saga",
            label: "Order saga",
            settings: &[("scenario", "saga")],
        },
        Scenario {
            value: "pay-none",
            label: "Payments without a key",
            settings: &[("scenario", "idempotency"), ("design", "none")],
        },
        Scenario {
            value: "pay-select",
            label: "Payments: SELECT, charge, INSERT",
            settings: &[("scenario", "idempotency"), ("design", "select-then-insert")],
        },
        Scenario {
            value: "pay-pending",
            label: "Payments: pending row first",
            settings: &[("scenario", "idempotency"), ("design", "pending-first")],
        },
    ];
    const MESSAGE_KINDS: &'static [(&'static str, &'static str)] = &[
        (
            "Begin",
            "The client asks the coordinator to run a transaction on one row of every participant.",
        ),
        (
            "Prepare",
            "Phase 1: the coordinator asks a participant to lock the row and promise it can commit.",
        ),
        (
            "Vote",
            "A participant's answer: yes (prepared, lock held until the decision) or no (aborted).",
        ),
        (
            "Decision",
            "Phase 2: commit or abort, sent after the coordinator logged it (or by a peer that knows it).",
        ),
        (
            "DecisionReq",
            "A prepared participant asks for the decision: of the coordinator, and of its peers with termination on.",
        ),
        (
            "Uncertain",
            "A peer that voted yes too cannot help: it does not know the decision either.",
        ),
        (
            "Outcome",
            "The coordinator tells the client whether its transaction committed.",
        ),
        (
            "Saga",
            "A saga event or command on the at-least-once bus, redelivered until acknowledged.",
        ),
        (
            "SagaAck",
            "The receiver has processed a bus message: the sender stops redelivering it.",
        ),
        (
            "Pay",
            "The client asks the payment service to charge a payment intent, with its idempotency key or without.",
        ),
        (
            "PayReply",
            "The payment service's answer: paid, in progress (retry later) or an error.",
        ),
        (
            "Db",
            "The payment service's query to its database: SELECT, INSERT, INSERT pending, UPDATE to done.",
        ),
        (
            "DbReply",
            "The database's answer; a duplicate key is the unique constraint refusing an INSERT.",
        ),
        (
            "Charge",
            "The payment service asks the card processor to charge the card, passing the key if it has one.",
        ),
        (
            "Charged",
            "The processor charged the card (or found the key's earlier charge and did not charge again).",
        ),
    ];
    const TIMERS: &'static [TimerInfo] = &[TimerInfo::new("due", false), TimerInfo::new("auto", false)];
    const COMMANDS: &'static [Command] = &[
        Command {
            verb: "begin",
            arg: CommandArg::None,
            label: "Client: begin (a transaction on row 1, an order, a payment)",
        },
        Command {
            verb: "begin-row",
            arg: CommandArg::Number { max: ROWS as u64 },
            label: "Client: begin a transaction on row",
        },
        Command {
            verb: "fail",
            arg: CommandArg::None,
            label: "Fail this node's next step",
        },
        Command {
            verb: "slow",
            arg: CommandArg::None,
            label: "Card processor: take 1.5 s over the next charge",
        },
    ];

    fn start(id: NodeId, params: &TxnParams, ctx: &mut Ctx<Msg>) -> Self {
        let n = ctx.cluster_size();
        let state = match part(params.kind, id, n) {
            Part::Coordinator => State::Coordinator(twopc::Coordinator::default()),
            Part::Participant => State::Participant(twopc::Participant::new()),
            Part::Client => match params.kind {
                Kind::TwoPc => State::TxClient(twopc::TxClient::default()),
                Kind::Saga => State::Saga(saga::SagaNode::new(Part::Client)),
                Kind::Idempotency => State::PayClient(pay::PayClient::default()),
            },
            p @ (Part::Orders | Part::Inventory | Part::Payment | Part::Shipping) => {
                State::Saga(saga::SagaNode::new(p))
            }
            Part::PayService => State::PayService(pay::PayService::default()),
            Part::Database => State::Database(pay::Database::default()),
            Part::Processor => State::Processor(pay::Processor::default()),
            Part::Spare => State::Spare,
        };
        Txn::boot(id, params, state, false, ctx)
    }

    fn restart(id: NodeId, params: &TxnParams, stable: State, ctx: &mut Ctx<Msg>) -> Self {
        Txn::boot(id, params, stable, true, ctx)
    }

    fn stable(&self) -> State {
        let v = self.params.variant;
        match &self.state {
            State::Coordinator(c) => State::Coordinator(c.persisted(v)),
            State::Participant(p) => State::Participant(p.persisted(v)),
            State::PayService(_) => State::PayService(pay::PayService::default()),
            State::Processor(p) => State::Processor(p.persisted()),
            other => other.clone(),
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<Msg>) {
        let params = self.params.clone();
        let now = ctx.local_now_us();
        match &mut self.state {
            State::Coordinator(c) => c.on_message(from, msg, &params, now, ctx),
            State::Participant(p) => p.on_message(from, msg, &mut self.fail_next, &params, now, ctx),
            State::TxClient(c) => c.on_message(msg),
            State::Saga(s) => s.on_message(from, msg, &mut self.fail_next, &params, now, ctx),
            State::PayService(s) => s.on_message(from, msg, &params, ctx),
            State::Database(d) => d.on_message(from, msg, &params, now, ctx),
            State::Processor(p) => p.on_message(from, msg, &params, now),
            State::PayClient(c) => c.on_message(msg, ctx),
            State::Spare => {}
        }
        self.arm(ctx);
    }

    fn on_timer(&mut self, kind: TimerKind, ctx: &mut Ctx<Msg>) {
        if kind == AUTO_TIMER {
            if let Some(every) = self.params.auto_us {
                ctx.set_timer(AUTO_TIMER, every);
            }
            self.begin(None, ctx);
            return;
        }
        let params = self.params.clone();
        let now = ctx.local_now_us();
        match &mut self.state {
            State::Coordinator(c) => c.on_due(&params, now, ctx),
            State::Participant(p) => p.on_due(&params, now, ctx),
            State::Saga(s) => s.on_due(&params, now, ctx),
            State::PayClient(c) => c.on_due(&params, now, ctx),
            State::Processor(p) => p.on_due(now, ctx),
            _ => {}
        }
        self.arm(ctx);
    }

    fn on_client(&mut self, req: ClientRequest, ctx: &mut Ctx<Msg>) {
        ctx.reply(req, ClientReply::NotLeader { leader: None });
    }

    /// `begin` and `begin-row` start a transaction, an order or a payment at the client;
    /// `fail` makes this participant's or service's next step fail; `slow` makes the card
    /// processor's next charge take [`SLOW_CHARGE_US`], long enough for retries to race it.
    fn on_command(&mut self, verb: &'static str, arg: Option<u64>, ctx: &mut Ctx<Msg>) {
        match (verb, &mut self.state) {
            ("fail", _) => self.fail_next = true,
            ("slow", State::Processor(p)) => p.slow_next = true,
            ("slow", _) => {}
            _ => self.begin(Some(arg.unwrap_or(1)), ctx),
        }
    }

    fn force_timeout(&mut self, ctx: &mut Ctx<Msg>) {
        self.on_timer(DUE_TIMER, ctx);
    }

    fn role(&self) -> Role {
        role(self.part(), self.params.style)
    }

    /// How many transactions, orders or payments this node has finished.
    fn term(&self) -> u64 {
        (match &self.state {
            State::Coordinator(c) => c.log.len(),
            State::Participant(p) => p.outcomes.len(),
            State::TxClient(c) => c.txs.iter().filter(|t| t.2.is_some()).count(),
            State::Saga(s) => s.rows.len(),
            State::PayService(s) => s.handlers.len(),
            State::Database(d) => d.rows.len(),
            State::Processor(p) => p.charges.len(),
            State::PayClient(c) => c.intents.len(),
            State::Spare => 0,
        }) as u64
    }

    fn msg_kind(msg: &Msg) -> &'static str {
        match msg {
            Msg::Begin { .. } => "Begin",
            Msg::Prepare { .. } => "Prepare",
            Msg::Vote { .. } => "Vote",
            Msg::Decision { .. } => "Decision",
            Msg::DecisionReq { .. } => "DecisionReq",
            Msg::Uncertain { .. } => "Uncertain",
            Msg::Outcome { .. } => "Outcome",
            Msg::Saga { .. } => "Saga",
            Msg::SagaAck { .. } => "SagaAck",
            Msg::Pay { .. } => "Pay",
            Msg::PayReply { .. } => "PayReply",
            Msg::Db { .. } => "Db",
            Msg::DbReply { .. } => "DbReply",
            Msg::Charge { .. } => "Charge",
            Msg::Charged { .. } => "Charged",
        }
    }

    fn msg_style(msg: &Msg) -> MsgStyle {
        use MsgFamily::*;
        use MsgShape::*;
        match *msg {
            Msg::Begin { .. } | Msg::Pay { .. } => MsgStyle::new(Other, Diamond),
            Msg::Outcome { commit, .. } => MsgStyle::new(Other, Circle).negative(!commit),
            Msg::PayReply { answer, .. } => MsgStyle::new(Other, Circle).negative(answer != PayAnswer::Paid),
            Msg::Prepare { .. } => MsgStyle::new(Election, Diamond),
            Msg::Vote { yes, .. } => MsgStyle::new(Election, Circle).negative(!yes),
            Msg::Decision { commit, .. } => MsgStyle::new(Replication, Square).negative(!commit),
            Msg::DecisionReq { .. } => MsgStyle::new(Learning, Diamond),
            Msg::Uncertain { .. } => MsgStyle::new(Learning, Circle).negative(true),
            Msg::Saga { step, .. } => MsgStyle::new(Replication, Square).negative(step.backwards()),
            Msg::SagaAck { .. } => MsgStyle::new(Replication, Triangle).routine(true),
            Msg::Db { .. } => MsgStyle::new(Learning, Square),
            Msg::DbReply { result, .. } => {
                MsgStyle::new(Learning, Triangle).negative(matches!(result, DbResult::Duplicate { .. }))
            }
            Msg::Charge { .. } => MsgStyle::new(Election, Square),
            Msg::Charged { .. } => MsgStyle::new(Election, Triangle),
        }
    }

    fn msg_fields(msg: &Msg) -> Vec<(&'static str, String)> {
        let s = |v: &dyn fmt::Display| v.to_string();
        match *msg {
            Msg::Begin { tx, row } | Msg::Prepare { tx, row } => vec![("tx", s(&tx)), ("row", s(&row))],
            Msg::Vote { tx, yes } => vec![("tx", s(&tx)), ("vote", s(&if yes { "yes" } else { "no" }))],
            Msg::Decision { tx, commit } | Msg::Outcome { tx, commit } => {
                vec![
                    ("tx", s(&tx)),
                    ("decision", s(&if commit { "commit" } else { "abort" })),
                ]
            }
            Msg::DecisionReq { tx } | Msg::Uncertain { tx } => vec![("tx", s(&tx))],
            Msg::Saga { id, order, step } => {
                vec![("order", s(&order)), ("step", s(&step.as_str())), ("delivery", s(&id))]
            }
            Msg::SagaAck { id } => vec![("delivery", s(&id))],
            Msg::Pay { intent, key, attempt } => vec![
                ("intent", s(&intent)),
                ("idempotency key", if key { s(&intent) } else { s(&"none") }),
                ("attempt", s(&attempt)),
            ],
            Msg::PayReply { intent, answer } => vec![("intent", s(&intent)), ("answer", format!("{answer:?}"))],
            Msg::Db { h, key, op } => vec![("query", format!("{op:?}")), ("key", s(&key)), ("request", s(&h))],
            Msg::DbReply { h, result } => vec![("result", format!("{result:?}")), ("request", s(&h))],
            Msg::Charge { h, intent, key } => vec![
                ("intent", s(&intent)),
                ("key", key.map_or_else(|| s(&"none"), |k| s(&k))),
                ("request", s(&h)),
            ],
            Msg::Charged { h, charge, new } => {
                vec![("charge", s(&charge)), ("new charge", s(&new)), ("request", s(&h))]
            }
        }
    }

    fn describe(&self) -> String {
        match &self.state {
            State::Coordinator(c) => c.describe(),
            State::Participant(p) => p.describe(),
            State::TxClient(c) => c.describe(),
            State::Saga(s) => s.describe(),
            State::PayService(s) => format!("handling={}", s.handlers.len()),
            State::Database(d) => d.describe(),
            State::Processor(p) => p.describe(),
            State::PayClient(c) => c.describe(),
            State::Spare => "spare".into(),
        }
    }
}

#[cfg(test)]
mod tests;
