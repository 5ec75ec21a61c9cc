//! Runs `deepend check-history` on the files in `tests/data/` and checks each exit status
//! (0 linearizable, 1 not, 2 bad input, 3 unknown) and what it prints.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn deepend(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deepend"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn check(args: &[&str]) -> (i32, String, String) {
    let out = deepend(args);
    (
        out.status.code().expect("exited normally"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn linearizable_histories_exit_0() {
    let (code, stdout, stderr) = check(&["check-history", &data("linearizable.json")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "linearizable: 8 operations by 5 clients on 2 keys\n");
    let (code, stdout, _) = check(&["check-history", &data("no_times.json")]);
    assert_eq!(code, 0, "{stdout}");
    let (code, stdout, _) = check(&["check-history", &data("empty.json")]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "linearizable: 0 operations by 0 clients on 0 keys\n")
    );
}

#[test]
fn a_stale_read_exits_1_naming_the_read() {
    let (code, stdout, _) = check(&["check-history", &data("stale_read.json")]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.starts_with("not linearizable on key 1: client 2's read of key 1 returning 1"),
        "{stdout}"
    );
    assert!(stdout.contains("invoked at event 4, t=1400us"), "{stdout}");
    let (code, stdout, _) = check(&["check-history", &data("never_written.json")]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("ever wrote 42"), "{stdout}");
}

#[test]
fn bad_input_exits_2_with_a_specific_message() {
    let (code, stdout, stderr) = check(&["check-history", &data("bad_type.json")]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.ends_with("bad_type.json: event 1: unknown type \"okk\"; expected invoke, ok, fail or info\n"),
        "{stderr}"
    );
    let (code, _, stderr) = check(&["check-history", &data("truncated.json")]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not valid JSON"), "{stderr}");
    let (code, _, stderr) = check(&["check-history", &data("double_invoke.json")]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("invalid history: event 1: client 1 invokes read k1 while"),
        "{stderr}"
    );
    let (code, _, stderr) = check(&["check-history", &data("duplicate_field.json")]);
    assert_eq!(code, 2);
    assert!(
        stderr
            .ends_with("duplicate_field.json: event 1: field \"value\" is given twice; give each field at most once\n"),
        "{stderr}"
    );
    let (code, _, stderr) = check(&["check-history", &data("no_such_file.json")]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no_such_file.json: cannot read"), "{stderr}");
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &[][..],
        &["check-history"][..],
        &["check-history", "--budget"][..],
        &["check-history", "--budget", "lots", "x.json"][..],
        &["check-history", "--fast", "x.json"][..],
        &["check-history", "a.json", "b.json"][..],
        &["frobnicate"][..],
    ] {
        let (code, stdout, stderr) = check(args);
        assert_eq!(code, 2, "{args:?}: {stdout}");
        assert!(stderr.contains("usage: deepend"), "{args:?}: {stderr}");
    }
}

#[test]
fn an_exhausted_budget_exits_3() {
    let (code, stdout, _) = check(&["check-history", "--budget", "100", &data("pathological.json")]);
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.starts_with("unknown on key 1: the search ran out of its step budget"),
        "{stdout}"
    );
    // With the default budget the same history is decided.
    let (code, stdout, _) = check(&["check-history", &data("pathological.json")]);
    assert_eq!(code, 1, "{stdout}");
    let (code, _, _) = check(&["check-history", "--budget=1_000_000", &data("pathological.json")]);
    assert_eq!(code, 1);
}

#[test]
fn a_dash_reads_standard_input() {
    let text = std::fs::read(data("stale_read.json")).expect("test data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_deepend"))
        .args(["check-history", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().expect("piped").write_all(&text).expect("writes");
    let out = child.wait_with_output().expect("finishes");
    assert_eq!(out.status.code(), Some(1));
    let (code, _, stderr) = {
        let mut child = Command::new(env!("CARGO_BIN_EXE_deepend"))
            .args(["check-history", "-"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        child.stdin.take().expect("piped").write_all(b"[{]").expect("writes");
        let out = child.wait_with_output().expect("finishes");
        (
            out.status.code(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("deepend check-history: <stdin>: not valid JSON"),
        "{stderr}"
    );
}

#[test]
fn help_exits_0() {
    for args in [&["--help"][..], &["-h"][..], &["help"][..]] {
        let (code, stdout, _) = check(args);
        assert_eq!(code, 0);
        assert!(stdout.starts_with("usage: deepend <command>"), "{stdout}");
        assert!(stdout.contains("check-history"), "{stdout}");
    }
    let (code, stdout, _) = check(&["check-history", "--help"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("exit status: 0 linearizable, 1 not linearizable, 2 bad input, 3 unknown"),
        "{stdout}"
    );
}
