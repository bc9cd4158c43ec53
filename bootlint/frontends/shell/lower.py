"""Lowering a tree-sitter-bash tree into the language-neutral runtime model."""

from __future__ import annotations

from bootlint.analysis.call_arms import ArmBinder
from bootlint.analysis.matching import RequestIds
from bootlint.diagnostics import Span
from bootlint.files.source import SourceFile
from bootlint.frontends.registry import NotAnalysed
from bootlint.frontends.shell.callsites import CallSites, declared_name
from bootlint.frontends.shell.commands import COMMON_COMMANDS, VARIABLE_SETTERS, assigned_names
from bootlint.frontends.shell.conditions import Conditions
from bootlint.frontends.shell.facts import EventFacts, RequestFacts
from bootlint.frontends.shell.handlers import EventWork, Handlers
from bootlint.frontends.shell.index import build_index
from bootlint.frontends.shell.jobs import Jobs
from bootlint.frontends.shell.lower_commands import BY_PATH, COMMANDS, HEADER_TOOLS, CommandLowering
from bootlint.frontends.shell.status import Tails
from bootlint.frontends.shell.syntax import (
    MAX_COMMANDS, MAX_NESTING, MAX_NODES, ShellParse, command_args, command_name, expansion_names, forget_nodes, key, node_text, parse, substitutions,
    syntax_errors,
)
from bootlint.frontends.shell.streaming import streaming_facts
from bootlint.frontends.shell.values import Words
from bootlint.frontends.shell.workers import concurrency_facts
from bootlint.model import (
    ApiCall, Branch, CallFunction, Endpoint, EnvSet, Guarded, HandlerCall, Handover, Loop, LoopKind,
    Node, RuntimeModel, Subshell, flatten,
)

TRUE_COMMANDS = {"true", ":", "/bin/true", "/usr/bin/true"}
FALSE_COMMANDS = {"false", "/bin/false", "/usr/bin/false"}
RUNTIME_LAUNCHERS = {"node", "nodejs", "python", "python3", "java", "dotnet", "Rscript", "php",
                     "ruby", "perl", "deno", "bun", "pwsh", "julia", "lua", "elixir", "erl"}


class NestingTooDeep(Exception):
    """The tree is nested deeper than bootlint analyses."""


def lower(src: SourceFile, shebang=None) -> RuntimeModel:
    """The front end's entry point: options the shebang switches on, then :func:`lower_shell`."""
    try:
        model = lower_shell(src, errexit_at_start=bool(shebang and shebang.errexit),
                            pipefail_at_start=bool(shebang and shebang.pipefail),
                            posix=posix_shell(shebang))
    except NestingTooDeep as exc:
        raise NotAnalysed(f"syntax nested {exc.args[0]:,} levels deep: over the limit of "
                          f"{MAX_NESTING:,} levels bootlint analyses; the file is not analysed") from None
    model.errtrace_at_start = bool(shebang and shebang.errtrace)
    if shebang is not None and shebang.errexit:
        model.errexit_origin = f"`{shebang.line.strip()}` on line 1"
    model.substitutions_keep_errexit, model.substitution_mode = substitution_errexit(shebang)
    return model


# Shells where `.` of a missing file is a special built-in's error, which ends a non-interactive
# shell at once (POSIX 2.8.1): bash in POSIX mode and the POSIX shells.
POSIX_SHELLS = {"sh", "dash", "ash", "posh", "ksh", "mksh"}


def posix_shell(shebang) -> str:
    """Why the shebang's shell is a POSIX shell (for messages), or "" when it is not one."""
    if shebang is None:
        return ""
    line = f"`{shebang.line.strip()}`"
    if shebang.interpreter == "sh":
        return f"{line} runs bash in POSIX mode on Amazon Linux (dash elsewhere)"
    if shebang.interpreter in POSIX_SHELLS:
        return f"{line} is a POSIX shell"
    args = list(shebang.args)
    if shebang.interpreter == "bash" and (
            "--posix" in args or any(a == "-o" and b == "posix" for a, b in zip(args, args[1:]))):
        return f"{line} runs bash in POSIX mode"
    return ""


