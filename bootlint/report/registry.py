"""The output formats: each is a module of :mod:`bootlint.report` with one function,
``render(run: Run) -> str``, loaded only when its format is asked for. A new format is its module
and one line in :data:`REPORTERS` (the command line's ``--format`` choices come from here)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bootlint.report.common import Run

# format name -> the module that renders it
REPORTERS = {
    "concise": "bootlint.report.concise",
    "full": "bootlint.report.full",
    "json": "bootlint.report.json_format",
    "json-lines": "bootlint.report.json_lines",
    "sarif": "bootlint.report.sarif",
    "github": "bootlint.report.github",
    "gitlab": "bootlint.report.gitlab",
    "junit": "bootlint.report.junit",
}
FORMATS = tuple(REPORTERS)
# The format a file's suffix implies, for --output-file without a FORMAT: prefix.
SUFFIX_FORMATS = {".sarif": "sarif", ".json": "json", ".jsonl": "json-lines", ".xml": "junit",
                  ".txt": "concise"}


def render(fmt: str, run: "Run") -> str:
    """The text of one format (its module is imported on first use)."""
    return import_module(REPORTERS[fmt]).render(run)
