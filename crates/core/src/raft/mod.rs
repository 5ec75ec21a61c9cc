//! Raft: consensus on a replicated log (Ongaro and Ousterhout, "In Search of an
//! Understandable Consensus Algorithm", extended version; Figure 2 is the whole protocol).
//!
//! A cluster of n nodes keeps one log of commands; every node applies the log's committed
//! prefix, in order, to its own copy of a key-value map, so all copies agree. Time is cut into
//! terms, numbered upward. Each term begins with an election and has at most one leader; the
//! leader alone takes client requests, appends them to its log and ships the log to the
//! others. Terms are Raft's logical clock: every message carries the sender's term, and a node
//! that sees a higher term than its own adopts it and falls back to being a follower, so a
//! stale leader steps down the moment it hears of a newer term (section 5.1).
//!
//! **Election** (section 5.2). A follower that hears nothing from a leader for an election
//! timeout, drawn at random from a range so that nodes rarely time out together, becomes a
//! candidate: it raises its term, votes for itself and asks everyone for a vote. A node grants
//! at most one vote per term, first come first served, and only to a candidate whose log is at
//! least as up-to-date as its own (section 5.4.1). A candidate with votes from a majority
//! becomes leader; two majorities always share a node, so a term has at most one leader. A
//! split vote times out and a new term begins.
//!
//! **Replication** (section 5.3). The leader sends AppendEntries, which doubles as a heartbeat
//! when empty. Each carries the index and term of the entry just before the new ones; a
//! follower accepts only if its log has that entry, so a log accepted is a log whose whole
//! prefix matches the leader's. On a refusal the leader steps back its `nextIndex` for that
//! follower and tries again, and where the follower holds entries that conflict with the new
//! ones it deletes them and everything after. Entries that already match are never deleted,
//! which is what makes a delayed or duplicated AppendEntries harmless.
//!
//! **Commitment** (section 5.4.2). An entry is committed once the leader that created it has
//! stored it on a majority; the leader then advances `commitIndex`, tells the followers in
//! its next AppendEntries, and everyone applies. The subtle rule: a leader counts replicas
//! only for entries of its own term. An entry of an earlier term stored on a majority can
//! still be overwritten by a later leader (Figure 8), but once an entry of the current term is
//! on a majority, it and everything before it are safe. That is why a new leader appends a
//! no-op of its term at once (section 8): it lets earlier entries commit without waiting for a
//! client.
//!
//! **Clients** (section 8). A follower answers a request with the leader it knows of. The
//! leader appends the request and answers when it applies it; if it steps down first, it
//! answers with the leader it now knows of (the entry may still commit: the answer promises
//! nothing about it). A request carries `(client, seq)`, kept across retries; the state
//! machine remembers each client's last applied `seq` and reply, so a retry is applied at most
//! once (see [`crate::kv`]), and a leader that holds the request unapplied waits on that
//! entry. Reads go through the log like writes, which makes them linearizable at the cost of a
//! round of replication.
//!
//! **PreVote and CheckQuorum** (thesis 9.6 and 6.2), both off by default. A node that was cut
//! off keeps timing out and raising its term; when it comes back, its high term forces the
//! healthy leader to step down for nothing. With PreVote, a node that times out first asks
//! whether it *could* win an election of the next term, without raising its own term; voters
//! say yes only if its log is up-to-date and they have not heard from a leader within the
//! minimum election timeout. Only with a majority of yeses does it start a real election (the
//! stage shows a node asking for pre-votes as a candidate whose term has not moved). With
//! CheckQuorum, a leader that has not heard from a majority within an election timeout steps
//! down, so a leader on the minority side of a partition stops taking requests it cannot
//! commit.
//!
//! Persistence is synchronous in this engine (what [`Protocol::stable`] returns at a crash
//! survives), which is Figure 2's "updated on stable storage before responding to RPCs".
//! Broken variants ([`Variant`]) bend one rule each so that the [`RaftMonitor`] has something
//! to catch.

pub mod log;
pub mod monitor;
pub mod params;
/// The smallest number of nodes out of `n` that make a majority: any two such sets share a node.
pub(crate) fn quorum(n: u8) -> usize {
    usize::from(n) / 2 + 1
}

