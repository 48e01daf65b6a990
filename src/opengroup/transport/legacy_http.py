"""Direct HTTP: the legacy API at /legacy/<endpoint> (status = status_code, same headers,
bodies and replies), and the modern API at its root paths (SOGS-API.md 2.5)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from opengroup.api.request import ApiRequest, headers_from
from opengroup.api.routing import Reply
from opengroup.transport.pipeline import Door, HttpRequest, Opened, Outcome
from opengroup.transport.sogs_request import modern_request
from opengroup.usecases.context import ServerContext

LEGACY_PREFIX = "/legacy/"
LEGACY_BODY_LIMIT = 16 * 1024 * 1024  # a 10 MB file in base64 fits
MODERN_BODY_LIMIT = 10 * 1024 * 1024 + 64 * 1024  # a 10,000,000-byte upload with room to spare


def open_legacy(_ctx: ServerContext, body: bytes, http: HttpRequest) -> Opened:
    # The raw path keeps %2F inside a segment encoded, so it cannot split a room id in two.
    path = http.path[len(LEGACY_PREFIX) :]
    text = body.decode("utf-8", errors="replace").strip() if body else ""
    request = ApiRequest(
        method=http.method,
        path=path,
        query=dict(parse_qsl(http.query, keep_blank_values=True)),
        headers=headers_from(http.headers),
        body=None if text in ("", "null") else body,
        transport="legacy",
    )
    return None, request


def open_modern(_ctx: ServerContext, body: bytes, http: HttpRequest) -> Opened:
    endpoint = f"{http.path}?{http.query}" if http.query else http.path
    return None, modern_request(http.method, endpoint, http.headers, body, "http")


def seal_http(_state: object, reply: Reply) -> Outcome:
    content_type, payload = reply.encode()
    return Outcome(reply.status_code, content_type, payload, reply.extra_headers())


LEGACY_HTTP = Door("legacy", open_legacy, seal_http)
MODERN_HTTP = Door("http", open_modern, seal_http)
