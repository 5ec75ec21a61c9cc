//! Unit tests of Paxos's rules, each citing the section of "Paxos Made Simple" it checks.
//!
//! As in the Raft tests, a test drives nodes directly through a tiny hand-written network,
//! [`Net`]: messages wait in a FIFO queue until the test delivers them (all, some, in another
//! order, or never), timers fire only when the test fires them, and time moves only when the
//! test moves it. The monitor watches every step, so each test of the correct protocol also
//! asserts that it saw no violation, and each test of a broken variant asserts what it saw.

use super::monitor::{AGREEMENT, LEARNER_CONSISTENCY, VALIDITY};
use super::*;
use crate::protocol::{Effects, Monitor, Params as _, Violation};
use crate::rng::SimRng;
use std::collections::{BTreeSet, VecDeque};

type Sent = (NodeId, NodeId, Message);

struct Net {
    params: PaxosParams,
    n: u8,
    nodes: Vec<Option<Paxos>>,
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
    /// Every timer set or cancelled, with the node: `(node, kind, Some(after) | None)`.
    timers: Vec<(NodeId, TimerKind, Option<u64>)>,
    monitor: PaxosMonitor,
    violations: Vec<Violation>,
}

fn slot_of(id: NodeId) -> usize {
    usize::from(id) - 1
}

impl Net {
    fn new(n: u8, params: PaxosParams) -> Net {
        let mut net = Net {
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
            timers: Vec::new(),
            monitor: PaxosMonitor::default(),
            violations: Vec::new(),
        };
        for id in 1..=n {
            net.boot(id, None);
        }
        net
    }

    fn boot(&mut self, id: NodeId, stable: Option<Stable>) {
        let i = slot_of(id);
        let mut out = Effects::default();
        let mut ctx = Ctx::new(id, self.n, self.now_us, &mut self.rngs[i], &mut out);
        let node = match stable {
            None => Paxos::start(id, &self.params, &mut ctx),
            Some(s) => Paxos::restart(id, &self.params, s, &mut ctx),
        };
        self.nodes[i] = Some(node);
        self.absorb(id, out);
    }

    fn step(&mut self, id: NodeId, f: impl FnOnce(&mut Paxos, &mut Ctx<Message>)) {
        let i = slot_of(id);
        let mut out = Effects::default();
        let Some(node) = self.nodes[i].as_mut() else {
            return;
        };
        let mut ctx = Ctx::new(id, self.n, self.now_us, &mut self.rngs[i], &mut out);
        f(node, &mut ctx);
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
        for (kind, after) in out.timers {
            self.timers.push((id, kind, after));
        }
        self.monitor.observe(id, &out.notes, &self.nodes, &mut self.violations);
        self.notes.extend(out.notes.into_iter().map(|note| (id, note)));
    }

    /// Delivers one message now, unless its receiver is down or cut off.
    fn send(&mut self, (from, to, msg): Sent) {
        if self.isolated.contains(&from) || self.isolated.contains(&to) {
            return;
        }
        self.step(to, |p, c| p.on_message(from, msg, c));
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

    fn timer(&mut self, id: NodeId, kind: TimerKind) {
        self.step(id, |p, c| p.on_timer(kind, c));
    }

    fn request(&mut self, id: NodeId, client: u32, seq: u64, op: Op) {
        self.step(id, |p, c| p.on_client(ClientRequest { client, seq, op }, c));
    }

    fn crash(&mut self, id: NodeId) {
        let i = slot_of(id);
        self.disk[i] = self.nodes[i].take().map(|p| p.stable());
    }

    fn restart(&mut self, id: NodeId) {
        let stable = self.disk[slot_of(id)].take().expect("restart of a node that is up");
        self.boot(id, Some(stable));
    }

    /// Multi-Paxos: elects `id` by firing its election timer and delivering everything.
    fn elect(&mut self, id: NodeId) {
        self.timer(id, ELECTION_TIMER);
        self.deliver();
        assert_eq!(self.node(id).role(), Role::LEADER, "n{id} was not elected");
    }

    fn node(&self, id: NodeId) -> &Paxos {
        self.nodes[slot_of(id)].as_ref().expect("node is down")
    }

    fn replies_to(&self, client: u32) -> Vec<ClientReply> {
        self.replies
            .iter()
            .filter(|(_, req, _)| req.client == client)
            .map(|&(_, _, reply)| reply)
            .collect()
    }

    fn notes_of(&self, id: NodeId) -> Vec<Note> {
        self.notes
            .iter()
            .filter(|(n, _)| *n == id)
            .map(|&(_, note)| note)
            .collect()
    }

    fn learned_value(&self, id: NodeId, slot: Slot) -> Option<Command> {
        self.node(id).learned(slot).map(|(_, v)| v)
    }

    fn properties_violated(&self) -> BTreeSet<&'static str> {
        self.violations.iter().map(|v| v.property).collect()
    }

    fn assert_safe(&self) {
        assert!(self.violations.is_empty(), "violations: {:#?}", self.violations);
    }
}

