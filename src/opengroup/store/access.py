"""One query that answers "who is asking, in which room, and may they": run for every
authenticated request, so it is plain SQL (see database.RawTx)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .database import RawTx, Row
from .rooms import Room, RoomInfo
from .statements import Statement


# Per-request records here and in the other stores are not frozen: CPython 3.11 builds a frozen
# dataclass ~5x slower, and a compact_poll builds about twenty of them (11% of its instructions).
@dataclass(slots=True)
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
    moderators: list[str] | None  # the room's and global ones, sorted (rooms_access only)
    # The room's default read, accessible, write, upload, then the token user's overrides of
    # them (None: the default holds), as the driver gives them (0/1 from SQLite): read them
    # by truth. Converting eight values per room was a tenth of a compact_poll's own work.
    defaults: tuple[bool, bool, bool, bool]
    override: tuple[bool | None, bool | None, bool | None, bool | None]


_ACCESS_COLUMNS = """
SELECT r.pk, r.id, r.name, r.image_id, r.message_seq, r.deletion_seq,
       t.session_id, t.claimed, t.created_at, t.last_used_at,
       EXISTS (SELECT 1 FROM bans b WHERE b.room_pk = r.pk AND b.session_id = t.session_id)
       OR EXISTS (SELECT 1 FROM global_bans gb WHERE gb.session_id = t.session_id),
       r.default_read, r.default_accessible, r.default_write, r.default_upload,
       po.read, po.accessible, po.write, po.upload"""
_OVERRIDES_JOIN = """
LEFT JOIN permission_overrides po ON po.room_pk = r.pk AND po.session_id = t.session_id"""
_IS_MODERATOR = """
       EXISTS (SELECT 1 FROM moderators m WHERE m.room_pk = r.pk AND m.session_id = t.session_id)
       OR EXISTS (SELECT 1 FROM global_moderators g WHERE g.session_id = t.session_id)"""
_ROOM_ACCESS_SQL = Statement(f"""{_ACCESS_COLUMNS},{_IS_MODERATOR}
FROM rooms r LEFT JOIN tokens t ON t.token_hash = :token_hash AND t.room_pk = r.pk{_OVERRIDES_JOIN}
WHERE r.id = :room_id
""")
# compact_poll asks about all its rooms in one statement: the rooms and tokens as a VALUES
# list, joined as above, plus each room's moderators (every result lists them; one column
# instead of one query per room), listed by the id each grant was made with (a root computed
# from a 15 id is never shown). Session ids are hex, so no comma occurs inside one. UNION ALL
# (deduplicated in Python) spares SQLite a temporary b-tree per room: ~10% of a poll's
# dispatch. PostgreSQL needs the types of VALUES parameters spelled out.
_ROOMS_ACCESS_SQL = f"""
WITH asked(n, room_id, token_hash) AS (VALUES {{rows}})
{_ACCESS_COLUMNS},{_IS_MODERATOR},
       (SELECT {{aggregate}}(named_as, ',') FROM (
          SELECT named_as FROM moderators WHERE room_pk = r.pk
          UNION ALL SELECT named_as FROM global_moderators) all_moderators),
       a.n
