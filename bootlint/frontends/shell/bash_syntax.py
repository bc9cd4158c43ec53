"""Asking bash itself whether a file parses (``bash -n``), when tree-sitter-bash says it does not.

tree-sitter-bash misreads some valid bash (``${1:$i:1}``, ``${v%]*}``, a ternary in a substring
offset). When the tree has errors and ``bash`` is on PATH, bash's own parser decides: ``-n`` reads
the text and executes nothing. The text goes in on standard input (read as ``/dev/stdin`` so that
bash's messages carry line numbers), with a clean environment (no ``BASH_ENV``, no start-up files)
and a time limit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from bootlint.util.lazyre import lazy
from bootlint.util.records import dataclass

TIMEOUT = 2.0
# extglob changes what parses (`@(a|b)`); a script that turns it on at run time must not be
# rejected, so bash parses with it on.
ARGS = ("--norc", "--noprofile", "-O", "extglob", "-n", "/dev/stdin")
_LINE_RE = lazy(r"^/dev/stdin: line (\d+): (.*)$")


@dataclass(frozen=True)
class Verdict:
    """What ``bash -n`` said: accepted, or the first error's line (1-based) and message."""

    accepted: bool
    line: int = 0
    message: str = ""
    opener: int | None = None   # byte offset of the `(` an "unexpected EOF" never saw closed


def bash_path() -> str | None:
    """The bash that ``bash -n`` runs, looked up on PATH at each call (tests change PATH)."""
    return shutil.which("bash")


def check(text: bytes) -> Verdict | None:
    """``bash -n`` on ``text``; None when bash is absent, too slow or cannot be started."""
    bash = bash_path()
    if bash is None:
        return None
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"}
    try:
        proc = subprocess.run([bash, *ARGS], input=text, capture_output=True, timeout=TIMEOUT,
                              env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode == 0:
        return Verdict(True)
    verdict = _first_error(proc.stderr.decode("utf-8", "replace"), text.count(b"\n") + 1)
    if verdict is not None and "looking for matching `)'" in verdict.message:
        # bash points past the end of the file; the place to fix is the `$(` left open.
        from bootlint.frontends.shell.gaps import unclosed_paren

        at = unclosed_paren(text)
        if at is not None:
            verdict = Verdict(False, text.count(b"\n", 0, at) + 1, verdict.message, at)
    return verdict


def _first_error(stderr: str, last_line: int) -> Verdict | None:
    """The first ``/dev/stdin: line N: message`` of bash's output (the second line it prints,
    the offending text, is left out)."""
    for raw in stderr.splitlines():
        match = _LINE_RE.match(raw.strip())
        if match and not match.group(2).startswith("`"):
            # "unexpected end of file" is reported one line past the last one.
            return Verdict(False, min(int(match.group(1)), last_line), match.group(2).strip())
    return None
