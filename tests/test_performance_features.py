"""Parallel runs give the serial run's output; the cache makes a repeat run parse nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from bootlint.cli import main
from conftest import ROOT, run_cli

TUTORIAL = (ROOT / "examples" / "tutorial" / "bootstrap").read_bytes()
FIXED = (ROOT / "examples" / "fixed" / "bootstrap").read_bytes()


def make_tree(root, count: int) -> None:
    for i in range(count):
        folder = root / f"fn{i:03d}"
        folder.mkdir()
        data = TUTORIAL if i % 3 else FIXED
        (folder / "bootstrap").write_bytes(data.replace(b"HEADERS", b"HEADERS_%d" % i))
        (folder / "bootstrap").chmod(0o755)
    if count > 7:
        (root / "fn007" / "bootstrap").write_bytes(b"#!/bin/sh\nwhile true; do\n")  # a syntax error too


def test_parallel_output_is_identical_to_serial(tmp_path):
    make_tree(tmp_path, 60)
    serial = run_cli("check", "--no-cache", "--jobs", "1", ".", cwd=tmp_path)
    parallel = run_cli("check", "--no-cache", "--jobs", "2", ".", cwd=tmp_path)
    assert serial.returncode == parallel.returncode == 1
    assert serial.stdout == parallel.stdout
    assert serial.stdout.count(b"\n") > 200
    as_json = run_cli("check", "--no-cache", "--jobs", "2", "--format", "json", ".", cwd=tmp_path)
    assert [d["path"] for d in json.loads(as_json.stdout)][:2] == ["fn001/bootstrap", "fn001/bootstrap"]


def test_no_workers_for_a_handful_of_files(tmp_path, monkeypatch):
    import concurrent.futures

    def refuse(*args, **kwargs):
        raise AssertionError("a process pool was started for a handful of files")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", refuse)
    make_tree(tmp_path, 8)
    result = CliRunner().invoke(main, ["check", "--no-cache", "--jobs", "4", str(tmp_path)])
    assert result.exit_code == 1, result.output


def test_a_repeat_run_parses_nothing(tmp_path, monkeypatch, parse_counter):
    make_tree(tmp_path, 5)
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(main, ["check", "--jobs", "1", "."])
    assert len(parse_counter) == 5
    second = CliRunner().invoke(main, ["check", "--jobs", "1", "."])
    assert len(parse_counter) == 5          # nothing parsed again
    assert second.output == first.output and second.exit_code == first.exit_code == 1
    assert (tmp_path / ".bootlint_cache" / "CACHEDIR.TAG").is_file()
    assert (tmp_path / ".bootlint_cache" / ".gitignore").read_text() == "*\n"
    # A changed file, changed settings, or --no-cache: parsed again.
    (tmp_path / "fn001" / "bootstrap").write_bytes(TUTORIAL + b"\n")
    CliRunner().invoke(main, ["check", "--jobs", "1", "."])
    assert parse_counter[5:] == ["fn001/bootstrap"]
    CliRunner().invoke(main, ["check", "--jobs", "1", "--ignore", "BL201", "."])
    assert len(parse_counter) == 11
    CliRunner().invoke(main, ["check", "--jobs", "1", "--no-cache", "."])
    assert len(parse_counter) == 16


def test_a_corrupt_cache_entry_is_a_miss(tmp_path, monkeypatch, parse_counter):
    make_tree(tmp_path, 1)
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(main, ["check", "--format", "json", "."])
    for entry in (tmp_path / ".bootlint_cache").rglob("*.json"):
        entry.write_text("{not json")
    second = CliRunner().invoke(main, ["check", "--format", "json", "."])
    assert second.output == first.output
    assert len(parse_counter) == 2


def test_cache_mode_is_part_of_the_key(tmp_path, monkeypatch):
    make_tree(tmp_path, 1)
    monkeypatch.chdir(tmp_path)
    assert "BL403" not in CliRunner().invoke(main, ["check", "."]).output
    (tmp_path / "fn000" / "bootstrap").chmod(0o644)
    assert "BL403" in CliRunner().invoke(main, ["check", "."]).output


def test_the_collector_is_paused_for_a_lint_and_set_back_after(monkeypatch):
    """A lint runs with the cyclic collector off; it is set back as it was, also when lints nest
    or run at once (the language server, verify's threads), and when a lint raises."""
    import gc
    import threading

    from bootlint.engine import Selection, lint_source
    from bootlint.util.gcpause import gc_paused
    from bootlint.files.source import SourceFile

    seen: list[bool] = []
    import bootlint.engine as engine

    real = engine._lint_source
    monkeypatch.setattr(engine, "_lint_source", lambda *a: (seen.append(gc.isenabled()), real(*a))[1])
    assert gc.isenabled()
    lint_source(SourceFile.from_bytes("bootstrap", b"#!/bin/sh\necho hi\n"), Selection())
    assert seen == [False] and gc.isenabled()

    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with gc_paused():
            inside.set()
            release.wait(5)

    other = threading.Thread(target=hold)
    other.start()
    inside.wait(5)
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()      # the other lint still runs
    release.set()
    other.join(5)
    assert gc.isenabled()
    try:
        with gc_paused():
            raise ValueError
    except ValueError:
        pass
    assert gc.isenabled()

    gc.disable()                   # a caller that had it off keeps it off
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


START_UP = """
import gc, sys
{before}
import bootlint.__main__
from bootlint.util import gcpause
print(gc.isenabled(), end=" ")
{then}
print(gc.isenabled(), gc.get_freeze_count() > 0)
"""
FIRST_LINT = """from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile
lint_source(SourceFile.from_bytes("bootstrap", b"#!/bin/sh\\necho hi\\n"), Selection())"""


@pytest.mark.subprocess
@pytest.mark.parametrize("before, then, printed", [
    ("", FIRST_LINT, "False True True"),                      # the first lint ends the pause
    ("", "gcpause.end_start_up()", "False True True"),        # the server ends it before serving
    ("gc.disable()", FIRST_LINT, "False False False"),        # a caller's own choice is kept
])
def test_the_collector_is_paused_while_the_command_line_starts(before, then, printed):
    """The `bootlint` command (bootlint.__main__) pauses the cyclic collector while it starts,
    until the first lint (or the server's start), then freezes what start-up made and runs the
    collector again; bootlint.cli, imported alone, leaves the collector as it is."""
    done = subprocess.run([sys.executable, "-c", START_UP.format(before=before, then=then)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == printed


@pytest.mark.subprocess
def test_importing_the_command_line_module_leaves_the_collector_alone():
    done = subprocess.run([sys.executable, "-c", "import gc, bootlint.cli; print(gc.isenabled())"],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "True", done.stderr


def test_a_rerun_answered_by_the_cache_starts_no_worker(tmp_path, monkeypatch, parse_counter):
    """The cache is read before workers are started: a rerun over unchanged files starts none,
    and only the files it misses are linted (here one, in the process itself)."""
    import bootlint.util.workers as workers

    make_tree(tmp_path, 30)
    monkeypatch.chdir(tmp_path)
    started: list[int] = []
    real = workers.lint_in_workers
    monkeypatch.setattr(workers, "lint_in_workers",
                        lambda function, work, jobs, on_death: (started.append(len(work)),
                                                                real(function, work, jobs, on_death))[1])
    first = CliRunner().invoke(main, ["check", "--jobs", "2", "--format", "json", "."])
    assert started == [30]
    second = CliRunner().invoke(main, ["check", "--jobs", "2", "--format", "json", "."])
    assert started == [30] and second.output == first.output
    (tmp_path / "fn007" / "bootstrap").write_bytes(TUTORIAL + b"\n")
    parsed = len(parse_counter)
    CliRunner().invoke(main, ["check", "--jobs", "2", "."])
    assert started == [30] and parse_counter[parsed:] == ["fn007/bootstrap"]
