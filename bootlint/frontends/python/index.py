"""The index of a Python bootstrap's syntax tree, built in one walk: every call, attribute and
assignment, each name's scope (a function's locals are its own), the file's functions, classes
and imports, and the calls of each function of the file. Also the small readers of libcst nodes
every later pass uses (children, dotted names, names in an expression)."""

from __future__ import annotations

import dataclasses
import sys

import libcst as cst

BUILTIN_NAMES = frozenset(n for n in dir(__import__("builtins")) if not n.startswith("_"))
# Python 2's standard library under its own names: bootstraps that run on both import
# `urllib2` or `httplib` in an `else:` (a call of theirs is a request, never the handler).
PYTHON2_STDLIB = frozenset({"urllib2", "httplib", "urlparse", "cookielib", "StringIO", "cStringIO",
                            "cPickle", "ConfigParser", "Queue", "thread", "commands", "SocketServer",
                            "BaseHTTPServer", "__builtin__", "exceptions", "imp"})
KNOWN_LIBRARIES = set(getattr(sys, "stdlib_module_names", ())) | PYTHON2_STDLIB | {
    "requests", "urllib3", "boto3", "botocore", "httpx", "aiohttp", "simplejson", "orjson", "ujson"}


# asyncio's calls that run the coroutines they are given.
ASYNC_RUNNERS = frozenset({"gather", "create_task", "ensure_future", "run", "wait_for", "run_until_complete",
                           "as_completed", "wait", "shield", "start_soon"})

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



def walk(node) -> list:
    """Every node in a subtree."""
    out, stack = [], [node]
    while stack:
        cur = stack.pop()
        out.append(cur)
        stack.extend(kids(cur))
    return out


def calls_of(node) -> list:
    """Every call in a subtree."""
    out = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, cst.Call):
            out.append(cur)
        stack.extend(kids(cur))
    return out


def code(node) -> str:
    """The source text of a node."""
    try:
        return cst.Module(body=[]).code_for_node(node)
    except Exception:
        return type(node).__name__


def bindings_of(target, value) -> list[tuple[str, object]]:
    """(name, value) for each name an assignment binds: `x = v`; `self.next_url = base + "/next"`
    in a method binds the object's attribute (keyed `self.next_url`); `body, kind =
    json.dumps(r), "response"` gives each name its own element when both sides have the same
    shape, otherwise (unpacking a call) the whole value."""
    if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and \
            target.value.value == "self":
        return [("self." + target.attr.value, value)]
    if isinstance(target, cst.Name):
        return [(target.value, value)]
    out: list[tuple[str, object]] = []
    if isinstance(target, (cst.Tuple, cst.List)):
        values = value.elements if isinstance(value, (cst.Tuple, cst.List)) else ()
        pairs = len(values) == len(target.elements) and not any(
            isinstance(e, cst.StarredElement) for e in (*values, *target.elements))
        for i, element in enumerate(target.elements):
            if pairs:
                out.extend(bindings_of(element.value, values[i].value))
            elif isinstance(element.value, cst.Name):
                out.append((element.value.value, value))
    return out


