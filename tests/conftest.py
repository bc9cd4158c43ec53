"""Shared helpers: lint text or a fixture the way the CLI does, and read fixture expectations."""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import re
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
# A fix builder that fails gives no fix in normal use; under test it must fail loudly (also in
# the command lines the tests start).
os.environ.setdefault("BOOTLINT_FIX_ERRORS", "raise")
FIXTURES = ROOT / "tests" / "fixtures"
SNAPSHOTS = ROOT / "tests" / "snapshots"
# Rules that apply only under a `target` setting: their fixtures and page examples are linted with it.
RULE_TARGET = {"BL706": "managed-instances"}
EXPECT_RE = re.compile(r"(?:#|//)\s*expect:\s*(BL\d{3})\s+(\d+):(\d+)")


def snapshot_path(fixture: Path) -> Path:
    """Where a fixture's reviewed snapshot is kept (tests/test_snapshots.py): the same relative
    place under tests/snapshots."""
    return SNAPSHOTS / fixture.relative_to(FIXTURES).parent / f"{fixture.name}.snap"


def shows_a_fix(fixture: Path) -> bool:
    """Whether the fixture's reviewed snapshot shows a fix on a finding of the fixture's rule
    (a finding line of that code, `[*]` after it when the fix is safe, followed by its
    `    fix (...)` line; the diff after them is not read): read at collection instead of
    linting every fixture there."""
    code = fixture.parent.name
    path = snapshot_path(fixture)
    if not path.is_file():
        return True   # no snapshot yet (test_snapshots fails for it): the fix tests run it
    lines = path.read_text(encoding="utf-8").split("\n")
    head = lines[:next((i for i, line in enumerate(lines) if line.startswith("# bootlint check")
                        and " --diff " in line), len(lines))]
    return any(line.endswith((f"[{code}]", f"[{code}] [*]")) and after.startswith("    fix (")
               for line, after in pairwise(head))


@functools.cache
def fixable_fixtures() -> tuple[Path, ...]:
    """The failing fixtures a fix test runs on: those of a rule whose definition declares fix
    requests (``fixes=`` in bootlint.rules.registry) whose snapshot shows a fix for the rule's
    finding. A rule attaches its request only to the shapes its fix can rewrite, and a front
    end may carry out none of the rule's request types (KeepInitGuard, RemoveTempFile and
    PipePayload are shell-only): the other fixtures have no fix to test. tests/test_fix_fixtures.py
    checks this list against a real lint of every failing fixture of a fixable rule."""
    from bootlint.rules import all_rules

    rules = all_rules()
    return tuple(sorted(p for p in FIXTURES.glob("*/BL*/fail-*")
                        if p.parent.name in rules and rules[p.parent.name].fixes and shows_a_fix(p)))


def lint_text(text: str | bytes, path: str = "bootstrap", select: tuple[str, ...] = (),
              extend: tuple[str, ...] = (), target: str = "default") -> list[tuple[str, int, int]]:
    """(code, line, column) of every finding for the given file contents."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    result = lint_source(SourceFile.from_bytes(path, raw), Selection(select, (), extend, target=target))
    return [(f.code, f.span.line, f.span.column) for f in result.findings]


def expectations(path: Path) -> list[tuple[str, int, int]]:
    """The ``# expect: BL001 6:29`` lines of a fixture."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return sorted((m.group(1), int(m.group(2)), int(m.group(3))) for m in EXPECT_RE.finditer(text))


def deployment(tmp: Path, name: str, text: str, mode: int = 0o755, extra: dict | None = None) -> Path:
    """A function's deployment folder for `bootlint verify`: ``bootstrap`` (``text``, ``mode``)
    and the ``extra`` files beside it."""
    folder = tmp / name
    folder.mkdir()
    (folder / "bootstrap").write_text(text)
    os.chmod(folder / "bootstrap", mode)
    for file, content in (extra or {}).items():
        (folder / file).write_text(content)
    return folder


