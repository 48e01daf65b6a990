"""POST /room/R/pin/ID, /unpin/ID, /unpin/all (SOGS-API.md 7.5)."""

from __future__ import annotations

from opengroup.api.request import Call
from opengroup.api.sogs.parsing import json_object, path_int
from opengroup.usecases import pins


def pin(call: Call) -> object:
    message_id = path_int(call.params["id"])
    json_object(call.request)  # `{}` or nothing; anything else is a 400
    return {"info_updates": pins.pin(call.ctx, call.params["room"], call.request.user, message_id)}


def unpin(call: Call) -> object:
    message_id = path_int(call.params["id"])
    json_object(call.request)
    done = pins.unpin(call.ctx, call.params["room"], call.request.user, message_id)
    return {"unpinned": done.count > 0, "info_updates": done.info_updates}


def unpin_all(call: Call) -> object:
    json_object(call.request)
    done = pins.unpin(call.ctx, call.params["room"], call.request.user, None)
    return {"unpinned": done.count, "info_updates": done.info_updates}