class Index:
    """Assignments of the whole file, each name's scope, the functions, classes and imports.

    ``assignments`` merges every scope (for name-based heuristics); ``scoped`` keeps each
    function's own (a name is read in its scope by :mod:`values`).
    """

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.assignments: dict[str, list] = {}
        self.scoped: dict[tuple[str | None, str], list] = {}     # (function, name) -> values
        self.params: dict[str, list[cst.Param]] = {}             # function -> its parameters
        self.scope: dict[int, str | None] = {}                   # id(Name or Call) -> function
        self.call_sites: dict[str, list[cst.Call]] = {}          # function -> calls of it
        self.function_names: set[str] = set()
        self.class_names: set[str] = set()      # classes defined at the module's top level
        # Top-level classes: their methods by name (the last definition wins, as in Python) and
        # the dotted names of their bases.
        self.methods: dict[str, dict[str, cst.FunctionDef]] = {}
        self.bases: dict[str, list[str]] = {}
        self.function_defs: dict[str, cst.FunctionDef] = {}
        self.imported_from: dict[str, str] = {}   # local name -> module, for `from m import f`
        self.imported_modules: set[str] = set()     # `import app`: local names of user modules
        self.module_alias: dict[str, str] = {}      # `import httpx as hx`: hx -> httpx (any module)
        # Calls whose coroutine runs: awaited, an `async with` item, handed to asyncio.
        self.awaited: set[int] = set()
        self.calls: list[cst.Call] = []
        self.attributes: list[cst.Attribute] = []
        self._parents: dict[int, object] | None = None
        self._names_cache: dict[int, set[str]] = {}
        self._calls_cache: dict[int, list] = {}
        self._index(module)

    def _index(self, module: cst.Module) -> None:
        stack: list = [(module, None)]
        awaited: list = []
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
                self.bases[cur.name.value] = [dotted(b.value) for b in cur.bases if b.keyword is None]
                methods = self.methods.setdefault(cur.name.value, {})
                for stmt in cur.body.body if isinstance(cur.body, cst.IndentedBlock) else ():
                    if isinstance(stmt, cst.FunctionDef):
                        methods[stmt.name.value] = stmt
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
                    if isinstance(local, cst.Name):
                        self.module_alias[local.value] = module
                    else:
                        self.module_alias.setdefault(module.split(".")[0], module.split(".")[0])
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
            elif kind is cst.Await:
                awaited.append(cur.expression)
            elif kind is cst.With and cur.asynchronous is not None:
                awaited.extend(item.item for item in cur.items)
            elif kind is cst.WithItem and cur.asname is not None:
                for name in names_in(cur.asname.name):
                    self.assignments.setdefault(name, []).append(cur.item)
                    pending.append((function, name, cur.item))
            stack.extend((child, function) for child in reversed(kids(cur)))
        for function, name, value in pending:
            if function is not None and name in globals_of.get(function, ()):
                function = None
            self.scoped.setdefault((function, name), []).append(value)
        # A coroutine runs where it is awaited, or when asyncio is given it (gather, create_task,
        # run, wait_for, ensure_future); `coro = client.get(url)` then `await coro` too.
        for call in self.calls:
            if dotted(call.func).rsplit(".", 1)[-1] in ASYNC_RUNNERS:
                awaited.extend(a.value for a in call.args)
        for node in awaited:
            if isinstance(node, cst.Call):
                self.awaited.add(id(node))
            elif isinstance(node, cst.Name):
                self.awaited.update(id(v) for v in self.assignments.get(node.value, ()) if isinstance(v, cst.Call))
        # `poller.serve(work)` with `poller = Poller()`: a call of the file's method `serve`.
        for callee in [c for c in self.call_sites if self.method_of_instance(c)]:
            self.call_sites.setdefault(callee.rsplit(".", 1)[1], []).extend(self.call_sites[callee])
        self.call_sites = {f: sites for f, sites in self.call_sites.items() if f in self.function_names}

    def _assign(self, target, value, function=None, pending=None) -> None:
        for key, bound in bindings_of(target, value):
            self.assignments.setdefault(key, []).append(bound)
            if pending is not None:
                # `self.x` is the object's attribute, read in any method of it: filed at the top.
                pending.append((None if key.startswith("self.") else function, key, bound))

    @property
    def parents(self) -> dict[int, object]:
        """Each node's parent by id (libcst keeps none: the map is made on the first question,
        which only a file with something to follow asks)."""
        if self._parents is None:
            self._parents = {id(child): cur for cur in walk(self.module) for child in kids(cur)}
        return self._parents

    def parent(self, node):
        """The node that holds ``node``."""
        return self.parents.get(id(node))

    def reads(self, scope: str | None, names: set[str]) -> list[cst.Name]:
        """The places a scope reads these names (not where it assigns or deletes them); the
        whole module for the top level, and a function's nested functions with it (a closure
        reads its names too)."""
        body = self.module if scope is None else self.function_defs.get(scope)
        if body is None:
            return []
        out = []
        for node in walk(body):
            if type(node) is cst.Name and node.value in names:
                holder = self.parent(node)
                if type(holder) is cst.AssignTarget or type(holder) is cst.Del or (
                        type(holder) in (cst.AugAssign, cst.AnnAssign) and holder.target is node) or \
                        type(holder) in (cst.FunctionDef, cst.ClassDef, cst.Param, cst.Attribute) and \
                        getattr(holder, "name", getattr(holder, "attr", None)) is node:
                    continue
                out.append(node)
        return out

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


    def instance_class(self, node) -> str | None:
        """The file's class whose object an expression holds: `Class(...)`, a name (or
        `self.attr`) only ever bound to one, or the class a decorator class turns a function into."""
        values = [node]
        if isinstance(node, cst.Name):
            values = self.assignments.get(node.value, [])
        elif isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
            values = self.assignments.get("self." + node.attr.value, [])
        classes = {dotted(v.func) for v in values if isinstance(v, cst.Call)}
        if len(classes) == 1 and len(values) == sum(isinstance(v, cst.Call) for v in values):
            found = classes.pop()
            return found if found in self.class_names else None
        return None

    def method(self, cls: str, name: str, depth: int = 0) -> cst.FunctionDef | None:
        """A method of a class of the file, or of a base class of the file (bounded)."""
        found = self.methods.get(cls, {}).get(name)
        if found is not None or depth > 4:
            return found
        for base in self.bases.get(cls, ()):
            if base in self.class_names:
                found = self.method(base, name, depth + 1)
                if found is not None:
                    return found
        return None

    def names(self, node) -> set[str]:
        """names_in(node), computed once per node."""
        cached = self._names_cache.get(id(node))
        if cached is None:
            cached = self._names_cache[id(node)] = names_in(node)
        return cached

    def calls_in(self, node) -> list:
        """calls_of(node), computed once per node."""
        cached = self._calls_cache.get(id(node))
        if cached is None:
            cached = self._calls_cache[id(node)] = calls_of(node)
        return cached
