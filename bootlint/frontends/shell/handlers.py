"""Which commands of a shell file are the handler: the commands whose output becomes the posted
response (through variables, pipes, here-strings, files), else the programs run with the event,
else the command `_HANDLER` names."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from bootlint.analysis.graphs import closure
from bootlint.frontends.shell.callsites import CallSites
from bootlint.frontends.shell.clients import HTTP_CLIENTS, HttpCommand
from bootlint.frontends.shell.commands import (
    COMMON_COMMANDS, FILE_READERS, INTERPRETERS, PASS_THROUGH, PLUMBING, SHELL_BUILTINS, runs_inline_code,
    unwrap,
)
from bootlint.frontends.shell.facts import EventFacts, written_files
from bootlint.frontends.shell.index import ShellIndex
from bootlint.frontends.shell.syntax import (
    callee as command_callee, command_args, command_name, expansion_names, key, node_text, substitutions,
)
from bootlint.frontends.shell.values import POSITIONAL, Words, unbind
from bootlint.model import Endpoint

MAX_HOPS = 6


def last_between(ordered: list[int], low: int, high: float) -> int | None:
    """The largest of the sorted numbers in [low, high), else None. By bisection: the handler
    search asks it once per region with the `next`s of a function, and a function defined again
    and again (a long file of repeated runtimes) has as many regions as posts."""
    at = bisect_left(ordered, high) - 1
    return ordered[at] if at >= 0 and ordered[at] >= low else None


class Handlers:
    """Finds the handler's commands once (:attr:`found`, by place)."""

    def __init__(self, index: ShellIndex, words: Words, sites: CallSites, facts: EventFacts) -> None:
        self.index = index
        self.words = words
        self.sites = sites
        self.event_vars = facts.event_vars
        self.event_files = facts.event_files
        self.facts = facts
        self._visits: tuple[set | None, dict] = (None, {})   # see _first_visit
        self._writer_index: tuple[dict, dict] | None = None   # see _writers
        self._by_place: dict | None = None
        self.found = self._find_handlers()

    def _find_handlers(self) -> set[tuple[int, int]]:
        found: set[tuple[int, int]] = set()
        for node in self.index.commands:
            for cmd, urls in self.sites.requests_of(node):
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
            if name is not None and name.type != "word" and (_mentions(name, handler_vars)):
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
                     if any(v is not None and _mentions(v, names) for v in values)}
            if grown <= names:
                break
            names |= grown
        return names

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
            for child in sub.named_children:
                # `$(<file)`: the file's content, made by whatever wrote that file.
                if child.type == "file_redirect" and node_text(child).startswith("<"):
                    self._read_file_producers(child.child_by_field_name("destination"), found, hops)
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
        base = text.rsplit("/", 1)[-1] if text is not None else None
        if base is not None and (base in PLUMBING or runs_inline_code(
                base, [self.words.literal(a) for a in command_args(cmd)])):
            # Plumbing (jq, printf, a `python3 -c '...'` escaper): the data came from before it,
            # or from the files it reads (`tail -n 1 /tmp/out`, `cat "$OUT"`).
            for arg in command_args(cmd):
                self._value_producers(arg, found, hops)
                if base in FILE_READERS and not node_text(arg).startswith("-"):
                    self._read_file_producers(arg, found, hops)
            self._stdin_producers(cmd, found, hops)
        elif text is not None and text in SHELL_BUILTINS:
            return
        elif key(cmd) in self.sites.http and self.sites.endpoints_of(cmd):
            return   # the event `next` returned, posted back as it came: a request is no handler
        else:
            found.add(key(cmd))

    def _read_file_producers(self, word, found: set, hops: int) -> None:
        """The commands that write the file a word names (by path, or by a variable)."""
        if word is None or hops > MAX_HOPS or not self._first_visit(found, ("<", node_text(word)), hops):
            return
        path = self.words.literal(word)
        if path is not None and "/" in path:
            self._file_producers(path, found)
        elif path is None:
            self._file_var_producers(expansion_names(word), found)

    def _stdin_producers(self, node, found: set, hops: int) -> None:
        """What feeds a command's standard input: the pipeline before it, a here-string."""
        redirected, parent = self.index.statement_context(node)
        if redirected is not None:
            for child in redirected.children:
                if child.type in ("herestring_redirect", "heredoc_redirect"):
                    self._value_producers(child, found, hops + 1)
            node = redirected
        if parent is not None:
            before = []
            for child in parent.children:
                if child.start_byte >= node.start_byte:
                    break
                if child.is_named:
                    before.append(child)
            if before:
                for cmd in _last_commands(before[-1]):
                    self._producer(cmd, found, hops + 1)

    def _event_consumers(self) -> set[tuple[int, int]]:
        """Programs run once per event with the event (its variable, or the file `next` wrote):
        `"$LAMBDA_TASK_ROOT/handler" "$EVENT"`, `Rscript x.R "$EVENT"`, `bash ./h.sh /tmp/e`."""
        found: set[tuple[int, int]] = set()
        if not self.event_vars and not self.event_files and not self.facts.event_file_vars:
            return found
        for node in self.index.commands:
            if not self._is_program(node) or not self.index.in_loop_or_function(node):
                continue
            for arg in command_args(node):
                if expansion_names(arg) & self.event_vars or self.facts.reads_event_file(arg):
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
        by_var = self._writers()[1]
        self._file_writers(sorted({e for n in names for e in by_var.get(n, ())}), found)

    def _file_producers(self, path_text: str, found: set) -> None:
        """Commands whose output is redirected to the file that the POST reads, or programs
        given that file to write (`./handler /tmp/event.json /tmp/out.json`)."""
        self._file_writers(self._writers()[0].get(path_text.strip("\"'"), ()), found)

    def _writers(self) -> tuple[dict, dict]:
        """Every command that writes a file, by the file's path (as written, and as read) and by
        the variables that name it, once per file: each as (start, place, made by a program
        given the file). A walk over every command for each file read was quadratic."""
        if self._writer_index is None:
            by_path: dict[str, set] = {}
            by_var: dict[str, set] = {}
            for node in self.index.commands:
                words = [(w, False) for w in written_files(node, self.index, self.words)]
                if self._is_program(node):
                    words += [(a, True) for a in command_args(node)]
                for word, given in words:
                    entry = (node.start_byte, node.end_byte, given)
                    for path in {node_text(word).strip("\"'"), self.words.literal(word)} - {None}:
                        by_path.setdefault(path, set()).add(entry)
                    for name in expansion_names(word):
                        by_var.setdefault(name, set()).add(entry)
            self._writer_index = ({p: sorted(e) for p, e in by_path.items()},
                                  {n: sorted(e) for n, e in by_var.items()})
        return self._writer_index

    def _file_writers(self, entries, found: set) -> None:
        """The commands that write a file (``entries`` from :meth:`_writers`, in written order):
        a program given it as an argument is a producer, and a command whose output is redirected
        into it (or `... | tee /tmp/out`) is followed to what made the output."""
        programs = {(start, end) for start, end, given in entries if given}
        for start, end, given in entries:
            if given:
                found.add((start, end))
            elif (start, end) not in programs:
                self._producer(self._commands_by_place()[(start, end)], found, 1)

    def _commands_by_place(self) -> dict:
        if self._by_place is None:
            self._by_place = {key(c): c for c in self.index.commands}
        return self._by_place


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


