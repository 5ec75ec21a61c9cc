//! Deep End's simulation core.
//!
//! A run is a pure function of (scenario, parameters, seed, action script). Simulated time is
//! a count of microseconds ([`SimTime`]); a discrete-event queue ordered by (time, sequence
//! number) gives every run a total order; one seeded ChaCha generator, forked into a stream per
//! node, drives every random choice. Protocols are pure state machines ([`Protocol`]) that
//! react to messages, timers and client requests by writing effects into a [`Ctx`]; they never
//! do I/O and never read a clock.
//!
//! Architecture invariant: this crate depends on no browser crate (yew, web-sys,
//! wasm-bindgen), reads no clock, uses no OS randomness, and never lets the iteration order of
//! a hash map decide an outcome. `cargo xtask check-core` enforces the first three.

pub mod cap;
pub mod chapters;
pub mod chunked;
pub mod client;
pub mod clocks;
#[cfg(feature = "echo")]
pub mod echo;
pub mod faults;
pub mod generals;
pub mod history;
pub mod kv;
pub mod lin;
pub mod net;
pub mod paxos;
pub mod protocol;
pub mod raft;
pub mod rng;
pub mod script;
pub mod sim;
pub mod sort;
pub mod time;
pub mod trace;
pub mod txn;
pub mod vecmap;
pub mod workload;

pub use protocol::{Ctx, Protocol};
pub use time::SimTime;

/// A node's identity: 1..=n, as readers see it on the stage.
pub type NodeId = u8;
/// A simulated client's identity.
pub type ClientId = u32;
/// A key of the replicated key-value store.
pub type Key = u32;
/// A value of the replicated key-value store.
pub type Value = u64;
