"""What the 2021 clients actually send (PROTOCOL.md 1.2, clients-2021.md 1.4 and 1.5)."""

from __future__ import annotations

import os
from collections.abc import Callable

import httpx
import orjson
import pytest

from opengroup.crypto import SessionKeys, decrypt_auth_challenge

from .conftest import (
    CheckedClient,
    Member,
    Server,
    build_raw_onion,
    raw_onion_request,
    signed_body,
    status,
    unb64,
)


def percent_encode_all(text: str) -> str:
    """Percent-encode every character, as a strict encoder may (a valid encoding of `text`)."""
    return "".join(f"%{byte:02X}" for byte in text.encode())


# ------------------------------------------------------------------------------ bodies


@pytest.mark.parametrize("raw_body", ["", "null"])
def test_get_and_delete_with_empty_or_null_body(
    client: CheckedClient, join: Callable[..., Member], raw_body: str
) -> None:
    """Desktop sends "" for GET/DELETE bodies; Android and iOS send the four characters null."""
    member = join()
    message = member.post_message()

    def send(method: str, endpoint: str) -> dict[str, object]:
        return client.request(method, endpoint, headers=member.headers, raw_body=raw_body)

    challenge = client.request(
        "GET",
        f"auth_token_challenge?public_key={member.session_id}",
        headers={"Room": "main"},
        raw_body=raw_body,
    )
    assert status(challenge) == 200, challenge
    assert status(client.request("GET", "rooms", raw_body=raw_body)) == 200
    got = send("GET", f"messages?from_server_id={message['server_id'] - 1}")
    assert status(got) == 200 and got["messages"] == [message]
    assert status(send("GET", "moderators")) == 200
    assert status(send("GET", "member_count")) == 200
    assert status(send("DELETE", f"messages/{message['server_id']}")) == 200
    assert message["server_id"] not in member.message_ids()
    assert status(send("DELETE", "auth_token")) == 200
    assert status(member.get("messages")) == 401


def test_post_bodies_arrive_as_json_strings_with_content_type(join: Callable[..., Member]) -> None:
    """Android adds content-type with a charset; iOS adds Content-Type."""
    member = join()
    for content_type in (
        {"content-type": "application/json; charset=utf-8"},
        {"Content-Type": "application/json"},
    ):
        data = os.urandom(20)
        reply = member.client.request(
            "POST",
            "messages",
            body=signed_body(member.keys, data),
            headers={**member.headers, **content_type},
        )
        assert status(reply) == 200, reply
        assert unb64(reply["message"]["data"]) == data


# ------------------------------------------------------------------------------ headers


def test_lowercase_header_names(client: CheckedClient) -> None:
    keys = SessionKeys.generate()
    reply = client.request(
        "GET", f"auth_token_challenge?public_key={keys.session_id}", headers={"room": "main"}
    )
    assert status(reply) == 200, reply
    token = decrypt_auth_challenge(
        keys.private,
        unb64(reply["challenge"]["ephemeral_public_key"]),
        unb64(reply["challenge"]["ciphertext"]),
    ).hex()
    claim = client.request(
        "POST",
        "claim_auth_token",
        body={"public_key": keys.session_id},
        headers={"room": "main", "authorization": token},
    )
    assert status(claim) == 200, claim
    for headers in (
        {"room": "main", "authorization": token},
        {"ROOM": "main", "AUTHORIZATION": token},
    ):
        assert status(client.request("GET", "messages", headers=headers)) == 200
    member = Member(client, keys, "main", token)
    data = b"lowercase"
    reply = client.request(
        "POST",
        "messages",
        body=signed_body(keys, data),
        headers={"room": "main", "authorization": token},
    )
    assert status(reply) == 200, reply
    assert reply["message"]["public_key"] == member.session_id


