"""Queries on messages and deletions: plain SQL (see database.RawTx), because posting and
polling run them for every request. Ids come from the room's counters (see schema.rooms)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .database import RawTx, Tx, as_raw
from .rooms import Room


@dataclass(slots=True)
class Message:
    server_id: int
    session_id: str
    timestamp: int
    data: str
    signature: str


@dataclass(slots=True)
class MessageOwner:
    server_id: int
    session_id: str
    deleted: bool


@dataclass(slots=True)
class Deletion:
    id: int
    message_id: int


_MESSAGES_AFTER = """
SELECT server_id, session_id, timestamp, data, signature FROM messages
WHERE room_pk = ? AND server_id > ? AND deleted = ? ORDER BY server_id LIMIT ?"""
_MESSAGES_NEWEST = """
SELECT server_id, session_id, timestamp, data, signature FROM messages
WHERE room_pk = ? AND deleted = ? ORDER BY server_id DESC LIMIT ?"""
_DELETIONS_AFTER = """
SELECT id, message_id FROM deletions WHERE room_pk = ? AND id > ? ORDER BY id LIMIT ?"""
_DELETIONS_NEWEST = """
SELECT id, message_id FROM deletions WHERE room_pk = ? ORDER BY id DESC LIMIT ?"""
_COUNT_POSTS = """
SELECT count(*) FROM messages WHERE room_pk = ? AND session_id = ? AND timestamp > ?"""
_INSERT_MESSAGE = """
INSERT INTO messages (room_pk, server_id, session_id, timestamp, data, signature, deleted)
VALUES (?, ?, ?, ?, ?, ?, ?)"""
_TAKE_IDS = {
    "message_seq": "UPDATE rooms SET message_seq = message_seq + ? WHERE pk = ? "
    "RETURNING message_seq",
    "deletion_seq": "UPDATE rooms SET deletion_seq = deletion_seq + ? WHERE pk = ? "
    "RETURNING deletion_seq",
}


def lock_room(rtx: RawTx, room: Room) -> None:
    """Take the room row's write lock now, held until commit (see `_take_ids`).

    PostgreSQL: `SELECT ... FOR NO KEY UPDATE`, the lock the counter UPDATE takes too. SQLite
    needs nothing: its write transaction (BEGIN IMMEDIATE) already excludes writers.
    """
    if rtx.postgres:
        rtx.run("SELECT pk FROM rooms WHERE pk = ? FOR NO KEY UPDATE", (room.pk,))


def _take_ids(rtx: RawTx, room: Room, counter: str, count: int) -> range:
    """Reserve `count` consecutive ids; the UPDATE locks the room row until commit.

    Why ids commit in increasing order within a room, on both engines:
    - SQLite: one write transaction at a time in the whole database (BEGIN IMMEDIATE).
    - PostgreSQL, READ COMMITTED (pinned in database.py): a second transaction's UPDATE of
      the same row waits for the first to commit, then re-reads the committed row and counts
      on from it. It can take its id only after the first transaction is visible to every new
      snapshot (PostgreSQL releases row locks after it marks the commit visible), so it also
      commits after it. A reader that sees id N therefore already sees every id below N.
    """
    row = rtx.one(_TAKE_IDS[counter], (count, room.pk))
    assert row is not None, "room vanished inside its own write transaction"
    last = int(row[0])
    return range(last - count + 1, last + 1)


def insert_message(
    tx: Tx | RawTx, room: Room, session_id: str, timestamp: int, data: str, signature: str
) -> Message:
    rtx = as_raw(tx)
    (server_id,) = _take_ids(rtx, room, "message_seq", 1)
    rtx.run(_INSERT_MESSAGE, (room.pk, server_id, session_id, timestamp, data, signature, False))
    return Message(server_id, session_id, timestamp, data, signature)


def count_posts_since(tx: Tx | RawTx, room: Room, session_id: str, since_ms: int) -> int:
    """Posts of one user since `since_ms`, counted under the room's write lock.

    The lock (held to commit, where the post's own insert happens) keeps two posts of the same
    user racing in different processes from both passing the rate limit on PostgreSQL.
    """
    rtx = as_raw(tx)
    lock_room(rtx, room)
    row = rtx.one(_COUNT_POSTS, (room.pk, session_id, since_ms))
    return int(row[0]) if row else 0


def get_messages(tx: Tx | RawTx, room: Room, after: int | None, limit: int) -> list[Message]:
    """After a cursor: ascending from it. Without: the newest `limit`, newest first."""
    rtx = as_raw(tx)
    if after is None:
        rows = rtx.all(_MESSAGES_NEWEST, (room.pk, False, limit))
    else:
        rows = rtx.all(_MESSAGES_AFTER, (room.pk, after, False, limit))
    return [Message(*row) for row in rows]


def get_deletions(tx: Tx | RawTx, room: Room, after: int | None, limit: int) -> list[Deletion]:
    rtx = as_raw(tx)
    if after is None:
        rows = rtx.all(_DELETIONS_NEWEST, (room.pk, limit))
    else:
        rows = rtx.all(_DELETIONS_AFTER, (room.pk, after, limit))
    return [Deletion(*row) for row in rows]


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def get_owners(tx: Tx | RawTx, room: Room, server_ids: Sequence[int]) -> list[MessageOwner]:
    rtx = as_raw(tx)
    ids = sorted(set(server_ids))
    if not ids:
        return []
    rows = rtx.all(
        "SELECT server_id, session_id, deleted FROM messages "
        f"WHERE room_pk = ? AND server_id IN ({_placeholders(len(ids))})",
        (room.pk, *ids),
    )
    return [MessageOwner(row[0], row[1], bool(row[2])) for row in rows]


def message_ids_by(tx: Tx | RawTx, room: Room, session_id: str) -> list[int]:
    rtx = as_raw(tx)
    rows = rtx.all(
        "SELECT server_id FROM messages WHERE room_pk = ? AND session_id = ? AND deleted = ?",
        (room.pk, session_id, False),
    )
    return [row[0] for row in rows]


def delete_messages(tx: Tx | RawTx, room: Room, server_ids: Sequence[int]) -> list[Deletion]:
    """Mark messages deleted (their content is dropped) and record one deletion for each.

    Under the room's write lock, only messages not yet deleted are flipped (RETURNING says
    which): two moderators deleting one message at once make one deletion, not two, and
    deletion ids commit in increasing order like message ids.
    """
    rtx = as_raw(tx)
    ids = sorted(set(server_ids))
    if not ids:
        return []
    lock_room(rtx, room)
    flipped = sorted(
        row[0]
        for row in rtx.all(
            "UPDATE messages SET deleted = ?, data = '', signature = '' "
            f"WHERE room_pk = ? AND deleted = ? AND server_id IN ({_placeholders(len(ids))}) "
            "RETURNING server_id",
            (True, room.pk, False, *ids),
        )
    )
    if not flipped:
        return []
    made = [
        Deletion(deletion_id, message_id)
        for deletion_id, message_id in zip(
            _take_ids(rtx, room, "deletion_seq", len(flipped)), flipped, strict=True
        )
    ]
    for deletion in made:
        rtx.run(
            "INSERT INTO deletions (room_pk, id, message_id) VALUES (?, ?, ?)",
            (room.pk, deletion.id, deletion.message_id),
        )
    return made
