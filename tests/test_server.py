"""`bootlint server` end to end: a real LSP client (pytest-lsp) over stdio, one server process for
the module, against what `bootlint check` reports for the same text."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile
from conftest import ROOT, lazily, lsp_client_fixture, run_cli

if TYPE_CHECKING:
    from pytest_lsp import LanguageClient

types = lazily("lsprotocol.types")   # imported when a test runs, not at collection

# These tests start the language server: a child process.
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.subprocess, pytest.mark.slow]

TUTORIAL = (ROOT / "examples" / "tutorial" / "bootstrap").read_text(encoding="utf-8")
WAIT = 20.0


def recording_client() -> LanguageClient:
    """pytest-lsp's client, also keeping every publishDiagnostics in order (it keeps the last)."""
    from pygls.protocol import default_converter
    from pytest_lsp import LanguageClient
    from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

    client = LanguageClient(converter_factory=default_converter)
    client.published = []

    # The first parameter is named `ls`: pygls passes the client to a handler whose first
    # parameter has that name (or is annotated with a name it resolves in this module).
    def publish(ls: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        ls.published.append(params)
        ls.diagnostics[params.uri] = params.diagnostics

    def register(ls: LanguageClient, params: types.RegistrationParams) -> None:
        ls.registrations.extend(params.registrations)

    def apply_edit(ls: LanguageClient, params: types.ApplyWorkspaceEditParams):
        ls.applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    client.registrations = []
    client.applied = []
    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
                                   types.CLIENT_REGISTER_CAPABILITY: register,
                                   types.WORKSPACE_APPLY_EDIT: apply_edit})
    return client


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ws")


@lsp_client_fixture(scope="module", server_command=[sys.executable, "-m", "bootlint", "server"],
                    client_factory=recording_client, server_env={**os.environ, "PYTHONPATH": str(ROOT)})
async def client(lsp_client: LanguageClient, workspace: Path):
    capabilities = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)),
        text_document=types.TextDocumentClientCapabilities(
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True)))
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=capabilities, root_uri=workspace.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
        initialization_options={"ignore": ["BL201"]}))
    yield
    await lsp_client.shutdown_session()


# --- helpers ---------------------------------------------------------------------------------

def cli_findings(text: str, name: str = "bootstrap", *args: str) -> list[dict]:
    """What `bootlint check` reports for the same text (through --stdin-filename)."""
    proc = run_cli("check", "--format", "json", "--isolated", "--stdin-filename", name, *args, "-",
                   stdin=text.encode("utf-8"))
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    return data if isinstance(data, list) else data["findings"]


def engine_findings(text: str, name: str = "bootstrap") -> list[dict]:
    """The same, in this process (the CLI's JSON fields)."""
    result = lint_source(SourceFile.from_bytes(name, text.encode("utf-8")), Selection())
    return [{"code": f.code, "line": f.span.line, "column": f.span.column, "end_line": f.span.end_line,
             "end_column": f.span.end_column, "message": f.message, "related": f.related,
             "fix": f.fix} for f in result.findings]


def key(finding: dict) -> tuple:
    return finding["code"], finding["line"], finding["column"]


async def published(client: LanguageClient, uri: str, version: int | None, after: int = 0):
    """The first diagnostics published for ``uri`` at ``version`` (after the ``after``-th)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while asyncio.get_running_loop().time() < deadline:
        for params in client.published[after:]:
            if params.uri == uri and (version is None or params.version == version):
                return params
        await asyncio.sleep(0.005)
    raise AssertionError(f"no diagnostics for {uri} version {version}")


async def settle(client: LanguageClient, uri: str) -> None:
    """A request answered after every notification sent before it has been handled."""
    await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=0)))


def open_doc(client: LanguageClient, path: Path, text: str, version: int = 1, language: str = "shellscript") -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id=language, version=version, text=text)))
    return uri


def change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (UTF-16 positions) the way an editor does."""
    lines = text.split("\n")

    def offset(pos: types.Position) -> int:
        line = lines[pos.line] if pos.line < len(lines) else ""
        units, index = 0, 0
        while index < len(line) and units < pos.character:
            units += utf16(line[index])
            index += 1
        return sum(len(l) + 1 for l in lines[:pos.line]) + index

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
        lines = text.split("\n")
    return text


