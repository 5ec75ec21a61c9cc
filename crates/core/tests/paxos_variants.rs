//! Seed sweeps over Paxos: every broken variant is caught, the correct protocol never is.
//!
//! Four configurations: single-decree Paxos as it starts (`single`), single-decree on a slow
//! network (`single-slow`: latency 20-200ms, phase timeout 500ms, so that the decision is
//! still being made when the faults begin), single-decree with a distinguished proposer
//! (`single-leader`), and Multi-Paxos (`multi`). Three kinds of run, from mild to pointed:
//!
//! - *planned*: `random_script`, the engine's fault plan (partitions, crashes, pauses, loss,
//!   duplication, skew, under client load): what a reader's faults look like;
//! - *churn*: from the first moment, every 20-250ms an adversary crashes a leader or another
//!   node, restarts one, partitions, heals or forces a timeout;
//! - *aimed*: an adversary that watches every event, cuts a proposer off the instant its own
//!   acceptor accepts a new proposal (so that the proposal comes back stale after the heal),
//!   and bounces (crashes and restarts) an acceptor the instant it promises a higher ballot.
//!
//! The adversaries act through [`Sim::act`], which writes every action into the run's
//! script, so a failing seed is reproduced exactly from `sim.script()`.
//!
//! How often each kind of run catches each broken variant (at the time of writing, seeds
//! 0..300, 3 nodes on even seeds and 5 on odd ones for churn and aimed runs; the planned runs
//! have 5 nodes). `print_catch_table` below prints this table again.
//!
//! | variant | config | planned | churn | aimed |
//! |---|---|---|---|---|
//! | ignore-promised-values | multi | 221 (first: seed 1) | 246 (seed 0) | 249 (seed 0) |
//! | | single-slow | 56 (seed 11) | 121 (seed 1) | 53 (seed 11) |
//! | | single | 0 | 77 (seed 2) | 17 (seed 8) |
//! | | single-leader | 0 | 4 (seed 213) | 5 (seed 6) |
//! | accept-lower-ballot | multi | 70 (seed 0) | 17 (seed 28) | 281 (seed 0) |
//! | | single-slow | 50 (seed 2) | 18 (seed 13) | 37 (seed 11) |
//! | | single | 0 | 0 | 0 |
//! | | single-leader | 0 | 1 (seed 217) | 8 (seed 13) |
//! | forget-promise-on-restart | multi | 0 | 0 | 182 (seed 0) |
//! | | single-slow | 0 | 0 | 9 (seed 36) |
//! | | single | 0 | 0 | 3 (seed 81) |
//! | | single-leader | 0 | 0 | 10 (seed 41) |
//!
//! Single-decree Paxos on the default network decides in its first 100ms, before the fault
//! plan's first fault, which is why the planned runs never catch it there: only a run that
//! disturbs the decision itself can. A forgotten promise only matters when a stale Accept
//! reaches the acceptor after its restart, which takes the aimed adversary. The correct
//! protocol showed no violation and only linearizable histories in all 3,600 runs of the same
//! seeds. The tests below run fewer seeds and bound the first catching seed generously, so
//! that a change which makes a broken variant hard to catch (or a monitor that stopped
//! looking) fails here.

use deepend_core::faults;
use deepend_core::lin::{self, Verdict};
use deepend_core::paxos::{Ballot, Paxos, monitor};
use deepend_core::protocol::Role;
use deepend_core::rng::SimRng;
use deepend_core::script::Action;
use deepend_core::sim::{NodeStatus, Sim};
use deepend_core::{NodeId, Protocol};

mod sweeps;

use sweeps::*;

/// An aimed run: an adversary that watches every event. It cuts a proposer off the instant
/// its own acceptor accepts a new proposal (so the proposal stays on it alone, and comes back
/// stale after the heal), bounces (crashes and restarts) an acceptor the instant it promises a
/// higher ballot, and every 50-300ms heals or restarts a node.
fn aimed(pairs: &[(&str, &str)], nodes: u8, seed: u64) -> Sim<Paxos> {
    let mut sim: Sim<Paxos> = start(pairs, nodes, seed);
    let mut rng = SimRng::for_node(seed, 202);
    // The (last accepted slot, promise) of each node when the adversary last looked.
    let mut seen = vec![(0, Ballot::ZERO); usize::from(nodes)];
    let mut next_repair_us = 0;
    while sim.now().as_us() < RUN_US - 2_000_000 && sim.violations().is_empty() && sim.step() {
        let up: Vec<NodeId> = (1..=nodes).filter(|&id| sim.status(id) == NodeStatus::Up).collect();
        let mut actions = Vec::new();
        for &id in &up {
            let Some(p) = sim.node(id) else { continue };
            let now = (p.accepted_all().last_key().unwrap_or(0), p.promised());
            let before = std::mem::replace(&mut seen[usize::from(id) - 1], now);
            if !actions.is_empty() || up.len() <= usize::from(nodes) / 2 {
                continue;
            }
            if p.role() == Role::LEADER && now.0 > before.0 && rng.range_inclusive(0, 99) < 90 {
                let rest: Vec<NodeId> = (1..=nodes).filter(|&x| x != id).collect();
                actions.push(Action::Partition(vec![vec![id], rest]));
            } else if p.role() != Role::LEADER && now.1 > before.1 && rng.range_inclusive(0, 99) < 50 {
                actions.push(Action::Crash(id));
                actions.push(Action::Restart(id));
            }
        }
        if actions.is_empty() && sim.now().as_us() >= next_repair_us {
            next_repair_us = sim.now().as_us() + rng.range_inclusive(50_000, 300_000);
            let down: Vec<NodeId> = (1..=nodes)
                .filter(|&id| sim.status(id) == NodeStatus::Crashed)
                .collect();
            actions.push(if !down.is_empty() && rng.range_inclusive(0, 1) == 0 {
                Action::Restart(down[rng.range_inclusive(0, down.len() as u64 - 1) as usize])
            } else {
                Action::Heal
            });
        }
        for action in actions {
            sim.act(action);
        }
    }
    faults::calm(&mut sim, RUN_US);
    sim
}

