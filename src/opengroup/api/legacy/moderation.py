"""Moderators and bans: GET/POST moderators, DELETE moderators/:id, the block list,
ban_and_delete_all. Parse, call the use case (usecases/moderation.py, as the CLI does), shape."""

from __future__ import annotations

from opengroup.api.legacy import access
from opengroup.api.legacy.parsing import json_object
from opengroup.api.request import Call, Reply
from opengroup.rules.ids import parse_session_id
from opengroup.store import Tx
from opengroup.store.rooms import Room
from opengroup.usecases import moderation
from opengroup.usecases.acting import Acting


def _member(call: Call) -> Acting:
    """Any user allowed in the Room header's room (the lists are public to members)."""

    def room(tx: Tx) -> Room:
        return access.basic(call, tx)[0]

    return room


def _moderator(call: Call) -> Acting:
    """A moderator of the Room header's room."""

    def room(tx: Tx) -> Room:
        return access.moderator(call, tx)[0]

    return room


def _moderator_of(call: Call, room_id: object) -> Acting:
    """A user of the Room header's room who also moderates `room_id` (POST moderators)."""

    def room(tx: Tx) -> Room:
        _, actor = access.basic(call, tx)
        target = access.find_room(tx, room_id)
        access.moderator_of(tx, actor, target)
        return target

    return room


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
