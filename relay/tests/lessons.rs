//! The lessons against the real kernel: every solution passes every
//! checkpoint, and every `wrong-*.sock` fails the checkpoints it names.
//! Scripts run in-process on the same engine as `socklab run`, in host mode
//! with raw sockets allowed (the ping lesson needs one; tests run as root).

use std::time::Duration;

use socklab::lessons_cli::{self, CheckOutcome};
use socklab::sandbox::{Sandbox, SandboxConfig};
use socklab_lessons::{self as lessons, Checkpoint, Lang, Lesson};
use socklab_lang::transcript::{KernelLine, Line};

fn sandbox() -> Sandbox {
    Sandbox::new(SandboxConfig { allow_raw_in_host: true, ..SandboxConfig::default() }).unwrap()
}

/// Whether this relay reports kernel TCP states at all; state checkpoints can only pass where it does.
fn observes_states(sandbox: &Sandbox) -> bool {
    sandbox.capabilities().tcp_states != socklab_wire::tcp::StateObservation::None
}

async fn check(lesson: &Lesson, source: &str, sandbox: &Sandbox) -> CheckOutcome {
    lessons_cli::check_source(lesson, source, Lang::En, sandbox, Duration::from_secs(2))
        .await
        .unwrap_or_else(|e| panic!("{}: {e:#}", lesson.dir))
}

fn dump(outcome: &CheckOutcome) -> String {
    outcome.lines.iter().map(|l| serde_json::to_string(l).unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// One lesson: its solution, then its wrong scripts (they share ports, so one after another).
async fn lesson_problems(lesson: &'static Lesson) -> Vec<String> {
    let sandbox = sandbox();
    let states = observes_states(&sandbox);
    let mut problems = Vec::new();
    let solution = check(lesson, lesson.solution, &sandbox).await;
    let has_state_lines = solution.lines.iter().any(|l| matches!(l, Line::Kernel(KernelLine::State { .. })));
    for (step, report) in lesson.steps().iter().zip(&solution.steps) {
        if report.verdict.passed {
            continue;
        }
        if matches!(step.check, Checkpoint::State { .. }) && !states && !has_state_lines {
            eprintln!(
                "note: {} step {}: this relay reports no TCP states, so it cannot pass here",
                lesson.dir, step.id
            );
            continue;
        }
        problems.push(format!(
            "{} solution fails step {}: {}\n{}",
            lesson.dir,
            step.id,
            report.verdict.reason,
            dump(&solution)
        ));
    }
    for wrong in &lesson.wrong {
        let outcome = check(lesson, wrong.source, &sandbox).await;
        for id in &wrong.fails {
            let report = outcome.steps.iter().find(|s| &s.id == id).expect("declared steps exist (build.rs checks)");
            if report.verdict.passed {
                problems.push(format!(
                    "{}/{} should fail step {id} but passes it: {}\n{}",
                    lesson.dir,
                    wrong.file,
                    report.verdict.reason,
                    dump(&outcome)
                ));
            } else {
                assert!(!report.verdict.reason.is_empty());
            }
        }
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solutions_pass_and_wrong_scripts_fail_on_the_real_kernel() {
    // Lessons use different ports, so they run concurrently (on this task: the engine's future is not Send).
    let runs = lessons::all().iter().map(lesson_problems);
    let problems: Vec<String> = futures::future::join_all(runs).await.into_iter().flatten().collect();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn every_lesson_has_both_languages_and_a_starter_that_parses() {
    for lesson in lessons::all() {
        for lang in Lang::ALL {
            assert!(!lesson.title(lang).is_empty(), "{}", lesson.dir);
            let shown = lessons_cli::show(lesson.number(), lang).unwrap();
            assert!(shown.contains(lesson.starter.trim()), "{}", lesson.dir);
        }
        assert!(socklab_lang::parse(lesson.starter).is_ok(), "{}", lesson.dir);
    }
    let list = lessons_cli::list(Lang::Zh);
    assert_eq!(list.lines().count(), lessons::all().len());
}

mod common;

#[test]
fn lesson_and_export_commands_on_the_command_line() {
    use std::process::Command;
    let run = |args: &[&str]| Command::new(common::BIN).args(args).output().expect("socklab runs");
    let list = run(&["lesson", "list", "--lang", "zh"]);
    assert!(list.status.success());
    assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), lessons::all().len());

    let show = run(&["lesson", "show", "2"]);
    assert!(String::from_utf8_lossy(&show.stdout).contains("# lane: server"));
    assert!(!run(&["lesson", "show", "99"]).status.success());

    let passed = run(&["lesson", "check", "2"]);
    let text = String::from_utf8_lossy(&passed.stdout);
    assert_eq!(passed.status.code(), Some(0), "{text}");
    assert!(text.contains("✓") && !text.contains("✗"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong.sock");
    std::fs::write(&wrong, lessons::get(2).unwrap().wrong[1].source).unwrap();
    let failed = run(&["lesson", "check", "2", wrong.to_str().unwrap(), "--json"]);
    assert_eq!(failed.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&failed.stdout).expect("one JSON object");
    assert_eq!(report["passed"], false);
    assert!(report["steps"].as_array().unwrap().iter().any(|s| s["verdict"]["passed"] == false));

    let python = run(&["export", "--lang", "python", wrong.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&python.stdout).contains("(\"server\", \"1-server.py\", r\"\"\""));
    let c = run(&["export", "--lang", "c", wrong.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&c.stdout).contains("static void lane_server(void)"));
    let step = dir.path().join("step.sock");
    std::fs::write(&step, "x = b\"abc\"\nprint(x[::2])\n").unwrap();
    let refused = run(&["export", "--lang", "c", step.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains(": line 2: print(x[::2]): the C export does not translate slices with a step"));
}
