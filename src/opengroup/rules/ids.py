"""What a room id and a Session ID may look like (PROTOCOL.md sections 2 and 3)."""

from __future__ import annotations

import re

from ..errors import BadInput

_ROOM_ID = re.compile(r"[0-9a-z_]{2,64}")
_SESSION_ID = re.compile(r"05[0-9a-f]{64}")

# Paths the server answers itself; a room with one of these ids could not have a join page.
RESERVED_ROOM_IDS = frozenset(
    {"legacy", "loki", "oxen", "metrics", "health", "static", "rooms", "files", "openapi_json"}
)


def is_valid_room_id(room_id: str) -> bool:
    return bool(_ROOM_ID.fullmatch(room_id)) and not room_id.isdigit()


def parse_room_id(value: object) -> str:
    """A room id as a client sends it: must be a string of [0-9a-z_], 2-64, not all digits."""
    if not isinstance(value, str) or not is_valid_room_id(value):
        raise BadInput("invalid room id")
    return value


def check_new_room_id(room_id: str) -> str:
    """A room id an operator wants to create: the client rules, and not one of our paths."""
    if not is_valid_room_id(room_id):
        raise BadInput(
            f"invalid room id {room_id!r}: use 2-64 characters of a-z, 0-9 and _, not all digits"
        )
    if room_id in RESERVED_ROOM_IDS:
        raise BadInput(f"room id {room_id!r} is reserved for the server's own paths")
    return room_id


def parse_session_id(value: object) -> str:
    """`05` + 64 hex, compared case-insensitively, returned lowercase."""
    if not isinstance(value, str):
        raise BadInput("invalid session id")
    lowered = value.lower()
    if not _SESSION_ID.fullmatch(lowered):
        raise BadInput("invalid session id")
    return lowered


def check_room_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 256 or any(ord(c) < 32 for c in name):
        raise BadInput("room name must be 1-256 printable characters")
    return name
