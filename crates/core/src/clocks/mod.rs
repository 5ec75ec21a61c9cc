//! Time and causality: drifting clocks, NTP, Lamport clocks, vector clocks, and a Dynamo-style
//! register that resolves concurrent writes by wall clock or keeps them as siblings.
//!
//! Each node has a quartz clock that is off by a random offset and runs fast or slow by a
//! random drift (drawn from its own random stream at start, within `set offset` and `set
//! drift`), on top of the engine's hardware clock ([`Ctx::local_now_us`], which a script's
//! `skew` moves). Node 1 is the time server, with an exact reference clock. With `set sync
//! on`, every other node asks it for the time every `sync-period` and steps its clock to the
//! server's time plus half the round trip (NTP's estimate, wrong by the asymmetry of the two
//! legs); the step is noted as a fact. A node's clock never runs backwards except at such a
//! step.
//!
//! Nodes do local events and send each other messages, at random (`set workload on`) and at
//! the reader's command. Every event carries three stamps (Lamport, "Time, Clocks, and the
//! Ordering of Events in a Distributed System", 1978; Fidge and Mattern's vector clocks): the
//! node's wall clock, its Lamport time (tick on a local event or a send; on a receive, the
//! maximum of its own and the message's, plus one) and its vector clock (tick the own entry;
//! on a receive, the element-wise maximum, then tick). The monitor ([`ClocksMonitor`]) knows
//! the true happened-before relation from the messages themselves and checks the Clock
//! Condition and the vector characterisation against it, and counts the causally ordered
//! pairs that the wall clocks misorder.
//!
//! With `set store lww` or `set store siblings` the nodes replicate one register, as Dynamo
//! (DeCandia et al., 2007) does: a write is taken and acknowledged by the node it reaches,
//! pushed to every other node, and spread by anti-entropy gossip. Last-writer-wins keeps the
//! version with the highest wall-clock stamp and silently drops a concurrent (or a causally
//! later but earlier-stamped) write; version vectors keep concurrent versions as siblings,
//! which the next write at a node merges. The monitor counts acknowledged writes lost.
//!
//! Only the workload's messages and the register's are events of the causal history: the
//! time requests and replies are clock upkeep and carry no logical stamps.

pub mod monitor;
pub mod params;

pub use monitor::ClocksMonitor;
pub use params::{ClocksParams, Store, Variant};

use crate::protocol::{
    ClientReply, ClientRequest, Command, CommandArg, Ctx, Fact, MsgFamily, MsgShape, MsgStyle, Note, Protocol, Role,
    Scenario, TimerInfo, TimerKind,
};
use crate::{NodeId, Value};
use std::fmt;

/// The largest cluster (a script has at most nine nodes).
pub const MAX_NODES: usize = 9;
/// A vector clock: entry `i` counts node `i + 1`'s events (or, in a version vector, its
/// writes). Entries past the cluster's size stay 0.
pub type Vc = [u32; MAX_NODES];

/// The time request timer (nodes 2.. with `sync on`).
pub const SYNC_TIMER: TimerKind = 0;
/// The random workload's timer.
pub const WORK_TIMER: TimerKind = 1;
/// The register's anti-entropy timer.
pub const GOSSIP_TIMER: TimerKind = 2;

/// Facts the nodes note: the kind of each event, with its Lamport time.
pub const LOCAL: &str = "local event, Lamport";
pub const SEND: &str = "send, Lamport";
pub const RECEIVE: &str = "receive, Lamport";
pub const WRITE: &str = "write, Lamport";
/// An NTP step, by how many microseconds (negative: back).
pub const STEPPED: &str = "clock stepped by (us)";
/// A write taken and acknowledged, with its value.
pub const ACKED: &str = "write acknowledged, value";

/// What kind of event a node did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Local,
    Send,
    Receive,
    /// A write to the register, which is also the send of its replicas.
    Write,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Local => "local",
            Kind::Send => "send",
            Kind::Receive => "receive",
            Kind::Write => "write",
        }
    }
    fn fact(self) -> &'static str {
        match self {
            Kind::Local => LOCAL,
            Kind::Send => SEND,
            Kind::Receive => RECEIVE,
            Kind::Write => WRITE,
        }
    }
}

