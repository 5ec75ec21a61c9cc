//! The lab's model: the running simulation and the plain data every view renders from it.
//! No Yew components here (a chapter's own panel arrives as `Html` its view module built), and
//! nothing here mutates protocol state: every change is a core `Action`
//! appended to the script at the current simulated time (`Sim::act`), or a reset to a new
//! scenario.

use crate::chapters::{self, Toggle};
use crate::components::history::Checked;
use deepend_core::history::{EventKind as Outcome, History};
use deepend_core::kv::Command;
use deepend_core::lin;
use deepend_core::net::DropReason;
#[cfg(feature = "paxos")]
use deepend_core::paxos::Ballot;
use deepend_core::protocol::{Monitor, MsgStyle, Note, Op, Role, TimerKind};
use deepend_core::script::{Action, Header, Script};
use deepend_core::sim::{Found, NodeStatus, Sim};
use deepend_core::trace::{Event, EventKind};
use deepend_core::{ClientId, Key, NodeId, Protocol, SimTime, Value};
use std::rc::Rc;
use yew::{Callback, Html};

/// How many log indexes the log panel shows: the last ones.
pub const LOG_WINDOW: u64 = 24;
/// How many trace lines the event list keeps.
pub const EVENT_LINES: usize = 200;
/// How long a dropped message stays visible where it died, in simulated microseconds.
pub const DROP_VISIBLE_US: u64 = 40_000;

/// One log entry as the log panel shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryView {
    pub index: u64,
    pub term: u64,
    pub committed: bool,
    /// Shown as `noop`, `write k1 5`, ...: formatted only where a view shows it.
    pub command: Command,
}

