//! A Dynamo-style replicated key-value store with tunable quorums (DeCandia et al. 2007).
//!
//! Every node is a replica of every key (N is the cluster size) and any node coordinates the
//! requests a client sends it. A read asks every replica for its version and waits for R
//! answers; a write stores a new version on every replica and waits for W acknowledgements.
//! The coordinator counts itself.
//!
//! **CP** (strict quorums) follows the multi-writer ABD register (Attiya, Bar-Noy, Dolev;
//! Lynch and Shvartsman): a write first reads the highest timestamp from R replicas and
//! stores its value with the next one; a read writes the newest version it found back to W
//! replicas before it answers (its read repair, done before the answer, not after). With
//! R + W > N every read quorum meets every write quorum, so the history is linearizable; a
//! coordinator that cannot gather its quorum within `op-timeout` refuses (`unavailable`).
//!
//! **AP** (always answer) answers at `op-timeout` with whatever it could reach, at worst its
//! own copy. A write's timestamp is the coordinator's clock (last writer wins, as Cassandra
//! does). Every version carries the writes it descends from, one counter per coordinator, so
//! that a replica keeping the higher timestamp of two versions where neither saw the other
//! knows it discarded a write: a lost write, once that write was acknowledged. Read repair
//! (after the answer) and hinted handoff heal the replicas. Hints are kept by the coordinator
//! itself, not by a stand-in replica as Dynamo's sloppy quorum does: the effect on what
//! readers see is the same, a replica that missed a write gets it when it is reachable again.
//!
//! Compare-and-set is not offered: a quorum register cannot do it atomically.

use super::{ANSWERED, CapParams, DEADLINE_TIMER, DISCARDED, Message, Mode, REFUSED, WRITE_ACKED};
use crate::protocol::{ClientReply, ClientRequest, Ctx, Fact, Note, Op};
use crate::vecmap::VecMap;
use crate::{Key, NodeId, Value};
use std::fmt::Write as _;

/// How often a coordinator resends the writes a replica has not acknowledged.
pub const HINT_RETRY_US: u64 = 200_000;

/// A version's timestamp: a counter, then the coordinator that made it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    pub counter: u64,
    pub node: NodeId,
}

impl Stamp {
    /// One number per timestamp, for facts.
    pub fn packed(self) -> i64 {
        ((self.counter << 4) | u64::from(self.node)) as i64
    }
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.counter, self.node)
    }
}

/// A value as a replica stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    pub value: Value,
    pub stamp: Stamp,
    /// `seen[i]`: how many of node `i + 1`'s writes this version descends from.
    pub seen: [u32; 9],
}

impl Version {
    /// Whether this version was made by a coordinator that had seen `other`.
    fn descends(&self, other: &Version) -> bool {
        let i = usize::from(other.stamp.node).saturating_sub(1).min(8);
        self.seen[i] >= other.seen[i]
    }
}

/// What survives a replica's crash: its data and its own counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicaStable {
    pub data: VecMap<Key, Version>,
    writes: u32,
    last_counter: u64,
    /// The next request number: kept, so that an answer to a request from before a crash
    /// never passes for one to a request after it.
    next_op: u64,
}

/// A request this node coordinates.
#[derive(Clone, Debug)]
struct Pending {
    id: u64,
    req: ClientRequest,
    /// In the store phase (else the query phase).
    storing: bool,
    /// Nodes that answered the current phase, one bit each.
    heard: u16,
    /// The stamp each query answer carried (`None`: the key was never written there).
    stamps: [Option<Stamp>; 9],
    best: Option<Version>,
    /// The version being stored.
    version: Option<Version>,
    /// Local time at which the coordinator stops waiting.
    deadline: u64,
}

/// One replica, which is also a coordinator.
#[derive(Clone, Debug, Default)]
pub struct Replica {
    pub stable: ReplicaStable,
    pending: Vec<Pending>,
    /// Writes a replica has not acknowledged: `(replica, key, version)`.
    hints: Vec<(NodeId, Key, Version)>,
    hint_due: Option<u64>,
    armed: Option<u64>,
    /// The latest versions this replica discarded for a newer stamp that never saw them
    /// (at most [`DISCARDED_KEPT`]), for the views.
    pub discarded: Vec<(Key, Version)>,
}

