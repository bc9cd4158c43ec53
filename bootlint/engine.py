"""Linting one file: read, find its front end in the registry, build the model, run the rules.

The engine knows no language: :mod:`bootlint.frontends.registry` says which exist and lowers files."""

from __future__ import annotations

from dataclasses import field, replace

from bootlint.frontends.registry import NotAnalysed, analysed_languages, by_name
from bootlint.frontends.registry import detect
from bootlint.diagnostics import Finding, Severity, Span
from bootlint.fixes.build import Fixer
from bootlint.model import RuntimeModel
from bootlint.rules import Rule, Subject, all_rules
from bootlint.files.source import SourceFile
from bootlint.util.records import dataclass

START = Span(1, 1, 1, 1)


_ENABLED: dict[tuple, bool] = {}   # Selection.enabled's answers (the rules' flags never change)


@dataclass
class Selection:
    """Which rules run: codes or prefixes selected and ignored (opt-in rules need their code)."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)   # code -> level override
    target: str = "default"   # "managed-instances": the function runs on Lambda Managed Instances

    def enabled(self, code: str) -> bool:
        # Asked for every rule of every file: answered once per selection and code in a run.
        key = (self.select, self.ignore, self.extend_select, code)
        try:
            answer = _ENABLED.get(key)
        except TypeError:   # lists given by a caller: not kept
            return self._enabled(code)
        if answer is None:
            answer = _ENABLED[key] = self._enabled(code)
        return answer

    def _enabled(self, code: str) -> bool:
        rule = all_rules()[code]
        picked = [s for s in self.select + self.extend_select if code.startswith(s)]
        if rule.opt_in:
            on = code in self.select or code in self.extend_select
        else:
            on = bool(picked) if self.select else True
        if rule.always_on:
            return True
        longest_pick = max((len(s) for s in picked), default=0)
        ignored = [s for s in self.ignore if code.startswith(s)]
        # The more specific of --select and --ignore wins (ruff's rule), ties to ignore.
        return on and not (ignored and max(len(s) for s in ignored) >= longest_pick)


@dataclass
class FileResult:
    """What linting one file gave: its findings, and what fixing it did."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    internal_error: bool = False
    # With --fix / --diff (bootlint.fixes.apply): fixes applied (or that would be), the diff, the
    # fixed bytes of standard input, and why the fixed file could not be written.
    fixed: int = 0
    diff: str = ""
    fixed_raw: bytes | None = None
    fix_problem: str = ""
    # The file's model, only when asked for (the server places suppression comments with it).
    model: RuntimeModel | None = field(default=None, repr=False, compare=False)


def finding(rule: Rule, path: str, span: Span, message: str, fix=None, related=(),
            severity: Severity | None = None) -> Finding:
    return Finding(rule.code, rule.name, severity or rule.severity, message, path, span, fix=fix,
                   related=tuple(related))


def skipped(display: str, selection: Selection, why: str) -> FileResult:
    """The result for a file (or archive member) bootlint chose not to read: BL904 saying why."""
    result = FileResult(display)
    if selection.enabled("BL904"):
        result.findings.append(finding(all_rules()["BL904"], display, START, why))
    return result


def lint_source(src: SourceFile, selection: Selection, keep_model: bool = False) -> FileResult:
    """Every finding for one file's bytes; never raises (a crash becomes BL999). With
    ``keep_model``, the result also carries the file's model. Runs on a thread with a large
    stack, where deep syntax cannot overflow a native parser."""
    from bootlint.util.deepstack import call_with_large_stack
    from bootlint.util.gcpause import gc_paused

    with gc_paused():
        return call_with_large_stack(_lint_source, src, selection, keep_model)


