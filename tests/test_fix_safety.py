"""Fixes that never damage a file (issue 19): line endings the front end and the fix engine read
alike, spans that edit only what they mean to, fixes that stop when they do not remove their
finding, and writes that never go through a link nor past the file's permissions."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from pathlib import Path

from click.testing import CliRunner

from bootlint.cli import main
from bootlint.files.source import SourceFile
from bootlint.fixes.textmap import RawMap, TextMap, line_break, minimal_change

API = "${AWS_LAMBDA_RUNTIME_API}"
NEXT = "/2018-06-01/runtime/invocation/next"


def invoke(*args):
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def write(path, data: bytes, mode: int = 0o755):
    path.write_bytes(data)
    path.chmod(mode)
    return path


# -- one map of positions --------------------------------------------------------------------------

@pytest.mark.parametrize("raw,expected", [
    (b"a\rb\rc", b"\r"), (b"a\nb\r\n", b"\n"), (b"a\rb\n", b"\n"), (b"abc", b"\n"), (b"\xef\xbb\xbfa\rb", b"\r")])
def test_the_text_and_the_raw_map_split_lines_by_one_rule(raw, expected):
    assert line_break(raw.removeprefix(b"\xef\xbb\xbf")) == expected
    src = SourceFile.from_bytes("bootstrap", raw)
    raw_map = RawMap(raw)
    # Every character of the text is found at the same place in the raw bytes.
    for row, line in enumerate(src.text.split("\n"), start=1):
        for col, char in enumerate(line, start=1):
            at = raw_map.offset(row, col)
            assert raw[at:at + len(char.encode())].decode() == char, (row, col)


def test_cr_only_positions_map_past_each_cr():
    raw = "\ufeff#!/bin/sh\rx=é\rcurl z\r".encode()
    raw_map = RawMap(raw)
    assert raw_map.newline == "\r"
    assert raw[raw_map.offset(3, 6):raw_map.offset(3, 7)] == b"z"
    assert raw[raw_map.offset(2, 3):raw_map.offset(2, 4)] == "é".encode()
    assert raw_map.offset(2, 99) == raw.index(b"\rcurl")


def test_text_map_bytes_code_points_and_utf16():
    tm = TextMap("a😀é b\nx")
    assert tm.byte_offset(1, 3) == 5 and tm.point(5) == (1, 3)     # after the 4-byte emoji
    assert tm.units_column(1, 3) == 3                               # the emoji is a surrogate pair
    assert tm.column_of_units(1, 3) == 3 and tm.column_of_units(1, 1) == 2
    assert tm.column_of_units(1, 2) == 3    # inside the pair: the emoji counted, as pygls does
    assert tm.char_point(6) == (2, 1) and tm.char_offset(1, 99) == 5
    assert tm.span(0, len(tm.encoded)).end_line == 2


@pytest.mark.parametrize("old,new,expected", [
    ("abcdef", "abXdef", (2, 3, "X")), ("aaa", "aaaa", (3, 3, "a")), ("abc", "abc", (3, 3, "")),
    ("", "x", (0, 0, "x")), ("xyz", "", (0, 3, ""))])
def test_minimal_change(old, new, expected):
    assert minimal_change(old, new) == expected
    start, end, text = expected
    assert old[:start] + text + old[end:] == new


# -- CR-only line endings ----------------------------------------------------------------------------

SHELL_CR = (f"#!/bin/bash\rwhile true; do\r  curl -sS http://127.0.0.1:9001{NEXT}\rdone\r").encode()
PYTHON_CR = ("#!/usr/bin/env python3\rimport urllib.request\rwhile True:\r"
             f"    r = urllib.request.urlopen('http://127.0.0.1:9001{NEXT}')\r").encode()


def test_cr_only_shell_is_fixed_in_place_once(tmp_path):
    path = write(tmp_path / "bootstrap", SHELL_CR)
    result = invoke("check", "--fix", str(path))
    assert path.read_bytes() == SHELL_CR.replace(b"127.0.0.1:9001", API.encode())
    assert "Fixed 1 problem." in result.output and "BL004" not in result.output


def test_cr_only_python_is_fixed_in_place_with_cr_line_endings(tmp_path):
    path = write(tmp_path / "bootstrap.py", PYTHON_CR)
    result = invoke("check", "--fix", str(path))
    assert path.read_bytes() == (
        "#!/usr/bin/env python3\rimport os\rimport urllib.request\rwhile True:\r"
        f"    r = urllib.request.urlopen(f'http://{{os.environ[\"AWS_LAMBDA_RUNTIME_API\"]}}{NEXT}')\r").encode()
    assert "Fixed 1 problem." in result.output


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs patch")
@pytest.mark.parametrize("data", [
    SHELL_CR, PYTHON_CR,
    # A lone CR in an LF file (it is part of the line) and no final newline.
    f"#!/bin/sh\nx='a\rb'\nwhile true; do curl -sS http://127.0.0.1:9001{NEXT}; done".encode()],
    ids=["shell-cr", "python-cr", "lone-cr"])
def test_diff_of_cr_files_is_a_patch_that_applies(tmp_path, data):
    name = "bootstrap.py" if data.startswith(b"#!/usr/bin/env python3") else "bootstrap"
    (tmp_path / "fixed").mkdir()
    fixed = write(tmp_path / "fixed" / name, data)
    shown = write(tmp_path / name, data)
    diff = invoke("check", "--diff", str(shown)).stdout_bytes
    assert diff.count(b"\\ No newline at end of file") <= 2
    invoke("check", "--fix", str(fixed))
    copy = write(tmp_path / "copy", data)
    run = subprocess.run(["patch", "--binary", "-s", str(copy)], input=diff, capture_output=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert copy.read_bytes() == fixed.read_bytes() != data


# -- writing ------------------------------------------------------------------------------------------

BL004_SHELL = f"#!/bin/sh\nwhile true; do\n  curl -sS http://127.0.0.1:9001{NEXT}\ndone\n".encode()


def test_a_linked_bootstrap_is_not_written_through(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    notes = write(outside / "notes.txt", BL004_SHELL, 0o644)
    before = notes.stat()
    fn = tmp_path / "repo" / "fn"
    fn.mkdir(parents=True)
    (fn / "bootstrap").symlink_to("../../outside/notes.txt")
    result = invoke("check", "--fix", str(tmp_path / "repo"))
    assert result.exit_code == 2
    assert ("bootstrap: error: cannot fix: it is a symbolic link to ../../outside/notes.txt: not fixed "
            "(bootlint does not write through links; fix the file it points to)") in result.stderr
    after = notes.stat()
    assert notes.read_bytes() == BL004_SHELL
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert (fn / "bootstrap").is_symlink() and os.listdir(fn) == ["bootstrap"]


def test_a_read_only_file_is_not_rewritten(tmp_path):
    path = write(tmp_path / "bootstrap", BL004_SHELL, 0o555)
    inode = path.stat().st_ino
    result = invoke("check", "--fix", str(path))
    assert result.exit_code == 2 and "cannot fix: it is read-only: not fixed" in result.stderr
    assert path.read_bytes() == BL004_SHELL and path.stat().st_ino == inode
    assert path.stat().st_mode & 0o7777 == 0o555


def test_another_users_file_is_not_rewritten(tmp_path, monkeypatch):
    from bootlint.fixes import apply as autofix

    path = write(tmp_path / "bootstrap", BL004_SHELL, 0o777)
    monkeypatch.setattr(autofix.os, "geteuid", lambda: path.stat().st_uid + 1)
    with pytest.raises(autofix.FixError, match="belongs to another user"):
        autofix.write_atomic(str(path), BL004_SHELL, b"x\n")
    assert path.read_bytes() == BL004_SHELL


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to own files for others")
def test_as_root_owner_and_group_stay_and_setuid_setgid_go(tmp_path):
    path = write(tmp_path / "bootstrap", BL004_SHELL.replace(b"\n", b"\r\n"), 0o6755)
    os.chown(path, 4321, 4322)
    result = invoke("check", "--fix", str(path))
    assert result.exit_code in (0, 1), result.output
    st = path.stat()
    assert (st.st_uid, st.st_gid) == (4321, 4322)
    assert st.st_mode & 0o7777 == 0o755
    assert path.read_bytes().count(API.encode()) == 1


# -- BL004: only the host ------------------------------------------------------------------------------

URL_WORDS = [   # (the word, whether a fix is expected: None, whether the word is reported or not)
    (r"http://127.0.0.1\:9001/2018-06-01/runtime/invocation/next", True),        # a backslash escape
    (r"http://127.0.0\.1\:9001/2018-06-01/runtime/invocation/next", True),
    ("http://127.0.0.\\\n1:9001/2018-06-01/runtime/invocation/next", None),     # a continuation in the host
    ("http://127.0.0.1:9001/2018-06-01/runtime/\\\ninvocation/next", True),     # a line continuation
    ("$'http://127.0.0.1:9001/2018-06-01/runtime/invocation/next'", True),      # $'...' quoting
    ("$'http://127.0.0.1:9001/2018-06-01/runtime/invocation/ne\\x78t'", True),   # an escape in $'...'
    ("$'http://127.0.0.1\\x3a9001/2018-06-01/runtime/invocation/next'", False),  # an escape in the host
    ("\"http://127.0.0.1:9001\"/2018-06-01/runtime/invocation/next", True),
    ("'http://localhost:9001/2018-06-01/runtime/invocation/next'", True),
    (r"http://127.0.0.1:9001/2018-06-01/runtime/invocation/ne\xt", True),
]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("word,fixable", URL_WORDS)
def test_the_bl004_fix_changes_the_host_and_nothing_else_of_the_url(tmp_path, word, fixable):
    """What bash makes of the URL word after the fix is the URL before it with the host swapped
    for the variable's value; or the finding has no fix."""
    original = f"#!/bin/bash\nwhile true; do\n  curl -sS {word}\ndone\n"
    path = write(tmp_path / "bootstrap", original.encode())
    invoke("check", "--fix", "--select", "BL004", str(path))

    def url(text: str) -> str:
        body = text.split("curl -sS ", 1)[1].rsplit("\ndone", 1)[0]
        run = subprocess.run(["bash", "-c", f"printf '%s' {body}"], capture_output=True, text=True,
                             env={"AWS_LAMBDA_RUNTIME_API": "api.example:7"})
        assert run.returncode == 0, run.stderr
        return run.stdout

    before, after = url(original), url(path.read_text())
    assert before.endswith("/2018-06-01/runtime/invocation/next")
    swapped = before.replace("127.0.0.1:9001", "api.example:7").replace("localhost:9001", "api.example:7")
    if fixable:
        assert after == swapped
    elif fixable is None:
        assert after in (before, swapped)
    else:
        assert path.read_text() == original


