//! Tracebacks, the `traceback` module, `sys.exc_info()` and the exception
//! being handled, as CPython 3.11 prints them. `scripts/tracebacks.expected`
//! is python3's stdout for `scripts/tracebacks.py` and `.stderr` its
//! traceback, with the file named `main.py` (the lane's `sys.argv[0]`);
//! `scripts/traceback_marks.py` holds more of CPython 3.11's `^^^` lines.

mod common;

use common::{FakeNet, printed, run};
use socklab_lang::{self as lang, interp::{EndStatus, InterpEvent, Interpreter, LaneState}};

/// Runs a script without sockets; its events.
fn events(src: &str) -> Vec<InterpEvent> {
    let parsed = lang::parse(src);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let mut interp = Interpreter::new(&parsed.script);
    let mut out = Vec::new();
    for _ in 0..100_000 {
        let ready: Vec<usize> =
            (0..interp.lane_count()).filter(|&l| interp.lane_state(l) == LaneState::Ready).collect();
        if ready.is_empty() {
            break;
        }
        for lane in ready {
            interp.step(lane, 0.0);
        }
        out.extend(interp.take_events());
    }
    out
}

fn tracebacks(events: &[InterpEvent]) -> Vec<(String, EndStatus, Option<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            InterpEvent::LaneEnd { lane, status, traceback, .. } => Some((lane.clone(), *status, traceback.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn tracebacks_and_the_traceback_module_match_cpython() {
    let src = include_str!("scripts/tracebacks.py");
    assert_eq!(printed(&run(src, &mut FakeNet::new())), include_str!("scripts/tracebacks.expected"));
    let ends = tracebacks(&events(src));
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0].1, EndStatus::Error);
    assert_eq!(ends[0].2.as_deref(), Some(include_str!("scripts/tracebacks.stderr")));
}

#[test]
fn a_lane_traceback_names_the_lane_file_and_the_thread() {
    let src = "\
# lane: server
import threading

def work(n):
    return 10 // n

t = threading.Thread(target=work, args=(0,))
t.start()
t.join()
print('joined')
";
    let ends = tracebacks(&events(src));
    let thread = ends.iter().find(|e| e.0 == "server/thread-1").expect("the thread ended");
    assert_eq!(
        thread.2.as_deref(),
        Some(
            "Exception in thread Thread-1 (work):\nTraceback (most recent call last):\n  \
             File \"server.py\", line 5, in work\n    return 10 // n\n           ~~~^^~~\nZeroDivisionError: integer division or modulo by zero\n"
        )
    );
    let server = ends.iter().find(|e| e.0 == "server").expect("the server ended");
    assert_eq!((server.1, server.2.clone()), (EndStatus::Finished, None));
}

#[test]
fn deep_recursion_is_summed_up_and_sys_exit_has_none() {
    let src = "def f(n):\n    return f(n + 1)\n\nf(0)\n";
    let ends = tracebacks(&events(src));
    let text = ends[0].2.clone().unwrap_or_default();
    let want_end = "  File \"main.py\", line 2, in f\n    return f(n + 1)\n           ^^^^^^^^\n  [Previous line repeated 996 more times]\n\
                    RecursionError: maximum recursion depth exceeded\n";
    assert!(text.ends_with(want_end), "{text}");
    assert!(text.starts_with("Traceback (most recent call last):\n  File \"main.py\", line 4, in <module>\n    f(0)\n"), "{text}");
    let ends = tracebacks(&events("import sys\nsys.exit(3)\n"));
    assert_eq!(ends[0].2, None);
}

#[test]
fn a_bare_raise_after_a_nested_try_raises_the_outer_exception() {
    let src = "\
try:
    raise ValueError('outer')
except ValueError:
    try:
        raise KeyError('inner')
    except KeyError:
        pass
    raise
";
    let ends = tracebacks(&events(src));
    assert_eq!(
        ends[0].2.as_deref(),
        Some("Traceback (most recent call last):\n  File \"main.py\", line 2, in <module>\n    raise ValueError('outer')\nValueError: outer\n")
    );
    // Outside any handler there is nothing to re-raise.
    let src = "try:\n    1/0\nexcept ZeroDivisionError:\n    pass\nraise\n";
    let ends = tracebacks(&events(src));
    assert!(ends[0].2.as_deref().unwrap_or("").ends_with("RuntimeError: No active exception to reraise\n"));
}

#[test]
fn a_thread_started_by_start_new_thread_names_its_function() {
    let src = "import _thread\n\ndef work():\n    raise OSError(9, 'Bad file descriptor')\n\n_thread.start_new_thread(work, ())\n";
    let ends = tracebacks(&events(src));
    let thread = ends.iter().find(|e| e.0 == "main/thread-1").expect("the thread ended");
    assert_eq!(
        thread.2.as_deref(),
        Some(
            "Unhandled exception in thread started by <function work>\nTraceback (most recent call last):\n  \
             File \"main.py\", line 4, in work\n    raise OSError(9, 'Bad file descriptor')\nOSError: [Errno 9] Bad file descriptor\n"
        )
    );
}
