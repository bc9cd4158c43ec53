"""BL0xx rules about the event loop itself."""

from __future__ import annotations

from typing import Iterator

from bootlint.model import ApiCall, CallFunction, Endpoint, Exit, ExitKind, flatten
from bootlint.diagnostics import Violation
from bootlint.fixes.requests import WrapEventLoop
from bootlint.rules.registry import Observed, rule
from bootlint.rules.subject import Subject, about_request


@rule("BL001", "missing-event-loop", "error",
      "`invocation/next` is requested outside any loop that can run forever.", fixes=(WrapEventLoop,),
      observed=Observed(ApiCall, (Endpoint.NEXT,), also_predicted_by=("BL002", "BL704")))
def missing_event_loop(subject: Subject) -> Iterator[Violation]:
    if subject.flow.event_loops:
        return  # a priming read before the loop is fine once some loop requests `next`
    for occ in subject.flow.next_calls():
        where = "only inside a counted loop" if occ.ctx.loops else "outside any loop"
        yield about_request(occ.node, occ.node.span, (
            f"`invocation/next` is requested {where}: the runtime serves one invocation and exits "
            f"(Lambda logs \"Process exited before completing request\", counts an error and "
            f"cold-starts the next call); wrap next, handler and response in `{subject.idioms.loop}`"),
            None if occ.ctx.loops else _loop_fix(subject, occ))


def _loop_fix(subject: Subject, occ) -> WrapEventLoop | None:
    """The loop around the code of one invocation: from where `next` is requested (or the call
    into the function that requests it) to where the last response is posted, in the code the
    script runs first."""
    first = _in_main(subject, occ, first=True)
    posts = [o for o in subject.flow.of(ApiCall) if o.node.endpoint is Endpoint.RESPONSE]
    last = max((_in_main(subject, o, first=False) for o in posts), default=None,
               key=lambda s: (s.line, s.column) if s else (0, 0))
    if first is None:
        return None
    if last is None or (last.line, last.column) < (first.line, first.column):
        last = first
    return WrapEventLoop(first, last)


def _in_main(subject: Subject, occ, first: bool):
    """The span of an occurrence in the main program: itself, or the call into the function
    that leads to it."""
    if not occ.ctx.chain:
        return occ.node.span
    calls = [n.span for n in flatten(subject.model.main)
             if isinstance(n, CallFunction) and n.name == occ.ctx.chain[0]]
    if not calls:
        return None
    return calls[0] if first else calls[-1]


@rule("BL002", "event-loop-exits", "error",
      "The event loop can exit, break or return outside the path that handles a failed `next`.")
def event_loop_exits(subject: Subject) -> Iterator[Violation]:
    flow = subject.flow
    for occ in flow.of(Exit):
        ctx, node = occ.ctx, occ.node
        if ctx.subshell or ctx.next_failure or flow.in_event_loop(ctx) is None:
            continue
        if node.kind in (ExitKind.RAISE, ExitKind.CONTINUE):
            continue  # an exception is BL101's business (it may be caught); continue stays in
        if node.kind is ExitKind.BREAK:
            frame_loops = [ref for ref in ctx.loops if ref.frame == ctx.frame]
            if not frame_loops:
                continue
            target = frame_loops[-min(node.levels, len(frame_loops))]
            if target.loop not in flow.event_loops:
                continue
        elif node.kind is ExitKind.RETURN:
            if not any(ref.frame == ctx.frame and ref.loop in flow.event_loops for ref in ctx.loops):
                continue
        via = f" (reached through {' -> '.join(ctx.chain)})" if ctx.chain else ""
        what = node.text.split("\n", 1)[0][:40]
        yield Violation(node.span, (
            f"`{what}` leaves the event loop{via}: the runtime stops serving invocations and the "
            f"next one pays a cold start; report the failure to /invocation/{{id}}/error and go on "
            f"to the next event"))
