//! The exports of every lesson's solution really run: the Python program with
//! python3, the C program compiled with `gcc -Wall -O2 -pthread` (no warnings
//! allowed) and run, both on loopback; each lane's printed lines must equal the
//! playground's (the engine `socklab run` uses, in-process).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use socklab::lessons_cli;
use socklab::sandbox::{Sandbox, SandboxConfig};
use socklab_export as export;
use socklab_lang::interp::{EndStatus, InterpEvent};
use socklab_lessons::{self as lessons, Lesson};
use socklab_lang::transcript::Line;

type Prints = BTreeMap<String, Vec<String>>;

fn playground_prints(lines: &[Line]) -> Prints {
    let mut prints = Prints::new();
    for line in lines {
        match line {
            Line::Interp(InterpEvent::Print { lane, text, .. }) => {
                prints.entry(lane.clone()).or_default().push(text.clone())
            }
            Line::Interp(InterpEvent::LaneEnd { lane, .. }) => {
                prints.entry(lane.clone()).or_default();
            }
            _ => {}
        }
    }
    prints
}

/// Splits `[lane] text` lines by lane; lanes that printed nothing are filled in from `lanes`.
fn exported_prints(stdout: &str, lanes: &[String]) -> Prints {
    let mut prints: Prints = lanes.iter().map(|l| (l.clone(), Vec::new())).collect();
    for line in stdout.lines() {
        let (lane, text) = line
            .strip_prefix('[')
            .and_then(|rest| rest.split_once("] "))
            .unwrap_or_else(|| panic!("exported program printed a line without a lane prefix: {line:?}"));
        prints.entry(lane.to_string()).or_default().push(text.to_string());
    }
    prints
}

/// Runs a program without blocking the runtime (other lessons' playground runs share it), 60 s at most.
async fn run_with_timeout(program: &Path, args: &[&Path], what: &str) -> Output {
    tokio::process::Command::new("timeout")
        .arg("60")
        .arg(program)
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"))
}

fn describe(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Python and C runs of one lesson's solution, compared with the playground; problems found.
async fn lesson_exports(lesson: &'static Lesson, dir: &Path, languages: &[&str]) -> Vec<String> {
    let sandbox = Sandbox::new(SandboxConfig { allow_raw_in_host: true, ..SandboxConfig::default() }).unwrap();
    let lines = lessons_cli::transcript(lesson.solution, &sandbox, Duration::from_secs(3)).await.unwrap();
    let expected = playground_prints(&lines);
    let unfinished: Vec<String> = lines
        .iter()
        .filter_map(|l| match l {
            Line::Interp(end @ InterpEvent::LaneEnd { status, .. }) if *status != EndStatus::Finished => {
                Some(serde_json::to_string(end).unwrap_or_default())
            }
            _ => None,
        })
        .collect();
    assert!(unfinished.is_empty(), "{}: the playground run did not finish: {unfinished:?}", lesson.dir);
    let script = socklab_lang::parse(lesson.solution).script;
    let lanes: Vec<String> = script.lanes.iter().map(|l| l.name.clone()).collect();
    let mut problems = Vec::new();
    for &lang in languages {
        let program = match export::export(lang, lesson.solution, &script) {
            Ok(program) => program,
            Err(e) => {
                problems.push(format!("{}: export to {lang} failed: {e}", lesson.dir));
                continue;
            }
        };
        let output = match lang {
            "python" => {
                let path = dir.join(format!("{}.py", lesson.dir));
                std::fs::write(&path, &program).unwrap();
                run_with_timeout(Path::new("python3"), &[&path], "python3").await
            }
            _ => {
                let source = dir.join(format!("{}.c", lesson.dir));
                let binary = dir.join(lesson.dir);
                std::fs::write(&source, &program).unwrap();
                let gcc = tokio::process::Command::new("gcc")
                    .args(["-Wall", "-Wextra", "-Werror", "-O2", "-pthread", "-o"])
                    .arg(&binary)
                    .arg(&source)
                    .output()
                    .await
                    .expect("gcc runs");
                if !gcc.status.success() {
                    problems.push(format!("{}: gcc failed on {}:\n{}", lesson.dir, source.display(), describe(&gcc)));
                    continue;
                }
                run_with_timeout(&binary, &[], "the C program").await
            }
        };
        if !output.status.success() {
            problems.push(format!("{}: the {lang} program failed:\n{}", lesson.dir, describe(&output)));
            continue;
        }
        let got = exported_prints(&String::from_utf8_lossy(&output.stdout), &lanes);
        if got != expected {
            problems.push(format!(
                "{}: {lang} prints differ from the playground\nplayground: {expected:#?}\n{lang}: {got:#?}",
                lesson.dir
            ));
        }
    }
    problems
}

async fn check_exports(languages: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    // SOCKLAB_EXPORT_KEEP=DIR keeps the generated programs there, to read or rerun them.
    let keep = std::env::var_os("SOCKLAB_EXPORT_KEEP").map(std::path::PathBuf::from);
    let dir = keep.as_deref().unwrap_or(dir.path());
    // A lesson on hosts is not exported (the exporters refuse it, tested in socklab-export).
    let exported = lessons::all().iter().filter(|lesson| socklab_lang::parse(lesson.solution).script.hosts().is_empty());
    let runs = exported.map(|lesson| lesson_exports(lesson, dir, languages));
    let problems: Vec<String> = futures::future::join_all(runs).await.into_iter().flatten().collect();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_solution_exports_to_python_and_c_that_print_what_the_playground_printed() {
    // One test, so that a lesson's playground run and its exported runs (same ports) never overlap.
    check_exports(&["python", "c"]).await;
}

#[test]
fn export_names_what_it_cannot_translate() {
    let parsed = socklab_lang::parse("x = 1\n");
    assert!(export::export("cobol", "x = 1\n", &parsed.script).is_err());
    let mut file = tempfile::Builder::new().suffix(".sock").tempfile().unwrap();
    file.write_all(b"print(1)\n").unwrap();
}

/// `socklab export` takes the deepest tree the parser accepts (chains of 990
/// operators nested 48 deep) to C without running out of stack.
#[test]
fn the_command_line_exports_the_deepest_scripts() {
    let chain = |inner: &str| format!("({} + {inner})", vec!["1"; 990].join(" + "));
    let mut nested = "1".to_string();
    for _ in 0..48 {
        nested = chain(&nested);
    }
    let mut file = tempfile::Builder::new().suffix(".sock").tempfile().unwrap();
    file.write_all(format!("x = {nested}\nprint(x)\n").as_bytes()).unwrap();
    for lang in ["c", "python"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_socklab"))
            .args(["export", "--lang", lang])
            .arg(file.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "{lang}: {:?} {}", output.status, String::from_utf8_lossy(&output.stderr));
        assert!(String::from_utf8_lossy(&output.stdout).contains("1 + 1"), "{lang}");
    }
}
