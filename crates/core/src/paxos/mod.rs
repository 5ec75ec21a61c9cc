//! Paxos: choosing one value, then a log of them (Lamport, "Paxos Made Simple", 2001).
//!
//! Three roles play together. *Proposers* put values forward, *acceptors* vote on them, and
//! *learners* find out what was chosen. A value is **chosen** once a majority of acceptors
//! have accepted the same proposal; any two majorities share an acceptor, and that shared
//! acceptor is what keeps two different values from ever being chosen (section 2.2). Here
//! every node is an acceptor and a learner, and every node may propose unless the
//! `proposers` parameter names fewer.
//!
//! **Ballots.** A proposal carries a number, its ballot, written `round.node` (`3.1`): rounds
//! are compared first, node ids break ties, so two proposers never issue the same number
//! ("different proposers choose their numbers from disjoint sets", section 2.5). A proposer
//! keeps the highest round it used on stable storage and always starts above every round it
//! has seen.
//!
//! **Phase 1** (prepare and promise). A proposer picks a ballot `n` and sends `Prepare(n)`. An
//! acceptor that has promised nothing higher promises to accept nothing numbered below `n`
//! and reports the highest-numbered proposal it has accepted. With promises from a majority,
//! the proposer knows every value that could already be chosen: it **must** propose the value
//! of the highest-numbered accepted proposal among them, and only when none reported one may
//! it propose a value of its own (P2c, the heart of the algorithm).
//!
//! **Phase 2** (accept and accepted). The proposer sends `Accept(n, v)`; an acceptor accepts
//! unless it has since promised a higher ballot (P1a). Either phase refused by a higher
//! promise gets a `Nack` naming that promise; the proposer abandons the ballot and later
//! retries with a higher one. So does a proposer that hears from no majority within a timeout.
//!
//! **Learning** (section 2.3). The paper offers two designs and this module shows both. In
//! single-decree mode every acceptor that accepts tells every learner (`Accepted` to all), and
//! a learner learns a value once a majority accepted it in one ballot: the most messages, the
//! fastest learning. In Multi-Paxos the acceptors answer the leader alone, the leader learns
//! and tells the others (`Chosen`), and a learner that missed a `Chosen` asks for what it
//! lacks (`CatchUp`) when a heartbeat shows it is behind.
//!
//! **Progress** (section 2.4). Safety never depends on timing, but progress does. Two
//! proposers can preempt each other forever: each one's Prepare lands between the other's
//! promises and its Accept. With a fixed retry delay (`set backoff fixed`) and equal
//! latencies, two proposers that start together stay in step and the ballots climb for the
//! whole run; a randomized, growing back-off (`set backoff random`, the default) breaks the
//! symmetry, and a distinguished proposer (`set leader on`) removes the contest: proposers
//! elect a leader by randomized timeouts and heartbeats, the way Raft does, and only the
//! leader proposes.
//!
//! **Multi-Paxos** (section 3, `set mode multi`). The cluster chooses a sequence of commands,
//! one per slot, and every node applies the chosen prefix in slot order to its copy of the
//! key-value store ([`crate::kv`]). A node whose election timer runs out becomes a candidate:
//! it runs phase 1 *once for every slot* from its first unlearned one, with a ballot above any
//! it has seen. With a majority of promises it leads: for each slot the promises report, it
//! re-proposes the highest-numbered accepted value, and it fills the slots nobody reported
//! (gaps) with no-ops, so that the log has no holes; then it runs only phase 2 per new command
//! and sends heartbeats. A higher ballot anywhere makes it step down. Clients that ask another
//! node are redirected to the leader it knows; a leader that steps down sends the clients it
//! owed to the leader it knows. Requests carry `(client, seq)` and the state machine applies
//! each at most once, so retries are safe; reads are commands in the log, hence linearizable.
//!
//! **Single-decree** (`set mode single`, the default) chooses one value, in slot 1: the first
//! client operation that wins. Every request after the decision is answered from the decided
//! state: a read sees it, a write or compare-and-set is refused (`CasFailed`: it did not and
//! never will take effect, because the decree is taken).
//!
//! **Persistence** (section 2.5). Acceptor state (the promise, and per slot the accepted
//! ballot and value), the proposer's highest round and what the learner learned survive a
//! crash; everything else is rebuilt. The broken variants ([`Variant`]) each bend one rule so
//! that the [`PaxosMonitor`] has something to catch.
//!
//! The engine's notes map as follows: `Append {index: slot, term: round}` when this node's
//! acceptor accepts a proposal in a slot, `Commit {index: slot}` when its learner learns the
//! slot's value (not a prefix: slots may be learned out of order), `Apply` in slot order.
//! `role()` is Candidate during phase 1, Leader once phase 1 succeeded (the leader of its
//! ballot), Follower otherwise; `term()` is the highest ballot round the node knows of.

pub mod acceptor;
pub mod monitor;
pub mod params;

#[cfg(test)]
mod tests;

pub use acceptor::Acceptor;
pub use monitor::PaxosMonitor;
pub use params::{Backoff, Mode, PaxosParams, Variant};

use crate::NodeId;
use crate::chunked::{Chunked, SlotMap};
pub use crate::kv::Command;
use crate::kv::{KvStore, Seen};
use crate::protocol::{
    ClientReply, ClientRequest, Ctx, MsgFamily, MsgShape, MsgStyle, Note, Op, Protocol, Role, Scenario, TimerInfo,
    TimerKind,
};
use crate::trace::write_elided;
use crate::vecmap::VecMap;
use std::fmt;

/// A position in the sequence of chosen values; single-decree Paxos uses slot 1 only.
pub type Slot = u64;

/// A Multi-Paxos follower's election timer; a candidate's too (it campaigns again when it
/// runs out).
pub const ELECTION_TIMER: TimerKind = 0;
/// The leader's heartbeat timer.
pub const HEARTBEAT_TIMER: TimerKind = 1;
/// A proposer without a leader: its phase timeout and its back-off.
pub const RETRY_TIMER: TimerKind = 2;

/// At most this many chosen values travel in one `Chosen`, and at most this many proposals
/// are sent again per heartbeat, so that repair takes bounded messages.
pub const MAX_BATCH: usize = 64;

/// A proposal number: `round.node`, ordered by round, then node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ballot {
    pub round: u64,
    pub node: NodeId,
}

