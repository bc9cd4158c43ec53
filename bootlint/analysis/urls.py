"""Classifying a URL (as pieces of literal text and run-time values) against the Runtime API."""

from __future__ import annotations

import re
from functools import lru_cache
from bootlint.model import Endpoint, Piece, Segment, UrlInfo
from bootlint.diagnostics import Span
from bootlint.util.lazyre import lazy

API_VERSION = "2018-06-01"
API_VARIABLE = "AWS_LAMBDA_RUNTIME_API"
_VERSION_RE = lazy(r"^\d{4}-\d{2}-\d{2}$")
_EXTENSION_ROOTS = {"extension", "telemetry", "logs"}
# The path after /runtime/, with "*" standing for the request id.
KNOWN_PATHS: dict[tuple[str, ...], Endpoint] = {
    ("invocation", "next"): Endpoint.NEXT,
    ("invocation", "*", "response"): Endpoint.RESPONSE,
    ("invocation", "*", "error"): Endpoint.ERROR,
    ("init", "error"): Endpoint.INIT_ERROR,
    ("restore", "next"): Endpoint.RESTORE_NEXT,
    ("restore", "error"): Endpoint.RESTORE_ERROR,
}


def _split(pieces: tuple[Piece, ...], sep: str) -> list[tuple[Piece, ...]]:
    """Split pieces on a separator found in their literal text, keeping positions exact."""
    parts: list[list[Piece]] = [[]]
    for piece in pieces:
        if not piece.is_literal:
            parts[-1].append(piece)
            continue
        chunks = piece.text.split(sep)
        offset = 0
        for i, chunk in enumerate(chunks):
            if i:
                parts.append([])
            if chunk:
                parts[-1].append(_sub_piece(piece, offset, len(chunk)))
            offset += len(chunk) + len(sep)
    return [tuple(p) for p in parts]


def _sub_piece(piece: Piece, start: int, length: int) -> Piece:
    """The literal piece's text[start:start+length], with its span narrowed when on one line."""
    span = piece.span
    if span and span.line == span.end_line and span.end_column - span.column == len(piece.text):
        col = span.column + start
        span = Span(span.line, col, span.line, col + length)
    return Piece(text=piece.text[start:start + length], span=span)


def literal_prefix_text(pieces: tuple[Piece, ...]) -> str:
    return "".join(p.text if p.is_literal else "\x00" for p in pieces)


def classify(pieces: tuple[Piece, ...]) -> UrlInfo | None:
    """Return what the URL asks of the Runtime API, or None when it is not a Runtime API URL.
    The answer is shared (it is frozen): a URL read from a variable assigned many times is the
    same few alternatives at every use, each classified once."""
    return _classify(tuple(pieces))


@lru_cache(maxsize=4096)
def _classify(pieces: tuple[Piece, ...]) -> UrlInfo | None:
    flat = literal_prefix_text(pieces)
    rest = pieces
    host: tuple[Piece, ...] = ()
    scheme = re.match(r"^\s*https?://", flat)
    if scheme:
        rest = _split(pieces, "://")
        after = tuple(p for part in rest[1:] for p in part) if len(rest) > 1 else ()
        segments = _split(after, "/")
        host, path_parts = segments[0], segments[1:]
    else:
        if not flat.lstrip().startswith("/") and not flat.startswith("\x00"):
            return None
        path_parts = _split(pieces, "/")
    segs = [Segment(p) for p in path_parts]
    # Drop a query string and empty segments (a trailing or doubled slash).
    # The query may hold values of its own (`next?fn={FUNCTION_NAME}`): cut at the first "?"
    # written in the path's text, and drop what follows.
    for j, seg in enumerate(segs):
        if any(p.is_literal and "?" in p.text for p in seg.pieces):
            segs = segs[:j] + [Segment(_split(seg.pieces, "?")[0])]
            break
    segs = [s for s in segs if s.pieces]
    host_is_api = any(p.var == API_VARIABLE for p in host)
    for i, seg in enumerate(segs):
        text = seg.literal
        nxt = segs[i + 1].literal if i + 1 < len(segs) else None
        if text and _VERSION_RE.match(text) and nxt in _EXTENSION_ROOTS:
            return UrlInfo(Endpoint.EXTENSION, host=host, version=seg)
        if text and _VERSION_RE.match(text) and nxt == "runtime":
            return _runtime(host, seg, tuple(segs[i + 2:]))
        if text == "runtime" and i + 1 < len(segs) and segs[i + 1].literal in ("invocation", "init", "restore"):
            version = segs[i - 1] if i else None
            return _runtime(host, version, tuple(segs[i + 1:]))
    if host_is_api and segs and segs[0].literal is None:
        # "http://$AWS_LAMBDA_RUNTIME_API/$PATH": the Runtime API, but which endpoint is unknown.
        return UrlInfo(Endpoint.UNKNOWN, host=host, unresolved=True)
    return None


def shape(pieces: tuple[Piece, ...]) -> tuple:
    """What :func:`classify` reads of a URL's pieces: their text and the variables they come
    from, not where they were written."""
    return tuple([(p.text, p.var) for p in pieces])   # a list: no generator to resume per piece


def distinct_meanings(alternatives) -> list[UrlInfo]:
    """The meanings of a URL's alternative values, in order: the first one for each endpoint
    (resolved or not). An alternative of the same shape as an earlier one means what it means
    and is not classified again: a variable assigned the same text on every path (the same
    assignment repeated through a long file) costs one classification, not one per assignment."""
    found: list[UrlInfo] = []
    seen_shapes: set[tuple] = set()
    seen: set[tuple] = set()
    for alt in alternatives:
        key = shape(alt)
        if key in seen_shapes:
            continue
        seen_shapes.add(key)
        info = classify(alt)
        if info is not None and (info.endpoint, info.unresolved) not in seen:
            seen.add((info.endpoint, info.unresolved))
            found.append(info)
    return found


def _runtime(host: tuple[Piece, ...], version: Segment | None, path: tuple[Segment, ...]) -> UrlInfo:
    words = [s.literal for s in path]
    if len(path) == 3 and words[0] == "invocation" and words[2] is None:
        return UrlInfo(Endpoint.UNKNOWN, host, version, path, unresolved=True)
    if any(w is None for i, w in enumerate(words) if not (len(path) == 3 and i == 1)):
        return UrlInfo(Endpoint.UNKNOWN, host, version, path, unresolved=True)
    shape = tuple("*" if len(path) == 3 and i == 1 else w for i, w in enumerate(words))
    endpoint = KNOWN_PATHS.get(shape)  # type: ignore[arg-type]
    if endpoint is None and shape in (("invocation", "response"), ("invocation", "error")):
        # The request id is missing: still the endpoint the author meant (BL005 says so).
        endpoint = Endpoint.RESPONSE if shape[1] == "response" else Endpoint.ERROR
    return UrlInfo(endpoint or Endpoint.UNKNOWN, host, version, path)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, for "did you mean" suggestions."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
