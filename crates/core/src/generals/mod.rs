//! The impossible and the adversarial: Two Generals, and Lamport, Shostak and Pease's
//! Byzantine generals ("The Byzantine Generals Problem", 1982).
//!
//! Every node runs campaigns, one a period: in each, the commander (node 1) gives an order and
//! the others decide whether to attack. Three modes (`set mode`):
//!
//! - `two-generals`: nodes 1 and 2 are generals on either side of a valley that loses
//!   messengers (the network's `loss`, or the reader capturing one). General 1 sends "attack at
//!   dawn"; each message of the chain is acknowledged, up to `k` acknowledgements. A general
//!   attacks at dawn only if it has received every message of the chain addressed to it. Each
//!   step may send several `messengers`. Whatever `k`, losing exactly the last messenger leaves
//!   one general attacking alone: the checker Agreement says so.
//! - `om`: the Oral Messages algorithm OM(m) (section 3), rounds of relayed orders and majority
//!   votes with a default of retreat, as its recursion prescribes. It survives `m` traitors
//!   among `n >= 3m + 1` generals; with fewer, traitors break it.
//! - `sm`: the Signed Messages algorithm SM(m) (section 4): signed orders relayed with their
//!   chain of signatures, each lieutenant obeying `choice(V)` of the set of orders it saw. It
//!   survives any number of traitors up to `m`.
//!
//! Both algorithms assume a synchronous system (assumption A3: the absence of a message can be
//! detected), which a round of `round` length models: a message of round `r` that has not
//! arrived by the round's end counts as missing, which OM reads as retreat. They also assume
//! that every message sent by a loyal general is delivered (A1), so they are meant to run
//! without loss.
//!
//! Traitors are the nodes of `set traitors`, and any node the reader marks with the chapter's
//! command `traitor` (or unmarks with `loyal`), from the next campaign on. What a traitor says
//! is its `strategy`'s choice. In SM a traitor cannot forge a loyal general's signature: it may
//! sign orders of its own (as commander) and choose to whom it relays, never change a signed
//! order.

pub mod monitor;
pub mod params;
#[cfg(test)]
mod tests;
pub mod trial;

use crate::NodeId;
use crate::protocol::{
    ClientReply, ClientRequest, Command, CommandArg, Ctx, Fact, MsgFamily, MsgShape, MsgStyle, Note, Protocol, Role,
    Scenario, TimerInfo, TimerKind,
};
pub use monitor::GeneralsMonitor;
pub use params::{GeneralsParams, Mode, Order, Strategy, Variant};
use std::fmt;

/// The round timer: it fires at each boundary of a campaign's rounds.
pub const ROUND_TIMER: TimerKind = 0;

/// The facts a general notes; each fact's value is the campaign's number.
pub const ATTACKS: &str = "attacks in campaign";
pub const RETREATS: &str = "retreats in campaign";
/// A loyal commander's order (a traitor's orders are not orders).
pub const ORDERS_ATTACK: &str = "orders attack in campaign";
pub const ORDERS_RETREAT: &str = "orders retreat in campaign";
/// A node's mark takes effect at a campaign's start.
pub const TURNS_TRAITOR: &str = "turns traitor in campaign";
pub const TURNS_LOYAL: &str = "is loyal again in campaign";

/// The most generals a message's path holds: OM's relays of `m + 1` generals, `m <= 3`.
const PATH_MAX: usize = params::MAX_M as usize + 1;

/// The generals an order passed through, the commander first: OM's relay path, SM's chain of
/// signatures. Small and `Copy`, so that messages never allocate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Path {
    len: u8,
    ids: [NodeId; PATH_MAX],
}

