//! Builtins and library modules (`struct`, `sys`, `errno`, `os`, `binascii`,
//! `random`, `math`, `json`): what scripts print matches CPython 3.11 (the
//! `.expected` files are python3's output for the same script).

mod common;

use common::{FakeNet, printed, run};

fn output(src: &str) -> String {
    printed(&run(src, &mut FakeNet::new()))
}

/// Line by line, so a mismatch names its line.
fn assert_same(got: &str, expected: &str) {
    for (n, (g, e)) in got.lines().zip(expected.lines()).enumerate() {
        assert_eq!(g, e, "output line {}", n + 1);
    }
    assert_eq!(got.lines().count(), expected.lines().count(), "{got}");
}

#[test]
fn builtins_print_what_cpython_prints() {
    let src = include_str!("scripts/builtins_lib.py");
    assert_same(&output(src), include_str!("scripts/builtins_lib.expected"));
}

#[test]
fn modules_print_what_cpython_prints() {
    let src = include_str!("scripts/modules_lib.py");
    assert_same(&output(src), include_str!("scripts/modules_lib.expected"));
}

#[test]
fn comprehensions_print_what_cpython_prints() {
    let src = include_str!("scripts/comprehensions.py");
    assert_same(&output(src), include_str!("scripts/comprehensions.expected"));
}

/// `sorted(key=)`, `min`/`max(key=)`, `map` and `filter` calling script
/// functions (lambdas, functions with statements, recursion) and `str.lower`.
#[test]
fn callbacks_print_what_cpython_prints() {
    let src = include_str!("scripts/callbacks.py");
    assert_same(&output(src), include_str!("scripts/callbacks.expected"));
}

#[test]
fn bytearray_prints_what_cpython_prints() {
    let src = include_str!("scripts/bytearray.py");
    assert_same(&output(src), include_str!("scripts/bytearray.expected"));
}
