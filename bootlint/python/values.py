"""Static values in a Python bootstrap: URLs built from constants, f-strings, `+`, `%` and
`.format`; which call is the handler; which names hold what `next` returned."""

from __future__ import annotations

import dataclasses
import sys

import libcst as cst

from bootlint.model import Endpoint, Piece
from bootlint.urls import classify

MAX_ALTERNATIVES = 16
MAX_DEPTH = 6
PASS_THROUGH = {"dumps", "loads", "encode", "decode", "str", "bytes", "dict", "list", "bytearray",
                "format", "join", "strip", "get", "items", "len", "int", "float", "repr", "read",
                "Request", "urlopen", "post", "put", "request", "json", "getheader", "getheaders",
                "info", "getcode", "geturl", "getresponse", "lower", "split"}
KNOWN_LIBRARIES = set(getattr(sys, "stdlib_module_names", ())) | {
    "requests", "urllib3", "boto3", "botocore", "httpx", "aiohttp", "simplejson", "orjson", "ujson"}


_FIELDS: dict[type, tuple[str, ...]] = {}


def kids(node) -> list:
    """A node's child nodes, read from its dataclass fields.

    libcst's own ``node.children`` re-runs its visitor machinery on every call (about 20 µs a
    node); the fields give the same nodes, in source order for the parts bootlint reads.
    """
    names = _FIELDS.get(type(node))
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(node))
        _FIELDS[type(node)] = names
    out = []
    for name in names:
        value = getattr(node, name)
        kind = type(value)
        if kind in (list, tuple):
            out.extend(v for v in value if _is_node(type(v)))
        elif _is_node(kind):
            out.append(value)
    return out


_NODE_TYPES: dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    """issubclass(kind, CSTNode), remembered per type (CSTNode is an ABC: checks are slow)."""
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = issubclass(kind, cst.CSTNode)
    return known


def dotted(node) -> str:
    """`a.b.c` for a Name/Attribute chain (calls and subscripts are left out), else ''."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    if isinstance(node, cst.Call):
        inner = dotted(node.func)
        return ".".join([inner, *reversed(parts)]) if inner else ""
    return ""


def names_in(node) -> set[str]:
    """Every Name in an expression (the roots of attributes included)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, cst.Name):
            found.add(cur.value)
        elif isinstance(cur, cst.Attribute):
            stack.append(cur.value)
            continue
        if cur is not None:
            stack.extend(kids(cur))
    return found


