"""What a room id and a Session ID may look like (PROTOCOL.md sections 2 and 3)."""

from __future__ import annotations

import re

from ..errors import BadInput

_ROOM_ID = re.compile(r"[0-9a-z_]{2,64}")
_SESSION_ID = re.compile(r"05[0-9a-f]{64}")
_BLINDED_ID = re.compile(r"15[0-9a-f]{64}")

# Paths the server answers itself; a room with one of these ids could not have a join page.
RESERVED_ROOM_IDS = frozenset(
    {"legacy", "loki", "oxen", "metrics", "health", "static", "rooms", "files", "openapi_json"}
    # the modern API's root paths (SOGS-API.md 2.5)
    | {"capabilities", "batch", "sequence", "room", "inbox", "outbox", "user", "favicon_ico"}
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


def _canonical_x25519(hex_key: str) -> bool:
    """An X25519 key's top bit (bit 255) is clear: with it set, the same private key would
    answer to a second Session ID, which could evade a ban of the first."""
    return int(hex_key[-2:], 16) < 0x80


def parse_session_id(value: object) -> str:
    """`05` + 64 hex, compared case-insensitively, returned lowercase; canonical."""
    if not isinstance(value, str):
        raise BadInput("invalid session id")
    lowered = value.lower()
    if not _SESSION_ID.fullmatch(lowered) or not _canonical_x25519(lowered):
        raise BadInput("invalid session id")
    return lowered


def parse_user_id(value: object) -> str:
    """A Session ID (05) or a blinded id (15): `05`/`15` + 64 hex, returned lowercase."""
    if isinstance(value, str) and value.lower().startswith("15"):
        lowered = value.lower()
        if _BLINDED_ID.fullmatch(lowered):
            return lowered
    elif isinstance(value, str) and _SESSION_ID.fullmatch(value.lower()):
        return parse_session_id(value)
    raise BadInput("invalid session id: expected 05 or 15 followed by 64 hex digits")


def check_room_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 256 or any(ord(c) < 32 for c in name):
        raise BadInput("room name must be 1-256 printable characters")
    return name
