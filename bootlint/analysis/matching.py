"""Does a value known only in part at lint time match a pattern? For the front ends, when they
fold a condition on a helper's parameter with the argument of one call site (`[ "$1" = init/error ]`
with `report "invocation/$ID/error"`, `path.endswith("init/error")` with `f"invocation/{rid}/error"`).

A value is one way a word or expression can read (:class:`~bootlint.model.Piece` tuples): literal
text and pieces unknown until run time, each of which may stand for any text (or, for a request
id, only the characters a request id is made of). A pattern is a list of tokens: a literal
character, ``?`` (any one character), ``*`` (any text), or a set of characters (``[a-z]``,
``[!/]``). The answer is three-valued: True (every reading matches), False (none can), None
(it depends on what the unknown pieces hold at run time).
"""

from __future__ import annotations

from typing import Callable, Container

from bootlint.model import ApiCall, Node, Piece
from bootlint.util.records import dataclass

MAX_ALTERNATIVES = 16   # a value with this many readings may have more: its answer is unknown
# Lambda's request ids are UUIDs: a variable the file puts where the API expects the request id
# holds nothing else (no `/`, no letters past f).
REQUEST_ID_CHARS = frozenset("0123456789abcdefABCDEF-")


class RequestIds:
    """Variables the file puts where the API expects a request id (`.../invocation/$ID/error`),
    read from the model's requests when first asked (most files never ask)."""

    def __init__(self, nodes: Callable[[], list[Node]]) -> None:
        self._nodes = nodes
        self._names: set[str] | None = None

    def __contains__(self, name: object) -> bool:
        if self._names is None:
            self._names = set()
            for node in self._nodes():
                segment = node.url.request_id if isinstance(node, ApiCall) and node.url is not None else None
                if segment is not None and len(segment.pieces) == 1 and segment.pieces[0].var:
                    self._names.add(segment.pieces[0].var)
        return name in self._names


def negate(value: bool | None) -> bool | None:
    """`!` / `not` of a three-valued truth (None: not known before run time)."""
    return None if value is None else not value


def either(left: bool | None, right: Callable[[], bool | None], stop: bool) -> bool | None:
    """`||` / `or` (``stop`` True) or `&&` / `and` (``stop`` False) of three-valued truths; the
    right side is asked only when the left one does not decide."""
    if left is stop:
        return stop
    value = right()
    if value is stop:
        return stop
    return (not stop) if left is (not stop) and value is (not stop) else None


@dataclass(frozen=True)
class CharSet:
    """``[...]`` in a pattern: the characters listed (or, ``negated``, all but those)."""

    chars: frozenset[str]
    negated: bool = False

    def accepts(self, char: str) -> bool:
        return (char in self.chars) != self.negated


class _Star:
    """``*``: any text (a sentinel, not the character, which a quoted `"*"` is)."""

    def __repr__(self) -> str:
        return "STAR"


ANY_CHAR = CharSet(frozenset(), negated=True)    # `?`
STAR = _Star()


def literal_pattern(text: str) -> list:
    """A pattern that matches exactly ``text``."""
    return list(text)


def substring_pattern(text: str, start: bool = False, end: bool = False) -> list:
    """``text`` anywhere in the value (``*text*``), or at its start or end."""
    return ([] if start else [STAR]) + list(text) + ([] if end else [STAR])


def glob_pattern(parts: list[tuple[str, bool]]) -> list | None:
    """A shell glob from its parts as written: (text, quoted). Quoted text is literal; in the
    rest `*`, `?`, `[...]` and backslash escapes have their meaning. None for what this reader
    does not follow (extglob `@(...)`, `!(...)`, character classes `[[:alpha:]]`)."""
    tokens: list = []
    for text, quoted in parts:
        if quoted:
            tokens.extend(text)
            continue
        i = 0
        while i < len(text):
            char = text[i]
            if char == "\\" and i + 1 < len(text):
                tokens.append(text[i + 1])
                i += 2
                continue
            if char in "@!+*?" and i + 1 < len(text) and text[i + 1] == "(":
                return None
            if char == "*":
                if not tokens or tokens[-1] is not STAR:
                    tokens.append(STAR)
            elif char == "?":
                tokens.append(ANY_CHAR)
            elif char == "[":
                end, charset = _bracket(text, i)
                if charset is None:
                    return None
                if end < 0:
                    tokens.append("[")   # no closing bracket: a literal [
                else:
                    tokens.append(charset)
                    i = end
            else:
                tokens.append(char)
            i += 1
    return tokens


