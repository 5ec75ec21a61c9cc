//! The contract between the engine and a protocol.
//!
//! A protocol is a pure state machine, in the manner of stateright's `Actor` and raft-rs's
//! `RawNode`: the engine pushes in a start, a message, a timer or a client request, and the
//! protocol writes its effects into a [`Ctx`]: messages to send, timers to set or cancel,
//! replies to clients and [`Note`]s that say what happened (role changes, appends, commits).
//! It never does I/O, never reads a real clock and draws randomness only from the node's own
//! stream, so the same inputs always give the same effects.
//!
//! Persistence is modelled as synchronous: whatever [`Protocol::stable`] returns at the moment
//! of a crash is what survives it. A protocol that must persist before it answers (Raft's
//! "updated on stable storage before responding to RPCs") therefore gets that for free, and a
//! deliberately broken variant can forget fields in [`Protocol::restart`].

use crate::kv::KvStore;
use crate::rng::SimRng;
use crate::workload::Workload;
use crate::{ClientId, Key, NodeId, Value};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A protocol's timer slot. Setting a timer replaces any pending timer of the same kind.
pub type TimerKind = u8;

/// A key-value operation, as clients invoke it and the history records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "lowercase")]
pub enum Op {
    /// Read the value of `key` (`None` while never written).
    Read { key: Key },
    /// Set `key` to `value`.
    Write { key: Key, value: Value },
    /// Set `key` to `to` if it currently holds `from`.
    Cas { key: Key, from: Value, to: Value },
}

impl Op {
    pub fn key(&self) -> Key {
        match *self {
            Op::Read { key } | Op::Write { key, .. } | Op::Cas { key, .. } => key,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Read { key } => write!(f, "read k{key}"),
            Op::Write { key, value } => write!(f, "write k{key} {value}"),
            Op::Cas { key, from, to } => write!(f, "cas k{key} {from} {to}"),
        }
    }
}

/// A client request as it reaches a node. `(client, seq)` is unique per operation and is kept
/// across retries, so that a state machine can apply each operation at most once (Raft paper,
/// section 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRequest {
    pub client: ClientId,
    pub seq: u64,
    pub op: Op,
}

/// A node's answer to a client request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientReply {
    /// The operation took effect; reads and successful compare-and-sets carry the value read.
    Ok { value: Option<Value> },
    /// A compare-and-set found another value: it definitely did not take effect.
    CasFailed { current: Option<Value> },
    /// This node cannot serve the request; try `leader` if known.
    NotLeader { leader: Option<NodeId> },
    /// The node could not reach enough replicas in time and gives up (a quorum store on the
    /// minority side of a partition). A read did nothing; a write may still take effect.
    Unavailable,
}

/// A node's role, as the protocol names it: the stage colours it, the DOM contract shows
/// `name` as `data-role`, and `leads` marks the node a chapter's views and liveness figures
/// treat as its leader (Raft's leader, Paxos's distinguished proposer, a 2PC coordinator).
/// Each protocol names its own roles; the three below are Raft's and Paxos's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Role {
    pub name: &'static str,
    pub leads: bool,
}

impl Role {
    pub const FOLLOWER: Role = Role::new("follower", false);
    pub const CANDIDATE: Role = Role::new("candidate", false);
    pub const LEADER: Role = Role::new("leader", true);

    pub const fn new(name: &'static str, leads: bool) -> Role {
        Role { name, leads }
    }
    pub fn as_str(self) -> &'static str {
        self.name
    }
}

/// What a protocol says happened, for the trace, the views and the checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Note {
    /// The node's role or term changed (`term` is the ballot round for Paxos).
    Role { role: Role, term: u64 },
    /// The node's log now holds an entry of `term` at `index`.
    Append { index: u64, term: u64 },
    /// The node removed its log entries from `from` on (a conflict was repaired).
    Truncate { from: u64 },
    /// The node learned that entries up to `index` are committed.
    Commit { index: u64 },
    /// The node applied the entry at `index` (of `term`) to its state machine.
    Apply { index: u64, term: u64 },
    /// A chapter's own fact (a clock reading, a decision, a lock taken), for its trace, views
    /// and checker, without a variant of its own here.
    Fact(Fact),
}

/// A fact a chapter notes: `what` is one of the chapter's own names for its facts (a
/// constant of its module, compared as such, never parsed), `value` its number. The trace
/// prints it as `n1 decided 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Fact {
    pub what: &'static str,
    pub value: i64,
}

