use super::*;

fn script(source: &str) -> Script {
    let parsed = socklab_lang::parse(source);
    assert!(parsed.is_ok(), "{:?}", parsed.diagnostics);
    parsed.script
}

fn py(source: &str) -> String {
    python(source, &script(source)).unwrap()
}

/// Runs python3 with `args`; None where there is no python3 (the text checks must do).
fn python3(args: &[&str], dir: Option<&std::path::Path>) -> Option<std::process::Output> {
    let mut command = std::process::Command::new("python3");
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command.output().ok()
}

/// A scratch directory of this test's own.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("socklab-export-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The lane programs the launcher writes with `--extract`, by file name.
fn extracted(program: &str, name: &str) -> Option<Vec<(String, String)>> {
    let dir = scratch(name);
    let launcher = dir.join("export.py");
    std::fs::write(&launcher, program).unwrap();
    let out = python3(&[launcher.to_str()?, "--extract", dir.join("lanes").to_str()?], None)?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir.join("lanes"))
        .unwrap()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap()))
        .collect();
    files.sort();
    let _ = std::fs::remove_dir_all(&dir);
    Some(files)
}

const ECHO: &str = "# lane: server\nsrv = socket(AF_INET, SOCK_STREAM)\nsrv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)\n\
    srv.bind((\"127.0.0.1\", 5817))\nsrv.listen(5)\nconn, addr = srv.accept()\nconn.send(conn.recv(1024))\nconn.close()\n\n\
    # lane: client\ncli = socket(AF_INET, SOCK_STREAM)\ncli.connect((\"127.0.0.1\", 5817))\ncli.send(b\"hi\")\n\
    print(\"client got\", cli.recv(1024))\nprint(EAGAIN, MSG_DONTWAIT > 0)\n";

#[test]
fn python_lanes_are_the_script_with_imports_of_the_names_used_bare() {
    let program = py(ECHO);
    assert!(program.starts_with("#!/usr/bin/env python3\n"), "{program}");
    // Each lane's program holds its code exactly, below the imports it needs.
    assert!(
        program.contains(
            "(\"server\", \"1-server.py\", r\"\"\"\n# Added by socklab export: names the playground has built in and Python has not.\n\
             from socket import AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, socket\n\
             # ---- lane server: lines 2-8 of the script, as written ----\n\
             srv = socket(AF_INET, SOCK_STREAM)\n"
        ),
        "{program}"
    );
    assert!(program.contains("from errno import EAGAIN\nfrom socket import AF_INET, MSG_DONTWAIT, SOCK_STREAM, socket\n"), "{program}");
    assert!(program.contains("print(EAGAIN, MSG_DONTWAIT > 0)\n\"\"\"[1:]),"), "{program}");
    let Some(out) = python3(&["-c", &program], None) else { return };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "[client] client got b'hi'\n[client] 11 True\n", "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success());
}

#[test]
fn python_lanes_that_import_what_they_use_are_kept_unchanged() {
    let src = "import socket\nimport struct as st\nfrom socket import (AF_INET,\n    SOCK_DGRAM)\nfrom errno import *\n\
               s = socket.socket(AF_INET, SOCK_DGRAM)\nprint(f\"{st.calcsize('!I')} {EAGAIN}\", socket.timeout)\ns.close()\n\n\n";
    let program = py(src);
    let Some(files) = extracted(&program, "unchanged") else {
        assert!(!program.contains("Added by socklab"), "{program}");
        return;
    };
    assert_eq!(files, [("1-main.py".to_string(), src.trim_end().to_string() + "\n")]);
}

