"""``bootlint verify --stream``: play a streaming caller (a function URL in `RESPONSE_STREAM`
mode, `InvokeWithResponseStream`) and report how the response arrives, with the static codes
(BL6xx).

A probe handler that produces its result in three parts, half a second apart, stands in for
the handler (a generator in Python, three writes in shell); the second invocation fails after
its first part. For each invocation the run notes when the first and the last byte of the
response arrived after the invocation began, whether the body was chunked, and the error
trailers (the base64 Error-Body decoded). Observed: a streaming-mode response whose first byte
arrives only with the last part (BL603), a mode other than `streaming` (400, BL601), `/error`
after the first byte (refused, BL605), an Error-Body trailer that is not base64 (BL604).
"""

from __future__ import annotations

import time

from bootlint.diagnostics import Finding, Span
from bootlint.model import Endpoint
from bootlint.verify.emulator.server import Invocation, new_trace_id
from bootlint.verify.scenario import probe_event

START = Span(1, 1, 1, 1)
PAUSE = 0.5                 # seconds between the probe's parts
PARTS = 3
# The probe's parts span this long: a body whose first byte comes within half a pause of its last,
# that late, was read whole before it was sent (a measure of spacing, not of speed: load shifts
# every arrival alike).
SPAN = PAUSE * (PARTS - 1)

SHELL_STREAM_PROBE = """\
# bootlint verify's streaming probe handler: three parts, half a second apart; fails after the first
# when the event asks.
_bootlint_stream() {{
  if [ $# -eq 0 ]; then set -- "$(cat)"; fi
  _bootlint_n=$(printf '%s' "${{1-}}" | sed -n 's/.*"bootlint-probe": *\\([0-9]*\\).*/\\1/p')
  printf '{{"bootlint-probe":%s,"part":1}}\\n' "${{_bootlint_n:-0}}"
  case "${{1-}}" in
    *'"fail"'*) echo "bootlint probe: this invocation fails after its first part" >&2; return 1 ;;
  esac
  sleep {pause}
  printf '{{"bootlint-probe":%s,"part":2}}\\n' "${{_bootlint_n:-0}}"
  sleep {pause}
  printf '{{"bootlint-probe":%s,"part":3}}\\n' "${{_bootlint_n:-0}}"
}}
{names}"""

PYTHON_STREAM_PROBE = '''\
"""bootlint verify's streaming probe handler: a generator of three parts, half a second apart;
it fails after the first when the event asks."""
import json as _json
import time as _time


def _probe(event=None, context=None, *args, **kwargs):
    if isinstance(event, (bytes, bytearray)):
        text = bytes(event).decode("utf-8", "replace")
    else:
        text = event if isinstance(event, str) else _json.dumps(event)
    try:
        number = int(_json.loads(text).get("bootlint-probe", 0))
    except Exception:
        number = 0

    def parts():
        yield (_json.dumps({{"bootlint-probe": number, "part": 1}}) + "\\n").encode()
        if '"fail"' in text:
            raise RuntimeError("bootlint probe: this invocation fails after its first part")
        for part in range(2, {parts} + 1):
            _time.sleep({pause})
            yield (_json.dumps({{"bootlint-probe": number, "part": part}}) + "\\n").encode()

    return parts()


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _probe


{names}
'''


def templates() -> dict:
    from bootlint.verify.probe import PYTHON_BROKEN, SHELL_BROKEN

    return {
        "shell": (lambda names: SHELL_STREAM_PROBE.format(
            pause=PAUSE, names="".join(f'{f}() {{ _bootlint_stream "$@"; }}\n' for f in names)), SHELL_BROKEN),
        "python": (lambda names: PYTHON_STREAM_PROBE.format(
            pause=PAUSE, parts=PARTS, names="\n".join(f"{f} = _probe" for f in names)), PYTHON_BROKEN),
    }


