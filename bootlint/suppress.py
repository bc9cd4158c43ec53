"""Suppression comments.

- `# bootlint: disable=BL101,BL301 -- reason` alone on its line: the next command (shell) or
  statement (Python), all of its lines; at the end of a line: that line.
- `# bootlint: disable-file=BL201` anywhere: the whole file.
- `# noqa: BL101` at the end of a line, in languages whose idioms say noqa (Python) (other linters' codes beside it are
  left to them; a bare `# noqa` is not bootlint's).
BL901 (unused-suppression) and BL903 (invalid-suppression) can be silenced only by configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bootlint.model import Finding, Span

CONFIG_ONLY = {"BL901", "BL903"}
_DIRECTIVE = re.compile(r"#\s*bootlint\s*:\s*(?P<body>.*)$", re.I)
_NOQA = re.compile(r"#\s*noqa\s*:\s*(?P<codes>[A-Za-z0-9_, ]+)", re.I)
_CODE = re.compile(r"^BL\d{3}$")


@dataclass
class Directive:
    span: Span
    codes: tuple[str, ...]
    first_line: int          # the lines it covers (file-wide: 0 .. a large number)
    last_line: int
    used: set[str] = field(default_factory=set)


def parse(comments, statements, known: set[str], noqa: bool = False) -> tuple[list[Directive], list[tuple[Span, str]]]:
    """Directives in the comments, and the problems (BL903) of the malformed ones. ``noqa``:
    the language's linters use `# noqa: CODE` (the front end's idioms say so)."""
    directives: list[Directive] = []
    problems: list[tuple[Span, str]] = []
    for line, column, text, alone in comments:
        span = Span(line, column, line, column + len(text))
        match = _DIRECTIVE.search(text)
        if match:
            body, _, _reason = match.group("body").partition("--")
            kind, eq, codes_text = body.partition("=")
            kind = kind.strip().lower()
            if kind not in ("disable", "disable-file") or not eq:
                problems.append((span, f"malformed suppression `{text.strip()}`: write "
                                       f"`# bootlint: disable=BL101 -- reason` or `disable-file=...`"))
                continue
            codes = tuple(c.strip().upper() for c in codes_text.split(",") if c.strip())
            if not codes:
                problems.append((span, "the suppression names no rule code"))
                continue
        else:
            found = _NOQA.search(text) if noqa else None
            if not found:
                continue
            codes = tuple(c.strip().upper() for c in found.group("codes").split(",")
                          if c.strip().upper().startswith("BL"))
            if not codes:
                continue
            kind, alone = "disable", False
        bad = [c for c in codes if not _CODE.match(c) or c not in known]
        if bad:
            problems.append((span, f"unknown rule code{'s' if len(bad) > 1 else ''} "
                                   f"{', '.join(bad)} in the suppression (see `bootlint rule --all`)"))
            continue
        config_only = [c for c in codes if c in CONFIG_ONLY]
        if config_only:
            problems.append((span, f"{', '.join(config_only)} can only be ignored in the configuration, "
                                   f"not by a comment"))
            codes = tuple(c for c in codes if c not in CONFIG_ONLY)
            if not codes:
                continue
        if kind == "disable-file":
            first, last = 0, 1 << 30
        elif alone:
            first, last = _next_statement(line, statements)
        else:
            first = last = line
        directives.append(Directive(span, codes, first, last))
    return directives, problems


def _next_statement(line: int, statements: list[tuple[int, int]]) -> tuple[int, int]:
    """The lines of the first statement after a comment line (the outermost one there)."""
    after = [s for s in statements if s[0] > line]
    if not after:
        return (-1, -1)
    start = min(s[0] for s in after)
    return start, max(end for s, end in after if s == start)


def apply(findings: list[Finding], directives: list[Directive]) -> list[Finding]:
    """The findings no directive suppresses; directives note what they suppressed."""
    kept = []
    for finding in findings:
        covering = [d for d in directives if finding.code in d.codes
                    and d.first_line <= finding.span.line <= d.last_line]
        if covering:
            for d in covering:
                d.used.add(finding.code)
            continue
        kept.append(finding)
    return kept
