"""Conditions on a helper's parameters, folded with the arguments of one call site: which arms of
an `if`, `case` or `a && b` in the helper cannot run for that call.

`report() { ...; if [ "$1" = init/error ]; then exit 1; fi; }` called as
`report "invocation/$ID/error"` never exits: the `then` arm is ruled out for that call, and the
model's call node says so (:class:`~bootlint.model.CallArms`). Only what bash decides the same
way for every run-time value is folded: `[`/`test` string tests (`=`, `==`, `!=`, `-z`, `-n`),
`[[ ]]` with glob patterns, `case` patterns (with `;&` and `;;&`), `!`, `&&`, `||`. Anything else
(`=~`, `-o`, a command's status) is unknown and rules nothing out.
"""

from __future__ import annotations

from typing import Container

from bootlint.analysis.matching import either, glob_pattern, literal_pattern, matches, negate
from bootlint.frontends.shell.callsites import CallSites
from bootlint.frontends.shell.syntax import command_args, command_name, node_text
from bootlint.frontends.shell.values import Bound, Frame, Words

# Nodes that stand for one word's value (not a test expression tree-sitter grouped wrongly).
VALUE_NODES = ("word", "string", "raw_string", "concatenation", "simple_expansion", "expansion",
               "number", "extglob_pattern", "ansi_c_string")
UNQUOTED = ("simple_expansion", "expansion", "concatenation", "word", "extglob_pattern")


