"""The Python HTTP clients bootlint understands, as data, and how a call is read against them.

Two tables. ``CALLS``: how each call passes the URL, the method and the body, matched by the last
part of its name (``urllib.request.urlopen``, ``conn.request``, ``session.post``, ``http.get``),
so a client's module, an alias, a session or a connection object all work the same; a call that
only builds a request (``Request``, ``build_request``) is not a send: the request counts where it
is sent (``urlopen(req)``, ``opener.open(req)``, ``session.send(prepared)``).
``LIBRARIES``: what each library's client objects carry: the constructors, the keyword of a base
URL and how a relative URL joins it, the timeout keyword and the library's own default timeout,
which clients' calls are coroutines (sent only where awaited). Adding a client is one entry.
"""

from __future__ import annotations

import libcst as cst

from bootlint.frontends.python.index import Index, dotted, kids, walk
from bootlint.frontends.python.reaching import Reaching
from bootlint.frontends.python.values import MAX_ALTERNATIVES, MAX_DEPTH, PyFrame, Values, frame_of, join_urls
from bootlint.util.records import dataclass

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
    builds: bool = False                  # makes a request object without sending it
    only_built: bool = False              # sends a request object only (``send(chunk)`` of http.client is data)
    # Calls on the same object that send what this call only stages (http.client's putrequest
    # is buffered until endheaders()); empty: the call sends itself.
    sent_by: frozenset[str] = frozenset()


BODY_KEYWORDS = ("data", "json", "body", "content", "fields")

