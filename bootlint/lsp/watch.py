"""What the server watches itself when the client cannot watch files for it (Neovim on Linux,
for one, offers no file watching): the configuration files that could apply to the open
documents, and the open documents' modes (`chmod +x` changes no text and sends no event).
Polled about once a second; a poll is a few `stat` calls, no read."""

from __future__ import annotations

import os

from bootlint.config.settings import CONFIG_NAMES

INTERVAL = 1.0   # seconds between polls


def config_candidates(path: str) -> list[str]:
    """Every path where a configuration file would apply to ``path``: each configuration name
    in each folder from the file's own up to the repository's root, as find_config walks (a file
    created in any of them changes which one applies)."""
    folder = os.path.dirname(os.path.abspath(path))
    out = []
    while True:
        out.extend(os.path.join(folder, name) for name in CONFIG_NAMES)
        parent = os.path.dirname(folder)
        if os.path.exists(os.path.join(folder, ".git")) or parent == folder:
            return out
        folder = parent


def stamp(path: str) -> tuple[int, int, int, int] | None:
    """What changes when a file is written, replaced, or has its mode changed (None: no file)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode


def stamps(paths) -> dict[str, tuple[int, int, int, int] | None]:
    return {path: stamp(path) for path in sorted(set(paths))}
