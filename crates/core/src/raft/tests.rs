//! Unit tests of Raft's rules, each citing the section of the paper (or of Ongaro's thesis)
//! it checks.
//!
//! A test drives nodes directly through a tiny hand-written network, [`Net`]: messages wait in
//! a FIFO queue until the test delivers them (all, or some, or in another order, or never),
//! timers fire only when the test fires them, and time moves only when the test moves it. The
//! monitor watches every step, so each test of the correct protocol also asserts that it saw
//! no violation, and each test of a broken variant asserts what it saw.

use super::monitor::{ELECTION_SAFETY, LEADER_COMPLETENESS, LOG_MATCHING, STATE_MACHINE_SAFETY};
use super::*;
use crate::protocol::{Effects, Monitor, Op, Params as _, Violation};
use crate::rng::SimRng;
use std::collections::{BTreeSet, VecDeque};

type Sent = (NodeId, NodeId, Message);

struct Net {
    params: RaftParams,
    n: u8,
    nodes: Vec<Option<Raft>>,
    /// What each crashed node had on stable storage.
    disk: Vec<Option<Stable>>,
    rngs: Vec<SimRng>,
    now_us: u64,
    queue: VecDeque<Sent>,
    /// Every client reply, with the node that sent it.
    replies: Vec<(NodeId, ClientRequest, ClientReply)>,
    /// Nodes cut off from everyone: what they send and what is sent to them is lost.
    isolated: BTreeSet<NodeId>,
    notes: Vec<(NodeId, Note)>,
    monitor: RaftMonitor,
    violations: Vec<Violation>,
    /// The votes [`Net::deliver_votes_only`] saw: (voter, candidate, granted).
    vote_log: Vec<(NodeId, NodeId, bool)>,
}

impl Net {
    fn empty(n: u8, params: RaftParams) -> Net {
        Net {
            params,
            n,
            nodes: vec![None; usize::from(n)],
            disk: vec![None; usize::from(n)],
            rngs: (1..=n).map(|id| SimRng::for_node(7, id)).collect(),
            now_us: 0,
            queue: VecDeque::new(),
            replies: Vec::new(),
            isolated: BTreeSet::new(),
            notes: Vec::new(),
            monitor: RaftMonitor::default(),
            violations: Vec::new(),
            vote_log: Vec::new(),
        }
    }

    /// A fresh cluster of `n` nodes, started in id order.
    fn new(n: u8, params: RaftParams) -> Net {
        let mut net = Net::empty(n, params);
        for id in 1..=n {
            net.boot(id, None);
        }
        net
    }

    /// A cluster whose nodes hold the given terms and logs (drawn as the figures draw them: the
    /// term of each entry), as if they had lived through earlier terms.
    fn with_logs(params: RaftParams, nodes: &[(u64, &[u64])]) -> Net {
        let n = nodes.len() as u8;
        let mut net = Net::empty(n, params);
        for (i, &(term, log)) in nodes.iter().enumerate() {
            let stable = Stable {
                current_term: term,
                voted_for: None,
                log: Log::from_terms(log),
            };
            net.nodes[i] = Some(Raft::new(i as u8 + 1, n, &net.params, stable));
        }
        net
    }

    fn boot(&mut self, id: NodeId, stable: Option<Stable>) {
        let i = slot(id);
        let mut out = Effects::default();
        let mut ctx = Ctx::new(id, self.n, self.now_us, &mut self.rngs[i], &mut out);
        let raft = match stable {
            None => Raft::start(id, &self.params, &mut ctx),
            Some(s) => Raft::restart(id, &self.params, s, &mut ctx),
        };
        self.nodes[i] = Some(raft);
        self.absorb(id, out);
    }

    fn step(&mut self, id: NodeId, f: impl FnOnce(&mut Raft, &mut Ctx<Message>)) {
        let i = slot(id);
        let mut out = Effects::default();
        let Some(raft) = self.nodes[i].as_mut() else {
            return;
        };
        let mut ctx = Ctx::new(id, self.n, self.now_us, &mut self.rngs[i], &mut out);
        f(raft, &mut ctx);
        self.absorb(id, out);
    }

    fn absorb(&mut self, id: NodeId, out: Effects<Message>) {
        for (to, msg) in out.sends {
            if !self.isolated.contains(&id) && !self.isolated.contains(&to) {
                self.queue.push_back((id, to, msg));
            }
        }
        for (req, reply) in out.replies {
            self.replies.push((id, req, reply));
        }
        self.monitor.observe(id, &out.notes, &self.nodes, &mut self.violations);
        self.notes.extend(out.notes.into_iter().map(|note| (id, note)));
        if let Some(raft) = &self.nodes[slot(id)] {
            assert_eq!(
                raft.unapplied,
                unapplied_by_scan(raft),
                "n{id}'s index of unapplied client entries"
            );
        }
    }

    /// Delivers one message now, unless its receiver is down or cut off.
    fn send(&mut self, (from, to, msg): Sent) {
        if self.isolated.contains(&from) || self.isolated.contains(&to) {
            return;
        }
        self.step(to, |r, c| r.on_message(from, msg, c));
    }

    /// Delivers messages, including those the deliveries cause, until none is left.
    fn deliver(&mut self) {
        for _ in 0..100_000 {
            let Some(m) = self.queue.pop_front() else {
                return;
            };
            self.send(m);
        }
        panic!("messages never stopped");
    }

    /// Takes the queued messages out of the network (to drop, reorder or replay them).
    fn take(&mut self) -> Vec<Sent> {
        self.queue.drain(..).collect()
    }

    fn timeout(&mut self, id: NodeId) {
        self.step(id, |r, c| r.on_timer(ELECTION_TIMER, c));
    }

    fn heartbeat(&mut self, id: NodeId) {
        self.step(id, |r, c| r.on_timer(HEARTBEAT_TIMER, c));
    }

    fn request(&mut self, id: NodeId, client: u32, seq: u64, op: Op) {
        self.step(id, |r, c| r.on_client(ClientRequest { client, seq, op }, c));
    }

    fn crash(&mut self, id: NodeId) {
        let i = slot(id);
        self.disk[i] = self.nodes[i].take().map(|r| r.stable());
    }

    fn restart(&mut self, id: NodeId) {
        let stable = self.disk[slot(id)].take().expect("restart of a node that is up");
        self.boot(id, Some(stable));
    }

    /// Elects `id` by firing its election timer and delivering everything, then lets its
    /// first round of AppendEntries commit and spread.
    fn elect(&mut self, id: NodeId) {
        self.timeout(id);
        self.deliver();
        assert_eq!(self.node(id).role(), Role::LEADER, "n{id} was not elected");
        self.heartbeat(id);
        self.deliver();
    }

    fn node(&self, id: NodeId) -> &Raft {
        self.nodes[slot(id)].as_ref().expect("node is down")
    }

    fn terms(&self, id: NodeId) -> Vec<u64> {
        self.node(id).log().entries().map(|(_, e)| e.term).collect()
    }

    fn leaders(&self) -> Vec<NodeId> {
        (1..=self.n)
            .filter(|&id| self.nodes[slot(id)].as_ref().is_some_and(|r| r.role() == Role::LEADER))
            .collect()
    }

    fn notes_of(&self, id: NodeId) -> Vec<Note> {
        self.notes
            .iter()
            .filter(|(n, _)| *n == id)
            .map(|&(_, note)| note)
            .collect()
    }

    fn properties_violated(&self) -> BTreeSet<&'static str> {
        self.violations.iter().map(|v| v.property).collect()
    }

    fn assert_safe(&self) {
        assert!(self.violations.is_empty(), "violations: {:#?}", self.violations);
    }
}

/// The client entries past `last_applied`, by a scan of the log: what [`Raft::on_client`]
/// looked through before it kept an index, and what the index must hold after every step.
fn unapplied_by_scan(raft: &Raft) -> BTreeSet<(crate::ClientId, u64, u64)> {
    raft.log()
        .entries()
        .filter(|&(index, _)| index > raft.last_applied())
        .filter_map(|(index, e)| match e.command {
            Command::Client(req) => Some((req.client, req.seq, index)),
            Command::Noop => None,
        })
        .collect()
}

fn params(variant: Variant) -> RaftParams {
    RaftParams {
        variant,
        ..RaftParams::default()
    }
}

fn write(key: u32, value: u64) -> Op {
    Op::Write { key, value }
}

fn votes_in(sent: &[Sent]) -> Vec<(NodeId, NodeId, bool)> {
    sent.iter()
        .filter_map(|(from, to, m)| match m {
            Message::Vote { granted, .. } => Some((*from, *to, *granted)),
            _ => None,
        })
        .collect()
}

// ----- Leader election (section 5.2). -----

