//! The simulated clients: operations invoked by the script or by a random load, sent to a
//! node, retried on a timeout or a redirect, and recorded in the client history.
//!
//! The clients' state ([`Clients`]) lives in the engine's checkpointed world, so a seek
//! restores it with everything else. The clients act on the run only through an [`Engine`]:
//! it tells them the time and the cluster's size, carries their requests over the network,
//! queues their own timed events ([`Wake`]) and records what they put in the trace and the
//! history. The engine hands them back the replies that arrive and the events that fall due.
//!
//! A client has at most one operation outstanding; further operations wait in its queue. Its
//! history process (Jepsen's) is numbered on its own: a client that gives up on an operation
//! continues under a new process, because the abandoned operation may still take effect.

use crate::history::{Event as HistoryEvent, EventKind as Outcome};
use crate::protocol::{ClientReply, ClientRequest, Op};
use crate::rng::SimRng;
use crate::time::{MAX_SETTING_US, MIN_TIMER_US, parse_duration_within};
use crate::trace::EventKind;
use crate::workload::{Answer, Workload};
use crate::{ClientId, NodeId, SimTime, Value};
use std::collections::{BTreeMap, VecDeque};

/// Client ids from here up belong to the random load generator.
pub const LOAD_CLIENT_BASE: ClientId = 100;

/// Most tries of one client operation a `set client-attempts` line may ask for.
pub const MAX_CLIENT_ATTEMPTS: u32 = 100;

/// What the clients need from the engine while they act.
pub(crate) trait Engine {
    /// Simulated time now.
    fn now(&self) -> SimTime;
    /// The number of nodes, 1..=n.
    fn node_count(&self) -> u8;
    /// Appends an event to the trace.
    fn trace(&mut self, node: NodeId, kind: EventKind);
    /// Appends an event to the client history.
    fn record(&mut self, event: HistoryEvent);
    /// Sends `req` to node `target` over the network (which may lose it).
    fn send(&mut self, target: NodeId, req: ClientRequest);
    /// Queues `wake` to be handed back to [`Clients::wake`] at `at`.
    fn wake(&mut self, at: SimTime, wake: Wake);
}

/// A timed event of the clients, queued by the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// Attempt `attempt` of operation `seq` got no answer in time.
    Timeout { client: ClientId, seq: u64, attempt: u32 },
    /// The back-off after a redirect to no known leader is over.
    Retry { client: ClientId, seq: u64, attempt: u32 },
    /// The random load's next operation is due (void unless `generation` is current).
    LoadTick { generation: u32 },
}

/// The clients' `set` lines: `client-timeout` and `client-attempts`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientSettings {
    timeout_us: u64,
    max_attempts: u32,
    backoff_us: u64,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            timeout_us: 600_000,
            max_attempts: 10,
            backoff_us: 50_000,
        }
    }
}

impl ClientSettings {
    /// Sets `key` if it is a client setting (`None` if it is not); the error says what was
    /// expected.
    pub(crate) fn set(&mut self, key: &str, value: &str) -> Option<Result<(), String>> {
        let result = match key {
            "client-timeout" => {
                parse_duration_within(value, MIN_TIMER_US, MAX_SETTING_US).map(|us| self.timeout_us = us)
            }
            "client-attempts" => value
                .parse::<u32>()
                .map_err(|_| format!("\"{value}\" is not a number of attempts"))
                .and_then(|a| match a {
                    0..=MAX_CLIENT_ATTEMPTS => Ok(a),
                    _ => Err(format!("{a} is above the maximum {MAX_CLIENT_ATTEMPTS}")),
                })
                .map(|a| self.max_attempts = a.max(1)),
            _ => return None,
        };
        Some(result)
    }
}

#[derive(Clone, Debug)]
struct Pending {
    req: ClientRequest,
    attempt: u32,
    target: NodeId,
    /// The history process the operation was invoked under.
    process: ClientId,
}

#[derive(Clone, Debug, Default)]
struct Client {
    next_seq: u64,
    /// The client's process in the history (Jepsen's), `None` until it next invokes. It is
    /// dropped when the client gives up on an operation: like a crashed Jepsen process, the
    /// client continues under a new process, because the abandoned operation may still take
    /// effect at any later time.
    process: Option<ClientId>,
    pending: Option<Pending>,
    leader: Option<NodeId>,
    queue: VecDeque<(Op, Option<NodeId>)>,
}

#[derive(Clone, Copy, Debug)]
struct Load {
    per_sec: u32,
    clients: u32,
    keys: u32,
    generation: u32,
}

impl Load {
    fn interval_us(self) -> u64 {
        (1_000_000 / u64::from(self.per_sec.max(1))).max(1)
    }
}

/// Every simulated client of a run, and the random load, of workload `W`.
#[derive(Clone, Debug)]
pub(crate) struct Clients<W> {
    settings: ClientSettings,
    clients: BTreeMap<ClientId, Client>,
    /// The next history process to hand out. Processes are numbered on their own, never from
    /// client ids, so that no two clients can ever share one.
    next_process: ClientId,
    /// The clients' own random stream (the load's choices).
    rng: SimRng,
    load: Option<Load>,
    load_generation: u32,
    /// The load's own state.
    workload: W,
}

