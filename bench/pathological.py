"""Pathological inputs: time and peak memory of `bootlint check` on each generator, one core.

Usage: python bench/pathological.py [--only NAME] [--timeout 60]

Each row is one `bootlint check --jobs 1` process on one generated file: wall time, CPU time
(user + system: the measure of "one core", unaffected by other work on the machine), peak
resident memory, exit code and the codes found.

Every input is at most the default size limit (2 MB). The targets (issue 10): each is linted in
at most 5 s and 512 MB, or gets a clear BL900/BL904 naming the limit it hit. The table shows the
exit code and the codes found, so a row that "passes" by crashing is visible too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = (ROOT / "examples" / "tutorial" / "bootstrap").read_bytes()
SECONDS, MEGABYTES = 5.0, 512


def _py(body: bytes) -> bytes:
    return b"#!/usr/bin/env python3\n" + body


def _chain(op: bytes, n: int) -> bytes:
    ops = [op] if op != b"mixed" else [b"and", b"or"]
    parts = [b"a"]
    for i in range(1, n):
        parts.append(b" %s a" % ops[i % len(ops)])
    return _py(b"x = " + b"".join(parts) + b"\n")


_SH = b'#!/bin/bash\nset -e\nAPI="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"\n'
_POST = b'post() { curl -sS -X POST "$API/invocation/$1/response" -d "$2"; }\n'


def _call_tree(levels: int, calls: int) -> bytes:
    """f0 calls f1 twice, ... f{levels-1} calls the request helper twice: 2^levels paths per call."""
    text = _SH + b'f%d() { curl -sS -X POST "$API/invocation/$1/response" -d "$2"; }\n' % levels
    for d in range(levels - 1, -1, -1):
        text += b'f%d() { f%d "$1" "$2"; f%d "$1/x" "$2"; }\n' % (d, d + 1, d + 1)
    return text + b"while true; do\n" + b"".join(
        b'  f0 "$ID" "$O%d"\n' % i for i in range(calls)) + b"done\n"


def _helper_calls(lines: int) -> bytes:
    """A Python runtime whose loop calls its request helper from ``lines`` lines."""
    return _py(b'import urllib.request, os\nAPI = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + '
               b'"/2018-06-01/runtime"\ndef post(i, b):\n    urllib.request.urlopen(urllib.request.Request('
               b'API + "/invocation/" + i + "/response", data=b, method="POST"))\nwhile True:\n'
               + b"".join(b"    post(rid, b%d)\n" % i for i in range(lines)))


# 12,000 BL004 findings (the Runtime API's host written out), for the suppression rows.
_HOSTS = b"while true; do\n" + b"curl http://127.0.0.1:9001/2018-06-01/runtime/invocation/next\n" * 12_000 + b"done\n"


def _many_members(n: int) -> bytes:
    """A zip of ``n`` empty members and a bootstrap (a layer of node_modules, or a bomb of names)."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for i in range(n):
            archive.writestr(f"node_modules/p{i}.js", b"")
        archive.writestr("bootstrap", b"#!/bin/sh\n")
    return buf.getvalue()


