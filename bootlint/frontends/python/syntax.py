"""Parsing a Python bootstrap: where it stops parsing, and why; what is too large or too deep for
the Python front end to analyse within its time and memory bounds; where each libcst node is."""

from __future__ import annotations

import ast
import re
import sys
import threading
import warnings
from typing import Mapping

from bootlint.diagnostics import Span
from bootlint.files.source import SourceFile
from bootlint.util.records import dataclass

GRAMMAR = f"Python {sys.version_info.major}.{sys.version_info.minor} grammar"
# libcst and its position metadata cost about 4 KB and 40 µs per token on a quiet hour of the
# project machine, 90 µs on its slowest (a helper called from 8,000 lines, 56,000 tokens: 2.3 s
# and 5.2 s): this many tokens stay within 4 s and 512 MB at the slowest. A real bootstrap has a
# few thousand (`bench/pathological.py`).
MAX_TOKENS = 40_000
# Deeper syntax trees than this (a chain of thousands of `and`, `+`, ...) reach the Python
# recursion limit in the passes over libcst's tree; they are reported, with their position.
MAX_DEPTH = 200
# A cheap over-estimate of the number of tokens: a comment or a word counts once, any other
# visible character once.
_TOKEN = re.compile(rb"#[^\n]*|\w+|\S")
# CPython before 3.11.8/3.12.1 keeps the AST constructor's recursion depth in one per-interpreter
# slot (gh-106905): two threads building ASTs at once (verify's runs, the server, the parse
# thread) can corrupt it and get "SystemError: AST constructor recursion depth mismatch".
_AST_LOCK = threading.Lock()


def python_ast(source: str | bytes, path: str = "<bootstrap>") -> ast.Module:
    """``source`` compiled to an AST (nothing runs), one thread at a time; a spurious
    SystemError from the interpreter bug above is retried once."""
    with _AST_LOCK:
        try:
            return compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        except SystemError:
            return compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)


def compile_error(src: SourceFile) -> tuple[Span, str] | None:
    """The interpreter's own verdict on the file's bytes (compiling runs nothing), asked before
    libcst: its positions are right where libcst's can be a line off, it honours a PEP 263
    coding cookie, refuses invalid UTF-8 and NUL bytes as `python3` does, and it refuses safely
    what would overflow libcst's native parser. Also the front end's own bounds (BL900 with
    the limit named)."""
    too_large = _over_token_limit(src.raw)
    if too_large:
        return Span(1, 1, 1, 1), too_large
    try:
        with warnings.catch_warnings():
            # SyntaxWarnings (`"\d"`, `is` with a literal) are the interpreter's business: not
            # printed, and not errors under PYTHONWARNINGS=error either.
            warnings.simplefilter("ignore")
            tree = python_ast(src.raw, src.path)
            deep = _too_deep(tree)
            if deep:
                return deep
            with _AST_LOCK:
                compile(tree, src.path, "exec", dont_inherit=True)
    except SyntaxError as err:
        if "null bytes" in str(err.msg):
            return _null_bytes(src.raw, err.msg)
        line = max(err.lineno or 1, 1)
        column = max(err.offset or 1, 1)
        return Span(line, column, line, column), f"syntax error ({GRAMMAR}): {err.msg}"
    except RecursionError:
        return Span(1, 1, 1, 1), f"syntax error ({GRAMMAR}): nested too deeply to compile"
    except ValueError as err:
        if "null bytes" in str(err):
            return _null_bytes(src.raw, str(err))
        return Span(1, 1, 1, 1), f"syntax error ({GRAMMAR}): {type(err).__name__}: {err}"
    except MemoryError as err:
        return Span(1, 1, 1, 1), f"syntax error ({GRAMMAR}): {type(err).__name__}: {err}"
    return None


def _null_bytes(raw: bytes, message: str) -> tuple[Span, str]:
    at = raw.find(b"\0")
    line = raw.count(b"\n", 0, at) + 1
    column = at - (raw.rfind(b"\n", 0, at) + 1) + 1
    return Span(line, column, line, column), f"syntax error ({GRAMMAR}): {message}: python3 refuses to run it"


def declared_encoding(raw: bytes) -> str | None:
    """The encoding a PEP 263 coding cookie declares, when it is not UTF-8 (the bytes have
    compiled, so the cookie is one Python knows)."""
    import io
    import tokenize

    # Python's tokenizer ends a line at CR too: a cookie on line 2 of a CR-only file counts
    # (BytesIO.readline would hand the whole file over as line 1).
    try:
        lines = io.BytesIO(raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        encoding, _ = tokenize.detect_encoding(lines.readline)
    except SyntaxError:
        return None
    return None if encoding in ("utf-8", "utf-8-sig") else encoding


def _over_token_limit(raw: bytes) -> str | None:
    count = 0
    lines = raw.count(b"\n") + 1
    for count, _ in enumerate(_TOKEN.finditer(raw), 1):
        if count > MAX_TOKENS:
            return (f"the file is too large for bootlint's Python analysis (over {MAX_TOKENS:,} tokens, "
                    f"{lines:,} lines): it is not analysed")
    return None


def _too_deep(tree: ast.AST) -> tuple[Span, str] | None:
    """The first node nested deeper than :data:`MAX_DEPTH` (an iterative walk: no recursion)."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        depth += len(node.values) if isinstance(node, ast.BoolOp) else 1
        if depth > MAX_DEPTH:
            line, column = getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1
            return (Span(line, column, line, column),
                    f"an expression or statement nested more than {MAX_DEPTH} levels deep (a long "
                    f"chain of `and`/`or` or operators counts one level per operand): deeper than "
                    f"bootlint analyses; the file is not analysed")
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))
    return None


def libcst_error(exc: BaseException) -> tuple[Span, str]:
    """A failure of libcst alone (a construct it does not support yet)."""
    line = getattr(exc, "raw_line", 1) or 1
    column = (getattr(exc, "raw_column", 0) or 0) + 1
    message = getattr(exc, "message", str(exc)).split("\n", 1)[0]
    return Span(line, column, line, column), f"syntax error (libcst, {GRAMMAR}): {message}"


# ``MetadataWrapper.resolve(PositionProvider)`` computes the positions (one code-generation pass)
# and then visits the whole module once more for the "batchable" providers asked for with it, even
# when there are none: on a large file that empty visit was a fifth of the lint. The provider is
# run here on its own, as libcst's resolver runs it; should a libcst version change that
# internal step, the resolver is used instead.
@dataclass(frozen=True)
class PythonParse:
    """What the lowering parsed (``RuntimeModel.parsed``), for the fix builders
    (bootlint.frontends.python.fixes): the libcst module and its positions."""

    module: object
    positions: Mapping


def positions_of(module) -> Mapping:
    """The code range of every node of a libcst ``module`` (the module is not copied; libcst is
    imported here, not with the module: the verify probe reads this module's AST helpers)."""
    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    try:
        return PositionProvider()._gen(wrapper)
    except (AttributeError, TypeError):   # an internal step of another libcst version
        return wrapper.resolve(PositionProvider)