def action_edits(action: types.CodeAction, uri: str) -> list[types.TextEdit]:
    assert action.edit is not None
    if action.edit.document_changes:
        return [e for dc in action.edit.document_changes if dc.text_document.uri == uri for e in dc.edits]
    return list(action.edit.changes[uri])


def codes(diagnostics) -> list[str]:
    return sorted(d.code for d in diagnostics)


# --- diagnostics -----------------------------------------------------------------------------

async def test_open_publishes_what_check_reports_with_code_source_severity_and_range(client, workspace):
    uri = open_doc(client, workspace / "open" / "bootstrap", TUTORIAL)
    params = await published(client, uri, 1)
    expected = [f for f in cli_findings(TUTORIAL) if f["code"] != "BL201"]   # ignored by the options
    got = sorted(params.diagnostics, key=lambda d: (d.range.start.line, d.range.start.character, d.code))
    assert sorted((d.code, d.range.start.line + 1, d.range.start.character + 1) for d in got) == \
        sorted(key(f) for f in expected)
    by_code = {f["code"]: f for f in expected}
    for d in got:
        f = by_code[d.code]
        assert d.source == "bootlint"
        assert d.message == f["message"]
        assert d.severity == {"error": 1, "warning": 2, "info": 3}[f["severity"]]
        assert (d.range.end.line + 1, d.range.end.character + 1) == (f["end_line"], f["end_column"])
        assert d.code_description is None   # no `docs-url`: no link (test_links_follow_docs_url)
        assert d.data["span"] == [f["line"], f["column"], f["end_line"], f["end_column"]]
    assert "BL201" in {f["code"] for f in engine_findings(TUTORIAL)}   # the option did the ignoring


async def test_only_bootstrap_names_are_linted_and_others_silently_ignored(client, workspace):
    before = len(client.published)
    for name in ("notes.sh", "run.py", "Makefile"):
        uri = open_doc(client, workspace / "other" / name, TUTORIAL)
        await settle(client, uri)
    py = open_doc(client, workspace / "other" / "bootstrap.py", "import os\nos.environ['X']\n", language="python")
    await published(client, py, 1, before)
    assert {p.uri for p in client.published[before:]} == {py}
    assert not [m for m in client.messages if "error" in m.message.lower()]


async def test_diagnostics_come_from_the_buffer_not_the_file_on_disk(client, workspace):
    path = workspace / "disk" / "bootstrap"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    uri = open_doc(client, path, TUTORIAL)
    params = await published(client, uri, 1)
    assert "BL101" in codes(params.diagnostics)


async def test_utf16_ranges_after_japanese_text_and_emoji(client, workspace):
    prefix = 'echo "日本語の応答 🚀🎉" >&2; '
    text = TUTORIAL.replace('  curl -X POST', f"  {prefix}curl -X POST")
    line_no, line = next((i, l) for i, l in enumerate(text.split("\n")) if prefix in l)
    token = '-d "$RESPONSE"'
    uri = open_doc(client, workspace / "utf16" / "bootstrap", text)
    params = await published(client, uri, 1)
    bl302 = next(d for d in params.diagnostics if d.code == "BL302")
    start = line.index(token)
    assert bl302.range.start == types.Position(line=line_no, character=utf16(line[:start]))
    assert bl302.range.end == types.Position(line=line_no, character=utf16(line[:start + len(token)]))
    assert utf16(line[:start]) == start + 2   # the emoji are surrogate pairs: the test means it
    # The CLI reports code-point columns for the same finding.
    assert ("BL302", line_no + 1, start + 1) in {key(f) for f in engine_findings(text)}


