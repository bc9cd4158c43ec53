"""BL4xx: the file as Lambda will execute it, before a line of it runs."""

from __future__ import annotations

from typing import Iterator

from bootlint.frontends.registry import suggested_shebangs
from bootlint.diagnostics import Severity, Span, Violation
from bootlint.fixes.requests import ConvertLineEndings, MakeExecutable, RemoveByteOrderMark, SplitEnvArguments
from bootlint.rules.registry import Scope, meta_rule, rule
from bootlint.rules.subject import Subject

LINE_1 = Span(1, 1, 1, 1)
PACKAGING = dict(runtime_only=False, scope=Scope.BOOTSTRAP)


def _line_end(subject: Subject, line: int) -> Span:
    text = subject.source.text.split("\n", line)[line - 1] if subject.source.text else ""
    return Span(line, 1, line, len(text) + 1)


@rule("BL401", "missing-shebang", "error", "The bootstrap does not start with `#!`.", **PACKAGING)
def missing_shebang(subject: Subject) -> Iterator[Violation]:
    src = subject.source
    if src.utf16 and not src.raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        yield Violation(LINE_1, f"the file is {src.utf16}: the kernel sees `#\\x00!`, not `#!`, and "
                                f"cannot execute it (exec format error); save it as UTF-8")
        return
    if not src.is_entrypoint or src.shebang is not None:
        return
    yield Violation(LINE_1, ("the bootstrap does not start with `#!`: Lambda executes it directly and fails "
                   f"with Runtime.InvalidEntrypoint (exec format error); add {suggested_shebangs()} "
                   f"as the first line"))


@rule("BL402", "crlf-line-endings", "error", "CR LF line endings.", fixes=(ConvertLineEndings,),
      **PACKAGING)
def crlf_line_endings(subject: Subject) -> Iterator[Violation]:
    src = subject.source
    if src.cr_only:
        yield Violation(_line_end(subject, 1), (
            "the file has CR line endings and no LF (classic Mac OS): the kernel reads the whole "
            "file as the `#!` line and cannot find that interpreter, and the interpreter would see "
            "one line; convert the line endings to LF"))
        return
    if not src.has_crlf:
        return
    default = subject.idioms.shebang[2:]
    interpreter = (src.shebang or "#!" + default)[2:].strip().split(" ")[0] or default
    first = f" (first on line {src.crlf_line})" if src.crlf_line != 1 else ""
    yield Violation(_line_end(subject, 1), (
        f"the file has CR LF line endings{first}: the kernel looks for the interpreter "
        f"`{interpreter}\\r` (\"bad interpreter\") and the interpreter reads `\\r` into every line; "
        f"convert to LF (`dos2unix`, or `git config core.autocrlf false` and a .gitattributes "
        f"`bootstrap text eol=lf`)"), ConvertLineEndings())


@rule("BL403", "not-executable", "error", "The bootstrap lacks the execute bit.", fixes=(MakeExecutable,),
      **PACKAGING)
def not_executable(subject: Subject) -> Iterator[Violation]:
    src = subject.source
    if not src.is_entrypoint or src.executable is not False:
        return
    where = {"disk": "on disk", "git index": "in the git index (what a clone or CI checkout gets)",
             "zip": "in the archive"}.get(src.mode_origin, src.mode_origin)
    note = f" ({src.mode_note})" if src.mode_note else ""
    import shlex

    path = shlex.quote(src.path)
    advice = {"git index": f"run `git update-index --chmod=+x {path}` (bootlint does not change "
                           f"the index)",
              "zip": "`chmod 755 bootstrap` before zipping (zip keeps Unix modes)"}.get(
        src.mode_origin, f"`chmod +x {path}`")
    # Only a mode read from the disk can be changed (not the git index's, nor an archive's).
    fix = MakeExecutable() if src.mode_origin == "disk" and src.mode is not None else None
    yield Violation(LINE_1, f"the bootstrap is not executable {where}{note}: Lambda cannot start it "
                            f"(Runtime.InvalidEntrypoint, permission denied); {advice}", fix)


@rule("BL405", "byte-order-mark", "error", "A UTF-8 byte-order mark before `#!`.",
      fixes=(RemoveByteOrderMark,), **PACKAGING)
def byte_order_mark(subject: Subject) -> Iterator[Violation]:
    src = subject.source
    if src.utf16 and src.raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        mark = "".join(f"\\x{byte:02x}" for byte in src.raw[:2])
        yield Violation(LINE_1, f"the file is {src.utf16}: the kernel sees `{mark}` before `#!` and "
                                f"cannot execute it (exec format error); save it as UTF-8 without BOM")
        return
    if src.has_bom:
        yield Violation(LINE_1, "the file starts with a UTF-8 byte-order mark: the kernel sees "
                                "`\\xef\\xbb\\xbf#!`, not `#!`, and cannot execute it (exec format "
                                "error); save it as UTF-8 without BOM", RemoveByteOrderMark())


@rule("BL406", "invalid-shebang", "error", "A shebang that cannot work.", fixes=(SplitEnvArguments,),
      **PACKAGING)
def invalid_shebang(subject: Subject) -> Iterator[Violation]:
    shebang = subject.shebang
    line = subject.source.shebang
    if line is None:
        return
    span = _line_end(subject, 1)
    body = line[2:].strip()
    if not body:
        yield Violation(span, f"the shebang names no interpreter: write {suggested_shebangs()}")
        return
    if shebang is None:
        return
    if not shebang.path.startswith("/"):
        # Lambda starts the bootstrap in the task root, so `#!./bin/picolisp` works when the
        # interpreter ships there: a warning, not an error.
        absolute = "/var/task/" + shebang.path.removeprefix("./")
        yield Violation(span, (
            f"the interpreter `{shebang.path}` is a relative path: the kernel resolves it from the "
            f"working directory, not the bootstrap's folder, so it works only when the bootstrap is "
            f"started from the folder that holds it (Lambda starts it in the task root, /var/task; "
            f"not from a layer in /opt, nor from another folder locally); an absolute path "
            f"(`#!{absolute}`) does not depend on the working directory"), severity=Severity.WARNING)
        return
    if shebang.via_env and not shebang.env_split and shebang.args:
        command = " ".join([shebang.interpreter, *shebang.args])
        yield Violation(span, (
            f"`#!{body}` gives env one argument, `{command}`, which names no program (Linux passes "
            f"everything after the interpreter as one argument); write `#!/usr/bin/env -S {command}` "
            f"or set the options in the script"), SplitEnvArguments(shebang.path))
        return
    if shebang.via_env and not shebang.interpreter:
        yield Violation(span, f"`#!/usr/bin/env` names no program: write `{subject.idioms.env_shebang}`")


meta_rule("BL404", "bootstrap-not-at-archive-root", "error",
          "A deployment zip has no `bootstrap` at its root, but has one deeper.", scope=Scope.ARCHIVE)
