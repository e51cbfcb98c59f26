//! The interpreter's cost per step, natively, against CPython on the same
//! loops: `cargo run --release -p socklab-bench --bin interp`. One run
//! measures both and prints ratios; it fails only if the two disagree on the
//! loop's result.

use std::process::Command;
use std::time::Instant;

use socklab_lang::interp::{EndStatus, InterpEvent, Interpreter, LaneState, Yield};

/// Loops without socket calls: what a step costs in the interpreter alone.
/// `N` is replaced by the iteration count.
const LOOPS: &[(&str, &str)] = &[
    ("arithmetic", "n = 0\ni = 0\nwhile i < N:\n    n = n + i % 7\n    i = i + 1\nprint(n)\n"),
    (
        "function call",
        "def f(a, b):\n    return a * 2 + b\nn = 0\nfor i in range(N):\n    n = f(n, i) % 1000003\nprint(n)\n",
    ),
    (
        "formatting and dict",
        "d = {}\nfor i in range(N):\n    d[i % 100] = '%d:%s' % (i, f'{i:>5}')\nprint(len(d), d[7])\n",
    ),
];

/// Rounds per loop and side.
const ROUNDS: usize = 5;

fn main() {
    let iterations: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    println!("| loop | socklab steps/s | socklab µs/iteration | CPython µs/iteration | ratio |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, template) in LOOPS {
        let source = template.replace('N', &iterations.to_string());
        // Rounds alternate between the two, and each keeps its fastest, so a
        // busy moment of the machine does not land on one side only.
        let (mut steps, mut seconds, mut printed) = (0, f64::INFINITY, String::new());
        let (mut python_seconds, mut python_printed) = (f64::INFINITY, String::new());
        for _ in 0..ROUNDS {
            let (s, t, p) = run_socklab(&source);
            if t < seconds {
                (steps, seconds, printed) = (s, t, p);
            }
            let (t, p) = run_cpython(&source);
            if t < python_seconds {
                (python_seconds, python_printed) = (t, p);
            }
        }
        if printed.trim() != python_printed.trim() {
            eprintln!("{name}: socklab printed {printed:?}, CPython {python_printed:?}");
            std::process::exit(1);
        }
        let ours = seconds * 1e6 / iterations as f64;
        let theirs = python_seconds * 1e6 / iterations as f64;
        println!(
            "| {name} | {:.2} M | {ours:.3} | {theirs:.3} | {:.1}× |",
            steps as f64 / seconds / 1e6,
            ours / theirs
        );
    }
}

/// Steps the one lane to its end; returns the steps, the seconds and what it printed.
fn run_socklab(source: &str) -> (u64, f64, String) {
    let parsed = socklab_lang::parse(source);
    assert!(parsed.is_ok(), "{:?}", parsed.diagnostics);
    let mut interp = Interpreter::new(&parsed.script);
    let mut steps = 0u64;
    let mut printed = String::new();
    let start = Instant::now();
    while interp.lane_state(0) == LaneState::Ready {
        steps += 1;
        if let Yield::Call(call) = interp.step(0, 0.0) {
            panic!("the loop made a socket call: {call:?}");
        }
        for event in interp.take_events() {
            if let InterpEvent::Print { text, .. } = event {
                printed.push_str(&text);
                printed.push('\n');
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(interp.lane_state(0), LaneState::Ended(EndStatus::Finished), "the loop did not finish");
    (steps, seconds, printed)
}

/// The same source under python3, timed inside the process (start-up excluded).
fn run_cpython(source: &str) -> (f64, String) {
    let program = format!(
        "import time, io, contextlib\nsrc = {source:?}\ncode = compile(src, 'loop', 'exec')\nout = io.StringIO()\nt = time.perf_counter()\nwith contextlib.redirect_stdout(out):\n    exec(code, {{'__name__': '__main__'}})\nt = time.perf_counter() - t\nprint(t)\nprint(out.getvalue(), end='')\n"
    );
    let output = Command::new("python3").arg("-c").arg(&program).output().expect("python3 runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    (first.trim().parse().expect("python3 printed its time"), rest.to_string())
}
