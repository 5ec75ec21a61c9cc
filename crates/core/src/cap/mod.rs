//! Partitions in practice: CAP and PACELC on a quorum store, split brain and fencing tokens.
//!
//! Two systems share this chapter, chosen by `set mode`:
//!
//! - `cp` and `ap`: a Dynamo-style key-value store with read and write quorums R and W over
//!   N = every node ([`store`]). Under a partition, CP refuses on the side without a quorum and
//!   stays linearizable; AP answers on both sides, the copies diverge and last-writer-wins
//!   drops writes when they meet again. Without a partition, R + W against N trades latency
//!   for fresh reads (PACELC).
//! - `split-brain`: Raft members (or lease holders) writing to a storage service, the last
//!   node ([`fence`]); a paused old leader writes after the new one unless the storage fences
//!   with tokens.
//!
//! The monitor ([`CapMonitor`]) checks the storage's writes (Token Order, No Lost Update) and
//! counts the store's answered and refused requests and its lost writes; the client history is
//! checked for linearizability as in every chapter, and [`figures`] reads stale reads and
//! latency percentiles off it.

pub mod fence;
pub mod figures;
pub mod monitor;
pub mod params;
pub mod store;

#[cfg(test)]
mod tests;

pub use fence::{LogEntry, Member, Storage};
pub use monitor::CapMonitor;
pub use params::{CapParams, Mode, Variant};
pub use store::{Replica, ReplicaStable, Stamp, Version};

use crate::history::{EventKind as Outcome, History};
use crate::lin::Verdict;
use crate::protocol::{
    ClientReply, ClientRequest, Ctx, MsgFamily, MsgShape, MsgStyle, Op, Protocol, Role, Scenario, TimerInfo, TimerKind,
};
use crate::rng::SimRng;
use crate::workload::{Answer, Registers, Workload};
use crate::{Key, NodeId, Value};
use std::fmt;

/// A coordinator's deadline (its op timeout, and its hints' next retry).
pub const DEADLINE_TIMER: TimerKind = 2;
/// A member's work loop.
pub const WORK_TIMER: TimerKind = 3;

/// Facts the chapter notes, which its monitor reads.
pub const ANSWERED: &str = "answered client";
pub const REFUSED: &str = "refused client";
pub const WRITE_ACKED: &str = "acknowledged write";
pub const DISCARDED: &str = "discarded write";
pub const ACCEPTED: &str = "accepted token";
pub const REJECTED: &str = "rejected token";

/// The messages of both systems.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A coordinator asks a replica for its version of `key`.
    Get { op: u64, key: Key },
    /// The replica's version (`None`: never written).
    Got {
        op: u64,
        key: Key,
        version: Option<Version>,
    },
    /// Store this version if it is newer (`op` is `u64::MAX` for a repair or a hint).
    Put { op: u64, key: Key, version: Version },
    /// The replica holds `stamp` or newer for `key`.
    PutAck { op: u64, key: Key, stamp: Stamp },
    /// Raft between members.
    Raft(crate::raft::Message),
    /// A member writes to the storage with its token.
    Write { token: u64, value: Value },
    /// The storage's answer.
    WriteReply { token: u64, accepted: bool },
    /// A member asks the lock service for the lease, or to renew it.
    Acquire,
    /// The lock service grants (or renews) lease number `token`.
    Grant { token: u64 },
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Get { op, key } => write!(f, "Get #{op} k{key}"),
            Message::Got { op, key, version } => match version {
                Some(v) => write!(f, "Got #{op} k{key}={}@{}", v.value, v.stamp),
                None => write!(f, "Got #{op} k{key} unset"),
            },
            Message::Put {
                op: u64::MAX,
                key,
                version,
            } => write!(f, "Put repair k{key}={}@{}", version.value, version.stamp),
            Message::Put { op, key, version } => write!(f, "Put #{op} k{key}={}@{}", version.value, version.stamp),
            Message::PutAck { op, key, stamp } => write!(f, "PutAck #{op} k{key}@{stamp}"),
            Message::Raft(m) => write!(f, "{m}"),
            Message::Write { token, value } => write!(f, "Write token={token} value={value}"),
            Message::WriteReply { token, accepted } => {
                write!(
                    f,
                    "WriteReply token={token} {}",
                    if *accepted { "ok" } else { "rejected" }
                )
            }
            Message::Acquire => write!(f, "Acquire"),
            Message::Grant { token } => write!(f, "Grant token={token}"),
        }
    }
}

