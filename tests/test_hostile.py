"""Hostile repositories and pathological files (issue 10): no crash, no hang, nothing trusted
that the tree ships. Inputs are generated, never committed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from bootlint.cli import main
from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile
from conftest import ROOT, lint_text, run_cli, run_process

TUTORIAL = (ROOT / "examples" / "tutorial" / "bootstrap").read_bytes()
PY = "#!/usr/bin/env python3\n"


def invoke(*args, input=None):
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def write(path, data: bytes, mode: int = 0o755):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return path


# -- crashes ------------------------------------------------------------------------------------

def _chain(n: int, ops: tuple[str, ...]) -> str:
    return PY + "x = a" + "".join(f" {ops[i % len(ops)]} a" for i in range(1, n)) + "\n"


@pytest.mark.parametrize("ops", [("and",), ("or",), ("and", "or")])
def test_long_boolean_chains_are_bl900_with_a_position(ops):
    found = lint_text(_chain(8_000, ops))
    assert found == [("BL900", 2, 5)]
    assert lint_text(_chain(50_000, ops)) == [("BL900", 1, 1)]    # over the token limit


def test_chain_messages_name_the_limit():
    from bootlint.engine import Selection, lint_source
    from bootlint.files.source import SourceFile

    deep, large = (lint_source(SourceFile.from_bytes("bootstrap", _chain(n, ("and",)).encode()),
                               Selection()).findings[0].message for n in (8_000, 50_000))
    assert "nested more than 200 levels deep" in deep
    from bootlint.frontends.python.syntax import MAX_TOKENS

    assert f"over {MAX_TOKENS:,} tokens" in large


@pytest.mark.subprocess
def test_libcst_parses_a_long_chain_on_the_large_stack():
    """Without the bound, the chain still cannot kill the process: libcst runs on a thread with
    a large stack (on the main thread's stack it dies with SIGSEGV)."""
    code = ("import libcst; from bootlint.util.deepstack import call_with_large_stack;"
            "m = call_with_large_stack(libcst.parse_module, 'x = ' + ' and '.join(['a'] * 8000));"
            "print(type(m).__name__)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (proc.returncode, proc.stdout) == (0, b"Module\n"), proc.stderr


def test_a_chain_under_the_limit_is_analysed():
    text = (PY + "import os, urllib.request\nAPI = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API']"
            + " + ''" * 150 + "\nok = 1" + " and 1" * 150 + "\n"
            "urllib.request.urlopen(API + '/2018-06-01/runtime/invocation/nxt')\n")
    assert ("BL003", 5, 62) in lint_text(text)


def _killer(monkeypatch, victim: str):
    import bootlint.runner as runner

    real = runner.lint_target

    def lint_or_die(target, *args, **kwargs):
        if target.display.endswith(victim):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(target, *args, **kwargs)

    monkeypatch.setattr(runner, "lint_target", lint_or_die)


def test_a_worker_that_dies_costs_one_file(tmp_path, monkeypatch):
    for i in range(30):
        write(tmp_path / f"fn{i:02d}" / "bootstrap", TUTORIAL)
    _killer(monkeypatch, "fn07/bootstrap")
    result = invoke("check", "--no-cache", "--jobs", "2", "--format", "json", str(tmp_path))
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    died = [d for d in data if d["code"] == "BL999"]
    assert [d["path"].rsplit("/", 2)[-2] for d in died] == ["fn07"]
    assert "died (killed by SIGKILL)" in died[0]["message"]
    linted = {d["path"].rsplit("/", 2)[-2] for d in data if d["code"] == "BL101"}
    assert linted == {f"fn{i:02d}" for i in range(30)} - {"fn07"}


def test_os_environ_slice_is_not_an_internal_error():
    text = PY + "import os\nx = os.environ[1:2]\nos.environ[1:2] = 'a'\nprint(os.environ['A', 'B'])\n"
    assert lint_text(text) == []
    in_a_function = PY + "import os\ndef f(x):\n    os.environ[x:1] = 'a'\n    os.environ[x, 2] = 'b'\nf('A')\n"
    assert lint_text(in_a_function) == []


NON_UTF8 = os.fsdecode(b"bad\xff\x1b[2J")


def test_non_utf8_and_control_characters_in_paths_in_every_format(tmp_path):
    from bootlint.report import FORMATS

    write(tmp_path / NON_UTF8 / "bootstrap", TUTORIAL)
    write(tmp_path / "line\nbreak" / "bootstrap", TUTORIAL)
    subprocess.run(["git", "init", "-q", "."], cwd=tmp_path, check=True, timeout=30)
    # One run writes every format: concise on standard output, the others to files.
    proc = run_cli("check", "--no-cache", "--format", "concise", ".",
                   *(f"--output-file={fmt}:out.{fmt}" for fmt in FORMATS), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == (tmp_path / "out.concise").read_bytes()
    for fmt in FORMATS:
        output = (tmp_path / f"out.{fmt}").read_bytes()
        assert b"\x1b" not in output and b"\xff" not in output
        text = output.decode("utf-8")
        if fmt in ("concise", "full", "github"):
            newline = "%0A" if fmt == "github" else "\\n"   # workflow commands' own escape
            assert "bad\\xff\\x1b[2J/bootstrap" in text and f"line{newline}break/bootstrap" in text
            assert not [ln for ln in text.splitlines() if ln.startswith("break/")]
        elif fmt == "json":
            # JSON escapes control characters itself; bytes that are not UTF-8 are shown as \xff.
            assert {d["path"] for d in json.loads(text)} == {"bad\\xff\x1b[2J/bootstrap", "line\nbreak/bootstrap"}
        elif fmt == "sarif":
            uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    for r in json.loads(text)["runs"][0]["results"]}
            assert uris == {"bad%FF%1B%5B2J/bootstrap", "line%0Abreak/bootstrap"}
        elif fmt == "junit":
            names = {c.get("name") for c in ElementTree.fromstring(text).iter("testcase")}
            assert names == {"bad\\xff\\x1b[2J/bootstrap", "line\\nbreak/bootstrap"}
        else:
            [json.loads(line) for line in text.splitlines()] if fmt == "json-lines" else json.loads(text)


def test_file_content_cannot_forge_lines_or_drive_the_terminal(tmp_path):
    evil = (b'#!/bin/sh\ncurl "http://127.0.0.1:9001/2018-06-01/runtime/invocation/nxt\x1b]0;owned\x07'
            b'\x1b[2J\xe2\x80\xae"\nwhile true; do :; done\n')
    write(tmp_path / "bootstrap", evil)
    for fmt in ("concise", "full", "github", "junit"):
        out = invoke("check", "--isolated", "--no-cache", "--format", fmt, "--color", "never",
                     str(tmp_path / "bootstrap")).output
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, fmt
        assert "\\x1b]0;owned\\x07\\x1b[2J" in out, fmt
    assert "\\u202e" in invoke("check", "--isolated", "--no-cache", "--format", "full",
                               str(tmp_path / "bootstrap")).output


def test_junit_stays_well_formed_with_control_characters(tmp_path):
    from bootlint.diagnostics import Finding, Severity, Span
    from bootlint.report import Run, render

    nasty = "a\x00b\x01c\x0bd\x1be\x7ff\udcff"
    f = Finding("BL003", "unknown-runtime-endpoint", Severity.ERROR, nasty, nasty, Span(1, 1, 1, 2), nasty)
    root = ElementTree.fromstring(render("junit", Run([f], [nasty])))
    failure = next(root.iter("failure"))
    assert failure.get("message") == "BL003 a\\x00b\\x01c\\x0bd\\x1be\\x7ff\\xff"


@pytest.mark.slow
def test_folders_1000_deep(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    here = tmp_path
    for _ in range(1000):     # os.makedirs itself recurses once per level
        os.mkdir("d")
        os.chdir("d")
    os.chdir(tmp_path)
    write(here / ("d/" * 1000 + "bootstrap"), b"#!/bin/sh\n")
    try:
        result = invoke("check", "--no-cache", "--format", "json", ".")
        assert result.exit_code == 0 and json.loads(result.stdout) == []
        write(here / ("d/" * 1000 + "bootstrap"), b"echo\n")
        out = json.loads(invoke("check", "--no-cache", "--format", "json", ".").stdout)
        assert [d["code"] for d in out] == ["BL401"]
    finally:   # shutil.rmtree (pytest's clean-up) recurses once per level too
        for _ in range(1000):
            os.chdir("d")
        os.remove("bootstrap")
        for _ in range(1000):
            os.chdir("..")
            os.rmdir("d")


@pytest.mark.parametrize("value", ["100000000000", "9223372036854775807", "268435457"])
def test_max_file_size_is_bounded(tmp_path, value):
    result = invoke("check", "--max-file-size", value, str(tmp_path))
    assert result.exit_code == 2
    assert "not in the range 1<=x<=268435456" in result.output


def test_max_file_size_bound_in_the_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bootlint.toml").write_text("max-file-size = 9223372036854775807\n")
    result = invoke("check", ".")
    assert result.exit_code == 2
    assert "'max-file-size' must be a whole number of bytes from 1 to 268,435,456" in result.output


def test_the_bound_is_the_same_in_the_cli_and_the_configuration():
    from bootlint import cli
    from bootlint.config import settings as config

    assert cli.MAX_FILE_SIZE_BOUND == config.MAX_FILE_SIZE_BOUND


def test_reading_never_allocates_the_limit(tmp_path):
    import tracemalloc

    from bootlint.runner import read_bounded

    path = write(tmp_path / "small", b"#!/bin/sh\n" * 10)
    tracemalloc.start()
    with open(path, "rb") as handle:
        data = read_bounded(handle, 256 * 1024 * 1024)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert data == b"#!/bin/sh\n" * 10
    assert peak < 4 * 1024 * 1024


def _close_stdin():
    os.close(0)


@pytest.mark.subprocess
@pytest.mark.parametrize("args", [("check", "-"), ("check", "--stdin-filename", "bootstrap")])
def test_closed_stdin_is_exit_2(tmp_path, args):
    proc = subprocess.run([sys.executable, "-m", "bootlint", *args], cwd=tmp_path, capture_output=True,
                          timeout=60, preexec_fn=_close_stdin)
    assert proc.returncode == 2
    assert b"cannot read standard input (PATH `-`): it is closed" in proc.stderr
    assert b"Traceback" not in proc.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [("--version",), ("rule", "BL101"), ("check", "--show-settings"),
                                  ("check", "--isolated", "--no-cache", "bootstrap")])
@pytest.mark.subprocess
def test_a_full_disk_on_stdout_is_exit_2(tmp_path, args):
    write(tmp_path / "bootstrap", TUTORIAL)
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, "-m", "bootlint", *args], cwd=tmp_path, stdout=full,
                              stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == b"bootlint: error: cannot write the output: No space left on device\n"


def _processes_in_group(pgid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry))
    return found


