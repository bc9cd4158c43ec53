"""Fixes for Python bootstraps, made with libcst: nodes are found by the spans the findings
carry, rewritten as libcst nodes and printed back (formatting and comments kept), then handed
over as text edits. Loaded only when a Python finding asks for a fix. :data:`IMPLEMENTATIONS`
says which fix requests (bootlint.fixes.requests) this front end carries out, and with which
builder; titles and applicability belong to the request types.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property

import libcst as cst

from bootlint.fixes import requests as want
from bootlint.fixes.kit import Indent, trace_id_from_any
from bootlint.fixes.requests import Rewrite
from bootlint.diagnostics import Edit, Span
from bootlint.frontends.python.clients import CALLS, HTTP_VERBS, LIBRARIES
from bootlint.frontends.python.handlers import catches_all
from bootlint.frontends.python.index import kids, walk
from bootlint.frontends.python.syntax import PythonParse, positions_of
from bootlint.files.source import SourceFile
from bootlint.fixes.textmap import minimal_change


def _quote_other(string_node) -> str:
    """A quote character that can sit inside the string's own quotes (Python < 3.12 f-strings
    may not reuse them)."""
    quote = getattr(string_node, "quote", '"')
    return "'" if quote.startswith('"') and len(quote) == 1 else '"'


class PythonFixes:
    """Fix builders for one Python source, on what the lowering parsed (parsed again with
    libcst, once, when a fix is asked of a source that was not lowered here)."""

    def __init__(self, src: SourceFile, parsed: PythonParse | None = None) -> None:
        self.src = src
        self.given = parsed

    @cached_property
    def _parsed(self) -> PythonParse:
        if self.given is not None:
            return self.given
        module = cst.parse_module(self.src.text)
        return PythonParse(module, positions_of(module))

    @property
    def module(self) -> cst.Module:
        return self._parsed.module

    @property
    def positions(self):
        return self._parsed.positions

    @cached_property
    def function_names(self) -> set[str]:
        """The names of the file's functions (and methods)."""
        return {n.name.value for n in self.positions if isinstance(n, cst.FunctionDef)}

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
            for field_value in kids(node):
                if field_value is child:
                    return node
        return None

    def has_import(self, name: str) -> bool:
        """Does the module `import name` at its top level?"""
        for stmt in self.module.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Import) and any(
                            isinstance(a.name, cst.Name) and a.name.value == name and a.asname is None
                            for a in small.names):
                        return True
        return False

    def _import_index(self) -> int:
        """Where a new import goes in the module's body: before its first import, after a
        docstring and `from __future__` imports."""
        at = 0
        for i, stmt in enumerate(self.module.body):
            small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
            if isinstance(small, cst.ImportFrom) and isinstance(small.module, cst.Name) \
                    and small.module.value == "__future__":
                at = i + 1
            elif isinstance(small, (cst.Import, cst.ImportFrom)):
                return i
            elif i == 0 and isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString):
                at = 1
        return at

    def imports(self, name: str) -> list[Edit]:
        """An edit adding `import name` where the module lacks one (nothing when it has it)."""
        if self.has_import(name):
            return []
        body = self.module.body
        at = self._import_index()
        if at >= len(body):
            line = len(self.src.text.split("\n"))
            return [Edit(Span(line, 1, line, 1), f"\nimport {name}\n")]
        stmt = body[at]
        # Above the statement's own comment lines, which belong to it.
        line = self.span(stmt).line - len(getattr(stmt, "leading_lines", ()))
        return [Edit(Span(line, 1, line, 1), f"import {name}\n")]

    # -- safe ------------------------------------------------------------------------------------
    def runtime_api_host(self, span: Span) -> Rewrite | None:
        """BL004: the written-out host becomes `os.environ["AWS_LAMBDA_RUNTIME_API"]`: the whole
        string when it is only the host, a `{...}` field of an f-string otherwise."""
        node = self.find(span, (cst.SimpleString, cst.FormattedStringText))
        if node is None:
            return None
        whole = self.span(node)
        if isinstance(node, cst.FormattedStringText):
            string = self.parent_of(node)
            q = _quote_other(string)
            field = f"{{os.environ[{q}AWS_LAMBDA_RUNTIME_API{q}]}}"
            return Rewrite((Edit(span, field), *self.imports("os")))
        prefix = node.prefix.lower()
        if "b" in prefix or whole.line != whole.end_line:
            return None
        inner = Span(whole.line, whole.column + len(node.prefix) + len(node.quote), whole.end_line,
                     whole.end_column - len(node.quote))
        if (span.column, span.end_column) == (inner.column, inner.end_column) or span == whole:
            return Rewrite((Edit(whole, 'os.environ["AWS_LAMBDA_RUNTIME_API"]'), *self.imports("os")))
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
        return Rewrite((Edit(whole, new), *self.imports("os")))

    def drop_timeout(self, span: Span) -> Rewrite | None:
        """BL006: remove the `timeout=` argument of the `next` request (or of its connection)."""
        arg = self.find(span, (cst.Arg,), exact=True)
        if arg is None:
            return self._no_timeout(span)
        if arg.keyword is None or arg.keyword.value != "timeout":
            return None
        call = self.parent_of(arg)
        if not isinstance(call, cst.Call):
            return None
        args = [a for a in call.args if a is not arg]
        if args and call.args[-1] is arg:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        new = call.with_changes(args=args)
        return Rewrite((Edit(self.span(call), self.code(new)),))

    def _no_timeout(self, span: Span) -> Rewrite | None:
        """BL006 where removing an argument would leave a library's own default timeout (httpx,
        aiohttp): the library's spelling of "no timeout" instead (`timeout=None`; aiohttp's
        session takes None for its default, `aiohttp.ClientTimeout(total=None)` lifts it: the
        clients' table says which), on the value of a `timeout=` argument, or added to the call
        whose default it is (a client made without one, or with `timeout=None` where that is the
        default; `httpx.get(...)`). On a client, the other requests made through it lose their
        timeout too: unsafe there."""
        calls = [node for node in self.positions if isinstance(node, cst.Call)]
        for node in calls:
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "timeout" and self.span(arg.value) == span:
                    unlimited, imports = self._unlimited(node)
                    return self._timeout_rewrite(node, Edit(span, self.code(unlimited)), imports)
        for node in calls:
            library = _client_library(node)
            last = node.func.attr.value if isinstance(node.func, cst.Attribute) else ""
            # A client made without a timeout (at the call), or a module's request function
            # (at its name: `httpx.get`): what carries the library's default.
            if (self.span(node) == span and library is not None) or (
                    self.span(node.func) == span and last in CALLS and not CALLS[last].builds):
                if any(a.star for a in node.args):
                    return None
                unlimited, imports = self._unlimited(node)
                given = [a for a in node.args if a.keyword is not None and a.keyword.value == "timeout"]
                if given:
                    # `ClientSession(timeout=None)`: None is the library's default there.
                    if not (library is not None and library.none_on_client and _is_none(given[0].value)):
                        return None
                    return self._timeout_rewrite(node, Edit(self.span(given[0].value), self.code(unlimited)), imports)
                args = list(node.args)
                if args:
                    args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                args.append(cst.Arg(keyword=cst.Name("timeout"), value=unlimited,
                                    equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                          whitespace_after=cst.SimpleWhitespace(""))))
                return self._timeout_rewrite(node, Edit(self.span(node), self.code(node.with_changes(args=args))), imports)
        return None

    def _unlimited(self, call: cst.Call) -> tuple[cst.BaseExpression, list[Edit]]:
        """The expression that lifts the timeout of a call (None, unless the call makes a client
        of a library that spells it otherwise), and the import it needs: the library's module as
        the constructor is written (`aiohttp.ClientSession`, `ah.ClientSession`), else `import
        aiohttp` added."""
        library = _client_library(call)
        if library is None or library.unlimited == "None":
            return cst.Name("None"), []
        if isinstance(call.func, cst.Attribute):
            return cst.parse_expression(library.unlimited.format(module=self.code(call.func.value))), []
        return cst.parse_expression(library.unlimited.format(module=library.module)), self.imports(library.module)

    def _timeout_rewrite(self, call: cst.Call, edit: Edit, imports: list[Edit] = ()) -> Rewrite:
        """The edit of ``call``: unsafe on a client's constructor (every request made through
        the client changes)."""
        client = _client_library(call) is not None
        return Rewrite((edit, *imports), applicability=want.UNSAFE if client else None)

    # -- rewriting whole statements ----------------------------------------------------------------
    @cached_property
    def parents(self) -> dict:
        out, stack = {}, [self.module]
        while stack:
            node = stack.pop()
            for child in kids(node):
                out[id(child)] = node
                stack.append(child)
        return out

    def statement_of(self, span: Span):
        """The statement (a line of small statements, or a compound one) that holds a span."""
        return self.find(span, (cst.SimpleStatementLine, cst.BaseCompoundStatement))

    def block_of(self, stmt):
        parent = self.parents.get(id(stmt))
        return parent if isinstance(parent, (cst.Module, cst.IndentedBlock)) else None

    def around(self, stmt, kinds):
        """The nearest ancestor of one of ``kinds`` (None when there is none)."""
        cur = self.parents.get(id(stmt))
        while cur is not None and not isinstance(cur, kinds):
            cur = self.parents.get(id(cur))
        return cur

    def with_import(self, module: cst.Module, name: str) -> cst.Module:
        """The (rewritten) module with `import name` added where :meth:`imports` puts it."""
        if self.has_import(name):
            return module
        body = list(module.body)
        at = self._import_index()
        new = cst.SimpleStatementLine([cst.Import([cst.ImportAlias(cst.Name(name))])])
        if at < len(body):
            # Comments above the statement it goes before stay above the import.
            new = new.with_changes(leading_lines=body[at].leading_lines)
            body[at] = body[at].with_changes(leading_lines=())
        body.insert(at, new)
        return module.with_changes(body=body)

    def rewrite(self, module: cst.Module, **detail: str) -> Rewrite | None:
        """One edit: the smallest stretch of text where the rewritten module differs."""
        old, new = self.src.text, module.code
        if old == new:
            return None
        start, end, text = minimal_change(old, new)
        return Rewrite((Edit(self.src.textmap.char_span(start, end), text),), detail=detail)

    def replace_statements(self, block, first: int, last: int, new: list) -> cst.Module:
        body = list(block.body)
        body[first:last + 1] = new
        if isinstance(block, cst.Module):
            return self.module.with_changes(body=body)
        return self.module.deep_replace(block, block.with_changes(body=body))

    # -- unsafe ------------------------------------------------------------------------------------
    def event_loop(self, first: Span, last: Span) -> Rewrite | None:
        """BL001: `while True:` around the statements from the one that requests `next` through
        the last that posts the response, indented in the file's style."""
        one, two = self.statement_of(first), self.statement_of(last)
        if one is None or two is None:
            return None
        block = self.block_of(one)
        while two is not None and self.block_of(two) is not block:
            two = self.parents.get(id(two))
        if block is None or two is None:
            return None
        body = list(block.body)
        i, j = body.index(one), body.index(two)
        if j < i:
            return None
        stmts = [body[i].with_changes(leading_lines=()), *body[i + 1:j + 1]]
        loop = cst.While(test=cst.Name("True"), body=cst.IndentedBlock(body=stmts, indent=self.indent.unit),
                         leading_lines=body[i].leading_lines)
        return self.rewrite(self.replace_statements(block, i, j, [loop]))

    def own_error_post(self, handler: Span, error: Span | None, exc: str) -> list | None:
        """The file's own post of a failure (`send_error(rid, e)` in another `except` of the same
        function), copied with its exception's name made ``exc``; None when there is none to copy."""
        if error is None:
            return None
        here = self.around(self.statement_of(handler), (cst.FunctionDef,))
        posting = self.statement_of(error)
        owner = self.around(posting, (cst.FunctionDef,))
        if owner is here:
            # Made by a helper called here with the URL as an argument (`post(f".../{rid}/error", doc)`).
            smalls = [self.find(error, (cst.BaseSmallStatement,))]
            if not (isinstance(smalls[0], cst.Expr) and isinstance(smalls[0].value, cst.Call)
                    and _callee(smalls[0].value) in self.function_names):
                return None
        else:
            # The post is in a helper: its calls in the handler's function.
            smalls = [self.find(self.span(call), (cst.BaseSmallStatement,)) for call in self.positions
                      if isinstance(call, cst.Call) and owner is not None and _callee(call) == owner.name.value
                      and self.around(call, (cst.FunctionDef,)) is here]
        for small in smalls:
            found = self._copy_failure_post(small, handler, exc)
            if found is not None:
                return found
        return None

    def _copy_failure_post(self, small, handler: Span, exc: str) -> list | None:
        stmt = self.parents.get(id(small))
        if small is None or not isinstance(stmt, cst.SimpleStatementLine) or self._holds(small, handler):
            return None
        catching = self.around(stmt, (cst.ExceptHandler, cst.FunctionDef))
        if not isinstance(catching, cst.ExceptHandler) or catching.name is None or \
                not isinstance(catching.name.name, cst.Name):
            return None
        name = catching.name.name.value
        used = {n.value for n in walk(small) if isinstance(n, cst.Name)}
        if name not in used:
            return None   # it posts something of its own, not the exception
        made_there = {n.value for node in walk(catching.body) if isinstance(node, cst.Assign)
                      for t in node.targets for n in walk(t.target) if isinstance(n, cst.Name)}
        if used & made_there:
            return None   # it posts what that `except` built (`doc = {...}`): not there in ours
        return [cst.SimpleStatementLine([_alone(small).visit(_Rename(name, exc))])]

    def error_post(self, handler: Span, response: Span, sent: Span | None, exc: str = "exc",
                   error: Span | None = None) -> list | None:
        """The statements that post a failure the way the file posts the response: the request
        and its send (from the statement that builds the /response request through the one that
        sends it, when they are apart: `req = Request(...)` then `urlopen(req).read()`), each
        copied with /response -> /error and the body -> the error JSON of ``exc``; None when
        that cannot be done plainly. The file's own post of a failure comes first, when it has
        one in the same function (:meth:`own_error_post`)."""
        own = self.own_error_post(handler, error, exc)
        if own is not None:
            return own
        stmt = self.statement_of(handler)
        post = self.statement_of(response)
        send = self.statement_of(sent) if sent is not None else post
        if not isinstance(post, cst.SimpleStatementLine) or not isinstance(send, cst.SimpleStatementLine):
            return None
        if self.around(stmt, (cst.FunctionDef,)) is not self.around(post, (cst.FunctionDef,)):
            return None
        error = _ErrorPost(exc)
        if send is post:
            # Only the small statement that posts is copied: on `out = handler(ev); post(out)` the
            # whole line would put a second handler call in the `except`.
            # Through the one that completes the exchange when it follows on the same line
            # (`conn.request(...); conn.getresponse().read()`).
            posting = self.find(response, (cst.BaseSmallStatement,))
            ending = self.find(sent, (cst.BaseSmallStatement,)) if sent is not None else posting
            if posting is None or posting not in post.body:
                return None
            first = list(post.body).index(posting)
            last = list(post.body).index(ending) if ending in post.body else first
            smalls = list(post.body)[first:max(first, last) + 1]
            if any(self._holds(small, handler) for small in smalls):
                return None
            copied = [cst.SimpleStatementLine([_alone(small).visit(error)]) for small in smalls]
        else:
            block = self.block_of(post)
            if block is None or self.block_of(send) is not block:
                return None
            body = list(block.body)
            first, last = body.index(post), body.index(send)
            if last < first or stmt in body[first:last + 1] or any(
                    self._holds(s, handler) for s in body[first:last + 1]):
                return None
            copied = [s.with_changes(leading_lines=()).visit(error) for s in body[first:last + 1]]
        if not (error.url and error.body):
            return None
        return copied

    def _holds(self, node, span: Span) -> bool:
        where = self.span(node)
        return (where.line, where.column) <= (span.line, span.column) and \
            (span.end_line, span.end_column) <= (where.end_line, where.end_column)

    def guard_handler(self, handler: Span, response: Span | None, sent: Span | None = None,
                      error: Span | None = None) -> Rewrite | None:
        """BL101, BL102: `try:` around the handler's statement, `except Exception as exc:` that
        posts the error the way the file posts the response (the whole request and its send),
        then `continue` (`return` in a function the loop calls)."""
        if response is None:
            return None
        stmt = self.statement_of(handler)
        if not isinstance(stmt, cst.SimpleStatementLine):
            return None
        scope = self.around(stmt, (cst.While, cst.For, cst.FunctionDef))
        if scope is None:
            return None
        leave = cst.Continue() if isinstance(scope, (cst.While, cst.For)) else cst.Return()
        # Only the small statement that calls the handler is guarded.
        call = self.find(handler, (cst.BaseSmallStatement,))
        if call is None or call not in stmt.body:
            return None
        posting = self.find(response, (cst.BaseSmallStatement,))
        if posting is call:
            return None   # the handler runs inside the post: no statement of its own to guard
        report = self.error_post(handler, response, sent, "exc", error)
        block = self.block_of(stmt)
        if report is None or block is None:
            return None
        k = list(stmt.body).index(call)
        before, after = stmt.body[:k], stmt.body[k + 1:]
        guard = cst.Try(
            body=cst.IndentedBlock(body=[cst.SimpleStatementLine([_alone(call)])], indent=self.indent.unit),
            handlers=[cst.ExceptHandler(
                body=cst.IndentedBlock(body=[*report, cst.SimpleStatementLine([leave])], indent=self.indent.unit),
                type=cst.Name("Exception"), name=cst.AsName(name=cst.Name("exc")))],
            leading_lines=() if before else stmt.leading_lines)
        new = [guard]
        if before:
            new.insert(0, stmt.with_changes(body=[*before[:-1], _alone(before[-1])],
                                            trailing_whitespace=cst.TrailingWhitespace()))
        if after:
            new.append(cst.SimpleStatementLine([*after[:-1], _alone(after[-1])],
                                               trailing_whitespace=stmt.trailing_whitespace))
        elif len(stmt.body) == 1:
            new[-1] = guard.with_changes(body=guard.body.with_changes(
                body=[stmt.with_changes(leading_lines=())]))
        i = list(block.body).index(stmt)
        module = self.with_import(self.replace_statements(block, i, i, new), "json")
        return self.rewrite(module)

    def post_caught_failure(self, handler: Span, response: Span, sent: Span | None = None,
                            error: Span | None = None) -> Rewrite | None:
        """BL102: the `except` that catches the handler's failure posts it first, the way the file
        posts the response (the whole request and its send); an `except` without a name gets
        one."""
        stmt = self.statement_of(handler)
        node = stmt
        while node is not None:
            parent = self.parents.get(id(node))
            if isinstance(parent, cst.Try) and node is parent.body:
                break
            node = parent
        if node is None or not isinstance(parent, cst.Try):
            return None
        catching = [h for h in parent.handlers if catches_all(h)]
        if not catching:
            return None
        handler_node = catching[0]
        exc = handler_node.name.name.value if handler_node.name is not None and \
            isinstance(handler_node.name.name, cst.Name) else "exc"
        report = self.error_post(handler, response, sent, exc, error)
        if report is None:
            return None
        body = handler_node.body
        if not isinstance(body, cst.IndentedBlock):
            return None
        first = body.body[0] if body.body else None
        new_body = [*report, *([first.with_changes(leading_lines=())] if first is not None else []), *body.body[1:]]
        if first is not None and first.leading_lines:
            new_body[0] = new_body[0].with_changes(leading_lines=first.leading_lines)
        # An `except` that falls through to the code after the `try` would go on to post a
        # /response for the invocation it has just failed (refused by the API, an HTTPError for
        # urllib): it leaves for the next event instead, which changes where the code goes.
        applicability = None
        if not _leaves(body.body[-1] if body.body else None):
            scope = self.around(parent, (cst.While, cst.For, cst.FunctionDef))
            if scope is None:
                return None
            new_body.append(cst.SimpleStatementLine(
                [cst.Continue() if isinstance(scope, (cst.While, cst.For)) else cst.Return()]))
            applicability = want.UNSAFE
        changed = handler_node.with_changes(body=body.with_changes(body=new_body))
        if handler_node.name is None:
            changed = changed.with_changes(name=cst.AsName(name=cst.Name(exc)),
                                           type=handler_node.type or cst.Name("Exception"))
        new_try = parent.with_changes(handlers=[changed if h is handler_node else h for h in parent.handlers])
        module = self.module.deep_replace(parent, new_try)
        done = self.rewrite(self.with_import(module, "json"))
        if done is not None and applicability is not None:
            done = replace(done, applicability=applicability)
        return done

    def export_trace_id(self, request_id: str, near: Span) -> Rewrite | None:
        """BL201: after `rid = <headers>[...Request-Id...]`, `os.environ["_X_AMZN_TRACE_ID"] =`
        the same lookup of Lambda-Runtime-Trace-Id (with "" when the header is absent)."""
        for node in self.positions:
            if not isinstance(node, cst.SimpleStatementLine) or len(node.body) != 1:
                continue
            assign = node.body[0]
            if not isinstance(assign, cst.Assign) or len(assign.targets) != 1:
                continue
            target = assign.targets[0].target
            if not isinstance(target, cst.Name) or target.value != request_id:
                continue
            value = _trace_lookup(assign.value)
            block = self.block_of(node)
            if value is None or block is None:
                continue
            setter = cst.parse_statement(f'os.environ["_X_AMZN_TRACE_ID"] = {self.module.code_for_node(value)}\n')
            i = list(block.body).index(node)
            module = self.with_import(self.replace_statements(block, i, i, [node, setter]), "os")
            return self.rewrite(module, verb="set")
        return None

    def exit_after(self, span: Span) -> Rewrite | None:
        """BL104: `sys.exit(1)` right after the post to /runtime/init/error."""
        stmt = self.statement_of(span)
        block = self.block_of(stmt) if stmt is not None else None
        if not isinstance(stmt, cst.SimpleStatementLine) or block is None:
            return None
        i = list(block.body).index(stmt)
        module = self.with_import(self.replace_statements(
            block, i, i, [stmt, cst.parse_statement("sys.exit(1)\n")]), "sys")
        return self.rewrite(module)


