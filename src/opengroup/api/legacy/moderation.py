"""Moderators and bans: GET/POST moderators, DELETE moderators/:id, the block list,
ban_and_delete_all. Parse, call the use case (usecases/moderation.py, as the CLI does), shape."""

from __future__ import annotations

from opengroup.api.legacy.headers import room_header, token_header
from opengroup.api.legacy.parsing import json_object
from opengroup.api.request import Call, Reply
from opengroup.rules.ids import parse_session_id
from opengroup.usecases import legacy_access, moderation
from opengroup.usecases.acting import Acting


def _member(call: Call) -> Acting:
    """Any user allowed in the Room header's room (the lists are public to members)."""
    return legacy_access.as_member(call.ctx, room_header(call), token_header(call))


def _moderator(call: Call) -> Acting:
    """A moderator of the Room header's room."""
    return legacy_access.as_moderator(call.ctx, room_header(call), token_header(call))


def _moderator_of(call: Call, room_id: object) -> Acting:
    """A user of the Room header's room who also moderates `room_id` (POST moderators)."""
    return legacy_access.as_moderator_of(call.ctx, room_header(call), token_header(call), room_id)


def list_moderators(call: Call) -> Reply:
    return {"moderators": moderation.room_moderators(call.ctx, _member(call))}


def add_moderator(call: Call) -> Reply:
    body = json_object(call.request)
    session_id = parse_session_id(body.get("public_key"))
    moderation.add_moderator(call.ctx, _moderator_of(call, body.get("room_id")), session_id)
    return {}


def remove_moderator(call: Call) -> Reply:
    session_id = parse_session_id(call.params["session_id"])
    moderation.remove_moderator(call.ctx, _moderator(call), session_id)
    return {}


def list_bans(call: Call) -> Reply:
    return {"banned_members": moderation.banned_members(call.ctx, _member(call))}


def ban(call: Call) -> Reply:
    session_id = parse_session_id(json_object(call.request).get("public_key"))
    moderation.ban(call.ctx, _moderator(call), session_id)
    return {}


def ban_and_delete_all(call: Call) -> Reply:
    session_id = parse_session_id(json_object(call.request).get("public_key"))
    moderation.ban_and_delete_all(call.ctx, _moderator(call), session_id)
    return {}


def unban(call: Call) -> Reply:
    session_id = parse_session_id(call.params["session_id"])
    moderation.unban(call.ctx, _moderator(call), session_id)
    return {}
