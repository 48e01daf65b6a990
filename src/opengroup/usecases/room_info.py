"""What the modern API shows of a room (SOGS-API.md 6.3, 7.2): GET /rooms, GET /room/R and
pollInfo, for one caller."""

from __future__ import annotations

from dataclasses import dataclass

from opengroup.store import Tx
from opengroup.store.database import RawTx
from opengroup.store import auth as activity_store
from opengroup.store import moderation as moderation_store
from opengroup.store import rooms as room_store
from opengroup.store.moderation import ModeratorGrant
from opengroup.usecases.context import ServerContext
from opengroup.usecases.identity import SignedUser
from opengroup.usecases.room_access import (
    RoomView,
    find_room,
    require_read,
    require_visible,
    view_of,
)

ACTIVE_USERS_CUTOFF = 604_800  # 7 days, as the legacy member_count counts


@dataclass(slots=True)
class RoomDetails:
    view: RoomView
    active_users: int
    moderators: list[ModeratorGrant]


def _details(ctx: ServerContext, tx: Tx | RawTx, view: RoomView) -> RoomDetails:
    room = view.info.room
    active = activity_store.count_active_users(tx, room, ctx.clock() - ACTIVE_USERS_CUTOFF)
    return RoomDetails(view, active, moderation_store.list_moderators(tx, room))


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
            details = _details(ctx, tx, view)
            return PollInfo(view, details.active_users, details)
        active = activity_store.count_active_users(
            tx, view.info.room, ctx.clock() - ACTIVE_USERS_CUTOFF
        )
        return PollInfo(view, active, None)
