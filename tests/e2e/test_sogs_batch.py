"""/batch and /sequence (SOGS-API.md 5), with Desktop 1.17.17's own poll and action bodies
(tests/data/modern-client-vectors.json), re-signed by a test user for a room of ours."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient
from tests.support.spec import spec_file

from .conftest import Server, b64, sogs_post

VECTORS = json.loads(spec_file("modern-client-vectors.json").read_text())
JSON = "application/json"


def desktop_body(name: str, room: str, seqno: int | None = None) -> list[dict[str, Any]]:
    """A recorded batch body with the recorded room (`lobby`) replaced by ours."""
    body = VECTORS["batch"][name]["body"].replace("/room/lobby/", f"/room/{room}/")
    items = json.loads(body)
    if seqno is not None:
        for item in items:
            if "/messages/since/" in item["path"]:
                path, _, query = item["path"].partition("?")
                item["path"] = path.rsplit("/", 1)[0] + f"/{seqno}?{query}"
    return items


def assert_items(reply_json: list[dict[str, Any]], codes: list[int]) -> None:
    assert [item["code"] for item in reply_json] == codes, reply_json
    for item in reply_json:
        assert set(item) == {"code", "headers", "body"}
        assert "content-type" in item["headers"]


@pytest.fixture
def room(server: Server) -> str:
    return server.new_room("Batch room")


def test_desktops_first_poll(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    poster = BlindedUser.generate()
    posted = sogs_post(sogs, room, poster)
    reply = sogs.batch(desktop_body("first_poll", room), user=user)
    assert reply.code == 200 and reply.content_type == JSON
    items = reply.json
    assert_items(items, VECTORS["batch"]["first_poll"]["response_sub_codes"])
    capabilities, poll_info, recent, inbox, outbox = (item["body"] for item in items)
    assert capabilities == {"capabilities": ["blind", "reactions", "sogs"]}
    assert poll_info["token"] == room and poll_info["details"]["name"] == "Batch room"
    assert [row["id"] for row in recent] == [posted["id"]]
    assert inbox == [] and outbox == []


def test_desktops_since_poll(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    first = sogs_post(sogs, room, user)
    second = sogs_post(sogs, room, user)
    reply = sogs.batch(desktop_body("since_poll", room, seqno=first["seqno"]), user=user)
    assert reply.code == 200
    assert_items(reply.json, VECTORS["batch"]["since_poll"]["response_sub_codes"])
    assert [row["id"] for row in reply.json[2]["body"]] == [second["id"]]


def test_a_room_banned_user_polls_with_room_items_refused(
    server: Server, sogs: SogsClient, room: str
) -> None:
    user = BlindedUser.generate()
    server.ban(user.session_id, room)
    reply = sogs.batch(desktop_body("first_poll", room), user=user)
    assert reply.code == 200
    assert_items(reply.json, [200, 403, 403, 200, 200])


def test_items_inherit_the_signer_and_their_own_auth_headers_are_ignored(
    sogs: SogsClient, room: str
) -> None:
    user, other = BlindedUser.generate(), BlindedUser.generate()
    data = os.urandom(16)
    forged = other.sogs_headers(sogs.server_pk, "POST", f"/room/{room}/message")
    item = {
        "method": "POST",
        "path": f"/room/{room}/message",
        "headers": forged,
        "json": {"data": b64(data), "signature": b64(user.sign_post(data, sogs.server_pk))},
    }
    reply = sogs.batch([item], user=user)
    assert reply.json[0]["code"] == 201
    assert reply.json[0]["body"]["session_id"] == user.blinded_id(sogs.server_pk)


def test_anonymous_batch_runs_as_anonymous(sogs: SogsClient, room: str) -> None:
    data = os.urandom(16)
    user = BlindedUser.generate()
    items = [
        {"method": "GET", "path": "/capabilities"},
        {"method": "POST", "path": f"/room/{room}/message",
         "json": {"data": b64(data), "signature": b64(user.sign_post(data, sogs.server_pk))}},
    ]  # fmt: skip
    reply = sogs.batch(items)
    assert_items(reply.json, [200, 401])
    assert base64.b64decode(reply.json[1]["body"]) == b"X-SOGS-* request authentication required"


def test_sequence_stops_at_the_first_failure(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    items = [
        {"method": "GET", "path": "/capabilities"},
        {"method": "GET", "path": "/room/nosuchroom"},
        {"method": "GET", "path": f"/room/{room}"},
    ]
    assert_items(sogs.batch(items, user=user, sequence=True).json, [200, 404])
    assert_items(sogs.batch(items, user=user).json, [200, 404, 200])


def test_body_kinds_json_b64_bytes(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    data = os.urandom(16)
    body = orjson.dumps({"data": b64(data), "signature": b64(user.sign_post(data, sogs.server_pk))})
    items = [
        {"method": "POST", "path": f"/room/{room}/message", "b64": base64.b64encode(body).decode()},
        {"method": "POST", "path": f"/room/{room}/message", "bytes": body.decode()},
    ]
    assert_items(sogs.batch(items, user=user).json, [201, 201])


MALFORMED: list[object] = [
    [],
    {},
    [1],
    [{"path": "/capabilities"}],
    [{"method": "PATCH", "path": "/capabilities"}],
    [{"method": "GET", "path": "capabilities"}],
    [{"method": "GET", "path": "/capabilities", "json": {}}],
    [{"method": "POST", "path": "/room/main/message"}],
    [{"method": "POST", "path": "/room/main/message", "json": {}, "bytes": "x"}],
    [{"method": "POST", "path": "/room/main/message", "b64": "not base64!"}],
    [{"method": "POST", "path": "/batch", "json": []}],
    [{"method": "POST", "path": "/sequence", "json": []}],
    [{"method": "GET", "path": "/capabilities", "headers": {"x": 1}}],
]


@pytest.mark.parametrize("body", MALFORMED)
def test_a_malformed_batch_is_400_and_runs_nothing(sogs: SogsClient, body: object) -> None:
    user = BlindedUser.generate()
    reply = sogs.batch(body, user=user)  # type: ignore[arg-type]
    assert reply.code == 400 and reply.content_type == "text/plain; charset=utf-8"


def test_a_bad_item_stops_the_whole_batch_before_anything_runs(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    data = os.urandom(16)
    signature = b64(user.sign_post(data, sogs.server_pk))
    good = {
        "method": "POST",
        "path": f"/room/{room}/message",
        "json": {"data": b64(data), "signature": signature},
    }
    reply = sogs.batch([good, {"method": "GET", "path": "nope"}], user=user)
    assert reply.code == 400
    assert sogs.get(f"/room/{room}/messages/recent", user=user).json == []


def test_too_many_items_is_413(sogs: SogsClient) -> None:
    reply = sogs.batch(
        [{"method": "GET", "path": "/capabilities"}] * 600, user=BlindedUser.generate()
    )
    assert reply.code == 413


def test_a_failed_outer_auth_is_the_batch_answer(sogs: SogsClient) -> None:
    user = BlindedUser.generate()
    body = [{"method": "GET", "path": "/capabilities"}]
    headers = user.sogs_headers(sogs.server_pk, "POST", "/batch", orjson.dumps([]))
    reply = sogs.request("POST", "/batch", raw=orjson.dumps(body), headers=headers)
    assert reply.code == 401


def test_a_signed_poll_waits_for_a_busy_writers_lock_in_a_thread(server: Server, room: str) -> None:
    """A signed read or post runs on the event loop only while the writers' lock is free (the
    nonce, the post are writes); with the lock held elsewhere it waits in a store thread and
    still answers, and the event loop keeps answering others meanwhile."""
    import fcntl
    import threading
    import time

    user = BlindedUser.generate()
    warm = SogsClient(server.base_url, server.public_key)
    assert warm.get("/capabilities", user=user).code == 200
    url = server.running.database_url
    if url.startswith("postgres"):
        pytest.skip("SQLite's writers' lock")
    database = url.removeprefix("sqlite:///") if url else f"{server.running.data_dir}/opengroup.db"
    lock_file = Path(f"{database}.write-lock")
    assert lock_file.exists()
    replies: list[int] = []
    with open(lock_file, "rb+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # as another server process writing
        try:

            def poll() -> None:
                client = SogsClient(server.base_url, server.public_key)
                replies.append(client.batch(desktop_body("first_poll", room), user=user).code)
                client.close()

            def post() -> None:
                client = SogsClient(server.base_url, server.public_key)
                replies.append(sogs_post_code(client, room, user))
                client.close()

            poller = threading.Thread(target=poll)
            poster = threading.Thread(target=post)
            poller.start()
            poster.start()
            time.sleep(0.3)
            assert replies == []  # waiting for the lock
            started = time.monotonic()
            assert warm.get("/capabilities").code == 200  # the loop is not blocked
            assert time.monotonic() - started < 2
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
        poller.join(30)
        poster.join(30)
    warm.close()
    assert sorted(replies) == [200, 201]


def sogs_post_code(client: SogsClient, room: str, user: BlindedUser) -> int:
    data = os.urandom(50)
    body = {"data": b64(data), "signature": b64(user.sign_post(data, client.server_pk))}
    return client.post(f"/room/{room}/message", body, user=user).code
