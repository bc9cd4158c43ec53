"""Compiled dataclass methods kept between runs, as Python keeps a module's bytecode.

``@dataclass`` writes the source of a class's ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` and (frozen) ``__setattr__``/``__delattr__`` as text and compiles it with ``exec``
each time the defining module is imported. A cold ``bootlint check`` defines about ninety such
classes and spent ~30 ms of its ~180 ms CPU compiling those ~400 small functions, the same text
every run. :func:`install` gives the ``dataclasses`` module an ``exec`` that looks the text up
in a table of compiled code first; the table is read from, and (when a text was new) written
back to, one file beside the package's own bytecode cache. The key is the exact source text, so
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

# Entries kept at most: the texts of every dataclass bootlint, libcst and pygls define are well
# under this; past it, a write keeps only the texts this process used.
MAX_ENTRIES = 4096
_FORMAT = 1   # bump when the file's layout changes

_codes: dict[str, object] = {}
_used: set[str] = set()
_new = 0
_hits = 0
_path: str | None = None


def cache_path() -> str:
    """The file the compiled texts live in (``BOOTLINT_CLASS_CACHE`` overrides it: tests)."""
    override = os.environ.get("BOOTLINT_CLASS_CACHE")
    if override:
        return override
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # the bootlint package
    return os.path.join(here, "__pycache__", f"dataclass-methods.{sys.implementation.cache_tag}.marshal")


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


def cached_exec(source, globals=None, locals=None, /):
    """``exec``, with a source text compiled once and then found by its text."""
    global _new, _hits
    if not isinstance(source, str):
        return builtins.exec(source, globals, locals)
    code = _codes.get(source)
    if code is None:
        code = _codes[source] = compile(source, "<string>", "exec")
        _new += 1
    else:
        _hits += 1
    _used.add(source)
    return builtins.exec(code, globals, locals)


def stats() -> tuple[int, int]:
    """(texts found in the table, texts compiled) in this process so far."""
    return _hits, _new


def save() -> bool:
    """Write the table back when this process compiled a text it did not have; False when
    nothing was written (nothing new, bytecode writing off, or the folder not writable)."""
    if not _new or _path is None or sys.dont_write_bytecode:
        return False
    codes = _codes if len(_codes) <= MAX_ENTRIES else {k: _codes[k] for k in _used}
    temporary = f"{_path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(_path), exist_ok=True)
        with open(temporary, "wb") as handle:
            handle.write(marshal.dumps((_FORMAT, sys.version, codes)))
        os.replace(temporary, _path)   # another process's write is replaced whole, never mixed
    except (OSError, ValueError):
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return False
    return True


def install() -> None:
    """Give ``dataclasses`` the cached ``exec`` (once per process) and read the table."""
    global _path
    import dataclasses

    if getattr(dataclasses, "exec", None) is cached_exec:
        return
    _path = cache_path()
    _codes.update(_load(_path))
    # dataclasses calls exec() by its plain name: a module global shadows the builtin.
    dataclasses.exec = cached_exec
    import atexit

    atexit.register(save)
