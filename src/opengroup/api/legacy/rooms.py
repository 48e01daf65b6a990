"""GET rooms, GET rooms/:id, GET and POST rooms/:id/image."""

from __future__ import annotations

import base64

from opengroup.api.legacy import access
from opengroup.api.legacy.parsing import base64_field, json_object
from opengroup.api.request import Call, Reply
from opengroup.errors import NotFound
from opengroup.rules.permissions import require_moderator
from opengroup.store import files as file_store
from opengroup.store import rooms as room_store
from opengroup.store.rooms import Room
from opengroup.usecases.context import DAY


def room_json(room: Room) -> Reply:
    shaped: Reply = {"id": room.id, "name": room.name}
    if room.image_id is not None:
        shaped["image_id"] = str(room.image_id)
    return shaped


def list_rooms(call: Call) -> Reply:
    with call.ctx.db.read() as tx:
        return {"rooms": [room_json(room) for room in room_store.list_rooms(tx)]}


def get_room(call: Call) -> Reply:
    with call.ctx.db.read() as tx:
        return {"room": room_json(access.find_room(tx, call.params["room_id"]))}


def get_image(call: Call) -> Reply:
    with call.ctx.db.read() as tx:
        room = access.find_room(tx, call.params["room_id"])
    if room.image_id is None:
        raise NotFound("this room has no image")
    content = call.ctx.blobs.read(room.image_id)
    if content is None:
        raise NotFound("this room has no image")
    return {"result": base64.b64encode(content).decode()}


def set_image(call: Call) -> Reply:
    ctx = call.ctx
    with ctx.db.read() as tx:
        # The Room header is ignored here (PROTOCOL.md 3): the token must be of room :id.
        room_access, actor = access.authorize(
            call, tx, call.params["room_id"], call.request.header("authorization")
        )
        require_moderator(actor)
    target = room_access.room
    content = base64_field(json_object(call.request), "file", ctx.config.max_file_size, "image")
    file_store.replace_room_image(
        ctx.db, ctx.blobs, target.id, content, actor.session_id, ctx.clock(),
        previous_expiry_seconds=ctx.config.file_expiry_days * DAY,
    )  # fmt: skip
    return {"room_id": target.id}
