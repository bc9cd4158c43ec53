"""Which calls of a Python bootstrap run the user's handler: what produces the /response body
(through the file's helpers too), else a call of a function imported from a user module."""

from __future__ import annotations

import libcst as cst

from bootlint.frontends.python.callsites import frame_of
from bootlint.frontends.python.facts import PASS_THROUGH, Requests
from bootlint.frontends.python.index import BUILTIN_NAMES, KNOWN_LIBRARIES, Index, dotted, kids, walk
from bootlint.frontends.python.values import MAX_DEPTH, Values
from bootlint.model import Endpoint

# Libraries that format, encode or describe data (not run user code): their calls pass data through.
DATA_LIBRARIES = frozenset({"json", "traceback", "base64", "binascii", "codecs", "os", "sys", "time",
                            "datetime", "logging", "uuid", "re", "string", "textwrap", "urllib",
                            "http", "requests", "urllib3", "httpx", "simplejson", "orjson", "ujson",
                            "urllib2", "httplib"})


class Handlers:
    """Finds the handler's calls (ids of libcst Call nodes)."""

    def __init__(self, index: Index, values: Values, requests: Requests) -> None:
        self.index = index
        self.values = values
        self.requests = requests

    def handler_calls(self, posted: list | None = None) -> set[int]:
        """ids of the calls that run the user's handler: what produces the /response body
        (``posted``: bodies given to the file's helpers that post /response), else calls of
        names imported from a module that is not a known library, in a file that requests
        `next` (without an invocation there is no handler: a module that only wraps the API,
        or posts /init/error, calls its own imports for other reasons)."""
        found: set[int] = set()
        for call in self.index.calls:
            if Endpoint.RESPONSE in self.requests.endpoints(call):
                for payload in self.requests.clients.payload(call):
                    self._producers(payload, found, 0)
        for payload in posted or ():
            self._producers(payload, found, 0)
        if found or not (self.requests.fetchers or any(Endpoint.NEXT in self.requests.endpoints(c) for c in self.index.calls)):
            return found
        for call in self.index.calls:
            name = dotted(call.func)
            root = name.split(".")[0]
            module = self.index.imported_from.get(root)
            if _class_name(root):
                continue  # `Envelope(raw)`, `Headers.parse(...)`: a class holds data, a handler is a function
            if module and module.split(".")[0] not in KNOWN_LIBRARIES and name not in self.index.function_names:
                found.add(id(call))
            elif root in self.index.imported_modules and name not in self.index.function_names and "." in name:
                found.add(id(call))  # import app ... app.handler(event)
            elif "." not in name and name not in self.index.function_names and self._module_alias(name):
                found.add(id(call))  # import app; handler = app.handler ... handler(event)
        return found

    def _module_alias(self, name: str) -> bool:
        """Is a module-level name only ever bound to an attribute of an imported user module
        (`handler = lambda_function.handler`)?"""
        values = self.index.scoped.get((None, name), ())
        return bool(values) and all(
            isinstance(v, cst.Attribute) and dotted(v).split(".")[0] in self.index.imported_modules
            for v in values)

    def _producers(self, node, found: set[int], hops: int) -> None:
        if node is None or hops > MAX_DEPTH:
            return
        stack = [node]
        while stack:
            cur = stack.pop()
            if isinstance(cur, cst.Call):
                last = dotted(cur.func).rsplit(".", 1)[-1]
                if id(cur) in self.requests.fetchers:
                    continue  # a helper that requests `next`: its result is the event
                name = dotted(cur.func)
                root = name.split(".")[0]
                # Builtins and library calls (type(exc), traceback.format_exc()) pass data through.
                library = name in BUILTIN_NAMES or (
                    "." in name and self.index.imported_from.get(root, root).split(".")[0] in DATA_LIBRARIES)
                # A class of the file built from the data (`Invocation(resp)`) holds it; what
                # computes the result is called on it (`inv.run()`), or given what it holds.
                if name in self.index.class_names:
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
                for value, _ in self.values.values_of(cur)[0]:
                    self._producers(value, found, hops + 1)
                continue
            if isinstance(cur, (cst.Lambda,)):
                continue
            stack.extend(kids(cur))