/// The highest index stored on at least `quorum` of the nodes whose last stored indexes are
/// `stored` (reordered in place): the `quorum`-th largest.
pub(crate) fn quorum_index(stored: &mut [u64], quorum: usize) -> u64 {
    crate::sort::sort_by_key(stored, |&i| u128::from(u64::MAX - i));
    stored.get(quorum.wrapping_sub(1)).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests;

pub use crate::kv::KvStore;
pub use log::{Command, Entry, Log};
pub use monitor::RaftMonitor;
pub use params::{RaftParams, Variant};

use crate::kv::Seen;
use crate::protocol::{
    ClientReply, ClientRequest, Ctx, MsgFamily, MsgShape, MsgStyle, Note, Protocol, Role, Scenario, TimerInfo,
    TimerKind,
};
use crate::trace::write_elided;
use crate::{ClientId, NodeId};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The election timer. A leader with CheckQuorum on uses the same slot for its quorum check.
pub const ELECTION_TIMER: TimerKind = 0;
/// The leader's heartbeat timer.
pub const HEARTBEAT_TIMER: TimerKind = 1;

/// At most this many entries travel in one AppendEntries, so that a follower far behind is
/// repaired in bounded messages.
pub const MAX_ENTRIES_PER_APPEND: usize = 64;

/// A message between Raft nodes. Every message carries the sender's term (section 5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A candidate asks for a vote (the RequestVote RPC of Figure 2, section 5.2). The voter
    /// grants it only if it has not voted for someone else in `term` and the candidate's log,
    /// ending at `last_log_index@last_log_term`, is at least as up-to-date as its own
    /// (section 5.4.1), which keeps every committed entry in the winner's log.
    ///
    /// With `pre_vote` (thesis 9.6), `term` is the term the sender *would* run in: nobody
    /// changes term on it and no vote is recorded; the voter only says whether it would grant.
    RequestVote {
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
        pre_vote: bool,
    },
    /// The answer to a RequestVote. `term` is the voter's current term, so that a candidate
    /// from an old term learns it is stale; a granted pre-vote carries the term asked about.
    Vote { term: u64, granted: bool, pre_vote: bool },
    /// The leader replicates entries and, when `entries` is empty, asserts its leadership as a
    /// heartbeat (the AppendEntries RPC of Figure 2, section 5.3). The follower accepts only if
    /// its log holds an entry at `prev_log_index` of `prev_log_term` (the consistency check
    /// behind Log Matching); it then deletes any of its entries that conflict with `entries`,
    /// appends those it lacks, and commits up to `leader_commit`.
    AppendEntries {
        term: u64,
        prev_log_index: u64,
        prev_log_term: u64,
        entries: Vec<Entry>,
        leader_commit: u64,
    },
    /// The answer to an AppendEntries; `prev_log_index` echoes the one it answers. On success,
    /// `match_index` is the last index the follower now knows agrees with the leader
    /// (`prev_log_index + entries.len()`), from which the leader advances `matchIndex` and
    /// commits. On a failed consistency check, `conflict_index` is where the leader should try
    /// next: one past the follower's log if it is too short, else the first index of the
    /// follower's conflicting term (the fast back-off sketched at the end of section 5.3). A
    /// refusal of a stale term (Figure 2, receiver rule 1) has `conflict_index` 0: it only tells
    /// the sender the newer term, and says nothing about the logs. The field that does not
    /// apply is 0.
    AppendEntriesReply {
        term: u64,
        success: bool,
        prev_log_index: u64,
        match_index: u64,
        conflict_index: u64,
    },
}

impl Message {
    /// The sender's term (or, for a pre-vote request, the term it would run in).
    pub fn term(&self) -> u64 {
        match *self {
            Message::RequestVote { term, .. }
            | Message::Vote { term, .. }
            | Message::AppendEntries { term, .. }
            | Message::AppendEntriesReply { term, .. } => term,
        }
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::RequestVote {
                term,
                last_log_index,
                last_log_term,
                pre_vote,
            } => {
                let kind = if *pre_vote { "RequestPreVote" } else { "RequestVote" };
                write!(f, "{kind} term={term} last={last_log_index}@{last_log_term}")
            }
            Message::Vote {
                term,
                granted,
                pre_vote,
            } => {
                let kind = if *pre_vote { "PreVote" } else { "Vote" };
                let answer = if *granted { "granted" } else { "denied" };
                write!(f, "{kind} term={term} {answer}")
            }
            Message::AppendEntries {
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
            } => {
                let entries = Entries {
                    prev_log_index: *prev_log_index,
                    entries,
                };
                write!(
                    f,
                    "AppendEntries term={term} prev={prev_log_index}@{prev_log_term} entries=[{entries}] commit={leader_commit}"
                )
            }
            Message::AppendEntriesReply {
                term,
                success,
                prev_log_index,
                match_index,
                conflict_index,
            } => match (*success, *conflict_index) {
                (true, _) => write!(f, "AppendEntriesReply term={term} ok match={match_index}"),
                (false, 0) => write!(f, "AppendEntriesReply term={term} stale prev={prev_log_index}"),
                (false, next) => write!(
                    f,
                    "AppendEntriesReply term={term} conflict prev={prev_log_index} next={next}"
                ),
            },
        }
    }
}

/// The entries of an AppendEntries as `index@term`, separated by spaces; long batches print
/// their ends (a trace line is one line per message).
struct Entries<'a> {
    prev_log_index: u64,
    entries: &'a [Entry],
}

impl fmt::Display for Entries<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_elided(f, self.entries, " ", |f, k, e| {
            // Saturating: the indexes of a message come from another node.
            let index = self.prev_log_index.saturating_add(1).saturating_add(k as u64);
            write!(f, "{index}@{}", e.term)
        })
    }
}

/// Raft's persistent state (Figure 2): what survives a crash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stable {
    /// The latest term the node has seen.
    pub current_term: u64,
    /// The candidate it voted for in `current_term`, if any.
    pub voted_for: Option<NodeId>,
    pub log: Log,
}

/// A node's state in the election cycle. A pre-candidate (thesis 9.6) is shown to the stage as
/// a candidate that has not raised its term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

/// One Raft node.
#[derive(Clone, Debug)]
pub struct Raft {
    id: NodeId,
    n: u8,
    params: RaftParams,

    // Persistent on all servers (Figure 2).
    current_term: u64,
    voted_for: Option<NodeId>,
    log: Log,

