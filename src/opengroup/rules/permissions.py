"""Who may do what in a room."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import Forbidden, NotFound


@dataclass(slots=True)
class Actor:
    """An authenticated user in one room."""

    session_id: str
    is_moderator: bool


def require_not_banned(is_banned: bool) -> None:
    if is_banned:
        raise Forbidden("banned from this room")


def require_moderator(actor: Actor) -> None:
    if not actor.is_moderator:
        raise Forbidden("moderator required")


@dataclass(slots=True)
class OwnedMessage:
    server_id: int
    session_id: str


def check_can_delete(actor: Actor, requested: Iterable[int], found: Iterable[OwnedMessage]) -> None:
    """All or nothing: every id must exist, and be the actor's own unless a moderator."""
    owners = {message.server_id: message.session_id for message in found}
    missing = [server_id for server_id in requested if server_id not in owners]
    if missing:
        raise NotFound(f"no message {missing[0]} in this room")
    if actor.is_moderator:
        return
    if any(owner != actor.session_id for owner in owners.values()):
        raise Forbidden("only the sender or a moderator may delete a message")


def check_can_ban(target_is_moderator: bool) -> None:
    if target_is_moderator:
        raise Forbidden("a moderator cannot be banned; remove them as moderator first")


@dataclass(frozen=True, slots=True)
class RoomDefaults:
    """A room's permissions for everyone without an override (SOGS-API.md 3.7)."""

    read: bool = True
    accessible: bool = True
    write: bool = True
    upload: bool = True


@dataclass(frozen=True, slots=True)
class Standing:
    """What a person is in a room: moderator and admin include the global grants."""

    moderator: bool = False
    admin: bool = False
    global_moderator: bool = False
    global_admin: bool = False
    banned: bool = False


@dataclass(frozen=True, slots=True)
class Permissions:
    read: bool
    accessible: bool
    write: bool
    upload: bool
    standing: Standing

    @property
    def moderator(self) -> bool:
        return self.standing.moderator

    @property
    def admin(self) -> bool:
        return self.standing.admin

    @property
    def can_see_room(self) -> bool:
        return self.read or self.accessible


NO_STANDING = Standing()


def effective_permissions(
    defaults: RoomDefaults,
    standing: Standing,
    *,
    signed_in: bool,
    overrides: RoomDefaults | None = None,
) -> Permissions:
    """SOGS-API.md 3.7: moderators and admins may do everything where they moderate (they
    cannot be banned); a ban removes every permission; anonymous callers get the defaults
    for read and accessible only; `upload` needs `write`."""
    if standing.moderator or standing.admin:
        return Permissions(True, True, True, True, standing)
    if standing.banned:
        return Permissions(False, False, False, False, standing)
    base = overrides or defaults
    if not signed_in:
        return Permissions(base.read, base.accessible, False, False, standing)
    return Permissions(base.read, base.accessible, base.write, base.write and base.upload, standing)