#[test]
fn a_timed_out_follower_is_elected_and_commits_a_noop_of_its_term() {
    // Sections 5.2 and 8.
    let mut net = Net::new(3, RaftParams::default());
    net.timeout(1);
    assert_eq!(net.node(1).role(), Role::CANDIDATE);
    assert_eq!(net.node(1).current_term(), 1);
    assert_eq!(net.node(1).voted_for(), Some(1));
    net.deliver();
    assert_eq!(net.leaders(), vec![1]);
    assert_eq!(net.node(1).log().to_string(), "[1@1]");
    assert_eq!(
        net.node(1).commit_index(),
        1,
        "the no-op commits once a majority holds it"
    );
    net.heartbeat(1);
    net.deliver();
    for id in 1..=3 {
        assert_eq!(net.node(id).current_term(), 1);
        assert_eq!(net.node(id).commit_index(), 1);
        assert_eq!(net.node(id).leader(), Some(1));
    }
    assert!(net.notes_of(1).contains(&Note::Role {
        role: Role::LEADER,
        term: 1
    }));
    assert!(net.notes_of(2).contains(&Note::Apply { index: 1, term: 1 }));
    assert_eq!(
        net.node(1).election_deadline_us(),
        None,
        "a leader runs no election timer"
    );
    assert!(net.node(2).election_deadline_us().is_some());
    net.assert_safe();
}

#[test]
fn a_split_vote_elects_nobody_and_the_next_term_resolves_it() {
    // Section 5.2: with four nodes, two candidates can split the votes two and two.
    let mut net = Net::new(4, RaftParams::default());
    net.timeout(1);
    net.timeout(2);
    let sent = net.take();
    // n3 hears n1 first, n4 hears n2 first.
    let first = |to: NodeId, from: NodeId| sent.iter().find(|m| m.0 == from && m.1 == to).cloned().unwrap();
    for m in [
        first(3, 1),
        first(4, 2),
        first(3, 2),
        first(4, 1),
        first(2, 1),
        first(1, 2),
    ] {
        net.send(m);
    }
    net.deliver();
    assert!(net.leaders().is_empty());
    assert_eq!(net.node(1).votes(), vec![1, 3]);
    assert_eq!(net.node(2).votes(), vec![2, 4]);
    net.timeout(1);
    net.deliver();
    assert_eq!(net.leaders(), vec![1]);
    assert_eq!(net.node(1).current_term(), 2);
    net.assert_safe();
}

#[test]
fn a_node_grants_one_vote_per_term_first_come_first_served() {
    // Section 5.2: "each server will vote for at most one candidate in a given term".
    let mut net = Net::new(3, RaftParams::default());
    net.timeout(1);
    net.timeout(2);
    let sent = net.take();
    let to3: Vec<Sent> = sent.iter().filter(|m| m.1 == 3).cloned().collect();
    assert_eq!(to3.iter().map(|m| m.0).collect::<Vec<_>>(), vec![1, 2]);
    for m in to3.iter().cloned() {
        net.send(m);
    }
    // The same request again (a duplicate) is granted again: the vote is already n1's.
    net.send(to3[0].clone());
    let votes = votes_in(&net.take());
    assert_eq!(votes, vec![(3, 1, true), (3, 2, false), (3, 1, true)]);
    assert_eq!(net.node(3).voted_for(), Some(1));
    net.assert_safe();
}

#[test]
fn a_vote_is_denied_to_a_candidate_whose_log_is_behind() {
    // Section 5.4.1: the later last term wins; with equal last terms the longer log wins.
    let mut net = Net::with_logs(
        RaftParams::default(),
        &[(2, &[1, 1]), (2, &[1, 1, 1]), (2, &[1, 2]), (2, &[1])],
    );
    net.timeout(1);
    net.deliver_votes_only();
    let votes: Vec<(NodeId, bool)> = net.vote_log.iter().map(|&(from, _, g)| (from, g)).collect();
    // n2 has a longer log of the same last term, n3 a later last term: both refuse.
    assert_eq!(votes, vec![(2, false), (3, false), (4, true)]);
    assert_eq!(net.node(1).role(), Role::CANDIDATE);
    // All of them moved to the candidate's term all the same (section 5.1).
    assert!((1..=4).all(|id| net.node(id).current_term() == 3));
    net.assert_safe();
}

impl Net {
    /// Delivers RequestVotes and records the Votes they cause without delivering them.
    fn deliver_votes_only(&mut self) {
        let sent = self.take();
        for m in sent {
            self.send(m);
        }
        let replies = self.take();
        self.vote_log = votes_in(&replies);
    }
}

#[test]
fn the_broken_vote_without_log_check_elects_a_candidate_that_is_behind() {
    // Variant vote-without-log-check: the same situation, the votes come.
    let mut net = Net::with_logs(
        params(Variant::VoteWithoutLogCheck),
        &[(2, &[1, 1]), (2, &[1, 1, 1]), (2, &[1, 2]), (2, &[1])],
    );
    net.timeout(1);
    net.deliver_votes_only();
    let granted: Vec<bool> = net.vote_log.iter().map(|v| v.2).collect();
    assert_eq!(granted, vec![true, true, true]);
}

#[test]
fn a_candidate_yields_to_a_leader_of_its_term_and_refuses_an_older_one() {
    // Section 5.2: "If the leader's term is at least as large as the candidate's current term,
    // then the candidate recognizes the leader as legitimate and returns to follower state."
    let mut net = Net::new(3, RaftParams::default());
    net.timeout(1);
    net.timeout(1);
    net.take();
    assert_eq!((net.node(1).role(), net.node(1).current_term()), (Role::CANDIDATE, 2));
    let stale = Message::AppendEntries {
        term: 1,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: vec![],
        leader_commit: 0,
    };
    net.send((2, 1, stale));
    assert_eq!(net.node(1).role(), Role::CANDIDATE);
    let reply = net.take();
    assert!(matches!(
        reply[0].2,
        Message::AppendEntriesReply {
            term: 2,
            success: false,
            ..
        }
    ));
    let current = Message::AppendEntries {
        term: 2,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: vec![],
        leader_commit: 0,
    };
    net.send((2, 1, current));
    assert_eq!((net.node(1).role(), net.node(1).leader()), (Role::FOLLOWER, Some(2)));
    assert!(matches!(
        net.take()[0].2,
        Message::AppendEntriesReply {
            term: 2,
            success: true,
            ..
        }
    ));
}

fn request_vote(term: u64, last_log_index: u64, last_log_term: u64) -> Message {
    Message::RequestVote {
        term,
        last_log_index,
        last_log_term,
        pre_vote: false,
    }
}

fn heartbeat_of(term: u64) -> Message {
    Message::AppendEntries {
        term,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: vec![],
        leader_commit: 0,
    }
}

#[test]
fn a_candidate_counts_only_granted_votes_of_its_current_term() {
    // Section 5.2: a candidate wins with votes "from a majority of the servers in the full
    // cluster for the same term". A grant from its election of term 1, delivered late, and a
    // refusal of term 2 are no votes for term 2.
    let mut net = Net::new(3, RaftParams::default());
    net.timeout(1);
    net.timeout(1);
    net.take();
    assert_eq!((net.node(1).role(), net.node(1).current_term()), (Role::CANDIDATE, 2));
    let vote = |term, granted| Message::Vote {
        term,
        granted,
        pre_vote: false,
    };
    net.send((2, 1, vote(1, true)));
    net.send((3, 1, vote(2, false)));
    assert_eq!(net.node(1).role(), Role::CANDIDATE);
    assert_eq!(net.node(1).votes(), vec![1]);
    net.send((2, 1, vote(2, true)));
    assert_eq!(net.leaders(), vec![1]);
    net.assert_safe();
}

#[test]
fn a_vote_is_denied_to_a_candidate_of_a_stale_term() {
    // Figure 2, RequestVote receiver rule 1: "Reply false if term < currentTerm". n1's log is
    // as up-to-date as n2's and n2 has not voted in term 3; only n1's term is stale.
    let mut net = Net::with_logs(RaftParams::default(), &[(2, &[1]), (3, &[1]), (3, &[1])]);
    net.send((1, 2, request_vote(2, 1, 1)));
    let reply = net.take();
    assert_eq!(votes_in(&reply), vec![(2, 1, false)]);
    assert_eq!(
        reply[0].2.to_string(),
        "Vote term=3 denied",
        "the reply tells n1 the newer term"
    );
    assert_eq!(net.node(2).voted_for(), None);
    net.assert_safe();
}

/// Delivers `msg` to `to` after moving time on by more than the election timeout range is
/// wide, and says whether that moved `to`'s election deadline (a reset).
fn resets_election_timer(net: &mut Net, from: NodeId, to: NodeId, msg: Message) -> bool {
    net.now_us += 200_000;
    let before = net.node(to).election_deadline_us();
    net.send((from, to, msg));
    net.take();
    net.node(to).election_deadline_us() != before
}

#[test]
fn the_election_timer_is_reset_only_by_a_granted_vote_or_the_current_leader() {
    // Figure 2, rules for followers: become a candidate "if election timeout elapses without
    // receiving AppendEntries RPC from current leader or granting vote to candidate". n2
    // follows n1 in term 1.
    let mut net = Net::new(3, RaftParams::default());
    net.elect(1);
    let resets: Vec<bool> = [
        (3, heartbeat_of(0)),       // a stale AppendEntries: refused
        (3, request_vote(1, 1, 1)), // n2 has voted for n1 in term 1: denied
        (1, heartbeat_of(1)),       // the current leader
        (3, request_vote(2, 0, 0)), // a newer term, but a log behind n2's: denied
        (3, request_vote(2, 1, 1)), // granted
        (3, heartbeat_of(2)),       // the leader of term 2
    ]
    .into_iter()
    .map(|(from, msg)| resets_election_timer(&mut net, from, 2, msg))
    .collect();
    assert_eq!(resets, vec![false, false, true, false, true, true]);
    assert_eq!(net.node(2).leader(), Some(3));
    net.assert_safe();
}

