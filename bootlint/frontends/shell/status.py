"""Where a shell command's exit status goes: whether it is the status of the function or
`$(...)` it stands in (:class:`Tails`), and how the script handles its failure when it does
(:func:`failure_guard`)."""

from __future__ import annotations


def failure_guard(node) -> str:
    """How the script handles this command's failure, when it does: the `||` after it, the `if`
    or `while` it is the condition of, the `!` before it ("" when it does not)."""
    child, cur = node, node.parent
    while cur is not None:
        kind = cur.type
        if kind == "list":
            named = [c for c in cur.children if c.is_named and c.type != "comment"]
            ops = {c.type for c in cur.children if not c.is_named}
            if named and named[0].start_byte == child.start_byte and "||" in ops:
                return "`||`"
        elif kind == "negated_command":
            return "`!`"
        elif kind in ("if_statement", "elif_clause", "while_statement"):
            condition = cur.child_by_field_name("condition")
            if condition is not None and condition.start_byte <= child.start_byte < condition.end_byte:
                return f"`{'while' if kind == 'while_statement' else 'if'}` around it"
            return ""
        elif kind not in ("redirected_statement", "pipeline", "compound_statement"):
            return ""
        child, cur = cur, cur.parent
    return ""


def failure_condition(node):
    """The command whose failure leads to this statement: ``a`` of `a || { ...; node; }`, ``a`` of
    `if ! a; then ...; node; fi` and of `if a; then ...; else ...; node; fi`; None elsewhere (an
    `elif`, a loop, a function body in between)."""
    child, cur = node, node.parent
    while cur is not None and cur.type in ("compound_statement", "redirected_statement"):
        child, cur = cur, cur.parent
    if cur is None:
        return None
    if cur.type == "list":
        named = [c for c in cur.children if c.is_named and c.type != "comment"]
        ops = [c.type for c in cur.children if not c.is_named]
        if len(named) == 2 and ops == ["||"] and named[1].start_byte == child.start_byte:
            return named[0]
        return None
    if cur.type == "else_clause":
        statement = cur.parent
        if statement is None or statement.type != "if_statement" or any(
                c.type == "elif_clause" for c in statement.children):
            return None
        conditions = [c for i, c in enumerate(statement.children)
                      if c.is_named and statement.field_name_for_child(i) == "condition"]
        if len(conditions) != 1 or _negated(conditions[0]):
            return None
        return conditions[0]
    if cur.type == "if_statement" and not any(c.type in ("elif_clause", "else_clause") for c in cur.children):
        conditions = [c for i, c in enumerate(cur.children)
                      if c.is_named and cur.field_name_for_child(i) == "condition"]
        if len(conditions) != 1 or not _negated(conditions[0]):
            return None
        inside = conditions[0].start_byte <= child.start_byte < conditions[0].end_byte
        return None if inside else conditions[0]
    return None


def _negated(condition) -> bool:
    """Is this condition `! cmd` (`! cmd > out` parses as a redirection of the negation)?"""
    while condition is not None and condition.type == "redirected_statement":
        condition = condition.child_by_field_name("body")
    return condition is not None and condition.type == "negated_command"


# Where a command's status becomes its body's status: the last statement of a function's body or
# of a `$(...)`, through the last statement of an if/else arm, the right of `&&`/`||`, the last
# element of a pipeline, a redirection.
_PASS_STATUS = ("compound_statement", "redirected_statement", "pipeline", "else_clause", "list",
                "elif_clause", "if_statement", "subshell")


_NOT_STATEMENTS = ("comment", "heredoc_body", "file_redirect", "heredoc_redirect", "herestring_redirect")


class Tails:
    """Whether a command's exit status is the status of the function or `$(...)` it stands in.
    What each block's last statements are is read once per block: asking it of every command
    in a block of thousands was quadratic."""

    def __init__(self) -> None:
        self._last: dict[tuple, int | None] = {}           # block -> its last statement's start
        self._arm_ends: dict[tuple, set[int]] = {}         # if/elif/else -> its arms' last starts
        self._conditions: dict[tuple, set[int]] = {}       # if -> its conditions' starts

    def is_tail(self, node) -> bool:
        child, cur = node, node.parent
        while cur is not None:
            kind = cur.type
            if kind in ("function_definition", "command_substitution"):
                return kind == "function_definition" or self._is_last(cur, child)
            if kind in ("variable_assignment", "concatenation", "string"):
                child, cur = cur, cur.parent  # X=$(cmd): the assignment's status is cmd's
                continue
            if kind == "command" and child.type in ("variable_assignment", "concatenation", "string"):
                return False  # cmd "$(x)": the status is cmd's, not x's
            if kind not in _PASS_STATUS:
                return False
            if kind == "if_statement":
                if child.start_byte in self._condition_starts(cur):
                    return False
                if child.type not in ("elif_clause", "else_clause") and not self._is_arm_end(cur, child):
                    return False
            elif kind in ("elif_clause", "else_clause"):
                if child.type not in ("elif_clause", "else_clause") and not self._is_arm_end(cur, child):
                    return False
            elif not self._is_last(cur, child):
                return False
            child, cur = cur, cur.parent
        return False

    def _is_last(self, parent, child) -> bool:
        place = (parent.start_byte, parent.end_byte, parent.type)
        if place not in self._last:
            # A redirection is no statement: `$(handler 2>&1)` ends with the handler's status.
            named = [c for c in parent.children if c.is_named and c.type not in _NOT_STATEMENTS]
            self._last[place] = named[-1].start_byte if named else None
        return self._last[place] == child.start_byte

    def _condition_starts(self, clause) -> set[int]:
        place = (clause.start_byte, clause.end_byte, clause.type)
        if place not in self._conditions:
            self._conditions[place] = {c.start_byte for i, c in enumerate(clause.children)
                                       if clause.field_name_for_child(i) == "condition"}
        return self._conditions[place]

    def _is_arm_end(self, clause, child) -> bool:
        """Is ``child`` the last statement of its arm of an if/elif/else clause?"""
        place = (clause.start_byte, clause.end_byte, clause.type)
        ends = self._arm_ends.get(place)
        if ends is None:
            ends = self._arm_ends[place] = set()
            statements: list = []
            for c in clause.children:
                if c.type in ("elif_clause", "else_clause", "fi", "then", "if", "elif", "else"):
                    # An arm runs from `then`/`else` to the next clause; before `then` is a condition.
                    if c.type in ("elif_clause", "else_clause", "fi") and statements:
                        ends.add(statements[-1].start_byte)
                    statements = []
                    continue
                if c.is_named and c.type != "comment":
                    statements.append(c)
            if statements:
                ends.add(statements[-1].start_byte)
        return child.start_byte in ends