fn with(f: impl FnOnce(&mut PaxosParams)) -> PaxosParams {
    let mut p = PaxosParams::default();
    f(&mut p);
    p
}

fn multi() -> PaxosParams {
    with(|p| p.mode = Mode::Multi)
}

fn b(round: u64, node: NodeId) -> Ballot {
    Ballot { round, node }
}

fn write(key: u32, value: u64) -> Op {
    Op::Write { key, value }
}

fn client_value(client: u32, seq: u64, op: Op) -> Command {
    Command::Client(ClientRequest { client, seq, op })
}

fn kinds(sent: &[Sent]) -> Vec<&'static str> {
    sent.iter().map(|(_, _, m)| Paxos::msg_kind(m)).collect()
}

// ----- Single-decree Paxos: choosing a value (section 2.2). -----

#[test]
fn a_lone_proposer_gets_its_value_chosen_and_every_learner_learns_it() {
    // Sections 2.2 and 2.3: phase 1 and phase 2 with a majority; every acceptor that accepts
    // tells every learner, and a learner learns once a majority accepted one ballot.
    let mut net = Net::new(3, PaxosParams::default());
    net.request(1, 1, 0, write(1, 5));
    assert_eq!(net.node(1).role(), Role::CANDIDATE);
    assert_eq!(net.node(1).ballot(), b(1, 1));
    assert_eq!(kinds(&net.take()), vec!["Prepare", "Prepare"]);
    // Deliver again from the start, all of it.
    let mut net = Net::new(3, PaxosParams::default());
    net.request(1, 1, 0, write(1, 5));
    net.deliver();
    for id in 1..=3 {
        assert_eq!(net.learned_value(id, 1), Some(client_value(1, 0, write(1, 5))), "n{id}");
        assert_eq!(net.node(id).kv().get(1), Some(5));
        assert!(net.notes_of(id).contains(&Note::Commit { index: 1 }));
        assert!(net.notes_of(id).contains(&Note::Apply { index: 1, term: 1 }));
    }
    assert_eq!(net.replies_to(1), vec![ClientReply::Ok { value: None }]);
    assert_eq!(
        net.node(1).role(),
        Role::FOLLOWER,
        "a proposer stops once the value is known"
    );
    net.assert_safe();
}

#[test]
fn a_learner_needs_a_majority_of_one_ballot() {
    // Section 2.3: "a learner must find out that a proposal has been accepted by a majority
    // of acceptors". Two acceptors of five in ballot 1.1 and one in 2.2 make no majority,
    // even though three acceptors accepted the same value.
    let mut net = Net::new(5, PaxosParams::default());
    let v = client_value(1, 0, write(1, 5));
    let accepted = |ballot| Message::Accepted {
        ballot,
        slot: 1,
        value: v,
    };
    net.send((2, 1, accepted(b(1, 1))));
    net.send((3, 1, accepted(b(1, 1))));
    net.send((4, 1, accepted(b(2, 2))));
    assert_eq!(net.node(1).learned(1), None);
    assert_eq!(net.node(1).accepted_by(1, b(1, 1)), vec![2, 3]);
    net.send((5, 1, accepted(b(1, 1))));
    assert_eq!(net.node(1).learned(1), Some((b(1, 1), v)));
}

#[test]
fn a_proposer_adopts_the_value_of_the_highest_numbered_accepted_proposal() {
    // P2c, phase 2(a): "v is the value of the highest-numbered proposal among the responses".
    // n2 accepted x in ballot 1.1 and n3 accepted y in ballot 2.5; neither was chosen. n4's
    // proposal with promises from n2, n3 and itself must carry y, not its own z nor x.
    let x = client_value(1, 0, write(1, 1));
    let y = client_value(2, 0, write(1, 2));
    let mut net = Net::new(5, PaxosParams::default());
    // n1 and n5 take x and y from their clients (their Prepares are lost)...
    net.request(1, 1, 0, write(1, 1));
    net.request(5, 2, 0, write(1, 2));
    net.take();
    // ... and got as far as one Accept each.
    for (to, ballot, value) in [(2, b(1, 1), x), (3, b(2, 5), y)] {
        net.send((ballot.node, to, Message::Accept { ballot, slot: 1, value }));
    }
    net.take();
    net.isolated.extend([1, 5]);
    net.request(4, 3, 0, write(1, 3));
    net.deliver();
    // n3 refused ballot 1.4 (it accepted in 2.5); the retry goes above.
    assert_eq!(net.node(4).phase(), Phase::Backoff);
    net.timer(4, RETRY_TIMER);
    net.deliver();
    assert_eq!(net.node(4).ballot(), b(3, 4));
    assert_eq!(net.learned_value(4, 1), Some(y));
    assert_eq!(net.replies_to(3), vec![ClientReply::CasFailed { current: Some(2) }]);
    net.assert_safe();
}

