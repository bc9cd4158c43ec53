"""`bootlint verify` runs bootstraps for real against the local Runtime API: the examples, the
Python trio, bad input, the command line, and the differential test against `check`.

Every run happens once, in parallel threads, in the module's first fixture (each run is mostly
waiting on its bootstrap), with short deadlines.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile
from bootlint.verify import static_model, verify
from bootlint.verify.observe import STATIC_CAUSES
from bootlint.verify.probe import plan
from bootlint.verify.sandbox import find as sandbox_find
from conftest import FIXTURES, ROOT, deployment, run_cli

# These tests run bootstraps for real: child processes.
pytestmark = [pytest.mark.subprocess, pytest.mark.slow]

TIMEOUT = 3.0   # generous for a loaded machine: only a runtime that hangs waits it out
EXAMPLES = {name: ROOT / "examples" / name for name in ("tutorial", "tutorial-no-loop", "fixed")}
PYTHON = {name: FIXTURES / "verify" / name for name in ("python-tutorial", "python-no-loop", "python-fixed")}


_package = deployment


NEVER_NEXT = "#!/bin/sh\nwhile true; do sleep 0.05; done\n"
FLOOD = ("#!/bin/bash\nset -u\nyes 'flood flood flood flood' | head -c 3000000 >&2\n"
         "API=\"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\"\n"
         "while true; do\n  curl -sS -D \"$TMPDIR/h\" -o \"$TMPDIR/e\" \"$API/invocation/next\"\n"
         "  ID=$(grep -i lambda-runtime-aws-request-id \"$TMPDIR/h\" | tr -d '[:space:]' | cut -d: -f2)\n"
         "  curl -sS -o /dev/null --data-binary @\"$TMPDIR/e\" \"$API/invocation/$ID/response\"\ndone\n")
# Leaves two daemons behind: one in its process group, one in a session of its own.
DAEMON = "#!/bin/bash\nsleep 3141 &\nsetsid sleep 3142 &\nexit 3\n"
# Posts a plain-text error, a response over 6 MB, an unknown endpoint and a made-up request id.
RUDE = ("#!/bin/bash\nAPI=\"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\"\n"
        "while true; do\n  curl -sS -D \"$TMPDIR/h\" -o /dev/null \"$API/invocation/next\"\n"
        "  ID=$(grep -i lambda-runtime-aws-request-id \"$TMPDIR/h\" | tr -d '[:space:]' | cut -d: -f2)\n"
        "  curl -sS -o /dev/null -d 'x' \"$API/invocation/nxt\"\n"
        "  curl -sS -o /dev/null -d 'x' \"$API/invocation/not-an-id/response\"\n"
        "  head -c 6291457 /dev/zero | curl -sS -o /dev/null --data-binary @- \"$API/invocation/$ID/response\"\n"
        "  curl -sS -o /dev/null -d 'it broke' \"$API/invocation/$ID/error\"\ndone\n")


# Answers its first event, then waits on something else forever.
HANGS = ("#!/bin/bash\nAPI=\"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\"\n"
         "curl -sS -D \"$TMPDIR/h\" -o /dev/null \"$API/invocation/next\"\n"
         "ID=$(grep -i lambda-runtime-aws-request-id \"$TMPDIR/h\" | tr -d '[:space:]' | cut -d: -f2)\n"
         "curl -sS -o /dev/null -d '{}' \"$API/invocation/$ID/response\"\nexec sleep 30\n")


def _runnable(path: Path, language: str, text: str, probe) -> bool:
    """Whether this machine can run the fixture: a Python one's imports all exist here (or are
    the handler the probe supplies)."""
    if language != "python":
        return True
    supplied = {name[:-3].replace("/", ".") for name in probe.files}
    for node in ast.walk(ast.parse(text)):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
        for name in names:
            if name not in supplied and importlib.util.find_spec(name.split(".")[0]) is None:
                return False
    return True


def _may_load_a_handler(file: Path) -> bool:
    """A cheap look before building the model: the file is a runtime that loads code (most
    fixtures are fragments that never do)."""
    text = file.read_text(encoding="utf-8", errors="replace")
    if "invocation/next" not in text:
        return False
    if file.suffix == ".py" or "python" in text.split("\n", 1)[0]:
        return "import" in text
    return "_HANDLER" in text or ".sh" in text


@functools.cache
def differential_cases() -> list[Path]:
    """Every fixture verify applies to: a runtime whose handler the probe can stand in for,
    runnable here (built when a test needs it, not when the module is collected)."""
    out = []
    for path in (sorted(FIXTURES.glob("*/BL*/*")) + list(EXAMPLES.values())
                 + sorted(p for p in (FIXTURES / "verify").iterdir() if p.is_dir())):
        file = path / "bootstrap" if path.is_dir() else path
        if not _may_load_a_handler(file):
            continue
        model, language, text = static_model(str(file), "bootstrap")
        probe = plan(model, text, None)
        if probe is not None and _runnable(file, language, text, probe):
            out.append(path)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """name -> VerifyResult, every run at once."""
    bwrap, why = sandbox_find()
    if bwrap is None:
        pytest.skip(f"no sandbox for bootlint verify here: {why}")
    tmp = tmp_path_factory.mktemp("verify")
    # The Python bootstraps run `python3` from PATH: the interpreter running the tests.
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + old_path
    jobs = {}
    for path in differential_cases():
        target = path
        if path.is_file():   # a fixture file: deployed as `bootstrap`, alone in its folder
            target = _package(tmp, f"d-{path.parent.parent.name}-{path.parent.name}-{path.stem}",
                              path.read_text())
        jobs[str(path)] = (target, {})
    jobs["not-executable"] = (_package(tmp, "noexec", (EXAMPLES["fixed"] / "bootstrap").read_text(), 0o644), {})
    jobs["never-next"] = (_package(tmp, "never", NEVER_NEXT), {"timeout": 1.0})
    jobs["flood"] = (_package(tmp, "flood", FLOOD), {"events": [b'{"n":1}']})
    jobs["daemon"] = (_package(tmp, "daemon", DAEMON), {"events": [b"{}"]})
    fixed = (EXAMPLES["fixed"] / "bootstrap").read_text()
    stale = fixed.replace('export _X_AMZN_TRACE_ID="$TRACE_ID"',
                          'if [ -z "${_X_AMZN_TRACE_ID:-}" ]; then export _X_AMZN_TRACE_ID="$TRACE_ID"; fi')
    assert stale != fixed
    jobs["stale-trace"] = (_package(tmp, "stale", stale), {})
    jobs["hangs"] = (_package(tmp, "hangs", HANGS), {"events": [b"{}", b"{}"], "timeout": 1.5})
    jobs["rude"] = (_package(tmp, "rude", RUDE), {"events": [b"{}"]})
    zipped = tmp / "function.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for name in ("bootstrap", "function.sh"):
            info = zipfile.ZipInfo(name)
            info.create_system, info.external_attr = 3, (0o100755 if name == "bootstrap" else 0o100644) << 16
            archive.writestr(info, (EXAMPLES["tutorial"] / name).read_text())
    jobs["zip"] = (zipped, {})
    user_event = tmp / "event.json"
    user_event.write_text('{"hello": "world"}')
    jobs["user-events"] = (EXAMPLES["tutorial"], {"events": [user_event.read_bytes()] * 2})
    jobs["no-loop-user-events"] = (EXAMPLES["tutorial-no-loop"], {"events": [b"{}", b"{}"]})
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            futures = {name: pool.submit(verify, str(target), **{"timeout": TIMEOUT, **kwargs})
                       for name, (target, kwargs) in jobs.items()}
            results = {name: future.result() for name, future in futures.items()}
    finally:
        os.environ["PATH"] = old_path
    results["_tmp"] = tmp
    return results


def codes(result) -> list[str]:
    return sorted({f.code for f in result.findings})


def test_tutorial_shows_the_failing_event_killing_the_runtime_unreported(runs):
    result = runs[str(EXAMPLES["tutorial"])]
    assert codes(result) == ["BL101", "BL102", "BL103", "BL201", "BL301"]
    by_code = {f.code: f for f in result.findings}
    assert all(f.message.startswith("observed: ") for f in result.findings)
    assert "failing invocation 2 ended the process (exit status 1; its last error line: bootlint probe" in by_code["BL101"].message
    assert (by_code["BL101"].span.line, by_code["BL101"].span.column) == (17, 14)   # where check puts it
    assert "never posted to /error" in by_code["BL102"].message
    assert "no _X_AMZN_TRACE_ID in invocations 1, 3" in by_code["BL201"].message
    assert [o.new_starts for o in result.timeline.outcomes] == [1, 0, 1]


def test_tutorial_without_its_loop_starts_once_per_event(runs):
    result = runs[str(EXAMPLES["tutorial-no-loop"])]
    assert "BL001" in codes(result)
    bl001 = next(f for f in result.findings if f.code == "BL001")
    assert "after answering invocation 1 instead of asking for the next event: 3 starts for 3 events" in bl001.message
    assert result.timeline.main_starts == 3
    assert [o.after for o in result.timeline.outcomes] == ["exited", "", "exited"]


@pytest.mark.parametrize("name", ["fixed", "python-fixed"])
def test_the_fixed_runtimes_show_nothing(runs, name):
    path = EXAMPLES.get(name) or PYTHON[name]
    result = runs[str(path)]
    assert result.probe_used and result.findings == []
    timeline = result.timeline
    assert [o.invocation.outcome for o in timeline.outcomes] == ["response", "error", "response"]
    assert timeline.main_starts == 1 and [o.after for o in timeline.outcomes] == ["next"] * 3
    assert timeline.init_run.posted.status == 202 and timeline.init_run.after_post == "exited"
    # The probe saw each invocation's own trace id.
    traces = [o.invocation.trace_id for o in timeline.outcomes]
    assert [timeline.probes[n]["trace"] for n in (1, 2, 3)] == traces and len(set(traces)) == 3
    assert all(o.overhead is not None and o.overhead < TIMEOUT for o in timeline.outcomes)
    assert timeline.init_times and all(0 < t < TIMEOUT for t in timeline.init_times)


def test_python_tutorial_and_no_loop(runs):
    tutorial = runs[str(PYTHON["python-tutorial"])]
    assert codes(tutorial) == ["BL101", "BL102", "BL103", "BL201"]
    assert "exit status 1; its last error line: RuntimeError: bootlint probe" in \
        next(f for f in tutorial.findings if f.code == "BL101").message
    no_loop = runs[str(PYTHON["python-no-loop"])]
    assert codes(no_loop) == ["BL001", "BL103"]
    assert no_loop.timeline.main_starts == 3


def test_a_bootstrap_that_is_not_executable_is_not_run(runs):
    result = runs["not-executable"]
    assert [(f.code, f.span.line) for f in result.findings] == [("BL403", 1)]
    assert "the run was not attempted" in result.findings[0].message
    assert result.timeline is None


def test_a_bootstrap_that_never_asks_for_an_event_is_reported_after_the_timeout(runs):
    result = runs["never-next"]
    assert codes(result) == ["BL501"]
    assert "did not ask for an event" in result.findings[0].message
    assert {o.ended for o in result.timeline.outcomes} == {"init-timeout"}


def test_a_flood_of_output_is_capped(runs):
    result = runs["flood"]
    assert codes(result) == []
    start = result.timeline.starts[0]
    assert len(start.stderr.kept) == 64 * 1024 and start.stderr.total == 3_000_000
    assert any("2,934,464 more bytes on stderr" in line for line in result.log)
    assert result.timeline.outcomes[0].invocation.body == b'{"n":1}'


def test_daemons_are_killed_with_the_run(runs):
    result = runs["daemon"]
    assert codes(result) == ["BL504"]
    assert "during initialisation" in result.findings[0].message and "exit status 3" in result.findings[0].message
    leftovers = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd[:2] in ([b"sleep", b"3141"], [b"sleep", b"3142"]):
                leftovers.append(int(entry))
    assert leftovers == []


def test_a_trace_id_set_only_once_is_seen_stale(runs):
    result = runs["stale-trace"]
    assert [f.code for f in result.findings] == ["BL201"]
    assert "saw a stale trace id in invocation 3 (that of invocation 1)" in result.findings[0].message


def test_a_runtime_that_stops_asking_is_reported_after_the_deadline(runs):
    result = runs["hangs"]
    assert [o.ended for o in result.timeline.outcomes] == ["answered", "init-timeout"]
    assert result.timeline.outcomes[0].after == "idle"
    assert [f.code for f in result.findings] == ["BL501"]
    assert "within 1.5 s of being sent it, after answering the one before; invocation 2" in result.findings[0].message


def test_protocol_errors_the_api_refused(runs):
    result = runs["rude"]
    messages = {f.code: f.message for f in result.findings}
    # The 413 closed the invocation (Function.ResponseSizeTooLarge): the /error after it is
    # refused, and is no finding of its own (its cause is the BL502).
    assert codes(result) == ["BL003", "BL005", "BL502"]
    assert "POST /2018-06-01/runtime/invocation/nxt was answered 404" in messages["BL003"]
    assert "unknown request id 'not-an-id'" in messages["BL005"]
    assert messages["BL502"] == ("observed: invocation 1: the response is 6,291,457 bytes, over the 6 MB "
                                 "limit (Lambda answers 413 and the invocation fails with "
                                 "Function.ResponseSizeTooLarge)")
    assert result.timeline.outcomes[0].invocation.failure == "Function.ResponseSizeTooLarge"


def test_a_zip_is_extracted_and_run(runs):
    result = runs["zip"]
    assert result.display.endswith("function.zip!bootstrap")
    assert codes(result) == codes(runs[str(EXAMPLES["tutorial"])])


def test_user_events_run_the_users_handler_with_protocol_checks_only(runs):
    result = runs["user-events"]
    # The tutorial leaves a temp file per invocation: TMPDIR is watched whichever handler runs.
    assert not result.probe_used and codes(result) == ["BL301"]
    assert [o.invocation.outcome for o in result.timeline.outcomes] == ["response", "response"]
    # The tutorial's own handler echoed the event.
    assert result.timeline.outcomes[0].invocation.body == b"""Echoing request: '{"hello": "world"}'"""


def test_the_seed_experiment_two_events_two_starts(runs):
    """The tutorial without its loop, with the user's own handler: each event needs a new process."""
    result = runs["no-loop-user-events"]
    assert codes(result) == ["BL001"]
    assert "3 starts" not in result.findings[0].message
    assert "instead of asking for the next event: 2 starts for 2 events" in result.findings[0].message
    assert [o.new_starts for o in result.timeline.outcomes] == [1, 1]