# name -> (file name, bytes); the sizes are those stated in issue 10 (or the tests' limits).
GENERATORS = {
    "python: and-chain x 8,000": lambda: ("bootstrap", _chain(b"and", 8_000)),
    "python: or-chain x 50,000": lambda: ("bootstrap", _chain(b"or", 50_000)),
    "python: mixed and/or x 50,000": lambda: ("bootstrap", _chain(b"mixed", 50_000)),
    "python: 1,000,000 lines (2 MB)": lambda: ("bootstrap", _py(b"x\n" * 1_000_000)),
    "python: 100,000 statements": lambda: ("bootstrap", _py(b"x = f(1)\n" * 100_000)),
    "python: 3,000 nested calls": lambda: ("bootstrap", _py(b"x = " + b"f(" * 3000 + b")" * 3000 + b"\n")),
    "shell: if x 2,000 nested": lambda: ("bootstrap", b"#!/bin/bash\n" + b"if true; then\n" * 2000
                                        + b"fi\n" * 2000),
    "shell: if x 2,000 nested + 3,000 statements": lambda: (
        "bootstrap", b"#!/bin/bash\n" + b"if true; then\n" * 2000 + b"echo a\n" * 3000 + b"fi\n" * 2000),
    'shell: "$a$a..." x 128k in one word': lambda: ("bootstrap", b'#!/bin/sh\nx="' + b"$a" * 131_072 + b'"\n'),
    "shell: 24,000 suppression comments (under the node limit)": lambda: (
        "bootstrap", b"#!/bin/sh\n" + b"# bootlint: disable=BL201\necho a\n" * 24_000),
    "shell: 40,000 suppression comments": lambda: (
        "bootstrap", b"#!/bin/sh\n" + b"# bootlint: disable=BL201\necho a\n" * 40_000),
    "shell: 100,000 lines": lambda: ("bootstrap", b"#!/bin/sh\n" + b"echo a\n" * 100_000),
    "shell: disable-file of BL004 x 150,000, 12,000 findings": lambda: (
        "bootstrap", b"#!/bin/sh\n# bootlint: disable-file=" + b"BL004," * 150_000 + b"BL004\n" + _HOSTS),
    "shell: 30,000 disable-file lines, 12,000 findings": lambda: (
        "bootstrap", b"#!/bin/sh\n" + _HOSTS + b"# bootlint: disable-file=BL004\n" * 30_000),
    # (30,000 comments before the code are 30,000 earlier siblings of the loop: tree-sitter's
    # parent lookup walks past them for every command that asked for its parent)
    "shell: 30,000 disable-file lines before the code, 12,000 findings": lambda: (
        "bootstrap", b"#!/bin/sh\n" + b"# bootlint: disable-file=BL004\n" * 30_000 + _HOSTS),
    "shell: 1 MB line": lambda: ("bootstrap", b"#!/bin/sh\necho " + b"a" * 1_000_000 + b"\n"),
    "shell: 10,000 functions": lambda: ("bootstrap", b"#!/bin/bash\n" + b"".join(
        b"f%d() { f%d; }\n" % (i, i + 1) for i in range(10_000)) + b"f0\n"),
    "shell: 5,000 nested $(": lambda: ("bootstrap", b"#!/bin/bash\nx=" + b"$(" * 5000 + b"echo"
                                       + b")" * 5000 + b"\n"),
    "shell: tutorial x 200 (133 KB)": lambda: ("bootstrap", TUTORIAL + TUTORIAL[10:] * 200),
    "shell: tutorial x 1,100 (730 KB, under the node limit)": lambda: (
        "bootstrap", TUTORIAL + TUTORIAL[10:] * 1100),
    "shell: tutorial x 1,600 (1 MB)": lambda: ("bootstrap", TUTORIAL + TUTORIAL[10:] * 1600),
    "shell: 2 MB of `echo a` lines": lambda: ("bootstrap", b"#!/bin/sh\n" + b"echo a\n" * 299_000),
    "shell: 50,000 commands (at the limit)": lambda: ("bootstrap", b"#!/bin/sh\n" + b":\n" * 50_000),
    # Shapes that multiply work per command: call sites bound per helper, values with many
    # alternatives, long chains of variables, many branches; each sized just under the node limit.
    "shell: a helper called from 14,000 lines": lambda: ("bootstrap", _SH + _POST + b"while true; do\n" + b"".join(
        b'  post "$ID%d" "$OUT%d"\n' % (i, i) for i in range(14_000)) + b"done\n"),
    "shell: helpers calling helpers, 2^8 paths x 2,000": lambda: ("bootstrap", _call_tree(8, 2_000)),
    "shell: a chain of 20,000 variables": lambda: ("bootstrap", _SH + b'A0="$API"\n' + b"".join(
        b'A%d="$A%d/x"\n' % (i + 1, i) for i in range(20_000)) + b'curl "$A20000/invocation/next"\n'),
    "shell: a URL variable assigned 3,500 times": lambda: ("bootstrap", _SH + b"while true; do\n" + b"".join(
        b'  U="$API/invocation/$ID%d/response"\n  B="$U$B"\n  curl -X POST "$U" -d "$B"\n' % (i % 7)
        for i in range(3_500)) + b"done\n"),
    "shell: 10,000 ERR traps and set toggles": lambda: ("bootstrap", _SH + b"".join(
        b"trap 'echo %d' ERR\nset +e\nset -e\nset -o pipefail\n" % i for i in range(10_000))),
    "shell: a case of 9,000 arms": lambda: ("bootstrap", _SH + b'while true; do\n case "$X" in\n' + b"".join(
        b'  p%d) curl -X POST "$API/invocation/$ID/response" -d "$B%d" ;;\n' % (i, i) for i in range(9_000))
        + b" esac\ndone\n"),
    "shell: 5,500 if/else in the loop": lambda: ("bootstrap", _SH + b"while true; do\n" + b"".join(
        b'  if [ "$X" = %d ]; then curl -X POST "$API/invocation/$ID/response" -d "$B" || exit 1; '
        b"else echo; fi\n" % i for i in range(5_500)) + b"done\n"),
    "shell: 10,000 traps whose action calls a function": lambda: ("bootstrap", _SH + b'f() { echo "$1" >&2; }\n'
        + b"".join(b"trap 'f %d $LINENO' ERR\nset +e\n" % i for i in range(10_000))),
    "shell: 300 nested ifs around 10,000 commands": lambda: ("bootstrap", b"#!/bin/bash\nwhile true; do\n"
        + b"if true; then\n" * 300 + b'EVENT=$(curl -sS http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/'
        b'invocation/next)\n./handler "$EVENT"\n' * 5_000 + b"fi\n" * 300 + b"done\n"),
    # Jobs and the waits that return their status (frontends/shell/jobs.py): each wait looks its
    # job up by bisection (a scan of every assignment of `pid` per wait took minutes).
    "shell: 5,000 handler jobs each waited for by its PID": lambda: ("bootstrap", _SH + b"while true; do\n"
        + b'  EVENT=$(curl -sS "$API/invocation/next")\n' + b"".join(
        b'  ./h%d "$EVENT" > /tmp/o%d &\n  pid=$!\n  wait "$pid"\n' % (i, i) for i in range(5_000))
        + b'  curl -sS --data-binary @/tmp/o1 "$API/invocation/$ID/response"\ndone\n'),
    "shell: 5,000 handler jobs each followed by wait -n": lambda: ("bootstrap", _SH + b"while true; do\n"
        + b'  EVENT=$(curl -sS "$API/invocation/next")\n' + b"".join(
        b'  ./h%d "$EVENT" > /tmp/o%d &\n  wait -n\n' % (i, i) for i in range(5_000))
        + b'  curl -sS --data-binary @/tmp/o1 "$API/invocation/$ID/response"\ndone\n'),
    # Results read back from the files they were written to: the writers of every file are filed
    # once (a walk over every command per file read was quadratic: 3,000 took minutes).
    "shell: 5,000 results read back from their files": lambda: ("bootstrap", _SH + b"while true; do\n"
        + b'  EVENT=$(curl -sS "$API/invocation/next")\n' + b"".join(
        b'  ./h%d "$EVENT" > /tmp/o%d || exit 1\n  OUT=$(cat /tmp/o%d)\n' % (i, i, i) for i in range(5_000))
        + b'  curl -sS -d "$OUT" "$API/invocation/$ID/response"\ndone\n'),
    "python: a helper called from 5,500 lines": lambda: ("bootstrap", _helper_calls(5_500)),
    "python: a helper called from 8,000 lines": lambda: ("bootstrap", _helper_calls(8_000)),
    # (the peak counts this script's 24 MB zip, held when the child was forked: alone, 19 MB)
    "zip: 200,000 members (over the member limit)": lambda: ("layer.zip", _many_members(200_000)),
    "file over the limit (10.5 MB)": lambda: ("bootstrap", b"#!/bin/sh\n" + b"echo aaaaaaaaa\n" * 700_000),
}