impl<W: Workload<Op = Op, Reply = ClientReply>> Clients<W> {
    pub(crate) fn new(settings: ClientSettings, rng: SimRng) -> Self {
        Clients {
            settings,
            clients: BTreeMap::new(),
            next_process: 1,
            rng,
            load: None,
            load_generation: 0,
            workload: W::default(),
        }
    }

    /// Client `client` wants `op` done, by `node` if given; it waits for the client's
    /// earlier operations.
    pub(crate) fn request(&mut self, io: &mut impl Engine, client: ClientId, op: Op, node: Option<NodeId>) {
        let c = self.clients.entry(client).or_default();
        c.queue.push_back((op, node));
        if c.pending.is_none() {
            self.invoke_next(io, client);
        }
    }

    /// Starts (or with a zero stops) the random load: `per_sec` operations a second from
    /// `clients` clients on `keys` keys. It replaces any load running.
    pub(crate) fn set_load(&mut self, io: &mut impl Engine, per_sec: u32, clients: u32, keys: u32) {
        self.load_generation = self.load_generation.wrapping_add(1);
        let generation = self.load_generation;
        self.load = (per_sec > 0 && clients > 0 && keys > 0).then_some(Load {
            per_sec,
            clients,
            keys,
            generation,
        });
        if let Some(load) = self.load {
            io.wake(
                io.now().saturating_add_us(load.interval_us()),
                Wake::LoadTick { generation },
            );
        }
    }

    /// A timed event of the clients fell due.
    pub(crate) fn wake(&mut self, io: &mut impl Engine, wake: Wake) {
        match wake {
            Wake::Timeout { client, seq, attempt } => {
                if let Some(p) = self.pending(client, seq, attempt) {
                    io.trace(p.target, EventKind::ClientTimeout { client });
                    self.retry(io, client, next_node(io, p.target));
                }
            }
            Wake::Retry { client, seq, attempt } => {
                if let Some(p) = self.pending(client, seq, attempt) {
                    self.retry(io, client, next_node(io, p.target));
                }
            }
            Wake::LoadTick { generation } => self.load_tick(io, generation),
        }
    }

    /// Node `node`'s reply to `req` reached its client.
    pub(crate) fn on_reply(&mut self, io: &mut impl Engine, node: NodeId, req: ClientRequest, reply: ClientReply) {
        let Some(c) = self.clients.get_mut(&req.client) else {
            return;
        };
        let Some(p) = c.pending.as_ref() else { return };
        if p.req.seq != req.seq {
            return;
        }
        match W::answer(&req.op, &reply) {
            Answer::Done { outcome, read } => {
                c.leader = Some(node);
                self.complete(io, req.client, outcome, read);
            }
            Answer::Redirect { leader } => {
                c.leader = leader;
                let attempt = p.attempt;
                match leader {
                    Some(l) if l != node => self.retry(io, req.client, l),
                    _ => {
                        let at = io.now().saturating_add_us(self.settings.backoff_us);
                        let (client, seq) = (req.client, req.seq);
                        io.wake(at, Wake::Retry { client, seq, attempt });
                    }
                }
            }
        }
    }

    fn invoke_next(&mut self, io: &mut impl Engine, client: ClientId) {
        let n = io.node_count();
        let Some(c) = self.clients.get_mut(&client) else {
            return;
        };
        let Some((op, node)) = c.queue.pop_front() else { return };
        let process = *c.process.get_or_insert_with(|| {
            let process = self.next_process;
            self.next_process = process.wrapping_add(1);
            process
        });
        let seq = c.next_seq;
        c.next_seq += 1;
        // First try: the node asked for, else the leader the client last heard of, else a
        // node chosen by client number so that clients spread out.
        let target = node.or(c.leader).unwrap_or((client % u32::from(n)) as NodeId + 1);
        let req = ClientRequest { client, seq, op };
        c.pending = Some(Pending {
            req,
            attempt: 0,
            target,
            process,
        });
        io.record(HistoryEvent {
            time_us: io.now().as_us(),
            client: process,
            kind: Outcome::Invoke,
            op,
            read: None,
        });
        io.trace(0, EventKind::Invoke { client, op });
        self.retry(io, client, target);
    }

    /// Sends the client's pending request (again) to `target`, or gives up when out of tries.
    fn retry(&mut self, io: &mut impl Engine, client: ClientId, target: NodeId) {
        let max = self.settings.max_attempts;
        let Some(p) = self.clients.get_mut(&client).and_then(|c| c.pending.as_mut()) else {
            return;
        };
        if p.attempt >= max {
            self.complete(io, client, Outcome::Info, None);
            return;
        }
        p.attempt += 1;
        p.target = target;
        let (req, attempt) = (p.req, p.attempt);
        io.trace(target, EventKind::ClientSend { client, attempt });
        io.send(target, req);
        let at = io.now().saturating_add_us(self.settings.timeout_us);
        let seq = req.seq;
        io.wake(at, Wake::Timeout { client, seq, attempt });
    }

