"""The run: start the bootstrap against the emulator, send it events one at a time, and note
what the process did with each, as Lambda would see it.

Lambda semantics kept here: one process serves invocations until it exits; an invocation that
finds no process (or one that died) starts a new one, which must initialise again (a cold start);
an invocation past its deadline ends the process; an init run whose handler cannot load must
post ``/runtime/init/error`` and exit.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import field

from bootlint.verify.emulator import Invocation, Record, RuntimeApi
from bootlint.verify.emulator.server import new_trace_id
from bootlint.verify.process import EnvironmentProblem, Start
from bootlint.util.records import dataclass


@dataclass
class Outcome:
    """What became of one invocation."""

    label: str                    # "success", "failure" or "event" (a user's event)
    invocation: Invocation
    start: int = 0                # the start (1-based) that received it, 0 if none did
    new_starts: int = 0           # processes started for it (a cold start each)
    ended: str = ""               # answered, exited, timeout, init-error, init-exited, init-timeout
    init_error: Record | None = None   # the /init/error the start posted (ended: init-error)
    exit: str = ""                # how the process ended, when it did
    after: str = ""               # after the answer: next, exited, idle
    overhead: float | None = None  # seconds from the answer to the next `next`
    tmp_entries: list[str] | None = None   # TMPDIR's entries when the next `next` arrived


@dataclass
class InitRun:
    """The start whose handler cannot load."""

    posted: Record | None = None
    after_post: str = ""          # exited, next, running
    before_post: str = ""         # exited, next, timeout (nothing posted)
    exit: str = ""


@dataclass
class Timeline:
    outcomes: list[Outcome] = field(default_factory=list)
    starts: list[Start] = field(default_factory=list)
    main_starts: int = 0          # starts before the init run
    init_times: list[float] = field(default_factory=list)
    init_run: InitRun | None = None
    records: list[Record] = field(default_factory=list)
    probes: dict[int, dict] = field(default_factory=dict)   # probe number -> what it saw


class Driver:
    """Runs events through one emulator against (re)started processes of one bootstrap."""

    def __init__(self, api: RuntimeApi, launch: dict, timeout: float, marker: str, tmpdir: str) -> None:
        self.api, self.launch, self.timeout, self.marker, self.tmpdir = api, launch, timeout, marker, tmpdir
        self.timeline = Timeline()
        self.current: Start | None = None
        self._snapshots: list[tuple[float, list[str]]] = []
        self._in_init_run = False
        api.on_next = self._on_next

    # --- processes -------------------------------------------------------------------------
    def _start(self) -> Start:
        if self.current is not None:
            self.current.kill(self.marker)
        self.api.new_init_phase()
        start = Start(len(self.timeline.starts) + 1, **self.launch)
        self.timeline.starts.append(start)
        self.current = start
        return start

    def _on_next(self, record: Record) -> None:
        try:
            entries = sorted(os.listdir(self.tmpdir))
        except OSError:
            entries = []
        self._snapshots.append((record.at, entries))
        start = self.current
        if start is not None and not self._in_init_run and not any(r.endpoint == "next" and r.at >= start.started_at
                                         for r in self.api.records):
            self.timeline.init_times.append(record.at - start.started_at)

    def _init_error_of(self, start: Start) -> Record | None:
        """The /init/error this start posted and the API accepted, if any."""
        return next((r for r in self.api.records if r.endpoint == "init/error" and r.status == 202
                     and r.at >= start.started_at), None)

    def _next_after(self, moment: float) -> Record | None:
        return next((r for r in self.api.records if r.endpoint == "next" and r.at > moment), None)

    def _since(self, moment: float, endpoint: str) -> Record | None:
        return next((r for r in self.api.records if r.endpoint == endpoint and r.at >= moment), None)

    # --- invocations -----------------------------------------------------------------------
    def invoke(self, label: str, event: bytes, trace: bool = True) -> Outcome:
        invocation = Invocation(event, trace_id=new_trace_id() if trace else None, timeout=self.timeout)
        outcome = Outcome(label, invocation)
        self.timeline.outcomes.append(outcome)
        self.api.queue(invocation)
        start = self.current
        while True:
            if invocation.outcome is not None:
                outcome.ended = "answered"
                break
            if start is None or not start.alive:
                if start is not None and not outcome.new_starts:
                    self._exited_while_idle(start)
                if invocation.delivered_at is not None:
                    outcome.ended, outcome.exit = "exited", start.describe_exit()
                    break
                if outcome.new_starts and start is not None:
                    # The process started for this event died before asking for it: after
                    # reporting its init failure (what a runtime must do), or without a word.
                    posted = self._init_error_of(start)
                    outcome.ended = "init-error" if posted is not None else "init-exited"
                    outcome.exit, outcome.init_error = start.describe_exit(), posted
                    self.api.withdraw(invocation)
                    break
                start = self._start()
                outcome.new_starts += 1
            now = time.monotonic()
            if invocation.delivered_at is None and now - max(start.started_at, invocation.queued_at or 0) > self.timeout:
                outcome.ended = "init-timeout"
                self.api.withdraw(invocation)
                start.kill(self.marker)
                break
            if invocation.delivered_at is not None and now - invocation.delivered_at > self.timeout:
                outcome.ended = "timeout"
                start.kill(self.marker)
                outcome.exit = "killed at the deadline"
                break
            if self.api.starved:
                start.kill(self.marker)
                raise EnvironmentProblem("the Runtime API could not start a thread for a request: "
                                         "the user's process limit (ulimit -u) is reached")
            self.api.wait(lambda: invocation.outcome is not None, 0.02)
        if invocation.delivered_at is not None:
            outcome.start = start.number if start else 0
        if outcome.ended == "answered":
            self._after_answer(outcome, start)
        return outcome

    def _after_answer(self, outcome: Outcome, start: Start) -> None:
        answered = outcome.invocation.answered_at or time.monotonic()
        # A loop asks again at once and a process that quits exits at once: only a runtime that
        # hangs after answering makes this wait its whole deadline.
        end = time.monotonic() + self.timeout
        while time.monotonic() < end:
            nxt = self._next_after(answered)
            if nxt is not None:
                outcome.after, outcome.overhead = "next", nxt.at - answered
                outcome.tmp_entries = next((e for at, e in self._snapshots if at == nxt.at), None)
                return
            if not start.alive:
                outcome.after, outcome.exit = "exited", start.describe_exit()
                return
            self.api.wait(lambda: self._next_after(answered) is not None, 0.02)
        outcome.after = "idle"

    def _exited_while_idle(self, start: Start) -> None:
        """The process that answered the last invocation exited later than the wait after it
        (a slow machine): that is an exit after answering all the same, not a silent pass."""
        for earlier in reversed(self.timeline.outcomes[:-1]):
            if earlier.start == start.number and earlier.after == "idle":
                earlier.after, earlier.exit = "exited", start.describe_exit()
            if earlier.start != start.number:
                break

    def stop(self) -> None:
        if self.current is not None:
            self.current.kill(self.marker)

    # --- the init run ----------------------------------------------------------------------
    def init_run(self) -> InitRun:
        """Start the bootstrap with a handler that cannot load and see what it reports."""
        run = InitRun()
        self.timeline.init_run = run
        self._in_init_run = True
        start = self._start()
        begun = start.started_at

        def settled() -> bool:
            return (self._since(begun, "init/error") is not None or self._next_after(begun) is not None
                    or not start.alive)

        end = begun + self.timeout
        while not settled() and time.monotonic() < end:
            self.api.wait(settled, 0.02)
        run.posted = self._since(begun, "init/error")
        if run.posted is None:
            run.before_post = ("next" if self._next_after(begun) else
                               "exited" if not start.alive else "timeout")
        else:
            posted_at = run.posted.at

            def done() -> bool:
                return not start.alive or self._next_after(posted_at) is not None

            end = time.monotonic() + self.timeout
            while not done() and time.monotonic() < end:
                self.api.wait(done, 0.02)
            run.after_post = "exited" if not start.alive else (
                "next" if self._next_after(posted_at) else "running")
        run.exit = start.describe_exit()
        start.kill(self.marker)
        return run

    def collect_probes(self) -> None:
        """The probe's `BOOTLINT-PROBE` lines from every start's stderr."""
        from bootlint.verify.probe import MARKER

        for start in self.timeline.starts:
            for line in start.stderr.marked:
                if line.startswith(MARKER + " "):
                    try:
                        seen = json.loads(line[len(MARKER) + 1:])
                        self.timeline.probes[int(seen["probe"])] = seen
                    except (ValueError, KeyError, TypeError):
                        continue
        self.timeline.records = list(self.api.records)


def probe_event(number: int, action: str) -> bytes:
    """The event the probe reads: its number and whether it should fail."""
    return json.dumps({"bootlint-probe": number, "action": action}).encode()
