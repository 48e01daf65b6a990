"""The per-room counters (schema.rooms) and the room row lock they are taken under.

- `message_seq`: message ids (legacy server_id = modern id), 1, 2, 3, ...
- `seqno` (SOGS-API.md 6.1, `message_sequence`): one value per change to a message: a post, an
  edit, a deletion, a reaction. A deletion's id (the legacy cursor) is the seqno it took.
- `deletion_seq`: the newest deletion id, for compact_poll's "nothing new" test.

Why values taken here commit in increasing order within a room, with no value skipped or
given twice, on both engines and with any number of processes:
- SQLite: one write transaction at a time in the whole database (BEGIN IMMEDIATE).
- PostgreSQL, READ COMMITTED (pinned in database.py): a second transaction's UPDATE of the
  same room row waits for the first to commit, then re-reads the committed row and counts on
  from it. It can take its value only after the first transaction is visible to every new
  snapshot (PostgreSQL releases row locks after it marks the commit visible), so it also
  commits after it. A reader that sees value N therefore already sees every value below N.
A transaction that rolls back gives its values back with it: the next writer re-reads the
counter as committed. Values are taken only once the change is certain to be made (the rows
to change are read under the lock first), so a committed counter has no unused value.
"""

from __future__ import annotations

from .database import RawTx
from .rooms import Room
from .statements import Statement

_TAKE_MESSAGE_ID = Statement(
    "UPDATE rooms SET message_seq = message_seq + 1, seqno = seqno + 1 WHERE pk = :room_pk "
    "RETURNING message_seq, seqno"
)
_TAKE_SEQNOS = Statement(
    "UPDATE rooms SET seqno = seqno + :count WHERE pk = :room_pk RETURNING seqno"
)
# Both right-hand sides read the row as it was: deletion_seq becomes the new seqno.
_TAKE_DELETION_SEQNOS = Statement(
    "UPDATE rooms SET seqno = seqno + :count, deletion_seq = seqno + :count "
    "WHERE pk = :room_pk RETURNING seqno"
)
_LOCK_ROOM = Statement("SELECT pk FROM rooms WHERE pk = :room_pk FOR NO KEY UPDATE")


def lock_room(rtx: RawTx, room: Room) -> None:
    """Take the room row's write lock now, held until commit: what is read after it cannot
    change before the counters are taken.

    PostgreSQL: `SELECT ... FOR NO KEY UPDATE`, the lock the counter UPDATEs take too. SQLite
    needs nothing: its write transaction (BEGIN IMMEDIATE) already excludes writers.
    """
    if rtx.postgres:
        rtx.run(_LOCK_ROOM, (room.pk,))


def take_message_id(rtx: RawTx, room: Room) -> tuple[int, int]:
    """(id, seqno) of a new message: both counters move in one statement."""
    row = rtx.one(_TAKE_MESSAGE_ID, (room.pk,))
    assert row is not None, "room vanished inside its own write transaction"
    return int(row[0]), int(row[1])


def take_seqnos(rtx: RawTx, room: Room, count: int, *, deletions: bool = False) -> range:
    """`count` consecutive seqnos (count >= 1). `deletions`: they are deletion ids, so
    deletion_seq moves to the last of them."""
    if deletions:
        row = rtx.one(_TAKE_DELETION_SEQNOS, (count, room.pk))
    else:
        row = rtx.one(_TAKE_SEQNOS, (count, room.pk))
    assert row is not None, "room vanished inside its own write transaction"
    last = int(row[0])
    return range(last - count + 1, last + 1)
