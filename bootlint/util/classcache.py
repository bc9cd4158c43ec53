"""Compiled class methods kept between runs, as Python keeps a module's bytecode.

A dataclass's ``__init__``, ``__repr__``, ``__eq__`` ... are written as source text and compiled
with ``exec`` each time the defining module is imported: the same text every run. bootlint's
own classes (:mod:`bootlint.util.records`) and those of the libraries it loads (libcst, pygls:
through ``dataclasses``, see :func:`install`) compile that text through :func:`cached_exec`,
which looks it up in a table of compiled code first. A cold ``bootlint check`` spent ~30 ms of
its ~180 ms CPU compiling some four hundred small functions before this.

The tables are kept in files beside the package's bytecode cache, one per top-level package of
the defining modules (a shell check does not read what libcst's classes need), and inside it one
map per module: when a module compiled a text it did not have, its map is written back with
exactly the texts it used, so a changed class leaves nothing stale behind, and runs that import
different modules never undo each other's entries. The key is the exact source text, so an entry
can never be used for a class it was not compiled for: the functions are the ones ``exec`` of the
text would give (same code, same globals). As with ``.pyc`` files, nothing is written when
bytecode writing is off (``PYTHONDONTWRITEBYTECODE``, ``-B``) or the folder is not writable, and
an unreadable or foreign file is ignored.
"""

from __future__ import annotations

import builtins
import marshal
import os
import sys

_FORMAT = 3   # bump when the file's layout changes

# package -> module -> text -> code, as read; the texts each module used in this process; the
# packages whose file must be written.
_tables: dict[str, dict[str, dict[str, object]]] = {}
_used: dict[str, dict[str, object]] = {}
_dirty: set[str] = set()
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
                        f"class-methods.{package}.{sys.implementation.cache_tag}.marshal")


def _load(path: str) -> dict[str, dict[str, object]]:
    try:
        with open(path, "rb") as handle:
            data = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if (not isinstance(data, tuple) or len(data) != 3 or data[0] != _FORMAT
            or data[1] != sys.version or not isinstance(data[2], dict)):
        return {}
    code_type = type(_load.__code__)
    return {module: {text: code for text, code in texts.items()
                     if isinstance(text, str) and isinstance(code, code_type)}
            for module, texts in data[2].items() if isinstance(module, str) and isinstance(texts, dict)}


def _module_table(module: str) -> dict[str, object]:
    package = module.partition(".")[0]
    table = _tables.get(package)
    if table is None:
        table = _tables[package] = _load(table_path(package)) if package.isidentifier() else {}
    return table.setdefault(module, {})


def cached_exec(source, globals=None, locals=None, /):
    """``exec``, with a source text compiled once and then found by its text."""
    if not isinstance(source, str):
        return builtins.exec(source, globals, locals)
    module = str((globals or {}).get("__name__") or "")
    known = _module_table(module)
    code = known.get(source)
    if code is None:
        code = compile(source, "<string>", "exec")
        _dirty.add(module.partition(".")[0])
        _counts[1] += 1
    else:
        _counts[0] += 1
    _used.setdefault(module, {})[source] = code
    return builtins.exec(code, globals, locals)


def stats() -> tuple[int, int]:
    """(texts found in a table, texts compiled) in this process so far."""
    return _counts[0], _counts[1]


def save() -> int:
    """Write back the tables of the packages where a module compiled a new text (its map becomes
    the texts it used); how many files were written (none when bytecode writing is off or the
    folder is not writable)."""
    if sys.dont_write_bytecode:
        return 0
    written = 0
    for package in sorted(_dirty):
        if not package.isidentifier():
            continue
        table = dict(_tables.get(package, {}))
        for module, texts in _used.items():
            if module.partition(".")[0] == package:
                table[module] = texts
        path = table_path(package)
        temporary = f"{path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(temporary, "wb") as handle:
                handle.write(marshal.dumps((_FORMAT, sys.version, table)))
            os.replace(temporary, path)   # another process's write is replaced whole, never mixed
            written += 1
        except (OSError, ValueError):
            try:
                os.unlink(temporary)
            except OSError:
                pass
    _dirty.clear()
    return written


def install() -> None:
    """Give ``dataclasses`` the cached ``exec`` (once per process), for the dataclasses of the
    libraries bootlint loads; write the tables back at exit."""
    global _folder
    import dataclasses

    if getattr(dataclasses, "exec", None) is cached_exec:
        return
    _folder = cache_folder()
    # dataclasses calls exec() by its plain name: a module global shadows the builtin.
    dataclasses.exec = cached_exec
    import atexit

    atexit.register(save)
