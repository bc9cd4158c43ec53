"""The Python HTTP clients bootlint understands, as data (and how a call is read against them): how each call passes the URL, the
method and the body. Adding a client (or a call of one) is one entry.

Calls are matched by the last part of their name (``urllib.request.urlopen``, ``conn.request``,
``session.post``, ``http.get``), so a client's module, an alias, a session or a connection
object all work the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from bootlint.frontends.python.index import Index, dotted
from bootlint.frontends.python.values import MAX_DEPTH, PyFrame, Values

HTTP_VERBS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class CallShape:
    """How one call passes its request."""

    url_arg: int                          # positional index of the URL (or keyword ``url``)
    method: str | None = None             # a fixed method; None: from the arguments or the body
    method_arg: int | None = None         # positional index of the method (``request("GET", url)``)
    method_keyword: str | None = None     # ``Request(url, method="POST")``
    body_arg: int | None = None           # positional index of the body
    wraps_request: bool = False           # ``urlopen(Request(...))``: the request object has it all
    method_first_if_verb: bool = False    # ``pool.urlopen("GET", url)`` (urllib3) as well as ``urlopen(url)``


BODY_KEYWORDS = ("data", "json", "body", "content", "fields")

CALLS: dict[str, CallShape] = {
    # urllib.request (and urllib3's PoolManager.urlopen(method, url))
    "urlopen": CallShape(url_arg=0, body_arg=1, wraps_request=True, method_first_if_verb=True),
    "Request": CallShape(url_arg=0, method_keyword="method", body_arg=1),
    # http.client connection.request(method, url, body), urllib3 .request(method, url, body=),
    # requests/httpx .request(method, url, data=/content=)
    "request": CallShape(url_arg=1, method_arg=0, body_arg=2),
    "open": CallShape(url_arg=1, method_arg=0, body_arg=2),
    # http.client's low-level form, for a streamed body: putrequest(method, url), then
    # putheader(...), endheaders() and send(chunk)
    "putrequest": CallShape(url_arg=1, method_arg=0),
    "fetch": CallShape(url_arg=1, method_arg=0, body_arg=2),
    # requests, httpx, sessions and clients of both
    "get": CallShape(url_arg=0, method="GET"),
    "post": CallShape(url_arg=0, method="POST", body_arg=1),
    "put": CallShape(url_arg=0, method="PUT", body_arg=1),
    "patch": CallShape(url_arg=0, method="PATCH", body_arg=1),
    "delete": CallShape(url_arg=0, method="DELETE"),
    "head": CallShape(url_arg=0, method="HEAD"),
}

# The names of calls that make a request.
REQUEST_CALLS = frozenset(CALLS) - {"Request"}


class Clients:
    """Reads the file's calls against the clients' table: which call makes a request, its URL,
    method and body."""

    def __init__(self, index: Index, values: Values) -> None:
        self.index = index
        self.values = values

    def request_call(self, call: cst.Call) -> str | None:
        """The client call's name (`post` of `requests.post(...)`) when the call makes a request;
        None for any other call, the file's own functions included (`def post(path, body)`
        called as `post(...)` or `self.post(...)` is a helper, not a client)."""
        name = dotted(call.func)
        last = name.rsplit(".", 1)[-1]
        if last not in REQUEST_CALLS:
            return None
        if last in self.index.function_names and (name == last or name.split(".")[0] in ("self", "cls")):
            return None
        return last

    def request_target(self, call: cst.Call, method_name: str, frame: PyFrame | None = None):
        """(URL expression, HTTP method, frame to read the URL in) of an HTTP call, following
        urlopen(Request(...)); the shapes come from the clients' table."""
        shape = CALLS.get(method_name)
        if shape is None:
            return None, "GET", frame
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        if shape.method_first_if_verb and len(positional) >= 2:
            verb = self.values.literal(positional[0], frame)
            if verb and verb.upper() in HTTP_VERBS:
                return positional[1], verb.upper(), frame
        if shape.wraps_request:
            target = positional[0] if positional else keywords.get("url")
            request, request_frame = self._request_call(target, frame)
            if request is not None:
                return self.request_target(request, "Request", request_frame)
        method = shape.method
        if shape.method_arg is not None:
            if len(positional) <= shape.url_arg:
                # request(url) alone is not this shape (a library call of the same name).
                url = positional[0] if positional else keywords.get("url")
                return url, "GET", frame
            verb = self.values.literal(positional[shape.method_arg], frame)
            if not verb or verb.upper() not in HTTP_VERBS:
                return None, "GET", frame
            method = verb.upper()
        elif shape.method_keyword and shape.method_keyword in keywords:
            verb = self.values.literal(keywords[shape.method_keyword], frame)
            method = verb.upper() if verb else None
        if method is None:
            has_body = (shape.body_arg is not None and len(positional) > shape.body_arg) or any(
                k in keywords for k in BODY_KEYWORDS)
            method = "POST" if has_body else "GET"
        url = positional[shape.url_arg] if len(positional) > shape.url_arg else keywords.get("url")
        return url, method, frame

    def _request_call(self, target, frame: PyFrame | None = None, depth: int = 0):
        """The urllib.request.Request(...) a name holds where it is read, with its frame."""
        if isinstance(target, cst.Call) and dotted(target.func).rsplit(".", 1)[-1] == "Request":
            return target, frame
        if isinstance(target, cst.Name) and depth < MAX_DEPTH:
            values, _ = self.values.values_of(target, frame)
            for value, value_frame in values:
                found = self._request_call(value, value_frame, depth + 1)
                if found[0] is not None:
                    return found
        return None, frame


    def payload(self, call: cst.Call) -> list:
        """The body expression of a POST (data=, json=, body=, content=, or the body's
        positional place in the clients' table)."""
        last = dotted(call.func).rsplit(".", 1)[-1]
        shape = CALLS.get(last)
        if shape is not None and shape.wraps_request:
            positional = [a.value for a in call.args if a.keyword is None]
            request, _ = self._request_call(positional[0] if positional else None)
            if request is not None:
                call, shape = request, CALLS["Request"]
        found = [a.value for a in call.args if a.keyword is not None and a.keyword.value in BODY_KEYWORDS]
        positional = [a.value for a in call.args if a.keyword is None]
        if not found and shape is not None and shape.body_arg is not None and len(positional) > shape.body_arg:
            found = [positional[shape.body_arg]]
        return found
