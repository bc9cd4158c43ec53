"""The Runtime API on 127.0.0.1 (HTTP/1.1, an ephemeral port), recording everything it is sent.

It follows Lambda's invoke state machine for one runtime process (``/work/shared/spec/runtime-api.md``,
"Invoke state machine"; where AWS's documentation is silent, the AWS runtime interface emulator's
answers), state by state:

- **init** (a process has started): ``next`` ends the init phase and is held until an invocation
  is queued, then answered 200 with the event, the ``Lambda-Runtime-*`` headers and
  ``Content-Type: application/json`` (awslambdaric's native client dies without it);
  ``/init/error`` is 202 and moves to **init-error**.
- **init-error**: the runtime is expected to exit; ``next`` is 403, a second ``/init/error`` 403.
- **ready** (no invocation open): ``next`` is held as above; ``/response`` or ``/error`` is 403
  ``InvalidStateTransition``; ``/init/error`` is 403 (the init phase is over).
- **invoke** (an invocation delivered, unanswered): ``/response`` or ``/error`` for its id is 202
  and back to **ready**; for another id, 400 ``InvalidRequestID``; a response over 6 MiB is 413 and
  closes the invocation as ``Function.ResponseSizeTooLarge``; a ``Lambda-Runtime-Function-Response-Mode``
  other than ``streaming`` is 400 and closes it as ``Runtime.InvalidResponseModeHeader``; a second
  ``next`` gets the same invocation again (the runtime lost track of it).
- anything else: 404.

A held ``next`` whose client has gone away never receives an event: the event stays queued for
the next process, as Lambda keeps an invocation for the runtime it starts next. Every answer is one
``sendall`` of headers and body on a socket with ``TCP_NODELAY`` (no Nagle/delayed-ACK stall on
keep-alive clients).
"""

from __future__ import annotations

import collections
import json
import re
import select
import socket
import threading
import time
import uuid
from dataclasses import field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from bootlint.analysis.error_body import json_error_problem
from bootlint.util.records import dataclass

BASE = "/2018-06-01/runtime"
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
KEEP_BODY_BYTES = 64 * 1024          # what a record keeps of a body (its size is always kept)
# The only request headers a record keeps (each cut to KEPT_HEADER_BYTES): a runtime sending
# large headers on every request must not grow the run's memory with each one.
KEPT_HEADERS = ("content-type", "content-length", "transfer-encoding", "lambda-runtime-function-error-type",
                "lambda-runtime-function-response-mode", "user-agent")
KEPT_HEADER_BYTES = 256
KEPT_PATH_BYTES = 1024
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:bootlint-verify"

_ANSWER_RE = re.compile(r"^/invocation/([^/]*)/(response|error)$")


@dataclass
class Invocation:
    """One event for the runtime, and what became of it."""

    event: bytes
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    trace_id: str | None = None
    timeout: float = 3.0
    client_context: str | None = None
    cognito_identity: str | None = None
    function_arn: str = FUNCTION_ARN
    queued_at: float | None = None
    delivered_at: float | None = None
    deadline_ms: int | None = None
    answered_at: float | None = None
    outcome: str | None = None               # "response" or "error" once answered (202),
    #                                          "closed" when the API closed it (see ``failure``)
    failure: str = ""                        # Lambda's error type when the API closed it
    deliveries: int = 0                      # times `next` handed it out (more than 1: a second next)
    body: bytes = b""                        # the answer's body (first KEEP_BODY_BYTES)
    body_size: int = 0
    error_type: str | None = None            # Lambda-Runtime-Function-Error-Type, if sent
    error_body_problem: str = ""             # why an /error body is not the documented JSON
    rejected: list[tuple[int, str]] = field(default_factory=list)   # (status, why) for 4xx answers

    def headers(self) -> list[tuple[str, str]]:
        """The headers `next` sends with this invocation."""
        out = [("Content-Type", "application/json"),
               ("Lambda-Runtime-Aws-Request-Id", self.request_id),
               ("Lambda-Runtime-Deadline-Ms", str(self.deadline_ms)),
               ("Lambda-Runtime-Invoked-Function-Arn", self.function_arn)]
        if self.trace_id:
            out.append(("Lambda-Runtime-Trace-Id", self.trace_id))
        if self.client_context is not None:
            out.append(("Lambda-Runtime-Client-Context", self.client_context))
        if self.cognito_identity is not None:
            out.append(("Lambda-Runtime-Cognito-Identity", self.cognito_identity))
        return out


