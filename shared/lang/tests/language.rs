//! Starred targets, `with` with several items, generators, memoryview,
//! exception chaining and hashlib: what scripts print matches CPython 3.11
//! (each `scripts/NAME.expected` is python3's output for `scripts/NAME.py`).

mod common;

use common::{FakeNet, printed, run};

/// A test that runs `scripts/NAME.py` and compares its output with CPython's.
macro_rules! like_cpython {
    ($($test:ident: $name:literal,)*) => {$(
        #[test]
        fn $test() {
            let src = include_str!(concat!("scripts/", $name, ".py"));
            let out = printed(&run(src, &mut FakeNet::new()));
            assert_eq!(out, include_str!(concat!("scripts/", $name, ".expected")));
        }
    )*};
}

like_cpython! {
    starred_targets_and_arguments: "starred",
    with_several_items: "with_items",
    generators: "generators",
    instance_iteration: "dunder_iter",
    instance_truth_and_len: "dunder_truth",
    instance_items: "dunder_items",
    operator_methods_and_not_implemented: "dunder_operators",
    format_method: "dunder_format",
    unhashable_instances: "dunder_hash",
    comparisons_and_not_implemented: "dunder_compare",
    memoryview_and_slice_assignment: "memoryview",
    exception_chaining: "raise_from",
    hashlib_digests: "hashes",
    yield_from_send_and_throw: "yield_from",
    exception_context: "context",
    socket_module_helpers: "socket_helpers",
    assignment_expressions: "walrus",
    loop_else: "loop_else",
    base64_codecs_and_types: "encodings",
    timeouts_out_of_range: "timeouts",
    operator_methods: "operators",
    datetime_and_the_calendar: "datetime_lib",
    dotted_module_names: "dotted_imports",
    threading_barrier: "barrier",
    integers_of_any_size: "bigints",
    int_methods_and_bytes: "int_methods",
    library_class_reprs: "class_reprs",
    getattr_hook: "getattr_hook",
    setattr_and_thread_locals: "setattr_local",
    import_binds_the_module: "import_rebind",
    traceback_markers: "traceback_marks",
    getattribute_hook: "getattribute_hook",
    ranges_past_64_bits: "big_ranges",
    hash_and_instance_keys: "dunder_hash2",
    eq_in_lists_and_tuples: "dunder_eq_lists",
    slices_of_instances: "dunder_slices",
    str_format_of_instances: "dunder_format2",
    small_builtins_and_sequence_iterators: "builtins_small",
    frozensets: "frozensets",
}

