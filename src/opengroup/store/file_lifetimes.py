"""When a file expires (SOGS-API.md 9), one function per rule of the rulebook:

- an upload starts with a short expiry (the caller gives it to store_file);
- a post or edit that lists it attaches it: upload time + the configured expiry (0: never);
- the room image never expires; the image it replaces expires as an ordinary file would;
- the files of a pinned post never expire; unpinning gives them their ordinary expiry again;
- deleting a post expires its files at once (the room image excepted).

"Ordinary expiry" is upload time + `expiry_seconds`, none when that is 0, and none while the
post the file is attached to is pinned. An expired file is refused at once (files.get_file);
the prune job removes its bytes later.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, case, exists, null, or_, select, update

from .database import RawTx, Tx, as_raw
from .rooms import Room, set_room_image
from .schema import files, pinned_messages, rooms
from .statements import IN_LISTS_KEPT, Statement, in_list


def _ordinary_expiry(expiry_seconds: float) -> ColumnElement[float | None] | None:
    """SQL for a file's ordinary expiry (see the module docstring), row by row."""
    pinned = exists().where(
        pinned_messages.c.room_pk == files.c.room_pk,
        pinned_messages.c.message_id == files.c.message_id,
    )
    if expiry_seconds <= 0:
        return None
    return case((pinned, null()), else_=files.c.created_at + expiry_seconds)


def _not_room_image(room: Room) -> ColumnElement[bool]:
    image = select(rooms.c.image_id).where(rooms.c.pk == room.pk).scalar_subquery()
    return or_(image.is_(None), files.c.id != image)


def attach_uploads(
    tx: Tx | RawTx,
    room: Room,
    message_id: int,
    file_ids: Collection[int],
    uploaders: Collection[str],
    *,
    uploaded_after: float,
    now: float,
    expiry_seconds: float,
) -> int:
    """Attach to `message_id` the listed uploads that are by one of `uploaders`, in this room,
    not attached yet, uploaded after `uploaded_after` and not expired; the others are left
    alone. Their expiry becomes the ordinary one. Returns how many were attached. Plain SQL:
    it runs inside a post's raw write transaction."""
    if not file_ids or not uploaders:
        return 0
    rtx = as_raw(tx)
    ids, who = sorted(set(file_ids)), sorted(set(uploaders))
    attached = rtx.all(
        _attach(len(ids), len(who)), (message_id, room.pk, *ids, *who, uploaded_after, now)
    )
    if not attached:
        return 0
    taken = [row[0] for row in attached]
    if expiry_seconds <= 0:
        rtx.run(_never_expire(len(taken)), taken)
    else:
        rtx.run(_expire_after(len(taken)), (expiry_seconds, *taken))
    return len(taken)


@lru_cache(maxsize=IN_LISTS_KEPT)
def _attach(ids: int, uploaders: int) -> Statement:
    return Statement(
        "UPDATE files SET message_id = :message_id "
        f"WHERE room_pk = :room_pk AND id IN ({in_list('id', ids)}) "
        f"AND uploader IN ({in_list('uploader', uploaders)}) "
        "AND message_id IS NULL AND created_at > :uploaded_after "
        # the room image (no expiry) is never taken
        "AND expires_at IS NOT NULL AND expires_at > :now RETURNING id"
    )


@lru_cache(maxsize=IN_LISTS_KEPT)
def _never_expire(count: int) -> Statement:
    return Statement(f"UPDATE files SET expires_at = NULL WHERE id IN ({in_list('id', count)})")


@lru_cache(maxsize=IN_LISTS_KEPT)
def _expire_after(count: int) -> Statement:
    """The ordinary expiry (see the module docstring) of `count` files, in plain SQL."""
    return Statement(
        "UPDATE files SET expires_at = CASE WHEN EXISTS (SELECT 1 FROM pinned_messages p "
        "WHERE p.room_pk = files.room_pk AND p.message_id = files.message_id) "
        f"THEN NULL ELSE created_at + :expiry_seconds END WHERE id IN ({in_list('id', count)})"
    )


def keep_files_of_pinned(tx: Tx, room: Room, message_id: int) -> None:
    """A pinned post's files never expire."""
    tx.execute(
        update(files)
        .where(files.c.room_pk == room.pk, files.c.message_id == message_id)
        .values(expires_at=None)
    )


def release_files_of_unpinned(
    tx: Tx, room: Room, message_ids: Collection[int], expiry_seconds: float
) -> None:
    """Unpinned posts' files (the pins already removed) expire as ordinary files again."""
    if not message_ids:
        return
    tx.execute(
        update(files)
        .where(
            files.c.room_pk == room.pk,
            files.c.message_id.in_(sorted(set(message_ids))),
            _not_room_image(room),
        )
        .values(expires_at=_ordinary_expiry(expiry_seconds))
    )


def use_as_room_image(tx: Tx, room: Room, file_id: int, now: float, expiry_seconds: float) -> bool:
    """Make file `file_id` of this room the room image (no expiry; info_updates moves); the
    previous image gets its ordinary expiry. False, and nothing changed, when the file is
    unknown, expired or of another room."""
    current = tx.execute(select(rooms.c.image_id).where(rooms.c.pk == room.pk)).scalar()
    live = tx.execute(
        select(files.c.id).where(
            files.c.id == file_id,
            files.c.room_pk == room.pk,
            or_(files.c.expires_at.is_(None), files.c.expires_at > now),
        )
    ).first()
    if live is None:
        return False
    tx.execute(update(files).where(files.c.id == file_id).values(expires_at=None))
    set_room_image(tx, room, file_id)
    if current is not None and current != file_id:
        release_previous_image(tx, room, int(current), expiry_seconds)
    return True


def release_previous_image(tx: Tx, room: Room, file_id: int, expiry_seconds: float) -> None:
    """A former room image expires as an ordinary file: upload time + the expiry, at once
    when that is past (SOGS-API.md 9)."""
    tx.execute(
        update(files)
        .where(and_(files.c.id == file_id, files.c.room_pk == room.pk))
        .values(expires_at=_ordinary_expiry(expiry_seconds))
    )


def expire_files_of_deleted(rtx: RawTx, room: Room, message_ids: Sequence[int], now: float) -> None:
    """Deleted posts' files expire now, except the room image (either API, delete-all too)."""
    if not message_ids:
        return
    rtx.run(_expire_of_messages(len(message_ids)), (now, room.pk, *message_ids))


@lru_cache(maxsize=IN_LISTS_KEPT)
def _expire_of_messages(count: int) -> Statement:
    return Statement(
        "UPDATE files SET expires_at = :now WHERE room_pk = :room_pk "
        f"AND message_id IN ({in_list('id', count)}) "
        "AND id <> COALESCE((SELECT image_id FROM rooms WHERE pk = :room_pk), 0)"
    )
