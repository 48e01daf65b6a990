"""Direct messages between blinded ids (SOGS-API.md 7.9) through the modern API."""

from __future__ import annotations

import base64
import os

from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient

from .conftest import b64


def known(sogs: SogsClient) -> BlindedUser:
    """A user who has made a signed request here (DMs only go to such users)."""
    user = BlindedUser.generate()
    assert sogs.get("/capabilities", user=user).code == 200
    return user


def send(sogs: SogsClient, sender: BlindedUser, recipient: BlindedUser, blob: bytes) -> dict:
    reply = sogs.post(
        f"/inbox/{recipient.blinded_id(sogs.server_pk)}", {"message": b64(blob)}, user=sender
    )
    assert reply.code == 201, reply.text
    return dict(reply.json)


def test_round_trip_inbox_outbox_since_and_clear(sogs: SogsClient) -> None:
    a, b = known(sogs), known(sogs)
    blob = b"\x00" + os.urandom(60)
    sent = send(sogs, a, b, blob)
    assert set(sent) == {"id", "posted_at", "expires_at", "sender", "recipient"}
    assert sent["sender"] == a.blinded_id(sogs.server_pk)
    assert sent["recipient"] == b.blinded_id(sogs.server_pk)
    assert sent["expires_at"] - sent["posted_at"] > 14 * 86_400
    inbox = sogs.get("/inbox", user=b).json
    assert [(m["id"], base64.b64decode(m["message"])) for m in inbox] == [(sent["id"], blob)]
    outbox = sogs.get("/outbox", user=a).json
    assert [m["id"] for m in outbox] == [sent["id"]]
    assert sogs.get("/inbox", user=a).json == []
    empty = sogs.get(f"/inbox/since/{sent['id']}", user=b)
    assert (empty.code, empty.raw) == (304, b"")
    assert sogs.get(f"/outbox/since/{sent['id']}", user=a).code == 304
    second = send(sogs, a, b, b"\x00second")
    since = sogs.get(f"/inbox/since/{sent['id']}", user=b).json
    assert [m["id"] for m in since] == [second["id"]] and second["id"] > sent["id"]
    cleared = sogs.request("DELETE", "/inbox", user=b)
    assert (cleared.code, cleared.json) == (200, {"deleted": 2})
    assert sogs.get("/inbox", user=b).json == []
    assert len(sogs.get("/outbox", user=a).json) == 0  # the sender's copy was the same row


def test_304_inside_a_batch(sogs: SogsClient) -> None:
    user = known(sogs)
    items = [{"method": "GET", "path": "/inbox/since/999999999"}]
    reply = sogs.batch(items, user=user)
    assert reply.json[0]["code"] == 304 and reply.json[0]["body"] == ""
    assert "content-type" in reply.json[0]["headers"]


def test_unknown_and_malformed_recipients(sogs: SogsClient) -> None:
    a = known(sogs)
    stranger = BlindedUser.generate()
    reply = sogs.post(f"/inbox/{stranger.blinded_id(sogs.server_pk)}", {"message": "AA=="}, user=a)
    assert reply.code == 404
    assert sogs.post(f"/inbox/{a.session_id}", {"message": "AA=="}, user=a).code == 404
    assert sogs.post("/inbox/15abc", {"message": "AA=="}, user=a).code == 404


def test_bad_bodies_anonymous_senders_and_readers(sogs: SogsClient) -> None:
    a, b = known(sogs), known(sogs)
    to_b = f"/inbox/{b.blinded_id(sogs.server_pk)}"
    for body in ({}, {"message": ""}, {"message": "not base64!"}, {"message": 5}):
        assert sogs.post(to_b, body, user=a).code == 400, body
    assert sogs.post(to_b, {"message": "AA=="}).code == 401
    assert sogs.get("/inbox").code == 401
    assert sogs.get("/outbox").code == 401
    assert sogs.get("/inbox", user=b).json == []


def test_size_and_rate_limits(sogs: SogsClient) -> None:
    a, b = known(sogs), known(sogs)
    to_b = f"/inbox/{b.blinded_id(sogs.server_pk)}"
    assert sogs.post(to_b, {"message": b64(os.urandom(100_001))}, user=a).code == 413
    codes = [sogs.post(to_b, {"message": b64(b"x")}, user=a).code for _ in range(21)]
    assert codes[:20] == [201] * 20 and codes[20] == 429
