//! Seed sweeps over the partitions chapter: every configuration that promises no safety is
//! caught within 1,000 seeds of the engine's fault plan, and the broken variant too.
//!
//! | configuration | what catches it |
//! |---|---|
//! | split brain, `fencing off` | Token Order, No Lost Update (a paused old leader writes) |
//! | lease, `fencing off` | the same (a paused or slow-clocked holder writes after its lease) |
//! | `fencing on`, `variant token-per-writer` | the same: the storage fences per writer |
//! | CP with `r 1`, `w 1` (R + W <= N) | the history is not linearizable |
//! | AP | the history is not linearizable |
//! | CP with `read-repair off` (no write-back), `hinted-handoff off` | the history is not linearizable (7 seeds in 1,000) |
//!
//! The correct configurations' 1,000-seed sweeps are `crates/cli/tests/cap_sweep.rs`.

use deepend_core::cap::Cap;
use deepend_core::lin::{self, Verdict};
use deepend_core::sim::Sim;

mod sweeps;

use sweeps::*;

fn not_linearizable(sim: &Sim<Cap>) -> bool {
    matches!(
        sim.check_history(lin::DEFAULT_BUDGET),
        Ok(Verdict::NotLinearizable { .. })
    )
}

/// The first seed below 1,000 whose planned run `caught` flags.
fn first(pairs: &[(&str, &str)], caught: impl Fn(&Sim<Cap>) -> bool) -> Option<u64> {
    (0..1_000).find(|&seed| caught(&planned::<Cap>(pairs, seed)))
}

const BOTH: [&str; 2] = ["Token Order", "No Lost Update"];

/// The first seed below `below` whose planned run broke a storage property, and what it broke.
fn first_fenced(pairs: &[(&str, &str)], below: u64) -> Option<(u64, Vec<&'static str>)> {
    first_caught(0..below, |seed| planned::<Cap>(pairs, seed))
}

#[test]
fn split_brain_without_fencing_loses_an_update() {
    let found = first_fenced(&[("mode", "split-brain")], 100);
    assert!(found.as_ref().is_some_and(|(_, f)| f == &BOTH), "{found:?}");
}

#[test]
fn a_lease_without_fencing_loses_an_update() {
    let found = first_fenced(&[("mode", "split-brain"), ("lease", "500ms")], 200);
    assert!(found.as_ref().is_some_and(|(_, f)| f == &BOTH), "{found:?}");
}

#[test]
fn fencing_per_writer_is_caught() {
    let pairs = [
        ("mode", "split-brain"),
        ("fencing", "on"),
        ("variant", "token-per-writer"),
    ];
    let found = first_fenced(&pairs, 100);
    assert!(found.as_ref().is_some_and(|(_, f)| f == &BOTH), "{found:?}");
}

/// Churn (crashes, partitions, forced timeouts) never makes an old leader write here: a
/// partition cuts it off the storage too. It still must not break a fenced storage.
#[test]
fn fencing_holds_under_churn() {
    for seed in 0..200 {
        let sim = churn::<Cap>(&[("mode", "split-brain"), ("fencing", "on")], nodes_of(seed), seed);
        assert_correct(&sim, seed);
    }
}

#[test]
fn quorums_that_do_not_meet_are_not_linearizable() {
    let pairs = [("mode", "cp"), ("r", "1"), ("w", "1"), ("client-attempts", "1")];
    let seed = first(&pairs, not_linearizable);
    assert!(seed.is_some_and(|s| s < 20), "{seed:?}");
}

#[test]
fn an_ap_store_is_not_linearizable() {
    let pairs = [("mode", "ap"), ("client-attempts", "1")];
    let seed = first(&pairs, not_linearizable);
    assert!(seed.is_some_and(|s| s < 20), "{seed:?}");
}

#[test]
fn a_cp_read_without_its_write_back_is_caught() {
    // Without hints either, a write refused on a minority stays on it, for reads to find.
    let pairs = [
        ("mode", "cp"),
        ("read-repair", "off"),
        ("hinted-handoff", "off"),
        ("client-attempts", "1"),
    ];
    let seed = first(&pairs, not_linearizable);
    assert!(seed.is_some(), "no seed below 1,000 caught it");
}
