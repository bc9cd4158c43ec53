"""tree-sitter-bash: parsing shell text, collecting its syntax errors, and reading the pieces
of a tree every later pass needs (a node's text, a command's name and arguments, the
expansions and substitutions in a word). Imports nothing of the front end's own."""

from __future__ import annotations

import threading
from functools import lru_cache

from bootlint.diagnostics import Span
from bootlint.files.source import SourceFile
from bootlint.util.lazyre import lazy
from bootlint.util.records import dataclass

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
def _language():
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Language(tree_sitter_bash.language())


_PARSERS = threading.local()


def parser():
    """This thread's tree-sitter parser for bash (loading the grammar costs a few milliseconds,
    once; a parser is not to be used by two threads at once, and the language server lints on
    two: bootlint.lsp.server.LintThread)."""
    found = getattr(_PARSERS, "parser", None)
    if found is None:
        import tree_sitter

        found = _PARSERS.parser = tree_sitter.Parser(_language())
    return found


@dataclass(frozen=True)
class ShellParse:
    """What the lowering parsed (``RuntimeModel.parsed``), for the fix builders
    (bootlint.frontends.shell.fixes): the tree of the text as read, and the lowering's index of
    that tree (None when the lowering read another tree, one re-parsed past syntax errors)."""

    tree: object
    index: object | None = None


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


SUBSTITUTIONS = ("command_substitution", "process_substitution")


# What the readers below found for each node of the trees being lowered: the passes of a
# lowering ask for the same command's name and arguments and the same word's expansions over and
# over (a fifth of a small file's lint went to reading them again). Keyed by the tree-sitter node
# itself, whose equality is the same node of the same tree (a kept node keeps its tree alive, so
# a node of another tree never finds its answer); a wrapper (values.Bound, Place) is read every
# time. Tables of the module, not of each thread: an answer depends on the node alone, so two
# threads lowering at once (the language server lints on two) only share them: one thread's
# forget_nodes() makes the other read its nodes again, never gives it a wrong answer. (Tables of
# each thread cost a thread-local look-up, ~600 machine instructions, on each of the ~500
# questions a 20-line file asks, and a call of a shared helper as much again.)
_TEXT: dict = {}
_NAME: dict = {}
_ARGS: dict = {}
_NAMES: dict = {}
_SUBS: dict = {}
_CALLEE: dict = {}
_UNREAD = object()

_NODE = None   # tree_sitter.Node once a tree is lowered (before that nothing is kept)


def forget_nodes() -> None:
    """Drop what was read of the last tree (called as a new tree is lowered: what is kept holds
    its tree alive)."""
    global _NODE
    if _NODE is None:
        import tree_sitter

        _NODE = tree_sitter.Node
    for table in (_TEXT, _NAME, _ARGS, _NAMES, _SUBS, _CALLEE):
        table.clear()


def node_text(node) -> str:
    text = _TEXT.get(node)
    if text is None:
        text = node.text.decode("utf-8", "replace")
        if type(node) is _NODE:
            _TEXT[node] = text
    return text


NAME_AFTER_DOLLAR = lazy(r"[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]")


@dataclass(frozen=True)
class Place:
    """Where a piece of a word is written, for text that tree-sitter left outside any node."""

    type: str
    start_byte: int
    end_byte: int
    start_point: tuple[int, int]
    end_point: tuple[int, int]


def dollar_tail(node):
    """tree-sitter-bash (issues 180, 315) cuts an unquoted `$name` that follows an expansion
    and a literal (`$API/invocation/$ID/response`, `$DIR/$NAME.json`) into a bare `$` ending
    the word and a new word `ID/response` (an argument, or the name of a phantom command after
    an assignment). For a word ending so: that next word, else None."""
    if node.type != "concatenation" or not node.children or node.children[-1].type != "$":
        return None
    cur = node
    while cur.next_sibling is None and cur.parent is not None and cur.parent.end_byte == cur.end_byte \
            and cur.parent.type in ("variable_assignment", "concatenation"):
        cur = cur.parent
    after = cur.next_sibling
    if after is not None and after.type == "command_name" and after.children:
        after = after.children[0]
    if after is None or after.type != "word" or after.start_byte != node.end_byte \
            or after.start_point[0] != node.end_point[0]:
        return None
    return after


