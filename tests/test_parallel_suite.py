"""The README's test command (a bare `pytest`) spreads the suite over the machine's cores, and
naming tests keeps one process (tests/conftest.py, pytest_cmdline_main): run for real, in a
child pytest that selects no test, so only the start-up decision is paid for."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.subprocess, pytest.mark.slow]

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
# pytest's exit code when every collected test was deselected.
NO_TESTS_RAN = 5


def child_pytest(*args: str) -> subprocess.CompletedProcess:
    """`pytest ARGS -m <a marker no test has>` in the project's root, as the README runs it."""
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "-m", "no_test_has_this_marker", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CORES < 2, reason="one core: the suite runs in one process")
def test_a_bare_pytest_starts_a_worker_per_core_up_to_four():
    done = child_pytest()
    assert done.returncode == NO_TESTS_RAN, done.stdout + done.stderr
    workers = min(CORES, 4)
    assert f"created: {workers}/{workers} workers" in done.stdout


@pytest.mark.parametrize("args", [("-k", "anything"), ("tests/test_records.py",), ("-n", "0"),
                                  ("--pdb",), ("-p", "no:xdist")])
def test_naming_tests_or_asking_for_one_process_starts_no_worker(args):
    done = child_pytest(*args)
    assert done.returncode == NO_TESTS_RAN, done.stdout + done.stderr
    assert "workers" not in done.stdout
    assert "collected" in done.stdout


@pytest.mark.skipif(CORES < 2, reason="one core")
def test_an_explicit_worker_count_keeps_each_module_on_one_worker():
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "-v",
                           "tests/test_records.py", "tests/test_textmap_units.py"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    worker_of: dict[str, set[str]] = {}
    for line in done.stdout.splitlines():
        if line.startswith("[gw") and " PASSED " in line:
            worker, test = line.split("]", 1)[0], line.split(" PASSED ", 1)[1]
            worker_of.setdefault(test.split("::", 1)[0], set()).add(worker)
    assert sorted(worker_of) == ["tests/test_records.py", "tests/test_textmap_units.py"]
    assert all(len(workers) == 1 for workers in worker_of.values()), worker_of