#[test]
fn the_broken_ignore_promised_values_overwrites_a_chosen_value() {
    // The same P2c, broken: a value chosen by n1, n2, n3 is overwritten by n5, whose promises
    // from n3, n4 and itself reported it.
    for variant in [Variant::Correct, Variant::IgnorePromisedValues] {
        let mut net = Net::new(5, with(|p| p.variant = variant));
        net.isolated.extend([4, 5]);
        net.request(1, 1, 0, write(1, 1));
        net.deliver();
        assert_eq!(net.learned_value(2, 1), Some(client_value(1, 0, write(1, 1))));
        net.isolated = [1, 2].into();
        net.request(5, 2, 0, write(1, 2));
        net.deliver();
        let chosen = net.learned_value(5, 1);
        if variant == Variant::Correct {
            assert_eq!(chosen, Some(client_value(1, 0, write(1, 1))));
            net.assert_safe();
        } else {
            assert_eq!(chosen, Some(client_value(2, 0, write(1, 2))));
            assert!(net.properties_violated().contains(AGREEMENT));
            let detail = &net.violations[0].detail;
            assert!(
                detail.contains("slot 1: c1#0 write k1 1 was chosen in ballot 1.1 by n1 n2 n3"),
                "{detail}"
            );
        }
    }
}

#[test]
fn an_acceptor_refuses_a_lower_prepare_and_the_proposer_retries_above_the_promise() {
    // Phase 1(b) and section 2.4: a refusal names the promise, and the proposer's next ballot
    // is higher than any it has seen (ballots are (round, node), unique per proposer).
    let mut net = Net::new(3, with(|p| p.backoff = Backoff::Fixed));
    net.send((
        3,
        2,
        Message::Prepare {
            ballot: b(4, 3),
            from_slot: 1,
        },
    ));
    net.take();
    net.request(1, 1, 0, write(1, 5));
    let prepares = net.take();
    for m in prepares {
        net.send(m);
    }
    let sent = net.take();
    assert_eq!(
        sent.iter().map(|(f, t, m)| (*f, *t, m.to_string())).collect::<Vec<_>>(),
        vec![
            (2, 1, "Nack b=1.1 promised=4.3".to_string()),
            (3, 1, "Promise b=1.1 accepted=[]".to_string())
        ]
    );
    net.send(sent[0].clone());
    assert_eq!(net.node(1).phase(), Phase::Backoff);
    assert_eq!(
        net.timers.last(),
        Some(&(1, RETRY_TIMER, Some(5_000))),
        "the fixed back-off"
    );
    net.timer(1, RETRY_TIMER);
    assert_eq!(net.node(1).ballot(), b(5, 1));
    net.deliver();
    assert_eq!(net.learned_value(3, 1), Some(client_value(1, 0, write(1, 5))));
    net.assert_safe();
}

#[test]
fn a_random_back_off_grows_with_preemptions_in_a_row() {
    // Section 2.4: randomness breaks the symmetry of dueling proposers.
    let mut net = Net::new(3, PaxosParams::default());
    net.request(1, 1, 0, write(1, 5));
    net.take();
    let mut caps = Vec::new();
    for k in 0..8u32 {
        let ballot = net.node(1).ballot();
        net.send((
            2,
            1,
            Message::Nack {
                ballot,
                promised: b(ballot.round + 1, 2),
            },
        ));
        let Some(&(1, RETRY_TIMER, Some(after))) = net.timers.last() else {
            panic!("no back-off");
        };
        let cap = 5_000u64 << k.min(6);
        assert!(after <= cap, "back-off {after} above its cap {cap}");
        caps.push(cap);
        net.timer(1, RETRY_TIMER);
        net.take();
    }
    assert_eq!(
        net.node(1).ballot().round,
        17,
        "each retry goes above the promise it met"
    );
}

#[test]
fn an_acceptor_refuses_an_accept_below_its_promise() {
    // P1a: "an acceptor can accept a proposal numbered n iff it has not responded to a prepare
    // request having a number greater than n".
    let mut net = Net::new(3, PaxosParams::default());
    net.send((
        3,
        2,
        Message::Prepare {
            ballot: b(2, 3),
            from_slot: 1,
        },
    ));
    net.take();
    net.request(1, 1, 0, write(1, 5));
    net.take();
    net.send((
        1,
        2,
        Message::Accept {
            ballot: b(1, 1),
            slot: 1,
            value: client_value(1, 0, write(1, 5)),
        },
    ));
    assert_eq!(
        net.take().iter().map(|m| m.2.to_string()).collect::<Vec<_>>(),
        vec!["Nack b=1.1 promised=2.3"]
    );
    assert_eq!(net.node(2).accepted(1), None);
    net.assert_safe();
}

