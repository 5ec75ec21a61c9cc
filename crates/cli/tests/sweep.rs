//! The CI seed sweep: a thousand seeds of random faults per configuration, zero violations
//! and only linearizable histories (none unknown). A failure prints the line that reproduces it.

use deepend_cli::{sweep, sweep_report};
use deepend_core::faults::FaultPlan;

fn assert_clean_sweep(settings: &[(&str, &str)]) {
    let plan = FaultPlan {
        settings: settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..FaultPlan::default()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results = sweep(&plan, 0, 1_000, threads).expect("the plan is valid");
    let report = sweep_report(&plan, &results);
    println!("{report}");
    assert_eq!(results.len(), 1_000);
    assert!(results.iter().all(|r| r.events > 1_000), "every seed did real work");
    assert!(!results.iter().any(|r| r.failed()), "{report}");
    // An unknown history is not a pass: the checker's budget must decide every seed.
    assert!(!results.iter().any(|r| r.unknown()), "{report}");
}

#[test]
fn raft_thousand_seeds() {
    assert_clean_sweep(&[]);
}

#[test]
fn raft_with_prevote_and_checkquorum_thousand_seeds() {
    assert_clean_sweep(&[("prevote", "on"), ("checkquorum", "on")]);
}
