"""``bootlint verify --target managed-instances``: run the bootstrap as Lambda Managed Instances
does, with ``AWS_LAMBDA_MAX_CONCURRENCY`` invocations at once, and report what the concurrency
did to it, with the static codes (BL7xx).

The run: one process is started (nothing is frozen, a timed-out invocation is not stopped);
init ends at the first ``next``; the workers are given a moment to poll; then twice the
concurrency of probe events are queued at once, at most the concurrency in flight. Observed:
an answer carrying another invocation's result (cross-talk: BL702), a probe that saw another
invocation's trace id (BL703), the first process exiting while invocations are in flight
(BL704), a deadline passed (the late answer gets 410), how many workers polled at once (one:
BL706).
"""

from __future__ import annotations

import json
import time

from bootlint.diagnostics import Finding, Span
from bootlint.model import Endpoint
from bootlint.verify.emulator.server import Invocation, new_trace_id
from bootlint.verify.scenario import probe_event

START = Span(1, 1, 1, 1)
SETTLE = 1.0        # seconds the workers get to call `next` after the first one


def environment(concurrency: int) -> dict[str, str]:
    """The variables Lambda adds on Managed Instances."""
    return {"AWS_LAMBDA_MAX_CONCURRENCY": str(concurrency),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "lambda-managed-instances"}


def run_managed(result, launch: dict, model, probe, concurrency: int, timeout: float, marker: str) -> None:
    """Drive one process of the bootstrap (``launch``: Start's arguments, without its number)
    through overlapping invocations; adds findings and log lines to ``result``."""
    from bootlint.verify.emulator.concurrent import ConcurrentApi
    from bootlint.verify.probe import MARKER
    from bootlint.verify.process import Start

    with ConcurrentApi(concurrency) as api:
        launch = dict(launch)
        launch["env"] = {**launch["env"], "AWS_LAMBDA_RUNTIME_API": api.address, **environment(concurrency)}
        result.log.insert(0, f"verify: running {result.display} as on Lambda Managed Instances "
                          f"(AWS_LAMBDA_MAX_CONCURRENCY={concurrency}) against a local Runtime API at "
                          f"{api.address} (it executes the bootstrap)")
        start = Start(1, **launch)
        invocations: list[Invocation] = []
        exited_with: list[Invocation] = []
        waiting: list[Invocation] = []
        polling = 0
        try:
            began = start.started_at
            api.wait(lambda: api.init_over or not start.alive, timeout)
            if not api.init_over:
                why = "exited" if not start.alive else "did not call next"
                result.log.append(f"  init: the process {why} within {timeout:g} s: {start.describe_exit()}")
                return
            result.log.append(f"  init: {api.records[0].at - began:.2f} s to the first next")
            api.wait(lambda: api.held >= concurrency or not start.alive, SETTLE)
            polling = api.held
            count = 2 * concurrency
            invocations = []
            for n in range(1, count + 1):
                action = "fail" if n == 2 else "succeed"
                invocations.append(Invocation(probe_event(n, action), trace_id=new_trace_id(), timeout=timeout))
            for invocation in invocations:
                api.queue(invocation)
            end = time.monotonic() + timeout * (count + 2)
            while time.monotonic() < end:
                now = time.monotonic()
                api.expire(now)
                if not start.alive:
                    exited_with = api.fail_in_flight("Runtime.ExitError", now)
                    waiting = [i for i in invocations if i.delivered_at is None]
                    break
                if all(i.outcome is not None for i in invocations):
                    break
                api.wait(lambda: all(i.outcome is not None for i in invocations) or not start.alive, 0.05)
            # A late answer to a timed-out invocation gets its 410 while the process still runs.
            if api.timed_out and start.alive:
                api.wait(lambda: any(r.status == 410 for r in api.records), min(timeout, 2.0))
        finally:
            exit_text = start.describe_exit() if not start.alive else ""
            start.kill(marker)
        probes = {}
        for line in start.stderr.marked:
            if line.startswith(MARKER + " "):
                try:
                    seen = json.loads(line[len(MARKER) + 1:])
                    probes.setdefault(int(seen["probe"]), []).append(seen)
                except (ValueError, KeyError, TypeError):
                    continue
        observations = _observe(api, invocations, probes, polling, concurrency, exited_with, waiting,
                                exit_text, probe is not None)
        result.log.extend(_describe(api, invocations, polling, concurrency))
    _findings(result, model, observations)


