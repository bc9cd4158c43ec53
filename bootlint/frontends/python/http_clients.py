"""The Python HTTP clients bootlint understands, as data: how each call passes the URL, the
method and the body. Adding a client (or a call of one) is one entry.

Calls are matched by the last part of their name (``urllib.request.urlopen``, ``conn.request``,
``session.post``, ``http.get``), so a client's module, an alias, a session or a connection
object all work the same.
"""

from __future__ import annotations

from dataclasses import dataclass

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
