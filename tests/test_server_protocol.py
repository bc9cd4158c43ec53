"""`bootlint server` at the JSON-RPC level, over raw pipes: garbage gets errors, shutdown and exit
follow the specification, an internal error in one document is logged and the server goes on;
each editor setup in the README starts the server; `bootlint check` never imports pygls."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading

import pytest

from conftest import ROOT, run_cli

# These tests start the language server or the command line: child processes.
pytestmark = pytest.mark.subprocess

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TIMEOUT = 20
TUTORIAL = (ROOT / "examples" / "tutorial" / "bootstrap").read_text(encoding="utf-8")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


class Raw:
    """A server process and the messages it sends, read on a thread so that waits can time out."""

    def __init__(self, argv: list[str] | None = None) -> None:
        self.proc = subprocess.Popen(argv or [sys.executable, "-m", "bootlint", "server"], env=ENV,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.inbox: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put(None)
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                if line == b"\r\n":
                    break
            self.inbox.put(json.loads(out.read(length)))

    def send_bytes(self, body: bytes) -> None:
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8"))

    def next(self, where=lambda m: True) -> dict:
        while True:
            message = self.inbox.get(timeout=TIMEOUT)
            assert message is not None, f"the server closed its output: {self.stderr()}"
            if where(message):
                return message

    def answer(self, msg_id) -> dict:
        return self.next(lambda m: m.get("id") == msg_id and "method" not in m)

    def initialize(self, capabilities: dict | None = None, **params) -> dict:
        self.send({"id": 0, "method": "initialize",
                   "params": {"processId": None, "rootUri": None, "capabilities": capabilities or {}, **params}})
        result = self.answer(0)
        self.send({"method": "initialized", "params": {}})
        return result

    def open(self, uri: str, text: str) -> None:
        self.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "shellscript", "version": 1, "text": text}}})

    def stderr(self) -> str:
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        return self.proc.stderr.read().decode("utf-8", "replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            stream.close()


@pytest.fixture
def raw():
    servers: list[Raw] = []

    def start(argv=None) -> Raw:
        servers.append(Raw(argv))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.slow
def test_garbage_gets_json_rpc_errors_and_the_server_goes_on_then_shutdown_and_exit(raw):
    server = raw()
    server.send({"id": 1, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": "file:///x/bootstrap"}, "position": {"line": 0, "character": 0}}})
    assert server.answer(1)["error"]["code"] == -32002   # before initialize: ServerNotInitialized
    result = server.initialize()
    assert result["result"]["serverInfo"]["name"] == "bootlint"
    server.send_bytes(b"{this is not json")
    assert server.next()["error"]["code"] == -32700
    server.send_bytes(b"\xff\xfe not UTF-8")
    assert server.next()["error"]["code"] == -32700
    server.send_bytes(b"[1, 2, 3]")
    error = server.next()
    assert (error["id"], error["error"]["code"]) == (None, -32600)
    server.send_bytes(b'{"id": 5, "method": "textDocument/hover"}')   # no "jsonrpc": "2.0"
    assert server.answer(5)["error"]["code"] == -32600
    server.send({"id": 6, "method": "textDocument/hover", "params": {"textDocument": 42}})
    assert server.answer(6)["error"]["code"] == -32602
    server.send({"id": 7, "method": "bootlint/noSuchMethod", "params": {}})
    assert server.answer(7)["error"]["code"] == -32601
    server.send({"method": "textDocument/didOpen", "params": {"textDocument": None}})   # a bad notification
    # Still serving: a real document gets its diagnostics.
    server.open("file:///nowhere/ok/bootstrap", TUTORIAL)
    published = server.next(lambda m: m.get("method") == "textDocument/publishDiagnostics")
    assert "BL101" in {d["code"] for d in published["params"]["diagnostics"]}
    server.send({"id": 8, "method": "shutdown"})
    assert server.answer(8) == {"jsonrpc": "2.0", "id": 8, "result": None}
    server.send({"id": 9, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": "file:///nowhere/ok/bootstrap"}, "position": {"line": 0, "character": 0}}})
    assert server.answer(9)["error"]["code"] == -32600   # after shutdown: InvalidRequest
    server.send({"method": "exit"})
    assert server.proc.wait(timeout=TIMEOUT) == 0
    assert "Traceback" not in server.stderr()


BROKEN = "\n".join([
    "import sys, bootlint.lsp.server as s",
    "real = s.lint_text",
    "def lint_text(project, path, *args, **kwargs):",
    "    if 'broken' in path:",
    "        raise RuntimeError('injected fault')",
    "    return real(project, path, *args, **kwargs)",
    "s.lint_text = lint_text",
    "sys.exit(s.main())",
])
SYNTAX_ERROR = "#!/bin/sh\nwhile true; do\n  if x; then\n"


def test_an_internal_error_in_one_document_is_logged_and_a_pull_client_gets_the_others(raw):
    """A server whose linting fails for one path; the client pulls diagnostics; it exits without
    `shutdown` (exit code 1)."""
    server = raw([sys.executable, "-c", BROKEN])
    server.initialize({"textDocument": {"diagnostic": {"dynamicRegistration": False}},
                       "workspace": {"diagnostics": {"refreshSupport": True}}})
    for name, text in (("broken", TUTORIAL), ("fine", SYNTAX_ERROR)):
        server.open(f"file:///nowhere/{name}/bootstrap", text)
        server.send({"id": name, "method": "textDocument/diagnostic", "params": {
            "textDocument": {"uri": f"file:///nowhere/{name}/bootstrap"}}})
    seen: list[dict] = []
    broken = server.next(lambda m: seen.append(m) or m.get("id") == "broken")
    assert broken["result"]["items"] == []
    (logged,) = [m for m in seen if m.get("method") == "window/logMessage"]
    assert logged["params"]["type"] == 1
    assert "file:///nowhere/broken/bootstrap" in logged["params"]["message"]
    assert "RuntimeError: injected fault" in logged["params"]["message"]
    fine = server.next(lambda m: seen.append(m) or m.get("id") == "fine")
    assert not [m for m in seen if m.get("method") == "textDocument/publishDiagnostics"]   # a pull client
    # A file that does not parse: BL900 where the CLI puts it.
    cli = run_cli("check", "--isolated", "--format", "json", "--stdin-filename", "bootstrap", "-",
                  stdin=SYNTAX_ERROR.encode())
    expected = [(f["line"], f["column"], f["message"]) for f in json.loads(cli.stdout) if f["code"] == "BL900"]
    got = [(d["range"]["start"]["line"] + 1, d["range"]["start"]["character"] + 1, d["message"])
           for d in fine["result"]["items"] if d["code"] == "BL900"]
    assert got == expected and expected
    server.send({"method": "exit"})
    assert server.proc.wait(timeout=TIMEOUT) == 1


def test_bootlint_check_does_not_import_the_server():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "bootlint", "check", "--no-cache",
                           str(ROOT / "examples" / "fixed" / "bootstrap")], env=ENV, capture_output=True,
                          timeout=TIMEOUT)
    imported = {line.split("|")[-1].strip() for line in proc.stderr.decode().splitlines() if "|" in line}
    assert "bootlint.engine" in imported   # the measurement sees bootlint's own modules
    assert not {m for m in imported if m.split(".")[0] in ("pygls", "lsprotocol", "cattrs")}


# --- positions, in every encoding a client may choose --------------------------------------------

@pytest.mark.parametrize("encoding, expected, bom", [("utf-16", 11, 1), ("utf-8", 19, 3), ("utf-32", 10, 1)])
def test_buffer_positions_count_the_negotiated_units(encoding, expected, bom):
    from bootlint.lsp.positions import Buffer
    from bootlint.diagnostics import Span

    text = "\ufeff#!/bin/sh\r\necho 日本語🚀 x\r\n"
    buffer = Buffer(text, encoding)
    # Line 2, code-point column 11: the "x" after `echo 日本語🚀 ` (10 code points; the emoji is
    # two UTF-16 units and four UTF-8 bytes, each kanji three).
    ((line, start), (_, end)) = buffer.range(Span(2, 11, 2, 12))
    assert (line, start - expected, end - start) == (1, 0, 1)
    assert buffer.text[buffer.from_position(1, start):][:1] == "x"
    # Line 1 counts from after the byte-order mark, as the front ends do; the BOM is in the buffer.
    assert buffer.range(Span(1, 1, 1, 3)) == ((0, bom), (0, bom + 2))
    # A span to column 1 of the next line takes the whole CR LF.
    start, end = buffer.span_offsets(Span(1, 10, 2, 1))
    assert text[start:end] == "\r\n"


# --- the README's editor setups ----------------------------------------------------------------

def readme_block(language: str, marker: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(rf"```{language}\n(.*?)```", readme, re.S)
    (block,) = [b for b in blocks if marker in b]
    return block


def editor_commands() -> dict[str, list[str]]:
    """The command line each editor's snippet starts, read the way that editor reads it."""
    lua = readme_block("lua", "vim.lsp.config")
    neovim = re.findall(r"'([^']*)'", re.search(r"cmd\s*=\s*\{([^}]*)\}", lua).group(1))
    helix = tomllib.loads(readme_block("toml", "[language-server.bootlint]"))["language-server"]["bootlint"]
    elisp = readme_block("elisp", "eglot-server-programs")
    emacs = re.findall(r'"([^"]*)"', re.search(r'\.\s*\(("[^)]*)\)\)', elisp).group(1))
    zed = json.loads(readme_block("json", '"lsp"'))["lsp"]["bootlint"]["binary"]
    return {"neovim": neovim, "helix": [helix["command"], *helix.get("args", [])],
            "emacs": emacs, "zed": [zed["path"], *zed.get("arguments", [])]}


