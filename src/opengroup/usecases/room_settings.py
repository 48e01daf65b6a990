"""What a room's admins change from their client (SOGS-API.md 7.2 `PUT /room/R`) and the
operator from the CLI: name, description, image and default permissions. Name, description
and image move info_updates (§6.1); the defaults do not."""

from __future__ import annotations

from dataclasses import dataclass, field

from opengroup.errors import NotAcceptable
from opengroup.rules.images import check_room_image
from opengroup.store import Tx, file_lifetimes
from opengroup.store import files as file_store
from opengroup.store import rooms as room_store
from opengroup.store.rooms import Room
from opengroup.usecases.context import ServerContext
from opengroup.usecases.files import attached_expiry_seconds
from opengroup.usecases.identity import SignedUser
from opengroup.usecases.room_access import find_room, require_admin

IMAGE_NOT_OF_ROOM = "the image must be a file uploaded to this room"


@dataclass(frozen=True, slots=True)
class RoomChanges:
    """Already cleaned (rules/room_text.py); a field left at its default is not changed."""

    name: str | None = None
    change_description: bool = False
    description: str | None = None  # None with change_description: remove it
    image: int | None = None
    defaults: dict[str, bool] = field(default_factory=dict)  # read, accessible, write, upload


def update_room(
    ctx: ServerContext, token: str, user: SignedUser | None, changes: RoomChanges
) -> int:
    """Apply an admin's changes in one transaction; the room's info_updates afterwards.
    403 for anyone but an admin; 406 (nothing changed) for an image not of this room."""
    with ctx.db.write() as tx:
        view = find_room(ctx, tx, token, user)
        require_admin(view)
        room = view.info.room
        if changes.image is not None:
            set_image_txn(ctx, tx, room, changes.image)
        if changes.name is not None and changes.name != view.info.room.name:
            room_store.rename_room(tx, room, changes.name)
        if changes.change_description and changes.description != view.info.description:
            room_store.set_room_description(tx, room, changes.description)
        if changes.defaults:
            room_store.set_default_permissions(tx, room, **changes.defaults)
        found = room_store.get_room_info(tx, room.id)
        assert found is not None, "room vanished inside its own write transaction"
        return found.info_updates


def set_image_txn(ctx: ServerContext, tx: Tx, room: Room, file_id: int) -> None:
    """File `file_id` of this room becomes its image; the previous one expires as an ordinary
    file (SOGS-API.md 9). 406 for a file not of this room; 400 for one that is not a PNG,
    JPEG, GIF or WebP image (clients would show junk)."""
    if file_store.get_file(tx, room, file_id, ctx.clock()) is None:
        raise NotAcceptable(IMAGE_NOT_OF_ROOM)
    check_room_image(ctx.blobs.head(file_id))
    if not file_lifetimes.use_as_room_image(
        tx, room, file_id, ctx.clock(), attached_expiry_seconds(ctx)
    ):
        raise NotAcceptable(IMAGE_NOT_OF_ROOM)


def describe_room(ctx: ServerContext, room: Room, description: str | None) -> None:
    """The operator's `rooms describe`: set (or, with None, remove) the description."""
    with ctx.db.write() as tx:
        room_store.set_room_description(tx, room, description)