/// A chapter's own reader action on a node, `do NODE VERB [ARG]` in scripts: marking a
/// traitor, a local event, a send to another node. The lab's node menu offers each one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Command {
    /// The script's word for it (`traitor`): lowercase letters, digits and `-`.
    pub verb: &'static str,
    pub arg: CommandArg,
    /// What the node menu says (`Mark as traitor`; a `Node` argument's button adds the node).
    pub label: &'static str,
}

/// What a [`Command`] takes after its verb.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandArg {
    None,
    /// Another node's id (`do 1 send 2`).
    Node,
    /// A number from 0 to `max` (`do 2 write 7`).
    Number {
        max: u64,
    },
}

impl Command {
    /// Checks `arg` for this command at node `node` of a cluster of `nodes`.
    pub fn check(&self, node: NodeId, nodes: u8, arg: Option<u64>) -> Result<(), String> {
        let verb = self.verb;
        match (self.arg, arg) {
            (CommandArg::None, None) => Ok(()),
            (CommandArg::None, Some(n)) => Err(format!("command {verb} takes no number, but {n} follows it")),
            (CommandArg::Node, Some(to)) if to != u64::from(node) && (1..=u64::from(nodes)).contains(&to) => Ok(()),
            (CommandArg::Node, Some(to)) => Err(format!(
                "command {verb} at node {node} needs another node 1..={nodes}, not {to}"
            )),
            (CommandArg::Number { max }, Some(n)) if n <= max => Ok(()),
            (CommandArg::Number { max }, Some(n)) => Err(format!("command {verb} takes a number up to {max}, not {n}")),
            (CommandArg::Node, None) => Err(format!("command {verb} needs a node after it (do {node} {verb} 2)")),
            (CommandArg::Number { max }, None) => Err(format!("command {verb} needs a number up to {max} after it")),
        }
    }
}

/// Effects of one protocol step, written by the protocol and drained by the engine.
pub struct Ctx<'a, M> {
    pub(crate) id: NodeId,
    pub(crate) n: u8,
    pub(crate) local_now_us: u64,
    pub(crate) rng: &'a mut SimRng,
    pub(crate) out: &'a mut Effects<M>,
}

/// The buffers behind a [`Ctx`]; reused between steps so that a step does not allocate.
#[derive(Debug)]
pub struct Effects<M> {
    pub sends: Vec<(NodeId, M)>,
    /// `(kind, Some(after_local_us))` sets a timer, `(kind, None)` cancels it.
    pub timers: Vec<(TimerKind, Option<u64>)>,
    pub replies: Vec<(ClientRequest, ClientReply)>,
    pub notes: Vec<Note>,
}

impl<M> Default for Effects<M> {
    fn default() -> Self {
        Effects {
            sends: Vec::new(),
            timers: Vec::new(),
            replies: Vec::new(),
            notes: Vec::new(),
        }
    }
}

impl<M> Effects<M> {
    pub fn clear(&mut self) {
        self.sends.clear();
        self.timers.clear();
        self.replies.clear();
        self.notes.clear();
    }
}

impl<'a, M> Ctx<'a, M> {
    /// A context outside the engine, for unit tests of a protocol.
    pub fn new(id: NodeId, n: u8, local_now_us: u64, rng: &'a mut SimRng, out: &'a mut Effects<M>) -> Self {
        Ctx {
            id,
            n,
            local_now_us,
            rng,
            out,
        }
    }
    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }
    /// The ids of all nodes, this one included, in order.
    pub fn all(&self) -> impl Iterator<Item = NodeId> + use<M> {
        1..=self.n
    }
    /// The ids of the other nodes, in order.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + use<M> {
        let me = self.id;
        (1..=self.n).filter(move |&p| p != me)
    }
    /// The number of nodes in the cluster.
    pub fn cluster_size(&self) -> u8 {
        self.n
    }
    /// The node's local clock in microseconds: simulated time seen through its offset and drift.
    pub fn local_now_us(&self) -> u64 {
        self.local_now_us
    }
    /// The node's own random stream.
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }
    pub fn send(&mut self, to: NodeId, msg: M) {
        self.out.sends.push((to, msg));
    }
    /// Sets timer `kind` to fire after `after_local_us` of the node's local clock, replacing
    /// any pending timer of that kind.
    pub fn set_timer(&mut self, kind: TimerKind, after_local_us: u64) {
        self.out.timers.push((kind, Some(after_local_us)));
    }
    pub fn cancel_timer(&mut self, kind: TimerKind) {
        self.out.timers.push((kind, None));
    }
    pub fn reply(&mut self, req: ClientRequest, reply: ClientReply) {
        self.out.replies.push((req, reply));
    }
    pub fn note(&mut self, note: Note) {
        self.out.notes.push(note);
    }
}

