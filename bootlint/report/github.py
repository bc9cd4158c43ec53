"""GitHub Actions workflow commands: annotations on the pull request's diff."""

from __future__ import annotations

from bootlint.report.common import Run, printable

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    # Newlines have their own escape in workflow commands; other control characters (ESC in
    # the log) and undecodable bytes are shown escaped.
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(run: Run) -> str:
    out = []
    for f in run.findings:
        props = ",".join([
            f"file={escape_property(f.path)}", f"line={f.span.line}", f"col={f.span.column}",
            f"endLine={f.span.end_line}", f"endColumn={f.span.end_column}",
            f"title={escape_property(f'bootlint ({f.code})')}"])
        out.append(f"::{LEVELS[f.severity.value]} {props}::{escape_data(f'{f.message} [{f.name}]')}\n")
    return "".join(out)
