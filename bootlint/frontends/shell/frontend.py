"""The shell front end's registration: what it reads and how rules word their advice for it.

Light on purpose (no tree-sitter here): the parser loads when a shell file is lowered.
"""

from __future__ import annotations

from bootlint.frontends.registry import FrontEnd, Idioms

SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh", "pdksh", "ksh93", "busybox"})

IDIOMS = Idioms(
    display_name="shell",
    loop="while true; do ... done",
    guard="write `if ! RESPONSE=$(handler ...); then <post to /error>; continue; fi`",
    unguarded="runs under {errexit} without a guard: one failed invocation kills the runtime",
    export='export {name}="{value}"',
    read_api_variable='"http://${AWS_LAMBDA_RUNTIME_API}/..."',
    exit_now="exit 1",
    status_check="add `-f` (`--fail`) or check `-w '%{http_code}'`",
    exec_form="exec {command}",
    parent="this shell",
    error_json="build it with `jq -n --arg m \"$MSG\" '{errorMessage: $m, errorType: \"E\", stackTrace: []}'`",
    variable="${name}",
    cleanup_at_exit="a `trap ... EXIT`",
    case_fold={"awk": "compare `tolower($1)`", "sed": "add the `I` flag", "": "add `-i`"},
    comment="#",
    noqa=False,
    shebang="#!/bin/sh",
    env_shebang="#!/usr/bin/env bash",
    worker_count='`N=${AWS_LAMBDA_MAX_CONCURRENCY:-1}`, then `for i in $(seq "$N"); do worker & done`',
    per_worker_path="make it inside each worker (`HEADERS=$(mktemp)` in the worker's function) or name "
                    "it after `$BASHPID`",
    wait_workers="end the script with a plain `wait`, which returns only when every worker has ended",
    trace_per_invocation="run each worker as a background job: a job's `export` reaches no other",
    stream_body="pipe it into `curl -T - -X POST`, which sends what it reads as it reads it",
    stream_error="curl's command line cannot send trailers: check what can fail before the first "
                 "byte and post /error then, or stream from a program that can send trailers",
)

def _parses(text: str) -> bool:
    """Does tree-sitter-bash read the whole text without an error (loaded only for a file
    with no shebang and no telling name)?"""
    from bootlint.frontends.shell.syntax import parser

    return not parser().parse(text.encode("utf-8", "surrogateescape")).root_node.has_error


FRONTEND = FrontEnd(
    name="shell",
    languages=("sh", "bash", "dash", "ksh", "busybox sh"),
    interpreters=SHELLS.__contains__,
    lower_module="bootlint.frontends.shell.lower",
    idioms=IDIOMS,
    extensions=(".sh", ".bash"),
    accepts=_parses,
    package="bootlint.frontends.shell",
    probe_module="bootlint.frontends.shell.probe",   # bootlint verify's probe handler
    # (No "shared-memory-workers": a shell's workers are background jobs, child processes, and
    # none shares another's environment.)
    capabilities=frozenset({"err-trap", "declaration-status", "curl-data-options", "parser-gaps"}),
)
