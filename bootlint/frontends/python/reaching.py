"""Which assignments of a name reach each place it is read, in one scope's body: the value a
name holds where it is read is one written on a path that gets there (`req = Request(.../error)`
in an `except` that ends in `continue` never reaches the `urlopen(req)` of the success path).

Structured, over the statements of one function (or the module): branches merge, loops run
their body twice (what the end of an iteration assigns reaches its start), a `continue` goes back
to the loop's start, a `break` out of it, `return` and `raise` end the path, a `try`'s handlers
start from any point of its body. Only names assigned more than once in the scope are followed;
for the rest there is nothing to choose.
"""

from __future__ import annotations

import libcst as cst

from bootlint.frontends.python.index import bindings_of, kids

Env = dict   # name -> tuple of the value nodes that may be its value here
_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def _merge(*envs: Env | None) -> Env | None:
    live = [e for e in envs if e is not None]
    if not live:
        return None
    out: Env = {}
    for env in live:
        for name, values in env.items():
            have = out.get(name, ())
            out[name] = have + tuple(v for v in values if not any(v is h for h in have))
    # A name one path never assigned keeps what the others give (the read falls back to every
    # assignment only when no path assigns it).
    return out


class Reaching:
    """The values of the ``tracked`` names that reach each of their reads in ``body``."""

    def __init__(self, body, tracked: set[str]) -> None:
        self.tracked = tracked
        self.reach: dict[int, tuple] = {}
        self._loops: list[tuple[list, list]] = []
        self.block(body, {})

    def values_at(self, name_node: cst.Name) -> tuple | None:
        """The values that reach this read; None when the read was not followed."""
        return self.reach.get(id(name_node))

    # -- reads ---------------------------------------------------------------------------------
    def reads(self, node, env: Env | None) -> None:
        if node is None or env is None:
            return
        stack = [node]
        while stack:
            cur = stack.pop()
            kind = type(cur)
            if kind is cst.Name:
                if cur.value in self.tracked:
                    have = self.reach.get(id(cur), ())
                    self.reach[id(cur)] = have + tuple(v for v in env.get(cur.value, ())
                                                       if not any(v is h for h in have))
                continue
            if kind in _SCOPES:
                continue   # read when it is called, not here
            stack.extend(kids(cur))

    def bind(self, target, value, env: Env) -> None:
        for name, bound in bindings_of(target, value):
            if name in self.tracked:
                env[name] = (bound,)

    # -- statements -----------------------------------------------------------------------------
    def block(self, body, env: Env | None, after: list | None = None) -> Env | None:
        """The names' values after ``body`` (a node list, or a block node); None when no path
        gets past its end. ``after`` collects the state after each statement."""
        stmts = body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite, cst.Module)) else body
        if isinstance(stmts, cst.BaseSuite):
            stmts = [stmts]
        for stmt in stmts:
            if env is None:
                return None
            env = self.statement(stmt, env)
            if after is not None and env is not None:
                after.append(env)
        return env

    def statement(self, stmt, env: Env) -> Env | None:
        kind = type(stmt)
        if kind in (cst.SimpleStatementLine, cst.SimpleStatementSuite):
            for small in stmt.body:
                env = self.small(small, env)
                if env is None:
                    return None
            return env
        if kind is cst.If:
            self.reads(stmt.test, env)
            taken = self.block(stmt.body, dict(env))
            if isinstance(stmt.orelse, cst.If):
                other = self.statement(stmt.orelse, dict(env))
            elif isinstance(stmt.orelse, cst.Else):
                other = self.block(stmt.orelse.body, dict(env))
            else:
                other = env
            return _merge(taken, other)
        if kind is cst.While or kind is cst.For:
            return self._loop(stmt, env)
        if kind is cst.Try or kind is getattr(cst, "TryStar", None):
            return self._try(stmt, env)
        if kind is cst.With:
            env = dict(env)
            for item in stmt.items:
                self.reads(item.item, env)
                if item.asname is not None:
                    for name in _names(item.asname.name):
                        if name in self.tracked:
                            env[name] = (item.item,)
            return self.block(stmt.body, env)
        if kind in (cst.FunctionDef, cst.ClassDef):
            return env
        # Anything else (match, ...): each of its blocks may or may not run.
        out = env
        for child in kids(stmt):
            if isinstance(child, cst.BaseSuite):
                out = _merge(out, self.block(child, dict(env)))
            else:
                self.reads(child, env)
        return out

    def small(self, node, env: Env) -> Env | None:
        kind = type(node)
        if kind is cst.Assign:
            self.reads(node.value, env)
            env = dict(env)
            for target in node.targets:
                self.bind(target.target, node.value, env)
            return env
        if kind is cst.AnnAssign:
            self.reads(node.value, env)
            if node.value is None:
                return env
            env = dict(env)
            self.bind(node.target, node.value, env)
            return env
        if kind is cst.Return or kind is cst.Raise:
            self.reads(node, env)
            return None
        if kind is cst.Continue:
            if self._loops:
                self._loops[-1][0].append(env)
            return None
        if kind is cst.Break:
            if self._loops:
                self._loops[-1][1].append(env)
            return None
        self.reads(node, env)
        return env

    def _loop(self, stmt, env: Env) -> Env | None:
        continues: list = []
        breaks: list = []
        self._loops.append((continues, breaks))
        head = env
        for _ in range(2):
            if isinstance(stmt, cst.While):
                self.reads(stmt.test, head)
                start = dict(head)
            else:
                self.reads(stmt.iter, head)
                start = dict(head)
                for name in _names(stmt.target):
                    if name in self.tracked:
                        start[name] = ()   # the loop gives it: nothing of this file's to follow
            end = self.block(stmt.body, start)
            head = _merge(env, end, *continues) or env
        self._loops.pop()
        if isinstance(stmt, cst.While) and _always_true(stmt.test):
            return _merge(*breaks)   # `while True:` is left only by a `break`
        done = self.block(stmt.orelse.body, dict(head)) if stmt.orelse is not None else head
        return _merge(done, *breaks)

    def _try(self, stmt, env: Env) -> Env | None:
        states: list = [env]
        body = self.block(stmt.body, dict(env), states)
        anywhere = _merge(*states)
        outs = []
        for handler in stmt.handlers:
            start = dict(anywhere)
            if handler.name is not None:
                for name in _names(handler.name.name):
                    if name in self.tracked:
                        start[name] = ()
            outs.append(self.block(handler.body, start))
        if stmt.orelse is not None and body is not None:
            body = self.block(stmt.orelse.body, dict(body))
        out = _merge(body, *outs)
        if stmt.finalbody is not None:
            final = self.block(stmt.finalbody.body, dict(_merge(out, anywhere) or env))
            return final if out is not None else None
        return out


def _always_true(test) -> bool:
    """`True` or a non-zero number: a loop test that never fails."""
    if isinstance(test, cst.Name):
        return test.value == "True"
    return isinstance(test, cst.Integer) and test.evaluated_value != 0


def _names(target) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _names(e.value)]
    if isinstance(target, cst.StarredElement):
        return _names(target.value)
    return []
