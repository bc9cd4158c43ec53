"""Conditions on a Python helper's parameters, folded with the arguments of one call site: which
arm of an `if` in the helper cannot run for that call.

`def post(path, body): ...; if path == "init/error": sys.exit(1)` called as
`post(f"invocation/{rid}/error", body)` never exits: the `if` arm is ruled out for that call.
Folded: `==`, `!=`, `in` / `not in` (a tuple of strings, or a substring), `is None`,
`.startswith()` / `.endswith()`, `not`, `and`, `or`, and the truth of a constant (`fatal=False`),
against strings written out or module constants (`INIT_ERROR = "init/error"`). A parameter the
function binds again is not folded, nor is anything else.
"""

from __future__ import annotations

from typing import Container

import libcst as cst

from bootlint.analysis.matching import either, literal_pattern, matches, negate, substring_pattern
from bootlint.frontends.python.callsites import frame_of
from bootlint.frontends.python.index import names_in, walk
from bootlint.frontends.python.values import PyFrame, Values

_NOT_FOUND = object()


class PyConditions:
    """Folds the tests of a Python file in a frame (a helper's parameters bound to a call's
    arguments): Python's :class:`~bootlint.analysis.call_arms.Folding`. A branch's syntax is (the
    function it is written in, the `if`'s test); ``binder`` is the front end's
    :class:`~bootlint.frontends.python.callsites.Binder`; ``request_ids``: the names that hold a request id
    (see bootlint.analysis.matching)."""

    def __init__(self, values: Values, binder, request_ids: Container[str]) -> None:
        self.values = values
        self.binder = binder
        self.request_ids = request_ids
        self._assigned_in: dict[str, set[str]] = {}

    # -- bootlint.analysis.call_arms.Folding ------------------------------------------------------------
    def owner(self, syntax) -> str | None:
        if isinstance(syntax, tuple):
            return syntax[0]
        owner = self.values.index.scope.get(id(syntax))
        return owner if owner in self.values.index.function_defs else None

    def tests_parameters(self, syntax, function: str) -> bool:
        return self.binder.mentions_params(syntax[1], function)

    def passes_parameters(self, site: cst.Call, function: str) -> bool:
        return any(self.binder.mentions_params(a.value, function) for a in site.args)

    def enter(self, site: cst.Call, name: str, caller: PyFrame | None) -> PyFrame:
        return frame_of(self.values.index, name, site, caller, caller.site if caller is not None else site,
                                (caller.chain if caller is not None else ()) + (name,))

    @staticmethod
    def chain(frame: PyFrame) -> tuple[str, ...]:
        return frame.chain

    def values_key(self, frame: PyFrame):
        return tuple(sorted(
            (name, tuple(tuple((p.text, p.var, p.default) for p in reading)
                         for reading in self.values.evaluate(value, 0, caller)), self._constant(value, caller))
            for name, (value, _, caller) in frame.bindings.items()))

    def ruled_out(self, syntax, frame: PyFrame) -> frozenset[int]:
        """Arms of `if test: ... else: ...` (0 the body, 1 the rest) that cannot run, and 2:
        every path takes one of them (see CallArms)."""
        truth = self.truth(syntax[1], frame)
        return frozenset() if truth is None else frozenset({1 if truth else 0, 2})

    def truth(self, node, frame: PyFrame) -> bool | None:
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return negate(self.truth(node.expression, frame))
        if isinstance(node, cst.BooleanOperation):
            return either(self.truth(node.left, frame), lambda: self.truth(node.right, frame),
                          stop=isinstance(node.operator, cst.Or))
        if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
            return self._comparison(node.left, node.comparisons[0], frame)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and \
                node.func.attr.value in ("startswith", "endswith") and len(node.args) == 1:
            return self._affix(node, frame)
        constant = self._constant(node, frame)
        return None if constant is _NOT_FOUND else bool(constant)

    def _comparison(self, left, target: cst.ComparisonTarget, frame: PyFrame) -> bool | None:
        op, right = target.operator, target.comparator
        if isinstance(op, (cst.Is, cst.IsNot)):
            if not (isinstance(right, cst.Name) and right.value == "None"):
                return None
            constant = self._constant(left, frame)
            if constant is _NOT_FOUND:
                # A value built with text in it (an f-string, a `+` of strings) is a string.
                readings = self._readings(left, frame)
                if not readings or not all(any(p.is_literal and p.text for p in r) for r in readings):
                    return None
                constant = ""
            return (constant is None) == isinstance(op, cst.Is)
        if isinstance(op, (cst.Equal, cst.NotEqual)):
            equal = self._equal(left, right, frame)
            return equal if isinstance(op, cst.Equal) else negate(equal)
        if isinstance(op, (cst.In, cst.NotIn)):
            inside = self._in(left, right, frame)
            return inside if isinstance(op, cst.In) else negate(inside)
        return None

    def _equal(self, left, right, frame: PyFrame) -> bool | None:
        for value, other in ((left, right), (right, left)):
            text = self._literal(other)
            if text is not None:
                constant = self._constant(value, frame)
                if constant is not _NOT_FOUND:
                    return constant == text
                readings = self._readings(value, frame)
                return matches(readings, literal_pattern(text), self.request_ids) if readings else None
        return None

    def _in(self, left, right, frame: PyFrame) -> bool | None:
        right = self._module_constant(right)
        if isinstance(right, (cst.Tuple, cst.List, cst.Set)):
            answer: bool | None = False
            for element in right.elements:
                equal = self._equal(left, element.value, frame)
                if equal is True:
                    return True
                if equal is None:
                    answer = None
            return answer
        text = self._literal(left)
        readings = self._readings(right, frame)
        if text is None or not readings:
            return None
        return matches(readings, substring_pattern(text), self.request_ids)

    def _affix(self, call: cst.Call, frame: PyFrame) -> bool | None:
        readings = self._readings(call.func.value, frame)
        argument = call.args[0].value
        options = [e.value for e in argument.elements] if isinstance(argument, cst.Tuple) else [argument]
        end = call.func.attr.value == "endswith"
        answer: bool | None = False
        for option in options:
            text = self._literal(option)
            found = None if text is None or not readings else matches(
                readings, substring_pattern(text, start=not end, end=end), self.request_ids)
            if found is True:
                return True
            if found is None:
                answer = None
        return answer

    # -- values --------------------------------------------------------------------------------
    def _assigned(self, function: str) -> set[str]:
        """Names the function's body binds (`=`, `+=`, `for`, `with ... as`, `:=`): a parameter
        among them no longer holds the argument everywhere."""
        found = self._assigned_in.get(function)
        if found is None:
            found = set()
            for node in walk(self.values.index.function_defs[function].body):
                targets = []
                if isinstance(node, cst.Assign):
                    targets = [t.target for t in node.targets]
                elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For)):
                    targets = [node.target]
                elif isinstance(node, cst.WithItem) and node.asname is not None:
                    targets = [node.asname.name]
                elif isinstance(node, cst.NamedExpr):
                    targets = [node.target]
                for target in targets:
                    found |= names_in(target)
            self._assigned_in[function] = found
        return found

    def _literal(self, node) -> str | None:
        """A string written out, or a module constant that holds one (`INIT = "init/error"`):
        the other side of a comparison."""
        node = self._module_constant(node)
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = node.evaluated_value
            return value if isinstance(value, str) else None
        return None

    def _module_constant(self, node):
        """What a name of a module constant (assigned once, at the top level, and not a local
        where it is read) stands for; any other node as it is."""
        if not isinstance(node, cst.Name):
            return node
        function = self.values.index.scope.get(id(node))
        if function is not None and (node.value in self.values.index.param_names(function)
                                     or node.value in self._assigned(function)):
            return node
        values = self.values.index.scoped.get((None, node.value), ())
        return values[0] if len(values) == 1 else node

    def _readings(self, node, frame: PyFrame):
        """How an expression of the helper reads in this frame; None when it reads a parameter
        the function assigns again (the binding no longer holds everywhere)."""
        if names_in(node) & set(frame.bindings) & self._assigned(frame.function):
            return None
        return self.values.evaluate(node, 0, frame)

    def _constant(self, node, frame: PyFrame | None, depth: int = 0):
        """The Python constant an expression is (True, False, None, a number, a string), through
        parameters bound in the frame; _NOT_FOUND when it is not one."""
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[node.value]
            if frame is None or depth > 8 or node.value not in frame.bindings or \
                    node.value in self._assigned(frame.function):
                return _NOT_FOUND
            value, _, caller = frame.bindings[node.value]
            return self._constant(value, caller, depth + 1)
        if isinstance(node, (cst.Integer, cst.Float)):
            return node.evaluated_value
        text = self._literal(node)
        return _NOT_FOUND if text is None else text
