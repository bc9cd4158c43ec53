"""Machine-readable findings: a JSON array, or one JSON object per line."""

from __future__ import annotations


from bootlint.diagnostics import Finding
from bootlint.report import fix_dict, json_text


def as_dict(f: Finding) -> dict:
    return {
        "code": f.code, "name": f.name, "severity": f.severity.value, "message": f.message,
        "path": f.path, "line": f.span.line, "column": f.span.column,
        "end_line": f.span.end_line, "end_column": f.span.end_column,
        "fix": fix_dict(f.fix),
    }


def render(findings: list[Finding]) -> str:
    return json_text([as_dict(f) for f in findings], indent=2) + "\n"


def render_lines(findings: list[Finding]) -> str:
    return "".join(json_text(as_dict(f)) + "\n" for f in findings)
