"""Emoji reactions (SOGS-API.md 7.4) and the `reactions` object of message rows (6.2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from opengroup.errors import BadInput, NotFound
from opengroup.store import reactions as reaction_store
from opengroup.store.database import RawTx, Tx
from opengroup.store.rooms import Room
from opengroup.usecases.context import ServerContext
from opengroup.usecases.identity import SignedUser
from opengroup.usecases.room_access import (
    RoomView,
    find_room,
    require_moderator,
    require_read,
    require_user,
)

MAX_CODE_POINTS = 12


def check_reaction(reaction: str) -> str:
    """1-12 code points (`y/n` is one reaction; so is a family emoji of 7)."""
    if not 1 <= len(reaction) <= MAX_CODE_POINTS:
        raise BadInput(f"a reaction is 1 to {MAX_CODE_POINTS} characters")
    return reaction


def _reactable(
    ctx: ServerContext, tx: Tx, token: str, user: SignedUser | None, message_id: int
) -> RoomView:
    view = find_room(ctx, tx, token, user)
    require_read(view)
    if not reaction_store.is_live(tx, view.info.room, message_id):
        raise NotFound("no such message")
    return view


def react(
    ctx: ServerContext, token: str, user: SignedUser | None, message_id: int, reaction: str,
    *, add: bool,
) -> tuple[bool, int]:  # fmt: skip
    """(changed, the room's seqno after the call)."""
    signer = require_user(user)
    check_reaction(reaction)
    with ctx.db.write() as tx:
        view = _reactable(ctx, tx, token, signer, message_id)
        room = view.info.room
        if add:
            changed = reaction_store.add(
                tx, room, message_id, reaction, signer.session_id, ctx.clock()
            )
        else:
            changed = reaction_store.remove(tx, room, message_id, reaction, signer.session_id)
        return changed, reaction_store.room_seqno(tx, room)


def clear(
    ctx: ServerContext, token: str, user: SignedUser | None, message_id: int, reaction: str | None
) -> tuple[int, int]:
    """A moderator removes everyone's `reaction` (or every reaction): (removed, seqno)."""
    require_user(user)
    if reaction is not None:
        check_reaction(reaction)
    with ctx.db.write() as tx:
        view = find_room(ctx, tx, token, user)
        require_moderator(view)
        if not reaction_store.is_live(tx, view.info.room, message_id):
            raise NotFound("no such message")
        removed = reaction_store.clear(tx, view.info.room, message_id, reaction)
        return removed, reaction_store.room_seqno(tx, view.info.room)


def reactors(
    ctx: ServerContext, token: str, user: SignedUser | None, message_id: int, reaction: str,
    limit: int | None,
) -> list[tuple[str, float]]:  # fmt: skip
    check_reaction(reaction)
    with ctx.db.read() as tx:
        view = _reactable(ctx, tx, token, user, message_id)
        return reaction_store.reactors(tx, view.info.room, message_id, reaction, limit)


@dataclass(slots=True)
class EmojiSummary:
    index: int
    count: int = 0
    reactors: list[str] = field(default_factory=list)
    you: bool = False


def summaries(
    tx: Tx | RawTx,
    room: Room,
    message_ids: Sequence[int],
    caller: SignedUser | None,
    reactors_shown: int,
) -> dict[int, dict[str, EmojiSummary]]:
    """Per message, per emoji: index (order of first use), count, the first reactors and
    whether the caller is among all of them (6.2)."""
    by_message: dict[int, dict[str, EmojiSummary]] = {}
    for row in reaction_store.for_messages(tx, room, message_ids):
        emojis = by_message.setdefault(row.message_id, {})
        summary = emojis.get(row.reaction)
        if summary is None:
            summary = emojis[row.reaction] = EmojiSummary(index=len(emojis))
        summary.count += 1
        if len(summary.reactors) < reactors_shown:
            summary.reactors.append(row.session_id)
        if caller is not None and row.session_id == caller.session_id:
            summary.you = True
    return by_message
