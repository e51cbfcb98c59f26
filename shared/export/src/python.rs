//! Script → Python 3: the script itself, one program per lane. A lane is
//! already Python, so its text is kept exactly as written; the export adds
//! only what running the lanes as separate processes needs:
//!
//! - a launcher (the exported file) that holds each lane's program, starts
//!   them in file order as separate `python3` processes, each once the one
//!   before it waits in the kernel or has ended (the playground's "a lane runs
//!   until it blocks"), and forwards their output prefixed with `[lane] `;
//! - above a lane's code, and only when the lane needs them, the names the
//!   playground has built in and Python has not: imports of what the lane uses
//!   without importing (`socket(AF_INET, SOCK_STREAM)`, `sleep`, `EAGAIN`)
//!   and real definitions of the lab helpers it calls (`lab_peer`,
//!   `icmp_echo_request`, `icmp_parse`, `checksum`).
//!
//! `python3 EXPORT --extract DIR` writes the lane programs out as files.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::ExportError;
use socklab_lang::lexer::lex;
use socklab_lang::literal::quoted;
#[cfg(test)]
use socklab_lang::literal::byte_units;
use socklab_lang::names::{Builtin, Global, Module, global};
use socklab_lang::token::{FTok, Token, TokenKind};
use socklab_lang::{Script, visit};
use socklab_wire::errno;

/// The Python 3 export of `script`, parsed from `source`: a launcher holding
/// one program per lane.
pub fn python(source: &str, script: &Script) -> Result<String, ExportError> {
    crate::refuse_hosts(script, "Python")?;
    let tokens = lex(source).tokens;
    let segments = segments(source, &tokens);
    let mut lanes = Vec::new();
    for (n, lane) in script.lanes.iter().enumerate() {
        let Some(segment) = segments.iter().find(|s| s.name == lane.name) else {
            return Err(ExportError {
                line: lane.line,
                target: "Python",
                message: format!("lane {}: its text was not found in the script", lane.name),
            });
        };
        let needs = needs(&tokens, segment, &visit::bound_names(&lane.body));
        let mut program = prelude(&needs);
        if !program.is_empty() {
            let _ = writeln!(
                program,
                "# ---- lane {}: lines {}-{} of the script, as written ----",
                lane.name, segment.first_line, segment.last_line
            );
        }
        program.push_str(&segment.text);
        lanes.push((lane.name.clone(), format!("{}-{}.py", n + 1, lane.name), program));
    }
    let mut out = String::from(HEADER);
    out.push_str("LANES = [\n");
    for (name, file, program) in &lanes {
        let _ = writeln!(out, "    ({}, {}, {}),", py_str(name), py_str(file), program_literal(program));
    }
    out.push_str("]\n");
    out.push_str(LAUNCHER);
    Ok(out)
}

/// One lane's text in the script.
struct Segment {
    name: String,
    /// 1-based lines of the whole file the text covers.
    first_line: u32,
    last_line: u32,
    text: String,
}

/// The script cut at its lane headers (as the lexer finds them: a header
/// inside a string is not one): text before the first header is `main`.
/// Each text loses its trailing blank lines and ends with a newline.
fn segments(source: &str, tokens: &[Token]) -> Vec<Segment> {
    let mut cuts = vec![("main".to_string(), 0usize, 1u32)];
    let mut ends = Vec::new();
    for token in tokens {
        if let TokenKind::LaneHeader(name) = &token.kind {
            let start = token.start.min(source.len());
            let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = source[start..].find('\n').map_or(source.len(), |i| start + i + 1);
            ends.push(line_start);
            cuts.push((name.clone(), line_end, token.pos.line + 1));
        }
    }
    ends.push(source.len());
    cuts.into_iter()
        .zip(ends)
        .map(|((name, start, first_line), end)| {
            let text = source.get(start..end.max(start)).unwrap_or("");
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            while lines.last().is_some_and(|l| l.trim().is_empty()) {
                lines.pop();
            }
            let mut text = lines.concat();
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            let last_line = first_line + (lines.len() as u32).saturating_sub(1);
            Segment { name, first_line, last_line, text }
        })
        .collect()
}

