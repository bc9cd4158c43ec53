"""The ``bootlint`` command line."""

from __future__ import annotations

import errno
import os
import sys

import click

from bootlint import __version__
from bootlint.report.registry import FORMATS  # the names only: no reporter is imported
from bootlint.util.exits import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE


# Equal to bootlint.config.settings.MAX_FILE_SIZE_BOUND (a test keeps them equal; not imported at start-up).
MAX_FILE_SIZE_BOUND = 256 * 1024 * 1024


def _codes(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip().upper() for part in value.replace(" ", ",").split(",") if part.strip())


def _known_codes() -> set[str]:
    from bootlint.rules import all_rules

    return set(all_rules())


def _settings(config, isolated, select, ignore, extend_select, fail_on, max_file_size, target=None):
    """Defaults, then the configuration file, then the flags given on the command line."""
    from bootlint.config.settings import ConfigError, check_codes, resolve

    known = _known_codes()
    try:
        settings = resolve(config, isolated, known)
        for option, attribute, value in (("--select", "select", select), ("--ignore", "ignore", ignore),
                                         ("--extend-select", "extend_select", extend_select)):
            codes = _codes(value)
            if codes is not None:
                setattr(settings, attribute, tuple(check_codes(option, list(codes), known)))
                settings.origins[attribute] = "command line"
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if fail_on is not None:
        settings.fail_on, settings.origins["fail_on"] = fail_on, "command line"
    if max_file_size is not None:
        settings.max_file_size, settings.origins["max_file_size"] = max_file_size, "command line"
    if target is not None:
        settings.target, settings.origins["target"] = target, "command line"
    return settings


