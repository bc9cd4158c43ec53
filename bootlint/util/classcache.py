"""Compiled dataclass methods kept between runs, as Python keeps a module's bytecode.

``@dataclass`` writes the source of a class's ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` and (frozen) ``__setattr__``/``__delattr__`` as text and compiles it with ``exec``
each time the defining module is imported. A cold ``bootlint check`` defines about ninety such
classes and spent ~30 ms of its ~180 ms CPU compiling those ~400 small functions, the same text
every run. :func:`install` gives the ``dataclasses`` module an ``exec`` that looks the text up
in a table of compiled code first; the table is read from, and (when a text was new) written
back to, a file beside the package's own bytecode cache (one per top-level package of the
classes: bootlint's, libcst's ...). The key is the exact source text, so
a stale entry can never be used for a changed class: a new text is compiled as ``dataclasses``
would have compiled it, and the methods are the same objects either way (same code, same
globals). As with ``.pyc`` files, nothing is written when bytecode writing is off
(``PYTHONDONTWRITEBYTECODE``, ``-B``) or the folder is not writable, and an unreadable or
foreign file is ignored.
"""

from __future__ import annotations

import builtins
import marshal
import os
import sys

# Entries kept at most in one package's file: past it, a write keeps only the texts this process
# used. (bootlint defines about a hundred dataclasses: some four hundred texts.)
MAX_ENTRIES = 4096
_FORMAT = 2   # bump when the file's layout changes

# One table per top-level package of the defining module (its file is read on the package's first
# class), so that a shell check does not read what libcst's or pygls's classes need.
_tables: dict[str, dict[str, object]] = {}
_used: dict[str, set[str]] = {}
_new: set[str] = set()   # packages with a text compiled in this process
_counts = [0, 0]         # texts found, texts compiled
_folder: str | None = None


def cache_folder() -> str:
    """Where the tables live: the package's ``__pycache__`` (``BOOTLINT_CLASS_CACHE_DIR``
    overrides it: tests)."""
    override = os.environ.get("BOOTLINT_CLASS_CACHE_DIR")
    if override:
        return override
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # the bootlint package
    return os.path.join(here, "__pycache__")


def table_path(package: str) -> str:
    return os.path.join(_folder or cache_folder(),
                        f"dataclass-methods.{package}.{sys.implementation.cache_tag}.marshal")


def _load(path: str) -> dict[str, object]:
    try:
        with open(path, "rb") as handle:
            data = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if (not isinstance(data, tuple) or len(data) != 3 or data[0] != _FORMAT
            or data[1] != sys.version or not isinstance(data[2], dict)):
        return {}
    code_type = type(_load.__code__)
    return {k: v for k, v in data[2].items() if isinstance(k, str) and isinstance(v, code_type)}


def _table(package: str) -> dict[str, object]:
    table = _tables.get(package)
    if table is None:
        table = _tables[package] = _load(table_path(package)) if package.isidentifier() else {}
        _used[package] = set()
    return table


def cached_exec(source, globals=None, locals=None, /):
    """``exec``, with a source text compiled once and then found by its text."""
    if not isinstance(source, str):
        return builtins.exec(source, globals, locals)
    package = str((globals or {}).get("__name__") or "").partition(".")[0]
    table = _table(package)
    code = table.get(source)
    if code is None:
        code = table[source] = compile(source, "<string>", "exec")
        _new.add(package)
        _counts[1] += 1
    else:
        _counts[0] += 1
    _used[package].add(source)
    return builtins.exec(code, globals, locals)


def stats() -> tuple[int, int]:
    """(texts found in a table, texts compiled) in this process so far."""
    return _counts[0], _counts[1]


def save() -> int:
    """Write back the tables of the packages this process compiled a new text for; how many
    files were written (none when bytecode writing is off or the folder is not writable)."""
    if sys.dont_write_bytecode:
        return 0
    written = 0
    for package in sorted(_new):
        if not package.isidentifier():
            continue
        table = _tables[package]
        codes = table if len(table) <= MAX_ENTRIES else {k: table[k] for k in _used[package]}
        path = table_path(package)
        temporary = f"{path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(temporary, "wb") as handle:
                handle.write(marshal.dumps((_FORMAT, sys.version, codes)))
            os.replace(temporary, path)   # another process's write is replaced whole, never mixed
            written += 1
        except (OSError, ValueError):
            try:
                os.unlink(temporary)
            except OSError:
                pass
    _new.clear()
    return written


def install() -> None:
    """Give ``dataclasses`` the cached ``exec`` (once per process)."""
    global _folder
    import dataclasses

    if getattr(dataclasses, "exec", None) is cached_exec:
        return
    _folder = cache_folder()
    # dataclasses calls exec() by its plain name: a module global shadows the builtin.
    dataclasses.exec = cached_exec
    import atexit

    atexit.register(save)
