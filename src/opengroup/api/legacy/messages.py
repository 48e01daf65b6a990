"""POST messages, GET messages, POST delete_messages, DELETE messages/:id, GET deleted_messages.
Parse, call the use case (usecases/legacy_messages.py), shape."""

from __future__ import annotations

from opengroup.api.legacy.headers import room_header, token_header
from opengroup.api.legacy.parsing import (
    base64_field,
    json_object,
    optional_int,
    path_int,
    query_int,
)
from opengroup.api.request import Call, Reply
from opengroup.errors import BadInput
from opengroup.usecases import legacy_messages
from opengroup.usecases.legacy_messages import PAGE_LIMIT, Deletion, Message

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
    posted = legacy_messages.post(
        ctx, room_header(call), token_header(call), named_sender, data, signature
    )
    return {"message": message_json(posted)}


def _page(call: Call) -> tuple[int | None, int]:
    """`from_server_id` and `limit` of GET messages and GET deleted_messages."""
    after = query_int(call.request, "from_server_id", default=None, minimum=0, maximum=None)
    limit = query_int(call.request, "limit", default=PAGE_LIMIT, minimum=1, maximum=PAGE_LIMIT)
    return after, limit or PAGE_LIMIT


def get_messages(call: Call) -> Reply:
    after, limit = _page(call)
    found = legacy_messages.page(
        call.ctx, room_header(call), token_header(call), after, limit, call.reply_budget()
    )
    return {"messages": [message_json(message) for message in found]}


def get_deletions(call: Call) -> Reply:
    after, limit = _page(call)
    found = legacy_messages.deletions(call.ctx, room_header(call), token_header(call), after, limit)
    return {"ids": [deletion_json(deletion) for deletion in found]}


def delete_batch(call: Call) -> Reply:
    ids = json_object(call.request).get("ids")
    if not isinstance(ids, list) or len(ids) > MAX_DELETE_BATCH:
        raise BadInput(f"'ids' must be a list of at most {MAX_DELETE_BATCH} integers")
    server_ids = [optional_int(value, "ids") for value in ids]
    if any(value is None for value in server_ids):
        raise BadInput("'ids' must hold integers only")
    wanted = [value for value in server_ids if value is not None]
    legacy_messages.delete(call.ctx, room_header(call), token_header(call), wanted)
    return {}


def delete_one(call: Call) -> Reply:
    server_id = path_int(call.params["server_id"], "message id")
    legacy_messages.delete(call.ctx, room_header(call), token_header(call), [server_id])
    return {}
