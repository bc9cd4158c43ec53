"""Facts about a shell file's requests and what they return: what a curl or wget command line
says about a Runtime API request (timeouts, failure detection, how the body is passed, whether
an error body is the documented JSON), which variables and files hold the event, and which hold
what `next` returned."""
from __future__ import annotations

from bisect import bisect_left

from bootlint.analysis.error_body import error_body_problem
from bootlint.model import ERROR_ENDPOINTS, POST_ENDPOINTS, Endpoint, Fact, Facts, Piece
from bootlint.diagnostics import Span
from bootlint.frontends.shell.callsites import CallSites
from bootlint.frontends.shell.clients import HttpCommand
from bootlint.frontends.shell.commands import FILE_COPIERS, FILE_READERS, NUMERIC_PARAMETERS, PASS_THROUGH
from bootlint.frontends.shell.index import ShellIndex
from bootlint.frontends.shell.syntax import (
    command_args, command_name, expansion_names, node_text, substitutions,
)
from bootlint.frontends.shell.values import POSITIONAL, Words, rest_start
from bootlint.util.lazyre import lazy

STDIN_VALUES = ("@-", "@/dev/stdin")


def _reads_a_file(alts: list[tuple[Piece, ...]]) -> bool:
    """Does every way the value reads start with a literal `@` (curl's "read this file")?"""
    return bool(alts) and all(a and a[0].is_literal and a[0].text.startswith("@") for a in alts)


# What tree-sitter leaves in a here-document's text although the shell expands it: special
# parameters (`$?`, `$$`, `$1`) and names; `\$` is a literal dollar.
_LEFT_EXPANSION = lazy(r"(?<!\\)\$([?$!#@*0-9-]|[A-Za-z_][A-Za-z0-9_]*)")


def _heredoc_text(text: str) -> list[Piece]:
    """Pieces of a stretch of an unquoted here-document's text."""
    pieces: list[Piece] = []
    at = 0
    for match in _LEFT_EXPANSION.finditer(text):
        pieces.append(Piece(text=text[at:match.start()]))
        name = match.group(1)
        pieces.append(Piece(var=name, digits=name in NUMERIC_PARAMETERS))
        at = match.end()
    pieces.append(Piece(text=text[at:]))
    return pieces


def _zero(value: str | None) -> bool:
    """Is this duration zero seconds (`0`, `0.0`, `0s`)?"""
    if not value:
        return False
    try:
        return float(value.rstrip("smhd") or "x") == 0
    except ValueError:
        return False


def _flag_text(opt) -> str:
    """How a body option is written, for messages: `-d`, `--post-data` (of `--post-data="$R"`)."""
    text = node_text(opt.flag)
    return text.split("=", 1)[0] if opt.value is opt.flag and text.startswith("--") else text


def join_spans(first: Span, last: Span) -> Span:
    if (last.end_line, last.end_column) < (first.line, first.column):
        return first  # a flag written in a helper, its value at the call site
    return Span(first.line, first.column, last.end_line, last.end_column)


