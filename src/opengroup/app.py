"""The ASGI application: the transports mounted on one Starlette app."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from . import metrics, monitoring, web
from .config import Config, load_config
from .context import ServerContext, open_context
from .crypto import BadEnvelope
from .endpoints.call import ApiResponse
from .endpoints.routes import dispatch, is_heavy
from .jobs import record_token_uses, run_periodic_jobs
from .openapi import openapi_document
from .transport.body import BodyTooLarge, read_limited_body
from .transport.legacy import LEGACY_BODY_LIMIT, LEGACY_PREFIX, to_api_request
from .transport.onion import ONION_BODY_LIMIT, V3
from .transport.onion_v4 import V4
from .transport.version import OnionVersion, envelope_error

JSON = "application/json"
RESOLVED_CONFIG_ENV = "OPENGROUP_RESOLVED_CONFIG"


def _ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


# Requests this small cost well under a millisecond of work, less than the hop to a worker
# thread: they run on the event loop (bench, 1 process: 827 -> 1232 polls/s, 649 -> 1337
# posts/s). Larger bodies, and requests for endpoints that move megabytes (files, room
# images: `Route.heavy`), go to a worker thread so they never stall other clients.
INLINE_BODY_BYTES = 64 * 1024


def onion_endpoint(version: OnionVersion) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint for one onion envelope version. Decryption and small requests run on the
    event loop; a large body, or a request for a heavy endpoint, in a worker thread."""

    async def endpoint(request: Request) -> Response:
        try:
            body = await read_limited_body(request, ONION_BODY_LIMIT)
        except BodyTooLarge:
            return PlainTextResponse("Request too large", status_code=413)
        started = time.perf_counter()
        ctx = _ctx(request)
        if len(body) > INLINE_BODY_BYTES:
            status, reply = await run_in_threadpool(version.handle, ctx, body)
        else:
            status, reply = await _handle_small_onion(version, ctx, body)
        if status == 400:
            metrics.record_onion_failure()
        metrics.record_http("onion", time.perf_counter() - started)
        return Response(reply, status_code=status, media_type="text/plain; charset=utf-8")

    return endpoint


async def _handle_small_onion(
    version: OnionVersion, ctx: ServerContext, body: bytes
) -> tuple[int, bytes]:
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


async def legacy_endpoint(request: Request) -> Response:
    try:
        body = await read_limited_body(request, LEGACY_BODY_LIMIT)
    except BodyTooLarge:
        return Response(b'{"status_code":413,"error":"request too large"}', 413, media_type=JSON)
    started = time.perf_counter()
    api_request = to_api_request(request, body)
    if len(body) > INLINE_BODY_BYTES or is_heavy(api_request):
        response = await run_in_threadpool(dispatch, _ctx(request), api_request)
    else:
        response = dispatch(_ctx(request), api_request)
    metrics.record_http("legacy", time.perf_counter() - started)
    return Response(orjson.dumps(response.as_json()), response.status_code, media_type=JSON)


_OPENAPI_JSON = orjson.dumps(openapi_document())


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (a path no route matches, e.g. a segment holding a newline, or
    an unsupported method): under /legacy/ it is an API reply, so JSON with its status_code."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    headers = exc.headers if isinstance(exc, HTTPException) else None
    if not request.url.path.startswith(LEGACY_PREFIX):
        detail = exc.detail if isinstance(exc, HTTPException) else "Internal Server Error"
        return PlainTextResponse(detail, status_code=status, headers=headers)
    reason = "no such endpoint" if status == 404 else "method not allowed"
    body = orjson.dumps({"status_code": status, "error": reason})
    return Response(body, status, headers=headers, media_type=JSON)


async def openapi_json(request: Request) -> Response:
    return Response(_OPENAPI_JSON, media_type=JSON)


ROUTES = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/loki/v3/lsrpc", onion_endpoint(V3), methods=["POST"]),
    Route("/oxen/v3/lsrpc", onion_endpoint(V3), methods=["POST"]),
    Route("/oxen/v4/lsrpc", onion_endpoint(V4), methods=["POST"]),
    Route("/legacy/{path:path}", legacy_endpoint, methods=["GET", "POST", "DELETE"]),
    *monitoring.ROUTES,  # /health, /metrics
    *web.ROUTES,  # /, /static/images/<room>, and last the catch-all /<room>
]


def create_app(config: Config, context: ServerContext | None = None) -> Starlette:
    """Build the app. With no `context`, each process opens its own at start-up."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ctx = context if context is not None else await run_in_threadpool(open_context, config)
        app.state.ctx = ctx
        # Everything loaded so far lives as long as the process: keep the garbage collector
        # from walking it again on every full collection of request garbage.
        gc.collect()
        gc.freeze()
        jobs = [
            asyncio.create_task(run_periodic_jobs(ctx)),
            asyncio.create_task(record_token_uses(ctx)),
        ]
        try:
            yield
        finally:
            for job in jobs:
                job.cancel()
            for job in jobs:
                with contextlib.suppress(asyncio.CancelledError):
                    await job
            if context is None:
                ctx.close()

    metrics.set_enabled(config.metrics)
    app = Starlette(
        routes=ROUTES,
        lifespan=lifespan,
        exception_handlers={404: http_error, 405: http_error},
    )
    if context is not None:
        app.state.ctx = context
    return app


def app_from_environment() -> Starlette:
    """uvicorn factory for worker processes: the CLI passes its resolved config by env."""
    resolved = os.environ.get(RESOLVED_CONFIG_ENV)
    config = Config(**json.loads(resolved)) if resolved else load_config()
    return create_app(config)
