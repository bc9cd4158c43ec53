"""`bootlint server`: the language server, on pygls and lsprotocol, over standard input and output.

Only this module imports pygls: `bootlint check` never pays for it. Lints run on the event loop's
thread (the tree-sitter parsers are not shared between threads) while a reader thread keeps
reading the client's messages; after a lint, the messages that arrived meanwhile are handled
before anything is published, so a result whose document changed is dropped, never published,
and the newest text is linted instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcMethodNotFound
from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import from_fs_path, to_fs_path

from bootlint import __version__
from bootlint.config.settings import CONFIG_NAMES
from bootlint.util.deepstack import STACK_BYTES, STACK_LOCK, call_with_large_stack, mark_large_stack
from bootlint.docs import help_uri
from bootlint.lsp import actions, early, watch
from bootlint.lsp.codec import EditorWorkspace, FastCodec
from bootlint.lsp.documents import Executable, Linted, Workspace, lint_text, read_executable
from bootlint.lsp.hover import hover_markdown, rule_markdown
from bootlint.rules import all_rules
from bootlint.fixes.textmap import UTF16
from bootlint.lsp.positions import Buffer
from bootlint.diagnostics import Finding, Severity
from bootlint.files.discover import discover
from bootlint.runner import selection_for
from bootlint.util.records import dataclass

log = logging.getLogger("bootlint.server")

FIX_ALL_KIND = "source.fixAll.bootlint"
FIX_ALL_UNSAFE_KIND = "source.bootlint.fixAllUnsafe"
FIX_ALL_COMMAND, FIX_ALL_UNSAFE_COMMAND, SHOW_SETTINGS_COMMAND = early.COMMANDS
# At most one lint of a document starts per this many seconds while it is being typed in: the
# first change after a pause is linted at once, the changes that follow within the window wait
# for its end and are linted together, as the newest text.
DEBOUNCE = 0.05
MAX_WORKSPACE_FILES = 500   # bootstraps of the workspace linted while not open
SEVERITIES = {Severity.ERROR: types.DiagnosticSeverity.Error,
              Severity.WARNING: types.DiagnosticSeverity.Warning,
              Severity.INFO: types.DiagnosticSeverity.Information}
PARSE_ERROR, INVALID_REQUEST, SERVER_NOT_INITIALIZED = -32700, -32600, -32002
MAX_MESSAGE = 256 * 1024 * 1024
CONTENT_LENGTH = re.compile(rb"^Content-Length: (\d+)\r\n$")   # as pygls reads it


@dataclass
class Document:
    """What the server keeps about one open document."""

    uri: str
    path: str
    executable: Executable | None = None   # read on the lint thread; None: read it (again)
    linted: Linted | None = None
    generation: int = -1            # of the settings the linted result was made with
    task: asyncio.Task | None = None
    last_start: float = -1e9
    mode: int | None = None         # the file's mode on disk when last looked at (the watch)
    running: tuple | None = None    # ((generation, version, text), future) of a lint under way


class Protocol(LanguageServerProtocol):
    """pygls' protocol, answering what it would otherwise drop: a request after `shutdown`, a
    request before `initialize`, a message that is not a JSON-RPC object, params of the wrong
    shape."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.failed_request: object = None
        self.initialize_seen = False
        self.answered_early: int | str | None = None

    def send_error(self, msg_id, code: int, message: str) -> None:
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})

    def structure_message(self, data):
        try:
            return super().structure_message(data)
        except JsonRpcException:
            if isinstance(data, dict) and "method" in data and "id" in data:
                self.failed_request = data["id"]   # answered in report_server_error
            raise

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        result = yield from super().lsp_initialize(params)
        if not self._server.pull:   # see bootlint.lsp.early.pulls
            result.capabilities.diagnostic_provider = None
        return result

    def _send_response(self, msg_id, result=None, error=None) -> None:
        if msg_id is not None and msg_id == self.answered_early:
            self.answered_early = None   # bootlint.lsp.early answered this initialize already
            return
        # pygls puts the Python traceback (file paths included) in an internal error's data:
        # the client gets the message only; the server's log has the rest.
        if error is not None and getattr(error, "data", None) is not None:
            error.data = None
        super()._send_response(msg_id, result, error)

    def handle_message(self, message) -> None:
        if not hasattr(message, "jsonrpc"):
            msg_id = message.get("id") if isinstance(message, dict) else None
            self.send_error(msg_id if _valid_id(msg_id) else None, INVALID_REQUEST,
                            "not a JSON-RPC 2.0 message (an object with \"jsonrpc\": \"2.0\")")
            return
        method = getattr(message, "method", None)
        msg_id = getattr(message, "id", None)
        if method is not None and msg_id is not None and not _valid_id(msg_id):
            self.send_error(None, INVALID_REQUEST, "invalid request: an id is a number or a string")
            return
        is_request = method is not None and msg_id is not None
        if method in (types.TEXT_DOCUMENT_DID_CHANGE, types.TEXT_DOCUMENT_DID_CLOSE) and not is_request:
            uri = getattr(getattr(message.params, "text_document", None), "uri", None)
            if self._workspace is None or uri not in self._workspace.text_documents:
                self._server.log(types.MessageType.Warning,
                                 f"bootlint: ignored {method} for a document that is not open: {uri}")
                return
        if is_request and method == types.INITIALIZE:
            if self.initialize_seen:
                self.send_error(msg_id, INVALID_REQUEST, "the server is already initialized")
                return
            self.initialize_seen = True
        elif is_request and not self.initialize_seen:
            self.send_error(message.id, SERVER_NOT_INITIALIZED, "the server is not initialized yet")
            return
        if is_request and self._shutdown and method != types.EXIT:
            self.send_error(message.id, INVALID_REQUEST, "the server is shutting down")
            return
        super().handle_message(message)


