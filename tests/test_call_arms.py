"""BL002 and helpers that exit only for some arguments (`if [ "$1" = init/error ]; then exit 1;
fi`): each shape is run by real bash with the call the loop makes, and bootlint must report the
exit exactly when bash can take it from that call (or, where the argument is not known before
run time, keep reporting it)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

import pytest

from bootlint.engine import Selection, lint_source
from bootlint.analysis.matching import glob_pattern, literal_pattern, matches, substring_pattern
from bootlint.model import Piece
from bootlint.files.source import SourceFile

BASH = shutil.which("bash")
REQUEST_ID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"

BOOTSTRAP = """#!/bin/bash
API="http://${{AWS_LAMBDA_RUNTIME_API}}/2018-06-01/runtime"
helper() {{
  {body}
}}
while true; do
  EVENT=$(curl -sS -D /tmp/h "$API/invocation/next")
  ID=$(grep -Fi lambda-runtime-aws-request-id /tmp/h | tr -d '[:space:]' | cut -d: -f2)
  OUT=$(./handler "$EVENT")
  helper {args}
  curl -sS -X POST -d "$OUT" "$API/invocation/$ID/response"
done
"""


@dataclass(frozen=True)
class Shape:
    body: str
    args: str
    exits: bool                  # what bash does (checked below)
    reported: bool | None = None  # what bootlint says, when it is not `exits`

    @property
    def expect_report(self) -> bool:
        return self.exits if self.reported is None else self.reported


INVOCATION = '"invocation/$ID/error"'
SHAPES = [
    Shape('if [ "$1" = init/error ]; then exit 1; fi', INVOCATION, exits=False),
    Shape('if [ "$1" = init/error ]; then exit 1; fi', "init/error", exits=True),
    Shape('if [ "$1" = init/error ]; then :; else exit 1; fi', "init/error", exits=False),
    Shape('if [ "$1" = init/error ]; then :; else exit 1; fi', INVOCATION, exits=True),
    Shape('[ "$1" != init/error ] || exit 1', INVOCATION, exits=False),
    Shape('! [ "$1" = init/error ] || exit 1', INVOCATION, exits=False),
    Shape('[ $1 = init/error ] && exit 1', INVOCATION, exits=False),
    Shape('[[ $1 == *init* ]] && exit 1', INVOCATION, exits=False),
    Shape('[[ $1 == "init"/* || $1 == */init/* ]] && exit 1', INVOCATION, exits=False),
    Shape('[[ $1 == "*"error ]] && exit 1', INVOCATION, exits=False),
    Shape('[[ $1 == *error ]] && exit 1', INVOCATION, exits=True),
    Shape('case "$1" in init/*) exit 1 ;; esac', INVOCATION, exits=False),
    Shape('case "$1" in *error) exit 1 ;; esac', INVOCATION, exits=True),
    Shape('case "$1" in init/error) : ;& x) exit 1 ;; esac', INVOCATION, exits=False),
    Shape('case "$1" in init/error) : ;& x) exit 1 ;; esac', "init/error", exits=True),
    Shape('case "$1" in *) : ;;& *error) exit 1 ;; esac', INVOCATION, exits=True),
    Shape('case "$1" in *) : ;; *error) exit 1 ;; esac', INVOCATION, exits=False),
    Shape('local kind=$2; [ "$kind" = init ] && exit 1', 'x invocation', exits=False),
    Shape('[ "${2:-no}" = yes ] && exit 1', 'x', exits=False),
    Shape('[ "${2:-no}" = yes ] && exit 1', 'x yes', exits=True),
    Shape('[ -z "$1" ] && exit 1', INVOCATION, exits=False),
    # A helper passing its parameter on to another one that tests it.
    Shape('inner() { [ "$1" = init ] && exit 1; return 0; }; inner "$2"', 'x invocation', exits=False),
    Shape('inner() { [ "$1" = init ] && exit 1; return 0; }; inner "$2"', 'x init', exits=True),
    # Guard clauses: the arm the call takes returns, so what follows the branch does not run.
    Shape('[ "$1" = init/error ] || return 0; exit 1', INVOCATION, exits=False),
    Shape('[ "$1" = init/error ] || return 0; exit 1', "init/error", exits=True),
    Shape('[ "$1" = init/error ] && return 0; exit 1', INVOCATION, exits=True),
    Shape('if [ "$1" != init/error ]; then echo; return 0; fi; exit 1', INVOCATION, exits=False),
    Shape('if [ "$1" = init/error ]; then :; else return 0; fi; exit 1', INVOCATION, exits=False),
    Shape('case "$1" in init/*) ;; *) return 0 ;; esac; exit 1', INVOCATION, exits=False),
    Shape('case "$1" in init/*) ;; *) return 0 ;; esac; exit 1', "init/error", exits=True),
    Shape('case "$1" in init/*) return 0 ;; esac; exit 1', INVOCATION, exits=True),
    Shape('case "$1" in invocation/*) return 0 ;; esac; exit 1', INVOCATION, exits=False),
    Shape('[[ $1 == */error ]] && return 0; exit 1', INVOCATION, exits=False),
    Shape('[[ $1 == invocation/*/response ]] && return 0; exit 1', INVOCATION, exits=True),
    # Not known before run time: reported (bash, with $KIND unset, does not exit).
    Shape('[ "$1" = init ] && exit 1', '"$KIND"', exits=False, reported=True),
    Shape('[[ $1 =~ ^init ]] && exit 1', INVOCATION, exits=False, reported=True),
]


def _bash_exits(shape: Shape, tmp_path) -> bool:
    script = tmp_path / "run.sh"
    script.write_text(f"helper() {{\n  {shape.body}\n}}\nID={REQUEST_ID}\n"
                      f"helper {shape.args}\necho alive\n")
    proc = subprocess.run([BASH, str(script)], capture_output=True, timeout=10)
    return b"alive" not in proc.stdout


@pytest.mark.skipif(BASH is None, reason="bash is not installed: its behaviour cannot be checked")
def test_bash_does_what_the_shapes_say(tmp_path):
    assert [(s.body, s.args, _bash_exits(s, tmp_path)) for s in SHAPES] == \
        [(s.body, s.args, s.exits) for s in SHAPES]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s.body} <- {s.args}")
def test_bl002_reports_the_exit_only_when_the_call_can_take_it(shape):
    text = BOOTSTRAP.format(body=shape.body, args=shape.args)
    result = lint_source(SourceFile.from_bytes("bootstrap", text.encode()), Selection(("BL002",), (), ()))
    lines = [f.span.line for f in result.findings if f.code == "BL002"]
    assert lines == ([4] if shape.expect_report else []), lines


def _value(*parts: str) -> list[tuple[Piece, ...]]:
    """One reading: literal text, and `$NAME` for a piece unknown until run time."""
    return [tuple(Piece(var=p[1:]) if p.startswith("$") else Piece(text=p) for p in parts)]


@pytest.mark.parametrize("value, pattern, ids, answer", [
    (_value("invocation/", "$ID", "/error"), literal_pattern("init/error"), (), False),
    (_value("invocation/", "$ID", "/error"), substring_pattern("init/error", end=True), (), None),
    (_value("invocation/", "$ID", "/error"), substring_pattern("init/error", end=True), ("ID",), False),
    (_value("invocation/", "$ID", "/error"), substring_pattern("/error", end=True), ("ID",), True),
    (_value("$X"), literal_pattern(""), (), None),
    (_value("init/error"), glob_pattern([("init/[!x]rror", False)]), (), True),
    (_value("init/*"), glob_pattern([("init/", False), ("*", True)]), (), True),
    (_value("init/x"), glob_pattern([("init/", False), ("*", True)]), (), False),
    (_value("a"), glob_pattern([("@(a|b)", False)]), (), None),
    (_value("invocation/", "$ID", "/error"), glob_pattern([("invocation/*", False)]), (), True),
    (_value("invocation/", "$ID", "/error"), glob_pattern([("*tion/*/err*", False)]), (), True),
    (_value("invocation/", "$ID", "/error"), glob_pattern([("invocation/?*", False)]), (), None),
    (_value("a", "$A", "c", "$B", "b"), glob_pattern([("a*b*c", False)]), (), False),
    (_value("a", "$A", "b", "$B", "c"), glob_pattern([("a*b*c", False)]), (), True),
])
def test_a_partly_known_value_matches_only_what_it_can(value, pattern, ids, answer):
    assert matches(value, pattern, frozenset(ids)) is answer


PY_BOOTSTRAP = '''import os, sys, requests
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
INIT_ERROR, FATAL = "init/error", ("init", "boot")
def helper({params}):
    {body}
while True:
    r = requests.get(API + "/invocation/next")
    rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
    helper({args})
    requests.post(f"{{API}}/invocation/{{rid}}/response", json=r.json())
'''


@pytest.mark.parametrize("params, body, args, reported", [
    ("path", 'if path == "init/error": sys.exit(1)', 'f"invocation/{rid}/error"', False),
    ("path", 'if path == "init/error": sys.exit(1)', '"init/error"', True),
    ("path", 'if path != "init/error": return\n    sys.exit(1)', '"invocation/" + rid + "/error"', False),
    ("path", 'if path.startswith(("init", "boot")): sys.exit(1)', '"invocation/%s/error" % rid', False),
    ("path", 'if path.endswith("init/error"): raise SystemExit(1)', 'f"invocation/{rid}/error"', False),
    ("path", 'if path.endswith("/error"): raise SystemExit(1)', 'f"invocation/{rid}/error"', True),
    ("path", 'if "init" in path or path is None: os._exit(1)', 'path=f"invocation/{rid}/error"', False),
    ("path, kind=None", 'if kind in ("init", "boot"): sys.exit(1)', 'rid', False),
    ("path, kind=None", 'if kind in ("init", "boot"): sys.exit(1)', 'rid, kind="init"', True),
    ("path, fatal=False", 'if fatal: sys.exit(1)', 'rid', False),
    ("path, fatal=False", 'if fatal: return\n    sys.exit(1)', 'rid', True),
    ("path", 'path = path.lstrip("/")\n    if path == "init/error": sys.exit(1)', 'f"invocation/{rid}/error"', True),
    ("path", 'if path == "init/error": sys.exit(1)', 'os.environ["KIND"]', True),
    ("path", 'if path.startswith("invocation/"): return\n    sys.exit(1)', 'f"invocation/{rid}/error"', False),
    ("path", 'if "/error" not in path: return\n    sys.exit(1)', 'f"invocation/{rid}/error"', True),
    ("path", 'if path == INIT_ERROR: sys.exit(1)', 'f"invocation/{rid}/error"', False),
    ("path", 'if path == INIT_ERROR: sys.exit(1)', 'INIT_ERROR', True),
    ("kind", 'if kind in FATAL: sys.exit(1)', '"invocation"', False),
    ("kind", 'if kind in FATAL: sys.exit(1)', '"boot"', True),
    ("path", 'path += "/error"\n    if path == "init/error": sys.exit(1)', '"init"', True),
    ("path", 'for path in ("init/error",): pass\n    if path == "init/error": sys.exit(1)', 'rid', True),
])
def test_python_helpers_are_judged_per_call(params, body, args, reported):
    text = PY_BOOTSTRAP.format(params=params, body=body, args=args)
    result = lint_source(SourceFile.from_bytes("bootstrap.py", text.encode()), Selection(("BL002",), (), ()))
    assert [f.code for f in result.findings] == (["BL002"] if reported else []), text


def test_folding_is_bounded_per_file_and_shared_between_equal_calls(monkeypatch):
    """Many calls of a helper with many tests: calls with the same arguments are folded once,
    and folding stops at MAX_FOLDS (later calls rule nothing out)."""
    from bootlint.analysis.call_arms import MAX_FOLDS
    from bootlint.frontends.shell.conditions import Conditions

    folds = []
    real = Conditions.ruled_out
    monkeypatch.setattr(Conditions, "ruled_out", lambda self, node, frame: folds.append(1) or real(self, node, frame))
    tests = "".join(f'  [ "$1" = k{i} ] && exit 1\n' for i in range(50))

    def lint(calls: str) -> None:
        text = BOOTSTRAP.replace("  {body}\n", tests).replace("  helper {args}\n", calls).format()
        folds.clear()
        lint_source(SourceFile.from_bytes("bootstrap", text.encode()), Selection(("BL002",), (), ()))

    lint('  helper "invocation/$ID/error"\n' * 100)
    assert len(folds) == 50
    lint("".join(f'  helper k{i}\n' for i in range(2 * MAX_FOLDS // 50)))
    assert len(folds) == MAX_FOLDS