ERROR_JSON = '{{"errorMessage": str({exc}), "errorType": type({exc}).__name__, "stackTrace": []}}'
ERROR_BODY = "json.dumps(" + ERROR_JSON + ").encode()"
BODY_KEYWORDS = {"data", "body", "json", "content"}


class _ErrorPost(cst.CSTTransformer):
    """The response post turned into the error post: `/response` -> `/error` in the URL's text,
    the body -> the documented error JSON of the exception held in ``exc``. Where a call takes
    its body by position comes from the clients' table."""

    def __init__(self, exc: str = "exc") -> None:
        self.exc = exc
        self.url = False
        self.body = False

    def _swap(self, text: str) -> str:
        at = text.rfind("response")
        if at < 0:
            return text
        self.url = True
        return text[:at] + "error" + text[at + len("response"):]

    def leave_SimpleString(self, original, updated):
        return updated.with_changes(value=self._swap(updated.value))

    def leave_FormattedStringText(self, original, updated):
        return updated.with_changes(value=self._swap(updated.value))

    def leave_Arg(self, original, updated):
        if updated.keyword is not None and updated.keyword.value in BODY_KEYWORDS:
            self.body = True
            value = ERROR_JSON if updated.keyword.value == "json" else ERROR_BODY
            return updated.with_changes(value=cst.parse_expression(value.format(exc=self.exc)))
        return updated

    def leave_Call(self, original, updated):
        name = updated.func.attr.value if isinstance(updated.func, cst.Attribute) else (
            updated.func.value if isinstance(updated.func, cst.Name) else "")
        # A body given by position: conn.request(method, url, body), requests.post(url, data),
        # urlopen(url, data), Request(url, data), requests.Request(method, url, data).
        shape = CALLS.get(name)
        args = list(updated.args)
        if shape is None or shape.body_arg is None or any(
                a.keyword is not None and a.keyword.value in BODY_KEYWORDS for a in args):
            return updated
        index = shape.body_arg
        if shape.method_first_if_verb and args and isinstance(args[0].value, cst.SimpleString) and \
                isinstance(args[0].value.evaluated_value, str) and args[0].value.evaluated_value.upper() in HTTP_VERBS:
            index += 1
        if len(args) > index and args[index].keyword is None and args[index].star == "":
            self.body = True
            args[index] = args[index].with_changes(value=cst.parse_expression(ERROR_BODY.format(exc=self.exc)))
            return updated.with_changes(args=args)
        return updated


