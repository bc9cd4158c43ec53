"""The front-end registry: every language bootlint analyses, one line each.

A front end is a package (``bootlint/frontends/shell/``, ``bootlint/frontends/python/``) whose ``frontend`` module
defines ``FRONTEND``, a :class:`FrontEnd`: the languages it claims, how it recognises a file
(shebang interpreter, file name, content), ``lower(source, shebang) -> RuntimeModel``, and its
:class:`Idioms` (the wording rules use where languages differ). The engine and language
detection (:func:`detect`: shebang, else name, else content) iterate :func:`front_ends`; nothing else knows which languages exist. The ``frontend``
modules stay light: the parser (tree-sitter, libcst) is imported by ``lower`` when a file of
that language is met.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import field
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Mapping

from bootlint.frontends.shebang import Shebang
from bootlint.files.source import SourceFile
from bootlint.util.records import dataclass

if TYPE_CHECKING:
    from bootlint.model import RuntimeModel

# One line per language, in the order detection asks them (the first one is the default for
# a file with no shebang, no telling name and no telling content).
REGISTRY = (
    "bootlint.frontends.shell.frontend",
    "bootlint.frontends.python.frontend",
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
    # Concurrent workers (BL7xx) and streamed responses (BL6xx):
    worker_count: str = ""          # how many workers to start
    per_worker_path: str = ""       # how a worker gets a file of its own
    wait_workers: str = ""          # how the first process waits for its workers
    trace_per_invocation: str = ""  # how to keep the trace id per invocation under concurrency
    stream_body: str = ""           # how to send a body as it is produced
    stream_error: str = ""          # how to report a failure after the first byte


# What a language may or may not have, for the rules that need it (``Rule.needs``): a front end
# declares the ones its language has (``FrontEnd.capabilities``).
CAPABILITIES = {
    "err-trap": "an ERR trap (`trap ... ERR`) and errtrace, which decide where it runs",
    "declaration-status": "declaration builtins (`local`, `export`, `declare`) whose own status "
                          "hides that of an assignment's command substitution",
    "curl-data-options": "curl's data options on a command line (`-d @file`, `--data-binary`)",
    "parser-gaps": "regions its parser cannot read that the interpreter's own syntax check accepts",
    "shared-memory-workers": "workers that share one process, and so its environment (threads, "
                             "async tasks)",
}


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
    accepts: Callable[[str], bool] | None = None  # its parser reads the whole text without error
    # Recognises, by the text after its shebang, a file whose shell shebang hands the file
    # itself to this language's interpreter at once (a shell-and-Python polyglot).
    handed_back: Callable[[str], bool] | None = None
    # What the language can express that some rules are about (keys of CAPABILITIES): a rule
    # that needs one applies only to front ends that declare it (bootlint.rules.registry).
    capabilities: frozenset[str] = field(default_factory=frozenset)
    package: str = ""                           # its package, for the optional ``fixes`` module
    # Module with ``plan(model, source, handler) -> ProbePlan | None``: where ``bootlint verify``
    # puts its probe handler for a bootstrap of this language ("" when it has none).
    probe_module: str = ""

    def recognises_shebang(self, shebang: Shebang) -> bool:
        return self.interpreters(shebang.interpreter)

    def recognises_name(self, name: str) -> bool:
        return any(name.endswith(ext) for ext in self.extensions)

    def recognises_content(self, text: str) -> bool:
        return self.content is not None and self.content(text)

    def recognises_handed_back(self, body: str) -> bool:
        return self.handed_back is not None and self.handed_back(body)

    def lower(self, src: "SourceFile", shebang: "Shebang | None") -> "RuntimeModel":
        """Parse and lower a file, then run the shared passes over its model, with the cyclic
        collector paused (see bootlint.util.gcpause): a lint pauses it already, and so does a
        lowering asked for outside one (verify, bench/inprocess.py). The tree, its index and the
        words read stay alive until the model is built, so each collection walked them again,
        more of them the longer the file: 100 repeated runtimes took 76 collections where a
        tenth of them took 6, and half of the long file's cache misses."""
        from bootlint.analysis.passes import finish
        from bootlint.util.gcpause import gc_paused

        module = importlib.import_module(self.lower_module)
        with gc_paused():
            return finish(module.lower(src, shebang))

    def probe(self, model: "RuntimeModel", source: str, handler: str | None):
        """Where ``bootlint verify``'s probe handler goes (a ``ProbePlan``), or None."""
        if not self.probe_module:
            return None
        return importlib.import_module(self.probe_module).plan(model, source, handler)

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