@dataclass
class Record:
    """One request the runtime sent, as received, with the status it was answered."""

    at: float                  # time.monotonic() when its headers arrived
    method: str
    path: str
    status: int = 0
    endpoint: str = ""         # next, response, error, init/error, restore, unknown
    request_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""          # the first KEEP_BODY_BYTES
    size: int = 0
    why: str = ""              # for a 4xx: what was wrong
    error: str = ""            # the errorType of a 4xx answer (InvalidStateTransition, ...)
    state: str = ""            # the state the API was in when it arrived


class ApiUnavailable(Exception):
    """The Runtime API cannot be served or reached on this machine (the loopback interface)."""


def kept_headers(headers) -> dict[str, str]:
    """The few headers a record keeps (:data:`KEPT_HEADERS`), lower-cased names, values cut."""
    out = {}
    for name in KEPT_HEADERS:
        value = headers.get(name)
        if value is not None:
            out[name] = str(value)[:KEPT_HEADER_BYTES]
    return out


def body_problem(body: bytes) -> str:
    """Why an error body is not the documented error JSON ("" when it is); a body too deeply
    nested to read is a problem of its own, not a crash."""
    try:
        return json_error_problem(body.decode("utf-8", "replace"))
    except RecursionError:
        return "is nested too deeply to read as JSON"


def new_trace_id() -> str:
    """An X-Ray trace header as Lambda sends it."""
    epoch = f"{int(time.time()):08x}"
    return f"Root=1-{epoch}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=1"


class ListeningApi:
    """What both emulators share (:class:`RuntimeApi`, one invocation at a time, and
    :class:`~bootlint.verify.emulator.concurrent.ConcurrentApi`): the listening socket, the
    driver's queue and wait, and answering a request. A subclass sets ``records``,
    ``invocations``, ``changed``, ``_pending``, ``_stopping``, ``_server`` and ``_thread``, and
    writes ``_handle``."""

    # --- the driver's side ---------------------------------------------------------------
    @property
    def address(self) -> str:
        """``host:port``, the value of AWS_LAMBDA_RUNTIME_API."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self):
        self._thread.start()
        return self

    def close(self) -> None:
        with self.changed:
            self._stopping = True
            self.changed.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def queue(self, invocation: Invocation) -> None:
        """Make an invocation available to the next `next` request."""
        with self.changed:
            invocation.queued_at = time.monotonic()
            self.invocations[invocation.request_id] = invocation
            self._pending.append(invocation)
            self.changed.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` holds (checked whenever a request is handled), at most
        ``timeout`` seconds; wakes every 20 ms so callers may also watch their process."""
        end = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.02))
            return True

    # --- the server's side ---------------------------------------------------------------
    def _record(self, record: Record) -> None:
        with self.changed:
            self.records.append(record)
            self.changed.notify_all()

    def handle(self, request: "_Handler", method: str) -> None:
        """Answer one request; a request this code cannot make sense of is answered 400 and
        recorded, never a traceback (the runtime under test may send anything)."""
        try:
            self._handle(request, method)
        except Exception as exc:  # noqa: BLE001 - see above
            record = Record(time.monotonic(), method, request.path.split("?", 1)[0][:KEPT_PATH_BYTES],
                            endpoint="malformed")
            self._send(request, record, 400, f"malformed request ({type(exc).__name__})")

    def _handle(self, request: "_Handler", method: str) -> None:
        raise NotImplementedError

    def _send(self, request: "_Handler", record: Record, status: int, why: str = "",
              error: str = "") -> None:
        record.status = status
        record.why = why or record.why
        record.error = error
        if status == 202:
            payload = b'{"status":"OK"}'
        else:
            payload = json.dumps({"errorMessage": why, "errorType": error or f"HTTP{status}"}).encode()
        self._record(record)
        try:
            request.send_whole(status, [("Content-Type", "application/json")], payload)
        except OSError:
            request.close_connection = True


