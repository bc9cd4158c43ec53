"""Where a Python bootstrap stops parsing, and why."""

from __future__ import annotations

import sys

from bootlint.model import Span
from bootlint.source import SourceFile

GRAMMAR = f"Python {sys.version_info.major}.{sys.version_info.minor} grammar"


def syntax_error(src: SourceFile, exc: BaseException) -> tuple[Span, str]:
    """Position and message of a parse failure.

    libcst's positions can be off (a missing colon on line 1 is reported at 2:1), so the
    interpreter's own compiler is asked too (compiling runs nothing) and its position wins when
    it also fails; when only libcst fails, libcst's position and message are used.
    """
    try:
        compile(src.text, src.path, "exec", dont_inherit=True)
    except SyntaxError as err:
        line = err.lineno or 1
        column = err.offset or 1
        return Span(line, column, line, column), f"syntax error ({GRAMMAR}): {err.msg}"
    except (ValueError, RecursionError, MemoryError) as err:
        return Span(1, 1, 1, 1), f"syntax error ({GRAMMAR}): {err}"
    line = getattr(exc, "raw_line", 1) or 1
    column = (getattr(exc, "raw_column", 0) or 0) + 1
    message = getattr(exc, "message", str(exc)).split("\n", 1)[0]
    return Span(line, column, line, column), f"syntax error (libcst, {GRAMMAR}): {message}"
