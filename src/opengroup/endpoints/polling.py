"""POST compact_poll (every room a client follows, in one request) and GET member_count."""

from __future__ import annotations

from typing import Any

from ..context import DAY
from ..errors import BadInput, OpenGroupError, status_for
from ..store import auth as token_store
from ..store.database import RawTx
from . import access
from .call import Call, Reply
from .messages import poll_room
from .parsing import json_object, optional_int

MEMBER_WINDOW_SECONDS = 7 * DAY
_POLL_FIELDS = ("room_id", "auth_token", "from_message_server_id", "from_deletion_server_id")


def member_count(call: Call) -> Reply:
    with call.ctx.db.read() as tx:
        room, _ = access.basic(call, tx)
        since = call.ctx.clock() - MEMBER_WINDOW_SECONDS
        return {"member_count": token_store.count_active_users(tx, room, since)}


def compact_poll(call: Call) -> Reply:
    requests = json_object(call.request).get("requests")
    if not isinstance(requests, list):
        raise BadInput("'requests' must be a list")
    if len(requests) > call.ctx.config.max_poll_rooms:
        raise BadInput(f"at most {call.ctx.config.max_poll_rooms} rooms per compact_poll")
    entries = [_parse_entry(entry) for entry in requests]
    with call.ctx.db.read_raw() as rtx:
        return {"results": [_poll_one(call, rtx, *entry) for entry in entries]}


def _parse_entry(entry: Any) -> tuple[Any, str, int | None, int | None]:
    if not isinstance(entry, dict):
        raise BadInput("every compact_poll request must be an object")
    room_id, token, after_message, after_deletion = (entry.get(name) for name in _POLL_FIELDS)
    if not isinstance(room_id, str):
        raise BadInput("'room_id' must be a string")
    if not isinstance(token, str | None):
        raise BadInput("'auth_token' must be a string")
    return (
        room_id,
        token or "",
        optional_int(after_message, "from_message_server_id"),
        optional_int(after_deletion, "from_deletion_server_id"),
    )


def _poll_one(
    call: Call,
    rtx: RawTx,
    room_id: str,
    token: str,
    after_message: int | None,
    after_deletion: int | None,
) -> Reply:
    """One room's result: always the full object, so clients never drop the room."""
    try:
        room_access, _ = access.authorize(call, rtx, room_id, token, with_moderators=True)
        return {
            "room_id": room_id,
            "status_code": 200,
            **poll_room(rtx, room_access, after_message, after_deletion),
            "moderators": room_access.moderators or [],
        }
    except OpenGroupError as error:
        return {
            "room_id": room_id,
            "status_code": status_for(error),
            "error": error.detail,
            "messages": [],
            "deletions": [],
            "moderators": [],
        }