def test_android_numeric_and_boolean_header_values(onion: CheckedClient) -> None:
    """Android turns digit-only header values into JSON numbers and true/false into booleans."""
    member = Member.join(onion)
    extra = {"X-Count": 3, "X-Flag": True, "X-Other": False, "X-Ratio": 1.5}
    reply = onion.request("GET", "messages", headers={**member.headers, **extra})
    assert status(reply) == 200, reply

    # A numeric room id cannot exist (ids are never all digits): a clean 400, never a 500.
    for room in (2021, 7, 0):
        reply = onion.request(
            "GET", "messages", headers={"Room": room, "Authorization": member.token}
        )
        assert status(reply) == 400, (room, reply)
        challenge = onion.request(
            "GET", f"auth_token_challenge?public_key={member.session_id}", headers={"Room": room}
        )
        assert status(challenge) == 400, (room, challenge)

    # Booleans become "true"/"false" (room ids, if such rooms exist): never a crash.
    for room in (True, False):
        reply = onion.request(
            "GET", "messages", headers={"Room": room, "Authorization": member.token}
        )
        assert status(reply) in (400, 401, 404), (room, reply)

    # A numeric Authorization is converted back to a string: just an unknown token.
    reply = onion.request("GET", "messages", headers={"Room": "main", "Authorization": 12345})
    assert status(reply) == 401
    reply = onion.request("GET", "messages", headers={"Room": "main", "Authorization": True})
    assert status(reply) == 401

    # Headers ignored by the endpoint may hold anything.
    assert status(onion.request("GET", "rooms", headers={"Room": 2021, "X": None})) == 200
    assert status(onion.compact_poll([])) == 200


@pytest.fixture(scope="module")
def room_true(server: Server) -> str:
    """A room whose id Android sends as a JSON boolean."""
    server.cli("rooms", "add", "true", "Room True")
    return "true"


def test_android_boolean_room_header(onion: CheckedClient, room_true: str) -> None:
    keys = SessionKeys.generate()
    challenge = onion.request(
        "GET", f"auth_token_challenge?public_key={keys.session_id}", headers={"Room": True}
    )
    assert status(challenge) == 200, challenge
    token = decrypt_auth_challenge(
        keys.private,
        unb64(challenge["challenge"]["ephemeral_public_key"]),
        unb64(challenge["challenge"]["ciphertext"]),
    ).hex()
    claimed = onion.request(
        "POST",
        "claim_auth_token",
        body={"public_key": keys.session_id},
        headers={"Room": True, "Authorization": token},
    )
    assert status(claimed) == 200, claimed
    data = os.urandom(12)
    posted = onion.request(
        "POST",
        "messages",
        body=signed_body(keys, data),
        headers={"Room": True, "Authorization": token},
    )
    assert status(posted) == 200, posted
    in_main = onion.request("GET", "messages", headers={"Room": "main", "Authorization": token})
    assert status(in_main) == 401  # the token is of room "true", not of main
    got = Member(onion, keys, room_true, token).messages()
    assert unb64(got[0]["data"]) == data


def test_auth_code_is_an_alias_for_authorization(onion: CheckedClient) -> None:
    member = Member.join(onion)
    without = onion.request("GET", "messages", headers={"Room": "main"})
    assert status(without) == 401
    reply = onion.request(
        "GET", "messages", headers={"Room": "main"}, extra={"auth_code": member.token}
    )
    assert status(reply) == 200, reply
    data = os.urandom(16)
    posted = onion.request(
        "POST",
        "messages",
        body=signed_body(member.keys, data),
        headers={"Room": "main"},
        extra={"auth_code": member.token},
    )
    assert status(posted) == 200, posted
    assert posted["message"]["public_key"] == member.session_id


# ------------------------------------------------------------------------------ query strings


@pytest.mark.parametrize("encoding", ["raw", "percent-encoded"])
def test_query_strings_raw_and_percent_encoded(client: CheckedClient, encoding: str) -> None:
    """Desktop and iOS build query strings unencoded; Android's come through OkHttp encoded."""
    encode = (lambda text: text) if encoding == "raw" else percent_encode_all
    keys = SessionKeys.generate()
    reply = client.request(
        "GET",
        f"auth_token_challenge?public_key={encode(keys.session_id)}",
        headers={"Room": "main"},
    )
    assert status(reply) == 200, reply
    member = Member.join(client, "main", keys)
    posted = [member.post_message()["server_id"] for _ in range(3)]

    cursor, limit = encode(str(posted[0] - 1)), encode("2")
    got = client.request(
        "GET", f"messages?from_server_id={cursor}&limit={limit}", headers=member.headers
    )
    assert status(got) == 200, got
    assert [m["server_id"] for m in got["messages"]] == posted[:2]

    deleted = client.request(
        "GET",
        f"deleted_messages?from_server_id={encode('0')}&limit={encode('1')}",
        headers=member.headers,
    )
    assert status(deleted) == 200, deleted
    assert len(deleted["ids"]) <= 1


