"""Moderation: bans and moderators, the same rules from every door (legacy API, modern API,
operator CLI).

Each action takes the context, plain values, and `acting`: who acts, checked inside the
action's own transaction. An API passes its token check (`Acting` returns the room the
authenticated moderator may act in, or raises 401/403/404); the CLI passes
`as_operator(room_id)`, the server's operator, who may act in every room. The rules of
rules/permissions.py apply to both: nobody, not even the operator, bans a moderator.

People are named by a 05 or a 15 id; grants and bans are keyed by the root 05 id
(SOGS-API.md 4.4), so one given in either form holds for both forms of the person.
"""

from __future__ import annotations

from dataclasses import dataclass

from opengroup.crypto.blinding import InvalidSessionId, root_session_id
from opengroup.errors import BadInput
from opengroup.rules.ids import parse_user_id
from opengroup.rules.permissions import check_can_ban
from opengroup.store import Tx
from opengroup.store import messages as message_store
from opengroup.store import moderation as moderation_store
from opengroup.store import rooms as room_store
from opengroup.store import users as user_store
from opengroup.store.moderation import Ban, Grant, ModeratorGrant
from opengroup.store.rooms import Room
from opengroup.usecases.acting import Acting
from opengroup.usecases.context import ServerContext


@dataclass(frozen=True, slots=True)
class Person:
    named_as: str  # the id given, lowercase
    root: str  # its 05 id


def person(ctx: ServerContext, session_id: str) -> Person:
    """400 for anything but a 05 or 15 id (or a 15 id that is not a valid key)."""
    named = parse_user_id(session_id)
    try:
        return Person(named, root_session_id(named, ctx.keys.public))
    except InvalidSessionId:
        raise BadInput("invalid session id: not a valid blinded key") from None


def _note(ctx: ServerContext, tx: Tx, who: Person) -> None:
    """A person named by a moderator or the operator gets a user record (SOGS-API.md 3.6)."""
    user_store.ensure_user(tx, who.named_as, who.root, ctx.clock())


# -- bans ------------------------------------------------------------------------------------


def _ban_txn(ctx: ServerContext, tx: Tx, room: Room, who: Person, expires: float | None) -> None:
    check_can_ban(moderation_store.moderator_flags(tx, room, who.root).moderator)
    _note(ctx, tx, who)
    moderation_store.ban_root(tx, room, who.root, who.named_as, expires)


def ban(ctx: ServerContext, acting: Acting, session_id: str, duration: float | None = None) -> Room:
    """Ban a user from the room (idempotent; a new duration replaces the old one); 403 if
    they moderate it (globally included)."""
    who = person(ctx, session_id)
    expires = None if duration is None else ctx.clock() + duration
    with ctx.db.write() as tx:
        room = acting(tx)
        _ban_txn(ctx, tx, room, who, expires)
    return room


def ban_and_delete_all(ctx: ServerContext, acting: Acting, session_id: str) -> int:
    """Ban, and delete every message the user has in the room (every id of theirs), in one
    transaction; how many messages were deleted."""
    who = person(ctx, session_id)
    with ctx.db.write() as tx:
        room = acting(tx)
        _ban_txn(ctx, tx, room, who, None)
        ids = {who.named_as, who.root, *user_store.ids_of_root(tx, who.root)}
        doomed = sorted({m for sid in ids for m in message_store.message_ids_by(tx, room, sid)})
        deleted = message_store.delete_messages(tx, room, doomed, ctx.clock())
    return len(deleted)


def unban(ctx: ServerContext, acting: Acting, session_id: str) -> bool:
    """Lift a ban; False if the user was not banned."""
    who = person(ctx, session_id)
    with ctx.db.write() as tx:
        return moderation_store.unban(tx, acting(tx), who.root)


def banned_members(ctx: ServerContext, acting: Acting) -> list[str]:
    with ctx.db.read() as tx:
        return moderation_store.banned_members(tx, acting(tx))


def room_bans(ctx: ServerContext, acting: Acting) -> list[Ban]:
    with ctx.db.read() as tx:
        return moderation_store.list_bans(tx, acting(tx))


