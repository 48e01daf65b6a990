"""POST messages, GET messages, POST delete_messages, DELETE messages/:id, GET deleted_messages."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from opengroup.api.legacy import access
from opengroup.api.legacy.parsing import (
    base64_field,
    json_object,
    optional_int,
    path_int,
    query_int,
)
from opengroup.api.request import Call, Reply
from opengroup.crypto import session_public_key, verify_session_signature
from opengroup.errors import BadInput
from opengroup.rules.limits import ReplyBudget, take_within
from opengroup.rules.permissions import Actor, OwnedMessage, check_can_delete
from opengroup.store import Tx
from opengroup.store import messages as message_store
from opengroup.store.access import RoomAccess
from opengroup.store.database import RawTx
from opengroup.store.messages import Deletion, Message
from opengroup.store.rooms import Room

PAGE_LIMIT = 256
MAX_DELETE_BATCH = 1024
SIGNATURE_BYTES = 64
MAX_SIGNATURE_FIELD = 1024  # decoded only to say clearly that it is not 64 bytes


def message_json(message: Message) -> Reply:
    return {
        "server_id": message.server_id,
        "public_key": message.session_id,
        "timestamp": message.timestamp,
        "data": message.data,
        "signature": message.signature,
    }


def deletion_json(deletion: Deletion) -> Reply:
    return {"id": deletion.id, "deleted_message_id": deletion.message_id}


def post_message(call: Call) -> Reply:
    ctx = call.ctx
    body = json_object(call.request)
    data = base64_field(body, "data", ctx.config.max_message_size, "message data")
    signature = base64_field(body, "signature", MAX_SIGNATURE_FIELD, "signature")
    if len(signature) != SIGNATURE_BYTES:
        raise BadInput("signature must be 64 bytes")
    timestamp = body.get("timestamp")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float | None):
        raise BadInput("'timestamp' must be a number")
    named_sender = body.get("public_key")
    if not isinstance(named_sender, str | None):
        raise BadInput("'public_key' must be a string")
    # Everything that needs no database is done before the writers' lock is taken.
    credentials = access.header_credentials(call)
    verified_for = _presigned_by(call, credentials[1], named_sender, data, signature)
    data_text, signature_text = (
        base64.b64encode(data).decode(),
        base64.b64encode(signature).decode(),
    )
    with ctx.db.write_raw() as tx:
        room, actor = access.basic_as(call, tx, credentials, need="write")
        if actor.session_id != verified_for and not _signature_valid(call, actor, data, signature):
            raise BadInput("invalid signature")
        timestamp = int(ctx.clock() * 1000)
        since = timestamp - int(ctx.config.rate_limit_seconds * 1000)
        ctx.rate_limit.check(message_store.count_posts_since(tx, room, actor.session_id, since))
        message = message_store.insert_message(
            tx, room, actor.session_id, timestamp, data_text, signature_text
        )
    return {"message": message_json(message)}


def _signature_valid(call: Call, actor: Actor, data: bytes, signature: bytes) -> bool:
    if not call.ctx.config.verify_signatures:
        return True
    return verify_session_signature(session_public_key(actor.session_id), data, signature)


def _presigned_by(
    call: Call, token_hash: bytes | None, named_sender: str | None, data: bytes, signature: bytes
) -> str | None:
    """Who signed `data`, checked before the write transaction so that SQLite's writers' lock
    is not held for the Ed25519 verification: the token's owner if this process knows it
    already, else the sender the body names. Neither is trusted for who is posting: the
    transaction decides that from the token, and verifies again unless the two agree."""
    if not call.ctx.config.verify_signatures:
        return None
    candidate = access.known_token_owner(call, token_hash) or named_sender or ""
    try:
        public_key = session_public_key(candidate)
    except ValueError:
        return None
    return candidate.lower() if verify_session_signature(public_key, data, signature) else None


def _page(call: Call) -> tuple[int | None, int]:
    """`from_server_id` and `limit` of GET messages and GET deleted_messages."""
    after = query_int(call.request, "from_server_id", default=None, minimum=0, maximum=None)
    limit = query_int(call.request, "limit", default=PAGE_LIMIT, minimum=1, maximum=PAGE_LIMIT)
    return after, limit or PAGE_LIMIT


def get_messages(call: Call) -> Reply:
    after, limit = _page(call)
    with call.ctx.db.read_raw() as tx:
        room, _ = access.basic(call, tx)
        found = messages_within(tx, room, after, limit, call.reply_budget())
    return {"messages": [message_json(message) for message in found]}


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


def get_deletions(call: Call) -> Reply:
    after, limit = _page(call)
    with call.ctx.db.read_raw() as tx:
        room, _ = access.basic(call, tx)
        found = message_store.get_deletions(tx, room, after, limit)
    return {"ids": [deletion_json(deletion) for deletion in found]}


DELETION_SIZE = 40


def _left(budget: ReplyBudget) -> int:
    return max(1, min(PAGE_LIMIT, budget.items_left))


def delete_batch(call: Call) -> Reply:
    ids = json_object(call.request).get("ids")
    if not isinstance(ids, list) or len(ids) > MAX_DELETE_BATCH:
        raise BadInput(f"'ids' must be a list of at most {MAX_DELETE_BATCH} integers")
    server_ids = [optional_int(value, "ids") for value in ids]
    if any(value is None for value in server_ids):
        raise BadInput("'ids' must hold integers only")
    with call.ctx.db.write() as tx:
        room, actor = access.basic(call, tx)
        delete_messages(tx, room, actor, [value for value in server_ids if value is not None])
    return {}


def delete_one(call: Call) -> Reply:
    server_id = path_int(call.params["server_id"], "message id")
    with call.ctx.db.write() as tx:
        room, actor = access.basic(call, tx)
        delete_messages(tx, room, actor, [server_id])
    return {}


def delete_messages(tx: Tx, room: Room, actor: Actor, server_ids: Sequence[int]) -> None:
    """All or nothing; messages already deleted are skipped (deleting twice is a no-op)."""
    owners = message_store.get_owners(tx, room, server_ids)
    check_can_delete(
        actor, server_ids, [OwnedMessage(owner.server_id, owner.session_id) for owner in owners]
    )
    message_store.delete_messages(tx, room, [o.server_id for o in owners if not o.deleted])


def poll_room(
    rtx: RawTx,
    room_access: RoomAccess,
    after_message: int | None,
    after_deletion: int | None,
    budget: ReplyBudget,
) -> Reply:
    """The messages and deletions part of one compact_poll result, within what is left of
    the poll's budget. A cursor at the room's newest id, or a room that never had any, means
    nothing new: most polls end here without a query."""
    room = room_access.room
    new_messages = room_access.message_seq > (after_message or 0) and not budget.spent
    found = messages_within(rtx, room, after_message, PAGE_LIMIT, budget) if new_messages else []
    deleted: list[Deletion] = []
    if room_access.deletion_seq > (after_deletion or 0) and not budget.spent:
        deleted = message_store.get_deletions(rtx, room, after_deletion, _left(budget))
        deleted = deleted[: budget.take([DELETION_SIZE] * len(deleted))]
    return {
        "messages": [message_json(message) for message in found],
        "deletions": [deletion_json(deletion) for deletion in deleted],
    }
