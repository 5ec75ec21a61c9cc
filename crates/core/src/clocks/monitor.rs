//! The clocks chapter's checkers, which know the true happened-before relation.
//!
//! The monitor records every event of the causal history with the simulated time it happened
//! at and its true causal past: an event's immediate predecessors are the node's previous
//! event and, for a receive, the send event of its message (named by the message itself, not
//! by the clocks under test). From these it keeps, per event, the exact vector of how many
//! events of each node happened before it or are it (`truth`): A happened before B exactly
//! when `A.seq <= B.truth[A.node]` and A is not B.
//!
//! It checks, for each new event B against the events before it:
//! - Clock Condition: if A happened before B then L(A) < L(B) (Lamport 1978);
//! - Vector Characterization: V(A) < V(B) exactly when A happened before B;
//!
//! and counts, without calling them violations, the causally ordered pairs whose wall clocks
//! say the opposite (wall-clock misorders), the concurrent pairs (which the vectors, checked,
//! tell apart) and those of them that Lamport time orders anyway (either way round).
//! The comparisons run against the latest [`WINDOW`] events and, beyond it, the new
//! event's two immediate predecessors; since both properties are transitive along chains of
//! immediate predecessors, the "happened before" half of each is checked exactly, and the
//! counts are of pairs at most [`WINDOW`] events apart. The same transitivity spares most
//! vector comparisons: when the new event's vector is above its immediate predecessors' and
//! theirs were above their whole past, it is above its whole past too, and only the
//! concurrent pairs need comparing. And when both clocks are so proven, the counts need not
//! visit the whole window: a node's events in it are consecutive, and those up to the new
//! event's true past of that node are causal (`ordered_counts`). A test redoes
//! every comparison, for each variant and clock setting, and expects the same.
//!
//! With a register, Acknowledged Writes Survive: once a replica has heard of an acknowledged
//! write, its store must keep that write or a version that descends from it (truly, by the
//! writes' own causal pasts, not by the protocol's version vectors).

use super::{Clocks, Kind, MAX_NODES, Store, Vc, vc_less, vc_text};
use crate::chunked::Chunked;
use crate::protocol::{Monitor, Note, Violation};
use crate::{NodeId, SimTime, Value};

pub const CLOCK_CONDITION: &str = "Clock Condition";
pub const VECTOR: &str = "Vector Characterization";
pub const WRITES_SURVIVE: &str = "Acknowledged Writes Survive";
pub const PROPERTIES: &[&str] = &[CLOCK_CONDITION, VECTOR, WRITES_SURVIVE];

/// Counted figures ([`Monitor::counts`]).
pub const MISORDERS: &str = "wall-clock misorders";
pub const AMBIGUOUS: &str = "concurrent pairs in Lamport order";
pub const CONCURRENT: &str = "concurrent pairs";
pub const LOST: &str = "lost writes";
pub const SIBLINGS: &str = "most siblings at a replica";

/// How many recent events each new event is compared with.
pub const WINDOW: usize = 1_000;

/// An event as the monitor recorded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub node: NodeId,
    pub seq: u32,
    pub kind: Kind,
    /// The simulated (true) time.
    pub time: SimTime,
    pub wall: i64,
    pub lamport: u64,
    pub vc: Vc,
    /// The true causal past, per node, this event included.
    pub truth: Vc,
    /// For a receive: the index of its send event.
    pub from: Option<u32>,
    /// NTP stepped the node's clock just before this event.
    pub stepped: bool,
    /// For a write: its value.
    pub value: Option<Value>,
}

impl Recorded {
    /// This event happened before `b` (by the true relation).
    pub fn before(&self, b: &Recorded) -> bool {
        (self.node, self.seq) != (b.node, b.seq) && self.seq <= b.truth[usize::from(self.node) - 1]
    }
}

/// What the pairwise checks read of an event, kept apart from [`Recorded`] so that the
/// comparisons with the window walk 40 bytes an event, not the whole record.
#[derive(Clone, Copy, Debug, Default)]
struct Slim {
    lamport: u64,
    wall: i64,
    seq: u32,
    /// The event's own node's entry of its vector.
    own: u32,
    node: NodeId,
    /// The latest wall clock of this node's events up to this one.
    max_wall: i64,
    /// Every event that truly happened before this one has a vector below this one's. Known
    /// without comparing them all: it holds when it holds for the immediate predecessors and
    /// their vectors are below this one's, since "below" is transitive.
    vectors_ordered: bool,
    /// The same for Lamport times.
    lamport_ordered: bool,
}

/// An acknowledged write: coordinator, write number, value.
type Ack = (NodeId, u32, Value);

#[derive(Clone, Debug, Default)]
pub struct ClocksMonitor {
    now: SimTime,
    events: Chunked<Recorded>,
    /// Per event, in the same order, what the pairwise checks need.
    slim: Chunked<Slim>,
    /// Per node, the index of its event `seq` at `seq - 1`.
    by_node: Vec<Chunked<u32>>,
    /// Per node, the position in `by_node` of its first event in the window.
    window_first: [usize; MAX_NODES],
    misorders: u64,
    ambiguous: u64,
    concurrent: u64,
    most_siblings: u64,
    acked: Vec<Ack>,
    lost: Vec<Ack>,
}

