"""transport/body.py read_body on ASGI receive() callables of each kind: one whose body is
there already (answers without suspending: no timer made), one that suspends first, one that
never delivers (the pause limit), and cancellation reaching the server's receive()."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from opengroup.transport.body import BodyGate, BodyTooSlow, read_body

SCOPE: dict[str, Any] = {"type": "http", "headers": [(b"content-length", b"5")]}


def message(body: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


def gate(idle: float = 5.0) -> BodyGate:
    return BodyGate(idle_seconds=idle, min_rate=0.0)


def test_a_body_that_is_there_already_is_read_without_a_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def receive() -> dict[str, Any]:
        return message(b"hello")

    def no_timer(*_args: Any) -> Any:
        raise AssertionError("a timer was made for a body that had arrived")

    async def run() -> bytes:
        monkeypatch.setattr(asyncio, "timeout", no_timer)
        return await read_body(SCOPE, receive, 100, gate())

    assert asyncio.run(run()) == b"hello"


def test_a_body_in_pieces_that_suspend_is_read_whole() -> None:
    async def run() -> bytes:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def receive() -> dict[str, Any]:
            return await queue.get()

        async def sender() -> None:
            for piece, more in ((b"he", True), (b"ll", True), (b"o", False)):
                await asyncio.sleep(0.01)
                queue.put_nowait(message(piece, more))

        task = asyncio.create_task(sender())
        body = await read_body(SCOPE, receive, 100, gate())
        await task
        return body

    assert asyncio.run(run()) == b"hello"


def test_a_body_that_stops_arriving_is_too_slow_and_its_receive_is_cancelled() -> None:
    seen: list[str] = []

    async def run() -> None:
        async def receive() -> dict[str, Any]:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise
            return message(b"never")

        with pytest.raises(BodyTooSlow):
            await read_body(SCOPE, receive, 100, gate(idle=0.05))

    asyncio.run(run())
    assert seen == ["cancelled"]


def test_a_non_coroutine_awaitable_receive_still_works() -> None:
    async def run() -> bytes:
        def receive() -> asyncio.Future[dict[str, Any]]:
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            future.set_result(message(b"hello"))
            return future

        return await read_body(SCOPE, receive, 100, gate())

    assert asyncio.run(run()) == b"hello"
