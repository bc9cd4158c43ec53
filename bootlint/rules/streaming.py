"""BL6xx rules about streamed responses (`Lambda-Runtime-Function-Response-Mode: streaming`),
written against :mod:`bootlint.model.streaming`."""

from __future__ import annotations

from typing import Iterator

from bootlint.diagnostics import Related, Violation
from bootlint.model import (ApiCall, Branch, CallFunction, Endpoint, Exit, ExitKind, Loop, Node,
                            RuntimeModel, children, flatten)
from bootlint.model.streaming import (ERROR_BODY, ERROR_HEADERS, HTTP_INTEGRATION, MODE_HEADER,
                                      STREAMING, Body, Encoding, Streaming)
from bootlint.rules.registry import rule
from bootlint.rules.subject import Subject


def _posts(subject: Subject):
    return (subject.model.streaming or Streaming()).posts


@rule("BL601", "invalid-response-mode", "error",
      "The response mode header's value is not exactly `streaming`.")
def invalid_response_mode(subject: Subject) -> Iterator[Violation]:
    for post in _posts(subject):
        for alt in post.mode.values:
            if alt and all(p.is_literal for p in alt):
                value = "".join(p.text for p in alt).strip()
                if value != STREAMING:
                    yield Violation(post.mode.span, (
                        f"{MODE_HEADER} is `{value}`: the only mode is `{STREAMING}` (exactly, in lower "
                        f"case), and Lambda answers any other value with 400 and fails the invocation "
                        f"(Runtime.InvalidResponseModeHeader); send `{STREAMING}`, or no mode header "
                        f"for a buffered response"))
                    break


@rule("BL602", "stream-error-not-in-trailers", "error",
      "The streaming error headers are not sent as trailers (or by a client that cannot).")
def stream_error_not_in_trailers(subject: Subject) -> Iterator[Violation]:
    how = subject.idioms.stream_error
    for post in _posts(subject):
        for header in post.headers:
            if header.name.lower() in (h.lower() for h in ERROR_HEADERS):
                yield Violation(header.span, (
                    f"`{header.name}` is sent as an ordinary request header of the streaming response: "
                    f"Lambda reads a mid-stream failure only from trailers sent after the last chunk, so "
                    f"the caller gets a successful, truncated response; {how}"))
        for mention in post.body_mentions:
            yield Violation(mention.span, (
                f"`{mention.name}` is written into the body of the streaming response: the caller "
                f"receives it as data of a successful response, not as an error; {how}"))
        declared = post.declared_trailers
        if declared is not None and not post.sends_trailers:
            yield Violation(declared.span, (
                f"the request announces trailers (`{declared.text}`), but {post.tool} as used here "
                f"cannot send them: a mid-stream failure is delivered as a successful, truncated "
                f"response; {how}"))


@rule("BL603", "streaming-post-not-streamed", "warning",
      "A streaming-mode POST whose body is read whole before it is sent.")
def streaming_post_not_streamed(subject: Subject) -> Iterator[Violation]:
    for post in _posts(subject):
        if post.body is Body.WHOLE:
            yield Violation(post.body_span or post.span, (
                f"the streaming response's body is read whole before the request is sent "
                f"(`{post.body_text}`): the caller gets nothing until the whole response exists, "
                f"which is what streaming was for; {subject.idioms.stream_body}"))


@rule("BL604", "error-body-not-base64", "warning",
      "The Lambda-Runtime-Function-Error-Body trailer is not base64.")
def error_body_not_base64(subject: Subject) -> Iterator[Violation]:
    for post in _posts(subject):
        for header in [*post.trailers, *post.headers]:
            if header.name.lower() == ERROR_BODY.lower() and header.encoding is Encoding.RAW:
                yield Violation(header.span, (
                    f"the {ERROR_BODY} value (`{header.text[:40]}`) is not base64: Lambda decodes it "
                    f"as base64 and, when that fails, keeps only the error type, so the message is "
                    f"lost; send the base64 of the error JSON"))


@rule("BL605", "error-after-stream-started", "error",
      "/invocation/{id}/error is reachable after that invocation's streaming /response began.")
