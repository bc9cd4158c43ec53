"""Every rule has a page in rules/, and every example on a page does what the page says."""

from __future__ import annotations

import re
import shutil

import pytest

from bootlint.rules import all_rules
from bootlint.engine import lint_source
from bootlint.files.source import SourceFile
from conftest import ROOT, RULE_TARGET, lint_text

PAGES = sorted((ROOT / "rules").glob("BL*.md"))
BLOCK_RE = re.compile(r"^```(sh|python) (fail|pass)\n(.*?)^```", re.S | re.M)


def _examples():
    for page in PAGES:
        for lang, kind, body in BLOCK_RE.findall(page.read_text(encoding="utf-8")):
            yield pytest.param(page.stem, lang, kind, body, id=f"{page.stem}-{lang}-{kind}")


def test_every_rule_has_a_page():
    assert sorted(p.stem for p in PAGES) == sorted(all_rules())


# Pages whose failing example is about bytes Markdown cannot show: the test adds them.
BYTES = {"BL402": lambda text: text.replace("\n", "\r\n"), "BL405": lambda text: "\ufeff" + text}
# Rules about what text cannot hold (a file's mode): tested in test_packaging.py instead.
NO_TEXT_EXAMPLE = {"BL403"}


# Pages whose examples only mean something when bash can be asked (`bash -n`).
NEEDS_BASH = {"BL905"}


@pytest.mark.parametrize("code,lang,kind,body", list(_examples()))
def test_example(code, lang, kind, body):
    if code in NEEDS_BASH and shutil.which("bash") is None:
        pytest.skip("bash is not installed: BL905 needs `bash -n` to tell a parser gap from an error")
    name = "bootstrap.py" if lang == "python" else "bootstrap"
    if kind == "fail" and code in BYTES:
        body = BYTES[code](body)
    codes = [c for c, _, _ in lint_text(body, path=name, extend=(code,), target=RULE_TARGET.get(code, "default"))]
    if kind == "fail":
        assert code in codes
    else:
        assert code not in codes


def test_every_checked_rule_has_a_failing_and_a_passing_example():
    examples = {(c, k) for c, _, k, _ in (p.values for p in _examples())}
    for code, rule in all_rules().items():
        if (rule.check is not None or code in ("BL900", "BL902", "BL905")) and code not in NO_TEXT_EXAMPLE:
            assert (code, "fail") in examples and (code, "pass") in examples, code


FIX_RE = re.compile(r"^## Fix\n(.*?)(?=^## |\Z)", re.S | re.M)
FIX_BLOCK_RE = re.compile(r"^```(sh|python) (before|after)\n(.*?)^```", re.S | re.M)


def _fix_section(code: str) -> str:
    found = FIX_RE.search((ROOT / "rules" / f"{code}.md").read_text(encoding="utf-8"))
    assert found, f"{code}: the page has no '## Fix' section"
    return found.group(1)


@pytest.mark.parametrize("code", sorted(all_rules()))
def test_every_page_shows_its_fix_or_says_why_there_is_none(code):
    """A rule with a fix (its definition's ``fixes``) shows it on its page as a before/after pair
    that this test applies (the fixed text must equal `after`, which no longer gets the
    finding); a rule without one says why ("None: ..."), and its failing example's finding
    carries no fix."""
    from bootlint.fixes.apply import fix_source
    from bootlint.engine import Selection

    rule = all_rules()[code]
    section = _fix_section(code)
    blocks = FIX_BLOCK_RE.findall(section)
    if not rule.fixes:
        assert section.startswith("None") and not blocks, f"{code}: say 'None: why' and show no fix"
        for lang, kind, body in BLOCK_RE.findall((ROOT / "rules" / f"{code}.md").read_text(encoding="utf-8")):
            if kind == "fail":
                name = "bootstrap.py" if lang == "python" else "bootstrap"
                raw = (BYTES[code](body) if code in BYTES else body).encode("utf-8")
                result = lint_source(SourceFile.from_bytes(name, raw), Selection((), (), (code,)))
                assert [f.fix for f in result.findings if f.code == code] == [None] * len(
                    [f for f in result.findings if f.code == code])
        return
    if code in NO_TEXT_EXAMPLE:
        return  # a mode, not text: tests/test_autofix.py applies it
    assert blocks, f"{code}: show the fix as a before/after pair"
    unsafe = any(kind.applicability.value == "unsafe" for kind in rule.fixes)
    pairs = {}
    for lang, kind, body in blocks:
        pairs.setdefault(lang, {})[kind] = body
    for lang, pair in pairs.items():
        name = "bootstrap.py" if lang == "python" else "bootstrap"
        before = (BYTES[code](pair["before"]) if code in BYTES else pair["before"]).encode("utf-8")
        selection = Selection((), (), (code,))
        src = SourceFile.from_bytes(name, before)
        assert code in [f.code for f in lint_source(src, selection).findings], f"{code} {lang}: before"
        out = fix_source(src, lambda s: lint_source(s, selection), unsafe, codes=frozenset({code}))
        assert out.raw.decode("utf-8") == pair["after"], f"{code} {lang}"
        assert code not in [f.code for f in out.findings]
