"""Benchmark `bootlint server`: from a didChange of the tutorial's bootstrap to its
publishDiagnostics, warm (the server already started and the file linted once), beside a cold
`bootlint check` of the same file.

Usage: python bench/server.py [--changes 50] [--repeat 7]
Each change waits past the server's debounce window first (as a person typing does between
bursts), so what is timed is one change's round trip: reading it, linting the buffer,
publishing. The client is this script, over the server's standard input and output.
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
from run import BOOTLINT, ENV, TUTORIAL  # noqa: E402


def timed(cmd: list[str], repeat: int) -> float:
    """Median wall time of a whole process, in seconds (after one warm-up run): the cold check
    beside the server's warm round trip, both as a person waits for them."""
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Client:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bootlint", "server"], env=ENV,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def receive(self) -> dict:
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit("the server stopped")
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif line == b"\r\n":
                return json.loads(self.proc.stdout.read(length))

    def until(self, predicate) -> dict:
        while True:
            message = self.receive()
            if predicate(message):
                return message


def cpu_seconds(pid: int) -> float | None:
    """User and system time a process has used (Linux), whatever else the machine is doing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def published(version: int):
    return lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["version"] == version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7, help="runs of the cold `bootlint check`")
    args = parser.parse_args()
    text = TUTORIAL.read_text(encoding="utf-8")
    uri = TUTORIAL.as_uri()
    client = Client()
    client.send({"id": 0, "method": "initialize", "params": {"processId": None, "rootUri": None,
                                                              "capabilities": {}}})
    client.until(lambda m: m.get("id") == 0)
    client.send({"method": "initialized", "params": {}})
    client.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "shellscript", "version": 1, "text": text}}})
    first = client.until(published(1))
    count = len(first["params"]["diagnostics"])
    times = []
    cpu_before = cpu_seconds(client.proc.pid)
    for version in range(2, args.changes + 2):
        time.sleep(0.1)   # past the debounce window
        # Alternate the text, so that every version is a real edit of the tutorial.
        body = text + ("# edited\n" if version % 2 else "")
        start = time.perf_counter()
        client.send({"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": body}]}})
        message = client.until(published(version))
        times.append(time.perf_counter() - start)
        assert len(message["params"]["diagnostics"]) == count
    cpu = (cpu_seconds(client.proc.pid) - cpu_before) / len(times) if cpu_before is not None else None
    client.send({"id": 1, "method": "shutdown"})
    client.until(lambda m: m.get("id") == 1)
    client.send({"method": "exit"})
    client.proc.wait(timeout=10)
    cold = timed([*BOOTLINT, str(TUTORIAL)], args.repeat)
    warm = statistics.median(times)
    print(f"python {sys.version.split()[0]}")
    print(f"server: didChange -> publishDiagnostics, tutorial, median of {len(times)}: {warm * 1000:.1f} ms "
          f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}; {count} diagnostics)")
    if cpu is not None:
        print(f"server CPU time per change (user + system, all its threads): {cpu * 1000:.1f} ms")
    print(f"bootlint check, cold process, same file, median of {args.repeat}: {cold * 1000:.0f} ms "
          f"({cold / warm:.0f}x the server's time)")


if __name__ == "__main__":
    main()
