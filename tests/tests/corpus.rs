//! The Python corpus (`tests/corpus/`, see its README): socket programs as
//! learners bring them, the yardstick for the script language.
//!
//! Every corpus program must run under CPython (`run_cpython.py`: lanes
//! scheduled as socklab schedules them, in a private network namespace)
//! with every lane exiting 0, so the corpus itself stays valid. Every program
//! named in `tests/corpus/PASSING` must also print, lane by lane, exactly
//! what CPython prints when run by socklab (`run_socklab.py`).
//!
//! Needs `python3`. The relay is `SOCKLAB_CLASS_RELAY=PATH` when set, else
//! the release build, which cargo brings up to date first.

use std::path::Path;
use std::process::Command;

use socklab_tests::corpus::{corpus_dir, passing};
use socklab_tests::relay::release_relay_binary;

/// The corpus programs (`NN-slug.py`), sorted.
fn programs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus exists")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".py") && name.as_bytes().first().is_some_and(u8::is_ascii_digit))
        .collect();
    names.sort();
    names
}

struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

fn harness(script: &str, program: &str, extra: &[&Path]) -> Run {
    let mut command = Command::new("python3");
    command.arg(corpus_dir().join(script)).arg(corpus_dir().join(program));
    for path in extra {
        command.arg("--socklab").arg(path);
    }
    let output = command.output().unwrap_or_else(|e| panic!("python3 {script} runs: {e}"));
    Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The lanes whose `LANE: exit N` line is not `exit 0`, and lanes missing.
fn failed_lanes(output: &str) -> Vec<String> {
    let exits: Vec<&str> = output.lines().filter(|line| !line.contains("| ") && line.contains(": exit ")).collect();
    if exits.is_empty() {
        return vec!["(no lane reported an exit)".to_string()];
    }
    exits.into_iter().filter(|line| !line.ends_with(": exit 0")).map(str::to_string).collect()
}

#[test]
fn every_corpus_program_runs_under_cpython() {
    let programs = programs();
    assert!(programs.len() >= 45, "the corpus has {} programs", programs.len());
    let mut failures = Vec::new();
    for program in &programs {
        let run = harness("run_cpython.py", program, &[]);
        let failed = failed_lanes(&run.stdout);
        if !run.success || !failed.is_empty() {
            failures.push(format!(
                "{program}: {}\n{}{}",
                failed.join(", "),
                run.stdout,
                run.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "corpus programs that fail under CPython:\n\n{}", failures.join("\n"));
}

#[test]
fn passing_programs_print_under_socklab_what_they_print_under_cpython() {
    let programs = programs();
    let passing = passing();
    for name in &passing {
        assert!(programs.contains(name), "PASSING names {name}, which is not a corpus program");
    }
    if passing.is_empty() {
        return;
    }
    let relay = release_relay_binary();
    let mut failures = Vec::new();
    for program in &passing {
        let cpython = harness("run_cpython.py", program, &[]);
        let socklab = harness("run_socklab.py", program, &[&relay]);
        if cpython.stdout != socklab.stdout || !cpython.success {
            failures.push(format!(
                "{program}:\n--- CPython\n{}--- socklab\n{}{}",
                cpython.stdout, socklab.stdout, socklab.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "programs in PASSING that no longer match:\n\n{}", failures.join("\n"));
}

#[test]
fn lane_exit_lines_are_read_as_failures() {
    // The checks above must be able to fail.
    assert!(failed_lanes("server| x\nserver: exit 0\nclient: exit 1\n") == ["client: exit 1"]);
    assert!(!failed_lanes("").is_empty());
    assert!(failed_lanes("a| b: exit 1\na: exit 0\n").is_empty());
}
