"""Walking the model from its entry point to give each event the context it runs in.

Calls into the file's own functions are followed (the body is walked again for each call site,
with the caller's loops, errexit state and guards), so a rule asks one question of every event:
"in which loops, under which errexit state, inside which guards does this run?".
"""

from __future__ import annotations

from itertools import count

from bootlint.model import (
    ApiCall,
    Branch,
    CallArms,
    CallFunction,
    Endpoint,
    Exit,
    ExitKind,
    Guarded,
    Loop,
    LoopKind,
    Node,
    RuntimeModel,
    SetOption,
    Subshell,
    children,
    flatten,
)
from bootlint.analysis.graphs import closure
from bootlint.diagnostics import Span
from bootlint.util.records import dataclass

# Following calls re-walks function bodies; past this many visited nodes calls are no longer
# followed, so a file with a call graph that fans out exponentially still ends quickly.
VISIT_BUDGET = 200_000
MAX_CALL_DEPTH = 40
# What a loop posts once per invocation, which a loop that only retries `next` does not.
_RESULT_POSTS = (Endpoint.RESPONSE, Endpoint.ERROR)


@dataclass(frozen=True)
class LoopRef:
    """A loop as entered at run time: the same loop in two call frames is two LoopRefs."""

    loop: Loop
    frame: int


@dataclass(frozen=True)
class JobRef:
    """A background job as started at run time: the same job in two call frames is two JobRefs
    (a `wait` returns the status of the job started in its own frame)."""

    job: Subshell
    frame: int


@dataclass(frozen=True)
class Context:
    """Where an event runs."""

    loops: tuple[LoopRef, ...] = ()
    frame: int = 0
    errexit: bool = False
    pipefail: bool = False
    guarded: bool = False           # errexit does not apply here (condition, || left, try)
    next_failure: bool = False      # on the path that handles a failed `next`
    subshell: bool = False          # in a child process: exits do not end the runtime
    # In a background job (`cmd &`): the parent does not wait for its status, so a failure
    # there cannot end the runtime through errexit either.
    background: bool = False
    # In a pipeline element whose status the pipeline drops (not its last, pipefail off when it
    # ran): a failure that ends the element there ends nothing more.
    status_dropped: bool = False
    # The innermost background job, where a failure here can become the job's status (the status
    # a `wait` returns): errexit inside the job's process exits it with the failed status. None
    # outside a job, and where the walk cannot tell that a failure reaches the job: below a
    # `$(...)` or pipeline element, only the commands right inside it are followed (their own
    # event says whether their status is kept), not a function they call or a child they start.
    job: JobRef | None = None
    job_sealed: bool = False        # inside such a `$(...)` or pipeline element of the job
    reachable: bool = True          # False for functions nothing in the file calls
    chain: tuple[str, ...] = ()     # the file's functions being called, outermost first
    errexit_origin: str = ""        # what switched errexit on: "`set -o errexit` on line 3"
    errexit_at: Span | None = None  # where (None: the shebang, or not known)
    # Inside a `$(...)` (the innermost): whether errexit is kept there, and why (or why not),
    # with the errexit of the command that holds it.
    substitution: str = ""          # "" outside; "kept" or "cleared"
    substitution_why: str = ""
    outer_errexit: bool = False     # errexit applies (unguarded) to the command holding it
    # Every call between the innermost `$(...)` (or function entered from the main shell) and
    # here is its body's last command, so a status here becomes that body's status.
    tail: bool = True
    tail_out: bool = True           # the same since the code left the main shell (see trap_exit)
    # How the code left the main shell, where an ERR trap runs without errtrace: "" (still
    # there), "function" (a function called directly), "child" (a `$(...)`, `( )`, a pipeline).
    trap_exit: str = ""
    # What the arguments of the call being walked rule out in its function (see CallArms).
    arms: CallArms | None = None


def replace(ctx: Context, **changes) -> Context:
    """``dataclasses.replace`` for a context, without re-running ``__init__``: the walk makes
    one per loop, branch, guard and call, and the generic one was a tenth of a large file's
    lint time."""
    new = object.__new__(Context)
    # (one dict built from both, set as the instance's: filling the new instance's own dict
    # key by key cost half as much again)
    object.__setattr__(new, "__dict__", {**ctx.__dict__, **changes})
    return new


@dataclass(frozen=True)
class Occurrence:
    """A node met on a walk, with the context (loop, guards, switches) it runs in."""

    node: Node
    ctx: Context


