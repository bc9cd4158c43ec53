#!/usr/bin/env python3
# GuardHandlerCall (BL101), http.client on one kept-alive connection: the fix's error post must
# read its answer (getresponse) before the loop asks for the next event on the same connection.
import http.client
import json
import os

from app import handler

conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
PREFIX = "/2018-06-01/runtime/invocation/"

while True:
    conn.request("GET", PREFIX + "next")
    got = conn.getresponse()
    rid = got.getheader("Lambda-Runtime-Aws-Request-Id")
    os.environ["_X_AMZN_TRACE_ID"] = got.getheader("Lambda-Runtime-Trace-Id", "")
    event = json.loads(got.read())
    result = handler(event, None)
    conn.request("POST", PREFIX + rid + "/response", json.dumps(result))
    conn.getresponse().read()
