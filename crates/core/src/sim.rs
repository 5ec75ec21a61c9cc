//! The discrete-event engine.
//!
//! A [`Sim`] holds a cluster of protocol nodes, the network between them, simulated clients,
//! the action script and a safety monitor. Time jumps from one event to the next; the queue
//! is ordered by (time, sequence number), so two runs of the same script make the same
//! choices in the same order. A script action due at time `t` applies once every event due
//! at or before `t` has run; that is also the moment a click in the UI acts at ([`Sim::act`]
//! first finishes the current instant), so a recorded run and its replay agree.
//!
//! The state that changes as the run goes ([`World`]) is `Clone`, and a copy of it is kept
//! every [`CHECKPOINT_EVERY_EVENTS`] events; seeking backwards restores the nearest
//! checkpoint and replays from there. What only grows (the trace, the client history, the
//! violations) lives beside it and is cut back to the checkpoint's length on restore.
//!
//! Faults:
//! - a crashed node loses its volatile state; what [`Protocol::stable`] returned at the crash
//!   comes back at the restart, and its pending timers vanish;
//! - a paused node (a GC pause) keeps everything, but its timers and deliveries are held and
//!   handed to it, in their original order, when it resumes;
//! - a node's local clock runs at `1 + drift` times real speed from where the last skew left
//!   it (a skew's offset steps it; nothing else ever moves it back); timers wait for a
//!   reading of it, and a skew moves them with the clock.

use crate::client::{self, ClientSettings, Clients, Wake};
use crate::history::{Event as HistoryEvent, History};
use crate::lin::Verdict;
use crate::net::{DropReason, Network, parse_rate_ppm};
use crate::protocol::{
    ClientReply, ClientRequest, Ctx, Effects, Monitor, Note, Params, Protocol, TimerKind, Violation,
};
use crate::rng::SimRng;
use crate::script::{Action, MAX_LATENCY_US, Script, TimedAction};
use crate::time::{MAX_SETTING_US, parse_duration_within, parse_range_within};
use crate::trace::{Event, EventKind, Fnv64, MsgId, MsgRecord, Trace};
use crate::workload::Workload;
use crate::{NodeId, SimTime};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Events between checkpoints: a seek replays at most this many, about 10 ms in wasm at the
/// measured rate (docs/benchmarks.md), while a 10-minute run keeps only tens of copies.
pub const CHECKPOINT_EVERY_EVENTS: u64 = 10_000;

/// Number of timer kinds a protocol may use.
const TIMER_KINDS: usize = 8;

/// A node as the stage shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    Up,
    Crashed,
    Paused,
}

impl NodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Up => "up",
            NodeStatus::Crashed => "crashed",
            NodeStatus::Paused => "paused",
        }
    }
}

/// A violation with where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub time: SimTime,
    /// Index of the trace event at which it was found (the trace length when tracing is off).
    pub event: usize,
    pub violation: Violation,
}

/// Liveness as observed, not asserted: when things first happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Liveness {
    /// When a leader first appeared.
    pub first_leader: Option<SimTime>,
    /// When the network was last healed.
    pub last_heal: Option<SimTime>,
    /// When a node first committed after that heal.
    pub commit_after_heal: Option<SimTime>,
}

impl Liveness {
    fn observe(&mut self, now: SimTime, notes: &[Note]) {
        for note in notes {
            match note {
                Note::Role { role, .. } if role.leads && self.first_leader.is_none() => self.first_leader = Some(now),
                Note::Commit { .. } if self.last_heal.is_some() && self.commit_after_heal.is_none() => {
                    self.commit_after_heal = Some(now)
                }
                _ => {}
            }
        }
    }
    /// Microseconds from the start to the first leader.
    pub fn election_us(&self) -> Option<u64> {
        self.first_leader.map(SimTime::as_us)
    }
    /// Microseconds from the last heal to the first commit after it.
    pub fn commit_after_heal_us(&self) -> Option<u64> {
        Some(self.commit_after_heal?.as_us() - self.last_heal?.as_us())
    }
}

/// A message on its way, for drawing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InFlight {
    pub from: NodeId,
    pub to: NodeId,
    pub sent: SimTime,
    pub arrives: SimTime,
    /// Index into the trace's messages (meaningless when tracing is off).
    pub msg: MsgId,
    /// The message will be lost at `arrives` instead of delivered.
    pub lost: bool,
}

/// Keys of `set` lines the engine itself reads.
/// `duration` is for the command-line tool and tests (how long to run); the engine ignores it.
pub const ENGINE_KEYS: &[&str] = &[
    "latency",
    "far",
    "loss",
    "dup",
    "client-timeout",
    "client-attempts",
    "duration",
];

#[derive(Clone, Debug)]
enum Ev<M> {
    Deliver {
        from: NodeId,
        to: NodeId,
        sent: SimTime,
        msg: M,
        id: MsgId,
    },
    Lost {
        from: NodeId,
        to: NodeId,
        sent: SimTime,
        id: MsgId,
    },
    Timer {
        node: NodeId,
        kind: TimerKind,
        generation: u32,
    },
    ClientArrive {
        node: NodeId,
        req: ClientRequest,
    },
    ClientReplyArrive {
        node: NodeId,
        req: ClientRequest,
        reply: ClientReply,
    },
    /// A chapter command reaches its node (held while the node is paused).
    Command {
        node: NodeId,
        verb: &'static str,
        arg: Option<u64>,
    },
    /// A timed event of the clients.
    Client(Wake),
    Resume {
        node: NodeId,
        generation: u32,
    },
}

impl<M> Ev<M> {
    /// The node an event happens at, if it is held while that node is paused.
    fn held_by(&self) -> Option<NodeId> {
        match *self {
            Ev::Deliver { to, .. } => Some(to),
            Ev::Timer { node, .. } | Ev::ClientArrive { node, .. } | Ev::Command { node, .. } => Some(node),
            _ => None,
        }
    }
}

/// The event queue, ordered by (time, sequence number).
#[derive(Clone, Debug)]
struct Agenda<M> {
    seq: u64,
    queue: BinaryHeap<Queued<M>>,
}

impl<M> Default for Agenda<M> {
    fn default() -> Self {
        Agenda {
            seq: 0,
            queue: BinaryHeap::new(),
        }
    }
}

impl<M> Agenda<M> {
    /// Queues `ev` at `time`, after everything queued for that time before.
    fn push(&mut self, time: SimTime, ev: Ev<M>) {
        let seq = self.seq;
        self.seq += 1;
        self.queue.push(Queued { time, seq, ev });
    }
}

#[derive(Clone, Debug)]
struct Queued<M> {
    time: SimTime,
    seq: u64,
    ev: Ev<M>,
}

impl<M> PartialEq for Queued<M> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl<M> Eq for Queued<M> {}
impl<M> PartialOrd for Queued<M> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<M> Ord for Queued<M> {
    /// Reversed, so that `BinaryHeap` pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// Everything about a node the engine keeps outside the protocol's state.
#[derive(Clone, Debug)]
struct Slot<P: Protocol> {
    rng: SimRng,
    /// What survived the last crash; `Some` exactly while crashed.
    stable: Option<P::Stable>,
    paused: bool,
    pause_generation: u32,
    held: Vec<Ev<P::Msg>>,
    timer_generation: [u32; TIMER_KINDS],
    /// Each kind's pending timer, if any.
    timers: [Option<PendingTimer>; TIMER_KINDS],
    clock: Clock,
}

/// A pending timer: it waits for its node's clock to read `local_due_us`, which happens at
/// simulated time `due` as long as the clock is not skewed.
#[derive(Clone, Copy, Debug)]
struct PendingTimer {
    kind: TimerKind,
    /// When it was set (with `due`, for the stage's countdown rings).
    set: SimTime,
    due: SimTime,
    local_due_us: u64,
}

/// A node's local clock. It read `local0_us` at simulated time `t0` and has run since at
/// `1 + drift_ppm / 1,000,000` times real speed. A skew re-anchors it at its reading of the
/// moment, so a change of drift bends the clock instead of jumping it: the clock never runs
/// back, and moves at once only when a skew steps it by an offset.
#[derive(Clone, Copy, Debug)]
struct Clock {
    t0: SimTime,
    local0_us: u64,
    drift_ppm: i32,
}

impl Clock {
    const EXACT: Clock = Clock {
        t0: SimTime::ZERO,
        local0_us: 0,
        drift_ppm: 0,
    };