class RequestFacts:
    """Computes :class:`Fact` entries for one HTTP command."""

    def __init__(self, words: Words, payload_names: set[str] | frozenset[str] = frozenset()) -> None:
        self.words = words
        # Variables that hold the event or the handler's output: data of any size.
        self.payload_names = payload_names

    def span(self, node) -> Span:
        return self.words.span(node)

    def facts(self, node, cmd: HttpCommand, endpoint: Endpoint) -> dict[str, Fact]:
        out: dict[str, Fact] = {}
        for name, wrapper, duration in cmd.wrappers:
            if name in ("timeout", "gtimeout") and not _zero(
                    self.words.literal(duration) if duration is not None else None):
                # (`timeout 0 curl ...`: a duration of 0 turns the timeout off)
                out[Facts.TIMEOUT] = Fact(self.span(wrapper), f"`{name}` around the request")
        client = cmd.client
        timeouts = cmd.get(*client.timeouts)
        if timeouts:
            last = timeouts[-1]   # (the last one written is the one the client uses)
            value = last.inline if last.inline is not None else (
                self.words.literal(last.value) if last.value is not None and last.value is not last.flag
                else None)
            if not (client.zero_means_no_timeout and _zero(value)):   # `-m 0`: no timeout at all
                out[Facts.TIMEOUT] = Fact(self.span(last.flag), node_text(last.flag))
        if self._failure_checked(cmd):
            first = cmd.options[0].flag if cmd.options else node
            out[Facts.FAILURE_CHECKED] = Fact(self.span(first))
        if endpoint in POST_ENDPOINTS:
            self._body_facts(node, cmd, endpoint, out)
        return out

    def _failure_checked(self, cmd: HttpCommand) -> bool:
        client = cmd.client
        if client.fails_on_status:
            return True
        for opt in cmd.options:
            if opt.name in client.fail_options:
                return True
            if opt.name in client.status_writers and opt.value is not None:
                if "http_code" in node_text(opt.value) or "response_code" in node_text(opt.value):
                    return True
        return False

    def _body_facts(self, node, cmd: HttpCommand, endpoint: Endpoint, out: dict[str, Fact]) -> None:
        client = cmd.client
        for opt in cmd.options:
            if opt.name not in client.raw_body_options or opt.value is None:
                continue
            text = opt.inline if opt.inline is not None else self.words.literal(opt.value)
            flag_span = self.span(opt.flag)
            whole = join_spans(flag_span, self.span(opt.value))
            alts = [(Piece(text=text),)] if opt.inline is not None else self.words.evaluate(opt.value)
            if opt.name in client.file_options and _reads_a_file(alts):
                # `-d @file`, `-d @"$F"`, `-d "@$F"`: curl reads the file (stripping CR and LF
                # for -d/--data-ascii): not a payload on the command line.
                if opt.name in client.stripping:
                    shown = text if text is not None else node_text(opt.value)
                    out[Facts.NEWLINE_STRIP] = Fact(flag_span, f"{node_text(opt.flag)} {shown}")
                if endpoint in ERROR_ENDPOINTS and text in STDIN_VALUES:
                    self._check_error_body(self._stdin_body(node), whole, out)
                continue
            if endpoint is Endpoint.RESPONSE and self._unbounded(opt.value, alts):
                out[Facts.PAYLOAD_ARGV] = Fact(whole, _flag_text(opt), client.argv_body_note,
                                               client.argv_body_advice)
            if endpoint in ERROR_ENDPOINTS and opt.name != "item":  # httpie builds JSON from items
                # Every way the body can read must be the error JSON (a helper called with
                # several constant messages reads several ways).
                for alt in alts:
                    self._check_error_body(alt, whole, out)
                    if Facts.BODY_MALFORMED in out:
                        break

    def _unbounded(self, value, alts: list[tuple[Piece, ...]]) -> bool:
        """Can this body be large? A value that is one expansion (`"$RESPONSE"`, `"$(cat f)"`)
        not known to be fixed text, or a template that pastes in the event, the handler's output
        or a command's output; not fixed text, nor a short template of other values
        (`"{\"n\":$N}"`)."""
        if all(p.is_literal for a in alts for p in a):
            return False
        if any(len(a) == 1 for a in alts):
            return True
        return bool(expansion_names(value) & self.payload_names or substitutions(value))

    def _stdin_body(self, node) -> tuple[Piece, ...] | None:
        """The body on curl's standard input: a here-document or here-string given to it, or
        what printf, echo or cat (of a here-document) prints into its pipe, with a static text."""
        own = self._redirected_input(node)   # (tree-sitter keeps `<<<` inside the command)
        if own is not None:
            return own
        parent = node.parent
        if parent is not None and parent.type == "redirected_statement":
            own = self._redirected_input(parent)
            if own is not None:
                return own
            node, parent = parent, parent.parent
        if parent is None or parent.type != "pipeline":
            return None
        before = [c for c in parent.children if c.is_named and c.end_byte <= node.start_byte]
        holder = parent.parent
        if not before and holder is not None and holder.type == "heredoc_redirect" and \
                holder.parent is not None:
            # `cat <<EOF | curl ...`: tree-sitter hangs the pipeline on the here-document.
            before = [c for c in holder.parent.children if c.type == "command"]
            if before:
                return self._cat_of(before[-1], holder)
        if not before:
            return None
        if before[-1].type == "redirected_statement":
            inner = [c for c in before[-1].children if c.type == "command"]
            feed = self._redirected_input(before[-1])
            if inner and feed is not None and self._is_cat(inner[0]):
                return feed
            return None
        if before[-1].type != "command":
            return None
        producer = before[-1]
        name = command_name(producer)
        tool = self.words.literal(name) if name is not None else None
        args = command_args(producer)
        if tool == "printf" and args:
            fmt = self.words.evaluate(args[0])
            if len(fmt) != 1:
                return None
            pieces: list[Piece] = []
            # Each `%s` takes the next argument (bash prints nothing for a missing one); one
            # whose value is not known, or a format used again for more arguments, is a value.
            values = args[1:]
            filled = 0
            for piece in fmt[0]:
                if piece.is_literal and "%s" in piece.text:
                    for i, chunk in enumerate(piece.text.split("%s")):
                        if i:
                            pieces.extend(self._printf_argument(values, filled))
                            filled += 1
                        pieces.append(Piece(text=chunk))
                else:
                    pieces.append(piece)
            if filled < len(values):
                pieces.append(Piece(var="%s"))
            return tuple(pieces)
        if tool == "echo" and len(args) == 1:
            alts = self.words.evaluate(args[0])
            return alts[0] if len(alts) == 1 else None
        return None

    def _is_cat(self, command) -> bool:
        name = command_name(command)
        return name is not None and self.words.literal(name) == "cat" and not command_args(command)

    def _cat_of(self, command, heredoc) -> tuple[Piece, ...] | None:
        return self._heredoc_body(heredoc) if self._is_cat(command) else None

    def _redirected_input(self, statement) -> tuple[Piece, ...] | None:
        """What a here-document or here-string on this statement feeds its command."""
        for child in statement.children:
            if child.type == "heredoc_redirect":
                return self._heredoc_body(child)
            if child.type == "herestring_redirect":
                words = [c for c in child.named_children]
                if len(words) != 1:
                    return None
                alts = self.words.evaluate(words[0])
                return alts[0] + (Piece(text="\n"),) if len(alts) == 1 else None
        return None

    def _heredoc_body(self, heredoc) -> tuple[Piece, ...] | None:
        """A here-document's text: fixed text when its delimiter is quoted (`<<'EOF'`), else
        literal text with the values it expands (`"$MSG"`, `$(cmd)`)."""
        start = next((c for c in heredoc.children if c.type == "heredoc_start"), None)
        body = next((c for c in heredoc.children if c.type == "heredoc_body"), None)
        if start is None or body is None:
            return (Piece(text=""),) if start is not None else None
        if any(q in node_text(start) for q in "'\"\\"):
            return (Piece(text=node_text(body)),)
        pieces: list[Piece] = []
        at = body.start_byte
        for child in body.children:
            if child.start_byte > at:
                pieces.extend(_heredoc_text(body.text[at - body.start_byte:child.start_byte - body.start_byte]
                                            .decode("utf-8", "replace")))
            if child.type == "heredoc_content":
                pieces.extend(_heredoc_text(node_text(child)))
            else:
                names = expansion_names(child)
                pieces.append(Piece(var=next(iter(names)) if names else node_text(child),
                                    digits=bool(names) and names <= NUMERIC_PARAMETERS))
            at = child.end_byte
        if at < body.end_byte:
            pieces.extend(_heredoc_text(body.text[at - body.start_byte:].decode("utf-8", "replace")))
        return tuple(pieces)

    def _printf_argument(self, values: list, at: int) -> tuple[Piece, ...]:
        if at >= len(values):
            return (Piece(text=""),)
        alts = self.words.evaluate(values[at])
        return alts[0] if len(alts) == 1 else (Piece(var="%s"),)

    @staticmethod
    def _check_error_body(pieces: tuple[Piece, ...] | None, span: Span, out: dict[str, Fact]) -> None:
        if pieces is None:
            return
        problem = error_body_problem(pieces)
        if problem:
            out[Facts.BODY_MALFORMED] = Fact(span, problem)

