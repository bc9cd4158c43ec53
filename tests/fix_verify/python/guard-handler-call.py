#!/usr/bin/env python3
# GuardHandlerCall (BL101, BL102): no try around the handler; the response is built, then sent.
import json
import os
import urllib.request

from app import handler

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"

while True:
    with urllib.request.urlopen(f"{API}/invocation/next") as resp:
        rid = resp.headers["Lambda-Runtime-Aws-Request-Id"]
        os.environ["_X_AMZN_TRACE_ID"] = resp.headers.get("Lambda-Runtime-Trace-Id", "")
        event = json.loads(resp.read())
    result = handler(event, None)
    req = urllib.request.Request(f"{API}/invocation/{rid}/response", data=json.dumps(result).encode(), method="POST")
    urllib.request.urlopen(req).read()
