"""The fix engine and the commands that apply fixes: positions mapped back to bytes (BOM, CR LF,
non-ASCII), rounds, atomic writes, --fix / --unsafe-fixes / --diff, standard input, archives,
and how every reporter shows a fix."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import zipfile

import pytest

from bootlint.fixes.packaging import executable_mode
from bootlint.fixes.textmap import RawMap
from bootlint.fixes.apply import (FixError, apply_round, fix_source,
                              unified_diff, write_atomic)
from bootlint.engine import FileResult, Selection, lint_source
from bootlint.diagnostics import Applicability, Edit, Finding, Fix, Severity, Span
from bootlint.files.source import SourceFile
from conftest import ROOT, run_cli, run_process

SHEBANG_ENV = b"#!/usr/bin/env bash -e\necho hi\n"


def finding(fix: Fix, line: int = 1) -> Finding:
    return Finding("BL999", "x", Severity.ERROR, "m", "bootstrap", Span(line, 1, line, 1), fix=fix)


def edit(line, col, end_line, end_col, text) -> Edit:
    return Edit(Span(line, col, end_line, end_col), text)


# -- positions -------------------------------------------------------------------------------------

def test_text_positions_map_to_bytes_past_bom_crlf_and_wide_characters():
    raw = "\ufeff#!/bin/sh\r\n# 日本語 x\r\necho é z\r\n".encode("utf-8")
    bm = RawMap(raw)
    assert bm.offset(1, 1) == 3                      # after the BOM
    assert raw[bm.offset(2, 7):bm.offset(2, 8)] == b"x"   # three 3-byte characters before it
    assert raw[bm.offset(3, 8):bm.offset(3, 9)] == b"z"
    assert bm.offset(1, 11) == raw.index(b"\r\n")   # the end of line 1 is before its CR
    assert bm.offset(4, 1) == len(raw)
    assert bm.newline == "\r\n"


def test_an_edit_lands_where_the_span_says_in_a_crlf_file_with_japanese():
    raw = "#!/bin/sh\r\n# 日本語\r\ncurl -d x\r\n".encode("utf-8")
    fix = Fix("t", (edit(3, 6, 3, 8, "--data-binary"), edit(2, 3, 2, 3, "a\n")))
    new, _, applied = apply_round(raw, [finding(fix)], unsafe=False)
    assert applied == 1
    # The inserted newline follows the file's CR LF.
    assert new == "#!/bin/sh\r\n# a\r\n日本語\r\ncurl --data-binary x\r\n".encode("utf-8")


def test_text_edits_are_refused_on_a_file_that_is_not_utf8():
    raw = b"#!/bin/sh\n\xff\xfe x\n"
    fix = Fix("t", (edit(2, 4, 2, 5, "y"),))
    assert apply_round(raw, [finding(fix)], unsafe=False) == (raw, None, 0)


# -- rounds and applicability ------------------------------------------------------------------

def test_overlapping_fixes_wait_for_the_next_round_and_unsafe_ones_for_the_flag():
    raw = b"abcdef\n"
    first = Fix("1", (edit(1, 1, 1, 4, "X"),))
    overlapping = Fix("2", (edit(1, 3, 1, 5, "Y"),))
    unsafe = Fix("3", (edit(1, 6, 1, 7, "Z"),), Applicability.UNSAFE)
    found = [finding(first), finding(overlapping), finding(unsafe)]
    assert apply_round(raw, found, unsafe=False) == (b"Xdef\n", None, 1)
    assert apply_round(raw, found, unsafe=True) == (b"XdeZ\n", None, 2)


def test_edits_of_one_fix_that_overlap_are_not_applied():
    fix = Fix("bad", (edit(1, 1, 1, 3, "X"), edit(1, 2, 1, 4, "Y")))
    assert apply_round(b"abcdef\n", [finding(fix)], unsafe=True)[2] == 0


def test_rounds_relint_between_and_stop_after_ten():
    calls = []

    def lint(src):  # every round's fix removes its finding and brings another: the cap ends it
        calls.append(src.raw)
        end = len(src.text.split("\n")[0]) + 1
        f = finding(Fix("more", (edit(1, end, 1, end, "x"),)))
        f = Finding(f"BL{end:03d}", "x", Severity.ERROR, "m", "bootstrap", f.span, fix=f.fix)
        return FileResult(src.path, [f])

    out = fix_source(SourceFile.from_bytes("bootstrap", b"a\n"), lint, unsafe=False)
    assert out.rounds == 10 and out.fixed == 10 and out.raw == b"a" + b"x" * 10 + b"\n"
    assert len(calls) == 11 and out.stuck == []


def test_a_fix_that_leaves_its_finding_is_dropped_and_ends_the_fixing():
    def lint(src):  # the fix appends, but the finding stays (a fix landing in the wrong place)
        end = len(src.text.split("\n")[0]) + 1
        return FileResult(src.path, [finding(Fix("more", (edit(1, end, 1, end, "x"),)))])

    out = fix_source(SourceFile.from_bytes("bootstrap", b"a\n"), lint, unsafe=False)
    assert (out.raw, out.rounds, out.fixed) == (b"a\n", 0, 0)
    assert [f.code for f in out.stuck] == ["BL999"]


def test_fixes_that_undo_each_other_stop():
    def lint(src):
        to = "b" if src.raw.startswith(b"a") else "a"
        code = "BL001" if to == "b" else "BL002"
        f = finding(Fix("flip", (edit(1, 1, 1, 2, to),)))
        return FileResult(src.path, [Finding(code, "x", Severity.ERROR, "m", "bootstrap", f.span, fix=f.fix)])

    out = fix_source(SourceFile.from_bytes("bootstrap", b"a\n"), lint, unsafe=False)
    assert out.rounds == 2 and out.raw == b"a\n"


def test_executable_mode_adds_x_where_r_is():
    assert executable_mode(0o100644) == 0o100755
    assert executable_mode(0o100600) == 0o100700
    assert executable_mode(0o100640) == 0o100750
    assert executable_mode(0o100200) == 0o100300


def test_diff_shows_a_mode_change_as_git_does():
    text = unified_diff("fn/bootstrap", b"a\n", b"a\n", 0o100644, 0o100755)
    assert text == "diff --git a/fn/bootstrap b/fn/bootstrap\nold mode 100644\nnew mode 100755\n"
    assert unified_diff("b", b"x", b"y") == "--- a/b\n+++ b/b\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n"


# -- writing -----------------------------------------------------------------------------------------

def test_write_is_atomic_keeps_the_mode_and_never_follows_a_link(tmp_path):
    target = tmp_path / "real"
    target.write_bytes(b"old\n")
    target.chmod(0o750)
    write_atomic(str(target), b"old\n", b"new\n")
    assert target.read_bytes() == b"new\n" and stat.S_IMODE(target.stat().st_mode) == 0o750
    link = tmp_path / "bootstrap"
    link.symlink_to("real")
    with pytest.raises(FixError, match="symbolic link"):
        write_atomic(str(link), b"new\n", b"newer\n")
    assert link.is_symlink() and target.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bootstrap", "real"]   # no temp file left


def test_a_file_changed_since_it_was_read_is_not_touched(tmp_path):
    path = tmp_path / "bootstrap"
    path.write_bytes(b"edited in the editor meanwhile\n")
    with pytest.raises(FixError, match="changed since bootlint read it"):
        write_atomic(str(path), b"what bootlint read\n", b"fixed\n")
    assert path.read_bytes() == b"edited in the editor meanwhile\n"
    assert [p.name for p in tmp_path.iterdir()] == ["bootstrap"]


# -- the command line ----------------------------------------------------------------------------------

def _file(tmp_path, data: bytes, mode: int = 0o755, name: str = "bootstrap"):
    path = tmp_path / name
    path.write_bytes(data)
    path.chmod(mode)
    return path


def test_fix_writes_safe_fixes_keeps_the_mode_and_reports_what_is_left(tmp_path):
    path = _file(tmp_path, b"\xef\xbb\xbf" + SHEBANG_ENV.replace(b"\n", b"\r\n"), 0o750)
    proc = run_cli("check", "--format", "concise", "--fix", "bootstrap", cwd=tmp_path)
    assert path.read_bytes() == b"#!/usr/bin/env -S bash -e\necho hi\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert proc.stdout.decode() == "Fixed 3 problems.\nNo problems found in 1 file.\n"
    assert proc.returncode == 0
    again = run_cli("check", "--fix", "--format", "concise", "bootstrap", cwd=tmp_path)
    assert again.stdout.decode() == "No problems found in 1 file.\n"


def test_fix_makes_the_file_executable_on_disk(tmp_path):
    path = _file(tmp_path, SHEBANG_ENV.replace(b"env bash", b"env -S bash"), 0o640)
    proc = run_cli("check", "--format", "concise", "bootstrap", cwd=tmp_path)
    assert proc.stdout.decode().splitlines()[0].endswith("`chmod +x bootstrap` [BL403] [*]")
    diff = run_cli("check", "--diff", "bootstrap", cwd=tmp_path)
    assert diff.returncode == 1
    assert diff.stdout.decode() == "diff --git a/bootstrap b/bootstrap\nold mode 100640\nnew mode 100750\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    run_cli("check", "--fix", "bootstrap", cwd=tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o750


@pytest.mark.subprocess   # a run per process: the git index is read once per process
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_git_index_mode_gets_the_exact_command_and_no_fix(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "my fn").mkdir()
    path = _file(tmp_path / "my fn", SHEBANG_ENV.replace(b"env bash", b"env -S bash"), 0o755)
    git("add", ".")
    git("update-index", "--chmod=-x", "my fn/bootstrap")
    data = json.loads(run_process("check", "--format", "json", "my fn/bootstrap", cwd=tmp_path).stdout)
    assert [(d["code"], d["fix"]) for d in data] == [("BL403", None)]
    assert data[0]["message"].endswith("run `git update-index --chmod=+x 'my fn/bootstrap'` "
                                       "(bootlint does not change the index)")
    before = path.read_bytes()
    assert run_process("check", "--fix", "my fn/bootstrap", cwd=tmp_path).returncode == 1
    assert path.read_bytes() == before
    # The command in the message is the fix.
    subprocess.run(["bash", "-c", "git update-index --chmod=+x 'my fn/bootstrap'"], cwd=tmp_path,
                   check=True, timeout=30)
    assert run_process("check", "my fn/bootstrap", cwd=tmp_path).returncode == 0


def test_diff_writes_nothing_and_exits_1_only_when_there_is_a_diff(tmp_path):
    path = _file(tmp_path, SHEBANG_ENV)
    proc = run_cli("check", "--diff", "bootstrap", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.decode() == ("--- a/bootstrap\n+++ b/bootstrap\n@@ -1,2 +1,2 @@\n"
                                    "-#!/usr/bin/env bash -e\n+#!/usr/bin/env -S bash -e\n echo hi\n")
    assert proc.stderr.decode() == "Would fix 1 problem in 1 file.\n"
    assert path.read_bytes() == SHEBANG_ENV
    clean = _file(tmp_path, b"#!/bin/sh\necho hi\n", name="other")
    proc = run_cli("check", "--diff", "other", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"No fixes to apply.\n")
    assert clean.read_bytes() == b"#!/bin/sh\necho hi\n"


def test_stdin_with_fix_prints_the_fixed_text_and_reports_on_stderr(tmp_path):
    proc = run_cli("check", "--fix", "--format", "concise", "-", stdin=SHEBANG_ENV.replace(b"\n", b"\r\n"),
                   cwd=tmp_path)
    assert proc.stdout == b"#!/usr/bin/env -S bash -e\necho hi\n"
    assert proc.stderr.decode() == "Fixed 2 problems.\nNo problems found in 1 file.\n"
    assert proc.returncode == 0
    unchanged = run_cli("check", "--fix", "-", stdin=b"#!/bin/sh\necho hi\n", cwd=tmp_path)
    assert unchanged.stdout == b"#!/bin/sh\necho hi\n"
    diff = run_cli("check", "--diff", "--stdin-filename", "fn/bootstrap", stdin=SHEBANG_ENV, cwd=tmp_path)
    assert diff.returncode == 1 and diff.stdout.startswith(b"--- a/fn/bootstrap\n+++ b/fn/bootstrap\n")


def test_zip_members_are_never_rewritten(tmp_path):
    archive = tmp_path / "function.zip"
    with zipfile.ZipFile(archive, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.create_system, info.external_attr = 3, 0o755 << 16
        z.writestr(info, SHEBANG_ENV.replace(b"\n", b"\r\n"))
    before = archive.read_bytes()
    proc = run_cli("check", "--fix", "--format", "json", "function.zip", cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert [(d["code"], d["fix"]) for d in data] == [("BL402", None), ("BL406", None)]
    assert all(d["message"].endswith("(fixable: make the fix in the source file and rebuild the "
                                     "archive; bootlint does not rewrite archives)") for d in data)
    assert archive.read_bytes() == before and proc.returncode == 1


# -- how reporters show fixes -------------------------------------------------------------------------

def test_every_reporter_shows_the_fix(tmp_path):
    _file(tmp_path, SHEBANG_ENV.replace(b"\n", b"\r\n"))
    # One run writes every format (--output-file), as CI does.
    concise = run_cli("check", "--format", "concise", "--output-file", "full:full.txt", "--output-file",
                      "json:out.json", "--output-file", "json-lines:out.jsonl", "--output-file",
                      "sarif:out.sarif", "bootstrap", cwd=tmp_path).stdout.decode().splitlines()
    assert [line[-11:] for line in concise[:2]] == ["[BL402] [*]", "[BL406] [*]"]
    assert concise[2:] == ["Found 2 problems (2 errors) in 1 file.", "[*] 2 fixable with `--fix`."]
    full = (tmp_path / "full.txt").read_text(encoding="utf-8")
    assert "bootstrap:1:1: error[BL406] [*] `#!/usr/bin/env bash -e` gives env" in full
    assert "  = fix (safe fix: `--fix`): add `-S` so that env splits the interpreter from its options" in full
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert data[0]["fix"] == {"title": "convert CR LF line endings to LF", "applicability": "safe",
                              "edits": [], "byte_edits": [{"start": 22, "end": 23, "data_hex": ""},
                                                          {"start": 31, "end": 32, "data_hex": ""}],
                              "mode": None}
    assert data[1]["fix"]["edits"] == [{"line": 1, "column": 16, "end_line": 1, "end_column": 16,
                                        "text": "-S "}]
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["fix"] for line in lines] == [d["fix"] for d in data]
    sarif = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    results = sarif["runs"][0]["results"]
    assert results[1]["fixes"] == [{
        "description": {"text": "add `-S` so that env splits the interpreter from its options"},
        "artifactChanges": [{"artifactLocation": {"uri": "bootstrap"}, "replacements": [{
            "deletedRegion": {"startLine": 1, "startColumn": 16, "endLine": 1, "endColumn": 16},
            "insertedContent": {"text": "-S "}}]}],
        "properties": {"applicability": "safe"}}]
    assert results[0]["fixes"][0]["artifactChanges"][0]["replacements"][0] == {
        "deletedRegion": {"byteOffset": 22, "byteLength": 1}}
    schema = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
    jsonschema = pytest.importorskip("jsonschema")
    if schema.exists():
        jsonschema.validate(sarif, json.loads(schema.read_text()))


def test_the_summary_says_which_flag_fixes_what():
    from bootlint.report.concise import summary

    def f(applicability):
        return finding(Fix("t", (edit(1, 1, 1, 1, "x"),), applicability))

    safe, unsafe = f(Applicability.SAFE), f(Applicability.UNSAFE)
    plain = Finding("BL001", "x", Severity.WARNING, "m", "b", Span(1, 1, 1, 1))
    assert summary([safe, unsafe, unsafe, plain], 1).splitlines()[1:] == [
        "[*] 1 fixable with `--fix`, 2 more with `--fix --unsafe-fixes`."]
    assert summary([unsafe], 1).splitlines()[1:] == ["[*] 1 fixable with `--fix --unsafe-fixes`."]
    assert summary([plain], 1, fixed=2).splitlines() == [
        "Fixed 2 problems.", "Found 1 problem (1 warning) in 1 file."]


def test_the_cache_keeps_fixes(tmp_path):
    _file(tmp_path, SHEBANG_ENV)
    cold = run_cli("check", "--format", "json", "bootstrap", cwd=tmp_path).stdout
    assert (tmp_path / ".bootlint_cache").is_dir()
    warm = run_cli("check", "--format", "json", "bootstrap", cwd=tmp_path).stdout
    assert warm == cold and json.loads(warm)[0]["fix"]["edits"][0]["text"] == "-S "


def test_every_fix_together_on_a_crlf_bom_japanese_file_without_its_mode(tmp_path):
    """The tutorial without its loop, saved on Windows (BOM, CR LF), with a Japanese comment and
    mode 0644: byte fixes, text fixes and the mode meet in rounds and give the same program as
    the clean file does."""
    text = (ROOT / "examples" / "tutorial-no-loop" / "bootstrap").read_bytes()
    japanese = text.replace(b"# Get an event", "# イベントを取得".encode("utf-8"))
    path = _file(tmp_path, b"\xef\xbb\xbf" + japanese.replace(b"\n", b"\r\n"), 0o644)
    proc = run_cli("check", "--fix", "--unsafe-fixes", "--format", "concise", "bootstrap", cwd=tmp_path)
    assert proc.stdout.decode().splitlines()[-2:] == ["Fixed 8 problems.", "Found 1 problem (1 warning) in 1 file."]
    assert stat.S_IMODE(path.stat().st_mode) == 0o755
    clean = _file(tmp_path, japanese, 0o755, name="clean")
    run_cli("check", "--fix", "--unsafe-fixes", "clean", cwd=tmp_path)
    assert path.read_bytes() == clean.read_bytes()
    assert b"\r" not in path.read_bytes() and "# イベントを取得".encode("utf-8") in path.read_bytes()


def test_a_fix_builder_that_fails_costs_the_fix_not_the_finding(monkeypatch):
    from bootlint.frontends.shell.fixes import ShellFixes

    def broken(self, *args):
        raise ValueError("a bug in a fix builder")

    monkeypatch.setattr(ShellFixes, "data_binary", broken)
    monkeypatch.setenv("BOOTLINT_FIX_ERRORS", "")
    text = (ROOT / "tests" / "fixtures" / "shell" / "BL303" / "fail-data-file.sh").read_bytes()
    result = lint_source(SourceFile.from_bytes("bootstrap", text), Selection())
    assert [(f.code, f.fix) for f in result.findings if f.code in ("BL303", "BL999")] == [("BL303", None)]
    monkeypatch.setenv("BOOTLINT_FIX_ERRORS", "raise")
    result = lint_source(SourceFile.from_bytes("bootstrap", text), Selection())
    assert "BL999" in [f.code for f in result.findings]