/// A safety violation found by a checker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The property's name, as the invariant panel shows it ("Election Safety").
    pub property: &'static str,
    /// The nodes involved.
    pub nodes: Vec<NodeId>,
    /// What broke, in a sentence.
    pub detail: String,
}

/// A named starting point of a chapter, as the lab's selector offers it: a few settings over
/// the protocol's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// A stable name, for the selector's values (`multi-paxos`).
    pub value: &'static str,
    /// What a reader calls it (`Multi-Paxos`).
    pub label: &'static str,
    /// The `set` lines it adds to a script's header.
    pub settings: &'static [(&'static str, &'static str)],
}

/// The colour family of a message: the part of the protocol it belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MsgFamily {
    /// Raft's votes, Paxos's phase 1: the colour of a candidate.
    Election,
    /// Raft's pre-votes: an election that raises no term.
    PreElection,
    /// Raft's AppendEntries, Paxos's phase 2 and heartbeats: the colour of a leader.
    Replication,
    /// Paxos's learning: chosen values and catching up.
    Learning,
    #[default]
    Other,
}

/// The shape of a message: what it does in its exchange.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MsgShape {
    /// A request that opens a round (RequestVote, Prepare).
    Diamond,
    /// An answer (Vote, Promise, Nack) or a notice (Chosen).
    #[default]
    Circle,
    /// A proposal that carries data (AppendEntries, Accept, Heartbeat).
    Square,
    /// An acknowledgement of a proposal (AppendEntriesReply, Accepted), drawn pointing along
    /// its way.
    Triangle,
}

/// How the views draw a message and classify its trace lines. It is computed for every
/// message in flight in every frame, so it is plain data built without allocating.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MsgStyle {
    pub family: MsgFamily,
    pub shape: MsgShape,
    /// A "no": a denied vote, a failed append, a Nack (drawn hollow).
    pub negative: bool,
    /// A heartbeat: an empty AppendEntries, a Paxos Heartbeat (drawn small).
    pub heartbeat: bool,
    /// Routine traffic that the event list's "no heartbeats" filter hides: heartbeats and the
    /// plain acknowledgements of appends.
    pub routine: bool,
}

impl TimerInfo {
    pub const fn new(name: &'static str, routine: bool) -> TimerInfo {
        TimerInfo { name, routine }
    }
}

impl MsgStyle {
    pub const fn new(family: MsgFamily, shape: MsgShape) -> MsgStyle {
        MsgStyle {
            family,
            shape,
            negative: false,
            heartbeat: false,
            routine: false,
        }
    }
    /// This style, marked a "no" when `negative`.
    pub const fn negative(self, negative: bool) -> MsgStyle {
        MsgStyle { negative, ..self }
    }
    /// This style, as a heartbeat (which is routine) when `heartbeat`.
    pub const fn heartbeat(self, heartbeat: bool) -> MsgStyle {
        MsgStyle {
            heartbeat,
            routine: self.routine || heartbeat,
            ..self
        }
    }
    /// This style, as routine traffic when `routine`.
    pub const fn routine(self, routine: bool) -> MsgStyle {
        MsgStyle { routine, ..self }
    }
}

/// A protocol's timer as the views name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerInfo {
    /// `election`, `heartbeat`: the event list says "n1 election timer fires".
    pub name: &'static str,
    /// It fires as routine upkeep (a leader's heartbeat timer): the event list's "no
    /// heartbeats" filter hides it.
    pub routine: bool,
}

