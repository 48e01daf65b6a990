"""The two floors of the benchmark, on the same stack as the server (uvicorn with uvloop and
httptools; the onion paths through the server's own FrontDoor, ahead of Starlette; the
server's crypto): what the HTTP and crypto layers alone allow.

    POST /loki/v3/lsrpc         floor (1): read the body, decrypt the v3 onion envelope,
                                encrypt a fixed reply, answer it base64; no database
    POST /threadpool/v3/lsrpc   floor (1) with the same threadpool hop as the server's onion
                                endpoint (diagnostic: what the hop alone costs)
    GET  /hello                 floor (2): a plain HTTP "hello"

The server key comes from the PEM file named by OPENGROUP_BENCH_FLOOR_KEY (the bench writes it).
Run as the bench does:

    OPENGROUP_BENCH_FLOOR_KEY=key.pem python -m bench.floor_app --port 8090
"""

from __future__ import annotations

import argparse
import base64
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from opengroup.crypto import BadEnvelope, ServerKeys, open_onion_request
from opengroup.transport.front_door import FrontDoor
from opengroup.transport.pipeline import TEXT, HttpRequest, Outcome

KEY_ENV = "OPENGROUP_BENCH_FLOOR_KEY"
# What an empty compact_poll of one room answers: a realistic size for the fixed reply.
FIXED_REPLY = (
    b'{"status_code":200,"results":[{"room_id":"main","status_code":200,'
    b'"messages":[],"deletions":[],"moderators":[]}]}'
)


def _keys() -> ServerKeys:
    return ServerKeys.from_pem(Path(os.environ[KEY_ENV]).read_bytes())


KEYS: ServerKeys | None = None


def echo(body: bytes) -> Outcome:
    assert KEYS is not None
    try:
        _plaintext, cipher = open_onion_request(KEYS, body)
    except BadEnvelope as error:
        return Outcome(400, TEXT, f"Invalid onion request: {error}".encode())
    return Outcome(200, TEXT, base64.b64encode(cipher.encrypt(FIXED_REPLY)))


async def onion_inline(body: bytes, _http: HttpRequest) -> Outcome:
    return echo(body)


async def onion_threadpool(body: bytes, _http: HttpRequest) -> Outcome:
    return await run_in_threadpool(echo, body)


async def hello(request: Request) -> Response:
    return PlainTextResponse("hello")


def create_app() -> ASGIApp:
    global KEYS
    KEYS = _keys()
    hello_app = Starlette(
        routes=[Route("/hello", hello, methods=["GET"]), Route("/", hello, methods=["GET"])]
    )
    # The server's own front door for onion requests, with the floors as its handlers.
    return FrontDoor(
        hello_app, {"/loki/v3/lsrpc": onion_inline, "/threadpool/v3/lsrpc": onion_threadpool}
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # The same settings as `opengroup serve` (src/opengroup/cli.py).
    uvicorn.run(
        "bench.floor_app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers if args.workers > 1 else None,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
