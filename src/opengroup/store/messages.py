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


def _take_ids(tx: Tx, room: Room, counter: str, count: int) -> range:
    """Reserve `count` consecutive ids; the UPDATE locks the room row until commit."""
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
    """Mark messages deleted (their content is dropped) and record one deletion for each."""
    ids = sorted(set(server_ids))
    if not ids:
        return []
    tx.execute(
        update(messages)
        .where(messages.c.room_pk == room.pk, messages.c.server_id.in_(ids))
        .values(deleted=True, data="", signature="")
    )
    made = [
        Deletion(deletion_id, message_id)
        for deletion_id, message_id in zip(
            _take_ids(tx, room, "deletion_seq", len(ids)), ids, strict=True
        )
    ]
    tx.execute(
        insert(deletions),
        [{"room_pk": room.pk, "id": d.id, "message_id": d.message_id} for d in made],
    )
    return made
