"""Where ``bootlint verify``'s probe stands in for a Python bootstrap's handler (the Python front
end's ``probe`` hook; see :mod:`bootlint.verify.probe`): the module named by ``_HANDLER`` when the
bootstrap imports it dynamically, else the modules of the package it imports the called names from.
"""

from __future__ import annotations

import ast

from bootlint.model import HandlerCall, InitStep, RuntimeModel
from bootlint.frontends.python.syntax import python_ast
from bootlint.verify.probe import DEFAULT_HANDLER, ProbePlan, split_handler


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


def plan(model: RuntimeModel, source: str, handler: str | None) -> ProbePlan | None:
    """The probe's files for this Python bootstrap, or None when it imports no handler module."""
    if not model.is_runtime:
        return None
    try:
        tree = python_ast(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError, SystemError):
        return None
    called = {c.text for c in model.events(HandlerCall)}
    called_roots = {c.split(".", 1)[0] for c in called}
    dynamic = any("import" in s.text for s in model.events(InitStep)) and "_HANDLER" in source
    if dynamic:
        value = handler or DEFAULT_HANDLER
        module, function = split_handler(value)
        return ProbePlan(value, {module.replace(".", "/") + ".py": [function]},
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
    return ProbePlan(handler or DEFAULT_HANDLER, files, f"{what}: the names the bootstrap imports")
