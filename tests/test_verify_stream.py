"""`bootlint verify --stream`: a streaming caller. A probe handler writes its result in three
parts half a second apart; the run shows when the response's bytes arrive (real curl, real bash)
and reads the error trailers."""

from __future__ import annotations

import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bootlint.verify import verify
from bootlint.verify.sandbox import find as sandbox_find
from conftest import ROOT, deployment, lint_text

RUNTIME = """#!/bin/bash
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
source "$LAMBDA_TASK_ROOT/$(echo "$_HANDLER" | cut -d. -f1).sh"
HANDLER=$(echo "$_HANDLER" | cut -d. -f2)
while true; do
  HEADERS=$(mktemp)
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  export _X_AMZN_TRACE_ID=$(grep -i '^Lambda-Runtime-Trace-Id:' "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$HEADERS"
  "$HANDLER" "$EVENT" | curl -sS -H 'Lambda-Runtime-Function-Response-Mode: MODE' \\
    -H 'Transfer-Encoding: chunked' BODY "$API/invocation/$ID/response"
done
"""
WHOLE = RUNTIME.replace("MODE", "streaming").replace("BODY", "--data-binary @-")
UPLOAD = RUNTIME.replace("MODE", "streaming").replace("BODY", "-X POST -T -")
BAD_MODE = RUNTIME.replace("MODE", "Streaming").replace("BODY", "-X POST -T -")
# pipefail: the handler's failure after its first part makes the pipeline fail, then /error.
ERROR_AFTER = UPLOAD.replace("#!/bin/bash\n", "#!/bin/bash\nset -o pipefail\n").replace(
    '"$API/invocation/$ID/response"\n',
    '"$API/invocation/$ID/response" ||\n'
    '    curl -sS --data-binary \'{"errorMessage":"failed","errorType":"E"}\' "$API/invocation/$ID/error"\n')


def _folder(tmp: Path, name: str, text: str) -> Path:
    return deployment(tmp, name, text, extra={"function.sh": "handler() { echo '{}'; }\n"})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    bwrap, why = sandbox_find()
    if bwrap is None:
        pytest.skip(f"no sandbox for bootlint verify here: {why}")
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    tmp = tmp_path_factory.mktemp("stream")
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + old_path
    jobs = {name: _folder(tmp, name, text) for name, text in
            (("whole", WHOLE), ("upload", UPLOAD), ("bad-mode", BAD_MODE), ("error-after", ERROR_AFTER))}
    example = tmp / "python"
    shutil.copytree(ROOT / "examples" / "streaming", example)
    jobs["python"] = example
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {name: pool.submit(verify, str(path), timeout=3.0, stream=True) for name, path in jobs.items()}
            return {name: future.result() for name, future in futures.items()}
    finally:
        os.environ["PATH"] = old_path


def codes(result) -> list[str]:
    return sorted({f.code for f in result.findings})


def _first_last(result, n: int) -> tuple[float, float, int]:
    line = next(line for line in result.log if line.startswith(f"  invocation {n}: "))
    first = float(line.split("first byte after ", 1)[1].split(" s", 1)[0])
    last = float(line.split("last after ", 1)[1].split(" s", 1)[0])
    reads = int(line.split(" in ", 1)[1].split(" read", 1)[0])
    return first, last, reads


def test_data_binary_stdin_gets_bl603_from_check_and_its_first_byte_arrives_at_the_end(runs):
    assert ("BL603", 12, 37) in lint_text(WHOLE)
    result = runs["whole"]
    assert codes(result) == ["BL603"]
    [finding] = result.findings
    assert (finding.span.line, finding.span.column) == (12, 37)
    first, last, reads = _first_last(result, 1)
    assert first >= 0.9 and last - first < 0.1 and reads == 1     # parts written over 1 s: none before the end


def test_upload_from_stdin_streams_each_part_as_it_is_written(runs):
    assert "BL603" not in [c for c, _, _ in lint_text(UPLOAD)]
    result = runs["upload"]
    assert codes(result) == []
    first, last, reads = _first_last(result, 1)
    assert last - first >= 0.9 and reads == 3     # one read per part, half a second apart


def test_a_mode_other_than_streaming_is_400_and_fails_the_invocation(runs):
    assert ("BL601", 11, 37) in lint_text(BAD_MODE)
    result = runs["bad-mode"]
    assert codes(result) == ["BL601"]
    assert result.findings[0].message.startswith("observed: invocation 1's response was refused with 400 "
                                                 "(Lambda-Runtime-Function-Response-Mode: Streaming)")
    assert result.log[2].startswith("  invocation 1: Runtime.InvalidResponseModeHeader")


def test_error_after_the_first_byte_is_refused(runs):
    assert "BL605" in [c for c, _, _ in lint_text(ERROR_AFTER)]
    result = runs["error-after"]
    assert codes(result) == ["BL605"]
    assert "posted to /error after its streamed response had begun, and refused (403)" in result.findings[0].message


def test_the_python_streaming_example_streams_and_reports_failure_in_trailers(runs):
    result = runs["python"]
    assert result.probe_used and codes(result) == []
    first, last, reads = _first_last(result, 1)
    assert last - first >= 0.9 and reads == 3
    second = next(line for line in result.log if line.startswith("  invocation 2: "))
    assert "trailers: lambda-runtime-function-error-body, lambda-runtime-function-error-type" in second
    assert 'error body: {"errorMessage": "bootlint probe: this invocation fails after its first part", ' \
           '"errorType": "RuntimeError"' in second
