"""Every output format, checked the way its consumer reads it."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from conftest import ROOT, run_cli

TUTORIAL = (ROOT / "examples" / "tutorial" / "bootstrap").read_bytes()
SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture
def tutorial(tmp_path):
    path = tmp_path / "bootstrap"
    path.write_bytes(TUTORIAL)
    path.chmod(0o755)
    return tmp_path


def test_full_format_shows_line_caret_and_help(tutorial):
    out = run_cli("check", "--format", "full", "--color", "never", "bootstrap", cwd=tutorial).stdout.decode()
    first = out.split("\n\n")[0].splitlines()
    assert first == [
        "bootstrap:6:1: warning[BL103] loading the handler can fail here and nothing posts "
        "/runtime/init/error: the failure reaches Lambda only as an exit; on failure post the error "
        "to /runtime/init/error and exit",
        "  |",
        '6 | source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"',
        "  | " + "^" * 61,
        "  = init-error-unreported: see `bootlint rule BL103`",
    ]
    blocks = out.split("\n\n")
    assert "20 | " in blocks[5] and "  = payload-on-command-line" in blocks[5]
    caret = blocks[5].splitlines()[3]
    assert caret == "   | " + " " * 102 + "^" * 14   # under -d "$RESPONSE"
    assert out.endswith("Found 6 problems (1 error, 5 warnings) in 1 file.\n"
                        "[*] 5 fixable with `--fix --unsafe-fixes`.\n")
    assert "   = fix (unsafe fix: `--fix --unsafe-fixes`): pipe the payload into curl" in blocks[5]
    assert "\033[" not in out


def test_colour_always_and_no_color(tutorial):
    coloured = run_cli("check", "--format", "full", "--color", "always", "bootstrap", cwd=tutorial).stdout
    assert b"\033[1;31merror[BL101]\033[0m" in coloured
    plain = run_cli("check", "--format", "full", "bootstrap", cwd=tutorial, env={"NO_COLOR": "1"}).stdout
    assert b"\033[" not in plain


def test_json_lines(tutorial):
    lines = run_cli("check", "--format", "json-lines", "bootstrap", cwd=tutorial).stdout.decode().splitlines()
    assert [json.loads(line)["code"] for line in lines] == ["BL103", "BL301", "BL201", "BL101", "BL102", "BL302"]


def test_sarif_is_valid_and_complete(tutorial):
    jsonschema = pytest.importorskip("jsonschema")
    if not SARIF_SCHEMA.exists():
        pytest.skip("the SARIF schema is not beside this checkout (../shared/schemas)")
    proc = run_cli("check", "--format", "sarif", "bootstrap", cwd=tutorial)
    log = json.loads(proc.stdout)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "bootlint" and driver["version"]
    assert "informationUri" not in driver   # no documentation home is configured: no links
    ids = [r["id"] for r in driver["rules"]]
    assert "BL101" in ids and "BL007" not in ids  # opt-in rules did not run
    bl101 = driver["rules"][ids.index("BL101")]
    assert bl101["name"] == "invocation-failure-kills-runtime"
    assert "helpUri" not in bl101
    assert bl101["defaultConfiguration"]["level"] == "error"
    assert bl101["fullDescription"]["text"].startswith("Shell: errexit is in force")
    result = run["results"][3]
    assert result["ruleId"] == "BL101" and result["level"] == "error"
    assert driver["rules"][result["ruleIndex"]]["id"] == "BL101"
    assert result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 17, "startColumn": 14, "endLine": 17, "endColumn": 61}
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_fingerprints_survive_unrelated_edits(tutorial):
    before = json.loads(run_cli("check", "--format", "sarif", "bootstrap", cwd=tutorial).stdout)
    path = tutorial / "bootstrap"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([lines[0], b"# a new comment", b"# and another", *lines[1:]]))
    after = json.loads(run_cli("check", "--format", "sarif", "bootstrap", cwd=tutorial).stdout)

    def prints(log):
        return [(r["ruleId"], r["partialFingerprints"]["bootlintFinding/v1"]) for r in log["runs"][0]["results"]]

    assert prints(before) == prints(after)
    assert after["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 8


def test_github_annotations_are_escaped(tmp_path):
    odd = tmp_path / "a,b:c%d"
    odd.mkdir()
    (odd / "bootstrap").write_bytes(TUTORIAL)
    (odd / "bootstrap").chmod(0o755)
    out = run_cli("check", "--format", "github", ".", cwd=tmp_path).stdout.decode().splitlines()
    assert out[3] == ("::error file=a%2Cb%3Ac%25d/bootstrap,line=17,col=14,endLine=17,endColumn=61,"
                      "title=bootlint (BL101)::the handler call runs under `set -euo pipefail` on line 3 without a "
                      "guard: one failed invocation kills the runtime (Runtime.ExitError, a cold start "
                      "for the next call); write `if ! RESPONSE=$(handler ...); then <post to /error>; "
                      "continue; fi` [invocation-failure-kills-runtime]")
    assert out[0].startswith("::warning file=a%2Cb%3Ac%25d/bootstrap,line=6,col=1,")
    from bootlint.report.github import escape_data, escape_property
    assert escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"


def test_gitlab_code_quality(tutorial):
    issues = json.loads(run_cli("check", "--format", "gitlab", "bootstrap", cwd=tutorial).stdout)
    assert [(i["check_name"], i["severity"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("BL103", "minor", 6), ("BL301", "minor", 11), ("BL201", "minor", 13), ("BL101", "major", 17),
        ("BL102", "minor", 20), ("BL302", "minor", 20)]
    assert all(i["location"]["path"] == "bootstrap" and len(i["fingerprint"]) == 32 for i in issues)
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert issues[0]["description"].startswith("BL103 init-error-unreported: ")


def test_junit(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "bootstrap").write_bytes(TUTORIAL)
    (tmp_path / "b" / "bootstrap").write_bytes((ROOT / "examples" / "fixed" / "bootstrap").read_bytes())
    for p in ("a", "b"):
        (tmp_path / p / "bootstrap").chmod(0o755)
    root = ET.fromstring(run_cli("check", "--format", "junit", ".", cwd=tmp_path).stdout)
    suite = root.find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "6"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert sorted(cases) == ["a/bootstrap", "b/bootstrap"]
    assert [f.get("type") for f in cases["a/bootstrap"].findall("failure")] == [
        "BL103", "BL301", "BL201", "BL101", "BL102", "BL302"]
    assert cases["b/bootstrap"].findall("failure") == []


def test_output_file_writes_one_format_while_another_prints(tutorial):
    proc = run_cli("check", "--format", "concise", "--output-file", "report.sarif",
                   "--output-file", "gitlab:cq.json", "bootstrap", cwd=tutorial)
    assert proc.stdout.decode().startswith("bootstrap:6:1: warning:")
    assert json.loads((tutorial / "report.sarif").read_text())["version"] == "2.1.0"
    assert json.loads((tutorial / "cq.json").read_text())[0]["check_name"] == "BL103"
    bad = run_cli("check", "--output-file", "report.txt.weird", "bootstrap", cwd=tutorial)
    assert bad.returncode == 2 and b"name the format" in bad.stderr


def test_statistics(tutorial):
    out = run_cli("check", "--statistics", "bootstrap", cwd=tutorial).stdout.decode()
    assert out.splitlines()[0] == "    1  BL101  invocation-failure-kills-runtime"
    assert len(out.splitlines()) == 6


def test_zip_member_paths_in_every_format(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "function.zip", "w") as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr, info.create_system = 0o100755 << 16, 3
        archive.writestr(info, TUTORIAL)
    for fmt, needle in (("concise", b"function.zip!bootstrap:17:14: error"),
                        ("github", b"file=function.zip!bootstrap,line=17"),
                        ("sarif", b'"uri": "function.zip!bootstrap"'),
                        ("junit", b'name="function.zip!bootstrap"'),
                        ("gitlab", b'"path": "function.zip!bootstrap"')):
        assert needle in run_cli("check", "--format", fmt, "function.zip", cwd=tmp_path).stdout, fmt


@pytest.mark.subprocess
def test_full_and_colour_are_the_default_on_a_terminal(tutorial):
    import shutil
    import subprocess
    import sys

    if shutil.which("script") is None:
        pytest.skip("util-linux `script` is not installed")
    cmd = f"{sys.executable} -m bootlint check bootstrap"
    proc = subprocess.run(["script", "-qec", cmd, "/dev/null"], cwd=tutorial, capture_output=True,
                          timeout=60, env={k: v for k, v in __import__("os").environ.items() if k != "NO_COLOR"})
    out = proc.stdout.replace(b"\r\n", b"\n")
    assert b"\033[1;31merror[BL101]\033[0m" in out
    assert b"17 | " in out


def test_every_format_is_a_registered_module_with_one_render_signature():
    import importlib
    import inspect

    from bootlint.cli import check
    from bootlint.report.registry import FORMATS, REPORTERS

    [option] = [p for p in check.params if p.name == "output_format"]
    assert tuple(option.type.choices) == FORMATS == tuple(REPORTERS)
    for fmt, module in REPORTERS.items():
        render = importlib.import_module(module).render
        assert list(inspect.signature(render).parameters) == ["run"], fmt


def test_sarif_links_rule_pages_only_where_docs_url_says(tutorial):
    """The one documentation home is the settings' `docs-url`: `{code}` in it is replaced, else
    `/BLxxx.md` is added."""
    (tutorial / "bootlint.toml").write_text('docs-url = "https://docs.example.com/bootlint/rules/"\n')
    driver = json.loads(run_cli("check", "--format", "sarif", "bootstrap", cwd=tutorial).stdout)["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://docs.example.com/bootlint/rules/"
    assert {r["id"]: r["helpUri"] for r in driver["rules"]}["BL101"] == "https://docs.example.com/bootlint/rules/BL101.md"
    (tutorial / "bootlint.toml").write_text('docs-url = "https://example.org/lint?rule={code}"\n')
    driver = json.loads(run_cli("check", "--format", "sarif", "bootstrap", cwd=tutorial).stdout)["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://example.org/lint?rule="
    assert {r["id"]: r["helpUri"] for r in driver["rules"]}["BL101"] == "https://example.org/lint?rule=BL101"


def test_the_output_format_walkthrough_is_a_working_format(monkeypatch, tutorial):
    """The README's example format, registered as its walk-through says, renders through the
    registry as every format does."""
    import sys
    import types

    from bootlint.engine import Selection, lint_source
    from bootlint.files.source import SourceFile
    from bootlint.report import registry
    from bootlint.report.common import Run

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Adding an output format", 1)[1].split("\n### ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    code = "\n".join(line[3:] for line in code.split("\n"))   # the list item's indentation
    module = types.ModuleType("bootlint.report.counts")
    exec(compile(code, "README.md", "exec"), module.__dict__)
    entry = section.split('Add `"counts": "', 1)[1].split('"`', 1)[0]
    assert entry == "bootlint.report.counts"
    monkeypatch.setitem(sys.modules, entry, module)
    monkeypatch.setitem(registry.REPORTERS, "counts", entry)
    findings = lint_source(SourceFile.from_bytes("tutorial/bootstrap", (tutorial / "bootstrap").read_bytes()),
                           Selection()).findings
    run = Run(findings, ["clean/bootstrap", "tutorial/bootstrap"])
    assert registry.render("counts", run) == "clean/bootstrap: 0\ntutorial/bootstrap: 6\n"
