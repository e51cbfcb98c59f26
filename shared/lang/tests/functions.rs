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