impl Path {
    /// The path of the commander's own order.
    pub const COMMANDER: Path = Path {
        len: 1,
        ids: [1, 0, 0, 0],
    };
    pub fn ids(&self) -> &[NodeId] {
        &self.ids[..usize::from(self.len)]
    }
    pub fn len(&self) -> u8 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn contains(&self, id: NodeId) -> bool {
        self.ids().contains(&id)
    }
    /// The general the order came from last.
    pub fn last(&self) -> NodeId {
        self.ids().last().copied().unwrap_or(0)
    }
    /// This path, relayed once more by `id`; unchanged when it is full.
    pub fn with(self, id: NodeId) -> Path {
        let mut next = self;
        if usize::from(self.len) < PATH_MAX {
            next.ids[usize::from(self.len)] = id;
            next.len += 1;
        }
        next
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, id) in self.ids().iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{id}")?;
        }
        Ok(())
    }
}

/// The messages of the chapter. `attack` is the order a message carries (false: retreat).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    /// Two Generals: step `step` of campaign `campaign`'s chain (0 is "attack at dawn", then
    /// the acknowledgements), messenger `copy` of the step's several.
    Messenger { campaign: u32, step: u8, copy: u8 },
    /// OM(m): "the commander's order, as relayed along `path`, is `attack`".
    Oral { campaign: u32, path: Path, attack: bool },
    /// SM(m): the order `attack`, signed by every general of `chain` in turn.
    Signed { campaign: u32, chain: Path, attack: bool },
}

impl Message {
    pub fn campaign(&self) -> u32 {
        match *self {
            Message::Messenger { campaign, .. } | Message::Oral { campaign, .. } | Message::Signed { campaign, .. } => {
                campaign
            }
        }
    }
    /// The round the message belongs to, from 1: the stage draws each round as a layer.
    pub fn round(&self) -> u8 {
        match *self {
            Message::Messenger { step, .. } => step + 1,
            Message::Oral { path, .. } => path.len(),
            Message::Signed { chain, .. } => chain.len(),
        }
    }
}

fn word(attack: bool) -> &'static str {
    if attack { "attack" } else { "retreat" }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Messenger { campaign, step, copy } => {
                write!(f, "Messenger c{campaign} step {step} #{}", copy + 1)
            }
            Message::Oral { campaign, path, attack } => write!(f, "Oral c{campaign} {path} {}", word(*attack)),
            Message::Signed {
                campaign,
                chain,
                attack,
            } => {
                write!(f, "Signed c{campaign} {chain} {}", word(*attack))
            }
        }
    }
}

/// The majority of `votes` (true: attack), retreat on a tie or when there are none: OM's
/// `majority` with its default.
pub fn majority(votes: impl IntoIterator<Item = bool>) -> bool {
    let (mut attack, mut retreat) = (0u32, 0u32);
    for v in votes {
        if v {
            attack += 1;
        } else {
            retreat += 1;
        }
    }
    attack > retreat
}

/// Every relay path of `len` generals among `n` that starts at the commander, repeats no
/// general and avoids `me`, in order: the orders a lieutenant expects in round `len`.
pub fn paths(n: u8, len: u8, me: NodeId) -> Vec<Path> {
    let mut out = vec![Path::COMMANDER];
    for _ in 1..len {
        out = out
            .iter()
            .flat_map(|p| {
                (2..=n)
                    .filter(move |&k| k != me && !p.contains(k))
                    .map(move |k| p.with(k))
            })
            .collect();
    }
    out
}

/// The messages OM(m) sends among `n` generals when every one of them relays:
/// `(n-1) + (n-1)(n-2) + ... + (n-1)(n-2)...(n-m-1)`, whose last term is of the order `n^(m+1)`.
pub fn om_message_count(n: u64, m: u64) -> u64 {
    let (mut total, mut term) = (0u64, 1u64);
    for i in 1..=m + 1 {
        term = term.saturating_mul(n.saturating_sub(i));
        total = total.saturating_add(term);
    }
    total
}

