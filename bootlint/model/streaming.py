"""Facts about response streaming (`Lambda-Runtime-Function-Response-Mode: streaming`): for each
`/response` post that names a mode, how its body is sent and what it says about errors.

A front end fills one :class:`Streaming` per file (``RuntimeModel.streaming``); the BL6xx rules
read only this. Whether a client streams a body or can send trailers is the front end's data
about its clients.
"""

from __future__ import annotations

import enum
from dataclasses import field

from bootlint.diagnostics import Span
from bootlint.model import ApiCall, Piece
from bootlint.util.lazyre import lazy
from bootlint.util.records import dataclass

MODE_HEADER = "Lambda-Runtime-Function-Response-Mode"
STREAMING = "streaming"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY = "Lambda-Runtime-Function-Error-Body"
ERROR_HEADERS = (ERROR_TYPE, ERROR_BODY)
HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"


class Body(str, enum.Enum):
    STREAMED = "streamed"    # sent as it is produced: chunked writes, a generator, `curl -T -`
    WHOLE = "whole"          # read to the end before the request starts
    UNKNOWN = "unknown"


class Encoding(str, enum.Enum):
    BASE64 = "base64"        # made by a base64 encoder, or a literal that is base64
    RAW = "raw"              # known not to be base64 (JSON, a message)
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Header:
    """A header (or trailer) the runtime sends, with the ways its value can read."""

    span: Span
    name: str
    values: tuple[tuple[Piece, ...], ...] = ()
    text: str = ""           # as written
    encoding: Encoding = Encoding.UNKNOWN


@dataclass
class StreamPost:
    """A `/invocation/{id}/response` post that names a response mode."""

    span: Span
    tool: str
    mode: Header
    call: ApiCall | None = None          # the model's request node (for paths after it)
    body: Body = Body.UNKNOWN
    body_span: Span | None = None
    body_text: str = ""                  # how the body is given, as written
    headers: list[Header] = field(default_factory=list)         # ordinary request headers
    trailers: list[Header] = field(default_factory=list)        # trailers sent after the body
    declared_trailers: Header | None = None                    # the `Trailer:` header
    body_mentions: list[Header] = field(default_factory=list)   # error headers written as body
    sends_trailers: bool = False         # the client (as used) can send trailers
    content_type: Header | None = None
    delimiter: bool = False              # 8 NUL bytes are written after a JSON prelude

    def sort_headers(self, headers: list[Header]) -> None:
        """File the request's headers (the mode header among them) by what Lambda reads them as:
        the `Trailer:` announcement, the content type, or ordinary headers."""
        for header in headers:
            lower = header.name.lower()
            if lower == "trailer":
                self.declared_trailers = header
            elif lower == "content-type":
                self.content_type = header
            elif header is not self.mode:
                self.headers.append(header)


@dataclass
class Streaming:
    """The streamed responses a runtime posts."""

    posts: list[StreamPost] = field(default_factory=list)


_B64 = lazy(r"[A-Za-z0-9+/]*={0,2}")


def literal_encoding(text: str) -> Encoding:
    """Is this literal value base64 (padded, standard alphabet), as Lambda decodes it?"""
    stripped = text.strip()
    if stripped and len(stripped) % 4 == 0 and _B64.fullmatch(stripped):
        import base64   # only for a literal streamed body (few bootstraps stream)

        try:
            base64.b64decode(stripped, validate=True)
            return Encoding.BASE64
        except ValueError:   # binascii.Error is a ValueError
            pass
    return Encoding.RAW
