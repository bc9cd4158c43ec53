"""What bootlint knows about the commands a bootstrap runs, apart from the HTTP clients (see
:mod:`bootlint.frontends.shell.clients`): builtins, the usual external tools, interpreters,
the commands that pass data through, those that set variables, remove files or run another
command."""

from __future__ import annotations

import re
from bootlint.util.lazyre import lazy

# Parameters whose value is digits only (bash's and POSIX special parameters, counters): pasted
# into JSON text between quotes they cannot break it.
NUMERIC_PARAMETERS = frozenset({"?", "$", "!", "#", "RANDOM", "SECONDS", "LINENO", "BASHPID",
                                "PPID", "UID", "EUID", "EPOCHSECONDS", "SHLVL"})

# How scripts write the temp directory `mktemp` uses (its default): a removal of everything in
# it (`rm -rf /tmp/*`, `find "$TMPDIR" -mindepth 1 -delete`) removes every temp file.
TEMP_DIRS = frozenset({"/tmp", "$TMPDIR", "${TMPDIR}", "${TMPDIR:-/tmp}", "${TMPDIR-/tmp}"})
# `find` actions that delete what it finds.
FIND_DELETES = frozenset({"-delete"})
FIND_EXECS = frozenset({"-exec", "-execdir", "-ok", "-okdir"})

# `wait` (bash 5; dash has no options), as real bash and dash run it (test_errexit_semantics):
# with operands it returns the status of the last one (a PID, `$!`, a job spec); with -n, that
# of the next job to end, whichever it is; with neither it waits for every job and returns 0.
# Each option: what it makes `wait` wait for ("next"), or that it takes a value ("value").
WAIT_OPTIONS = {"-n": "next", "-f": "", "-p": "value"}
# Job specs that name the job started last (`%1`, `%name` name others: not followed).
LAST_JOB_SPECS = frozenset({"%%", "%+", "%"})

SHELL_BUILTINS = {
    ".", ":", "[", "alias", "bg", "bind", "break", "builtin", "caller", "cd", "command",
    "compgen", "complete", "continue", "declare", "dirs", "disown", "echo", "enable", "eval",
    "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "help", "history", "jobs",
    "kill", "let", "local", "logout", "mapfile", "popd", "printf", "pushd", "pwd", "read",
    "readarray", "readonly", "return", "set", "shift", "shopt", "source", "suspend", "test",
    "times", "trap", "true", "type", "typeset", "ulimit", "umask", "unalias", "unset", "wait",
}
# External commands common in bootstraps; a command with any other name in a file that sources
# user code may be the user's handler function.
COMMON_COMMANDS = {
    "awk", "base64", "basename", "cat", "chmod", "cp", "curl", "cut", "date", "dirname", "env",
    "find", "grep", "egrep", "fgrep", "gzip", "head", "jq", "ls", "mkdir", "mktemp", "mv", "nc",
    "od", "python", "python3", "rm", "rmdir", "sed", "seq", "sleep", "sort", "tail", "tee",
    "timeout", "touch", "tr", "uniq", "wc", "wget", "xargs", "yq", "sha256sum", "md5sum", "stat",
    "aws", "node", "openssl", "unzip", "zip", "tar", "uname", "id", "whoami", "hostname", "ln",
    "readlink", "realpath", "logger", "iconv", "bc", "expr", "printenv", "nohup", "kill", "ps",
    "http", "busybox",
}
# Interpreters: `Rscript x.R "$EVENT"`, `bash ./handler.sh`, `python3 -m app` run a program.
INTERPRETERS = {"bash", "sh", "dash", "zsh", "ksh", "python", "python3", "pypy3", "node", "nodejs",
                "deno", "bun", "ruby", "perl", "php", "Rscript", "racket", "java", "dotnet", "lua",
                "julia", "elixir", "erl", "escript", "pwsh", "tclsh", "guile", "sbcl", "ocaml", "swift"}
# Commands that pass data through: a value piped or given through them is still the same data.
PASS_THROUGH = {"echo", "printf", "cat", "jq", "tr", "sed", "awk", "base64", "head", "tail",
                "tee", "cut", "gzip", "iconv", "yq", "xargs"}
# Plumbing that reads the files it is given (their content is what it prints), and plumbing that
# copies its standard input into the files it is given.
FILE_READERS = frozenset({"cat", "tail", "head", "jq", "tac", "base64", "gzip", "zcat", "yq"})
FILE_COPIERS = frozenset({"tee"})
# Plumbing: commands that move, read, reshape or tidy data and files (the `next` response's headers,
# the event's fields, the body to post). Their failure is no failure of the function's work, so
# BL101 does not point at them (jq's failure is the data's; reading `next` is BL007's subject).
PLUMBING = frozenset(PASS_THROUGH | {
    "grep", "egrep", "fgrep", "zgrep", "gawk", "mawk", "sort", "uniq", "wc", "date", "sleep",
    "mktemp", "rm", "rmdir", "mkdir", "touch", "basename", "dirname", "realpath", "readlink", "ls",
    "cp", "mv", "ln", "chmod", "stat", "od", "xxd", "hexdump", "gunzip", "zcat", "sha256sum",
    "sha1sum", "md5sum", "cksum", "env", "printenv", "seq", "expr", "bc", "logger", "id",
    "whoami", "hostname", "uname", "tac", "rev", "fold", "paste", "column", "nl", "true", "false",
    "uuidgen", "shuf", "split", "dd", "truncate", "sync", "file", "which", "kill", "ps", "pgrep",
})
# Interpreters' options that run inline code (`python3 -c 'import json,sys; ...'`): with fixed code
# text they are escapers and formatters, plumbing like jq.
INLINE_CODE = {
    "python": ("-c",), "python3": ("-c",), "pypy3": ("-c",), "node": ("-e", "-p", "--eval", "--print"),
    "nodejs": ("-e", "-p", "--eval", "--print"), "perl": ("-e", "-E"), "ruby": ("-e",),
    "php": ("-r",), "lua": ("-e",),
}


