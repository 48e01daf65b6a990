"""The server as 4 processes on one port, on SQLite and on PostgreSQL, under concurrent load.

8 writers post 2,000 messages in all to 3 rooms; 4 readers follow every room with compact_poll
cursors (from_message_server_id, from_deletion_server_id carried forward); 2 global moderators
delete messages meanwhile; every process prunes every second. Half the clients speak onion
requests, half direct HTTP, and no client keeps a connection alive, so consecutive requests of
one client land on different processes.

At the end, for every room:
- no server_id was issued twice, and the ids issued are exactly 1..N (none lost);
- every reader saw message ids strictly increasing, each at most once, with the posted data,
  and saw every acknowledged message that was not deleted;
- every reader saw deletion ids strictly increasing, and every deletion made, each message
  deleted at most once;
- in the database, the room's seqnos (SOGS-API.md 6.1: one per post and one per deletion; a
  deletion's id is its seqno) are exactly 1..seqno: none skipped, none given twice.
A message deleted before a reader's next poll is never shown to it (deleted messages are never
returned); the reader still sees its deletion.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from sqlalchemy import select

from opengroup.config import Config
from opengroup.crypto import SessionKeys
from opengroup.runtime.bootstrap import open_context
from opengroup.store import messages as message_store
from opengroup.store import moderation as moderation_store
from opengroup.store import rooms as room_store
from opengroup.store.schema import messages
from opengroup.testing.client import OpenGroupClient
from tests.support.server import RunningServer

pytestmark = pytest.mark.slow

ROOMS = ("alpha", "beta", "gamma")
WRITERS = 8
READERS = 4
MODERATORS = 2
MESSAGES = 2_000
DELETES_EACH = 60
DEADLINE_SECONDS = 240

Transport = Literal["onion", "legacy"]


def client(server: RunningServer, public_key: bytes, transport: Transport) -> OpenGroupClient:
    # No keep-alive: every request is a new connection, accepted by whichever process is free.
    http = httpx.Client(timeout=60, limits=httpx.Limits(max_keepalive_connections=0))
    return OpenGroupClient(server.base_url, public_key, transport=transport, http=http)


def ok(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply["status_code"] == 200, reply
    return reply


@dataclass
class Shared:
    """What the clients learnt, guarded by one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    posted: dict[str, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))
    deleted: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    writers_left: int = WRITERS
    moderators_left: int = MODERATORS

    def acknowledge(self, room: str, server_id: int, data: str) -> None:
        with self.lock:
            assert server_id not in self.posted[room], f"{room}: id {server_id} issued twice"
            self.posted[room][server_id] = data

    @property
    def quiet(self) -> bool:
        with self.lock:
            return self.writers_left == 0 and self.moderators_left == 0


def writer(og: OpenGroupClient, number: int, shared: Shared) -> None:
    user = SessionKeys.generate()
    tokens = {room: og.authenticate(user, room) for room in ROOMS}
    for n in range(number, MESSAGES, WRITERS):
        room = ROOMS[n % len(ROOMS)]
        payload = f"message {n} from writer {number}".encode()
        message = ok(og.post_message(room, tokens[room], user, payload))["message"]
        assert base64.b64decode(message["data"]) == payload
        shared.acknowledge(room, message["server_id"], message["data"])
    with shared.lock:
        shared.writers_left -= 1


def moderator(og: OpenGroupClient, keys: SessionKeys, number: int, shared: Shared) -> None:
    tokens = {room: og.authenticate(keys, room) for room in ROOMS}
    pick = random.Random(number)
    made = 0
    while made < DELETES_EACH:
        room = pick.choice(ROOMS)
        with shared.lock:
            candidates = list(shared.posted[room])
        if len(candidates) < 3:
            time.sleep(0.05)
            continue
        ids = pick.sample(candidates, pick.choice((1, 1, 2, 3)))
        if len(ids) == 1 and pick.random() < 0.5:
            ok(og.request("DELETE", f"messages/{ids[0]}", headers=og._auth(room, tokens[room])))
        else:
            ok(og.delete_messages(room, tokens[room], ids))
        with shared.lock:
            shared.deleted[room].update(ids)
        made += 1
        time.sleep(pick.uniform(0, 0.03))
    with shared.lock:
        shared.moderators_left -= 1


@dataclass
class Seen:
    messages: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    data: dict[str, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))
    deletions: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))


def reader(og: OpenGroupClient, shared: Shared, seen: Seen) -> None:
    user = SessionKeys.generate()
    tokens = {room: og.authenticate(user, room) for room in ROOMS}
    message_cursor = dict.fromkeys(ROOMS, 0)
    deletion_cursor = dict.fromkeys(ROOMS, 0)
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        quiet_before = shared.quiet  # read before polling: a poll after quiet sees all
        requests = [
            {
                "room_id": room,
                "auth_token": tokens[room],
                "from_message_server_id": message_cursor[room],
                "from_deletion_server_id": deletion_cursor[room],
            }
            for room in ROOMS
        ]
        results = ok(og.compact_poll(requests))["results"]
        got_any = False
        for result in results:
            room = result["room_id"]
            assert result["status_code"] == 200, result
            ids = [m["server_id"] for m in result["messages"]]
            assert ids == sorted(ids) and all(i > message_cursor[room] for i in ids), (room, ids)
            seen.messages[room].extend(ids)
            seen.data[room].update((m["server_id"], m["data"]) for m in result["messages"])
            pairs = [(d["id"], d["deleted_message_id"]) for d in result["deletions"]]
            deletion_ids = [p[0] for p in pairs]
            # Deletion ids are seqnos, shared with posts: increasing, with gaps. That none is
            # skipped is checked at the end (every reader saw every deletion).
            assert deletion_ids == sorted(set(deletion_ids)), (room, pairs)
            assert all(i > deletion_cursor[room] for i in deletion_ids), (room, pairs)
            seen.deletions[room].extend(pairs)
            if ids:
                message_cursor[room] = ids[-1]
            if pairs:
                deletion_cursor[room] = pairs[-1][0]
            got_any = got_any or bool(ids or pairs)
        if quiet_before and not got_any:
            return
    raise AssertionError("reader did not catch up before the deadline")


