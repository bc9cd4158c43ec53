"""Suppression comments, in the comment syntax of the file's language (its front end's
``Idioms.comment``; `#` below, as in shell and Python).

- `# bootlint: disable=BL101,BL301 -- reason` alone on its line: the next command (shell) or
  statement (Python), all of its lines; at the end of a line: that line.
- `# bootlint: disable-file=BL201` anywhere: the whole file.
- `# noqa: BL101` at the end of a line, in languages whose idioms say noqa (Python) (other linters' codes beside it are
  left to them; a bare `# noqa` is not bootlint's).
Some rules (BL901 unused-suppression, BL903 invalid-suppression: their definitions say
``suppressible=False``) can be silenced only by configuration.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import field
from functools import lru_cache

from bootlint.diagnostics import Finding, Span
from bootlint.util.lazyre import lazy
from bootlint.util.records import dataclass

_CODE = lazy(r"^BL\d{3}$")


@lru_cache(maxsize=8)
def grammar(comment: str) -> tuple[re.Pattern, re.Pattern]:
    """The directive and the noqa patterns for a language whose line comments start with
    ``comment`` (its front end's ``Idioms.comment``: ``#`` in shell and Python)."""
    leader = re.escape(comment)
    return (re.compile(leader + r"\s*bootlint\s*:\s*(?P<body>.*)$", re.I),
            re.compile(leader + r"\s*noqa\s*:\s*(?P<codes>[A-Za-z0-9_, ]+)", re.I))


@dataclass
class Directive:
    """One suppression comment: the codes it names and the lines it covers."""

    span: Span
    codes: tuple[str, ...]
    first_line: int          # the lines it covers (file-wide: 0 .. a large number)
    last_line: int
    used: set[str] = field(default_factory=set)


def parse(comments, statements, known: set[str], noqa: bool = False,
          config_only: frozenset[str] = frozenset(),
          comment: str = "#") -> tuple[list[Directive], list[tuple[Span, str]]]:
    """Directives in the comments, and the problems (BL903) of the malformed ones. ``noqa``:
    the language's linters use `# noqa: CODE` (the front end's idioms say so); ``config_only``:
    codes a comment may not silence; ``comment``: how the language's line comments start."""
    directives: list[Directive] = []
    problems: list[tuple[Span, str]] = []
    following = _Statements(statements)
    for line, column, text, alone in comments:
        if ":" not in text:
            continue   # both forms need `bootlint:` or `noqa:` (most comments: no pattern compiled)
        directive_re, noqa_re = grammar(comment)
        span = Span(line, column, line, column + len(text))
        match = directive_re.search(text)
        if match:
            body, _, _reason = match.group("body").partition("--")
            kind, eq, codes_text = body.partition("=")
            kind = kind.strip().lower()
            if kind not in ("disable", "disable-file") or not eq:
                problems.append((span, f"malformed suppression `{text.strip()}`: write "
                                       f"`{comment} bootlint: disable=BL101 -- reason` or `disable-file=...`"))
                continue
            # Each code once (`disable-file=BL201,BL201,...` 150,000 times was a directive per copy).
            codes = tuple(dict.fromkeys(c.strip().upper() for c in codes_text.split(",") if c.strip()))
            if not codes:
                problems.append((span, "the suppression names no rule code"))
                continue
        else:
            found = noqa_re.search(text) if noqa else None
            if not found:
                continue
            codes = tuple(dict.fromkeys(c.strip().upper() for c in found.group("codes").split(",")
                                        if c.strip().upper().startswith("BL")))
            if not codes:
                continue
            kind, alone = "disable", False
        bad = [c for c in codes if not _CODE.match(c) or c not in known]
        if bad:
            problems.append((span, f"unknown rule code{'s' if len(bad) > 1 else ''} "
                                   f"{', '.join(bad)} in the suppression (see `bootlint rule --all`)"))
            continue
        refused = [c for c in codes if c in config_only]
        if refused:
            problems.append((span, f"{', '.join(refused)} can only be ignored in the configuration, "
                                   f"not by a comment"))
            codes = tuple(c for c in codes if c not in config_only)
            if not codes:
                continue
        if kind == "disable-file":
            first, last = 0, 1 << 30
        elif alone:
            first, last = following.after(line)
        else:
            first = last = line
        directives.append(Directive(span, codes, first, last))
    return directives, problems


class _Statements:
    """Where each statement starts and the furthest line a statement starting there reaches:
    the next statement after a line is one bisection (a scan per comment made 40,000
    suppressions quadratic)."""

    def __init__(self, statements: list[tuple[int, int]]) -> None:
        ends: dict[int, int] = {}
        for start, end in statements:
            ends[start] = max(end, ends.get(start, end))
        self.starts = sorted(ends)
        self.ends = ends

    def after(self, line: int) -> tuple[int, int]:
        """The lines of the first statement after a comment line (the outermost one there)."""
        at = bisect_right(self.starts, line)
        if at == len(self.starts):
            return (-1, -1)
        start = self.starts[at]
        return start, self.ends[start]


# Directives covering at most this many lines are indexed line by line; wider ones (file-wide,
# long statements) are few and checked one by one.
_INDEXED_LINES = 256


def apply(findings: list[Finding], directives: list[Directive]) -> list[Finding]:
    """The findings no directive suppresses; directives note what they suppressed (indexed by
    code and line: 40,000 directives against as many findings is not a product). Wide directives
    (file-wide ones) are merged into disjoint ranges once per code, so that a finding is one
    bisection however many there are; which of them were used is found from the suppressed
    lines afterwards."""
    by_line: dict[tuple[str, int], list[Directive]] = {}
    wide: dict[str, list[Directive]] = {}
    for d in directives:
        for code in d.codes:
            if d.last_line - d.first_line < _INDEXED_LINES:
                for line in range(d.first_line, d.last_line + 1):
                    by_line.setdefault((code, line), []).append(d)
            else:
                wide.setdefault(code, []).append(d)
    ranges = {code: _Ranges((d.first_line, d.last_line) for d in ds) for code, ds in wide.items()}
    suppressed_wide: dict[str, list[int]] = {}
    kept = []
    for finding in findings:
        line = finding.span.line
        local = by_line.get((finding.code, line), ())
        covered = ranges.get(finding.code)
        in_wide = covered is not None and line in covered
        if local or in_wide:
            for d in local:
                d.used.add(finding.code)
            if in_wide:
                suppressed_wide.setdefault(finding.code, []).append(line)
            continue
        kept.append(finding)
    for code, lines in suppressed_wide.items():
        lines.sort()
        for d in wide[code]:
            at = bisect_left(lines, d.first_line)
            if at < len(lines) and lines[at] <= d.last_line:
                d.used.add(code)
    return kept


class _Ranges:
    """Line ranges merged into disjoint ones: is a line in any of them, by one bisection."""

    def __init__(self, ranges) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for first, last in sorted(ranges):
            if self.ends and first <= self.ends[-1] + 1:
                self.ends[-1] = max(self.ends[-1], last)
            else:
                self.starts.append(first)
                self.ends.append(last)

    def __contains__(self, line: int) -> bool:
        at = bisect_right(self.starts, line) - 1
        return at >= 0 and line <= self.ends[at]