# -- BL101 on a line of several statements -------------------------------------------------------------

PY_LOOP = '''#!/usr/bin/env python3
import json, os, urllib.request
API = os.environ["AWS_LAMBDA_RUNTIME_API"]
from function import handler
while True:
    with urllib.request.urlopen(f"http://{API}/2018-06-01/runtime/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        ev = json.loads(r.read())
'''
POST = ('urllib.request.urlopen(urllib.request.Request(f"http://{API}/2018-06-01/runtime/invocation/{rid}/response", '
        'data=json.dumps(out).encode(), method="POST"))')


@pytest.mark.parametrize("tail,rest", [
    (f"    out = handler(ev); {POST}\n", f"    {POST}\n"),
    (f"    print('event'); out = handler(ev); {POST}  # post it\n",
     f"    {POST}  # post it\n"),
    (f"    out = handler(ev); print('done')\n    {POST}\n", f"    print('done')\n    {POST}\n"),
], ids=["handler-then-post", "three-on-a-line", "post-on-the-next-line"])
def test_the_python_guard_takes_only_the_handler_call(tmp_path, tail, rest):
    path = write(tmp_path / "bootstrap", (PY_LOOP + tail).encode())
    result = invoke("check", "--fix", "--unsafe-fixes", "--select", "BL101,BL102", str(path))
    text = path.read_text()
    compile(text, "bootstrap", "exec")
    assert text.count("handler(ev)") == 1 and text.count("try:") == 1, text
    assert "Fixed 2 problems." in result.output and result.exit_code == 0, result.output
    assert text.endswith("        continue\n" + rest), text
    assert "    try:\n        out = handler(ev)\n    except Exception as exc:\n" in text


