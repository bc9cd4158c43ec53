"""pygls' position codec without its per-character walk.

pygls converts an incremental change's range from the client's code units by walking the line a
character at a time in Python, and measures the whole line first: on a 1.9 MB line that is most
of a second for every keystroke, with hover and shutdown waiting behind it. This codec answers
an ASCII line (almost every line of a bootstrap) without converting anything, and converts any
other line once, with the codec in C (:func:`bootlint.fixes.textmap.index_of_units`).
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition

from bootlint.fixes.textmap import UTF16, index_of_units, units


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

    def position_to_client_units(self, lines: Sequence[str], position) -> types.Position:
        if position.line >= len(lines):
            return types.Position(line=len(lines), character=0)
        line = lines[position.line]
        return types.Position(line=position.line, character=units(line[:position.character], self.name))
