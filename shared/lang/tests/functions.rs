//! Functions, closures, `raise` and dicts: what scripts print matches CPython
//! 3.11 (the `.expected` files are python3's output for the same script).

mod common;

use common::{FakeNet, printed, run};
use socklab_lang::interp::{Interpreter, LaneState, StackEntry, Yield};
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
    assert_eq!(interp.frames(0), vec![StackEntry::own("<module>", 2)]);
    let mut steps = 0;
    while interp.step(0, 0.0) == Yield::Stepped {
        steps += 1;
        assert!(steps < 20, "no call reached");
    }
    assert_eq!(interp.lane_state(0), LaneState::Waiting);
    let names: Vec<StackEntry> = interp.frames(0);
    assert_eq!(
        names,
        vec![
            StackEntry::own("<module>", 9),
            StackEntry::own("a", 3),
            StackEntry::own("b", 5),
            StackEntry::own("c", 7),
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

mod library_steps {
    use super::common::{self, FakeNet};
    use socklab_lang::interp::{CallResult, InterpEvent, Interpreter};
    use socklab_lang::schedule::{Answer, Scheduler, Turn};

    const SERVER: &str = "import socketserver\n\
        class Echo(socketserver.BaseRequestHandler):\n    def handle(self):\n        self.request.sendall(self.request.recv(64))\n\
        srv = socketserver.TCPServer((\"127.0.0.1\", 5600), Echo)\n\
        srv.handle_request()\n\
        # lane: client\n\
        import socket\n\
        c = socket.create_connection((\"127.0.0.1\", 5600))\n\
        c.sendall(b\"hi\")\n";

    fn paused(src: &str) -> Scheduler<Interpreter> {
        let parsed = socklab_lang::parse(src);
        assert!(parsed.is_ok(), "{:?}", parsed.diagnostics);
        let mut scheduler = Scheduler::new(Interpreter::new(&parsed.script), 1);
        scheduler.set_paused(true);
        scheduler
    }

    /// One Step (into) or Step over of `lane`, its calls answered by `net`.
    fn step(s: &mut Scheduler<Interpreter>, net: &mut FakeNet, lane: usize, over: bool) -> Vec<InterpEvent> {
        if over { s.request_step_over(lane) } else { s.request_step(lane) }
        loop {
            match s.run(0.0, 100) {
                Turn::Call { id, call, .. } => match net.try_call(&call) {
                    common::Answer::Done(outcome) => s.answer(id, Answer::Done(CallResult::Outcome(outcome))),
                    common::Answer::WouldBlock => s.answer(id, Answer::Pending),
                },
                Turn::Idle => return s.lanes_mut().take_events(),
                Turn::Again => {}
            }
        }
    }

    /// Module, line, function and depth of a step event.
    type Place = (Option<String>, u32, Option<String>, Option<u32>);

    /// The place of each step event.
    fn places(events: &[InterpEvent]) -> Vec<Place> {
        events
            .iter()
            .filter_map(|e| match e {
                InterpEvent::Step { module, line, function, depth, .. } => {
                    Some((module.clone(), *line, function.clone(), *depth))
                }
                _ => None,
            })
            .collect()
    }

    /// Steps into `socketserver.TCPServer(...)`: the lane rests on the
    /// library's lines, each step names its module, function and depth, the
    /// server's own bind and listen are steps of socketserver.py, and the
    /// lane comes back to its own line 6 once the constructor returns.
    #[test]
    fn step_into_enters_socketserver_and_comes_back() {
        let mut s = paused(SERVER);
        let mut net = FakeNet::new();
        step(&mut s, &mut net, 0, false); // class Echo: its body
        while s.lanes().current_line(0) != Some(5) {
            step(&mut s, &mut net, 0, false);
        }
        let events = step(&mut s, &mut net, 0, false);
        assert!(places(&events).is_empty(), "{events:?}");
        let stack = s.lanes().frames(0);
        assert_eq!(stack.len(), 2, "{stack:?}");
        assert_eq!((stack[0].function.as_str(), stack[0].line, stack[0].module), ("<module>", 5, None));
        assert_eq!((stack[1].function.as_str(), stack[1].module), ("TCPServer.__init__", Some("socketserver")));
        assert_eq!(s.lanes().current_line(0), Some(5), "the lane's own line stays the caller's");
        let mut seen = Vec::new();
        for _ in 0..200 {
            let events = step(&mut s, &mut net, 0, false);
            seen.extend(events.iter().cloned());
            if s.lanes().frames(0).len() == 1 {
                break;
            }
        }
        let steps = places(&seen);
        let (last, library) = steps.split_last().expect("steps");
        assert_eq!(last, &(None, 5, None, None), "the constructor's own statement ends the stepping");
        assert!(library.iter().all(|(module, ..)| module.is_some()), "{library:?}");
        assert!(library.iter().all(|(_, _, function, depth)| function.is_some() && depth.unwrap_or(0) >= 2));
        let text: Vec<String> = seen.iter().map(|e| socklab_lang::transcript::Line::Interp(e.clone()).human()).collect();
        assert!(text.iter().any(|t| t.starts_with("main:socketserver.py:") && t.contains(".bind(")), "{text:#?}");
        assert!(text.iter().any(|t| t.starts_with("main:socketserver.py:") && t.contains(".listen(")), "{text:#?}");
        assert!(text.iter().any(|t| t.starts_with("main:threading.py:")), "threading's Event is stepped too: {text:#?}");
        assert_eq!(s.lanes().current_line(0), Some(6));
    }

    /// Step over the same statement is one step; `handle_request` stepped
    /// into shows the library's lines and the script's own `handle` within them.
    #[test]
    fn step_over_a_library_call_is_one_step() {
        let mut s = paused(SERVER);
        let mut net = FakeNet::new();
        while s.lanes().current_line(0) != Some(5) {
            step(&mut s, &mut net, 0, true);
        }
        let events = step(&mut s, &mut net, 0, true);
        assert_eq!(places(&events), vec![(None, 5, None, None)]);
        assert_eq!(s.lanes().frames(0).len(), 1);
        // The client connects; the server steps into handle_request.
        while !matches!(s.lanes().lane_state(1), socklab_lang::interp::LaneState::Ended(_)) {
            step(&mut s, &mut net, 1, true);
        }
        let mut seen = Vec::new();
        let mut handle_stack = None;
        for _ in 0..300 {
            seen.extend(step(&mut s, &mut net, 0, false));
            let stack = s.lanes().frames(0);
            if stack.last().is_some_and(|f| f.function == "Echo.handle") {
                handle_stack = Some(stack.clone());
            }
            if stack.len() == 1 || stack.is_empty() {
                break;
            }
        }
        let stack = handle_stack.expect("handle was stepped into");
        assert_eq!(stack.last().map(|f| f.module), Some(None), "handle is the script's own code");
        let modules: Vec<Option<&str>> = stack.iter().map(|f| f.module).collect();
        assert!(modules[1..stack.len() - 1].iter().all(|m| *m == Some("socketserver")), "{stack:?}");
        assert!(stack.iter().any(|f| f.function == "BaseServer.handle_request"), "{stack:?}");
        let steps = places(&seen);
        assert!(steps.iter().any(|(m, ..)| m.as_deref() == Some("selectors")), "{steps:?}");
        assert_eq!(steps.last().map(|p| (p.0.clone(), p.1)), Some((None, 6)), "{:#?}", &steps[steps.len().saturating_sub(12)..]);
    }
}
