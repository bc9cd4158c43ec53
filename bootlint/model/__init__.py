"""The language-neutral model of a runtime that both front ends build and every rule reads.

A front end lowers its syntax tree into a tree of *structure* nodes (sequences, loops, branches,
guarded regions, calls into the file's own functions) whose leaves are *events*: a Runtime API
request, an exit, a change of errexit, the handler call, a temp file made or removed, an
environment variable set, an initialisation step that can fail. :mod:`bootlint.analysis.flow` walks that
tree from the entry point and gives every event the context it runs in.
"""

from __future__ import annotations

import enum
from dataclasses import field
from operator import attrgetter

from bootlint.diagnostics import Span
from bootlint.util.records import dataclass


# --- URLs -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Piece:
    """Part of a URL: literal text (with where it was written) or a value unknown until run time.

    ``var`` names the variable or expression a non-literal piece came from; ``default`` is the
    literal fallback of ``${VAR:-default}`` / ``os.environ.get(VAR, default)``.
    """

    text: str = ""
    span: Span | None = None
    var: str | None = None
    default: str | None = None
    digits: bool = False    # a value known to be digits only (`$?`, `$$`, `$((n + 1))`)

    @property
    def is_literal(self) -> bool:
        return self.var is None


class Endpoint(str, enum.Enum):
    """What a Runtime API URL asks for."""

    NEXT = "invocation/next"
    RESPONSE = "invocation/{id}/response"
    ERROR = "invocation/{id}/error"
    INIT_ERROR = "init/error"
    RESTORE_NEXT = "restore/next"
    RESTORE_ERROR = "restore/error"
    UNKNOWN = "unknown"
    EXTENSION = "extension"


# The endpoints that report a failure, and every endpoint a runtime POSTs to: one table for
# every front end and rule.
ERROR_ENDPOINTS = (Endpoint.ERROR, Endpoint.INIT_ERROR, Endpoint.RESTORE_ERROR)
POST_ENDPOINTS = (Endpoint.RESPONSE, *ERROR_ENDPOINTS)


@dataclass(frozen=True)
class Segment:
    """One '/'-separated part of a URL path; ``pieces`` are what it is made of."""

    pieces: tuple[Piece, ...]

    @property
    def literal(self) -> str | None:
        """The text when every piece is literal, else None."""
        if all(p.is_literal for p in self.pieces):
            return "".join(p.text for p in self.pieces)
        return None

    @property
    def span(self) -> Span | None:
        spans = [p.span for p in self.pieces if p.span]
        if not spans:
            return None
        return Span(spans[0].line, spans[0].column, spans[-1].end_line, spans[-1].end_column)


@dataclass(frozen=True)
class UrlInfo:
    """What a URL means to the Runtime API."""

    endpoint: Endpoint
    host: tuple[Piece, ...] = ()
    version: Segment | None = None
    path: tuple[Segment, ...] = ()        # the segments after /runtime/
    unresolved: bool = False               # a variable stands where the endpoint is decided

    @property
    def host_is_literal(self) -> bool:
        return bool(self.host) and all(p.is_literal for p in self.host)

    @property
    def request_id(self) -> Segment | None:
        if self.endpoint in (Endpoint.RESPONSE, Endpoint.ERROR) and len(self.path) == 3:
            return self.path[1]
        return None


# --- structure --------------------------------------------------------------------------------

class LoopKind(str, enum.Enum):
    INFINITE = "infinite"        # while true, while :, for ((;;)), while True:
    CONDITIONAL = "conditional"  # while [ -n "$EVENT" ], while flag: -- may run forever
    BOUNDED = "bounded"          # for i in 1 2 3, for x in range(3)


@dataclass(eq=False)
class Node:
    """Base of every model node; identity, not value, is equality."""

    span: Span


@dataclass(eq=False)
class Loop(Node):
    """A loop of the runtime: its kind, its condition's nodes and its body's."""

    kind: LoopKind = LoopKind.CONDITIONAL
    cond: list[Node] = field(default_factory=list)
    body: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class Branch(Node):
    """if/elif/else, case, `a || b`: the condition runs, then at most one arm.

    ``failure_arms`` are indexes of arms that run when a failed ``next`` request is being
    handled (the API asks the runtime to exit there, so exits in them are expected).
    """

    cond: list[Node] = field(default_factory=list)
    arms: list[list[Node]] = field(default_factory=list)
    failure_arms: frozenset[int] = frozenset()
    # Set by the front end: arms that run when the condition says `next` failed, unless they do
    # the work of an invocation. The shared pass (bootlint.analysis.passes) turns them into failure_arms.
    failure_candidates: frozenset[int] = frozenset()