/// How many discarded versions a replica remembers for the views.
pub const DISCARDED_KEPT: usize = 8;

fn bit(node: NodeId) -> u16 {
    1 << node
}

fn quorum(q: u8, n: u8) -> u32 {
    u32::from(q.min(n))
}

impl Replica {
    pub fn new(stable: ReplicaStable) -> Self {
        Replica {
            stable,
            ..Replica::default()
        }
    }

    /// The requests in progress.
    pub fn in_progress(&self) -> usize {
        self.pending.len()
    }

    /// The writes waiting for a replica.
    pub fn hints(&self) -> usize {
        self.hints.len()
    }

    pub fn on_client(&mut self, req: ClientRequest, p: &CapParams, ctx: &mut Ctx<Message>) {
        let (key, write) = match req.op {
            Op::Read { key } => (key, None),
            Op::Write { key, value } => (key, Some(value)),
            Op::Cas { .. } => {
                ctx.reply(req, ClientReply::Unavailable);
                return;
            }
        };
        let id = self.stable.next_op;
        self.stable.next_op += 1;
        let mut op = Pending {
            id,
            req,
            storing: false,
            heard: 0,
            stamps: [None; 9],
            best: None,
            version: None,
            deadline: ctx.local_now_us().saturating_add(p.op_timeout_us),
        };
        match write {
            // AP: the coordinator's clock stamps the write, with no query first.
            Some(value) if p.mode == Mode::Ap => {
                let counter = ctx.local_now_us().max(self.stable.last_counter + 1);
                self.stable.last_counter = counter;
                op.version = Some(self.new_version(key, value, counter, ctx.id()));
                op.storing = true;
                self.pending.push(op);
                self.broadcast(id, key, ctx);
            }
            _ => {
                self.pending.push(op);
                self.broadcast(id, key, ctx);
            }
        }
        self.progress(id, p, ctx);
        self.rearm(ctx);
    }

    fn new_version(&mut self, key: Key, value: Value, counter: u64, me: NodeId) -> Version {
        self.stable.writes += 1;
        let mut seen = self.stable.data.get(&key).map_or([0; 9], |v| v.seen);
        seen[usize::from(me) - 1] = self.stable.writes;
        Version {
            value,
            stamp: Stamp { counter, node: me },
            seen,
        }
    }

    /// Starts op `id`'s current phase: asks every other replica, and answers for itself.
    fn broadcast(&mut self, id: u64, key: Key, ctx: &mut Ctx<Message>) {
        let me = ctx.id();
        let Some(i) = self.pending.iter().position(|o| o.id == id) else {
            return;
        };
        let op = &mut self.pending[i];
        op.heard = bit(me);
        match op.version.filter(|_| op.storing) {
            Some(version) => {
                for peer in ctx.peers() {
                    ctx.send(peer, Message::Put { op: id, key, version });
                }
                self.apply(key, version, ctx);
            }
            None => {
                let mine = self.stable.data.get(&key).copied();
                let op = &mut self.pending[i];
                op.stamps[usize::from(me) - 1] = mine.map(|v| v.stamp);
                op.best = mine;
                for peer in ctx.peers() {
                    ctx.send(peer, Message::Get { op: id, key });
                }
            }
        }
    }

