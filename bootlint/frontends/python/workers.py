"""Concurrent workers in a Python bootstrap (Lambda Managed Instances): threads, processes,
pools and asyncio tasks whose function loops on `next`; how many; the files they all write;
where they set the trace id; and how the process Lambda started ends while they serve
(:mod:`bootlint.model.concurrency`).

Facts of Python this rests on: `os.environ` is the process's environment, shared by its threads
and tasks; a child process has its own; the interpreter waits for non-daemon threads and
joins non-daemon `multiprocessing` children at exit, but not for daemon ones; `asyncio.run`
cancels the tasks still pending when its coroutine returns.
"""

from __future__ import annotations

import libcst as cst

from bootlint.model import ApiCall, CallFunction, Endpoint, Loop, flatten
from bootlint.model.concurrency import (
    MAX_CONCURRENCY, Concurrency, CountSource, ParentEnd, PathWrite, TraceWrite, Worker,
    WorkerCount, WorkerKind, count_from_variable,
)
from bootlint.frontends.python.index import code, dotted, walk

TRACE_VARIABLE = "_X_AMZN_TRACE_ID"
DEADLINE_HEADER = "lambda-runtime-deadline-ms"

# How each library starts workers, as data: the call's last name -> (kind, where the work is).
# "target": the `target=` keyword (or the positional index given); "submit": a pool whose
# `submit`/`map`/`apply_async` calls name the work; "awaitable": the coroutine call passed in.
STARTERS: dict[str, tuple[WorkerKind, str, int | None]] = {
    "Thread": (WorkerKind.THREAD, "target", 1),
    "Process": (WorkerKind.PROCESS, "target", 1),
    "ThreadPoolExecutor": (WorkerKind.THREAD, "submit", 0),
    "ProcessPoolExecutor": (WorkerKind.PROCESS, "submit", 0),
    "Pool": (WorkerKind.PROCESS, "submit", 0),
    "create_task": (WorkerKind.TASK, "awaitable", 0),
    "ensure_future": (WorkerKind.TASK, "awaitable", 0),
    "gather": (WorkerKind.TASK, "awaitable", None),
}
POOL_METHODS = {"submit", "map", "apply_async", "apply", "starmap", "imap", "imap_unordered",
                "map_async", "starmap_async"}
# Where the count is given to a pool: keyword names, and "CPU count" when absent.
POOL_COUNT_KEYWORDS = ("max_workers", "processes")
ENV_READS = {"os.environ.get", "environ.get", "os.getenv", "getenv"}
WRITE_MODES = ("w", "x", "+")      # ("a" appends: a log all workers add lines to is shared on purpose)
WRITE_METHODS = {"write_text", "write_bytes"}
PRIVATE_PATHS = ("/dev/", "/proc/self/")
TEMP_MAKERS = {"mkstemp", "mktemp", "NamedTemporaryFile", "mkdtemp"}
JOINS = {"join", "wait", "waitpid", "shutdown", "result", "gather", "wait_for", "as_completed"}


def concurrency_facts(lowering, module: cst.Module, text: str) -> Concurrency | None:
    """The concurrency facts of a lowered Python module, whose source is ``text`` (None when it
    starts no workers and never reads AWS_LAMBDA_MAX_CONCURRENCY)."""
    return _Workers(lowering, module, text).facts()


