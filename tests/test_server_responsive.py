"""A slow lint never holds up the editor (issue 24): while one document's lint is under way
(held here until the test lets it go), hover and code actions on another document are answered,
and so is `shutdown`'s forerunner, a plain request; the slow document's diagnostics come when its
lint ends. A real LSP client (pytest-lsp) against a server whose lint of paths named "slow"
waits for a gate file."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conftest import ROOT, lazily, lsp_client_fixture
from test_server import TUTORIAL, codes, open_doc, published, recording_client

if TYPE_CHECKING:
    from pytest_lsp import LanguageClient

types = lazily("lsprotocol.types")   # imported when a test runs, not at collection
pytestmark = pytest.mark.asyncio(loop_scope="module")

GATE = Path(tempfile.mkdtemp(prefix="bootlint-gate-")) / "open"
HELD = "\n".join([
    "import os, sys, time, bootlint.lsp.server as s",
    "real = s.lint_text",
    "def lint_text(project, path, *args, **kwargs):",
    "    if 'slow' in path:",
    "        deadline = time.monotonic() + 60",
    "        while not os.path.exists(os.environ['BOOTLINT_TEST_GATE']) and time.monotonic() < deadline:",
    "            time.sleep(0.01)",
    "    return real(project, path, *args, **kwargs)",
    "s.lint_text = lint_text",
    "sys.exit(s.main())",
])


@lsp_client_fixture(scope="module", server_command=[sys.executable, "-c", HELD], client_factory=recording_client,
                    server_env={**os.environ, "PYTHONPATH": str(ROOT), "BOOTLINT_TEST_GATE": str(GATE)})
async def client(lsp_client: LanguageClient, tmp_path_factory):
    folder = tmp_path_factory.mktemp("responsive")
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=folder.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name="ws")]))
    lsp_client.folder = folder
    yield
    GATE.touch()
    await lsp_client.shutdown_session()


async def test_hover_and_code_actions_are_answered_while_another_document_is_linted(client):
    fast = open_doc(client, client.folder / "fast" / "bootstrap", TUTORIAL)
    diagnostics = (await published(client, fast, 1)).diagnostics
    slow = open_doc(client, client.folder / "slow" / "bootstrap", TUTORIAL)
    await asyncio.sleep(0.3)   # the slow lint has started and holds the lint thread
    bl101 = next(d for d in diagnostics if d.code == "BL101")
    hover = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=fast), position=bl101.range.start)), 15)
    assert hover.contents.value.startswith("**BL101**")
    actions = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=fast), range=bl101.range,
        context=types.CodeActionContext(diagnostics=[bl101]))), 15)
    assert "Disable BL101 for this line" in [a.title for a in actions]
    assert not GATE.exists() and slow not in {p.uri for p in client.published}   # still held
    GATE.touch()
    assert "BL101" in codes((await published(client, slow, 1)).diagnostics)
