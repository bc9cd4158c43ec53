"""The diagnostic types every layer shares: where (Span), how serious (Severity), what a rule
yields (Violation), what it asks for (RequestedFix), what is proposed (Fix, Edit, ByteEdit,
Applicability) and what is reported (Finding). The language-neutral runtime model is :mod:`bootlint.model`."""

from __future__ import annotations

import enum
from typing import ClassVar
from bootlint.util.records import dataclass


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based, inclusive-start, exclusive-end range in character columns."""

    line: int
    column: int
    end_line: int
    end_column: int


class Severity(str, enum.Enum):
    """How serious a finding is; ordered error > warning > info."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Applicability(str, enum.Enum):
    """Whether a fix keeps the program's meaning (``--fix``) or changes it on purpose
    (``--unsafe-fixes``)."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Edit:
    """Replace the text in ``span`` (1-based character columns, end exclusive) by ``text``.
    An empty span inserts; an empty ``text`` deletes."""

    span: Span
    text: str


@dataclass(frozen=True)
class ByteEdit:
    """Replace bytes ``start``..``end`` (offsets in the file as read, end exclusive) by ``data``:
    for what the text cannot address, since a :class:`Span` counts in the text after the
    byte-order mark is dropped and CR LF folded (BL405, BL402)."""

    start: int
    end: int
    data: bytes = b""


@dataclass(frozen=True)
class Fix:
    """What a rule proposes: a title and edits that never overlap one another.

    ``mode`` is for fixes that are not text edits (BL403's ``chmod +x``): the file mode to set.
    ``byte_edits`` change the file's bytes where no text position reaches (a BOM, a CR).
    """

    title: str
    edits: tuple[Edit, ...] = ()
    applicability: Applicability = Applicability.SAFE
    mode: int | None = None
    byte_edits: tuple[ByteEdit, ...] = ()

    @property
    def is_safe(self) -> bool:
        return self.applicability is Applicability.SAFE


class RequestedFix:
    """What a rule attaches to a violation to ask for a fix: a small frozen dataclass per kind of
    change (the kinds are in :mod:`bootlint.fixes.requests`). The rule decides whether to fix;
    the file's front end decides how (its table of implementations), and the engine turns the
    request into a :class:`Fix` whose title and applicability come from the request's type."""

    # A template filled from the request's fields, the front end's idioms and the details its
    # implementation returns ("take the host from AWS_LAMBDA_RUNTIME_API").
    title: ClassVar[str] = ""
    applicability: ClassVar[Applicability] = Applicability.SAFE


def fix_to_json(fix: Fix | None) -> dict | None:
    """A fix as JSON, the one shape the reports (json, json-lines) and the findings cache use:
    its title, applicability, text edits (1-based character columns, end exclusive), byte edits
    (offsets in the file's bytes) and the permissions it gives the file."""
    if fix is None:
        return None
    return {
        "title": fix.title,
        "applicability": fix.applicability.value,
        "edits": [{"line": e.span.line, "column": e.span.column, "end_line": e.span.end_line,
                   "end_column": e.span.end_column, "text": e.text} for e in fix.edits],
        "byte_edits": [{"start": b.start, "end": b.end, "data_hex": b.data.hex()} for b in fix.byte_edits],
        "mode": f"{fix.mode & 0o7777:04o}" if fix.mode is not None else None,
    }


def fix_from_json(data: dict | None) -> Fix | None:
    """The fix :func:`fix_to_json` wrote (a mode is a regular file's: only those are fixed)."""
    if data is None:
        return None
    mode = 0o100000 | int(data["mode"], 8) if data["mode"] is not None else None
    return Fix(data["title"],
               tuple(Edit(Span(e["line"], e["column"], e["end_line"], e["end_column"]), e["text"])
                     for e in data["edits"]),
               Applicability(data["applicability"]), mode,
               tuple(ByteEdit(b["start"], b["end"], bytes.fromhex(b["data_hex"])) for b in data["byte_edits"]))


@dataclass(frozen=True)
class Related:
    """Another place a finding is about (the `set -e` line for BL101, the helper for a
    call-site finding), for SARIF ``relatedLocations`` and LSP ``relatedInformation``."""

    span: Span
    message: str


@dataclass(frozen=True)
class Violation:
    """What a rule yields: where, what, and optionally the fix it asks for and what else is
    involved."""

    span: Span
    message: str
    fix: RequestedFix | None = None
    related: tuple[Related, ...] = ()
    # A rule whose cases differ in gravity (BL406: a relative interpreter works from the task
    # root, so it is a warning) sets it; None is the rule's own severity.
    severity: Severity | None = None


@dataclass(frozen=True)
class Finding:
    """One diagnostic, ready for suppression and reporting."""

    code: str
    name: str
    severity: Severity
    message: str
    path: str
    span: Span
    source_line: str = ""   # the text of the finding's line, for context and fingerprints
    fix: Fix | None = None
    related: tuple[Related, ...] = ()

    def sort_key(self) -> tuple:
        return (self.path, self.span.line, self.span.column, self.code, self.message)
