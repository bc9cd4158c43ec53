"""A runtime written inline and the same runtime written through helper functions get the same
findings on the same lines (issue 11): a request a helper makes for a call site is reported at
that call site, naming the helper. Columns agree too except for findings about the request
itself, which point at the URL inline and at the helper's call otherwise."""

from __future__ import annotations

import pytest

from conftest import lint_text

SHELL_INLINE = '''#!/bin/bash
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
. "$LAMBDA_TASK_ROOT/function.sh"
main() {
  while true; do
    EVENT=$(curl -sS -m 30 -D /tmp/h "$API/invocation/next")
    ID=$(grep -F Lambda-Runtime-Aws-Request-Id /tmp/h | cut -d: -f2 | tr -d '[:space:]')
    RESPONSE=$(handler "$EVENT")
    curl -sS -d "$RESPONSE" "$API/invocation/$ID/response"
  done
}

main
'''

SHELL_HELPERS = '''#!/bin/bash
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
. "$LAMBDA_TASK_ROOT/function.sh"
main() {
  while true; do
    EVENT=$(api invocation/next -m 30 -D /tmp/h)
    ID=$(grep -F Lambda-Runtime-Aws-Request-Id /tmp/h | cut -d: -f2 | tr -d '[:space:]')
    RESPONSE=$(handler "$EVENT")
    api "invocation/$ID/response" -d "$RESPONSE"
  done
}
api() { local path="$1"; shift; curl -sS "$API/$path" "$@"; }
main
'''

PYTHON_INLINE = '''#!/usr/bin/env python3
import json
import os
import urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
from app import handler


def serve():
    while True:
        resp = urllib.request.urlopen(urllib.request.Request(API + "/invocation/next", method="GET"))
        rid = dict(resp.getheaders())["Lambda-Runtime-Aws-Request-Id"]
        result = handler(json.loads(resp.read()), None)
        urllib.request.urlopen(urllib.request.Request(API + f"/invocation/{rid}/response", data=json.dumps(result).encode(), method="POST"))


def unused(method, path, body=None):
    pass


serve()
'''

PYTHON_HELPERS = '''#!/usr/bin/env python3
import json
import os
import urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
from app import handler


def serve():
    while True:
        resp = call("GET", "/invocation/next")
        rid = dict(resp.getheaders())["Lambda-Runtime-Aws-Request-Id"]
        result = handler(json.loads(resp.read()), None)
        call("POST", path=f"/invocation/{rid}/response", body=json.dumps(result).encode())


def call(method, path, body=None):
    return urllib.request.urlopen(urllib.request.Request(API + path, data=body, method=method))


serve()
'''

# Findings about a request: inline at the URL (or flag), through a helper at the call.
ABOUT_THE_REQUEST = {"BL001", "BL003", "BL004", "BL005", "BL006", "BL007", "BL102", "BL104",
                     "BL201", "BL302", "BL303"}


@pytest.mark.parametrize("inline,helpers,name", [
    (SHELL_INLINE, SHELL_HELPERS, "bootstrap"),
    (PYTHON_INLINE, PYTHON_HELPERS, "bootstrap.py"),
], ids=["shell", "python"])
def test_inline_and_helpers_give_the_same_findings(inline, helpers, name):
    a = lint_text(inline, path=name, extend=("BL007",))
    b = lint_text(helpers, path=name, extend=("BL007",))
    assert sorted((c, line) for c, line, _ in a) == sorted((c, line) for c, line, _ in b)
    assert [f for f in a if f[0] not in ABOUT_THE_REQUEST] == [f for f in b if f[0] not in ABOUT_THE_REQUEST]
    assert len({c for c, _, _ in a}) >= 5, a     # a real runtime with real mistakes


def test_the_shell_pair_findings():
    assert lint_text(SHELL_HELPERS, extend=("BL007",)) == [
        ("BL103", 4, 1),     # the handler file is sourced, no /init/error
        ("BL007", 7, 13),    # next without -f, through `api`
        ("BL201", 7, 13),
        ("BL006", 7, 33),    # -m 30, passed through "$@" to curl, at the call site
        ("BL202", 8, 18),
        ("BL101", 9, 16),    # the handler under set -e
        ("BL102", 10, 5),    # /response through `api`, never /error
        ("BL302", 10, 35),   # -d "$RESPONSE" given at the call site
    ]


def test_the_python_pair_findings():
    assert lint_text(PYTHON_HELPERS, path="bootstrap.py") == [
        ("BL103", 7, 1),     # from app import handler: the handler's load, unguarded
        ("BL201", 12, 16),   # next through `call`, no _X_AMZN_TRACE_ID
        ("BL202", 13, 39),
        ("BL101", 14, 18),
        ("BL102", 15, 9),    # /response through `call` (keyword arguments), never /error
    ]