#[test]
fn a_candidate_that_yields_to_the_leader_of_its_term_keeps_its_vote() {
    // Figure 2: votedFor is the candidate that received the vote "in current term". A
    // candidate that steps down to the leader of its own term has still voted, for itself,
    // in that term, and must refuse any other candidate of it.
    let mut net = Net::new(3, RaftParams::default());
    net.timeout(1);
    net.take();
    net.send((2, 1, heartbeat_of(1)));
    net.take();
    let n1 = net.node(1);
    assert_eq!(
        (n1.role(), n1.leader(), n1.voted_for()),
        (Role::FOLLOWER, Some(2), Some(1))
    );
    net.send((3, 1, request_vote(1, 0, 0)));
    assert_eq!(votes_in(&net.take()), vec![(1, 3, false)]);
    net.assert_safe();
}

#[test]
fn a_forged_term_or_index_at_the_top_of_u64_does_not_panic() {
    // Terms and indexes come in messages from other nodes, so the arithmetic on them must not
    // overflow. A node at the last term cannot campaign: there is no next term to run in.
    for prevote in [false, true] {
        let mut net = Net::new(3, with(|p| p.prevote = prevote));
        net.send((2, 1, request_vote(u64::MAX, 0, 0)));
        net.take();
        net.timeout(1);
        assert_eq!(
            (net.node(1).role(), net.node(1).current_term()),
            (Role::FOLLOWER, u64::MAX)
        );
        assert!(net.take().is_empty(), "no RequestVote for a term past the last");
        assert!(net.node(1).election_deadline_us().is_some(), "it keeps its timer");
    }
    let forged = Message::AppendEntries {
        term: 1,
        prev_log_index: u64::MAX - 1,
        prev_log_term: 1,
        entries: vec![Entry::noop(1); 3],
        leader_commit: 0,
    };
    let max = u64::MAX;
    assert_eq!(
        forged.to_string(),
        format!(
            "AppendEntries term=1 prev={}@1 entries=[{max}@1 {max}@1 {max}@1] commit=0",
            max - 1
        )
    );
    let mut net = Net::new(3, RaftParams::default());
    net.send((2, 1, forged));
    assert_eq!(
        net.take()[0].2.to_string(),
        format!("AppendEntriesReply term=1 conflict prev={} next=1", max - 1)
    );
    net.assert_safe();
}

#[test]
fn any_message_of_a_higher_term_makes_a_leader_step_down() {
    // Section 5.1: "If a server receives a request with a stale term number, it rejects the
    // request"; one that learns of a higher term reverts to follower.
    let mut net = Net::new(3, RaftParams::default());
    net.elect(1);
    let reply = Message::AppendEntriesReply {
        term: 7,
        success: false,
        prev_log_index: 1,
        match_index: 0,
        conflict_index: 0,
    };
    net.send((2, 1, reply));
    assert_eq!((net.node(1).role(), net.node(1).current_term()), (Role::FOLLOWER, 7));
    assert_eq!(net.node(1).voted_for(), None);
    assert_eq!(net.node(1).leader(), None);
    assert_eq!(
        net.notes_of(1).last(),
        Some(&Note::Role {
            role: Role::FOLLOWER,
            term: 7
        })
    );
    net.assert_safe();
}

// ----- Log replication (section 5.3). -----

#[test]
fn a_failed_consistency_check_makes_the_leader_back_off_to_the_hint() {
    // Section 5.3: the follower refuses entries whose predecessor it lacks; the leader moves
    // nextIndex back (here in one step, to the start of the conflicting term) and retries.
    let mut net = Net::with_logs(
        RaftParams::default(),
        &[(2, &[1, 1, 1, 2, 2]), (3, &[1, 1, 3, 3]), (2, &[1, 1, 1, 2, 2])],
    );
    net.timeout(1);
    net.deliver_votes_only(); // n2 refuses (its last term is later), n3 grants.
    net.send((
        3,
        1,
        Message::Vote {
            term: 3,
            granted: true,
            pre_vote: false,
        },
    ));
    assert_eq!(net.leaders(), vec![1]);
    let to2 = net.take().into_iter().find(|m| m.1 == 2).unwrap();
    assert_eq!(
        to2.2.to_string(),
        "AppendEntries term=3 prev=5@2 entries=[6@3] commit=0"
    );
    net.send(to2);
    let refusal = net.take();
    assert_eq!(
        refusal[0].2.to_string(),
        "AppendEntriesReply term=3 conflict prev=5 next=5"
    );
    net.send(refusal[0].clone());
    assert_eq!(net.node(1).next_index(2), Some(5));
    let retry = net.take();
    assert_eq!(
        retry[0].2.to_string(),
        "AppendEntries term=3 prev=4@2 entries=[5@2 6@3] commit=0"
    );
    net.send(retry[0].clone());
    // n2's 4@3 does not match 4@2: the hint is the start of its term-3 run.
    let refusal = net.take();
    assert_eq!(
        refusal[0].2.to_string(),
        "AppendEntriesReply term=3 conflict prev=4 next=3"
    );
    net.send(refusal[0].clone());
    net.deliver();
    assert_eq!(net.terms(2), vec![1, 1, 1, 2, 2, 3]);
    assert_eq!(net.node(1).match_index(2), Some(6));
    assert_eq!(net.node(1).next_index(2), Some(7));
    assert!(net.notes_of(2).contains(&Note::Truncate { from: 3 }));
    net.assert_safe();
}

#[test]
fn the_leader_repairs_every_follower_of_figure_7() {
    // Figure 7: followers (a)-(f) miss entries, hold extra uncommitted entries, or both; the
    // leader of term 8 brings each to its own log, deleting only what conflicts.
    let leader: &[u64] = &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    let a: &[u64] = &[1, 1, 1, 4, 4, 5, 5, 6, 6];
    let b: &[u64] = &[1, 1, 1, 4];
    let c: &[u64] = &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6];
    let d: &[u64] = &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7];
    let e: &[u64] = &[1, 1, 1, 4, 4, 4, 4];
    let f: &[u64] = &[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3];
    let mut net = Net::with_logs(
        RaftParams::default(),
        &[(7, leader), (7, a), (7, b), (7, c), (7, d), (7, e), (7, f)],
    );
    net.timeout(1);
    net.deliver();
    assert_eq!(net.leaders(), vec![1]);
    assert_eq!(net.node(1).current_term(), 8);
    net.heartbeat(1);
    net.deliver();
    let expected: Vec<u64> = leader.iter().copied().chain([8]).collect();
    for id in 1..=7 {
        assert_eq!(net.terms(id), expected, "n{id}");
        assert_eq!(net.node(id).commit_index(), 11, "n{id}");
    }
    let truncations: Vec<(NodeId, u64)> = net
        .notes
        .iter()
        .filter_map(|&(id, note)| match note {
            Note::Truncate { from } => Some((id, from)),
            _ => None,
        })
        .collect();
    // (a) and (b) only lacked entries; (c) and (d) lose their extra tails; (e) and (f) lose
    // their uncommitted entries from the first conflict on.
    assert_eq!(truncations, vec![(4, 11), (5, 11), (6, 6), (7, 4)]);
    net.assert_safe();
}

#[test]
fn a_stale_or_duplicated_append_entries_never_deletes_matching_entries() {
    // Section 5.3 (receiver rule 3 deletes only on a conflict), and Figure 2: matchIndex only
    // grows, so a reordered old reply cannot move it back.
    let mut net = Net::new(3, RaftParams::default());
    net.elect(1);
    net.request(1, 1, 1, write(1, 10));
    let early: Vec<Sent> = net.take();
    net.request(1, 1, 2, write(1, 20));
    net.deliver();
    net.heartbeat(1);
    net.deliver();
    assert_eq!(net.terms(2), vec![1, 1, 1]);
    let truncations_before = net
        .notes
        .iter()
        .filter(|(_, n)| matches!(n, Note::Truncate { .. }))
        .count();
    // The first AppendEntries to n2 arrives late, twice.
    let old = early.iter().find(|m| m.1 == 2).cloned().unwrap();
    net.send(old.clone());
    net.send(old);
    assert_eq!(net.terms(2), vec![1, 1, 1]);
    let truncations_after = net
        .notes
        .iter()
        .filter(|(_, n)| matches!(n, Note::Truncate { .. }))
        .count();
    assert_eq!(truncations_before, truncations_after);
    // Its replies (match=2) reach the leader after the newer one (match=3).
    net.deliver();
    assert_eq!(net.node(1).match_index(2), Some(3));
    assert_eq!(net.node(2).kv().get(1), Some(20));
    net.assert_safe();
}

