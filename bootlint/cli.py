"""The ``bootlint`` command line."""

from __future__ import annotations

import sys

import click

from bootlint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _codes(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip().upper() for part in value.replace(" ", ",").split(",") if part.strip())


def _check_codes(option: str, codes: tuple[str, ...]) -> None:
    """Unknown codes or prefixes are a usage error (exit 2), naming the option and the code."""
    from bootlint.rules import all_rules

    known = all_rules()
    for code in codes:
        if not any(c.startswith(code) for c in known):
            raise click.UsageError(f"{option}: unknown rule code '{code}' (see `bootlint rule --all`)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="bootlint", message="%(prog)s %(version)s")
def main() -> None:
    """bootlint: a static analyser for AWS Lambda custom-runtime `bootstrap` files."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "output_format", type=click.Choice(["concise", "json", "json-lines"]),
              default="concise", show_default=True, help="How findings are printed.")
@click.option("--select", metavar="CODES", help="Only these rules (codes or prefixes, comma-separated).")
@click.option("--ignore", metavar="CODES", help="Skip these rules (codes or prefixes).")
@click.option("--extend-select", metavar="CODES", help="Add rules (e.g. opt-in ones) to the selection.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, without the summary line.")
@click.option("--isolated", is_flag=True, help="Ignore configuration files.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--archives", is_flag=True,
              help="Also lint the .zip files a folder walk finds (a zip named as a PATH always is).")
@click.option("--max-file-size", type=click.IntRange(min=1), default=2 * 1024 * 1024,
              show_default=True, help="Files larger than this many bytes are skipped (BL904).")
def check(paths, output_format, select, ignore, extend_select, quiet, isolated, exit_zero,
          archives, max_file_size) -> None:
    """Lint bootstrap files, or folders searched for files named bootstrap, bootstrap.sh and
    bootstrap.py (default: the current folder)."""
    from bootlint.discover import discover
    from bootlint.engine import Selection
    from bootlint.report import concise, json_format
    from bootlint.runner import run

    selection = Selection(_codes(select), _codes(ignore), _codes(extend_select))
    _check_codes("--select", selection.select)
    _check_codes("--ignore", selection.ignore)
    _check_codes("--extend-select", selection.extend_select)
    targets = discover(list(paths) or ["."], archives=archives)
    result = run(targets, selection, max_file_size)
    findings = sorted(result.findings, key=lambda f: f.sort_key())
    for path, reason in result.unreadable:
        click.echo(f"{path}: error: cannot read: {reason}", err=True)
    if output_format == "json":
        text = json_format.render(findings)
    elif output_format == "json-lines":
        text = json_format.render_lines(findings)
    else:
        text = concise.render(findings, len(result.files), quiet)
    click.echo(text, nl=False)
    sys.exit(exit_code(result, findings, exit_zero))


def exit_code(result, findings, exit_zero: bool) -> int:
    """3 internal error, 2 unreadable input, 1 findings at warning or above, else 0."""
    if result.internal_error:
        return EXIT_INTERNAL
    if result.unreadable:
        return EXIT_USAGE
    if not exit_zero and any(f.severity.rank >= 2 for f in findings):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def run_main() -> None:
    """Console entry point: click's usage errors exit 2; anything unexpected exits 3 without a
    traceback."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # pragma: no cover - last line of defence
        click.echo(f"bootlint: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_INTERNAL)
