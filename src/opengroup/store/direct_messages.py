"""Direct messages between blinded ids (SOGS-API.md 7.9): stored and forwarded, never read.

Ids increase across the server and commit in increasing order, so a `since/N` cursor never
misses one: they come from one counter row in server_meta, taken with an UPDATE whose row
lock orders concurrent senders (the argument of counters.py, for the whole server).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete

from .database import RawTx, Tx, as_raw
from .schema import direct_messages
from .statements import Statement

_COUNTER = "dm_seq"
_ENSURE_COUNTER = Statement(
    "INSERT INTO server_meta (key, value) VALUES (:key, '0') ON CONFLICT (key) DO NOTHING"
)
_TAKE_ID = Statement(
    "UPDATE server_meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = :key "
    "RETURNING value"
)
_INSERT = Statement("""
INSERT INTO direct_messages (id, sender, recipient, posted_at, expires_at, message)
VALUES (:id, :sender, :recipient, :posted_at, :expires_at, :message)""")
_COLUMNS = "id, posted_at, expires_at, sender, recipient, message"
_BOX = {
    "inbox": Statement(
        f"SELECT {_COLUMNS} FROM direct_messages WHERE recipient = :session_id AND id > :after "
        "AND expires_at > :now ORDER BY id LIMIT :limit"
    ),
    "outbox": Statement(
        f"SELECT {_COLUMNS} FROM direct_messages WHERE sender = :session_id AND id > :after "
        "AND expires_at > :now ORDER BY id LIMIT :limit"
    ),
}
_COUNT_SENT = Statement(
    "SELECT count(*) FROM direct_messages WHERE sender = :sender AND posted_at > :since"
)


@dataclass(slots=True)
class DirectMessage:
    id: int
    posted_at: float
    expires_at: float
    sender: str
    recipient: str
    message: bytes


def insert(
    tx: Tx | RawTx, sender: str, recipient: str, message: bytes, now: float, expires_at: float
) -> DirectMessage:
    rtx = as_raw(tx)
    rtx.run(_ENSURE_COUNTER, (_COUNTER,))
    row = rtx.one(_TAKE_ID, (_COUNTER,))
    assert row is not None
    dm_id = int(row[0])
    rtx.run(_INSERT, (dm_id, sender, recipient, now, expires_at, bytearray(message)))
    return DirectMessage(dm_id, now, expires_at, sender, recipient, message)


def box(
    tx: Tx | RawTx, which: str, session_id: str, after: int, limit: int, now: float
) -> list[DirectMessage]:
    """A user's `inbox` (received) or `outbox` (sent), oldest first, after id `after`."""
    rows = as_raw(tx).all(_BOX[which], (session_id, after, now, limit))
    return [
        DirectMessage(int(r[0]), float(r[1]), float(r[2]), r[3], r[4], bytes(r[5])) for r in rows
    ]


def count_sent_since(tx: Tx | RawTx, sender: str, since: float) -> int:
    row = as_raw(tx).one(_COUNT_SENT, (sender, since))
    return int(row[0]) if row else 0


def clear_inbox(tx: Tx, recipient: str) -> int:
    result = tx.execute(delete(direct_messages).where(direct_messages.c.recipient == recipient))
    return int(result.rowcount or 0)


def prune_expired(tx: Tx, now: float) -> int:
    result = tx.execute(delete(direct_messages).where(direct_messages.c.expires_at <= now))
    return int(result.rowcount or 0)