#[test]
fn a_follower_commits_no_further_than_the_last_entry_it_was_sent() {
    // Figure 2, AppendEntries receiver rule 5: commitIndex = min(leaderCommit, index of last
    // new entry). n2's 3@2 and 4@2 are stale (the leader holds 3@3); the message, which carries
    // only 2@2, proves n2 agrees with the leader up to 2 and no further, so n2 must not commit
    // its own 3@2 because the leader has committed up to 3.
    let mut net = Net::with_logs(
        RaftParams::default(),
        &[(3, &[1, 2, 3, 3]), (3, &[1, 2, 2, 2]), (3, &[1])],
    );
    let append = Message::AppendEntries {
        term: 3,
        prev_log_index: 1,
        prev_log_term: 1,
        entries: vec![Entry::noop(2)],
        leader_commit: 3,
    };
    net.send((1, 2, append));
    assert_eq!(net.take()[0].2.to_string(), "AppendEntriesReply term=3 ok match=2");
    assert_eq!(net.node(2).commit_index(), 2);
    assert_eq!(
        net.terms(2),
        vec![1, 2, 2, 2],
        "a matching entry deletes nothing after it"
    );
    net.assert_safe();
}

#[test]
fn a_leader_ignores_replies_of_its_earlier_terms() {
    // Section 5.1: a reply carrying an older term is stale. The leader of term 2 must neither
    // count a term-1 acknowledgement towards commitment nor back off on a term-1 refusal.
    let mut net = Net::with_logs(RaftParams::default(), &[(1, &[1, 1]), (1, &[1, 1]), (1, &[1, 1])]);
    net.timeout(1);
    net.take();
    net.send((
        2,
        1,
        Message::Vote {
            term: 2,
            granted: true,
            pre_vote: false,
        },
    ));
    net.take();
    assert_eq!(net.terms(1), vec![1, 1, 2]);
    assert_eq!(
        (net.node(1).next_index(2), net.node(1).match_index(2)),
        (Some(3), Some(0))
    );
    net.send(ack(2, 1, 3));
    assert_eq!(net.node(1).match_index(2), Some(0));
    assert_eq!(net.node(1).commit_index(), 0);
    let refusal = |term| Message::AppendEntriesReply {
        term,
        success: false,
        prev_log_index: 2,
        match_index: 0,
        conflict_index: 1,
    };
    net.send((2, 1, refusal(1)));
    assert_eq!(net.node(1).next_index(2), Some(3));
    assert!(net.take().is_empty());
    // The same refusal in the current term is acted on.
    net.send((2, 1, refusal(2)));
    assert_eq!(net.node(1).next_index(2), Some(1));
    net.assert_safe();
}

#[test]
fn a_refusal_of_a_stale_term_is_no_conflict_hint() {
    // Figure 2, receiver rule 1 refuses an AppendEntries of a stale term without looking at
    // the log. Here the stale term is n1's own, from before n1 was elected again in exactly the
    // term of the refusal, so the refusal passes the leader's term check; it must not move
    // nextIndex (it used to rewind it to 1, as if it said "retry at 0"). Nor must a refusal of
    // a probe other than the one nextIndex stands at (etcd ignores those too).
    let mut net = Net::new(3, with(|p| p.checkquorum = true));
    net.elect(1);
    net.heartbeat(1);
    let held = net.take().into_iter().find(|m| m.1 == 3).unwrap();
    assert_eq!(held.2.to_string(), "AppendEntries term=1 prev=1@1 entries=[] commit=1");
    // Two quorum checks without a reply: n1 steps down in term 1, then runs for term 2.
    net.step(1, |r, c| r.on_timer(ELECTION_TIMER, c));
    net.step(1, |r, c| r.on_timer(ELECTION_TIMER, c));
    assert_eq!((net.node(1).role(), net.node(1).current_term()), (Role::FOLLOWER, 1));
    net.timeout(1);
    let to3 = net.take().into_iter().find(|m| m.1 == 3).unwrap();
    net.send(to3);
    let vote = net.take().remove(0);
    net.send(vote);
    assert_eq!((net.node(1).role(), net.node(1).current_term()), (Role::LEADER, 2));
    net.take();
    assert_eq!(net.node(1).next_index(3), Some(2));
    net.send(held);
    let refusal = net.take().remove(0);
    assert_eq!(refusal.2.to_string(), "AppendEntriesReply term=2 stale prev=1");
    net.send(refusal);
    assert_eq!(net.node(1).next_index(3), Some(2));
    assert!(net.take().is_empty());
    let conflict = |prev_log_index| Message::AppendEntriesReply {
        term: 2,
        success: false,
        prev_log_index,
        match_index: 0,
        conflict_index: 1,
    };
    net.send((3, 1, conflict(0)));
    assert_eq!(net.node(1).next_index(3), Some(2), "not the probe at nextIndex");
    net.send((3, 1, conflict(1)));
    assert_eq!(net.node(1).next_index(3), Some(1));
    net.assert_safe();
}

// ----- Commitment (section 5.4.2). -----

/// Figure 8 (c): S1 leads term 4; 2@2 is on S1 and S2; S5 holds 2@3.
fn figure_8(variant: Variant) -> Net {
    let mut net = Net::with_logs(
        params(variant),
        &[(3, &[1, 2]), (3, &[1, 2]), (3, &[1]), (3, &[1]), (3, &[1, 3])],
    );
    net.timeout(1);
    net.deliver_votes_only();
    for (from, _, granted) in net.vote_log.clone() {
        net.send((
            from,
            1,
            Message::Vote {
                term: 4,
                granted,
                pre_vote: false,
            },
        ));
    }
    assert_eq!(net.leaders(), vec![1]);
    assert_eq!(net.node(1).current_term(), 4);
    net.take(); // S1's AppendEntries are lost.
    net
}

fn ack(from: NodeId, term: u64, match_index: u64) -> Sent {
    (
        from,
        1,
        Message::AppendEntriesReply {
            term,
            success: true,
            prev_log_index: 0,
            match_index,
            conflict_index: 0,
        },
    )
}

#[test]
fn an_old_term_entry_on_a_majority_is_not_committed_until_a_current_term_entry_is() {
    // Section 5.4.2 and Figure 8: 2@2 stored on S1, S2 and S3 (a majority) is not committed
    // by counting replicas; it commits with 3@4, the new leader's no-op, once that is on a
    // majority.
    let mut net = figure_8(Variant::Correct);
    assert_eq!(net.terms(1), vec![1, 2, 4]);
    net.send(ack(2, 4, 2));
    net.send(ack(3, 4, 2));
    assert_eq!(net.node(1).commit_index(), 0);
    net.send(ack(2, 4, 3));
    assert_eq!(net.node(1).commit_index(), 0, "3@4 is on two nodes of five");
    net.send(ack(3, 4, 3));
    assert_eq!(net.node(1).commit_index(), 3);
    net.assert_safe();
}

#[test]
fn the_broken_commit_old_terms_commits_an_old_entry_by_counting() {
    // Variant commit-old-terms: the same acknowledgements commit 2@2 at once.
    let mut net = figure_8(Variant::CommitOldTerms);
    assert_eq!(net.terms(1), vec![1, 2], "no no-op in this variant");
    net.send(ack(2, 4, 2));
    net.send(ack(3, 4, 2));
    assert_eq!(net.node(1).commit_index(), 2);
}

/// Figure 8 played to the end: S1 commits (or not) 2@2 on S1-S4 then crashes; S5 times out
/// twice and asks for votes in term 5.
fn figure_8_played_out(variant: Variant) -> Net {
    let mut net = figure_8(variant);
    net.isolated.insert(5);
    net.heartbeat(1);
    net.deliver();
    net.heartbeat(1);
    net.deliver();
    net.crash(1);
    net.isolated.clear();
    net.timeout(5);
    net.timeout(5);
    net.deliver();
    for _ in 0..2 {
        for id in net.leaders() {
            net.heartbeat(id);
        }
        net.deliver();
    }
    net
}

#[test]
fn figure_8_under_commit_old_terms_loses_a_committed_entry_and_the_monitor_says_so() {
    let net = figure_8_played_out(Variant::CommitOldTerms);
    assert_eq!(net.leaders(), vec![5], "S5 wins: 2@3 is more up-to-date than 2@2");
    assert_eq!(net.terms(2), vec![1, 3], "S5 overwrote the committed 2@2");
    let violated = net.properties_violated();
    assert!(violated.contains(LEADER_COMPLETENESS), "{:#?}", net.violations);
    assert!(violated.contains(STATE_MACHINE_SAFETY), "{:#?}", net.violations);
    let smv = net
        .violations
        .iter()
        .find(|v| v.property == STATE_MACHINE_SAFETY)
        .unwrap();
    assert_eq!(smv.detail, "n1 applied 2@2 (noop) but n5 applied 2@3 (noop)");
}

#[test]
fn figure_8_under_the_correct_rule_keeps_the_committed_entry() {
    let net = figure_8_played_out(Variant::Correct);
    assert!(net.leaders().is_empty(), "S5 cannot win against 3@4 on a majority");
    assert_eq!(net.terms(2), vec![1, 2, 4]);
    assert_eq!(net.node(2).commit_index(), 3);
    net.assert_safe();
}

