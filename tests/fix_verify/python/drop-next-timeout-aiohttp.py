#!/usr/bin/env python3
# DropNextTimeout (BL006), aiohttp: a session made without a timeout has aiohttp's default (300 s
# in total), `next` included; the fix gives the session ClientTimeout(total=None).
import asyncio
import json
import os

from aiohttp import ClientSession

from app import handler

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation/"


async def main():
    async with ClientSession() as session:
        while True:
            async with session.get(API + "next") as got:
                rid = got.headers["Lambda-Runtime-Aws-Request-Id"]
                os.environ["_X_AMZN_TRACE_ID"] = got.headers.get("Lambda-Runtime-Trace-Id", "")
                event = await got.json(content_type=None)
            try:
                result = handler(event, None)
            except Exception as exc:
                async with session.post(API + rid + "/error", json={
                        "errorMessage": str(exc), "errorType": type(exc).__name__, "stackTrace": []}) as r:
                    await r.read()
                continue
            async with session.post(API + rid + "/response", data=json.dumps(result)) as r:
                await r.read()


asyncio.run(main())
