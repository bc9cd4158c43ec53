"""Which arms of a helper's branches a call's arguments rule out, through the helpers it passes
its parameters on to: the walk both front ends share. A front end says how to read its syntax
(:class:`Folding`); this builds the :class:`~bootlint.model.CallArms` of every call node."""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from bootlint.graphs import closure
from bootlint.model import Branch, CallArms, CallFunction

Syntax = TypeVar("Syntax")
Frame = TypeVar("Frame")
MAX_CALL_DEPTH = 8


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


class ArmBinder(Generic[Syntax, Frame]):
    """Sets ``arms`` on each call node whose arguments rule an arm out."""

    def __init__(self, folding: Folding[Syntax, Frame]) -> None:
        self.folding = folding
        self.branches: dict[str, list[tuple[Syntax, Branch]]] = {}
        self.passing: dict[str, list[tuple[Syntax, CallFunction]]] = {}
        self.deciding: set[str] = set()

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
        arms = CallArms()
        for syntax, branch in self.branches.get(function, ()):
            ruled = self.folding.ruled_out(syntax, frame)
            if ruled:
                arms.ruled_out[branch] = ruled
        chain = self.folding.chain(frame)
        for site, call in self.passing.get(function, ()):
            if call.name in self.deciding and call.name not in chain and len(chain) < MAX_CALL_DEPTH:
                found = self._arms(call.name, self.folding.enter(site, call.name, frame))
                if found is not None:
                    arms.calls[call] = found
        return arms if arms.ruled_out or arms.calls else None
