"""What the run showed, as findings: the static rule's code when the behaviour is the one that
rule predicts, a BL5xx code for what no static rule can see. Every message says it was observed.

A finding is placed where ``check``'s model shows the code involved (the ``next`` request, the
handler call...), or at 1:1 when the model has no such place.
"""

from __future__ import annotations

from dataclasses import dataclass

from bootlint.model import ApiCall, Endpoint, RuntimeModel
from bootlint.diagnostics import Span
from bootlint.rules import all_rules
from bootlint.verify.scenario import Timeline

START = Span(1, 1, 1, 1)

# The static rules that predict each observation: the differential test accepts any of them
# (from the rule definitions: ``Rule.observed``).
STATIC_CAUSES: dict[str, tuple[str, ...]] = {
    code: (code, *rule.observed.also_predicted_by)
    for code, rule in all_rules().items() if rule.observed is not None and rule.check is not None}


@dataclass(frozen=True)
class Observation:
    code: str
    message: str
    span: Span = START


def _first(model: RuntimeModel | None, kind: type, *endpoints: Endpoint) -> Span | None:
    if model is None:
        return None
    nodes = model.api_calls(*endpoints) if kind is ApiCall else model.events(kind)
    return nodes[0].span if nodes else None


def _place(model: RuntimeModel | None, code: str) -> Span:
    """Where the rule's definition says its observation is placed (``Rule.observed``)."""
    observed = all_rules()[code].observed
    return (_first(model, observed.at, *observed.endpoints) if observed else None) or START


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def observations(timeline: Timeline, probe: bool, model: RuntimeModel | None,
                 timeout: float) -> list[Observation]:
    """Everything the run showed that is a problem, one observation per code and cause."""
    out: list[Observation] = []

    def add(code: str, message: str) -> None:
        out.append(Observation(code, "observed: " + message, _place(model, code)))

    outcomes = timeline.outcomes
    number = {id(o): i + 1 for i, o in enumerate(outcomes)}

    # BL001: the process exited after answering instead of asking for the next event.
    quits = [o for o in outcomes if o.after == "exited"]
    if quits and not (probe and all(o.label == "failure" for o in quits)):
        first = quits[0]
        add("BL001", f"the process exited ({first.exit}) after answering invocation {number[id(first)]} "
                     f"instead of asking for the next event: {timeline.main_starts} starts for "
                     f"{len(outcomes)} events, each a cold start that Lambda logs as \"Process exited "
                     f"before completing request\"")
    elif quits:
        first = quits[0]
        add("BL101", f"the process exited ({first.exit}) after reporting the failing invocation "
                     f"{number[id(first)]}, instead of asking for the next event")

    for o in outcomes:
        n = number[id(o)]
        inv = o.invocation
        if o.ended == "exited":
            if probe and o.label == "failure":
                add("BL101", f"the failing invocation {n} ended the process ({o.exit}) before it "
                             f"was answered: Lambda reports Runtime.ExitError and cold-starts the next call")
            else:
                add("BL504", f"the process exited ({o.exit}) during invocation {n} without answering it "
                             f"(Runtime.ExitError)")
        elif o.ended == "init-exited":
            add("BL504", f"the process exited ({o.exit}) during initialisation, before asking for "
                         f"invocation {n}")
        elif o.ended == "timeout":
            add("BL501", f"invocation {n} was not answered before its {timeout:g} s deadline "
                         f"(the process was killed, as Lambda does at the function timeout)")
        elif o.ended == "init-timeout":
            when = "of starting" if o.new_starts else "of being sent it, after answering the one before"
            add("BL501", f"the process did not ask for an event (GET /runtime/invocation/next) within "
                         f"{timeout:g} s {when}; invocation {n} never reached it")
        responds = any(x.invocation.outcome == "response" for x in outcomes if x.label == "success")
        if probe and o.label == "failure":
            if inv.outcome == "response":
                add("BL102", f"the failing invocation {n} was posted to /response, as a success")
            elif inv.outcome is None and responds and o.ended in ("exited", "timeout"):
                add("BL102", f"the failing invocation {n} was never posted to /error, though the "
                             f"successful ones were posted to /response")
        if inv.error_body_problem:
            add("BL503", f"the /error body of invocation {n} {inv.error_body_problem}: "
                         f"{_snippet(inv.body)}")
        for status, why in inv.rejected:
            if status == 413:
                add("BL502", f"invocation {n}: {why} (Lambda answers 413 and the invocation fails "
                             f"with Function.ResponseSizeTooLarge)")

    if probe:
        _trace(timeline, add, number)
        _tmp(timeline, add)
        # The init run means something only if the good handler got the runtime to its loop.
        if any(o.invocation.delivered_at is not None for o in outcomes):
            _init(timeline, add)

    for record in timeline.records:
        if record.endpoint == "unknown":
            add("BL003", f"{record.method} {record.path} was answered 404: no such Runtime API endpoint")
        elif record.status == 400:
            add("BL005", f"{record.method} {record.path} was answered 400: {record.why}")
        elif record.endpoint == "init/error" and record.why:
            add("BL503", f"the /init/error body {record.why}: {_snippet(record.body)}")
    seen: set[tuple[str, str]] = set()
    unique = []
    for item in out:
        if (item.code, item.message) not in seen:
            seen.add((item.code, item.message))
            unique.append(item)
    return unique