/// What a lane uses that Python has not got without an import or a definition.
#[derive(Default, Debug, PartialEq)]
struct Needs {
    /// `import M`.
    modules: BTreeSet<&'static str>,
    /// `from M import NAME` (NAME may be `AF_UNIX as AF_LOCAL`).
    names: BTreeMap<&'static str, BTreeSet<String>>,
    /// `socket`, `select`, `time` used both as the module and as its function.
    callable_modules: BTreeSet<&'static str>,
    /// Lab helpers, by name.
    helpers: BTreeSet<&'static str>,
}

/// The lane's names that are neither bound by the lane (`bound`, and its
/// imports) nor Python builtins, and what provides each.
fn needs(tokens: &[Token], segment: &Segment, bound: &BTreeSet<String>) -> Needs {
    let in_lane: Vec<&Token> = tokens
        .iter()
        .filter(|t| (segment.first_line..=segment.last_line).contains(&t.pos.line))
        .collect();
    let imports = imports(&in_lane);
    let mut flat = Vec::new();
    flatten(&in_lane, &mut flat);
    let (mut bare, mut dotted) = (BTreeSet::new(), BTreeSet::new());
    for (i, token) in flat.iter().enumerate() {
        let TokenKind::Name(name) = &token.kind else { continue };
        let after_dot = i > 0 && flat[i - 1].is_op(".");
        let next = flat.get(i + 1);
        let dotted_next = next.is_some_and(|t| t.is_op("."));
        // `import time` then `time()`: the playground still calls the function.
        let called_after_import = imports.modules.contains(name)
            && matches!(name.as_str(), "socket" | "select" | "time")
            && !dotted_next
            && !bound.contains(name);
        if after_dot
            || imports.lines.contains(&token.pos.line)
            || next.is_some_and(|t| t.is_op("="))
            || bound.contains(name)
            || (imports.bound.contains(name) && !called_after_import)
        {
            continue;
        }
        if dotted_next {
            dotted.insert(name.clone());
        } else {
            bare.insert(name.clone());
        }
    }
    let mut needs = Needs::default();
    for name in &dotted {
        if let Some(m) = Module::from_name(name) {
            needs.modules.insert(m.name());
        }
    }
    for name in &bare {
        let from = |module: &'static str, needs: &mut Needs| {
            if !imports.star.contains(module) {
                needs.names.entry(module).or_default().insert(name.clone());
            }
        };
        match global(name) {
            Some(Global::Builtin(b)) => match b {
                Builtin::LabPeer | Builtin::IcmpEchoRequest | Builtin::IcmpParse | Builtin::Checksum => {
                    needs.helpers.insert(b.name());
                }
                // The rest are Python's builtins, or one of a module's functions.
                _ => {
                    if let Some(module) = python_module_of(name) {
                        from(module, &mut needs);
                    }
                }
            },
            Some(Global::Module(m)) => {
                needs.modules.insert(m.name());
            }
            Some(Global::Const(_)) if name == "AF_LOCAL" => {
                if !imports.star.contains("socket") {
                    needs.names.entry("socket").or_default().insert("AF_UNIX as AF_LOCAL".into());
                }
            }
            Some(Global::Const(_)) if name == "EWOULDBLOCK" || errno::number(name).is_some() => {
                from("errno", &mut needs)
            }
            Some(Global::Const(_)) | Some(Global::LibFn(_)) => from("socket", &mut needs),
            // socket's exception aliases, which `except` takes bare in a script.
            None => {
                if let Some(module) = python_module_of(name) {
                    from(module, &mut needs);
                }
            }
        }
    }
    // `socket(...)` beside `socket.X` (or `import socket`): one Python name
    // cannot be both the module and its function, unless the module is callable.
    for module in ["socket", "select", "time"] {
        let function_too = needs.names.get(module).is_some_and(|names| names.contains(module));
        if function_too && (needs.modules.contains(module) || imports.modules.contains(module)) {
            needs.names.entry(module).or_default().remove(module);
            needs.callable_modules.insert(module);
            needs.modules.insert(module);
        }
    }
    needs.names.retain(|_, names| !names.is_empty());
    if needs.helpers.contains("icmp_echo_request") {
        needs.helpers.insert("checksum");
    }
    needs
}

