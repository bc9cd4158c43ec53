"""The Runtime API of a Lambda Managed Instances environment: several invocations at once.

What differs from :mod:`bootlint.verify.emulator.server` (one invocation at a time), after
``runtime-api.md`` "Lambda Managed Instances" and the AWS runtime interface emulator's LMI mode:

- the first ``next`` ends the init phase; every ``next`` is held until an invocation is due,
  and several may be held at once (one per worker);
- at most ``concurrency`` invocations are in flight (delivered, unanswered); the others wait;
- ``/response`` or ``/error`` for an invocation in flight is 202; for one already answered 403
  ``InvalidStateTransition``; for one past its deadline 410 ``InvokeTimeout`` (a timed-out
  invocation is not stopped: its worker goes on, and its late answer is refused); for an id
  never sent, 400 ``InvalidRequestID``;
- a ``Lambda-Runtime-Function-Response-Mode`` other than ``streaming`` is 400 and fails the
  invocation (``Runtime.InvalidResponseModeHeader``);
- ``/init/error`` is accepted once, before the first ``next``; 403 after.

The driver (:mod:`bootlint.verify.managed`) decides when a process exit fails the invocations in
flight (:meth:`ConcurrentApi.fail_in_flight`).
"""

from __future__ import annotations

import collections
import re
import threading
import time

from bootlint.verify.emulator.server import (BASE, KEEP_BODY_BYTES, KEPT_PATH_BYTES, MAX_RESPONSE_BYTES,
                                             Invocation, ListeningApi, Record, _Handler, _peer_gone,
                                             body_problem, kept_headers, listen)

_ANSWER_RE = re.compile(r"^/invocation/([^/]*)/(response|error)$")