def _valid_id(msg_id) -> bool:
    """A JSON-RPC request id: a string or an integer (not a boolean, an object or an array)."""
    return isinstance(msg_id, str) or (isinstance(msg_id, int) and not isinstance(msg_id, bool))


class MessageReader:
    """Standard input read on a thread of its own, a whole message at a time, handed to the event
    loop in one step (pygls' reader costs a thread hop for every header line and body). It counts
    the messages read that the loop has not taken yet, so that a lint can let them be handled
    before it publishes (see :meth:`BootlintServer.catch_up`). It reads the file descriptor
    itself: a thread blocked in a buffered reader would hold its lock while the process exits.
    A Content-Length larger than what arrives costs only what arrives."""

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop, prefix: bytes = b"") -> None:
        self.fd = fd
        self.loop = loop
        self.items: asyncio.Queue = asyncio.Queue()
        self.buffer = bytearray(prefix)   # what bootlint.lsp.early read already
        self.lock = threading.Lock()
        self.read = 0      # messages read (by the thread)
        self.taken = 0     # messages taken (by the loop)
        threading.Thread(target=self._run, name="bootlint-reader", daemon=True).start()

    @property
    def pending(self) -> int:
        with self.lock:
            return self.read - self.taken

    def _fill(self) -> bool:
        data = os.read(self.fd, 1 << 16)
        self.buffer += data
        return bool(data)

    def _line(self) -> bytes:
        while (end := self.buffer.find(b"\n")) < 0:
            if not self._fill():
                line, self.buffer = bytes(self.buffer), bytearray()
                return line
        line = bytes(self.buffer[:end + 1])
        del self.buffer[:end + 1]
        return line

    def _body(self, length: int) -> bytes:
        chunks, left, kept = [], length, 0
        while left > 0:
            if not self.buffer and not self._fill():
                break
            chunk = bytes(self.buffer[:left])
            del self.buffer[:len(chunk)]
            left -= len(chunk)
            if kept < MAX_MESSAGE:
                chunks.append(chunk)
                kept += len(chunk)
        return b"".join(chunks)[:MAX_MESSAGE] or b" "   # b"" would stop pygls' loop: a parse error instead

    def _run(self) -> None:
        try:
            while True:
                lines, length = [], 0
                while True:
                    line = self._line()
                    if not line:
                        self.loop.call_soon_threadsafe(self._deliver, lines + [b""])
                        return
                    lines.append(line)
                    # The same reading of the header as pygls' loop, which parses these lines again.
                    if not length and (match := CONTENT_LENGTH.fullmatch(line)):
                        length = int(match.group(1))
                    if length and not line.strip():
                        break
                body = self._body(length)
                with self.lock:
                    self.read += 1
                self.loop.call_soon_threadsafe(self._deliver, lines + [body])
        except (OSError, ValueError, RuntimeError):   # the pipe or the loop is gone
            return

    def _deliver(self, items: list[bytes]) -> None:
        for item in items:
            self.items.put_nowait(item)

    async def readline(self) -> bytes:
        return await self.items.get()

    async def readexactly(self, n: int) -> bytes:
        body = await self.items.get()
        with self.lock:
            self.taken += 1
        return body


