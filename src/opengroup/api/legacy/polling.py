"""POST compact_poll (every room a client follows, in one request) and GET member_count.
Parse, call the use case (usecases/legacy_polling.py, room_info.py), shape."""

from __future__ import annotations

from typing import Any

from opengroup.api.legacy.headers import room_header, token_header
from opengroup.api.legacy.messages import deletion_json, message_json
from opengroup.api.legacy.parsing import json_object, optional_int
from opengroup.api.request import Call, Reply
from opengroup.errors import BadInput, OpenGroupError, status_for
from opengroup.usecases import legacy_polling, room_info
from opengroup.usecases.legacy_polling import PolledRoom, PollEntry


def member_count(call: Call) -> Reply:
    count = room_info.member_count(call.ctx, room_header(call), token_header(call))
    return {"member_count": count}


def compact_poll(call: Call) -> Reply:
    requests = json_object(call.request).get("requests")
    if not isinstance(requests, list):
        raise BadInput("'requests' must be a list")
    if len(requests) > call.ctx.config.max_poll_rooms:
        raise BadInput(f"at most {call.ctx.config.max_poll_rooms} rooms per compact_poll")
    entries = [_parse_entry(entry) for entry in requests]
    polled = legacy_polling.compact_poll(call.ctx, entries, call.reply_budget())
    return {
        "results": [
            _result_json(entry[0], outcome) for entry, outcome in zip(entries, polled, strict=True)
        ]
    }


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


def _result_json(room_id: str, outcome: PolledRoom | OpenGroupError) -> Reply:
    """One room's result: always the full object, so clients never drop the room."""
    if isinstance(outcome, OpenGroupError):
        return {
            "room_id": room_id,
            "status_code": status_for(outcome),
            "error": outcome.detail,
            "messages": [],
            "deletions": [],
            "moderators": [],
        }
    messages, deletions, moderators = outcome
    return {
        "room_id": room_id,
        "status_code": 200,
        "messages": [message_json(message) for message in messages],
        "deletions": [deletion_json(deletion) for deletion in deletions],
        "moderators": moderators,
    }