#[test]
fn the_broken_vote_without_log_check_lets_an_old_leader_commit_what_the_new_leader_lacks() {
    // Figure 3's Leader Completeness holds whenever the commit happens. n1 leads term 1 and
    // sends 2@1 to n2, whose acknowledgement is delayed; n3 wins term 2 with n2's vote without
    // 2@1 (only the broken variant grants it); the acknowledgement arrives and n1 commits 2@1
    // in term 1. When n3 was elected, nothing it lacked was committed yet.
    let mut net = Net::new(3, params(Variant::VoteWithoutLogCheck));
    net.elect(1);
    net.request(1, 1, 1, write(1, 5));
    let to2 = net.take().into_iter().find(|m| m.1 == 2).unwrap();
    net.send(to2);
    let delayed = net.take().remove(0);
    net.timeout(3);
    let to2 = net.take().into_iter().find(|m| m.1 == 2).unwrap();
    net.send(to2);
    let vote = net.take().remove(0);
    net.send(vote);
    net.take();
    assert_eq!(net.leaders(), vec![1, 3]);
    net.assert_safe();
    net.send(delayed);
    assert_eq!(net.node(1).commit_index(), 2);
    assert_eq!(
        net.violations,
        vec![Violation {
            property: LEADER_COMPLETENESS,
            nodes: vec![1, 3],
            detail: "n1 committed entry 2@1 in term 1, but n3, leader of the later term 2, lacks it \
                     (it has 2@2 (noop))"
                .into()
        }]
    );
}

#[test]
fn a_leader_of_an_old_term_elected_late_is_not_a_completeness_violation() {
    // Figure 3's Leader Completeness speaks of leaders of *higher* terms. n1's votes for term
    // 1 reach it only after n2 has led term 2 and committed 1@2; n1 then leads term 1 without
    // that entry, harmlessly: nobody accepts its term any more.
    let mut net = Net::new(3, RaftParams::default());
    net.timeout(1);
    for m in net.take() {
        net.send(m);
    }
    let held = net.take();
    net.isolated.insert(1);
    net.elect(2);
    assert_eq!(net.node(2).commit_index(), 1);
    net.isolated.clear();
    net.send(held[0].clone());
    assert_eq!((net.node(1).role(), net.node(1).current_term()), (Role::LEADER, 1));
    net.deliver();
    assert_eq!((net.node(1).role(), net.node(1).current_term()), (Role::FOLLOWER, 2));
    net.heartbeat(2);
    net.deliver();
    assert_eq!(net.terms(1), vec![2]);
    net.assert_safe();
}

// ----- Clients (section 8). -----

#[test]
fn a_follower_redirects_a_client_to_the_leader_it_knows() {
    let mut net = Net::new(3, RaftParams::default());
    net.request(2, 1, 1, write(1, 5));
    net.elect(1);
    net.request(2, 1, 1, write(1, 5));
    let answers: Vec<ClientReply> = net.replies.iter().map(|r| r.2).collect();
    assert_eq!(
        answers,
        vec![
            ClientReply::NotLeader { leader: None },
            ClientReply::NotLeader { leader: Some(1) }
        ]
    );
    assert_eq!(net.node(2).log().len(), 1, "a follower appends nothing for a client");
}

#[test]
fn the_leader_answers_when_the_entry_is_applied_and_reads_go_through_the_log() {
    let mut net = Net::new(3, RaftParams::default());
    net.elect(1);
    let w = ClientRequest {
        client: 1,
        seq: 1,
        op: write(1, 5),
    };
    net.request(1, 1, 1, w.op);
    assert!(net.replies.is_empty(), "no answer before the entry commits");
    assert_eq!(net.node(1).pending().get(&2), Some(&w));
    net.deliver();
    assert_eq!(net.replies, vec![(1, w, ClientReply::Ok { value: None })]);
    net.request(1, 2, 1, Op::Read { key: 1 });
    net.request(1, 2, 2, Op::Cas { key: 1, from: 4, to: 6 });
    net.deliver();
    let answers: Vec<ClientReply> = net.replies.iter().skip(1).map(|r| r.2).collect();
    assert_eq!(
        answers,
        vec![
            ClientReply::Ok { value: Some(5) },
            ClientReply::CasFailed { current: Some(5) }
        ]
    );
    net.heartbeat(1);
    net.deliver();
    for id in 1..=3 {
        assert_eq!(
            net.node(id).kv().data().iter().collect::<Vec<_>>(),
            vec![(&1, &5)],
            "n{id}"
        );
    }
    assert_eq!(
        net.replies.iter().filter(|r| r.0 != 1).count(),
        0,
        "followers never answer"
    );
    net.assert_safe();
}

#[test]
fn a_retried_request_is_applied_at_most_once() {
    // Section 8: the state machine tracks the latest serial number per client with its reply.
    let mut net = Net::new(3, RaftParams::default());
    net.elect(1);
    net.request(1, 9, 1, write(1, 0));
    let cas = Op::Cas { key: 1, from: 0, to: 1 };
    net.request(1, 1, 1, cas);
    net.deliver();
    let log_len = net.node(1).log().len();
    // The answer was lost; the client retries: same reply, nothing appended.
    net.request(1, 1, 1, cas);
    assert_eq!(net.replies.last().unwrap().2, ClientReply::Ok { value: Some(0) });
    assert_eq!(net.node(1).log().len(), log_len);
    // A retry that arrives while the first attempt is in flight waits for the same entry.
    net.request(1, 1, 2, write(1, 7));
    net.request(1, 1, 2, write(1, 7));
    assert_eq!(net.node(1).log().len(), log_len + 1);
    net.deliver();
    assert_eq!(
        net.replies.iter().filter(|r| r.1.seq == 2 && r.1.client == 1).count(),
        1
    );
    assert_eq!(net.node(1).kv().get(1), Some(7));
    net.assert_safe();
}

#[test]
fn a_new_leader_applies_a_request_twice_in_its_log_only_once() {
    // Section 8: a request appended by a leader that then lost office, retried at the next
    // leader and appended again, takes effect once; the second copy gets the first's reply.
    let mut net = Net::new(3, RaftParams::default());
    net.elect(1);
    net.request(1, 9, 1, write(1, 1));
    net.deliver();
    let cas = Op::Cas { key: 1, from: 1, to: 2 };
    net.request(1, 1, 1, cas);
    // The AppendEntries carrying it reach n2 only; n1 crashes before hearing back.
    let sent = net.take();
    net.send(sent.iter().find(|m| m.1 == 2).cloned().unwrap());
    net.take();
    net.crash(1);
    net.timeout(2);
    let to3 = net.take().into_iter().find(|m| m.1 == 3).unwrap();
    net.send(to3);
    let vote = net.take().remove(0);
    net.send(vote);
    assert_eq!(net.leaders(), vec![2]);
    assert_eq!(net.terms(2), vec![1, 1, 1, 2]);
    // The client retries at n2, which holds the request already (from n1's term) but has not
    // applied it: it waits for that entry rather than appending a copy.
    net.request(2, 1, 1, cas);
    assert_eq!(net.terms(2), vec![1, 1, 1, 2]);
    assert_eq!(net.node(2).pending().keys().collect::<Vec<_>>(), vec![&3]);
    net.deliver();
    assert_eq!(
        net.replies.last().map(|r| (r.0, r.2)),
        Some((2, ClientReply::Ok { value: Some(1) }))
    );
    assert_eq!(net.node(2).kv().get(1), Some(2));
    net.assert_safe();
}

#[test]
fn a_deposed_leader_sends_its_waiting_clients_to_the_leader_it_knows() {
    // Section 8. The entry of a deposed leader may still commit under the next leader, so its
    // answer promises nothing about the request; it is safe because the client retries with
    // the same (client, seq) and the sessions apply a request at most once. The client is
    // spared its timeout.
    let mut net = Net::new(3, RaftParams::default());
    net.elect(1);
    net.request(1, 1, 1, write(1, 5));
    net.request(1, 2, 1, write(2, 6));
    net.take();
    assert_eq!(net.node(1).pending().len(), 2);
    net.send((2, 1, heartbeat_of(2)));
    assert!(net.node(1).pending().is_empty());
    let answers: Vec<(NodeId, u32, ClientReply)> = net.replies.iter().map(|r| (r.0, r.1.client, r.2)).collect();
    let to_n2 = ClientReply::NotLeader { leader: Some(2) };
    assert_eq!(answers, vec![(1, 1, to_n2), (1, 2, to_n2)]);

    // Deposed by a term whose leader it does not know yet, it names none; the retry at the
    // next leader finds the entry there and it takes effect once.
    let mut net = Net::new(3, RaftParams::default());
    net.elect(1);
    net.request(1, 1, 1, write(1, 5));
    let to2 = net.take().into_iter().find(|m| m.1 == 2).unwrap();
    net.send(to2);
    net.take();
    net.timeout(2);
    net.deliver();
    let first = net.replies[0];
    assert_eq!((first.0, first.2), (1, ClientReply::NotLeader { leader: None }));
    assert_eq!(net.leaders(), vec![2]);
    net.request(2, 1, 1, write(1, 5));
    net.deliver();
    assert_eq!(
        net.replies.last().map(|r| (r.0, r.2)),
        Some((2, ClientReply::Ok { value: None }))
    );
    assert_eq!(
        net.node(2).log().to_string(),
        "[1@1 2@1 3@2]",
        "one copy of the request"
    );
    net.assert_safe();
}

