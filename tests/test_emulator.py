"""The local Runtime API against the documented protocol, with a plain HTTP client and with
AWS's own runtime interface client (awslambdaric) as a real runtime."""

from __future__ import annotations

import http.client
import json
import os
import socket
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


def _open(api, conn=None, event=b"{}"):
    """Queue an invocation and take it with `next`: the API is in state invoke."""
    inv = Invocation(event, timeout=5)
    api.queue(inv)
    resp, _ = request(api, "GET", f"{BASE}/invocation/next", conn=conn)
    assert resp.status == 200 and resp.getheader("Lambda-Runtime-Aws-Request-Id") == inv.request_id
    assert api.state == "invoke" and api.current is inv
    return inv


def _error(data: bytes) -> str:
    return json.loads(data)["errorType"]


# One test per transition of the invoke state machine (spec: runtime-api.md, "Invoke state machine").

def test_invoke_to_ready_by_response_or_error_202_on_one_kept_alive_connection(api):
    conn = http.client.HTTPConnection(*api.address.split(":"), timeout=10)
    first = _open(api, conn)
    assert request(api, "POST", f"{BASE}/invocation/{first.request_id}/response", b'"ok"', conn=conn)[0].status == 202
    assert api.state == "ready" and first.outcome == "response" and first.body == b'"ok"'
    second = _open(api, conn)
    documented = json.dumps({"errorMessage": "m", "errorType": "E", "stackTrace": ["a"]}).encode()
    resp, _ = request(api, "POST", f"{BASE}/invocation/{second.request_id}/error", documented,
                      {"Lambda-Runtime-Function-Error-Type": "Unhandled"}, conn=conn)
    assert resp.status == 202 and api.state == "ready"
    assert (second.outcome, second.error_type, second.error_body_problem) == ("error", "Unhandled", "")
    third = _open(api, conn)
    resp, _ = request(api, "POST", f"{BASE}/invocation/{third.request_id}/error", b"it broke", conn=conn)
    assert resp.status == 202 and third.error_type is None
    assert third.error_body_problem == "is plain text, not the error JSON"


@pytest.mark.parametrize("first,second", [("response", "response"), ("response", "error"),
                                          ("error", "response"), ("error", "error")])
def test_ready_a_second_answer_for_the_same_id_is_403_invalid_state_transition(api, first, second):
    inv = _open(api)
    assert request(api, "POST", f"{BASE}/invocation/{inv.request_id}/{first}", b"{}")[0].status == 202
    resp, data = request(api, "POST", f"{BASE}/invocation/{inv.request_id}/{second}", b"{}")
    assert (resp.status, _error(data)) == (403, "InvalidStateTransition")
    assert inv.outcome == first and api.records[-1].why == f"request {inv.request_id} was already answered (/{first})"


def test_ready_an_answer_with_no_invocation_open_is_403(api):
    api.queue(Invocation(b"{}"))
    resp, data = request(api, "POST", f"{BASE}/invocation/nope/response", b"x")
    assert (resp.status, _error(data)) == (403, "InvalidStateTransition")
    assert api.records[-1].why == "no invocation is open (the runtime has not been sent one by next)"


@pytest.mark.parametrize("rid", ["nope", ""])
def test_invoke_an_answer_for_another_id_is_400_and_the_invocation_stays_open(api, rid):
    inv = _open(api)
    resp, data = request(api, "POST", f"{BASE}/invocation/{rid}/response", b"x")
    assert (resp.status, _error(data)) == (400, "InvalidRequestID")
    assert api.state == "invoke" and inv.outcome is None
    assert request(api, "POST", f"{BASE}/invocation/{inv.request_id}/response", b"x")[0].status == 202


def test_invoke_a_response_over_6_mb_is_413_and_closes_the_invocation(api):
    inv = _open(api)
    resp, _ = request(api, "POST", f"{BASE}/invocation/{inv.request_id}/response", b"x" * (MAX_RESPONSE_BYTES + 1))
    assert resp.status == 413
    assert (inv.outcome, inv.failure, api.state) == ("closed", "Function.ResponseSizeTooLarge", "ready")
    assert inv.rejected[0][0] == 413
    resp, data = request(api, "POST", f"{BASE}/invocation/{inv.request_id}/response", b"x")
    assert (resp.status, _error(data)) == (403, "InvalidStateTransition")
    exactly = _open(api)
    resp, _ = request(api, "POST", f"{BASE}/invocation/{exactly.request_id}/response", b"x" * MAX_RESPONSE_BYTES)
    assert resp.status == 202 and exactly.body_size == MAX_RESPONSE_BYTES


