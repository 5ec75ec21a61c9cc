//! Split brain and fencing tokens (Kleppmann, "How to do distributed locking", 2016).
//!
//! Nodes 1 to n-1 are members, the last node is a storage service that knows nothing of them.
//! A member that may write (Raft's leader, or the holder of a lease from the lock service)
//! works in a loop: it checks that it may write, works for `work`, then writes what it worked
//! on, with its token (its Raft term, or the lease's number). It does not check again between
//! the two: that gap is where a GC pause (`pause N for T`) or a slow clock lets an old leader
//! write after a new one.
//!
//! The storage keeps one register. With `fencing on` it remembers the highest token it has
//! accepted and rejects a write with a lower one; with it off it accepts every write. In lease
//! mode the storage node also runs the lock service: it grants a lease of `lease` (its TTL) to
//! one member at a time, numbering each grant, and lets the holder renew it; a member counts
//! its lease from the moment it asked, on its own clock, and starts a write only while the
//! lease has more than `work` left.

use super::params::Variant;
use super::{ACCEPTED, CapParams, Message, REJECTED, WORK_TIMER};
use crate::protocol::{Ctx, Effects, Fact, Note, Protocol, Role};
use crate::raft::Raft;
use crate::{NodeId, Value};

/// Most entries the storage's write log keeps (the newest).
pub const LOG_CAP: usize = 64;

/// One write as the storage saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub token: u64,
    pub writer: NodeId,
    pub value: Value,
    pub accepted: bool,
}

/// A member's lease, as it counts it on its own clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub token: u64,
    pub until_local: u64,
}

/// A member: a Raft node, or a lease holder when `lease` is set.
#[derive(Clone, Debug)]
pub struct Member {
    pub raft: Option<Raft>,
    pub lease: Option<Lease>,
    /// When the last lease request went out, on the local clock.
    asked_local: Option<u64>,
    /// The token of the write being worked on: checked, not yet sent.
    pub writing: Option<u64>,
    pub written: u64,
}

/// Runs `f` on Raft with a context of the members only (the storage is not a Raft node), and
/// passes its effects on.
fn with_raft<R>(ctx: &mut Ctx<Message>, f: impl FnOnce(&mut Ctx<crate::raft::Message>) -> R) -> R {
    let mut fx = Effects::default();
    let n = ctx.cluster_size() - 1;
    let result = f(&mut Ctx::new(ctx.id(), n, ctx.local_now_us(), ctx.rng(), &mut fx));
    for (to, msg) in fx.sends {
        ctx.send(to, Message::Raft(msg));
    }
    for (kind, after) in fx.timers {
        match after {
            Some(after) => ctx.set_timer(kind, after),
            None => ctx.cancel_timer(kind),
        }
    }
    for note in fx.notes {
        ctx.note(note);
    }
    result
}

impl Member {
    pub fn start(id: NodeId, p: &CapParams, raft: Option<crate::raft::Stable>, ctx: &mut Ctx<Message>) -> Self {
        let raft = p.lease_us.is_none().then(|| {
            with_raft(ctx, |rctx| match raft {
                Some(stable) => Raft::restart(id, &p.raft, stable, rctx),
                None => Raft::start(id, &p.raft, rctx),
            })
        });
        ctx.set_timer(WORK_TIMER, p.work_us);
        Member {
            raft,
            lease: None,
            asked_local: None,
            writing: None,
            written: 0,
        }
    }

    pub fn raft_message(&mut self, from: NodeId, msg: crate::raft::Message, ctx: &mut Ctx<Message>) {
        if let Some(raft) = self.raft.as_mut() {
            with_raft(ctx, |rctx| raft.on_message(from, msg, rctx));
        }
    }

    pub fn raft_timer(&mut self, kind: u8, ctx: &mut Ctx<Message>) {
        if let Some(raft) = self.raft.as_mut() {
            with_raft(ctx, |rctx| raft.on_timer(kind, rctx));
        }
    }

    pub fn force_timeout(&mut self, ctx: &mut Ctx<Message>) {
        if let Some(raft) = self.raft.as_mut() {
            with_raft(ctx, |rctx| raft.force_timeout(rctx));
        }
    }

    /// The lease, if it is still valid on the local clock.
    pub fn valid_lease(&self, now_local: u64) -> Option<Lease> {
        self.lease.filter(|l| now_local < l.until_local)
    }