    /// Local microseconds per million simulated ones (at least 1: drift is within ±999,999).
    fn rate(self) -> i128 {
        1_000_000 + i128::from(self.drift_ppm)
    }

    /// The clock's reading at `now` (at or after the anchor).
    fn read(self, now: SimTime) -> u64 {
        let elapsed = i128::from(now.as_us().saturating_sub(self.t0.as_us()));
        let local = i128::from(self.local0_us) + elapsed * self.rate() / 1_000_000;
        local.min(i128::from(u64::MAX)) as u64
    }

    /// The first instant, from `now` on, at which the clock reads `local_us` or more.
    fn reaches(self, local_us: u64, now: SimTime) -> SimTime {
        if local_us <= self.read(now) {
            return now;
        }
        // Past the anchor's reading, since the reading now is.
        let ahead = i128::from(local_us - self.local0_us);
        let elapsed = (ahead * 1_000_000 + self.rate() - 1) / self.rate();
        let due = i128::from(self.t0.as_us()) + elapsed;
        SimTime(due.min(i128::from(u64::MAX)) as u64)
    }

    /// Re-anchors the clock at `now`: stepped by `offset_us` (not below zero), then running
    /// with `drift_ppm` (kept within ±999,999).
    fn skew(&mut self, now: SimTime, offset_us: i64, drift_ppm: i32) {
        let local = i128::from(self.read(now)) + i128::from(offset_us);
        *self = Clock {
            t0: now,
            local0_us: local.clamp(0, i128::from(u64::MAX)) as u64,
            drift_ppm: drift_ppm.clamp(-999_999, 999_999),
        };
    }
}

/// The state of a run that checkpoints copy.
#[derive(Clone, Debug)]
struct World<P: Protocol> {
    now: SimTime,
    agenda: Agenda<P::Msg>,
    nodes: Vec<Option<P>>,
    slots: Vec<Slot<P>>,
    net: Network,
    net_rng: SimRng,
    clients: Clients<P::Workload>,
    monitor: P::Monitor,
    liveness: Liveness,
    next_action: usize,
    events_processed: u64,
}

#[derive(Clone, Debug)]
struct Checkpoint<P: Protocol> {
    world: World<P>,
    trace_events: usize,
    trace_messages: usize,
    history: usize,
    found: usize,
}

/// A run of protocol `P`.
pub struct Sim<P: Protocol> {
    world: World<P>,
    script: Script,
    params: P::Params,
    trace: Trace<P::Msg>,
    history: History,
    found: Vec<Found>,
    checkpoints: Vec<Checkpoint<P>>,
    effects: Effects<P::Msg>,
    scratch: Vec<Violation>,
}

impl<P: Protocol> Sim<P> {
    /// Builds a run from a script, with the trace on. The error names the bad header item.
    pub fn new(script: &Script) -> Result<Self, String> {
        Self::with_trace(script, true)
    }

    /// Builds a run; with `trace` off only checkers, history and views are kept (sweeps).
    pub fn with_trace(script: &Script, trace: bool) -> Result<Self, String> {
        let header = &script.header;
        if header.protocol != P::NAME {
            return Err(format!("this run is {}, not {}", P::NAME, header.protocol));
        }
        if !(1..=9).contains(&header.nodes) {
            return Err(format!("nodes must be 1 to 9, not {}", header.nodes));
        }
        let n = header.nodes;
        let mut net = Network::new(n);
        let mut params = P::Params::default();
        let mut client_settings = ClientSettings::default();
        for (key, value) in &header.settings {
            let value = value.as_str();
            let result = match key.as_str() {
                "latency" => parse_range_within(value, 0, MAX_LATENCY_US).map(|(lo, hi)| {
                    net.latency_min_us = lo;
                    net.latency_max_us = hi;
                }),
                "far" => parse_far(value, n).map(|(node, us)| net.set_far(node, us)),
                "loss" => parse_rate_ppm(value).map(|ppm| net.loss_ppm = ppm),
                "dup" => parse_rate_ppm(value).map(|ppm| net.dup_ppm = ppm),
                "duration" => parse_duration_within(value, 0, MAX_SETTING_US).map(drop),
                other => client_settings.set(other, value).unwrap_or_else(|| {
                    if P::Params::keys().contains(&other) {
                        params.set(other, value)
                    } else {
                        Err(format!(
                            "unknown setting \"{other}\"; expected one of {}, {}",
                            ENGINE_KEYS.join(", "),
                            P::Params::keys().join(", ")
                        ))
                    }
                }),
            };
            result.map_err(|e| format!("set {key}: {e}"))?;
        }
        for (i, timed) in script.actions.iter().enumerate() {
            if let Action::Command { node, verb, arg } = &timed.action {
                check_command::<P>(*node, n, verb, *arg)
                    .map_err(|e| format!("action {} ({}): {e}", i + 1, timed.action))?;
            }
        }
        let seed = header.seed;
        let slots = (1..=n)
            .map(|id| Slot {
                rng: SimRng::for_node(seed, id),
                stable: None,
                paused: false,
                pause_generation: 0,
                held: Vec::new(),
                timer_generation: [0; TIMER_KINDS],
                timers: [None; TIMER_KINDS],
                clock: Clock::EXACT,
            })
            .collect();
        let world = World {
            now: SimTime::ZERO,
            agenda: Agenda::default(),
            nodes: vec![None; usize::from(n)],
            slots,
            net,
            net_rng: SimRng::for_network(seed),
            clients: Clients::new(client_settings, SimRng::for_clients(seed)),
            monitor: P::Monitor::default(),
            liveness: Liveness::default(),
            next_action: 0,
            events_processed: 0,
        };
        let mut sim = Sim {
            world,
            script: script.clone(),
            params,
            trace: Trace {
                enabled: trace,
                ..Trace::default()
            },
            history: History::default(),
            found: Vec::new(),
            checkpoints: Vec::new(),
            effects: Effects::default(),
            scratch: Vec::new(),
        };
        for id in 1..=n {
            sim.boot(id);
        }
        sim.checkpoint();
        Ok(sim)
    }

    // ----- Reading the run -----------------------------------------------------------------