class RuntimeApi(ListeningApi):
    """The emulator: start it, queue invocations, read what the runtime did.

    ``on_next`` is called (in the server's thread) when a ``next`` request arrives, before it
    waits for an event: the driver takes its measurements there.
    """

    def __init__(self, on_next: Callable[[Record], None] | None = None) -> None:
        self.records: list[Record] = []
        self.invocations: dict[str, Invocation] = {}
        self.state = "init"           # init, init-error, ready, invoke (see the module's text)
        self.current: Invocation | None = None    # the open invocation in state invoke
        self.on_next = on_next
        self.changed = threading.Condition()
        self._pending: collections.deque[Invocation] = collections.deque()
        self.starved = False          # a connection could not get a thread (process limit)
        self._stopping = False
        self._server, self._thread = listen(self, "bootlint-runtime-api")

    # --- the driver's side ---------------------------------------------------------------
    def check_loopback(self) -> None:
        """Connect to the API once, as the runtime will: a machine whose loopback interface is
        down cannot make the run (:class:`ApiUnavailable` with the reason)."""
        host, port = self._server.server_address[:2]
        try:
            with socket.create_connection((host, port), timeout=5):
                pass
        except OSError as exc:
            raise ApiUnavailable(f"cannot connect to the Runtime API on {host}:{port} "
                                  f"({exc.strerror or exc}): is the loopback interface down?") from None

    def withdraw(self, invocation: Invocation) -> None:
        """Take back an invocation no runtime picked up."""
        with self.changed:
            if invocation in self._pending:
                self._pending.remove(invocation)

    @property
    def init_over(self) -> bool:
        return self.state != "init"

    def new_init_phase(self) -> None:
        """A new runtime process is starting: the state machine starts again at init (an
        invocation the last process left open was ended by its exit)."""
        with self.changed:
            self.state, self.current = "init", None

    # --- the server's side ---------------------------------------------------------------
    def _handle(self, request: "_Handler", method: str) -> None:
        record = Record(time.monotonic(), method, request.path.split("?", 1)[0][:KEPT_PATH_BYTES],
                        headers=kept_headers(request.headers))
        body, size = request.read_body()
        record.body, record.size = body[:KEEP_BODY_BYTES], size
        path = record.path
        rest = path[len(BASE):] if path.startswith(BASE + "/") else None
        answer = _ANSWER_RE.match(rest or "")
        with self.changed:
            record.state = self.state
        if method == "GET" and rest == "/invocation/next":
            record.endpoint = "next"
            self._next(request, record)
        elif method == "POST" and answer:
            record.endpoint, record.request_id = answer.group(2), answer.group(1)
            self._answer(request, record, body, size)
        elif method == "POST" and rest == "/init/error":
            record.endpoint = "init/error"
            with self.changed:
                state = self.state
                if state == "init":
                    self.state = "init-error"
            if state != "init":
                self._send(request, record, 403, "the init phase is over (the first next ended it)"
                           if state != "init-error" else "/init/error was already posted",
                           "InvalidStateTransition")
            else:
                record.why = body_problem(body)
                self._send(request, record, 202)
        elif rest in ("/restore/next", "/restore/error"):
            record.endpoint = "restore"
            self._send(request, record, 404, "SnapStart restore is not emulated")
        else:
            record.endpoint = "unknown"
            self._send(request, record, 404, f"no such endpoint: {method} {path}")

    def _next(self, request: "_Handler", record: Record) -> None:
        with self.changed:
            state, current = self.state, self.current
        if state == "init-error":
            self._send(request, record, 403, "next after /init/error: the runtime is expected to exit",
                       "InvalidStateTransition")
            return
        if self.on_next is not None:
            self.on_next(record)
        with self.changed:
            self.records.append(record)
            self.changed.notify_all()
            if state == "invoke" and current is not None:
                # A second `next` while the invocation is open: RIE hands it out again.
                invocation = current
                invocation.deliveries += 1
            else:
                self.state = "ready"
                invocation = None
            while invocation is None:
                if self._stopping:
                    break
                if self._pending:
                    invocation = self._pending.popleft()
                    if _peer_gone(request.connection):
                        self._pending.appendleft(invocation)
                        invocation = None
                        break
                    invocation.delivered_at = time.monotonic()
                    invocation.deadline_ms = int((time.time() + invocation.timeout) * 1000)
                    invocation.deliveries += 1
                    self.state, self.current = "invoke", invocation
                    break
                self.changed.wait(0.05)
                if _peer_gone(request.connection):
                    break
        if invocation is None:
            request.close_connection = True
            record.status = 0          # never answered: the client went away or the run ended
            return
        record.status = 200
        record.request_id = invocation.request_id
        try:
            request.send_whole(200, invocation.headers(), invocation.event)
        except OSError:
            with self.changed:   # it never reached a runtime: keep it for the next one
                if invocation.deliveries == 1 and invocation.outcome is None:
                    invocation.delivered_at = invocation.deadline_ms = None
                    invocation.deliveries = 0
                    self.state, self.current = "ready", None
                    self._pending.appendleft(invocation)
                self.changed.notify_all()
            request.close_connection = True

    def _answer(self, request: "_Handler", record: Record, body: bytes, size: int) -> None:
        error = ""
        with self.changed:
            invocation = self.invocations.get(record.request_id or "")
            current = self.current
            mode = record.headers.get("lambda-runtime-function-response-mode", "")
            if self.state != "invoke" or current is None:
                status, error = 403, "InvalidStateTransition"
                why = (f"request {record.request_id} was already answered (/{invocation.outcome})"
                       if invocation is not None and invocation.outcome in ("response", "error") else
                       f"request {record.request_id} was already closed ({invocation.failure})"
                       if invocation is not None and invocation.outcome == "closed" else
                       "no invocation is open (the runtime has not been sent one by next)")
            elif record.request_id != current.request_id:
                status, error = 400, "InvalidRequestID"
                why = (f"unknown request id {record.request_id!r}" if invocation is None else
                       f"request id {record.request_id} is not the open invocation's")
            elif record.endpoint == "response" and mode and mode != "streaming":
                status, error = 400, "InvalidResponseModeHeader"
                why = f"Lambda-Runtime-Function-Response-Mode: {mode[:40]} is not `streaming`"
                self._close(current, "Runtime.InvalidResponseModeHeader", record.at)
            elif record.endpoint == "response" and size > MAX_RESPONSE_BYTES:
                status, error = 413, "RequestEntityTooLarge"
                why = f"the response is {size:,} bytes, over the 6 MB limit"
                self._close(current, "Function.ResponseSizeTooLarge", record.at)
            else:
                status, why = 202, ""
                current.outcome, current.answered_at = record.endpoint, record.at
                current.body, current.body_size = body[:KEEP_BODY_BYTES], size
                if record.endpoint == "error":
                    current.error_type = record.headers.get("lambda-runtime-function-error-type")
                    current.error_body_problem = body_problem(body)
                self.state, self.current = "ready", None
            if invocation is not None and status != 202:
                invocation.rejected.append((status, why))
        self._send(request, record, status, why, error)

    def _close(self, invocation: Invocation, failure: str, at: float) -> None:
        """The API ends the open invocation itself (it fails with ``failure``); the caller holds
        the lock."""
        invocation.outcome, invocation.failure, invocation.answered_at = "closed", failure, at
        self.state, self.current = "ready", None


