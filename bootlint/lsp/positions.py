"""Where things are in an editor's buffer.

bootlint's spans count 1-based code points over the text a front end parsed (the byte-order mark
dropped, CR LF folded to LF: :class:`bootlint.files.source.SourceFile`); a byte edit counts bytes of the
file as read. The Language Server Protocol counts 0-based lines and, within a line, code units of
the encoding the client and server agreed on: UTF-16 unless the client offered another. One
:class:`Buffer` maps all three onto offsets into the buffer's own text and back.
"""

from __future__ import annotations

from bisect import bisect_right

from bootlint.diagnostics import Span
from bootlint.fixes.textmap import line_starts

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


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


class Buffer:
    """A document's text as the editor holds it, with the offsets of its lines."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = encoding
        self.starts = line_starts(text)
        # The front ends never see a byte-order mark: their columns on line 1 start after it.
        self.bom = 1 if text.startswith("\ufeff") else 0
        self._raw: bytes | None = None

    @property
    def raw(self) -> bytes:
        """The buffer as the bytes a file with this text would hold."""
        if self._raw is None:
            self._raw = self.text.encode("utf-8", errors="surrogatepass")
        return self._raw

    def _line_end(self, row: int) -> int:
        """Offset of the end of a 0-based row, before its line feed."""
        return self.starts[row + 1] - 1 if row + 1 < len(self.starts) else len(self.text)

    # --- into offsets --------------------------------------------------------------------

    def offset(self, line: int, column: int) -> int:
        """Offset of a 1-based (line, code-point column) of bootlint's, clamped to the buffer."""
        if line < 1:
            return 0
        if line > len(self.starts):
            return len(self.text)
        row = line - 1
        extra = self.bom if row == 0 else 0
        return min(self.starts[row] + max(column - 1, 0) + extra, self._line_end(row))

    def span_offsets(self, span: Span) -> tuple[int, int]:
        start = self.offset(span.line, span.column)
        # A span that ends at column 1 of the next line takes the whole line break (CR LF too).
        if span.end_column <= 1 and span.end_line > span.line:
            end = self.starts[span.end_line - 1] if span.end_line <= len(self.starts) else len(self.text)
        else:
            end = self.offset(span.end_line, span.end_column)
        return start, max(start, end)

    def byte_offset(self, byte: int) -> int:
        """Offset of a byte position of the file's bytes (a byte edit's)."""
        return len(self.raw[:max(byte, 0)].decode("utf-8", errors="ignore"))

    def from_position(self, line: int, character: int) -> int:
        """Offset of an LSP position (0-based line, code units), clamped to the buffer."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[line], self._line_end(line)
        return start + index_of_units(self.text[start:end], character, self.encoding)

    # --- out of offsets ------------------------------------------------------------------

    def position(self, offset: int) -> tuple[int, int]:
        """The LSP (0-based line, code units) of an offset."""
        offset = min(max(offset, 0), len(self.text))
        row = bisect_right(self.starts, offset) - 1
        return row, units(self.text[self.starts[row]:offset], self.encoding)

    def range(self, span: Span) -> tuple[tuple[int, int], tuple[int, int]]:
        start, end = self.span_offsets(span)
        return self.position(start), self.position(end)
