//! `cargo xtask bench` (native half): events per second of the engine against a bare queue,
//! sweep throughput, seek time and memory of a long run, and what a checkpoint's copy of the
//! protocol state costs. It measures and prints; nothing here passes or fails on a time.
//! `--checkpoint` measures only the last; `--txn` only the transactions chapter's throughput.

use deepend_bench::{
    CAP_CP, CAP_SPLIT_BRAIN, Run, cap_run, clocks_run, multipaxos_run, om_run, queue_baseline, raft_run, txn_run,
};
use deepend_core::SimTime;
use deepend_core::protocol::Protocol;
use deepend_core::sim::Sim;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Counts live and peak heap bytes, for the memory of a long run.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Simulated seconds of the throughput run: 5 nodes, 50 client operations a second, random faults.
const RAFT_SECS: u64 = 300;

/// Events per second of the transactions chapter's three scenarios (trace off and on), the
/// median of five runs of [`RAFT_SECS`] simulated seconds each.
fn txn_throughput() {
    for scenario in ["2pc", "saga", "idempotency"] {
        for trace in [false, true] {
            let mut rates: Vec<f64> = Vec::new();
            let mut events = 0;
            for _ in 0..5 {
                let t = Instant::now();
                let run = txn_run(scenario, RAFT_SECS, 3, trace).1;
                events = run.events;
                rates.push(run.events as f64 / t.elapsed().as_secs_f64());
            }
            rates.sort_by(f64::total_cmp);
            let on = if trace { "on" } else { "off" };
            println!(
                "txn {scenario}, trace {on}: {:>12.0} events/s (median of 5; {events} events in {RAFT_SECS} simulated s)",
                rates[2]
            );
        }
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let seeds: u64 = if quick { 200 } else { 10_000 };
    if args.iter().any(|a| a == "--txn") {
        txn_throughput();
        return;
    }
    if args.iter().any(|a| a == "--checkpoint") {
        checkpoint_copies();
        return;
    }

    // 1. Engine throughput next to the bare queue, in the same process; the median of five.
    let median = |mut xs: Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let queue_events = 20_000_000;
    let queue_rate = median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(queue_baseline(queue_events, 7));
                queue_events as f64 / t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    println!("bare event queue:       {queue_rate:>12.0} events/s (median of 5)");
    type Bench = fn(bool) -> Run;
    let cases: [(&str, bool, Bench); 10] = [
        ("raft, trace off", false, |trace| raft_run(RAFT_SECS, 3, 50, trace).1),
        ("raft, trace on", true, |trace| raft_run(RAFT_SECS, 3, 50, trace).1),
        ("multi-paxos, trace off", false, |trace| {
            multipaxos_run(RAFT_SECS, 3, 50, trace).1
        }),
        ("multi-paxos, trace on", true, |trace| {
            multipaxos_run(RAFT_SECS, 3, 50, trace).1
        }),
        ("generals om(2) n=7, trace off", false, |trace| {
            om_run(RAFT_SECS, 3, trace).1
        }),
        ("generals om(2) n=7, trace on", true, |trace| {
            om_run(RAFT_SECS, 3, trace).1
        }),
        ("clocks (9 nodes), trace off", false, |trace| {
            clocks_run(RAFT_SECS, 3, trace).1
        }),
        ("clocks (9 nodes), trace on", true, |trace| {
            clocks_run(RAFT_SECS, 3, trace).1
        }),
        ("cap cp store, trace off", false, |trace| {
            cap_run(CAP_CP, RAFT_SECS, 3, 50, trace).1
        }),
        ("cap split brain, trace off", false, |trace| {
            cap_run(CAP_SPLIT_BRAIN, RAFT_SECS, 3, 50, trace).1
        }),
    ];
    for (label, trace, bench) in cases {
        let mut events = 0;
        let rate = median(
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    let run = bench(trace);
                    events = run.events;
                    run.events as f64 / t.elapsed().as_secs_f64()
                })
                .collect(),
        );
        println!(
            "{label}:{:pad$}{rate:>12.0} events/s (median of 5; {events} events in {RAFT_SECS} simulated s; the bare queue is {:.1}x faster per event)",
            "",
            queue_rate / rate,
            pad = 24usize.saturating_sub(label.len() + 1),
        );
    }

    // 2. Sweep throughput on every core.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let plan = deepend_bench::plan(10, 20);
    let t = Instant::now();
    let results = deepend_cli::sweep(&plan, 0, seeds, threads).expect("the plan is valid");
    let secs = t.elapsed().as_secs_f64();
    let failed = results.iter().filter(|r| r.failed()).count();
    let events: u64 = results.iter().map(|r| r.events).sum();
    println!(
        "sweep: {seeds} seeds x 10 simulated s on {threads} threads in {secs:.1} s ({:.0} seeds/s, {:.0} events/s, {failed} failed)",
        seeds as f64 / secs,
        events as f64 / secs
    );
    // The generals chapter's sweep (crates/core/tests/generals_sweep.rs), one thread: OM(1)
    // among four generals with one traitor, three campaigns a seed.
    let trial = deepend_core::generals::trial::Trial::default();
    let t = Instant::now();
    let broken = (0..seeds).filter(|&s| trial.run(s).broken > 0).count();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "generals sweep: {seeds} seeds of OM(1), n = 4, one traitor, on 1 thread in {secs:.2} s ({:.0} seeds/s, {broken} broke)",
        seeds as f64 / secs
    );

    // 3. A 10-minute run with the trace on: memory, then seeks to spread-out times.
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let t = Instant::now();
    let (mut sim, run) = raft_run(600, 1, 20, true);
    println!(
        "10-minute run: {} events, {} trace events, built in {:.2} s, heap {:.1} MiB live, {:.1} MiB peak",
        run.events,
        run.trace_events,
        t.elapsed().as_secs_f64(),
        mib(LIVE.load(Ordering::Relaxed) - before),
        mib(PEAK.load(Ordering::Relaxed) - before)
    );
    let mut worst = 0.0f64;
    let mut total = 0.0f64;
    let targets: Vec<u64> = (0..100u64).map(|i| (i * 7_919) % 600_000).collect();
    for &ms in &targets {
        let t = Instant::now();
        sim.seek(SimTime::from_ms(ms));
        let took = t.elapsed().as_secs_f64() * 1_000.0;
        worst = worst.max(took);
        total += took;
    }
    println!(
        "seek in the 10-minute run: mean {:.2} ms, max {worst:.2} ms over {} seeks",
        total / targets.len() as f64,
        targets.len()
    );

    checkpoint_copies();
}

