"""Lowering a tree-sitter-bash tree into the language-neutral runtime model."""

from __future__ import annotations

from bootlint.frontends.registry import NotAnalysed
from bootlint.model import (
    ApiCall,
    Branch,
    CallFunction,
    Endpoint,
    EnvSet,
    Exit,
    ExitKind,
    Guarded,
    HandlerCall,
    Handover,
    InitStep,
    Loop,
    LoopKind,
    Node,
    RuntimeModel,
    SetOption,
    Subshell,
    TempCreate,
    TempRemove,
    TrapSet,
    HeaderMatch,
    ArgvPayload,
    flatten,
)
from bootlint.diagnostics import Span
from bootlint.analysis.call_arms import ArmBinder
from bootlint.analysis.matching import RequestIds
from bootlint.frontends.shell.commands import (
    COMMON_COMMANDS, FIND_DELETES, FIND_EXECS, HTTP_CLIENTS, REMOVERS, SHELL_BUILTINS, TEMP_DIRS,
    VARIABLE_SETTERS, assigned_names,
)
from bootlint.frontends.shell.conditions import Conditions
from bootlint.frontends.shell.dataflow import DataFlow, assigned_name, declared_name, key
from bootlint.frontends.shell.http_facts import RequestFacts
from bootlint.frontends.shell.index import ShellIndex, build_index, command_args, command_name
from bootlint.frontends.shell.parse import MAX_COMMANDS, MAX_NESTING, MAX_NODES, parse, syntax_errors
from bootlint.frontends.shell.words import Words, expansion_names, node_text, substitutions, unbind
from bootlint.files.source import SourceFile

TRUE_COMMANDS = {"true", ":", "/bin/true", "/usr/bin/true"}
FALSE_COMMANDS = {"false", "/bin/false", "/usr/bin/false"}
DECLARATIONS = ("local", "export", "declare", "readonly", "typeset")
HEADER_TOOLS = {"grep", "egrep", "fgrep", "zgrep", "awk", "gawk", "mawk", "sed"}
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
    tree = parse(src)
    model = RuntimeModel(path=src.path, language="shell", errexit_at_start=errexit_at_start,
                         pipefail_at_start=pipefail_at_start)
    nodes = tree.root_node.descendant_count
    if nodes > MAX_NODES:
        raise NotAnalysed(f"a syntax tree of {nodes:,} nodes: over the limit of {MAX_NODES:,} nodes "
                          f"bootlint analyses within its time and memory bounds; the file is not "
                          f"analysed")
    src.parsed["tree-sitter"] = tree   # for bootlint.frontends.shell.fixes: positions in the text as read
    if tree.root_node.has_error:
        tree = _read_past_errors(src, tree, model)
    index = build_index(tree.root_node)
    if tree is src.parsed["tree-sitter"]:
        src.parsed["shell-index"] = index
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
        model.syntax_errors = [(_bash_error_span(src, tree, verdict.line),
                                f"bash: {verdict.message}")]
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


def _prev_named(node):
    sib = node.prev_named_sibling
    while sib is not None and sib.type == "comment":
        sib = sib.prev_named_sibling
    return sib


