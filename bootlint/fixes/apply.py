"""Applying fixes: edits in text positions turned into byte offsets, rounds of non-overlapping
fixes with a fresh lint between them, a unified diff of the result, and atomic writes.

A :class:`~bootlint.diagnostics.Span` counts lines and characters in the text the front ends
parse (the byte-order mark dropped, CR LF folded to LF, a CR-only file's CRs read as line
breaks). The file on disk still has them, so every edit is mapped back to offsets in the bytes
as read before it is applied (:class:`bootlint.fixes.textmap.RawMap`, which splits lines by the
same rule): the BOM shifts line 1, a CR before each LF is not part of any text column, and a
non-ASCII character is several bytes. A file that is not valid in its encoding (UTF-8, or the
one a Python coding cookie names) gets no text edits (its columns cannot be mapped back
exactly); its byte fixes (BOM, CR LF, mode) still apply. New lines are written the way the
file's lines end.
"""

from __future__ import annotations

import os
import stat
from dataclasses import field
from typing import Callable

from bootlint.diagnostics import Applicability, Finding, Fix
from bootlint.files.source import SourceFile
from bootlint.fixes.textmap import RawMap
from bootlint.util.records import dataclass

MAX_ROUNDS = 10


class FixError(Exception):
    """A fix could not be applied or written; the message says why (shown to the user)."""


# --- applying ---------------------------------------------------------------------------------

Change = tuple[int, int, bytes]   # (start, end, replacement) in raw byte offsets


def changes_of(fix: Fix, bytemap: RawMap) -> list[Change] | None:
    """The fix's edits as byte changes, sorted; None when they cannot be applied (a text edit on
    a file whose bytes do not map to its text exactly, or edits of one fix that overlap: a bug in
    the rule)."""
    out: list[Change] = []
    if fix.edits and not bytemap.valid:
        return None
    for edit in fix.edits:
        start, end = bytemap.span(edit.span)
        if end < start:
            return None
        data = bytemap.encode(edit.text)
        if data is None:
            return None
        out.append((start, end, data))
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


@dataclass
class Round:
    """What one round of fixes made: the new bytes, the mode a fix asks for (or None), the
    findings whose fixes were applied, and, for each of them (same order), the byte ranges of the
    new text where it would still be if its fix had not removed it: its own start, mapped through
    the round's changes, and the text its fix wrote."""

    raw: bytes
    mode: int | None
    applied: list[Finding]
    sites: list[list[tuple[int, int]]] = field(default_factory=list)


def map_offset(offset: int, changes: list[Change]) -> int:
    """Where the byte at ``offset`` of the old text is in the new one, after sorted,
    non-overlapping ``changes`` (a byte that a change replaced maps to where that change's text
    starts; an insertion at ``offset`` comes before it)."""
    delta = 0
    for start, end, data in changes:
        if start > offset or (start == offset and end > start):
            if start == offset:
                return offset + delta   # replaced from here: the change's text starts here
            break
        if end > offset:
            return start + delta        # inside a replaced range
        delta += len(data) - (end - start)
    return offset + delta


def fix_round(raw: bytes, findings: list[Finding], unsafe: bool, codes: frozenset[str] | None = None,
              encoding: str = "utf-8") -> Round:
    """One round: every wanted fix that does not overlap one taken before it (in file order)."""
    bytemap = RawMap(raw, encoding)
    taken: list[Change] = []
    mode = None
    applied: list[tuple[Finding, list[Change]]] = []
    done: list[list[Change]] = []
    for f in findings:
        if not wanted(f, unsafe, codes):
            continue
        fix = f.fix
        changes = changes_of(fix, bytemap)
        if changes is None:
            continue
        if changes and changes in done:
            applied.append((f, changes))   # two findings, one fix (BL101 and BL102 both guard the handler)
            continue
        if any(_overlap(c, t) for c in changes for t in taken):
            continue  # the next round, after a fresh lint
        done.append(changes)
        if not changes and fix.mode is None:
            continue
        taken.extend(changes)
        if fix.mode is not None:
            mode = fix.mode
        applied.append((f, changes))
    taken.sort(key=lambda c: (c[0], c[1]))
    sites = []
    for f, changes in applied:
        here = map_offset(bytemap.span(f.span)[0], taken) if bytemap.valid else -1
        own = [(map_offset(start, taken), map_offset(start, taken) + len(data)) for start, _, data in changes]
        sites.append([(here, here), *own])
    return Round(apply_changes(raw, taken), mode, [f for f, _ in applied], sites)


