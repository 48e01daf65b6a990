"""Moderators and bans: GET/POST moderators, DELETE moderators/:id, the block list,
ban_and_delete_all."""

from __future__ import annotations

from opengroup.api.legacy import access
from opengroup.api.legacy.parsing import json_object
from opengroup.api.request import Call, Reply
from opengroup.rules.ids import parse_session_id
from opengroup.rules.permissions import check_can_ban
from opengroup.store import Tx
from opengroup.store import messages as message_store
from opengroup.store import moderation as moderation_store
from opengroup.store.rooms import Room


def list_moderators(call: Call) -> Reply:
    with call.ctx.db.read() as tx:
        room, _ = access.basic(call, tx)
        return {"moderators": moderation_store.room_moderators(tx, room)}


def add_moderator(call: Call) -> Reply:
    body = json_object(call.request)
    session_id = parse_session_id(body.get("public_key"))
    with call.ctx.db.write() as tx:
        _, actor = access.basic(call, tx)
        target = access.find_room(tx, body.get("room_id"))
        access.moderator_of(tx, actor, target)
        moderation_store.add_moderator(tx, target, session_id)
    return {}


def remove_moderator(call: Call) -> Reply:
    session_id = parse_session_id(call.params["session_id"])
    with call.ctx.db.write() as tx:
        room, _ = access.moderator(call, tx)
        moderation_store.remove_moderator(tx, room, session_id)
    return {}


def list_bans(call: Call) -> Reply:
    with call.ctx.db.read() as tx:
        room, _ = access.basic(call, tx)
        return {"banned_members": moderation_store.banned_members(tx, room)}


def _ban(tx: Tx, room: Room, session_id: str) -> None:
    check_can_ban(moderation_store.is_moderator(tx, room, session_id))
    moderation_store.ban(tx, room, session_id)


def ban(call: Call) -> Reply:
    session_id = parse_session_id(json_object(call.request).get("public_key"))
    with call.ctx.db.write() as tx:
        room, _ = access.moderator(call, tx)
        _ban(tx, room, session_id)
    return {}


def ban_and_delete_all(call: Call) -> Reply:
    session_id = parse_session_id(json_object(call.request).get("public_key"))
    with call.ctx.db.write() as tx:
        room, _ = access.moderator(call, tx)
        _ban(tx, room, session_id)
        message_store.delete_messages(tx, room, message_store.message_ids_by(tx, room, session_id))
    return {}


def unban(call: Call) -> Reply:
    session_id = parse_session_id(call.params["session_id"])
    with call.ctx.db.write() as tx:
        room, _ = access.moderator(call, tx)
        moderation_store.unban(tx, room, session_id)
    return {}