/// Two values chosen when acceptors accept below their promise: n3 completes phase 1 on
/// n2, n3, n4 and gets y chosen; n1's stale Accept of x then lands on n2, n4 (and n1).
fn stale_accept_after_a_promise(variant: Variant) -> Net {
    let mut net = Net::new(5, with(|p| p.variant = variant));
    net.isolated.extend([4, 5]);
    net.request(1, 1, 0, write(1, 1));
    // n1's phase 1 on n1, n2, n3; its Accepts are held back.
    let prepares = net.take();
    for m in prepares {
        net.send(m);
    }
    let promises = net.take();
    for m in promises {
        net.send(m);
    }
    let stale: Vec<Sent> = net
        .take()
        .into_iter()
        .filter(|m| matches!(m.2, Message::Accept { .. }))
        .collect();
    net.isolated = [1, 5].into();
    net.request(3, 2, 0, write(1, 2));
    net.deliver();
    net.isolated = [3, 5].into();
    for (from, to, msg) in stale {
        net.send((from, to, msg.clone()));
        if to == 2 {
            net.send((from, 4, msg));
        }
    }
    net.deliver();
    net
}

#[test]
fn the_broken_accept_lower_ballot_chooses_two_values() {
    let net = stale_accept_after_a_promise(Variant::Correct);
    assert_eq!(net.node(2).accepted(1).map(|a| a.0), Some(b(2, 3)));
    net.assert_safe();
    let net = stale_accept_after_a_promise(Variant::AcceptLowerBallot);
    assert_eq!(net.node(2).accepted(1).map(|a| a.0), Some(b(1, 1)));
    assert!(net.properties_violated().contains(AGREEMENT), "{:#?}", net.violations);
}

#[test]
fn acceptor_state_survives_a_restart() {
    // Section 2.5: "An acceptor must remember this information even if it fails and then
    // restarts." So must the proposer's highest round and what the learner learned.
    let mut net = Net::new(3, PaxosParams::default());
    net.request(1, 1, 0, write(1, 5));
    net.deliver();
    net.send((
        3,
        2,
        Message::Prepare {
            ballot: b(7, 3),
            from_slot: 1,
        },
    ));
    net.take();
    let before = net.node(2).stable();
    net.crash(2);
    net.restart(2);
    assert_eq!(net.node(2).stable(), before);
    assert_eq!(net.node(2).promised(), b(7, 3));
    assert_eq!(net.node(2).kv().get(1), Some(5), "the state machine is rebuilt");
    assert_eq!(net.node(1).stable().round, 1);
    // A restarted proposer starts above the rounds it used.
    net.crash(1);
    net.restart(1);
    net.step(1, |p, c| p.force_timeout(c));
    net.assert_safe();
}

/// n1 completes phase 1 of ballot 1.1 with n4 and n5, and its Accepts of x are held back.
/// Then n3 completes phase 1 of ballot 1.3 with n2 and n4, and y is chosen by n2, n3, n4.
/// n4 crashes and restarts; n1's stale Accepts reach n4 and n5.
fn promise_across_a_restart(variant: Variant) -> Net {
    let mut net = Net::new(5, with(|p| p.variant = variant));
    net.isolated.extend([2, 3]);
    net.request(1, 1, 0, write(1, 1));
    let prepares = net.take();
    for m in prepares {
        net.send(m);
    }
    let promises = net.take();
    for m in promises {
        net.send(m);
    }
    let stale: Vec<Sent> = net
        .take()
        .into_iter()
        .filter(|m| matches!(m.2, Message::Accept { .. }))
        .collect();
    net.isolated = [1, 5].into();
    net.request(3, 2, 0, write(1, 2));
    net.deliver();
    assert_eq!(net.learned_value(2, 1), Some(client_value(2, 0, write(1, 2))));
    net.crash(4);
    net.restart(4);
    net.isolated = [2, 3].into();
    for m in stale {
        net.send(m);
    }
    net.deliver();
    net
}

#[test]
fn the_broken_forget_promise_on_restart_lets_a_stale_proposal_be_chosen() {
    let net = promise_across_a_restart(Variant::Correct);
    assert_eq!(net.node(4).promised(), b(1, 3));
    assert_eq!(
        net.node(4).accepted(1).map(|a| a.0),
        Some(b(1, 3)),
        "the stale Accept is refused"
    );
    net.assert_safe();
    let net = promise_across_a_restart(Variant::ForgetPromiseOnRestart);
    assert_eq!(net.node(4).accepted(1).map(|a| a.0), Some(b(1, 1)));
    assert!(net.properties_violated().contains(AGREEMENT), "{:#?}", net.violations);
    let detail = &net.violations[0].detail;
    assert!(
        detail.contains("chosen in ballot 1.3 by n2 n3 n4, but c1#0 write k1 1 was chosen in ballot 1.1 by n1 n4 n5"),
        "{detail}"
    );
}

#[test]
fn after_the_decision_reads_see_it_and_writes_are_refused() {
    let mut net = Net::new(3, PaxosParams::default());
    net.request(1, 1, 0, write(1, 5));
    net.deliver();
    net.replies.clear();
    net.request(3, 2, 0, Op::Read { key: 1 });
    net.request(3, 3, 0, Op::Cas { key: 1, from: 5, to: 6 });
    net.request(2, 1, 0, write(1, 5));
    assert_eq!(
        net.replies.iter().map(|r| r.2).collect::<Vec<_>>(),
        vec![
            ClientReply::Ok { value: Some(5) },
            ClientReply::CasFailed { current: Some(5) },
            ClientReply::Ok { value: None },
        ],
        "a read sees the decree, another write is refused, a retry of the decree's own request \
         gets its reply"
    );
    assert!(net.take().is_empty(), "no ballot is needed once the decree is known");
    net.assert_safe();
}