#[test]
fn python_export_makes_a_module_callable_when_the_lane_uses_both() {
    let src = "import time\ns = socket(AF_INET, SOCK_STREAM)\nprint(socket.SOCK_STREAM == s.type, time() > 0, select([], [], [], 0))\ns.close()\n";
    let program = py(src);
    assert!(program.contains("import socket\nimport time\nfrom select import select\nfrom socket import AF_INET, SOCK_STREAM\n"), "{program}");
    assert!(program.contains("socket.__class__ = _Callable_socket"), "{program}");
    assert!(program.contains("time.__class__ = _Callable_time"), "{program}");
    let Some(out) = python3(&["-c", &program], None) else { return };
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[main] True True ([], [], [])\n", "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn python_export_defines_the_lab_helpers_a_lane_calls() {
    let src = "# lane: ping\nreq = icmp_echo_request(7, 1, b\"x\")\nprint(checksum(req), icmp_parse(req), icmp_parse(req).id)\n\
               try:\n    icmp_parse(b\"ab\")\nexcept ValueError:\n    print(\"short\")\n\
               # lane: peer\nc = socket(AF_INET, SOCK_STREAM)\nc.connect(lab_peer(\"echo\"))\nc.sendall(b\"yo\")\nprint(c.recv(10), lab_peer(\"echo\") == lab_peer(\"echo\"))\n\
               # lane: none\nprint(\"no helpers here\")\n";
    let program = py(src);
    assert_eq!(program.matches("def lab_peer(").count(), 1, "{program}");
    assert_eq!(program.matches("def checksum(").count(), 1, "{program}");
    let Some(out) = python3(&["-c", &program], None) else { return };
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "[ping] 0 ICMP(type=8, code=0, ident=7, seq=1, ttl=None, payload=b'x') 7\n[ping] short\n[peer] b'yo' True\n[none] no helpers here\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn python_launcher_reports_failed_lanes_and_forwards_stderr() {
    let program = py("# lane: a\nprint(1)\nraise SystemExit(3)\n# lane: b\nimport sys\nsys.stderr.write(\"oops\")\n");
    let Some(out) = python3(&["-c", &program], None) else { return };
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[a] 1\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("[b] oops\n") && stderr.contains("socklab export: lane a exited with status 3\n"), "{stderr}");
}

#[test]
fn python_programs_with_any_text_survive_the_launcher() {
    // Quotes, backslashes, carriage returns and a header inside a string.
    for src in [
        "x = '''a\"\"\"b'''\nprint(x, \"\\\\\")\n",
        "print(r'''a\\b''', '''it's''')\n",
        "print('\"\"\"', \"'''\")\r\nprint(1)\r\n",
        "s = '''\n# lane: not-a-lane\n'''\nprint(s)\n",
    ] {
        let program = py(src);
        let Some(files) = extracted(&program, "text") else { return };
        assert_eq!(files, [("1-main.py".to_string(), src.to_string())], "{src:?}\n{program}");
    }
}

#[test]
fn lanes_are_cut_at_their_headers() {
    let src = "# intro comment\n\n# lane: a\nx = 1\n\n\n#lane:b-2\n# only a comment\n# lane: c\ny = 2";
    let tokens = socklab_lang::lexer::lex(src).tokens;
    let cut: Vec<(String, u32, u32, String)> = python::segments_for_test(src, &tokens);
    assert_eq!(
        cut,
        [
            ("main".to_string(), 1, 1, "# intro comment\n".to_string()),
            ("a".to_string(), 4, 4, "x = 1\n".to_string()),
            ("b-2".to_string(), 8, 8, "# only a comment\n".to_string()),
            ("c".to_string(), 10, 10, "y = 2\n".to_string()),
        ]
    );
}

#[test]
fn socket_module_functions_are_refused_by_c() {
    let e = c(&script("a, b = socketpair()\n")).unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.to_string().contains("socketpair()"), "{e}");
}

#[test]
fn nonblocking_sockets_do_not_count_as_waiting() {
    let lane = &script("s = socket()\ns.setblocking(False)\ntry:\n    s.accept()\nexcept OSError:\n    pass\nselect([s], [], [], 1)\n").lanes[0];
    assert_eq!(walk::first_waiting(lane), Some(3));
}

#[test]
fn a_lane_waits_where_it_calls_a_function_that_waits() {
    let lane = &script("s = socket()\ndef serve(x):\n    return x.accept()\ndef main():\n    s.listen()\n    serve(s)\nprint(1)\nmain()\n").lanes[0];
    assert_eq!(walk::first_waiting(lane), Some(4));
}

