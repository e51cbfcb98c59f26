//! Parser snapshots: tree dumps of valid scripts and diagnostics of broken ones,
//! plus robustness (no panic on any input).

mod common;

use socklab_lang::parse;

pub const SPEC_EXAMPLE: &str = r#"# lane: server
srv = socket(AF_INET, SOCK_STREAM)
srv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 5500))
srv.listen(5)
conn, addr = srv.accept()
msg = conn.recv(1024)
conn.send(msg)
conn.close()
srv.close()

# lane: client
cli = socket(AF_INET, SOCK_STREAM)
cli.connect(("127.0.0.1", 5500))
cli.send(b"hello socket world")
reply = cli.recv(1024)
assert reply == b"hello socket world"
cli.close()
"#;

pub const EVERY_CONSTRUCT: &str = r#"import socket
from socket import *
x = 0x10 + 0o7 + 0b1 - -3 * 2 // 4 % 5 ** 2
f = 0.5 / 2
s = "tab\there" 'and "quotes"' "\x41\u00e9"
b = b"\r\n\x00\\" b'\''
t = (1,)
e = ()
l = [1, 2, 3,]
a, (c, d) = 1, (2, 3)
first = l[0] + l[-1]
part = b[1:] + b[:2] + b[::2] + b[1:-1:1]
x += 1
x -= 1
x *= 2
l[0] = 5
ok = not x and (x or None) if True else False
cmp = 1 < x <= 10 != 3
member = b"a" in b and 3 not in l and x is not None
bits = (x & 0xff) | (x >> 2) ^ ~x << 1
s = socket.socket(socket.AF_INET, type=SOCK_DGRAM)
r, w, _ = select([s], [], [], 0.5)
while x > 0:
    x -= 1
    if x == 3:
        continue
    elif x == 2:
        break
    else:
        pass
for i in range(3): print(i, end="")
try:
    s.connect(("127.0.0.1", 9))
except (ConnectionRefusedError, socket.timeout) as err:
    print(err.errno, err.strerror)
except OSError:
    pass
except:
    pass
else:
    print("else")
finally:
    s.close()
with socket(AF_INET, SOCK_STREAM) as t:
    t.settimeout(None); t.setblocking(False)
assert x == 0, "x is " + str(x)
long = print(1,
             2)  # a comment
"#;

#[test]
fn spec_example_tree() {
    let parsed = parse(SPEC_EXAMPLE);
    assert_eq!(parsed.diagnostics, vec![]);
    insta::assert_snapshot!(common::dump(&parsed.script));
}

#[test]
fn every_construct_tree() {
    let parsed = parse(EVERY_CONSTRUCT);
    assert_eq!(parsed.diagnostics, vec![]);
    insta::assert_snapshot!(common::dump(&parsed.script));
}

#[test]
fn lanes_and_main() {
    let parsed = parse("x = 1\r\n# lane: a\r\ny = 2\r\n#lane:b-2\r\n");
    assert_eq!(parsed.diagnostics, vec![]);
    let lanes: Vec<(&str, u32, usize)> = parsed
        .script
        .lanes
        .iter()
        .map(|l| (l.name.as_str(), l.line, l.body.len()))
        .collect();
    assert_eq!(lanes, vec![("main", 1, 1), ("a", 2, 1), ("b-2", 4, 0)]);

    let empty = parse("");
    assert_eq!(empty.diagnostics, vec![]);
    assert_eq!(empty.script.lanes.len(), 1);
    assert_eq!(empty.script.lanes[0].name, "main");

    // No statements before the first header: no main lane.
    let only = parse("# just a comment\n\n# lane: x\npass\n");
    assert_eq!(
        only.script
            .lanes
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>(),
        vec!["x"]
    );
}

