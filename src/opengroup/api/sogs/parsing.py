"""Small parsers for the modern API's input, each raising its own 4xx (SOGS-API.md 7)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import orjson

from opengroup.api.request import ApiRequest
from opengroup.errors import BadInput, NotFound

_DIGITS = frozenset("0123456789")


def path_int(value: str) -> int:
    """`ID`, `S`, `N` in a path: decimal digits, else no such route (404)."""
    if not value or not _DIGITS.issuperset(value) or len(value) > 18:
        raise NotFound("no such endpoint")
    return int(value)


def query_int(query: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    """An integer query parameter, clamped to [low, high]; 400 when not an integer."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise BadInput(f"query parameter '{name}' must be an integer") from None
    return max(low, min(high, value))


def json_body(request: ApiRequest) -> Any:
    """The body as JSON whatever the content type; an absent body is `{}`."""
    if not request.body:
        return {}
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise BadInput("the body is not valid JSON") from None


def json_object(request: ApiRequest) -> dict[str, Any]:
    body = json_body(request)
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    return body


def b64_field(body: Mapping[str, Any], name: str, *, required: bool = True) -> bytes | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise BadInput(f"'{name}' must be a non-empty base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput(f"'{name}' is not valid base64") from None


def file_ids(body: Mapping[str, Any]) -> list[int]:
    """`files`: integers or strings of decimal digits (Desktop sends strings)."""
    value = body.get("files", [])
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 100:
        raise BadInput("'files' must be a list of file ids")
    ids: list[int] = []
    for item in value:
        if isinstance(item, bool):
            raise BadInput("'files' must hold integers")
        if isinstance(item, int) and item > 0:
            ids.append(item)
        elif isinstance(item, str) and item.isdigit() and item.isascii() and len(item) < 19:
            ids.append(int(item))
        else:
            raise BadInput("'files' must hold integers or decimal strings")
    return ids
