"""Moderation: bans and moderators, the same rules from every door (legacy API, modern API,
operator CLI).

Each action takes the context, plain values, and `acting`: who acts, checked inside the
action's own transaction. An API passes its token check (`Acting` returns the room the
authenticated moderator may act in, or raises 401/403/404); the CLI passes
`as_operator(room_id)`, the server's operator, who may act in every room. The rules of
rules/permissions.py apply to both: nobody, not even the operator, bans a moderator.
"""

from __future__ import annotations

from opengroup.rules.ids import parse_session_id
from opengroup.rules.permissions import check_can_ban
from opengroup.store import Tx
from opengroup.store import messages as message_store
from opengroup.store import moderation as moderation_store
from opengroup.store.rooms import Room
from opengroup.usecases.acting import Acting
from opengroup.usecases.context import ServerContext

# -- bans ------------------------------------------------------------------------------------


def _ban_txn(tx: Tx, room: Room, session_id: str) -> None:
    check_can_ban(moderation_store.is_moderator(tx, room, session_id))
    moderation_store.ban(tx, room, session_id)


def ban(ctx: ServerContext, acting: Acting, session_id: str) -> Room:
    """Ban a user from the room (idempotent); 403 if they moderate it (globally included)."""
    session_id = parse_session_id(session_id)
    with ctx.db.write() as tx:
        room = acting(tx)
        _ban_txn(tx, room, session_id)
    return room


def ban_and_delete_all(ctx: ServerContext, acting: Acting, session_id: str) -> int:
    """Ban, and delete every message the user has in the room, in one transaction; how many
    messages were deleted."""
    session_id = parse_session_id(session_id)
    with ctx.db.write() as tx:
        room = acting(tx)
        _ban_txn(tx, room, session_id)
        deleted = message_store.delete_messages(
            tx, room, message_store.message_ids_by(tx, room, session_id)
        )
    return len(deleted)


def unban(ctx: ServerContext, acting: Acting, session_id: str) -> bool:
    """Lift a ban; False if the user was not banned."""
    session_id = parse_session_id(session_id)
    with ctx.db.write() as tx:
        return moderation_store.unban(tx, acting(tx), session_id)


def banned_members(ctx: ServerContext, acting: Acting) -> list[str]:
    with ctx.db.read() as tx:
        return moderation_store.banned_members(tx, acting(tx))


# -- moderators ------------------------------------------------------------------------------


def add_moderator(ctx: ServerContext, acting: Acting, session_id: str) -> Room:
    """Make a user a moderator of the room (idempotent)."""
    session_id = parse_session_id(session_id)
    with ctx.db.write() as tx:
        room = acting(tx)
        moderation_store.add_moderator(tx, room, session_id)
    return room


def remove_moderator(ctx: ServerContext, acting: Acting, session_id: str) -> bool:
    """False if the user did not moderate the room (a global moderator stays one)."""
    session_id = parse_session_id(session_id)
    with ctx.db.write() as tx:
        return moderation_store.remove_moderator(tx, acting(tx), session_id)


def room_moderators(ctx: ServerContext, acting: Acting) -> list[str]:
    """Moderators of the room, global ones included, sorted."""
    with ctx.db.read() as tx:
        return moderation_store.room_moderators(tx, acting(tx))


def add_global_moderator(ctx: ServerContext, session_id: str) -> None:
    """Operator only: a moderator of every room."""
    session_id = parse_session_id(session_id)
    with ctx.db.write() as tx:
        moderation_store.add_global_moderator(tx, session_id)


def remove_global_moderator(ctx: ServerContext, session_id: str) -> bool:
    session_id = parse_session_id(session_id)
    with ctx.db.write() as tx:
        return moderation_store.remove_global_moderator(tx, session_id)


def all_moderators(ctx: ServerContext) -> tuple[list[str], list[tuple[str, str]]]:
    """(global moderators, (room id, session id) of every room moderator), both sorted."""
    with ctx.db.read() as tx:
        return moderation_store.global_moderator_ids(tx), moderation_store.moderators_by_room(tx)
