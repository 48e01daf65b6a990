"""Direct messages (SOGS-API.md 7.9): POST /inbox/SID, GET /inbox[/since/N], GET
/outbox[/since/N], DELETE /inbox."""

from __future__ import annotations

import base64
import re
from typing import Any

from opengroup.api.request import Call
from opengroup.api.sogs.parsing import b64_field, json_object, path_int, query_int
from opengroup.api.sogs.replies import TEXT, Created, SogsReply
from opengroup.errors import NotFound
from opengroup.usecases import direct_messages
from opengroup.usecases.direct_messages import DirectMessage

_BLINDED_ID = re.compile(r"15[0-9a-f]{64}")
PAGE_DEFAULT, PAGE_MAX = 100, 256


def _row(dm: DirectMessage, *, with_message: bool = True) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": dm.id,
        "posted_at": dm.posted_at,
        "expires_at": dm.expires_at,
        "sender": dm.sender,
        "recipient": dm.recipient,
    }
    if with_message:
        row["message"] = base64.b64encode(dm.message).decode("ascii")
    return row


def send(call: Call) -> object:
    recipient = call.params["session_id"].lower()
    if not _BLINDED_ID.fullmatch(recipient):
        raise NotFound("direct messages go to blinded (15) ids only")
    message = b64_field(json_object(call.request), "message")
    assert message is not None
    sent = direct_messages.send(call.ctx, call.request.user, recipient, message)
    return Created(_row(sent, with_message=False))


def _list(call: Call, which: str, after: int, *, not_modified_when_empty: bool) -> object:
    limit = query_int(call.request.query, "limit", default=PAGE_DEFAULT, low=1, high=PAGE_MAX)
    found = direct_messages.box(call.ctx, call.request.user, which, after, limit)
    if not found and not_modified_when_empty:
        return SogsReply(304, TEXT, b"")
    return [_row(dm) for dm in found]


def inbox(call: Call) -> object:
    return _list(call, "inbox", 0, not_modified_when_empty=False)


def inbox_since(call: Call) -> object:
    return _list(call, "inbox", path_int(call.params["id"]), not_modified_when_empty=True)


def outbox(call: Call) -> object:
    return _list(call, "outbox", 0, not_modified_when_empty=False)


def outbox_since(call: Call) -> object:
    return _list(call, "outbox", path_int(call.params["id"]), not_modified_when_empty=True)


def clear(call: Call) -> object:
    return {"deleted": direct_messages.clear_inbox(call.ctx, call.request.user)}
