"""Every fix the Python front end carries out, applied to a runtime that needs it and then run for
real by `bootlint verify` (a probe handler that succeeds, fails, then succeeds): the fixed
runtime answers each invocation, posts the failing one to /invocation/{id}/error and goes on to
the next event in the same process.

One runtime per fix request type, in tests/fix_verify/python/ (whole runtimes, not fragments:
they run). Every fix the file gets is applied (`--fix --unsafe-fixes`), as a user would; the
test checks that the fix of the type under test was among them and that its rule no longer
reports.
"""

from __future__ import annotations

import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile
from bootlint.fixes import requests as want
from bootlint.fixes.apply import fix_source
from bootlint.rules import all_rules
from conftest import ROOT

RUNTIMES = ROOT / "tests" / "fix_verify" / "python"
# The runtime, the request type it needs, and the rule whose finding it fixes there (a request
# type may have one runtime per client whose fix is spelt its own way).
CASES = {
    "guard-handler-call.py": (want.GuardHandlerCall, "BL101"),
    "guard-handler-call-http-client.py": (want.GuardHandlerCall, "BL101"),
    "post-caught-failure.py": (want.PostCaughtFailure, "BL102"),
    "export-trace-id.py": (want.ExportTraceId, "BL201"),
    "drop-next-timeout.py": (want.DropNextTimeout, "BL006"),
    "drop-next-timeout-aiohttp.py": (want.DropNextTimeout, "BL006"),
    "read-api-host.py": (want.ReadApiHost, "BL004"),
    "wrap-event-loop.py": (want.WrapEventLoop, "BL001"),
    "exit-after-init-error.py": (want.ExitAfterInitError, "BL104"),
}
TIMEOUT = 3.0


def _title_prefix(kind) -> str:
    """The fixed words a fix of this type's title starts with (before any placeholder)."""
    return kind.title.split("{", 1)[0]


def _lint(src: SourceFile):
    return lint_source(src, Selection((), (), tuple(all_rules())))


def _fixed(path) -> tuple[bytes, list, list]:
    """(the fixed bytes, the findings before, the findings after)."""
    src = SourceFile.from_bytes("bootstrap", path.read_bytes())
    before = _lint(src)
    out = fix_source(src, _lint, unsafe=True, first=before)
    assert not out.internal_error and not out.stuck, (path.name, out.findings)
    return out.raw, before.findings, out.findings


@pytest.fixture(scope="module")
def fixed_runs(tmp_path_factory):
    """runtime name -> (VerifyResult, findings before, findings after), all runs at once."""
    from bootlint.verify import verify
    from bootlint.verify.sandbox import find

    if find()[0] is None:
        pytest.skip("bubblewrap is not installed: bootlint verify runs a bootstrap only in its sandbox")
    tmp = tmp_path_factory.mktemp("fixed")
    old_path = os.environ.get("PATH", "")
    # The runtimes run `python3` from PATH: the interpreter running the tests, which has requests.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + old_path
    jobs = {}
    try:
        for name in CASES:
            raw, before, after = _fixed(RUNTIMES / name)
            folder = tmp / name.removesuffix(".py")
            folder.mkdir()
            (folder / "bootstrap").write_bytes(raw)
            os.chmod(folder / "bootstrap", 0o755)
            jobs[name] = (folder, before, after)
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {name: pool.submit(verify, str(folder), timeout=TIMEOUT)
                       for name, (folder, _, _) in jobs.items()}
            return {name: (futures[name].result(), jobs[name][1], jobs[name][2]) for name in jobs}
    finally:
        os.environ["PATH"] = old_path


def test_every_python_fix_has_a_runtime_to_verify():
    from bootlint.frontends.python.fixes import IMPLEMENTATIONS  # libcst: when the test runs

    assert {kind for kind, _ in CASES.values()} == set(IMPLEMENTATIONS)
    assert all((RUNTIMES / name).is_file() for name in CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_the_fixed_runtime_posts_the_failure_and_goes_on(fixed_runs, name):
    result, before, after = fixed_runs[name]
    kind, code = CASES[name]
    # The fix under test was offered for its rule's finding, and that finding is gone.
    offered = [f for f in before if f.code == code and f.fix is not None]
    assert offered and offered[0].fix.title.startswith(_title_prefix(kind)), (name, before)
    assert code not in {f.code for f in after}, (name, after)
    # Run for real: success, failure, success, all answered by one process, the failure to /error.
    outcomes = [(o.label, o.ended, o.invocation.outcome if o.ended == "answered" else None)
                for o in result.timeline.outcomes]
    assert outcomes == [("success", "answered", "response"), ("failure", "answered", "error"),
                        ("success", "answered", "response")], (name, result.log)
    assert result.timeline.main_starts == 1, (name, result.log)
    observed = {f.code for f in result.findings}
    assert not observed & {"BL001", "BL101", "BL102", "BL501", code}, (name, result.log, observed)


def test_the_init_error_fix_makes_the_runtime_exit_after_reporting(fixed_runs):
    result, _, _ = fixed_runs["exit-after-init-error.py"]
    run = result.timeline.init_run
    assert run is not None and run.posted is not None and run.after_post == "exited", result.log
    assert "BL104" not in {f.code for f in result.findings}, result.log


def test_the_unfixed_guard_case_is_what_the_fix_is_for(tmp_path):
    """The runtime the guard fix is tested on fails as its findings say when it is not fixed:
    the failing invocation kills it (BL101) and is never posted to /error."""
    from bootlint.verify import verify
    from bootlint.verify.sandbox import find

    if find()[0] is None:
        pytest.skip("bubblewrap is not installed")
    folder = tmp_path / "unfixed"
    folder.mkdir()
    shutil.copy(RUNTIMES / "guard-handler-call.py", folder / "bootstrap")
    os.chmod(folder / "bootstrap", 0o755)
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + old_path
    try:
        result = verify(str(folder), timeout=TIMEOUT)
    finally:
        os.environ["PATH"] = old_path
    assert "BL101" in {f.code for f in result.findings}, result.log
    assert not any(o.ended == "answered" and o.invocation.outcome == "error" for o in result.timeline.outcomes)
