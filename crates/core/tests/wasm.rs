//! The reference runs on wasm32 under Node must give the digests pinned natively: the same
//! table (tests/reference/mod.rs) that tests/determinism.rs checks.
//! Run by `cargo xtask test` as `cargo test -p deepend-core --target wasm32-unknown-unknown --test wasm`.

#![cfg(target_arch = "wasm32")]

mod reference;

use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn wasm_digests_match_native() {
    for reference in reference::REFERENCES {
        let (digest, _) = reference.run();
        assert_eq!(
            digest, reference.digest,
            "the {} reference run's digest on wasm32",
            reference.name
        );
    }
}
