"""Rooms: what the web pages show and what the operator (CLI) and moderators (API) change.

Every door goes through these, so a room id or name the CLI accepts is one the API and the
pages would accept too.
"""

from __future__ import annotations

from collections.abc import Callable

from opengroup.errors import BadInput, NotFound
from opengroup.rules.ids import check_new_room_id, check_room_name
from opengroup.rules.images import check_room_image
from opengroup.rules.limits import check_size
from opengroup.store import files as file_store
from opengroup.store import message_rows
from opengroup.store import rooms as room_store
from opengroup.store.message_rows import MessageRow
from opengroup.store.rooms import Room, RoomInfo, RoomSummary
from opengroup.usecases import legacy_access
from opengroup.usecases.acting import Acting
from opengroup.usecases.context import DAY, ServerContext

__all__ = [
    "Room",
    "RoomSummary",
    "create_room",
    "delete_room",
    "find_room",
    "list_rooms",
    "rename_room",
    "room_by_id",
    "room_image",
    "room_summaries",
    "set_image_as_moderator",
    "set_room_image",
]


def list_rooms(ctx: ServerContext) -> list[Room]:
    """Every room, by id."""
    with ctx.db.read() as tx:
        return room_store.list_rooms(tx)


def list_room_infos(ctx: ServerContext) -> list[RoomInfo]:
    """Every room with its description and settings, by id."""
    with ctx.db.read() as tx:
        return room_store.list_room_infos(tx)


def find_room_info(ctx: ServerContext, room_id: str) -> RoomInfo | None:
    with ctx.db.read() as tx:
        return room_store.get_room_info(tx, room_id)


PUBLIC_RECENT = 20


def public_recent_messages(ctx: ServerContext, room_id: str) -> list[MessageRow] | None:
    """The newest messages of a room that anyone may read (default read and accessible);
    None for a room an anonymous reader could not read."""
    with ctx.db.read() as tx:
        info = room_store.get_room_info(tx, room_id)
        if info is None or not (info.default_read and info.default_accessible):
            return None
        return message_rows.recent(tx, info.room, PUBLIC_RECENT)


def find_room(ctx: ServerContext, room_id: str) -> Room | None:
    """The room with this (already valid) id, or None."""
    with ctx.db.read() as tx:
        return room_store.get_room(tx, room_id)


def room_by_id(ctx: ServerContext, room_id: str) -> Room:
    """The room with this id: 400 for a malformed id, 404 for no such room."""
    with ctx.db.read() as tx:
        return legacy_access.find_room(tx, room_id)


def room_image(ctx: ServerContext, room_id: str) -> bytes:
    """The room's image (the legacy GET rooms/:id/image): 404 for a room without one."""
    image_id = room_by_id(ctx, room_id).image_id
    content = None if image_id is None else ctx.blobs.read(image_id)
    if content is None:
        raise NotFound("this room has no image")
    return content


def room_summaries(ctx: ServerContext, active_since: float) -> list[RoomSummary]:
    """Every room with its counts of messages, files and users active since `active_since`."""
    with ctx.db.read() as tx:
        return room_store.summarise_rooms(tx, active_since)


def create_room(ctx: ServerContext, room_id: str, name: str) -> Room:
    """400 for an id a client could not use or one of the server's own paths, a bad name, or
    a room that exists already."""
    room_id, name = check_new_room_id(room_id), check_room_name(name)
    with ctx.db.write() as tx:
        if room_store.get_room(tx, room_id):
            raise BadInput(f"room {room_id!r} already exists")
        return room_store.create_room(tx, room_id, name, ctx.clock())


def rename_room(ctx: ServerContext, acting: Acting, name: str) -> Room:
    name = check_room_name(name)
    with ctx.db.write() as tx:
        room = acting(tx)
        room_store.rename_room(tx, room, name)
    room.name = name
    return room


def set_room_image(ctx: ServerContext, room_id: str, content: bytes, uploader: str | None) -> int:
    """Store `content` as the room's image (413 over max_file_size, 400 if not a PNG, JPEG,
    GIF or WebP image); the new file's id."""
    check_size(len(content), ctx.config.max_file_size, "image")
    check_room_image(content)
    return file_store.replace_room_image(
        ctx.db, ctx.blobs, room_id, content, uploader, ctx.clock(),
        previous_expiry_seconds=ctx.config.file_expiry_days * DAY,
    )  # fmt: skip


def set_image_as_moderator(
    ctx: ServerContext, room_id: str, token: str | None, read_image: Callable[[], bytes]
) -> Room:
    """The legacy POST rooms/:id/image: by a moderator of the room, with a token of that room
    (PROTOCOL.md 3: the Room header plays no part). `read_image` decodes the body; it is
    called after the token check, so that a bad token is a 401 whatever the body holds."""
    token_hash = legacy_access.token_hash_of(token)
    with ctx.db.read() as tx:
        room, actor = legacy_access.moderator(ctx, tx, room_id, token_hash)
    set_room_image(ctx, room.id, read_image(), actor.session_id)
    return room


def delete_room(ctx: ServerContext, acting: Acting) -> tuple[Room, int]:
    """Delete the room with everything in it; (the room, how many files were unlinked)."""
    with ctx.db.write() as tx:
        room = acting(tx)
        file_ids = room_store.delete_room(tx, room)
    ctx.blobs.unlink(file_ids)
    return room, len(file_ids)