@dataclass(eq=False)
class Guarded(Node):
    """A region whose failure does not end the process.

    Shell: a condition of if/while/until, the left of || and &&, after !, where errexit is
    ignored. Python: the body of a try whose except catches every Exception without re-raising.
    """

    body: list[Node] = field(default_factory=list)


@dataclass(eq=False)
class Subshell(Node):
    """A child process: ( ... ), $( ... ), a pipeline's element. Exits and option changes inside
    do not reach the runtime process. ``substitution`` for ``$(...)``, where bash in its default
    mode turns errexit off (see :attr:`RuntimeModel.substitutions_keep_errexit`)."""

    body: list[Node] = field(default_factory=list)
    substitution: bool = False
    tail: bool = False      # the command holding it is the last of its body (see CallFunction)
    # Which execution context it is (the words are the shell's, the meaning is every language's
    # child process): "subshell" `( )`, "substitution" `$( )`, "pipeline" an element of `a | b`,
    # "background" a job started with `&`. An exit inside ends that context only; a request made
    # inside is still the runtime's request.
    context: str = "subshell"
    # A pipeline's element that is not its last: its status is the pipeline's only under
    # pipefail (without it, a failure that ends this element ends nothing more).
    in_pipe: bool = False


@dataclass(eq=False)
class CallFunction(Node):
    """A call into a function defined in the same file. ``tail`` when the call's status is the
    status of the body it stands in (its last command: the function's or the ``$(...)``'s)."""

    name: str = ""
    tail: bool = False
    # What this call's arguments decide in the function it calls (None: nothing).
    arms: "CallArms | None" = None


@dataclass(eq=False)
class CallArms:
    """The arms a call's arguments rule out: in the called function, ``ruled_out`` maps a branch
    to the arms that cannot run for this call (their condition tests a parameter, and the
    argument's value makes it go the other way: `report invocation/$ID/error` never takes
    `if [ "$1" = init/error ]`); ``calls`` gives the same for the calls that function makes,
    passing its parameters on. The front end decides; the walk (bootlint.analysis.flow) skips those arms
    for this call only.

    The index one past the last arm stands for the path that takes no arm (an `if` without
    `else` whose test fails): ruled out, and every arm left ends in a return or an exit, the
    code after the branch does not run for this call (a guard clause: `[ "$1" = init ] || return`).
    """

    ruled_out: dict[Branch, frozenset[int]] = field(default_factory=dict)
    calls: dict[CallFunction, "CallArms"] = field(default_factory=dict)


# --- events -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fact:
    """Something a front end noticed about a request, with the token it is about."""

    span: Span
    detail: str = ""
    # What else the front end knows about it, in its own words, for the rule's message (BL302:
    # what the client makes of a body on its command line, and how to send it instead).
    note: str = ""
    advice: str = ""


class Facts:
    """Names of the facts a front end records on an :class:`ApiCall`."""

    TIMEOUT = "timeout"                    # a read timeout on the request
    FAILURE_CHECKED = "failure-checked"    # a failed request is detected (curl -f, a status check)
    PAYLOAD_ARGV = "payload-argv"          # the body is a command-line argument
    NEWLINE_STRIP = "newline-strip"        # the body is read by a flag that strips CR and LF
    BODY_MALFORMED = "body-malformed"      # an error body that is not the documented JSON
    LITERAL_HOST = "literal-host"          # the host is written out, not taken from the variable


