"""Concurrent workers in a shell bootstrap (Lambda Managed Instances): background jobs, `xargs
-P` and `parallel` whose work loops on `next`; how many are started; the files they all write;
and how the shell Lambda started ends while they serve (:mod:`bootlint.model.concurrency`).

Facts of bash this rests on (pinned by tests that run bash): a background job (`cmd &`,
`( ... ) &`) is a child process with a copy of the shell's variables taken when it starts, so
a variable assigned before the jobs start has one value in all of them and `export` in one job
reaches no other; `$$` is the parent shell's PID in every job (`$BASHPID` is the job's own);
`wait` without operands returns 0 once every job has ended, `wait -n` as soon as one ends, with
its status (under errexit a failed worker then ends the shell).
"""

from __future__ import annotations

from bootlint.model import ApiCall, CallFunction, Endpoint, Loop, SetOption, flatten
from bootlint.model.concurrency import (
    MAX_CONCURRENCY, Concurrency, CountSource, ParentEnd, PathWrite, Worker, WorkerCount,
    WorkerKind, count_from_variable,
)
from bootlint.frontends.shell.commands import unwrap
from bootlint.frontends.shell.syntax import command_args, command_name, expansion_names, node_text

# Commands that run a command line once per input, several at a time, and the option that says
# how many at a time (0: as many as possible). Knowledge about commands is data.
PARALLEL_RUNNERS = {"xargs": ("-P", "--max-procs"), "parallel": ("-j", "--jobs")}
# Options of curl whose value is a file it writes.
CURL_WRITES = {"-D", "--dump-header", "-o", "--output", "--trace", "--trace-ascii", "--stderr"}
WRITERS = {"tee"}           # commands whose operands are files they write
# Paths that are no file shared by workers.
PRIVATE_PATHS = ("/dev/", "/proc/self/")
# Variables whose value differs in each worker; `$$` does not (the parent's PID in every job).
PER_WORKER = {"BASHPID", "RANDOM", "SRANDOM", "!", "BASH_SUBSHELL"}
SHARED_PID = "$"
DEADLINE_HEADER = b"lambda-runtime-deadline-ms"


def concurrency_facts(lowering, root) -> Concurrency | None:
    """The concurrency facts of a lowered shell file (None when it has no workers and never
    reads AWS_LAMBDA_MAX_CONCURRENCY)."""
    return _Workers(lowering, root).facts()