async def test_change_incremental_and_whole_relints_the_new_text(client, workspace):
    uri = open_doc(client, workspace / "change" / "bootstrap", TUTORIAL)
    await published(client, uri, 1)
    before = len(client.published)
    # Insert two lines at the top of the loop's body: every finding below moves down two lines.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=1, character=0), end=types.Position(line=1, character=0)),
            text="# one\n# two\n")]))
    params = await published(client, uri, 2, before)
    text = TUTORIAL.replace("\n\n", "\n# one\n# two\n\n", 1)
    assert sorted((d.code, d.range.start.line + 1, d.range.start.character + 1) for d in params.diagnostics) == \
        sorted(key(f) for f in engine_findings(text) if f["code"] != "BL201")
    fixed = TUTORIAL.replace('RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")',
                             'RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA") || continue')
    change(client, uri, 3, fixed)
    params = await published(client, uri, 3, before)
    assert "BL101" not in codes(params.diagnostics)


async def test_only_the_newest_version_is_published(client, workspace):
    uri = open_doc(client, workspace / "stale" / "bootstrap", TUTORIAL)
    await published(client, uri, 1)
    await asyncio.sleep(0.06)   # past the debounce window: version 2 is linted at once
    before = len(client.published)
    # Version 2 takes long to lint (8,000 pipelines, under the node limit); versions 3 and 4 arrive
    # while it is linted, even on a loaded machine.
    slow = TUTORIAL + "".join(f'echo "{i}" | tr a b | cut -c1 >/dev/null\n' for i in range(8000))
    change(client, uri, 2, slow)
    change(client, uri, 3, TUTORIAL.replace("set -euo pipefail", "set -uo pipefail"))
    newest = TUTORIAL.replace("set -euo pipefail", "set -o pipefail")
    change(client, uri, 4, newest)
    params = await published(client, uri, 4, before)
    await settle(client, uri)
    versions = [p.version for p in client.published[before:] if p.uri == uri]
    assert versions == [4]
    assert "BL101" not in codes(params.diagnostics)   # version 4's text, without set -e


async def test_save_reads_the_mode_again_and_close_clears(client, workspace):
    path = workspace / "save" / "bootstrap"
    path.parent.mkdir()
    path.write_text(TUTORIAL, encoding="utf-8")
    path.chmod(0o644)
    uri = open_doc(client, path, TUTORIAL)
    params = await published(client, uri, 1)
    assert "BL403" in codes(params.diagnostics)
    before = len(client.published)
    path.chmod(0o755)
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    params = await published(client, uri, 1, before)
    assert "BL403" not in codes(params.diagnostics)
    before = len(client.published)
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    params = await published(client, uri, None, before)
    assert list(params.diagnostics) == []


async def test_pull_diagnostics_match_the_pushed_ones_and_say_unchanged(client, workspace):
    uri = open_doc(client, workspace / "pull" / "bootstrap", TUTORIAL)
    pushed = await published(client, uri, 1)
    report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert report.kind == "full"
    assert report.items == pushed.diagnostics
    again = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=report.result_id))
    assert again.kind == "unchanged"
    other = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=(workspace / "README.md").as_uri())))
    assert list(other.items) == []


async def test_related_information_points_at_the_set_e_line(client, workspace):
    uri = open_doc(client, workspace / "related" / "bootstrap", TUTORIAL)
    params = await published(client, uri, 1)
    bl101 = next(d for d in params.diagnostics if d.code == "BL101")
    set_e = next(i for i, line in enumerate(TUTORIAL.split("\n")) if line.startswith("set -e"))
    (related,) = bl101.related_information
    assert related.location.uri == uri
    assert related.location.range.start == types.Position(line=set_e, character=0)
    assert related.message == "errexit is switched on here"
    shebang = TUTORIAL.replace("#!/bin/sh\n\nset -euo pipefail\n", "#!/bin/bash -e\n\n\n")
    uri = open_doc(client, workspace / "related-shebang" / "bootstrap", shebang)
    params = await published(client, uri, 1)
    (related,) = next(d for d in params.diagnostics if d.code == "BL101").related_information
    assert (related.location.range, related.message) == (
        types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=14)),
        "errexit is switched on by the shebang")


