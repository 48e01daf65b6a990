"""Permission overrides (SOGS-API.md 7.10, no client calls them): GET /room/R/permissions,
GET and POST /room/R/permissions/SID. Moderators only."""

from __future__ import annotations

import re
from typing import Any

from opengroup.api.request import Call
from opengroup.api.sogs.parsing import json_object
from opengroup.errors import BadInput, NotFound
from opengroup.rules.ids import parse_user_id
from opengroup.usecases import permissions
from opengroup.usecases.permissions import PERMISSIONS, Override, OverrideRow

_SESSION_ID = re.compile(r"(05|15)[0-9a-f]{64}")


def _row(row: OverrideRow) -> dict[str, Any]:
    shaped: dict[str, Any] = {"session_id": row.named_as}
    for name in PERMISSIONS:
        value = getattr(row.override, name)
        if value is not None:
            shaped[name] = value
    if row.expires_at is not None:
        shaped["expires_at"] = row.expires_at
    return shaped


def _session_id(call: Call) -> str:
    session_id = call.params["session_id"].lower()
    if not _SESSION_ID.fullmatch(session_id):
        raise NotFound("no such user: a 05 or 15 id is expected")
    return parse_user_id(session_id)  # 400 for a 05 id with bit 255 set


def list_all(call: Call) -> object:
    rows = permissions.moderate_override(
        call.ctx, call.params["room"], call.request.user, None, None
    )
    return [_row(row) for row in rows]


def get_one(call: Call) -> object:
    rows = permissions.moderate_override(
        call.ctx, call.params["room"], call.request.user, _session_id(call), None
    )
    return _row(rows[0]) if rows else {}


def set_one(call: Call) -> object:
    body = json_object(call.request)
    values: dict[str, bool | None] = {}
    for name in PERMISSIONS:
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            raise BadInput(f"'{name}' must be true, false or null")
        values[name] = value
    if not any(name in body for name in PERMISSIONS):
        raise BadInput("give at least one of read, accessible, write, upload")
    duration = body.get("for")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0
    ):
        raise BadInput("'for' must be a positive number of seconds")
    cleared = frozenset(name for name in PERMISSIONS if name in body and body[name] is None)
    rows = permissions.moderate_override(
        call.ctx, call.params["room"], call.request.user, _session_id(call),
        Override(**values), None if duration is None else float(duration), cleared,
    )  # fmt: skip
    return _row(rows[0]) if rows else {}