def _use_color(choice: str, stream) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="bootlint", message="%(prog)s %(version)s")
def main() -> None:
    """bootlint: a static analyser for AWS Lambda custom-runtime `bootstrap` files."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "output_format", type=click.Choice(FORMATS), default=None,
              help="How findings are printed [default: full on a terminal, else concise].")
@click.option("--output-file", "output_files", multiple=True, metavar="[FORMAT:]FILE",
              help="Also write a report to FILE (format from FORMAT: or the suffix: .sarif, .json, "
                   ".jsonl, .xml). Repeatable.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True, help="Colour in the full format (auto: on a terminal, unless NO_COLOR).")
@click.option("--select", metavar="CODES", help="Only these rules (codes or prefixes, comma-separated).")
@click.option("--ignore", metavar="CODES", help="Skip these rules (codes or prefixes).")
@click.option("--extend-select", metavar="CODES", help="Add rules (e.g. opt-in ones) to the selection.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              help="The lowest severity that makes the exit code 1 [default: warning].")
@click.option("--config", type=click.Path(dir_okay=False), help="Use this configuration file.")
@click.option("--isolated", is_flag=True, help="Ignore configuration files.")
@click.option("--show-settings", is_flag=True, help="Print the resolved settings and where each came from.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of them.")
@click.option("--stdin-filename", metavar="NAME", help="The name of the file read from standard input (PATH `-`).")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, without the summary line.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--archives", is_flag=True,
              help="Also lint the .zip files a folder walk finds (a zip named as a PATH always is).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes for many files [default: the number of CPUs; at most the "
                   "number of files and twice the CPUs].")
@click.option("--no-cache", is_flag=True, help="Do not read or write the findings cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=".bootlint_cache",
              show_default=True, help="Where the findings cache lives.")
@click.option("--max-file-size", type=click.IntRange(min=1, max=MAX_FILE_SIZE_BOUND), default=None,
              help="Files larger than this many bytes are skipped (BL904) [default: 2097152; "
                   "at most 268435456].")
@click.option("--target", type=click.Choice(["default", "managed-instances"]), default=None,
              help="Where the function runs: Lambda's default, or Lambda Managed Instances "
                   "(several invocations at once; BL706 applies) [default: default].")
@click.option("--fix", is_flag=True,
              help="Apply safe fixes to the files (standard input: print the fixed text), then "
                   "report what is left.")
@click.option("--unsafe-fixes", is_flag=True,
              help="With --fix or --diff, also apply fixes that change behaviour on purpose.")
@click.option("--diff", is_flag=True,
              help="Print a unified diff of what --fix would change and write nothing (exit 1 "
                   "when there is a diff).")
def check(paths, output_format, output_files, color, select, ignore, extend_select, fail_on, config,
          isolated, show_settings, statistics, stdin_filename, quiet, exit_zero, archives,
          jobs, no_cache, cache_dir, max_file_size, target, fix, unsafe_fixes, diff) -> None:
    """Lint bootstrap files, or folders searched for files named bootstrap, bootstrap.sh and
    bootstrap.py (default: the current folder)."""
    settings = _settings(config, isolated, select, ignore, extend_select, fail_on, max_file_size,
                         target)
    if show_settings:
        click.echo(settings.describe(), nl=False)
        sys.exit(EXIT_CLEAN)
    outputs = [_output_target(spec) for spec in output_files]
    fmt = output_format or ("full" if sys.stdout.isatty() else "concise")
    from bootlint.util.cache import Cache

    cache = Cache(cache_dir, enabled=not no_cache).open()
    if cache.warning:
        from bootlint.report import printable

        click.echo(f"bootlint: warning: {printable(cache.warning)}", err=True)
    fixing = None
    if fix or diff:
        from bootlint.fixes.apply import FixRequest

        fixing = FixRequest(write=not diff, unsafe=unsafe_fixes, stdin=_reads_stdin(list(paths), stdin_filename))
    per_file = not (config or isolated)
    result = _lint(list(paths), settings, stdin_filename, archives, jobs or os.cpu_count() or 1, cache,
                   fixing, quiet, per_file=per_file)
    findings = sorted(result.findings, key=lambda f: f.sort_key())
    from bootlint.report import Run, printable, render

    for path, reason in result.unreadable:
        click.echo(f"{printable(path)}: error: cannot read: {printable(reason)}", err=True)
    for path, reason in result.fix_problems:
        click.echo(f"{printable(path)}: error: cannot fix: {printable(reason)}", err=True)
    if diff:
        _show_diff(result, quiet)
        return

    fixed = sum(r.fixed for r in result.files)
    # Standard input fixed: the text goes to standard output, the report to standard error.
    to_stderr = fixing is not None and fixing.stdin
    report = Run(findings, [r.path for r in result.files], quiet,
                 _use_color(color, sys.stderr if to_stderr else sys.stdout),
                 rules=_rules_that_ran(settings), fixed=fixed, unsafe=unsafe_fixes,
                 fix_applied=fixing is not None, docs_url=settings.docs_url)
    for out_fmt, out_path in outputs:
        plain = Run(report.findings, report.files, report.quiet, False, report.rules,
                    docs_url=report.docs_url)
        text = render(out_fmt, plain)   # before opening: a failure leaves no truncated file
        try:
            with open(out_path, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise click.UsageError(f"--output-file {out_path}: {exc.strerror or exc}") from None
    if to_stderr:
        for r in result.files:
            if r.fixed_raw is not None:
                sys.stdout.buffer.write(r.fixed_raw)
                sys.stdout.buffer.flush()
    click.echo(_statistics(findings) if statistics else render(fmt, report), nl=False, color=report.color,
               err=to_stderr)
    sys.exit(exit_code(result, findings, exit_zero, settings.fail_rank))


def _reads_stdin(paths: list[str], stdin_filename: str | None) -> bool:
    return paths == ["-"] or bool(stdin_filename and not paths)


def _show_diff(result, quiet: bool) -> None:
    """--diff: the diffs on standard output, a count on standard error; exit 1 when there is a
    diff (as ruff does), 3 on an internal error, 2 when a file could not be read."""
    diffs = [r.diff for r in result.files if r.diff]
    for text in diffs:
        click.echo(text, nl=False)
    from bootlint.report import printable

    for r in result.files:   # a fix that did not do its job (BL999) is said, not only counted
        for f in r.findings:
            if f.code == "BL999":
                click.echo(f"{printable(r.path)}: error: {printable(f.message)} [BL999]", err=True)
    fixed = sum(r.fixed for r in result.files)
    if not quiet:
        noun = "problem" if fixed == 1 else "problems"
        files = len(diffs)
        click.echo(f"Would fix {fixed} {noun} in {files} file{'s' if files != 1 else ''}." if fixed
                   else "No fixes to apply.", err=True)
    if result.internal_error:
        sys.exit(EXIT_INTERNAL)
    if result.unreadable or result.fix_problems:
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_FINDINGS if diffs else EXIT_CLEAN)


def _lint(paths: list[str], settings, stdin_filename: str | None, archives: bool, jobs: int, cache,
          fixing=None, quiet: bool = False, per_file: bool = False):
    from bootlint.files.discover import discover
    from bootlint.engine import lint_source
    from bootlint.runner import RunResult, run, selection_for, skipped
    from bootlint.files.source import SourceFile

    out = RunResult()
    if "-" in paths or (stdin_filename and not paths):
        name = stdin_filename or "-"
        selection = selection_for(settings, name)
        raw = _read_stdin(settings.max_file_size)
        if len(raw) > settings.max_file_size:
            out.files.append(skipped(name, selection, f"standard input is over the "
                                     f"{settings.max_file_size:,}-byte limit: not linted "
                                     f"(raise it with --max-file-size)"))
        elif fixing is not None:
            from bootlint.fixes.apply import fix_file

            out.files.append(fix_file(SourceFile.from_bytes(name, raw), name, selection, fixing))
        else:
            out.files.append(lint_source(SourceFile.from_bytes(name, raw), selection))
        paths = [p for p in paths if p != "-"]
        if not paths:
            return out
        if fixing is not None:
            raise click.UsageError("--fix and --diff read standard input (PATH `-`) alone: "
                                   "name the other paths in another run")
    targets = discover(paths or ["."], archives=archives, exclude=settings.all_excludes,
                       respect_gitignore=settings.respect_gitignore, include=settings.extend_include)
    if not targets and not quiet:
        _say_nothing_found(paths or ["."], archives, tuple(settings.extend_include or ()))
    from bootlint.config.settings import ConfigError, NearestSettings

    nearest = NearestSettings(settings, _known_codes(), per_file=per_file)
    try:
        rest = run(targets, settings, jobs=jobs, cache=cache, fixing=fixing, nearest=nearest)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    out.files += rest.files
    out.unreadable += rest.unreadable
    return out


def _say_nothing_found(paths: list[str], archives: bool, include: tuple[str, ...] = ()) -> None:
    """A folder walk that finds nothing says so on stderr (the exit code stays 0, as ruff's)."""
    from bootlint.files.discover import BOOTSTRAP_NAMES

    names = ", ".join(sorted(BOOTSTRAP_NAMES))
    if include:
        names += ", files matching " + ", ".join(include)
    names += " and *.zip archives" if archives else ""
    where = ", ".join(paths)
    click.echo(f"bootlint: no bootstrap files found under {where} (looked for files named {names}; "
               f"excluded and git-ignored paths are skipped); name a file to lint it under any "
               f"name", err=True)


def _read_stdin(max_bytes: int) -> bytes:
    """Standard input, up to one byte over the limit; a closed or unreadable one is a usage
    error (exit 2)."""
    from bootlint.runner import read_bounded

    stream = sys.stdin
    if stream is None:
        raise click.UsageError("cannot read standard input (PATH `-`): it is closed")
    try:
        return read_bounded(stream.buffer, max_bytes)
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"cannot read standard input (PATH `-`): "
                               f"{getattr(exc, 'strerror', None) or exc}") from None


