"""Reading a request body within limits: its size (refused from Content-Length before any of
it is read, else while it arrives), its pace (a pause longer than `idle_seconds`, or a rate
under `min_rate` once that grace has passed, ends it) and the process's share (at most
`max_in_flight` bodies and `max_buffered` bytes being read at once; beyond, 503)."""

from __future__ import annotations

import asyncio
import time
import types
from collections.abc import Coroutine, Generator
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.types import Message, Receive, Scope


class BodyTooLarge(Exception):
    pass


class BodyTooSlow(Exception):
    """The client paused too long, or sends slower than the minimum rate: 408."""


class BodiesOverloaded(Exception):
    """Too many bodies, or too many bytes of them, are being read at once: 503."""


@dataclass(slots=True)
class BodyGate:
    """The limits of one process, and what is being read now (one event loop: no lock)."""

    idle_seconds: float = 10.0
    min_rate: float = 4096.0
    max_in_flight: int = 64
    max_buffered: int = 100_000_000
    in_flight: int = 0
    buffered: int = 0


UNLIMITED = BodyGate(idle_seconds=3600.0, min_rate=0.0, max_in_flight=10**9, max_buffered=2**62)


async def read_body(
    scope: Scope, receive: Receive, limit: int, gate: BodyGate = UNLIMITED
) -> bytes:
    """The whole body of an ASGI request, or BodyTooLarge, BodyTooSlow, BodiesOverloaded,
    ClientDisconnect as soon as one is known."""
    declared = 0
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            declared = int(value)
            if declared > limit:
                raise BodyTooLarge
    if gate.in_flight >= gate.max_in_flight or gate.buffered + declared > gate.max_buffered:
        raise BodiesOverloaded
    gate.in_flight += 1
    chunks: list[bytes] = []
    size = 0
    started = time.monotonic()
    try:
        while True:
            message = await _next(receive, gate, size, time.monotonic() - started)
            if message["type"] == "http.disconnect":
                raise ClientDisconnect
            chunk = message.get("body", b"")
            size += len(chunk)
            gate.buffered += len(chunk)
            if size > limit:
                raise BodyTooLarge
            if gate.buffered > gate.max_buffered:
                raise BodiesOverloaded
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        gate.in_flight -= 1
        gate.buffered -= size


async def _next(receive: Receive, gate: BodyGate, size: int, elapsed: float) -> Message:
    """The next ASGI message, waiting no longer than the pause and the rate allow."""
    wait = gate.idle_seconds
    if gate.min_rate > 0:
        # `size` bytes are enough until this many seconds after the start.
        enough_until = gate.idle_seconds + size / gate.min_rate
        wait = min(wait, enough_until - elapsed)
    if wait <= 0:
        raise BodyTooSlow
    pending = receive()
    if isinstance(pending, Coroutine):
        # A body usually arrives with its head: the server's receive() then answers without
        # suspending, and needs no timer (~4.6 µs made and cancelled, 3% of a poll).
        try:
            suspended = pending.send(None)
        except StopIteration as arrived:
            message: Message = arrived.value
            return message
        pending = _resumed(pending, suspended)
    try:
        # asyncio.timeout, not wait_for: no task per message (wait_for's task cost as much
        # as a third of a poll's own work).
        async with asyncio.timeout(wait):
            return await pending
    except TimeoutError:
        raise BodyTooSlow from None


@types.coroutine
def _resumed(
    coroutine: Coroutine[Any, Any, Message], suspended: Any
) -> Generator[Any, Any, Message]:
    """Go on driving `coroutine`, which has already run up to yielding `suspended` to the
    event loop, exactly as `await coroutine` would have (cancellation passed in)."""
    while True:
        try:
            sent = yield suspended
        except BaseException as error:
            try:
                suspended = coroutine.throw(error)
            except StopIteration as done:
                result: Message = done.value
                return result
        else:
            try:
                suspended = coroutine.send(sent)
            except StopIteration as done:
                result = done.value
                return result


async def read_limited_body(request: Request, limit: int, gate: BodyGate = UNLIMITED) -> bytes:
    return await read_body(request.scope, request.receive, limit, gate)