/// One node: what both protocols share, for the stage, the logs and the inspector's header,
/// and the protocol's own fields in [`Detail`].
#[derive(Clone, Debug, PartialEq)]
pub struct NodeView {
    pub id: NodeId,
    pub role: Role,
    pub status: NodeStatus,
    /// Raft's current term, or Paxos's ballot round; while crashed, the persisted one.
    pub term: u64,
    /// The leader (distinguished proposer) this node knows of.
    pub leader: Option<NodeId>,
    /// Raft's commitIndex, or the last slot of Paxos's chosen (learned) prefix.
    pub commit_index: u64,
    pub last_applied: u64,
    /// The last log index, or the highest slot with an accepted or learned value.
    pub last_index: u64,
    /// The last [`LOG_WINDOW`] entries or slots (a crashed node shows its persisted state).
    pub log: Vec<EntryView>,
    /// Share of the election timeout still to run (1 just set, 0 about to fire).
    pub election_left: Option<f32>,
    pub kv: Vec<(Key, Value)>,
    /// How far the node's clock is ahead of simulated time, and its drift.
    pub clock_offset_us: i64,
    pub clock_drift_ppm: i32,
    pub detail: Detail,
    /// How the stage draws the node.
    pub shape: NodeShape,
    /// Extra attributes of the stage's node element, for a chapter's DOM contract
    /// (`("data-traitor", "true")`).
    pub marks: Vec<(&'static str, String)>,
    /// What the stage writes under the node instead of its role (a service's name).
    pub caption: Option<&'static str>,
}

/// A node's outline on the stage. A page whose chapter draws only circles (`raft.html`)
/// never builds the others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(dead_code)]
pub enum NodeShape {
    #[default]
    Circle,
    /// A service outside the protocol (a storage service, a card processor).
    Square,
    /// A node set apart (a traitor).
    Diamond,
}

/// What a chapter's panel may do to the lab, given to its components as a Yew context
/// (`use_context::<PanelHooks>()`).
#[derive(Clone, PartialEq)]
pub struct PanelHooks {
    /// Appends an action to the script at the current time.
    pub on_action: Callback<Action>,
    pub on_seek: Callback<SimTime>,
    /// Starts a new run of a whole script (a failing run the panel found, say).
    pub on_script: Callback<Script>,
}

impl NodeView {
    /// A Raft node in its pre-vote phase (the stage draws it apart from a candidate).
    pub fn pre_candidate(&self) -> bool {
        match self.detail {
            #[cfg(feature = "raft")]
            Detail::Raft { pre_candidate, .. } => pre_candidate,
            _ => false,
        }
    }
    /// A Paxos node: slots instead of log indexes, ballot rounds instead of terms.
    pub fn has_slots(&self) -> bool {
        match self.detail {
            #[cfg(feature = "paxos")]
            Detail::Paxos { .. } => true,
            _ => false,
        }
    }
}

/// The protocol's own fields of a node, for the inspector.
#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    /// The rest of the paper's Figure 2.
    #[cfg(feature = "raft")]
    Raft {
        voted_for: Option<NodeId>,
        pre_candidate: bool,
        /// For a leader: `(peer, nextIndex, matchIndex)`.
        replication: Vec<(NodeId, u64, u64)>,
    },
    /// A chapter's fields as label and value, for chapters without a section of their own.
    Fields(Vec<(&'static str, String)>),
    #[cfg(feature = "paxos")]
    Paxos {
        /// `single` or `multi`.
        mode: &'static str,
        /// Whether this node may propose.
        proposer: bool,
        /// The acceptor's promise.
        promised: Ballot,
        /// The proposer's phase (`idle`, `backoff`, `preparing`, `accepting`) and ballot.
        phase: &'static str,
        ballot: Ballot,
        /// In phase 1: who promised the ballot.
        promises: Vec<NodeId>,
        /// The last [`LOG_WINDOW`] slots with anything in them.
        slots: Vec<SlotView>,
    },
}

/// One Paxos slot at one node: the acceptor's accepted proposal and the learner's value.
#[cfg(feature = "paxos")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotView {
    pub slot: u64,
    pub accepted: Option<(Ballot, Command)>,
    pub learned: Option<(Ballot, Command)>,
}

/// A message on its way.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageView {
    /// Index in the trace's messages: stable for the message's life, a key for the view.
    pub id: u32,
    pub from: NodeId,
    pub to: NodeId,
    /// `RequestVote`, `Vote`, `AppendEntries`, `AppendEntriesReply`, ...
    pub kind: &'static str,
    /// How the stage draws it, as the protocol says.
    pub style: MsgStyle,
    /// The trace's one-line form, for tooltips.
    pub label: String,
    /// What its kind is for, in a sentence (empty if the protocol does not say).
    pub meaning: &'static str,
    /// Its arguments by name, for the inspector: built for the panels' copy only (empty on
    /// the stage, which draws every message in flight in every frame).
    pub fields: Vec<(&'static str, String)>,
    /// How far along the link it is, 0 at the sender, 1 at the receiver.
    pub progress: f32,
    /// It will be lost: it dies at `progress` 1 of a path that ends halfway.
    pub lost: bool,
}

/// A message that just died, shown where it died.
#[derive(Clone, Debug, PartialEq)]
pub struct DropView {
    pub id: u32,
    pub from: NodeId,
    pub to: NodeId,
    pub kind: &'static str,
    pub reason: DropReason,
    /// Where on the link it died (0 sender, 1 receiver).
    pub at: f32,
    /// 1 just died, 0 about to disappear.
    pub fade: f32,
}

/// A safety property and whether it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyView {
    pub name: &'static str,
    /// The first violation: when, the trace event, and what broke.
    pub broken: Option<(SimTime, usize, String)>,
}

/// A client operation with its invocation and return.
#[derive(Clone, Debug, PartialEq)]
pub struct OpView {
    pub client: ClientId,
    pub op: Op,
    pub invoked: SimTime,
    pub returned: Option<SimTime>,
    pub outcome: OpOutcome,
}

/// How a client operation ended, as far as its client knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpOutcome {
    /// Not returned yet.
    Pending,
    /// It took effect; a read (or a cas) carries the value it read.
    Ok { read: Option<Value> },
    /// It definitely did not take effect.
    Fail,
    /// The client gave up without learning the outcome.
    Info,
}

impl std::fmt::Display for OpOutcome {
    /// `ok`, `ok 5`, `fail`, `info (unknown)` or `pending`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpOutcome::Pending => f.write_str("pending"),
            OpOutcome::Ok { read: Some(v) } => write!(f, "ok {v}"),
            OpOutcome::Ok { read: None } => f.write_str("ok"),
            OpOutcome::Fail => f.write_str("fail"),
            OpOutcome::Info => f.write_str("info (unknown)"),
        }
    }
}

/// What the scrubber marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    Fault,
    Leader,
    Commit,
    Violation,
}

impl MarkerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MarkerKind::Fault => "fault",
            MarkerKind::Leader => "leader",
            MarkerKind::Commit => "commit",
            MarkerKind::Violation => "violation",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub time: SimTime,
    pub kind: MarkerKind,
    pub label: String,
}

