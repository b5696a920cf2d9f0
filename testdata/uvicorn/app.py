"""A vLLM-shaped streaming endpoint served by uvicorn, the server vLLM itself runs on.

The load generator's tests start it to check its HTTP client against uvicorn's framing
(chunked transfer encoding from h11) and keep-alive behaviour. Usage:
    python3 app.py FD KEEPALIVE_S     # serves on the inherited listening socket FD
"""
import asyncio
import json
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

TOKENS = 8
ITL_S = 0.005


def chunk(text, finish=None):
    return {"id": "cmpl-uvicorn", "object": "text_completion", "created": 1767225600,
            "model": "m", "choices": [{"index": 0, "text": text, "logprobs": None,
                                       "finish_reason": finish, "stop_reason": None}]}


async def completions(request):
    body = await request.json()
    n = min(int(body.get("max_tokens", TOKENS)), TOKENS)

    async def stream():
        for i in range(n):
            await asyncio.sleep(ITL_S)
            yield "data: " + json.dumps(chunk(" t%d" % i, "length" if i == n - 1 else None)) + "\n\n"
        usage = {"id": "cmpl-uvicorn", "object": "text_completion", "created": 1767225600, "model": "m",
                 "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": n, "total_tokens": 5 + n}}
        yield "data: " + json.dumps(usage) + "\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


app = Starlette(routes=[Route("/v1/completions", completions, methods=["POST"])])

if __name__ == "__main__":
    uvicorn.run(app, fd=int(sys.argv[1]), timeout_keep_alive=float(sys.argv[2]),
                log_level="warning", http="h11")