# --- code actions and hover ------------------------------------------------------------------

async def code_actions(client, uri, diagnostic, only=None):
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic], only=only)))


@pytest.mark.parametrize("name, text, code, title", [
    ("bootstrap", TUTORIAL, "BL101", "Disable BL101 for this line"),
    ("bootstrap", TUTORIAL, "BL302", "Disable BL302 for this file"),
    ("bootstrap.py", (ROOT / "rules" / "BL101.md").read_text().split("```python fail\n")[1].split("```")[0],
     "BL101", "Disable BL101 for this line"),
])
async def test_suppression_actions_applied_relint_clean_for_that_code(client, workspace, name, text, code, title):
    uri = open_doc(client, workspace / f"sup-{code}-{title[-4:]}" / name, text)
    params = await published(client, uri, 1)
    diagnostic = next(d for d in params.diagnostics if d.code == code)
    actions = await code_actions(client, uri, diagnostic)
    action = next(a for a in actions if a.title == title)
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.edit.document_changes[0].text_document.version == 1
    fixed = apply_edits(text, action_edits(action, uri))
    before = len(client.published)
    change(client, uri, 2, fixed)
    params = await published(client, uri, 2, before)
    left = codes(params.diagnostics)
    assert code not in left and not {"BL900", "BL901", "BL903"} & set(left)
    assert code not in {f["code"] for f in engine_findings(fixed, name)}


async def test_rule_fixes_are_offered_and_fix_all_applies_the_safe_ones(client, workspace):
    text = "\ufeff" + TUTORIAL.replace("\n", "\r\n")
    found = {f["code"]: f for f in engine_findings(text)}
    fixable = [c for c, f in found.items() if f.get("fix")]
    if not fixable:
        pytest.skip("no rule has a fix on this branch yet")
    uri = open_doc(client, workspace / "fixes" / "bootstrap", text)
    params = await published(client, uri, 1)
    version = 1
    for d in params.diagnostics:
        if not d.data.get("fix"):
            continue
        actions = await code_actions(client, uri, d)
        fix = next(a for a in actions if a.title.startswith(f"{d.code}: "))
        assert (fix.is_preferred is True) == (d.data["fix"] == "safe")
        assert ("unsafe" in fix.title) == (d.data["fix"] == "unsafe")
        # The fix alone, applied as an editor applies it: that finding is gone, nothing new came.
        alone = apply_edits(text, action_edits(fix, uri))
        after = [f["code"] for f in engine_findings(alone)]
        assert d.code not in after, (d.code, alone[:80])
        assert set(after) <= {f["code"] for f in engine_findings(text)}
    everything = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
        context=types.CodeActionContext(diagnostics=[], only=["source.fixAll.bootlint"])))
    (fix_all,) = everything
    fixed = apply_edits(text, action_edits(fix_all, uri))
    safe = {d.code for d in params.diagnostics if d.data.get("fix") == "safe"}
    before = len(client.published)
    change(client, uri, version + 1, fixed)
    params = await published(client, uri, version + 1, before)
    assert not safe & set(codes(params.diagnostics))


async def test_links_follow_docs_url(client, workspace):
    """With `docs-url` in the file's configuration, diagnostics and hovers link to the page."""
    folder = workspace / "links"
    folder.mkdir()
    (folder / "bootlint.toml").write_text('docs-url = "https://docs.example.com/rules/{code}.html"\n')
    uri = open_doc(client, folder / "bootstrap", TUTORIAL)
    params = await published(client, uri, 1)
    bl101 = next(d for d in params.diagnostics if d.code == "BL101")
    assert bl101.code_description.href == "https://docs.example.com/rules/BL101.html"
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=bl101.range.start))
    assert hover.contents.value.endswith("[BL101 rule page](https://docs.example.com/rules/BL101.html)\n")


