"""Benchmark what a keystroke costs `bootlint server` on a very long line (issue 19): pygls
converts an incremental change's range from the client's UTF-16 units by walking the line in
Python; bootlint's codec (bootlint.lsp.codec) does not walk an ASCII line at all and converts any
other once, in C (both rows apply the change as bootlint.lsp.codec.EditorDocument does: one
slice of the text, not pygls' rebuild line by line). The document is one 1.9 MB line in a file
the server does not lint (`notes.txt`), so that what is timed is receiving the changes, not
linting; each row sends 20 one-character insertions near the end of the line, then a hover, and
reports the server's CPU time per change (from /proc) and the wall time until the hover is
answered.

Usage: python bench/server_keystrokes.py [--changes 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ENV  # noqa: E402
from server import cpu_seconds  # noqa: E402

SERVERS = {
    "bootlint's codec": [sys.executable, "-m", "bootlint", "server"],
    "pygls' codec": [sys.executable, "-c", "import sys, bootlint.lsp.server as s; "
                     "from pygls.workspace.position_codec import PositionCodec; "
                     "s.FastCodec = PositionCodec; sys.exit(s.main())"],
}
LINES = {"ASCII": "x" * 1_900_000, "non-ASCII (日 at the start)": "日" + "x" * 1_900_000}


def send(proc, message: dict) -> None:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def until_id(proc, msg_id) -> None:
    while True:
        length = 0
        while (line := proc.stdout.readline()) != b"\r\n":
            if not line:
                raise SystemExit("the server stopped")
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if json.loads(proc.stdout.read(length)).get("id") == msg_id:
            return


def run(argv: list[str], text: str, changes: int) -> tuple[float, float]:
    proc = subprocess.Popen(argv, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    send(proc, {"id": 0, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    until_id(proc, 0)
    send(proc, {"method": "initialized", "params": {}})
    uri = "file:///tmp/bench/notes.txt"
    send(proc, {"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "text", "version": 1, "text": text}}})
    send(proc, {"id": 1, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}})
    until_id(proc, 1)
    cpu, start = cpu_seconds(proc.pid), time.perf_counter()
    units = len(text.encode("utf-16-le")) // 2
    for i in range(changes):
        at = {"line": 0, "character": units - 10}
        send(proc, {"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": i + 2},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": "y"}]}})
    send(proc, {"id": 2, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}})
    until_id(proc, 2)
    wall, used = time.perf_counter() - start, cpu_seconds(proc.pid) - cpu
    send(proc, {"id": 3, "method": "shutdown"})
    send(proc, {"method": "exit"})
    proc.wait(timeout=60)
    return used / changes, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    print(f"{args.changes} changes to one 1.9 MB line, then a hover")
    for line_name, text in LINES.items():
        for server_name, argv in SERVERS.items():
            per_change, wall = run(argv, text, args.changes)
            print(f"{line_name:<28} {server_name:<18} CPU per change {per_change * 1000:7.1f} ms; "
                  f"hover answered after {wall:6.2f} s")


if __name__ == "__main__":
    main()
