//! The CI seed sweep for the clocks chapter: a thousand seeds of the engine's random faults
//! (partitions, crashes, pauses, loss, duplication, clock skew) per configuration. The correct
//! logical clocks and the sibling-keeping register never break a property; last-writer-wins
//! loses acknowledged writes, and the sweep finds it. A failure prints the line that
//! reproduces it.

use deepend_cli::{SeedResult, sweep, sweep_report};
use deepend_core::clocks::monitor::WRITES_SURVIVE;
use deepend_core::faults::FaultPlan;

fn run(settings: &[(&str, &str)], nodes: u8) -> (Vec<SeedResult>, String) {
    let plan = FaultPlan {
        protocol: "clocks".into(),
        nodes,
        settings: settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        // The chapter takes no client requests: its workload is its own.
        load_per_sec: 0,
        ..FaultPlan::default()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let results = sweep(&plan, 0, 1_000, threads).expect("the plan is valid");
    let report = sweep_report(&plan, &results);
    assert_eq!(results.len(), 1_000);
    // Ten seconds of five nodes doing an event every 300ms or so, plus NTP.
    assert!(results.iter().all(|r| r.events > 100), "every seed did real work");
    (results, report)
}

fn assert_clean(settings: &[(&str, &str)], nodes: u8) {
    let (results, report) = run(settings, nodes);
    println!("{report}");
    assert!(!results.iter().any(|r| r.failed() || r.unknown()), "{report}");
}

#[test]
fn clocks_with_ntp_thousand_seeds() {
    assert_clean(&[], 5);
}

#[test]
fn clocks_without_ntp_on_nine_nodes_thousand_seeds() {
    assert_clean(&[("sync", "off"), ("event-period", "150ms")], 9);
}

#[test]
fn sibling_register_keeps_every_acknowledged_write_thousand_seeds() {
    assert_clean(&[("store", "siblings")], 5);
}

#[test]
fn last_writer_wins_loses_acknowledged_writes_and_the_sweep_finds_it() {
    let (results, report) = run(&[("store", "lww")], 5);
    let failed: Vec<&SeedResult> = results.iter().filter(|r| r.failed()).collect();
    assert!(failed.len() > 100, "LWW should lose writes in many seeds: {report}");
    assert!(
        failed.iter().all(|r| r
            .violation
            .as_ref()
            .is_some_and(|f| f.violation.property == WRITES_SURVIVE)),
        "only writes are lost, the logical clocks hold: {report}"
    );
}
