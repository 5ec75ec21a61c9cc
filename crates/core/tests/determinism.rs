//! A run is a pure function of its script: the same seed gives the same trace, and the trace
//! digest is pinned so that wasm32 (tests/wasm.rs) is held to the same value.

mod reference;

use reference::{PINNED_DIGEST, reference_run};

#[test]
fn same_script_same_trace() {
    let a = reference_run();
    let b = reference_run();
    let events = a.trace().events.len();
    assert!(events > 5_000, "the reference run does real work: {events} events");
    assert_eq!(a.render_trace(), b.render_trace());
}

#[test]
fn digest_is_pinned() {
    let digest = reference_run().trace_digest();
    assert_eq!(
        digest, PINNED_DIGEST,
        "new digest {digest:#x}: update PINNED_DIGEST if the change is intended"
    );
}