impl Ballot {
    /// Below every ballot a proposer issues: nothing promised, nothing accepted.
    pub const ZERO: Ballot = Ballot { round: 0, node: 0 };
    /// Above every ballot.
    pub const MAX: Ballot = Ballot {
        round: u64::MAX,
        node: NodeId::MAX,
    };
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.round, self.node)
    }
}

/// A value as messages print it: the operation alone (`write k1 5`), or `noop`.
struct Short<'a>(&'a Command);

impl fmt::Display for Short<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Command::Noop => f.write_str("noop"),
            Command::Client(req) => write!(f, "{}", req.op),
        }
    }
}

/// Proposals as `slot@ballot:value`, separated by commas, eliding the middle of long lists (a
/// trace line is one line).
struct Proposals<'a>(&'a [(Slot, Ballot, Command)]);

impl fmt::Display for Proposals<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_elided(f, self.0, ", ", |f, _, (slot, ballot, value)| {
            write!(f, "{slot}@{ballot}:{}", Short(value))
        })
    }
}

/// A message between Paxos nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Phase 1a: a proposer asks the acceptors to promise `ballot` for every slot from
    /// `from_slot` on (1 in single-decree mode; a Multi-Paxos candidate's first unlearned slot).
    Prepare { ballot: Ballot, from_slot: Slot },
    /// Phase 1b: the acceptor promises to accept nothing numbered below `ballot`, and reports
    /// every proposal it has accepted in the slots asked about, as `(slot, ballot, value)`.
    Promise {
        ballot: Ballot,
        accepted: Vec<(Slot, Ballot, Command)>,
    },
    /// Phase 2a: the proposer of `ballot` asks the acceptors to accept `value` in `slot`.
    Accept { ballot: Ballot, slot: Slot, value: Command },
    /// Phase 2b: the sender accepted `value` in `slot` under `ballot`. In single-decree mode
    /// every learner gets one; in Multi-Paxos only the proposer of `ballot` does.
    Accepted { ballot: Ballot, slot: Slot, value: Command },
    /// A refusal of a Prepare, an Accept or a Heartbeat of `ballot`: the acceptor has promised
    /// `promised`, which is higher. The proposer abandons `ballot`.
    Nack { ballot: Ballot, promised: Ballot },
    /// The leader of `ballot` is alive, and has learned every slot up to `chosen`. A node
    /// that promised a higher ballot answers with a Nack, which deposes a stale leader.
    Heartbeat { ballot: Ballot, chosen: Slot },
    /// A learner that is behind asks for the chosen values from `from_slot` on.
    CatchUp { from_slot: Slot },
    /// Chosen values, as `(slot, ballot learned in, value)`: a leader tells every learner each
    /// value it learns, and answers a CatchUp with up to [`MAX_BATCH`] of them.
    Chosen { entries: Vec<(Slot, Ballot, Command)> },
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Prepare { ballot, from_slot } => {
                write!(f, "Prepare b={ballot}")?;
                if *from_slot > 1 {
                    write!(f, " from={from_slot}")?;
                }
                Ok(())
            }
            Message::Promise { ballot, accepted } => {
                write!(f, "Promise b={ballot} accepted=[{}]", Proposals(accepted))
            }
            Message::Accept { ballot, slot, value } => write!(f, "Accept b={ballot} slot={slot} {}", Short(value)),
            Message::Accepted { ballot, slot, value } => {
                write!(f, "Accepted b={ballot} slot={slot} {}", Short(value))
            }
            Message::Nack { ballot, promised } => write!(f, "Nack b={ballot} promised={promised}"),
            Message::Heartbeat { ballot, chosen } => write!(f, "Heartbeat b={ballot} chosen={chosen}"),
            Message::CatchUp { from_slot } => write!(f, "CatchUp from={from_slot}"),
            Message::Chosen { entries } => {
                write!(f, "Chosen [{}]", Proposals(entries))
            }
        }
    }
}

/// What survives a crash (section 2.5).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stable {
    /// The acceptor's promise and accepted proposals.
    pub acceptor: Acceptor,
    /// The highest round this node's proposer has used.
    pub round: u64,
    /// What the learner learned, per slot, with the ballot it learned it in.
    pub learned: SlotMap<(Ballot, Command)>,
}

/// Where a node's proposer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not proposing: a follower, or a proposer with nothing to propose.
    Idle,
    /// Preempted, waiting out its back-off before a new ballot (no leader only).
    Backoff,
    /// Phase 1: Prepare sent, collecting promises.
    Preparing,
    /// Phase 1 succeeded: proposing in phase 2. With a leader, this is the leader.
    Accepting,
}

/// One Paxos node: proposer, acceptor and learner.
#[derive(Clone, Debug)]
pub struct Paxos {
    id: NodeId,
    n: u8,
    params: PaxosParams,

    // Persistent.
    acceptor: Acceptor,
    round: u64,
    learned: SlotMap<(Ballot, Command)>,

    // The proposer.
    phase: Phase,
    /// The ballot of its current (or last) proposal.
    ballot: Ballot,
    /// The highest round seen in any message: the next ballot goes above it.
    max_seen: u64,
    /// Phase 1: who promised `ballot`, as a bit set (bit `id`).
    promises: u16,
    /// Phase 1: the first slot asked about, and per slot the highest-numbered proposal the
    /// promises reported.
    from_slot: Slot,
    prepared: VecMap<Slot, (Ballot, Command)>,
    /// Phase 2: the values proposed under `ballot` and not learned yet, with the local time
    /// their Accept was last sent.
    proposals: VecMap<Slot, (Command, u64)>,
    /// A leader's next free slot (Multi-Paxos).
    next_slot: Slot,
    /// No leader: the value this proposer wants chosen (its first waiting client's).
    own_value: Option<Command>,
    /// No leader: preemptions in a row, for the growing random back-off.
    preemptions: u32,
    /// The leader this node knows of, for redirecting clients.
    leader: Option<NodeId>,
    /// What the leader's last heartbeat said it had learned.
    leader_chosen: Slot,
    /// Local time at which the election timer fires, while one is set (for the stage).
    election_deadline_us: Option<u64>,

    // The learner.
    /// Accepted messages counted, per (slot, ballot): the value and who accepted it.
    tally: VecMap<(Slot, Ballot), (Command, u16)>,
    /// Slots applied to `kv`, in order, from 1.
    applied: Slot,
    kv: KvStore,

