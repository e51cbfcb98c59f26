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

/// The checker knows the names comprehensions and imports bind; a generator
/// expression beside other arguments is refused as CPython refuses it.
#[test]
fn comprehension_and_import_names_are_known_to_the_checker() {
    let src = "from struct import pack as p, calcsize\nimport json as j\n\
               ys = [p('!H', y) for y in range(3) if y]\nd = {k: v for k, v in zip('ab', ys)}\n\
               print(sum(len(x) for x in ys), calcsize('!H'), j.dumps(list(d)))\n";
    let parsed = socklab_lang::parse(src);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(output(src), "4 2 [\"a\", \"b\"]\n");
    let parsed = socklab_lang::parse("xs = []\nprint(sum(x for x in xs, 1))\n");
    let messages: Vec<String> = parsed.diagnostics.iter().map(|d| format!("{}:{}: {}", d.line, d.col, d.message)).collect();
    assert_eq!(messages, ["2:10: Generator expression must be parenthesized"]);
    let parsed = socklab_lang::parse("print([x for x in range(3)], x)\n");
    assert_eq!(parsed.diagnostics.len(), 0, "names a comprehension binds are known to the checker everywhere in the lane (the use outside is a NameError when it runs, as in CPython)");
}

/// `select.poll`, `select.epoll`, `selectors` (written in Python on them)
/// and `os.path`'s text functions, over a socketpair.
#[test]
fn poll_and_selectors_print_what_cpython_prints() {
    let src = include_str!("scripts/poll_lib.py");
    assert_same(&output(src), include_str!("scripts/poll_lib.expected"));
}

/// `argparse` (written in Python): parsing, `Namespace`, usage and help
/// (wrapped as CPython wraps them), errors (usage and message on stderr,
/// `SystemExit(2)`).
#[test]
fn argparse_prints_what_cpython_prints() {
    let src = include_str!("scripts/argparse_lib.py");
    assert_same(&output(src), include_str!("scripts/argparse_lib.expected"));
}

/// `socketserver` (written in Python on selectors): a TCPServer with a
/// StreamRequestHandler, `handle_request` twice, as the corpus's program 10
/// prints it under CPython.
#[test]
fn socketserver_handles_requests_as_cpython() {
    let src = "# lane: server\nimport socketserver\n\n\
class Echo(socketserver.StreamRequestHandler):\n    def handle(self):\n        line = self.rfile.readline().strip()\n        print('got', line, self.client_address[0])\n        self.wfile.write(line.upper() + b'\\n')\n\n\
with socketserver.TCPServer(('127.0.0.1', 5100), Echo) as server:\n    print(server.server_address)\n    server.handle_request()\n    server.handle_request()\nprint('server done')\n\n\
# lane: client\nimport socket\nfor text in [b'one', b'two']:\n    with socket.create_connection(('127.0.0.1', 5100)) as s:\n        s.sendall(text + b'\\n')\n        print(s.recv(100))\n";
    let transcript = run(src, &mut FakeNet::new());
    let lane = |name: &str| -> String {
        transcript
            .lines()
            .filter_map(|l| l.split_once("  | ").filter(|(who, _)| who.split(':').next() == Some(name)).map(|(_, t)| format!("{t}\n")))
            .collect()
    };
    assert_same(&lane("server"), "('127.0.0.1', 5100)\ngot b'one' 127.0.0.1\ngot b'two' 127.0.0.1\nserver done\n");
    assert_same(&lane("client"), "b'ONE\\n'\nb'TWO\\n'\n");
}
