//! Export a script as a real program: Python 3 (a thread per lane) or C (a
//! pthread per lane). Pure string generation from the parsed [`Script`], so
//! the page and `socklab export` produce the same text.
//!
//! Both programs keep the playground's two promises that matter for output:
//! each lane's `print` lines come out prefixed with `[lane] `, and lanes start
//! in file order, each one once the previous lane has finished or reached its
//! first call that may wait (so a server listens before its client connects).

mod c;
mod python;
mod walk;

use socklab_lang::Script;

pub use c::c;
pub use python::python;

/// A construct the exporter cannot translate, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}: cannot export to {target}: {message}")]
pub struct ExportError {
    pub line: u32,
    pub target: &'static str,
    pub message: String,
}

/// Either exporter, by its `--lang` name (`python` or `c`).
pub fn export(lang: &str, script: &Script) -> Result<String, ExportError> {
    match lang {
        "python" | "python3" | "py" => python(script),
        "c" => c(script),
        other => Err(ExportError {
            line: 0,
            target: "?",
            message: format!("unknown language {other:?}: python or c"),
        }),
    }
}

/// The prefix every exported lane puts before its printed lines; tests split output with it.
pub fn lane_prefix(lane: &str) -> String {
    format!("[{lane}] ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(source: &str) -> Script {
        let parsed = socklab_lang::parse(source);
        assert!(parsed.is_ok(), "{:?}", parsed.diagnostics);
        parsed.script
    }

    #[test]
    fn python_uses_the_standard_modules_and_marks_where_the_next_lane_starts() {
        let program = python(&script(
            "# lane: server\nsrv = socket(AF_INET, SOCK_STREAM)\nsrv.bind((\"127.0.0.1\", 5000))\nsrv.listen()\nc, a = srv.accept()\n\
             # lane: client-1\ntime = 3\ntry:\n    sleep(0.5)\nexcept OSError as e:\n    print(e.errno == EAGAIN, -time ** 2, (1, ))\n",
        ))
        .unwrap();
        assert!(
            program.contains("    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"),
            "{program}"
        );
        let lane = program.find("def lane_server").unwrap();
        let listen = program.find("srv.listen()").unwrap();
        let marker = lane + program[lane..].find("may_start_next.set()").unwrap();
        let accept = program.find("c, a = srv.accept()").unwrap();
        assert!(listen < marker && marker < accept, "{program}");
        // A lane name that is not an identifier, a variable that shadows a module, Python's precedence.
        assert!(
            program.contains("def lane_client_1(print, may_start_next):"),
            "{program}"
        );
        assert!(program.contains("time_ = 3"), "{program}");
        assert!(program.contains("time.sleep(0.5)"), "{program}");
        assert!(
            program.contains("print(e.errno == errno.EAGAIN, -time_ ** 2, (1,))"),
            "{program}"
        );
        assert!(
            program.contains("(\"client-1\", lane_client_1),"),
            "{program}"
        );
    }

    #[test]
    fn classes_export_to_python_and_are_refused_by_c() {
        let src = "class ProtocolError(Exception):\n    pass\nclass Box(object):\n    @property\n    def main(self):\n        return self.v\n    def __init__(self, v):\n        self.v = v\nb = Box(1)\nb.v += 1\ntry:\n    raise ProtocolError(b.main)\nexcept ProtocolError as e:\n    print(e)\n";
        let program = python(&script(src)).unwrap();
        for line in [
            "    class ProtocolError(Exception):\n        pass\n",
            "    class Box(object):\n",
            "        @property\n        def main(self):\n",
            "    b.v += 1\n",
            "    except ProtocolError as e:\n",
        ] {
            assert!(program.contains(line), "{line}\n{program}");
        }
        let e = c(&script(src)).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.to_string().contains("classes"), "{e}");
    }

    #[test]
    fn nonblocking_sockets_do_not_count_as_waiting() {
        let lane = &script("s = socket()\ns.setblocking(False)\ntry:\n    s.accept()\nexcept OSError:\n    pass\nselect([s], [], [], 1)\n").lanes[0];
        assert_eq!(walk::first_waiting(lane), Some(3));
    }

    #[test]
    fn formatting_exports_as_python_reads_it() {
        let src = "w = 6\nport = 80\nprint(f\"{w=} [{'ab'!r:>{w}}] {{x}} {port:#x}\\n\", \"%s:%d\" % (\"h\", port), \"{0}-{k}\".format(1, k=2), format(2.675, \".2f\"))\nprint(f'{\"q\"}' f\"{'a' + 'b':{'>'}3}\" f'''{\"it's\"}''')\n";
        let program = python(&script(src)).unwrap();
        // Fields come back as f-strings (in single quotes when a field has a
        // double one); what Python 3.11 could not read back (a field with both
        // quotes) is spelled with format().
        assert!(
            program.contains(r#"f'w={w!r} [{"ab"!r:>{w}}] {{x}} {port:#x}\n'"#),
            "{program}"
        );
        assert!(
            program.contains(r#"print(("" + format("q") + format("a" + "b", ("" + format(">") + "3")) + format("it's")))"#),
            "{program}"
        );
        assert_python_prints(&program, "[main] w=6 [  'ab'] {x} 0x50\n[main]  h:80 1-2 2.67\n[main] q abit's\n");
    }

    /// Runs `program` with python3 and checks what it prints; passes where
    /// there is no python3 (the caller's text checks must do).
    fn assert_python_prints(program: &str, expected: &str) {
        let Ok(out) = std::process::Command::new("python3").arg("-c").arg(program).output() else {
            return;
        };
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn library_modules_and_comprehensions_export_as_python_reads_them() {
        let src = "import struct as st\nfrom binascii import hexlify\nimport json, random, math\n\
                   random.seed(42)\nxs = [random.randint(1, 9) for _ in range(3)]\n\
                   print(hexlify(st.pack('!H', 258)), json.dumps({k: v for k, v in zip('ab', xs)}), sum(x for x in xs), math.floor(2.5))\n";
        let program = python(&script(src)).unwrap();
        assert!(program.contains("import binascii\nimport json\nimport math\nimport random\n"), "{program}");
        assert!(program.contains("st = struct\n"), "{program}");
        assert!(program.contains("hexlify = binascii.hexlify\n"), "{program}");
        assert!(program.contains("[random.randint(1, 9) for _ in range(3)]"), "{program}");
        assert_python_prints(&program, "[main] b'0102' {\"a\": 2, \"b\": 1} 8 2\n");
    }

    #[test]
    fn a_lane_waits_where_it_calls_a_function_that_waits() {
        let lane = &script("s = socket()\ndef serve(x):\n    return x.accept()\ndef main():\n    s.listen()\n    serve(s)\nprint(1)\nmain()\n").lanes[0];
        assert_eq!(walk::first_waiting(lane), Some(4));
    }

    #[test]
    fn functions_dicts_and_raise_export_to_python() {
        let program = python(&script(
            "def f(a, b=1, *rest, key=None, **kw):\n    global n\n    return {a: b, 'k': key}\n\
             n = 0\ng = lambda x, *a: f(*a, **{'key': x})\nd = {}\ndel d\ntry:\n    raise RuntimeError('x') from None\nexcept RuntimeError:\n    raise\n",
        ))
        .unwrap();
        for line in [
            "    def f(a, b=1, *rest, key=None, **kw):\n",
            "        nonlocal n\n",
            "        return {a: b, \"k\": key}\n",
            "    g = lambda x, *a: f(*a, **{\"key\": x})\n",
            "    del d\n",
            "        raise RuntimeError(\"x\") from None\n",
            "        raise\n",
        ] {
            assert!(program.contains(line), "{line}\n{program}");
        }
        let c = super::c(&script("def f():\n    pass\n")).unwrap_err();
        assert_eq!(c.line, 1);
        assert!(c.to_string().contains("functions (def)"), "{c}");
    }

    #[test]
    fn socket_module_functions_export_to_python() {
        let src = "# lane: server\nsrv = create_server(('127.0.0.1', 5931))\nc, a = srv.accept()\nc.sendall(b'hi')\nc.close()\n\
                   # lane: client\ns = socket.create_connection(('127.0.0.1', 5931), timeout=5)\nprint(s.gettimeout(), s.family.name, s.recv(10))\n\
                   x, y = socketpair()\nprint(repr(x.family), getaddrinfo('127.0.0.1', 80, AF_INET, SOCK_STREAM)[0][4])\n";
        let program = python(&script(src)).unwrap();
        assert!(program.contains("srv = socket.create_server((\"127.0.0.1\", 5931))"), "{program}");
        assert!(program.contains("x, y = socket.socketpair()"), "{program}");
        let c = super::c(&script("a, b = socketpair()\n")).unwrap_err();
        assert_eq!(c.line, 1);
        let Ok(out) = std::process::Command::new("python3").arg("-c").arg(&program).output() else {
            return; // no python3 here: the text checks above must do
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("[client] 5.0 AF_INET b'hi'\n[client] <AddressFamily.AF_UNIX: 1> ('127.0.0.1', 80)\n"),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn literals_read_back_in_python() {
        assert_eq!(
            python::py_bytes(b"\0\r\n\"\\\xff a"),
            r#"b"\x00\r\n\"\\\xff a""#
        );
        assert_eq!(python::py_str("\0é\""), r#""\x00é\"""#);
        assert_eq!(python::py_float(5.0), "5.0");
        assert_eq!(python::py_float(0.3), "0.3");
    }
}
