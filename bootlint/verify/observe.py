"""What the run showed, as findings: the static rule's code when the behaviour is the one that
rule predicts, a BL5xx code for what no static rule can see. Every message says it was observed.

A finding is placed where ``check``'s model shows the code involved (the ``next`` request, the
handler call...), or at 1:1 when the model has no such place.
"""

from __future__ import annotations

from bootlint.model import ApiCall, Endpoint, RuntimeModel
from bootlint.diagnostics import Span
from bootlint.rules import all_rules
from bootlint.verify.scenario import Timeline
from bootlint.util.records import dataclass

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


def _numbers(ns: list[int]) -> str:
    """"invocation 2", "invocations 1, 3"."""
    ns = sorted(set(ns))
    return f"invocation{'s' if len(ns) > 1 else ''} {', '.join(map(str, ns))}"


class _Findings:
    """Observations collected one per cause: the same code and wording for several invocations
    becomes one observation that lists them (``{n}`` in the wording)."""

    def __init__(self, model: RuntimeModel | None) -> None:
        self.model = model
        self.causes: dict[tuple[str, str], list[int]] = {}
        self.order: list[tuple[str, str]] = []

    def add(self, code: str, message: str, n: int | None = None) -> None:
        key = (code, message)
        if key not in self.causes:
            self.causes[key] = []
            self.order.append(key)
        if n is not None:
            self.causes[key].append(n)

    def result(self) -> list[Observation]:
        out = []
        for code, message in self.order:
            ns = self.causes[(code, message)]
            text = message.replace("{n}", _numbers(ns)) if ns else message
            out.append(Observation(code, "observed: " + text, _place(self.model, code)))
        return out