def _output_target(spec: str) -> tuple[str, str]:
    from bootlint.report.registry import SUFFIX_FORMATS

    fmt, sep, path = spec.partition(":")
    if sep and fmt in FORMATS:
        return fmt, path
    suffix = os.path.splitext(spec)[1].lower()
    if suffix in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffix], spec
    raise click.UsageError(f"--output-file {spec}: name the format, e.g. sarif:{spec} "
                           f"(known: {', '.join(FORMATS)})")


def _rules_that_ran(settings) -> list:
    from bootlint.rules import all_rules
    from bootlint.runner import selection_for

    selection = selection_for(settings, "")
    return [rule for code, rule in all_rules().items() if selection.enabled(code)]


def _statistics(findings) -> str:
    counts: dict[str, list] = {}
    for f in findings:
        counts.setdefault(f.code, [0, f.name])[0] += 1
    rows = sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))
    return "".join(f"{n:>5}  {code}  {name}\n" for code, (n, name) in rows)


def exit_code(result, findings, exit_zero: bool, fail_rank: int = 2) -> int:
    """3 internal error, 2 unreadable input, 1 findings at the fail-on level or above, else 0."""
    if result.internal_error:
        return EXIT_INTERNAL
    if result.unreadable or getattr(result, "fix_problems", None):
        return EXIT_USAGE
    if not exit_zero and any(f.severity.rank >= fail_rank for f in findings):
        return EXIT_FINDINGS
    return EXIT_CLEAN