/// Broken scripts and what the parser says about each.
const BROKEN: &[(&str, &str)] = &[
    (
        "unclosed paren",
        "x = 1\ny = 2\ncli.connect((\"127.0.0.1\", 5500)\nz = 3\n",
    ),
    ("missing comma", "print(a b)\n"),
    ("unexpected indent", "x = 1\n    y = 2\n"),
    ("unindent mismatch", "if x:\n        y = 1\n    z = 2\n"),
    ("unknown name", "x = 1\ns = sockett(AF_INET, SOCK_STREAM)\n"),
    (
        "unknown name typo constant",
        "s = socket(AF_INTE, SOCK_STREAM)\n",
    ),
    ("unterminated string", "x = 1\nprint(\"hello)\n"),
    ("invalid escape", "x = b\"\\q\"\n"),
    ("non-ascii bytes", "x = b\"caf\u{e9}\"\n"),
    ("break outside loop", "x = 1\nbreak\n"),
    ("continue in if outside loop", "if True:\n    continue\n"),
    ("invalid lane name", "# lane: 9lives\nx = 1\n"),
    ("duplicate lane", "# lane: a\nx = 1\n# lane: a\ny = 2\n"),
    ("missing colon", "while x > 0\n    x -= 1\n"),
    ("missing block", "if x:\nprint(1)\n"),
    ("else without if", "x = 1\nelse:\n    pass\n"),
    ("yield outside function", "x = 1\nyield x\n"),
    ("two starred targets", "a, *b, *c = range(5)\n"),
    ("starred target alone", "*a = range(5)\n"),
    ("starred expression alone", "print((*a))\n"),
    ("dict item without a value", "x = {1: 2, 3}\n"),
    ("return outside function", "return 1\n"),
    ("break inside def inside loop", "while True:\n    def f():\n        break\n"),
    ("non-default parameter after default", "def f(a=1, b):\n    pass\n"),
    ("duplicate parameter", "def f(a, a):\n    pass\n"),
    ("f-string", "x = f\"{y!z}\"\n"),
    ("bad assignment target", "f() = 3\n"),
    (
        "unknown exception class",
        "try:\n    pass\nexcept Foo:\n    pass\n",
    ),
    ("try without except", "try:\n    pass\nx = 1\n"),
    (
        "bare except not last",
        "try:\n    pass\nexcept:\n    pass\nexcept OSError:\n    pass\n",
    ),
    ("unknown module", "import tkinter\n"),
    ("stray character", "x = 1 $ 2\n"),
    ("several errors", "x = (1\n# lane: b\ny = 2 +\nz = [1, 2\n"),
    (
        "unclosed bracket across lines",
        "x = [1,\n     2\nprint(x)\n",
    ),
    ("tabs and spaces", "if x:\n\ty = 1\n        z = 2\n"),
    ("keyword as name", "for = 3\n"),
    ("for without in", "for i range(3):\n    pass\n"),
    ("slice junk", "x = b[1:2:3:4]\n"),
    ("positional after keyword", "print(end=\"\", 1)\n"),
    ("loop else", "while x:\n    pass\nelse:\n    pass\n"),
];

#[test]
fn diagnostics_of_broken_scripts() {
    let mut out = String::new();
    for (name, src) in BROKEN {
        let parsed = parse(src);
        assert!(
            !parsed.diagnostics.is_empty(),
            "{name}: expected diagnostics"
        );
        out.push_str(&format!("--- {name}\n"));
        for line in src.lines() {
            out.push_str(&format!("    | {line}\n"));
        }
        for d in &parsed.diagnostics {
            out.push_str(&format!("{d}\n"));
        }
    }
    insta::assert_snapshot!(out);
}