/// One general.
#[derive(Clone, Debug)]
pub struct General {
    id: NodeId,
    n: u8,
    params: GeneralsParams,
    /// A traitor in the current campaign.
    traitor: bool,
    /// Marked a traitor (by the `traitors` setting or the reader): a traitor from the next
    /// campaign on. Persisted.
    marked: bool,
    /// The current campaign, from 1 (0 before the first).
    campaign: u32,
    /// The round boundary the round timer fires at next: 0 starts a campaign, `rounds()` ends it.
    next_boundary: u8,
    /// The commander's order this campaign (a loyal one's; a traitor's is `None`).
    order: Option<bool>,
    /// OM: the orders received this campaign, by path, sorted. SM: the signed orders that added
    /// to `seen`, in arrival order.
    got: Vec<(Path, bool)>,
    /// SM: the set V of orders seen, as (retreat, attack).
    seen: [bool; 2],
    /// SM: the signed orders to relay at the next boundary.
    relay: Vec<(Path, bool)>,
    /// Two Generals: the highest step of the chain received this campaign.
    step: Option<u8>,
    /// This campaign's decision, once made.
    decision: Option<bool>,
    /// The last campaign this general decided, and what.
    last: Option<(u32, bool)>,
    /// Messages this general sent in this campaign, and in the one before.
    sent: u32,
    sent_last: u32,
}

impl General {
    pub fn id(&self) -> NodeId {
        self.id
    }
    /// A traitor in the current campaign.
    pub fn is_traitor(&self) -> bool {
        self.traitor
    }
    /// Marked a traitor from the next campaign on.
    pub fn is_marked(&self) -> bool {
        self.marked
    }
    pub fn params(&self) -> &GeneralsParams {
        &self.params
    }
    pub fn campaign(&self) -> u32 {
        self.campaign
    }
    /// The loyal commander's order this campaign.
    pub fn order(&self) -> Option<bool> {
        self.order
    }
    /// This campaign's decision, once made.
    pub fn decision(&self) -> Option<bool> {
        self.decision
    }
    /// The last campaign decided and its decision.
    pub fn last_decision(&self) -> Option<(u32, bool)> {
        self.last
    }
    /// OM's received orders by path, or SM's signed orders that were new, this campaign.
    pub fn received(&self) -> &[(Path, bool)] {
        &self.got
    }
    /// SM's set V: (retreat seen, attack seen).
    pub fn seen(&self) -> [bool; 2] {
        self.seen
    }
    /// Two Generals: the highest step of the chain received this campaign.
    pub fn step(&self) -> Option<u8> {
        self.step
    }
    /// Messages sent in this campaign and in the one before.
    pub fn sent(&self) -> (u32, u32) {
        (self.sent, self.sent_last)
    }
    /// The next round boundary: 0 before a campaign starts, then 1 to `rounds()`.
    pub fn next_boundary(&self) -> u8 {
        self.next_boundary
    }
    /// Marks (or unmarks) this general a traitor, from the next campaign on.
    pub fn mark(&mut self, traitor: bool) {
        self.marked = traitor;
    }
    fn is_commander(&self) -> bool {
        self.id == 1
    }
    /// Whether this node takes part in the current mode (Two Generals has two).
    fn takes_part(&self) -> bool {
        self.params.mode != Mode::TwoGenerals || self.id <= 2
    }

    fn send(&mut self, to: NodeId, msg: Message, ctx: &mut Ctx<Message>) {
        self.sent += 1;
        ctx.send(to, msg);
    }

    /// The campaign that local time `t` falls in (0 before the first).
    fn campaign_at(&self, t: u64) -> u32 {
        let first = self.params.campaign_start_us(1);
        if t < first {
            return 0;
        }
        u32::try_from((t - first) / self.params.campaign_us() + 1).unwrap_or(u32::MAX)
    }

