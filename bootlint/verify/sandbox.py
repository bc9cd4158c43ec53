"""The sandbox ``bootlint verify`` runs a bootstrap in: bubblewrap (``bwrap``), set up like Lambda's.

What the bootstrap sees and may do, each start:

- the host's file system read-only (its programs, ``/opt``, the interpreters on PATH);
- its package read-only at ``/var/task`` (``LAMBDA_TASK_ROOT`` and the working directory, as on
  Lambda), an empty ``/var/runtime``, and a private, empty, writable ``/tmp`` (also ``TMPDIR``)
  that bootlint removes after the run; ``/dev`` is a minimal one with a private ``/dev/shm``;
- no capabilities, its own user, PID, IPC and UTS namespaces: every process it starts —
  daemons, ``setsid``, double forks — is in its PID namespace, which the kernel empties when the
  bootstrap exits or bootlint ends it (and when bootlint dies: ``--die-with-parent``);
- the host's network (the Runtime API is on the loopback interface): the sandbox does not stop a
  bootstrap from reaching what this machine reaches.

Where bubblewrap is missing or cannot make namespaces here, :func:`find` says why and the run is
refused unless the user asks for ``--no-sandbox``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from bootlint.util.records import dataclass

TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
TMP = "/tmp"


@dataclass(frozen=True)
class Layout:
    """Where the run's folders are, as the bootstrap sees them."""

    task_root: str
    runtime_dir: str
    tmp: str


@lru_cache(maxsize=1)
def find() -> tuple[str | None, str]:
    """(the bwrap program, "") when the sandbox works here, else (None, why not)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None, "bubblewrap (`bwrap`) is not installed (Debian and Ubuntu: apt-get install bubblewrap)"
    try:
        trial = subprocess.run([bwrap, *_base_args(), "--", "true"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"bubblewrap could not be started: {exc}"
    if trial.returncode != 0:
        said = trial.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, ("bubblewrap cannot make its namespaces on this machine"
                      + (f" ({said[-1][:200]})" if said else ""))
    return bwrap, ""


def spawn_seconds(bwrap: str | None) -> float:
    """How long this machine takes, now, to start a trivial process the way the bootstrap is
    started (in the sandbox when there is one): a measure of a machine too busy to judge on."""
    import time

    argv = [bwrap, *_base_args(), "--", "true"] if bwrap else ["true"]
    began = time.monotonic()
    try:
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return time.monotonic() - began
    return time.monotonic() - began


def _base_args() -> list[str]:
    args = ["--ro-bind", "/", "/", "--dev", "/dev", "--tmpfs", "/dev/shm", "--proc", "/proc",
            "--tmpfs", "/tmp"]
    return args + ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                   "--cap-drop", "ALL", "--die-with-parent"]


def _var_args() -> list[str]:
    """``/var`` as a fresh folder holding the host's entries (read-only) and room for
    ``/var/task`` and ``/var/runtime``, which the host's ``/var`` does not have."""
    args = ["--tmpfs", "/var"]
    try:
        entries = sorted(os.listdir("/var"))
    except OSError:
        entries = []
    for name in entries:
        if name in ("task", "runtime"):
            continue
        path = os.path.join("/var", name)
        args += ["--ro-bind", path, path] if not os.path.islink(path) else \
            ["--symlink", os.readlink(path), path]
    return args


def wrap(bwrap: str, argv: list[str], executable: str | None, task_root: str, runtime_dir: str,
         tmp: str) -> list[str]:
    """The command that runs ``argv`` (started as ``executable`` when given, under the name
    ``argv[0]``) in the sandbox, with the host's ``task_root``, ``runtime_dir`` and ``tmp``
    folders mounted where Lambda has them."""
    args = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--tmpfs", "/dev/shm", "--proc", "/proc",
            *_var_args(),
            "--ro-bind", task_root, TASK_ROOT, "--ro-bind", runtime_dir, RUNTIME_DIR,
            "--bind", tmp, TMP, "--remount-ro", "/var", "--chdir", TASK_ROOT,
            "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--cap-drop", "ALL", "--die-with-parent", "--"]
    inside = [inside_path(word, task_root) for word in argv]
    if executable is not None:
        # bwrap has no --argv0 before 0.9; ``executable`` is bash (see ``command_for``), whose
        # `exec -a` starts it again under the name.
        return args + [executable, "-c", 'exec -a "$0" "$@"', inside[0], executable, *inside[1:]]
    return args + inside


def hidden_by_private_tmp(path_value: str) -> list[str]:
    """The folders of a PATH value that the sandbox hides: under ``/tmp``, which it replaces by a
    private, empty one (a virtual environment made by ``mktemp -d``, say)."""
    hidden = []
    for entry in path_value.split(os.pathsep):
        real = os.path.realpath(entry) if entry else ""
        if real == TMP or real.startswith(TMP + "/"):
            hidden.append(entry)
    return hidden


def inside_path(path: str, task_root: str) -> str:
    """A host path in the private task root, as the sandboxed bootstrap sees it."""
    if path == task_root or path.startswith(task_root.rstrip("/") + "/"):
        return TASK_ROOT + path[len(task_root.rstrip("/")):]
    return path