def substitution_errexit(shebang) -> tuple[bool, str]:
    """Whether `$(...)` keeps errexit in the shell the shebang names, and why (for messages).
    bash in its default mode turns errexit off inside `$(...)` unless `shopt -s inherit_errexit`;
    in POSIX mode (`#!/bin/sh`, which is bash in POSIX mode on Amazon Linux, `bash --posix`) and
    in dash, ash and busybox sh it stays on."""
    if shebang is None:
        return True, "without a shebang the file is read as `/bin/sh`, where `$(...)` keeps errexit"
    line = f"`{shebang.line.strip()}`"
    if shebang.interpreter == "sh":
        return True, f"{posix_shell(shebang)}, where `$(...)` keeps errexit"
    if shebang.interpreter == "bash" and posix_shell(shebang):
        return True, f"{line}: bash in POSIX mode keeps errexit inside `$(...)`"
    if shebang.interpreter != "bash":
        return True, f"{line}: {shebang.interpreter} keeps errexit inside `$(...)`"
    return False, f"{line}: bash turns errexit off inside `$(...)` (no `shopt -s inherit_errexit`)"


def lower_shell(src: SourceFile, errexit_at_start: bool = False,
                pipefail_at_start: bool = False, posix: str = "") -> RuntimeModel:
    """Parse a shell bootstrap and build its model (the shebang may switch options on)."""
    forget_nodes()
    tree = parse(src)
    model = RuntimeModel(path=src.path, language="shell", errexit_at_start=errexit_at_start,
                         pipefail_at_start=pipefail_at_start)
    nodes = tree.root_node.descendant_count
    if nodes > MAX_NODES:
        raise NotAnalysed(f"a syntax tree of {nodes:,} nodes: over the limit of {MAX_NODES:,} nodes "
                          f"bootlint analyses within its time and memory bounds; the file is not "
                          f"analysed")
    as_read = tree   # for bootlint.frontends.shell.fixes: positions in the text as read
    if tree.root_node.has_error:
        tree = _read_past_errors(src, tree, model)
    index = build_index(tree.root_node)
    model.parsed = ShellParse(as_read, index if tree is as_read else None)
    if index.max_depth > MAX_NESTING:
        raise NestingTooDeep(index.max_depth)
    if len(index.commands) > MAX_COMMANDS:
        raise NotAnalysed(f"{len(index.commands):,} commands: over the limit of {MAX_COMMANDS:,} "
                          f"commands bootlint analyses within its time and memory bounds; the file "
                          f"is not analysed")
    for node in index.comments:
        row, col = node.start_point
        before = src.encoded[src.line_start(row):src.line_start(row) + col]
        model.comments.append((row + 1, src.column(row, col), node_text(node), not before.strip()))
    lowering = _Lowering(src, index, model)
    lowering.posix = posix
    model.main = lowering.block(tree.root_node.children)
    lowering.mark_last_statement(tree.root_node)
    lowering.bind_arms()
    model.concurrency = concurrency_facts(lowering, tree.root_node)
    model.streaming = streaming_facts(lowering)
    return model


def _read_past_errors(src: SourceFile, tree, model: RuntimeModel):
    """The tree has errors: let bash decide whether the text is valid. Rejected, BL900 carries
    bash's message; accepted, tree-sitter's gaps are patched and what stays unread is a region
    (BL905); without bash, tree-sitter's errors are the syntax errors. Returns the tree to lower."""
    from bootlint.frontends.shell import bash_syntax, gaps

    verdict = bash_syntax.check(src.encoded)
    if verdict is None:
        model.syntax_errors = syntax_errors(src, tree.root_node)
        return tree
    if not verdict.accepted:
        span = (src.span(_point(src, verdict.opener), _point(src, verdict.opener + 1))
                if verdict.opener is not None else _bash_error_span(src, tree, verdict.line))
        model.syntax_errors = [(span, f"bash: {verdict.message}")]
        return tree
    _, tree, patched, remaining = gaps.repair(src.encoded, tree)
    spans = [src.span(_point(src, r.start), _point(src, r.end)) for r in patched]
    spans += [src.span(tuple(n.start_point), tuple(n.end_point)) for n in remaining]
    for span in _merge_lines(spans):
        lines = (f"line {span.line}" if span.line == span.end_line
                 else f"lines {span.line}\u2013{span.end_line}")
        model.unparsed.append((span, f"bootlint could not read {lines} (a gap in its shell "
                                     f"parser; `bash -n` accepts the file): findings there may "
                                     f"be missing"))
    # Damage that tree-sitter could not be helped past may hide a loop's end or a function's.
    model.partial = bool(remaining)
    return tree