/// What a trace line is about, from its event: for the event list's filter and colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineClass {
    /// An action from the script or the UI (faults, requests, load).
    Action,
    /// A node's role changes; a forced timeout.
    Role,
    Violation,
    /// Routine traffic: heartbeats and plain acknowledgements (as the protocol's
    /// [`MsgStyle::routine`] says), routine timers.
    Heartbeat,
    /// A message or a client's request dropped.
    Drop,
    /// Log changes: append, truncate, commit, apply.
    Log,
    /// Client traffic.
    Client,
    /// Other messages sent and received.
    Message,
    Other,
}

/// One readable trace line.
#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    pub index: usize,
    pub time: SimTime,
    pub class: LineClass,
    /// The trace's line without the time in front, timers and violations in words.
    pub text: String,
}

/// Everything the views render, at one simulated instant. Big parts are shared so that an
/// unchanged part compares equal cheaply.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub now: SimTime,
    /// The furthest time this branch of the run has reached (the scrubber's end).
    pub horizon: SimTime,
    pub nodes: Rc<Vec<NodeView>>,
    pub islands: Rc<Vec<Vec<NodeId>>>,
    pub cuts: Rc<Vec<(NodeId, NodeId)>>,
    pub messages: Rc<Vec<MessageView>>,
    pub drops: Rc<Vec<DropView>>,
    pub markers: Rc<Vec<Marker>>,
    /// The horizon when `markers` was refreshed: the scrubber spreads the marks over it, so
    /// that between refreshes no mark moves (moving them all costs a frame much of its time).
    pub markers_horizon: SimTime,
    pub loss_ppm: u32,
    pub latency_us: (u64, u64),
    /// What the panels show: each [`Part`] as of its last refresh.
    pub panels: Panels,
}

/// The panels' parts of a snapshot. While playing, each [`Part`] is refreshed a few times a
/// second and in a frame of its own; paused, all are exact.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Panels {
    /// The nodes' full views (the stage's are summaries).
    pub nodes: Rc<Vec<NodeView>>,
    /// The messages in flight when `nodes` was taken, for the inspector.
    pub messages: Rc<Vec<MessageView>>,
    pub properties: Rc<Vec<PropertyView>>,
    /// The latest [`HISTORY_WINDOW`] client operations.
    pub history: Rc<Vec<OpView>>,
    /// How many client operations the whole history holds.
    pub history_total: usize,
    /// The linearizability checker's verdict (`None` until the first check).
    pub verdict: Option<Rc<Checked>>,
    pub events: Rc<Vec<EventLine>>,
    /// The chapter's own panel ([`Shown::panel`]), refreshed in its own turn ([`Part::Chapter`]).
    pub chapter: Option<Html>,
}

/// What the lab needs from a protocol beyond [`Protocol`]: its node view and a few words.
/// Everything else (messages, drops, markers, events, history, verdict, islands) is written
/// once, over any protocol.
pub trait Shown: Protocol {
    /// The timer the stage shows as a shrinking ring.
    const ELECTION_TIMER: TimerKind;
    /// What a term is called ("term", "ballot round").
    const TERM: &'static str;
    /// The broken variants the controls offer (`variant` values), with what each breaks.
    const VARIANTS: &'static [(&'static str, &'static str)];
    /// The chapter's own checkboxes.
    const TOGGLES: &'static [Toggle];
    /// A scrubber label for the first commit of `index`.
    fn commit_label(index: u64) -> String;
    /// A node as the views show it. The stage needs only the summary (role, term, status,
    /// indexes, timer); `full` adds what the panels read (the log window, the key-value data,
    /// the protocol's per-peer and per-slot fields), which costs most of the view to build.
    fn node_view(sim: &Sim<Self>, id: NodeId, full: bool) -> NodeView;
    /// Whether the node menu offers key-value client requests (the chapter's clients read
    /// and write registers).
    const CLIENTS: bool = true;
    /// Whether the nodes keep a replicated log (or slots) for the log panel to show.
    const LOGS: bool = true;
    /// The stage's legend: a message style and what it stands for, in order.
    const LEGEND: &'static [(MsgStyle, &'static str)] = &[];
    /// The chapter's own panel under the stage (a diagram, a table, a chart), if it has one.
    /// Refreshed a few times a second while playing; its components reach the lab through
    /// the [`PanelHooks`] context.
    fn panel(sim: &Sim<Self>) -> Option<Html> {
        let _ = sim;
        None
    }
}

