"""Pinned messages (SOGS-API.md 7.5): admins pin, re-pin (to the end) and unpin; every change
moves info_updates and the room object lists the pins (usecases/room_info.py)."""

from __future__ import annotations

from dataclasses import dataclass

from opengroup.errors import NotFound
from opengroup.store import message_rows
from opengroup.store import pins as pin_store
from opengroup.store import rooms as room_store
from opengroup.store.database import Tx
from opengroup.store.rooms import Room
from opengroup.usecases.context import ServerContext
from opengroup.usecases.files import attached_expiry_seconds
from opengroup.usecases.identity import SignedUser
from opengroup.usecases.room_access import find_room, require_admin, require_user


@dataclass(frozen=True, slots=True)
class Unpinned:
    count: int
    info_updates: int


def _info_updates(tx: Tx, room: Room) -> int:
    found = room_store.get_room_info(tx, room.id)
    assert found is not None, "room vanished inside its own write transaction"
    return found.info_updates


def pin(ctx: ServerContext, token: str, user: SignedUser | None, message_id: int) -> int:
    """Pin a regular message (again: it moves to the end); the new info_updates."""
    signer = require_user(user)
    with ctx.db.write() as tx:
        view = find_room(ctx, tx, token, signer)
        require_admin(view)
        room = view.info.room
        if message_rows.get_message(tx, room, message_id) is None:
            raise NotFound("no such message")
        pin_store.pin_message(tx, room, message_id, signer.session_id, ctx.clock())
        return _info_updates(tx, room)


def unpin(
    ctx: ServerContext, token: str, user: SignedUser | None, message_id: int | None
) -> Unpinned:
    """Unpin one message, or (None) all of the room's; unpinning what is not pinned is no
    error (count 0, info_updates unchanged)."""
    signer = require_user(user)
    with ctx.db.write() as tx:
        view = find_room(ctx, tx, token, signer)
        require_admin(view)
        room = view.info.room
        ids = None if message_id is None else [message_id]
        count = pin_store.unpin_messages(tx, room, ids, attached_expiry_seconds(ctx))
        return Unpinned(count, _info_updates(tx, room))