class LintThread:
    """A thread that lints, with the parsers' large stack, so that the event loop goes on
    reading and answering while a file is linted. The server has two: one for the lints of the
    documents (one at a time, newest text first), one for what a request needs done (a code
    action's candidate comments, a fix-all), so that a slow lint (a Python bootstrap through
    libcst, a 2 MB line) never holds up a hover, a code action, a cancel or `shutdown`. Each
    thread has its own tree-sitter parser (bootlint.frontends.shell.syntax.parser)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._executor: ThreadPoolExecutor | None = None

    def _start(self) -> ThreadPoolExecutor:
        if self._executor is None:
            with STACK_LOCK:
                previous = threading.stack_size(STACK_BYTES)
                try:
                    self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name,
                                                        initializer=mark_large_stack)
                    self._executor.submit(lambda: None).result()   # the thread starts with this stack
                finally:
                    threading.stack_size(previous)
        return self._executor

    async def run(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._start(), function, *args)


class BootlintServer(LanguageServer):
    """pygls' server with bootlint's state: the open documents it lints, the workspace's settings,
    whether the client pulls diagnostics, and how `shutdown` and `exit` went."""

    def __init__(self) -> None:
        super().__init__("bootlint", __version__, protocol_cls=Protocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.documents: dict[str, Document] = {}
        self.project = Workspace()
        self.generation = 0
        self.pull = False
        self.shutdown_requested = False
        self.exit_code: int | None = None
        self.debounce = DEBOUNCE
        self.shown: set[str] = set()
        self.reader: MessageReader | None = None
        self.watch_configs = True       # False: the client watches them and tells (didChangeWatchedFiles)
        self.config_stamps: dict = {}   # the configuration files that could apply, as last seen
        self.watcher: asyncio.Task | None = None
        self.lints = LintThread("bootlint-lint")          # the documents' lints
        self.workspace_files: set[str] = set()            # not open, published from the disk
        self.requests = LintThread("bootlint-request")    # what a request needs linted

    # --- errors --------------------------------------------------------------------------

    def report_server_error(self, error: Exception, source) -> None:
        protocol: Protocol = self.protocol  # type: ignore[assignment]
        if source is JsonRpcException and isinstance(error, ValueError) and not isinstance(error, JsonRpcException):
            # From the read loop: the body is not JSON (or not UTF-8).
            protocol.send_error(None, PARSE_ERROR, f"parse error: not JSON ({error})")
        elif isinstance(error, JsonRpcMethodNotFound):
            pass   # the request was answered "method not found": nothing went wrong here
        elif protocol.failed_request is not None:
            code = error.code if isinstance(error, JsonRpcException) else -32603
            protocol.send_error(protocol.failed_request, code, f"invalid request: {error}")
            protocol.failed_request = None
        else:
            self.log(types.MessageType.Error, f"internal error: {type(error).__name__}: {error}")

    def log(self, kind: types.MessageType, message: str) -> None:
        try:
            self.window_log_message(types.LogMessageParams(type=kind, message=message))
        except Exception:  # the client is gone: nothing to tell
            pass

    def tell(self, problems: list[str]) -> None:
        """Show each configuration problem once."""
        for problem in problems:
            if problem not in self.shown:
                self.shown.add(problem)
                self.log(types.MessageType.Warning, problem)
                self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning,
                                                                 message=f"bootlint: {problem}"))

    # --- linting -------------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        chosen = self.workspace.position_encoding if self.protocol._workspace is not None else None
        return str(getattr(chosen, "value", chosen) or UTF16)

    def text_of(self, uri: str) -> tuple[str, int | None] | None:
        doc = self.workspace.text_documents.get(unquote(uri)) if self.protocol._workspace else None
        return (doc.source, doc.version) if doc is not None else None

    async def catch_up(self) -> None:
        """Let the loop handle the messages already read (changes that came in during a lint)."""
        for _ in range(10_000):
            if self.reader is None or not self.reader.pending:
                return
            await asyncio.sleep(0)

    def _lint(self, doc: Document, text: str, version: int | None) -> Linted:
        """Lint, on the lint thread."""
        if doc.executable is None:
            doc.executable = read_executable(doc.path)
        return lint_text(self.project, doc.path, text, version, doc.executable, self.encoding)

    async def current(self, doc: Document) -> Linted | None:
        """The lint of the document's text as it is now (made now, on the lint thread, if it is
        not at hand; a lint of the same text already under way is awaited, not repeated). An
        error in one document is logged, not raised."""
        now = self.text_of(doc.uri)
        if now is None:
            return None
        text, version = now
        linted = doc.linted
        if linted is not None and doc.generation == self.generation and linted.version == version \
                and linted.buffer.text == text:
            return linted
        generation = self.generation
        wanted = (generation, version, text)
        if doc.running is None or doc.running[0] != wanted:
            doc.running = (wanted, asyncio.ensure_future(self.lints.run(self._lint, doc, text, version)))
        running = doc.running[1]
        try:
            linted = await asyncio.shield(running)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.log(types.MessageType.Error, f"bootlint: internal error linting {doc.uri}: "
                                              f"{type(exc).__name__}: {exc}")
            return None
        finally:
            if doc.running is not None and doc.running[1] is running and running.done():
                doc.running = None
        await self.catch_up()
        if self.text_of(doc.uri) == now and generation == self.generation:
            doc.linted, doc.generation = linted, generation
        self.tell(self.project.problems)
        return linted

    def schedule(self, doc: Document) -> None:
        """Lint and publish soon; a lint already under way picks the newest text when it ends."""
        if doc.task is None or doc.task.done():
            doc.task = asyncio.get_running_loop().create_task(self._publish_loop(doc))

    async def _publish_loop(self, doc: Document) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.documents.get(doc.uri) is doc:
                wait = doc.last_start + self.debounce - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                now = self.text_of(doc.uri)
                if now is None or self.documents.get(doc.uri) is not doc:
                    return
                doc.last_start = loop.time()
                generation = self.generation
                linted = await self.current(doc)
                if self.documents.get(doc.uri) is not doc:
                    return
                if linted is None:
                    return
                if self.text_of(doc.uri) != now or generation != self.generation:
                    continue   # the document changed while it was linted: that result is stale
                if not self.pull:
                    self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                        uri=doc.uri, version=linted.version, diagnostics=self.diagnostics(doc, linted)))
                return
        except Exception as exc:
            self.log(types.MessageType.Error, f"bootlint: internal error publishing {doc.uri}: "
                                              f"{type(exc).__name__}: {exc}")

    def diagnostics(self, doc: Document, linted: Linted) -> list[types.Diagnostic]:
        out = [self.diagnostic(doc, linted, f) for f in linted.findings]
        if linted.config_problem:
            # Shown on the document too: a message box is gone in a second, and the findings
            # below are the defaults', not the project's.
            out.insert(0, types.Diagnostic(
                range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)),
                message=f"configuration not used: {linted.config_problem}",
                severity=types.DiagnosticSeverity.Error, source="bootlint"))
        return out

    def diagnostic(self, doc: Document, linted: Linted, f: Finding) -> types.Diagnostic:
        buffer = linted.buffer
        related = [types.DiagnosticRelatedInformation(
            location=types.Location(uri=doc.uri, range=lsp_range(buffer, r.span)), message=r.message)
            for r in f.related]
        fix = None
        if f.fix is not None and actions.fix_changes(f.fix, buffer):
            fix = f.fix.applicability.value
        # A link to the rule's page only where the settings say the pages are published.
        href = help_uri(f.code, self.project.settings_for(doc.path).docs_url)
        return types.Diagnostic(
            range=lsp_range(buffer, f.span), message=f.message, severity=SEVERITIES[f.severity],
            code=f.code, code_description=types.CodeDescription(href=href) if href else None,
            source="bootlint",
            related_information=related or None,
            tags=[types.DiagnosticTag.Unnecessary] if f.code == "BL901" else None,
            data={"version": linted.version, "fix": fix,
                  "span": [f.span.line, f.span.column, f.span.end_line, f.span.end_column]})

    # --- documents -----------------------------------------------------------------------

    def open(self, uri: str) -> Document | None:
        """Start tracking a document bootlint would lint (None for any other)."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if not path:
            return None
        if "\0" in path:   # no file has that name: nothing to lint or to read
            self.log(types.MessageType.Warning, f"bootlint: ignored {uri!r}: a file name holds no NUL")
            return None
        try:
            if not self.project.lintable(path):
                return None
        finally:
            self.tell(self.project.problems)
        doc = Document(uri, path)
        self.documents[uri] = doc
        # Seen before the document is linted: a file written after this is a change.
        self.config_stamps.update(watch.stamps(p for p in watch.config_candidates(path) if p not in self.config_stamps))
        return doc

    def workspace_bootstraps(self) -> list[str]:
        """The files a folder walk of each workspace folder would lint (as `bootlint check
        FOLDER` finds them), at most :data:`MAX_WORKSPACE_FILES`; run on a lint thread."""
        found: list[str] = []
        for folder in list(self.project.folders):
            settings = self.project.settings_for(os.path.join(folder, "bootstrap"))
            for target in discover([folder], exclude=settings.all_excludes,
                                   respect_gitignore=settings.respect_gitignore, include=settings.extend_include):
                if not target.problem and os.path.isfile(target.path) and self.project.lintable(target.path):
                    found.append(os.path.abspath(target.path))
        return sorted(set(found))[:MAX_WORKSPACE_FILES]

    def lint_saved(self, path: str) -> Linted | None:
        """A file that is not open, linted as it is saved; run on a lint thread."""
        limit = self.project.settings_for(path).max_file_size
        try:
            with open(path, "rb") as f:
                raw = f.read(limit + 1)
        except OSError:
            return None
        return lint_text(self.project, path, raw.decode("utf-8", errors="replace"), None,
                         read_executable(path), self.encoding)

    async def publish_workspace(self) -> None:
        """Push the diagnostics of the workspace's bootstraps that are not open (a client that
        pulls asks for them with workspace/diagnostic instead)."""
        try:
            paths = await self.lints.run(self.workspace_bootstraps)
            for path in paths:
                uri = from_fs_path(path)
                if uri in self.documents or self.shutdown_requested:
                    continue
                linted = await self.lints.run(self.lint_saved, path)
                if linted is not None and uri not in self.documents:
                    self.workspace_files.add(uri)
                    self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                        uri=uri, diagnostics=self.diagnostics(Document(uri, path), linted)))
        except Exception as exc:
            self.log(types.MessageType.Error, f"bootlint: internal error linting the workspace: "
                                              f"{type(exc).__name__}: {exc}")

    def refresh(self) -> None:
        """Ask a client that pulls diagnostics to pull them again (it would not on its own)."""
        if self.pull:
            self.workspace_diagnostic_refresh(None)

    def mode_changed(self, doc: Document) -> None:
        """The file's mode may have changed (a save, a `chmod`): read it again and lint."""
        doc.executable, doc.linted = None, None
        if self.pull:
            self.refresh()
        else:
            self.schedule(doc)

    async def watch(self) -> None:
        """Poll what the client does not watch (:mod:`bootlint.lsp.watch`): the configuration
        files that could apply to the open documents (unless the client watches them) and the
        documents' modes."""
        while not self.shutdown_requested:
            await asyncio.sleep(watch.INTERVAL)
            try:
                if self.watch_configs:
                    now = watch.stamps(self.config_stamps)
                    if now != self.config_stamps:
                        self.config_stamps = now
                        self.relint_all()
                for doc in list(self.documents.values()):
                    mode = (watch.stamp(doc.path) or (0, 0, 0, None))[3]
                    if doc.mode is not None and mode is not None and mode != doc.mode:
                        self.mode_changed(doc)
                    doc.mode = mode
            except Exception as exc:
                self.log(types.MessageType.Error, f"bootlint: internal error watching files: "
                                                  f"{type(exc).__name__}: {exc}")

    def relint_all(self) -> None:
        """The configuration changed: every open document again (pull clients are asked to)."""
        self.generation += 1
        self.project.forget()
        for uri in list(self.documents):
            old = self.documents.pop(uri)
            if old.task is not None:
                old.task.cancel()
            doc = self.open(uri)
            if doc is None:
                if not self.pull:
                    self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
                continue
            doc.executable, doc.mode = old.executable, old.mode
            if not self.pull:
                self.schedule(doc)
        if not self.pull and self.workspace_files:   # the files not open, with the new settings
            asyncio.get_running_loop().create_task(self.publish_workspace())
        self.refresh()


