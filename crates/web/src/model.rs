//! The lab's model: the running simulation and the plain data every view renders from it.
//! No Yew here, and nothing here mutates protocol state: every change is a core `Action`
//! appended to the script at the current simulated time (`Sim::act`), or a reset to a new
//! scenario.

use deepend_core::chunked::SlotMap;
use deepend_core::history::{EventKind as Outcome, History};
use deepend_core::kv::{Command, KvStore};
use deepend_core::lin::{self, Verdict};
use deepend_core::net::DropReason;
use deepend_core::paxos::{self, Ballot, Paxos, PaxosParams, Phase};
use deepend_core::protocol::{Monitor, Note, Params as _, Role, TimerKind};
use deepend_core::raft::{self, Raft};
use deepend_core::script::{Action, Header, Script};
use deepend_core::sim::{NodeStatus, Sim};
use deepend_core::trace::EventKind;
use deepend_core::{ClientId, Key, NodeId, Protocol, SimTime, Value};
use std::rc::Rc;

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
    pub clock_offset_us: i64,
    pub clock_drift_ppm: i32,
    pub detail: Detail,
}

impl NodeView {
    /// A Raft node in its pre-vote phase (the stage draws it apart from a candidate).
    pub fn pre_candidate(&self) -> bool {
        matches!(
            self.detail,
            Detail::Raft {
                pre_candidate: true,
                ..
            }
        )
    }
}

/// The protocol's own fields of a node, for the inspector.
#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    /// The rest of the paper's Figure 2.
    Raft {
        voted_for: Option<NodeId>,
        pre_candidate: bool,
        /// For a leader: `(peer, nextIndex, matchIndex)`.
        replication: Vec<(NodeId, u64, u64)>,
    },
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
    pub label: String,
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
    pub op: String,
    pub invoked: SimTime,
    pub returned: Option<SimTime>,
    /// `ok`, `ok 5`, `fail`, `info` (unknown), or `pending`.
    pub outcome: String,
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

/// One readable trace line.
#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    pub index: usize,
    pub time: SimTime,
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
    pub verdict: Rc<String>,
    pub events: Rc<Vec<EventLine>>,
}

/// What the lab needs from a protocol beyond [`Protocol`]: its node view and a few words.
/// Everything else (messages, drops, markers, events, history, verdict, islands) is written
/// once, over any protocol.
pub trait Shown: Protocol {
    /// The timer the stage shows as a shrinking ring.
    const ELECTION_TIMER: TimerKind;
    /// What a term is called ("term", "ballot round").
    const TERM: &'static str;
    /// A scrubber label for the first commit of `index`.
    fn commit_label(index: u64) -> String;
    /// A node as the views show it. The stage needs only the summary (role, term, status,
    /// indexes, timer); `full` adds what the panels read (the log window, the key-value data,
    /// the protocol's per-peer and per-slot fields), which costs most of the view to build.
    fn node_view(sim: &Sim<Self>, id: NodeId, full: bool) -> NodeView;
}

/// A part of the page that follows a playing run a few times a second rather than every
/// frame. Each is refreshed in a frame of its own, so that no frame pays for all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The nodes' full views: the logs and the inspector.
    Nodes,
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
    pub const ALL: [Part; 5] = [Part::Nodes, Part::Events, Part::History, Part::Verdict, Part::Markers];
}

/// A run of one of the lab's protocols.
enum Run {
    Raft(Sim<Raft>),
    Paxos(Sim<Paxos>),
}

/// Evaluates `$body` with `$sim` bound to the run's `Sim<P>`, whatever `P` is.
macro_rules! with_sim {
    ($run:expr, $sim:ident => $body:expr) => {
        match $run {
            Run::Raft($sim) => $body,
            Run::Paxos($sim) => $body,
        }
    };
}

/// The running lab.
pub struct Lab {
    run: Run,
    horizon: SimTime,
    /// The verdict and the history length it was computed for.
    verdict_cache: Option<(usize, Rc<String>)>,
    /// Scrubber markers of the trace's first `markers_scanned` events.
    markers: Markers,
    /// The panels' parts as last refreshed; `None` until the first snapshot.
    panels: Option<Panels>,
}

/// Scrubber markers, kept up to date incrementally as the trace grows.
#[derive(Default)]
struct Markers {
    list: Rc<Vec<Marker>>,
    /// The horizon at the last refresh.
    horizon: SimTime,
    scanned: usize,
    committed: u64,
}