/// The Python module that has a name the playground has built in, bare: the
/// socket module's functions, classes and exception aliases (which `except`
/// takes bare in a script), `select`, `sleep` and `time`.
fn python_module_of(name: &str) -> Option<&'static str> {
    match name {
        "socket" | "gethostbyname" | "socketpair" | "create_connection" | "create_server" | "has_dualstack_ipv6"
        | "getaddrinfo" | "AddressFamily" | "SocketKind" | "timeout" | "error" | "gaierror" | "herror" => {
            Some("socket")
        }
        "select" => Some("select"),
        "sleep" | "time" => Some("time"),
        _ => None,
    }
}

/// Tokens in order, with the tokens of f-string fields in place of the f-string.
fn flatten<'a>(tokens: &[&'a Token], out: &mut Vec<&'a Token>) {
    for &token in tokens {
        if let TokenKind::FString(parts) = &token.kind {
            flatten_fparts(parts, out);
        } else {
            out.push(token);
        }
    }
}

fn flatten_fparts<'a>(parts: &'a [FTok], out: &mut Vec<&'a Token>) {
    for part in parts {
        if let FTok::Field { tokens, spec, .. } = part {
            let field: Vec<&Token> = tokens.iter().filter(|t| t.kind != TokenKind::Eof).collect();
            flatten(&field, out);
            if let Some(spec) = spec {
                flatten_fparts(spec, out);
            }
        }
    }
}

/// What a lane's own import statements bind.
#[derive(Default)]
struct Imports {
    /// Names bound (`import M`, `import M as A`, `from M import N as A`).
    bound: BTreeSet<String>,
    /// Modules imported whole under their own name (`import socket`).
    modules: BTreeSet<String>,
    /// `from M import *`.
    star: BTreeSet<String>,
    /// Lines the import statements are on (their names are bindings, not uses).
    lines: BTreeSet<u32>,
}

fn imports(tokens: &[&Token]) -> Imports {
    let mut found = Imports::default();
    let mut i = 0;
    while i < tokens.len() {
        let statement_start = i == 0
            || matches!(
                tokens[i - 1].kind,
                TokenKind::Newline | TokenKind::Indent | TokenKind::Dedent | TokenKind::LaneHeader(_)
            )
            || tokens[i - 1].is_op(";")
            || tokens[i - 1].is_op(":");
        let from = tokens[i].is_name("from");
        if !statement_start || !(from || tokens[i].is_name("import")) {
            i += 1;
            continue;
        }
        let end = tokens[i..]
            .iter()
            .position(|t| matches!(t.kind, TokenKind::Newline | TokenKind::Eof) || t.is_op(";"))
            .map_or(tokens.len(), |p| i + p);
        let statement = &tokens[i..end];
        found.lines.extend(statement.iter().map(|t| t.pos.line));
        let names: Vec<&str> = statement
            .iter()
            .filter_map(|t| match &t.kind {
                TokenKind::Name(n) => Some(n.as_str()),
                TokenKind::Op("*") => Some("*"),
                TokenKind::Op(",") => Some(","),
                _ => None,
            })
            .collect();
        // `from M import a, b as c` / `import a, b as c`: groups between commas.
        let (module, list) = if from {
            let module = names.get(1).copied().unwrap_or("");
            let start = names.iter().position(|n| *n == "import").map_or(names.len(), |p| p + 1);
            (Some(module), &names[start..])
        } else {
            (None, &names[1.min(names.len())..])
        };
        for group in list.split(|n| *n == ",") {
            match (module, group) {
                (Some(m), ["*"]) => {
                    found.star.insert(m.to_string());
                }
                (_, [name, "as", alias]) => {
                    found.bound.insert(alias.to_string());
                    let _ = name;
                }
                (Some(_), [name]) => {
                    found.bound.insert(name.to_string());
                }
                (None, [name]) => {
                    found.bound.insert(name.to_string());
                    found.modules.insert(name.to_string());
                }
                _ => {}
            }
        }
        i = end;
    }
    found
}