class _State:
    """Shell options that later statements see (a function's `set -e` persists after it)."""

    __slots__ = ("errexit", "pipefail", "origin", "keep", "keep_why", "at")

    def __init__(self, errexit: bool, pipefail: bool, origin: str = "", keep: bool = True,
                 keep_why: str = "", at: Span | None = None) -> None:
        self.at = at                # the SetOption that switched errexit on
        self.errexit = errexit
        self.pipefail = pipefail
        self.origin = origin        # what switched errexit on, for messages
        self.keep = keep            # `$(...)` keeps errexit (POSIX mode, dash, inherit_errexit)
        self.keep_why = keep_why

    def copy(self) -> "_State":
        return _State(self.errexit, self.pipefail, self.origin, self.keep, self.keep_why, self.at)


class Flow:
    """Every event of a model with its context, computed once."""

    def __init__(self, model: RuntimeModel) -> None:
        self.model = model
        self.occurrences: list[Occurrence] = []
        self._of: dict[tuple[type, bool], list[Occurrence]] = {}   # see of()
        self.truncated = False
        self._frames = count(1)
        self._visits = 0
        self._called: set[str] = set()
        state = _State(model.errexit_at_start or model.errexit_always, model.pipefail_at_start,
                       model.errexit_origin, model.substitutions_keep_errexit, model.substitution_mode)
        self._walk(model.main, Context(errexit=state.errexit, pipefail=state.pipefail,
                                       errexit_origin=state.origin), state)
        # A function that holds an event loop is the runtime's entry point even when nothing in
        # the file calls it (a library another script sources and calls): it is walked as the
        # file would run it, with the options the file leaves set.
        # (found only when some function is not called yet: most files call all of theirs)
        entries = loop_functions(model) if any(n not in self._called for n in model.functions) else set()
        for name, body in model.functions.items():
            if name in self._called:
                continue
            if name in entries:
                self._called.add(name)
                ctx = Context(frame=next(self._frames), chain=(name,), errexit=state.errexit,
                              pipefail=state.pipefail, errexit_origin=state.origin,
                              errexit_at=state.at, trap_exit="function")
                self._walk(body, ctx, state.copy())
        for name, body in model.functions.items():
            if name not in self._called:
                ctx = Context(frame=next(self._frames), reachable=False, chain=(name,),
                              errexit=model.errexit_always)
                self._walk(body, ctx, _State(model.errexit_always, False))
        self.event_loops = self._find_event_loops()

    # -- queries ---------------------------------------------------------------------------
    def of(self, kind: type, reachable_only: bool = True) -> list[Occurrence]:
        """Occurrences of one event kind, in walk order (one list per question, shared: not to
        be changed; a rule asking it once per handler of a long file made it quadratic)."""
        found = self._of.get((kind, reachable_only))
        if found is None:
            found = self._of[(kind, reachable_only)] = [
                o for o in self.occurrences
                if isinstance(o.node, kind) and (o.ctx.reachable or not reachable_only)]
        return found

    def next_calls(self) -> list[Occurrence]:
        return [o for o in self.of(ApiCall) if o.node.endpoint is Endpoint.NEXT]

    def in_event_loop(self, ctx: Context) -> LoopRef | None:
        """The innermost event loop the context is inside, if any."""
        for ref in reversed(ctx.loops):
            if ref.loop in self.event_loops:
                return ref
        return None

    def _find_event_loops(self) -> set[Loop]:
        """Per `next` request, the innermost loop around it that can run forever and also posts
        the invocation's result (/response or /error, in the same run of the loop). A loop that
        only retries `next` (`while :; do curl .../next && return 0; sleep 1; done` in a helper
        the real loop calls) is not the event loop: leaving it is how it succeeds. Where no loop
        around a `next` posts anything (the child posts its own result), the innermost one."""
        posting = {ref for occ in self.of(ApiCall) if occ.node.endpoint in _RESULT_POSTS
                   for ref in occ.ctx.loops}
        loops: set[Loop] = set()
        for occ in self.next_calls():
            forever = [ref for ref in reversed(occ.ctx.loops) if ref.loop.kind is not LoopKind.BOUNDED]
            if forever:
                loops.add(next((ref.loop for ref in forever if ref in posting), forever[0].loop))
        return loops

    # -- walking ---------------------------------------------------------------------------
    def _walk(self, seq: list[Node], ctx: Context, state: _State) -> None:
        for node in seq:
            self._visit(node, ctx, state)
            if ctx.arms is not None and node in ctx.arms.ruled_out and _leaves(node, ctx.arms):
                return  # the arm this call takes returns or exits: the rest does not run for it

    def _visit(self, node: Node, ctx: Context, state: _State) -> None:
        self._visits += 1
        ctx = replace(ctx, errexit=state.errexit, pipefail=state.pipefail,
                      errexit_origin=state.origin, errexit_at=state.at) if (
            ctx.errexit != state.errexit or ctx.pipefail != state.pipefail
            or ctx.errexit_origin != state.origin or ctx.errexit_at != state.at) else ctx
        if isinstance(node, SetOption):
            if node.errexit is not None:
                state.errexit = node.errexit or self.model.errexit_always
                if node.errexit:
                    state.origin = f"`{node.text}` on line {node.span.line}" if node.text else ""
                    state.at = node.span
            if node.pipefail is not None:
                state.pipefail = node.pipefail
            if node.substitutions_keep_errexit is not None:
                state.keep = node.substitutions_keep_errexit
                state.keep_why = (f"`{node.text}` on line {node.span.line}: `$(...)` "
                                  f"{'keeps' if state.keep else 'does not keep'} errexit")
            self.occurrences.append(Occurrence(node, ctx))
        elif isinstance(node, Loop):
            inner = replace(ctx, loops=ctx.loops + (LoopRef(node, ctx.frame),))
            self._walk(node.cond, inner, state)
            self._walk(node.body, inner, state)
        elif isinstance(node, Branch):
            self._walk(node.cond, ctx, state)
            before = state.copy()
            after: list[_State] = []
            ruled_out = ctx.arms.ruled_out.get(node, ()) if ctx.arms is not None else ()
            for i, arm in enumerate(node.arms):
                if i in ruled_out:
                    continue  # this call's arguments make the condition go the other way
                arm_state = before.copy()
                arm_ctx = replace(ctx, next_failure=True) if i in node.failure_arms else ctx
                self._walk(arm, arm_ctx, arm_state)
                after.append(arm_state)
            if after and all(s.errexit == after[0].errexit for s in after):
                state.errexit = after[0].errexit
            if after and all(s.pipefail == after[0].pipefail for s in after):
                state.pipefail = after[0].pipefail
        elif isinstance(node, Guarded):
            self._walk(node.body, replace(ctx, guarded=True), state)
        elif isinstance(node, Subshell):
            inner = state.copy()
            left = ctx.trap_exit or "child"
            ctx = _job_entered(node, ctx)
            if node.substitution:
                if not inner.keep:
                    inner.errexit = self.model.errexit_always
                sub_ctx = replace(ctx, subshell=True, substitution="kept" if state.keep else "cleared",
                                  substitution_why=state.keep_why,
                                  outer_errexit=state.errexit and not ctx.guarded, tail=True,
                                  tail_out=ctx.tail_out and node.tail if ctx.trap_exit else True,
                                  trap_exit=left)
            else:
                sub_ctx = replace(ctx, subshell=True, trap_exit=left,
                                  background=ctx.background or node.context == "background",
                                  status_dropped=ctx.status_dropped or (node.in_pipe and not state.pipefail),
                                  tail_out=ctx.tail_out and node.tail if ctx.trap_exit else True)
            self._walk(node.body, sub_ctx, inner)
        elif isinstance(node, CallFunction):
            self.occurrences.append(Occurrence(node, ctx))
            self._call(node, ctx, state)
        else:
            self.occurrences.append(Occurrence(node, ctx))
            for seq in children(node):
                self._walk(seq, ctx, state)

    def _call(self, node: CallFunction, ctx: Context, state: _State) -> None:
        body = self.model.functions.get(node.name)
        if body is None or node.name in ctx.chain or len(ctx.chain) >= MAX_CALL_DEPTH:
            return
        if self._visits > VISIT_BUDGET:
            self.truncated = True
            return
        self._called.add(node.name)
        frame = next(self._frames)
        # Leaving the main shell for a function resets the tail; deeper calls must all be tail.
        tail = True if not ctx.trap_exit else ctx.tail and node.tail
        tail_out = True if not ctx.trap_exit else ctx.tail_out and node.tail
        # What the outermost call's arguments decide, passed on to here, else this call's own.
        arms = (ctx.arms.calls.get(node) if ctx.arms is not None else None) or node.arms
        # (A function called from inside a job's `$(...)` or pipeline element: whether its failure
        # reaches the job depends on the command holding it, which the walk does not follow.)
        job = None if ctx.job_sealed else ctx.job
        self._walk(body, replace(ctx, frame=frame, chain=ctx.chain + (node.name,), tail=tail,
                                 tail_out=tail_out, trap_exit=ctx.trap_exit or "function",
                                 arms=arms, job=job), state)


