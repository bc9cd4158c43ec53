"""One JSON object per finding per line (the objects of the json format)."""

from __future__ import annotations

from bootlint.report.common import Run, json_text
from bootlint.report.json_format import as_dict


def render(run: Run) -> str:
    return "".join(json_text(as_dict(f)) + "\n" for f in run.findings)
