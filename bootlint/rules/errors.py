"""BL1xx rules about how failures are handled and reported."""

from __future__ import annotations

from bisect import bisect_left
from typing import Iterator

from bootlint.analysis.flow import JobRef, Structure
from bootlint.model import (
    ApiCall, Endpoint, Exit, ExitKind, Facts, HandlerCall, InitStep, PerEventWork, ProgramRun,
    SetOption, TrapSet,
)
from bootlint.diagnostics import Related, Span, Violation
from bootlint.fixes.requests import ExitAfterInitError, GuardHandlerCall, KeepInitGuard, PostCaughtFailure
from bootlint.rules.registry import Observed, rule
from bootlint.rules.subject import Subject, about_request


def _errexit_origin(subject: Subject) -> str:
    """Where errexit was switched on, for the message."""
    for opt in subject.model.events(SetOption):
        if opt.errexit:
            return f"`set -e` on line {opt.span.line}"
    return "errexit on the shebang line"


def _errexit_related(subject: Subject, at: Span | None = None) -> tuple[Related, ...]:
    """The place errexit was switched on (the switch in force, when known), for editors and SARIF."""
    if at is not None:
        return (Related(at, "errexit is switched on here"),)
    for opt in subject.model.events(SetOption):
        if opt.errexit:
            return (Related(opt.span, "errexit is switched on here"),)
    shebang = subject.shebang
    if shebang is not None and getattr(shebang, "errexit", False):
        return (Related(Span(1, 1, 1, len(shebang.line) + 1), "errexit is switched on by the shebang"),)
    return ()


def _unresolved_calls(subject: Subject) -> bool:
    """Some Runtime API request's endpoint is not known statically: it could be any of them."""
    return any(c.url is not None and c.url.unresolved for c in subject.model.events(ApiCall))


@rule("BL101", "invocation-failure-kills-runtime", "error",
      "One failing handler call ends the whole runtime (errexit, an uncaught exception).",
      fixes=(GuardHandlerCall,), observed=Observed(HandlerCall, also_predicted_by=("BL002",)))
def invocation_failure_kills_runtime(subject: Subject) -> Iterator[Violation]:
    idioms = subject.idioms
    traps = subject.model.events(TrapSet)
    errtrace = _errtrace(subject)
    flow = subject.flow
    loops = flow.event_loops
    occurrences = sorted(flow.of(PerEventWork), key=lambda o: (o.node.span.line, o.node.span.column))
    failing = _failing_jobs(occurrences + flow.of(ProgramRun) + flow.of(Exit)) if any(
        o.node.waits_for for o in occurrences) else {}
    found = []
    for occ in occurrences:
        node, ctx = occ.node, occ.ctx
        if ctx.background:
            continue  # a job's failure reaches the runtime only through a `wait` that returns it
        why = node.why
        if node.waits_for:
            failed = _job_failure(ctx, node.waits_for, failing)
            if failed is None:
                continue  # no job it waits for can fail through its per-event work
            why += _failed_inside(failed, ctx)
        handler = isinstance(node, HandlerCall)
        loop = flow.in_event_loop(ctx) if loops else None
        if loops and loop is None:
            continue  # a run outside the event loop (a local test, a warm-up) serves no invocation
        note = _ends_on_failure(node, ctx)
        if note is None:
            continue
        found.append((node, ctx, note, loop, handler, why))
    # The per-event commands that end the runtime, per event loop: a fix that guards one of them
    # is offered only where it is the only one (guarding the first would reveal the next).
    ending: dict = {}
    for node, _, _, loop, _, _ in found:
        ending.setdefault(loop, set()).add(node.span)
    reported: set = set()
    for node, ctx, note, loop, handler, why_work in found:
        # One finding per event loop: the first per-event command that ends the runtime there
        # (a handler found the old way keeps its own finding, as before).
        place = (loop, node.span) if handler else loop if loop is not None else node.span
        if place in reported or (not handler and loop is not None and any(
                isinstance(p, tuple) and p[0] == loop for p in reported)):
            continue
        reported.add(place)
        origin = ctx.errexit_origin or _errexit_origin(subject)
        if traps and (errtrace or ctx.trap_exit != "function"):
            why = (f"runs under {origin}{note}: the ERR trap on line {traps[0].span.line} reports "
                   f"the failure, then errexit ends the runtime")
        else:
            why = idioms.unguarded.format(errexit=origin + note)
        if handler:
            subject_text = "the handler call"
            fix = _guard_fix(subject, node)
        else:
            subject_text = f"`{_short(node.text)}` is per-event work ({why_work}) and"
            fix = _guard_fix(subject, node) if loop is None or len(ending[loop]) == 1 else None
        yield Violation(node.span, f"{subject_text} {why} (Runtime.ExitError, a cold start for "
                                   f"the next call); {idioms.guard}", fix,
                        related=_errexit_related(subject, ctx.errexit_at))


