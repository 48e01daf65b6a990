"""GET auth_token_challenge, POST claim_auth_token, DELETE auth_token; tokens and bans."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest

from opengroup.crypto import SessionKeys, decrypt_auth_challenge

from .conftest import (
    SHORT_LIFETIME_SECONDS,
    TRANSPORTS,
    CheckedClient,
    Member,
    Server,
    b64,
    status,
    unb64,
)


@pytest.fixture(scope="module")
def other_room(server: Server) -> str:
    return server.new_room("Auth Other Room")


def request_challenge(client: CheckedClient, keys: SessionKeys, room: str) -> dict[str, object]:
    return client.request(
        "GET", f"auth_token_challenge?public_key={keys.session_id}", headers={"Room": room}
    )


def pending_token(client: CheckedClient, keys: SessionKeys, room: str) -> str:
    """Ask for a challenge and decrypt it, without claiming the token."""
    reply = request_challenge(client, keys, room)
    assert status(reply) == 200, reply
    challenge = reply["challenge"]
    assert isinstance(challenge, dict)
    return decrypt_auth_challenge(
        keys.private,
        unb64(challenge["ephemeral_public_key"]),
        unb64(challenge["ciphertext"]),
    ).hex()


def claim(client: CheckedClient, keys: SessionKeys, room: str, token: str) -> dict[str, object]:
    return client.request(
        "POST",
        "claim_auth_token",
        body={"public_key": keys.session_id},
        headers={"Room": room, "Authorization": token},
    )


def test_challenge_shape(client: CheckedClient) -> None:
    keys = SessionKeys.generate()
    reply = request_challenge(client, keys, "main")
    assert status(reply) == 200
    assert set(reply) == {"status_code", "challenge"}
    challenge = reply["challenge"]
    assert set(challenge) == {"ciphertext", "ephemeral_public_key"}
    assert len(unb64(challenge["ephemeral_public_key"])) == 32
    token = decrypt_auth_challenge(
        keys.private, unb64(challenge["ephemeral_public_key"]), unb64(challenge["ciphertext"])
    )
    assert len(token) == 48


def test_claimed_token_works(client: CheckedClient) -> None:
    keys = SessionKeys.generate()
    token = pending_token(client, keys, "main")
    headers = {"Room": "main", "Authorization": token}
    assert status(client.request("GET", "messages", headers=headers)) == 401

    reply = claim(client, keys, "main", token)
    assert status(reply) == 200, reply
    assert status(client.request("GET", "messages", headers=headers)) == 200


def test_claim_accepts_uppercase_session_id(client: CheckedClient) -> None:
    keys = SessionKeys.generate()
    token = pending_token(client, keys, "main")
    reply = client.request(
        "POST",
        "claim_auth_token",
        body={"public_key": keys.session_id.upper()},
        headers={"Room": "main", "Authorization": token},
    )
    assert status(reply) == 200, reply
    member = Member(client, keys, "main", token)
    assert member.post_message()["public_key"] == keys.session_id


def test_pending_token_is_not_valid(client: CheckedClient) -> None:
    keys = SessionKeys.generate()
    token = pending_token(client, keys, "main")
    reply = client.request("GET", "messages", headers={"Room": "main", "Authorization": token})
    assert status(reply) == 401
    post = client.request(
        "POST",
        "messages",
        body={"data": b64(b"x"), "signature": b64(bytes(64))},
        headers={"Room": "main", "Authorization": token},
    )
    assert status(post) == 401


def test_missing_or_unknown_token_is_401(client: CheckedClient) -> None:
    assert status(client.request("GET", "messages", headers={"Room": "main"})) == 401
    unknown = os.urandom(48).hex()
    reply = client.request("GET", "messages", headers={"Room": "main", "Authorization": unknown})
    assert status(reply) == 401
    garbage = client.request("GET", "messages", headers={"Room": "main", "Authorization": "xyz"})
    assert status(garbage) == 401


def test_claim_unknown_token_is_401(client: CheckedClient) -> None:
    keys = SessionKeys.generate()
    assert status(claim(client, keys, "main", os.urandom(48).hex())) == 401


def test_token_is_per_room(
    client: CheckedClient, join: Callable[..., Member], other_room: str
) -> None:
    member = join("main")
    reply = client.request(
        "GET", "messages", headers={"Room": other_room, "Authorization": member.token}
    )
    assert status(reply) == 401
    assert status(member.get("messages")) == 200


def test_delete_auth_token_revokes_it(join: Callable[..., Member]) -> None:
    member = join("main")
    assert status(member.get("messages")) == 200
    reply = member.delete("auth_token")
    assert status(reply) == 200, reply
    assert status(member.get("messages")) == 401
    assert status(member.try_post_message(b"after logout")) == 401


def test_delete_auth_token_only_revokes_that_token(
    client: CheckedClient, join: Callable[..., Member], other_room: str
) -> None:
    member = join("main")
    elsewhere = join(other_room, member.keys)
    assert status(member.delete("auth_token")) == 200
    assert status(elsewhere.get("messages")) == 200


def test_challenge_for_unknown_room_is_404(client: CheckedClient) -> None:
    keys = SessionKeys.generate()
    assert status(request_challenge(client, keys, "nosuchroom")) == 404


@pytest.mark.parametrize(
    "public_key",
    ["", "05", "06" + "ab" * 32, "05" + "ab" * 31, "05" + "zz" * 32, "ab" * 33],
)
def test_challenge_rejects_bad_session_ids(client: CheckedClient, public_key: str) -> None:
    reply = client.request(
        "GET", f"auth_token_challenge?public_key={public_key}", headers={"Room": "main"}
    )
    assert status(reply) == 400


def test_banned_user_gets_403_everywhere_in_the_room(
    server: Server, client: CheckedClient, join: Callable[..., Member], other_room: str
) -> None:
    victim = join("main")
    message = victim.post_message()
    file_id = victim.post("files", {"file": b64(b"mine")})["result"]
    elsewhere = join(other_room, victim.keys)
    pending = pending_token(client, victim.keys, "main")

    server.ban(victim.session_id, "main")

    requests = [
        ("GET", "messages", None),
        ("GET", "messages?from_server_id=0", None),
        ("POST", "messages", {"data": b64(b"hi"), "signature": b64(bytes(64))}),
        ("POST", "delete_messages", {"ids": [message["server_id"]]}),
        ("DELETE", f"messages/{message['server_id']}", None),
        ("GET", "deleted_messages", None),
        ("GET", "moderators", None),
        ("GET", "block_list", None),
        ("GET", "member_count", None),
        ("POST", "files", {"file": b64(b"more")}),
        ("GET", f"files/{file_id}", None),
        ("DELETE", "auth_token", None),
    ]
    for method, endpoint, body in requests:
        reply = client.request(method, endpoint, body=body, headers=victim.headers)
        assert status(reply) == 403, (method, endpoint, reply)

    assert status(request_challenge(client, victim.keys, "main")) == 403
    assert status(claim(client, victim.keys, "main", pending)) == 403
    assert status(claim(client, victim.keys, "main", victim.token)) == 403
    polled = client.compact_poll([{"room_id": "main", "auth_token": victim.token}])
    assert polled["results"][0]["status_code"] == 403

    # Nothing was deleted by the banned user's attempts, and other rooms still work.
    observer = join("main")
    assert message["server_id"] in observer.message_ids()
    assert status(elsewhere.get("messages")) == 200
    elsewhere.post_message()

    server.unban(victim.session_id, "main")
    assert status(victim.get("messages")) == 200
    victim.post_message()
    assert status(request_challenge(client, victim.keys, "main")) == 200


def test_challenge_accepts_uppercase_session_id(client: CheckedClient) -> None:
    keys = SessionKeys.generate()
    reply = client.request(
        "GET",
        f"auth_token_challenge?public_key={keys.session_id.upper()}",
        headers={"Room": "main"},
    )
    assert status(reply) == 200, reply
    challenge = reply["challenge"]
    token = decrypt_auth_challenge(
        keys.private, unb64(challenge["ephemeral_public_key"]), unb64(challenge["ciphertext"])
    ).hex()
    assert status(claim(client, keys, "main", token)) == 200
    posted = Member(client, keys, "main", token).post_message()
    assert posted["public_key"] == keys.session_id


def test_expired_token_is_401_and_reauth_works(short_lived_server: Server) -> None:
    clients = [short_lived_server.client(transport) for transport in TRANSPORTS]
    try:
        members = [Member.join(og) for og in clients]
        for member in members:
            assert status(member.get("messages")) == 200
        time.sleep(SHORT_LIFETIME_SECONDS + 1)
        for member in members:
            assert status(member.get("messages")) == 401, member.client.transport
            polled = member.client.compact_poll([{"room_id": "main", "auth_token": member.token}])
            assert polled["results"][0]["status_code"] == 401
            fresh = Member.join(member.client, "main", member.keys)
            assert status(fresh.get("messages")) == 200
    finally:
        for og in clients:
            og.close()


def test_token_in_use_outlives_its_expiry(short_lived_server: Server) -> None:
    """Expiry counts from the last use: a client polling every half second keeps its token
    for twice the expiry time (uses are recorded in batches every couple of seconds)."""
    with short_lived_server.client("onion") as og:
        member = Member.join(og)
        deadline = time.monotonic() + 2 * SHORT_LIFETIME_SECONDS
        while time.monotonic() < deadline:
            polled = og.compact_poll([{"room_id": "main", "auth_token": member.token}])
            assert polled["results"][0]["status_code"] == 200
            time.sleep(0.5)
        assert status(member.get("messages")) == 200