@dataclass(eq=False)
class ApiCall(Node):
    """A request to the Runtime API (or Extensions API) address.

    ``url`` is one way the URL may read; a URL whose last segment is a variable with several
    values yields one ApiCall per value. ``facts`` holds what the front end noticed about the
    request (see :class:`Facts`), each with the span of the token it is about.
    """

    endpoint: Endpoint = Endpoint.UNKNOWN
    url: UrlInfo | None = None
    tool: str = ""
    method: str = "GET"
    facts: dict[str, Fact] = field(default_factory=dict)
    # Made through the file's own helper functions: their names, outermost first, and where the
    # request is written in the innermost one (the finding is at the call site, ``span``).
    via: tuple[str, ...] = ()
    helper_span: Span | None = None
    # The call that sends the request (`urlopen(req)` of `req = Request(url, ...)`, the helper
    # call that makes it): a request counts where it is sent, and a fix copies it up to there.
    sent_at: Span | None = None


class ExitKind(str, enum.Enum):
    EXIT = "exit"          # exit, sys.exit, os._exit, raise SystemExit, exit()
    EXEC = "exec"          # exec of a program, os.exec*
    BREAK = "break"
    CONTINUE = "continue"  # to the loop's next iteration: ends the path, not the loop
    RETURN = "return"
    RAISE = "raise"        # Python: any other exception; ends the process only when uncaught


@dataclass(eq=False)
class Exit(Node):
    """Where control leaves: an exit, a return, a break or continue (``levels``), an exec or a raise."""

    kind: ExitKind = ExitKind.EXIT
    text: str = ""
    levels: int = 1        # break N
    # An exit or return with a non-zero status on the path a failed per-event command takes
    # (`handler ... || { <post to /error>; exit 1; }`): that failure ends the process or the
    # function with a failed status, as errexit would.
    fails_on_work_failure: bool = False


@dataclass(eq=False)
class SetOption(Node):
    """`set -e` / `set +e` / `set -o pipefail`, in the order they run."""

    errexit: bool | None = None
    pipefail: bool | None = None
    errtrace: bool | None = None
    # `shopt -s inherit_errexit`, `set -o posix`: `$(...)` keeps errexit from here on.
    substitutions_keep_errexit: bool | None = None
    text: str = ""          # as written (`set -o errexit`, `set -euo pipefail`), for messages


@dataclass(eq=False)
class PerEventWork(Node):
    """A command that runs for each invocation, between its `next` and its post, doing the
    function's work: it consumes the event, produces what is posted, or runs per event for its
    side effects (`git push`, a program given the event, the container's `"$@"`). Reading the
    `next` response and plumbing (jq, printf, ...) are not work. ``why`` says why it runs per
    event, in the front end's words (for messages); :class:`HandlerCall` is the one whose
    output is posted or that runs the user's function.

    ``status_kept`` is False where the shell drops the call's exit status (``local x=$(h)``,
    ``echo "$(h)"``); ``in_pipe`` is True for an element of a pipeline that is not its last,
    whose status only counts under pipefail. ``masked_by`` names the declaration builtin
    that hides the status, if that is what hides it.
    """

    text: str = ""
    status_kept: bool = True
    in_pipe: bool = False
    masked_by: str = ""
    masked_at: Span | None = None   # the `local out=$(h)` assignment that hides the status
    tail: bool = False              # its status is the status of the body it stands in
    # A call to the file's own function that ends with a command that succeeds (`echo`, `return
    # 0`): without errexit inside it, its status is 0 whatever the handler in it did.
    returns_ok: bool = False
    calls_function: bool = False    # a call to a function of the same file (it may run on after a failure)
    why: str = ""                   # why it runs per event ("it reads the event", ...)
    # Whether the trace id (its value, or the headers it is in) is handed to the command: an
    # argument, its environment, its standard input. None: the front end does not say.
    trace_handed: bool | None = None
    # Run in a background job whose status a later `wait` returns: where that `wait` is (its
    # status reaches the runtime there, not here). None: not waited for, or not a job.
    waited_at: Span | None = None
    # A `wait` that returns the status of background jobs: those jobs (their Subshell nodes).
    # It fails only where one of them can fail through its per-event work, which the walk
    # decides (bootlint.analysis.flow: the job's commands and the functions it calls).
    waits_for: tuple = ()


@dataclass(eq=False)
class ProgramRun(Node):
    """A program one of the file's functions runs (not a request, builtin or plumbing): where a
    call of that function is per-event work, this is what can fail the call. Rules report the
    call (:class:`PerEventWork`), never this; it is asked only where the call's own status is
    decided by the function's body (a function run as a background job that a `wait` waits for).
    The fields mean what :class:`PerEventWork`'s do."""

    text: str = ""
    status_kept: bool = True
    in_pipe: bool = False
    tail: bool = False
    returns_ok: bool = False
    calls_function: bool = False