def run_streaming(result, launch: dict, model, probe, timeout: float, marker: str) -> None:
    """One process, two invocations from a streaming caller; adds findings and log lines."""
    from bootlint.verify.emulator.concurrent import ConcurrentApi
    from bootlint.verify.process import Start

    observations: list[tuple[str, str]] = []
    with ConcurrentApi(1) as api:
        launch = dict(launch)
        launch["env"] = {**launch["env"], "AWS_LAMBDA_RUNTIME_API": api.address}
        result.log.insert(0, f"verify: running {result.display} for a streaming caller against a local "
                             f"Runtime API at {api.address} (it executes the bootstrap)")
        start = Start(1, **launch)
        invocations: list[Invocation] = []
        try:
            api.wait(lambda: api.init_over or not start.alive, timeout)
            if not api.init_over:
                result.log.append(f"  init: the process did not call next within {timeout:g} s: "
                                  f"{start.describe_exit()}")
                return
            for n, action in ((1, "succeed"), (2, "fail")):
                invocation = Invocation(probe_event(n, action), trace_id=new_trace_id(), timeout=timeout)
                invocations.append(invocation)
                api.queue(invocation)
                end = time.monotonic() + timeout + 1
                while invocation.outcome is None and start.alive and time.monotonic() < end:
                    api.expire(time.monotonic())
                    api.wait(lambda: invocation.outcome is not None or not start.alive, 0.05)
                api.expire(time.monotonic() + timeout + 1)
                if not start.alive:
                    api.fail_in_flight("Runtime.ExitError", time.monotonic())
                    break
                # An /error that follows the stream arrives just after it.
                api.wait(lambda: any(r.endpoint == "error" and r.request_id == invocation.request_id
                                     for r in api.records), 0.5)
        finally:
            start.kill(marker)
        for n, invocation in enumerate(invocations, start=1):
            result.log.append(_describe(n, api, invocation))
            observations.extend(_observe(n, api, invocation))
    _findings(result, model, observations)


def _timing(api, invocation):
    streamed = api.streams.get(invocation.request_id)
    if streamed is None or invocation.delivered_at is None or streamed.first_byte_at is None:
        return streamed, None, None
    return (streamed, streamed.first_byte_at - invocation.delivered_at,
            streamed.last_byte_at - invocation.delivered_at)


def _describe(n: int, api, invocation) -> str:
    streamed, first, last = _timing(api, invocation)
    what = invocation.outcome if invocation.outcome != "closed" else invocation.failure
    line = f"  invocation {n}: {what or 'not sent'}"
    if first is not None:
        line += (f"; first byte after {first:.2f} s, last after {last:.2f} s, "
                 f"{'chunked' if streamed.chunked else 'one body'} in {len(streamed.parts)} read(s)")
    if streamed is not None and streamed.trailers:
        names = ", ".join(sorted(streamed.trailers))
        line += f"; trailers: {names}"
        body = streamed.error_body()
        if body:
            line += f"; error body: {body[:120]}"
    return line


def _observe(n: int, api, invocation) -> list[tuple[str, str]]:
    out = []
    records = [r for r in api.records if r.request_id == invocation.request_id]
    response = next((r for r in records if r.endpoint == "response"), None)
    mode = response.headers.get("lambda-runtime-function-response-mode", "") if response else ""
    if response is not None and response.error == "InvalidResponseModeHeader":
        out.append(("BL601", f"observed: invocation {n}'s response was refused with 400 "
                             f"(Lambda-Runtime-Function-Response-Mode: {mode[:40]}) and the invocation "
                             f"failed (Runtime.InvalidResponseModeHeader)"))
    streamed, first, last = _timing(api, invocation)
    if mode == "streaming" and first is not None and n == 1 and last - first < PAUSE / 2 \
            and last >= SPAN * 0.9:
        out.append(("BL603", f"observed: the first byte of invocation {n}'s streamed response arrived "
                             f"{first:.2f} s after it began, with the last ({last:.2f} s): the handler "
                             f"wrote its first part at once, so the body was read whole before it was sent"))
    late_error = next((r for r in records if r.endpoint == "error" and r.status == 403
                       and "streamed response has begun" in r.why), None)
    if late_error is not None:
        out.append(("BL605", f"observed: invocation {n}'s failure was posted to /error after its streamed "
                             f"response had begun, and refused (403): the failure is lost"))
    if streamed is not None and streamed.error_body().startswith("(not base64)"):
        out.append(("BL604", f"observed: invocation {n}'s Lambda-Runtime-Function-Error-Body trailer is not "
                             f"base64 (`{streamed.trailers.get('lambda-runtime-function-error-body', '')[:60]}`)"))
    return out


def _findings(result, model, observations) -> None:
    from bootlint.rules import all_rules

    rules = all_rules()
    posts = getattr(model, "streaming", None) if model is not None else None
    nexts = model.api_calls(Endpoint.RESPONSE) if model is not None else []
    seen = set()
    for code, message in observations:
        if code in seen:
            continue
        seen.add(code)
        span = nexts[0].span if nexts else START
        if posts is not None and posts.posts:
            post = posts.posts[0]
            span = {"BL601": post.mode.span, "BL603": post.body_span or post.span}.get(code, post.span)
        rule = rules[code]
        result.findings.append(Finding(rule.code, rule.name, rule.severity, message, result.display, span))
    result.observed = observations
