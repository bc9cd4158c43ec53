"""Static values in a Python bootstrap: URLs built from constants, f-strings, `+`, `%`,
`.format` and `urljoin`, each name read in its scope (a function's locals are its own) and a
function's parameters bound to a call's arguments (a :class:`PyFrame`, made by
:mod:`callsites`)."""

from __future__ import annotations

import libcst as cst

from bootlint.frontends.python.index import Index, dotted, subscript_key
from bootlint.frontends.python.reaching import Reaching
from bootlint.model import Piece
from bootlint.util.records import dataclass

MAX_ALTERNATIVES = 16
URL_PARSERS = frozenset({"urlparse", "urlsplit"})
MAX_DEPTH = 6
MAX_CALL_DEPTH = 8


@dataclass(frozen=True, eq=False)
class PyFrame:
    """One call of a file's function: each parameter bound to (expression, the scope and frame
    the expression is read in); the outermost call site; the functions called, outermost first."""

    function: str
    bindings: dict
    site: object
    chain: tuple[str, ...]
    call: object = None    # the call of ``function`` this frame is (None: not known)


def frame_of(index: Index, function: str, call: cst.Call, caller: PyFrame | None, site,
         chain: tuple[str, ...]) -> PyFrame:
    """The frame of one call: positional arguments in order (a method's `self` skipped),
    keywords by name, the defaults for the rest."""
    scope = index.scope.get(id(call))
    params = index.params.get(function, [])
    positional = [p for p in params if p in index.function_defs[function].params.posonly_params
                  or p in index.function_defs[function].params.params]
    if positional and positional[0].name.value in ("self", "cls") and (
            isinstance(call.func, cst.Attribute) or function in index.class_names):
        positional = positional[1:]
    bindings: dict[str, tuple] = {}
    i = 0
    for arg in call.args:
        if arg.star:
            break
        if arg.keyword is None:
            if i < len(positional):
                bindings[positional[i].name.value] = (arg.value, scope, caller)
            i += 1
        else:
            bindings[arg.keyword.value] = (arg.value, scope, caller)
    for p in params:
        if p.name.value not in bindings and p.default is not None:
            bindings[p.name.value] = (p.default, None, None)
    return PyFrame(function, bindings, site, chain, call)


