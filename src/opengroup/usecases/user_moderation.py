"""Moderation by user through the modern API (SOGS-API.md 7.7, 7.2 delete-all): bans and
unbans in some rooms, every room a moderator moderates, or the whole server; timed bans;
moderator and admin grants. Everything is keyed by the person's root 05 id (4.4), so a ban
or grant named by a 05 or a 15 id holds for both forms of that person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opengroup.errors import BadInput, Forbidden
from opengroup.store import Tx
from opengroup.store import messages as message_store
from opengroup.store import moderation as moderation_store
from opengroup.store import rooms as room_store
from opengroup.store import users as user_store
from opengroup.store.moderation import Grant
from opengroup.store.rooms import Room
from opengroup.usecases.context import ServerContext
from opengroup.usecases.identity import SignedUser, root_of
from opengroup.usecases.room_access import (
    ADMIN_REQUIRED,
    MODERATOR_REQUIRED,
    find_room,
    require_user,
    standing_of,
)

EVERY_ROOM = "*"
GLOBAL_MODERATOR_REQUIRED = "This endpoint requires global moderator permissions"
GLOBAL_ADMIN_REQUIRED = "This endpoint requires global admin permissions"


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an action applies: the listed room tokens (`["*"]`: wherever the caller may),
    or the whole server."""

    rooms: tuple[str, ...] = ()
    everywhere: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    named_as: str  # the id given (05 or 15), lowercase
    root: str


def target_of(ctx: ServerContext, session_id: str) -> Target:
    named = session_id.lower()
    return Target(named, root_of(ctx, named))


def _rooms(
    ctx: ServerContext, tx: Tx, caller: SignedUser, scope: Scope, *, admin: bool
) -> list[Room]:
    """The scope's rooms, each checked: 404 unknown, 403 if the caller lacks the permission
    in any of them."""
    tokens: Sequence[str] = scope.rooms
    if tuple(tokens) == (EVERY_ROOM,):
        tokens = moderation_store.rooms_moderated(tx, caller.root, admin=admin)
    found: list[Room] = []
    for token in tokens:
        view = find_room(ctx, tx, token, caller)
        allowed = view.permissions.admin if admin else view.permissions.moderator
        if not allowed:
            raise Forbidden(ADMIN_REQUIRED if admin else MODERATOR_REQUIRED)
        found.append(view.info.room)
    return found


def _require_global(tx: Tx, caller: SignedUser, *, admin: bool) -> None:
    grant = moderation_store.global_grant(tx, caller.root)
    if grant is None or (admin and not grant.admin):
        raise Forbidden(GLOBAL_ADMIN_REQUIRED if admin else GLOBAL_MODERATOR_REQUIRED)


def ban(
    ctx: ServerContext,
    user: SignedUser | None,
    session_id: str,
    scope: Scope,
    timeout: float | None,
) -> None:
    caller = require_user(user)
    target = target_of(ctx, session_id)
    if target.root == caller.root:
        raise Forbidden("you cannot ban yourself")
    now = ctx.clock()
    expires = None if timeout is None else now + timeout
    with ctx.db.write() as tx:
        if scope.everywhere:
            _require_global(tx, caller, admin=False)
            if moderation_store.moderates_anything(tx, target.root):
                raise Forbidden("a moderator cannot be banned; remove them as moderator first")
            user_store.ensure_user(tx, target.named_as, target.root, now)
            moderation_store.ban_globally(tx, target.root, target.named_as, expires)
            return
        for room in _rooms(ctx, tx, caller, scope, admin=False):
            flags = moderation_store.moderator_flags(tx, room, target.root)
            if flags.moderator:
                raise Forbidden("a moderator cannot be banned; remove them as moderator first")
            user_store.ensure_user(tx, target.named_as, target.root, now)
            moderation_store.ban_root(tx, room, target.root, target.named_as, expires)