class _Workers:
    def __init__(self, lowering, root) -> None:
        self.low = lowering
        self.words = lowering.words
        self.index = lowering.index
        self.model = lowering.model
        self.root = root
        self._loops_on_next: dict[str, bool] = {}
        self._by_place = None

    def span(self, node):
        return self.low.words.span(node)

    # -- what the file holds --------------------------------------------------------------
    def facts(self) -> Concurrency | None:
        # Nothing to find without a job (`... &` needs an `&` in the text), a parallel runner
        # among the commands or a read of the concurrency variable: then no walk of every node.
        text = self.root.text
        if (b"&" not in text and MAX_CONCURRENCY.encode() not in text
                and not any(self._parallel_runner(c) for c in self.index.commands)):
            return None
        out = Concurrency()
        launches: list[tuple[object, object, list[str]]] = []   # (statement, count node, functions)
        # One query, run by tree-sitter in C: a walk in Python over every node cost as much as the
        # rest of lowering on a large file.
        found = _captures(self.root)
        reads = [n for n in found.get("variable", ()) if n.parent is not None
                 and n.parent.type in ("simple_expansion", "expansion")]
        waits = sorted(c.start_byte for c in self.index.commands if command_name(c) is not None
                       and node_text(command_name(c)) == "wait")
        for node in _backgrounded(found.get("background", ())):
            if not _restarts(node, waits):
                launches.append((node, None, self._functions_run(node)))
        for node in self.index.commands:
            name = command_name(node)
            if name is not None and node_text(name).rsplit("/", 1)[-1] in PARALLEL_RUNNERS:
                runner = self._parallel_runner(node)
                if runner is not None:
                    launches.append(runner)
        # (Read anywhere in the text: the header's name is written in no other sense.)
        out.deadline_read = DEADLINE_HEADER in self.low.src.encoded.lower()
        if reads:
            out.reads_max_concurrency = self.span(reads[0])
        workers = [(stmt, count, fns) for stmt, count, fns in launches if self._serves(stmt, fns)]
        if len(workers) == 1 and workers[0][1] is None and _enclosing_loop(workers[0][0]) is None:
            workers = []   # one loop run in the background: one invocation at a time, no pool
        if not workers and not reads:
            return None
        # Jobs written out one by one (`worker & worker &`) count together, at the first.
        by_work: dict[tuple, list] = {}
        for stmt, _, fns in workers:
            by_work.setdefault(tuple(fns) or (stmt.start_byte,), []).append(stmt)
        for stmt, count_node, fns in workers:
            same = by_work[tuple(fns) or (stmt.start_byte,)]
            count = self._count(stmt, count_node, len(same))
            if count.source is CountSource.LITERAL and _enclosing_loop(stmt) is None and count_node is None:
                count = WorkerCount(count.source, self.span(same[0]), count.text)
            out.workers.append(Worker(self.span(stmt), WorkerKind.PROCESS, count,
                                      _one_line(node_text(stmt))[:60]))
        for stmt, _, fns in workers:
            out.shared_writes.extend(self._shared_writes(stmt, fns, [w[0] for w in workers]))
        # (`xargs -P` and `parallel` run in the foreground and wait for their children.)
        jobs = [stmt for stmt, count_node, _ in workers if count_node is None]
        if jobs:
            out.parent_ends = self._parent_ends(jobs)
        return out

    # -- which launches are workers ---------------------------------------------------------
    def _functions_run(self, stmt) -> list[str]:
        """The file's functions a statement calls (directly, or by name through `bash -c`)."""
        names = []
        for node in _walk(stmt):
            if node.type == "command":
                name = command_name(node)
                text = self.words.literal(name) if name is not None else None
                if text in self.index.functions:
                    names.append(text)
        return names

    def _parallel_runner(self, node):
        """`xargs -P N ... bash -c worker`, `parallel -j N worker ::: ...`: the count's node and
        the file's function it runs (exported with `export -f`)."""
        name = command_name(node)
        if name is None:
            return None
        tool, _, args, _ = unwrap(name, command_args(node), self.words.literal)
        options = PARALLEL_RUNNERS.get(tool)
        if options is None:
            return None
        count = None
        for i, arg in enumerate(args):
            text = self.words.literal(arg) or ""
            for opt in options:
                if text == opt and i + 1 < len(args):
                    count = args[i + 1]
                elif text.startswith(opt) and len(text) > len(opt) and not opt.startswith("--"):
                    count = arg
                elif opt.startswith("--") and text.startswith(opt + "="):
                    count = arg
        if count is None:
            return None
        functions = []
        for arg in args:
            for word in (self.words.literal(arg) or "").split():
                if word in self.index.functions:
                    functions.append(word)
        return (node, count, functions)

    def _serves(self, stmt, functions: list[str]) -> bool:
        """Does this launch's work loop on `next`?"""
        inside = self._model_nodes_in(stmt)
        return self._loops_on_next_in(inside) or any(self._function_loops(f) for f in functions)

    def _model_nodes_in(self, stmt) -> list:
        """The model's nodes written inside a statement (found by bisection over the nodes in
        source order: a file with thousands of background jobs must not cost their square)."""
        from bisect import bisect_left

        if self._by_place is None:
            nodes = sorted(self.model.all_nodes(), key=lambda n: (n.span.line, n.span.column))
            self._by_place = (nodes, [(n.span.line, n.span.column) for n in nodes])
        nodes, places = self._by_place
        span = self.span(stmt)
        start, end = (span.line, span.column), (span.end_line, span.end_column)
        out = []
        for node in nodes[bisect_left(places, start):]:
            if (node.span.line, node.span.column) > end:
                break
            if (node.span.end_line, node.span.end_column) <= end:
                out.append(node)
        return out

    def _loops_on_next_in(self, nodes: list) -> bool:
        for node in nodes:
            if isinstance(node, Loop):
                body = flatten(node.cond + node.body)
                if any(isinstance(n, ApiCall) and n.endpoint is Endpoint.NEXT for n in body):
                    return True
                if any(isinstance(n, CallFunction) and self._requests_next(n.name, set()) for n in body):
                    return True
            if isinstance(node, CallFunction) and self._function_loops(node.name):
                return True
        return False

    def _function_loops(self, name: str, seen: set | None = None) -> bool:
        seen = set() if seen is None else seen
        if name in seen or name not in self.model.functions:
            return False
        seen.add(name)
        if name not in self._loops_on_next:
            self._loops_on_next[name] = False
            nodes = flatten(self.model.functions[name])
            self._loops_on_next[name] = self._loops_on_next_in(nodes) or any(
                isinstance(n, CallFunction) and self._function_loops(n.name, seen) for n in nodes)
        return self._loops_on_next[name]

    def _requests_next(self, name: str, seen: set) -> bool:
        if name in seen or name not in self.model.functions:
            return False
        seen.add(name)
        nodes = flatten(self.model.functions[name])
        return any(isinstance(n, ApiCall) and n.endpoint is Endpoint.NEXT for n in nodes) or any(
            isinstance(n, CallFunction) and self._requests_next(n.name, seen) for n in nodes)

    # -- how many ---------------------------------------------------------------------------
    def _count(self, stmt, count_node, same_sites: int) -> WorkerCount:
        if count_node is not None:   # xargs -P N / parallel -j N
            text = self.words.literal(count_node) or ""
            value = count_node
            for opt in ("-P", "-j", "--max-procs=", "--jobs="):
                if text.startswith(opt) and len(text) > len(opt):
                    return self._value_count(count_node, text[len(opt):])
            if self.words.literal(value) == "0":
                return WorkerCount(CountSource.UNBOUNDED, self.span(value), "0")
            return self._word_count(value)
        loop = _enclosing_loop(stmt)
        if loop is None:
            return WorkerCount(CountSource.LITERAL, self.span(stmt), str(same_sites))
        if loop.type == "while_statement":
            cond = loop.child_by_field_name("condition")
            names = set()
            for node in _walk(cond) if cond is not None else ():
                if node.type in ("simple_expansion", "expansion"):
                    names |= expansion_names(node)
            if cond is None or node_text(cond).strip().rstrip(";").strip() in ("true", ":", "[ 1 ]"):
                return WorkerCount(CountSource.UNBOUNDED, self.span(loop), "while true")
            return self._bound_in(cond)
        if loop.type == "c_style_for_statement":
            return self._bound_in(loop)
        # for NAME in WORDS: the count is how many words, or seq's last operand.
        values = [c for c in loop.children if c.is_named and c.type not in ("variable_name", "do_group", "comment")]
        if not values:
            return WorkerCount(CountSource.UNKNOWN)
        if len(values) == 1 and values[0].type == "command_substitution":
            inner = [c for c in values[0].named_children if c.type == "command"]
            if inner and self.words.literal(command_name(inner[0])) == "seq":
                operands = [a for a in command_args(inner[0])
                            if not (self.words.literal(a) or "").startswith("-")]
                if operands:
                    return self._word_count(operands[-1])
            return WorkerCount(CountSource.UNKNOWN)
        if all(self.words.literal(v) is not None for v in values):
            return WorkerCount(CountSource.LITERAL, self.span(values[0]), node_text(values[0]) if len(values) == 1
                               else f"{len(values)} words")
        if any(v.type == "brace_expression" for v in values):
            return WorkerCount(CountSource.LITERAL, self.span(values[0]), node_text(values[0]))
        return WorkerCount(CountSource.UNKNOWN)

    def _bound_in(self, node) -> WorkerCount:
        """A loop's bound written in its condition (`[ $i -lt $N ]`, `((i < N))`)."""
        found = None
        for child in _walk(node):
            if child.type in ("simple_expansion", "expansion"):
                count = self._word_count(child)
                if count.source is not CountSource.UNKNOWN:
                    found = count if found is None or found.source is CountSource.OTHER else found
            elif child.type in ("variable_name", "word") and child.parent is not None and \
                    child.parent.type == "binary_expression" and child.parent.parent is not None and \
                    child.parent.parent.type == "c_style_for_statement" and \
                    child.parent.named_children[0] != child:   # the bound, not the counter
                # `for ((i = 0; i < N; i++))`: a bare name in arithmetic is the variable.
                name = node_text(child)
                alts = [a for v in self.index.global_values.get(name) or []
                        for a in self._expand(self.words.evaluate(v), 0)]
                count = self._classify(alts, child)
                if count.source is not CountSource.UNKNOWN:
                    return count
            elif child.type == "number" and found is None and child.parent is not None \
                    and child.parent.type == "binary_expression":
                found = WorkerCount(CountSource.LITERAL, self.span(child), node_text(child))
        return found or WorkerCount(CountSource.UNKNOWN)

    def _word_count(self, node) -> WorkerCount:
        return self._classify(self._expand(self.words.evaluate(node), 0), node)

    def _expand(self, alts, depth: int) -> list:
        """The alternatives with each variable the evaluation left unknown replaced by the ways
        its assignments read (`N=${AWS_LAMBDA_MAX_CONCURRENCY:-1}` then `$N`)."""
        out = []
        for alt in alts:
            names = [p.var for p in alt if not p.is_literal and p.var != MAX_CONCURRENCY
                     and self.index.global_values.get(p.var)]
            if len(alt) == 1 and names and depth < 4:
                for value in self.index.global_values[names[0]]:
                    out.extend(self._expand(self.words.evaluate(value), depth + 1))
            else:
                out.append(alt)
        return out

    def _value_count(self, node, text: str) -> WorkerCount:
        if text.isdigit():
            return WorkerCount(CountSource.UNBOUNDED if text == "0" else CountSource.LITERAL,
                               self.span(node), text)
        return self._word_count(node)

    def _classify(self, alts, node) -> WorkerCount:
        span, text = self.span(node), node_text(node)
        for alt in alts:
            for piece in alt:
                if piece.var == MAX_CONCURRENCY:
                    source = count_from_variable(piece.default)
                    # `N=$AWS_LAMBDA_MAX_CONCURRENCY; [ -n "$N" ] || N=1`: 1 is another value.
                    if source is CountSource.VARIABLE_NO_DEFAULT and piece.default is None and any(
                            len(a) == 1 and a[0].is_literal and a[0].text.strip() == "1" for a in alts):
                        source = CountSource.MAX_CONCURRENCY
                    return WorkerCount(source, span, text, piece.default)
        if alts and all(p.is_literal for a in alts for p in a):
            return WorkerCount(CountSource.LITERAL, span, text)
        if alts and all(not p.is_literal and p.var not in ("", None) for a in alts for p in a):
            return WorkerCount(CountSource.OTHER, span, text)
        return WorkerCount(CountSource.UNKNOWN)

    # -- files every worker writes ----------------------------------------------------------
    def _shared_writes(self, stmt, functions: list[str], launches: list) -> list[PathWrite]:
        bodies = [stmt] + [self.index.functions[f] for f in self._closure(functions)]
        first_launch = min(s.start_byte for s in launches)
        inside = [(b.start_byte, b.end_byte) for b in bodies]
        out = []
        for body in bodies:
            for node in _walk(body):
                for target in self._written(node):
                    why = self._same_everywhere(target, inside, first_launch)
                    if why:
                        out.append(PathWrite(self.span(target), node_text(target), why))
        return out

    def _closure(self, functions: list[str]) -> list[str]:
        seen: list[str] = []
        todo = list(functions)
        while todo:
            name = todo.pop()
            if name in seen or name not in self.index.functions:
                continue
            seen.append(name)
            todo.extend(self._functions_run(self.index.functions[name]))
        return seen

    def _written(self, node) -> list:
        """The path words a node writes: `> file`, `>> file`, `curl -D file`, `tee file`."""
        if node.type == "file_redirect":
            op = next((c for c in node.children if not c.is_named), None)
            dest = node.child_by_field_name("destination")
            # (`>>` appends: a log all workers add lines to is shared on purpose)
            if op is not None and node_text(op) in (">", ">|", "&>") and dest is not None:
                return [dest]
            return []
        if node.type != "command":
            return []
        name = command_name(node)
        if name is None:
            return []
        tool, _, args, _ = unwrap(name, command_args(node), self.words.literal)
        if tool == "curl":
            out = []
            for i, arg in enumerate(args):
                if (self.words.literal(arg) or "") in CURL_WRITES and i + 1 < len(args):
                    out.append(args[i + 1])
            return out
        if tool in WRITERS:
            texts = [self.words.literal(a) or "" for a in args]
            if any(t in ("-a", "--append") for t in texts):
                return []
            return [a for a, t in zip(args, texts) if not (t or "-").startswith("-")]
        return []

    def _same_everywhere(self, target, inside: list[tuple[int, int]], first_launch: int) -> str:
        """Why this path is the same in every worker ("" when it may differ, or is no file)."""
        alts = self.words.evaluate(target)
        if not alts:
            return ""
        text = node_text(target)
        names = _all_expansions(target)
        if any(n in PER_WORKER for n in names):
            return ""
        if not names:
            literal = self.words.literal(target)
            if literal is None or literal.startswith(PRIVATE_PATHS) or literal in ("-", ""):
                return ""
            return "a fixed path"
        reasons = []
        for name in names:
            if name == SHARED_PID:
                reasons.append("`$$` is the PID of the shell that started the workers, the same in each")
                continue
            nodes = self.index.assignment_nodes.get(name) or []
            if not nodes or name in self.index.locals.get(self.index.function_of(target) or "", ()):
                return ""
            if any(any(a <= n.start_byte < b for a, b in inside) or n.start_byte > first_launch
                   for n in nodes):
                return ""   # (re)assigned by the worker itself: its own
            values = self.index.global_values.get(name) or []
            made = any("mktemp" in node_text(v) for v in values)
            reasons.append(f"`{name}` is {'made' if made else 'set'} once, before the workers start, "
                           f"and every worker gets the same value")
        if any(p.text.startswith(PRIVATE_PATHS) for a in alts for p in a[:1] if p.is_literal):
            return ""
        return "; ".join(reasons) or text

    # -- how the shell Lambda started ends --------------------------------------------------
    def _parent_ends(self, launches: list) -> list[ParentEnd]:
        """After the last top-level statement that starts workers: a `wait` for all of them, or
        how the script can end first."""
        top = [c for c in self.root.named_children if c.type != "comment"]
        starts = [i for i, stmt in enumerate(top) if self._starts_workers(stmt, launches)]
        if not starts:
            return []   # started inside a function the file calls elsewhere: not followed
        after = top[starts[-1] + 1:]
        last_launch = max(launches, key=lambda s: s.end_byte)
        for stmt in after:
            if _forever(stmt, self.words):
                return []   # the first shell stays (`while true; do sleep 60; done`, `sleep infinity`)
            for node in _walk(stmt):
                if node.type != "command":
                    continue
                name = self.words.literal(command_name(node)) if command_name(node) is not None else None
                if name == "wait":
                    args = [self.words.literal(a) or "" for a in command_args(node)]
                    any_one = any(a in ("-n",) or (a.startswith("-") and "n" in a) for a in args)
                    pids = [a for a in args if not a.startswith("-")]
                    if self._errexit_at(node) and (any_one or pids) and not self._guarded(node):
                        return [ParentEnd(self.span(node), (
                            f"`{_one_line(node_text(node))}` returns a worker's exit status, and errexit "
                            f"({self._errexit_why(node)}) ends the shell when that status is not 0, "
                            f"while the other workers still serve"))]
                    if any_one:
                        if _enclosing_loop(node) is not None:
                            return []
                        return [ParentEnd(self.span(node), (
                            f"`{_one_line(node_text(node))}` returns as soon as one worker ends, and then "
                            f"the script goes on to its end, while the other workers still serve"))]
                    return []
                if name == "exit" or name == "exec":
                    return [ParentEnd(self.span(node), (
                        f"`{_one_line(node_text(node))}` ends the shell before anything waits for the workers"))]
                if name in self.index.functions and self._function_loops(name):
                    return []   # the shell serves too, in the foreground
        return [ParentEnd(self.span(last_launch), (
            "nothing waits for the workers after this: the script reaches its end and exits while "
            "they serve"))]

    def _starts_workers(self, stmt, launches: list) -> bool:
        if any(stmt.start_byte <= s.start_byte < stmt.end_byte or s is stmt for s in launches):
            return True
        return False

    def _errexit_at(self, node) -> bool:
        line = node.start_point[0] + 1
        on = self.model.errexit_at_start
        for event in self.model.main:
            if isinstance(event, SetOption) and event.errexit is not None and event.span.line < line:
                on = event.errexit
        return on

    def _errexit_why(self, node) -> str:
        line = node.start_point[0] + 1
        why = self.model.errexit_origin or "on from the start"
        for event in self.model.main:
            if isinstance(event, SetOption) and event.errexit and event.span.line < line:
                why = f"`{event.text}` on line {event.span.line}"
        return why

    @staticmethod
    def _guarded(node) -> bool:
        cur = node.parent
        while cur is not None and cur.type != "program":
            if cur.type in ("list", "negated_command") or cur.type.endswith("_statement") and \
                    cur.type in ("if_statement", "while_statement"):
                return True
            cur = cur.parent
        return False


