"""The headers that say what a 2021 API request is about (PROTOCOL.md 4): the room (`Room`)
and the caller's token (`Authorization`). Only parsed here: the token is checked by the use
case (usecases/legacy_access.py)."""

from __future__ import annotations

from opengroup.api.request import Call
from opengroup.errors import BadInput
from opengroup.rules.ids import parse_room_id


def room_header(call: Call) -> str:
    """The Room header's room id: 400 when it is missing or malformed."""
    room_id = call.request.header("room")
    if room_id is None:
        raise BadInput("the Room header is required")
    return parse_room_id(room_id)


def token_header(call: Call) -> str | None:
    """The Authorization header's token as sent (the use case tells a bad one from a good)."""
    return call.request.header("authorization")