/// A protocol the engine can run.
pub trait Protocol: Clone + fmt::Debug + Sized + 'static {
    /// Messages between nodes. `Display` gives the one-line form the trace prints.
    type Msg: Clone + fmt::Debug + fmt::Display + 'static;
    /// What survives a crash.
    type Stable: Clone + fmt::Debug;
    /// Protocol parameters (timeouts, toggles, broken variant).
    type Params: Params;
    /// Watches the whole cluster and reports broken safety properties.
    type Monitor: Monitor<Self>;
    /// The chapter's client side: its operations, the load, the history's checker
    /// ([`crate::workload::Registers`] for a replicated key-value store). Requests and replies
    /// are still the register ones ([`ClientRequest`], [`ClientReply`]) for every chapter.
    type Workload: Workload<Op = Op, Reply = ClientReply>;

    /// The protocol's name in scripts and links ("raft").
    const NAME: &'static str;
    /// The chapter's starting points. The first is the chapter's default; a script whose
    /// settings match none of them is shown as the last.
    const SCENARIOS: &'static [Scenario];
    /// What each message kind is for, in a sentence: `(kind, meaning)` for every kind that
    /// [`Protocol::msg_kind`] names.
    const MESSAGE_KINDS: &'static [(&'static str, &'static str)] = &[];
    /// The protocol's timers by [`TimerKind`] (entry `k` is timer `k`), for the event list.
    const TIMERS: &'static [TimerInfo] = &[];
    /// The chapter's own reader actions (`do NODE VERB [ARG]`); none by default.
    const COMMANDS: &'static [Command] = &[];

    /// A node starting for the first time.
    fn start(id: NodeId, params: &Self::Params, ctx: &mut Ctx<Self::Msg>) -> Self;
    /// A node restarting after a crash with what it had persisted.
    fn restart(id: NodeId, params: &Self::Params, stable: Self::Stable, ctx: &mut Ctx<Self::Msg>) -> Self;
    /// What this node has on stable storage now.
    fn stable(&self) -> Self::Stable;

    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<Self::Msg>);
    fn on_timer(&mut self, kind: TimerKind, ctx: &mut Ctx<Self::Msg>);
    fn on_client(&mut self, req: ClientRequest, ctx: &mut Ctx<Self::Msg>);
    /// The reader forced this node's election (or proposal) timeout to fire now.
    fn force_timeout(&mut self, ctx: &mut Ctx<Self::Msg>);
    /// The reader's command `verb` (one of [`Protocol::COMMANDS`], its argument checked by
    /// [`Command::check`]) at this node. Never called at a crashed node; held while it is paused.
    fn on_command(&mut self, verb: &'static str, arg: Option<u64>, ctx: &mut Ctx<Self::Msg>) {
        let _ = (verb, arg, ctx);
    }

    /// The role and term the stage shows.
    fn role(&self) -> Role;
    fn term(&self) -> u64;
    /// A short name of a message's kind, for the trace and for colouring ("AppendEntries").
    fn msg_kind(msg: &Self::Msg) -> &'static str;
    /// How far this node has committed: Raft's commitIndex, the end of Paxos's chosen prefix;
    /// 0 for a chapter without a replicated log.
    fn committed(&self) -> u64 {
        0
    }
    /// The key-value state machine the node applies, for chapters that replicate one.
    fn state_machine(&self) -> Option<&KvStore> {
        None
    }
    /// How the views draw a message (the default: a plain circle). Cheap: it runs for every
    /// message in flight in every frame.
    fn msg_style(msg: &Self::Msg) -> MsgStyle {
        let _ = msg;
        MsgStyle::default()
    }
    /// A message's arguments under the names the protocol's paper gives them, for the
    /// inspector (`("prevLogIndex", "4")`). Views never read them back out of the display form.
    fn msg_fields(msg: &Self::Msg) -> Vec<(&'static str, String)> {
        let _ = msg;
        Vec::new()
    }
    /// The rest of the node's state in one line, for run summaries and golden files
    /// (`log=[1@1 2@1] commit=2`).
    fn describe(&self) -> String;
}

/// A safety checker over the whole cluster, run after every step. It sees the notes the
/// stepping node wrote and every node's state: `nodes[i]` is node `i + 1`, `None` while crashed.
pub trait Monitor<P: Protocol>: Clone + fmt::Debug + Default {
    fn observe(&mut self, node: NodeId, notes: &[Note], nodes: &[Option<P>], out: &mut Vec<Violation>);
    /// The names of the properties this monitor checks, for the invariant panel.
    fn properties() -> &'static [&'static str];
    /// The simulated time of the step whose notes [`Monitor::observe`] gets next, for a
    /// checker that relates what nodes saw to true time (the clocks chapter). Default: ignored.
    fn at(&mut self, now: crate::SimTime) {
        let _ = now;
    }
    /// Figures the checker counts without calling them violations (`("wall-clock
    /// misorders", 3)`), for expectations and views. Default: none.
    fn counts(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// Parses an `on`/`off` parameter value.
pub fn parse_switch(value: &str) -> Result<bool, String> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected on or off, got {value:?}")),
    }
}

/// A protocol's parameters, set by name from `set KEY VALUE` lines of a script.
pub trait Params: Clone + fmt::Debug + Default {
    /// Sets one parameter; the error says what was expected.
    fn set(&mut self, key: &str, value: &str) -> Result<(), String>;
    /// The names this protocol accepts, for error messages and the UI.
    fn keys() -> &'static [&'static str];
}