_QUERY = """
("&") @background
((variable_name) @variable (#eq? @variable "AWS_LAMBDA_MAX_CONCURRENCY"))
"""


def _captures(root) -> dict[str, list]:
    import tree_sitter
    import tree_sitter_bash

    global _COMPILED
    if _COMPILED is None:
        _COMPILED = tree_sitter.Query(tree_sitter.Language(tree_sitter_bash.language()), _QUERY)
    return tree_sitter.QueryCursor(_COMPILED).captures(root)


_COMPILED = None


def _walk(node):
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(cur.children))


def _backgrounded(amps) -> list:
    """The statements run as background jobs: each is the named node before an `&`. Its siblings
    are taken from the parent's list of children, once per parent (tree-sitter finds a sibling
    by scanning that list: asking it for each `&` of a long block would cost its length each)."""
    from bisect import bisect_left

    out = []
    lists: dict[tuple, tuple[list, list[int]]] = {}
    for amp in amps:
        parent = amp.parent
        if parent is None:
            continue
        where = (parent.start_byte, parent.end_byte, parent.type)
        if where not in lists:
            children = parent.children
            lists[where] = (children, [c.start_byte for c in children])
        children, starts = lists[where]
        i = bisect_left(starts, amp.start_byte) - 1
        while i >= 0 and (not children[i].is_named or children[i].type in ("comment", "heredoc_body")):
            i -= 1
        if i >= 0 and children[i].type not in ("word", "string"):
            out.append(children[i])
    return out


