"""Emoji reactions (SOGS-API.md 6.1, 6.2, 7.4): every add and every removal takes the room's
next seqno and becomes the message's seqno_reactions, so `since` polls see it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .counters import lock_room, take_seqnos
from .database import RawTx, Tx, as_raw
from .rooms import Room

_LIVE = "SELECT 1 FROM messages WHERE room_pk = ? AND server_id = ? AND deleted = ?"
_ADD = """
INSERT INTO reactions (room_pk, message_id, reaction, session_id, seqno, at)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"""
_HAS = """
SELECT 1 FROM reactions WHERE room_pk = ? AND message_id = ? AND reaction = ? AND session_id = ?"""
_REMOVE = """
DELETE FROM reactions WHERE room_pk = ? AND message_id = ? AND reaction = ? AND session_id = ?"""
_MARK = """
UPDATE messages SET seqno_reactions = ?, seqno = ? WHERE room_pk = ? AND server_id = ?"""
_ROOM_SEQNO = "SELECT seqno FROM rooms WHERE pk = ?"
_REACTORS = """
SELECT session_id, at FROM reactions WHERE room_pk = ? AND message_id = ? AND reaction = ?
ORDER BY seqno"""


@dataclass(slots=True)
class Reaction:
    message_id: int
    reaction: str
    session_id: str
    seqno: int


def is_live(tx: Tx | RawTx, room: Room, message_id: int) -> bool:
    return as_raw(tx).one(_LIVE, (room.pk, message_id, False)) is not None


def room_seqno(tx: Tx | RawTx, room: Room) -> int:
    row = as_raw(tx).one(_ROOM_SEQNO, (room.pk,))
    return int(row[0]) if row else 0


def _mark(rtx: RawTx, room: Room, message_id: int, seqno: int) -> None:
    rtx.run(_MARK, (seqno, seqno, room.pk, message_id))


def add(
    tx: Tx | RawTx, room: Room, message_id: int, reaction: str, session_id: str, now: float
) -> bool:
    """False (and no seqno taken) when this id had already reacted so."""
    rtx = as_raw(tx)
    lock_room(rtx, room)
    if rtx.one(_HAS, (room.pk, message_id, reaction, session_id)) is not None:
        return False
    (seqno,) = take_seqnos(rtx, room, 1)
    rtx.run(_ADD, (room.pk, message_id, reaction, session_id, seqno, now))
    _mark(rtx, room, message_id, seqno)
    return True


def remove(tx: Tx | RawTx, room: Room, message_id: int, reaction: str, session_id: str) -> bool:
    rtx = as_raw(tx)
    lock_room(rtx, room)
    if rtx.one(_HAS, (room.pk, message_id, reaction, session_id)) is None:
        return False
    (seqno,) = take_seqnos(rtx, room, 1)
    rtx.run(_REMOVE, (room.pk, message_id, reaction, session_id))
    _mark(rtx, room, message_id, seqno)
    return True


def clear(tx: Tx | RawTx, room: Room, message_id: int, reaction: str | None) -> int:
    """Remove every user's `reaction` (every reaction when None); one seqno per removed row,
    the last becoming the message's seqno_reactions. How many were removed."""
    rtx = as_raw(tx)
    lock_room(rtx, room)
    where = "room_pk = ? AND message_id = ?"
    params: list[object] = [room.pk, message_id]
    if reaction is not None:
        where += " AND reaction = ?"
        params.append(reaction)
    count_row = rtx.one(f"SELECT count(*) FROM reactions WHERE {where}", params)
    count = int(count_row[0]) if count_row else 0
    if count == 0:
        return 0
    seqnos = take_seqnos(rtx, room, count)
    rtx.run(f"DELETE FROM reactions WHERE {where}", params)
    _mark(rtx, room, message_id, seqnos[-1])
    return count


def for_messages(tx: Tx | RawTx, room: Room, message_ids: Sequence[int]) -> list[Reaction]:
    """Every reaction on these messages, in reaction order."""
    ids = sorted(set(message_ids))
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    rows = as_raw(tx).all(
        "SELECT message_id, reaction, session_id, seqno FROM reactions "
        f"WHERE room_pk = ? AND message_id IN ({marks}) ORDER BY seqno",
        (room.pk, *ids),
    )
    return [Reaction(int(r[0]), r[1], r[2], int(r[3])) for r in rows]


def reactors(
    tx: Tx | RawTx, room: Room, message_id: int, reaction: str, limit: int | None
) -> list[tuple[str, float]]:
    sql = _REACTORS + (f" LIMIT {int(limit)}" if limit else "")
    rows = as_raw(tx).all(sql, (room.pk, message_id, reaction))
    return [(r[0], float(r[1])) for r in rows]


def delete_for_messages(rtx: RawTx, room: Room, message_ids: Sequence[int]) -> None:
    """A deleted message loses its reactions (its deletion seqno covers the change)."""
    if message_ids:
        marks = ", ".join("?" * len(message_ids))
        rtx.run(
            f"DELETE FROM reactions WHERE room_pk = ? AND message_id IN ({marks})",
            (room.pk, *message_ids),
        )
