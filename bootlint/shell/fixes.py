"""Fixes for shell bootstraps: byte edits found on the tree-sitter tree, written back as text
edits, in the file's own indentation style.

Every builder returns a :class:`~bootlint.model.Fix` or None when the shape of the code is not
one it can rewrite with confidence (then the finding simply has no fix). The rules reach these
builders through the front end, never by name.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import cached_property

from bootlint.fixkit import FixBuilders, Indent, post_error_body
from bootlint.model import Applicability, Edit, Fix, Span
from bootlint.source import SourceFile

SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE
# Nodes whose children are statements run one after another.
BLOCKS = {"program", "compound_statement", "do_group", "if_statement", "elif_clause", "else_clause",
          "case_item", "subshell"}
HTTP_TOOLS = {"curl", "wget", "http", "https"}
TIMEOUT_LETTERS = {"curl": "m", "wget": "T"}
TIMEOUT_LONG = {"--max-time", "--timeout", "--read-timeout"}
API_VARIABLE = "${AWS_LAMBDA_RUNTIME_API}"


class ShellFixes(FixBuilders):
    """Fix builders for one shell source (the tree is parsed again, once, when a fix is asked)."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src

    # -- positions ---------------------------------------------------------------------------------
    @cached_property
    def tree(self):
        from bootlint.shell.parse import parse

        return parse(self.src)

    @cached_property
    def _starts(self) -> list[int]:
        return [self.src.line_start(row) for row in range(self.src.text.count("\n") + 1)]

    @cached_property
    def indent(self) -> Indent:
        return Indent.of(self.src.text, default="  ")

    def byte(self, line: int, column: int) -> int:
        """Offset in the parsed bytes of a 1-based (line, character column)."""
        start = self.src.line_start(line - 1)
        end = self.src.encoded.find(b"\n", start)
        data = self.src.encoded[start:end if end >= 0 else len(self.src.encoded)]
        if data.isascii():
            return start + min(column - 1, len(data))
        return start + len(data.decode("utf-8", "replace")[:column - 1].encode("utf-8"))

    def span_of(self, start: int, end: int) -> Span:
        return Span(*self._point(start), *self._point(end))

    def _point(self, offset: int) -> tuple[int, int]:
        row = bisect_right(self._starts, offset) - 1
        return row + 1, self.src.column(row, offset - self._starts[row])

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
    def data_binary(self, span: Span) -> Fix | None:
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
        return Fix(f"use `--data-binary`, which sends the file as it is",
                   (self.edit(node.start_byte, node.end_byte, new),), SAFE)

    def runtime_api_host(self, span: Span) -> Fix | None:
        """BL004: the written-out host becomes `${AWS_LAMBDA_RUNTIME_API}` (closing and reopening
        single quotes around it)."""
        start, end = self.byte(span.line, span.column), self.byte(span.end_line, span.end_column)
        node = self.tree.root_node.descendant_for_byte_range(start, end)
        if self.ancestor(node, "heredoc_body", "heredoc_redirect", "comment") is not None:
            return None
        quoted = self.ancestor(node, "raw_string", "ansi_c_string")
        text = f"'\"{API_VARIABLE}\"'" if quoted is not None else API_VARIABLE
        return Fix("take the host from AWS_LAMBDA_RUNTIME_API", (self.edit(start, end, text),), SAFE)

    def drop_timeout(self, span: Span) -> Fix | None:
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
        title = "remove the timeout on the long-poll `next`"
        if index == 0 or flag.type == "command_name":
            # `timeout [opts] N curl ...`: everything before the client goes.
            client = next((w for w in words[1:] if self.text(w).rsplit("/", 1)[-1] in HTTP_TOOLS), None)
            if client is None:
                return None
            return Fix(title, (self.edit(flag.start_byte, client.start_byte, ""),), SAFE)
        tool = next((self.text(w).rsplit("/", 1)[-1] for w in words if self.text(w).rsplit("/", 1)[-1]
                     in HTTP_TOOLS), "curl")
        letter = TIMEOUT_LETTERS.get(tool, "m")
        start = words[index - 1].end_byte
        if word.startswith("--"):
            name = word.partition("=")[0]
            if name not in TIMEOUT_LONG:
                return None
            end = flag.end_byte if "=" in word or index + 1 >= len(words) else words[index + 1].end_byte
            return Fix(title, (self.edit(start, end, ""),), SAFE)
        if not word.startswith("-") or letter not in word:
            return None
        at = word.index(letter)
        inline = word[at + 1:]
        cluster = word[:at]
        drop_next = not inline and index + 1 < len(words)
        end = words[index + 1].end_byte if drop_next else flag.end_byte
        if cluster == "-":
            return Fix(title, (self.edit(start, end, ""),), SAFE)
        return Fix(title, (self.edit(flag.start_byte, end, cluster),), SAFE)


def builders(src: SourceFile) -> ShellFixes:
    """The front end's entry point (bootlint.frontends.FrontEnd.fixes)."""
    return ShellFixes(src)
