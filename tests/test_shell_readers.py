"""frontends/shell/syntax's readers of a node (its text, a command's name and arguments, a
word's expansions), kept per node of the tree being lowered."""

from __future__ import annotations


def test_the_shell_readers_kept_per_node_hand_out_copies():
    """frontends/shell/syntax keeps what it read of each node of the tree being lowered; a
    caller that changes the list or set it was given changes nothing for the next caller."""
    from bootlint.frontends.shell import syntax

    syntax.forget_nodes()
    command = syntax.parser().parse(b'curl -sS "$API/invocation/next" -o "$OUT"\n').root_node.children[0]
    args = syntax.command_args(command)
    args.append("junk")
    names = syntax.expansion_names(command)
    names.add("junk")
    assert [syntax.node_text(a) for a in syntax.command_args(command)] == \
        ["-sS", '"$API/invocation/next"', "-o", '"$OUT"']
    assert syntax.expansion_names(command) == {"API", "OUT"}
    assert syntax.node_text(syntax.command_name(command)) == "curl"