    pub fn now(&self) -> SimTime {
        self.world.now
    }
    pub fn node_count(&self) -> u8 {
        self.world.nodes.len() as u8
    }
    /// Node `id`'s protocol state; `None` while it is crashed.
    pub fn node(&self, id: NodeId) -> Option<&P> {
        self.world.nodes.get(usize::from(id).wrapping_sub(1))?.as_ref()
    }
    /// What node `id` has on stable storage while it is crashed.
    pub fn stable(&self, id: NodeId) -> Option<&P::Stable> {
        self.slot(id)?.stable.as_ref()
    }
    pub fn status(&self, id: NodeId) -> NodeStatus {
        match self.slot(id) {
            Some(s) if s.stable.is_some() => NodeStatus::Crashed,
            Some(s) if s.paused => NodeStatus::Paused,
            _ => NodeStatus::Up,
        }
    }
    /// When node `id`'s pending timer `kind` was set and when it fires.
    pub fn timer_window(&self, id: NodeId, kind: TimerKind) -> Option<(SimTime, SimTime)> {
        let timer = self.slot(id)?.timers.get(usize::from(kind)).copied().flatten()?;
        Some((timer.set, timer.due))
    }
    /// How far node `id`'s clock is ahead of simulated time now (microseconds; behind when
    /// negative), and its drift (parts per million).
    pub fn clock(&self, id: NodeId) -> (i64, i32) {
        let now = self.world.now;
        self.slot(id).map_or((0, 0), |s| {
            let ahead = i128::from(s.clock.read(now)) - i128::from(now.as_us());
            (
                ahead.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
                s.clock.drift_ppm,
            )
        })
    }
    /// Node `id`'s local clock reading now.
    pub fn local_now_us(&self, id: NodeId) -> u64 {
        self.slot(id).map_or(0, |s| s.clock.read(self.world.now))
    }
    pub fn network(&self) -> &Network {
        &self.world.net
    }
    pub fn script(&self) -> &Script {
        &self.script
    }
    pub fn params(&self) -> &P::Params {
        &self.params
    }
    pub fn trace(&self) -> &Trace<P::Msg> {
        &self.trace
    }
    pub fn history(&self) -> &History {
        &self.history
    }
    /// Checks the client history against the chapter's sequential specification (for
    /// registers, linearizability), within `budget` steps of search.
    pub fn check_history(&self, budget: u64) -> Result<Verdict, String> {
        P::Workload::check(&self.history, budget)
    }
    /// Safety violations found so far, in order.
    pub fn violations(&self) -> &[Found] {
        &self.found
    }
    /// When a leader first appeared and how long commits took to resume after the last heal.
    pub fn liveness(&self) -> Liveness {
        self.world.liveness
    }
    /// The safety monitor's state (for benchmarks: a checkpoint copies it).
    pub fn monitor(&self) -> &P::Monitor {
        &self.world.monitor
    }
    /// How many checkpoints the run keeps (for benchmarks and tests).
    pub fn checkpoint_count(&self) -> usize {
        self.checkpoints.len()
    }
    /// Events processed since the start of the run (for benchmarks).
    pub fn events_processed(&self) -> u64 {
        self.world.events_processed
    }
    /// Messages on their way, in delivery order.
    pub fn in_flight(&self) -> Vec<InFlight> {
        let mut out: Vec<(SimTime, u64, InFlight)> = self
            .world
            .agenda
            .queue
            .iter()
            .filter_map(|q| {
                let (from, to, sent, msg, lost) = match q.ev {
                    Ev::Deliver { from, to, sent, id, .. } => (from, to, sent, id, false),
                    Ev::Lost { from, to, sent, id } => (from, to, sent, id, true),
                    _ => return None,
                };
                let flight = InFlight {
                    from,
                    to,
                    sent,
                    arrives: q.time,
                    msg,
                    lost,
                };
                Some((q.time, q.seq, flight))
            })
            .collect();
        crate::sort::sort_by_key(&mut out, |(t, s, _)| u128::from(t.as_us()) << 64 | u128::from(*s));
        out.into_iter().map(|(_, _, f)| f).collect()
    }
    /// The time of the next queued event or script action.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.next_due().map(|(at, _)| at)
    }

    /// When the next thing happens, and whether it is a script action rather than a queued
    /// event (an action due at the same instant as an event comes after it).
    fn next_due(&self) -> Option<(SimTime, bool)> {
        let queued = self.world.agenda.queue.peek().map(|q| q.time);
        let action = self
            .script
            .actions
            .get(self.world.next_action)
            .map(|a| a.at.max(self.world.now));
        match (queued, action) {
            (Some(q), Some(a)) if a < q => Some((a, true)),
            (Some(q), _) => Some((q, false)),
            (None, Some(a)) => Some((a, true)),
            (None, None) => None,
        }
    }

    /// Writes one trace event as its readable line (without a newline), script actions by
    /// their text.
    pub fn write_event_line(&self, out: &mut String, event: &Event) {
        self.trace.write_line(out, event, &|i| self.action_text(i));
    }

    /// The whole trace as readable lines.
    pub fn render_trace(&self) -> String {
        let mut out = String::new();
        for event in &self.trace.events {
            self.write_event_line(&mut out, event);
            out.push('\n');
        }
        out
    }
    /// A digest of the readable trace: equal digests mean equal runs.
    pub fn trace_digest(&self) -> u64 {
        let mut hash = Fnv64::default();
        let mut line = String::new();
        for event in &self.trace.events {
            line.clear();
            self.write_event_line(&mut line, event);
            hash.write(line.as_bytes());
            hash.write(b"\n");
        }
        hash.finish()
    }
    fn action_text(&self, index: u32) -> String {
        self.script
            .actions
            .get(index as usize)
            .map_or_else(|| format!("#{index}"), |a| a.action.to_string())
    }

    // ----- Driving the run -----------------------------------------------------------------

    /// Processes the next event or action, if any. Returns false when nothing is left.
    pub fn step(&mut self) -> bool {
        let Some((at, action_due)) = self.next_due() else {
            return false;
        };
        // A checkpoint holds the state as it stands between two events. Spacing them by events
        // rather than by time bounds the replay a seek costs, whatever the load.
        let since = (self.world.events_processed)
            .saturating_sub(self.checkpoints.last().map_or(0, |c| c.world.events_processed));
        if since >= CHECKPOINT_EVERY_EVENTS {
            self.checkpoint();
        }
        self.world.events_processed += 1;
        self.world.now = at;
        if action_due {
            let index = self.world.next_action;
            self.world.next_action += 1;
            self.apply_action(index);
        } else if let Some(q) = self.world.agenda.queue.pop() {
            self.dispatch(q.ev);
        }
        true
    }

    /// Runs every event up to and including `until`, then sets the clock to `until`.
    pub fn run_until(&mut self, until: SimTime) {
        while self.next_event_time().is_some_and(|t| t <= until) {
            self.step();
        }
        self.world.now = self.world.now.max(until);
    }

    /// Moves to time `t`, forwards by running, backwards by restoring the nearest checkpoint
    /// and replaying from it.
    pub fn seek(&mut self, t: SimTime) {
        if t < self.world.now {
            let i = self.checkpoints.partition_point(|c| c.world.now <= t).saturating_sub(1);
            let c = &self.checkpoints[i];
            self.world = c.world.clone();
            self.trace.events.truncate(c.trace_events);
            self.trace.messages.truncate(c.trace_messages);
            self.history.events.truncate(c.history);
            self.found.truncate(c.found);
        }
        self.run_until(t);
    }

    /// Applies `action` now. Acting after a rewind branches the run: script actions after now
    /// (the old future) are discarded, and so are checkpoints past now.
    pub fn act(&mut self, action: Action) {
        let now = self.world.now;
        self.run_until(now);
        self.script.actions.truncate(self.world.next_action);
        self.script.actions.push(TimedAction { at: now, action });
        self.checkpoints.retain(|c| c.world.now <= now);
        self.run_until(now);
    }

    // ----- Internals -----------------------------------------------------------------------

    fn slot(&self, id: NodeId) -> Option<&Slot<P>> {
        self.world.slots.get(usize::from(id).wrapping_sub(1))
    }

    fn checkpoint(&mut self) {
        let checkpoint = Checkpoint {
            world: self.world.clone(),
            trace_events: self.trace.events.len(),
            trace_messages: self.trace.messages.len(),
            history: self.history.events.len(),
            found: self.found.len(),
        };
        match self.checkpoints.last() {
            Some(last) if last.world.events_processed >= checkpoint.world.events_processed => {}
            _ => self.checkpoints.push(checkpoint),
        }
    }

    fn schedule(&mut self, time: SimTime, ev: Ev<P::Msg>) {
        self.world.agenda.push(time, ev);
    }

    fn latency(&mut self) -> u64 {
        self.world.net.latency(&mut self.world.net_rng)
    }

    /// Lets the clients act, through the parts of the run they may touch.
    fn clients<R>(&mut self, f: impl FnOnce(&mut Clients<P::Workload>, &mut ClientIo<P::Msg>) -> R) -> R {
        let world = &mut self.world;
        let mut io = ClientIo {
            now: world.now,
            nodes: world.nodes.len() as u8,
            agenda: &mut world.agenda,
            net: &world.net,
            net_rng: &mut world.net_rng,
            trace: &mut self.trace,
            history: &mut self.history,
        };
        f(&mut world.clients, &mut io)
    }