#[test]
fn dueling_proposers_with_a_fixed_back_off_keep_preempting_each_other() {
    // Section 2.4: "two proposers each keep issuing a sequence of proposals with increasing
    // numbers, none of which are ever chosen". Each delivery round, every message sent in
    // the previous round arrives, and the proposers retry at once: the same number of rounds
    // between their Prepares every time.
    let mut net = Net::new(3, with(|p| p.backoff = Backoff::Fixed));
    net.request(1, 1, 0, write(1, 1));
    net.request(2, 2, 0, write(1, 2));
    let mut rounds = Vec::new();
    for _ in 0..30 {
        let sent = net.take();
        for m in sent {
            net.send(m);
        }
        for id in [1, 2] {
            if net.node(id).phase() == Phase::Backoff {
                net.timer(id, RETRY_TIMER);
            }
        }
        rounds.push(net.node(1).ballot().round.max(net.node(2).ballot().round));
    }
    assert!(
        (1..=3).all(|id| net.node(id).learned(1).is_none()),
        "nothing is ever chosen"
    );
    assert!(rounds.last() > Some(&10), "ballots keep rising: {rounds:?}");
    net.assert_safe();
}

#[test]
fn a_distinguished_proposer_ends_the_duel() {
    // Section 2.4: "a distinguished proposer must be selected as the only one to try issuing
    // proposals". With a leader, the other proposer redirects its client.
    let mut net = Net::new(3, with(|p| p.leader = true));
    net.elect(1);
    net.request(1, 1, 0, write(1, 1));
    net.request(2, 2, 0, write(1, 2));
    net.deliver();
    assert_eq!(net.replies_to(2), vec![ClientReply::NotLeader { leader: Some(1) }]);
    assert_eq!(net.learned_value(2, 1), Some(client_value(1, 0, write(1, 1))));
    net.assert_safe();
}

#[test]
fn proposers_can_be_restricted() {
    let mut net = Net::new(3, with(|p| p.proposers = 0b100)); // n2 only
    net.request(1, 1, 0, write(1, 1));
    assert_eq!(net.replies_to(1), vec![ClientReply::NotLeader { leader: Some(2) }]);
    assert!(net.take().is_empty());
    net.assert_safe();
}

// ----- Multi-Paxos (section 3). -----

#[test]
fn a_leader_runs_phase_one_once_and_phase_two_per_command() {
    // Section 3: "the leader can execute phase 1 for infinitely many instances"; after that
    // each command costs only phase 2.
    let mut net = Net::new(3, multi());
    net.elect(2);
    assert_eq!(net.node(2).leader(), Some(2));
    assert_eq!(net.node(1).leader(), Some(2), "the heartbeat names the leader");
    for seq in 0..3 {
        net.request(2, 1, seq, write(1, seq));
        let sent = net.take();
        assert_eq!(kinds(&sent), vec!["Accept", "Accept"]);
        for m in sent {
            net.send(m);
        }
        net.deliver();
    }
    assert_eq!(net.node(2).chosen_prefix(), 3);
    for id in 1..=3 {
        assert_eq!(net.node(id).kv().get(1), Some(2), "n{id} applied every slot");
        assert_eq!(net.node(id).chosen_prefix(), 3);
    }
    net.assert_safe();
}

#[test]
fn a_follower_redirects_clients_to_the_leader() {
    let mut net = Net::new(3, multi());
    net.request(1, 1, 0, write(1, 1));
    net.elect(3);
    net.request(1, 2, 0, write(1, 1));
    assert_eq!(
        net.replies.iter().map(|r| r.2).collect::<Vec<_>>(),
        vec![
            ClientReply::NotLeader { leader: None },
            ClientReply::NotLeader { leader: Some(3) }
        ]
    );
}

#[test]
fn a_new_leader_adopts_accepted_values_and_fills_gaps_with_no_ops() {
    // Section 3: the new leader learns the accepted values of every slot in phase 1, proposes
    // the highest-numbered of each, and "fills in the gaps ... by proposing a special no-op
    // command". n1 leads; slot 2's Accepts are lost, slot 3's reach n2 only; n1 crashes.
    let mut net = Net::new(3, multi());
    net.elect(1);
    net.request(1, 1, 0, write(1, 1));
    net.deliver();
    net.request(1, 1, 1, write(1, 2));
    net.take();
    net.request(1, 1, 2, write(1, 3));
    let to2: Vec<Sent> = net.take().into_iter().filter(|m| m.1 == 2).collect();
    for m in to2 {
        net.send(m);
    }
    net.take();
    net.crash(1);
    net.elect(3);
    let n3 = net.node(3);
    assert_eq!(
        n3.learned(2).map(|l| l.1),
        Some(Command::Noop),
        "the gap became a no-op"
    );
    assert_eq!(n3.learned(3).map(|l| l.1), Some(client_value(1, 2, write(1, 3))));
    assert_eq!(n3.kv().get(1), Some(3));
    // The next command goes after them.
    net.request(3, 2, 0, Op::Read { key: 1 });
    net.deliver();
    assert_eq!(net.replies_to(2), vec![ClientReply::Ok { value: Some(3) }]);
    assert_eq!(net.node(3).chosen_prefix(), 4);
    net.assert_safe();
}

