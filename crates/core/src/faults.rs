//! Random fault schedules for seed sweeps, as ordinary scripts.
//!
//! A sweep is many runs of `random_script(seed)`: the seed decides both the schedule and the
//! run, so a failing seed is reproduced by its one line (`deepend run` on the printed script).
//! The schedule mixes every fault the engine knows under steady client load, then heals and
//! restarts everything for the last two seconds so that liveness can be observed at the end.

use crate::protocol::Op;
use crate::rng::SimRng;
use crate::script::{Action, Header, Script, TimedAction};
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
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan {
            protocol: "raft".into(),
            nodes: 5,
            duration_us: 10_000_000,
            settings: Vec::new(),
            load_per_sec: 20,
        }
    }
}

/// Stream of the fault schedule: apart from every stream the run itself draws from.
const FAULT_STREAM_NODE: NodeId = 200;

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
    let calm_from = plan.duration_us.saturating_sub(2_000_000);
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
