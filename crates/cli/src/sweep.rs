//! `deepend sweep`: many seeds of random faults, on every core.
//!
//! Each seed's script comes from the fault plan (`deepend_core::faults`), so a failing seed
//! is reproduced exactly by the one line printed for it, and so is a seed whose history the
//! checker could not decide within its budget. Exit status: 0 when every seed held every
//! property with a linearizable history, 1 when one failed, 2 for bad arguments, 3 when none
//! failed but some histories are unknown.

use crate::{sweep, sweep_report};
use deepend_core::faults::FaultPlan;
use deepend_core::time::parse_duration_us;

pub const USAGE: &str = "\
usage: deepend sweep [options]

Runs seeds of random faults (partitions, cuts, crashes, restarts, pauses, loss,
duplication, clock skew, forced timeouts) under client load, with every checker on, and
prints a summary and one reproducing line per failure.

options:
  --protocol NAME      protocol to run (default raft)
  --variant NAME       a deliberately broken variant, e.g. commit-old-terms
  --set KEY=VALUE      any other setting, as in a script's `set` line (repeatable)
  --seeds N            number of seeds (default 1000)
  --first N            first seed (default 0)
  --nodes N            cluster size, 1 to 9 (default 5)
  --duration D         simulated time per seed (default 10s)
  --load N             client operations per second (default 20)
  --plan random|churn  random: a schedule of faults drawn from the seed (default); churn: an
                       adversary that reads the run and crashes leaders at bad moments,
                       restarts, partitions, heals and forces timeouts every 20-250ms
  --threads N          worker threads (default: every core)
  -h, --help           print this help

exit status: 0 no violations, 1 a violation or a non-linearizable history, 2 bad arguments,
3 no failure but some histories unknown (the checker ran out of its budget)
";

pub fn main(args: &[String]) -> i32 {
    let (plan, first, count, threads) = match parse_args(args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            print!("{USAGE}");
            return 0;
        }
        Err(message) => {
            eprintln!("deepend sweep: {message}");
            return 2;
        }
    };
    match sweep(&plan, first, count, threads) {
        Ok(results) => {
            crate::emit(&sweep_report(&plan, &results));
            if results.iter().any(|r| r.failed()) {
                1
            } else if results.iter().any(|r| r.unknown()) {
                3
            } else {
                0
            }
        }
        Err(message) => {
            eprintln!("deepend sweep: {message}");
            2
        }
    }
}

type Parsed = (FaultPlan, u64, u64, usize);

fn parse_args(args: &[String]) -> Result<Option<Parsed>, String> {
    let mut plan = FaultPlan::default();
    let (mut first, mut count) = (0u64, 1_000u64);
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().cloned().ok_or_else(|| format!("{arg} needs {what}"));
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("{arg}: \"{text}\" is not a number"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--protocol" => plan.protocol = value("a protocol name")?,
            "--variant" => plan.settings.push(("variant".into(), value("a variant name")?)),
            "--set" => {
                let pair = value("KEY=VALUE")?;
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("--set: \"{pair}\" is not KEY=VALUE"))?;
                plan.settings.push((k.trim().into(), v.trim().into()));
            }
            "--seeds" => count = number(value("a number")?)?,
            "--first" => first = number(value("a number")?)?,
            "--nodes" => {
                plan.nodes = u8::try_from(number(value("a number")?)?)
                    .ok()
                    .filter(|n| (1..=9).contains(n))
                    .ok_or("--nodes must be 1 to 9")?
            }
            "--duration" => {
                plan.duration_us = parse_duration_us(&value("a duration")?).map_err(|e| format!("--duration: {e}"))?
            }
            "--load" => {
                plan.load_per_sec = u32::try_from(number(value("a number")?)?).map_err(|_| "--load is too large")?
            }
            "--plan" => {
                plan.churn = match value("random or churn")?.as_str() {
                    "random" => false,
                    "churn" => true,
                    other => return Err(format!("--plan: \"{other}\" is not random or churn")),
                }
            }
            "--threads" => threads = usize::try_from(number(value("a number")?)?.max(1)).unwrap_or(1),
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        }
    }
    Ok(Some((plan, first, count, threads)))
}
