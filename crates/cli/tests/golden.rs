//! Golden scenario scripts, in the manner of etcd's and toyDB's data-driven tests: each
//! chapter has a directory `tests/golden/CHAPTER/` at the repository root (one per chapter of
//! the registry), and each `NAME.script` there runs to its `set duration` (or to its
//! last action plus two seconds) and its whole trace and summary must equal
//! `NAME.expected`. After an intended change, regenerate with `UPDATE_GOLDEN=1 cargo test
//! -p deepend-cli --test golden` and review the diff like code.
//!
//! Each script also states what it shows in `# expect:` comment lines (see
//! `deepend_cli::expect` and docs/script-format.md), checked against the finished run on
//! every run of this test, with `UPDATE_GOLDEN=1` too: a regenerated trace cannot quietly stop
//! showing it. A script without any expectation fails.

use deepend_cli::default_until;
use deepend_cli::expect::{parse as parse_expectations, run_checked};
use deepend_core::chapters;
use deepend_core::script::parse;
use std::path::PathBuf;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden")
}

#[test]
fn golden_scenarios() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut scripts: Vec<PathBuf> = Vec::new();
    for chapter in chapters::ALL {
        let dir = golden_dir().join(chapter.name);
        let before = scripts.len();
        scripts.extend(
            std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: every chapter has golden scripts: {e}", dir.display()))
                .map(|e| e.expect("readable entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "script")),
        );
        assert!(scripts.len() > before, "{} holds no script", dir.display());
    }
    scripts.sort();
    assert!(scripts.len() >= 10, "the golden scenarios are all there");
    let mut failures = Vec::new();
    for path in &scripts {
        let text = std::fs::read_to_string(path).expect("readable script");
        let script = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let chapter = path.parent().and_then(|d| d.file_name()).and_then(|d| d.to_str());
        assert_eq!(
            chapter,
            Some(script.header.protocol.as_str()),
            "{} lives in its chapter's directory",
            path.display()
        );
        let until = deepend_cli::duration_setting(&script).unwrap_or_else(|| default_until(&script));
        let expectations = parse_expectations(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if expectations.is_empty() {
            failures.push(format!(
                "{} states no expectation: add `# expect: ...` lines saying what it shows",
                path.display()
            ));
        }
        let (got, unmet) = run_checked(&text, &script, until).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        failures.extend(unmet.iter().map(|u| format!("{}: {u}", path.display())));
        let expected_path = path.with_extension("expected");
        if update {
            std::fs::write(&expected_path, &got).expect("writable golden file");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            let line = got
                .lines()
                .zip(expected.lines())
                .position(|(a, b)| a != b)
                .map_or(0, |i| i + 1);
            failures.push(format!(
                "{} differs from {} (first at line {line})",
                path.display(),
                expected_path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\na differing trace: regenerate with UPDATE_GOLDEN=1 and review the diff; an unmet \
         expectation: the scenario no longer shows what it says",
        failures.join("\n")
    );
}
