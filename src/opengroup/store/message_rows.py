"""Messages as the modern API sees them (SOGS-API.md 6.2, 7.3): rows with seqnos and float
times, over the same table, ids and counters as the legacy view in messages.py. A post made
here is a legacy message with the same id; a legacy post or deletion shows up here."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from .counters import lock_room, take_seqnos
from .database import RawTx, Row, Tx, as_raw
from .messages import insert_row, ms_of_posted
from .rooms import Room
from .statements import Statement


@dataclass(slots=True)
class MessageRow:
    id: int
    seqno: int  # max(seqno_data, seqno_reactions)
    session_id: str  # the signing id, 05 or 15, as posted
    posted: float
    data: str | None  # b64 of the bytes posted; None once deleted
    signature: str | None  # b64; None once deleted
    edited: float | None  # the last edit, or the deletion
    deleted: bool
    seqno_data: int  # the post, the last edit or the deletion
    seqno_reactions: int  # the last reaction change (0: none)
    seqno_creation: int  # the post


_COLUMNS = """server_id, seqno, session_id, posted, data, signature, edited, deleted,
seqno_data, seqno_reactions, seqno_creation"""
# SOGS-API.md 7.3: changed after S, except deleted messages the client never had (created
# after S); `{changed_data}` leaves out messages whose only changes are reactions.
_SINCE = f"""
SELECT {_COLUMNS} FROM messages
WHERE room_pk = :room_pk AND seqno > :seqno AND (deleted = :deleted OR seqno_creation <= :seqno)
{{changed_data}}ORDER BY seqno LIMIT :limit"""
_SINCE_ALL = Statement(_SINCE.format(changed_data=""))
_SINCE_DATA = Statement(_SINCE.format(changed_data="AND seqno_data > :seqno\n"))
_RECENT = Statement(f"""
SELECT {_COLUMNS} FROM messages WHERE room_pk = :room_pk AND deleted = :deleted
ORDER BY server_id DESC LIMIT :limit""")
_BEFORE = Statement(f"""
SELECT {_COLUMNS} FROM messages
WHERE room_pk = :room_pk AND server_id < :before AND deleted = :deleted
ORDER BY server_id DESC LIMIT :limit""")
_ONE = Statement(
    f"SELECT {_COLUMNS} FROM messages WHERE room_pk = :room_pk AND server_id = :server_id"
)
# An edit's seqno is the message's seqno and seqno_data.
_EDIT = Statement("""
UPDATE messages SET data = :data, signature = :signature, edited = :edited,
                    seqno_data = :seqno, seqno = :seqno
WHERE room_pk = :room_pk AND server_id = :server_id""")


def _row(row: Row) -> MessageRow:
    deleted = bool(row[7])
    return MessageRow(
        id=int(row[0]),
        seqno=int(row[1]),
        session_id=row[2],
        posted=float(row[3]),
        data=None if deleted else row[4],
        signature=None if deleted else row[5],
        edited=None if row[6] is None else float(row[6]),
        deleted=deleted,
        seqno_data=int(row[8]),
        seqno_reactions=int(row[9]),
        seqno_creation=int(row[10]),
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def insert_post(
    tx: Tx | RawTx, room: Room, session_id: str, posted: float, data: bytes, signature: bytes
) -> MessageRow:
    """A new message by `session_id` (05 or 15) at `posted` seconds; legacy clients see it
    with timestamp floor(posted * 1000)."""
    rtx = as_raw(tx)
    data_b64, signature_b64 = _b64(data), _b64(signature)
    server_id, seqno = insert_row(
        rtx, room, session_id, posted, ms_of_posted(posted), data_b64, signature_b64
    )
    return MessageRow(
        server_id, seqno, session_id, posted, data_b64, signature_b64, None, False, seqno, 0, seqno
    )


def edit_message(
    tx: Tx | RawTx, room: Room, message_id: int, data: bytes, signature: bytes, edited: float
) -> MessageRow | None:
    """Replace a message's data and signature; it takes a seqno. None (and no seqno taken)
    when the message is unknown or deleted. Who may edit is the caller's rule."""
    rtx = as_raw(tx)
    lock_room(rtx, room)
    found = rtx.one(_ONE, (room.pk, message_id))
    if found is None or found[7]:
        return None
    (seqno,) = take_seqnos(rtx, room, 1)
    data_b64, signature_b64 = _b64(data), _b64(signature)
    rtx.run(_EDIT, (data_b64, signature_b64, edited, seqno, room.pk, message_id))
    row = _row(found)
    row.data, row.signature, row.edited = data_b64, signature_b64, edited
    row.seqno = row.seqno_data = seqno
    return row


def messages_since(
    tx: Tx | RawTx, room: Room, seqno: int, limit: int, *, include_reaction_only: bool
) -> list[MessageRow]:
    """Messages changed after `seqno`, by ascending seqno (`GET .../messages/since/S`;
    `include_reaction_only` is `t=r`). Which row shape each gets is the caller's: deleted,
    reaction-only (seqno_data <= S), or full."""
    rtx = as_raw(tx)
    if include_reaction_only:
        rows = rtx.all(_SINCE_ALL, (room.pk, seqno, False, limit))
    else:
        rows = rtx.all(_SINCE_DATA, (room.pk, seqno, False, limit))
    return [_row(row) for row in rows]


def recent(tx: Tx | RawTx, room: Room, limit: int) -> list[MessageRow]:
    """The newest `limit` messages that are not deleted, newest (highest id) first."""
    return [_row(row) for row in as_raw(tx).all(_RECENT, (room.pk, False, limit))]


def before(tx: Tx | RawTx, room: Room, message_id: int, limit: int) -> list[MessageRow]:
    """Messages with an id below `message_id` that are not deleted, newest first."""
    rows = as_raw(tx).all(_BEFORE, (room.pk, message_id, False, limit))
    return [_row(row) for row in rows]


def get_message(
    tx: Tx | RawTx, room: Room, message_id: int, *, include_deleted: bool = False
) -> MessageRow | None:
    """One message; None if unknown, or deleted unless `include_deleted`."""
    found = as_raw(tx).one(_ONE, (room.pk, message_id))
    if found is None:
        return None
    row = _row(found)
    return None if row.deleted and not include_deleted else row