def _job_entered(node: Subshell, ctx: Context) -> Context:
    """The context's job on entering a child process. A job started with `&` is a job of its
    own. A `( ... )` in a job is transparent: errexit inside it exits it with the failed status,
    which fails the command in the job that ran it; so is a pipeline element under pipefail
    (any element's failure fails the pipeline). A `$(...)`, or a pipeline element without
    pipefail (only the last one's status counts), passes the status on only through the command
    holding it: the commands right inside it are followed (``job_sealed``), nothing deeper; a
    process substitution's status reaches nothing."""
    if node.context == "background":
        return replace(ctx, job=JobRef(node, ctx.frame), job_sealed=False)
    if ctx.job is None:
        return ctx
    if ctx.job_sealed or node.context == "process-substitution":
        return replace(ctx, job=None, job_sealed=False)
    if node.context == "substitution" or (node.context == "pipeline" and not ctx.pipefail):
        return replace(ctx, job_sealed=True)
    return ctx


def loop_functions(model: RuntimeModel) -> set[str]:
    """The file's functions that hold an event loop: a loop that can run forever and requests
    `next` in its body (itself or through the functions it calls)."""
    fetching: set[str] = set()
    callers: dict[str, set[str]] = {}
    for name, body in model.functions.items():
        for node in flatten(body):
            if isinstance(node, ApiCall) and node.endpoint is Endpoint.NEXT:
                fetching.add(name)
            elif isinstance(node, CallFunction):
                callers.setdefault(node.name, set()).add(name)
    fetching = closure(fetching, callers)
    found: set[str] = set()
    for name, body in model.functions.items():
        for node in flatten(body):
            if isinstance(node, Loop) and node.kind is not LoopKind.BOUNDED and any(
                    (isinstance(n, ApiCall) and n.endpoint is Endpoint.NEXT)
                    or (isinstance(n, CallFunction) and n.name in fetching)
                    for n in flatten(node.cond + node.body)):
                found.add(name)
                break
    return found


