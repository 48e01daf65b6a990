"""Reactions (SOGS-API.md 7.4): PUT/DELETE /room/R/reaction/ID/EMOJI, DELETE
/room/R/reactions/ID[/EMOJI] (moderators), GET /room/R/reactors/ID/EMOJI."""

from __future__ import annotations

from opengroup.api.request import Call
from opengroup.api.sogs.parsing import path_int, query_int
from opengroup.usecases import reactions


def _target(call: Call) -> tuple[str, int, str]:
    return call.params["room"], path_int(call.params["id"]), call.params["emoji"]


def add(call: Call) -> object:
    room, message_id, emoji = _target(call)
    added, seqno = reactions.react(call.ctx, room, call.request.user, message_id, emoji, add=True)
    return {"added": added, "seqno": seqno}


def remove(call: Call) -> object:
    room, message_id, emoji = _target(call)
    removed, seqno = reactions.react(
        call.ctx, room, call.request.user, message_id, emoji, add=False
    )
    return {"removed": removed, "seqno": seqno}


def clear(call: Call) -> object:
    emoji = call.params.get("emoji")
    message_id = path_int(call.params["id"])
    removed, seqno = reactions.clear(
        call.ctx, call.params["room"], call.request.user, message_id, emoji
    )
    return {"removed": removed, "seqno": seqno}


def list_reactors(call: Call) -> object:
    room, message_id, emoji = _target(call)
    limit = query_int(call.request.query, "limit", default=0, low=0, high=1_000_000)
    found = reactions.reactors(call.ctx, room, call.request.user, message_id, emoji, limit or None)
    return [[session_id, at] for session_id, at in found]
