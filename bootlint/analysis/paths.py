"""What happens on every path from a node to the end of its loop iteration.

BL301 asks it of a temp file: once made, is it removed on every path before the next event? A
path can end early (`continue` jumps to the next event, skipping what follows) or take a branch
arm that never removes the file. Each such path is a *leak*, reported where it leaks: the
`continue`, or the last statement of the arm that falls through.

The analysis is over the model's structure, so it serves every front end alike. It is
deliberately forgiving where it cannot be sure (an arm list that may be complete, a removal in a
nested loop or in a called function), since a false leak is worse than a missed one.
"""

from __future__ import annotations

from dataclasses import field

from bootlint.model import (
    Branch,
    CallFunction,
    Exit,
    ExitKind,
    Guarded,
    Loop,
    Node,
    RuntimeModel,
    Subshell,
    children,
    flatten,
)
from bootlint.util.records import dataclass


@dataclass
class Leaks:
    """Where paths leave a loop iteration without the removal: jumps (``continue``) and the
    last node of arms that fall through (or the branch itself, for its implicit empty arm)."""

    jumps: list[Node] = field(default_factory=list)
    open_paths: list[Node] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.jumps or self.open_paths)


class IterationPaths:
    """Path questions about one model: which parents hold a node, and what a sequence does."""

    def __init__(self, model: RuntimeModel) -> None:
        self.model = model
        self._parent: dict[int, tuple[list[Node], int, Node | None]] = {}
        for seq in (model.main, *model.functions.values()):
            self._index(seq, None)
        self._removing_functions: dict[tuple[str, frozenset[str]], bool] = {}

    def _index(self, seq: list[Node], parent: Node | None) -> None:
        stack = [(seq, parent)]
        where = self._parent
        while stack:
            cur_seq, cur_parent = stack.pop()
            for i, node in enumerate(cur_seq):
                where[id(node)] = (cur_seq, i, cur_parent)
                below = children(node)
                if below:   # (most nodes hold none: no generator for them)
                    stack.extend((child, node) for child in below)

    def leaks_after(self, node: Node, loop: Loop, removes) -> Leaks | None:
        """The paths from ``node`` to the end of ``loop``'s iteration that never pass a node for
        which ``removes(node)`` is true. When ``node`` is written in a function the loop calls
        (`process_one`), the paths run to the end of that function and a `return` is a jump.
        None when the question is not answered here (made in the loop's condition, elsewhere)."""
        chain: list[tuple[list[Node], int, Node | None]] = []
        cur: Node | None = node
        while cur is not None and cur is not loop:
            where = self._parent.get(id(cur))
            if where is None:
                return None
            chain.append(where)
            cur = where[2]
        in_function = cur is None and any(chain[-1][0] is body for body in self.model.functions.values())
        if cur is not loop and not in_function:
            return None
        jumps = (ExitKind.CONTINUE, ExitKind.RETURN) if in_function else (ExitKind.CONTINUE,)
        leaks = Leaks()
        pending: list[Node] = [node]
        for seq, i, parent in chain:
            if parent is loop and seq is loop.cond:
                return None  # made in the loop's condition: left to the simple check
            pending = self._scan(seq[i + 1:], pending, removes, leaks, jumps)
        # The next iteration starts with the code before the node: a removal there (`rm -f "$H"`
        # at the top of the loop) cleans up after every path, `continue` included.
        if not in_function and self._head_removes(chain, loop, removes):
            return Leaks()
        leaks.open_paths.extend(p for p in pending if p is not node)
        if node in pending and (leaks.jumps or leaks.open_paths):
            # The path that never branched away leaks too; point at where it ends.
            body = chain[-1][0]
            leaks.open_paths.append(body[-1] if body else node)
        return leaks

    def _head_removes(self, chain, loop: Loop, removes) -> bool:
        """Does every path from the top of the body to the node pass a removal first?"""
        seq, i, _ = chain[-1]
        return not self._scan(seq[:i], [loop], removes, Leaks(), ()) if seq is loop.body else False

    def _scan(self, seq: list[Node], pending: list[Node], removes, leaks: Leaks,
              jumps: tuple[ExitKind, ...]) -> list[Node]:
        """Run ``seq`` with ``pending`` paths (each named by where it stands) not yet removed;
        return the paths still pending after it, adding jumps that end a pending path."""
        for node in seq:
            if not pending:
                return pending
            if removes(node) or (isinstance(node, CallFunction) and self._function_removes(
                    node.name, removes)):
                return []
            if isinstance(node, Exit):
                if node.kind in jumps:
                    leaks.jumps.append(node)
                if node.kind is not ExitKind.RAISE:
                    return []
            elif isinstance(node, Branch):
                pending = self._branch(node, pending, removes, leaks, jumps)
            elif isinstance(node, Guarded):
                pending = self._scan(node.body, pending, removes, leaks, jumps)
            elif isinstance(node, (Subshell, Loop)):
                # A removal in a child process or a nested loop still counts (forgiving); its
                # exits and jumps are its own.
                if any(removes(n) for n in flatten([node])):
                    return []
        return pending

    def _branch(self, node: Branch, pending: list[Node], removes, leaks: Leaks,
                jumps: tuple[ExitKind, ...]) -> list[Node]:
        pending = self._scan(node.cond, pending, removes, leaks, jumps)
        if not pending:
            return []
        outcomes = [(arm, self._scan(arm, pending, removes, leaks, jumps)) for arm in node.arms]
        # One arm (`if` without `else`, `a || b`) leaves a path that runs none; with several,
        # the list is taken as complete.
        implicit = len(node.arms) <= 1
        some_removed = any(not after for _, after in outcomes)
        if not some_removed:
            return pending if implicit or not outcomes else [
                p for _, after in outcomes for p in after]
        out: list[Node] = []
        for arm, after in outcomes:
            if after:
                out.append((arm[-1] if arm else node) if after == pending else after[0])
        if implicit:
            out.append(node)
        return out

    def _function_removes(self, name: str, removes, depth: int = 0) -> bool:
        body = self.model.functions.get(name)
        if body is None or depth > 8:
            return False
        return any(removes(n) or (isinstance(n, CallFunction) and n.name != name
                                  and self._function_removes(n.name, removes, depth + 1))
                   for n in flatten(body))