const SINGLE: &[(&str, &str)] = &[];
const SINGLE_SLOW: &[(&str, &str)] = &[("latency", "20ms..200ms"), ("phase-timeout", "500ms")];
const SINGLE_LEADER: &[(&str, &str)] = &[("leader", "on")];
const MULTI: &[(&str, &str)] = &[("mode", "multi")];
const CONFIGS: [(&str, &[(&str, &str)]); 4] = [
    ("single", SINGLE),
    ("single-slow", SINGLE_SLOW),
    ("single-leader", SINGLE_LEADER),
    ("multi", MULTI),
];

fn with_variant<'a>(config: &[(&'a str, &'a str)], variant: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut pairs = config.to_vec();
    pairs.push(("variant", variant));
    pairs
}

#[test]
fn correct_paxos_is_safe_and_linearizable_under_the_fault_plan() {
    for (_, config) in CONFIGS {
        for seed in 0..100 {
            assert_correct(&planned::<Paxos>(config, seed), seed);
        }
    }
}

#[test]
fn correct_paxos_is_safe_and_linearizable_under_churn() {
    for (_, config) in CONFIGS {
        for seed in 0..100 {
            assert_correct(&churn::<Paxos>(config, nodes_of(seed), seed), seed);
        }
    }
}

#[test]
fn correct_paxos_is_safe_and_linearizable_under_the_aimed_adversary() {
    for (_, config) in CONFIGS {
        for seed in 0..100 {
            assert_correct(&aimed(config, nodes_of(seed), seed), seed);
        }
    }
}

#[test]
fn correct_paxos_makes_progress_after_the_calm() {
    // Not a safety property, but a sweep of runs that never choose anything proves nothing.
    for seed in 0..10 {
        for sim in [churn::<Paxos>(MULTI, 5, seed), aimed(MULTI, 3, seed)] {
            let n = sim.node_count();
            let chosen = (1..=n).filter_map(|id| sim.node(id)).map(|p| p.chosen_prefix()).max();
            assert!(chosen.is_some_and(|c| c > 10), "seed {seed}: chosen {chosen:?}");
            let leaders = (1..=n)
                .filter(|&id| sim.node(id).is_some_and(|p| p.role() == Role::LEADER))
                .count();
            assert_eq!(leaders, 1, "seed {seed}: one leader after two calm seconds");
        }
        for sim in [churn::<Paxos>(SINGLE_SLOW, 5, seed), aimed(SINGLE_LEADER, 3, seed)] {
            let n = sim.node_count();
            let learned = (1..=n).filter(|&id| sim.node(id).is_some_and(|p| p.learned(1).is_some()));
            assert!(learned.count() > 0, "seed {seed}: the decree is known somewhere");
        }
    }
}

#[test]
fn paxos_adversary_runs_replay_from_their_scripts() {
    let runs = [
        aimed(&with_variant(MULTI, "forget-promise-on-restart"), 3, 0),
        aimed(MULTI, 5, 3),
        churn::<Paxos>(&with_variant(SINGLE, "ignore-promised-values"), 3, 2),
        churn::<Paxos>(SINGLE_LEADER, 5, 5),
    ];
    for sim in runs {
        let mut replay = Sim::<Paxos>::with_trace(sim.script(), false).expect("a valid script");
        replay.run_until(sim.now());
        assert_eq!(replay.violations(), sim.violations(), "script:\n{}", sim.script());
        assert_eq!(replay.history(), sim.history(), "script:\n{}", sim.script());
        for id in 1..=sim.node_count() {
            let describe = |s: &Sim<Paxos>| s.node(id).map(|p| (p.role(), p.term(), p.describe()));
            assert_eq!(describe(&replay), describe(&sim), "n{id}; script:\n{}", sim.script());
        }
    }
}