def observations(timeline: Timeline, probe: bool, model: RuntimeModel | None,
                 timeout: float) -> list[Observation]:
    """Everything the run showed that is a problem, one observation per code and cause."""
    found = _Findings(model)
    add = found.add
    outcomes = timeline.outcomes
    number = {id(o): i + 1 for i, o in enumerate(outcomes)}
    by_id = {o.invocation.request_id: number[id(o)] for o in outcomes}

    # The process exited after answering instead of asking for the next event: after a
    # /response, the loop is missing (BL001); after an /error only, a failed invocation ends the
    # runtime (BL101), whatever the handler was.
    quits = [o for o in outcomes if o.after == "exited"]
    after_response = [o for o in quits if o.invocation.outcome == "response"]
    if after_response:
        first = after_response[0]
        add("BL001", f"the process exited ({first.exit}) after answering invocation {number[id(first)]} "
                     f"instead of asking for the next event: {timeline.main_starts} starts for "
                     f"{len(outcomes)} events, each a cold start that Lambda logs as \"Process exited "
                     f"before completing request\"")
    elif quits:
        first = quits[0]
        add("BL101", f"the process exited ({first.exit}) after posting /error for "
                     f"{{n}}, instead of asking for the next event: one failed invocation costs "
                     f"a cold start", number[id(first)])

    responds = any(x.invocation.outcome == "response" for x in outcomes if x.label == "success")
    posts_errors = model is not None and bool(model.api_calls(Endpoint.ERROR))
    for o in outcomes:
        n = number[id(o)]
        inv = o.invocation
        if inv.deliveries > 1:
            # Handed out twice: what became of it after that (a lost answer, a deadline) is the
            # second `next`'s doing, said once as its cause.
            add("BL505", "{n} got a second `next` before being answered: the runtime asks for "
                         "an event twice per iteration (or lost track of the open one); Lambda "
                         "hands the same invocation out again", n)
            continue
        if o.ended == "exited":
            if probe and o.label == "failure":
                add("BL101", f"the failing invocation {n} ended the process ({o.exit}) before it "
                             f"was answered: Lambda reports Runtime.ExitError and cold-starts the next call")
            else:
                add("BL504", f"the process exited ({o.exit}) during {{n}} without answering it "
                             f"(Runtime.ExitError)", n)
        elif o.ended == "init-exited":
            add("BL504", f"the process exited ({o.exit}) during initialisation, without posting "
                         f"/runtime/init/error, before asking for {{n}}", n)
        elif o.ended == "timeout":
            add("BL501", f"{{n}} not answered before the {timeout:g} s deadline (the process was "
                         f"killed, as Lambda does at the function timeout)", n)
        elif o.ended == "init-timeout":
            when = "of starting" if o.new_starts else "of being sent it, after answering the one before"
            add("BL501", f"the process did not ask for an event (GET /runtime/invocation/next) within "
                         f"{timeout:g} s {when}; {{n}} never reached it", n)
        if probe and o.label == "failure":
            if inv.outcome == "response":
                add("BL102", f"the failing invocation {n} was posted to /response, as a success")
            elif inv.outcome is None and responds and (
                    o.ended == "timeout" or (o.ended == "exited" and not posts_errors)):
                # An exit in a runtime that has an /error path is the exit's finding (BL101).
                add("BL102", f"the failing invocation {n} was never posted to /error, though the "
                             f"successful ones were posted to /response")
        if inv.error_body_problem:
            add("BL503", f"the /error body of {{n}} {inv.error_body_problem}: {_snippet(inv.body)}", n)
        if inv.failure == "Function.ResponseSizeTooLarge":
            why = next((w for status, w in inv.rejected if status == 413), "")
            add("BL502", f"{{n}}: {why} (Lambda answers 413 and the invocation fails with "
                         f"Function.ResponseSizeTooLarge)", n)

    _tmp(timeline, add)      # TMPDIR is watched at every `next`, whichever handler runs
    if probe:
        if not _workers_share_the_process(model):
            _trace(timeline, add, number)
        # The init run means something only if the good handler got the runtime to its loop.
        if any(o.invocation.delivered_at is not None for o in outcomes):
            _init(timeline, add)

    for record in timeline.records:
        n = by_id.get(record.request_id or "")
        if record.endpoint == "unknown":
            add("BL003", f"{record.method} {record.path} was answered 404: no such Runtime API endpoint")
        elif record.error == "InvalidRequestID" and n is not None:
            # A real request id, of an invocation that is not the open one: out of turn, not missing.
            add("BL505", f"/{record.endpoint} for {{n}} came while another invocation was open "
                         f"(answered 400 InvalidRequestID): answers out of turn, as concurrent "
                         f"workers give on single-concurrency Lambda", n)
        elif record.error == "InvalidRequestID":
            add("BL005", f"{record.method} {record.path} was answered 400: {record.why}")
        elif record.error == "InvalidResponseModeHeader":
            add("BL505", f"{{n}}: {record.why}: Lambda answers 400 and the invocation fails with "
                         f"Runtime.InvalidResponseModeHeader", n)
        elif record.error == "InvalidStateTransition" and record.endpoint in ("response", "error"):
            invocation = next((o.invocation for o in outcomes if o.invocation.request_id == record.request_id), None)
            if invocation is not None and invocation.outcome in ("response", "error"):
                add("BL505", f"/{record.endpoint} was posted for {{n}} after its /{invocation.outcome} "
                             f"had been accepted: one answer per invocation (answered 403 "
                             f"InvalidStateTransition)", n)
            elif invocation is None:
                add("BL505", f"/{record.endpoint} was posted when no invocation was open "
                             f"({record.method} {record.path}, answered 403 InvalidStateTransition)")
        elif record.endpoint == "init/error" and record.status == 403 and record.state != "init-error":
            add("BL505", "/runtime/init/error was posted after the init phase was over (the first "
                         "`next` ends it): answered 403 InvalidStateTransition; a failure after "
                         "init belongs to the invocation's /error")
        elif record.endpoint == "init/error" and record.status == 202 and record.why:
            add("BL503", f"the /init/error body {record.why}: {_snippet(record.body)}")
    return found.result()


def init_errors(timeline: Timeline) -> list[str]:
    """What the runtime reported with /init/error (errorType: errorMessage), once per message."""
    seen: list[str] = []
    for record in timeline.records:
        if record.endpoint == "init/error" and record.status == 202:
            said = describe_error(record.body)
            if said not in seen:
                seen.append(said)
    return seen


def describe_error(body: bytes) -> str:
    """``errorType: errorMessage`` of an error body, or its first bytes when it is not JSON."""
    import json

    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict) and (data.get("errorType") or data.get("errorMessage")):
        return f"{str(data.get('errorType') or '')[:80]}: {str(data.get('errorMessage') or '')[:200]}"
    return _snippet(body)


def _workers_share_the_process(model: RuntimeModel | None) -> bool:
    """Threads or asyncio tasks serve invocations in one process: _X_AMZN_TRACE_ID, a process-wide
    variable, cannot be per invocation there (AWS's own clients stop setting it), so a handler that
    sees none is not BL201 (check exempts them too; setting it is BL703)."""
    concurrency = getattr(model, "concurrency", None) if model is not None else None
    return concurrency is not None and any(w.kind.shares_process for w in concurrency.workers)


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
    # Growth, not a file written once: the last successful invocation must itself have left a
    # new entry (a fixed name written on the failure path alone stays one entry).
    if len(snaps) >= 2 and len(snaps[-1]) > len(snaps[0]) and set(snaps[-1]) - set(snaps[-2]):
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