async def test_hover_shows_summary_and_how_to_fix(client, workspace):
    uri = open_doc(client, workspace / "hover" / "bootstrap", TUTORIAL)
    params = await published(client, uri, 1)
    bl101 = next(d for d in params.diagnostics if d.code == "BL101")
    inside = types.Position(line=bl101.range.start.line, character=bl101.range.start.character + 2)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=inside))
    assert hover.contents.kind == types.MarkupKind.Markdown
    text = hover.contents.value
    page = (ROOT / "rules" / "BL101.md").read_text(encoding="utf-8")
    summary = " ".join(page.split("## What it reports\n")[1].split("\n\n")[0].split())
    assert text.startswith("**BL101** `invocation-failure-kills-runtime` (error)")
    # BL101 has an (unsafe) fix: the hover names it rather than showing the passing example.
    assert summary in text and "**How to fix:**" in text
    assert "post the handler's failure to /invocation/{id}/error" in text
    assert text.endswith("The rule's page: `bootlint rule BL101`\n")   # no `docs-url`: no link
    assert hover.range == bl101.range
    outside = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=0)))
    assert outside is None
    # A finding with a fix: its title and what the page's "Fix" section says it does.
    page = (ROOT / "rules" / "BL303.md").read_text(encoding="utf-8")
    before = page.split("```sh before\n")[1].split("```")[0]
    uri = open_doc(client, workspace / "hover-fix" / "bootstrap", before)
    params = await published(client, uri, 1)
    bl303 = next(d for d in params.diagnostics if d.code == "BL303")
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=bl303.range.start))
    (fix,) = [f["fix"] for f in engine_findings(before) if f["code"] == "BL303"]
    # (then the page's "Fix" prose: whether the fix is safe is the rule's fact, said once above)
    assert f"**How to fix:** {fix.title} (safe fix; offered as a quick fix). The flag becomes `--data-binary`" \
        in hover.contents.value


# --- configuration ---------------------------------------------------------------------------

async def test_a_changed_configuration_file_relints_open_documents(client, workspace):
    uri = open_doc(client, workspace / "config" / "bootstrap", TUTORIAL)
    params = await published(client, uri, 1)
    assert next(d for d in params.diagnostics if d.code == "BL302").severity == types.DiagnosticSeverity.Warning
    config = workspace / "bootlint.toml"
    config.write_text('extend-include = ["*.bash"]\n[severity]\nBL302 = "error"\n', encoding="utf-8")
    before = len(client.published)
    try:
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Created)]))
        params = await published(client, uri, 1, before)
        assert next(d for d in params.diagnostics if d.code == "BL302").severity == types.DiagnosticSeverity.Error
        assert "BL201" not in codes(params.diagnostics)   # the initialization options still apply
        # A name the configuration's extend-include adds is linted now.
        extra = open_doc(client, workspace / "config" / "prod.bash", TUTORIAL)
        assert "BL101" in codes((await published(client, extra, 1, before)).diagnostics)
    finally:
        config.unlink()
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Deleted)]))
        await settle(client, uri)