/// A run of any chapter, as the lab drives it: [`Sim`] with its protocol's type erased, so
/// that the lab is written once and each chapter's page compiles only its own protocol.
pub trait AnyRun {
    fn script(&self) -> &Script;
    fn now(&self) -> SimTime;
    fn violations(&self) -> &[Found];
    /// The time of the trace event `index`.
    fn event_time(&self, index: usize) -> Option<SimTime>;
    fn history(&self) -> &History;
    /// The chapter's own check of the client history (linearizability for registers).
    fn check_history(&self) -> Checked;
    #[cfg(test)]
    fn trace_digest(&self) -> u64;
    /// Moves to `t` (backwards replays from a checkpoint).
    fn seek(&mut self, t: SimTime);
    /// Processes exactly the next event.
    fn step_forward(&mut self);
    /// Goes back to the instant of the previous event.
    fn step_back(&mut self);
    fn act(&mut self, action: Action);
    /// The stage's parts of a snapshot (the panels' parts and the markers empty).
    fn stage_snapshot(&self) -> Snapshot;
    /// Every node's view: summaries for the stage, or `full` for the panels.
    fn node_views(&self, full: bool) -> Vec<NodeView>;
    /// The messages in flight, with their `fields` when `fields`.
    fn message_views(&self, fields: bool) -> Vec<MessageView>;
    /// The last [`EVENT_LINES`] trace events as readable lines.
    fn event_lines(&self) -> Rc<Vec<EventLine>>;
    /// Each safety property and the first violation of it, if any.
    fn properties(&self) -> Rc<Vec<PropertyView>>;
    /// Brings the scrubber's markers up to date with the trace.
    fn update_markers(&self, markers: &mut Markers);
    /// The chapter's own panel, if it has one.
    fn panel(&self) -> Option<Html>;
}

impl<P: Shown> AnyRun for Sim<P> {
    fn script(&self) -> &Script {
        Sim::script(self)
    }
    fn now(&self) -> SimTime {
        Sim::now(self)
    }
    fn violations(&self) -> &[Found] {
        Sim::violations(self)
    }
    fn event_time(&self, index: usize) -> Option<SimTime> {
        self.trace().events.get(index).map(|e| e.time)
    }
    fn history(&self) -> &History {
        Sim::history(self)
    }
    fn check_history(&self) -> Checked {
        Sim::check_history(self, lin::DEFAULT_BUDGET)
    }
    #[cfg(test)]
    fn trace_digest(&self) -> u64 {
        Sim::trace_digest(self)
    }
    fn seek(&mut self, t: SimTime) {
        Sim::seek(self, t);
    }
    fn step_forward(&mut self) {
        if let Some(t) = self.next_event_time() {
            if t > Sim::now(self) {
                self.run_until(SimTime(t.as_us() - 1));
            }
            self.step();
        }
    }
    fn step_back(&mut self) {
        let now = Sim::now(self);
        let previous = self.trace().events.iter().rev().map(|e| e.time).find(|&t| t < now);
        Sim::seek(self, previous.unwrap_or(SimTime::ZERO));
    }
    fn act(&mut self, action: Action) {
        Sim::act(self, action);
    }
    fn stage_snapshot(&self) -> Snapshot {
        stage_snapshot(self)
    }
    fn node_views(&self, full: bool) -> Vec<NodeView> {
        (1..=self.node_count()).map(|id| P::node_view(self, id, full)).collect()
    }
    fn message_views(&self, fields: bool) -> Vec<MessageView> {
        message_views(self, fields)
    }
    fn event_lines(&self) -> Rc<Vec<EventLine>> {
        event_lines(self)
    }
    fn properties(&self) -> Rc<Vec<PropertyView>> {
        properties(self)
    }
    fn panel(&self) -> Option<Html> {
        P::panel(self)
    }
    fn update_markers(&self, markers: &mut Markers) {
        markers.update(self);
    }
}

/// A part of the page that follows a playing run a few times a second rather than every
/// frame. Each is refreshed in a frame of its own, so that no frame pays for all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The nodes' full views: the logs and the inspector.
    Nodes,
    /// The chapter's own panel (the clocks chapter's space-time diagram and clock table, a
    /// store's state...): its own turn, since some are as dear to build as the node views.
    Chapter,
    /// The event list.
    Events,
    /// The client history and the safety properties.
    History,
    /// The linearizability verdict: the check reads the whole history, so it is the dearest
    /// part to refresh.
    Verdict,
    /// The scrubber's markers.
    Markers,
}