    /// Sets the round timer for boundary `b` of campaign `c`.
    fn wake_at(&mut self, c: u32, b: u8, ctx: &mut Ctx<Message>) {
        self.next_boundary = b;
        let at = self.params.campaign_start_us(c) + u64::from(b) * self.params.round_us;
        ctx.set_timer(ROUND_TIMER, at.saturating_sub(ctx.local_now_us()));
    }

    /// What a traitor says to `to`, by its strategy, whatever it was told.
    fn lie(&self, to: NodeId, ctx: &mut Ctx<Message>) -> bool {
        match self.params.strategy {
            Strategy::Random => ctx.rng().range_inclusive(0, 1) == 1,
            Strategy::Split => to.is_multiple_of(2),
            Strategy::Retreat => false,
        }
    }

    /// A traitor's choice to pass a signed order on to `to` (it cannot change it).
    fn passes_on(&self, to: NodeId, attack: bool, ctx: &mut Ctx<Message>) -> bool {
        match self.params.strategy {
            Strategy::Random => ctx.rng().range_inclusive(0, 1) == 1,
            Strategy::Split => to.is_multiple_of(2),
            Strategy::Retreat => !attack,
        }
    }

    fn begin_campaign(&mut self, ctx: &mut Ctx<Message>) {
        self.campaign = self.campaign_at(ctx.local_now_us()).max(self.campaign + 1);
        let c = self.campaign;
        if self.traitor != self.marked && self.params.mode != Mode::TwoGenerals {
            self.traitor = self.marked;
            let what = if self.traitor { TURNS_TRAITOR } else { TURNS_LOYAL };
            ctx.note(Note::Fact(Fact {
                what,
                value: i64::from(c),
            }));
        }
        self.got.clear();
        self.relay.clear();
        self.seen = [false; 2];
        self.step = None;
        self.decision = None;
        self.order = None;
        self.sent_last = self.sent;
        self.sent = 0;
        ctx.note(Note::Role {
            role: self.role(),
            term: u64::from(c),
        });
        if !self.is_commander() {
            return;
        }
        match self.params.mode {
            Mode::TwoGenerals => {
                self.order = Some(true);
                self.note_order(true, ctx);
                self.send_step(0, ctx);
            }
            Mode::Om | Mode::Sm => {
                let loyal_order = match self.params.order {
                    Order::Attack => true,
                    Order::Retreat => false,
                    Order::Random => ctx.rng().range_inclusive(0, 1) == 1,
                };
                if !self.traitor {
                    self.order = Some(loyal_order);
                    self.note_order(loyal_order, ctx);
                }
                for to in 2..=self.n {
                    let attack = if self.traitor { self.lie(to, ctx) } else { loyal_order };
                    let path = Path::COMMANDER;
                    let msg = match self.params.mode {
                        Mode::Sm => Message::Signed {
                            campaign: c,
                            chain: path,
                            attack,
                        },
                        _ => Message::Oral {
                            campaign: c,
                            path,
                            attack,
                        },
                    };
                    self.send(to, msg, ctx);
                }
            }
        }
    }

    fn note_order(&self, attack: bool, ctx: &mut Ctx<Message>) {
        ctx.note(Note::Fact(Fact {
            what: if attack { ORDERS_ATTACK } else { ORDERS_RETREAT },
            value: i64::from(self.campaign),
        }));
    }

    /// Two Generals: sends step `step` of the chain to the other general, by every messenger.
    fn send_step(&mut self, step: u8, ctx: &mut Ctx<Message>) {
        let to = if self.id == 1 { 2 } else { 1 };
        for copy in 0..self.params.messengers {
            let msg = Message::Messenger {
                campaign: self.campaign,
                step,
                copy,
            };
            self.send(to, msg, ctx);
        }
    }

