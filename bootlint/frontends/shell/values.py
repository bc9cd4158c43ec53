"""Shell words: their static value, resolved through the file's own variable assignments,
in the scope they are read in (a function's `local`s are its own), and with the positional
parameters bound to the arguments of a call site (a :class:`Frame`)."""

from __future__ import annotations

from bisect import bisect_right
from itertools import islice

from bootlint.model import Piece
from bootlint.frontends.shell.commands import NUMERIC_PARAMETERS
from bootlint.files.source import SourceFile
from bootlint.frontends.shell.syntax import NAME_AFTER_DOLLAR, Place, command_args, dollar_tail, node_text
from bootlint.util.records import dataclass

_UNREAD = object()   # (literal()'s answer may be None)
MAX_ALTERNATIVES = 16
# A variable's alternatives that read alike (the same text, variables and defaults) and differ
# only in where they were written: the first two are kept. Two, not one, so that a variable
# given the same text twice still reads several ways (as a check of one value asks); and a
# variable given it a hundred times (a long file repeating the same runtime) costs each read
# what two cost, where each read built and classified up to MAX_ALTERNATIVES copies.
MAX_SAME_SHAPE = 2
MAX_DEPTH = 6
MAX_CALL_DEPTH = 8          # helpers calling helpers, each call site binding $1..$9
# Arguments that are one word whatever they hold (quoted, or with no expansion to split).
_PLAIN_ARGUMENTS = ("word", "number", "raw_string", "string", "ansi_c_string")
POSITIONAL = frozenset("123456789")
REST = frozenset({"@", "*"})


@dataclass(frozen=True, eq=False)
class Frame:
    """One call of a file's function: its arguments (each :class:`Bound` to where it was
    written), the frame of the caller, and the outermost call site (where findings go)."""

    function: str
    args: tuple
    caller: "Frame | None"
    site: object            # the outermost call site's command node
    chain: tuple[str, ...]  # the functions called, outermost first

    @property
    def depth(self) -> int:
        return len(self.chain)


class Bound:
    """A syntax node read in a frame: an argument of a helper's call, or a word of a helper's
    body read for one call site. Attribute access goes to the node itself."""

    __slots__ = ("node", "frame")

    def __init__(self, node, frame: Frame | None) -> None:
        self.node = node
        self.frame = frame

    def __getattr__(self, name):
        return getattr(self.node, name)


def unbind(node) -> tuple[object, Frame | None]:
    """The node and the frame it is read in."""
    if type(node) is Bound:
        return node.node, node.frame
    return node, None


def rest_start(node) -> int | None:
    """For `"$@"`, `$@`, `"$*"` and `"${@:N}"` as a whole word: the first positional parameter
    it stands for (1, or N); None for any other word."""
    node, _ = unbind(node)
    inner = node
    if node.type == "string":
        named = [c for c in node.children if c.is_named]
        if len(named) != 1 or node.text.count(b'"') != 2:
            return None
        inner = named[0]
    if inner.type == "simple_expansion":
        text = inner.text.decode("utf-8", "replace")
        return 1 if text in ("$@", "$*") else None
    if inner.type == "expansion":
        text = inner.text.decode("utf-8", "replace")
        if text in ("${@}", "${*}"):
            return 1
        if text.startswith(("${@:", "${*:")) and text.endswith("}"):
            number = text[4:-1].strip()
            if number.isdigit():
                return max(int(number), 1)
    return None


