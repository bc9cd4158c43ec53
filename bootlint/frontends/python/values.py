"""Static values in a Python bootstrap: URLs built from constants, f-strings, `+`, `%`,
`.format` and `urljoin`, each name read in its scope (a function's locals are its own) and a
function's parameters bound to a call's arguments (a :class:`PyFrame`); which call is the
handler; which names hold what `next` returned."""

from __future__ import annotations

import dataclasses
import sys

import libcst as cst

from bootlint.model import Endpoint, Piece
from bootlint.frontends.python.http_clients import BODY_KEYWORDS, CALLS, HTTP_VERBS, REQUEST_CALLS
from bootlint.analysis.urls import classify

MAX_ALTERNATIVES = 16
URL_PARSERS = frozenset({"urlparse", "urlsplit"})
MAX_DEPTH = 6
MAX_CALL_DEPTH = 8
PASS_THROUGH = {"dumps", "type", "loads", "encode", "decode", "str", "bytes", "dict", "list", "bytearray",
                "format", "join", "strip", "get", "items", "len", "int", "float", "repr", "read",
                "Request", "urlopen", "post", "put", "request", "json", "getheader", "getheaders",
                "info", "getcode", "geturl", "getresponse", "lower", "split"}
# Libraries that format, encode or describe data (not run user code): their calls pass data through.
DATA_LIBRARIES = frozenset({"json", "traceback", "base64", "binascii", "codecs", "os", "sys", "time",
                            "datetime", "logging", "uuid", "re", "string", "textwrap", "urllib",
                            "http", "requests", "urllib3", "httpx", "simplejson", "orjson", "ujson",
                            "urllib2", "httplib"})
BUILTIN_NAMES = frozenset(n for n in dir(__import__("builtins")) if not n.startswith("_"))
# Python 2's standard library under its own names: bootstraps that run on both import
# `urllib2` or `httplib` in an `else:` (a call of theirs is a request, never the handler).
PYTHON2_STDLIB = frozenset({"urllib2", "httplib", "urlparse", "cookielib", "StringIO", "cStringIO",
                            "cPickle", "ConfigParser", "Queue", "thread", "commands", "SocketServer",
                            "BaseHTTPServer", "__builtin__", "exceptions", "imp"})