#[test]
fn a_retry_waits_on_its_unapplied_entry_but_not_on_a_truncated_one() {
    // Section 8, through the index that replaced the leader's scan of its unapplied log: a
    // retry waits on the copy already in the log, and once that copy is truncated, a retry
    // is appended anew. (The test network also checks the index against a scan of the log
    // after every step of every test.)
    let mut net = Net::new(3, RaftParams::default());
    net.elect(1);
    // n1, cut off, appends requests it can never commit; n3 leads term 2 meanwhile.
    net.isolated.insert(1);
    for seq in 1..=3 {
        net.request(1, 1, seq, write(1, seq));
    }
    net.request(1, 1, 3, write(1, 3));
    assert_eq!(net.node(1).log().len(), 4, "the retry waits on its first copy");
    assert_eq!(net.node(1).pending().keys().collect::<Vec<_>>(), vec![&2, &3, &4]);
    net.timeout(3);
    net.deliver();
    assert_eq!(net.leaders(), vec![1, 3]);
    net.request(3, 1, 1, write(1, 1));
    net.deliver();
    // Back in touch, n1 steps down, answers its clients and loses its entries.
    net.isolated.clear();
    net.heartbeat(3);
    net.deliver();
    assert_eq!(net.terms(1), vec![1, 2, 2]);
    assert_eq!(net.replies.iter().filter(|r| r.0 == 1).count(), 3);
    // n1 leads term 3; the retry of seq 2 is appended, not left waiting at index 3.
    net.timeout(1);
    net.deliver();
    assert_eq!(net.leaders(), vec![1]);
    net.request(1, 1, 2, write(1, 2));
    assert_eq!(net.terms(1), vec![1, 2, 2, 3, 3]);
    net.deliver();
    assert_eq!(
        net.replies.last().map(|r| (r.0, r.1.seq, r.2)),
        Some((1, 2, ClientReply::Ok { value: None }))
    );
    assert_eq!(net.node(1).kv().get(1), Some(2));
    net.assert_safe();
}

// ----- Persistence (Figure 2, section 5.1). -----

#[test]
fn term_vote_and_log_survive_a_restart_but_volatile_state_is_rebuilt() {
    let mut net = Net::new(3, RaftParams::default());
    net.elect(1);
    net.request(1, 1, 1, write(1, 5));
    net.deliver();
    net.heartbeat(1);
    net.deliver();
    assert_eq!(net.node(2).commit_index(), 2);
    net.crash(2);
    net.restart(2);
    let n2 = net.node(2);
    assert_eq!((n2.current_term(), n2.voted_for(), n2.log().len()), (1, Some(1), 2));
    assert_eq!((n2.commit_index(), n2.last_applied(), n2.kv().get(1)), (0, 0, None));
    // The leader's next AppendEntries tells it the commit index again; it replays the log.
    net.heartbeat(1);
    net.deliver();
    assert_eq!(net.node(2).kv().get(1), Some(5));
    net.assert_safe();
}

/// n1 wins term 1 with n2's vote; n2 crashes and restarts; n3 asks n2 for a vote in term 1.
fn vote_across_a_restart(variant: Variant) -> Net {
    let mut net = Net::new(3, params(variant));
    net.timeout(1);
    let to2 = net.take().into_iter().find(|m| m.1 == 2).unwrap();
    net.send(to2);
    let vote = net.take().remove(0);
    net.send(vote);
    assert_eq!(net.leaders(), vec![1]);
    net.take(); // n1's AppendEntries are lost.
    net.crash(2);
    net.restart(2);
    net.timeout(3);
    let to2 = net.take().into_iter().find(|m| m.1 == 2).unwrap();
    net.send(to2);
    let vote = net.take().remove(0);
    net.send(vote);
    net
}

#[test]
fn a_restarted_node_remembers_its_vote() {
    // Figure 2: votedFor is persistent, so a vote survives a crash.
    let net = vote_across_a_restart(Variant::Correct);
    assert_eq!(net.leaders(), vec![1]);
    assert_eq!(net.node(2).voted_for(), Some(1));
    net.assert_safe();
}

#[test]
fn the_broken_forget_term_on_restart_votes_twice_and_two_leaders_share_a_term() {
    // Variant forget-term-on-restart: n2 comes back at term 0 with no vote.
    let net = vote_across_a_restart(Variant::ForgetTermOnRestart);
    assert_eq!(net.leaders(), vec![1, 3]);
    assert_eq!(net.node(3).current_term(), 1);
    assert_eq!(net.violations.len(), 1, "{:#?}", net.violations);
    assert_eq!(net.violations[0].property, ELECTION_SAFETY);
    assert_eq!(net.violations[0].nodes, vec![1, 3]);
    assert_eq!(net.violations[0].detail, "n1 and n3 are both leaders of term 1");
}

#[test]
fn the_broken_forget_term_on_restart_restarts_at_term_zero() {
    let mut net = Net::new(3, params(Variant::ForgetTermOnRestart));
    net.elect(1);
    net.crash(2);
    net.restart(2);
    let n2 = net.node(2);
    assert_eq!((n2.current_term(), n2.voted_for(), n2.log().len()), (0, None, 1));
}

#[test]
fn the_broken_vote_without_log_check_elects_a_leader_that_lacks_committed_entries() {
    // Section 5.4.1 is what keeps committed entries in every later leader's log.
    let run = |variant| {
        let mut net = Net::new(3, params(variant));
        net.elect(1);
        net.isolated.insert(3);
        net.request(1, 1, 1, write(1, 5));
        net.deliver();
        net.heartbeat(1);
        net.deliver();
        assert_eq!(net.node(2).commit_index(), 2);
        net.crash(1);
        net.isolated.clear();
        net.timeout(3);
        net.deliver();
        for id in net.leaders() {
            net.heartbeat(id);
            net.deliver();
        }
        net
    };
    let correct = run(Variant::Correct);
    assert!(correct.leaders().is_empty());
    correct.assert_safe();
    let broken = run(Variant::VoteWithoutLogCheck);
    assert_eq!(broken.leaders(), vec![3]);
    let violated = broken.properties_violated();
    assert!(violated.contains(LEADER_COMPLETENESS), "{:#?}", broken.violations);
    assert!(violated.contains(STATE_MACHINE_SAFETY), "{:#?}", broken.violations);
    let lc = broken
        .violations
        .iter()
        .find(|v| v.property == LEADER_COMPLETENESS)
        .unwrap();
    assert!(
        lc.detail
            .starts_with("n3 became leader of term 2 without entry 2@1, committed in term 1"),
        "{}",
        lc.detail
    );
}

// ----- PreVote and CheckQuorum (thesis 9.6 and 6.2). -----

fn with(f: impl FnOnce(&mut RaftParams)) -> RaftParams {
    let mut p = RaftParams::default();
    f(&mut p);
    p
}

#[test]
fn without_prevote_a_node_back_from_a_partition_unseats_the_leader() {
    let mut net = Net::new(3, RaftParams::default());
    net.elect(1);
    net.isolated.insert(3);
    for _ in 0..3 {
        net.timeout(3);
    }
    assert_eq!(net.node(3).current_term(), 4);
    net.isolated.clear();
    net.timeout(3);
    net.deliver();
    assert_eq!(net.node(1).current_term(), 5, "the healthy leader was deposed");
    net.assert_safe();
}

#[test]
fn with_prevote_a_partitioned_node_does_not_raise_its_term_or_disturb_the_leader() {
    // Thesis 9.6.
    let mut net = Net::new(3, with(|p| p.prevote = true));
    net.elect(1);
    net.isolated.insert(3);
    for _ in 0..3 {
        net.timeout(3);
    }
    assert_eq!(net.node(3).current_term(), 1);
    assert!(net.node(3).is_pre_candidate());
    assert_eq!(net.node(3).role(), Role::CANDIDATE);
    net.isolated.clear();
    net.timeout(3);
    net.deliver_votes_only();
    assert_eq!(
        net.vote_log,
        vec![(1, 3, false), (2, 3, false)],
        "leader and lease refuse"
    );
    assert_eq!(net.node(1).role(), Role::LEADER);
    assert_eq!(net.node(1).current_term(), 1);
    // The leader's next heartbeat brings n3 back as a follower.
    net.heartbeat(1);
    net.deliver();
    assert_eq!(net.node(3).role(), Role::FOLLOWER);
    net.assert_safe();
}