def _bracket(text: str, at: int) -> tuple[int, CharSet | None]:
    """The ``[...]`` starting at ``at``: (index of its `]`, the set), (-1, a set) when it does not
    close, (_, None) for a POSIX class."""
    i = at + 1
    negated = i < len(text) and text[i] in "!^"
    if negated:
        i += 1
    chars: set[str] = set()
    first = True
    while i < len(text):
        char = text[i]
        if char == "]" and not first:
            return i, CharSet(frozenset(chars), negated)
        if char == "[" and i + 1 < len(text) and text[i + 1] in ":=.":
            return -1, None
        if i + 2 < len(text) and text[i + 1] == "-" and text[i + 2] != "]":
            chars.update(chr(c) for c in range(ord(char), ord(text[i + 2]) + 1))
            i += 3
        else:
            chars.add(char)
            i += 1
        first = False
    return -1, CharSet(frozenset())


def matches(readings: list[tuple[Piece, ...]], pattern: list | None,
            request_ids: Container[str] = frozenset()) -> bool | None:
    """Does the value match the pattern: True for every reading, False for none, else None.
    Pieces whose variable is in ``request_ids`` hold a request id."""
    if pattern is None or not readings or len(readings) >= MAX_ALTERNATIVES:
        return None
    if pattern and all(token is STAR for token in pattern):
        return True     # `*)`: whatever the value holds
    answers = set()
    for reading in readings:
        if all(p.is_literal for p in reading):
            answers.add(_possible([*"".join(p.text for p in reading)], pattern))
        elif not _possible(_tokens(reading, request_ids), pattern):
            answers.add(False)
        elif _always(reading, pattern):
            answers.add(True)
        else:
            return None     # some run-time values match, others may not
    return answers.pop() if len(answers) == 1 else None


@dataclass(frozen=True)
class _Unknown:
    """A piece unknown until run time: any text over its alphabet (None: any character)."""

    alphabet: frozenset[str] | None


def _tokens(reading: tuple[Piece, ...], request_ids) -> list:
    out: list = []
    for piece in reading:
        if piece.is_literal:
            out.extend(piece.text)
        else:
            out.append(_Unknown(REQUEST_ID_CHARS if piece.var in request_ids else None))
    return out


def _can_be(alphabet: frozenset[str] | None, token) -> bool:
    """Can a character of the alphabet match this one-character pattern token?"""
    if isinstance(token, CharSet):
        if alphabet is None:
            return token.negated or bool(token.chars)
        return any(token.accepts(c) for c in alphabet)
    return alphabet is None or token in alphabet


def _accepts(token, char: str) -> bool:
    return token.accepts(char) if isinstance(token, CharSet) else token == char


def _always(reading: tuple[Piece, ...], pattern: list) -> bool:
    """Does every run-time reading match? Enough (not needed): the pattern is literal text
    between `*`s, its first part starts the value's leading text (unless it starts with `*`),
    its last part ends the trailing text (unless it ends with `*`), and the parts between are
    found, in order, inside the literal text in between (the `*`s take the unknown pieces)."""
    if STAR not in pattern or any(not isinstance(t, str) for t in pattern if t is not STAR):
        return False
    segments, current = [], []
    for token in pattern:
        if token is STAR:
            segments.append("".join(current))
            current = []
        else:
            current.append(token)
    segments.append("".join(current))
    texts = [p.text if p.is_literal else None for p in reading]   # None: an unknown piece
    first = next(i for i, t in enumerate(texts) if t is None)
    last = max(i for i, t in enumerate(texts) if t is None)
    lead, trail = "".join(texts[:first]), "".join(texts[last + 1:])
    if not lead.startswith(segments[0]) or not trail.endswith(segments[-1]):
        return False
    # The literal runs between, in order: what the lead and trail did not use, and the pieces
    # between the unknown ones.
    runs = [lead[len(segments[0]):]]
    run = ""
    for text in texts[first + 1:last]:
        if text is None:
            runs.append(run)
            run = ""
        else:
            run += text
    runs.append(run)
    runs.append(trail[:len(trail) - len(segments[-1])])
    middle = iter(segments[1:-1])
    wanted = next(middle, None)
    for text in runs:
        at = 0
        while wanted is not None:
            found = text.find(wanted, at)
            if found < 0:
                break
            at = found + len(wanted)
            wanted = next(middle, None)
    return wanted is None


def _possible(value: list, pattern: list) -> bool:
    """Can some run-time reading of the value match the pattern? A search over (place in the
    value, place in the pattern): an unknown piece may produce any characters of its alphabet,
    one pattern token at a time, or nothing more."""
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    end = (len(value), len(pattern))
    while stack:
        state = stack.pop()
        if state == end:
            return True
        if state in seen:
            continue
        seen.add(state)
        i, j = state
        token = pattern[j] if j < len(pattern) else None
        item = value[i] if i < len(value) else None
        if token is STAR:
            stack.append((i, j + 1))
            if item is not None:
                stack.append((i + 1, j))
        if isinstance(item, _Unknown):
            stack.append((i + 1, j))
            if token is not None and token is not STAR and _can_be(item.alphabet, token):
                stack.append((i, j + 1))
        elif item is not None and token is not None and token is not STAR and _accepts(token, item):
            stack.append((i + 1, j + 1))
    return False