/// The lines above a lane's code: imports, then the helpers, in a fixed order.
fn prelude(needs: &Needs) -> String {
    if *needs == Needs::default() {
        return String::new();
    }
    let mut out = String::from("# Added by socklab export: names the playground has built in and Python has not.\n");
    for module in &needs.modules {
        let _ = writeln!(out, "import {module}");
    }
    for (module, names) in &needs.names {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let _ = writeln!(out, "from {module} import {}", names.join(", "));
    }
    for module in &needs.callable_modules {
        let function = if *module == "time" { "time" } else { module };
        let _ = write!(
            out,
            "\n\n# The lane calls {module}(...) and uses {module}.X too: in the playground the name is\n\
             # both; here the module is made callable, giving {module}.{function}.\n\
             class _Callable_{module}(type({module})):\n    \
                 def __call__(self, *args, **kwargs):\n        \
                     return self.{function}(*args, **kwargs)\n\n\n\
             {module}.__class__ = _Callable_{module}\n"
        );
    }
    for helper in HELPERS {
        if needs.helpers.contains(helper.0) {
            out.push_str(helper.1);
        }
    }
    if !needs.helpers.is_empty() || !needs.callable_modules.is_empty() {
        out.push_str("\n\n");
    }
    out
}

/// A Python literal holding `program`, readable where it can be: a raw
/// triple-quoted string starting with a newline that `[1:]` drops.
fn program_literal(program: &str) -> String {
    let fits = |quote: &str| {
        let q = quote.chars().next().unwrap_or('"');
        !program.contains(quote)
            && !program.ends_with(['\\', q])
            // Python reads \r and \r\n in source as \n; NUL cannot be in source.
            && !program.contains(['\r', '\0'])
            // A backslash before the quote character would escape it.
            && !program.contains(&format!("\\{q}"))
    };
    for quote in ["\"\"\"", "'''"] {
        if fits(quote) {
            return format!("r{quote}\n{program}{quote}[1:]");
        }
    }
    py_str(program)
}

/// A Python float literal that reads back as the same value.
pub(super) fn py_float(f: f64) -> String {
    if f.is_finite() {
        let text = format!("{f:?}");
        if text.contains(['.', 'e', 'E']) {
            text
        } else {
            format!("{text}.0")
        }
    } else if f.is_nan() {
        "float('nan')".into()
    } else if f > 0.0 {
        "float('inf')".into()
    } else {
        "float('-inf')".into()
    }
}

/// A Python str literal.
pub(super) fn py_str(s: &str) -> String {
    quoted("", s.chars(), |c| {
        (c < ' ' || c == '\x7f').then(|| format!("\\x{:02x}", u32::from(c)))
    })
}

/// A Python bytes literal.
#[cfg(test)]
pub(super) fn py_bytes(b: &[u8]) -> String {
    quoted("b", byte_units(b), |c| {
        (!matches!(c, ' '..='~')).then(|| format!("\\x{:02x}", u32::from(c)))
    })
}