def _ends_on_failure(node: PerEventWork | ProgramRun, ctx) -> str | None:
    """Does a failure of this per-event command end the process it runs in (the runtime, or the
    background job it is in)? The note for the message ("" for none) when it does, else None."""
    # (A pipeline element whose status the pipeline drops: the command itself, or one inside it.)
    if ctx.guarded or not node.status_kept or (node.in_pipe and not ctx.pipefail) or ctx.status_dropped:
        return None
    if not isinstance(node, HandlerCall) and ctx.next_failure:
        return None  # the path that handles a failed `next` does no invocation's work
    if node.returns_ok and not ctx.errexit:
        return None  # a function that checks the handler's status itself and ends in `echo`
    # A `$(...)` that keeps errexit stops at the failed handler; one that clears it (the
    # default) goes on, and the failure reaches the assignment only from its last command.
    returned = node.tail and ctx.tail
    # Whether `$(...)` keeps errexit matters when the handler is a function of the file that
    # could go on after a failure; the message says which way the interpreter goes, and why.
    mattered = ctx.substitution and ctx.substitution_why and (node.calls_function or not returned)
    if ctx.errexit:
        return f" ({ctx.substitution_why})" if mattered and ctx.substitution == "kept" else ""
    if ctx.substitution == "cleared" and ctx.outer_errexit and returned and not node.returns_ok:
        return (f" ({ctx.substitution_why}, but the handler's status is the last one there, so "
                f"its failure fails the assignment)") if mattered else ""
    return None


def _failing_jobs(occurrences: list) -> dict:
    """The background jobs (as started, per call frame) that a failure of their per-event work
    exits with a failed status: errexit in the job's process ends it there, as it would end the
    runtime in the foreground. Each with the first such command (or exit) met, in source order."""
    failing: dict = {}
    for occ in sorted(occurrences, key=lambda o: (o.node.span.line, o.node.span.column)):
        job = occ.ctx.job
        if job is not None and job not in failing and _fails_job(occ.node, occ.ctx, failing):
            failing[job] = occ
    return failing


def _fails_job(node: PerEventWork | ProgramRun | Exit, ctx, failing: dict) -> bool:
    """Does a failure here end the job this runs in with a failed status?

    A call of the file's own function counts through the function's body (walked for that call,
    with its guards): the programs it runs and the work in it. The call's own status would count
    a function that guards every program it runs (`./handler || { ...; return 0; }`) as failing.
    A `wait` in the job counts only when a job it waits for can fail: in source order, that one's
    commands come first (one written later is not known yet, and the `wait` does not count).
    An `exit 1` or `return 1` on a failed command's path (`|| { post_error; exit 1; }`) counts
    under errexit, where the failed status it leaves ends each caller up to the job; not right
    inside a `$(...)` of the job, or a pipeline element without pipefail (``job_sealed``: the
    status it leaves may go nowhere)."""
    if isinstance(node, Exit):
        return (node.fails_on_work_failure and node.kind in (ExitKind.EXIT, ExitKind.RETURN)
                and ctx.errexit and not ctx.guarded and not ctx.job_sealed and not ctx.next_failure)
    if node.calls_function:
        return False
    waits = isinstance(node, PerEventWork) and node.waits_for
    if waits and _job_failure(ctx, node.waits_for, failing) is None:
        return False
    return _ends_on_failure(node, ctx) is not None


def _job_failure(ctx, jobs: tuple, failing: dict):
    """Of the jobs a `wait` (run in ``ctx``) returns the status of, the first failing command of
    one started in the same frame; None when none of them can fail."""
    for job in jobs:
        occ = failing.get(JobRef(job, ctx.frame))
        if occ is not None:
            return occ
    return None


