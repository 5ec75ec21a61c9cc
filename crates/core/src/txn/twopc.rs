//! Two-phase commit: the coordinator, the participants with their row locks, the client.

use super::facts::*;
use super::{Msg, ROWS, TxId, TxnParams, Variant, fact, fails};
use crate::NodeId;
use crate::protocol::Ctx;

/// The coordinator node's id.
pub const COORDINATOR: NodeId = 1;

/// The participants of a cluster of `n`: every node but the coordinator and the client.
fn participants(n: u8) -> impl Iterator<Item = NodeId> {
    2..n
}

/// A transaction the coordinator is collecting votes for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Running {
    pub tx: TxId,
    pub row: u8,
    /// Participants that voted yes, as a bit set (bit `id`).
    pub yes: u16,
    /// When it aborts for want of votes (local clock).
    pub deadline_us: u64,
}

/// The coordinator: its decision log (persisted before phase 2) and the transactions in
/// phase 1 (volatile: after a crash, presumed aborted).
#[derive(Clone, Debug, Default)]
pub struct Coordinator {
    /// Decisions: `(tx, commit)`.
    pub log: Vec<(TxId, bool)>,
    pub running: Vec<Running>,
}

impl Coordinator {
    pub fn decision(&self, tx: TxId) -> Option<bool> {
        self.log.iter().rfind(|d| d.0 == tx).map(|d| d.1)
    }

    pub(super) fn persisted(&self, variant: Variant) -> Coordinator {
        Coordinator {
            log: if variant == Variant::NoDecisionLog {
                Vec::new()
            } else {
                self.log.clone()
            },
            running: Vec::new(),
        }
    }

    fn decide(&mut self, tx: TxId, commit: bool, ctx: &mut Ctx<Msg>) {
        self.running.retain(|r| r.tx != tx);
        // Logged (and, in `stable`, persisted) before a single Decision leaves.
        self.log.push((tx, commit));
        fact(ctx, if commit { DECIDES_COMMIT } else { DECIDES_ABORT }, tx);
        for p in participants(ctx.cluster_size()) {
            ctx.send(p, Msg::Decision { tx, commit });
        }
        ctx.send(ctx.cluster_size(), Msg::Outcome { tx, commit });
    }

    pub(super) fn on_message(&mut self, from: NodeId, msg: Msg, params: &TxnParams, now: u64, ctx: &mut Ctx<Msg>) {
        match msg {
            Msg::Begin { tx, row } => {
                if let Some(commit) = self.decision(tx) {
                    ctx.send(from, Msg::Outcome { tx, commit });
                } else if !self.running.iter().any(|r| r.tx == tx) {
                    self.running.push(Running {
                        tx,
                        row,
                        yes: 0,
                        deadline_us: now + params.vote_timeout_us,
                    });
                    for p in participants(ctx.cluster_size()) {
                        ctx.send(p, Msg::Prepare { tx, row });
                    }
                }
            }
            Msg::Vote { tx, yes } => {
                let all: u16 = participants(ctx.cluster_size()).map(|p| 1 << p).sum();
                let Some(r) = self.running.iter_mut().find(|r| r.tx == tx) else {
                    return;
                };
                if !yes {
                    self.decide(tx, false, ctx);
                } else {
                    r.yes |= 1 << from;
                    if r.yes == all {
                        self.decide(tx, true, ctx);
                    }
                }
            }
            Msg::DecisionReq { tx } => {
                if let Some(commit) = self.decision(tx) {
                    ctx.send(from, Msg::Decision { tx, commit });
                } else if !self.running.iter().any(|r| r.tx == tx) {
                    // Presumed abort: a transaction with no decision in the log never
                    // committed. The abort is logged so that it stays the answer.
                    self.decide(tx, false, ctx);
                }
            }
            _ => {}
        }
    }

    pub(super) fn on_due(&mut self, _: &TxnParams, now: u64, ctx: &mut Ctx<Msg>) {
        let late: Vec<TxId> = self
            .running
            .iter()
            .filter(|r| r.deadline_us <= now)
            .map(|r| r.tx)
            .collect();
        for tx in late {
            self.decide(tx, false, ctx);
        }
    }

    pub(super) fn describe(&self) -> String {
        let log: Vec<String> = self
            .log
            .iter()
            .map(|&(tx, c)| format!("t{tx}:{}", if c { "C" } else { "A" }))
            .collect();
        let running: Vec<String> = self.running.iter().map(|r| format!("t{}", r.tx)).collect();
        format!("log=[{}] voting=[{}]", log.join(" "), running.join(" "))
    }
}

