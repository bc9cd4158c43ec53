"""Streamed responses in a Python bootstrap: each `/response` request that names a response mode,
with how its body is sent and what it says about errors (:mod:`bootlint.model.streaming`).

Client facts this rests on: requests, httpx, urllib and http.client's `request()` send a
generator or iterator body chunked, as it is produced, and a bytes or str body whole; none of
them can add trailers after the last chunk (http.client writes the final `0\\r\\n\\r\\n` itself).
http.client's low-level form (`putrequest`, `putheader`, `endheaders`, then `send()` of each
chunk, framed by hand) can: the runtime writes the last chunk and the trailers itself.
"""

from __future__ import annotations

import libcst as cst

from bootlint.model import Endpoint, Piece
from bootlint.model.streaming import (ERROR_HEADERS, MODE_HEADER, Body, Encoding,
                                      Header, StreamPost, Streaming, literal_encoding)
from bootlint.frontends.python.index import code, dotted, walk

# Per call (last name): where its headers and its body are, and whether a runtime using it can
# send trailers. Data, one entry each.
HEADER_KEYWORDS = ("headers",)
BODY_KEYWORDS = ("data", "content", "body", "json")
TRAILER_CAPABLE = frozenset({"putrequest"})     # chunks and trailers framed by hand with send()
CHUNK_WRITERS = frozenset({"send", "sendall", "write"})
ENCODERS = frozenset({"b64encode", "standard_b64encode", "encodebytes", "b2a_base64"})
WHOLE_MAKERS = frozenset({"dumps", "encode", "bytes", "str", "read", "getvalue", "join"})
STREAM_MAKERS = frozenset({"iter", "chain"})
NULS = "\x00" * 8


def streaming_facts(lowering, module: cst.Module) -> Streaming | None:
    """The streamed `/response` posts of a lowered Python module (None when there are none)."""
    return _Streams(lowering, module).facts()