#[test]
fn a_stale_leader_is_deposed_by_a_refused_heartbeat() {
    let mut net = Net::new(3, multi());
    net.elect(1);
    net.isolated.insert(1);
    net.elect(2);
    net.isolated.clear();
    net.request(1, 1, 0, write(1, 1));
    net.timer(1, HEARTBEAT_TIMER);
    net.deliver();
    assert_eq!(net.node(1).role(), Role::FOLLOWER);
    assert_eq!(net.node(1).leader(), None);
    assert_eq!(net.replies_to(1), vec![ClientReply::NotLeader { leader: None }]);
    assert_eq!(net.node(3).learned(1), None, "the stale leader's proposal was refused");
    net.assert_safe();
}

#[test]
fn a_retried_request_is_applied_once() {
    // Sessions: a client that retries at a new leader, after its request was already
    // accepted under the old one, is answered once, with the first reply.
    let mut net = Net::new(3, multi());
    net.elect(1);
    net.request(1, 1, 0, Op::Cas { key: 1, from: 0, to: 1 });
    net.deliver();
    net.request(1, 7, 0, write(1, 0));
    net.deliver();
    net.request(1, 1, 1, Op::Cas { key: 1, from: 0, to: 1 });
    let to2: Vec<Sent> = net.take().into_iter().filter(|m| m.1 == 2).collect();
    for m in to2 {
        net.send(m);
    }
    net.take();
    net.crash(1);
    net.elect(2);
    net.replies.clear();
    net.request(2, 1, 1, Op::Cas { key: 1, from: 0, to: 1 });
    net.deliver();
    assert_eq!(net.replies_to(1), vec![ClientReply::Ok { value: Some(0) }]);
    let cas_slots = net
        .node(2)
        .learned_all()
        .values()
        .filter(|(_, v)| matches!(v, Command::Client(r) if r.client == 1 && r.seq == 1))
        .count();
    assert_eq!(cas_slots, 1, "the retry waited on the adopted slot");
    net.assert_safe();
}

#[test]
fn a_learner_that_missed_chosen_values_catches_up() {
    let mut net = Net::new(3, multi());
    net.elect(1);
    net.isolated.insert(3);
    for seq in 0..3 {
        net.request(1, 1, seq, write(1, seq));
        net.deliver();
    }
    net.isolated.clear();
    assert_eq!(net.node(3).chosen_prefix(), 0);
    // The first heartbeat shows n3 behind; it asks at the next one, not racing a Chosen.
    for _ in 0..2 {
        net.timer(1, HEARTBEAT_TIMER);
        net.deliver();
    }
    assert_eq!(net.node(3).chosen_prefix(), 3);
    assert_eq!(net.node(3).kv().get(1), Some(2));
    net.assert_safe();
}

#[test]
fn learned_values_survive_a_restart_and_are_applied_again() {
    let mut net = Net::new(3, multi());
    net.elect(1);
    net.request(1, 1, 0, write(1, 4));
    net.deliver();
    net.crash(2);
    net.notes.clear();
    net.restart(2);
    assert_eq!(net.node(2).kv().get(1), Some(4));
    assert_eq!(
        net.notes_of(2),
        vec![
            Note::Role {
                role: Role::FOLLOWER,
                term: 1
            },
            Note::Apply { index: 1, term: 1 }
        ]
    );
    net.assert_safe();
}

#[test]
fn a_single_node_cluster_chooses_alone() {
    for params in [PaxosParams::default(), multi()] {
        let mut net = Net::new(1, params.clone());
        if params.has_leader() {
            net.elect(1);
        }
        net.request(1, 1, 0, write(1, 4));
        assert_eq!(net.replies_to(1), vec![ClientReply::Ok { value: None }]);
        net.assert_safe();
    }
}

#[test]
fn forged_numbers_at_the_top_of_u64_do_not_panic() {
    for params in [PaxosParams::default(), multi()] {
        let mut net = Net::new(3, params);
        let top = b(u64::MAX, 3);
        net.send((
            3,
            1,
            Message::Prepare {
                ballot: top,
                from_slot: u64::MAX,
            },
        ));
        net.send((
            3,
            1,
            Message::Accept {
                ballot: top,
                slot: u64::MAX,
                value: Command::Noop,
            },
        ));
        net.send((3, 1, Message::CatchUp { from_slot: u64::MAX }));
        net.send((
            3,
            1,
            Message::Heartbeat {
                ballot: top,
                chosen: u64::MAX,
            },
        ));
        net.take();
        net.step(1, |p, c| p.force_timeout(c));
        net.timer(1, ELECTION_TIMER);
        net.timer(1, RETRY_TIMER);
        net.take();
    }
}

