"""Shell words: their static value, resolved through the file's own variable assignments."""

from __future__ import annotations

from bootlint.model import Piece
from bootlint.source import SourceFile

MAX_ALTERNATIVES = 16
MAX_DEPTH = 6
SUBSTITUTIONS = ("command_substitution", "process_substitution")
# Arguments that are one word whatever they hold (quoted, or with no expansion to split).
_PLAIN_ARGUMENTS = ("word", "number", "raw_string", "string", "ansi_c_string")


def node_text(node) -> str:
    return node.text.decode("utf-8", "replace")


def expansion_names(node) -> set[str]:
    """Variables a word expands (``$X``, ``${X}``, ``${X:-d}``), outside nested substitutions."""
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
        stack.extend(cur.children)
    return names


def substitutions(node) -> list:
    """The outermost $(...) / `...` / <(...) inside a node (or the node itself), in source order."""
    if node.type in SUBSTITUTIONS:
        return [node]
    found = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type in SUBSTITUTIONS and cur is not node:
            found.append(cur)
            continue
        stack.extend(reversed(cur.children))
    return found


class Words:
    """Static evaluation of words against the assignments found anywhere in the file."""

    def __init__(self, src: SourceFile, assignments: dict[str, list],
                 calls: dict[str, list] | None = None) -> None:
        self.src = src
        self.assignments = assignments
        # function name -> the argument lists of its call sites, for `$1` inside the function.
        self.calls = calls or {}
        # name -> its values' alternatives (None when unknown); each variable is resolved once.
        self._resolved: dict[str, list[tuple[Piece, ...]] | None] = {}
        self._resolving: set[str] = set()

    def span(self, node):
        return self.src.span(tuple(node.start_point), tuple(node.end_point))

    def literal(self, node) -> str | None:
        """The word's text when it has one static value (quotes removed), else None."""
        kind = node.type
        if kind in ("word", "number"):  # the common case, without computing positions
            return _unescape(node_text(node))
        if kind == "raw_string":
            return node_text(node)[1:-1]
        alts = self.evaluate(node)
        if len(alts) == 1 and all(p.is_literal for p in alts[0]):
            return "".join(p.text for p in alts[0])
        return None

    def evaluate(self, node, depth: int = 0) -> list[tuple[Piece, ...]]:
        """Every way the word can read, as pieces; variables with several values branch."""
        kind = node.type
        if kind in ("word", "number", "string_content", "heredoc_content"):
            return [(Piece(text=_unescape(node_text(node)), span=self.span(node)),)]
        if kind == "raw_string":
            text = node_text(node)
            return [(Piece(text=text[1:-1], span=self._inner_span(node)),)]
        if kind == "ansi_c_string":
            return [(Piece(text=node_text(node)[2:-1], span=self.span(node)),)]
        if kind in ("string", "concatenation", "translated_string"):
            return self._concat(node, depth)
        if kind == "simple_expansion":
            name = next((node_text(c) for c in node.children
                         if c.type in ("variable_name", "special_variable_name")), "")
            return self._resolve(name, node, None, depth)
        if kind == "expansion":
            return self._expansion(node, depth)
        return [(Piece(var=node_text(node)[:40], span=self.span(node)),)]

    def _inner_span(self, node):
        sp = self.span(node)
        if sp.line == sp.end_line:
            return type(sp)(sp.line, sp.column + 1, sp.end_line, sp.end_column - 1)
        return sp

    def _concat(self, node, depth: int) -> list[tuple[Piece, ...]]:
        alts: list[tuple[Piece, ...]] = [()]
        pos = node.start_byte + (1 if node.type == "string" else 0)
        end = node.end_byte - (1 if node.type == "string" else 0)
        children = [c for c in node.children if c.type not in ('"', "$\"")]
        for child in children:
            if child.start_byte > pos:
                # Text of a string that tree-sitter leaves between child nodes.
                gap = self.src.encoded[pos:child.start_byte].decode("utf-8", "replace")
                alts = [a + (Piece(text=gap),) for a in alts]
            part = self.evaluate(child, depth)
            alts = [a + p for a in alts for p in part][:MAX_ALTERNATIVES]
            pos = max(pos, child.end_byte)
        if end > pos:
            gap = self.src.encoded[pos:end].decode("utf-8", "replace")
            alts = [a + (Piece(text=gap),) for a in alts]
        return [_merge(a) for a in alts]

    def _expansion(self, node, depth: int) -> list[tuple[Piece, ...]]:
        name = ""
        operator = None
        default = None
        for child in node.children:
            if child.type in ("variable_name", "special_variable_name") and not name:
                name = node_text(child)
            elif child.type in (":-", "-", ":=", "=") or (not child.is_named and node_text(child) in (":-", "-", ":=", "=")):
                operator = node_text(child)
            elif operator and default is None and child.is_named:
                default = self.literal(child) or ""
        if not name or (len(node.children) > 3 and operator is None):
            # ${#x}, ${x/a/b}, ${x%%.*}: a value computed at run time.
            return [(Piece(var=name or node_text(node), span=self.span(node)),)]
        return self._resolve(name, node, default, depth)

    def _resolve(self, name: str, node, default: str | None, depth: int) -> list[tuple[Piece, ...]]:
        unknown = [(Piece(var=name, span=self.span(node), default=default),)]
        if name.isdigit() and name != "0" and default is None and depth < MAX_DEPTH:
            return self._parameter(int(name), node, depth) or unknown
        if default is not None or name not in self.assignments or depth >= MAX_DEPTH:
            return unknown
        if name not in self._resolved:
            if name in self._resolving:  # X=$X/more: a value that refers to itself
                return unknown
            self._resolving.add(name)
            try:
                self._resolved[name] = self._values(name, depth)
            finally:
                self._resolving.discard(name)
        return self._resolved[name] or unknown

    def _parameter(self, position: int, node, depth: int) -> list[tuple[Piece, ...]] | None:
        """``$1`` inside a function: what every call site in the file passes there, when each
        passes a word (None when one passes nothing, ``"$@"``, or the function is not called)."""
        function = node.parent
        while function is not None and function.type != "function_definition":
            function = function.parent
        name = function.child_by_field_name("name") if function is not None else None
        sites = self.calls.get(node_text(name), []) if name is not None else []
        if not sites:
            return None
        alts: dict[tuple[Piece, ...], None] = {}
        for args in sites:
            if len(args) < position or any(a.type not in _PLAIN_ARGUMENTS for a in args[:position]):
                return None  # missing, or a word that may expand to several ("$@", $x unquoted)
            for alt in self.evaluate(args[position - 1], depth + 1):
                alts.setdefault(alt, None)
        return list(alts)[:MAX_ALTERNATIVES]

    def _values(self, name: str, depth: int) -> list[tuple[Piece, ...]] | None:
        alts: dict[tuple[Piece, ...], None] = {}
        for value in self.assignments[name]:
            if value is None:
                continue
            for alt in self.evaluate(value, depth + 1):
                alts.setdefault(alt, None)
                if len(alts) >= MAX_ALTERNATIVES:
                    break
        if not any(p.is_literal and p.text for a in alts for p in a):
            return None
        return list(alts)


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _merge(pieces: tuple[Piece, ...]) -> tuple[Piece, ...]:
    """Drop empty literal pieces (the quotes' gaps)."""
    return tuple(p for p in pieces if not (p.is_literal and not p.text))
