"""BL1xx rules about how failures are handled and reported."""

from __future__ import annotations

from typing import Iterator

from bootlint.flow import Structure
from bootlint.model import ApiCall, Endpoint, Exit, Facts, HandlerCall, InitStep, SetOption, TrapSet, Violation
from bootlint.rules import Report, Subject, about_request, rule


def _errexit_origin(subject: Subject) -> str:
    """Where errexit was switched on, for the message."""
    for opt in subject.model.events(SetOption):
        if opt.errexit:
            return f"`set -e` on line {opt.span.line}"
    return "errexit on the shebang line"


def _unresolved_calls(subject: Subject) -> bool:
    """Some Runtime API request's endpoint is not known statically: it could be any of them."""
    return any(c.url is not None and c.url.unresolved for c in subject.model.events(ApiCall))


@rule("BL101", "invocation-failure-kills-runtime", "error",
      "One failing handler call ends the whole runtime (errexit, an uncaught exception).")
def invocation_failure_kills_runtime(subject: Subject) -> Iterator[Report]:
    for occ in subject.flow.of(HandlerCall):
        node, ctx = occ.node, occ.ctx
        if not ctx.errexit or ctx.guarded or not node.status_kept:
            continue
        if node.in_pipe and not ctx.pipefail:
            continue
        idioms = subject.idioms
        why = idioms.unguarded.format(errexit=_errexit_origin(subject))
        yield Violation(node.span, f"the handler call {why} (Runtime.ExitError, a cold start for "
                                   f"the next call); {idioms.guard}")


@rule("BL102", "invocation-error-unreported", "warning",
      "The runtime posts /response but never /invocation/{id}/error.")
def invocation_error_unreported(subject: Subject) -> Iterator[Report]:
    model = subject.model
    responses = model.api_calls(Endpoint.RESPONSE)
    if not responses or model.api_calls(Endpoint.ERROR) or _unresolved_calls(subject):
        return
    yield about_request(responses[0], responses[0].span, (
        "the runtime posts /response but no path posts /invocation/{id}/error: a failed invocation "
        "is reported as a success or hangs until the function times out; post failures to "
        "/invocation/$REQUEST_ID/error"))


@rule("BL103", "init-error-unreported", "warning",
      "Initialisation can fail and nothing posts /runtime/init/error.")
def init_error_unreported(subject: Subject) -> Iterator[Report]:
    model = subject.model
    steps = model.events(InitStep)
    if not steps or model.api_calls(Endpoint.INIT_ERROR) or _unresolved_calls(subject):
        return
    yield Violation(steps[0].span, (
        "loading the handler can fail here and nothing posts /runtime/init/error: the failure "
        "reaches Lambda only as an exit; on failure post the error to /runtime/init/error and exit"))


@rule("BL104", "init-error-without-exit", "warning",
      "After posting /runtime/init/error the runtime goes on instead of exiting.")
def init_error_without_exit(subject: Subject) -> Iterator[Report]:
    structure = Structure(subject.model)
    exit_now = f"`{subject.idioms.exit_now}`"
    for call in subject.model.api_calls(Endpoint.INIT_ERROR):
        if not structure.ends_after(call, (Exit,)):
            yield about_request(call, call.span, (
                f"after posting /runtime/init/error the runtime goes on: the API requires it to exit, "
                f"and a later `next` is answered with an error; add {exit_now} on this path"))


@rule("BL105", "malformed-error-report", "warning",
      "An /error or /init/error body that is not the documented error JSON.")
def malformed_error_report(subject: Subject) -> Iterator[Report]:
    fix = subject.idioms.error_json
    for call in subject.model.api_calls(Endpoint.ERROR, Endpoint.INIT_ERROR):
        fact = call.facts.get(Facts.BODY_MALFORMED)
        if fact is None:
            continue
        yield about_request(call, fact.span, (f"the error body {fact.detail}: Lambda expects "
                          f'{{"errorMessage": "...", "errorType": "...", "stackTrace": ["..."]}}; {fix}'))


@rule("BL106", "masked-handler-status", "warning",
      "`local`/`export`/`declare` assign the handler's output and hide its exit status.")
def masked_handler_status(subject: Subject) -> Iterator[Report]:
    for call in subject.model.events(HandlerCall):
        if not call.masked_by or call.masked_at is None:
            continue
        name = call.masked_by
        yield Violation(call.masked_at, (
            f"`{name}` in the same command as the handler's `$(...)` returns {name}'s own status, so a "
            f"failed invocation is posted as a success; declare first (`{name} out`), then "
            f"`out=$(handler ...) || <post to /error>`"))


@rule("BL107", "err-trap-not-inherited", "warning",
      "`trap ... ERR` is the only error handling, but it does not reach the handler's function or $(...).")
def err_trap_not_inherited(subject: Subject) -> Iterator[Report]:
    model = subject.model
    traps = model.events(TrapSet)
    errtrace = model.errtrace_at_start
    for option in model.events(SetOption):  # the last word in the file wins (set -E; set +E)
        if option.errtrace is not None:
            errtrace = option.errtrace
    if not traps or errtrace:
        return
    flow = subject.flow
    if any(o.node.endpoint is Endpoint.ERROR for o in flow.of(ApiCall)):
        return  # errors are reported on a path the loop runs, not only from the trap
    for occ in flow.of(HandlerCall):
        if occ.ctx.guarded or not (occ.ctx.subshell or occ.ctx.chain):
            continue
        where = "a `$(...)`" if occ.ctx.subshell else f"the function `{occ.ctx.chain[-1]}`"
        yield Violation(traps[0].span, (
            f"this ERR trap is the only error handling, but the handler (line {occ.node.span.line}) "
            f"runs in {where}, where the trap is not inherited without `set -E` (errtrace): its "
            f"failures are never reported; add `set -E` or report the error where the handler is called"))
        return