def _point(src: SourceFile, offset: int) -> tuple[int, int]:
    """tree-sitter's (row, byte column) of a byte offset."""
    data = src.encoded
    return data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1)


def _bash_error_span(src: SourceFile, tree, line: int) -> Span:
    """Where bash's error is: tree-sitter's first error on that line, else the line's start."""
    for span, _ in syntax_errors(src, tree.root_node):
        if span.line == line:
            return span
    return Span(line, 1, line, 1)


def _merge_lines(spans: list[Span]) -> list[Span]:
    """One region per run of overlapping lines, in order."""
    out: list[Span] = []
    for span in sorted(spans):
        if out and span.line <= out[-1].end_line:
            last = out[-1]
            end = max((last.end_line, last.end_column), (span.end_line, span.end_column))
            out[-1] = Span(last.line, last.column, *end)
        else:
            out.append(span)
    return out


class _Lowering(CommandLowering):
    """The walk over a shell tree that builds the model: one lowering per kind of statement
    (:data:`STATEMENTS`), simple commands by name (:data:`~.lower_commands.COMMANDS`)."""

    def __init__(self, src: SourceFile, index, model: RuntimeModel) -> None:
        self.src = src
        self.index = index
        self.model = model
        self.words = Words(src, index)
        self.sites = CallSites(index, self.words)
        self.event = EventFacts(index, self.words, self.sites)
        self.handlers = Handlers(index, self.words, self.sites, self.event).found
        self.next_vars = self.event.next_values(self.handlers)
        self.event_work = EventWork(index, self.words, self.sites, self.event, self.handlers,
                                    self.next_vars)
        self.work = self.event_work.found
        self.request_facts = RequestFacts(self.words, self._payload_names())
        self.status_after_next = False   # `$?` holds the `next` request's status here (see block)
        self.status_left = None          # ... after the compound statement just lowered (ditto)
        self.posix = ""   # why the shell runs in POSIX mode at this point of the file ("" if not)
        self.nexts_made = 0   # `next` requests lowered so far (see block)
        self.tails = Tails()
        self.jobs = Jobs(index, self.words)   # the background jobs and waits lowered so far
        # Each branch and call of the file's functions with its syntax, for bind_arms.
        self.branches: list[tuple[object, Branch]] = []
        self.calls: list[tuple[object, CallFunction]] = []

    def _payload_names(self) -> set[str]:
        """Variables that hold data of any size: the event, and the handler's output."""
        names = set(self.event.event_vars)
        for cmd in self.index.commands:
            if key(cmd) in self.handlers:
                # (`grep`/`cut` feeding a request id into the body are not the handler's output)
                tool = command_name(cmd)
                if tool is None or node_text(tool).rsplit("/", 1)[-1] not in COMMON_COMMANDS:
                    names.add(self.index.assigned_name(cmd) or "")
        names.discard("")
        return names

    # -- blocks and statements -------------------------------------------------------------
    def block(self, nodes) -> list[Node]:
        """Lower a block's statements. ``status_after_next`` says, on the way in, whether `$?`
        holds the `next` request's status where the block starts (a `{ }`, `( )` or an arm
        starts with the status before it, see :data:`STATUS_SETTERS`), and on the way out
        whether it does after the block's last statement."""
        out: list[Node] = []
        after_next = self.status_after_next
        nodes = list(nodes)
        for at, node in enumerate(nodes):
            if not node.is_named:
                continue
            kind = node.type   # (read once: each read makes a new string)
            if kind == "comment":
                continue
            # `$?` in the statement right after a `next` request tells whether it failed.
            self.status_after_next = after_next
            made = self.nexts_made
            self.status_left = None
            lowered = self.statement(node, kind)
            following = nodes[at + 1] if at + 1 < len(nodes) else None
            background = following is not None and not following.is_named and following.type == "&"
            if background:
                # `serve "$id" &`: a background job, a child process; a later `wait` may
                # return its status (c_wait).
                job = Subshell(self.span(node), body=lowered, context="background")
                self.note_job(node, lowered, job)
                lowered = [job]
            self.model.statements.append((node.start_point[0] + 1, node.end_point[0] + 1))
            # (counted as they are made: flattening each statement again at every level of
            # nesting cost the depth times the size of the file)
            if background:
                after_next = False   # `cmd &` sets `$?` to 0
            elif kind in STATUS_SETTERS and self.status_left is not None:
                after_next = self.status_left
            else:
                after_next = self.nexts_made != made
            out.extend(lowered)
        self.status_after_next = after_next
        return out

    def statement(self, node, kind: str | None = None) -> list[Node]:
        """Lower one statement (``kind``: its node's type, when the caller has read it)."""
        if kind is None:
            kind = node.type
        method = STATEMENTS.get(kind)
        if method is not None:
            return method(self, node)
        if kind in ("do_group", "compound_statement", "program"):
            return self.block(node.children)
        # ERROR nodes and anything unforeseen: what is inside still counts.
        return self.block([c for c in node.children if c.is_named])

    def s_function_definition(self, node) -> list[Node]:
        name = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        if name is not None and body is not None and node_text(name) not in self.model.functions:
            self.model.functions[node_text(name)] = []  # reserve: recursion sees the name
            made = self.nexts_made
            self.status_after_next = False   # (the body runs when called, not here)
            self.model.functions[node_text(name)] = self.statement(body)
            self.nexts_made = made   # the body's requests are not this statement's
        self.status_left = False     # a definition sets `$?` to 0
        return []

    def s_subshell(self, node) -> list[Node]:
        return [Subshell(self.span(node), body=self.block(node.children),
                         tail=self.tails.is_tail(node), context="subshell")]

    def s_redirected_statement(self, node) -> list[Node]:
        out: list[Node] = []
        for child in node.children:
            if child.type == "heredoc_redirect":
                # `cat <<EOF | curl ...`: tree-sitter hangs the rest of the pipeline (or list) on
                # the here-document; its commands run like any other (the pipeline's elements
                # in child processes).
                for part in child.named_children:
                    if part.type == "pipeline":
                        out.extend(self.pipeline_elements(part.named_children))
                    elif part.type in ("command", "list", "redirected_statement"):
                        out.extend(self.statement(part))
                out.extend(self.substitutions_in(child))
            elif child.type in ("file_redirect", "herestring_redirect"):
                out.extend(self.substitutions_in(child))
            elif child.is_named:
                out.extend(self.statement(child))
        return out

    def s_negated_command(self, node) -> list[Node]:
        return [Guarded(self.span(node), body=self.block(node.children))]

    def s_test_command(self, node) -> list[Node]:
        return self.substitutions_in(node)

    def s_pipeline(self, node) -> list[Node]:
        parts = [c for c in node.children if c.is_named]
        if len(parts) == 1:
            return self.statement(parts[0])
        return self.pipeline_elements(parts)

    def pipeline_elements(self, parts: list) -> list[Node]:
        """A pipeline's elements: each runs in a child process (bash's default, without
        lastpipe); the status of all but the last reaches the shell only under pipefail."""
        last = len(parts) - 1
        return [Subshell(self.span(p), body=self.statement(p), context="pipeline", in_pipe=i < last)
                for i, p in enumerate(parts)]

    def s_list(self, node) -> list[Node]:
        named = [c for c in node.children if c.is_named and c.type != "comment"]
        ops = [node_text(c) for c in node.children if not c.is_named]
        if len(named) != 2:
            return self.block(named)
        left, right = named
        after_next = self.status_after_next
        cond = [Guarded(self.span(left), body=self.statement(left))]
        arm = self.statement(right)
        failure = frozenset()
        if "||" in ops and self._about_next(left, cond, after_next):
            failure = frozenset({0})
        return [self._note(node, Branch(self.span(node), cond=cond, arms=[arm],
                                        failure_candidates=failure))]

    def s_if_statement(self, node) -> list[Node]:
        after_next = self.status_after_next
        cond_nodes, arms_nodes, current = [], [], None
        branches: list[tuple[list, list]] = []
        for child in node.children:
            t = child.type
            if t in ("if", "elif"):
                current = cond_nodes
            elif t == "then":
                current = []
                arms_nodes.append(current)
            elif t in ("elif_clause", "else_clause"):
                branches.append((t, child))
            elif t == "fi":
                pass
            elif current is not None and child.is_named:
                current.append(child)
        cond = [Guarded(self.span(node), body=self.block(cond_nodes))]
        # Each arm, and an elif's condition, starts with the condition's status in `$?`; after
        # the `if`, `$?` is the status of the arm that ran (0 when none did).
        tested = self.status_after_next
        arms = [self.block(arms_nodes[0]) if arms_nodes else []]
        ends = [self.status_after_next]
        for t, child in branches:
            self.status_after_next = tested
            if t == "else_clause":
                arms.append(self.block(child.children))
                ends.append(self.status_after_next)
            else:
                arms.append(self.s_if_statement(child))
                ends.append(bool(self.status_left))
        self.status_left = any(ends)
        return [self._branch(node, cond_nodes, cond, arms, after_next)]


    def _branch(self, node, cond_nodes, cond, arms, after_next: bool = False) -> Branch:
        failure = frozenset()
        if any(self._about_next(c, cond, after_next) for c in cond_nodes):
            failure = frozenset(range(len(arms)))
        return self._note(node, Branch(self.span(node), cond=cond, arms=arms,
                                       failure_candidates=failure))

    def _note(self, node, branch: Branch) -> Branch:
        self.branches.append((node, branch))
        return branch

    def bind_arms(self) -> None:
        """Each call of the file's functions: the arms of the callee its arguments rule out."""
        conditions = Conditions(self.words, self.sites, RequestIds(self.model.all_nodes))
        ArmBinder(conditions).bind(self.branches, self.calls)

    def s_case_statement(self, node) -> list[Node]:
        value = node.child_by_field_name("value")
        before = self.status_after_next
        cond = self.substitutions_in(value) if value is not None else []
        arms, ends = [], []
        for item in node.children:
            if item.type == "case_item":
                body = [c for i, c in enumerate(item.children)
                        if c.is_named and item.field_name_for_child(i) != "value"]
                self.status_after_next = before   # an arm starts with the status before `case`
                arms.append(self.block(body))
                ends.append(self.status_after_next)
        self.status_left = any(ends)   # (0 when no pattern matched)
        return [self._branch(node, [value] if value is not None else [], cond, arms, before)]

    def s_while_statement(self, node) -> list[Node]:
        until = node.children[0].type == "until"
        conds = [c for i, c in enumerate(node.children) if node.field_name_for_child(i) == "condition"]
        body = node.child_by_field_name("body")
        kind = self._loop_kind(conds, until)
        cond = [Guarded(self.span(node), body=self.block(conds))]
        lowered = self.statement(body) if body is not None else []
        # After the loop `$?` is its body's last status (0 when the body never ran).
        self.status_left = self.status_after_next
        return [Loop(self.span(node), kind=kind, cond=cond, body=lowered)]

    def s_for_statement(self, node) -> list[Node]:
        body = node.child_by_field_name("body")
        values = [c for i, c in enumerate(node.children) if node.field_name_for_child(i) == "value"]
        cond = [n for v in values for n in self.substitutions_in(v)]
        lowered = self.statement(body) if body is not None else []
        self.status_left = self.status_after_next
        return [Loop(self.span(node), kind=LoopKind.BOUNDED, cond=cond, body=lowered)]

    def s_c_style_for_statement(self, node) -> list[Node]:
        body = node.child_by_field_name("body")
        condition = node.child_by_field_name("condition")
        infinite = condition is None or node_text(condition).strip() in ("1", "true")
        lowered = self.statement(body) if body is not None else []
        self.status_left = self.status_after_next
        return [Loop(self.span(node), kind=LoopKind.INFINITE if infinite else LoopKind.BOUNDED,
                     body=lowered)]

    def _loop_kind(self, conds, until: bool) -> LoopKind:
        if len(conds) != 1:
            return LoopKind.CONDITIONAL
        cond = conds[0]
        if cond.type == "command":
            name = command_name(cond)
            text = self.words.literal(name) if name is not None else None
            args = command_args(cond)
            constant = TRUE_COMMANDS if not until else FALSE_COMMANDS
            if text in constant and not args:
                return LoopKind.INFINITE
            if text in ("[", "test") and not until:
                literals = [self.words.literal(a) for a in args if node_text(a) != "]"]
                if len(literals) == 1 and literals[0]:
                    return LoopKind.INFINITE
        if cond.type == "test_command" and not until:
            inner = [c for c in cond.children if c.is_named]
            if len(inner) == 1 and inner[0].type in ("word", "number", "raw_string", "string"):
                if self.words.literal(inner[0]):
                    return LoopKind.INFINITE
        return LoopKind.CONDITIONAL

    # -- simple statements -----------------------------------------------------------------
    def s_variable_assignment(self, node) -> list[Node]:
        out = self.substitutions_in(node)
        name = node.child_by_field_name("name")
        if name is not None:
            text = node_text(name)
            out.append(EnvSet(self.span(name), name=text,
                              exported=text in self.index.exported or self.index.allexport))
        return out

    def s_variable_assignments(self, node) -> list[Node]:
        return self.block(node.children)

    def s_declaration_command(self, node) -> list[Node]:
        keyword = node_text(node.children[0]) if node.children else ""
        flags = [node_text(c) for c in node.children[1:] if c.type == "word"]
        exported = keyword == "export" or any(f.startswith("-") and "x" in f for f in flags)
        out = self.substitutions_in(node)
        for child in node.children[1:]:
            if child.type == "variable_assignment":
                name = child.child_by_field_name("name")
                if name is not None:
                    out.append(EnvSet(self.span(name), name=node_text(name),
                                      exported=exported or node_text(name) in self.index.exported))
            elif child.type in ("string", "raw_string", "concatenation"):
                # `declare -gx "NAME=$value"`: one quoted word, read as bash reads it.
                text = declared_name(child, self.words)
                if text:
                    out.append(EnvSet(self.span(child), name=text,
                                      exported=exported or text in self.index.exported))
        return out

    def s_command(self, node) -> list[Node]:
        out: list[Node] = []
        name_node = command_name(node)
        # (a command none starts in has none in any of its words: no question per word)
        subs = self.index.may_hold_substitution(node)
        prefix = [c for c in node.children if c.type == "variable_assignment"]
        for assignment in prefix:
            if subs:
                out.extend(self.substitutions_in(assignment))
            name = assignment.child_by_field_name("name")
            if name is not None and name_node is not None:
                # VAR=value cmd: the variable is in cmd's environment.
                out.append(EnvSet(self.span(name), name=node_text(name), exported=True))
        if name_node is None:
            return out
        args = command_args(node)
        if subs:
            out.extend(self.substitutions_in(name_node))
            for arg in args:
                out.extend(self.substitutions_in(arg))
        name = self.words.literal(name_node)
        place = key(node)
        if place in self.handlers or place in self.work:
            out.append(self._handler_call(node))
        elif self.event_work.program(node):
            out.append(self._program_run(node))
        out.extend(self._argv_payload(node, name, args))
        if place in self.sites.http:
            return out + self.c_curl(node, args)
        if name is None:
            return out
        base = name.rsplit("/", 1)[-1]
        lowering = COMMANDS.get(base)
        if base in VARIABLE_SETTERS and name not in self.index.functions:
            # `read -r X`, `printf -v X`, `mapfile X`, `let X=1`: variables set as any assignment.
            for at, var in assigned_names(base, [self.words.literal(a) for a in args]):
                out.append(EnvSet(self.span(args[at]), name=var,
                                  exported=var in self.index.exported or self.index.allexport))
        if name in self.index.functions:
            out.extend(self._bound_events(node))
            call = CallFunction(self.span(node), name=name, tail=self.tails.is_tail(node))
            self.calls.append((node, call))
            out.append(call)
        elif name == ".":
            out.extend(self.c_source(node, args))
        elif base in HEADER_TOOLS:
            out.extend(self._header_match(base, args))
        elif lowering is not None and ("/" not in name or base in BY_PATH):
            out.extend(lowering(self, node, args))
        return out

    def mark_last_statement(self, root) -> None:
        """A script whose last statement starts another runtime hands over to it (BL008)."""
        statements = [c for c in root.children if c.is_named and c.type != "comment"]
        if not statements:
            return
        last = statements[-1]
        if last.type == "redirected_statement":
            last = last.child_by_field_name("body") or last
        if last.type != "command":
            return
        for handover in self.model.main:
            if isinstance(handover, Handover) and handover.span == self.span(last):
                handover.is_last = True
                return
        name = command_name(last)
        text = self.words.literal(name) if name is not None else None
        if text is None:
            dynamic = name is not None and any(n in ("LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR")
                                               for n in expansion_names(name))
            if not dynamic:
                return
        elif text.rsplit("/", 1)[-1] not in RUNTIME_LAUNCHERS and "/" not in text:
            return
        self.model.main.append(Handover(self.span(last), uses_exec=False, text=node_text(last)[:60],
                                        is_last=True))

    # -- helpers ---------------------------------------------------------------------------
    def substitutions_in(self, node) -> list[Node]:
        """The $(...) inside a word or assignment, each a child process with its own events."""
        if not self.index.may_hold_substitution(node):
            return []   # (most words hold none: no walk of each)
        return [Subshell(self.span(sub), body=self.block(sub.children),
                         substitution=sub.type == "command_substitution", tail=self.tails.is_tail(sub),
                         context="substitution" if sub.type == "command_substitution"
                         else "process-substitution")
                for sub in substitutions(node)]

    def _fetches_next(self, name: str, seen: set[str]) -> bool:
        """Does a function defined so far request `next` (itself or through the functions it
        calls) without running a handler?"""
        if name in seen or len(seen) > 20:
            return False
        seen.add(name)
        events = flatten(self.model.functions.get(name, []))
        if any(isinstance(n, HandlerCall) for n in events):
            return False
        return any((isinstance(n, ApiCall) and n.endpoint is Endpoint.NEXT)
                   or (isinstance(n, CallFunction) and self._fetches_next(n.name, seen))
                   for n in events)

    def _about_next(self, node, lowered: list[Node], after_next: bool) -> bool:
        """Does this condition test the `next` request or what it returned (not the handler)?"""
        events = flatten(lowered)
        if any(isinstance(n, HandlerCall) for n in events):
            return False
        if any(isinstance(n, ApiCall) and n.endpoint is Endpoint.NEXT for n in events):
            return True
        # `if ! fetch_next "$h" "$b"; then ... exit 1; fi`: a function of the file that requests
        # `next` and runs no handler tells by its status whether `next` failed.
        if any(isinstance(n, CallFunction) and self._fetches_next(n.name, set()) for n in events):
            return True
        names = set().union(*(self.event.references(t) for t in _tests(node)))
        if "?" in names and after_next:
            return True
        return bool(names & self.next_vars)


