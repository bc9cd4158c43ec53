"""One bad input never ends the run (issue 19): corrupt or unreadable archives are a BL904 for
that archive (with --jobs too), archives and configuration files are bounded like other inputs,
and a configuration nested too deeply is a clear error with an exit code."""

from __future__ import annotations

import io
import shutil
import json
import os
import struct
import zipfile

import pytest
from click.testing import CliRunner

from bootlint.cli import main
from bootlint.files import archive as archive_module

BOOT = b"#!/bin/sh\nwhile true; do curl -sS http://127.0.0.1:9001/2018-06-01/runtime/invocation/next; done\n" * 20


def invoke(*args):
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def _zip_bytes(compression: int = zipfile.ZIP_STORED, name: str = "bootstrap") -> bytearray:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        info = zipfile.ZipInfo(name)
        info.create_system, info.external_attr, info.compress_type = 3, 0o100755 << 16, compression
        archive.writestr(info, BOOT)
    return bytearray(buf.getvalue())


def _corrupt_lzma() -> bytes:
    data = _zip_bytes(zipfile.ZIP_LZMA)
    start = 30 + len("bootstrap")          # the LZMA properties after the local header
    data[start + 4:start + 9] = b"\xff" * 5
    return bytes(data)


def _corrupt_deflate() -> bytes:
    data = _zip_bytes(zipfile.ZIP_DEFLATED)
    start = 30 + len("bootstrap")
    for i in range(start, start + 40):
        data[i] ^= 0x5A
    return bytes(data)


def _unknown_version() -> bytes:
    data = _zip_bytes()
    central = data.rfind(b"PK\x01\x02")
    data[central + 6:central + 8] = struct.pack("<H", 99)   # "version needed to extract": 9.9
    return bytes(data)


def _undecodable_name() -> bytes:
    data = _zip_bytes()
    central = data.rfind(b"PK\x01\x02")
    data[central + 8:central + 10] = struct.pack("<H", 0x800)   # names are UTF-8 ...
    data[central + 46:central + 55] = b"\xff\xfe" + b"bootstr"   # ... and this one is not
    return bytes(data)


BAD = {
    "lzma.zip": (_corrupt_lzma, "lzma.zip!bootstrap", "the member cannot be read (Invalid or unsupported options)"),
    "deflate.zip": (_corrupt_deflate, "deflate.zip!bootstrap", "the member cannot be read (Error -3 while"),
    "version.zip": (_unknown_version, "version.zip", "not a readable zip archive (zip file version 9.9)"),
    "names.zip": (_undecodable_name, "names.zip", "not a readable zip archive ('utf-8' codec can't decode"),
}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_bad_archive_is_bl904_and_the_run_goes_on(tmp_path, jobs):
    for name, (make, _, _) in BAD.items():
        (tmp_path / name).write_bytes(make())
    for i in range(24):   # enough files for --jobs 2 to start workers
        fn = tmp_path / f"fn{i:02d}"
        fn.mkdir()
        (fn / "bootstrap").write_bytes(BOOT)
        (fn / "bootstrap").chmod(0o755)
    result = invoke("check", "--no-cache", "--archives", "--jobs", jobs, "--format", "json", str(tmp_path))
    assert result.exit_code == 1, result.output
    found = json.loads(result.stdout)
    bl904 = {os.path.basename(f["path"]): f["message"] for f in found if f["code"] == "BL904"}
    for name, (_, where, message) in BAD.items():
        assert bl904[where].startswith(message), (where, bl904)
    linted = {f["path"].rsplit("/", 2)[-2] for f in found if f["code"] == "BL004"}
    assert linted == {f"fn{i:02d}" for i in range(24)}
    assert "internal error" not in result.output


def test_an_archive_with_too_many_members_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(archive_module, "MAX_MEMBERS", 10)
    path = tmp_path / "layer.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(11):
            archive.writestr(f"lib/{i}.js", b"")
    result = invoke("check", "--no-cache", "--archives", str(path))
    assert f"{path}:1:1: warning: the archive holds 11 members, over the 10 bootlint reads: not linted [BL904]" \
        in result.output