async def test_an_unsafe_fix_says_so_and_applied_relints_clean_for_that_code(client, workspace):
    text = (ROOT / "rules" / "BL101.md").read_text().split("```python fail\n")[1].split("```")[0]
    (fix,) = [f["fix"] for f in engine_findings(text, "bootstrap.py") if f["code"] == "BL101"]
    if fix is None or fix.applicability.value != "unsafe":
        pytest.skip("BL101 has no unsafe Python fix on this branch")
    uri = open_doc(client, workspace / "unsafe" / "bootstrap.py", text, language="python")
    params = await published(client, uri, 1)
    diagnostic = next(d for d in params.diagnostics if d.code == "BL101")
    assert diagnostic.data["fix"] == "unsafe"
    action = next(a for a in await code_actions(client, uri, diagnostic) if a.title.startswith("BL101: "))
    assert action.title == f"BL101: {fix.title} (unsafe fix)" and not action.is_preferred
    fixed = apply_edits(text, action_edits(action, uri))
    assert "BL101" not in {f["code"] for f in engine_findings(fixed, "bootstrap.py")}
    # Fix-all applies safe fixes only: it offers nothing for an unsafe one.
    only_all = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[], only=["source.fixAll.bootlint"])))
    assert not only_all


async def test_a_configuration_that_cannot_be_read_is_shown_on_the_document_and_linting_goes_on(client, workspace):
    """Issue 19: a 1,000-level nested TOML value does not silently disable linting."""
    folder = workspace / "nested"
    folder.mkdir()
    (folder / "bootlint.toml").write_text("select = " + "[" * 1000 + "]" * 1000 + "\n", encoding="utf-8")
    uri = open_doc(client, folder / "bootstrap", TUTORIAL)
    params = await published(client, uri, 1)
    first, *rest = params.diagnostics
    assert (first.source, first.code, first.severity) == ("bootlint", None, types.DiagnosticSeverity.Error)
    assert (first.range.start.line, first.range.start.character, first.range.end.character) == (0, 0, 0)
    assert first.message.startswith(f"configuration not used: {folder / 'bootlint.toml'}: ")
    assert first.message.endswith("(using the default settings)")
    expected = [f for f in cli_findings(TUTORIAL) if f["code"] != "BL201"]
    assert sorted((d.code, d.range.start.line + 1, d.range.start.character + 1) for d in rest) == \
        sorted(key(f) for f in expected)


async def test_each_file_gets_the_settings_check_finds_from_its_own_project_whatever_the_root(client, workspace):
    """Issue 24: in a monorepo opened at its root, a function's own `bootlint.toml` applies to
    its bootstrap, as `bootlint check` run there applies it; a function without one gets the
    defaults."""
    mono = workspace / "mono"
    (mono / ".git").mkdir(parents=True)
    (mono / "fn-a").mkdir()
    (mono / "fn-b").mkdir()
    (mono / "fn-a" / "bootlint.toml").write_text('[severity]\nBL302 = "error"\n', encoding="utf-8")
    got = {}
    for fn in ("fn-a", "fn-b"):
        (mono / fn / "bootstrap").write_text(TUTORIAL, encoding="utf-8")
        uri = open_doc(client, mono / fn / "bootstrap", TUTORIAL)
        got[fn] = (await published(client, uri, 1)).diagnostics
        proc = run_cli("check", "--format", "json", "--ignore", "BL201", "bootstrap", cwd=mono / fn)
        cli = json.loads(proc.stdout)
        assert sorted((d.code, d.range.start.line + 1, d.range.start.character + 1, d.severity) for d in got[fn]) \
            == sorted((*key(f), {"error": 1, "warning": 2, "info": 3}[f["severity"]]) for f in cli), fn
    severity = {fn: next(d.severity for d in got[fn] if d.code == "BL302") for fn in got}
    assert severity == {"fn-a": types.DiagnosticSeverity.Error, "fn-b": types.DiagnosticSeverity.Warning}


# --- what ruff's and bash-language-server's users expect (issue 24) --------------------------

UNUSED = TUTORIAL.replace("set -euo pipefail\n", "set -euo pipefail\ncd /tmp  # bootlint: disable=BL302\n"
                          "# bootlint: disable=BL302\n", 1)


