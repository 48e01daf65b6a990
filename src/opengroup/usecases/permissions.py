"""Room permissions (SOGS-API.md 3.7, 7.10): a room's defaults and per-user overrides with
an optional end. Operators set them with the CLI (read-only announcement rooms, a write grant
for one person), moderators through the API."""

from __future__ import annotations

from opengroup.store import Tx
from opengroup.store import permissions as permission_store
from opengroup.store import rooms as room_store
from opengroup.store import users as user_store
from opengroup.store.permissions import PERMISSIONS as PERMISSIONS
from opengroup.store.permissions import Override as Override
from opengroup.store.permissions import OverrideRow as OverrideRow
from opengroup.store.rooms import Room
from opengroup.usecases.context import ServerContext
from opengroup.usecases.identity import SignedUser
from opengroup.usecases.room_access import find_room, require_moderator
from opengroup.usecases.user_moderation import target_of

# Override and OverrideRow are what these use cases take and return, PERMISSIONS their
# names: imported as themselves (exported), so the API uses them without the store.


def set_defaults(ctx: ServerContext, tx: Tx, room: Room, defaults: Override) -> None:
    room_store.set_default_permissions(
        tx, room, read=defaults.read, accessible=defaults.accessible,
        write=defaults.write, upload=defaults.upload,
    )  # fmt: skip


def set_user_override(
    ctx: ServerContext,
    tx: Tx,
    room: Room,
    session_id: str,
    change: Override,
    duration: float | None,
    cleared: frozenset[str] = frozenset(),
) -> Override:
    target = target_of(ctx, session_id)
    now = ctx.clock()
    user_store.ensure_user(tx, target.named_as, target.root, now)
    expires = None if duration is None else now + duration
    return permission_store.set_override(
        tx, room, target.root, target.named_as, change, expires, cleared
    )


def moderate_override(
    ctx: ServerContext,
    token: str,
    user: SignedUser | None,
    session_id: str | None,
    change: Override | None,
    duration: float | None = None,
    cleared: frozenset[str] = frozenset(),
) -> list[OverrideRow]:
    """GET (change None) or POST an override through the API: moderators only."""
    with ctx.db.write() if change is not None else ctx.db.read() as tx:
        view = find_room(ctx, tx, token, user)
        require_moderator(view)
        room = view.info.room
        if change is not None and session_id is not None:
            set_user_override(ctx, tx, room, session_id, change, duration, cleared)
        rows = permission_store.list_overrides(tx, room)
        if session_id is None:
            return rows
        root = target_of(ctx, session_id).root
        return [row for row in rows if row.root == root]


def room_defaults(tx: Tx, room: Room) -> dict[str, bool]:
    info = room_store.get_room_info(tx, room.id)
    assert info is not None
    return {
        "read": info.default_read,
        "accessible": info.default_accessible,
        "write": info.default_write,
        "upload": info.default_upload,
    }


def operator_user_override(
    ctx: ServerContext,
    room: Room,
    session_id: str,
    change: Override,
    duration: float | None,
    cleared: frozenset[str] = frozenset(),
) -> Override:
    """The operator (CLI) sets one user's override in a room."""
    with ctx.db.write() as tx:
        return set_user_override(ctx, tx, room, session_id, change, duration, cleared)


def operator_room_defaults(ctx: ServerContext, room: Room, change: Override) -> dict[str, bool]:
    """The operator (CLI) sets a room's defaults; the defaults after the change."""
    with ctx.db.write() as tx:
        set_defaults(ctx, tx, room, change)
        return room_defaults(tx, room)
