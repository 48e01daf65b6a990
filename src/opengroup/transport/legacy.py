"""Direct HTTP at /legacy/<endpoint>: same headers, bodies and replies; status = status_code."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from ..endpoints.call import ApiRequest
from ..endpoints.routes import headers_from

LEGACY_PREFIX = "/legacy/"
LEGACY_BODY_LIMIT = 16 * 1024 * 1024  # a 10 MB file in base64 fits


def to_api_request(request: Request, body: bytes) -> ApiRequest:
    # The raw path keeps %2F inside a segment encoded, so it cannot split a room id in two.
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    path = raw_path.decode("latin-1").split("?", 1)[0][len(LEGACY_PREFIX) :]
    text = body.decode("utf-8", errors="replace").strip() if body else ""
    return ApiRequest(
        method=request.method,
        path=path,
        query=dict(parse_qsl(request.url.query, keep_blank_values=True)),
        headers=headers_from(dict(request.headers)),
        body=None if text in ("", "null") else body,
        transport="legacy",
    )
