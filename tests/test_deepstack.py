"""bootlint.util.deepstack: each lint runs on the process's one long-lived large-stack thread
when it is free, on a fresh one when another caller holds it, and in a forked child on the
child's own."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from bootlint.util.deepstack import call_with_large_stack


def test_calls_run_on_one_thread_that_is_not_the_callers():
    first, second = (call_with_large_stack(threading.current_thread) for _ in range(2))
    assert first is second and first is not threading.current_thread()
    assert call_with_large_stack(lambda: threading.current_thread().name) == "bootlint-parse"


def test_an_exception_reaches_the_caller_and_the_thread_serves_the_next_call():
    def boom():
        raise ValueError("from the large stack")

    with pytest.raises(ValueError, match="from the large stack"):
        call_with_large_stack(boom)
    assert call_with_large_stack(lambda: 6 * 7) == 42


def test_a_second_caller_does_not_wait_for_the_first():
    started, release = threading.Event(), threading.Event()
    idents: dict[str, int] = {}

    def slow():
        idents["slow"] = threading.get_ident()
        started.set()
        assert release.wait(10)
        return "slow"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(call_with_large_stack(slow)))
    first.start()
    try:
        assert started.wait(10)
        # The long-lived thread is busy with `slow`: this call runs on a thread of its own.
        idents["quick"] = call_with_large_stack(threading.get_ident)
    finally:
        release.set()
        first.join(10)
    assert results == ["slow"]
    assert idents["quick"] not in (idents["slow"], threading.get_ident())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() here")
def test_a_forked_child_runs_calls_on_its_own_thread():
    call_with_large_stack(threading.get_ident)   # the parent's thread exists before the fork
    pid = os.fork()
    if pid == 0:   # the child: the parent's thread is not there; a call must still return
        signal.alarm(20)
        try:
            os._exit(0 if call_with_large_stack(lambda: 6 * 7) == 42 else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

