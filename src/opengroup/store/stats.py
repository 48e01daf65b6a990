"""Read-only numbers about rooms: for /health, /metrics and `opengroup rooms stats`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select

from .database import Tx
from .rooms import Room
from .schema import deletions, files, messages, rooms, user_activity


def ping(tx: Tx) -> None:
    """A cheap query that still reads the database (`SELECT 1` alone would not even open an
    SQLite file): raises if the database does not answer."""
    tx.execute(select(rooms.c.pk).limit(1)).first()


@dataclass(frozen=True, slots=True)
class RoomActivity:
    posts: int  # messages posted in the window, deleted ones included
    deleted: int  # of those, deleted since
    posters: int  # distinct senders in the window
    active_users: int  # users who made an authenticated request in the window


def room_activity(tx: Tx, room: Room, since: float) -> RoomActivity:
    since_ms = int(since * 1000)
    posts, deleted, posters = tx.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((messages.c.deleted.is_(True), 1), else_=0)), 0),
            func.count(func.distinct(messages.c.session_id)),
        ).where(messages.c.room_pk == room.pk, messages.c.timestamp >= since_ms)
    ).one()
    active = tx.execute(
        select(func.count()).where(
            user_activity.c.room_pk == room.pk, user_activity.c.last_active >= since
        )
    ).scalar_one()
    return RoomActivity(int(posts), int(deleted), int(posters), int(active))


@dataclass(frozen=True, slots=True)
class RoomGauges:
    room_id: str
    messages_posted: int  # the room's message counter: every message ever posted
    deletions: int  # deletions recorded in the room
    files: int  # files stored (unexpired), the room image included
    file_bytes: int
    active_users: dict[str, int]  # window label -> users active in it


def room_gauges(tx: Tx, now: float, windows: dict[str, float]) -> list[RoomGauges]:
    """One row per room, computed at scrape time (a few grouped queries, no per-room loop)."""
    room_rows = tx.execute(
        select(rooms.c.pk, rooms.c.id, rooms.c.message_seq).order_by(rooms.c.id)
    ).all()
    # Counted: deletion ids are seqnos since migration 0002, so the newest is not a count.
    deletion_counts = {
        pk: int(count)
        for pk, count in tx.execute(
            select(deletions.c.room_pk, func.count()).group_by(deletions.c.room_pk)
        )
    }
    live = or_(files.c.expires_at.is_(None), files.c.expires_at > now)
    file_rows = {
        pk: (int(count), int(size or 0))
        for pk, count, size in tx.execute(
            select(files.c.room_pk, func.count(), func.sum(files.c.size))
            .where(live)
            .group_by(files.c.room_pk)
        )
    }
    active: dict[str, dict[int, int]] = {}
    for label, seconds in windows.items():
        active[label] = {
            pk: int(count)
            for pk, count in tx.execute(
                select(user_activity.c.room_pk, func.count())
                .where(user_activity.c.last_active >= now - seconds)
                .group_by(user_activity.c.room_pk)
            )
        }
    return [
        RoomGauges(
            room_id=room_id,
            messages_posted=int(message_seq),
            deletions=deletion_counts.get(pk, 0),
            files=file_rows.get(pk, (0, 0))[0],
            file_bytes=file_rows.get(pk, (0, 0))[1],
            active_users={label: counts.get(pk, 0) for label, counts in active.items()},
        )
        for pk, room_id, message_seq in room_rows
    ]
