//! The CI seed sweep for the partitions chapter: a thousand seeds of random faults per
//! configuration that promises safety, zero violations and only linearizable histories (none
//! unknown). A failure prints the line that reproduces it. The configurations that promise
//! nothing are caught in `crates/core/tests/cap_variants.rs`.

mod common;

fn assert_clean_sweep(settings: &[(&str, &str)]) {
    common::assert_clean_sweep(&common::plan("cap", settings), 500);
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
