"""POST compact_poll (every room a client follows, in one request) and GET member_count."""

from __future__ import annotations

from typing import Any

from opengroup.api.legacy import access
from opengroup.api.legacy.messages import poll_room
from opengroup.api.legacy.parsing import json_object, optional_int
from opengroup.api.request import Call, Reply
from opengroup.errors import BadInput, OpenGroupError, status_for
from opengroup.rules.ids import parse_room_id
from opengroup.rules.limits import ReplyBudget
from opengroup.store import auth as token_store
from opengroup.store.access import RoomAccess, rooms_access
from opengroup.store.database import RawTx
from opengroup.usecases.context import DAY

MEMBER_WINDOW_SECONDS = 7 * DAY


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
    budget = call.reply_budget()
    targets = [_target(room_id, token) for room_id, token, _, _ in entries]
    asked = [target for target in targets if not isinstance(target, OpenGroupError)]
    served: set[str] = set()  # rooms whose messages this reply already carries
    with call.ctx.db.read_raw() as rtx:
        found = iter(rooms_access(rtx, asked))
        results = [
            _poll_one(
                call,
                rtx,
                entry,
                target,
                None if isinstance(target, OpenGroupError) else next(found),
                budget,
                served,
            )
            for entry, target in zip(entries, targets, strict=True)
        ]
    return {"results": results}


PollEntry = tuple[Any, str, int | None, int | None]


def _parse_entry(entry: Any) -> PollEntry:
    if not isinstance(entry, dict):
        raise BadInput("every compact_poll request must be an object")
    room_id, token = entry.get("room_id"), entry.get("auth_token")
    after_message = entry.get("from_message_server_id")
    after_deletion = entry.get("from_deletion_server_id")
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


def _target(room_id: Any, token: str) -> tuple[str, bytes | None] | OpenGroupError:
    """(room id, token hash) to look up, or the error this room's result reports."""
    try:
        return parse_room_id(room_id), access.optional_token_hash(token)
    except OpenGroupError as error:
        return error


def _poll_one(
    call: Call,
    rtx: RawTx,
    entry: PollEntry,
    target: tuple[str, bytes | None] | OpenGroupError,
    found: RoomAccess | None,
    budget: ReplyBudget,
    served: set[str],
) -> Reply:
    """One room's result: always the full object, so clients never drop the room. A room
    named again in the same poll is merged into its first: its messages come once."""
    room_id, _, after_message, after_deletion = entry
    try:
        if isinstance(target, OpenGroupError):
            raise target
        room_access, _ = access.check_access(call, found, target[1])
        changes: Reply = {"messages": [], "deletions": []}
        if room_id not in served:
            served.add(room_id)
            changes = poll_room(rtx, room_access, after_message, after_deletion, budget)
        return {
            "room_id": room_id,
            "status_code": 200,
            **changes,
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
