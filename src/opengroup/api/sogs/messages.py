"""Messages of the modern API (SOGS-API.md 6.2, 7.3): since, recent, before, one; post,
edit, delete. Rows are shaped here; what they hold comes from usecases/messages.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opengroup.api.request import Call
from opengroup.api.sogs.parsing import b64_field, file_ids, json_object, path_int, query_int
from opengroup.api.sogs.replies import Created
from opengroup.errors import BadInput, TooLarge
from opengroup.rules.limits import take_within
from opengroup.usecases import messages
from opengroup.usecases.messages import MessageRow
from opengroup.usecases.reactions import EmojiSummary

PAGE_DEFAULT, PAGE_MAX = 100, 256
REACTORS_DEFAULT, REACTORS_MAX = 4, 20
SIGNATURE_BYTES = 64


def reactions_json(summaries: dict[str, EmojiSummary] | None, reactors: int) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    for emoji, summary in (summaries or {}).items():
        entry: dict[str, Any] = {"index": summary.index, "count": summary.count}
        if reactors:
            entry["reactors"] = summary.reactors
        if summary.you:
            entry["you"] = True
        shaped[emoji] = entry
    return shaped


def full_row(message: MessageRow, reactions: dict[str, Any] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": message.id,
        "seqno": message.seqno,
        "session_id": message.session_id,
        "posted": message.posted,
        "data": message.data,
        "signature": message.signature,
        "reactions": reactions or {},
    }
    if message.edited is not None:
        row["edited"] = message.edited
    return row


def deleted_row(message: MessageRow) -> dict[str, Any]:
    return {
        "id": message.id,
        "seqno": message.seqno,
        "session_id": message.session_id,
        "posted": message.posted,
        "edited": message.edited if message.edited is not None else message.posted,
        "data": None,
        "deleted": True,
    }


def since_row(
    message: MessageRow, cursor: int, reactions_only: bool, reactions: dict[str, Any]
) -> dict[str, Any]:
    if message.deleted:
        return deleted_row(message)
    if reactions_only and message.seqno_data <= cursor:
        return {"id": message.id, "seqno": message.seqno, "reactions": reactions}
    return full_row(message, reactions)


def _limit(call: Call) -> int:
    return query_int(call.request.query, "limit", default=PAGE_DEFAULT, low=1, high=PAGE_MAX)


# What a message costs in a reply beyond its data and signature (ids, names, punctuation).
ROW_OVERHEAD = 200


def _size(row: MessageRow) -> int:
    return len(row.data or "") + len(row.signature or "") + ROW_OVERHEAD


def _within_budget(
    call: Call,
    first: Callable[[int], messages.Page],
    more: Callable[[MessageRow, int], messages.Page],
) -> messages.Page:
    """The page cut to what the reply's budget holds, read in chunks (rules/limits.py):
    `first(n)` is its start, `more(last, n)` what follows `last`. Clients page on from it."""
    reactions: dict[int, Any] = {}

    def fetch(last: MessageRow | None, n: int) -> list[MessageRow]:
        page = first(n) if last is None else more(last, n)
        reactions.update(page.reactions)
        return page.rows

    rows = take_within(call.reply_budget(), fetch, _size, _limit(call))
    return messages.Page(rows, reactions)


def _reactors(call: Call) -> int:
    query = call.request.query
    return query_int(query, "reactors", default=REACTORS_DEFAULT, low=0, high=REACTORS_MAX)


def _full_rows(page: messages.Page, reactors: int) -> list[dict[str, Any]]:
    return [
        full_row(row, reactions_json(page.reactions.get(row.id), reactors)) for row in page.rows
    ]


def since(call: Call) -> object:
    cursor = path_int(call.params["seqno"])
    reactions_only = call.request.query.get("t") == "r"
    reactors = _reactors(call)

    def since_seqno(seqno: int, n: int) -> messages.Page:
        return messages.since(
            call.ctx, call.params["room"], call.request.user, seqno, n,
            reactions=reactions_only, reactors=reactors,
        )  # fmt: skip

    page = _within_budget(
        call, lambda n: since_seqno(cursor, n), lambda last, n: since_seqno(last.seqno, n)
    )
    return [
        since_row(row, cursor, reactions_only, reactions_json(page.reactions.get(row.id), reactors))
        for row in page.rows
    ]


def recent(call: Call) -> object:
    reactors = _reactors(call)
    room, user = call.params["room"], call.request.user
    page = _within_budget(
        call,
        lambda n: messages.recent(call.ctx, room, user, n, reactors),
        lambda last, n: messages.before(call.ctx, room, user, last.id, n, reactors),
    )
    return _full_rows(page, reactors)


def before(call: Call) -> object:
    message_id = path_int(call.params["id"])
    reactors = _reactors(call)
    room, user = call.params["room"], call.request.user
    page = _within_budget(
        call,
        lambda n: messages.before(call.ctx, room, user, message_id, n, reactors),
        lambda last, n: messages.before(call.ctx, room, user, last.id, n, reactors),
    )
    return _full_rows(page, reactors)


def get_one(call: Call) -> object:
    message_id = path_int(call.params["id"])
    reactors = _reactors(call)
    page = messages.one(call.ctx, call.params["room"], call.request.user, message_id, reactors)
    return _full_rows(page, reactors)[0]


def _content(call: Call) -> tuple[bytes, bytes, list[int]]:
    body = json_object(call.request)
    data = b64_field(body, "data")
    signature = b64_field(body, "signature")
    assert data is not None and signature is not None
    if len(data) > call.ctx.config.max_message_size:
        raise TooLarge(f"message data is larger than {call.ctx.config.max_message_size} bytes")
    if len(signature) != SIGNATURE_BYTES:
        raise BadInput("'signature' must be 64 bytes")
    if body.get("whisper_to") is not None or body.get("whisper_mods"):
        raise BadInput("whispers are not supported by this server")
    return data, signature, file_ids(body)


def post(call: Call) -> object:
    data, signature, files = _content(call)
    posted = messages.post(call.ctx, call.params["room"], call.request.user, data, signature, files)
    return Created(full_row(posted))


def edit(call: Call) -> object:
    message_id = path_int(call.params["id"])
    data, signature, files = _content(call)
    messages.edit(
        call.ctx, call.params["room"], call.request.user, message_id, data, signature, files
    )
    return {}


def delete(call: Call) -> object:
    message_id = path_int(call.params["id"])
    messages.delete(call.ctx, call.params["room"], call.request.user, message_id)
    return {}
