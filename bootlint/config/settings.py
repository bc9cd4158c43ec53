"""Settings: defaults, then a configuration file, then the command line, each key remembering
where its value came from.

Files, first found walking up from the current folder (stopping at a repository's root):
`bootlint.toml`, `.bootlint.toml`, or `pyproject.toml` with a `[tool.bootlint]` table.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from bootlint.files.discover import DEFAULT_EXCLUDE
from bootlint.files.realpaths import RealPaths
from bootlint.diagnostics import Severity
from bootlint.util.records import dataclass

if TYPE_CHECKING:
    from collections.abc import Callable

CONFIG_NAMES = ("bootlint.toml", ".bootlint.toml", "pyproject.toml")
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024
# The largest --max-file-size / max-file-size: a file is held in memory several times over
# (bytes, text, the parser's tree), so a limit beyond this one is no limit at all.
MAX_FILE_SIZE_BOUND = 256 * 1024 * 1024
LEVELS = ("error", "warning", "info")
# Where the function runs: Lambda's default (one invocation at a time per environment) or
# Lambda Managed Instances (up to AWS_LAMBDA_MAX_CONCURRENCY at once); BL706 needs the second.
TARGETS = ("default", "managed-instances")


class ConfigError(Exception):
    """A configuration problem, with the file and key it is about (exit code 2)."""


@dataclass
class Settings:
    """The resolved settings of a run: defaults, then a configuration file, then the command line
    (``origins`` says where each came from)."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    severity: dict[str, str] = field(default_factory=dict)
    fail_on: str = "warning"
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    extend_include: tuple[str, ...] = ()      # folder walks also lint files these globs match
    respect_gitignore: bool = True
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    target: str = "default"
    # Where the rule pages are published: findings link to them only when it is set (the pages
    # ship in the package, and `bootlint rule CODE` prints them).
    docs_url: str | None = None
    config_file: str | None = None
    origins: dict[str, str] = field(default_factory=dict)

    @property
    def fail_rank(self) -> int:
        return Severity(self.fail_on).rank

    @property
    def all_excludes(self) -> tuple[str, ...]:
        return self.exclude + self.extend_exclude

    def describe(self) -> str:
        """Every setting with where it came from, as `bootlint check --show-settings` prints
        them (and the server's "show settings" command)."""
        from dataclasses import fields

        lines = [f"config file: {self.config_file or '(none)'}"]
        for item in fields(self):
            if item.name in ("config_file", "origins"):
                continue
            value = getattr(self, item.name)
            shown = list(value) if isinstance(value, tuple) else value
            lines.append(f"{item.name.replace('_', '-')} = {shown!r}  ({self.origin(item.name)})")
        return "\n".join(lines) + "\n"

    def origin(self, key: str) -> str:
        return self.origins.get(key, "default")

    def cache_key(self) -> str:
        """What in the settings changes the findings of a file (for the cache)."""
        return repr((self.select, self.ignore, self.extend_select, sorted(self.per_file_ignores.items()),
                     sorted(self.severity.items()), self.target))


# key in the file -> (attribute, kind)
KEYS = {
    "select": ("select", "codes"),
    "ignore": ("ignore", "codes"),
    "extend-select": ("extend_select", "codes"),
    "per-file-ignores": ("per_file_ignores", "glob-codes"),
    "severity": ("severity", "code-level"),
    "fail-on": ("fail_on", "level"),
    "exclude": ("exclude", "strings"),
    "extend-exclude": ("extend_exclude", "strings"),
    "extend-include": ("extend_include", "strings"),
    "respect-gitignore": ("respect_gitignore", "bool"),
    "max-file-size": ("max_file_size", "positive-int"),
    "target": ("target", "target"),
    "docs-url": ("docs_url", "url"),
}
EXPECTED = {
    "codes": "a list of rule codes or prefixes, such as [\"BL1\", \"BL201\"]",
    "glob-codes": "a table of glob = [codes], such as {\"legacy/*\" = [\"BL101\"]}",
    "code-level": "a table of code = \"error\" | \"warning\" | \"info\"",
    "level": "one of \"error\", \"warning\", \"info\"",
    "strings": "a list of glob patterns (strings)",
    "bool": "true or false",
    "target": "one of \"default\", \"managed-instances\"",
    "positive-int": f"a whole number of bytes from 1 to {MAX_FILE_SIZE_BOUND:,}",
    "url": "an http:// or https:// address where the rule pages are published, such as "
           "\"https://example.com/bootlint/rules\" (BL101 is then .../rules/BL101.md) or with {code} "
           "where the code goes",
}