# Commands that never return by themselves: a first shell that runs one stays.
NEVER_RETURN = {("sleep", "infinity"), ("tail", "-f")}


def _forever(stmt, words) -> bool:
    """A top-level statement that keeps the shell running: an endless loop, `sleep infinity`."""
    if stmt.type == "while_statement":
        cond = stmt.child_by_field_name("condition")
        return cond is not None and node_text(cond).strip().rstrip(";").strip() in ("true", ":", "[ 1 ]")
    if stmt.type == "command":
        name = command_name(stmt)
        args = [words.literal(a) or "" for a in command_args(stmt)]
        tool = node_text(name) if name is not None else ""
        return any(tool == t and a in args for t, a in NEVER_RETURN)
    return False


def _restarts(node, waits: list[int]) -> bool:
    """A job started again in a loop that waits for one to end first (`while true; do wait -n;
    worker & done`): it replaces a worker that ended, the pool keeps its size. ``waits``: the
    start bytes of the file's `wait` commands, in order."""
    from bisect import bisect_left

    loop = _enclosing_loop(node)
    if loop is None:
        return False
    i = bisect_left(waits, loop.start_byte)
    return i < len(waits) and waits[i] < node.start_byte


def _enclosing_loop(node):
    cur = node.parent
    while cur is not None and cur.type not in ("function_definition", "program"):
        if cur.type in ("for_statement", "c_style_for_statement", "while_statement"):
            return cur
        cur = cur.parent
    return None


def _all_expansions(node) -> set[str]:
    names = set()
    for cur in _walk(node):
        if cur.type in ("simple_expansion", "expansion"):
            names |= expansion_names(cur)
        elif cur.type in ("command_substitution", "arithmetic_expansion"):
            names.add("BASHPID" if "BASHPID" in node_text(cur) or "sh -c" in node_text(cur) else "?cmd")
    return names


def _one_line(text: str) -> str:
    return " ".join(text.split())