def lsp_offsets(buffer: Buffer, start: int, end: int) -> types.Range:
    """The LSP range of two offsets into the buffer."""
    (sl, sc), (el, ec) = buffer.position(start), buffer.position(end)
    return types.Range(start=types.Position(line=sl, character=sc), end=types.Position(line=el, character=ec))


def lsp_range(buffer: Buffer, span) -> types.Range:
    return lsp_offsets(buffer, *buffer.span_offsets(span))


def lsp_edit(buffer: Buffer, change: actions.Change) -> types.TextEdit:
    return types.TextEdit(range=lsp_offsets(buffer, change.start, change.end), new_text=change.new)


def _get(obj, *names):
    for name in names:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


server = BootlintServer()


@server.feature(types.INITIALIZE)
def initialize(ls: BootlintServer, params: types.InitializeParams) -> None:
    folders = [to_fs_path(f.uri) for f in params.workspace_folders or [] if f.uri.startswith("file:")]
    if not folders and params.root_uri and params.root_uri.startswith("file:"):
        folders = [to_fs_path(params.root_uri)]
    elif not folders and params.root_path:
        folders = [params.root_path]
    options = params.initialization_options
    ls.project = Workspace([f for f in folders if f], options if isinstance(options, dict) else {})
    if options is not None and not isinstance(options, dict):
        ls.project.problems.append("initializationOptions must be an object: ignored")
    if ls.project.debounce is not None:
        ls.debounce = ls.project.debounce
    # pygls' codec walks a line per character in Python for every change, and its lines are not
    # the protocol's: see bootlint.lsp.codec.
    ls.workspace._position_codec = FastCodec(ls.workspace.position_encoding)
    ls.workspace.__class__ = EditorWorkspace
    ls.pull = bool(_get(params.capabilities, "workspace", "diagnostics", "refresh_support"))


