"""The request every transport produces, and what a handler receives."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from opengroup.rules.limits import ReplyBudget

if TYPE_CHECKING:
    from opengroup.usecases.context import ServerContext
    from opengroup.usecases.identity import SignedUser

Reply = dict[str, Any]
JSON = "application/json"
RETRY_SOON = {"retry-after": "1"}


@dataclass(slots=True)
class ApiRequest:
    """An API request, whatever carried it.

    `path` has no leading slash and no query; `headers` have lowercase names and string
    values; `body` is None when the client sent none (`""` or `"null"` included).
    """

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    transport: str = "direct"
    # Which API's table serves it: "legacy" (PROTOCOL.md) or "sogs" (SOGS-API.md).
    api: str = "legacy"
    # The query string exactly as received (the modern API signs it undecoded).
    raw_query: str = ""
    # Modern API: who signed it (None: anonymous), once `authenticated`; sub-requests of a
    # batch inherit both from the batch (SOGS-API.md 3.2).
    user: SignedUser | None = None
    authenticated: bool = False
    # What this request's reply may still carry (rules/limits.py); batch items share it.
    budget: ReplyBudget | None = None
    # Onion requests of the legacy API: the id of the envelope that carried it
    # (crypto.onion_envelope_id). A request that writes records it; the same is then refused.
    envelope: Callable[[], bytes] | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass(slots=True)
class ApiResponse:
    status_code: int
    fields: Reply

    def as_json(self) -> Reply:
        return {"status_code": self.status_code, **self.fields}

    def encode(self) -> tuple[str, bytes]:
        return JSON, orjson.dumps(self.as_json())

    def extra_headers(self) -> dict[str, str]:
        # 503: the writers' lock or a conflict; the client may try again at once.
        return RETRY_SOON if self.status_code == 503 else {}


@dataclass(slots=True)
class Call:
    """One handler invocation: the server, the request and the path parameters."""

    ctx: ServerContext
    request: ApiRequest
    params: Mapping[str, str]

    def reply_budget(self) -> ReplyBudget:
        """The request's reply budget, from the settings on first use (a batch's items share
        their batch's)."""
        if self.request.budget is None:
            config = self.ctx.config
            self.request.budget = ReplyBudget(config.max_reply_messages, config.max_reply_bytes)
        return self.request.budget


def headers_from(raw: Mapping[str, object]) -> dict[str, str]:
    """Header names are case-insensitive; Android sends digit-only values as numbers and
    true/false as booleans: turn every value back into the string the client meant."""
    converted: dict[str, str] = {}
    for name, value in raw.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            continue
        else:
            text = str(value)
        converted[str(name).lower()] = text
    return converted
