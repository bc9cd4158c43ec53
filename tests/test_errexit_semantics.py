"""Errexit and ERR traps as bash runs them: each shape below is run by real bash (and dash for
`#!/bin/sh` where it is installed) with a handler that fails, and bootlint's BL101 ("the runtime
dies") and BL107 ("the ERR trap never reports it") must agree with what the shell did. The
shapes come from idioms.md and runtime-api.md fact 6."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile

BASH = shutil.which("bash")
DASH = shutil.which("dash")

TEMPLATE = """{shebang}
{options}
API="http://${{AWS_LAMBDA_RUNTIME_API}}/2018-06-01/runtime"
trap 'echo TRAP >&2' ERR
{functions}
{loop}
  EVENT=$(curl -sS "$API/invocation/next")
  {body}
  printf '%s' "$OUT" | curl -sS --data-binary @- "$API/invocation/$ID/response"
done
echo END >&2
"""


@dataclass(frozen=True)
class Shape:
    name: str
    body: str
    options: str = ""
    functions: str = ""
    shebang: str = "#!/bin/bash"
    trap_runs: bool = False      # what the shell does, written down (and checked below)
    dies: bool = False
    handled: bool = False        # the script handles the failure itself: nothing for a trap to miss

    def text(self, loop: str) -> str:
        return TEMPLATE.format(shebang=self.shebang, options=self.options, functions=self.functions,
                               loop=loop, body=self.body)


HANDLER = 'OUT=$(./handler <<< "$EVENT")'
POST = 'curl -sS --data-binary @- "$API/invocation/$ID/response"'
SHAPES = [
    # The main shell: the trap runs for `OUT=$(handler)`, then errexit ends the shell.
    Shape("assignment in the main shell, set -e", HANDLER, options="set -e", trap_runs=True, dies=True),
    Shape("assignment in the main shell, set -o errexit", HANDLER, options="set -o errexit",
          trap_runs=True, dies=True),
    Shape("assignment in the main shell, no errexit", HANDLER, trap_runs=True),
    # A function called directly: the trap is not inherited; errexit ends the shell inside it.
    Shape("function called directly, set -e", "process", options="set -e",
          functions=f"process() {{ {HANDLER}; }}", dies=True),
    Shape("function called directly, errexit on the shebang", "process", shebang="#!/bin/bash -e",
          functions=f"process() {{ {HANDLER}; }}", dies=True),
    Shape("function whose last command is the handler, no errexit", "process",
          functions=f"process() {{ {HANDLER}; }}", trap_runs=True),
    Shape("function that goes on after the handler, no errexit", "process",
          functions=f"process() {{ {HANDLER}; echo done >&2; }}"),
    Shape("errtrace: the trap is inherited", "process", options="set -eE",
          functions=f"process() {{ {HANDLER}; }}", trap_runs=True, dies=True),
    # A function that only runs in `$(...)`: bash clears errexit there, POSIX mode keeps it.
    Shape("bash: $(...) clears errexit, the function checks the status itself",
          'OUT=$(run "$EVENT")', options="set -e",
          functions='run() { ./handler <<< "$1"; echo "rc=$?"; }'),
    Shape("bash: $(...) clears errexit, the handler is the function's last command",
          'OUT=$(run "$EVENT")', options="set -e",
          functions='run() { echo start >&2; ./handler <<< "$1"; }', trap_runs=True, dies=True),
    Shape("bash with inherit_errexit: $(...) keeps errexit", 'OUT=$(run "$EVENT")',
          options="set -e\nshopt -s inherit_errexit",
          functions='run() { ./handler <<< "$1"; echo "rc=$?"; }', trap_runs=True, dies=True),
    Shape("bash with set -o posix: $(...) keeps errexit", 'OUT=$(run "$EVENT")',
          options="set -o posix\nset -e",
          functions='run() { ./handler <<< "$1"; echo "rc=$?"; }', trap_runs=True, dies=True),
    Shape("#!/bin/sh: POSIX mode keeps errexit in $(...)", 'OUT=$(run "$EVENT")',
          shebang="#!/bin/sh", options="set -e",
          functions='run() { ./handler "$1"; echo "rc=$?"; }', trap_runs=True, dies=True),
    # A pipeline element that is not the last: its status is dropped without pipefail.
    Shape("pipeline element, no pipefail", f"./handler <<< \"$EVENT\" | {POST}", options="set -e"),
    Shape("pipeline element, pipefail", f"./handler <<< \"$EVENT\" | {POST}",
          options="set -euo pipefail", trap_runs=True, dies=True),
]
# Issue 21: the per-event work wherever it runs. A redirection inside `$(...)` hides nothing; a
# program whose output is not posted still ends the runtime; a background job's failure does not.
SHAPES += [
    Shape("redirection inside the substitution: 2>&1", 'OUT=$(./handler <<< "$EVENT" 2>&1)',
          options="set -e", trap_runs=True, dies=True),
    Shape("redirection inside the substitution: 2>/tmp/err", 'OUT=$(./handler "$EVENT" 2>/tmp/err)',
          shebang="#!/bin/sh", options="set -e", trap_runs=True, dies=True),
    Shape("a program run per event whose output is not posted", './handler "$EVENT" > /dev/null\n  OUT={}',
          options="set -e", trap_runs=True, dies=True),
    Shape("a program run per event, sh", './handler "$EVENT" > /dev/null\n  OUT={}',
          shebang="#!/bin/sh", options="set -e", trap_runs=True, dies=True),
    # (bash does not run the ERR trap inside the background job: BL107 says it is never reached)
    Shape("the handler in a background job", '{ OUT=$(./handler "$EVENT"); } &\n  wait',
          options="set -e"),
    Shape("a function with exit in a background job", 'process &\n  wait\n  OUT={}',
          options="set -e", functions='process() { ./handler "$EVENT"; exit 1; }'),
]
# A background job's status reaches the shell through the `wait` that returns it: `wait "$pid"`,
# `wait $!`, `wait -n` and the last of several operands; `wait` alone returns 0, and so does a
# `wait` whose last operand is another job. Under errexit that `wait` ends the shell as the
# handler's call would; `if wait ...` guards it.
JOB = './handler "$EVENT" > ./out.json &'
SHAPES += [
    Shape("a background handler waited for by its PID", f'{JOB}\n  pid=$!\n  wait "$pid"\n  OUT=$(cat ./out.json)',
          options="set -e", trap_runs=True, dies=True),
    Shape("a background handler waited for by its PID, sh", f'{JOB}\n  pid=$!\n  wait "$pid"\n  OUT=$(cat ./out.json)',
          shebang="#!/bin/sh", options="set -e", trap_runs=True, dies=True),
    Shape("wait $! as the condition of an if",
          f'printf %s "$EVENT" | ./handler > ./out.json &\n  if wait $!; then OUT=$(cat ./out.json); else OUT=failed; fi',
          options="set -e", handled=True),
    Shape("wait $! on the left of ||", f'{JOB}\n  wait $! || OUT=failed',
          options="set -e", handled=True),
    Shape("wait without operands returns 0", f'{JOB}\n  wait\n  OUT=$(cat ./out.json)', options="set -e"),
    Shape("wait -n returns the job's status", f'{JOB}\n  wait -n\n  OUT=$(cat ./out.json)',
          options="set -e", trap_runs=True, dies=True),
    Shape("wait for two PIDs returns the last one's: the handler's",
          f'{JOB} h=$!\n  sleep 0 & s=$!\n  wait "$s" "$h"\n  OUT=$(cat ./out.json)',
          options="set -e", trap_runs=True, dies=True),
    Shape("wait for two PIDs returns the last one's: not the handler's",
          f'{JOB} h=$!\n  sleep 0 & s=$!\n  wait "$h" "$s"\n  OUT=$(cat ./out.json)', options="set -e"),
    Shape("a function that waits for its job", 'process "$EVENT"\n  OUT=$(cat ./out.json)', options="set -e",
          functions='process() { ./handler "$1" > ./out.json & wait $!; }', dies=True),
]
# A function of the file run as a job (a per-invocation worker): under errexit the job's process
# exits at the first unguarded failure in it (a later `return 0` never runs), else the function's
# last command gives its status; the `wait` that returns it is where errexit ends the runtime.
WORKER = 'process "$EVENT" &\n  wait "$!"\n  OUT=$(cat ./out.json)'
SHAPES += [
    Shape("a worker job that does not guard its handler, waited for", WORKER, options="set -e",
          functions='process() { R=$(./handler <<< "$1"); printf %s "$R" > ./out.json; }',
          trap_runs=True, dies=True),
    Shape("a worker job whose last command is the handler, waited for by its PID, sh",
          'process "$EVENT" &\n  pid=$!\n  wait $pid\n  OUT=$(cat ./out.json)', shebang="#!/bin/sh",
          options="set -e", functions='process() { ./handler "$1" > ./out.json; }',
          trap_runs=True, dies=True),
    Shape("a worker job that returns 0 after an unguarded handler", WORKER, options="set -e",
          functions='process() { ./handler "$1" > ./out.json; echo done >&2; return 0; }',
          trap_runs=True, dies=True),
    Shape("a worker job in ( ) that does not guard its handler, wait -n",
          '( process "$EVENT" ) &\n  wait -n\n  OUT=$(cat ./out.json)', options="set -e",
          functions='process() { ./handler "$1" > ./out.json; }', trap_runs=True, dies=True),
    Shape("a worker job in { } that does not guard its handler", '{ process "$EVENT"; } &\n  wait "$!"\n  OUT=$(cat ./out.json)',
          options="set -e", functions='process() { ./handler "$1" > ./out.json; }', trap_runs=True, dies=True),
    Shape("a worker job that guards its handler with || { ...; return 0; }", WORKER, options="set -e",
          functions='process() { ./handler "$1" > ./out.json || { echo failed > ./out.json; return 0; }; }',
          handled=True),
    Shape("a worker job that guards its handler with || { ...; return 0; }, sh", WORKER,
          shebang="#!/bin/sh", options="set -e",
          functions='process() { ./handler "$1" > ./out.json || { echo failed > ./out.json; return 0; }; }',
          handled=True),
    Shape("a job that tests its handler with if itself, waited for",
          '{ if ./handler "$EVENT" > ./out.json; then :; else echo failed > ./out.json; fi; } &\n'
          '  wait "$!"\n  OUT=$(cat ./out.json)', options="set -e", handled=True),
    Shape("a worker job that reports its handler's failure, then exit 1", WORKER, options="set -e",
          functions='process() { ./handler "$1" > ./out.json || { echo failed > ./out.json; exit 1; }; }',
          trap_runs=True, dies=True),
    Shape("a worker job that returns 1 from if ! handler, sh", WORKER, shebang="#!/bin/sh", options="set -e",
          functions='process() { if ! ./handler "$1" > ./out.json; then echo failed > ./out.json; return 1; fi; }',
          trap_runs=True, dies=True),
    Shape("a worker job that exits 0 after its handler fails", WORKER, options="set -e",
          functions='process() { ./handler "$1" > ./out.json || { echo failed > ./out.json; exit 0; }; }',
          handled=True),
    Shape("a worker job piped to cat under pipefail", 'process "$EVENT" | cat &\n  wait "$!"\n  OUT={}',
          options="set -eo pipefail", functions='process() { ./handler "$1"; echo done; }',
          trap_runs=True, dies=True),
    Shape("a worker job piped to cat without pipefail", 'process "$EVENT" | cat &\n  wait "$!"\n  OUT={}',
          options="set -e", functions='process() { ./handler "$1"; echo done; }', handled=True),
    Shape("a worker job that waits for its own job, which guards the handler", WORKER, options="set -e",
          functions='process() { { ./handler "$1" > ./out.json || echo failed > ./out.json; } & wait "$!"; }',
          handled=True),
    Shape("a worker job that waits for its own job, which does not guard the handler", WORKER,
          options="set -e", functions='process() { { ./handler "$1" > ./out.json; } & wait "$!"; }',
          trap_runs=True, dies=True),
    Shape("a worker job that does not guard its handler, wait guarded with || true",
          'process "$EVENT" &\n  wait "$!" || true\n  OUT=$(cat ./out.json)', options="set -e",
          functions='process() { ./handler "$1" > ./out.json; }', handled=True),
    Shape("a worker job that does not guard its handler, if ! wait",
          'process "$EVENT" &\n  pid=$!\n  if ! wait "$pid"; then OUT=failed; else OUT=$(cat ./out.json); fi',
          shebang="#!/bin/sh", options="set -e", functions='process() { ./handler "$1" > ./out.json; }',
          handled=True),
]
# A function of the file in a pipeline (each element a child process, errexit inherited): its
# failure ends its element; that reaches the shell only as the pipeline's status, which is the last
# element's, or any element's under pipefail.
TEE = 'process | tee -a ./log >&2\n  OUT={}'
PIPED = 'process() { R=$(./handler "$EVENT"); printf %s "$R"; }'
SHAPES += [
    Shape("a function piped to tee without pipefail: the failure ends its element only", TEE,
          options="set -e", functions=PIPED),
    Shape("a function piped to tee under pipefail", TEE, options="set -eo pipefail", functions=PIPED,
          trap_runs=True, dies=True),
    Shape("a function as a pipeline's last element, without pipefail",
          'printf %s "$EVENT" | process\n  OUT={}', options="set -e",
          functions='process() { R=$(./handler); printf %s "$R" > ./out.json; }', trap_runs=True, dies=True),
    Shape("a subshell that goes on after the handler, set -e: errexit ends it with the failure",
          f'( {HANDLER}; echo done >&2 )\n  OUT={{}}', options="set -e", trap_runs=True, dies=True),
    Shape("a subshell whose $(...) ends in echo: the handler's status is lost there, set -e",
          '( OUT=$(./handler "$EVENT"; echo) )\n  OUT={}', options="set -e"),
    Shape("a function piped to logger-like cat without pipefail, sh",
          '{ process "$EVENT"; } | cat >&2\n  OUT={}', shebang="#!/bin/sh", options="set -e",
          functions='process() { R=$(./handler "$EVENT"); printf %s "$R"; }'),
]
SH_SHAPES = [s for s in SHAPES if s.shebang == "#!/bin/sh"]


def _bin(tmp_path):
    """A folder with a `curl` that succeeds and prints nothing, and a `./handler` that fails."""
    folder = tmp_path / "bin"
    folder.mkdir()
    curl = folder / "curl"
    curl.write_text("#!/bin/sh\nexit 0\n")
    curl.chmod(0o755)
    handler = tmp_path / "handler"
    handler.write_text("#!/bin/sh\necho partial\nexit 3\n")
    handler.chmod(0o755)
    return folder


def _run(argv: list[str], text: str, tmp_path) -> tuple[bool, bool]:
    """(the trap ran, the shell died) when the shell runs one iteration of ``text``."""
    folder = _bin(tmp_path)
    script = tmp_path / "bootstrap"
    script.write_text(text)
    env = {"PATH": f"{folder}:{os.environ.get('PATH', '')}", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9"}
    proc = subprocess.run([*argv, str(script)], cwd=tmp_path, env=env, capture_output=True,
                          timeout=10)
    err = proc.stderr.decode()
    return "TRAP" in err, "END" not in err


def _codes(shape: Shape) -> set[str]:
    text = shape.text("while true; do")
    result = lint_source(SourceFile.from_bytes("bootstrap", text.encode()), Selection())
    return {f.code for f in result.findings}


@pytest.mark.skipif(BASH is None, reason="bash is not installed: its behaviour cannot be checked")
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_bash_does_what_the_shape_says(shape, tmp_path):
    # `#!/bin/sh` is bash in POSIX mode on Amazon Linux: run it so.
    argv = [BASH, "--posix"] if shape.shebang == "#!/bin/sh" else [BASH]
    if shape.shebang.endswith(" -e"):
        argv.append("-e")
    assert _run(argv, shape.text("for _ in 1; do"), tmp_path) == (shape.trap_runs, shape.dies)


@pytest.mark.skipif(DASH is None, reason="dash is not installed")
@pytest.mark.parametrize("shape", SH_SHAPES, ids=lambda s: s.name)
def test_dash_keeps_errexit_in_substitutions_too(shape, tmp_path):
    # dash has no here-strings: the shape passes the event as an argument. Nor has it an ERR
    # trap: `trap ... ERR` is an error there, which under errexit would end the script before
    # the shape runs (every shape would seem to die), so the trap line is left out.
    text = shape.text("for _ in 1; do").replace("trap 'echo TRAP >&2' ERR\n", "")
    assert " ERR" not in text
    assert _run([DASH], text, tmp_path)[1] == shape.dies


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_bootlint_agrees_with_the_shell(shape):
    codes = _codes(shape)
    assert ("BL101" in codes) == shape.dies, codes
    # BL107: the trap is the only error handling and the failure never reaches it.
    assert ("BL107" in codes) == (not shape.trap_runs and not _lost_without_failing(shape)), codes


def _lost_without_failing(shape: Shape) -> bool:
    """Shapes where the handler's failure is absorbed on purpose (the function checks `$?` and
    ends in `echo`): nothing fails, so there is nothing for the trap to miss."""
    return shape.handled or ("rc=$?" in shape.functions and not shape.dies)


# -- `.` of a missing file in a POSIX shell ------------------------------------------------------
# A special built-in's error ends a non-interactive POSIX shell (bash in POSIX mode, dash) before
# `||`, `if` or `!` can act, so the init-error report written around `.` never runs: BL103 says
# so exactly where the shells skip the guard.

LOAD_TEMPLATE = """{shebang}
{options}
API="http://${{AWS_LAMBDA_RUNTIME_API}}/2018-06-01/runtime"
init_error() {{
  {report}
  exit 3
}}
{load}
echo LOADED
while true; do
  EVENT=$(curl -sS "$API/invocation/next")
