"""The fixes a rule can ask for, one small dataclass each: what to change, never how.

A rule attaches a request to its :class:`~bootlint.diagnostics.Violation`; the file's front end
carries it out if its table of implementations (``IMPLEMENTATIONS`` in ``<front end>/fixes.py``)
has the request's type, and :mod:`bootlint.fixes.packaging` carries out the ones about the
file's bytes and mode, for any language. The engine (:func:`bootlint.fixes.build.build`) turns
the :class:`Rewrite` an implementation returns into the :class:`~bootlint.diagnostics.Fix`
that is reported, with the title and the applicability declared here.

A title is a template: ``{field}`` is filled from the request's fields, then from the details
the implementation returns, then from the front end's :class:`~bootlint.frontends.registry.Idioms`.
"""

from __future__ import annotations

from dataclasses import field
from typing import Mapping

from bootlint.diagnostics import Applicability, ByteEdit, Edit, RequestedFix, Span
from bootlint.util.records import dataclass

SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE


@dataclass(frozen=True)
class Rewrite:
    """How an implementation carries out a request: the edits (text, bytes, or the file's mode),
    the words the title's template needs from it, and, where its site needs it, a lower
    applicability than the request type declares (never a higher one: the engine keeps the
    lower of the two)."""

    edits: tuple[Edit, ...] = ()
    byte_edits: tuple[ByteEdit, ...] = ()
    mode: int | None = None
    detail: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    applicability: Applicability | None = None


# --- about the Runtime API requests ---------------------------------------------------------------

@dataclass(frozen=True)
class ReadApiHost(RequestedFix):
    """BL004: the written-out host at ``span`` becomes the value of AWS_LAMBDA_RUNTIME_API."""

    title = "take the host from AWS_LAMBDA_RUNTIME_API"
    applicability = SAFE
    span: Span


@dataclass(frozen=True)
class DropNextTimeout(RequestedFix):
    """BL006: the timeout at ``span`` (an option, an argument, a wrapper command) goes."""

    title = "remove the timeout on the long-poll `next`"
    applicability = SAFE
    span: Span


@dataclass(frozen=True)
class SendFileAsIs(RequestedFix):
    """BL303: the data option at ``span`` that strips CR and LF becomes one that does not."""

    title = "use `--data-binary`, which sends the file as it is"
    applicability = SAFE
    span: Span


@dataclass(frozen=True)
class PipePayload(RequestedFix):
    """BL302: the payload passed on the command line (option and value, ``span``) goes on
    standard input instead."""

    title = "pipe the payload into curl (`printf '%s' ... | curl --data-binary @-`)"
    applicability = UNSAFE
    span: Span


# --- about the event loop and failures ------------------------------------------------------------

@dataclass(frozen=True)
class WrapEventLoop(RequestedFix):
    """BL001: a loop that runs forever around the statements from ``first`` (the one that
    requests `next`) through ``last`` (the last that posts the response)."""

    title = "wrap next, the handler and the response in `{loop}`"
    applicability = UNSAFE
    first: Span
    last: Span


@dataclass(frozen=True)
class _PostsFailure:
    """The fields of the requests that post the handler's failure (not a request itself): the
    handler call at ``handler``; the request at ``response`` (sent at ``sent``, when it is built
    before) whose way of posting it follows; a post of a failure the file makes already
    (``error``, its own helper), to copy."""

    handler: Span
    response: Span
    sent: Span | None = None
    error: Span | None = None


@dataclass(frozen=True)
class GuardHandlerCall(_PostsFailure, RequestedFix):
    """BL101, BL102: the handler call guarded; its failure posted to /error the way the response
    is posted (or the file's own way of posting a failure), then on to the next event."""

    title = "post the handler's failure to /invocation/{{id}}/error and go on with the next event"
    applicability = UNSAFE


@dataclass(frozen=True)
class PostCaughtFailure(_PostsFailure, RequestedFix):
    """BL102: the handler call is already caught, and the code that catches it posts nothing: it
    posts the failure to /error the way the response is posted, before it goes on."""

    title = "post the caught failure to /invocation/{{id}}/error"
    applicability = SAFE


@dataclass(frozen=True)
class ExportTraceId(RequestedFix):
    """BL201: after the `next` request at ``near``, _X_AMZN_TRACE_ID set from the trace header,
    read the way the request id is read into a variable of ``request_ids`` (the names the
    /response and /error URLs put in their paths; the first one that can be followed wins).
    Detail: ``verb`` (how the language says it: export, set)."""

    title = "{verb} _X_AMZN_TRACE_ID from the Lambda-Runtime-Trace-Id header, read the way the request id is"
    applicability = UNSAFE
    request_ids: tuple[str, ...]
    near: Span


@dataclass(frozen=True)
class KeepInitGuard(RequestedFix):
    """BL103: the initialisation step at ``span``, whose failure guard cannot run, made so that
    it can. Detail: ``command`` (the step's command)."""

    title = ("run it as `command {command}`, so that the shell survives a missing file and the guard "
             "reports it")
    applicability = SAFE
    span: Span


@dataclass(frozen=True)
class ExitAfterInitError(RequestedFix):
    """BL104: exit right after the post to /runtime/init/error at ``span``."""

    title = "exit after reporting the init error"
    applicability = UNSAFE
    span: Span


@dataclass(frozen=True)
class RemoveTempFile(RequestedFix):
    """BL301: the temp file made at ``span`` (by ``text``, held in ``names``) removed at the end
    of each invocation and before every early jump out of it. Detail: ``removal`` (the
    command that removes it)."""

    title = "remove the temp file at the end of each invocation (`{removal}`)"
    applicability = UNSAFE
    span: Span
    names: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class RemoveTempFileBeforeJump(RequestedFix):
    """BL301: the temp file (made by ``text``, held in ``names``) removed before the jump at
    ``span`` that skips its removal. Detail: ``removal``."""

    title = "remove the temp file before leaving the iteration (`{removal}`)"
    applicability = UNSAFE
    span: Span
    names: tuple[str, ...]
    text: str


# --- about the file itself (carried out for any language: bootlint.fixes.packaging) --------------

@dataclass(frozen=True)
class ConvertLineEndings(RequestedFix):
    """BL402: every CR LF becomes LF."""

    title = "convert CR LF line endings to LF"
    applicability = SAFE


@dataclass(frozen=True)
class MakeExecutable(RequestedFix):
    """BL403: the file's mode gets the execute bits where it has the read bits. Detail:
    ``mode`` (the new permissions, in octal)."""

    title = "make it executable (mode {mode})"
    applicability = SAFE


@dataclass(frozen=True)
class RemoveByteOrderMark(RequestedFix):
    """BL405: the UTF-8 byte-order mark before `#!` goes."""

    title = "remove the byte-order mark"
    applicability = SAFE


@dataclass(frozen=True)
class SplitEnvArguments(RequestedFix):
    """BL406: `-S ` after the ``env`` of the shebang (whose path is ``env_path``), so that env
    splits the interpreter from its options."""

    title = "add `-S` so that env splits the interpreter from its options"
    applicability = SAFE
    env_path: str