@pytest.mark.parametrize("mode,status", [("buffered", 400), ("Streaming", 400), ("streaming", 202)])
def test_invoke_a_response_mode_other_than_streaming_is_400_and_closes_it(api, mode, status):
    inv = _open(api)
    resp, _ = request(api, "POST", f"{BASE}/invocation/{inv.request_id}/response", b"x",
                      {"Lambda-Runtime-Function-Response-Mode": mode})
    assert resp.status == status and api.state == "ready"
    assert inv.failure == ("Runtime.InvalidResponseModeHeader" if status == 400 else "")


def test_invoke_a_second_next_gets_the_same_invocation_again(api):
    inv = _open(api)
    resp, data = request(api, "GET", f"{BASE}/invocation/next")
    assert resp.status == 200 and resp.getheader("Lambda-Runtime-Aws-Request-Id") == inv.request_id
    assert data == b"{}" and inv.deliveries == 2 and api.state == "invoke"
    assert request(api, "POST", f"{BASE}/invocation/{inv.request_id}/response", b"x")[0].status == 202


def test_the_answers_are_single_writes_on_a_no_delay_socket(api, monkeypatch):
    from bootlint.verify.emulator import server

    seen = []
    original = server._Handler.setup

    def setup(self):
        original(self)
        write = self.wfile.write
        seen.append([self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)])
        self.wfile.write = lambda data, log=seen[-1]: (log.append(len(data)), write(data))[1]

    monkeypatch.setattr(server._Handler, "setup", setup)
    conn = http.client.HTTPConnection(*api.address.split(":"), timeout=10)
    inv = _open(api, conn, event=b'{"k": 1}')
    request(api, "POST", f"{BASE}/invocation/{inv.request_id}/response", b"x", conn=conn)
    nodelay, *writes = seen[0]
    assert nodelay != 0 and len(writes) == 2      # one write per answer: next's 200, the 202
    assert writes[1] > len(b'{"status":"OK"}') + 40


def test_a_chunked_response_is_read_whole(api):
    inv = Invocation(b"{}", timeout=5)
    api.queue(inv)
    request(api, "GET", f"{BASE}/invocation/next")
    conn = http.client.HTTPConnection(*api.address.split(":"), timeout=10)
    conn.request("POST", f"{BASE}/invocation/{inv.request_id}/response", body=iter([b"ab", b"cd"]),
                 headers={"Transfer-Encoding": "chunked"}, encode_chunked=True)
    assert conn.getresponse().status == 202
    assert inv.body == b"abcd"


def test_unknown_paths_are_404(api):
    assert request(api, "GET", f"{BASE}/invocation/nxt")[0].status == 404
    assert request(api, "POST", "/2018-06-11/runtime/invocation/x/response", b"")[0].status == 404
    assert request(api, "GET", f"{BASE}/invocation/next/")[0].status == 404
    assert request(api, "PUT", f"{BASE}/init/error", b"{}")[0].status == 404
    assert api.state == "init"


def test_init_to_init_error_then_next_and_a_second_init_error_are_403(api):
    body = b'{"errorMessage":"m","errorType":"E","stackTrace":[]}'
    assert request(api, "POST", f"{BASE}/init/error", body)[0].status == 202
    assert api.state == "init-error"
    api.queue(Invocation(b"{}"))
    resp, data = request(api, "GET", f"{BASE}/invocation/next")
    assert (resp.status, _error(data)) == (403, "InvalidStateTransition")
    assert request(api, "POST", f"{BASE}/init/error", body)[0].status == 403
    api.new_init_phase()
    assert request(api, "POST", f"{BASE}/init/error", b"plain")[0].status == 202
    posted = [r for r in api.records if r.endpoint == "init/error"]
    assert [(r.status, r.why) for r in posted] == [
        (202, ""), (403, "/init/error was already posted"), (202, "is plain text, not the error JSON")]


def test_init_error_after_the_first_next_is_403(api):
    inv = _open(api)
    resp, data = request(api, "POST", f"{BASE}/init/error", b"{}")
    assert (resp.status, _error(data)) == (403, "InvalidStateTransition")
    assert api.records[-1].why == "the init phase is over (the first next ended it)"
    request(api, "POST", f"{BASE}/invocation/{inv.request_id}/response", b"x")
    assert request(api, "POST", f"{BASE}/init/error", b"{}")[0].status == 403
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


@pytest.mark.subprocess
@pytest.mark.subprocess
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
