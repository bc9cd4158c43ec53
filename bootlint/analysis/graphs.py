"""Small graph helpers shared by the front ends and the model passes."""

from __future__ import annotations

from typing import Hashable, Iterable, Mapping, TypeVar

T = TypeVar("T", bound=Hashable)


def closure(seeds: Iterable[T], edges: Mapping[T, Iterable[T]]) -> set[T]:
    """Every node reachable from ``seeds`` along ``edges`` (seeds included), without
    recursion, so a long chain of functions costs no stack."""
    reached = set(seeds)
    todo = list(reached)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in reached:
                reached.add(nxt)
                todo.append(nxt)
    return reached