def ban_globally(ctx: ServerContext, session_id: str, duration: float | None = None) -> None:
    """Operator only: banned from the whole server (403 `Banned` on every modern request,
    403 on every legacy one). Nobody who moderates anything can be banned."""
    who = person(ctx, session_id)
    expires = None if duration is None else ctx.clock() + duration
    with ctx.db.write() as tx:
        check_can_ban(moderation_store.moderates_anything(tx, who.root))
        _note(ctx, tx, who)
        moderation_store.ban_globally(tx, who.root, who.named_as, expires)


def unban_globally(ctx: ServerContext, session_id: str) -> bool:
    who = person(ctx, session_id)
    with ctx.db.write() as tx:
        return moderation_store.unban_globally(tx, who.root)


def global_bans(ctx: ServerContext) -> list[Ban]:
    with ctx.db.read() as tx:
        return moderation_store.list_global_bans(tx)


# -- moderators ------------------------------------------------------------------------------


def _next(current: Grant | None, admin: bool | None, visible: bool | None, hidden: bool) -> Grant:
    """A grant: the flags given, else what the person had, else plain and (un)hidden."""
    return Grant(
        admin if admin is not None else (current.admin if current else False),
        visible if visible is not None else (current.visible if current else not hidden),
    )


def add_moderator(
    ctx: ServerContext,
    acting: Acting,
    session_id: str,
    *,
    admin: bool | None = None,
    visible: bool | None = None,
) -> Room:
    """Make a user a moderator (or admin) of the room; without flags an admin stays one.
    A moderator cannot be banned: a ban in the room ends."""
    who = person(ctx, session_id)
    with ctx.db.write() as tx:
        room = acting(tx)
        grant = _next(moderation_store.room_grant(tx, room, who.root), admin, visible, False)
        _note(ctx, tx, who)
        moderation_store.grant_moderator(
            tx, room, who.root, who.named_as, admin=grant.admin, visible=grant.visible
        )
        moderation_store.unban(tx, room, who.root)
    return room


def remove_moderator(ctx: ServerContext, acting: Acting, session_id: str) -> bool:
    """False if the user did not moderate the room (a global moderator stays one)."""
    who = person(ctx, session_id)
    with ctx.db.write() as tx:
        return moderation_store.remove_moderator(tx, acting(tx), who.root)


def room_moderators(ctx: ServerContext, acting: Acting) -> list[str]:
    """Moderators of the room, global ones included, sorted."""
    with ctx.db.read() as tx:
        return moderation_store.room_moderators(tx, acting(tx))


def add_global_moderator(
    ctx: ServerContext, session_id: str, *, admin: bool | None = None, visible: bool | None = None
) -> None:
    """Operator only: a moderator (or admin) of every room; hidden unless made visible."""
    who = person(ctx, session_id)
    with ctx.db.write() as tx:
        grant = _next(moderation_store.global_grant(tx, who.root), admin, visible, True)
        _note(ctx, tx, who)
        moderation_store.grant_global_moderator(
            tx, who.root, who.named_as, admin=grant.admin, visible=grant.visible
        )
        moderation_store.unban_globally(tx, who.root)


def remove_global_moderator(ctx: ServerContext, session_id: str) -> bool:
    who = person(ctx, session_id)
    with ctx.db.write() as tx:
        return moderation_store.remove_global_moderator(tx, who.root)


@dataclass(frozen=True, slots=True)
class ListedModerator:
    shown_as: str  # the 15 id once used here, else the id of the grant (never a root)
    room: str | None  # None: global
    admin: bool
    visible: bool


def all_moderators(ctx: ServerContext, room_id: str | None = None) -> list[ListedModerator]:
    """Global grants first, then each room's, sorted."""
    listed: list[ListedModerator] = []
    with ctx.db.read() as tx:
        for root, named_as, admin, visible in moderation_store.global_grants(tx):
            shown = moderation_store.blinded_id_of(tx, root) or named_as
            listed.append(ListedModerator(shown, None, admin, visible))
        for room in room_store.list_rooms(tx):
            if room_id is not None and room.id != room_id:
                continue
            for grant in moderation_store.list_moderators(tx, room):
                if _room_grant_of(tx, room, grant):
                    shown = grant.blinded_id or grant.named_as
                    listed.append(ListedModerator(shown, room.id, grant.admin, grant.visible))
    return listed


def _room_grant_of(tx: Tx, room: Room, grant: ModeratorGrant) -> bool:
    """Whether the room itself grants it (list_moderators merges in the global grants)."""
    return not grant.global_moderator or (
        moderation_store.room_grant(tx, room, grant.root) is not None
    )
