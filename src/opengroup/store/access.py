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
    moderators: list[str] | None  # the room's and global moderators, sorted; when asked for


_ROOM_ACCESS_SQL = """
SELECT r.pk, r.id, r.name, r.image_id, r.message_seq, r.deletion_seq,
       t.session_id, t.claimed, t.created_at, t.last_used_at,
       EXISTS (SELECT 1 FROM bans b WHERE b.room_pk = r.pk AND b.session_id = t.session_id),
       EXISTS (SELECT 1 FROM moderators m WHERE m.room_pk = r.pk AND m.session_id = t.session_id)
       OR EXISTS (SELECT 1 FROM global_moderators g WHERE g.session_id = t.session_id){moderators}
FROM rooms r LEFT JOIN tokens t ON t.token_hash = ? AND t.room_pk = r.pk
WHERE r.id = ?
"""
# Every poll reports each room's moderators: one more column instead of one more query.
# Session ids are hex, so a comma cannot occur inside one.
_MODERATORS_COLUMN = """,
       (SELECT {aggregate}(session_id, ',') FROM (
          SELECT session_id FROM moderators WHERE room_pk = r.pk
          UNION SELECT session_id FROM global_moderators) all_moderators)"""
_QUERIES = {
    (postgres, with_moderators): _ROOM_ACCESS_SQL.format(
        moderators=_MODERATORS_COLUMN.format(aggregate="string_agg" if postgres else "group_concat")
        if with_moderators
        else ""
    )
    for postgres in (False, True)
    for with_moderators in (False, True)
}


def room_access(
    rtx: RawTx, room_id: str, token_hash: bytes | None, *, with_moderators: bool = False
) -> RoomAccess | None:
    """None when the room does not exist. A token of another room counts as no token."""
    row = rtx.one(_QUERIES[rtx.postgres, with_moderators], (token_hash or b"", room_id))
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
        moderators=_split_moderators(row[12]) if with_moderators else None,
    )


def _split_moderators(joined: str | None) -> list[str]:
    return sorted(joined.split(",")) if joined else []
