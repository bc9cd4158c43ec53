#!/usr/bin/env python3
# ExportTraceId (BL201): the trace id is never set.
import json
import os

import requests

from app import handler

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"

while True:
    r = requests.get(f"{API}/invocation/next")
    rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
    try:
        result = handler(r.json(), None)
    except Exception as exc:
        requests.post(f"{API}/invocation/{rid}/error",
                      json={"errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": []})
        continue
    requests.post(f"{API}/invocation/{rid}/response", data=json.dumps(result))