class _Streams:
    def __init__(self, lowering, module: cst.Module) -> None:
        self.low = lowering
        self.values = lowering.values
        self.index = lowering.index
        self.module = module

    def span(self, node):
        return self.low.span(node)

    def facts(self) -> Streaming | None:
        calls = {(c.span.line, c.span.column): c for c in self.low.model.api_calls(Endpoint.RESPONSE)}
        delimiter = self._writes_nuls()
        posts = []
        for call in self.index.calls:
            method = self.low.clients.request_call(call)
            if method is None or Endpoint.RESPONSE not in self.low.requests.endpoints(call):
                continue
            post = self._post(call, method)
            if post is None:
                continue
            url_node, _, _ = self.low.clients.request_target(call, method)
            if url_node is not None:
                span = self.span(url_node)
                post.span = span
                post.call = calls.get((span.line, span.column))
            post.delimiter = delimiter
            posts.append(post)
        return Streaming(posts) if posts else None

    def _post(self, call: cst.Call, method: str) -> StreamPost | None:
        request = call
        if method == "urlopen" and call.args and isinstance(call.args[0].value, cst.Call) \
                and dotted(call.args[0].value.func).rsplit(".", 1)[-1] == "Request":
            request = call.args[0].value
        receiver = dotted(call.func.value) if isinstance(call.func, cst.Attribute) else ""
        headers = self._dict_headers(request)
        if method == "putrequest" and receiver:
            headers += self._putheaders(receiver)
        mode = next((h for h in headers if h.name.lower() == MODE_HEADER.lower()), None)
        if mode is None:
            return None
        post = StreamPost(self.span(call), method, mode, sends_trailers=method in TRAILER_CAPABLE)
        post.sort_headers(headers)
        if method == "putrequest":
            self._chunk_writes(receiver, post)
            return post
        body = self._body(request, method)
        if body is not None:
            post.body, post.body_span = self._body_kind(body, 0), self.span(body)
            if self._keyword(request, body) == "json":
                post.body = Body.WHOLE    # serialised whole by the client
            post.body_text = code(body)[:40]
            if post.body is Body.STREAMED:
                post.body_mentions = self._mentions(body)
        return post

    # -- headers ----------------------------------------------------------------------------
    def _dict_headers(self, call: cst.Call) -> list[Header]:
        value = next((a.value for a in call.args if a.keyword is not None
                      and a.keyword.value in HEADER_KEYWORDS), None)
        if value is None and dotted(call.func).rsplit(".", 1)[-1] == "request":
            positional = [a for a in call.args if a.keyword is None]
            value = positional[3].value if len(positional) > 3 else None
        if isinstance(value, cst.Name):
            found = self.index.assignments.get(value.value, [])
            value = found[0] if len(found) == 1 else None
        if not isinstance(value, cst.Dict):
            return []
        out = []
        for element in value.elements:
            if not isinstance(element, cst.DictElement):
                continue
            name = self.values.literal(element.key)
            if name:
                out.append(self._header(name, element.value))
        return out

    def _putheaders(self, receiver: str) -> list[Header]:
        out = []
        for call in self.index.calls:
            if isinstance(call.func, cst.Attribute) and call.func.attr.value == "putheader" and \
                    dotted(call.func.value) == receiver and len(call.args) >= 2:
                name = self.values.literal(call.args[0].value)
                if name:
                    out.append(self._header(name, call.args[1].value))
        return out

    def _header(self, name: str, value) -> Header:
        alts = tuple(self.values.evaluate(value))
        return Header(self.span(value), name, alts, code(value)[:60], self._encoding(value, 0))

    def _encoding(self, value, depth: int) -> Encoding:
        if depth > 4 or value is None:
            return Encoding.UNKNOWN
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            text = self.values.literal(value)
            return literal_encoding(text) if text is not None else Encoding.UNKNOWN
        if isinstance(value, cst.Call):
            name = dotted(value.func).rsplit(".", 1)[-1]
            if name in ENCODERS:
                return Encoding.BASE64
            if name in ("decode", "strip") and isinstance(value.func, cst.Attribute):
                return self._encoding(value.func.value, depth + 1)
            if name in ("dumps", "str", "repr", "format_exc"):
                return Encoding.RAW
            return Encoding.UNKNOWN
        if isinstance(value, cst.Name):
            found = [self._encoding(v, depth + 1) for v in self.index.assignments.get(value.value, [])]
            if found and all(e is Encoding.BASE64 for e in found):
                return Encoding.BASE64
            if found and all(e is Encoding.RAW for e in found):
                return Encoding.RAW
            return Encoding.UNKNOWN
        if isinstance(value, cst.FormattedString):
            return Encoding.RAW
        return Encoding.UNKNOWN

    # -- the body -------------------------------------------------------------------------------
    def _body(self, call: cst.Call, method: str):
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in BODY_KEYWORDS:
                return arg.value
        positional = [a for a in call.args if a.keyword is None]
        at = 2 if method == "request" else 1
        return positional[at].value if len(positional) > at else None

    @staticmethod
    def _keyword(call: cst.Call, value) -> str | None:
        for arg in call.args:
            if arg.value is value and arg.keyword is not None:
                return arg.keyword.value
        return None

    def _body_kind(self, body, depth: int) -> Body:
        if depth > 4:
            return Body.UNKNOWN
        if isinstance(body, cst.GeneratorExp):
            return Body.STREAMED
        if isinstance(body, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.Dict,
                             cst.BinaryOperation)):
            return Body.WHOLE
        if isinstance(body, cst.Call):
            name = dotted(body.func)
            last = name.rsplit(".", 1)[-1]
            function = self.index.function_defs.get(name)
            if function is not None:
                return Body.STREAMED if self._yields(function) else Body.UNKNOWN
            if last in STREAM_MAKERS:
                return Body.STREAMED
            if last in WHOLE_MAKERS:
                return Body.WHOLE
            return Body.UNKNOWN
        if isinstance(body, cst.Name):
            kinds = {self._body_kind(v, depth + 1) for v in self.index.assignments.get(body.value, [])}
            return kinds.pop() if len(kinds) == 1 else Body.UNKNOWN
        return Body.UNKNOWN

    def _yields(self, function) -> bool:
        return any(isinstance(n, cst.Yield) for n in walk(function.body))

    def _mentions(self, body) -> list[Header]:
        """Error header names written by the generator that makes the body."""
        function = None
        if isinstance(body, cst.Call):
            function = self.index.function_defs.get(dotted(body.func))
        if function is None:
            return []
        out = []
        for node in walk(function.body):
            if isinstance(node, cst.SimpleString):
                for name in ERROR_HEADERS:
                    if name.lower() in node.value.lower():
                        out.append(Header(self.span(node), name, text=node.value[:60]))
        return out

    def _chunk_writes(self, receiver: str, post: StreamPost) -> None:
        """http.client's send() of hand-framed chunks: the body streams; a write that starts with
        the last chunk (`0\\r\\n`) and names an error header sends it as a trailer."""
        writes = [c for c in self.index.calls if isinstance(c.func, cst.Attribute)
                  and c.func.attr.value in CHUNK_WRITERS and dotted(c.func.value) == receiver and c.args]
        if writes:
            post.body, post.body_span, post.body_text = Body.STREAMED, self.span(writes[0]), \
                code(writes[0])[:40]
        for write in writes:
            leaves = self._leaves(write.args[0].value)
            texts = [self.values.literal(leaf) for leaf in leaves]
            first = next((t for t in texts if t is not None), "") or ""
            for i, (leaf, text) in enumerate(zip(leaves, texts)):
                if text is None:
                    continue
                for name in ERROR_HEADERS:
                    at = text.lower().find(name.lower() + ":")
                    if at < 0:
                        continue
                    if not first.startswith("0\r\n"):
                        post.body_mentions.append(Header(self.span(leaf), name, text=text[:60]))
                        continue
                    rest = text[at + len(name) + 1:].split("\r\n", 1)[0].strip()
                    if rest:
                        encoding = literal_encoding(rest)
                        value = leaf
                    elif i + 1 < len(leaves):
                        value = leaves[i + 1]
                        encoding = self._encoding(value, 0)
                    else:
                        continue
                    post.trailers.append(Header(self.span(value), name, ((Piece(text=rest),),) if rest else (),
                                                code(value)[:60], encoding))

    def _leaves(self, node) -> list:
        """The operands of a `+` chain (and the parts of an f-string), in order."""
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            return self._leaves(node.left) + self._leaves(node.right)
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and \
                node.func.attr.value == "encode":
            return self._leaves(node.func.value)
        return [node]

    def _writes_nuls(self) -> bool:
        for node in walk(self.module):
            if isinstance(node, cst.SimpleString):
                text = self.values.literal(node)
                if text and NULS in text:
                    return True
            if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Multiply):
                left = self.values.literal(node.left) if isinstance(node.left, cst.SimpleString) else None
                if left and set(left) == {"\x00"} and isinstance(node.right, cst.Integer) \
                        and len(left) * int(node.right.value) >= 8:
                    return True
        return False