impl Part {
    pub const ALL: [Part; 6] = [
        Part::Nodes,
        Part::Chapter,
        Part::Events,
        Part::History,
        Part::Verdict,
        Part::Markers,
    ];
}

/// The running lab.
pub struct Lab {
    run: Box<dyn AnyRun>,
    horizon: SimTime,
    /// The verdict and the history length it was computed for.
    verdict_cache: Option<(usize, Rc<Checked>)>,
    /// Scrubber markers of the trace's first `markers_scanned` events.
    markers: Markers,
    /// The panels' parts as last refreshed; `None` until the first snapshot.
    panels: Option<Panels>,
    /// Per node, the number the stage shows under it and the role and status it was shown
    /// with ([`Lab::pace_terms`]).
    terms: Vec<(NodeId, Role, NodeStatus, u64)>,
}

/// Scrubber markers, kept up to date incrementally as the trace grows.
#[derive(Default)]
pub struct Markers {
    list: Rc<Vec<Marker>>,
    /// The horizon at the last refresh.
    horizon: SimTime,
    scanned: usize,
    committed: u64,
}

impl Lab {
    /// A run of the script's chapter, if this page runs it.
    pub fn new(script: &Script) -> Result<Self, String> {
        let run = chapters::new_run(script)?;
        Ok(Lab {
            run,
            horizon: SimTime::ZERO,
            verdict_cache: None,
            markers: Markers::default(),
            panels: None,
            terms: Vec::new(),
        })
    }

    pub fn script(&self) -> &Script {
        self.run.script()
    }
    pub fn header(&self) -> &Header {
        &self.script().header
    }
    pub fn now(&self) -> SimTime {
        self.run.now()
    }
    pub fn horizon(&self) -> SimTime {
        self.horizon
    }
    /// How many safety violations the run has found so far.
    pub fn violation_count(&self) -> usize {
        self.run.violations().len()
    }
    /// When the `i`th violation was found.
    pub fn violation_time(&self, i: usize) -> Option<SimTime> {
        self.run.violations().get(i).map(|f| f.time)
    }
    /// The digest of the trace so far (equal runs have equal digests).
    #[cfg(test)]
    pub fn trace_digest(&self) -> u64 {
        self.run.trace_digest()
    }

    /// Plays forward to `t`.
    pub fn advance_to(&mut self, t: SimTime) {
        self.run.seek(t);
        let now = self.run.now();
        self.horizon = self.horizon.max(now);
    }

    /// Moves to `t` anywhere in this branch (backwards replays from a checkpoint).
    pub fn seek(&mut self, t: SimTime) {
        self.advance_to(t);
    }

    /// Processes exactly the next event.
    pub fn step_forward(&mut self) {
        self.run.step_forward();
        let now = self.run.now();
        self.horizon = self.horizon.max(now);
    }

    /// Goes back to the instant of the previous event.
    pub fn step_back(&mut self) {
        self.run.step_back();
    }

    /// Acts now. After a rewind this branches: the old future is gone.
    pub fn act(&mut self, action: Action) {
        self.run.act(action);
        self.horizon = self.run.now();
    }

    /// The time of the trace event `index` (for "jump to the violation").
    pub fn event_time(&self, index: usize) -> Option<SimTime> {
        self.run.event_time(index)
    }

    /// Everything the views show, now.
    pub fn snapshot(&mut self) -> Snapshot {
        self.build(&Part::ALL, true)
    }

    /// A snapshot for an animation frame while playing: the stage and the clock as they are
    /// now; of the panels' parts only `part` rebuilt (the others as last built), and the
    /// linearizability verdict then only once the history has grown by a tenth since it was
    /// last checked. [`Lab::snapshot`] is exact in every part.
    pub fn frame_snapshot(&mut self, part: Option<Part>) -> Snapshot {
        self.build(part.as_slice(), false)
    }

