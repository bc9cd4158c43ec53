"""Issue 12's points that fixtures alone cannot show: severities, messages, the command line."""

from __future__ import annotations

from bootlint.engine import Selection, lint_source
from bootlint.source import SourceFile


def findings(text: str, path: str = "bootstrap", extend: tuple[str, ...] = ()):
    return lint_source(SourceFile.from_bytes(path, text.encode()), Selection((), (), extend)).findings


def test_a_relative_interpreter_is_a_warning_that_names_the_working_directory():
    [f] = [f for f in findings("#!./bin/picolisp\n(bye)\n") if f.code == "BL406"]
    assert f.severity.value == "warning"
    assert "working directory" in f.message and "/var/task" in f.message
    assert "`#!/var/task/bin/picolisp`" in f.message


def test_an_env_with_a_flag_stays_an_error():
    [f] = [f for f in findings("#!/usr/bin/env bash -e\nexec node /opt/x.js\n") if f.code == "BL406"]
    assert f.severity.value == "error"


def test_the_configured_severity_still_wins_over_the_case(tmp_path, cli):
    script = tmp_path / "bootstrap"
    script.write_text("#!./bin/picolisp\n(bye)\n")
    script.chmod(0o755)
    config = tmp_path / "bootlint.toml"
    config.write_text('[severity]\nBL406 = "error"\n')
    proc = cli("check", "--no-cache", "--format", "json", "--config", str(config), str(script))
    assert b'"severity": "error"' in proc.stdout, proc.stdout + proc.stderr


def test_a_walk_that_finds_nothing_says_so_on_stderr(tmp_path, cli):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "handler.sh").write_text("echo hi\n")
    proc = cli("check", "--no-cache", str(tmp_path / "src"))
    assert proc.returncode == 0
    assert proc.stderr.decode() == (
        f"bootlint: no bootstrap files found under {tmp_path / 'src'} (looked for files named "
        f"bootstrap, bootstrap.py, bootstrap.sh; excluded and git-ignored paths are skipped); "
        f"name a file to lint it under any name\n")
    quiet = cli("check", "--no-cache", "--quiet", str(tmp_path / "src"))
    assert quiet.returncode == 0 and quiet.stderr == b""


def test_a_walk_that_finds_a_bootstrap_says_nothing_on_stderr(tmp_path, cli):
    (tmp_path / "bootstrap").write_text("#!/bin/sh\nexec node /opt/index.js\n")
    (tmp_path / "bootstrap").chmod(0o755)
    proc = cli("check", "--no-cache", "--archives", str(tmp_path))
    assert proc.stderr == b"" and proc.returncode == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = cli("check", "--no-cache", "--archives", str(empty))
    assert b"bootstrap.sh and *.zip archives;" in proc.stderr


def test_other_languages_without_shebang_get_bl902_and_bl401_never_bl900():
    from conftest import FIXTURES

    for path in sorted((FIXTURES / "any" / "BL902").glob("fail-*")):
        found = findings(path.read_text(), extend=("BL902",))
        assert sorted(f.code for f in found) == ["BL401", "BL902"], (path.name, found)
        [info] = [f for f in found if f.code == "BL902"]
        assert "without shebang whose code reads as" in info.message


def test_python_without_shebang_is_linted_as_python_plus_bl401():
    text = ("import os, urllib.request\nAPI = os.environ['AWS_LAMBDA_RUNTIME_API']\n"
            "urllib.request.urlopen(f'http://{API}/2018-06-01/runtime/invocation/next')\n")
    codes = sorted(f.code for f in findings(text))
    assert codes == ["BL001", "BL201", "BL401"]
