"""The front-end registry: every language bootlint analyses, one line each.

A front end is a package (``bootlint/shell/``, ``bootlint/python/``) whose ``frontend`` module
defines ``FRONTEND``, a :class:`FrontEnd`: the languages it claims, how it recognises a file
(shebang interpreter, file name, content), ``lower(source, shebang) -> RuntimeModel``, and its
:class:`Idioms` (the wording rules use where languages differ). The engine and language
detection iterate :func:`front_ends`; nothing else knows which languages exist. The ``frontend``
modules stay light: the parser (tree-sitter, libcst) is imported by ``lower`` when a file of
that language is met.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Mapping

if TYPE_CHECKING:
    from bootlint.language import Shebang
    from bootlint.model import RuntimeModel
    from bootlint.source import SourceFile

# One line per language, in the order detection asks them (the first one is the default for
# a file with no shebang, no telling name and no telling content).
REGISTRY = (
    "bootlint.shell.frontend",
    "bootlint.python.frontend",
)


@dataclass(frozen=True)
class Idioms:
    """How a language writes what the rules advise. Each entry is a short code snippet or phrase
    that a rule puts into its message; ``{name}``-style fields are filled by the rule."""

    display_name: str               # "shell", "Python"
    loop: str                       # the loop to write around next/handler/response
    guard: str                      # how to guard the handler call
    unguarded: str                  # why an unguarded handler call is fatal ({errexit}: where errexit came from)
    export: str                     # how to export a variable: {name}, {value}
    read_api_variable: str          # how to take the address from AWS_LAMBDA_RUNTIME_API
    exit_now: str                   # exit the process now
    status_check: str               # detect a failed request
    exec_form: str                  # replace the process by a program: {command}
    parent: str                     # who would stay in between without exec
    error_json: str                 # build the error body
    variable: str                   # how a variable is written in a message: {name}
    cleanup_at_exit: str            # cleanup that runs only once, at exit
    case_fold: Mapping[str, str]    # how to fold a header lookup's case, by HeaderMatch.how ("" = default)
    comment: str = "#"              # line comment, for suppressions: "{comment} bootlint: disable=BL101"
    noqa: bool = False              # `# noqa: BL101` also suppresses
    shebang: str = ""               # the shebang to suggest for a new file
    env_shebang: str = ""           # the same through env


class NotAnalysed(Exception):
    """A front end refuses a file it could not analyse soundly (nested deeper than it reads):
    the engine reports the message as BL900 and goes on with the other files."""


@dataclass(frozen=True)
class FrontEnd:
    """One registered language."""

    name: str                                   # the model's language: "shell", "python"
    languages: tuple[str, ...]                  # what it claims, for messages and docs
    interpreters: Callable[[str], bool]         # a shebang interpreter's basename it reads
    lower_module: str                           # module with ``lower(src, shebang)``
    idioms: Idioms
    extensions: tuple[str, ...] = ()            # file names it reads without a shebang
    content: Callable[[str], bool] | None = None  # recognises a file without shebang by its text
    # Recognises, by the text after its shebang, a file whose shell shebang hands the file
    # itself to this language's interpreter at once (a shell-and-Python polyglot).
    handed_back: Callable[[str], bool] | None = None
    # Rules whose events this language cannot produce (no ERR trap in Python): the per-rule
    # fixture check does not ask for fixtures of this language for them.
    cannot_report: frozenset[str] = field(default_factory=frozenset)
    package: str = ""                           # its package, for the optional ``fixes`` module

    def recognises_shebang(self, shebang: "Shebang") -> bool:
        return self.interpreters(shebang.interpreter)

    def recognises_name(self, name: str) -> bool:
        return any(name.endswith(ext) for ext in self.extensions)

    def recognises_content(self, text: str) -> bool:
        return self.content is not None and self.content(text)

    def recognises_handed_back(self, body: str) -> bool:
        return self.handed_back is not None and self.handed_back(body)

    def lower(self, src: "SourceFile", shebang: "Shebang | None") -> "RuntimeModel":
        """Parse and lower a file, then run the shared passes over its model."""
        from bootlint.passes import finish

        module = importlib.import_module(self.lower_module)
        return finish(module.lower(src, shebang))

    @property
    def fixes(self):
        """The front end's fix builders (``<package>/fixes.py``), or None when it has none."""
        return _optional_module(f"{self.package}.fixes") if self.package else None


@lru_cache(maxsize=None)
def _optional_module(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None


@lru_cache(maxsize=1)
def front_ends() -> tuple[FrontEnd, ...]:
    """Every registered front end, in registry order."""
    return tuple(importlib.import_module(path).FRONTEND for path in REGISTRY)


def by_name(name: str) -> FrontEnd | None:
    """The front end whose model language is ``name``."""
    return next((fe for fe in front_ends() if fe.name == name), None)


def default() -> FrontEnd:
    return front_ends()[0]


def suggested_shebangs() -> str:
    """"`#!/bin/sh` or `#!/usr/bin/env python3`": a first line for each language."""
    lines = [f"`{fe.idioms.shebang}`" for fe in front_ends() if fe.idioms.shebang]
    return lines[0] if len(lines) == 1 else ", ".join(lines[:-1]) + " or " + lines[-1]


def analysed_languages() -> str:
    """"shell and Python": the languages bootlint analyses, for messages."""
    names = [fe.idioms.display_name for fe in front_ends()]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