    fn build(&mut self, parts: &[Part], exact: bool) -> Snapshot {
        let mut snapshot = self.run.stage_snapshot();
        snapshot.horizon = self.horizon.max(snapshot.now);
        self.pace_terms(&mut snapshot, exact || parts.contains(&Part::Nodes));
        // The first snapshot builds every part.
        let (mut panels, parts) = match self.panels.take() {
            Some(panels) => (panels, parts),
            None => (Panels::default(), &Part::ALL[..]),
        };
        for part in parts {
            match part {
                Part::Nodes => {
                    panels.nodes = Rc::new(self.run.node_views(true));
                    panels.messages = Rc::new(self.run.message_views(true));
                }
                Part::Chapter => panels.chapter = self.run.panel(),
                Part::Events => panels.events = self.run.event_lines(),
                Part::Verdict => panels.verdict = Some(self.verdict(exact)),
                Part::History => {
                    panels.properties = self.run.properties();
                    let history = self.run.history();
                    panels.history = Rc::new(history_view(history));
                    panels.history_total = history.events.iter().filter(|e| e.kind == Outcome::Invoke).count();
                }
                Part::Markers => {
                    self.run.update_markers(&mut self.markers);
                    self.markers.horizon = snapshot.horizon;
                }
            }
        }
        snapshot.markers = self.markers.list.clone();
        snapshot.markers_horizon = self.markers.horizon;
        snapshot.panels = panels.clone();
        self.panels = Some(panels);
        snapshot
    }

    /// The number under each node (a term, a ballot round, a Lamport time) as the stage shows
    /// it while playing: refreshed with the node views ([`Part::Nodes`], a few times a second)
    /// and at once when the node's role or status changes, so that the two never disagree. A
    /// number that changes at every event (a Lamport time at 100x) would otherwise be SVG text
    /// laid out again in every frame, nine of them, for a number no one can read at that pace.
    fn pace_terms(&mut self, snapshot: &mut Snapshot, refresh: bool) {
        let nodes = Rc::make_mut(&mut snapshot.nodes);
        let now = |n: &NodeView| (n.id, n.role, n.status, n.term);
        if refresh || self.terms.len() != nodes.len() {
            self.terms = nodes.iter().map(now).collect();
            return;
        }
        for (node, shown) in nodes.iter_mut().zip(&mut self.terms) {
            if (shown.0, shown.1, shown.2) == (node.id, node.role, node.status) {
                node.term = shown.3;
            } else {
                *shown = now(node);
            }
        }
    }

    /// The linearizability verdict, recomputed when the history grew (when not `exact`, only
    /// once it grew by a tenth: the check reads the whole history).
    fn verdict(&mut self, exact: bool) -> Rc<Checked> {
        let len = self.run.history().events.len();
        if let Some((at, verdict)) = &self.verdict_cache
            && (*at == len || (!exact && len >= *at && len - *at < (*at / 10).max(20)))
        {
            return verdict.clone();
        }
        let verdict = Rc::new(self.run.check_history());
        self.verdict_cache = Some((len, verdict.clone()));
        verdict
    }
}

/// The stage's parts of a snapshot (the panels' parts and the markers empty).
fn stage_snapshot<P: Shown>(sim: &Sim<P>) -> Snapshot {
    let now = sim.now();
    let nodes = AnyRun::node_views(sim, false);
    let trace = sim.trace();
    let messages = message_views(sim, false);
    let drops = trace
        .events
        .iter()
        .rev()
        .take_while(|e| e.time.as_us() + DROP_VISIBLE_US >= now.as_us())
        .filter_map(|e| match e.kind {
            EventKind::Drop { msg, reason } => {
                let record = trace.messages.get(msg as usize)?;
                let at = match reason {
                    DropReason::Loss => 0.5,
                    _ if e.time == record.sent => 0.1,
                    _ => 0.9,
                };
                let age = now.as_us().saturating_sub(e.time.as_us()) as f32 / DROP_VISIBLE_US as f32;
                Some(DropView {
                    id: msg,
                    from: record.from,
                    to: record.to,
                    kind: P::msg_kind(&record.msg),
                    reason,
                    at,
                    fade: (1.0 - age).clamp(0.0, 1.0),
                })
            }
            _ => None,
        })
        .collect();
    let net = sim.network();
    Snapshot {
        now,
        horizon: now,
        nodes: Rc::new(nodes),
        islands: Rc::new(net.islands()),
        cuts: Rc::new(net.cuts().collect()),
        messages: Rc::new(messages),
        drops: Rc::new(drops),
        markers: Rc::default(),
        markers_horizon: now,
        loss_ppm: net.loss_ppm,
        latency_us: (net.latency_min_us, net.latency_max_us),
        panels: Panels::default(),
    }
}

