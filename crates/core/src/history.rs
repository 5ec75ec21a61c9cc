//! Client histories: what clients invoked and what came back, for the linearizability checker.
//!
//! The model is Jepsen's: every operation is an `invoke` followed by at most one completion:
//! `ok` (it took effect; reads carry the value read), `fail` (it definitely did not take
//! effect) or `info` (the client gave up without knowing). An operation with no completion
//! is treated like `info`.

use crate::protocol::Op;
use crate::{ClientId, Value};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Invoke,
    Ok,
    Fail,
    Info,
}

/// One line of a history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Simulated time in microseconds (any non-decreasing clock in a history file).
    pub time_us: u64,
    /// The client (Jepsen's "process"); a client has at most one operation outstanding.
    pub client: ClientId,
    pub kind: EventKind,
    /// The operation, repeated on its completion.
    pub op: Op,
    /// On an `ok` read or compare-and-set: the value read (`None`: the key was never written).
    pub read: Option<Value>,
}

/// A history in the order events happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub events: Vec<Event>,
}