@server.feature(types.INITIALIZED)
async def initialized(ls: BootlintServer, params: types.InitializedParams) -> None:
    ls.tell(ls.project.problems)
    registrations = []
    if _get(ls.client_capabilities, "workspace", "did_change_watched_files", "dynamic_registration"):
        watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_NAMES]
        registrations.append(types.Registration(
            id="bootlint-configuration", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers)))
    if _get(ls.client_capabilities, "workspace", "did_change_configuration", "dynamic_registration"):
        # A client that pulls settings sends this notification only to a server that asks for it.
        registrations.append(types.Registration(id="bootlint-settings", method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                                                register_options=types.DidChangeConfigurationRegistrationOptions(
                                                    section="bootlint")))
    if registrations:
        try:
            await ls.client_register_capability_async(types.RegistrationParams(registrations=registrations))
            ls.watch_configs = not any(r.id == "bootlint-configuration" for r in registrations)
        except Exception as exc:
            ls.log(types.MessageType.Warning, f"bootlint: the client refused to watch configuration files ({exc}): "
                                              "the server watches them itself")
    ls.watcher = asyncio.get_running_loop().create_task(ls.watch())
    if not ls.pull:
        ls.workspace_task = asyncio.get_running_loop().create_task(ls.publish_workspace())
    if await pull_settings(ls):
        ls.relint_all()


async def pull_settings(ls: BootlintServer) -> bool:
    """The editor's `bootlint` settings, asked of a client that answers `workspace/configuration`
    (False: it does not, or failed to)."""
    if not _get(ls.client_capabilities, "workspace", "configuration"):
        return False
    try:
        answer = await ls.workspace_configuration_async(types.ConfigurationParams(
            items=[types.ConfigurationItem(section="bootlint")]))
    except Exception as exc:
        ls.log(types.MessageType.Warning, f"bootlint: the client did not give its settings: {exc}")
        return False
    use_settings(ls, answer[0] if answer else None)
    return True


