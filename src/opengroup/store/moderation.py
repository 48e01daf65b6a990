"""Queries on moderators (per room and global) and bans."""

from __future__ import annotations

from sqlalchemy import delete, exists, select

from .database import RawTx, Tx, as_raw, insert_ignoring_duplicates
from .rooms import Room
from .schema import bans, global_moderators, moderators, rooms

_ROOM_MODERATORS = """
SELECT session_id FROM moderators WHERE room_pk = ?
UNION SELECT session_id FROM global_moderators ORDER BY 1"""


def room_moderators(tx: Tx | RawTx, room: Room) -> list[str]:
    """Moderators of the room, global moderators included, sorted (on every poll: raw SQL)."""
    return [row[0] for row in as_raw(tx).all(_ROOM_MODERATORS, (room.pk,))]


def is_moderator(tx: Tx, room: Room, session_id: str) -> bool:
    query = select(
        exists().where(moderators.c.room_pk == room.pk, moderators.c.session_id == session_id)
        | exists().where(global_moderators.c.session_id == session_id)
    )
    return bool(tx.execute(query).scalar())


def add_moderator(tx: Tx, room: Room, session_id: str) -> None:
    insert_ignoring_duplicates(tx, moderators, {"room_pk": room.pk, "session_id": session_id})


def remove_moderator(tx: Tx, room: Room, session_id: str) -> bool:
    result = tx.execute(
        delete(moderators).where(
            moderators.c.room_pk == room.pk, moderators.c.session_id == session_id
        )
    )
    return bool(result.rowcount)


def global_moderator_ids(tx: Tx) -> list[str]:
    return sorted(tx.execute(select(global_moderators.c.session_id)).scalars())


def moderators_by_room(tx: Tx) -> list[tuple[str, str]]:
    query = select(rooms.c.id, moderators.c.session_id).join(
        rooms, rooms.c.pk == moderators.c.room_pk
    )
    return sorted((row[0], row[1]) for row in tx.execute(query))


def add_global_moderator(tx: Tx, session_id: str) -> None:
    insert_ignoring_duplicates(tx, global_moderators, {"session_id": session_id})


def remove_global_moderator(tx: Tx, session_id: str) -> bool:
    result = tx.execute(
        delete(global_moderators).where(global_moderators.c.session_id == session_id)
    )
    return bool(result.rowcount)


def is_banned(tx: Tx, room: Room, session_id: str) -> bool:
    query = select(exists().where(bans.c.room_pk == room.pk, bans.c.session_id == session_id))
    return bool(tx.execute(query).scalar())


def banned_members(tx: Tx, room: Room) -> list[str]:
    query = select(bans.c.session_id).where(bans.c.room_pk == room.pk)
    return sorted(tx.execute(query).scalars())


def ban(tx: Tx, room: Room, session_id: str) -> None:
    insert_ignoring_duplicates(tx, bans, {"room_pk": room.pk, "session_id": session_id})


def unban(tx: Tx, room: Room, session_id: str) -> bool:
    result = tx.execute(
        delete(bans).where(bans.c.room_pk == room.pk, bans.c.session_id == session_id)
    )
    return bool(result.rowcount)
