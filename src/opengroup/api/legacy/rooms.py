"""GET rooms, GET rooms/:id, GET and POST rooms/:id/image."""

from __future__ import annotations

import base64

from opengroup.api.legacy import access
from opengroup.api.legacy.parsing import base64_field, json_object
from opengroup.api.request import Call, Reply
from opengroup.errors import NotFound
from opengroup.rules.permissions import require_moderator
from opengroup.usecases import rooms as room_cases
from opengroup.usecases.rooms import Room


def room_json(room: Room) -> Reply:
    shaped: Reply = {"id": room.id, "name": room.name}
    if room.image_id is not None:
        shaped["image_id"] = str(room.image_id)
    return shaped


def list_rooms(call: Call) -> Reply:
    return {"rooms": [room_json(room) for room in room_cases.list_rooms(call.ctx)]}


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
    room_cases.set_room_image(ctx, target.id, content, actor.session_id)
    return {"room_id": target.id}
