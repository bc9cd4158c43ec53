"""BL1xx rules about how failures are handled and reported."""

from __future__ import annotations

from typing import Iterator

from bootlint.model import ApiCall, Endpoint, HandlerCall, InitStep, SetOption
from bootlint.rules import Report, Subject, rule


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
      "One failing handler call ends the whole runtime (errexit in shell, an uncaught exception in Python).")
def invocation_failure_kills_runtime(subject: Subject) -> Iterator[Report]:
    seen = set()
    for occ in subject.flow.of(HandlerCall):
        node, ctx = occ.node, occ.ctx
        if node.span in seen or not ctx.errexit or ctx.guarded or not node.status_kept:
            continue
        if node.in_pipe and not ctx.pipefail:
            continue
        seen.add(node.span)
        if subject.language == "python":
            yield node.span, (
                "the handler call is not inside `try: ... except Exception:`: one exception ends the "
                "runtime (Runtime.ExitError, a cold start for the next call); catch it and post it "
                "to /invocation/{id}/error")
        else:
            yield node.span, (
                f"the handler call runs under {_errexit_origin(subject)} without a guard: one failed "
                f"invocation kills the runtime (Runtime.ExitError, a cold start for the next call); "
                f"write `if ! RESPONSE=$(handler ...); then <post to /error>; continue; fi`")


@rule("BL102", "invocation-error-unreported", "warning",
      "The runtime posts /response but never /invocation/{id}/error.")
def invocation_error_unreported(subject: Subject) -> Iterator[Report]:
    model = subject.model
    responses = model.api_calls(Endpoint.RESPONSE)
    if not responses or model.api_calls(Endpoint.ERROR) or _unresolved_calls(subject):
        return
    yield responses[0].span, (
        "the runtime posts /response but no path posts /invocation/{id}/error: a failed invocation "
        "is reported as a success or hangs until the function times out; post failures to "
        "/invocation/$REQUEST_ID/error")


@rule("BL103", "init-error-unreported", "warning",
      "Initialisation can fail and nothing posts /runtime/init/error.")
def init_error_unreported(subject: Subject) -> Iterator[Report]:
    model = subject.model
    steps = model.events(InitStep)
    if not steps or model.api_calls(Endpoint.INIT_ERROR) or _unresolved_calls(subject):
        return
    yield steps[0].span, (
        "loading the handler can fail here and nothing posts /runtime/init/error: the failure "
        "reaches Lambda only as an exit; on failure post the error to /runtime/init/error and exit")
