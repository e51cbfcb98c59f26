//! Limits that keep a script from taking its host down: nesting as deep as
//! memory allows frees and compares without the native stack, the run's
//! values are held to a memory limit in bytes, and each lane's output to a
//! limit; each is an error at the line that went past it, and the run goes on.

mod common;

use common::{FakeNet, printed, run_interp};
use socklab_lang::interp::{Interpreter, Limits};

/// Counts allocations here as the relay and the page do, so the memory limit applies.
#[global_allocator]
static ALLOC: socklab_lang::memory::Counting = socklab_lang::memory::Counting;

/// Runs `src` under `limits` on a thread with a 4 MiB stack (enough for the
/// bounded walks in a debug build), which anything recursing once per level
/// of 100,000 would overflow; returns the transcript.
fn run_small(src: &'static str, limits: Limits, steps: usize) -> String {
    let thread = std::thread::Builder::new().stack_size(4 << 20).spawn(move || {
        let parsed = socklab_lang::parse(src);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let mut interp = Interpreter::new(&parsed.script);
        interp.set_limits(limits);
        let mut out = String::new();
        run_interp(&mut interp, &mut FakeNet::new(), &mut out, steps);
        drop(interp);
        out
    });
    thread.expect("spawn").join().expect("the script's thread did not crash")
}

#[test]
fn containers_nested_a_hundred_thousand_deep_are_freed_without_recursing() {
    let src = "class Node:\n    def __init__(self, nxt):\n        self.nxt = nxt\n\
               x = []\nt = ()\nd = {}\nn = None\nf = lambda: 0\n\
               for i in range(100000):\n    x = [x]\n    t = (t,)\n    d = {'d': d}\n    n = Node(n)\n    f = (lambda g: lambda: g)(f)\n\
               print('built')\nx = t = d = n = f = None\nprint('freed')\n";
    let out = run_small(src, Limits::default(), 2_000_000);
    assert_eq!(printed(&out), "built\nfreed\n", "{}", out.lines().last().unwrap_or_default());
}

#[test]
fn comparing_and_forking_deep_nesting_raise_recursion_error() {
    let src = "a = []\nb = []\nfor i in range(5000):\n    a = [a]\n    b = [b]\n\
               try:\n    a == b\nexcept RecursionError as e:\n    print(e)\n\
               try:\n    a < b\nexcept RecursionError as e:\n    print(e)\n\
               import os\ntry:\n    os.fork()\nexcept RecursionError as e:\n    print(e)\n\
               print([[1]] == [[1]])\n";
    let out = run_small(src, Limits::default(), 100_000);
    assert_eq!(
        printed(&out),
        "maximum recursion depth exceeded in comparison\n\
         maximum recursion depth exceeded in comparison\n\
         maximum recursion depth exceeded while copying the program for fork()\n\
         True\n"
    );
}

#[test]
fn memory_error_at_the_line_that_passes_the_limit_and_its_handler_runs() {
    let limits = Limits { memory: 16 << 20, ..Limits::default() };
    let src = "try:\n    big = [0] * 60000000\nexcept MemoryError as e:\n    print('at once:', e)\n\
               big = []\ntry:\n    while True:\n        big.append('x' * 1000)\nexcept MemoryError as e:\n    print('grown:', len(big) > 1000, e)\n\
               big = None\nsmall = [1] * 100000\nprint('after', len(small))\n\
               hog = []\nwhile True:\n    hog.append(bytes(4096))\n";
    let out = run_small(src, limits, 1_000_000);
    let message = "the program's values would take more than 16 MiB (socklab's memory limit)";
    assert_eq!(
        printed(&out),
        format!("at once: {message}\ngrown: True {message}\nafter 100000\n"),
        "{out}"
    );
    let last = out.lines().last().unwrap_or_default();
    assert_eq!(last, format!("== main Error at line 16: line 16: MemoryError: {message}"));
}

#[test]
fn a_lane_past_its_output_limit_ends_and_the_others_go_on() {
    let limits = Limits { output: 1000, ..Limits::default() };
    let src = "# lane: loud\nwhile True:\n    print('0123456789' * 7)\n\
               # lane: quiet\nprint('still here')\n";
    let out = run_small(src, limits, 100_000);
    let loud: usize = out.lines().filter_map(|l| l.strip_prefix("loud:3  | ")).map(|l| l.len() + 1).sum();
    // The last line is cut where the limit falls.
    assert!((930..=1001).contains(&loud), "{loud} bytes: {out}");
    assert!(out.contains("quiet:5  | still here"), "{out}");
    assert!(
        out.contains("== loud Error at line 3: line 3: output limit: this lane printed more than 1000 bytes"),
        "{out}"
    );
}

#[test]
fn a_list_doubling_by_reference_prints_within_the_limits() {
    // Each level holds the one below twice: its repr doubles per level.
    let limits = Limits { output: 1 << 20, ..Limits::default() };
    let src = "x = []\nfor i in range(40):\n    x = [x, x]\nprint(x)\n";
    let out = run_small(src, limits, 1000);
    // A step's result shows at most about 4 KiB of the value.
    let longest = out.lines().filter(|l| l.contains("  → ")).map(str::len).max().unwrap_or(0);
    assert!(longest < 4200, "a step line of {longest} bytes");
    assert!(out.contains("output limit: this lane printed more than 1 MiB"), "{}", out.lines().last().unwrap_or_default());
}
