//! The replicated state machine: a key-value map with client sessions, shared by every
//! protocol that replicates a log of commands (Raft, Multi-Paxos).
//!
//! Every node applies the same chosen commands in the same order, so every node's map goes
//! through the same states. Reads are commands too: a read is answered when it is applied, at
//! its place in the log, which makes it linearizable without a separate read protocol.
//!
//! Clients retry when an answer is lost, and a retried write must not be applied twice (Raft
//! paper, section 8; the same holds for any replicated log). A client has at most one
//! operation outstanding and numbers them, so the map keeps per client the highest `seq` it
//! applied and the reply it gave: a command that repeats that `seq` gets the saved reply
//! without being applied again, and a command with a lower `seq` (a retry that lost a race
//! with the client's later operation) is skipped. Sessions are part of the state machine, so
//! they are rebuilt on every node by applying the log.

use crate::protocol::{ClientReply, ClientRequest, Op};
use crate::{ClientId, Key, Value};
use std::collections::BTreeMap;
use std::fmt;

/// What a log entry (a Raft entry, a Paxos slot) asks the state machine to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Nothing. A new leader proposes one to fill a position nobody else will (Raft section 8:
    /// so that entries of earlier terms commit; Paxos Made Simple section 3: to fill a gap in
    /// the sequence of chosen commands).
    Noop,
    /// A client's operation, with its `(client, seq)` for at-most-once application.
    Client(ClientRequest),
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Noop => write!(f, "noop"),
            Command::Client(req) => write!(f, "c{}#{} {}", req.client, req.seq, req.op),
        }
    }
}

/// The last operation applied for one client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub seq: u64,
    pub reply: ClientReply,
}

/// What the state machine knows of a request before applying it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Not applied yet.
    New,
    /// Already applied; this was the reply.
    Applied(ClientReply),
    /// Older than the client's last applied operation: the client has moved on.
    Stale,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStore {
    data: BTreeMap<Key, Value>,
    sessions: BTreeMap<ClientId, Session>,
}

impl KvStore {
    pub fn get(&self, key: Key) -> Option<Value> {
        self.data.get(&key).copied()
    }

    /// The map's contents, in key order.
    pub fn data(&self) -> &BTreeMap<Key, Value> {
        &self.data
    }

    /// The per-client sessions, in client order.
    pub fn sessions(&self) -> &BTreeMap<ClientId, Session> {
        &self.sessions
    }

    pub fn seen(&self, req: &ClientRequest) -> Seen {
        match self.sessions.get(&req.client) {
            Some(s) if s.seq == req.seq => Seen::Applied(s.reply),
            Some(s) if s.seq > req.seq => Seen::Stale,
            _ => Seen::New,
        }
    }

    /// Applies a committed request at most once and returns the reply owed to the client, or
    /// `None` for a stale request nobody waits for.
    pub fn apply(&mut self, req: &ClientRequest) -> Option<ClientReply> {
        match self.seen(req) {
            Seen::Applied(reply) => return Some(reply),
            Seen::Stale => return None,
            Seen::New => {}
        }
        let reply = match req.op {
            Op::Read { key } => ClientReply::Ok { value: self.get(key) },
            Op::Write { key, value } => {
                self.data.insert(key, value);
                ClientReply::Ok { value: None }
            }
            Op::Cas { key, from, to } => {
                let current = self.get(key);
                if current == Some(from) {
                    self.data.insert(key, to);
                    ClientReply::Ok { value: Some(from) }
                } else {
                    ClientReply::CasFailed { current }
                }
            }
        };
        self.sessions.insert(req.client, Session { seq: req.seq, reply });
        Some(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(client: ClientId, seq: u64, op: Op) -> ClientRequest {
        ClientRequest { client, seq, op }
    }

    #[test]
    fn operations_behave_like_a_register_per_key() {
        let mut kv = KvStore::default();
        assert_eq!(
            kv.apply(&req(1, 1, Op::Read { key: 1 })),
            Some(ClientReply::Ok { value: None })
        );
        kv.apply(&req(1, 2, Op::Write { key: 1, value: 5 }));
        assert_eq!(
            kv.apply(&req(2, 1, Op::Cas { key: 1, from: 4, to: 6 })),
            Some(ClientReply::CasFailed { current: Some(5) })
        );
        assert_eq!(
            kv.apply(&req(2, 2, Op::Cas { key: 1, from: 5, to: 6 })),
            Some(ClientReply::Ok { value: Some(5) })
        );
        assert_eq!(kv.data().iter().collect::<Vec<_>>(), vec![(&1, &6)]);
    }

    #[test]
    fn a_repeated_request_is_applied_once_and_gets_its_first_reply() {
        // Section 8: a retried compare-and-set must not fail the second time it is seen.
        let mut kv = KvStore::default();
        let cas = req(1, 1, Op::Cas { key: 1, from: 0, to: 1 });
        kv.apply(&req(9, 1, Op::Write { key: 1, value: 0 }));
        let first = kv.apply(&cas);
        assert_eq!(first, Some(ClientReply::Ok { value: Some(0) }));
        assert_eq!(kv.apply(&cas), first);
        assert_eq!(kv.get(1), Some(1));
        kv.apply(&req(1, 2, Op::Write { key: 1, value: 7 }));
        assert_eq!(kv.apply(&cas), None, "a stale retry is skipped");
        assert_eq!(kv.get(1), Some(7));
    }
}
