"""Background jobs and the `wait`s that return their status.

A job (`handler "$EVENT" > out &`) is a child process whose status the shell does not see, unless
a later `wait` returns it: `wait "$pid"` (a PID taken from `$!`), `wait $!`, `wait %%` return the
status of the job they name (of the last one, given several), `wait -n` that of whichever job
ends next; `wait` alone returns 0 (:data:`~.commands.WAIT_OPTIONS`). Under errexit a `wait` that
returns a failed job's status ends the shell exactly as the job's command would have in the
foreground, and `if wait "$pid"` guards it (test_errexit_semantics runs these in bash).

Read in the order the code is written, per function: a PID variable holds the job started last
before its last assignment before the `wait`; `wait -n` waits for the jobs started since the
`wait` before it. Each question is a bisection (a file may start thousands of jobs)."""

from __future__ import annotations

from bisect import bisect_right, insort
from dataclasses import field

from bootlint.frontends.shell.commands import LAST_JOB_SPECS, WAIT_OPTIONS
from bootlint.frontends.shell.syntax import expansion_names, node_text
from bootlint.model import PerEventWork, Subshell
from bootlint.util.records import dataclass


@dataclass
class Job:
    """A statement run in the background, with the per-event work it does."""

    statement: object                     # the statement before the `&`
    function: str | None                  # the file's function it is written in (None: main)
    work: list[PerEventWork] = field(default_factory=list)
    node: Subshell | None = None          # the job in the model (what a `wait` waits for)
    # It calls a function of the file, whose per-event work may fail the job (decided on the
    # walk, where the guards around that work are known).
    calls: bool = False


class Jobs:
    """The background jobs lowered so far, and the `wait`s, per function in written order."""

    def __init__(self, index, words) -> None:
        self.index = index
        self.words = words
        self._jobs: dict[str | None, list[tuple[int, Job]]] = {}    # function -> (end byte, job)
        self._waits: dict[str | None, list[int]] = {}              # function -> wait start bytes

    def add(self, statement, work: list[PerEventWork], node: Subshell | None = None,
            calls: bool = False) -> None:
        function = self.index.function_of(statement)
        jobs = self._jobs.setdefault(function, [])
        insort(jobs, (statement.end_byte, Job(statement, function, work, node, calls)), key=lambda e: e[0])

    def waited(self, wait, args: list) -> list[Job]:
        """The jobs whose status this `wait` command (``args``: its arguments) can return."""
        function = self.index.function_of(wait)
        waits = self._waits.setdefault(function, [])
        previous = waits[-1] if waits else -1
        waits.append(wait.start_byte)
        jobs = self._jobs.get(function)
        if not jobs:
            return []
        waits_next, operands = False, []
        at = 0
        while at < len(args):
            text = self.words.literal(args[at])
            if text == "--":
                operands = args[at + 1:]
                break
            if text not in WAIT_OPTIONS:
                operands = args[at:]
                break
            waits_next = waits_next or WAIT_OPTIONS[text] == "next"
            at += 2 if WAIT_OPTIONS[text] == "value" else 1
        if operands:
            return self._named(operands[-1], jobs, wait, function)   # (the last operand's status)
        if not waits_next:
            return []
        # `wait -n`: any job still running, those started since the `wait` before this one.
        found = []
        at = bisect_right(jobs, wait.start_byte, key=lambda e: e[0]) - 1
        while at >= 0 and jobs[at][1].statement.start_byte >= previous:
            found.append(jobs[at][1])
            at -= 1
        return found

    def _named(self, operand, jobs, wait, function) -> list[Job]:
        """The job a `wait` operand names: `$!` or a job spec of the last job; a variable whose
        last assignment before the `wait` is `$!` (`pid=$!`); anything else is not followed."""
        if self.words.literal(operand) in LAST_JOB_SPECS or "!" in expansion_names(operand):
            return self._last_before(jobs, wait.start_byte)
        found = []
        for name in expansion_names(operand):
            assignments = self.index.assignment_nodes.get(name, ())
            at = bisect_right(assignments, wait.start_byte, key=lambda n: n.start_byte) - 1
            while at >= 0 and self.index.function_of(assignments[at]) != function:
                at -= 1
            if at < 0:
                continue
            value = assignments[at].child_by_field_name("value")
            if value is not None and "!" in expansion_names(value):
                found.extend(j for j in self._last_before(jobs, assignments[at].start_byte) if j not in found)
        return found

    @staticmethod
    def _last_before(jobs, byte: int) -> list[Job]:
        """The job written last that ends before this byte (`$!` there)."""
        at = bisect_right(jobs, byte, key=lambda e: e[0]) - 1
        return [jobs[at][1]] if at >= 0 else []


def describe(job: Job, text_of=node_text) -> str:
    """The job as written, on one line, short enough for a message."""
    line = " ".join(text_of(job.statement).split())
    return line if len(line) <= 40 else line[:39] + "\u2026"