FROM asked a JOIN rooms r ON r.id = a.room_id
LEFT JOIN tokens t ON t.token_hash = a.token_hash AND t.room_pk = r.pk{_OVERRIDES_JOIN}
"""
_VALUES_ROW = {
    False: "(:n_{n}, :room_id_{n}, :token_hash_{n})",
    True: "(CAST(:n_{n} AS integer), CAST(:room_id_{n} AS text), CAST(:token_hash_{n} AS bytea))",
}


@lru_cache(maxsize=64)
def rooms_access_statement(count: int) -> Statement:
    """The statement of `rooms_access` for `count` rooms."""
    return Statement(
        _rooms_access_sql(count, postgres=False), postgres=_rooms_access_sql(count, postgres=True)
    )


def _rooms_access_sql(count: int, *, postgres: bool) -> str:
    return _ROOMS_ACCESS_SQL.format(
        rows=", ".join([_VALUES_ROW[postgres].format(n=n) for n in range(count)]),
        aggregate="string_agg" if postgres else "group_concat",
    )


def room_access(rtx: RawTx, room_id: str, token_hash: bytes | None) -> RoomAccess | None:
    """None when the room does not exist. A token of another room counts as no token."""
    row = rtx.one(_ROOM_ACCESS_SQL, (_blob(token_hash), room_id))
    return None if row is None else _access_of(row, bool(row[19]), moderators=None)


def rooms_access(rtx: RawTx, asked: Sequence[tuple[str, bytes | None]]) -> list[RoomAccess | None]:
    """room_access (with moderators) of several (room id, token hash) pairs in one query, in
    the order asked; None where the room does not exist."""
    if not asked:
        return []
    params: list[object] = []
    for n, (room_id, token_hash) in enumerate(asked):
        params += (n, room_id, _blob(token_hash))
    found: list[RoomAccess | None] = [None] * len(asked)
    for row in rtx.all(rooms_access_statement(len(asked)), params):
        moderators = sorted(set(row[20].split(","))) if row[20] else []
        found[row[21]] = _access_of(row, bool(row[19]), moderators=moderators)
    return found


def _blob(token_hash: bytes | None) -> bytearray:
    """The hash as a bytearray: Python's sqlite3 binds one directly, where for bytes it first
    looks for (and fails to find) an adapter, ~3,000 instructions a parameter. Both drivers
    send it as a BLOB / bytea."""
    return bytearray(token_hash or b"")


def _access_of(row: Row, moderator: bool, moderators: list[str] | None) -> RoomAccess:
    return RoomAccess(
        room=Room(row[0], row[1], row[2], row[3]),
        message_seq=int(row[4]),
        deletion_seq=int(row[5]),
        session_id=row[6],
        claimed=bool(row[7]),
        token_created_at=row[8] or 0.0,
        token_last_used_at=row[9] or 0.0,
        banned=bool(row[10]),
        moderator=moderator,
        moderators=moderators,
        defaults=row[11:15],
        override=row[15:19],
    )


# The modern API's room access (SOGS-API.md 3.7): the room with its counters and settings,
# and the caller's grants and ban in it, in one statement. A moderator column is NULL when
# there is no grant, 1 for a moderator, 2 for an admin.
_MODERN_ROOM_SQL = Statement("""
SELECT r.pk, r.id, r.name, r.image_id, r.seqno, r.info_updates, r.description, r.created_at,
       r.default_read, r.default_accessible, r.default_write, r.default_upload,
       (SELECT CASE WHEN m.admin THEN 2 ELSE 1 END FROM moderators m
        WHERE m.room_pk = r.pk AND m.session_id = :root),
       (SELECT CASE WHEN g.admin THEN 2 ELSE 1 END FROM global_moderators g
        WHERE g.session_id = :root),
       EXISTS (SELECT 1 FROM bans b WHERE b.room_pk = r.pk AND b.session_id = :root),
       po.read, po.accessible, po.write, po.upload
FROM rooms r
LEFT JOIN permission_overrides po ON po.room_pk = r.pk AND po.session_id = :root
WHERE r.id = :room_id""")


@dataclass(slots=True)
class ModernRoomAccess:
    info: RoomInfo
    room_grant: int  # 0 none, 1 moderator, 2 admin
    global_grant: int  # the same for the global grant
    banned: bool
    # The caller's override of read, accessible, write, upload (None: the room default).
    override: tuple[bool | None, bool | None, bool | None, bool | None]


def modern_room_access(rtx: RawTx, room_id: str, root: str | None) -> ModernRoomAccess | None:
    """The room `room_id` and what the person with root 05 id `root` (None: anonymous) is in
    it; None when the room does not exist."""
    row = rtx.one(_MODERN_ROOM_SQL, (root, room_id))
    if row is None:
        return None
    info = RoomInfo(
        Room(row[0], row[1], row[2], row[3]),
        int(row[4]),
        int(row[5]),
        row[6],
        float(row[7]),
        bool(row[8]),
        bool(row[9]),
        bool(row[10]),
        bool(row[11]),
    )
    override = (_flag(row[15]), _flag(row[16]), _flag(row[17]), _flag(row[18]))
    return ModernRoomAccess(info, row[12] or 0, row[13] or 0, bool(row[14]), override)


def _flag(value: object) -> bool | None:
    return None if value is None else bool(value)
