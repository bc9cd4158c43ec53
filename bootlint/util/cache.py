"""A content-hash cache of findings, so a repeat run over an unchanged tree parses nothing.

An entry's key covers everything the findings depend on: the file's bytes, the name it is shown
under, the bash that `bash -n` would run, whether it is executable and how that was learnt, the
rules selected for it, the versions of bootlint, Python, libcst, tree-sitter and
tree-sitter-bash, and bootlint's own modules as they are on disk (:func:`code_fingerprint`). Entries are written atomically; an unreadable or corrupt one is a miss.

The cache folder usually sits in the repository being linted, which may be a stranger's pull
request, so nothing in it is trusted:
- every entry carries an HMAC made with a key of the user's own (``bootlint/hmac.key`` in the
  user's cache folder, mode 0600, made on first use): an entry committed to a repository, or
  written by anyone else, does not verify and is a miss;
- no symbolic link is followed: a cache folder that is a link is refused (with a warning, and the
  run goes on without the cache), and entries are opened without following links, only when they
  are regular files, and never more than :data:`MAX_ENTRY_BYTES` of them.
"""

from __future__ import annotations

import os
import stat
import sys

from bootlint import __version__
from bootlint.engine import FileResult, Selection
from bootlint.diagnostics import Finding, Related, Severity, Span, fix_from_json, fix_to_json
from bootlint.files.source import SourceFile

DEFAULT_DIR = ".bootlint_cache"
MAX_ENTRY_BYTES = 4 * 1024 * 1024
KEY_BYTES = 32
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
# Bumped when an entry's layout changes, so that older entries are misses, not wrong answers.
ENTRY_FORMAT = "3"


def _span(data: list[int]) -> Span:
    return Span(*data)


class CacheRefused(Exception):
    """Why the cache is not used for this run (said once, as a warning)."""


def code_fingerprint(package_dir: str | None = None) -> str:
    """bootlint's own code as the findings depend on it: the size and modification time of each
    of its modules. An installed copy's never change (its version says it all); in a checkout or
    an editable install, where the version stays the same from edit to edit, an edit to a rule or
    a front end makes every earlier entry a miss instead of a stale answer."""
    root = package_dir or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parts = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                try:
                    info = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                parts.append(f"{os.path.relpath(os.path.join(folder, name), root)}:{info.st_size}:{info.st_mtime_ns}")
    return "\n".join(parts)


def tool_versions() -> str:
    """The versions the findings depend on besides bootlint's own: Python (its grammar),
    libcst, tree-sitter and tree-sitter-bash."""
    from importlib import metadata

    parts = [sys.version]
    for dist in ("libcst", "tree-sitter", "tree-sitter-bash"):
        try:
            parts.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist}=none")
    return " ".join(parts)


def user_cache_home() -> str:
    """The user's own cache folder: $XDG_CACHE_HOME, else ~/.cache."""
    return os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")


def load_user_key(folder: str | None = None) -> bytes:
    """The user's HMAC key, made (mode 0600) on first use; raises CacheRefused when it cannot
    be made or is not the user's own."""
    folder = folder or os.path.join(user_cache_home(), "bootlint")
    path = os.path.join(folder, "hmac.key")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        try:
            fd = os.open(path, _NEW_FLAGS, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(KEY_BYTES))
        fd = os.open(path, _READ_FLAGS)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if (not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid()
                    or info.st_mode & 0o077):
                raise CacheRefused(f"{path} is not a file of this user's with mode 0600")
            key = handle.read(KEY_BYTES + 1)
    except OSError as exc:
        raise CacheRefused(f"cannot make or read the cache key {path}: {exc.strerror or exc}") from None
    if len(key) != KEY_BYTES:
        raise CacheRefused(f"{path} is not a bootlint cache key")
    return key


