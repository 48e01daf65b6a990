"""The v3 onion transport (PROTOCOL.md 1.1-1.2): decrypt, dispatch, encrypt the reply."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl

import orjson

from ..context import ServerContext
from ..crypto import BadEnvelope, open_onion_request
from ..endpoints.call import ApiRequest, ApiResponse
from ..endpoints.routes import dispatch, headers_from
from ..errors import BadInput

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
        query=dict(parse_qsl(query, keep_blank_values=True)),
        headers=headers,
        body=None if body is None or body in NO_BODY else body.encode(),
        transport="onion",
    )


def handle_onion_request(ctx: ServerContext, body: bytes) -> tuple[int, bytes]:
    """(HTTP status, body). Envelope errors are plain 400s; everything after decryption is an
    encrypted JSON reply with its own status_code."""
    try:
        plaintext, cipher = open_onion_request(ctx.keys, body)
    except BadEnvelope as error:
        return 400, f"Invalid onion request: {error}".encode()
    try:
        response = dispatch(ctx, parse_inner_request(plaintext))
    except BadInput as error:
        response = ApiResponse(400, {"error": error.detail})
    reply = orjson.dumps(response.as_json())
    return 200, base64.b64encode(cipher.encrypt(reply))