EXITS = frozenset({"sys.exit", "os._exit", "exit", "quit", "os.abort"})


def _leaves(stmt) -> bool:
    """Does a statement end its path (`continue`, `break`, `return`, `raise`, `sys.exit(...)`)?"""
    if not isinstance(stmt, cst.SimpleStatementLine) or not stmt.body:
        return False
    last = stmt.body[-1]
    if isinstance(last, (cst.Continue, cst.Break, cst.Return, cst.Raise)):
        return True
    if isinstance(last, cst.Expr) and isinstance(last.value, cst.Call):
        func = last.value.func
        name = func.value if isinstance(func, cst.Name) else (
            f"{func.value.value}.{func.attr.value}" if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) else "")
        return name in EXITS
    return False


def _is_none(node) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _client_library(call: cst.Call):
    """The library whose client constructor a call names (by its last name), if any."""
    last = call.func.attr.value if isinstance(call.func, cst.Attribute) else (
        call.func.value if isinstance(call.func, cst.Name) else "")
    return next((library for library in LIBRARIES if last in library.clients), None)


def _callee(call: cst.Call) -> str:
    """`f` of `f(...)` and of `self.f(...)`."""
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"):
        return func.attr.value
    return ""


class _Rename(cst.CSTTransformer):
    """Every Name ``old`` made ``new`` (the exception's name in a copied statement)."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def leave_Name(self, original, updated):
        return updated.with_changes(value=self.new) if updated.value == self.old else updated

    def leave_Attribute(self, original, updated):
        return updated.with_changes(attr=original.attr)   # `x.e` is not the name `e`


def _alone(small):
    """A small statement without the `;` that joined it to the next one on its line."""
    return small.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)


def _trace_lookup(value):
    """`h["Lambda-Runtime-Aws-Request-Id"]`, `h.get(...)`, `r.getheader(...)` rewritten to look
    up the trace header with "" when it is absent; None for any other shape."""
    def is_request_id(node) -> bool:
        return isinstance(node, cst.SimpleString) and node.evaluated_value.lower() == "lambda-runtime-aws-request-id"

    def trace(node: cst.SimpleString) -> cst.SimpleString:
        q = node.quote
        return node.with_changes(value=f"{node.prefix}{q}Lambda-Runtime-Trace-Id{q}")

    if isinstance(value, cst.Subscript) and len(value.slice) == 1 and isinstance(value.slice[0].slice, cst.Index):
        key = value.slice[0].slice.value
        if is_request_id(key):
            q = key.quote
            return cst.Call(func=cst.Attribute(value=value.value, attr=cst.Name("get")),
                            args=[cst.Arg(trace(key)), cst.Arg(cst.SimpleString(f"{q}{q}"))])
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and \
            value.func.attr.value in ("get", "getheader") and len(value.args) >= 1 and is_request_id(value.args[0].value):
        key = value.args[0].value
        q = key.quote
        args = [cst.Arg(trace(key)), cst.Arg(cst.SimpleString(f"{q}{q}"))]
        return value.with_changes(args=args)
    return None


def builders(src: SourceFile, parsed: PythonParse | None = None) -> PythonFixes:
    """The front end's entry point (bootlint.fixes.build): the builders for one file, on what
    its lowering parsed (``RuntimeModel.parsed``)."""
    return PythonFixes(src, parsed)


# The fix requests this front end carries out, and how (bootlint.fixes.build looks them up here).
IMPLEMENTATIONS = {
    want.ReadApiHost: lambda fx, r: fx.runtime_api_host(r.span),
    want.DropNextTimeout: lambda fx, r: fx.drop_timeout(r.span),
    want.WrapEventLoop: lambda fx, r: fx.event_loop(r.first, r.last),
    want.GuardHandlerCall: lambda fx, r: fx.guard_handler(r.handler, r.response, r.sent, r.error),
    want.PostCaughtFailure: lambda fx, r: fx.post_caught_failure(r.handler, r.response, r.sent, r.error),
    want.ExportTraceId: trace_id_from_any,
    want.ExitAfterInitError: lambda fx, r: fx.exit_after(r.span),
}
