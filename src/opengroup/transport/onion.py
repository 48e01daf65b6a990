"""The v3 onion transport (PROTOCOL.md 1.1-1.2): decrypt, dispatch, encrypt the reply."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl

import orjson

from ..context import ServerContext
from ..crypto import OnionCipher, open_onion_request
from ..endpoints.call import ApiRequest, ApiResponse
from ..endpoints.routes import headers_from
from ..errors import BadInput
from .version import OnionVersion

ONION_BODY_LIMIT = 10 * 1024 * 1024  # what Service Nodes forward
METHODS = frozenset({"GET", "POST", "DELETE"})
NO_BODY = ("", "null")


def parse_inner_request(plaintext: bytes) -> ApiRequest:
    """The decrypted `{"method", "endpoint", "body", "headers"}` as an ApiRequest."""
    try:
        inner = orjson.loads(plaintext)
    except orjson.JSONDecodeError:
        raise BadInput("inner request is not JSON") from None
    if not isinstance(inner, dict):
        raise BadInput("inner request must be a JSON object")
    method, endpoint, body = inner.get("method"), inner.get("endpoint"), inner.get("body")
    raw_headers = inner.get("headers") or {}
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise BadInput("inner 'method' must be GET, POST or DELETE")
    if not isinstance(endpoint, str) or not endpoint:
        raise BadInput("inner 'endpoint' must be a non-empty string")
    if not isinstance(body, str | None):
        raise BadInput("inner 'body' must be a string")
    if not isinstance(raw_headers, dict):
        raise BadInput("inner 'headers' must be an object")
    headers = headers_from(raw_headers)
    auth_code = inner.get("auth_code")
    if isinstance(auth_code, str) and auth_code and "authorization" not in headers:
        headers["authorization"] = auth_code
    path, _, query = endpoint.lstrip("/").partition("?")
    return ApiRequest(
        method=method.upper(),
        path=path,
        query=dict(parse_qsl(query, keep_blank_values=True)) if query else {},
        headers=headers,
        body=None if body is None or body in NO_BODY else body.encode(),
        transport="onion",
    )


def open_request(ctx: ServerContext, body: bytes) -> tuple[OnionCipher, ApiRequest | ApiResponse]:
    """Decrypt: the cipher for the reply, and the request (or the 400 it earned). Raises
    BadEnvelope when the envelope itself is bad: that is a plain HTTP 400."""
    plaintext, cipher = open_onion_request(ctx.keys, body)
    try:
        return cipher, parse_inner_request(plaintext)
    except BadInput as error:
        return cipher, ApiResponse(400, {"error": error.detail})


def seal_reply(cipher: OnionCipher, response: ApiResponse) -> bytes:
    return base64.b64encode(cipher.encrypt(orjson.dumps(response.as_json())))


V3 = OnionVersion(open_request, seal_reply)


def handle_onion_request(ctx: ServerContext, body: bytes) -> tuple[int, bytes]:
    """(HTTP status, body), all in one call: see OnionVersion.handle."""
    return V3.handle(ctx, body)
