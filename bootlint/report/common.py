"""What every reporter shares: the run it reports (:class:`Run`), escaping for terminals and
line-based formats, JSON text, a fix as JSON and stable fingerprints."""

from __future__ import annotations

import re
from dataclasses import field

from bootlint.diagnostics import Finding
from bootlint.util.lazyre import lazy
from bootlint.util.records import dataclass


@dataclass
class Run:
    """What every reporter may need besides the findings."""

    findings: list[Finding]
    files: list[str]          # every file linted, in order (JUnit lists clean ones too)
    quiet: bool = False
    color: bool = False
    rules: list = field(default_factory=list)   # the rules that ran (SARIF describes them)
    fixed: int = 0              # fixes --fix applied in this run
    unsafe: bool = False        # --unsafe-fixes: unsafe fixes count as applicable
    fix_applied: bool = False   # this run was --fix (the findings are what is left)
    docs_url: str | None = None  # where the rule pages are published (settings' docs-url): links


def applicable(f: Finding, unsafe: bool) -> bool:
    """Would `--fix` (with ``--unsafe-fixes`` when ``unsafe``) fix this finding?"""
    return f.fix is not None and (f.fix.is_safe or unsafe)


# What a path, a message or a source line must not carry into a report as it is: control
# characters (a newline forges a finding line, ESC drives the terminal), bytes that are not UTF-8
# (carried as lone surrogates from the file system), and bidirectional overrides.
_UNSAFE = lazy("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = lazy("[\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:        # an undecodable byte of a file name (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters, undecodable bytes and bidirectional overrides shown
    escaped (``\\n``, ``\\x1b``, ``\\xff``): safe on a terminal, in a line-based format, in XML."""
    if text.isprintable():   # no control, separator or format character at all (most texts)
        return text
    return _UNSAFE.sub(_escape, text)


def json_text(data, indent: int | None = None) -> str:
    """JSON of ``data`` in UTF-8 text; an undecodable byte of a file name anywhere in it (a path,
    a message, a fix) shown as ``\\xff`` rather than breaking the output."""
    import json

    return _SURROGATE.sub(lambda m: "\\" + _escape(m), json.dumps(data, indent=indent, ensure_ascii=False))


def fingerprints(findings: list[Finding]) -> list[str]:
    """A stable identity per finding: its code, path and the text of its line (not the line
    number, so unrelated edits above it do not change it), numbered among equal ones."""
    import hashlib

    seen: dict[tuple[str, str, str], int] = {}
    out = []
    for f in findings:
        key = (f.code, f.path, f.source_line.strip())
        seen[key] = seen.get(key, 0) + 1
        digest = hashlib.sha256("\0".join([*key, str(seen[key])]).encode("utf-8", "surrogateescape"))
        out.append(digest.hexdigest()[:32])
    return out
