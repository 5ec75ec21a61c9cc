//! Seed runs of the clocks chapter: the correct clocks are exact, each broken variant is
//! caught, and the clock phenomena the chapter shows really happen.

use deepend_core::SimTime;
use deepend_core::clocks::monitor::{AMBIGUOUS, CLOCK_CONDITION, CONCURRENT, MISORDERS, Recorded, VECTOR, WINDOW};
use deepend_core::clocks::{Clocks, Variant, vc_less};
use deepend_core::protocol::Monitor;
use deepend_core::script;
use deepend_core::sim::Sim;

/// A run of `nodes` nodes for three seconds with these extra settings, no faults.
fn run(settings: &str, nodes: u8, seed: u64) -> Sim<Clocks> {
    run_for(settings, nodes, seed, 3)
}

fn run_for(settings: &str, nodes: u8, seed: u64, secs: u64) -> Sim<Clocks> {
    let text = format!("protocol clocks\nnodes {nodes}\nseed {seed}\nset duration {secs}s\n{settings}");
    let script = script::parse(&text).expect("a valid script");
    let mut sim = Sim::<Clocks>::with_trace(&script, false).expect("a valid run");
    sim.run_until(SimTime::from_secs(secs));
    sim
}

fn count(sim: &Sim<Clocks>, name: &str) -> u64 {
    sim.monitor()
        .counts()
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a counted figure")
        .1
}

#[test]
fn correct_vector_clocks_are_the_true_causal_past_and_clocks_step_only_at_ntp() {
    for seed in 0..50 {
        let sim = run("set offset 200ms\n", 3 + (seed % 5) as u8, seed);
        assert!(sim.violations().is_empty(), "seed {seed}: {:?}", sim.violations());
        let events = sim.monitor().events();
        assert!(events.len() > 20, "seed {seed}: only {} events", events.len());
        let mut last_wall = [None; 9];
        for e in events {
            assert_eq!(e.vc, e.truth, "seed {seed}: n{} event {}", e.node, e.seq);
            let last = &mut last_wall[usize::from(e.node) - 1];
            if let Some(w) = *last
                && !e.stepped
            {
                assert!(e.wall >= w, "seed {seed}: n{}'s clock ran back without a step", e.node);
            }
            *last = Some(e.wall);
        }
    }
}

#[test]
fn ntp_sets_a_clock_to_within_half_the_round_trip() {
    for seed in 0..50 {
        let sim = run("set offset 500ms\n", 4, seed);
        for id in 2..=4 {
            let node = sim.node(id).expect("up");
            let sync = node.last_sync().expect("synced within 3s");
            assert!(sync.step_us.unsigned_abs() > 0);
            let error = node.wall_at(sim.local_now_us(id)) - sim.now().as_us() as i64;
            // Half the round trip, plus the drift since (at most 100ppm of 3s).
            let bound = sync.rtt_us / 2 + 300;
            assert!(
                error.abs() <= bound,
                "seed {seed}: n{id} is off by {error}us, beyond {bound}us"
            );
        }
    }
}

#[test]
fn drifting_clocks_misorder_and_lamport_orders_concurrent_events() {
    let misordered = (0..50)
        .filter(|&seed| count(&run("set sync off\nset offset 50ms\n", 4, seed), MISORDERS) > 0)
        .count();
    assert!(
        misordered >= 45,
        "only {misordered} of 50 seeds misordered by wall clock"
    );
    for seed in 0..20 {
        let sim = run("", 4, seed);
        assert!(count(&sim, AMBIGUOUS) > 0, "seed {seed}");
        // Every pair the monitor counts is there to be found: recount the pairs directly.
        let events: Vec<_> = sim.monitor().events().iter().copied().collect();
        let mut pairs = 0;
        for (j, b) in events.iter().enumerate() {
            for a in &events[..j] {
                if !a.before(b) && a.lamport != b.lamport {
                    pairs += 1;
                }
                assert_eq!(a.before(b), vc_less(&a.vc, &b.vc));
            }
        }
        assert_eq!(pairs, count(&sim, AMBIGUOUS), "seed {seed}");
    }
}

/// The first seed (of 1,000) at which `variant` breaks a property, and which it broke.
fn first_catch(variant: &str) -> Option<(u64, &'static str)> {
    (0..1_000).find_map(|seed| {
        let sim = run(&format!("set variant {variant}\n"), 3 + (seed % 3) as u8, seed);
        sim.violations().first().map(|f| (seed, f.violation.property))
    })
}

