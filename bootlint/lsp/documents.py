"""What the server lints, with which settings: the editor's buffer, never the file on disk.

Settings are found for each file by `bootlint check`'s own resolver
(:class:`bootlint.config.settings.NearestSettings`: the nearest `bootlint.toml`,
`.bootlint.toml` or `pyproject.toml` with `[tool.bootlint]` from the file's folder up to the
repository's root), the client's settings (`select`, `ignore`, `extend-select`) replacing the
keys of the same name, as flags do on the command line.
"""

from __future__ import annotations

import os
from dataclasses import replace

from bootlint.config.settings import ConfigError, NearestSettings, Settings, check_codes
from bootlint.files.discover import excluded, included
from bootlint.engine import START, FileResult, finding, lint_source
from bootlint.files.gitmodes import GitModes
from bootlint.frontends.registry import detect
from bootlint.fixes.textmap import UTF16
from bootlint.lsp.positions import Buffer
from bootlint.rules import all_rules
from bootlint.runner import selection_for
from bootlint.files.source import SourceFile
from bootlint.util.records import dataclass

OPTION_KEYS = {"select": "select", "ignore": "ignore", "extend-select": "extend_select",
               "extendSelect": "extend_select"}
KNOWN_OPTIONS = ("select", "ignore", "extend-select", "debounce")
FALLBACK = " (using the default settings)"   # after why a configuration file is not used


@dataclass
class Linted:
    """One version of a document, linted."""

    version: int | None
    buffer: Buffer
    src: SourceFile
    result: FileResult
    language: str
    config_problem: str | None = None   # the configuration file could not be used: why

    @property
    def findings(self):
        return self.result.findings


@dataclass
class Executable:
    """Whether the file on disk would be executable where it is deployed from (read on open and
    on save, not on every keystroke)."""

    executable: bool | None = None
    origin: str = ""


class Workspace:
    """The workspace folders, the settings that apply to each file (cached until a configuration
    file changes) and the client's settings.

    A file's settings are found as `bootlint check` finds them (:attr:`nearest`) when run from the file's project:
    the nearest configuration file from the file's own folder up to the repository's root,
    whatever folder the editor opened (in a monorepo, each function's `bootlint.toml`); paths are
    shown relative to that file's folder, as `per-file-ignores` and `exclude` patterns are
    written. With no configuration file, the workspace folder is the root."""

    def __init__(self, folders: list[str] | None = None, options: dict | None = None) -> None:
        self.folders: list[str] = [os.path.realpath(f) for f in folders or []]
        self.problems: list[str] = []
        self.debounce: float | None = None
        self._known = set(all_rules())
        self._given: dict[str, dict[str, tuple[str, ...]]] = {"initialization option": {}, "editor setting": {}}
        self.nearest = NearestSettings(Settings(), self._known, on_error=self._unusable)
        self.set_options(options or {}, "initialization option")

    def set_options(self, options: dict, where: str) -> None:
        """The client's settings from one place (``where``: "initialization option", or
        "editor setting" for what ``workspace/configuration`` answers or
        ``didChangeConfiguration`` carries; the editor's settings win where both give a key):
        `select`, `ignore`, `extend-select` replace those keys of the configuration file, as
        flags do; `debounce` is in milliseconds. A ruff-style ``{"settings": {...}}`` is read as
        meant; any other key is reported, not dropped in silence."""
        if set(options) == {"settings"} and isinstance(options["settings"], dict):
            options = options["settings"]
        overrides: dict[str, tuple[str, ...]] = {}
        for key, value in options.items():
            if key == "debounce":
                if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 10_000:
                    self.debounce = value / 1000
                else:
                    self.problems.append(f"{where} 'debounce' must be a number of milliseconds (0 to 10000)")
                continue
            attribute = OPTION_KEYS.get(key)
            if attribute is None:
                self.problems.append(f"unknown {where} '{key}' (known: {', '.join(KNOWN_OPTIONS)})")
                continue
            if isinstance(value, str):
                value = [part for part in value.replace(" ", ",").split(",") if part]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.problems.append(f"{where} '{key}' must be a list of rule codes")
                continue
            try:
                codes = check_codes(f"{where} '{key}'", [v.strip().upper() for v in value], self._known)
            except ConfigError as exc:
                self.problems.append(str(exc))
                continue
            overrides[attribute] = tuple(codes)
        self._given[where] = overrides
        base = Settings()   # the editor's settings on the defaults, as flags on the current folder's
        for given in self._given.values():
            for attribute, codes in given.items():
                setattr(base, attribute, codes)
                base.origins[attribute] = "editor settings"
        self.nearest.rebase(base)

    def add_folder(self, path: str) -> None:
        real = os.path.realpath(path)
        if real not in self.folders:
            self.folders.append(real)

    def remove_folder(self, path: str) -> None:
        real = os.path.realpath(path)
        if real in self.folders:
            self.folders.remove(real)
        self.forget()

    def forget(self) -> None:
        """Read the configuration files again on next use."""
        self.nearest.forget()

    def _unusable(self, why: str) -> None:
        self.problems.append(f"{why}{FALLBACK}")

    def root_of(self, path: str) -> str:
        """The folder paths are shown relative to: the configuration file's, else the workspace
        folder the file is in (the innermost), else the file's own folder."""
        config = self.nearest.config_of(path)
        if config is not None:
            return os.path.realpath(config.parent)
        real = os.path.realpath(path)
        inside = [f for f in self.folders if real == f or real.startswith(f.rstrip(os.sep) + os.sep)]
        return max(inside, key=len) if inside else os.path.dirname(real)

    def settings_for(self, path: str) -> Settings:
        """The settings `bootlint check` would use for the file (:class:`NearestSettings`), the
        editor's on top. A configuration file that cannot be read is reported (in
        :attr:`problems` and by :meth:`broken`) and the defaults used: linting goes on."""
        return self.nearest.settings_of(path)

    def broken(self, path: str) -> str | None:
        """Why the configuration file that applies to a file could not be used (None: it was)."""
        why = self.nearest.problem_of(path)
        return None if why is None else f"{why}{FALLBACK}"

    def display(self, path: str) -> str:
        """The path `bootlint check` would show, relative to the file's root (:meth:`root_of`)."""
        real = os.path.realpath(path)
        root = self.root_of(path)
        return os.path.relpath(real, root).replace(os.sep, "/") if real.startswith(root) else real

    def lintable(self, path: str) -> bool:
        """A file `bootlint check` would lint in a walk of its project: a bootstrap name or a
        pattern of the configuration's `extend-include`, not excluded."""
        settings = self.settings_for(path)
        display = self.display(path)
        return included(display, settings.extend_include) and not excluded(display, settings.all_excludes)


