"""From a rule's fix request to the fix that is reported.

The rule declares which request types it may attach (``Rule.fixes``) and attaches one where it
wants a fix; the implementation comes from :mod:`bootlint.fixes.packaging` (the file's bytes
and mode, any language) or from the file's front end (the ``IMPLEMENTATIONS`` table of its
``fixes`` module); the title and the applicability come from the request's type. A request no
implementation carries out, or that its implementation declines (the code's shape is not one
it rewrites with confidence), gives no fix: the finding stays.
"""

from __future__ import annotations

import os
from dataclasses import fields
from typing import TYPE_CHECKING, Callable, Iterable

from bootlint.diagnostics import Applicability, Fix, RequestedFix
from bootlint.files.source import SourceFile
from bootlint.fixes import packaging
from bootlint.fixes.requests import Rewrite

if TYPE_CHECKING:
    from bootlint.frontends.registry import FrontEnd


class UndeclaredFix(Exception):
    """A rule attached a request type its definition does not declare (a bug in the rule)."""


def implementations(frontend: "FrontEnd | None") -> dict[type, Callable]:
    """Every request type carried out for a file of this front end (None: a file no front end
    reads), with its implementation."""
    table = dict(packaging.IMPLEMENTATIONS)
    module = frontend.fixes if frontend is not None else None
    if module is not None:
        table.update(module.IMPLEMENTATIONS)
    return table


def implemented_by(kind: type, frontends: Iterable["FrontEnd"]) -> list["FrontEnd"] | None:
    """The front ends that carry out a request type; None when it is carried out for any file
    (a fix about the file itself)."""
    if kind in packaging.IMPLEMENTATIONS:
        return None
    return [fe for fe in frontends if kind in implementations(fe)]


def title_of(request: RequestedFix, rewrite: Rewrite, idioms=None) -> str:
    """The request type's title, its fields filled from the request, the implementation's
    details and the front end's idioms, in that order."""
    values = {name: getattr(idioms, name) for name in _field_names(idioms)} if idioms is not None else {}
    values.update(rewrite.detail)
    values.update({name: getattr(request, name) for name in _field_names(request)})
    return type(request).title.format_map(values)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(record) -> tuple[str, ...]:
    """The names of a record's fields, by its class (dataclasses.fields() builds them anew)."""
    names = _FIELD_NAMES.get(type(record))
    if names is None:
        names = _FIELD_NAMES[type(record)] = tuple(f.name for f in fields(record))
    return names


def least_safe(declared: Applicability, chosen: Applicability | None) -> Applicability:
    """An implementation may mark its fix less safe than its request type declares, never safer."""
    unsafe = Applicability.UNSAFE
    return unsafe if unsafe in (declared, chosen) else declared


class Fixer:
    """Carries out one file's fix requests: the file, its front end and what it parsed (the
    ``parsed`` a lowering leaves on the model, handed to the front end's fix builders)."""

    def __init__(self, src: SourceFile, frontend: "FrontEnd | None", parsed: object = None) -> None:
        self.src = src
        self.frontend = frontend
        self.parsed = parsed
        self._table: dict[type, Callable] | None = None
        self._builders = None
        # A fix that fails costs its fix, never the finding (a bug in a fix must not turn a real
        # finding into BL999); the test suite sets BOOTLINT_FIX_ERRORS=raise so that it fails.
        self.strict = os.environ.get("BOOTLINT_FIX_ERRORS") == "raise"

    def fix(self, request: RequestedFix | None, declared: tuple[type, ...]) -> Fix | None:
        """The fix for ``request`` (None for none), checked against the rule's declared types."""
        if request is None:
            return None
        try:
            return self._build(request, declared)
        except Exception:
            if self.strict:
                raise
            return None

    def _build(self, request: RequestedFix, declared: tuple[type, ...]) -> Fix | None:
        kind = type(request)
        if kind not in declared:
            raise UndeclaredFix(f"{kind.__name__} is not among the rule's declared fixes")
        if self._table is None:
            self._table = implementations(self.frontend)
        implementation = self._table.get(kind)
        if implementation is None:
            return None
        if kind in packaging.IMPLEMENTATIONS:
            rewrite = implementation(self.src, request)
        else:
            if self._builders is None:
                self._builders = self.frontend.fixes.builders(self.src, self.parsed)
            rewrite = implementation(self._builders, request)
        if rewrite is None:
            return None
        idioms = self.frontend.idioms if self.frontend is not None else None
        return Fix(title_of(request, rewrite, idioms), rewrite.edits,
                   least_safe(kind.applicability, rewrite.applicability), rewrite.mode, rewrite.byte_edits)
