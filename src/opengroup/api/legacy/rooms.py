"""GET rooms, GET rooms/:id, GET and POST rooms/:id/image. Parse, call the use case
(usecases/rooms.py), shape."""

from __future__ import annotations

import base64

from opengroup.api.legacy.headers import token_header
from opengroup.api.legacy.parsing import base64_field, json_object
from opengroup.api.request import Call, Reply
from opengroup.rules.ids import parse_room_id
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
    room = room_cases.room_by_id(call.ctx, parse_room_id(call.params["room_id"]))
    return {"room": room_json(room)}


def get_image(call: Call) -> Reply:
    content = room_cases.room_image(call.ctx, parse_room_id(call.params["room_id"]))
    return {"result": base64.b64encode(content).decode()}


def set_image(call: Call) -> Reply:
    max_size = call.ctx.config.max_file_size

    def image() -> bytes:
        """The body, decoded after the token check (a bad token: 401 whatever the body)."""
        return base64_field(json_object(call.request), "file", max_size, "image")

    # The Room header is ignored here (PROTOCOL.md 3): the token must be of room :id.
    room_id = parse_room_id(call.params["room_id"])
    room = room_cases.set_image_as_moderator(call.ctx, room_id, token_header(call), image)
    return {"room_id": room.id}
