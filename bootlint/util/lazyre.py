"""Regular expressions compiled on their first use.

Python compiles a pattern in Python code (``re._parser``, ``re._compiler``): 0.1-0.7 ms each. A
module-level ``re.compile`` pays that in every process that imports the module, whether or not
the pattern is used: a cold check of a shell bootstrap compiled some thirty patterns it never
used (the polyglot test, configuration includes, the Python front end's sniffing).
"""

from __future__ import annotations

import re

_METHODS = ("match", "fullmatch", "search", "findall", "finditer", "sub", "subn", "split")


class LazyPattern:
    """Behaves as ``re.compile(pattern, flags)``, compiled when first used. After that, its
    methods are the compiled pattern's own, kept on the instance (no indirection per call)."""

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def compiled(self) -> re.Pattern:
        return re.compile(self.pattern, self.flags)   # re's own cache keeps one copy

    def __getattr__(self, name: str):
        # Called only for what the instance does not have yet: the first use.
        compiled = self.compiled()
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r}, {self.flags!r})"


def lazy(pattern: str | bytes, flags: int = 0) -> LazyPattern:
    """A pattern compiled on first use (see :class:`LazyPattern`)."""
    return LazyPattern(pattern, flags)
