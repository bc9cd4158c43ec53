"""Finding the files to lint from the paths a user names."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

BOOTSTRAP_NAMES = {"bootstrap", "bootstrap.sh", "bootstrap.py"}
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", ".bootlint_cache", "site-packages",
             ".eggs", ".terraform", ".aws-sam", "cdk.out"}


@dataclass(frozen=True)
class Target:
    """A file to lint, with the path to show for it; ``problem`` when it cannot be read."""

    path: str
    display: str
    explicit: bool          # named on the command line (any name is linted)
    problem: str = ""       # why it is not read (missing, not a regular file, ...)


def display_path(path: str) -> str:
    return path[2:] if path.startswith("./") else path


def discover(paths: list[str], archives: bool = False) -> list[Target]:
    """Expand folders into their bootstrap files (and zips, with ``archives``); keep named files
    whatever their name."""
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
            targets.extend(_walk(path, archives))
        else:
            targets.append(Target(path, display_path(path), True))
    return targets


def _walk(root: str, archives: bool) -> list[Target]:
    found: list[Target] = []
    errors: list[OSError] = []
    # Symbolic links to folders are not followed, so a link loop cannot trap the walk.
    for folder, dirs, files in os.walk(root, onerror=errors.append):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
                         and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg")))
        for name in sorted(files):
            if name in BOOTSTRAP_NAMES or (archives and name.lower().endswith(".zip")):
                full = os.path.join(folder, name)
                found.append(Target(full, display_path(full), False))
    for err in errors:
        found.append(Target(err.filename or root, display_path(err.filename or root), True,
                            err.strerror or str(err)))
    return found
