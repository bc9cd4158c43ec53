"""``bootlint verify``: run a bootstrap against a local Runtime API and report what it did.

This is the one part of bootlint that executes the code it is given. ``check`` predicts; this
shows: the same codes, each finding saying it was observed.
"""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import field

from bootlint.diagnostics import Finding, Span
from bootlint.model import RuntimeModel
from bootlint.util.records import dataclass

DEFAULT_TIMEOUT = 3.0    # seconds per invocation: Lambda's default function timeout
RUNTIME_DIR_INSIDE, TMP_INSIDE = "/var/runtime", "/tmp"
# A machine that needs more than this share of the deadline (and over a second) to start a
# trivial process cannot tell a slow runtime from a slow machine: the run is not judged (exit 2).
TOO_SLOW_SHARE = 0.25
TOO_SLOW_FLOOR = 1.0


def _too_slow(took: float, timeout: float) -> bool:
    return took > max(timeout * TOO_SLOW_SHARE, TOO_SLOW_FLOOR)


@dataclass
class VerifyResult:
    """The findings of one run and the lines that describe it (for stderr)."""

    display: str
    findings: list[Finding] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    probe_used: bool = False
    observed: list = field(default_factory=list)    # bootlint.verify.observe.Observation
    timeline: object | None = None
    internal_error: bool = False


def static_model(path: str, display: str) -> tuple[RuntimeModel | None, str, str]:
    """``check``'s model of the bootstrap (None if it has none), its language and its text."""
    from bootlint.frontends.registry import detect
    from bootlint.files.source import SourceFile

    with open(path, "rb") as handle:
        raw = handle.read(2 * 1024 * 1024)
    src = SourceFile.from_bytes(display, raw)
    detected = detect(src)
    if detected.frontend is None:
        return None, detected.language, src.text
    try:
        model = detected.frontend.lower(src, detected.shebang)
    except Exception:  # noqa: BLE001 - the static side failing must not stop the run
        model = None
    return model, detected.language, src.text


def verify(path: str, handler: str | None = None, task_root: str | None = None,
           events: list[bytes] | None = None, timeout: float = DEFAULT_TIMEOUT,
           env: dict[str, str] | None = None, sandbox: bool = True,
           concurrency: int | None = None, stream: bool = False) -> VerifyResult:
    """Run the bootstrap at ``path`` (a file, a folder or a zip) and report what was observed.
    With ``concurrency``, as on Lambda Managed Instances (:mod:`bootlint.verify.managed`); with
    ``stream``, for a streaming caller (:mod:`bootlint.verify.streaming`).

    Raises :class:`bootlint.verify.package.PackageError` for input that cannot be run at all,
    :class:`bootlint.verify.process.EnvironmentProblem` for a run this machine cannot make or
    judge (no sandbox without ``sandbox=False``, no process could start, loopback down).
    """
    from bootlint.verify import workdir
    from bootlint.verify.emulator.server import ApiUnavailable
    from bootlint.verify.package import PackageError, prepare
    from bootlint.verify.probe import handler_problem
    from bootlint.verify.process import EnvironmentProblem
    from bootlint.verify.sandbox import find

    if not math.isfinite(timeout) or timeout <= 0:
        raise PackageError(f"--timeout {timeout}: not a number of seconds")
    if handler is not None and handler_problem(handler):
        raise PackageError(f"--handler {handler}: {handler_problem(handler)}; a handler names a "
                           f"file inside the task root (`function.handler`, `src/app.handler`)")
    bwrap = None
    if sandbox:
        bwrap, why = find()
        if bwrap is None:
            raise EnvironmentProblem(
                f"no sandbox: {why}. bootlint verify runs the bootstrap only in a sandbox (a "
                f"private /tmp, the file system read-only, every process it starts ended with "
                f"the run); --no-sandbox runs it on this machine as you, where it can write "
                f"anywhere you can")
    if _too_slow_to_start(bwrap, timeout):
        raise EnvironmentProblem(
            f"this machine is too slow to judge a run with a {timeout:g} s deadline: starting a "
            f"trivial process takes over a second and a quarter of it (give a longer --timeout)")
    work = workdir.make()
    try:
        package = prepare(path, task_root, work)
        try:
            return _run(package, handler, events, timeout, work, env or {}, bwrap, concurrency, stream)
        except ApiUnavailable as exc:   # the loopback interface: nothing was judged
            raise EnvironmentProblem(str(exc)) from None
    finally:
        workdir.remove(work)


def _too_slow_to_start(bwrap: str | None, timeout: float) -> bool:
    from bootlint.verify.sandbox import spawn_seconds

    return _too_slow(spawn_seconds(bwrap), timeout)


