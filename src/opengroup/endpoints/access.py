"""Finding the room a request is about and who is asking: shared by every endpoint module."""

from __future__ import annotations

from ..errors import BadInput, NotFound, Unauthenticated
from ..rules.ids import parse_room_id
from ..rules.permissions import Actor, require_moderator, require_not_banned
from ..rules.tokens import TokenState, hash_token, parse_token
from ..store import Tx
from ..store import auth as token_store
from ..store import moderation as moderation_store
from ..store import rooms as room_store
from ..store.rooms import Room
from .call import Call, TokenUse


def find_room(tx: Tx, room_id: object) -> Room:
    room = room_store.get_room(tx, parse_room_id(room_id))
    if room is None:
        raise NotFound("no such room")
    return room


def header_room(call: Call, tx: Tx) -> Room:
    room_id = call.request.header("room")
    if room_id is None:
        raise BadInput("the Room header is required")
    return find_room(tx, room_id)


def authenticate_token(call: Call, tx: Tx, room: Room, token_hex: str | None) -> Actor:
    """basic: a live, claimed token of this room, its user not banned here (403 if banned)."""
    token_hash = hash_token(parse_token(token_hex))
    record = token_store.find_token(tx, token_hash)
    now = call.ctx.clock()
    if record is None or record.room_pk != room.pk or not record.claimed:
        raise Unauthenticated("unknown auth token")
    state = TokenState(
        record.room_pk, record.session_id, record.claimed, record.created_at, record.last_used_at
    )
    if not call.ctx.token_policy.is_live(state, now):
        raise Unauthenticated("auth token expired")
    require_not_banned(moderation_store.is_banned(tx, room, record.session_id))
    if call.ctx.token_policy.needs_touch(state, now):
        call.token_uses.append(TokenUse(token_hash, room.pk, record.session_id))
    return Actor(record.session_id, moderation_store.is_moderator(tx, room, record.session_id))


def basic(call: Call, tx: Tx) -> tuple[Room, Actor]:
    """Room header + Authorization header of a user allowed in that room."""
    room = header_room(call, tx)
    return room, authenticate_token(call, tx, room, call.request.header("authorization"))


def moderator(call: Call, tx: Tx) -> tuple[Room, Actor]:
    room, actor = basic(call, tx)
    require_moderator(actor)
    return room, actor


def moderator_of(tx: Tx, actor: Actor, room: Room) -> None:
    """The actor (authenticated elsewhere) moderates `room` too."""
    require_moderator(
        Actor(actor.session_id, moderation_store.is_moderator(tx, room, actor.session_id))
    )
