"""`bootlint server`'s settings as editors set them (issue 24), through a real LSP client
(pytest-lsp), one server per test, each initialized with the capabilities of a real editor:
a changed `bootlint.toml` takes effect without a restart whether the client watches files or
not; `chmod +x` is seen; editor-side settings come from `workspace/configuration` and
`didChangeConfiguration`; unknown initialization options are reported."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conftest import ROOT, lazily, lsp_client_fixture, run_cli
from test_server import TUTORIAL, WAIT, codes, open_doc, published, recording_client

if TYPE_CHECKING:
    from pytest_lsp import LanguageClient

types = lazily("lsprotocol.types")   # imported when a test runs, not at collection
pytestmark = pytest.mark.asyncio(loop_scope="function")


def client_capabilities(editor: str):
    """The capabilities a real editor sends (pytest-lsp's records of them)."""
    from pytest_lsp import client_capabilities as recorded

    return recorded(editor)


@lsp_client_fixture(server_command=[sys.executable, "-m", "bootlint", "server"], client_factory=recording_client,
                    server_env={**os.environ, "PYTHONPATH": str(ROOT)})
async def lsp(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


async def start(client: LanguageClient, folder: Path, capabilities: types.ClientCapabilities,
                options=None) -> None:
    await client.initialize_session(types.InitializeParams(
        capabilities=capabilities, root_uri=folder.as_uri(), initialization_options=options,
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name="ws")]))


async def until(predicate, what: str):
    deadline = asyncio.get_running_loop().time() + WAIT
    while asyncio.get_running_loop().time() < deadline:
        if (value := predicate()):
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"never: {what}")


async def published_where(client: LanguageClient, uri: str, predicate, what: str, after: int = 0):
    """The first diagnostics published for ``uri`` (after the ``after``-th) that satisfy
    ``predicate`` (earlier ones may still come from before the change)."""
    return await until(lambda: next((p for p in client.published[after:] if p.uri == uri and predicate(p.diagnostics)),
                                    None), what)


def severity_of(diagnostics, code: str):
    return next(d.severity for d in diagnostics if d.code == code)


async def test_neovim_without_file_watching_a_changed_bootlint_toml_takes_effect(lsp, tmp_path):
    """Neovim 0.11 on Linux watches no files and cannot be asked to pull again: the server
    watches the configuration files itself and publishes again."""
    capabilities = client_capabilities("neovim@v0.11.0")
    assert not capabilities.workspace.did_change_watched_files.dynamic_registration
    await start(lsp, tmp_path, capabilities)
    assert not lsp.registrations
    path = tmp_path / "fn" / "bootstrap"
    path.parent.mkdir()
    uri = open_doc(lsp, path, TUTORIAL)
    first = await published(lsp, uri, 1)
    assert severity_of(first.diagnostics, "BL302") == types.DiagnosticSeverity.Warning
    (tmp_path / "bootlint.toml").write_text('[severity]\nBL302 = "error"\n', encoding="utf-8")
    await published_where(lsp, uri, lambda ds: severity_of(ds, "BL302") == types.DiagnosticSeverity.Error,
                          "BL302 as an error")
    before = len(lsp.published)
    (tmp_path / "fn" / "bootlint.toml").write_text('ignore = ["BL302"]\n', encoding="utf-8")   # a nearer one
    again = await published_where(lsp, uri, lambda ds: "BL302" not in codes(ds), "BL302 ignored", before)
    assert "BL101" in codes(again.diagnostics)


async def test_vscode_gets_watchers_registered_and_a_changed_file_reported_by_it_takes_effect(lsp, tmp_path):
    await start(lsp, tmp_path, client_capabilities("visual-studio-code"))
    await until(lambda: lsp.registrations, "a registration")
    methods = {r.method for r in lsp.registrations}
    assert methods == {types.WORKSPACE_DID_CHANGE_WATCHED_FILES, types.WORKSPACE_DID_CHANGE_CONFIGURATION}
    watched = next(r for r in lsp.registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    assert sorted(w["globPattern"] for w in watched.register_options["watchers"]) == \
        ["**/.bootlint.toml", "**/bootlint.toml", "**/pyproject.toml"]
    uri = open_doc(lsp, tmp_path / "bootstrap", TUTORIAL)
    await published(lsp, uri, 1)
    config = tmp_path / "bootlint.toml"
    config.write_text('ignore = ["BL101"]\n', encoding="utf-8")
    lsp.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Created)]))
    await published_where(lsp, uri, lambda ds: "BL101" not in codes(ds), "BL101 ignored")


async def test_chmod_then_save_renews_bl403_for_push_and_pull_clients(lsp, tmp_path):
    """A pull client that can be asked again is asked (workspace/diagnostic/refresh) when the
    file's mode changes, on save or without one."""
    capabilities = client_capabilities("neovim@v0.11.0")
    capabilities.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    await start(lsp, tmp_path, capabilities)
    path = tmp_path / "bootstrap"
    path.write_text(TUTORIAL, encoding="utf-8")
    path.chmod(0o644)
    uri = open_doc(lsp, path, TUTORIAL)

    async def pulled() -> list[str]:
        report = await lsp.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        return codes(report.items)

    assert "BL403" in await pulled()
    path.chmod(0o755)
    lsp.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await until(lambda: lsp.diagnostic_refresh_count >= 1, "a refresh after the save")
    assert "BL403" not in await pulled()
    count = lsp.diagnostic_refresh_count
    path.chmod(0o644)   # no save: the server's own watch sees it
    await until(lambda: lsp.diagnostic_refresh_count > count, "a refresh after chmod")
    assert "BL403" in await pulled()
    assert not lsp.published