def run_all(server: RunningServer, public_key: bytes, moderators: list[SessionKeys]) -> None:
    shared = Shared()
    seens = [Seen() for _ in range(READERS)]
    failures: list[BaseException] = []
    transports: tuple[Transport, Transport] = ("onion", "legacy")

    def guarded(target: Any, *args: Any) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            except BaseException as error:
                failures.append(error)
                with shared.lock:  # let the others finish rather than wait for the deadline
                    shared.writers_left = shared.moderators_left = 0

        return threading.Thread(target=run, daemon=True)

    clients: list[OpenGroupClient] = []

    def new_client(i: int) -> OpenGroupClient:
        clients.append(client(server, public_key, transports[i % 2]))
        return clients[-1]

    threads = [guarded(writer, new_client(i), i, shared) for i in range(WRITERS)]
    threads += [guarded(reader, new_client(i), shared, seens[i]) for i in range(READERS)]
    threads += [
        guarded(moderator, new_client(i), moderators[i], i, shared) for i in range(MODERATORS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_SECONDS + 60)
    for og in clients:
        og.close()
    assert not failures, failures[0]
    assert not any(t.is_alive() for t in threads), "a client thread hung"
    check(shared, seens)


def check(shared: Shared, seens: list[Seen]) -> None:
    assert sum(len(shared.posted[room]) for room in ROOMS) == MESSAGES
    for room in ROOMS:
        posted, deleted = shared.posted[room], shared.deleted[room]
        assert sorted(posted) == list(range(1, len(posted) + 1)), f"{room}: ids lost or doubled"
        for number, seen in enumerate(seens):
            where = f"reader {number}, room {room}"
            ids = seen.messages[room]
            assert ids == sorted(set(ids)), f"{where}: ids repeated or out of order"
            missing = set(posted) - deleted - set(ids)
            assert not missing, f"{where}: never saw {sorted(missing)[:10]}"
            assert all(seen.data[room][i] == posted[i] for i in ids), f"{where}: wrong data"
            deletion_ids = [d[0] for d in seen.deletions[room]]
            assert deletion_ids == sorted(set(deletion_ids)), where
            deleted_seen = [d[1] for d in seen.deletions[room]]
            assert len(deleted_seen) == len(set(deleted_seen)), f"{where}: deleted twice"
            assert set(deleted_seen) == deleted, f"{where}: deletions missed"


def prepare(data_dir: Path, database_url: str) -> tuple[bytes, list[SessionKeys]]:
    """Rooms and global moderators, through the same store the CLI uses."""
    ctx = open_context(Config(data_dir=str(data_dir), database_url=database_url))
    moderators = [SessionKeys.generate() for _ in range(MODERATORS)]
    try:
        with ctx.db.write() as tx:
            for room in ROOMS:
                room_store.create_room(tx, room, room.title(), ctx.clock())
            for keys in moderators:
                moderation_store.add_global_moderator(tx, keys.session_id)
        return bytes.fromhex(ctx.keys.public_hex), moderators
    finally:
        ctx.close()


def verify_database(data_dir: Path, database_url: str) -> None:
    """The tables agree: one deletion per deleted message; the posts' and the deletions'
    seqnos are exactly 1..the room's counter."""
    ctx = open_context(Config(data_dir=str(data_dir), database_url=database_url))
    try:
        with ctx.db.read() as tx:
            for room_id in ROOMS:
                room = room_store.get_room(tx, room_id)
                assert room is not None
                deletions = message_store.get_deletions(tx, room, 0, 10_000)
                targets = [d.message_id for d in deletions]
                assert len(targets) == len(set(targets))
                info = room_store.get_room_info(tx, room_id)
                assert info is not None
                created = tx.execute(
                    select(messages.c.seqno_creation).where(messages.c.room_pk == room.pk)
                ).scalars()
                taken = sorted([*created, *(d.id for d in deletions)])
                assert taken == list(range(1, info.seqno + 1)), room_id
    finally:
        ctx.close()


def test_four_processes_keep_every_reader_in_order(tmp_path: Path, db_url: str) -> None:
    data_dir = tmp_path / "data"
    public_key, moderators = prepare(data_dir, db_url)
    server = RunningServer(
        data_dir,
        database_url=db_url,
        workers=4,
        extra_args=("--rate-limit-posts", "100000", "--prune-interval-seconds", "1"),
    )
    server.start(timeout=60)
    try:
        started = time.monotonic()
        run_all(server, public_key, moderators)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    log = server.log()
    assert "Traceback" not in log, log[-4000:]
    assert log.count("Application startup complete") == 4, log[-4000:]
    verify_database(data_dir, db_url)
    print(f"{MESSAGES} messages, {READERS} readers, 4 processes: {elapsed:.1f} s")
