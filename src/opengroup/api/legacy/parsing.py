"""Small parsers for input at the edge; each raises BadInput with a message naming the field."""

from __future__ import annotations

import binascii
from typing import Any

import orjson

from opengroup.api.request import ApiRequest
from opengroup.errors import BadInput, TooLarge
from opengroup.rules.limits import base64_decoded_size_floor, check_size

# The widest integer both databases store (SQLite INTEGER, PostgreSQL BIGINT): a larger id or
# cursor from a client would overflow in the driver, so it is bad input, not a server error.
MAX_INT = 2**63 - 1


def json_object(request: ApiRequest) -> dict[str, Any]:
    if request.body is None:
        raise BadInput("a JSON object body is required")
    try:
        value = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise BadInput("body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadInput("body must be a JSON object")
    return value


def required(obj: dict[str, Any], name: str) -> Any:
    if obj.get(name) is None:
        raise BadInput(f"missing field {name!r}")
    return obj[name]


def string_field(obj: dict[str, Any], name: str) -> str:
    value = required(obj, name)
    if not isinstance(value, str):
        raise BadInput(f"field {name!r} must be a string")
    return value


def optional_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name!r} must be an integer")
    if not -MAX_INT <= value <= MAX_INT:
        raise BadInput(f"{name!r} is out of range")
    return value


def base64_field(obj: dict[str, Any], name: str, max_size: int, what: str) -> bytes:
    """Decode strict standard base64, refusing oversized input before decoding it."""
    encoded = string_field(obj, name)
    if base64_decoded_size_floor(len(encoded)) > max_size:
        raise TooLarge(f"{what} is larger than the limit of {max_size} bytes")
    try:
        # strict_mode still lets excess padding through ("YWJj===="): refuse it too.
        if len(encoded) % 4 or encoded.endswith("==="):
            raise binascii.Error
        decoded = binascii.a2b_base64(encoded, strict_mode=True)
    except (binascii.Error, ValueError):
        raise BadInput(f"field {name!r} is not valid base64") from None
    check_size(len(decoded), max_size, what)
    return decoded


def query_int(
    request: ApiRequest, name: str, *, default: int | None, minimum: int, maximum: int | None
) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "" or raw == "null":
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise BadInput(f"query parameter {name!r} must be an integer") from None
    if value < minimum:
        raise BadInput(f"query parameter {name!r} must be at least {minimum}")
    if value > MAX_INT:
        raise BadInput(f"query parameter {name!r} is out of range")
    return value if maximum is None else min(value, maximum)


def path_int(value: str, name: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 19 or int(value) > MAX_INT:
        raise BadInput(f"{name} must be a non-negative integer below 2^63")
    return int(value)
