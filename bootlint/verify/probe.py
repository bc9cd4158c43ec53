"""The probe handler: what ``bootlint verify`` puts where the bootstrap loads its handler.

Where it goes is the front end's call: each registers a ``probe`` module (``FrontEnd.probe``)
whose ``plan(model, source, handler)`` reads ``check``'s model of the bootstrap — a handler file
named by ``_HANDLER`` (``source $LAMBDA_TASK_ROOT/<file>.sh``, ``${_HANDLER%%.*}``, a ``cut`` or
``awk`` split, Python's ``importlib``), a fixed name (``source ./function.sh`` then ``handler``;
``from handler import handle``), or a hand-over to a runtime interface client
(``python -m awslambdaric "$_HANDLER"``). This module writes the probe: its language is the
handler file's (``.sh``, ``.py``, ``.js``), not the bootstrap's.

The probe succeeds or fails as its event asks, prints one ``BOOTLINT-PROBE`` line to stderr with
the trace id it saw (and, in Python, the request id of the context object it was given, if any),
and writes no file. Its broken twin cannot load, for the init run.
"""

from __future__ import annotations

import os
import re
from dataclasses import field

from bootlint.model import Handover, RuntimeModel
from bootlint.util.records import dataclass

MARKER = "BOOTLINT-PROBE"
DEFAULT_HANDLER = "function.handler"
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

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


NODE_PROBE = """\
// bootlint verify's probe handler: succeeds, or fails when the event asks; writes no file.
const probe = async (event, context) => {{
  const text = typeof event === "string" ? event : JSON.stringify(event);
  let number = 0;
  try {{ number = Number(JSON.parse(text)["bootlint-probe"]) || 0; }} catch (e) {{}}
  process.stderr.write("{marker} " + JSON.stringify({{probe: number, trace: process.env._X_AMZN_TRACE_ID || "",
    request_id: context && context.awsRequestId}}) + "\\n");
  if (text.includes('"fail"')) throw new Error("bootlint probe: this invocation fails on purpose");
  return {{"bootlint-probe": number, ok: true}};
}};
{names}
"""

NODE_BROKEN = """\
// bootlint verify's probe handler that cannot load: the init run.
throw new Error("bootlint probe: this handler cannot load");
"""

PROGRAM_PROBE = """#!/bin/sh
# bootlint verify's probe handler, run as a program: succeeds, or fails when the event asks.
""" + SHELL_PROBE.format(marker=MARKER, names="") + """_bootlint_probe "$@"
"""

# The probe's text by the handler file's extension: (renders the working probe from its function
# names, the broken twin). A name without an extension is a shell file (`source ./handler`).
TEMPLATES = {
    "shell": (lambda names: SHELL_PROBE.format(
        marker=MARKER, names="".join(f'{f}() {{ _bootlint_probe "$@"; }}\n' for f in names)), SHELL_BROKEN),
    "python": (lambda names: PYTHON_PROBE.format(
        marker=MARKER, names="\n".join(f"{f} = _probe" for f in names)), PYTHON_BROKEN),
    "node": (lambda names: NODE_PROBE.format(
        marker=MARKER, names="".join(f"module.exports[{f!r}] = probe;\n" for f in names)), NODE_BROKEN),
}
EXTENSIONS = {".sh": "shell", ".bash": "shell", ".ksh": "shell", "": "shell", ".py": "python",
              ".js": "node", ".cjs": "node"}

# Runtime interface clients a bootstrap hands over to: the language their handler module is
# written in and its file extension. The client imports `<module>` of `_HANDLER=<module>.<function>`
# from the task root.
RUNTIME_CLIENTS = {"awslambdaric": ".py", "aws-lambda-ric": ".js"}


class UnsafeHandler(ValueError):
    """A handler name that would put the probe outside the private task root."""


def handler_problem(handler: str) -> str:
    """Why ``handler`` cannot name a file inside the task root ("" when it can): an absolute
    path or a ``..`` would make the probe overwrite a file of the user's."""
    if not handler:
        return "it is empty"
    if handler.startswith(("/", "~", "\\")) or "\0" in handler:
        return "it is an absolute path"
    if ".." in handler:
        return "it climbs out of the task root (`..`)"
    return ""