@pytest.mark.parametrize("text, line, fixed_line", [
    (UNUSED, 3, "cd /tmp"),                     # after a command: the comment goes, the command stays
    (UNUSED, 4, None),                          # alone on its line: the line goes
    (TUTORIAL.replace('HEADERS="$(mktemp)"', 'HEADERS="$(mktemp)"  # bootlint: disable=BL301, BL302'), 10,
     '  HEADERS="$(mktemp)"  # bootlint: disable=BL301'),   # the code that suppressed nothing goes
], ids=["after-command", "own-line", "one-code-of-two"])
async def test_a_quick_fix_removes_an_unused_suppression(client, workspace, text, line, fixed_line):
    uri = open_doc(client, workspace / f"bl901-{line}-{len(text)}" / "bootstrap", text)
    params = await published(client, uri, 1)
    diagnostic = next(d for d in params.diagnostics if d.code == "BL901" and d.range.start.line == line)
    (action,) = [a for a in await code_actions(client, uri, diagnostic) if a.title.startswith("BL901")]
    assert action.title == "BL901: remove the unused suppression" and action.is_preferred
    fixed = apply_edits(text, action_edits(action, uri))
    lines = text.split("\n")
    expected = lines[:line] + ([fixed_line] if fixed_line is not None else []) + lines[line + 1:]
    assert fixed == "\n".join(expected)
    assert sorted(key(f) for f in cli_findings(fixed) if f["code"] != "BL901") == \
        sorted((f["code"], f["line"] - (fixed_line is None and f["line"] > line + 1), f["column"])
               for f in cli_findings(text) if f["code"] != "BL901")


async def test_hover_on_a_code_in_a_suppression_comment_shows_the_rule(client, workspace):
    uri = open_doc(client, workspace / "hover-comment" / "bootstrap", UNUSED)
    await published(client, uri, 1)
    column = UNUSED.split("\n")[3].index("BL302")
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=3, character=column + 2)))
    value = hover.contents.value
    assert value.startswith("**BL302** `curl-data-argument` (warning)") or value.startswith("**BL302** `")
    assert "**What it reports:**" in value and "`bootlint rule BL302`" in value
    assert (hover.range.start.line, hover.range.start.character, hover.range.end.character) == (3, column, column + 5)
    # The comment's text before the code is no code: nothing from the comment there.
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=4, character=3)))
    assert hover is None or not hover.contents.value.startswith("**BL302**")


PYTHON_BL101 = (ROOT / "rules" / "BL101.md").read_text().split("```python fail\n")[1].split("```")[0]


async def test_commands_fix_all_including_unsafe_and_show_settings(client, workspace, tmp_path):
    uri = open_doc(client, workspace / "commands" / "bootstrap.py", PYTHON_BL101, language="python")
    await published(client, uri, 1)
    # Safe fixes only: the Python BL101 fix is unsafe, so nothing is applied.
    before = len(client.applied)
    assert await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="bootlint.fixAll", arguments=[{"uri": uri}])) == {"applied": False, "fixed": 0}
    assert len(client.applied) == before
    answer = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="bootlint.fixAllUnsafe", arguments=[uri]))
    assert answer == {"applied": True}
    (applied,) = client.applied[before:]
    assert applied.label == "bootlint: fix all, including unsafe fixes"
    (document_edit,) = applied.edit.document_changes
    fixed = apply_edits(PYTHON_BL101, document_edit.edits)
    # What `bootlint check --fix --unsafe-fixes` writes, with the same settings.
    on_disk = tmp_path / "bootstrap.py"
    on_disk.write_text(PYTHON_BL101, encoding="utf-8")
    run_cli("check", "--isolated", "--ignore", "BL201", "--fix", "--unsafe-fixes", str(on_disk))
    assert fixed == on_disk.read_text(encoding="utf-8") and fixed != PYTHON_BL101
    # The same as a code action, of a kind that "fix all on save" (source.fixAll) never asks for.
    diagnostic = next(d for d in client.diagnostics[uri] if d.code == "BL101")
    on_save = await code_actions(client, uri, diagnostic, only=["source.fixAll"])
    assert not [a for a in on_save or [] if "unsafe" in a.title]
    (everything,) = await code_actions(client, uri, diagnostic, only=["source.bootlint.fixAllUnsafe"])
    assert everything.title == "bootlint: fix all fixable problems, including unsafe fixes"
    assert apply_edits(PYTHON_BL101, action_edits(everything, uri)) == fixed
    text = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="bootlint.showSettings", arguments=[uri]))
    assert text.startswith("bootlint settings for ")
    assert "ignore = ['BL201']  (editor settings)" in text.split("\n")
    assert any(m.message == text for m in client.messages)
    with pytest.raises(Exception, match="open bootstrap"):
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="bootlint.showSettings", arguments=["file:///not/open/bootstrap"]))


