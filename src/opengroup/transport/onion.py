"""Onion request v3 (PROTOCOL.md 1.1-1.2): the JSON inner request, base64 of the encrypted
reply. An endpoint with a leading `/` is a modern API call (SOGS-API.md 2.4)."""

from __future__ import annotations

import base64
from functools import partial
from urllib.parse import parse_qsl

import orjson

from opengroup.api.request import ApiRequest, ApiResponse, headers_from
from opengroup.api.routing import Reply
from opengroup.crypto import OnionCipher, onion_envelope_id, open_onion_request
from opengroup.errors import BadInput
from opengroup.transport.pipeline import Door, HttpRequest, Opened, Outcome
from opengroup.transport.sogs_request import modern_request
from opengroup.usecases.context import ServerContext

ONION_BODY_LIMIT = 10 * 1024 * 1024  # what Service Nodes forward
METHODS = frozenset({"GET", "POST", "DELETE"})
MODERN_METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})
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
    if not isinstance(endpoint, str) or not endpoint:
        raise BadInput("inner 'endpoint' must be a non-empty string")
    modern = endpoint.startswith("/")
    if not isinstance(method, str) or method.upper() not in (MODERN_METHODS if modern else METHODS):
        raise BadInput("inner 'method' must be GET, POST or DELETE")
    if not isinstance(body, str | None):
        raise BadInput("inner 'body' must be a string")
    if not isinstance(raw_headers, dict):
        raise BadInput("inner 'headers' must be an object")
    headers = headers_from(raw_headers)
    if modern:
        raw = body.encode() if body else b""
        return modern_request(method.upper(), endpoint, headers, raw, "onion")
    auth_code = inner.get("auth_code")
    if isinstance(auth_code, str) and auth_code and "authorization" not in headers:
        headers["authorization"] = auth_code
    path, _, query = endpoint.partition("?")
    return ApiRequest(
        method=method.upper(),
        path=path,
        query=dict(parse_qsl(query, keep_blank_values=True)) if query else {},
        headers=headers,
        body=None if body is None or body in NO_BODY else body.encode(),
        transport="onion",
    )


def open_request(ctx: ServerContext, body: bytes, _http: HttpRequest) -> Opened:
    """Decrypt: the cipher for the reply, and the request (or the 400 it earned). Raises
    BadEnvelope when the envelope itself is bad: that is a plain HTTP 400."""
    plaintext, cipher = open_onion_request(ctx.keys, body)
    try:
        request = parse_inner_request(plaintext)
    except BadInput as error:
        return cipher, ApiResponse(400, {"error": error.detail})
    if request.api == "legacy":
        # Computed only if the request writes (most are polls).
        request.envelope = partial(onion_envelope_id, cipher, body)
    return cipher, request


def seal_reply(cipher: object, reply: Reply) -> Outcome:
    assert isinstance(cipher, OnionCipher)
    if isinstance(reply, ApiResponse):
        _, plaintext = reply.encode()
    elif 200 <= reply.status_code < 300:
        _, plaintext = reply.encode()  # a modern reply: its body alone (SOGS-API.md 2.4)
    else:
        plaintext = orjson.dumps({"status_code": reply.status_code})
    return Outcome(200, "text/plain; charset=utf-8", base64.b64encode(cipher.encrypt(plaintext)))


V3 = Door("onion", open_request, seal_reply, counts_envelope_failures=True)