#[test]
fn literals_read_back_in_python() {
    assert_eq!(python::py_bytes(b"\0\r\n\"\\\xff a"), r#"b"\x00\r\n\"\\\xff a""#);
    assert_eq!(python::py_str("\0é\""), r#""\x00é\"""#);
    assert_eq!(python::py_float(5.0), "5.0");
    assert_eq!(python::py_float(0.3), "0.3");
}

#[test]
fn exports_never_panic_on_odd_scripts() {
    for src in ["", "\n\n", "# lane: a\n", "# lane: a\n# lane: b\nprint(1)", "print('\\0')\n", "x = 1 # lane: x\n"] {
        let parsed = socklab_lang::parse(src);
        let _ = python(src, &parsed.script);
        let _ = c(&parsed.script);
    }
}
#[test]
fn classes_are_refused_by_c_naming_the_line_and_the_construct() {
    let src = "x = 1\nclass Handler:\n    pass\n";
    let e = c(&script(src)).unwrap_err();
    assert_eq!(e.line, 2);
    assert_eq!(e.to_string(), "line 2: class Handler: the C export does not translate classes");
}


/// Compiles a C export with gcc as the lesson tests do (no warnings allowed)
/// and runs it; None where there is no gcc.
fn run_c(program: &str, name: &str) -> Option<std::process::Output> {
    let dir = scratch(name);
    let source = dir.join("prog.c");
    std::fs::write(&source, program).unwrap();
    let binary = dir.join("prog");
    let gcc = std::process::Command::new("gcc")
        .args(["-Wall", "-Wextra", "-Werror", "-O2", "-pthread", "-o"])
        .arg(&binary)
        .arg(&source)
        .output()
        .ok()?;
    assert!(gcc.status.success(), "{}\n{program}", String::from_utf8_lossy(&gcc.stderr));
    let out = std::process::Command::new(&binary).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    Some(out)
}

#[test]
fn functions_export_to_c_functions() {
    let src = "# lane: server\ncount = 0\n\
               def bump(by=1):\n    global count\n    count = count + by\n    return count\n\
               def fact(n):\n    if n <= 1:\n        return 1\n    return n * fact(n - 1)\n\
               def safe_div(a, b):\n    try:\n        return a // b\n    except ZeroDivisionError:\n        return None\n\
               def serve(srv):\n    conn, addr = srv.accept()\n    data = conn.recv(100)\n    conn.send(data.upper())\n    conn.close()\n\
               def unused():\n    pass\n\
               srv = socket(AF_INET, SOCK_STREAM)\nsrv.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)\nsrv.bind(('127.0.0.1', 5823))\nsrv.listen(1)\n\
               serve(srv)\nbump()\nbump(by=5)\nprint(count, fact(10), safe_div(7, 2), safe_div(1, 0))\nsrv.close()\n\
               # lane: client\ndef serve(x):\n    return x + 1\n\
               c = socket(AF_INET, SOCK_STREAM)\nc.connect(('127.0.0.1', 5823))\nc.send(b'abc')\nprint(c.recv(100), serve(1))\nc.close()\n";
    let program = c(&script(src)).unwrap();
    for text in ["static V server_bump(V volatile by)", "static V server_fact(V volatile n)", "static V client_serve(V volatile x)", "static V volatile server_count = SL_NONE;"] {
        assert!(program.contains(text), "{text}\n{program}");
    }
    let Some(out) = run_c(&program, "functions") else { return };
    let mut lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        ["[client] b'ABC' 2", "[server] 6 3628800 3 None"],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn c_refuses_what_it_cannot_express_naming_the_line_and_the_construct() {
    for (src, expected) in [
        ("x = 1\ndef f(*args):\n    pass\n", "line 2: def f(*args): the C export does not translate *args, keyword-only and **kwargs parameters"),
        ("def f(a=[1]):\n    return a\n", "line 1: def f(a=[1]): the C export does not translate defaults that are not constants"),
        ("def f():\n    def g():\n        pass\n", "line 2: def g(): the C export does not translate functions defined inside a function or a block"),
        ("def f():\n    return 1\ng = f\n", "line 3: g = f: the C export does not translate the function f used as a value (only called)"),
        ("def f():\n    try:\n        return 1\n    finally:\n        pass\n", "line 3: return 1: the C export does not translate return inside try ... finally"),
        ("import json\nprint(1)\n", "line 1: import json: the C export does not translate the json module (it has socket, select, time and errno)"),
        ("def f(a):\n    return a\nf(1, 2)\n", "line 3: f(1, 2): the C export does not translate f() with 2 arguments (it takes 1)"),
        ("x = [1]\nprint(\n  x[::2])\n", "line 3: print( x[::2]): the C export does not translate slices with a step (x[a:b:c])"),
    ] {
        let e = c(&script(src)).unwrap_err();
        assert_eq!(e.to_string(), expected, "{src}");
    }
}

#[test]
fn scripts_with_hosts_are_refused_at_their_first_host() {
    let source = "x = 1\n# lane: client @ laptop\nprint(1)\n";
    let parsed = script(source);
    for refused in [crate::python(source, &parsed), crate::c(&parsed)] {
        let error = refused.expect_err("hosts cannot be exported");
        assert_eq!(error.line, 2);
        assert!(error.message.contains("runs on host 'laptop'"), "{}", error.message);
    }
}