class ConcurrentApi(ListeningApi):
    """The emulator for one environment that serves up to ``concurrency`` invocations at once."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.records: list[Record] = []
        self.invocations: dict[str, Invocation] = {}
        self.in_flight: dict[str, Invocation] = {}
        self.timed_out: set[str] = set()
        self.began: dict[str, float] = {}             # request id -> its response's first byte
        self.streams: dict[str, object] = {}          # request id -> its response as read (Streamed)
        self.init_over = False
        self.init_error: Record | None = None
        self.held = 0                 # `next` requests waiting right now
        self.most_held = 0            # the most ever waiting at once (workers polling)
        self.most_in_flight = 0       # the most invocations in flight at once
        self.on_next = None
        self.changed = threading.Condition()
        self._pending: collections.deque[Invocation] = collections.deque()
        self._stopping = False
        self.starved = False
        self._server, self._thread = listen(self, "bootlint-runtime-api-lmi")

    # --- the driver's side ---------------------------------------------------------------
    def expire(self, now: float) -> list[Invocation]:
        """Time out the invocations in flight past their deadline (nothing is stopped)."""
        out = []
        with self.changed:
            for rid, invocation in list(self.in_flight.items()):
                if invocation.delivered_at is not None and now - invocation.delivered_at > invocation.timeout:
                    invocation.outcome, invocation.failure = "closed", "Task timed out"
                    invocation.answered_at = now
                    del self.in_flight[rid]
                    self.timed_out.add(rid)
                    out.append(invocation)
            if out:
                self.changed.notify_all()
        return out

    def fail_in_flight(self, failure: str, now: float) -> list[Invocation]:
        """The process Lambda started exited: every invocation in flight fails."""
        with self.changed:
            failed = list(self.in_flight.values())
            for invocation in failed:
                invocation.outcome, invocation.failure, invocation.answered_at = "closed", failure, now
            self.in_flight.clear()
            self.changed.notify_all()
        return failed

    # --- the server's side ---------------------------------------------------------------
    def _record(self, record: Record) -> None:
        with self.changed:   # (a record answered twice, as a late answer is, is kept once)
            if record not in self.records:
                self.records.append(record)
            self.changed.notify_all()

    def _handle(self, request: _Handler, method: str) -> None:
        record = Record(time.monotonic(), method, request.path.split("?", 1)[0][:KEPT_PATH_BYTES],
                        headers=kept_headers(request.headers))
        path = record.path
        rest = path[len(BASE):] if path.startswith(BASE + "/") else None
        answer = _ANSWER_RE.match(rest or "")
        if method == "GET" and rest == "/invocation/next":
            record.endpoint = "next"
            request.read_body()
            self._next(request, record)
            return
        if method == "POST" and answer:
            record.endpoint, record.request_id = answer.group(2), answer.group(1)
            self._answer(request, record)
            return
        body, size = request.read_body()
        record.body, record.size = body[:KEEP_BODY_BYTES], size
        if method == "POST" and rest == "/init/error":
            record.endpoint = "init/error"
            with self.changed:
                first = not self.init_over and self.init_error is None
                if first:
                    self.init_error = record
            if first:
                self._send(request, record, 202)
            else:
                self._send(request, record, 403, "the init phase is over, or /init/error was already "
                           "posted", "InvalidStateTransition")
        else:
            record.endpoint = "unknown" if rest not in ("/restore/next", "/restore/error") else "restore"
            self._send(request, record, 404, f"no such endpoint: {method} {path}")

    def _next(self, request: _Handler, record: Record) -> None:
        if self.on_next is not None:
            self.on_next(record)
        invocation = None
        with self.changed:
            self.init_over = True
            self.records.append(record)
            self.held += 1
            self.most_held = max(self.most_held, self.held)
            self.changed.notify_all()
            try:
                while not self._stopping:
                    if self._pending and len(self.in_flight) < self.concurrency:
                        if _peer_gone(request.connection):
                            break
                        invocation = self._pending.popleft()
                        invocation.delivered_at = time.monotonic()
                        invocation.deadline_ms = int((time.time() + invocation.timeout) * 1000)
                        invocation.deliveries += 1
                        self.in_flight[invocation.request_id] = invocation
                        self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
                        break
                    self.changed.wait(0.05)
                    if _peer_gone(request.connection):
                        break
            finally:
                self.held -= 1
                self.changed.notify_all()
        if invocation is None:
            request.close_connection = True
            return
        record.status, record.request_id = 200, invocation.request_id
        try:
            request.send_whole(200, invocation.headers(), invocation.event)
        except OSError:
            request.close_connection = True

    def _answer(self, request: _Handler, record: Record) -> None:
        from bootlint.verify.emulator.chunked import read_request_body

        mode = record.headers.get("lambda-runtime-function-response-mode", "")
        rid = record.request_id or ""
        with self.changed:
            invocation = self.in_flight.get(rid)

        def began() -> None:
            if record.endpoint == "response" and invocation is not None:
                with self.changed:
                    self.began.setdefault(rid, time.monotonic())

        streamed = read_request_body(request, began)
        if record.endpoint == "response" and invocation is not None:
            self.streams[rid] = streamed
        record.body, record.size = streamed.body[:KEEP_BODY_BYTES], streamed.size
        error = ""
        with self.changed:
            known = self.invocations.get(record.request_id or "")
            if record.request_id in self.timed_out:
                status, error = 410, "InvokeTimeout"
                why = f"request {record.request_id} timed out before this answer"
            elif known is None:
                status, error, why = 400, "InvalidRequestID", f"unknown request id {record.request_id!r}"
            elif record.endpoint == "error" and rid in self.began:
                status, error = 403, "InvalidStateTransition"
                why = (f"request {rid}'s streamed response has begun: a failure after the first byte "
                       f"goes in the trailers")
            elif invocation is None or record.request_id not in self.in_flight:
                status, error = 403, "InvalidStateTransition"
                why = f"request {record.request_id} was already answered ({known.outcome or 'not sent'})"
            elif record.endpoint == "response" and mode and mode != "streaming":
                status, error = 400, "InvalidResponseModeHeader"
                why = f"Lambda-Runtime-Function-Response-Mode: {mode[:40]} is not `streaming`"
                self._close(invocation, "Runtime.InvalidResponseModeHeader", record.at)
            elif record.endpoint == "response" and not mode and streamed.size > MAX_RESPONSE_BYTES:
                status, error = 413, "RequestEntityTooLarge"
                why = f"the response is {streamed.size:,} bytes, over the 6 MB limit"
                self._close(invocation, "Function.ResponseSizeTooLarge", record.at)
            else:
                status, why = 202, ""
                invocation.outcome, invocation.answered_at = record.endpoint, time.monotonic()
                invocation.body, invocation.body_size = streamed.body[:KEEP_BODY_BYTES], streamed.size
                if record.endpoint == "error":
                    invocation.error_type = record.headers.get("lambda-runtime-function-error-type")
                    invocation.error_body_problem = body_problem(streamed.body)
                elif streamed.trailers.get("lambda-runtime-function-error-type"):
                    invocation.error_type = streamed.trailers["lambda-runtime-function-error-type"]
                del self.in_flight[invocation.request_id]
            if known is not None and status != 202:
                known.rejected.append((status, why))
        self._send(request, record, status, why, error)

    def _close(self, invocation: Invocation, failure: str, at: float) -> None:
        invocation.outcome, invocation.failure, invocation.answered_at = "closed", failure, at
        self.in_flight.pop(invocation.request_id, None)