def test_the_member_count_is_read_from_the_zip64_record_too(tmp_path, monkeypatch):
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 3)   # zipfile writes the zip64 records past it
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(5):
            archive.writestr(f"{i}", b"x")
    with open(path, "rb") as handle:
        assert b"PK\x06\x06" in handle.read()
        assert archive_module.member_count(handle) == 5
    (tmp_path / "junk.zip").write_bytes(b"not a zip at all")
    with open(tmp_path / "junk.zip", "rb") as handle:
        assert archive_module.member_count(handle) is None


# -- configuration --------------------------------------------------------------------------------------

def _project(tmp_path):
    (tmp_path / ".git").mkdir()
    boot = tmp_path / "bootstrap"
    boot.write_bytes(BOOT)
    boot.chmod(0o755)
    return boot


def test_a_configuration_nested_1000_levels_is_a_clear_error(tmp_path, monkeypatch):
    boot = _project(tmp_path)
    (tmp_path / "bootlint.toml").write_text("select = " + "[" * 1000 + "]" * 1000 + "\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "--no-cache", str(boot))
    assert result.exit_code == 2
    assert "bootlint.toml: nested too deeply to read" in result.output
    assert "Traceback" not in result.output and "RecursionError" not in result.output


def test_a_configuration_link_to_a_huge_file_is_not_read(tmp_path, monkeypatch):
    boot = _project(tmp_path)
    huge = tmp_path / "huge"
    with open(huge, "wb") as handle:
        handle.truncate(3 * 1024 ** 3)   # sparse: 3 GB that take no disk
    (tmp_path / "bootlint.toml").symlink_to(huge)
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "--no-cache", str(boot))
    assert result.exit_code == 2
    assert "bootlint.toml: over the 1,048,576-byte limit for a configuration file: not read" in result.output


def test_a_pyproject_link_to_a_huge_file_is_not_read_either(tmp_path, monkeypatch):
    boot = _project(tmp_path)
    with open(tmp_path / "huge", "wb") as handle:
        handle.truncate(3 * 1024 ** 3)
    (tmp_path / "pyproject.toml").symlink_to(tmp_path / "huge")
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "--no-cache", str(boot))
    assert result.exit_code == 2 and "pyproject.toml: over the 1,048,576-byte limit" in result.output


# -- processes ------------------------------------------------------------------------------------------