@pytest.mark.parametrize("text, line, column", [
    ("#!/bin/sh\necho start\nX=$(curl -s http://x/next\necho \"$X\"\n", 3, 3),
    # Parentheses in a comment, in quotes and in a group that closes are not the open one.
    ("#!/bin/bash\n# a (comment\necho \"it's ( fine\" $(date) '(('\nX=\"$(curl -s \"$API/next\" \n", 4, 4),
], ids=["plain", "after-closed-ones"])
async def test_an_unclosed_command_substitution_is_reported_where_it_opens(client, workspace, text, line, column):
    """Issue 24: bash -n points one line past the end of the file; BL900 points at the `$(`."""
    bash = subprocess.run(["bash", "-n"], input=text.encode(), capture_output=True)
    assert b"unexpected EOF while looking for matching `)'" in bash.stderr
    (cli,) = [f for f in cli_findings(text) if f["code"] == "BL900"]
    assert (cli["line"], cli["column"]) == (line, column)
    assert cli["message"] == "bash: unexpected EOF while looking for matching `)'"
    uri = open_doc(client, workspace / f"unclosed-{line}" / "bootstrap", text)
    (diagnostic,) = [d for d in (await published(client, uri, 1)).diagnostics if d.code == "BL900"]
    assert (diagnostic.range.start.line + 1, diagnostic.range.start.character + 1) == (line, column)


async def test_a_bom_and_crlf_the_editor_hides_are_read_from_the_saved_file(client, workspace):
    """Issue 24: Neovim drops a UTF-8 BOM and keeps CR LF as its fileformat, so the buffer has
    neither; while the buffer is the saved file, the server reads the saved bytes for BL402 and
    BL405 and says which editor setting fixes each (the byte fix is not one the buffer can take)."""
    path = workspace / "hidden" / "bootstrap"
    path.parent.mkdir()
    path.write_bytes(b"\xef\xbb\xbf" + TUTORIAL.replace("\n", "\r\n").encode("utf-8"))
    on_disk = {f["code"]: f for f in json.loads(run_cli("check", "--isolated", "--format", "json", str(path)).stdout)}
    assert {"BL402", "BL405"} <= set(on_disk)
    uri = open_doc(client, path, TUTORIAL)   # what the editor shows
    diagnostics = {d.code: d for d in (await published(client, uri, 1)).diagnostics}
    assert diagnostics["BL402"].message == on_disk["BL402"]["message"] + " (the editor shows this file without its " \
        "CR LF line endings: save it with LF ones (Neovim: `:set fileformat=unix`; Emacs: `C-x RET f utf-8-unix`; " \
        "VS Code: \"LF\" in the status bar))"
    assert diagnostics["BL405"].message.startswith(on_disk["BL405"]["message"] + " (the editor shows this file "
                                                   "without its byte-order mark: save it without one (Neovim: `:set nobomb`")
    assert diagnostics["BL402"].data["fix"] is None and diagnostics["BL405"].data["fix"] is None
    # Changed in the editor: the buffer is no longer the saved file.
    change(client, uri, 2, TUTORIAL + "# edited\n")
    assert not {"BL402", "BL405"} & set(codes((await published(client, uri, 2)).diagnostics))
