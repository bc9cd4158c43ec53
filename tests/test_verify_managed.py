"""`bootlint verify --target managed-instances`: the concurrent Runtime API and the run, with real
bash worker pools and AWS's own runtime client (awslambdaric forks one process per worker when
AWS_LAMBDA_MAX_CONCURRENCY is set)."""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bootlint.verify import verify
from bootlint.verify.emulator.concurrent import ConcurrentApi
from bootlint.verify.emulator.server import Invocation
from bootlint.verify.sandbox import find as sandbox_find
from conftest import ROOT, deployment, run_cli

POOL = """#!/bin/bash
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
source "$LAMBDA_TASK_ROOT/$(echo "$_HANDLER" | cut -d. -f1).sh"
HANDLER=$(echo "$_HANDLER" | cut -d. -f2)
worker() {
  PREPARE
  while true; do
    EVENT=$(curl -sS -D HEADERS "$API/invocation/next")
    sleep 0.2   # some work before the headers are read: the other workers' next lands meanwhile
    ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' HEADERS | tr -d '[:space:]' | cut -d: -f2)
    export _X_AMZN_TRACE_ID=$(grep -i '^Lambda-Runtime-Trace-Id:' HEADERS | tr -d '[:space:]' | cut -d: -f2)
    if RESPONSE=$("$HANDLER" "$EVENT"); then
      printf '%s' "$RESPONSE" | curl -sS --data-binary @- "$API/invocation/$ID/response"
    else
      curl -sS --data-binary '{"errorMessage":"failed","errorType":"HandlerError"}' "$API/invocation/$ID/error"
      ON_FAILURE
    fi
  done
}
for i in $(seq "${AWS_LAMBDA_MAX_CONCURRENCY:-1}"); do
  worker &
done
WAIT
"""
SHARED = POOL.replace("PREPARE", ":").replace("HEADERS", "/tmp/headers").replace("ON_FAILURE", ":") \
    .replace("WAIT", "wait")
OWN = POOL.replace("PREPARE", "local headers\n  headers=$(mktemp)").replace("HEADERS", '"$headers"') \
    .replace("ON_FAILURE", ":").replace("WAIT", "wait")
# A worker ends at a failed invocation without answering it, and the first shell only waits for
# one of them: it exits with that invocation (at least) in flight.
QUITS = OWN.replace('      curl -sS --data-binary \'{"errorMessage":"failed","errorType":"HandlerError"}\' '
                    '"$API/invocation/$ID/error"\n      :\n', "      exit 1\n").replace("\nwait\n", "\nwait -n\n")
ONE_LOOP = OWN.replace('for i in $(seq "${AWS_LAMBDA_MAX_CONCURRENCY:-1}"); do\n  worker &\ndone\nwait\n',
                       "worker\n")
HANDOVER = '#!/bin/sh\nexec python3 -m awslambdaric "$_HANDLER"\n'


def _folder(tmp: Path, name: str, text: str) -> Path:
    return deployment(tmp, name, text, extra={"function.sh": "handler() { echo '{}'; }\n"})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    bwrap, why = sandbox_find()
    if bwrap is None:
        pytest.skip(f"no sandbox for bootlint verify here: {why}")
    tmp = tmp_path_factory.mktemp("managed")
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + old_path
    jobs = {"shared": SHARED, "own": OWN, "quits": QUITS, "one-loop": ONE_LOOP}
    # (not from a virtual environment under /tmp: the sandbox's /tmp is private and empty)
    if importlib.util.find_spec("awslambdaric") is not None and not os.path.realpath(sys.prefix).startswith("/tmp/"):
        jobs["ric"] = HANDOVER
    folders = {name: _folder(tmp, name, text) for name, text in jobs.items()}
    # The README's example: its own handler (`cat`) answers with the event it was given.
    folders["example"] = tmp / "example"
    shutil.copytree(ROOT / "examples" / "managed-instances", folders["example"])
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {name: pool.submit(verify, str(folder), timeout=2.0, concurrency=4)
                       for name, folder in folders.items()}
            return {name: future.result() for name, future in futures.items()}
    finally:
        os.environ["PATH"] = old_path


def codes(result) -> list[str]:
    return sorted({f.code for f in result.findings})


def test_a_pool_sharing_tmp_headers_answers_the_wrong_invocations(runs):
    result = runs["shared"]
    assert codes(result) == ["BL702"]
    [finding] = result.findings
    assert finding.message.startswith("observed: with 4 invocations in flight, answers reached the wrong invocations (")
    assert (finding.span.line, finding.span.column) == (8, 25)     # `-D /tmp/headers`, as check places it
    assert "  workers polling at once: 4 of 4; invocations in flight at most: 4" in result.log


def test_the_same_pool_with_a_headers_file_per_worker_is_clean(runs):
    result = runs["own"]
    assert result.probe_used and codes(result) == []
    assert "  workers polling at once: 4 of 4; invocations in flight at most: 4" in result.log
    answers = [line.split(": ", 1)[1].split(" (")[0] for line in result.log if line.startswith("  invocation ")]
    assert answers == ["response", "error"] + ["response"] * 6