KNOWN_LIBRARIES = set(getattr(sys, "stdlib_module_names", ())) | PYTHON2_STDLIB | {
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


def subscript_key(node: cst.Subscript):
    """The index expression of ``x[key]``; None for a slice (``x[1:2]``) or several (``x[a, b]``)."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return node.slice[0].slice.value


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


@dataclasses.dataclass(frozen=True, eq=False)
class PyFrame:
    """One call of a file's function: each parameter bound to (expression, the scope and frame
    the expression is read in); the outermost call site; the functions called, outermost first."""

    function: str
    bindings: dict
    site: object
    chain: tuple[str, ...]


class Values:
    """Assignments of the whole file, and evaluation against them.

    ``assignments`` merges every scope (for name-based heuristics); evaluation reads a name in
    its own scope: the function's parameters (bound by a frame), its locals, then the module.
    """

    def __init__(self, module: cst.Module, span) -> None:
        self.span = span
        self.assignments: dict[str, list] = {}
        self.scoped: dict[tuple[str | None, str], list] = {}     # (function, name) -> values
        self.params: dict[str, list[cst.Param]] = {}             # function -> its parameters
        self.scope: dict[int, str | None] = {}                   # id(Name or Call) -> function
        self.call_sites: dict[str, list[cst.Call]] = {}          # function -> calls of it
        self.function_names: set[str] = set()
        self.class_names: set[str] = set()      # classes defined at the module's top level
        self.function_defs: dict[str, cst.FunctionDef] = {}
        self.imported_from: dict[str, str] = {}   # local name -> module, for `from m import f`
        self.imported_modules: set[str] = set()     # `import app`: local names of user modules
        self.calls: list[cst.Call] = []
        self.attributes: list[cst.Attribute] = []
        self._endpoint_cache: dict[int, set[Endpoint]] = {}
        self._names_cache: dict[int, set[str]] = {}
        self._calls_cache: dict[int, list] = {}
        self._index(module)

    def _index(self, module: cst.Module) -> None:
        stack: list = [(module, None)]
        globals_of: dict[str, set[str]] = {}
        # A top-level class's __init__ is filed under the class's name: `Request(path, body)`
        # calls it, with its parameters bound to the call's arguments like any helper's.
        init_of: dict[int, str] = {}
        pending: list[tuple[str | None, str, object]] = []
        while stack:
            cur, function = stack.pop()
            # Exact types (libcst's node classes are final): isinstance against its abstract
            # bases is an ABC check, a third of the index's time on a large file.
            kind = type(cur)
            if kind is cst.Name:
                self.scope[id(cur)] = function
                continue
            if kind is cst.Assign:
                for target in cur.targets:
                    self._assign(target.target, cur.value, function, pending)
            elif kind is cst.AnnAssign and cur.value is not None:
                self._assign(cur.target, cur.value, function, pending)
            elif kind is cst.Global and function is not None:
                globals_of.setdefault(function, set()).update(n.name.value for n in cur.names)
            elif kind is cst.ClassDef and function is None:
                self.class_names.add(cur.name.value)
                for stmt in cur.body.body if isinstance(cur.body, cst.IndentedBlock) else ():
                    if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "__init__":
                        init_of[id(stmt)] = cur.name.value
            elif kind is cst.FunctionDef:
                function = init_of.get(id(cur), cur.name.value)
                self.function_names.add(function)
                self.function_defs.setdefault(function, cur)
                params = cur.params
                self.params.setdefault(function, [*params.posonly_params, *params.params,
                                                  *params.kwonly_params])
            elif kind is cst.Import:
                for alias in cur.names:
                    module = dotted(alias.name)
                    local = alias.asname.name if alias.asname else None
                    if module.split(".")[0] not in KNOWN_LIBRARIES:
                        self.imported_modules.add(local.value if isinstance(local, cst.Name) else module.split(".")[0])
            elif kind is cst.ImportFrom and cur.module is not None and not isinstance(cur.names, cst.ImportStar):
                for alias in cur.names:
                    local = alias.asname.name if alias.asname else alias.name
                    if isinstance(local, cst.Name):
                        self.imported_from[local.value] = dotted(cur.module)
            elif kind is cst.Call:
                self.calls.append(cur)
                self.scope[id(cur)] = function
                callee = dotted(cur.func)
                self.call_sites.setdefault(callee.removeprefix("self."), []).append(cur)
            elif kind is cst.Attribute:
                self.attributes.append(cur)
            elif kind is cst.WithItem and cur.asname is not None:
                for name in names_in(cur.asname.name):
                    self.assignments.setdefault(name, []).append(cur.item)
                    pending.append((function, name, cur.item))
            stack.extend((child, function) for child in reversed(kids(cur)))
        for function, name, value in pending:
            if function is not None and name in globals_of.get(function, ()):
                function = None
            self.scoped.setdefault((function, name), []).append(value)
        # `poller.serve(work)` with `poller = Poller()`: a call of the file's method `serve`.
        for callee in [c for c in self.call_sites if self.method_of_instance(c)]:
            self.call_sites.setdefault(callee.rsplit(".", 1)[1], []).extend(self.call_sites[callee])
        self.call_sites = {f: sites for f, sites in self.call_sites.items() if f in self.function_names}

    def _assign(self, target, value, function=None, pending=None) -> None:
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and \
                target.value.value == "self":
            # `self.next_url = base + "/next"` in a method: the object's attribute, read as
            # `self.next_url` in any method of it (filed at the top level, under its dotted name).
            key = "self." + target.attr.value
            self.assignments.setdefault(key, []).append(value)
            if pending is not None:
                pending.append((None, key, value))
            return
        if isinstance(target, cst.Name):
            self.assignments.setdefault(target.value, []).append(value)
            if pending is not None:
                pending.append((function, target.value, value))
        elif isinstance(target, (cst.Tuple, cst.List)):
            # `body, kind = json.dumps(r), "response"`: each name gets its own element when
            # both sides have the same shape; otherwise (unpacking a call) the whole value.
            values = value.elements if isinstance(value, (cst.Tuple, cst.List)) else ()
            pairs = len(values) == len(target.elements) and not any(
                isinstance(e, cst.StarredElement) for e in (*values, *target.elements))
            for i, element in enumerate(target.elements):
                if pairs:
                    self._assign(element.value, values[i].value, function, pending)
                elif isinstance(element.value, cst.Name):
                    self.assignments.setdefault(element.value.value, []).append(value)
                    if pending is not None:
                        pending.append((function, element.value.value, value))

    def method_of_instance(self, callee: str) -> bool:
        """Is `name.method` a call of a method of the file on an object of one of its classes
        (`name` only ever bound to `Class(...)`)?"""
        root, _, method = callee.partition(".")
        if not method or "." in method or method not in self.function_names:
            return False
        values = self.assignments.get(root, ())
        return bool(values) and all(isinstance(v, cst.Call) and dotted(v.func) in self.class_names
                                    for v in values)

    # -- scopes and parameters ---------------------------------------------------------------
    def param_names(self, function: str | None) -> set[str]:
        return {p.name.value for p in self.params.get(function, ())} if function else set()

    def bind(self, function: str, call: cst.Call, caller: "PyFrame | None", site,
             chain: tuple[str, ...]) -> PyFrame:
        """The frame of one call: positional arguments in order (a method's `self` skipped),
        keywords by name, the defaults for the rest."""
        scope = self.scope.get(id(call))
        params = self.params.get(function, [])
        positional = [p for p in params if p in self.function_defs[function].params.posonly_params
                      or p in self.function_defs[function].params.params]
        if positional and positional[0].name.value in ("self", "cls") and (
                isinstance(call.func, cst.Attribute) or function in self.class_names):
            positional = positional[1:]
        bindings: dict[str, tuple] = {}
        i = 0
        for arg in call.args:
            if arg.star:
                break
            if arg.keyword is None:
                if i < len(positional):
                    bindings[positional[i].name.value] = (arg.value, scope, caller)
                i += 1
            else:
                bindings[arg.keyword.value] = (arg.value, scope, caller)
        for p in params:
            if p.name.value not in bindings and p.default is not None:
                bindings[p.name.value] = (p.default, None, None)
        return PyFrame(function, bindings, site, chain)

    @staticmethod
    def code(node) -> str:
        """The source text of a node."""
        return _code(node)

    # -- literals ----------------------------------------------------------------------------
    def literal(self, node, frame: PyFrame | None = None) -> str | None:
        if node is None:
            return None
        alts = self.evaluate(node, 0, frame)
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
    def evaluate(self, node, depth: int = 0, frame: PyFrame | None = None) -> list[tuple[Piece, ...]]:
        """Every way the expression can read, as pieces of literal text and run-time values;
        in ``frame``, the function's parameters are the call's arguments."""
        if depth > MAX_DEPTH + MAX_CALL_DEPTH:
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
                    piece = self.evaluate(part.expression, depth + 1, frame)
                alts = [a + p for a in alts for p in piece][:MAX_ALTERNATIVES]
            return alts
        if isinstance(node, cst.ConcatenatedString):
            return self._concat([node.left, node.right], depth, frame)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            return self._concat([node.left, node.right], depth, frame)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
            return self._percent(node, depth, frame)
        if isinstance(node, cst.IfExp):
            return (self.evaluate(node.body, depth + 1, frame) + self.evaluate(node.orelse, depth + 1, frame))[:MAX_ALTERNATIVES]
        if isinstance(node, cst.Name):
            return self._resolve(node, depth, frame)
        if isinstance(node, cst.Call):
            env = self._environ_get(node)
            if env is not None:
                return env
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
                return self._format(node, depth, frame)
            last = dotted(node.func).rsplit(".", 1)[-1]
            if last == "urljoin" and len(node.args) == 2:
                return self._urljoin(node, depth, frame)
            if last in URL_PARSERS and node.args and node.args[0].keyword is None:
                # What urlparse(url) returns reads as the URL; its `.path` is cut out below.
                return self.evaluate(node.args[0].value, depth + 1, frame)
        if isinstance(node, cst.Attribute) and node.attr.value == "path" and self._parses_url(node.value):
            return [_path_of(alt) for alt in self.evaluate(node.value, depth + 1, frame)]
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
            attribute = self._attribute(node, depth)
            if attribute is not None:
                return attribute
        if isinstance(node, cst.Subscript) and dotted(node.value) in ("os.environ", "environ") and node.slice:
            key = self.literal(subscript_key(node))
            return [(Piece(var=key or "os.environ[...]", span=self.span(node)),)]
        return [(Piece(var=_describe(node), span=self.span(node)),)]

    def _attribute(self, node: cst.Attribute, depth: int) -> list[tuple[Piece, ...]] | None:
        """What `self.name` may hold: the values the object's methods assign it (read where
        they are written); None when no method assigns it text."""
        alts: dict[tuple[Piece, ...], None] = {}
        for value in self.scoped.get((None, "self." + node.attr.value), ()):
            for alt in self.evaluate(value, depth + 1, None):
                alts.setdefault(alt, None)
        if not any(p.is_literal and p.text for a in alts for p in a):
            return None
        return list(alts)[:MAX_ALTERNATIVES]

    def _parses_url(self, node, hops: int = 0) -> bool:
        """Is the expression `urlparse(...)` (or `urlsplit`), or a name only ever bound to one?"""
        if isinstance(node, cst.Call):
            return dotted(node.func).rsplit(".", 1)[-1] in URL_PARSERS
        if isinstance(node, cst.Name) and hops < MAX_DEPTH:
            values = self.assignments.get(node.value, ())
            return bool(values) and all(self._parses_url(v, hops + 1) for v in values)
        return False

    def _inner(self, node, skip: int):
        span = self.span(node)
        if span.line == span.end_line:
            return type(span)(span.line, span.column + skip, span.end_line, span.end_column - len(node.quote))
        return span

    def _concat(self, parts, depth: int, frame: PyFrame | None = None) -> list[tuple[Piece, ...]]:
        alts: list[tuple[Piece, ...]] = [()]
        for part in parts:
            alts = [a + p for a in alts for p in self.evaluate(part, depth + 1, frame)][:MAX_ALTERNATIVES]
        return alts

    def _percent(self, node: cst.BinaryOperation, depth: int, frame: PyFrame | None = None) -> list[tuple[Piece, ...]]:
        fmt = self.literal(node.left, frame)
        if fmt is None:
            return [(Piece(var=_describe(node), span=self.span(node)),)]
        args = [e.value for e in node.right.elements] if isinstance(node.right, cst.Tuple) else [node.right]
        chunks = fmt.replace("%d", "%s").split("%s")
        return self._interleave(chunks, args, depth, frame)

    def _format(self, node: cst.Call, depth: int, frame: PyFrame | None = None) -> list[tuple[Piece, ...]]:
        fmt = self.literal(node.func.value, frame)
        positional = [a.value for a in node.args if a.keyword is None]
        named = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        if fmt is None:
            return self._format_template(node, positional, named, depth, frame)
        import re

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
        return self._interleave(chunks, args, depth, frame)

    def _format_template(self, node: cst.Call, positional: list, named: dict, depth: int,
                         frame: PyFrame | None) -> list[tuple[Piece, ...]]:
        """`.format()` of a template that holds run-time parts (`(base + "/{}/response").format(rid)`
        with `base` from the environment): the fields of its text are filled, the rest kept."""
        import re

        out: list[tuple[Piece, ...]] = []
        for template in self.evaluate(node.func.value, depth + 1, frame):
            if not any(p.is_literal and p.text for p in template):
                continue   # nothing known of it
            alts: list[tuple[Piece, ...]] = [()]
            auto = 0
            for piece in template:
                if not piece.is_literal:
                    alts = [a + (piece,) for a in alts]
                    continue
                for i, part in enumerate(re.split(r"\{([^{}]*)\}", piece.text)):
                    if i % 2 == 0:
                        if part:
                            alts = [a + (Piece(text=part),) for a in alts]
                        continue
                    key = part.split(":")[0].split("!")[0]
                    if key == "":
                        arg = positional[auto] if auto < len(positional) else None
                        auto += 1
                    elif key.isdigit():
                        arg = positional[int(key)] if int(key) < len(positional) else None
                    else:
                        arg = named.get(key)
                    filled = self.evaluate(arg, depth + 1, frame) if arg is not None else [(Piece(var="?"),)]
                    alts = [a + f for a in alts for f in filled][:MAX_ALTERNATIVES]
            out.extend(alts)
        return out[:MAX_ALTERNATIVES] or [(Piece(var=_describe(node), span=self.span(node)),)]

    def _urljoin(self, node: cst.Call, depth: int, frame: PyFrame | None) -> list[tuple[Piece, ...]]:
        """urljoin(base, path): an absolute path replaces the base's path, a relative one
        replaces its last segment (a base ending in / keeps it all)."""
        bases = self.evaluate(node.args[0].value, depth + 1, frame)
        paths = self.evaluate(node.args[1].value, depth + 1, frame)
        out: list[tuple[Piece, ...]] = []
        for base in bases:
            text = "".join(p.text if p.is_literal else "\x00" for p in base)
            for path in paths:
                first = path[0].text if path and path[0].is_literal else ""
                if first.startswith("/") and "://" in text:
                    # Keep scheme and host: the pieces up to the first / after ://.
                    kept, seen = [], text.index("://") + 3
                    cut = text.find("/", seen)
                    count = 0
                    for piece in base:
                        size = len(piece.text) if piece.is_literal else 1
                        if cut >= 0 and count + size > cut:
                            if piece.is_literal:
                                kept.append(Piece(text=piece.text[:cut - count], span=piece.span))
                            break
                        kept.append(piece)
                        count += size
                    out.append(tuple(kept) + path)
                elif text.endswith("/"):
                    out.append(base + path)
                else:
                    out.append(base + path)
        return out[:MAX_ALTERNATIVES]

    def _interleave(self, chunks: list[str], args: list, depth: int, frame: PyFrame | None = None) -> list[tuple[Piece, ...]]:
        alts: list[tuple[Piece, ...]] = [()]
        for i, chunk in enumerate(chunks):
            if chunk:
                alts = [a + (Piece(text=chunk),) for a in alts]
            if i < len(chunks) - 1:
                arg = args[i] if i < len(args) else None
                part = self.evaluate(arg, depth + 1, frame) if arg is not None else [(Piece(var="?"),)]
                alts = [a + p for a in alts for p in part][:MAX_ALTERNATIVES]
        return alts

    def _environ_get(self, node: cst.Call) -> list[tuple[Piece, ...]] | None:
        name = dotted(node.func)
        if name not in ("os.environ.get", "os.getenv", "environ.get", "getenv") or not node.args:
            return None
        key = self.literal(node.args[0].value) or "?"
        default = self.literal(node.args[1].value) if len(node.args) > 1 else None
        return [(Piece(var=key, default=default, span=self.span(node)),)]

    def _resolve(self, node: cst.Name, depth: int, frame: PyFrame | None = None) -> list[tuple[Piece, ...]]:
        unknown = [(Piece(var=node.value, span=self.span(node)),)]
        values, frame = self.values_of(node, frame)
        if not values:
            return unknown
        alts: dict[tuple[Piece, ...], None] = {}
        for value, value_frame in values:
            for alt in self.evaluate(value, depth + 1, value_frame):
                alts.setdefault(alt, None)
        if not any(p.is_literal and p.text for a in alts for p in a):
            return unknown
        return list(alts)[:MAX_ALTERNATIVES]

    def values_of(self, node: cst.Name, frame: PyFrame | None = None) -> tuple[list, PyFrame | None]:
        """What a name may hold where it is read: [(expression, frame to read it in)]."""
        name = node.value
        scope = self.scope.get(id(node))
        if scope is not None:
            if frame is not None and frame.function == scope and name in frame.bindings:
                value, _, caller = frame.bindings[name]
                return [(value, caller)], frame
            if name in self.param_names(scope):
                return [], frame
            local = self.scoped.get((scope, name))
            if local:
                return [(v, frame if frame is not None and frame.function == scope else None)
                        for v in local], frame
        return [(v, None) for v in self.scoped.get((None, name), ())], frame

    # -- requests ----------------------------------------------------------------------------
    def request_target(self, call: cst.Call, method_name: str, frame: PyFrame | None = None):
        """(URL expression, HTTP method, frame to read the URL in) of an HTTP call, following
        urlopen(Request(...)); the shapes come from the clients' table."""
        shape = CALLS.get(method_name)
        if shape is None:
            return None, "GET", frame
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        if shape.method_first_if_verb and len(positional) >= 2:
            verb = self.literal(positional[0], frame)
            if verb and verb.upper() in HTTP_VERBS:
                return positional[1], verb.upper(), frame
        if shape.wraps_request:
            target = positional[0] if positional else keywords.get("url")
            request, request_frame = self._request_call(target, frame)
            if request is not None:
                return self.request_target(request, "Request", request_frame)
        method = shape.method
        if shape.method_arg is not None:
            if len(positional) <= shape.url_arg:
                # request(url) alone is not this shape (a library call of the same name).
                url = positional[0] if positional else keywords.get("url")
                return url, "GET", frame
            verb = self.literal(positional[shape.method_arg], frame)
            if not verb or verb.upper() not in HTTP_VERBS:
                return None, "GET", frame
            method = verb.upper()
        elif shape.method_keyword and shape.method_keyword in keywords:
            verb = self.literal(keywords[shape.method_keyword], frame)
            method = verb.upper() if verb else None
        if method is None:
            has_body = (shape.body_arg is not None and len(positional) > shape.body_arg) or any(
                k in keywords for k in BODY_KEYWORDS)
            method = "POST" if has_body else "GET"
        url = positional[shape.url_arg] if len(positional) > shape.url_arg else keywords.get("url")
        return url, method, frame

    def _request_call(self, target, frame: PyFrame | None = None, depth: int = 0):
        """The urllib.request.Request(...) a name holds where it is read, with its frame."""
        if isinstance(target, cst.Call) and dotted(target.func).rsplit(".", 1)[-1] == "Request":
            return target, frame
        if isinstance(target, cst.Name) and depth < MAX_DEPTH:
            values, _ = self.values_of(target, frame)
            for value, value_frame in values:
                found = self._request_call(value, value_frame, depth + 1)
                if found[0] is not None:
                    return found
        return None, frame

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

    def request_call(self, call: cst.Call) -> str | None:
        """The client call's name (`post` of `requests.post(...)`) when the call makes a request;
        None for any other call, the file's own functions included (`def post(path, body)`
        called as `post(...)` or `self.post(...)` is a helper, not a client)."""
        name = dotted(call.func)
        last = name.rsplit(".", 1)[-1]
        if last not in REQUEST_CALLS:
            return None
        if last in self.function_names and (name == last or name.split(".")[0] in ("self", "cls")):
            return None
        return last

    def _find_endpoints(self, call: cst.Call) -> set[Endpoint]:
        last = self.request_call(call)
        if last is None:
            return set()
        url, _, frame = self.request_target(call, last)
        if url is None:
            return set()
        return {info.endpoint for alt in self.evaluate(url, 0, frame) if (info := classify(alt)) is not None}

    def payload(self, call: cst.Call) -> list:
        """The body expression of a POST (data=, json=, body=, content=, or the body's
        positional place in the clients' table)."""
        last = dotted(call.func).rsplit(".", 1)[-1]
        shape = CALLS.get(last)
        if shape is not None and shape.wraps_request:
            positional = [a.value for a in call.args if a.keyword is None]
            request, _ = self._request_call(positional[0] if positional else None)
            if request is not None:
                call, shape = request, CALLS["Request"]
        found = [a.value for a in call.args if a.keyword is not None and a.keyword.value in BODY_KEYWORDS]
        positional = [a.value for a in call.args if a.keyword is None]
        if not found and shape is not None and shape.body_arg is not None and len(positional) > shape.body_arg:
            found = [positional[shape.body_arg]]
        return found

    def handler_calls(self, posted: list | None = None, fetchers: set[int] = frozenset()) -> set[int]:
        """ids of the calls that run the user's handler: what produces the /response body
        (``posted``: bodies given to the file's helpers that post /response), else calls of
        names imported from a module that is not a known library, in a file that requests
        `next` (without an invocation there is no handler: a module that only wraps the API,
        or posts /init/error, calls its own imports for other reasons)."""
        found: set[int] = set()
        self._fetchers = fetchers
        for call in self.calls:
            if Endpoint.RESPONSE in self._endpoints(call):
                for payload in self.payload(call):
                    self._producers(payload, found, 0)
        for payload in posted or ():
            self._producers(payload, found, 0)
        if found or not (fetchers or any(Endpoint.NEXT in self._endpoints(c) for c in self.calls)):
            return found
        for call in self.calls:
            name = dotted(call.func)
            root = name.split(".")[0]
            module = self.imported_from.get(root)
            if _class_name(root):
                continue  # `Envelope(raw)`, `Headers.parse(...)`: a class holds data, a handler is a function
            if module and module.split(".")[0] not in KNOWN_LIBRARIES and name not in self.function_names:
                found.add(id(call))
            elif root in self.imported_modules and name not in self.function_names and "." in name:
                found.add(id(call))  # import app ... app.handler(event)
            elif "." not in name and name not in self.function_names and self._module_alias(name):
                found.add(id(call))  # import app; handler = app.handler ... handler(event)
        return found

    def _module_alias(self, name: str) -> bool:
        """Is a module-level name only ever bound to an attribute of an imported user module
        (`handler = lambda_function.handler`)?"""
        values = self.scoped.get((None, name), ())
        return bool(values) and all(
            isinstance(v, cst.Attribute) and dotted(v).split(".")[0] in self.imported_modules
            for v in values)

    def _producers(self, node, found: set[int], hops: int) -> None:
        if node is None or hops > MAX_DEPTH:
            return
        stack = [node]
        while stack:
            cur = stack.pop()
            if isinstance(cur, cst.Call):
                last = dotted(cur.func).rsplit(".", 1)[-1]
                if id(cur) in getattr(self, "_fetchers", ()):
                    continue  # a helper that requests `next`: its result is the event
                name = dotted(cur.func)
                root = name.split(".")[0]
                # Builtins and library calls (type(exc), traceback.format_exc()) pass data through.
                library = name in BUILTIN_NAMES or (
                    "." in name and self.imported_from.get(root, root).split(".")[0] in DATA_LIBRARIES)
                # A class of the file built from the data (`Invocation(resp)`) holds it; what
                # computes the result is called on it (`inv.run()`), or given what it holds.
                if name in self.class_names:
                    stack.extend(a.value for a in cur.args)
                    continue
                if last and last not in PASS_THROUGH and not library:
                    found.add(id(cur))
                    continue
                if isinstance(cur.func, cst.Attribute):
                    stack.append(cur.func.value)
                stack.extend(a.value for a in cur.args)
                continue
            if isinstance(cur, cst.Name):
                # Read in its own scope: another function's `result = handle(test_event)` (a
                # local run) is not what this function posts.
                for value, _ in self.values_of(cur)[0]:
                    self._producers(value, found, hops + 1)
                continue
            if isinstance(cur, (cst.Lambda,)):
                continue
            stack.extend(kids(cur))

    def _fetches(self, call: cst.Call, fetching: set) -> bool:
        """A call of a helper that requests `next` (directly, or at this call site)."""
        return id(call) in getattr(self, "_fetchers", ()) or \
            dotted(call.func).removeprefix("self.") in fetching

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
        # The file's functions that request `next` themselves: what a call of one returns
        # (`got = fetch()`, `rid, event = next_event()`) is what `next` gave.
        fetching = {self.scope.get(id(c)) for c in self.calls if Endpoint.NEXT in self._endpoints(c)} - {None}
        # http.client: conn.request("GET", ".../next") then resp = conn.getresponse().
        connections = {name for call in self.calls if Endpoint.NEXT in self._endpoints(call)
                       and isinstance(call.func, cst.Attribute) for name in self.names(call.func.value)}
        for name, values in self.assignments.items():
            for value in values:
                calls = self.calls_in(value)
                if any(Endpoint.NEXT in self._endpoints(c) or self._fetches(c, fetching) for c in calls) or any(
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


def _path_of(alt: tuple[Piece, ...]) -> tuple[Piece, ...]:
    """The path of a URL that reads ``alt``: what follows the host after ``scheme://`` (a URL
    whose host is not followed by a literal ``/`` is kept whole)."""
    text = "".join(p.text if p.is_literal else "\x00" for p in alt)
    start = text.find("://")
    cut = text.find("/", start + 3) if start >= 0 else -1
    if cut < 0:
        return alt
    kept, count = [], 0
    for piece in alt:
        size = len(piece.text) if piece.is_literal else 1
        if count + size > cut:
            if count < cut:   # the piece holding the cut: keep its path part
                piece = Piece(text=piece.text[cut - count:], span=piece.span)
            kept.append(piece)
        count += size
    return tuple(kept)


def _class_name(name: str) -> bool:
    """A CapWords name (PEP 8's spelling of a class: `Headers`, `InvocationEvent`), not a
    constant (`HANDLER`) or a function (`handle`)."""
    return name[:1].isupper() and not name.isupper()


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