/// The messages in flight, with their `fields` when `fields`.
fn message_views<P: Shown>(sim: &Sim<P>, fields: bool) -> Vec<MessageView> {
    let now = sim.now();
    let trace = sim.trace();
    sim.in_flight()
        .into_iter()
        .filter_map(|f| {
            let msg = &trace.messages.get(f.msg as usize)?.msg;
            let span = f.arrives.as_us().saturating_sub(f.sent.as_us()).max(1);
            let progress = (now.as_us().saturating_sub(f.sent.as_us()) as f32 / span as f32).clamp(0.0, 1.0);
            let kind = P::msg_kind(msg);
            Some(MessageView {
                id: f.msg,
                from: f.from,
                to: f.to,
                kind,
                style: P::msg_style(msg),
                label: msg.to_string(),
                meaning: P::MESSAGE_KINDS
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map_or("", |(_, meaning)| meaning),
                fields: if fields { P::msg_fields(msg) } else { Vec::new() },
                progress: if f.lost { progress * 0.5 } else { progress },
                lost: f.lost,
            })
        })
        .collect()
}

/// Each safety property and the first violation of it, if any.
fn properties<P: Shown>(sim: &Sim<P>) -> Rc<Vec<PropertyView>> {
    let properties = <P::Monitor as Monitor<P>>::properties()
        .iter()
        .map(|&name| PropertyView {
            name,
            broken: sim.violations().iter().find(|f| f.violation.property == name).map(|f| {
                let nodes: Vec<String> = f.violation.nodes.iter().map(|n| format!("n{n}")).collect();
                (
                    f.time,
                    f.event,
                    format!("{} ({})", f.violation.detail, nodes.join(", ")),
                )
            }),
        })
        .collect();
    Rc::new(properties)
}

/// The last [`EVENT_LINES`] trace events as readable lines.
fn event_lines<P: Shown>(sim: &Sim<P>) -> Rc<Vec<EventLine>> {
    let trace = sim.trace();
    let first = trace.events.len().saturating_sub(EVENT_LINES);
    let events = trace
        .events
        .iter_from(first)
        .enumerate()
        .map(|(i, e)| {
            let msg = match e.kind {
                EventKind::Send { msg, .. } | EventKind::Deliver { msg } | EventKind::Drop { msg, .. } => {
                    trace.messages.get(msg as usize).map(|m| &m.msg)
                }
                _ => None,
            };
            EventLine {
                index: first + i,
                time: e.time,
                class: line_class::<P>(&e.kind, msg),
                text: line_text(sim, e),
            }
        })
        .collect();
    Rc::new(events)
}

/// What the event `kind` is about; `msg` is the message of a send, delivery or drop.
pub(crate) fn line_class<P: Protocol>(kind: &EventKind, msg: Option<&P::Msg>) -> LineClass {
    let routine_timer = |kind: TimerKind| P::TIMERS.get(usize::from(kind)).is_some_and(|t| t.routine);
    match kind {
        EventKind::Action { .. } => LineClass::Action,
        EventKind::Violation { .. } => LineClass::Violation,
        EventKind::Note(Note::Role { .. }) | EventKind::ForcedTimeout => LineClass::Role,
        EventKind::Send { .. } | EventKind::Deliver { .. } | EventKind::Drop { .. }
            if msg.is_some_and(|m| P::msg_style(m).routine) =>
        {
            LineClass::Heartbeat
        }
        EventKind::Timer { kind } if routine_timer(*kind) => LineClass::Heartbeat,
        EventKind::Drop { .. } | EventKind::ClientDrop { .. } => LineClass::Drop,
        EventKind::Note(_) => LineClass::Log,
        EventKind::Invoke { .. }
        | EventKind::ClientSend { .. }
        | EventKind::ClientReply { .. }
        | EventKind::Return { .. }
        | EventKind::ClientTimeout { .. } => LineClass::Client,
        EventKind::Send { .. } | EventKind::Deliver { .. } => LineClass::Message,
        EventKind::Timer { .. } => LineClass::Other,
    }
}

/// The trace's line for `e` without its time, with timers named and violations in words.
fn line_text<P: Shown>(sim: &Sim<P>, e: &Event) -> String {
    if let EventKind::Timer { kind } = e.kind
        && let Some(timer) = P::TIMERS.get(usize::from(kind))
    {
        return format!("n{} {} timer fires", e.node, timer.name);
    }
    if let EventKind::Violation { index } = e.kind {
        return format!("VIOLATION of a safety property (#{index}, named in Safety)");
    }
    let action = |i: u32| {
        let action = sim.script().actions.get(i as usize);
        action.map_or_else(|| format!("#{i}"), |a| a.action.to_string())
    };
    let mut text = String::new();
    sim.trace().write_body(&mut text, e, &action);
    text
}

