//! The page's examples (Examples menu) exported to C compile with `gcc -Wall
//! -Wextra -Werror -pthread`, run, and print, lane by lane, what their Python
//! export prints under CPython: the same lines in each lane. Each program
//! runs in a private network namespace where the machine allows it. Both
//! programs must end alike: with 0, or both with an error (an example may end
//! on an uncaught one). An example the C export cannot express (the
//! tutorial's programs use `%` formatting, `struct`, `__name__`) must be
//! refused with the line named.
//!
//! Needs gcc and python3.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use socklab_frontend::examples::EXAMPLES;

/// Runs `program args` with loopback up in a private network namespace, or on the host without one.
fn run_isolated(program: &Path, args: &[&Path]) -> Output {
    let private = Command::new("unshare").args(["--net", "true"]).output().is_ok_and(|o| o.status.success());
    let mut command = if private {
        let mut c = Command::new("unshare");
        c.args(["--net", "sh", "-c", "ip link set lo up; exec \"$@\"", "sh"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command.args(args).output().expect("the program runs")
}

/// The `[lane] text` lines of one stream, by lane.
fn by_lane(stdout: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut lanes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(stdout).lines() {
        let (lane, text) = line.strip_prefix('[').and_then(|l| l.split_once("] ")).unwrap_or(("?", line));
        lanes.entry(lane.to_string()).or_default().push(text.to_string());
    }
    lanes
}

#[test]
fn examples_export_to_c_that_prints_what_their_python_export_prints() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut translated = Vec::new();
    for (n, (label, source)) in EXAMPLES.iter().enumerate() {
        let parsed = socklab_lang::parse(source);
        assert!(parsed.is_ok(), "{label}: {:?}", parsed.diagnostics);
        let c = match socklab_export::export("c", source, &parsed.script) {
            Ok(c) => c,
            Err(e) => {
                let message = e.to_string();
                let names_line = message
                    .strip_prefix("line ")
                    .and_then(|rest| rest.split_once(": "))
                    .is_some_and(|(n, _)| n.parse::<u32>().is_ok());
                if !names_line {
                    failures.push(format!("{label}: C export refused without naming the line: {message}"));
                }
                continue;
            }
        };
        translated.push(*label);
        let python = socklab_export::export("python", source, &parsed.script).expect("the Python export never refuses");
        let (c_path, binary, py_path) = (dir.path().join(format!("{n}.c")), dir.path().join(format!("{n}")), dir.path().join(format!("{n}.py")));
        std::fs::write(&c_path, c).unwrap();
        std::fs::write(&py_path, python).unwrap();
        let gcc = Command::new("gcc")
            .args(["-Wall", "-Wextra", "-Werror", "-O2", "-pthread", "-o"])
            .arg(&binary)
            .arg(&c_path)
            .output()
            .expect("gcc runs");
        if !gcc.status.success() {
            failures.push(format!("{label}: gcc failed:\n{}", String::from_utf8_lossy(&gcc.stderr)));
            continue;
        }
        let c_run = run_isolated(&binary, &[]);
        let py_run = run_isolated(Path::new("python3"), &[&py_path]);
        let (c_lanes, py_lanes) = (by_lane(&c_run.stdout), by_lane(&py_run.stdout));
        // An example may end on an uncaught error (Connection refused): both then fail alike.
        if c_run.status.success() != py_run.status.success() || c_lanes != py_lanes {
            failures.push(format!(
                "{label}:\nC ({:?}): {c_lanes:#?}\n{}\nPython ({:?}): {py_lanes:#?}\n{}",
                c_run.status.code(),
                String::from_utf8_lossy(&c_run.stderr),
                py_run.status.code(),
                String::from_utf8_lossy(&py_run.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(translated.contains(&"TCP echo"), "the echo example is translated: {translated:?}");
}
