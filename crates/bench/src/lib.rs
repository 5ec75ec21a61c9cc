//! What the benchmarks run, free of any clock so that native and wasm time the same code.

use deepend_core::cap::Cap;
use deepend_core::clocks::Clocks;
use deepend_core::faults::{self, FaultPlan};
use deepend_core::generals::trial::Trial;
use deepend_core::generals::{General, Mode};
use deepend_core::paxos::Paxos;
use deepend_core::protocol::Protocol;
use deepend_core::raft::Raft;
use deepend_core::script::Action;
use deepend_core::sim::Sim;
use deepend_core::txn::Txn;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The figure the engine is compared with: a bare event-queue loop that pops an event and
/// pushes one at a random later time, with a payload the size of a small message. Returns a
/// checksum so that the loop cannot be optimised away.
pub fn queue_baseline(events: u64, seed: u64) -> u64 {
    let mut heap: BinaryHeap<Reverse<(u64, u64, [u64; 4])>> = BinaryHeap::new();
    let mut x = seed | 1;
    let mut next = || {
        // xorshift64: the baseline should cost what a queue costs, not what ChaCha costs.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for seq in 0..64 {
        heap.push(Reverse((next() % 1_000, seq, [seq; 4])));
    }
    let mut sum = 0u64;
    for seq in 64..events + 64 {
        let Some(Reverse((t, _, payload))) = heap.pop() else {
            break;
        };
        sum = sum.wrapping_add(t ^ payload[0]);
        heap.push(Reverse((t + 10_000 + next() % 5_000, seq, [seq; 4])));
    }
    sum
}

/// What one benchmark run did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Run {
    pub events: u64,
    pub violations: u64,
    pub trace_events: u64,
}

/// The sweep's fault plan with `load_per_sec` client operations per second.
pub fn plan(sim_secs: u64, load_per_sec: u32) -> FaultPlan {
    FaultPlan {
        duration_us: sim_secs * 1_000_000,
        load_per_sec,
        ..FaultPlan::default()
    }
}

/// A finished run and what it did.
fn measured<P: Protocol>(sim: Sim<P>) -> (Sim<P>, Run) {
    let run = Run {
        events: sim.events_processed(),
        violations: sim.violations().len() as u64,
        trace_events: sim.trace().events.len() as u64,
    };
    (sim, run)
}

/// A 5-node cluster of `P` under steady client load and random faults, checkers on.
pub fn protocol_run<P: Protocol>(plan: &FaultPlan, seed: u64, trace: bool) -> (Sim<P>, Run) {
    let sim = faults::run::<P>(plan, seed, trace).expect("the fault plan is a valid script");
    measured(sim)
}

/// Raft under the benchmark's plan.
pub fn raft_run(sim_secs: u64, seed: u64, load_per_sec: u32, trace: bool) -> (Sim<Raft>, Run) {
    protocol_run(&plan(sim_secs, load_per_sec), seed, trace)
}

/// Multi-Paxos under the same plan.
pub fn multipaxos_run(sim_secs: u64, seed: u64, load_per_sec: u32, trace: bool) -> (Sim<Paxos>, Run) {
    let plan = FaultPlan {
        protocol: Paxos::NAME.into(),
        settings: vec![("mode".into(), "multi".into())],
        ..plan(sim_secs, load_per_sec)
    };
    protocol_run(&plan, seed, trace)
}

/// The transactions chapter's `scenario` (`2pc`, `saga`, `idempotency`) under the plan's
/// faults, without its key-value load: the chapter's client begins a transaction, an order or
/// a payment every 20ms instead.
pub fn txn_run(scenario: &str, sim_secs: u64, seed: u64, trace: bool) -> (Sim<Txn>, Run) {
    let plan = FaultPlan {
        protocol: Txn::NAME.into(),
        settings: vec![("scenario".into(), scenario.into()), ("auto".into(), "20ms".into())],
        ..plan(sim_secs, 1)
    };
    let mut script = faults::random_script(&plan, seed);
    script
        .actions
        .retain(|a| !matches!(a.action, Action::Load { .. } | Action::Request { .. }));
    let mut sim = Sim::<Txn>::with_trace(&script, trace).expect("the fault plan is a valid script");
    sim.run_until(deepend_core::SimTime(plan.duration_us));
    measured(sim)
}

/// The generals chapter's heaviest configuration: OM(2) among seven generals, two traitors
/// (the seed picks which, and their strategy), campaigns back to back for `sim_secs`.
pub fn om_run(sim_secs: u64, seed: u64, trace: bool) -> (Sim<General>, Run) {
    let probe = Trial {
        mode: Mode::Om,
        nodes: 7,
        m: 2,
        traitors: 2,
        campaigns: 1,
        ..Trial::default()
    };
    // One campaign of OM(2) takes four rounds of 50ms.
    let trial = Trial {
        campaigns: u32::try_from(sim_secs * 1_000_000 / 200_000).unwrap_or(u32::MAX),
        ..probe
    };
    let mut sim = Sim::<General>::with_trace(&trial.script(seed), trace).expect("a trial is a valid script");
    sim.run_until(trial.until());
    measured(sim)
}

