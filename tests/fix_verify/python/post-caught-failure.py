#!/usr/bin/env python3
# PostCaughtFailure (BL102): the failure is caught, posted nowhere, and a null is posted as the
# response.
import json
import os

import requests

from app import handler

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"

while True:
    r = requests.get(f"{API}/invocation/next")
    rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
    os.environ["_X_AMZN_TRACE_ID"] = r.headers.get("Lambda-Runtime-Trace-Id", "")
    try:
        result = handler(r.json(), None)
    except Exception:
        result = None
    requests.post(f"{API}/invocation/{rid}/response", data=json.dumps(result))
