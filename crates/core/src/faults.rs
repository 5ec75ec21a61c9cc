//! Random fault schedules for seed sweeps, as ordinary scripts.
//!
//! A sweep is many runs of `random_script(seed)`: the seed decides both the schedule and the
//! run, so a failing seed is reproduced by its one line (`deepend run` on the printed script).
//! The schedule mixes every fault the engine knows under steady client load, then heals and
//! restarts everything for the last two seconds so that liveness can be observed at the end.
//!
//! [`churn`] is an adversary that reads the run as it goes: every 20-250 ms it crashes a
//! leader or another node, restarts one, partitions, heals or forces a timeout. It acts
//! through [`Sim::act`], so the run's own script records every action and replays it exactly.
//! Bugs that need a leader to die at the wrong moment (a forgotten vote, an early commit)
//! show up under churn in seeds that the random schedule never finds.

use crate::protocol::{Op, Protocol};
use crate::rng::SimRng;
use crate::script::{Action, Header, Script, TimedAction};
use crate::sim::{NodeStatus, Sim};
use crate::{NodeId, SimTime};

/// How a sweep run is shaped.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    pub protocol: String,
    pub nodes: u8,
    pub duration_us: u64,
    /// Extra `set` lines (e.g. a broken variant).
    pub settings: Vec<(String, String)>,
    /// Client operations per second for the whole run.
    pub load_per_sec: u32,
    /// Drive the run with the [`churn`] adversary instead of a random schedule.
    pub churn: bool,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan {
            protocol: "raft".into(),
            nodes: 5,
            duration_us: 10_000_000,
            settings: Vec::new(),
            load_per_sec: 20,
            churn: false,
        }
    }
}

/// Stream of the fault schedule: apart from every stream the run itself draws from.
const FAULT_STREAM_NODE: NodeId = 200;
/// Stream of the churn adversary.
const CHURN_STREAM_NODE: NodeId = 201;
/// Both plans end with this much calm: faults healed, nodes restarted.
const CALM_US: u64 = 2_000_000;

/// Sweep run `seed` of `plan`, run to its end (or, under churn, to its first violation).
pub fn run<P: Protocol>(plan: &FaultPlan, seed: u64, trace: bool) -> Result<Sim<P>, String> {
    if plan.churn {
        let mut sim = Sim::<P>::with_trace(&adversary_start(plan, seed), trace)?;
        churn(&mut sim, seed, plan.duration_us);
        Ok(sim)
    } else {
        let mut sim = Sim::<P>::with_trace(&random_script(plan, seed), trace)?;
        sim.run_until(SimTime(plan.duration_us));
        Ok(sim)
    }
}

/// The script of sweep run `seed`.
pub fn random_script(plan: &FaultPlan, seed: u64) -> Script {
    let mut rng = SimRng::for_node(seed, FAULT_STREAM_NODE);
    let n = plan.nodes.max(1);
    let node = |rng: &mut SimRng| rng.range_inclusive(1, u64::from(n)) as NodeId;
    let mut actions = vec![TimedAction {
        at: SimTime::ZERO,
        action: Action::Load {
            per_sec: plan.load_per_sec,
            clients: 3,
            keys: 3,
        },
    }];
    let calm_from = plan.duration_us.saturating_sub(CALM_US);
    let mut t = rng.range_inclusive(200_000, 800_000);
    while t < calm_from {
        let action = match rng.range_inclusive(0, 99) {
            0..20 => {
                let islands = rng.range_inclusive(2, 3);
                let mut groups = vec![Vec::new(); islands as usize];
                for id in 1..=n {
                    groups[rng.range_inclusive(0, islands - 1) as usize].push(id);
                }
                groups.retain(|g| !g.is_empty());
                Action::Partition(groups)
            }
            20..35 => Action::Heal,
            35..50 => Action::Crash(node(&mut rng)),
            50..65 => Action::Restart(node(&mut rng)),
            65..75 => Action::Pause {
                node: node(&mut rng),
                for_us: Some(rng.range_inclusive(50_000, 800_000)),
            },
            75..80 => {
                let (from, to) = (node(&mut rng), node(&mut rng));
                let both = rng.range_inclusive(0, 1) == 1;
                if from == to {
                    Action::Heal
                } else {
                    Action::Cut { from, to, both }
                }
            }
            80..85 => Action::Loss {
                ppm: rng.range_inclusive(0, 200_000) as u32,
            },
            85..90 => Action::Dup {
                ppm: rng.range_inclusive(0, 50_000) as u32,
            },
            90..95 => Action::Skew {
                node: node(&mut rng),
                offset_us: rng.range_inclusive(0, 100_000) as i64 - 50_000,
                drift_ppm: rng.range_inclusive(0, 20_000) as i32 - 10_000,
            },
            _ => Action::Timeout(node(&mut rng)),
        };
        actions.push(TimedAction { at: SimTime(t), action });
        t += rng.range_inclusive(100_000, 1_200_000);
    }
    let calm = SimTime(calm_from);
    actions.push(TimedAction {
        at: calm,
        action: Action::Heal,
    });
    actions.push(TimedAction {
        at: calm,
        action: Action::Loss { ppm: 0 },
    });
    actions.push(TimedAction {
        at: calm,
        action: Action::Dup { ppm: 0 },
    });
    for id in 1..=n {
        actions.push(TimedAction {
            at: calm,
            action: Action::Restart(id),
        });
        actions.push(TimedAction {
            at: calm,
            action: Action::Resume(id),
        });
    }
    // One last write after the calm begins, to observe the time to commit after a heal.
    let write = Op::Write {
        key: 0,
        value: u64::MAX,
    };
    actions.push(TimedAction {
        at: calm,
        action: Action::Request {
            client: 1,
            op: write,
            node: None,
        },
    });
    Script {
        header: Header {
            protocol: plan.protocol.clone(),
            nodes: n,
            seed,
            settings: plan.settings.clone(),
        },
        actions,
    }
}

