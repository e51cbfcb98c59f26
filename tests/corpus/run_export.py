#!/usr/bin/env python3
"""Run a corpus program's Python export as run_cpython.py runs the program.

Usage: python3 tests/corpus/run_export.py FILE EXPORTED [--timeout SECONDS]

EXPORTED is what `socklab export --lang python FILE` printed: a launcher that
starts FILE's lanes in file order as separate python3 processes and prefixes
their output with `[lane] `. It runs here as run_cpython.py runs lanes: in a
private network namespace with loopback up and a private /tmp, when the
machine allows it.

Output is run_cpython.py's: `LANE| line` for each line the lane printed,
then `LANE: exit N` (the launcher names each lane that did not exit 0 on
stderr). Exit status 0 when the launcher exited 0.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_cpython  # noqa: E402

INSIDE = "--inside-namespace"
LINE = re.compile(r"^\[([^\]]+)\] (.*)$")
STATUS = re.compile(r"^socklab export: lane (\S+) exited with status (-?\d+)$")


def _inside(program, exported, timeout):
    with open(program) as f:
        names = [name for name, _ in run_cpython.split_lanes(f.read())]
    # Read before a private /tmp hides it (the caller's copy may be in /tmp).
    with open(exported, "rb") as f:
        launcher_text = f.read()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=False)
    subprocess.run(["mount", "-t", "tmpfs", "corpus", "/tmp"], check=False)
    exported = os.path.join(tempfile.mkdtemp(prefix="export-"), "export.py")
    with open(exported, "wb") as f:
        f.write(launcher_text)
    launcher = subprocess.Popen(
        [sys.executable, exported],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = launcher.communicate(timeout=timeout)
        status = launcher.returncode
    except subprocess.TimeoutExpired:
        # The lanes are in the launcher's process group: end them all.
        os.killpg(launcher.pid, signal.SIGKILL)
        stdout, stderr = launcher.communicate()
        status = "timeout (killed after %g s)" % timeout
    outputs = {name: "" for name in names}
    statuses = {name: status if not isinstance(status, int) else 0 for name in names}
    for line in stdout.decode(errors="replace").splitlines():
        m = LINE.match(line)
        if m:
            outputs[m.group(1)] = outputs.get(m.group(1), "") + m.group(2) + "\n"
        else:
            sys.stderr.write("a line without a lane: %r\n" % line)
    for line in stderr.decode(errors="replace").splitlines():
        m = STATUS.match(line)
        if m:
            statuses[m.group(1)] = int(m.group(2))
        else:
            sys.stderr.write(line + "\n")
    sys.stdout.write(run_cpython.format_output(names, outputs, statuses))
    return 0 if status == 0 else 1


def run_file(program, exported, timeout=run_cpython.DEFAULT_TIMEOUT):
    """Runs an export in a private namespace. Returns (exit status, output text, stderr text)."""
    here = os.path.abspath(__file__)
    inner = [sys.executable, here, INSIDE, os.path.abspath(program), os.path.abspath(exported), "--timeout", str(timeout)]
    return run_cpython.run_in_namespace(inner, timeout, "run_export")


def main(argv):
    args = list(argv[1:])
    timeout = run_cpython.DEFAULT_TIMEOUT
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i : i + 2]
    if args and args[0] == INSIDE and len(args) == 3:
        return _inside(args[1], args[2], timeout)
    if len(args) != 2:
        sys.stderr.write("usage: run_export.py FILE EXPORTED [--timeout SECONDS]\n")
        return 2
    status, out, err = run_file(args[0], args[1], timeout)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
