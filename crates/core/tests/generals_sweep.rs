//! Seed sweeps of the generals chapter: 1,000 seeds per configuration. Where the theory
//! promises safety (OM(m) with n >= 3m+1 and at most m traitors; SM(m) with at most m traitors,
//! whatever n), no seed breaks a property; where it does not (Two Generals with any k; OM with
//! n = 3 and one traitor; OM past its bound), the sweep finds runs that break one; and each
//! broken variant is caught within 1,000 seeds.
//!
//! Each seed runs three campaigns (Two Generals: ten) back to back; the seed picks which nodes
//! are traitors and their strategy (random, split or retreat). A failing seed reproduces with
//! `Trial::script(seed)`, which the assertions print.

use deepend_core::generals::monitor::{AGREEMENT, IC1, IC2};
use deepend_core::generals::trial::{Outcome, Trial};
use deepend_core::generals::{Mode, Variant};

const SEEDS: u64 = 1_000;

/// Runs every seed; returns the seeds that broke something, with their outcomes.
fn sweep(trial: Trial) -> Vec<(u64, Outcome)> {
    (0..SEEDS)
        .map(|seed| (seed, trial.run(seed)))
        .filter(|(_, o)| o.broken > 0)
        .collect()
}

fn assert_safe(trial: Trial) {
    let failed = sweep(trial);
    if let Some((seed, outcome)) = failed.first() {
        panic!(
            "{} of {SEEDS} seeds broke {trial:?}; the first, {outcome:?}:\n{}",
            failed.len(),
            trial.script(*seed)
        );
    }
}

/// The theory allows a violation here: the sweep must find one, of one of `properties`.
fn assert_found(trial: Trial, properties: &[&str]) -> usize {
    let failed = sweep(trial);
    eprintln!(
        "{trial:?}: {} of {SEEDS} seeds broke a property (first: seed {:?})",
        failed.len(),
        failed.first().map(|f| f.0)
    );
    assert!(!failed.is_empty(), "no seed of {trial:?} broke a property");
    for (seed, outcome) in &failed {
        assert!(
            outcome.first.is_some_and(|p| properties.contains(&p)),
            "seed {seed}: {outcome:?}"
        );
    }
    failed.len()
}

fn om(nodes: u8, m: u8, traitors: u8) -> Trial {
    Trial {
        mode: Mode::Om,
        nodes,
        m,
        traitors,
        ..Trial::default()
    }
}

fn sm(nodes: u8, m: u8, traitors: u8) -> Trial {
    Trial {
        mode: Mode::Sm,
        ..om(nodes, m, traitors)
    }
}

#[test]
fn om_is_safe_with_n_at_least_3m_plus_1() {
    assert_safe(om(4, 1, 1));
    assert_safe(om(5, 1, 1));
    assert_safe(om(7, 2, 2));
    // Fewer traitors than m is fine too.
    assert_safe(om(7, 2, 1));
}

#[test]
fn om_breaks_below_its_bound() {
    // n = 3, m = 1: a traitorous lieutenant makes a loyal one retreat from an attack order.
    let n3 = assert_found(om(3, 1, 1), &[IC1, IC2]);
    assert!(n3 > 50, "{n3}");
    // m + 1 traitors among 3m + 1 generals.
    assert_found(om(4, 1, 2), &[IC1, IC2]);
    // OM(1) among 7 generals is not OM(2): two traitors can win.
    assert_found(om(7, 1, 2), &[IC1, IC2]);
}

#[test]
fn sm_is_safe_with_any_number_of_traitors_up_to_m() {
    assert_safe(sm(3, 1, 1));
    assert_safe(sm(4, 2, 2));
    assert_safe(sm(5, 3, 3));
    assert_safe(sm(4, 1, 1));
}

#[test]
fn two_generals_disagree_for_every_k() {
    for k in 0..=5 {
        let trial = Trial {
            mode: Mode::TwoGenerals,
            nodes: 2,
            k,
            loss_ppm: 200_000,
            traitors: 0,
            campaigns: 10,
            ..Trial::default()
        };
        assert_found(trial, &[AGREEMENT]);
    }
    // More messengers per step make it rare, never impossible.
    let trial = Trial {
        mode: Mode::TwoGenerals,
        nodes: 2,
        k: 1,
        messengers: 3,
        loss_ppm: 300_000,
        traitors: 0,
        campaigns: 10,
        ..Trial::default()
    };
    assert_found(trial, &[AGREEMENT]);
}

#[test]
fn two_generals_without_loss_always_agree() {
    for k in [0, 3] {
        assert_safe(Trial {
            mode: Mode::TwoGenerals,
            nodes: 2,
            k,
            traitors: 0,
            campaigns: 10,
            ..Trial::default()
        });
    }
}

#[test]
fn broken_om_without_recursion_is_caught_at_n_4() {
    let trial = Trial {
        variant: Variant::NoRecursion,
        ..om(4, 1, 1)
    };
    let failed = sweep(trial);
    let (seed, outcome) = failed.first().expect("no-recursion survived 1,000 seeds");
    eprintln!("no-recursion: caught at seed {seed}: {outcome:?}");
    assert!(*seed < 50, "took {} seeds", seed + 1);
    assert_eq!(outcome.first, Some(IC1));
}

#[test]
fn broken_sm_without_relays_is_caught() {
    let trial = Trial {
        variant: Variant::SmNoRelay,
        ..sm(3, 1, 1)
    };
    let failed = sweep(trial);
    let (seed, outcome) = failed.first().expect("sm-no-relay survived 1,000 seeds");
    eprintln!("sm-no-relay: caught at seed {seed}: {outcome:?}");
    assert!(*seed < 50, "took {} seeds", seed + 1);
    assert_eq!(outcome.first, Some(IC1));
}