@dataclass(eq=False)
class HandlerCall(PerEventWork):
    """The call that runs the user's function for one invocation (its output is posted, or it
    is the program run with the event, or the function `_HANDLER` names)."""


@dataclass(eq=False)
class TempCreate(Node):
    """mktemp, tempfile.mkstemp and kin; ``names`` are the variables that hold the result."""

    names: frozenset[str] = frozenset()
    text: str = ""
    # Made in a function that hands its name to its callers (`make_tmp() { mktemp; }`, used as
    # `f=$(make_tmp)`): ``names`` are theirs, and the function returning is how it gets there.
    handed_out: bool = False


@dataclass(eq=False)
class TempRemove(Node):
    """A removal of temp files: by the names it removes, or of the whole temp directory."""

    names: frozenset[str] = frozenset()
    # Removes everything in the temp directory (`rm -rf /tmp/*`, `find /tmp -mindepth 1 -delete`):
    # every temp file made before it, whatever holds its name.
    sweep: bool = False

    def removes(self, names: frozenset[str]) -> bool:
        """Does this removal take away a temp file held in one of these names?"""
        return self.sweep or bool(self.names & names)


@dataclass(eq=False)
class EnvSet(Node):
    """A variable set that may be meant for the environment of the handler."""

    name: str = ""
    exported: bool = False


@dataclass(eq=False)
class InitStep(Node):
    """A step of initialisation that can fail: sourcing or importing the handler's code.
    ``guard_lost`` says why the failure path written around it cannot run when the step fails
    (the front end's words; empty when it can)."""

    text: str = ""
    guard_lost: str = ""


@dataclass(eq=False)
class Handover(Node):
    """The script starts another program that runs the loop (``exec python3 -m awslambdaric``).
    ``is_last`` when it is the script's last statement."""

    uses_exec: bool = False
    text: str = ""
    is_last: bool = False


@dataclass(eq=False)
class TrapSet(Node):
    """``trap ... ERR`` and kin: ``signals`` in upper case without SIG."""

    signals: frozenset[str] = frozenset()
    text: str = ""


@dataclass(eq=False)
class HeaderMatch(Node):
    """A `next` response header looked up by name; ``case_sensitive`` when the lookup is."""

    header: str = ""
    case_sensitive: bool = False
    how: str = ""


@dataclass(eq=False)
class ArgvPayload(Node):
    """The event or the response passed as a command-line argument to an external program."""

    program: str = ""
    text: str = ""


