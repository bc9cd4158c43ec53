"""What the front ends' fix builders share: the file's indentation style, and the error report
a fix posts."""

from __future__ import annotations

from collections import Counter
from math import gcd
from bootlint.util.records import dataclass

ERROR_MESSAGE = "the handler failed"
ERROR_TYPE = "Runtime.HandlerError"


def post_error_body() -> str:
    """The documented error JSON, fixed text (nothing to escape)."""
    return f'{{"errorMessage":"{ERROR_MESSAGE}","errorType":"{ERROR_TYPE}","stackTrace":[]}}'


@dataclass(frozen=True)
class Indent:
    """One level of the file's indentation: a tab, or some number of spaces."""

    unit: str

    @classmethod
    def of(cls, text: str, default: str) -> "Indent":
        """Tabs if most indented lines start with one; else the common step of the space
        indentation (2 or 4 in practice); ``default`` when nothing is indented."""
        tabs, widths = 0, Counter()
        for line in text.split("\n"):
            stripped = line.lstrip(" \t")
            if not stripped or stripped == line:
                continue
            lead = line[:len(line) - len(stripped)]
            if lead.startswith("\t"):
                tabs += 1
            elif lead.strip(" ") == "":
                widths[len(lead)] += 1
        spaced = sum(widths.values())
        if tabs and tabs >= spaced:
            return cls("\t")
        if not spaced:
            return cls(default)
        step = 0
        for width, n in widths.items():
            if n * 10 >= spaced or len(widths) < 4:   # ignore rare odd alignments
                step = gcd(step, width)
        return cls(" " * max(1, min(step or 2, 8)))

    def more(self, lines: list[str], skip: set[int] = frozenset()) -> list[str]:
        """Lines one level deeper (empty lines stay empty; ``skip`` holds indexes of lines whose
        leading space is content, such as the body of a here-document)."""
        return [line if (i in skip or not line.strip()) else self.unit + line for i, line in enumerate(lines)]


def trace_id_from_any(builders, request):
    """ExportTraceId, for a front end whose builders have ``export_trace_id(name, near)``: the
    first of the request-id variables whose reading can be followed (None when none can)."""
    return next(filter(None, (builders.export_trace_id(name, request.near) for name in request.request_ids)), None)
