"""GitLab Code Quality report (a JSON array), for merge-request widgets."""

from __future__ import annotations

import json

from bootlint.report import Run, fingerprints, unsurrogate

SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}


def render(run: Run) -> str:
    issues = [{
        "description": unsurrogate(f"{f.code} {f.name}: {f.message}"),
        "check_name": f.code,
        "fingerprint": fp,
        "severity": SEVERITIES[f.severity.value],
        "location": {"path": unsurrogate(f.path), "lines": {"begin": f.span.line, "end": f.span.end_line}},
    } for f, fp in zip(run.findings, fingerprints(run.findings))]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