    // Volatile on all servers.
    state: State,
    /// The leader of `current_term`, once known: for redirecting clients and for the pre-vote
    /// lease.
    leader: Option<NodeId>,
    commit_index: u64,
    last_applied: u64,
    kv: KvStore,
    /// Local time at which the election timer fires, while one is set (for the stage).
    election_deadline_us: Option<u64>,
    /// Local time of the last AppendEntries from the leader of `current_term`.
    leader_contact_us: Option<u64>,
    /// The (role, term) last announced with a `Note::Role`.
    noted: (Role, u64),

    // Candidates and pre-candidates: who granted, by `id - 1`.
    votes: Vec<bool>,

    // Volatile on leaders, by `id - 1` (Figure 2), reinitialized after each election.
    next_index: Vec<u64>,
    match_index: Vec<u64>,
    /// Peers heard from since the last quorum check (CheckQuorum).
    recent_active: Vec<bool>,
    /// Client requests this leader owes a reply, by log index.
    pending: BTreeMap<u64, ClientRequest>,
    /// Every client entry of the log past `last_applied`, as `(client, seq, index)`: a leader
    /// looks a retried request up here instead of scanning the unapplied suffix of its log.
    /// Kept on every node, since any node may become leader, by [`Raft::append`],
    /// [`Raft::truncate_from`] and [`Raft::apply_committed`].
    unapplied: BTreeSet<(ClientId, u64, u64)>,
}

fn slot(id: NodeId) -> usize {
    usize::from(id).saturating_sub(1)
}

impl Raft {
    fn new(id: NodeId, n: u8, params: &RaftParams, stable: Stable) -> Self {
        let n_usize = usize::from(n);
        let mut raft = Raft {
            id,
            n,
            params: params.clone(),
            current_term: stable.current_term,
            voted_for: stable.voted_for,
            log: stable.log,
            state: State::Follower,
            leader: None,
            commit_index: 0,
            last_applied: 0,
            kv: KvStore::default(),
            election_deadline_us: None,
            leader_contact_us: None,
            noted: (Role::FOLLOWER, stable.current_term),
            votes: vec![false; n_usize],
            next_index: Vec::new(),
            match_index: Vec::new(),
            recent_active: vec![false; n_usize],
            pending: BTreeMap::new(),
            unapplied: BTreeSet::new(),
        };
        // Nothing is applied yet: every client entry of the stored log is unapplied.
        for (index, entry) in raft.log.entries() {
            if let Command::Client(req) = entry.command {
                raft.unapplied.insert((req.client, req.seq, index));
            }
        }
        raft
    }

    // ----- Read-only views for the stage, the panels and the checkers. -----