impl Lab {
    /// A run of the script's protocol (`raft` or `paxos`).
    pub fn new(script: &Script) -> Result<Self, String> {
        let run = match script.header.protocol.as_str() {
            p if p == Raft::NAME => Run::Raft(Sim::new(script)?),
            p if p == Paxos::NAME => Run::Paxos(Sim::new(script)?),
            other => {
                return Err(format!(
                    "the lab has no protocol called {other:?} (it has raft and paxos)"
                ));
            }
        };
        Ok(Lab {
            run,
            horizon: SimTime::ZERO,
            verdict_cache: None,
            markers: Markers::default(),
            panels: None,
        })
    }

    pub fn script(&self) -> &Script {
        with_sim!(&self.run, sim => sim.script())
    }
    pub fn header(&self) -> &Header {
        &self.script().header
    }
    pub fn now(&self) -> SimTime {
        with_sim!(&self.run, sim => sim.now())
    }
    pub fn horizon(&self) -> SimTime {
        self.horizon
    }
    /// How many safety violations the run has found so far.
    pub fn violation_count(&self) -> usize {
        with_sim!(&self.run, sim => sim.violations().len())
    }
    /// When the `i`th violation was found.
    pub fn violation_time(&self, i: usize) -> Option<SimTime> {
        with_sim!(&self.run, sim => sim.violations().get(i).map(|f| f.time))
    }
    /// The digest of the trace so far (equal runs have equal digests).
    #[cfg(test)]
    pub fn trace_digest(&self) -> u64 {
        with_sim!(&self.run, sim => sim.trace_digest())
    }

    /// Plays forward to `t`.
    pub fn advance_to(&mut self, t: SimTime) {
        let now = with_sim!(&mut self.run, sim => {
            sim.seek(t);
            sim.now()
        });
        self.horizon = self.horizon.max(now);
    }

    /// Moves to `t` anywhere in this branch (backwards replays from a checkpoint).
    pub fn seek(&mut self, t: SimTime) {
        self.advance_to(t);
    }

    /// Processes exactly the next event.
    pub fn step_forward(&mut self) {
        let now = with_sim!(&mut self.run, sim => {
            if let Some(t) = sim.next_event_time() {
                if t > sim.now() {
                    sim.run_until(SimTime(t.as_us() - 1));
                }
                sim.step();
            }
            sim.now()
        });
        self.horizon = self.horizon.max(now);
    }

    /// Goes back to the instant of the previous event.
    pub fn step_back(&mut self) {
        with_sim!(&mut self.run, sim => {
            let now = sim.now();
            let previous = sim.trace().events.iter().rev().map(|e| e.time).find(|&t| t < now);
            sim.seek(previous.unwrap_or(SimTime::ZERO));
        })
    }

    /// Acts now. After a rewind this branches: the old future is gone.
    pub fn act(&mut self, action: Action) {
        self.horizon = with_sim!(&mut self.run, sim => {
            sim.act(action);
            sim.now()
        });
    }

