"""Which language a bootstrap is written in: the registered front end that recognises its
shebang, else its name, else its content (see :mod:`bootlint.frontends`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bootlint.source import SourceFile

if TYPE_CHECKING:
    from bootlint.frontends import FrontEnd


# Languages bootlint does not analyse, recognised without a shebang by their first line of code
# (the interpreter's name, as a shebang would give it, and what only that language writes there).
UNANALYSED_CONTENT: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("php", re.compile(r"^<\?(php\b|=)")),
    ("node", re.compile(r"""^(['"]use strict['"];?$|(const|var)\s+[\w${}\[\], ]+\s*=|let\s+\w+\s+=|"""
                        r"""import\s.*\sfrom\s+['"]|import\s+['"]|(module\.)?exports[.\[ =]|"""
                        r"""require\(['"]|async function\b|export\s+(default|async|function|const))""")),
    ("ruby", re.compile(r"""^(require(_relative)?\s+['"]|puts\s|def\s+\w+[?!]?(\s*$|\s*\()(?!.*:\s*$)|"""
                        r"""class\s+[A-Z]\w*\s*(<\s*\w+)?\s*$|module\s+[A-Z]\w*\s*$)""")),
    ("perl", re.compile(r"^(use\s+(strict|warnings|[A-Z][\w:]*)\b.*;|my\s+[$@%]\w+|package\s+[\w:]+;)")),
    ("lua", re.compile(r"^local\s+\w+\s+=")),
)


def unanalysed_language(text: str) -> str | None:
    """The language of a file without shebang whose first line of code only that language writes
    (PHP, JavaScript, Ruby, Perl, Lua), else None."""
    for line in text.split("\n", 50)[:50]:
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "//", "/*", "*", "--")) and not stripped.startswith("#!"):
            continue
        return next((name for name, pattern in UNANALYSED_CONTENT if pattern.match(stripped)), None)
    return None


@dataclass(frozen=True)
class Shebang:
    """A parsed ``#!`` line: the interpreter after any ``env``, and its arguments."""

    line: str
    path: str            # as written: /usr/bin/env, /bin/bash
    interpreter: str     # basename of the real interpreter: bash, python3
    args: tuple[str, ...]
    via_env: bool
    env_split: bool      # env -S: the rest is split into words

    @classmethod
    def parse(cls, line: str) -> "Shebang":
        body = line[2:].strip()
        words = body.split()
        path = words[0] if words else ""
        rest = words[1:]
        via_env = path.rsplit("/", 1)[-1] == "env"
        env_split = False
        interpreter = path.rsplit("/", 1)[-1]
        if via_env:
            while rest and rest[0].startswith("-"):
                flag = rest.pop(0)
                if flag in ("-S", "--split-string") or (flag.startswith("-") and "S" in flag and not flag.startswith("--")):
                    env_split = True
                elif flag in ("-u", "--unset", "-C", "--chdir") and rest:
                    rest.pop(0)
            while rest and "=" in rest[0]:
                rest.pop(0)
            interpreter = rest.pop(0).rsplit("/", 1)[-1] if rest else ""
        return cls(line, path, interpreter, tuple(rest), via_env, env_split)

    @property
    def errexit(self) -> bool:
        """``#!/bin/sh -e``, ``#!/bin/bash -eu``, ``env -S bash -e`` switch errexit on."""
        args = list(self.args)
        for i, arg in enumerate(args):
            if arg.startswith("-") and not arg.startswith("--") and "e" in arg[1:].split("o")[0]:
                return True
            if arg == "-o" and i + 1 < len(args) and args[i + 1] == "errexit":
                return True
        return False

    @property
    def errtrace(self) -> bool:
        """``#!/bin/bash -eE``: the ERR trap is inherited by functions and substitutions."""
        return any(a.startswith("-") and not a.startswith("--") and "E" in a for a in self.args)

    @property
    def pipefail(self) -> bool:
        """``#!/bin/bash -o pipefail`` (also ``-eo pipefail``)."""
        args = list(self.args)
        return any(a.startswith("-") and a.endswith("o") and i + 1 < len(args) and args[i + 1] == "pipefail"
                   for i, a in enumerate(args))


@dataclass(frozen=True)
class Detected:
    language: str               # a front end's name, "binary", or the interpreter's name
    shebang: Shebang | None
    frontend: "FrontEnd | None" = None   # None: not analysed (binary, another language)


def detect(src: SourceFile) -> Detected:
    """Decide how to analyse a file: by shebang, else by name, else by content, else the
    default front end (the first registered)."""
    from bootlint.frontends import default, front_ends

    if src.is_binary:
        return Detected("binary", None)
    line = src.shebang
    if line is None:
        name = src.path.rsplit("/", 1)[-1].rsplit("!", 1)[-1]
        chosen = next((fe for fe in front_ends() if fe.recognises_name(name)), None) or next(
            (fe for fe in front_ends() if fe.recognises_content(src.text)), None)
        if chosen is None:
            other = unanalysed_language(src.text)
            if other is not None:
                return Detected(other, None)   # BL902, never the shell parser's BL900
            chosen = default()
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