class _Workers:
    def __init__(self, lowering, module: cst.Module, text: str) -> None:
        self.low = lowering
        self.text = text
        self.values = lowering.values
        self.index = lowering.index
        self.model = lowering.model
        self.module = module
        self._loops_cache: dict[str, bool] = {}

    def span(self, node):
        return self.low.span(node)

    @property
    def parents(self) -> dict[int, object]:
        """Each node's parent (the index's map, made only for a file that asks)."""
        return self.index.parents

    def facts(self) -> Concurrency | None:
        out = Concurrency()
        # The names are looked for in the text first: most files hold neither.
        text = self.text
        strings = [n for n in walk(self.module) if isinstance(n, cst.SimpleString)] \
            if MAX_CONCURRENCY in text or DEADLINE_HEADER in text.lower() else []
        reads = [s for s in strings if self.values.literal(s) == MAX_CONCURRENCY]
        out.deadline_read = any(DEADLINE_HEADER in s.value.lower() for s in strings)
        if reads:
            out.reads_max_concurrency = self.span(reads[0])
        starts = [s for s in (self._start(c) for c in self.index.calls) if s is not None]
        starts = [s for s in starts if any(self._loops_on_next(f) for f in s[2])]
        if len(starts) == 1 and starts[0][3] is None and self._count_around(starts[0][0], 1).text == "1":
            starts = []   # one loop run by one thread or process: one invocation at a time, no pool
        if not starts and not reads:
            return None
        sites: dict[tuple, int] = {}
        for call, _, functions, _ in starts:
            sites[tuple(functions)] = sites.get(tuple(functions), 0) + 1
        for call, kind, functions, count in starts:
            if count is None:
                count = self._count_around(call, sites[tuple(functions)])
            out.workers.append(Worker(self.span(call), kind, count, code(call)[:60]))
            for function in self._closure(functions):
                out.shared_writes.extend(self._shared_writes(function))
                out.trace_writes.extend(TraceWrite(span, kind, "") for span in self._trace_writes(function))
        out.parent_ends = self._parent_ends(starts)
        return out

    # -- which calls start workers ------------------------------------------------------------
    def _start(self, call: cst.Call):
        """(call, kind, the file's functions it runs, its count if the call says) or None."""
        name = dotted(call.func)
        last = name.rsplit(".", 1)[-1]
        if name in ("os.fork", "fork"):
            loop = self._enclosing(call, (cst.For, cst.While))
            body = loop if loop is not None else self.module
            functions = self._called_functions(body, exclude=call)
            return (call, WorkerKind.PROCESS, functions, None)
        starter = STARTERS.get(last)
        if starter is None:
            return None
        kind, how, at = starter
        if how == "target":
            target = self._argument(call, "target", at)
            functions = [self._function_name(target)] if target is not None else []
            return (call, kind, [f for f in functions if f], None)
        if how == "awaitable":
            functions = []
            for arg in call.args:
                for node in walk(arg.value):
                    if isinstance(node, cst.Call) and dotted(node.func) in self.index.function_defs:
                        functions.append(dotted(node.func))
            count = None
            if last == "gather":
                count = self._count_in_comprehension(call)
            return (call, kind, functions, count)
        # A pool: the work is what its submit/map calls name; the count is its argument.
        functions = self._pool_work(call)
        size = self._argument(call, POOL_COUNT_KEYWORDS[0], at) or self._argument(call, POOL_COUNT_KEYWORDS[1], None)
        if size is None:
            count = WorkerCount(CountSource.OTHER, self.span(call), f"{last}() (the CPU count)")
        else:
            count = self._count_expr(size)
        return (call, kind, functions, count)

    def _pool_work(self, pool: cst.Call) -> list[str]:
        """Functions given to the pool's submit/map, through the name it is bound to."""
        holder = self.parents.get(id(pool))
        names = set()
        if isinstance(holder, cst.WithItem) and holder.asname is not None:
            names.add(dotted(holder.asname.name))
        elif isinstance(holder, cst.Assign):
            names |= {dotted(t.target) for t in holder.targets}
        out = []
        for call in self.index.calls:
            if isinstance(call.func, cst.Attribute) and call.func.attr.value in POOL_METHODS and \
                    (dotted(call.func.value) in names or call.func.value is pool) and call.args:
                name = self._function_name(call.args[0].value)
                if name:
                    out.append(name)
        return out

    def _function_name(self, node) -> str | None:
        if node is None:
            return None
        if isinstance(node, cst.Call) and dotted(node.func) in ("functools.partial", "partial") and node.args:
            node = node.args[0].value
        name = dotted(node)
        if name.startswith("self."):
            name = name[5:]
        return name if name in self.index.function_defs else None

    def _called_functions(self, body, exclude) -> list[str]:
        return [dotted(n.func) for n in walk(body) if isinstance(n, cst.Call) and n is not exclude
                and dotted(n.func) in self.index.function_defs]

    @staticmethod
    def _argument(call: cst.Call, keyword: str, position: int | None):
        for i, arg in enumerate(call.args):
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg.value
        positional = [a for a in call.args if a.keyword is None and a.star == ""]
        if position is not None and position < len(positional):
            return positional[position].value
        return None

    def _loops_on_next(self, name: str) -> bool:
        if name not in self._loops_cache:
            self._loops_cache[name] = False
            self._loops_cache[name] = self._loops_in(name, set())
        return self._loops_cache[name]

    def _loops_in(self, name: str, seen: set[str]) -> bool:
        if name in seen or name not in self.model.functions:
            return False
        seen.add(name)
        for node in flatten(self.model.functions[name]):
            if isinstance(node, Loop) and self._requests_next(node.cond + node.body, set()):
                return True
            if isinstance(node, CallFunction) and self._loops_in(node.name, seen):
                return True
        return False

    def _requests_next(self, nodes, seen: set[str]) -> bool:
        for node in flatten(nodes):
            if isinstance(node, ApiCall) and node.endpoint is Endpoint.NEXT:
                return True
            if isinstance(node, CallFunction) and node.name not in seen and node.name in self.model.functions:
                seen.add(node.name)
                if self._requests_next(self.model.functions[node.name], seen):
                    return True
        return False

    def _closure(self, functions: list[str]) -> list[str]:
        seen: list[str] = []
        todo = list(functions)
        while todo:
            name = todo.pop()
            if name in seen or name not in self.index.function_defs:
                continue
            seen.append(name)
            todo.extend(self._called_functions(self.index.function_defs[name], exclude=None))
        return seen

    # -- how many ---------------------------------------------------------------------------
    def _count_around(self, call: cst.Call, same_sites: int) -> WorkerCount:
        """The count of a start repeated by a loop or a comprehension around it."""
        around = self._enclosing(call, (cst.For, cst.While, cst.ListComp, cst.GeneratorExp, cst.SetComp))
        if around is None:
            return WorkerCount(CountSource.LITERAL, self.span(call), str(same_sites))
        if isinstance(around, cst.While):
            if self.values.truthy_constant(around.test):
                return WorkerCount(CountSource.UNBOUNDED, self.span(around.test), "while True")
            return WorkerCount(CountSource.UNKNOWN)
        iterable = around.iter if isinstance(around, cst.For) else around.for_in.iter
        return self._range_count(iterable)

    def _count_in_comprehension(self, call: cst.Call) -> WorkerCount | None:
        for arg in call.args:
            value = arg.value
            if isinstance(value, (cst.ListComp, cst.GeneratorExp)):
                return self._range_count(value.for_in.iter)
        return None

    def _range_count(self, iterable) -> WorkerCount:
        if isinstance(iterable, cst.Call) and dotted(iterable.func) == "range" and iterable.args:
            return self._count_expr(iterable.args[-1].value if len(iterable.args) < 3 else iterable.args[1].value)
        if isinstance(iterable, (cst.List, cst.Tuple)):
            return WorkerCount(CountSource.LITERAL, self.span(iterable), f"{len(iterable.elements)} items")
        if isinstance(iterable, cst.Call) and dotted(iterable.func) in ("itertools.count", "count"):
            return WorkerCount(CountSource.UNBOUNDED, self.span(iterable), code(iterable))
        return WorkerCount(CountSource.UNKNOWN)

    def _count_expr(self, node, depth: int = 0) -> WorkerCount:
        span, text = self.span(node), code(node)[:60]
        sources = self._sources(node, depth)
        for source, default in sources:
            if source == "variable":
                result = count_from_variable(default)
                if result is CountSource.VARIABLE_NO_DEFAULT and default is None and \
                        any(s == "literal" and d == "1" for s, d in sources):
                    result = CountSource.MAX_CONCURRENCY
                return WorkerCount(result, span, text, default)
        if sources and all(s == "literal" for s, _ in sources):
            return WorkerCount(CountSource.LITERAL, span, text)
        if any(s == "other" for s, _ in sources):
            return WorkerCount(CountSource.OTHER, span, text)
        return WorkerCount(CountSource.UNKNOWN)

    def _sources(self, node, depth: int) -> list[tuple[str, str | None]]:
        """Where an expression's value can come from: ("variable", default) for
        AWS_LAMBDA_MAX_CONCURRENCY, ("literal", text), ("other", None)."""
        if depth > 5 or node is None:
            return []
        if isinstance(node, cst.Integer):
            return [("literal", node.value)]
        if isinstance(node, cst.SimpleString):
            return [("literal", self.values.literal(node))]
        if isinstance(node, cst.Subscript) and dotted(node.value) in ("os.environ", "environ"):
            key = self.values.literal(node.slice[0].slice.value) if isinstance(node.slice[0].slice, cst.Index) else None
            return [("variable", None)] if key == MAX_CONCURRENCY else [("other", None)]
        if isinstance(node, cst.Call):
            name = dotted(node.func)
            if name in ENV_READS and node.args:
                if self.values.literal(node.args[0].value) != MAX_CONCURRENCY:
                    return [("other", None)]
                default = None
                if len(node.args) > 1:
                    default = self.values.literal(node.args[1].value)
                    if default is None and isinstance(node.args[1].value, cst.Integer):
                        default = node.args[1].value.value
                return [("variable", default)]
            if name in ("int", "max", "min", "abs", "float") or name.endswith((".get",)):
                out = []
                for arg in node.args:
                    out.extend(self._sources(arg.value, depth + 1))
                return out
            return [("other", None)]
        if isinstance(node, cst.BooleanOperation):
            return self._sources(node.left, depth + 1) + self._sources(node.right, depth + 1)
        if isinstance(node, cst.Name):
            out = []
            for value in self.index.assignments.get(node.value, []):
                out.extend(self._sources(value, depth + 1))
            return out
        return [("other", None)] if not isinstance(node, cst.BinaryOperation) else (
            self._sources(node.left, depth + 1) + self._sources(node.right, depth + 1))

    # -- what the workers write -------------------------------------------------------------
    def _shared_writes(self, function: str) -> list[PathWrite]:
        body = self.index.function_defs[function]
        out = []
        for node in walk(body):
            if not isinstance(node, cst.Call):
                continue
            name = dotted(node.func)
            path = None
            if name in ("open", "io.open", "os.open") and node.args:
                mode = self._argument(node, "mode", 1)
                text = self.values.literal(mode) if mode is not None else "r"
                if name == "os.open" or (text and any(m in text for m in WRITE_MODES)):
                    path = node.args[0].value
            elif isinstance(node.func, cst.Attribute) and node.func.attr.value in WRITE_METHODS:
                holder = node.func.value
                if isinstance(holder, cst.Call) and dotted(holder.func).rsplit(".", 1)[-1] == "Path" and holder.args:
                    path = holder.args[0].value
            if path is None:
                continue
            why = self._same_everywhere(path, function)
            if why:
                out.append(PathWrite(self.span(path), code(path)[:60], why))
        return out

    def _same_everywhere(self, path, function: str) -> str:
        if isinstance(path, cst.SimpleString):
            text = self.values.literal(path) or ""
            return "" if not text or text.startswith(PRIVATE_PATHS) else "a fixed path"
        if isinstance(path, cst.Name):
            local = self.index.scoped.get((function, path.value))
            params = {p.name.value for p in self.index.params.get(function, [])}
            if local or path.value in params:
                return ""
            values = self.index.scoped.get((None, path.value)) or []
            if not values:
                return ""
            if all(isinstance(v, cst.SimpleString) for v in values):
                return f"`{path.value}` is set once, at start-up, the same for every worker"
            if all(isinstance(v, (cst.Call, cst.Subscript)) and any(
                    m in code(v) for m in TEMP_MAKERS) for v in values):
                return f"`{path.value}` is made once, before the workers start, and every worker uses it"
        return ""

    def _trace_writes(self, function: str) -> list:
        body = self.index.function_defs[function]
        out = []
        for node in walk(body):
            if isinstance(node, (cst.Assign, cst.AugAssign)):
                targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, cst.Subscript) and dotted(target.value) in ("os.environ", "environ") \
                            and isinstance(target.slice[0].slice, cst.Index) \
                            and self.values.literal(target.slice[0].slice.value) == TRACE_VARIABLE:
                        out.append(self.span(target))
            elif isinstance(node, cst.Call) and dotted(node.func) in ("os.putenv", "os.environ.setdefault") \
                    and node.args and self.values.literal(node.args[0].value) == TRACE_VARIABLE:
                out.append(self.span(node))
        return out

    # -- how the first process ends -----------------------------------------------------------
    def _parent_ends(self, starts) -> list[ParentEnd]:
        out = []
        joins = [c for c in self.index.calls if isinstance(c.func, cst.Attribute) and c.func.attr.value in JOINS
                 or dotted(c.func).rsplit(".", 1)[-1] in JOINS]
        for call, kind, functions, _ in starts:
            name = dotted(call.func)
            if name in ("os.fork", "fork"):
                if not any(dotted(c.func).startswith("os.wait") for c in self.index.calls):
                    out.append(ParentEnd(self.span(call), (
                        "the workers are forked and nothing waits for them (`os.wait()`, `os.waitpid()`): "
                        "the first process reaches the end of the script and exits")))
            elif kind is not WorkerKind.TASK and self._daemon(call) and not self._joined(call, joins):
                out.append(ParentEnd(self.span(call), (
                    f"the workers are daemon {kind.value}s and nothing joins them: the interpreter does "
                    f"not wait for daemon workers, so it exits when the main thread reaches the end of "
                    f"the script")))
            elif kind is WorkerKind.TASK and dotted(call.func).rsplit(".", 1)[-1] != "gather":
                function = self._enclosing(call, (cst.FunctionDef,))
                if function is not None and not self._awaits_tasks(function) and \
                        self._enclosing(call, (cst.With,)) is None:
                    out.append(ParentEnd(self.span(call), (
                        "the coroutine that creates the worker tasks returns without awaiting them: "
                        "`asyncio.run` then cancels them and the script ends")))
        return out

    def _daemon(self, call: cst.Call) -> bool:
        arg = self._argument(call, "daemon", None)
        if arg is not None:
            return self.values.truthy_constant(arg)
        holder = self.parents.get(id(call))
        names = {dotted(t.target) for t in holder.targets} if isinstance(holder, cst.Assign) else set()
        for node in walk(self.module):
            if isinstance(node, cst.Assign) and len(node.targets) == 1:
                target = node.targets[0].target
                if isinstance(target, cst.Attribute) and target.attr.value == "daemon" and \
                        dotted(target.value) in names and self.values.truthy_constant(node.value):
                    return True
        return False

    def _joined(self, call, joins) -> bool:
        """Something joins or waits (`t.join()`, `event.wait()`, a pool's shutdown, `signal.pause()`),
        or the main program loops forever (`while True: time.sleep(60)`)."""
        if joins or any(dotted(c.func) in ("signal.pause", "pause") for c in self.index.calls):
            return True
        return any(isinstance(stmt, cst.While) and self.values.truthy_constant(stmt.test)
                   for stmt in self.module.body)

    def _awaits_tasks(self, function) -> bool:
        for node in walk(function):
            if isinstance(node, cst.Await):
                return True
        return False

    def _enclosing(self, node, kinds: tuple):
        cur = self.parents.get(id(node))
        while cur is not None:
            if isinstance(cur, kinds):
                return cur
            if isinstance(cur, cst.FunctionDef) and cst.FunctionDef not in kinds:
                return None
            cur = self.parents.get(id(cur))
        return None