def _failed_inside(failed, ctx) -> str:
    """Where the job fails, for the message, when that is in a function the job calls (a job
    written out in full already shows it)."""
    if len(failed.ctx.chain) <= len(ctx.chain):
        return ""
    function = failed.ctx.chain[len(ctx.chain)]
    if isinstance(failed.node, Exit):
        return (f"; `{function}`, which the job runs, ends with `{_short(failed.node.text)}` on "
                f"line {failed.node.span.line} when its work fails, a failed status for the job")
    return (f"; `{function}`, which the job runs, does not guard `{_short(failed.node.text)}` on "
            f"line {failed.node.span.line}, so its failure ends the job with a failed status")


def _short(text: str) -> str:
    """A command as written, on one line and short enough for a message."""
    line = " ".join(text.split())
    return line if len(line) <= 40 else line[:39] + "\u2026"


def _guard_fix(subject: Subject, handler: PerEventWork, caught: bool = False) -> GuardHandlerCall | None:
    """Guard the handler call and post its failure to /error, the way the file posts /response
    (the first response post after the call, else the last one); where the call is ``caught``
    already, post the failure where it is caught."""
    responses = subject.model.api_calls(Endpoint.RESPONSE)
    if not responses or not _next_event_is_one_step(subject, handler):
        return None
    # Responses are in source order: the first at or after the handler, by bisection (a rule
    # that scanned them per handler would be quadratic in a file of many loops).
    at = bisect_left(responses, (handler.span.line, handler.span.column),
                     key=lambda r: (r.span.line, r.span.column))
    chosen = responses[at] if at < len(responses) else responses[-1]
    # The file's own way of posting a failure, where it has one (a helper it calls elsewhere).
    errors = sorted(subject.model.api_calls(Endpoint.ERROR), key=lambda c: not c.via)
    error = errors[0].sent_at or errors[0].span if errors else None
    if caught:
        return PostCaughtFailure(handler.span, chosen.span, chosen.sent_at, error)
    return GuardHandlerCall(handler.span, chosen.span, chosen.sent_at, error)


def _next_event_is_one_step(subject: Subject, handler: PerEventWork) -> bool:
    """Does the fix's `continue` (or the return from the function the loop calls) lead to the
    next event wherever the handler runs? Not when a loop inside the event loop holds the call
    (a retry `for attempt in ...`): there it would run the handler again for the same event."""
    flow = subject.flow
    for occ in flow.of(type(handler)):
        if occ.node is handler and occ.ctx.loops:
            event_loop = flow.in_event_loop(occ.ctx)
            if event_loop is not None and occ.ctx.loops[-1] is not event_loop:
                return False
    return True


def _errtrace(subject: Subject) -> bool:
    """Whether the ERR trap is inherited (`set -E`): the last word in the file wins."""
    errtrace = subject.model.errtrace_at_start
    for option in subject.model.events(SetOption):
        if option.errtrace is not None:
            errtrace = option.errtrace
    return errtrace


@rule("BL102", "invocation-error-unreported", "warning",
      "The runtime posts /response but never /invocation/{id}/error.", fixes=(GuardHandlerCall, PostCaughtFailure),
      observed=Observed(ApiCall, (Endpoint.RESPONSE,), also_predicted_by=("BL106",)))
def invocation_error_unreported(subject: Subject) -> Iterator[Violation]:
    model = subject.model
    responses = model.api_calls(Endpoint.RESPONSE)
    if not responses or model.api_calls(Endpoint.ERROR) or _unresolved_calls(subject):
        return
    streaming = model.streaming
    if streaming is not None and any(p.sends_trailers and p.trailers for p in streaming.posts):
        return  # failures are reported in the streamed response's error trailers
    handlers = model.events(HandlerCall)
    # Where the handler's status reaches the runtime: its call, or the `wait` that returns the
    # status of the background job it runs in (a guard inside the job cannot go on to the next
    # event).
    handler = handlers[0] if handlers else None
    if handler is not None and handler.waited_at is not None:
        handler = next((w for w in model.events(PerEventWork) if w.span == handler.waited_at), handler)
    # A handler call whose failure is caught already (on every path that reaches it) needs the
    # post where it is caught, not a second guard.
    seen = [o for o in subject.flow.of(PerEventWork) if o.node is handler]
    caught = bool(seen) and all(o.ctx.guarded for o in seen)
    yield about_request(responses[0], responses[0].span, (
        "the runtime posts /response but no path posts /invocation/{id}/error: a failed invocation "
        "is reported as a success or hangs until the function times out; post failures to "
        "/invocation/$REQUEST_ID/error"), _guard_fix(subject, handler, caught) if handler else None)