def unban(ctx: ServerContext, user: SignedUser | None, session_id: str, scope: Scope) -> None:
    caller = require_user(user)
    target = target_of(ctx, session_id)
    with ctx.db.write() as tx:
        if scope.everywhere:
            _require_global(tx, caller, admin=False)
            moderation_store.unban_globally(tx, target.root)
            return
        for room in _rooms(ctx, tx, caller, scope, admin=False):
            moderation_store.unban(tx, room, target.root)


@dataclass(frozen=True, slots=True)
class Promotion:
    """The body of POST /user/SID/moderator: None where the client left a key out."""

    moderator: bool | None
    admin: bool | None
    visible: bool | None


def next_grant(current: Grant | None, change: Promotion, default_visible: bool) -> Grant | None:
    """The table of SOGS-API.md 7.7: the grant after the change (None: not a moderator)."""
    if (change.admin is True and change.moderator is False) or (
        change.admin is None and change.moderator is None
    ):
        raise BadInput("'admin' and 'moderator' ask for something impossible or nothing")
    if change.moderator is False:
        return None
    visible = (
        change.visible
        if change.visible is not None
        else (current.visible if current else default_visible)
    )
    if change.admin is True:
        return Grant(True, visible)
    if change.admin is False:
        if change.moderator is None and current is None:
            return None  # "others unchanged"
        return Grant(False, visible)
    return Grant(current.admin if current else False, visible)  # admin absent, moderator true


def set_moderator(
    ctx: ServerContext, user: SignedUser | None, session_id: str, scope: Scope, change: Promotion
) -> dict[str, int]:
    """Grant, change or remove moderator and admin powers; the rooms affected and their new
    info_updates."""
    caller = require_user(user)
    target = target_of(ctx, session_id)
    now = ctx.clock()
    with ctx.db.write() as tx:
        user_store.ensure_user(tx, target.named_as, target.root, now)
        if scope.everywhere:
            _require_global(tx, caller, admin=True)
            grant = next_grant(moderation_store.global_grant(tx, target.root), change, False)
            if grant is None:
                moderation_store.remove_global_moderator(tx, target.root)
            else:
                moderation_store.grant_global_moderator(
                    tx, target.root, target.named_as, admin=grant.admin, visible=grant.visible
                )
            infos = room_store.list_room_infos(tx)
            return {info.room.id: info.info_updates for info in infos}
        affected = _rooms(ctx, tx, caller, scope, admin=True)
        for room in affected:
            grant = next_grant(moderation_store.room_grant(tx, room, target.root), change, True)
            if grant is None:
                moderation_store.remove_moderator(tx, room, target.root)
            else:
                moderation_store.grant_moderator(
                    tx, room, target.root, target.named_as, admin=grant.admin,
                    visible=grant.visible,
                )  # fmt: skip
                moderation_store.unban(tx, room, target.root)  # moderators cannot be banned
        counters: dict[str, int] = {}
        for room in affected:
            info = room_store.get_room_info(tx, room.id)
            assert info is not None
            counters[room.id] = info.info_updates
        return counters


def delete_all(ctx: ServerContext, token: str, user: SignedUser | None, session_id: str) -> int:
    """Every post of that person in the room, legacy and modern, both id forms; one seqno per
    deletion. By the person themself, or a moderator (an admin if they moderate)."""
    caller = require_user(user)
    target = target_of(ctx, session_id)
    with ctx.db.write() as tx:
        view = find_room(ctx, tx, token, caller)
        room = view.info.room
        if target.root != caller.root:
            named = SignedUser(target.named_as, target.root)
            needed_admin = standing_of(ctx, tx, view.info, named).moderator
            allowed = view.permissions.admin if needed_admin else view.permissions.moderator
            if not allowed:
                raise Forbidden(ADMIN_REQUIRED if needed_admin else MODERATOR_REQUIRED)
        ids = {target.named_as, target.root, *user_store.ids_of_root(tx, target.root)}
        doomed = sorted({mid for sid in ids for mid in message_store.message_ids_by(tx, room, sid)})
        message_store.delete_messages(tx, room, doomed, ctx.clock())
        return len(doomed)