@dataclass
class RuntimeModel:
    """Everything the rules know about one bootstrap."""

    path: str
    language: str
    main: list[Node] = field(default_factory=list)
    functions: dict[str, list[Node]] = field(default_factory=dict)
    # Code that runs at a time the model cannot place (trap bodies): searched, never walked.
    detached: list[Node] = field(default_factory=list)
    errexit_at_start: bool = False
    errexit_origin: str = ""        # what switched errexit on at start: "`#!/bin/bash -e` on line 1"
    pipefail_at_start: bool = False
    errtrace_at_start: bool = False
    # Whether `$(...)` keeps errexit at start, and why ("`#!/bin/sh`: ..."); bash in its default
    # mode turns it off there ("" then, with the reason it is off in ``substitution_mode``).
    substitutions_keep_errexit: bool = True
    substitution_mode: str = ""
    # Python: an uncaught exception always ends the process, so errexit is "always on".
    errexit_always: bool = False
    syntax_errors: list[tuple[Span, str]] = field(default_factory=list)
    # Regions a parser could not read in text its language accepts (a tree-sitter-bash gap that
    # `bash -n` accepts): reported (BL905), linted around. ``partial`` when the damage may hide
    # structure (a loop's end), so rules that need the whole program do not run.
    unparsed: list[tuple[Span, str]] = field(default_factory=list)
    partial: bool = False
    # Lines where a statement starts, with the line it ends on (for "next statement" suppressions).
    statements: list[tuple[int, int]] = field(default_factory=list)
    # Comments as (line, column, text, alone on its line), for suppression directives.
    comments: list[tuple[int, int, str, bool]] = field(default_factory=list)
    # What the front end parsed (its own type: a tree and its index, a libcst module and its
    # positions), handed to its fix builders so that a fix does not parse again; no rule reads it.
    parsed: object | None = field(default=None, repr=False, compare=False)
    # Concurrent workers (Managed Instances) and streamed responses: bootlint.model.concurrency,
    # bootlint.model.streaming (None: the front end found none).
    concurrency: "object | None" = None
    streaming: "object | None" = None
    _sorted: list[Node] | None = field(default=None, repr=False, compare=False)
    _by_kind: dict[type, list] = field(default_factory=dict, repr=False, compare=False)
    _by_class: dict[type, list] = field(default_factory=dict, repr=False, compare=False)
    _api_calls: dict = field(default_factory=dict, repr=False, compare=False)   # endpoints -> calls

    def all_nodes(self) -> list[Node]:
        """Every node of the model, reachable or not, in source order of discovery."""
        out: list[Node] = []
        stack: list[list[Node]] = [self.detached, *reversed(list(self.functions.values())), self.main]
        shapes = _SHAPES
        while stack:
            seq = stack.pop()
            for node in reversed(seq):
                out.append(node)
                if shapes.get(type(node)) != 0:   # (most nodes hold none: no call for them)
                    stack.extend(children(node))
        return out

    def events(self, kind: type) -> list:
        """Every event of one kind anywhere in the file, in source order (rules ask often, so
        the nodes are sorted once, after lowering is done)."""
        if self._sorted is None:
            self._sorted = sorted(self.all_nodes(), key=_POSITION)
            self._by_kind = {}
            # Filed by class in the same pass: a kind that is one class of the file's nodes (most
            # are) is that class's list, without a filter of every node per kind.
            self._by_class = {}
            for node in self._sorted:
                self._by_class.setdefault(type(node), []).append(node)
        found = self._by_kind.get(kind)
        if found is None:
            classes = [cls for cls in self._by_class if issubclass(cls, kind)]
            found = self._by_kind[kind] = (
                self._by_class[classes[0]] if len(classes) == 1 else
                [n for n in self._sorted if isinstance(n, kind)] if classes else [])
        return found

    def api_calls(self, *endpoints: Endpoint) -> list[ApiCall]:
        """The API calls to these endpoints (all of them without any), in source order; rules
        ask once per handler or request, so each answer is kept."""
        calls = self.events(ApiCall)
        if self._api_calls.get(None) is not calls:   # the nodes were sorted again: start over
            self._api_calls = {None: calls}
        if endpoints not in self._api_calls:
            self._api_calls[endpoints] = [c for c in calls if not endpoints or c.endpoint in endpoints]
        return self._api_calls[endpoints]

    @property
    def is_runtime(self) -> bool:
        """True when the file itself speaks the Runtime API (not a hand-over, not an extension)."""
        return any(c.endpoint is not Endpoint.EXTENSION for c in self.events(ApiCall))


_POSITION = attrgetter("span.line", "span.column")   # (read in C: sorted() asks it of every node)


def children(node: Node) -> list[list[Node]]:
    """The node lists directly below a structure node, in the order they run."""
    shape = _SHAPES.get(type(node))
    if shape is None:
        shape = _SHAPES[type(node)] = _shape(node)
    if shape == 0:
        return []
    if shape == 1:
        return [node.cond, node.body]
    if shape == 2:
        return [node.cond, *node.arms]
    return [node.body]


# What children() finds below each class of node (walks of the model ask for every node).
_SHAPES: dict[type, int] = {}


def _shape(node: Node) -> int:
    if isinstance(node, Loop):
        return 1
    if isinstance(node, Branch):
        return 2
    if isinstance(node, (Guarded, Subshell)):
        return 3
    return 0


def flatten(nodes: list[Node]) -> list[Node]:
    """Every node in and below a node list (no calls followed), in source order."""
    out: list[Node] = []
    stack = list(reversed(nodes))
    shapes = _SHAPES
    while stack:
        node = stack.pop()
        out.append(node)
        if shapes.get(type(node)) != 0:   # (most nodes hold none: no call for them)
            for seq in reversed(children(node)):
                stack.extend(reversed(seq))
    return out
