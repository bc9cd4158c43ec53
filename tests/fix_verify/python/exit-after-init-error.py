#!/usr/bin/env python3
# ExitAfterInitError (BL104): after posting the init error the runtime goes on to ask for events.
import json
import os

import requests

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"

try:
    from app import handler
except Exception as exc:
    requests.post(f"{API}/init/error", json={"errorMessage": str(exc), "errorType": "Runtime.ImportModuleError",
                                             "stackTrace": []})

while True:
    r = requests.get(f"{API}/invocation/next")
    rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
    os.environ["_X_AMZN_TRACE_ID"] = r.headers.get("Lambda-Runtime-Trace-Id", "")
    try:
        result = handler(r.json(), None)
    except Exception as exc:
        requests.post(f"{API}/invocation/{rid}/error",
                      json={"errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": []})
        continue
    requests.post(f"{API}/invocation/{rid}/response", data=json.dumps(result))