class _Lowering:
    def __init__(self, src: SourceFile, index: ShellIndex, model: RuntimeModel) -> None:
        self.src = src
        self.index = index
        self.model = model
        self.words = Words(src, index)
        self.flow = DataFlow(index, self.words)
        self.request_facts = RequestFacts(self.words, self._payload_names())
        self.status_after_next = False
        self.posix = ""   # why the shell runs in POSIX mode at this point of the file ("" if not)
        self.nexts_made = 0   # `next` requests lowered so far (see block)
        self.tails = _Tails()
        # Each branch and call of the file's functions with its syntax, for bind_arms.
        self.branches: list[tuple[object, Branch]] = []
        self.calls: list[tuple[object, CallFunction]] = []

    def span(self, node) -> Span:
        return self.src.span(tuple(node.start_point), tuple(node.end_point))

    def _payload_names(self) -> set[str]:
        """Variables that hold data of any size: the event, and the handler's output."""
        names = set(self.flow.event_vars)
        for cmd in self.index.commands:
            if key(cmd) in self.flow.handlers:
                # (`grep`/`cut` feeding a request id into the body are not the handler's output)
                tool = command_name(cmd)
                if tool is None or node_text(tool).rsplit("/", 1)[-1] not in COMMON_COMMANDS:
                    names.add(assigned_name(cmd) or "")
        names.discard("")
        return names

    # -- blocks and statements -------------------------------------------------------------
    def block(self, nodes) -> list[Node]:
        out: list[Node] = []
        after_next = False
        for node in nodes:
            if not node.is_named or node.type == "comment":
                continue
            # `$?` in the statement right after a `next` request tells whether it failed.
            self.status_after_next = after_next
            made = self.nexts_made
            lowered = self.statement(node)
            self.model.statements.append((node.start_point[0] + 1, node.end_point[0] + 1))
            # (counted as they are made: flattening each statement again at every level of
            # nesting cost the depth times the size of the file)
            after_next = self.nexts_made != made
            out.extend(lowered)
        return out

    def statement(self, node) -> list[Node]:
        kind = node.type
        method = getattr(self, "s_" + kind, None)
        if method is not None:
            return method(node)
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
            self.model.functions[node_text(name)] = self.statement(body)
            self.nexts_made = made   # the body's requests are not this statement's
        return []

    def s_subshell(self, node) -> list[Node]:
        return [Subshell(self.span(node), body=self.block(node.children),
                         tail=self.tails.is_tail(node))]

    def s_redirected_statement(self, node) -> list[Node]:
        out: list[Node] = []
        for child in node.children:
            if child.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
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
        # Every element runs in a child process (bash's default, without lastpipe).
        return [Subshell(self.span(p), body=self.statement(p)) for p in parts]

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
        arms = [self.block(arms_nodes[0]) if arms_nodes else []]
        for t, child in branches:
            if t == "else_clause":
                arms.append(self.block(child.children))
            else:
                arms.append(self.s_if_statement(child))
        return [self._branch(node, cond_nodes, cond, arms, after_next)]

    s_elif_clause = s_if_statement

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
        conditions = Conditions(self.words, self.flow, RequestIds(self.model.all_nodes))
        ArmBinder(conditions).bind(self.branches, self.calls)

    def s_case_statement(self, node) -> list[Node]:
        value = node.child_by_field_name("value")
        cond = self.substitutions_in(value) if value is not None else []
        arms = []
        for item in node.children:
            if item.type == "case_item":
                body = [c for i, c in enumerate(item.children)
                        if c.is_named and item.field_name_for_child(i) != "value"]
                arms.append(self.block(body))
        return [self._branch(node, [value] if value is not None else [], cond, arms,
                             self.status_after_next)]

    def s_while_statement(self, node) -> list[Node]:
        until = node.children[0].type == "until"
        conds = [c for i, c in enumerate(node.children) if node.field_name_for_child(i) == "condition"]
        body = node.child_by_field_name("body")
        kind = self._loop_kind(conds, until)
        return [Loop(self.span(node), kind=kind,
                     cond=[Guarded(self.span(node), body=self.block(conds))],
                     body=self.statement(body) if body is not None else [])]

    def s_for_statement(self, node) -> list[Node]:
        body = node.child_by_field_name("body")
        values = [c for i, c in enumerate(node.children) if node.field_name_for_child(i) == "value"]
        cond = [n for v in values for n in self.substitutions_in(v)]
        return [Loop(self.span(node), kind=LoopKind.BOUNDED, cond=cond,
                     body=self.statement(body) if body is not None else [])]

    def s_c_style_for_statement(self, node) -> list[Node]:
        body = node.child_by_field_name("body")
        condition = node.child_by_field_name("condition")
        infinite = condition is None or node_text(condition).strip() in ("1", "true")
        return [Loop(self.span(node), kind=LoopKind.INFINITE if infinite else LoopKind.BOUNDED,
                     body=self.statement(body) if body is not None else [])]

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
        prefix = [c for c in node.children if c.type == "variable_assignment"]
        for assignment in prefix:
            out.extend(self.substitutions_in(assignment))
            name = assignment.child_by_field_name("name")
            if name is not None and name_node is not None:
                # VAR=value cmd: the variable is in cmd's environment.
                out.append(EnvSet(self.span(name), name=node_text(name), exported=True))
        if name_node is None:
            return out
        args = command_args(node)
        out.extend(self.substitutions_in(name_node))
        for arg in args:
            out.extend(self.substitutions_in(arg))
        name = self.words.literal(name_node)
        if key(node) in self.flow.handlers:
            out.append(self._handler_call(node))
        out.extend(self._argv_payload(node, name, args))
        if key(node) in self.flow.http:
            return out + self.c_curl(node, args)
        if name is None:
            return out
        base = name.rsplit("/", 1)[-1]
        handler = getattr(self, "c_" + base.replace("-", "_").replace(".", "dot"), None)
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
        elif handler is not None and ("/" not in name or base in ("mktemp", "rm")):
            out.extend(handler(node, args))
        return out

    def _argv_payload(self, node, name: str | None, args) -> list[Node]:
        """The event passed as an argument to an external program (Linux caps one at 128 KiB)."""
        if name is None or not self.flow.event_vars:
            return []
        base = name.rsplit("/", 1)[-1]
        external = "/" in name or (base not in SHELL_BUILTINS and name not in self.index.functions
                                   and (base in COMMON_COMMANDS or not self.index.sources))
        if not external or base in HTTP_CLIENTS:
            return []
        for arg in args:
            if expansion_names(arg) & self.flow.event_vars:
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
        return [Exit(self.span(node), kind=ExitKind.EXIT, text=node_text(node))]

    def c_return(self, node, args) -> list[Node]:
        return [Exit(self.span(node), kind=ExitKind.RETURN, text=node_text(node))]

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
        guard = _failure_guard(node) if self.posix else ""
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
        target = assigned_name(node)
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
        return {n for n in (assigned_name(site) for site in sites) if n}

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
        from bootlint.frontends.shell.parse import parser

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
        entry = self.flow.http.get(key(node))
        if not entry or key(node) in self.flow.parametric:
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
        for inst in self.flow.instances.get(key(site), ()):
            for url_node, info in inst.urls:
                raw, _ = unbind(url_node)
                facts = self.request_facts.facts(site, inst.cmd, info.endpoint)
                out.append(ApiCall(span, endpoint=info.endpoint, url=info, tool=inst.cmd.tool,
                                   method=inst.cmd.method, facts=facts, via=inst.chain,
                                   helper_span=self.span(raw)))
                self.nexts_made += info.endpoint is Endpoint.NEXT
        for env in self.flow.env_instances.get(key(site), ()):
            out.append(EnvSet(span, name=env.name, exported=env.exported))
        return out

    def _handler_call(self, node) -> HandlerCall:
        """The handler's command, with whether its exit status reaches the shell."""
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
        return HandlerCall(self.span(node), text=node_text(node)[:80], status_kept=status_kept,
                            in_pipe=in_pipe, masked_by=masked_by, masked_at=masked_at,
                           tail=self.tails.is_tail(node), returns_ok=self._returns_ok(node),
                           calls_function=node_text(command_name(node) or node) in self.index.functions)

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
        return [Subshell(self.span(sub), body=self.block(sub.children),
                         substitution=sub.type == "command_substitution", tail=self.tails.is_tail(sub))
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
        names = set().union(*(self.flow.references(t) for t in _tests(node)))
        if "?" in names and after_next:
            return True
        return bool(names & self.flow.next_vars)


def _failure_guard(node) -> str:
    """How the script handles this command's failure, when it does: the `||` after it, the `if`
    or `while` it is the condition of, the `!` before it ("" when it does not)."""
    child, cur = node, node.parent
    while cur is not None:
        kind = cur.type
        if kind == "list":
            named = [c for c in cur.children if c.is_named and c.type != "comment"]
            ops = {c.type for c in cur.children if not c.is_named}
            if named and named[0].start_byte == child.start_byte and "||" in ops:
                return "`||`"
        elif kind == "negated_command":
            return "`!`"
        elif kind in ("if_statement", "elif_clause", "while_statement"):
            condition = cur.child_by_field_name("condition")
            if condition is not None and condition.start_byte <= child.start_byte < condition.end_byte:
                return f"`{'while' if kind == 'while_statement' else 'if'}` around it"
            return ""
        elif kind not in ("redirected_statement", "pipeline", "compound_statement"):
            return ""
        child, cur = cur, cur.parent
    return ""


def _one_line(text: str) -> str:
    return text.split("\n", 1)[0][:60]


# Where a command's status becomes its body's status: the last statement of a function's body or
# of a `$(...)`, through the last statement of an if/else arm, the right of `&&`/`||`, the last
# element of a pipeline, a redirection.
_PASS_STATUS = ("compound_statement", "redirected_statement", "pipeline", "else_clause", "list",
                "elif_clause", "if_statement", "subshell")


class _Tails:
    """Whether a command's exit status is the status of the function or `$(...)` it stands in.
    What each block's last statements are is read once per block: asking it of every command
    in a block of thousands was quadratic."""

    def __init__(self) -> None:
        self._last: dict[tuple, int | None] = {}           # block -> its last statement's start
        self._arm_ends: dict[tuple, set[int]] = {}         # if/elif/else -> its arms' last starts
        self._conditions: dict[tuple, set[int]] = {}       # if -> its conditions' starts

    def is_tail(self, node) -> bool:
        child, cur = node, node.parent
        while cur is not None:
            kind = cur.type
            if kind in ("function_definition", "command_substitution"):
                return kind == "function_definition" or self._is_last(cur, child)
            if kind in ("variable_assignment", "concatenation", "string"):
                child, cur = cur, cur.parent  # X=$(cmd): the assignment's status is cmd's
                continue
            if kind == "command" and child.type in ("variable_assignment", "concatenation", "string"):
                return False  # cmd "$(x)": the status is cmd's, not x's
            if kind not in _PASS_STATUS:
                return False
            if kind == "if_statement":
                if child.start_byte in self._condition_starts(cur):
                    return False
                if child.type not in ("elif_clause", "else_clause") and not self._is_arm_end(cur, child):
                    return False
            elif kind in ("elif_clause", "else_clause"):
                if child.type not in ("elif_clause", "else_clause") and not self._is_arm_end(cur, child):
                    return False
            elif not self._is_last(cur, child):
                return False
            child, cur = cur, cur.parent
        return False

    def _is_last(self, parent, child) -> bool:
        place = (parent.start_byte, parent.end_byte, parent.type)
        if place not in self._last:
            named = [c for c in parent.children if c.is_named and c.type not in ("comment", "heredoc_body")]
            self._last[place] = named[-1].start_byte if named else None
        return self._last[place] == child.start_byte

    def _condition_starts(self, clause) -> set[int]:
        place = (clause.start_byte, clause.end_byte, clause.type)
        if place not in self._conditions:
            self._conditions[place] = {c.start_byte for i, c in enumerate(clause.children)
                                       if clause.field_name_for_child(i) == "condition"}
        return self._conditions[place]

    def _is_arm_end(self, clause, child) -> bool:
        """Is ``child`` the last statement of its arm of an if/elif/else clause?"""
        place = (clause.start_byte, clause.end_byte, clause.type)
        ends = self._arm_ends.get(place)
        if ends is None:
            ends = self._arm_ends[place] = set()
            statements: list = []
            for c in clause.children:
                if c.type in ("elif_clause", "else_clause", "fi", "then", "if", "elif", "else"):
                    # An arm runs from `then`/`else` to the next clause; before `then` is a condition.
                    if c.type in ("elif_clause", "else_clause", "fi") and statements:
                        ends.add(statements[-1].start_byte)
                    statements = []
                    continue
                if c.is_named and c.type != "comment":
                    statements.append(c)
            if statements:
                ends.add(statements[-1].start_byte)
        return child.start_byte in ends


TEST_COMMANDS = {"[", "test", "grep", "egrep", "fgrep"}


def _tests(node) -> list:
    """The tests inside a condition: [ ], [[ ]], test, grep (not commands that merely take a
    value as input, such as the handler)."""
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


def _sed_folds_case(script: str) -> bool:
    """Does a sed script match case-insensitively (s/re/x/I, /re/I)?"""
    import re

    return bool(re.search(r"(^|[;\n])\s*(s(.).*?\3.*?\3[gpmeIi0-9]*[Ii]|/[^/]*/[Ii])", script))


def _temp_dir(text: str, contents: bool) -> bool:
    """Is this word the temp directory (``contents``: everything in it, `/tmp/*`)?"""
    word = text.replace('"', "").replace("'", "")      # "$TMPDIR"/*, '/tmp'
    if contents:
        if not word.endswith("/*"):
            return False
        word = word[:-2]
    return word.rstrip("/") in TEMP_DIRS