/// A node of the chapter, with its copy of the parameters.
#[derive(Clone, Debug)]
pub struct Cap {
    params: CapParams,
    pub node: Node,
}

/// What a node is: a store replica, a member, or the storage service.
#[derive(Clone, Debug)]
pub enum Node {
    Replica(Replica),
    Member(Box<Member>),
    Storage(Storage),
}

impl Cap {
    pub fn params(&self) -> &CapParams {
        &self.params
    }
}

/// What survives a crash.
#[derive(Clone, Debug)]
pub enum CapStable {
    Replica(ReplicaStable),
    Member(Option<crate::raft::Stable>),
    Storage(Storage),
}

/// The store's clients: reads and writes of the register workload. Its compare-and-sets
/// become writes of the same new value, since a quorum register offers none.
#[derive(Clone, Debug, Default)]
pub struct QuorumRegisters(Registers);

impl Workload for QuorumRegisters {
    type Op = Op;
    type Reply = ClientReply;
    fn answer(op: &Op, reply: &ClientReply) -> Answer {
        Registers::answer(op, reply)
    }
    fn generate(&mut self, rng: &mut SimRng, keys: u32, issued: bool) -> Option<Op> {
        self.0.generate(rng, keys, issued).map(|op| match op {
            Op::Cas { key, to, .. } => Op::Write { key, value: to },
            op => op,
        })
    }
    fn completed(&mut self, op: &Op, outcome: Outcome) {
        self.0.completed(op, outcome);
    }
    fn check(history: &History, budget: u64) -> Result<Verdict, String> {
        Registers::check(history, budget)
    }
}

fn is_storage(id: NodeId, ctx: &Ctx<Message>) -> bool {
    id == ctx.cluster_size()
}

impl Protocol for Cap {
    type Msg = Message;
    type Stable = CapStable;
    type Params = CapParams;
    type Monitor = CapMonitor;
    type Workload = QuorumRegisters;