CALLS: dict[str, CallShape] = {
    # urllib.request (and urllib3's PoolManager.urlopen(method, url))
    "urlopen": CallShape(url_arg=0, body_arg=1, wraps_request=True, method_first_if_verb=True),
    # urllib.request.Request(url, data, method=), requests.Request(method, url, data=)
    "Request": CallShape(url_arg=0, method_keyword="method", body_arg=1, builds=True, method_first_if_verb=True),
    # httpx: client.build_request(method, url, content=), sent by client.send(request)
    "build_request": CallShape(url_arg=1, method_arg=0, builds=True),
    # requests' session.send(prepared), httpx's client.send(request)
    "send": CallShape(url_arg=0, wraps_request=True, only_built=True),
    # http.client connection.request(method, url, body), urllib3 .request(method, url, body=),
    # requests/httpx .request(method, url, data=/content=)
    "request": CallShape(url_arg=1, method_arg=0, body_arg=2),
    # urllib.request's opener.open(request or url, data)
    "open": CallShape(url_arg=1, method_arg=0, body_arg=2, wraps_request=True),
    # http.client's low-level form, for a streamed body: putrequest(method, url), then
    # putheader(...); endheaders(body) sends the request line and headers (with the body when
    # given), send(chunk) the body after them; without endheaders() nothing leaves.
    "putrequest": CallShape(url_arg=1, method_arg=0, sent_by=frozenset({"endheaders"})),
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
REQUEST_CALLS = frozenset(name for name, shape in CALLS.items() if not shape.builds)
# What turns a built request into one ready to send, keeping what it requests.
PREPARES = frozenset({"prepare", "prepare_request"})
# Calls that end a staged request's sending: what follows goes into its body.
STAGE_ENDERS = frozenset(name for shape in CALLS.values() for name in shape.sent_by)
# Calls on a connection that write the body of the request it has sent the headers of.
BODY_WRITERS = frozenset({"send"})
# Calls on a connection after which a staged request is gone for good (a new request: http.client
# refuses it while one is staged, CannotSendRequest; reading the answer; closing).
STAGE_CLEARS = REQUEST_CALLS | frozenset({"getresponse", "close"})


@dataclass(frozen=True)
class Library:
    """What one HTTP library's client objects carry to every request made through them."""

    module: str
    clients: frozenset[str]                   # constructors of client objects
    base_url: str | None = None               # the constructor's keyword for a base URL
    append: bool = False                      # a relative URL is appended to the base's path (httpx)
    timeout: str = "timeout"                  # the keyword of a timeout (constructor and call)
    default_timeout: str = ""                 # the library's own read timeout, in words; "" for none
    module_calls: bool = False                # the module's own functions (httpx.get) have that default
    coroutines: frozenset[str] = frozenset()  # constructors whose calls are coroutines
    # Timeout objects: their class, and the fields that bound a read (the others are connect
    # or pool timeouts); each field's default when not given ("" for none).
    timeout_class: str = ""
    read_fields: tuple[str, ...] = ()
    # What a client made with `timeout=None` gets: "" no timeout; else the library's default
    # (aiohttp's ClientSession(timeout=None) is its 300 s default; None on one request is none).
    none_on_client: str = ""
    # How a client of the library is told "no timeout" (BL006's fix), `{module}` standing for the
    # name the file imports the library under.
    unlimited: str = "None"
    # The call on a connection that reads a request's answer, which must come before the next
    # request on it (http.client: CannotSendRequest otherwise); "" when each call returns it.
    answer: str = ""


LIBRARIES: tuple[Library, ...] = (
    Library("requests", frozenset({"Session", "session"})),
    # httpx: every client and the module's functions time out after 5 s unless told otherwise
    # (timeout=None); base_url + "invocation/next" is appended to the base's path.
    Library("httpx", frozenset({"Client", "AsyncClient"}), base_url="base_url", append=True,
            default_timeout="httpx's default timeout (5 s, on a client or call without timeout=None)",
            module_calls=True, coroutines=frozenset({"AsyncClient"}),
            timeout_class="Timeout", read_fields=("timeout", "read")),
    Library("urllib3", frozenset({"PoolManager", "ProxyManager", "HTTPConnectionPool", "HTTPSConnectionPool",
                                  "connection_from_url"}),
            timeout_class="Timeout", read_fields=("total", "read")),
    # aiohttp: a session's default ClientTimeout is 300 s in total.
    Library("aiohttp", frozenset({"ClientSession"}), base_url="base_url",
            default_timeout="aiohttp's default session timeout (300 s in total)",
            coroutines=frozenset({"ClientSession"}),
            timeout_class="ClientTimeout", read_fields=("total", "sock_read"), none_on_client="default",
            unlimited="{module}.ClientTimeout(total=None)"),
    Library("http.client", frozenset({"HTTPConnection", "HTTPSConnection"}), answer="getresponse"),
    Library("urllib.request", frozenset({"build_opener", "OpenerDirector"})),
)
# Builtins that look at a value and never run a coroutine they are given (or the ones in a list).
INSPECTORS = frozenset({"len", "print", "repr", "str", "type", "id", "bool", "isinstance", "format", "hash"})
# Adapters mounted on a requests session: their `send` gets every request's keywords.
ADAPTER_BASES = frozenset({"HTTPAdapter", "BaseAdapter"})


@dataclass(frozen=True)
class Origin:
    """Where the object a request is made through comes from: the library, the call that made it
    (None for `self` in a method of the file's subclass), the file's class when it subclasses one
    of the library's clients."""

    library: Library
    constructor: cst.Call | None = None
    cls: str | None = None


class StagedSends(Reaching):
    """Where the requests one scope stages on an object (`conn.putrequest(...)`) are sent: the
    calls on the same object that send them (`conn.endheaders()`), followed along the paths of
    the scope as :class:`Reaching` follows names. A staged request is lost when the object starts
    another request or reads an answer first, or when the path ends; one still staged where a
    function returns is left to its caller (taken as sent), and so is one still staged where the
    file calls one of its functions that ends staged requests (``senders``)."""

    def __init__(self, body, senders: set[str], function: bool) -> None:
        self.tracked: set[str] = set()
        self.reach: dict[int, tuple] = {}
        self._loops: list = []
        self.senders = senders
        self.seen: set[int] = set()
        self.sent: dict[int, list] = {}       # id(staging call) -> the calls that send it
        self.bodies: dict[int, list] = {}     # id(staging call) -> what is sent as its body
        self.escaped: set[int] = set()
        self.function = function
        end = self.block(body, {})
        if function and end is not None:
            self._escape(end)

    def small(self, node, env):
        env = self._effects(node, env)
        if self.function and type(node) is cst.Return:
            self._escape(env)
        return super().small(node, env)

    def _escape(self, env) -> None:
        for key, staged in env.items():
            if key.startswith("#staged:"):
                self.escaped.update(id(call) for call in staged)

    def _effects(self, node, env):
        for call in _calls_in_order(node):
            func = call.func
            callee = func.value if isinstance(func, cst.Name) else (
                func.attr.value if isinstance(func, cst.Attribute) else "")
            if callee in self.senders:
                # A function (or method) of the file that may end what is staged: taken to.
                for key, staged in env.items():
                    for request in staged if key.startswith("#staged:") else ():
                        self.sent.setdefault(id(request), []).append(call)
                env = {k: (() if k.startswith("#staged:") else v) for k, v in env.items()}
                continue
            if not isinstance(func, cst.Attribute):
                continue
            receiver, name = dotted(func.value), func.attr.value
            if not receiver:
                continue
            staged_key, body_key = "#staged:" + receiver, "#body:" + receiver
            shape = CALLS.get(name)
            if shape is not None and shape.sent_by:
                self.seen.add(id(call))
                env = {**env, staged_key: (call,), body_key: ()}
            elif name in STAGE_ENDERS:
                staged = env.get(staged_key, ())
                for request in staged:
                    self.sent.setdefault(id(request), []).append(call)
                    if call.args:
                        self.bodies.setdefault(id(request), []).append(call.args[0].value)
                env = {**env, staged_key: (), body_key: staged}
            elif name in BODY_WRITERS and env.get(body_key):
                for request in env[body_key]:
                    if call.args:
                        self.bodies.setdefault(id(request), []).append(call.args[0].value)
            elif name in STAGE_CLEARS and (env.get(staged_key) or env.get(body_key)):
                env = {**env, staged_key: (), body_key: ()}
        return env


def _calls_in_order(node) -> list[cst.Call]:
    """The calls of an expression in the order Python makes them (arguments first), not
    entering functions or lambdas defined there."""
    out: list = []
    stack: list = [(node, False)]
    while stack:
        cur, done = stack.pop()
        kind = type(cur)
        if done:
            out.append(cur)
            continue
        if kind is cst.Lambda or kind is cst.FunctionDef or kind is cst.ClassDef:
            continue
        if kind is cst.Call:
            stack.append((cur, True))
        stack.extend((child, False) for child in reversed(kids(cur)))
    return out


class Clients:
    """Reads the file's calls against the clients' table: which call makes a request, its URL,
    method and body."""

    def __init__(self, index: Index, values: Values) -> None:
        self.index = index
        self.values = values
        self._staged: dict[str | None, StagedSends] = {}
        self._senders: set[str] | None = None
        self._order: dict[int, int] | None = None
        self._given_cache: dict[tuple[str, str], Origin | None] = {}

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
            target = positional[0] if positional else keywords.get("url", keywords.get("request"))
            request, request_frame = self._request_call(target, frame)
            if request is not None:
                return self.request_target(request, dotted(request.func).rsplit(".", 1)[-1], request_frame)
            if shape.only_built:
                return None, "GET", frame
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

    def _request_call(self, target, frame: PyFrame | None = None):
        """The first request a built-request object may hold (see :meth:`built`)."""
        found = self.built(target, frame)
        return found[0] if found else (None, frame)

    def built(self, target, frame: PyFrame | None = None, depth: int = 0) -> list:
        """The requests a built-request object holds where it is read (`Request(...)`,
        `client.build_request(...)`, `Request(...).prepare()`, `session.prepare_request(...)`, a
        name bound to one on a path that gets here, what a function of the file that builds
        one returns: `urlopen(build(url, body))`), each with its frame (in a function of the
        file, its parameters bound to that call's arguments)."""
        if isinstance(target, cst.Call):
            last = dotted(target.func).rsplit(".", 1)[-1]
            shape = CALLS.get(last)
            if shape is not None and shape.builds:
                return [(target, frame)]
            if last in PREPARES and depth < MAX_DEPTH:
                inner = target.args[0].value if target.args else (
                    target.func.value if isinstance(target.func, cst.Attribute) else None)
                return self.built(inner, frame, depth + 1)
            function = self._own_function(target)
            if function is not None and depth < MAX_DEPTH and (frame is None or function not in frame.chain):
                inner = frame_of(self.index, function, target, frame, frame.site if frame is not None else target,
                                 (frame.chain if frame is not None else ()) + (function,))
                return [found for value in _returned(self.index.function_defs[function])
                        for found in self.built(value, inner, depth + 1)]
        if isinstance(target, cst.Name) and depth < MAX_DEPTH:
            values, _ = self.values.values_of(target, frame)
            return [found for value, value_frame in values for found in self.built(value, value_frame, depth + 1)]
        return []

    def _at_call(self, node, frame: PyFrame | None):
        """Where a URL read in a function of the file is reported: the argument its call gives
        it, or that call (in the function the request is sent from)."""
        if frame is None or node is None:
            return node
        written = self.values.written_at(node, frame)
        return frame.site if written is node else written

    def _own_function(self, call: cst.Call) -> str | None:
        """The function of the file a call runs (`build(...)`, `self.build(...)`), by the name
        the index files it under; None for any other call."""
        name = dotted(call.func)
        key = name.removeprefix("self.").removeprefix("cls.")
        if "." in key or key not in self.index.function_defs or key in self.index.class_names:
            return None
        return key

    def payload(self, call: cst.Call) -> list:
        """The body expression of a POST (data=, json=, body=, content=, or the body's
        positional place in the clients' table)."""
        last = dotted(call.func).rsplit(".", 1)[-1]
        shape = CALLS.get(last)
        staged = self.staged(call)
        if staged is not None:
            # endheaders(body), then send(chunk); not what an `except` the request was not
            # staged in writes (a streamed response's error trailers report a failure).
            where = self._except_of(call)
            return [body for body in staged.bodies.get(id(call), ())
                    if self._except_of(body) in (None, where)]
        frame = None
        if shape is not None and shape.wraps_request:
            positional = [a.value for a in call.args if a.keyword is None]
            request, frame = self._request_call(positional[0] if positional else None)
            if request is not None:
                call, shape = request, CALLS[dotted(request.func).rsplit(".", 1)[-1]]
        found = [a.value for a in call.args if a.keyword is not None and a.keyword.value in BODY_KEYWORDS]
        positional = [a.value for a in call.args if a.keyword is None]
        if not found and shape is not None and shape.body_arg is not None and len(positional) > shape.body_arg:
            found = [positional[shape.body_arg]]
        if frame is None:
            return found
        # Built by a function of the file: the body as its call gives it, and what the call gives
        # the parameters the body is made from (`data=json.dumps(doc).encode()` with `doc` one).
        return [written for expr in found for written in (
            self.values.written_at(expr, frame),
            *(self.values.written_at(n, frame) for n in walk(expr) if type(n) is cst.Name and n.value in frame.bindings))]

    # -- objects requests are made through -------------------------------------------------------
    def library(self, name: str) -> Library | None:
        """The library a dotted constructor name belongs to (`httpx.Client`, `hx.AsyncClient` with
        `import httpx as hx`, `Client` with `from httpx import Client`, `requests.session`)."""
        head, _, last = name.rpartition(".")
        if head:
            root, _, rest = head.partition(".")
            module = self.index.module_alias.get(root, root) + ("." + rest if rest else "")
        else:
            module = self.index.imported_from.get(last, "")
        for library in LIBRARIES:
            if last in library.clients and (module == library.module or module.startswith(library.module + ".")
                                            or library.module.startswith(module + ".") and module):
                return library
        return None

    def timeout_library(self, call: cst.Call) -> Library | None:
        """The library whose timeout object a call makes (`httpx.Timeout(...)`,
        `urllib3.Timeout(...)`, `aiohttp.ClientTimeout(...)`)."""
        name = dotted(call.func)
        head, _, last = name.rpartition(".")
        module = self.index.module_alias.get(head.split(".")[0], head) if head else self.index.imported_from.get(last, "")
        for library in LIBRARIES:
            if library.timeout_class and last == library.timeout_class and module.split(".")[0] == library.module:
                return library
        return None

    def subclassed(self, cls: str, depth: int = 0) -> Library | None:
        """The library whose client a class of the file extends (`class Api(requests.Session)`)."""
        for base in self.index.bases.get(cls, ()):
            found = self.library(base) if base not in self.index.class_names else (
                self.subclassed(base, depth + 1) if depth < 4 else None)
            if found is not None:
                return found
        return None

    def origin(self, node, frame: PyFrame | None = None, depth: int = 0) -> Origin | None:
        """The client object an expression holds: made here (`httpx.Client(...)`), by the file's
        subclass of a client, kept in a name or on `self`, `self` in a method of such a class, or
        a parameter every call of its function gives the same library's client
        (`async def serve(session)` called as `serve(session)` inside `async with
        aiohttp.ClientSession() as session`)."""
        if node is None or depth > MAX_DEPTH:
            return None
        if isinstance(node, cst.Call):
            name = dotted(node.func)
            if name in self.index.class_names:
                library = self.subclassed(name)
                return Origin(library, node, name) if library is not None else None
            library = self.library(name)
            return Origin(library, node) if library is not None else None
        if isinstance(node, cst.Name):
            if node.value == "self":
                cls = self._class_of(node)
                library = self.subclassed(cls) if cls else None
                return Origin(library, None, cls) if library is not None else None
            values, _ = self.values.values_of(node, frame)
            for value, value_frame in values:
                found = self.origin(value, value_frame, depth + 1)
                if found is not None:
                    return found
            if not values:
                return self._given(node, depth)
            return None
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == "self":
            for value in self.index.assignments.get("self." + node.attr.value, ()):
                found = self.origin(value, None, depth + 1)
                if found is not None:
                    return found
        return None

    def _given(self, node: cst.Name, depth: int) -> Origin | None:
        """The client a parameter holds when every call of its function gives it one of the
        same library (None when a call gives something else, or nothing is known)."""
        function = self.index.scope.get(id(node))
        if function is None or node.value not in self.index.param_names(function) or \
                function not in self.index.function_defs:
            return None
        key = (function, node.value)
        if key in self._given_cache:
            return self._given_cache[key]
        self._given_cache[key] = None   # a recursive call passing it on gives nothing known
        found = []
        for site in self.index.call_sites.get(function, ()):
            bound = frame_of(self.index, function, site, None, site, (function,)).bindings.get(node.value)
            origin = self.origin(bound[0], bound[2], depth + 1) if bound is not None else None
            if origin is None:
                return None
            found.append(origin)
        if not found or any(o.library is not found[0].library or o.constructor is not found[0].constructor
                            for o in found):
            return None
        self._given_cache[key] = found[0]
        return found[0]

    def _class_of(self, node) -> str | None:
        """The top-level class whose method a node is written in."""
        function = self.index.scope.get(id(node))
        for cls, methods in self.index.methods.items():
            if function in methods and methods[function] is self.index.function_defs.get(function):
                return cls
        return None

    def receiver(self, call: cst.Call, frame: PyFrame | None = None) -> Origin | None:
        """The client object a call is made through (`client.get(...)`; in a frame, a parameter
        is what the call gives it), or the module of a library whose functions carry its
        defaults (`httpx.get(...)`)."""
        if not isinstance(call.func, cst.Attribute):
            return None
        found = self.origin(call.func.value, frame)
        if found is not None:
            return found
        module = self.index.module_alias.get(dotted(call.func.value), "")
        for library in LIBRARIES:
            if library.module_calls and module == library.module:
                return Origin(library)
        return None

    def staged(self, call: cst.Call) -> StagedSends | None:
        """What is known of the sending of the requests staged in the scope of ``call`` (None
        when the call does not stage a request)."""
        shape = CALLS.get(dotted(call.func).rsplit(".", 1)[-1])
        if shape is None or not shape.sent_by:
            return None
        scope = self.index.scope.get(id(call))
        found = self._staged.get(scope)
        if found is None:
            definition = self.index.function_defs.get(scope) if scope is not None else None
            body = self.index.module if scope is None else (definition.body if definition is not None else [])
            found = self._staged[scope] = StagedSends(body, self.senders(), scope is not None)
        return found

    def senders(self) -> set[str]:
        """The file's functions whose call may end a staged request (they, or a function they
        call, call `endheaders()` on some object)."""
        if self._senders is None:
            found = {name for name, definition in self.index.function_defs.items()
                     if any(type(n) is cst.Call and isinstance(n.func, cst.Attribute)
                            and n.func.attr.value in STAGE_ENDERS for n in walk(definition.body))}
            for _ in range(MAX_DEPTH):
                more = {self.index.scope.get(id(site)) for name in found
                        for site in self.index.call_sites.get(name, ())} - found - {None}
                if not more:
                    break
                found |= more
            self._senders = found
        return self._senders

    def _except_of(self, node) -> cst.ExceptHandler | None:
        """The `except` clause a node is written in, within its function (None: none)."""
        cur = self.index.parent(node)
        while cur is not None and type(cur) not in (cst.ExceptHandler, cst.FunctionDef, cst.Lambda, cst.Module):
            cur = self.index.parent(cur)
        return cur if type(cur) is cst.ExceptHandler else None

    def sending(self, call: cst.Call) -> cst.Call | None:
        """The call that sends a staged request (its first `endheaders()`), when it is known."""
        staged = self.staged(call)
        senders = staged.sent.get(id(call)) if staged is not None else None
        return senders[0] if senders else None

    def completed(self, call: cst.Call) -> cst.Call:
        """The call a request's exchange is done at: the call that sends it (a staged request's
        `endheaders()`), and on a connection whose answer must be read before its next request
        (the library's `answer`: http.client's getresponse), the first such read on the same
        connection that follows in the same function."""
        sender = self.sending(call) or call
        origin = self.receiver(call)
        if origin is None or not origin.library.answer or not isinstance(call.func, cst.Attribute):
            return sender
        if self._order is None:
            self._order = {id(c): i for i, c in enumerate(self.index.calls)}
        receiver, scope = dotted(call.func.value), self.index.scope.get(id(sender))
        for later in self.index.calls[self._order.get(id(sender), len(self.index.calls)) + 1:]:
            if isinstance(later.func, cst.Attribute) and later.func.attr.value == origin.library.answer \
                    and dotted(later.func.value) == receiver and self.index.scope.get(id(later)) == scope:
                return later
        return sender

    def sent(self, call: cst.Call, frame: PyFrame | None = None) -> bool:
        """Does the request call send? A staged request (`conn.putrequest(...)`) is sent where
        a call of its table's `sent_by` on the same object follows it (see :class:`StagedSends`).
        A call of an async client makes a coroutine, which runs only where it is awaited (see
        :meth:`runs`)."""
        staged = self.staged(call)
        if staged is not None:
            return id(call) not in staged.seen or id(call) in staged.sent or id(call) in staged.escaped
        if id(call) in self.index.awaited:
            return True
        origin = self.receiver(call, frame)
        if origin is None or origin.constructor is None:
            return True
        made = dotted(origin.constructor.func).rsplit(".", 1)[-1]
        return made not in origin.library.coroutines or self.runs(call, frame)

    def runs(self, node, frame: PyFrame | None = None, depth: int = 0) -> bool:
        """Does the coroutine an expression makes run? It runs where it is awaited, an `async
        with` item, or given to asyncio (gather, create_task, ...). It never runs when it is
        made as a statement of its own, kept in names that nothing reads (or that are only
        deleted, closed, or only looked at: `len(posts)`), or returned by a function whose calls
        all drop it so (in a frame: by that call). A list of coroutines has the list's fate.
        Given to any other call, or kept on an object, it is taken to run where it goes."""
        if id(node) in self.index.awaited or depth > MAX_DEPTH:
            return True
        holder = self.index.parent(node)
        kind = type(holder)
        if kind is cst.Element or kind is cst.StarredElement:
            return self.runs(self.index.parent(holder), frame, depth + 1)   # [coro, ...]: the list's fate
        if kind in (cst.ListComp, cst.SetComp, cst.GeneratorExp) and holder.elt is node:
            return self.runs(holder, frame, depth + 1)
        if kind is cst.Expr:
            return False   # made, and dropped
        if kind is cst.Await:
            return True
        if kind is cst.Arg:
            call = self.index.parent(holder)
            return not (type(call) is cst.Call and dotted(call.func) in INSPECTORS)
        if kind is cst.Assign and holder.value is node and all(type(t.target) is cst.Name for t in holder.targets):
            names = {t.target.value for t in holder.targets}
            return any(self._read_runs(read, frame, depth)
                       for read in self.index.reads(self.index.scope.get(id(holder.targets[0].target)), names))
        if kind is cst.Return and holder.value is node:
            function = self.index.scope.get(id(node)) if type(node) is cst.Call else None
            definition = self.index.function_defs.get(function) if function else None
            if definition is None or definition.asynchronous is not None:
                return True
            if frame is not None and frame.function == function and frame.call is not None:
                return self.runs(frame.call, None, depth + 1)
            sites = self.index.call_sites.get(function, ())
            return not sites or any(self.runs(site, None, depth + 1) for site in sites)
        return True

    def _coroutine_function(self, name: str) -> cst.FunctionDef | None:
        """An `async def` at the file's top level, undecorated (a decorator may run it, or
        register it to be run): calling it only makes a coroutine."""
        definition = self.index.function_defs.get(name)
        if definition is None or definition.asynchronous is None or definition.decorators or \
                not any(stmt is definition for stmt in self.index.module.body):
            return None
        return definition

    def dropped_coroutine(self, call: cst.Call) -> bool:
        """Is this a call of one of the file's `async def`s whose coroutine never runs (made
        as a statement of its own, kept and never awaited)? Its body does not run there."""
        return isinstance(call.func, cst.Name) and self._coroutine_function(call.func.value) is not None \
            and not self.runs(call)

    def never_run(self, name: str) -> bool:
        """Is this one of the file's `async def`s that is called, but whose every coroutine is
        dropped (and that is never handed on as a value: `trio.run(main)`)? Nothing in it runs."""
        sites = self.index.call_sites.get(name, ())
        if self._coroutine_function(name) is None or not sites:
            return False
        if any(type(self.index.parent(read)) is not cst.Call or self.index.parent(read).func is not read
               for read in self.index.reads(None, {name})):
            return False
        return all(self.dropped_coroutine(site) for site in sites)

    def _read_runs(self, read: cst.Name, frame: PyFrame | None, depth: int) -> bool:
        """Does this read of a name that holds a coroutine run it (`await coro`, passed on)?
        Not `coro.close()`, nor the name alone as a statement."""
        holder = self.index.parent(read)
        if type(holder) is cst.Attribute and holder.value is read:
            return holder.attr.value != "close"
        return self.runs(read, frame, depth + 1)

    # -- what a request call requests -----------------------------------------------------------
    def readings(self, call: cst.Call, last: str, frame: PyFrame | None = None):
        """(every way the URL of a request call reads, its method, the URL expression): the base
        URL of the client it is made through joined, a file subclass's `request` override
        followed; no readings when the call sends nothing."""
        pairs, method, url = self.sources(call, last, frame)
        return [alt for alt, _ in pairs], method, url

    def sources(self, call: cst.Call, last: str, frame: PyFrame | None = None):
        """As :meth:`readings`, each reading with the URL expression it comes from (a send of a
        request built in two places reads each builder's own URL)."""
        shape = CALLS.get(last)
        if shape is None or (not shape.builds and not self.sent(call, frame)):
            return [], "GET", None
        if shape.wraps_request:
            positional = [a.value for a in call.args if a.keyword is None and not a.star]
            verb = self.values.literal(positional[0], frame) if shape.method_first_if_verb and len(positional) > 1 else None
            target = positional[0] if positional else keyword(call, "url") or keyword(call, "request")
            built = self.built(target, frame) if not (verb and verb.upper() in HTTP_VERBS) else []
            if built:
                # What is sent is each request that may be built and get here.
                pairs, method, url = [], None, None
                for request, request_frame in built:
                    more, verb, node = self.sources(request, dotted(request.func).rsplit(".", 1)[-1], request_frame)
                    # A request a function of the file builds: the URL as the call gives it
                    # (`build(API + rid + "/error", body)`), else that call.
                    more = [(alt, self._at_call(at, request_frame)) for alt, at in more]
                    node = self._at_call(node, request_frame)
                    pairs.extend(p for p in more if all(p[0] != q[0] for q in pairs))
                    method, url = method or verb, url or node
                return pairs[:MAX_ALTERNATIVES], method or "GET", url
        url, method, url_frame = self.request_target(call, last, frame)
        if url is None:
            return [], method, url
        alts = self.values.evaluate(url, 0, url_frame)
        origin = self.receiver(call, frame)
        if origin is not None and origin.cls is not None:
            alts = self._through_override(origin.cls, last, url, url_frame, call) or alts
        elif origin is not None and origin.constructor is not None and origin.library.base_url:
            base = keyword(origin.constructor, origin.library.base_url)
            if base is not None:
                alts = join_urls(self.values.evaluate(base), alts, origin.library.append)
        return [(alt, url) for alt in alts], method, url

    def override(self, cls: str, last: str) -> tuple[cst.FunctionDef, cst.Call] | None:
        """A file subclass's `request` (what a session's verb methods call) and, in it, its call
        of the library's own (`super().request(method, urljoin(self.base, url), ...)`)."""
        if last not in CALLS or CALLS[last].builds:
            return None
        method = self.index.method(cls, "request")
        if method is None:
            return None
        for node in walk(method.body):
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and \
                    node.func.attr.value == "request" and (
                        isinstance(node.func.value, cst.Call) and dotted(node.func.value.func) == "super"
                        or self.library(dotted(node.func.value)) is not None):
                return method, node
        return None

    def _through_override(self, cls: str, last: str, url, url_frame, site: cst.Call) -> list:
        found = self.override(cls, last)
        if found is None:
            return []
        method, inner = found
        params = [p.name.value for p in (*method.params.posonly_params, *method.params.params)][1:]
        if len(params) < 2:
            return []
        positional = [a.value for a in inner.args if a.keyword is None and not a.star]
        inner_url = positional[1] if len(positional) > 1 else keyword(inner, "url")
        if inner_url is None:
            return []
        frame = PyFrame(method.name.value, {params[1]: (url, self.index.scope.get(id(site)), url_frame)},
                        site, (method.name.value,))
        return self.values.evaluate(inner_url, 0, frame)


def _returned(function: cst.FunctionDef) -> list:
    """The values a function's own `return` statements give (not those of functions it defines)."""
    out, stack = [], [function.body]
    while stack:
        cur = stack.pop()
        kind = type(cur)
        if kind is cst.Return:
            if cur.value is not None:
                out.append(cur.value)
            continue
        if kind in (cst.FunctionDef, cst.ClassDef, cst.Lambda):
            continue
        stack.extend(kids(cur))
    return out


def keyword(call: cst.Call, name: str):
    """The value of a call's keyword argument, or None."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None
