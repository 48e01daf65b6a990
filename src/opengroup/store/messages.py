"""Queries on messages and deletions: plain SQL (see database.RawTx), because posting and
polling run them for every request. Ids and seqnos come from the room's counters (see
counters.py). The legacy API's view is here; message_rows.py has the modern API's (seqnos,
float times) over the same rows."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .counters import lock_room, take_message_id, take_seqnos
from .database import RawTx, Tx, as_raw
from .file_lifetimes import expire_files_of_deleted
from .pins import remove_pins_of_deleted
from .reactions import delete_for_messages as delete_reactions_of
from .rooms import Room
from .statements import IN_LISTS_KEPT, Statement, in_list


@dataclass(slots=True)
class Message:
    server_id: int
    session_id: str
    timestamp: int
    data: str
    signature: str


@dataclass(slots=True)
class MessageOwner:
    server_id: int
    session_id: str
    deleted: bool


@dataclass(slots=True)
class Deletion:
    id: int
    message_id: int


_MESSAGES_AFTER = Statement("""
SELECT server_id, session_id, timestamp, data, signature FROM messages
WHERE room_pk = :room_pk AND server_id > :after AND deleted = :deleted
ORDER BY server_id LIMIT :limit""")
_MESSAGES_NEWEST = Statement("""
SELECT server_id, session_id, timestamp, data, signature FROM messages
WHERE room_pk = :room_pk AND deleted = :deleted ORDER BY server_id DESC LIMIT :limit""")
_MESSAGES_BEFORE = Statement("""
SELECT server_id, session_id, timestamp, data, signature FROM messages
WHERE room_pk = :room_pk AND server_id < :before AND deleted = :deleted
ORDER BY server_id DESC LIMIT :limit""")
_DELETIONS_AFTER = Statement("""
SELECT id, message_id FROM deletions WHERE room_pk = :room_pk AND id > :after
ORDER BY id LIMIT :limit""")
_DELETIONS_NEWEST = Statement("""
SELECT id, message_id FROM deletions WHERE room_pk = :room_pk ORDER BY id DESC LIMIT :limit""")
# A new message's seqno is its seqno_data and its seqno_creation too.
_INSERT_MESSAGE = Statement("""
INSERT INTO messages (room_pk, server_id, session_id, timestamp, data, signature, deleted,
                      seqno, seqno_data, seqno_creation, posted)
VALUES (:room_pk, :server_id, :session_id, :timestamp, :data, :signature, :deleted,
        :seqno, :seqno, :seqno, :posted)""")
# A deletion's id is the message's new seqno and seqno_data.
_DELETE_MESSAGE = Statement("""
UPDATE messages SET deleted = :deleted, data = '', signature = '', seqno = :seqno,
                    seqno_data = :seqno, edited = :edited
WHERE room_pk = :room_pk AND server_id = :server_id""")
_INSERT_DELETION = Statement("""
INSERT INTO deletions (room_pk, id, message_id) VALUES (:room_pk, :id, :message_id)""")
_MESSAGE_IDS_BY = Statement("""
SELECT server_id FROM messages
WHERE room_pk = :room_pk AND session_id = :session_id AND deleted = :deleted""")


@lru_cache(maxsize=IN_LISTS_KEPT)
def _owners(count: int) -> Statement:
    return Statement(
        "SELECT server_id, session_id, deleted FROM messages "
        f"WHERE room_pk = :room_pk AND server_id IN ({in_list('id', count)})"
    )


@lru_cache(maxsize=IN_LISTS_KEPT)
def _live_of(count: int) -> Statement:
    return Statement(
        "SELECT server_id FROM messages WHERE room_pk = :room_pk AND deleted = :deleted "
        f"AND server_id IN ({in_list('id', count)})"
    )


def posted_of_ms(timestamp: int) -> float:
    """Float seconds whose floor(x * 1000) is `timestamp` again (SOGS-API.md 1.2)."""
    posted = timestamp / 1000
    while math.floor(posted * 1000) < timestamp:
        posted = math.nextafter(posted, math.inf)
    return posted


def ms_of_posted(posted: float) -> int:
    """The legacy `timestamp` of a message posted at `posted` seconds."""
    return math.floor(posted * 1000)


def insert_row(
    rtx: RawTx,
    room: Room,
    session_id: str,
    posted: float,
    timestamp: int,
    data: str,
    signature: str,
) -> tuple[int, int]:
    """A new message, by either API: (id, seqno)."""
    server_id, seqno = take_message_id(rtx, room)
    rtx.run(
        _INSERT_MESSAGE,
        (room.pk, server_id, session_id, timestamp, data, signature, False, seqno, posted),
    )
    return server_id, seqno


def insert_message(
    tx: Tx | RawTx, room: Room, session_id: str, timestamp: int, data: str, signature: str
) -> Message:
    """A legacy post: `timestamp` in ms is the server's receive time; `posted` follows it."""
    rtx = as_raw(tx)
    server_id, _ = insert_row(
        rtx, room, session_id, posted_of_ms(timestamp), timestamp, data, signature
    )
    return Message(server_id, session_id, timestamp, data, signature)