const HEADER: &str = r#"#!/usr/bin/env python3
"""Exported from a socklab script: each lane is its own Python 3 program.

    python3 THIS_FILE                 runs every lane, each as its own python3 process
    python3 THIS_FILE --extract DIR   writes each lane's program to DIR, to read or run by hand

The lanes' programs are in LANES below, as the script has them. Lanes start
in file order, each once the lane before it is waiting in the kernel (an
accept, a recv, a connect, a select, a sleep) or has ended, as the playground
runs them: so a server is listening before its client connects. Every line a
lane prints, to stdout or stderr, comes out prefixed with "[lane] ". The
exit status is 0 when every lane exits with 0.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

# (lane, file, program). A program is the lane's code as written; lines above
# it, when there are any, are only what the playground has built in and
# Python has not (imports of names the lane uses bare, the lab helpers).
"#;

const LAUNCHER: &str = r#"
# How long a lane must stay waiting before the next one starts, and how often to look.
SETTLED = 0.1
POLL = 0.01
# Where /proc cannot tell (not Linux): the next lane starts after this long, or when the lane ends.
NO_PROC_DELAY = 0.5
# A lane that neither waits nor ends (a loop polling a non-blocking socket) holds the next back this long at most.
MOST = 10.0

_output = threading.Lock()


def _threads(pid):
    """The /proc task directories of pid and of every process it started."""
    pids, found = [pid], []
    while pids:
        p = pids.pop()
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for tid in tasks:
            found.append("/proc/%d/task/%s" % (p, tid))
            try:
                with open("/proc/%d/task/%s/children" % (p, tid)) as f:
                    pids.extend(int(c) for c in f.read().split())
            except OSError:
                pass
    return found


def _waiting(pid):
    """True when every thread of the lane sleeps in the kernel, None when /proc cannot tell."""
    threads = _threads(pid)
    if not threads:
        return None
    for task in threads:
        try:
            with open(task + "/stat") as f:
                stat = f.read()
        except OSError:
            continue  # the thread has just ended
        state = stat[stat.rindex(")") + 2:].split()[0]
        if state not in ("S", "Z", "X"):
            return False
    return True


def wait_until_waiting(proc):
    """Returns once the lane has ended or is waiting for something another lane does.

    Why not a fixed delay: a lane may take any time to reach its accept() (a
    slow or busy machine, work done first), so a delay is either too short
    (the client connects before the server listens) or wasted. Instead, the
    lane counts as waiting once every thread of its processes has been
    asleep in the kernel (state "S" in /proc/PID/task/TID/stat: a blocking
    accept, recv, connect, select, sleep, a lock) for SETTLED seconds
    without a break, which a starting or computing program is not: that is
    the playground's "a lane runs until it blocks". Where /proc does not
    say, the next lane starts after NO_PROC_DELAY seconds.
    """
    start = time.monotonic()
    since = None
    while proc.poll() is None and time.monotonic() - start < MOST:
        waiting = _waiting(proc.pid)
        if waiting is None:
            if time.monotonic() - start >= NO_PROC_DELAY:
                return
        elif waiting:
            now = time.monotonic()
            since = since or now
            if now - since >= SETTLED:
                return
        else:
            since = None
        time.sleep(POLL)


def forward(lane, stream, out):
    """Copies a lane's output line by line, each line prefixed with "[lane] "."""
    prefix = ("[%s] " % lane).encode()
    for line in iter(stream.readline, b""):
        if not line.endswith(b"\n"):
            line += b"\n"
        with _output:
            out.write(prefix + line)
            out.flush()
    stream.close()


def write_programs(directory):
    for _, file, program in LANES:
        with open(os.path.join(directory, file), "w", encoding="utf-8") as f:
            f.write(program)