    /// The work timer: send what was worked on, then check whether to start the next write.
    pub fn on_work(&mut self, p: &CapParams, ctx: &mut Ctx<Message>) {
        let storage = ctx.cluster_size();
        if let Some(token) = self.writing.take() {
            self.written += 1;
            let value = u64::from(ctx.id()) * 1_000_000 + self.written;
            ctx.send(storage, Message::Write { token, value });
        }
        let now = ctx.local_now_us();
        if self.lease.is_some() && self.valid_lease(now).is_none() {
            self.lease = None;
            ctx.note(Note::Role { role: WORKER, term: 0 });
        }
        self.writing = match (&self.raft, p.lease_us) {
            (Some(raft), _) => (raft.role() == Role::LEADER).then(|| raft.current_term()),
            (None, _) => self
                .valid_lease(now)
                .filter(|l| now + p.work_us < l.until_local)
                .map(|l| l.token),
        };
        if let Some(ttl) = p.lease_us {
            // Ask (or renew) when the lease has less than half its TTL left.
            if self.valid_lease(now).is_none_or(|l| l.until_local - now < ttl / 2) {
                self.asked_local = Some(now);
                ctx.send(storage, Message::Acquire);
            }
        }
        ctx.set_timer(WORK_TIMER, p.work_us);
    }

    pub fn on_grant(&mut self, token: u64, p: &CapParams, ctx: &mut Ctx<Message>) {
        let (Some(asked), Some(ttl)) = (self.asked_local, p.lease_us) else {
            return;
        };
        let was = self.valid_lease(ctx.local_now_us()).map(|l| l.token);
        self.lease = Some(Lease {
            token,
            until_local: asked + ttl,
        });
        if was != Some(token) {
            ctx.note(Note::Role {
                role: HOLDER,
                term: token,
            });
        }
    }
}

/// The role of a member holding a valid lease.
pub const HOLDER: Role = Role::new("holder", true);
/// The role of a member without one.
pub const WORKER: Role = Role::new("worker", false);
/// The storage service's role.
pub const STORAGE: Role = Role::new("storage", false);

/// The storage service, and in lease mode the lock service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Storage {
    /// The register: the last accepted write.
    pub value: Option<LogEntry>,
    /// The highest token accepted so far.
    pub max_token: u64,
    /// The highest token accepted from each writer (the broken variant fences with this).
    per_writer: [u64; 9],
    /// The newest writes, accepted or not, oldest first.
    pub log: Vec<LogEntry>,
    /// The write the last accepted one replaced.
    pub overwrote: Option<LogEntry>,
    pub accepted: u64,
    pub rejected: u64,
    /// The lease: holder, token, expiry on the storage's clock.
    pub lock: Option<(NodeId, u64, u64)>,
    pub grants: u64,
}

impl Storage {
    pub fn on_write(&mut self, from: NodeId, token: u64, value: Value, p: &CapParams, ctx: &mut Ctx<Message>) {
        let bar = match p.variant {
            Variant::Correct => self.max_token,
            Variant::TokenPerWriter => self.per_writer[usize::from(from).clamp(1, 9) - 1],
        };
        let accepted = !p.fencing || token >= bar;
        let entry = LogEntry {
            token,
            writer: from,
            value,
            accepted,
        };
        if self.log.len() == LOG_CAP {
            self.log.remove(0);
        }
        self.log.push(entry);
        if accepted {
            self.accepted += 1;
            self.overwrote = self.value.replace(entry);
            self.max_token = self.max_token.max(token);
            let w = &mut self.per_writer[usize::from(from).clamp(1, 9) - 1];
            *w = (*w).max(token);
        } else {
            self.rejected += 1;
        }
        ctx.note(Note::Fact(Fact {
            what: if accepted { ACCEPTED } else { REJECTED },
            value: token as i64,
        }));
        ctx.send(from, Message::WriteReply { token, accepted });
    }

    /// A member asks for the lease (or to renew it).
    pub fn on_acquire(&mut self, from: NodeId, p: &CapParams, ctx: &mut Ctx<Message>) {
        let Some(ttl) = p.lease_us else { return };
        let now = ctx.local_now_us();
        let token = match self.lock {
            Some((holder, token, expires)) if holder == from && now < expires => token,
            Some((_, _, expires)) if now < expires => return,
            _ => {
                self.grants += 1;
                self.grants
            }
        };
        self.lock = Some((from, token, now + ttl));
        ctx.send(from, Message::Grant { token });
    }
}
