"""Lowering simple commands: the builtins and tools the model has an event for (set, shopt,
exit, exec, `.`, mktemp, rm, find, trap, the HTTP clients, header look-ups), chosen by name from
:data:`COMMANDS`, and the handler's call with what happens to its status."""

from __future__ import annotations

import re
from typing import Callable

from bootlint.diagnostics import Span
from bootlint.files.source import SourceFile
from bootlint.frontends.shell.clients import HTTP_CLIENTS
from bootlint.frontends.shell.commands import (
    COMMON_COMMANDS, FIND_DELETES, FIND_EXECS, REMOVERS, SHELL_BUILTINS, TEMP_DIRS,
)
from bootlint.frontends.shell.syntax import (
    command_args, command_name, expansion_names, key, node_text,
)
from bootlint.frontends.shell.jobs import describe
from bootlint.frontends.shell.status import failure_condition, failure_guard
from bootlint.frontends.shell.values import unbind
from bootlint.model import (
    ApiCall, ArgvPayload, CallFunction, Endpoint, EnvSet, Exit, ExitKind, Handover, HandlerCall,
    HeaderMatch, InitStep, Node, PerEventWork, ProgramRun, SetOption, Subshell, TempCreate, TempRemove,
    TrapSet, flatten,
)

HEADER_TOOLS = {"grep", "egrep", "fgrep", "zgrep", "awk", "gawk", "mawk", "sed"}


