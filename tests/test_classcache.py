"""The compiled dataclass methods kept between runs (bootlint/util/classcache.py) and the
console entry's quick exit (bootlint/util/exits.leave)."""

from __future__ import annotations

import dataclasses
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bootlint.util import classcache

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "examples" / "tutorial" / "bootstrap"


def _table(folder: Path) -> Path:
    return folder / f"class-methods.bootlint.{sys.implementation.cache_tag}.marshal"


def _check(tmp_path: Path, folder: Path, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    full.update({"BOOTLINT_CLASS_CACHE_DIR": str(folder), "NO_COLOR": "1", **env})
    return subprocess.run([sys.executable, "-m", "bootlint", "check", "--no-cache", "--format", "concise",
                           str(TUTORIAL)], cwd=tmp_path, capture_output=True, env=full, timeout=120)


def test_install_is_in_force_for_bootlint_and_a_dataclass_behaves_as_without_it():
    assert dataclasses.exec is classcache.cached_exec   # bootlint/__init__ installed it

    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: int = 2
        tags: tuple = dataclasses.field(default_factory=tuple)

    p = Point(1)
    assert (p, repr(p).rsplit(".", 1)[-1], hash(p) == hash(Point(1, 2, ()))) == (
        Point(1, 2, ()), "Point(x=1, y=2, tags=())", True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3   # type: ignore[misc]
    assert Point.__init__.__globals__ is globals()   # the class's module, as exec(text) gives


@pytest.mark.subprocess
def test_a_second_run_compiles_nothing_and_finds_the_same_findings(tmp_path):
    folder = tmp_path / "cache"
    first = _check(tmp_path, folder)
    cache = _table(folder)
    assert first.returncode == 1 and b"[BL101]" in first.stdout, first.stderr
    # Written at exit (the console entry leaves without tearing down, after the atexit handlers).
    fmt, version, modules = marshal.loads(cache.read_bytes())
    assert (fmt, version) == (3, sys.version)
    assert [p.name for p in folder.iterdir()] == [cache.name]   # bootlint's classes only
    assert {"bootlint.model", "bootlint.diagnostics", "bootlint.frontends.shell.index"} <= set(modules)
    assert not any(m.startswith("bootlint.lsp") or m.startswith("bootlint.frontends.python.") for m in modules)
    texts = [text for codes in modules.values() for text in codes]
    assert len(texts) > 60 and all(text.startswith("def __create_fn__(") for text in texts)
    written = cache.stat().st_mtime_ns
    second = _check(tmp_path, folder)
    assert (second.returncode, second.stdout, second.stderr) == (first.returncode, first.stdout, first.stderr)
    assert cache.stat().st_mtime_ns == written   # nothing new was compiled, so nothing was written


@pytest.mark.subprocess
@pytest.mark.parametrize("content", [b"", b"not marshal", marshal.dumps((3, "another python", {"a": {"b": 1}})),
                                     marshal.dumps((3, sys.version, {"bootlint.model": {"def f(): pass": 3}})),
                                     marshal.dumps((3, sys.version, {"bootlint.model": ["x"]})),
                                     marshal.dumps((2, sys.version, {}))])
def test_an_unreadable_or_foreign_file_is_ignored_and_replaced(tmp_path, content):
    cache = _table(tmp_path)
    cache.write_bytes(content)
    proc = _check(tmp_path, tmp_path)
    assert proc.returncode == 1 and b"[BL101]" in proc.stdout and proc.stderr == b"", proc.stderr
    assert marshal.loads(cache.read_bytes())[1] == sys.version


@pytest.mark.subprocess
def test_nothing_is_written_when_bytecode_writing_is_off(tmp_path):
    folder = tmp_path / "cache"
    proc = _check(tmp_path, folder, PYTHONDONTWRITEBYTECODE="1")
    assert proc.returncode == 1 and b"[BL101]" in proc.stdout
    assert not folder.exists()


@pytest.mark.subprocess
def test_the_quick_exit_keeps_the_exit_code_and_every_byte_of_a_long_output(tmp_path):
    """Many findings through a pipe: all of them arrive, and the exit code is the check's."""
    body = TUTORIAL.read_text()
    for i in range(300):
        (tmp_path / f"f{i}").mkdir()
        (tmp_path / f"f{i}" / "bootstrap").write_text(body)
    full = {k: v for k, v in os.environ.items()}
    full["NO_COLOR"] = "1"
    proc = subprocess.run([sys.executable, "-m", "bootlint", "check", "--no-cache", "--jobs", "1",
                           "--format", "concise", "."], cwd=tmp_path, capture_output=True, env=full,
                          timeout=300)
    assert proc.returncode == 1
    lines = proc.stdout.decode().splitlines()
    assert sum(line.endswith("[BL101]") for line in lines) == 300
    assert lines[-1] == "[*] 300 fixable with `--fix`, 1500 more with `--fix --unsafe-fixes`."
    assert lines[-2] == "Found 2100 problems (600 errors, 1500 warnings) in 300 files." and proc.stderr == b""


@pytest.mark.subprocess
def test_a_module_that_compiled_something_new_keeps_exactly_the_texts_it_used(tmp_path):
    """A changed class leaves nothing stale: the modules of a run that had to compile are written
    back with the texts they used; modules the run did not import keep theirs."""
    folder = tmp_path / "cache"
    _check(tmp_path, folder)
    cache = _table(folder)
    fmt, version, modules = marshal.loads(cache.read_bytes())
    stale = compile("def __create_fn__():\n return 1", "<string>", "exec")
    modules["bootlint.model"]["def __create_fn__(): stale"] = stale
    modules["bootlint.elsewhere"] = {"def __create_fn__(): other": stale}
    dropped = modules.pop("bootlint.diagnostics")
    cache.write_bytes(marshal.dumps((fmt, version, modules)))
    _check(tmp_path, folder)
    _, _, after = marshal.loads(cache.read_bytes())
    assert "def __create_fn__(): stale" not in after["bootlint.model"]
    assert set(after["bootlint.diagnostics"]) == set(dropped)
    assert set(after["bootlint.elsewhere"]) == {"def __create_fn__(): other"}