def _observe(api, invocations, probes, polling, concurrency, exited_with, waiting, exit_text, probe_used):
    """(code, message) for what the run showed."""
    out: list[tuple[str, str]] = []
    by_number = {n: i for n, i in enumerate(invocations, start=1)}
    number_of = {i.request_id: n for n, i in by_number.items()}
    crossed = []
    for record in api.records:
        if record.endpoint != "response" or record.request_id not in number_of:
            continue
        try:
            posted = json.loads(record.body or b"null")
        except ValueError:
            continue
        said = posted.get("bootlint-probe") if isinstance(posted, dict) else None
        own = number_of[record.request_id]
        if isinstance(said, int) and said != own and said in by_number:
            crossed.append(f"invocation {said}'s result was posted for invocation {own} "
                           f"(answered {record.status})")
    twice = [number_of[rid] for rid in number_of
             if sum(1 for r in api.records if r.request_id == rid and r.endpoint in ("response", "error")) > 1]
    # An id never sent: two workers' headers run together, or one read the other's half-written.
    strangers = [r.request_id for r in api.records
                 if r.endpoint in ("response", "error") and r.status == 400 and r.request_id not in number_of]
    if (crossed or twice or strangers) and api.most_in_flight > 1:
        parts = crossed[:3]
        if twice:
            parts.append(f"invocations {', '.join(map(str, sorted(twice)))} were answered more than once")
        if strangers:
            parts.append(f"{len(strangers)} answer(s) went to request ids never sent, such as "
                         f"`{(strangers[0] or '')[:80]}`")
        what = "; ".join(parts)
        out.append(("BL702", f"observed: with {concurrency} invocations in flight, answers reached the wrong "
                             f"invocations ({what}): the workers share what one invocation's `next` wrote "
                             f"(a fixed path such as /tmp/headers, or a file made before they started)"))
    if probe_used:
        traces = {i.trace_id: n for n, i in by_number.items() if i.trace_id}
        wrong = []
        for n, seen in sorted(probes.items()):
            for item in seen:
                other = traces.get(item.get("trace") or "")
                if other is not None and other != n:
                    wrong.append(f"invocation {n}'s handler saw invocation {other}'s")
        if wrong:
            out.append(("BL703", f"observed: the trace id reached the wrong handler ({'; '.join(wrong[:3])}): "
                                 f"_X_AMZN_TRACE_ID is the process's, shared by concurrent workers"))
    if exited_with or waiting:
        numbers = ", ".join(str(number_of[i.request_id]) for i in exited_with)
        left = ", ".join(str(number_of[i.request_id]) for i in waiting)
        what = " and ".join(part for part in (f"invocations {numbers} in flight" if numbers else "",
                                              f"invocations {left} still to serve" if left else "") if part)
        out.append(("BL704", f"observed: the process Lambda started exited ({exit_text}) with {what}: those "
                             f"in flight fail with Runtime.ExitError and the environment is torn down"))
    if polling <= 1 and concurrency > 1 and not exited_with and not waiting:
        out.append(("BL706", f"observed: one worker called `next` ({polling} of {concurrency} polling at once, "
                             f"at most {api.most_in_flight} invocation(s) in flight): the environment serves "
                             f"one invocation at a time"))
    return out


def _describe(api, invocations, polling, concurrency) -> list[str]:
    lines = [f"  workers polling at once: {polling} of {concurrency}; invocations in flight at most: "
             f"{api.most_in_flight}"]
    for n, invocation in enumerate(invocations, start=1):
        took = (f"{invocation.answered_at - invocation.delivered_at:.2f} s"
                if invocation.answered_at and invocation.delivered_at else "-")
        what = invocation.outcome if invocation.outcome != "closed" else invocation.failure
        lines.append(f"  invocation {n}: {what or 'not sent'} ({took})")
    late = [r for r in api.records if r.status == 410]
    if late:
        lines.append(f"  late answers refused (410 InvokeTimeout): {len(late)}")
    return lines


def _findings(result, model, observations) -> None:
    from bootlint.rules import all_rules

    rules = all_rules()
    facts = getattr(model, "concurrency", None) if model is not None else None
    nexts = [c for c in (model.api_calls(Endpoint.NEXT) if model is not None else [])]
    for code, message in observations:
        span = nexts[0].span if nexts else START
        if facts is not None:
            if code == "BL702" and facts.shared_writes:
                span = facts.shared_writes[0].span
            elif code == "BL703" and facts.trace_writes:
                span = facts.trace_writes[0].span
            elif code == "BL704" and facts.parent_ends:
                span = facts.parent_ends[0].span
        rule = rules[code]
        result.findings.append(Finding(rule.code, rule.name, rule.severity, message, result.display, span))
    result.observed = observations
