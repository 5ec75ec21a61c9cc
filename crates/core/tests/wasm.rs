//! The reference run on wasm32 under Node must give the digest pinned natively.
//! Run by `cargo xtask test` as `cargo test -p deepend-core --target wasm32-unknown-unknown --test wasm`.

#![cfg(target_arch = "wasm32")]

mod reference;

use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn wasm_digest_matches_native() {
    assert_eq!(reference::reference_run().trace_digest(), reference::PINNED_DIGEST);
}
