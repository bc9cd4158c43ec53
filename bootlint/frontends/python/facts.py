"""What the Python bootstrap's requests say: the endpoint each request call reaches, which names
hold what `next` returned (and which of them the event), and the facts about a request that rules
read (timeouts, failure detection, the error body's shape, a written-out host)."""

from __future__ import annotations

import libcst as cst

from bootlint.analysis.error_body import error_body_problem
from bootlint.analysis.urls import classify
from bootlint.frontends.python.clients import Clients, Library, Origin, keyword
from bootlint.frontends.python.index import Index, dotted, kids, names_in, subscript_key, walk
from bootlint.frontends.python.values import MAX_DEPTH, Values
from bootlint.model import ERROR_ENDPOINTS, Endpoint, Fact, Facts, Piece

PASS_THROUGH = {"dumps", "type", "loads", "encode", "decode", "str", "bytes", "dict", "list", "bytearray",
                "format", "join", "strip", "get", "items", "len", "int", "float", "repr", "read",
                "Request", "urlopen", "post", "put", "request", "json", "getheader", "getheaders",
                "info", "getcode", "geturl", "getresponse", "lower", "split"}


class Requests:
    """The endpoints of the file's request calls, and the values of `next`."""

    def __init__(self, index: Index, values: Values, clients: Clients) -> None:
        self.index = index
        self.values = values
        self.clients = clients
        self.fetchers: set[int] = set()   # calls of the file's helpers that request `next`
        self._endpoint_cache: dict[int, set[Endpoint]] = {}

    def endpoints(self, call: cst.Call) -> set[Endpoint]:
        """The endpoints a call requests (empty for a call that is not a request)."""
        cached = self._endpoint_cache.get(id(call))
        if cached is None:
            cached = self._endpoint_cache[id(call)] = self._find_endpoints(call)
        return cached

    def _find_endpoints(self, call: cst.Call) -> set[Endpoint]:
        last = self.clients.request_call(call)
        if last is None:
            return set()
        alts, _, _ = self.clients.readings(call, last)
        return {info.endpoint for alt in alts if (info := classify(alt)) is not None}

    def _mentions_headers(self, node) -> bool:
        stack = [node]
        while stack:
            cur = stack.pop()
            if isinstance(cur, (cst.Name, cst.Attribute)) and "header" in dotted(cur).lower():
                return True
            if isinstance(cur, cst.SimpleString) and "header" in cur.value.lower():
                return True
            stack.extend(kids(cur))
        return False

    def _fetches(self, call: cst.Call, fetching: set) -> bool:
        """A call of a helper that requests `next` (directly, or at this call site)."""
        return id(call) in self.fetchers or \
            dotted(call.func).removeprefix("self.") in fetching

    def event_names(self, next_names: set[str]) -> set[str]:
        """Of the names holding what `next` returned, those that hold its body (the event), not
        a header such as the request id."""
        events = set()
        for name in next_names:
            values = self.index.assignments.get(name, [])
            if values and not any(self._mentions_headers(v) for v in values):
                events.add(name)
        return events

    def next_names(self, handlers: set[int]) -> set[str]:
        """Names bound to what the `next` request returned, and to values computed from them
        (not the handler's result, which is about the handler)."""
        names: set[str] = set()
        # The file's functions that request `next` themselves: what a call of one returns
        # (`got = fetch()`, `rid, event = next_event()`) is what `next` gave.
        fetching = {self.index.scope.get(id(c)) for c in self.index.calls if Endpoint.NEXT in self.endpoints(c)} - {None}
        # http.client: conn.request("GET", ".../next") then resp = conn.getresponse().
        connections = {name for call in self.index.calls if Endpoint.NEXT in self.endpoints(call)
                       and isinstance(call.func, cst.Attribute) for name in self.index.names(call.func.value)}
        for name, values in self.index.assignments.items():
            for value in values:
                calls = self.index.calls_in(value)
                if any(Endpoint.NEXT in self.endpoints(c) or self._fetches(c, fetching) for c in calls) or any(
                        isinstance(c.func, cst.Attribute) and c.func.attr.value == "getresponse"
                        and self.index.names(c.func.value) & connections for c in calls):
                    names.add(name)
        for _ in range(MAX_DEPTH):
            grown = {n for n, values in self.index.assignments.items()
                     if any(self.index.names(v) & names and all(
                         id(c) not in handlers and dotted(c.func).rsplit(".", 1)[-1] in PASS_THROUGH
                         for c in self.index.calls_in(v)) for v in values)}
            if grown <= names:
                break
            names |= grown
        return names



