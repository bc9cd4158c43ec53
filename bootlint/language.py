"""Which language a bootstrap is written in: the registered front end that recognises its
shebang, else its name, else its content (see :mod:`bootlint.frontends`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bootlint.source import SourceFile

if TYPE_CHECKING:
    from bootlint.frontends import FrontEnd


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
            (fe for fe in front_ends() if fe.recognises_content(src.text)), None) or default()
        return Detected(chosen.name, None, chosen)
    shebang = Shebang.parse(line)
    for fe in front_ends():
        if fe.recognises_shebang(shebang):
            return Detected(fe.name, shebang, fe)
    return Detected(shebang.interpreter or "unknown", shebang)
