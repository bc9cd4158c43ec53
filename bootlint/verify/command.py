"""The body of ``bootlint verify``: run, then report with check's reporters and exit codes."""

from __future__ import annotations

import re
import signal
import sys
import threading

import click

RANKS = {"error": 3, "warning": 2, "info": 1}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENV_FILE_BYTES = 4 * 1024        # Lambda's limit for all of a function's variables together


class Stopped(BaseException):
    """A signal that ends the run (SIGTERM from a cancelled job, SIGHUP from a closed terminal):
    raised in the main thread so that every ``finally`` ends the bootstrap and removes the
    run's folder before bootlint exits."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum, _frame) -> None:
    for other in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(other, signal.SIG_IGN)   # a second signal must not cut the clean-up short
    raise Stopped(signum)


def parse_env(pairs: list[str], files: list[str]) -> dict[str, str]:
    """``--env-file`` lines (``NAME=VALUE``, ``#`` comments, blank lines) then ``--env`` pairs,
    later ones winning; :class:`ValueError` with the user's words for a bad one."""
    out: dict[str, str] = {}
    entries: list[tuple[str, str]] = []
    for name in files:
        try:
            with open(name, "rb") as handle:
                raw = handle.read(ENV_FILE_BYTES * 16 + 1)
        except OSError as exc:
            raise ValueError(f"--env-file {name}: cannot read: {exc.strerror or exc}") from None
        for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
            line = line.strip()
            if line and not line.startswith("#"):
                entries.append((f"{name}:{number}", line.removeprefix("export ")))
    entries += [("--env", pair) for pair in pairs]
    for where, pair in entries:
        name, eq, value = pair.partition("=")
        if not eq or not ENV_NAME.match(name):
            raise ValueError(f"{where}: `{pair[:80]}` is not NAME=VALUE")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" and where != "--env":
            value = value[1:-1]
        out[name] = value
    return out


def run(path: str, handler: str | None, task_root: str | None, event_files: list[str], timeout: float,
        fmt: str, outputs: list[tuple[str, str]], color: bool, fail_on: str, quiet: bool,
        exit_zero: bool, env: list[str] = (), env_files: list[str] = (), sandbox: bool = True,
        concurrency: int | None = None, stream: bool = False) -> int:
    """Run the bootstrap, print the findings (stdout) and the run log (stderr); the exit code."""
    main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGHUP)} if main else {}
    try:
        return _run(path, handler, task_root, event_files, timeout, fmt, outputs, color, fail_on,
                    quiet, exit_zero, list(env), list(env_files), sandbox, concurrency, stream)
    except Stopped as stop:
        click.echo(f"bootlint verify: stopped by {signal.Signals(stop.signum).name}: the bootstrap "
                   f"and everything it started were ended, its temporary files removed", err=True)
        return 128 + stop.signum
    finally:
        for sig, handler_ in previous.items():
            signal.signal(sig, handler_)


def _run(path, handler, task_root, event_files, timeout, fmt, outputs, color, fail_on, quiet,
         exit_zero, env, env_files, sandbox, concurrency=None, stream=False) -> int:
    from bootlint.util.exits import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INTERNAL, EXIT_USAGE
    from bootlint.report import Run, render
    from bootlint.rules import all_rules
    from bootlint.verify import verify
    from bootlint.verify.package import PackageError
    from bootlint.verify.process import EnvironmentProblem

    try:
        variables = parse_env(env, env_files)
    except ValueError as exc:
        click.echo(f"bootlint verify: error: {exc}", err=True)
        return EXIT_USAGE

    events = []
    for name in event_files:
        try:
            with open(name, "rb") as handle:
                events.append(handle.read(6 * 1024 * 1024 + 1))
        except OSError as exc:
            click.echo(f"{name}: error: cannot read the event: {exc.strerror or exc}", err=True)
            return EXIT_USAGE
    if not sandbox and not quiet:
        click.echo("bootlint verify: warning: --no-sandbox: the bootstrap runs on this machine as "
                   "you; it can read and write anything you can", err=True)
    try:
        result = verify(path, handler, task_root, events, timeout, env=variables, sandbox=sandbox,
                        concurrency=concurrency, stream=stream)
    except PackageError as exc:
        click.echo(f"bootlint verify: error: {exc}", err=True)
        return EXIT_USAGE
    except EnvironmentProblem as exc:
        click.echo(f"bootlint verify: error: the run could not be made: {exc}", err=True)
        return EXIT_USAGE
    except OSError as exc:
        click.echo(f"bootlint verify: error: cannot run {path}: {exc.strerror or exc}", err=True)
        return EXIT_USAGE
    if not quiet:
        for line in result.log:
            click.echo(line, err=True)
    findings = sorted(result.findings, key=lambda f: f.sort_key())
    used = {f.code for f in findings}
    rules = [rule for code, rule in all_rules().items() if code in used]
    report = Run(findings, [result.display], quiet, color, rules=rules)
    for out_fmt, out_path in outputs:
        try:
            with open(out_path, "w", encoding="utf-8") as handle:
                handle.write(render(out_fmt, Run(findings, report.files, quiet, False, rules)))
        except OSError as exc:
            click.echo(f"--output-file {out_path}: {exc.strerror or exc}", err=True)
            return EXIT_USAGE
    sys.stdout.write(render(fmt, report))
    sys.stdout.flush()
    if result.internal_error:
        return EXIT_INTERNAL
    if not exit_zero and any(f.severity.rank >= RANKS[fail_on] for f in findings):
        return EXIT_FINDINGS
    return EXIT_CLEAN
