"""Requests and environment changes a Python function of the file makes for one call site,
with its parameters bound to the call's arguments (positional, keyword, defaults).

A request whose URL the function's body alone cannot decide because it comes from a parameter
(``def call(method, path): urlopen(Request(BASE + path, method=method))``) is read once per call
site instead, and reported there, naming the helper. Helpers that pass their parameters on to
other helpers are followed to a bounded depth; recursion stops.
"""

from __future__ import annotations

import libcst as cst

from bootlint.analysis.urls import classify
from bootlint.frontends.python.clients import Clients
from bootlint.frontends.python.index import Index, dotted, names_in, subscript_key, walk
from bootlint.frontends.python.values import MAX_CALL_DEPTH, PyFrame, Values, frame_of
from bootlint.util.records import dataclass


@dataclass
class BoundRequest:
    call: cst.Call          # the request in the innermost helper
    method_name: str
    url: object             # the URL expression
    infos: list             # UrlInfo for each way the URL reads
    method: str
    chain: tuple[str, ...]
    frame: PyFrame | None = None


@dataclass
class BoundEnv:
    name: str


ENV_SETTERS = {"os.putenv", "os.environ.setdefault", "putenv", "environ.setdefault"}


class Binder:
    """Decides once which requests depend on parameters, then reads them per call site."""

    def __init__(self, index: Index, values: Values, clients: Clients) -> None:
        self.index = index
        self.values = values
        self.clients = clients
        self.by_scope: dict[str | None, list[cst.Call]] = {}
        for call in index.calls:
            self.by_scope.setdefault(index.scope.get(id(call)), []).append(call)
        self.parametric: set[int] = set()
        self._bound: dict[int, tuple[list, list]] = {}
        self._environ: dict[str, list] = {}
        self._passed: dict[str, set[str]] = {}
        for function in index.call_sites:
            for call in self.by_scope.get(function, ()):
                last = clients.request_call(call)
                if last is not None and self._undecided(call, last) and \
                        self.mentions_params(call, function):
                    self.parametric.add(id(call))

    def _undecided(self, call: cst.Call, last: str) -> bool:
        alts, _, url = self.clients.readings(call, last)
        if url is None:
            return True
        infos = [classify(alt) for alt in alts]
        return not any(infos) or any(i is not None and i.unresolved for i in infos)

    def mentions_params(self, node, function: str | None, depth: int = 0,
                        only: set[str] | None = None) -> bool:
        """Does the expression read the function's parameters (``only`` these, when given),
        directly or through its locals?"""
        if function is None:
            return False
        params = self.index.param_names(function)
        if only is not None:
            params &= only
        names = names_in(node)
        if names & params:
            return True
        if depth > 4:
            return False
        return any(self.mentions_params(v, function, depth + 1, only)
                   for n in names for v in self.index.scoped.get((function, n), ()))

    def is_bound_later(self, site: cst.Call) -> bool:
        """A call inside a helper that passes the helper's parameters on: read when the helper's
        own call sites are."""
        owner = self.index.scope.get(id(site))
        if owner not in self.index.call_sites:
            return False
        passed = self.passed_params(owner)
        return any(self.mentions_params(a.value, owner, only=passed) for a in site.args)

    def passed_params(self, function: str) -> set[str]:
        """The parameters some call site of the function gives an argument for. The others
        always hold their default (`def main(*, env=os.environ)` called as `main()`): what
        depends only on them is the same for every call, and is read where it is written, in
        its loop, not at the call."""
        cached = self._passed.get(function)
        if cached is not None:
            return cached
        params = self.index.params.get(function, [])
        signature = self.index.function_defs[function].params
        positional = [p for p in params if p in signature.posonly_params or p in signature.params]
        passed: set[str] = set()
        for site in self.index.call_sites.get(function, ()):
            slots = positional
            if slots and slots[0].name.value in ("self", "cls") and (
                    isinstance(site.func, cst.Attribute) or function in self.index.class_names):
                slots = slots[1:]
            i = 0
            for arg in site.args:
                if arg.star:
                    passed = {p.name.value for p in params}   # *args, **kwargs: any of them
                    break
                if arg.keyword is None:
                    if i < len(slots):
                        passed.add(slots[i].name.value)
                    i += 1
                else:
                    passed.add(arg.keyword.value)
        self._passed[function] = passed
        return passed

    def bind(self, function: str, site: cst.Call) -> tuple[list[BoundRequest], list[BoundEnv]]:
        """What calling ``function`` at ``site`` requests and sets (computed once a site)."""
        cached = self._bound.get(id(site))
        if cached is not None:
            return cached
        requests: list[BoundRequest] = []
        env: list[BoundEnv] = []
        if function in self.index.function_defs:
            frame = frame_of(self.index, function, site, None, site, (function,))
            self._walk(frame, requests, env)
        self._bound[id(site)] = (requests, env)
        return requests, env

    def posted_arguments(self, request: BoundRequest) -> list:
        """The expressions, as written at the call site, that become the request's body."""
        out = []
        stack = [(payload, request.frame) for payload in self.clients.payload(request.call)]
        while stack:
            expr, frame = stack.pop()
            if frame is None:
                out.append(expr)
                continue
            for name in names_in(expr) & set(frame.bindings):
                value, _, caller = frame.bindings[name]
                stack.append((value, caller))
        return out

    def _walk(self, frame: PyFrame, requests: list, env: list) -> None:
        index, values, clients = self.index, self.values, self.clients
        for call in self.by_scope.get(frame.function, ()):
            name = dotted(call.func)
            last = name.rsplit(".", 1)[-1]
            if id(call) in self.parametric:
                alts, method, url = clients.readings(call, last, frame)
                if url is None:
                    continue
                infos = []
                for alt in alts:
                    info = classify(alt)
                    if info is not None and all((i.endpoint, i.unresolved) != (info.endpoint, info.unresolved)
                                                for i in infos):
                        infos.append(info)
                requests.append(BoundRequest(call, last, url, infos, method, frame.chain, frame))
                continue
            if name in ENV_SETTERS and call.args and self.mentions_params(call.args[0].value, frame.function):
                key = values.literal(call.args[0].value, frame)
                if key:
                    env.append(BoundEnv(key))
                continue
            callee = name.removeprefix("self.")
            if (callee in index.call_sites and callee not in frame.chain
                    and len(frame.chain) < MAX_CALL_DEPTH
                    and self.is_bound_later(call)):
                inner = frame_of(index, callee, call, frame, frame.site, frame.chain + (callee,))
                self._walk(inner, requests, env)
        # os.environ[name] = value with the name a parameter.
        for key_node in self._environ_keys(frame.function):
            key = values.literal(key_node, frame)
            if key:
                env.append(BoundEnv(key))

    def _environ_keys(self, function: str) -> list:
        """The keys of `os.environ[key] = ...` in a helper that come from its parameters (found
        once a helper, not once a call site: a helper called from thousands of lines)."""
        keys = self._environ.get(function)
        if keys is None:
            keys = self._environ[function] = []
            for node in walk(self.index.function_defs[function].body):
                if isinstance(node, cst.Assign):
                    for target in node.targets:
                        t = target.target
                        key = subscript_key(t) if isinstance(t, cst.Subscript) else None
                        if key is not None and dotted(t.value) in ("os.environ", "environ") \
                                and self.mentions_params(key, function):
                            keys.append(key)
        return keys
