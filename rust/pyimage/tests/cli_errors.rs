//! How the binary fails: every error names its file and prints its cause once; a closed
//! stdout (a reader such as `head` that stops early) is success.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

const ENOENT: &str = "No such file or directory";

/// Runs pyimage, expects exit 1, and checks that stderr names `file` and says the OS cause
/// exactly once.
fn fails_once(args: &[&str], cwd: &Path, file: &str) {
    let err = fails(args, cwd);
    assert!(
        err.contains(file),
        "pyimage {args:?}: {file} not named: {err}"
    );
    assert_eq!(
        err.matches(ENOENT).count(),
        1,
        "pyimage {args:?}: the cause must be printed once: {err}"
    );
}

#[test]
fn errors_print_their_cause_once_and_name_the_file() {
    let d = tmp();
    let p = d.path();
    write(&p.join("src/a.py"), b"a", 0o644);
    let layer = ["layer", "--output", "l.tgz", "--descriptor", "l.json"];
    ok(&[&layer[..], &["--tree", "src=/app"]].concat(), p);

    // input manifest
    fails_once(
        &[&layer[..], &["--manifest", "/nonexistent/m.txt"]].concat(),
        p,
        "/nonexistent/m.txt",
    );
    // input tree
    fails_once(
        &[&layer[..], &["--tree", "missing=/app"]].concat(),
        p,
        "missing",
    );
    // output directory
    fails_once(
        &[
            "layer",
            "--output",
            "no/dir/l.tgz",
            "--descriptor",
            "l2.json",
            "--tree",
            "src=/app",
        ],
        p,
        "no/dir/l.tgz",
    );
    // descriptor of a merge input
    fails_once(
        &[
            "merge",
            "--output",
            "m.tgz",
            "--descriptor",
            "m.json",
            "l.tgz=gone.json",
        ],
        p,
        "gone.json",
    );
    // descriptor of report and validate
    fails_once(&["report", "gone.json"], p, "gone.json");
    fails_once(
        &["validate", "--plan", "gone-plan.json"],
        p,
        "gone-plan.json",
    );
    // plan file of report and autogroup
    fails_once(
        &["report", "--plan", "gone-plan.json", "l.json"],
        p,
        "gone-plan.json",
    );
    fails_once(
        &["autogroup", "--plan", "gone-plan.json"],
        p,
        "gone-plan.json",
    );
    // package list of autogroup
    fails_once(
        &["autogroup", "--packages", "gone.json", "--budget", "3"],
        p,
        "gone.json",
    );
    // a layer to list
    fails_once(&["list", "gone.tgz"], p, "gone.tgz");
    // report output directory
    fails_once(
        &["report", "--output", "no/dir/r.txt", "l.json"],
        p,
        "no/dir/r.txt",
    );
}

/// A layer whose listing is far larger than a pipe buffer.
fn big_layer(dir: &Path) -> String {
    let manifest: String = (0..6000)
        .map(|i| format!("empty\t/app/{}/f{i:05}.py\n", "d".repeat(40)))
        .collect();
    std::fs::write(dir.join("m.txt"), manifest).unwrap();
    ok(
        &[
            "layer",
            "--output",
            "big.tgz",
            "--descriptor",
            "big.json",
            "--manifest",
            "m.txt",
        ],
        dir,
    );
    "big.tgz".to_string()
}

#[test]
fn list_into_a_reader_that_stops_early_succeeds() {
    let d = tmp();
    let p = d.path();
    let layer = big_layer(p);
    let mut child = pyimage()
        .args(["list", &layer])
        .current_dir(p)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // the reader is dropped here: like `pyimage list big.tgz | head -1`
    assert!(first.contains("app/"), "{first}");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    assert!(err.is_empty(), "nothing on stderr expected: {err}");
}

/// Runs pyimage with its stdout a pipe whose reader is already gone when it writes (a shell
/// waits before exec-ing it, after the reader was closed).
fn run_into_closed_pipe(args: &[&str], cwd: &Path) {
    let bin = assert_cmd::cargo::cargo_bin("pyimage");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("sleep 0.3; exec \"$0\" \"$@\"")
        .arg(&bin)
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "pyimage {args:?}: stderr: {err}"
    );
    assert!(
        err.is_empty(),
        "pyimage {args:?}: nothing on stderr expected: {err}"
    );
}

#[test]
fn every_command_writing_to_stdout_accepts_a_closed_stdout() {
    let d = tmp();
    let p = d.path();
    let layer = big_layer(p);
    std::fs::write(
        p.join("packages.json"),
        r#"{"packages": [{"name": "a", "bytes": 10, "deps": ["b"]}, {"name": "b", "bytes": 5}]}"#,
    )
    .unwrap();
    run_into_closed_pipe(&["list", &layer], p);
    run_into_closed_pipe(&["report", "big.json"], p);
    run_into_closed_pipe(&["report", "--json", "big.json"], p);
    run_into_closed_pipe(
        &["autogroup", "--packages", "packages.json", "--budget", "2"],
        p,
    );
    run_into_closed_pipe(&["--help"], p);
    run_into_closed_pipe(&["layer", "--help"], p);
}