@pytest.mark.subprocess
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_ctrl_c_during_jobs_exits_130_and_leaves_nothing(tmp_path):
    big = TUTORIAL + TUTORIAL[10:] * 20
    for i in range(120):
        write(tmp_path / f"fn{i:03d}" / "bootstrap", big + b"# %d\n" % i)
    proc = subprocess.Popen([sys.executable, "-m", "bootlint", "check", "--no-cache", "--jobs", "2", "."],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while len(_processes_in_group(proc.pid)) < 3 and time.monotonic() < deadline:  # the workers
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)     # what a terminal's Ctrl-C does: the whole group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err
    time.sleep(0.2)
    assert _processes_in_group(proc.pid) == []


def test_jobs_are_capped():
    from bootlint.runner import worker_count

    cpus = os.cpu_count() or 1
    assert worker_count(64, 5) == min(5, 2 * cpus)
    assert worker_count(1000, 1000) == 2 * cpus
    assert worker_count(3, 0) == 1


# -- nothing in the tree is trusted -------------------------------------------------------------

def test_a_cache_folder_that_is_a_link_is_refused(tmp_path, monkeypatch, parse_counter):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "bootstrap", TUTORIAL)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for target in (".", str(elsewhere)):
        if os.path.lexists(".bootlint_cache"):
            os.unlink(".bootlint_cache")
        os.symlink(target, ".bootlint_cache")
        result = CliRunner().invoke(main, ["check", "--format", "json", "bootstrap"])
        assert result.exit_code == 1
        assert "the cache folder .bootlint_cache is a symbolic link: not followed" in result.stderr
        assert not (tmp_path / ".gitignore").exists() and not (tmp_path / "CACHEDIR.TAG").exists()
        assert os.listdir(elsewhere) == []
    assert len(parse_counter) == 2