def is_dollar_tail(node, before) -> bool:
    """Whether the node is the rest of a word that tree-sitter cut after its `$` (see
    :func:`dollar_tail`), to be read as part of that word and not on its own. ``before`` is the
    sibling written just before it (the caller has it: asking tree-sitter for a node's previous
    sibling climbs from the root, a cost of the node's depth for every word)."""
    while before is not None and before.type == "variable_assignment":
        before = before.child_by_field_name("value")
    if before is None or before.type != "concatenation":
        return False
    tail = dollar_tail(before)
    return tail is not None and (tail.start_byte, tail.end_byte) == (node.start_byte, node.end_byte)


def expansion_names(node) -> set[str]:
    """Variables a word expands (``$X``, ``${X}``, ``${X:-d}``), outside nested substitutions
    (a new set, the caller's to change)."""
    found = _NAMES.get(node)
    if found is None:
        found = _expansion_names(node)
        if type(node) is _NODE:
            _NAMES[node] = found
    return set(found)


def _expansion_names(node) -> set[str]:
    names: set[str] = set()
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type in ("simple_expansion", "expansion"):
            for child in cur.children:
                if child.type in ("variable_name", "special_variable_name"):
                    names.add(node_text(child))
                    break
        if cur.type in SUBSTITUTIONS and cur is not node:
            continue
        stack.extend(cur.named_children)
    return names


def substitutions(node) -> list:
    """The outermost $(...) / `...` / <(...) inside a node (or the node itself), in source order
    (a new list, the caller's to change)."""
    found = _SUBS.get(node)
    if found is None:
        found = _substitutions(node)
        if type(node) is _NODE:
            _SUBS[node] = found
    return list(found)


def _substitutions(node) -> list:
    if node.type in SUBSTITUTIONS:
        return [node]
    found = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type in SUBSTITUTIONS and cur is not node:
            found.append(cur)
            continue
        stack.extend(reversed(cur.named_children))
    return found


def command_name(node) -> object | None:
    """The command_name child's first child (the word naming the command), if any."""
    found = _NAME.get(node, _UNREAD)
    if found is _UNREAD:
        found = _command_name(node)
        if type(node) is _NODE:
            _NAME[node] = found
    return found


def _command_name(node) -> object | None:
    previous = None
    for child in node.children:
        if child.type == "command_name":
            name = child.children[0] if child.children else child
            # `URL=$API/x/$ID/y` read by tree-sitter as an assignment and a command `ID/y`.
            return None if name.type == "word" and is_dollar_tail(name, previous) else name
        previous = child
    return None


def callee(node) -> str | None:
    """The command's name when it is written as one plain word (`process`, `./run`), else
    None: how a call of one of the file's functions is told (the passes ask it of every command)."""
    found = _CALLEE.get(node, _UNREAD)
    if found is _UNREAD:
        name = command_name(node)
        found = node_text(name) if name is not None and name.type == "word" else None
        if type(node) is _NODE:
            _CALLEE[node] = found
    return found


def command_args(node) -> list:
    """A command's argument nodes (everything after its name, not redirections; a new list,
    the caller's to change)."""
    found = _ARGS.get(node)
    if found is None:
        found = _command_args(node)
        if type(node) is _NODE:
            _ARGS[node] = found
    return list(found)


def _command_args(node) -> list:
    args = []
    seen_name = False
    previous = None
    for child in node.children:
        if child.type == "command_name":
            seen_name = True
        elif seen_name and child.is_named and child.type not in ("file_redirect", "heredoc_redirect",
                                                                    "herestring_redirect", "comment"):
            if child.type == "word" and args and is_dollar_tail(child, previous):
                previous = child
                continue   # the rest of the argument before it (see dollar_tail)
            args.append(child)
        previous = child
    return args


def key(node) -> tuple[int, int]:
    """A node's place (its bytes), to file facts about it by."""
    return (node.start_byte, node.end_byte)