/// The clocks chapter: 9 nodes doing an event every 150ms or so each, NTP on, under the same
/// random faults (its workload is its own: no client load).
pub fn clocks_run(sim_secs: u64, seed: u64, trace: bool) -> (Sim<Clocks>, Run) {
    let plan = FaultPlan {
        protocol: Clocks::NAME.into(),
        nodes: 9,
        settings: vec![("event-period".into(), "150ms".into())],
        ..plan(sim_secs, 0)
    };
    protocol_run(&plan, seed, trace)
}

/// The partitions chapter under the same plan: `settings` pick the store or split brain.
pub fn cap_run(settings: &[(&str, &str)], sim_secs: u64, seed: u64, load_per_sec: u32, trace: bool) -> (Sim<Cap>, Run) {
    let plan = FaultPlan {
        protocol: Cap::NAME.into(),
        settings: settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..plan(sim_secs, load_per_sec)
    };
    protocol_run(&plan, seed, trace)
}

/// The CP quorum store's settings for [`cap_run`].
pub const CAP_CP: &[(&str, &str)] = &[("mode", "cp"), ("client-attempts", "1")];
/// Split brain with fencing, for [`cap_run`].
pub const CAP_SPLIT_BRAIN: &[(&str, &str)] = &[("mode", "split-brain"), ("fencing", "on")];

#[cfg(target_arch = "wasm32")]
mod wasm {
    //! Exports for `run-wasm.mjs`. Plain numbers in and out, so no bindings are needed.

    use super::*;
    use deepend_core::SimTime;
    use std::cell::RefCell;

    thread_local! {
        static LONG_RUN: RefCell<Option<Sim<Raft>>> = const { RefCell::new(None) };
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn bench_queue(events: u64) -> u64 {
        queue_baseline(events, 7)
    }

    /// Events processed by a run of `sim_secs` simulated seconds (trace off, checkers on).
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_raft(sim_secs: u64, seed: u64, load_per_sec: u32) -> u64 {
        raft_run(sim_secs, seed, load_per_sec, false).1.events
    }

    /// The same for Multi-Paxos.
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_multipaxos(sim_secs: u64, seed: u64, load_per_sec: u32) -> u64 {
        multipaxos_run(sim_secs, seed, load_per_sec, false).1.events
    }

    /// The same for the transactions chapter: `scenario` 0 is 2PC, 1 the saga, 2 payments.
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_txn(scenario: u32, sim_secs: u64, seed: u64) -> u64 {
        let name = ["2pc", "saga", "idempotency"][scenario as usize % 3];
        txn_run(name, sim_secs, seed, false).1.events
    }

    /// The same for the generals chapter's OM(2) with seven generals (no client load).
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_generals(sim_secs: u64, seed: u64, _load_per_sec: u32) -> u64 {
        om_run(sim_secs, seed, false).1.events
    }

    /// The same for the clocks chapter (9 nodes).
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_clocks(sim_secs: u64, seed: u64, _load_per_sec: u32) -> u64 {
        clocks_run(sim_secs, seed, false).1.events
    }

    /// The same for the partitions chapter's CP quorum store.
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_cap_cp(sim_secs: u64, seed: u64, load_per_sec: u32) -> u64 {
        cap_run(CAP_CP, sim_secs, seed, load_per_sec, false).1.events
    }

    /// The same for split brain with fencing (Raft members and a storage service).
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_cap_split_brain(sim_secs: u64, seed: u64, load_per_sec: u32) -> u64 {
        cap_run(CAP_SPLIT_BRAIN, sim_secs, seed, load_per_sec, false).1.events
    }

    /// Builds the long run (trace on) that `bench_seek` seeks in; returns its event count.
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_long_run(sim_secs: u64, load_per_sec: u32) -> u64 {
        let (sim, run) = raft_run(sim_secs, 1, load_per_sec, true);
        LONG_RUN.with(|r| *r.borrow_mut() = Some(sim));
        run.events
    }

    /// Seeks the long run to `ms`; returns the number of trace events then.
    #[unsafe(no_mangle)]
    pub extern "C" fn bench_seek(ms: u64) -> u64 {
        LONG_RUN.with(|r| {
            let mut r = r.borrow_mut();
            let Some(sim) = r.as_mut() else { return 0 };
            sim.seek(SimTime::from_ms(ms));
            sim.trace().events.len() as u64
        })
    }
}