def apply_round(raw: bytes, findings: list[Finding], unsafe: bool,
                codes: frozenset[str] | None = None, encoding: str = "utf-8") -> tuple[bytes, int | None, int]:
    """:func:`fix_round` as (new bytes, mode or None, how many findings it fixed)."""
    step = fix_round(raw, findings, unsafe, codes, encoding)
    return step.raw, step.mode, len(step.applied)


def not_removed(step: Round, after: list[Finding], encoding: str = "utf-8") -> list[Finding]:
    """The applied fixes' findings that the fresh lint still reports where they were: a finding
    of the same rule at the finding's own place (mapped through the round's changes) or inside
    the text its fix wrote. A fix that leaves its finding is a bug in it: applied again it would
    only repeat the damage. Findings elsewhere are not its doing (another fix of the same round
    can open a new path with a finding of its own, fixed in the next round), and are not counted:
    counting them stopped the AWS tutorial's fixes."""
    newmap = RawMap(step.raw, encoding)
    if not newmap.valid:
        return []
    where: dict[str, list[int]] = {}
    for f in after:
        where.setdefault(f.code, []).append(newmap.span(f.span)[0])
    stuck = []
    for f, ranges in zip(step.applied, step.sites):
        offsets = where.get(f.code, ())
        if any(lo <= at <= hi for at in offsets for lo, hi in ranges if lo >= 0):
            stuck.append(f)
    return stuck


@dataclass
class Fixed:
    """What fixing one file came to."""

    raw: bytes                     # the fixed bytes (the original when nothing applied)
    mode: int | None               # the mode to give the file, when a fix changes it
    fixed: int                     # findings whose fixes were applied, over every round
    findings: list[Finding] = field(default_factory=list)   # what the final text still gets
    rounds: int = 0
    internal_error: bool = False
    # Findings whose fix did not remove them: that round was not kept, and fixing stopped.
    stuck: list[Finding] = field(default_factory=list)

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
    of the new text. A round whose fixes leave a finding they were applied for is dropped and
    ends the fixing (:attr:`Fixed.stuck`). ``lint`` returns a FileResult; ``first`` is the result
    for ``src`` if known (linting sets the encoding a Python coding cookie names)."""
    result = first if first is not None else lint(src)
    raw, mode, fixed, rounds = src.raw, None, 0, 0
    current = src
    seen = {raw}
    stuck: list[Finding] = []
    while rounds < MAX_ROUNDS and not result.internal_error:
        step = fix_round(raw, result.findings, unsafe, codes, current.encoding)
        if not step.applied or (step.raw == raw and (step.mode is None or step.mode == mode)):
            break
        new_mode = step.mode if step.mode is not None else mode
        candidate = rebuild(src, step.raw, new_mode)
        after = lint(candidate)
        if not after.internal_error:
            stuck = not_removed(step, after.findings, candidate.encoding)
            if stuck:
                break
        rounds += 1
        fixed += len(step.applied)
        raw, mode, current, result = step.raw, new_mode, candidate, after
        if raw in seen and step.mode is None:
            break  # fixes that undo one another: stop rather than go round
        seen.add(raw)
    return Fixed(raw, mode, fixed, list(result.findings), rounds, result.internal_error, stuck)


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
        # Lines as patch and git apply read them: ended by LF only (a CR-only file is one line;
        # str.splitlines would also split at CR, form feeds and U+2028).
        parts = data.decode("utf-8", "surrogateescape").split("\n")
        return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])

    out = []
    for line in difflib.unified_diff(lines(before), lines(after), old_name, new_name):
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    text = "".join(out).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return (f"diff --git {old_name} {new_name}\n{head}" if head else "") + text


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _read_again(path: str, size: int) -> bytes:
    """The file's first ``size`` bytes, never through a link nor blocking on a FIFO."""
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        return handle.read(size)


