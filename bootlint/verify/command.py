"""The body of ``bootlint verify``: run, then report with check's reporters and exit codes."""

from __future__ import annotations

import sys

import click

RANKS = {"error": 3, "warning": 2, "info": 1}


def run(path: str, handler: str | None, task_root: str | None, event_files: list[str], timeout: float,
        fmt: str, outputs: list[tuple[str, str]], color: bool, fail_on: str, quiet: bool,
        exit_zero: bool) -> int:
    """Run the bootstrap, print the findings (stdout) and the run log (stderr); the exit code."""
    from bootlint.cli import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INTERNAL, EXIT_USAGE
    from bootlint.report import Run, render
    from bootlint.rules import all_rules
    from bootlint.verify import verify
    from bootlint.verify.package import PackageError

    events = []
    for name in event_files:
        try:
            with open(name, "rb") as handle:
                events.append(handle.read(6 * 1024 * 1024 + 1))
        except OSError as exc:
            click.echo(f"{name}: error: cannot read the event: {exc.strerror or exc}", err=True)
            return EXIT_USAGE
    try:
        result = verify(path, handler, task_root, events, timeout)
    except PackageError as exc:
        click.echo(f"bootlint verify: error: {exc}", err=True)
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
