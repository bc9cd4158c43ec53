"""What the server lints, with which settings: the editor's buffer, never the file on disk.

Settings are found as `bootlint check` finds them when run from a workspace folder (the nearest
`bootlint.toml`, `.bootlint.toml` or `pyproject.toml` with `[tool.bootlint]`, up to the
repository's root), then the client's initialization options (`select`, `ignore`,
`extend-select`) replace the keys of the same name, as flags do on the command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bootlint.config.settings import ConfigError, Settings, check_codes, find_config, load
from bootlint.files.discover import excluded, included
from bootlint.engine import START, FileResult, finding, lint_source
from bootlint.files.gitmodes import GitModes
from bootlint.frontends.registry import detect
from bootlint.lsp.positions import UTF16, Buffer
from bootlint.rules import all_rules
from bootlint.runner import selection_for
from bootlint.files.source import SourceFile

OPTION_KEYS = {"select": "select", "ignore": "ignore", "extend-select": "extend_select",
               "extendSelect": "extend_select"}


@dataclass
class Linted:
    """One version of a document, linted."""

    version: int | None
    buffer: Buffer
    src: SourceFile
    result: FileResult
    language: str

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
    """The workspace folders, their settings (cached until a configuration file changes) and the
    client's overrides."""

    def __init__(self, folders: list[str] | None = None, options: dict | None = None) -> None:
        self.folders: list[str] = [os.path.realpath(f) for f in folders or []]
        self.overrides: dict[str, tuple[str, ...]] = {}
        self.problems: list[str] = []
        self._settings: dict[str, Settings] = {}
        self._known = set(all_rules())
        for key, value in (options or {}).items():
            attribute = OPTION_KEYS.get(key)
            if attribute is None:
                continue
            if isinstance(value, str):
                value = [part for part in value.replace(" ", ",").split(",") if part]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.problems.append(f"initialization option '{key}' must be a list of rule codes")
                continue
            try:
                codes = check_codes(f"initialization option '{key}'", [v.strip().upper() for v in value],
                                    self._known)
            except ConfigError as exc:
                self.problems.append(str(exc))
                continue
            self.overrides[attribute] = tuple(codes)

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
        self._settings.clear()

    def root_of(self, path: str) -> str:
        """The workspace folder a file is in (the innermost), else the file's own folder."""
        real = os.path.realpath(path)
        inside = [f for f in self.folders if real == f or real.startswith(f.rstrip(os.sep) + os.sep)]
        return max(inside, key=len) if inside else os.path.dirname(real)

    def settings_for(self, path: str) -> Settings:
        """The settings `bootlint check` would use, run from the file's workspace folder.
        A broken configuration file is reported once (in :attr:`problems`) and the defaults used."""
        root = self.root_of(path)
        if root not in self._settings:
            settings = Settings()
            try:
                found = find_config(Path(root))
                if found is not None:
                    settings = load(found, self._known)
            except ConfigError as exc:
                self.problems.append(f"{exc} (using the default settings)")
            for attribute, codes in self.overrides.items():
                setattr(settings, attribute, codes)
                settings.origins[attribute] = "initialization options"
            self._settings[root] = settings
        return self._settings[root]

    def display(self, path: str) -> str:
        """The path `bootlint check` would show, relative to the workspace folder."""
        real = os.path.realpath(path)
        root = self.root_of(path)
        return os.path.relpath(real, root).replace(os.sep, "/") if real.startswith(root) else real

    def lintable(self, path: str) -> bool:
        """A file `bootlint check` would lint in a walk of the workspace folder: a bootstrap name
        or a pattern of the configuration's `extend-include`, not excluded."""
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
        return Linted(version, buffer, src, result, "")
    result = lint_source(src, selection, keep_model=True)
    language = result.model.language if result.model is not None else detect(src).language
    return Linted(version, buffer, src, result, language)

