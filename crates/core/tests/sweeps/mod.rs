//! What the protocols' variant tests share: runs of the fault plan and of the churn
//! adversary, the properties a run broke, and the check that a correct run broke nothing.

use deepend_core::SimTime;
use deepend_core::faults::{self, FaultPlan, random_script};
use deepend_core::lin::{self, Verdict};
use deepend_core::protocol::Protocol;
use deepend_core::sim::Sim;

/// Simulated time of every run.
pub const RUN_US: u64 = 10_000_000;

pub fn settings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// 3 nodes on even seeds, 5 on odd ones.
pub fn nodes_of(seed: u64) -> u8 {
    if seed.is_multiple_of(2) { 3 } else { 5 }
}

/// A run of the engine's random fault plan.
pub fn planned<P: Protocol>(pairs: &[(&str, &str)], seed: u64) -> Sim<P> {
    let plan = FaultPlan {
        protocol: P::NAME.into(),
        settings: settings(pairs),
        duration_us: RUN_US,
        ..FaultPlan::default()
    };
    let mut sim = Sim::<P>::with_trace(&random_script(&plan, seed), false).expect("the fault plan is a valid script");
    sim.run_until(SimTime(RUN_US));
    sim
}

/// A run an adversary drives: `nodes` nodes under light client load.
pub fn start<P: Protocol>(pairs: &[(&str, &str)], nodes: u8, seed: u64) -> Sim<P> {
    let plan = FaultPlan {
        protocol: P::NAME.into(),
        nodes,
        settings: settings(pairs),
        load_per_sec: 10,
        duration_us: RUN_US,
        churn: true,
    };
    Sim::<P>::with_trace(&faults::adversary_start(&plan, seed), false).expect("a valid script")
}

/// A churn run: the churn adversary (`deepend_core::faults::churn`) acting every 20-250ms.
pub fn churn<P: Protocol>(pairs: &[(&str, &str)], nodes: u8, seed: u64) -> Sim<P> {
    let mut sim = start(pairs, nodes, seed);
    faults::churn(&mut sim, seed, RUN_US);
    sim
}

/// The properties a run broke, each once, in the order they broke.
pub fn caught<P: Protocol>(sim: &Sim<P>) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = Vec::new();
    for f in sim.violations() {
        if !found.contains(&f.violation.property) {
            found.push(f.violation.property);
        }
    }
    found
}

/// The first seed whose run broke something, with what it broke.
pub fn first_caught<P: Protocol>(
    seeds: std::ops::Range<u64>,
    run: impl Fn(u64) -> Sim<P>,
) -> Option<(u64, Vec<&'static str>)> {
    seeds.into_iter().find_map(|seed| {
        let found = caught(&run(seed));
        (!found.is_empty()).then_some((seed, found))
    })
}

/// A correct protocol's run: no violation, and a history shown linearizable (not unknown).
pub fn assert_correct<P: Protocol>(sim: &Sim<P>, seed: u64) {
    assert!(
        sim.violations().is_empty(),
        "seed {seed}: {:#?}\nscript:\n{}",
        sim.violations(),
        sim.script()
    );
    match sim.check_history(lin::DEFAULT_BUDGET) {
        Ok(Verdict::NotLinearizable { key, detail, .. }) => panic!(
            "seed {seed}: key {key} is not linearizable: {detail}\nscript:\n{}",
            sim.script()
        ),
        Err(e) => panic!(
            "seed {seed}: the run recorded an invalid history: {e}\nscript:\n{}",
            sim.script()
        ),
        Ok(Verdict::Unknown { key, reason }) => panic!(
            "seed {seed}: key {key} is undecided ({reason}); a correct run must be shown linearizable\nscript:\n{}",
            sim.script()
        ),
        Ok(Verdict::Linearizable) => {}
    }
}