def run_process(*args: str, cwd: Path | str | None = None, stdin: bytes | None = None,
                env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real command line in a child process: for tests about the process itself (its
    exit on a closed pipe, its imports, its environment at start-up, signals, worker processes)."""
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bootlint", *args], cwd=cwd, input=stdin,
                          capture_output=True, env=full_env, timeout=120)


def run_cli(*args: str, cwd: Path | str | None = None, stdin: bytes | None = None,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """The command line run in this process, as `python -m bootlint` runs it (`run_main`: its
    exit codes, its messages), with its own standard streams, working folder and environment;
    what it returns reads like :func:`run_process`'s result. Use run_process where the process
    itself is what is tested."""
    from click.testing import CliRunner

    from bootlint import cli

    runner = CliRunner()
    changes = {"NO_COLOR": None, **(env or {})}
    old_cwd = os.getcwd()
    old_argv = sys.argv
    code = 0
    with runner.isolation(input=stdin, env=changes) as streams:
        stdout, stderr = streams[0], streams[1]
        sys.argv = ["bootlint", *args]
        try:
            if cwd is not None:
                os.chdir(cwd)
            cli.run_main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            os.chdir(old_cwd)
            sys.argv = old_argv
            sys.stdout.flush()
            sys.stderr.flush()
            out, err = stdout.getvalue(), stderr.getvalue()
    return subprocess.CompletedProcess(["bootlint", *args], code, out, err)


# Options that mean "I am looking at a few tests" (or need one process): with any of them, or a
# test, file or folder named on the command line, the suite runs in this one process.
_ONE_PROCESS_OPTIONS = ("keyword", "usepdb", "trace", "lf", "stepwise", "collectonly", "looponfail")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """A bare `pytest` (the README's test command) spreads the suite over this machine's cores
    with pytest-xdist, up to four processes. Naming tests (a path, a node id, `-k`), `--pdb`,
    `--lf` and the like keep one process, where starting workers costs more than it saves;
    `-n N` chooses, `-n 0` keeps one process, `-p no:xdist` leaves xdist out. Each test module
    runs whole on one worker (`--dist loadscope`, unless `--dist` is given): the verify corpus
    and the language server are module fixtures, built once rather than once per worker."""
    option = config.option
    if not config.pluginmanager.has_plugin("xdist") or hasattr(config, "workerinput"):
        return
    if option.numprocesses is None and option.dist == "no" and not option.tx:
        named = config.args_source == pytest.Config.ArgsSource.ARGS
        if named or any(getattr(option, name, None) for name in _ONE_PROCESS_OPTIONS):
            return
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        if cores < 2:
            return
        option.numprocesses = min(cores, 4)
    if option.numprocesses and option.dist == "no":
        option.dist = "loadscope"


def pytest_collection_modifyitems(items):
    """Every Hypothesis test carries the `property` marker (`-m "not property"` leaves them out)."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)


class lazily:
    """A module imported when one of its names is first read: a test module names lsprotocol's
    ``types`` at its top (``types = lazily("lsprotocol.types")``) without importing it, and
    pygls with it, when it is collected (a third of a second)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        if attr.startswith("_"):   # pytest's look at every module-level object while collecting
            raise AttributeError(attr)
        return getattr(importlib.import_module(self._name), attr)


# Test modules whose tests talk to `bootlint server` through pytest-lsp's client (lsp_client_fixture).
LSP_MODULES: set[str] = set()


def lsp_client_fixture(*, scope: str = "function", **config):
    """pytest-lsp's ``pytest_lsp.fixture(config=ClientServerConfig(**config), scope=scope)``,
    with pytest-lsp (lsprotocol, pygls: half a second) imported when a selected test needs it,
    not when its module is collected. The decorated async generator gets the started client as
    ``lsp_client`` and its other arguments as fixtures; the fixture's value is the client, which
    is stopped after the generator's end."""
    import pytest_asyncio

    def wrapper(fn):
        LSP_MODULES.add(fn.__module__)

        @pytest_asyncio.fixture(scope=scope, loop_scope=scope)
        async def the_fixture(request):
            from pytest_lsp import ClientServerConfig

            _use_pytest_lsp(request.config)
            client = await ClientServerConfig(**config).start(devtools=request.config.getoption("devtools", None))
            steps = fn(**{name: client if name == "lsp_client" else request.getfixturevalue(name)
                          for name in inspect.signature(fn).parameters})
            await anext(steps, None)
            yield client
            await anext(steps, None)
            await client.stop()

        return the_fixture

    return wrapper


def _use_pytest_lsp(config) -> None:
    """pytest-lsp's hooks: a client's failures outside the test body and the server's log
    messages go into the test's report."""
    import pytest_lsp

    if not config.pluginmanager.is_registered(pytest_lsp):
        config.pluginmanager.register(pytest_lsp, "pytest_lsp")


def pytest_collection_finish(session):
    """pytest-lsp is loaded only when a selected test uses a server client (`-p pytest_lsp`
    loads it always, e.g. for its --lsp-devtools option)."""
    if any(getattr(getattr(item, "module", None), "__name__", None) in LSP_MODULES for item in session.items):
        _use_pytest_lsp(session.config)


def pytest_addoption(parser):
    parser.addoption("--snapshot-update", action="store_true", default=False,
                     help="Rewrite tests/snapshots from the current output (review the diff before committing).")


@pytest.fixture(scope="session")
def snapshot_update(request) -> bool:
    """Rewrite snapshots instead of comparing them: `--snapshot-update` or BOOTLINT_UPDATE_SNAPSHOTS=1."""
    return bool(request.config.getoption("--snapshot-update")) or os.environ.get(
        "BOOTLINT_UPDATE_SNAPSHOTS", "") not in ("", "0")


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(autouse=True)
def _own_cache_key(tmp_path_factory, monkeypatch):
    """The findings cache's HMAC key lives in the user's cache folder: the tests use their own
    (shared by the session), never the real one."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "user-cache"))


@pytest.fixture
def parse_counter(monkeypatch):
    """The paths the shell front end lowers during a test (a cache hit lowers nothing)."""
    import bootlint.frontends.shell.lower as lower

    calls = []
    real = lower.lower_shell

    def counting(*args, **kwargs):
        calls.append(args[0].path)
        return real(*args, **kwargs)

    monkeypatch.setattr(lower, "lower_shell", counting)
    return calls