def _trace(timeline: Timeline, add, number) -> None:
    """BL201: what trace id the probe saw in each successful invocation, said once."""
    traces: dict[str | None, int] = {}
    missing, stale, other = [], [], []
    for o in timeline.outcomes:
        n = number[id(o)]
        seen = timeline.probes.get(n)
        if seen is not None and o.label == "success" and o.invocation.trace_id:
            got = seen.get("trace") or ""
            if not got:
                missing.append(str(n))
            elif got in traces:
                stale.append(f"{n} (that of invocation {traces[got]})")
            elif got != o.invocation.trace_id:
                other.append(f"{n} ({got})")
        traces[o.invocation.trace_id] = n
    said = [f"{what} in invocation{'s' if len(ns) > 1 else ''} {', '.join(ns)}"
            for what, ns in (("no _X_AMZN_TRACE_ID", missing), ("a stale trace id", stale),
                             ("another trace id", other)) if ns]
    if said:
        add("BL201", f"the handler saw {'; '.join(said)}, though each `next` sent its own "
                     f"Lambda-Runtime-Trace-Id: X-Ray cannot connect the handler's segments")


def _tmp(timeline: Timeline, add) -> None:
    snaps = [o.tmp_entries for o in timeline.outcomes if o.tmp_entries is not None]
    if len(snaps) >= 2 and len(snaps[-1]) > len(snaps[0]):
        new = [e for e in snaps[-1] if e not in snaps[0]]
        add("BL301", f"{len(new)} more entr{'y' if len(new) == 1 else 'ies'} in TMPDIR after "
                     f"{len(timeline.outcomes)} invocations than after the first "
                     f"({', '.join(new[:3])}{', ...' if len(new) > 3 else ''}): /tmp fills up")


def _init(timeline: Timeline, add) -> None:
    run = timeline.init_run
    if run is None:
        return
    if run.posted is None:
        if run.before_post == "next":
            add("BL103", "with a handler that cannot load, nothing was posted to /runtime/init/error "
                         "and the runtime went on to ask for events")
        elif run.before_post == "exited":
            add("BL103", f"with a handler that cannot load, the process exited ({run.exit}) without "
                         f"posting /runtime/init/error")
        else:
            add("BL103", "with a handler that cannot load, nothing was posted to /runtime/init/error "
                         "before the deadline")
    elif run.after_post in ("next", "running"):
        add("BL104", "after posting /runtime/init/error the process went on ("
                     + ("it asked for an event" if run.after_post == "next" else "it was still running")
                     + ") instead of exiting")


def _snippet(body: bytes) -> str:
    text = body[:80].decode("utf-8", "replace").replace("\n", "\\n")
    return f"`{text}{'...' if len(body) > 80 else ''}`" if text else "an empty body"
