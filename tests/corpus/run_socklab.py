#!/usr/bin/env python3
"""Run a corpus program under socklab and print what run_cpython.py prints.

Usage: python3 tests/corpus/run_socklab.py FILE [--socklab PATH]

Runs `socklab run --json FILE` and turns its `print` events into `LANE| line`
lines and its `lane_end` events into `LANE: exit 0` (finished) or
`LANE: exit 1` (anything else, or no `lane_end` at all), lanes in file
order, ephemeral ports normalised the same way. The first error socklab
reports (a diagnostic, or a lane's error) goes to stderr as
`first error: ...`. Exit status 0 when every lane finished.

The socklab binary: --socklab PATH, else $SOCKLAB, else the workspace's
target/release/socklab.

Importable: `run_file`.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_cpython import format_output, split_lanes  # noqa: E402

TIMEOUT = 30.0


def default_socklab():
    if os.environ.get("SOCKLAB"):
        return os.environ["SOCKLAB"]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(root, "target", "release", "socklab")


def run_file(path, socklab=None, timeout=TIMEOUT):
    """Returns (exit status, output text, first error or None)."""
    socklab = socklab or default_socklab()
    if not os.access(socklab, os.X_OK):
        raise FileNotFoundError("no socklab binary at %s (give --socklab PATH or set SOCKLAB)" % socklab)
    with open(path) as f:
        names = [name for name, _ in split_lanes(f.read())]
    try:
        done = subprocess.run(
            [socklab, "run", "--json", path],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        stdout, stderr = done.stdout, done.stderr
    except subprocess.TimeoutExpired as e:
        stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        stderr = "socklab did not finish within %g s" % timeout
    outputs, statuses = {}, {}
    first_error = None
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        kind = event.get("kind")
        lane = event.get("lane")
        # A thread or forked child (`server/thread-1`) prints to its program's output.
        program = lane.split("/")[0] if isinstance(lane, str) else lane
        if kind == "print":
            outputs[program] = outputs.get(program, "") + event.get("text", "") + "\n"
        if lane is not None and lane not in names:
            if lane != program:
                continue
            names.append(lane)
        if kind == "lane_end":
            finished = event.get("status") == "finished"
            statuses[lane] = 0 if finished else 1
            if not finished and first_error is None:
                first_error = "%s: %s" % (lane, event.get("message") or event.get("status"))
    if first_error is None and stderr.strip():
        first_error = stderr.strip().splitlines()[0]
    for name in names:
        statuses.setdefault(name, 1)
    status = 0 if all(s == 0 for s in statuses.values()) else 1
    return status, format_output(names, outputs, statuses), first_error


def main(argv):
    args = list(argv[1:])
    socklab = None
    if "--socklab" in args:
        i = args.index("--socklab")
        socklab = args[i + 1]
        del args[i : i + 2]
    if len(args) != 1:
        sys.stderr.write("usage: run_socklab.py FILE [--socklab PATH]\n")
        return 2
    try:
        status, out, first_error = run_file(args[0], socklab)
    except FileNotFoundError as e:
        sys.stderr.write("run_socklab: %s\n" % e)
        return 2
    sys.stdout.write(out)
    if first_error:
        sys.stderr.write("first error: %s\n" % first_error)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
