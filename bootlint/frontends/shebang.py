"""A parsed ``#!`` line: the interpreter after any ``env``, its arguments, and the shell options
they switch on."""

from __future__ import annotations

from bootlint.util.records import dataclass



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