def _class_name(name: str) -> bool:
    """A CapWords name (PEP 8's spelling of a class: `Headers`, `InvocationEvent`), not a
    constant (`HANDLER`) or a function (`handle`)."""
    return name[:1].isupper() and not name.isupper()



# -- exception flow: which frames between the loop and the handler catch its failures ----------

CATCH_ALL = frozenset({"Exception", "BaseException"})
# Raised only by a signal Lambda never sends the runtime (SIGINT: Ctrl-C in a local run): an
# `except` that catches nothing else is a path the runtime does not take on Lambda.
LOCAL_ONLY = frozenset({"KeyboardInterrupt"})
# How deep calls are followed when asking whether a frame contains a failure.
MAX_FRAMES = 4
_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def caught(handler: cst.ExceptHandler) -> list[str] | None:
    """The names of the exceptions an `except` catches (`except (ValueError, os.error):` gives
    ValueError and error); None for a bare `except:`."""
    kind = handler.type
    if kind is None:
        return None
    kinds = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
    return [dotted(k).rsplit(".", 1)[-1] for k in kinds]


def catches_all(handler: cst.ExceptHandler) -> bool:
    names = caught(handler)
    return names is None or any(name in CATCH_ALL for name in names)


def local_only(handler: cst.ExceptHandler) -> bool:
    names = caught(handler)
    return names is not None and all(name in LOCAL_ONLY for name in names)


def reraises(handler: cst.ExceptHandler, never=None) -> bool:
    """Can the `except` end by raising (the exception, or another one) on some path through it?
    A `raise` at its own level, or under an `if`, in a loop, a `with` or a `match` (a retry
    that gives up: `if attempt == last: raise`, `if not retryable(exc): raise`), lets the
    exception go on. Not a `raise` only for kinds a test picks out by `isinstance(exc, K)` (an
    `except K: raise` in another spelling: the other kinds are still stopped), nor one in a
    nested `try` that stops it, nor one in a nested `except` (a failure of the reporting itself),
    nor one in a function defined there, nor `raise SystemExit(...)` (an exit, BL002's), nor one
    under a test ``never`` says is false (a constant; a parameter the call site binds to one)."""
    name = handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) else None
    return _may_raise(handler.body, name, never or _false)


def _suite(body) -> list:
    """The statements of a block (an indented block or a one-line suite)."""
    inner = getattr(body, "body", ())
    return list(inner) if isinstance(inner, (list, tuple)) else [inner]


def _may_raise(body, exc: str | None, never) -> bool:
    for stmt in _suite(body):
        kind = type(stmt)
        if kind is cst.SimpleStatementLine or kind is cst.SimpleStatementSuite:
            if any(type(small) is cst.Raise and not _exits(small) for small in stmt.body):
                return True
        elif kind is cst.If:
            if not _narrowed(stmt.test, exc) and not never(stmt.test) and _may_raise(stmt.body, exc, never):
                return True
            if stmt.orelse is not None and _may_raise(
                    stmt.orelse.body if isinstance(stmt.orelse, cst.Else) else cst.IndentedBlock([stmt.orelse]), exc, never):
                return True
        elif kind is cst.Try or kind is getattr(cst, "TryStar", None):
            if not contains(stmt, never) and _may_raise(stmt.body, exc, never):
                return True
            if any(part is not None and _may_raise(part.body, exc, never) for part in (stmt.orelse, stmt.finalbody)):
                return True
        elif kind in _SCOPES:
            continue
        elif kind is getattr(cst, "Match", None):
            if any(_may_raise(case.body, exc, never) for case in stmt.cases):
                return True
        else:   # while, for, with: their blocks (and a loop's `else`)
            if _may_raise(stmt.body, exc, never) or (getattr(stmt, "orelse", None) is not None
                                              and _may_raise(stmt.orelse.body, exc, never)):
                return True
    return False