def _fill_cache(tmp_path):
    write(tmp_path / "bootstrap", TUTORIAL)
    first = invoke("check", "--format", "json", "bootstrap")
    entries = list((tmp_path / ".bootlint_cache").rglob("*.json"))
    assert len(entries) == 1
    return first, entries[0]


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "folder-link"])
def test_cache_entries_are_never_followed_or_blocked_on(tmp_path, monkeypatch, parse_counter, kind):
    monkeypatch.chdir(tmp_path)
    first, entry = _fill_cache(tmp_path)
    entry.unlink()
    if kind == "dev-zero":
        entry.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(entry)
    else:
        shutil.move(str(entry.parent), str(tmp_path / "moved"))
        entry.parent.symlink_to(tmp_path / "moved", target_is_directory=True)
    second = invoke("check", "--format", "json", "bootstrap")
    assert second.output == first.output
    assert len(parse_counter) == 2


def test_a_cache_made_by_someone_else_changes_nothing(tmp_path, monkeypatch, parse_counter):
    """A cache committed to a repository and cloned elsewhere (another user's key), or an entry
    forged in place, is not believed."""
    repo, clone = tmp_path / "repo", tmp_path / "clone"
    repo.mkdir()
    monkeypatch.chdir(repo)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "attacker-home"))
    honest, entry = _fill_cache(repo)
    assert honest.exit_code == 1 and "BL101" in honest.output
    entry.write_text('{"path": "bootstrap", "findings": []}')     # forged: "no problems"
    shutil.copytree(repo, clone, symlinks=True)
    monkeypatch.chdir(clone)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "victim-home"))
    assert invoke("check", "--format", "json", "bootstrap").output == honest.output
    shutil.rmtree(clone / ".bootlint_cache")
    shutil.copytree(repo / ".bootlint_cache", clone / ".bootlint_cache")
    for e in (clone / ".bootlint_cache").rglob("*.json"):                # genuine, other key
        e.write_bytes((repo / ".bootlint_cache").joinpath(e.relative_to(clone / ".bootlint_cache")).read_bytes())
    assert invoke("check", "--format", "json", "bootstrap").output == honest.output
    assert len(parse_counter) == 3