def run():
    # The lanes run in a fresh directory holding their programs: relative
    # Unix socket paths are shared by the lanes, as in the playground.
    directory = tempfile.mkdtemp(prefix="socklab-")
    write_programs(directory)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    python = sys.executable or "python3"
    started, forwarders = [], []
    try:
        for lane, file, _ in LANES:
            proc = subprocess.Popen([python, file], cwd=directory, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            started.append((lane, proc))
            for stream, out in ((proc.stdout, sys.stdout.buffer), (proc.stderr, sys.stderr.buffer)):
                forwarder = threading.Thread(target=forward, args=(lane, stream, out), daemon=True)
                forwarder.start()
                forwarders.append(forwarder)
            wait_until_waiting(proc)
        statuses = [(lane, proc.wait()) for lane, proc in started]
        for forwarder in forwarders:
            forwarder.join()
        for lane, status in statuses:
            if status:
                sys.stderr.write("socklab export: lane %s exited with status %d\n" % (lane, status))
        return 1 if any(status for _, status in statuses) else 0
    except KeyboardInterrupt:
        return 130
    finally:
        for _, proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(directory, ignore_errors=True)


def main(args):
    if len(args) == 2 and args[0] == "--extract":
        os.makedirs(args[1], exist_ok=True)
        write_programs(args[1])
        for lane, file, _ in LANES:
            print("%s: %s" % (lane, os.path.join(args[1], file)))
        print("run them in this order, each once the one before it waits: python3 FILE")
        return 0
    if args:
        sys.stderr.write("usage: python3 %s [--extract DIR]\n" % sys.argv[0])
        return 2
    return run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
"#;

/// The lab helpers, each real Python: (name, definition). Only those a lane
/// calls are added to it (`checksum` with `icmp_echo_request`, which uses it).
const HELPERS: &[(&str, &str)] = &[
    ("lab_peer", LAB_PEER),
    ("checksum", CHECKSUM),
    ("icmp_echo_request", ICMP_ECHO_REQUEST),
    ("icmp_parse", ICMP_PARSE),
];

const LAB_PEER: &str = r#"

# ---- lab_peer(kind): the playground's lab servers, as threads of this program ----
import socket as _socket
import struct as _struct
import threading as _threading
import time as _time

_LAB_HTTP_PAGE = b"<html><body><h1>Hello from socklab</h1><p>This page was sent with Content-Length.</p></body></html>\n"
_LAB_HTTP_CHUNKS = [b"<html><body>\n", b"<p>This page came in chunks,</p>\n", b"<p>each with its size in hex.</p>\n", b"</body></html>\n"]


def _peer_echo(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            break
        conn.sendall(data)
    conn.shutdown(_socket.SHUT_WR)


def _peer_discard(conn):
    while conn.recv(65536):
        pass


def _peer_slow_reader(conn):
    while True:
        _time.sleep(0.2)
        if not conn.recv(512):
            break


def _peer_reset(conn):
    # Waits for the first bytes (at most 100 ms), then closes with RST:
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    conn.settimeout(0.1)
    try:
        conn.recv(65536)
    except OSError:
        pass
    conn.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, _struct.pack("ii", 1, 0))


def _http_respond(conn, status, kind, body, close):
    head = "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: %s\r\nServer: socklab-lab-peer\r\n\r\n" % (
        status, kind, len(body), "close" if close else "keep-alive")
    conn.sendall(head.encode() + body)


def _peer_http(conn):
    pending = b""
    while True:
        while b"\r\n\r\n" not in pending:
            data = conn.recv(4096)
            if not data:
                return
            pending += data
        head, _, pending = pending.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, version = (lines[0].split(" ") + ["", "", ""])[:3]
        close = any(l.lower().replace(" ", "") == "connection:close" for l in lines[1:]) or version == "HTTP/1.0"
        if not version.startswith("HTTP/1."):
            _http_respond(conn, "400 Bad Request", "text/plain", b"expected HTTP/1.1 request line: GET /path HTTP/1.1\n", True)
            return
        if method == "GET" and path in ("/", "/index.html"):
            _http_respond(conn, "200 OK", "text/html", _LAB_HTTP_PAGE, close)
        elif method == "GET" and path == "/chunked":
            conn.sendall(("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: %s\r\n"
                          "Server: socklab-lab-peer\r\n\r\n" % ("close" if close else "keep-alive")).encode())
            for chunk in _LAB_HTTP_CHUNKS:
                conn.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            conn.sendall(b"0\r\n\r\n")
        elif method == "GET":
            _http_respond(conn, "404 Not Found", "text/plain", b"not found: try / or /chunked\n", close)
        else:
            _http_respond(conn, "405 Method Not Allowed", "text/plain", b"only GET is served here\n", close)
        if close:
            conn.shutdown(_socket.SHUT_WR)
            return


_LAB_PEERS = {"echo": _peer_echo, "discard": _peer_discard, "slow_reader": _peer_slow_reader, "slow": _peer_slow_reader,
              "reset": _peer_reset, "rst": _peer_reset, "http": _peer_http}
_lab_started = {}


def lab_peer(kind):
    """Starts a lab server on a free loopback port (once per kind), in a thread; returns its address."""
    if kind in _lab_started:
        return _lab_started[kind]
    if kind not in _LAB_PEERS:
        raise ValueError('no lab peer called "%s"; there are: echo, discard, slow_reader, reset, http' % kind)
    serve = _LAB_PEERS[kind]
    listener = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    listener.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
    if serve is _peer_slow_reader:
        listener.setsockopt(_socket.SOL_SOCKET, _socket.SO_RCVBUF, 2048)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def handle(conn):
        try:
            serve(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def accept_loop():
        while True:
            conn, _ = listener.accept()
            _threading.Thread(target=handle, args=(conn,), daemon=True).start()

    _threading.Thread(target=accept_loop, daemon=True).start()
    _lab_started[kind] = listener.getsockname()
    return _lab_started[kind]
"#;

const CHECKSUM: &str = r#"

def checksum(data):
    """The Internet checksum (RFC 1071): the complement of the one's-complement sum of 16-bit words."""
    data = bytes(data)
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
"#;

const ICMP_ECHO_REQUEST: &str = r#"

def icmp_echo_request(ident, seq, payload=b""):
    """An ICMP echo request: type 8, code 0, checksum, identifier, sequence, payload."""
    import struct as _struct
    header = _struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return _struct.pack("!BBHHH", 8, 0, checksum(header + payload), ident, seq) + payload
"#;

const ICMP_PARSE: &str = r#"

class ICMP:
    """What icmp_parse() returns."""

    def __init__(self, type, code, checksum, ident, seq, payload, ttl, src, dst):
        self.type, self.code, self.checksum, self.ident, self.seq = type, code, checksum, ident, seq
        self.id = ident
        self.payload, self.ttl, self.src, self.dst = payload, ttl, src, dst

    def __repr__(self):
        return "ICMP(type=%d, code=%d, ident=%d, seq=%d, ttl=%s, payload=%r)" % (
            self.type, self.code, self.ident, self.seq, self.ttl, self.payload)


def icmp_parse(data):
    """Parses a raw IPv4 packet (as a raw socket returns it) or a bare ICMP message."""
    import socket as _socket
    import struct as _struct
    ttl = src = dst = None
    if data and data[0] >> 4 == 4:
        if len(data) < 20:
            raise ValueError("IPv4 header too short: %d bytes" % len(data))
        ihl = (data[0] & 0x0F) * 4
        ttl = data[8]
        src, dst = _socket.inet_ntoa(data[12:16]), _socket.inet_ntoa(data[16:20])
        data = data[ihl:]
    if len(data) < 8:
        raise ValueError("ICMP message too short: %d bytes" % len(data))
    type, code, csum, ident, seq = _struct.unpack("!BBHHH", data[:8])
    return ICMP(type, code, csum, ident, seq, data[8:], ttl, src, dst)
"#;

#[cfg(test)]
pub(super) fn segments_for_test(source: &str, tokens: &[Token]) -> Vec<(String, u32, u32, String)> {
    segments(source, tokens).into_iter().map(|s| (s.name, s.first_line, s.last_line, s.text)).collect()
}
