"""Pinned messages (SOGS-API.md 7.5): pin, re-pin (moves to the end), unpin, unpin all.
Every change moves the room's info_updates; pinned posts' files never expire
(file_lifetimes.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import delete, func, select

from .database import RawTx, Tx, dialect_insert
from .file_lifetimes import keep_files_of_pinned, release_files_of_unpinned
from .rooms import Room, bump_info_updates
from .schema import pinned_messages
from .statements import IN_LISTS_KEPT, Statement, in_list

_PINS = Statement(
    "SELECT message_id, pinned_at, pinned_by FROM pinned_messages WHERE room_pk = :room_pk "
    "ORDER BY pinned_at, message_id"
)
_BUMP_INFO_UPDATES = Statement(
    "UPDATE rooms SET info_updates = info_updates + 1 WHERE pk = :room_pk"
)


@dataclass(frozen=True, slots=True)
class Pin:
    message_id: int
    pinned_at: float
    pinned_by: str


def list_pins(tx: Tx | RawTx, room: Room) -> list[Pin]:
    """Oldest pin first."""
    if isinstance(tx, RawTx):
        rows = tx.all(_PINS, (room.pk,))
    else:
        rows = list(
            tx.execute(
                select(
                    pinned_messages.c.message_id,
                    pinned_messages.c.pinned_at,
                    pinned_messages.c.pinned_by,
                )
                .where(pinned_messages.c.room_pk == room.pk)
                .order_by(pinned_messages.c.pinned_at, pinned_messages.c.message_id)
            )
        )
    return [Pin(int(row[0]), float(row[1]), row[2]) for row in rows]


def pin_message(tx: Tx, room: Room, message_id: int, pinned_by: str, now: float) -> None:
    """Pin (or re-pin: to the end) a message the caller checked is a regular one."""
    newest = tx.execute(
        select(func.max(pinned_messages.c.pinned_at)).where(pinned_messages.c.room_pk == room.pk)
    ).scalar()
    # Strictly after every other pin, even within one tick of the clock: a re-pin moves last.
    pinned_at = now if newest is None or now > newest else math.nextafter(newest, math.inf)
    statement = dialect_insert(tx, pinned_messages).values(
        room_pk=room.pk, message_id=message_id, pinned_at=pinned_at, pinned_by=pinned_by
    )
    tx.execute(
        statement.on_conflict_do_update(
            index_elements=[pinned_messages.c.room_pk, pinned_messages.c.message_id],
            set_={"pinned_at": pinned_at, "pinned_by": pinned_by},
        )
    )
    keep_files_of_pinned(tx, room, message_id)
    bump_info_updates(tx, room)


def unpin_messages(
    tx: Tx, room: Room, message_ids: Sequence[int] | None, expiry_seconds: float
) -> int:
    """Unpin the given messages (None: all); how many pins were removed. info_updates moves
    when any was."""
    query = select(pinned_messages.c.message_id).where(pinned_messages.c.room_pk == room.pk)
    if message_ids is not None:
        query = query.where(pinned_messages.c.message_id.in_(sorted(set(message_ids))))
    pinned = [int(found) for found in tx.execute(query).scalars()]
    if not pinned:
        return 0
    tx.execute(
        delete(pinned_messages).where(
            pinned_messages.c.room_pk == room.pk, pinned_messages.c.message_id.in_(pinned)
        )
    )
    release_files_of_unpinned(tx, room, pinned, expiry_seconds)
    bump_info_updates(tx, room)
    return len(pinned)


def remove_pins_of_deleted(rtx: RawTx, room: Room, message_ids: Sequence[int]) -> None:
    """A deleted message is unpinned (its files expire with it: no release here)."""
    if not message_ids:
        return
    count_them, delete_them = _pins_of(len(message_ids))
    found = rtx.one(count_them, (room.pk, *message_ids))
    if found and int(found[0]):
        rtx.run(delete_them, (room.pk, *message_ids))
        rtx.run(_BUMP_INFO_UPDATES, (room.pk,))


@lru_cache(maxsize=IN_LISTS_KEPT)
def _pins_of(count: int) -> tuple[Statement, Statement]:
    """Count, and delete, the pins of `count` messages."""
    where = f"WHERE room_pk = :room_pk AND message_id IN ({in_list('id', count)})"
    return (
        Statement(f"SELECT count(*) FROM pinned_messages {where}"),
        Statement(f"DELETE FROM pinned_messages {where}"),
    )
