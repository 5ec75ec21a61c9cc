//! The lab's model: the running simulation and the plain data every view renders from it.
//! No Yew here, and nothing here mutates protocol state: every change is a core `Action`
//! appended to the script at the current simulated time (`Sim::act`), or a reset to a new
//! scenario.

use deepend_core::history::EventKind as Outcome;
use deepend_core::lin::{self, Verdict};
use deepend_core::net::DropReason;
use deepend_core::protocol::{Monitor as _, Note, Role};
use deepend_core::raft::{ELECTION_TIMER, Raft, monitor::RaftMonitor};
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
    /// `noop`, `write k1 5`, ...
    pub command: String,
}

/// One node, with every field of the paper's Figure 2 for the inspector.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeView {
    pub id: NodeId,
    pub role: Role,
    pub status: NodeStatus,
    /// The current term; while crashed, the persisted one.
    pub term: u64,
    pub voted_for: Option<NodeId>,
    pub leader: Option<NodeId>,
    pub pre_candidate: bool,
    pub commit_index: u64,
    pub last_applied: u64,
    pub last_index: u64,
    /// The last [`LOG_WINDOW`] entries (a crashed node shows its persisted log).
    pub log: Vec<EntryView>,
    /// For a leader: `(peer, nextIndex, matchIndex)`.
    pub replication: Vec<(NodeId, u64, u64)>,
    /// Share of the election timeout still to run (1 just set, 0 about to fire).
    pub election_left: Option<f32>,
    pub kv: Vec<(Key, Value)>,
    pub clock_offset_us: i64,
    pub clock_drift_ppm: i32,
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
    pub properties: Rc<Vec<PropertyView>>,
    pub history: Rc<Vec<OpView>>,
    pub verdict: Rc<String>,
    pub events: Rc<Vec<EventLine>>,
    pub markers: Rc<Vec<Marker>>,
    pub loss_ppm: u32,
    pub latency_us: (u64, u64),
}

/// The running lab.
pub struct Lab {
    sim: Sim<Raft>,
    horizon: SimTime,
    /// The verdict and the history length it was computed for.
    verdict_cache: Option<(usize, Rc<String>)>,
    /// Scrubber markers of the trace's first `markers_scanned` events.
    markers: Markers,
    /// The panels' parts of the last full snapshot.
    panels: Option<PanelParts>,
}

/// The parts of a snapshot that only the panels show, kept between full snapshots.
#[derive(Clone)]
struct PanelParts {
    properties: Rc<Vec<PropertyView>>,
    history: Rc<Vec<OpView>>,
    verdict: Rc<String>,
    events: Rc<Vec<EventLine>>,
}

/// Scrubber markers, kept up to date incrementally as the trace grows.
#[derive(Default)]
struct Markers {
    list: Rc<Vec<Marker>>,
    scanned: usize,
    committed: u64,
}

impl Lab {
    pub fn new(script: &Script) -> Result<Self, String> {
        Ok(Lab {
            sim: Sim::new(script)?,
            horizon: SimTime::ZERO,
            verdict_cache: None,
            markers: Markers::default(),
            panels: None,
        })
    }

    pub fn script(&self) -> &Script {
        self.sim.script()
    }
    pub fn header(&self) -> &Header {
        &self.sim.script().header
    }
    pub fn now(&self) -> SimTime {
        self.sim.now()
    }
    pub fn horizon(&self) -> SimTime {
        self.horizon
    }
    pub fn sim(&self) -> &Sim<Raft> {
        &self.sim
    }

    /// Plays forward to `t`.
    pub fn advance_to(&mut self, t: SimTime) {
        self.sim.seek(t);
        self.horizon = self.horizon.max(self.sim.now());
    }

    /// Moves to `t` anywhere in this branch (backwards replays from a checkpoint).
    pub fn seek(&mut self, t: SimTime) {
        self.advance_to(t);
    }

    /// Processes exactly the next event.
    pub fn step_forward(&mut self) {
        if let Some(t) = self.sim.next_event_time() {
            if t > self.sim.now() {
                self.sim.run_until(SimTime(t.as_us() - 1));
            }
            self.sim.step();
        }
        self.horizon = self.horizon.max(self.sim.now());
    }