impl ClocksMonitor {
    /// Every event so far, in the order they happened (an event's index is its stable id).
    pub fn events(&self) -> &Chunked<Recorded> {
        &self.events
    }
    /// The index of node `node`'s event `seq`.
    pub fn index_of(&self, node: NodeId, seq: u32) -> Option<u32> {
        let list = self.by_node.get(usize::from(node).checked_sub(1)?)?;
        list.get(usize::try_from(seq).ok()?.checked_sub(1)?).copied()
    }
    pub fn misorders(&self) -> u64 {
        self.misorders
    }
    pub fn ambiguous(&self) -> u64 {
        self.ambiguous
    }
    /// Acknowledged writes that a replica lost (coordinator, write number, value).
    pub fn lost(&self) -> &[Ack] {
        &self.lost
    }

    fn record(&mut self, node: NodeId, ev: &super::Event, n: u8, out: &mut Vec<Violation>) {
        let i = usize::from(node) - 1;
        if self.by_node.len() < MAX_NODES {
            self.by_node.resize_with(MAX_NODES, Chunked::default);
        }
        if ev.stamp.seq as usize <= self.by_node[i].len() {
            return; // seen already
        }
        let prev = self.by_node[i].last().copied();
        let from = ev.from.and_then(|(m, s)| self.index_of(m, s));
        let mut truth = prev.map_or([0; MAX_NODES], |p| self.events[p as usize].truth);
        if let Some(f) = from {
            super::vc_merge(&mut truth, &self.events[f as usize].truth);
        }
        truth[i] = ev.stamp.seq;
        let b = Recorded {
            node,
            seq: ev.stamp.seq,
            kind: ev.kind,
            time: self.now,
            wall: ev.wall,
            lamport: ev.stamp.lamport,
            vc: ev.stamp.vc,
            truth,
            from,
            stepped: ev.stepped,
            value: ev.write.map(|(_, v)| v),
        };
        let start = self.events.len().saturating_sub(WINDOW);
        let mut lamport_bad = None;
        let mut vector_bad = None;
        let (mut vectors_ordered, mut lamport_ordered) = (true, true);
        // The immediate predecessors first, so that a violation names the direct cause.
        for p in [from, prev].into_iter().flatten() {
            let a = self.events[p as usize];
            if a.lamport >= b.lamport {
                lamport_bad.get_or_insert(a);
            }
            if !vc_less(&a.vc, &b.vc) {
                vector_bad.get_or_insert(a);
            }
            let ordered = &self.slim[p as usize];
            vectors_ordered &= ordered.vectors_ordered && vc_less(&a.vc, &b.vc);
            lamport_ordered &= ordered.lamport_ordered && a.lamport < b.lamport;
        }
        let counts = (vectors_ordered && lamport_ordered)
            .then(|| self.ordered_counts(&b, start))
            .flatten();
        if let Some((misorders, concurrent, ambiguous)) = counts {
            self.misorders += misorders;
            self.concurrent += concurrent;
            self.ambiguous += ambiguous;
        } else {
            // Every pair, in order, so that a violation names the first offender.
            for (at, a) in (start..).zip(self.slim.iter_from(start)) {
                let an = usize::from(a.node) - 1;
                let before = a.seq <= b.truth[an] && (a.node, a.seq) != (node, b.seq);
                if before {
                    if a.lamport >= b.lamport {
                        lamport_bad.get_or_insert(self.events[at]);
                    }
                    // Without `vectors_ordered`, V(a) < V(b) is unknown; compare them.
                    if !vectors_ordered && !vc_less(&self.events[at].vc, &b.vc) {
                        vector_bad.get_or_insert(self.events[at]);
                    }
                    if a.wall > b.wall {
                        self.misorders += 1;
                    }
                } else {
                    if self.may_be_below(at, a, &b) {
                        vector_bad.get_or_insert(self.events[at]);
                    }
                    self.concurrent += 1;
                    if a.lamport != b.lamport {
                        self.ambiguous += 1;
                    }
                }
            }
        }
        let name = |e: &Recorded| format!("n{}'s event {}", e.node, e.seq);
        if let Some(a) = lamport_bad {
            out.push(Violation {
                property: CLOCK_CONDITION,
                nodes: vec![a.node, node],
                detail: format!(
                    "{} happened before {}, but its Lamport time {} is not below {}",
                    name(&a),
                    name(&b),
                    a.lamport,
                    b.lamport
                ),
            });
        }
        if let Some(a) = vector_bad {
            let (va, vb) = (vc_text(&a.vc, n), vc_text(&b.vc, n));
            let detail = if a.before(&b) {
                format!(
                    "{} happened before {}, but its vector [{va}] is not below [{vb}]",
                    name(&a),
                    name(&b)
                )
            } else {
                format!(
                    "{} and {} are concurrent, but vector [{va}] is below [{vb}]",
                    name(&a),
                    name(&b)
                )
            };
            out.push(Violation {
                property: VECTOR,
                nodes: vec![a.node, node],
                detail,
            });
        }
        self.by_node[i].push(self.events.len() as u32);
        self.slim.push(Slim {
            lamport: b.lamport,
            wall: b.wall,
            seq: b.seq,
            own: b.vc[i],
            node,
            max_wall: prev.map_or(b.wall, |p| self.slim[p as usize].max_wall.max(b.wall)),
            vectors_ordered,
            lamport_ordered,
        });
        self.events.push(b);
        if let Some((write, value)) = ev.write {
            self.acked.push((node, write, value));
        }
    }

