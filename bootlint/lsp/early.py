"""`bootlint server`'s first answer, before pygls and lsprotocol are imported.

Importing lsprotocol alone takes 0.3 s on a quiet machine and over a second on a busy one, and an
editor waits for the `initialize` answer before it shows anything. So the server reads the first
message itself, answers an `initialize` request with the capabilities pygls would compute (a test
compares the two for several clients), and only then imports the rest; pygls handles that same
`initialize` afterwards, to set up its workspace, and its answer is not sent again
(:meth:`bootlint.lsp.server.Protocol._send_response`). Anything else as a first message is left
to pygls, unanswered here. This module imports nothing but the standard library's basics.
"""

from __future__ import annotations

import json
import os
import re

from bootlint import __version__

HEADER_END = re.compile(rb"\r?\n\r?\n")
CONTENT_LENGTH = re.compile(rb"^Content-Length: *(\d+) *\r?$", re.M | re.I)
MAX_FIRST = 16 * 1024 * 1024      # an initialize larger than this is left to pygls' reader
ENCODINGS = ("utf-8", "utf-16", "utf-32")
# bootlint.lsp.server's workspace/executeCommand names: fix all (safe), fix all including the
# unsafe fixes, show the settings in effect for a file.
COMMANDS = ("bootlint.fixAll", "bootlint.fixAllUnsafe", "bootlint.showSettings")


def capabilities(client: dict) -> dict:
    """The server's capabilities for a client's, as pygls builds them from bootlint's features."""
    offered = (client.get("general") or {}).get("positionEncodings") if isinstance(client, dict) else None
    encoding = next((e for e in offered or () if e in ENCODINGS), "utf-16")
    sync: dict = {"openClose": True, "change": 2}
    told = ((client.get("textDocument") or {}).get("synchronization") or {}) if isinstance(client, dict) else {}
    for name in ("willSave", "willSaveWaitUntil"):
        if isinstance(told, dict) and told.get(name) is not None:
            sync[name] = False   # pygls says "no" to a client that asks: bootlint has no such handler
    sync["save"] = {"includeText": False}
    out = {
        "positionEncoding": encoding,
        "textDocumentSync": sync,
        "hoverProvider": True,
        "codeActionProvider": {"codeActionKinds": ["quickfix", "source.fixAll.bootlint",
                                                   "source.bootlint.fixAllUnsafe"],
                               "resolveProvider": False},
        "executeCommandProvider": {"commands": list(COMMANDS)},
        "diagnosticProvider": {"interFileDependencies": False, "workspaceDiagnostics": True,
                               "identifier": "bootlint"},
        "workspace": {"workspaceFolders": {"supported": True, "changeNotifications": True},
                      "fileOperations": {}},
    }
    if not pulls(client):
        del out["diagnosticProvider"]
    return out


def pulls(client: dict) -> bool:
    """Whether the server offers pull diagnostics to a client: only to one it can ask to pull
    again (`workspace/diagnostic/refresh`) when a setting or a file's mode changes. Neovim 0.11
    pulls but cannot be asked again: it gets pushed diagnostics, which the server can renew."""
    workspace = client.get("workspace") if isinstance(client, dict) else None
    diagnostics = workspace.get("diagnostics") if isinstance(workspace, dict) else None
    return isinstance(diagnostics, dict) and bool(diagnostics.get("refreshSupport"))


def read_first(fd: int) -> tuple[bytes, dict | None]:
    """The bytes read from ``fd`` (one whole message, perhaps with the start of the next) and the
    first message if it is an `initialize` request this module can answer (else None)."""
    data = b""
    while True:
        end = HEADER_END.search(data)
        if end is not None:
            break
        if len(data) > 64 * 1024:
            return data, None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return data, None
        data += chunk
    match = CONTENT_LENGTH.search(data[:end.start() + 1])
    if match is None or int(match.group(1)) > MAX_FIRST:
        return data, None
    stop = end.end() + int(match.group(1))
    while len(data) < stop:
        chunk = os.read(fd, max(stop - len(data), 1 << 16))
        if not chunk:
            return data, None
        data += chunk
    try:
        message = json.loads(data[end.end():stop])
    except ValueError:
        return data, None
    if not (isinstance(message, dict) and message.get("jsonrpc") == "2.0" and message.get("method") == "initialize"
            and isinstance(message.get("id"), (int, str)) and not isinstance(message.get("id"), bool)
            and isinstance(message.get("params"), dict) and isinstance(message["params"].get("capabilities"), dict)):
        return data, None
    return data, message


def answer(fd: int, message: dict) -> None:
    """Write the `initialize` answer to ``fd``."""
    body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": {
        "capabilities": capabilities(message["params"]["capabilities"]),
        "serverInfo": {"name": "bootlint", "version": __version__}}}).encode("utf-8")
    out = b"Content-Length: %d\r\n\r\n" % len(body) + body
    while out:
        out = out[os.write(fd, out):]
