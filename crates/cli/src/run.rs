//! `deepend run`: runs a script and prints its summary, or its whole trace and summary.
//!
//! Exit status: 0 when every safety property held and the history is linearizable, 1 when a
//! property broke or the history is not linearizable, 2 for bad input (the message names the
//! line and column of a script error).

use crate::{default_until, duration_setting, run_script};
use deepend_core::SimTime;
use deepend_core::script::{Script, decode_compact, parse};
use deepend_core::time::parse_duration_us;
use std::io::Read as _;

pub const USAGE: &str = "\
usage: deepend run [--trace] [--until DURATION] <FILE | - | --compact STRING>

Runs a script (the text format of docs/script-format.md, or with --compact the form a
share link carries) and prints a summary of the end state: every node, the safety
properties, the client history's linearizability and when a leader appeared.

options:
  --trace             print every event before the summary
  --until DURATION    how long to run (default: the script's `set duration`, else its last
                      action plus 2s)
  --compact STRING    read the script from its compact form instead of a file
  -h, --help          print this help

exit status: 0 all held, 1 a violation or a non-linearizable history, 2 bad input
";

pub fn main(args: &[String]) -> i32 {
    match parse_args(args).and_then(|opts| opts.map(execute).transpose()) {
        Ok(Some(status)) => status,
        Ok(None) => {
            print!("{USAGE}");
            0
        }
        Err(message) => {
            eprintln!("deepend run: {message}");
            2
        }
    }
}

struct Options {
    trace: bool,
    until: Option<SimTime>,
    script: Script,
}

fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut trace = false;
    let mut until = None;
    let mut script = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--trace" => trace = true,
            "--until" => {
                let value = args.next().ok_or("--until needs a duration, like 5s")?;
                until = Some(SimTime(parse_duration_us(value).map_err(|e| format!("--until: {e}"))?));
            }
            "--compact" => {
                let value = args.next().ok_or("--compact needs the compact script")?;
                script = Some(decode_compact(value).map_err(|e| format!("compact script, {e}"))?);
            }
            path if !path.starts_with("--") || path == "-" => {
                let text = read_input(path)?;
                script = Some(parse(&text).map_err(|e| format!("{path}: {e}"))?);
            }
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        }
    }
    let script = script.ok_or_else(|| format!("no script given\n\n{USAGE}"))?;
    Ok(Some(Options { trace, until, script }))
}

fn read_input(path: &str) -> Result<String, String> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
    }
}

fn execute(opts: Options) -> Result<i32, String> {
    let until = opts
        .until
        .or_else(|| duration_setting(&opts.script))
        .unwrap_or_else(|| default_until(&opts.script));
    let (text, clean) = run_script(&opts.script, until, opts.trace)?;
    crate::emit(&text);
    Ok(if clean { 0 } else { 1 })
}