def _toml():
    """tomllib (tomli before Python 3.11), imported only when there is a file to read."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib


def find_config(start: Path | None = None, seen: dict[str, Path | None] | None = None,
                real: RealPaths | None = None) -> Path | None:
    """The nearest configuration file from ``start`` up to the repository's root. ``seen``
    (resolved folder -> its answer) is filled with the answer of every folder the walk passes
    and ends the walk at a folder it holds: a run over a thousand sibling folders looks at
    their common parents once, not once per file (and ``real`` resolves each folder once)."""
    start = start if start is not None else os.getcwd()
    folder = real.resolve(start) if real is not None else os.path.realpath(start)
    passed = []
    found = None
    while True:
        if seen is not None and folder in seen:
            found = seen[folder]
            break
        passed.append(folder)
        hit = _config_in(folder)
        if hit is not None:
            found = hit
            break
        parent = os.path.dirname(folder)
        if os.path.exists(os.path.join(folder, ".git")) or parent == folder:
            break
        folder = parent
    if seen is not None:
        for path in passed:
            seen[path] = found
    return found


def _config_in(folder: str) -> Path | None:
    """The configuration file in the folder itself, if any (a pyproject.toml only with its
    [tool.bootlint] table)."""
    for name in CONFIG_NAMES:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate) and (name != "pyproject.toml" or _has_tool_table(Path(candidate))):
            return Path(candidate)
    return None


# A configuration file is a few hundred bytes; a link to a huge file (or a device) is not read.
MAX_CONFIG_BYTES = 1024 * 1024


def read_config_text(path: Path) -> str:
    """The file's text (UTF-8, a byte-order mark allowed), read only when it is a regular file
    within :data:`MAX_CONFIG_BYTES`; OSError, UnicodeDecodeError or ConfigError otherwise."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))   # a FIFO never blocks
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{path}: not a regular file: not read")
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: over the {MAX_CONFIG_BYTES:,}-byte limit for a configuration file: not read")
    # utf-8-sig: a byte-order mark (as some Windows editors write) is not an error.
    return data.decode("utf-8-sig")


def _has_tool_table(path: Path) -> bool:
    try:
        text = read_config_text(path)
        if "bootlint" not in text:
            return False  # most pyproject.toml files: no need to parse them
        return "bootlint" in _toml().loads(text).get("tool", {})
    except (OSError, ValueError, UnicodeDecodeError, ConfigError, RecursionError):
        return True  # let loading report the problem


def load(path: Path, known_codes: set[str]) -> Settings:
    """Settings from one file; raises ConfigError naming the file, the key and what it expects."""
    tomllib = _toml()
    try:
        data = tomllib.loads(read_config_text(path))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read (arrays or tables inside one another "
                          f"hundreds of levels deep)") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("bootlint", {})
        where = f"{path}: [tool.bootlint]"
    elif set(data) == {"tool"} and isinstance(data["tool"], dict) and set(data["tool"]) == {"bootlint"}:
        # [tool.bootlint] pasted from a pyproject.toml: read as meant.
        data = data["tool"]["bootlint"]
        where = f"{path}: [tool.bootlint]"
    elif "tool" in data:
        raise ConfigError(f"{path}: unknown key 'tool': in {path.name} write the settings at the top "
                          f"level, without a [tool.bootlint] header ([tool.bootlint] is for pyproject.toml)")
    else:
        where = str(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table")
    settings = Settings(config_file=str(path))
    for key, value in data.items():
        if key not in KEYS:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(sorted(KEYS))})")
        attribute, kind = KEYS[key]
        setattr(settings, attribute, _convert(where, key, kind, value, known_codes))
        settings.origins[attribute] = str(path)
    return settings