def test_a_first_shell_that_ends_after_wait_n_fails_the_invocations_in_flight(runs):
    result = runs["quits"]
    assert "BL704" in codes(result)
    message = next(f.message for f in result.findings if f.code == "BL704")
    assert message.startswith("observed: the process Lambda started exited (exit status ")
    in_flight = re.search(r"with invocations ([0-9, ]+) in flight", message)
    assert in_flight and "2" in in_flight.group(1).split(", ")      # the one its worker died with
    assert "those in flight fail with Runtime.ExitError" in message


def test_one_loop_is_one_worker(runs):
    result = runs["one-loop"]
    assert codes(result) == ["BL706"]
    assert "  workers polling at once: 1 of 4; invocations in flight at most: 1" in result.log


def test_awslambdaric_at_four_is_clean(runs):
    if "ric" not in runs:
        pytest.skip("awslambdaric is not installed (no wheel for this platform), or this virtual "
                    "environment is under /tmp, which the sandbox replaces by an empty one")
    result = runs["ric"]
    assert result.probe_used and codes(result) == []
    # (How many are in flight at once depends on how fast its answers are: they take ~1 ms.)
    assert any(line.startswith("  workers polling at once: 4 of 4; invocations in flight at most: ")
               for line in result.log)
    answers = [line.split(": ", 1)[1].split(" (")[0] for line in result.log if line.startswith("  invocation ")]
    assert answers == ["response", "error"] + ["response"] * 6


def test_the_readme_worker_pool_is_clean(runs):
    result = runs["example"]
    assert not result.probe_used and codes(result) == []
    assert any(line.startswith("  workers polling at once: 4 of 4; invocations in flight at most: ")
               for line in result.log)
    answers = [line.split(": ", 1)[1].split(" (")[0] for line in result.log if line.startswith("  invocation ")]
    assert answers == ["response"] * 8      # its handler does not fail on the probe's "fail"


def test_the_command_line(tmp_path):
    if sandbox_find()[0] is None:
        pytest.skip("no sandbox for bootlint verify here")
    folder = _folder(tmp_path, "own", OWN)
    proc = run_cli("verify", "--target", "managed-instances", "--concurrency", "2", "--timeout", "2", str(folder))
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    assert "as on Lambda Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY=2)" in err
    assert "  workers polling at once: 2 of 2; invocations in flight at most: 2" in err
    bad = run_cli("verify", "--concurrency", "0", str(folder))
    assert bad.returncode == 2


# --- the emulator alone -------------------------------------------------------------------

def _request(api, method, path, body=b"", headers=None):
    host, port = api.address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request(method, "/2018-06-01/runtime" + path, body, headers or {})
    resp = conn.getresponse()
    return resp.status, dict(resp.getheaders()), resp.read()


def test_at_most_n_in_flight_late_answer_410_and_bad_mode_400():
    with ConcurrentApi(2) as api:
        invocations = [Invocation(b'{"n":%d}' % n, timeout=5) for n in range(3)]
        for invocation in invocations:
            api.queue(invocation)
        got = []
        threads = [threading.Thread(target=lambda: got.append(_request(api, "GET", "/invocation/next")))
                   for _ in range(3)]
        for t in threads:
            t.start()
        api.wait(lambda: len(got) == 2, 5)
        time.sleep(0.1)
        assert len(got) == 2 and api.held == 1 and len(api.in_flight) == 2     # the third waits
        first = got[0][1]["Lambda-Runtime-Aws-Request-Id"]
        second = got[1][1]["Lambda-Runtime-Aws-Request-Id"]
        assert _request(api, "POST", f"/invocation/{first}/response", b"ok")[0] == 202
        api.wait(lambda: len(got) == 3, 5)            # a slot freed: the third is delivered
        status, _, body = _request(api, "POST", f"/invocation/{first}/response", b"again")
        assert status == 403 and json.loads(body)["errorType"] == "InvalidStateTransition"
        api.invocations[second].timeout = 0.01        # its deadline passes; the others' do not
        time.sleep(0.05)
        expired = api.expire(time.monotonic())        # not stopped: only its answer is refused
        assert [i.request_id for i in expired] == [second]
        status, _, body = _request(api, "POST", f"/invocation/{second}/response", b"late")
        assert status == 410 and json.loads(body)["errorType"] == "InvokeTimeout"
        third = got[2][1]["Lambda-Runtime-Aws-Request-Id"]
        status, _, body = _request(api, "POST", f"/invocation/{third}/response", b"x",
                                   {"Lambda-Runtime-Function-Response-Mode": "Streaming"})
        assert status == 400 and json.loads(body)["errorType"] == "InvalidResponseModeHeader"
        assert api.invocations[third].failure == "Runtime.InvalidResponseModeHeader"
        assert _request(api, "POST", "/invocation/nope/response", b"x")[0] == 400
        assert _request(api, "POST", "/init/error", b"{}")[0] == 403   # init ended at the first next


def test_process_exit_fails_every_invocation_in_flight():
    with ConcurrentApi(3) as api:
        for n in range(2):
            api.queue(Invocation(b"{}", timeout=5))
        got = []
        for _ in range(2):
            threading.Thread(target=lambda: got.append(_request(api, "GET", "/invocation/next"))).start()
        api.wait(lambda: len(got) == 2, 5)
        failed = api.fail_in_flight("Runtime.ExitError", time.monotonic())
        assert len(failed) == 2 and all(i.failure == "Runtime.ExitError" for i in failed)
        assert api.in_flight == {}
