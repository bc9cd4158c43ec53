"""The server's position codec (issue 19): the same positions as pygls' own, counted without a
per-character walk in Python; an ASCII line is not converted at all."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from conftest import lazily

types = lazily("lsprotocol.types")   # lsprotocol and pygls: imported when a test runs, not at collection
# PositionEncodingKind's values (each test takes its member).
ENCODINGS = ["utf-8", "utf-16", "utf-32"]
TEXT = st.text(alphabet=st.sampled_from(list("ab \t$\"'") + ["é", "日", "😋", "🚀", "\u0300"]), max_size=12)


@pytest.mark.parametrize("encoding", ENCODINGS)
@given(line=TEXT, rest=TEXT, ending=st.sampled_from(["\n", "\r\n", ""]))
@settings(max_examples=150, deadline=None)
def test_positions_within_a_line_are_pygls_positions(encoding, line, rest, ending):
    from pygls.workspace.position_codec import PositionCodec

    from bootlint.lsp.codec import FastCodec

    encoding = types.PositionEncodingKind(encoding)
    lines = (line + ending, rest)
    ours, theirs = FastCodec(encoding), PositionCodec(encoding)
    width = theirs.client_num_units(line)
    assert ours.client_num_units(line) == width
    for character in range(width + 1):
        position = types.Position(line=0, character=character)
        assert ours.position_from_client_units(lines, position) == \
            theirs.position_from_client_units(lines, types.Position(line=0, character=character))
    for column in range(len(line) + 1):
        at = types.Position(line=0, character=column)
        assert ours.position_to_client_units(lines, at) == theirs.position_to_client_units(lines, at)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_position_past_the_end_of_a_line_is_its_end(encoding):
    """The protocol's rule (pygls puts it one character before the end of the file's last line)."""
    from bootlint.lsp.codec import FastCodec

    codec = FastCodec(types.PositionEncodingKind(encoding))
    assert codec.position_from_client_units(("abc\n", "xyz"), types.Position(line=1, character=99)).character == 3
    assert codec.position_from_client_units(("abc\r\n", "xyz"), types.Position(line=0, character=99)).character == 3
    assert codec.position_from_client_units(("日本\n",), types.Position(line=0, character=99)).character == 2


def test_an_ascii_line_is_not_walked_and_another_is_not_walked_in_python():
    from bootlint.lsp.codec import FastCodec

    class Spy(FastCodec):
        calls = 0

    codec = Spy(types.PositionEncodingKind.Utf16)

    def counting(char: str) -> int:
        Spy.calls += 1
        return 1

    codec.impl.code_units_for_char = counting   # pygls' per-character counter
    long_ascii = "x" * 2_000_000
    long_other = "日" * 1_000_000 + "x" * 1_000_000
    range_ = types.Range(start=types.Position(line=0, character=1_999_990),
                         end=types.Position(line=0, character=1_999_999))
    got = codec.range_from_client_units((long_ascii,), range_)
    assert (got.start.character, got.end.character) == (1_999_990, 1_999_999)
    got = codec.range_from_client_units((long_other,), range_)
    assert (got.start.character, got.end.character) == (1_999_990, 1_999_999)
    assert Spy.calls == 0
