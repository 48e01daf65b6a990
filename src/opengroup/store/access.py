"""One query that answers "who is asking, in which room, and may they": run for every
authenticated request, so it is plain SQL (see database.RawTx)."""

from __future__ import annotations

from dataclasses import dataclass

from .database import RawTx
from .rooms import Room


@dataclass(frozen=True, slots=True)
class RoomAccess:
    room: Room
    message_seq: int  # the newest message id ever given out in this room
    deletion_seq: int  # the newest deletion id
    session_id: str | None  # the token's user; None when the token is not one of this room's
    claimed: bool
    token_created_at: float
    token_last_used_at: float
    banned: bool
    moderator: bool


_ROOM_ACCESS_SQL = """
SELECT r.pk, r.id, r.name, r.image_id, r.message_seq, r.deletion_seq,
       t.session_id, t.claimed, t.created_at, t.last_used_at,
       EXISTS (SELECT 1 FROM bans b WHERE b.room_pk = r.pk AND b.session_id = t.session_id),
       EXISTS (SELECT 1 FROM moderators m WHERE m.room_pk = r.pk AND m.session_id = t.session_id)
       OR EXISTS (SELECT 1 FROM global_moderators g WHERE g.session_id = t.session_id)
FROM rooms r LEFT JOIN tokens t ON t.token_hash = ? AND t.room_pk = r.pk
WHERE r.id = ?
"""


def room_access(rtx: RawTx, room_id: str, token_hash: bytes | None) -> RoomAccess | None:
    """None when the room does not exist. A token of another room counts as no token."""
    row = rtx.one(_ROOM_ACCESS_SQL, (token_hash or b"", room_id))
    if row is None:
        return None
    return RoomAccess(
        room=Room(row[0], row[1], row[2], row[3]),
        message_seq=int(row[4]),
        deletion_seq=int(row[5]),
        session_id=row[6],
        claimed=bool(row[7]),
        token_created_at=row[8] or 0.0,
        token_last_used_at=row[9] or 0.0,
        banned=bool(row[10]),
        moderator=bool(row[11]),
    )
