"""gcc-style lines: ``path:line:col: severity: message [CODE]`` (editors and CI matchers read it)."""

from __future__ import annotations

from bootlint.diagnostics import Finding
from bootlint.report.common import Run, printable


def format_finding(f: Finding, unsafe: bool = False) -> str:
    """One line; ` [*]` at the end when `--fix` (with the run's flags) fixes it."""
    mark = " [*]" if f.fix is not None and (f.fix.is_safe or unsafe) else ""
    return (f"{printable(f.path)}:{f.span.line}:{f.span.column}: {f.severity.value}: "
            f"{printable(f.message)} [{f.code}]{mark}")


def fixable_line(findings: list[Finding]) -> str:
    """How many findings a fix would remove, and with which flags ("" when none)."""
    safe = sum(1 for f in findings if f.fix is not None and f.fix.is_safe)
    unsafe = sum(1 for f in findings if f.fix is not None and not f.fix.is_safe)
    if not safe and not unsafe:
        return ""
    if not safe:
        return f"[*] {unsafe} fixable with `--fix --unsafe-fixes`."
    more = f", {unsafe} more with `--fix --unsafe-fixes`" if unsafe else ""
    return f"[*] {safe} fixable with `--fix`{more}."


def summary(findings: list[Finding], files: int, fixed: int = 0) -> str:
    """The closing lines: fixes applied, counts by severity (or that nothing was found), and how
    many of the findings `--fix` would fix."""
    head = f"Fixed {fixed} problem{'s' if fixed != 1 else ''}.\n" if fixed else ""
    tail = fixable_line(findings)
    return head + _counts(findings, files) + (f"\n{tail}" if tail else "")


def _counts(findings: list[Finding], files: int) -> str:
    noun = "file" if files == 1 else "files"
    if not findings:
        return f"No problems found in {files} {noun}."
    counts = {}
    for f in findings:
        counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
    parts = [f"{n} {sev}{'s' if n != 1 else ''}" for sev in ("error", "warning", "info")
             if (n := counts.get(sev))]
    total = len(findings)
    return f"Found {total} problem{'s' if total != 1 else ''} ({', '.join(parts)}) in {files} {noun}."


def render(run: Run) -> str:
    lines = [format_finding(f, run.unsafe) for f in run.findings]
    if not run.quiet:
        lines.append(summary(run.findings, len(run.files), run.fixed))
    return "\n".join(lines) + ("\n" if lines else "")
