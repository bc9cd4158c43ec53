"""The front-end contract: languages live in the registry, rules and the engine know none of them,
rule metadata is written once, and every rule has fixtures in every language that can report it."""

from __future__ import annotations

import re
import sys
import textwrap

import pytest

from bootlint.frontends import registry as frontends
from bootlint.engine import Selection, lint_source
from bootlint.frontends.registry import front_ends
from bootlint.frontends.registry import detect
from bootlint.rules import all_rules
from bootlint.files.source import SourceFile
from conftest import FIXTURES, ROOT

RULE_MODULES = sorted((ROOT / "bootlint" / "rules").glob("*.py"))


def _language_words() -> set[str]:
    words = {"bash", "sh", "dash", "zsh", "ksh", "busybox"}
    for fe in front_ends():
        words |= {fe.name, fe.idioms.display_name, *fe.languages}
    return {w.lower() for w in words}


@pytest.mark.parametrize("path", RULE_MODULES, ids=lambda p: p.name)
def test_no_rule_module_names_a_language(path):
    text = path.read_text(encoding="utf-8")
    words = "|".join(re.escape(w) for w in sorted(_language_words()))
    named = re.findall(rf"(?<![\w-])({words})(?![\w-])", text, re.I)
    assert named == [], f"{path.name} names a language: {sorted(set(named))}"
    assert not re.search(r"\.language\b|\blanguage\s*(==|!=|in\b)", text), path.name


def test_the_engine_has_no_per_language_branch():
    text = (ROOT / "bootlint" / "engine.py").read_text(encoding="utf-8")
    for fe in front_ends():
        assert f'"{fe.name}"' not in text and f"'{fe.name}'" not in text
    assert not re.search(r"\blanguage\s*(==|!=|not in|in)\b", text)


def test_model_and_urls_do_not_import_each_other():
    model = (ROOT / "bootlint" / "model" / "__init__.py").read_text(encoding="utf-8")
    assert "bootlint.analysis.urls" not in model
    from bootlint import model as m
    from bootlint.analysis import urls

    assert urls.UrlInfo is m.UrlInfo and urls.Segment is m.Segment


def test_detection_asks_the_registry_by_shebang_then_name_then_content():
    def lang(path: str, text: str) -> str:
        return detect(SourceFile.from_bytes(path, text.encode())).language

    assert lang("bootstrap", "#!/bin/dash\n") == "shell"
    assert lang("bootstrap", "#!/usr/bin/env -S python3 -u\n") == "python"
    assert lang("x/bootstrap.py", "echo hi\n") == "python"          # the name
    assert lang("bootstrap", "import os\nimport sys\n") == "python"  # the content
    assert lang("bootstrap", "# setup\nfrom app import handler\n") == "python"
    assert lang("bootstrap", "set -e\nimport_things\n") == "shell"   # the default
    assert lang("bootstrap", "#!/usr/bin/env ruby\n") == "ruby"
    assert detect(SourceFile.from_bytes("bootstrap", b"#!/bin/sh\n")).frontend is frontends.by_name("shell")


THIRD = '''
from bootlint.frontends.registry import FrontEnd, Idioms
from bootlint.model import ApiCall, Endpoint, RuntimeModel
from bootlint.diagnostics import Span
from bootlint.analysis.urls import classify
from bootlint.model import Piece


def lower(src, shebang):
    """A toy language: every line `GET <url>` is a request."""
    model = RuntimeModel(path=src.path, language="toy")
    for n, line in enumerate(src.text.split("\\n"), 1):
        if line.startswith("GET "):
            span = Span(n, 5, n, len(line) + 1)
            info = classify((Piece(text=line[4:], span=span),))
            model.main.append(ApiCall(span, endpoint=info.endpoint, url=info))
    return model


FRONTEND = FrontEnd(
    name="toy", languages=("toy",), interpreters={"toy"}.__contains__,
    lower_module=__name__,
    idioms=Idioms(display_name="Toy", loop="forever { ... }", guard="", unguarded="", export="",
                  read_api_variable="", exit_now="", status_check="", exec_form="", parent="",
                  error_json="", variable="{name}", cleanup_at_exit="", case_fold={"": ""}),
)
'''


def test_a_third_language_is_one_module_and_one_registry_line(tmp_path, monkeypatch):
    (tmp_path / "toylang.py").write_text(textwrap.dedent(THIRD))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(frontends, "REGISTRY", frontends.REGISTRY + ("toylang",))
    frontends.front_ends.cache_clear()
    try:
        text = b"#!/usr/bin/toy\nGET http://127.0.0.1:9001/2018-06-01/runtime/invocation/next\n"
        result = lint_source(SourceFile.from_bytes("bootstrap", text), Selection())
        found = {(f.code, f.span.line, f.span.column): f.message for f in result.findings}
        assert sorted(found) == [("BL001", 2, 5), ("BL004", 2, 12), ("BL201", 2, 5)]
        assert "`forever { ... }`" in found[("BL001", 2, 5)]          # the toy idioms' loop
        from bootlint.frontends.registry import analysed_languages

        assert analysed_languages() == "shell, Python and Toy"
    finally:
        frontends.front_ends.cache_clear()
        sys.modules.pop("toylang", None)


def test_every_front_end_has_complete_idioms():
    for fe in front_ends():
        idioms = fe.idioms
        for name in ("loop", "guard", "unguarded", "export", "read_api_variable", "exit_now",
                     "status_check", "exec_form", "parent", "error_json", "variable",
                     "cleanup_at_exit", "shebang", "env_shebang", "comment"):
            assert getattr(idioms, name), (fe.name, name)
        assert "" in idioms.case_fold
        assert "{name}" in idioms.export and "{name}" in idioms.variable


# Rules whose failing case text cannot hold: a file mode, a zip layout, a bootlint crash, an
# over-size file; each has its own test (test_packaging.py, test_robustness.py, test_suppressions.py).
# (Rules observed only by `bootlint verify`, by running a bootstrap, say so in their definition
# (verify_only): tests/test_verify*.py.)
ELSEWHERE = {"BL403", "BL404", "BL901", "BL903", "BL904", "BL999"}


def test_fixture_coverage_is_checked_per_rule():
    """Every rule has failing and passing fixtures, in each language whose front end can report it."""
    for code, rule in all_rules().items():
        if code in ELSEWHERE or rule.verify_only:
            continue
        folders = list(FIXTURES.glob(f"*/{code}"))
        fails = [p for f in folders for p in f.glob("fail-*")]
        passes = [p for f in folders for p in f.glob("pass-*")]
        assert len(fails) >= 3 and len(passes) >= 3, code
        if rule.check is None or not rule.needs_model:
            continue
        for fe in front_ends():
            if not rule.needs <= fe.capabilities:
                continue
            mine = FIXTURES / fe.name / code
            assert list(mine.glob("fail-*")) and list(mine.glob("pass-*")), (code, fe.name)


def test_capabilities_are_one_vocabulary():
    """What rules need and what front ends declare are names from frontends.registry.CAPABILITIES;
    a rule that needs something applies only where a front end declares it."""
    from bootlint.frontends.registry import CAPABILITIES

    for fe in front_ends():
        assert fe.capabilities <= set(CAPABILITIES), fe.name
    needed = set()
    for code, rule in all_rules().items():
        assert rule.needs <= set(CAPABILITIES), code
        needed |= rule.needs
    assert needed == set(CAPABILITIES)   # no capability nobody needs
    assert all_rules()["BL107"].needs == {"err-trap"}
    assert "err-trap" not in frontends.by_name("python").capabilities
