"""`bootlint verify` never touches what it must not: the user's files, the host's /tmp and file
system, processes that outlive the run; and bad input (a device, a hostile zip, a handler name
that climbs out, `--timeout nan`, signals, a machine out of processes) ends in a clear message and
exit 2, never a traceback.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from bootlint.verify.emulator import BASE, RuntimeApi
from bootlint.verify import verify
from bootlint.verify import workdir
from bootlint.verify.package import PackageError
from bootlint.verify.process import EnvironmentProblem
from bootlint.verify.sandbox import find as sandbox_find
from conftest import ROOT, deployment, run_cli

# These tests start bootlint and bootstraps in child processes.
pytestmark = pytest.mark.subprocess

SANDBOX, WHY_NOT = sandbox_find()
needs_sandbox = pytest.mark.skipif(SANDBOX is None, reason=f"no sandbox here: {WHY_NOT}")

# A correct curl runtime (no probe: it has no handler file), with a prologue of its own.
LOOP = ('API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"\n'
        "while true; do\n"
        '  curl -sS -D /tmp/h -o /tmp/e "$API/invocation/next"\n'
        "  ID=$(grep -i lambda-runtime-aws-request-id /tmp/h | tr -d '[:space:]' | cut -d: -f2)\n"
        '  curl -sS -o /dev/null --data-binary @/tmp/e "$API/invocation/$ID/response"\n'
        "done\n")


def _folder(tmp: Path, text: str, name: str = "fn", extra: dict | None = None) -> Path:
    return deployment(tmp, name, text, extra=extra)


def _processes(argv: list[bytes]) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd[:len(argv)] == argv:
                found.append(int(entry))
    return found


# --- the user's files -------------------------------------------------------------------------

@pytest.mark.parametrize("handler", ["{abs}/function.handler", "../function.handler", "..function.handler",
                                     "sub/../../function.handler"])
def test_a_handler_name_outside_the_task_root_is_refused_and_writes_nothing(tmp_path, handler):
    tutorial = (ROOT / "examples" / "tutorial" / "bootstrap").read_text()
    fn = _folder(tmp_path, tutorial, extra={"function.sh": "handler() { echo mine; }\n"})
    (tmp_path / "function.sh").write_text("mine\n")
    (tmp_path / "function.py").write_text("mine\n")
    before = {p: p.read_bytes() for p in (fn / "function.sh", tmp_path / "function.sh", tmp_path / "function.py")}
    proc = run_cli("verify", str(fn), "--handler", handler.format(abs=tmp_path), "--no-sandbox")
    assert proc.returncode == 2, proc.stderr
    stderr = proc.stderr.decode()
    assert f"--handler {handler.format(abs=tmp_path)}: it " in stderr and "Traceback" not in stderr
    assert {p: p.read_bytes() for p in before} == before


def test_the_probe_never_writes_through_a_link_or_outside_the_task_root(tmp_path):
    from bootlint.verify.probe import ProbePlan, UnsafeHandler

    root = tmp_path / "task"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "lib").symlink_to(outside)
    for name in ("lib/function.sh", "/etc/function.sh", "../function.sh"):
        with pytest.raises(UnsafeHandler):
            ProbePlan("function.handler", {name: ["handler"]}).write(str(root))
    assert list(outside.iterdir()) == [] and not (tmp_path / "function.sh").exists()
    (root / "function.sh").symlink_to(outside / "target")
    with pytest.raises(OSError) as caught:
        ProbePlan("function.handler", {"function.sh": ["handler"]}).write(str(root))
    assert caught.value.errno == errno.ELOOP and not (outside / "target").exists()


# --- signals ----------------------------------------------------------------------------------

@needs_sandbox
@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_bootstrap_and_removes_the_temporary_folder(tmp_path, sig):
    mark = f"{31000 + sig}.{uuid.uuid4().int % 10**6}"
    fn = _folder(tmp_path, f"#!/bin/sh\nsetsid sleep {mark} &\nexec sleep {mark}\n")
    temp = tmp_path / "temp"
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp))
    proc = subprocess.Popen([sys.executable, "-m", "bootlint", "verify", str(fn), "--timeout", "60",
                             "--event", os.devnull], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 30
        while len(_processes([b"sleep", mark.encode()])) < 2 and time.monotonic() < end:
            time.sleep(0.05)
        assert len(_processes([b"sleep", mark.encode()])) == 2
        assert [p.name for p in temp.iterdir() if p.name.startswith("bootlint-verify-")]
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + sig
    assert f"stopped by {sig.name}" in err.decode() and b"Traceback" not in err
    assert _processes([b"sleep", mark.encode()]) == []
    assert list(temp.iterdir()) == []


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_refused(tmp_path, value):
    fn = _folder(tmp_path, "#!/bin/sh\n" + LOOP)
    proc = run_cli("verify", str(fn), "--timeout", value)
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr
    assert b"--timeout" in proc.stderr


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused_before_anything_is_read(device):
    started = time.monotonic()
    proc = run_cli("verify", device, "--no-sandbox")
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines()[-1] == f"bootlint verify: error: {device}: not a regular " \
                                                    f"file (a bootstrap, a folder or a zip is run)"
    assert time.monotonic() - started < 30


def _zip(path: Path, members: list[tuple[zipfile.ZipInfo, bytes]], compression=zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for info, data in members:
            info.compress_type = compression
            archive.writestr(info, data)


def _unix(name: str, mode: int = 0o100755) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system, info.external_attr = 3, mode << 16
    return info


def test_a_corrupt_deflate_stream_is_a_clear_error(tmp_path):
    good = tmp_path / "good.zip"
    _zip(good, [(_unix("bootstrap"), b"#!/bin/sh\n" + b"echo x\n" * 2000)])
    raw = bytearray(good.read_bytes())
    start = 30 + len("bootstrap")        # the member's data, after its local header
    raw[start + 10:start + 40] = b"\xff" * 30
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(raw))
    proc = run_cli("verify", str(bad), "--no-sandbox")
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr
    assert proc.stderr.decode().splitlines()[-1].startswith(
        f"bootlint verify: error: {bad}: cannot extract: error: Error -3 while decompressing data")


def test_a_corrupt_lzma_member_is_a_clear_error(tmp_path):
    good = tmp_path / "lzma.zip"
    _zip(good, [(_unix("bootstrap"), b"#!/bin/sh\n" + b"echo x\n" * 2000)], zipfile.ZIP_LZMA)
    raw = bytearray(good.read_bytes())
    start = 30 + len("bootstrap")
    raw[start:start + 9] = b"\x00" * 9   # LZMA's properties: "Invalid or unsupported options"
    (tmp_path / "bad.zip").write_bytes(bytes(raw))
    proc = run_cli("verify", str(tmp_path / "bad.zip"), "--no-sandbox")
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr and b"cannot extract" in proc.stderr


def test_undecodable_member_names_are_a_clear_error(tmp_path):
    good = tmp_path / "names.zip"
    _zip(good, [(_unix("bootstrap"), b"#!/bin/sh\n"), (_unix("caf\u00e9.sh", 0o100644), b"x")])
    raw = good.read_bytes()
    # The UTF-8 flag stays set on the member while its name becomes bytes that are not UTF-8.
    assert raw.count("caf\u00e9".encode()) == 2
    bad = tmp_path / "bad.zip"
    bad.write_bytes(raw.replace("caf\u00e9".encode(), b"caf\xff\xfe"))
    proc = run_cli("verify", str(bad), "--no-sandbox")
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr
    assert b"cannot extract: UnicodeDecodeError" in proc.stderr


@pytest.mark.slow
def test_many_files_are_no_reason_to_refuse_a_package(tmp_path):
    """Lambda limits a package by its unzipped size (250 MB), not by a file count: a Node
    runtime's node_modules is thousands of files."""
    from bootlint.verify.package import prepare

    fn = _folder(tmp_path, "#!/bin/sh\n")
    modules = fn / "node_modules"
    modules.mkdir()
    for i in range(5001):   # one more than the count the package check used to refuse
        (modules / f"m{i}.js").write_bytes(b"")
    work = tmp_path / "work"
    work.mkdir()
    package = prepare(str(fn), None, str(work))
    assert len(os.listdir(os.path.join(package.task_root, "node_modules"))) == 5001