def _convert(where: str, key: str, kind: str, value, known: set[str]):
    def bad(detail: str = ""):
        return ConfigError(f"{where}: '{key}' must be {EXPECTED[kind]}{detail}")

    if kind == "codes":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad()
        return tuple(check_codes(f"{where}: '{key}'", [v.strip().upper() for v in value], known))
    if kind == "strings":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad()
        return tuple(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad()
        return value
    if kind == "positive-int":
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_FILE_SIZE_BOUND:
            raise bad()
        return value
    if kind == "target":
        if value not in TARGETS:
            raise bad(f", not {value!r}")
        return value
    if kind == "url":
        if not isinstance(value, str) or not value.startswith(("http://", "https://")) or any(
                c.isspace() for c in value):
            raise bad()
        return value
    if kind == "level":
        if value not in LEVELS:
            raise bad(f", not {value!r}")
        return value
    if kind == "glob-codes":
        if not isinstance(value, dict):
            raise bad()
        out = {}
        for glob, codes in value.items():
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise bad(f" (at '{glob}')")
            out[glob] = tuple(check_codes(f"{where}: '{key}' '{glob}'", [c.upper() for c in codes], known))
        return out
    # code-level
    if not isinstance(value, dict):
        raise bad()
    out = {}
    for code, level in value.items():
        check_codes(f"{where}: '{key}'", [code.upper()], known, exact=True)
        if level not in LEVELS:
            raise bad(f" (at '{code}': {level!r})")
        out[code.upper()] = level
    return out


def check_codes(where: str, codes: list[str], known: set[str], exact: bool = False) -> list[str]:
    """Codes or prefixes that name at least one rule; anything else is an error."""
    for code in codes:
        ok = code in known if exact else any(k.startswith(code) for k in known) and code.startswith("BL")
        if not ok:
            raise ConfigError(f"{where}: unknown rule code '{code}' (see `bootlint rule --all`)")
    return codes


def resolve(config: str | None, isolated: bool, known_codes: set[str]) -> Settings:
    """Defaults, or the named file, or the one found from the current folder."""
    if isolated:
        return Settings()
    path = Path(config) if config else find_config()
    if path is None:
        return Settings()
    if config and not path.is_file():
        raise ConfigError(f"{config}: no such configuration file")
    return load(path, known_codes)



# Where a value came from when the one running bootlint set it (a flag, the editor's settings):
# it wins over every configuration file, the nearest one included.
SET_BY_THE_USER = ("command line", "editor settings")


class NearestSettings:
    """Each file's settings, resolved the same way by `bootlint check` and the editor: the nearest
    configuration file from the file's own folder up (:func:`find_config`), with what the user
    set (:data:`SET_BY_THE_USER`: the command line's flags, the editor's settings) on top. A file
    whose folders hold none gets the run's own settings ``base`` (the current folder's file, or
    the server's defaults), and so does every file when the run named one (``--config``) or none
    (``--isolated``: ``per_file`` False). In a monorepo, `check` run from the root and the editor
    opened on one function's folder therefore agree.

    A configuration file that cannot be used raises ConfigError (`check`: exit 2); with
    ``on_error`` (the server) it is passed why, once per time the file is read, and its files get
    ``base``: linting goes on. The files found and read are kept until :meth:`forget`."""

    def __init__(self, base: Settings, known_codes: set[str], per_file: bool = True,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.base = base
        self.known = known_codes
        self.per_file = per_file
        self.on_error = on_error
        self._config_of: dict[str, Path | None] = {}
        self._walked: dict[str, Path | None] = {}   # find_config's answers, by resolved folder
        self._real = RealPaths()
        self._loaded: dict[str, Settings] = {}
        self._broken: dict[str, str] = {}

    def rebase(self, base: Settings) -> None:
        """New settings of the user's (the editor's changed): the files are read again, the
        folders' files are not looked for again."""
        self.base = base
        self._loaded.clear()
        self._broken.clear()

    def forget(self) -> None:
        """Look for the configuration files and read them again on next use."""
        self._config_of.clear()
        self._walked.clear()
        self._real.forget()
        self.rebase(self.base)

    def config_of(self, path: str) -> Path | None:
        """The configuration file that applies to the file at ``path`` (None: ``base``'s),
        looked for once per folder; an unreadable folder holds none."""
        if not self.per_file:
            return None
        folder = os.path.dirname(os.path.abspath(path))
        if folder not in self._config_of:
            try:
                self._config_of[folder] = find_config(folder, self._walked, self._real)
            except (OSError, ValueError):
                self._config_of[folder] = None
        return self._config_of[folder]

    def settings_of(self, path: str) -> Settings:
        """The settings for the file at ``path``: its configuration file's with the user's on
        top, else ``base``. Raises ConfigError for a file that cannot be used (or, with
        ``on_error``, reports it and gives ``base``)."""
        config = self.config_of(path)
        if config is None or (self.base.config_file and Path(self.base.config_file).resolve() == config):
            return self.base
        key = str(config)
        if key not in self._loaded:
            try:
                settings = load(config, self.known)
            except (ConfigError, RecursionError) as exc:
                if self.on_error is None:
                    raise
                # RecursionError: a deeply nested table, before load() says so itself.
                why = str(exc) if isinstance(exc, ConfigError) else f"{config}: nested too deeply to read"
                self._broken[key] = why
                self._loaded[key] = self.base
                self.on_error(why)
                return self.base
            for attribute, origin in self.base.origins.items():
                if origin in SET_BY_THE_USER:
                    setattr(settings, attribute, getattr(self.base, attribute))
                    settings.origins[attribute] = origin
            self._loaded[key] = settings
        return self._loaded[key]

    def problem_of(self, path: str) -> str | None:
        """Why the configuration file that applies to the file at ``path`` could not be used
        (None: it was, or there is none); only with ``on_error``."""
        config = self.config_of(path)
        if config is None:
            return None
        self.settings_of(path)
        return self._broken.get(str(config))

    def for_file(self, path: str, display: str) -> tuple[Settings, str]:
        """The settings for the file at ``path`` and the path its per-file-ignores globs are
        matched against (relative to its configuration file's folder, or ``display``)."""
        settings = self.settings_of(path)
        config = self.config_of(path)
        if settings is self.base or config is None:
            return self.base, display
        place = os.path.relpath(self._real.resolve(path), self._real.resolve(config.parent)).replace(os.sep, "/")
        return settings, place
