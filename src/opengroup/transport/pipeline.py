"""The one path from bytes to bytes, for every door (onion v3, onion v4, direct HTTP):
open → dispatch → seal, written once.

It is also the one place that decides where a request runs. The event loop keeps only work
that cannot block: on SQLite, reads (WAL readers never wait for writers) of small requests.
Everything that may wait (a write and its wait for the writers' lock, every PostgreSQL
round trip, megabytes of files or envelope) runs in the store's threads (Database.run).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from opengroup.api.legacy.routes import LEGACY
from opengroup.api.request import ApiRequest
from opengroup.api.routing import Match, Reply, Router
from opengroup.api.sogs.routes import SOGS
from opengroup.crypto import BadEnvelope
from opengroup.store.envelopes import record_envelope
from opengroup.transport.metrics import record_api_request, record_http, record_onion_failure
from opengroup.usecases.context import ServerContext

TEXT = "text/plain; charset=utf-8"
ROUTERS: dict[str, Router[Reply]] = {"legacy": LEGACY, "sogs": SOGS}  # type: ignore[dict-item]

# Requests this small cost well under a millisecond of CPU, less than the hop to a thread:
# on SQLite their reads run on the event loop (bench, 1 process: 827 -> 1232 polls/s).
INLINE_BODY_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What a door may need of the HTTP request that carried the body."""

    method: str = "POST"
    path: str = "/"  # raw: percent-escapes as sent
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # lowercase names


@dataclass(slots=True)
class Outcome:
    """The HTTP answer: status, content type, body, extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


Opened = tuple[object, "ApiRequest | Reply"]  # (what seal needs, the request or its answer)


@dataclass(frozen=True, slots=True)
class Door:
    """One way in. `open` raises BadEnvelope when nothing can be answered inside."""

    transport: str
    open: Callable[[ServerContext, bytes, HttpRequest], Opened]
    seal: Callable[[object, Reply], Outcome]
    counts_envelope_failures: bool = False


async def serve(ctx: ServerContext, door: Door, body: bytes, http: HttpRequest) -> Outcome:
    started = time.perf_counter()
    large = len(body) > INLINE_BODY_BYTES
    try:
        state, opened = (
            await ctx.db.run(door.open, ctx, body, http) if large else door.open(ctx, body, http)
        )
    except BadEnvelope as error:
        if door.counts_envelope_failures:
            record_onion_failure()
        return Outcome(400, TEXT, f"Invalid onion request: {error}".encode())
    heavy = large
    if isinstance(opened, ApiRequest):
        reply, heavy = await answer(ctx, opened)
        heavy = heavy or large
    else:
        reply = opened
    outcome = await ctx.db.run(door.seal, state, reply) if heavy else door.seal(state, reply)
    record_http(door.transport, time.perf_counter() - started)
    return outcome


async def answer(ctx: ServerContext, request: ApiRequest) -> tuple[Reply, bool]:
    """The request's reply, and whether it moved megabytes (then seal it off the loop)."""
    router = ROUTERS[request.api]
    if request.api == "legacy" and not ctx.config.legacy_api:
        return router.failure(404, "the legacy API is turned off on this server"), False
    found = router.match(request.method, request.path)
    started = time.perf_counter()
    if found is not None and _leaves_loop(ctx, found, request):
        dispatch = _dispatch_once if request.envelope and found.route.writes else router.dispatch
        reply = await ctx.db.run(dispatch, ctx, request, found)
    else:
        reply = router.dispatch(ctx, request, found)
    pattern = found.route.pattern if found is not None else None
    record_api_request(
        pattern, request.method, request.transport, reply.status_code,
        time.perf_counter() - started,
    )  # fmt: skip
    # A reply that used much of its budget (rules/limits.ReplyBudget) is encoded and sealed
    # in a store thread, not on the event loop.
    large = request.budget is not None and request.budget.used_size > INLINE_BODY_BYTES
    return reply, large or (found is not None and found.route.heavy)


def _dispatch_once(ctx: ServerContext, request: ApiRequest, found: Match) -> Reply:
    """A legacy onion request that writes: its envelope is recorded in its first write
    transaction, so the same envelope sent again is refused (an encrypted 400) before it acts.
    """
    envelope, now = request.envelope, ctx.clock()
    assert envelope is not None
    with ctx.db.first_write_does(lambda tx: record_envelope(tx, envelope, now)):
        return ROUTERS[request.api].dispatch(ctx, request, found)


def _leaves_loop(ctx: ServerContext, found: Match, request: ApiRequest) -> bool:
    route = found.route
    return (
        route.writes
        or route.heavy
        or ctx.db.reads_can_block
        or (request.body is not None and len(request.body) > INLINE_BODY_BYTES)
        # A signed modern request records its nonce: a write.
        or (request.api == "sogs" and not request.authenticated and _signed(request))
    )


def _signed(request: ApiRequest) -> bool:
    return bool(request.headers.get("x-sogs-pubkey") or request.headers.get("x-sogs-signature"))