/// A row of a participant's table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowState {
    /// The last transaction that committed a write to it (0: none).
    pub value: TxId,
    /// The transaction holding its lock.
    pub holder: Option<TxId>,
}

/// A transaction this participant voted yes for and whose outcome it does not know yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    pub tx: TxId,
    pub row: u8,
    /// When it prepared (local clock).
    pub since_us: u64,
    /// When it asks for the decision next.
    pub next_ask_us: u64,
    /// How often it asked without an answer: once it has, it is blocked.
    pub asks: u32,
    /// Peers that answered that they are uncertain too, as a bit set.
    pub uncertain: u16,
}

/// A Prepare waiting for a row's lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiter {
    pub tx: TxId,
    pub row: u8,
    pub since_us: u64,
}

/// A participant: its rows and locks, its prepared transactions and outcomes (persisted) and
/// the Prepares waiting for locks (volatile).
#[derive(Clone, Debug)]
pub struct Participant {
    /// Rows 1 to [`ROWS`], at index `row - 1`.
    pub rows: Vec<RowState>,
    pub prepared: Vec<Prepared>,
    /// Outcomes it knows: `(tx, committed)`.
    pub outcomes: Vec<(TxId, bool)>,
    pub waiting: Vec<Waiter>,
}

impl Participant {
    pub(super) fn new() -> Participant {
        Participant {
            rows: vec![RowState::default(); usize::from(ROWS)],
            prepared: Vec::new(),
            outcomes: Vec::new(),
            waiting: Vec::new(),
        }
    }

    pub fn outcome(&self, tx: TxId) -> Option<bool> {
        self.outcomes.iter().rfind(|o| o.0 == tx).map(|o| o.1)
    }

    pub(super) fn persisted(&self, variant: Variant) -> Participant {
        Participant {
            rows: self.rows.iter().map(|r| RowState { holder: None, ..*r }).collect(),
            prepared: if variant == Variant::ForgetPrepared {
                Vec::new()
            } else {
                self.prepared.clone()
            },
            outcomes: self.outcomes.clone(),
            waiting: Vec::new(),
        }
    }

    /// After a restart: the prepared transactions take their locks again, and ask at once.
    pub(super) fn recover(&mut self, now: u64) {
        for p in &mut self.prepared {
            self.rows[usize::from(p.row) - 1].holder = Some(p.tx);
            p.next_ask_us = now;
        }
    }

    /// Records `tx`'s outcome, once.
    fn record(&mut self, tx: TxId, commit: bool, ctx: &mut Ctx<Msg>) {
        if self.outcome(tx).is_none() {
            self.outcomes.push((tx, commit));
            fact(ctx, if commit { COMMITS } else { ABORTS }, tx);
        }
    }

    /// Takes `row`'s lock for `tx` and votes, or votes no.
    fn prepare(&mut self, tx: TxId, row: u8, fail_next: &mut bool, params: &TxnParams, now: u64, ctx: &mut Ctx<Msg>) {
        if fails(fail_next, params, ctx) {
            self.record(tx, false, ctx);
            ctx.send(COORDINATOR, Msg::Vote { tx, yes: false });
            return;
        }
        self.rows[usize::from(row) - 1].holder = Some(tx);
        self.prepared.push(Prepared {
            tx,
            row,
            since_us: now,
            next_ask_us: now + params.ask_us,
            asks: 0,
            uncertain: 0,
        });
        fact(ctx, PREPARES, tx);
        ctx.send(COORDINATOR, Msg::Vote { tx, yes: true });
    }