class Conditions:
    """Folds the tests of a shell file in a frame (a helper's parameters bound to a call's
    arguments): the shell's :class:`~bootlint.analysis.call_arms.Folding`. ``request_ids``: the variables
    that hold a request id (see bootlint.analysis.matching)."""

    def __init__(self, words: Words, flow: CallSites, request_ids: Container[str]) -> None:
        self.words = words
        self.flow = flow
        self.request_ids = request_ids

    # -- bootlint.analysis.call_arms.Folding ------------------------------------------------------------
    def owner(self, syntax) -> str | None:
        return self.flow.index.function_of(syntax)

    def tests_parameters(self, syntax, function: str) -> bool:
        return self.flow.mentions_params(_tested(syntax), function)

    def passes_parameters(self, site, function: str) -> bool:
        return self.flow.mentions_params(command_args(site), function)

    def enter(self, site, name: str, caller: Frame | None) -> Frame:
        if caller is None:
            return Frame(name, tuple(Bound(a, None) for a in command_args(site)), None, site, (name,))
        return Frame(name, tuple(self.flow.bind_args(site, caller)), caller, caller.site,
                     caller.chain + (name,))

    @staticmethod
    def chain(frame: Frame) -> tuple[str, ...]:
        return frame.chain

    def values_key(self, frame: Frame):
        return tuple(tuple(tuple((p.text, p.var, p.default) for p in reading)
                           for reading in self.words.evaluate(arg)) for arg in frame.args)

    # -- which arms a branch's syntax rules out ------------------------------------------------
    def ruled_out(self, node, frame: Frame) -> frozenset[int]:
        """Arms of the branch lowered from ``node`` (an if/elif, `a && b`, `a || b`, a case)
        that cannot run in this frame, numbered as the lowering numbers them, and one past the
        last when every path takes an arm."""
        kind = node.type
        if kind == "list":
            ops = [node_text(c) for c in node.children if not c.is_named]
            named = [c for c in node.children if c.is_named and c.type != "comment"]
            if len(named) != 2 or len(ops) != 1:
                return frozenset()
            left = self.truth(named[0], frame)
            taken = left if ops[0] == "&&" else negate(left)
            # Arm 1 is the path past `a && b` without running b (see CallArms).
            return frozenset() if taken is None else frozenset({1 if taken else 0})
        if kind == "case_statement":
            return self._case(node, frame)
        if kind in ("if_statement", "elif_clause"):
            return self._if(node, frame)
        return frozenset()

    def _if(self, node, frame: Frame) -> frozenset[int]:
        # Arm 0 is `then`; then one arm per elif/else clause, in order (see lower.s_if_statement).
        out: set[int] = set()
        first = self.truth_of(_condition(node), frame)
        if first is False:
            out.add(0)
        earlier_true = first is True
        arm = 0
        for child in node.children:
            if child.type not in ("elif_clause", "else_clause"):
                continue
            arm += 1
            if earlier_true:
                out.add(arm)
            if child.type == "elif_clause":
                earlier_true = earlier_true or self.truth_of(_condition(child), frame) is True
        if out or earlier_true:
            if earlier_true or any(c.type == "else_clause" for c in node.children):
                out.add(arm + 1)    # no path goes past the if without taking an arm
        return frozenset(out)

    def _case(self, node, frame: Frame) -> frozenset[int]:
        value = node.child_by_field_name("value")
        if value is None:
            return frozenset()
        readings = self.words.evaluate(Bound(value, frame))
        out: set[int] = set()
        states = {"search"}          # how an item may be reached: testing, falling through, done
        arm = -1
        for item in node.children:
            if item.type != "case_item":
                continue
            arm += 1
            patterns = [c for i, c in enumerate(item.children) if item.field_name_for_child(i) == "value"]
            hit = False
            for pattern in patterns:
                hit = either(hit, lambda p=pattern: matches(readings, self.pattern(p, frame), self.request_ids),
                             stop=True)
                if hit is True:
                    break
            runs = "fall" in states or ("search" in states and hit is not False)
            if not runs:
                out.add(arm)
            after = set()
            if "stop" in states:
                after.add("stop")
            if "search" in states and hit is not True:
                after.add("search")
            if runs:
                end = next((node_text(c) for i, c in enumerate(item.children)
                            if item.field_name_for_child(i) in ("termination", "fallthrough")), ";;")
                after.add({";&": "fall", ";;&": "search"}.get(end, "stop"))
            states = after
        if "search" not in states:
            out.add(arm + 1)        # some item always runs: no path goes past the case without one
        return frozenset(out)

    # -- truth of a condition ------------------------------------------------------------------
    def truth_of(self, statements: list, frame: Frame) -> bool | None:
        """The status of a condition (its last statement decides), as a truth value."""
        return self.truth(statements[-1], frame) if statements else None

    def truth(self, node, frame: Frame) -> bool | None:
        kind = node.type
        if kind == "negated_command":
            inner = [c for c in node.children if c.is_named]
            return negate(self.truth(inner[-1], frame)) if inner else None
        if kind == "list":
            named = [c for c in node.children if c.is_named and c.type != "comment"]
            ops = [node_text(c) for c in node.children if not c.is_named]
            if len(named) != 2 or len(ops) != 1:
                return None
            return either(self.truth(named[0], frame), lambda: self.truth(named[1], frame),
                          stop=ops[0] == "||")
        if kind == "test_command":
            inner = [c for c in node.children if c.is_named]
            brackets = node.children[0].type if node.children else ""
            return self.expression(inner[0], frame, brackets == "[[") if len(inner) == 1 else None
        if kind == "command":
            return self._command(node, frame)
        return None

    def _command(self, node, frame: Frame) -> bool | None:
        name = command_name(node)
        text = self.words.literal(name) if name is not None else None
        args = command_args(node)
        if text in ("true", ":") and not args:
            return True
        if text == "false" and not args:
            return False
        if text == "[" and args and node_text(args[-1]) == "]":
            args = args[:-1]
        elif text != "test":
            return None
        words = [self.words.literal(a) for a in args]
        if len(args) == 3 and words[1] in ("=", "==", "!="):
            equal = self.compare(args[0], args[2], frame, False)
            return negate(equal) if words[1] == "!=" else equal
        if len(args) == 2 and words[0] in ("-z", "-n"):
            empty = self.empty(args[1], frame, False)
            return empty if words[0] == "-z" else negate(empty)
        if len(args) == 1:
            return negate(self.empty(args[0], frame, False))
        return None

    def expression(self, node, frame: Frame, double: bool) -> bool | None:
        """A test expression inside `[ ]` (``double`` False) or `[[ ]]`."""
        kind = node.type
        if kind == "parenthesized_expression":
            inner = [c for c in node.children if c.is_named]
            return self.expression(inner[0], frame, double) if len(inner) == 1 else None
        if kind == "unary_expression":
            op = node.child_by_field_name("operator")
            operands = [c for c in node.children if c.is_named and c != op]
            text = node_text(op) if op is not None else ""
            if len(operands) != 1:
                return None
            if text == "!":
                return negate(self.expression(operands[0], frame, double))
            if text in ("-z", "-n") and operands[0].type in VALUE_NODES:
                empty = self.empty(operands[0], frame, double)
                return empty if text == "-z" else negate(empty)
            return None
        if kind == "binary_expression":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            op = node.child_by_field_name("operator")
            text = node_text(op) if op is not None else ""
            if left is None or right is None:
                return None
            if text in ("&&", "||") and double:
                return either(self.expression(left, frame, double),
                              lambda: self.expression(right, frame, double), stop=text == "||")
            if text not in ("=", "==", "!=") or left.type not in VALUE_NODES or right.type not in VALUE_NODES:
                return None
            equal = self.compare(left, right, frame, double)
            return negate(equal) if text == "!=" else equal
        if kind in VALUE_NODES:
            return negate(self.empty(node, frame, double))
        return None

    # -- values --------------------------------------------------------------------------------
    def compare(self, left, right, frame: Frame, double: bool) -> bool | None:
        """`left = right`: in `[[ ]]` the right side is a glob pattern, in `[ ]` a string."""
        readings = self._readings(left, frame, double)
        if readings is None:
            return None
        if double:
            pattern = self.pattern(right, frame)
        else:
            text = self._exact(right, frame)
            pattern = literal_pattern(text) if text is not None else None
        return matches(readings, pattern, self.request_ids)

    def empty(self, node, frame: Frame, double: bool) -> bool | None:
        readings = self._readings(node, frame, double)
        if not readings:
            return None
        answers = set()
        for reading in readings:
            if any(p.is_literal and p.text for p in reading):
                answers.add(False)
            elif all(p.is_literal for p in reading):
                answers.add(True)
            else:
                return None
        return answers.pop() if len(answers) == 1 else None

    def _readings(self, node, frame: Frame, double: bool):
        """How a word reads; None when `[`'s word splitting may change what the test sees (an
        unquoted expansion that may hold blanks or be empty)."""
        readings = self.words.evaluate(Bound(node, frame))
        if double or node.type not in UNQUOTED or node.type == "word":
            return readings
        for reading in readings:
            if not reading or any(p.is_literal and (not p.text.strip() or set(" \t\n*?[") & set(p.text))
                                  for p in reading):
                return None
            if any(not p.is_literal and p.var not in self.request_ids for p in reading):
                return None
        return readings

    def _exact(self, node, frame: Frame) -> str | None:
        """The right side of `[ a = b ]`: a string, unless an unquoted glob may name files."""
        if node.type in ("word", "extglob_pattern", "number"):
            text = node_text(node)
            return None if set(text) & set("*?[$`\\") else text
        if node.type not in ("string", "raw_string"):
            return None
        return self.words.literal(Bound(node, frame))

    def pattern(self, node, frame: Frame) -> list | None:
        """A case or `[[ == ]]` pattern as written: quoted parts literal, the rest a glob."""
        parts: list[tuple[str, bool]] = []
        for part in (node.named_children if node.type == "concatenation" else [node]):
            kind = part.type
            if kind in ("word", "extglob_pattern", "number"):
                text = node_text(part)
                if "$" in text or "`" in text:
                    return None
                parts.append((text, False))
            elif kind in ("string", "raw_string", "ansi_c_string"):
                text = self.words.literal(Bound(part, frame))
                if text is None:
                    return None
                parts.append((text, True))
            elif kind in ("simple_expansion", "expansion"):
                text = self.words.literal(Bound(part, frame))   # unquoted: its value is a glob
                if text is None:
                    return None
                parts.append((text, False))
            else:
                return None
        return glob_pattern(parts)


def _condition(node) -> list:
    """The statements of an if's or elif's condition (between the keyword and `then`)."""
    out = []
    for child in node.children:
        if child.type == "then":
            return out
        if child.is_named and child.type != "comment":
            out.append(child)
    return []


def _tested(syntax) -> list:
    """What a branch's condition (or case value) reads."""
    if syntax.type == "case_statement":
        value = syntax.child_by_field_name("value")
        return [value] if value is not None else []
    if syntax.type == "list":
        return [c for c in syntax.children if c.is_named][:1]
    return _condition(syntax) + [c for child in syntax.children if child.type == "elif_clause"
                                 for c in _condition(child)]
