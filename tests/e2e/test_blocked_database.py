"""A writer that holds the database for 5 s freezes nothing else (issue 11).

A second process holds the SQLite writers' lock (the `flock` file beside the database, or a
`BEGIN IMMEDIATE` transaction), or another connection holds a PostgreSQL row lock on the
room's row, for HOLD_SECONDS. Meanwhile, in the same (only) server worker, `GET /health` and
reads of another room (legacy GET messages, onion compact_poll) each answer within
FAST_SECONDS; a post issued during the hold ends in an answer (200 once the lock frees, or a
503 with Retry-After), never a hang.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import psycopg
import pytest

from .conftest import Member, Server, signed_body, start_server, status

HOLD_SECONDS = 5.0
FAST_SECONDS = 0.100
POST_DEADLINE_SECONDS = 30.0


class Holder(Protocol):
    def hold(self) -> None: ...
    def release(self) -> None: ...


_SQLITE_HOLDER = textwrap.dedent(
    """
    import fcntl, os, sqlite3, sys, time
    database, how, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if how == "flock":
        fd = os.open(database + ".write-lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
    else:
        con = sqlite3.connect(database, timeout=10, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
    print("held", flush=True)
    time.sleep(seconds)
    """
)


@dataclass
class SQLiteHolder:
    """Another process holding the writers' lock for HOLD_SECONDS, then exiting."""

    database: Path
    how: str  # "flock" or "begin-immediate"
    process: subprocess.Popen[str] | None = None

    def hold(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SQLITE_HOLDER, str(self.database), self.how, str(HOLD_SECONDS)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "held"

    def release(self) -> None:
        assert self.process is not None
        self.process.wait(timeout=HOLD_SECONDS + 10)


@dataclass
class PostgresRowHolder:
    """Another connection with `SELECT … FOR UPDATE` on the room's row, rolled back after."""

    url: str
    room: str
    conn: psycopg.Connection[Any] | None = None
    started: float = 0.0

    def hold(self) -> None:
        self.started = time.monotonic()
        self.conn = psycopg.connect(self.url)
        self.conn.execute("SELECT pk FROM rooms WHERE id = %s FOR UPDATE", (self.room,))

    def release(self) -> None:
        assert self.conn is not None
        remaining = self.started + HOLD_SECONDS - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
        self.conn.rollback()
        self.conn.close()


@dataclass
class Blocked:
    server: Server
    holder: Holder


@pytest.fixture(
    params=[
        "sqlite-flock",
        "sqlite-begin-immediate",
        pytest.param("postgres-row-lock", marks=pytest.mark.postgres),
    ]
)
def blocked(
    request: pytest.FixtureRequest, tmp_path: Path, database_factory: Any
) -> Iterator[Blocked]:
    kind = str(request.param)
    database_url = database_factory("postgres") if kind.startswith("postgres") else ""
    server = start_server(tmp_path / "data", database_url=database_url)
    server.cli("rooms", "add", "second", "Second")
    holder: Holder
    if database_url:
        holder = PostgresRowHolder(database_url, "main")
    else:
        holder = SQLiteHolder(tmp_path / "data" / "opengroup.db", kind.removeprefix("sqlite-"))
    try:
        yield Blocked(server, holder)
    finally:
        server.running.stop()


@dataclass
class Timed:
    what: str
    seconds: float
    status: int
    at: float = 0.0  # time.monotonic() when it was sent


def timed(what: str, request: Any) -> Timed:
    at = time.monotonic()
    started = time.perf_counter()
    answer = request()
    return Timed(what, time.perf_counter() - started, answer, at)


def test_a_held_writers_lock_freezes_nothing_else(blocked: Blocked) -> None:
    server = blocked.server
    legacy = server.client("legacy")
    onion = server.client("onion")
    health = httpx.Client(base_url=server.base_url, timeout=30)
    poster = Member.join(server.client("legacy"), "main")
    reader = Member.join(legacy, "second")
    reader.post_message(b"before the hold")
    poll = [{"room_id": "second", "auth_token": reader.token, "from_message_server_id": 0}]

    def reads() -> list[Timed]:
        return [
            timed("GET /health", lambda: health.get("/health").status_code),
            timed("legacy GET messages", lambda: status(reader.get("messages"))),
            timed("onion compact_poll", lambda: status(onion.request(
                "POST", "compact_poll", body={"requests": poll}
            ))),
        ]  # fmt: skip

    reads()  # connections open, code paths warm

    post_result: dict[str, Any] = {}

    def post() -> None:
        started = time.monotonic()
        post_result["reply"] = poster.post("messages", signed_body(poster.keys, b"during"))
        post_result["answered_at"] = time.monotonic()
        post_result["seconds"] = post_result["answered_at"] - started

    # What is timed is the server: no garbage collection pause of this process in the middle.
    gc.collect()
    gc.disable()
    try:
        blocked.holder.hold()
        held_at = time.monotonic()
        posting = threading.Thread(target=post, daemon=True)
        posting.start()
        time.sleep(0.2)  # the post is now waiting for the lock
        samples: list[Timed] = []
        while time.monotonic() < held_at + HOLD_SECONDS - 0.8:
            samples += reads()
            time.sleep(0.1)
        still_waiting = posting.is_alive()
        blocked.holder.release()
        posting.join(POST_DEADLINE_SECONDS)
    finally:
        gc.enable()

    assert not posting.is_alive(), "the post issued during the hold never answered"
    assert all(sample.status == 200 for sample in samples), samples
    slow = [sample for sample in samples if sample.seconds > FAST_SECONDS]
    assert not slow, "answers slower than {:.0f} ms during the hold: {}".format(
        FAST_SECONDS * 1000,
        [(s.what, f"{s.seconds * 1000:.0f} ms", f"sent at +{s.at - held_at:.2f} s") for s in slow],
    )

    assert len(samples) >= 3 * 5, "too few answers during the hold"

    reply = post_result["reply"]
    assert status(reply) in (200, 503), reply
    if status(reply) == 200:
        # It really waited for the lock: the hold was effective, the test meaningful.
        assert still_waiting, "the post did not wait for the held lock"
        assert post_result["answered_at"] >= held_at + HOLD_SECONDS - 0.5
        messages = [m["data"] for m in poster.messages()]
        assert signed_body(poster.keys, b"during")["data"] in messages
    for client in (legacy, onion, poster.client):
        client.close()
    health.close()
