"""Applying fixes: edits in text positions turned into byte offsets, rounds of non-overlapping
fixes with a fresh lint between them, a unified diff of the result, and atomic writes.

A :class:`~bootlint.model.Span` counts lines and characters in the text the front ends parse
(the byte-order mark dropped, CR LF folded to LF). The file on disk still has both, so every
edit is mapped back to offsets in the bytes as read before it is applied: the BOM shifts line
1, a CR before each LF is not part of any text column, and a non-ASCII character is several
bytes. A file that is not valid UTF-8 gets no text edits (its columns cannot be mapped back
exactly); its byte fixes (BOM, CR LF, mode) still apply.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Callable

from bootlint.diagnostics import Applicability, Finding, Fix, Span
from bootlint.files.source import BOM, SourceFile, line_starts

MAX_ROUNDS = 10


class FixError(Exception):
    """A fix could not be applied or written; the message says why (shown to the user)."""


# --- positions ----------------------------------------------------------------------------------

class ByteMap:
    """Maps 1-based (line, character column) positions of a file's text to offsets in its raw
    bytes."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.base = len(BOM) if raw.startswith(BOM) else 0
        self.starts = line_starts(raw, self.base)
        try:
            raw[self.base:].decode("utf-8")
            self.valid = True
        except UnicodeDecodeError:
            self.valid = False
        crlf = raw.count(b"\r\n")
        # Newlines written into a CR LF file are written the way its other lines end.
        self.newline = "\r\n" if crlf and crlf * 2 > raw.count(b"\n") else "\n"

    def _line(self, line: int) -> bytes:
        """The bytes of a 1-based line as the text sees it: without its LF, nor the CR before it."""
        start = self.starts[line - 1]
        end = self.starts[line] - 1 if line < len(self.starts) else len(self.raw)
        data = self.raw[start:end]
        if line < len(self.starts) and data.endswith(b"\r"):
            data = data[:-1]
        return data

    def offset(self, line: int, column: int) -> int:
        """The byte offset of a text position (a column past the line's end is its end)."""
        if line < 1:
            return self.base
        if line > len(self.starts):
            return len(self.raw)
        data = self._line(line)
        if data.isascii():
            return self.starts[line - 1] + min(max(column - 1, 0), len(data))
        text = data.decode("utf-8", "replace")
        prefix = text[:max(column - 1, 0)]
        return self.starts[line - 1] + len(prefix.encode("utf-8"))

    def span(self, span: Span) -> tuple[int, int]:
        return self.offset(span.line, span.column), self.offset(span.end_line, span.end_column)


# --- applying ---------------------------------------------------------------------------------

Change = tuple[int, int, bytes]   # (start, end, replacement) in raw byte offsets


def changes_of(fix: Fix, bytemap: ByteMap) -> list[Change] | None:
    """The fix's edits as byte changes, sorted; None when they cannot be applied (a text edit on
    a file that is not UTF-8, or edits of one fix that overlap: a bug in the rule)."""
    out: list[Change] = []
    if fix.edits and not bytemap.valid:
        return None
    for edit in fix.edits:
        start, end = bytemap.span(edit.span)
        if end < start:
            return None
        text = edit.text.replace("\n", bytemap.newline) if bytemap.newline != "\n" else edit.text
        out.append((start, end, text.encode("utf-8")))
    for edit in fix.byte_edits:
        out.append((edit.start, edit.end, edit.data))
    out.sort(key=lambda c: (c[0], c[1]))
    for a, b in zip(out, out[1:]):
        if _overlap(a, b):
            return None
    return out


def _overlap(a: Change, b: Change) -> bool:
    """Two changes touch the same bytes, or insert at the same place (their order would be a
    guess)."""
    if a[0] < b[1] and b[0] < a[1]:
        return True
    return a[0] == b[0] and (a[0] == a[1] or b[0] == b[1])


def apply_changes(raw: bytes, changes: list[Change]) -> bytes:
    """Apply sorted, non-overlapping changes."""
    parts, pos = [], 0
    for start, end, data in changes:
        parts.append(raw[pos:start])
        parts.append(data)
        pos = end
    parts.append(raw[pos:])
    return b"".join(parts)