/// A small deterministic generator (xorshift), so the "random" inputs are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn never_panics_on_garbage() {
    const PIECES: &[&str] = &[
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ":",
        ",",
        ".",
        "=",
        "+=",
        "-",
        "*",
        "**",
        "//",
        "\n",
        "\r\n",
        "\r",
        "\t",
        "    ",
        " ",
        "#",
        "# lane: x\n",
        "# lane: \n",
        "\"",
        "'",
        "b\"",
        "\"\"\"",
        "\\",
        "\\x",
        "\\u12",
        "0x",
        "1e",
        "99999999999999999999",
        "0.5",
        "if",
        "elif",
        "else",
        "while",
        "for",
        "in",
        "try",
        "except",
        "finally",
        "with",
        "as",
        "not",
        "and",
        "or",
        "is",
        "None",
        "x",
        "socket",
        "é",
        "🦀",
        "\0",
        "lambda",
        "break",
        "continue",
        "pass",
        "assert",
        "import",
        "from",
        "socket.",
        "f\"",
        "rb'",
        ";",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let n = (rng.next() % 40) as usize;
        let src: String = (0..n).map(|_| *rng.pick(PIECES)).collect();
        let parsed = parse(&src);
        for d in &parsed.diagnostics {
            assert!(d.line >= 1 && d.col >= 1, "{d} for {src:?}");
        }
    }
    for _ in 0..500 {
        let n = (rng.next() % 200) as usize;
        let bytes: Vec<u8> = (0..n).map(|_| (rng.next() % 256) as u8).collect();
        let _ = parse(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn never_panics_on_truncated_or_mangled_examples() {
    for example in [SPEC_EXAMPLE, EVERY_CONSTRUCT] {
        let chars: Vec<char> = example.chars().collect();
        for cut in 0..chars.len() {
            let prefix: String = chars[..cut].iter().collect();
            let _ = parse(&prefix);
            let without: String = chars
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != cut)
                .map(|(_, c)| c)
                .collect();
            let _ = parse(&without);
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for (open, close) in [("(", ")"), ("[", "]"), ("-", ""), ("not ", "")] {
        let src = format!("x = {}1{}\n", open.repeat(5000), close.repeat(5000));
        let parsed = parse(&src);
        assert!(
            parsed
                .diagnostics
                .iter()
                .any(|d| d.message.contains("nested too deeply")),
            "{open}"
        );
    }
    let mut deep_blocks = String::new();
    for i in 0..200 {
        deep_blocks.push_str(&format!("{}if True:\n", "    ".repeat(i)));
    }
    deep_blocks.push_str(&format!("{}pass\n", "    ".repeat(200)));
    assert!(!parse(&deep_blocks).diagnostics.is_empty());
}

/// The diagnostics of `src`, one `line:col: message` per line.
fn diagnostics(src: &str) -> String {
    parse(src)
        .diagnostics
        .iter()
        .map(|d| format!("{d}\n"))
        .collect()
}

#[test]
fn fstrings_parse_to_text_and_fields() {
    let parsed = parse(
        "w = 8\nx = f\"a{w!r:>{w}}b{{c}}\" 'd' f'{w=}{w + 1 = :x}'\ny = rf\"\\d{w}\" F'{(w, w)}'\n",
    );
    assert!(parsed.is_ok(), "{:?}", parsed.diagnostics);
    let tree = common::dump(&parsed.script);
    assert!(
        tree.contains(r#"(f "a" {w!r:(">" {w})} "b{c}dw=" {w!r} "w + 1 = " {(+ w 1):("x")})"#),
        "{tree}"
    );
    assert!(tree.contains(r#"(f "\\d" {w} {(tuple w w)})"#), "{tree}");
}

#[test]
fn fstring_errors_point_into_the_string() {
    // Errors inside an expression carry the expression's own line and column.
    assert_eq!(diagnostics("x = 1\ny = f\"ab{x +}\"\n"), "2:13: expected an expression, found end of file\n");
    assert_eq!(diagnostics("y = f\"\"\"\n  {1 +\n  ) }\"\"\"\n"), "2:7: expected an expression\n");
    assert_eq!(diagnostics("y = f'{}'\n"), "1:8: f-string: empty expression not allowed\n");
    assert_eq!(diagnostics("y = f'{x!z}'\n"), "1:10: f-string: invalid conversion character: expected 's', 'r', or 'a'\n");
    assert_eq!(diagnostics("y = f'a}'\n"), "1:8: f-string: single '}' is not allowed\n");
    assert_eq!(diagnostics("y = f'{x'\n"), "1:9: f-string: expecting '}'\n");
    // Python 3.11: the outer quote ends the string even inside the braces.
    assert_eq!(diagnostics("y = f'{'a'}'\n"), "1:8: f-string: expecting '}'\n");
    assert_eq!(diagnostics("y = f'{\"\\n\"}'\n"), "1:9: f-string expression part cannot include a backslash\n");
    assert_eq!(diagnostics("y = f'{x # c}'\n"), "1:10: f-string expression part cannot include '#'\n");
    assert_eq!(diagnostics("y = f'{x:{x:{x}}}'\n"), "1:13: f-string: expressions nested too deeply\n");
    assert_eq!(diagnostics("y = f'{x} {y!r}' b'z'\n"), "1:18: cannot mix bytes and str literals\n");
    assert_eq!(diagnostics("y = f'{x\n"), "1:5: unterminated string literal\n1:9: f-string: expecting '}'\n");
}

#[test]
fn names_inside_fstrings_are_checked() {
    let d = diagnostics("port = 1\nprint(f\"{prot:>5}\")\n");
    assert!(d.contains("2:10: unknown name 'prot'"), "{d}");
}

#[test]
fn fstrings_never_panic_and_run_without_panicking() {
    const PIECES: &[&str] = &[
        "f'", "f\"", "rf'", "f'''", "f\"\"\"", "'", "\"", "'''", "{", "}", "{{", "}}", "!r", "!",
        ":", "=", "==", "x", "1", "(", ")", "[", "]", "\\", "\\n", "#", "\n", " ", ">", "{x}",
        ":{", "%", "%s", "%(", "*", ".2f", ",", "_", "z", "#x",
    ];
    let mut rng = Rng(0x5eed_f00d);
    for _ in 0..3000 {
        let n = 1 + rng.next() % 14;
        let mut src = String::from("x = 3\ny = ");
        for _ in 0..n {
            let piece: &&str = rng.pick(PIECES);
            src.push_str(piece);
        }
        src.push('\n');
        let parsed = parse(&src);
        if parsed.is_ok() {
            // Whatever parses also runs to its end without a panic.
            let mut interp = socklab_lang::interp::Interpreter::new(&parsed.script);
            for _ in 0..10 {
                let _ = interp.step(0, 0.0);
            }
        }
    }
}

#[test]
fn a_chain_of_more_than_a_thousand_operators_is_refused_not_a_crash() {
    for (unit, joiner) in [("1", "+"), ("x", " or "), ("f", "."), ("()", "")] {
        let long = vec![unit; 50_000].join(joiner);
        let parsed = parse(&format!("y = g{long}\n"));
        let messages: Vec<&str> = parsed.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert!(messages.iter().any(|m| m.contains("more than 1000 operators in a row")), "{unit}: {messages:?}");
    }
    let fine = vec!["1"; 1000].join("+");
    assert!(parse(&format!("y = {fine}\n")).is_ok());
}
