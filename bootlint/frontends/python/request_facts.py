"""What a Python HTTP call says about a Runtime API request: timeouts, failure detection, the
error body's shape and a written-out host."""

from __future__ import annotations

import libcst as cst

from bootlint.analysis.error_body import error_body_problem
from bootlint.model import ERROR_ENDPOINTS, Endpoint, Fact, Facts, Piece
from bootlint.frontends.python.values import Values, dotted, names_in

STATUS_ATTRIBUTES = {"raise_for_status", "status_code", "ok", "status", "getcode", "code"}
STRING_TRACES = {"format_exc", "str", "repr"}


class PythonRequestFacts:
    """Facts for the HTTP calls of one module; file-wide facts are found once."""

    def __init__(self, module: cst.Module, values: Values, span) -> None:
        self.values = values
        self.span = span
        self.default_timeout: Fact | None = None
        self.status_roots: set[str] = set()
        for call in values.calls:
            if dotted(call.func) in ("socket.setdefaulttimeout", "setdefaulttimeout") and call.args \
                    and not _is_none(call.args[0].value):
                self.default_timeout = Fact(span(call), "socket.setdefaulttimeout()")
        for attribute in values.attributes:
            if attribute.attr.value in STATUS_ATTRIBUTES:
                self.status_roots |= values.names(attribute.value)
        # resp = conn.getresponse(); resp.status: the check covers the connection too.
        for _ in range(3):
            for name, assigned in values.assignments.items():
                if name in self.status_roots:
                    for value in assigned:
                        self.status_roots |= names_in(value)

    def facts(self, call: cst.Call, method_name: str, endpoint: Endpoint, targets) -> dict[str, Fact]:
        out: dict[str, Fact] = {}
        if endpoint is Endpoint.NEXT:
            timeout = self._timeout(call)
            if timeout is not None:
                out[Facts.TIMEOUT] = timeout
            if method_name == "urlopen" or set(targets) & self.status_roots or self._receiver_checked(call):
                out[Facts.FAILURE_CHECKED] = Fact(self.span(call))
        if endpoint in ERROR_ENDPOINTS:
            problem, node = self._error_body(call)
            if problem:
                out[Facts.BODY_MALFORMED] = Fact(self.span(node), problem)
        host = self._connection_host(call)
        if host is not None:
            out[Facts.LITERAL_HOST] = host
        return out

    def _timeout(self, call: cst.Call) -> Fact | None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "timeout" and not _no_read_timeout(arg.value):
                return Fact(self.span(arg), "timeout=")
        connection = self._connection(call)
        if connection is not None:
            for arg in connection.args:
                if arg.keyword is not None and arg.keyword.value == "timeout" and not _is_none(arg.value):
                    return Fact(self.span(arg), "timeout= on the connection")
        return self.default_timeout

    def _receiver_checked(self, call: cst.Call) -> bool:
        """conn.request(...) then conn.getresponse().status: a check on the connection's names."""
        return isinstance(call.func, cst.Attribute) and bool(names_in(call.func.value) & self.status_roots)

    def _connection(self, call: cst.Call) -> cst.Call | None:
        """The http.client.HTTPConnection(...) a `conn.request(...)` is made on."""
        if not isinstance(call.func, cst.Attribute) or call.func.attr.value != "request":
            return None
        receiver = call.func.value
        candidates = [receiver] if isinstance(receiver, cst.Call) else []
        if isinstance(receiver, cst.Name):
            candidates = self.values.assignments.get(receiver.value, [])
        for value in candidates:
            if isinstance(value, cst.Call) and dotted(value.func).rsplit(".", 1)[-1] in (
                    "HTTPConnection", "HTTPSConnection"):
                return value
        return None

    def _connection_host(self, call: cst.Call) -> Fact | None:
        connection = self._connection(call)
        if connection is None or not connection.args:
            return None
        host = connection.args[0].value
        alts = self.values.evaluate(host)
        if alts and all(p.is_literal for a in alts for p in a):
            return Fact(self.span(host), "".join(p.text for p in alts[0]))
        return None

    def _error_body(self, call: cst.Call) -> tuple[str, cst.CSTNode | None]:
        for body in self.values.payload(call):
            problem = self._body_problem(body, 0)
            if problem:
                return problem, body
        return "", None

    def _body_problem(self, node, depth: int) -> str:
        if node is None or depth > 4:
            return ""
        if isinstance(node, cst.Call):
            last = node.func.attr.value if isinstance(node.func, cst.Attribute) else dotted(node.func)
            if last == "encode" and isinstance(node.func, cst.Attribute):
                return self._body_problem(node.func.value, depth + 1)
            if last in ("dumps",) and node.args:
                return self._dict_problem(node.args[0].value, depth)
            if last in ("str", "repr", "format_exc"):
                return "is plain text, not the error JSON"
            return ""
        if isinstance(node, cst.Dict):
            return self._dict_problem(node, depth)
        if isinstance(node, cst.Name):
            values = self.values.assignments.get(node.value, [])
            problems = [self._body_problem(v, depth + 1) for v in values]
            return problems[0] if problems and all(problems) else ""
        if isinstance(node, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString, cst.BinaryOperation)):
            alts = self.values.evaluate(node)
            if len(alts) == 1:
                pieces: tuple[Piece, ...] = alts[0]
                return error_body_problem(pieces).replace("a shell value", "a value")
        return ""

    def _dict_problem(self, node, depth: int) -> str:
        if isinstance(node, cst.Name):
            values = self.values.assignments.get(node.value, [])
            return self._dict_problem(values[0], depth + 1) if len(values) == 1 and depth < 4 else ""
        if not isinstance(node, cst.Dict):
            return ""
        keys = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return ""  # **spread: cannot be known
            key = self.values.literal(element.key)
            if key is None:
                return ""
            keys[key] = element.value
        missing = [k for k in ("errorMessage", "errorType") if k not in keys]
        if missing:
            return f"has no {' or '.join(missing)}"
        trace = keys.get("stackTrace")
        if trace is not None:
            if isinstance(trace, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
                return "has stackTrace as a string, not an array of strings"
            if isinstance(trace, cst.Call) and dotted(trace.func).rsplit(".", 1)[-1] in STRING_TRACES:
                return "has stackTrace as a string (traceback.format_exc()), not an array of strings"
        return ""


def _is_none(node) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _no_read_timeout(node) -> bool:
    """timeout=None, or requests' (connect, None): no limit on the long poll."""
    if _is_none(node):
        return True
    if isinstance(node, cst.Tuple) and len(node.elements) == 2:
        return _is_none(node.elements[1].value)
    return False