def test_an_init_error_the_runtime_goes_on_after_is_bl104(runs):
    result = runs[str(FIXTURES / "verify" / "shell-init-error-goes-on")]
    assert [(f.code, f.span.line) for f in result.findings] == [("BL104", 9)]
    assert "went on (it asked for an event)" in result.findings[0].message
    assert result.timeline.init_run.posted.status == 202


@pytest.mark.parametrize("language,text,files", [
    ("shell", '#!/bin/bash\nsource ./function.sh\nwhile true; do\n'
              '  E=$(curl -sS "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next")\n'
              '  R=$(handler "$E")\n'
              '  curl -sS -d "$R" "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/x/response"\ndone\n',
     {"function.sh": ["handler"]}),
    ("shell", (EXAMPLES["tutorial"] / "bootstrap").read_text(), {"function.sh": ["handler"]}),
    ("python", '#!/usr/bin/env python3\nimport json, os, urllib.request\nfrom handler import handle\n'
               'API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"\n'
               'while True:\n    r = urllib.request.urlopen(API + "/invocation/next")\n'
               '    out = handle(json.loads(r.read()))\n'
               '    urllib.request.urlopen(API + "/invocation/x/response", data=json.dumps(out).encode())\n',
     {"handler.py": ["handle"]}),
    ("python", (PYTHON["python-fixed"] / "bootstrap").read_text(), {"function.py": ["handler"]}),
])
def test_the_probe_takes_the_name_the_model_shows(tmp_path, language, text, files):
    path = tmp_path / "bootstrap"
    path.write_text(text)
    model, found, source = static_model(str(path), "bootstrap")
    probe = plan(model, source, None)
    assert found == language and probe is not None and probe.files == files
    # A different _HANDLER moves the tutorial's probe, not a fixed name's.
    moved = plan(model, source, "app.run")
    assert moved.handler == "app.run"


