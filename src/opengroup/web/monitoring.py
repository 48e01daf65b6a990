"""`GET /health` and `GET /metrics` on the main port."""

from __future__ import annotations

import logging

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from opengroup.usecases import stats
from opengroup.usecases.context import ServerContext
from opengroup.web import metrics
from opengroup.web.outage import DATABASE

log = logging.getLogger("opengroup")
JSON = "application/json"
NO_STORE = {"Cache-Control": "no-store"}


def _ctx(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def database_answers(ctx: ServerContext) -> bool:
    try:
        stats.check_database(ctx)
    except Exception as error:
        DATABASE.failed("health check", error)
        return False
    DATABASE.answered()
    return True


async def health(request: Request) -> Response:
    if await run_in_threadpool(database_answers, _ctx(request)):
        return Response(orjson.dumps({"status": "ok"}), 200, media_type=JSON, headers=NO_STORE)
    body = orjson.dumps({"status": "unavailable", "error": "database does not answer"})
    return Response(body, 503, media_type=JSON, headers=NO_STORE)


async def metrics_endpoint(request: Request) -> Response:
    ctx = _ctx(request)
    config = ctx.config
    # The main port is public: the metrics (active users per room, traffic) are served there
    # only when asked for; metrics_listen serves them on a private address instead.
    if not config.metrics or config.metrics_listen or not config.metrics_public:
        return PlainTextResponse("Not Found", status_code=404)
    body = await run_in_threadpool(metrics.render, stats.gauges_reader(ctx.db), ctx.clock)
    return Response(body, media_type=metrics.CONTENT_TYPE, headers=NO_STORE)


ROUTES = [
    Route("/health", health, methods=["GET"]),
    Route("/metrics", metrics_endpoint, methods=["GET"]),
]