def use_settings(ls: BootlintServer, value) -> None:
    """Use the editor's `bootlint` settings (None: there are none)."""
    if value is not None and not isinstance(value, dict):
        ls.project.problems.append("the editor's 'bootlint' settings must be an object: ignored")
        value = None
    ls.project.set_options(value or {}, "editor setting")
    if ls.project.debounce is not None:
        ls.debounce = ls.project.debounce
    ls.tell(ls.project.problems)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: BootlintServer, params: types.DidChangeConfigurationParams) -> None:
    if not await pull_settings(ls):
        settings = params.settings
        # The settings pushed whole, as `{"bootlint": {...}}` (Neovim's `settings`, Helix's `config`).
        use_settings(ls, settings.get("bootlint") if isinstance(settings, dict) else None)
    ls.relint_all()


@server.feature(types.SHUTDOWN)
def shutdown(ls: BootlintServer, params) -> None:
    ls.shutdown_requested = True
    if ls.watcher is not None:
        ls.watcher.cancel()
    for doc in ls.documents.values():
        if doc.task is not None:
            doc.task.cancel()


@server.feature(types.EXIT)
def exit_(ls: BootlintServer, params) -> None:
    ls.exit_code = 0 if ls.shutdown_requested else 1


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: BootlintServer, params: types.DidOpenTextDocumentParams) -> None:
    doc = ls.open(params.text_document.uri)
    if doc is not None:
        doc.mode = (watch.stamp(doc.path) or (0, 0, 0, None))[3]
        if not ls.pull:
            ls.schedule(doc)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: BootlintServer, params: types.DidChangeTextDocumentParams) -> None:
    doc = ls.documents.get(params.text_document.uri)
    if doc is not None and not ls.pull:
        ls.schedule(doc)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
def did_save(ls: BootlintServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if os.path.basename(to_fs_path(uri) or "") in CONFIG_NAMES:
        ls.relint_all()
    doc = ls.documents.get(uri)
    if doc is not None:
        doc.mode = (watch.stamp(doc.path) or (0, 0, 0, None))[3]
        ls.mode_changed(doc)   # saving may have changed the mode: read it again


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: BootlintServer, params: types.DidCloseTextDocumentParams) -> None:
    doc = ls.documents.pop(params.text_document.uri, None)
    if doc is not None:
        if doc.task is not None:
            doc.task.cancel()
        if not ls.pull and doc.uri in ls.workspace_files:
            asyncio.get_running_loop().create_task(_republish_saved(ls, doc))
        elif not ls.pull:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=doc.uri, diagnostics=[]))


async def _republish_saved(ls: BootlintServer, doc: Document) -> None:
    """A workspace bootstrap closed: its diagnostics again, from the file as saved."""
    linted = await ls.lints.run(ls.lint_saved, doc.path)
    if doc.uri not in ls.documents:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=doc.uri, diagnostics=ls.diagnostics(doc, linted) if linted is not None else []))


@server.feature(types.WORKSPACE_DIAGNOSTIC)
async def workspace_diagnostic(ls: BootlintServer, params: types.WorkspaceDiagnosticParams):
    """The workspace's bootstraps that are not open, linted as saved (the open ones are pulled
    one by one, from their buffers)."""
    items = []
    for path in await ls.lints.run(ls.workspace_bootstraps):
        uri = from_fs_path(path)
        if uri in ls.documents:
            continue
        linted = await ls.lints.run(ls.lint_saved, path)
        if linted is not None:
            items.append(types.WorkspaceFullDocumentDiagnosticReport(
                uri=uri, version=None, items=ls.diagnostics(Document(uri, path), linted)))
    return types.WorkspaceDiagnosticReport(items=items)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: BootlintServer, params: types.DidChangeWatchedFilesParams) -> None:
    if any(os.path.basename(to_fs_path(change.uri) or "") in CONFIG_NAMES for change in params.changes):
        ls.relint_all()


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
def did_change_folders(ls: BootlintServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
    for folder in params.event.removed:
        if folder.uri.startswith("file:"):
            ls.project.remove_folder(to_fs_path(folder.uri))
    for folder in params.event.added:
        if folder.uri.startswith("file:"):
            ls.project.add_folder(to_fs_path(folder.uri))
    ls.relint_all()


@server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC,
                types.DiagnosticOptions(identifier="bootlint", inter_file_dependencies=False,
                                        workspace_diagnostics=True))
async def pull_diagnostics(ls: BootlintServer, params: types.DocumentDiagnosticParams):
    doc = ls.documents.get(params.text_document.uri)
    linted = await ls.current(doc) if doc is not None else None
    if doc is None or linted is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    result_id = f"{ls.generation}:{linted.version}:{hash(linted.buffer.text)}"
    if params.previous_result_id == result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
    return types.RelatedFullDocumentDiagnosticReport(items=ls.diagnostics(doc, linted), result_id=result_id)


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: BootlintServer, params: types.HoverParams) -> types.Hover | None:
    doc = ls.documents.get(params.text_document.uri)
    linted = await ls.current(doc) if doc is not None else None
    if linted is None:
        return None
    buffer = linted.buffer
    at = buffer.from_position(params.position.line, params.position.character)
    hits = []
    for f in linted.findings:
        start, end = buffer.span_offsets(f.span)
        if start <= at < end or start == end == at:
            hits.append((f, start, end))
    docs_url = ls.project.settings_for(doc.path).docs_url
    named = _code_in_comment(linted, at)
    if named is not None:   # a code in a suppression comment: the rule it names
        code, start, end = named
        text = rule_markdown(code, docs_url)
        if hits:
            text += "\n---\n\n" + "\n---\n\n".join(hover_markdown(f, linted.language, docs_url) for f, _, _ in hits)
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                           range=lsp_offsets(buffer, start, end))
    if not hits:
        return None
    text = "\n---\n\n".join(hover_markdown(f, linted.language, docs_url) for f, _, _ in hits)
    start, end = min(h[1] for h in hits), max(h[2] for h in hits)
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                       range=lsp_offsets(buffer, start, end))


