"""tree-sitter-bash: parsing shell text and collecting its syntax errors."""

from __future__ import annotations

from functools import lru_cache

from bootlint.diagnostics import Span
from bootlint.files.source import SourceFile

# tree-sitter recurses over the tree in some of its own code paths; deeper input than this is
# reported rather than handed to it.
MAX_NESTING = 2000
# Lowering and the rules cost about 40 microseconds and 2 KB per command: past this many commands a
# file would need more than the 5 s and 512 MB a lint may take (a 2 MB file of `echo a` lines has
# 299,000 and took 11 s and 570 MB). Real bootstraps have a few hundred.
MAX_COMMANDS = 50_000
# Checked before any pass of bootlint's own walks the tree (tree-sitter counts its nodes for free):
# the tutorial has 176 nodes, a 2 MB file of short lines 1.2 million. Dense code costs up to about
# 8 µs a node on a quiet hour of the project machine and 19 µs on its slowest (the tutorial's loop
# 1,600 times, 280,000 nodes: 2.3 s and 5.4 s), so this many stay within 4 s at the slowest: from
# 4,000 lines (an `if` with a request on each) to 20,000 (the tutorial's), ten times the largest
# bootstrap we know or more.
MAX_NODES = 200_000


@lru_cache(maxsize=1)
def parser():
    """One shared tree-sitter parser for bash (loading the grammar costs a few milliseconds)."""
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


def parse(src: SourceFile):
    """Parse the file's text; returns the tree-sitter tree."""
    return parser().parse(src.encoded)


def syntax_errors(src: SourceFile, root) -> list[tuple[Span, str]]:
    """Positions and messages of the tree's ERROR and MISSING nodes, outermost first, max 20."""
    found: list[tuple[Span, str]] = []
    if not root.has_error:
        return found
    stack = [root]
    while stack and len(found) < 20:
        node = stack.pop()
        if not node.has_error:
            continue
        if node.is_missing:
            span = src.span(tuple(node.start_point), tuple(node.end_point))
            opener = node.parent
            while opener is not None and opener.parent is not None and opener.type in (
                    "do_group", "compound_statement"):
                opener = opener.parent
            where = ""
            if opener is not None and opener.type != "program":
                keyword = opener.children[0].type if opener.children else opener.type
                where = f" to close the '{keyword}' on line {opener.start_point[0] + 1}"
            found.append((span, f"syntax error: missing '{node.type}'{where}"))
            continue
        if node.type == "ERROR":
            span = src.span(tuple(node.start_point), tuple(node.start_point))
            first = node.children[0].type if node.children else ""
            found.append((span, _error_message(node, first)))
            continue
        stack.extend(reversed(node.children))
    return found


def _error_message(node, first: str) -> str:
    text = node.text.decode("utf-8", "replace")
    keyword_ends = {"if": "fi", "while": "done", "until": "done", "for": "done", "case": "esac",
                    "{": "}", "(": ")", "$(": ")", "select": "done"}
    if first in keyword_ends and keyword_ends[first] not in text.split():
        return f"syntax error: '{first}' is never closed (expected '{keyword_ends[first]}')"
    if text.count('"') % 2 or text.count("'") % 2:
        return "syntax error: unterminated quoted string"
    snippet = text.strip().split("\n", 1)[0][:40]
    return f"syntax error: the shell cannot parse '{snippet}'"