TEST_COMMANDS = {"[", "test", "grep", "egrep", "fgrep"}
CASE_WORDS = frozenset({"simple_expansion", "expansion", "string", "concatenation", "word"})
# Compound statements after which `$?` is not simply the status of their last request: after an
# `if` or `case` it is the status of the arm that ran (0 when none ran, whatever the condition
# was), after a loop its body's last status (0 when the body never ran), after a function's
# definition 0. Their lowerings set ``status_left``; bash and dash agree (test_shell_semantics).
STATUS_SETTERS = frozenset({"if_statement", "case_statement", "while_statement", "for_statement",
                            "c_style_for_statement", "function_definition"})


def _tests(node) -> list:
    """The tests inside a condition: [ ], [[ ]], test, grep (not commands that merely take a
    value as input, such as the handler)."""
    if node.type in CASE_WORDS:
        return [node]   # `case $? in 0) ...`: the word a case tests
    found = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type == "test_command":
            found.append(cur)
            continue
        if cur.type == "command":
            name = command_name(cur)
            if name is not None and node_text(name) in TEST_COMMANDS:
                found.append(cur)
            continue
        stack.extend(cur.children)
    return found


# The statement lowerings, by tree-sitter-bash node type; any other node is lowered as the block
# of its named children (ERROR nodes too: what is inside still counts).
STATEMENTS = {
    "function_definition": _Lowering.s_function_definition,
    "subshell": _Lowering.s_subshell,
    "redirected_statement": _Lowering.s_redirected_statement,
    "negated_command": _Lowering.s_negated_command,
    "test_command": _Lowering.s_test_command,
    "pipeline": _Lowering.s_pipeline,
    "list": _Lowering.s_list,
    "if_statement": _Lowering.s_if_statement,
    "elif_clause": _Lowering.s_if_statement,
    "case_statement": _Lowering.s_case_statement,
    "while_statement": _Lowering.s_while_statement,
    "for_statement": _Lowering.s_for_statement,
    "c_style_for_statement": _Lowering.s_c_style_for_statement,
    "variable_assignment": _Lowering.s_variable_assignment,
    "variable_assignments": _Lowering.s_variable_assignments,
    "declaration_command": _Lowering.s_declaration_command,
    "command": _Lowering.s_command,
}
