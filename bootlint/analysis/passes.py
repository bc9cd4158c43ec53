"""Decisions made once over the model, for every front end alike.

A front end says what it read (this branch tests what `next` returned, this function calls that
one); the questions that only need the model are answered here, so the two front ends cannot
answer them differently:

- which of the file's functions do the work of an invocation (run the handler or post a
  response), directly or through the functions they call;
- which arms of a branch about a failed `next` are the failure path (they do no such work), so
  that an exit there is the exit the API asks for, and an exit on the success path is not.
"""

from __future__ import annotations

from bootlint.analysis.graphs import closure
from bootlint.model import (
    ApiCall,
    Branch,
    CallFunction,
    Endpoint,
    HandlerCall,
    Node,
    RuntimeModel,
    children,
    flatten,
)


def functions_doing_work(model: RuntimeModel) -> set[str]:
    """Functions that run the handler or post a response, directly or through calls."""
    direct: set[str] = set()
    callers: dict[str, set[str]] = {}
    for name, body in model.functions.items():
        for node in flatten(body):
            if _is_work(node):
                direct.add(name)
            elif isinstance(node, CallFunction):
                callers.setdefault(node.name, set()).add(name)
    return closure(direct, callers)


def does_work(nodes: list[Node], working: set[str]) -> bool:
    """Does this code run the handler or post a response (the path of a successful `next`)?"""
    return any(_is_work(n) or (isinstance(n, CallFunction) and n.name in working)
               for n in flatten(nodes))


def _is_work(node: Node) -> bool:
    return isinstance(node, HandlerCall) or (
        isinstance(node, ApiCall) and node.endpoint is Endpoint.RESPONSE)


def mark_failure_arms(model: RuntimeModel) -> None:
    """Turn each branch's failure candidates into its failure arms: those doing no work."""
    working: set[str] | None = None
    stack: list[list[Node]] = [model.main, *model.functions.values(), model.detached]
    while stack:
        for node in stack.pop():
            if isinstance(node, Branch) and node.failure_candidates:
                if working is None:
                    working = functions_doing_work(model)
                node.failure_arms = frozenset(
                    i for i in node.failure_candidates
                    if i < len(node.arms) and not does_work(node.arms[i], working))
            stack.extend(children(node))


def finish(model: RuntimeModel) -> RuntimeModel:
    """Run the shared passes over a model a front end has just built."""
    mark_failure_arms(model)
    return model
