//! `deepend check-history <file|->`: checks a client history file for linearizability.
//!
//! The file format is described in `docs/history-format.md`. The exit status says what was
//! found, so that scripts can branch on it:
//!
//! | status | meaning |
//! |---|---|
//! | 0 | linearizable |
//! | 1 | not linearizable (the operation that cannot be placed is printed) |
//! | 2 | bad input: bad arguments, an unreadable file, malformed JSON, or an invalid history |
//! | 3 | unknown: the search ran out of its step budget (try a larger `--budget`) |

use deepend_core::history::{EventKind, History, parse_json};
use deepend_core::lin::{self, Verdict};
use std::collections::BTreeSet;
use std::io::Read as _;

pub const EXIT_LINEARIZABLE: i32 = 0;
pub const EXIT_NOT_LINEARIZABLE: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
pub const EXIT_UNKNOWN: i32 = 3;

pub const USAGE: &str = "\
usage: deepend check-history [--budget STEPS] <FILE | ->

Checks a client history (a JSON array of invoke/ok/fail/info events, see
docs/history-format.md) for linearizability, key by key. `-` reads standard input.

options:
  --budget STEPS  search steps to spend before answering unknown (default 10000000)
  -h, --help      print this help

exit status: 0 linearizable, 1 not linearizable, 2 bad input, 3 unknown (budget exhausted)
";

/// Runs the subcommand on its arguments (those after `check-history`) and returns the exit
/// status.
pub fn main(args: &[String]) -> i32 {
    let (path, budget) = match parse_args(args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            print!("{USAGE}");
            return 0;
        }
        Err(e) => {
            eprintln!("deepend check-history: {e}\n\n{USAGE}");
            return EXIT_BAD_INPUT;
        }
    };
    let shown = if path == "-" { "<stdin>" } else { path.as_str() };
    let history = match read(&path).and_then(|text| parse_json(&text)) {
        Ok(history) => history,
        Err(e) => {
            eprintln!("deepend check-history: {shown}: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    match lin::check(&history, budget) {
        Ok(Verdict::Linearizable) => {
            println!("linearizable: {}", counts(&history));
            EXIT_LINEARIZABLE
        }
        Ok(Verdict::NotLinearizable { key, detail, .. }) => {
            println!("not linearizable on key {key}: {detail}");
            EXIT_NOT_LINEARIZABLE
        }
        Ok(Verdict::Unknown { key, reason }) => {
            println!("unknown on key {key}: {reason}");
            EXIT_UNKNOWN
        }
        Err(e) => {
            eprintln!("deepend check-history: {shown}: invalid history: {e}");
            EXIT_BAD_INPUT
        }
    }
}

/// The file and the budget; `None` when help was asked for.
fn parse_args(args: &[String]) -> Result<Option<(String, u64)>, String> {
    let mut path: Option<String> = None;
    let mut budget = lin::DEFAULT_BUDGET;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--budget" => {
                let value = rest.next().ok_or("--budget needs a number of steps")?;
                budget = parse_budget(value)?;
            }
            _ if arg.starts_with("--budget=") => budget = parse_budget(&arg["--budget=".len()..])?,
            _ if arg.starts_with('-') && arg != "-" => return Err(format!("unknown option {arg:?}")),
            _ if path.is_some() => return Err(format!("one history file at a time; {arg:?} is a second one")),
            _ => path = Some(arg.clone()),
        }
    }
    let path = path.ok_or("missing the history file (or - for standard input)")?;
    Ok(Some((path, budget)))
}

fn parse_budget(value: &str) -> Result<u64, String> {
    value
        .replace('_', "")
        .parse()
        .map_err(|_| format!("--budget takes a whole number of steps, not {value:?}"))
}

fn read(path: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    let result = if path == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    result.map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// "12 operations by 3 clients on 2 keys".
fn counts(history: &History) -> String {
    let invokes = history.events.iter().filter(|e| e.kind == EventKind::Invoke);
    let ops = invokes.clone().count();
    let clients: BTreeSet<_> = invokes.clone().map(|e| e.client).collect();
    let keys: BTreeSet<_> = invokes.map(|e| e.op.key()).collect();
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{} by {} on {}",
        plural(ops, "operation", "operations"),
        plural(clients.len(), "client", "clients"),
        plural(keys.len(), "key", "keys")
    )
}
