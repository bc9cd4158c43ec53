"""Lowering a libcst tree of a Python bootstrap into the language-neutral runtime model.

Imported only when a Python bootstrap is met: libcst costs ~100 ms to import.
"""

from __future__ import annotations

import libcst as cst

from bootlint.model import (
    ApiCall,
    Branch,
    CallFunction,
    Endpoint,
    EnvSet,
    Exit,
    ExitKind,
    Guarded,
    HandlerCall,
    ArgvPayload,
    Handover,
    HeaderMatch,
    InitStep,
    Loop,
    LoopKind,
    Node,
    RuntimeModel,
    TempCreate,
    TempRemove,
    children,
    flatten,
)
from bootlint.diagnostics import Span
from bootlint.analysis.call_arms import ArmBinder
from bootlint.analysis.matching import RequestIds
from bootlint.frontends.python.callsites import Binder, frame_of
from bootlint.frontends.python.clients import Clients
from bootlint.frontends.python.conditions import PyConditions
from bootlint.frontends.python.facts import PythonRequestFacts, Requests
from bootlint.frontends.python.handlers import Guards, Handlers, contains, local_only
from bootlint.frontends.python.index import KNOWN_LIBRARIES, Index, code, dotted, kids, names_in, subscript_key
from bootlint.frontends.python.syntax import (PythonParse, compile_error, declared_encoding, libcst_error,
                                             positions_of)
from bootlint.frontends.python.values import Values
from bootlint.files.source import SourceFile
from bootlint.analysis.urls import classify
from bootlint.frontends.python.streaming import streaming_facts
from bootlint.frontends.python.workers import concurrency_facts

EXIT_CALLS = {"sys.exit", "os._exit", "exit", "quit", "os.abort"}
REMOVE_CALLS = {"os.remove", "os.unlink", "shutil.rmtree", "os.rmdir", "os.removedirs"}
HANDOVER_MODULES = {"awslambdaric"}


def lower(src: SourceFile, shebang=None) -> RuntimeModel:
    """The front end's entry point (a Python shebang switches nothing on)."""
    return lower_python(src)


def lower_python(src: SourceFile) -> RuntimeModel:
    """Parse a Python bootstrap and build its model; a file that does not parse gets BL900 only."""
    model = RuntimeModel(path=src.path, language="python", errexit_always=True)
    error = compile_error(src)
    if error is not None:
        model.syntax_errors = [error]
        return model
    encoding = declared_encoding(src.raw)
    if encoding:
        src.decode_as(encoding)
    try:
        module = cst.parse_module(src.text)
    except (cst.ParserSyntaxError, SyntaxError, ValueError) as exc:
        model.syntax_errors = [libcst_error(exc)]
        return model
    positions = positions_of(module)
    model.parsed = PythonParse(module, positions)   # for bootlint.frontends.python.fixes
    lowering = _Lowering(module, positions, model)
    model.main = lowering.block(module.body)
    lowering.mark_last_statement(module)
    lowering.bind_arms()
    model.concurrency = concurrency_facts(lowering, module, src.text)
    model.streaming = streaming_facts(lowering, module)
    model.comments = _comments(src.text)
    return model


def _comments(text: str) -> list[tuple[int, int, str, bool]]:
    """(line, column, text, alone on its line) of every comment, from the tokenizer (so a `#`
    inside a string is not one)."""
    import io
    import tokenize

    found = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                row, col = tok.start
                found.append((row, col + 1, tok.string, not tok.line[:col].strip()))
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    return found


def _presence_tested(test) -> set[str]:
    """The names a test only checks for presence (`x is None`, `x is not None`, `not x`, `x`,
    and `and`/`or` of those), as `[ -z "$x" ]` does in shell; empty when it tests anything else."""
    if isinstance(test, cst.Name):
        return {test.value}
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _presence_tested(test.expression)
    if isinstance(test, cst.BooleanOperation):
        left, right = _presence_tested(test.left), _presence_tested(test.right)
        return left | right if left and right else set()
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and \
            isinstance(test.left, cst.Name):
        target = test.comparisons[0]
        if isinstance(target.operator, (cst.Is, cst.IsNot)) and \
                isinstance(target.comparator, cst.Name) and target.comparator.value == "None":
            return {test.left.value}
    return set()


