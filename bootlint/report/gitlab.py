"""GitLab Code Quality report (a JSON array), for merge-request widgets."""

from __future__ import annotations

from bootlint.report.common import Run, fingerprints, json_text

SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}


def render(run: Run) -> str:
    issues = [{
        "description": f"{f.code} {f.name}: {f.message}",
        "check_name": f.code,
        "fingerprint": fp,
        "severity": SEVERITIES[f.severity.value],
        "location": {"path": f.path, "lines": {"begin": f.span.line, "end": f.span.end_line}},
    } for f, fp in zip(run.findings, fingerprints(run.findings))]
    return json_text(issues, indent=2) + "\n"