async def test_settings_from_workspace_configuration_and_did_change_configuration(lsp, tmp_path):
    lsp.set_configuration({"ignore": ["BL101"]}, section="bootlint")
    await start(lsp, tmp_path, client_capabilities("neovim@v0.11.0"))
    uri = open_doc(lsp, tmp_path / "bootstrap", TUTORIAL)
    await until(lambda: [p for p in lsp.published if p.uri == uri and "BL101" not in codes(p.diagnostics)],
                "diagnostics with the editor's settings")
    lsp.set_configuration({"ignore": ["BL102"], "extend-select": ["BL9"]}, section="bootlint")
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await published_where(lsp, uri, lambda ds: "BL102" not in codes(ds) and "BL101" in codes(ds),
                          "the new settings")


async def test_pushed_settings_and_unknown_options_are_reported_not_dropped(lsp, tmp_path):
    """A client that does not answer workspace/configuration pushes `{"bootlint": {...}}`; a
    ruff-style `{"settings": {...}}` in initializationOptions is read as meant; a key bootlint
    does not know is shown to the user."""
    capabilities = client_capabilities("emacs")
    capabilities.workspace.configuration = False
    await start(lsp, tmp_path, capabilities, {"settings": {"ignore": ["BL101"]}})
    uri = open_doc(lsp, tmp_path / "bootstrap", TUTORIAL)
    assert "BL101" not in codes((await published(lsp, uri, 1)).diagnostics)
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"bootlint": {"ignore": ["BL102"], "selct": ["BL1"]}}))
    # The editor's `ignore` replaces the options' (as a flag replaces the file's key).
    await published_where(lsp, uri, lambda ds: "BL102" not in codes(ds) and "BL101" in codes(ds), "pushed settings")
    shown = await until(lambda: [m.message for m in lsp.messages if "selct" in m.message], "a warning")
    assert shown == ["bootlint: unknown editor setting 'selct' (known: select, ignore, extend-select, debounce)"]


async def test_workspace_diagnostics_for_bootstraps_that_are_not_open(lsp, tmp_path):
    """Pushed to a client that does not pull; answered to workspace/diagnostic for one that
    does; each the same as `bootlint check FOLDER`, and not for the files that are open."""
    for name in ("a/bootstrap", "b/bootstrap", "c/app.py"):
        (tmp_path / name).parent.mkdir()
        (tmp_path / name).write_text(TUTORIAL, encoding="utf-8")
    await start(lsp, tmp_path, client_capabilities("neovim@v0.11.0"))
    proc = run_cli("check", "--format", "json", ".", cwd=tmp_path)
    expected: dict[str, list] = {}
    for f in json.loads(proc.stdout):
        expected.setdefault((tmp_path / f["path"]).as_uri(), []).append((f["code"], f["line"], f["column"]))
    assert set(expected) == {(tmp_path / "a/bootstrap").as_uri(), (tmp_path / "b/bootstrap").as_uri()}
    got = await until(lambda: {p.uri: p for p in lsp.published} if len({p.uri for p in lsp.published}) >= 2 else None,
                      "the workspace's diagnostics")
    assert set(got) == set(expected)
    for uri, params in got.items():
        assert params.version is None
        assert sorted((d.code, d.range.start.line + 1, d.range.start.character + 1) for d in params.diagnostics) \
            == sorted(expected[uri])


async def test_workspace_diagnostic_request_of_a_pull_client(lsp, tmp_path):
    for name in ("a/bootstrap", "b/bootstrap"):
        (tmp_path / name).parent.mkdir()
        (tmp_path / name).write_text(TUTORIAL, encoding="utf-8")
    capabilities = client_capabilities("neovim@v0.11.0")
    capabilities.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    await start(lsp, tmp_path, capabilities)
    open_doc(lsp, tmp_path / "a" / "bootstrap", "#!/bin/sh\nexit 0\n")
    report = await lsp.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=[]))
    assert [item.uri for item in report.items] == [(tmp_path / "b" / "bootstrap").as_uri()]   # a is open
    assert "BL101" in codes(report.items[0].items)
    assert not lsp.published


async def test_an_unknown_initialization_option_is_shown_not_dropped(lsp, tmp_path):
    await start(lsp, tmp_path, client_capabilities("emacs"), {"ignroe": ["BL101"], "debounce": "soon"})
    shown = await until(lambda: sorted(m.message for m in lsp.messages) if len(lsp.messages) >= 2 else None,
                        "two warnings")
    assert shown == ["bootlint: initialization option 'debounce' must be a number of milliseconds (0 to 10000)",
                     "bootlint: unknown initialization option 'ignroe' (known: select, ignore, extend-select, debounce)"]
    assert {m.type for m in lsp.messages} == {types.MessageType.Warning}
