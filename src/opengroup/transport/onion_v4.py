"""Onion request v4 (SOGS-API.md 2.1-2.3): the same envelope as v3; the plaintext is the
bencoded list `l<meta JSON>[<body>]e`, the reply the encrypted (not base64) bencoded list
`l<{"code": N, "headers": {...}}><body>e`. `/legacy/<endpoint>` reaches the legacy API."""

from __future__ import annotations

from functools import partial
from urllib.parse import parse_qsl

import orjson

from opengroup.api.request import ApiRequest, headers_from
from opengroup.api.routing import Reply
from opengroup.crypto import OnionCipher, onion_envelope_id, open_onion_request
from opengroup.errors import BadInput
from opengroup.transport.pipeline import TEXT, Door, HttpRequest, Opened, Outcome
from opengroup.transport.sogs_request import modern_request
from opengroup.usecases.context import ServerContext

LEGACY_PREFIX = "/legacy/"
METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})
LEGACY_METHODS = frozenset({"GET", "POST", "DELETE"})
INVALID = b"Invalid v4 onion request"
MAX_ITEMS = 2  # [meta] or [meta, body]


def bencode_strings(items: list[bytes]) -> bytes:
    return b"l" + b"".join(b"%d:%s" % (len(item), item) for item in items) + b"e"


def bdecode_strings(data: bytes, max_items: int = MAX_ITEMS) -> list[bytes]:
    """A bencoded list of at most `max_items` byte strings, and nothing else. Stops at the
    first item past the limit: a payload of millions of empty strings costs nothing."""
    if data[:1] != b"l" or data[-1:] != b"e":
        raise BadInput("v4 payload must be a bencoded list")
    items: list[bytes] = []
    position = 1
    end_of_list = len(data) - 1
    while position < end_of_list:
        if len(items) == max_items:
            raise BadInput(f"v4 payload holds more than {max_items} items")
        colon = data.find(b":", position, position + 12)
        length = data[position:colon]
        if colon < 0 or not length.isdigit():
            raise BadInput("v4 payload must hold byte strings only")
        start = colon + 1
        end = start + int(length)
        if end > end_of_list:
            raise BadInput("v4 payload is truncated")
        items.append(data[start:end])
        position = end
    return items


def parse_v4_request(plaintext: bytes) -> ApiRequest:
    items = bdecode_strings(plaintext)
    if not items:
        raise BadInput("v4 payload must be [meta] or [meta, body]")
    try:
        meta = orjson.loads(items[0])
    except orjson.JSONDecodeError:
        raise BadInput("v4 meta is not JSON") from None
    if not isinstance(meta, dict):
        raise BadInput("v4 meta must be a JSON object")
    method, endpoint, raw_headers = meta.get("method"), meta.get("endpoint"), meta.get("headers")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise BadInput("v4 'method' must be GET, POST, PUT or DELETE")
    if not isinstance(endpoint, str) or not endpoint.startswith("/"):
        raise BadInput("v4 'endpoint' must start with /")
    if not isinstance(raw_headers, dict | None):
        raise BadInput("v4 'headers' must be an object")
    headers = headers_from(raw_headers or {})
    body = items[1] if len(items) == 2 else b""
    method = method.upper()
    if not endpoint.startswith(LEGACY_PREFIX):
        return modern_request(method, endpoint, headers, body, "onion_v4")
    if method not in LEGACY_METHODS:
        raise BadInput("legacy endpoints take GET, POST or DELETE")
    path, _, query = endpoint[len(LEGACY_PREFIX) :].partition("?")
    return ApiRequest(
        method=method,
        path=path,
        query=dict(parse_qsl(query, keep_blank_values=True)),
        headers=headers,
        body=body if body not in (b"", b"null") else None,
        transport="onion_v4",
    )


class _Invalid:
    """The encrypted answer to a payload that decrypted but is not a v4 request (§2.2)."""

    status_code = 400

    def encode(self) -> tuple[str, bytes]:
        return TEXT, INVALID

    def extra_headers(self) -> dict[str, str]:
        return {}


def open_v4_request(ctx: ServerContext, body: bytes, _http: HttpRequest) -> Opened:
    plaintext, cipher = open_onion_request(ctx.keys, body)
    try:
        request = parse_v4_request(plaintext)
    except BadInput:
        return cipher, _Invalid()
    if request.api == "legacy":
        # Computed only if the request writes (most are polls).
        request.envelope = partial(onion_envelope_id, cipher, body)
    return cipher, request


def seal_v4_reply(cipher: object, reply: Reply) -> Outcome:
    assert isinstance(cipher, OnionCipher)
    content_type, payload = reply.encode()
    headers = {"content-type": content_type, **reply.extra_headers()}
    info = orjson.dumps({"code": reply.status_code, "headers": headers})
    encrypted = cipher.encrypt(bencode_strings([info, payload]))
    return Outcome(200, "application/octet-stream", encrypted)


V4 = Door("onion", open_v4_request, seal_v4_reply, counts_envelope_failures=True)
