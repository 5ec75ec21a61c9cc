//! The trace: every event of a run, in order, for the views, the golden tests and the
//! determinism checks.
//!
//! Events are small fixed-size records; a message's payload is stored once, in `messages`,
//! and events refer to it by index. The readable form of an event is one line, in the manner
//! of toyDB's golden scripts: `   12.345ms n1 -> n2 AppendEntries term=1 ...`.

use crate::chunked::Chunked;
use crate::history::EventKind as ClientOutcome;
use crate::net::DropReason;
use crate::protocol::{ClientReply, Note, Op, TimerKind};
use crate::{ClientId, NodeId, SimTime};
use std::fmt::{self, Write as _};

/// Index of a message in [`Trace::messages`].
pub type MsgId = u32;

/// A message as it was sent.
#[derive(Clone, Debug)]
pub struct MsgRecord<M> {
    pub from: NodeId,
    pub to: NodeId,
    pub sent: SimTime,
    pub msg: M,
}

/// What happened. `node` in [`Event`] is the node it happened at (0: none).
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// The node sent message `msg`; it is due at `deliver_at` unless lost.
    Send { msg: MsgId, deliver_at: SimTime },
    /// Message `msg` arrived at the node (a second delivery is a duplicate).
    Deliver { msg: MsgId },
    /// Message `msg` died on its way to the node.
    Drop { msg: MsgId, reason: DropReason },
    /// The node's timer fired.
    Timer { kind: TimerKind },
    /// The protocol said something happened at the node.
    Note(Note),
    /// Script action number `index` was applied.
    Action { index: u32 },
    /// The reader forced the node's timeout.
    ForcedTimeout,
    /// A client invoked an operation.
    Invoke { client: ClientId, op: Op },
    /// A client sent (or re-sent) its request to the node.
    ClientSend { client: ClientId, attempt: u32 },
    /// The node's request from a client was lost or reached a crashed node.
    ClientDrop { client: ClientId },
    /// The node answered a client.
    ClientReply { client: ClientId, reply: ClientReply },
    /// A client's operation completed (or was given up on).
    Return { client: ClientId, outcome: ClientOutcome },
    /// A client timed out waiting and will retry or give up.
    ClientTimeout { client: ClientId },
    /// The checker found violation number `index`.
    Violation { index: u32 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub time: SimTime,
    pub node: NodeId,
    pub kind: EventKind,
}

/// The recorded events and messages of a run.
#[derive(Clone, Debug)]
pub struct Trace<M> {
    pub events: Chunked<Event>,
    pub messages: Chunked<MsgRecord<M>>,
    /// Whether events are kept. Seed sweeps turn it off; checkers work either way.
    pub enabled: bool,
}

impl<M> Default for Trace<M> {
    fn default() -> Self {
        Trace {
            events: Chunked::default(),
            messages: Chunked::default(),
            enabled: true,
        }
    }
}

impl<M: fmt::Display> Trace<M> {
    pub(crate) fn push(&mut self, time: SimTime, node: NodeId, kind: EventKind) {
        if self.enabled {
            self.events.push(Event { time, node, kind });
        }
    }

    /// Writes one event as a readable line (without a newline). `action` renders script
    /// actions, which the trace refers to by index.
    pub fn write_line(&self, out: &mut String, event: &Event, action: &dyn Fn(u32) -> String) {
        let _ = write!(out, "{:>12} ", event.time.to_string());
        self.write_body(out, event, action);
    }

    /// Writes one event as [`Trace::write_line`] does, without the time in front.
    pub fn write_body(&self, out: &mut String, event: &Event, action: &dyn Fn(u32) -> String) {
        let n = event.node;
        let msg = |id: MsgId| self.messages.get(id as usize);
        let _ = match &event.kind {
            EventKind::Send { msg: id, .. } => match msg(*id) {
                Some(m) => write!(out, "n{n} -> n{} {}", m.to, m.msg),
                None => write!(out, "n{n} -> ? (message {id})"),
            },
            EventKind::Deliver { msg: id } => match msg(*id) {
                Some(m) => write!(out, "n{n} <- n{} {}", m.from, m.msg),
                None => write!(out, "n{n} <- ? (message {id})"),
            },
            EventKind::Drop { msg: id, reason } => match msg(*id) {
                Some(m) => write!(out, "n{n} x- n{} dropped ({}) {}", m.from, reason.as_str(), m.msg),
                None => write!(out, "n{n} x- ? dropped ({})", reason.as_str()),
            },
            EventKind::Timer { kind } => write!(out, "n{n} timer {kind}"),
            EventKind::Note(note) => match note {
                Note::Role { role, term } => write!(out, "n{n} becomes {} term={term}", role.as_str()),
                Note::Append { index, term } => write!(out, "n{n} append {index}@{term}"),
                Note::Truncate { from } => write!(out, "n{n} truncate from {from}"),
                Note::Commit { index } => write!(out, "n{n} commit {index}"),
                Note::Apply { index, term } => write!(out, "n{n} apply {index}@{term}"),
                Note::Fact(fact) => write!(out, "n{n} {} {}", fact.what, fact.value),
            },
            EventKind::Action { index } => write!(out, "action: {}", action(*index)),
            EventKind::ForcedTimeout => write!(out, "n{n} timeout forced"),
            EventKind::Invoke { client, op } => write!(out, "c{client} invoke {op}"),
            EventKind::ClientSend { client, attempt } => write!(out, "c{client} -> n{n} request (attempt {attempt})"),
            EventKind::ClientDrop { client } => write!(out, "c{client} x- n{n} request dropped"),
            EventKind::ClientReply { client, reply } => write!(out, "n{n} -> c{client} {}", format_reply(reply)),
            EventKind::Return { client, outcome } => write!(out, "c{client} returns {outcome:?}"),
            EventKind::ClientTimeout { client } => write!(out, "c{client} timeout waiting for n{n}"),
            EventKind::Violation { index } => write!(out, "VIOLATION #{index}"),
        };
    }
}

/// Writes `items` separated by `sep`, eliding the middle of a list longer than six (a trace
/// line is one line): the first three, `...`, and the last.
pub(crate) fn write_elided<T>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    sep: &str,
    item: impl Fn(&mut fmt::Formatter<'_>, usize, &T) -> fmt::Result,
) -> fmt::Result {
    let n = items.len();
    for (k, x) in items.iter().enumerate() {
        if n > 6 && (3..n - 1).contains(&k) {
            if k == 3 {
                write!(f, "{sep}...")?;
            }
            continue;
        }
        if k > 0 {
            f.write_str(sep)?;
        }
        item(f, k, x)?;
    }
    Ok(())
}

fn format_reply(reply: &ClientReply) -> String {
    match reply {
        ClientReply::Ok { value: Some(v) } => format!("ok {v}"),
        ClientReply::Ok { value: None } => "ok".to_string(),
        ClientReply::CasFailed { current: Some(v) } => format!("cas failed (is {v})"),
        ClientReply::CasFailed { current: None } => "cas failed (unset)".to_string(),
        ClientReply::NotLeader { leader: Some(l) } => format!("not leader (try n{l})"),
        ClientReply::NotLeader { leader: None } => "not leader".to_string(),
        ClientReply::Unavailable => "unavailable".to_string(),
    }
}

/// FNV-1a, 64 bits: a stable hash for trace digests (std's hasher is not stable across
/// releases, and digests are compared across platforms and pinned in tests).
#[derive(Clone, Copy, Debug)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    pub fn write_u64(&mut self, x: u64) {
        self.write(&x.to_le_bytes());
    }
    pub fn finish(self) -> u64 {
        self.0
    }
}
