//! The CI sweeps' one routine: a thousand seeds of random faults, zero violations and only
//! decided histories (an unknown history is not a pass: the checker's budget must decide
//! every seed). A failure prints the line that reproduces it.

use deepend_cli::{sweep, sweep_report};
use deepend_core::faults::FaultPlan;

/// The default fault plan for chapter `protocol` with `settings`.
pub fn plan(protocol: &str, settings: &[(&str, &str)]) -> FaultPlan {
    FaultPlan {
        protocol: protocol.into(),
        settings: settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..FaultPlan::default()
    }
}

/// Sweeps seeds 0..1,000 of `plan` and asserts that every seed did more than
/// `min_events` events of real work and none broke a property or left its history undecided.
pub fn assert_clean_sweep(plan: &FaultPlan, min_events: u64) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results = sweep(plan, 0, 1_000, threads).expect("the plan is valid");
    let report = sweep_report(plan, &results);
    println!("{report}");
    assert_eq!(results.len(), 1_000);
    assert!(
        results.iter().all(|r| r.events > min_events),
        "every seed did real work"
    );
    assert!(!results.iter().any(|r| r.failed()), "{report}");
    assert!(!results.iter().any(|r| r.unknown()), "{report}");
}
