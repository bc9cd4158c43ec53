"""Code actions as text changes on a buffer: a rule's fix, a suppression comment for a line or
for the file, and every safe fix at once. Offsets are into the buffer's text
(:class:`bootlint.lsp.positions.Buffer`); the server turns them into LSP edits."""

from __future__ import annotations

import re
from functools import lru_cache

from bootlint.fixes import apply as autofix
from bootlint.fixes.textmap import RawMap
from bootlint.engine import FileResult, Selection, lint_source
from bootlint.frontends.registry import by_name
from bootlint.diagnostics import Applicability, Finding, Fix
from bootlint.lsp.positions import Buffer
from bootlint.files.source import SourceFile
from bootlint.fixes import textmap
from bootlint.util.records import dataclass


@lru_cache(maxsize=16)
def _directive(prefix: str, kind: str) -> re.Pattern:
    """A `disable=` or `disable-file=` directive already written, in the language's comment
    syntax (``prefix``: its front end's ``Idioms.comment``), up to its last code."""
    return re.compile(re.escape(prefix) + rf"\s*bootlint\s*:\s*{kind}\s*=\s*[A-Za-z0-9_, ]*?[A-Za-z0-9_]"
                      r"(?=\s*(?:--|$))", re.I)

_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=]")


@dataclass(frozen=True)
class Change:
    """Replace ``text[start:end]`` of the buffer by ``new``."""

    start: int
    end: int
    new: str


def comment_prefix(language: str) -> str | None:
    """How a line comment starts in the language, from its front end's idioms (None: a language
    no front end reads, which gets no suppression comment)."""
    frontend = by_name(language)
    return frontend.idioms.comment if frontend is not None else None


def apply(text: str, changes: list[Change]) -> str:
    """The text with non-overlapping changes made."""
    for change in sorted(changes, key=lambda c: (c.start, c.end), reverse=True):
        text = text[:change.start] + change.new + text[change.end:]
    return text


def fix_changes(fix: Fix, buffer: Buffer) -> list[Change]:
    """A fix's edits on the buffer, mapped as `bootlint check --fix` maps them (none for a fix
    that only sets the file's mode, or one that cannot be applied)."""
    changes = autofix.changes_of(fix, RawMap(buffer.raw)) or []
    return [_whole_line_breaks(Change(buffer.byte_offset(start), buffer.byte_offset(end),
                                      data.decode("utf-8", "surrogatepass")), buffer.text)
            for start, end, data in changes]


def _whole_line_breaks(change: Change, text: str) -> Change:
    """The change widened so that neither end falls between the CR and the LF of a line break:
    LSP has no position there (a CR LF is one line break), and editors clamp one to the line's
    end, which would turn "delete this CR" into nothing."""
    start, end, new = change.start, change.end, change.new
    if 0 < start < len(text) and text[start - 1] == "\r" and text[start] == "\n":
        start, new = start - 1, "\r" + new
    if 0 < end < len(text) and text[end - 1] == "\r" and text[end] == "\n":
        end, new = end + 1, new + "\n"
    return Change(start, end, new)


def is_safe(fix: Fix) -> bool:
    return fix.applicability is Applicability.SAFE


def minimal_change(old: str, new: str) -> Change:
    """One change that turns ``old`` into ``new``, as small as the common ends allow (an editor
    keeps the cursor and folds outside it)."""
    return Change(*textmap.minimal_change(old, new))


def fix_all(src: SourceFile, first: FileResult, selection: Selection, unsafe: bool = False) -> str:
    """The buffer with every safe fix applied (and the unsafe ones with ``unsafe``), in rounds as
    `bootlint check --fix [--unsafe-fixes]` applies them."""
    fixed = autofix.fix_source(src, lambda s: lint_source(s, selection), unsafe=unsafe, first=first)
    return fixed.raw.decode("utf-8", errors="surrogatepass")


# --- suppression comments ------------------------------------------------------------------

def suppress_line(finding: Finding, findings: list[Finding], src: SourceFile, buffer: Buffer, model,
                  selection: Selection) -> list[Change]:
    """A `disable=` comment that silences the finding on its line: added to a directive already
    at the end of that line, else at the end of the line, else (a line inside a multi-line
    string, after a continuation) alone on the line before the statement. Each candidate is
    linted before it is offered; none that works, none offered."""
    prefix = comment_prefix(model.language) if model is not None else None
    line = finding.span.line
    if prefix is None or (line == 1 and src.shebang is not None):
        return []   # a comment on the #! line would become an argument of the interpreter
    code = finding.code
    candidates: list[list[Change]] = []
    for c_line, column, text, alone in model.comments:
        match = _directive(prefix, "disable").search(text)
        if c_line == line and not alone and match:
            at = buffer.offset(line, column + match.end())
            candidates.append([Change(at, at, f", {code}")])
    end = buffer.offset(line, 1 << 30)
    if buffer.text[max(end - 1, 0):end] == "\r":
        end -= 1
    candidates.append([Change(end, end, f"  {prefix} bootlint: disable={code}")])
    around = [(s, e) for s, e in model.statements if s <= line <= e]
    if around:
        first = max(s for s, _ in around)
        start = buffer.offset(first, 1)
        indent = re.match(r"[ \t]*", buffer.text[start:]).group(0)
        candidates.append([Change(start, start, f"{indent}{prefix} bootlint: disable={code}{buffer.line_break}")])
    for changes in candidates:
        if _silences(apply(buffer.text, changes), src, finding, findings, selection):
            return changes
    return []


