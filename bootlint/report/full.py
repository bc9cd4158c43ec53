"""For people at a terminal: each finding with its source line, a caret under the span, the
rule's name and a help line pointing at the rule's page."""

from __future__ import annotations

from bootlint.report.common import Run, printable
from bootlint.report.concise import summary

STYLES = {"error": "1;31", "warning": "1;33", "info": "1;36", "bold": "1", "dim": "2", "caret": "1;31"}


def _paint(text: str, style: str, color: bool) -> str:
    return f"\033[{STYLES[style]}m{text}\033[0m" if color and text else text


def render(run: Run) -> str:
    color = run.color
    blocks = []
    for f in run.findings:
        sev = f.severity.value
        mark = " [*]" if f.fix is not None and (f.fix.is_safe or run.unsafe) else ""
        head = (f"{_paint(f'{printable(f.path)}:{f.span.line}:{f.span.column}:', 'bold', color)} "
                f"{_paint(f'{sev}[{f.code}]', sev, color)}{mark} {printable(f.message)}")
        lines = [head]
        gutter = "  "
        if f.source_line:
            gutter = str(f.span.line)
            text = printable(f.source_line.expandtabs(1))
            start = max(f.span.column - 1, 0)
            end = f.span.end_column - 1 if f.span.end_line == f.span.line else len(text)
            width = max(1, min(end, len(text)) - start)
            lines.append(f"{' ' * len(gutter)} |")
            lines.append(f"{gutter} | {text}")
            lines.append(f"{' ' * len(gutter)} | {' ' * start}{_paint('^' * width, 'caret', color)}")
        lines.append(_paint(f"{' ' * len(gutter)} = {f.name}: see `bootlint rule {f.code}`", "dim", color))
        if f.fix is not None:
            how = "safe fix: `--fix`" if f.fix.is_safe else "unsafe fix: `--fix --unsafe-fixes`"
            lines.append(_paint(f"{' ' * len(gutter)} = fix ({how}): {f.fix.title}", "dim", color))
        blocks.append("\n".join(lines))
    text = "\n\n".join(blocks)
    if not run.quiet:
        text += ("\n\n" if blocks else "") + summary(run.findings, len(run.files), run.fixed)
    return text + "\n" if text else ""