    /// The client's pending request if it is still operation `seq` at attempt `attempt`.
    fn pending(&self, client: ClientId, seq: u64, attempt: u32) -> Option<Pending> {
        let p = self.clients.get(&client)?.pending.as_ref()?;
        (p.req.seq == seq && p.attempt == attempt).then(|| p.clone())
    }

    fn complete(&mut self, io: &mut impl Engine, client: ClientId, outcome: Outcome, read: Option<Value>) {
        let Some(c) = self.clients.get_mut(&client) else {
            return;
        };
        let Some(p) = c.pending.take() else { return };
        if outcome == Outcome::Info {
            c.process = None;
            c.leader = None;
        }
        self.workload.completed(&p.req.op, outcome);
        io.record(HistoryEvent {
            time_us: io.now().as_us(),
            client: p.process,
            kind: outcome,
            op: p.req.op,
            read,
        });
        io.trace(0, EventKind::Return { client, outcome });
        self.invoke_next(io, client);
    }

    fn load_tick(&mut self, io: &mut impl Engine, generation: u32) {
        let Some(load) = self.load.filter(|l| l.generation == generation) else {
            return;
        };
        let first = u64::from(self.rng.range_inclusive(0, u64::from(load.clients - 1)) as u32);
        // The first idle client at or after a random one takes the operation; when all are
        // busy the tick is skipped, as a closed-loop client would.
        let idle = (0..u64::from(load.clients))
            .map(|k| LOAD_CLIENT_BASE + ((first + k) % u64::from(load.clients)) as ClientId)
            .find(|id| self.clients.get(id).is_none_or(|c| c.pending.is_none()));
        let op = self.workload.generate(&mut self.rng, load.keys, idle.is_some());
        if let (Some(client), Some(op)) = (idle, op) {
            self.request(io, client, op, None);
        }
        io.wake(
            io.now().saturating_add_us(load.interval_us()),
            Wake::LoadTick { generation },
        );
    }
}

/// The node a client tries after `after`, round the cluster.
fn next_node(io: &impl Engine, after: NodeId) -> NodeId {
    after % io.node_count() + 1
}

#[cfg(test)]
mod tests {
    //! The clients on their own, against an engine that writes down what they ask of it.

    use super::*;
    use crate::workload::Registers;

    #[derive(Default)]
    struct Recorder {
        now: SimTime,
        sent: Vec<(NodeId, ClientRequest)>,
        wakes: Vec<(SimTime, Wake)>,
        history: Vec<HistoryEvent>,
    }

    impl Engine for Recorder {
        fn now(&self) -> SimTime {
            self.now
        }
        fn node_count(&self) -> u8 {
            3
        }
        fn trace(&mut self, _: NodeId, _: EventKind) {}
        fn record(&mut self, event: HistoryEvent) {
            self.history.push(event);
        }
        fn send(&mut self, target: NodeId, req: ClientRequest) {
            self.sent.push((target, req));
        }
        fn wake(&mut self, at: SimTime, wake: Wake) {
            self.wakes.push((at, wake));
        }
    }

    #[test]
    fn a_redirect_to_no_leader_backs_off_then_tries_the_next_node() {
        let mut io = Recorder::default();
        let mut clients = Clients::<Registers>::new(ClientSettings::default(), SimRng::for_clients(1));
        let op = Op::Read { key: 1 };
        clients.request(&mut io, 7, op, Some(2));
        let req = ClientRequest { client: 7, seq: 0, op };
        assert_eq!(io.sent, vec![(2, req)]);
        let timeout = Wake::Timeout {
            client: 7,
            seq: 0,
            attempt: 1,
        };
        assert_eq!(io.wakes, vec![(SimTime(600_000), timeout)]);

        io.now = SimTime(20_000);
        clients.on_reply(&mut io, 2, req, ClientReply::NotLeader { leader: None });
        assert_eq!(io.sent.len(), 1, "no resend before the back-off");
        let (at, retry) = io.wakes[1];
        assert_eq!(at, SimTime(70_000));
        io.now = at;
        clients.wake(&mut io, retry);
        assert_eq!(io.sent[1], (3, req), "the next node round the cluster");

        // The first attempt's timeout is stale now, and an answer completes the operation.
        clients.wake(&mut io, timeout);
        assert_eq!(io.sent.len(), 2);
        clients.on_reply(&mut io, 3, req, ClientReply::Ok { value: Some(5) });
        let outcomes: Vec<(Outcome, Option<Value>)> = io.history.iter().map(|e| (e.kind, e.read)).collect();
        assert_eq!(outcomes, vec![(Outcome::Invoke, None), (Outcome::Ok, Some(5))]);
        // The client remembers who answered.
        clients.request(&mut io, 7, op, None);
        assert_eq!(io.sent[2].0, 3);
    }
}
