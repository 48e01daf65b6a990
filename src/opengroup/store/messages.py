"""Queries on messages and deletions. Ids come from the room's counters (see schema.rooms)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update

from .database import Tx
from .rooms import Room
from .schema import deletions, messages, rooms


@dataclass(frozen=True, slots=True)
class Message:
    server_id: int
    session_id: str
    timestamp: int
    data: str
    signature: str


@dataclass(frozen=True, slots=True)
class MessageOwner:
    server_id: int
    session_id: str
    deleted: bool


@dataclass(frozen=True, slots=True)
class Deletion:
    id: int
    message_id: int


_MESSAGE_COLUMNS = (
    messages.c.server_id,
    messages.c.session_id,
    messages.c.timestamp,
    messages.c.data,
    messages.c.signature,
)


def lock_room(tx: Tx, room: Room) -> None:
    """Take the room row's write lock now, held until commit (see `_take_ids`).

    PostgreSQL: `SELECT ... FOR NO KEY UPDATE`, the lock the counter UPDATE takes too. SQLite
    renders no FOR clause: its write transaction (BEGIN IMMEDIATE) already excludes writers.
    """
    tx.execute(select(rooms.c.pk).where(rooms.c.pk == room.pk).with_for_update(key_share=True))


def _take_ids(tx: Tx, room: Room, counter: str, count: int) -> range:
    """Reserve `count` consecutive ids; the UPDATE locks the room row until commit.

    Why ids commit in increasing order within a room, on both engines:
    - SQLite: one write transaction at a time in the whole database (BEGIN IMMEDIATE).
    - PostgreSQL, READ COMMITTED (pinned in database.py): a second transaction's UPDATE of
      the same row waits for the first to commit, then re-reads the committed row and counts
      on from it. It can take its id only after the first transaction is visible to every new
      snapshot (PostgreSQL releases row locks after it marks the commit visible), so it also
      commits after it. A reader that sees id N therefore already sees every id below N.
    """
    column = rooms.c[counter]
    last = tx.execute(
        update(rooms)
        .where(rooms.c.pk == room.pk)
        .values({column: column + count})
        .returning(column)
    ).scalar_one()
    return range(int(last) - count + 1, int(last) + 1)


def insert_message(
    tx: Tx, room: Room, session_id: str, timestamp: int, data: str, signature: str
) -> Message:
    (server_id,) = _take_ids(tx, room, "message_seq", 1)
    tx.execute(
        insert(messages).values(
            room_pk=room.pk,
            server_id=server_id,
            session_id=session_id,
            timestamp=timestamp,
            data=data,
            signature=signature,
        )
    )
    return Message(server_id, session_id, timestamp, data, signature)


def count_posts_since(tx: Tx, room: Room, session_id: str, since_ms: int) -> int:
    """Posts of one user since `since_ms`, counted under the room's write lock.

    The lock (held to commit, where the post's own insert happens) keeps two posts of the same
    user racing in different processes from both passing the rate limit on PostgreSQL.
    """
    lock_room(tx, room)
    query = select(func.count()).where(
        messages.c.room_pk == room.pk,
        messages.c.session_id == session_id,
        messages.c.timestamp > since_ms,
    )
    return int(tx.execute(query).scalar_one())


def get_messages(tx: Tx, room: Room, after: int | None, limit: int) -> list[Message]:
    """After a cursor: ascending from it. Without: the newest `limit`, newest first."""
    query = select(*_MESSAGE_COLUMNS).where(
        messages.c.room_pk == room.pk, messages.c.deleted.is_(False)
    )
    if after is None:
        query = query.order_by(messages.c.server_id.desc())
    else:
        query = query.where(messages.c.server_id > after).order_by(messages.c.server_id)
    return [Message(*row) for row in tx.execute(query.limit(limit))]


def get_deletions(tx: Tx, room: Room, after: int | None, limit: int) -> list[Deletion]:
    query = select(deletions.c.id, deletions.c.message_id).where(deletions.c.room_pk == room.pk)
    if after is None:
        query = query.order_by(deletions.c.id.desc())
    else:
        query = query.where(deletions.c.id > after).order_by(deletions.c.id)
    return [Deletion(*row) for row in tx.execute(query.limit(limit))]


def get_owners(tx: Tx, room: Room, server_ids: Sequence[int]) -> list[MessageOwner]:
    query = select(messages.c.server_id, messages.c.session_id, messages.c.deleted).where(
        messages.c.room_pk == room.pk, messages.c.server_id.in_(set(server_ids))
    )
    return [MessageOwner(*row) for row in tx.execute(query)]


def message_ids_by(tx: Tx, room: Room, session_id: str) -> list[int]:
    query = select(messages.c.server_id).where(
        messages.c.room_pk == room.pk,
        messages.c.session_id == session_id,
        messages.c.deleted.is_(False),
    )
    return list(tx.execute(query).scalars())


def delete_messages(tx: Tx, room: Room, server_ids: Sequence[int]) -> list[Deletion]:
    """Mark messages deleted (their content is dropped) and record one deletion for each.

    Under the room's write lock, only messages not yet deleted are flipped (RETURNING says
    which): two moderators deleting one message at once make one deletion, not two, and
    deletion ids commit in increasing order like message ids.
    """
    ids = sorted(set(server_ids))
    if not ids:
        return []
    lock_room(tx, room)
    flipped = sorted(
        tx.execute(
            update(messages)
            .where(
                messages.c.room_pk == room.pk,
                messages.c.server_id.in_(ids),
                messages.c.deleted.is_(False),
            )
            .values(deleted=True, data="", signature="")
            .returning(messages.c.server_id)
        ).scalars()
    )
    if not flipped:
        return []
    made = [
        Deletion(deletion_id, message_id)
        for deletion_id, message_id in zip(
            _take_ids(tx, room, "deletion_seq", len(flipped)), flipped, strict=True
        )
    ]
    tx.execute(
        insert(deletions),
        [{"room_pk": room.pk, "id": d.id, "message_id": d.message_id} for d in made],
    )
    return made