/// Section 4: what a checkpoint copies of a 10-minute run (trace off) besides the queue and
/// the clients, that is every node's protocol state and the safety monitor.
fn checkpoint_copies() {
    checkpoint_copy("raft", &raft_run(600, 1, 20, false).0);
    checkpoint_copy("multi-paxos", &multipaxos_run(600, 1, 20, false).0);
    checkpoint_copy("clocks", &clocks_run(600, 1, false).0);
}

fn checkpoint_copy<P: Protocol>(label: &str, sim: &Sim<P>) {
    let copy = || {
        let nodes: Vec<Option<P>> = (1..=sim.node_count()).map(|id| sim.node(id).cloned()).collect();
        (nodes, sim.monitor().clone())
    };
    let before = LIVE.load(Ordering::Relaxed);
    let kept = copy();
    let bytes = LIVE.load(Ordering::Relaxed) - before;
    drop(kept);
    const COPIES: u32 = 200;
    let t = Instant::now();
    for _ in 0..COPIES {
        std::hint::black_box(copy());
    }
    println!(
        "checkpoint copy of nodes and monitor, 10-minute {label} run ({} events): {:.1} us, {:.1} KiB",
        sim.events_processed(),
        t.elapsed().as_secs_f64() * 1e6 / f64::from(COPIES),
        bytes as f64 / 1024.0
    );
}