def test_the_user_key_is_private(tmp_path, monkeypatch):
    from bootlint.util.cache import CacheRefused, load_user_key

    key = load_user_key(str(tmp_path / "k"))
    assert len(key) == 32 and load_user_key(str(tmp_path / "k")) == key
    assert (tmp_path / "k" / "hmac.key").stat().st_mode & 0o777 == 0o600
    (tmp_path / "k" / "hmac.key").chmod(0o644)
    with pytest.raises(CacheRefused, match="mode 0600"):
        load_user_key(str(tmp_path / "k"))


def test_a_deeply_nested_cache_entry_is_a_miss(tmp_path):
    from bootlint.util.cache import Cache

    cache = Cache(str(tmp_path / "c")).open()
    body = b"[" * 100_000 + b"]" * 100_000
    key = "ab" * 32
    folder = tmp_path / "c" / __import__("bootlint").__version__ / "ab"
    folder.mkdir(parents=True)
    (folder / f"{key}.json").write_bytes(cache._mac(key, body) + b"\n" + body)  # even a genuine MAC
    assert cache.get(key) is None


def test_the_cache_key_includes_the_parsers_versions(monkeypatch):
    import bootlint.util.cache as cache_module
    from bootlint.engine import Selection
    from bootlint.files.source import SourceFile

    src = SourceFile.from_bytes("bootstrap", TUTORIAL)
    real = cache_module.tool_versions()
    assert real.startswith(sys.version) and "libcst=" in real and "tree-sitter=" in real
    assert "tree-sitter-bash=" in real
    keys = []
    for versions in ("3.11.7 libcst=1.1 tree-sitter=0.23 tree-sitter-bash=0.23",
                     "3.12.1 libcst=1.1 tree-sitter=0.23 tree-sitter-bash=0.23"):
        monkeypatch.setattr(cache_module, "tool_versions", lambda v=versions: v)
        keys.append(cache_module.Cache().open().key(src, Selection()))
    assert keys[0] != keys[1]