def _run(package, handler, events, timeout, work, env, bwrap, concurrency=None, stream=False) -> VerifyResult:
    from bootlint.verify.emulator import RuntimeApi
    from bootlint.rules import all_rules
    from bootlint.verify.observe import init_errors, observations
    from bootlint.verify.probe import UnsafeHandler, plan
    from bootlint.verify.process import command_for, lambda_environment
    from bootlint.verify.package import PackageError
    from bootlint.verify.sandbox import Layout, inside_path, wrap
    from bootlint.verify.scenario import Driver, probe_event

    result = VerifyResult(package.display)
    rules = all_rules()
    if bwrap:
        from bootlint.verify.sandbox import hidden_by_private_tmp

        hidden = hidden_by_private_tmp(env.get("PATH") or os.environ.get("PATH", os.defpath))
        if hidden:
            result.log.append(f"verify: note: PATH names {', '.join(hidden)}, under /tmp, which the sandbox "
                              f"replaces by a private, empty /tmp (as Lambda does): programs there are not found")
    if not package.executable:
        rule = rules["BL403"]
        result.findings.append(Finding(
            rule.code, rule.name, rule.severity,
            f"the bootstrap is not executable ({'in the zip' if package.mode_origin == 'zip' else 'on disk'}): "
            f"Lambda cannot start it (Runtime.InvalidEntrypoint); the run was not attempted "
            f"(`chmod +x`)", package.display, Span(1, 1, 1, 1)))
        result.log.append("verify: not run: the bootstrap is not executable")
        return result
    model, language, text = static_model(package.bootstrap, package.display)
    probe = None if events else plan(model, text, handler)
    tmpdir = os.path.join(work, "tmp")
    runtime_dir = os.path.join(work, "runtime")
    os.makedirs(tmpdir)
    os.makedirs(runtime_dir)
    with open(package.bootstrap, "rb") as handle:
        first_line = handle.read(512)
    argv, executable, note = command_for(package.bootstrap, first_line)
    if bwrap is not None:
        seen = Layout(inside_path(package.task_root, package.task_root), RUNTIME_DIR_INSIDE, TMP_INSIDE)
        argv, executable = wrap(bwrap, argv, executable, package.task_root, runtime_dir, tmpdir), None
        marker = ""
    else:
        seen = Layout(package.task_root, runtime_dir, tmpdir)
        marker = f"TMPDIR={tmpdir}"
    if concurrency or stream:
        from bootlint.verify.managed import run_managed
        from bootlint.verify.streaming import run_streaming, templates

        variables = lambda_environment("", probe.handler if probe else (handler or "function.handler"),
                                       seen.task_root, seen.runtime_dir, seen.tmp, extra=env)
        if probe is not None:
            result.probe_used = True
            try:
                probe.write(package.task_root, templates=templates() if stream else None)
            except UnsafeHandler as exc:
                raise PackageError(f"--handler {probe.handler}: {exc}") from None
            result.log.append(f"  probe handler: {probe.how}" + (" (streaming: three parts)" if stream else ""))
        launch = {"argv": argv, "executable": executable, "cwd": package.task_root, "env": variables}
        if stream:
            run_streaming(result, launch, model, probe, timeout, marker)
        else:
            run_managed(result, launch, model, probe, concurrency, timeout, marker)
        return result
    with RuntimeApi() as api:
        api.check_loopback()
        variables = lambda_environment(api.address, probe.handler if probe else (handler or "function.handler"),
                                       seen.task_root, seen.runtime_dir, seen.tmp, extra=env)
        launch = {"argv": argv, "executable": executable, "cwd": package.task_root, "env": variables}
        driver = Driver(api, launch, timeout, marker=marker, tmpdir=tmpdir)
        result.log.append(f"verify: running {package.display} against a local Runtime API at "
                          f"{api.address} (it executes the bootstrap)")
        result.log.append("  sandbox: bubblewrap (private /tmp, task root read-only at /var/task, "
                          "host read-only, processes end with the run)" if bwrap is not None else
                          "  sandbox: NONE (--no-sandbox): the bootstrap runs on this machine as you")
        if note:
            result.log.append(f"  note: {note}")
        try:
            if probe is not None:
                result.probe_used = True
                try:
                    probe.write(package.task_root)
                except UnsafeHandler as exc:
                    raise PackageError(f"--handler {probe.handler}: {exc}") from None
                result.log.append(f"  probe handler: {probe.how}")
                for n, action in enumerate(("succeed", "fail", "succeed"), start=1):
                    outcome = driver.invoke("success" if action == "succeed" else "failure",
                                            probe_event(n, action))
                    if n == 1 and outcome.ended in ("timeout", "init-timeout"):
                        # A runtime that cannot answer a successful invocation shows nothing
                        # more with the others: each would only wait out its deadline.
                        result.log.append("  the first invocation was not answered: the others "
                                          "were not sent")
                        break
                driver.stop()
                driver.timeline.main_starts = len(driver.timeline.starts)
                if probe.loads_at_init:
                    probe.remove(package.task_root)
                    driver.init_run()
            else:
                if not events:
                    result.log.append("  no probe handler: the model shows no handler file bootlint can "
                                      "supply, so the package's own handler runs with two `{}` events "
                                      "(give --event FILE for real ones); protocol checks only")
                for event in events or [b"{}", b"{}"]:
                    driver.invoke("event", event)
                driver.stop()
                driver.timeline.main_starts = len(driver.timeline.starts)
        finally:
            driver.stop()
        driver.collect_probes()
    timeline = driver.timeline
    result.timeline = timeline
    if any(o.ended in ("timeout", "init-timeout") for o in timeline.outcomes):
        _judgeable(bwrap, timeout)
    result.observed = observations(timeline, probe is not None, model, timeout)
    lines = text.split("\n")
    users = _user_paths(package, seen.task_root)
    for item in result.observed:
        rule = rules[item.code]
        line = lines[item.span.line - 1] if item.span.line > 1 or item.span.column > 1 else ""
        result.findings.append(Finding(rule.code, rule.name, rule.severity, users(item.message),
                                       package.display, item.span, source_line=line))
    result.log.extend(users(line) for line in _describe(timeline))
    reported = init_errors(timeline)
    if reported and all(o.ended == "init-error" for o in timeline.outcomes):
        result.log.append(users(
            "  every start reported an init error and exited, as a runtime must ("
            + "; ".join(reported) + "): the invocations could not run"
            + (", so only the init path was judged" if probe else "")))
    return result


