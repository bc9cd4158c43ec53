"""Benchmark bootlint against ShellCheck (and ruff for Python bootstraps), side by side.

Usage: python bench/run.py [--files 1000] [--repeat 5]
Needs the dev extra (`pip install -e '.[dev]'`) for shellcheck and ruff; prints a table of
timings and the ratios that the project's bars are stated in.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "examples" / "tutorial" / "bootstrap"
BOOTLINT = [sys.executable, "-m", "bootlint", "check", "--quiet", "--no-cache"]


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


def timed(cmd: list[str], repeat: int, cwd: Path | None = None) -> float:
    """Median wall time of a whole process, in seconds (after one warm-up run)."""
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mb(cmd: list[str], cwd: Path | None = None) -> float | None:
    time_bin = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    if time_bin is None:
        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return max(before, after) / 1024
    proc = subprocess.run([time_bin, "-f", "%M", *cmd], cwd=cwd, capture_output=True, text=True, env=ENV)
    return int(proc.stderr.strip().splitlines()[-1]) / 1024


def row(name: str, ours: float, theirs: float | None, other: str) -> str:
    if theirs is None:
        return f"{name:<44} bootlint {ours*1000:8.1f} ms   {other} (not installed)"
    return (f"{name:<44} bootlint {ours*1000:8.1f} ms   {other} {theirs*1000:8.1f} ms   "
            f"ratio bootlint/{other} {ours/theirs:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--python-files", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
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

        print(f"python {sys.version.split()[0]}; shellcheck {shellcheck}; ruff {ruff}")
        ours = timed([*BOOTLINT, str(single)], args.repeat)
        theirs = timed([shellcheck, "-s", "bash", str(single)], args.repeat) if shellcheck else None
        print(row("(a) tutorial bootstrap, cold process", ours, theirs, "shellcheck"))
        ours = timed([*BOOTLINT, *shell_files], max(1, args.repeat // 2))
        theirs = timed([shellcheck, "-s", "bash", *shell_files], 1) if shellcheck else None
        print(row(f"(b) {args.files} shell bootstraps, one process", ours, theirs, "shellcheck"))
        if theirs:
            print(f"    bootlint is {theirs/ours:.1f}x faster than shellcheck")
        print(f"    peak memory of bootlint on {args.files} files: "
              f"{peak_rss_mb([*BOOTLINT, *shell_files]):.0f} MB")
        one_py = py_files[0]
        ours = timed([*BOOTLINT, one_py], args.repeat)
        theirs = timed([ruff, "check", "--no-cache", "--isolated", one_py], args.repeat) if ruff else None
        print(row("(c) one Python bootstrap, cold process", ours, theirs, "ruff"))
        ours = timed([*BOOTLINT, *py_files], max(1, args.repeat // 2))
        theirs = timed([ruff, "check", "--no-cache", "--isolated", *py_files], args.repeat) if ruff else None
        print(row(f"(d) {args.python_files} Python bootstraps, one process", ours, theirs, "ruff"))
        # Growth: one generated runtime repeated 10 times against the same 100 times (10x longer).
        body = shell_bootstrap(0).split("\n", 1)[1]
        (tmpdir / "short").mkdir()
        (tmpdir / "short" / "bootstrap").write_text("#!/bin/bash\n" + body * 10)
        (tmpdir / "long").mkdir()
        (tmpdir / "long" / "bootstrap").write_text("#!/bin/bash\n" + body * 100)
        short_t = timed([*BOOTLINT, str(tmpdir / "short" / "bootstrap")], args.repeat)
        long_t = timed([*BOOTLINT, str(tmpdir / "long" / "bootstrap")], args.repeat)
        print(f"(e) growth: a 10x longer bootstrap takes {long_t/short_t:.2f}x as long "
              f"({short_t*1000:.0f} ms -> {long_t*1000:.0f} ms)")
        # Warm cache: the same 1,000 files, the cache filled by a first run.
        cached = [sys.executable, "-m", "bootlint", "check", "--quiet", "--cache-dir", str(tmpdir / "cache")]
        cold = timed([*BOOTLINT, *shell_files], 1)
        subprocess.run([*cached, *shell_files], stdout=subprocess.DEVNULL, env=ENV)
        warm = timed([*cached, *shell_files], args.repeat)
        print(f"(f) warm-cache rerun of {args.files} files: {warm*1000:.0f} ms against {cold*1000:.0f} ms "
              f"cold: {cold/warm:.1f}x faster")
        print(f"    peak memory of bootlint, --jobs 1, {args.files} files: "
              f"{peak_rss_mb([*BOOTLINT, '--jobs', '1', *shell_files]):.0f} MB")

if __name__ == "__main__":
    main()
