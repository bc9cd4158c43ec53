"""Background jobs and the `wait`s that return their status.

A job (`handler "$EVENT" > out &`) is a child process whose status the shell does not see, unless
a later `wait` returns it: `wait "$pid"` (a PID taken from `$!`), `wait $!`, `wait %%` return the
status of the job they name (of the last one, given several), `wait -n` that of whichever job
ends next; `wait` alone returns 0 (:data:`~.commands.WAIT_OPTIONS`). Under errexit a `wait` that
returns a failed job's status ends the shell exactly as the job's command would have in the
foreground, and `if wait "$pid"` guards it (test_errexit_semantics runs these in bash)."""

from __future__ import annotations

from dataclasses import field

from bootlint.frontends.shell.commands import LAST_JOB_SPECS, WAIT_OPTIONS
from bootlint.frontends.shell.syntax import expansion_names, node_text
from bootlint.model import PerEventWork
from bootlint.util.records import dataclass


@dataclass
class Job:
    """A statement run in the background, with the per-event work it does."""

    statement: object                     # the statement before the `&`
    function: str | None                  # the file's function it is written in (None: main)
    work: list[PerEventWork] = field(default_factory=list)


def waited_jobs(wait, args: list, jobs: list[Job], words, index) -> list[Job]:
    """The jobs whose status this `wait` command can return (``args``: its arguments; ``jobs``:
    the background jobs written before it, in order)."""
    function = index.function_of(wait)
    mine = [j for j in jobs if j.function == function and j.statement.end_byte <= wait.start_byte]
    if not mine:
        return []
    waits_next, operands = False, []
    at = 0
    while at < len(args):
        text = words.literal(args[at])
        if text == "--":
            operands = args[at + 1:]
            break
        if text not in WAIT_OPTIONS:
            operands = args[at:]
            break
        waits_next = waits_next or WAIT_OPTIONS[text] == "next"
        at += 2 if WAIT_OPTIONS[text] == "value" else 1
    if operands:
        return _named(operands[-1], mine, words, index)   # (the last operand's status)
    return mine if waits_next else []


def _named(operand, jobs: list[Job], words, index) -> list[Job]:
    """The job a `wait` operand names: `$!` or a job spec of the last job; a variable assigned
    `$!` right after a job (`pid=$!`); anything else is not followed."""
    if words.literal(operand) in LAST_JOB_SPECS:
        return jobs[-1:]
    names = expansion_names(operand)
    if "!" in names:
        return jobs[-1:]
    found = []
    for name in names:
        for assignment in index.assignment_nodes.get(name, ()):
            value = assignment.child_by_field_name("value")
            if value is None or "!" not in expansion_names(value):
                continue
            # `$!` is the job started last before the assignment.
            before = [j for j in jobs if j.statement.end_byte <= assignment.start_byte]
            if before and before[-1] not in found:
                found.append(before[-1])
    return found


def describe(job: Job, text_of=node_text) -> str:
    """The job as written, on one line, short enough for a message."""
    line = " ".join(text_of(job.statement).split())
    return line if len(line) <= 40 else line[:39] + "\u2026"
