"""The server's documents (bootlint/lsp/codec.py): lines counted as the Language Server Protocol
counts them (CR LF, CR, LF; not the form feeds, U+2028 or U+0085 that ``str.splitlines`` also
breaks at), and an incremental change applied where the client meant it: the same text as pygls'
own document wherever the two line models agree, the client's text where they do not."""

from __future__ import annotations

import os
import random
import sys
from typing import TYPE_CHECKING

import pytest

from bootlint.fixes.textmap import lsp_lines, units
from conftest import ROOT, lazily, lsp_client_fixture
from test_server import TUTORIAL, cli_findings, key, open_doc, published, recording_client

if TYPE_CHECKING:
    from pytest_lsp import LanguageClient

types = lazily("lsprotocol.types")
ALPHABET = ["a", "b", " ", "é", "😀", "日", "\n", "\n", "\r\n", "\r"]
ODD_BREAKS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def reference_lines(text: str) -> list[str]:
    """The protocol's lines, one character at a time."""
    lines, current, i = [], "", 0
    while i < len(text):
        current += text[i]
        if text[i] == "\n" or (text[i] == "\r" and text[i + 1:i + 2] != "\n"):
            lines.append(current)
            current = ""
        i += 1
    return lines + ([current] if current else [])


def random_texts(seed: int, odd: bool) -> list[str]:
    rng = random.Random(seed)
    alphabet = ALPHABET + (ODD_BREAKS if odd else [])
    return ["", "\n", "\r", "x\r\n"] + ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
                                       for _ in range(300)]


def test_lines_end_at_cr_lf_cr_or_lf_only():
    for text in random_texts(1, odd=True):
        assert lsp_lines(text) == reference_lines(text), repr(text)
    for text in random_texts(2, odd=False):   # where splitlines agrees with the protocol
        assert lsp_lines(text) == text.splitlines(True), repr(text)
    assert lsp_lines("x = 1\x0c\ny = '\u2028'\n") == ["x = 1\x0c\n", "y = '\u2028'\n"]


def random_change(rng: random.Random, text: str, encoding: str):
    """An LSP range (in ``encoding``'s units) over ``text`` and its replacement; some ends fall
    past a line's end or past the last line, as a client may send them."""
    lines = lsp_lines(text) or [""]

    def position():
        line = rng.randrange(0, len(lines) + 1)
        width = units(lines[line].rstrip("\r\n"), encoding) if line < len(lines) else 0
        return types.Position(line=line, character=rng.randrange(0, width + 3))

    start, end = sorted((position(), position()), key=lambda p: (p.line, p.character))
    return types.Range(start=start, end=end), rng.choice(["", "x", "\n", "é😀", "a\r\nb"])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_a_change_gives_the_text_pygls_gives_where_their_lines_agree(encoding):
    from pygls.workspace.text_document import TextDocument

    from bootlint.lsp.codec import EditorDocument, FastCodec

    rng = random.Random(encoding)
    for text in random_texts(3, odd=False):
        theirs = TextDocument("file:///x/bootstrap", text, version=1, position_codec=FastCodec(encoding))
        ours = EditorDocument("file:///x/bootstrap", text, version=1, position_codec=FastCodec(encoding))
        for _ in range(4):
            range_, new = random_change(rng, ours.source, encoding)
            change = types.TextDocumentContentChangePartial(range=range_, text=new)
            theirs.apply_change(change)
            ours.apply_change(change)
            assert ours.source == theirs.source, (text, range_, new)


def test_a_change_after_a_form_feed_or_u2028_lands_on_the_clients_line():
    from bootlint.lsp.codec import EditorDocument, FastCodec

    for text in ("x = 1\x0c\ny = 2\n", "s = 'a\u2028b'\ny = 2\n", "a\x85b\r\ny\r"):
        doc = EditorDocument("file:///x/bootstrap.py", text, version=1, position_codec=FastCodec())
        at = types.Position(line=1, character=0)
        doc.apply_change(types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text="#"))
        first, _, rest = text.partition("\r\n" if "\r\n" in text else "\n")
        assert doc.source == text[:len(text) - len(rest)] + "#" + rest


@lsp_client_fixture(server_command=[sys.executable, "-m", "bootlint", "server"], client_factory=recording_client,
                    server_env={**os.environ, "PYTHONPATH": str(ROOT)})
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio(loop_scope="function")
@pytest.mark.subprocess
async def test_the_server_lints_the_text_the_editor_holds_after_a_form_feed(client, tmp_path):
    """A form feed in a comment: the client's change on a later line is applied on that line, so
    the server's findings are `bootlint check`'s for the editor's text (pygls applied it a line
    too early: the handler's line lost its `|| continue` guard's line instead)."""
    text = TUTORIAL.replace("\n", "\n# \x0c page\n", 1)
    uri = open_doc(client, tmp_path / "fn" / "bootstrap", text)
    await published(client, uri, 1)
    before = len(client.published)
    lines = text.split("\n")
    row = next(i for i, line in enumerate(lines) if "RESPONSE=$(" in line)
    end = units(lines[row])
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=row, character=end), end=types.Position(line=row, character=end)),
            text=" || continue")]))
    params = await published(client, uri, 2, before)
    lines[row] += " || continue"
    expected = cli_findings("\n".join(lines))
    assert "BL101" not in {f["code"] for f in expected}
    assert sorted((d.code, d.range.start.line + 1, d.range.start.character + 1) for d in params.diagnostics) == \
        sorted(key(f) for f in expected)
