"""Following values through a shell file: the requests each call of a helper makes (its
parameters bound to the call's arguments), which command is the handler (its output is posted
to /response), and which variables hold what the `next` request returned."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from bootlint.analysis.graphs import closure
from bootlint.model import Endpoint
from bootlint.frontends.shell.commands import COMMON_COMMANDS, HTTP_CLIENTS, INTERPRETERS, PASS_THROUGH, SHELL_BUILTINS
from bootlint.frontends.shell.commands import CLIENTS, HttpCommand, unwrap
from bootlint.frontends.shell.index import ShellIndex, command_args, command_name
from bootlint.frontends.shell.words import (
    MAX_CALL_DEPTH, POSITIONAL, REST, Bound, Frame, Words, expansion_names, node_text, rest_start,
    substitutions, unbind,
)
from bootlint.analysis.urls import UrlInfo, classify

MAX_HOPS = 6


def key(node) -> tuple[int, int]:
    return (node.start_byte, node.end_byte)


def http_command(node, words: Words, args: list | None = None) -> HttpCommand | None:
    """The parsed curl/wget command line of a `command` node, or None for other commands;
    ``args`` replaces its arguments (a helper's, bound to one call site)."""
    name = command_name(node)
    if name is None:
        return None
    if args is None:
        args = command_args(node)
    tool, _, args, wrappers = unwrap(name, args, words.literal)
    if tool not in HTTP_CLIENTS:
        return None
    cmd = CLIENTS[tool].parse(args, words.literal, _reads_stdin(node))
    cmd.wrappers = wrappers
    return cmd


def api_urls(cmd: HttpCommand, words: Words) -> list[tuple[object, UrlInfo]]:
    """Each (url node, meaning) of a command's URLs that address the Runtime or Extensions API."""
    found = []
    for url in cmd.urls:
        seen = set()
        for alt in words.evaluate(url):
            info = classify(alt)
            if info is not None and (info.endpoint, info.unresolved) not in seen:
                seen.add((info.endpoint, info.unresolved))
                found.append((url, info))
    return found


@dataclass
class Instance:
    """A request a helper makes for one call site: the helper's command line with its
    parameters bound to that call's arguments."""

    site: object            # the outermost call site (the line the user wrote)
    command: object         # the request's command in the innermost helper
    cmd: HttpCommand
    urls: list
    chain: tuple[str, ...]  # the helpers called, outermost first


def declared_name(word, words: Words, frame=None) -> str:
    """The variable a declaration's argument sets: `X=v`, `"X=$v"`, or in a helper read for one
    call site (``frame``) `"$1=$2"` and `"$1"`; "" for a flag or a name unknown before run time."""
    if word.type == "word" and node_text(word).startswith("-"):
        return ""
    target = word.child_by_field_name("name") if word.type == "variable_assignment" else word
    if target is None:
        return ""
    alts = words.evaluate(Bound(target, frame) if frame is not None else target)
    prefix, whole = "", len(alts) == 1
    for piece in alts[0] if len(alts) == 1 else ():
        if not piece.is_literal:
            whole = False
            break
        prefix += piece.text
    name = prefix.split("=", 1)[0] if whole or "=" in prefix else ""
    return name if name.isidentifier() else ""


@dataclass
class EnvInstance:
    """A variable a helper sets for one call site (`set_env() { export "$1=$2"; }`)."""

    site: object
    name: str
    exported: bool


class DataFlow:
    """Pre-computed facts about values that the lowering consults."""

    def __init__(self, index: ShellIndex, words: Words) -> None:
        self.index = index
        self.words = words
        self._visits: tuple[set | None, dict] = (None, {})   # see _first_visit
        self.http: dict[tuple[int, int], tuple[HttpCommand, list]] = {}
        for node in index.commands:
            cmd = http_command(node, words)
            if cmd is not None:
                self.http[key(node)] = (cmd, api_urls(cmd, words))
        # Requests whose URL or options come from the helper's parameters are read once per
        # call site (below), not once in the helper's body.
        self.parametric: set[tuple[int, int]] = set()
        self.instances: dict[tuple[int, int], list[Instance]] = {}
        self.env_instances: dict[tuple[int, int], list[EnvInstance]] = {}
        self._param_locals: dict[tuple[str, str], bool] = {}
        self._bind_call_sites()
        self.event_vars = self._event_vars()
        self.event_files = self._event_files()
        self.handlers = self._find_handlers()
        self._handler_starts: list[tuple[int, int]] | None = None
        self.next_vars = self._next_tainted()

    def endpoints_of(self, node) -> set[Endpoint]:
        return {info.endpoint for _, urls in self.requests_of(node) for _, info in urls}

    def requests_of(self, node) -> list[tuple[HttpCommand, list]]:
        """The requests a command makes: its own, or those of the helper it calls."""
        k = (node.start_byte, node.end_byte)
        entry = self.http.get(k)
        instances = self.instances.get(k)
        if instances is None:
            return [entry] if entry is not None and k not in self.parametric else []
        found = [entry] if entry is not None and k not in self.parametric else []
        found.extend((inst.cmd, inst.urls) for inst in instances)
        return found

    # -- helpers' parameters bound at call sites --------------------------------------------
    def mentions_params(self, nodes, function: str | None) -> bool:
        """Do these words read the positional parameters, directly or through the function's
        locals assigned from them (`local path="$1"`)?"""
        names: set[str] = set()
        for node in nodes:
            names |= expansion_names(node)
        if names & (POSITIONAL | REST):
            return True
        if function is None:
            return False
        local = self.index.locals.get(function, set())
        if any(self._local_from_params(function, n) for n in names & local):
            return True
        # A global the function itself sets from them first (`name=$1` in POSIX sh, no `local`).
        for node in nodes:
            for n in expansion_names(node) - local:
                own = self.words.own_assignment(function, n, node)
                if own is not None and expansion_names(own) & (POSITIONAL | REST):
                    return True
        return False

    def _local_from_params(self, function: str, name: str, depth: int = 0) -> bool:
        """Is a function's local assigned from its parameters (decided once per local)?"""
        cache_key = (function, name)
        cached = self._param_locals.get(cache_key)
        if cached is not None:
            return cached
        self._param_locals[cache_key] = False   # a local assigned from itself: not from parameters
        found = False
        for value in self.index.local_values.get(cache_key, ()):
            if value is None:
                continue
            names = expansion_names(value)
            if names & (POSITIONAL | REST) or (depth < 4 and any(
                    self._local_from_params(function, n, depth + 1)
                    for n in names & self.index.locals.get(function, set()))):
                found = True
                break
        self._param_locals[cache_key] = found
        return found

    def _bind_call_sites(self) -> None:
        index = self.index
        if not index.call_sites:
            return
        for node in index.commands:
            function = index.function_of(node) if key(node) in self.http else None
            if function is None or function not in index.call_sites:
                continue
            cmd, _ = self.http[key(node)]
            passes_rest = any(rest_start(a) is not None for a in command_args(node))
            if not passes_rest and not self.mentions_params(command_args(node), function):
                continue
            # Does the endpoint depend on the parameters (not only the request id in it)?
            self.words.parameters_unknown = True
            try:
                urls = api_urls(cmd, self.words)
            finally:
                self.words.parameters_unknown = False
            decided = urls and not any(info.unresolved for _, info in urls)
            if passes_rest or not decided:
                self.parametric.add(key(node))
        binding = self._functions_binding()
        for function, sites in index.call_sites.items():
            if function not in binding:
                continue  # its calls request and set nothing that depends on their arguments
            for site in sites:
                if self._site_is_bound_later(site):
                    continue
                frame = Frame(function, tuple(Bound(a, None) for a in command_args(site)), None,
                              site, (function,))
                self._instantiate(frame)

    def _functions_binding(self) -> set[str]:
        """Functions whose calls make requests or set variables that depend on the arguments:
        a parametric request, a declaration from the parameters, or a call passing them on to
        such a function."""
        index = self.index
        direct: set[str] = set()
        passes_on: dict[str, set[str]] = {}    # callee -> callers passing their parameters
        for function in index.call_sites:
            for node in index.commands_in.get(function, ()):
                if key(node) in self.parametric:
                    direct.add(function)
                    continue
                name = command_name(node)
                callee = node_text(name) if name is not None and name.type == "word" else None
                if callee in index.call_sites and self.mentions_params(command_args(node), function):
                    passes_on.setdefault(callee, set()).add(function)
            for node in index.declarations_in.get(function, ()):
                if self.mentions_params([c for c in node.children[1:] if c.is_named], function):
                    direct.add(function)
        return closure(direct, passes_on)

    def _site_is_bound_later(self, site) -> bool:
        """A call inside a helper that passes the helper's own parameters on: it is read when
        the helper's call sites are (a helper nothing calls is read with unknown parameters)."""
        owner = self.index.function_of(site)
        return owner is not None and owner in self.index.call_sites and \
            self.mentions_params(command_args(site), owner)

    def bind_args(self, node, frame: Frame) -> list:
        out = []
        for arg in command_args(node):
            start = rest_start(arg)
            if start is None:
                out.append(Bound(arg, frame))
                continue
            first = start - 1 + self.index.shift_at(frame.function, arg.start_byte)
            out.extend(frame.args[first:])
        return out

    def _instantiate(self, frame: Frame) -> None:
        index = self.index
        for node in index.commands_in.get(frame.function, ()):
            if key(node) in self.parametric:
                cmd = http_command(node, self.words, self.bind_args(node, frame))
                if cmd is not None:
                    self.instances.setdefault(key(frame.site), []).append(
                        Instance(frame.site, node, cmd, api_urls(cmd, self.words), frame.chain))
                continue
            name = command_name(node)
            callee = node_text(name) if name is not None and name.type == "word" else None
            if (callee in index.call_sites and callee not in frame.chain
                    and len(frame.chain) < MAX_CALL_DEPTH
                    and self.mentions_params(command_args(node), frame.function)):
                inner = Frame(callee, tuple(self.bind_args(node, frame)), frame, frame.site,
                              frame.chain + (callee,))
                self._instantiate(inner)
        for node in index.declarations_in.get(frame.function, ()):
            self._bind_declaration(node, frame)

    def _bind_declaration(self, node, frame: Frame) -> None:
        """`export "$1=$2"`, `declare -gx "$1=$2"`, `export "$1"` in a helper: the variable the
        call site names is set (and exported) for it."""
        keyword = node_text(node.children[0]) if node.children else ""
        words = [c for c in node.children[1:] if c.is_named]
        flags = [node_text(w) for w in words if w.type == "word" and node_text(w).startswith("-")]
        exported = keyword == "export" or any("x" in f for f in flags)
        if keyword == "local" or not self.mentions_params(words, frame.function):
            return
        for word in words:
            name = declared_name(word, self.words, frame)
            if name:
                self.env_instances.setdefault(key(frame.site), []).append(
                    EnvInstance(frame.site, name, exported or name in self.index.exported))

    # -- the handler ---------------------------------------------------------------------------
    def _find_handlers(self) -> set[tuple[int, int]]:
        found: set[tuple[int, int]] = set()
        for node in self.index.commands:
            for cmd, urls in self.requests_of(node):
                if any(info.endpoint is Endpoint.RESPONSE for _, info in urls):
                    self._payload_producers(node, cmd, found)
        if found:
            return found
        found = self._event_consumers()
        if found:
            return found
        handler_vars = self._handler_name_vars()
        for node in self.index.commands:
            name = command_name(node)
            if name is not None and name.type != "word" and (self._mentions(name, handler_vars)):
                found.add(key(node))
        if found or not self.index.sources:
            return found
        # A function defined in a sourced file: a name that is not the file's, a builtin or a tool.
        for node in self.index.commands:
            name = command_name(node)
            text = self.words.literal(name) if name is not None else None
            if (text and "/" not in text and "=" not in text and text not in self.index.functions
                    and text not in SHELL_BUILTINS and text not in COMMON_COMMANDS
                    and self.index.in_loop_or_function(node)):
                found.add(key(node))
        return found

    def _handler_name_vars(self) -> set[str]:
        """_HANDLER and the variables computed from it (HANDLER_FN=$(echo $_HANDLER | cut ...))."""
        names = {"_HANDLER"}
        for _ in range(MAX_HOPS):
            grown = {name for name, values in self.index.assignments.items()
                     if any(v is not None and self._mentions(v, names) for v in values)}
            if grown <= names:
                break
            names |= grown
        return names

    @staticmethod
    def _mentions(node, names: set[str]) -> bool:
        stack = [node]
        while stack:
            cur = stack.pop()
            if cur.type == "variable_name" and node_text(cur) in names:
                return True
            stack.extend(cur.named_children)
        return False

    def _payload_producers(self, node, cmd: HttpCommand, found: set) -> None:
        """Add the commands whose output becomes this POST's body."""
        for opt in cmd.options:
            if opt.name not in cmd.client.body_options:
                continue
            value = opt.value
            if value is None:
                continue
            text = opt.inline if opt.inline is not None else self.words.literal(value)
            if text in ("@-", "-", "@/dev/stdin"):
                self._stdin_producers(node, found, 0)
            elif text is not None and text.startswith("@"):
                self._file_producers(text[1:], found)
            elif text is None and node_text(value).lstrip("\"'").startswith("@"):
                # `-d @"$BODY"`: the body is what is written to the file the variable names, not
                # what made the name (`BODY=$(mktemp)` is no handler).
                self._file_var_producers(expansion_names(value), found)
            else:
                self._value_producers(value, found, 0)

    def _value_producers(self, value, found: set, hops: int) -> None:
        if hops > MAX_HOPS:
            return
        raw, frame = unbind(value)
        if not self._first_visit(found, (raw.start_byte, raw.end_byte, raw.type, id(frame)), hops):
            return
        if frame is not None:
            # A helper's parameter: what the call site passed.
            for name in expansion_names(raw) & POSITIONAL:
                at = int(name) - 1 + self.index.shift_at(frame.function, raw.start_byte)
                if at < len(frame.args):
                    self._value_producers(frame.args[at], found, hops + 1)
            value = raw
        for sub in substitutions(value):
            for inner in _last_commands(sub):
                self._producer(inner, found, hops + 1)
        names = set() if value.type in ("command_substitution", "process_substitution") else expansion_names(value)
        for name in names:
            # A name already followed in this query in as few hops has nothing new to give:
            # without this, each use of a variable assigned n times costs n (quadratic).
            if not self._first_visit(found, ("$", name), hops):
                continue
            for v in self.index.assignments.get(name, []):
                if v is not None:
                    self._value_producers(v, found, hops + 1)

    def _first_visit(self, found: set, node_key: tuple, hops: int) -> bool:
        """Whether a value is new to the query that fills ``found`` (or reached in fewer hops
        than before). A variable assigned in every copy of a loop body would otherwise be
        followed once per use and per assignment: quadratic in the file's length."""
        if self._visits[0] is not found:
            self._visits = (found, {})
        best = self._visits[1].get(node_key)
        if best is not None and best <= hops:
            return False
        self._visits[1][node_key] = hops
        return True

    def _producer(self, cmd, found: set, hops: int) -> None:
        name = command_name(cmd)
        text = self.words.literal(name) if name is not None else None
        if text is not None and text.rsplit("/", 1)[-1] in PASS_THROUGH:
            for arg in command_args(cmd):
                self._value_producers(arg, found, hops)
            self._stdin_producers(cmd, found, hops)
        elif text is not None and text in SHELL_BUILTINS:
            return
        else:
            found.add(key(cmd))

    def _stdin_producers(self, node, found: set, hops: int) -> None:
        """What feeds a command's standard input: the pipeline before it, a here-string."""
        parent = node.parent
        if parent is not None and parent.type == "redirected_statement":
            for child in parent.children:
                if child.type in ("herestring_redirect", "heredoc_redirect"):
                    self._value_producers(child, found, hops + 1)
            node, parent = parent, parent.parent
        if parent is not None and parent.type == "pipeline":
            before = []
            for child in parent.children:
                if child.start_byte >= node.start_byte:
                    break
                if child.is_named:
                    before.append(child)
            if before:
                for cmd in _last_commands(before[-1]):
                    self._producer(cmd, found, hops + 1)

    def _event_files(self) -> set[str]:
        """Files the `next` request writes the event to (`curl -o /tmp/event.json`)."""
        files: set[str] = set()
        for node in self.index.commands:
            for cmd, urls in self.requests_of(node):
                if any(info.endpoint is Endpoint.NEXT for _, info in urls):
                    for opt in cmd.get("output", "o", "O", "output-document"):
                        text = self.words.literal(opt.value) if opt.value is not None else None
                        if text and text != "-":
                            files.add(text)
        return files

    def _event_consumers(self) -> set[tuple[int, int]]:
        """Programs run once per event with the event (its variable, or the file `next` wrote):
        `"$LAMBDA_TASK_ROOT/handler" "$EVENT"`, `Rscript x.R "$EVENT"`, `bash ./h.sh /tmp/e`."""
        found: set[tuple[int, int]] = set()
        if not self.event_vars and not self.event_files:
            return found
        for node in self.index.commands:
            if not self._is_program(node) or not self.index.in_loop_or_function(node):
                continue
            for arg in command_args(node):
                if expansion_names(arg) & self.event_vars or self.words.literal(arg) in self.event_files:
                    found.add(key(node))
                    break
        return found

    def _is_program(self, node) -> bool:
        """A command that runs a program of the user's (not a builtin, the file's function, an
        HTTP client or a usual tool; an interpreter running a script is one)."""
        name = command_name(node)
        if name is None:
            return False
        text = self.words.literal(name)
        if text is None:
            return name.type != "command_substitution"
        base = text.rsplit("/", 1)[-1]
        if base in INTERPRETERS:
            return True
        return not (base in SHELL_BUILTINS or base in COMMON_COMMANDS or base in HTTP_CLIENTS
                    or text in self.index.functions or base in PASS_THROUGH) and (
            "/" in text or not self.index.sources)

    def _file_var_producers(self, names: set[str], found: set) -> None:
        """Commands that write to a file named by one of these variables: redirected into it
        (`./handler > "$OUT"`) or programs given it (`./handler "$EVENT" "$OUT"`)."""
        if names:
            self._file_writers(lambda word: bool(expansion_names(word) & names), found)

    def _file_producers(self, path_text: str, found: set) -> None:
        """Commands whose output is redirected to the file that the POST reads, or programs
        given that file to write (`./handler /tmp/event.json /tmp/out.json`)."""
        path = path_text.strip("\"'")
        self._file_writers(lambda word: node_text(word).strip("\"'") == path
                           or self.words.literal(word) == path, found)

    def _file_writers(self, names_file, found: set) -> None:
        """Commands that write the file a word names (``names_file(word)``): a program given
        it as an argument, or a command whose output is redirected into it."""
        for node in self.index.commands:
            if self._is_program(node) and any(names_file(a) for a in command_args(node)):
                found.add(key(node))
                continue
            parent = node.parent
            if parent is None or parent.type != "redirected_statement":
                continue
            for child in parent.children:
                dest = child.child_by_field_name("destination") if child.type == "file_redirect" else None
                if dest is not None and node_text(child).lstrip("0123456789&").startswith(">") \
                        and names_file(dest):
                    self._producer(node, found, 1)

    # -- what `next` returned -------------------------------------------------------------------
    def references(self, node) -> set[str]:
        """Variables and literal file paths a node mentions (``$?`` included as ``?``)."""
        refs: set[str] = set()
        stack = [node]
        while stack:
            cur = stack.pop()
            if cur.type in ("variable_name", "special_variable_name"):
                refs.add(node_text(cur))
            elif cur.type == "word" and "/" in node_text(cur):
                refs.add(node_text(cur))
            stack.extend(cur.named_children)
        return refs

    def _event_vars(self) -> set[str]:
        """Variables that hold the event: the body `next` returned (EVENT=$(curl ... next))."""
        names = {assigned_name(node) for node in self.index.commands
                 if Endpoint.NEXT in self.endpoints_of(node)}
        names.discard(None)
        return names  # type: ignore[return-value]

    def _contains_handler(self, node) -> bool:
        if self._handler_starts is None:
            self._handler_starts = sorted(self.handlers)
        starts = self._handler_starts
        # Handlers are ranges sorted by start: only those starting inside the node can be in it.
        for i in range(bisect_left(starts, (node.start_byte, -1)), len(starts)):
            start, end = starts[i]
            if start >= node.end_byte:
                break
            if end <= node.end_byte:
                return True
        return False

    def _next_tainted(self) -> set[str]:
        """Variables and files holding what `next` returned, and values computed from them
        (but not the handler's output, which is about the handler, not the request)."""
        names: set[str] = set()
        for node in self.index.commands:
            nexts = [cmd for cmd, urls in self.requests_of(node)
                     if any(info.endpoint is Endpoint.NEXT for _, info in urls)]
            if not nexts:
                continue
            for opt in (o for cmd in nexts for o in cmd.get(*cmd.client.output_options)):
                if opt.value is not None:
                    names |= self.references(opt.value) | {self.words.literal(opt.value) or ""}
            target = assigned_name(node)
            if target:
                names.add(target)
            parent = node.parent
            if parent is not None and parent.type == "redirected_statement":
                for child in parent.children:
                    dest = child.child_by_field_name("destination") if child.type == "file_redirect" else None
                    if dest is not None:
                        names |= self.references(dest) | {self.words.literal(dest) or ""}
        names.discard("")
        candidates = {name: [v for v in values if v is not None and not self._contains_handler(v)]
                      for name, values in self.index.assignments.items()}
        for _ in range(MAX_HOPS):
            grown = {name for name, values in candidates.items()
                     if any(self.references(v) & names for v in values)}
            if grown <= names:
                break
            names |= grown
        return names


def _last_commands(node) -> list:
    """The commands whose output a substitution or pipeline element produces."""
    out = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type == "command":
            out.append(cur)
            continue
        if cur.type == "pipeline":
            named = [c for c in cur.children if c.is_named]
            if named:
                stack.append(named[-1])
            continue
        if cur.type in ("variable_assignment", "file_redirect", "herestring_redirect", "comment"):
            continue
        stack.extend(cur.named_children)
    return out


def assigned_name(node) -> str | None:
    """The variable that a command's output is assigned to (X=$(cmd), X="$(cmd)", local X=...)."""
    cur = node.parent
    while cur is not None:
        if cur.type == "variable_assignment":
            name = cur.child_by_field_name("name")
            return node_text(name) if name is not None else None
        if cur.type in ("command_substitution", "string", "pipeline", "concatenation",
                        "redirected_statement"):
            cur = cur.parent
            continue
        return None
    return None



def _reads_stdin(node) -> bool:
    """Is something piped or redirected into the command (`printf ... | http POST url`)?"""
    parent = node.parent
    if parent is not None and parent.type == "redirected_statement":
        if any(c.type in ("herestring_redirect", "heredoc_redirect") or (
                c.type == "file_redirect" and c.text.lstrip(b"0123456789").startswith(b"<"))
               for c in parent.children):
            return True
        node, parent = parent, parent.parent
    if parent is not None and parent.type == "pipeline":
        named = [c for c in parent.children if c.is_named]
        return bool(named) and named[0].start_byte != node.start_byte
    return False
