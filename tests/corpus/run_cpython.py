#!/usr/bin/env python3
"""Run a corpus program under CPython the way socklab schedules its lanes.

Usage: python3 tests/corpus/run_cpython.py FILE [--timeout SECONDS]

The file is split into lanes on its `# lane: NAME` lines (text before the
first header is lane `main`). Each lane becomes a file of its own, with the
other lanes' lines blanked so line numbers in tracebacks are the file's. The
run gets a private network namespace with loopback up and a private /tmp
(`unshare --net --mount`), when the machine allows it. Lanes start in file
order; the next one starts once the previous one has blocked (every thread
of its processes asleep in something other than time.sleep for 100 ms) or
exited, as socklab's scheduler lets a lane run until it blocks.

Output, lanes in file order: `LANE| line` for each line the lane printed,
then `LANE: exit N`. Ephemeral ports are written `<port>` (see `normalise`).
Exit status 0 when every lane exited 0. A lane's stderr goes to stderr.

Importable: `split_lanes`, `normalise`, `run_file`.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HEADER = re.compile(r"^[ \t]*#[ \t]*lane:[ \t]*(.*?)\s*$")
# A port number after `:` or `, ` (as in `127.0.0.1:40000` or
# `('127.0.0.1', 40000)`), in the kernel's ephemeral range.
PORT = re.compile(r"(:|, )(\d{5})\b")

BLOCKED_FOR = 0.1
POLL_EVERY = 0.01
DEFAULT_TIMEOUT = 20.0
INSIDE = "--inside-namespace"


def split_lanes(text):
    """The lanes of a script as [(name, lines)], in file order.

    Each lane's lines cover the whole file: lines of other lanes and the
    lane headers are blank, so a line keeps its number.
    """
    lines = text.split("\n")
    owner = []
    names = ["main"]
    current = "main"
    for line in lines:
        m = HEADER.match(line)
        if m:
            current = m.group(1)
            if current not in names:
                names.append(current)
            owner.append(None)
        else:
            owner.append(current)
    # The implicit lane `main` exists only if it holds more than blank lines
    # and comments, or if there are no headers at all.
    main_code = any(
        o == "main" and line.strip() and not line.strip().startswith("#")
        for o, line in zip(owner, lines)
    )
    if not main_code and len(names) > 1:
        names.remove("main")
    lanes = []
    for name in names:
        body = [line if o == name else "" for o, line in zip(owner, lines)]
        lanes.append((name, body))
    return lanes


def normalise(line):
    """Replaces ephemeral ports (32768 and above) with `<port>`."""

    def port(m):
        if int(m.group(2)) >= 32768:
            return m.group(1) + "<port>"
        return m.group(0)

    return PORT.sub(port, line)


def format_output(lanes, outputs, statuses):
    """The comparable text: `LANE| line` lines, then `LANE: exit N`, per lane."""
    out = []
    for name in lanes:
        text = outputs.get(name, "")
        for line in text.splitlines():
            out.append("%s| %s" % (name, normalise(line)))
        out.append("%s: exit %s" % (name, statuses.get(name, 1)))
    return "\n".join(out) + "\n"


# --- scheduling --------------------------------------------------------------


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _tree(pid):
    """The pid and all its descendants."""
    found = [pid]
    i = 0
    while i < len(found):
        p = found[i]
        i += 1
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for tid in tasks:
            kids = _read("/proc/%d/task/%s/children" % (p, tid)) or ""
            found.extend(int(k) for k in kids.split())
    return found


def _asleep(pid):
    """True when every thread of pid's process tree sleeps waiting for
    something other than a timer (a socket, a pipe, a lock, a child)."""
    for p in _tree(pid):
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except OSError:
            continue
        for tid in tasks:
            stat = _read("/proc/%d/task/%s/stat" % (p, tid))
            if stat is None:
                continue
            state = stat[stat.rindex(")") + 2 :].split()[0]
            if state in ("Z", "X"):
                continue
            if state != "S":
                return False
            wchan = _read("/proc/%d/task/%s/wchan" % (p, tid)) or ""
            if "nanosleep" in wchan:
                return False
    return True


def _wait_blocked(proc, deadline):
    """Returns once proc has exited or been asleep for BLOCKED_FOR."""
    since = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return
        if _asleep(proc.pid):
            now = time.monotonic()
            if since is None:
                since = now
            elif now - since >= BLOCKED_FOR:
                return
        else:
            since = None
        time.sleep(POLL_EVERY)


def _kill_tree(proc):
    for p in reversed(_tree(proc.pid)):
        try:
            os.kill(p, 9)
        except OSError:
            pass


def run_lanes(path, timeout=DEFAULT_TIMEOUT, python=None):
    """Runs the lanes here (no new namespace). Returns (names, outputs,
    statuses, stderrs)."""
    python = python or sys.executable
    with open(path) as f:
        text = f.read()
    lanes = split_lanes(text)
    work = tempfile.mkdtemp(prefix="corpus-")
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONHASHSEED="0")
    procs = []
    deadline = time.monotonic() + timeout
    base = os.path.basename(path)
    try:
        for i, (name, body) in enumerate(lanes):
            lane_dir = os.path.join(work, "%d" % i)
            os.mkdir(lane_dir)
            script = os.path.join(lane_dir, base)
            with open(script, "w") as f:
                f.write("\n".join(body))
            out = open(os.path.join(lane_dir, "stdout"), "w")
            err = open(os.path.join(lane_dir, "stderr"), "w")
            proc = subprocess.Popen(
                [python, script],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=lane_dir,
                env=env,
            )
            out.close()
            err.close()
            procs.append((name, proc, lane_dir))
            _wait_blocked(proc, deadline)
        statuses = {}
        for name, proc, _ in procs:
            left = deadline - time.monotonic()
            try:
                statuses[name] = proc.wait(timeout=max(left, 0.01))
            except subprocess.TimeoutExpired:
                statuses[name] = "timeout"
        if any(s == "timeout" for s in statuses.values()):
            for _, proc, _ in procs:
                _kill_tree(proc)
                proc.wait()
        outputs, stderrs = {}, {}
        for name, _, lane_dir in procs:
            outputs[name] = _read(os.path.join(lane_dir, "stdout")) or ""
            stderrs[name] = _read(os.path.join(lane_dir, "stderr")) or ""
        return [n for n, _ in lanes], outputs, statuses, stderrs
    finally:
        for _, proc, _ in procs:
            if proc.poll() is None:
                _kill_tree(proc)
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def _inside(path, timeout):
    """The run inside the private namespace: loopback up, a private /tmp."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
    subprocess.run(["mount", "-t", "tmpfs", "corpus", "/tmp"], check=False)
    names, outputs, statuses, stderrs = run_lanes(path, timeout)
    for name in names:
        if statuses.get(name) != 0 and stderrs.get(name):
            for line in stderrs[name].splitlines():
                sys.stderr.write("%s stderr: %s\n" % (name, line))
    shown = {}
    for name, status in statuses.items():
        shown[name] = "timeout (killed after %g s)" % timeout if status == "timeout" else status
    sys.stdout.write(format_output(names, outputs, shown))
    return 0 if all(s == 0 for s in statuses.values()) else 1


