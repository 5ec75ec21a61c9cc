//! The command-line tool's work, as a library so that the golden tests and the benchmarks
//! call exactly what `deepend run` and `deepend sweep` do.

pub mod check_history;
pub mod run;
pub mod sweep;

use deepend_core::chapters::{self, Visit};
use deepend_core::faults::FaultPlan;
use deepend_core::lin::{self, Verdict};
use deepend_core::protocol::Protocol;
use deepend_core::script::Script;
use deepend_core::sim::{Found, Liveness, Sim};
use deepend_core::{NodeId, SimTime};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes a command's output; a reader that went away (`| head`) is not an error worth a panic.
pub fn emit(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// The run length a script asks for with `set duration 5s`, if any.
pub fn duration_setting(script: &Script) -> Option<SimTime> {
    let (_, value) = script.header.settings.iter().rev().find(|(k, _)| k == "duration")?;
    deepend_core::time::parse_duration_us(value).ok().map(SimTime)
}

/// How long a script runs when it does not say: its last action plus two seconds.
pub fn default_until(script: &Script) -> SimTime {
    script
        .actions
        .last()
        .map_or(SimTime::ZERO, |a| a.at)
        .saturating_add_us(2_000_000)
}

/// Runs `script` to `until` and renders the trace (if asked) and a summary; the flag says
/// whether every safety property held and the history is linearizable.
pub fn run_script(script: &Script, until: SimTime, with_trace: bool) -> Result<(String, bool), String> {
    struct Render<'a> {
        script: &'a Script,
        until: SimTime,
        with_trace: bool,
    }
    impl Visit for Render<'_> {
        type Output = Result<(String, bool), String>;
        fn visit<P: Protocol>(self) -> Self::Output {
            let mut sim = Sim::<P>::new(self.script)?;
            sim.run_until(self.until);
            let mut out = String::new();
            if self.with_trace {
                out.push_str(&sim.render_trace());
                out.push('\n');
            }
            let (text, clean) = summary(&sim);
            out.push_str(&text);
            Ok((out, clean))
        }
    }
    chapters::visit(
        &script.header.protocol,
        Render {
            script,
            until,
            with_trace,
        },
    )?
}

/// The end state of a run in a few readable lines: nodes, violations, history, liveness; and
/// whether every property held and the history is linearizable.
pub fn summary<P: Protocol>(sim: &Sim<P>) -> (String, bool) {
    let mut out = String::new();
    let _ = writeln!(out, "at {}", sim.now());
    for id in 1..=sim.node_count() {
        let status = sim.status(id).as_str();
        match sim.node(id) {
            Some(node) => {
                let _ = writeln!(
                    out,
                    "n{id} {status} {} term={} {}",
                    node.role().as_str(),
                    node.term(),
                    node.describe()
                );
            }
            None => {
                let _ = writeln!(out, "n{id} {status}");
            }
        }
    }
    if sim.violations().is_empty() {
        let _ = writeln!(out, "safety: all properties held");
    }
    for found in sim.violations() {
        let _ = writeln!(out, "VIOLATION {}", describe_violation(found, true));
    }
    let history = sim.history();
    let ops = history
        .events
        .iter()
        .filter(|e| e.kind == deepend_core::history::EventKind::Invoke)
        .count();
    let verdict = lin::check(history, lin::DEFAULT_BUDGET);
    let _ = writeln!(out, "history: {ops} operations, {}", verdict_text(&verdict));
    let _ = writeln!(out, "liveness: {}", liveness_text(sim.liveness()));
    let clean = sim.violations().is_empty() && !matches!(verdict, Verdict::NotLinearizable { .. });
    (out, clean)
}

fn describe_violation(found: &Found, with_event: bool) -> String {
    let nodes: Vec<String> = found.violation.nodes.iter().map(|n: &NodeId| format!("n{n}")).collect();
    let event = if with_event {
        format!("event {}, ", found.event)
    } else {
        String::new()
    };
    format!(
        "{} at {} ({event}nodes {}): {}",
        found.violation.property,
        found.time,
        nodes.join(" "),
        found.violation.detail
    )
}

fn verdict_text(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Linearizable => "linearizable".into(),
        Verdict::NotLinearizable { key, detail, .. } => format!("NOT linearizable on k{key}: {detail}"),
        Verdict::Unknown { key, reason } => format!("unknown on k{key}: {reason}"),
    }
}

fn liveness_text(l: Liveness) -> String {
    let ms = |us: Option<u64>| us.map_or("never".to_string(), |us| format!("{}.{:03}ms", us / 1_000, us % 1_000));
    let mut text = format!("first leader after {}", ms(l.election_us()));
    if l.last_heal.is_some() {
        let _ = write!(
            text,
            ", first commit {} after the last heal",
            ms(l.commit_after_heal_us())
        );
    }
    text
}

