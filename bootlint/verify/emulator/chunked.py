"""Reading a request body as it arrives: when each part came, and a chunked body's trailers.

A streamed response (`Transfer-Encoding: chunked`) is judged by when its bytes arrive: the time
of the first byte tells a caller's wait (a body read whole before sending arrives at once, at
the end); the trailers after the last chunk carry a mid-stream failure
(`Lambda-Runtime-Function-Error-Type`, base64 `Lambda-Runtime-Function-Error-Body`).
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import field

from bootlint.verify.emulator.server import MAX_RESPONSE_BYTES
from bootlint.util.records import dataclass

MAX_TRAILER_LINES = 32
MAX_LINE = 8192


@dataclass
class Streamed:
    body: bytes = b""                       # what is kept of it (up to the buffered limit + 1)
    size: int = 0
    chunked: bool = False
    parts: list[tuple[float, int]] = field(default_factory=list)   # (monotonic time, bytes)
    trailers: dict[str, str] = field(default_factory=dict)          # lower-case names
    complete: bool = True                   # False: the connection ended inside the body

    @property
    def first_byte_at(self) -> float | None:
        return self.parts[0][0] if self.parts else None

    @property
    def last_byte_at(self) -> float | None:
        return self.parts[-1][0] if self.parts else None

    def error_body(self) -> str:
        """The Error-Body trailer decoded from base64 as Lambda's emulator does (padded standard
        alphabet), or its raw text marked as not base64."""
        raw = self.trailers.get("lambda-runtime-function-error-body")
        if raw is None:
            return ""
        try:
            return base64.b64decode(raw.strip(), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return f"(not base64) {raw[:200]}"


def read_request_body(request, on_first_byte=None) -> Streamed:
    """Read the whole body of the request being handled (an http.server handler), noting when
    each part arrived (``on_first_byte()`` is called when the first arrives); a malformed chunk
    size raises ValueError (the caller answers 400)."""
    out = Streamed()
    kept = bytearray()

    def take(chunk: bytes) -> None:
        if not out.parts and on_first_byte is not None:
            on_first_byte()
        out.size += len(chunk)
        out.parts.append((time.monotonic(), len(chunk)))
        if len(kept) < MAX_RESPONSE_BYTES + 1:
            kept.extend(chunk[:MAX_RESPONSE_BYTES + 1 - len(kept)])

    rfile = request.rfile
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        out.chunked = True
        while True:
            line = rfile.readline(MAX_LINE)
            if not line:
                out.complete = False
                break
            n = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if n == 0:
                for _ in range(MAX_TRAILER_LINES):
                    trailer = rfile.readline(MAX_LINE)
                    if trailer in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = trailer.decode("latin-1").partition(":")
                    out.trailers[name.strip().lower()] = value.strip()
                break
            while n > 0:
                chunk = rfile.read1(min(n, 65536)) if hasattr(rfile, "read1") else rfile.read(min(n, 65536))
                if not chunk:
                    out.complete = False
                    out.body = bytes(kept)
                    return out
                take(chunk)
                n -= len(chunk)
            rfile.readline(8)
        out.body = bytes(kept)
        return out
    length = int(request.headers.get("Content-Length") or 0)
    if length < 0:
        raise ValueError("a negative Content-Length")
    while length > 0:
        chunk = rfile.read1(min(length, 65536)) if hasattr(rfile, "read1") else rfile.read(min(length, 65536))
        if not chunk:
            out.complete = False
            break
        take(chunk)
        length -= len(chunk)
    out.body = bytes(kept)
    return out