@rule("BL103", "init-error-unreported", "warning",
      "Initialisation can fail and nothing posts /runtime/init/error.", fixes=(KeepInitGuard,),
      observed=Observed(InitStep))
def init_error_unreported(subject: Subject) -> Iterator[Violation]:
    model = subject.model
    steps = model.events(InitStep)
    if not steps or _unresolved_calls(subject):
        return
    if model.api_calls(Endpoint.INIT_ERROR):
        # Reported, but along a path that a failing step may never reach.
        for step in steps:
            if step.guard_lost:
                yield Violation(step.span, (
                    f"a handler file that is missing or does not parse is never posted to /runtime/init/error "
                    f"(Lambda sees only an exit): {step.guard_lost}"),
                    KeepInitGuard(step.span))
        return
    yield Violation(steps[0].span, (
        "loading the handler can fail here and nothing posts /runtime/init/error: the failure "
        "reaches Lambda only as an exit; on failure post the error to /runtime/init/error and exit"))


@rule("BL104", "init-error-without-exit", "warning",
      "After posting /runtime/init/error the runtime goes on instead of exiting.",
      fixes=(ExitAfterInitError,), observed=Observed(ApiCall, (Endpoint.INIT_ERROR,)))
def init_error_without_exit(subject: Subject) -> Iterator[Violation]:
    calls = subject.model.api_calls(Endpoint.INIT_ERROR)
    if not calls:
        return   # (most files: no structure to index)
    structure = Structure(subject.model)
    exit_now = f"`{subject.idioms.exit_now}`"
    for call in calls:
        if not structure.ends_after(call, (Exit,)):
            yield about_request(call, call.span, (
                f"after posting /runtime/init/error the runtime goes on: the API requires it to exit, "
                f"and a later `next` is answered with an error; add {exit_now} on this path"),
                ExitAfterInitError(call.span))


@rule("BL105", "malformed-error-report", "warning",
      "An /error or /init/error body that is not the documented error JSON.")
def malformed_error_report(subject: Subject) -> Iterator[Violation]:
    fix = subject.idioms.error_json
    for call in subject.model.api_calls(Endpoint.ERROR, Endpoint.INIT_ERROR):
        fact = call.facts.get(Facts.BODY_MALFORMED)
        if fact is None:
            continue
        yield about_request(call, fact.span, (f"the error body {fact.detail}: Lambda expects "
                          f'{{"errorMessage": "...", "errorType": "...", "stackTrace": ["..."]}}; {fix}'))


@rule("BL106", "masked-handler-status", "warning",
      "`local`/`export`/`declare` assign the handler's output and hide its exit status.",
      needs=frozenset({"declaration-status"}))
def masked_handler_status(subject: Subject) -> Iterator[Violation]:
    for call in subject.model.events(HandlerCall):
        if not call.masked_by or call.masked_at is None:
            continue
        name = call.masked_by
        yield Violation(call.masked_at, (
            f"`{name}` in the same command as the handler's `$(...)` returns {name}'s own status, so a "
            f"failed invocation is posted as a success; declare first (`{name} out`), then "
            f"`out=$(handler ...) || <post to /error>`"))


@rule("BL107", "err-trap-not-inherited", "warning",
      "`trap ... ERR` is the only error handling, but it does not reach the handler's function or $(...).",
      needs=frozenset({"err-trap"}))
