"""Streamed responses in a shell bootstrap: each `/response` request whose command line names a
response mode (`-H 'Lambda-Runtime-Function-Response-Mode: streaming'`), with how its body is
sent and what it says about errors (:mod:`bootlint.model.streaming`).

curl facts this rests on (curl 7.88, see runtime-api.md "Response streaming"): `-T -` sends
standard input as it reads it (chunked); `-d`, `--data-binary @-` and `--data-binary @file`
read the whole body before connecting, even with `-H 'Transfer-Encoding: chunked'`; the curl
command line cannot send request trailers (only libcurl can).
"""

from __future__ import annotations

from bootlint.model import Endpoint, Piece
from bootlint.model.streaming import (ERROR_HEADERS, MODE_HEADER, Body, Encoding, Header,
                                      StreamPost, Streaming, literal_encoding)
from bootlint.frontends.shell.syntax import command_name, expansion_names, key, node_text
from bootlint.util.lazyre import lazy

# Per client: the options whose value streams the body when it is standard input, the options
# that read the whole body first, and whether the client can send trailers. Data, one entry each.
STREAMING_CLIENTS = {
    "curl": {"streams": {"upload-file"}, "whole": {"data", "data-ascii", "data-binary", "data-raw",
                                                  "data-urlencode", "json", "form", "form-string"},
             "trailers": False},
    "wget": {"streams": set(), "whole": {"post-data", "post-file", "body-data", "body-file"},
             "trailers": False},
    "http": {"streams": {"stdin"}, "whole": {"item", "raw"}, "trailers": False},
}
STDIN = ("-", "/dev/stdin")
ENCODERS = {"base64", "basenc"}     # commands whose output is base64
# How scripts write 8 NUL bytes: escapes printf and echo -e turn into NUL, or /dev/zero.
_NULS = lazy(r"(\\0|\\x00|\\000|\\u0000){8}|/dev/zero|\\0%\.0s")


def streaming_facts(lowering) -> Streaming | None:
    """The streamed `/response` posts of a lowered shell file (None when there are none)."""
    calls = {(c.span.line, c.span.column): c for c in lowering.model.api_calls(Endpoint.RESPONSE)}
    posts = []
    for node in lowering.index.commands:
        entry = lowering.sites.http.get(key(node))
        if entry is None or key(node) in lowering.sites.parametric:
            continue
        cmd, urls = entry
        for url_node, info in urls:
            if info.endpoint is not Endpoint.RESPONSE:
                continue
            post = _post(lowering, node, cmd, url_node)
            if post is not None:
                span = lowering.words.span(url_node)
                post.call = calls.get((span.line, span.column))
                posts.append(post)
            break
    return Streaming(posts) if posts else None


def _post(low, node, cmd, url_node) -> StreamPost | None:
    client = STREAMING_CLIENTS.get(cmd.tool)
    if client is None:
        return None
    headers = [_header(low, opt) for opt in cmd.get("header")]
    headers = [h for h in headers if h is not None]
    mode = next((h for h in headers if h.name.lower() == MODE_HEADER.lower()), None)
    if mode is None:
        return None
    post = StreamPost(low.words.span(url_node), cmd.tool, mode, sends_trailers=client["trailers"])
    post.sort_headers(headers)
    for opt in cmd.options:
        value = opt.inline if opt.inline is not None else (
            low.words.literal(opt.value) if opt.value is not None else None)
        shown = node_text(opt.flag) if opt.inline is not None else \
            f"{node_text(opt.flag)} {node_text(opt.value) if opt.value is not None else ''}".strip()
        if opt.name in client["streams"] and (opt.name == "stdin" or value in STDIN):
            post.body, post.body_span, post.body_text = Body.STREAMED, low.words.span(opt.flag), shown
        elif opt.name in client["whole"] or opt.name in client["streams"]:
            post.body, post.body_span, post.body_text = Body.WHOLE, low.words.span(opt.flag), shown
    producers = _producers(node)
    for producer in producers:
        for word in _strings(producer):
            text = node_text(word)
            for name in ERROR_HEADERS:
                if name.lower() in text.lower():
                    post.body_mentions.append(Header(low.words.span(word), name, text=text[:60]))
        if _NULS.search(node_text(producer)):
            post.delimiter = True
    return post


def _header(low, opt) -> Header | None:
    """One `-H 'Name: value'` option: its name, and the ways its value can read."""
    node = opt.value if opt.value is not None else opt.flag
    if node is None:
        return None
    if opt.inline is not None:
        alts = [(Piece(text=opt.inline),)]
    else:
        alts = low.words.evaluate(node)
    if not alts or not alts[0] or not alts[0][0].is_literal or ":" not in alts[0][0].text:
        return None
    name = alts[0][0].text.split(":", 1)[0].strip()
    values = []
    for alt in alts:
        if not alt or not alt[0].is_literal or ":" not in alt[0].text:
            continue
        first = Piece(text=alt[0].text.split(":", 1)[1].lstrip(), span=alt[0].span)
        values.append(tuple(p for p in (first, *alt[1:]) if not (p.is_literal and not p.text)))
    return Header(low.words.span(node), name, tuple(values), node_text(node),
                  _encoding(low, node, values))


def _encoding(low, node, values) -> Encoding:
    """Base64 when made by an encoder (`$(... | base64 -w0)`, a variable only ever set so) or a
    literal that is base64; raw otherwise."""
    if values and all(p.is_literal for alt in values for p in alt):
        return literal_encoding("".join(p.text for p in values[0]))
    if _encoded(node):
        return Encoding.BASE64
    names = expansion_names(node)
    for child in _walk(node):
        if child.type in ("simple_expansion", "expansion"):
            names |= expansion_names(child)
    if names and all(
            low.index.global_values.get(n) and all(_encoded(v) for v in low.index.global_values[n])
            for n in names):
        return Encoding.BASE64
    return Encoding.RAW


def _encoded(node) -> bool:
    for child in _walk(node):
        if child.type == "command":
            name = command_name(child)
            if name is not None and node_text(name).rsplit("/", 1)[-1] in ENCODERS:
                return True
    return False


def _producers(node) -> list:
    """What writes the request's standard input: the earlier elements of its pipeline."""
    cur = node
    if cur.parent is not None and cur.parent.type == "redirected_statement":
        cur = cur.parent
    parent = cur.parent
    if parent is None or parent.type != "pipeline":
        return []
    return [c for c in parent.named_children if c.end_byte <= cur.start_byte]


def _strings(node) -> list:
    return [c for c in _walk(node) if c.type in ("string", "raw_string", "word", "ansi_c_string")
            and c.parent is not None and c.parent.type not in ("string",)]


def _walk(node):
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(cur.children))