    pub fn on_message(&mut self, from: NodeId, msg: Message, p: &CapParams, ctx: &mut Ctx<Message>) {
        match msg {
            Message::Get { op, key } => {
                let version = self.stable.data.get(&key).copied();
                ctx.send(from, Message::Got { op, key, version });
            }
            Message::Put { op, key, version } => {
                self.apply(key, version, ctx);
                ctx.send(
                    from,
                    Message::PutAck {
                        op,
                        key,
                        stamp: version.stamp,
                    },
                );
            }
            Message::Got { op, version, .. } => {
                if let Some(o) = self.pending.iter_mut().find(|o| o.id == op && !o.storing) {
                    o.heard |= bit(from);
                    o.stamps[usize::from(from).min(9) - 1] = version.map(|v| v.stamp);
                    if version.map(|v| v.stamp) > o.best.map(|v| v.stamp) {
                        o.best = version;
                    }
                    self.progress(op, p, ctx);
                }
            }
            Message::PutAck { op, key, stamp } => {
                self.hints
                    .retain(|&(node, k, v)| !(node == from && k == key && v.stamp <= stamp));
                if let Some(o) = self.pending.iter_mut().find(|o| o.id == op && o.storing) {
                    o.heard |= bit(from);
                    self.progress(op, p, ctx);
                }
            }
            _ => {}
        }
        self.rearm(ctx);
    }

    /// Moves op `id` on if its phase has its quorum.
    fn progress(&mut self, id: u64, p: &CapParams, ctx: &mut Ctx<Message>) {
        let n = ctx.cluster_size();
        let Some(i) = self.pending.iter().position(|o| o.id == id) else {
            return;
        };
        let op = &self.pending[i];
        let need = quorum(if op.storing { p.w } else { p.r }, n);
        if op.heard.count_ones() < need {
            return;
        }
        let op = self.pending[i].clone();
        let key = op.req.op.key();
        match (op.storing, op.req.op) {
            (false, Op::Write { value, .. }) => {
                // CP: the next timestamp after the highest a read quorum holds, and after
                // every one this node has handed out: two writes it runs at once must not
                // share one.
                let counter = op.best.map_or(0, |v| v.stamp.counter).max(self.stable.last_counter) + 1;
                self.stable.last_counter = counter;
                let version = self.new_version(key, value, counter, ctx.id());
                let o = &mut self.pending[i];
                o.version = Some(version);
                o.storing = true;
                self.broadcast(id, key, ctx);
                self.progress(id, p, ctx);
            }
            (false, _) if p.mode == Mode::Cp && p.read_repair && op.best.is_some() => {
                // CP: the newest version goes back to a write quorum before the answer.
                let o = &mut self.pending[i];
                o.version = o.best;
                o.storing = true;
                self.broadcast(id, key, ctx);
                self.progress(id, p, ctx);
            }
            (false, _) => self.finish(i, p, ctx),
            (true, _) => self.finish(i, p, ctx),
        }
    }

    /// Answers op `pending[i]` (it has its quorum, or AP stops waiting) and drops it.
    fn finish(&mut self, i: usize, p: &CapParams, ctx: &mut Ctx<Message>) {
        let op = self.pending.swap_remove(i);
        let key = op.req.op.key();
        let value = match op.req.op {
            Op::Read { .. } => op.best.map(|v| v.value),
            _ => None,
        };
        if !op.storing && p.mode == Mode::Ap && p.read_repair {
            // AP: after the answer, the replicas that answered with an older version get the newest.
            if let Some(best) = op.best {
                for peer in ctx.peers() {
                    let k = usize::from(peer) - 1;
                    if op.heard & bit(peer) != 0 && op.stamps[k] < Some(best.stamp) {
                        ctx.send(
                            peer,
                            Message::Put {
                                op: u64::MAX,
                                key,
                                version: best,
                            },
                        );
                    }
                }
            }
        }
        if let (true, Some(version)) = (op.storing, op.version) {
            if matches!(op.req.op, Op::Write { .. }) && p.mode == Mode::Ap {
                ctx.note(Note::Fact(Fact {
                    what: WRITE_ACKED,
                    value: version.stamp.packed(),
                }));
            }
            self.hint(&op, key, version, p, ctx);
        }
        ctx.note(Note::Fact(Fact {
            what: ANSWERED,
            value: i64::from(op.req.client),
        }));
        ctx.reply(op.req, ClientReply::Ok { value });
    }

