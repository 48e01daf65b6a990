"""The one path from bytes to bytes, for every door (onion v3, onion v4, direct HTTP):
open → dispatch → seal, written once.

It is also the one place that decides where a request runs. The event loop keeps only work
that cannot block: on SQLite, reads (WAL readers never wait for writers) of small requests.
Everything that may wait (a write and its wait for the writers' lock, every PostgreSQL
round trip, megabytes of files or envelope) runs in the store's threads (Database.run).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from opengroup.api.legacy.routes import LEGACY
from opengroup.api.request import ApiRequest
from opengroup.api.routing import Match, Reply, Router
from opengroup.api.sogs.routes import SOGS
from opengroup.crypto import BadEnvelope
from opengroup.store.database import WouldBlock
from opengroup.store.envelopes import record_envelope
from opengroup.transport.metrics import record_api_request, record_http, record_onion_failure
from opengroup.usecases.context import ServerContext

TEXT = "text/plain; charset=utf-8"
ACCESS_LOG = logging.getLogger("opengroup.access")
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
    run = _dispatch_sharing_reads if request.api == "sogs" else router.dispatch
    if found is not None and _leaves_loop(ctx, found, request):
        if request.envelope and found.route.writes:
            run = _dispatch_once
        if _on_loop_without_waiting(ctx, found, request) or _legacy_post(ctx, found, request):
            reply = await _write_without_waiting(ctx, run, request, found)
        else:
            reply = await ctx.db.run(run, ctx, request, found)
    else:
        reply = run(ctx, request, found)
    pattern = found.route.pattern if found is not None else None
    record_api_request(
        pattern, request.method, request.transport, reply.status_code,
        time.perf_counter() - started,
    )  # fmt: skip
    if ctx.config.access_log and request.transport.startswith("onion"):
        # uvicorn logs the outer `POST /oxen/v4/lsrpc 200` of every onion request; this line
        # says what was inside: the endpoint (its route pattern: no ids) and its own status.
        ACCESS_LOG.info(
            "%s inner %s %s %d", request.transport, request.method,
            pattern or "(no such endpoint)", reply.status_code,
        )  # fmt: skip
    # A reply that used much of its budget (rules/limits.ReplyBudget) is encoded and sealed
    # in a store thread, not on the event loop.
    large = request.budget is not None and request.budget.used_size > INLINE_BODY_BYTES
    return reply, large or (found is not None and found.route.heavy)


# A write that found the writers' lock taken tries again on the loop after each of these
# naps (a post holds the lock ~0.2 ms; the event loop serves other requests meanwhile), and
# only then waits for the lock in a store thread. Straight to a thread, one post that found
# the lock taken by a job made the next ones find it taken by that thread, and so on: under
# load a fifth of the posts hopped to threads (bench post row, 1 worker).
NO_WAIT_RETRY_NAPS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01)


async def _write_without_waiting(
    ctx: ServerContext,
    run: Callable[[ServerContext, ApiRequest, Match | None], Reply],
    request: ApiRequest,
    found: Match,
) -> Reply:
    """On the event loop: each write transaction (a signed request's nonce and user record, a
    post's) begins only if the writers' lock is free now; otherwise WouldBlock before it
    writes anything, and the request runs again from the start: after a nap on the loop, then
    in a store thread, where it may wait (a signed request whose nonce is recorded already is
    marked authenticated, so a later run does not record it again)."""
    for nap in NO_WAIT_RETRY_NAPS:
        try:
            with ctx.db.no_wait_writes():
                return run(ctx, request, found)
        except WouldBlock:  # the writers' lock is taken: nothing was written
            await asyncio.sleep(nap)
    return await ctx.db.run(run, ctx, request, found)


def _dispatch_once(ctx: ServerContext, request: ApiRequest, found: Match | None) -> Reply:
    """A legacy onion request that writes: its envelope is recorded in its first write
    transaction, so the same envelope sent again is refused (an encrypted 400) before it acts.
    """
    assert request.envelope is not None
    envelope, now = request.envelope(), ctx.clock()
    with ctx.db.first_write_does(lambda tx: record_envelope(tx, envelope, now)):
        return ROUTERS[request.api].dispatch(ctx, request, found)


def _dispatch_sharing_reads(ctx: ServerContext, request: ApiRequest, found: Match | None) -> Reply:
    """A modern request, its reads in one read transaction (a batch's sub-requests: one
    snapshot, not one each; a write in between ends it, so later reads see the write)."""
    with ctx.db.shared_reads():
        return ROUTERS["sogs"].dispatch(ctx, request, found)


def _legacy_post(ctx: ServerContext, found: Match, request: ApiRequest) -> bool:
    """A legacy post, small, on SQLite: one raw write transaction (see _on_loop_without_waiting
    for why, and how it falls back to a store thread), after the signature check."""
    return (
        request.api == "legacy"
        and (found.route.method, found.route.pattern) == ("POST", "messages")
        and not ctx.db.reads_can_block
        and (request.body is None or len(request.body) <= INLINE_BODY_BYTES)
    )


def _on_loop_without_waiting(ctx: ServerContext, found: Match, request: ApiRequest) -> bool:
    """A signed modern request that only reads (a GET, or a /batch or /sequence of reads, as
    Desktop's poll) or makes one write transaction (a post, edit, deletion), small, on
    SQLite: its reads never wait and its writes need not (see answer).
    Saves the hop to a thread (~0.2 ms of CPU, as much as the onion envelope itself).
    Anything else goes to a store thread as before."""
    if request.api != "sogs" or ctx.db.reads_can_block or found.route.heavy:
        return False
    if request.body is not None and len(request.body) > INLINE_BODY_BYTES:
        return False
    if not found.route.writes:
        return True
    if (found.route.method, found.route.pattern) in _ONE_WRITE_ROUTES:
        return True
    if found.route.pattern not in _BATCHES or not request.body:
        return False
    try:
        items = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(items, list) or len(items) > _MAX_INLINE_ITEMS:
        return False
    sogs = ROUTERS["sogs"]
    for item in items:
        if not isinstance(item, dict):
            return False
        method, path = item.get("method"), item.get("path")
        if not isinstance(path, str) or path[:1] != "/" or not isinstance(method, str):
            return False
        # Every route the item could reach reads only (its handler then matches it once;
        # an item that reaches none is a 404, answered on the loop as cheaply).
        for route in sogs.candidates(method, path[1:].partition("?")[0]):
            if route.writes or route.heavy or route.pattern in _BATCHES:
                return False
    return True


_BATCHES = frozenset({"batch", "sequence"})
# Routes whose handler makes exactly one write transaction: if it would wait (WouldBlock,
# raised before it writes anything), the request runs again in a thread, where the signer is
# known already (the nonce is not recorded twice) and the handler starts over.
_ONE_WRITE_ROUTES = frozenset(
    {
        ("POST", "room/{room}/message"),
        ("PUT", "room/{room}/message/{id}"),
        ("DELETE", "room/{room}/message/{id}"),
    }
)
# Desktop's poll of a server of 30 rooms; a bigger batch of reads runs in a thread.
_MAX_INLINE_ITEMS = 64


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
