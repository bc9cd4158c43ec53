"""Reporters: each turns a run's findings into text in one format.

:mod:`bootlint.report.registry` lists the formats and renders one (``render(fmt, run)``);
:mod:`bootlint.report.common` holds what the reporters share. Both are re-exported here."""

from __future__ import annotations

from bootlint.report.common import (Run, applicable, fingerprints, json_text,  # noqa: F401
                                    printable)
from bootlint.report.registry import FORMATS, REPORTERS, SUFFIX_FORMATS, render  # noqa: F401
