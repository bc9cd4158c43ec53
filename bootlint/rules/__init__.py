"""The rule registry: each rule is a function over the model, registered with its metadata."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Callable, Iterable

from bootlint.diagnostics import Related, Severity, Span, Violation
from bootlint.model import RuntimeModel
from bootlint.files.source import SourceFile


@dataclass
class Subject:
    """What a rule looks at: the file, its model, and the model walked from its entry point."""

    source: SourceFile
    model: RuntimeModel | None
    language: str
    shebang: object | None = None   # the parsed #! line (a Shebang), if any
    frontend: object | None = None  # bootlint.frontends.registry.FrontEnd; None for a file not analysed
    target: str = "default"         # where the function runs (settings' `target`)

    @property
    def idioms(self):
        """How the file's language writes what a rule advises (bootlint.frontends.registry.Idioms); for a
        file no front end reads, the default front end's."""
        from bootlint.frontends.registry import default

        return (self.frontend or default()).idioms

    @cached_property
    def flow(self):
        """The model walked from its entry point (computed once, when a rule first asks)."""
        from bootlint.analysis.flow import Flow

        return Flow(self.model)


def about_request(call, span: Span, message: str, fix=None) -> Violation:
    """A violation about a Runtime API request; when a helper of the file makes the request for
    this call site, the message names the helper and the related location is the request."""
    via = getattr(call, "via", ())
    if not via:
        return Violation(span, message, fix)
    chain = " -> ".join(f"`{name}`" for name in via)
    related = (Related(call.helper_span, f"the request, in `{via[-1]}`"),) if call.helper_span else ()
    return Violation(span, f"{message} (the request is made by {chain}, called here)", fix,
                     related=related)


Check = Callable[[Subject], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    check: Check | None = None
    opt_in: bool = False
    # Needs the whole file parsed: skipped when the file has syntax errors, since a missing
    # `done` would otherwise look like a missing loop.
    whole_file: bool = True
    # Only for files that speak the Runtime API themselves (not hand-overs or extensions).
    runtime_only: bool = True
    # Runs without a model (packaging checks on the bytes of the file).
    needs_model: bool = True
    # The fix request types (bootlint.fixes.requests) its violations may carry: a rule decides
    # whether to fix, the file's front end decides how.
    fixes: tuple[type, ...] = ()


RULES: dict[str, Rule] = {}


def rule(code: str, name: str, severity: str, summary: str, **meta) -> Callable[[Check], Check]:
    """Register the decorated function as the check of rule ``code``."""

    def register(check: Check) -> Check:
        RULES[code] = Rule(code, name, Severity(severity), summary, check, **meta)
        return check

    return register


def meta_rule(code: str, name: str, severity: str, summary: str, **meta) -> None:
    """Register a rule that the engine reports itself (syntax errors, skipped files...)."""
    RULES[code] = Rule(code, name, Severity(severity), summary, None, runtime_only=False,
                       whole_file=False, needs_model=False, **meta)


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    """Every rule, by code, with the rule modules loaded."""
    from bootlint.rules import (errors, loop, meta, observability, observed,  # noqa: F401
                                packaging, protocol, resources, concurrency)

    return dict(sorted(RULES.items()))

