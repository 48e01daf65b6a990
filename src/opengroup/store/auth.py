"""Queries on auth tokens (stored only as SHA-256 hashes) and user activity."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from .database import RawTx, Tx, as_raw, dialect_insert
from .rooms import Room
from .schema import tokens, user_activity
from .statements import Statement


@dataclass(slots=True)
class TokenRecord:
    token_hash: bytes
    room_pk: int
    session_id: str
    claimed: bool
    created_at: float
    last_used_at: float


def find_token(tx: Tx, token_hash: bytes) -> TokenRecord | None:
    """The token whose SHA-256 is `token_hash`.

    This lookup is by an indexed equality on the hash, which is not constant-time, and that is
    fine: the timing can at most tell an attacker how far down the index (or how many leading
    bytes) the SHA-256 of *their own guess* matched a stored hash. Knowing a prefix of a stored
    SHA-256 does not help find a 48-byte random token whose hash has it (that is a preimage
    search against 384 bits of entropy), so no comparison here leaks anything usable about a
    secret. Direct comparisons of secret bytes in Python must use `hmac.compare_digest`
    (tests/security/test_secrets.py checks that there are none with `==`).
    """
    row = tx.execute(
        select(
            tokens.c.token_hash,
            tokens.c.room_pk,
            tokens.c.session_id,
            tokens.c.claimed,
            tokens.c.created_at,
            tokens.c.last_used_at,
        ).where(tokens.c.token_hash == token_hash)
    ).first()
    return TokenRecord(*row) if row else None


def add_claimed_token(tx: Tx, room: Room, session_id: str, token_hash: bytes, now: float) -> None:
    """Store a token its owner has just claimed (pending tokens are never stored)."""
    tx.execute(
        insert(tokens).values(
            token_hash=token_hash,
            room_pk=room.pk,
            session_id=session_id,
            claimed=True,
            created_at=now,
            last_used_at=now,
        )
    )


def revoke_token(tx: Tx, token_hash: bytes) -> None:
    tx.execute(delete(tokens).where(tokens.c.token_hash == token_hash))


def touch_tokens(tx: Tx, uses: Iterable[tuple[bytes, int, str]], now: float) -> None:
    """Record use of tokens (hash, room_pk, session_id): keeps them alive, counts members."""
    # Sorted, so that two transactions touching the same rows lock them in the same order and
    # never deadlock on PostgreSQL (SQLite runs one write transaction at a time anyway).
    uses = sorted(set(uses))
    if not uses:
        return
    tx.execute(
        update(tokens).where(tokens.c.token_hash.in_([u[0] for u in uses])).values(last_used_at=now)
    )
    rows = [
        {"room_pk": pk, "session_id": sid, "last_active": now}
        for pk, sid in sorted({(pk, sid) for _, pk, sid in uses})
    ]
    upsert = dialect_insert(tx, user_activity)
    tx.execute(
        upsert.on_conflict_do_update(
            index_elements=[user_activity.c.room_pk, user_activity.c.session_id],
            set_={"last_active": upsert.excluded.last_active},
        ),
        rows,
    )


_COUNT_ACTIVE = Statement(
    "SELECT count(*) FROM user_activity WHERE room_pk = :room_pk AND last_active >= :since"
)


def count_active_users(tx: Tx | RawTx, room: Room, since: float) -> int:
    """People active in the room since `since` (member_count, active_users): raw SQL, since
    every modern poll asks it of each room."""
    row = as_raw(tx).one(_COUNT_ACTIVE, (room.pk, since))
    return int(row[0]) if row else 0


def prune_tokens(tx: Tx, pending_before: float, claimed_unused_before: float) -> int:
    result = tx.execute(
        delete(tokens).where(
            (tokens.c.claimed.is_(False) & (tokens.c.created_at < pending_before))
            | (tokens.c.claimed.is_(True) & (tokens.c.last_used_at < claimed_unused_before))
        )
    )
    return int(result.rowcount or 0)


_UPSERT_ACTIVITY = Statement("""
INSERT INTO user_activity (room_pk, session_id, last_active)
VALUES (:room_pk, :session_id, :last_active)
ON CONFLICT (room_pk, session_id) DO UPDATE SET last_active = excluded.last_active""")


def record_activity(tx: Tx | RawTx, readers: Iterable[tuple[int, str]], now: float) -> None:
    """Modern API reads (room pk, root id): the same activity record as token uses, so one
    person counts once in member_count and active_users whichever API they use."""
    # Raw executemany: a busy server records thousands of readers every flush, and Core
    # spent more on building the statement's parameters than SQLite on the rows.
    rows = [(pk, sid, now) for pk, sid in sorted(set(readers))]
    as_raw(tx).run_many(_UPSERT_ACTIVITY, rows)
