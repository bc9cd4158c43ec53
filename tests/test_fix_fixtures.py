"""Every fix, run over every failing fixture whose finding has one: the fixed file still parses
(`bash -n` when bash is here, `compile()` for Python), a fresh lint no longer reports the
finding and reports nothing that was not there before, and fixing again changes nothing."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections import Counter

import pytest

from bootlint.fixes.apply import fix_source
from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile
from bootlint.rules import all_rules
from conftest import FIXTURES, fixable_fixtures, snapshot_path

# The failing fixtures whose rule's finding has a fix (rule definitions and reviewed snapshots;
# the last test below checks the list against a lint of every failing fixture of a fixable rule).
CASES = list(fixable_fixtures())
BASH = shutil.which("bash")


def _id(path):
    return f"{path.parent.parent.name}/{path.parent.name}/{path.name}"


def _source(path, raw: bytes) -> SourceFile:
    return SourceFile.from_bytes("bootstrap.py" if path.suffix == ".py" else "bootstrap", raw)


def _parses(path, raw: bytes) -> None:
    if path.suffix == ".py" or raw.startswith(b"#!/usr/bin/env python"):
        compile(raw.decode("utf-8"), str(path), "exec")
    elif BASH:
        proc = subprocess.run([BASH, "-n"], input=raw, capture_output=True, timeout=30)
        assert proc.returncode == 0, proc.stderr.decode()


@functools.cache
def first_lint(path):
    """The lint of a fixture with its rule selected, once per session (a test and the coverage
    check below share it); computed when a test runs, not when the module is collected."""
    return lint_source(_source(path, path.read_bytes()), Selection((), (), (path.parent.name,)))


def _fixable(path) -> list:
    return [f for f in first_lint(path).findings if f.code == path.parent.name and f.fix is not None]


@pytest.mark.parametrize("path", CASES, ids=_id)
def test_fix_on_fixture(path):
    code = path.parent.name
    selection = Selection((), (), (code,))

    def lint(s):
        return lint_source(s, selection)

    assert _fixable(path), (f"no finding of {code} has a fix on this fixture, but its snapshot "
                            f"{snapshot_path(path).name} shows one or is missing")
    src = _source(path, path.read_bytes())
    before = first_lint(path)
    fixable = _fixable(path)
    out = fix_source(src, lint, unsafe=True, first=before, codes=frozenset({code}))
    assert out.raw != src.raw or out.mode is not None
    if not (path.parent.name in ("BL402", "BL405")):
        _parses(path, out.raw)
    after = [f.code for f in out.findings]
    remaining = [f for f in out.findings if f.code == code]
    # The fixed findings are gone (a finding without a fix may stay), and nothing new appeared.
    assert len(remaining) <= len([f for f in before.findings if f.code == code]) - len(fixable), \
        out.raw.decode("utf-8", "replace")
    assert not Counter(after) - Counter(f.code for f in before.findings), (
        after, out.raw.decode("utf-8", "replace"))
    again = fix_source(_source(path, out.raw), lint, unsafe=True, codes=frozenset({code}))
    assert again.raw == out.raw and again.fixed == 0


# Rules whose fix no text fixture can show: a file mode (tests/test_autofix.py applies it).
NO_TEXT_FIXTURE = {"BL403"}


def test_every_fixable_rule_is_exercised_on_its_fixtures():
    """Every rule with a fix has its fix applied to a failing fixture, in each language whose
    front end carries it out."""
    from bootlint.fixes.build import implemented_by
    from bootlint.frontends.registry import front_ends

    failing = [p for p in FIXTURES.glob("*/BL*/fail-*") if all_rules()[p.parent.name].fixes]
    # The fixtures left out of the fix tests at collection are exactly those without a fix.
    assert sorted(p for p in failing if _fixable(p)) == CASES, \
        sorted({p for p in failing if _fixable(p)} ^ set(CASES))
    done = {(p.parent.parent.name, p.parent.name) for p in CASES}
    for code, rule in all_rules().items():
        if not rule.fixes or code in NO_TEXT_FIXTURE:
            continue
        assert any(c == code for _, c in done), code
        for kind in rule.fixes:
            for fe in implemented_by(kind, front_ends()) or ():
                if rule.needs <= fe.capabilities and (FIXTURES / fe.name / code).is_dir():
                    assert (fe.name, code) in done, (code, kind.__name__, fe.name)