def err_trap_not_inherited(subject: Subject) -> Iterator[Violation]:
    model = subject.model
    traps = model.events(TrapSet)
    if not traps or _errtrace(subject):
        return
    flow = subject.flow
    if any(o.node.endpoint is Endpoint.ERROR for o in flow.of(ApiCall)):
        return  # errors are reported on a path the loop runs, not only from the trap
    for occ in _status_sites(flow):
        node, ctx = occ.node, occ.ctx
        # At the script's top level the trap runs for a failed command, `R=$(handler)` included.
        if ctx.guarded or not ctx.trap_exit or (node.returns_ok and not ctx.errexit):
            continue  # (a function that ends in `echo` checks the handler's status itself)
        lost = _why_the_trap_misses(node, ctx)
        if not lost:
            continue
        yield Violation(traps[0].span, (
            f"this ERR trap is the only error handling, but the handler (line {node.span.line}) {lost}: "
            f"its failures are never reported; add `set -E` (errtrace) or report the error where "
            f"the handler is called"))
        return


def _status_sites(flow) -> list:
    """Where each handler call's status reaches the runtime: the call, or for a background job that
    a `wait` waits for, that `wait` (its occurrences; the job's own handler call, or one in a
    function the job runs), and so on out of a job that runs inside another."""
    out, waits, taken = [], None, set()
    for occ in flow.of(HandlerCall):
        if occ.node.waited_at is None:
            out.append(occ)
            continue
        if waits is None:
            waits = {}
            for o in flow.of(PerEventWork):
                waits.setdefault(o.node.span, []).append(o)
        if occ.node.waited_at not in taken:
            taken.add(occ.node.waited_at)
            out.extend(waits.get(occ.node.waited_at, ()))
    return _out_of_jobs(flow, out)


def _out_of_jobs(flow, sites: list) -> list:
    """The sites, each one that runs in a job a `wait` waits for replaced by that `wait`'s
    occurrences (in order, each once)."""
    if not any(o.ctx.job is not None for o in sites):
        return sites
    by_job = _waits_by_job(flow)
    out, seen = [], set()
    stack = list(reversed(sites))
    while stack:
        occ = stack.pop()
        if id(occ) in seen:
            continue
        seen.add(id(occ))
        waits = by_job.get(occ.ctx.job) if occ.ctx.job is not None else None
        if waits:
            stack.extend(reversed(waits))
        else:
            out.append(occ)
    return out


def _waits_by_job(flow) -> dict:
    """The occurrences of each `wait` that returns a job's status, by the job as started."""
    found: dict = {}
    for occ in flow.of(PerEventWork):
        for job in occ.node.waits_for:
            found.setdefault(JobRef(job, occ.ctx.frame), []).append(occ)
    return found


def _why_the_trap_misses(node: HandlerCall, ctx) -> str:
    """Why a failure of the handler never reaches a command at the top level, where the ERR
    trap runs without errtrace; '' when it does reach one (so the trap runs)."""
    returned = node.status_kept and node.tail and ctx.tail_out
    escapes_substitution = returned or (ctx.errexit and ctx.substitution == "kept" and node.status_kept)
    in_substitution = ("runs in a `$(...)`, where the trap is not inherited, and its status does "
                       "not reach a command at the script's top level")
    dropped = ("runs in a pipeline element that is not the last, whose status is dropped without "
               "pipefail; the trap is not inherited there")
    if node.in_pipe and not ctx.pipefail:
        return dropped
    if ctx.status_dropped:   # whatever the failure reaches inside the element ends there
        return in_substitution if ctx.substitution and not escapes_substitution else dropped
    if ctx.trap_exit == "function":
        where = f"runs in the function `{ctx.chain[0]}`, where the trap is not inherited"
        # (In `out=$(handler)` inside the function, the function's errexit is the one that acts.)
        if ctx.errexit or (ctx.substitution and ctx.outer_errexit):
            return f"{where}, and errexit ends the runtime there before the trap can run"
        return "" if returned else f"{where}, and its status is not the function's"
    if node.in_pipe:
        return ""   # (under pipefail: the pipeline fails with it)
    # The failure is the status of the command holding it (in a `$(...)`: when the handler is
    # its last command, or errexit kept there stops it)...
    held = node.status_kept and (not ctx.substitution or node.tail
                                 or (ctx.errexit and ctx.substitution == "kept"))
    # ... and errexit, inherited by a `( )` or pipeline element, ends the child with it.
    if ctx.trap_exit == "child" and not ctx.background and held and (
            ctx.outer_errexit if ctx.substitution else ctx.errexit):
        return ""
    if ctx.substitution:
        return "" if escapes_substitution else in_substitution
    return "" if returned else ("runs in a subshell, where the trap is not inherited, and its "
                                "status is not the subshell's")
