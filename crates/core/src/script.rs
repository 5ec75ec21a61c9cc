//! Action scripts: a run's scenario header and its timed actions.
//!
//! Every fault and every client request, whether typed in a test, loaded from a preset or
//! clicked in the UI, is an action at a simulated time. A run is a pure function of its
//! script, so a script is also how a run is saved, shared and replayed.
//!
//! Two encodings share one model. The text format, one item per line, for tests and presets:
//!
//! ```text
//! # A leader crash.
//! protocol raft
//! nodes 5
//! seed 42
//! set prevote on
//! set latency 10ms..15ms
//! 1s     request 1 write k1 5
//! 2s     crash 3
//! 2.5s   partition 1 2 | 3 4 5
//! 3s     heal
//! ```
//!
//! and a compact form for URLs (see [`encode_compact`]). Both parsers report errors with line
//! and column and never panic on any input.

use crate::protocol::Op;
use crate::{ClientId, NodeId, SimTime};
use serde::{Deserialize, Serialize};

/// A run's fixed parameters: everything but the timed actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The protocol's name ("raft").
    pub protocol: String,
    /// Cluster size, 1..=9.
    pub nodes: u8,
    pub seed: u64,
    /// `set KEY VALUE` lines in order: network keys (`latency`, `loss`, `dup`,
    /// `client-timeout`) and protocol keys (`prevote`, `variant`, ...).
    pub settings: Vec<(String, String)>,
}

impl Default for Header {
    fn default() -> Self {
        Header { protocol: "raft".into(), nodes: 5, seed: 1, settings: Vec::new() }
    }
}

/// A whole script.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    pub header: Header,
    /// Sorted by time; actions at the same time apply in order.
    pub actions: Vec<TimedAction>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedAction {
    pub at: SimTime,
    pub action: Action,
}

/// One fault, repair or request. Rates are integers in parts per million so that scripts hash
/// and compare exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Split the nodes into islands (`partition 1 2 | 3 4 5`); nodes left out each form an
    /// island of their own. Replaces any earlier partition; one-way cuts stay.
    Partition(Vec<Vec<NodeId>>),
    /// Remove every partition and every cut.
    Heal,
    /// Drop messages from `from` to `to` (`cut 1 -> 2`), both ways if `both` (`cut 1 <-> 2`).
    Cut { from: NodeId, to: NodeId, both: bool },
    /// Undo a cut (`restore 1 -> 2`, `restore 1 <-> 2`).
    Restore { from: NodeId, to: NodeId, both: bool },
    /// Stop a node: volatile state lost, persisted state kept, its timers gone.
    Crash(NodeId),
    /// Start a crashed node again from its persisted state.
    Restart(NodeId),
    /// Freeze a node (a GC pause): its timers and deliveries are held until it resumes,
    /// after `for_us` if given (`pause 2 for 300ms`), else at a `resume`.
    Pause { node: NodeId, for_us: Option<u64> },
    Resume(NodeId),
    /// Set a node's clock offset and drift (`skew 2 +30ms -100ppm`).
    Skew { node: NodeId, offset_us: i64, drift_ppm: i32 },
    /// Probability that a message is lost (`loss 5%`).
    Loss { ppm: u32 },
    /// Probability that a message is delivered twice (`dup 1%`).
    Dup { ppm: u32 },
    /// One-way latency range of every link (`latency 10ms..15ms`).
    Latency { min_us: u64, max_us: u64 },
    /// Client `client` invokes `op`, first at node `node` if given
    /// (`request 1 write k1 5 via 2`), else at the node it last found to be the leader.
    Request { client: ClientId, op: Op, node: Option<NodeId> },
    /// Steady random client load: `clients` clients with `per_sec` operations per second
    /// in all, over `keys` keys (`load 20/s clients 3 keys 2`); `load off` stops it.
    Load { per_sec: u32, clients: u32, keys: u32 },
    /// Fire a node's election (or proposal) timeout now (`timeout 3`).
    Timeout(NodeId),
}

/// A parse error with its position, 1-based. The compact form is one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {}
