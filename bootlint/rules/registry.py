"""The rule definitions: every fact about a rule is written once, here, where the rule is
registered (``@rule(...)`` next to its check, ``meta_rule(...)`` for what the engine or
`bootlint verify` reports). The rule pages' title and header lines, the README's rules table and
its list of fixable rules are generated from these definitions (bootlint.docs.generate, whose
``--write`` writes them); the pages hold only prose and examples.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Callable, Iterable

from bootlint.diagnostics import Severity, Violation
from bootlint.util.records import dataclass

if TYPE_CHECKING:
    from bootlint.rules.subject import Subject

Check = Callable[["Subject"], Iterable[Violation]]


class Scope(str, enum.Enum):
    """What a rule is about, for its page: the code a front end reads (named by the languages
    whose front ends have what the rule needs), any bootstrap whatever its language (its bytes,
    mode and `#!` line), any file bootlint is given, or deployment archives."""

    LANGUAGES = "languages"
    BOOTSTRAP = "any bootstrap"
    ANY_FILE = "any file"
    ARCHIVE = "deployment zips"


@dataclass(frozen=True)
class Observed:
    """What `bootlint verify` observes for a rule: the finding is placed on the first node of
    the model of type ``at`` (with one of ``endpoints``, for an API call), and
    ``also_predicted_by`` names the other static rules whose findings predict the same
    observation (the differential test accepts any of them)."""

    at: type
    endpoints: tuple = ()
    also_predicted_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """A rule's definition: the single source of its code, name, severity, summary, fixes, scope
    and what ``verify`` observes for it (docs and tables are generated from it)."""

    code: str
    name: str
    severity: Severity
    summary: str
    check: Check | None = None
    opt_in: bool = False
    # Only for files that speak the Runtime API themselves (not hand-overs or extensions).
    runtime_only: bool = True
    # The fix request types (bootlint.fixes.requests) its violations may carry: a rule decides
    # whether to fix, the file's front end decides how (bootlint.fixes.build).
    fixes: tuple[type, ...] = ()
    # What a front end must be able to express for the rule to apply to its language
    # (bootlint.frontends.registry.CAPABILITIES): a language without ERR traps gets no BL107.
    needs: frozenset[str] = frozenset()
    scope: Scope = Scope.LANGUAGES
    # Cannot be switched off (--ignore, configuration): a bug in bootlint must be seen.
    always_on: bool = False
    # Can be silenced by a suppression comment (otherwise only by configuration).
    suppressible: bool = True
    # What `bootlint verify` observes for it; ``verify_only``: nothing else reports it.
    observed: Observed | None = None
    verify_only: bool = False

    @property
    def needs_model(self) -> bool:
        """Its check reads the runtime model (a rule about the code a front end reads), and so
        the whole file parsed: it is skipped when the file has syntax errors, since a missing
        `done` would otherwise look like a missing loop. A rule about any bootstrap, any file or
        archives reads the file's bytes, mode and `#!` line instead."""
        return self.scope is Scope.LANGUAGES


RULES: dict[str, Rule] = {}


def rule(code: str, name: str, severity: str, summary: str, **meta) -> Callable[[Check], Check]:
    """Register the decorated function as the check of rule ``code``."""

    def register(check: Check) -> Check:
        RULES[code] = Rule(code, name, Severity(severity), summary, check, **meta)
        return check

    return register


def meta_rule(code: str, name: str, severity: str, summary: str, **meta) -> None:
    """Register a rule that the engine reports itself (syntax errors, skipped files...)."""
    RULES[code] = Rule(code, name, Severity(severity), summary, None, runtime_only=False, **meta)


def applies_to(rule: Rule, frontends) -> list | None:
    """The front ends whose languages a rule applies to (those that have what it needs); None
    for a rule about any bootstrap, any file or archives, whatever the language."""
    if rule.scope is not Scope.LANGUAGES:
        return None
    return [fe for fe in frontends if rule.needs <= fe.capabilities]