class EventWork:
    """The per-event work of a shell file: each command that runs between an iteration's `next`
    and its post (in the loop or function that makes the request) and does the function's work,
    with why it runs per event (:attr:`found`: place -> why). Requests, builtins and plumbing
    (:data:`~.commands.PLUMBING`, interpreters running fixed inline code) are not work; a call
    of the file's own function is, when the function runs a program."""

    def __init__(self, index: ShellIndex, words: Words, sites: CallSites, facts: EventFacts,
                 handlers: set[tuple[int, int]], next_vars: set[str]) -> None:
        self.index = index
        self.words = words
        self.sites = sites
        self.handlers = handlers
        self.reads = (facts.event_vars | next_vars | facts.event_file_vars) - {"?"}
        self.event_files = facts.event_files
        self._runs_program: dict[str, bool] = {}
        self._whys: dict[tuple[int, int], str] = {}
        self._starts: dict[str | None, list[int]] = {}
        self.found: dict[tuple[int, int], str] = {}
        if index.commands:
            self._find()

    def _find(self) -> None:
        fetch = self._functions_requesting((Endpoint.NEXT,))
        post = self._functions_requesting((Endpoint.RESPONSE, Endpoint.ERROR))
        nexts, posts = [], []
        for node in self.index.commands:
            endpoints = self.sites.endpoints_of(node)
            callee = command_callee(node)
            if Endpoint.NEXT in endpoints or callee in fetch:
                nexts.append(node)
            if endpoints & {Endpoint.RESPONSE, Endpoint.ERROR} or callee in post:
                posts.append(node)
        # Per region (the loop or function a `next` is made in), the commands from its first
        # `next` to its last post, each with the `next` before it (sorted: one pass each).
        regions: dict[tuple, list] = {}
        for next_node in nexts:
            owner = self.index.function_of(next_node)
            region = self.index.region_of(next_node) or (0, float("inf"))
            regions.setdefault((owner, region), []).append(next_node)
        post_starts: dict[str | None, list[int]] = {}
        for post_node in posts:
            post_starts.setdefault(self.index.function_of(post_node), []).append(post_node.start_byte)
        for starts in post_starts.values():
            starts.sort()
        for (owner, (begin, end)), fetches in regions.items():
            fetches.sort(key=lambda n: n.start_byte)
            first = fetches[0].end_byte
            later = last_between(post_starts.get(owner, ()), first, end)
            if later is not None:
                end = later
            ends = [n.end_byte for n in fetches]
            commands = self.index.commands_in.get(owner, ())
            starts = self._starts.get(owner)
            if starts is None:
                starts = self._starts[owner] = [c.start_byte for c in commands]
            for at in range(bisect_left(starts, first), bisect_left(starts, end)):
                node = commands[at]
                if key(node) in self.found:
                    continue
                why = self._why(node)
                if why:
                    line = fetches[bisect_right(ends, node.start_byte) - 1].start_point[0] + 1
                    self.found[key(node)] = f"{why}, after `next` on line {line}"

    def program(self, node) -> bool:
        """Is this command, written in one of the file's functions, a program that does work
        there (not a request, builtin, plumbing or a call of another of the file's functions,
        whose own commands answer for it)?"""
        if self.index.function_of(node) is None or key(node) in self.sites.http:
            return False
        name = command_name(node)
        if name is None or self.words.literal(name) in self.index.functions:
            return False
        return bool(self._why(node))

    def _functions_requesting(self, endpoints: tuple) -> set[str]:
        """Functions of the file that make one of these requests, directly or through calls."""
        direct: set[str] = set()
        callers: dict[str, set[str]] = {}
        for function, commands in self.index.commands_in.items():
            if function is None:
                continue
            for node in commands:
                if self.sites.endpoints_of(node) & set(endpoints):
                    direct.add(function)
                callee = command_callee(node)
                if callee in self.index.functions:
                    callers.setdefault(callee, set()).add(function)
        return closure(direct, callers)

    def _why(self, node) -> str:
        """Why this command is per-event work ("" when it is none), decided once per command."""
        place = key(node)
        why = self._whys.get(place)
        if why is None:
            why = self._whys[place] = self._decide(node)
        return why

    def _decide(self, node) -> str:
        if key(node) in self.sites.http:
            return ""   # a request: the protocol, not the work
        name = command_name(node)
        if name is None:
            return ""
        text = self.words.literal(name)
        if text is not None:
            tool, _, args, _ = unwrap(name, command_args(node), self.words.literal)
            base = tool or text.rsplit("/", 1)[-1]
            if text in self.index.functions:
                if key(node) not in self.handlers and not self._function_runs_program(text, ()):
                    return ""
            elif base in SHELL_BUILTINS or base in PLUMBING or base in HTTP_CLIENTS:
                return ""
            elif runs_inline_code(base, [self.words.literal(a) for a in args]):
                return ""
        if key(node) in self.handlers:
            return "its output is posted"
        if self._reads_the_event(node):
            return "it reads the event"
        return "it runs for each event"

    def _reads_the_event(self, node) -> bool:
        for arg in command_args(node):
            if expansion_names(arg) & self.reads or self.words.literal(arg) in self.event_files:
                return True
        redirected, parent = self.index.statement_context(node)
        if redirected is not None:
            for child in redirected.children:
                if child.type in ("herestring_redirect", "heredoc_redirect", "file_redirect") and (
                        _mentions(child, self.reads) or any(
                            self.words.literal(c) in self.event_files for c in child.named_children)):
                    return True
        if parent is not None:
            before = [c for c in parent.named_children if c.end_byte <= node.start_byte]
            return any(_mentions(c, self.reads) or _names_file(c, self.event_files, self.words)
                       for c in before)
        return False

    def _function_runs_program(self, function: str, seen: tuple) -> bool:
        """Does the file's function run a program that is work (through the functions it calls)?"""
        cached = self._runs_program.get(function)
        if cached is not None:
            return cached
        if function in seen or len(seen) > 8:
            return False
        found = False
        for node in self.index.commands_in.get(function, ()):
            name = command_name(node)
            text = self.words.literal(name) if name is not None else None
            if text in self.index.functions:
                found = self._function_runs_program(text, seen + (function,))
            elif name is not None:
                found = bool(self._why(node)) and key(node) not in self.sites.http
            if found:
                break
        self._runs_program[function] = found
        return found


def _names_file(node, files: set[str], words) -> bool:
    """Does a word under ``node`` name one of these files by its path (`jq . /tmp/event.json`)?"""
    if not files:
        return False
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type in ("word", "string", "raw_string", "concatenation") and words.literal(cur) in files:
            return True
        stack.extend(cur.named_children)
    return False


def _mentions(node, names: set[str]) -> bool:
    """Does the tree under ``node`` read one of the variables ``names``?"""
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type == "variable_name" and node_text(cur) in names:
            return True
        stack.extend(cur.named_children)
    return False
