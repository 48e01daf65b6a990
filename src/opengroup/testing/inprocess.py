"""Onion requests answered in-process, through the server's own pipeline (tests, bench.micro):
the same open → dispatch → seal as over HTTP, without a socket."""

from __future__ import annotations

import asyncio

from opengroup.transport.onion import V3
from opengroup.transport.onion_v4 import V4
from opengroup.transport.pipeline import Door, HttpRequest, serve
from opengroup.usecases.context import ServerContext


def handle_envelope(
    ctx: ServerContext, door: Door, body: bytes, runner: asyncio.Runner | None = None
) -> tuple[int, bytes]:
    """(HTTP status, body) for one onion request body; on `runner`'s loop when given (a loop
    made per call costs more than the request itself, which matters to bench.micro)."""
    request = serve(ctx, door, body, HttpRequest())
    outcome = runner.run(request) if runner is not None else asyncio.run(request)
    return outcome.status, outcome.body


def handle_onion_request(
    ctx: ServerContext, body: bytes, runner: asyncio.Runner | None = None
) -> tuple[int, bytes]:
    return handle_envelope(ctx, V3, body, runner)


def handle_onion_v4_request(
    ctx: ServerContext, body: bytes, runner: asyncio.Runner | None = None
) -> tuple[int, bytes]:
    return handle_envelope(ctx, V4, body, runner)
