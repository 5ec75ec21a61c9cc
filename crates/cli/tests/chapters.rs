//! The echo test chapter, added through the registry alone, runs in the command-line tool:
//! its golden script gives a clean summary, and its broken variant is caught by its checker.
//! Built with `--features echo` (`cargo xtask test` does).

#![cfg(feature = "echo")]

use deepend_cli::{default_until, duration_setting, run_script};
use deepend_core::script::parse;

const STEADY: &str = include_str!("../../../tests/golden/echo/steady.script");

#[test]
fn the_echo_chapter_runs_from_the_registry() {
    let script = parse(STEADY).unwrap();
    let until = duration_setting(&script).unwrap_or_else(|| default_until(&script));
    let (out, clean) = run_script(&script, until, true).unwrap();
    assert!(clean, "{out}");
    assert!(out.contains("n1 up steady"), "n1 ends steady: {out}");
    assert!(out.contains("Echo"), "the trace shows echoes: {out}");
}

#[test]
fn the_echo_checker_catches_its_broken_variant() {
    let script = parse(&STEADY.replace("set duration", "set variant wrong-echo\nset duration")).unwrap();
    let (out, clean) = run_script(&script, default_until(&script), false).unwrap();
    assert!(!clean, "{out}");
    assert!(out.contains("VIOLATION Echo Matches"), "{out}");
}
