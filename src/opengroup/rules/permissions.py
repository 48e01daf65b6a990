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