    /// Whether the window's event `at` (`a`), concurrent with `b`, has a vector below `b`'s, which
    /// would break Vector Characterization. V(a) < V(b) needs a's own entry at most b's (a
    /// correct vector never has it), so the whole vectors are compared only then.
    fn may_be_below(&self, at: usize, a: &Slim, b: &Recorded) -> bool {
        a.own <= b.vc[usize::from(a.node) - 1] && vc_less(&self.events[at].vc, &b.vc)
    }

    /// The window's counts for `b` (wall-clock misorders, concurrent pairs, those of them in
    /// Lamport order), when its immediate predecessors prove every causal pair ordered by
    /// both clocks, without visiting every event of the window: a node's events in the window
    /// are consecutive, those up to `b.truth` of that node happened before `b` and the rest
    /// are concurrent with it. The causal ones are walked back from the newest only while an
    /// older one could still have a later wall clock (`max_wall`). `None` when a concurrent
    /// pair's vectors may be ordered: the caller then compares every pair, in order.
    fn ordered_counts(&mut self, b: &Recorded, start: usize) -> Option<(u64, u64, u64)> {
        let (mut misorders, mut concurrent, mut ambiguous) = (0, 0, 0);
        for (k, list) in self.by_node.iter().enumerate() {
            let first = &mut self.window_first[k];
            while *first < list.len() && (list[*first] as usize) < start {
                *first += 1;
            }
            // The window's seqs of node k + 1, and the last of them that happened before b.
            let (lo, hi) = (*first as u32 + 1, list.len() as u32);
            let causal = hi.min(b.truth[k]);
            let mut seq = causal;
            while seq >= lo {
                let a = &self.slim[list[seq as usize - 1] as usize];
                if a.max_wall <= b.wall {
                    break;
                }
                misorders += u64::from(a.wall > b.wall);
                seq -= 1;
            }
            for seq in lo.max(causal + 1)..=hi {
                let at = list[seq as usize - 1] as usize;
                let a = &self.slim[at];
                if self.may_be_below(at, a, b) {
                    return None;
                }
                concurrent += 1;
                ambiguous += u64::from(a.lamport != b.lamport);
            }
        }
        Some((misorders, concurrent, ambiguous))
    }

    /// Acknowledged Writes Survive at `node`: every acknowledged write it has heard of is in
    /// the causal past of a version it keeps.
    fn check_store(&mut self, node: NodeId, me: &Clocks, out: &mut Vec<Violation>) {
        if me.store() == Store::Off {
            return;
        }
        self.most_siblings = self.most_siblings.max(me.versions().len() as u64);
        for &(a, k, value) in &self.acked {
            let ai = usize::from(a) - 1;
            let heard = me.knows()[ai] >= k;
            if heard && !self.lost.contains(&(a, k, value)) && !me.versions().iter().any(|v| v.ghost[ai] >= k) {
                self.lost.push((a, k, value));
                let kept: Vec<String> = me
                    .versions()
                    .iter()
                    .map(|v| format!("{} by n{}", v.value, v.node))
                    .collect();
                out.push(Violation {
                    property: WRITES_SURVIVE,
                    nodes: vec![a, node],
                    detail: format!(
                        "n{node} dropped n{a}'s acknowledged write of {value} (its write {k}) for {}, which does not descend from it",
                        kept.join(", ")
                    ),
                });
            }
        }
    }
}

impl Monitor<Clocks> for ClocksMonitor {
    fn observe(&mut self, node: NodeId, notes: &[Note], nodes: &[Option<Clocks>], out: &mut Vec<Violation>) {
        let _ = notes;
        let Some(Some(me)) = nodes.get(usize::from(node).wrapping_sub(1)) else {
            return;
        };
        for ev in me.recent() {
            self.record(node, ev, me.cluster_size(), out);
        }
        self.check_store(node, me, out);
    }
    fn properties() -> &'static [&'static str] {
        PROPERTIES
    }
    fn at(&mut self, now: SimTime) {
        self.now = now;
    }
    fn counts(&self) -> Vec<(&'static str, u64)> {
        vec![
            (MISORDERS, self.misorders),
            (AMBIGUOUS, self.ambiguous),
            (CONCURRENT, self.concurrent),
            (LOST, self.lost.len() as u64),
            (SIBLINGS, self.most_siblings),
        ]
    }
}