# --- Which language a file is written in -----------------------------------------------------

# Languages bootlint does not analyse, recognised without a shebang by their first line of code
# (the interpreter's name, as a shebang would give it, and what only that language writes there).
# (Written as text and compiled on the first sniff: most files have a shebang, and compiling
# these forty patterns was a sixth of a cold check's own import time.)
UNANALYSED_CONTENT: tuple[tuple[str, str], ...] = (
    ("php", r"^<\?(php\b|=)"),
    ("node", (r"""^(['"]use strict['"];?$|(const|var)\s+[\w${}\[\], ]+\s*=|let\s+\w+\s+=|"""
              r"""import\s.*\sfrom\s+['"]|import\s+['"]|(module\.)?exports[.\[ =]|"""
              r"""require\(['"]|async function\b|export\s+(default|async|function|const))""")),
    ("ruby", (r"""^(require(_relative)?\s+['"]|puts\s|def\s+\w+[?!]?(\s*$|\s*\()(?!.*:\s*$)|"""
              r"""class\s+[A-Z]\w*\s*(<\s*\w+)?\s*$|module\s+[A-Z]\w*\s*$)""")),
    ("perl", r"^(use\s+(strict|warnings|[A-Z][\w:]*)\b.*;|my\s+[$@%]\w+|package\s+[\w:]+;)"),
    ("lua", r"^local\s+\w+\s+="),
)


@lru_cache(maxsize=1)
def _unanalysed_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, re.compile(pattern)) for name, pattern in UNANALYSED_CONTENT)


def unanalysed_language(text: str) -> str | None:
    """The language of a file without shebang whose first line of code only that language writes
    (PHP, JavaScript, Ruby, Perl, Lua), else None."""
    for line in text.split("\n", 50)[:50]:
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "//", "/*", "*", "--")) and not stripped.startswith("#!"):
            continue
        return next((name for name, pattern in _unanalysed_patterns() if pattern.match(stripped)), None)
    return None


# Evidence that a line of a file without shebang is written in a language: each line counts once
# for every language it matches. With what each front end's parser accepts and the first line of
# code that only one language writes, the whole text decides, not its first statement.
CONTENT_EVIDENCE: dict[str, tuple[str, ...]] = {
    "shell": (
        r"^(while|until)\b.*;\s*do\b|^do$|^done\b", r"^(if|elif)\b.*;\s*then\b|^then$|^fi\b|^else$",
        r"^(function\s+)?[A-Za-z_][\w-]*\s*\(\)\s*\{?\s*$", r"^(export|local|readonly|declare|unset)\s+\w",
        r"^[A-Za-z_]\w*=(\S|$)", r"^(curl|wget|exec|source|printf|echo|set)\s", r"^\.\s+\S", r"^case\b.*\bin$|^esac\b",
        r"\$\(|\$\{?[A-Za-z_]\w*\}?\b.*(;|\|\||&&|\|)\s*$", r"^}$"),
    "python": (
        r"^(import\s+[\w.]+|from\s+[\w.]+\s+import\s)", r"^(async\s+)?def\s+\w+\(.*\)\s*(->.*)?:$",
        r"^class\s+\w+.*:$", r"^(while|if|elif|for|with|try|except|else|finally)\b.*:$", r"^return\b",
        r"^(\"\"\"|\'\'\')", r"^[A-Za-z_][\w.]*\s*=\s*\S", r"^@\w"),
    "node": (
        r"^(const|let|var)\s+[\w${}\[\], ]+\s*=", r"require\(['\"]", r"=>", r"^(async\s+)?function\b",
        r"^(module\.)?exports\b", r"^import\s.*\sfrom\s+['\"]", r"\bconsole\.\w+\(", r";$"),
    "ruby": (
        r"^(require|require_relative)\s+['\"]", r"^def\s+\w+[?!]?(\(.*\))?$", r"^end$", r"^puts\s", r"\bdo(\s*\|.*\|)?$"),
    "perl": (r"^use\s+[\w:]+.*;$", r"^my\s+[$@%]\w+", r"^sub\s+\w+", r"\$ENV\{"),
    "php": (r"^<\?(php|=)", r"^\$\w+\s*=.*;$", r"\bfunction\s+\w+\s*\("),
    "lua": (r"^local\s+\w+\s*=", r"^end$", r"^function\s+\w+\s*\("),
}