    /// The time of the trace event `index` (for "jump to the violation").
    pub fn event_time(&self, index: usize) -> Option<SimTime> {
        with_sim!(&self.run, sim => sim.trace().events.get(index).map(|e| e.time))
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
        let mut snapshot = with_sim!(&self.run, sim => stage_snapshot(sim));
        snapshot.horizon = self.horizon.max(snapshot.now);
        // The first snapshot builds every part.
        let (mut panels, parts) = match self.panels.take() {
            Some(panels) => (panels, parts),
            None => (Panels::default(), &Part::ALL[..]),
        };
        for part in parts {
            match part {
                Part::Nodes => {
                    panels.nodes = with_sim!(&self.run, sim => Rc::new(node_views(sim, true)));
                    panels.messages = snapshot.messages.clone();
                }
                Part::Events => panels.events = with_sim!(&self.run, sim => event_lines(sim)),
                Part::Verdict => panels.verdict = self.verdict(exact),
                Part::History => with_sim!(&self.run, sim => {
                    panels.properties = properties(sim);
                    panels.history = Rc::new(history_view(sim.history()));
                    panels.history_total = sim.history().events.iter().filter(|e| e.kind == Outcome::Invoke).count();
                }),
                Part::Markers => {
                    with_sim!(&self.run, sim => self.markers.update(sim));
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

    /// The linearizability verdict, recomputed when the history grew (when not `exact`, only
    /// once it grew by a tenth: the check reads the whole history).
    fn verdict(&mut self, exact: bool) -> Rc<String> {
        let history = with_sim!(&self.run, sim => sim.history());
        let len = history.events.len();
        if let Some((at, text)) = &self.verdict_cache
            && (*at == len || (!exact && len >= *at && len - *at < (*at / 10).max(20)))
        {
            return text.clone();
        }
        let text = Rc::new(match lin::check(history, lin::DEFAULT_BUDGET) {
            Verdict::Linearizable => "linearizable".to_string(),
            Verdict::NotLinearizable { key, detail } => format!("NOT linearizable on k{key}: {detail}"),
            Verdict::Unknown { key, reason } => format!("unknown on k{key}: {reason}"),
        });
        self.verdict_cache = Some((len, text.clone()));
        text
    }
}

/// The stage's parts of a snapshot (the panels' parts and the markers empty).
fn stage_snapshot<P: Shown>(sim: &Sim<P>) -> Snapshot {
    let now = sim.now();
    let nodes = node_views(sim, false);
    let trace = sim.trace();
    let messages = sim
        .in_flight()
        .into_iter()
        .filter_map(|f| {
            let record = trace.messages.get(f.msg as usize)?;
            let span = f.arrives.as_us().saturating_sub(f.sent.as_us()).max(1);
            let progress = (now.as_us().saturating_sub(f.sent.as_us()) as f32 / span as f32).clamp(0.0, 1.0);
            Some(MessageView {
                id: f.msg,
                from: f.from,
                to: f.to,
                kind: P::msg_kind(&record.msg),
                label: record.msg.to_string(),
                progress: if f.lost { progress * 0.5 } else { progress },
                lost: f.lost,
            })
        })
        .collect();
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

/// Every node's view: summaries for the stage, or `full` for the panels.
fn node_views<P: Shown>(sim: &Sim<P>, full: bool) -> Vec<NodeView> {
    (1..=sim.node_count()).map(|id| P::node_view(sim, id, full)).collect()
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
            let mut text = String::new();
            sim.write_event_line(&mut text, e);
            EventLine {
                index: first + i,
                time: e.time,
                text: text.trim_start().to_string(),
            }
        })
        .collect();
    Rc::new(events)
}

/// A node's key-value data, for the panels (`full`) only.
fn kv_view(kv: &KvStore, full: bool) -> Vec<(Key, Value)> {
    if full {
        kv.data().iter().map(|(k, v)| (*k, *v)).collect()
    } else {
        Vec::new()
    }
}

/// The fields every node view has whatever the protocol: status, clock, election timer.
fn common<P: Shown>(sim: &Sim<P>, id: NodeId) -> NodeView {
    let (clock_offset_us, clock_drift_ppm) = sim.clock(id);
    let election_left = sim.timer_window(id, P::ELECTION_TIMER).map(|(set, due)| {
        let span = due.as_us().saturating_sub(set.as_us()).max(1);
        (due.as_us().saturating_sub(sim.now().as_us()) as f32 / span as f32).clamp(0.0, 1.0)
    });
    NodeView {
        id,
        role: Role::Follower,
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
        detail: Detail::Raft {
            voted_for: None,
            pre_candidate: false,
            replication: Vec::new(),
        },
    }
}

impl Shown for Raft {
    const ELECTION_TIMER: TimerKind = raft::ELECTION_TIMER;
    const TERM: &'static str = "term";

    fn commit_label(index: u64) -> String {
        format!("index {index} committed")
    }

    fn node_view(sim: &Sim<Raft>, id: NodeId, full: bool) -> NodeView {
        let base = common(sim, id);
        let window = |log: &raft::Log, committed: u64| {
            if !full {
                return Vec::new();
            }
            let from = log.last_index().saturating_sub(LOG_WINDOW) + 1;
            (from..=log.last_index())
                .filter_map(|index| {
                    let e = log.get(index)?;
                    Some(EntryView {
                        index,
                        term: e.term,
                        committed: index <= committed,
                        command: e.command,
                    })
                })
                .collect::<Vec<_>>()
        };
        match sim.node(id) {
            Some(r) => NodeView {
                role: r.role(),
                term: r.term(),
                leader: r.leader(),
                commit_index: r.commit_index(),
                last_applied: r.last_applied(),
                last_index: r.log().last_index(),
                log: window(r.log(), r.commit_index()),
                kv: kv_view(r.kv(), full),
                detail: Detail::Raft {
                    voted_for: r.voted_for(),
                    pre_candidate: r.is_pre_candidate(),
                    replication: (1..=sim.node_count())
                        .filter(|&p| full && p != id)
                        .filter_map(|p| Some((p, r.next_index(p)?, r.match_index(p)?)))
                        .collect(),
                },
                ..base
            },
            None => match sim.stable(id) {
                Some(s) => NodeView {
                    term: s.current_term,
                    last_index: s.log.last_index(),
                    log: window(&s.log, 0),
                    detail: Detail::Raft {
                        voted_for: s.voted_for,
                        pre_candidate: false,
                        replication: Vec::new(),
                    },
                    election_left: None,
                    ..base
                },
                None => NodeView {
                    election_left: None,
                    ..base
                },
            },
        }
    }
}

impl Shown for Paxos {
    const ELECTION_TIMER: TimerKind = paxos::ELECTION_TIMER;
    const TERM: &'static str = "ballot round";

    fn commit_label(slot: u64) -> String {
        format!("slot {slot} chosen")
    }

    fn node_view(sim: &Sim<Paxos>, id: NodeId, full: bool) -> NodeView {
        let base = common(sim, id);
        let params = sim.node(id).map(|p| p.params().clone()).unwrap_or_else(|| {
            let mut params = PaxosParams::default();
            for (k, v) in &sim.script().header.settings {
                let _ = params.set(k, v);
            }
            params
        });
        let mode = params.mode.as_str();
        let proposer = params.is_proposer(id);
        match sim.node(id) {
            Some(p) => {
                let (slots, log) = paxos_slots(p.accepted_all(), p.learned_all(), full);
                NodeView {
                    role: p.role(),
                    term: p.term(),
                    leader: p.leader(),
                    commit_index: p.chosen_prefix(),
                    last_applied: p.last_applied(),
                    last_index: last_slot(p.accepted_all(), p.learned_all()),
                    log,
                    kv: kv_view(p.kv(), full),
                    detail: Detail::Paxos {
                        mode,
                        proposer,
                        promised: p.promised(),
                        phase: phase_name(p.phase()),
                        ballot: p.ballot(),
                        promises: p.promises(),
                        slots,
                    },
                    ..base
                }
            }
            None => {
                let empty = paxos::Stable::default();
                let s = sim.stable(id).unwrap_or(&empty);
                let (slots, log) = paxos_slots(&s.acceptor.accepted, &s.learned, full);
                NodeView {
                    term: s.acceptor.promised.round.max(s.round),
                    last_index: last_slot(&s.acceptor.accepted, &s.learned),
                    log,
                    election_left: None,
                    detail: Detail::Paxos {
                        mode,
                        proposer,
                        promised: s.acceptor.promised,
                        phase: "crashed",
                        ballot: Ballot::ZERO,
                        promises: Vec::new(),
                        slots,
                    },
                    ..base
                }
            }
        }
    }
}

type Slots = SlotMap<(Ballot, Command)>;

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Idle => "idle",
        Phase::Backoff => "backoff",
        Phase::Preparing => "preparing (phase 1)",
        Phase::Accepting => "accepting (phase 2)",
    }
}

/// The highest slot with an accepted or a learned value.
fn last_slot(accepted: &Slots, learned: &Slots) -> u64 {
    let last = |m: &Slots| m.last_key().unwrap_or(0);
    last(accepted).max(last(learned))
}

/// The last [`LOG_WINDOW`] slots with anything in them (none unless `full`), for the inspector, and as log entries
/// for the log panel: a learned value is a committed entry of the round it was learned in; an
/// accepted one is an uncommitted entry of its ballot's round.
fn paxos_slots(accepted: &Slots, learned: &Slots, full: bool) -> (Vec<SlotView>, Vec<EntryView>) {
    if !full {
        return (Vec::new(), Vec::new());
    }
    let last = last_slot(accepted, learned);
    let from = last.saturating_sub(LOG_WINDOW) + 1;
    let slots: Vec<SlotView> = (from..=last)
        .filter_map(|slot| {
            let (a, l) = (accepted.get(slot), learned.get(slot));
            (a.is_some() || l.is_some()).then(|| SlotView {
                slot,
                accepted: a.copied(),
                learned: l.copied(),
            })
        })
        .collect();
    let log = slots
        .iter()
        .filter_map(|s| {
            let (ballot, command, committed) = match (&s.learned, &s.accepted) {
                (Some((b, v)), _) => (b, v, true),
                (None, Some((b, v))) => (b, v, false),
                (None, None) => return None,
            };
            Some(EntryView {
                index: s.slot,
                term: ballot.round,
                committed,
                command: *command,
            })
        })
        .collect();
    (slots, log)
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
                op: e.op.to_string(),
                invoked: SimTime(e.time_us),
                returned: None,
                outcome: "pending".into(),
            });
        } else if let Some(pos) = open.iter().position(|(c, _)| *c == e.client) {
            let (_, i) = open.remove(pos);
            ops[i].returned = Some(SimTime(e.time_us));
            ops[i].outcome = match (e.kind, e.read) {
                (Outcome::Ok, Some(v)) => format!("ok {v}"),
                (Outcome::Ok, None) => "ok".into(),
                (Outcome::Fail, _) => "fail".into(),
                _ => "info (unknown)".into(),
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
                EventKind::Note(Note::Role {
                    role: Role::Leader,
                    term,
                }) => Some((MarkerKind::Leader, format!("n{} leads {} {term}", e.node, P::TERM))),
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
