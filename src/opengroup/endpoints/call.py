"""The request every transport produces, and what a handler receives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..context import ServerContext

Reply = dict[str, Any]


@dataclass(slots=True)
class ApiRequest:
    """A v2 API request, whatever carried it.

    `path` has no leading slash and no query; `headers` have lowercase names and string
    values; `body` is None when the client sent none (`""` or `"null"` included).
    """

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    transport: str = "direct"

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass(slots=True)
class ApiResponse:
    status_code: int
    fields: Reply

    def as_json(self) -> Reply:
        return {"status_code": self.status_code, **self.fields}


@dataclass(slots=True)
class Call:
    """One handler invocation: the server, the request and the path parameters."""

    ctx: ServerContext
    request: ApiRequest
    params: Mapping[str, str]
