"""The v3 onion envelope itself (PROTOCOL.md 1.1): anything wrong before decryption succeeds is a
plain HTTP 400 with a short text body; a body over 10 MiB is a 413."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import httpx
import orjson
import pytest

from .conftest import Env, decrypt_reply, onion_envelope

ONION_PATHS = ("/loki/v3/lsrpc", "/oxen/v3/lsrpc")
SMALL_INNER = {"method": "GET", "endpoint": "rooms", "body": "", "headers": {}}
TEN_MIB = 10 * 1024 * 1024


def assert_plain_400(response: httpx.Response, what: str) -> None:
    assert response.status_code == 400, (
        f"{what}: HTTP {response.status_code} {response.text[:200]!r}"
    )
    assert 0 < len(response.content) <= 200, f"{what}: body {response.content[:300]!r}"
    assert "Traceback" not in response.text, what
    assert response.headers.get("content-type", "").startswith("text/plain"), (
        what,
        response.headers.get("content-type"),
    )


def split(envelope: bytes) -> tuple[bytes, bytes]:
    """(ciphertext, metadata bytes) of a well-formed envelope."""
    (size,) = struct.unpack_from("<I", envelope)
    return envelope[4 : 4 + size], envelope[4 + size :]


def assemble(ciphertext: bytes, metadata: bytes, declared: int | None = None) -> bytes:
    size = len(ciphertext) if declared is None else declared
    return struct.pack("<I", size) + ciphertext + metadata


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def assert_healthy(env: Env, http: httpx.Client) -> None:
    envelope, cipher = onion_envelope(env, SMALL_INNER)
    reply = decrypt_reply(http.post(env.server.base_url + ONION_PATHS[0], content=envelope), cipher)
    assert reply["status_code"] == 200 and reply["rooms"], reply


def test_valid_envelope_is_answered(env: Env, http: httpx.Client) -> None:
    """The control: the envelope the other tests break is accepted on both paths."""
    for path in ONION_PATHS:
        envelope, cipher = onion_envelope(env, SMALL_INNER)
        reply = decrypt_reply(http.post(env.server.base_url + path, content=envelope), cipher)
        assert reply["status_code"] == 200, reply


def test_every_truncation_is_a_plain_400(env: Env, http: httpx.Client) -> None:
    envelope, _ = onion_envelope(env, SMALL_INNER)
    url = env.server.base_url + ONION_PATHS[0]
    for length in range(len(envelope)):
        assert_plain_400(http.post(url, content=envelope[:length]), f"prefix of {length} bytes")
    assert_healthy(env, http)


@pytest.mark.parametrize(
    "key_hex",
    [
        pytest.param("ab" * 31, id="31-bytes"),
        pytest.param("ab" * 33, id="33-bytes"),
        pytest.param("zz" * 32, id="non-hex"),
        pytest.param("ab" * 31 + " a", id="hex-with-space"),
        pytest.param("", id="empty"),
        pytest.param("00" * 32, id="low-order-zero-key"),
    ],
)
def test_bad_ephemeral_key(env: Env, http: httpx.Client, key_hex: str) -> None:
    envelope, _ = onion_envelope(env, SMALL_INNER)
    ciphertext, _meta = split(envelope)
    body = assemble(ciphertext, orjson.dumps({"ephemeral_key": key_hex}))
    assert_plain_400(http.post(env.server.base_url + ONION_PATHS[0], content=body), key_hex)
    assert_healthy(env, http)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(12345, id="number"),
        pytest.param(None, id="null"),
        pytest.param(["ab"], id="list"),
    ],
)
def test_ephemeral_key_not_a_string(env: Env, http: httpx.Client, value: object) -> None:
    envelope, _ = onion_envelope(env, SMALL_INNER)
    ciphertext, _meta = split(envelope)
    body = assemble(ciphertext, orjson.dumps({"ephemeral_key": value}))
    assert_plain_400(http.post(env.server.base_url + ONION_PATHS[0], content=body), repr(value))


@pytest.mark.parametrize("where", ["iv", "middle", "tag-first", "tag-last"])
def test_bad_tag(env: Env, http: httpx.Client, where: str) -> None:
    envelope, _ = onion_envelope(env, SMALL_INNER)
    ciphertext, metadata = split(envelope)
    index = {"iv": 0, "middle": len(ciphertext) // 2, "tag-first": -16, "tag-last": -1}[where]
    flipped = bytearray(ciphertext)
    flipped[index] ^= 0x01
    body = assemble(bytes(flipped), metadata)
    assert_plain_400(http.post(env.server.base_url + ONION_PATHS[0], content=body), where)


def test_envelope_for_another_server_key(env: Env, http: httpx.Client) -> None:
    """Encrypted to a different server key: the tag cannot match."""
    from opengroup.crypto import build_onion_request

    body, _ = build_onion_request(bytes.fromhex("09" * 32), orjson.dumps(SMALL_INNER))
    assert_plain_400(http.post(env.server.base_url + ONION_PATHS[0], content=body), "other key")


def test_ciphertext_shorter_than_iv_and_tag(env: Env, http: httpx.Client) -> None:
    envelope, _ = onion_envelope(env, SMALL_INNER)
    ciphertext, metadata = split(envelope)
    for size in (0, 1, 12, 27):
        body = assemble(ciphertext[:size], metadata)
        assert_plain_400(http.post(env.server.base_url + ONION_PATHS[0], content=body), str(size))


@pytest.mark.parametrize(
    "declared",
    [
        pytest.param(lambda n, m: n + 1, id="one-past"),
        pytest.param(lambda n, m: n + m + 1, id="past-metadata"),
        pytest.param(lambda n, m: 2**31, id="2^31"),
        pytest.param(lambda n, m: 2**32 - 1, id="2^32-1"),
    ],
)
def test_length_past_the_end(env: Env, http: httpx.Client, declared) -> None:  # type: ignore[no-untyped-def]
    envelope, _ = onion_envelope(env, SMALL_INNER)
    ciphertext, metadata = split(envelope)
    body = assemble(ciphertext, metadata, declared(len(ciphertext), len(metadata)))
    assert_plain_400(http.post(env.server.base_url + ONION_PATHS[0], content=body), "N")


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param(b"not json", id="non-json"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe{}", id="non-utf8"),
        pytest.param(b'["ephemeral_key"]', id="json-array"),
        pytest.param(b'"ephemeral_key"', id="json-string"),
        pytest.param(b"42", id="json-number"),
        pytest.param(b"null", id="json-null"),
        pytest.param(b"{}", id="missing-ephemeral-key"),
        pytest.param(b'{"host": "example.org", "target": "/loki/v3/lsrpc"}', id="routing-only"),
    ],
)
def test_bad_metadata(env: Env, http: httpx.Client, metadata: bytes) -> None:
    envelope, _ = onion_envelope(env, SMALL_INNER)
    ciphertext, _meta = split(envelope)
    body = assemble(ciphertext, metadata)
    assert_plain_400(http.post(env.server.base_url + ONION_PATHS[0], content=body), repr(metadata))


def test_unknown_enc_type(env: Env, http: httpx.Client) -> None:
    envelope, _ = onion_envelope(env, SMALL_INNER)
    ciphertext, metadata = split(envelope)
    meta = orjson.loads(metadata)
    meta["enc_type"] = "rot13"
    body = assemble(ciphertext, orjson.dumps(meta))
    assert_plain_400(http.post(env.server.base_url + ONION_PATHS[0], content=body), "enc_type")


@pytest.mark.parametrize("path", ONION_PATHS)
def test_body_over_10_mib_with_content_length(env: Env, http: httpx.Client, path: str) -> None:
    response = http.post(env.server.base_url + path, content=b"\0" * (TEN_MIB + 1))
    assert response.status_code == 413, response.text[:200]
    assert "Traceback" not in response.text
    assert_healthy(env, http)


def test_body_over_10_mib_chunked(env: Env, http: httpx.Client) -> None:
    """No Content-Length: the server must count while reading and stop at the limit."""

    def chunks() -> Iterator[bytes]:
        for _ in range(11):
            yield b"\0" * (1024 * 1024)

    response = http.post(env.server.base_url + ONION_PATHS[0], content=chunks())
    assert "content-length" not in response.request.headers
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413, response.text[:200]
    assert_healthy(env, http)


def test_declared_length_over_limit_is_refused_before_reading(env: Env) -> None:
    """A Content-Length over 10 MiB is refused at once, without waiting for the body."""
    import socket

    port = env.server.port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST {ONION_PATHS[0]} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Length: {TEN_MIB + 1}\r\nConnection: close\r\n\r\n"
            ).encode()
        )
        sock.sendall(b"\0" * 1024)  # a tiny part of what was announced
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
