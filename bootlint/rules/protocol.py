"""BL003–BL008: how the runtime speaks the Runtime API."""

from __future__ import annotations

from typing import Iterator

from bootlint.model import ApiCall, Endpoint, Facts, Handover
from bootlint.diagnostics import Violation
from bootlint.fixes.requests import DropNextTimeout, ReadApiHost
from bootlint.rules.registry import Observed, rule
from bootlint.rules.subject import Subject, about_request
from bootlint.analysis.urls import API_VERSION, KNOWN_PATHS, edit_distance


def _calls_with(subject: Subject, fact: str, *endpoints: Endpoint) -> Iterator[tuple[ApiCall, object]]:
    for call in subject.model.api_calls(*endpoints):
        found = call.facts.get(fact)
        if found is not None:
            yield call, found


def _suggest(words: list[str | None]) -> tuple[str, int]:
    """The known endpoint nearest to a path, and the index of the first segment that differs."""
    best, best_cost, best_at = "", 10 ** 6, 0
    for shape in KNOWN_PATHS:
        cost, first = 0, -1
        for i in range(max(len(shape), len(words))):
            want = shape[i] if i < len(shape) else ""
            have = words[i] if i < len(words) else ""
            if want == "*":
                if have == "":
                    cost += 3   # no segment there; one known only at run time fits the id
                continue
            d = edit_distance(have or "", want) if have is not None else 0
            if d and first < 0:
                first = i
            cost += d
        if cost < best_cost:
            best = "/".join("{id}" if s == "*" else s for s in shape)
            best_cost, best_at = cost, max(first, 0)
    return best, best_at


@rule("BL003", "unknown-runtime-endpoint", "error",
      "A Runtime API URL whose path or version is not a known endpoint.",
      observed=Observed(ApiCall, (Endpoint.UNKNOWN,)))
def unknown_runtime_endpoint(subject: Subject) -> Iterator[Violation]:
    for call in subject.model.api_calls():
        url = call.url
        if url is None or url.unresolved or call.endpoint is Endpoint.EXTENSION:
            continue
        version = url.version.literal if url.version else None
        if version is not None and version != API_VERSION:
            yield about_request(call, url.version.span or call.span, (
                f"`{version}` is not a Runtime API version: the only one is `{API_VERSION}`; "
                f"Lambda answers 404 and the runtime never gets an event"))
        if call.endpoint is not Endpoint.UNKNOWN or not url.path:
            continue
        words = [s.literal for s in url.path]
        suggestion, at = _suggest(words)
        segment = url.path[min(at, len(url.path) - 1)]
        span = segment.span or call.span
        path = "/".join(w if w is not None else "{…}" for w in words)
        yield about_request(call, span, (f"`runtime/{path}` is not a Runtime API endpoint: did you mean "
                     f"`runtime/{suggestion}`? (Lambda answers 404)"))


@rule("BL004", "hardcoded-runtime-api", "error",
      "A Runtime API URL whose host is written out instead of taken from AWS_LAMBDA_RUNTIME_API.",
      fixes=(ReadApiHost,))
def hardcoded_runtime_api(subject: Subject) -> Iterator[Violation]:
    fix = subject.idioms.read_api_variable
    for call in subject.model.api_calls():
        url = call.url
        host_fact = call.facts.get(Facts.LITERAL_HOST)
        if url is not None and url.host_is_literal:
            spans = [p.span for p in url.host if p.span]
            span = spans[0] if spans else call.span
            host = "".join(p.text for p in url.host)
        elif host_fact is not None:
            span, host = host_fact.span, host_fact.detail
        else:
            continue
        yield about_request(call, span, f"the Runtime API host `{host}` is written out: Lambda gives the "
                                        f"address in AWS_LAMBDA_RUNTIME_API and it is not always {host}; "
                                        f"use {fix}", ReadApiHost(span))


@rule("BL005", "request-id-missing", "error",
      "A /response or /error URL without the request id taken from the `next` response.",
      observed=Observed(ApiCall, (Endpoint.RESPONSE, Endpoint.ERROR)))
def request_id_missing(subject: Subject) -> Iterator[Violation]:
    for call in subject.model.api_calls(Endpoint.RESPONSE, Endpoint.ERROR):
        url = call.url
        if url is None:
            continue
        kind = call.endpoint.value.rsplit("/", 1)[-1]
        if len(url.path) == 2:
            yield about_request(call, call.span, (f"`/invocation/{kind}` has no request id: the path is "
                              f"`/invocation/$REQUEST_ID/{kind}`, with the Lambda-Runtime-Aws-Request-Id "
                              f"header of the `next` response (Lambda answers 404 otherwise)"))
            continue
        rid = url.request_id
        if rid is not None and rid.literal is not None:
            yield about_request(call, rid.span or call.span, (
                f"the request id `{rid.literal}` is written out: each invocation has its own; take it "
                f"from the Lambda-Runtime-Aws-Request-Id header of the `next` response"))


@rule("BL006", "timeout-on-next", "error", "A timeout on the long-poll `next` request.",
      fixes=(DropNextTimeout,))
def timeout_on_next(subject: Subject) -> Iterator[Violation]:
    for call, fact in _calls_with(subject, Facts.TIMEOUT, Endpoint.NEXT):
        yield about_request(call, fact.span, (
            f"{fact.detail} puts a timeout on `invocation/next`, a long poll that may wait for an "
            f"event indefinitely (the process is frozen between events); remove it (a connect "
            f"timeout is fine)"), DropNextTimeout(fact.span))


@rule("BL007", "next-failure-unchecked", "warning",
      "The `next` request's failure is not detected.", opt_in=True)
def next_failure_unchecked(subject: Subject) -> Iterator[Violation]:
    fix = subject.idioms.status_check
    for call in subject.model.api_calls(Endpoint.NEXT):
        if Facts.FAILURE_CHECKED in call.facts:
            continue
        yield about_request(call, call.span, (f"a failed `next` request (500: the runtime should exit) is not detected: "
                          f"an empty event and request id reach the handler; {fix}"))


@rule("BL008", "handover-without-exec", "info",
      "The last command starts the real runtime without `exec`.", opt_in=True, runtime_only=False)
def handover_without_exec(subject: Subject) -> Iterator[Violation]:
    if subject.model.is_runtime:
        return
    for handover in subject.model.events(Handover):
        if handover.is_last and not handover.uses_exec:
            text = handover.text.split("\n")[0]
            fix = subject.idioms.exec_form.format(command=text[:30])
            parent = subject.idioms.parent
            yield Violation(handover.span, (
                f"`{text[:40]}` starts the runtime as a child of {parent}, which does not pass "
                f"SIGTERM on; replace the process instead: `{fix}`"))
