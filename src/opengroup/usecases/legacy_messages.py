"""Messages through the 2021 API (PROTOCOL.md 4): post, read a page, read deletions, delete.

The same message table as the modern API (usecases/messages.py): a deletion from either side
goes through `messages.delete_messages`, so its files and pins go with it alike. The rules
that differ stay as each spec has them: a legacy deletion is the sender's own or a moderator's
(rules/permissions.py). The post rate limit counts the person, as the modern API does.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from opengroup.crypto import session_public_key, verify_session_signature
from opengroup.errors import BadInput
from opengroup.rules.limits import ReplyBudget, take_within
from opengroup.rules.permissions import Actor, OwnedMessage, check_can_delete
from opengroup.store import messages as message_store
from opengroup.store.database import RawTx
from opengroup.store.messages import Deletion as Deletion
from opengroup.store.messages import Message as Message
from opengroup.store.rooms import Room
from opengroup.usecases.context import ServerContext
from opengroup.usecases.legacy_access import known_token_owner, member, token_hash_of
from opengroup.usecases.messages import delete_messages

# Message and Deletion are what these use cases return: imported as themselves (exported),
# so the API shapes them without importing the store.

PAGE_LIMIT = 256


def post(
    ctx: ServerContext,
    room_id: str,
    token: str | None,
    named_sender: str | None,
    data: bytes,
    signature: bytes,
) -> Message:
    """A new message by the token's user: write permission, a valid signature (unless
    verify_signatures is off), the rate limit; one write transaction."""
    # Everything that needs no database is done before the writers' lock is taken.
    token_hash = token_hash_of(token)
    verified_for = _presigned_by(ctx, token_hash, named_sender, data, signature)
    data_text, signature_text = (
        base64.b64encode(data).decode(),
        base64.b64encode(signature).decode(),
    )
    with ctx.db.write_raw() as tx:
        room, actor = member(ctx, tx, room_id, token_hash, need="write")
        if actor.session_id != verified_for and not _signature_valid(ctx, actor, data, signature):
            raise BadInput("invalid signature")
        timestamp = int(ctx.clock() * 1000)
        since = timestamp - int(ctx.config.rate_limit_seconds * 1000)
        # The person's posts under every id (a 05 id is its own root; its 15 ids are in
        # `users`), as the modern API counts them: one limit from both doors.
        sid = actor.session_id
        ctx.rate_limit.check(message_store.count_person_posts_since(tx, room, sid, sid, since))
        return message_store.insert_message(
            tx, room, actor.session_id, timestamp, data_text, signature_text
        )


def _signature_valid(ctx: ServerContext, actor: Actor, data: bytes, signature: bytes) -> bool:
    if not ctx.config.verify_signatures:
        return True
    return verify_session_signature(session_public_key(actor.session_id), data, signature)


def _presigned_by(
    ctx: ServerContext,
    token_hash: bytes | None,
    named_sender: str | None,
    data: bytes,
    signature: bytes,
) -> str | None:
    """Who signed `data`, checked before the write transaction so that SQLite's writers' lock
    is not held for the Ed25519 verification: the token's owner if this process knows it
    already, else the sender the body names. Neither is trusted for who is posting: the
    transaction decides that from the token, and verifies again unless the two agree."""
    if not ctx.config.verify_signatures:
        return None
    candidate = known_token_owner(ctx, token_hash) or named_sender or ""
    try:
        public_key = session_public_key(candidate)
    except ValueError:
        return None
    return candidate.lower() if verify_session_signature(public_key, data, signature) else None


def page(
    ctx: ServerContext,
    room_id: str,
    token: str | None,
    after: int | None,
    limit: int,
    budget: ReplyBudget,
) -> list[Message]:
    """GET messages: after the cursor, ascending; without one, the newest first."""
    token_hash = token_hash_of(token)
    with ctx.db.read_raw() as tx:
        room, _ = member(ctx, tx, room_id, token_hash)
        return messages_within(tx, room, after, limit, budget)


# What a message costs in a reply beyond its data and signature (ids, names, punctuation).
MESSAGE_OVERHEAD = 200


def _size(message: Message) -> int:
    return len(message.data) + len(message.signature) + MESSAGE_OVERHEAD


def messages_within(
    rtx: RawTx, room: Room, after: int | None, limit: int, budget: ReplyBudget
) -> list[Message]:
    """The page (after the cursor, ascending; without one, the newest first) cut to what the
    reply's budget holds: the client asks again from the last message it got."""

    def fetch(last: Message | None, n: int) -> list[Message]:
        if last is None:
            return message_store.get_messages(rtx, room, after, n)
        if after is None:
            return message_store.get_messages_before(rtx, room, last.server_id, n)
        return message_store.get_messages(rtx, room, last.server_id, n)

    return take_within(budget, fetch, _size, limit)


def deletions(
    ctx: ServerContext, room_id: str, token: str | None, after: int | None, limit: int
) -> list[Deletion]:
    """GET deleted_messages: after the cursor, ascending; without one, the newest first."""
    token_hash = token_hash_of(token)
    with ctx.db.read_raw() as tx:
        room, _ = member(ctx, tx, room_id, token_hash)
        return message_store.get_deletions(tx, room, after, limit)


def delete(ctx: ServerContext, room_id: str, token: str | None, server_ids: Sequence[int]) -> None:
    """All or nothing: every id must be a message of the room (404), the caller's own unless
    they moderate it (403). Messages already deleted are skipped (deleting twice is a no-op)."""
    token_hash = token_hash_of(token)
    with ctx.db.write() as tx:
        room, actor = member(ctx, tx, room_id, token_hash)
        owners = message_store.get_owners(tx, room, server_ids)
        check_can_delete(
            actor, server_ids, [OwnedMessage(owner.server_id, owner.session_id) for owner in owners]
        )
        live = [owner.server_id for owner in owners if not owner.deleted]
        delete_messages(tx, room, live, ctx.clock())
