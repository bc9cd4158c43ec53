"""BL3xx rules about resources and payloads."""

from __future__ import annotations

from typing import Iterator

from bootlint.model import TempCreate, TempRemove
from bootlint.rules import Report, Subject, rule


@rule("BL301", "temp-file-leak", "warning",
      "A temp file made per invocation is not removed in the same iteration.")
def temp_file_leak(subject: Subject) -> Iterator[Report]:
    flow = subject.flow
    removals = flow.of(TempRemove)
    seen = set()
    for occ in flow.of(TempCreate):
        node, ctx = occ.node, occ.ctx
        if node.span in seen:
            continue
        loop = flow.in_event_loop(ctx)
        if loop is None and (flow.event_loops or ctx.loops):
            continue  # made once, before the loop: not per invocation
        removed = any(
            node.names & r.node.names and (loop is None or any(ref.loop is loop.loop for ref in r.ctx.loops))
            for r in removals)
        if removed:
            continue
        seen.add(node.span)
        python = subject.language == "python"
        held = ""
        if node.names:
            held = " in " + ", ".join(("" if python else "$") + n for n in sorted(node.names))
        late = "an atexit handler" if python else "a `trap ... EXIT`"
        yield node.span, (
            f"`{node.text[:40]}` makes a temp file{held} for every invocation and nothing removes it "
            f"in the same iteration: /tmp persists between invocations and fills up; remove it before "
            f"the next event ({late} runs only when the runtime exits)")