@pytest.mark.slow
def test_every_readme_editor_setup_starts_the_server_and_it_answers_initialize(raw):
    commands = editor_commands()
    assert set(commands) == {"neovim", "helix", "emacs", "zed"}
    servers = {}
    for editor, argv in commands.items():
        assert argv[0] == "bootlint", editor
        # The installed `bootlint` script runs `bootlint.cli`: run that module from this checkout,
        # once for each distinct command line.
        if tuple(argv) not in servers:
            servers[tuple(argv)] = raw([sys.executable, "-m", "bootlint", *argv[1:]])
    for editor, server in servers.items():
        server.send({"id": 0, "method": "initialize",
                     "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    for editor, server in servers.items():
        result = server.answer(0)["result"]
        assert result["serverInfo"]["name"] == "bootlint", editor
        assert result["capabilities"]["hoverProvider"] is True, editor
        server.send({"id": 1, "method": "shutdown"})
        server.answer(1)
        server.send({"method": "exit"})
        assert server.proc.wait(timeout=TIMEOUT) == 0, editor


HOVER_FAULT = "\n".join([
    "import sys, bootlint.lsp.server as s",
    "def hover_markdown(*args):",
    "    raise RuntimeError('injected fault in ' + s.__file__)",
    "s.hover_markdown = hover_markdown",
    "sys.exit(s.main())",
])


@pytest.mark.slow
def test_odd_requests_get_clean_answers_and_no_internal_error_is_logged(raw):
    """Issue 19: an object or array id, an unknown method, a didChange or didClose of a document
    never opened, a NUL in a file URI and a second `initialize` each get a JSON-RPC answer or a
    warning, never "internal error" at error level; an error's answer holds no traceback."""
    server = raw([sys.executable, "-c", HOVER_FAULT])
    server.initialize()
    seen: list[dict] = []
    server.send({"id": {"a": 1}, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": "file:///x/bootstrap"}, "position": {"line": 0, "character": 0}}})
    assert server.next(lambda m: seen.append(m) or "error" in m) == {
        "jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request: an id is a number or a string"}}
    server.send({"id": [2], "method": "shutdown"})
    assert server.next(lambda m: seen.append(m) or "error" in m)["error"]["code"] == -32600
    server.send({"id": True, "method": "shutdown"})
    assert server.next(lambda m: seen.append(m) or "error" in m)["error"]["code"] == -32600
    server.send({"id": 3, "method": "bootlint/noSuchMethod", "params": {}})
    assert server.next(lambda m: seen.append(m) or m.get("id") == 3)["error"]["code"] == -32601
    server.send({"method": "textDocument/didChange", "params": {
        "textDocument": {"uri": "file:///never/opened/bootstrap", "version": 2}, "contentChanges": [{"text": "x"}]}})
    server.send({"method": "textDocument/didClose", "params": {"textDocument": {"uri": "file:///never/opened/bootstrap"}}})
    server.open("file:///tmp/a%00b/bootstrap", TUTORIAL)
    server.send({"id": 4, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    assert server.next(lambda m: seen.append(m) or m.get("id") == 4) == {
        "jsonrpc": "2.0", "id": 4, "error": {"code": -32600, "message": "the server is already initialized"}}
    # A handler that fails: an internal error whose answer names the error and nothing else.
    server.open("file:///nowhere/fault/bootstrap", TUTORIAL)
    server.send({"id": 5, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": "file:///nowhere/fault/bootstrap"}, "position": {"line": 16, "character": 14}}})
    fault = server.next(lambda m: seen.append(m) or m.get("id") == 5)
    assert set(fault["error"]) == {"code", "message"} and fault["error"]["code"] == -32603
    assert "injected fault" in fault["error"]["message"]
    server.send({"id": 6, "method": "shutdown"})
    server.next(lambda m: seen.append(m) or m.get("id") == 6)
    logged = [(m["params"]["type"], m["params"]["message"]) for m in seen if m.get("method") == "window/logMessage"]
    assert logged[:3] == [
        (2, "bootlint: ignored textDocument/didChange for a document that is not open: file:///never/opened/bootstrap"),
        (2, "bootlint: ignored textDocument/didClose for a document that is not open: file:///never/opened/bootstrap"),
        (2, "bootlint: ignored 'file:///tmp/a%00b/bootstrap': a file name holds no NUL")]
    assert not [message for kind, message in logged if kind == 1 and "injected" not in message]
    server.send({"method": "exit"})
    assert server.proc.wait(timeout=TIMEOUT) == 0
    assert "Traceback" not in server.stderr()


CLIENTS = [
    {},
    {"general": {"positionEncodings": ["utf-8", "utf-16"]}, "notebookDocument": {"synchronization": {}}},
    {"general": {"positionEncodings": ["utf-32"]}, "textDocument": {"synchronization": {
        "willSave": True, "willSaveWaitUntil": True}, "diagnostic": {}},
     "workspace": {"fileOperations": {"willCreate": True, "didRename": True}, "diagnostics": {"refreshSupport": True}}},
    {"general": {"positionEncodings": ["latin-1"]}, "textDocument": {"diagnostic": {}},
     "workspace": {"diagnostics": {"refreshSupport": True}}},
]


@pytest.mark.parametrize("client", CLIENTS, ids=["none", "utf-8", "utf-32", "unknown"])
def test_the_early_initialize_answer_holds_the_capabilities_pygls_computes(client):
    """Issue 24: `bootlint server` answers `initialize` before it imports pygls, with the
    capabilities pygls computes for the same client from the server's features."""
    from lsprotocol import types
    from pygls.protocol import default_converter

    from bootlint.lsp import early
    from bootlint.lsp.server import server

    converter = default_converter()
    params = converter.structure({"processId": None, "rootUri": None, "capabilities": client}, types.InitializeParams)
    # pygls' initialize, run as its loop runs it: the generator yields our handler to call.
    steps = server.protocol.lsp_initialize(params)
    handler, args, _ = next(steps)
    try:
        steps.send(handler(*args))
    except StopIteration as stop:
        result = stop.value
    assert early.capabilities(client) == json.loads(json.dumps(converter.unstructure(result.capabilities)))


def test_the_early_answer_is_sent_once_and_pygls_sets_up_behind_it(raw):
    server = raw()
    result = server.initialize({"general": {"positionEncodings": ["utf-32"]}})["result"]
    assert result["capabilities"]["positionEncoding"] == "utf-32"
    server.send({"id": 1, "method": "shutdown"})
    before: list[dict] = []
    server.next(lambda m: before.append(m) or m.get("id") == 1)
    assert not [m for m in before if m.get("id") == 0]
    server.send({"method": "exit"})
    assert server.proc.wait(timeout=TIMEOUT) == 0


def test_a_first_message_that_is_not_initialize_is_left_to_pygls(raw):
    server = raw()
    server.send({"id": 1, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": "file:///x/bootstrap"}, "position": {"line": 0, "character": 0}}})
    assert server.answer(1)["error"]["code"] == -32002
    assert server.initialize()["result"]["serverInfo"]["name"] == "bootlint"   # pygls' answer
    server.send({"id": 2, "method": "shutdown"})
    assert server.answer(2)["result"] is None