def test_a_fix_that_leaves_its_finding_is_a_bl999_and_the_file_stays(tmp_path, monkeypatch):
    """A fix builder that puts its edit in the wrong place (here: the end of the file, as the
    CR-only bug did) is applied once at most: never repeated, never written, said as a bug."""
    from bootlint.diagnostics import Edit, Span
    from bootlint.fixes.requests import Rewrite
    from bootlint.frontends.shell.fixes import ShellFixes

    def misplaced(self, span):
        end = self.src.text.count("\n") + 1
        return Rewrite((Edit(Span(end, 1, end, 1), API),))

    monkeypatch.setattr(ShellFixes, "runtime_api_host", misplaced)
    path = write(tmp_path / "bootstrap", BL004_SHELL)
    for args in (("--fix",), ("--diff",)):
        result = invoke("check", *args, str(path))
        assert result.exit_code == 3, result.output
        assert ('error: internal error: the fix "take the host from AWS_LAMBDA_RUNTIME_API" for BL004 at line 3 '
                'did not remove the finding; it was not applied and fixing stopped; please report this'
                ) in result.output
        assert path.read_bytes() == BL004_SHELL and "Fixed" not in result.output


def test_map_offset_follows_a_round_of_changes():
    from bootlint.fixes.apply import map_offset

    changes = [(2, 2, b"XYZ"), (5, 8, b"q"), (10, 10, b"")]
    assert [map_offset(p, changes) for p in (0, 2, 4, 5, 6, 8, 9, 12)] == [0, 5, 7, 8, 8, 9, 10, 13]