    /// Goes back to the instant of the previous event.
    pub fn step_back(&mut self) {
        let now = self.sim.now();
        let previous = self.sim.trace().events.iter().rev().map(|e| e.time).find(|&t| t < now);
        self.sim.seek(previous.unwrap_or(SimTime::ZERO));
    }

    /// Acts now. After a rewind this branches: the old future is gone.
    pub fn act(&mut self, action: Action) {
        self.sim.act(action);
        self.horizon = self.sim.now();
    }

    /// The time of the trace event `index` (for "jump to the violation").
    pub fn event_time(&self, index: usize) -> Option<SimTime> {
        self.sim.trace().events.get(index).map(|e| e.time)
    }

    /// Everything the views show, now.
    pub fn snapshot(&mut self) -> Snapshot {
        self.build(true)
    }

    /// What the stage, the clock and the scrubber show, now; the panels' parts (safety,
    /// history, events) as they were at the last [`Lab::snapshot`]. Cheap enough for every
    /// animation frame at top speed, where the panels refresh only a few times a second.
    pub fn stage_snapshot(&mut self) -> Snapshot {
        self.build(false)
    }

    fn build(&mut self, full: bool) -> Snapshot {
        let sim = &self.sim;
        let now = sim.now();
        let nodes: Vec<NodeView> = (1..=sim.node_count()).map(|id| node_view(sim, id)).collect();
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
                    kind: Raft::msg_kind(&record.msg),
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
                        kind: Raft::msg_kind(&record.msg),
                        reason,
                        at,
                        fade: (1.0 - age).clamp(0.0, 1.0),
                    })
                }
                _ => None,
            })
            .collect();
        let markers = self.markers();
        let panels = match self.panels.take().filter(|_| !full) {
            Some(panels) => panels,
            None => self.panel_parts(),
        };
        self.panels = Some(panels.clone());
        let sim = &self.sim;
        let net = sim.network();
        Snapshot {
            now,
            horizon: self.horizon.max(now),
            nodes: Rc::new(nodes),
            islands: Rc::new(net.islands()),
            cuts: Rc::new(net.cuts().collect()),
            messages: Rc::new(messages),
            drops: Rc::new(drops),
            properties: panels.properties,
            history: panels.history,
            verdict: panels.verdict,
            events: panels.events,
            markers,
            loss_ppm: net.loss_ppm,
            latency_us: (net.latency_min_us, net.latency_max_us),
        }
    }

    /// The panels' parts of a snapshot.
    fn panel_parts(&mut self) -> PanelParts {
        let sim = &self.sim;
        let properties = RaftMonitor::properties()
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
        let history = history_view(sim);
        let verdict = self.verdict();
        let sim = &self.sim;
        let trace = sim.trace();
        let first = trace.events.len().saturating_sub(EVENT_LINES);
        let events = trace.events[first..]
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut text = String::new();
                trace.write_line(&mut text, e, &|a| {
                    sim.script()
                        .actions
                        .get(a as usize)
                        .map_or_else(String::new, |t| t.action.to_string())
                });
                EventLine {
                    index: first + i,
                    time: e.time,
                    text: text.trim_start().to_string(),
                }
            })
            .collect();
        PanelParts {
            properties: Rc::new(properties),
            history: Rc::new(history),
            verdict,
            events: Rc::new(events),
        }
    }

    /// The linearizability verdict, recomputed only when the history grew.
    fn verdict(&mut self) -> Rc<String> {
        let len = self.sim.history().events.len();
        if let Some((at, text)) = &self.verdict_cache
            && *at == len
        {
            return text.clone();
        }
        let text = Rc::new(match lin::check(self.sim.history(), lin::DEFAULT_BUDGET) {
            Verdict::Linearizable => "linearizable".to_string(),
            Verdict::NotLinearizable { key, detail } => format!("NOT linearizable on k{key}: {detail}"),
            Verdict::Unknown { key, reason } => format!("unknown on k{key}: {reason}"),
        });
        self.verdict_cache = Some((len, text.clone()));
        text
    }
}