def _narrowed(test, exc: str | None) -> bool:
    """Does the test pick out some kinds of the caught exception by name (`isinstance(exc, K)`,
    `or` of such tests), none of them every `Exception`; or only what is not an `Exception`
    (`not isinstance(exc, Exception)` under `except BaseException`)?"""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
        return _narrowed(test.left, exc) and _narrowed(test.right, exc)
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = test.expression
        return isinstance(inner, cst.Call) and len(inner.args) == 2 and _isinstance_of(inner, exc) \
            and dotted(inner.args[1].value) == "Exception"
    if not (isinstance(test, cst.Call) and _isinstance_of(test, exc)):
        return False
    kinds = test.args[1].value
    names = [dotted(e.value) for e in kinds.elements] if isinstance(kinds, cst.Tuple) else [dotted(kinds)]
    return all(names) and not any(n.rsplit(".", 1)[-1] in CATCH_ALL for n in names)


# Raised to end the process, not a failure: `raise SystemExit(1)` is an exit (BL002's business).
EXIT_EXCEPTIONS = frozenset({"SystemExit", "KeyboardInterrupt"})


def _exits(node: cst.Raise) -> bool:
    """`raise SystemExit(...)`: the process ends on purpose; the failure does not go on."""
    exc = node.exc.func if isinstance(node.exc, cst.Call) else node.exc
    return exc is not None and dotted(exc).rsplit(".", 1)[-1] in EXIT_EXCEPTIONS


def _isinstance_of(call: cst.Call, exc: str | None) -> bool:
    """`isinstance(exc, ...)` of the caught exception's name."""
    return bool(exc) and dotted(call.func) == "isinstance" and len(call.args) == 2 and \
        isinstance(call.args[0].value, cst.Name) and call.args[0].value.value == exc


def _false(test) -> bool:
    """A constant that is false (`False`, `0`, `None`)."""
    if isinstance(test, cst.Name):
        return test.value in ("False", "None")
    return isinstance(test, cst.Integer) and test.evaluated_value == 0


def contains(try_: cst.Try, never=None) -> bool:
    """Does a `try` stop every exception of its body (a catch-all `except` that does not raise)?
    ``never``: which tests are false where the code runs (see :func:`reraises`)."""
    return any(catches_all(h) and not reraises(h, never) for h in try_.handlers)


def own_nodes(function: cst.FunctionDef) -> list:
    """Every node of a function's body, not entering the functions, classes and lambdas it
    defines (their bodies run when they are called, in their own frames)."""
    out, stack = [], [function.body]
    while stack:
        cur = stack.pop()
        out.append(cur)
        if type(cur) in _SCOPES:
            continue
        stack.extend(kids(cur))
    return out


def _is_true(node) -> bool:
    """A constant that is true (`True`, a non-zero number)."""
    if isinstance(node, cst.Name):
        return node.value == "True"
    if isinstance(node, cst.Integer):
        return node.evaluated_value != 0
    return False


