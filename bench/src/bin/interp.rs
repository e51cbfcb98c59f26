//! The interpreter's cost per step, natively, in the page (the same code
//! compiled to wasm, in headless Chromium) and against CPython, on the same
//! loops: `cargo run --release -p socklab-bench --bin interp [ITERATIONS]
//! [--skip-page] [--relay PATH]`. One run measures all three and prints
//! ratios; it fails only if they disagree on a loop's result (or the page
//! cannot be loaded when it was asked for).

use std::process::Command;
use std::time::Instant;

use socklab_lang::interp::{EndStatus, InterpEvent, Interpreter, LaneState, Yield};

/// As in the relay and the page: the memory limit's counting is part of the cost measured.
#[global_allocator]
static ALLOC: socklab_lang::memory::Counting = socklab_lang::memory::Counting;

// The page and relay helpers of the main bench binary.
#[allow(dead_code)]
#[path = "../page.rs"]
mod page;
#[allow(dead_code)]
#[path = "../process.rs"]
mod process;
#[allow(dead_code)]
#[path = "../relay.rs"]
mod relay;

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let iterations: u64 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(200_000);
    let relay_path = args.iter().position(|a| a == "--relay").and_then(|i| args.get(i + 1)).map(std::path::PathBuf::from);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    // The page as the relay serves it, in headless Chromium.
    let mut page = if args.iter().any(|a| a == "--skip-page") {
        None
    } else {
        let opened = runtime.block_on(async {
            let path = relay::locate(relay_path.as_deref())?;
            let relay = relay::RelayProcess::start(&path, &[])?;
            let runner = page::PageRunner::open(&relay.page_url()).await?;
            anyhow::Ok((relay, runner))
        });
        match opened {
            Ok(opened) => Some(opened),
            Err(error) => {
                eprintln!("the page: {error:#}");
                std::process::exit(1);
            }
        }
    };
    let machine = machine();
    println!("{iterations} iterations per loop, fastest of {ROUNDS} rounds each; {machine}");
    println!();
    println!(
        "| loop | native steps/s | page steps/s | CPython µs/iteration | native µs/iteration | page µs/iteration | native ÷ CPython | page ÷ CPython | page ÷ native |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, template) in LOOPS {
        let source = template.replace('N', &iterations.to_string());
        // Rounds alternate between the sides, and each keeps its fastest, so a
        // busy moment of the machine does not land on one side only.
        let (mut native, mut in_page, mut python) = (Best::new(), Best::new(), Best::new());
        for _ in 0..ROUNDS {
            native.keep(run_socklab(&source));
            if let Some((_, runner)) = page.as_mut() {
                match runtime.block_on(runner.run(&source)) {
                    Ok(run) => in_page.keep(run),
                    Err(error) => {
                        eprintln!("{name} in the page: {error:#}");
                        std::process::exit(1);
                    }
                }
            }
            let (t, p) = run_cpython(&source);
            python.keep((0, t, p));
        }
        for (side, best) in [("socklab", &native), ("the page", &in_page)] {
            if best.1.is_finite() && (best.2.trim() != python.2.trim() || best.0 != native.0) {
                eprintln!("{name}: {side} printed {:?} in {} steps, CPython {:?}", best.2, best.0, python.2);
                std::process::exit(1);
            }
        }
        let per = |best: &Best| best.1 * 1e6 / iterations as f64;
        let rate = |best: &Best| best.0 as f64 / best.1 / 1e6;
        let (ours, theirs) = (per(&native), per(&python));
        let (page_rate, page_per, page_ratio, page_native) = if in_page.1.is_finite() {
            let p = per(&in_page);
            (format!("{:.2} M", rate(&in_page)), format!("{p:.3}"), format!("{:.1}×", p / theirs), format!("{:.2}×", p / ours))
        } else {
            ("-".into(), "-".into(), "-".into(), "-".into())
        };
        println!(
            "| {name} | {:.2} M | {page_rate} | {theirs:.3} | {ours:.3} | {page_per} | {:.1}× | {page_ratio} | {page_native} |",
            rate(&native),
            ours / theirs
        );
    }
}

/// The machine, for the figures: CPUs, model, load, chromium's version.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).map(|m| m.trim_start_matches([' ', '\t', ':']).to_string());
    let cpus = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?").to_string();
    let chromium = process::first_line_of("chromium", &["--version"]).unwrap_or_else(|| "no chromium".into());
    let python = process::first_line_of("python3", &["--version"]).unwrap_or_default();
    format!("{cpus} CPUs ({}), load average {load}, {chromium}, {python}", model.unwrap_or_else(|| "?".into()))
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