_RULE_CODE = re.compile(r"\bBL\d{3}\b", re.I)
_SUPPRESSION = re.compile(r"#\s*(?:bootlint\s*:\s*disable(?:-file)?\s*=|noqa\s*:)", re.I)


def _code_in_comment(linted: Linted, at: int) -> tuple[str, int, int] | None:
    """The rule code under the offset ``at`` in a suppression comment (code, start, end)."""
    model = linted.result.model
    if model is None:
        return None
    buffer = linted.buffer
    known = all_rules()
    for line, column, text, _alone in model.comments:
        begin = buffer.offset(line, column)
        if not begin <= at <= begin + len(text):
            continue
        directive = _SUPPRESSION.search(text)
        if directive is None:
            continue
        for match in _RULE_CODE.finditer(text, directive.end()):
            start, end = begin + match.start(), begin + match.end()
            code = match.group(0).upper()
            if start <= at <= end and code in known:
                return code, start, end
    return None


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND,
                                                           FIX_ALL_UNSAFE_KIND],
                                        resolve_provider=False))
async def code_action(ls: BootlintServer, params: types.CodeActionParams):
    doc = ls.documents.get(params.text_document.uri)
    linted = await ls.current(doc) if doc is not None else None
    if doc is None or linted is None:
        return None
    try:
        return await ls.requests.run(_code_actions, ls, doc, linted, params)
    except Exception as exc:
        ls.log(types.MessageType.Error, f"bootlint: internal error in code actions for {doc.uri}: "
                                        f"{type(exc).__name__}: {exc}")
        return None


def _wanted(only, kind: str) -> bool:
    names = [str(getattr(k, "value", k)) for k in only or ()]
    return not names or any(kind == k or kind.startswith(f"{k}.") for k in names)


def _code_actions(ls: BootlintServer, doc: Document, linted: Linted,
                  params: types.CodeActionParams) -> list[types.CodeAction]:
    """The actions for the findings in the request's range (the suppression comments are linted
    before they are offered)."""
    buffer = linted.buffer
    only = params.context.only
    out: list[types.CodeAction] = []
    versioned = bool(_get(ls.client_capabilities, "workspace", "workspace_edit", "document_changes"))
    selection = selection_for(ls.project.settings_for(doc.path), linted.src.path)

    def edit(changes: list[actions.Change]) -> types.WorkspaceEdit:
        edits = [lsp_edit(buffer, c) for c in sorted(changes, key=lambda c: (c.start, c.end))]
        if versioned:
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=linted.version),
                edits=edits)])
        return types.WorkspaceEdit(changes={doc.uri: edits})

    if _wanted(only, types.CodeActionKind.QuickFix.value):
        first = buffer.from_position(params.range.start.line, params.range.start.character)
        last = buffer.from_position(params.range.end.line, params.range.end.character)
        asked = {(d.code, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character)
                 for d in params.context.diagnostics if d.source == "bootlint"}
        titles: set[str] = set()
        for f in linted.findings:
            diagnostic = ls.diagnostic(doc, linted, f)
            r = diagnostic.range
            key = (f.code, r.start.line, r.start.character, r.end.line, r.end.character)
            start, end = buffer.span_offsets(f.span)
            if key not in asked and not (start <= last and first <= end):
                continue
            proposals: list[tuple[str, list[actions.Change], bool]] = []
            if f.fix is not None:
                changes = actions.fix_changes(f.fix, buffer)
                safe = actions.is_safe(f.fix)
                if changes:
                    proposals.append((f"{f.code}: {f.fix.title}" + ("" if safe else " (unsafe fix)"), changes, safe))
            if f.code == "BL901":
                removal = actions.remove_suppression(f, linted.findings, linted.src, buffer, selection)
                if removal:
                    proposals.append(("BL901: remove the unused suppression", removal, True))
            if f.code not in ("BL901", "BL903"):
                line = actions.suppress_line(f, linted.findings, linted.src, buffer, linted.result.model, selection)
                if line:
                    proposals.append((f"Disable {f.code} for this line", line, False))
                whole = actions.suppress_file(f.code, buffer, linted.result.model)
                if whole:
                    proposals.append((f"Disable {f.code} for this file", whole, False))
            for title, changes, preferred in proposals:
                if title in titles:
                    continue
                titles.add(title)
                out.append(types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix,
                                            diagnostics=[diagnostic], is_preferred=preferred or None,
                                            edit=edit(changes)))
    if _wanted(only, FIX_ALL_KIND) and any(f.fix is not None and actions.is_safe(f.fix) for f in linted.findings):
        fixed = actions.fix_all(linted.src, linted.result, selection)
        if fixed != buffer.text:
            out.append(types.CodeAction(title="bootlint: fix all safely fixable problems", kind=FIX_ALL_KIND,
                                        edit=edit([actions.minimal_change(buffer.text, fixed)])))
    # Not a kind under source.fixAll: an editor that fixes all on save must not apply these.
    if _wanted(only, FIX_ALL_UNSAFE_KIND) and any(
            f.fix is not None and not actions.is_safe(f.fix) for f in linted.findings):
        fixed = actions.fix_all(linted.src, linted.result, selection, unsafe=True)
        if fixed != buffer.text:
            out.append(types.CodeAction(title="bootlint: fix all fixable problems, including unsafe fixes",
                                        kind=FIX_ALL_UNSAFE_KIND,
                                        edit=edit([actions.minimal_change(buffer.text, fixed)])))
    return out


