//! The CI seed sweep for Paxos, as `sweep.rs` is for Raft: a thousand seeds of random faults
//! per configuration, zero violations and only linearizable histories (none unknown). A failure prints the
//! line that reproduces it.

use deepend_cli::{sweep, sweep_report};
use deepend_core::faults::FaultPlan;

/// Runs 1,000 seeds and returns the total of events, after asserting that none failed.
fn assert_clean_sweep(settings: &[(&str, &str)], min_events_per_seed: u64) {
    let plan = FaultPlan {
        protocol: "paxos".into(),
        settings: settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..FaultPlan::default()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results = sweep(&plan, 0, 1_000, threads).expect("the plan is valid");
    let report = sweep_report(&plan, &results);
    println!("{report}");
    assert_eq!(results.len(), 1_000);
    assert!(
        results.iter().all(|r| r.events > min_events_per_seed),
        "every seed did real work"
    );
    assert!(!results.iter().any(|r| r.failed()), "{report}");
    // An unknown history is not a pass: the checker's budget must decide every seed.
    assert!(!results.iter().any(|r| r.unknown()), "{report}");
}

#[test]
fn single_decree_paxos_thousand_seeds() {
    // The decree is chosen in the first 100ms, before the first fault; later requests are
    // answered from it (or run a ballot where a node missed it).
    assert_clean_sweep(&[], 500);
}

#[test]
fn single_decree_paxos_on_a_slow_network_thousand_seeds() {
    // Latency of 20-200ms keeps the decision going while the faults begin.
    assert_clean_sweep(&[("latency", "20ms..200ms"), ("phase-timeout", "500ms")], 500);
}

#[test]
fn single_decree_paxos_with_a_leader_thousand_seeds() {
    assert_clean_sweep(&[("leader", "on")], 1_000);
}

#[test]
fn multi_paxos_thousand_seeds() {
    assert_clean_sweep(&[("mode", "multi")], 1_000);
}
