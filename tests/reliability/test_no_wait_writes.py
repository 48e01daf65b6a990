"""A post on the event loop that finds the SQLite writers' lock taken (transport/pipeline.py):
it tries again on the loop after a short nap, and only a lock held longer than the naps sends
it to a store thread. Sent straight to a thread, one such post made the next ones find the
lock taken by that thread, and so on (a fifth of the posts under load hopped to threads)."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from opengroup.crypto import sign_session_message
from opengroup.runtime.app import create_app
from opengroup.store.database import WouldBlock
from tests.support.fuzzing import InProcess, open_in_process


@pytest.fixture
def server(tmp_path: Path) -> Iterator[InProcess]:
    inproc = open_in_process(tmp_path / "data", rate_limit_posts=100_000)
    yield inproc
    inproc.ctx.close()


def post(server: InProcess, data: bytes) -> int:
    body = {
        "data": base64.b64encode(data).decode(),
        "signature": base64.b64encode(sign_session_message(server.user.private, data)).decode(),
    }
    app = create_app(server.ctx.config, context=server.ctx)

    async def run() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            reply = await client.post(
                "/legacy/messages",
                content=orjson.dumps(body),
                headers={"Room": "main", "Authorization": server.user_token},
            )
        return reply.status_code

    return asyncio.run(run())


def count_store_thread_calls(server: InProcess, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real_run = server.ctx.db.run

    async def counted(function: Callable[..., Any], *args: Any) -> Any:
        calls.append(getattr(function, "__name__", repr(function)))
        return await real_run(function, *args)

    monkeypatch.setattr(server.ctx.db, "run", counted)
    return calls


@contextmanager
def lock_held_until_a_write_is_refused(server: InProcess, seconds_after: float) -> Iterator[None]:
    """A store thread holds the writers' lock; it lets go `seconds_after` the first no-wait
    write found it taken."""
    db = server.ctx.db
    held, refused = threading.Event(), threading.Event()
    real_no_wait = db.no_wait_writes

    @contextmanager
    def noting_refusals() -> Iterator[None]:
        try:
            with real_no_wait():
                yield
        except WouldBlock:
            refused.set()
            raise

    def holder() -> None:
        with db.write_raw():
            held.set()
            refused.wait(30)
            threading.Event().wait(seconds_after)

    db.no_wait_writes = noting_refusals  # type: ignore[method-assign]
    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(30)
        yield
    finally:
        refused.set()
        thread.join()
        del db.no_wait_writes


def test_a_post_that_finds_the_lock_briefly_taken_is_answered_on_the_event_loop(
    server: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_store_thread_calls(server, monkeypatch)
    with lock_held_until_a_write_is_refused(server, seconds_after=0.0):
        assert post(server, b"after a short wait") == 200
    assert calls == [], "the post went to a store thread"


def test_a_post_that_finds_the_lock_held_longer_waits_in_a_store_thread(
    server: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_store_thread_calls(server, monkeypatch)
    with lock_held_until_a_write_is_refused(server, seconds_after=0.5):
        assert post(server, b"after a long wait") == 200
    assert len(calls) == 1, calls