# How many assignments away from `next` a value can be and still count as what it returned.
MAX_HOPS = 6
# Paths that are no file a later command reads back.
NOT_FILES = frozenset({"/dev/null", "/dev/stderr", "/dev/stdout", "/dev/tty"})


def written_files(node, index: ShellIndex, words: Words) -> list:
    """The words naming the files a command writes: what its output is redirected into
    (`> "$F"`, `>> /tmp/log`, `2> err`), and for a copier (`tee`) the files it is given."""
    out = []
    name = command_name(node)
    if name is not None and words.literal(name) in FILE_COPIERS:
        out.extend(a for a in command_args(node) if not node_text(a).startswith("-"))
    redirected, _ = index.statement_context(node)
    for child in redirected.children if redirected is not None else ():
        dest = child.child_by_field_name("destination") if child.type == "file_redirect" else None
        if dest is not None and node_text(child).lstrip("0123456789&").startswith(">"):
            out.append(dest)
    return out


class EventFacts:
    """Variables and files that hold the event (what `next` returned as its body), and those
    that hold anything `next` returned (its headers, the request id, values made from them)."""

    def __init__(self, index: ShellIndex, words: Words, sites: CallSites) -> None:
        self.index = index
        self.words = words
        self.sites = sites
        self.event_vars = self._event_vars()
        # The file's functions' positional parameters (1-based) that some call passes the event in.
        self.event_params = self._event_params() if self.event_vars else {}
        # Files holding the event: by literal path, and the variables that name them.
        self.event_files: set[str] = set()
        self.event_file_vars: set[str] = set()
        self._event_files()
        self.trace_values = self._trace_values()

    def _trace_values(self) -> set[str]:
        """What carries the trace id, by name: the files `next` writes its headers to (by path or
        by the variable naming them) and the variables assigned from the Trace-Id header."""
        found: set[str] = set()
        for node in self.index.commands:
            for cmd, urls in self.sites.requests_of(node):
                if not any(info.endpoint is Endpoint.NEXT for _, info in urls):
                    continue
                carriers = list(cmd.get("dump-header", "D"))
                if cmd.get(*cmd.client.headers_in_body):
                    # `curl -i`: the headers come with the body, where the body goes.
                    carriers += cmd.get(*cmd.client.output_options)
                    found.add(self.index.assigned_name(node) or "")
                stderr = bool(cmd.get(*cmd.client.headers_on_stderr))
                parent, _ = self.index.statement_context(node)
                if parent is not None:
                    for child in parent.children:
                        dest = child.child_by_field_name("destination") if child.type == "file_redirect" else None
                        if dest is not None and (stderr and node_text(child).startswith("2>")
                                                 or not stderr and cmd.get(*cmd.client.headers_in_body)
                                                 and node_text(child).startswith(">")):
                            found |= expansion_names(dest)
                            found.add(self.words.literal(dest) or "")
                for opt in carriers:
                    if opt.value is not None:
                        found |= expansion_names(opt.value)
                        found.add(self.words.literal(opt.value) or "")
        for name, values in self.index.assignments.items():
            if any(v is not None and "lambda-runtime-trace-id" in node_text(v).lower() for v in values):
                found.add(name)
        found.discard("")
        found.discard("-")
        return found

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
        names = {self.index.assigned_name(node) for node in self.index.commands
                 if Endpoint.NEXT in self.sites.endpoints_of(node)}
        names.discard(None)
        return names  # type: ignore[return-value]

    def _event_params(self) -> dict[str, set[int]]:
        """For each of the file's functions, the positional parameters some call passes the
        event in (`handle "$EVENT"`: `$1` of handle), and on through calls in a function that
        got it so (`run() { handle "$2"; }`, `"$@"` passing them all on): a fixed point. Only
        `$1`..`$9` are read by name, so no parameter past 9 is kept: the sets only grow and are
        bounded, and calls that shift them along again and again (`f() { g x "$@"; }` with
        `g() { f "$@"; }`) end."""
        params: dict[str, set[int]] = {}
        changed = True
        while changed:
            changed = False
            for function, sites in self.index.call_sites.items():
                got = params.setdefault(function, set())
                for site in sites:
                    for position, arg in enumerate(command_args(site), 1):
                        for param in self._passed_in(arg, position, params):
                            if param <= len(POSITIONAL) and param not in got:
                                got.add(param)
                                changed = True
        return {function: got for function, got in params.items() if got}

    def _passed_in(self, arg, position: int, params: dict[str, set[int]]) -> set[int]:
        """The callee's parameters that the word at this position of a call carries the event
        in: this one, or for `"$@"` those of the caller's that carry it, shifted into place."""
        start = rest_start(arg)
        if start is None:
            return {position} if self.carries_event(arg, params) else set()
        caller = self.index.function_of(arg)
        first = start + (self.index.shift_at(caller, arg.start_byte) if caller else 0)
        return {position + p - first for p in params.get(caller, ()) if p >= first} if caller else set()

    def carries_event(self, word, params: dict[str, set[int]] | None = None) -> bool:
        """Does the word expand the event: a variable that holds it, or a parameter of the
        function it is in that a call passes it in (``$1``, ``"$@"``, after any `shift`)?"""
        names = expansion_names(word)
        if names & self.event_vars:
            return True
        params = self.event_params if params is None else params
        function = self.index.function_of(word) if params else None
        got = params.get(function) if function is not None else None
        if not got:
            return False
        shift = self.index.shift_at(function, word.start_byte)
        if any(int(name) + shift in got for name in names & POSITIONAL):
            return True
        start = rest_start(word)
        return start is not None and any(p >= start + shift for p in got)

    def _event_files(self) -> None:
        """Files that hold the event: those the `next` request writes its body to (`curl -o
        /tmp/event.json`, `> "$F"`, `| tee "$F"`), then those that plumbing passing the event
        on writes it to (`printf '%s' "$EVENT" > "$F"`, `cat "$F" > copy`, `... | tee "$F"`):
        the writes :func:`written_files` finds, the same that carry a response back."""
        nexts = set()
        for node in self.index.commands:
            for cmd, urls in self.sites.requests_of(node):
                if any(info.endpoint is Endpoint.NEXT for _, info in urls):
                    nexts.add((node.start_byte, node.end_byte))
                    for opt in cmd.get("output", "o", "O", "output-document"):
                        self._hold_event(opt.value)
                    for dest in written_files(node, self.index, self.words):
                        self._hold_event(dest)
        if not (nexts or self.event_vars):
            return
        passers = []
        for node in self.index.commands:
            name = command_name(node)
            tool = self.words.literal(name) if name is not None else None
            if tool is not None and tool.rsplit("/", 1)[-1] in PASS_THROUGH:
                passers.append((node, tool.rsplit("/", 1)[-1]))
        for _ in range(MAX_HOPS):
            before = len(self.event_files) + len(self.event_file_vars)
            for node, tool in passers:
                if self._fed_event(node, tool, nexts):
                    for dest in written_files(node, self.index, self.words):
                        self._hold_event(dest)
            if len(self.event_files) + len(self.event_file_vars) == before:
                break

    def _hold_event(self, word) -> None:
        if word is None:
            return
        text = self.words.literal(word)
        if text is not None:
            if text and text != "-" and text not in NOT_FILES:
                self.event_files.add(text)
        else:
            self.event_file_vars.update(expansion_names(word))

    def reads_event_file(self, word) -> bool:
        """Does the word name a file that holds the event?"""
        return bool(expansion_names(word) & self.event_file_vars) or (
            self.words.literal(word) in self.event_files)

    def _fed_event(self, node, tool: str, nexts: set) -> bool:
        """Does the event reach this plumbing: an argument that holds it (or, for a reader,
        names its file), a here-string of it, or the pipe from `next` or from a command given
        it?"""
        for arg in command_args(node):
            if expansion_names(arg) & self.event_vars or (
                    tool in FILE_READERS and self.reads_event_file(arg)):
                return True
        redirected, pipeline = self.index.statement_context(node)
        for child in redirected.children if redirected is not None else ():
            if child.type in ("herestring_redirect", "heredoc_redirect") and \
                    expansion_names(child) & self.event_vars:
                return True
            if child.type == "file_redirect" and node_text(child).startswith("<") and \
                    self.reads_event_file(child.child_by_field_name("destination") or child):
                return True
        if pipeline is None:
            return False
        element = redirected if redirected is not None else node
        earlier = [c for c in pipeline.named_children if c.end_byte <= element.start_byte]
        if not earlier:
            return False
        last = earlier[-1]
        inner = [c for c in last.named_children if c.type == "command"] if last.type == "redirected_statement" else [last]
        for cmd in inner:
            if (cmd.start_byte, cmd.end_byte) in nexts:
                return True
            name = command_name(cmd)
            feeder = self.words.literal(name) if name is not None else None
            if feeder is not None and feeder.rsplit("/", 1)[-1] in PASS_THROUGH and self._fed_event(
                    cmd, feeder.rsplit("/", 1)[-1], nexts):
                return True
        return False

    def next_values(self, handlers: set[tuple[int, int]]) -> set[str]:
        """Variables and files holding what `next` returned, and values computed from them
        (but not the output of the ``handlers``, which is about the handler, not the request)."""
        self._handler_starts = sorted(handlers)
        return self._next_tainted()

    def _contains_handler(self, node) -> bool:
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
            nexts = [cmd for cmd, urls in self.sites.requests_of(node)
                     if any(info.endpoint is Endpoint.NEXT for _, info in urls)]
            if not nexts:
                continue
            for opt in (o for cmd in nexts for o in cmd.get(*cmd.client.output_options)):
                if opt.value is not None:
                    names |= self.references(opt.value) | {self.words.literal(opt.value) or ""}
            target = self.index.assigned_name(node)
            if target:
                names.add(target)
            parent, _ = self.index.statement_context(node)
            if parent is not None:
                for child in parent.children:
                    dest = child.child_by_field_name("destination") if child.type == "file_redirect" else None
                    if dest is not None:
                        names |= self.references(dest) | {self.words.literal(dest) or ""}
        names.discard("")
        # What each assignment's values mention, read once for every round below.
        candidates = {name: [self.references(v) for v in values
                             if v is not None and not self._contains_handler(v)]
                      for name, values in self.index.assignments.items()}
        for _ in range(MAX_HOPS):
            grown = {name for name, mentioned in candidates.items()
                     if any(refs & names for refs in mentioned)}
            if grown <= names:
                break
            names |= grown
        return names
