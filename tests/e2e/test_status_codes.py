"""Every status code PROTOCOL.md names, each at least once through the onion transport.

The `client` fixture runs each test over both transports; the legacy client also checks that
the HTTP status equals the reply's status_code.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Callable

import httpx
import orjson
import pytest

from opengroup.crypto import SessionKeys, sign_session_message

from .conftest import (
    LENIENT_MAX_FILE_SIZE,
    CheckedClient,
    Member,
    Server,
    b64,
    build_raw_onion,
    signed_body,
    status,
)

# ------------------------------------------------------------------------------ 400


def test_400_bad_input(client: CheckedClient, join: Callable[..., Member]) -> None:
    member = join()
    bad_session_id = client.request(
        "GET", "auth_token_challenge?public_key=05nothex", headers={"Room": "main"}
    )
    assert status(bad_session_id) == 400
    assert status(client.request("GET", "auth_token_challenge", headers={"Room": "main"})) == 400

    assert (
        status(client.request("POST", "messages", raw_body="{not json", headers=member.headers))
        == 400
    )
    assert (
        status(client.request("POST", "messages", raw_body="[1, 2]", headers=member.headers)) == 400
    )
    assert status(member.post("messages", {"signature": b64(bytes(64))})) == 400
    assert status(member.post("messages", {"data": "!!", "signature": b64(bytes(64))})) == 400

    bad_signature = {
        "data": b64(b"x"),
        "signature": b64(sign_session_message(member.keys.private, b"y")),
    }
    assert status(member.post("messages", bad_signature)) == 400
    assert status(member.get("messages?limit=many")) == 400


def test_400_error_reply_shape(client: CheckedClient) -> None:
    reply = client.request("GET", "auth_token_challenge?public_key=05", headers={"Room": "main"})
    assert status(reply) == 400
    assert set(reply) <= {"status_code", "error"}
    assert isinstance(reply.get("error", ""), str)


@pytest.mark.parametrize(
    "inner",
    [
        b"not json at all",
        b"[]",
        orjson.dumps({"method": "PUT", "endpoint": "rooms", "body": "", "headers": {}}),
        orjson.dumps({"method": "GET", "body": "", "headers": {}}),
        orjson.dumps({"method": "GET", "endpoint": "rooms", "body": {}, "headers": {}}),
        orjson.dumps({"method": "GET", "endpoint": "rooms", "body": "", "headers": ["Room"]}),
    ],
    ids=["not-json", "array", "bad-method", "no-endpoint", "body-object", "headers-list"],
)
def test_400_malformed_inner_request(server: Server, inner: bytes) -> None:
    """A decryptable but malformed inner request: an encrypted {"status_code": 400}."""
    onion = build_raw_onion(server.public_key, inner)
    response = httpx.post(server.base_url + "/loki/v3/lsrpc", content=onion.body)
    assert response.status_code == 200, response.text
    reply = orjson.loads(onion.decrypt(base64.b64decode(response.content, validate=True)))
    assert reply["status_code"] == 400
    assert "body" not in reply


def broken_envelopes(server_public: bytes) -> dict[str, bytes]:
    good = build_raw_onion(
        server_public, b'{"method":"GET","endpoint":"rooms","body":"","headers":{}}'
    )
    (size,) = struct.unpack_from("<I", good.body)
    ciphertext, metadata = good.body[4 : 4 + size], good.body[4 + size :]
    meta = orjson.loads(metadata)
    tampered = bytearray(ciphertext)
    tampered[-1] ^= 1
    return {
        "empty": b"",
        "short": b"\x01\x00",
        "length-past-end": struct.pack("<I", size + 1000) + ciphertext + metadata,
        "metadata-not-json": good.body[: 4 + size] + b"{nope",
        "metadata-not-object": good.body[: 4 + size] + b"[1]",
        "no-ephemeral-key": good.body[: 4 + size] + b"{}",
        "key-not-hex": good.body[: 4 + size] + orjson.dumps({**meta, "ephemeral_key": "zz" * 32}),
        "key-wrong-length": good.body[: 4 + size]
        + orjson.dumps({**meta, "ephemeral_key": "ab" * 33}),
        "tag-mismatch": struct.pack("<I", size) + bytes(tampered) + metadata,
        "unknown-enc-type": good.body[: 4 + size] + orjson.dumps({**meta, "enc_type": "rot13"}),
    }


def test_400_broken_onion_envelopes(server: Server) -> None:
    """Anything wrong before decryption: plain HTTP 400 with a short text, never a traceback."""
    for name, body in broken_envelopes(server.public_key).items():
        response = httpx.post(server.base_url + "/loki/v3/lsrpc", content=body)
        assert response.status_code == 400, (name, response.status_code, response.text)
        assert len(response.text) < 500, name
        assert "Traceback" not in response.text, name


# ------------------------------------------------------------------------------ 401, 403, 404


def test_401_missing_or_unknown_token(client: CheckedClient) -> None:
    assert status(client.request("GET", "messages", headers={"Room": "main"})) == 401
    unknown = {"Room": "main", "Authorization": os.urandom(48).hex()}
    assert status(client.request("GET", "messages", headers=unknown)) == 401
    keys = SessionKeys.generate()
    assert (
        status(client.request("POST", "messages", body=signed_body(keys, b"x"), headers=unknown))
        == 401
    )


def test_403_not_a_moderator(join: Callable[..., Member]) -> None:
    user, other = join(), join()
    assert status(user.post("block_list", {"public_key": other.session_id})) == 403
    message = other.post_message()
    assert status(user.delete(f"messages/{message['server_id']}")) == 403


def test_403_banned(server: Server, join: Callable[..., Member]) -> None:
    user = join()
    server.ban(user.session_id, "main")
    assert status(user.get("messages")) == 403


def test_404_unknown_things(client: CheckedClient, join: Callable[..., Member]) -> None:
    member = join()
    keys = SessionKeys.generate()
    assert status(client.request("GET", "rooms/nosuchroom")) == 404
    challenge = client.request(
        "GET", f"auth_token_challenge?public_key={keys.session_id}", headers={"Room": "nosuchroom"}
    )
    assert status(challenge) == 404
    unknown_room = {"Room": "nosuchroom", "Authorization": member.token}
    assert status(client.request("GET", "messages", headers=unknown_room)) == 404
    assert status(member.delete(f"messages/{2**31 - 2}")) == 404
    assert status(member.get(f"files/{2**40}")) == 404
    assert status(client.request("GET", "no_such_endpoint")) == 404


def test_unknown_room_creates_nothing(
    server: Server, client: CheckedClient, join: Callable[..., Member]
) -> None:
    member = join()
    files_dir = server.running.data_dir / "files"
    files_before = sorted(p.name for p in files_dir.iterdir())
    ghost = {"Room": "ghostroom", "Authorization": member.token}
    replies = [
        client.request(
            "GET",
            f"auth_token_challenge?public_key={member.session_id}",
            headers={"Room": "ghostroom"},
        ),
        client.request("GET", "rooms/ghostroom/image"),
        client.request(
            "POST", "compact_poll", body={"requests": [{"room_id": "ghostroom", "auth_token": ""}]}
        ),
        client.request("POST", "files", body={"file": b64(b"nowhere")}, headers=ghost),
        client.request("POST", "messages", body=signed_body(member.keys, b"x"), headers=ghost),
        client.request("POST", "block_list", body={"public_key": member.session_id}, headers=ghost),
    ]
    assert [status(r) for r in replies[:2]] == [404, 404]
    assert replies[2]["results"][0]["status_code"] == 404
    assert [status(r) for r in replies[3:]] == [404, 404, 404]

    listed = [room["id"] for room in client.request("GET", "rooms")["rooms"]]
    assert "ghostroom" not in listed
    assert status(client.request("GET", "rooms/ghostroom")) == 404
    assert "ghostroom" not in server.cli("rooms", "list")
    assert sorted(p.name for p in files_dir.iterdir()) == files_before


# ------------------------------------------------------------------------------ 413


def test_413_file_too_large(lenient_server: Server, transport: str) -> None:
    with lenient_server.client(transport) as og:
        member = Member.join(og)
        reply = member.post("files", {"file": b64(os.urandom(LENIENT_MAX_FILE_SIZE + 1))})
        assert status(reply) == 413, reply


def test_413_onion_body_over_10_mib(server: Server) -> None:
    response = httpx.post(
        server.base_url + "/loki/v3/lsrpc", content=b"\0" * (10 * 1024 * 1024 + 1), timeout=60
    )
    assert response.status_code == 413


# ------------------------------------------------------------------------------ 429


def test_429_sixth_post_within_16_seconds(join: Callable[..., Member]) -> None:
    member = join()
    posted = [member.post_message()["server_id"] for _ in range(5)]
    reply = member.try_post_message(b"one too many")
    assert status(reply) == 429, reply
    assert "message" not in reply
    mine = [m["server_id"] for m in member.messages() if m["public_key"] == member.session_id]
    assert sorted(mine) == posted

    # The limit is per user: someone else may still post.
    Member.join(member.client, "main").post_message()