#[test]
fn broken_paxos_ignore_promised_values_is_caught() {
    let (seed, found) = first_caught(0..50, |s| {
        planned::<Paxos>(&with_variant(MULTI, "ignore-promised-values"), s)
    })
    .expect("ignore-promised-values survived 50 seeds of the fault plan (multi)");
    eprintln!("ignore-promised-values, multi, planned: caught at seed {seed}: {found:?}");
    assert!(seed < 10, "took {} seeds", seed + 1);
    assert!(found.contains(&monitor::AGREEMENT), "{found:?}");
    let (seed, found) = first_caught(0..100, |s| {
        planned::<Paxos>(&with_variant(SINGLE_SLOW, "ignore-promised-values"), s)
    })
    .expect("ignore-promised-values survived 100 seeds of the fault plan (single-slow)");
    eprintln!("ignore-promised-values, single-slow, planned: caught at seed {seed}: {found:?}");
    assert!(seed < 40, "took {} seeds", seed + 1);
    assert!(found.contains(&monitor::AGREEMENT), "{found:?}");
}

#[test]
fn broken_paxos_accept_lower_ballot_is_caught() {
    let (seed, found) = first_caught(0..50, |s| {
        planned::<Paxos>(&with_variant(MULTI, "accept-lower-ballot"), s)
    })
    .expect("accept-lower-ballot survived 50 seeds of the fault plan (multi)");
    eprintln!("accept-lower-ballot, multi, planned: caught at seed {seed}: {found:?}");
    assert!(seed < 10, "took {} seeds", seed + 1);
    assert!(found.contains(&monitor::AGREEMENT), "{found:?}");
    let (seed, found) = first_caught(0..100, |s| {
        planned::<Paxos>(&with_variant(SINGLE_SLOW, "accept-lower-ballot"), s)
    })
    .expect("accept-lower-ballot survived 100 seeds of the fault plan (single-slow)");
    eprintln!("accept-lower-ballot, single-slow, planned: caught at seed {seed}: {found:?}");
    assert!(seed < 40, "took {} seeds", seed + 1);
    assert!(found.contains(&monitor::AGREEMENT), "{found:?}");
}

#[test]
fn broken_paxos_forget_promise_on_restart_is_caught() {
    // The fault plan and churn never bring a stale Accept to an acceptor that just forgot its
    // promise; the aimed adversary does.
    let (seed, found) = first_caught(0..50, |s| {
        aimed(&with_variant(MULTI, "forget-promise-on-restart"), nodes_of(s), s)
    })
    .expect("forget-promise-on-restart survived 50 seeds of the aimed adversary (multi)");
    eprintln!("forget-promise-on-restart, multi, aimed: caught at seed {seed}: {found:?}");
    assert!(seed < 10, "took {} seeds", seed + 1);
    assert!(found.contains(&monitor::AGREEMENT), "{found:?}");
    let (seed, found) = first_caught(0..200, |s| {
        aimed(&with_variant(SINGLE_SLOW, "forget-promise-on-restart"), nodes_of(s), s)
    })
    .expect("forget-promise-on-restart survived 200 seeds of the aimed adversary (single-slow)");
    eprintln!("forget-promise-on-restart, single-slow, aimed: caught at seed {seed}: {found:?}");
    assert!(seed < 100, "took {} seeds", seed + 1);
    assert!(found.contains(&monitor::AGREEMENT), "{found:?}");
}

/// Prints the table of the module comment: `cargo test -p deepend-core --profile ci --test
/// paxos_variants -- --ignored --nocapture`.
#[test]
#[ignore = "prints a table; takes a while"]
fn print_catch_table() {
    let variants = [
        "correct",
        "ignore-promised-values",
        "accept-lower-ballot",
        "forget-promise-on-restart",
    ];
    for v in variants {
        for (name, config) in CONFIGS {
            let pairs = with_variant(config, v);
            let mut cells = Vec::new();
            for kind in ["planned", "churn", "aimed"] {
                let (mut n, mut first) = (0, None);
                for seed in 0..300 {
                    let sim = match kind {
                        "planned" => planned::<Paxos>(&pairs, seed),
                        "churn" => churn::<Paxos>(&pairs, nodes_of(seed), seed),
                        _ => aimed(&pairs, nodes_of(seed), seed),
                    };
                    let lin_broken = matches!(
                        sim.check_history(lin::DEFAULT_BUDGET)
                            .expect("the run's history is well formed"),
                        Verdict::NotLinearizable { .. }
                    );
                    if !caught(&sim).is_empty() || lin_broken {
                        n += 1;
                        first.get_or_insert(seed);
                    }
                }
                cells.push(match first {
                    Some(f) => format!("{n} (seed {f})"),
                    None => "0".to_string(),
                });
            }
            eprintln!("| {v} | {name} | {} |", cells.join(" | "));
        }
    }
}
