"""Finding the room a request is about and who is asking: shared by every endpoint module."""

from __future__ import annotations

from opengroup.api.request import Call
from opengroup.errors import BadInput, NotFound, Unauthenticated
from opengroup.rules.ids import parse_room_id
from opengroup.rules.permissions import (
    Actor,
    require_moderator,
    require_not_banned,
    require_permission,
)
from opengroup.rules.tokens import hash_token, parse_token
from opengroup.store import Tx
from opengroup.store import moderation as moderation_store
from opengroup.store import rooms as room_store
from opengroup.store.access import RoomAccess, room_access
from opengroup.store.database import RawTx, as_raw
from opengroup.store.rooms import Room


def find_room(tx: Tx, room_id: object) -> Room:
    room = room_store.get_room(tx, parse_room_id(room_id))
    if room is None:
        raise NotFound("no such room")
    return room


def header_room(call: Call, tx: Tx) -> Room:
    return find_room(tx, required_room_header(call))


def required_room_header(call: Call) -> str:
    room_id = call.request.header("room")
    if room_id is None:
        raise BadInput("the Room header is required")
    return room_id


def authorize(
    call: Call, tx: Tx | RawTx, room_id: object, token_hex: str | None
) -> tuple[RoomAccess, Actor]:
    """basic: the room exists (404), the token is a live claimed token of this room (401),
    its user is not banned here (403). Unknown and other users' tokens look the same."""
    room_id = parse_room_id(room_id)
    token_hash = optional_token_hash(token_hex)
    return check_access(call, room_access(as_raw(tx), room_id, token_hash), token_hash)


def optional_token_hash(token_hex: str | None) -> bytes | None:
    """The hash the token is stored under; None when it is missing or malformed (a 401 once
    the room is known to exist)."""
    try:
        return hash_token(parse_token(token_hex))
    except Unauthenticated:
        return None


def check_access(
    call: Call, access: RoomAccess | None, token_hash: bytes | None, need: str = "read"
) -> tuple[RoomAccess, Actor]:
    """The checks of `authorize` on a room access already read (compact_poll reads all its
    rooms' in one query), and the room permission `need` (read, write, upload: 403)."""
    if access is None:
        raise NotFound("no such room")
    if token_hash is None or access.session_id is None or not access.claimed:
        raise Unauthenticated("unknown auth token")
    now = call.ctx.clock()
    policy = call.ctx.token_policy
    if not policy.is_live(access.claimed, access.token_created_at, access.token_last_used_at, now):
        raise Unauthenticated("auth token expired")
    require_not_banned(access.banned)
    require_permission(need, access.defaults, access.override, moderator=access.moderator)
    call.ctx.token_owners.remember(token_hash, access.session_id)
    if policy.needs_touch(access.token_last_used_at, now):
        call.ctx.token_uses.add(token_hash, access.room.pk, access.session_id)
    return access, Actor(access.session_id, access.moderator)


def known_token_owner(call: Call, token_hash: bytes | None) -> str | None:
    """The Session ID of a token if this process has seen it before (see TokenOwners); says
    nothing about whether the token is still valid."""
    return None if token_hash is None else call.ctx.token_owners.get(token_hash)


Credentials = tuple[str, bytes | None]  # (room id, token hash)


def header_credentials(call: Call) -> Credentials:
    """The Room header's room id (400 if missing or malformed) and the Authorization header's
    token hash (None if missing or malformed), worked out before any transaction."""
    room_id = parse_room_id(required_room_header(call))
    return room_id, optional_token_hash(call.request.header("authorization"))


def basic(call: Call, tx: Tx | RawTx, need: str = "read") -> tuple[Room, Actor]:
    """Room header + Authorization header of a user allowed in that room."""
    return basic_as(call, tx, header_credentials(call), need)


def basic_as(
    call: Call, tx: Tx | RawTx, credentials: Credentials, need: str = "read"
) -> tuple[Room, Actor]:
    """`basic` with the headers already parsed: a writer parses them before it takes the
    writers' lock."""
    room_id, token_hash = credentials
    found = room_access(as_raw(tx), room_id, token_hash)
    access, actor = check_access(call, found, token_hash, need)
    return access.room, actor


def moderator(call: Call, tx: Tx | RawTx) -> tuple[Room, Actor]:
    room, actor = basic(call, tx)
    require_moderator(actor)
    return room, actor


def moderator_of(tx: Tx, actor: Actor, room: Room) -> None:
    """The actor (authenticated elsewhere) moderates `room` too."""
    is_moderator = moderation_store.is_moderator(tx, room, actor.session_id)
    require_moderator(Actor(actor.session_id, is_moderator))
