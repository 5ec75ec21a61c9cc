//! The CI seed sweep: a thousand seeds of random faults per configuration, zero violations
//! and only linearizable histories (none unknown). A failure prints the line that reproduces it.

mod common;

fn assert_clean_sweep(settings: &[(&str, &str)]) {
    common::assert_clean_sweep(&common::plan("raft", settings), 1_000);
}

#[test]
fn raft_thousand_seeds() {
    assert_clean_sweep(&[]);
}

#[test]
fn raft_with_prevote_and_checkquorum_thousand_seeds() {
    assert_clean_sweep(&[("prevote", "on"), ("checkquorum", "on")]);
}