def suppress_file(code: str, buffer: Buffer, model) -> list[Change]:
    """A `disable-file=` comment: the code added to the file's directive, or a new line after the
    shebang (and a Python coding line, which must stay on line 1 or 2)."""
    prefix = comment_prefix(model.language) if model is not None else None
    if prefix is None:
        return []
    for c_line, column, text, _alone in model.comments:
        match = _directive(prefix, "disable-file").search(text)
        if match:
            at = buffer.offset(c_line, column + match.end())
            return [Change(at, at, f", {code}")]
    line = 2 if buffer.line_text(1).lstrip("\ufeff").startswith("#!") else 1
    # A coding declaration must stay on line 1 or 2 (PEP 263): the directive goes below it.
    while line <= min(2, buffer.lines) and _CODING.match(buffer.line_text(line)):
        line += 1
    at = buffer.offset(line, 1)   # on line 1, after a byte-order mark
    newline = "\r\n" if "\r\n" in buffer.text else buffer.line_break
    new = f"{prefix} bootlint: disable-file={code}{newline}"
    if at == len(buffer.text) and buffer.text and not buffer.text.endswith(buffer.line_break):
        new = newline + new
    return [Change(at, at, new)]


def _silences(text: str, src: SourceFile, finding: Finding, before: list[Finding],
              selection: Selection) -> bool:
    """With the comment added, the finding's rule fires less often and nothing more fails to
    parse or is an invalid suppression."""
    def count(findings: list[Finding]) -> tuple[int, int]:
        codes = [f.code for f in findings]
        return codes.count(finding.code), codes.count("BL900") + codes.count("BL903")

    changed = SourceFile.from_bytes(src.path, text.encode("utf-8", errors="surrogatepass"))
    changed.executable, changed.mode_origin = src.executable, src.mode_origin
    (old_code, old_bad), (new_code, new_bad) = count(before), count(lint_source(changed, selection).findings)
    return new_code < old_code and new_bad <= old_bad


# --- unused suppressions (BL901) -------------------------------------------------------------

_CODE_LIST = re.compile(r"(?P<head>(?:#\s*bootlint\s*:\s*disable(?:-file)?\s*=|#\s*noqa\s*:)\s*)"
                        r"(?P<codes>[A-Za-z0-9_]+(?:\s*,\s*[A-Za-z0-9_]+)*)", re.I)
_UNUSED = re.compile(r"suppression of (?P<codes>BL\d+(?:, BL\d+)*) matched no finding")


def remove_suppression(finding: Finding, findings: list[Finding], src: SourceFile, buffer: Buffer,
                       selection: Selection) -> list[Change]:
    """For a BL901: the codes that suppressed nothing taken out of the comment, or the whole
    comment when nothing else is left in it (its line too when it is alone there). Linted
    before it is offered: the BL901 goes and nothing else appears."""
    start, end = buffer.span_offsets(finding.span)
    comment = buffer.text[start:end]
    match = _CODE_LIST.search(comment)
    unused = _UNUSED.search(finding.message)
    if match is None or unused is None:
        return []
    gone = set(unused.group("codes").split(", "))
    codes = [c.strip() for c in match.group("codes").split(",")]
    kept = [c for c in codes if c.upper() not in gone]
    if kept:
        at = start + match.start("codes")
        changes = [Change(at, start + match.end("codes"), ", ".join(kept))]
    else:
        line_start = buffer.char_offset(buffer.char_point(start)[0], 1)
        before = buffer.text[line_start:start]
        last = buffer.char_point(end)[0]
        line_end = buffer.char_offset(last, 1 << 62)   # before its line break
        rest = buffer.text[end:line_end].rstrip("\r")
        if rest.strip():
            return []   # something after the comment on its line: not a comment to the line's end
        if not before.strip() and last < buffer.lines:
            changes = [Change(line_start, line_end + 1, "")]          # the comment's own line
        else:
            changes = [Change(start - (len(before) - len(before.rstrip())), end, "")]
    fixed = SourceFile.from_bytes(src.path, apply(buffer.text, changes).encode("utf-8", errors="surrogatepass"))
    fixed.executable, fixed.mode_origin = src.executable, src.mode_origin
    after = lint_source(fixed, selection).findings
    return changes if len(after) < len(findings) and \
        sorted(f.code for f in after) == sorted(f.code for f in findings if f is not finding) else []