def read_executable(path: str) -> Executable:
    """The execute bit as `bootlint check` decides it (the git index for a tracked file, else
    the disk), read afresh: the index may have changed since the last look. Unknown for a file
    not saved yet."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return Executable()
    index_mode = GitModes().mode(path)
    if index_mode is not None:
        return Executable(bool(index_mode & 0o111), "git index")
    return Executable(bool(mode & 0o111), "disk")


def lint_text(workspace: Workspace, path: str, text: str, version: int | None,
              executable: Executable | None = None, encoding: str = UTF16) -> Linted:
    """Lint a buffer as `bootlint check` lints the file with that text."""
    buffer = Buffer(text, encoding)
    settings = workspace.settings_for(path)
    problem = workspace.broken(path)
    display = workspace.display(path)
    selection = selection_for(settings, display)
    src = SourceFile.from_bytes(display, buffer.raw)
    if executable is not None and src.is_entrypoint:
        src.executable, src.mode_origin = executable.executable, executable.origin
    if len(buffer.raw) > settings.max_file_size:
        result = FileResult(display)
        if selection.enabled("BL904"):
            result.findings.append(finding(all_rules()["BL904"], display, START,
                                           f"{len(buffer.raw):,} bytes is over the "
                                           f"{settings.max_file_size:,}-byte limit: not analysed"))
        return Linted(version, buffer, src, result, "", problem)
    result = lint_source(src, selection, keep_model=True)
    language = result.model.language if result.model is not None else detect(src).language
    hidden = _hidden_by_the_editor(path, buffer, display, selection, executable, settings.max_file_size)
    if hidden:
        have = {f.code for f in result.findings}
        result.findings.extend(f for f in hidden if f.code not in have)
    return Linted(version, buffer, src, result, language, problem)


# Bytes of the saved file that an editor shows without (Neovim drops a UTF-8 byte-order mark and
# keeps CR LF as its `fileformat`): the packaging rules that see them, and how to save without them.
HIDDEN_BYTES = {
    "BL402": "the editor shows this file without its CR LF line endings: save it with LF ones "
             "(Neovim: `:set fileformat=unix`; Emacs: `C-x RET f utf-8-unix`; VS Code: \"LF\" in the status bar)",
    "BL405": "the editor shows this file without its byte-order mark: save it without one "
             "(Neovim: `:set nobomb`; Emacs: `C-x RET f utf-8-unix`; VS Code: \"Save with Encoding\", UTF-8)",
}


def _hidden_by_the_editor(path: str, buffer: Buffer, display: str, selection, executable: Executable | None,
                          limit: int) -> list:
    """The packaging findings (CR LF, byte-order mark) of the saved file when the buffer is that
    file as the editor shows it (unmodified: the same text but for those bytes). Their fixes are
    byte edits the editor's buffer does not hold: the message says which setting fixes it."""
    try:
        with open(path, "rb") as f:
            saved = f.read(limit + 1)
    except (OSError, ValueError):
        return []
    if len(saved) > limit or saved == buffer.raw:
        return []

    def shown(data: bytes) -> bytes:
        return data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")

    if shown(saved) != shown(buffer.raw):
        return []   # modified since it was saved: the buffer is what will be saved
    src = SourceFile.from_bytes(display, saved)
    if executable is not None and src.is_entrypoint:
        src.executable, src.mode_origin = executable.executable, executable.origin
    out = []
    for f in lint_source(src, selection).findings:
        if f.code in HIDDEN_BYTES:
            out.append(replace(f, fix=None, message=f"{f.message} ({HIDDEN_BYTES[f.code]})"))
    return out

