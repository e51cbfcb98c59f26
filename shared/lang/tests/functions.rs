//! Functions, closures, `raise` and dicts: what scripts print matches CPython
//! 3.11 (the `.expected` files are python3's output for the same script).

mod common;

use common::{FakeNet, printed, run};
use socklab_lang::interp::{Interpreter, LaneState, Yield};
use socklab_lang::parse;

fn output(src: &str) -> String {
    printed(&run(src, &mut FakeNet::new()))
}

#[test]
fn functions_print_what_cpython_prints() {
    let src = include_str!("scripts/functions.py");
    assert_eq!(output(src), include_str!("scripts/functions.expected"));
}

#[test]
fn dicts_print_what_cpython_prints() {
    let src = include_str!("scripts/dicts.py");
    assert_eq!(output(src), include_str!("scripts/dicts.expected"));
}

/// The tutorial's echo server as pasted, with a client lane: the
/// handler's socket calls suspend and resume inside the call, and the run
/// ends with the server blocked in `accept()`.
#[test]
fn tutorial_echo_server_with_handler_function() {
    let out = run(
        include_str!("scripts/echo_server_tutorial.py"),
        &mut FakeNet::new(),
    );
    insta::assert_snapshot!(out);
}

/// Suspended in a socket call three calls deep: the call stack and the
/// highlighted line are the innermost frame's.
#[test]
fn frames_show_the_call_stack_while_suspended() {
    let src = "import socket\n\
               def a():\n    return b()\n\
               def b():\n    return c()\n\
               def c():\n    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n    return s\n\
               x = a()\n";
    let parsed = parse(src);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let mut interp = Interpreter::new(&parsed.script);
    assert_eq!(interp.frames(0), vec![("<module>".to_string(), 2)]);
    let mut steps = 0;
    while interp.step(0, 0.0) == Yield::Stepped {
        steps += 1;
        assert!(steps < 20, "no call reached");
    }
    assert_eq!(interp.lane_state(0), LaneState::Waiting);
    let names: Vec<(String, u32)> = interp.frames(0);
    assert_eq!(
        names,
        vec![
            ("<module>".to_string(), 9),
            ("a".to_string(), 3),
            ("b".to_string(), 5),
            ("c".to_string(), 7),
        ]
    );
    assert_eq!(interp.current_line(0), Some(7));
}

#[test]
fn nested_function_names_are_qualified() {
    let src = "def outer():\n    def inner(x):\n        return x\n    return inner\n\
               f = outer()\nprint(f)\nprint(outer)\ntry:\n    f()\nexcept TypeError as e:\n    print(e)\n";
    assert_eq!(
        output(src),
        "<function outer.<locals>.inner>\n<function outer>\n\
         outer.<locals>.inner() missing 1 required positional argument: 'x'\n"
    );
}

/// An exception leaving a function fails the statement in every frame it
/// passes, then ends the lane at the line where it was raised.
#[test]
fn uncaught_exception_inside_a_function() {
    let src = "def check(n):\n    if n > 1:\n        raise RuntimeError(\"socket connection broken\")\n    return n\n\
               check(1)\ncheck(2)\nprint('not reached')\n";
    insta::assert_snapshot!(run(src, &mut FakeNet::new()));
}

#[test]
fn unbounded_recursion_ends_with_recursion_error() {
    let src = "def f(n):\n    return f(n + 1)\nf(0)\n";
    let out = run(src, &mut FakeNet::new());
    let last = out.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        "== main Error at line 2: line 2: RecursionError: maximum recursion depth exceeded"
    );
}

#[test]
fn unbound_local_and_closure_cells() {
    let src = "x = 1\ndef f():\n    print(x)\n    x = 2\ntry:\n    f()\nexcept UnboundLocalError as e:\n    print(e)\n\
               def counter():\n    n = 0\n    def inc(step=1):\n        nonlocal n\n        n += step\n        return n\n    return inc\n\
               a = counter()\nb = counter()\na()\na(5)\nprint(a(), b())\n\
               g = lambda *args, **kw: (args, kw)\nprint(g(1, 2, k=3))\n";
    assert_eq!(
        output(src),
        "cannot access local variable 'x' where it is not associated with a value\n7 1\n((1, 2), {'k': 3})\n"
    );
}

/// Steps inside a call name the function and the depth; top-level steps
/// serialize exactly as before (no such fields).
#[test]
fn step_events_inside_functions_carry_function_and_depth() {
    let parsed = parse("def f():\n    return 1\nx = f()\n");
    let mut interp = Interpreter::new(&parsed.script);
    while !interp.all_ended() {
        interp.step(0, 0.0);
    }
    let json: Vec<String> = interp
        .take_events()
        .iter()
        .map(|e| serde_json::to_string(e).unwrap_or_default())
        .collect();
    assert_eq!(
        json[..3],
        [
            r#"{"kind":"step","lane":"main","line":1,"call":"def f():","ok":true,"result":"None","errno":null,"errno_num":null}"#,
            r#"{"kind":"step","lane":"main","line":2,"call":"return 1","ok":true,"result":"1","errno":null,"errno_num":null,"function":"f","depth":2}"#,
            r#"{"kind":"step","lane":"main","line":3,"call":"x = f()","ok":true,"result":"1","errno":null,"errno_num":null}"#,
        ]
    );
}

/// `return` through `finally` and loops, exceptions unwinding through
/// `finally` in several frames, closures over loop variables, defaults.
#[test]
fn control_flow_through_functions_matches_cpython() {
    let src = include_str!("scripts/functions_flow.py");
    assert_eq!(output(src), include_str!("scripts/functions_flow.expected"));
}

/// A socket call two frames deep fails; the caller's `except` catches it.
#[test]
fn socket_error_in_a_nested_call_is_caught_by_the_caller() {
    let src = "import socket\n\
               def connect(port):\n    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n    s.connect(('127.0.0.1', port))\n    return s\n\
               def try_connect():\n    try:\n        return connect(5999)\n    except ConnectionRefusedError as e:\n        print('refused', e.errno)\n        return None\n\
               print(try_connect())\n";
    assert_eq!(output(src), "refused 111\nNone\n");
}

#[test]
fn sets_print_what_cpython_prints() {
    let src = include_str!("scripts/sets.py");
    assert_eq!(output(src), include_str!("scripts/sets.expected"));
}
