"""The mode git records for a file: a checkout elsewhere (CI, a colleague, a file system without
modes) gets the index's mode, not this disk's. Git is optional: without it, or outside a
repository, the answer is None and the disk's mode is used."""

from __future__ import annotations

import os
import subprocess

# A repository's own config could name programs for git to run (core.fsmonitor); bootlint runs
# nothing a repository chooses.
GIT = ["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null"]
TIMEOUT = 10


class GitModes:
    """Index modes, one `git ls-files` per repository."""

    def __init__(self) -> None:
        self._toplevels: dict[str, str | None] = {}
        self._indexes: dict[str, dict[str, int]] = {}
        self.available = True

    def _git(self, *args: str, cwd: str) -> bytes | None:
        if not self.available:
            return None
        try:
            proc = subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, timeout=TIMEOUT,
                                  env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
        except FileNotFoundError:
            self.available = False
            return None
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout if proc.returncode == 0 else None

    def _toplevel(self, folder: str) -> str | None:
        """The repository a folder is in: found by looking for `.git` upwards (no process per
        folder; a run over a thousand folders asks git once per repository)."""
        if folder in self._toplevels:
            return self._toplevels[folder]
        seen = []
        current = folder
        top = None
        while True:
            if current in self._toplevels:
                top = self._toplevels[current]
                break
            seen.append(current)
            if os.path.exists(os.path.join(current, ".git")):
                top = current
                break
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for path in seen:
            self._toplevels[path] = top
        return top

    def _index(self, top: str) -> dict[str, int]:
        if top not in self._indexes:
            modes: dict[str, int] = {}
            out = self._git("ls-files", "-s", "-z", cwd=top) or b""
            for entry in out.split(b"\0"):
                meta, _, name = entry.partition(b"\t")
                if name:
                    modes[name.decode("utf-8", "surrogateescape")] = int(meta.split(b" ")[0], 8)
            self._indexes[top] = modes
        return self._indexes[top]

    def mode(self, path: str) -> int | None:
        """The file's mode in the index of the repository it is in, or None if untracked."""
        real = os.path.realpath(path)
        top = self._toplevel(os.path.dirname(real))
        if top is None:
            return None
        return self._index(top).get(os.path.relpath(real, top).replace(os.sep, "/"))