// ----- The trace's one-line forms. -----

#[test]
fn messages_print_as_one_line() {
    let v = client_value(1, 0, write(1, 5));
    let cases = [
        (
            Message::Prepare {
                ballot: b(3, 1),
                from_slot: 1,
            },
            "Prepare b=3.1",
        ),
        (
            Message::Prepare {
                ballot: b(3, 1),
                from_slot: 4,
            },
            "Prepare b=3.1 from=4",
        ),
        (
            Message::Promise {
                ballot: b(3, 1),
                accepted: vec![],
            },
            "Promise b=3.1 accepted=[]",
        ),
        (
            Message::Promise {
                ballot: b(3, 1),
                accepted: vec![(1, b(2, 2), v)],
            },
            "Promise b=3.1 accepted=[1@2.2:write k1 5]",
        ),
        (
            Message::Promise {
                ballot: b(3, 1),
                accepted: (1..=9).map(|s| (s, b(2, 2), Command::Noop)).collect(),
            },
            "Promise b=3.1 accepted=[1@2.2:noop, 2@2.2:noop, 3@2.2:noop, ..., 9@2.2:noop]",
        ),
        (
            Message::Accept {
                ballot: b(3, 1),
                slot: 4,
                value: v,
            },
            "Accept b=3.1 slot=4 write k1 5",
        ),
        (
            Message::Accepted {
                ballot: b(3, 1),
                slot: 4,
                value: Command::Noop,
            },
            "Accepted b=3.1 slot=4 noop",
        ),
        (
            Message::Nack {
                ballot: b(3, 1),
                promised: b(4, 2),
            },
            "Nack b=3.1 promised=4.2",
        ),
        (
            Message::Heartbeat {
                ballot: b(3, 1),
                chosen: 12,
            },
            "Heartbeat b=3.1 chosen=12",
        ),
        (Message::CatchUp { from_slot: 5 }, "CatchUp from=5"),
        (
            Message::Chosen {
                entries: vec![(5, b(3, 1), v)],
            },
            "Chosen [5@3.1:write k1 5]",
        ),
    ];
    for (msg, text) in cases {
        assert_eq!(msg.to_string(), text);
        assert!(text.starts_with(Paxos::msg_kind(&msg)), "{text}");
    }
}

#[test]
fn describe_gives_the_rest_of_the_state_in_one_line() {
    let mut net = Net::new(3, PaxosParams::default());
    assert_eq!(net.node(1).describe(), "promised=0.0 accepted=none learned=none kv={}");
    net.request(1, 1, 0, write(1, 5));
    net.deliver();
    assert_eq!(
        net.node(2).describe(),
        "promised=1.1 accepted=1.1:write k1 5 learned=write k1 5 kv={k1=5}"
    );
    let mut net = Net::new(3, multi());
    net.elect(1);
    net.request(1, 1, 0, write(1, 5));
    net.deliver();
    assert_eq!(
        net.node(2).describe(),
        "promised=1.1 accepted=[1@1.1] chosen=1 leader=n1 kv={k1=5}"
    );
}

// ----- The monitor can fail (each property, by hand). -----

fn node_with(id: NodeId, accepted: &[(Slot, Ballot, Command)], learned: &[(Slot, Command)]) -> Option<Paxos> {
    let mut stable = Stable::default();
    for &(slot, ballot, value) in accepted {
        stable.acceptor.accepted.insert(slot, (ballot, value));
    }
    for &(slot, value) in learned {
        stable.learned.insert(slot, (b(1, 1), value));
    }
    Some(Paxos::new(id, 3, &multi(), stable))
}

#[test]
fn monitor_reports_two_values_chosen_in_one_slot() {
    let x = Command::Noop;
    let y = client_value(1, 0, write(1, 1));
    let nodes = vec![
        node_with(1, &[(1, b(1, 1), x)], &[]),
        node_with(2, &[(1, b(1, 1), x)], &[]),
        node_with(3, &[(1, b(2, 3), y)], &[]),
    ];
    let append = |round| [Note::Append { index: 1, term: round }];
    let mut m = PaxosMonitor::default();
    let mut out = Vec::new();
    m.observe(1, &append(1), &nodes, &mut out);
    m.observe(2, &append(1), &nodes, &mut out);
    assert!(out.is_empty(), "one value chosen is fine");
    // n2 later accepts y in ballot 2.3 too: y is chosen by n2 and n3.
    let nodes = vec![
        nodes[0].clone(),
        node_with(2, &[(1, b(2, 3), y)], &[]),
        nodes[2].clone(),
    ];
    m.observe(3, &append(2), &nodes, &mut out);
    m.observe(2, &append(2), &nodes, &mut out);
    // Validity first: nobody took y from a client.
    assert_eq!(
        out.iter().map(|v| v.property).collect::<Vec<_>>(),
        vec![VALIDITY, AGREEMENT]
    );
    assert_eq!(
        out[1].detail,
        "slot 1: noop was chosen in ballot 1.1 by n1 n2, but c1#0 write k1 1 was chosen in ballot 2.3 by n2 n3"
    );
    assert_eq!(out[1].nodes, vec![1, 2, 3]);
    m.observe(2, &append(2), &nodes, &mut out);
    assert_eq!(out.len(), 2, "reported once");
}

