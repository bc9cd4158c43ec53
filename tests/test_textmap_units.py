"""The one text map (bootlint/fixes/textmap.py) in the units an LSP client counts, and the
server's Buffer built on it: every position of an editor's buffer (byte-order mark, CR LF,
characters of one to four UTF-8 bytes and two UTF-16 units) against a count made character by
character, in each encoding a client may choose."""

from __future__ import annotations

import random

import pytest

from bootlint.diagnostics import Span
from bootlint.fixes.textmap import UTF8, UTF16, UTF32, TextMap, index_of_units, units
from bootlint.lsp.positions import Buffer

WIDTH = {UTF8: lambda ch: len(ch.encode("utf-8", "surrogatepass")),
         UTF16: lambda ch: 2 if ord(ch) > 0xFFFF else 1,
         UTF32: lambda ch: 1}
ALPHABET = ["a", " ", "\r", "é", "日", "😀", "\t", "\n", "\n"]


def texts(seed: int, count: int = 40) -> list[str]:
    rng = random.Random(seed)
    out = ["", "\ufeff", "\ufeffx\r\ny", "😀\n", "a\n\n"]
    for _ in range(count):
        body = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 30)))
        out.append(("\ufeff" if rng.random() < 0.3 else "") + body)
    return out


def expected_position(text: str, offset: int, encoding: str) -> tuple[int, int]:
    """The LSP position of a code-point offset, counted one character at a time."""
    row, count = 0, 0
    for ch in text[:offset]:
        if ch == "\n":
            row, count = row + 1, 0
        else:
            count += WIDTH[encoding](ch)
    return row, count


@pytest.mark.parametrize("encoding", [UTF8, UTF16, UTF32])
def test_buffer_positions_agree_with_a_count_by_character(encoding):
    for text in texts(seed=len(encoding)):
        buffer = Buffer(text, encoding)
        assert buffer.raw == text.encode("utf-8")
        for offset in range(len(text) + 1):
            position = buffer.position(offset)
            assert position == expected_position(text, offset, encoding), (text, offset)
            assert buffer.from_position(*position) == offset, (text, offset)
            assert buffer.byte_offset(len(text[:offset].encode("utf-8"))) == offset


@pytest.mark.parametrize("encoding", [UTF8, UTF16, UTF32])
def test_a_count_inside_a_character_or_past_the_line_is_clamped(encoding):
    buffer = Buffer("x😀y\r\nz", encoding)
    inside = {UTF8: 2, UTF16: 2, UTF32: None}[encoding]
    if inside is not None:   # ends inside the emoji's units: the emoji is counted (pygls does)
        assert buffer.from_position(0, inside) == 2
    assert buffer.from_position(0, 99) == 4       # the line's end is before its LF (the CR is in it)
    assert buffer.from_position(5, 0) == len(buffer.text) and buffer.from_position(-1, 3) == 0
    assert buffer.position(-5) == (0, 0) and buffer.position(99) == (1, 1)


def test_spans_count_from_after_the_byte_order_mark_on_line_one_only():
    buffer = Buffer("\ufeffab\ncd")
    assert buffer.offset(1, 1) == 1 and buffer.offset(2, 1) == 4 and buffer.offset(1, 0) == 1
    assert buffer.span_offsets(Span(1, 2, 2, 2)) == (2, 5)
    assert buffer.span_offsets(Span(2, 2, 1, 1)) == (5, 5)   # an end before the start: empty
    assert buffer.offset(9, 1) == len(buffer.text) and buffer.offset(0, 4) == 0


def test_units_and_their_index_are_the_codecs_count():
    line = "a😀é日"
    assert [units(line, e) for e in (UTF8, UTF16, UTF32)] == [1 + 4 + 2 + 3, 1 + 2 + 1 + 1, 4]
    assert [index_of_units(line, n) for n in range(7)] == [0, 1, 2, 2, 3, 4, 4]
    assert [index_of_units(line, n, UTF8) for n in (0, 1, 2, 5, 6, 7, 9, 10)] == [0, 1, 2, 2, 3, 3, 4, 4]
    tm = TextMap("x\n" + line)
    assert tm.units_column(2, 3, UTF8) == 5 and tm.column_of_units(2, 5, UTF8) == 3
    assert tm.char_offset_of_byte(len("x\na😀".encode())) == 4
    assert tm.char_offset_of_byte(len("x\na".encode()) + 2) == 3    # inside the emoji: its start
