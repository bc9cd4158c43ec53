"""The deployment package ``bootlint verify`` runs: a private copy of it in a temporary folder.

PATH is a bootstrap file, a folder holding one, or a deployment zip. Everything is copied (or
extracted) into a private task root, so the run never writes into the user's files, and the
probe handler can be put in place without touching them. Only regular files are read, and no
more than Lambda's 250 MB unzipped limit (there is no file-count limit on Lambda: a Node
runtime's ``node_modules`` is many thousand files).
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from bootlint.util.records import dataclass

MAX_BYTES = 250 * 1024 * 1024          # Lambda's limit for an unzipped function package
SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".bootlint_cache", ".pytest_cache"}
UNIX = 3


class PackageError(Exception):
    """The package cannot be prepared (exit 2, with this message)."""


@dataclass
class Package:
    task_root: str        # the private copy: the working directory and LAMBDA_TASK_ROOT
    bootstrap: str        # its bootstrap, inside task_root
    display: str          # how findings name the bootstrap (`fn.zip!bootstrap`, `dir/bootstrap`)
    executable: bool
    mode_origin: str      # "disk" or "zip"


def prepare(path: str, task_root: str | None, into: str) -> Package:
    """Copy or extract the package at ``path`` into ``into`` (an empty private folder)."""
    if not os.path.exists(path):
        raise PackageError(f"{path}: no such file or folder")
    if not os.path.isdir(path):
        _regular_file(path)
    dest = os.path.join(into, "task")
    if os.path.isfile(path) and _is_zip(path):
        return _extract(path, dest)
    if os.path.isdir(path):
        bootstrap = os.path.join(path, "bootstrap")
        if not os.path.isfile(bootstrap):
            raise PackageError(f"{path}: the folder has no file named bootstrap at its root")
        display = os.path.join(path, "bootstrap") if path not in (".", "./") else "bootstrap"
    else:
        bootstrap, display = path, path
    source_root = task_root or (os.path.dirname(bootstrap) or "."
                                if os.path.basename(bootstrap) == "bootstrap" else None)
    os.makedirs(dest)
    if source_root is not None:
        if not os.path.isdir(source_root):
            raise PackageError(f"--task-root {source_root}: not a folder")
        _copy_tree(source_root, dest)
    target = os.path.join(dest, "bootstrap")
    _regular_file(bootstrap)
    try:
        with open(bootstrap, "rb") as src, open(target, "wb") as out:
            _copy_bounded(src, out, bootstrap)
        mode = os.stat(bootstrap).st_mode
    except OSError as exc:
        raise PackageError(f"{bootstrap}: cannot read: {exc.strerror or exc}") from None
    os.chmod(target, stat.S_IMODE(mode) | stat.S_IRUSR)
    return Package(dest, target, display, bool(mode & 0o111), "disk")


def _regular_file(path: str) -> None:
    """Refuse a device, a FIFO or a socket (``verify /dev/zero``), and a file over the limit."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise PackageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise PackageError(f"{path}: not a regular file (a bootstrap, a folder or a zip is run)")
    if st.st_size > MAX_BYTES:
        raise PackageError(f"{path}: {st.st_size:,} bytes, over Lambda's {MAX_BYTES:,}-byte limit")


def _is_zip(path: str) -> bool:
    try:
        return zipfile.is_zipfile(path)
    except Exception:  # noqa: BLE001 - hostile bytes: then it is not a zip we can read
        return False


def _copy_bounded(src, out, name: str, budget: int = MAX_BYTES) -> int:
    """Copy at most ``budget`` bytes; more is an error (a file that grows while read)."""
    copied = 0
    while True:
        chunk = src.read(1024 * 1024)
        if not chunk:
            return copied
        copied += len(chunk)
        if copied > budget:
            raise PackageError(f"{name}: unzips or copies to more than {MAX_BYTES:,} bytes, over "
                               f"Lambda's limit for a function package")
        out.write(chunk)


def _copy_tree(source: str, dest: str) -> None:
    size = 0
    for folder, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS
                         and not os.path.islink(os.path.join(folder, d)))
        rel = os.path.relpath(folder, source)
        os.makedirs(os.path.join(dest, rel), exist_ok=True)
        for name in files:
            src = os.path.join(folder, name)
            try:
                st = os.lstat(src)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            size += st.st_size
            if size > MAX_BYTES:
                raise PackageError(f"{source}: more than {MAX_BYTES:,} bytes: larger than Lambda's "
                                   f"limit for an unzipped package; give --task-root a smaller folder")
            try:
                shutil.copy2(src, os.path.join(dest, rel, name))
            except OSError:
                continue   # unreadable: Lambda's package would not have it either


def _extract(path: str, dest: str) -> Package:
    os.makedirs(dest)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if sum(i.file_size for i in infos) > MAX_BYTES:
                raise PackageError(f"{path}: unzips to more than {MAX_BYTES:,} bytes, over "
                                   f"Lambda's limit for a function package")
            left = MAX_BYTES
            for info in infos:
                name = info.filename.replace("\\", "/").removeprefix("./").lstrip("/")
                parts = [p for p in name.split("/") if p not in ("", ".")]
                mode = info.external_attr >> 16
                if not parts or ".." in parts or stat.S_ISLNK(mode) or info.flag_bits & 0x1:
                    continue   # outside the folder, a link or encrypted: not extracted
                target = os.path.join(dest, *parts)
                if info.is_dir():
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with archive.open(info) as src, open(target, "wb") as out:
                    # The sizes in the directory may lie: the bytes written are counted too.
                    left -= _copy_bounded(src, out, path, left)
                unix = info.create_system == UNIX or mode
                os.chmod(target, (stat.S_IMODE(mode) | stat.S_IRUSR) if unix else 0o644)
    except PackageError:
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile, zlib, lzma and bz2 fail on hostile bytes
        # in many ways (BadZipFile, zlib.error on a corrupt deflate stream, LZMAError,
        # NotImplementedError, UnicodeDecodeError for a member name): each is this archive's problem.
        raise PackageError(f"{path}: cannot extract: {type(exc).__name__}: {exc}") from None
    bootstrap = os.path.join(dest, "bootstrap")
    if not os.path.isfile(bootstrap):
        raise PackageError(f"{path}: the archive has no bootstrap at its root")
    return Package(dest, bootstrap, f"{path}!bootstrap", bool(os.stat(bootstrap).st_mode & 0o111), "zip")
