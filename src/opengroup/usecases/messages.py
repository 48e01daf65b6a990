"""Reading, posting, editing and deleting messages through the modern API (SOGS-API.md 7.3),
on the one message table both APIs share (a legacy post is seen here, and the other way)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from opengroup.crypto.message_signatures import verify_message_signature
from opengroup.errors import BadInput, Forbidden, NotFound
from opengroup.store import message_rows
from opengroup.store import messages as legacy_store
from opengroup.store.database import RawTx, Tx
from opengroup.store.message_rows import MessageRow as MessageRow
from opengroup.store.rooms import Room
from opengroup.usecases.context import ServerContext
from opengroup.usecases.files import attach_uploads
from opengroup.usecases.identity import SignedUser, root_of
from opengroup.usecases.reactions import EmojiSummary, summaries
from opengroup.usecases.room_access import (
    RoomView,
    find_room,
    require_read,
    require_user,
    require_write,
)

# MessageRow is what these use cases return: imported as itself (exported), so the API
# shapes it without importing the store.

NOT_AUTHOR = "Only the author of a message may edit it"
DELETE_FORBIDDEN = "Only the author or a moderator may delete a message"


def readable_room(
    ctx: ServerContext, tx: Tx | RawTx, token: str, user: SignedUser | None
) -> RoomView:
    view = find_room(ctx, tx, token, user)
    require_read(view)
    if user is not None:
        ctx.activity.add(view.info.room.pk, user.root)
    return view


Reactions = dict[int, dict[str, EmojiSummary]]


@dataclass(slots=True)
class Page:
    """Message rows and, per message id, its reactions as the caller sees them."""

    rows: list[MessageRow]
    reactions: Reactions


def _page(
    tx: Tx | RawTx, view: RoomView, rows: list[MessageRow], user: SignedUser | None, reactors: int
) -> Page:
    live = [row.id for row in rows if not row.deleted and row.seqno_reactions]
    return Page(rows, summaries(tx, view.info.room, live, user, reactors) if live else {})


def since(
    ctx: ServerContext, token: str, user: SignedUser | None, seqno: int, limit: int, *,
    reactions: bool, reactors: int = 4,
) -> Page:  # fmt: skip
    with ctx.db.read_raw() as tx:
        view = readable_room(ctx, tx, token, user)
        if seqno >= view.info.seqno:
            return Page([], {})  # the cursor is at the newest change: most polls end here
        rows = message_rows.messages_since(
            tx, view.info.room, seqno, limit, include_reaction_only=reactions
        )
        return _page(tx, view, rows, user, reactors)


def recent(
    ctx: ServerContext, token: str, user: SignedUser | None, limit: int, reactors: int = 4
) -> Page:
    with ctx.db.read_raw() as tx:
        view = readable_room(ctx, tx, token, user)
        return _page(tx, view, message_rows.recent(tx, view.info.room, limit), user, reactors)


def before(
    ctx: ServerContext, token: str, user: SignedUser | None, message_id: int, limit: int,
    reactors: int = 4,
) -> Page:  # fmt: skip
    with ctx.db.read_raw() as tx:
        view = readable_room(ctx, tx, token, user)
        rows = message_rows.before(tx, view.info.room, message_id, limit)
        return _page(tx, view, rows, user, reactors)


def one(
    ctx: ServerContext, token: str, user: SignedUser | None, message_id: int, reactors: int = 4
) -> Page:
    with ctx.db.read_raw() as tx:
        view = readable_room(ctx, tx, token, user)
        found = message_rows.get_message(tx, view.info.room, message_id)
        if found is None:
            raise NotFound("no such message")
        return _page(tx, view, [found], user, reactors)


def _check_signature(user: SignedUser, data: bytes, signature: bytes) -> None:
    if not verify_message_signature(user.session_id, data, signature):
        raise BadInput("the message signature does not verify")


def _check_rate(ctx: ServerContext, tx: Tx | RawTx, view: RoomView, user: SignedUser) -> None:
    """The rate limit counts every id this person has posted with here (SOGS-API.md 4.4)."""
    if view.permissions.admin:
        return  # admins are exempt (SOGS-API.md 7.3)
    since_ms = int((ctx.clock() - ctx.config.rate_limit_seconds) * 1000)
    count = legacy_store.count_person_posts_since(
        tx, view.info.room, user.session_id, user.root, since_ms
    )
    ctx.rate_limit.check(count)


def post(
    ctx: ServerContext,
    token: str,
    user: SignedUser | None,
    data: bytes,
    signature: bytes,
    files: Iterable[int] = (),
) -> MessageRow:
    """A new message by the signer; its signature is checked before any lock is taken."""
    signer = require_user(user)
    _check_signature(signer, data, signature)
    with ctx.db.write_raw() as tx:
        view = find_room(ctx, tx, token, signer)
        require_write(view)
        _check_rate(ctx, tx, view, signer)
        posted = message_rows.insert_post(
            tx, view.info.room, signer.session_id, ctx.clock(), data, signature
        )
        attach_uploads(ctx, tx, view.info.room, signer, posted.id, files)
        return posted


def edit(
    ctx: ServerContext,
    token: str,
    user: SignedUser | None,
    message_id: int,
    data: bytes,
    signature: bytes,
    files: Iterable[int] = (),
) -> MessageRow:
    signer = require_user(user)
    _check_signature(signer, data, signature)
    with ctx.db.write_raw() as tx:
        view = find_room(ctx, tx, token, signer)
        room = view.info.room
        found = message_rows.get_message(tx, room, message_id)
        if found is None:
            raise NotFound("no such message")
        if root_of(ctx, found.session_id) != signer.root:
            raise Forbidden(NOT_AUTHOR)
        require_write(view)
        _check_rate(ctx, tx, view, signer)
        edited = message_rows.edit_message(tx, room, message_id, data, signature, ctx.clock())
        if edited is None:
            raise NotFound("no such message")
        attach_uploads(ctx, tx, room, signer, message_id, files)
        return edited


def delete(ctx: ServerContext, token: str, user: SignedUser | None, message_id: int) -> None:
    """By its author (any id of the same person) with write permission, or a moderator."""
    signer = require_user(user)
    with ctx.db.write_raw() as tx:
        view = find_room(ctx, tx, token, signer)
        room = view.info.room
        found = message_rows.get_message(tx, room, message_id)
        if found is None:
            raise NotFound("no such message")
        if not view.permissions.moderator:
            own = root_of(ctx, found.session_id) == signer.root
            if not own or not view.permissions.write:
                raise Forbidden(DELETE_FORBIDDEN)
        delete_messages(tx, room, [message_id], ctx.clock())


def delete_messages(tx: Tx | RawTx, room: Room, message_ids: list[int], now: float) -> None:
    """A deletion through either API (legacy_messages.py calls it too): the messages' files
    expire and their pins and reactions go with them (store/messages.py)."""
    legacy_store.delete_messages(tx, room, message_ids, now)
