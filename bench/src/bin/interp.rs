//! The interpreter's cost per step, natively (as the relay runs scripts) and
//! against CPython, on the same loops: `cargo run --release -p socklab-bench
//! --bin interp [ITERATIONS]`. One run measures both and prints ratios; it
//! fails only if they disagree on a loop's result.

use std::process::Command;
use std::time::Instant;

use socklab_lang::interp::{EndStatus, InterpEvent, Interpreter, LaneState, Yield};

/// As in the relay: the memory limit's counting is part of the cost measured.
#[global_allocator]
static ALLOC: socklab_lang::memory::Counting = socklab_lang::memory::Counting;

// The process helpers of the main bench binary.
#[allow(dead_code)]
#[path = "../process.rs"]
mod process;

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

/// The fastest of a side's rounds: steps, seconds, what it printed.
#[derive(Clone)]
struct Best(u64, f64, String);

impl Best {
    fn new() -> Best {
        Best(0, f64::INFINITY, String::new())
    }
    fn keep(&mut self, (steps, seconds, printed): (u64, f64, String)) {
        if seconds < self.1 {
            *self = Best(steps, seconds, printed);
        }
    }
}

fn main() {
    let iterations: u64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(200_000);
    let machine = machine();
    println!("{iterations} iterations per loop, fastest of {ROUNDS} rounds each; {machine}");
    println!();
    println!("| loop | native steps/s | CPython µs/iteration | native µs/iteration | native ÷ CPython |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, template) in LOOPS {
        let source = template.replace('N', &iterations.to_string());
        // Rounds alternate between the sides, and each keeps its fastest, so a
        // busy moment of the machine does not land on one side only.
        let (mut native, mut python) = (Best::new(), Best::new());
        for _ in 0..ROUNDS {
            native.keep(run_socklab(&source));
            let (t, p) = run_cpython(&source);
            python.keep((0, t, p));
        }
        if native.2.trim() != python.2.trim() {
            eprintln!("{name}: socklab printed {:?} in {} steps, CPython {:?}", native.2, native.0, python.2);
            std::process::exit(1);
        }
        let per = |best: &Best| best.1 * 1e6 / iterations as f64;
        let (ours, theirs) = (per(&native), per(&python));
        let rate = native.0 as f64 / native.1 / 1e6;
        println!("| {name} | {rate:.2} M | {theirs:.3} | {ours:.3} | {:.1}× |", ours / theirs);
    }
}

/// The machine, for the figures: CPUs, model, load, python's version.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).map(|m| m.trim_start_matches([' ', '\t', ':']).to_string());
    let cpus = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?").to_string();
    let python = process::first_line_of("python3", &["--version"]).unwrap_or_default();
    format!("{cpus} CPUs ({}), load average {load}, {python}", model.unwrap_or_else(|| "?".into()))
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