class CommandLowering:
    """The part of the lowering that turns one simple command into events (a mixin of the
    lowering in :mod:`bootlint.frontends.shell.lower`, which holds the state it reads)."""

    def span(self, node) -> Span:
        return self.src.node_span(node)

    def _argv_payload(self, node, name: str | None, args) -> list[Node]:
        """The event passed as an argument to an external program (Linux caps one at 128 KiB)."""
        if not self.event.event_vars:
            return []
        if name is None:
            # `"$LAMBDA_TASK_ROOT/handler"`: a path whose directory is a variable is a program too
            # (a substitution or a bare `"$CMD"` may be a function or a builtin).
            word = command_name(node)
            text = node_text(word) if word is not None and word.type in ("string", "concatenation") else ""
            if "/" not in text.split("$(", 1)[0] or not expansion_names(word):
                return []
            name = text.strip("\"'")
        base = name.rsplit("/", 1)[-1]
        external = "/" in name or (base not in SHELL_BUILTINS and name not in self.index.functions
                                   and (base in COMMON_COMMANDS or not self.index.sources))
        if not external or base in HTTP_CLIENTS:
            return []
        for arg in args:
            if self.event.carries_event(arg):
                return [ArgvPayload(self.span(arg), program=base, text=node_text(arg)[:40])]
        return []

    def _header_match(self, tool: str, args) -> list[Node]:
        """grep/awk/sed looking a Lambda-Runtime-* header up by name, with or without case folding."""
        texts = [self.words.literal(a) for a in args]
        flags = "".join(t[1:] for t in texts if t and t.startswith("-") and not t.startswith("--"))
        longs = {t for t in texts if t and t.startswith("--")}
        for arg, text in zip(args, texts):
            if not text or "lambda-runtime-" not in text.lower() or text.startswith("-"):
                continue
            header = text[text.lower().index("lambda-runtime-"):].split(":")[0].split("/")[0]
            header = header.strip("^$'\" ").split(" ")[0]
            if tool in ("grep", "egrep", "fgrep", "zgrep"):
                sensitive = "i" not in flags and "y" not in flags and "--ignore-case" not in longs
            elif tool in ("awk", "gawk", "mawk"):
                sensitive = not any(k in text for k in ("tolower", "toupper", "IGNORECASE"))
            else:  # sed: the I flag of s///I or an /re/I address folds case
                sensitive = not _sed_folds_case(text)
            return [HeaderMatch(self.span(arg), header=header, case_sensitive=sensitive, how=tool)]
        return []

    def c_set(self, node, args) -> list[Node]:
        errexit = pipefail = errtrace = posix = None
        words = [self.words.literal(a) or "" for a in args]
        i = 0
        while i < len(words):
            word = words[i]
            i += 1
            if word in ("--", "-"):
                break
            if len(word) < 2 or word[0] not in "-+":
                break
            on = word[0] == "-"
            letters = word[1:]
            if "e" in letters:
                errexit = on
            if "E" in letters:
                errtrace = on
            if "o" in letters and i < len(words):
                option = words[i]
                i += 1
                if option == "errexit":
                    errexit = on
                elif option == "pipefail":
                    pipefail = on
                elif option == "errtrace":
                    errtrace = on
                elif option == "posix":
                    posix = on
        if posix is not None:
            self.posix = f"`{_one_line(node_text(node))}` on line {node.start_point[0] + 1} puts bash " \
                         f"in POSIX mode" if posix else ""
        if errexit is None and pipefail is None and errtrace is None and posix is None:
            return []
        return [SetOption(self.span(node), errexit=errexit, pipefail=pipefail, errtrace=errtrace,
                          substitutions_keep_errexit=posix, text=_one_line(node_text(node)))]

    def c_shopt(self, node, args) -> list[Node]:
        """`shopt -s inherit_errexit`: `$(...)` keeps errexit from here on (bash 4.4+)."""
        words = [self.words.literal(a) or "" for a in args]
        if "inherit_errexit" not in words:
            return []
        on = "-s" in words or not any(w == "-u" for w in words)
        if "-u" in words:
            on = False
        if not ("-s" in words or "-u" in words):
            return []  # `shopt inherit_errexit` only prints the setting
        return [SetOption(self.span(node), substitutions_keep_errexit=on,
                          text=_one_line(node_text(node)))]

    def c_exit(self, node, args) -> list[Node]:
        return [Exit(self.span(node), kind=ExitKind.EXIT, text=node_text(node),
                     fails_on_work_failure=self._fails_on_work_failure(node, args))]

    def c_return(self, node, args) -> list[Node]:
        return [Exit(self.span(node), kind=ExitKind.RETURN, text=node_text(node),
                     fails_on_work_failure=self._fails_on_work_failure(node, args))]

    def _fails_on_work_failure(self, node, args) -> bool:
        """`exit 1`, `return 2`: a literal non-zero status on the path a failed per-event command
        takes, the right of its `||` or the arm of `if ! cmd` (the `else` of `if cmd`), written
        in that `||`'s `{ ...; }` or that arm."""
        code = self.words.literal(args[0]) if len(args) == 1 else None
        if not code or not code.isdigit() or int(code) == 0:
            return False
        condition = failure_condition(node)
        return condition is not None and self._does_work(condition)

    def _does_work(self, syntax) -> bool:
        """Is a command in this syntax per-event work (or a program a function runs)?"""
        stack = [syntax]
        while stack:
            cur = stack.pop()
            if cur.type == "command" and (key(cur) in self.handlers or key(cur) in self.work
                                          or self.event_work.program(cur)):
                return True
            stack.extend(cur.named_children)
        return False

    def c_break(self, node, args) -> list[Node]:
        levels = self.words.literal(args[0]) if args else "1"
        return [Exit(self.span(node), kind=ExitKind.BREAK, text=node_text(node),
                     levels=int(levels) if levels and levels.isdigit() else 1)]

    def c_continue(self, node, args) -> list[Node]:
        levels = self.words.literal(args[0]) if args else "1"
        return [Exit(self.span(node), kind=ExitKind.CONTINUE, text=node_text(node),
                     levels=int(levels) if levels and levels.isdigit() else 1)]

    def c_exec(self, node, args) -> list[Node]:
        if not args:  # exec 1>&2, exec > >(tee log): only redirections
            return []
        return [Handover(self.span(node), uses_exec=True, text=node_text(node)),
                Exit(self.span(node), kind=ExitKind.EXEC, text=node_text(node))]

    def c_source(self, node, args) -> list[Node]:
        lost = ""
        guard = failure_guard(node) if self.posix else ""
        if guard:
            word = node_text(command_name(node) or node)
            lost = (f"{self.posix}, where `{word}` of a file that is missing or does not parse "
                    f"ends the shell at once, before the {guard} written to report it runs; "
                    f"`command {word}` keeps the shell alive")
        return [InitStep(self.span(node), text=node_text(node), guard_lost=lost)]

    def c_command(self, node, args) -> list[Node]:
        """`command . file`: the same load, without the power to end a POSIX shell."""
        if args and self.words.literal(args[0]) in (".", "source"):
            return [InitStep(self.span(node), text=node_text(node))]
        return []

    def c_mktemp(self, node, args) -> list[Node]:
        flags = [self.words.literal(a) or "" for a in args]
        if any(f in ("-u", "--dry-run") or (f.startswith("-") and not f.startswith("--") and "u" in f)
               for f in flags):
            return []
        target = self.index.assigned_name(node)
        names = {target} if target else self._captured_output(node)
        return [TempCreate(self.span(node), names=frozenset(names), text=node_text(node),
                           handed_out=bool(names) and not target)]

    def _captured_output(self, node) -> set[str]:
        """A command that prints into its function's output (`make_tmp() { mktemp; }`): the
        variables the function's call sites assign that output to (`f=$(make_tmp)`)."""
        cur = node.parent
        while cur is not None and cur.type != "function_definition":
            if cur.type in ("command_substitution", "process_substitution", "redirected_statement",
                            "pipeline"):
                return set()   # its output goes elsewhere
            cur = cur.parent
        if cur is None:
            return set()
        name = cur.child_by_field_name("name")
        sites = self.index.call_sites.get(node_text(name), ()) if name is not None else ()
        return {n for n in (self.index.assigned_name(site) for site in sites) if n}

    def c_rm(self, node, args) -> list[Node]:
        names = set()
        for arg in args:
            names |= expansion_names(arg)
        sweep = any(_temp_dir(node_text(arg), contents=True) for arg in args)
        return [TempRemove(self.span(node), names=frozenset(names), sweep=sweep)] if names or sweep else []

    def c_find(self, node, args) -> list[Node]:
        """`find /tmp -mindepth 1 -delete`, `find "$TMPDIR" ... -exec rm -rf {} +`: a sweep."""
        texts = [node_text(a) for a in args]
        paths = []
        for text in texts:
            if text.startswith(("-", "(", "!", "\\(")):
                break
            paths.append(text)
        # -delete cannot remove a directory that is not empty: with -maxdepth it leaves
        # `mktemp -d` directories with files in them (real find, see test_shell_semantics).
        deletes = (any(t in FIND_DELETES for t in texts) and "-maxdepth" not in texts) or any(
            t in FIND_EXECS and i + 1 < len(texts) and texts[i + 1].strip("\"'").rsplit("/", 1)[-1] == "rm"
            for i, t in enumerate(texts))
        if deletes and any(_temp_dir(p, contents=False) for p in paths):
            return [TempRemove(self.span(node), sweep=True)]
        return []

    c_unlink = c_rmdir = c_shred = c_rm

    def c_trap(self, node, args) -> list[Node]:
        if len(args) < 2:
            return []
        body = self.words.literal(args[0])
        signals = {(self.words.literal(a) or "").upper().removeprefix("SIG") for a in args[1:]}
        if not body:
            return []
        out: list[Node] = []
        if signals & {"ERR"}:
            out.append(TrapSet(self.span(node), signals=frozenset(signals), text=node_text(node)[:60]))
        from bootlint.frontends.shell.syntax import parser

        sub_src = SourceFile.from_bytes(self.src.path, body.encode("utf-8"))
        tree = parser().parse(sub_src.encoded)
        names: set[str] = set()
        stack = [tree.root_node]
        while stack:
            cur = stack.pop()
            if cur.type == "command":
                cname = command_name(cur)
                if cname is not None and node_text(cname).rsplit("/", 1)[-1] in REMOVERS:
                    for arg in command_args(cur):
                        names |= expansion_names(arg)
            stack.extend(cur.children)
        if "RETURN" in signals and names:
            # Runs when the function that set it returns: within the same invocation.
            out.append(TempRemove(self.span(node), names=frozenset(names)))
        return out

    def c_curl(self, node, args) -> list[Node]:
        entry = self.sites.http.get(key(node))
        if not entry or key(node) in self.sites.parametric:
            return []  # a helper's request that depends on its parameters: read per call site
        cmd, urls = entry
        calls: list[Node] = []
        for url_node, info in urls:
            facts = self.request_facts.facts(node, cmd, info.endpoint)
            calls.append(ApiCall(self.span(url_node), endpoint=info.endpoint, url=info,
                                 tool=cmd.tool, method=cmd.method, facts=facts))
            self.nexts_made += info.endpoint is Endpoint.NEXT
        return calls

    def _bound_events(self, site) -> list[Node]:
        """What a call of the file's own helper does with its arguments: the requests it makes
        (reported here, at the line the user wrote, naming the helper) and the variables it sets."""
        out: list[Node] = []
        span = self.span(site)
        for inst in self.sites.instances.get(key(site), ()):
            for url_node, info in inst.urls:
                raw, _ = unbind(url_node)
                facts = self.request_facts.facts(site, inst.cmd, info.endpoint)
                out.append(ApiCall(span, endpoint=info.endpoint, url=info, tool=inst.cmd.tool,
                                   method=inst.cmd.method, facts=facts, via=inst.chain,
                                   helper_span=self.span(raw)))
                self.nexts_made += info.endpoint is Endpoint.NEXT
        for env in self.sites.env_instances.get(key(site), ()):
            out.append(EnvSet(span, name=env.name, exported=env.exported))
        return out

    def _handler_call(self, node) -> PerEventWork:
        """The handler's command (or another per-event command), with whether its exit status
        reaches the shell."""
        status_kept, in_pipe, masked_by, masked_at = self._status_goes(node)
        kind = HandlerCall if key(node) in self.handlers else PerEventWork
        return kind(self.span(node), text=node_text(node)[:80], status_kept=status_kept,
                    in_pipe=in_pipe, masked_by=masked_by, masked_at=masked_at,
                    tail=self.tails.is_tail(node), returns_ok=self._returns_ok(node),
                    calls_function=node_text(command_name(node) or node) in self.index.functions,
                    why=self.work.get(key(node), ""), trace_handed=self._hands_trace(node))

    def _program_run(self, node) -> ProgramRun:
        """A program run in one of the file's functions, with whether its exit status reaches
        the shell (what can fail a call of that function)."""
        status_kept, in_pipe, _, _ = self._status_goes(node)
        return ProgramRun(self.span(node), text=node_text(node)[:80], status_kept=status_kept,
                          in_pipe=in_pipe, tail=self.tails.is_tail(node))

    def _status_goes(self, node) -> tuple[bool, bool, str, Span | None]:
        """Whether a command's exit status reaches the shell: (kept, in a pipeline that is not
        its last element, the declaration builtin that masks it, and where)."""
        status_kept, in_pipe, masked_by, masked_at = True, False, "", None
        child, cur = node, node.parent
        while cur is not None:
            t = cur.type
            if t == "pipeline":
                named = [c for c in cur.children if c.is_named]
                if named and named[-1].start_byte != child.start_byte:
                    in_pipe = True
            elif t == "command_substitution":
                outer = cur.parent
                while outer is not None and outer.type in ("string", "concatenation"):
                    outer = outer.parent
                if outer is None or outer.type != "variable_assignment":
                    status_kept = False
                    break
                holder = outer.parent
                if holder is not None and holder.type == "declaration_command":
                    status_kept = False
                    masked_by = node_text(holder.children[0])
                    masked_at = self.span(outer)
                elif holder is not None and holder.type == "command":
                    status_kept = False
                break
            elif t in ("file_redirect", "heredoc_redirect", "herestring_redirect", "test_command",
                       "process_substitution"):
                status_kept = False
                break
            elif t in ("if_statement", "while_statement", "do_group", "compound_statement",
                       "program", "function_definition", "list", "case_item", "else_clause",
                       "elif_clause", "subshell"):
                break
            child, cur = cur, cur.parent
        return status_kept, in_pipe, masked_by, masked_at

    def note_job(self, statement, lowered: list[Node], job: Subshell) -> None:
        """A statement run in the background (``lowered``: its events; ``job``: the child
        process it becomes in the model), for the `wait`s after it."""
        events = flatten(lowered)
        self.jobs.add(statement, [n for n in events if isinstance(n, PerEventWork)], job,
                      calls=any(isinstance(n, CallFunction) for n in events))

    def c_wait(self, node, args) -> list[Node]:
        """`wait "$pid"`, `wait -n`: the status of a background job doing per-event work (its own
        commands, or the file's functions it calls) reaches the shell here, so this is where its
        failure ends the runtime under errexit (or is guarded); `wait` alone returns 0. Whether
        the job can fail through that work is the walk's question (the guards around it are
        known there): the `wait` names the jobs it waits for."""
        jobs = [job for job in self.jobs.waited(node, args) if job.work or job.calls]
        if not jobs:
            return []
        call = self._handler_call(node)
        working = [job for job in jobs if job.work]
        shown = working[0] if working else jobs[0]
        line = shown.statement.start_point[0] + 1
        call.why = f"it returns the status of `{describe(shown)}`, run in the background on line {line}"
        if working and working[0].work[0].why:
            call.why += f": {working[0].work[0].why}"
        call.trace_handed = False   # (the job's own commands say whether it gets the trace id)
        call.waits_for = tuple(job.node for job in jobs if job.node is not None)
        for job in working:
            for work in job.work:
                work.waited_at = call.span
        return [call]

    def _hands_trace(self, node) -> bool:
        """Is the trace id (its value, or the file holding the `next` headers) handed to this
        command: an argument, its environment (an exported variable, a `VAR=value` prefix) or
        its standard input (a here-string, a redirection, the pipe)?"""
        carriers = self.event.trace_values
        if not carriers:
            return False
        if carriers & (self.index.exported | ({"*"} if self.index.allexport else set())) or (
                self.index.allexport and carriers):
            return True

        def mentions(word) -> bool:
            return bool(expansion_names(word) & carriers) or self.words.literal(word) in carriers

        parts = list(command_args(node)) + [c for c in node.children if c.type in (
            "variable_assignment", "herestring_redirect", "file_redirect")]
        redirected, parent = self.index.statement_context(node)
        if redirected is not None:
            parts += [c for c in redirected.children if c.type in ("herestring_redirect", "file_redirect",
                                                                  "heredoc_redirect")]
            node = redirected
        if parent is not None:
            parts += [c for c in parent.named_children if c.end_byte <= node.start_byte]
        stack = parts
        while stack:
            cur = stack.pop()
            if mentions(cur):
                return True
            stack.extend(cur.named_children)
        return False

    def _returns_ok(self, node) -> bool:
        """Is this a call to one of the file's functions whose last command always succeeds?"""
        name = command_name(node)
        function = self.index.functions.get(node_text(name)) if name is not None else None
        body = function.child_by_field_name("body") if function is not None else None
        if body is None:
            return False
        last = [c for c in body.children if c.is_named and c.type != "comment"]
        while last and last[-1].type == "redirected_statement":
            last = [c for c in last[-1].children if c.is_named][:1]
        if not last or last[-1].type != "command":
            return False
        cname = command_name(last[-1])
        text = self.words.literal(cname) if cname is not None else None
        args = [self.words.literal(a) for a in command_args(last[-1])]
        if text in ("echo", "printf", "true", ":"):
            return True
        return text in ("return", "exit") and args[:1] == ["0"]