def wanted(finding: Finding, unsafe: bool, codes: frozenset[str] | None = None) -> bool:
    """Does this run apply the finding's fix (``codes``: only these rules' fixes)?"""
    fix = finding.fix
    return fix is not None and (fix.applicability is Applicability.SAFE or unsafe) and (
        codes is None or finding.code in codes)


def apply_round(raw: bytes, findings: list[Finding], unsafe: bool,
                codes: frozenset[str] | None = None) -> tuple[bytes, int | None, int]:
    """One round: every wanted fix that does not overlap one taken before it (in file order).
    Returns the new bytes, the mode a fix asks for (or None) and how many fixes were applied."""
    bytemap = ByteMap(raw)
    taken: list[Change] = []
    mode = None
    applied = 0
    done: list[list[Change]] = []
    for f in findings:
        if not wanted(f, unsafe, codes):
            continue
        fix = f.fix
        changes = changes_of(fix, bytemap)
        if changes is None:
            continue
        if changes and changes in done:
            applied += 1   # two findings, one fix (BL101 and BL102 both guard the handler)
            continue
        if any(_overlap(c, t) for c in changes for t in taken):
            continue  # the next round, after a fresh lint
        done.append(changes)
        if not changes and fix.mode is None:
            continue
        taken.extend(changes)
        if fix.mode is not None:
            mode = fix.mode
        applied += 1
    taken.sort(key=lambda c: (c[0], c[1]))
    return apply_changes(raw, taken), mode, applied


@dataclass
class Fixed:
    """What fixing one file came to."""

    raw: bytes                     # the fixed bytes (the original when nothing applied)
    mode: int | None               # the mode to give the file, when a fix changes it
    fixed: int                     # fixes applied, over every round
    findings: list[Finding] = field(default_factory=list)   # what the final text still gets
    rounds: int = 0
    internal_error: bool = False

    def changed(self, original: bytes, original_mode: int | None) -> bool:
        return self.raw != original or (self.mode is not None and self.mode != original_mode)


def rebuild(src: SourceFile, raw: bytes, mode: int | None) -> SourceFile:
    """The same file with new bytes (and maybe a new mode), as the linter would read it."""
    new = SourceFile.from_bytes(src.path, raw, mode=mode if mode is not None else src.mode)
    new.executable, new.mode_origin, new.mode_note = src.executable, src.mode_origin, src.mode_note
    if mode is not None and src.mode_origin == "disk":
        new.executable = bool(mode & 0o111)
    return new


def fix_source(src: SourceFile, lint: Callable[[SourceFile], object], unsafe: bool,
               first=None, codes: frozenset[str] | None = None) -> Fixed:
    """Apply fixes in rounds until nothing changes (at most :data:`MAX_ROUNDS`), linting again
    between rounds: fixes that overlapped one already taken get their turn then, with positions
    of the new text. ``lint`` returns a FileResult; ``first`` is the result for ``src`` if known."""
    result = first if first is not None else lint(src)
    raw, mode, fixed, rounds = src.raw, None, 0, 0
    current = src
    seen = {raw}
    while rounds < MAX_ROUNDS and not result.internal_error:
        new_raw, new_mode, applied = apply_round(raw, result.findings, unsafe, codes)
        if not applied or (new_raw == raw and (new_mode is None or new_mode == mode)):
            break
        rounds += 1
        fixed += applied
        if new_mode is not None:
            mode = new_mode
        raw = new_raw
        current = rebuild(src, raw, mode)
        result = lint(current)
        if raw in seen and new_mode is None:
            break  # fixes that undo one another: stop rather than go round
        seen.add(raw)
    return Fixed(raw, mode, fixed, list(result.findings), rounds, result.internal_error)


# --- showing and writing ------------------------------------------------------------------------

