"""Positions in a file, in every unit bootlint meets: the one place that decides where a line
starts and what a column counts.

A :class:`~bootlint.model.Span` counts 1-based lines and 1-based code points in the *text* a
front end parses: the byte-order mark dropped, CR LF folded to LF, and, in a file whose lines end
in CR alone (classic Mac OS), each CR read as a line break. tree-sitter counts bytes of that text
as UTF-8; libcst counts code points; the Language Server Protocol counts code units of the
encoding client and server agreed on (UTF-16 unless the client offered another); a fix is
applied to the file's raw bytes. :class:`TextMap` converts between the first four (the server's
:class:`bootlint.lsp.positions.Buffer` is one, over the editor's buffer);
:class:`RawMap` maps text positions to the raw bytes, splitting lines by the same rule
(:func:`line_break`) the text was made with, so the two never disagree.
"""

from __future__ import annotations

from bisect import bisect_right

from bootlint.diagnostics import Span
from bootlint.util.lazyre import lazy

BOM = b"\xef\xbb\xbf"


def line_break(body: bytes | str) -> bytes | str:
    """The byte (or, of a text, the character) that ends a line of ``body`` (the file without
    its BOM, or an editor's buffer) as the front ends read it: CR in a file that has CR and no LF
    at all (an editor shows those lines; BL402 says the kernel does not), else LF (a CR just
    before an LF belongs to the line break)."""
    lf, cr = ("\n", "\r") if isinstance(body, str) else (b"\n", b"\r")
    return cr if lf not in body and cr in body else lf


def line_starts(data: bytes | str, base: int = 0, newline: bytes | str | None = None) -> list[int]:
    """Offsets where each line of ``data`` starts (after each ``newline``, LF by default), the
    first at ``base``."""
    if newline is None:
        newline = b"\n" if isinstance(data, bytes) else "\n"
    starts = [base]
    pos = data.find(newline, base)
    while pos >= 0:
        starts.append(pos + 1)
        pos = data.find(newline, pos + 1)
    return starts


UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"   # the units an LSP client may count columns in


def units(text: str, encoding: str = UTF16) -> int:
    """How many code units of ``encoding`` the text takes (counted by the codec, in C: a
    1.9 MB line is not walked character by character in Python)."""
    if text.isascii() or encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", errors="surrogatepass"))
    # A code point above the Basic Multilingual Plane is a surrogate pair: two units.
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


def index_of_units(text: str, count: int, encoding: str = UTF16) -> int:
    """The index into ``text`` (code points) that ``count`` code units of ``encoding`` reach,
    clamped to the text; a count that ends inside a character's units counts that character
    (as pygls does). An ASCII text needs no conversion; any other is encoded once."""
    count = max(count, 0)
    if text.isascii() or encoding == UTF32:
        return min(count, len(text))
    if encoding == UTF8:
        data = text.encode("utf-8", errors="surrogatepass")
        if count >= len(data):
            return len(text)
        index = len(data[:count].decode("utf-8", errors="ignore"))
        return index + (len(text[:index].encode("utf-8", errors="surrogatepass")) < count)
    data = text.encode("utf-16-le", errors="surrogatepass")
    if 2 * count >= len(data):
        return len(text)
    # Half a surrogate pair decodes (surrogatepass) to one lone surrogate: the pair is counted.
    return len(data[:2 * count].decode("utf-16-le", errors="surrogatepass"))


