"""Users of signed requests and the nonces they have used (SOGS-API.md 3.5, 3.6, 4.4): every
modern request that carries X-SOGS headers runs these, so they are plain SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete

from .database import RawTx, Tx, as_raw
from .schema import nonces
from .statements import Statement


@dataclass(slots=True)
class User:
    session_id: str  # the id the user signs with: 05 or 15
    root: str  # its 05 id (the id itself for a 05 id)
    created: float
    last_active: float


_UPSERT_USER = Statement("""
INSERT INTO users (session_id, root, created, last_active) VALUES (:session_id, :root, :now, :now)
ON CONFLICT (session_id) DO UPDATE SET last_active = excluded.last_active""")
# ON CONFLICT DO NOTHING on the primary key: of two transactions inserting one nonce at once,
# the second waits for the first (PostgreSQL: on its unique index entry; SQLite: for the
# write lock) and then inserts nothing. RETURNING tells which one inserted.
_RECORD_NONCE = Statement("""
INSERT INTO nonces (key, nonce, expires_at) VALUES (:key, :nonce, :expires_at)
ON CONFLICT (key, nonce) DO NOTHING RETURNING 1""")
_USER = Statement(
    "SELECT session_id, root, created, last_active FROM users WHERE session_id = :session_id"
)
_IDS_OF_ROOT = Statement("SELECT session_id FROM users WHERE root = :root ORDER BY 1")


def upsert_user_seen(tx: Tx | RawTx, session_id: str, root: str, now: float) -> None:
    """Create the user if new (with its root, computed once by the caller), and set
    last_active to `now`."""
    as_raw(tx).run(_UPSERT_USER, (session_id, root, now))


_TOUCH_USER = Statement("""
UPDATE users SET last_active = :last_active
WHERE session_id = :session_id AND last_active < :last_active""")


def touch_users(tx: Tx | RawTx, seen: Sequence[tuple[str, float]]) -> None:
    """Later last_active times of existing users, (session id, time) each; never moves one
    back (another process may have written a later one)."""
    as_raw(tx).run_many(_TOUCH_USER, [(last_active, sid) for sid, last_active in seen])


def get_user(tx: Tx | RawTx, session_id: str) -> User | None:
    row = as_raw(tx).one(_USER, (session_id,))
    return None if row is None else User(row[0], row[1], float(row[2]), float(row[3]))


def ids_of_root(tx: Tx | RawTx, root: str) -> list[str]:
    """The ids (05 and 15) that the person with this root has signed with, sorted."""
    rows = as_raw(tx).all(_IDS_OF_ROOT, (root,))
    return [row[0] for row in rows]


def record_nonce(tx: Tx | RawTx, key: str, nonce: bytes, expires_at: float) -> bool:
    """Record that `key` (the signing id) used `nonce`; False if it already had, in which
    case nothing changes. `expires_at`: when it may be forgotten (SOGS-API.md 3.5)."""
    # bytearray: see access._blob (the sqlite3 module binds it without an adapter lookup).
    return as_raw(tx).one(_RECORD_NONCE, (key, bytearray(nonce), expires_at)) is not None


def prune_nonces(tx: Tx, now: float) -> int:
    """Forget nonces whose lifetime has passed; how many."""
    return int(tx.execute(delete(nonces).where(nonces.c.expires_at <= now)).rowcount or 0)


_ENSURE_USER = Statement("""
INSERT INTO users (session_id, root, created, last_active)
VALUES (:session_id, :root, :created, :last_active)
ON CONFLICT (session_id) DO NOTHING""")


def ensure_user(tx: Tx | RawTx, session_id: str, root: str, now: float) -> None:
    """A record for a user named by a moderator or the operator (SOGS-API.md 3.6, 7.7),
    without marking them active."""
    as_raw(tx).run(_ENSURE_USER, (session_id, root, now, 0.0))
