"""pygls' documents as the editor holds them: its position codec without its per-character
walk, and its lines as the protocol counts them.

pygls converts an incremental change's range from the client's code units by walking the line a
character at a time in Python, and measures the whole line first: on a 1.9 MB line that is most
of a second for every keystroke, with hover and shutdown waiting behind it. This codec answers
an ASCII line (almost every line of a bootstrap) without converting anything, and converts any
other line once, with the codec in C (:func:`bootlint.fixes.textmap.index_of_units`).

pygls splits a document into lines with ``str.splitlines``, which also breaks at a form feed
(Python allows one between statements), U+2028 or U+0085: a change the client sent for the line
after one was applied a line too early, and the server linted a text the editor did not hold.
:class:`EditorDocument` counts lines as the protocol does (:func:`~bootlint.fixes.textmap.lsp_lines`)
and applies a change by slicing the text once instead of rebuilding it line by line.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace import Workspace
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition, ServerTextRange
from pygls.workspace.text_document import TextDocument

from bootlint.fixes.textmap import UTF16, index_of_units, lsp_lines, units


def _content(line: str) -> str:
    """A line of pygls' ``lines`` without its line break."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


class FastCodec(PositionCodec):
    """The same positions as pygls' :class:`PositionCodec` (a position past a line's end is the
    line's end, as the protocol says), counted by the encoder instead of by a Python loop."""

    def __init__(self, encoding=types.PositionEncodingKind.Utf16) -> None:
        super().__init__(encoding)
        self.name = str(getattr(encoding, "value", encoding) or UTF16)

    def client_num_units(self, string: str) -> int:
        return units(string, self.name)

    def position_from_client_units(self, lines: Sequence[str], position: types.Position) -> ServerTextPosition:
        if len(lines) == 0:
            return ServerTextPosition(0, 0)
        if position.line >= len(lines):
            return ServerTextPosition(len(lines) - 1, len(lines[-1]))
        text = _content(lines[position.line])
        return ServerTextPosition(position.line, index_of_units(text, position.character, self.name))

    def range_from_client_units(self, lines: Sequence[str], range: types.Range) -> ServerTextRange:
        start = self.position_from_client_units(lines, range.start)
        # A keystroke's insertion is an empty range: its line is converted once.
        end = start if range.end == range.start else self.position_from_client_units(lines, range.end)
        return ServerTextRange(start=start, end=end)

    def position_to_client_units(self, lines: Sequence[str], position) -> types.Position:
        if position.line >= len(lines):
            return types.Position(line=len(lines), character=0)
        line = lines[position.line]
        return types.Position(line=position.line, character=units(line[:position.character], self.name))


class EditorDocument(TextDocument):
    """pygls' document with the protocol's lines, changed by one slice of its text."""

    @property
    def lines(self) -> Sequence[str]:
        return lsp_lines(self.source)

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        lines = self.lines
        at = self._position_codec.range_from_client_units(lines, change.range)
        source = self.source
        start, end = _offset(lines, at.start, len(source)), _offset(lines, at.end, len(source))
        self._source = source[:start] + change.text + source[max(start, end):]


def _offset(lines: Sequence[str], position: ServerTextPosition, size: int) -> int:
    """The offset of a codec's (line, code point) position into the text of ``lines``."""
    if position.line >= len(lines):
        return size
    return sum(map(len, lines[:position.line])) + min(position.character, len(lines[position.line]))


class EditorWorkspace(Workspace):
    """pygls' workspace making :class:`EditorDocument` documents (the server gives pygls'
    workspace this class, and :class:`FastCodec` as its codec, when the client initializes)."""

    def _create_text_document(self, doc_uri: str, source: str | None = None, version: int | None = None,
                              language_id: str | None = None) -> TextDocument:
        return EditorDocument(doc_uri, source=source, version=version, language_id=language_id,
                              sync_kind=self._sync_kind, position_codec=self._position_codec)