# Exits that end the path they are on (a `continue` or `break` ends it only up to its loop).
_PATH_ENDS = (ExitKind.RETURN, ExitKind.EXIT, ExitKind.EXEC, ExitKind.RAISE)


def _leaves(branch: Branch, arms: CallArms) -> bool:
    """For this call, does every path through the branch return or exit (the path without an
    arm ruled out, each arm left ending in such an exit)?"""
    ruled = arms.ruled_out[branch]
    if len(branch.arms) not in ruled:
        return False
    return all(arm and isinstance(arm[-1], Exit) and arm[-1].kind in _PATH_ENDS
               for i, arm in enumerate(branch.arms) if i not in ruled)


class Structure:
    """Where each node of a model stands (its list, its place, its parent), for questions about
    what runs after a node on the same path."""

    def __init__(self, model: RuntimeModel) -> None:
        self.model = model
        self._where: dict[int, tuple[list[Node], int, Node | None, str | None]] = {}
        self._calls: dict[str, list[Node]] = {}
        roots = [(None, model.main), *model.functions.items()]
        for owner, seq in roots:
            self._index(seq, None, owner)

    def _index(self, seq: list[Node], parent: Node | None, owner: str | None) -> None:
        stack = [(seq, parent)]
        while stack:
            cur_seq, cur_parent = stack.pop()
            for i, node in enumerate(cur_seq):
                self._where[id(node)] = (cur_seq, i, cur_parent, owner)
                if isinstance(node, CallFunction):
                    self._calls.setdefault(node.name, []).append(node)
                stack.extend((child, node) for child in children(node))

    def _stops_inside(self, name: str, stop: tuple[type, ...], depth: int = 0) -> bool:
        """Does the function (or one it calls) contain one of the ``stop`` events? A request a
        helper makes for its call site is followed by the helper's own body."""
        body = self.model.functions.get(name)
        if body is None or depth > 8:
            return False
        return any(_stops(n, stop) or (isinstance(n, CallFunction) and n.name != name
                                        and self._stops_inside(n.name, stop, depth + 1))
                   for n in flatten(body))

    def ends_after(self, node: Node, stop: tuple[type, ...], depth: int = 0) -> bool:
        """Does the path from ``node`` reach one of the ``stop`` events before leaving its
        function, climbing out of branches but not out of loops? For a function's body, every
        call site must reach one (a function nothing calls is given the benefit of the doubt)."""
        where = self._where.get(id(node))
        if where is None:
            return True
        seq, i, parent, owner = where
        for later in seq[i + 1:]:
            if any(_stops(n, stop) or (isinstance(n, CallFunction) and self._stops_inside(n.name, stop))
                   for n in flatten([later])):
                return True
        if parent is not None and not isinstance(parent, Loop):
            return self.ends_after(parent, stop, depth)
        if parent is None and owner is not None and depth < MAX_CALL_DEPTH // 4:
            return all(self.ends_after(call, stop, depth + 1) for call in self._calls.get(owner, []))
        return False


def _stops(node: Node, stop: tuple[type, ...]) -> bool:
    """Is the node one of the ``stop`` events? A `break` or `continue` is an Exit that leaves
    a loop, not the process: one in a later loop (the event loop's `continue` after a failed
    invocation) does not end the path that reached it."""
    if isinstance(node, Exit) and node.kind in (ExitKind.BREAK, ExitKind.CONTINUE):
        return False
    return isinstance(node, stop)
