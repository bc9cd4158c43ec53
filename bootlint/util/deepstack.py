"""Running the parsers on a thread with a large native stack.

libcst's parser (native code) recurses once per nesting level of the syntax it reads, and so do
parts of tree-sitter: on the main thread's 8 MB stack a long `a and b and ...` chain overflows it
and the whole process dies with SIGSEGV, taking every other file's results with it. A thread
whose stack is this large (address space only: pages are used as they are touched) reads far
deeper input than the size limit lets through.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Callable, TypeVar

T = TypeVar("T")
STACK_BYTES = 512 * 1024 * 1024
_LOCK = threading.Lock()   # threading.stack_size() is process-wide: set and restore it together
STACK_LOCK = _LOCK         # for a caller that starts its own large-stack thread (the server's lint thread)
_ON = threading.local()    # set on the threads made here: a call from one of them runs directly


def mark_large_stack() -> None:
    """Say that the calling thread was started with :data:`STACK_BYTES` of stack (a thread
    started elsewhere under :data:`STACK_LOCK`): calls from it run directly."""
    _ON.large_stack = True


def call_with_large_stack(function: Callable[..., T], *args) -> T:
    """``function(*args)`` on a thread with a :data:`STACK_BYTES` stack; its result, or its
    exception raised here. Called on such a thread already (the language server runs its whole
    loop on one, so that a lint costs no thread), it runs ``function`` there.

    The thread is the process's one long-lived large-stack thread when it is free (starting a
    thread per file cost ~0.12 ms of CPU, a tenth of a small file's lint, and a new tree-sitter
    parser with it), else a fresh one: two callers at once never wait for each other."""
    if getattr(_ON, "large_stack", False):
        return function(*args)
    runner = _runner()
    if runner.busy.acquire(blocking=False):
        try:
            return runner.call(function, args)
        finally:
            runner.busy.release()
    return _call_on_new_thread(function, args)


def _call_on_new_thread(function: Callable[..., T], args: tuple) -> T:
    outcome: list = []

    def target() -> None:
        _ON.large_stack = True
        try:
            outcome.append((True, function(*args)))
        except BaseException as exc:  # handed to the caller's thread as it is
            outcome.append((False, exc))

    thread = _start(target)
    thread.join()
    ok, value = outcome[0]
    if ok:
        return value
    raise value


def _start(target: Callable[[], None]) -> threading.Thread:
    """A daemon thread running ``target`` with a :data:`STACK_BYTES` stack, started."""
    with _LOCK:
        previous = threading.stack_size(STACK_BYTES)
        try:
            thread = threading.Thread(target=target, name="bootlint-parse", daemon=True)
            thread.start()
        finally:
            threading.stack_size(previous)
    return thread


class _Runner:
    """The long-lived large-stack thread: runs the calls it is handed, one at a time. (Stack
    pages a deeply nested file touched stay with the process until it ends, as a CLI run does;
    the language server lints on threads of its own.)"""

    def __init__(self) -> None:
        self.busy = threading.Lock()     # held by the caller whose call it runs
        self.jobs: "queue.SimpleQueue" = queue.SimpleQueue()
        self.pid = os.getpid()
        _start(self._serve)

    def _serve(self) -> None:
        _ON.large_stack = True
        while True:
            function, args, outcome, done = self.jobs.get()
            try:
                outcome.append((True, function(*args)))
            except BaseException as exc:  # handed to the caller's thread as it is
                outcome.append((False, exc))
            finally:
                done.set()
                # Nothing of the call stays alive until the next one.
                del function, args, outcome, done

    def call(self, function: Callable[..., T], args: tuple) -> T:
        outcome: list = []
        done = threading.Event()
        self.jobs.put((function, args, outcome, done))
        done.wait()
        ok, value = outcome[0]
        if ok:
            return value
        raise value


_RUNNER: _Runner | None = None
_RUNNER_LOCK = threading.Lock()


def _runner() -> _Runner:
    """This process's runner, started on first use (a child made by fork() has none of its
    parent's threads: it starts its own)."""
    global _RUNNER
    runner = _RUNNER
    if runner is None or runner.pid != os.getpid():
        with _RUNNER_LOCK:
            if _RUNNER is None or _RUNNER.pid != os.getpid():
                _RUNNER = _Runner()
            runner = _RUNNER
    return runner


def _after_fork_in_child() -> None:
    global _RUNNER, _RUNNER_LOCK
    _RUNNER, _RUNNER_LOCK = None, threading.Lock()   # the parent's may have been held


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