def unified_diff(path: str, before: bytes, after: bytes, old_mode: int | None = None,
                 new_mode: int | None = None) -> str:
    """A unified diff of two versions of a file (``git apply`` reads it; a mode change is shown
    the way git shows it)."""
    import difflib

    old_name, new_name = (path, path) if path.startswith("/") else (f"a/{path}", f"b/{path}")
    head = ""
    if new_mode is not None and old_mode is not None and new_mode != old_mode:
        head = f"old mode {0o100000 | (old_mode & 0o7777):o}\nnew mode {0o100000 | (new_mode & 0o7777):o}\n"
    if before == after:
        return f"diff --git {old_name} {new_name}\n{head}" if head else ""

    def lines(data: bytes) -> list[str]:
        return data.decode("utf-8", "surrogateescape").splitlines(keepends=True)

    out = []
    for line in difflib.unified_diff(lines(before), lines(after), old_name, new_name):
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    text = "".join(out).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return (f"diff --git {old_name} {new_name}\n{head}" if head else "") + text


def executable_mode(mode: int) -> int:
    """`chmod +x` the way a script needs it: an execute bit wherever there is a read bit (the
    owner's at least); nothing else changes."""
    perms = mode & 0o7777
    added = (perms & 0o444) >> 2 or 0o100
    return (mode & ~0o7777) | perms | added


def write_atomic(path: str, original: bytes, data: bytes, mode: int | None = None) -> None:
    """Replace a file's bytes through a temporary file in the same folder and a rename, keeping
    its mode (or setting ``mode``); refuse when the file changed since it was read."""
    real = os.path.realpath(path)   # a link stays a link; its target gets the new bytes
    try:
        st = os.stat(real)
        with open(real, "rb") as handle:
            current = handle.read(len(original) + 1)
    except OSError as exc:
        raise FixError(f"cannot read it again before writing: {exc.strerror or exc}") from None
    if current != original:
        raise FixError("the file changed since bootlint read it: not fixed (run again)")
    folder = os.path.dirname(real) or "."
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(real)}.", suffix=".bootlint")
    except OSError as exc:
        raise FixError(f"cannot write in {folder}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), stat.S_IMODE(mode if mode is not None else st.st_mode))
            os.fsync(handle.fileno())
        with open(real, "rb") as handle:   # the last moment to notice an editor's save
            if handle.read(len(original) + 1) != original:
                raise FixError("the file changed since bootlint read it: not fixed (run again)")
        os.replace(tmp, real)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise FixError(f"cannot write it: {exc.strerror or exc}") from None
        raise


# --- one file, for the command line ------------------------------------------------------------

@dataclass(frozen=True)
class FixRequest:
    """What the command line asked for: write the fixes (``--fix``) or show them (``--diff``),
    and whether unsafe fixes are included (``--unsafe-fixes``)."""

    write: bool = True
    unsafe: bool = False
    stdin: bool = False     # the fixed text goes to standard output, not to a file


def fix_file(src: SourceFile, path: str, selection, request: FixRequest):
    """Lint, fix in rounds, then write (atomically), keep the fixed bytes (standard input) or
    make the diff. Returns the FileResult to report: what is left after writing, or, for a diff
    or a failed write, what the file as it stands gets."""
    from bootlint.engine import lint_source

    def lint(source: SourceFile):
        return lint_source(source, selection)

    first = lint(src)
    outcome = fix_source(src, lint, request.unsafe, first)
    if not outcome.changed(src.raw, src.mode):
        if request.stdin:
            first.fixed_raw = src.raw
        return first
    if request.stdin:
        if request.write:
            result = type(first)(src.path, outcome.findings, outcome.internal_error)
            result.fixed, result.fixed_raw = outcome.fixed, outcome.raw
            return result
        first.fixed, first.diff = outcome.fixed, unified_diff(src.path, src.raw, outcome.raw)
        return first
    if not request.write:
        first.fixed = outcome.fixed
        first.diff = unified_diff(src.path, src.raw, outcome.raw, src.mode, outcome.mode)
        return first
    try:
        write_atomic(path, src.raw, outcome.raw, outcome.mode)
    except FixError as exc:
        first.fix_problem = str(exc)
        return first
    result = type(first)(src.path, outcome.findings, outcome.internal_error)
    result.fixed = outcome.fixed
    return result
