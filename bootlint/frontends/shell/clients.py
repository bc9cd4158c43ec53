"""The HTTP clients a bootstrap runs, as data: how each one's command line names a URL, a body,
a timeout, an output file (curl, wget, httpie: one entry each in :data:`CLIENTS`), and the
parser that reads a command line into an :class:`HttpCommand`."""

from __future__ import annotations

from dataclasses import field
from typing import Callable
from bootlint.util.records import dataclass

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
    wrappers: list[tuple[str, object, object]] = field(default_factory=list)  # (name, its node, timeout's duration)

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


def written_option(node, text: str | None) -> str | None:
    """The static text of an argument, or for `--name="$VALUE"` (an option written with `=` whose
    value is not static) its `--name=` part: enough to tell which option it is."""
    if text is not None:
        return text
    raw = node.text.decode("utf-8", "replace")
    head, eq, _ = raw.partition("=")
    if raw.startswith("--") and eq and head[2:].replace("-", "").isalnum():
        return head + "="
    return None


def parse_wget(args: list, literal) -> HttpCommand:
    """Parse wget's arguments into the same shape as curl's (`--name=value` is one option, its
    value in the same word: ``inline`` when static)."""
    cmd = HttpCommand("wget")
    i = 0
    while i < len(args):
        node = args[i]
        static = literal(node)
        text = written_option(node, static)
        i += 1
        if text is None or not text.startswith("-") or text == "-":
            cmd.urls.append(node)
            continue
        name, eq, value = text.lstrip("-").partition("=")
        if text.startswith("--") and name in WGET_WITH_VALUE and not eq:
            cmd.options.append(Option(name, node, args[i] if i < len(args) else None))
            i += 1
        elif not text.startswith("--") and len(name) >= 1:
            letter = name[0]
            if letter in WGET_WITH_VALUE:
                if len(name) > 1:
                    cmd.options.append(Option(letter, node, node, name[1:]))
                else:
                    cmd.options.append(Option(letter, node, args[i] if i < len(args) else None))
                    i += 1
            else:
                cmd.options.extend(Option(ch, node) for ch in name)
        else:
            cmd.options.append(Option(name, node, node if eq else None,
                                      value if eq and static is not None else None))
    return cmd


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
        option = written_option(node, text)
        if option is not None and option.startswith("--") and len(option) > 2:
            name, eq, inline = option[2:].partition("=")
            if name in HTTPIE_WITH_VALUE and not eq:
                cmd.options.append(Option(name, node, args[i] if i < len(args) else None))
                i += 1
            else:
                cmd.options.append(Option(name, node, node if eq else None,
                                          inline if eq and text is not None else None))
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
    # Options that put the response's headers where the body goes (curl -i), or on stderr (wget -S).
    headers_in_body: frozenset[str] = frozenset()
    headers_on_stderr: frozenset[str] = frozenset()
    # A timeout of zero seconds turns the timeout off (curl -m 0, wget -T 0, http --timeout=0).
    zero_means_no_timeout: bool = True
    # For BL302: what else goes wrong with a body on the command line, and how to send it instead.
    argv_body_note: str = ""
    argv_body_advice: str = ""


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
        headers_in_body=frozenset({"include", "i"}),
        argv_body_note=" and curl reads a leading @ as a file name",
        argv_body_advice="pipe it: `printf '%s' \"$RESPONSE\" | curl --data-binary @- ...`",
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
        headers_on_stderr=frozenset({"S", "server-response"}),
        argv_body_advice="write it to a file and send that: `--post-file=\"$FILE\"` (`--body-file` "
                         "with `--method`)",
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
        headers_in_body=frozenset({"print", "p", "all", "verbose", "v", "headers", "h"}),
        argv_body_advice="pipe it: `printf '%s' \"$RESPONSE\" | http POST ...` (httpie sends its "
                         "standard input as the body)",
    ),
}
CLIENTS["https"] = CLIENTS["http"]
HTTP_CLIENTS = frozenset(CLIENTS)
