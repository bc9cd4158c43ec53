"""One pass over a shell tree that indexes what later passes look up: functions, assignments
(global, and each function's `local` ones), commands, call sites, `shift`s, exported names and
nesting depth."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import field

from bootlint.frontends.shell.syntax import MAX_NESTING, callee, command_args, command_name, node_text
from bootlint.util.lazyre import lazy
from bootlint.util.records import dataclass


@dataclass
class ShellIndex:
    """The tree's functions, assignments, commands, declarations and comments, filed by name and
    by the function they are written in (built once per file by :func:`build_index`)."""

    functions: dict[str, object] = field(default_factory=dict)      # name -> function node
    assignments: dict[str, list] = field(default_factory=dict)      # name -> value nodes
    assignment_nodes: dict[str, list] = field(default_factory=dict)  # name -> assignment nodes
    commands: list = field(default_factory=list)                     # every `command` node
    exported: set[str] = field(default_factory=set)
    allexport: bool = False
    sources: bool = False        # the file sources other files (user code may define functions)
    max_depth: int = 0   # how deep the tree nests when deeper than MAX_NESTING (see max_depth)
    comments: list = field(default_factory=list)                     # every comment node
    # Scopes: names a function declares `local` (also `declare`/`typeset` without -g), their
    # values there; every other assignment, inside a function or not, is global.
    locals: dict[str, set[str]] = field(default_factory=dict)        # function -> local names
    local_values: dict[tuple[str, str], list] = field(default_factory=dict)  # (function, name) -> values
    global_values: dict[str, list] = field(default_factory=dict)     # name -> values
    shifts: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # function -> (byte, n)
    call_sites: dict[str, list] = field(default_factory=dict)        # function -> command nodes
    # Calls written in a `trap '...'` action (parsed where they stand in the file): they bind a
    # function's `$1`.. when it runs from the trap, and are no step of the flow where `trap` is.
    trap_sites: dict[str, list] = field(default_factory=dict)        # function -> command nodes
    commands_in: dict[str | None, list] = field(default_factory=dict)  # function (None: main) -> commands
    declarations_in: dict[str | None, list] = field(default_factory=dict)  # function -> export/declare/...
    _ranges: list[tuple[int, int, str]] = field(default_factory=list)  # function bodies, by start
    _starts: list[int] = field(default_factory=list)
    _reach: list[int] = field(default_factory=list)   # the furthest end among ranges[:i+1]
    _loops: list[tuple[int, int]] = field(default_factory=list)  # outermost loops' byte ranges
    loop_ranges: list[tuple[int, int]] = field(default_factory=list)  # every loop's, by start
    _loop_parents: list[int] = field(default_factory=list)  # the loop around each (-1: none)
    # The redirected statement or pipeline that directly holds a node, by (start, end, type), and
    # the variable a command's output is assigned to, by its place: found from the holders down,
    # once. (tree-sitter finds a node's parent by descending from the root through every earlier
    # sibling: asked for each command of a file, quadratic in its length.)
    _holders: dict[tuple[int, int, str], object] = field(default_factory=dict)
    _assigned: dict[tuple[int, int], str] = field(default_factory=dict)
    # Where each `$(...)`, backquote and `<(...)` starts, in order (nested ones too).
    _substitution_starts: list[int] = field(default_factory=list)

    def in_loop_or_function(self, node) -> bool:
        """Whether a loop or a function definition contains the node (a binary search: a walk
        up tree-sitter's parents costs the node's depth, for every command)."""
        if self.function_of(node) is not None:
            return True
        at = bisect_right(self._loops, (node.start_byte, float("inf"))) - 1
        return at >= 0 and node.start_byte < self._loops[at][1]

    def region_of(self, node) -> tuple[int, int] | None:
        """The byte range of the innermost loop or function definition around the node (None:
        the file's top level), by binary search: tree-sitter's parents cost the node's depth."""
        start = node.start_byte
        best: tuple[int, int] | None = None
        function = self.function_of(node)
        if function is not None:
            definition = self.functions.get(function)
            if definition is not None and definition.start_byte <= start < definition.end_byte:
                best = (definition.start_byte, definition.end_byte)
        at = bisect_right(self.loop_ranges, (start, float("inf"))) - 1
        # Loops nest, so a loop that contains the node contains the last loop starting before it
        # too: up that loop's chain of loops around it, the first that contains the node is the
        # innermost (a scan back over every earlier loop was quadratic at a long file's top level).
        while at >= 0 and (best is None or self.loop_ranges[at][0] > best[0]):
            begin, end = self.loop_ranges[at]
            if start < end:
                return (begin, end)
            at = self._loop_parents[at]
        return best

    def holder(self, node):
        """The redirected statement or pipeline written directly around the node, else None."""
        return self._holders.get((node.start_byte, node.end_byte, node.type))

    def statement_context(self, node) -> tuple[object | None, object | None]:
        """A command's redirected statement (`cmd > f`, `cmd <<< "$x"`) and the pipeline it (or
        that statement) is an element of, each None when there is none."""
        redirected = pipeline = self.holder(node)
        if redirected is not None and redirected.type == "redirected_statement":
            pipeline = self.holder(redirected)
        else:
            redirected = None
        return redirected, (pipeline if pipeline is not None and pipeline.type == "pipeline" else None)

    def reads_stdin(self, node) -> bool:
        """Is something piped or redirected into the command (`printf ... | http POST url`)?"""
        redirected, pipeline = self.statement_context(node)
        if redirected is not None and any(
                c.type in ("herestring_redirect", "heredoc_redirect") or (
                    c.type == "file_redirect" and c.text.lstrip(b"0123456789").startswith(b"<"))
                for c in redirected.children):
            return True
        if pipeline is not None:
            element = redirected if redirected is not None else node
            named = [c for c in pipeline.children if c.is_named]
            return bool(named) and named[0].start_byte != element.start_byte
        return False

    def may_hold_substitution(self, node) -> bool:
        """Whether a substitution starts within the node's bytes (a node of the indexed tree
        holds none when none does: a node's descendants lie within its bytes), by binary search
        instead of a walk of the node."""
        starts = self._substitution_starts
        if not starts:
            return False
        at = bisect_left(starts, node.start_byte)
        return at < len(starts) and starts[at] < node.end_byte

    def assigned_name(self, node) -> str | None:
        """The variable a command's output is assigned to (X=$(cmd), X="$(cmd)", local X=...)."""
        return self._assigned.get((node.start_byte, node.end_byte))

    def function_of(self, node) -> str | None:
        """The innermost function of the file whose definition contains the node (a binary
        search, then back only over ranges that can still reach the node)."""
        start = node.start_byte
        j = bisect_right(self._starts, start) - 1
        while j >= 0 and self._reach[j] > start:
            begin, end, name = self._ranges[j]
            if begin <= start < end:
                return name
            j -= 1
        return None

    def definitions(self, function: str) -> list[tuple[int, int]]:
        """The byte ranges of every definition of the function in the file."""
        return [(begin, end) for begin, end, name in self._ranges if name == function]

    def shift_at(self, function: str, byte: int) -> int:
        """How many positional parameters `shift` has dropped before this byte of the function
        (straight-line: a `shift` anywhere before counts)."""
        return sum(n for at, n in self.shifts.get(function, ()) if at < byte)



_WORD = lazy(r"[A-Za-z_][A-Za-z0-9_.:-]*")

# The node kinds the index files, each with the capture it is filed under (a test checks that a
# tree-sitter query of these kinds finds the same nodes on every fixture).
_KINDS = {"function_definition": "function", "variable_assignment": "assignment", "command": "command",
          "declaration_command": "declaration", "comment": "comment", "while_statement": "loop",
          "for_statement": "loop", "c_style_for_statement": "loop",
          "redirected_statement": "holder", "pipeline": "holder",
          "command_substitution": "substitution", "process_substitution": "substitution"}


# Named nodes that neither are nor hold any of them (tokens, and `$name`, which holds only its
# name, as tree-sitter-bash's node-types.json says): a third of a file's named nodes, not entered.
_HOLD_NONE = frozenset({"word", "variable_name", "special_variable_name", "string_content",
                        "raw_string", "simple_expansion", "file_descriptor"})


def captures(root) -> dict[str, list]:
    """The nodes of :data:`_KINDS` under ``root``, by capture name, in document order (a node
    before the nodes it holds). A walk in
    Python over the named nodes: as fast as a tree-sitter query run in C at every size measured
    (2,000 to 200,000 nodes: 0.30/2.5/33 ms against the query's 0.25/2.7/38 ms), and without the
    query's 2-5 ms to build, which a cold check of a 30-line bootstrap spent a third of its lint on."""
    found: dict[str, list] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        kind = node.type
        if kind in _HOLD_NONE:
            continue
        kind = _KINDS.get(kind)
        if kind is not None:
            found.setdefault(kind, []).append(node)
        children = node.named_children
        if children:
            children.reverse()
            stack.extend(children)
    return found


def max_depth(root, limit: int = MAX_NESTING) -> int:
    """How deep the tree nests (the root at depth 0) when that is deeper than ``limit``; else
    at most ``limit``, not necessarily the depth. By a cursor (inputs may nest thousands deep,
    so no recursion), into only the subtrees with enough nodes to reach past the limit: a node
    at depth d with n nodes under it and itself reaches depth d + n - 1 at most. A long file of
    short statements is then measured from its top-level statements, not from every node."""
    if root.descendant_count - 1 <= limit:
        return 0
    cursor = root.walk()
    depth = deepest = 0
    deep_enough = True
    while True:
        if deep_enough and cursor.goto_first_child():
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            while not cursor.goto_next_sibling():
                if not cursor.goto_parent():
                    return deepest
                depth -= 1
        deep_enough = depth + cursor.node.descendant_count - 1 > limit


def build_index(root) -> ShellIndex:
    """File the tree's functions, assignments, commands, declarations and comments, each in
    source order with the innermost function it is written in."""
    index = ShellIndex()
    index.max_depth = max_depth(root)
    found = captures(root)
    by_start = lambda n: n.start_byte  # noqa: E731 (captures are grouped by name, not ordered)
    for node in sorted(found.get("function", ()), key=by_start):
        name = node.child_by_field_name("name")
        if name is not None:
            # The last definition is the one a later call runs.
            index.functions[node_text(name)] = node
            index._ranges.append((node.start_byte, node.end_byte, node_text(name)))
    index._ranges.sort()
    index._starts = [r[0] for r in index._ranges]
    reach = 0
    for _, end, _ in index._ranges:
        reach = max(reach, end)
        index._reach.append(reach)
    function_of = index.function_of if index._ranges else (lambda node: None)
    around: list[int] = []   # the loops holding the one being filed, outermost first
    for node in sorted(found.get("loop", ()), key=by_start):
        while around and index.loop_ranges[around[-1]][1] <= node.start_byte:
            around.pop()
        index._loop_parents.append(around[-1] if around else -1)
        around.append(len(index.loop_ranges))
        index.loop_ranges.append((node.start_byte, node.end_byte))
        if index._loops and node.start_byte < index._loops[-1][1]:
            continue   # inside the last outermost loop
        index._loops.append((node.start_byte, node.end_byte))
    for node in found.get("holder", ()):
        for child in node.children:
            if child.is_named:
                index._holders[(child.start_byte, child.end_byte, child.type)] = node
    assignments: list[tuple[str, object, str | None]] = []
    trap_text: bytes | None = None
    for node in sorted(found.get("assignment", ()), key=by_start):
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        if name is not None:
            key = node_text(name).split("[", 1)[0]
            index.assignments.setdefault(key, []).append(value)
            index.assignment_nodes.setdefault(key, []).append(node)
            assignments.append((key, value, function_of(node)))
            if value is not None and ("$(" in node_text(value) or "`" in node_text(value)):
                _note_assigned_output(index, node, node_text(name))
    for node in sorted(found.get("command", ()), key=by_start):
        function = function_of(node)
        index.commands.append(node)
        index.commands_in.setdefault(function, []).append(node)
        _note_command(index, node, function)
        if callee(node) == "trap":
            if trap_text is None:
                # One copy of the text for every trap (parsed trees keep it: one each was
                # quadratic, 5 GB for 10,000 traps).
                trap_text = b" " * root.start_byte + root.text
            for call in _trap_action_commands(trap_text, node, index.functions):
                called = command_name(call)
                if called is not None and called.type == "word":
                    index.trap_sites.setdefault(node_text(called), []).append(call)
    for node in sorted(found.get("declaration", ()), key=by_start):
        function = function_of(node)
        _note_declaration(index, node)
        index.declarations_in.setdefault(function, []).append(node)
        if function is not None:
            _note_locals(index, node, function)
    index.comments.extend(sorted(found.get("comment", ()), key=by_start))
    index._substitution_starts = sorted(node.start_byte for node in found.get("substitution", ()))
    for key, value, function in assignments:
        if function is not None and key in index.locals.get(function, ()):
            index.local_values.setdefault((function, key), []).append(value)
        else:
            index.global_values.setdefault(key, []).append(value)
    # Call sites only of names that are functions (known once the walk is done).
    for sites in (index.call_sites, index.trap_sites):
        for function in list(sites):
            if function not in index.functions:
                del sites[function]
    return index


# What may stand between an assignment and the command whose output it takes: X="$(a | b 2>&1)".
_OUTPUT_PATH = frozenset({"command_substitution", "string", "pipeline", "concatenation",
                          "redirected_statement"})


def _note_assigned_output(index: ShellIndex, assignment, name: str) -> None:
    """File the commands whose output the assignment takes (only through substitutions, strings,
    pipelines and redirections: `X=$(a; b)` takes both, `X=$(f "$(g)")` takes f's)."""
    stack = list(assignment.children)
    while stack:
        cur = stack.pop()
        if cur.type == "command":
            index._assigned[(cur.start_byte, cur.end_byte)] = name
        elif cur.type in _OUTPUT_PATH:
            stack.extend(cur.children)


def _trap_action_commands(text: bytes, trap, functions) -> list:
    """The commands of a `trap '...' SIGNAL...` action in single quotes that calls one of the
    file's ``functions``, parsed where the action is written (bash reads it as shell text when
    the trap fires): their nodes keep their places in ``text`` (the file's), so their words
    read like any other."""
    import tree_sitter

    from bootlint.frontends.shell.syntax import parser as shared_parser

    args = command_args(trap)
    if len(args) < 2 or args[0].type != "raw_string":
        return []
    action = args[0]
    (row, col), (end_row, end_col) = action.start_point, action.end_point
    if action.end_byte - action.start_byte < 3 or not functions or \
            not set(_WORD.findall(node_text(action))) & functions.keys():
        return []   # (an action that calls none of the file's functions binds no parameters)
    parser = tree_sitter.Parser(shared_parser().language)
    parser.included_ranges = [tree_sitter.Range((row, col + 1), (end_row, end_col - 1),
                                                action.start_byte + 1, action.end_byte - 1)]
    # Only the action's bytes are read; the rest of the text keeps the positions right.
    found = captures(parser.parse(text).root_node)
    return sorted(found.get("command", ()), key=lambda n: n.start_byte)


def _note_command(index: ShellIndex, node, function: str | None) -> None:
    name = command_name(node)
    if name is None:
        return
    text = node_text(name)
    if callee(node) is not None:
        index.call_sites.setdefault(text, []).append(node)
    if text not in ("shift", "source", ".", "set"):
        return
    args = [node_text(a) for a in command_args(node)]
    if text == "shift" and function is not None:
        count = int(args[0]) if args and args[0].isdigit() else 1
        index.shifts.setdefault(function, []).append((node.start_byte, count))
    elif text in ("source", "."):
        index.sources = True
    elif text == "set":
        for i, arg in enumerate(args):
            if arg.startswith("-") and not arg.startswith("--") and "a" in arg[1:] and "o" not in arg[1:]:
                index.allexport = True
            if arg == "-o" and i + 1 < len(args) and args[i + 1] == "allexport":
                index.allexport = True


def _note_locals(index: ShellIndex, node, function: str) -> None:
    """`local x`, `local x=...`, `declare x` (not -g) in a function make x the function's own."""
    keyword = node_text(node.children[0]) if node.children else ""
    flags = [node_text(c) for c in node.children[1:] if c.type == "word" and node_text(c).startswith("-")]
    if keyword not in ("local", "declare", "typeset") or any("g" in f for f in flags):
        return
    names = index.locals.setdefault(function, set())
    for child in node.children[1:]:
        if child.type == "variable_assignment":
            name = child.child_by_field_name("name")
            if name is not None:
                names.add(node_text(name).split("[", 1)[0])
        elif child.type in ("variable_name",) or (child.type == "word" and not node_text(child).startswith("-")):
            names.add(node_text(child))


def _note_declaration(index: ShellIndex, node) -> None:
    keyword = node.children[0].type if node.children else ""
    words = [node_text(c) for c in node.children[1:] if c.type == "word"]
    exports = keyword == "export" or any(w.startswith("-") and "x" in w for w in words)
    if not exports:
        return
    for child in node.children[1:]:
        if child.type == "variable_assignment":
            name = child.child_by_field_name("name")
            if name is not None:
                index.exported.add(node_text(name))
        elif child.type == "variable_name":
            index.exported.add(node_text(child))
        elif child.type == "word" and not node_text(child).startswith("-"):
            index.exported.add(node_text(child))
