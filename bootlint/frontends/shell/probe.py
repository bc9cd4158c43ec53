"""Where ``bootlint verify``'s probe stands in for a shell bootstrap's handler (the shell front
end's ``probe`` hook; see :mod:`bootlint.verify.probe`).

A handler named by ``_HANDLER`` is found by meaning, not by one spelling: with the default
``_HANDLER=function.handler`` every way runtimes split it — ``${_HANDLER%.*}``, ``${_HANDLER%%.*}``,
``${_HANDLER#*.}``, ``${_HANDLER##*.}``, ``cut -d. -f1``/``-f2``, ``awk -F.`` — gives the file
``function`` and the function ``handler``, so the probe goes to ``function`` plus the extension
the bootstrap appends, and defines ``handler`` and every name the bootstrap calls as a handler.
"""

from __future__ import annotations

from bootlint.model import HandlerCall, InitStep, RuntimeModel
from bootlint.verify.probe import DEFAULT_HANDLER, NAME, ProbePlan, split_handler
from bootlint.util.lazyre import lazy

# `source ./function.sh`, `. "$LAMBDA_TASK_ROOT/handler.sh"`: a fixed handler file.
_LITERAL_SOURCE = lazy(
    r"""^(?:command\s+)?(?:source|\.)\s+["']?(?:\$\{?LAMBDA_TASK_ROOT\}?/|\./)?([A-Za-z0-9_.-]+)["']?\s*$""")
# The extension written after a handler-name expansion: `${_HANDLER%%.*}.sh`, `$(... cut ...).sh"`.
_EXTENSION = lazy(r"""[})]["']?(\.(?:sh|bash|ksh))\b""")
_MENTIONS_HANDLER = lazy(r"\b_HANDLER\b")
# The handler run as a program named by _HANDLER: `"$LAMBDA_TASK_ROOT/$_HANDLER" "$EVENT"`, `./$_HANDLER`.
_RUNS_HANDLER = lazy(r"""^["']?(?:\$\{?LAMBDA_TASK_ROOT\}?/|\./)\$\{?_HANDLER\}?["']?(?:\s|$)""")


def plan(model: RuntimeModel, source: str, handler: str | None) -> ProbePlan | None:
    """The probe's files for this shell bootstrap, or None when no handler file is loaded."""
    if not model.is_runtime:
        return None
    calls = [c.text.split()[0] for c in model.events(HandlerCall) if c.text.split()]
    steps = [s.text for s in model.events(InitStep)]
    fixed_calls = [c for c in calls if NAME.match(c)]
    if steps and _MENTIONS_HANDLER.search(source):
        value = handler or DEFAULT_HANDLER
        module, function = split_handler(value)
        names = [function] + [c for c in fixed_calls if c != function]
        return ProbePlan(value, {module + ext: names for ext in _extensions(source)},
                         f"the file and function named by _HANDLER ({value}), as the bootstrap "
                         f"derives them")
    programs = [c for c in model.events(HandlerCall) if _RUNS_HANDLER.match(c.text)]
    if programs and not steps:
        value = handler or DEFAULT_HANDLER
        return ProbePlan(value, {value: []}, f"the program named by _HANDLER ({value}), run per "
                         f"event as the bootstrap does", programs=frozenset({value}))
    for step in steps:
        found = _LITERAL_SOURCE.match(step.strip())
        if found and fixed_calls:
            return ProbePlan(handler or DEFAULT_HANDLER, {found.group(1): fixed_calls},
                             f"`{fixed_calls[0]}` in {found.group(1)}, the names the bootstrap uses")
    return None


def _extensions(source: str) -> list[str]:
    """The extensions the bootstrap appends to the name it derives from _HANDLER (``.sh`` when it
    shows none: the AWS tutorial's)."""
    found: list[str] = []
    for line in source.splitlines():
        if "HANDLER" in line.upper():
            found.extend(e for e in _EXTENSION.findall(line) if e not in found)
    return found or [".sh"]