def error_after_stream_started(subject: Subject) -> Iterator[Violation]:
    model = subject.model
    for post in _posts(subject):
        if post.call is None:
            continue
        error = _error_after(model, post.call)
        if error is not None:
            yield Violation(error.span, (
                f"/invocation/{{id}}/error can be posted after the streaming /response of the same "
                f"invocation has begun (line {post.span.line}): Lambda refuses it once the first byte "
                f"is sent (or cuts the stream), so the failure is lost; "
                f"{subject.idioms.stream_error}"),
                related=(Related(post.span, "the streaming response"),))


@rule("BL606", "http-integration-without-delimiter", "warning",
      "An http-integration-response body without the 8-NUL delimiter after its JSON prelude.")
def http_integration_without_delimiter(subject: Subject) -> Iterator[Violation]:
    for post in _posts(subject):
        ct = post.content_type
        if ct is None or post.delimiter:
            continue
        if any(HTTP_INTEGRATION in "".join(p.text for p in alt if p.is_literal) for alt in ct.values):
            yield Violation(ct.span, (
                f"the content type is {HTTP_INTEGRATION}, but nothing writes the 8 NUL bytes that "
                f"end the JSON prelude (status code, headers, cookies): the function URL or API "
                f"Gateway cannot find where the payload begins and answers 500; write the prelude, "
                f"8 NUL bytes, then the payload"))


# -- what can run after a node in the same iteration -----------------------------------------

def _error_after(model: RuntimeModel, target: Node, depth: int = 0) -> ApiCall | None:
    """An /error request that can run after ``target`` before its loop's iteration ends
    (following calls of the file's functions, and a function's callers when the target is in it)."""
    found = _after(model, target)
    if found is None:
        return None
    nodes, owner = found
    for node in nodes:
        if isinstance(node, ApiCall) and node.endpoint is Endpoint.ERROR:
            return node
        if isinstance(node, CallFunction):
            error = _error_in(model, node.name, set())
            if error is not None:
                return error
    if owner is not None and depth < 4:
        for node in model.all_nodes():
            if isinstance(node, CallFunction) and node.name == owner:
                error = _error_after(model, node, depth + 1)
                if error is not None:
                    return error
    return None


def _error_in(model: RuntimeModel, name: str, seen: set[str]) -> ApiCall | None:
    if name in seen or name not in model.functions:
        return None
    seen.add(name)
    for node in flatten(model.functions[name]):
        if isinstance(node, ApiCall) and node.endpoint is Endpoint.ERROR:
            return node
        if isinstance(node, CallFunction):
            error = _error_in(model, node.name, seen)
            if error is not None:
                return error
    return None


_ENDS = (ExitKind.EXIT, ExitKind.EXEC, ExitKind.BREAK, ExitKind.CONTINUE, ExitKind.RETURN)


def _after(model: RuntimeModel, target: Node) -> tuple[list[Node], str | None] | None:
    """The nodes that can run after ``target`` in its iteration, and the function it sits in
    when it ends the walk there (None: the main program, or its loop)."""
    tops = [(None, model.main)] + [(name, body) for name, body in model.functions.items()]
    for owner, body in tops:
        chain = _chain(body, target, None)
        if chain is None:
            continue
        out: list[Node] = []
        for parent, seq, i in reversed(chain):
            if isinstance(parent, Loop) and seq is parent.cond:
                return out, None
            if isinstance(parent, Branch) and seq is parent.cond:
                for arm in parent.arms:
                    out.extend(flatten(arm))
            for node in seq[i + 1:]:
                out.extend(flatten([node]))
                if isinstance(node, Exit) and node.kind in _ENDS:
                    return out, None
            if isinstance(parent, Loop):
                return out, None   # the iteration ends here
        return out, owner
    return None


def _chain(seq: list[Node], target: Node, parent: Node | None):
    """(parent, sequence, index) from ``seq`` down to ``target``, or None."""
    for i, node in enumerate(seq):
        if node is target:
            return [(parent, seq, i)]
        for inner in children(node):
            below = _chain(inner, target, node)
            if below is not None:
                return [(parent, seq, i)] + below
    return None