def test_the_cache_key_changes_with_bootlint_s_own_code(tmp_path, monkeypatch):
    """In a checkout or an editable install the version stays the same from edit to edit: an
    edit to bootlint's own modules (size or time) makes earlier entries misses."""
    import os

    import bootlint.util.cache as cache_module
    from bootlint.engine import Selection
    from bootlint.files.source import SourceFile

    package = tmp_path / "pkg"
    (package / "rules").mkdir(parents=True)
    (package / "__pycache__").mkdir()
    (package / "rules" / "loop.py").write_text("x = 1\n")
    (package / "__pycache__" / "loop.pyc").write_bytes(b"ignored")
    before = cache_module.code_fingerprint(str(package))
    assert before.startswith(os.path.join("rules", "loop.py") + ":6:") and "pyc" not in before
    (package / "__pycache__" / "loop.pyc").write_bytes(b"changed, still ignored")
    assert cache_module.code_fingerprint(str(package)) == before
    os.utime(package / "rules" / "loop.py", ns=(1, 1))
    assert cache_module.code_fingerprint(str(package)) != before
    real = cache_module.code_fingerprint()
    assert "engine.py:" in real and os.path.join("rules", "loop.py") + ":" in real
    src = SourceFile.from_bytes("bootstrap", TUTORIAL)
    keys = []
    for code in ("engine.py:10:1", "engine.py:11:1"):
        monkeypatch.setattr(cache_module, "code_fingerprint", lambda c=code: c)
        keys.append(cache_module.Cache().open().key(src, Selection()))
    assert keys[0] != keys[1]

# -- wrong answers on odd inputs ----------------------------------------------------------------

def test_stdin_over_the_limit_is_bl904(tmp_path):
    result = invoke("check", "--isolated", "--format", "json", "--max-file-size", "100", "-",
                    input=TUTORIAL)
    assert result.exit_code == 1
    assert [(d["code"], d["path"]) for d in json.loads(result.stdout)] == [("BL904", "-")]
    assert "standard input is over the 100-byte limit" in result.output


def test_stdin_combined_with_paths(tmp_path):
    write(tmp_path / "bootstrap", b"#!/bin/sh\necho $X\n")
    result = invoke("check", "--isolated", "--no-cache", "--format", "json", "--stdin-filename",
                    "piped/bootstrap", "-", str(tmp_path / "bootstrap"), input=TUTORIAL)
    paths = {d["path"] for d in json.loads(result.stdout)}
    assert paths == {"piped/bootstrap"}     # the file on disk is clean
    assert "in 2 files" in invoke("check", "--isolated", "--no-cache", "-", str(tmp_path / "bootstrap"),
                                  input=b"#!/bin/sh\n").output


@pytest.mark.subprocess   # PYTHONWARNINGS acts when the interpreter starts
def test_syntax_warnings_are_silent_and_never_errors(tmp_path):
    write(tmp_path / "bootstrap", (PY + 'x = "\\d"\nif x is "a":\n    pass\n').encode())
    for env in ({}, {"PYTHONWARNINGS": "error"}):
        proc = run_process("check", "--isolated", "--no-cache", "bootstrap", cwd=tmp_path, env=env)
        assert (proc.returncode, proc.stderr) == (0, b""), env


@pytest.mark.parametrize("data,expected", [
    (PY.encode() + b'x = "caf\xe9"\n', ("BL900", 2, 11)),                 # invalid UTF-8
    (PY.encode() + b"x = 1\ny = 2\x00\n", ("BL900", 3, 6)),                 # a NUL byte
    (PY.encode() + b"# coding: ascii\nx = '\xc3\xa9'\n", ("BL900", 1, 1)),  # what the cookie forbids
    (PY.encode() + b"# coding: no-such-codec\n", ("BL900", 1, 1)),
])
def test_python_that_python_refuses(data, expected):
    assert [f[:3] for f in lint_text(data)] == [expected]


def test_a_pep_263_cookie_is_honoured():
    data = (PY + "# -*- coding: latin-1 -*-\nimport os, urllib.request\n"
            "API = 'http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2018-06-01/runtime'\n"
            "note = 'café'\nurllib.request.urlopen(API + '/invocation/nxt')\n").encode("latin-1")
    from bootlint.engine import Selection, lint_source
    from bootlint.files.source import SourceFile

    findings = lint_source(SourceFile.from_bytes("bootstrap", data), Selection(select=("BL003",))).findings
    assert [(f.code, f.span.line) for f in findings] == [("BL003", 6)]
    assert lint_text(data, select=("BL9",)) == []
    src = SourceFile.from_bytes("bootstrap", data)
    lint_source(src, Selection())
    assert "note = 'café'" in src.text