    fn trace_event(&mut self, node: NodeId, kind: EventKind) {
        self.trace.push(self.world.now, node, kind);
    }

    /// Starts node `id` for the first time, or restarts it from what it persisted.
    fn boot(&mut self, id: NodeId) {
        let i = usize::from(id) - 1;
        let stable = self.world.slots[i].stable.take();
        let params = self.params.clone();
        let node = self.with_ctx(id, |ctx| match stable {
            Some(stable) => P::restart(id, &params, stable, ctx),
            None => P::start(id, &params, ctx),
        });
        self.world.nodes[i] = Some(node);
        self.after_step(id);
    }

    /// Runs `f` with a fresh context for node `id`; effects land in `self.effects`.
    fn with_ctx<R>(&mut self, id: NodeId, f: impl FnOnce(&mut Ctx<P::Msg>) -> R) -> R {
        let i = usize::from(id) - 1;
        let n = self.world.nodes.len() as u8;
        let slot = &mut self.world.slots[i];
        let local = slot.clock.read(self.world.now);
        self.effects.clear();
        let mut ctx = Ctx::new(id, n, local, &mut slot.rng, &mut self.effects);
        f(&mut ctx)
    }

    /// Runs a protocol handler on node `id` if it is up, then applies its effects.
    fn step_node(&mut self, id: NodeId, f: impl FnOnce(&mut P, &mut Ctx<P::Msg>)) {
        let i = usize::from(id) - 1;
        let Some(mut node) = self.world.nodes[i].take() else {
            return;
        };
        self.with_ctx(id, |ctx| f(&mut node, ctx));
        self.world.nodes[i] = Some(node);
        self.after_step(id);
    }

    /// Turns the effects of node `id`'s last step into trace events, queued events and checks.
    fn after_step(&mut self, id: NodeId) {
        let mut effects = std::mem::take(&mut self.effects);
        let now = self.world.now;
        for note in &effects.notes {
            self.trace.push(now, id, EventKind::Note(*note));
        }
        if !effects.notes.is_empty() {
            self.world.liveness.observe(now, &effects.notes);
            self.scratch.clear();
            self.world.monitor.at(now);
            self.world
                .monitor
                .observe(id, &effects.notes, &self.world.nodes, &mut self.scratch);
            for violation in self.scratch.drain(..) {
                let index = self.found.len() as u32;
                self.trace.push(now, id, EventKind::Violation { index });
                self.found.push(Found {
                    time: now,
                    event: self.trace.events.len().saturating_sub(1),
                    violation,
                });
            }
        }
        for (to, msg) in effects.sends.drain(..) {
            self.send(id, to, msg);
        }
        for (kind, after) in effects.timers.drain(..) {
            let clock = self.world.slots[usize::from(id) - 1].clock;
            let timer = after.map(|after_us| {
                let local_due_us = clock.read(now).saturating_add(after_us);
                PendingTimer {
                    kind,
                    set: now,
                    due: clock.reaches(local_due_us, now),
                    local_due_us,
                }
            });
            self.set_timer(id, kind, timer);
        }
        for (req, reply) in effects.replies.drain(..) {
            self.trace.push(
                now,
                id,
                EventKind::ClientReply {
                    client: req.client,
                    reply,
                },
            );
            let lost = self.world.net_rng.chance_ppm(self.world.net.loss_ppm);
            let latency = self.latency();
            if !lost {
                self.schedule(
                    now.saturating_add_us(latency),
                    Ev::ClientReplyArrive { node: id, req, reply },
                );
            }
        }
        effects.clear();
        self.effects = effects;
    }

