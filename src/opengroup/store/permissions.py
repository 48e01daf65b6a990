"""Per-user permission overrides in a room (SOGS-API.md 3.7, 7.10), by root id."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from .database import RawTx, Tx, as_raw, dialect_insert
from .rooms import Room
from .schema import permission_overrides
from .statements import Statement

PERMISSIONS = ("read", "accessible", "write", "upload")
_ONE = Statement("""
SELECT read, accessible, write, upload FROM permission_overrides
WHERE room_pk = :room_pk AND session_id = :root""")


@dataclass(frozen=True, slots=True)
class Override:
    """None for a permission the override leaves to the room's default."""

    read: bool | None = None
    accessible: bool | None = None
    write: bool | None = None
    upload: bool | None = None


@dataclass(frozen=True, slots=True)
class OverrideRow:
    root: str
    named_as: str
    override: Override
    expires_at: float | None


def _flag(value: object) -> bool | None:
    return None if value is None else bool(value)


def override_of(tx: Tx | RawTx, room: Room, root: str) -> Override | None:
    row = as_raw(tx).one(_ONE, (room.pk, root))
    return None if row is None else Override(*(_flag(value) for value in row))


def set_override(
    tx: Tx,
    room: Room,
    root: str,
    named_as: str,
    change: Override,
    expires_at: float | None,
    cleared: frozenset[str] = frozenset(),
) -> Override:
    """Merge `change` into the user's override: its None fields keep what the override had,
    except the permissions named in `cleared`, which go back to the room's default. An
    override left with nothing set is removed. The override after the change."""
    current = override_of(tx, room, root) or Override()

    def merged_value(name: str) -> bool | None:
        if name in cleared:
            return None
        value: bool | None = getattr(change, name)
        return getattr(current, name) if value is None else value

    merged = Override(*(merged_value(name) for name in PERMISSIONS))
    key = (permission_overrides.c.room_pk == room.pk) & (permission_overrides.c.session_id == root)
    tx.execute(delete(permission_overrides).where(key))
    if any(getattr(merged, name) is not None for name in PERMISSIONS):
        tx.execute(
            dialect_insert(tx, permission_overrides).values(
                room_pk=room.pk,
                session_id=root,
                named_as=named_as,
                expires_at=expires_at,
                **{name: getattr(merged, name) for name in PERMISSIONS},
            )
        )
    return merged


def clear_override(tx: Tx, room: Room, root: str) -> bool:
    result = tx.execute(
        delete(permission_overrides).where(
            (permission_overrides.c.room_pk == room.pk)
            & (permission_overrides.c.session_id == root)
        )
    )
    return bool(result.rowcount)


def list_overrides(tx: Tx, room: Room) -> list[OverrideRow]:
    columns = permission_overrides.c
    rows = tx.execute(
        select(
            columns.session_id, columns.named_as, columns.read, columns.accessible,
            columns.write, columns.upload, columns.expires_at,
        ).where(columns.room_pk == room.pk).order_by(columns.session_id)
    )  # fmt: skip
    return [OverrideRow(r[0], r[1], Override(*(_flag(v) for v in r[2:6])), r[6]) for r in rows]


def lift_expired_overrides(tx: Tx, now: float) -> int:
    result = tx.execute(
        delete(permission_overrides).where(permission_overrides.c.expires_at <= now)
    )
    return int(result.rowcount or 0)