class Values:
    """Evaluation of expressions against the file's assignments: a name is read in its own
    scope, the function's parameters (bound by a frame), its locals, then the module."""

    def __init__(self, index: Index, span) -> None:
        self.index = index
        self.span = span
        self.scope = index.scope
        self.scoped = index.scoped
        self.assignments = index.assignments
        self._reaching: dict[str | None, Reaching | None] = {}

    def param_names(self, function: str | None) -> set[str]:
        return self.index.param_names(function)

    # -- literals ----------------------------------------------------------------------------
    def literal(self, node, frame: PyFrame | None = None) -> str | None:
        if node is None:
            return None
        alts = self.evaluate(node, 0, frame)
        if len(alts) == 1 and all(p.is_literal for p in alts[0]):
            return "".join(p.text for p in alts[0])
        return None

    def truthy_constant(self, node) -> bool:
        if isinstance(node, cst.Name) and node.value == "True":
            return True
        if isinstance(node, cst.Integer):
            return node.evaluated_value != 0
        if isinstance(node, cst.SimpleString):
            return bool(node.evaluated_value)
        return False

    def kwarg_false(self, call: cst.Call, name: str) -> bool:
        return any(a.keyword is not None and a.keyword.value == name and
                   isinstance(a.value, cst.Name) and a.value.value == "False" for a in call.args)

    def dict_keys(self, call: cst.Call) -> list[str]:
        keys = []
        for arg in call.args:
            if isinstance(arg.value, cst.Dict):
                for element in arg.value.elements:
                    if isinstance(element, cst.DictElement):
                        key = self.literal(element.key)
                        if key:
                            keys.append(key)
            elif arg.keyword is not None:
                keys.append(arg.keyword.value)
        return keys

    # -- evaluation --------------------------------------------------------------------------
    def evaluate(self, node, depth: int = 0, frame: PyFrame | None = None) -> list[tuple[Piece, ...]]:
        """Every way the expression can read, as pieces of literal text and run-time values;
        in ``frame``, the function's parameters are the call's arguments."""
        if depth > MAX_DEPTH + MAX_CALL_DEPTH:
            return [(Piece(var="...", span=self.span(node)),)]
        if isinstance(node, cst.SimpleString):
            try:
                text = node.evaluated_value
            except Exception:
                text = None
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            if isinstance(text, str):
                return [(Piece(text=text, span=self._inner(node, len(node.prefix) + len(node.quote))),)]
        if isinstance(node, cst.FormattedString):
            alts: list[tuple[Piece, ...]] = [()]
            for part in node.parts:
                if isinstance(part, cst.FormattedStringText):
                    # `{{` and `}}` in an f-string's text are one brace each.
                    text = part.value.replace("{{", "{").replace("}}", "}") if "{{" in part.value or "}}" in part.value \
                        else part.value
                    piece = [(Piece(text=text, span=self.span(part)),)]
                else:
                    piece = self.evaluate(part.expression, depth + 1, frame)
                alts = [a + p for a in alts for p in piece][:MAX_ALTERNATIVES]
            return alts
        if isinstance(node, cst.ConcatenatedString):
            return self._concat([node.left, node.right], depth, frame)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            return self._concat([node.left, node.right], depth, frame)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
            return self._percent(node, depth, frame)
        if isinstance(node, cst.IfExp):
            return (self.evaluate(node.body, depth + 1, frame) + self.evaluate(node.orelse, depth + 1, frame))[:MAX_ALTERNATIVES]
        if isinstance(node, cst.Name):
            return self._resolve(node, depth, frame)
        if isinstance(node, cst.Call):
            env = self._environ_get(node)
            if env is not None:
                return env
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
                return self._format(node, depth, frame)
            last = dotted(node.func).rsplit(".", 1)[-1]
            if last == "urljoin" and len(node.args) == 2:
                return self._urljoin(node, depth, frame)
            if last in URL_PARSERS and node.args and node.args[0].keyword is None:
                # What urlparse(url) returns reads as the URL; its `.path` is cut out below.
                return self.evaluate(node.args[0].value, depth + 1, frame)
        if isinstance(node, cst.Attribute) and node.attr.value == "path" and self._parses_url(node.value):
            return [_path_of(alt) for alt in self.evaluate(node.value, depth + 1, frame)]
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
            attribute = self._attribute(node, depth)
            if attribute is not None:
                return attribute
        if isinstance(node, cst.Subscript) and dotted(node.value) in ("os.environ", "environ") and node.slice:
            key = self.literal(subscript_key(node))
            return [(Piece(var=key or "os.environ[...]", span=self.span(node)),)]
        return [(Piece(var=_describe(node), span=self.span(node)),)]

    def _attribute(self, node: cst.Attribute, depth: int) -> list[tuple[Piece, ...]] | None:
        """What `self.name` may hold: the values the object's methods assign it (read where
        they are written); None when no method assigns it text."""
        alts: dict[tuple[Piece, ...], None] = {}
        for value in self.scoped.get((None, "self." + node.attr.value), ()):
            for alt in self.evaluate(value, depth + 1, None):
                alts.setdefault(alt, None)
        if not any(p.is_literal and p.text for a in alts for p in a):
            return None
        return list(alts)[:MAX_ALTERNATIVES]

    def _parses_url(self, node, hops: int = 0) -> bool:
        """Is the expression `urlparse(...)` (or `urlsplit`), or a name only ever bound to one?"""
        if isinstance(node, cst.Call):
            return dotted(node.func).rsplit(".", 1)[-1] in URL_PARSERS
        if isinstance(node, cst.Name) and hops < MAX_DEPTH:
            values = self.assignments.get(node.value, ())
            return bool(values) and all(self._parses_url(v, hops + 1) for v in values)
        return False

    def _inner(self, node, skip: int):
        span = self.span(node)
        if span.line == span.end_line:
            return type(span)(span.line, span.column + skip, span.end_line, span.end_column - len(node.quote))
        return span

    def _concat(self, parts, depth: int, frame: PyFrame | None = None) -> list[tuple[Piece, ...]]:
        alts: list[tuple[Piece, ...]] = [()]
        for part in parts:
            alts = [a + p for a in alts for p in self.evaluate(part, depth + 1, frame)][:MAX_ALTERNATIVES]
        return alts

    def _percent(self, node: cst.BinaryOperation, depth: int, frame: PyFrame | None = None) -> list[tuple[Piece, ...]]:
        fmt = self.literal(node.left, frame)
        if fmt is None:
            return [(Piece(var=_describe(node), span=self.span(node)),)]
        args = [e.value for e in node.right.elements] if isinstance(node.right, cst.Tuple) else [node.right]
        chunks = fmt.replace("%d", "%s").split("%s")
        return self._interleave(chunks, args, depth, frame)

    def _format(self, node: cst.Call, depth: int, frame: PyFrame | None = None) -> list[tuple[Piece, ...]]:
        fmt = self.literal(node.func.value, frame)
        positional = [a.value for a in node.args if a.keyword is None]
        named = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        if fmt is None:
            return self._format_template(node, positional, named, depth, frame)
        import re

        fields = re.split(r"\{([^{}]*)\}", fmt)
        chunks, args, auto = [], [], 0
        for i, piece in enumerate(fields):
            if i % 2 == 0:
                chunks.append(piece)
                continue
            key = piece.split(":")[0].split("!")[0]
            if key == "":
                args.append(positional[auto] if auto < len(positional) else None)
                auto += 1
            elif key.isdigit():
                args.append(positional[int(key)] if int(key) < len(positional) else None)
            else:
                args.append(named.get(key))
        return self._interleave(chunks, args, depth, frame)

    def _format_template(self, node: cst.Call, positional: list, named: dict, depth: int,
                         frame: PyFrame | None) -> list[tuple[Piece, ...]]:
        """`.format()` of a template that holds run-time parts (`(base + "/{}/response").format(rid)`
        with `base` from the environment): the fields of its text are filled, the rest kept."""
        import re

        out: list[tuple[Piece, ...]] = []
        for template in self.evaluate(node.func.value, depth + 1, frame):
            if not any(p.is_literal and p.text for p in template):
                continue   # nothing known of it
            alts: list[tuple[Piece, ...]] = [()]
            auto = 0
            for piece in template:
                if not piece.is_literal:
                    alts = [a + (piece,) for a in alts]
                    continue
                for i, part in enumerate(re.split(r"\{([^{}]*)\}", piece.text)):
                    if i % 2 == 0:
                        if part:
                            alts = [a + (Piece(text=part),) for a in alts]
                        continue
                    key = part.split(":")[0].split("!")[0]
                    if key == "":
                        arg = positional[auto] if auto < len(positional) else None
                        auto += 1
                    elif key.isdigit():
                        arg = positional[int(key)] if int(key) < len(positional) else None
                    else:
                        arg = named.get(key)
                    filled = self.evaluate(arg, depth + 1, frame) if arg is not None else [(Piece(var="?"),)]
                    alts = [a + f for a in alts for f in filled][:MAX_ALTERNATIVES]
            out.extend(alts)
        return out[:MAX_ALTERNATIVES] or [(Piece(var=_describe(node), span=self.span(node)),)]

    def _urljoin(self, node: cst.Call, depth: int, frame: PyFrame | None) -> list[tuple[Piece, ...]]:
        """urljoin(base, path)."""
        return join_urls(self.evaluate(node.args[0].value, depth + 1, frame),
                         self.evaluate(node.args[1].value, depth + 1, frame))

    def _interleave(self, chunks: list[str], args: list, depth: int, frame: PyFrame | None = None) -> list[tuple[Piece, ...]]:
        alts: list[tuple[Piece, ...]] = [()]
        for i, chunk in enumerate(chunks):
            if chunk:
                alts = [a + (Piece(text=chunk),) for a in alts]
            if i < len(chunks) - 1:
                arg = args[i] if i < len(args) else None
                part = self.evaluate(arg, depth + 1, frame) if arg is not None else [(Piece(var="?"),)]
                alts = [a + p for a in alts for p in part][:MAX_ALTERNATIVES]
        return alts

    def _environ_get(self, node: cst.Call) -> list[tuple[Piece, ...]] | None:
        name = dotted(node.func)
        if name not in ("os.environ.get", "os.getenv", "environ.get", "getenv") or not node.args:
            return None
        key = self.literal(node.args[0].value) or "?"
        default = self.literal(node.args[1].value) if len(node.args) > 1 else None
        return [(Piece(var=key, default=default, span=self.span(node)),)]

    def _resolve(self, node: cst.Name, depth: int, frame: PyFrame | None = None) -> list[tuple[Piece, ...]]:
        unknown = [(Piece(var=node.value, span=self.span(node)),)]
        values, frame = self.values_of(node, frame)
        if not values:
            return unknown
        alts: dict[tuple[Piece, ...], None] = {}
        for value, value_frame in values:
            for alt in self.evaluate(value, depth + 1, value_frame):
                alts.setdefault(alt, None)
        if not any(p.is_literal and p.text for a in alts for p in a):
            return unknown
        return list(alts)[:MAX_ALTERNATIVES]

    def values_of(self, node: cst.Name, frame: PyFrame | None = None) -> tuple[list, PyFrame | None]:
        """What a name may hold where it is read: [(expression, frame to read it in)]."""
        name = node.value
        scope = self.scope.get(id(node))
        if scope is not None:
            if frame is not None and frame.function == scope and name in frame.bindings:
                value, _, caller = frame.bindings[name]
                return [(value, caller)], frame
            if name in self.param_names(scope):
                return [], frame
            local = self.scoped.get((scope, name))
            if local:
                return [(v, frame if frame is not None and frame.function == scope else None)
                        for v in self.reaching(node, scope, local)], frame
        module = self.scoped.get((None, name), ())
        if scope is None and id(node) in self.scope:
            module = self.reaching(node, None, module)   # read at the top level, in order
        return [(v, None) for v in module], frame

    def written_at(self, node, frame: PyFrame | None):
        """Where a parameter's value is written: the argument a call gives it, followed out
        through the frames (the node itself when it is not a parameter bound there)."""
        for _ in range(MAX_CALL_DEPTH):
            if not (isinstance(node, cst.Name) and frame is not None and node.value in frame.bindings
                    and self.scope.get(id(node)) == frame.function):
                break
            node, _, frame = frame.bindings[node.value]
        return node

    def reaching(self, node: cst.Name, scope: str | None, assigned: list) -> list:
        """Of a scope's assignments of a name, those that reach this read of it (all of them
        when the read is not followed)."""
        if len(assigned) < 2:
            return assigned
        analysis = self._reaching.get(scope)
        if analysis is None:
            body = self.index.module.body if scope is None else (
                self.index.function_defs[scope].body if scope in self.index.function_defs else None)
            tracked = {name for (owner, name), values in self.scoped.items()
                       if owner == scope and len(values) > 1}
            analysis = self._reaching[scope] = Reaching(body, tracked) if body is not None else None
        found = analysis.values_at(node) if analysis is not None else None
        return list(found) if found else assigned



