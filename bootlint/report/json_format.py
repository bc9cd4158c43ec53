"""Machine-readable findings: a JSON array of objects (json-lines writes the same objects one
per line)."""

from __future__ import annotations

from bootlint.diagnostics import Finding, fix_to_json
from bootlint.report.common import Run, json_text


def as_dict(f: Finding) -> dict:
    return {
        "code": f.code, "name": f.name, "severity": f.severity.value, "message": f.message,
        "path": f.path, "line": f.span.line, "column": f.span.column,
        "end_line": f.span.end_line, "end_column": f.span.end_column,
        "fix": fix_to_json(f.fix),
    }


def render(run: Run) -> str:
    return json_text([as_dict(f) for f in run.findings], indent=2) + "\n"
