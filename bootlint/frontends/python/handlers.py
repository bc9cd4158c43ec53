"""Which calls of a Python bootstrap run the user's handler: what produces the /response body
(through the file's helpers too), else a call of a function imported from a user module."""

from __future__ import annotations

import libcst as cst

from bootlint.frontends.python.facts import PASS_THROUGH, Requests
from bootlint.frontends.python.index import BUILTIN_NAMES, KNOWN_LIBRARIES, Index, dotted, kids
from bootlint.frontends.python.values import MAX_DEPTH, Values
from bootlint.model import Endpoint

# Libraries that format, encode or describe data (not run user code): their calls pass data through.
DATA_LIBRARIES = frozenset({"json", "traceback", "base64", "binascii", "codecs", "os", "sys", "time",
                            "datetime", "logging", "uuid", "re", "string", "textwrap", "urllib",
                            "http", "requests", "urllib3", "httpx", "simplejson", "orjson", "ujson",
                            "urllib2", "httplib"})


class Handlers:
    """Finds the handler's calls (ids of libcst Call nodes)."""

    def __init__(self, index: Index, values: Values, requests: Requests) -> None:
        self.index = index
        self.values = values
        self.requests = requests

    def handler_calls(self, posted: list | None = None) -> set[int]:
        """ids of the calls that run the user's handler: what produces the /response body
        (``posted``: bodies given to the file's helpers that post /response), else calls of
        names imported from a module that is not a known library, in a file that requests
        `next` (without an invocation there is no handler: a module that only wraps the API,
        or posts /init/error, calls its own imports for other reasons)."""
        found: set[int] = set()
        for call in self.index.calls:
            if Endpoint.RESPONSE in self.requests.endpoints(call):
                for payload in self.requests.clients.payload(call):
                    self._producers(payload, found, 0)
        for payload in posted or ():
            self._producers(payload, found, 0)
        if found or not (self.requests.fetchers or any(Endpoint.NEXT in self.requests.endpoints(c) for c in self.index.calls)):
            return found
        for call in self.index.calls:
            name = dotted(call.func)
            root = name.split(".")[0]
            module = self.index.imported_from.get(root)
            if _class_name(root):
                continue  # `Envelope(raw)`, `Headers.parse(...)`: a class holds data, a handler is a function
            if module and module.split(".")[0] not in KNOWN_LIBRARIES and name not in self.index.function_names:
                found.add(id(call))
            elif root in self.index.imported_modules and name not in self.index.function_names and "." in name:
                found.add(id(call))  # import app ... app.handler(event)
            elif "." not in name and name not in self.index.function_names and self._module_alias(name):
                found.add(id(call))  # import app; handler = app.handler ... handler(event)
        return found

    def _module_alias(self, name: str) -> bool:
        """Is a module-level name only ever bound to an attribute of an imported user module
        (`handler = lambda_function.handler`)?"""
        values = self.index.scoped.get((None, name), ())
        return bool(values) and all(
            isinstance(v, cst.Attribute) and dotted(v).split(".")[0] in self.index.imported_modules
            for v in values)

    def _producers(self, node, found: set[int], hops: int) -> None:
        if node is None or hops > MAX_DEPTH:
            return
        stack = [node]
        while stack:
            cur = stack.pop()
            if isinstance(cur, cst.Call):
                last = dotted(cur.func).rsplit(".", 1)[-1]
                if id(cur) in self.requests.fetchers:
                    continue  # a helper that requests `next`: its result is the event
                name = dotted(cur.func)
                root = name.split(".")[0]
                # Builtins and library calls (type(exc), traceback.format_exc()) pass data through.
                library = name in BUILTIN_NAMES or (
                    "." in name and self.index.imported_from.get(root, root).split(".")[0] in DATA_LIBRARIES)
                # A class of the file built from the data (`Invocation(resp)`) holds it; what
                # computes the result is called on it (`inv.run()`), or given what it holds.
                if name in self.index.class_names:
                    stack.extend(a.value for a in cur.args)
                    continue
                if last and last not in PASS_THROUGH and not library:
                    found.add(id(cur))
                    continue
                if isinstance(cur.func, cst.Attribute):
                    stack.append(cur.func.value)
                stack.extend(a.value for a in cur.args)
                continue
            if isinstance(cur, cst.Name):
                # Read in its own scope: another function's `result = handle(test_event)` (a
                # local run) is not what this function posts.
                for value, _ in self.values.values_of(cur)[0]:
                    self._producers(value, found, hops + 1)
                continue
            if isinstance(cur, (cst.Lambda,)):
                continue
            stack.extend(kids(cur))


def _class_name(name: str) -> bool:
    """A CapWords name (PEP 8's spelling of a class: `Headers`, `InvocationEvent`), not a
    constant (`HANDLER`) or a function (`handle`)."""
    return name[:1].isupper() and not name.isupper()