/// The logical stamps of an event, which its messages carry: the node's event number `seq`
/// (1, 2, ...), its Lamport time and its vector clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The cluster's size, for showing the vector.
    pub n: u8,
    pub seq: u32,
    pub lamport: u64,
    pub vc: Vc,
}

/// An event as its node saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    pub stamp: Stamp,
    /// The node's wall clock (its software clock, microseconds; negative before its epoch).
    pub wall: i64,
    /// For a receive: the sending node and its send event's number.
    pub from: Option<(NodeId, u32)>,
    /// The clock was stepped by NTP since the node's previous event.
    pub stepped: bool,
    /// For a write: the coordinator's write number (1, 2, ...) and the value.
    pub write: Option<(u32, Value)>,
}

/// One version of the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    pub value: Value,
    /// The coordinator's wall clock when it took the write (last-writer-wins compares it).
    pub wall: i64,
    /// The node that took the write, and its write number there.
    pub node: NodeId,
    pub write: u32,
    /// Its version vector (writes per coordinator that it descends from).
    pub vv: Vc,
    /// The writes truly in its causal past (per coordinator, how many), itself included: what
    /// the monitor judges losses by, kept beside the protocol's own clocks.
    pub ghost: Vc,
}

/// The last NTP exchange of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncRecord {
    /// The node's wall clock just before the step.
    pub before: i64,
    /// The step applied (server time + RTT/2 - own clock).
    pub step_us: i64,
    /// The round trip measured on the node's own clock; the estimate is within half of it.
    pub rtt_us: i64,
}

/// The chapter's messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A workload message, carrying its send event's stamps.
    Hello { stamp: Stamp },
    /// NTP's request, with the client's clock when it sent it.
    TimeRequest { t1: i64 },
    /// NTP's reply: the request's `t1` and the server's clock when it answered.
    TimeReply { t1: i64, t2: i64 },
    /// Register versions: a write's replica, or a node's whole store in anti-entropy.
    Replicate { stamp: Stamp, versions: Vec<Version> },
}

/// A vector clock's first `n` entries, comma separated (`1,0,2`): the DOM's `data-vc`.
pub fn vc_text(vc: &Vc, n: u8) -> String {
    let mut out = String::new();
    for (i, v) in vc.iter().take(usize::from(n)).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&v.to_string());
    }
    out
}

/// `a < b`: every entry at most, and not equal.
pub fn vc_less(a: &Vc, b: &Vc) -> bool {
    a != b && a.iter().zip(b).all(|(x, y)| x <= y)
}

/// The entry-wise maximum of `a` and `b`, into `a`.
pub fn vc_merge(a: &mut Vc, b: &Vc) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = (*x).max(*y);
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Hello { stamp } => write!(f, "Hello L={} vc=[{}]", stamp.lamport, vc_text(&stamp.vc, stamp.n)),
            Message::TimeRequest { t1 } => write!(f, "TimeRequest t1={t1}"),
            Message::TimeReply { t1, t2 } => write!(f, "TimeReply t1={t1} t2={t2}"),
            Message::Replicate { stamp, versions } => {
                write!(f, "Replicate L={} [", stamp.lamport)?;
                for (i, v) in versions.iter().enumerate() {
                    let sep = if i > 0 { " " } else { "" };
                    write!(f, "{sep}{}@n{}#{}", v.value, v.node, v.write)?;
                }
                write!(f, "]")
            }
        }
    }
}

/// One node of the chapter.
#[derive(Clone, Debug)]
pub struct Clocks {
    params: ClocksParams,
    id: NodeId,
    n: u8,
    /// The quartz's offset and drift, drawn at first start.
    offset_us: i64,
    drift_ppm: i64,
    /// The sum of NTP's steps.
    step_us: i64,
    stepped: bool,
    last_sync: Option<SyncRecord>,
    seq: u32,
    lamport: u64,
    vc: Vc,
    /// The events of the node's latest step, for the monitor.
    recent: Vec<Event>,
    /// The register's versions (one under last-writer-wins).
    versions: Vec<Version>,
    /// The writes this replica has heard of, per coordinator (the monitor's ghost state).
    knows: Vc,
    writes: u32,
}