def test_a_zip_over_250_mb_unzipped_is_refused(tmp_path, monkeypatch):
    from bootlint.verify import package as package_module

    monkeypatch.setattr(package_module, "MAX_BYTES", 1000)
    path = tmp_path / "big.zip"
    _zip(path, [(_unix("bootstrap"), b"#!/bin/sh\n" + b"x" * 5000)])
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(PackageError, match="unzips to more than 1,000 bytes, over Lambda's limit"):
        package_module.prepare(str(path), None, str(work))


def test_a_machine_that_refuses_a_process_is_an_environment_error(tmp_path, monkeypatch):
    """A fork bomb under `ulimit -u` leaves no room for the next start: a clear environment
    error (exit 2), not a finding and not an internal error."""
    from bootlint.verify import process

    def refuse(*args, **kwargs):
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(process.subprocess, "Popen", refuse)
    fn = _folder(tmp_path, "#!/bin/sh\n" + LOOP)
    with pytest.raises(EnvironmentProblem, match=r"process limit \(ulimit -u\)"):
        verify(str(fn), events=[b"{}"], sandbox=False)


@pytest.fixture
def open_dir():
    """A folder of user nobody's, as /tmp is the user's to write in (pytest's own folders are
    private to root)."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="bootlint-test-"))
    os.chown(path, 65534, 65534)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="changes to another user (needs root)")
def test_the_run_folder_is_removed_even_where_the_bootstrap_locked_a_folder(open_dir):
    """`chmod 000` on a folder in TMPDIR, by a user who is not root (here nobody, in a child)."""
    top = open_dir / "run"
    locked = top / "tmp" / "locked" / "deeper"
    locked.mkdir(parents=True)
    (locked / "file").write_text("x")
    for path in (top, top / "tmp", top / "tmp" / "locked", locked, locked / "file"):
        os.chown(path, 65534, 65534)
    os.chmod(locked, 0)
    os.chmod(top / "tmp" / "locked", 0)
    pid = os.fork()
    if pid == 0:   # the child: nobody, who cannot remove a 000 folder without opening it first
        try:
            os.setgid(65534)
            os.setuid(65534)
            workdir.remove(str(top))
            os._exit(0 if not os.path.exists(top) else 1)
        except BaseException:  # noqa: BLE001
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="changes to another user (needs root)")
def test_plain_rmtree_would_have_left_it_behind(open_dir):
    """The test above can fail: without the owner's access given back, nobody keeps the folder."""
    import shutil

    top = open_dir / "run"
    (top / "locked").mkdir(parents=True)
    (top / "locked" / "f").write_text("x")
    for path in (top, top / "locked", top / "locked" / "f"):
        os.chown(path, 65534, 65534)
    os.chmod(top / "locked", 0)
    pid = os.fork()
    if pid == 0:
        os.setgid(65534)
        os.setuid(65534)
        shutil.rmtree(top, ignore_errors=True)
        os._exit(0 if not os.path.exists(top) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 1


# --- the sandbox ------------------------------------------------------------------------------

@needs_sandbox
def test_the_sandbox_keeps_tmp_private_the_host_read_only_and_ends_every_process(tmp_path):
    mark = f"{uuid.uuid4().int % 10**6}.5"
    host_tmp = Path("/tmp") / f"bootlint-test-canary-{uuid.uuid4().hex}"
    host_tmp.write_text("keep me")
    host_file = tmp_path / "host-file"
    try:
        text = ("#!/bin/bash\n"
                'echo "TMP-AT-START=$(ls -A /tmp | wc -l) ROOT=$LAMBDA_TASK_ROOT PWD=$PWD" >&2\n'
                "rm -fr /tmp/* 2>/dev/null\n"
                f"echo x > /tmp/{host_tmp.name}.new\n"
                f'echo x > "$HOST_FILE" 2>/dev/null && echo WROTE-HOST >&2\n'
                'echo x > "$LAMBDA_TASK_ROOT/new" 2>/dev/null && echo WROTE-TASK >&2\n'
                f"setsid env -i sleep {mark} </dev/null >/dev/null 2>&1 &\n"
                f"( sleep {mark} & ) </dev/null >/dev/null 2>&1\n" + LOOP)
        fn = _folder(tmp_path, text)
        result = verify(str(fn), events=[b'{"a":1}', b'{"a":2}'], timeout=10,
                        env={"HOST_FILE": str(host_file)})
        stderr = result.timeline.starts[0].stderr.text()
        assert "TMP-AT-START=0 ROOT=/var/task PWD=/var/task" in stderr
        assert "WROTE-HOST" not in stderr and "WROTE-TASK" not in stderr
        assert [f.code for f in result.findings] == []
        assert [o.invocation.outcome for o in result.timeline.outcomes] == ["response", "response"]
        assert host_tmp.read_text() == "keep me" and not Path(f"/tmp/{host_tmp.name}.new").exists()
        assert not host_file.exists() and not (fn / "new").exists()
        assert _processes([b"sleep", mark.encode()]) == []
    finally:
        host_tmp.unlink()


def test_without_a_sandbox_the_run_is_refused_unless_asked_for(tmp_path, monkeypatch):
    from bootlint.verify import sandbox
    from bootlint.verify.command import run

    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    sandbox.find.cache_clear()
    try:
        fn = _folder(tmp_path, "#!/bin/sh\n" + LOOP)
        with pytest.raises(EnvironmentProblem, match=r"no sandbox: bubblewrap \(`bwrap`\) is not installed"):
            verify(str(fn), events=[b"{}"])
        code = run(str(fn), None, None, [os.devnull], 3.0, "concise", [], False, "warning", True, False)
        assert code == 2
        code = run(str(fn), None, None, [os.devnull], 10.0, "concise", [], False, "warning", True, False,
                   sandbox=False)
        assert code == 0
    finally:
        sandbox.find.cache_clear()


# --- the function's environment ---------------------------------------------------------------

def test_env_and_env_file_reach_the_function_and_lambdas_own_win(tmp_path):
    from bootlint.verify.command import parse_env

    env_file = tmp_path / "vars.env"
    env_file.write_text("# comment\nexport A=from-file\nB='quoted value'\n\nAWS_REGION=eu-west-1\n")
    variables = parse_env(["A=from-flag", "C=x=y"], [str(env_file)])
    assert variables == {"A": "from-flag", "B": "quoted value", "AWS_REGION": "eu-west-1", "C": "x=y"}
    with pytest.raises(ValueError, match=r"vars2.env:1: `1BAD=x` is not NAME=VALUE"):
        (tmp_path / "vars2.env").write_text("1BAD=x\n")
        parse_env([], [str(tmp_path / "vars2.env")])
    proc = run_cli("verify", str(tmp_path), "--env", "novalue")
    assert proc.returncode == 2 and b"--env: `novalue` is not NAME=VALUE" in proc.stderr
    from bootlint.verify.process import lambda_environment

    made = lambda_environment("127.0.0.1:1", "f.h", "/var/task", "/var/runtime", "/tmp", extra=variables)
    assert made["A"] == "from-flag" and made["AWS_REGION"] == "us-east-1"


# --- the emulator -----------------------------------------------------------------------------

def _raw(api: RuntimeApi, data: bytes) -> bytes:
    host, port = api.address.split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except OSError:
            pass
        return out


def test_the_emulator_keeps_no_request_headers_beyond_a_few_small_ones():
    with RuntimeApi() as api:
        big = "v" * 60000
        for _ in range(20):
            _raw(api, (f"POST {BASE}/init/error HTTP/1.1\r\nX-Big: {big}\r\nX-Other: {big}\r\n"
                       f"Content-Type: {big}\r\nContent-Length: 2\r\n\r\n{{}}").encode())
        kept = sum(len(k) + len(v) for r in api.records for k, v in r.headers.items())
        assert len(api.records) == 20 and kept < 20 * 300
        assert set(api.records[0].headers) == {"content-type", "content-length"}


def test_a_malformed_request_never_prints_a_traceback(capfd):
    with RuntimeApi() as api:
        deep = b"[" * 100000 + b"]" * 100000
        answers = [
            _raw(api, f"POST {BASE}/init/error HTTP/1.1\r\nContent-Length: {len(deep)}\r\n\r\n".encode() + deep),
            _raw(api, f"POST {BASE}/init/error HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".encode()),
            _raw(api, f"POST {BASE}/init/error HTTP/1.1\r\nContent-Length: -5\r\n\r\n".encode()),
            _raw(api, b"GET /\xff\xfe HTTP/1.1\r\n\r\n"),
            _raw(api, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200)),
        ]
        time.sleep(0.2)
    assert answers[0].startswith(b"HTTP/1.1 202") and b"nested too deeply" in api.records[0].why.encode()
    assert [a.split(b"\r\n", 1)[0] for a in answers[1:4]] == [b"HTTP/1.1 400 Bad Request"] * 2 + [
        b"HTTP/1.1 404 Not Found"]
    assert answers[4]   # not HTTP at all: http.server's own short error page
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "Traceback" not in captured.out


def test_a_machine_too_slow_to_start_a_process_is_not_judged(tmp_path, monkeypatch):
    """A missed deadline on a machine that needs seconds to start `true` is no finding: exit 2."""
    from bootlint.verify import sandbox

    fn = _folder(tmp_path, "#!/bin/sh\nexec sleep 5\n")
    calls = []

    def slow(bwrap):
        calls.append(bwrap)
        return 0.0 if len(calls) == 1 else 2.5     # quick before the run, slow after the miss

    monkeypatch.setattr(sandbox, "spawn_seconds", slow)
    with pytest.raises(EnvironmentProblem, match="too slow to judge the run: starting a trivial process took 2.5 s"):
        verify(str(fn), events=[b"{}"], timeout=1.0, sandbox=False)
    assert len(calls) == 2


def test_path_folders_under_tmp_are_named_as_hidden_by_the_sandbox(tmp_path):
    from bootlint.verify.sandbox import hidden_by_private_tmp

    assert hidden_by_private_tmp("/usr/bin:/tmp/x/venv/bin::/opt/bin:/tmp") == ["/tmp/x/venv/bin", "/tmp"]
    assert hidden_by_private_tmp("/usr/local/bin:/usr/bin") == []
