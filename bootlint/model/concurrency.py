"""Facts about a runtime that serves several invocations at once (Lambda Managed Instances):
its workers, what they write, where the trace id lives, and how the process Lambda started ends.

A front end fills one :class:`Concurrency` per file (``RuntimeModel.concurrency``); the BL7xx
rules read only this. What is "per worker" is the front end's knowledge of its language (a
background job is a child process, a thread shares the process); the wording it records
(``why``, ``reason``) is in its language's terms.
"""

from __future__ import annotations

import enum
from dataclasses import field

from bootlint.diagnostics import Span
from bootlint.util.records import dataclass

MAX_CONCURRENCY = "AWS_LAMBDA_MAX_CONCURRENCY"


class WorkerKind(str, enum.Enum):
    PROCESS = "process"    # a child process: a background job, multiprocessing, os.fork
    THREAD = "thread"      # a thread of the runtime's own process
    TASK = "task"          # an asyncio task of the runtime's own process

    @property
    def shares_process(self) -> bool:
        """Workers of this kind share the process: its environment, its globals."""
        return self is not WorkerKind.PROCESS


class CountSource(str, enum.Enum):
    """Where the number of workers comes from."""

    MAX_CONCURRENCY = "max-concurrency"   # AWS_LAMBDA_MAX_CONCURRENCY, 1 when unset
    VARIABLE_NO_DEFAULT = "no-default"    # AWS_LAMBDA_MAX_CONCURRENCY with no default, or not 1
    LITERAL = "literal"                   # a number written in the file
    UNBOUNDED = "unbounded"               # started in a loop that never ends
    OTHER = "other"                       # another value (the CPU count, another variable)
    UNKNOWN = "unknown"                   # the front end cannot tell: no finding


@dataclass(frozen=True)
class WorkerCount:
    """How many workers a runtime starts, and where the number comes from."""

    source: CountSource
    span: Span | None = None
    text: str = ""           # as written (`4`, `$(nproc)`, `${AWS_LAMBDA_MAX_CONCURRENCY:-4}`)
    default: str | None = None


@dataclass(frozen=True)
class Worker:
    """Where workers that each loop on `next` are started (one site may start several)."""

    span: Span
    kind: WorkerKind
    count: WorkerCount
    text: str = ""           # the start as written, for messages


@dataclass(frozen=True)
class PathWrite:
    """A file a worker writes whose path is the same in every worker."""

    span: Span
    path: str                # as written
    why: str = ""            # why it is the same in every worker, in the language's terms


@dataclass(frozen=True)
class TraceWrite:
    """The trace id variable set inside a worker's loop."""

    span: Span
    kind: WorkerKind         # the kind of worker that runs it
    text: str = ""


@dataclass(frozen=True)
class ParentEnd:
    """A way the process Lambda started can end while workers still serve."""

    span: Span
    reason: str              # in the language's terms


@dataclass
class Concurrency:
    """The workers a runtime starts and where it reads AWS_LAMBDA_MAX_CONCURRENCY."""

    workers: list[Worker] = field(default_factory=list)
    # Where the file reads AWS_LAMBDA_MAX_CONCURRENCY (None: it never does).
    reads_max_concurrency: Span | None = None
    shared_writes: list[PathWrite] = field(default_factory=list)
    trace_writes: list[TraceWrite] = field(default_factory=list)
    parent_ends: list[ParentEnd] = field(default_factory=list)
    # Whether the workers read Lambda-Runtime-Deadline-Ms anywhere.
    deadline_read: bool = False

    @property
    def concurrent(self) -> bool:
        """Does the file run concurrent workers, or at least read the concurrency setting?"""
        return bool(self.workers) or self.reads_max_concurrency is not None


def count_from_variable(default: str | None) -> CountSource:
    """How a count taken from AWS_LAMBDA_MAX_CONCURRENCY with this default (None: none) reads:
    unset or invalid means 1 (AWS's clients), so the default must be 1."""
    if default is not None and default.strip() == "1":
        return CountSource.MAX_CONCURRENCY
    return CountSource.VARIABLE_NO_DEFAULT
