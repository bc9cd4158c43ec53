"""A fix fuzzer (issue 19): every fixture whose rule has a fix, written with other line endings
(CR LF, CR only), a byte-order mark, a line of non-ASCII text and quotes before the code, or in
another encoding that a Python coding cookie names. Fixing the changed file must give the fixed
original changed the same way: the fix lands on the same code whatever the bytes around it,
removes the same findings, and changes nothing else.

The budget is small in the suite; BOOTLINT_PROPERTY_EXAMPLES=2000 runs a larger one.
"""

from __future__ import annotations

import functools
import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile
from bootlint.fixes.apply import fix_source
from conftest import fixable_fixtures

EXAMPLES = int(os.environ.get("BOOTLINT_PROPERTY_EXAMPLES", "15"))

# Text fixes of the code, on the fixtures whose finding has one (tests/test_fix_fixtures.py
# checks that list); the packaging rules' byte fixes are about line endings and BOMs: the very
# things changed here.
CASES = [p for p in fixable_fixtures() if not p.parent.name.startswith("BL4")
         and b"\r" not in p.read_bytes() and not p.read_bytes().startswith(b"\xef\xbb\xbf")]
# Non-ASCII text and quotes a fix must step over without counting them wrong: wide characters,
# one above the BMP (two UTF-16 units), quotes of every kind, a lone backslash.
NOISE = ["é", "日本語", "😀", "'", '"', "$'x'", "\\", "`", "\u00a0", "Ω≈ç"]


def _name(path) -> str:
    return "bootstrap.py" if path.suffix == ".py" else "bootstrap"


def _is_python(path, raw: bytes) -> bool:
    return path.suffix == ".py" or raw.startswith(b"#!/usr/bin/env python") or raw.startswith(b"#!/usr/bin/python")


class Change:
    """One way of writing the same program: bytes in, bytes out (applied to the original and to
    its fixed version alike)."""

    def __init__(self, newline: str, bom: bool, noise: str | None, latin1: bool) -> None:
        self.newline, self.bom, self.noise, self.latin1 = newline, bom, noise, latin1

    def __repr__(self) -> str:
        return f"Change(newline={self.newline!r}, bom={self.bom}, noise={self.noise!r}, latin1={self.latin1})"

    def apply(self, raw: bytes) -> bytes:
        text = raw.decode("utf-8")
        lines = text.split("\n")
        at = 1 if lines[0].startswith("#!") else 0
        added = []
        if self.latin1:
            added.append("# -*- coding: latin-1 -*-")
        if self.noise is not None:
            added.append(f"# {self.noise} ¿{self.noise}?")
        text = "\n".join(lines[:at] + added + lines[at:])
        text = text.replace("\n", self.newline)
        data = text.encode("latin-1" if self.latin1 else "utf-8")
        return (b"\xef\xbb\xbf" if self.bom else b"") + data


@st.composite
def cases(draw):
    path = draw(st.sampled_from(CASES))
    raw = path.read_bytes()
    python = _is_python(path, raw)
    second = raw.split(b"\n")[1:2]
    # A coding cookie only where the file has none and is ASCII (latin-1 holds it unchanged).
    cookie_free = b"coding" not in b"".join(raw.split(b"\n")[:2]) and raw.isascii()
    latin1 = python and cookie_free and not second[:1] == [b""] and draw(st.booleans())
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    noise = draw(st.none() | st.sampled_from(NOISE))
    if latin1 and noise is not None and any(ord(ch) > 0xFF for ch in noise):
        noise = "é"
    bom = draw(st.booleans()) and not latin1
    return path, raw, Change(newline, bom, noise, latin1)


@functools.cache
def _fixed(path, raw: bytes) -> tuple[bytes, int]:
    code = path.parent.name
    selection = Selection((), (), (code,))
    src = SourceFile.from_bytes(_name(path), raw)
    out = fix_source(src, lambda s: lint_source(s, selection), unsafe=True, codes=frozenset({code}))
    assert not out.stuck and not out.internal_error, (out.stuck, out.findings)
    left = sum(1 for f in out.findings if f.code == code)
    return out.raw, left


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=cases())
def test_a_fix_lands_on_the_same_code_whatever_the_bytes_around_it(case):
    path, raw, change = case
    plain, plain_left = _fixed(path, raw)
    assert plain != raw, "the fixture's fix changes nothing"   # CASES: fixtures with a fix
    try:
        expected = change.apply(plain)
    except UnicodeEncodeError:
        assume(False)      # the fix writes what latin-1 cannot hold: refusing is right, not tested here
    changed, changed_left = _fixed(path, change.apply(raw))
    assert changed == expected, (change, changed.decode("latin-1"), expected.decode("latin-1"))
    assert changed_left == plain_left


def test_the_fuzzer_has_cases_of_both_languages():
    assert {p.parent.parent.name for p in CASES} == {"shell", "python"}
    assert len(CASES) > 40


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}")
def test_every_case_once_cr_only_with_a_bom_and_noise(path):
    """Each fixture at least once (the property above samples them), in the hardest shape."""
    raw = path.read_bytes()
    plain, plain_left = _fixed(path, raw)
    assert plain != raw, "the fixture's fix changes nothing"
    change = Change("\r", True, "日本語 😀 'q' \"q\"", False)
    changed, changed_left = _fixed(path, change.apply(raw))
    assert changed == change.apply(plain) and changed_left == plain_left