def runs_inline_code(tool: str, words: list[str | None]) -> bool:
    """Does an interpreter run fixed code written on its command line (`python3 -c '...'`)?
    ``words`` are its arguments' static texts (None when not static)."""
    options = INLINE_CODE.get(tool, ())
    for option, code in zip(words, words[1:]):
        if option in options:
            return code is not None
    return False


# Builtins that assign the variables they name, and how their arguments name them: the letters
# of the options that take a value, the option whose value is a name (`printf -v NAME`, `read -a
# NAME`), and which operands are names ("all", "last", or the operand's index).
VARIABLE_SETTERS: dict[str, tuple[str, str, str | int | None]] = {
    "read": ("adinNptu", "a", "all"),
    "printf": ("v", "v", None),
    "mapfile": ("dnOsuCc", "", "last"),
    "readarray": ("dnOsuCc", "", "last"),
    "getopts": ("", "", 1),
    "let": ("", "", None),   # names come from its expressions (below)
}
_NAME = lazy(r"[A-Za-z_][A-Za-z0-9_]*")


def assigned_names(tool: str, words: list[str | None]) -> list[tuple[int, str]]:
    """(argument index, variable name) for each variable a builtin call assigns; ``words`` are
    its arguments' static texts (None when not static). `let X=1 Y+=2` is read by expression."""
    if tool == "let":
        return [(i, m.group(0)) for i, w in enumerate(words) if w
                and (m := _NAME.match(w)) and re.match(r"\s*([-+*/%&|^]|<<|>>)?=(?!=)|\s*(\+\+|--)", w[m.end():])]
    with_value, name_option, operands = VARIABLE_SETTERS.get(tool, ("", "", None))
    found: list[tuple[int, str]] = []
    rest: list[tuple[int, str | None]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word is not None and word.startswith("-") and word != "-" and not rest:
            if word == "--":
                rest = [(j, w) for j, w in enumerate(words) if j > i]
                break
            letters = word[1:]
            for k, letter in enumerate(letters):
                if letter in with_value:
                    value_at, value = (i, letters[k + 1:]) if k + 1 < len(letters) else \
                        (i + 1, words[i + 1] if i + 1 < len(words) else None)
                    if letter == name_option and value and _NAME.fullmatch(value):
                        found.append((value_at, value))
                    i = value_at
                    break
            i += 1
            continue
        rest = [(j, w) for j, w in enumerate(words) if j >= i]
        break
    if operands == "all":
        chosen = rest
    elif operands == "last":
        chosen = rest[-1:]
    elif isinstance(operands, int):
        chosen = rest[operands:operands + 1]
    else:
        chosen = []
    found.extend((j, w) for j, w in chosen if w and _NAME.fullmatch(w))
    return found


# Commands that delete the files they are given (a temp file's clean-up).
REMOVERS = {"rm", "unlink", "rmdir", "shred"}
# Commands that run another command: `timeout 10 curl ...`, `env A=1 curl ...`.
WRAPPERS = {"timeout", "gtimeout", "env", "command", "nice", "nohup", "stdbuf", "time", "sudo"}
_WRAPPER_OPTIONS_WITH_VALUE = {"-s", "--signal", "-k", "--kill-after", "-n", "-u", "-C", "-i",
                               "-o", "-e"}


def unwrap(name_node, args: list, literal) -> tuple[str, object, list, list[tuple[str, object, object]]]:
    """See through wrapper commands: (tool name, its node, its arguments, [(wrapper, node, its
    duration's node for `timeout N`, else None)])."""
    wrappers: list[tuple[str, object, object]] = []
    tool = (literal(name_node) or "").rsplit("/", 1)[-1]
    while tool in WRAPPERS and args:
        wrappers.append((tool, name_node, None))
        i = 0
        while i < len(args):
            text = literal(args[i]) or ""
            if text in _WRAPPER_OPTIONS_WITH_VALUE:
                i += 2
            elif text.startswith("-") or (tool == "env" and "=" in text):
                i += 1
            else:
                break
        duration = None
        if tool in ("timeout", "gtimeout") and i < len(args):
            duration = args[i]
            i += 1  # the duration
        wrappers[-1] = (tool, name_node, duration)
        if i >= len(args):
            return "", None, [], wrappers
        name_node, args = args[i], args[i + 1:]
        tool = (literal(name_node) or "").rsplit("/", 1)[-1]
    return tool, name_node, args, wrappers