# Observed codes that `check` is known to miss, each with its reason (for the rule's owner).
KNOWN_STATIC_GAPS = {
    # $ID is never assigned in this fragment: the run posts to `invocation//response` (400), and
    # BL005 does not see a request id variable that is never set.
    "tests/fixtures/shell/BL302/pass-literal-body-and-sourced-handler.sh": "BL005",
    # Thread workers keep the trace id in the invocation's context (BL703's advice: the
    # environment is the process's); the probe reads only the environment.
    "tests/fixtures/python/BL703/pass-trace-in-context.py": "BL201",
    "tests/fixtures/shell/BL107/fail-errexit-ends-function-first.sh": "BL005",
}


def test_differential_no_code_observed_that_check_missed(runs):
    """A code observed at run time that `check` does not report is a static false negative and
    fails; a static finding that the run did not show is listed (a run sees one scenario)."""
    assert len(differential_cases()) >= 10
    missed, unconfirmed = [], []
    for path in differential_cases():
        result = runs[str(path)]
        file = path / "bootstrap" if path.is_dir() else path
        static = {f.code for f in lint_source(SourceFile.from_bytes("bootstrap", file.read_bytes()),
                                              Selection()).findings}
        if static & {"BL701", "BL704"}:
            # More workers than Lambda's one invocation at a time (BL701), or a parent that exits
            # while they serve (BL704): against single-concurrency Lambda they race, and what the
            # run shows besides varies from run to run; the static finding is the cause, and the
            # run must only not break (it did not, above).
            continue
        for f in result.findings:
            causes = STATIC_CAUSES.get(f.code)
            if KNOWN_STATIC_GAPS.get(str(path.relative_to(ROOT))) == f.code:
                continue
            if causes is not None and not static & set(causes):
                missed.append(f"{path.relative_to(ROOT)}: {f.code} {f.message}")
        observed = {f.code for f in result.findings}
        for code in sorted(static & set(STATIC_CAUSES) - observed):
            unconfirmed.append(f"{path.relative_to(ROOT)}: {code}")
    print("static findings the run did not show (listed, not failed):", *unconfirmed, sep="\n  ")
    assert missed == []