@main.command()
@click.argument("path", type=click.Path())
@click.option("--handler", metavar="NAME", help="The _HANDLER value [default: function.handler].")
@click.option("--task-root", type=click.Path(file_okay=False), metavar="DIR",
              help="The folder copied as LAMBDA_TASK_ROOT [default: the bootstrap's folder].")
@click.option("--event", "events", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Send this event (repeatable) to your own handler instead of the probe scenario.")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=900), default=3.0, show_default=True,
              help="Seconds each invocation (and each start) may take.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default=None,
              help="How findings are printed [default: full on a terminal, else concise].")
@click.option("--output-file", "output_files", multiple=True, metavar="[FORMAT:]FILE",
              help="Also write a report to FILE. Repeatable.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="warning",
              show_default=True, help="The lowest severity that makes the exit code 1.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only: no run log, no summary line.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--env", "env", multiple=True, metavar="NAME=VALUE",
              help="A function environment variable (repeatable).")
@click.option("--env-file", "env_files", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Function environment variables, one NAME=VALUE a line (repeatable).")
@click.option("--no-sandbox", is_flag=True,
              help="Run without the sandbox (bubblewrap) where it is not available: the bootstrap "
                   "can then write anywhere you can.")
@click.option("--target", type=click.Choice(["default", "managed-instances"]), default="default",
              show_default=True, help="managed-instances: several invocations at once, as on Lambda "
                                      "Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY).")
@click.option("--concurrency", type=click.IntRange(min=1, max=64), default=4, show_default=True,
              help="With --target managed-instances: AWS_LAMBDA_MAX_CONCURRENCY.")
@click.option("--stream", is_flag=True,
              help="Play a streaming caller: a probe handler that writes its result in parts, and "
                   "when each part of the response arrives.")
def verify(path, handler, task_root, events, timeout, output_format, output_files, color, fail_on,
           quiet, exit_zero, env, env_files, no_sandbox, target, concurrency, stream) -> None:
    """EXECUTE a bootstrap against a local Runtime API and report what it did (unlike `check`,
    which never runs anything). PATH is a bootstrap, a folder holding one, or a deployment zip."""
    from bootlint.verify.command import run

    outputs = [_output_target(spec) for spec in output_files]
    fmt = output_format or ("full" if sys.stdout.isatty() else "concise")
    sys.exit(run(path, handler, task_root, list(events), timeout, fmt, outputs,
                 _use_color(color, sys.stdout), fail_on, quiet, exit_zero, env, env_files,
                 not no_sandbox, concurrency if target == "managed-instances" else None, stream))


@main.command("rule")
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def rule_command(code, show_all, output_format) -> None:
    """Print a rule's page (`bootlint rule BL101`), or list every rule (`--all`)."""
    import json

    from bootlint.docs import help_uri, page
    from bootlint.rules import all_rules

    rules = all_rules()
    # A page's address exists only where the configuration says the pages are published (a
    # configuration that cannot be read costs the links, not the page).
    from bootlint.config.settings import ConfigError, resolve

    try:
        docs_url = resolve(None, False, set(rules)).docs_url
    except ConfigError:
        docs_url = None
    if show_all or not code:
        rows = [{"code": r.code, "name": r.name, "severity": r.severity.value,
                 "default": "off (opt-in)" if r.opt_in else "on", "summary": r.summary,
                 "url": help_uri(r.code, docs_url)} for r in rules.values()]
        if output_format == "json":
            click.echo(json.dumps(rows, indent=2))
        else:
            for row in rows:
                click.echo(f"{row['code']}  {row['name']:<34} {row['severity']:<8} {row['default']:<13} "
                           f"{row['summary']}")
        return
    code = code.upper()
    if code not in rules:
        raise click.UsageError(f"unknown rule code '{code}' (see `bootlint rule --all`)")
    if output_format == "json":
        r = rules[code]
        click.echo(json.dumps({"code": r.code, "name": r.name, "severity": r.severity.value,
                               "opt_in": r.opt_in, "summary": r.summary,
                               "url": help_uri(code, docs_url), "page": page(code)}, indent=2))
    else:
        click.echo(page(code) or f"{code} {rules[code].name}: {rules[code].summary}\n", nl=False)


@main.command("server")
@click.option("--stdio", is_flag=True, help="Talk over standard input and output (the default and only "
                                            "transport; accepted because editors pass it).")
def server_command(stdio) -> None:
    """Run the language server for editors (Language Server Protocol over standard input and
    output)."""
    from bootlint.lsp.launch import serve   # answers `initialize` before importing pygls

    from bootlint.util.gcpause import end_start_up

    end_start_up()   # (started by the `bootlint` command: a server may wait long before its first lint)
    sys.exit(serve())


def entry() -> None:
    """The `bootlint` command and `python -m bootlint`: :func:`run_main`, then the process
    leaves at once (:func:`bootlint.util.exits.leave`)."""
    from bootlint.util.exits import leave

    try:
        run_main()
    except SystemExit as exc:
        leave(exc.code if isinstance(exc.code, int) else EXIT_CLEAN if exc.code is None else EXIT_USAGE)
    leave(EXIT_CLEAN)


def run_main() -> None:
    """The command line (the console entry, :func:`entry`, runs it in a process of its own):
    click's usage errors exit 2; Ctrl-C exits 130; output that cannot be written (a closed
    standard output, a full disk) exits 2 with a message; anything unexpected exits 3. Never a
    traceback."""
    code = _run_main()
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError as exc:
        _silence_stdout()
        if exc.errno != errno.EPIPE:   # a reader that went away (`| head`) is not an error
            _say(f"bootlint: error: cannot write the output: {exc.strerror or exc}")
            code = EXIT_USAGE
    except ValueError:   # closed by the command itself (the language server, at exit)
        pass
    sys.exit(code)


def _run_main() -> int:
    try:
        if sys.stdout is None:
            raise OSError(0, "standard output is closed")
        main.main(standalone_mode=False)
        return EXIT_CLEAN
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (EXIT_CLEAN if exc.code is None else EXIT_USAGE)
    except (KeyboardInterrupt, click.exceptions.Abort):
        return EXIT_INTERRUPTED
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        try:
            exc.show()
        except (OSError, ValueError):
            pass
        return exc.exit_code
    except OSError as exc:
        if exc.errno == errno.EPIPE:   # the reader went away (`| head`): as click exits then
            _silence_stdout()
            return EXIT_FINDINGS
        _silence_stdout()
        _say(f"bootlint: error: cannot write the output: {exc.strerror or exc}")
        return EXIT_USAGE
    except Exception as exc:  # pragma: no cover - last line of defence
        _say(f"bootlint: internal error: {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL


def _say(message: str) -> None:
    try:
        click.echo(message, err=True)
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    """Send what is still buffered for standard output nowhere, so that the interpreter's own
    flush at exit does not fail (and print a traceback) a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
