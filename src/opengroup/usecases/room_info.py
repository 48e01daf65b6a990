"""What the modern API shows of a room (SOGS-API.md 6.3, 7.2): GET /rooms, GET /room/R and
pollInfo, for one caller."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from opengroup.store import Tx
from opengroup.store import auth as activity_store
from opengroup.store import moderation as moderation_store
from opengroup.store import pins as pin_store
from opengroup.store import rooms as room_store
from opengroup.store.database import RawTx
from opengroup.store.moderation import ModeratorGrant
from opengroup.store.pins import Pin
from opengroup.store.rooms import Room
from opengroup.usecases.context import ServerContext
from opengroup.usecases.identity import SignedUser
from opengroup.usecases.legacy_access import member, token_hash_of
from opengroup.usecases.room_access import (
    RoomView,
    find_room,
    require_read,
    require_visible,
    view_of,
)

ACTIVE_USERS_CUTOFF = 604_800  # 7 days, as the legacy member_count counts
# Every modern poll shows each room's active_users: counting a room of thousands of readers
# each time would cost more than the rest of the poll. Activity is recorded late anyway (in
# batches every few seconds, SOGS-API.md 6.1); a count is reused for this long per process.
ACTIVE_USERS_CACHE_SECONDS = 2.0
_active_counts: weakref.WeakKeyDictionary[object, dict[int, tuple[float, int]]] = (
    weakref.WeakKeyDictionary()
)


def _active_users(ctx: ServerContext, tx: Tx | RawTx, room: Room, *, cached: bool) -> int:
    """`cached`: a count of the last ACTIVE_USERS_CACHE_SECONDS will do (pollInfo); else
    counted now (GET /room/R, /rooms), which also refreshes the cache."""
    now = ctx.clock()
    counts = _active_counts.get(ctx.db)
    if counts is None:
        counts = _active_counts.setdefault(ctx.db, {})
    found = counts.get(room.pk)
    if cached and found is not None and now < found[0]:
        return found[1]
    active = activity_store.count_active_users(tx, room, now - ACTIVE_USERS_CUTOFF)
    counts[room.pk] = (now + ACTIVE_USERS_CACHE_SECONDS, active)
    return active


def member_count(ctx: ServerContext, room_id: str, token: str | None) -> int:
    """The legacy GET member_count (PROTOCOL.md 4): the room's active users, counted now,
    for any user allowed in it."""
    token_hash = token_hash_of(token)
    with ctx.db.read() as tx:
        room, _ = member(ctx, tx, room_id, token_hash)
        return _active_users(ctx, tx, room, cached=False)


@dataclass(slots=True)
class RoomDetails:
    view: RoomView
    active_users: int
    moderators: list[ModeratorGrant]
    pins: list[Pin] = field(default_factory=list)  # oldest pin first


# Desktop polls pollInfo/0 (SOGS-API.md 7.2), so every poll asks every room's details. Its
# moderators and pins change only with its info_updates (every grant, removal, pin and unpin
# moves it, in any process), so what was read at one info_updates holds until it moves. Kept
# per process and room; the room's id and creation time in the key keep a room made again
# under a freed pk from finding its predecessor's.
_details_by_room: weakref.WeakKeyDictionary[
    object, dict[int, tuple[tuple[str, float, int], list[ModeratorGrant], list[Pin]]]
] = weakref.WeakKeyDictionary()


def _details(
    ctx: ServerContext, tx: Tx | RawTx, view: RoomView, *, cached: bool = False
) -> RoomDetails:
    """`cached`: moderators and pins read at the room's current info_updates will do."""
    info = view.info
    room = info.room
    active = _active_users(ctx, tx, room, cached=cached)
    kept = _details_by_room.get(ctx.db)
    if kept is None:
        kept = _details_by_room.setdefault(ctx.db, {})
    key = (room.id, info.created, info.info_updates)
    found = kept.get(room.pk)
    if cached and found is not None and found[0] == key:
        return RoomDetails(view, active, found[1], found[2])
    moderators = moderation_store.list_moderators(tx, room)
    pins = pin_store.list_pins(tx, room)
    kept[room.pk] = (key, moderators, pins)
    return RoomDetails(view, active, moderators, pins)


def room(ctx: ServerContext, token: str, user: SignedUser | None) -> RoomDetails:
    """GET /room/R: 404 unless the caller may read or see the room."""
    with ctx.db.read_raw() as tx:
        view = find_room(ctx, tx, token, user)
        require_visible(view)
        return _details(ctx, tx, view)


def rooms(ctx: ServerContext, user: SignedUser | None) -> list[RoomDetails]:
    """GET /rooms: every room the caller may read or see, by token."""
    with ctx.db.read() as tx:
        views = [view_of(ctx, tx, info, user) for info in room_store.list_room_infos(tx)]
        return [_details(ctx, tx, view) for view in views if view.permissions.can_see_room]


@dataclass(slots=True)
class PollInfo:
    view: RoomView
    active_users: int
    details: RoomDetails | None  # when the caller's info_updates is not the room's


def poll_info(
    ctx: ServerContext, token: str, user: SignedUser | None, info_updates: int
) -> PollInfo:
    with ctx.db.read_raw() as tx:
        view = find_room(ctx, tx, token, user)
        require_read(view)
        if user is not None:
            ctx.activity.add(view.info.room.pk, user.root)
        if view.info.info_updates != info_updates:
            details = _details(ctx, tx, view, cached=True)
            return PollInfo(view, details.active_users, details)
        return PollInfo(view, _active_users(ctx, tx, view.info.room, cached=True), None)