class Words:
    """Static evaluation of words against the file's assignments, in the scope they are read in.

    A variable a function declares `local` takes that function's values; any other variable
    its global values (assignments outside functions, and those inside that are not local).
    ``$1``..``$9``, defaults included, take the arguments of the frame the word is read in.
    """

    def __init__(self, src: SourceFile, index) -> None:
        self.src = src
        self.index = index
        self.assignments = index.global_values
        # (scope, name) -> its values' alternatives (None when unknown), resolved once each
        # (outside any frame: values read for a call site depend on its arguments).
        self._resolved: dict[tuple, list[tuple[Piece, ...]] | None] = {}
        self._resolving: set[tuple] = set()
        # function name -> the argument lists of its call sites, for `$1` read outside any frame.
        self.calls: dict[str, list] = {}
        for sites in (index.call_sites, index.trap_sites):
            for name, commands in sites.items():
                self.calls.setdefault(name, []).extend(command_args(site) for site in commands)
        # While deciding whether a helper's endpoint depends on its parameters, they are unknown.
        self.parameters_unknown = False
        # Words read outside any frame, by (node, depth), one table with the parameters known and
        # one without: the index, the data flow, the lowering and the request facts each read
        # the same words (a tenth of a large file's lint time).
        self._evaluated: tuple[dict, dict] = ({}, {})
        # literal()'s answers by node, one table with the parameters known and one without.
        self._literals: tuple[dict, dict] = ({}, {})
        # (function, name) -> (end byte, value) of the function's own top-level assignments.
        self._own: dict[tuple[str, str], list] = {}

    def span(self, node):
        return self.src.node_span(node)

    def literal(self, node, frame: Frame | None = None) -> str | None:
        """The word's text when it has one static value (quotes removed), else None."""
        if type(node) is Bound:
            node, frame = node.node, node.frame or frame
        if frame is not None or type(node) is Place:
            return self._literal(node, frame)
        # Words read outside any frame, by node: every pass asks "is this word an option?".
        kept = self._literals[self.parameters_unknown]
        text = kept.get(node, _UNREAD)
        if text is _UNREAD:
            text = kept[node] = self._literal(node, None)
        return text

    def _literal(self, node, frame: Frame | None) -> str | None:
        kind = node.type
        if kind in ("word", "number"):  # the common case, without computing positions
            return _unescape(node_text(node))
        if kind == "raw_string":
            return node_text(node)[1:-1]
        if kind in ("string", "concatenation") and not self._parts_single(node, frame):
            return None   # a part with several values, or none known: no need to combine them
        alts = self.evaluate(node, 0, frame)
        if len(alts) == 1 and all(p.is_literal for p in alts[0]):
            return "".join(p.text for p in alts[0])
        return None

    def _parts_single(self, node, frame: Frame | None) -> bool:
        """Whether each expansion directly in a string or concatenation has one literal value
        (the common test of "is this word an option?" without combining every alternative)."""
        for child in node.named_children:
            if child.type in ("simple_expansion", "expansion"):
                alts = self.evaluate(child, 0, frame)
                if len(alts) != 1 or not all(p.is_literal for p in alts[0]):
                    return False
        return True

    def evaluate(self, node, depth: int = 0, frame: Frame | None = None) -> list[tuple[Piece, ...]]:
        """Every way the word can read, as pieces; variables with several values branch.
        The list is shared between callers: never change it."""
        if type(node) is Bound:
            node, frame = node.node, node.frame or frame
        if frame is not None:
            return self._evaluate(node, depth, frame)
        kept = self._evaluated[self.parameters_unknown]
        place = (node, depth)
        alts = kept.get(place)
        if alts is None:
            alts = kept[place] = self._evaluate(node, depth, None)
        return alts

    def _evaluate(self, node, depth: int, frame: Frame | None) -> list[tuple[Piece, ...]]:
        kind = node.type
        if kind in ("word", "number", "string_content", "heredoc_content"):
            return [(Piece(text=_unescape(node_text(node)), span=self.span(node)),)]
        if kind == "raw_string":
            text = node_text(node)
            return [(Piece(text=text[1:-1], span=self._inner_span(node)),)]
        if kind == "ansi_c_string":
            return [(Piece(text=node_text(node)[2:-1], span=self.span(node)),)]
        if kind in ("string", "concatenation", "translated_string"):
            return self._concat(node, depth, frame)
        if kind == "simple_expansion":
            name = next((node_text(c) for c in node.children
                         if c.type in ("variable_name", "special_variable_name")), "")
            return self._resolve(name, node, None, depth, frame)
        if kind == "expansion":
            return self._expansion(node, depth, frame)
        return [(Piece(var=node_text(node)[:40], span=self.span(node),
                       digits=kind == "arithmetic_expansion"),)]

    def _inner_span(self, node):
        sp = self.span(node)
        if sp.line == sp.end_line:
            return type(sp)(sp.line, sp.column + 1, sp.end_line, sp.end_column - 1)
        return sp

    def _concat(self, node, depth: int, frame: Frame | None) -> list[tuple[Piece, ...]]:
        alts: list[tuple[Piece, ...]] = [()]
        pos = node.start_byte + (1 if node.type == "string" else 0)
        end = node.end_byte - (1 if node.type == "string" else 0)
        children = [c for c in node.children if c.type not in ('"', "$\"")]
        tail = dollar_tail(node) if node.type == "concatenation" else None
        for child in children:
            if tail is not None and child is children[-1]:
                # The `$name` and the rest that tree-sitter cut off the word (see dollar_tail).
                alts = [a + p for a in alts for p in self._dollar_tail(child, tail, depth, frame)]
                return [_merge(a) for a in alts[:MAX_ALTERNATIVES]]
            if child.start_byte > pos:
                # Text of a string that tree-sitter leaves between child nodes.
                gap = (Piece(text=self.src.encoded[pos:child.start_byte].decode("utf-8", "replace")),)
                alts = [a + gap for a in alts]
            part = self.evaluate(child, depth, frame)
            if alts == [()]:
                # The first part read: its alternatives as they are (each `() + p` is p), without
                # a product to build (a variable assigned many times has many).
                alts = part[:MAX_ALTERNATIVES]
            elif len(alts) * len(part) > MAX_ALTERNATIVES:
                alts = list(islice((a + p for a in alts for p in part), MAX_ALTERNATIVES))
            else:
                alts = [a + p for a in alts for p in part]
            pos = max(pos, child.end_byte)
        if end > pos:
            gap = (Piece(text=self.src.encoded[pos:end].decode("utf-8", "replace")),)
            alts = [a + gap for a in alts]
        return [_merge(a) for a in alts]

    def _dollar_tail(self, dollar, tail, depth: int, frame: Frame | None) -> list[tuple[Piece, ...]]:
        text = node_text(tail)
        match = NAME_AFTER_DOLLAR.match(text)
        if match is None:   # a `$` that names nothing is a literal `$`
            return [(Piece(text="$"),) + a for a in self.evaluate(tail, depth, frame)]
        size = len(match.group(0).encode("utf-8"))
        row, col = tail.start_point
        name = Place("simple_expansion", dollar.start_byte, tail.start_byte + size, tuple(dollar.start_point),
                     (row, col + size))
        values = self._resolve(match.group(0), name, None, depth, frame)
        if size == len(tail.text):
            return values
        rest = Place("word", tail.start_byte + size, tail.end_byte, (row, col + size), tuple(tail.end_point))
        piece = (Piece(text=_unescape(text[len(match.group(0)):]), span=self.span(rest)),)
        return [v + piece for v in values]

    def _expansion(self, node, depth: int, frame: Frame | None) -> list[tuple[Piece, ...]]:
        name = ""
        operator = None
        default = None
        for child in node.children:
            if child.type in ("variable_name", "special_variable_name") and not name:
                name = node_text(child)
            elif child.type in (":-", "-", ":=", "=") or (not child.is_named and node_text(child) in (":-", "-", ":=", "=")):
                operator = node_text(child)
            elif operator and default is None and child.is_named:
                default = self.literal(child, frame) or ""
        if not name or (len(node.children) > 3 and operator is None):
            # ${#x}, ${x/a/b}, ${x%%.*}: a value computed at run time.
            return [(Piece(var=name or node_text(node), span=self.span(node)),)]
        return self._resolve(name, node, default, depth, frame)

    def _resolve(self, name: str, node, default: str | None, depth: int,
                 frame: Frame | None = None) -> list[tuple[Piece, ...]]:
        found = self._lookup(name, node, default, depth, frame)
        if found:
            return found
        # Not known statically: one piece naming the variable (made only here: most reads
        # resolve, and each piece costs its span).
        return [(Piece(var=name, span=self.span(node), default=default,
                       digits=default is None and name in NUMERIC_PARAMETERS),)]

    def _lookup(self, name: str, node, default: str | None, depth: int,
                frame: Frame | None) -> list[tuple[Piece, ...]] | None:
        """The variable's alternatives where the file tells them, else None (or empty)."""
        if name in POSITIONAL:
            if frame is None and default is None and depth < MAX_DEPTH and not self.parameters_unknown:
                return self._parameter(int(name), node, depth)
            return self._positional(int(name), node, default, depth, frame)
        if default is not None or depth >= MAX_DEPTH:
            return None
        scope = self.index.function_of(node) if self.index._ranges else None
        if scope is not None and name in self.index.locals.get(scope, ()):
            values = self.index.local_values.get((scope, name))
            if frame is not None:
                # A local computed from the parameters: its value depends on this call.
                return self._values(values, depth, frame) if values else None
        else:
            own = self.own_assignment(scope, name, node) if scope is not None else None
            if own is not None:
                # `var=$1` on the function's own straight-line path before this read: that is
                # the value here, whatever other functions assign to the same global name.
                return self.evaluate(own, depth + 1, frame)
            scope, values = None, self.assignments.get(name)
        if not values:
            return None
        key = (scope, name, self.parameters_unknown)
        if key not in self._resolved:
            if key in self._resolving:  # X=$X/more: a value that refers to itself
                return None
            self._resolving.add(key)
            try:
                self._resolved[key] = self._values(values, depth, None)
                if self._resolved[key] is None and self._all_digits(values, depth):
                    # rc=$?, n=$((n + 1)): unknown, but digits only.
                    self._resolved[key] = [(Piece(var=name, span=self.span(node), digits=True),)]
            finally:
                self._resolving.discard(key)
        return self._resolved[key]

    def _all_digits(self, values: list, depth: int) -> bool:
        """Does every value assigned expand to digits only?"""
        return bool(values) and all(
            value is not None and all(p.digits or (p.is_literal and p.text.isdigit())
                                      for alt in self.evaluate(value, depth + 1) for p in alt)
            for value in values)

    def own_assignment(self, function: str, name: str, node):
        """The value of the last assignment to a global ``name`` that is a statement of
        ``function``'s body itself (not inside a branch or loop) and comes before ``node``."""
        found = self._own.get((function, name))
        if found is None:
            found = []
            for assignment in self.index.assignment_nodes.get(name, ()):
                holder = assignment.parent
                if holder is not None and holder.type == "variable_assignments":
                    holder = holder.parent
                value = assignment.child_by_field_name("value")
                if (value is not None and holder is not None and holder.type == "compound_statement"
                        and holder.parent is not None and holder.parent.type == "function_definition"
                        and self.index.function_of(assignment) == function):
                    found.append((assignment.end_byte, value))
            found.sort(key=lambda entry: entry[0])
            self._own[(function, name)] = found
        # In source order: the last one ending before the node, found by bisection (a scan made
        # a long file's repeated assignments quadratic).
        at = bisect_right(found, node.start_byte, key=lambda entry: entry[0])
        return found[at - 1][1] if at else None

    def _parameter(self, position: int, node, depth: int) -> list[tuple[Piece, ...]] | None:
        """``$1`` inside a function: what every call site in the file passes there, when each
        passes a word (None when one passes nothing, ``"$@"``, or the function is not called)."""
        function = self.index.function_of(node)
        sites = self.calls.get(function, []) if function is not None else []
        if not sites:
            return None
        alts: dict[tuple[Piece, ...], None] = {}
        for args in sites:
            if len(args) < position or not all(map(_one_word, args[:position])):
                return None  # missing, or a word that may expand to several ("$@", $x unquoted)
            for alt in self.evaluate(args[position - 1], depth + 1):
                alts.setdefault(alt, None)
        return list(alts)[:MAX_ALTERNATIVES]

    def _positional(self, number: int, node, default: str | None, depth: int,
                    frame: Frame | None) -> list[tuple[Piece, ...]] | None:
        """$N in a frame: the caller's argument (after `shift`s), else the default."""
        if frame is None:
            return None
        at = number - 1 + self.index.shift_at(frame.function, node.start_byte)
        if at < len(frame.args):
            if depth >= MAX_DEPTH + MAX_CALL_DEPTH:
                return None
            return self.evaluate(frame.args[at], depth + 1)
        if default is not None:
            return [(Piece(text=default, span=self.span(node)),)]
        return None

    def _values(self, values: list, depth: int, frame: Frame | None) -> list[tuple[Piece, ...]] | None:
        """The alternatives of the assigned values, in order, each once, at most MAX_SAME_SHAPE
        of those that read alike (None when none holds literal text)."""
        alts: dict[tuple[Piece, ...], None] = {}
        shapes: dict[tuple, int] = {}
        for value in values:
            if value is None:
                continue
            for alt in self.evaluate(value, depth + 1, frame):
                if alt not in alts:
                    shape = reading(alt)
                    seen = shapes.get(shape, 0)
                    if seen < MAX_SAME_SHAPE:
                        shapes[shape] = seen + 1
                        alts[alt] = None
                if len(alts) >= MAX_ALTERNATIVES:
                    break
        if not any(p.is_literal and p.text for a in alts for p in a):
            return None
        return list(alts)


def reading(alt: tuple[Piece, ...]) -> tuple:
    """What an alternative reads: each piece's text, variable, default and whether it is
    digits, without where it was written."""
    return tuple([(p.text, p.var, p.default, p.digits) for p in alt])


def _one_word(node) -> bool:
    """Whether an argument is one word whatever it holds: quoted, without expansions, or an
    unquoted `$?`, `$$`, `$LINENO`... (digits, which word splitting leaves whole)."""
    if node.type in _PLAIN_ARGUMENTS:
        return True
    if node.type != "simple_expansion":
        return False
    name = next((node_text(c) for c in node.children
                 if c.type in ("variable_name", "special_variable_name")), "")
    return name in NUMERIC_PARAMETERS


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
    # A loop, not all() over a generator: this runs for every alternative of every word read.
    for piece in pieces:
        if not piece.text and piece.var is None:
            return tuple([p for p in pieces if p.text or p.var is not None])
    return pieces