    /// The end of round `r` (1 to `rounds() - 1`): OM and SM lieutenants relay what round `r`
    /// brought.
    fn relay_round(&mut self, r: u8, ctx: &mut Ctx<Message>) {
        if self.is_commander() {
            return;
        }
        let c = self.campaign;
        match self.params.mode {
            Mode::TwoGenerals => {}
            Mode::Om => {
                // Step 2 of OM(m), at every level of the recursion: act as the commander of
                // OM(m - r) and send on the value received along each path of r generals, or
                // RETREAT if none came.
                for path in paths(self.n, r, self.id) {
                    let heard = self.heard(path);
                    for to in 2..=self.n {
                        if to == self.id || path.contains(to) {
                            continue;
                        }
                        let attack = if self.traitor { self.lie(to, ctx) } else { heard };
                        let msg = Message::Oral {
                            campaign: c,
                            path: path.with(self.id),
                            attack,
                        };
                        self.send(to, msg, ctx);
                    }
                }
            }
            Mode::Sm => {
                let relay = std::mem::take(&mut self.relay);
                if self.params.variant == Variant::SmNoRelay && !self.traitor {
                    return;
                }
                for (chain, attack) in relay {
                    for to in 2..=self.n {
                        if to == self.id || chain.contains(to) {
                            continue;
                        }
                        if self.traitor && !self.passes_on(to, attack, ctx) {
                            continue;
                        }
                        let msg = Message::Signed {
                            campaign: c,
                            chain: chain.with(self.id),
                            attack,
                        };
                        self.send(to, msg, ctx);
                    }
                }
            }
        }
    }

    /// OM: the order received along `path` this campaign, or RETREAT if none came in time.
    fn heard(&self, path: Path) -> bool {
        self.got
            .binary_search_by(|(p, _)| p.cmp(&path))
            .is_ok_and(|i| self.got[i].1)
    }

    /// OM: the value this lieutenant decides for the sub-algorithm whose commander is the
    /// last general of `path`: at the deepest level (OM(0)) the value received, above it the
    /// majority of the value received and of the values decided one level down for each
    /// other lieutenant (step 3).
    fn om_value(&self, path: Path) -> bool {
        let direct = self.heard(path);
        if path.len() > self.params.m {
            return direct;
        }
        let below = (2..=self.n)
            .filter(|&k| k != self.id && !path.contains(k))
            .map(|k| self.om_value(path.with(k)));
        majority(std::iter::once(direct).chain(below))
    }

    /// Dawn: the end of the last round. Loyal lieutenants (and both of the Two Generals)
    /// decide.
    fn decide(&mut self, ctx: &mut Ctx<Message>) {
        if self.traitor || !self.takes_part() {
            return;
        }
        let attack = match self.params.mode {
            Mode::TwoGenerals => {
                // The last step of the chain addressed to this general: general 1 receives
                // the odd steps, general 2 the even ones. General 1 with k = 0 waits for none.
                let k = self.params.k;
                let mine = if self.id == 1 { 1 } else { 0 };
                let needed = (0..=k).rev().find(|s| s % 2 == mine);
                needed.is_none_or(|s| self.step.is_some_and(|got| got >= s))
            }
            Mode::Om if self.is_commander() => return,
            Mode::Sm if self.is_commander() => return,
            Mode::Om if self.params.variant == Variant::NoRecursion => self.heard(Path::COMMANDER),
            Mode::Om => self.om_value(Path::COMMANDER),
            // choice(V): the one order seen, else (none, or both from a traitorous commander)
            // retreat.
            Mode::Sm => matches!(self.seen, [false, true]),
        };
        self.decision = Some(attack);
        self.last = Some((self.campaign, attack));
        ctx.note(Note::Fact(Fact {
            what: if attack { ATTACKS } else { RETREATS },
            value: i64::from(self.campaign),
        }));
    }
}

