"""Where a Python bootstrap stops parsing, and why."""

from __future__ import annotations

import sys

from bootlint.model import Span
from bootlint.source import SourceFile

GRAMMAR = f"Python {sys.version_info.major}.{sys.version_info.minor} grammar"


def compile_error(src: SourceFile) -> tuple[Span, str] | None:
    """The interpreter's own verdict (compiling runs nothing), asked before libcst: its positions
    are right where libcst's can be a line off, and it refuses safely what would overflow
    libcst's native parser (thousands of nested calls)."""
    try:
        compile(src.text.replace("\0", ""), src.path, "exec", dont_inherit=True)
    except SyntaxError as err:
        line = err.lineno or 1
        column = err.offset or 1
        return Span(line, column, line, column), f"syntax error ({GRAMMAR}): {err.msg}"
    except RecursionError:
        return Span(1, 1, 1, 1), f"syntax error ({GRAMMAR}): nested too deeply to compile"
    except (ValueError, MemoryError) as err:
        return Span(1, 1, 1, 1), f"syntax error ({GRAMMAR}): {type(err).__name__}: {err}"
    return None


def libcst_error(exc: BaseException) -> tuple[Span, str]:
    """A failure of libcst alone (a construct it does not support yet)."""
    line = getattr(exc, "raw_line", 1) or 1
    column = (getattr(exc, "raw_column", 0) or 0) + 1
    message = getattr(exc, "message", str(exc)).split("\n", 1)[0]
    return Span(line, column, line, column), f"syntax error (libcst, {GRAMMAR}): {message}"
