//! The CI seed sweep for the partitions chapter: a thousand seeds of random faults per
//! configuration that promises safety, zero violations and only linearizable histories (none
//! unknown). A failure prints the line that reproduces it. The configurations that promise
//! nothing are caught in `crates/core/tests/cap_variants.rs`.

use deepend_cli::{sweep, sweep_report};
use deepend_core::faults::FaultPlan;

fn assert_clean_sweep(settings: &[(&str, &str)]) {
    let plan = FaultPlan {
        protocol: "cap".into(),
        settings: settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..FaultPlan::default()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results = sweep(&plan, 0, 1_000, threads).expect("the plan is valid");
    let report = sweep_report(&plan, &results);
    println!("{report}");
    assert_eq!(results.len(), 1_000);
    assert!(results.iter().all(|r| r.events > 500), "every seed did real work");
    assert!(!results.iter().any(|r| r.failed()), "{report}");
    assert!(!results.iter().any(|r| r.unknown()), "{report}");
}

#[test]
fn cp_store_thousand_seeds() {
    assert_clean_sweep(&[("mode", "cp"), ("client-attempts", "1")]);
}

#[test]
fn cp_store_with_uneven_quorums_thousand_seeds() {
    // R + W > N with a read quorum of 2 and a write quorum of 4.
    assert_clean_sweep(&[("mode", "cp"), ("r", "2"), ("w", "4"), ("client-attempts", "1")]);
}

#[test]
fn cp_store_without_hints_thousand_seeds() {
    // The read's write-back alone keeps it linearizable.
    assert_clean_sweep(&[("mode", "cp"), ("hinted-handoff", "off"), ("client-attempts", "1")]);
}

#[test]
fn split_brain_with_fencing_thousand_seeds() {
    assert_clean_sweep(&[("mode", "split-brain"), ("fencing", "on")]);
}

#[test]
fn lease_with_fencing_thousand_seeds() {
    assert_clean_sweep(&[("mode", "split-brain"), ("lease", "500ms"), ("fencing", "on")]);
}