impl Clocks {
    /// The node's wall clock when its hardware clock reads `hw_us`.
    pub fn wall_at(&self, hw_us: u64) -> i64 {
        let hw = i128::from(hw_us);
        let wall =
            hw + i128::from(self.offset_us) + hw * i128::from(self.drift_ppm) / 1_000_000 + i128::from(self.step_us);
        wall.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
    fn wall(&self, ctx: &Ctx<Message>) -> i64 {
        self.wall_at(ctx.local_now_us())
    }
    pub fn offset_us(&self) -> i64 {
        self.offset_us
    }
    pub fn drift_ppm(&self) -> i64 {
        self.drift_ppm
    }
    pub fn last_sync(&self) -> Option<SyncRecord> {
        self.last_sync
    }
    pub fn lamport(&self) -> u64 {
        self.lamport
    }
    pub fn vc(&self) -> &Vc {
        &self.vc
    }
    pub fn cluster_size(&self) -> u8 {
        self.n
    }
    /// The events of the node's latest step.
    pub fn recent(&self) -> &[Event] {
        &self.recent
    }
    pub fn versions(&self) -> &[Version] {
        &self.versions
    }
    /// The writes this replica has heard of (ghost state for the monitor).
    pub fn knows(&self) -> &Vc {
        &self.knows
    }
    pub fn store(&self) -> Store {
        self.params.store
    }
    pub fn is_server(&self) -> bool {
        self.id == 1
    }

    /// Does one event: ticks the clocks (by the receive rule when `incoming` is the
    /// message's stamp), records it and notes it.
    fn tick(&mut self, kind: Kind, incoming: Option<(NodeId, &Stamp)>, ctx: &mut Ctx<Message>) -> Stamp {
        let me = usize::from(self.id) - 1;
        self.seq += 1;
        match incoming {
            None => {
                self.lamport += 1;
                self.vc[me] += 1;
            }
            Some((_, m)) => {
                let variant = self.params.variant;
                self.lamport = match variant {
                    Variant::LamportNoMax => self.lamport + 1,
                    _ => self.lamport.max(m.lamport) + 1,
                };
                match variant {
                    Variant::VcNoIncrement => vc_merge(&mut self.vc, &m.vc),
                    Variant::VcReceiverOnly => self.vc[me] += 1,
                    Variant::Correct | Variant::LamportNoMax => {
                        vc_merge(&mut self.vc, &m.vc);
                        self.vc[me] += 1;
                    }
                }
            }
        }
        let stamp = Stamp {
            n: self.n,
            seq: self.seq,
            lamport: self.lamport,
            vc: self.vc,
        };
        self.recent.push(Event {
            kind,
            stamp,
            wall: self.wall(ctx),
            from: incoming.map(|(from, m)| (from, m.seq)),
            stepped: std::mem::take(&mut self.stepped),
            write: None,
        });
        ctx.note(Note::Fact(Fact {
            what: kind.fact(),
            value: self.lamport as i64,
        }));
        stamp
    }

    /// A local event (the reader's `do N local`, or the workload's).
    pub fn local(&mut self, ctx: &mut Ctx<Message>) {
        self.recent.clear();
        self.tick(Kind::Local, None, ctx);
    }

    /// Sends a message to `to` (the reader's `do N send M`, or the workload's).
    pub fn send_to(&mut self, to: NodeId, ctx: &mut Ctx<Message>) {
        self.recent.clear();
        if to == self.id || to == 0 || to > self.n {
            return;
        }
        let stamp = self.tick(Kind::Send, None, ctx);
        ctx.send(to, Message::Hello { stamp });
    }

    /// Takes a write of `value` to the register, acknowledges it and pushes it to every
    /// other node (the reader's `do N write V`, or the workload's). Without a store, a local
    /// event.
    pub fn write(&mut self, value: Value, ctx: &mut Ctx<Message>) {
        if self.params.store == Store::Off {
            return self.local(ctx);
        }
        self.recent.clear();
        let me = usize::from(self.id) - 1;
        self.writes += 1;
        self.knows[me] = self.writes;
        let mut vv = [0; MAX_NODES];
        for v in &self.versions {
            vc_merge(&mut vv, &v.vv);
        }
        vv[me] = self.writes;
        let stamp = self.tick(Kind::Write, None, ctx);
        let version = Version {
            value,
            wall: self.recent[0].wall,
            node: self.id,
            write: self.writes,
            vv,
            ghost: self.knows,
        };
        self.recent[0].write = Some((self.writes, value));
        self.merge(&[version]);
        ctx.note(Note::Fact(Fact {
            what: ACKED,
            value: value as i64,
        }));
        for to in ctx.peers() {
            ctx.send(
                to,
                Message::Replicate {
                    stamp,
                    versions: vec![version],
                },
            );
        }
    }

    /// Merges versions into the store: last-writer-wins keeps the one with the highest
    /// (wall clock, node, write number); siblings keep every version that no other descends
    /// from.
    fn merge(&mut self, incoming: &[Version]) {
        for v in incoming {
            vc_merge(&mut self.knows, &v.ghost);
            if self.versions.iter().any(|w| (w.node, w.write) == (v.node, v.write)) {
                continue;
            }
            match self.params.store {
                Store::Off => {}
                Store::Lww => {
                    let newer = self
                        .versions
                        .first()
                        .is_none_or(|w| (v.wall, v.node, v.write) > (w.wall, w.node, w.write));
                    if newer {
                        self.versions = vec![*v];
                    }
                }
                Store::Siblings => {
                    if !self.versions.iter().any(|w| vc_less(&v.vv, &w.vv)) {
                        self.versions.retain(|w| !vc_less(&w.vv, &v.vv));
                        self.versions.push(*v);
                    }
                }
            }
        }
    }

    fn arm_work(&self, ctx: &mut Ctx<Message>) {
        if self.params.workload {
            let p = self.params.event_period_us;
            let after = ctx.rng().range_inclusive(p / 2, p + p / 2);
            ctx.set_timer(WORK_TIMER, after);
        }
    }

    fn arm_timers(&self, first: bool, ctx: &mut Ctx<Message>) {
        if self.params.sync && !self.is_server() {
            let p = self.params.sync_period_us;
            let after = if first {
                ctx.rng().range_inclusive(p / 10, p / 2)
            } else {
                p
            };
            ctx.set_timer(SYNC_TIMER, after);
        }
        self.arm_work(ctx);
        if self.params.store != Store::Off {
            Self::arm_gossip(&self.params, ctx);
        }
    }

    /// The next anti-entropy round, within 10% of the period either way, so that replicas
    /// do not all gossip at once.
    fn arm_gossip(params: &ClocksParams, ctx: &mut Ctx<Message>) {
        let p = params.gossip_period_us;
        let after = ctx.rng().range_inclusive(p - p / 10, p + p / 10);
        ctx.set_timer(GOSSIP_TIMER, after);
    }

    fn random_peer(&self, ctx: &mut Ctx<Message>) -> NodeId {
        let pick = ctx.rng().range_inclusive(1, u64::from(self.n) - 1) as NodeId;
        if pick >= self.id { pick + 1 } else { pick }
    }

    fn work(&mut self, ctx: &mut Ctx<Message>) {
        if self.params.store != Store::Off {
            let value = ctx.rng().range_inclusive(1, 99);
            self.write(value, ctx);
        } else if self.n < 2 || ctx.rng().range_inclusive(0, 1) == 0 {
            self.local(ctx);
        } else {
            let to = self.random_peer(ctx);
            self.send_to(to, ctx);
        }
    }
}

/// Draws a value within `±max` from the node's stream.
fn spread(max: u64, ctx: &mut Ctx<Message>) -> i64 {
    ctx.rng().range_inclusive(0, 2 * max) as i64 - max as i64
}

impl Protocol for Clocks {
    type Msg = Message;
    type Stable = Clocks;
    type Params = ClocksParams;
    type Monitor = ClocksMonitor;
    type Workload = crate::workload::Registers;
    const NAME: &'static str = "clocks";
    const SCENARIOS: &'static [Scenario] = &[
        Scenario {
            value: "clocks",
            label: "Drifting clocks, Lamport and vector clocks",
            settings: &[],
        },
        Scenario {
            value: "lww",
            label: "Dynamo register: last writer wins",
            settings: &[("store", "lww")],
        },
        Scenario {
            value: "siblings",
            label: "Dynamo register: vector-clock siblings",
            settings: &[("store", "siblings")],
        },
    ];
    const MESSAGE_KINDS: &'static [(&'static str, &'static str)] = &[
        (
            "Hello",
            "A message between two nodes, carrying its send event's Lamport time and vector clock.",
        ),
        (
            "TimeRequest",
            "NTP: a node asks the time server for the time, noting its own clock (t1).",
        ),
        (
            "TimeReply",
            "NTP: the server's clock when it answered (t2); the node sets its clock to t2 plus half the round trip.",
        ),
        (
            "Replicate",
            "Register versions: a new write pushed to every replica, or a replica's store in anti-entropy.",
        ),
    ];
    const COMMANDS: &'static [Command] = &[
        Command {
            verb: "local",
            arg: CommandArg::None,
            label: "Local event",
        },
        Command {
            verb: "send",
            arg: CommandArg::Node,
            label: "Send a message to",
        },
        Command {
            verb: "write",
            arg: CommandArg::Number { max: 999 },
            label: "Write to the register",
        },
    ];
    const TIMERS: &'static [TimerInfo] = &[
        TimerInfo::new("time sync", true),
        TimerInfo::new("workload", false),
        TimerInfo::new("anti-entropy", true),
    ];

    fn start(id: NodeId, params: &ClocksParams, ctx: &mut Ctx<Message>) -> Self {
        let (offset_us, drift_ppm) = if id == 1 {
            (0, 0)
        } else {
            (spread(params.max_offset_us, ctx), spread(params.max_drift_ppm, ctx))
        };
        let node = Clocks {
            params: params.clone(),
            id,
            n: ctx.cluster_size().min(MAX_NODES as u8),
            offset_us,
            drift_ppm,
            step_us: 0,
            stepped: false,
            last_sync: None,
            seq: 0,
            lamport: 0,
            vc: [0; MAX_NODES],
            recent: Vec::new(),
            versions: Vec::new(),
            knows: [0; MAX_NODES],
            writes: 0,
        };
        node.arm_timers(true, ctx);
        node
    }
    fn restart(_: NodeId, params: &ClocksParams, stable: Clocks, ctx: &mut Ctx<Message>) -> Self {
        let node = Clocks {
            params: params.clone(),
            recent: Vec::new(),
            ..stable
        };
        node.arm_timers(true, ctx);
        node
    }
    /// Everything: the quartz is hardware, and the clocks and the register are persisted
    /// before each step ends (a Lamport clock that restarted from 0 would break the Clock
    /// Condition).
    fn stable(&self) -> Clocks {
        self.clone()
    }

    fn on_message(&mut self, from: NodeId, msg: Message, ctx: &mut Ctx<Message>) {
        self.recent.clear();
        match msg {
            Message::Hello { stamp } => {
                self.tick(Kind::Receive, Some((from, &stamp)), ctx);
            }
            Message::TimeRequest { t1 } => {
                if self.is_server() {
                    let t2 = self.wall(ctx);
                    ctx.send(from, Message::TimeReply { t1, t2 });
                }
            }
            Message::TimeReply { t1, t2 } => {
                let t4 = self.wall(ctx);
                let rtt_us = t4 - t1;
                if rtt_us < 0 || !self.params.sync {
                    return;
                }
                let step_us = t2 + rtt_us / 2 - t4;
                self.step_us += step_us;
                self.stepped |= step_us != 0;
                self.last_sync = Some(SyncRecord {
                    before: t4,
                    step_us,
                    rtt_us,
                });
                ctx.note(Note::Fact(Fact {
                    what: STEPPED,
                    value: step_us,
                }));
            }
            Message::Replicate { stamp, versions } => {
                self.tick(Kind::Receive, Some((from, &stamp)), ctx);
                self.merge(&versions);
            }
        }
    }
    fn on_timer(&mut self, kind: TimerKind, ctx: &mut Ctx<Message>) {
        self.recent.clear();
        match kind {
            SYNC_TIMER => {
                let t1 = self.wall(ctx);
                ctx.send(1, Message::TimeRequest { t1 });
                ctx.set_timer(SYNC_TIMER, self.params.sync_period_us);
            }
            WORK_TIMER => {
                self.work(ctx);
                self.arm_work(ctx);
            }
            _ => {
                if !self.versions.is_empty() && self.n > 1 {
                    let to = self.random_peer(ctx);
                    let stamp = self.tick(Kind::Send, None, ctx);
                    ctx.send(
                        to,
                        Message::Replicate {
                            stamp,
                            versions: self.versions.clone(),
                        },
                    );
                }
                Self::arm_gossip(&self.params, ctx);
            }
        }
    }
    fn on_command(&mut self, verb: &'static str, arg: Option<u64>, ctx: &mut Ctx<Message>) {
        match (verb, arg) {
            ("send", Some(to)) => self.send_to(to.min(u64::from(NodeId::MAX)) as NodeId, ctx),
            ("write", Some(value)) => self.write(value, ctx),
            _ => self.local(ctx),
        }
    }
    fn on_client(&mut self, req: ClientRequest, ctx: &mut Ctx<Message>) {
        ctx.reply(req, ClientReply::NotLeader { leader: None });
    }
    /// The stage's "timeout": one event of the workload, now.
    fn force_timeout(&mut self, ctx: &mut Ctx<Message>) {
        self.recent.clear();
        self.work(ctx);
    }

    fn role(&self) -> Role {
        if self.is_server() && self.params.sync {
            Role::new("time server", false)
        } else if self.params.store != Store::Off {
            Role::new("replica", false)
        } else {
            Role::new("process", false)
        }
    }
    /// The Lamport clock.
    fn term(&self) -> u64 {
        self.lamport
    }
    fn msg_kind(msg: &Message) -> &'static str {
        match msg {
            Message::Hello { .. } => "Hello",
            Message::TimeRequest { .. } => "TimeRequest",
            Message::TimeReply { .. } => "TimeReply",
            Message::Replicate { .. } => "Replicate",
        }
    }
    fn msg_style(msg: &Message) -> MsgStyle {
        match msg {
            Message::Hello { .. } => MsgStyle::new(MsgFamily::Other, MsgShape::Circle),
            Message::TimeRequest { .. } => MsgStyle::new(MsgFamily::Learning, MsgShape::Diamond).routine(true),
            Message::TimeReply { .. } => MsgStyle::new(MsgFamily::Learning, MsgShape::Circle).routine(true),
            Message::Replicate { .. } => MsgStyle::new(MsgFamily::Replication, MsgShape::Square),
        }
    }
    fn msg_fields(msg: &Message) -> Vec<(&'static str, String)> {
        match msg {
            Message::Hello { stamp } => vec![
                ("Lamport", stamp.lamport.to_string()),
                ("vector", vc_text(&stamp.vc, stamp.n)),
            ],
            Message::TimeRequest { t1 } => vec![("t1", t1.to_string())],
            Message::TimeReply { t1, t2 } => vec![("t1", t1.to_string()), ("t2", t2.to_string())],
            Message::Replicate { stamp, versions } => {
                let mut fields = vec![
                    ("Lamport", stamp.lamport.to_string()),
                    ("vector", vc_text(&stamp.vc, stamp.n)),
                ];
                for v in versions {
                    fields.push(("version", format!("{} by n{} at {}", v.value, v.node, v.wall)));
                }
                fields
            }
        }
    }
    fn describe(&self) -> String {
        let mut out = format!(
            "L={} vc=[{}] offset={}us drift={}ppm stepped={}us",
            self.lamport,
            vc_text(&self.vc, self.n),
            self.offset_us,
            self.drift_ppm,
            self.step_us
        );
        if self.params.store != Store::Off {
            out.push_str(" store=[");
            for (i, v) in self.versions.iter().enumerate() {
                let sep = if i > 0 { " " } else { "" };
                out.push_str(&format!("{sep}{}@n{}#{}", v.value, v.node, v.write));
            }
            out.push(']');
        }
        out
    }
}