def join_urls(bases: list, paths: list, append: bool = False) -> list[tuple[Piece, ...]]:
    """How ``urljoin(base, path)`` reads, for each reading of both: an absolute path replaces the
    base's path, a relative one its last segment (a base ending in / keeps it all); a URL with a
    scheme replaces the base. ``append``: httpx's base_url, to whose path (with a / added) the
    path is appended whatever its first character."""
    out: list[tuple[Piece, ...]] = []
    for base in bases:
        text = "".join(p.text if p.is_literal else "\x00" for p in base)
        for path in paths:
            first = path[0].text if path and path[0].is_literal else ""
            if "://" in first:
                out.append(path)
            elif append:
                if first.startswith("/"):
                    path = (Piece(text=first.lstrip("/"), span=path[0].span),) + path[1:]
                glue = () if text.endswith("/") else (Piece(text="/"),)
                out.append(base + glue + path)
            elif first.startswith("/") and "://" in text:
                # Keep scheme and host: the pieces up to the first / after ://.
                kept, seen = [], text.index("://") + 3
                cut = text.find("/", seen)
                count = 0
                for piece in base:
                    size = len(piece.text) if piece.is_literal else 1
                    if cut >= 0 and count + size > cut:
                        if piece.is_literal:
                            kept.append(Piece(text=piece.text[:cut - count], span=piece.span))
                        break
                    kept.append(piece)
                    count += size
                out.append(tuple(kept) + path)
            else:
                out.append(base + path)
    return out[:MAX_ALTERNATIVES]


def _path_of(alt: tuple[Piece, ...]) -> tuple[Piece, ...]:
    """The path of a URL that reads ``alt``: what follows the host after ``scheme://`` (a URL
    whose host is not followed by a literal ``/`` is kept whole)."""
    text = "".join(p.text if p.is_literal else "\x00" for p in alt)
    start = text.find("://")
    cut = text.find("/", start + 3) if start >= 0 else -1
    if cut < 0:
        return alt
    kept, count = [], 0
    for piece in alt:
        size = len(piece.text) if piece.is_literal else 1
        if count + size > cut:
            if count < cut:   # the piece holding the cut: keep its path part
                piece = Piece(text=piece.text[cut - count:], span=piece.span)
            kept.append(piece)
        count += size
    return tuple(kept)



def _describe(node) -> str:
    """A short name for a value known only at run time (no code generation: it is slow)."""
    return dotted(node) or type(node).__name__

