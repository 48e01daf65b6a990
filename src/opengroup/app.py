"""The ASGI application: the onion transport (onion_asgi.py) in front of a Starlette app that
serves the legacy transport, the web pages and monitoring."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import time
from collections.abc import AsyncIterator

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from . import metrics, monitoring, web
from .config import Config, load_config
from .context import ServerContext, open_context
from .endpoints.routes import dispatch, is_heavy
from .jobs import checkpoints, record_token_uses, run_periodic_jobs
from .onion_asgi import INLINE_BODY_BYTES, onion_front_door
from .openapi import openapi_document
from .transport.body import BodyTooLarge, read_limited_body
from .transport.legacy import LEGACY_BODY_LIMIT, LEGACY_PREFIX, to_api_request

JSON = "application/json"
RESOLVED_CONFIG_ENV = "OPENGROUP_RESOLVED_CONFIG"


def _ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


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
    Route("/legacy/{path:path}", legacy_endpoint, methods=["GET", "POST", "DELETE"]),
    *monitoring.ROUTES,  # /health, /metrics
    *web.ROUTES,  # /, /static/images/<room>, and last the catch-all /<room>
]


def create_app(config: Config, context: ServerContext | None = None) -> ASGIApp:
    """Build the app: the onion endpoints (OnionFrontDoor) in front of the Starlette app
    that serves everything else. With no `context`, each process opens its own at start-up."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ctx = (
            context
            if context is not None
            else await run_in_threadpool(open_context, config, background_checkpoints=True)
        )
        app.state.ctx = ctx
        # Everything loaded so far lives as long as the process: keep the garbage collector
        # from walking it again on every full collection of request garbage.
        gc.collect()
        gc.freeze()
        jobs = [
            asyncio.create_task(run_periodic_jobs(ctx)),
            asyncio.create_task(record_token_uses(ctx)),
        ]
        if ctx.db.is_sqlite:
            jobs.append(asyncio.create_task(checkpoints(ctx)))
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
    return onion_front_door(app, lambda: _app_ctx(app))


def _app_ctx(app: Starlette) -> ServerContext:
    ctx: ServerContext = app.state.ctx
    return ctx


def app_from_environment() -> ASGIApp:
    """uvicorn factory for worker processes: the CLI passes its resolved config by env."""
    resolved = os.environ.get(RESOLVED_CONFIG_ENV)
    config = Config(**json.loads(resolved)) if resolved else load_config()
    return create_app(config)
