"""Who may do what in a room."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

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


class Override(Protocol):
    """A user's override in a room: None leaves a permission to the room's default."""

    @property
    def read(self) -> bool | None: ...
    @property
    def accessible(self) -> bool | None: ...
    @property
    def write(self) -> bool | None: ...
    @property
    def upload(self) -> bool | None: ...


def _pick(override: bool | None, default: bool) -> bool:
    return default if override is None else override


def effective_permissions(
    defaults: RoomDefaults,
    standing: Standing,
    *,
    signed_in: bool,
    override: Override | None = None,
) -> Permissions:
    """SOGS-API.md 3.7: moderators and admins may do everything where they moderate (they
    cannot be banned); a ban removes every permission; otherwise each permission is the
    user's override if set, else the room's default; anonymous callers get the defaults for
    read and accessible only; `upload` needs `write`."""
    if standing.moderator or standing.admin:
        return Permissions(True, True, True, True, standing)
    if standing.banned:
        return Permissions(False, False, False, False, standing)
    if not signed_in or override is None:
        read, accessible, write, upload = (
            defaults.read, defaults.accessible, defaults.write, defaults.upload
        )  # fmt: skip
    else:
        read = _pick(override.read, defaults.read)
        accessible = _pick(override.accessible, defaults.accessible)
        write = _pick(override.write, defaults.write)
        upload = _pick(override.upload, defaults.upload)
    if not signed_in:
        return Permissions(read, accessible, False, False, standing)
    return Permissions(read, accessible, write, write and upload, standing)


PERMISSION_INDEX = {"read": 0, "accessible": 1, "write": 2, "upload": 3}


def allows(
    need: str,
    defaults: tuple[bool, bool, bool, bool],
    override: tuple[bool | None, bool | None, bool | None, bool | None],
    *,
    moderator: bool,
) -> bool:
    """effective_permissions for one permission of a signed-in, unbanned user, without
    building records (the legacy API asks this for every room of every poll). The flags are
    read by truth: the store may give 0/1."""
    if moderator:
        return True
    index = PERMISSION_INDEX[need]
    granted = override[index]
    allowed = defaults[index] if granted is None else granted
    if need == "upload" and allowed:
        return allows("write", defaults, override, moderator=False)
    return bool(allowed)


def require_permission(
    need: str,
    defaults: tuple[bool, bool, bool, bool],
    override: tuple[bool | None, bool | None, bool | None, bool | None],
    *,
    moderator: bool,
) -> None:
    if not allows(need, defaults, override, moderator=moderator):
        raise Forbidden(f"no {need} permission in this room")
