//! Classes: what scripts with classes print matches CPython 3.11 (the
//! `.expected` files are python3's output for the same script).

mod common;

use common::{FakeNet, printed, run};

fn output(src: &str) -> String {
    printed(&run(src, &mut FakeNet::new()))
}

#[test]
fn classes_print_what_cpython_prints() {
    let src = include_str!("scripts/classes.py");
    assert_eq!(output(src), include_str!("scripts/classes.expected"));
}

/// An uncaught script exception ends the lane with CPython's last traceback line.
#[test]
fn uncaught_script_exception_names_its_class() {
    let src = "class ProtocolError(Exception):\n    pass\n\
               def check(n):\n    if n > 3:\n        raise ProtocolError('length %d too big' % n)\n\
               check(5)\n";
    let out = run(src, &mut FakeNet::new());
    assert!(out.contains("ProtocolError: length 5 too big"), "{out}");
}

/// A class wrapping sockets, used as a context manager in a server lane and
/// called from a client lane: its methods' socket calls suspend and resume
/// inside the calls.
#[test]
fn socket_wrapper_class() {
    let out = run(include_str!("scripts/class_wrapper.py"), &mut FakeNet::new());
    insta::assert_snapshot!(out);
}