#[test]
fn a_pre_vote_is_refused_within_the_leader_lease_and_granted_after() {
    // Thesis 9.6: a voter that heard from a leader within the minimum election timeout refuses.
    let mut net = Net::new(3, with(|p| p.prevote = true));
    net.elect(1);
    net.crash(1);
    net.now_us += 149_999;
    net.timeout(3);
    net.deliver_votes_only();
    assert_eq!(net.vote_log, vec![(2, 3, false)]);
    net.now_us += 1;
    net.timeout(3);
    net.deliver_votes_only();
    assert_eq!(net.vote_log, vec![(2, 3, true)]);
    assert_eq!(net.node(2).current_term(), 1, "a pre-vote changes nobody's term");
    assert_eq!(net.node(2).voted_for(), Some(1));
    net.send((
        2,
        3,
        Message::Vote {
            term: 2,
            granted: true,
            pre_vote: true,
        },
    ));
    assert_eq!((net.node(3).role(), net.node(3).current_term()), (Role::CANDIDATE, 2));
    net.deliver();
    assert_eq!(net.leaders(), vec![3]);
    net.assert_safe();
}

#[test]
fn a_pre_vote_keeps_the_log_check_and_asks_for_a_later_term() {
    // Thesis 9.6: a voter grants a pre-vote when it would grant the vote in the election that
    // would follow: for a log at least as up-to-date as its own (section 5.4.1), and for a term
    // past its own. n2 knows no leader, so no lease stands in the way.
    let mut net = Net::with_logs(with(|p| p.prevote = true), &[(2, &[1, 1]), (2, &[1, 2]), (2, &[1, 2])]);
    let pre = |term, last_log_index, last_log_term| Message::RequestVote {
        term,
        last_log_index,
        last_log_term,
        pre_vote: true,
    };
    net.send((1, 2, pre(3, 2, 1))); // a log behind n2's
    net.send((3, 2, pre(2, 2, 2))); // up to date, but for n2's own term
    net.send((3, 2, pre(3, 2, 2))); // up to date, for the next term
    assert_eq!(votes_in(&net.take()), vec![(2, 1, false), (2, 3, false), (2, 3, true)]);
    assert_eq!((net.node(2).current_term(), net.node(2).voted_for()), (2, None));
    net.assert_safe();
}

#[test]
fn with_checkquorum_a_leader_cut_off_from_a_majority_steps_down() {
    // Thesis 6.2.
    let mut net = Net::new(3, with(|p| p.checkquorum = true));
    net.elect(1);
    net.step(1, |r, c| r.on_timer(ELECTION_TIMER, c));
    assert_eq!(net.node(1).role(), Role::LEADER, "it heard from both followers");
    net.isolated.insert(1);
    net.heartbeat(1);
    net.step(1, |r, c| r.on_timer(ELECTION_TIMER, c));
    assert_eq!((net.node(1).role(), net.node(1).current_term()), (Role::FOLLOWER, 1));
    assert_eq!(net.node(1).leader(), None);

    let mut without = Net::new(3, RaftParams::default());
    without.elect(1);
    without.isolated.insert(1);
    without.step(1, |r, c| r.on_timer(ELECTION_TIMER, c));
    without.step(1, |r, c| r.on_timer(ELECTION_TIMER, c));
    assert_eq!(without.node(1).role(), Role::LEADER);
}

#[test]
fn a_single_node_cluster_elects_itself_and_commits_alone() {
    let mut net = Net::new(1, with(|p| p.prevote = true));
    net.timeout(1);
    assert_eq!(net.leaders(), vec![1]);
    net.request(1, 1, 1, write(3, 4));
    assert_eq!(
        net.replies,
        vec![(
            1,
            ClientRequest {
                client: 1,
                seq: 1,
                op: write(3, 4)
            },
            ClientReply::Ok { value: None }
        )]
    );
    net.assert_safe();
}

// ----- The trace's one-line forms. -----

#[test]
fn messages_print_as_one_line() {
    let ae = Message::AppendEntries {
        term: 3,
        prev_log_index: 5,
        prev_log_term: 2,
        entries: vec![Entry::noop(3), Entry::noop(3)],
        leader_commit: 5,
    };
    assert_eq!(
        ae.to_string(),
        "AppendEntries term=3 prev=5@2 entries=[6@3 7@3] commit=5"
    );
    let long = Message::AppendEntries {
        term: 3,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: vec![Entry::noop(1); 9],
        leader_commit: 0,
    };
    assert_eq!(
        long.to_string(),
        "AppendEntries term=3 prev=0@0 entries=[1@1 2@1 3@1 ... 9@1] commit=0"
    );
    let rv = Message::RequestVote {
        term: 3,
        last_log_index: 5,
        last_log_term: 2,
        pre_vote: false,
    };
    assert_eq!(rv.to_string(), "RequestVote term=3 last=5@2");
    assert_eq!(Raft::msg_kind(&rv), "RequestVote");
    let pv = Message::RequestVote {
        term: 4,
        last_log_index: 5,
        last_log_term: 2,
        pre_vote: true,
    };
    assert_eq!(pv.to_string(), "RequestPreVote term=4 last=5@2");
    assert_eq!(Raft::msg_kind(&pv), "RequestPreVote");
    assert_eq!(
        Message::Vote {
            term: 3,
            granted: true,
            pre_vote: false
        }
        .to_string(),
        "Vote term=3 granted"
    );
    assert_eq!(
        Message::Vote {
            term: 3,
            granted: false,
            pre_vote: true
        }
        .to_string(),
        "PreVote term=3 denied"
    );
    let ok = Message::AppendEntriesReply {
        term: 3,
        success: true,
        prev_log_index: 5,
        match_index: 7,
        conflict_index: 0,
    };
    assert_eq!(ok.to_string(), "AppendEntriesReply term=3 ok match=7");
    let conflict = Message::AppendEntriesReply {
        term: 3,
        success: false,
        prev_log_index: 5,
        match_index: 0,
        conflict_index: 4,
    };
    assert_eq!(conflict.to_string(), "AppendEntriesReply term=3 conflict prev=5 next=4");
    let stale = Message::AppendEntriesReply {
        term: 3,
        success: false,
        prev_log_index: 5,
        match_index: 0,
        conflict_index: 0,
    };
    assert_eq!(stale.to_string(), "AppendEntriesReply term=3 stale prev=5");
}

#[test]
fn describe_gives_the_rest_of_the_state_in_one_line() {
    let mut net = Net::new(3, RaftParams::default());
    net.elect(1);
    net.request(1, 1, 1, write(1, 5));
    net.deliver();
    assert_eq!(
        net.node(1).describe(),
        "log=[1@1 2@1] commit=2 vote=n1 leader=n1 kv={k1=5}"
    );
}

// ----- The monitor can fail (each property, by hand). -----

fn node_with(id: NodeId, n: u8, entries: Vec<Entry>) -> Option<Raft> {
    let stable = Stable {
        current_term: 1,
        voted_for: None,
        log: Log::from_entries(entries),
    };
    Some(Raft::new(id, n, &RaftParams::default(), stable))
}

fn client_entry(term: u64, value: u64) -> Entry {
    Entry {
        term,
        command: Command::Client(ClientRequest {
            client: 1,
            seq: value,
            op: write(1, value),
        }),
    }
}

#[test]
fn monitor_reports_two_leaders_of_one_term() {
    let nodes = vec![
        node_with(1, 3, vec![]),
        node_with(2, 3, vec![]),
        node_with(3, 3, vec![]),
    ];
    let mut m = RaftMonitor::default();
    let mut out = Vec::new();
    m.observe(
        2,
        &[Note::Role {
            role: Role::LEADER,
            term: 7,
        }],
        &nodes,
        &mut out,
    );
    m.observe(
        2,
        &[Note::Role {
            role: Role::LEADER,
            term: 7,
        }],
        &nodes,
        &mut out,
    );
    m.observe(
        1,
        &[Note::Role {
            role: Role::LEADER,
            term: 8,
        }],
        &nodes,
        &mut out,
    );
    assert!(out.is_empty());
    m.observe(
        3,
        &[Note::Role {
            role: Role::LEADER,
            term: 7,
        }],
        &nodes,
        &mut out,
    );
    assert_eq!(
        out,
        vec![Violation {
            property: ELECTION_SAFETY,
            nodes: vec![2, 3],
            detail: "n2 and n3 are both leaders of term 7".into()
        }]
    );
    // Reported once.
    m.observe(
        3,
        &[Note::Role {
            role: Role::LEADER,
            term: 7,
        }],
        &nodes,
        &mut out,
    );
    assert_eq!(out.len(), 1);
}

#[test]
fn monitor_reports_logs_that_share_an_entry_but_not_its_prefix() {
    let nodes = vec![
        node_with(1, 2, vec![client_entry(1, 5), Entry::noop(1), Entry::noop(2)]),
        node_with(2, 2, vec![client_entry(1, 5), Entry::noop(2), Entry::noop(2)]),
    ];
    let append = |index, term| Note::Append { index, term };
    let mut m = RaftMonitor::default();
    let mut out = Vec::new();
    m.observe(1, &[append(1, 1), append(2, 1), append(3, 2)], &nodes, &mut out);
    m.observe(2, &[append(1, 1), append(2, 2), append(3, 2)], &nodes, &mut out);
    assert_eq!(
        out,
        vec![Violation {
            property: LOG_MATCHING,
            nodes: vec![1, 2],
            detail: "n1 and n2 both hold entry 3@2, but their logs differ at index 2".into()
        }]
    );
}

