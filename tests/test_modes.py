"""Managed Instances and response streaming: the `target` setting, and the facts of bash the
BL7xx rules rest on, checked with real bash."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import FIXTURES, lint_text, run_cli

ONE_LOOP = FIXTURES / "shell" / "BL706" / "fail-one-loop.sh"
POOL = FIXTURES / "shell" / "BL706" / "pass-seq-workers.sh"


def test_single_worker_is_reported_only_for_managed_instances():
    text = ONE_LOOP.read_bytes()
    assert "BL706" not in [c for c, _, _ in lint_text(text)]
    assert ("BL706", 4, 36) in lint_text(text, target="managed-instances")
    assert "BL706" not in [c for c, _, _ in lint_text(POOL.read_bytes(), target="managed-instances")]


def test_target_on_the_command_line(tmp_path):
    (tmp_path / "bootstrap").write_bytes(ONE_LOOP.read_bytes())
    (tmp_path / "bootstrap").chmod(0o755)
    plain = run_cli("check", "--isolated", "--no-cache", "--select", "BL706", "bootstrap", cwd=tmp_path)
    assert plain.returncode == 0, plain.stdout
    mi = run_cli("check", "--isolated", "--no-cache", "--select", "BL706", "--fail-on", "info",
                 "--target", "managed-instances", "bootstrap", cwd=tmp_path)
    assert mi.returncode == 1
    assert mi.stdout.decode().startswith("bootstrap:4:36: info: the configuration says this function runs "
                                         "on Lambda Managed Instances")
    bad = run_cli("check", "--isolated", "--target", "lmi", "bootstrap", cwd=tmp_path)
    assert bad.returncode == 2 and b"'lmi' is not one of 'default', 'managed-instances'" in bad.stderr


def test_target_in_the_settings(tmp_path):
    (tmp_path / "bootstrap").write_bytes(ONE_LOOP.read_bytes())
    (tmp_path / "bootstrap").chmod(0o755)
    (tmp_path / "bootlint.toml").write_text('target = "managed-instances"\nselect = ["BL706"]\n')
    proc = run_cli("check", "--no-cache", "--fail-on", "info", "bootstrap", cwd=tmp_path)
    assert proc.returncode == 1 and b"[BL706]" in proc.stdout
    shown = run_cli("check", "--show-settings", cwd=tmp_path)
    assert f"target = 'managed-instances'  ({tmp_path / 'bootlint.toml'})".encode() in shown.stdout
    # The command line wins over the file.
    proc = run_cli("check", "--no-cache", "--fail-on", "info", "--target", "default", "bootstrap", cwd=tmp_path)
    assert proc.returncode == 0
    (tmp_path / "bootlint.toml").write_text('target = "lambda-managed-instances"\n')
    bad = run_cli("check", "bootstrap", cwd=tmp_path)
    assert bad.returncode == 2
    assert b"'target' must be one of \"default\", \"managed-instances\", not 'lambda-managed-instances'" in bad.stderr


needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def _bash(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)


@needs_bash
def test_bash_dollar_dollar_is_the_parents_pid_in_every_job():
    """BL702: `/tmp/event.$$` is one file for every background worker; `$BASHPID` is per job."""
    out = _bash('echo "$$"; for i in 1 2; do ( echo "$$ $BASHPID" ) & done; wait').stdout.split("\n")
    parent = out[0]
    jobs = [line.split() for line in out[1:] if line]
    assert [pid for pid, _ in jobs] == [parent, parent]
    assert len({own for _, own in jobs}) == 2 and parent not in {own for _, own in jobs}


@needs_bash
def test_bash_variable_made_before_the_jobs_is_the_same_in_each():
    """BL702: `HEADERS=$(mktemp)` before `worker &` is one name in every worker; made in the job,
    each has its own."""
    out = _bash('H=$(mktemp -u); for i in 1 2; do ( echo "$H $(mktemp -u)" ) & done; wait').stdout.split("\n")
    (shared1, own1), (shared2, own2) = (line.split() for line in out[:2])
    assert shared1 == shared2 and own1 != own2


@needs_bash
def test_bash_wait_n_returns_at_the_first_job_and_errexit_ends_the_shell():
    """BL704: `wait -n` returns when one job ends; under errexit its failure status ends the shell
    while the other job still runs; a plain `wait` returns 0 after all of them."""
    proc = _bash('set -e; (sleep 0.1; exit 3) & (sleep 2) & wait -n; echo after')
    assert proc.returncode == 3 and "after" not in proc.stdout
    proc = _bash('(sleep 0.1; exit 3) & (sleep 0.3) & wait -n; echo "first $?"; wait; echo "all $?"')
    assert proc.stdout.split("\n")[:2] == ["first 3", "all 0"]


@needs_bash
def test_bash_export_in_a_job_reaches_no_other():
    """BL703 cannot be broken in shell: each background job has its own environment."""
    out = _bash('( export _X_AMZN_TRACE_ID=a; sleep 0.2; echo "$_X_AMZN_TRACE_ID" ) & '
                '( sleep 0.1; export _X_AMZN_TRACE_ID=b ) & wait').stdout.split()
    assert out == ["a"]


def test_readme_examples_pass_in_their_mode():
    """The README's two examples: a shell worker pool for Managed Instances, a Python streaming
    runtime; every rule, the opt-in ones of their mode included."""
    from conftest import ROOT

    pool = (ROOT / "examples" / "managed-instances" / "bootstrap").read_bytes()
    assert lint_text(pool, extend=("BL705",), target="managed-instances") == []
    stream = (ROOT / "examples" / "streaming" / "bootstrap").read_bytes()
    assert lint_text(stream, path="bootstrap") == []
    # What the examples are: workers started by one loop, one streamed post with its trailers.
    from bootlint.engine import Selection, lint_source
    from bootlint.files.source import SourceFile

    model = lint_source(SourceFile.from_bytes("bootstrap", pool), Selection(), keep_model=True).model
    assert [w.count.source.value for w in model.concurrency.workers] == ["max-concurrency"]
    model = lint_source(SourceFile.from_bytes("bootstrap", stream), Selection(), keep_model=True).model
    [post] = model.streaming.posts
    assert (post.body.value, post.sends_trailers) == ("streamed", True)
    assert [(t.name, t.encoding.value) for t in post.trailers] == [
        ("Lambda-Runtime-Function-Error-Type", "unknown"), ("Lambda-Runtime-Function-Error-Body", "base64")]
