"""What the front ends' fix builders share: the file's indentation style, and the error report
a fix posts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from math import gcd

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


class FixBuilders:
    """The fixes a front end can build; each returns a Fix or None. A front end overrides the
    ones that make sense for its language (None means: this finding has no fix here)."""

    def data_binary(self, span):                  # BL303
        return None

    def runtime_api_host(self, span):             # BL004
        return None

    def drop_timeout(self, span):                 # BL006
        return None

    def event_loop(self, first, last):            # BL001: spans of the first and last statement
        return None

    def guard_handler(self, handler, response):   # BL101, BL102
        return None

    def export_trace_id(self, request_id, near):  # BL201: the request-id variable, the `next`
        return None

    def remove_temp(self, span, names, text):     # BL301: where it is made, what holds it
        return None

    def remove_temp_before(self, span, names, text):   # BL301: a jump that skips the removal
        return None

    def pipe_payload(self, span):                 # BL302
        return None

    def exit_after(self, span):                   # BL104
        return None

    def keep_init_guard(self, span):              # BL103: a step whose failure guard cannot run
        return None


class Guarded:
    """A front end's builders, where a builder that fails costs its fix, never the finding (a
    bug in a fix must not turn a real finding into BL999). The test suite sets
    BOOTLINT_FIX_ERRORS=raise so that such a bug fails a test instead."""

    def __init__(self, builders: FixBuilders) -> None:
        import os

        self._builders = builders
        self._raise = os.environ.get("BOOTLINT_FIX_ERRORS") == "raise"

    def __getattr__(self, name: str):
        method = getattr(self._builders, name)

        def build(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except Exception:
                if self._raise:
                    raise
                return None

        return build
