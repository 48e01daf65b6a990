"""Moderation by user (SOGS-API.md 7.7): POST /user/SID/ban, /unban, /moderator; and
DELETE /room/R/all/SID (7.2)."""

from __future__ import annotations

import re
from typing import Any

from opengroup.api.request import Call
from opengroup.api.sogs.parsing import json_object
from opengroup.errors import BadInput, NotFound
from opengroup.rules.ids import parse_user_id
from opengroup.usecases import user_moderation
from opengroup.usecases.user_moderation import EVERY_ROOM, Promotion, Scope

_SESSION_ID = re.compile(r"(05|15)[0-9a-f]{64}")
MAX_TIMEOUT_SECONDS = 100 * 365 * 86_400.0


def _session_id(call: Call) -> str:
    session_id = call.params["session_id"].lower()
    if not _SESSION_ID.fullmatch(session_id):
        raise NotFound("no such user: a 05 or 15 id is expected")
    return parse_user_id(session_id)  # 400 for a 05 id with bit 255 set


def _scope(body: dict[str, Any]) -> Scope:
    rooms, is_global = body.get("rooms"), body.get("global", False)
    if not isinstance(is_global, bool):
        raise BadInput("'global' must be true or false")
    if is_global == (rooms is not None):
        raise BadInput("give exactly one of 'rooms' and 'global': true")
    if is_global:
        return Scope(everywhere=True)
    if (
        not isinstance(rooms, list)
        or not rooms
        or not all(isinstance(token, str) and token for token in rooms)
    ):
        raise BadInput("'rooms' must be a non-empty list of room tokens")
    if EVERY_ROOM in rooms and rooms != [EVERY_ROOM]:
        raise BadInput("'*' stands alone in 'rooms'")
    return Scope(rooms=tuple(dict.fromkeys(rooms)))


def _timeout(body: dict[str, Any]) -> float | None:
    timeout = body.get("timeout")
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise BadInput("'timeout' must be a number of seconds or null")
    if not 0 < timeout <= MAX_TIMEOUT_SECONDS:
        raise BadInput("'timeout' must be positive")
    return float(timeout)


def _flag(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise BadInput(f"'{name}' must be true or false")
    return value


def ban(call: Call) -> object:
    body = json_object(call.request)
    user_moderation.ban(
        call.ctx, call.request.user, _session_id(call), _scope(body), _timeout(body)
    )
    return {}


def unban(call: Call) -> object:
    body = json_object(call.request)
    user_moderation.unban(call.ctx, call.request.user, _session_id(call), _scope(body))
    return {}


def moderator(call: Call) -> object:
    body = json_object(call.request)
    change = Promotion(_flag(body, "moderator"), _flag(body, "admin"), _flag(body, "visible"))
    counters = user_moderation.set_moderator(
        call.ctx, call.request.user, _session_id(call), _scope(body), change
    )
    return {"info_updates": counters}


def delete_all(call: Call) -> object:
    user_moderation.delete_all(call.ctx, call.params["room"], call.request.user, _session_id(call))
    return {}
