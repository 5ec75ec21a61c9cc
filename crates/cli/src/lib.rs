//! The command-line tool's work, as a library so that the golden tests and the benchmarks
//! call exactly what `deepend run` and `deepend sweep` do.

pub mod check_history;
pub mod expect;
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

/// Something done with a finished run, whatever its protocol.
pub trait WithRun {
    type Output;
    fn finished<P: Protocol>(self, sim: &Sim<P>) -> Self::Output;
}

/// Runs `script` to `until` with the protocol it names and hands the finished run to `with`.
pub fn run_with<W: WithRun>(script: &Script, until: SimTime, with: W) -> Result<W::Output, String> {
    struct Finish<'a, W> {
        script: &'a Script,
        until: SimTime,
        with: W,
    }
    impl<W: WithRun> Visit for Finish<'_, W> {
        type Output = Result<W::Output, String>;
        fn visit<P: Protocol>(self) -> Self::Output {
            let mut sim = Sim::<P>::new(self.script)?;
            sim.run_until(self.until);
            Ok(self.with.finished(&sim))
        }
    }
    chapters::visit(&script.header.protocol, Finish { script, until, with })?
}

/// Renders a finished run: its trace (if asked) and its summary; the flag says whether every
/// safety property held and the history is linearizable.
pub struct Render {
    pub with_trace: bool,
}

impl WithRun for Render {
    type Output = (String, bool);
    fn finished<P: Protocol>(self, sim: &Sim<P>) -> (String, bool) {
        let mut out = String::new();
        if self.with_trace {
            out.push_str(&sim.render_trace());
            out.push('\n');
        }
        let (text, clean) = summary(sim);
        out.push_str(&text);
        (out, clean)
    }
}

/// Runs `script` to `until` and renders the trace (if asked) and a summary; the flag says
/// whether every safety property held and the history is linearizable.
pub fn run_script(script: &Script, until: SimTime, with_trace: bool) -> Result<(String, bool), String> {
    run_with(script, until, Render { with_trace })
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
    let ops = operations(history);
    let verdict = sim.check_history(lin::DEFAULT_BUDGET);
    let _ = writeln!(out, "history: {ops} operations, {}", verdict_text(&verdict));
    let _ = writeln!(out, "liveness: {}", liveness_text(sim.liveness()));
    let clean = sim.violations().is_empty() && !history_failed(&verdict);
    (out, clean)
}

/// How many operations the clients invoked.
pub(crate) fn operations(history: &deepend_core::history::History) -> u64 {
    history
        .events
        .iter()
        .filter(|e| e.kind == deepend_core::history::EventKind::Invoke)
        .count() as u64
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

/// The checker's answer in a line; a malformed history has no verdict, only its error.
pub(crate) fn verdict_text(verdict: &Result<Verdict, String>) -> String {
    match verdict {
        Ok(Verdict::Linearizable) => "linearizable".into(),
        Ok(Verdict::NotLinearizable { key, detail, .. }) => format!("NOT linearizable on k{key}: {detail}"),
        Ok(Verdict::Unknown { key, reason }) => format!("unknown on k{key}: {reason}"),
        Err(e) => format!("no verdict, the recorded history is malformed: {e}"),
    }
}

/// Whether the history fails a run: not linearizable, or malformed (the simulator recorded
/// it wrongly). An unknown verdict is not a failure of the run; sweeps count them apart.
fn history_failed(verdict: &Result<Verdict, String>) -> bool {
    matches!(verdict, Ok(Verdict::NotLinearizable { .. }) | Err(_))
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
    /// The linearizability verdict, or why the history has none (it is malformed).
    pub verdict: Result<Verdict, String>,
    pub liveness: Liveness,
    /// For a failed seed, or one whose history the checker could not decide, the line that
    /// reproduces it.
    pub reproduction: Option<String>,
}

impl SeedResult {
    pub fn failed(&self) -> bool {
        self.violation.is_some() || history_failed(&self.verdict)
    }

    /// The checker ran out of its budget on this seed's history: not a failure, but not a
    /// pass either; a clean sweep has none.
    pub fn unknown(&self) -> bool {
        matches!(self.verdict, Ok(Verdict::Unknown { .. }))
    }
}

/// Runs one sweep seed of protocol `P`: the fault plan's script for `seed`, checkers on,
/// trace off, and the client history checked at the end.
pub fn sweep_seed<P: Protocol>(plan: &FaultPlan, seed: u64) -> Result<SeedResult, String> {
    let sim = deepend_core::faults::run::<P>(plan, seed, false)?;
    let mut result = SeedResult {
        seed,
        events: sim.events_processed(),
        violation: sim.violations().first().cloned(),
        verdict: sim.check_history(lin::DEFAULT_BUDGET),
        liveness: sim.liveness(),
        reproduction: None,
    };
    if result.failed() || result.unknown() {
        // The run's own script holds every action, an adversary's included.
        result.reproduction = Some(reproduction(sim.script()));
    }
    Ok(result)
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

/// A sweep's summary: counts (of unknown histories too), events, liveness percentiles and
/// one line per failed or unknown seed.
pub fn sweep_report(plan: &FaultPlan, results: &[SeedResult]) -> String {
    let mut out = String::new();
    let failed = results.iter().filter(|r| r.failed()).count();
    let unknown = results.iter().filter(|r| r.unknown()).count();
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
        failed,
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
    for r in results.iter().filter(|r| r.failed() || r.unknown()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_history_has_no_verdict_and_fails_the_run() {
        let invalid: Result<Verdict, String> = Err("event 3: client 2 invokes read k1 while ...".into());
        assert_eq!(
            verdict_text(&invalid),
            "no verdict, the recorded history is malformed: event 3: client 2 invokes read k1 while ..."
        );
        assert!(history_failed(&invalid));
        let unknown = Ok(Verdict::Unknown {
            key: 1,
            reason: "budget".into(),
        });
        assert!(!history_failed(&unknown));
        assert!(!history_failed(&Ok(Verdict::Linearizable)));
    }

    #[test]
    fn a_sweep_reports_its_unknown_histories_seed_by_seed() {
        let seed = |seed, verdict| SeedResult {
            seed,
            events: 10,
            violation: None,
            verdict,
            liveness: Liveness::default(),
            reproduction: Some(format!("deepend run --compact 'seed{seed}'")),
        };
        let unknown = Verdict::Unknown {
            key: 1,
            reason: "the search ran out of its budget".into(),
        };
        let results = [seed(6, Ok(Verdict::Linearizable)), seed(7, Ok(unknown))];
        let report = sweep_report(&FaultPlan::default(), &results);
        assert!(report.contains(": 0 failed, 1 histories unknown, "), "{report}");
        assert!(
            report.contains(
                "seed 7: unknown on k1: the search ran out of its budget\n  reproduce: deepend run --compact 'seed7'\n"
            ),
            "{report}"
        );
        assert!(!report.contains("seed 6"), "{report}");
    }
}