def _lint_source(src: SourceFile, selection: Selection, keep_model: bool = False) -> FileResult:
    rules = all_rules()
    result = FileResult(src.path)
    out = result.findings

    def meta(code: str, span: Span, message: str) -> None:
        if selection.enabled(code):
            out.append(finding(rules[code], src.path, span, message))

    def run_rules(subject: Subject, with_model: bool) -> None:
        fixer = Fixer(src, subject.frontend, subject.model.parsed if subject.model is not None else None)
        # What the model says for every rule, asked once (the rules never change the model).
        damaged = with_model and bool(subject.model.syntax_errors or subject.model.partial)
        runtime = None
        capabilities = subject.frontend.capabilities if with_model else frozenset()
        for code, rule in _checks(rules, selection, with_model):
            if with_model and damaged:
                continue
            if with_model and rule.runtime_only:
                if runtime is None:
                    runtime = subject.model.is_runtime
                if not runtime:
                    continue
            if with_model and not rule.needs <= capabilities:
                continue  # about what this language cannot express (an ERR trap in Python)
            try:
                reported: set[Span] = set()
                for v in rule.check(subject):
                    # The same place reached along two call paths is one finding (the first).
                    if v.span not in reported:
                        reported.add(v.span)
                        # The fix the rule asks for, carried out by the front end (a fix that
                        # fails costs the fix, not the finding: bootlint.fixes.build).
                        out.append(finding(rule, src.path, v.span, v.message, fixer.fix(v.fix, rule.fixes),
                                           v.related, v.severity))
            except RecursionError:
                raise  # the file is nested too deeply: said once, below
            except Exception as exc:  # a bug in one rule must not hide the others
                result.internal_error = True
                out.append(finding(rules["BL999"], src.path, START,
                                   f"internal error in rule {code} ({rule.name}): "
                                   f"{type(exc).__name__}: {exc}; please report this"))

    model = None
    try:
        detected = detect(src)
        if detected.language == "binary":
            meta("BL902", START, f"binary executable: bootlint analyses {analysed_languages()} "
                                 f"bootstraps only")
            return result
        frontend = detected.frontend
        # Packaging checks are about the file, whatever its language.
        run_rules(Subject(src, None, detected.language, detected.shebang, frontend), with_model=False)
        if src.utf16:
            pass  # the kernel cannot run it at all (BL401/BL405): its content is not analysed
        elif frontend is None:
            what = (f"`{detected.language}` bootstrap" if detected.shebang is not None else
                    f"a bootstrap without shebang whose code reads as `{detected.language}`")
            meta("BL902", START, f"{what}: bootlint analyses {analysed_languages()} bootstraps; "
                                 f"this file is not analysed")
        else:
            try:
                model = frontend.lower(src, detected.shebang)
            except NotAnalysed as exc:
                meta("BL900", START, str(exc))
            if model is not None:
                for span, message in model.syntax_errors:
                    meta("BL900", span, message)
                for span, message in model.unparsed:
                    meta("BL905", span, message)
                run_rules(Subject(src, model, detected.language, detected.shebang, frontend,
                                  target=selection.target), with_model=True)
    except RecursionError:
        model = None  # what was found so far stays; suppressions need a whole model
        meta("BL900", START, "the file is nested too deeply for bootlint to analyse it "
                             "(Python's recursion limit); it is not analysed further")
    except Exception as exc:
        result.internal_error = True
        out.append(finding(rules["BL999"], src.path, START,
                           f"internal error: {type(exc).__name__}: {exc}; please report this"))
    if model is not None and not result.internal_error:
        out = _suppress(out, model, src.path, selection)
    if keep_model:
        result.model = model
    lines = src.text.split("\n")
    result.findings = sorted((_finish(f, lines, selection) for f in out), key=Finding.sort_key)
    return result


# The rules with a check that a selection runs, with the model or without it: the same for
# every file of a run (kept with the rules table they came from: a test may swap a rule in).
_CHECKS: dict[tuple, tuple[dict, list]] = {}


def _checks(rules: dict, selection: Selection, with_model: bool) -> list:
    key = (selection.select, selection.ignore, selection.extend_select, with_model)
    try:
        kept = _CHECKS.get(key)
    except TypeError:   # lists given by a caller: not kept
        kept, key = None, None
    if kept is None or kept[0] is not rules:
        kept = (rules, [(code, rule) for code, rule in rules.items()
                        if rule.check is not None and rule.needs_model == with_model
                        and selection.enabled(code)])
        if key is not None:
            _CHECKS[key] = kept
    return kept[1]


def _finish(f: Finding, lines: list[str], selection: Selection) -> Finding:
    """The finding with its source line, at the severity the configuration gives its rule."""
    level = selection.severity.get(f.code)
    line = lines[f.span.line - 1] if 0 < f.span.line <= len(lines) else ""
    return replace(f, source_line=line, severity=Severity(level) if level else f.severity)


def _suppress(findings: list[Finding], model: RuntimeModel, path: str, selection: Selection) -> list[Finding]:
    """Apply the file's suppression comments; report unused (BL901) and invalid (BL903) ones."""
    from bootlint.config import suppress

    if not any(":" in text for _, _, text, _ in model.comments):
        return findings   # (a directive needs `bootlint:` or `noqa:`: none of them is one)
    rules = all_rules()
    frontend = by_name(model.language)
    noqa = bool(frontend and frontend.idioms.noqa)
    config_only = frozenset(code for code, rule in rules.items() if not rule.suppressible)
    comment = frontend.idioms.comment if frontend else "#"
    directives, problems = suppress.parse(model.comments, model.statements, set(rules), noqa=noqa,
                                          config_only=config_only, comment=comment)
    kept = suppress.apply(findings, directives)
    if selection.enabled("BL903"):
        kept += [finding(rules["BL903"], path, span, message) for span, message in problems]
    if selection.enabled("BL901"):
        for d in directives:
            unused = [c for c in d.codes if c not in d.used and selection.enabled(c)]
            if unused:
                kept.append(finding(rules["BL901"], path, d.span,
                                    f"this suppression of {', '.join(unused)} matched no finding: "
                                    f"remove it (or the code from it)"))
    return kept
