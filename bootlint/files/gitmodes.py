"""The mode git records for a file: a checkout elsewhere (CI, a colleague, a file system without
modes) gets the index's mode, not this disk's. Git is optional: without it, or outside a
repository, the answer is None and the disk's mode is used."""

from __future__ import annotations

import os
import re
import stat
from bootlint.files.realpaths import RealPaths
from bootlint.util.lazyre import lazy

# A repository's own config could name programs for git to run (core.fsmonitor); bootlint runs
# nothing a repository chooses.
GIT = ["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null"]
TIMEOUT = 10


# A repository's config may include other files (include.path, includeIf.*.path); git opens
# them all, and a FIFO or a device named there would stall git (and the run) until its timeout.
_SECTION = lazy(r"^\s*\[\s*(include|includeif)\b", re.I)
_OTHER_SECTION = lazy(r"^\s*\[")
_PATH = lazy(r"^\s*path\s*=\s*(.*?)\s*$", re.I)
MAX_CONFIG_BYTES = 1024 * 1024


def git_dir(top: str) -> str | None:
    """The repository folder of a work tree (`.git`, or where a `.git` file's `gitdir:` points)."""
    dot = os.path.join(top, ".git")
    if os.path.isdir(dot):
        return dot
    try:
        with open(dot, "rb") as handle:
            line = handle.read(4096).split(b"\n", 1)[0].decode("utf-8", "surrogateescape")
    except OSError:
        return None
    if not line.startswith("gitdir:"):
        return None
    return os.path.join(top, line[len("gitdir:"):].strip())


def config_is_safe(top: str) -> bool:
    """Whether git can read this repository's configuration without blocking: its config files
    and every file they include are regular files (or absent), read without following FIFOs."""
    folder = git_dir(top)
    if folder is None:
        return True
    configs = [os.path.join(folder, "config")]
    try:
        with open(os.path.join(folder, "commondir"), "rb") as handle:   # a linked work tree
            configs.append(os.path.join(folder, handle.read(4096).decode("utf-8", "surrogateescape").strip(), "config"))
    except OSError:
        pass
    seen: set[str] = set()
    while configs:
        path = os.path.normpath(configs.pop())
        if path in seen:
            continue
        seen.add(path)
        if len(seen) > 64:
            return False   # an include chain this long is not a repository's config
        try:
            st = os.stat(path)
        except OSError:
            continue   # missing: git skips it too
        if not stat.S_ISREG(st.st_mode):
            return False
        try:
            with open(path, "rb") as handle:
                text = handle.read(MAX_CONFIG_BYTES).decode("utf-8", "surrogateescape")
        except OSError:
            return False
        including = False
        for line in text.splitlines():
            if _OTHER_SECTION.match(line):
                including = bool(_SECTION.match(line))
                continue
            found = _PATH.match(line) if including else None
            if found:
                included = os.path.expanduser(found.group(1).strip('"'))
                configs.append(included if os.path.isabs(included) else
                               os.path.join(os.path.dirname(path), included))
    return True


class GitModes:
    """Index modes, one `git ls-files` per repository."""

    def __init__(self) -> None:
        self._toplevels: dict[str, str | None] = {}
        self._indexes: dict[str, dict[str, int]] = {}
        self._real = RealPaths()
        self.available = True

    def _git(self, *args: str, cwd: str) -> bytes | None:
        if not self.available:
            return None
        import subprocess   # only where git is asked: a plain check starts no process

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
            out = (self._git("ls-files", "-s", "-z", cwd=top) or b"") if config_is_safe(top) else b""
            for entry in out.split(b"\0"):
                meta, _, name = entry.partition(b"\t")
                if name:
                    modes[name.decode("utf-8", "surrogateescape")] = int(meta.split(b" ")[0], 8)
            self._indexes[top] = modes
        return self._indexes[top]

    def mode(self, path: str) -> int | None:
        """The file's mode in the index of the repository it is in, or None if untracked."""
        real = self._real.resolve(path)
        top = self._toplevel(os.path.dirname(real))
        if top is None:
            return None
        return self._index(top).get(os.path.relpath(real, top).replace(os.sep, "/"))
