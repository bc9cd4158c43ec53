"""The command line as a user runs it: output bytes, exit codes, paths, options."""

from __future__ import annotations

import json
import os

import pytest

from conftest import ROOT, run_cli, run_process

TUTORIAL = ROOT / "examples" / "tutorial" / "bootstrap"


def executable(path, data: bytes) -> None:
    """Write a bootstrap the way it is deployed: with its execute bit."""
    path.write_bytes(data)
    path.chmod(0o755)


def test_concise_output_and_exit_code(tmp_path):
    executable(tmp_path / "bootstrap", TUTORIAL.read_bytes())
    proc = run_cli("check", "bootstrap", cwd=tmp_path)
    lines = proc.stdout.decode().splitlines()
    assert proc.returncode == 1
    assert [line.split(": ")[0] for line in lines[:-2]] == [
        "bootstrap:6:1", "bootstrap:11:14", "bootstrap:13:47", "bootstrap:17:14", "bootstrap:20:16",
        "bootstrap:20:103"]
    assert lines[1].startswith("bootstrap:11:14: warning: `mktemp` makes a temp file")
    assert lines[1].endswith("[BL301]")   # its fix is unsafe: no [*] without --unsafe-fixes
    assert lines[-2] == "Found 6 problems (1 error, 5 warnings) in 1 file."
    assert lines[-1] == "[*] 5 fixable with `--fix --unsafe-fixes`."
    assert proc.stderr == b""


def test_quiet_drops_summary_and_clean_file_exits_zero(tmp_path):
    executable(tmp_path / "bootstrap", (ROOT / "examples" / "fixed" / "bootstrap").read_bytes())
    proc = run_cli("check", "--quiet", str(tmp_path / "bootstrap"))
    assert proc.returncode == 0
    assert proc.stdout == b""
    proc = run_cli("check", str(tmp_path / "bootstrap"))
    assert proc.stdout == b"No problems found in 1 file.\n"


