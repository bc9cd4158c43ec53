"""The seed experiment: the AWS tutorial bootstrap, with and without its loop, and the fixed one."""

from __future__ import annotations

from conftest import ROOT, lint_text

TUTORIAL = ROOT / "examples" / "tutorial" / "bootstrap"
NO_LOOP = ROOT / "examples" / "tutorial-no-loop" / "bootstrap"
FIXED = ROOT / "examples" / "fixed" / "bootstrap"


def test_tutorial_bootstrap():
    assert lint_text(TUTORIAL.read_bytes()) == [
        ("BL103", 6, 1),     # source of the handler file, no /init/error
        ("BL301", 11, 14),   # HEADERS="$(mktemp)" in the loop, never removed
        ("BL201", 13, 47),   # the next request: no _X_AMZN_TRACE_ID
        ("BL101", 17, 14),   # the handler call under set -e, unguarded
        ("BL102", 20, 16),   # posts /response, never /error
        ("BL302", 20, 103),  # -d "$RESPONSE": the response on curl's command line
    ]


def test_tutorial_without_its_loop_adds_missing_event_loop():
    assert lint_text(NO_LOOP.read_bytes()) == [
        ("BL103", 6, 1),
        ("BL301", 11, 14),
        ("BL001", 13, 47),
        ("BL201", 13, 47),
        ("BL101", 17, 14),
        ("BL102", 20, 16),
        ("BL302", 20, 103),
    ]


def test_fixed_runtime_is_clean():
    assert lint_text(FIXED.read_bytes()) == []