    /// Sets (or with `None` cancels) node `id`'s timer of `kind`. Either way the kind's
    /// generation moves on, so that a firing already queued for it is void.
    fn set_timer(&mut self, id: NodeId, kind: TimerKind, timer: Option<PendingTimer>) {
        let slot = &mut self.world.slots[usize::from(id) - 1];
        let k = usize::from(kind).min(TIMER_KINDS - 1);
        slot.timer_generation[k] = slot.timer_generation[k].wrapping_add(1);
        let generation = slot.timer_generation[k];
        slot.timers[k] = timer;
        if let Some(timer) = timer {
            self.schedule(
                timer.due,
                Ev::Timer {
                    node: id,
                    kind,
                    generation,
                },
            );
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        let now = self.world.now;
        let latency = self.latency().saturating_add(self.world.net.far_us(from, to));
        let deliver_at = now.saturating_add_us(latency);
        let id = self.trace.messages.len() as MsgId;
        if self.trace.enabled {
            self.trace.messages.push(MsgRecord {
                from,
                to,
                sent: now,
                msg: msg.clone(),
            });
        }
        self.trace.push(now, from, EventKind::Send { msg: id, deliver_at });
        if !(1..=self.node_count()).contains(&to) || to == from {
            return;
        }
        if let Some(reason) = self.world.net.blocked(from, to) {
            self.trace.push(now, to, EventKind::Drop { msg: id, reason });
            return;
        }
        // Draw loss and duplication every time, so the stream does not shift with the rates.
        let lost = self.world.net_rng.chance_ppm(self.world.net.loss_ppm);
        let duplicated = self.world.net_rng.chance_ppm(self.world.net.dup_ppm);
        let dup_latency = self.latency().saturating_add(self.world.net.far_us(from, to));
        if lost {
            // The message dies on the way, halfway along the link, where the stage shows it.
            self.schedule(
                now.saturating_add_us(latency / 2),
                Ev::Lost {
                    from,
                    to,
                    sent: now,
                    id,
                },
            );
            return;
        }
        if duplicated {
            let at = now.saturating_add_us(dup_latency);
            self.schedule(
                at,
                Ev::Deliver {
                    from,
                    to,
                    sent: now,
                    msg: msg.clone(),
                    id,
                },
            );
        }
        self.schedule(
            deliver_at,
            Ev::Deliver {
                from,
                to,
                sent: now,
                msg,
                id,
            },
        );
    }

    fn dispatch(&mut self, ev: Ev<P::Msg>) {
        if let Some(node) = ev.held_by() {
            let slot = &mut self.world.slots[usize::from(node) - 1];
            if slot.paused && slot.stable.is_none() {
                slot.held.push(ev);
                return;
            }
        }
        match ev {
            Ev::Deliver { from, to, msg, id, .. } => {
                let reason = if self.status(to) == NodeStatus::Crashed {
                    Some(DropReason::Crashed)
                } else {
                    self.world.net.blocked(from, to)
                };
                match reason {
                    Some(reason) => self.trace_event(to, EventKind::Drop { msg: id, reason }),
                    None => {
                        self.trace_event(to, EventKind::Deliver { msg: id });
                        self.step_node(to, |p, ctx| p.on_message(from, msg, ctx));
                    }
                }
            }
            Ev::Lost { to, id, .. } => self.trace_event(
                to,
                EventKind::Drop {
                    msg: id,
                    reason: DropReason::Loss,
                },
            ),
            Ev::Timer { node, kind, generation } => {
                let slot = &mut self.world.slots[usize::from(node) - 1];
                let k = usize::from(kind).min(TIMER_KINDS - 1);
                if slot.stable.is_some() || slot.timer_generation[k] != generation {
                    return;
                }
                slot.timers[k] = None;
                self.trace_event(node, EventKind::Timer { kind });
                self.step_node(node, |p, ctx| p.on_timer(kind, ctx));
            }
            Ev::ClientArrive { node, req } => {
                if self.status(node) == NodeStatus::Crashed {
                    self.trace_event(node, EventKind::ClientDrop { client: req.client });
                } else {
                    self.step_node(node, |p, ctx| p.on_client(req, ctx));
                }
            }
            Ev::Command { node, verb, arg } => {
                if self.status(node) != NodeStatus::Crashed {
                    self.step_node(node, |p, ctx| p.on_command(verb, arg, ctx));
                }
            }
            Ev::ClientReplyArrive { node, req, reply } => self.clients(|c, io| c.on_reply(io, node, req, reply)),
            Ev::Client(wake) => self.clients(|c, io| c.wake(io, wake)),
            Ev::Resume { node, generation } => {
                if self.world.slots[usize::from(node) - 1].pause_generation == generation {
                    self.resume(node);
                }
            }
        }
    }

    fn resume(&mut self, node: NodeId) {
        let slot = &mut self.world.slots[usize::from(node) - 1];
        if !slot.paused {
            return;
        }
        slot.paused = false;
        slot.pause_generation = slot.pause_generation.wrapping_add(1);
        let held = std::mem::take(&mut slot.held);
        let now = self.world.now;
        for ev in held {
            self.schedule(now, ev);
        }
    }

    fn apply_action(&mut self, index: usize) {
        let action = self.script.actions[index].action.clone();
        let node = match action {
            Action::Crash(n)
            | Action::Restart(n)
            | Action::Pause { node: n, .. }
            | Action::Resume(n)
            | Action::Skew { node: n, .. }
            | Action::Timeout(n)
            | Action::Command { node: n, .. } => n,
            Action::Request { node, .. } => node.unwrap_or(0),
            _ => 0,
        };
        let valid = node == 0 || (1..=self.node_count()).contains(&node);
        self.trace_event(node, EventKind::Action { index: index as u32 });
        if !valid {
            return;
        }
        let now = self.world.now;
        let i = usize::from(node).wrapping_sub(1);
        match action {
            Action::Partition(groups) => self.world.net.partition(&groups),
            Action::Heal => {
                self.world.net.heal();
                self.world.liveness.last_heal = Some(now);
                self.world.liveness.commit_after_heal = None;
            }
            Action::Cut { from, to, both } => self.world.net.cut(from, to, both),
            Action::Restore { from, to, both } => self.world.net.restore(from, to, both),
            Action::Crash(_) => {
                if let Some(p) = self.world.nodes[i].take() {
                    let slot = &mut self.world.slots[i];
                    slot.stable = Some(p.stable());
                    slot.paused = false;
                    slot.held.clear();
                    slot.timers = [None; TIMER_KINDS];
                    for g in &mut slot.timer_generation {
                        *g = g.wrapping_add(1);
                    }
                }
            }
            Action::Restart(_) => {
                if self.world.slots[i].stable.is_some() {
                    self.boot(node);
                }
            }
            Action::Pause { for_us, .. } => {
                let slot = &mut self.world.slots[i];
                if slot.stable.is_none() {
                    slot.paused = true;
                    slot.pause_generation = slot.pause_generation.wrapping_add(1);
                    let generation = slot.pause_generation;
                    if let Some(us) = for_us {
                        self.schedule(now.saturating_add_us(us), Ev::Resume { node, generation });
                    }
                }
            }
            Action::Resume(_) => self.resume(node),
            Action::Skew {
                offset_us, drift_ppm, ..
            } => {
                self.world.slots[i].clock.skew(now, offset_us, drift_ppm);
                // Pending timers wait for a reading of the clock, which now comes at another
                // instant (at once, if a step went past it).
                for k in 0..TIMER_KINDS {
                    let slot = &self.world.slots[i];
                    let Some(timer) = slot.timers[k] else { continue };
                    let due = slot.clock.reaches(timer.local_due_us, now);
                    if due != timer.due {
                        self.set_timer(node, timer.kind, Some(PendingTimer { due, ..timer }));
                    }
                }
            }
            Action::Loss { ppm } => self.world.net.loss_ppm = ppm.min(1_000_000),
            Action::Dup { ppm } => self.world.net.dup_ppm = ppm.min(1_000_000),
            Action::Latency { min_us, max_us } => {
                self.world.net.latency_min_us = min_us.min(max_us);
                self.world.net.latency_max_us = max_us.max(min_us);
            }
            Action::Request { client, op, node } => {
                let node = node.filter(|&n| n != 0);
                self.clients(|c, io| c.request(io, client, op, node));
            }
            Action::Load { per_sec, clients, keys } => self.clients(|c, io| c.set_load(io, per_sec, clients, keys)),
            Action::Timeout(_) => {
                if self.status(node) == NodeStatus::Up {
                    self.trace_event(node, EventKind::ForcedTimeout);
                    self.step_node(node, |p, ctx| p.force_timeout(ctx));
                }
            }
            Action::Command { verb, arg, .. } => {
                // Sim::new checked the script's commands; one appended later that the chapter
                // lacks does nothing.
                let known = P::COMMANDS.iter().find(|c| c.verb == verb);
                if let Some(command) = known
                    && self.status(node) != NodeStatus::Crashed
                {
                    let verb = command.verb;
                    self.schedule(now, Ev::Command { node, verb, arg });
                }
            }
            Action::Drop(id) => self.capture(id),
        }
    }

    /// Captures the next delivery of message `id`, if one is on its way.
    fn capture(&mut self, id: MsgId) {
        let queue = &mut self.world.agenda.queue;
        let next = queue
            .iter()
            .filter_map(|q| match q.ev {
                Ev::Deliver { id: m, to, .. } if m == id => Some((q.time, q.seq, to)),
                _ => None,
            })
            .min();
        let Some((time, seq, to)) = next else { return };
        let mut rest = std::mem::take(queue).into_vec();
        rest.retain(|q| (q.time, q.seq) != (time, seq));
        *queue = BinaryHeap::from(rest);
        self.trace_event(
            to,
            EventKind::Drop {
                msg: id,
                reason: DropReason::Captured,
            },
        );
    }
}

/// Checks a `do` action against chapter `P`'s commands.
pub fn check_command<P: Protocol>(node: NodeId, nodes: u8, verb: &str, arg: Option<u64>) -> Result<(), String> {
    let Some(command) = P::COMMANDS.iter().find(|c| c.verb == verb) else {
        let verbs: Vec<&str> = P::COMMANDS.iter().map(|c| c.verb).collect();
        return Err(if verbs.is_empty() {
            format!("the {} chapter has no commands, so not {verb:?}", P::NAME)
        } else {
            format!(
                "the {} chapter has no command {verb:?}; it has {}",
                P::NAME,
                verbs.join(", ")
            )
        });
    };
    command.check(node, nodes, arg)
}

/// The engine as the clients see it while they act: the parts of the run they act through.
/// Reads `set far N D`: node `N`'s links take `D` more, one way (at most 60s).
fn parse_far(value: &str, n: u8) -> Result<(NodeId, u64), String> {
    let (node, extra) = value
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("expected a node and a duration, like \"3 40ms\", got \"{value}\""))?;
    let node = node
        .parse::<NodeId>()
        .ok()
        .filter(|id| (1..=n).contains(id))
        .ok_or_else(|| format!("\"{node}\" is not a node of 1..={n}"))?;
    Ok((node, parse_duration_within(extra.trim(), 0, MAX_LATENCY_US)?))
}

struct ClientIo<'a, M> {
    now: SimTime,
    nodes: u8,
    agenda: &'a mut Agenda<M>,
    net: &'a Network,
    net_rng: &'a mut SimRng,
    trace: &'a mut Trace<M>,
    history: &'a mut History,
}

impl<M: std::fmt::Display> client::Engine for ClientIo<'_, M> {
    fn now(&self) -> SimTime {
        self.now
    }
    fn node_count(&self) -> u8 {
        self.nodes
    }
    fn trace(&mut self, node: NodeId, kind: EventKind) {
        self.trace.push(self.now, node, kind);
    }
    fn record(&mut self, event: HistoryEvent) {
        self.history.events.push(event);
    }
    fn send(&mut self, target: NodeId, req: ClientRequest) {
        let lost = self.net_rng.chance_ppm(self.net.loss_ppm);
        let latency = self.net.latency(self.net_rng);
        if lost {
            self.trace(target, EventKind::ClientDrop { client: req.client });
        } else {
            let at = self.now.saturating_add_us(latency);
            self.agenda.push(at, Ev::ClientArrive { node: target, req });
        }
    }
    fn wake(&mut self, at: SimTime, wake: Wake) {
        self.agenda.push(at, Ev::Client(wake));
    }
}