class Values:
    """Assignments of the whole file, and evaluation against them."""

    def __init__(self, module: cst.Module, span) -> None:
        self.span = span
        self.assignments: dict[str, list] = {}
        self.function_names: set[str] = set()
        self.function_defs: dict[str, cst.FunctionDef] = {}
        self.imported_from: dict[str, str] = {}   # local name -> module, for `from m import f`
        self.calls: list[cst.Call] = []
        self.attributes: list[cst.Attribute] = []
        self._endpoint_cache: dict[int, set[Endpoint]] = {}
        self._names_cache: dict[int, set[str]] = {}
        self._calls_cache: dict[int, list] = {}
        self._index(module)

    def _index(self, module: cst.Module) -> None:
        stack: list = [module]
        while stack:
            cur = stack.pop()
            if isinstance(cur, cst.Assign):
                for target in cur.targets:
                    self._assign(target.target, cur.value)
            elif isinstance(cur, (cst.AnnAssign,)) and cur.value is not None:
                self._assign(cur.target, cur.value)
            elif isinstance(cur, cst.FunctionDef):
                self.function_names.add(cur.name.value)
                self.function_defs.setdefault(cur.name.value, cur)
            elif isinstance(cur, cst.ImportFrom) and cur.module is not None and not isinstance(cur.names, cst.ImportStar):
                for alias in cur.names:
                    local = alias.asname.name if alias.asname else alias.name
                    if isinstance(local, cst.Name):
                        self.imported_from[local.value] = dotted(cur.module)
            elif isinstance(cur, cst.Call):
                self.calls.append(cur)
            elif isinstance(cur, cst.Attribute):
                self.attributes.append(cur)
            elif isinstance(cur, cst.WithItem) and cur.asname is not None:
                for name in names_in(cur.asname.name):
                    self.assignments.setdefault(name, []).append(cur.item)
            stack.extend(reversed(kids(cur)))

    def _assign(self, target, value) -> None:
        if isinstance(target, cst.Name):
            self.assignments.setdefault(target.value, []).append(value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                if isinstance(element.value, cst.Name):
                    self.assignments.setdefault(element.value.value, []).append(value)

    @staticmethod
    def code(node) -> str:
        """The source text of a node."""
        return _code(node)

    # -- literals ----------------------------------------------------------------------------
    def literal(self, node) -> str | None:
        alts = self.evaluate(node)
        if len(alts) == 1 and all(p.is_literal for p in alts[0]):
            return "".join(p.text for p in alts[0])
        return None

    def truthy_constant(self, node) -> bool:
        if isinstance(node, cst.Name) and node.value == "True":
            return True
        if isinstance(node, cst.Integer):
            return node.evaluated_value != 0
        if isinstance(node, cst.SimpleString):
            return bool(node.evaluated_value)
        return False

    def kwarg_false(self, call: cst.Call, name: str) -> bool:
        return any(a.keyword is not None and a.keyword.value == name and
                   isinstance(a.value, cst.Name) and a.value.value == "False" for a in call.args)

    def dict_keys(self, call: cst.Call) -> list[str]:
        keys = []
        for arg in call.args:
            if isinstance(arg.value, cst.Dict):
                for element in arg.value.elements:
                    if isinstance(element, cst.DictElement):
                        key = self.literal(element.key)
                        if key:
                            keys.append(key)
            elif arg.keyword is not None:
                keys.append(arg.keyword.value)
        return keys

    # -- evaluation --------------------------------------------------------------------------
    def evaluate(self, node, depth: int = 0) -> list[tuple[Piece, ...]]:
        """Every way the expression can read, as pieces of literal text and run-time values."""
        if depth > MAX_DEPTH:
            return [(Piece(var="...", span=self.span(node)),)]
        if isinstance(node, cst.SimpleString):
            try:
                text = node.evaluated_value
            except Exception:
                text = None
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            if isinstance(text, str):
                return [(Piece(text=text, span=self._inner(node, len(node.prefix) + len(node.quote))),)]
        if isinstance(node, cst.FormattedString):
            alts: list[tuple[Piece, ...]] = [()]
            for part in node.parts:
                if isinstance(part, cst.FormattedStringText):
                    piece = [(Piece(text=part.value, span=self.span(part)),)]
                else:
                    piece = self.evaluate(part.expression, depth + 1)
                alts = [a + p for a in alts for p in piece][:MAX_ALTERNATIVES]
            return alts
        if isinstance(node, cst.ConcatenatedString):
            return self._concat([node.left, node.right], depth)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            return self._concat([node.left, node.right], depth)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
            return self._percent(node, depth)
        if isinstance(node, cst.IfExp):
            return (self.evaluate(node.body, depth + 1) + self.evaluate(node.orelse, depth + 1))[:MAX_ALTERNATIVES]
        if isinstance(node, cst.Name):
            return self._resolve(node, depth)
        if isinstance(node, cst.Call):
            env = self._environ_get(node)
            if env is not None:
                return env
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
                return self._format(node, depth)
        if isinstance(node, cst.Subscript) and dotted(node.value) in ("os.environ", "environ") and node.slice:
            key = self.literal(node.slice[0].slice.value)
            return [(Piece(var=key or "os.environ[...]", span=self.span(node)),)]
        return [(Piece(var=_describe(node), span=self.span(node)),)]

    def _inner(self, node, skip: int):
        span = self.span(node)
        if span.line == span.end_line:
            return type(span)(span.line, span.column + skip, span.end_line, span.end_column - len(node.quote))
        return span

    def _concat(self, parts, depth: int) -> list[tuple[Piece, ...]]:
        alts: list[tuple[Piece, ...]] = [()]
        for part in parts:
            alts = [a + p for a in alts for p in self.evaluate(part, depth + 1)][:MAX_ALTERNATIVES]
        return alts

    def _percent(self, node: cst.BinaryOperation, depth: int) -> list[tuple[Piece, ...]]:
        fmt = self.literal(node.left)
        if fmt is None:
            return [(Piece(var=_describe(node), span=self.span(node)),)]
        args = [e.value for e in node.right.elements] if isinstance(node.right, cst.Tuple) else [node.right]
        chunks = fmt.replace("%d", "%s").split("%s")
        return self._interleave(chunks, args, depth)

    def _format(self, node: cst.Call, depth: int) -> list[tuple[Piece, ...]]:
        fmt = self.literal(node.func.value)
        if fmt is None:
            return [(Piece(var=_describe(node), span=self.span(node)),)]
        import re

        positional = [a.value for a in node.args if a.keyword is None]
        named = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        fields = re.split(r"\{([^{}]*)\}", fmt)
        chunks, args, auto = [], [], 0
        for i, piece in enumerate(fields):
            if i % 2 == 0:
                chunks.append(piece)
                continue
            key = piece.split(":")[0].split("!")[0]
            if key == "":
                args.append(positional[auto] if auto < len(positional) else None)
                auto += 1
            elif key.isdigit():
                args.append(positional[int(key)] if int(key) < len(positional) else None)
            else:
                args.append(named.get(key))
        return self._interleave(chunks, args, depth)

    def _interleave(self, chunks: list[str], args: list, depth: int) -> list[tuple[Piece, ...]]:
        alts: list[tuple[Piece, ...]] = [()]
        for i, chunk in enumerate(chunks):
            if chunk:
                alts = [a + (Piece(text=chunk),) for a in alts]
            if i < len(chunks) - 1:
                arg = args[i] if i < len(args) else None
                part = self.evaluate(arg, depth + 1) if arg is not None else [(Piece(var="?"),)]
                alts = [a + p for a in alts for p in part][:MAX_ALTERNATIVES]
        return alts

    def _environ_get(self, node: cst.Call) -> list[tuple[Piece, ...]] | None:
        name = dotted(node.func)
        if name not in ("os.environ.get", "os.getenv", "environ.get", "getenv") or not node.args:
            return None
        key = self.literal(node.args[0].value) or "?"
        default = self.literal(node.args[1].value) if len(node.args) > 1 else None
        return [(Piece(var=key, default=default, span=self.span(node)),)]

    def _resolve(self, node: cst.Name, depth: int) -> list[tuple[Piece, ...]]:
        unknown = [(Piece(var=node.value, span=self.span(node)),)]
        values = self.assignments.get(node.value)
        if not values:
            return unknown
        alts: dict[tuple[Piece, ...], None] = {}
        for value in values:
            for alt in self.evaluate(value, depth + 1):
                alts.setdefault(alt, None)
        if not any(p.is_literal and p.text for a in alts for p in a):
            return unknown
        return list(alts)[:MAX_ALTERNATIVES]

    # -- requests ----------------------------------------------------------------------------
    def request_target(self, call: cst.Call, method_name: str):
        """(URL expression, HTTP method) of an HTTP call, following urlopen(Request(...))."""
        positional = [a.value for a in call.args if a.keyword is None]
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        if method_name == "urlopen":
            target = positional[0] if positional else keywords.get("url")
            request = self._request_call(target)
            if request is not None:
                return self.request_target(request, "Request")
            has_data = len(positional) > 1 or "data" in keywords
            return target, "POST" if has_data else "GET"
        if method_name == "Request":
            method = self.literal(keywords["method"]) if "method" in keywords else None
            has_data = len(positional) > 1 or "data" in keywords
            url = positional[0] if positional else keywords.get("url")
            return url, (method or ("POST" if has_data else "GET")).upper()
        if method_name in ("request", "open", "fetch") and len(positional) >= 2:
            method = self.literal(positional[0])
            if method and method.upper() in ("GET", "POST", "PUT"):
                return positional[1], method.upper()
        url = positional[0] if positional else keywords.get("url")
        return url, "POST" if method_name in ("post", "put") else "GET"

    def _request_call(self, target):
        if isinstance(target, cst.Call) and dotted(target.func).rsplit(".", 1)[-1] == "Request":
            return target
        if isinstance(target, cst.Name):
            for value in self.assignments.get(target.value, []):
                found = self._request_call(value)
                if found is not None:
                    return found
        return None

    @staticmethod
    def walk(node) -> list:
        """Every node in a subtree."""
        out, stack = [], [node]
        while stack:
            cur = stack.pop()
            out.append(cur)
            stack.extend(kids(cur))
        return out

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

    def _endpoints(self, call: cst.Call) -> set[Endpoint]:
        cached = self._endpoint_cache.get(id(call))
        if cached is None:
            cached = self._endpoint_cache[id(call)] = self._find_endpoints(call)
        return cached

    def names(self, node) -> set[str]:
        """names_in(node), computed once per node."""
        cached = self._names_cache.get(id(node))
        if cached is None:
            cached = self._names_cache[id(node)] = names_in(node)
        return cached

    def calls_in(self, node) -> list:
        cached = self._calls_cache.get(id(node))
        if cached is None:
            cached = self._calls_cache[id(node)] = _calls(node)
        return cached

    def _find_endpoints(self, call: cst.Call) -> set[Endpoint]:
        last = dotted(call.func).rsplit(".", 1)[-1]
        if last not in ("get", "post", "put", "request", "urlopen", "open", "fetch"):
            return set()
        url, _ = self.request_target(call, last)
        if url is None:
            return set()
        return {info.endpoint for alt in self.evaluate(url) if (info := classify(alt)) is not None}

    def payload(self, call: cst.Call) -> list:
        """The body expression of a POST (data=, json=, body=, or urlopen's second argument)."""
        last = dotted(call.func).rsplit(".", 1)[-1]
        if last == "urlopen":
            positional = [a.value for a in call.args if a.keyword is None]
            request = self._request_call(positional[0] if positional else None)
            if request is not None:
                call = request
        found = [a.value for a in call.args if a.keyword is not None and a.keyword.value in ("data", "json", "body")]
        positional = [a.value for a in call.args if a.keyword is None]
        if not found and last == "request" and len(positional) >= 3:
            found = [positional[2]]
        elif not found and len(positional) >= 2 and last != "request":
            found = [positional[1]]
        return found

    def handler_calls(self) -> set[int]:
        """ids of the calls that run the user's handler."""
        found: set[int] = set()
        for call in self.calls:
            if Endpoint.RESPONSE in self._endpoints(call):
                for payload in self.payload(call):
                    self._producers(payload, found, 0)
        if found:
            return found
        for call in self.calls:
            name = dotted(call.func)
            root = name.split(".")[0]
            module = self.imported_from.get(root)
            if module and module.split(".")[0] not in KNOWN_LIBRARIES and name not in self.function_names:
                found.add(id(call))
        return found

    def _producers(self, node, found: set[int], hops: int) -> None:
        if node is None or hops > MAX_DEPTH:
            return
        stack = [node]
        while stack:
            cur = stack.pop()
            if isinstance(cur, cst.Call):
                last = dotted(cur.func).rsplit(".", 1)[-1]
                if last and last not in PASS_THROUGH:
                    found.add(id(cur))
                    continue
                if isinstance(cur.func, cst.Attribute):
                    stack.append(cur.func.value)
                stack.extend(a.value for a in cur.args)
                continue
            if isinstance(cur, cst.Name):
                for value in self.assignments.get(cur.value, []):
                    self._producers(value, found, hops + 1)
                continue
            if isinstance(cur, (cst.Lambda,)):
                continue
            stack.extend(kids(cur))

    def event_names(self, next_names: set[str]) -> set[str]:
        """Of the names holding what `next` returned, those that hold its body (the event), not
        a header such as the request id."""
        events = set()
        for name in next_names:
            values = self.assignments.get(name, [])
            if values and not any(self._mentions_headers(v) for v in values):
                events.add(name)
        return events

    def next_names(self, handlers: set[int]) -> set[str]:
        """Names bound to what the `next` request returned, and to values computed from them
        (not the handler's result, which is about the handler)."""
        names: set[str] = set()
        # http.client: conn.request("GET", ".../next") then resp = conn.getresponse().
        connections = {name for call in self.calls if Endpoint.NEXT in self._endpoints(call)
                       and isinstance(call.func, cst.Attribute) for name in self.names(call.func.value)}
        for name, values in self.assignments.items():
            for value in values:
                calls = self.calls_in(value)
                if any(Endpoint.NEXT in self._endpoints(c) for c in calls) or any(
                        isinstance(c.func, cst.Attribute) and c.func.attr.value == "getresponse"
                        and self.names(c.func.value) & connections for c in calls):
                    names.add(name)
        for _ in range(MAX_DEPTH):
            grown = {n for n, values in self.assignments.items()
                     if any(self.names(v) & names and all(
                         id(c) not in handlers and dotted(c.func).rsplit(".", 1)[-1] in PASS_THROUGH
                         for c in self.calls_in(v)) for v in values)}
            if grown <= names:
                break
            names |= grown
        return names


def _calls(node) -> list:
    out = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, cst.Call):
            out.append(cur)
        stack.extend(kids(cur))
    return out


def _describe(node) -> str:
    """A short name for a value known only at run time (no code generation: it is slow)."""
    return dotted(node) or type(node).__name__


def _code(node) -> str:
    try:
        return cst.Module(body=[]).code_for_node(node)
    except Exception:
        return type(node).__name__
