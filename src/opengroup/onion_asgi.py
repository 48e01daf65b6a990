"""The onion endpoints as a bare ASGI application, in front of the Starlette app.

Every real client request arrives here, so it skips what Starlette adds per request (two
middlewares, route matching, Request and Response objects): ~60 µs of ~280 µs at the onion
floor (bench). Everything else (/legacy/, web pages, /metrics) goes on to Starlette.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from . import metrics
from .context import ServerContext
from .crypto import BadEnvelope
from .endpoints.call import ApiResponse
from .endpoints.routes import dispatch, is_heavy
from .transport.body import BodyTooLarge, read_body
from .transport.onion import ONION_BODY_LIMIT, V3
from .transport.onion_v4 import V4
from .transport.version import OnionVersion, envelope_error

log = logging.getLogger(__name__)

ONION_PATHS: dict[str, OnionVersion] = {
    "/loki/v3/lsrpc": V3,
    "/oxen/v3/lsrpc": V3,
    "/oxen/v4/lsrpc": V4,
}

# Requests this small cost well under a millisecond of work, less than the hop to a worker
# thread: they run on the event loop (bench, 1 process: 827 -> 1232 polls/s, 649 -> 1337
# posts/s). Larger bodies, and requests for endpoints that move megabytes (files, room
# images: `Route.heavy`), go to a worker thread so they never stall other clients.
INLINE_BODY_BYTES = 64 * 1024

_TEXT = (b"content-type", b"text/plain; charset=utf-8")


OnionHandler = Callable[[bytes], Awaitable[tuple[int, bytes]]]  # body -> (status, reply)


class OnionFrontDoor:
    """POST to one of `paths` is read (up to the onion limit), handed to that path's handler
    and answered; other methods there get 405, other paths go on to `app`."""

    def __init__(self, app: ASGIApp, paths: Mapping[str, OnionHandler]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.paths.get(scope["path"]) if scope["type"] == "http" else None
        if handler is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            await respond(send, 405, b"Method Not Allowed", [(b"allow", b"POST")])
            return
        try:
            body = await read_body(scope, receive, ONION_BODY_LIMIT)
        except BodyTooLarge:
            await respond(send, 413, b"Request too large")
            return
        except ClientDisconnect:
            return
        started = time.perf_counter()
        try:
            status, reply = await handler(body)
        except Exception:
            # dispatch() answers every API error itself; this is a bug, logged in full.
            log.exception("onion request failed")
            status, reply = 500, b"Internal Server Error"
        if status == 400:
            metrics.record_onion_failure()
        metrics.record_http("onion", time.perf_counter() - started)
        await respond(send, status, reply)


def onion_front_door(app: ASGIApp, context: Callable[[], ServerContext]) -> OnionFrontDoor:
    """The server's: every onion path, each with its envelope version."""

    def handler(version: OnionVersion) -> OnionHandler:
        return lambda body: handle_onion(version, context(), body)

    return OnionFrontDoor(app, {path: handler(version) for path, version in ONION_PATHS.items()})


async def handle_onion(version: OnionVersion, ctx: ServerContext, body: bytes) -> tuple[int, bytes]:
    if len(body) > INLINE_BODY_BYTES:
        return await run_in_threadpool(version.handle, ctx, body)
    try:
        cipher, inner = version.open(ctx, body)
    except BadEnvelope as error:
        return 400, envelope_error(error)
    if isinstance(inner, ApiResponse):
        return 200, version.seal(cipher, inner)
    if is_heavy(inner):
        response = await run_in_threadpool(dispatch, ctx, inner)
        return 200, await run_in_threadpool(version.seal, cipher, response)
    return 200, version.seal(cipher, dispatch(ctx, inner))


async def respond(
    send: Send, status: int, body: bytes, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [_TEXT, (b"content-length", str(len(body)).encode()), *(extra_headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