#[test]
fn each_broken_clock_is_caught() {
    assert_eq!(first_catch("lamport-no-max").map(|c| c.1), Some(CLOCK_CONDITION));
    assert_eq!(first_catch("vc-no-increment").map(|c| c.1), Some(VECTOR));
    assert_eq!(first_catch("vc-receiver-only").map(|c| c.1), Some(VECTOR));
    // And only their own property: a Lamport bug leaves the vectors right, and back.
    for seed in 0..100 {
        let sim = run("set variant lamport-no-max\n", 4, seed);
        assert!(sim.violations().iter().all(|f| f.violation.property == CLOCK_CONDITION));
        let sim = run("set variant vc-receiver-only\n", 4, seed);
        assert!(sim.violations().iter().all(|f| f.violation.property == VECTOR));
    }
}

/// The monitor skips comparisons it can prove the outcome of (a vector below its immediate
/// predecessors' is below their whole past). Redo every comparison the documentation
/// describes, for the correct clocks and each broken one, past the window's length, and
/// expect the same violations, in the same order, naming the same pairs, and the same counts.
#[test]
fn the_monitor_finds_what_comparing_every_pair_finds() {
    // Clocks as they come, clocks left to drift apart, and clocks stepped back and forth by NTP.
    let clocks = ["", "set sync off\nset offset 50ms\n", "set offset 500ms\n"];
    for (variant, seed, clocks) in Variant::ALL
        .iter()
        .flat_map(|v| (0..3).flat_map(move |seed| clocks.map(|c| (v, seed, c))))
    {
        let settings = format!("set event-period 150ms\nset variant {}\n{clocks}", variant.as_str());
        let sim = run_for(&settings, 9, seed, 30);
        let events: Vec<Recorded> = sim.monitor().events().iter().copied().collect();
        assert!(events.len() > 2 * WINDOW, "{variant:?}: only {} events", events.len());
        let (mut expected, mut misorders, mut concurrent, mut ambiguous) = (Vec::new(), 0, 0, 0);
        for (j, b) in events.iter().enumerate() {
            let prev = events[..j].iter().rev().find(|a| a.node == b.node);
            let from = b.from.map(|f| &events[f as usize]);
            let preds = from.into_iter().chain(prev);
            let window = &events[j.saturating_sub(WINDOW)..j];
            let lamport = preds
                .clone()
                .chain(window.iter().filter(|a| a.before(b)))
                .find(|a| a.lamport >= b.lamport);
            let vector = preds
                .clone()
                .find(|a| !vc_less(&a.vc, &b.vc))
                .or_else(|| window.iter().find(|a| a.before(b) != vc_less(&a.vc, &b.vc)));
            for a in window {
                if a.before(b) {
                    misorders += u64::from(a.wall > b.wall);
                } else {
                    concurrent += 1;
                    ambiguous += u64::from(a.lamport != b.lamport);
                }
            }
            expected.extend(lamport.map(|a| (CLOCK_CONDITION, vec![a.node, b.node])));
            expected.extend(vector.map(|a| (VECTOR, vec![a.node, b.node])));
        }
        let found: Vec<_> = sim
            .violations()
            .iter()
            .map(|f| (f.violation.property, f.violation.nodes.clone()))
            .collect();
        let differ = found.iter().zip(&expected).position(|(f, e)| f != e);
        assert!(
            differ.is_none() && found.len() == expected.len(),
            "{variant:?}, seed {seed}, {clocks:?}: {} violations found, {} expected, first difference at {differ:?}",
            found.len(),
            expected.len()
        );
        assert_eq!(
            count(&sim, MISORDERS),
            misorders,
            "{variant:?}, seed {seed}, {clocks:?}"
        );
        assert_eq!(
            count(&sim, CONCURRENT),
            concurrent,
            "{variant:?}, seed {seed}, {clocks:?}"
        );
        assert_eq!(
            count(&sim, AMBIGUOUS),
            ambiguous,
            "{variant:?}, seed {seed}, {clocks:?}"
        );
        if *variant != Variant::Correct {
            assert!(
                !expected.is_empty(),
                "{variant:?}, seed {seed}, {clocks:?}: nothing to compare"
            );
        }
    }
}
