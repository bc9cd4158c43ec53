"""Which arms of a helper's branches a call's arguments rule out, through the helpers it passes
its parameters on to: the walk both front ends share. A front end says how to read its syntax
(:class:`Folding`); this builds the :class:`~bootlint.model.CallArms` of every call node."""

from __future__ import annotations

from typing import Generic, Hashable, Protocol, TypeVar

from bootlint.analysis.graphs import closure
from bootlint.model import Branch, CallArms, CallFunction

Syntax = TypeVar("Syntax")
Frame = TypeVar("Frame")
MAX_CALL_DEPTH = 8
# Conditions folded per file at the most: past it calls rule nothing out (their exits are still
# reported), so a file with thousands of calls of a helper with hundreds of tests stays fast.
MAX_FOLDS = 4_000


class Folding(Protocol[Syntax, Frame]):
    """What a front end knows about its syntax: where a branch or call stands, what its
    condition reads, how to fold it in a frame, how to bind a callee's parameters."""

    def owner(self, syntax: Syntax) -> str | None:
        """The file's function the branch or call is written in."""

    def tests_parameters(self, syntax: Syntax, function: str) -> bool:
        """Does the branch's condition read the function's parameters?"""

    def passes_parameters(self, site: Syntax, function: str) -> bool:
        """Does the call pass the function's parameters on?"""

    def ruled_out(self, syntax: Syntax, frame: Frame) -> frozenset[int]:
        """The branch's arms that cannot run in this frame."""

    def enter(self, site: Syntax, name: str, caller: Frame | None) -> Frame:
        """The frame of a call (``caller`` None: the call as written, outside any frame)."""

    def chain(self, frame: Frame) -> tuple[str, ...]:
        """The functions called to reach the frame, outermost first."""

    def values_key(self, frame: Frame) -> Hashable:
        """What the frame's arguments hold (not where they are written): two calls with the same
        key rule out the same arms."""


class ArmBinder(Generic[Syntax, Frame]):
    """Sets ``arms`` on each call node whose arguments rule an arm out."""

    def __init__(self, folding: Folding[Syntax, Frame]) -> None:
        self.folding = folding
        self.branches: dict[str, list[tuple[Syntax, Branch]]] = {}
        self.passing: dict[str, list[tuple[Syntax, CallFunction]]] = {}
        self.deciding: set[str] = set()
        self.folds = 0
        self._known: dict[Hashable, CallArms | None] = {}

    def bind(self, branches: list[tuple[Syntax, Branch]], calls: list[tuple[Syntax, CallFunction]]) -> None:
        """``branches`` and ``calls``: every branch and every call of the file's functions, with
        the syntax it was lowered from."""
        folding = self.folding
        for syntax, branch in branches:
            function = folding.owner(syntax)
            if function is not None and folding.tests_parameters(syntax, function):
                self.branches.setdefault(function, []).append((syntax, branch))
        if not self.branches:
            return
        passed_to: dict[str, set[str]] = {}     # callee -> functions passing their parameters on
        for site, call in calls:
            owner = folding.owner(site)
            if owner is not None and folding.passes_parameters(site, owner):
                self.passing.setdefault(owner, []).append((site, call))
                passed_to.setdefault(call.name, set()).add(owner)
        # Functions whose arguments can decide a branch: their own, or one they pass them to.
        self.deciding = closure(set(self.branches), passed_to)
        for site, call in calls:
            if call.name in self.deciding:
                call.arms = self._arms(call.name, folding.enter(site, call.name, None))

    def _arms(self, function: str, frame: Frame) -> CallArms | None:
        chain = self.folding.chain(frame)
        key = (function, chain, self.folding.values_key(frame))
        if key in self._known:
            return self._known[key]
        branches = self.branches.get(function, ())
        if self.folds + len(branches) > MAX_FOLDS:
            return None
        self.folds += len(branches)
        arms = CallArms()
        for syntax, branch in branches:
            ruled = self.folding.ruled_out(syntax, frame)
            if ruled:
                arms.ruled_out[branch] = ruled
        for site, call in self.passing.get(function, ()):
            if call.name in self.deciding and call.name not in chain and len(chain) < MAX_CALL_DEPTH:
                found = self._arms(call.name, self.folding.enter(site, call.name, frame))
                if found is not None:
                    arms.calls[call] = found
        found = arms if arms.ruled_out or arms.calls else None
        self._known[key] = found
        return found
