//! The reference runs whose trace digests are pinned, natively (tests/determinism.rs) and on
//! wasm32 (tests/wasm.rs): one per chapter, and both tests walk this one table.

use deepend_core::SimTime;
use deepend_core::faults::{FaultPlan, random_script};
use deepend_core::generals::General;
use deepend_core::paxos::Paxos;
use deepend_core::protocol::Protocol;
use deepend_core::raft::Raft;
use deepend_core::sim::Sim;

/// One reference run: a sweep plan's random fault script (5 nodes, 10 simulated seconds under
/// client load, seed 42) for a protocol and its settings, and the digest of its readable
/// trace. A change to the engine, to a protocol or to the random streams changes a digest;
/// update it deliberately (the native test prints the new one) and say why in the commit.
pub struct Reference {
    pub name: &'static str,
    pub protocol: &'static str,
    pub settings: &'static [(&'static str, &'static str)],
    pub digest: u64,
    /// A floor on the run's trace lines, so that a reference that stopped working is noticed
    /// (single-decree Paxos decides once and then goes quiet).
    pub min_events: u64,
}

pub const REFERENCES: &[Reference] = &[
    Reference {
        name: "raft",
        protocol: "raft",
        settings: &[],
        digest: 0xc8ec_81d3_a7ed_17ef,
        min_events: 5_000,
    },
    Reference {
        name: "paxos single-decree",
        protocol: "paxos",
        settings: &[],
        digest: 0xfd0d_baf4_3115_a9d8,
        min_events: 500,
    },
    Reference {
        name: "multi-paxos",
        protocol: "paxos",
        settings: &[("mode", "multi")],
        digest: 0x4532_2330_df8d_a6a3,
        min_events: 5_000,
    },
    Reference {
        name: "generals om(1) with a random traitor",
        protocol: "generals",
        settings: &[("mode", "om"), ("traitors", "2"), ("strategy", "random")],
        digest: 0x8944_b74c_bd12_2d8b,
        min_events: 500,
    },
];

const SEED: u64 = 42;
const DURATION: SimTime = SimTime::from_secs(10);

impl Reference {
    /// Runs the reference and returns its trace digest and its readable trace; panics if the
    /// run did less work than its floor.
    pub fn run(&self) -> (u64, String) {
        match self.protocol {
            "raft" => self.run_as::<Raft>(),
            "paxos" => self.run_as::<Paxos>(),
            "generals" => self.run_as::<General>(),
            other => panic!("reference {}: no protocol named {other}", self.name),
        }
    }

    fn run_as<P: Protocol>(&self) -> (u64, String) {
        let plan = FaultPlan {
            protocol: self.protocol.into(),
            settings: self.settings.iter().map(|&(k, v)| (k.into(), v.into())).collect(),
            ..FaultPlan::default()
        };
        let mut sim = Sim::<P>::new(&random_script(&plan, SEED)).expect("the fault plan is a valid script");
        sim.run_until(DURATION);
        let events = sim.trace().events.len() as u64;
        assert!(
            events > self.min_events,
            "the {} reference run does real work: {events} events",
            self.name
        );
        (sim.trace_digest(), sim.render_trace())
    }
}