def test_the_command_line_prints_every_format_with_checks_exit_codes(tmp_path):
    if sandbox_find()[0] is None:
        pytest.skip(f"no sandbox for bootlint verify here: {sandbox_find()[1]}")
    bootstrap = _package(tmp_path, "t", (EXAMPLES["tutorial"] / "bootstrap").read_text(),
                         extra={"function.sh": ""})
    sarif = tmp_path / "out.sarif"
    env = {"PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    # (a deadline far above what the tutorial needs: nothing here waits it out, and a loaded
    # machine must not turn a slow start into a BL501 that is not in the list below)
    proc = run_cli("verify", str(bootstrap), "--timeout", "15", "--format", "json",
                   "--output-file", str(sarif), env=env)
    assert proc.returncode == 1
    found = json.loads(proc.stdout)
    assert [(d["code"], d["line"]) for d in found] == [
        ("BL103", 6), ("BL301", 11), ("BL201", 13), ("BL101", 17), ("BL102", 20)]
    stderr = proc.stderr.decode()
    assert "it executes the bootstrap" in stderr and "init " in stderr and "overhead " in stderr
    assert json.loads(sarif.read_text())["runs"][0]["results"][0]["ruleId"] == "BL103"
    noexec = _package(tmp_path, "n", "#!/bin/sh\n", 0o644)
    refused = run_cli("verify", str(noexec), "-q", "--format", "concise")   # nothing runs: quick
    assert refused.returncode == 1 and b"[BL403]" in refused.stdout and refused.stderr == b""
    assert run_cli("verify", str(noexec), "--exit-zero", "-q").returncode == 0
    missing = run_cli("verify", str(tmp_path / "nope"))
    assert missing.returncode == 2 and b"no such file or folder" in missing.stderr
    assert b"Traceback" not in missing.stderr


def test_check_still_never_runs_the_bootstrap(tmp_path):
    marker = tmp_path / "RAN"
    folder = _package(tmp_path, "p", f"#!/bin/sh\ntouch {marker}\n")
    proc = run_cli("check", "--no-cache", str(folder))
    assert proc.returncode in (0, 1) and not marker.exists()


def test_every_reporter_of_check_renders_verify_findings(runs):
    from bootlint.report import FORMATS, Run, render
    from bootlint.rules import all_rules

    result = runs[str(EXAMPLES["tutorial"])]
    rules = [r for code, r in all_rules().items() if code in codes(result)]
    for fmt in FORMATS:
        text = render(fmt, Run(result.findings, [result.display], rules=rules))
        assert "BL101" in text and "observed: the failing invocation 2" in text.replace("\\n", "\n"), fmt
    full = render("full", Run(result.findings, [result.display], rules=rules))
    assert '17 |   RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")' in full


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_last_error_line_skips_curls_progress_meter(tmp_path):
    """A runtime whose curl has no -s writes the progress meter to stderr: the exit is described
    by the line before it, not by a row of transfer numbers (real curl, a local file)."""
    from bootlint.verify.process import last_meaningful_line

    (tmp_path / "body").write_text("x" * 5000)
    meter = subprocess.run(["curl", "-o", os.devnull, (tmp_path / "body").as_uri()],
                           capture_output=True, text=True, timeout=30).stderr
    assert "% Total" in meter and meter.strip()
    assert last_meaningful_line("handler: boom\n" + meter) == "handler: boom"
    assert last_meaningful_line(meter) == ""
    assert last_meaningful_line("BOOTLINT-PROBE x\nreal error 100 200\n") == "real error 100 200"
