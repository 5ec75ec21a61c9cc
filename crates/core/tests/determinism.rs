//! A run is a pure function of its script: the same seed gives the same trace, and the trace
//! digest of each chapter's reference run is pinned so that wasm32 (tests/wasm.rs) is held to
//! the same values.

mod reference;

use reference::REFERENCES;

#[test]
fn same_script_same_trace() {
    for reference in REFERENCES {
        let (_, a) = reference.run();
        let (_, b) = reference.run();
        assert!(a == b, "the {} reference run gave two different traces", reference.name);
    }
}

#[test]
fn digests_are_pinned() {
    let changed: Vec<String> = REFERENCES
        .iter()
        .filter_map(|reference| {
            let (digest, _) = reference.run();
            (digest != reference.digest).then(|| format!("{}: new digest {digest:#x}", reference.name))
        })
        .collect();
    assert!(
        changed.is_empty(),
        "{}\nupdate the table in tests/reference/mod.rs if the change is intended",
        changed.join("\n")
    );
}