    /// Applies a decision for `tx`; frees its lock (or its place in a queue) and lets the
    /// next waiter of the row prepare.
    fn decided(
        &mut self,
        tx: TxId,
        commit: bool,
        fail_next: &mut bool,
        params: &TxnParams,
        now: u64,
        ctx: &mut Ctx<Msg>,
    ) {
        if let Some(i) = self.prepared.iter().position(|p| p.tx == tx) {
            let p = self.prepared.remove(i);
            let row = &mut self.rows[usize::from(p.row) - 1];
            if commit {
                row.value = tx;
            }
            row.holder = None;
            self.record(tx, commit, ctx);
            fact(ctx, RELEASES_LOCK, tx);
            // The row's queue, in order, until one of them holds the lock.
            while self.rows[usize::from(p.row) - 1].holder.is_none()
                && let Some(w) = self.waiting.iter().position(|w| w.row == p.row)
            {
                let w = self.waiting.remove(w);
                self.prepare(w.tx, w.row, fail_next, params, now, ctx);
            }
        } else {
            self.waiting.retain(|w| w.tx != tx);
            self.record(tx, commit, ctx);
        }
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
            Msg::Prepare { tx, row } => {
                let row = row.clamp(1, ROWS);
                if let Some(commit) = self.outcome(tx) {
                    ctx.send(from, Msg::Vote { tx, yes: commit });
                } else if self.prepared.iter().any(|p| p.tx == tx) {
                    ctx.send(from, Msg::Vote { tx, yes: true });
                } else if self.waiting.iter().any(|w| w.tx == tx) {
                } else if self.rows[usize::from(row) - 1].holder.is_some() {
                    self.waiting.push(Waiter { tx, row, since_us: now });
                } else {
                    self.prepare(tx, row, fail_next, params, now, ctx);
                }
            }
            Msg::Decision { tx, commit } => self.decided(tx, commit, fail_next, params, now, ctx),
            Msg::DecisionReq { tx } => {
                if let Some(commit) = self.outcome(tx) {
                    ctx.send(from, Msg::Decision { tx, commit });
                } else if self.prepared.iter().any(|p| p.tx == tx) {
                    ctx.send(from, Msg::Uncertain { tx });
                } else {
                    // Not voted yet: it may still vote no, so it aborts on its own (the
                    // cooperative termination protocol), and the asker may too.
                    self.decided(tx, false, fail_next, params, now, ctx);
                    ctx.send(from, Msg::Decision { tx, commit: false });
                }
            }
            Msg::Uncertain { tx } => {
                if let Some(p) = self.prepared.iter_mut().find(|p| p.tx == tx) {
                    p.uncertain |= 1 << from;
                }
            }
            _ => {}
        }
    }

    pub(super) fn on_due(&mut self, params: &TxnParams, now: u64, ctx: &mut Ctx<Msg>) {
        let me = ctx.id();
        for p in self.prepared.iter_mut().filter(|p| p.next_ask_us <= now) {
            p.asks += 1;
            p.next_ask_us = now + params.ask_us;
            ctx.send(COORDINATOR, Msg::DecisionReq { tx: p.tx });
            if params.termination {
                for peer in participants(ctx.cluster_size()).filter(|&q| q != me) {
                    ctx.send(peer, Msg::DecisionReq { tx: p.tx });
                }
            }
        }
    }

    pub(super) fn describe(&self) -> String {
        let rows: Vec<String> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| match r.holder {
                Some(h) => format!("r{}=t{}(locked t{h})", i + 1, r.value),
                None => format!("r{}=t{}", i + 1, r.value),
            })
            .collect();
        let prepared: Vec<String> = self.prepared.iter().map(|p| format!("t{}", p.tx)).collect();
        let waiting: Vec<String> = self.waiting.iter().map(|w| format!("t{}", w.tx)).collect();
        format!(
            "rows=[{}] prepared=[{}] waiting=[{}]",
            rows.join(" "),
            prepared.join(" "),
            waiting.join(" ")
        )
    }
}

/// The client: its transactions and what it heard of them.
#[derive(Clone, Debug, Default)]
pub struct TxClient {
    /// `(tx, row, Some(committed) once told)`.
    pub txs: Vec<(TxId, u8, Option<bool>)>,
}

impl TxClient {
    pub(super) fn begin(&mut self, row: u8, ctx: &mut Ctx<Msg>) {
        let tx = self.txs.len() as TxId + 1;
        self.txs.push((tx, row, None));
        ctx.send(COORDINATOR, Msg::Begin { tx, row });
    }

    pub(super) fn on_message(&mut self, msg: Msg) {
        if let Msg::Outcome { tx, commit } = msg
            && let Some(t) = self.txs.iter_mut().find(|t| t.0 == tx)
        {
            t.2 = Some(commit);
        }
    }

    pub(super) fn describe(&self) -> String {
        let txs: Vec<String> = self
            .txs
            .iter()
            .map(|&(tx, _, o)| format!("t{tx}:{}", ["?", "A", "C"][o.map_or(0, |c| 1 + usize::from(c))]))
            .collect();
        format!("txs=[{}]", txs.join(" "))
    }
}