    pub fn id(&self) -> NodeId {
        self.id
    }
    pub fn params(&self) -> &RaftParams {
        &self.params
    }
    pub fn current_term(&self) -> u64 {
        self.current_term
    }
    pub fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }
    pub fn log(&self) -> &Log {
        &self.log
    }
    pub fn commit_index(&self) -> u64 {
        self.commit_index
    }
    pub fn last_applied(&self) -> u64 {
        self.last_applied
    }
    /// The leader this node knows of in its current term (itself when leading).
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }
    /// True while a pre-candidate: asking for pre-votes without having raised its term.
    pub fn is_pre_candidate(&self) -> bool {
        self.state == State::PreCandidate
    }
    /// The local time (node clock, microseconds) at which the election timer fires, while
    /// one is running. A leader has none.
    pub fn election_deadline_us(&self) -> Option<u64> {
        self.election_deadline_us
    }
    /// The nodes that granted this candidate's (pre-)vote, itself included, in id order.
    pub fn votes(&self) -> Vec<NodeId> {
        if matches!(self.state, State::Candidate | State::PreCandidate) {
            (1..=self.n).filter(|&p| self.votes[slot(p)]).collect()
        } else {
            Vec::new()
        }
    }
    /// A leader's `nextIndex` for `peer`; `None` unless leading.
    pub fn next_index(&self, peer: NodeId) -> Option<u64> {
        if self.state != State::Leader || peer == self.id {
            return None;
        }
        self.next_index.get(slot(peer)).copied()
    }
    /// A leader's `matchIndex` for `peer`; `None` unless leading.
    pub fn match_index(&self, peer: NodeId) -> Option<u64> {
        if self.state != State::Leader || peer == self.id {
            return None;
        }
        self.match_index.get(slot(peer)).copied()
    }
    /// The replicated key-value map as this node has applied it.
    pub fn kv(&self) -> &KvStore {
        &self.kv
    }
    /// Client requests this leader will answer once applied, by log index.
    pub fn pending(&self) -> &BTreeMap<u64, ClientRequest> {
        &self.pending
    }

    // ----- Bookkeeping. -----

    fn quorum(&self) -> usize {
        quorum(self.n)
    }

    fn peers(&self) -> impl Iterator<Item = NodeId> + use<> {
        let me = self.id;
        (1..=self.n).filter(move |&p| p != me)
    }

    /// Appends `entry` to the log, notes it and indexes it if it is a client's; returns its index.
    fn append(&mut self, entry: Entry, ctx: &mut Ctx<Message>) -> u64 {
        let index = self.log.append(entry);
        ctx.note(Note::Append {
            index,
            term: entry.term,
        });
        if let Command::Client(req) = entry.command
            && index > self.last_applied
        {
            self.unapplied.insert((req.client, req.seq, index));
        }
        index
    }

    /// Deletes the log's entries from `index` on, notes it and forgets their client entries.
    fn truncate_from(&mut self, index: u64, ctx: &mut Ctx<Message>) {
        for at in index.max(1)..=self.log.last_index() {
            if let Some(Entry {
                command: Command::Client(req),
                ..
            }) = self.log.get(at)
            {
                self.unapplied.remove(&(req.client, req.seq, at));
            }
        }
        self.log.truncate_from(index);
        ctx.note(Note::Truncate { from: index });
    }

    /// Announces the role and term if either changed since the last announcement.
    fn note_role(&mut self, ctx: &mut Ctx<Message>) {
        let now = (self.role(), self.current_term);
        if now != self.noted {
            self.noted = now;
            ctx.note(Note::Role {
                role: now.0,
                term: now.1,
            });
        }
    }

    /// Draws a fresh election timeout (section 5.2: randomized, so that split votes are rare).
    fn reset_election_timer(&mut self, ctx: &mut Ctx<Message>) {
        let (lo, hi) = (self.params.election_timeout_us_min, self.params.election_timeout_us_max);
        let after = ctx.rng().range_inclusive(lo, hi);
        ctx.set_timer(ELECTION_TIMER, after);
        self.election_deadline_us = Some(ctx.local_now_us().saturating_add(after));
    }

    /// Becomes a follower, of `term` if it is newer (forgetting the vote of the old term).
    fn become_follower(&mut self, term: u64, leader: Option<NodeId>, ctx: &mut Ctx<Message>) {
        if term > self.current_term {
            self.current_term = term;
            self.voted_for = None;
            self.leader_contact_us = None;
        }
        let was_leader = self.state == State::Leader;
        self.state = State::Follower;
        self.leader = leader;
        if was_leader {
            // The clients this leader owed a reply are told to go to the leader we know of,
            // rather than left to time out. Their entries may still commit under the next
            // leader, so the answer promises nothing about the request; it is safe because a
            // client retries with the same (client, seq), which the next leader waits on if
            // the entry is in its log and the sessions answer without applying it twice if it
            // was applied (section 8).
            for (_, req) in std::mem::take(&mut self.pending) {
                ctx.reply(req, ClientReply::NotLeader { leader });
            }
            self.next_index.clear();
            self.match_index.clear();
            ctx.cancel_timer(HEARTBEAT_TIMER);
            // A leader's election slot held its quorum check, or nothing.
            self.reset_election_timer(ctx);
        }
        self.note_role(ctx);
    }

    /// An election timeout: campaign, through a pre-vote round if PreVote is on.
    fn election_timeout(&mut self, ctx: &mut Ctx<Message>) {
        if self.current_term == u64::MAX {
            // There is no next term to campaign in. Only a message of a forged term gets a
            // node here; it stays a follower rather than wrap around or reuse its term.
            self.reset_election_timer(ctx);
            return;
        }
        if self.params.prevote {
            self.start_pre_vote(ctx);
        } else {
            self.start_election(ctx);
        }
    }

    fn reset_votes(&mut self) {
        self.votes.fill(false);
        self.votes[slot(self.id)] = true;
    }

    fn has_quorum(&self, who: &[bool]) -> bool {
        who.iter().filter(|&&v| v).count() >= self.quorum()
    }

    /// Thesis 9.6: ask whether a majority would vote for us in the next term, without
    /// raising our own term, so that a node cut off from the cluster cannot inflate terms.
    fn start_pre_vote(&mut self, ctx: &mut Ctx<Message>) {
        self.state = State::PreCandidate;
        self.leader = None;
        self.reset_votes();
        self.reset_election_timer(ctx);
        self.note_role(ctx);
        self.request_votes(ctx, self.current_term.saturating_add(1), true);
        if self.has_quorum(&self.votes) {
            self.start_election(ctx);
        }
    }

    /// Section 5.2: raise the term, vote for ourselves, ask everyone else.
    fn start_election(&mut self, ctx: &mut Ctx<Message>) {
        // `election_timeout` does not campaign at the last term; saturating all the same, so
        // that no input can make this panic.
        self.current_term = self.current_term.saturating_add(1);
        self.voted_for = Some(self.id);
        self.state = State::Candidate;
        self.leader = None;
        self.leader_contact_us = None;
        self.reset_votes();
        self.reset_election_timer(ctx);
        self.note_role(ctx);
        self.request_votes(ctx, self.current_term, false);
        if self.has_quorum(&self.votes) {
            self.become_leader(ctx);
        }
    }

    /// Asks every peer for its vote (or pre-vote) at `term`, with our log's last index and
    /// term for the up-to-date check (section 5.4.1).
    fn request_votes(&self, ctx: &mut Ctx<Message>, term: u64, pre_vote: bool) {
        let msg = Message::RequestVote {
            term,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
            pre_vote,
        };
        for p in self.peers() {
            ctx.send(p, msg.clone());
        }
    }

    fn become_leader(&mut self, ctx: &mut Ctx<Message>) {
        self.state = State::Leader;
        self.leader = Some(self.id);
        self.election_deadline_us = None;
        let n = usize::from(self.n);
        // Figure 2: nextIndex starts just past the leader's log, matchIndex at 0.
        self.next_index = vec![self.log.last_index() + 1; n];
        self.match_index = vec![0; n];
        self.recent_active.fill(false);
        self.pending.clear();
        self.note_role(ctx);
        if self.params.variant != Variant::CommitOldTerms {
            // Section 8: a no-op of the new term lets the entries of earlier terms commit now.
            self.append(Entry::noop(self.current_term), ctx);
        }
        if self.params.checkquorum {
            ctx.set_timer(ELECTION_TIMER, self.params.election_timeout_us_min);
        } else {
            ctx.cancel_timer(ELECTION_TIMER);
        }
        ctx.set_timer(HEARTBEAT_TIMER, self.params.heartbeat_us);
        self.broadcast_append(ctx);
        self.advance_commit(ctx);
    }

    fn broadcast_append(&mut self, ctx: &mut Ctx<Message>) {
        for p in self.peers() {
            self.send_append(p, ctx);
        }
    }

    /// Sends `peer` the entries from its `nextIndex` on (none if it is up to date: a heartbeat).
    fn send_append(&mut self, peer: NodeId, ctx: &mut Ctx<Message>) {
        let last = self.log.last_index();
        let next = self.next_index[slot(peer)].clamp(1, last + 1);
        let prev_log_index = next - 1;
        let msg = Message::AppendEntries {
            term: self.current_term,
            prev_log_index,
            prev_log_term: self.log.term_at(prev_log_index).unwrap_or(0),
            entries: self.log.slice(next, MAX_ENTRIES_PER_APPEND),
            leader_commit: self.commit_index,
        };
        ctx.send(peer, msg);
    }

    /// Figure 2, rules for leaders: commit the highest index stored on a majority, if its
    /// entry is of the current term (section 5.4.2). The broken `commit-old-terms` variant
    /// drops the term condition.
    fn advance_commit(&mut self, ctx: &mut Ctx<Message>) {
        let mut stored: Vec<u64> = (1..=self.n)
            .map(|p| {
                if p == self.id {
                    self.log.last_index()
                } else {
                    self.match_index[slot(p)]
                }
            })
            .collect();
        let majority_index = quorum_index(&mut stored, self.quorum());
        if majority_index <= self.commit_index {
            return;
        }
        let of_current_term = self.log.term_at(majority_index) == Some(self.current_term);
        if of_current_term || self.params.variant == Variant::CommitOldTerms {
            self.commit_to(majority_index, ctx);
        }
    }

    fn commit_to(&mut self, index: u64, ctx: &mut Ctx<Message>) {
        if index > self.commit_index {
            self.commit_index = index;
            ctx.note(Note::Commit { index });
            self.apply_committed(ctx);
        }
    }

    /// Figure 2, all servers: apply entries up to `commitIndex`, in order; a leader answers
    /// the clients whose requests it appended.
    fn apply_committed(&mut self, ctx: &mut Ctx<Message>) {
        while self.last_applied < self.commit_index {
            let index = self.last_applied + 1;
            // Only a broken variant can commit past the end of the log (after truncating
            // committed entries); stop there rather than apply what is not there.
            let Some(&entry) = self.log.get(index) else {
                break;
            };
            self.last_applied = index;
            let reply = match &entry.command {
                Command::Noop => None,
                Command::Client(req) => {
                    self.unapplied.remove(&(req.client, req.seq, index));
                    self.kv.apply(req)
                }
            };
            ctx.note(Note::Apply {
                index,
                term: entry.term,
            });
            if let Some(waiting) = self.pending.remove(&index)
                && let (Some(reply), Command::Client(req)) = (reply, entry.command)
                && (req.client, req.seq) == (waiting.client, waiting.seq)
            {
                ctx.reply(waiting, reply);
            }
        }
    }

    /// Whether this node has heard from a live leader within the minimum election timeout; a
    /// node that has rejects pre-votes (thesis 9.6), so a node that merely lost touch with a
    /// healthy leader cannot unseat it.
    fn in_leader_lease(&self, now_us: u64) -> bool {
        match self.state {
            State::Leader => true,
            _ => match (self.leader, self.leader_contact_us) {
                (Some(_), Some(at)) => now_us.saturating_sub(at) < self.params.election_timeout_us_min,
                _ => false,
            },
        }
    }

    fn log_allows_vote(&self, last_log_index: u64, last_log_term: u64) -> bool {
        self.params.variant == Variant::VoteWithoutLogCheck
            || self.log.candidate_is_up_to_date(last_log_index, last_log_term)
    }

    // ----- Message handlers. -----

    fn on_request_vote(
        &mut self,
        from: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
        ctx: &mut Ctx<Message>,
    ) {
        // A higher term has already been adopted by `on_message`, so `term` is now either
        // current or stale.
        let byzantine = self.params.variant == Variant::ByzantineVoter && self.id == 1;
        let granted = term == self.current_term
            && (byzantine || self.voted_for.is_none_or(|v| v == from))
            && self.log_allows_vote(last_log_index, last_log_term);
        if granted {
            self.voted_for = Some(from);
            // Figure 2: granting a vote resets the election timer.
            self.reset_election_timer(ctx);
        }
        ctx.send(
            from,
            Message::Vote {
                term: self.current_term,
                granted,
                pre_vote: false,
            },
        );
    }

    fn on_request_pre_vote(
        &mut self,
        from: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
        ctx: &mut Ctx<Message>,
    ) {
        // Thesis 9.6: would we vote for this node in `term`? Nothing is recorded.
        let granted = term > self.current_term
            && !self.in_leader_lease(ctx.local_now_us())
            && self.log_allows_vote(last_log_index, last_log_term);
        let term = if granted { term } else { self.current_term };
        ctx.send(
            from,
            Message::Vote {
                term,
                granted,
                pre_vote: true,
            },
        );
    }

    fn on_vote(&mut self, from: NodeId, term: u64, granted: bool, pre_vote: bool, ctx: &mut Ctx<Message>) {
        if !granted {
            return;
        }
        if pre_vote {
            if self.state == State::PreCandidate && Some(term) == self.current_term.checked_add(1) {
                self.votes[slot(from)] = true;
                if self.has_quorum(&self.votes) {
                    self.start_election(ctx);
                }
            }
        } else if self.state == State::Candidate && term == self.current_term {
            self.votes[slot(from)] = true;
            if self.has_quorum(&self.votes) {
                self.become_leader(ctx);
            }
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the fields of AppendEntries, as Figure 2 lists them"
    )]
    fn on_append_entries(
        &mut self,
        from: NodeId,
        term: u64,
        prev_log_index: u64,
        prev_log_term: u64,
        entries: Vec<Entry>,
        leader_commit: u64,
        ctx: &mut Ctx<Message>,
    ) {
        if term < self.current_term {
            // Figure 2, receiver rule 1: tell the stale leader our term, so it steps down. No
            // conflict hint: we have not looked at our log.
            let reply = Message::AppendEntriesReply {
                term: self.current_term,
                success: false,
                prev_log_index,
                match_index: 0,
                conflict_index: 0,
            };
            ctx.send(from, reply);
            return;
        }
        if self.state == State::Leader {
            // Another leader of our own term: impossible unless Election Safety is broken (a
            // broken variant). Ignore it; the monitor reports the two leaders.
            return;
        }
        // Section 5.2: a candidate that hears from the leader of its term becomes a follower.
        if self.state != State::Follower || self.leader != Some(from) {
            self.become_follower(term, Some(from), ctx);
        }
        self.leader_contact_us = Some(ctx.local_now_us());
        self.reset_election_timer(ctx);

        // Receiver rule 2: the consistency check.
        let reply = match self.log.term_at(prev_log_index) {
            None => Message::AppendEntriesReply {
                term: self.current_term,
                success: false,
                prev_log_index,
                match_index: 0,
                conflict_index: self.log.last_index() + 1,
            },
            Some(t) if t != prev_log_term => Message::AppendEntriesReply {
                term: self.current_term,
                success: false,
                prev_log_index,
                match_index: 0,
                conflict_index: self.log.first_index_of_term_at(prev_log_index),
            },
            Some(_) => {
                let last_new = prev_log_index + entries.len() as u64;
                // Receiver rules 3 and 4: delete only on a real conflict, append what is
                // missing. An entry that is already there is left alone, so a stale or
                // duplicated AppendEntries never undoes later progress.
                for (k, entry) in entries.into_iter().enumerate() {
                    let index = prev_log_index + 1 + k as u64;
                    match self.log.term_at(index) {
                        Some(t) if t == entry.term => continue,
                        Some(_) => self.truncate_from(index, ctx),
                        None => {}
                    }
                    self.append(entry, ctx);
                }
                // Receiver rule 5: commit up to what the leader has committed, but only as far
                // as this message proved our log matches the leader's.
                self.commit_to(leader_commit.min(last_new), ctx);
                Message::AppendEntriesReply {
                    term: self.current_term,
                    success: true,
                    prev_log_index,
                    match_index: last_new,
                    conflict_index: 0,
                }
            }
        };
        ctx.send(from, reply);
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the fields of AppendEntriesReply, with the sender and the context"
    )]
    fn on_append_entries_reply(
        &mut self,
        from: NodeId,
        term: u64,
        success: bool,
        prev_log_index: u64,
        match_index: u64,
        conflict_index: u64,
        ctx: &mut Ctx<Message>,
    ) {
        // Replies of an old term (or to an old leadership) are stale: ignore them.
        if self.state != State::Leader || term != self.current_term {
            return;
        }
        let p = slot(from);
        self.recent_active[p] = true;
        if success {
            // Replies may arrive reordered or twice: matchIndex never goes back.
            let matched = match_index.min(self.log.last_index());
            if matched > self.match_index[p] {
                self.match_index[p] = matched;
                self.next_index[p] = self.next_index[p].max(matched + 1);
                self.advance_commit(ctx);
                if self.next_index[p] <= self.log.last_index() {
                    self.send_append(from, ctx);
                }
            }
        } else {
            // Only the answer to the probe we would send now (at nextIndex) moves nextIndex,
            // as in etcd: a refusal of an earlier probe, delayed or duplicated, says nothing
            // about where to go from here. Neither does a refusal without a hint, which
            // refused a stale term (this leader's, from before it was elected again in the
            // term of the refusal) without looking at the log.
            if conflict_index == 0 || prev_log_index != self.next_index[p].saturating_sub(1) {
                return;
            }
            // Back off towards the follower's hint, never below what it is known to hold.
            let next = conflict_index
                .min(self.next_index[p])
                .max(self.match_index[p] + 1)
                .max(1);
            if next < self.next_index[p] {
                self.next_index[p] = next;
                self.send_append(from, ctx);
            }
        }
    }

    fn on_quorum_check(&mut self, ctx: &mut Ctx<Message>) {
        let mut heard = self.recent_active.clone();
        heard[slot(self.id)] = true;
        if self.has_quorum(&heard) {
            self.recent_active.fill(false);
            ctx.set_timer(ELECTION_TIMER, self.params.election_timeout_us_min);
        } else {
            // Thesis 6.2: a leader that cannot reach a majority steps down.
            self.become_follower(self.current_term, None, ctx);
        }
    }
}