/// The opening script of a run that an adversary drives as it goes: the plan's header and its
/// client load.
pub fn adversary_start(plan: &FaultPlan, seed: u64) -> Script {
    let load = Action::Load {
        per_sec: plan.load_per_sec,
        clients: 3,
        keys: 2,
    };
    Script {
        header: Header {
            protocol: plan.protocol.clone(),
            nodes: plan.nodes.max(1),
            seed,
            settings: plan.settings.clone(),
        },
        actions: vec![TimedAction {
            at: SimTime::ZERO,
            action: load,
        }],
    }
}

/// Drives `sim` with the churn adversary until the calm before `duration_us`, then calms it
/// ([`calm`]). It stops early at the first violation, leaving the run where it broke.
pub fn churn<P: Protocol>(sim: &mut Sim<P>, seed: u64, duration_us: u64) {
    let nodes = sim.node_count();
    let mut rng = SimRng::for_node(seed, CHURN_STREAM_NODE);
    let pick = |rng: &mut SimRng, of: &[NodeId]| of[rng.range_inclusive(0, of.len() as u64 - 1) as usize];
    let mut t = 0;
    while t < duration_us.saturating_sub(CALM_US) && sim.violations().is_empty() {
        t += rng.range_inclusive(20_000, 250_000);
        sim.run_until(SimTime(t));
        let up: Vec<NodeId> = (1..=nodes).filter(|&id| sim.status(id) == NodeStatus::Up).collect();
        let down: Vec<NodeId> = (1..=nodes)
            .filter(|&id| sim.status(id) == NodeStatus::Crashed)
            .collect();
        let leaders: Vec<NodeId> = up
            .iter()
            .copied()
            .filter(|&id| sim.node(id).is_some_and(|p| p.role().leads))
            .collect();
        let action = match rng.range_inclusive(0, 99) {
            // Crash a leader (most likely right after it appended something).
            0..30 if !leaders.is_empty() && up.len() > 1 => Action::Crash(pick(&mut rng, &leaders)),
            0..40 if up.len() > 1 => Action::Crash(pick(&mut rng, &up)),
            0..65 if !down.is_empty() => Action::Restart(pick(&mut rng, &down)),
            65..75 => {
                let mut islands = vec![Vec::new(), Vec::new()];
                for id in 1..=nodes {
                    islands[rng.range_inclusive(0, 1) as usize].push(id);
                }
                islands.retain(|g| !g.is_empty());
                Action::Partition(islands)
            }
            75..85 => Action::Heal,
            85..95 if !up.is_empty() => Action::Timeout(pick(&mut rng, &up)),
            _ => continue,
        };
        sim.act(action);
    }
    calm(sim, duration_us);
}

/// Heals the network, restarts every crashed node and runs to `duration_us`, so that the run
/// settles and its history can be checked; a run that already broke is left where it broke.
pub fn calm<P: Protocol>(sim: &mut Sim<P>, duration_us: u64) {
    if !sim.violations().is_empty() {
        return;
    }
    sim.act(Action::Heal);
    for id in 1..=sim.node_count() {
        if sim.status(id) == NodeStatus::Crashed {
            sim.act(Action::Restart(id));
        }
    }
    sim.run_until(SimTime(duration_us));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_are_reproducible_sorted_and_in_range() {
        let plan = FaultPlan::default();
        for seed in 0..50 {
            let a = random_script(&plan, seed);
            assert_eq!(a, random_script(&plan, seed));
            assert!(a.actions.windows(2).all(|w| w[0].at <= w[1].at));
            assert!(a.actions.iter().all(|a| a.at.as_us() <= plan.duration_us));
        }
        assert_ne!(random_script(&plan, 1), random_script(&plan, 2));
    }
}
