"""Fixes for shell bootstraps: byte edits found on the tree-sitter tree, written back as text
edits, in the file's own indentation style.

Every builder returns a :class:`~bootlint.fixes.requests.Rewrite` or None when the shape of the
code is not one it can rewrite with confidence (then the finding simply has no fix). The rules
ask for fixes by request type (bootlint.fixes.requests); :data:`IMPLEMENTATIONS` says which of
them this front end carries out, and with which builder. Titles and applicability belong to the
request types.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import cached_property
from typing import TYPE_CHECKING

from bootlint.fixes import requests as want
from bootlint.fixes.kit import Indent, post_error_body, trace_id_from_any
from bootlint.fixes.requests import Rewrite
from bootlint.diagnostics import Edit, Span
from bootlint.frontends.shell.commands import REMOVERS
from bootlint.files.source import SourceFile
from bootlint.util.lazyre import lazy

if TYPE_CHECKING:
    from bootlint.frontends.shell.syntax import ShellParse

# Nodes whose children are statements run one after another.
BLOCKS = {"program", "compound_statement", "do_group", "if_statement", "elif_clause", "else_clause",
          "case_item", "subshell"}
HTTP_TOOLS = {"curl", "wget", "http", "https"}
TIMEOUT_LETTERS = {"curl": "m", "wget": "T"}
TIMEOUT_LONG = {"--max-time", "--timeout", "--read-timeout"}
API_VARIABLE = "${AWS_LAMBDA_RUNTIME_API}"
# Node types whose ranges ShellFixes.inside answers for (none of them nests in another of its type).
REGION_TYPES = ("heredoc_body", "heredoc_redirect", "comment", "raw_string", "ansi_c_string")
# What a host written out in a URL looks like in the source: a name or address and a port, with
# nothing bash would read differently from how it is written.
HOST_TEXT = lazy(r"[A-Za-z0-9._~%\[\]:-]+")


class ShellFixes:
    """Fix builders for one shell source, on the tree the lowering parsed (parsed again, once,
    when a fix is asked of a source that was not lowered here)."""

    def __init__(self, src: SourceFile, parsed: "ShellParse | None" = None) -> None:
        self.src = src
        self.parsed = parsed

    # -- positions ---------------------------------------------------------------------------------
    @cached_property
    def tree(self):
        if self.parsed is not None:
            return self.parsed.tree
        from bootlint.frontends.shell.syntax import parse

        return parse(self.src)

    def assignments_of(self, name: str) -> list:
        """Every `name=value` in the file: from the lowering's index when it read this tree."""
        index = self.parsed.index if self.parsed is not None else None
        if index is not None:
            nodes = index.assignment_nodes.get(name, ())
        else:
            nodes, stack = [], [self.tree.root_node]
            while stack:
                node = stack.pop()
                if node.type == "variable_assignment":
                    nodes.append(node)
                stack.extend(node.named_children)
        # (the index files `A[1]=x` under A: only the plain name is this variable)
        return [node for node in nodes if (named := node.child_by_field_name("name")) is not None
                and self.text(named) == name]

    @cached_property
    def indent(self) -> Indent:
        return Indent.of(self.src.text, default="  ")

    def byte(self, line: int, column: int) -> int:
        """Offset in the parsed bytes of a 1-based (line, character column)."""
        return self.src.textmap.byte_offset(line, column)

    def span_of(self, start: int, end: int) -> Span:
        return self.src.textmap.span(start, end)

    def edit(self, start: int, end: int, text: str) -> Edit:
        return Edit(self.span_of(start, end), text)

    def text(self, node) -> str:
        return self.src.encoded[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def node_at(self, span: Span):
        start, end = self.byte(span.line, span.column), self.byte(span.end_line, span.end_column)
        return self.tree.root_node.descendant_for_byte_range(start, max(start, end))

    def line_indent(self, node) -> str:
        start = self.src.line_start(node.start_point[0])
        line = self.src.encoded[start:node.start_byte].decode("utf-8", "replace")
        return line[:len(line) - len(line.lstrip(" \t"))]

    @cached_property
    def _regions(self) -> dict[str, tuple[list[int], list[int]]]:
        """The byte ranges of the nodes :meth:`inside` asks about, by type, sorted (nodes of one
        of these types never nest in one another): one walk of the tree, where climbing
        ``parent`` from every finding costs the siblings of each level (12,000 BL004 findings
        beside 30,000 comments: 27 s)."""
        found: dict[str, list[tuple[int, int]]] = {kind: [] for kind in REGION_TYPES}
        stack = [self.tree.root_node]
        while stack:
            node = stack.pop()
            if node.type in found:
                found[node.type].append((node.start_byte, node.end_byte))
            stack.extend(node.children)
        out = {}
        for kind, ranges in found.items():
            ranges.sort()
            out[kind] = ([a for a, _ in ranges], [b for _, b in ranges])
        return out

    def inside(self, start: int, end: int, *types: str) -> str | None:
        """The type of a node of ``types`` (from :data:`REGION_TYPES`) that holds the bytes
        ``start``..``end``, or None."""
        for kind in types:
            starts, ends = self._regions[kind]
            at = bisect_right(starts, start) - 1
            if at >= 0 and end <= ends[at]:
                return kind
        return None

    @staticmethod
    def ancestor(node, *types):
        while node is not None and node.type not in types:
            node = node.parent
        return node

    @staticmethod
    def statement(node):
        """The statement a node belongs to: its ancestor whose parent is a block."""
        while node.parent is not None and node.parent.type not in BLOCKS:
            node = node.parent
        return node

    @staticmethod
    def words(command) -> list:
        return [c for c in command.children if c.is_named and c.type not in (
            "file_redirect", "heredoc_redirect", "herestring_redirect", "comment")]

    # -- safe ------------------------------------------------------------------------------------
    def data_binary(self, span: Span) -> Rewrite | None:
        """BL303: `-d @f`, `--data @f`, `--data-ascii @f`, `-sSd@f` -> `--data-binary @f`."""
        node = self.node_at(span)
        word = self.text(node)
        if word.startswith("--"):
            name, sep, rest = word.partition("=")
            if name not in ("--data", "--data-ascii"):
                return None
            new = "--data-binary" + sep + rest
        elif word.startswith("-") and "d" in word:
            at = word.index("d")
            cluster, rest = word[:at], word[at + 1:]
            new = (cluster + " " if cluster != "-" else "") + "--data-binary" + (" " + rest if rest else "")
        else:
            return None
        return Rewrite((self.edit(node.start_byte, node.end_byte, new),))

    def runtime_api_host(self, span: Span) -> Rewrite | None:
        """BL004: the written-out host becomes `${AWS_LAMBDA_RUNTIME_API}` (closing and reopening
        single quotes around it)."""
        start, end = self.byte(span.line, span.column), self.byte(span.end_line, span.end_column)
        if not HOST_TEXT.fullmatch(self.src.encoded[start:end].decode("utf-8", "replace")):
            # The span is not the host as written: a word with a backslash escape, a line
            # continuation or $'...' quoting is reported as a whole, and replacing it would drop
            # the URL's path. The host is found in the word's own text, or there is no fix.
            found = self.host_in_word(start, end)
            if found is None:
                return None
            start, end = found
        if self.inside(start, end, "heredoc_body", "heredoc_redirect", "comment"):
            return None
        quoted = self.inside(start, end, "raw_string", "ansi_c_string")
        reopen = "$'" if quoted == "ansi_c_string" else "'"
        text = f"'\"{API_VARIABLE}\"{reopen}" if quoted is not None else API_VARIABLE
        return Rewrite((self.edit(start, end, text),))

    def host_in_word(self, start: int, end: int) -> tuple[int, int] | None:
        """The bytes of the host (``host:port`` after ``://``) in a URL word that is one unquoted
        word or one $'...' string spanning ``start``..``end``: in an unquoted word up to the
        first unescaped `/` (a backslash escapes the next character, a line continuation
        included), in $'...' up to the first `/` with no backslash before it. None when the word
        is another shape, or the host read as bash reads it is not a plain host."""
        node = self.tree.root_node.descendant_for_byte_range(start, end)
        if node is None or (node.start_byte, node.end_byte) != (start, end) or node.type not in ("word", "ansi_c_string"):
            return None
        data = self.src.encoded
        inner_start = start + (2 if node.type == "ansi_c_string" else 0)
        scheme = data.find(b"://", inner_start, end)
        if scheme < 0 or not re.fullmatch(rb"[A-Za-z][A-Za-z0-9+.-]*", data[inner_start:scheme]):
            return None
        at = host_start = scheme + 3
        value = bytearray()
        stop = end - (1 if node.type == "ansi_c_string" else 0)
        while at < stop and data[at:at + 1] != b"/":
            char = data[at:at + 1]
            if char == b"\\":
                if node.type == "ansi_c_string" or at + 1 >= stop:
                    return None   # $'\x3a' and friends: not read here
                if data[at + 1:at + 2] != b"\n":
                    value += data[at + 1:at + 2]
                at += 2
                continue
            value += char
            at += 1
        if at == host_start or not HOST_TEXT.fullmatch(value.decode("utf-8", "replace")):
            return None
        return host_start, at

    def drop_timeout(self, span: Span) -> Rewrite | None:
        """BL006: remove `-m N`, `--max-time=N`, the `m` of `-sSm5`, wget's `-T N`, or a
        `timeout N` in front of the request."""
        flag = self.node_at(span)
        command = self.ancestor(flag, "command")
        if command is None:
            return None
        words = self.words(command)
        index = next((i for i, w in enumerate(words) if w.start_byte == flag.start_byte), None)
        if index is None:
            return None
        word = self.text(flag)
        if index == 0 or flag.type == "command_name":
            # `timeout [opts] N curl ...`: everything before the client goes.
            client = next((w for w in words[1:] if self.text(w).rsplit("/", 1)[-1] in HTTP_TOOLS), None)
            if client is None:
                return None
            return Rewrite((self.edit(flag.start_byte, client.start_byte, ""),))
        tool = next((self.text(w).rsplit("/", 1)[-1] for w in words if self.text(w).rsplit("/", 1)[-1]
                     in HTTP_TOOLS), "curl")
        letter = TIMEOUT_LETTERS.get(tool, "m")
        start = words[index - 1].end_byte
        if word.startswith("--"):
            name = word.partition("=")[0]
            if name not in TIMEOUT_LONG:
                return None
            end = flag.end_byte if "=" in word or index + 1 >= len(words) else words[index + 1].end_byte
            return Rewrite((self.edit(start, end, ""),))
        if not word.startswith("-") or letter not in word:
            return None
        at = word.index(letter)
        inline = word[at + 1:]
        cluster = word[:at]
        drop_next = not inline and index + 1 < len(words)
        end = words[index + 1].end_byte if drop_next else flag.end_byte
        if cluster == "-":
            return Rewrite((self.edit(start, end, ""),))
        return Rewrite((self.edit(flag.start_byte, end, cluster),))

    # -- unsafe ------------------------------------------------------------------------------------
    def siblings(self, first: Span, last: Span):
        """The statements that hold ``first`` and ``last``, in one block (``last``'s climbs to
        the statement beside ``first``'s); None when they are not in one block, in order."""
        one = self.statement(self.node_at(first))
        two = self.statement(self.node_at(last))
        while two is not None and not _same(two.parent, one.parent):
            two = two.parent
        if two is None or two.start_byte < one.start_byte:
            return None
        return one, two

    @cached_property
    def _protected(self) -> list[int]:
        """Every protected row of the file, sorted (one walk of the tree, however many fixes
        ask: a walk per BL001 finding was quadratic)."""
        rows: set[int] = set()
        stack = [self.tree.root_node]
        while stack:
            node = stack.pop()
            if node.type in ("heredoc_body", "heredoc_end"):
                rows.update(range(node.start_point[0], node.end_point[0] + 1))
            elif node.type in ("string", "raw_string", "ansi_c_string") and node.end_point[0] > node.start_point[0]:
                rows.update(range(node.start_point[0] + 1, node.end_point[0] + 1))
            stack.extend(node.named_children)
        return sorted(rows)

    def protected_rows(self, start_row: int, end_row: int) -> set[int]:
        """0-based rows whose leading blanks are content (here-document bodies and their end
        word, continuation lines of multi-line strings): indenting them would change the
        program."""
        rows = self._protected
        return set(rows[bisect_left(rows, start_row):bisect_right(rows, end_row)])

    def reindent(self, start_row: int, end_row: int) -> tuple[int, int, list[str]]:
        """Rows ``start_row``..``end_row`` one level deeper: (start byte, end byte, lines)."""
        start = self.src.line_start(start_row)
        end = self.src.encoded.find(b"\n", self.src.line_start(end_row))
        end = len(self.src.encoded) if end < 0 else end
        lines = self.src.encoded[start:end].decode("utf-8", "replace").split("\n")
        keep = {row - start_row for row in self.protected_rows(start_row, end_row)}
        return start, end, self.indent.more(lines, keep)

    def event_loop(self, first: Span, last: Span) -> Rewrite | None:
        """BL001: `while true; do` ... `done` around the statements from the one that requests
        `next` through the last that posts the response, one level deeper."""
        pair = self.siblings(first, last)
        if pair is None:
            return None
        one, two = pair
        base = self.line_indent(one)
        start, end, lines = self.reindent(one.start_point[0], two.end_point[0])
        text = "\n".join([f"{base}while true; do", *lines, f"{base}done"])
        return Rewrite((self.edit(start, end, text),))


    def enclosing(self, node):
        """The innermost loop or function around a node (None at the top of the script)."""
        cur = node.parent
        while cur is not None:
            if cur.type in ("while_statement", "for_statement", "c_style_for_statement", "function_definition"):
                return cur
            cur = cur.parent
        return None

    def function_of(self, node):
        return self.ancestor(node.parent, "function_definition")

    def error_post(self, response: Span, near) -> str | None:
        """A curl command that posts the documented error JSON to the `/error` URL written the
        way the file writes its `/response` URL (same base, same request-id variable); None when
        that URL is not a curl argument in the same function as ``near``."""
        url = self.node_at(response)
        command = self.ancestor(url, "command")
        if command is None or not _same(self.function_of(url), self.function_of(near)):
            return None
        name = command.child_by_field_name("name")
        if name is None or self.text(name).rsplit("/", 1)[-1] != "curl":
            return None
        text = self.text(url)
        at = text.rfind("response")
        if at < 0:
            return None
        target = text[:at] + "error" + text[at + len("response"):]
        return (f"curl -sS -X POST {target} -H 'Content-Type: application/json' "
                f"--data-binary '{post_error_body()}' >/dev/null || true")

    def guard_handler(self, handler: Span, response: Span | None) -> Rewrite | None:
        """BL101, BL102: `if ! <the handler's statement>; then <post the error>; continue; fi`
        (`return 0` when the handler runs in a function the loop calls)."""
        if response is None:
            return None
        stmt = self.statement(self.node_at(handler))
        if stmt.type not in ("variable_assignment", "command", "redirected_statement", "pipeline",
                             "variable_assignments"):
            return None
        around = self.enclosing(stmt)
        if around is None:
            return None   # no loop yet: BL001's fix comes first
        cur = stmt
        while cur is not None and cur != around:
            if cur.next_sibling is not None and cur.next_sibling.type == "&":
                # In a background job `continue` and `return` cannot leave the iteration (bash:
                # "only meaningful in a loop", and the job goes on): its status is the `wait`'s.
                return None
            cur = cur.parent
        leave = "return 0" if around.type == "function_definition" else "continue"
        post = self.error_post(response, stmt)
        if post is None:
            return None
        base, unit = self.line_indent(stmt), self.indent.unit
        # The clean-up the rest of the iteration does (`rm -f "$HEADERS"`) is done before leaving
        # too: a `continue` that skipped it would leak a file per failed event (BL301).
        cleanup = "".join(f"{base}{unit}{self.text(s)}\n" for s in self.removals_after(stmt))
        text = (f"if ! {self.text(stmt)}; then\n{base}{unit}{post}\n{cleanup}{base}{unit}{leave}\n{base}fi")
        return Rewrite((self.edit(stmt.start_byte, stmt.end_byte, text),))

    def removals_after(self, stmt) -> list:
        """The statements after ``stmt`` in its block that only delete files (`rm -f "$X"`)."""
        found = []
        sibling = stmt.next_named_sibling
        while sibling is not None:
            name = sibling.child_by_field_name("name") if sibling.type == "command" else None
            if name is not None and self.text(name).rsplit("/", 1)[-1] in REMOVERS:
                found.append(sibling)
            sibling = sibling.next_named_sibling
        return found

    def jumps(self, body, word: str) -> list:
        """`continue` (or `return`) commands that leave ``body``'s iteration (or function): not
        those of a nested loop, function or child process."""
        found, stack = [], list(body.children)
        while stack:
            node = stack.pop()
            if node.type in ("while_statement", "for_statement", "c_style_for_statement",
                             "function_definition", "subshell", "command_substitution") and word == "continue":
                continue
            if node.type in ("function_definition", "subshell", "command_substitution"):
                continue
            if node.type == "command":
                name = node.child_by_field_name("name")
                if name is not None and self.text(name) == word:
                    found.append(node)
                    continue
            stack.extend(node.named_children)
        return sorted(found, key=lambda n: n.start_byte)

    @staticmethod
    def _rm(names: list[str], text: str) -> str | None:
        if len(names) != 1:
            return None
        flags = "-rf" if re.search(r"(^|\s)-[a-zA-Z]*d", text) else "-f"
        return f'rm {flags} "${names[0]}"'

    def _before(self, jump, rm: str) -> Edit:
        """``rm`` run just before a `continue`/`return`."""
        if jump.parent is not None and jump.parent.type in BLOCKS:
            return self.edit(jump.start_byte, jump.start_byte, f"{rm}\n{self.line_indent(jump)}")
        return self.edit(jump.start_byte, jump.end_byte, f"{{ {rm}; {self.text(jump)}; }}")

    def remove_temp_before(self, span: Span, names: list[str], text: str) -> Rewrite | None:
        """BL301, a `continue` (`return`) that skips the removal: remove the file before it."""
        rm = self._rm(names, text)
        jump = self.ancestor(self.node_at(span), "command")
        if rm is None or jump is None:
            return None
        return Rewrite((self._before(jump, rm),), detail={"removal": rm})

    def remove_temp(self, span: Span, names: list[str], text: str) -> Rewrite | None:
        """BL301: `rm -f "$X"` (`rm -rf` for `mktemp -d`) at the end of the iteration that made
        it, and before every `continue` that leaves it early (`return`, when the file is made in
        a function the loop calls)."""
        rm = self._rm(names, text)
        if rm is None:
            return None
        made = self.node_at(span)
        around = self.enclosing(made)
        if around is None:
            return None
        body = around.child_by_field_name("body")
        if body is None or body.type not in ("do_group", "compound_statement"):
            return None
        word = "return" if around.type == "function_definition" else "continue"
        edits = [self._before(jump, rm) for jump in self.jumps(body, word) if jump.start_byte >= made.end_byte]
        statements = [c for c in body.children if c.is_named and c.type != "comment"]
        last = statements[-1] if statements else None
        ends_in_jump = last is not None and last.type == "command" and self.text(last).split()[0] == word
        if last is not None and not ends_in_jump:
            edits.append(self.edit(last.end_byte, last.end_byte, f"\n{self.line_indent(last)}{rm}"))
        if not edits:
            return None
        return Rewrite(tuple(edits), detail={"removal": rm})

    def export_trace_id(self, request_id: str, near: Span) -> Rewrite | None:
        """BL201: after the statement that reads the request id from the `next` response's
        headers, the same reading of Lambda-Runtime-Trace-Id into `_X_AMZN_TRACE_ID`, exported
        (empty when the header is absent, which must not stop an errexit script)."""
        after = self.byte(near.line, near.column)
        found = self.assignments_of(request_id)
        found.sort(key=lambda n: (n.start_byte < after, n.start_byte))
        for assignment in found:
            value = assignment.child_by_field_name("value")
            if value is None or assignment.parent is None or assignment.parent.type not in BLOCKS:
                continue
            text = self.text(value)
            match = re.search(r"lambda-runtime-aws-request-id", text, re.I)
            if match is None:
                continue
            header = match.group(0)
            trace = ("lambda-runtime-trace-id" if header.islower() else
                     "LAMBDA-RUNTIME-TRACE-ID" if header.isupper() else "Lambda-Runtime-Trace-Id")
            value_text = text[:match.start()] + trace + text[match.end():]
            base = self.line_indent(assignment)
            new = (f"\n{base}_X_AMZN_TRACE_ID={value_text} || _X_AMZN_TRACE_ID=\"\""
                   f"\n{base}export _X_AMZN_TRACE_ID")
            return Rewrite((self.edit(assignment.end_byte, assignment.end_byte, new),),
                           detail={"verb": "export"})
        return None

    def pipe_payload(self, span: Span) -> Rewrite | None:
        """BL302: `curl ... -d "$X"` -> `printf '%s' "$X" | curl ... --data-binary @-` (printf
        adds no newline, unlike a here-string)."""
        start, end = self.byte(span.line, span.column), self.byte(span.end_line, span.end_column)
        command = self.ancestor(self.tree.root_node.descendant_for_byte_range(start, end), "command")
        if command is None:
            return None
        words = self.words(command)
        flag = next((w for w in words if w.start_byte == start), None)
        value = next((w for w in words if w.end_byte == end), None)
        name = command.child_by_field_name("name")
        if flag is None or value is None or flag is value or name is None or \
                self.text(name).rsplit("/", 1)[-1] != "curl":
            return None
        if self.text(flag) not in ("-d", "--data", "--data-ascii", "--data-binary", "--data-raw"):
            return None
        outer = command.parent
        if outer is not None and outer.type == "redirected_statement":
            if any(c.type in ("herestring_redirect", "heredoc_redirect") or self.text(c).lstrip().startswith("<")
                   for c in outer.children if c is not command):
                return None   # curl already reads its standard input
            outer = outer.parent
        if outer is not None and outer.type == "pipeline" and outer.named_children[0].start_byte != command.start_byte:
            return None
        payload = self.text(value)
        if value.type in ("simple_expansion", "expansion", "command_substitution"):
            payload = f'"{payload}"'
        previous = words[words.index(flag) - 1]
        return Rewrite((self.edit(command.start_byte, command.start_byte, f"printf '%s' {payload} | "),
                        self.edit(previous.end_byte, value.end_byte, " --data-binary @-")))

    def keep_init_guard(self, span: Span) -> Rewrite | None:
        """BL103: `. file || report` -> `command . file || report` (`command` takes away the
        special built-in's power to end a POSIX shell; for a file that exists nothing changes)."""
        node = self.ancestor(self.node_at(span), "command")
        name = node.child_by_field_name("name") if node is not None else None
        if name is None or self.text(name) not in (".", "source"):
            return None
        return Rewrite((self.edit(name.start_byte, name.start_byte, "command "),),
                       detail={"command": self.text(name)})

    def exit_after(self, span: Span) -> Rewrite | None:
        """BL104: `exit 1` right after the post to /runtime/init/error (`{ post; exit 1; }` when
        the post is one side of `||` or `&&`)."""
        node = self.ancestor(self.node_at(span), "command")
        if node is None:
            return None
        if node.parent is not None and node.parent.type == "redirected_statement":
            node = node.parent
        if node.parent is not None and node.parent.type == "pipeline":
            node = node.parent
        parent = node.parent
        if parent is not None and parent.type in BLOCKS:
            return Rewrite((self.edit(node.end_byte, node.end_byte, f"\n{self.line_indent(node)}exit 1"),))
        if parent is not None and parent.type == "list":
            return Rewrite((self.edit(node.start_byte, node.end_byte, f"{{ {self.text(node)}; exit 1; }}"),))
        return None


def builders(src: SourceFile, parsed: "ShellParse | None" = None) -> ShellFixes:
    """The front end's entry point (bootlint.fixes.build): the builders for one file, on what
    its lowering parsed (``RuntimeModel.parsed``)."""
    return ShellFixes(src, parsed)


# The fix requests this front end carries out, and how (bootlint.fixes.build looks them up here).
IMPLEMENTATIONS = {
    want.SendFileAsIs: lambda fx, r: fx.data_binary(r.span),
    want.ReadApiHost: lambda fx, r: fx.runtime_api_host(r.span),
    want.DropNextTimeout: lambda fx, r: fx.drop_timeout(r.span),
    want.WrapEventLoop: lambda fx, r: fx.event_loop(r.first, r.last),
    want.GuardHandlerCall: lambda fx, r: fx.guard_handler(r.handler, r.response),
    want.ExportTraceId: trace_id_from_any,
    want.RemoveTempFile: lambda fx, r: fx.remove_temp(r.span, list(r.names), r.text),
    want.RemoveTempFileBeforeJump: lambda fx, r: fx.remove_temp_before(r.span, list(r.names), r.text),
    want.PipePayload: lambda fx, r: fx.pipe_payload(r.span),
    want.ExitAfterInitError: lambda fx, r: fx.exit_after(r.span),
    want.KeepInitGuard: lambda fx, r: fx.keep_init_guard(r.span),
}


def _same(a, b) -> bool:
    """The same tree node (tree-sitter hands out a new wrapper object each time); two Nones
    (the top of the script) are the same place too."""
    if a is None or b is None:
        return a is None and b is None
    return (a.start_byte, a.end_byte, a.type) == (b.start_byte, b.end_byte, b.type)
