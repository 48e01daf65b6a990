"""Both APIs on one data model with several processes (SOGS-API.md 1.2, 6.1), on SQLite and
PostgreSQL: legacy and modern clients post, react and delete in one room at once, through
different processes; modern readers follow `since` cursors, legacy readers compact_poll.

At the end:
- every modern reader saw each message's changes in strictly increasing seqno order, no seqno
  twice, and ends with every acknowledged post (legacy and modern) in its final state;
- every legacy reader saw every post (modern ones too) that was not deleted, ids increasing;
- the room's seqnos are exactly 1..counter: none skipped or repeated under concurrent writers.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from opengroup.config import Config
from opengroup.crypto import SessionKeys
from opengroup.runtime.bootstrap import open_context
from opengroup.store import messages as message_store
from opengroup.store import rooms as room_store
from opengroup.store.schema import messages, reactions
from opengroup.testing.client import OpenGroupClient
from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient
from tests.support.server import RunningServer

pytestmark = pytest.mark.slow

ROOM = "both"
POSTS_EACH = 40
WRITERS = 3  # of each API


def fresh_http() -> httpx.Client:
    return httpx.Client(timeout=60, limits=httpx.Limits(max_keepalive_connections=0))


def prepare(data_dir: Path, db_url: str) -> bytes:
    ctx = open_context(Config(data_dir=str(data_dir), database_url=db_url))
    try:
        with ctx.db.write() as tx:
            room_store.create_room(tx, ROOM, "Both", ctx.clock())
        return bytes.fromhex(ctx.keys.public_hex)
    finally:
        ctx.close()


def modern_writer(
    server: RunningServer, pk: bytes, acked: dict[int, str], lock: threading.Lock
) -> None:
    client = SogsClient(server.base_url, pk, keep_alive=False)
    user = BlindedUser.generate()
    for n in range(POSTS_EACH):
        data = os.urandom(24)
        body = {
            "data": base64.b64encode(data).decode(),
            "signature": base64.b64encode(user.sign_post(data, pk)).decode(),
        }
        reply = client.post(f"/room/{ROOM}/message", body, user=user)
        assert reply.code == 201, reply.text
        message_id = reply.json["id"]
        with lock:
            acked[message_id] = "modern"
        if n % 5 == 0:
            assert (
                client.request("PUT", f"/room/{ROOM}/reaction/{message_id}/👍", user=user).code
                == 200
            )
        if n % 7 == 0:
            assert (
                client.request("DELETE", f"/room/{ROOM}/message/{message_id}", user=user).code
                == 200
            )
            with lock:
                acked[message_id] = "deleted"


def legacy_writer(
    server: RunningServer, pk: bytes, acked: dict[int, str], lock: threading.Lock
) -> None:
    og = OpenGroupClient(server.base_url, pk, transport="onion", http=fresh_http())
    keys = SessionKeys.generate()
    token = og.authenticate(keys, ROOM)
    for n in range(POSTS_EACH):
        reply = og.post_message(ROOM, token, keys, os.urandom(24))
        assert reply["status_code"] == 200, reply
        server_id = reply["message"]["server_id"]
        with lock:
            acked[server_id] = "legacy"
        if n % 6 == 0:
            gone = og.request(
                "DELETE", f"messages/{server_id}", headers={"Room": ROOM, "Authorization": token}
            )
            assert gone["status_code"] == 200, gone
            with lock:
                acked[server_id] = "deleted"


def modern_reader(
    server: RunningServer, pk: bytes, stop: threading.Event, out: dict[str, Any]
) -> None:
    client = SogsClient(server.base_url, pk, keep_alive=False)
    user = BlindedUser.generate()
    cursor, seen_seqnos, state = 0, [], {}
    while True:
        finishing = stop.is_set()
        reply = client.get(f"/room/{ROOM}/messages/since/{cursor}?t=r&limit=50", user=user)
        assert reply.code == 200, reply.text
        rows = reply.json
        for row in rows:
            seen_seqnos.append(row["seqno"])
            state[row["id"]] = "deleted" if row.get("deleted") else "live"
        if rows:
            cursor = rows[-1]["seqno"]
        elif finishing:
            break
        else:
            time.sleep(0.05)
    out["seqnos"], out["state"] = seen_seqnos, state


def legacy_reader(
    server: RunningServer, pk: bytes, stop: threading.Event, out: dict[str, Any]
) -> None:
    og = OpenGroupClient(server.base_url, pk, transport="onion", http=fresh_http())
    keys = SessionKeys.generate()
    token = og.authenticate(keys, ROOM)
    last_message, last_deletion, ids, deleted = 0, 0, [], set()
    while True:
        finishing = stop.is_set()
        reply = og.compact_poll(
            [
                {
                    "room_id": ROOM,
                    "auth_token": token,
                    "from_message_server_id": last_message,
                    "from_deletion_server_id": last_deletion,
                }
            ]
        )
        result = reply["results"][0]
        assert result["status_code"] == 200, result
        for message in result["messages"]:
            ids.append(message["server_id"])
            last_message = max(last_message, message["server_id"])
        for deletion in result["deletions"]:
            deleted.add(deletion["deleted_message_id"])
            last_deletion = max(last_deletion, deletion["id"])
        if not result["messages"] and not result["deletions"]:
            if finishing:
                break
            time.sleep(0.05)
    out["ids"], out["deleted"] = ids, deleted


def test_two_processes_one_room_both_apis(tmp_path: Path, db_url: str) -> None:
    data_dir = tmp_path / "data"
    pk = prepare(data_dir, db_url)
    server = RunningServer(
        data_dir, database_url=db_url, workers=2, extra_args=("--rate-limit-posts", "100000")
    )
    server.start(timeout=60)
    acked: dict[int, str] = {}
    lock, stop = threading.Lock(), threading.Event()
    errors: list[BaseException] = []
    modern_out: dict[str, Any] = {}
    legacy_out: dict[str, Any] = {}

    def guarded(target: Any, *args: Any) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            except BaseException as error:
                errors.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    try:
        readers = [
            guarded(modern_reader, server, pk, stop, modern_out),
            guarded(legacy_reader, server, pk, stop, legacy_out),
        ]
        writers = [guarded(modern_writer, server, pk, acked, lock) for _ in range(WRITERS)]
        writers += [guarded(legacy_writer, server, pk, acked, lock) for _ in range(WRITERS)]
        for thread in writers:
            thread.join(180)
        stop.set()
        for thread in readers:
            thread.join(60)
    finally:
        server.stop()
    assert not errors, errors[0]
    log = server.log()
    assert "Traceback" not in log, log[-3000:]

    seqnos = modern_out["seqnos"]
    assert seqnos == sorted(seqnos) and len(seqnos) == len(set(seqnos))
    final = modern_out["state"]
    for message_id, what in acked.items():
        # A post deleted before the reader saw it never reaches it (no tombstone for a
        # message the client never had); everything else ends in its final state.
        if what == "deleted":
            assert final.get(message_id, "deleted") == "deleted", message_id
        else:
            assert final.get(message_id) == "live", (message_id, what)
    ids = legacy_out["ids"]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    live = {mid for mid, what in acked.items() if what != "deleted"}
    assert live <= set(ids), sorted(live - set(ids))[:10]
    assert {mid for mid, what in acked.items() if what == "deleted"} <= legacy_out["deleted"] | (
        set(acked) - set(ids)
    )

    ctx = open_context(Config(data_dir=str(data_dir), database_url=db_url))
    try:
        with ctx.db.read() as tx:
            room = room_store.get_room(tx, ROOM)
            info = room_store.get_room_info(tx, ROOM)
            assert room is not None and info is not None
            created = list(
                tx.execute(
                    select(messages.c.seqno_creation).where(messages.c.room_pk == room.pk)
                ).scalars()
            )
            deletion_ids = [d.id for d in message_store.get_deletions(tx, room, 0, 100_000)]
            reaction_seqnos = list(
                tx.execute(
                    select(reactions.c.seqno).where(reactions.c.room_pk == room.pk)
                ).scalars()
            )
        taken = sorted([*created, *deletion_ids, *reaction_seqnos])
        # Reactions on messages deleted later went with them; their seqnos are the only gaps.
        assert len(taken) == len(set(taken)) and taken[-1] <= info.seqno
        reacted = (POSTS_EACH + 4) // 5 * WRITERS
        assert info.seqno - len(taken) <= reacted
    finally:
        ctx.close()