@lru_cache(maxsize=1)
def _evidence_patterns() -> dict[str, tuple[re.Pattern[str], ...]]:
    return {lang: tuple(re.compile(p) for p in patterns) for lang, patterns in CONTENT_EVIDENCE.items()}


FIRST_LINE_WEIGHT = 3   # the first line of code is one only that language writes
PARSER_WEIGHT = 3       # the front end's parser reads the whole text without error
SNIFFED_LINES = 400


def sniff(text: str) -> str | None:
    """The language of a file without shebang or telling name, weighing its whole text: the
    lines each language writes (:data:`CONTENT_EVIDENCE`), whether each front end's parser
    accepts it, and the first line of code; None when nothing speaks for any language."""
    lines = [line.strip() for line in text.split("\n", SNIFFED_LINES)[:SNIFFED_LINES]]
    code = [line for line in lines if line and not line.startswith(("#", "//"))]
    scores = {lang: sum(1 for line in code if any(p.search(line) for p in patterns))
              for lang, patterns in _evidence_patterns().items()}
    ends = front_ends()
    for fe in ends:
        if fe.recognises_content(text):
            scores[fe.name] = scores.get(fe.name, 0) + FIRST_LINE_WEIGHT
        if fe.accepts is not None and fe.accepts(text):
            scores[fe.name] = scores.get(fe.name, 0) + PARSER_WEIGHT
    other = unanalysed_language(text)
    if other is not None:
        scores[other] = scores.get(other, 0) + FIRST_LINE_WEIGHT
    best = max(scores.values(), default=0)
    if best == 0:
        return None
    leaders = [lang for lang, score in scores.items() if score == best]
    # A tie: the first line of code decides, as it did alone before.
    for lang in ([fe.name for fe in ends if fe.recognises_content(text)] + [other or ""]):
        if lang in leaders:
            return lang
    return leaders[0]


@dataclass(frozen=True)
class Detected:
    """The language a file was found to be written in, its shebang and the front end that reads it."""

    language: str               # a front end's name, "binary", or the interpreter's name
    shebang: Shebang | None
    frontend: "FrontEnd | None" = None   # None: not analysed (binary, another language)


def detect(src: SourceFile) -> Detected:
    """Decide how to analyse a file: by shebang, else by name, else by content, else the
    default front end (the first registered)."""
    if src.is_binary:
        return Detected("binary", None)
    line = src.shebang
    if line is None:
        name = src.path.rsplit("/", 1)[-1].rsplit("!", 1)[-1]
        chosen = next((fe for fe in front_ends() if fe.recognises_name(name)), None)
        if chosen is None:
            language = sniff(src.text)
            chosen = by_name(language) if language is not None else default()
            if chosen is None:
                return Detected(language or "unknown", None)   # BL902, never the shell parser's BL900
        return Detected(chosen.name, None, chosen)
    shebang = Shebang.parse(line)
    body = src.text.split("\n", 1)[1] if "\n" in src.text else ""
    for fe in front_ends():
        if fe.recognises_handed_back(body):
            return Detected(fe.name, shebang, fe)   # the shell only starts fe's interpreter on it
    for fe in front_ends():
        if fe.recognises_shebang(shebang):
            return Detected(fe.name, shebang, fe)
    return Detected(shebang.interpreter or "unknown", shebang)
