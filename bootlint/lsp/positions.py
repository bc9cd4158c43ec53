"""Where things are in an editor's buffer.

bootlint's spans count 1-based code points over the text a front end parsed (the byte-order mark
dropped, CR LF folded to LF: :class:`bootlint.files.source.SourceFile`); a byte edit counts bytes of the
file as read. The Language Server Protocol counts 0-based lines and, within a line, code units of
the encoding the client and server agreed on: UTF-16 unless the client offered another. A
:class:`Buffer` is the buffer's :class:`~bootlint.fixes.textmap.TextMap` (the one place lines and
columns are counted, here split by the front ends' rule: at CR in a CR-only buffer, as editors
show it) that knows what else differs: the client's encoding and the byte-order mark the front
ends never see.
"""

from __future__ import annotations

from bootlint.diagnostics import Span
from bootlint.fixes.textmap import UTF16, TextMap, line_break


class Buffer(TextMap):
    """A document's text as the editor holds it (its byte-order mark and CR LF kept), in the
    units the client counts; offsets are code points into :attr:`text`."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        # Lines as the front ends and the editor see them: a CR-only buffer's end at CR.
        super().__init__(text, line_break(text))
        self.encoding = encoding
        # The front ends never see a byte-order mark: their columns on line 1 start after it.
        self.bom = 1 if text.startswith("\ufeff") else 0

    @property
    def raw(self) -> bytes:
        """The buffer as the bytes a file with this text would hold."""
        return self.encoded

    # --- into offsets --------------------------------------------------------------------

    def offset(self, line: int, column: int) -> int:
        """Offset of a 1-based (line, code-point column) of bootlint's, clamped to the buffer."""
        return self.char_offset(line, max(column, 1) + (self.bom if line == 1 else 0))

    def span_offsets(self, span: Span) -> tuple[int, int]:
        """Offsets of a span's ends (a span ending at column 1 of the next line takes the whole
        line break, CR LF too)."""
        start = self.offset(span.line, span.column)
        return start, max(start, self.offset(span.end_line, span.end_column))

    def byte_offset(self, byte: int) -> int:
        """Offset of a byte position of the file's bytes (a byte edit's)."""
        return self.char_offset_of_byte(byte)

    def from_position(self, line: int, character: int) -> int:
        """Offset of an LSP position (0-based line, code units), clamped to the buffer."""
        if line < 0:
            return 0
        if line >= self.lines:
            return len(self.text)
        return self.char_offset(line + 1, self.column_of_units(line + 1, character, self.encoding))

    # --- out of offsets ------------------------------------------------------------------

    def position(self, offset: int) -> tuple[int, int]:
        """The LSP (0-based line, code units) of an offset."""
        line, column = self.char_point(offset)
        return line - 1, self.units_column(line, column, self.encoding)

    def range(self, span: Span) -> tuple[tuple[int, int], tuple[int, int]]:
        start, end = self.span_offsets(span)
        return self.position(start), self.position(end)
