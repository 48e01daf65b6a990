"""Replies of the modern API (SOGS-API.md 2.3): JSON bodies as `application/json` without a
charset, errors as short `text/plain; charset=utf-8` reasons, files as raw bytes."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
OCTETS = "application/octet-stream"


@dataclass(slots=True)
class SogsReply:
    """`body` is the encoded reply; a JSON reply may instead carry its `value`, encoded only
    when a transport needs bytes (a batch item carries the value itself)."""

    status_code: int
    content_type: str
    body: bytes | None
    headers: dict[str, str] = field(default_factory=dict)
    value: object = None

    def encode(self) -> tuple[str, bytes]:
        if self.body is None:
            self.body = orjson.dumps(self.value)
        return self.content_type, self.body

    def extra_headers(self) -> dict[str, str]:
        return self.headers


@dataclass(slots=True)
class Raw:
    """A handler's non-JSON success: bytes with their content type and headers."""

    body: bytes
    content_type: str = OCTETS
    status_code: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Created:
    """A handler's 201 with a JSON body."""

    value: object


def json_reply(value: object, status: int = 200) -> SogsReply:
    return SogsReply(status, JSON, None, value=value)


def text_reply(status: int, text: str, headers: dict[str, str] | None = None) -> SogsReply:
    return SogsReply(status, TEXT, text.encode(), headers or {})