def _group(pgid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_a_terminated_run_leaves_no_worker_behind(tmp_path, signame="SIGTERM"):
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

    tutorial = (ROOT / "examples" / "tutorial" / "bootstrap").read_bytes()
    for i in range(120):
        fn = tmp_path / f"fn{i:03d}"
        fn.mkdir()
        (fn / "bootstrap").write_bytes(tutorial + tutorial[10:] * 20 + b"# %d\n" % i)
    proc = subprocess.Popen([sys.executable, "-m", "bootlint", "check", "--no-cache", "--jobs", "2", "."],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(_group(proc.pid)) < 3 and time.monotonic() < deadline:   # the workers started
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be stopped"
    time.sleep(0.3)
    signum = getattr(signal, signame)
    os.kill(proc.pid, signum)            # the parent only, as a CI runner's cancel does
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signum, err
    assert b"Traceback" not in err
    deadline = time.monotonic() + 10
    while _group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group(proc.pid) == []


# -- suppressions at scale: deduplicated codes, merged ranges, the same answers --------------------------

def test_wide_directives_are_merged_and_each_is_used_only_where_it_covers_a_finding():
    from bootlint.config.suppress import Directive, apply
    from bootlint.diagnostics import Finding, Severity, Span

    def found(code, line):
        return Finding(code, "x", Severity.ERROR, "m", "bootstrap", Span(line, 1, line, 2))

    wide_a = Directive(Span(1, 1, 1, 2), ("BL004",), 10, 400)
    wide_b = Directive(Span(2, 1, 2, 2), ("BL004",), 300, 900)      # overlaps a
    wide_c = Directive(Span(3, 1, 3, 2), ("BL004",), 1000, 2000)    # covers no finding
    line_d = Directive(Span(4, 1, 4, 2), ("BL004", "BL006"), 950, 950)
    file_e = Directive(Span(5, 1, 5, 2), ("BL006",), 0, 1 << 30)
    findings = [found("BL004", 5), found("BL004", 350), found("BL004", 901), found("BL004", 950),
                found("BL006", 7), found("BL201", 350)]
    kept = apply(findings, [wide_a, wide_b, wide_c, line_d, file_e])
    assert [(f.code, f.span.line) for f in kept] == [("BL004", 5), ("BL004", 901), ("BL201", 350)]
    assert (wide_a.used, wide_b.used, wide_c.used, line_d.used, file_e.used) == (
        {"BL004"}, {"BL004"}, set(), {"BL004"}, {"BL006"})


def test_a_code_repeated_in_a_directive_is_one_code():
    from bootlint.config.suppress import parse

    directives, problems = parse([(2, 1, "# bootlint: disable-file=" + "BL004," * 1000 + "bl004", True)],
                                 [], {"BL004"})
    assert problems == [] and [d.codes for d in directives] == [("BL004",)]


# -- what a folder walk finds ---------------------------------------------------------------------------

def test_a_bootstrap_linked_to_bootstrap_sh_is_reported_once(tmp_path):
    (tmp_path / "fn").mkdir()
    real = tmp_path / "fn" / "bootstrap.sh"
    real.write_bytes(BOOT)
    real.chmod(0o755)
    (tmp_path / "fn" / "bootstrap").symlink_to("bootstrap.sh")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "bootstrap.sh").symlink_to("../fn/bootstrap.sh")   # a third name, a link
    result = invoke("check", "--no-cache", "--isolated", "--format", "json", str(tmp_path))
    paths = {f["path"] for f in json.loads(result.stdout)}
    assert paths == {str(tmp_path / "fn" / "bootstrap")}
    # Named on the command line, each name is linted.
    result = invoke("check", "--no-cache", "--isolated", "--format", "json", str(real), str(tmp_path / "fn" / "bootstrap"))
    assert {f["path"] for f in json.loads(result.stdout)} == {str(real), str(tmp_path / "fn" / "bootstrap")}


def _repo_including(tmp_path, target: str):
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    with open(repo / ".git" / "config", "a") as handle:
        handle.write(f"[include]\n\tpath = {target}\n")
    (repo / "bootstrap").write_bytes(BOOT)
    (repo / "bootstrap").chmod(0o755)
    return repo


@pytest.mark.skipif(shutil.which("git") is None or not hasattr(os, "mkfifo"), reason="needs git and FIFOs")
def test_a_fifo_included_by_the_git_config_does_not_stall_the_run(tmp_path):
    import subprocess
    import sys

    from bootlint.files.gitmodes import config_is_safe

    repo = _repo_including(tmp_path, "fifo")
    os.mkfifo(repo / ".git" / "fifo")
    assert config_is_safe(str(repo)) is False
    # git would wait 10 s on the FIFO, twice (check-ignore, ls-files): the run ends well before.
    run = subprocess.run([sys.executable, "-m", "bootlint", "check", "--no-cache", "--isolated", "."],
                         cwd=repo, capture_output=True, timeout=9)
    assert run.returncode == 1 and b"bootstrap:1:" not in run.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_includes_are_followed_to_the_files_they_name(tmp_path):
    from bootlint.files.gitmodes import config_is_safe

    repo = _repo_including(tmp_path, "more.cfg")
    (repo / ".git" / "more.cfg").write_text("[include]\n\tpath = dev-null-link\n")
    assert config_is_safe(str(repo)) is True
    (repo / ".git" / "dev-null-link").symlink_to("/dev/null")   # a device, through a link
    assert config_is_safe(str(repo)) is False
