"""The seed experiment: the AWS tutorial bootstrap, with and without its loop, and the fixed one."""

from __future__ import annotations

from conftest import ROOT, lint_text

TUTORIAL = ROOT / "examples" / "tutorial" / "bootstrap"
NO_LOOP = ROOT / "examples" / "tutorial-no-loop" / "bootstrap"
FIXED = ROOT / "examples" / "fixed" / "bootstrap"


def test_tutorial_bootstrap():
    assert lint_text(TUTORIAL.read_bytes()) == [
        ("BL103", 6, 1),     # source of the handler file, no /init/error
        ("BL301", 11, 14),   # HEADERS="$(mktemp)" in the loop, never removed
        ("BL201", 13, 47),   # the next request: no _X_AMZN_TRACE_ID
        ("BL101", 17, 14),   # the handler call under set -e, unguarded
        ("BL102", 20, 16),   # posts /response, never /error
        ("BL302", 20, 103),  # -d "$RESPONSE": the response on curl's command line
    ]


def test_tutorial_without_its_loop_adds_missing_event_loop():
    assert lint_text(NO_LOOP.read_bytes()) == [
        ("BL103", 6, 1),
        ("BL301", 11, 14),
        ("BL001", 13, 47),
        ("BL201", 13, 47),
        ("BL101", 17, 14),
        ("BL102", 20, 16),
        ("BL302", 20, 103),
    ]


def test_fixed_runtime_is_clean():
    assert lint_text(FIXED.read_bytes()) == []


def test_fix_with_unsafe_fixes_leaves_only_findings_without_a_fix(tmp_path):
    """The README's run: `bootlint check --fix --unsafe-fixes` on both tutorial bootstraps."""
    import shutil
    import subprocess

    from conftest import run_cli

    for name in ("tutorial", "tutorial-no-loop"):
        shutil.copytree(ROOT / "examples" / name, tmp_path / name)
        (tmp_path / name / "bootstrap").chmod(0o755)
    proc = run_cli("check", "--fix", "--unsafe-fixes", "--format", "concise", "tutorial", "tutorial-no-loop",
                   cwd=tmp_path)
    lines = proc.stdout.decode().splitlines()
    assert [line.rsplit(" [", 1)[-1] for line in lines[:-2]] == ["BL103]", "BL103]"]
    assert lines[-2:] == ["Fixed 11 problems.", "Found 2 problems (2 warnings) in 2 files."]
    for name in ("tutorial", "tutorial-no-loop"):
        fixed = (tmp_path / name / "bootstrap").read_bytes()
        if shutil.which("bash"):
            assert subprocess.run(["bash", "-n"], input=fixed, timeout=30).returncode == 0
        assert [c for c, _, _ in lint_text(fixed)] == ["BL103"]
    # The same fixes, whichever file they start from: the loop the tutorial had is put back.
    assert b"  while true; do\n    EVENT_DATA=" in (tmp_path / "tutorial-no-loop" / "bootstrap").read_bytes()
    again = run_cli("check", "--fix", "--unsafe-fixes", "--format", "concise", "tutorial", "tutorial-no-loop",
                    cwd=tmp_path)
    assert again.stdout.decode().splitlines()[-1] == "Found 2 problems (2 warnings) in 2 files."
    assert "Fixed" not in again.stdout.decode()


def test_readme_shows_the_fix_run_as_it_is(tmp_path):
    """The README's `--diff` and `--fix --unsafe-fixes` runs on the tutorials, byte for byte."""
    import shutil

    from conftest import run_cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    for name in ("tutorial", "tutorial-no-loop"):
        (tmp_path / "examples" / name / "bootstrap").chmod(0o755)
    for command in ("bootlint check --diff --unsafe-fixes examples/tutorial-no-loop",
                    "bootlint check --fix --unsafe-fixes --format concise examples/tutorial "
                    "examples/tutorial-no-loop"):
        shown = readme.split(f"$ {command}\n", 1)[1].split("```", 1)[0]
        assert run_cli(*command.split()[1:], cwd=tmp_path).stdout.decode() == shown
