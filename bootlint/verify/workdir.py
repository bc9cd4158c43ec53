"""The run's private folder (``bootlint-verify-*`` in the system's temp folder) and its removal."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile


def make() -> str:
    """A new private folder for one run (mode 0700)."""
    return tempfile.mkdtemp(prefix="bootlint-verify-")


def remove(path: str) -> None:
    """Remove the run's folder whatever the bootstrap left in it: folders it made unreadable
    (``chmod 000``) get their owner's access back first, so that a user who is not root does
    not keep them (and everything around them) behind."""
    for folder, dirs, _files in os.walk(path, onerror=lambda _exc: None):
        for name in dirs:
            child = os.path.join(folder, name)
            try:
                mode = os.lstat(child).st_mode
                if stat.S_ISDIR(mode) and stat.S_IMODE(mode) & 0o700 != 0o700:
                    os.chmod(child, stat.S_IMODE(mode) | 0o700)
            except OSError:
                continue
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    shutil.rmtree(path, ignore_errors=True)
