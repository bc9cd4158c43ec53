"""The package's shape: the import graph of bootlint has no cycle, and the package root holds
only the entry points, the shared diagnostic types and subpackages."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from conftest import ROOT

PACKAGE = ROOT / "bootlint"
# The package root: the entry points (cli, engine, runner), the one module of shared types
# (diagnostics) and the package's own files; everything else lives in a subpackage.
ROOT_MODULES = {"__init__", "__main__", "cli", "engine", "runner", "diagnostics"}


def module_name(path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Lines under ``if TYPE_CHECKING:``: imports for annotations only, never run."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            lines |= {n.lineno for n in ast.walk(node) if hasattr(n, "lineno")}
    return lines


def import_graph() -> dict[str, set[str]]:
    """module -> the bootlint modules it imports, wherever the import statement is (module
    level, in a function, in a method); ``from package import name`` counts as importing the
    module ``package.name`` when there is one."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.Import):
                edges |= {resolve(a.name) for a in node.names if a.name.startswith("bootlint")}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if source == "bootlint" or source.startswith("bootlint."):
                    for alias in node.names:
                        full = f"{source}.{alias.name}"
                        edges.add(full if full in modules else resolve(source))
        edges.discard(None)
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_function_level_imports():
    graph = import_graph()
    # `all_rules()` loads the rule families inside the function; the CLI imports the engine's
    # pieces inside its commands.
    assert "bootlint.rules.loop" in graph["bootlint.rules"]
    assert "bootlint.runner" in graph["bootlint.cli"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle():
    found = cycles(import_graph())
    assert found == [], "import cycles (function-level imports included): " + "; ".join(
        " <-> ".join(c) for c in found)


def test_the_package_root_holds_only_entry_points_shared_types_and_subpackages():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules == ROOT_MODULES
    folders = [p for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"]
    assert folders and all((p / "__init__.py").is_file() for p in folders), folders


# What a plain `bootlint check` of a shell bootstrap must not load: the language server and its
# libraries, `verify`, the Python front end's analysis and libcst, the reporters of other
# formats, the documentation generator.
NOT_FOR_A_SHELL_CHECK = ("pygls", "lsprotocol", "libcst", "bootlint.lsp", "bootlint.verify",
                         "bootlint.docs", "bootlint.report.full", "bootlint.report.json_format",
                         "bootlint.report.json_lines", "bootlint.report.sarif", "bootlint.report.github",
                         "bootlint.report.gitlab", "bootlint.report.junit", "bootlint.fixes.apply")


@pytest.mark.subprocess
def test_a_plain_check_of_a_shell_file_imports_only_what_the_run_needs(tmp_path):
    (tmp_path / "bootstrap").write_bytes((ROOT / "examples" / "tutorial" / "bootstrap").read_bytes())
    code = ("import sys\nfrom bootlint.cli import run_main\n"
            "sys.argv = ['bootlint', 'check', '--format', 'concise', 'bootstrap']\n"
            "try:\n    run_main()\nexcept SystemExit as exc:\n    code = exc.code\n"
            "print('\\n'.join(['exit %s' % code] + sorted(sys.modules)), file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, timeout=120)
    lines = proc.stderr.decode().splitlines()
    assert lines[0] == "exit 1" and b"[BL101]" in proc.stdout, proc.stderr.decode()[-2000:]
    modules = set(lines[1:])
    # What the run does need is there (so that the test sees the run's imports at all).
    assert {"click", "tree_sitter_bash", "bootlint.frontends.shell.lower", "bootlint.report.concise",
            "bootlint.rules.loop"} <= modules
    loaded = sorted(m for m in modules for unwanted in NOT_FOR_A_SHELL_CHECK
                    if m == unwanted or m.startswith(unwanted + "."))
    assert loaded == []
    # Of the Python front end, only its registry entry (what detection asks) is loaded.
    assert sorted(m for m in modules if m.startswith("bootlint.frontends.python")) == [
        "bootlint.frontends.python", "bootlint.frontends.python.frontend"]


def test_bootlint_classes_are_made_by_records_not_by_dataclasses():
    """bootlint's dataclasses come from bootlint.util.records (a tenth of the import cost;
    tests/test_records.py holds it to dataclasses' behaviour): `dataclasses` itself is imported
    for field(), fields(), replace() and the like, not for the decorator."""
    offenders = []
    for path in sorted((ROOT / "bootlint").rglob("*.py")):
        if path.name in ("records.py", "classcache.py"):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"(?m)^from dataclasses import [^\n]*\bdataclass\b|@dataclasses\.dataclass\b", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
