"""Linting in worker processes, surviving a worker that dies and an interrupt.

Each worker notes in shared memory which file it is linting. When a worker dies (a crash in
native code, the kernel's out-of-memory killer), the pool breaks: the results that came back are
kept, each file that was in flight is linted again alone in a fresh process (the one that dies
again gets BL999 from ``on_death``), and the rest go to a fresh pool. Ctrl-C ends every worker
and raises KeyboardInterrupt in the caller: no worker prints a traceback, none is left behind.
SIGTERM or SIGHUP (a cancelled CI job, a closed terminal) end every worker too, then the parent
dies of the same signal; a worker whose parent dies anyhow (SIGKILL) is killed by the kernel.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

Job = Any
Outcome = Any

_slots = None     # in a worker: the shared array, one slot per worker (index + 1 of its file, or 0)
_my_slot = 0
_parent_pid = 0   # the process that forks the workers (set before it does; a worker inherits it)


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


# Signals that end a run: the parent ends its workers first, then dies of the signal.
ENDING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class _Ended(BaseException):
    """An ending signal arrived in the parent (raised from its handler, so that the clean-up of
    every ``finally`` and ``except BaseException`` runs)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _ending_signals_end_workers():
    """While workers run: SIGTERM and SIGHUP raise :class:`_Ended` in the parent (when they
    are not ignored); afterwards the old handlers are back and the signal is delivered again,
    so the process ends as it would have, its workers gone."""
    previous = {}
    for signum in ENDING:
        handler = signal.getsignal(signum)
        if handler is signal.SIG_DFL:
            previous[signum] = handler
            signal.signal(signum, _raise_ended)
    try:
        yield
    except _Ended as ended:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        os.kill(os.getpid(), ended.signum)
        raise SystemExit(128 + ended.signum)   # not reached: the default action ends the process
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _raise_ended(signum, frame) -> None:
    raise _Ended(signum)


@contextmanager
def _ending_blocked():
    """SIGTERM and SIGHUP held back while workers are forked: a child gets them only once it
    has its own handlers (:func:`_in_child` unblocks them), the parent right after."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _in_child() -> None:
    """What every worker does first: Ctrl-C is the parent's to handle; SIGTERM and SIGHUP end
    it at once (the parent's handlers are not inherited); and it dies with its parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in ENDING:
        signal.signal(signum, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, ENDING)
    _die_with_parent()


def _die_with_parent() -> None:
    """Linux: SIGKILL when the parent dies, whatever kills it (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != _parent_pid:   # the parent died before the request was made
        os._exit(1)


def _init_worker(slots, counter) -> None:
    global _slots, _my_slot
    _in_child()
    with counter.get_lock():
        _my_slot = counter.value % len(slots)
        counter.value += 1
    _slots = slots


def _run_chunk(function: Callable[[Job], Outcome], chunk: list[tuple[int, Job]]) -> list[tuple[int, Outcome]]:
    out = []
    for index, job in chunk:
        _slots[_my_slot] = index + 1
        out.append((index, function(job)))
        _slots[_my_slot] = 0
    return out


def lint_in_workers(function: Callable[[Job], Outcome], work: list[Job], jobs: int,
                    on_death: Callable[[Job, str], Outcome]) -> list[Outcome]:
    """``[function(job) for job in work]`` computed by ``jobs`` processes, in order."""
    global _parent_pid
    _parent_pid = os.getpid()
    with _ending_signals_end_workers():
        return _lint_in_workers(function, work, jobs, on_death)


def _lint_in_workers(function, work: list[Job], jobs: int, on_death) -> list[Outcome]:
    outcomes: dict[int, Outcome] = {}
    pending = list(range(len(work)))
    while pending:
        before = len(outcomes)
        suspects = _pool_pass(function, work, pending, jobs, outcomes)
        if not suspects and len(outcomes) == before:
            suspects = pending   # no progress and no culprit: each file alone, one by one
        for index in suspects:
            if index not in outcomes:
                outcomes[index] = _alone(function, work[index], on_death)
        pending = [i for i in pending if i not in outcomes]
    return [outcomes[i] for i in range(len(work))]


def _pool_pass(function, work, pending: list[int], jobs: int, outcomes: dict) -> list[int]:
    """Lint ``pending`` in one pool; the indexes in flight if a worker died, else []."""
    context = _context()
    slots = context.Array("q", jobs, lock=False)
    counter = context.Value("i", 0)
    size = max(1, len(pending) // (jobs * 8))
    chunks = [[(i, work[i]) for i in pending[at:at + size]] for at in range(0, len(pending), size)]
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker,
                               initargs=(slots, counter))
    try:
        # Workers are forked by the first submit: ignoring SIGINT until then means no worker
        # can get Ctrl-C before its initializer has made it ignore it too.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            with _ending_blocked():
                futures = [pool.submit(_run_chunk, function, chunks[0])]
        finally:
            signal.signal(signal.SIGINT, previous)
        futures += [pool.submit(_run_chunk, function, chunk) for chunk in chunks[1:]]
        broken = False
        for future in futures:
            try:
                outcomes.update(future.result())
            except BrokenProcessPool:
                broken = True
        if not broken:
            pool.shutdown(wait=True)
            return []
        suspects = sorted(value - 1 for value in slots if value)
        pool.shutdown(wait=True)
        # Nothing in flight (it died between files): everything left is retried.
        return suspects
    except BaseException:
        _terminate(pool)
        raise


def _terminate(pool: ProcessPoolExecutor) -> None:
    """End the pool's processes now (after Ctrl-C or an error in the parent)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=2)
        if process.is_alive():
            process.kill()
            process.join(timeout=2)
    pool.shutdown(wait=False, cancel_futures=True)


def _child(function, job, writer) -> None:
    _in_child()
    writer.send(function(job))
    writer.close()


def _alone(function, job: Job, on_death: Callable[[Job, str], Outcome]) -> Outcome:
    """``function(job)`` in a process of its own; ``on_death(job, how)`` if that process dies."""
    context = _context()
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(function, job, writer), daemon=True)
    with _ending_blocked():
        process.start()
    writer.close()
    try:
        try:
            outcome = reader.recv()
        except EOFError:
            outcome = None
        process.join()
    except BaseException:
        process.kill()
        process.join()
        raise
    if outcome is not None:
        return outcome
    code = process.exitcode or 0
    if code < 0:
        try:
            how = f"killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"killed by signal {-code}"
    else:
        how = f"exit status {code}"
    return on_death(job, how)