    // Clients.
    /// Multi-Paxos: requests this leader will answer once their slot is applied.
    pending: VecMap<Slot, ClientRequest>,
    /// Single-decree: requests waiting for the decree.
    waiting: Vec<ClientRequest>,
    /// Every client request this node took on as a proposer, in order (for Validity).
    taken: Chunked<ClientRequest>,
    /// The (role, term) last announced with a `Note::Role`.
    noted: (Role, u64),
}

fn bit(id: NodeId) -> u16 {
    if id < 16 { 1 << id } else { 0 }
}

/// The smallest number of nodes out of `n` that make a majority: any two such sets share a node.
pub(crate) fn quorum(n: u8) -> u32 {
    u32::from(n) / 2 + 1
}

impl Paxos {
    fn new(id: NodeId, n: u8, params: &PaxosParams, stable: Stable) -> Self {
        let max_seen = stable
            .acceptor
            .accepted
            .values()
            .map(|(b, _)| b.round)
            .chain([stable.acceptor.promised.round, stable.round])
            .max()
            .unwrap_or(0);
        Paxos {
            id,
            n,
            params: params.clone(),
            acceptor: stable.acceptor,
            round: stable.round,
            learned: stable.learned,
            phase: Phase::Idle,
            ballot: Ballot::ZERO,
            max_seen,
            promises: 0,
            from_slot: 1,
            prepared: VecMap::new(),
            proposals: VecMap::new(),
            next_slot: 1,
            own_value: None,
            preemptions: 0,
            leader: None,
            leader_chosen: 0,
            election_deadline_us: None,
            tally: VecMap::new(),
            applied: 0,
            kv: KvStore::default(),
            pending: VecMap::new(),
            waiting: Vec::new(),
            taken: Chunked::new(),
            noted: (Role::FOLLOWER, max_seen),
        }
    }

    // ----- Read-only views for the stage, the panels and the checkers. -----

