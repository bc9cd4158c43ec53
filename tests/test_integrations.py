"""The integrations, run for real: pre-commit, the GitHub Action's run step, `bootlint rule`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

TUTORIAL = (ROOT / "examples" / "tutorial" / "bootstrap").read_bytes()
FIXED = (ROOT / "examples" / "fixed" / "bootstrap").read_bytes()


def test_rule_prints_the_page():
    proc = run_cli("rule", "BL101")
    assert proc.returncode == 0
    assert proc.stdout.decode() == (ROOT / "rules" / "BL101.md").read_text(encoding="utf-8")
    assert run_cli("rule", "bl101").stdout == proc.stdout
    bad = run_cli("rule", "BL777")
    assert bad.returncode == 2 and b"unknown rule code 'BL777'" in bad.stderr


def test_rule_all_lists_every_rule():
    from bootlint.rules import all_rules

    lines = run_cli("rule", "--all").stdout.decode().splitlines()
    assert [line.split()[0] for line in lines] == sorted(all_rules())
    bl007 = next(line for line in lines if line.startswith("BL007"))
    assert "next-failure-unchecked" in bl007 and "warning" in bl007 and "off (opt-in)" in bl007
    data = json.loads(run_cli("rule", "--all", "--format", "json").stdout)
    assert data[0] == {"code": "BL001", "name": "missing-event-loop", "severity": "error", "default": "on",
                       "summary": all_rules()["BL001"].summary,
                       "url": None}   # no documentation home configured: the page is `bootlint rule BL001`


def test_rule_urls_follow_docs_url(tmp_path):
    (tmp_path / "bootlint.toml").write_text('docs-url = "https://docs.example.com/rules"\n')
    data = json.loads(run_cli("rule", "BL101", "--format", "json", cwd=tmp_path).stdout)
    assert data["url"] == "https://docs.example.com/rules/BL101.md"
    assert data["page"] == (ROOT / "rules" / "BL101.md").read_text(encoding="utf-8")
    (tmp_path / "bootlint.toml").write_text('docs-url = 3\n')   # unreadable: no link, still the page
    proc = run_cli("rule", "BL101", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0 and json.loads(proc.stdout)["url"] is None


def test_pre_commit_hooks_file():
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hooks == [{
        "id": "bootlint", "name": "bootlint",
        "description": "Lint AWS Lambda custom-runtime bootstrap files",
        "entry": "bootlint check", "language": "python",
        "files": r"(^|/)bootstrap(\.sh|\.py)?$", "types": ["file"], "require_serial": False}]
    import re
    pattern = re.compile(hooks[0]["files"])
    assert [p for p in ("bootstrap", "a/b/bootstrap.sh", "x/bootstrap.py", "bootstrap.js", "mybootstrap")
            if pattern.search(p)] == ["bootstrap", "a/b/bootstrap.sh", "x/bootstrap.py"]


def _head() -> str | None:
    proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_runs_the_hook_for_real(tmp_path):
    pytest.importorskip("pre_commit")
    head = _head()
    if head is None:
        pytest.skip("this checkout has no commit for pre-commit to install")
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid"}

    def run(*args):
        return subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=900)

    run("git", "init", "-q")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {ROOT}\n  rev: {head}\n  hooks:\n  - id: bootlint\n")
    (repo / "runtime").mkdir()
    (repo / "runtime" / "bootstrap").write_bytes(TUTORIAL)
    (repo / "runtime" / "bootstrap").chmod(0o755)
    run("git", "add", ".")
    failed = run(sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "runtime/bootstrap:17:14: error: the handler call runs under `set -euo pipefail`" in failed.stdout
    (repo / "runtime" / "bootstrap").write_bytes(FIXED)
    run("git", "add", ".")
    passed = run(sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    # The README's `args: [--fix]` variant: the hook fixes the file, and fails because it did, as
    # ruff's hook does (pre-commit sees the files modified); the next run passes.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "      - id: bootlint\n        args: [--fix]\n" in readme
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {ROOT}\n  rev: {head}\n  hooks:\n  - id: bootlint\n    args: [--fix]\n")
    (repo / "runtime" / "bootstrap").write_bytes(FIXED.replace(b"\n", b"\r\n"))
    run("git", "add", ".")
    fixed = run(sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "files were modified by this hook" in fixed.stdout
    assert "Fixed 1 problem." in fixed.stdout
    assert (repo / "runtime" / "bootstrap").read_bytes() == FIXED
    run("git", "add", ".")
    clean = run(sys.executable, "-m", "pre_commit", "run", "--all-files")
    assert clean.returncode == 0, clean.stdout + clean.stderr


@pytest.mark.subprocess
def test_github_action_run_step(tmp_path):
    yaml = pytest.importorskip("yaml")
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert set(action["inputs"]) == {"paths", "version", "args"}
    assert action["runs"]["using"] == "composite"
    step = next(s for s in action["runs"]["steps"] if s["name"] == "Run bootlint")
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "bootstrap").write_bytes(TUTORIAL)
    (tmp_path / "fn" / "bootstrap").chmod(0o755)
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
           "BOOTLINT_PATHS": "fn", "BOOTLINT_ARGS": "--select BL1 --output-file bootlint.sarif"}
    if shutil.which("bootlint", path=env["PATH"]) is None:
        pytest.skip("the bootlint command is not installed in this environment")
    proc = subprocess.run(["bash", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[1].startswith("::error file=fn/bootstrap,line=17,col=14,")
    assert json.loads((tmp_path / "bootlint.sarif").read_text())["version"] == "2.1.0"


def test_readme_vscode_problem_matcher_parses_concise_output(tmp_path):
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split('"problemMatcher": ', 1)[1]
    matcher = json.loads(block[:block.index("\n  }\n") + 4])
    pattern = re.compile(matcher["pattern"]["regexp"])
    (tmp_path / "bootstrap").write_bytes(TUTORIAL)
    (tmp_path / "bootstrap").chmod(0o755)
    lines = run_cli("check", "--format", "concise", "--quiet", "bootstrap", cwd=tmp_path).stdout.decode().splitlines()
    parsed = [pattern.match(line).groups() for line in lines]
    assert [(g[0], g[1], g[2], g[3], g[5]) for g in parsed][3] == ("bootstrap", "17", "14", "error", "BL101")
    assert len(parsed) == 6


@pytest.mark.skipif(shutil.which("vim") is None, reason="vim is not installed")
def test_readme_vim_errorformat_reads_concise_output(tmp_path):
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    efm = re.search(r"`:set errorformat=(.*?)`", readme).group(1).replace("\\ ", " ")
    (tmp_path / "bootstrap").write_bytes(TUTORIAL)
    (tmp_path / "bootstrap").chmod(0o755)
    report = run_cli("check", "--format", "concise", "bootstrap", cwd=tmp_path).stdout
    (tmp_path / "report.txt").write_bytes(report)
    script = tmp_path / "read.vim"
    script.write_text(
        f"let &errorformat = {json.dumps(efm)}\n"
        "cgetfile report.txt\n"
        "call writefile(map(filter(getqflist(), 'v:val.valid'), "
        "'bufname(v:val.bufnr) . \":\" . v:val.lnum . \":\" . v:val.col . \":\" . v:val.type'), 'qf.txt')\n"
        "qa!\n")
    subprocess.run(["vim", "-u", "NONE", "-N", "-es", "-S", str(script)], cwd=tmp_path, timeout=60,
                   capture_output=True)
    assert (tmp_path / "qf.txt").read_text().splitlines() == [
        "bootstrap:6:1:w", "bootstrap:11:14:w", "bootstrap:13:47:w", "bootstrap:17:14:e",
        "bootstrap:20:16:w", "bootstrap:20:103:w"]
