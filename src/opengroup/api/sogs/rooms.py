"""GET /rooms, GET /room/R, GET /room/R/pollInfo/N (SOGS-API.md 6.3, 7.2)."""

from __future__ import annotations

from typing import Any

from opengroup.api.request import Call
from opengroup.api.sogs.parsing import json_object, path_int
from opengroup.errors import BadInput
from opengroup.rules.permissions import Permissions
from opengroup.rules.room_text import clean_description, clean_room_name
from opengroup.usecases import room_info, room_settings
from opengroup.usecases.room_info import ACTIVE_USERS_CUTOFF, RoomDetails
from opengroup.usecases.room_settings import RoomChanges


def _flags(permissions: Permissions, reply: dict[str, Any]) -> None:
    """`moderator`, `admin`, `global_*` only when true, and the defaults for moderators."""
    standing = permissions.standing
    for name, value in (
        ("moderator", standing.moderator),
        ("admin", standing.admin),
        ("global_moderator", standing.global_moderator),
        ("global_admin", standing.global_admin),
    ):
        if value:
            reply[name] = True


def _defaults(details_or_view: RoomDetails, reply: dict[str, Any]) -> None:
    info = details_or_view.view.info
    reply["default_read"] = info.default_read
    reply["default_accessible"] = info.default_accessible
    reply["default_write"] = info.default_write
    reply["default_upload"] = info.default_upload


def pinned_json(details: RoomDetails) -> list[dict[str, Any]]:
    """`pinned_messages` (SOGS-API.md 6.3): oldest pin first."""
    return [
        {"id": pin.message_id, "pinned_at": pin.pinned_at, "pinned_by": pin.pinned_by}
        for pin in details.pins
    ]


def room_json(details: RoomDetails) -> dict[str, Any]:
    view = details.view
    info, permissions = view.info, view.permissions
    reply: dict[str, Any] = {"token": info.room.id, "name": info.room.name}
    if info.description:
        reply["description"] = info.description
    reply.update(
        info_updates=info.info_updates,
        message_sequence=info.seqno,
        created=info.created,
        active_users=details.active_users,
        active_users_cutoff=ACTIVE_USERS_CUTOFF,
    )
    if info.room.image_id is not None:
        reply["image_id"] = info.room.image_id
    if details.pins:
        reply["pinned_messages"] = pinned_json(details)
    moderators: list[str] = []
    admins: list[str] = []
    hidden_moderators: list[str] = []
    hidden_admins: list[str] = []
    for grant in details.moderators:
        shown = grant.blinded_id or grant.named_as
        if grant.admin:
            (admins if grant.visible else hidden_admins).append(shown)
        else:
            (moderators if grant.visible else hidden_moderators).append(shown)
    reply["moderators"] = sorted(moderators)
    reply["admins"] = sorted(admins)
    if permissions.moderator:
        if hidden_moderators:
            reply["hidden_moderators"] = sorted(hidden_moderators)
        if hidden_admins:
            reply["hidden_admins"] = sorted(hidden_admins)
    reply.update(read=permissions.read, write=permissions.write, upload=permissions.upload)
    if permissions.moderator:
        _defaults(details, reply)
    _flags(permissions, reply)
    return reply


def list_rooms(call: Call) -> object:
    return [room_json(details) for details in room_info.rooms(call.ctx, call.request.user)]


def get_room(call: Call) -> object:
    return room_json(room_info.room(call.ctx, call.params["room"], call.request.user))


def poll_info(call: Call) -> object:
    known = path_int(call.params["info_updates"])
    polled = room_info.poll_info(call.ctx, call.params["room"], call.request.user, known)
    permissions = polled.view.permissions
    reply: dict[str, Any] = {
        "token": polled.view.info.room.id,
        "active_users": polled.active_users,
        "read": permissions.read,
        "write": permissions.write,
        "upload": permissions.upload,
    }
    if polled.details is not None:
        reply["details"] = room_json(polled.details)
    if permissions.moderator:
        info = polled.view.info
        reply.update(
            default_read=info.default_read,
            default_accessible=info.default_accessible,
            default_write=info.default_write,
            default_upload=info.default_upload,
        )
    _flags(permissions, reply)
    return reply


DEFAULT_FIELDS = ("read", "accessible", "write", "upload")
_MAX_ID = 2**53


def _file_id(value: object) -> int:
    """`image`: a file id, as a JSON integer or a string of decimal digits."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < _MAX_ID:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 17:
        return int(value)
    raise BadInput("'image' must be a file id")


def room_changes(body: dict[str, Any]) -> RoomChanges:
    """The body of PUT /room/R: 400 without any known field, or with one of a wrong type."""
    defaults: dict[str, bool] = {}
    for name in DEFAULT_FIELDS:
        if f"default_{name}" in body:
            flag = body[f"default_{name}"]
            if not isinstance(flag, bool):
                raise BadInput(f"'default_{name}' must be true or false")
            defaults[name] = flag
    known = {"name", "description", "image"} & body.keys()
    if not known and not defaults:
        raise BadInput("give at least one of name, description, image, default_*")
    return RoomChanges(
        name=clean_room_name(body["name"]) if "name" in body else None,
        change_description="description" in body,
        description=clean_description(body.get("description")),
        image=_file_id(body["image"]) if "image" in body else None,
        defaults=defaults,
    )


def update_room(call: Call) -> object:
    changes = room_changes(json_object(call.request))
    updated = room_settings.update_room(call.ctx, call.params["room"], call.request.user, changes)
    return {"info_updates": updated}
