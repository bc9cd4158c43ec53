"""What bootlint knows about the commands a bootstrap runs: the HTTP clients' command lines
(curl, wget, httpie: one entry each in :data:`CLIENTS`), builtins, and the usual external tools."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

# curl options that take a value (short letters and long names); the rest are switches.
CURL_SHORT_WITH_VALUE = set("AbcCdDeEFhHKmoPQrtTuUwxXyYz")
CURL_LONG_WITH_VALUE = {
    "data", "data-ascii", "data-binary", "data-raw", "data-urlencode", "json", "form",
    "form-string", "header", "dump-header", "output", "write-out", "request", "max-time",
    "connect-timeout", "user", "user-agent", "referer", "cookie", "cookie-jar", "continue-at",
    "upload-file", "config", "proxy", "range", "speed-limit", "speed-time", "time-cond", "url",
    "cacert", "capath", "cert", "key", "retry", "retry-delay", "retry-max-time", "resolve",
    "interface", "unix-socket", "abstract-unix-socket", "proxy-user", "max-filesize",
    "expect100-timeout", "keepalive-time", "local-port", "limit-rate", "oauth2-bearer",
    "output-dir", "stderr", "trace", "trace-ascii", "variable", "etag-save", "etag-compare",
    "connect-to", "happy-eyeballs-timeout-ms", "max-redirs", "dns-servers", "aws-sigv4",
}
CURL_SHORT_LONG = {
    "d": "data", "D": "dump-header", "o": "output", "w": "write-out", "X": "request",
    "m": "max-time", "H": "header", "F": "form", "T": "upload-file", "u": "user",
    "f": "fail", "s": "silent", "S": "show-error", "L": "location", "i": "include", "I": "head",
    "G": "get", "K": "config", "x": "proxy",
}
CURL_DATA_OPTIONS = {"data", "data-ascii", "data-binary", "data-raw", "data-urlencode", "json",
                     "form", "form-string", "upload-file"}

WGET_WITH_VALUE = {"O", "o", "a", "T", "t", "e", "U", "P", "output-document", "output-file",
                   "timeout", "read-timeout", "connect-timeout", "tries", "header", "post-data",
                   "post-file", "body-data", "body-file", "method", "user-agent", "execute",
                   "dns-timeout", "wait", "append-output", "directory-prefix"}

# Parameters whose value is digits only (bash's and POSIX special parameters, counters): pasted
# into JSON text between quotes they cannot break it.
NUMERIC_PARAMETERS = frozenset({"?", "$", "!", "#", "RANDOM", "SECONDS", "LINENO", "BASHPID",
                                "PPID", "UID", "EUID", "EPOCHSECONDS", "SHLVL"})

# How scripts write the temp directory `mktemp` uses (its default): a removal of everything in
# it (`rm -rf /tmp/*`, `find "$TMPDIR" -mindepth 1 -delete`) removes every temp file.
TEMP_DIRS = frozenset({"/tmp", "$TMPDIR", "${TMPDIR}", "${TMPDIR:-/tmp}", "${TMPDIR-/tmp}"})
# `find` actions that delete what it finds.
FIND_DELETES = frozenset({"-delete"})
FIND_EXECS = frozenset({"-exec", "-execdir", "-ok", "-okdir"})

SHELL_BUILTINS = {
    ".", ":", "[", "alias", "bg", "bind", "break", "builtin", "caller", "cd", "command",
    "compgen", "complete", "continue", "declare", "dirs", "disown", "echo", "enable", "eval",
    "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "help", "history", "jobs",
    "kill", "let", "local", "logout", "mapfile", "popd", "printf", "pushd", "pwd", "read",
    "readarray", "readonly", "return", "set", "shift", "shopt", "source", "suspend", "test",
    "times", "trap", "true", "type", "typeset", "ulimit", "umask", "unalias", "unset", "wait",
}
# External commands common in bootstraps; a command with any other name in a file that sources
# user code may be the user's handler function.
COMMON_COMMANDS = {
    "awk", "base64", "basename", "cat", "chmod", "cp", "curl", "cut", "date", "dirname", "env",
    "find", "grep", "egrep", "fgrep", "gzip", "head", "jq", "ls", "mkdir", "mktemp", "mv", "nc",
    "od", "python", "python3", "rm", "rmdir", "sed", "seq", "sleep", "sort", "tail", "tee",
    "timeout", "touch", "tr", "uniq", "wc", "wget", "xargs", "yq", "sha256sum", "md5sum", "stat",
    "aws", "node", "openssl", "unzip", "zip", "tar", "uname", "id", "whoami", "hostname", "ln",
    "readlink", "realpath", "logger", "iconv", "bc", "expr", "printenv", "nohup", "kill", "ps",
    "http", "busybox",
}
# Interpreters: `Rscript x.R "$EVENT"`, `bash ./handler.sh`, `python3 -m app` run a program.
INTERPRETERS = {"bash", "sh", "dash", "zsh", "ksh", "python", "python3", "pypy3", "node", "nodejs",
                "deno", "bun", "ruby", "perl", "php", "Rscript", "racket", "java", "dotnet", "lua",
                "julia", "elixir", "erl", "escript", "pwsh", "tclsh", "guile", "sbcl", "ocaml", "swift"}
# Commands that pass data through: a value piped or given through them is still the same data.
PASS_THROUGH = {"echo", "printf", "cat", "jq", "tr", "sed", "awk", "base64", "head", "tail",
                "tee", "cut", "gzip", "iconv", "yq", "xargs"}
# Builtins that assign the variables they name, and how their arguments name them: the letters
# of the options that take a value, the option whose value is a name (`printf -v NAME`, `read -a
# NAME`), and which operands are names ("all", "last", or the operand's index).
VARIABLE_SETTERS: dict[str, tuple[str, str, str | int | None]] = {
    "read": ("adinNptu", "a", "all"),
    "printf": ("v", "v", None),
    "mapfile": ("dnOsuCc", "", "last"),
    "readarray": ("dnOsuCc", "", "last"),
    "getopts": ("", "", 1),
    "let": ("", "", None),   # names come from its expressions (below)
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def assigned_names(tool: str, words: list[str | None]) -> list[tuple[int, str]]:
    """(argument index, variable name) for each variable a builtin call assigns; ``words`` are
    its arguments' static texts (None when not static). `let X=1 Y+=2` is read by expression."""
    if tool == "let":
        return [(i, m.group(0)) for i, w in enumerate(words) if w
                and (m := _NAME.match(w)) and re.match(r"\s*([-+*/%&|^]|<<|>>)?=(?!=)|\s*(\+\+|--)", w[m.end():])]
    with_value, name_option, operands = VARIABLE_SETTERS.get(tool, ("", "", None))
    found: list[tuple[int, str]] = []
    rest: list[tuple[int, str | None]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word is not None and word.startswith("-") and word != "-" and not rest:
            if word == "--":
                rest = [(j, w) for j, w in enumerate(words) if j > i]
                break
            letters = word[1:]
            for k, letter in enumerate(letters):
                if letter in with_value:
                    value_at, value = (i, letters[k + 1:]) if k + 1 < len(letters) else \
                        (i + 1, words[i + 1] if i + 1 < len(words) else None)
                    if letter == name_option and value and _NAME.fullmatch(value):
                        found.append((value_at, value))
                    i = value_at
                    break
            i += 1
            continue
        rest = [(j, w) for j, w in enumerate(words) if j >= i]
        break
    if operands == "all":
        chosen = rest
    elif operands == "last":
        chosen = rest[-1:]
    elif isinstance(operands, int):
        chosen = rest[operands:operands + 1]
    else:
        chosen = []
    found.extend((j, w) for j, w in chosen if w and _NAME.fullmatch(w))
    return found


# Commands that delete the files they are given (a temp file's clean-up).
REMOVERS = {"rm", "unlink", "rmdir", "shred"}
# Commands that run another command: `timeout 10 curl ...`, `env A=1 curl ...`.
WRAPPERS = {"timeout", "gtimeout", "env", "command", "nice", "nohup", "stdbuf", "time", "sudo"}
_WRAPPER_OPTIONS_WITH_VALUE = {"-s", "--signal", "-k", "--kill-after", "-n", "-u", "-C", "-i",
                               "-o", "-e"}


@dataclass
class Option:
    """A flag of a command line: its canonical long name, the flag's node, its value's node."""

    name: str
    flag: object
    value: object | None = None
    inline: str | None = None   # a value written into the flag's own word: -d@-, --data=@x


@dataclass
class HttpCommand:
    """A curl or wget command line, parsed."""

    tool: str
    urls: list = field(default_factory=list)          # word nodes
    options: list[Option] = field(default_factory=list)
    wrappers: list[tuple[str, object]] = field(default_factory=list)  # (name, its word node)

    def get(self, *names: str) -> list[Option]:
        return [o for o in self.options if o.name in names]

    @property
    def client(self) -> "Client":
        return CLIENTS[self.tool]

    @property
    def method(self) -> str:
        for opt in reversed(self.get("request", "method")):
            if opt.inline is not None:
                return opt.inline.upper()
            if opt.value is not None:
                return opt.value.text.decode("utf-8", "replace").strip("'\"").upper()
        if self.get(*self.client.body_options):
            return "POST"
        return "GET"


def parse_curl(args: list, literal) -> HttpCommand:
    """Parse curl's arguments (nodes); ``literal`` gives a node's static text or None."""
    cmd = HttpCommand("curl")
    i = 0
    end_of_options = False
    while i < len(args):
        node = args[i]
        text = literal(node)
        i += 1
        if text is None or end_of_options or not text.startswith("-") or text == "-":
            cmd.urls.append(node)
            continue
        if text == "--":
            end_of_options = True
            continue
        if text.startswith("--"):
            name, eq, inline = text[2:].partition("=")
            if name.startswith("no-"):
                continue
            if name in CURL_LONG_WITH_VALUE:
                if eq:
                    cmd.options.append(Option(name, node, node, inline))
                else:
                    value = args[i] if i < len(args) else None
                    i += 1
                    cmd.options.append(Option(name, node, value))
                    if name == "url" and value is not None:
                        cmd.urls.append(value)
            else:
                cmd.options.append(Option(name, node))
            continue
        # Bundled short flags: -sSLfD file, -d@-, -XPOST.
        letters = text[1:]
        for j, letter in enumerate(letters):
            name = CURL_SHORT_LONG.get(letter, letter)
            if letter in CURL_SHORT_WITH_VALUE:
                if j + 1 < len(letters):
                    cmd.options.append(Option(name, node, node, letters[j + 1:]))
                else:
                    value = args[i] if i < len(args) else None
                    i += 1
                    cmd.options.append(Option(name, node, value))
                break
            cmd.options.append(Option(name, node))
    return cmd


def parse_wget(args: list, literal) -> HttpCommand:
    """Parse wget's arguments into the same shape as curl's."""
    cmd = HttpCommand("wget")
    i = 0
    while i < len(args):
        node = args[i]
        text = literal(node)
        i += 1
        if text is None or not text.startswith("-") or text == "-":
            cmd.urls.append(node)
            continue
        name, eq, _ = text.lstrip("-").partition("=")
        if text.startswith("--") and name in WGET_WITH_VALUE and not eq:
            cmd.options.append(Option(name, node, args[i] if i < len(args) else None))
            i += 1
        elif not text.startswith("--") and len(name) >= 1:
            letter = name[0]
            if letter in WGET_WITH_VALUE:
                if len(name) > 1:
                    cmd.options.append(Option(letter, node, node))
                else:
                    cmd.options.append(Option(letter, node, args[i] if i < len(args) else None))
                    i += 1
            else:
                cmd.options.extend(Option(ch, node) for ch in name)
        else:
            cmd.options.append(Option(name, node, node if eq else None))
    return cmd


def unwrap(name_node, args: list, literal) -> tuple[str, object, list, list[tuple[str, object]]]:
    """See through wrapper commands: (tool name, its node, its arguments, [(wrapper, node)])."""
    wrappers: list[tuple[str, object]] = []
    tool = (literal(name_node) or "").rsplit("/", 1)[-1]
    while tool in WRAPPERS and args:
        wrappers.append((tool, name_node))
        i = 0
        while i < len(args):
            text = literal(args[i]) or ""
            if text in _WRAPPER_OPTIONS_WITH_VALUE:
                i += 2
            elif text.startswith("-") or (tool == "env" and "=" in text):
                i += 1
            else:
                break
        if tool in ("timeout", "gtimeout") and i < len(args):
            i += 1  # the duration
        if i >= len(args):
            return "", None, [], wrappers
        name_node, args = args[i], args[i + 1:]
        tool = (literal(name_node) or "").rsplit("/", 1)[-1]
    return tool, name_node, args, wrappers


# httpie: `http [flags] [METHOD] URL [ITEM ...]`; flags that take a value.
HTTPIE_WITH_VALUE = {"timeout", "output", "print", "auth", "auth-type", "session",
                     "session-read-only", "raw", "verify", "cert", "cert-key", "style",
                     "format-options", "max-redirects", "boundary", "proxy", "ssl", "ciphers",
                     "default-scheme", "response-charset", "response-mime", "max-headers"}
HTTPIE_SHORT_WITH_VALUE = {"o": "output", "p": "print", "a": "auth", "A": "auth-type", "s": "style"}
HTTPIE_SHORT = {"j": "json", "f": "form", "v": "verbose", "h": "headers", "b": "body",
                "d": "download", "c": "continue", "F": "follow", "I": "ignore-stdin",
                "q": "quiet", "S": "stream", "x": "compress", "m": "multipart"}
HTTP_VERBS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def _httpie_item(text: str) -> str:
    """What a request item is, by its first separator: data (`k=v`, `k:=json`, `k=@file`,
    `k@file`), header (`Name:value`), query (`k==v`)."""
    best, kind = len(text) + 1, ""
    for sep, what in ((":=@", "data"), ("=@", "data"), (":=", "data"), ("==", "query"),
                      ("=", "data"), ("@", "data"), (":", "header")):
        at = text.find(sep)
        if 0 <= at < best or (at == best and len(sep) > 1):
            if 0 <= at < best:
                best, kind = at, what
    return kind


def parse_httpie(args: list, literal, stdin: bool = False) -> HttpCommand:
    """Parse httpie's arguments: flags anywhere before the URL, an optional METHOD, the URL, then
    request items; data items (or a body on stdin, or --raw) make it a POST by default."""
    cmd = HttpCommand("http")
    positional: list = []
    i = 0
    while i < len(args):
        node = args[i]
        text = literal(node)
        i += 1
        if text is not None and text.startswith("--") and len(text) > 2:
            name, eq, inline = text[2:].partition("=")
            if name in HTTPIE_WITH_VALUE and not eq:
                cmd.options.append(Option(name, node, args[i] if i < len(args) else None))
                i += 1
            else:
                cmd.options.append(Option(name, node, node if eq else None, inline if eq else None))
            continue
        if text is not None and text.startswith("-") and len(text) > 1 and not positional:
            letters = text[1:]
            for j, letter in enumerate(letters):
                if letter in HTTPIE_SHORT_WITH_VALUE:
                    name = HTTPIE_SHORT_WITH_VALUE[letter]
                    if j + 1 < len(letters):
                        cmd.options.append(Option(name, node, node, letters[j + 1:]))
                    else:
                        cmd.options.append(Option(name, node, args[i] if i < len(args) else None))
                        i += 1
                    break
                cmd.options.append(Option(HTTPIE_SHORT.get(letter, letter), node))
            continue
        positional.append(node)
    if len(positional) >= 2:
        verb = literal(positional[0])
        if verb is not None and verb.upper() in HTTP_VERBS:
            cmd.options.append(Option("method", positional[0], None, verb.upper()))
            positional = positional[1:]
    if positional:
        cmd.urls.append(positional[0])
    for node in positional[1:]:
        text = literal(node) or node.text.decode("utf-8", "replace")
        kind = _httpie_item(text)
        if kind == "data":
            cmd.options.append(Option("item", node, node))
        elif kind == "header":
            cmd.options.append(Option("header", node, node))
    if stdin and not cmd.get("ignore-stdin"):
        cmd.options.append(Option("stdin", cmd.urls[0] if cmd.urls else args[0] if args else None))
    return cmd


def _parse_wget(args: list, literal, stdin: bool = False) -> HttpCommand:
    return parse_wget(args, literal)


def _parse_curl(args: list, literal, stdin: bool = False) -> HttpCommand:
    return parse_curl(args, literal)


@dataclass(frozen=True)
class Client:
    """How one HTTP client takes a request on its command line. Adding a client is one entry
    of :data:`CLIENTS`."""

    parse: Callable[..., HttpCommand]      # (args, literal, stdin) -> HttpCommand
    timeouts: frozenset[str]               # options that put a read timeout on the request
    fail_options: frozenset[str]           # options that make an HTTP error status fail it
    fails_on_status: bool                  # exits non-zero on an HTTP error by itself
    body_options: frozenset[str]           # options whose value (or presence) is a body: POST
    raw_body_options: frozenset[str]       # of those, the ones whose value is the body's bytes
    stripping: frozenset[str]              # body options that read @file with CR and LF removed
    output_options: frozenset[str]         # options that write the response (or its headers) to a file
    status_writers: frozenset[str] = frozenset()  # options that can print the status code
    file_options: frozenset[str] = frozenset()    # body options whose `@name` reads a file (`@-`: stdin)


CLIENTS: dict[str, Client] = {
    "curl": Client(
        parse=_parse_curl,
        timeouts=frozenset({"max-time", "m"}),
        fail_options=frozenset({"fail", "f", "fail-with-body", "fail-early"}),
        fails_on_status=False,
        body_options=frozenset(CURL_DATA_OPTIONS),
        raw_body_options=frozenset({"data", "data-ascii", "data-binary", "data-raw", "data-urlencode", "json"}),
        stripping=frozenset({"data", "data-ascii"}),
        output_options=frozenset({"dump-header", "output", "D", "o"}),
        status_writers=frozenset({"write-out", "w"}),
        # --data-raw sends a leading @ as it is.
        file_options=frozenset({"data", "data-ascii", "data-binary", "data-urlencode", "json"}),
    ),
    "wget": Client(
        parse=_parse_wget,
        timeouts=frozenset({"T", "timeout", "read-timeout"}),
        fail_options=frozenset(),
        fails_on_status=True,   # wget exits 8 on an HTTP error status
        body_options=frozenset({"post-data", "post-file", "body-data", "body-file"}),
        raw_body_options=frozenset({"post-data", "body-data"}),
        stripping=frozenset(),
        output_options=frozenset({"O", "output-document"}),
    ),
    "http": Client(
        parse=parse_httpie,
        timeouts=frozenset({"timeout"}),
        fail_options=frozenset({"check-status"}),
        fails_on_status=False,
        body_options=frozenset({"item", "raw", "stdin"}),
        raw_body_options=frozenset({"item", "raw"}),
        stripping=frozenset(),
        output_options=frozenset({"output"}),
    ),
}
CLIENTS["https"] = CLIENTS["http"]
HTTP_CLIENTS = frozenset(CLIENTS)
