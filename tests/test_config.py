"""Configuration files, their discovery and precedence, and their errors (exit code 2)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import ROOT, run_cli

TUTORIAL = (ROOT / "examples" / "tutorial" / "bootstrap").read_bytes()


def codes(proc) -> list[str]:
    return [d["code"] for d in json.loads(proc.stdout)]


@pytest.fixture
def project(tmp_path):
    (tmp_path / ".git").mkdir()  # a repository root: discovery stops here
    app = tmp_path / "app"
    app.mkdir()
    (app / "bootstrap").write_bytes(TUTORIAL)
    (app / "bootstrap").chmod(0o755)
    return tmp_path


def test_pyproject_table_found_walking_up(project):
    (project / "pyproject.toml").write_text('[tool.bootlint]\nignore = ["BL3", "BL201"]\n')
    proc = run_cli("check", "--format", "json", "bootstrap", cwd=project / "app")
    assert codes(proc) == ["BL103", "BL101", "BL102"]


def test_bootlint_toml_wins_over_pyproject_in_the_same_folder(project):
    (project / "pyproject.toml").write_text('[tool.bootlint]\nignore = ["BL3"]\n')
    (project / "bootlint.toml").write_text('select = ["BL101"]\n')
    assert codes(run_cli("check", "--format", "json", "app", cwd=project)) == ["BL101"]


def test_discovery_stops_at_the_repository_root(project):
    (project.parent / "bootlint.toml").write_text('select = ["BL101"]\n')
    try:
        assert len(codes(run_cli("check", "--format", "json", "app", cwd=project))) == 6
    finally:
        (project.parent / "bootlint.toml").unlink()


def test_config_option_isolated_and_cli_override(project):
    (project / "custom.toml").write_text('select = ["BL1"]\nextend-select = ["BL007"]\n')
    proc = run_cli("check", "--format", "json", "--config", "custom.toml", "app", cwd=project)
    assert codes(proc) == ["BL103", "BL007", "BL101", "BL102"]
    proc = run_cli("check", "--format", "json", "--config", "custom.toml", "--select", "BL301", "app", cwd=project)
    assert codes(proc) == ["BL301", "BL007"]
    (project / ".bootlint.toml").write_text('select = ["BL101"]\n')
    assert len(codes(run_cli("check", "--format", "json", "--isolated", "app", cwd=project))) == 6


def test_per_file_ignores_severity_and_fail_on(project):
    (project / "bootlint.toml").write_text(
        '[per-file-ignores]\n"app/*" = ["BL1"]\n\n[severity]\nBL302 = "info"\nBL201 = "error"\n')
    proc = run_cli("check", "--format", "json", "app", cwd=project)
    data = json.loads(proc.stdout)
    assert [(d["code"], d["severity"]) for d in data] == [
        ("BL301", "warning"), ("BL201", "error"), ("BL302", "info")]
    (project / "bootlint.toml").write_text('select = ["BL302"]\nfail-on = "error"\n')
    assert run_cli("check", "app", cwd=project).returncode == 0      # a warning does not fail
    assert run_cli("check", "--fail-on", "warning", "app", cwd=project).returncode == 1
    assert run_cli("check", "--exit-zero", "--fail-on", "info", "app", cwd=project).returncode == 0


def test_exclude_and_extend_exclude(project):
    (project / "vendor").mkdir()
    (project / "vendor" / "bootstrap").write_bytes(TUTORIAL)
    (project / "bootlint.toml").write_text('extend-exclude = ["vendor"]\nselect = ["BL101"]\n')
    proc = run_cli("check", "--format", "json", ".", cwd=project)
    assert [d["path"] for d in json.loads(proc.stdout)] == ["app/bootstrap"]
    # A file named on the command line is linted even when excluded.
    proc = run_cli("check", "--format", "json", "vendor/bootstrap", cwd=project)
    assert [d["path"] for d in json.loads(proc.stdout)] == ["vendor/bootstrap"]


def test_extend_include_adds_files_to_folder_walks(project):
    (project / "runtimes").mkdir()
    (project / "runtimes" / "prod.bash").write_bytes(TUTORIAL)
    (project / "runtimes" / "notes.txt").write_bytes(TUTORIAL)
    (project / "node_modules").mkdir()
    (project / "node_modules" / "x.bash").write_bytes(TUTORIAL)
    (project / "bootlint.toml").write_text('extend-include = ["*.bash"]\nselect = ["BL101"]\n')
    proc = run_cli("check", "--format", "json", ".", cwd=project)
    # The pattern adds files; the bootstrap names and the exclusions still apply.
    assert sorted(d["path"] for d in json.loads(proc.stdout)) == ["app/bootstrap", "runtimes/prod.bash"]
    (project / "bootlint.toml").write_text('extend-include = ["runtimes/*"]\nselect = ["BL101"]\n')
    proc = run_cli("check", "--format", "json", ".", cwd=project)
    assert sorted(d["path"] for d in json.loads(proc.stdout)) == \
        ["app/bootstrap", "runtimes/notes.txt", "runtimes/prod.bash"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_respect_gitignore(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    for folder in ("app", "build"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "bootstrap").write_bytes(TUTORIAL)
    (tmp_path / ".gitignore").write_text("build/\n")
    args = ("check", "--format", "json", "--select", "BL101", ".")
    assert [d["path"] for d in json.loads(run_cli(*args, cwd=tmp_path).stdout)] == ["app/bootstrap"]
    (tmp_path / "bootlint.toml").write_text("respect-gitignore = false\n")
    assert [d["path"] for d in json.loads(run_cli(*args, cwd=tmp_path).stdout)] == [
        "app/bootstrap", "build/bootstrap"]


@pytest.mark.parametrize("content,message", [
    ('selct = ["BL1"]\n', "bootlint.toml: unknown key 'selct'"),
    ('select = "BL1"\n', "bootlint.toml: 'select' must be a list of rule codes or prefixes"),
    ('ignore = ["BL777"]\n', "bootlint.toml: 'ignore': unknown rule code 'BL777'"),
    ('fail-on = "fatal"\n', "bootlint.toml: 'fail-on' must be one of \"error\", \"warning\", \"info\", not 'fatal'"),
    ('[severity]\nBL101 = "loud"\n', "'severity' must be a table of code"),
    ('respect-gitignore = "yes"\n', "'respect-gitignore' must be true or false"),
    ('select = [\n', "bootlint.toml: not valid TOML"),
    ('docs-url = "docs/rules"\n', "bootlint.toml: 'docs-url' must be an http:// or https:// address"),
])
def test_broken_configuration_is_exit_2_naming_file_and_key(project, content, message):
    (project / "bootlint.toml").write_text(content)
    proc = run_cli("check", "app", cwd=project)
    assert proc.returncode == 2
    assert message in proc.stderr.decode()
    assert b"Traceback" not in proc.stderr


def test_show_settings(project):
    (project / "bootlint.toml").write_text('ignore = ["BL201"]\n')
    out = run_cli("check", "--show-settings", "--select", "BL1", cwd=project / "app").stdout.decode()
    assert f"config file: {project / 'bootlint.toml'}" in out
    assert "select = ['BL1']  (command line)" in out
    assert f"ignore = ['BL201']  ({project / 'bootlint.toml'})" in out
    assert "fail-on = 'warning'  (default)" in out


def test_stdin(project):
    proc = run_cli("check", "--format", "json", "--stdin-filename", "app/bootstrap", "-",
                   cwd=project, stdin=TUTORIAL)
    data = json.loads(proc.stdout)
    assert [d["path"] for d in data] == ["app/bootstrap"] * 6
    assert data[3]["code"] == "BL101"


def test_each_file_takes_its_nearest_configuration_as_the_editor_does(project):
    """A monorepo: `check` run from the root reads each function's own bootlint.toml (the editor,
    opened on that function's folder, reads the same file); a folder without one falls back to
    the run's (the root's) settings; per-file-ignores globs are relative to their file's folder."""
    (project / "bootlint.toml").write_text('ignore = ["BL3"]\n')
    (project / "app" / "bootlint.toml").write_text('ignore = ["BL2", "BL3"]\nper-file-ignores = {"bootstrap" = ["BL103"]}\n')
    other = project / "other"
    other.mkdir()
    (other / "bootstrap").write_bytes(TUTORIAL)
    (other / "bootstrap").chmod(0o755)
    proc = run_cli("check", "--format", "json", ".", cwd=project)
    by_file = {}
    for d in json.loads(proc.stdout):
        by_file.setdefault(d["path"], []).append(d["code"])
    assert by_file == {"app/bootstrap": ["BL101", "BL102"],
                       "other/bootstrap": ["BL103", "BL201", "BL101", "BL102"]}, by_file
    # what the command line sets wins over every file's configuration
    proc = run_cli("check", "--format", "json", "--select", "BL201", ".", cwd=project)
    assert codes(proc) == ["BL201", "BL201"]
    # a named configuration (or --isolated) applies to every file
    proc = run_cli("check", "--format", "json", "--config", "bootlint.toml", "app", cwd=project)
    assert codes(proc) == ["BL103", "BL201", "BL101", "BL102"]


def test_a_broken_nested_configuration_is_a_usage_error(project):
    (project / "app" / "bootlint.toml").write_text('ignore = "BL2"\n')
    proc = run_cli("check", ".", cwd=project)
    assert proc.returncode == 2 and b"app/bootlint.toml" in proc.stderr and b"Traceback" not in proc.stderr
