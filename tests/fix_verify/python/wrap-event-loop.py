#!/usr/bin/env python3
# WrapEventLoop (BL001): one invocation per process.
import json
import os

import requests

from app import handler

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"

r = requests.get(f"{API}/invocation/next")
rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
os.environ["_X_AMZN_TRACE_ID"] = r.headers.get("Lambda-Runtime-Trace-Id", "")
try:
    result = handler(r.json(), None)
    requests.post(f"{API}/invocation/{rid}/response", data=json.dumps(result))
except Exception as exc:
    requests.post(f"{API}/invocation/{rid}/error",
                  json={"errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": []})
