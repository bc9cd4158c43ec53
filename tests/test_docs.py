"""The documentation derived from the rule definitions is current (`python -m bootlint.docs
--check`), and the check fails when a derived part goes stale."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from bootlint.docs import generate
from bootlint.diagnostics import Severity
from bootlint.rules import all_rules
from conftest import ROOT


def test_derived_documentation_is_current():
    assert generate.stale(ROOT) == []


@pytest.fixture
def checkout(tmp_path):
    """A copy of the checkout's documentation."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


class _Ran:
    def __init__(self, returncode: int, out) -> None:
        self.returncode, self.stdout, self.stderr = returncode, out.out, out.err


@pytest.fixture
def run_docs(capsys):
    """`python -m bootlint.docs ARGS`, in this process (what is tested is the command, not Python)."""
    from bootlint.docs.__main__ import main

    def run(*args):
        capsys.readouterr()
        code = main(list(args))
        return _Ran(code, capsys.readouterr())

    return run


def test_check_fails_on_a_stale_page_and_write_repairs_only_the_head(checkout, run_docs):
    page = checkout / "rules" / "BL303.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("**Fix:** safe (`--fix`) · shell", "**Fix:** unsafe"), encoding="utf-8")
    proc = run_docs("--check", "--root", str(checkout))
    assert proc.returncode == 1 and proc.stderr == (
        "rules/BL303.md is stale: run `python -m bootlint.docs --write`\n")
    proc = run_docs("--write", "--root", str(checkout))
    assert (proc.returncode, proc.stdout) == (0, "wrote rules/BL303.md\n")
    assert page.read_text(encoding="utf-8") == text
    assert run_docs("--check", "--root", str(checkout)).returncode == 0


def test_a_definition_change_makes_the_page_and_the_readme_stale(checkout, monkeypatch):
    rules = dict(all_rules())
    rules["BL202"] = replace(rules["BL202"], severity=Severity.ERROR)
    monkeypatch.setattr(generate, "all_rules", lambda: rules)
    assert generate.stale(checkout) == [checkout / "rules" / "BL202.md", checkout / "README.md"]
    generate.write(checkout)
    head = (checkout / "rules" / "BL202.md").read_text(encoding="utf-8").split("\n")[:3]
    assert head == ["# BL202 case-sensitive-header-match", "",
                    "**Severity:** error · **On by default** · shell and Python"]
    assert "| [BL202](rules/BL202.md) | case-sensitive-header-match | error |" in (
        checkout / "README.md").read_text(encoding="utf-8")


def test_the_fix_facts_come_from_the_definitions_and_the_front_ends_tables():
    assert generate.header("BL301").split("\n")[4] == "**Fix:** unsafe (`--unsafe-fixes`) · shell"
    assert generate.header("BL004").split("\n")[4] == "**Fix:** safe (`--fix`) · shell and Python"
    assert generate.header("BL402").split("\n")[4] == "**Fix:** safe (`--fix`) · any bootstrap"
    assert generate.header("BL107").split("\n")[2:] == [
        "**Severity:** warning · **On by default** · shell", "", ""]   # no ERR trap in Python; no fix
    assert generate.fixable_rules() == (
        "Safe: BL004, BL006, BL103 (shell), BL303, BL402, BL403, BL405, BL406.\n"
        "Unsafe: BL001, BL101, BL102, BL104, BL201, BL301 (shell), BL302 (shell).\n")


def test_flags_are_in_the_header():
    assert generate.header("BL999").split("\n")[2].endswith("· any file · cannot be ignored")
    assert generate.header("BL901").split("\n")[2].endswith("· can be ignored only in configuration")
    assert generate.header("BL501").split("\n")[2].endswith("· **reported by `bootlint verify` only**")
    assert generate.header("BL404").split("\n")[2].endswith("· deployment zips")


def test_readme_without_markers_is_an_error(checkout):
    readme = checkout / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("<!-- end: rules-table -->", ""),
                      encoding="utf-8")
    with pytest.raises(ValueError, match="rules-table"):
        generate.stale(checkout)


def _contributing() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("\n## Contributing\n", 1)[1].split("\n## ", 1)[0]


def test_the_rule_walkthrough_example_is_a_working_rule():
    """The README's example rule registers and runs as written (then it is taken out again)."""
    from bootlint.frontends.registry import by_name
    from bootlint.files.source import SourceFile
    from bootlint.rules import RULES, Subject

    section = _contributing().split("### Adding a rule", 1)[1].split("\n### ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    code = "\n".join(line[3:] for line in code.split("\n"))   # the list item's indentation
    try:
        exec(compile(code, "README.md", "exec"), {})
        rule = RULES["BL190"]
        assert rule.opt_in and rule.fixes == ()
        text = ("#!/bin/sh\nwhile true; do\n"
                "  curl -sS -D /tmp/h \"http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next\"\n"
                "  ID=$(grep -i request-id /tmp/h | cut -d' ' -f2)\n"
                "  curl -sS -X POST \"http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/response\""
                " -d ok\ndone\n")
        src = SourceFile.from_bytes("bootstrap", text.encode())
        shell = by_name("shell")
        found = list(rule.check(Subject(src, shell.lower(src, None), "shell", None, shell)))
        assert [(v.span.line, v.message) for v in found] == [
            (5, "this response is not the output of a handler call")]
        tutorial = SourceFile.from_bytes("bootstrap", (ROOT / "examples" / "tutorial" / "bootstrap").read_bytes())
        assert list(rule.check(Subject(tutorial, shell.lower(tutorial, None), "shell", None, shell))) == []
    finally:
        RULES.pop("BL190", None)


def test_the_walkthroughs_name_what_exists():
    """Every module the contributing walk-throughs name exists (but the Ruby of the example), and
    so do the tables and types they tell a contributor to use."""
    import re

    from bootlint.fixes import requests
    from bootlint.frontends import registry
    from bootlint.frontends.registry import front_ends

    section = _contributing()
    for path in set(re.findall(r"bootlint/[\w/]+\.py", section)):
        assert "ruby" in path or (ROOT / path).is_file(), path
    assert issubclass(requests.Rewrite, object) and requests.RequestedFix and registry.CAPABILITIES
    for fe in front_ends():
        assert fe.fixes.IMPLEMENTATIONS, fe.name