def test_cr_only_line_endings_are_an_error():
    data = b"#!/bin/sh\rwhile true; do\r  curl http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/nxt\rdone\r"
    found = lint_text(data, select=("BL402", "BL003"))
    assert found == [("BL402", 1, 1), ("BL003", 3, 69)]


@pytest.mark.parametrize("codec,code", [("utf-16", "BL405"), ("utf-16-le", "BL401"), ("utf-16-be", "BL401")])
def test_utf16_is_an_error_not_an_info(codec, code):
    data = "#!/bin/sh\nwhile true; do :; done\n".encode(codec)
    assert lint_text(data) == [(code, 1, 1)]


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = ((0o40755 if name.endswith("/") else 0o100755) << 16)
            archive.writestr(info, data)
    return path


def test_zip_root_bootstrap_folder_backslash_and_duplicates(tmp_path):
    import warnings

    folder = _zip(tmp_path / "folder.zip", [("bootstrap/", b""), ("bootstrap/run", b"#!/bin/sh\n")])
    windows = _zip(tmp_path / "windows.zip", [("build\\bootstrap", TUTORIAL)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # zipfile warns about the duplicate name
        twice = _zip(tmp_path / "twice.zip", [("bootstrap", TUTORIAL), ("bootstrap", b"#!/bin/sh\n")])
    out = json.loads(invoke("check", "--isolated", "--format", "json", str(folder), str(windows),
                            str(twice)).stdout)
    got = [(d["code"], d["path"][len(str(tmp_path)) + 1:]) for d in out]
    assert got == [("BL404", "folder.zip!bootstrap/"), ("BL904", "twice.zip!bootstrap"),
                   ("BL404", "windows.zip!build\\bootstrap")]
    assert "holds 2 members named `bootstrap`" in out[1]["message"]


def test_tool_bootlint_in_bootlint_toml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "bootstrap", TUTORIAL)
    (tmp_path / "bootlint.toml").write_text('[tool.bootlint]\nselect = ["BL201"]\n')
    out = json.loads(invoke("check", "--no-cache", "--format", "json", "bootstrap").stdout)
    assert {d["code"] for d in out} == {"BL201"}
    (tmp_path / "bootlint.toml").write_text('[tool.bootlint]\nselect = ["BL201"]\n[tool.other]\nx = 1\n')
    result = invoke("check", "--no-cache", "bootstrap")
    assert result.exit_code == 2
    assert "write the settings at the top level, without a [tool.bootlint] header" in result.output


def test_toml_with_a_byte_order_mark(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "bootstrap", TUTORIAL)
    (tmp_path / "bootlint.toml").write_bytes(b'\xef\xbb\xbfselect = ["BL201"]\n')
    out = json.loads(invoke("check", "--no-cache", "--format", "json", "bootstrap").stdout)
    assert {d["code"] for d in out} == {"BL201"}


# -- the property: anything through the CLI, in every format ------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from test_robustness import FIXTURE_FILES, MUTATION, _mutate  # noqa: E402

# BOOTLINT_PROPERTY_EXAMPLES raises the budget for a nightly run (see the README).
EXAMPLES = int(os.environ.get("BOOTLINT_PROPERTY_EXAMPLES", "25"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 25,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SHEBANGS = st.sampled_from([b"", b"#!/bin/sh\n", b"#!/bin/bash -e\n", b"#!/usr/bin/env python3\n"])
CONTENT = st.one_of(
    st.binary(max_size=2048),
    st.builds(lambda s, t: s + t.encode("utf-8", "surrogatepass"), SHEBANGS, st.text(max_size=1024)),
    st.builds(lambda f, ops: _mutate(f.read_bytes(), ops), st.sampled_from(FIXTURE_FILES),
              st.lists(MUTATION, min_size=1, max_size=4)),
)
# Any bytes a Linux file name may hold: not UTF-8, control characters, ESC, newlines.
NAMES = st.binary(min_size=1, max_size=24).filter(
    lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b".."))


def _all_formats_parse(folder) -> None:
    from bootlint.report import FORMATS

    for fmt in FORMATS:
        text = (folder / f"out.{fmt}").read_bytes().decode("utf-8")   # UTF-8, whatever the paths
        if fmt in ("json", "sarif", "gitlab"):
            json.loads(text)
        elif fmt == "json-lines":
            [json.loads(line) for line in text.splitlines()]
        elif fmt == "junit":
            ElementTree.fromstring(text)
        else:
            assert "\x1b" not in text, fmt
            if fmt == "concise":   # one finding per line, nothing forged
                import re

                finding = re.compile(r"^.*:\d+:\d+: (error|warning|info): .* \[BL\d{3}\]( \[\*\])?$")
                lines = [line for line in text.splitlines()
                         if not line.startswith(("Found ", "No problems found", "[*] "))]
                assert all(finding.match(line) for line in lines), lines


@PROPERTY
@given(content=CONTENT, name=NAMES, as_folder=st.booleans())
def test_anything_through_the_cli_in_every_format(tmp_path_factory, content, name, as_folder):
    from bootlint.report import FORMATS

    base = tmp_path_factory.mktemp("prop")
    fs_name = os.fsdecode(name)
    target = base / "tree" / fs_name / "bootstrap" if as_folder else base / "tree" / fs_name
    write(target, content)
    out = base / "out"
    out.mkdir()
    result = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", "--format", "concise",
                                       str(base / "tree") if as_folder else str(target),
                                       *(f"--output-file={fmt}:{out}/out.{fmt}" for fmt in FORMATS)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code in (0, 1), result.output
    _all_formats_parse(out)


# -- time and memory (sizes from the issue in bench/pathological.py; smaller ones here) --------

def test_many_suppressions_each_cover_their_own_statement():
    """Suppressions are matched by bisection and an index (they were quadratic: 40,000 took
    minutes); each still covers exactly the statement after it, multi-line ones included."""
    blocks = []
    for i in range(1500):
        if i % 2:
            blocks.append("# bootlint: disable=BL004\ncurl \\\n  http://127.0.0.1:9001/2018-06-01/runtime/invocation/next\n")
        else:
            blocks.append("# bootlint: disable=BL004\necho a\n")
    text = "#!/bin/sh\n" + "".join(blocks)
    found = lint_text(text, select=("BL004", "BL901"))
    assert {code for code, _, _ in found} == {"BL901"}
    assert len(found) == 750                      # the ones above `echo` suppressed nothing
    assert found[0][1:] == (2, 1) and found[-1][1] == text.count("\n") - 4


def test_deeply_nested_shell_is_bl900_naming_the_limit():
    text = "#!/bin/bash\n" + "if true; then\n" * 2000 + "echo a\n" * 300 + "fi\n" * 2000
    from bootlint.engine import Selection, lint_source
    from bootlint.files.source import SourceFile

    findings = lint_source(SourceFile.from_bytes("bootstrap", text.encode()), Selection()).findings
    assert [(f.code, f.span.line) for f in findings] == [("BL900", 1)]
    assert "nested" in findings[0].message and "limit" in findings[0].message


@pytest.mark.slow
def test_more_commands_than_analysed_is_bl900_naming_the_limit():
    """A file of more commands than the front end lowers within its bounds (a 2 MB file of
    short lines took 11 s and 570 MB) is said to be over the limit; one at the limit is linted."""
    from bootlint.frontends.shell.syntax import MAX_COMMANDS

    over = lint_text("#!/bin/sh\n" + ":\n" * (MAX_COMMANDS + 1))
    assert over == [("BL900", 1, 1)]
    found = lint_source(SourceFile.from_bytes("bootstrap", b"#!/bin/sh\n" + b":\n" * (MAX_COMMANDS + 1)),
                        Selection()).findings
    assert f"{MAX_COMMANDS + 1:,} commands: over the limit of {MAX_COMMANDS:,}" in found[0].message
    assert lint_text("#!/bin/sh\n" + ":\n" * MAX_COMMANDS) == []


def test_a_syntax_tree_over_the_node_limit_is_bl900_before_any_walk():
    from bootlint.frontends.shell.syntax import MAX_NODES

    lines = MAX_NODES // 4 + 1                  # `echo a` is four nodes
    found = lint_source(SourceFile.from_bytes("bootstrap", b"#!/bin/sh\n" + b"echo a\n" * lines),
                        Selection()).findings
    assert [(f.code, f.span.line, f.span.column) for f in found] == [("BL900", 1, 1)]
    assert f"a syntax tree of {lines * 4 + 2:,} nodes: over the limit of {MAX_NODES:,}" in found[0].message
