"""The one text map (bootlint/fixes/textmap.py) in the units an LSP client counts, and the
server's Buffer built on it: every position of an editor's buffer (byte-order mark, CR LF, CR
alone, characters of one to four UTF-8 bytes and two UTF-16 units) against a count made
character by character, in each encoding a client may choose; a CR-only buffer's lines are the
front ends' and the editor's."""

from __future__ import annotations

import random

import pytest

from bootlint.diagnostics import Span
from bootlint.fixes.textmap import UTF8, UTF16, UTF32, TextMap, index_of_units, line_break, units
from bootlint.lsp import actions
from bootlint.lsp.documents import Workspace, lint_text
from bootlint.lsp.positions import Buffer
from bootlint.runner import selection_for
from conftest import ROOT

WIDTH = {UTF8: lambda ch: len(ch.encode("utf-8", "surrogatepass")),
         UTF16: lambda ch: 2 if ord(ch) > 0xFFFF else 1,
         UTF32: lambda ch: 1}
ALPHABET = ["a", " ", "\r", "é", "日", "😀", "\t", "\n", "\n"]


def texts(seed: int, count: int = 40) -> list[str]:
    rng = random.Random(seed)
    out = ["", "\ufeff", "\ufeffx\r\ny", "😀\n", "a\n\n", "\ufeffa\rb\r", "é\r\r😀"]
    for _ in range(count):
        body = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 30)))
        out.append(("\ufeff" if rng.random() < 0.3 else "") + body)
    return out


def expected_position(text: str, offset: int, encoding: str) -> tuple[int, int]:
    """The LSP position of a code-point offset, counted one character at a time (lines end at
    LF, or at CR where the text has no LF: as the front ends read it)."""
    row, count = 0, 0
    for ch in text[:offset]:
        if ch == line_break(text):
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


TUTORIAL = (ROOT / "examples" / "tutorial" / "bootstrap").read_text(encoding="utf-8")


def test_a_cr_only_buffer_is_shown_and_edited_on_the_lines_the_editor_shows():
    """Editors show a CR-only file's lines (LSP counts CR as a line break) and the front ends
    read them so: the findings stand where they stand in the LF file, and a suppression comment
    is written with a CR, keeping the file CR-only."""
    workspace, path = Workspace(), "/nowhere/fn/bootstrap"
    lf = lint_text(workspace, path, TUTORIAL, 1)
    cr_text = TUTORIAL.replace("\n", "\r")
    cr = lint_text(workspace, path, cr_text, 1)
    assert [(f.code, cr.buffer.range(f.span)) for f in cr.findings if f.code != "BL402"] == \
        [(f.code, lf.buffer.range(f.span)) for f in lf.findings]
    selection = selection_for(workspace.settings_for(path), cr.src.path)
    bl101 = next(f for f in cr.findings if f.code == "BL101")
    line = actions.apply(cr_text, actions.suppress_line(bl101, cr.findings, cr.src, cr.buffer, cr.result.model,
                                                        selection))
    assert "\n" not in line and line.split("\r")[bl101.span.line - 1].endswith("  # bootlint: disable=BL101")
    assert "BL101" not in {f.code for f in lint_text(workspace, path, line, 2).findings}
    whole = actions.apply(cr_text, actions.suppress_file("BL101", cr.buffer, cr.result.model))
    assert whole.split("\r")[:2] == ["#!/bin/sh", "# bootlint: disable-file=BL101"] and "\n" not in whole
