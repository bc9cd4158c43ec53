"""BL3xx rules about resources and payloads."""

from __future__ import annotations

from typing import Iterator

from bootlint.model import ArgvPayload, Branch, Endpoint, Facts, Loop, LoopKind, TempCreate, TempRemove
from bootlint.diagnostics import Violation
from bootlint.analysis.paths import IterationPaths
from bootlint.fixes.requests import PipePayload, RemoveTempFile, RemoveTempFileBeforeJump, SendFileAsIs
from bootlint.rules.registry import Observed, rule
from bootlint.rules.subject import Subject, about_request


@rule("BL301", "temp-file-leak", "warning",
      "A temp file made per invocation is not removed in the same iteration.",
      fixes=(RemoveTempFile, RemoveTempFileBeforeJump), observed=Observed(TempCreate))
def temp_file_leak(subject: Subject) -> Iterator[Violation]:
    flow = subject.flow
    creations = flow.of(TempCreate)
    if not creations:
        return
    removals = flow.of(TempRemove)
    paths = None   # indexed when a path question is first asked
    idioms = subject.idioms
    forever = any(loop.kind is not LoopKind.BOUNDED for loop in subject.model.events(Loop))
    for occ in creations:
        node, ctx = occ.node, occ.ctx
        loop = flow.in_event_loop(ctx)
        if loop is None and (flow.event_loops or ctx.loops or forever):
            continue  # made once, before or beside the loop: not per invocation
        # (Without any loop, the whole script is one invocation: its temp files leak per call.)
        held = ""
        if node.names:
            held = " in " + ", ".join(idioms.variable.format(name=n) for n in sorted(node.names))
        what = f"`{node.text[:40]}` (line {node.span.line})"
        # Where some path removes it, name the paths that do not; where none does, one finding.
        some_removal = any(r.node.removes(node.names) for r in removals)
        # (A temp file handed out to the callers is removed, if at all, on their paths.)
        if loop and some_removal and not node.handed_out and paths is None:
            paths = IterationPaths(subject.model)
        leaks = loop and some_removal and not node.handed_out and paths.leaks_after(
            node, loop.loop, lambda n: isinstance(n, TempRemove) and n.removes(node.names))
        if leaks:
            for jump in leaks.jumps:
                yield Violation(jump.span, (
                    f"`{jump.text[:20]}` skips the removal of the temp file{held} made by {what}: "
                    f"every invocation that takes this path leaves a file in /tmp, which persists "
                    f"between invocations and fills up; remove it before `{jump.text[:20]}`"),
                    RemoveTempFileBeforeJump(jump.span, tuple(sorted(node.names)), node.text))
            for end in leaks.open_paths:
                path = (f"a path through this branch (lines {end.span.line}\u2013{end.span.end_line})"
                        if isinstance(end, Branch) else f"this path (to line {end.span.end_line})")
                yield Violation(end.span, (
                    f"{path} never removes the temp file{held} made by {what}, while another path "
                    f"does: every invocation that takes it leaves a file in /tmp, which persists "
                    f"between invocations and fills up; remove it on this path too, or once after "
                    f"the branches"))
            continue
        removed = any(r.node.removes(node.names)
                      and (loop is None or any(ref.loop is loop.loop for ref in r.ctx.loops))
                      for r in removals)
        if removed:
            continue
        yield Violation(node.span, (
            f"`{node.text[:40]}` makes a temp file{held} for every invocation and nothing removes it "
            f"in the same iteration: /tmp persists between invocations and fills up; remove it before "
            f"the next event ({idioms.cleanup_at_exit} runs only when the runtime exits)"),
            # (A name handed out is removed by the caller, not where it is made: no fix.)
            RemoveTempFile(node.span, tuple(sorted(node.names)), node.text)
            if loop and not node.handed_out else None)


@rule("BL302", "payload-on-command-line", "warning",
      "The event or the response is passed as a command-line argument to an external program.",
      fixes=(PipePayload,))
def payload_on_command_line(subject: Subject) -> Iterator[Violation]:
    for call in subject.model.api_calls(Endpoint.RESPONSE):
        fact = call.facts.get(Facts.PAYLOAD_ARGV)
        if fact is not None:
            advice = fact.advice or "send it on standard input or from a file"
            yield about_request(call, fact.span, (
                f"`{fact.detail}` passes the response on {call.tool}'s command line: Linux caps one argument "
                f"at 128 KiB (\"Argument list too long\", far below Lambda's 6 MB){fact.note}; {advice}"),
                PipePayload(fact.span))
    for arg in subject.model.events(ArgvPayload):
        yield Violation(arg.span, (
            f"the event is passed to `{arg.program}` as a command-line argument: Linux caps one "
            f"argument at 128 KiB (\"Argument list too long\"), far below Lambda's 6 MB; pass it on "
            f"standard input instead"))


@rule("BL303", "newline-stripping-post", "warning",
      "curl -d/--data @file or @- on a runtime POST strips CR and LF from the payload.",
      fixes=(SendFileAsIs,), needs=frozenset({"curl-data-options"}))
def newline_stripping_post(subject: Subject) -> Iterator[Violation]:
    for call in subject.model.api_calls():
        fact = call.facts.get(Facts.NEWLINE_STRIP)
        if fact is not None:
            yield about_request(call, fact.span, (
                f"`{fact.detail}` makes curl drop every CR and LF of the payload, corrupting it; use "
                f"`--data-binary {fact.detail.split()[-1]}`"), SendFileAsIs(fact.span))