/// The outcome of one sweep seed.
#[derive(Clone, Debug)]
pub struct SeedResult {
    pub seed: u64,
    pub events: u64,
    pub violation: Option<Found>,
    pub verdict: Verdict,
    pub liveness: Liveness,
    /// For a failed seed, the line that reproduces it.
    pub reproduction: Option<String>,
}

impl SeedResult {
    pub fn failed(&self) -> bool {
        self.violation.is_some() || matches!(self.verdict, Verdict::NotLinearizable { .. })
    }
}

/// Runs one sweep seed of protocol `P`: the fault plan's script for `seed`, checkers on,
/// trace off, and the client history checked at the end.
pub fn sweep_seed<P: Protocol>(plan: &FaultPlan, seed: u64) -> Result<SeedResult, String> {
    let sim = deepend_core::faults::run::<P>(plan, seed, false)?;
    let verdict = lin::check(sim.history(), lin::DEFAULT_BUDGET);
    let violation = sim.violations().first().cloned();
    let failed = violation.is_some() || matches!(verdict, Verdict::NotLinearizable { .. });
    Ok(SeedResult {
        seed,
        events: sim.events_processed(),
        // The run's own script holds every action, an adversary's included.
        reproduction: failed.then(|| reproduction(sim.script())),
        violation,
        verdict,
        liveness: sim.liveness(),
    })
}

/// Runs seeds `first..first + count` on `threads` threads; results come back in seed order.
pub fn sweep(plan: &FaultPlan, first: u64, count: u64, threads: usize) -> Result<Vec<SeedResult>, String> {
    struct Seeds;
    impl Visit for Seeds {
        type Output = fn(&FaultPlan, u64) -> Result<SeedResult, String>;
        fn visit<P: Protocol>(self) -> Self::Output {
            sweep_seed::<P>
        }
    }
    let run = chapters::visit(&plan.protocol, Seeds)?;
    // Fail fast on a bad plan (an unknown variant, say) before starting threads.
    run(plan, first)?;
    let next = AtomicU64::new(first);
    let results = Mutex::new(Vec::with_capacity(count as usize));
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= first + count {
                        break;
                    }
                    let result = run(plan, seed).expect("the plan ran for the first seed");
                    results
                        .lock()
                        .expect("no thread panics while holding the lock")
                        .push(result);
                }
            });
        }
    });
    let mut results = results.into_inner().expect("all threads joined");
    results.sort_by_key(|r| r.seed);
    Ok(results)
}

/// The one line that reproduces a run: its whole script in the compact form.
pub fn reproduction(script: &Script) -> String {
    format!(
        "deepend run --compact '{}'",
        deepend_core::script::encode_compact(script)
    )
}

/// A sweep's summary: counts, events, liveness percentiles and one line per failure.
pub fn sweep_report(plan: &FaultPlan, results: &[SeedResult]) -> String {
    let mut out = String::new();
    let failed: Vec<&SeedResult> = results.iter().filter(|r| r.failed()).collect();
    let unknown = results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Unknown { .. }))
        .count();
    let events: u64 = results.iter().map(|r| r.events).sum();
    let _ = writeln!(
        out,
        "{} seeds of {} with {} nodes, {} s each, settings [{}]: {} failed, {} histories unknown, {} events",
        results.len(),
        plan.protocol,
        plan.nodes,
        plan.duration_us / 1_000_000,
        plan.settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" "),
        failed.len(),
        unknown,
        events
    );
    let mut elections: Vec<u64> = results.iter().filter_map(|r| r.liveness.election_us()).collect();
    let mut recoveries: Vec<u64> = results
        .iter()
        .filter_map(|r| r.liveness.commit_after_heal_us())
        .collect();
    let _ = writeln!(
        out,
        "first leader:           {}",
        percentiles(&mut elections, results.len())
    );
    let _ = writeln!(
        out,
        "commit after last heal: {}",
        percentiles(&mut recoveries, results.len())
    );
    for r in failed {
        let what = match (&r.violation, &r.verdict) {
            // Sweeps run without a trace, so there is no event number to give.
            (Some(found), _) => describe_violation(found, false),
            (None, verdict) => verdict_text(verdict),
        };
        let _ = writeln!(
            out,
            "seed {}: {what}\n  reproduce: {}",
            r.seed,
            r.reproduction.as_deref().unwrap_or("(none)")
        );
    }
    out
}

fn percentiles(values: &mut [u64], runs: usize) -> String {
    if values.is_empty() {
        return format!("never (0 of {runs} runs)");
    }
    values.sort_unstable();
    let at = |q: usize| values[(values.len() - 1) * q / 100] as f64 / 1_000.0;
    format!(
        "p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} of {runs} runs)",
        at(50),
        at(95),
        at(100),
        values.len()
    )
}