def test_a_finding_that_another_fix_opens_elsewhere_does_not_stop_the_fixing(tmp_path):
    """The tutorial: the guard's new `continue` path leaks the per-event temp file (a new BL301
    at the continue), while BL301's own fix removed the finding it was applied for."""
    tutorial = Path(__file__).resolve().parent.parent / "examples" / "tutorial" / "bootstrap"
    path = write(tmp_path / "bootstrap", tutorial.read_bytes())
    result = invoke("check", "--fix", "--unsafe-fixes", str(path))
    assert "did not remove" not in result.output and "Fixed 6 problems" in result.output, result.output
    assert path.read_text().count('rm -f "$HEADERS"') == 2


def test_a_coding_cookie_on_line_2_of_a_cr_only_file_counts(tmp_path):
    """Python ends a line at CR: the cookie is read, the text decoded as latin-1, and the fix
    written in latin-1 at the right place (found by the fix fuzzer)."""
    text = ("#!/usr/bin/env python3\r# -*- coding: latin-1 -*-\r# café\rimport urllib.request\r"
            f"while True:\r    r = urllib.request.urlopen('http://127.0.0.1:9001{NEXT}')\r")
    path = write(tmp_path / "bootstrap.py", text.encode("latin-1"))
    invoke("check", "--fix", "--select", "BL004", str(path))
    assert path.read_bytes() == text.replace("import urllib", "import os\rimport urllib").replace(
        "'http://127.0.0.1:9001", "f'http://{os.environ[\"AWS_LAMBDA_RUNTIME_API\"]}").encode("latin-1")


def test_a_file_with_another_hard_link_is_not_rewritten(tmp_path):
    path = write(tmp_path / "bootstrap", BL004_SHELL)
    os.link(path, tmp_path / "copy")
    result = invoke("check", "--fix", str(path))
    assert result.exit_code == 2 and "cannot fix: it has 1 other hard link: not fixed" in result.stderr
    assert (tmp_path / "copy").read_bytes() == path.read_bytes() == BL004_SHELL
    assert path.stat().st_nlink == 2
