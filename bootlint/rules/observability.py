"""BL2xx rules about tracing and headers."""

from __future__ import annotations

from typing import Iterator

from bootlint.model import ApiCall, Endpoint, EnvSet, HeaderMatch, PerEventWork
from bootlint.diagnostics import Related, Violation
from bootlint.fixes.requests import ExportTraceId
from bootlint.rules.registry import Observed, rule
from bootlint.rules.subject import Subject, about_request

TRACE_VARIABLE = "_X_AMZN_TRACE_ID"
LOOK_ALIKES = {"X_AMZN_TRACE_ID", "AWS_LAMBDA_TRACE_ID", "TRACE_ID", "_X_AMZN_TRACE", "X_AMZ_TRACE_ID",
               "_X_AMZ_TRACE_ID", "AMZN_TRACE_ID", "LAMBDA_RUNTIME_TRACE_ID"}


@rule("BL201", "trace-id-not-propagated", "warning",
      "The runtime never exports _X_AMZN_TRACE_ID from the Lambda-Runtime-Trace-Id header.",
      fixes=(ExportTraceId,), observed=Observed(ApiCall, (Endpoint.NEXT,)))
def trace_id_not_propagated(subject: Subject) -> Iterator[Violation]:
    model = subject.model
    nexts = [c for c in model.api_calls() if c.endpoint.name == "NEXT"]
    if not nexts:
        return
    concurrency = model.concurrency
    if concurrency is not None and any(w.kind.shares_process for w in concurrency.workers):
        return  # threads or tasks of one process: the variable cannot be per invocation (BL703)
    sets = model.events(EnvSet)
    if any(s.name == TRACE_VARIABLE and s.exported for s in sets):
        yield from _set_once(subject, nexts)
        return
    hint = ""
    for s in sets:
        if s.name == TRACE_VARIABLE:
            hint = f" (line {s.span.line} sets it but does not export it)"
            break
        if s.name.upper() in LOOK_ALIKES:
            hint = f" (line {s.span.line} sets `{s.name}`, which X-Ray does not read)"
            break
    if not hint and not model.api_calls(Endpoint.RESPONSE, Endpoint.ERROR) and any(
            h.trace_handed is not False for h in model.events(PerEventWork)):
        # A program given each event posts its result, and the trace id (or the headers) is
        # handed to it: passing the header on is that program's part of the protocol. Handed
        # nothing but the event and the request id, it cannot.
        return
    idioms = subject.idioms
    setter = idioms.export.format(name=TRACE_VARIABLE, value=idioms.variable.format(name="TRACE_ID"))
    yield about_request(nexts[0], nexts[0].span, (
        f"the runtime never sets _X_AMZN_TRACE_ID from the Lambda-Runtime-Trace-Id header{hint}: "
        f"X-Ray cannot connect the handler's segments to the invocation; after each `next`, "
        f"`{setter}`"), _trace_fix(subject, nexts[0]))


def _set_once(subject: Subject, nexts) -> Iterator[Violation]:
    """_X_AMZN_TRACE_ID exported, but set only where the event loop never passes (before it, at
    start-up): every handler then sees that one value, not its own invocation's trace id."""
    flow = subject.flow
    loops = [occ for occ in flow.of(ApiCall) if occ.node.endpoint is Endpoint.NEXT
             and flow.in_event_loop(occ.ctx) is not None]
    if not loops:
        return   # no event loop (BL001's finding): nothing runs per invocation
    sets = [occ for occ in flow.of(EnvSet, reachable_only=False) if occ.node.name == TRACE_VARIABLE]
    if not sets or any(flow.in_event_loop(occ.ctx) is not None for occ in sets):
        return
    first = min((occ.node for occ in sets), key=lambda n: (n.span.line, n.span.column))
    yield Violation(first.span, (
        f"_X_AMZN_TRACE_ID is set only here, outside the event loop: every invocation's handler "
        f"sees this one value, not the Lambda-Runtime-Trace-Id of its own `next`, and X-Ray joins "
        f"the segments to the wrong trace; set it after each `next`"),
        related=(Related(loops[0].node.span, "the `next` request whose header holds the value"),))


def _trace_fix(subject: Subject, next_call) -> ExportTraceId | None:
    """Read the trace header the way the file reads the request id (the variable its /response
    or /error URL puts in the path)."""
    found = []
    for call in subject.model.api_calls(Endpoint.RESPONSE, Endpoint.ERROR):
        rid = call.url.request_id if call.url is not None else None
        names = [p.var for p in (rid.pieces if rid else ()) if p.var]
        if len(names) == 1 and names[0] not in found:
            found.append(names[0])
    return ExportTraceId(tuple(found), next_call.span) if found else None


@rule("BL202", "case-sensitive-header-match", "warning",
      "A `next` response header is matched with its exact case.")
def case_sensitive_header_match(subject: Subject) -> Iterator[Violation]:
    case_fold = subject.idioms.case_fold
    for match in subject.model.events(HeaderMatch):
        if not match.case_sensitive:
            continue
        fix = case_fold.get(match.how) or case_fold[""]
        yield Violation(match.span, (
            f"`{match.header}` is matched with its exact case, but HTTP header names are "
            f"case-insensitive and may arrive as `{match.header.lower()}`: the value is then empty; {fix}"))
