"""One pass over a shell tree that indexes what later passes look up: functions, assignments,
commands, exported names and nesting depth."""

from __future__ import annotations

from dataclasses import dataclass, field

from bootlint.shell.words import node_text

@dataclass
class ShellIndex:
    functions: dict[str, object] = field(default_factory=dict)      # name -> function node
    assignments: dict[str, list] = field(default_factory=dict)      # name -> value nodes
    assignment_nodes: dict[str, list] = field(default_factory=dict)  # name -> assignment nodes
    commands: list = field(default_factory=list)                     # every `command` node
    exported: set[str] = field(default_factory=set)
    allexport: bool = False
    sources: bool = False        # the file sources other files (user code may define functions)
    max_depth: int = 0
    comments: list = field(default_factory=list)                     # every comment node


def command_name(node) -> object | None:
    """The command_name child's first child (the word naming the command), if any."""
    for child in node.children:
        if child.type == "command_name":
            return child.children[0] if child.children else child
    return None


def command_args(node) -> list:
    """A command's argument nodes (everything after its name, not redirections)."""
    args = []
    seen_name = False
    for child in node.children:
        if child.type == "command_name":
            seen_name = True
        elif seen_name and child.is_named and child.type not in ("file_redirect", "heredoc_redirect",
                                                                    "herestring_redirect", "comment"):
            args.append(child)
    return args


def build_index(root) -> ShellIndex:
    """Walk the whole tree once, iteratively (inputs may nest thousands deep)."""
    index = ShellIndex()
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > index.max_depth:
            index.max_depth = depth
        kind = node.type
        if kind == "function_definition":
            name = node.child_by_field_name("name")
            if name is not None:
                index.functions.setdefault(node_text(name), node)
        elif kind == "variable_assignment":
            name = node.child_by_field_name("name")
            value = node.child_by_field_name("value")
            if name is not None:
                key = node_text(name).split("[", 1)[0]
                index.assignments.setdefault(key, []).append(value)
                index.assignment_nodes.setdefault(key, []).append(node)
        elif kind == "command":
            index.commands.append(node)
            _note_command(index, node)
        elif kind == "declaration_command":
            _note_declaration(index, node)
        elif kind == "comment":
            index.comments.append(node)
        stack.extend((child, depth + 1) for child in node.children)
    return index


def _note_command(index: ShellIndex, node) -> None:
    name = command_name(node)
    if name is None:
        return
    text = node_text(name)
    args = [node_text(a) for a in command_args(node)]
    if text in ("source", "."):
        index.sources = True
    elif text == "set":
        for i, arg in enumerate(args):
            if arg.startswith("-") and not arg.startswith("--") and "a" in arg[1:] and "o" not in arg[1:]:
                index.allexport = True
            if arg == "-o" and i + 1 < len(args) and args[i + 1] == "allexport":
                index.allexport = True


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