    const NAME: &'static str = "cap";
    // A script shows the first scenario whose settings it holds, so the more specific come
    // first (fencing before plain split brain); the first is the chapter's default.
    const SCENARIOS: &'static [Scenario] = &[
        Scenario {
            value: "cp",
            label: "CP quorum store",
            settings: &[("mode", "cp"), ("client-attempts", "1")],
        },
        Scenario {
            value: "pacelc",
            label: "PACELC: quorums and a far replica",
            settings: &[("mode", "ap"), ("far", "5 40ms"), ("client-attempts", "1")],
        },
        Scenario {
            value: "ap",
            label: "AP store, last writer wins",
            settings: &[("mode", "ap"), ("r", "1"), ("w", "1"), ("client-attempts", "1")],
        },
        Scenario {
            value: "lease",
            label: "Lease with a TTL",
            settings: &[("mode", "split-brain"), ("lease", "500ms")],
        },
        Scenario {
            value: "fencing",
            label: "Split brain, fencing tokens",
            settings: &[("mode", "split-brain"), ("fencing", "on")],
        },
        Scenario {
            value: "split-brain",
            label: "Split brain, no fencing",
            settings: &[("mode", "split-brain")],
        },
    ];
    const MESSAGE_KINDS: &'static [(&'static str, &'static str)] = &[
        (
            "Get",
            "A coordinator asks a replica for its version of a key (a read, or a write's query).",
        ),
        ("Got", "The replica's version of the key, with its timestamp."),
        (
            "Put",
            "A coordinator stores a version: a write, a read's write-back, a repair or a hint.",
        ),
        ("PutAck", "The replica holds that version or a newer one."),
        ("RequestVote", "Raft: a candidate asks for a vote."),
        ("Vote", "Raft: the answer to RequestVote."),
        ("AppendEntries", "Raft: the leader's entries and heartbeat."),
        ("AppendEntriesReply", "Raft: the follower's answer."),
        (
            "Write",
            "A member writes to the storage, with its token (its term or lease number).",
        ),
        (
            "WriteReply",
            "The storage accepted the write, or rejected its token as too old.",
        ),
        (
            "Acquire",
            "A member asks the lock service for the lease, or to renew it.",
        ),
        ("Grant", "The lock service grants the lease, numbered, for its TTL."),
    ];
    const TIMERS: &'static [TimerInfo] = &[
        TimerInfo::new("election", false),
        TimerInfo::new("heartbeat", true),
        TimerInfo::new("deadline", false),
        TimerInfo::new("work", true),
    ];

    fn start(id: NodeId, params: &CapParams, ctx: &mut Ctx<Message>) -> Self {
        let node = match params.mode {
            Mode::SplitBrain if is_storage(id, ctx) => Node::Storage(Storage::default()),
            Mode::SplitBrain => Node::Member(Box::new(Member::start(id, params, None, ctx))),
            _ => Node::Replica(Replica::new(ReplicaStable::default())),
        };
        Cap {
            params: params.clone(),
            node,
        }
    }

    fn restart(id: NodeId, params: &CapParams, stable: CapStable, ctx: &mut Ctx<Message>) -> Self {
        let node = match stable {
            CapStable::Replica(s) => Node::Replica(Replica::new(s)),
            CapStable::Member(raft) => Node::Member(Box::new(Member::start(id, params, raft, ctx))),
            CapStable::Storage(s) => Node::Storage(s),
        };
        Cap {
            params: params.clone(),
            node,
        }
    }

    fn stable(&self) -> CapStable {
        match &self.node {
            Node::Replica(r) => CapStable::Replica(r.stable.clone()),
            Node::Member(m) => CapStable::Member(m.raft.as_ref().map(Protocol::stable)),
            Node::Storage(s) => CapStable::Storage(s.clone()),
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Message, ctx: &mut Ctx<Message>) {
        let p = &self.params;
        match (&mut self.node, msg) {
            (Node::Replica(r), msg) => r.on_message(from, msg, p, ctx),
            (Node::Member(m), Message::Raft(msg)) => m.raft_message(from, msg, ctx),
            (Node::Member(m), Message::Grant { token }) => m.on_grant(token, p, ctx),
            (Node::Storage(s), Message::Write { token, value }) => s.on_write(from, token, value, p, ctx),
            (Node::Storage(s), Message::Acquire) => s.on_acquire(from, p, ctx),
            _ => {}
        }
    }

    fn on_timer(&mut self, kind: TimerKind, ctx: &mut Ctx<Message>) {
        let p = &self.params;
        match (&mut self.node, kind) {
            (Node::Replica(r), DEADLINE_TIMER) => r.on_deadline(p, ctx),
            (Node::Member(m), WORK_TIMER) => m.on_work(p, ctx),
            (Node::Member(m), kind) => m.raft_timer(kind, ctx),
            _ => {}
        }
    }

    fn on_client(&mut self, req: ClientRequest, ctx: &mut Ctx<Message>) {
        match &mut self.node {
            Node::Replica(r) => r.on_client(req, &self.params, ctx),
            _ => ctx.reply(req, ClientReply::Unavailable),
        }
    }

    fn force_timeout(&mut self, ctx: &mut Ctx<Message>) {
        if let Node::Member(m) = &mut self.node {
            m.force_timeout(ctx);
        }
    }

    fn role(&self) -> Role {
        match &self.node {
            Node::Replica(_) => Role::new("replica", false),
            Node::Member(m) => match &m.raft {
                Some(raft) => raft.role(),
                None if m.lease.is_some() => fence::HOLDER,
                None => fence::WORKER,
            },
            Node::Storage(_) => fence::STORAGE,
        }
    }

    fn term(&self) -> u64 {
        match &self.node {
            // CP's counters; AP's are clock readings, no term to show.
            Node::Replica(_) if self.params.mode == Mode::Ap => 0,
            Node::Replica(r) => r.stable.data.iter().map(|(_, v)| v.stamp.counter).max().unwrap_or(0),
            Node::Member(m) => match &m.raft {
                Some(raft) => raft.current_term(),
                None => m.lease.map_or(0, |l| l.token),
            },
            Node::Storage(s) => s.max_token,
        }
    }

    fn msg_kind(msg: &Message) -> &'static str {
        match msg {
            Message::Get { .. } => "Get",
            Message::Got { .. } => "Got",
            Message::Put { .. } => "Put",
            Message::PutAck { .. } => "PutAck",
            Message::Raft(m) => crate::raft::Raft::msg_kind(m),
            Message::Write { .. } => "Write",
            Message::WriteReply { .. } => "WriteReply",
            Message::Acquire => "Acquire",
            Message::Grant { .. } => "Grant",
        }
    }

    fn msg_style(msg: &Message) -> MsgStyle {
        match msg {
            Message::Get { .. } => MsgStyle::new(MsgFamily::Learning, MsgShape::Diamond),
            Message::Got { .. } => MsgStyle::new(MsgFamily::Learning, MsgShape::Circle),
            Message::Put { .. } => MsgStyle::new(MsgFamily::Replication, MsgShape::Square),
            Message::PutAck { .. } => MsgStyle::new(MsgFamily::Replication, MsgShape::Triangle).routine(true),
            Message::Raft(m) => crate::raft::Raft::msg_style(m),
            Message::Write { .. } => MsgStyle::new(MsgFamily::Other, MsgShape::Square),
            Message::WriteReply { accepted, .. } => {
                MsgStyle::new(MsgFamily::Other, MsgShape::Triangle).negative(!accepted)
            }
            Message::Acquire => MsgStyle::new(MsgFamily::Election, MsgShape::Diamond),
            Message::Grant { .. } => MsgStyle::new(MsgFamily::Election, MsgShape::Circle),
        }
    }

    fn msg_fields(msg: &Message) -> Vec<(&'static str, String)> {
        let (op, key, version, stamp, token) = match *msg {
            Message::Raft(ref m) => return crate::raft::Raft::msg_fields(m),
            Message::Get { op, key } => (Some(op), Some(key), None, None, None),
            Message::Got { op, key, version } => (Some(op), Some(key), version, None, None),
            Message::Put { op, key, version } => (Some(op), Some(key), Some(version), None, None),
            Message::PutAck { op, key, stamp } => (Some(op), Some(key), None, Some(stamp), None),
            Message::Write { token, value } => (None, None, None, None, Some((token, Some(value)))),
            Message::WriteReply { token, .. } | Message::Grant { token } => {
                (None, None, None, None, Some((token, None)))
            }
            Message::Acquire => (None, None, None, None, None),
        };
        let mut fields = Vec::new();
        if let Some(op) = op {
            let repair = op == u64::MAX;
            fields.push((
                "op",
                if repair {
                    "repair or hint".into()
                } else {
                    op.to_string()
                },
            ));
        }
        if let Some(key) = key {
            fields.push(("key", key.to_string()));
        }
        let stamp = stamp.or(version.map(|v| v.stamp));
        if let Some(v) = version {
            fields.push(("value", v.value.to_string()));
        }
        if let Some(s) = stamp {
            fields.push(("timestamp", s.to_string()));
        }
        if let Some((token, value)) = token {
            fields.push(("token", token.to_string()));
            if let Some(v) = value {
                fields.push(("value", v.to_string()));
            }
        }
        if let Message::WriteReply { accepted, .. } = msg {
            fields.push(("accepted", accepted.to_string()));
        }
        fields
    }

    fn describe(&self) -> String {
        match &self.node {
            Node::Replica(r) => r.describe(),
            Node::Member(m) => {
                let raft = m.raft.as_ref().map(|r| r.describe()).unwrap_or_default();
                format!("written={} {raft}", m.written).trim_end().to_string()
            }
            Node::Storage(s) => match s.value {
                Some(v) => format!(
                    "value={} token={} by=n{} accepted={} rejected={}",
                    v.value, v.token, v.writer, s.accepted, s.rejected
                ),
                None => format!("value=unset accepted={} rejected={}", s.accepted, s.rejected),
            },
        }
    }
}
