"""gcc-style lines: ``path:line:col: severity: message [CODE]`` (editors and CI matchers read it)."""

from __future__ import annotations

from bootlint.model import Finding


def format_finding(f: Finding) -> str:
    return f"{f.path}:{f.span.line}:{f.span.column}: {f.severity.value}: {f.message} [{f.code}]"


def summary(findings: list[Finding], files: int) -> str:
    """One closing line: counts by severity, or that nothing was found."""
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


def render(findings: list[Finding], files: int, quiet: bool) -> str:
    lines = [format_finding(f) for f in findings]
    if not quiet:
        lines.append(summary(findings, files))
    return "\n".join(lines) + ("\n" if lines else "")