impl Protocol for General {
    type Msg = Message;
    /// The traitor mark survives a crash; a restarted general joins the next campaign.
    type Stable = bool;
    type Params = GeneralsParams;
    type Monitor = GeneralsMonitor;
    type Workload = crate::workload::Registers;
    const NAME: &'static str = "generals";
    const SCENARIOS: &'static [Scenario] = &[
        Scenario {
            value: "om",
            label: "Byzantine generals: OM(m)",
            settings: &[("mode", "om")],
        },
        Scenario {
            value: "sm",
            label: "Byzantine generals: SM(m)",
            settings: &[("mode", "sm")],
        },
        Scenario {
            value: "two-generals",
            label: "Two Generals",
            settings: &[("mode", "two-generals")],
        },
    ];
    const MESSAGE_KINDS: &'static [(&'static str, &'static str)] = &[
        (
            "Order",
            "The commander's order to a lieutenant (signed, in SM), or general 1's \"attack at dawn\".",
        ),
        (
            "Ack",
            "Two Generals: a messenger acknowledging the previous messenger of the chain.",
        ),
        (
            "Relay",
            "OM(m): a lieutenant tells another what it was told along the message's path.",
        ),
        ("Signed", "SM(m): a signed order passed on with one more signature."),
    ];
    const TIMERS: &'static [TimerInfo] = &[TimerInfo::new("round", false)];
    const COMMANDS: &'static [Command] = &[
        Command {
            verb: "traitor",
            arg: CommandArg::None,
            label: "Mark as traitor (from the next campaign)",
        },
        Command {
            verb: "loyal",
            arg: CommandArg::None,
            label: "Make loyal again (from the next campaign)",
        },
    ];

    fn start(id: NodeId, params: &GeneralsParams, ctx: &mut Ctx<Message>) -> Self {
        let marked = params.traitors.contains(&id);
        General::restart(id, params, marked, ctx)
    }
    fn restart(id: NodeId, params: &GeneralsParams, marked: bool, ctx: &mut Ctx<Message>) -> Self {
        let mut g = General {
            id,
            n: ctx.cluster_size(),
            params: params.clone(),
            traitor: false,
            marked,
            campaign: 0,
            next_boundary: 0,
            order: None,
            got: Vec::new(),
            seen: [false; 2],
            relay: Vec::new(),
            step: None,
            decision: None,
            last: None,
            sent: 0,
            sent_last: 0,
        };
        g.campaign = g.campaign_at(ctx.local_now_us());
        g.wake_at(g.campaign + 1, 0, ctx);
        g
    }
    fn stable(&self) -> bool {
        self.marked
    }

    fn on_message(&mut self, from: NodeId, msg: Message, ctx: &mut Ctx<Message>) {
        // Orders of another campaign, or arriving after their round ended, count as missing.
        if msg.campaign() != self.campaign || self.decision.is_some() || !self.takes_part() {
            return;
        }
        let round = msg.round();
        match msg {
            Message::Messenger { step, .. } => {
                let expected = self.step.map_or(if self.id == 1 { 1 } else { 0 }, |s| s + 2);
                if step != expected || self.next_boundary == 0 {
                    return;
                }
                self.step = Some(step);
                if step < self.params.k {
                    self.send_step(step + 1, ctx);
                }
            }
            Message::Oral { path, attack, .. } => {
                if path.last() != from || path.contains(self.id) || round != self.next_boundary {
                    return;
                }
                if let Err(i) = self.got.binary_search_by(|(p, _)| p.cmp(&path)) {
                    self.got.insert(i, (path, attack));
                }
            }
            Message::Signed { chain, attack, .. } => {
                // A valid chain: the commander signed first, the sender last, and it has as
                // many signatures as rounds have passed.
                if chain.ids().first() != Some(&1)
                    || chain.last() != from
                    || chain.contains(self.id)
                    || round != self.next_boundary
                {
                    return;
                }
                let slot = &mut self.seen[usize::from(attack)];
                if !*slot {
                    *slot = true;
                    self.got.push((chain, attack));
                    if chain.len() <= self.params.m {
                        self.relay.push((chain, attack));
                    }
                }
            }
        }
    }

    fn on_timer(&mut self, _: TimerKind, ctx: &mut Ctx<Message>) {
        let b = self.next_boundary;
        let rounds = self.params.rounds();
        if b == 0 {
            self.begin_campaign(ctx);
        } else if b < rounds {
            self.relay_round(b, ctx);
        } else {
            self.decide(ctx);
        }
        let c = self.campaign;
        match b {
            // Two Generals relays as messengers arrive: the next boundary is dawn.
            0 if self.params.mode == Mode::TwoGenerals => self.wake_at(c, rounds, ctx),
            b if b < rounds => self.wake_at(c, b + 1, ctx),
            _ => self.wake_at(c + 1, 0, ctx),
        }
    }
    fn on_client(&mut self, req: ClientRequest, ctx: &mut Ctx<Message>) {
        ctx.reply(req, ClientReply::NotLeader { leader: None });
    }
    fn on_command(&mut self, verb: &'static str, _: Option<u64>, _: &mut Ctx<Message>) {
        self.mark(verb == "traitor");
    }
    /// The rounds run on a fixed schedule: there is no timeout to force.
    fn force_timeout(&mut self, _: &mut Ctx<Message>) {}

    fn role(&self) -> Role {
        match (self.params.mode, self.id) {
            (Mode::TwoGenerals, 1 | 2) => Role::new("general", self.id == 1),
            (Mode::TwoGenerals, _) => Role::new("bystander", false),
            (_, 1) => Role::new("commander", true),
            _ => Role::new("lieutenant", false),
        }
    }
    fn term(&self) -> u64 {
        u64::from(self.campaign)
    }
    fn msg_kind(msg: &Message) -> &'static str {
        match msg {
            Message::Messenger { step: 0, .. } => "Order",
            Message::Messenger { .. } => "Ack",
            _ if msg.round() == 1 => "Order",
            Message::Oral { .. } => "Relay",
            Message::Signed { .. } => "Signed",
        }
    }
    fn msg_style(msg: &Message) -> MsgStyle {
        // Each round a colour of its own, so that the rounds read as layers; retreat hollow.
        let family = match msg.round() {
            1 => MsgFamily::Replication,
            2 => MsgFamily::Election,
            3 => MsgFamily::Learning,
            _ => MsgFamily::PreElection,
        };
        match *msg {
            // Two Generals' messengers are one exchange: one colour, the order square, acks
            // triangles.
            Message::Messenger { step: 0, .. } => MsgStyle::new(MsgFamily::Replication, MsgShape::Square),
            Message::Messenger { .. } => MsgStyle::new(MsgFamily::Replication, MsgShape::Triangle),
            Message::Oral { path, attack, .. }
            | Message::Signed {
                chain: path, attack, ..
            } => {
                let shape = match (path.len(), msg) {
                    (1, _) => MsgShape::Square,
                    (_, Message::Signed { .. }) => MsgShape::Circle,
                    _ => MsgShape::Diamond,
                };
                MsgStyle::new(family, shape).negative(!attack)
            }
        }
    }
    fn msg_fields(msg: &Message) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("campaign", msg.campaign().to_string()),
            ("round", msg.round().to_string()),
        ];
        match *msg {
            Message::Messenger { step, copy, .. } => {
                fields.push(("step", step.to_string()));
                fields.push(("messenger", (copy + 1).to_string()));
            }
            Message::Oral { path, attack, .. } => {
                fields.push(("path", path.to_string()));
                fields.push(("says", word(attack).into()));
            }
            Message::Signed { chain, attack, .. } => {
                fields.push(("signatures", chain.to_string()));
                fields.push(("order", word(attack).into()));
            }
        }
        fields
    }
    fn describe(&self) -> String {
        let decided = self.decision.map_or("none", word);
        let traitor = if self.traitor { " traitor" } else { "" };
        format!(
            "campaign={}{traitor} decided={decided} sent={}",
            self.campaign, self.sent
        )
    }
}