done
"""
REPORT = """curl -sS -X POST "$API/init/error" -d '{"errorMessage":"load","errorType":"Init"}'"""
LOADS = [
    # (shebang, options, load line, whether the shells run the guard)
    ("#!/bin/sh", "", ". ./missing.sh || init_error", False),
    ("#!/bin/sh", "", "command . ./missing.sh || init_error", True),
    ("#!/bin/sh", "", "if ! . ./missing.sh; then init_error; fi", False),
    ("#!/bin/sh", "", "if . ./missing.sh; then :; else init_error; fi", False),
    ("#!/bin/sh", "", "( . ./missing.sh ) || init_error", True),
    ("#!/bin/bash", "", ". ./missing.sh || init_error", True),
    ("#!/bin/bash", "set -o posix", "source ./missing.sh || init_error", False),
    ("#!/bin/bash", "set -o posix\nset +o posix", "source ./missing.sh || init_error", True),
    # A file that is there but does not parse ends a POSIX shell the same way.
    ("#!/bin/sh", "", "if ! . ./broken.sh; then init_error; fi", False),
    ("#!/bin/sh", "", "command . ./broken.sh || init_error", True),
]


def _shells_for(shebang: str) -> list[list[str]]:
    if shebang == "#!/bin/sh":   # bash in POSIX mode on Amazon Linux; dash on Debian
        return [[BASH, "--posix"]] + ([[DASH]] if DASH else [])
    return [[BASH]]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@pytest.mark.parametrize("shebang,options,load,guard_runs", LOADS, ids=[l[2] + " " + l[0] + " " + l[1]
                                                                          for l in LOADS])
def test_a_guard_around_dot_runs_where_the_shell_runs_it(tmp_path, shebang, options, load, guard_runs):
    (tmp_path / "broken.sh").write_text("handler() {\n")
    for shell in _shells_for(shebang):
        script = LOAD_TEMPLATE.format(shebang=shebang, options=options, load=load,
                                      report="echo GUARD")
        proc = subprocess.run([*shell, "-c", script.split("\nwhile true", 1)[0]], cwd=tmp_path,
                              capture_output=True, text=True, timeout=10)
        assert ("GUARD" in proc.stdout) == guard_runs, (shell, proc.stdout, proc.stderr)
        assert "LOADED" not in proc.stdout
    text = LOAD_TEMPLATE.format(shebang=shebang, options=options, load=load, report=REPORT)
    result = lint_source(SourceFile.from_bytes("bootstrap", text.encode()), Selection())
    found = [(f.span.line, f.span.column) for f in result.findings if f.code == "BL103"]
    line = text.splitlines().index(load) + 1
    column = load.index("source" if "source" in load else ".") + 1
    assert found == ([] if guard_runs else [(line, column)])
