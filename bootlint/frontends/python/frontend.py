"""The Python front end's registration: what it reads and how rules word their advice for it.

Light on purpose (no libcst here): libcst loads when a Python file is lowered.
"""

from __future__ import annotations

from bootlint.frontends.registry import FrontEnd, Idioms
from bootlint.util.lazyre import lazy

_PYTHON_RE = lazy(r"^(python|pypy)(\d+(\.\d+)*)?[a-z]?$")
# A file with no shebang whose first line of code can only be Python.
_PYTHON_START = lazy(r"^(import [\w.]+(\s*,\s*[\w.]+)*\s*$|from [\w.]+ import |def \w+\(.*\):|"
                           r"class \w+.*:\s*$|if __name__ == )")


# The shell-and-Python polyglot: under a shell shebang, a line that opens a Python string and
# that the shell runs as `exec python ... "$0"` (four quotes then `exec python -u -- "$0"`, or
# `"""exec" python3 "$0" "$@"`, or `''':'` with `exec python3 "$0" "$@"` on the next line):
# sh hands the file to Python at once, and Python reads that line as a string.
_HANDED_BACK = lazy(
    r"\A(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*(?:''''|\"\"\"\"|'''|\"\"\")(?:[^\n]*\n)?"
    r"[^\n]*?\bexec\b[^\n]*\b(?:python|pypy)[\d.]*\b[^\n]*\$\{?0")


def _handed_back(body: str) -> bool:
    return _HANDED_BACK.match(body) is not None


def _looks_like_python(text: str) -> bool:
    for line in text.split("\n", 50)[:50]:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return bool(_PYTHON_START.match(stripped))
    return False


def _parses(text: str) -> bool:
    """Does Python's own parser read the whole text (only compiled, never run)?"""
    import ast

    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


IDIOMS = Idioms(
    display_name="Python",
    loop="while True:",
    guard="catch it and post it to /invocation/{id}/error",
    unguarded="is not inside `try: ... except Exception:`: one exception ends the runtime",
    export='os.environ["{name}"] = {value}',
    read_api_variable='os.environ["AWS_LAMBDA_RUNTIME_API"]',
    exit_now="sys.exit(1)",
    status_check="check `status_code` or call `raise_for_status()`",
    exec_form="os.execvp(...)",
    parent="Python",
    error_json="build it with json.dumps({...})",
    variable="{name}",
    cleanup_at_exit="an atexit handler",
    case_fold={"": "use `resp.headers[...]`, which folds case"},
    comment="#",
    noqa=True,
    shebang="#!/usr/bin/env python3",
    env_shebang="#!/usr/bin/env python3",
    worker_count='`int(os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY", "1"))`',
    per_worker_path="make it in each worker (`tempfile.mkstemp()`), or keep the data in memory",
    wait_workers="join every worker (`for w in workers: w.join()`) before the script ends",
    trace_per_invocation="start the workers as processes (`multiprocessing.Process`), each with its own "
                         "environment, or hand the trace id to the handler in its context",
    stream_body="pass a generator (`data=chunks()`, `content=chunks()`) or write chunks with "
                "`conn.send()` after `putheader(\"Transfer-Encoding\", \"chunked\")`",
    stream_error="send the error as trailers after the last chunk: write the chunks with http.client's "
                 "`send()` and end with `0\\r\\nLambda-Runtime-Function-Error-Type: ...\\r\\n`",
)

FRONTEND = FrontEnd(
    name="python",
    languages=("python", "pypy"),
    interpreters=lambda interpreter: bool(_PYTHON_RE.match(interpreter)),
    lower_module="bootlint.frontends.python.lower",
    idioms=IDIOMS,
    extensions=(".py",),
    content=_looks_like_python,
    accepts=_parses,
    handed_back=_handed_back,
    # Threads and async tasks share the process (and its environment); no ERR trap, no
    # declaration builtin hiding a status, no curl data flags, no parser gaps.
    capabilities=frozenset({"shared-memory-workers"}),
    package="bootlint.frontends.python",
    probe_module="bootlint.frontends.python.probe",   # bootlint verify's probe handler
)
