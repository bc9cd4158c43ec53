"""Finding the files to lint from the paths a user names."""

from __future__ import annotations

import os
import re
import stat
from fnmatch import fnmatch, translate
from functools import lru_cache

from bootlint.files.gitmodes import GIT, TIMEOUT, GitModes, config_is_safe
from bootlint.util.records import dataclass

BOOTSTRAP_NAMES = {"bootstrap", "bootstrap.sh", "bootstrap.py"}
DEFAULT_EXCLUDE = (".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox",
                   ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".bootlint_cache",
                   "site-packages", ".eggs", "*.egg-info", ".terraform", ".aws-sam", "cdk.out")


@dataclass(frozen=True)
class Target:
    """A file to lint, with the path to show for it; ``problem`` when it cannot be read."""

    path: str
    display: str
    explicit: bool          # named on the command line (any name is linted)
    problem: str = ""       # why it is not read (missing, not a regular file, ...)


def display_path(path: str) -> str:
    return path[2:] if path.startswith("./") else path


@lru_cache(maxsize=32)
def _matcher(patterns: tuple[str, ...]):
    return re.compile("|".join(f"(?:{translate(p)})" for p in patterns) or "(?!)")


def excluded(path: str, patterns: tuple[str, ...]) -> bool:
    """A pattern matches the path, or any of its parts (`node_modules`, `*.egg-info`)."""
    norm = display_path(path).replace(os.sep, "/")
    match = _matcher(patterns).match
    return bool(match(norm)) or any(match(part) for part in norm.split("/"))


def included(path: str, patterns: tuple[str, ...] = ()) -> bool:
    """A file a folder walk lints: named like a bootstrap, or matched (its path from the walk's
    folder, or its name) by a pattern of `extend-include`."""
    norm = display_path(path).replace(os.sep, "/")
    name = norm.rsplit("/", 1)[-1]
    return name in BOOTSTRAP_NAMES or any(fnmatch(norm, p) or fnmatch(name, p) for p in patterns)


def discover(paths: list[str], archives: bool = False, exclude: tuple[str, ...] = DEFAULT_EXCLUDE,
             respect_gitignore: bool = True, include: tuple[str, ...] = ()) -> list[Target]:
    """Expand folders into their bootstrap files (and zips, with ``archives``; and the files
    ``include`` patterns match), leaving out excluded and git-ignored ones; a file named on the
    command line is always linted."""
    targets: list[Target] = []
    for path in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            targets.append(Target(path, display_path(path), True, "no such file or folder"))
            continue
        except OSError as exc:
            targets.append(Target(path, display_path(path), True, exc.strerror or str(exc)))
            continue
        if stat.S_ISDIR(st.st_mode):
            found = _walk(path, archives, exclude, include)
            if respect_gitignore:
                found = _drop_ignored(path, found)
            targets.extend(_one_per_file(found))
        else:
            targets.append(Target(path, display_path(path), True))
    return targets


def _one_per_file(found: list[Target]) -> list[Target]:
    """A file a walk finds under two names (`bootstrap -> bootstrap.sh`) once: as `bootstrap`,
    the name Lambda runs, when it is one of them, else under its own name rather than a link's."""
    groups: dict[tuple[int, int], list[Target]] = {}
    for target in found:
        if target.problem:
            continue
        try:
            st = os.stat(target.path)
        except OSError:
            continue
        groups.setdefault((st.st_dev, st.st_ino), []).append(target)
    dropped: set[int] = set()
    for targets in groups.values():
        if len(targets) < 2:
            continue
        keep = (next((t for t in targets if os.path.basename(t.path) == "bootstrap"), None)
                or next((t for t in targets if not os.path.islink(t.path)), targets[0]))
        dropped.update(id(t) for t in targets if t is not keep)
    return [t for t in found if id(t) not in dropped]


def _walk(root: str, archives: bool, exclude: tuple[str, ...], include: tuple[str, ...] = ()) -> list[Target]:
    found: list[Target] = []
    errors: list[OSError] = []
    if excluded(root, exclude):
        return found
    match = _matcher(exclude).match

    def left_out(full: str, name: str) -> bool:
        # The folders above were checked on the way down: the name and the whole path remain
        # (checking every part again made a walk 1,000 folders deep quadratic).
        return bool(match(name) or match(display_path(full).replace(os.sep, "/")))

    for folder, dirs, files in _folders(root, errors):
        for name in files:
            if (name in BOOTSTRAP_NAMES or (archives and name.lower().endswith(".zip"))
                    or (include and included(os.path.relpath(os.path.join(folder, name), root), include))):
                full = os.path.join(folder, name)
                if not left_out(full, name):
                    found.append(Target(full, display_path(full), False))
        dirs[:] = [d for d in dirs if not left_out(os.path.join(folder, d), d)
                   and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))]
    for err in errors:
        found.append(Target(err.filename or root, display_path(err.filename or root), True,
                            err.strerror or str(err)))
    return found


def _folders(root: str, errors: list[OSError]):
    """``os.walk`` top-down with sorted names, without recursion: Python 3.10 and 3.11's
    ``os.walk`` recurses once per level and a tree 1,000 folders deep raised RecursionError.
    Symbolic links to folders are left out, so a link loop cannot trap the walk; the caller may prune ``dirs`` as with ``os.walk``."""
    stack = [root]
    while stack:
        folder = stack.pop()
        dirs, files = [], []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir():
                            if not entry.is_symlink():
                                dirs.append(entry.name)
                            continue
                    except OSError:
                        pass
                    files.append(entry.name)
        except OSError as exc:
            errors.append(exc)
            continue
        dirs.sort()
        files.sort()
        yield folder, dirs, files
        stack.extend(os.path.join(folder, d) for d in reversed(dirs))


def _drop_ignored(root: str, found: list[Target]) -> list[Target]:
    """Leave out what git ignores (one `git check-ignore` for the whole walk; without git, or
    outside a repository, nothing is left out)."""
    candidates = [t for t in found if not t.problem]
    if not candidates:
        return found
    top = GitModes()._toplevel(os.path.abspath(root))
    if top is not None and not config_is_safe(top):
        return found   # git would block on a FIFO its config includes: nothing is left out
    import subprocess   # only where git is asked: a plain check starts no process

    try:
        proc = subprocess.run([*GIT, "check-ignore", "-z", "--stdin"], cwd=root, timeout=TIMEOUT,
                              input=b"\0".join(os.fsencode(os.path.relpath(t.path, root)) for t in candidates),
                              capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return found
    if proc.returncode not in (0, 1):  # 128: not a repository
        return found
    ignored = {os.path.normpath(os.path.join(root, os.fsdecode(p))) for p in proc.stdout.split(b"\0") if p}
    return [t for t in found if os.path.normpath(t.path) not in ignored]
