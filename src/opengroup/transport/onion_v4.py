"""The v4 onion transport (PROTOCOL.md 1.3, later clients): same envelope as v3, but the
plaintext is a bencoded list `l<meta JSON>[<body>]e` and the reply is the encrypted (not
base64) bencoded list `l<{"code": N, "headers": {...}}><body>e`. Only /legacy/ endpoints."""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson

from ..context import ServerContext
from ..crypto import OnionCipher, open_onion_request
from ..endpoints.call import ApiRequest, ApiResponse
from ..endpoints.routes import headers_from
from ..errors import BadInput, NotFound, status_for
from .onion import METHODS
from .version import OnionVersion

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


def open_v4_request(
    ctx: ServerContext, body: bytes
) -> tuple[OnionCipher, ApiRequest | ApiResponse]:
    plaintext, cipher = open_onion_request(ctx.keys, body)
    try:
        return cipher, parse_v4_request(plaintext)
    except (BadInput, NotFound) as error:
        return cipher, ApiResponse(status_for(error), {"error": error.detail})


def seal_v4_reply(cipher: OnionCipher, response: ApiResponse) -> bytes:
    info = orjson.dumps({"code": response.status_code, "headers": REPLY_HEADERS})
    return cipher.encrypt(bencode_strings([info, orjson.dumps(response.as_json())]))


V4 = OnionVersion(open_v4_request, seal_v4_reply)


def handle_onion_v4_request(ctx: ServerContext, body: bytes) -> tuple[int, bytes]:
    return V4.handle(ctx, body)