def writable(path: str, st: os.stat_result) -> str:
    """Why bootlint must not replace this file, or "": it is rewritten only as its owner could
    rewrite it (a link, a read-only file, another user's file are left alone)."""
    if stat.S_ISLNK(st.st_mode):
        try:
            to = f" to {os.readlink(path)}"
        except OSError:
            to = ""
        return (f"it is a symbolic link{to}: not fixed (bootlint does not write through links; "
                f"fix the file it points to)")
    if not stat.S_ISREG(st.st_mode):
        return "it is not a regular file: not fixed"
    if st.st_nlink > 1:
        # A rename would leave the other names with the old text: fixed everywhere or nowhere.
        return f"it has {st.st_nlink - 1} other hard link{'s' if st.st_nlink > 2 else ''}: not fixed"
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if euid not in (None, 0) and st.st_uid != euid:
        return "it belongs to another user: not fixed"
    if not st.st_mode & stat.S_IWUSR or not os.access(path, os.W_OK, follow_symlinks=False):
        return "it is read-only: not fixed (make it writable to fix it)"
    return ""


def write_atomic(path: str, original: bytes, data: bytes, mode: int | None = None) -> None:
    """Replace a file's bytes through a temporary file in the same folder and a rename, keeping
    its mode (or setting ``mode``) without setuid/setgid, its owner and group; refuse a link, a
    file its owner made read-only or that belongs to someone else, and a file that changed since
    it was read."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise FixError(f"cannot read it again before writing: {exc.strerror or exc}") from None
    why = writable(path, st)
    if why:
        raise FixError(why)
    try:
        current = _read_again(path, len(original) + 1)
    except OSError as exc:
        raise FixError(f"cannot read it again before writing: {exc.strerror or exc}") from None
    if current != original:
        raise FixError("the file changed since bootlint read it: not fixed (run again)")
    folder = os.path.dirname(path) or "."
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".bootlint")
    except OSError as exc:
        raise FixError(f"cannot write in {folder}: {exc.strerror or exc}") from None
    # Content the user controls never gets the set-user-ID or set-group-ID bit from a fix.
    new_mode = stat.S_IMODE(mode if mode is not None else st.st_mode) & ~(stat.S_ISUID | stat.S_ISGID)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            made = os.fstat(handle.fileno())
            if (made.st_uid, made.st_gid) != (st.st_uid, st.st_gid):
                try:   # the owner and group stay (root fixing another user's file)
                    os.fchown(handle.fileno(), st.st_uid, st.st_gid)
                except PermissionError:
                    pass   # a group the user is not in: the folder's default, as any editor's save
            os.fchmod(handle.fileno(), new_mode)
            os.fsync(handle.fileno())
        again = os.lstat(path)   # the last moment to notice an editor's save, or a swap for a link
        if (again.st_ino, again.st_dev) != (st.st_ino, st.st_dev) or _read_again(path, len(original) + 1) != original:
            raise FixError("the file changed since bootlint read it: not fixed (run again)")
        os.replace(tmp, path)
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
    if outcome.stuck:
        first = _report_stuck(first, outcome)
    if not outcome.changed(src.raw, src.mode):
        if request.stdin:
            first.fixed_raw = src.raw
        return first
    if request.stdin:
        if request.write:
            result = type(first)(src.path, outcome.findings, outcome.internal_error)
            result.fixed, result.fixed_raw = outcome.fixed, outcome.raw
            return _report_stuck(result, outcome) if outcome.stuck else result
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
    return _report_stuck(result, outcome) if outcome.stuck else result


def _report_stuck(result, outcome: Fixed):
    """BL999 for each fix that left the finding it was applied for (a bug in bootlint: that
    round was not applied, and nothing after it)."""
    from bootlint.engine import START, finding
    from bootlint.rules import all_rules

    result.internal_error = True
    seen = {f.message for f in result.findings if f.code == "BL999"}
    for f in outcome.stuck:
        message = (f"internal error: the fix \"{f.fix.title}\" for {f.code} at line {f.span.line} did not "
                   f"remove the finding; it was not applied and fixing stopped; please report this")
        if message not in seen:
            seen.add(message)
            result.findings.append(finding(all_rules()["BL999"], result.path, START, message))
    return result