# A line as the Language Server Protocol counts lines: up to and with a CR LF, a CR or an LF.
_LSP_LINE = lazy(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def lsp_lines(text: str) -> list[str]:
    """The lines of an editor's document, each with its line break, as the Language Server
    Protocol counts them: ending at CR LF, CR or LF only (``str.splitlines`` also ends a line at
    a form feed, U+2028, U+0085 and others, which editors show inside a line: a client's
    position past one of them would land on another line)."""
    if "\r" not in text:
        parts = text.split("\n")
        lines = [part + "\n" for part in parts[:-1]]
        if parts[-1]:
            lines.append(parts[-1])
        return lines
    return _LSP_LINE.findall(text)


def minimal_change(old: str, new: str) -> tuple[int, int, str]:
    """One change ``(start, end, replacement)`` that turns ``old`` into ``new``: ``old[start:end]``
    becomes the replacement, as small as the common ends allow (what a rewrite of a whole file
    really changed; an editor keeps the cursor and folds outside it)."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return start, end_old, new[start:end_new]


class TextMap:
    """Positions in a text whose lines end at ``line_break`` (LF: a front end's text; in an editor's
    buffer a CR before the LF is a character of its line; CR: an editor's CR-only buffer): 1-based (line, code-point column), code-point
    offsets, UTF-8 byte offsets (tree-sitter's) and columns in an LSP client's code units."""

    def __init__(self, text: str, line_break: str = "\n") -> None:
        self.text = text
        self.line_break = line_break   # LF, or CR in an editor's CR-only buffer
        self._encoded: bytes | None = None
        self._byte_starts: list[int] | None = None
        self._char_starts: list[int] | None = None
        self._ascii: bool | None = None
        self._spans: dict[tuple, Span] = {}   # span_of_points' answers

    # -- the two encodings of the text ---------------------------------------------------------
    @property
    def encoded(self) -> bytes:
        """The text as UTF-8: what tree-sitter parses and what its byte offsets refer to."""
        if self._encoded is None:
            self._encoded = self.text.encode("utf-8", errors="surrogatepass")
        return self._encoded

    @property
    def ascii(self) -> bool:
        """An all-ASCII text: byte, code-point and UTF-16 columns are all the same."""
        if self._ascii is None:
            self._ascii = self.text.isascii()
        return self._ascii

    @property
    def byte_starts(self) -> list[int]:
        if self._byte_starts is None:
            self._byte_starts = line_starts(self.encoded, newline=self.line_break.encode())
        return self._byte_starts

    @property
    def char_starts(self) -> list[int]:
        if self._char_starts is None:
            self._char_starts = self.byte_starts if self.ascii else line_starts(self.text, newline=self.line_break)
        return self._char_starts

    @property
    def lines(self) -> int:
        return len(self.byte_starts)

    # -- bytes (tree-sitter) ---------------------------------------------------------------------
    def line_start(self, row: int) -> int:
        """Byte offset where a 0-based row starts (the text's end past the last row)."""
        starts = self.byte_starts
        return starts[row] if 0 <= row < len(starts) else len(self.encoded)

    def _row_bytes(self, row: int) -> bytes:
        start = self.line_start(row)
        end = self.byte_starts[row + 1] - 1 if row + 1 < len(self.byte_starts) else len(self.encoded)
        return self.encoded[start:end]

    def column(self, row: int, byte_col: int) -> int:
        """1-based code-point column of a 0-based (row, byte column) position."""
        if row >= len(self.byte_starts):
            return 1
        if self.ascii:
            return byte_col + 1
        start = self.byte_starts[row]
        prefix = self.encoded[start:start + byte_col]
        if prefix.isascii():
            return byte_col + 1
        return len(prefix.decode("utf-8", errors="replace")) + 1

    def byte_offset(self, line: int, column: int) -> int:
        """Byte offset of a 1-based (line, code-point column); a column past the line's end is
        its end, a line past the last is the text's end."""
        if line < 1:
            return 0
        if line > len(self.byte_starts):
            return len(self.encoded)
        data = self._row_bytes(line - 1)
        start = self.byte_starts[line - 1]
        if data.isascii():
            return start + min(max(column - 1, 0), len(data))
        return start + len(data.decode("utf-8", "replace")[:max(column - 1, 0)].encode("utf-8", "surrogatepass"))

    def point(self, offset: int) -> tuple[int, int]:
        """1-based (line, code-point column) of a byte offset."""
        offset = min(max(offset, 0), len(self.encoded))
        row = bisect_right(self.byte_starts, offset) - 1
        return row + 1, self.column(row, offset - self.byte_starts[row])

    def span(self, start: int, end: int) -> Span:
        """The span of the byte range ``start``..``end``."""
        return Span(*self.point(start), *self.point(end))

    def span_of_points(self, start: tuple[int, int], end: tuple[int, int]) -> Span:
        """A span from tree-sitter's 0-based (row, byte column) points. Made once per pair of
        points (a Span is immutable): a shell file's lowering asks for the same words' spans
        many times over."""
        key = (start, end)
        span = self._spans.get(key)
        if span is None:
            starts, ascii_ = self._byte_starts, self._ascii   # (known after the first span)
            if starts is None or ascii_ is None:
                starts, ascii_ = self.byte_starts, self.ascii
            lines = len(starts)
            if ascii_ and start[0] < lines and end[0] < lines:
                # (column() of each point, without two calls: most points are asked for once)
                span = Span(start[0] + 1, start[1] + 1, end[0] + 1, end[1] + 1)
            else:
                span = Span(start[0] + 1, self.column(*start), end[0] + 1, self.column(*end))
            self._spans[key] = span
        return span

    # -- code points (libcst, Python strings) ------------------------------------------------------
    def char_point(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a code-point offset into the text."""
        offset = min(max(offset, 0), len(self.text))
        starts = self.char_starts
        row = bisect_right(starts, offset) - 1
        return row + 1, offset - starts[row] + 1

    def char_span(self, start: int, end: int) -> Span:
        return Span(*self.char_point(start), *self.char_point(end))

    def char_offset(self, line: int, column: int) -> int:
        """Code-point offset of a 1-based (line, column), clamped to the line."""
        starts = self.char_starts
        if line < 1:
            return 0
        if line > len(starts):
            return len(self.text)
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return min(starts[line - 1] + max(column - 1, 0), end)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break ('' past the last line)."""
        return self.text[self.char_offset(line, 1):self.char_offset(line, 1 << 62)]

    def char_offset_of_byte(self, offset: int) -> int:
        """Code-point offset of a byte offset (one inside a character: that character's start)."""
        offset = min(max(offset, 0), len(self.encoded))
        if self.ascii:
            return offset
        row = bisect_right(self.byte_starts, offset) - 1
        return self.char_starts[row] + len(self.encoded[self.byte_starts[row]:offset].decode("utf-8", "ignore"))

    # -- code units of an LSP client's encoding (UTF-16 unless it chose another) --------------------
    def units_column(self, line: int, column: int, encoding: str = UTF16) -> int:
        """0-based column in code units of ``encoding`` of a 1-based (line, code-point column)."""
        start = self.char_offset(line, 1)
        return units(self.text[start:self.char_offset(line, column)], encoding)

    def column_of_units(self, line: int, count: int, encoding: str = UTF16) -> int:
        """1-based code-point column of a 1-based line and a 0-based column in code units of
        ``encoding``, clamped to the line (:func:`index_of_units`)."""
        return index_of_units(self.line_text(line), count, encoding) + 1


class RawMap:
    """Maps 1-based (line, code-point column) positions of a file's text to offsets in its raw
    bytes: past the BOM, before the CR of a CR LF, over the characters of the line in the file's
    encoding. ``valid`` is False when the bytes cannot be mapped exactly (not in ``encoding``, or
    UTF-16): then no text edit applies."""

    def __init__(self, raw: bytes, encoding: str = "utf-8") -> None:
        self.raw = raw
        self.encoding = encoding
        self.base = len(BOM) if raw.startswith(BOM) else 0
        body = raw[self.base:]
        self.line_break = line_break(body)
        self.starts = line_starts(raw, self.base, self.line_break)
        self.valid = not raw.startswith((b"\xff\xfe", b"\xfe\xff", b"#\x00!\x00", b"\x00#\x00!"))
        try:
            body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            self.valid = False
        if self.line_break == b"\r":
            self.newline = "\r"        # new lines are written the way the file's lines end
        else:
            crlf = raw.count(b"\r\n")
            self.newline = "\r\n" if crlf and crlf * 2 > raw.count(b"\n") else "\n"

    def _line(self, line: int) -> bytes:
        """The bytes of a 1-based line as the text sees it: without its line break (nor the CR
        of a CR LF)."""
        start = self.starts[line - 1]
        end = self.starts[line] - 1 if line < len(self.starts) else len(self.raw)
        data = self.raw[start:end]
        if self.line_break == b"\n" and line < len(self.starts) and data.endswith(b"\r"):
            data = data[:-1]
        return data

    def offset(self, line: int, column: int) -> int:
        """The byte offset of a text position (a column past the line's end is its end)."""
        if line < 1:
            return self.base
        if line > len(self.starts):
            return len(self.raw)
        data = self._line(line)
        start = self.starts[line - 1]
        if data.isascii():
            return start + min(max(column - 1, 0), len(data))
        text = data.decode(self.encoding, "replace")
        return start + len(text[:max(column - 1, 0)].encode(self.encoding, "replace"))

    def span(self, span: Span) -> tuple[int, int]:
        return self.offset(span.line, span.column), self.offset(span.end_line, span.end_column)

    def encode(self, text: str) -> bytes | None:
        """An edit's text as the file's bytes, its line breaks the file's; None when the file's
        encoding cannot hold it."""
        if self.newline != "\n":
            text = text.replace("\n", self.newline)
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError:
            return None
