"""Database errors sorted by what they mean (issue 11), through the real app in process:
the ASGI app of runtime/app.py (direct HTTP door → transport/pipeline.py → router → use case
→ store) over a real database of each backend.

- a SQL programming error (a typo, an unknown column) is a bug: 500 with a fixed body for the
  client and the traceback in the log, never a 507 "storage unavailable";
- a PostgreSQL deadlock between two posts is retried by the router, and both posts land.

Full disk and read-only storage (507) are in test_storage_failures.py and test_full_disk.py.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from opengroup.crypto import SessionKeys, sign_session_message
from opengroup.runtime.app import create_app
from opengroup.store import messages as message_store
from opengroup.store import rooms as room_store
from opengroup.store.database import RawTx
from opengroup.store.statements import Statement
from tests.support.fuzzing import InProcess, authenticate, open_in_process

Answer = tuple[int, dict[str, Any]]
_LOCK_BY_ID = Statement("SELECT pk FROM rooms WHERE id = :room_id FOR NO KEY UPDATE")


def _in_process(data_dir: Path, database_url: str) -> Iterator[InProcess]:
    inproc = open_in_process(data_dir, database_url=database_url, rate_limit_posts=100_000)
    yield inproc
    inproc.ctx.close()


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[InProcess]:
    yield from _in_process(tmp_path / "data", db_url)


@pytest.fixture
def postgres_server(tmp_path: Path, database_factory: Any) -> Iterator[InProcess]:
    yield from _in_process(tmp_path / "data", database_factory("postgres"))


def send_all(server: InProcess, *requests: tuple[str, str, object, dict[str, str]]) -> list[Answer]:
    """Send requests at once to the app (one event loop, as in a server worker)."""
    app = create_app(server.ctx.config, context=server.ctx)

    async def run() -> list[Answer]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            replies = await asyncio.gather(
                *(
                    client.request(
                        method,
                        f"/legacy/{endpoint}",
                        content=None if body is None else orjson.dumps(body),
                        headers=headers,
                    )
                    for method, endpoint, body, headers in requests
                )
            )
        return [(reply.status_code, orjson.loads(reply.content)) for reply in replies]

    return asyncio.run(run())


def send(
    server: InProcess, method: str, endpoint: str, body: object = None, **headers: str
) -> Answer:
    return send_all(server, (method, endpoint, body, headers))[0]


def signed(keys: SessionKeys, data: bytes) -> dict[str, str]:
    return {
        "data": base64.b64encode(data).decode(),
        "signature": base64.b64encode(sign_session_message(keys.private, data)).decode(),
    }


def post_request(
    keys: SessionKeys, token: str, room: str, data: bytes
) -> tuple[str, str, object, dict[str, str]]:
    return ("POST", "messages", signed(keys, data), {"Room": room, "Authorization": token})


def message_data(server: InProcess, room: str, token: str) -> list[str]:
    status, reply = send(server, "GET", "messages", Room=room, Authorization=token)
    assert status == 200, reply
    return [message["data"] for message in reply["messages"]]


def assert_bug_logged(caplog: pytest.LogCaptureFixture, *markers: str) -> None:
    """One ERROR record with the exception attached: the operator gets the traceback."""
    records = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert records, caplog.text
    assert "Traceback (most recent call last)" in caplog.text
    assert any(marker in caplog.text for marker in markers), caplog.text
    assert "storage failure" not in caplog.text


def test_sql_error_in_a_read_is_a_500_with_the_traceback_logged(
    server: InProcess, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def list_rooms_with_a_typo(tx: Any) -> list[room_store.Room]:
        tx.execute(text("SELEC pk FROM rooms"))
        raise AssertionError("unreachable: the SQL above is invalid")

    monkeypatch.setattr(room_store, "list_rooms", list_rooms_with_a_typo)
    status, reply = send(server, "GET", "rooms")
    assert (status, reply) == (500, {"status_code": 500, "error": "internal server error"})
    assert_bug_logged(caplog, "syntax error", "SyntaxError")

    monkeypatch.undo()
    status, reply = send(server, "GET", "rooms")
    assert status == 200 and [room["id"] for room in reply["rooms"]] == ["main", "second"]


def test_sql_error_in_a_post_is_a_500_and_writes_nothing(
    server: InProcess, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    token = server.user_token
    assert send_all(server, post_request(server.user, token, "main", b"before"))[0][0] == 200
    before = message_data(server, "main", token)

    # The real statement with one column misspelt: same placeholders, a SQL error.
    monkeypatch.setattr(
        message_store,
        "_INSERT_MESSAGE",
        Statement(message_store._INSERT_MESSAGE.source.replace("posted)", "no_such_column)", 1)),
    )
    status, reply = send_all(server, post_request(server.user, token, "main", b"lost"))[0]
    assert (status, reply) == (500, {"status_code": 500, "error": "internal server error"})
    assert_bug_logged(caplog, "no_such_column")

    monkeypatch.undo()
    assert message_data(server, "main", token) == before  # rolled back whole
    status, reply = send_all(server, post_request(server.user, token, "main", b"after"))[0]
    assert status == 200, reply
    # The failed post's id was rolled back with it: ids stay consecutive.
    assert reply["message"]["server_id"] == len(before) + 1


@pytest.mark.postgres
def test_a_postgresql_deadlock_between_two_posts_is_retried_and_both_land(
    postgres_server: InProcess, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Two posts, in rooms `main` and `second`, each lock their own room's row (as every
    post does) and then, through a test hook, the other's: a real deadlock, which
    PostgreSQL breaks by aborting one of them (40P01) after deadlock_timeout. The router runs
    the aborted post again; both land, each once."""
    server = postgres_server
    caplog.set_level(logging.INFO, logger="opengroup.api")
    alice, bob = SessionKeys.generate(), SessionKeys.generate()
    alice_token = authenticate(server.ctx, alice, "main")
    bob_token = authenticate(server.ctx, bob, "second")
    other_room = {"main": "second", "second": "main"}
    both_hold_their_room = threading.Barrier(2, timeout=30)
    hooked = {"calls": 0}
    hook_lock = threading.Lock()
    original = message_store.count_person_posts_since

    def count_then_lock_the_other_room(tx: RawTx, room: room_store.Room, *args: Any) -> int:
        counted = original(tx, room, *args)  # holds this room's row lock until commit
        with hook_lock:
            hooked["calls"] += 1
            first_two = hooked["calls"] <= 2
        if first_two:
            both_hold_their_room.wait()
            tx.run(_LOCK_BY_ID, (other_room[room.id],))
        return counted

    monkeypatch.setattr(message_store, "count_person_posts_since", count_then_lock_the_other_room)
    answers = send_all(
        server,
        post_request(alice, alice_token, "main", b"alice in main"),
        post_request(bob, bob_token, "second", b"bob in second"),
    )
    monkeypatch.undo()

    assert [status for status, _ in answers] == [200, 200], answers
    assert hooked["calls"] == 3, "one of the two posts ran again after the deadlock"
    assert "40P01" in caplog.text and "retrying" in caplog.text, caplog.text
    main = message_data(server, "main", alice_token)
    second = message_data(server, "second", bob_token)
    assert main.count(signed(alice, b"alice in main")["data"]) == 1
    assert second.count(signed(bob, b"bob in second")["data"]) == 1