    pub fn id(&self) -> NodeId {
        self.id
    }
    pub fn params(&self) -> &PaxosParams {
        &self.params
    }
    pub fn mode(&self) -> Mode {
        self.params.mode
    }
    /// The acceptor's promise: the highest ballot it answered a Prepare of or accepted in.
    pub fn promised(&self) -> Ballot {
        self.acceptor.promised
    }
    /// The acceptor's accepted proposal in `slot`, if any.
    pub fn accepted(&self, slot: Slot) -> Option<(Ballot, Command)> {
        self.acceptor.accepted.get(slot).copied()
    }
    /// Every accepted proposal, by slot.
    pub fn accepted_all(&self) -> &SlotMap<(Ballot, Command)> {
        &self.acceptor.accepted
    }
    /// The value this node's learner learned in `slot`, with the ballot it learned it in.
    pub fn learned(&self, slot: Slot) -> Option<(Ballot, Command)> {
        self.learned.get(slot).copied()
    }
    /// Every learned value, by slot.
    pub fn learned_all(&self) -> &SlotMap<(Ballot, Command)> {
        &self.learned
    }
    /// The last slot of the learned prefix: every slot up to it is learned.
    pub fn chosen_prefix(&self) -> Slot {
        self.applied
    }
    /// Slots applied to the key-value store, in order from 1.
    pub fn last_applied(&self) -> Slot {
        self.applied
    }
    /// Where the proposer stands.
    pub fn phase(&self) -> Phase {
        self.phase
    }
    /// The ballot of the current (or last) proposal of this node; zero before its first.
    pub fn ballot(&self) -> Ballot {
        self.ballot
    }
    /// The nodes that promised the current ballot, itself included, while in phase 1.
    pub fn promises(&self) -> Vec<NodeId> {
        if self.phase == Phase::Preparing {
            (1..=self.n).filter(|&p| self.promises & bit(p) != 0).collect()
        } else {
            Vec::new()
        }
    }
    /// The values proposed under the current ballot and not learned yet, by slot.
    pub fn proposals(&self) -> Vec<(Slot, Command)> {
        self.proposals.iter().map(|(&s, &(v, _))| (s, v)).collect()
    }
    /// Who has accepted the proposal of `ballot` in `slot`, as far as this learner heard.
    pub fn accepted_by(&self, slot: Slot, ballot: Ballot) -> Vec<NodeId> {
        let bits = self.tally.get(&(slot, ballot)).map_or(0, |t| t.1);
        (1..=self.n).filter(|&p| bits & bit(p) != 0).collect()
    }
    /// The leader this node knows of (itself when leading).
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }
    /// The local time (node clock, microseconds) at which the election timer fires, if set.
    pub fn election_deadline_us(&self) -> Option<u64> {
        self.election_deadline_us
    }
    /// The replicated key-value map as this node has applied it.
    pub fn kv(&self) -> &KvStore {
        &self.kv
    }
    /// Multi-Paxos: client requests this leader will answer once applied, by slot.
    pub fn pending(&self) -> &VecMap<Slot, ClientRequest> {
        &self.pending
    }
    /// Single-decree: client requests waiting for the decree.
    pub fn waiting(&self) -> &[ClientRequest] {
        &self.waiting
    }
    /// Every client request this node has taken on as a proposer since it started, in order.
    /// The Validity checker reads it: a client value is valid only if some proposer took it.
    pub fn taken(&self) -> &Chunked<ClientRequest> {
        &self.taken
    }

    // ----- Bookkeeping. -----

    fn quorum(&self) -> u32 {
        quorum(self.n)
    }

    fn peers(&self) -> impl Iterator<Item = NodeId> + use<> {
        let me = self.id;
        (1..=self.n).filter(move |&p| p != me)
    }

    fn is_proposer(&self) -> bool {
        self.params.is_proposer(self.id)
    }

    fn single(&self) -> bool {
        self.params.mode == Mode::Single
    }

    /// A slot this mode has: slot 1 in single-decree mode, any slot from 1 in Multi-Paxos.
    fn valid_slot(&self, slot: Slot) -> bool {
        slot >= 1 && (!self.single() || slot == 1)
    }

    fn term_now(&self) -> u64 {
        self.acceptor.promised.round.max(self.ballot.round).max(self.max_seen)
    }

    /// Announces the role and term if either changed since the last announcement.
    fn note_role(&mut self, ctx: &mut Ctx<Message>) {
        let now = (self.role(), self.term_now());
        if now != self.noted {
            self.noted = now;
            ctx.note(Note::Role {
                role: now.0,
                term: now.1,
            });
        }
    }

    fn see(&mut self, ballot: Ballot) {
        self.max_seen = self.max_seen.max(ballot.round);
    }

    /// A ballot above every round this node has used or seen (section 2.5).
    fn next_ballot(&mut self) -> Ballot {
        let round = self
            .round
            .max(self.max_seen)
            .max(self.acceptor.promised.round)
            .saturating_add(1);
        self.round = round;
        self.max_seen = round;
        Ballot { round, node: self.id }
    }

    fn reset_election_timer(&mut self, ctx: &mut Ctx<Message>) {
        if !(self.params.has_leader() && self.is_proposer()) {
            return;
        }
        let (lo, hi) = (self.params.election_timeout_us_min, self.params.election_timeout_us_max);
        let after = ctx.rng().range_inclusive(lo, hi);
        ctx.set_timer(ELECTION_TIMER, after);
        self.election_deadline_us = Some(ctx.local_now_us().saturating_add(after));
    }

    /// The first proposer by id, as a hint for a client that asked a node that cannot propose.
    fn some_proposer(&self) -> Option<NodeId> {
        (1..=self.n).find(|&p| self.params.is_proposer(p))
    }

    /// The learner's first unlearned slot.
    fn first_unlearned(&self) -> Slot {
        let mut slot = self.applied + 1;
        while self.learned.contains_key(slot) {
            slot += 1;
        }
        slot
    }

    // ----- The acceptor's side. -----

    /// This node's acceptor takes an Accept; on success it tells the learners: every node in
    /// single-decree mode, the proposer alone in Multi-Paxos.
    fn accept_here(
        &mut self,
        ballot: Ballot,
        slot: Slot,
        value: Command,
        ctx: &mut Ctx<Message>,
    ) -> Result<(), Ballot> {
        let lower_ok = self.params.variant == Variant::AcceptLowerBallot;
        self.acceptor.accept(ballot, slot, value, lower_ok)?;
        ctx.note(Note::Append {
            index: slot,
            term: ballot.round,
        });
        let accepted = Message::Accepted { ballot, slot, value };
        if self.single() {
            for p in self.peers() {
                ctx.send(p, accepted.clone());
            }
            self.on_accepted(self.id, ballot, slot, value, ctx);
        } else if ballot.node == self.id {
            self.on_accepted(self.id, ballot, slot, value, ctx);
        } else {
            ctx.send(ballot.node, accepted);
        }
        Ok(())
    }

    fn on_prepare(&mut self, from: NodeId, ballot: Ballot, from_slot: Slot, ctx: &mut Ctx<Message>) {
        let from_slot = if self.single() { 1 } else { from_slot.max(1) };
        match self.acceptor.prepare(ballot, from_slot) {
            Ok(accepted) => {
                ctx.send(from, Message::Promise { ballot, accepted });
                self.rival(ballot, ctx);
                if self.params.has_leader() {
                    // Our acceptor will refuse our own lower ballot from now on: a leader or
                    // candidate of a lower ballot is beaten.
                    if self.phase != Phase::Idle && self.ballot < ballot {
                        self.step_down(None, ctx);
                    }
                    if self.leader.is_some_and(|l| l != ballot.node) {
                        self.leader = None;
                    }
                    // Like a Raft vote, a promise gives the candidate time to finish.
                    if self.phase == Phase::Idle {
                        self.reset_election_timer(ctx);
                    }
                }
            }
            Err(promised) => ctx.send(from, Message::Nack { ballot, promised }),
        }
        self.note_role(ctx);
    }

    fn on_accept(&mut self, from: NodeId, ballot: Ballot, slot: Slot, value: Command, ctx: &mut Ctx<Message>) {
        if !self.valid_slot(slot) {
            return;
        }
        match self.accept_here(ballot, slot, value, ctx) {
            Ok(()) => {
                self.rival(ballot, ctx);
                if self.params.has_leader() && ballot >= self.acceptor.promised {
                    self.follow(from, ballot, ctx);
                }
            }
            Err(promised) => ctx.send(from, Message::Nack { ballot, promised }),
        }
        self.note_role(ctx);
    }

    fn on_heartbeat(&mut self, from: NodeId, ballot: Ballot, chosen: Slot, ctx: &mut Ctx<Message>) {
        if ballot < self.acceptor.promised {
            let promised = self.acceptor.promised;
            ctx.send(from, Message::Nack { ballot, promised });
            return;
        }
        self.follow(from, ballot, ctx);
        // Ask only for what was chosen a heartbeat ago: what was chosen since is most likely
        // on its way in a Chosen.
        let due = self.leader_chosen;
        self.leader_chosen = self.leader_chosen.max(chosen);
        let first = self.first_unlearned();
        if first <= due {
            ctx.send(from, Message::CatchUp { from_slot: first });
        }
        self.note_role(ctx);
    }

    /// A message from the leader of `ballot`, at least as high as our promise: follow it.
    fn follow(&mut self, leader: NodeId, ballot: Ballot, ctx: &mut Ctx<Message>) {
        if self.phase != Phase::Idle && self.ballot < ballot {
            self.step_down(Some(leader), ctx);
        }
        if self.phase == Phase::Idle {
            self.leader = Some(leader);
            self.reset_election_timer(ctx);
        }
    }

    // ----- The learner's side. -----

    /// An acceptor (`from`, possibly this node) accepted `value` in `slot` under `ballot`.
    fn on_accepted(&mut self, from: NodeId, ballot: Ballot, slot: Slot, value: Command, ctx: &mut Ctx<Message>) {
        if !self.valid_slot(slot) || self.learned.contains_key(slot) {
            return;
        }
        let quorum = self.quorum();
        let entry = self.tally.get_or_insert((slot, ballot), (value, 0));
        entry.1 |= bit(from);
        if entry.1.count_ones() >= quorum {
            let value = entry.0;
            self.learn(slot, ballot, value, ctx);
            self.after_learning(ctx);
        }
    }

    /// The learner learns `value` in `slot`. A Multi-Paxos leader tells everyone.
    fn learn(&mut self, slot: Slot, ballot: Ballot, value: Command, ctx: &mut Ctx<Message>) {
        if self.learned.contains_key(slot) {
            return;
        }
        self.learned.insert(slot, (ballot, value));
        ctx.note(Note::Commit { index: slot });
        self.tally.retain(|&(s, _), _| s != slot);
        self.proposals.remove(&slot);
        if !self.single() && self.phase == Phase::Accepting {
            let chosen = Message::Chosen {
                entries: vec![(slot, ballot, value)],
            };
            for p in self.peers() {
                ctx.send(p, chosen.clone());
            }
        }
    }

    fn on_chosen(&mut self, from: NodeId, entries: Vec<(Slot, Ballot, Command)>, ctx: &mut Ctx<Message>) {
        let full = entries.len() >= MAX_BATCH;
        for (slot, ballot, value) in entries {
            if self.valid_slot(slot) {
                self.learn(slot, ballot, value, ctx);
            }
        }
        self.after_learning(ctx);
        let first = self.first_unlearned();
        if full && first <= self.leader_chosen {
            ctx.send(from, Message::CatchUp { from_slot: first });
        }
    }

    fn on_catch_up(&mut self, from: NodeId, from_slot: Slot, ctx: &mut Ctx<Message>) {
        let entries: Vec<(Slot, Ballot, Command)> = self
            .learned
            .iter_from(from_slot)
            .take(MAX_BATCH)
            .map(|(s, &(b, v))| (s, b, v))
            .collect();
        if !entries.is_empty() {
            ctx.send(from, Message::Chosen { entries });
        }
    }

    /// Applies what was learned, in slot order, and answers the clients it settles.
    fn after_learning(&mut self, ctx: &mut Ctx<Message>) {
        self.apply_learned(ctx);
        if self.single() && self.applied >= 1 {
            for req in std::mem::take(&mut self.waiting) {
                self.answer_decided(req, ctx);
            }
            self.own_value = None;
            self.preemptions = 0;
            if !self.params.has_leader() && self.phase != Phase::Idle {
                // The decree is known: nothing is left to propose.
                self.phase = Phase::Idle;
                ctx.cancel_timer(RETRY_TIMER);
                self.note_role(ctx);
            }
        }
    }

    fn apply_learned(&mut self, ctx: &mut Ctx<Message>) {
        while let Some(&(ballot, value)) = self.learned.get(self.applied + 1) {
            self.applied += 1;
            let slot = self.applied;
            let reply = match &value {
                Command::Noop => None,
                Command::Client(req) => self.kv.apply(req),
            };
            ctx.note(Note::Apply {
                index: slot,
                term: ballot.round,
            });
            let Some(waiting) = self.pending.remove(&slot) else {
                continue;
            };
            match (value, reply) {
                (Command::Client(req), Some(reply)) if (req.client, req.seq) == (waiting.client, waiting.seq) => {
                    ctx.reply(waiting, reply);
                }
                // Another value was chosen in the slot this request waited on: propose it
                // again, or answer it from the session if it was applied elsewhere.
                _ => self.take_request(waiting, ctx),
            }
        }
    }

    /// Single-decree: answers a request once the decree is applied. The decree's own request
    /// gets its reply from the session; a read sees the decided state; a write or
    /// compare-and-set never takes effect, because the decree is taken.
    fn answer_decided(&mut self, req: ClientRequest, ctx: &mut Ctx<Message>) {
        let reply = match self.kv.seen(&req) {
            Seen::Applied(reply) => reply,
            Seen::Stale => return,
            Seen::New => match req.op {
                Op::Read { key } => ClientReply::Ok {
                    value: self.kv.get(key),
                },
                Op::Write { key, .. } | Op::Cas { key, .. } => ClientReply::CasFailed {
                    current: self.kv.get(key),
                },
            },
        };
        ctx.reply(req, reply);
    }

    // ----- The proposer's side. -----

    /// Phase 1a with a new ballot: a Multi-Paxos candidate, or a proposer without a leader.
    fn start_ballot(&mut self, ctx: &mut Ctx<Message>) {
        self.ballot = self.next_ballot();
        self.phase = Phase::Preparing;
        self.promises = 0;
        self.prepared.clear();
        self.proposals.clear();
        self.from_slot = if self.single() { 1 } else { self.first_unlearned() };
        if self.params.has_leader() {
            self.leader = None;
            self.reset_election_timer(ctx);
        } else {
            ctx.set_timer(RETRY_TIMER, self.params.phase_timeout_us);
        }
        // Our own acceptor promises first: the ballot is above anything it promised.
        let (ballot, from_slot) = (self.ballot, self.from_slot);
        if let Ok(accepted) = self.acceptor.prepare(ballot, from_slot) {
            self.note_role(ctx);
            for p in self.peers() {
                ctx.send(p, Message::Prepare { ballot, from_slot });
            }
            self.on_promise(self.id, ballot, accepted, ctx);
        }
    }

    fn on_promise(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        accepted: Vec<(Slot, Ballot, Command)>,
        ctx: &mut Ctx<Message>,
    ) {
        if self.phase != Phase::Preparing || ballot != self.ballot {
            return;
        }
        self.promises |= bit(from);
        for (slot, b, value) in accepted {
            if slot < self.from_slot || !self.valid_slot(slot) {
                continue;
            }
            match self.prepared.get(&slot) {
                Some(&(have, _)) if have >= b => {}
                _ => {
                    self.prepared.insert(slot, (b, value));
                }
            }
        }
        if self.promises.count_ones() >= self.quorum() {
            self.phase_one_done(ctx);
        }
    }

    /// Phase 2a: a majority promised. Propose, in each slot, the value of the highest-numbered
    /// proposal the promises reported, or a value of our own where none did (P2c).
    fn phase_one_done(&mut self, ctx: &mut Ctx<Message>) {
        self.phase = Phase::Accepting;
        if self.params.variant == Variant::IgnorePromisedValues {
            // The bug: what the acceptors reported is dropped, so a chosen value can be lost.
            self.prepared.clear();
        }
        let prepared = std::mem::take(&mut self.prepared);
        if self.params.has_leader() {
            self.leader = Some(self.id);
            self.election_deadline_us = None;
            ctx.cancel_timer(ELECTION_TIMER);
            ctx.set_timer(HEARTBEAT_TIMER, self.params.heartbeat_us);
        } else {
            ctx.set_timer(RETRY_TIMER, self.params.phase_timeout_us);
        }
        self.note_role(ctx);
        if self.params.has_leader() {
            self.broadcast_heartbeat(ctx);
        }
        if self.single() {
            if self.learned.contains_key(1) {
                return;
            }
            // A leader has no value of its own yet: its first client brings one.
            let value = prepared.get(&1).map(|&(_, v)| v).or(self.own_value);
            match value {
                Some(v) => self.propose(1, v, ctx),
                None if !self.params.has_leader() => {
                    // Nothing of our own and nothing to finish: this ballot only looked.
                    self.phase = Phase::Idle;
                    ctx.cancel_timer(RETRY_TIMER);
                    self.note_role(ctx);
                }
                // A leader holds its promises until a client brings a value.
                None => {}
            }
            return;
        }
        // Multi-Paxos: every slot from the first unlearned one up to the last any promise
        // reported is proposed again; the gaps get no-ops (section 3).
        let last = prepared
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
            .max(self.learned.last_key().unwrap_or(0))
            .max(self.from_slot - 1);
        self.next_slot = last + 1;
        for slot in self.from_slot..=last {
            if self.phase != Phase::Accepting {
                return;
            }
            if self.learned.contains_key(slot) {
                continue;
            }
            let value = prepared.get(&slot).map_or(Command::Noop, |&(_, v)| v);
            self.propose(slot, value, ctx);
        }
    }

    /// Phase 2a for one slot under the current ballot: the Accept goes to the others and to
    /// our own acceptor, unless that one has promised a higher ballot since (then this ballot
    /// cannot win, and the proposer knows it without asking anyone).
    fn propose(&mut self, slot: Slot, value: Command, ctx: &mut Ctx<Message>) {
        let ballot = self.ballot;
        let promised = self.acceptor.promised;
        if ballot < promised && self.params.variant != Variant::AcceptLowerBallot {
            self.preempted(promised, ctx);
            return;
        }
        self.proposals.insert(slot, (value, ctx.local_now_us()));
        for p in self.peers() {
            ctx.send(p, Message::Accept { ballot, slot, value });
        }
        if let Err(promised) = self.accept_here(ballot, slot, value, ctx) {
            self.preempted(promised, ctx);
        }
    }

    fn on_nack(&mut self, ballot: Ballot, promised: Ballot, ctx: &mut Ctx<Message>) {
        self.see(promised);
        if ballot == self.ballot && promised > ballot && matches!(self.phase, Phase::Preparing | Phase::Accepting) {
            self.preempted(promised, ctx);
        }
    }

    /// Our own acceptor just promised (or accepted in) another proposer's `ballot`. Without a
    /// leader, a proposer of a lower ballot abandons it at once, as section 2.4 advises: its
    /// own acceptor now refuses it, and someone is trying a higher number.
    fn rival(&mut self, ballot: Ballot, ctx: &mut Ctx<Message>) {
        let active = matches!(self.phase, Phase::Preparing | Phase::Accepting);
        if !self.params.has_leader() && active && self.ballot < ballot {
            self.preempted(ballot, ctx);
        }
    }

    /// Our ballot lost to `promised`: a leader or candidate steps down and waits for its
    /// election timer; a proposer without a leader backs off and retries (section 2.4).
    fn preempted(&mut self, promised: Ballot, ctx: &mut Ctx<Message>) {
        self.see(promised);
        if self.params.has_leader() {
            self.step_down(None, ctx);
            return;
        }
        self.phase = Phase::Backoff;
        self.proposals.clear();
        self.preemptions = self.preemptions.saturating_add(1);
        let delay = match self.params.backoff {
            Backoff::Fixed => self.params.retry_us,
            Backoff::Random => {
                let doublings = self.preemptions.saturating_sub(1).min(6);
                let cap = self.params.retry_us.saturating_mul(1 << doublings);
                ctx.rng().range_inclusive(0, cap)
            }
        };
        ctx.set_timer(RETRY_TIMER, delay);
        self.note_role(ctx);
    }

    /// A leader or candidate gives up its ballot. The clients it owed an answer are sent to
    /// the leader it knows of; their requests may still be chosen, which their sessions make
    /// harmless (a retry is applied at most once).
    fn step_down(&mut self, leader: Option<NodeId>, ctx: &mut Ctx<Message>) {
        let was_leader = self.phase == Phase::Accepting;
        self.phase = Phase::Idle;
        self.leader = leader;
        self.promises = 0;
        self.prepared.clear();
        self.proposals.clear();
        for (_, req) in std::mem::take(&mut self.pending) {
            ctx.reply(req, ClientReply::NotLeader { leader });
        }
        for req in std::mem::take(&mut self.waiting) {
            ctx.reply(req, ClientReply::NotLeader { leader });
        }
        if was_leader {
            ctx.cancel_timer(HEARTBEAT_TIMER);
        }
        self.reset_election_timer(ctx);
        self.note_role(ctx);
    }

    fn broadcast_heartbeat(&mut self, ctx: &mut Ctx<Message>) {
        let msg = Message::Heartbeat {
            ballot: self.ballot,
            chosen: self.applied,
        };
        for p in self.peers() {
            ctx.send(p, msg.clone());
        }
    }

    /// The leader's heartbeat: tell everyone we lead, and send again the proposals a peer has
    /// not accepted within a heartbeat (their Accept or its Accepted may have been lost).
    fn heartbeat(&mut self, ctx: &mut Ctx<Message>) {
        self.broadcast_heartbeat(ctx);
        let ballot = self.ballot;
        let now = ctx.local_now_us();
        let due = |&(_, &(_, sent)): &(&Slot, &(Command, u64))| now.saturating_sub(sent) >= self.params.heartbeat_us;
        let again: Vec<(Slot, Command)> = self
            .proposals
            .iter()
            .filter(due)
            .take(MAX_BATCH)
            .map(|(&s, &(v, _))| (s, v))
            .collect();
        for (slot, value) in again {
            if let Some(p) = self.proposals.get_mut(&slot) {
                p.1 = now;
            }
            let acked = self.tally.get(&(slot, ballot)).map_or(0, |t| t.1);
            for p in self.peers() {
                if acked & bit(p) == 0 {
                    ctx.send(p, Message::Accept { ballot, slot, value });
                }
            }
        }
        ctx.set_timer(HEARTBEAT_TIMER, self.params.heartbeat_us);
    }

    /// The slot where `req` is already proposed or learned but not yet applied, if any.
    fn unapplied_slot_of(&self, req: &ClientRequest) -> Option<Slot> {
        let same = |v: &Command| matches!(v, Command::Client(r) if (r.client, r.seq) == (req.client, req.seq));
        self.proposals
            .iter()
            .find(|(_, (v, _))| same(v))
            .map(|(&s, _)| s)
            .or_else(|| {
                self.learned
                    .iter_from(self.applied + 1)
                    .find(|(_, (_, v))| same(v))
                    .map(|(s, _)| s)
            })
    }

    /// A Multi-Paxos leader takes a client request: answered from the session if applied,
    /// waited on where it already is, or proposed in the next free slot.
    fn take_request(&mut self, req: ClientRequest, ctx: &mut Ctx<Message>) {
        if self.phase != Phase::Accepting {
            ctx.reply(req, ClientReply::NotLeader { leader: self.leader });
            return;
        }
        match self.kv.seen(&req) {
            Seen::Applied(reply) => {
                ctx.reply(req, reply);
                return;
            }
            // The client has moved on to a later operation; nobody waits for this one.
            Seen::Stale => return,
            Seen::New => {}
        }
        if let Some(slot) = self.unapplied_slot_of(&req) {
            self.pending.insert(slot, req);
            return;
        }
        let mut slot = self.next_slot;
        while self.learned.contains_key(slot) || self.proposals.contains_key(&slot) {
            slot += 1;
        }
        self.next_slot = slot + 1;
        self.taken.push(req);
        self.pending.insert(slot, req);
        self.propose(slot, Command::Client(req), ctx);
    }

    /// Single-decree: a proposer takes a client request.
    fn take_decree_request(&mut self, req: ClientRequest, ctx: &mut Ctx<Message>) {
        if self.applied >= 1 {
            self.answer_decided(req, ctx);
            return;
        }
        if self.params.has_leader() && self.phase != Phase::Accepting {
            ctx.reply(req, ClientReply::NotLeader { leader: self.leader });
            return;
        }
        if !self.waiting.iter().any(|w| (w.client, w.seq) == (req.client, req.seq)) {
            self.waiting.push(req);
        }
        if self.params.has_leader() {
            // The leader proposes the first value it gets, unless it is finishing one.
            if self.proposals.is_empty() {
                self.taken.push(req);
                self.propose(1, Command::Client(req), ctx);
            }
            return;
        }
        if self.own_value.is_none() {
            self.own_value = Some(Command::Client(req));
            self.taken.push(req);
        }
        if self.phase == Phase::Idle {
            self.start_ballot(ctx);
        }
    }

    fn on_retry_timer(&mut self, ctx: &mut Ctx<Message>) {
        if self.params.has_leader() || self.applied >= 1 {
            return;
        }
        match self.phase {
            // A phase that heard from no majority in time: try a higher ballot.
            Phase::Preparing | Phase::Accepting => self.start_ballot(ctx),
            Phase::Backoff if self.own_value.is_some() => self.start_ballot(ctx),
            Phase::Backoff => {
                self.phase = Phase::Idle;
                self.note_role(ctx);
            }
            Phase::Idle => {}
        }
    }
}

