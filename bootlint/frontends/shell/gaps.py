"""Reading past tree-sitter-bash's gaps in text that bash accepts.

Some valid parameter expansions (``${1:$i:1}``, ``${v: ${#v} < 8 ? 0 : -8}``, ``${v%]*}``) make
tree-sitter-bash report an error, and the last one swallows the rest of the file. Once ``bash -n``
has accepted the text, each damaged ``${...}`` is found the way bash reads it (to its matching
``}``) and replaced, byte for byte, by an expansion tree-sitter reads (``${v%xxx}``: a value known
only at run time), then the text is parsed again. Positions do not move, so every span stays
right; what stays damaged after that is an unparsed region.
"""

from __future__ import annotations

import re

from bootlint.frontends.shell.syntax import parser
from bootlint.util.lazyre import lazy
from bootlint.util.records import dataclass

MAX_REPAIRS = 50
MAX_LINE_TRIES = 6
_NAME_RE = lazy(rb"[#!]?([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])")


@dataclass(frozen=True)
class Region:
    """Bytes ``start``..``end`` of the text that tree-sitter could not read."""

    start: int
    end: int


def error_nodes(root) -> list:
    """The outermost ERROR and MISSING nodes, in source order."""
    found = []
    stack = [root]
    while stack:
        node = stack.pop()
        if not node.has_error and not node.is_missing:
            continue
        if node.is_missing or node.type == "ERROR":
            found.append(node)
            continue
        stack.extend(reversed(node.children))
    return found


def repair(text: bytes, tree) -> tuple[bytes, object, list[Region], list]:
    """Patch damaged expansions until the tree is clean or nothing more can be patched.

    Returns the patched text, its tree, the patched regions, and the error nodes that remain.
    """
    regions: list[Region] = []
    for _ in range(MAX_REPAIRS):
        errors = error_nodes(tree.root_node)
        if not errors:
            return text, tree, regions, []
        starts = set(_damaged_expansions(tree.root_node, text))
        starts.update(s for s in (_expansion_start(n, text) for n in errors) if s is not None)
        patched = bytearray(text)
        done_to = -1
        for start in sorted(starts):
            end = matching_brace(text, start) if start >= done_to else None
            if end is None or _reads_alone(text[start:end]):
                continue
            replacement = _placeholder(text[start:end])
            if replacement is None:
                continue
            patched[start:end] = replacement
            regions.append(Region(start, end))
            done_to = end
        if done_to < 0:
            found = _patch_a_line(text, tree, errors)
            if found is None:
                return text, tree, regions, errors
            text, tree, region = found
            regions.append(region)
            continue
        text = bytes(patched)
        tree = parser().parse(text)
    return text, tree, regions, error_nodes(tree.root_node)


def _damage(errors: list) -> int:
    """How much of the text the errors cover (a MISSING token counts as one byte)."""
    return sum(max(1, n.end_byte - n.start_byte) for n in errors)


def _patch_a_line(text: bytes, tree, errors: list):
    """A gap outside any ``${...}`` (``[ "$c" = + ]``): blank the line where the innermost error
    starts (and, failing that, the line before it) into a `:` command, and keep that only if
    tree-sitter then reads more of the file. Returns (text, tree, region) or None."""
    before = _damage(errors)
    rows: list[int] = []
    for node in _innermost(errors):
        for row in (node.start_point[0], node.start_point[0] - 1):
            if row >= 0 and row not in rows:
                rows.append(row)
    lines = text.split(b"\n")
    for row in rows[:MAX_LINE_TRIES]:
        line = lines[row]
        body = line.strip()
        if not body or body.startswith(b"#"):
            continue
        start = sum(len(x) + 1 for x in lines[:row])
        indent = len(line) - len(line.lstrip())
        candidate = (text[:start + indent] + b":" + b" " * (len(line) - indent - 1)
                     + text[start + len(line):])
        new_tree = parser().parse(candidate)
        # Blanking text inside an error shrinks it by that much at least: count only more.
        if _damage(error_nodes(new_tree.root_node)) < before - len(line):
            return candidate, new_tree, Region(start + indent, start + len(line))
    return None


def _innermost(errors: list) -> list:
    """The deepest ERROR and MISSING nodes below the given ones, in source order."""
    out = []
    stack = list(reversed(errors))
    while stack:
        node = stack.pop()
        inner = [c for c in node.children if c.type == "ERROR" or c.is_missing or c.has_error]
        if inner:
            stack.extend(reversed(inner))
        else:
            out.append(node)
    return out


def _damaged_expansions(root, text: bytes) -> list[int]:
    """Where the ``${`` of each expansion that holds an error, or sits inside one, starts."""
    found = []
    stack = [(root, False)]
    while stack:
        node, in_error = stack.pop()
        if not node.has_error and not in_error:
            continue
        if node.type == "expansion" and text[node.start_byte:node.start_byte + 2] == b"${":
            found.append(node.start_byte)
        inside = in_error or node.type == "ERROR"
        stack.extend((child, inside) for child in node.children)
    return found