@dataclass
class ProbePlan:
    """Where the probe goes: ``files`` maps a file name in the task root to its function names;
    the file's extension decides the probe's language (:data:`EXTENSIONS`)."""

    handler: str                     # the _HANDLER value the run sets
    files: dict[str, list[str]] = field(default_factory=dict)
    how: str = ""
    # Files the bootstrap runs as programs (``"$LAMBDA_TASK_ROOT/$_HANDLER" "$EVENT"``): written
    # executable; nothing is loaded at start-up then, so there is no init run.
    programs: frozenset[str] = frozenset()

    @property
    def loads_at_init(self) -> bool:
        return not self.programs

    def write(self, task_root: str, broken: bool = False, templates: dict | None = None) -> None:
        """Write the probe (or its broken twin) into ``task_root``, never outside it: a name
        that resolves elsewhere, or through a link, raises :class:`UnsafeHandler`. ``templates``
        replaces :data:`TEMPLATES` (the streaming probe of ``verify --stream``)."""
        root = os.path.realpath(task_root)
        for name, functions in self.files.items():
            if name in self.programs:
                text = PROGRAM_PROBE
            else:
                kind = EXTENSIONS.get(os.path.splitext(name)[1], "shell")
                render, broken_text = (templates or TEMPLATES).get(kind, TEMPLATES[kind])
                text = broken_text if broken else render(functions)
            path = os.path.join(root, name)
            folder = os.path.realpath(os.path.dirname(path))
            if os.path.isabs(name) or os.path.commonpath([root, folder]) != root:
                raise UnsafeHandler(f"the probe file {name} would be outside the task root")
            os.makedirs(folder, exist_ok=True)
            if os.path.realpath(folder) != folder:
                raise UnsafeHandler(f"the probe file {name} would be written through a link")
            mode = 0o755 if name in self.programs else 0o644
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(path, mode)


    def remove(self, task_root: str) -> None:
        """Take the probe away (for the init run: a handler file that is not there, the most
        common init failure on Lambda, ``Runtime.HandlerNotFound`` / ``ImportModuleError``)."""
        root = os.path.realpath(task_root)
        for name in self.files:
            path = os.path.join(root, name)
            if os.path.commonpath([root, os.path.realpath(os.path.dirname(path))]) == root:
                try:
                    os.unlink(path)
                except OSError:
                    pass


def plan(model: RuntimeModel | None, source: str, handler: str | None) -> ProbePlan | None:
    """Where a probe can stand in for the handler (the bootstrap's front end decides), or None
    when the model shows no handler that bootlint can supply (an inline handler, a program)."""
    from bootlint.frontends.registry import by_name

    if model is None:
        return None
    front_end = by_name(model.language)
    found = front_end.probe(model, source, handler) if front_end is not None else None
    return found if found is not None else handover_plan(model, handler)


def split_handler(handler: str) -> tuple[str, str]:
    """``module.function`` -> (module, function); the module keeps its own dots (``a.b.f``)."""
    module, _, function = handler.rpartition(".")
    return (module or handler), (function or "handler")


def handover_plan(model: RuntimeModel, handler: str | None) -> ProbePlan | None:
    """A hand-over to a runtime interface client (:data:`RUNTIME_CLIENTS`): the probe is a module
    in the client's language, named by ``_HANDLER`` or by the fixed name the command gives."""
    for node in model.events(Handover):
        words = node.text.replace('"', " ").replace("'", " ").split()
        client = next((w for w in words if w.rsplit("/", 1)[-1] in RUNTIME_CLIENTS), None)
        if client is None:
            continue
        extension = RUNTIME_CLIENTS[client.rsplit("/", 1)[-1]]
        after = words[words.index(client) + 1:]
        fixed = next((w for w in after if "." in w and "$" not in w and not w.startswith("-")), None)
        value = fixed or handler or DEFAULT_HANDLER
        module, function = split_handler(value)
        base = module.replace(".", "/") if extension == ".py" else module
        return ProbePlan(value, {base + extension: [function]},
                         f"a {extension[1:]} module named by _HANDLER ({value}), which "
                         f"{client.rsplit('/', 1)[-1]} loads")
    return None
