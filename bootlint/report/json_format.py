"""Machine-readable findings: a JSON array, or one JSON object per line."""

from __future__ import annotations

import json

from bootlint.model import Finding
from bootlint.report import fix_dict, unsurrogate


def as_dict(f: Finding) -> dict:
    return {
        "code": f.code, "name": f.name, "severity": f.severity.value, "message": unsurrogate(f.message),
        "path": unsurrogate(f.path), "line": f.span.line, "column": f.span.column,
        "end_line": f.span.end_line, "end_column": f.span.end_column,
        "fix": fix_dict(f.fix),
    }


def render(findings: list[Finding]) -> str:
    return json.dumps([as_dict(f) for f in findings], indent=2, ensure_ascii=False) + "\n"


def render_lines(findings: list[Finding]) -> str:
    return "".join(json.dumps(as_dict(f), ensure_ascii=False) + "\n" for f in findings)
