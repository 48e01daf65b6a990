"""The API doors as a bare ASGI application, in front of the Starlette app.

Every real client request arrives here (onion v3 and v4), and so do the modern API's root
paths (SOGS-API.md 2.5): they skip what Starlette adds per request (two middlewares, route
matching, Request and Response objects), ~60 µs of ~280 µs at the onion floor (bench).
Everything else (/legacy/, web pages, /metrics, /health) goes on to Starlette.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from opengroup.transport.body import (
    UNLIMITED,
    BodiesOverloaded,
    BodyGate,
    BodyTooLarge,
    BodyTooSlow,
    read_body,
)
from opengroup.transport.legacy_http import MODERN_BODY_LIMIT, MODERN_HTTP
from opengroup.transport.onion import ONION_BODY_LIMIT, V3
from opengroup.transport.onion_v4 import V4
from opengroup.transport.pipeline import TEXT, Door, HttpRequest, Outcome, serve
from opengroup.usecases.context import ServerContext

log = logging.getLogger(__name__)

ONION_PATHS: dict[str, Door] = {
    "/loki/v3/lsrpc": V3,
    "/oxen/v3/lsrpc": V3,
    "/oxen/v4/lsrpc": V4,
}
# First path segments of the modern API at the root (room ids can never be these).
MODERN_ROOTS = frozenset(
    {"capabilities", "batch", "sequence", "rooms", "room", "inbox", "outbox", "user"}
)
MODERN_METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})

Handler = Callable[[bytes, HttpRequest], Awaitable[Outcome]]
CLOSE = {"connection": "close"}  # a body not read whole leaves the connection unusable


class FrontDoor:
    """Requests to `onion_paths` (POST only) and to `modern` paths are read up to their limit
    and handed to their handler; every other request goes on to `app`."""

    def __init__(
        self,
        app: ASGIApp,
        onion_paths: Mapping[str, Handler],
        modern: Handler | None = None,
        gate: BodyGate = UNLIMITED,
    ) -> None:
        self.app = app
        self.onion_paths = onion_paths
        self.modern = modern
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        handler = self.onion_paths.get(path)
        limit = ONION_BODY_LIMIT
        modern = False
        if handler is not None and scope["method"] != "POST":
            await respond(send, Outcome(405, TEXT, b"Method Not Allowed", {"allow": "POST"}))
            return
        if handler is None and self.modern is not None and _is_modern(path):
            if scope["method"] not in MODERN_METHODS:
                await respond(send, Outcome(405, TEXT, b"Method Not Allowed"))
                return
            handler, limit, modern = self.modern, MODERN_BODY_LIMIT, True
        if handler is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(scope, receive, limit, self.gate)
        except BodyTooLarge:
            await respond(send, Outcome(413, TEXT, b"Request too large", CLOSE))
            return
        except BodyTooSlow:
            await respond(send, Outcome(408, TEXT, b"Request body too slow", CLOSE))
            return
        except BodiesOverloaded:
            await respond(send, Outcome(503, TEXT, b"Too many requests in progress", CLOSE))
            return
        except ClientDisconnect:
            log.debug("client left while sending %s", path)
            return
        try:
            # An onion door needs nothing of the outer HTTP request but its body.
            http = http_request(scope) if modern else ONION_HTTP
            outcome = await handler(body, http)
        except Exception:
            # The routers answer every API error themselves: this is a bug, logged in full.
            log.exception("request to %s failed", path)
            outcome = Outcome(500, TEXT, b"Internal Server Error")
        await respond(send, outcome)


def _is_modern(path: str) -> bool:
    return path.split("/", 2)[1] in MODERN_ROOTS


ONION_HTTP = HttpRequest()


def http_request(scope: Scope) -> HttpRequest:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    return HttpRequest(
        method=scope["method"],
        path=raw_path.decode("utf-8", "surrogateescape").split("?", 1)[0],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers={name.decode("latin-1").lower(): value.decode("latin-1")
                 for name, value in scope["headers"]},
    )  # fmt: skip


def front_door(
    app: ASGIApp, context: Callable[[], ServerContext], gate: BodyGate = UNLIMITED
) -> FrontDoor:
    """The server's: every onion path with its envelope version, and the modern API."""

    def handler(door: Door) -> Handler:
        return lambda body, http: serve(context(), door, body, http)

    return FrontDoor(
        app,
        {path: handler(door) for path, door in ONION_PATHS.items()},
        modern=handler(MODERN_HTTP),
        gate=gate,
    )


async def respond(send: Send, outcome: Outcome) -> None:
    headers = [
        (b"content-type", outcome.content_type.encode()),
        (b"content-length", b"%d" % len(outcome.body)),
    ]
    if outcome.headers:
        headers += [
            (name.encode(), value.encode("latin-1", "replace"))
            for name, value in outcome.headers.items()
        ]
    await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": outcome.body})