def test_json_format(tmp_path):
    executable(tmp_path / "bootstrap", TUTORIAL.read_bytes())
    proc = run_cli("check", "--format", "json", "bootstrap", cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert [(d["code"], d["line"], d["column"]) for d in data] == [
        ("BL103", 6, 1), ("BL301", 11, 14), ("BL201", 13, 47), ("BL101", 17, 14), ("BL102", 20, 16),
        ("BL302", 20, 103)]
    first = data[0]
    assert set(first) == {"code", "name", "severity", "message", "path", "line", "column",
                          "end_line", "end_column", "fix"}
    assert first["fix"] is None   # BL103 has no fix
    assert first["name"] == "init-error-unreported" and first["severity"] == "warning"
    assert first["path"] == "bootstrap"
    assert (first["end_line"], first["end_column"]) == (6, 62)


def test_folder_walk_finds_bootstraps_and_skips_venvs(tmp_path):
    for rel in ("a/bootstrap", "b/bootstrap.sh", "node_modules/x/bootstrap", ".git/bootstrap",
                "venv1/bootstrap", "c/other.sh"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        executable(path, TUTORIAL.read_bytes())
    (tmp_path / "venv1" / "pyvenv.cfg").write_text("home = /usr\n")
    proc = run_cli("check", "--format", "json", cwd=tmp_path)
    paths = sorted({d["path"] for d in json.loads(proc.stdout)})
    assert paths == ["a/bootstrap", "b/bootstrap.sh"]


def test_select_ignore_and_unknown_code(tmp_path):
    executable(tmp_path / "bootstrap", TUTORIAL.read_bytes())
    proc = run_cli("check", "--format", "json", "--select", "BL1", "--ignore", "BL103", "bootstrap",
                   cwd=tmp_path)
    assert [d["code"] for d in json.loads(proc.stdout)] == ["BL101", "BL102"]
    proc = run_cli("check", "--select", "BL777", "bootstrap", cwd=tmp_path)
    assert proc.returncode == 2
    assert b"unknown rule code 'BL777'" in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_missing_and_unreadable_paths_exit_2_and_others_still_linted(tmp_path):
    executable(tmp_path / "bootstrap", TUTORIAL.read_bytes())
    secret = tmp_path / "secret"
    secret.write_text("#!/bin/sh\n")
    secret.chmod(0)
    proc = run_cli("check", "--quiet", "nope", "bootstrap", "secret", cwd=tmp_path)
    assert proc.returncode == 2
    assert b"nope: error: cannot read: no such file or folder" in proc.stderr
    if os.geteuid() != 0:  # root reads anything
        assert b"secret: error: cannot read: Permission denied" in proc.stderr
    assert proc.stdout.count(b"\n") == 6


@pytest.mark.subprocess
def test_version_and_python_m():
    proc = run_process("--version")
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("bootlint ")


def test_unsupported_and_binary(tmp_path):
    (tmp_path / "node").write_text("#!/usr/bin/env node\nconsole.log(1)\n")
    (tmp_path / "bin").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 64)
    proc = run_cli("check", "--format", "json", "node", "bin", cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert [(d["path"], d["code"], d["severity"]) for d in data] == [
        ("bin", "BL902", "info"), ("node", "BL902", "info")]
    assert proc.returncode == 0  # info only


@pytest.mark.subprocess
def test_shell_run_does_not_import_libcst(tmp_path):
    executable(tmp_path / "bootstrap", TUTORIAL.read_bytes())
    code = ("import sys\nfrom bootlint.cli import main\n"
            "try:\n    main(['check', '--quiet', 'bootstrap'])\nexcept SystemExit:\n    pass\n"
            "print('libcst' in sys.modules)\n")
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True)
    assert proc.stdout.decode().strip().splitlines()[-1] == "False"


def test_python_bootstrap_imports_libcst_and_reports(tmp_path):
    executable(tmp_path / "bootstrap", (
        "#!/usr/bin/env -S python3 -u\nimport os, urllib.request\n"
        "urllib.request.urlopen('http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2018-06-01/runtime/invocation/next')\n"
    ).encode())
    proc = run_cli("check", "--format", "json", "bootstrap", cwd=tmp_path)
    assert [(d["code"], d["line"], d["column"]) for d in json.loads(proc.stdout)] == [
        ("BL001", 3, 24), ("BL201", 3, 24)]


def test_python_shebangs_are_detected():
    from bootlint.frontends.registry import detect
    from bootlint.files.source import SourceFile

    for line in ("#!/usr/bin/env python3", "#!/usr/bin/python3.12", "#!/opt/pypy/bin/pypy",
                 "#!/usr/bin/env pypy3", "#!/usr/bin/env -S python3 -u", "#!/usr/bin/python"):
        assert detect(SourceFile.from_bytes("bootstrap", (line + "\n").encode())).language == "python", line
    assert detect(SourceFile.from_bytes("x/bootstrap.py", b"import os\n")).language == "python"
    assert detect(SourceFile.from_bytes("bootstrap", b"#!/usr/bin/env node\n")).language == "node"


def test_python_syntax_error_gets_bl900_only(tmp_path):
    (tmp_path / "bootstrap.py").write_text("while True\n    pass\n")
    proc = run_cli("check", "--format", "json", "bootstrap.py", cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert [(d["code"], d["line"], d["column"]) for d in data] == [("BL900", 1, 11)]
    assert "Python 3." in data[0]["message"] and "expected ':'" in data[0]["message"]


def test_a_crashing_rule_is_bl999_exit_3_and_the_rest_still_reported(tmp_path, monkeypatch):
    from dataclasses import replace

    from click.testing import CliRunner

    from bootlint.cli import main
    from bootlint.rules import RULES, all_rules

    def boom(subject):
        raise RuntimeError("kaboom")

    all_rules()
    monkeypatch.setitem(RULES, "BL201", replace(RULES["BL201"], check=boom))
    all_rules.cache_clear()
    try:
        (tmp_path / "a").write_bytes(TUTORIAL.read_bytes())
        (tmp_path / "b").write_bytes(TUTORIAL.read_bytes())
        result = CliRunner().invoke(main, ["check", "--format", "json", str(tmp_path / "a"),
                                           str(tmp_path / "b")])
    finally:
        monkeypatch.undo()
        all_rules.cache_clear()
    data = json.loads(result.output)
    assert result.exit_code == 3
    for name in ("a", "b"):
        codes = [d["code"] for d in data if d["path"].endswith(name)]
        assert codes == ["BL999", "BL103", "BL301", "BL101", "BL102", "BL302"]
    crash = next(d for d in data if d["code"] == "BL999")
    assert "rule BL201 (trace-id-not-propagated)" in crash["message"]
    assert "RuntimeError: kaboom" in crash["message"]
