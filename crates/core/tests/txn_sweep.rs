//! Seed sweeps over the transactions chapter: a thousand seeds of random faults per correct
//! configuration with no violation (and every transaction or order settled once the faults
//! stop), and every broken variant (and the two broken payment designs) caught.
//!
//! A run is the engine's fault plan (`faults::random_script`: partitions, cuts, crashes,
//! restarts, pauses, loss, duplication, clock skew, forced timeouts; then two seconds of calm
//! with everything healed and restarted) without its key-value requests, and with the
//! chapter's own load: the client begins a transaction, an order or a payment every `auto`.
//! Faulty steps come from `fail-rate`. A failing seed prints the script that reproduces it.

use deepend_core::SimTime;
use deepend_core::faults::{self, FaultPlan};
use deepend_core::script::{Action, Script};
use deepend_core::sim::Sim;
use deepend_core::txn::{PayOutcome, State, Txn};

const SEEDS: u64 = 1_000;
const RUN_US: u64 = 10_000_000;

fn script(settings: &[(&str, &str)], seed: u64) -> Script {
    let plan = FaultPlan {
        protocol: "txn".into(),
        nodes: 5,
        duration_us: RUN_US,
        settings: settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..FaultPlan::default()
    };
    let mut script = faults::random_script(&plan, seed);
    script
        .actions
        .retain(|a| !matches!(a.action, Action::Load { .. } | Action::Request { .. }));
    script
}

fn run(settings: &[(&str, &str)], seed: u64) -> Sim<Txn> {
    let mut sim = Sim::<Txn>::with_trace(&script(settings, seed), false).expect("a valid script");
    sim.run_until(SimTime(RUN_US));
    sim
}

/// What is still unsettled at the end of a run, two seconds after the faults stopped: a
/// participant prepared for over a second, a request waiting for a lock for over two, an
/// order begun over two seconds ago that is not completed or cancelled. `None` when all is settled.
fn unsettled(sim: &Sim<Txn>) -> Option<String> {
    for id in 1..=sim.node_count() {
        let Some(node) = sim.node(id) else {
            return Some(format!("n{id} is down"));
        };
        let local = sim.local_now_us(id);
        match &node.state {
            State::Participant(p) => {
                if let Some(p) = p.prepared.iter().find(|p| local.saturating_sub(p.since_us) > 1_000_000) {
                    return Some(format!("n{id} has been prepared for t{} since {}us", p.tx, p.since_us));
                }
                if let Some(w) = p.waiting.iter().find(|w| local.saturating_sub(w.since_us) > 2_000_000) {
                    return Some(format!("t{} has waited for n{id}'s lock since {}us", w.tx, w.since_us));
                }
            }
            State::Saga(s) if id == sim.node_count() => {
                if let Some(r) = s
                    .rows
                    .iter()
                    .find(|r| r.done.is_none() && local.saturating_sub(r.since_us) > 2_000_000)
                {
                    return Some(format!("order {} begun at {}us is unsettled", r.order, r.since_us));
                }
            }
            _ => {}
        }
    }
    None
}

/// Runs every seed on two threads: `check` returns why a run failed.
fn sweep(settings: &[(&str, &str)], check: impl Fn(&Sim<Txn>) -> Option<String> + Sync) -> Vec<(u64, String)> {
    let check = &check;
    let mut failed: Vec<(u64, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|part| {
                s.spawn(move || {
                    (0..SEEDS)
                        .filter(|seed| seed % 2 == part)
                        .filter_map(|seed| check(&run(settings, seed)).map(|why| (seed, why)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("no panic")).collect()
    });
    failed.sort_by_key(|f| f.0);
    failed
}

fn clean(settings: &[(&str, &str)]) {
    let events = std::sync::atomic::AtomicU64::new(0);
    let failed = sweep(settings, |sim| {
        events.fetch_add(sim.events_processed(), std::sync::atomic::Ordering::Relaxed);
        // Even a run whose client was down until the calm begins transactions in those two
        // seconds.
        if sim.events_processed() < 50 {
            return Some(format!(
                "only {} events: the run did no real work",
                sim.events_processed()
            ));
        }
        if let Some(v) = sim.violations().first() {
            return Some(format!("{}: {}", v.violation.property, v.violation.detail));
        }
        unsettled(sim)
    });
    println!("{settings:?}: {} events in {SEEDS} seeds", events.into_inner());
    if let Some((seed, why)) = failed.first() {
        panic!(
            "{} of {SEEDS} seeds failed; the first, seed {seed}: {why}\n{}",
            failed.len(),
            script(settings, *seed)
        );
    }
}

/// The seeds (of the first thousand) whose run reports `property`.
fn caught(settings: &[(&str, &str)], property: &str) -> Vec<u64> {
    sweep(settings, |sim| {
        sim.violations()
            .iter()
            .any(|f| f.violation.property == property)
            .then(String::new)
    })
    .into_iter()
    .map(|f| f.0)
    .collect()
}

const TWO_PC: &[(&str, &str)] = &[("scenario", "2pc"), ("auto", "200ms"), ("fail-rate", "10%")];
const SAGA: &[(&str, &str)] = &[("scenario", "saga"), ("auto", "300ms"), ("fail-rate", "15%")];
const PAY: &[(&str, &str)] = &[("scenario", "idempotency"), ("auto", "400ms"), ("retry-after", "300ms")];

fn with<'a>(base: &[(&'a str, &'a str)], more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter().chain(more).copied().collect()
}

#[test]
fn two_phase_commit_thousand_seeds() {
    clean(TWO_PC);
}

#[test]
fn two_phase_commit_with_cooperative_termination_thousand_seeds() {
    clean(&with(TWO_PC, &[("termination", "on")]));
}

#[test]
fn choreographed_saga_thousand_seeds() {
    clean(SAGA);
}

#[test]
fn orchestrated_saga_thousand_seeds() {
    clean(&with(SAGA, &[("style", "orchestration")]));
}

#[test]
fn pending_first_payments_thousand_seeds() {
    clean(&with(PAY, &[("design", "pending-first")]));
    // The runs do real work: payments succeed.
    let sim = run(&with(PAY, &[("design", "pending-first")]), 0);
    let Some(State::PayClient(c)) = sim.node(5).map(|n| &n.state) else {
        panic!("n5 is the paying client")
    };
    assert!(c.intents.iter().filter(|i| i.outcome == PayOutcome::Paid).count() > 5);
}

/// Each broken variant, and each broken payment design, is caught within the thousand seeds.
#[test]
fn every_broken_variant_is_caught() {
    let cases: [(Vec<(&str, &str)>, &str); 7] = [
        (with(TWO_PC, &[("variant", "no-decision-log")]), "Atomicity"),
        (with(TWO_PC, &[("variant", "forget-prepared")]), "Prepared Locks Held"),
        (with(SAGA, &[("variant", "refund-not-idempotent")]), "Compensation Once"),
        (with(SAGA, &[("variant", "forget-compensation")]), "Saga Outcome"),
        (with(PAY, &[("variant", "no-processor-key")]), "Exactly-Once Charge"),
        (with(PAY, &[("design", "none")]), "Exactly-Once Charge"),
        (with(PAY, &[("design", "select-then-insert")]), "Exactly-Once Charge"),
    ];
    for (settings, property) in cases {
        let seeds = caught(&settings, property);
        println!(
            "{settings:?}: {property} in {} seeds, first {:?}",
            seeds.len(),
            seeds.first()
        );
        assert!(!seeds.is_empty(), "{settings:?} was never caught breaking {property}");
    }
}