STATUS_ATTRIBUTES = {"raise_for_status", "status_code", "ok", "status", "getcode", "code"}
STRING_TRACES = {"format_exc", "str", "repr"}


class PythonRequestFacts:
    """Facts for the HTTP calls of one module; file-wide facts are found once."""

    def __init__(self, index: Index, values: Values, clients: Clients, span) -> None:
        self.values = values
        self.index = index
        self.clients = clients
        self.span = span
        self.default_timeout: Fact | None = None
        self.status_roots: set[str] = set()
        for call in index.calls:
            if dotted(call.func) in ("socket.setdefaulttimeout", "setdefaulttimeout") and call.args \
                    and not _is_none(call.args[0].value):
                self.default_timeout = Fact(span(call), "socket.setdefaulttimeout()")
        for attribute in index.attributes:
            if attribute.attr.value in STATUS_ATTRIBUTES:
                self.status_roots |= index.names(attribute.value)
        # resp = conn.getresponse(); resp.status: the check covers the connection too.
        for _ in range(3):
            for name, assigned in index.assignments.items():
                if name in self.status_roots:
                    for value in assigned:
                        self.status_roots |= names_in(value)

    def facts(self, call: cst.Call, method_name: str, endpoint: Endpoint, targets) -> dict[str, Fact]:
        out: dict[str, Fact] = {}
        if endpoint is Endpoint.NEXT:
            timeout = self._timeout(call)
            if timeout is not None:
                out[Facts.TIMEOUT] = timeout
            if method_name == "urlopen" or set(targets) & self.status_roots or self._receiver_checked(call):
                out[Facts.FAILURE_CHECKED] = Fact(self.span(call))
        if endpoint in ERROR_ENDPOINTS:
            problem, node = self._error_body(call)
            if problem:
                out[Facts.BODY_MALFORMED] = Fact(self.span(node), problem)
        host = self._connection_host(call)
        if host is not None:
            out[Facts.LITERAL_HOST] = host
        return out

    def _timeout(self, call: cst.Call) -> Fact | None:
        """The read timeout a request is made with: its own `timeout=`, else what the object it is
        made through carries (its constructor's `timeout=`, a subclass's `request` or a mounted
        adapter's `send` that fills it in, the library's own default), else
        socket.setdefaulttimeout()."""
        origin = self.clients.receiver(call)
        library = origin.library if origin is not None else None
        own = keyword(call, "timeout")
        if library is None and isinstance(own, cst.Call):
            # `timeout=aiohttp.ClientTimeout(...)`: the value says whose client the call is made on.
            library = self.clients.timeout_library(own)
        if own is not None:
            if self._no_read_timeout(own):
                return None   # timeout=None on the call: none, whatever the client's default
            return self._at(own, "timeout=", library)
        connection = self._connection(call)
        if connection is not None:
            for arg in connection.args:
                if arg.keyword is not None and arg.keyword.value == "timeout" and not _is_none(arg.value):
                    return Fact(self.span(arg), "timeout= on the connection")
        if origin is not None:
            found, decided = self._object_timeout(origin, call)
            if decided:
                return found
        return self.default_timeout

    def _object_timeout(self, origin: Origin, call: cst.Call) -> tuple[Fact | None, bool]:
        """(the timeout the object carries, whether it decides one way or the other)."""
        library = origin.library
        if origin.constructor is not None:
            given = keyword(origin.constructor, library.timeout)
            if given is not None and not (_is_none(given) and library.none_on_client):
                if self._no_read_timeout(given):
                    return None, True
                return self._at(given, f"timeout= on the {library.module} client", library), True
        if origin.cls is not None:
            override = self.clients.override(origin.cls, "request")
            if override is not None:
                filled = _fills_timeout(override[0])
                if filled is not None:
                    return Fact(self.span(filled), f"the timeout `{origin.cls}.request` fills in"), True
        adapter = self._mounted_adapter(origin)
        if adapter is not None:
            return adapter, True
        if library.default_timeout and (origin.constructor is not None or library.module_calls):
            where = origin.constructor if origin.constructor is not None else call.func
            return Fact(self.span(where), library.default_timeout), True
        return None, False

    def _mounted_adapter(self, origin: Origin) -> Fact | None:
        """A requests adapter of the file, mounted on this session, whose `send` fills in a
        timeout for every request (the "timeout adapter" idiom)."""
        for call in self.index.calls:
            if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "mount" and len(call.args) >= 2):
                continue
            mounted_on = self.clients.origin(call.func.value)
            if mounted_on is None or not _same_object(mounted_on, origin):
                continue
            adapter = call.args[1].value
            cls = dotted(adapter.func) if isinstance(adapter, cst.Call) else self.index.instance_class(adapter)
            if cls not in self.index.class_names:
                continue
            send = self.index.method(cls, "send")
            filled = _fills_timeout(send) if send is not None else None
            if filled is not None:
                return Fact(self.span(filled), f"the timeout the mounted adapter `{cls}` fills in")
        return None

    def _at(self, value, detail: str, library: Library | None) -> Fact:
        """A timeout fact on the argument that gives it; on its value where removing the argument
        would leave the library's own default (httpx, aiohttp), which is no fix."""
        parent = next((a for a in self._args_of(value) if a.value is value), None)
        if parent is not None and not (library is not None and library.default_timeout):
            return Fact(self.span(parent), detail)
        return Fact(self.span(value), detail)

    def _args_of(self, value) -> list:
        for call in self.index.calls:
            if any(a.value is value for a in call.args):
                return list(call.args)
        return []

    def _no_read_timeout(self, node, depth: int = 0) -> bool:
        """timeout=None, requests' (connect, None), a Timeout object that bounds no read
        (httpx.Timeout(None), httpx.Timeout(5, read=None), urllib3.Timeout(connect=2),
        aiohttp.ClientTimeout(sock_connect=5)), or a name only ever bound to one of these."""
        if _no_read_timeout(node):
            return True
        if isinstance(node, cst.Name) and depth < 4:
            values = self.index.assignments.get(node.value, ())
            return bool(values) and all(self._no_read_timeout(v, depth + 1) for v in values)
        if not isinstance(node, cst.Call):
            return False
        library = self.clients.timeout_library(node)
        if library is None:
            return False
        positional = [a.value for a in node.args if a.keyword is None]
        fields = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        first, last = library.read_fields
        if positional:
            fields.setdefault(first, positional[0])
        if library.module == "httpx":
            # `read` overrides the default given first.
            read = fields.get(last, fields.get(first))
            return read is not None and _is_none(read)
        return all(fields.get(f) is None or _is_none(fields[f]) for f in library.read_fields)

    def _receiver_checked(self, call: cst.Call) -> bool:
        """conn.request(...) then conn.getresponse().status: a check on the connection's names."""
        return isinstance(call.func, cst.Attribute) and bool(names_in(call.func.value) & self.status_roots)

    def _connection(self, call: cst.Call) -> cst.Call | None:
        """The http.client.HTTPConnection(...) a `conn.request(...)` is made on."""
        if not isinstance(call.func, cst.Attribute) or call.func.attr.value != "request":
            return None
        receiver = call.func.value
        candidates = [receiver] if isinstance(receiver, cst.Call) else []
        if isinstance(receiver, cst.Name):
            candidates = self.values.index.assignments.get(receiver.value, [])
        for value in candidates:
            if isinstance(value, cst.Call) and dotted(value.func).rsplit(".", 1)[-1] in (
                    "HTTPConnection", "HTTPSConnection"):
                return value
        return None

    def _connection_host(self, call: cst.Call) -> Fact | None:
        connection = self._connection(call)
        if connection is None or not connection.args:
            return None
        host = connection.args[0].value
        alts = self.values.evaluate(host)
        if alts and all(p.is_literal for a in alts for p in a):
            return Fact(self.span(host), "".join(p.text for p in alts[0]))
        return None

    def _error_body(self, call: cst.Call) -> tuple[str, cst.CSTNode | None]:
        for body in self.clients.payload(call):
            problem = self._body_problem(body, 0)
            if problem:
                return problem, body
        return "", None

    def _body_problem(self, node, depth: int) -> str:
        if node is None or depth > 4:
            return ""
        if isinstance(node, cst.Call):
            last = node.func.attr.value if isinstance(node.func, cst.Attribute) else dotted(node.func)
            if last == "encode" and isinstance(node.func, cst.Attribute):
                return self._body_problem(node.func.value, depth + 1)
            if last in ("dumps",) and node.args:
                return self._dict_problem(node.args[0].value, depth)
            if last in ("str", "repr", "format_exc"):
                return "is plain text, not the error JSON"
            return ""
        if isinstance(node, cst.Dict):
            return self._dict_problem(node, depth)
        if isinstance(node, cst.Name):
            values = self.values.index.assignments.get(node.value, [])
            problems = [self._body_problem(v, depth + 1) for v in values]
            return problems[0] if problems and all(problems) else ""
        if isinstance(node, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString, cst.BinaryOperation)):
            alts = self.values.evaluate(node)
            if len(alts) == 1:
                pieces: tuple[Piece, ...] = alts[0]
                return error_body_problem(pieces).replace("a shell value", "a value")
        return ""

    def _dict_problem(self, node, depth: int) -> str:
        if isinstance(node, cst.Name):
            values = self.values.index.assignments.get(node.value, [])
            return self._dict_problem(values[0], depth + 1) if len(values) == 1 and depth < 4 else ""
        if not isinstance(node, cst.Dict):
            return ""
        keys = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return ""  # **spread: cannot be known
            key = self.values.literal(element.key)
            if key is None:
                return ""
            keys[key] = element.value
        missing = [k for k in ("errorMessage", "errorType") if k not in keys]
        if missing:
            return f"has no {' or '.join(missing)}"
        trace = keys.get("stackTrace")
        if trace is not None:
            if isinstance(trace, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
                return "has stackTrace as a string, not an array of strings"
            if isinstance(trace, cst.Call) and dotted(trace.func).rsplit(".", 1)[-1] in STRING_TRACES:
                return "has stackTrace as a string (traceback.format_exc()), not an array of strings"
        return ""


def _same_object(one: Origin, other: Origin) -> bool:
    """Are two origins the same object (made by the same call, or both `self` / objects of the
    file's one subclass)?"""
    if one.constructor is not None and one.constructor is other.constructor:
        return True
    return one.cls is not None and one.cls == other.cls and (one.constructor is None or other.constructor is None)


def _fills_timeout(method: cst.FunctionDef):
    """The value a method fills the `timeout` keyword in with before passing the request on
    (`kwargs["timeout"] = 10`, `kwargs.setdefault("timeout", self.timeout)`,
    `super().send(request, timeout=10, ...)`); None when it sets none (or sets None)."""
    for node in walk(method.body):
        value = None
        if isinstance(node, cst.Assign):
            for target in node.targets:
                t = target.target
                if isinstance(t, cst.Subscript) and isinstance(subscript_key(t), cst.SimpleString) and \
                        subscript_key(t).evaluated_value == "timeout":
                    value = node.value
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if node.func.attr.value == "setdefault" and len(node.args) == 2 and \
                    isinstance(node.args[0].value, cst.SimpleString) and node.args[0].value.evaluated_value == "timeout":
                value = node.args[1].value
            elif node.func.attr.value in ("send", "request"):
                value = keyword(node, "timeout")
        if value is not None and not _no_read_timeout(value):
            return value
    return None


def _is_none(node) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _no_read_timeout(node) -> bool:
    """timeout=None, or requests' (connect, None): no limit on the long poll."""
    if _is_none(node):
        return True
    if isinstance(node, cst.Tuple) and len(node.elements) == 2:
        return _is_none(node.elements[1].value)
    return False
