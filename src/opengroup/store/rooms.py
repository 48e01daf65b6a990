"""Queries on rooms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from .database import Tx, dialect_insert
from .schema import files, messages, rooms, server_meta, user_activity


@dataclass(slots=True)
class Room:
    pk: int
    id: str
    name: str
    image_id: int | None


@dataclass(slots=True)
class RoomInfo:
    """A room with its counters and settings (SOGS-API.md 6.1, 6.3)."""

    room: Room
    seqno: int  # message_sequence: the seqno of the newest change to a message
    info_updates: int  # >= 1
    description: str | None
    created: float
    default_read: bool
    default_accessible: bool
    default_write: bool
    default_upload: bool


@dataclass(frozen=True, slots=True)
class RoomSummary:
    room: Room
    messages: int
    files: int
    active_users: int
    description: str | None = None


_ROOM_COLUMNS = (rooms.c.pk, rooms.c.id, rooms.c.name, rooms.c.image_id)
_INFO_COLUMNS = (
    *_ROOM_COLUMNS,
    rooms.c.seqno,
    rooms.c.info_updates,
    rooms.c.description,
    rooms.c.created_at,
    rooms.c.default_read,
    rooms.c.default_accessible,
    rooms.c.default_write,
    rooms.c.default_upload,
)


def get_room(tx: Tx, room_id: str) -> Room | None:
    row = tx.execute(select(*_ROOM_COLUMNS).where(rooms.c.id == room_id)).first()
    return Room(*row) if row else None


def _info(row: Any) -> RoomInfo:
    return RoomInfo(
        Room(*row[:4]),
        int(row[4]),
        int(row[5]),
        row[6],
        float(row[7]),
        *(bool(flag) for flag in row[8:12]),
    )


def get_room_info(tx: Tx, room_id: str) -> RoomInfo | None:
    row = tx.execute(select(*_INFO_COLUMNS).where(rooms.c.id == room_id)).first()
    return _info(row) if row else None


def list_room_infos(tx: Tx) -> list[RoomInfo]:
    return [_info(row) for row in tx.execute(select(*_INFO_COLUMNS).order_by(rooms.c.id))]


def bump_info_updates(tx: Tx, room: Room) -> None:
    """The room's metadata changed (SOGS-API.md 6.1): its info_updates moves."""
    tx.execute(
        update(rooms).where(rooms.c.pk == room.pk).values(info_updates=rooms.c.info_updates + 1)
    )


def bump_all_info_updates(tx: Tx) -> None:
    """Something every room shows changed (a global moderator): every room's counter moves."""
    tx.execute(update(rooms).values(info_updates=rooms.c.info_updates + 1))


def set_room_description(tx: Tx, room: Room, description: str | None) -> None:
    tx.execute(
        update(rooms)
        .where(rooms.c.pk == room.pk)
        .values(description=description, info_updates=rooms.c.info_updates + 1)
    )


def set_default_permissions(
    tx: Tx,
    room: Room,
    *,
    read: bool | None = None,
    accessible: bool | None = None,
    write: bool | None = None,
    upload: bool | None = None,
) -> None:
    """Change the given defaults; info_updates does not move for these (SOGS-API.md 6.1)."""
    values = {
        f"default_{name}": flag
        for name, flag in (
            ("read", read),
            ("accessible", accessible),
            ("write", write),
            ("upload", upload),
        )
        if flag is not None
    }
    if values:
        tx.execute(update(rooms).where(rooms.c.pk == room.pk).values(**values))


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
    tx.execute(
        update(rooms)
        .where(rooms.c.pk == room.pk)
        .values(name=name, info_updates=rooms.c.info_updates + 1)
    )


def set_room_image(tx: Tx, room: Room, file_id: int | None) -> None:
    tx.execute(
        update(rooms)
        .where(rooms.c.pk == room.pk)
        .values(image_id=file_id, info_updates=rooms.c.info_updates + 1)
    )


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
    query = select(
        *_ROOM_COLUMNS, message_count, file_count, active_count, rooms.c.description
    ).order_by(rooms.c.id)
    return [
        RoomSummary(Room(*row[:4]), int(row[4]), int(row[5]), int(row[6]), row[7])
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
