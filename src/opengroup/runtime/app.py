"""The ASGI application: the API doors (transport/front_door.py: onion requests and the modern
API's root paths) in front of a Starlette app that serves /legacy/, the web pages and
monitoring."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
from collections.abc import AsyncIterator

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from opengroup.config import Config, load_config
from opengroup.runtime.bootstrap import open_context
from opengroup.runtime.jobs import checkpoints, record_token_uses, run_periodic_jobs
from opengroup.transport import metrics
from opengroup.transport.body import (
    BodiesOverloaded,
    BodyGate,
    BodyTooLarge,
    BodyTooSlow,
    read_limited_body,
)
from opengroup.transport.connections import HeadTimeoutProtocol
from opengroup.transport.front_door import front_door
from opengroup.transport.legacy_http import LEGACY_BODY_LIMIT, LEGACY_HTTP, LEGACY_PREFIX
from opengroup.transport.pipeline import HttpRequest, serve
from opengroup.usecases.context import ServerContext
from opengroup.web import monitoring, pages
from opengroup.web.openapi import openapi_document

JSON = "application/json"
log = logging.getLogger("opengroup.http")
RESOLVED_CONFIG_ENV = "OPENGROUP_RESOLVED_CONFIG"


def _ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def body_gate(config: Config) -> BodyGate:
    return BodyGate(
        idle_seconds=config.body_timeout_seconds,
        min_rate=config.min_body_rate,
        max_in_flight=config.max_bodies_in_flight,
        max_buffered=config.max_buffered_body_bytes,
    )


CLOSE = {"connection": "close"}


async def legacy_endpoint(request: Request) -> Response:
    try:
        body = await read_limited_body(request, LEGACY_BODY_LIMIT, request.app.state.body_gate)
    except BodyTooLarge:
        return Response(b'{"status_code":413,"error":"request too large"}', 413, CLOSE, JSON)
    except BodyTooSlow:
        return Response(b'{"status_code":408,"error":"request body too slow"}', 408, CLOSE, JSON)
    except BodiesOverloaded:
        return Response(b'{"status_code":503,"error":"server busy"}', 503, CLOSE, JSON)
    except ClientDisconnect:
        log.debug("client left while sending %s", request.url.path)
        return Response(b"", 400)
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    http = HttpRequest(
        method=request.method,
        path=raw_path.decode("latin-1").split("?", 1)[0],
        query=request.url.query,
        headers=dict(request.headers),
    )
    outcome = await serve(_ctx(request), LEGACY_HTTP, body, http)
    return Response(outcome.body, outcome.status, outcome.headers, media_type=outcome.content_type)


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
    *pages.ROUTES,  # /, /static/images/<room>, and last the catch-all /<room>
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
    # A redirect to the path with a slash would be built from the request's Host header.
    app.router.redirect_slashes = False
    if context is not None:
        app.state.ctx = context
    gate = app.state.body_gate = body_gate(config)
    HeadTimeoutProtocol.head_timeout = config.header_timeout_seconds
    return front_door(app, lambda: _app_ctx(app), gate)


def _app_ctx(app: Starlette) -> ServerContext:
    ctx: ServerContext = app.state.ctx
    return ctx


def app_from_environment() -> ASGIApp:
    """uvicorn factory for worker processes: the CLI passes its resolved config by env."""
    resolved = os.environ.get(RESOLVED_CONFIG_ENV)
    config = Config(**json.loads(resolved)) if resolved else load_config()
    return create_app(config)
