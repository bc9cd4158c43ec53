"""Fixes for Python bootstraps, made with libcst: nodes are found by the spans the findings
carry, rewritten as libcst nodes and printed back (formatting and comments kept), then handed
over as text edits. Loaded only when a Python finding asks for a fix.
"""

from __future__ import annotations

from functools import cached_property

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from bootlint.fixkit import FixBuilders, Indent
from bootlint.model import Applicability, Edit, Fix, Span
from bootlint.source import SourceFile

SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE


def _quote_other(string_node) -> str:
    """A quote character that can sit inside the string's own quotes (Python < 3.12 f-strings
    may not reuse them)."""
    quote = getattr(string_node, "quote", '"')
    return "'" if quote.startswith('"') and len(quote) == 1 else '"'


class PythonFixes(FixBuilders):
    """Fix builders for one Python source (parsed again with libcst, once, when a fix is asked)."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src

    @cached_property
    def _parsed(self):
        module = cst.parse_module(self.src.text)
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        return module, wrapper.resolve(PositionProvider)

    @property
    def module(self) -> cst.Module:
        return self._parsed[0]

    @property
    def positions(self):
        return self._parsed[1]

    @cached_property
    def indent(self) -> Indent:
        return Indent.of(self.src.text, default="    ")

    def span(self, node) -> Span:
        rng = self.positions[node]
        return Span(rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1)

    def code(self, node) -> str:
        return self.module.code_for_node(node)

    def find(self, span: Span, kinds: tuple, exact: bool = False):
        """The smallest node of one of ``kinds`` whose span is (or contains) ``span``."""
        best, best_size = None, None
        key = (span.line, span.column), (span.end_line, span.end_column)
        for node, rng in self.positions.items():
            if not isinstance(node, kinds):
                continue
            start, end = (rng.start.line, rng.start.column + 1), (rng.end.line, rng.end.column + 1)
            if exact and (start, end) != key:
                continue
            if start <= key[0] and key[1] <= end:
                size = (end[0] - start[0], end[1] - start[1])
                if best is None or size < best_size:
                    best, best_size = node, size
        return best

    def parent_of(self, child):
        for node in self.positions:
            for field_value in _children(node):
                if field_value is child:
                    return node
        return None

    def imports(self, name: str) -> list[Edit]:
        """An `import name` where the module lacks one (nothing when it has it)."""
        for stmt in self.module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Import) and any(
                            isinstance(a.name, cst.Name) and a.name.value == name and a.asname is None
                            for a in small.names):
                        return []
        anchor = None
        for stmt in self.module.body:
            if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], (cst.Import, cst.ImportFrom)):
                small = stmt.body[0]
                if isinstance(small, cst.ImportFrom) and isinstance(small.module, cst.Name) \
                        and small.module.value == "__future__":
                    continue
                anchor = stmt
                break
        if anchor is None:
            body = self.module.body
            docstring = body and isinstance(body[0], cst.SimpleStatementLine) and isinstance(
                body[0].body[0], cst.Expr) and isinstance(body[0].body[0].value, cst.SimpleString)
            if body and not docstring:
                anchor = body[0]
            elif len(body) > 1:
                anchor = body[1]
        if anchor is None:
            line = len(self.src.text.split("\n"))
            return [Edit(Span(line, 1, line, 1), f"\nimport {name}\n")]
        line = self.span(anchor).line
        return [Edit(Span(line, 1, line, 1), f"import {name}\n")]

    # -- safe ------------------------------------------------------------------------------------
    def runtime_api_host(self, span: Span) -> Fix | None:
        """BL004: the written-out host becomes `os.environ["AWS_LAMBDA_RUNTIME_API"]`: the whole
        string when it is only the host, a `{...}` field of an f-string otherwise."""
        node = self.find(span, (cst.SimpleString, cst.FormattedStringText))
        if node is None:
            return None
        title = "take the host from AWS_LAMBDA_RUNTIME_API"
        whole = self.span(node)
        if isinstance(node, cst.FormattedStringText):
            string = self.parent_of(node)
            q = _quote_other(string)
            field = f"{{os.environ[{q}AWS_LAMBDA_RUNTIME_API{q}]}}"
            return Fix(title, (Edit(span, field), *self.imports("os")), SAFE)
        prefix = node.prefix.lower()
        if "b" in prefix or whole.line != whole.end_line:
            return None
        inner = Span(whole.line, whole.column + len(node.prefix) + len(node.quote), whole.end_line,
                     whole.end_column - len(node.quote))
        if (span.column, span.end_column) == (inner.column, inner.end_column) or span == whole:
            return Fix(title, (Edit(whole, 'os.environ["AWS_LAMBDA_RUNTIME_API"]'), *self.imports("os")), SAFE)
        # Part of a plain string: make it an f-string with the variable as a field.
        text = node.value
        start = span.column - whole.column
        end = span.end_column - whole.column
        q = _quote_other(node)
        body = text[len(node.prefix) + len(node.quote):len(text) - len(node.quote)]
        head = body[:start - len(node.prefix) - len(node.quote)]
        tail = body[end - len(node.prefix) - len(node.quote):]

        def braces(s: str) -> str:
            return s.replace("{", "{{").replace("}", "}}")

        new = (f"f{node.prefix.replace('u', '').replace('U', '')}{node.quote}{braces(head)}"
               f"{{os.environ[{q}AWS_LAMBDA_RUNTIME_API{q}]}}{braces(tail)}{node.quote}")
        return Fix(title, (Edit(whole, new), *self.imports("os")), SAFE)

    def drop_timeout(self, span: Span) -> Fix | None:
        """BL006: remove the `timeout=` argument of the `next` request (or of its connection)."""
        arg = self.find(span, (cst.Arg,), exact=True)
        if arg is None or arg.keyword is None or arg.keyword.value != "timeout":
            return None
        call = self.parent_of(arg)
        if not isinstance(call, cst.Call):
            return None
        args = [a for a in call.args if a is not arg]
        if args and call.args[-1] is arg:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        new = call.with_changes(args=args)
        return Fix("remove the timeout on the long-poll `next`", (Edit(self.span(call), self.code(new)),), SAFE)


def _children(node) -> list:
    """A node's direct children, read from its fields (libcst's .children re-runs a visitor)."""
    out = []
    for name in getattr(node, "__dataclass_fields__", ()):
        value = getattr(node, name, None)
        if isinstance(value, cst.CSTNode):
            out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(v for v in value if isinstance(v, cst.CSTNode))
    return out


def builders(src: SourceFile) -> PythonFixes:
    """The front end's entry point (bootlint.frontends.FrontEnd.fixes)."""
    return PythonFixes(src)
