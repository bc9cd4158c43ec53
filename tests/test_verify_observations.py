"""`bootlint verify` reports what happened, and only that: a runtime that reports its init
failure and exits is right; an exit after /error is BL101; double posts and double `next` are
said as such (BL505), once per cause; the failing run's last error line is the end of its output;
AWS's own runtime client (awslambdaric) is clean for success, failure and import failure.

Every run happens once, in parallel threads, in the module's fixture.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bootlint.verify import verify
from bootlint.verify.process import EnvironmentProblem
from bootlint.verify.sandbox import find as sandbox_find
from conftest import deployment

NEXT = ('  curl -sS -D /tmp/h -o /tmp/e "$API/invocation/next"\n'
        "  ID=$(grep -i lambda-runtime-aws-request-id /tmp/h | tr -d '[:space:]' | cut -d: -f2)\n"
        "  export _X_AMZN_TRACE_ID=$(grep -i lambda-runtime-trace-id /tmp/h | tr -d '[:space:]' | cut -d: -f2)\n")
HEAD = '#!/bin/bash\nAPI="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"\n'
RESPOND = '    printf \'%s\' "$OUT" | curl -sS -o /dev/null --data-binary @- "$API/invocation/$ID/response"\n'
ERROR = ('    curl -sS -o /dev/null "$API/invocation/$ID/error" '
         '-d \'{"errorMessage":"handler failed","errorType":"HandlerError","stackTrace":[]}\'\n')

# The careful runtime: the handler file and function from parameter expansions of _HANDLER.
CAREFUL = (HEAD + "set -euo pipefail\n"
           'HANDLER_FILE="$LAMBDA_TASK_ROOT/${_HANDLER%%.*}.sh"\n'
           'HANDLER_FN="${_HANDLER#*.}"\n'
           'if [ ! -f "$HANDLER_FILE" ] || ! source "$HANDLER_FILE"; then\n'
           '  curl -sS -o /dev/null "$API/init/error" -d \'{"errorMessage":"cannot load \'"$_HANDLER"\'",'
           '"errorType":"Runtime.HandlerNotFound","stackTrace":[]}\'\n'
           "  exit 1\nfi\n"
           "while true; do\n" + NEXT +
           '  if OUT=$("$HANDLER_FN" "$(cat /tmp/e)"); then\n' + RESPOND + "  else\n" + ERROR + "  fi\ndone\n")
# The same with `cut` and `awk` splits of _HANDLER, and the function run by its computed name.
SPLITS = (HEAD + 'FILE=$(echo "$_HANDLER" | cut -d. -f1)\n'
          "FN=$(echo \"$_HANDLER\" | awk -F. '{print $2}')\n"
          'source "$LAMBDA_TASK_ROOT/$FILE.sh" || { curl -sS -o /dev/null "$API/init/error" '
          '-d \'{"errorMessage":"no handler","errorType":"Runtime.HandlerNotFound","stackTrace":[]}\'; exit 1; }\n'
          "while true; do\n" + NEXT +
          '  if OUT=$($FN "$(cat /tmp/e)"); then\n' + RESPOND + "  else\n" + ERROR + "  fi\ndone\n")
# Posts /error, then exits: an ERR-trap style runtime.
EXITS_AFTER_ERROR = (HEAD + 'source "$LAMBDA_TASK_ROOT/function.sh" || { curl -sS -o /dev/null "$API/init/error" '
                     '-d \'{"errorMessage":"no handler","errorType":"E","stackTrace":[]}\'; exit 1; }\n'
                     "while true; do\n" + NEXT +
                     '  if OUT=$(handler "$(cat /tmp/e)"); then\n' + RESPOND + "  else\n" + ERROR +
                     "    exit 1\n  fi\ndone\n")
# /response, then /error for the same id.
TWICE = (HEAD + "while true; do\n" + NEXT + "  OUT=ok\n" + RESPOND.replace("    ", "  ")
         + ERROR.replace("    ", "  ") + "done\n")
# A second `next` in each iteration (the first one's answer is lost track of).
DOUBLE_NEXT = (HEAD + "while true; do\n" + NEXT + '  curl -sS -o /dev/null "$API/invocation/next"\n'
               "  OUT=ok\n" + RESPOND.replace("    ", "  ") + "done\n")
# Prints 300 KB (an echoed event) and then why it fails, then exits during the invocation.
LOUD = (HEAD + NEXT.replace("  ", "") + "head -c 300000 /dev/zero | tr '\\0' e >&2\necho >&2\n"
        'echo "bash: /usr/bin/curl: Argument list too long" >&2\nexit 1\n')
# Leaves one temp file per invocation (no probe: the user's events).
LEAKS = HEAD + "while true; do\n" + NEXT + '  T=$(mktemp)\n  OUT=ok\n' + RESPOND.replace("    ", "  ") + "done\n"
# Runs the handler as a program named by _HANDLER, once per event.
PROGRAM = (HEAD + "while true; do\n" + NEXT +
           '  if OUT=$("$LAMBDA_TASK_ROOT/$_HANDLER" "$(cat /tmp/e)"); then\n' + RESPOND + "  else\n" + ERROR
           + "  fi\ndone\n")
# No loop, and a slow exit: it answers, then takes longer than the wait after an answer to exit.
SLOW_EXIT = HEAD + NEXT.replace("  ", "") + "OUT=ok\n" + RESPOND.replace("    ", "") + "sleep 2.5\n"
HANDOVER = '#!/bin/sh\nexec python3 -m awslambdaric "$_HANDLER"\n'
PROBE_FIXED = "handler() { echo ok; }\n"


def _folder(tmp: Path, name: str, text: str, extra: dict | None = None) -> Path:
    return deployment(tmp, name, text, extra=extra)


HAS_RIC = importlib.util.find_spec("awslambdaric") is not None
# The sandbox gives the bootstrap a private, empty /tmp (as Lambda's): a virtual environment under
# /tmp, with the awslambdaric the hand-over runs, is not there for it.
RIC_REACHABLE = HAS_RIC and not os.path.realpath(sys.prefix).startswith("/tmp/")
RIC_SKIP = ("awslambdaric is not installed (no wheel for this platform)" if not HAS_RIC else
            "this virtual environment is under /tmp, which verify's sandbox replaces by an empty one")

# These tests run bootstraps for real: child processes.
pytestmark = pytest.mark.subprocess


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    bwrap, why = sandbox_find()
    if bwrap is None:
        pytest.skip(f"no sandbox for bootlint verify here: {why}")
    tmp = tmp_path_factory.mktemp("observe")
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + old_path
    jobs = {
        "careful": (_folder(tmp, "careful", CAREFUL), {}),
        "careful-no-handler": (_folder(tmp, "careful-nh", CAREFUL), {"events": [b"{}", b"{}"]}),
        "splits": (_folder(tmp, "splits", SPLITS), {}),
        "exits-after-error": (_folder(tmp, "eae", EXITS_AFTER_ERROR), {}),
        "twice": (_folder(tmp, "twice", TWICE), {"events": [b"{}", b"{}"]}),
        "double-next": (_folder(tmp, "dnext", DOUBLE_NEXT), {"events": [b"{}", b"{}"]}),
        "loud": (_folder(tmp, "loud", LOUD), {"events": [b"{}"]}),
        "program": (_folder(tmp, "program", PROGRAM), {}),
        "leaks": (_folder(tmp, "leaks", LEAKS), {"events": [b"{}", b"{}", b"{}"]}),
        "slow-exit": (_folder(tmp, "slow-exit", SLOW_EXIT), {"events": [b"{}", b"{}"], "timeout": 2.0}),
    }
    if HAS_RIC:
        jobs["ric"] = (_folder(tmp, "ric", HANDOVER), {})
        jobs["ric-import-error"] = (_folder(tmp, "ric-ie", HANDOVER), {"events": [b"{}"]})
    try:
        with ThreadPoolExecutor(max_workers=5) as pool:
            futures = {name: pool.submit(verify, str(target), **{"timeout": 10.0, **kwargs})
                       for name, (target, kwargs) in jobs.items()}
            return {name: future.result() for name, future in futures.items()}
    finally:
        os.environ["PATH"] = old_path


def codes(result) -> list[str]:
    return sorted({f.code for f in result.findings})


@pytest.mark.parametrize("name", ["careful", "splits"])
def test_the_probe_reaches_handlers_named_by_expansions_and_splits_of_handler(runs, name):
    result = runs[name]
    assert result.probe_used and codes(result) == []
    assert [o.invocation.outcome for o in result.timeline.outcomes] == ["response", "error", "response"]
    assert result.timeline.init_run.posted.status == 202 and result.timeline.init_run.after_post == "exited"


def test_the_probe_runs_as_the_program_handler_names_and_there_is_no_init_run(runs):
    result = runs["program"]
    assert result.probe_used and codes(result) == []
    assert [o.invocation.outcome for o in result.timeline.outcomes] == ["response", "error", "response"]
    assert result.timeline.init_run is None


def test_an_exit_later_than_the_wait_after_an_answer_is_still_an_exit(runs):
    """On a slow machine the exit after an answer can come after the wait for it: the next
    invocation then finds the process gone, which is the same exit (BL001), not a clean run."""
    result = runs["slow-exit"]
    assert codes(result) == ["BL001"]
    assert [o.after for o in result.timeline.outcomes][0] == "exited"


# Runtimes in check's fixtures that mention _HANDLER but name no handler file the probe could be.
NO_HANDLER_FILE = {
    "tests/fixtures/python/BL104/fail-if-branch.py": "tests only whether _HANDLER is set",
}


def test_the_probe_reaches_every_fixture_runtime_that_names_its_handler_from_handler():
    from bootlint.model import Handover
    from bootlint.verify import static_model
    from bootlint.verify.probe import plan

    root = Path(__file__).resolve().parent.parent
    missed, reached = [], 0
    files = sorted(root.glob("tests/fixtures/*/*/*")) + sorted(root.glob("examples/*/bootstrap"))
    for path in files:
        text = path.read_text(errors="replace") if path.is_file() else ""
        if "_HANDLER" not in text or not text.startswith("#!"):
            continue   # not a runnable bootstrap without its shebang
        model, _, source = static_model(str(path), "bootstrap")
        if model is None or not (model.is_runtime or model.events(Handover)):
            continue
        name = str(path.relative_to(root))
        if plan(model, source, None) is None and name not in NO_HANDLER_FILE:
            missed.append(name)
        reached += 1
    assert missed == [] and reached >= 20


def test_tmpdir_growth_is_seen_with_the_users_own_events_too(runs):
    result = runs["leaks"]
    assert codes(result) == ["BL301"]
    assert "2 more entries in TMPDIR after 3 invocations than after the first (tmp." in result.findings[0].message


def test_init_error_then_exit_is_right_and_its_reason_is_shown(runs):
    result = runs["careful-no-handler"]
    assert codes(result) == []
    assert [o.ended for o in result.timeline.outcomes] == ["init-error", "init-error"]
    log = "\n".join(result.log)
    assert "the runtime reported an init error (Runtime.HandlerNotFound: cannot load function.handler)" in log
    assert "every start reported an init error and exited, as a runtime must" in log


def test_an_exit_after_posting_error_is_bl101(runs):
    result = runs["exits-after-error"]
    assert codes(result) == ["BL101"]
    assert result.findings[0].message == (
        "observed: the process exited (exit status 1; its last error line: bootlint probe: this "
        "invocation fails on purpose) after posting /error for invocation 2, instead of asking for "
        "the next event: one failed invocation costs a cold start")


def test_a_second_answer_for_one_invocation_is_said_once_for_all_invocations(runs):
    result = runs["twice"]
    assert [(f.code, f.message) for f in result.findings] == [(
        "BL505", "observed: /error was posted for invocations 1, 2 after its /response had been accepted: "
                 "one answer per invocation (answered 403 InvalidStateTransition)")]


def test_a_second_next_before_the_answer_is_said_as_such(runs):
    result = runs["double-next"]
    assert codes(result) == ["BL505"]
    assert result.findings[0].message == (
        "observed: invocations 1, 2 got a second `next` before being answered: the runtime asks for "
        "an event twice per iteration (or lost track of the open one); Lambda hands the same "
        "invocation out again")
    assert [o.invocation.outcome for o in result.timeline.outcomes] == ["response", "response"]


def test_the_last_error_line_is_the_end_of_the_output(runs):
    result = runs["loud"]
    assert codes(result) == ["BL504"]
    assert result.findings[0].message.endswith(
        "its last error line: bash: /usr/bin/curl: Argument list too long) during invocation 1 without "
        "answering it (Runtime.ExitError)")


@pytest.mark.skipif(not RIC_REACHABLE, reason=RIC_SKIP)
def test_awslambdaric_success_failure_and_init_run_are_clean(runs):
    result = runs["ric"]
    assert result.probe_used and codes(result) == []
    assert [o.invocation.outcome for o in result.timeline.outcomes] == ["response", "error", "response"]
    assert result.timeline.init_run.posted.status == 202 and result.timeline.init_run.after_post == "exited"


@pytest.mark.skipif(not RIC_REACHABLE, reason=RIC_SKIP)
def test_awslambdaric_import_failure_is_no_bl504(runs):
    result = runs["ric-import-error"]
    assert codes(result) == []
    assert [o.ended for o in result.timeline.outcomes] == ["init-error"]
    assert "Runtime.ImportModuleError: Unable to import module 'function'" in "\n".join(result.log)


@pytest.mark.skipif(shutil.which("aws-lambda-ric") is None,
                    reason="the Node runtime interface client (npm aws-lambda-ric) is not installed")
def test_the_node_client_handover_gets_a_javascript_probe(tmp_path):
    folder = _folder(tmp_path, "node", '#!/bin/sh\nexec npx --no-install aws-lambda-ric "$_HANDLER"\n')
    result = verify(str(folder), timeout=15.0)
    assert result.probe_used and codes(result) == []
    assert [o.invocation.outcome for o in result.timeline.outcomes] == ["response", "error", "response"]


def test_a_loopback_that_carries_no_connection_is_an_environment_error(tmp_path, monkeypatch):
    from bootlint.verify.emulator import server

    def refuse(*args, **kwargs):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(server.socket, "create_connection", refuse)
    folder = _folder(tmp_path, "fn", HEAD + "while true; do\n" + NEXT + "done\n")
    with pytest.raises(EnvironmentProblem, match="is the loopback interface down"):
        verify(str(folder), events=[b"{}"], sandbox=False)
