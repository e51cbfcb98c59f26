//! The Python export of every corpus program that socklab runs (those in
//! `tests/corpus/PASSING`) prints, lane by lane, what CPython prints when the
//! program's lanes run as `run_cpython.py` runs them: the exported launcher
//! runs in a private network namespace (`run_export.py`), its `[lane] `
//! lines are split by lane, and the two outputs must be equal, exit lines
//! included.
//!
//! Needs `python3`; without a private namespace the runs share the host's
//! loopback (the corpus's ports are its own).

use std::process::Command;
use std::sync::Mutex;

use socklab_tests::corpus::{corpus_dir, passing};

fn python3(args: &[&std::path::Path]) -> (bool, String, String) {
    let output = Command::new("python3").args(args).output().expect("python3 runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What is wrong with one program's export, if anything.
fn check(program: &str, dir: &std::path::Path) -> Option<String> {
    let path = corpus_dir().join(program);
    let source = std::fs::read_to_string(&path).expect("corpus program reads");
    let parsed = socklab_lang::parse(&source);
    if !parsed.is_ok() {
        return Some(format!("{program}: does not parse: {:?}", parsed.diagnostics));
    }
    let exported = match socklab_export::export("python", &source, &parsed.script) {
        Ok(text) => text,
        Err(e) => return Some(format!("{program}: export refused: {e}")),
    };
    let launcher = dir.join(program);
    std::fs::write(&launcher, exported).expect("export written");
    let (cpython_ok, cpython, _) = python3(&[&corpus_dir().join("run_cpython.py"), &path]);
    let (export_ok, export, stderr) = python3(&[&corpus_dir().join("run_export.py"), &path, &launcher]);
    (!cpython_ok || !export_ok || cpython != export)
        .then(|| format!("{program}:\n--- CPython\n{cpython}--- export\n{export}{stderr}"))
}

#[test]
fn python_exports_of_passing_programs_print_what_cpython_prints() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Mutex::new(passing());
    let failures = Mutex::new(Vec::new());
    // Each run has a namespace of its own: a few at once share the machine's cores.
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                while let Some(program) = queue.lock().unwrap().pop() {
                    if let Some(failure) = check(&program, dir.path()) {
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "exports that print otherwise than CPython:\n\n{}", failures.join("\n"));
}
