"""Which parameters of the file's functions carry the event (EventFacts.event_params), the fact
BL302 reads for a program given `$1` in a function that a call passes the event to."""

from __future__ import annotations

import pytest

from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile

HEAD = 'API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"\n'
LOOP = 'while true; do\n  EVENT=$(curl -sS "$API/invocation/next")\n  {call}\ndone\n'


def bl302(functions: str, call: str) -> list[tuple[int, int]]:
    text = "#!/bin/bash\n" + HEAD + functions + LOOP.format(call=call)
    result = lint_source(SourceFile.from_bytes("bootstrap", text.encode()), Selection(select=("BL302",)))
    return [(f.span.line, f.span.column) for f in result.findings]


@pytest.mark.parametrize("functions, call, found", [
    ('h() { node /var/task/index.js "$1"; }\n', 'h "$EVENT"', [(3, 31)]),
    ('h() { node /var/task/index.js "$1"; }\n', 'h "$ID"', []),
    ('h() { shift 2; node /var/task/index.js "$1"; }\n', 'h a b "$EVENT"', [(3, 40)]),
    ('h() { node /var/task/index.js "$2"; }\nw() { h "$@"; }\n', 'w "$ID" "$EVENT"', [(3, 31)]),
    ('h() { node /var/task/index.js "$1"; }\nw() { h "${@:2}"; }\n', 'w "$ID" "$EVENT"', [(3, 31)]),
    # Calls that shift the parameters along without end: the fixed point still ends (no
    # parameter past $9 is kept), with the event found where it lands within them.
    ('f() { g x "$@"; }\ng() { [ "$#" -gt 20 ] && return; f "$@"; node /var/task/index.js "$3"; }\n',
     'f "$EVENT"', [(4, 66)]),
    ('f() { g x "$@"; }\ng() { [ "$#" -gt 20 ] && return; f "$@"; node /var/task/index.js "$9"; }\n',
     'f "$EVENT"', [(4, 66)]),
])
def test_the_event_is_followed_through_parameters(functions, call, found):
    assert bl302(functions, call) == found
