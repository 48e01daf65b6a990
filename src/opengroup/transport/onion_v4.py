"""The v4 onion transport (PROTOCOL.md 1.3, later clients): same envelope as v3, but the
plaintext is a bencoded list `l<meta JSON>[<body>]e` and the reply is the encrypted (not
base64) bencoded list `l<{"code": N, "headers": {...}}><body>e`. Only /legacy/ endpoints."""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson

from ..context import ServerContext
from ..crypto import BadEnvelope, open_onion_request
from ..endpoints.call import ApiRequest, ApiResponse
from ..endpoints.routes import dispatch, headers_from
from ..errors import BadInput, NotFound
from .onion import METHODS

LEGACY_PREFIX = "/legacy/"
REPLY_HEADERS = {"content-type": "application/json"}


def bencode_strings(items: list[bytes]) -> bytes:
    return b"l" + b"".join(b"%d:%s" % (len(item), item) for item in items) + b"e"


def bdecode_strings(data: bytes) -> list[bytes]:
    """A bencoded list of byte strings, and nothing else."""
    if data[:1] != b"l" or data[-1:] != b"e":
        raise BadInput("v4 payload must be a bencoded list")
    items: list[bytes] = []
    position = 1
    while position < len(data) - 1:
        colon = data.find(b":", position, position + 12)
        length = data[position:colon]
        if colon < 0 or not length.isdigit():
            raise BadInput("v4 payload must hold byte strings only")
        start = colon + 1
        end = start + int(length)
        if end > len(data) - 1:
            raise BadInput("v4 payload is truncated")
        items.append(data[start:end])
        position = end
    return items


def parse_v4_request(plaintext: bytes) -> ApiRequest:
    items = bdecode_strings(plaintext)
    if len(items) not in (1, 2):
        raise BadInput("v4 payload must be [meta] or [meta, body]")
    try:
        meta = orjson.loads(items[0])
    except orjson.JSONDecodeError:
        raise BadInput("v4 meta is not JSON") from None
    if not isinstance(meta, dict):
        raise BadInput("v4 meta must be a JSON object")
    method, endpoint, raw_headers = meta.get("method"), meta.get("endpoint"), meta.get("headers")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise BadInput("v4 'method' must be GET, POST or DELETE")
    if not isinstance(endpoint, str):
        raise BadInput("v4 'endpoint' must be a string")
    if not isinstance(raw_headers, dict | None):
        raise BadInput("v4 'headers' must be an object")
    if not endpoint.startswith(LEGACY_PREFIX):
        raise NotFound("only /legacy/ endpoints are served here")
    path, _, query = endpoint[len(LEGACY_PREFIX) :].partition("?")
    body = items[1] if len(items) == 2 and items[1] not in (b"", b"null") else None
    return ApiRequest(
        method=method.upper(),
        path=path,
        query=dict(parse_qsl(query, keep_blank_values=True)),
        headers=headers_from(raw_headers or {}),
        body=body,
        transport="onion_v4",
    )


def handle_onion_v4_request(ctx: ServerContext, body: bytes) -> tuple[int, bytes]:
    try:
        plaintext, cipher = open_onion_request(ctx.keys, body)
    except BadEnvelope as error:
        return 400, f"Invalid onion request: {error}".encode()
    try:
        response = dispatch(ctx, parse_v4_request(plaintext))
    except (BadInput, NotFound) as error:
        status = 404 if isinstance(error, NotFound) else 400
        response = ApiResponse(status, {"error": error.detail})
    info = orjson.dumps({"code": response.status_code, "headers": REPLY_HEADERS})
    return 200, cipher.encrypt(bencode_strings([info, orjson.dumps(response.as_json())]))