class _Lowering:
    def __init__(self, module: cst.Module, positions, model: RuntimeModel) -> None:
        self.positions = positions
        self.model = model
        self.index = index = Index(module)
        self.values = values = Values(index, self.span)
        self.clients = clients = Clients(index, values)
        self.function_names = index.function_names
        self.binder = Binder(index, values, clients)
        self.requests = Requests(index, values, clients)
        posted, self.requests.fetchers = self._through_helpers()
        handlers = Handlers(index, values, self.requests)
        self.handlers = handlers.handler_calls(posted)
        self.guards = Guards(index, values, handlers)
        self._handler_roots: set[str] | None = None
        self.next_names = self.requests.next_names(self.handlers)
        self.event_names = self.requests.event_names(self.next_names)
        self.request_facts = PythonRequestFacts(index, values, clients, self.span)
        # Each `if` (in the function being lowered) and call of the file's functions, for bind_arms.
        self.function: str | None = None
        self.branches: list[tuple[tuple[str, cst.BaseExpression], Branch]] = []
        self.calls: list[tuple[cst.Call, CallFunction]] = []
        # Classes of the module with an `__init__`: `Context(...)` runs it (filed under the
        # class's name, so two classes' constructors stay apart).
        self.constructors = {stmt.name.value: init for stmt in module.body
                             if isinstance(stmt, cst.ClassDef)
                             for init in _methods(stmt, "__init__")}

    def bind_arms(self) -> None:
        """Each call of the file's functions: the arms of the callee its arguments rule out."""
        conditions = PyConditions(self.values, self.binder, RequestIds(self.model.all_nodes))
        ArmBinder(conditions).bind(self.branches, self.calls)

    def _through_helpers(self) -> tuple[list, set[int]]:
        """The arguments, at the call site, that the file's helpers post to /response; and the
        calls of helpers that request `next` (what they return is the event, not a result)."""
        posted, fetchers = [], set()
        for function, sites in self.index.call_sites.items():
            for site in sites:
                requests, _ = self.binder.bind(function, site)
                for request in requests:
                    endpoints = {i.endpoint for i in request.infos}
                    if Endpoint.RESPONSE in endpoints:
                        posted.extend(self.binder.posted_arguments(request))
                    if Endpoint.NEXT in endpoints:
                        fetchers.add(id(site))
        return posted, fetchers

    def span(self, node: cst.CSTNode) -> Span:
        rng = self.positions[node]
        return Span(rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1)

    def mark_last_statement(self, module: cst.Module) -> None:
        """A script that ends by starting another runtime as a child (subprocess) hands over
        without exec (BL008); os.exec* is the exec form."""
        if not module.body or not isinstance(module.body[-1], cst.SimpleStatementLine):
            return
        last = module.body[-1].body[0]
        value = getattr(last, "value", None)
        if isinstance(value, cst.Call) and dotted(value.func) in ("sys.exit", "exit") and value.args:
            value = value.args[0].value
        if isinstance(value, cst.Call) and dotted(value.func).split(".")[0] == "subprocess":
            self.model.main.append(Handover(self.span(value), uses_exec=False, is_last=True,
                                            text=code(value)[:60]))
        for node in self.model.main:
            if isinstance(node, Handover) and node.uses_exec and node.span.line == self.span(last).line:
                node.is_last = True

    # -- statements --------------------------------------------------------------------------
    def block(self, body) -> list[Node]:
        out: list[Node] = []
        for stmt in body:
            lowered = self.statement(stmt)
            rng = self.positions.get(stmt)
            if rng is not None:
                self.model.statements.append((rng.start.line, rng.end.line))
            out.extend(lowered)
        return out

    def statement(self, stmt) -> list[Node]:
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            # `if failed: sys.exit(1)` on one line: the suite holds small statements too.
            return [n for small in stmt.body for n in self.small(small)]
        if isinstance(stmt, cst.IndentedBlock):
            return self.block(stmt.body)
        if isinstance(stmt, cst.FunctionDef):
            name = stmt.name.value
            if name not in self.model.functions:
                self.model.functions[name] = []
                outer, self.function = self.function, name
                # An `async def` whose coroutines are all dropped never runs: nothing in it happens.
                self.model.functions[name] = [] if self.clients.never_run(name) else self.statement(stmt.body)
                self.function = outer
            return []
        if isinstance(stmt, cst.ClassDef):
            init = self.constructors.get(stmt.name.value)
            if init is not None and stmt.name.value not in self.model.functions:
                self.model.functions[stmt.name.value] = []
                outer, self.function = self.function, stmt.name.value
                self.model.functions[stmt.name.value] = self.statement(init.body)
                self.function = outer
            body = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else ()
            self.block([s for s in body if s is not init]) if body else self.statement(stmt.body)
            return []
        if isinstance(stmt, cst.If):
            return [self._if(stmt)]
        if isinstance(stmt, cst.While):
            kind = LoopKind.INFINITE if self.values.truthy_constant(stmt.test) else LoopKind.CONDITIONAL
            return [Loop(self.span(stmt), kind=kind, cond=self.expr(stmt.test), body=self.statement(stmt.body))]
        if isinstance(stmt, cst.For):
            it = dotted(stmt.iter.func) if isinstance(stmt.iter, cst.Call) else ""
            kind = LoopKind.INFINITE if it in ("itertools.count", "count") else LoopKind.BOUNDED
            return [Loop(self.span(stmt), kind=kind, cond=self.expr(stmt.iter), body=self.statement(stmt.body))]
        if isinstance(stmt, cst.Try):
            return self._try(stmt)
        if isinstance(stmt, cst.With):
            out: list[Node] = []
            for item in stmt.items:
                out.extend(self.expr(item.item, targets=names_in(item.asname.name) if item.asname else set()))
            body = self.statement(stmt.body)
            if any(self.guards.manager_contains(item.item) for item in stmt.items):
                return out + [Guarded(self.span(stmt), body=body)]
            return out + body
        if isinstance(stmt, cst.Match):
            return [self._match(stmt)]
        body = getattr(stmt, "body", None)
        return self.statement(body) if body is not None else []

    def _match(self, stmt: cst.Match) -> Branch:
        """`match`: the subject is read, then at most one case's block runs (none, when no case
        catches everything: `case _:` or a bare capture, without a guard)."""
        arms = [self.statement(case.body) for case in stmt.cases]
        if not any(case.guard is None and isinstance(case.pattern, cst.MatchAs) and case.pattern.pattern is None
                   for case in stmt.cases):
            arms.append([])
        return Branch(self.span(stmt), cond=self.expr(stmt.subject), arms=arms)

    def _if(self, stmt: cst.If) -> Branch:
        cond = self.expr(stmt.test)
        arms = [self.statement(stmt.body)]
        if isinstance(stmt.orelse, cst.If):
            arms.append([self._if(stmt.orelse)])
        elif isinstance(stmt.orelse, cst.Else):
            arms.append(self.statement(stmt.orelse.body))
        else:
            arms.append([])
        failure = frozenset()
        if (names_in(stmt.test) & self.next_names or self._tests_next_parameter(stmt.test)) and \
                not any(isinstance(n, HandlerCall) for n in flatten(cond)):
            failure = frozenset(range(len(arms)))
        branch = Branch(self.span(stmt), cond=cond, arms=arms, failure_candidates=failure)
        if self.function is not None:
            self.branches.append(((self.function, stmt.test), branch))
        return branch

    def _tests_next_parameter(self, test) -> bool:
        """Does a helper's `if` test parameters that every call site passes a value read from
        `next` (`def report(rid, exc): if rid is None: sys.exit(1)` called as `report(rid, exc)`
        with `rid` a header of the `next` response)? Then it tests what `next` gave, as the same
        `if` written in the loop would: its arms that do no work are the failed-`next` path."""
        function = self.function
        params = _presence_tested(test) if function else set()
        if not params or not params <= self.index.param_names(function):
            return False
        sites = self.index.call_sites.get(function, ())
        if not sites or function not in self.index.function_defs:
            return False
        for site in sites:
            bindings = frame_of(self.index, function, site, None, site, (function,)).bindings
            for param in params:
                bound = bindings.get(param)
                if bound is None or not (isinstance(bound[0], cst.Name) and bound[0].value in self.next_names):
                    return False   # not passed, or passed something other than a value of `next`
        return True

    def _try(self, stmt: cst.Try) -> list[Node]:
        body = self.statement(stmt.body)
        guarded = contains(stmt, self.guards.never)
        cond: list[Node] = [Guarded(self.span(stmt), body=body)] if guarded else body
        arms = [[] if local_only(h) else self.statement(h.body) for h in stmt.handlers]
        if stmt.orelse is not None:
            arms.append(self.statement(stmt.orelse.body))
        failure = frozenset()
        if any(isinstance(n, ApiCall) and n.endpoint is Endpoint.NEXT for n in flatten(body)):
            failure = frozenset(range(len(stmt.handlers)))
        out: list[Node] = [Branch(self.span(stmt), cond=cond, arms=arms, failure_candidates=failure)]
        if stmt.finalbody is not None:
            final = self.statement(stmt.finalbody.body)
            # `finally` runs before a `return`, `continue` or `break` leaves the try: its
            # removals happen on those paths too (BL301 follows each path of an iteration).
            removals = [n for n in flatten(final) if isinstance(n, TempRemove)]
            if removals:
                for seq in (body, *arms):
                    _before_jumps(seq, removals)
            out.extend(final)
        return out

    def small(self, node) -> list[Node]:
        if isinstance(node, cst.Expr):
            return self.expr(node.value)
        if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            targets: set[str] = set()
            out: list[Node] = []
            raw_targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for target in raw_targets:
                targets |= names_in(target)
                out.extend(self._env_assignment(target))
            if node.value is not None:
                out = self.expr(node.value, targets=targets) + out
            return out
        if isinstance(node, cst.Return):
            out = self.expr(node.value) if node.value is not None else []
            return out + [Exit(self.span(node), kind=ExitKind.RETURN, text="return")]
        if isinstance(node, cst.Raise):
            out = self.expr(node.exc) if node.exc is not None else []
            exc = node.exc.func if isinstance(node.exc, cst.Call) else node.exc
            if exc is not None and dotted(exc).rsplit(".", 1)[-1] in ("SystemExit", "KeyboardInterrupt"):
                out.append(Exit(self.span(node), kind=ExitKind.EXIT, text=f"raise {dotted(exc)}"))
            else:
                out.append(Exit(self.span(node), kind=ExitKind.RAISE, text="raise"))
            return out
        if isinstance(node, cst.Break):
            return [Exit(self.span(node), kind=ExitKind.BREAK, text="break")]
        if isinstance(node, cst.Continue):
            return [Exit(self.span(node), kind=ExitKind.CONTINUE, text="continue")]
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            module = dotted(node.module) if isinstance(node, cst.ImportFrom) and node.module else ""
            if module.split(".")[0] in HANDOVER_MODULES:
                return [Handover(self.span(node), text=f"from {module} import ...")]
            return self._handler_import(node, module)
        return []

    def _handler_import(self, node, module: str) -> list[Node]:
        """`from app import handle` / `import app` of the module whose function is the handler:
        loading the handler's code, which can fail (an InitStep), as `importlib` can."""
        if isinstance(node.names, cst.ImportStar):
            return []
        if self._handler_roots is None:
            handler_calls = [c for c in self.index.calls if id(c) in self.handlers]
            roots = {dotted(c.func).split(".")[0] for c in handler_calls}
            # A handler given to a runner or a wrapper (`call_safely(main, rid, event)`): what
            # it is given is the handler.
            roots |= {_callable_root(a.value) for c in handler_calls for a in c.args} - {""}
            # `handler = lambda_function.handler` at the top, then `handler(event, ctx)`: the
            # module the name was taken from is the handler's too; so is the one of what a
            # wrapper made at the top keeps (`run = Reporting(app.handler)`).
            for root in list(roots):
                for value in self.index.scoped.get((None, root), ()):
                    if isinstance(value, (cst.Attribute, cst.Name)):
                        roots.add(dotted(value).split(".")[0])
                    elif isinstance(value, cst.Call):
                        roots |= {_callable_root(a.value) for a in value.args} - {""}
            self._handler_roots = roots
        roots = self._handler_roots
        for alias in node.names:
            bound = dotted(alias.asname.name) if alias.asname else dotted(alias.name).split(".")[0]
            source = module or dotted(alias.name)
            if bound in roots and source.split(".")[0] not in KNOWN_LIBRARIES:
                text = f"from {module} import {dotted(alias.name)}" if module else f"import {source}"
                return [InitStep(self.span(node), text=text)]
        return []

    def _env_assignment(self, target) -> list[Node]:
        """os.environ["NAME"] = ... sets the handler's environment."""
        if isinstance(target, cst.Subscript) and dotted(target.value) in ("os.environ", "environ"):
            key = self.values.literal(subscript_key(target))
            if key:
                return [EnvSet(self.span(target), name=key, exported=True)]
        if isinstance(target, cst.Name) and target.value.upper() in ("_X_AMZN_TRACE_ID", "X_AMZN_TRACE_ID"):
            return [EnvSet(self.span(target), name=target.value, exported=False)]
        return []

    # -- expressions -------------------------------------------------------------------------
    def expr(self, node, targets: set[str] | frozenset = frozenset()) -> list[Node]:
        """Events of the calls inside an expression, arguments before the call itself."""
        out: list[Node] = []
        stack: list = [(node, False)]
        while stack:
            cur, done = stack.pop()
            if cur is None:
                continue
            kind = type(cur)   # exact types: see Values._index
            if kind is cst.Call and done:
                out.extend(self.call(cur, targets))
                continue
            if kind is cst.Lambda or kind is cst.FunctionDef:
                continue
            if kind is cst.Call:
                stack.append((cur, True))
            elif kind is cst.Subscript:
                out.extend(self._header_match(cur))
            stack.extend((child, False) for child in reversed(kids(cur)))
        return out

    def call(self, call: cst.Call, targets) -> list[Node]:
        name = dotted(call.func)
        last = name.rsplit(".", 1)[-1]
        span = self.span(call)
        out: list[Node] = []
        if id(call) in self.handlers:
            out.append(HandlerCall(span, text=name[:80]))
        if (name in self.function_names or (name.startswith("self.") and last in self.function_names)
                or self.index.method_of_instance(name)) and not self.clients.dropped_coroutine(call):
            if not self.binder.is_bound_later(call):
                out.extend(self._bound_events(last, call))
            function = CallFunction(span, name=last)
            self.calls.append((call, function))
            out.append(function)
        if name in self.constructors and name not in self.function_names:
            function = CallFunction(span, name=name)
            out.append(function)
        if name in EXIT_CALLS:
            out.append(Exit(span, kind=ExitKind.EXIT, text=f"{name}()"))
        elif name.startswith("os.exec"):
            out.append(Handover(span, uses_exec=True, text=f"{name}()"))
            out.append(Exit(span, kind=ExitKind.EXEC, text=f"{name}()"))
        elif name in ("tempfile.mkstemp", "tempfile.mkdtemp", "mkstemp", "mkdtemp") or (
                last == "NamedTemporaryFile" and self.values.kwarg_false(call, "delete")):
            out.append(TempCreate(span, names=frozenset(targets), text=f"{name}()"))
        elif name in REMOVE_CALLS or last == "unlink" or last == "rmtree":
            removed = set().union(*(names_in(a.value) for a in call.args)) if call.args else set()
            if isinstance(call.func, cst.Attribute) and last == "unlink":
                removed |= names_in(call.func.value)
            out.append(TempRemove(span, names=frozenset(removed)))
        elif name in ("importlib.import_module", "import_module", "__import__"):
            out.append(InitStep(span, text=f"{name}()"))
        elif name in ("os.putenv", "os.environ.setdefault") and call.args:
            key = self.values.literal(call.args[0].value)
            if key:
                out.append(EnvSet(span, name=key, exported=True))
        elif name == "os.environ.update":
            for key in self.values.dict_keys(call):
                out.append(EnvSet(span, name=key, exported=True))
        elif last == "run" and name.split(".")[0] == "bootstrap":
            out.append(Handover(span, text=f"{name}()"))
        if name.split(".")[0] == "subprocess" or name in ("os.system", "os.spawnv", "os.spawnvp"):
            out.extend(self._argv_payload(call, name))
        if self.clients.request_call(call) is not None:
            out.extend(self.api_calls(call, last, targets))
        if any(isinstance(n, (HandlerCall, CallFunction)) for n in out):
            return self._through_frames(call, span, out)
        return out

    def _through_frames(self, call: cst.Call, span: Span, out: list[Node]) -> list[Node]:
        """A call of the handler or of the file's functions, with the frames it runs in: its
        decorators' wrappers and a callable object's `__call__` run around it (their bodies are
        walked from here), and when one of these frames, or the function it calls, stops the
        exceptions of the work it runs, the call is a guarded region."""
        out = out + [CallFunction(span, name=w.name.value) for w in self.guards.wrappers(call)
                     if self.index.function_defs.get(w.name.value) is w]
        if self.guards.contained(call):
            return [Guarded(span, body=out)]
        return out

    def _argv_payload(self, call: cst.Call, name: str) -> list[Node]:
        """The event passed as an argument to another program (Linux caps one at 128 KiB)."""
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value != "args":
                continue  # input=event, env=...: not the command line
            elements = arg.value.elements if isinstance(arg.value, (cst.List, cst.Tuple)) else [arg]
            for element in elements:
                if isinstance(element.value, cst.Name) and element.value.value in self.event_names:
                    return [ArgvPayload(self.span(element.value), program=name, text=element.value.value)]
        return []

    def _header_match(self, node: cst.Subscript) -> list[Node]:
        """resp.headers["Lambda-Runtime-..."] folds case; dict(resp.getheaders())[...] does not."""
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return []
        key = self.values.literal(node.slice[0].slice.value)
        if not key or not key.lower().startswith("lambda-runtime-"):
            return []
        value = node.value
        sources = [value] if not isinstance(value, cst.Name) else self.index.assignments.get(value.value, [])
        sensitive = bool(sources) and all(
            isinstance(v, (cst.Dict, cst.DictComp)) or (isinstance(v, cst.Call) and dotted(v.func) == "dict")
            for v in sources)
        if key == key.lower() and any(".lower()" in code(v) for v in sources):
            sensitive = False  # {k.lower(): v ...}["lambda-runtime-..."]: folded by hand
        return [HeaderMatch(self.span(node.slice[0]), header=key, case_sensitive=sensitive, how="subscript")]

    def _bound_events(self, function: str, site: cst.Call) -> list[Node]:
        """What calling one of the file's functions here requests and sets, its parameters bound
        to this call's arguments: reported at this call, naming the helper."""
        requests, env = self.binder.bind(function, site)
        span = self.span(site)
        out: list[Node] = []
        for req in requests:
            for info in req.infos:
                facts = self.request_facts.facts(req.call, req.method_name, info.endpoint, set())
                out.append(ApiCall(span, endpoint=info.endpoint, url=info, tool=req.method_name,
                                   method=req.method, facts=facts, via=req.chain,
                                   helper_span=self.span(req.url), sent_at=span))
        out.extend(EnvSet(span, name=e.name, exported=True) for e in env)
        return out

    def api_calls(self, call: cst.Call, method_name: str, targets) -> list[Node]:
        if id(call) in self.binder.parametric:
            return []  # depends on the function's parameters: read at each call site
        pairs, method, url_node = self.clients.sources(call, method_name)
        if url_node is None:
            return []
        calls: list[Node] = []
        seen = set()
        for alt, url_node in pairs:
            info = classify(alt)
            if info is None or (info.endpoint, info.unresolved) in seen:
                continue
            seen.add((info.endpoint, info.unresolved))
            facts = self.request_facts.facts(call, method_name, info.endpoint, targets)
            calls.append(ApiCall(self.span(url_node), endpoint=info.endpoint, url=info,
                                 tool=method_name, method=method, facts=facts,
                                 sent_at=self.span(self.clients.completed(call))))
        return calls


def _callable_root(node) -> str:
    """The first name of `name` or `module.attr.attr` (a function passed on), else ''."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return node.value if isinstance(node, cst.Name) else ""


def _before_jumps(seq: list[Node], removals: list[Node]) -> None:
    """Put copies of a `finally`'s removals before every jump out of ``seq`` (in place)."""
    from dataclasses import replace

    i = 0
    while i < len(seq):
        node = seq[i]
        if isinstance(node, Exit) and node.kind in (ExitKind.RETURN, ExitKind.CONTINUE, ExitKind.BREAK):
            seq[i:i] = [replace(r) for r in removals]
            i += len(removals) + 1
            continue
        for child in children(node):
            _before_jumps(child, removals)
        i += 1


def _methods(cls: cst.ClassDef, name: str) -> list[cst.FunctionDef]:
    """The methods of a class body with this name (the last definition wins in Python)."""
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    found = [s for s in body if isinstance(s, cst.FunctionDef) and s.name.value == name]
    return found[-1:]
