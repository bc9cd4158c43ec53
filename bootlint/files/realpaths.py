"""Resolving paths as :func:`os.path.realpath` does, each folder once.

``os.path.realpath`` asks the file system about every component of every path (an ``lstat``
each): a run over a thousand files in a thousand sibling folders asks about their common
parents a thousand times, twice a file (its git index mode, its configuration file). A
:class:`RealPaths` keeps each folder's resolution for the run, so a new path costs one
``lstat`` of its own folder and one of its name.
"""

from __future__ import annotations

import os


class RealPaths:
    """``os.path.realpath`` with each folder's answer kept (for one run: a folder moved or
    relinked meanwhile is not seen; :meth:`forget` lets it be)."""

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def forget(self) -> None:
        self._folders.clear()

    def resolve(self, path: str) -> str:
        """What ``os.path.realpath(path)`` gives."""
        path = os.fspath(path)
        if os.pardir in path.split(os.sep):
            # `link/..` is the link target's parent, not the link's: realpath resolves links
            # before it goes up, which a lexical normalisation would not.
            return os.path.realpath(path)
        folder, name = os.path.split(os.path.abspath(path))
        if not name:
            return folder      # the root
        return self._one(self._folder(folder), name)

    def _folder(self, folder: str) -> str:
        """A folder's resolution (an absolute, normalised path), from its nearest known ancestor
        down, one component at a time (no recursion: a path may have thousands of them)."""
        names: list[str] = []
        current = folder
        while current not in self._folders:
            parent, name = os.path.split(current)
            if not name:                       # the root
                self._folders[current] = current
                break
            names.append(name)
            current = parent
        real = self._folders[current]
        for name in reversed(names):
            current = os.path.join(current, name)
            real = self._one(real, name)
            self._folders[current] = real
        return real

    @staticmethod
    def _one(real_folder: str, name: str) -> str:
        """``name`` in a folder already resolved: the name itself, or where its link leads."""
        joined = os.path.join(real_folder, name)
        return os.path.realpath(joined) if os.path.islink(joined) else joined
