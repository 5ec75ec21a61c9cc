//! The reference run whose trace digest is pinned, natively and on wasm32.

use deepend_core::SimTime;
use deepend_core::faults::{FaultPlan, random_script};
use deepend_core::raft::Raft;
use deepend_core::sim::Sim;

/// The digest of the reference run's readable trace. A change to the engine, to Raft or to
/// the random streams changes it; update it deliberately (the native test prints the new one)
/// and say why in the commit.
pub const PINNED_DIGEST: u64 = 0xc8ec_81d3_a7ed_17ef;

/// 5-node Raft, 10 simulated seconds of random faults under client load, seed 42.
pub fn reference_run() -> Sim<Raft> {
    let script = random_script(&FaultPlan::default(), 42);
    let mut sim = Sim::<Raft>::new(&script).expect("the fault plan is a valid script");
    sim.run_until(SimTime::from_secs(10));
    sim
}
