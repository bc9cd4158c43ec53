"""The rules: each is a short function over the model next to its definition
(:mod:`bootlint.rules.registry`), in one module per family; :mod:`bootlint.rules.subject` holds
what they look at. The family modules import those two, never this package, which loads them
(:func:`all_rules`) and re-exports the names callers use."""

from __future__ import annotations

from functools import lru_cache

from bootlint.rules.registry import (RULES, Check, Observed, Rule, Scope,  # noqa: F401
                                     meta_rule, rule)
from bootlint.rules.subject import Subject, about_request  # noqa: F401

@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    """Every rule, by code, with the rule modules loaded (importing a family registers its rules;
    a new family is its module and its name here)."""
    from bootlint.rules import (concurrency, errors, loop, meta, observability, observed,  # noqa: F401
                                packaging, protocol, resources, streaming)

    return dict(sorted(RULES.items()))
