"""Who asks, and in which room, through the 2021 API (PROTOCOL.md 3; "basic" and "mod" in
4): a room named by id and a claimed auth token of one of its users. Every legacy endpoint but
the room list, the room page and the token endpoints starts here; the modern API's
counterpart is room_access.py (X-SOGS signatures instead of tokens).

Use cases take the token as the client sent it (the Authorization header, or a compact_poll
entry's `auth_token`) and hash it before their transaction: a missing or malformed token is a
401 only once the room is known to exist, and unknown and other users' tokens look the same.
"""

from __future__ import annotations

from opengroup.errors import NotFound, Unauthenticated
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
from opengroup.usecases.acting import Acting
from opengroup.usecases.context import ServerContext

NO_SUCH_ROOM = "no such room"


def token_hash_of(token: str | None) -> bytes | None:
    """The hash the token is stored under; None when it is missing or malformed (a 401 once
    the room is known to exist)."""
    try:
        return hash_token(parse_token(token))
    except Unauthenticated:
        return None


def known_token_owner(ctx: ServerContext, token_hash: bytes | None) -> str | None:
    """The Session ID of a token if this process has seen it before (see TokenOwners); says
    nothing about whether the token is still valid."""
    return None if token_hash is None else ctx.token_owners.get(token_hash)


def find_room(tx: Tx, room_id: object) -> Room:
    """The room `room_id` names: 400 for a malformed id, 404 for no such room."""
    room = room_store.get_room(tx, parse_room_id(room_id))
    if room is None:
        raise NotFound(NO_SUCH_ROOM)
    return room


def check_access(
    ctx: ServerContext, access: RoomAccess | None, token_hash: bytes | None, need: str = "read"
) -> tuple[RoomAccess, Actor]:
    """The room exists (404), the token is a live claimed token of this room (401), its user
    is not banned here (403) and has the room permission `need` (read, write, upload: 403).
    On a room access already read: compact_poll reads all its rooms' in one query."""
    if access is None:
        raise NotFound(NO_SUCH_ROOM)
    if token_hash is None or access.session_id is None or not access.claimed:
        raise Unauthenticated("unknown auth token")
    now = ctx.clock()
    policy = ctx.token_policy
    if not policy.is_live(access.claimed, access.token_created_at, access.token_last_used_at, now):
        raise Unauthenticated("auth token expired")
    require_not_banned(access.banned)
    require_permission(need, access.defaults, access.override, moderator=access.moderator)
    ctx.token_owners.remember(token_hash, access.session_id)
    if policy.needs_touch(access.token_last_used_at, now):
        ctx.token_uses.add(token_hash, access.room.pk, access.session_id)
    return access, Actor(access.session_id, access.moderator)


def member(
    ctx: ServerContext,
    tx: Tx | RawTx,
    room_id: str,
    token_hash: bytes | None,
    need: str = "read",
) -> tuple[Room, Actor]:
    """A user allowed in the room (the checks of `check_access`), in one statement."""
    found = room_access(as_raw(tx), room_id, token_hash)
    access, actor = check_access(ctx, found, token_hash, need)
    return access.room, actor


def moderator(
    ctx: ServerContext, tx: Tx | RawTx, room_id: str, token_hash: bytes | None
) -> tuple[Room, Actor]:
    """A member who moderates the room (403 otherwise)."""
    room, actor = member(ctx, tx, room_id, token_hash)
    require_moderator(actor)
    return room, actor


def as_member(ctx: ServerContext, room_id: str, token: str | None) -> Acting:
    """Who acts in usecases/moderation.py: any user allowed in the room (its lists of
    moderators and bans are public to members)."""
    token_hash = token_hash_of(token)

    def room(tx: Tx) -> Room:
        return member(ctx, tx, room_id, token_hash)[0]

    return room


def as_moderator(ctx: ServerContext, room_id: str, token: str | None) -> Acting:
    """Who acts in usecases/moderation.py: a moderator of the room."""
    token_hash = token_hash_of(token)

    def room(tx: Tx) -> Room:
        return moderator(ctx, tx, room_id, token_hash)[0]

    return room


def as_moderator_of(
    ctx: ServerContext, room_id: str, token: str | None, target_room_id: object
) -> Acting:
    """Who acts in usecases/moderation.py: a user of `room_id` who also moderates
    `target_room_id` (POST moderators names the room in its body; that id is checked only
    after the token, as it always was)."""
    token_hash = token_hash_of(token)

    def room(tx: Tx) -> Room:
        _, actor = member(ctx, tx, room_id, token_hash)
        target = find_room(tx, target_room_id)
        is_moderator = moderation_store.is_moderator(tx, target, actor.session_id)
        require_moderator(Actor(actor.session_id, is_moderator))
        return target

    return room