def measure(name: str, data: bytes, filename: str, timeout: float) -> dict:
    """Run one bootlint process over one generated file; wall time, peak RSS, exit code, codes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / filename
        path.write_bytes(data)
        path.chmod(0o755)
        cmd = [sys.executable, "-m", "bootlint", "check", "--no-cache", "--isolated", "--jobs", "1",
               "--format", "json", str(path)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out_path = Path(tmp) / "out.json"
        with open(out_path, "wb") as out:
            started = time.perf_counter()
            # Its own session, so a timeout ends it and anything it started.
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env,
                                    start_new_session=True)
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() - started > timeout:
                    os.killpg(proc.pid, signal.SIGKILL)
                    os.wait4(proc.pid, 0)
                    return {"name": name, "size": len(data), "seconds": None, "cpu": None, "mb": None,
                            "exit": "timeout", "codes": ""}
                time.sleep(0.02)
            proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        cpu = usage.ru_utime + usage.ru_stime
        code, rss_kb, stdout = proc.returncode, usage.ru_maxrss, out_path.read_text("utf-8", "replace")
    try:
        codes = sorted({f["code"] for f in json.loads(stdout)})
    except ValueError:
        codes = ["(no JSON)"]
    return {"name": name, "size": len(data), "seconds": seconds, "cpu": cpu, "mb": rss_kb / 1024, "exit": code,
            "codes": ",".join(codes[:6])}


# A fixed pure-Python workload, timed in its own process before and after the table. The
# project machine's speed varies by 2x from hour to hour (other tenants): a row is read against
# the reference of its run. On a quiet hour the reference takes about 0.75 s.
REFERENCE = "import time\nt = time.process_time()\ns = 0\nfor i in range(10**7): s += i\nprint(time.process_time() - t)"


def reference() -> float:
    """CPU seconds of :data:`REFERENCE` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", REFERENCE], capture_output=True, text=True, timeout=120)
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="run the generators whose name contains this text")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each generator this many times and keep the least CPU time")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; targets: <= {SECONDS:.0f} s and <= {MEGABYTES} MB per file")
    print(f"machine speed: reference loop {reference():.2f} s CPU before the table "
          f"(about 0.75 s on a quiet hour)")
    print(f"{'generator':<46} {'bytes':>10} {'wall':>8} {'CPU':>8} {'peak MB':>8} {'exit':>7}  codes")
    failed = 0
    for name, make in GENERATORS.items():
        if args.only and args.only not in name:
            continue
        filename, data = make()
        runs = [measure(name, data, filename, args.timeout) for _ in range(max(1, args.repeat))]
        row = min(runs, key=lambda r: float("inf") if r["cpu"] is None else r["cpu"])
        # CPU time is the measure on one core (wall time also counts waiting on a busy machine).
        ok = row["cpu"] is not None and row["cpu"] <= SECONDS and row["mb"] <= MEGABYTES \
            and row["exit"] in (0, 1)
        failed += not ok
        shown_t = "-" if row["seconds"] is None else f"{row['seconds']:.2f}s"
        shown_c = "-" if row["cpu"] is None else f"{row['cpu']:.2f}s"
        shown_m = "-" if row["mb"] is None else f"{row['mb']:.0f}"
        print(f"{name:<46} {row['size']:>10,} {shown_t:>8} {shown_c:>8} {shown_m:>8} {row['exit']!s:>7}  "
              f"{row['codes']}{'' if ok else '   <-- over target'}", flush=True)
    print(f"machine speed: reference loop {reference():.2f} s CPU after the table")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