#[test]
fn monitor_reports_one_entry_holding_two_commands() {
    let nodes = vec![
        node_with(1, 2, vec![client_entry(1, 5)]),
        node_with(2, 2, vec![client_entry(1, 6)]),
    ];
    let mut m = RaftMonitor::default();
    let mut out = Vec::new();
    m.observe(1, &[Note::Append { index: 1, term: 1 }], &nodes, &mut out);
    m.observe(2, &[Note::Append { index: 1, term: 1 }], &nodes, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].property, LOG_MATCHING);
    assert_eq!(
        out[0].detail,
        "n1 and n2 both hold entry 1@1, but their logs differ at index 1"
    );
}

#[test]
fn monitor_reports_a_leader_without_a_committed_entry() {
    let nodes = vec![
        node_with(1, 3, vec![Entry::noop(1), client_entry(1, 5)]),
        node_with(2, 3, vec![Entry::noop(1), Entry::noop(2)]),
        node_with(3, 3, vec![Entry::noop(1)]),
    ];
    let mut m = RaftMonitor::default();
    let mut out = Vec::new();
    m.observe(1, &[Note::Commit { index: 2 }], &nodes, &mut out);
    m.observe(
        3,
        &[Note::Role {
            role: Role::LEADER,
            term: 2,
        }],
        &nodes,
        &mut out,
    );
    m.observe(
        2,
        &[Note::Role {
            role: Role::LEADER,
            term: 3,
        }],
        &nodes,
        &mut out,
    );
    assert_eq!(out.len(), 2, "{out:#?}");
    assert!(out.iter().all(|v| v.property == LEADER_COMPLETENESS));
    assert_eq!(out[0].nodes, vec![3]);
    assert_eq!(
        out[0].detail,
        "n3 became leader of term 2 without entry 2@1, committed in term 1 (it has nothing at 2)"
    );
    assert!(out[1].detail.ends_with("(it has 2@2 (noop))"), "{}", out[1].detail);
    // A leader that holds the committed prefix is fine, and so is a leader of a term no later
    // than the one the entries were committed in (a candidate whose votes were delayed).
    let mut quiet = Vec::new();
    m.observe(
        3,
        &[Note::Role {
            role: Role::LEADER,
            term: 1,
        }],
        &nodes,
        &mut quiet,
    );
    m.observe(
        1,
        &[Note::Role {
            role: Role::LEADER,
            term: 4,
        }],
        &nodes,
        &mut quiet,
    );
    assert!(quiet.is_empty());
}

#[test]
fn monitor_checks_later_leaders_when_an_old_term_commits() {
    // Figure 3's Leader Completeness, whenever the commit happens: n1, still leader of term 1,
    // commits 2@1 after n3 became leader of term 2 without it. At n3's election only 1@1 was
    // committed, which it holds, so only a check at the commit sees it.
    let leader = |term| Note::Role {
        role: Role::LEADER,
        term,
    };
    let follower = |term| Note::Role {
        role: Role::FOLLOWER,
        term,
    };
    let with_2_1 = vec![Entry::noop(1), client_entry(1, 5)];
    let nodes_where_n3_has = |n3: Vec<Entry>| {
        vec![
            node_with(1, 3, with_2_1.clone()),
            node_with(2, 3, with_2_1.clone()),
            node_with(3, 3, n3),
        ]
    };
    let lacking = nodes_where_n3_has(vec![Entry::noop(1), Entry::noop(2)]);
    let repaired = nodes_where_n3_has(with_2_1.clone());
    let before_the_commit = |m: &mut RaftMonitor, out: &mut Vec<Violation>, n3_leads: &[Note]| {
        m.observe(1, &[leader(1)], &lacking, out);
        m.observe(1, &[Note::Commit { index: 1 }], &lacking, out);
        m.observe(3, n3_leads, &lacking, out);
    };
    let detail =
        |has: &str| format!("n1 committed entry 2@1 in term 1, but n3, leader of the later term 2, lacks it ({has})");

    // n3 still leads.
    let (mut m, mut out) = (RaftMonitor::default(), Vec::new());
    before_the_commit(&mut m, &mut out, &[leader(2)]);
    assert!(out.is_empty(), "{out:#?}");
    m.observe(1, &[Note::Commit { index: 2 }], &lacking, &mut out);
    assert_eq!(
        out,
        vec![Violation {
            property: LEADER_COMPLETENESS,
            nodes: vec![1, 3],
            detail: detail("it has 2@2 (noop)"),
        }]
    );
    m.observe(2, &[Note::Commit { index: 2 }], &lacking, &mut out);
    assert_eq!(out.len(), 1, "reported once");

    // n3 stepped down and was repaired before the commit: what counts is its log as leader.
    let (mut m, mut out) = (RaftMonitor::default(), Vec::new());
    before_the_commit(&mut m, &mut out, &[leader(2)]);
    let repair = [
        follower(3),
        Note::Truncate { from: 2 },
        Note::Append { index: 2, term: 1 },
    ];
    m.observe(3, &repair, &repaired, &mut out);
    m.observe(1, &[Note::Commit { index: 2 }], &repaired, &mut out);
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].detail, detail("its log as leader had another entry at 2"));

    // The same when its log as leader ended before the entry and merely grew since.
    let short = nodes_where_n3_has(vec![Entry::noop(1)]);
    let (mut m, mut out) = (RaftMonitor::default(), Vec::new());
    m.observe(1, &[leader(1)], &short, &mut out);
    m.observe(1, &[Note::Commit { index: 1 }], &short, &mut out);
    m.observe(3, &[leader(2)], &short, &mut out);
    m.observe(
        3,
        &[follower(3), Note::Append { index: 2, term: 1 }],
        &repaired,
        &mut out,
    );
    m.observe(1, &[Note::Commit { index: 2 }], &repaired, &mut out);
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].detail, detail("its log as leader ended before 2"));

    // A later leader that held the entry is fine, even if its log was cut since: the monitor
    // kept the log it had. And a commit in term 2 ends the watch of the leader of term 2.
    let held_it = nodes_where_n3_has(vec![Entry::noop(1), client_entry(1, 5), Entry::noop(2)]);
    let cut = nodes_where_n3_has(vec![Entry::noop(1)]);
    let (mut m, mut out) = (RaftMonitor::default(), Vec::new());
    m.observe(1, &[leader(1)], &held_it, &mut out);
    m.observe(1, &[Note::Commit { index: 1 }], &held_it, &mut out);
    m.observe(3, &[leader(2), Note::Append { index: 3, term: 2 }], &held_it, &mut out);
    m.observe(3, &[follower(3), Note::Truncate { from: 2 }], &cut, &mut out);
    m.observe(1, &[Note::Commit { index: 2 }], &cut, &mut out);
    assert!(out.is_empty(), "{out:#?}");
}

#[test]
fn monitor_reports_two_entries_applied_at_one_index() {
    let nodes = vec![
        node_with(1, 2, vec![client_entry(1, 5)]),
        node_with(2, 2, vec![Entry::noop(2)]),
    ];
    let mut m = RaftMonitor::default();
    let mut out = Vec::new();
    m.observe(1, &[Note::Apply { index: 1, term: 1 }], &nodes, &mut out);
    m.observe(1, &[Note::Apply { index: 1, term: 1 }], &nodes, &mut out);
    assert!(out.is_empty(), "re-applying the same entry (after a restart) is fine");
    m.observe(2, &[Note::Apply { index: 1, term: 2 }], &nodes, &mut out);
    assert_eq!(
        out,
        vec![Violation {
            property: STATE_MACHINE_SAFETY,
            nodes: vec![1, 2],
            detail: "n1 applied 1@1 (c1#5 write k1 5) but n2 applied 1@2 (noop)".into()
        }]
    );
}

#[test]
fn monitor_names_its_properties() {
    assert_eq!(
        RaftMonitor::properties(),
        &[
            "Election Safety",
            "Log Matching",
            "Leader Completeness",
            "State Machine Safety"
        ]
    );
    assert_eq!(<RaftParams as crate::protocol::Params>::keys().len(), 5);
    let mut p = RaftParams::default();
    assert!(p.set("variant", "correct").is_ok());
}

mod quorum_arithmetic {
    //! The fast commit arithmetic against its definition, on random inputs, in the manner of
    //! etcd's quorum/quick_test.go.

    use super::super::{quorum, quorum_index};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_two_quorums_intersect(n in 1u8..=9) {
            let q = quorum(n);
            prop_assert!(q <= usize::from(n));
            prop_assert!(2 * q > usize::from(n), "two quorums of {n} always share a node");
            prop_assert!(2 * (q - 1) <= usize::from(n), "and the quorum is the smallest such size");
        }

        #[test]
        fn quorum_index_is_the_highest_index_a_majority_stores(stored in proptest::collection::vec(0u64..20, 1..=9)) {
            let n = stored.len() as u8;
            let q = quorum(n);
            let got = quorum_index(&mut stored.clone(), q);
            // Definition: the largest N such that at least q nodes store an index >= N.
            let reference = (0..=20u64).rev().find(|&n| stored.iter().filter(|&&m| m >= n).count() >= q).unwrap_or(0);
            prop_assert_eq!(got, reference);
        }
    }
}
