"""Every rule has a page in rules/, and every example on a page does what the page says."""

from __future__ import annotations

import re
import shutil

import pytest

from bootlint.rules import all_rules
from conftest import ROOT, lint_text

PAGES = sorted((ROOT / "rules").glob("BL*.md"))
BLOCK_RE = re.compile(r"^```(sh|python) (fail|pass)\n(.*?)^```", re.S | re.M)


def _examples():
    for page in PAGES:
        for lang, kind, body in BLOCK_RE.findall(page.read_text(encoding="utf-8")):
            yield pytest.param(page.stem, lang, kind, body, id=f"{page.stem}-{lang}-{kind}")


def test_every_rule_has_a_page():
    assert sorted(p.stem for p in PAGES) == sorted(all_rules())


def test_pages_start_with_code_and_name():
    for code, rule in all_rules().items():
        first = (ROOT / "rules" / f"{code}.md").read_text(encoding="utf-8").split("\n", 1)[0]
        assert first == f"# {code} {rule.name}"


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
    codes = [c for c, _, _ in lint_text(body, path=name, extend=(code,))]
    if kind == "fail":
        assert code in codes
    else:
        assert code not in codes


def test_every_checked_rule_has_a_failing_and_a_passing_example():
    examples = {(c, k) for c, _, k, _ in (p.values for p in _examples())}
    for code, rule in all_rules().items():
        if (rule.check is not None or code in ("BL900", "BL902", "BL905")) and code not in NO_TEXT_EXAMPLE:
            assert (code, "fail") in examples and (code, "pass") in examples, code