/// A node's key-value data, for the panels (`full`) only.
#[cfg(any(feature = "raft", feature = "paxos"))]
pub(crate) fn kv_view(kv: &deepend_core::kv::KvStore, full: bool) -> Vec<(Key, Value)> {
    if full {
        kv.data().iter().map(|(k, v)| (*k, *v)).collect()
    } else {
        Vec::new()
    }
}

/// The fields every node view has whatever the protocol: status, clock, election timer.
pub(crate) fn common<P: Shown>(sim: &Sim<P>, id: NodeId) -> NodeView {
    let (clock_offset_us, clock_drift_ppm) = sim.clock(id);
    let election_left = sim.timer_window(id, P::ELECTION_TIMER).map(|(set, due)| {
        let span = due.as_us().saturating_sub(set.as_us()).max(1);
        (due.as_us().saturating_sub(sim.now().as_us()) as f32 / span as f32).clamp(0.0, 1.0)
    });
    NodeView {
        id,
        role: Role::FOLLOWER,
        status: sim.status(id),
        term: 0,
        leader: None,
        commit_index: 0,
        last_applied: 0,
        last_index: 0,
        log: Vec::new(),
        election_left,
        kv: Vec::new(),
        clock_offset_us,
        clock_drift_ppm,
        detail: Detail::Fields(Vec::new()),
        shape: NodeShape::Circle,
        marks: Vec::new(),
        caption: None,
    }
}

/// How many of the latest client operations the history panel gets: as many as it lists.
pub const HISTORY_WINDOW: usize = 60;

/// The latest [`HISTORY_WINDOW`] operations, each with its invocation and return.
fn history_view(history: &History) -> Vec<OpView> {
    let mut ops: Vec<OpView> = Vec::new();
    let mut open: Vec<(ClientId, usize)> = Vec::new();
    // Start at the invocation of the oldest operation in the window; completions of earlier
    // operations then find no open invocation and are passed over.
    let mut invokes = 0;
    let from = history
        .events
        .iter()
        .rposition(|e| {
            invokes += usize::from(e.kind == Outcome::Invoke);
            invokes == HISTORY_WINDOW
        })
        .unwrap_or(0);
    for e in &history.events[from..] {
        if e.kind == Outcome::Invoke {
            open.retain(|(c, _)| *c != e.client);
            open.push((e.client, ops.len()));
            ops.push(OpView {
                client: e.client,
                op: e.op,
                invoked: SimTime(e.time_us),
                returned: None,
                outcome: OpOutcome::Pending,
            });
        } else if let Some(pos) = open.iter().position(|(c, _)| *c == e.client) {
            let (_, i) = open.remove(pos);
            ops[i].returned = Some(SimTime(e.time_us));
            ops[i].outcome = match e.kind {
                Outcome::Ok => OpOutcome::Ok { read: e.read },
                Outcome::Fail => OpOutcome::Fail,
                _ => OpOutcome::Info,
            };
        }
    }
    ops
}

impl Markers {
    /// Faults, leader changes, first commits of each index and violations, in time order.
    fn update<P: Shown>(&mut self, sim: &Sim<P>) {
        let events = &sim.trace().events;
        if events.len() < self.scanned {
            // Rewound: the trace was cut back, so scan it again.
            *self = Markers::default();
        }
        if events.len() == self.scanned {
            return;
        }
        let list = Rc::make_mut(&mut self.list);
        for e in events.iter_from(self.scanned) {
            let marker = match &e.kind {
                EventKind::Action { index } => sim.script().actions.get(*index as usize).and_then(|a| match a.action {
                    Action::Request { .. } | Action::Load { .. } => None,
                    ref other => Some((MarkerKind::Fault, other.to_string())),
                }),
                EventKind::Note(Note::Role { role, term }) if role.leads => {
                    Some((MarkerKind::Leader, format!("n{} leads {} {term}", e.node, P::TERM)))
                }
                EventKind::Note(Note::Commit { index }) if *index > self.committed => {
                    self.committed = *index;
                    Some((MarkerKind::Commit, P::commit_label(*index)))
                }
                EventKind::Violation { index } => sim
                    .violations()
                    .get(*index as usize)
                    .map(|f| (MarkerKind::Violation, f.violation.property.to_string())),
                _ => None,
            };
            if let Some((kind, label)) = marker {
                list.push(Marker {
                    time: e.time,
                    kind,
                    label,
                });
            }
        }
        self.scanned = events.len();
    }
}
