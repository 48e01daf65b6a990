"""A room as one caller of the modern API may see it: the room, its counters, and the
caller's effective permissions (SOGS-API.md 3.7). Both the room endpoints and every message
endpoint start here."""

from __future__ import annotations

from dataclasses import dataclass

from opengroup.errors import Forbidden, NotFound, Unauthenticated
from opengroup.rules.ids import is_valid_room_id
from opengroup.rules.permissions import (
    NO_STANDING,
    Permissions,
    RoomDefaults,
    Standing,
    effective_permissions,
)
from opengroup.store import Tx
from opengroup.store import moderation as moderation_store
from opengroup.store import permissions as permission_store
from opengroup.store.access import modern_room_access
from opengroup.store.database import RawTx, as_raw
from opengroup.store.rooms import RoomInfo
from opengroup.usecases.context import ServerContext
from opengroup.usecases.identity import SignedUser

# The texts of SOGS-API.md 3.7, exact.
AUTH_REQUIRED = "X-SOGS-* request authentication required"
BLINDED_REQUIRED = "This endpoint requires blinded pubkeys be used"
READ_REQUIRED = "This endpoint requires room message 'read' permission"
WRITE_REQUIRED = "This endpoint requires room message 'write' permission"
UPLOAD_REQUIRED = "This endpoint requires room file 'upload' permission"
MODERATOR_REQUIRED = "This endpoint requires moderator room permissions"
ADMIN_REQUIRED = "This endpoint requires admin room permissions"


@dataclass(slots=True)
class RoomView:
    info: RoomInfo
    permissions: Permissions
    user: SignedUser | None


def standing_of(ctx: ServerContext, tx: Tx, info: RoomInfo, user: SignedUser | None) -> Standing:
    if user is None:
        return NO_STANDING
    flags = moderation_store.moderator_flags(tx, info.room, user.root)
    banned = moderation_store.is_banned(tx, info.room, user.root)
    return Standing(
        moderator=flags.moderator,
        admin=flags.admin,
        global_moderator=flags.global_moderator,
        global_admin=flags.global_admin,
        banned=banned and not flags.moderator,
    )


def defaults_of(info: RoomInfo) -> RoomDefaults:
    return RoomDefaults(
        info.default_read, info.default_accessible, info.default_write, info.default_upload
    )


def view_of(ctx: ServerContext, tx: Tx, info: RoomInfo, user: SignedUser | None) -> RoomView:
    standing = standing_of(ctx, tx, info, user)
    override = None if user is None else permission_store.override_of(tx, info.room, user.root)
    permissions = effective_permissions(
        defaults_of(info), standing, signed_in=user is not None, override=override
    )
    return RoomView(info, permissions, user)


def find_room(ctx: ServerContext, tx: Tx | RawTx, token: str, user: SignedUser | None) -> RoomView:
    """The room `token` (exactly as stored) and the caller's permissions in it: 404 when it
    does not exist. What the caller may do there is for the endpoint to require. One raw
    statement (every modern room request runs it): the room, the grants and the ban. In a
    shared read transaction (a batch), looked up once per room and caller."""
    rtx = as_raw(tx)
    root = None if user is None else user.root
    memo = rtx.memo
    if memo is not None:
        seen = memo.get(("room", token, root))
        if seen is not None:
            return RoomView(seen.info, seen.permissions, user)
    found = modern_room_access(rtx, token, root) if is_valid_room_id(token) else None
    if found is None:
        raise NotFound("no such room")
    info = found.info
    if user is None:
        standing = NO_STANDING
    else:
        room_grant, global_grant = found.room_grant, found.global_grant
        moderator = bool(room_grant or global_grant)
        standing = _standing(
            moderator,
            room_grant == 2 or global_grant == 2,
            bool(global_grant),
            global_grant == 2,
            found.banned and not moderator,
        )
    override = found.override if user is not None else _NO_OVERRIDE
    view = RoomView(info, _permissions(info, standing, user is not None, override), user)
    if memo is not None:
        memo["room", token, root] = view
    return view


# Standings and permissions are immutable and few: one of each per combination, built once
# (a frozen dataclass costs ~5x an ordinary one to build, and every room request needs one).
_STANDINGS: dict[tuple[bool, bool, bool, bool, bool], Standing] = {}
Flags = tuple[bool | None, bool | None, bool | None, bool | None]
_PERMISSIONS: dict[tuple[bool, bool, bool, bool, Standing, bool, Flags], Permissions] = {}
_NO_OVERRIDE: Flags = (None, None, None, None)


@dataclass(frozen=True, slots=True)
class _Override:
    read: bool | None
    accessible: bool | None
    write: bool | None
    upload: bool | None


def _standing(
    moderator: bool, admin: bool, global_moderator: bool, global_admin: bool, banned: bool
) -> Standing:
    key = (moderator, admin, global_moderator, global_admin, banned)
    found = _STANDINGS.get(key)
    if found is None:
        found = _STANDINGS[key] = Standing(*key)
    return found


def _permissions(
    info: RoomInfo, standing: Standing, signed_in: bool, override: Flags
) -> Permissions:
    key = (
        info.default_read,
        info.default_accessible,
        info.default_write,
        info.default_upload,
        standing,
        signed_in,
        override,
    )
    found = _PERMISSIONS.get(key)
    if found is None:
        given = None if override == _NO_OVERRIDE else _Override(*override)
        found = _PERMISSIONS[key] = effective_permissions(
            defaults_of(info), standing, signed_in=signed_in, override=given
        )
    return found


def require_visible(view: RoomView) -> None:
    """A room the caller can neither read nor access does not exist for them (§3.7)."""
    if not view.permissions.can_see_room:
        raise NotFound("no such room")


def require_user(user: SignedUser | None) -> SignedUser:
    if user is None:
        raise Unauthenticated(AUTH_REQUIRED)
    return user


def require_blinded(user: SignedUser | None) -> SignedUser:
    signed = require_user(user)
    if not signed.blinded:
        raise Unauthenticated(BLINDED_REQUIRED)
    return signed


def require_read(view: RoomView) -> None:
    if not view.permissions.read:
        raise Forbidden(READ_REQUIRED)


def require_write(view: RoomView) -> None:
    require_user(view.user)
    if not view.permissions.write:
        raise Forbidden(WRITE_REQUIRED)


def require_upload(view: RoomView) -> None:
    require_user(view.user)
    if not view.permissions.upload:
        raise Forbidden(UPLOAD_REQUIRED)


def require_moderator(view: RoomView) -> None:
    require_user(view.user)
    if not view.permissions.moderator:
        raise Forbidden(MODERATOR_REQUIRED)


def require_admin(view: RoomView) -> None:
    require_user(view.user)
    if not view.permissions.admin:
        raise Forbidden(ADMIN_REQUIRED)