# --- commands (workspace/executeCommand) -----------------------------------------------------

def _document_of(ls: BootlintServer, args: tuple) -> Document:
    """The open document a command names: its URI, or an object with a `uri` (as clients pass)."""
    first = args[0] if args else None
    uri = first.get("uri") if isinstance(first, dict) else getattr(first, "uri", first)
    doc = ls.documents.get(uri) if isinstance(uri, str) else None
    if doc is None:
        raise JsonRpcInvalidParams(f"give the URI of an open bootstrap file (got {first!r})")
    return doc


async def _apply_fixes(ls: BootlintServer, args: tuple, unsafe: bool) -> dict:
    doc = _document_of(ls, args)
    linted = await ls.current(doc)
    if linted is None:
        return {"applied": False, "fixed": 0}
    selection = selection_for(ls.project.settings_for(doc.path), linted.src.path)
    fixed = await ls.requests.run(actions.fix_all, linted.src, linted.result, selection, unsafe)
    if fixed == linted.buffer.text:
        return {"applied": False, "fixed": 0}
    change = actions.minimal_change(linted.buffer.text, fixed)
    edit = types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=linted.version),
        edits=[lsp_edit(linted.buffer, change)])])
    label = "bootlint: fix all" + (", including unsafe fixes" if unsafe else "")
    answer = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=label))
    return {"applied": bool(answer.applied)}


@server.command(FIX_ALL_COMMAND)
async def fix_all_command(ls: BootlintServer, *args) -> dict:
    """Apply every safe fix to the document (as `source.fixAll.bootlint`)."""
    return await _apply_fixes(ls, args, unsafe=False)


@server.command(FIX_ALL_UNSAFE_COMMAND)
async def fix_all_unsafe_command(ls: BootlintServer, *args) -> dict:
    """Apply every fix, the unsafe ones too (`bootlint check --fix --unsafe-fixes`)."""
    return await _apply_fixes(ls, args, unsafe=True)


@server.command(SHOW_SETTINGS_COMMAND)
def show_settings_command(ls: BootlintServer, *args) -> str:
    """The settings in effect for the document, as `bootlint check --show-settings` prints them
    (the editor's settings included), shown to the user and returned."""
    doc = _document_of(ls, args)
    text = f"bootlint settings for {ls.project.display(doc.path)}:\n" + ls.project.settings_for(doc.path).describe()
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=text))
    return text


def _quiet_logging() -> None:
    """pygls logs to the standard error, which editors keep as the server's log: one line per
    problem there, no tracebacks."""
    class OneLine(logging.Formatter):
        def formatException(self, ei) -> str:  # noqa: N802 - logging's name
            return ""

        def format(self, record: logging.LogRecord) -> str:
            record.exc_info, record.exc_text = None, None
            return super().format(record)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLine("bootlint server: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("pygls").setLevel(logging.CRITICAL)   # what matters reaches the client


def main(prefix: bytes = b"", answered: int | str | None = None) -> int:
    """Serve on standard input and output until `exit` (0 after `shutdown`, else 1). ``prefix``:
    what was read from standard input already; ``answered``: the id of the `initialize` request
    in it that was answered already (:mod:`bootlint.lsp.early`)."""
    _quiet_logging()
    server.protocol.answered_early = answered
    try:
        # The loop runs on a thread with the parsers' large stack: linting on it starts no thread.
        call_with_large_stack(asyncio.run, _serve(prefix))
    except (KeyboardInterrupt, SystemExit, BrokenPipeError):
        pass   # `exit` ends the loop with SystemExit; the code is decided below
    except Exception as exc:  # the connection broke in a way pygls does not handle
        print(f"bootlint server: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if server.exit_code is not None:
        return server.exit_code
    return 0 if server.shutdown_requested else 1


async def _serve(prefix: bytes = b"") -> None:
    """pygls' stdio loop, fed by :class:`MessageReader`."""
    server._stop_event = stop = threading.Event()
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    server.reader = MessageReader(sys.stdin.fileno(), asyncio.get_running_loop(), prefix)
    await run_async(stop_event=stop, reader=server.reader, protocol=server.protocol,
                    logger=logging.getLogger("pygls"), error_handler=server.report_server_error)