# Every id a person has posted with: the two given (the signing id and its root) and every
# id the users table knows with that root.
_COUNT_PERSON_POSTS = Statement("""
SELECT count(*) FROM messages WHERE room_pk = :room_pk AND timestamp > :since AND session_id IN (
    SELECT session_id FROM users WHERE root = :root UNION SELECT :session_id UNION SELECT :root)""")


def count_person_posts_since(
    tx: Tx | RawTx, room: Room, session_id: str, root: str, since_ms: int
) -> int:
    """Posts since `since_ms` by any id of the person who signs as `session_id` and has the
    root 05 id `root` (the rate limit of both APIs): one statement, under the room's write
    lock, held to commit (where the post's own insert happens): two posts of one person
    racing in different processes cannot both pass the limit on PostgreSQL."""
    rtx = as_raw(tx)
    lock_room(rtx, room)
    row = rtx.one(_COUNT_PERSON_POSTS, (room.pk, since_ms, root, session_id))
    return int(row[0]) if row else 0


def get_messages(tx: Tx | RawTx, room: Room, after: int | None, limit: int) -> list[Message]:
    """After a cursor: ascending from it. Without: the newest `limit`, newest first."""
    rtx = as_raw(tx)
    if after is None:
        rows = rtx.all(_MESSAGES_NEWEST, (room.pk, False, limit))
    else:
        rows = rtx.all(_MESSAGES_AFTER, (room.pk, after, False, limit))
    return [Message(*row) for row in rows]


def get_messages_before(tx: Tx | RawTx, room: Room, before: int, limit: int) -> list[Message]:
    """Below an id, newest first: the next page of `get_messages(…, None, …)`."""
    rows = as_raw(tx).all(_MESSAGES_BEFORE, (room.pk, before, False, limit))
    return [Message(*row) for row in rows]


def get_deletions(tx: Tx | RawTx, room: Room, after: int | None, limit: int) -> list[Deletion]:
    rtx = as_raw(tx)
    if after is None:
        rows = rtx.all(_DELETIONS_NEWEST, (room.pk, limit))
    else:
        rows = rtx.all(_DELETIONS_AFTER, (room.pk, after, limit))
    return [Deletion(*row) for row in rows]


def get_owners(tx: Tx | RawTx, room: Room, server_ids: Sequence[int]) -> list[MessageOwner]:
    rtx = as_raw(tx)
    ids = sorted(set(server_ids))
    if not ids:
        return []
    rows = rtx.all(_owners(len(ids)), (room.pk, *ids))
    return [MessageOwner(row[0], row[1], bool(row[2])) for row in rows]


def message_ids_by(tx: Tx | RawTx, room: Room, session_id: str) -> list[int]:
    rtx = as_raw(tx)
    rows = rtx.all(_MESSAGE_IDS_BY, (room.pk, session_id, False))
    return [row[0] for row in rows]


def delete_messages(
    tx: Tx | RawTx, room: Room, server_ids: Sequence[int], now: float | None = None
) -> list[Deletion]:
    """Mark messages deleted, by either API, and record one deletion for each.

    Each deleted message takes one seqno (in id order): it is the deletion's id (the legacy
    cursor), the message's new seqno and seqno_data; `edited` is `now` (the wall clock if not
    given); data and signature are dropped. Under the room's write lock, only messages not yet
    deleted are deleted: two moderators deleting one message at once make one deletion, not
    two, and deletion ids commit in increasing order like message ids (counters.py).
    """
    rtx = as_raw(tx)
    ids = sorted(set(server_ids))
    if not ids:
        return []
    lock_room(rtx, room)
    live = sorted(row[0] for row in rtx.all(_live_of(len(ids)), (room.pk, False, *ids)))
    if not live:
        return []
    when = time.time() if now is None else now
    made = [
        Deletion(seqno, message_id)
        for seqno, message_id in zip(
            take_seqnos(rtx, room, len(live), deletions=True), live, strict=True
        )
    ]
    rtx.run_many(_DELETE_MESSAGE, [(True, d.id, when, room.pk, d.message_id) for d in made])
    rtx.run_many(_INSERT_DELETION, [(room.pk, d.id, d.message_id) for d in made])
    delete_reactions_of(rtx, room, live)
    forget_deleted(rtx, room, live, when)
    return made


def forget_deleted(rtx: RawTx, room: Room, message_ids: Sequence[int], now: float) -> None:
    """What goes with a deleted message (SOGS-API.md 7.3): its files expire at once (the room
    image excepted), its pin is removed."""
    expire_files_of_deleted(rtx, room, message_ids, now)
    remove_pins_of_deleted(rtx, room, message_ids)