fn node_view(sim: &Sim<Raft>, id: NodeId) -> NodeView {
    let status = sim.status(id);
    let (clock_offset_us, clock_drift_ppm) = sim.clock(id);
    let election_left = sim.timer_window(id, ELECTION_TIMER).map(|(set, due)| {
        let span = due.as_us().saturating_sub(set.as_us()).max(1);
        (due.as_us().saturating_sub(sim.now().as_us()) as f32 / span as f32).clamp(0.0, 1.0)
    });
    match sim.node(id) {
        Some(r) => {
            let log = r.log();
            let from = log.last_index().saturating_sub(LOG_WINDOW) + 1;
            let entries = (from..=log.last_index())
                .filter_map(|index| {
                    let e = log.get(index)?;
                    Some(EntryView {
                        index,
                        term: e.term,
                        committed: index <= r.commit_index(),
                        command: e.command.to_string(),
                    })
                })
                .collect();
            let replication = (1..=sim.node_count())
                .filter(|&p| p != id)
                .filter_map(|p| Some((p, r.next_index(p)?, r.match_index(p)?)))
                .collect();
            NodeView {
                id,
                role: r.role(),
                status,
                term: r.term(),
                voted_for: r.voted_for(),
                leader: r.leader(),
                pre_candidate: r.is_pre_candidate(),
                commit_index: r.commit_index(),
                last_applied: r.last_applied(),
                last_index: log.last_index(),
                log: entries,
                replication,
                election_left,
                kv: r.kv().data().iter().map(|(k, v)| (*k, *v)).collect(),
                clock_offset_us,
                clock_drift_ppm,
            }
        }
        None => {
            let stable = sim.stable(id);
            let (term, voted_for, log) = stable.map_or((0, None, Vec::new()), |s| {
                let last = s.log.last_index();
                let from = last.saturating_sub(LOG_WINDOW) + 1;
                let log = (from..=last)
                    .filter_map(|index| {
                        let e = s.log.get(index)?;
                        Some(EntryView {
                            index,
                            term: e.term,
                            committed: false,
                            command: e.command.to_string(),
                        })
                    })
                    .collect();
                (s.current_term, s.voted_for, log)
            });
            NodeView {
                id,
                role: Role::Follower,
                status,
                term,
                voted_for,
                leader: None,
                pre_candidate: false,
                commit_index: 0,
                last_applied: 0,
                last_index: log.last().map_or(0, |e: &EntryView| e.index),
                log,
                replication: Vec::new(),
                election_left: None,
                kv: Vec::new(),
                clock_offset_us,
                clock_drift_ppm,
            }
        }
    }
}

fn history_view(sim: &Sim<Raft>) -> Vec<OpView> {
    let mut ops: Vec<OpView> = Vec::new();
    let mut open: Vec<(ClientId, usize)> = Vec::new();
    for e in &sim.history().events {
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

impl Lab {
    /// Faults, leader changes, first commits of each index and violations, in time order.
    fn markers(&mut self) -> Rc<Vec<Marker>> {
        let sim = &self.sim;
        let events = &sim.trace().events;
        let m = &mut self.markers;
        if events.len() < m.scanned {
            // Rewound: the trace was cut back, so scan it again.
            *m = Markers::default();
        }
        if events.len() == m.scanned {
            return m.list.clone();
        }
        let list = Rc::make_mut(&mut m.list);
        for e in &events[m.scanned..] {
            let marker = match &e.kind {
                EventKind::Action { index } => sim.script().actions.get(*index as usize).and_then(|a| match a.action {
                    Action::Request { .. } | Action::Load { .. } => None,
                    ref other => Some((MarkerKind::Fault, other.to_string())),
                }),
                EventKind::Note(Note::Role {
                    role: Role::Leader,
                    term,
                }) => Some((MarkerKind::Leader, format!("n{} leads term {term}", e.node))),
                EventKind::Note(Note::Commit { index }) if *index > m.committed => {
                    m.committed = *index;
                    Some((MarkerKind::Commit, format!("index {index} committed")))
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
        m.scanned = events.len();
        m.list.clone()
    }
}