#[cfg(test)]
mod tests {
    //! Engine tests on a tiny protocol: every node pings its peers on a timer and counts the
    //! pings it received (persisted); node 1 answers clients, the others redirect to it.

    use super::*;
    use crate::ClientId;
    use crate::history::EventKind as Outcome;
    use crate::protocol::{Command, CommandArg, Op, Role, Scenario};
    use crate::script::Header;
    use std::fmt;

    #[derive(Clone, Debug)]
    struct Ping {
        received: u64,
        restarts: u64,
    }

    #[derive(Clone, Debug)]
    enum PingMsg {
        Ping,
    }

    impl fmt::Display for PingMsg {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Ping")
        }
    }

    #[derive(Clone, Debug, Default)]
    struct NoParams;
    impl Params for NoParams {
        fn set(&mut self, key: &str, _: &str) -> Result<(), String> {
            Err(format!("no {key}"))
        }
        fn keys() -> &'static [&'static str] {
            &[]
        }
    }

    #[derive(Clone, Debug, Default)]
    struct CountNotes(u64);
    impl Monitor<Ping> for CountNotes {
        fn observe(&mut self, node: NodeId, notes: &[Note], _: &[Option<Ping>], out: &mut Vec<Violation>) {
            self.0 += notes.len() as u64;
            // A deliberately tripped property, so that the plumbing of violations is tested.
            if notes.iter().any(|n| matches!(n, Note::Commit { index: 13 })) {
                out.push(Violation {
                    property: "No Thirteen",
                    nodes: vec![node],
                    detail: "13 pings".into(),
                });
            }
        }
        fn properties() -> &'static [&'static str] {
            &["No Thirteen"]
        }
    }

    impl Protocol for Ping {
        type Msg = PingMsg;
        type Stable = u64;
        type Params = NoParams;
        type Monitor = CountNotes;
        type Workload = crate::workload::Registers;
        const NAME: &'static str = "ping";
        const SCENARIOS: &'static [Scenario] = &[];
        const COMMANDS: &'static [Command] = &[Command {
            verb: "ping",
            arg: CommandArg::Node,
            label: "Ping now",
        }];

        fn start(_: NodeId, _: &NoParams, ctx: &mut Ctx<PingMsg>) -> Self {
            ctx.set_timer(0, 100_000);
            Ping {
                received: 0,
                restarts: 0,
            }
        }
        fn restart(_: NodeId, _: &NoParams, stable: u64, ctx: &mut Ctx<PingMsg>) -> Self {
            ctx.set_timer(0, 100_000);
            Ping {
                received: stable,
                restarts: 1,
            }
        }
        fn stable(&self) -> u64 {
            self.received
        }
        fn on_message(&mut self, _: NodeId, _: PingMsg, ctx: &mut Ctx<PingMsg>) {
            self.received += 1;
            ctx.note(Note::Commit { index: self.received });
        }
        fn on_timer(&mut self, _: TimerKind, ctx: &mut Ctx<PingMsg>) {
            for p in ctx.peers().collect::<Vec<_>>() {
                ctx.send(p, PingMsg::Ping);
            }
            ctx.set_timer(0, 100_000);
        }
        fn on_client(&mut self, req: ClientRequest, ctx: &mut Ctx<PingMsg>) {
            if ctx.id() == 1 {
                ctx.reply(
                    req,
                    ClientReply::Ok {
                        value: Some(self.received),
                    },
                );
            } else {
                ctx.reply(req, ClientReply::NotLeader { leader: Some(1) });
            }
        }
        fn force_timeout(&mut self, ctx: &mut Ctx<PingMsg>) {
            self.on_timer(0, ctx);
        }
        fn on_command(&mut self, _: &'static str, arg: Option<u64>, ctx: &mut Ctx<PingMsg>) {
            ctx.send(arg.unwrap_or(0) as NodeId, PingMsg::Ping);
        }
        fn role(&self) -> Role {
            Role::FOLLOWER
        }
        fn term(&self) -> u64 {
            0
        }
        fn msg_kind(_: &PingMsg) -> &'static str {
            "Ping"
        }
        fn describe(&self) -> String {
            format!("received={}", self.received)
        }
    }

    fn ping(node: NodeId, to: u64) -> Action {
        Action::Command {
            node,
            verb: "ping".into(),
            arg: Some(to),
        }
    }

    /// The times (ms) node `from` sent a message.
    fn sends_by(sim: &Sim<Ping>, from: NodeId) -> Vec<u64> {
        let t = sim.trace();
        t.events
            .iter()
            .filter(|e| e.node == from && matches!(e.kind, EventKind::Send { .. }))
            .map(|e| e.time.as_us() / 1_000)
            .collect()
    }

    #[test]
    fn a_command_reaches_its_node_at_once_and_waits_out_a_pause() {
        let sim = run(&script(1, vec![(50, ping(1, 2))]), 120);
        assert_eq!(sends_by(&sim, 1).first(), Some(&50), "the ping command sends at 50ms");
        // Paused from 40ms to 70ms: the command waits for the resume.
        let paused = vec![
            (
                40,
                Action::Pause {
                    node: 1,
                    for_us: Some(30_000),
                },
            ),
            (50, ping(1, 2)),
        ];
        let sim = run(&script(1, paused), 120);
        assert_eq!(sends_by(&sim, 1).first(), Some(&70));
        // Crashed: the command is lost, not kept for the restart at 60ms (whose first timer
        // sends at 160ms).
        let crashed = vec![(40, Action::Crash(1)), (50, ping(1, 2)), (60, Action::Restart(1))];
        let sim = run(&script(1, crashed), 120);
        assert!(sends_by(&sim, 1).is_empty(), "{:?}", sends_by(&sim, 1));
    }

    #[test]
    fn a_command_the_chapter_lacks_or_a_bad_argument_is_an_error() {
        let bad = |action| {
            Sim::<Ping>::new(&script(1, vec![(5, action)]))
                .err()
                .unwrap_or_default()
        };
        let traitor = Action::Command {
            node: 1,
            verb: "traitor".into(),
            arg: None,
        };
        assert_eq!(
            bad(traitor),
            "action 1 (do 1 traitor): the ping chapter has no command \"traitor\"; it has ping"
        );
        assert_eq!(
            bad(ping(2, 2)),
            "action 1 (do 2 ping 2): command ping at node 2 needs another node 1..=3, not 2"
        );
        let bare = Action::Command {
            node: 2,
            verb: "ping".into(),
            arg: None,
        };
        assert_eq!(
            bad(bare),
            "action 1 (do 2 ping): command ping needs a node after it (do 2 ping 2)"
        );
    }

    #[test]
    fn a_drop_captures_a_message_in_flight_and_nothing_else() {
        // The timers send at 100ms; a message takes 10-15ms.
        let mut sim = run(&script(3, vec![]), 105);
        let flying = sim.in_flight();
        let target = flying.first().expect("messages in flight at 105ms").msg;
        sim.act(Action::Drop(target));
        sim.act(Action::Drop(target));
        sim.run_until(SimTime::from_ms(130));
        let fate: Vec<&EventKind> = sim
            .trace()
            .events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Deliver { msg } | EventKind::Drop { msg, .. } if msg == target => Some(&e.kind),
                _ => None,
            })
            .collect();
        assert_eq!(
            fate,
            [&EventKind::Drop {
                msg: target,
                reason: DropReason::Captured
            }]
        );
        let others = flying.len() - 1;
        let delivered = sim
            .trace()
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Deliver { msg } if msg != target && msg < target + 8))
            .count();
        assert!(delivered >= others, "the other {others} messages arrive");
    }

    fn script(seed: u64, actions: Vec<(u64, Action)>) -> Script {
        Script {
            header: Header {
                protocol: "ping".into(),
                nodes: 3,
                seed,
                settings: vec![],
            },
            actions: actions
                .into_iter()
                .map(|(ms, action)| TimedAction {
                    at: SimTime::from_ms(ms),
                    action,
                })
                .collect(),
        }
    }

    /// Client `client`'s request at `ms`, sent to whichever node the client picks.
    fn request(ms: u64, client: ClientId, op: Op) -> (u64, Action) {
        (ms, Action::Request { client, op, node: None })
    }

    fn run(script: &Script, ms: u64) -> Sim<Ping> {
        let mut sim = Sim::<Ping>::new(script).expect("valid script");
        sim.run_until(SimTime::from_ms(ms));
        sim
    }

    fn count(sim: &Sim<Ping>, f: impl Fn(&EventKind) -> bool) -> usize {
        sim.trace().events.iter().filter(|e| f(&e.kind)).count()
    }

    #[test]
    fn same_seed_same_trace_other_seed_other_trace() {
        let faults = vec![
            (150, Action::Loss { ppm: 200_000 }),
            (220, Action::Crash(2)),
            (500, Action::Restart(2)),
        ];
        let a = run(&script(7, faults.clone()), 1_000);
        let b = run(&script(7, faults.clone()), 1_000);
        let c = run(&script(8, faults), 1_000);
        assert_eq!(a.trace_digest(), b.trace_digest());
        assert_eq!(a.render_trace(), b.render_trace());
        assert_ne!(a.trace_digest(), c.trace_digest());
    }

    #[test]
    fn a_far_node_receives_and_sends_later_by_its_extra_latency() {
        let mut far = script(1, Vec::new());
        far.header.settings.push(("far".into(), "2 40ms".into()));
        let sim = run(&far, 1_000);
        let mut delays = [Vec::new(), Vec::new()];
        for e in sim.trace().events.iter() {
            if let EventKind::Send { msg, deliver_at } = e.kind {
                let m = &sim.trace().messages[msg as usize];
                let touches_far = usize::from(m.from == 2 || m.to == 2);
                delays[touches_far].push(deliver_at.as_us() - e.time.as_us());
            }
        }
        assert!(
            !delays[0].is_empty() && delays[0].iter().all(|&d| d <= 15_000),
            "{delays:?}"
        );
        assert!(
            !delays[1].is_empty() && delays[1].iter().all(|&d| d >= 50_000),
            "{delays:?}"
        );
        far.header.settings[0].1 = "4 40ms".into();
        let err = Sim::<Ping>::new(&far).map(drop).unwrap_err();
        assert_eq!(err, "set far: \"4\" is not a node of 1..=3");
    }

    #[test]
    fn partitions_drop_across_islands_and_heal_restores() {
        let sim = run(
            &script(
                1,
                vec![(50, Action::Partition(vec![vec![1], vec![2, 3]])), (550, Action::Heal)],
            ),
            1_000,
        );
        let across = |e: &crate::trace::Event| {
            let m = &sim.trace().messages[match e.kind {
                EventKind::Deliver { msg } | EventKind::Drop { msg, .. } => msg as usize,
                _ => return None,
            }];
            Some((m.from == 1) != (m.to == 1))
        };
        for e in &sim.trace().events {
            let t = e.time.as_us();
            match (&e.kind, across(e)) {
                (EventKind::Deliver { .. }, Some(true)) => {
                    assert!(!(50_000..550_000).contains(&t), "delivered across at {t}")
                }
                (EventKind::Drop { reason, .. }, Some(true)) => {
                    assert_eq!(*reason, DropReason::Partition);
                    assert!((50_000..=550_000).contains(&t));
                }
                _ => {}
            }
        }
        assert!(
            count(&sim, |k| matches!(
                k,
                EventKind::Drop {
                    reason: DropReason::Partition,
                    ..
                }
            )) > 0
        );
    }

    #[test]
    fn crash_keeps_stable_state_and_drops_deliveries() {
        let mut sim = Sim::<Ping>::new(&script(3, vec![(250, Action::Crash(2)), (600, Action::Restart(2))])).unwrap();
        sim.run_until(SimTime::from_ms(249));
        let before = sim.node(2).unwrap().received;
        sim.run_until(SimTime::from_ms(400));
        assert!(sim.node(2).is_none());
        assert_eq!(sim.status(2), NodeStatus::Crashed);
        assert!(
            count(&sim, |k| matches!(
                k,
                EventKind::Drop {
                    reason: DropReason::Crashed,
                    ..
                }
            )) > 0
        );
        sim.run_until(SimTime::from_ms(600));
        let node = sim.node(2).unwrap();
        assert_eq!((node.received, node.restarts), (before, 1));
    }

    #[test]
    fn pause_holds_deliveries_and_timers_until_resume() {
        let sim = run(
            &script(
                4,
                vec![(
                    150,
                    Action::Pause {
                        node: 3,
                        for_us: Some(400_000),
                    },
                )],
            ),
            1_000,
        );
        let at_3 = |e: &&crate::trace::Event| {
            e.node == 3 && matches!(e.kind, EventKind::Deliver { .. } | EventKind::Timer { .. })
        };
        let during = sim
            .trace()
            .events
            .iter()
            .filter(at_3)
            .filter(|e| (150_001..550_000).contains(&e.time.as_us()))
            .count();
        let at_resume = sim
            .trace()
            .events
            .iter()
            .filter(at_3)
            .filter(|e| e.time.as_us() == 550_000)
            .count();
        assert_eq!(during, 0);
        assert!(
            at_resume >= 3,
            "held events are handed over at the resume, got {at_resume}"
        );
    }

    #[test]
    fn drift_scales_local_timers() {
        // Node 1 runs 10% fast: its 100 ms timer fires every 90.91 ms of simulated time.
        let sim = run(
            &script(
                5,
                vec![(
                    0,
                    Action::Skew {
                        node: 1,
                        offset_us: 0,
                        drift_ppm: 100_000,
                    },
                )],
            ),
            1_000,
        );
        let fires: Vec<u64> = sim
            .trace()
            .events
            .iter()
            .filter(|e| e.node == 1 && matches!(e.kind, EventKind::Timer { .. }))
            .map(|e| e.time.as_us())
            .collect();
        // The first was set before the skew, at the start, and follows the clock all the same.
        assert_eq!(fires[0], 90_910);
        assert_eq!(fires[1] - fires[0], 90_910);
    }

    fn skew(ms: u64, offset_us: i64, drift_ppm: i32) -> (u64, Action) {
        (
            ms,
            Action::Skew {
                node: 1,
                offset_us,
                drift_ppm,
            },
        )
    }

    /// Node 1's local clock at each of `times_us` (in increasing order), in a fresh run.
    fn local_clock_at(script: &Script, times_us: &[u64]) -> Vec<u64> {
        let mut sim = Sim::<Ping>::new(script).expect("valid script");
        times_us
            .iter()
            .map(|&t| {
                sim.run_until(SimTime(t));
                sim.local_now_us(1)
            })
            .collect()
    }

    /// When node 1's timers fired, in simulated microseconds.
    fn timer_fires(sim: &Sim<Ping>) -> Vec<u64> {
        let fires = sim.trace().events.iter();
        let fires = fires.filter(|e| e.node == 1 && matches!(e.kind, EventKind::Timer { .. }));
        fires.map(|e| e.time.as_us()).collect()
    }

    #[test]
    fn a_drift_change_bends_the_clock_without_a_jump() {
        // From 10s on the clock runs at 1.5 times real speed: it reads 10s at the change and
        // 10.15s a tenth of a second later, never the 15s that drift over the whole run gives.
        let s = script(1, vec![skew(10_000, 0, 500_000)]);
        assert_eq!(
            local_clock_at(&s, &[9_999_999, 10_000_000, 10_100_000]),
            vec![9_999_999, 10_000_000, 10_150_000]
        );
    }

    #[test]
    fn a_pending_timer_follows_its_node_clock_after_a_skew() {
        // Node 1's timer set at 100ms is due when its clock reads 200ms. A 10% fast clock from
        // 150ms covers the 50ms left in 45.455ms; a clock stepped 30ms ahead at 150ms gets
        // there at 170ms.
        for (action, due) in [(skew(150, 0, 100_000), 195_455), (skew(150, 30_000, 0), 170_000)] {
            let s = script(1, vec![action]);
            let fires = timer_fires(&run(&s, 300));
            assert_eq!(fires[..2], [100_000, due], "{s}");
            assert_eq!(local_clock_at(&s, &[due - 1, due]), vec![199_999, 200_000], "{s}");
        }
    }

    proptest::proptest! {
        /// Under drift changes at any moment (without steps), node 1's clock never runs back,
        /// and each of its 100ms timers fires at the first instant its clock has run 100ms
        /// from the last firing.
        #[test]
        fn clocks_are_monotonic_and_timers_fire_on_local_time(
            changes in proptest::collection::vec((1u64..2_000, -900_000i32..900_000), 0..6),
        ) {
            let mut changes = changes;
            changes.sort_unstable();
            let s = script(1, changes.iter().map(|&(ms, ppm)| skew(ms, 0, ppm)).collect());
            let samples: Vec<u64> = (0..=400).map(|i| i * 5_000).collect();
            let clock = local_clock_at(&s, &samples);
            proptest::prop_assert!(clock.windows(2).all(|w| w[0] <= w[1]), "{:?}", clock);
            let fires = timer_fires(&run(&s, 2_000));
            let times: Vec<u64> = fires.iter().flat_map(|&f| [f - 1, f]).collect();
            let at = local_clock_at(&s, &times);
            // at[2i] is the clock just before fire i, at[2i + 1] at it.
            for i in 1..fires.len() {
                let deadline = at[2 * i - 1] + 100_000;
                proptest::prop_assert!(
                    at[2 * i] < deadline && deadline <= at[2 * i + 1],
                    "fire {} at {}us: clock {} then {}, due at {}", i, fires[i], at[2 * i], at[2 * i + 1], deadline
                );
            }
        }
    }

    #[test]
    fn seeking_back_replays_the_same_run() {
        // Long enough for several checkpoints, so that seeks restore one in the middle.
        let s = script(
            6,
            vec![(30_000, Action::Loss { ppm: 100_000 }), (170_000, Action::Crash(3))],
        );
        let straight = run(&s, 300_000);
        let mut sim = run(&s, 300_000);
        assert!(sim.checkpoint_count() >= 3, "{} checkpoints", sim.checkpoint_count());
        for back in [120_000, 250_000, 0, 299_999] {
            sim.seek(SimTime::from_ms(back));
            assert_eq!(sim.now(), SimTime::from_ms(back));
            assert!(sim.trace().events.iter().all(|e| e.time <= SimTime::from_ms(back)));
        }
        sim.seek(SimTime::from_ms(300_000));
        assert_eq!(sim.trace_digest(), straight.trace_digest());
        assert_eq!(sim.node(1).unwrap().received, straight.node(1).unwrap().received);
    }

    #[test]
    fn acting_after_a_rewind_discards_the_old_future() {
        let mut sim = run(&script(2, vec![(2_000, Action::Crash(1))]), 3_000);
        assert!(sim.node(1).is_none());
        sim.seek(SimTime::from_ms(1_000));
        sim.act(Action::Crash(2));
        sim.run_until(SimTime::from_ms(3_000));
        assert!(sim.node(1).is_some(), "the old future's crash is gone");
        assert!(sim.node(2).is_none());
        assert_eq!(sim.script().actions.len(), 1);
    }

    #[test]
    fn a_run_made_by_acting_replays_from_its_script() {
        // Acting right after a single step, with more events due at the same instant, must
        // give the run its script replays.
        let mut sim = Sim::<Ping>::new(&script(4, vec![])).unwrap();
        sim.run_until(SimTime::from_ms(99));
        sim.step();
        assert_eq!(
            sim.next_event_time(),
            Some(sim.now()),
            "more events are due at this instant"
        );
        sim.act(Action::Crash(2));
        sim.run_until(SimTime::from_ms(500));
        let replay = run(sim.script(), 500);
        assert_eq!(replay.render_trace(), sim.render_trace());
    }

    #[test]
    fn clients_follow_redirects_and_record_history() {
        let op = Op::Read { key: 1 };
        let sim = run(
            &script(
                9,
                vec![(
                    10,
                    Action::Request {
                        client: 1,
                        op,
                        node: Some(3),
                    },
                )],
            ),
            500,
        );
        let kinds: Vec<Outcome> = sim.history().events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec![Outcome::Invoke, Outcome::Ok]);
        assert_eq!(
            count(&sim, |k| matches!(k, EventKind::ClientSend { .. })),
            2,
            "to n3, then redirected to n1"
        );
    }

    #[test]
    fn clients_give_up_after_their_attempts_as_info() {
        let mut s = script(9, vec![(0, Action::Crash(1)), request(10, 1, Op::Read { key: 1 })]);
        s.header.settings.push(("client-attempts".into(), "3".into()));
        let sim = run(&s, 5_000);
        let kinds: Vec<Outcome> = sim.history().events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec![Outcome::Invoke, Outcome::Info]);
    }

    #[test]
    fn a_client_that_gives_up_shares_its_process_with_no_other_client() {
        // Only node 1 answers, and it is down: each operation gets its single attempt and is
        // given up on. Client 1 then goes on under a new process, which must not be the one
        // client 1001 gets, or the two operations invoked at 500ms would look like one process
        // with two operations outstanding.
        let write = |value| Op::Write { key: 1, value };
        let mut s = script(
            9,
            vec![
                (0, Action::Crash(1)),
                request(10, 1, write(5)),
                request(500, 1, Op::Read { key: 1 }),
                request(500, 1001, write(7)),
            ],
        );
        s.header.settings.push(("client-attempts".into(), "1".into()));
        let sim = run(&s, 2_000);
        let invokers: Vec<ClientId> = sim
            .history()
            .events
            .iter()
            .filter(|e| e.kind == Outcome::Invoke)
            .map(|e| e.client)
            .collect();
        assert_eq!(invokers.len(), 3);
        assert!(
            invokers[0] != invokers[1] && invokers[1] != invokers[2] && invokers[0] != invokers[2],
            "three processes, not {invokers:?}"
        );
        assert_eq!(crate::lin::validate(sim.history()), Ok(()));
    }

    #[test]
    fn monitor_violations_are_recorded_with_their_event() {
        let sim = run(&script(1, vec![]), 2_000);
        let found = sim.violations();
        assert!(!found.is_empty());
        assert_eq!(found[0].violation.property, "No Thirteen");
        assert!(matches!(
            sim.trace().events[found[0].event].kind,
            EventKind::Violation { index: 0 }
        ));
    }

    #[test]
    fn bad_headers_are_errors() {
        let mut s = script(1, vec![]);
        s.header.settings.push(("nonsense".into(), "1".into()));
        assert!(
            Sim::<Ping>::new(&s)
                .err()
                .expect("an error")
                .contains("unknown setting \"nonsense\"")
        );
        // Numeric settings have limits, so that a link cannot freeze the page.
        let limits = [
            ("latency", "0s..61s", "set latency: 61s is above the maximum 60s"),
            (
                "client-timeout",
                "7200s",
                "set client-timeout: 7200s is above the maximum 3600s",
            ),
            (
                "client-timeout",
                "1us",
                "set client-timeout: 1us is below the minimum 1ms",
            ),
            (
                "client-attempts",
                "101",
                "set client-attempts: 101 is above the maximum 100",
            ),
            ("duration", "7200s", "set duration: 7200s is above the maximum 3600s"),
        ];
        for (key, value, message) in limits {
            let mut s = script(1, vec![]);
            s.header.settings.push((key.into(), value.into()));
            assert_eq!(Sim::<Ping>::new(&s).err().as_deref(), Some(message), "{key} {value}");
        }
        let mut s = script(1, vec![]);
        s.header.nodes = 12;
        assert!(Sim::<Ping>::new(&s).is_err());
        let mut s = script(1, vec![]);
        s.header.protocol = "raft".into();
        assert!(Sim::<Ping>::new(&s).is_err());
    }
}
