"""Emoji reactions (SOGS-API.md 6.1, 6.2, 7.4): every add and every removal takes the room's
next seqno and becomes the message's seqno_reactions, so `since` polls see it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .counters import lock_room, take_seqnos
from .database import RawTx, Tx, as_raw
from .rooms import Room
from .statements import IN_LISTS_KEPT, Statement, in_list

_LIVE = Statement(
    "SELECT 1 FROM messages WHERE room_pk = :room_pk AND server_id = :message_id "
    "AND deleted = :deleted"
)
_ADD = Statement("""
INSERT INTO reactions (room_pk, message_id, reaction, session_id, seqno, at)
VALUES (:room_pk, :message_id, :reaction, :session_id, :seqno, :at) ON CONFLICT DO NOTHING""")
# One person's reaction.
_ONE = """room_pk = :room_pk AND message_id = :message_id AND reaction = :reaction
AND session_id = :session_id"""
_HAS = Statement(f"SELECT 1 FROM reactions WHERE {_ONE}")
_REMOVE = Statement(f"DELETE FROM reactions WHERE {_ONE}")
# The change's seqno is the message's seqno_reactions and seqno.
_MARK = Statement("""
UPDATE messages SET seqno_reactions = :seqno, seqno = :seqno
WHERE room_pk = :room_pk AND server_id = :message_id""")
_ROOM_SEQNO = Statement("SELECT seqno FROM rooms WHERE pk = :room_pk")
_REACTORS = """
SELECT session_id, at FROM reactions
WHERE room_pk = :room_pk AND message_id = :message_id AND reaction = :reaction ORDER BY seqno"""
_ALL_REACTORS = Statement(_REACTORS)
_FIRST_REACTORS = Statement(_REACTORS + " LIMIT :limit")
# Every reaction on a message, or every one of them of one emoji (`clear`).
_EVERY = "room_pk = :room_pk AND message_id = :message_id"
_EVERY_OF = _EVERY + " AND reaction = :reaction"
_CLEAR = {
    False: (
        Statement(f"SELECT count(*) FROM reactions WHERE {_EVERY}"),
        Statement(f"DELETE FROM reactions WHERE {_EVERY}"),
    ),
    True: (
        Statement(f"SELECT count(*) FROM reactions WHERE {_EVERY_OF}"),
        Statement(f"DELETE FROM reactions WHERE {_EVERY_OF}"),
    ),
}


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
    rtx.run(_MARK, (seqno, room.pk, message_id))


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
    count_them, delete_them = _CLEAR[reaction is not None]
    params = (room.pk, message_id) if reaction is None else (room.pk, message_id, reaction)
    count_row = rtx.one(count_them, params)
    count = int(count_row[0]) if count_row else 0
    if count == 0:
        return 0
    seqnos = take_seqnos(rtx, room, count)
    rtx.run(delete_them, params)
    _mark(rtx, room, message_id, seqnos[-1])
    return count


def for_messages(tx: Tx | RawTx, room: Room, message_ids: Sequence[int]) -> list[Reaction]:
    """Every reaction on these messages, in reaction order."""
    ids = sorted(set(message_ids))
    if not ids:
        return []
    rows = as_raw(tx).all(_of_messages(len(ids)), (room.pk, *ids))
    return [Reaction(int(r[0]), r[1], r[2], int(r[3])) for r in rows]


def reactors(
    tx: Tx | RawTx, room: Room, message_id: int, reaction: str, limit: int | None
) -> list[tuple[str, float]]:
    if limit:
        rows = as_raw(tx).all(_FIRST_REACTORS, (room.pk, message_id, reaction, limit))
    else:
        rows = as_raw(tx).all(_ALL_REACTORS, (room.pk, message_id, reaction))
    return [(r[0], float(r[1])) for r in rows]


def delete_for_messages(rtx: RawTx, room: Room, message_ids: Sequence[int]) -> None:
    """A deleted message loses its reactions (its deletion seqno covers the change)."""
    if message_ids:
        rtx.run(_delete_of_messages(len(message_ids)), (room.pk, *message_ids))


@lru_cache(maxsize=IN_LISTS_KEPT)
def _of_messages(count: int) -> Statement:
    return Statement(
        "SELECT message_id, reaction, session_id, seqno FROM reactions "
        f"WHERE room_pk = :room_pk AND message_id IN ({in_list('id', count)}) ORDER BY seqno"
    )


@lru_cache(maxsize=IN_LISTS_KEPT)
def _delete_of_messages(count: int) -> Statement:
    return Statement(
        f"DELETE FROM reactions WHERE room_pk = :room_pk AND message_id IN ({in_list('id', count)})"
    )
