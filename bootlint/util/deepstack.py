"""Running the parsers on a thread with a large native stack.

libcst's parser (native code) recurses once per nesting level of the syntax it reads, and so do
parts of tree-sitter: on the main thread's 8 MB stack a long `a and b and ...` chain overflows it
and the whole process dies with SIGSEGV, taking every other file's results with it. A thread
whose stack is this large (address space only: pages are used as they are touched) reads far
deeper input than the size limit lets through.
"""

from __future__ import annotations

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
    """``function(*args)`` on a fresh thread with a :data:`STACK_BYTES` stack; its result, or
    its exception raised here. Called on such a thread already (the language server runs its
    whole loop on one, so that a lint costs no thread), it runs ``function`` there."""
    if getattr(_ON, "large_stack", False):
        return function(*args)
    outcome: list = []

    def target() -> None:
        _ON.large_stack = True
        try:
            outcome.append((True, function(*args)))
        except BaseException as exc:  # handed to the caller's thread as it is
            outcome.append((False, exc))

    with _LOCK:
        previous = threading.stack_size(STACK_BYTES)
        try:
            thread = threading.Thread(target=target, name="bootlint-parse", daemon=True)
            thread.start()
        finally:
            threading.stack_size(previous)
    thread.join()
    ok, value = outcome[0]
    if ok:
        return value
    raise value
