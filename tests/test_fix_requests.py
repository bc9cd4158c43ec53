"""Rules ask for fixes by type, front ends carry them out: the engine takes a fix's title and
applicability from the request type the rule declared, an implementation may make a fix less
safe than declared and never safer, and a request the rule did not declare is a bug."""

from __future__ import annotations

import pytest

from bootlint.diagnostics import Applicability, RequestedFix
from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile
from bootlint.fixes import packaging, requests
from bootlint.fixes.build import Fixer, UndeclaredFix, implementations, least_safe
from bootlint.frontends.registry import by_name, front_ends
from bootlint.rules import all_rules
from conftest import FIXTURES

SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE
REQUEST_TYPES = {t for t in vars(requests).values()
                 if isinstance(t, type) and issubclass(t, RequestedFix) and t is not RequestedFix}


def test_every_request_type_is_declared_by_a_rule_and_carried_out_somewhere():
    declared = {kind for rule in all_rules().values() for kind in rule.fixes}
    assert declared == REQUEST_TYPES
    carried = set(packaging.IMPLEMENTATIONS)
    for fe in front_ends():
        table = fe.fixes.IMPLEMENTATIONS
        assert set(table) <= REQUEST_TYPES, fe.name
        carried |= set(table)
    assert carried == REQUEST_TYPES
    for kind in REQUEST_TYPES:
        assert kind.title and kind.applicability in (SAFE, UNSAFE), kind


def test_a_fix_is_never_safer_than_its_request_type():
    assert least_safe(SAFE, None) is SAFE
    assert least_safe(SAFE, UNSAFE) is UNSAFE
    assert least_safe(UNSAFE, SAFE) is UNSAFE
    assert least_safe(UNSAFE, None) is UNSAFE


def _lint(path, code: str):
    name = "bootstrap.py" if path.suffix == ".py" else "bootstrap"
    result = lint_source(SourceFile.from_bytes(name, path.read_bytes()), Selection((), (), (code,)))
    return [f for f in result.findings if f.code == code]


def _patched(monkeypatch, frontend: str, kind: type, applicability):
    """The front end's implementation of ``kind``, returning its rewrite with ``applicability``."""
    table = by_name(frontend).fixes.IMPLEMENTATIONS
    real = table[kind]

    def marked(fx, request):
        rewrite = real(fx, request)
        from dataclasses import replace

        return replace(rewrite, applicability=applicability) if rewrite is not None else None

    monkeypatch.setitem(table, kind, marked)


def test_the_engine_stamps_title_and_applicability_from_the_request_type(monkeypatch):
    path = FIXTURES / "shell" / "BL303" / "fail-data-file.sh"
    [found] = _lint(path, "BL303")[:1]
    assert (found.fix.title, found.fix.applicability) == (requests.SendFileAsIs.title, SAFE)
    # A front end may say that its rewrite at this site is less safe than the type declares...
    _patched(monkeypatch, "shell", requests.SendFileAsIs, UNSAFE)
    assert _lint(path, "BL303")[0].fix.applicability is UNSAFE


def test_a_front_end_cannot_make_a_fix_safer_than_declared(monkeypatch):
    path = FIXTURES / "shell" / "BL104" / "fail-no-exit.sh"
    before = _lint(path, "BL104")
    assert before and before[0].fix.applicability is UNSAFE
    _patched(monkeypatch, "shell", requests.ExitAfterInitError, SAFE)
    after = _lint(path, "BL104")
    assert [f.fix for f in after] == [f.fix for f in before]
    assert after[0].fix.applicability is UNSAFE


def test_title_fields_come_from_the_implementation_and_the_idioms():
    loop = _lint(FIXTURES / "python" / "BL001" / "fail-single-shot.py", "BL001")
    assert loop[0].fix.title == "wrap next, the handler and the response in `while True:`"
    trace = _lint(FIXTURES / "python" / "BL001" / "fail-defaulted-param-next-outside-loop.py", "BL201")
    assert trace[0].fix.title.startswith("set _X_AMZN_TRACE_ID from")   # the implementation's verb
    temp = _lint(FIXTURES.parent.parent / "examples" / "tutorial" / "bootstrap", "BL301")
    assert temp[0].fix.title == 'remove the temp file at the end of each invocation (`rm -f "$HEADERS"`)'


def test_a_request_the_rule_did_not_declare_is_a_bug(monkeypatch):
    src = SourceFile.from_bytes("bootstrap", b"\xef\xbb\xbf#!/bin/sh\n")
    fixer = Fixer(src, by_name("shell"))
    request = requests.RemoveByteOrderMark()
    assert fixer.fix(request, (requests.RemoveByteOrderMark,)).byte_edits[0].end == 3
    fixer.strict = False
    assert fixer.fix(request, (requests.ConvertLineEndings,)) is None   # costs the fix only
    fixer.strict = True
    with pytest.raises(UndeclaredFix):
        fixer.fix(request, (requests.ConvertLineEndings,))


def test_a_request_a_front_end_does_not_carry_out_gives_no_fix():
    python = by_name("python")
    assert requests.PipePayload not in implementations(python)
    assert requests.PipePayload in implementations(by_name("shell"))
    assert requests.ConvertLineEndings in implementations(None)   # any file, even one not analysed
    src = SourceFile.from_bytes("bootstrap.py", b"import os\n")
    assert Fixer(src, python).fix(requests.PipePayload(None), (requests.PipePayload,)) is None


def test_one_fix_serialiser_round_trips_every_fix_of_the_fixtures():
    """Reports and the findings cache write a fix in one shape (diagnostics.fix_to_json), and
    reading it back gives the same fix: edits, byte edits, applicability, title, mode."""
    from bootlint.diagnostics import fix_from_json, fix_to_json

    seen = 0
    for path in sorted(FIXTURES.glob("*/BL*/fail-*"))[::3]:
        name = "bootstrap.py" if path.suffix == ".py" else "bootstrap"
        src = SourceFile.from_bytes(name, path.read_bytes(), mode=0o100644)
        src.executable, src.mode_origin = False, "disk"
        for f in lint_source(src, Selection()).findings:
            if f.fix is not None:
                seen += 1
                assert fix_from_json(fix_to_json(f.fix)) == f.fix, (path, f.code)
    assert seen > 50
    assert fix_to_json(None) is None and fix_from_json(None) is None
