"""Queries on rooms."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update

from .database import Tx, dialect_insert
from .schema import files, messages, rooms, server_meta, user_activity


@dataclass(slots=True)
class Room:
    pk: int
    id: str
    name: str
    image_id: int | None


@dataclass(frozen=True, slots=True)
class RoomSummary:
    room: Room
    messages: int
    files: int
    active_users: int


_ROOM_COLUMNS = (rooms.c.pk, rooms.c.id, rooms.c.name, rooms.c.image_id)


def get_room(tx: Tx, room_id: str) -> Room | None:
    row = tx.execute(select(*_ROOM_COLUMNS).where(rooms.c.id == room_id)).first()
    return Room(*row) if row else None


def list_rooms(tx: Tx) -> list[Room]:
    return [Room(*row) for row in tx.execute(select(*_ROOM_COLUMNS).order_by(rooms.c.id))]


def count_rooms(tx: Tx) -> int:
    return int(tx.execute(select(func.count()).select_from(rooms)).scalar_one())


def create_room(tx: Tx, room_id: str, name: str, now: float) -> Room:
    pk = tx.execute(
        insert(rooms).values(id=room_id, name=name, created_at=now).returning(rooms.c.pk)
    ).scalar_one()
    return Room(pk, room_id, name, None)


def rename_room(tx: Tx, room: Room, name: str) -> None:
    tx.execute(update(rooms).where(rooms.c.pk == room.pk).values(name=name))


def set_room_image(tx: Tx, room: Room, file_id: int | None) -> None:
    tx.execute(update(rooms).where(rooms.c.pk == room.pk).values(image_id=file_id))


def delete_room(tx: Tx, room: Room) -> list[int]:
    """Delete the room and every row in it; returns the ids of its files to unlink."""
    file_ids = list(tx.execute(select(files.c.id).where(files.c.room_pk == room.pk)).scalars())
    tx.execute(delete(rooms).where(rooms.c.pk == room.pk))
    return file_ids


def summarise_rooms(tx: Tx, active_since: float) -> list[RoomSummary]:
    message_count = (
        select(func.count())
        .where(messages.c.room_pk == rooms.c.pk, messages.c.deleted.is_(False))
        .scalar_subquery()
    )
    file_count = select(func.count()).where(files.c.room_pk == rooms.c.pk).scalar_subquery()
    active_count = (
        select(func.count())
        .where(user_activity.c.room_pk == rooms.c.pk, user_activity.c.last_active >= active_since)
        .scalar_subquery()
    )
    query = select(*_ROOM_COLUMNS, message_count, file_count, active_count).order_by(rooms.c.id)
    return [
        RoomSummary(Room(*row[:4]), int(row[4]), int(row[5]), int(row[6]))
        for row in tx.execute(query)
    ]


def create_first_room(tx: Tx, room_id: str, name: str, now: float) -> bool:
    """Create a room on the first start of an empty database only; True if it did."""
    # Insert-or-nothing, not read-then-insert: processes starting at once on PostgreSQL would
    # both read "not initialised"; here the second waits for the first and inserts nothing.
    marked = tx.execute(
        dialect_insert(tx, server_meta)
        .values(key="initialised", value=str(now))
        .on_conflict_do_nothing()
    )
    if not marked.rowcount:
        return False
    if count_rooms(tx):
        return False
    create_room(tx, room_id, name, now)
    return True