#[test]
fn monitor_reports_learners_that_disagree_or_change_their_mind() {
    let x = Command::Noop;
    let y = client_value(1, 0, write(1, 1));
    let mut m = PaxosMonitor::default();
    let mut out = Vec::new();
    let commit = [Note::Commit { index: 1 }];
    let nodes = vec![node_with(1, &[], &[(1, x)]), node_with(2, &[], &[(1, y)]), None];
    m.observe(1, &commit, &nodes, &mut out);
    m.observe(2, &commit, &nodes, &mut out);
    assert_eq!(out.iter().map(|v| v.property).collect::<Vec<_>>(), vec![AGREEMENT]);
    // n1 now "learns" y where it had learned x.
    let nodes = vec![node_with(1, &[], &[(1, y)]), None, None];
    m.observe(1, &commit, &nodes, &mut out);
    assert_eq!(out[1].property, LEARNER_CONSISTENCY);
    assert_eq!(
        out[1].detail,
        "n1 learned c1#0 write k1 1 in slot 1, after learning another value there"
    );
}

#[test]
fn monitor_reports_applies_out_of_order_or_of_different_values() {
    let x = Command::Noop;
    let y = client_value(1, 0, write(1, 1));
    let mut m = PaxosMonitor::default();
    let mut out = Vec::new();
    let apply = |index| [Note::Apply { index, term: 1 }];
    let nodes = vec![
        node_with(1, &[], &[(1, x), (2, x), (3, x)]),
        node_with(2, &[], &[(1, y)]),
        None,
    ];
    m.observe(1, &apply(1), &nodes, &mut out);
    m.observe(1, &apply(3), &nodes, &mut out);
    m.observe(2, &apply(1), &nodes, &mut out);
    assert_eq!(
        out.iter().map(|v| (v.property, v.detail.as_str())).collect::<Vec<_>>(),
        vec![
            (LEARNER_CONSISTENCY, "n1 applied slot 3 right after slot 1"),
            (
                LEARNER_CONSISTENCY,
                "n1 applied noop in slot 1 but n2 applied c1#0 write k1 1"
            ),
        ]
    );
}

#[test]
fn monitor_names_its_properties() {
    assert_eq!(PaxosMonitor::properties(), &[AGREEMENT, VALIDITY, LEARNER_CONSISTENCY]);
}

#[test]
fn params_reach_the_nodes() {
    let mut p = PaxosParams::default();
    p.set("mode", "multi").unwrap();
    let net = Net::new(3, p);
    assert_eq!(net.node(1).mode(), Mode::Multi);
    assert!(
        net.node(1).election_deadline_us().is_some(),
        "a Multi-Paxos proposer runs an election timer"
    );
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_two_quorums_intersect(n in 1u8..=9) {
            prop_assert!(2 * quorum(n) > u32::from(n));
        }

        /// Random interleavings of up to three proposers, with reordering, losses, timeouts
        /// and crashes, never choose two values in a slot (the whole point of section 2.2),
        /// in single-decree mode with and without a leader, and in Multi-Paxos.
        #[test]
        fn random_interleavings_choose_at_most_one_value_per_slot(
            choices in proptest::collection::vec(0u8..=255, 1..400),
            mode in 0u8..3,
        ) {
            let mut net = Net::new(3, with(|p| {
                p.leader = mode == 1;
                p.mode = if mode == 2 { Mode::Multi } else { Mode::Single };
            }));
            for (i, &c) in choices.iter().enumerate() {
                match c % 8 {
                    0..=3 if !net.queue.is_empty() => {
                        let k = usize::from(c / 8) % net.queue.len();
                        if let Some(m) = net.queue.remove(k) {
                            net.send(m);
                        }
                    }
                    4 if !net.queue.is_empty() => {
                        net.queue.pop_front();
                    }
                    5 => {
                        let id = c / 8 % 3 + 1;
                        if net.nodes[slot_of(id)].is_some() {
                            net.request(id, u32::from(id), i as u64, write(1, i as u64));
                        }
                    }
                    6 => {
                        let id = c / 8 % 3 + 1;
                        let kind = [ELECTION_TIMER, HEARTBEAT_TIMER, RETRY_TIMER][usize::from(c / 32) % 3];
                        net.timer(id, kind);
                    }
                    _ => {
                        let id = c / 8 % 3 + 1;
                        if net.nodes[slot_of(id)].is_some() {
                            net.crash(id);
                        } else {
                            net.restart(id);
                        }
                    }
                }
            }
            prop_assert!(net.violations.is_empty(), "{:#?}", net.violations);
        }
    }
}