def _reads_alone(expansion: bytes) -> bool:
    """Does tree-sitter read this expansion without error when it stands alone? (Then the
    damage is elsewhere, and the expansion is left as it is.)"""
    return not parser().parse(b"echo " + expansion + b"\n").root_node.has_error


def _expansion_start(node, text: bytes) -> int | None:
    """Where the ``${`` that a damaged node belongs to starts (the nearest on its line)."""
    cur = node
    while cur is not None:
        if cur.type == "expansion" and text[cur.start_byte:cur.start_byte + 2] == b"${":
            return cur.start_byte
        if cur.type in ("command", "program", "compound_statement", "do_group", "ERROR"):
            break
        cur = cur.parent
    at = text.rfind(b"${", 0, node.start_byte + 2)
    line_start = text.rfind(b"\n", 0, node.start_byte) + 1
    return at if at >= line_start else None


def matching_brace(text: bytes, start: int) -> int | None:
    """The end (exclusive) of the ``${...}`` at ``start``, read as bash reads it: quotes,
    backslashes, nested ``${...}``, ``$(...)`` and ``$((...))`` are skipped over."""
    return _skip_group(text, start + 2, b"${", b"}")


def _skip_group(text: bytes, i: int, opener: bytes, closer: bytes) -> int | None:
    """The end (exclusive) of a group opened just before ``i`` (``${`` closed by ``}``, ``$(``
    or ``(`` closed by ``)``), skipping quotes and backslashes; a nested group of the same kind
    counts depth instead of recursing, so hostile nesting costs no stack."""
    depth, n = 1, len(text)
    while i < n:
        ch = text[i:i + 1]
        if ch in (b"\\", b"'"):
            i = _skip_literal(text, i)
            if i is None:
                return None
            continue
        if ch == b'"':
            i = _skip_double_quoted(text, i + 1)
            if i is None:
                return None
            continue
        pair = text[i:i + 2]
        if pair == opener or (closer == b")" and ch == b"("):
            depth += 1
            i += len(opener) if pair == opener else 1
            continue
        if pair in (b"${", b"$("):
            i = _skip_group(text, i + 2, pair, b"}" if pair == b"${" else b")")
            if i is None:
                return None
            continue
        if ch == closer:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _skip_literal(text: bytes, i: int) -> int | None:
    """Past the backslash escape or the single-quoted string at ``i`` (None: the quote is never
    closed)."""
    if text[i:i + 1] == b"\\":
        return i + 2
    close = text.find(b"'", i + 1)
    return None if close < 0 else close + 1


def _skip_double_quoted(text: bytes, i: int) -> int | None:
    while i < len(text):
        ch = text[i:i + 1]
        if ch == b"\\":
            i += 2
        elif ch == b'"':
            return i + 1
        elif text[i:i + 2] in (b"${", b"$("):
            pair = text[i:i + 2]
            i = _skip_group(text, i + 2, pair, b"}" if pair == b"${" else b")")
            if i is None:
                return None
        else:
            i += 1
    return None


def _placeholder(original: bytes) -> bytes | None:
    """``${name%xxx}`` as long as ``original``, newlines kept where they were."""
    match = _NAME_RE.match(original, 2)
    name = match.group(1) if match else b"_"
    if not re.fullmatch(rb"[A-Za-z_][A-Za-z0-9_]*|[0-9]+", name):
        name = b"_"
    head = b"${" + name + b"%"
    pad = len(original) - len(head) - 1
    if pad < 0:
        return None
    middle = bytes(b if b == 0x0A else 0x78 for b in original[len(head):len(head) + pad])
    return head + middle + b"}"


def unclosed_paren(text: bytes) -> int | None:
    """Where the first `$(` or `(` that is never closed opens (bash's "unexpected EOF while
    looking for matching `)'" names the end of the file instead), read as bash reads it: quotes,
    backslashes and comments skipped, a group that closes skipped whole. None when there is none
    to be found."""
    i, n, quoted = 0, len(text), False
    while i < n:
        ch = text[i:i + 1]
        if ch == b"\\" or (ch == b"'" and not quoted):
            i = _skip_literal(text, i)
            if i is None:
                return None
            continue
        if ch == b'"':
            if quoted:
                quoted = False
                i += 1
                continue
            end = _skip_double_quoted(text, i + 1)
            if end is None:    # an unclosed string: what fails to close may be in it
                quoted = True
                i += 1
                continue
            i = end
            continue
        if not quoted and ch == b"#" and (i == 0 or text[i - 1:i] in b" \t\n;&|()"):
            newline = text.find(b"\n", i)
            i = n if newline < 0 else newline
            continue
        opener = b"$(" if text[i:i + 2] == b"$(" else b"(" if ch == b"(" and not quoted else None
        if opener is not None:
            if _skip_group(text, i + len(opener), opener, b")") is None:
                return i
            i = _skip_group(text, i + len(opener), opener, b")")
            continue
        i += 1
    return None
