"""Never crash, never hang, never run what is read: property tests through the real CLI entry
point, and one test per stated limit."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from bootlint.cli import main
from conftest import FIXTURES, ROOT, run_cli

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

FIXTURE_FILES = sorted(p for p in FIXTURES.glob("*/BL*/*") if p.is_file())
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def lint_bytes(tmp_path, data: bytes, name: str = "bootstrap"):
    """Lint one file through the CLI entry point; the checks every input must pass."""
    path = tmp_path / name
    path.write_bytes(data)
    path.chmod(0o755)
    result = CliRunner().invoke(main, ["check", "--format", "json", "--isolated", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code in (0, 1), result.output
    findings = json.loads(result.output)
    assert not [f for f in findings if f["code"] == "BL999"], findings
    return findings


@pytest.mark.slow
@PROPERTY
@given(data=st.binary(max_size=4096), name=st.sampled_from(["bootstrap", "bootstrap.py", "bootstrap.sh"]))
def test_random_bytes(tmp_path, data, name):
    lint_bytes(tmp_path, data, name)


@pytest.mark.slow
@PROPERTY
@given(text=st.text(max_size=2048), shebang=st.sampled_from(["", "#!/bin/sh\n", "#!/usr/bin/env python3\n"]))
def test_random_unicode(tmp_path, text, shebang):
    lint_bytes(tmp_path, (shebang + text).encode("utf-8", "surrogatepass"))


def _mutate(data: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    lines = data.split(b"\n")
    for op, a, b in ops:
        if not lines:
            break
        i, j = a % len(lines), b % len(lines)
        if op == "delete-line":
            del lines[i]
        elif op == "duplicate-line":
            lines.insert(i, lines[i])
        elif op == "swap-lines":
            lines[i], lines[j] = lines[j], lines[i]
        else:
            tokens = lines[i].split(b" ")
            k, m = b % len(tokens), a % len(tokens)
            if op == "delete-token":
                del tokens[k]
            elif op == "duplicate-token":
                tokens.insert(k, tokens[k])
            else:
                tokens[k], tokens[m] = tokens[m], tokens[k]
            lines[i] = b" ".join(tokens)
    return b"\n".join(lines)


MUTATION = st.tuples(st.sampled_from(["delete-line", "duplicate-line", "swap-lines", "delete-token",
                                      "duplicate-token", "swap-tokens"]),
                     st.integers(0, 10_000), st.integers(0, 10_000))


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@pytest.mark.slow
@given(fixture=st.sampled_from(FIXTURE_FILES), ops=st.lists(MUTATION, min_size=1, max_size=6))
def test_mutated_fixtures(tmp_path, fixture, ops):
    name = "bootstrap.py" if fixture.suffix == ".py" else "bootstrap"
    lint_bytes(tmp_path, _mutate(fixture.read_bytes(), ops), name)


# -- stated limits ------------------------------------------------------------------------------

def test_file_over_the_size_cap_is_skipped(tmp_path):
    (tmp_path / "bootstrap").write_bytes(b"#!/bin/sh\n" + b"echo aaaaaaaaa\n" * 700_000)  # 10.5 MB
    proc = run_cli("check", "--format", "json", "bootstrap", cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert [(d["code"], d["line"]) for d in data] == [("BL904", 1)]
    assert "10,500,010 bytes is over the 2,097,152-byte limit" in data[0]["message"]
    # The limit is the user's: lowered, a small file is skipped; raised, it is linted.
    (tmp_path / "bootstrap").write_bytes(b"#!/bin/sh\n" + b"echo aaaaaaaaa\n" * 20)  # 310 bytes
    proc = run_cli("check", "--format", "json", "--max-file-size", "300", "bootstrap", cwd=tmp_path)
    assert [d["code"] for d in json.loads(proc.stdout)] == ["BL904"]
    proc = run_cli("check", "--format", "json", "--max-file-size", "310", "--ignore", "BL403",
                   "bootstrap", cwd=tmp_path)
    assert json.loads(proc.stdout) == []


@pytest.mark.parametrize("name,data", [
    ("100k-lines", b"#!/bin/sh\n" + b"echo a\n" * 100_000),
    ("10k-functions", b"#!/bin/bash\n" + b"".join(b"f%d() { f%d; }\n" % (i, i + 1) for i in range(10_000)) + b"f0\n"),
    ("1MB-line", b"#!/bin/sh\necho " + b"a" * 1_000_000 + b"\n"),
    ("invalid-utf8", b"#!/bin/sh\necho \xff\xfe\xc3\n" + (ROOT / "examples" / "tutorial" / "bootstrap").read_bytes()[10:]),
    ("empty", b""),
    ("only-shebang", b"#!/bin/sh"),
    ("python-1000-deep", b"#!/usr/bin/env python3\nx = " + b"(" * 1000 + b"1" + b")" * 1000 + b"\n"),
    ("python-deep-blocks", b"#!/usr/bin/env python3\n" + b"".join(b" " * i + b"if x:\n" for i in range(400)) + b" " * 400 + b"pass\n"),
    ("python-deep-calls", b"#!/usr/bin/env python3\nx = " + b"f(" * 3000 + b")" * 3000 + b"\n"),
])
def test_limits_lint_without_crashing(tmp_path, name, data):
    findings = lint_bytes(tmp_path, data)
    if name == "empty":
        assert [f["code"] for f in findings] == ["BL401"]
    if name == "invalid-utf8":
        assert ("BL101", 18) in [(f["code"], f["line"]) for f in findings]


def test_5000_nested_substitutions_get_a_clear_diagnostic(tmp_path):
    data = b"#!/bin/bash\nx=" + b"$(" * 5000 + b"echo" + b")" * 5000 + b"\n"
    findings = lint_bytes(tmp_path, data)
    assert [(f["code"], f["line"], f["column"]) for f in findings] == [("BL900", 1, 1)]
    assert "nested" in findings[0]["message"] and "not analysed" in findings[0]["message"]


@pytest.mark.parametrize("data", [
    b"#!/bin/bash\n" + b"".join(b" " * i + b"if x; then\n" for i in range(600)) + b"fi\n" * 600,
    b"#!/usr/bin/env python3\nx = " + b"f(" * 3000 + b")" * 3000 + b"\n",   # libcst's parser would overflow
])
def test_deep_nesting_is_bl900_not_a_crash(tmp_path, data):
    findings = lint_bytes(tmp_path, data)
    assert [f["code"] for f in findings] == ["BL900"]


def test_nul_bytes_are_a_binary(tmp_path):
    findings = lint_bytes(tmp_path, b"#!/bin/sh\necho a\x00b\n")
    assert [f["code"] for f in findings] == ["BL902"]


def test_fifo_and_device_are_skipped_without_blocking(tmp_path):
    fifo = tmp_path / "bootstrap"
    os.mkfifo(fifo)
    proc = run_cli("check", "--format", "json", "bootstrap", "/dev/null", cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert [(d["path"], d["code"]) for d in data] == [("/dev/null", "BL904"), ("bootstrap", "BL904")]
    assert "not a regular file" in data[0]["message"]


def test_directory_symlink_loop(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "a" / "bootstrap").write_bytes(b"#!/bin/sh\n")
    (tmp_path / "a" / "bootstrap").chmod(0o755)
    proc = run_cli("check", "--format", "json", ".", cwd=tmp_path)
    assert proc.returncode == 0 and json.loads(proc.stdout) == []


def test_unreadable_paths_exit_2_and_the_others_are_linted(tmp_path):
    (tmp_path / "bootstrap").write_bytes((ROOT / "examples" / "tutorial" / "bootstrap").read_bytes())
    (tmp_path / "bootstrap").chmod(0o755)
    (tmp_path / "plain").write_text("x")
    locked = tmp_path / "locked"
    locked.write_text("#!/bin/sh\n")
    locked.chmod(0)
    names = ["plain/bootstrap", "bootstrap"] + (["locked"] if os.geteuid() != 0 else [])
    proc = run_cli("check", "--format", "json", *names, cwd=tmp_path)
    assert proc.returncode == 2
    assert b"plain/bootstrap: error: cannot read: " in proc.stderr
    if os.geteuid() != 0:
        assert b"locked: error: cannot read: Permission denied" in proc.stderr
    assert len(json.loads(proc.stdout)) == 6
    assert b"Traceback" not in proc.stderr


def test_bootlint_never_runs_what_it_reads(tmp_path):
    marker = tmp_path / "MARKER"
    shell = (f"#!/bin/sh\ntouch {marker}\nX=$(touch {marker})\nexec touch {marker}\n"
             f"trap 'touch {marker}' EXIT\n. {marker}.sh\n")
    (tmp_path / f"{marker}.sh").write_text(f"touch {marker}\n")
    python = (f"#!/usr/bin/env python3\nopen({str(marker)!r}, 'w').close()\nimport os\n"
              f"os.system('touch {marker}')\nif __name__ == '__main__':\n    open({str(marker)!r}, 'w')\n")
    (tmp_path / "sh").mkdir()
    (tmp_path / "py").mkdir()
    (tmp_path / "sh" / "bootstrap").write_text(shell)
    (tmp_path / "py" / "bootstrap").write_text(python)
    (tmp_path / "py" / "bootstrap.py").write_text(python)
    proc = run_cli("check", "--format", "json", "sh", "py", cwd=tmp_path)
    assert proc.returncode in (0, 1)
    assert not marker.exists()
