//! The CI seed sweep for Paxos, as `sweep.rs` is for Raft: a thousand seeds of random faults
//! per configuration, zero violations and only linearizable histories (none unknown). A failure prints the
//! line that reproduces it.

mod common;

/// 1,000 seeds of Paxos with `settings`, each seed above `min_events_per_seed` events.
fn assert_clean_sweep(settings: &[(&str, &str)], min_events_per_seed: u64) {
    common::assert_clean_sweep(&common::plan("paxos", settings), min_events_per_seed);
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
