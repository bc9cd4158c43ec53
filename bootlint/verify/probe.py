"""The probe handler: what ``bootlint verify`` puts where the bootstrap loads its handler.

The plan comes from ``check``'s model of the bootstrap: a handler file named by ``_HANDLER``
(the AWS tutorial's ``source $LAMBDA_TASK_ROOT/<file>.sh``, Python's ``importlib``), or a fixed
name the model shows (``source ./function.sh`` then ``handler``; ``from handler import handle``).
The probe succeeds or fails as its event asks, prints one ``BOOTLINT-PROBE`` line to stderr with
the trace id it saw (and, in Python, the request id of the context object it was given, if any),
and writes no file. Its broken twin cannot load, for the init run.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field

from bootlint.model import HandlerCall, InitStep, RuntimeModel
from bootlint.frontends.python.syntax import python_ast

MARKER = "BOOTLINT-PROBE"
DEFAULT_HANDLER = "function.handler"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LITERAL_SOURCE = re.compile(
    r"""^(?:source|\.)\s+["']?(?:\$\{?LAMBDA_TASK_ROOT\}?/|\./)?([A-Za-z0-9_.-]+\.sh)["']?\s*$""")

SHELL_PROBE = """\
# bootlint verify's probe handler: succeeds, or fails when the event asks; writes no file.
_bootlint_probe() {{
  if [ $# -eq 0 ]; then set -- "$(cat)"; fi
  _bootlint_n=$(printf '%s' "${{1-}}" | sed -n 's/.*"bootlint-probe": *\\([0-9]*\\).*/\\1/p')
  printf '{marker} {{"probe":%s,"trace":"%s"}}\\n' "${{_bootlint_n:-0}}" "${{_X_AMZN_TRACE_ID:-}}" >&2
  case "${{1-}}" in
    *'"fail"'*) echo "bootlint probe: this invocation fails on purpose" >&2; return 1 ;;
  esac
  printf '{{"bootlint-probe":%s,"ok":true}}\\n' "${{_bootlint_n:-0}}"
}}
{names}
"""

SHELL_BROKEN = """\
# bootlint verify's probe handler that cannot load: the init run.
echo "bootlint probe: this handler cannot load" >&2
false
"""

PYTHON_PROBE = '''\
"""bootlint verify's probe handler: succeeds, or fails when the event asks; writes no file."""
import json as _json
import os as _os
import sys as _sys


def _probe(event=None, context=None, *args, **kwargs):
    if isinstance(event, (bytes, bytearray)):
        text = bytes(event).decode("utf-8", "replace")
    elif isinstance(event, str):
        text = event
    else:
        text = _json.dumps(event)
    try:
        number = int(_json.loads(text).get("bootlint-probe", 0))
    except Exception:
        number = 0
    seen = {{"probe": number, "trace": _os.environ.get("_X_AMZN_TRACE_ID", ""),
            "request_id": getattr(context, "aws_request_id", None)}}
    _sys.stderr.write("{marker} " + _json.dumps(seen) + "\\n")
    _sys.stderr.flush()
    if '"fail"' in text:
        raise RuntimeError("bootlint probe: this invocation fails on purpose")
    return {{"bootlint-probe": number, "ok": True}}


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _probe


{names}
'''

PYTHON_BROKEN = '''\
"""bootlint verify's probe handler that cannot load: the init run."""
raise ImportError("bootlint probe: this handler cannot load")
'''


@dataclass
class ProbePlan:
    """Where the probe goes: ``files`` maps a file name in the task root to its function names."""

    language: str
    handler: str                     # the _HANDLER value the run sets
    files: dict[str, list[str]] = field(default_factory=dict)
    how: str = ""

    def write(self, task_root: str, broken: bool = False) -> None:
        for name, functions in self.files.items():
            if self.language == "shell":
                text = SHELL_BROKEN if broken else SHELL_PROBE.format(
                    marker=MARKER, names="".join(f'{f}() {{ _bootlint_probe "$@"; }}\n' for f in functions))
            else:
                text = PYTHON_BROKEN if broken else PYTHON_PROBE.format(
                    marker=MARKER, names="\n".join(f"{f} = _probe" for f in functions))
            path = os.path.join(task_root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)


def plan(model: RuntimeModel | None, source: str, handler: str | None) -> ProbePlan | None:
    """Where a probe can stand in for the handler, or None when the model shows no handler
    that bootlint can supply (an inline handler, a program, a hand-over)."""
    if model is None or not model.is_runtime:
        return None
    if model.language == "shell":
        return _plan_shell(model, handler)
    return _plan_python(model, source, handler)


def _split(handler: str) -> tuple[str, str]:
    module, _, function = handler.rpartition(".")
    return (module or handler), (function or "handler")


def _plan_shell(model: RuntimeModel, handler: str | None) -> ProbePlan | None:
    calls = [c.text.split()[0] for c in model.events(HandlerCall) if c.text.split()]
    steps = [s.text for s in model.events(InitStep)]
    if any("_HANDLER" in s for s in steps):
        value = handler or DEFAULT_HANDLER
        module, function = _split(value)
        names = [function] + [c for c in calls if _NAME.match(c) and c != function]
        return ProbePlan("shell", value, {f"{module}.sh": names},
                         f"the file and function named by _HANDLER ({value}), as the AWS tutorial loads them")
    for step in steps:
        found = _LITERAL_SOURCE.match(step.strip())
        fixed = [c for c in calls if _NAME.match(c)]
        if found and fixed:
            return ProbePlan("shell", handler or DEFAULT_HANDLER, {found.group(1): fixed},
                             f"`{fixed[0]}` in {found.group(1)}, the names the bootstrap uses")
    return None


def _users_module(name: str) -> bool:
    """A module of the package, not one of Python's or an installed one (never shadowed)."""
    import importlib.util
    import sys

    top = name.split(".", 1)[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        return False
    try:
        return importlib.util.find_spec(top) is None
    except (ImportError, ValueError):
        return False


def _plan_python(model: RuntimeModel, source: str, handler: str | None) -> ProbePlan | None:
    try:
        tree = python_ast(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError, SystemError):
        return None
    called = {c.text for c in model.events(HandlerCall)}
    called_roots = {c.split(".", 1)[0] for c in called}
    dynamic = any("import" in s.text for s in model.events(InitStep)) and "_HANDLER" in source
    if dynamic:
        value = handler or DEFAULT_HANDLER
        module, function = _split(value)
        return ProbePlan("python", value, {module.replace(".", "/") + ".py": [function]},
                         f"the module and function named by _HANDLER ({value}), imported as the "
                         f"bootstrap does")
    files: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [a.asname or a.name for a in node.names]
            wanted = [a.name for a in node.names if (a.asname or a.name) in called]
            if wanted and names:
                files.setdefault(node.module.replace(".", "/") + ".py", []).extend(wanted)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if (alias.asname or alias.name.split(".")[0]) in called_roots and \
                        not any(c == (alias.asname or alias.name) for c in called):
                    files.setdefault(alias.name.replace(".", "/") + ".py", [])
    files = {name: f for name, f in files.items() if _users_module(name[:-3].replace("/", "."))}
    if not files:
        return None
    what = ", ".join(f"{name} ({', '.join(f) or 'any function'})" for name, f in files.items())
    return ProbePlan("python", handler or DEFAULT_HANDLER, files,
                     f"{what}: the names the bootstrap imports")