def listen(api, name: str) -> tuple["_Server", threading.Thread]:
    """A threading HTTP/1.1 server on an ephemeral loopback port that hands each request to
    ``api.handle(request, method)``, and the thread that runs it (started by the caller)."""
    try:
        server = _Server(("127.0.0.1", 0), _Handler)
    except OSError as exc:
        raise ApiUnavailable(f"cannot serve the Runtime API on 127.0.0.1 ({exc.strerror or exc}): "
                             f"is the loopback interface down?") from None
    server.api = api
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=name, daemon=True)
    return server, thread


def _peer_gone(sock: socket.socket) -> bool:
    """True when the client closed its end (an exited process): readable with nothing to read."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    api: RuntimeApi

    def handle_error(self, request, client_address) -> None:
        """socketserver prints a traceback here (a connection reset mid-request, no thread for
        a new connection): the run goes on, and what the runtime did is in the records."""
        import sys

        if isinstance(sys.exc_info()[1], RuntimeError):   # "can't start new thread"
            self.api.starved = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def send_whole(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        """Status line, headers and body in one write (one segment for a small answer)."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers_buffered()
        self.wfile.write(b"".join(self._headers_buffer) + body)
        self._headers_buffer = []
        self.wfile.flush()

    def end_headers_buffered(self) -> None:
        """http.server's end_headers flushes the headers on their own: add the blank line only."""
        self._headers_buffer.append(b"\r\n")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # everything is recorded; nothing is printed

    def read_body(self) -> tuple[bytes, int]:
        """The body (what is kept of it) and its full size; reads it all either way, so that
        the connection stays usable."""
        kept = bytearray()
        size = 0

        def take(chunk: bytes) -> None:
            nonlocal size
            size += len(chunk)
            if len(kept) < MAX_RESPONSE_BYTES + 1:
                kept.extend(chunk[:MAX_RESPONSE_BYTES + 1 - len(kept)])

        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = self.rfile.readline(1024)
                n = int(line.split(b";", 1)[0].strip() or b"0", 16)   # ValueError: malformed
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass   # trailers
                    break
                while n > 0:
                    chunk = self.rfile.read(min(n, 65536))
                    if not chunk:
                        return bytes(kept), size
                    take(chunk)
                    n -= len(chunk)
                self.rfile.readline(8)
            return bytes(kept), size
        length = int(self.headers.get("Content-Length") or 0)      # ValueError: malformed
        if length < 0:
            raise ValueError("a negative Content-Length")
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                break
            take(chunk)
            length -= len(chunk)
        return bytes(kept), size

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.api.handle(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.server.api.handle(self, "POST")

    def do_PUT(self) -> None:  # noqa: N802
        self.server.api.handle(self, "PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.api.handle(self, "DELETE")