    /// Keeps the write of `op` for every replica that has not acknowledged it.
    fn hint(&mut self, op: &Pending, key: Key, version: Version, p: &CapParams, ctx: &mut Ctx<Message>) {
        if !p.hinted_handoff {
            return;
        }
        for peer in ctx.peers().filter(|&peer| op.heard & bit(peer) == 0) {
            match self.hints.iter_mut().find(|(n, k, _)| *n == peer && *k == key) {
                Some(h) if h.2.stamp < version.stamp => h.2 = version,
                Some(_) => {}
                None => self.hints.push((peer, key, version)),
            }
        }
        if !self.hints.is_empty() && self.hint_due.is_none() {
            self.hint_due = Some(ctx.local_now_us() + HINT_RETRY_US);
        }
    }

    /// A replica stores `incoming` if its timestamp is higher (last writer wins).
    fn apply(&mut self, key: Key, incoming: Version, ctx: &mut Ctx<Message>) {
        let merged = |a: &Version, b: &Version| {
            let mut seen = a.seen;
            seen.iter_mut().zip(b.seen).for_each(|(s, o)| *s = (*s).max(o));
            seen
        };
        let discarded = match self.stable.data.get_mut(&key) {
            None => {
                self.stable.data.insert(key, incoming);
                None
            }
            Some(local) if incoming.stamp > local.stamp => {
                let lost = (!incoming.descends(local)).then_some(*local);
                let seen = merged(local, &incoming);
                *local = Version { seen, ..incoming };
                lost
            }
            Some(local) if incoming.stamp < local.stamp => {
                let lost = (!local.descends(&incoming)).then_some(incoming);
                local.seen = merged(local, &incoming);
                lost
            }
            Some(_) => None,
        };
        if let Some(version) = discarded {
            ctx.note(Note::Fact(Fact {
                what: DISCARDED,
                value: version.stamp.packed(),
            }));
            if self.discarded.len() == DISCARDED_KEPT {
                self.discarded.remove(0);
            }
            self.discarded.push((key, version));
        }
    }

    /// The deadline timer fired: refuse (CP) or answer with what there is (AP), and resend hints.
    pub fn on_deadline(&mut self, p: &CapParams, ctx: &mut Ctx<Message>) {
        let now = ctx.local_now_us();
        self.armed = None;
        while let Some(i) = self.pending.iter().position(|o| o.deadline <= now) {
            if p.mode == Mode::Ap {
                self.finish(i, p, ctx);
            } else {
                let op = self.pending.swap_remove(i);
                if let (true, Some(version)) = (op.storing, op.version) {
                    self.hint(&op, op.req.op.key(), version, p, ctx);
                }
                ctx.note(Note::Fact(Fact {
                    what: REFUSED,
                    value: i64::from(op.req.client),
                }));
                ctx.reply(op.req, ClientReply::Unavailable);
            }
        }
        if self.hint_due.is_some_and(|due| due <= now) {
            self.hint_due = None;
            for &(peer, key, version) in &self.hints {
                ctx.send(
                    peer,
                    Message::Put {
                        op: u64::MAX,
                        key,
                        version,
                    },
                );
            }
            if !self.hints.is_empty() {
                self.hint_due = Some(now + HINT_RETRY_US);
            }
        }
        self.rearm(ctx);
    }

    /// Sets the deadline timer for the earliest op deadline or hint retry.
    fn rearm(&mut self, ctx: &mut Ctx<Message>) {
        if self.hints.is_empty() {
            self.hint_due = None;
        }
        let next = self.pending.iter().map(|o| o.deadline).chain(self.hint_due).min();
        if next != self.armed {
            self.armed = next;
            match next {
                Some(at) => ctx.set_timer(DEADLINE_TIMER, at.saturating_sub(ctx.local_now_us()).max(1)),
                None => ctx.cancel_timer(DEADLINE_TIMER),
            }
        }
    }

    /// `k1=5@12.3 k2=7@20.1`: each key's value and stamp.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (key, v) in self.stable.data.iter() {
            let _ = write!(out, "k{key}={}@{} ", v.value, v.stamp);
        }
        if !self.pending.is_empty() {
            let _ = write!(out, "ops={} ", self.pending.len());
        }
        if !self.hints.is_empty() {
            let _ = write!(out, "hints={}", self.hints.len());
        }
        out.trim_end().to_string()
    }
}
