"""BL403 on disk, in the git index and in zips; BL404 and every bad-archive case; archive paths."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile

import pytest

from conftest import ROOT, run_cli, run_process

TUTORIAL = (ROOT / "examples" / "tutorial" / "bootstrap").read_bytes()
FIXED = (ROOT / "examples" / "fixed" / "bootstrap").read_bytes()


def findings(proc) -> list[tuple[str, str, int, int]]:
    return [(d["path"], d["code"], d["line"], d["column"]) for d in json.loads(proc.stdout)]


def make_zip(path, members, compression=zipfile.ZIP_DEFLATED) -> None:
    """members: (name, unix mode or None for a Windows-made entry, bytes)."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, mode, data in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = compression
            if mode is None:
                info.create_system, info.external_attr = 0, 0x20  # DOS "archive" bit only
            else:
                info.create_system, info.external_attr = 3, mode << 16
            archive.writestr(info, data)


# -- BL403 on disk and in git -------------------------------------------------------------------

def test_disk_mode(tmp_path):
    (tmp_path / "bootstrap").write_bytes(FIXED)
    (tmp_path / "bootstrap").chmod(0o644)
    proc = run_cli("check", "--format", "json", "bootstrap", cwd=tmp_path)
    assert findings(proc) == [("bootstrap", "BL403", 1, 1)]
    assert "not executable on disk" in json.loads(proc.stdout)[0]["message"]
    (tmp_path / "bootstrap").chmod(0o755)
    assert findings(run_cli("check", "--format", "json", "bootstrap", cwd=tmp_path)) == []


def test_only_the_file_named_bootstrap_needs_the_bit(tmp_path):
    (tmp_path / "bootstrap.sh").write_bytes(FIXED)
    (tmp_path / "bootstrap.sh").chmod(0o644)
    assert findings(run_cli("check", "--format", "json", "bootstrap.sh", cwd=tmp_path)) == []


@pytest.mark.subprocess   # a run per process: the git index is read once per process
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_index_mode_wins_over_the_disk(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "bootstrap").write_bytes(FIXED)
    (tmp_path / "bootstrap").chmod(0o755)
    git("add", "bootstrap")
    git("update-index", "--chmod=-x", "bootstrap")
    proc = run_process("check", "--format", "json", "bootstrap", cwd=tmp_path)
    assert findings(proc) == [("bootstrap", "BL403", 1, 1)]
    assert "in the git index" in json.loads(proc.stdout)[0]["message"]
    # A checkout on a file system without modes: the index says executable, the disk does not.
    git("update-index", "--chmod=+x", "bootstrap")
    (tmp_path / "bootstrap").chmod(0o644)
    assert findings(run_process("check", "--format", "json", "bootstrap", cwd=tmp_path)) == []


def test_without_git_the_disk_mode_is_used(tmp_path):
    (tmp_path / "bootstrap").write_bytes(FIXED)
    (tmp_path / "bootstrap").chmod(0o644)
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    proc = run_cli("check", "--format", "json", "bootstrap", cwd=tmp_path, env={"PATH": str(empty_bin)})
    assert proc.returncode == 1
    assert findings(proc) == [("bootstrap", "BL403", 1, 1)]


# -- archives -----------------------------------------------------------------------------------

def test_zip_root_bootstrap_is_linted_with_member_paths(tmp_path):
    make_zip(tmp_path / "function.zip", [("bootstrap", 0o100755, TUTORIAL), ("function.sh", 0o100644, b"")])
    proc = run_cli("check", "--format", "json", "function.zip", cwd=tmp_path)
    assert findings(proc) == [
        ("function.zip!bootstrap", "BL103", 6, 1), ("function.zip!bootstrap", "BL301", 11, 14),
        ("function.zip!bootstrap", "BL201", 13, 47), ("function.zip!bootstrap", "BL101", 17, 14),
        ("function.zip!bootstrap", "BL102", 20, 16), ("function.zip!bootstrap", "BL302", 20, 103)]
    concise = run_cli("check", "function.zip", cwd=tmp_path).stdout.decode().splitlines()
    assert concise[0].startswith("function.zip!bootstrap:6:1: warning: ")


