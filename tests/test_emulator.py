"""The local Runtime API against the documented protocol, with a plain HTTP client and with
AWS's own runtime interface client (awslambdaric) as a real runtime."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from bootlint.verify.emulator import BASE, MAX_RESPONSE_BYTES, Invocation, RuntimeApi
from bootlint.verify.emulator.server import new_trace_id


@pytest.fixture
def api():
    with RuntimeApi() as server:
        yield server


def request(api, method, path, body=None, headers=None, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection(*api.address.split(":"), timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    if own:
        conn.close()
    return resp, data


def test_next_is_held_until_an_event_is_queued_and_carries_every_header(api):
    got = {}

    def poll():
        got["resp"], got["body"] = request(api, "GET", f"{BASE}/invocation/next")
        got["at"] = time.monotonic()

    thread = threading.Thread(target=poll)
    thread.start()
    assert api.wait(lambda: any(r.endpoint == "next" for r in api.records), 5)
    time.sleep(0.2)
    assert "resp" not in got           # still held: no event is due
    queued_at = time.monotonic()
    inv = Invocation(b'{"k": 1}', trace_id=new_trace_id(), client_context='{"c":1}',
                     cognito_identity='{"i":1}', timeout=2)
    api.queue(inv)
    thread.join(5)
    resp = got["resp"]
    assert got["at"] >= queued_at and resp.status == 200 and resp.version == 11
    assert got["body"] == b'{"k": 1}'
    headers = {k.lower(): v for k, v in resp.getheaders()}
    assert headers["content-type"] == "application/json"
    assert headers["lambda-runtime-aws-request-id"] == inv.request_id
    assert headers["lambda-runtime-trace-id"] == inv.trace_id
    assert headers["lambda-runtime-invoked-function-arn"].count(":") == 6
    assert headers["lambda-runtime-client-context"] == '{"c":1}'
    assert headers["lambda-runtime-cognito-identity"] == '{"i":1}'
    deadline = int(headers["lambda-runtime-deadline-ms"])
    assert 1500 < deadline - time.time() * 1000 <= 2000


def test_response_error_and_their_refusals(api):
    conn = http.client.HTTPConnection(*api.address.split(":"), timeout=10)   # one kept-alive connection
    first, second, third = (Invocation(b"{}", timeout=5) for _ in range(3))
    for inv in (first, second, third):
        api.queue(inv)
    for inv in (first, second, third):
        resp, _ = request(api, "GET", f"{BASE}/invocation/next", conn=conn)
        assert resp.getheader("Lambda-Runtime-Aws-Request-Id") == inv.request_id
    assert request(api, "POST", f"{BASE}/invocation/{first.request_id}/response", b'"ok"', conn=conn)[0].status == 202
    assert request(api, "POST", f"{BASE}/invocation/{first.request_id}/response", b'"again"', conn=conn)[0].status == 400
    assert request(api, "POST", f"{BASE}/invocation/{first.request_id}/error", b"{}", conn=conn)[0].status == 400
    assert request(api, "POST", f"{BASE}/invocation/nope/response", b"x", conn=conn)[0].status == 400
    assert request(api, "POST", f"{BASE}/invocation//response", b"x", conn=conn)[0].status == 400
    documented = json.dumps({"errorMessage": "m", "errorType": "E", "stackTrace": ["a"]}).encode()
    resp, _ = request(api, "POST", f"{BASE}/invocation/{second.request_id}/error", documented,
                      {"Lambda-Runtime-Function-Error-Type": "Unhandled"}, conn=conn)
    assert resp.status == 202
    assert (second.outcome, second.error_type, second.error_body_problem) == ("error", "Unhandled", "")
    resp, _ = request(api, "POST", f"{BASE}/invocation/{third.request_id}/error", b"it broke", conn=conn)
    assert resp.status == 202 and third.error_type is None
    assert third.error_body_problem == "is plain text, not the error JSON"
    assert first.outcome == "response" and first.body == b'"ok"'
    assert [r.status for r in api.records if r.endpoint in ("response", "error")] == [202, 400, 400, 400, 400, 202, 202]


def test_a_response_over_6_mb_is_413_and_leaves_the_invocation_open(api):
    inv = Invocation(b"{}", timeout=5)
    api.queue(inv)
    request(api, "GET", f"{BASE}/invocation/next")
    resp, _ = request(api, "POST", f"{BASE}/invocation/{inv.request_id}/response", b"x" * (MAX_RESPONSE_BYTES + 1))
    assert resp.status == 413 and inv.outcome is None
    assert inv.rejected[0][0] == 413
    resp, _ = request(api, "POST", f"{BASE}/invocation/{inv.request_id}/response", b"x" * MAX_RESPONSE_BYTES)
    assert resp.status == 202 and inv.body_size == MAX_RESPONSE_BYTES


def test_a_chunked_response_is_read_whole(api):
    inv = Invocation(b"{}", timeout=5)
    api.queue(inv)
    request(api, "GET", f"{BASE}/invocation/next")
    conn = http.client.HTTPConnection(*api.address.split(":"), timeout=10)
    conn.request("POST", f"{BASE}/invocation/{inv.request_id}/response", body=iter([b"ab", b"cd"]),
                 headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
    assert conn.getresponse().status == 202
    assert inv.body == b"abcd"


def test_init_error_only_before_the_first_next_and_unknown_paths_are_404(api):
    body = b'{"errorMessage":"m","errorType":"E","stackTrace":[]}'
    assert request(api, "POST", f"{BASE}/init/error", body)[0].status == 202
    assert request(api, "GET", f"{BASE}/invocation/nxt")[0].status == 404
    assert request(api, "POST", "/2018-06-11/runtime/invocation/x/response", b"")[0].status == 404
    assert request(api, "GET", f"{BASE}/invocation/next/")[0].status == 404
    assert request(api, "PUT", f"{BASE}/init/error", body)[0].status == 404
    api.queue(Invocation(b"{}"))
    request(api, "GET", f"{BASE}/invocation/next")
    assert request(api, "POST", f"{BASE}/init/error", body)[0].status == 403
    api.new_init_phase()
    assert request(api, "POST", f"{BASE}/init/error", b"plain")[0].status == 202
    posted = [r for r in api.records if r.endpoint == "init/error"]
    assert [(r.status, r.why) for r in posted] == [
        (202, ""), (403, "the init phase is over (the first next ended it)"),
        (202, "is plain text, not the error JSON")]
    assert all(r.at > 0 for r in api.records)


def test_an_event_is_not_lost_to_a_client_that_went_away(api):
    sock = http.client.HTTPConnection(*api.address.split(":"), timeout=10)
    sock.request("GET", f"{BASE}/invocation/next")
    assert api.wait(lambda: any(r.endpoint == "next" for r in api.records), 5)
    sock.close()                                   # the runtime died while polling
    time.sleep(0.1)
    inv = Invocation(b"{}")
    api.queue(inv)
    resp, _ = request(api, "GET", f"{BASE}/invocation/next")
    assert resp.getheader("Lambda-Runtime-Aws-Request-Id") == inv.request_id


PROBE = '''
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail " + context.aws_request_id)
    return {"ok": event["n"], "id": context.aws_request_id}
'''


def test_awslambdaric_answers_success_and_failure_as_on_lambda(api, tmp_path):
    pytest.importorskip("awslambdaric", reason="awslambdaric has no wheel for this platform")
    (tmp_path / "probe.py").write_text(PROBE)
    ok, bad = Invocation(b'{"n": 1}', timeout=10), Invocation(b'{"n": 2, "fail": true}', timeout=10)
    api.queue(ok)
    api.queue(bad)
    env = {"PATH": os.environ.get("PATH", ""), "AWS_LAMBDA_RUNTIME_API": api.address,
           "LAMBDA_TASK_ROOT": str(tmp_path), "_HANDLER": "probe.handler",
           "AWS_LAMBDA_FUNCTION_NAME": "f", "AWS_LAMBDA_FUNCTION_VERSION": "1",
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}
    proc = subprocess.Popen([sys.executable, "-m", "awslambdaric", "probe.handler"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert api.wait(lambda: ok.outcome is not None and bad.outcome is not None, 30), \
            proc.stdout.read1(65536) if proc.poll() is not None else "awslambdaric did not answer"
        assert api.wait(lambda: sum(r.endpoint == "next" for r in api.records) == 3, 10)
        assert proc.poll() is None                  # it loops: the third next is being held
    finally:
        proc.kill()
        proc.wait(10)
    assert ok.outcome == "response" and json.loads(ok.body) == {"ok": 1, "id": ok.request_id}
    assert bad.outcome == "error" and bad.error_body_problem == ""
    error = json.loads(bad.body)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == f"asked to fail {bad.request_id}"
    assert isinstance(error["stackTrace"], list) and error["stackTrace"]
    assert error.get("requestId") in (None, bad.request_id)