def _one_line(text: str) -> str:
    return text.split("\n", 1)[0][:60]


def _sed_folds_case(script: str) -> bool:
    """Does a sed script match case-insensitively (s/re/x/I, /re/I)?"""
    return bool(re.search(r"(^|[;\n])\s*(s(.).*?\3.*?\3[gpmeIi0-9]*[Ii]|/[^/]*/[Ii])", script))


def _temp_dir(text: str, contents: bool) -> bool:
    """Is this word the temp directory (``contents``: everything in it, `/tmp/*`)?"""
    word = text.replace('"', "").replace("'", "")      # "$TMPDIR"/*, '/tmp'
    if contents:
        if not word.endswith("/*"):
            return False
        word = word[:-2]
    return word.rstrip("/") in TEMP_DIRS


# The command lowerings, by the command's name (without its directory).
COMMANDS: dict[str, Callable[..., list[Node]]] = {
    "set": CommandLowering.c_set,
    "shopt": CommandLowering.c_shopt,
    "exit": CommandLowering.c_exit,
    "return": CommandLowering.c_return,
    "break": CommandLowering.c_break,
    "continue": CommandLowering.c_continue,
    "exec": CommandLowering.c_exec,
    "source": CommandLowering.c_source,
    ".": CommandLowering.c_source,
    "command": CommandLowering.c_command,
    "mktemp": CommandLowering.c_mktemp,
    "rm": CommandLowering.c_rm,
    "unlink": CommandLowering.c_rm,
    "rmdir": CommandLowering.c_rm,
    "shred": CommandLowering.c_rm,
    "find": CommandLowering.c_find,
    "trap": CommandLowering.c_trap,
    "wait": CommandLowering.c_wait,
}
# Of those, the ones that keep their meaning when written with a directory (`/bin/rm`).
BY_PATH = frozenset({"mktemp", "rm"})
