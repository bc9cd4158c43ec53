"""The requests a shell file makes, and the helpers' parameters bound at their call sites: for
each call of a helper, the requests it makes and the variables it sets with its parameters read
as that call's arguments."""

from __future__ import annotations

from bootlint.analysis.graphs import closure
from bootlint.analysis.urls import UrlInfo, distinct_meanings
from bootlint.model import Endpoint
from bootlint.frontends.shell.clients import CLIENTS, HTTP_CLIENTS, HttpCommand
from bootlint.frontends.shell.commands import unwrap
from bootlint.frontends.shell.index import ShellIndex
from bootlint.frontends.shell.syntax import (
    callee as command_callee, command_args, command_name, expansion_names, key, node_text,
)
from bootlint.frontends.shell.values import (
    MAX_CALL_DEPTH, POSITIONAL, REST, Bound, Frame, Words, rest_start,
)
from bootlint.util.lazyre import lazy
from bootlint.util.records import dataclass

# A read of the positional parameters as the shell writes one: `$1`, `${1:-x}`, `"$@"`, `${@:2}`,
# `$*`, `${#1}`, `${!1}`. A function whose text holds none reads no parameter in any of the ways
# mentions_params looks for (a local or global assigned from them is assigned in its text too).
_PARAMETER_READ = lazy(rb"\$\{?[#!]?[0-9@*]")


def http_command(node, words: Words, args: list | None = None) -> HttpCommand | None:
    """The parsed curl/wget command line of a `command` node, or None for other commands;
    ``args`` replaces its arguments (a helper's, bound to one call site)."""
    name = command_name(node)
    if name is None:
        return None
    if args is None:
        args = command_args(node)
    tool, _, args, wrappers = unwrap(name, args, words.literal)
    if tool not in HTTP_CLIENTS:
        return None
    cmd = CLIENTS[tool].parse(args, words.literal, words.index.reads_stdin(node))
    cmd.wrappers = wrappers
    return cmd


def api_urls(cmd: HttpCommand, words: Words) -> list[tuple[object, UrlInfo]]:
    """Each (url node, meaning) of a command's URLs that address the Runtime or Extensions API."""
    return [(url, info) for url in cmd.urls for info in distinct_meanings(words.evaluate(url))]


@dataclass
class Instance:
    """A request a helper makes for one call site: the helper's command line with its
    parameters bound to that call's arguments."""

    site: object            # the outermost call site (the line the user wrote)
    command: object         # the request's command in the innermost helper
    cmd: HttpCommand
    urls: list
    chain: tuple[str, ...]  # the helpers called, outermost first


def declared_name(word, words: Words, frame=None) -> str:
    """The variable a declaration's argument sets: `X=v`, `"X=$v"`, or in a helper read for one
    call site (``frame``) `"$1=$2"` and `"$1"`; "" for a flag or a name unknown before run time."""
    if word.type == "word" and node_text(word).startswith("-"):
        return ""
    target = word.child_by_field_name("name") if word.type == "variable_assignment" else word
    if target is None:
        return ""
    alts = words.evaluate(Bound(target, frame) if frame is not None else target)
    prefix, whole = "", len(alts) == 1
    for piece in alts[0] if len(alts) == 1 else ():
        if not piece.is_literal:
            whole = False
            break
        prefix += piece.text
    name = prefix.split("=", 1)[0] if whole or "=" in prefix else ""
    return name if name.isidentifier() else ""


@dataclass
class EnvInstance:
    """A variable a helper sets for one call site (`set_env() { export "$1=$2"; }`)."""

    site: object
    name: str
    exported: bool