def test_nested_bootstrap_is_bl404_pointing_at_it(tmp_path):
    make_zip(tmp_path / "function.zip", [("build/bootstrap", 0o100755, FIXED)])
    proc = run_cli("check", "--format", "json", "function.zip", cwd=tmp_path)
    assert findings(proc) == [("function.zip!build/bootstrap", "BL404", 1, 1)]
    assert proc.returncode == 1


def test_zip_modes(tmp_path):
    make_zip(tmp_path / "a.zip", [("bootstrap", 0o100644, FIXED)])
    make_zip(tmp_path / "b.zip", [("bootstrap", None, FIXED)])
    make_zip(tmp_path / "c.zip", [("./bootstrap", 0o100755, FIXED)])
    data = json.loads(run_cli("check", "--format", "json", "a.zip", "b.zip", "c.zip", cwd=tmp_path).stdout)
    assert [(d["path"], d["code"]) for d in data] == [("a.zip!bootstrap", "BL403"), ("b.zip!bootstrap", "BL403")]
    assert "in the archive" in data[0]["message"]
    assert "no Unix permissions" in data[1]["message"]


@pytest.mark.parametrize("case,expect", [
    ("too-large", "over the 5,242,880-byte limit"),
    ("bomb", "looks like a zip bomb"),
    ("symlink", "symbolic link"),
    ("encrypted", "encrypted"),
    ("truncated", "not a readable zip archive"),
    ("corrupt-member", "cannot be read"),
    ("not-a-zip", "not a readable zip archive"),
])
def test_bad_archives_give_one_clear_diagnostic(tmp_path, case, expect):
    path = tmp_path / "function.zip"
    if case == "too-large":
        make_zip(path, [("bootstrap", 0o100755, os.urandom(6 * 1024 * 1024))], zipfile.ZIP_STORED)
    elif case == "bomb":
        make_zip(path, [("bootstrap", 0o100755, b"#!/bin/sh\n" + b"\0" * (4 * 1024 * 1024))])
    elif case == "symlink":
        make_zip(path, [("bootstrap", 0o120777, b"build/bootstrap")])
    elif case == "encrypted":
        make_zip(path, [("bootstrap", 0o100755, FIXED)], zipfile.ZIP_STORED)
        raw = bytearray(path.read_bytes())
        raw[6] |= 1  # general-purpose flag bit 0, local header
        central = raw.rfind(b"PK\x01\x02")
        raw[central + 8] |= 1  # and in the central directory
        path.write_bytes(bytes(raw))
    elif case == "truncated":
        make_zip(path, [("bootstrap", 0o100755, FIXED)])
        path.write_bytes(path.read_bytes()[:100])
    elif case == "corrupt-member":
        make_zip(path, [("bootstrap", 0o100755, FIXED * 20)])
        raw = bytearray(path.read_bytes())
        for i in range(60, 300):
            raw[i] ^= 0x5A
        path.write_bytes(bytes(raw))
    else:
        path.write_bytes(b"this is not a zip")
    proc = run_cli("check", "--format", "json", "function.zip", cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert [d["code"] for d in data] == ["BL904"], data
    assert expect in data[0]["message"]
    assert b"Traceback" not in proc.stderr
    assert proc.returncode == 1


def test_folder_walk_opens_zips_only_with_archives(tmp_path):
    make_zip(tmp_path / "function.zip", [("bootstrap", 0o100644, FIXED)])
    proc = run_cli("check", "--format", "json", ".", cwd=tmp_path)
    assert findings(proc) == []
    proc = run_cli("check", "--format", "json", "--archives", ".", cwd=tmp_path)
    assert findings(proc) == [("function.zip!bootstrap", "BL403", 1, 1)]


def test_crlf_and_bom_files_are_still_linted_in_full():
    from conftest import lint_text

    golden = [("BL103", 6, 1), ("BL301", 11, 14), ("BL201", 13, 47), ("BL101", 17, 14),
              ("BL102", 20, 16), ("BL302", 20, 103)]
    crlf = lint_text(TUTORIAL.replace(b"\n", b"\r\n"))
    assert crlf == sorted([("BL402", 1, 1), *golden], key=lambda f: (f[1], f[2], f[0]))
    bom = lint_text(b"\xef\xbb\xbf" + TUTORIAL)
    assert bom == sorted([("BL405", 1, 1), *golden], key=lambda f: (f[1], f[2], f[0]))