impl Protocol for Raft {
    type Msg = Message;
    type Stable = Stable;
    type Params = RaftParams;
    type Monitor = RaftMonitor;
    type Workload = crate::workload::Registers;

    const NAME: &'static str = "raft";
    const SCENARIOS: &'static [Scenario] = &[Scenario {
        value: "raft",
        label: "Raft",
        settings: &[],
    }];
    const MESSAGE_KINDS: &'static [(&'static str, &'static str)] = &[
        (
            "RequestVote",
            "A candidate asks for a vote in its new term (Figure 2, RequestVote RPC).",
        ),
        (
            "Vote",
            "The answer to RequestVote: granted only if the candidate's log is at least as up to date.",
        ),
        (
            "RequestPreVote",
            "A would-be candidate asks if it could win, without raising any term (PreVote).",
        ),
        ("PreVote", "The answer to RequestPreVote."),
        (
            "AppendEntries",
            "The leader replicates entries and its commit index; with no entries it is a heartbeat.",
        ),
        (
            "AppendEntriesReply",
            "The follower's answer: ok with how far its log matches, or a conflict and where to retry.",
        ),
    ];
    const TIMERS: &'static [TimerInfo] = &[TimerInfo::new("election", false), TimerInfo::new("heartbeat", true)];

    fn start(id: NodeId, params: &RaftParams, ctx: &mut Ctx<Message>) -> Self {
        let mut raft = Raft::new(id, ctx.cluster_size(), params, Stable::default());
        ctx.note(Note::Role {
            role: Role::FOLLOWER,
            term: 0,
        });
        raft.reset_election_timer(ctx);
        raft
    }

    fn restart(id: NodeId, params: &RaftParams, stable: Stable, ctx: &mut Ctx<Message>) -> Self {
        let stable = if params.variant == Variant::ForgetTermOnRestart {
            // The bug: the term and the vote were kept in memory only.
            Stable {
                current_term: 0,
                voted_for: None,
                log: stable.log,
            }
        } else {
            stable
        };
        let mut raft = Raft::new(id, ctx.cluster_size(), params, stable);
        ctx.note(Note::Role {
            role: Role::FOLLOWER,
            term: raft.current_term,
        });
        raft.reset_election_timer(ctx);
        raft
    }

    fn stable(&self) -> Stable {
        Stable {
            current_term: self.current_term,
            voted_for: self.voted_for,
            log: self.log.clone(),
        }
    }

    fn on_message(&mut self, from: NodeId, msg: Message, ctx: &mut Ctx<Message>) {
        if from == 0 || from > self.n || from == self.id {
            return;
        }
        // Figure 2, all servers: a higher term makes us a follower of that term. A pre-vote
        // request and a granted pre-vote carry a term nobody has entered yet (thesis 9.6).
        let hypothetical = matches!(
            msg,
            Message::RequestVote { pre_vote: true, .. }
                | Message::Vote {
                    pre_vote: true,
                    granted: true,
                    ..
                }
        );
        if msg.term() > self.current_term && !hypothetical {
            let leader = matches!(msg, Message::AppendEntries { .. }).then_some(from);
            self.become_follower(msg.term(), leader, ctx);
        }
        match msg {
            Message::RequestVote {
                term,
                last_log_index,
                last_log_term,
                pre_vote: false,
            } => {
                self.on_request_vote(from, term, last_log_index, last_log_term, ctx);
            }
            Message::RequestVote {
                term,
                last_log_index,
                last_log_term,
                pre_vote: true,
            } => {
                self.on_request_pre_vote(from, term, last_log_index, last_log_term, ctx);
            }
            Message::Vote {
                term,
                granted,
                pre_vote,
            } => self.on_vote(from, term, granted, pre_vote, ctx),
            Message::AppendEntries {
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
            } => {
                self.on_append_entries(from, term, prev_log_index, prev_log_term, entries, leader_commit, ctx);
            }
            Message::AppendEntriesReply {
                term,
                success,
                prev_log_index,
                match_index,
                conflict_index,
            } => {
                self.on_append_entries_reply(from, term, success, prev_log_index, match_index, conflict_index, ctx);
            }
        }
    }

    fn on_timer(&mut self, kind: TimerKind, ctx: &mut Ctx<Message>) {
        match (kind, self.state) {
            (ELECTION_TIMER, State::Leader) if self.params.checkquorum => self.on_quorum_check(ctx),
            // A leader without CheckQuorum runs no election timer.
            (ELECTION_TIMER, State::Leader) => {}
            (ELECTION_TIMER, _) => self.election_timeout(ctx),
            (HEARTBEAT_TIMER, State::Leader) => {
                self.broadcast_append(ctx);
                ctx.set_timer(HEARTBEAT_TIMER, self.params.heartbeat_us);
            }
            _ => {}
        }
    }

    fn on_client(&mut self, req: ClientRequest, ctx: &mut Ctx<Message>) {
        if self.state != State::Leader {
            ctx.reply(req, ClientReply::NotLeader { leader: self.leader });
            return;
        }
        match self.kv.seen(&req) {
            // Section 8: already applied; answer from the session without applying again.
            Seen::Applied(reply) => {
                ctx.reply(req, reply);
                return;
            }
            // The client has moved on to a later operation; nobody waits for this one.
            Seen::Stale => return,
            Seen::New => {}
        }
        // Already in our log but not applied yet (a retry, or an entry of an earlier term):
        // wait for that entry (its last copy) instead of appending another.
        let copies = (req.client, req.seq, self.last_applied + 1)..=(req.client, req.seq, u64::MAX);
        if let Some(&(_, _, index)) = self.unapplied.range(copies).next_back() {
            self.pending.insert(index, req);
            return;
        }
        let entry = Entry {
            term: self.current_term,
            command: Command::Client(req),
        };
        let index = self.append(entry, ctx);
        self.pending.insert(index, req);
        self.broadcast_append(ctx);
        self.advance_commit(ctx);
    }

    fn force_timeout(&mut self, ctx: &mut Ctx<Message>) {
        // A leader has no election timeout to force.
        if self.state != State::Leader {
            self.election_timeout(ctx);
        }
    }

    fn role(&self) -> Role {
        match self.state {
            State::Follower => Role::FOLLOWER,
            State::PreCandidate | State::Candidate => Role::CANDIDATE,
            State::Leader => Role::LEADER,
        }
    }

    fn term(&self) -> u64 {
        self.current_term
    }

    fn msg_kind(msg: &Message) -> &'static str {
        match msg {
            Message::RequestVote { pre_vote: false, .. } => "RequestVote",
            Message::RequestVote { pre_vote: true, .. } => "RequestPreVote",
            Message::Vote { pre_vote: false, .. } => "Vote",
            Message::Vote { pre_vote: true, .. } => "PreVote",
            Message::AppendEntries { .. } => "AppendEntries",
            Message::AppendEntriesReply { .. } => "AppendEntriesReply",
        }
    }

    fn committed(&self) -> u64 {
        self.commit_index
    }

    fn state_machine(&self) -> Option<&KvStore> {
        Some(&self.kv)
    }

    fn msg_style(msg: &Message) -> MsgStyle {
        let vote = |pre_vote: bool| {
            if pre_vote {
                MsgFamily::PreElection
            } else {
                MsgFamily::Election
            }
        };
        match msg {
            Message::RequestVote { pre_vote, .. } => MsgStyle::new(vote(*pre_vote), MsgShape::Diamond),
            Message::Vote { granted, pre_vote, .. } => {
                MsgStyle::new(vote(*pre_vote), MsgShape::Circle).negative(!granted)
            }
            Message::AppendEntries { entries, .. } => {
                MsgStyle::new(MsgFamily::Replication, MsgShape::Square).heartbeat(entries.is_empty())
            }
            Message::AppendEntriesReply { success, .. } => MsgStyle::new(MsgFamily::Replication, MsgShape::Triangle)
                .negative(!success)
                .routine(*success),
        }
    }

    /// The arguments under their Figure 2 names.
    fn msg_fields(msg: &Message) -> Vec<(&'static str, String)> {
        match msg {
            Message::RequestVote {
                term,
                last_log_index,
                last_log_term,
                ..
            } => vec![
                ("term", term.to_string()),
                ("lastLogIndex", last_log_index.to_string()),
                ("lastLogTerm", last_log_term.to_string()),
            ],
            Message::Vote { term, granted, .. } => {
                vec![("term", term.to_string()), ("voteGranted", granted.to_string())]
            }
            Message::AppendEntries {
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
            } => {
                let listed = if entries.is_empty() {
                    "none (heartbeat)".to_string()
                } else {
                    Entries {
                        prev_log_index: *prev_log_index,
                        entries,
                    }
                    .to_string()
                };
                vec![
                    ("term", term.to_string()),
                    ("prevLogIndex", prev_log_index.to_string()),
                    ("prevLogTerm", prev_log_term.to_string()),
                    ("entries[]", listed),
                    ("leaderCommit", leader_commit.to_string()),
                ]
            }
            Message::AppendEntriesReply {
                term,
                success,
                prev_log_index,
                match_index,
                conflict_index,
            } => {
                let mut fields = vec![("term", term.to_string())];
                match (*success, *conflict_index) {
                    (true, _) => fields.extend([("success", "true".into()), ("matchIndex", match_index.to_string())]),
                    (false, 0) => fields.extend([
                        ("success", "false (sender's term is old)".into()),
                        ("answers prevLogIndex", prev_log_index.to_string()),
                    ]),
                    (false, next) => fields.extend([
                        ("success", "false (log mismatch)".into()),
                        ("answers prevLogIndex", prev_log_index.to_string()),
                        ("conflict: retry at", next.to_string()),
                    ]),
                }
                fields
            }
        }
    }

    fn describe(&self) -> String {
        use std::fmt::Write as _;
        let mut s = format!("log={} commit={}", self.log, self.commit_index);
        if self.last_applied != self.commit_index {
            let _ = write!(s, " applied={}", self.last_applied);
        }
        if let Some(v) = self.voted_for {
            let _ = write!(s, " vote=n{v}");
        }
        if let Some(l) = self.leader {
            let _ = write!(s, " leader=n{l}");
        }
        s.push_str(" kv={");
        for (i, (k, v)) in self.kv.data().iter().enumerate() {
            let _ = write!(s, "{}k{k}={v}", if i > 0 { " " } else { "" });
        }
        s.push('}');
        s
    }
}
