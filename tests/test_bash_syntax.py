"""A tree-sitter-bash gap is not a syntax error: `bash -n` decides (BL905 or BL900), and without
bash the old BL900 stands. Each bash fact the code relies on is checked against real bash."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootlint.frontends.shell.syntax import parser
from conftest import FIXTURES, ROOT, lint_text

BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed: `bash -n` cannot be asked")

# Valid bash that tree-sitter-bash misreads.
GAPS = ['c="${1:$i:1}"', 'echo "${1: ${#1} < 8 ? 0 : -8}"', 'v=x]y; echo "${v%]*}"',
        'echo "${REQUEST_ID:$OFFSET}"', "echo ${v//'}'/x}", '[ "$c" = + ] && c=" "']

RUNTIME = """#!/bin/bash
set -e
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
tail8() { echo "${1: ${#1} < 8 ? 0 : -8}"; }
strip() { v="$1"; echo "${v%]*}"; }
while true; do
  EVENT=$(curl -sS "$API/invocation/next")
  OUT=$(./handler <<< "$EVENT")
  printf '%s' "$OUT" | curl -sS --data-binary @- "$API/invocation/$ID/response"
done
"""


def _bash_accepts(text: str) -> bool:
    return subprocess.run([BASH, "-n"], input=text.encode(), capture_output=True, timeout=5).returncode == 0


@needs_bash
@pytest.mark.parametrize("line", GAPS)
def test_each_gap_is_valid_bash_that_tree_sitter_misreads(line):
    assert _bash_accepts(line + "\n")
    assert parser().parse((line + "\n").encode()).root_node.has_error


@needs_bash
def test_a_gap_is_linted_around_when_bash_accepts_the_file():
    found = lint_text(RUNTIME, extend=("BL905",))
    # The gaps are regions; the rest of the file is linted: the trace id, the unguarded handler
    # under `set -e`, the missing /error.
    assert found == [("BL905", 4, 17), ("BL905", 5, 25), ("BL201", 7, 20), ("BL101", 8, 9),
                     ("BL102", 9, 50)]


@needs_bash
def test_the_gap_message_says_which_lines_and_why():
    from bootlint.engine import Selection, lint_source
    from bootlint.files.source import SourceFile

    result = lint_source(SourceFile.from_bytes("bootstrap", RUNTIME.encode()), Selection())
    messages = [f.message for f in result.findings if f.code == "BL905"]
    assert messages[0] == ("bootlint could not read line 4 (a gap in its shell parser; `bash -n` "
                           "accepts the file): findings there may be missing")


@needs_bash
def test_a_real_error_gets_bashs_own_message_and_line():
    text = "#!/bin/bash\nwhile true; do\n  echo )\ndone\n"
    from bootlint.engine import Selection, lint_source
    from bootlint.files.source import SourceFile

    result = lint_source(SourceFile.from_bytes("bootstrap", text.encode()), Selection())
    errors = [(f.code, f.span.line, f.message) for f in result.findings if f.code in ("BL900", "BL905")]
    assert errors == [("BL900", 3, "bash: syntax error near unexpected token `)'")]


@needs_bash
def test_bash_n_runs_nothing_and_ignores_bash_env(tmp_path):
    marker = tmp_path / "ran"
    env_file = tmp_path / "env.sh"
    env_file.write_text(f"touch {marker}\n")
    text = f"#!/bin/bash\ntouch {marker}\nc=\"${{1:$i:1}}\"\n"
    os.environ["BASH_ENV"] = str(env_file)
    try:
        found = lint_text(text, extend=("BL905",))
    finally:
        del os.environ["BASH_ENV"]
    assert found == [("BL905", 3, 4)]
    assert not marker.exists()


def test_without_bash_on_path_tree_sitters_errors_are_bl900(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))   # an empty folder: no bash
    found = lint_text(RUNTIME, extend=("BL905",))
    assert [f[0] for f in found] == ["BL900"] * len(found) and ("BL900", 4, 28) in found


def test_without_bash_through_the_cli(tmp_path, cli):
    script = tmp_path / "bootstrap"
    script.write_text("#!/bin/bash\nc=\"${1:$i:1}\"\n")
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = cli("check", "--no-cache", "--format", "concise", str(script), env={"PATH": str(empty)})
    assert b"BL900" in proc.stdout and b"BL905" not in proc.stdout
    if BASH is not None:
        proc = cli("check", "--no-cache", "--format", "concise", str(script))
        assert b"BL905" not in proc.stdout or b"BL900" not in proc.stdout
        assert b"BL900" not in proc.stdout


def _corpus():
    for path in sorted(FIXTURES.glob("*/BL*/*")):
        if path.suffix != ".py" and b"python" not in path.read_bytes()[:40]:
            yield path
    for page in sorted((ROOT / "rules").glob("BL*.md")):
        text = page.read_text(encoding="utf-8")
        for i, block in enumerate(text.split("```sh ")[1:]):
            yield (page.stem + f"-{i}", block.split("\n", 1)[1].split("```", 1)[0])


@needs_bash
def test_no_file_bash_accepts_gets_bl900_in_the_corpus():
    # Every shell file of the corpus is linted; each BL900 must be one bash rejects too.
    checked = 0
    for item in _corpus():
        name, text = (item.name, item.read_text(encoding="utf-8", errors="replace")) \
            if not isinstance(item, tuple) else item
        if not text.startswith("#!"):
            continue
        checked += 1
        if [f for f in lint_text(text) if f[0] == "BL900"]:
            assert not _bash_accepts(text), name
    assert checked > 150


STATEMENTS = st.sampled_from([
    "echo ok", 'x="${1:-a}"', *GAPS, "while true; do", "done", "if true; then", "fi", "f() {", "}",
    'case "$x" in a) echo a ;; esac', "echo )", 'echo "${v%%.*}"', "(( i++ ))", "for i in 1 2; do",
    'curl -sS "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next"',
])


@needs_bash
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STATEMENTS, min_size=1, max_size=8))
def test_property_what_bash_accepts_never_gets_bl900(lines):
    text = "#!/bin/bash\n" + "\n".join(lines) + "\n"
    codes = [f[0] for f in lint_text(text)]
    if _bash_accepts(text):
        assert "BL900" not in codes
    else:
        assert "BL905" not in codes