class CallSites:
    """Every request of the file (:attr:`http`), and those of helpers whose URL or options come
    from their parameters read once per call site (:attr:`instances`), with the variables such
    helpers set for their call sites (:attr:`env_instances`)."""

    def __init__(self, index: ShellIndex, words: Words) -> None:
        self.index = index
        self.words = words
        self.http: dict[tuple[int, int], tuple[HttpCommand, list]] = {}
        for node in index.commands:
            cmd = http_command(node, words)
            if cmd is not None:
                self.http[key(node)] = (cmd, api_urls(cmd, words))
        # Requests whose URL or options come from the helper's parameters are read once per
        # call site (below), not once in the helper's body.
        self.parametric: set[tuple[int, int]] = set()
        self.instances: dict[tuple[int, int], list[Instance]] = {}
        self.env_instances: dict[tuple[int, int], list[EnvInstance]] = {}
        self._param_locals: dict[tuple[str, str], bool] = {}
        self._reads_params: dict[str, bool] = {}
        self._bind_call_sites()
        # Each command's requests and endpoints, by node, once the call sites are bound (the
        # later passes ask for every command, several times).
        self._requests: dict[object, list] = {}
        self._endpoints: dict[object, frozenset[Endpoint]] = {}

    def endpoints_of(self, node) -> frozenset[Endpoint]:
        found = self._endpoints.get(node)
        if found is None:
            found = self._endpoints[node] = frozenset(
                info.endpoint for _, urls in self.requests_of(node) for _, info in urls)
        return found

    def requests_of(self, node) -> list[tuple[HttpCommand, list]]:
        """The requests a command makes: its own, or those of the helper it calls (a list
        shared by the callers: never change it)."""
        found = self._requests.get(node)
        if found is None:
            found = self._requests[node] = self._find_requests((node.start_byte, node.end_byte))
        return found

    def _find_requests(self, k: tuple[int, int]) -> list[tuple[HttpCommand, list]]:
        entry = self.http.get(k)
        instances = self.instances.get(k)
        if instances is None:
            return [entry] if entry is not None and k not in self.parametric else []
        found = [entry] if entry is not None and k not in self.parametric else []
        found.extend((inst.cmd, inst.urls) for inst in instances)
        return found

    # -- helpers' parameters bound at call sites --------------------------------------------
    def reads_params(self, function: str) -> bool:
        """Could the function read its positional parameters at all: does the text of some
        definition of it hold a read of one? (Decided once per function, on the file's bytes:
        a file whose helpers take no arguments asks nothing more of their words.)"""
        found = self._reads_params.get(function)
        if found is None:
            data = self.words.src.encoded
            found = self._reads_params[function] = any(
                _PARAMETER_READ.search(data, begin, end) is not None
                for begin, end in self.index.definitions(function))
        return found

    def mentions_params(self, nodes, function: str | None) -> bool:
        """Do these words (written in ``function``, or outside any when it is None) read the
        positional parameters, directly or through the function's locals assigned from them
        (`local path="$1"`)?"""
        if function is not None and not self.reads_params(function):
            return False
        names: set[str] = set()
        for node in nodes:
            names |= expansion_names(node)
        if names & (POSITIONAL | REST):
            return True
        if function is None:
            return False
        local = self.index.locals.get(function, set())
        if any(self._local_from_params(function, n) for n in names & local):
            return True
        # A global the function itself sets from them first (`name=$1` in POSIX sh, no `local`).
        for node in nodes:
            for n in expansion_names(node) - local:
                own = self.words.own_assignment(function, n, node)
                if own is not None and expansion_names(own) & (POSITIONAL | REST):
                    return True
        return False

    def _local_from_params(self, function: str, name: str, depth: int = 0) -> bool:
        """Is a function's local assigned from its parameters (decided once per local)?"""
        cache_key = (function, name)
        cached = self._param_locals.get(cache_key)
        if cached is not None:
            return cached
        self._param_locals[cache_key] = False   # a local assigned from itself: not from parameters
        found = False
        for value in self.index.local_values.get(cache_key, ()):
            if value is None:
                continue
            names = expansion_names(value)
            if names & (POSITIONAL | REST) or (depth < 4 and any(
                    self._local_from_params(function, n, depth + 1)
                    for n in names & self.index.locals.get(function, set()))):
                found = True
                break
        self._param_locals[cache_key] = found
        return found

    def _bind_call_sites(self) -> None:
        index = self.index
        if not any(self.reads_params(function) for function in index.call_sites):
            return   # (no helper the file calls reads its parameters: none is bound per call)
        for node in index.commands:
            function = index.function_of(node) if key(node) in self.http else None
            if function is None or function not in index.call_sites or not self.reads_params(function):
                continue
            cmd, _ = self.http[key(node)]
            passes_rest = any(rest_start(a) is not None for a in command_args(node))
            if not passes_rest and not self.mentions_params(command_args(node), function):
                continue
            # Does the endpoint depend on the parameters (not only the request id in it)?
            self.words.parameters_unknown = True
            try:
                urls = api_urls(cmd, self.words)
            finally:
                self.words.parameters_unknown = False
            decided = urls and not any(info.unresolved for _, info in urls)
            if passes_rest or not decided:
                self.parametric.add(key(node))
        binding = self._functions_binding()
        for function, sites in index.call_sites.items():
            if function not in binding:
                continue  # its calls request and set nothing that depends on their arguments
            for site in sites:
                if self._site_is_bound_later(site):
                    continue
                frame = Frame(function, tuple(Bound(a, None) for a in command_args(site)), None,
                              site, (function,))
                self._instantiate(frame)

    def _functions_binding(self) -> set[str]:
        """Functions whose calls make requests or set variables that depend on the arguments:
        a parametric request, a declaration from the parameters, or a call passing them on to
        such a function."""
        index = self.index
        direct: set[str] = set()
        passes_on: dict[str, set[str]] = {}    # callee -> callers passing their parameters
        for function in index.call_sites:
            for node in index.commands_in.get(function, ()):
                if key(node) in self.parametric:
                    direct.add(function)
                    continue
                callee = command_callee(node)
                if callee in index.call_sites and self.mentions_params(command_args(node), function):
                    passes_on.setdefault(callee, set()).add(function)
            for node in index.declarations_in.get(function, ()):
                if self.mentions_params([c for c in node.children[1:] if c.is_named], function):
                    direct.add(function)
        return closure(direct, passes_on)

    def _site_is_bound_later(self, site) -> bool:
        """A call inside a helper that passes the helper's own parameters on: it is read when
        the helper's call sites are (a helper nothing calls is read with unknown parameters)."""
        owner = self.index.function_of(site)
        return owner is not None and owner in self.index.call_sites and \
            self.mentions_params(command_args(site), owner)

    def bind_args(self, node, frame: Frame) -> list:
        out = []
        for arg in command_args(node):
            start = rest_start(arg)
            if start is None:
                out.append(Bound(arg, frame))
                continue
            first = start - 1 + self.index.shift_at(frame.function, arg.start_byte)
            out.extend(frame.args[first:])
        return out

    def _instantiate(self, frame: Frame) -> None:
        index = self.index
        for node in index.commands_in.get(frame.function, ()):
            if key(node) in self.parametric:
                cmd = http_command(node, self.words, self.bind_args(node, frame))
                if cmd is not None:
                    self.instances.setdefault(key(frame.site), []).append(
                        Instance(frame.site, node, cmd, api_urls(cmd, self.words), frame.chain))
                continue
            callee = command_callee(node)
            if (callee in index.call_sites and callee not in frame.chain
                    and len(frame.chain) < MAX_CALL_DEPTH
                    and self.mentions_params(command_args(node), frame.function)):
                inner = Frame(callee, tuple(self.bind_args(node, frame)), frame, frame.site,
                              frame.chain + (callee,))
                self._instantiate(inner)
        for node in index.declarations_in.get(frame.function, ()):
            self._bind_declaration(node, frame)

    def _bind_declaration(self, node, frame: Frame) -> None:
        """`export "$1=$2"`, `declare -gx "$1=$2"`, `export "$1"` in a helper: the variable the
        call site names is set (and exported) for it."""
        keyword = node_text(node.children[0]) if node.children else ""
        words = [c for c in node.children[1:] if c.is_named]
        flags = [node_text(w) for w in words if w.type == "word" and node_text(w).startswith("-")]
        exported = keyword == "export" or any("x" in f for f in flags)
        if keyword == "local" or not self.mentions_params(words, frame.function):
            return
        for word in words:
            name = declared_name(word, self.words, frame)
            if name:
                self.env_instances.setdefault(key(frame.site), []).append(
                    EnvInstance(frame.site, name, exported or name in self.index.exported))