def _judgeable(bwrap: str | None, timeout: float) -> None:
    """A deadline was missed: make sure it was the runtime's doing, not a machine too busy to
    start a process in time (:class:`EnvironmentProblem`, never a finding or a silent pass)."""
    from bootlint.verify.process import EnvironmentProblem
    from bootlint.verify.sandbox import spawn_seconds

    took = spawn_seconds(bwrap)
    if _too_slow(took, timeout):
        raise EnvironmentProblem(
            f"this machine is too slow to judge the run: starting a trivial process took "
            f"{took:.1f} s (over a second and a quarter of the {timeout:g} s deadline); a missed deadline could be "
            f"the machine's, not the runtime's (give a longer --timeout, or run it on a quieter machine)")


def _user_paths(package, inside: str):
    """A function that writes the run's private paths (the temporary copy, ``/var/task`` in the
    sandbox) as the user's own: their folder, or ``fn.zip!``."""
    user = (package.display.rsplit("!", 1)[0] + "!" if package.mode_origin == "zip"
            else (os.path.dirname(package.display) or "."))
    private = sorted({package.task_root.rstrip("/"), inside.rstrip("/")}, key=len, reverse=True)

    def users(text: str) -> str:
        for path in private:
            text = text.replace(path + "/", user + ("" if user.endswith("!") else "/")).replace(path, user)
        return text
    return users


def _describe(timeline) -> list[str]:
    from bootlint.verify.observe import describe_error

    lines = []
    for i, o in enumerate(timeline.outcomes, start=1):
        inv = o.invocation
        what = {"answered": (f"/{inv.outcome} 202" if inv.outcome != "closed" else
                             f"closed by the Runtime API ({inv.failure})"),
                "exited": f"not answered: the process exited ({o.exit})",
                "init-error": (f"never delivered: the runtime reported an init error "
                               f"({describe_error(o.init_error.body)}) and exited ({o.exit}), "
                               f"as it should" if o.init_error else ""),
                "timeout": "not answered before the deadline", "init-exited":
                f"never delivered: the process exited during init ({o.exit})",
                "init-timeout": "never delivered: the process did not ask for it"}.get(o.ended, o.ended)
        after = {"next": f", next request {o.overhead * 1000:.0f} ms later" if o.overhead is not None else "",
                 "exited": f", then the process exited ({o.exit})", "idle": ", then no next request"}.get(o.after, "")
        cold = " (cold start)" if o.new_starts else ""
        lines.append(f"  invocation {i} ({o.label}){cold}: {what}{after}")
    if timeline.init_run is not None:
        run = timeline.init_run
        lines.append("  init run (a handler that cannot load): " + (
            f"/init/error {run.posted.status}, then {run.after_post}" if run.posted else
            f"no /init/error ({run.before_post}; {run.exit})"))
    overheads = [o.overhead for o in timeline.outcomes if o.overhead is not None]
    init = (f"init {statistics.median(timeline.init_times) * 1000:.0f} ms (median of "
            f"{len(timeline.init_times)} start{'s' if len(timeline.init_times) != 1 else ''})"
            if timeline.init_times else "init: no start asked for an event")
    over = (f"overhead {statistics.median(overheads) * 1000:.1f} ms per invocation (response to next "
            f"request, median of {len(overheads)})" if overheads else "overhead: not measured")
    lines.append(f"  {init}; {over}; {timeline.main_starts} start{'s' if timeline.main_starts != 1 else ''} "
                 f"for {len(timeline.outcomes)} event{'s' if len(timeline.outcomes) != 1 else ''}")
    flooded = [(s.number, name, getattr(s, name).truncated) for s in timeline.starts
               for name in ("stdout", "stderr") if getattr(s, name).truncated]
    for number, name, extra in flooded:
        lines.append(f"  start {number} printed {extra:,} more bytes on {name} than the "
                     f"{64 * 1024:,} kept (truncated)")
    return lines
