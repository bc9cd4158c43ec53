"""Benchmark `bootlint server`'s start-up: from spawning the process to the `initialize` answer
(issue 24: under 0.5 s), beside the bare interpreter's start-up (`python -c pass`, spawn to exit)
and the full server's (pygls and lsprotocol imported before anything is answered, as before the
early answer).

Usage: python bench/server_startup.py [--repeat 5]
Prints the median and the range of each, in milliseconds, and the load average (on 2 cores the
machine's load decides these times: run it on a quiet machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ENV  # noqa: E402

INITIALIZE = json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                         "params": {"processId": None, "rootUri": None, "capabilities": {}}}).encode()


def until_initialized(argv: list[str]) -> float:
    """Seconds from spawn to the end of the `initialize` answer's header."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(INITIALIZE) + INITIALIZE)
    proc.stdin.flush()
    while proc.stdout.readline() not in (b"\r\n", b""):
        pass
    took = time.perf_counter() - start
    proc.kill()
    proc.wait()
    return took


def until_exit(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=ENV, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = [
        ("bare interpreter (python -c pass, spawn to exit)", lambda: until_exit([sys.executable, "-c", "pass"])),
        ("bootlint server: spawn to the initialize answer",
         lambda: until_initialized([sys.executable, "-m", "bootlint", "server"])),
        ("full server first (pygls imported before answering)", lambda: until_initialized(
            [sys.executable, "-c", "import sys, bootlint.lsp.server as s; sys.exit(s.main())"])),
    ]
    print(f"load average: {os.getloadavg()[0]:.2f}; {args.repeat} spawns each")
    for name, measure in rows:
        times = [measure() * 1000 for _ in range(args.repeat)]
        print(f"{name:55} median {statistics.median(times):6.0f} ms  "
              f"(min {min(times):.0f}, max {max(times):.0f})")


if __name__ == "__main__":
    main()