# ------------------------------------------------------------------------------ envelopes


@pytest.mark.parametrize("path", ["/loki/v3/lsrpc", "/oxen/v3/lsrpc"])
@pytest.mark.parametrize("enc_type", [None, "aes-gcm", "gcm", "xchacha20", "xchacha20-poly1305"])
def test_onion_paths_and_enc_types(
    server: Server, onion: CheckedClient, path: str, enc_type: str | None
) -> None:
    member = Member.join(onion)
    message = member.post_message()
    reply = raw_onion_request(
        server,
        {
            "method": "GET",
            "endpoint": f"messages?from_server_id={message['server_id'] - 1}",
            "body": "null",
            "headers": member.headers,
        },
        path=path,
        enc_type=enc_type,
    )
    assert status(reply) == 200, reply
    assert reply["messages"] == [message]

    data = os.urandom(30)
    posted = raw_onion_request(
        server,
        {
            "method": "POST",
            "endpoint": "messages",
            "body": orjson.dumps(signed_body(member.keys, data)).decode(),
            "headers": member.headers,
        },
        path=path,
        enc_type=enc_type,
    )
    assert status(posted) == 200, posted
    assert unb64(posted["message"]["data"]) == data


def test_inner_request_key_order_does_not_matter(server: Server, onion: CheckedClient) -> None:
    """Android and iOS put `body` first; Desktop puts `method` first."""
    member = Member.join(onion)
    reply = raw_onion_request(
        server,
        {"body": "null", "endpoint": "moderators", "method": "GET", "headers": member.headers},
    )
    assert status(reply) == 200, reply
    assert isinstance(reply["moderators"], list)


# ------------------------------------------------------------------------------ v4 envelope


def bencode_list(items: list[bytes]) -> bytes:
    return b"l" + b"".join(b"%d:%s" % (len(item), item) for item in items) + b"e"


def bdecode_list(data: bytes) -> list[bytes]:
    """A bencoded list of byte strings (what v4 replies are)."""
    assert data[:1] == b"l" and data[-1:] == b"e", data[:40]
    items, position = [], 1
    while data[position : position + 1] != b"e":
        colon = data.index(b":", position)
        size = int(data[position:colon])
        items.append(data[colon + 1 : colon + 1 + size])
        position = colon + 1 + size
    assert position == len(data) - 1
    return items


def v4_request(
    server: Server, meta: dict[str, object], body: bytes | None = None
) -> tuple[dict[str, object], bytes]:
    """PROTOCOL.md 1.3: POST /oxen/v4/lsrpc, payload `l<meta>[<body>]e`, reply encrypted (not
    base64) `l<{"code":N,"headers":{...}}><body>e`."""
    payload = bencode_list([orjson.dumps(meta), *([body] if body is not None else [])])
    onion = build_raw_onion(server.public_key, payload)
    response = httpx.post(server.base_url + "/oxen/v4/lsrpc", content=onion.body, timeout=30)
    assert response.status_code == 200, (response.status_code, response.text[:200])
    info, reply_body = bdecode_list(onion.decrypt(response.content))
    return orjson.loads(info), reply_body


def test_onion_v4_envelope_reaches_legacy_endpoints(server: Server, onion: CheckedClient) -> None:
    info, body = v4_request(server, {"method": "GET", "endpoint": "/legacy/rooms", "headers": {}})
    assert info["code"] == 200, (info, body)
    reply = orjson.loads(body)
    assert "main" in [room["id"] for room in reply["rooms"]]

    member = Member.join(onion)
    data = os.urandom(24)
    info, body = v4_request(
        server,
        {"method": "POST", "endpoint": "/legacy/messages", "headers": member.headers},
        orjson.dumps(signed_body(member.keys, data)),
    )
    assert info["code"] == 200, (info, body)
    assert unb64(orjson.loads(body)["message"]["data"]) == data