def run_file(path, timeout=DEFAULT_TIMEOUT):
    """Runs a corpus file in a private namespace. Returns (exit status,
    output text, stderr text)."""
    here = os.path.abspath(__file__)
    path = os.path.abspath(path)
    return run_in_namespace([sys.executable, here, INSIDE, path, "--timeout", str(timeout)], timeout, "run_cpython")


def run_in_namespace(inner, timeout, who):
    """Runs the command `inner` in a private network and mount namespace
    (as root, else in a user namespace, else on the host network). Returns
    (exit status, output text, stderr text)."""
    for wrap in (["unshare", "--net", "--mount"], ["unshare", "--user", "--map-root-user", "--net", "--mount"]):
        probe = subprocess.run(wrap + ["true"], capture_output=True)
        if probe.returncode == 0:
            done = subprocess.run(wrap + inner, capture_output=True, text=True, timeout=timeout + 10)
            return done.returncode, done.stdout, done.stderr
    sys.stderr.write("%s: no private namespace here; running on the host network\n" % who)
    done = subprocess.run(inner, capture_output=True, text=True, timeout=timeout + 10)
    return done.returncode, done.stdout, done.stderr


def main(argv):
    args = list(argv[1:])
    timeout = DEFAULT_TIMEOUT
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i : i + 2]
    if args and args[0] == INSIDE:
        return _inside(args[1], timeout)
    if len(args) != 1:
        sys.stderr.write("usage: run_cpython.py FILE [--timeout SECONDS]\n")
        return 2
    status, out, err = run_file(args[0], timeout)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
