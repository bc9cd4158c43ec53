"""One resolver of each file's settings for `bootlint check` and the server
(bootlint.config.settings.NearestSettings): the same file found and read the same way; what the
user set (flags, the editor's settings) on top of it; a broken file stops `check` (exit 2) while
the server reports it and lints with the defaults; files found and read once until forgotten."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from bootlint.config.settings import ConfigError, NearestSettings, Settings
from bootlint.lsp.documents import Workspace
from bootlint.rules import all_rules
from conftest import ROOT, run_cli

TUTORIAL = (ROOT / "examples" / "tutorial" / "bootstrap").read_bytes()
KNOWN = set(all_rules())


@pytest.fixture
def mono(tmp_path: Path) -> Path:
    """A repository with two functions: fn-a has its own bootlint.toml, fn-b has none."""
    (tmp_path / ".git").mkdir()
    for name in ("fn-a", "fn-b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "bootstrap").write_bytes(TUTORIAL)
        (tmp_path / name / "bootstrap").chmod(0o755)
    (tmp_path / "fn-a" / "bootlint.toml").write_text('ignore = ["BL3"]\n[severity]\nBL101 = "info"\n')
    return tmp_path


def values(settings: Settings) -> dict:
    return {f.name: getattr(settings, f.name) for f in fields(settings) if f.name != "origins"}


def test_the_editors_settings_lie_on_a_file_as_flags_do(mono):
    base = Settings(select=("BL1",), origins={"select": "command line"})
    cli = NearestSettings(base, KNOWN)
    server = Workspace([str(mono)], {"select": ["BL1"]})
    for name in ("fn-a", "fn-b"):
        path = str(mono / name / "bootstrap")
        ours, theirs = cli.settings_of(path), server.settings_for(path)
        assert values(ours) == values(theirs)
        assert theirs.origins == {k: "editor settings" if v == "command line" else v for k, v in ours.origins.items()}
    config = str(mono / "fn-a" / "bootlint.toml")
    got = server.settings_for(str(mono / "fn-a" / "bootstrap"))
    assert (got.select, got.ignore, got.severity, got.config_file) == (("BL1",), ("BL3",), {"BL101": "info"}, config)
    assert (got.origin("select"), got.origin("ignore")) == ("editor settings", config)
    assert server.settings_for(str(mono / "fn-b" / "bootstrap")) is server.nearest.base
    assert server.display(str(mono / "fn-a" / "bootstrap")) == "bootstrap"


def test_a_broken_file_in_a_subfolder_stops_check_but_not_the_server(mono):
    broken = mono / "fn-a" / "bootlint.toml"
    broken.write_text('ignore = "BL2"\n')
    proc = run_cli("check", ".", cwd=mono)
    assert proc.returncode == 2 and b"fn-a/bootlint.toml: 'ignore' must be a list" in proc.stderr
    with pytest.raises(ConfigError, match="'ignore' must be a list"):
        NearestSettings(Settings(), KNOWN).for_file(str(mono / "fn-a" / "bootstrap"), "fn-a/bootstrap")

    server = Workspace([str(mono)], {"ignore": ["BL201"]})
    path = str(mono / "fn-a" / "bootstrap")
    for _ in range(3):   # reported once, however often the file is linted
        settings = server.settings_for(path)
    assert (settings.config_file, settings.ignore, settings.origin("ignore")) == (None, ("BL201",), "editor settings")
    why = f"{broken}: 'ignore' must be a list of rule codes or prefixes, such as [\"BL1\", \"BL201\"]"
    assert server.broken(path) == f"{why} (using the default settings)"
    assert server.problems == [f"{why} (using the default settings)"]
    assert server.broken(str(mono / "fn-b" / "bootstrap")) is None
    # Mended: read again once the server forgets (a watched configuration file changed).
    broken.write_text('ignore = ["BL2"]\n')
    assert server.settings_for(path).ignore == ("BL201",) and server.broken(path) is not None
    server.forget()
    assert server.broken(path) is None and server.settings_for(path).config_file == str(broken)


def test_a_deeply_nested_file_is_reported_by_the_server_and_raised_for_check(mono):
    nested = mono / "fn-a" / "bootlint.toml"
    nested.write_text("select = " + "[" * 1000 + "]" * 1000 + "\n")
    seen: list[str] = []
    tolerant = NearestSettings(Settings(), KNOWN, on_error=seen.append)
    assert tolerant.settings_of(str(mono / "fn-a" / "bootstrap")) is tolerant.base
    assert len(seen) == 1 and seen[0].startswith(f"{nested}: ")
    assert tolerant.problem_of(str(mono / "fn-a" / "bootstrap")) == seen[0]
    with pytest.raises(ConfigError):
        NearestSettings(Settings(), KNOWN).settings_of(str(mono / "fn-a" / "bootstrap"))


def test_files_are_found_per_folder_and_read_once_until_forgotten(mono):
    nearest = NearestSettings(Settings(), KNOWN)
    a, b = str(mono / "fn-a" / "bootstrap"), str(mono / "fn-b" / "bootstrap")
    assert nearest.config_of(b) is None and nearest.settings_of(a).ignore == ("BL3",)
    (mono / "fn-b" / "bootlint.toml").write_text('ignore = ["BL1"]\n')
    (mono / "fn-a" / "bootlint.toml").write_text('ignore = ["BL2"]\n')
    assert nearest.config_of(b) is None and nearest.settings_of(a).ignore == ("BL3",)
    # New settings of the user's: the files are read again, the folders are not searched again.
    nearest.rebase(Settings(select=("BL2",), origins={"select": "editor settings"}))
    assert nearest.config_of(b) is None
    assert (nearest.settings_of(a).ignore, nearest.settings_of(a).select) == (("BL2",), ("BL2",))
    nearest.forget()
    assert nearest.config_of(b) == mono / "fn-b" / "bootlint.toml"
    assert nearest.for_file(b, "fn-b/bootstrap")[0].ignore == ("BL1",)


def test_per_file_off_gives_every_file_the_runs_settings(mono):
    base = Settings(ignore=("BL2",), config_file=str(mono / "bootlint.toml"))
    nearest = NearestSettings(base, KNOWN, per_file=False)
    assert nearest.for_file(str(mono / "fn-a" / "bootstrap"), "fn-a/bootstrap") == (base, "fn-a/bootstrap")
    assert nearest.config_of(str(mono / "fn-a" / "bootstrap")) is None
