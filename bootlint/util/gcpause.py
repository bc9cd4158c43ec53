"""Pausing Python's cyclic garbage collector while a file is linted.

A lint allocates hundreds of thousands of small objects that stay alive until it ends (the
syntax tree's nodes, words, model nodes) and makes almost no cycles. Each allocation burst
triggers a collection that walks every live object again: on a 1 MB shell file a fifth of the
lint time went to collections that found nothing. The collector is paused for the lint and set
back as it was when the last concurrent lint ends (``gc`` is process-wide); what a lint leaves
behind is freed by reference counting, and any cycles by the next ordinary collection.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_LOCK = threading.Lock()
_holders = 0
_was_enabled = False
_starting = False   # paused for the program's start-up (pause_start_up)


def pause_start_up() -> None:
    """Pause the collector while the program starts. Importing click, tree-sitter and bootlint
    makes tens of thousands of long-lived objects (modules, classes, functions) and almost no
    cycles; the ~30 collections they trigger find nothing and cost ~5 ms of a ~80 ms cold
    check. The start-up ends with the first lint (:func:`gc_paused`) or :func:`end_start_up`:
    what it made is frozen (``gc.freeze``: later collections skip it) and the collector runs
    again."""
    global _starting
    with _LOCK:
        if _holders == 0 and gc.isenabled():
            gc.disable()
            _starting = True


def end_start_up() -> None:
    """End :func:`pause_start_up`'s pause (a long-lived process that may not lint soon: the
    language server)."""
    global _starting
    with _LOCK:
        if _starting and _holders == 0:
            _starting = False
            gc.freeze()
            gc.enable()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the body with the cyclic collector off (nested and concurrent uses are counted)."""
    global _holders, _was_enabled, _starting
    with _LOCK:
        if _holders == 0:
            _was_enabled = gc.isenabled() or _starting
            if _starting:
                _starting = False
                gc.freeze()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _LOCK:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