class Cache:
    def __init__(self, directory: str = DEFAULT_DIR, enabled: bool = True) -> None:
        self.directory = directory
        self.enabled = enabled
        self.warning = ""
        self._secret = b""
        self._prefix = ""
        self._prepared = False
        # Shell findings depend on whether `bash -n` can be asked (BL905 or BL900).
        import shutil

        self._bash = shutil.which("bash") or ""

    def open(self) -> "Cache":
        """Get the key and check the folder, once, in the parent process (before any worker
        starts): a refusal turns the cache off with a warning in :attr:`warning`."""
        if not self.enabled or self._secret:
            return self
        try:
            self._secret = load_user_key()
            self._prefix = (f"{__version__}\0{ENTRY_FORMAT}\0{tool_versions()}\0{self._bash}\0"
                            f"{code_fingerprint()}")
            self._check_folder()
        except CacheRefused as exc:
            self.enabled = False
            self.warning = f"{exc}: running without the cache"
        return self

    def _check_folder(self) -> None:
        try:
            info = os.lstat(self.directory)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise CacheRefused(f"cache folder {self.directory}: {exc.strerror or exc}") from None
        if stat.S_ISLNK(info.st_mode):
            raise CacheRefused(f"the cache folder {self.directory} is a symbolic link: not followed")
        if not stat.S_ISDIR(info.st_mode):
            raise CacheRefused(f"the cache folder {self.directory} is not a folder")

    def key(self, src: SourceFile, selection: Selection) -> str:
        import hashlib   # here, not at start-up: a run without the cache never needs it

        digest = hashlib.sha256()
        for part in (self._prefix, src.path, repr(src.executable), src.mode_origin, src.mode_note,
                     repr((selection.select, selection.ignore, selection.extend_select,
                           sorted(selection.severity.items()), selection.target))):
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(src.raw)
        return digest.hexdigest()

    def _mac(self, key: str, body: bytes) -> bytes:
        import hashlib
        import hmac

        return hmac.new(self._secret, key.encode() + b"\0" + body, hashlib.sha256).hexdigest().encode()

    # -- folders, never through a link ----------------------------------------------------------
    def _folder_fd(self, key: str, create: bool) -> int:
        """A descriptor of ``<cache>/<version>/<key[:2]>``, each level opened without following
        a link (made when ``create``)."""
        parts = [__version__, key[:2]]
        if create and not os.path.lexists(self.directory):
            os.makedirs(self.directory, exist_ok=True)
        fd = os.open(self.directory, _DIR_FLAGS)
        try:
            if create:
                self._mark(fd)
            for part in parts:
                if create:
                    try:
                        os.mkdir(part, 0o755, dir_fd=fd)
                    except FileExistsError:
                        pass
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
            return fd
        except BaseException:
            os.close(fd)
            raise

    def _mark(self, root_fd: int) -> None:
        """Mark the folder as a cache (backup tools skip it, git ignores it); an existing file of
        that name (or a link) is left as it is."""
        if self._prepared:
            return
        self._prepared = True
        for name, text in (("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"
                                            "# This folder is a cache made by bootlint.\n"),
                           (".gitignore", "*\n")):
            try:
                fd = os.open(name, _NEW_FLAGS, 0o644, dir_fd=root_fd)
            except OSError:
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)

    # -- entries -------------------------------------------------------------------------------
    def get(self, key: str) -> FileResult | None:
        if not self.enabled or not self._secret:
            return None
        try:
            folder = self._folder_fd(key, create=False)
        except OSError:
            return None
        try:
            fd = os.open(key + ".json", _READ_FLAGS, dir_fd=folder)
        except OSError:
            return None
        finally:
            os.close(folder)
        try:
            with os.fdopen(fd, "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                    return None
                data = handle.read(MAX_ENTRY_BYTES + 1)
        except OSError:
            return None
        mac, _, body = data.partition(b"\n")
        import hmac
        import json

        if len(data) > MAX_ENTRY_BYTES or not hmac.compare_digest(mac, self._mac(key, body)):
            return None
        try:
            entry = json.loads(body)
            result = FileResult(entry["path"])
            result.findings = [Finding(f["code"], f["name"], Severity(f["severity"]), f["message"],
                                       f["path"], Span(*f["span"]), f["source_line"],
                                       fix_from_json(f.get("fix")),
                                       tuple(Related(_span(s), m) for s, m in f.get("related", ())))
                               for f in entry["findings"]]
            return result
        except (ValueError, KeyError, TypeError, RecursionError):
            return None

    def put(self, key: str, result: FileResult) -> None:
        if not self.enabled or not self._secret or result.internal_error:
            return
        data = {"path": result.path, "findings": [
            {"code": f.code, "name": f.name, "severity": f.severity.value, "message": f.message,
             "path": f.path, "span": [f.span.line, f.span.column, f.span.end_line, f.span.end_column],
             "source_line": f.source_line, "fix": fix_to_json(f.fix),
             "related": [[[r.span.line, r.span.column, r.span.end_line, r.span.end_column], r.message]
                         for r in f.related]} for f in result.findings]}
        import json

        body = json.dumps(data).encode("utf-8", "surrogateescape")
        name = key + ".json"
        tmp = f"{name}.{os.getpid()}.tmp"
        try:
            folder = self._folder_fd(key, create=True)
        except OSError:
            self.enabled = False  # a read-only tree, or a link where a folder should be
            return
        try:
            fd = os.open(tmp, _NEW_FLAGS, 0o644, dir_fd=folder)
            with os.fdopen(fd, "wb") as handle:
                handle.write(self._mac(key, body) + b"\n" + body)
            os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except OSError:
            try:
                os.unlink(tmp, dir_fd=folder)
            except OSError:
                pass
            self.enabled = False
        finally:
            os.close(folder)