class Guards:
    """Exception flow across the file's calls: a call is guarded when a frame between it and the
    work it runs catches every exception and lets the caller go on: a `try` at the call site
    (lowered where it stands), the function that makes the call, a decorator's wrapper, a callable
    object's `__call__`, a runner the work is passed to, a context manager's `__exit__` or
    `@contextmanager` body. Re-raising frames pass the exception up."""

    def __init__(self, index: Index, values: Values, handlers: Handlers) -> None:
        self.index = index
        self.values = values
        self.handlers = handlers
        self._guarded: dict[int, set[int]] = {}
        self._contained: dict[int, bool] = {}
        self._works: dict[int, list[cst.Call]] = {}

    # -- one frame ----------------------------------------------------------------------------
    def guarded_in(self, function: cst.FunctionDef, site: cst.Call | None = None) -> set[int]:
        """ids of the calls of a function's own body that run inside a `try` (or a `with`) of
        that body which stops their exceptions, when the function is called at ``site`` (a
        raise under a test of a parameter the site makes false does not happen there)."""
        key = (id(function), id(site))
        cached = self._guarded.get(key)
        if cached is not None:
            return cached
        never = self._never_at(function, site)
        found: set[int] = set()
        stack: list = [(function.body, False)]
        while stack:
            cur, guarded = stack.pop()
            kind = type(cur)
            if kind in _SCOPES:
                continue
            if kind is cst.Call and guarded:
                found.add(id(cur))
            if kind is cst.Try:
                stack.append((cur.body, guarded or contains(cur, never)))
                stack.extend((part, guarded) for part in (*cur.handlers, cur.orelse, cur.finalbody)
                             if part is not None)
                continue
            if kind in (cst.With,):
                inner = guarded or any(self.manager_contains(item.item) for item in cur.items)
                stack.extend((item, guarded) for item in cur.items)
                stack.append((cur.body, inner))
                continue
            stack.extend((child, guarded) for child in kids(cur))
        self._guarded[key] = found
        return found

    def never(self, test, bindings: dict | None = None) -> bool:
        """Is a test false wherever it runs: a false constant, a name of the module only ever
        bound to one (`DEBUG = False` ... `if DEBUG: raise`), a parameter ``bindings`` (a call's)
        binds to one, `not` of such a name that is true, and `and`/`or` of these?"""
        if isinstance(test, cst.BooleanOperation):
            left, right = self.never(test.left, bindings), self.never(test.right, bindings)
            return left or right if isinstance(test.operator, cst.And) else left and right
        negated = isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)
        tested = test.expression if negated else test
        if not isinstance(tested, cst.Name):
            return not negated and _false(test)
        if bindings is not None and tested.value in bindings:
            values = [bindings[tested.value][0]]
        else:
            scope = self.index.scope.get(id(tested))
            if scope is not None and ((scope, tested.value) in self.index.scoped
                                      or tested.value in self.index.param_names(scope)):
                return False   # a local or a parameter: not the module's
            values = self._closure_values(tested.value, scope)
            if values is None:
                values = self.index.scoped.get((None, tested.value), ())
        return bool(values) and all(self.values.truthy_constant(v) if negated else _false(v) for v in values)

    def _closure_values(self, name: str, scope: str | None) -> list | None:
        """What a parameter of a function around ``scope`` (a decorator factory's `reraise`,
        read in its wrapper) is given by every call of that function (its default where a
        call gives none); None when no function around ``scope`` has that parameter, [] when a
        call gives it nothing known."""
        inner = self.index.function_defs.get(scope) if scope is not None else None
        if inner is None:
            return None
        for outer, definition in self.index.function_defs.items():
            if outer == scope or name not in self.index.param_names(outer) or \
                    not any(node is inner for node in walk(definition.body)):
                continue
            found = []
            for site in self.index.call_sites.get(outer, ()):
                bound = frame_of(self.index, outer, site, None, site, (outer,)).bindings.get(name)
                if bound is None:
                    return []
                found.append(bound[0])
            return found
        return None

    def _never_at(self, function: cst.FunctionDef, site: cst.Call | None):
        """Which tests are false in ``function`` called at ``site``: those false everywhere
        (:meth:`never`), and those of parameters the call (or their defaults) binds to a
        constant (`with reporting(path, fatal=False):` around `if fatal: raise`)."""
        name = function.name.value
        if site is None or self.index.function_defs.get(name) is not function:
            return self.never
        bindings = frame_of(self.index, name, site, None, site, (name,)).bindings
        return lambda test: self.never(test, bindings)

    def manager_contains(self, manager) -> bool:
        """Does `with manager:` stop the exceptions of its block? A `@contextmanager` of the
        file whose `yield` sits in a `try` that stops them, or an object of the file's class
        whose `__exit__` returns a true constant (Python then drops the exception)."""
        if not isinstance(manager, cst.Call):
            cls = self.index.instance_class(manager)
            return cls is not None and self._exit_suppresses(cls)
        name = dotted(manager.func)
        if name.rsplit(".", 1)[-1] == "suppress" and self.index.imported_from.get(
                name, self.index.module_alias.get(name.split(".")[0], "")) == "contextlib" or name == "contextlib.suppress":
            # contextlib.suppress(Exception): the block's exceptions of those kinds are dropped.
            return any(dotted(a.value).rsplit(".", 1)[-1] in CATCH_ALL for a in manager.args)
        if name in self.index.class_names:
            return self._exit_suppresses(name)
        function = self.index.function_defs.get(name.removeprefix("self."))
        if function is None or not any(
                dotted(d.decorator).rsplit(".", 1)[-1] in ("contextmanager", "asynccontextmanager")
                for d in function.decorators):
            return False
        never = self._never_at(function, manager)
        for node in own_nodes(function):
            if isinstance(node, cst.Try) and contains(node, never) and any(
                    isinstance(n, cst.Yield) for n in walk(node.body)):
                return True
        return False

    def _exit_suppresses(self, cls: str) -> bool:
        for name in ("__exit__", "__aexit__"):
            method = self.index.method(cls, name)
            if method is not None and any(isinstance(n, cst.Return) and _is_true(n.value)
                                          for n in own_nodes(method)):
                return True
        return False

    # -- frames between a call and its work ----------------------------------------------------
    def contained(self, call: cst.Call, depth: int = 0) -> bool:
        """Does a frame between this call and the work it runs stop that work's exceptions?"""
        cached = self._contained.get(id(call))
        if cached is not None:
            return cached
        self._contained[id(call)] = False   # a recursive call is not its own guard
        answer = depth < MAX_FRAMES and any(
            work and not _ends_raising(frame) and
            all(id(c) in self.guarded_in(frame, call) or self.contained(c, depth + 1) for c in work)
            for frame, work in self.frames(call))
        self._contained[id(call)] = answer
        return answer

    def wrappers(self, call: cst.Call) -> list[cst.FunctionDef]:
        """The wrapper functions a call runs before the function it names: its decorators'
        wrappers and a callable object's `__call__`."""
        return [frame for frame, _ in self._wrapper_frames(call)]

    def frames(self, call: cst.Call) -> list[tuple[cst.FunctionDef, list[cst.Call]]]:
        """(frame, the calls in it that run the work) for each frame a call enters: wrappers,
        the function it calls with the callables it is given, the function's own work."""
        out = self._wrapper_frames(call)
        function = self._callee(call)
        if function is not None:
            given = self._callable_params(function, call)
            if given:
                out.append((function, [c for c in self._own_calls(function)
                                       if dotted(c.func) in given]))
            work = self._work(function)
            if work:
                out.append((function, work))
        return out

    def _wrapper_frames(self, call: cst.Call) -> list[tuple[cst.FunctionDef, list[cst.Call]]]:
        out = []
        # `run(rid, event)` with `run = Guard(handler)`, `self.run(...)`, or `Guard(handler)(event)`.
        cls = self.index.instance_class(call.func)
        if cls is not None:
            out.extend(self._object_frame(cls))
        # `handler = reports(app.handler)` then `handler(event)`: the decorator's wrapper runs.
        if isinstance(call.func, cst.Name):
            for value in self.values.values_of(call.func)[0]:
                if isinstance(value[0], cst.Call):
                    out.extend(self._decorator_frames(value[0].func))
        function = self._callee(call)
        if function is not None:
            for decorator in reversed(function.decorators):
                out.extend(self._decorator_frames(decorator.decorator))
        return out

    def _decorator_frames(self, decorator) -> list[tuple[cst.FunctionDef, list[cst.Call]]]:
        """`@reports` / `@reports(kind)`: the wrapper the decorator returns, and its calls of the
        function it wraps; `@Reporting`: the class's `__call__`."""
        target = decorator.func if isinstance(decorator, cst.Call) else decorator
        name = dotted(target)
        if name in self.index.class_names:
            return self._object_frame(name)
        outer = self.index.function_defs.get(name)
        if outer is None or name in self.index.class_names:
            return []
        out = []
        wrapped = {p.name.value for p in _params(outer)}
        for inner in [n for n in walk(outer.body) if isinstance(n, cst.FunctionDef)]:
            wrapped |= {p.name.value for p in _params(inner)} if self._returns(outer, inner) else set()
        for inner in [n for n in walk(outer.body) if isinstance(n, cst.FunctionDef)]:
            own = {p.name.value for p in _params(inner)}
            calls = [c for c in self._own_calls(inner)
                     if isinstance(c.func, cst.Name) and c.func.value in wrapped - own]
            if calls:
                out.append((inner, calls))
        return out

    @staticmethod
    def _returns(outer: cst.FunctionDef, inner: cst.FunctionDef) -> bool:
        """Does ``outer`` return ``inner`` itself (a decorator factory returns its decorator)?"""
        return any(isinstance(n, cst.Return) and isinstance(n.value, cst.Name) and n.value.value == inner.name.value
                   for n in own_nodes(outer))

    def _object_frame(self, cls: str) -> list[tuple[cst.FunctionDef, list[cst.Call]]]:
        """A callable object: its `__call__`, and there its calls of a callable it keeps
        (`self.fn(*args)`, with `self.fn` set from a parameter) or is given."""
        method = self.index.method(cls, "__call__")
        if method is None:
            return []
        kept = {"self." + name.removeprefix("self.") for name, values in self.index.assignments.items()
                if name.startswith("self.") and any(isinstance(v, cst.Name) for v in values)}
        own = {p.name.value for p in _params(method)} - {"self"}
        calls = [c for c in self._own_calls(method) if dotted(c.func) in kept or
                 (isinstance(c.func, cst.Name) and c.func.value in own)]
        return [(method, calls)] if calls else []

    def _callee(self, call: cst.Call) -> cst.FunctionDef | None:
        """The file's function a call runs (`f(...)`, `self.f(...)`, `obj.f(...)` on an object of
        one of the file's classes)."""
        name = dotted(call.func)
        if not name:
            return None
        if name in self.index.function_names and name not in self.index.class_names:
            return self.index.function_defs.get(name)
        last = name.rsplit(".", 1)[-1]
        if isinstance(call.func, cst.Attribute):
            cls = self.index.instance_class(call.func.value)
            if cls is not None:
                return self.index.method(cls, last)
            if name.startswith(("self.", "cls.")) and last in self.index.function_names:
                return self.index.function_defs.get(last)
        return None

    def _callable_params(self, function: cst.FunctionDef, call: cst.Call) -> set[str]:
        """The parameters a call passes a callable to: a function of the file, a name imported
        from another module, an attribute of an imported module, a lambda."""
        params = [p.name.value for p in _params(function)]
        if params and params[0] in ("self", "cls") and isinstance(call.func, cst.Attribute):
            params = params[1:]
        given = set()
        for i, arg in enumerate(call.args):
            if arg.star:
                break
            name = arg.keyword.value if arg.keyword is not None else (params[i] if i < len(params) else None)
            if name is not None and self._is_callable(arg.value):
                given.add(name)
        return given

    def _is_callable(self, node) -> bool:
        if isinstance(node, cst.Lambda):
            return True
        name = dotted(node)
        if not name or isinstance(node, cst.Call):
            return False
        root = name.split(".")[0]
        return (name in self.index.function_names or root in self.index.imported_from
                or (root in self.index.imported_modules and "." in name)
                or self.handlers._module_alias(name))

    def _work(self, function: cst.FunctionDef) -> list[cst.Call]:
        """The calls that compute what a function returns (its handler's work, when a helper
        runs the handler: `def run(ev): try: return app.handle(ev) except Exception: ...`)."""
        cached = self._works.get(id(function))
        if cached is None:
            found: set[int] = set()
            for node in own_nodes(function):
                if isinstance(node, cst.Return) and node.value is not None:
                    self.handlers._producers(node.value, found, 0)
            cached = self._works[id(function)] = [c for c in self._own_calls(function) if id(c) in found]
        return cached

    @staticmethod
    def _own_calls(function: cst.FunctionDef) -> list[cst.Call]:
        return [n for n in own_nodes(function) if isinstance(n, cst.Call)]


def _ends_raising(function: cst.FunctionDef) -> bool:
    """Does the frame end by raising (`raise RuntimeError("gave up")` after a retry loop whose
    `except` only goes round again)? What it caught then leaves it after all."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    last = body[-1] if body else None
    return isinstance(last, cst.SimpleStatementLine) and any(isinstance(s, cst.Raise) for s in last.body)


def _params(function: cst.FunctionDef) -> list[cst.Param]:
    params = function.params
    return [*params.posonly_params, *params.params, *params.kwonly_params]