impl Protocol for Paxos {
    type Msg = Message;
    type Stable = Stable;
    type Params = PaxosParams;
    type Monitor = PaxosMonitor;
    type Workload = crate::workload::Registers;

    const NAME: &'static str = "paxos";
    const SCENARIOS: &'static [Scenario] = &[
        Scenario {
            value: "multi-paxos",
            label: "Multi-Paxos",
            settings: &[("mode", "multi")],
        },
        Scenario {
            value: "paxos-single",
            label: "Paxos single-decree",
            settings: &[("mode", "single")],
        },
    ];
    const MESSAGE_KINDS: &'static [(&'static str, &'static str)] = &[
        (
            "Prepare",
            "Phase 1a: a proposer asks the acceptors to promise its ballot, for every slot from the one named on.",
        ),
        (
            "Promise",
            "Phase 1b: the acceptor promises to accept nothing below the ballot, and reports the proposals it has accepted.",
        ),
        (
            "Accept",
            "Phase 2a: the proposer of the ballot asks the acceptors to accept a value in a slot.",
        ),
        (
            "Accepted",
            "Phase 2b: the acceptor accepted the value; once a majority has, the value is chosen.",
        ),
        (
            "Nack",
            "A refusal: the acceptor has promised a higher ballot, so the proposer abandons its own.",
        ),
        (
            "Heartbeat",
            "The leader is alive and has learned every slot up to the one named; a node promised to a higher ballot answers with a Nack.",
        ),
        (
            "CatchUp",
            "A learner that is behind asks for the chosen values from a slot on.",
        ),
        (
            "Chosen",
            "Chosen values: the leader tells every learner each value it learns, and answers a CatchUp with them.",
        ),
    ];
    const TIMERS: &'static [TimerInfo] = &[
        TimerInfo::new("election", false),
        TimerInfo::new("heartbeat", true),
        TimerInfo::new("retry", false),
    ];

    fn start(id: NodeId, params: &PaxosParams, ctx: &mut Ctx<Message>) -> Self {
        let mut paxos = Paxos::new(id, ctx.cluster_size(), params, Stable::default());
        ctx.note(Note::Role {
            role: Role::FOLLOWER,
            term: 0,
        });
        paxos.reset_election_timer(ctx);
        paxos
    }

    fn restart(id: NodeId, params: &PaxosParams, mut stable: Stable, ctx: &mut Ctx<Message>) -> Self {
        if params.variant == Variant::ForgetPromiseOnRestart {
            // The bug: the promise was kept in memory only.
            stable.acceptor.promised = Ballot::ZERO;
        }
        let mut paxos = Paxos::new(id, ctx.cluster_size(), params, stable);
        ctx.note(Note::Role {
            role: Role::FOLLOWER,
            term: paxos.noted.1,
        });
        // The state machine is rebuilt from what the learner kept.
        paxos.apply_learned(ctx);
        paxos.reset_election_timer(ctx);
        paxos
    }

    fn stable(&self) -> Stable {
        Stable {
            acceptor: self.acceptor.clone(),
            round: self.round,
            learned: self.learned.clone(),
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Message, ctx: &mut Ctx<Message>) {
        if from == 0 || from > self.n || from == self.id {
            return;
        }
        match msg {
            Message::Prepare { ballot, from_slot } => {
                self.see(ballot);
                self.on_prepare(from, ballot, from_slot, ctx);
            }
            Message::Promise { ballot, accepted } => self.on_promise(from, ballot, accepted, ctx),
            Message::Accept { ballot, slot, value } => {
                self.see(ballot);
                self.on_accept(from, ballot, slot, value, ctx);
            }
            Message::Accepted { ballot, slot, value } => self.on_accepted(from, ballot, slot, value, ctx),
            Message::Nack { ballot, promised } => self.on_nack(ballot, promised, ctx),
            Message::Heartbeat { ballot, chosen } => {
                self.see(ballot);
                if self.params.has_leader() {
                    self.on_heartbeat(from, ballot, chosen, ctx);
                }
            }
            Message::CatchUp { from_slot } => self.on_catch_up(from, from_slot, ctx),
            Message::Chosen { entries } => self.on_chosen(from, entries, ctx),
        }
        self.note_role(ctx);
    }

    fn on_timer(&mut self, kind: TimerKind, ctx: &mut Ctx<Message>) {
        match kind {
            ELECTION_TIMER => {
                self.election_deadline_us = None;
                if self.params.has_leader() && self.is_proposer() && self.phase != Phase::Accepting {
                    self.start_ballot(ctx);
                }
            }
            HEARTBEAT_TIMER if self.phase == Phase::Accepting && self.params.has_leader() => self.heartbeat(ctx),
            RETRY_TIMER => self.on_retry_timer(ctx),
            _ => {}
        }
    }

    fn on_client(&mut self, req: ClientRequest, ctx: &mut Ctx<Message>) {
        if self.single() && self.applied >= 1 {
            // Any learner of the decree can answer from the decided state.
            self.answer_decided(req, ctx);
            return;
        }
        if !self.is_proposer() {
            let leader = self.leader.or_else(|| self.some_proposer());
            ctx.reply(req, ClientReply::NotLeader { leader });
            return;
        }
        if self.single() {
            self.take_decree_request(req, ctx);
        } else {
            self.take_request(req, ctx);
        }
    }

    fn force_timeout(&mut self, ctx: &mut Ctx<Message>) {
        if !self.is_proposer() || (self.single() && self.applied >= 1) {
            return;
        }
        if self.params.has_leader() {
            if self.phase != Phase::Accepting {
                self.start_ballot(ctx);
            }
        } else {
            // Without a value of its own, the ballot can still finish what another started.
            self.start_ballot(ctx);
        }
    }

    fn role(&self) -> Role {
        match self.phase {
            Phase::Idle | Phase::Backoff => Role::FOLLOWER,
            Phase::Preparing => Role::CANDIDATE,
            Phase::Accepting => Role::LEADER,
        }
    }

    fn term(&self) -> u64 {
        self.term_now()
    }

    fn msg_kind(msg: &Message) -> &'static str {
        match msg {
            Message::Prepare { .. } => "Prepare",
            Message::Promise { .. } => "Promise",
            Message::Accept { .. } => "Accept",
            Message::Accepted { .. } => "Accepted",
            Message::Nack { .. } => "Nack",
            Message::Heartbeat { .. } => "Heartbeat",
            Message::CatchUp { .. } => "CatchUp",
            Message::Chosen { .. } => "Chosen",
        }
    }

    fn committed(&self) -> u64 {
        self.chosen_prefix()
    }

    fn state_machine(&self) -> Option<&KvStore> {
        Some(&self.kv)
    }

    /// Phase 1 in a candidate's colour, phase 2 in a leader's, learning in its own.
    fn msg_style(msg: &Message) -> MsgStyle {
        let (family, shape) = match msg {
            Message::Prepare { .. } => (MsgFamily::Election, MsgShape::Diamond),
            Message::Promise { .. } | Message::Nack { .. } => (MsgFamily::Election, MsgShape::Circle),
            Message::Accept { .. } | Message::Heartbeat { .. } => (MsgFamily::Replication, MsgShape::Square),
            Message::Accepted { .. } => (MsgFamily::Replication, MsgShape::Triangle),
            Message::Chosen { .. } => (MsgFamily::Learning, MsgShape::Circle),
            Message::CatchUp { .. } => (MsgFamily::Learning, MsgShape::Diamond),
        };
        MsgStyle::new(family, shape)
            .negative(matches!(msg, Message::Nack { .. }))
            .heartbeat(matches!(msg, Message::Heartbeat { .. }))
    }

    fn msg_fields(msg: &Message) -> Vec<(&'static str, String)> {
        let proposals = |list: &[(Slot, Ballot, Command)]| {
            if list.is_empty() {
                "none".to_string()
            } else {
                Proposals(list).to_string()
            }
        };
        match msg {
            Message::Prepare { ballot, from_slot } => {
                vec![("ballot", ballot.to_string()), ("from slot", from_slot.to_string())]
            }
            Message::Promise { ballot, accepted } => {
                vec![("ballot", ballot.to_string()), ("accepted", proposals(accepted))]
            }
            Message::Accept { ballot, slot, value } | Message::Accepted { ballot, slot, value } => vec![
                ("ballot", ballot.to_string()),
                ("slot", slot.to_string()),
                ("value", Short(value).to_string()),
            ],
            Message::Nack { ballot, promised } => {
                vec![("ballot", ballot.to_string()), ("promised", promised.to_string())]
            }
            Message::Heartbeat { ballot, chosen } => {
                vec![
                    ("ballot", ballot.to_string()),
                    ("chosen up to slot", chosen.to_string()),
                ]
            }
            Message::CatchUp { from_slot } => vec![("from slot", from_slot.to_string())],
            Message::Chosen { entries } => vec![("chosen", proposals(entries))],
        }
    }

    fn describe(&self) -> String {
        use std::fmt::Write as _;
        let mut s = format!("promised={}", self.acceptor.promised);
        if self.single() {
            match self.acceptor.accepted.get(1) {
                Some((b, v)) => {
                    let _ = write!(s, " accepted={b}:{}", Short(v));
                }
                None => s.push_str(" accepted=none"),
            }
            match self.learned.get(1) {
                Some((_, v)) => {
                    let _ = write!(s, " learned={}", Short(v));
                }
                None => s.push_str(" learned=none"),
            }
        } else {
            s.push_str(" accepted=[");
            let n = self.acceptor.accepted.len() as usize;
            for (k, (slot, (b, _))) in self.acceptor.accepted.iter().enumerate() {
                if n > 8 && (3..n - 3).contains(&k) {
                    if k == 3 {
                        s.push_str(" ...");
                    }
                    continue;
                }
                let _ = write!(s, "{}{slot}@{b}", if k > 0 { " " } else { "" });
            }
            let _ = write!(s, "] chosen={}", self.applied);
            let beyond: Vec<String> = self
                .learned
                .iter_from(self.applied + 1)
                .map(|(s, _)| s.to_string())
                .collect();
            if !beyond.is_empty() {
                let _ = write!(s, "+[{}]", beyond.join(" "));
            }
        }
        if let Some(l) = self.leader {
            let _ = write!(s, " leader=n{l}");
        }
        s.push_str(" kv={");
        for (i, (k, v)) in self.kv.data().iter().enumerate() {
            let _ = write!(s, "{}k{k}={v}", if i > 0 { " " } else { "" });
        }
        s.push('}');
        s
    }
}
