"""BL003's "did you mean": a segment known only at run time (the request id) fits the `{id}` of
an endpoint; only a segment that is not there at all costs as a missing one."""

from __future__ import annotations

import pytest

from bootlint.engine import Selection, lint_source
from bootlint.files.source import SourceFile

SHELL = ('#!/bin/bash\nwhile true; do\n  curl -sS -D /tmp/h "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next"\n'
         '  R=$(grep -i request-id /tmp/h | cut -d" " -f2)\n'
         '  curl -sS -d x "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/$R/{tail}"\ndone\n')
PYTHON = ('#!/usr/bin/env python3\nimport os, urllib.request\n'
          'B = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"\n'
          'while True:\n    r = urllib.request.urlopen(B + "next")\n'
          '    rid = r.headers["Lambda-Runtime-Aws-Request-Id"]\n'
          '    urllib.request.urlopen(B + rid + "/{tail}", b"x")\n')


@pytest.mark.parametrize("template", [SHELL, PYTHON], ids=["shell", "python"])
@pytest.mark.parametrize("tail,nearest", [("eror", "error"), ("respones", "response"), ("reponse", "response")])
def test_a_typo_after_the_request_id_suggests_the_endpoint_with_an_id(template, tail, nearest):
    text = template.replace("{tail}", tail)
    found = [f for f in lint_source(SourceFile.from_bytes("bootstrap", text.encode()),
                                    Selection(("BL003",), (), ())).findings]
    assert [f.code for f in found] == ["BL003"]
    assert f"did you mean `runtime/invocation/{{id}}/{nearest}`?" in found[0].message
